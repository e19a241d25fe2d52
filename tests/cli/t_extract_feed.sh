# extract --jsonl of a feed (no entry has a name) reads its entries in
# canonical order, one META frame per job, and writes the jobs in order from
# whichever thread built them: the lines follow the entries (list --json's
# order, which is where the articles are stored), are the same for any thread
# count, and on a damaged archive stop at the same line with the same message.
# list and list --json write their jobs the same way.
. "$NEWSARC_CLI_DIR/lib.sh"
# 5000 objects with about 350 bytes of metadata each: several 256 KiB META frames
awk 'BEGIN {
    srand(7)
    nw = split("council minister budget rain election market police school hospital court " \
        "البلدية الوزير الميزانية الأمطار الانتخابات السوق الشرطة المدرسة المستشفى المحكمة", w, " ")
    for (i = 1; i <= 5000; i++) {
        t = ""; sum = ""
        len = 40 + int(rand() * 80)
        for (k = 0; k < len; k++) { t = t w[1 + int(rand() * nw)] " "; if (k == 30) sum = t }
        printf "{\"url\":\"https://feed.example/%d/%05d\",\"title\":\"%s %d\",\"summary\":\"%s\",\"text\":\"%s\\n%d\"}\n",
            i % 13, i, w[1 + i % nw], i, sum, t, i
    }
}' > feed.jsonl
na pack --block-size 4096 -o feed.nwa feed.jsonl
expect 0 "pack the feed" || finish
na extract --jsonl feed.nwa
expect 0 "extract --jsonl" || finish
cp out all.jsonl
[ "$(wc -l < all.jsonl)" = 5000 ] || fail "extract --jsonl: $(wc -l < all.jsonl) lines for 5000 objects"
canon_multiset feed.jsonl > want.c; canon_multiset all.jsonl > got.c
same want.c got.c "extract --jsonl: not the packed objects"
# the entries' order: list --json lists them in canonical order
na list --json feed.nwa
jq -r .meta.url out > list.urls
jq -r .url all.jsonl > got.urls
same list.urls got.urls "extract --jsonl: lines not in the entries' order"
for t in 1 2 3 16; do
    na extract --jsonl -T $t feed.nwa
    expect 0 "extract --jsonl -T $t" && same out all.jsonl "extract --jsonl -T $t differs from the default"
done

# output that cannot be written: exit 2 and a message, from the thread that writes
if [ -w /dev/full ]; then
    for c in "extract --jsonl" "extract --jsonl -T 1" "list --json" "list"; do
        nax $c feed.nwa > /dev/full
        expect 2 "$c > /dev/full" && expect_msg "$c > /dev/full"
        grep -q "stdout" err || fail "$c > /dev/full: the message does not say stdout: $(errtext)"
    done
fi

# damaged: a block in the middle, META in the middle (a later frame), the
# index, and each near its end; the same lines (the intact ones before the damage) and message at 1
# and 3 threads, exit 1
toc feed.nwa > toc.txt || { fail "cannot read the footer TOC with od"; finish; }
for sec in BLKS META INDX; do
    read -r _ off len < <(grep "^$sec " toc.txt)
    # (the last 200 bytes of INDX are inside its last location chunk: decoded
    # up front on several threads, or at its first use on one)
    for pos in $((off + len / 2)) $((off + len * 3 / 4)) $((off + len - 200)); do
        cp feed.nwa d.nwa; flip_byte d.nwa $pos
        na extract --jsonl -T 1 d.nwa
        rc1=$rc; cp out d1.out; cp err d1.err
        [ "$rc1" = 1 ] || fail "extract --jsonl, $sec byte $pos flipped: exit $rc1, expected 1"
        expect_msg "extract --jsonl, $sec byte $pos flipped"
        head -n "$(wc -l < d1.out)" all.jsonl > want.head
        same d1.out want.head "extract --jsonl, $sec byte $pos flipped: not the intact lines before the damage"
        for t in 2 3; do
            na extract --jsonl -T $t d.nwa
            [ "$rc" = "$rc1" ] || fail "extract --jsonl -T $t, $sec byte $pos flipped: exit $rc, $rc1 with 1 thread"
            same out d1.out "extract --jsonl -T $t, $sec byte $pos flipped: output differs from 1 thread"
            same err d1.err "extract --jsonl -T $t, $sec byte $pos flipped: message differs from 1 thread"
        done
    done
