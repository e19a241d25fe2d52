# Sourced by every tests/cli/t_*.sh.  The runner sets NEWSARC (binary),
# NEWSARC_SHARED (shared dir or empty), NEWSARC_FIXTURES, WORK (this test's
# temp dir, also the cwd).  A test calls fail/check helpers, then finish.
set -u
: "${NEWSARC:?}" "${WORK:?}" "${NEWSARC_FIXTURES:?}"
FIX=$NEWSARC_FIXTURES
SHARED=${NEWSARC_SHARED:-}
TMO=${NEWSARC_TEST_TIMEOUT:-300}
export LC_ALL=C.UTF-8 TZ=UTC
# Sanitizer builds: make their reports distinguishable from exit 1.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=99:print_stacktrace=1"
nfail=0
rc=0

fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
info() { echo "  $*"; }
skip() { echo "SKIP: $*"; exit 77; }
finish() { if [ $nfail -eq 0 ]; then exit 0; fi; exit 1; }
errtext() { head -c 400 "$WORK/err" | tr '\n' ' '; }

# nax ARGS...: run newsarc with the caller's stdin/stdout; stderr goes to
# $WORK/err (and is kept in $WORK/err.all); sets rc; a crash, sanitizer report
# or timeout is a failure by itself.
nax() {
    timeout "$TMO" "$NEWSARC" "$@" 2>"$WORK/err"
    rc=$?
    { echo "\$ newsarc $* -> $rc"; cat "$WORK/err"; } >>"$WORK/err.all"
    if [ $rc -eq 124 ]; then
        fail "newsarc $*: timed out after ${TMO}s"
    elif [ $rc -ge 128 ]; then
        fail "newsarc $*: crashed (exit $rc, signal $((rc - 128))) $(errtext)"
    elif [ $rc -eq 99 ] || grep -q -e 'Sanitizer' -e 'runtime error:' "$WORK/err"; then
        fail "newsarc $*: sanitizer report (exit $rc) $(errtext)"
    fi
    return 0
}
# na ARGS...: same, stdout to $WORK/out.
na() { nax "$@" >"$WORK/out"; }

