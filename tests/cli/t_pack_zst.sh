# pack of a zstd-compressed feed: FEED.jsonl.zst and zstd on stdin give the
# archive of the plain feed (one frame or several, a skippable frame first,
# a pipe giving one byte at first); a damaged or truncated stream, or a bad
# line inside it, is refused naming the input; inside a tree a .jsonl.zst
# is a file like any other.
. "$NEWSARC_CLI_DIR/lib.sh"
mkdir tmp && export TMPDIR=$WORK/tmp # where pack's temporary input files go (none may be left)
cp "$FIX/jsonl/news.jsonl" news.jsonl
# a feed of about 400 KB, most of it random (its .zst is larger than one 128 KiB read)
head -c 300000 /dev/urandom | base64 -w 200 | awk '{ printf "{\"url\":\"https://example.org/%d\",\"text\":\"%s\"}\n", NR, $0 }' > big.jsonl
cat news.jsonl >> big.jsonl

for f in news big; do
    na pack -o "$f.nwa" "$f.jsonl"; expect 0 "pack $f.jsonl" || finish
    zstd -q -3 "$f.jsonl" -o "$f.jsonl.zst"
    na pack -o "$f-z.nwa" "$f.jsonl.zst"; expect 0 "pack $f.jsonl.zst"
    same "$f.nwa" "$f-z.nwa" "$f.jsonl.zst gives other bytes than $f.jsonl"
    nax pack -o "$f-s.nwa" - < "$f.jsonl.zst" > /dev/null; expect 0 "pack - < $f.jsonl.zst"
    same "$f.nwa" "$f-s.nwa" "zstd on stdin gives other bytes than $f.jsonl"
done
[ "$(fsize big.jsonl.zst)" -gt 131072 ] || fail "big.jsonl.zst is only $(fsize big.jsonl.zst) bytes: one read, the test says less"

# several frames, as zstd -T writes or cat of two .zst files gives
head -n 1000 big.jsonl > h1.jsonl; tail -n +1001 big.jsonl > h2.jsonl
zstd -q -c h1.jsonl > multi.jsonl.zst; zstd -q -c --long=31 h2.jsonl >> multi.jsonl.zst
na pack -o multi.nwa multi.jsonl.zst; expect 0 "pack a two-frame .jsonl.zst"
same big.nwa multi.nwa "two frames give other bytes than the plain feed"

# frames cut anywhere (mid-line too) at random sizes, some without checksums: the
# decoder's last block may be only partly out when the input ends
total=$(fsize big.jsonl)
RANDOM=4242 # the cuts repeat from run to run (the feed's bytes do not)
for round in 1 2 3 4 5 6; do
    : > cut.jsonl.zst
    at=0
    while [ "$at" -lt "$total" ]; do
        len=$(( (RANDOM * 32768 + RANDOM) % 300000 + 1 ))
        opts="-q -c -$(( RANDOM % 6 + 1 ))"
        [ $((RANDOM % 2)) = 0 ] && opts="$opts --no-check"
        tail -c +$((at + 1)) big.jsonl | head -c "$len" | zstd $opts >> cut.jsonl.zst
        at=$((at + len))
    done
    na pack -o cut$round.nwa cut.jsonl.zst; expect 0 "pack frames cut at random (round $round)"
    same big.nwa cut$round.nwa "frames cut at random (round $round) give other bytes"
done

# a skippable frame first (magic 0x184D2A50, 4 bytes of payload), on stdin; and a pipe that gives one byte first
{ printf '\x50\x2a\x4d\x18\x04\x00\x00\x00abcd'; cat news.jsonl.zst; } > skip.zst
nax pack -o skip.nwa - < skip.zst > /dev/null; expect 0 "pack - with a skippable frame first"
same news.nwa skip.nwa "a skippable frame first gives other bytes"
{ head -c 1 news.jsonl.zst; sleep 0.3; tail -c +2 news.jsonl.zst; } | nax pack -o slow.nwa - > /dev/null
expect 0 "pack - from a pipe giving one byte first"
same news.nwa slow.nwa "a slow pipe of zstd gives other bytes"

# damage: truncated, not zstd at all, a flipped byte (the frame's checksum), a bad line inside
head -c -7 big.jsonl.zst > trunc.jsonl.zst
cp news.jsonl plain.jsonl.zst
cp big.jsonl.zst flip.jsonl.zst
printf '\x00' | dd of=flip.jsonl.zst bs=1 seek=50000 conv=notrunc 2>/dev/null
{ head -n 3 news.jsonl; echo '{"text": broken'; } | zstd -q -c > badline.jsonl.zst
compressed_refused jsonl.zst trunc plain flip badline # (and an empty one: zstd -d refuses it too)
grep -q truncated err.all || fail "no message says the truncated stream is truncated"
grep -q "badline.jsonl.zst.*line 4" err.all || fail "the bad line inside the .jsonl.zst is not named by its number"
[ -z "$(ls tmp)" ] || fail "temporary files were left in \$TMPDIR: $(ls tmp | tr '\n' ' ')"
# inside a tree a .jsonl.zst is just a file: its compressed bytes, under its name
stored_in_tree news.jsonl.zst
finish