done
# the second of the feed's two location chunks not a zstd frame (its magic
# flipped): decoded up front on several threads, at first use on one: the
# same lines and the message naming chunk 1
read -r _ xoff _ < <(grep '^INDX ' toc.txt)
xnb=$(u32 feed.nwa $((xoff + 12))); xna=$(u32 feed.nwa $((xoff + 16))); xnc=$(((xna + 4095) / 4096))
[ "$xnc" -ge 2 ] || fail "the feed has $xnc location chunks, the test needs 2"
xdir=$((xoff + 24 + 48 * xnb + 32 * xna))
cp feed.nwa lc.nwa; flip_byte lc.nwa $((xdir + 4 * xnc + $(u32 feed.nwa "$xdir")))
for c in "extract --jsonl" "list --json" "list"; do
    na $c -T 1 lc.nwa
    rc1=$rc; cp out lc1.out; cp err lc1.err
    [ "$rc1" = 1 ] || fail "$c, location chunk 1 damaged: exit $rc1, expected 1"
    grep -q "location chunk 1" err || fail "$c, location chunk 1 damaged: message $(errtext)"
    na $c -T 3 lc.nwa
    [ "$rc" = "$rc1" ] || fail "$c -T 3, location chunk 1 damaged: exit $rc, $rc1 with 1 thread"
    same out lc1.out "$c -T 3, location chunk 1 damaged: output differs from 1 thread"
    same err lc1.err "$c -T 3, location chunk 1 damaged: message differs from 1 thread"
done
# a feed of long articles with short metadata: one META frame holds all 600
# of them, and extract --jsonl cuts the frame into jobs of about 4 MiB of
# articles (before, a job was the frame: 60 MB of lines held at once).
# Peak memory is read while the output pipe is full: by then every job the
# threads may build ahead is built.  The same lines at 1, 2 and 3 threads.
awk 'BEGIN {
    srand(11)
    for (i = 0; i < 400; i++) { w = ""; n = 3 + int(rand() * 6); for (k = 0; k < n; k++) w = w sprintf("%c", 97 + int(rand() * 26)); v[i] = w }
    for (i = 0; i < 300; i++) { t = ""; for (k = 0; k < 16; k++) t = t v[int(rand() * 400)] " "; s[i] = t } # 16 words
    for (i = 1; i <= 600; i++) {
        printf "{\"url\":\"https://long.example/%d\",\"text\":\"", i
        for (k = 0; k < 1000; k++) printf "%s", s[int(rand() * 300)]
        printf "%d\"}\n", i
    }
}' > long.jsonl
na pack -o long.nwa long.jsonl
expect 0 "pack the long feed" || finish
na extract --jsonl -T 1 long.nwa
expect 0 "extract --jsonl -T 1 of the long feed" && cp out long1.out
[ "$(wc -l < long1.out)" = 600 ] || fail "extract --jsonl of the long feed: $(wc -l < long1.out) lines for 600"
for t in 2 3; do
    na extract --jsonl -T $t long.nwa
    expect 0 "extract --jsonl -T $t of the long feed" && same out long1.out "extract --jsonl -T $t of the long feed differs from -T 1"
done
hwm() { # hwm ARCHIVE: VmHWM (kB) of extract --jsonl -T 2 once its output pipe is full
    local pid h
    rm -f pipe; mkfifo pipe
    "$NEWSARC" extract --jsonl -T 2 "$1" > pipe 2>/dev/null & pid=$!
    exec 3< pipe
    head -c 1 <&3 > /dev/null
    sleep 1.5
    h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    cat <&3 > /dev/null; exec 3<&-; wait $pid
    echo "${h:-0}"
}
# (not under AddressSanitizer: its quarantine keeps freed buffers resident)
if [ -r /proc/self/status ] && ! grep -qa __asan_init "$NEWSARC"; then
    small=$(hwm feed.nwa); big=$(hwm long.nwa)
    info "extract --jsonl peak memory: $small kB (short articles), $big kB (600 x 100 KB in one frame)"
    [ "$small" -gt 0 ] && [ "$big" -gt 0 ] || fail "could not read VmHWM of extract"
    [ $((big - small)) -lt 40000 ] || fail "extract --jsonl of a frame of long articles held $((big - small)) kB more than of short ones (jobs not cut?)"
fi
# names, metadata, text information and locations are not covered by the
# article ids: their frames carry zstd content checksums, so any byte of META,
# attr or the location chunks flipped makes list --json (which reads them all)
# fail instead of printing other values (this failed at some positions when
# the frames had no checksum)
for sec in META attr INDX; do
    read -r _ off len < <(grep "^$sec " toc.txt)
    [ -n "$off" ] || { fail "no $sec section in the feed's TOC"; continue; }
    from=$off
    [ "$sec" = INDX ] && from=$((xdir + 4 * xnc)) # the location chunks: INDX's end
    span=$((off + len - from)); missed=""
    for k in $(seq 0 39); do
        pos=$((from + 12 + (span - 12) * k / 40))
        cp feed.nwa ck.nwa; flip_byte ck.nwa $pos
        na list --json -T 3 ck.nwa
        [ "$rc" = 1 ] || missed="$missed $pos(exit $rc)"
        [ "$sec" = attr ] || continue
        # the same verdict, lines and message with one thread as with several
        rc3=$rc; cp out ck3.out; cp err ck3.err
        na list --json -T 1 ck.nwa
        [ "$rc" = "$rc3" ] || fail "list --json, attr byte $pos flipped: exit $rc with 1 thread, $rc3 with 3"
        same out ck3.out "list --json, attr byte $pos flipped: output with 1 thread differs from 3"
        same err ck3.err "list --json, attr byte $pos flipped: message with 1 thread differs from 3"
    done
    [ -z "$missed" ] || fail "list --json, $sec byte flipped and not caught at:$missed"
done
finish