# expect WANT WHAT: check the last rc.
expect() {
    if [ "$rc" != "$1" ]; then fail "$2: exit $rc, expected $1; stderr: $(errtext)"; return 1; fi
    return 0
}
# expect_err WHAT: the last run failed with a message on stderr starting "newsarc".
expect_msg() {
    if ! grep -q '^newsarc' "$WORK/err"; then fail "$1: no 'newsarc...' message on stderr (got: $(errtext))"; return 1; fi
    return 0
}
# compressed_feeds EXT COMPRESS: news.jsonl (the fixture) and big.jsonl (about
# 400 KB, most of it random, so that its compressed form takes several 128
# KiB reads) packed plain as news.nwa and big.nwa, then compressed by the
# function COMPRESS (stdin to stdout) into NAME.jsonl.EXT, which pack must
# turn into the same archives, from the file and from stdin.  Also sets
# TMPDIR to an empty folder of its own (pack's temporary input files go there).
compressed_feeds() {
    local ext=$1 comp=$2 f
    mkdir tmp && export TMPDIR=$WORK/tmp
    cp "$FIX/jsonl/news.jsonl" news.jsonl
    head -c 300000 /dev/urandom | base64 -w 200 | awk '{ printf "{\"url\":\"https://example.org/%d\",\"text\":\"%s\"}\n", NR, $0 }' > big.jsonl
    cat news.jsonl >> big.jsonl
    for f in news big; do
        na pack -o "$f.nwa" "$f.jsonl"; expect 0 "pack $f.jsonl" || finish
        $comp < "$f.jsonl" > "$f.jsonl.$ext"
        na pack -o "$f-c.nwa" "$f.jsonl.$ext"; expect 0 "pack $f.jsonl.$ext"
        same "$f.nwa" "$f-c.nwa" "$f.jsonl.$ext gives other bytes than $f.jsonl"
        nax pack -o "$f-s.nwa" - < "$f.jsonl.$ext" > /dev/null; expect 0 "pack - < $f.jsonl.$ext"
        same "$f.nwa" "$f-s.nwa" "$f.jsonl.$ext on stdin gives other bytes than $f.jsonl"
    done
    [ "$(fsize "big.jsonl.$ext")" -gt 131072 ] || fail "big.jsonl.$ext is only $(fsize "big.jsonl.$ext") bytes: one read, the test says less"
}
# compressed_refused EXT COMPRESS [NAME...]: damaged compressed feeds made
# from compressed_feeds' files (trunc: cut 7 bytes short; plain: not
# compressed at all; flip: a bit flipped at byte 50000; badline: a bad JSON
# line inside, compressed by COMPRESS), and NAME.EXT made by the caller: the
# pack of each exits 1 with a message naming it, writes no archive and
# leaves the input as it was; then an empty .EXT is refused as empty.
compressed_refused() {
    local ext=$1 comp=$2 f
    shift 2
    head -c -7 "big.$ext" > "trunc.$ext"
    cp news.jsonl "plain.$ext"
    cp "big.$ext" "flip.$ext" && flip_byte "flip.$ext" 50000
    { head -n 3 news.jsonl; echo '{"text": broken'; } | $comp > "badline.$ext"
    for f in trunc plain flip badline "$@"; do
        cp "$f.$ext" "$f.orig"
        na pack -o "$f.nwa" "$f.$ext"
        expect 1 "pack of $f.$ext" && expect_msg "$f.$ext"
        grep -q "$f.$ext" err || fail "$f.$ext: the message does not name the input: $(errtext)"
        [ -e "$f.nwa" ] && fail "$f.$ext: an archive was written anyway"
        same "$f.orig" "$f.$ext" "$f.$ext was changed"
    done
    : > "empty.$ext"
    na pack -o empty.nwa "empty.$ext"
    expect 1 "pack of an empty .$ext" && grep -q "empty.$ext' is empty" err || fail "empty .$ext: $(errtext)"
    [ -e empty.nwa ] && fail "empty .$ext: an archive was written anyway"
}
# cut_rounds EXT ROUNDS MAX COMPRESS: ROUNDS times, big.jsonl cut into pieces
# of 1..MAX bytes (mid-line too), each piece compressed by the function
# COMPRESS LEVEL FLAG (stdin to stdout; LEVEL 1..9 and FLAG 0/1 drawn here)
# and put back to back as cut.EXT, whose pack must equal big.nwa.  The cuts
# repeat from run to run (the feed's bytes do not).
cut_rounds() {
    local ext=$1 rounds=$2 max=$3 comp=$4 total at len round lvl flag
    total=$(fsize big.jsonl)
    RANDOM=4242
    for round in $(seq 1 "$rounds"); do
        : > "cut.$ext"
        at=0
        while [ "$at" -lt "$total" ]; do
            len=$(( (RANDOM * 32768 + RANDOM) % max + 1 )) lvl=$(( RANDOM % 9 + 1 )) flag=$(( RANDOM % 2 ))
            tail -c +$((at + 1)) big.jsonl | head -c "$len" | $comp "$lvl" "$flag" >> "cut.$ext"
            at=$((at + len))
        done
        na pack -o "cut$round.nwa" "cut.$ext"; expect 0 "pack pieces cut at random (round $round)"
        same big.nwa "cut$round.nwa" "pieces cut at random (round $round) give other bytes"
    done
}
# slow_pipe FILE: pack - from a pipe that gives FILE's first byte, then the rest (must equal news.nwa)
slow_pipe() {
    { head -c 1 "$1"; sleep 0.3; tail -c +2 "$1"; } | nax pack -o slow.nwa - > /dev/null
    expect 0 "pack - from a pipe giving one byte of $1 first"
    same news.nwa slow.nwa "a slow pipe of $1 gives other bytes"
}
# stored_in_tree FILE: inside a tree a compressed feed is just a file, its bytes under its name
stored_in_tree() {
    mkdir tree && cp "$1" tree/
    na pack -o tree.nwa tree; expect 0 "pack a tree holding $1"
    na list --json tree.nwa
    [ "$(jq -r .name out)" = "$1" ] || fail "tree: entries are $(jq -r .name out | tr '\n' ' ')"
    na cat tree.nwa "$1"; expect 0 "cat $1 from the tree"
    same out "$1" "$1 in a tree was not stored as it is"
}
hashof() { b2sum -l 256 < "$1" | cut -d" " -f1; }
fsize() { stat -c %s "$1"; }
same() { # same FILE1 FILE2 WHAT
    if ! cmp -s "$1" "$2"; then fail "$3: '$1' and '$2' differ ($(cmp "$1" "$2" 2>&1 | head -n1))"; return 1; fi
    return 0
}
# u32/u64 little-endian at byte offset.
u32() { od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' \n'; }
u64() { od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' \n'; }
str4() { dd if="$1" bs=1 skip="$2" count=4 2>/dev/null; }
# flip_byte FILE OFFSET: xor the byte with 0x01 in place.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(((b ^ 1) & 255)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}
# toc FILE: print "TYPE OFFSET LENGTH" for each section in the footer TOC
# (parsed with od only, as in the "recovery with the zstd CLI" recipe).
toc() {
    local f=$1 size flen foff n i e
    size=$(fsize "$f")
    [ "$size" -ge 8 ] || return 1
    [ "$(str4 "$f" $((size - 4)))" = NWSA ] || return 1
    flen=$(u32 "$f" $((size - 8)))
    foff=$((size - flen))
    [ "$foff" -ge 0 ] || return 1
    [ "$(str4 "$f" $((foff + 8)))" = FOOT ] || return 1
    n=$(u32 "$f" $((foff + 16)))
    for ((i = 0; i < n; i++)); do
        e=$((foff + 20 + 24 * i))
        echo "$(str4 "$f" $e) $(u64 "$f" $((e + 8))) $(u64 "$f" $((e + 16)))"
    done
}
# hex2bin HEX > FILE
hex2bin() { printf "$(echo "$1" | sed 's/../\\x&/g')"; }
# tree_files DIR: relative paths of the regular files, sorted bytewise.
tree_files() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }
# same_tree A B WHAT: identical file sets and bytes, and no non-regular files in B.
same_tree() {
    local d
    if ! d=$(LC_ALL=C diff -r "$1" "$2" 2>&1); then fail "$3: trees differ: $(echo "$d" | head -n 5 | tr '\n' ' ')"; return 1; fi
    if [ -n "$(find "$2" ! -type f ! -type d | head -n1)" ]; then fail "$3: non-regular files in '$2'"; return 1; fi
    return 0
}
# canon_multiset FILE: the JSON values of FILE, keys sorted, as sorted lines.
canon_multiset() { jq -cS . "$1" | LC_ALL=C sort; }
# ordered_multiset FILE: same but keeping member order.
ordered_multiset() { jq -c . "$1" | LC_ALL=C sort; }
# gen_articles DIR N SEED: N small news-like files (Arabic/English mix) in
# category subfolders; deterministic for a given awk.
gen_articles() {
    awk -v dir="$1" -v n="$2" -v seed="$3" 'BEGIN {
        srand(seed)
        nw = split("council minister budget rain election market police school hospital court " \
            "البلدية الوزير الميزانية الأمطار الانتخابات السوق الشرطة المدرسة المستشفى المحكمة " \
            "the of and in to a on for with said after during week year city region report", w, " ")
        nc = split("sport economy politics culture local", cat, " ")
        for (c = 1; c <= nc; c++) system("mkdir -p \"" dir "/" cat[c] "\"")
        for (i = 1; i <= n; i++) {
            f = sprintf("%s/%s/%05d.txt", dir, cat[(i % nc) + 1], i)
            printf "<DOC>\n<DOCNO>%d</DOCNO>\n<URL>https://news.example/%s/%d</URL>\n<TEXT>\n", i, cat[(i % nc) + 1], i > f
            len = 40 + int(rand() * 150)
            for (k = 0; k < len; k++) printf "%s%s", w[1 + int(rand() * nw)], (k % 17 == 16 ? ".\n" : " ") > f
            printf "\n</TEXT>\n</DOC>\n" > f
            close(f)
        }
    }'
}
# corpus_roundtrip DIR: pack, verify, list count, extract, diff -r.
# Skips (exit 77) without the shared dir.
corpus_roundtrip() {
    local src=$1 n
    [ -n "$SHARED" ] || skip "no shared dir given"
    [ -d "$src" ] || skip "'$src' not present"
    local t0=$SECONDS
    na pack -o c.nwa "$src"
    expect 0 "pack '$src'" || return
    local tp=$((SECONDS - t0))
    na info --json c.nwa
    info "$(jq -c '{articles, entries, blocks, content_size, file_size, ratio, dict_size}' out); pack ${tp}s"
    na verify c.nwa
    expect 0 "verify '$src'"
    na list --json c.nwa
    n=$(find "$src" -type f | wc -l)
    [ "$(wc -l < out)" = "$n" ] || fail "list: $(wc -l < out) entries, '$src' has $n files"
    na extract -C x c.nwa
    expect 0 "extract" && same_tree "$src" x "round trip of '$src'"
    info "total ${SECONDS}s"
}
