# pack of a gzip-compressed feed, and feeds named .ndjson: FEED.jsonl.gz (and
# .ndjson, .ndjson.gz, .ndjson.zst) and gzip on stdin give the archive of the
# plain feed (one member or several, cut anywhere; a pipe giving one byte at
# first); a damaged or truncated stream, bytes after the last member, or a
# bad line inside is refused naming the input, with no archive and nothing
# left in $TMPDIR; inside a tree a .jsonl.gz is a file like any other.
. "$NEWSARC_CLI_DIR/lib.sh"
command -v gzip > /dev/null || skip "no gzip"
mkdir tmp && export TMPDIR=$WORK/tmp # where pack's temporary input files go (none may be left)
cp "$FIX/jsonl/news.jsonl" news.jsonl
# about 400 KB, most of it random: its .gz is larger than one 128 KiB read
head -c 300000 /dev/urandom | base64 -w 200 | awk '{ printf "{\"url\":\"https://example.org/%d\",\"text\":\"%s\"}\n", NR, $0 }' > big.jsonl
cat news.jsonl >> big.jsonl

for f in news big; do
    na pack -o "$f.nwa" "$f.jsonl"; expect 0 "pack $f.jsonl" || finish
    gzip -c "$f.jsonl" > "$f.jsonl.gz"
    na pack -o "$f-g.nwa" "$f.jsonl.gz"; expect 0 "pack $f.jsonl.gz"
    same "$f.nwa" "$f-g.nwa" "$f.jsonl.gz gives other bytes than $f.jsonl"
    nax pack -o "$f-s.nwa" - < "$f.jsonl.gz" > /dev/null; expect 0 "pack - < $f.jsonl.gz"
    same "$f.nwa" "$f-s.nwa" "gzip on stdin gives other bytes than $f.jsonl"
done
[ "$(fsize big.jsonl.gz)" -gt 131072 ] || fail "big.jsonl.gz is only $(fsize big.jsonl.gz) bytes: one read, the test says less"

# .ndjson is JSON Lines too, plain and compressed
cp big.jsonl big.ndjson && cp big.jsonl.gz big.ndjson.gz && zstd -q -c big.jsonl > big.ndjson.zst
for f in big.ndjson big.ndjson.gz big.ndjson.zst; do
    na pack -o "$f.nwa" "$f"; expect 0 "pack $f"
    same big.nwa "$f.nwa" "$f gives other bytes than big.jsonl"
done

# members cut anywhere (mid-line too) at random sizes and levels, as cat of .gz files gives
total=$(fsize big.jsonl)
RANDOM=4242
for round in 1 2 3 4; do
    : > cut.jsonl.gz
    at=0
    while [ "$at" -lt "$total" ]; do
        len=$(( (RANDOM * 32768 + RANDOM) % 200000 + 1 ))
        tail -c +$((at + 1)) big.jsonl | head -c "$len" | gzip -c -$(( RANDOM % 9 + 1 )) >> cut.jsonl.gz
        at=$((at + len))
    done
    na pack -o cut$round.nwa cut.jsonl.gz; expect 0 "pack members cut at random (round $round)"
    same big.nwa cut$round.nwa "members cut at random (round $round) give other bytes"
done
# an empty member between two others, and a pipe giving one byte first
{ head -n 3 news.jsonl | gzip -c; printf '' | gzip -c; tail -n +4 news.jsonl | gzip -c; } > three.jsonl.gz
na pack -o three.nwa three.jsonl.gz; expect 0 "pack three members, one empty"
same news.nwa three.nwa "three members give other bytes"
{ head -c 1 news.jsonl.gz; sleep 0.3; tail -c +2 news.jsonl.gz; } | nax pack -o slow.nwa - > /dev/null
expect 0 "pack - from a pipe giving one gzip byte first"
same news.nwa slow.nwa "a slow pipe of gzip gives other bytes"

# damage: truncated, not gzip, a flipped byte (in the deflate data: a bad code, distance or CRC-32), junk after the last member, a bad line inside
head -c -7 big.jsonl.gz > trunc.jsonl.gz
cp news.jsonl plain.jsonl.gz
cp big.jsonl.gz flip.jsonl.gz
flip_byte flip.jsonl.gz 50000
{ cat news.jsonl.gz; echo junk; } > junk.jsonl.gz
{ cat news.jsonl.gz; printf x; } > junk1.jsonl.gz # one byte after the member: not enough for a gzip magic
{ head -n 3 news.jsonl; echo '{"text": broken'; } | gzip -c > badline.jsonl.gz
compressed_refused jsonl.gz trunc plain flip junk junk1 badline
grep -q "trunc.jsonl.gz.*truncated" err.all || fail "no message says the truncated stream is truncated"
grep -q "junk.jsonl.gz.*not valid gzip at byte" err.all || fail "junk after the last member: no message says where"
grep -q "junk1.jsonl.gz.*not valid gzip at byte $(fsize news.jsonl.gz)" err.all || fail "one byte after the last member: $(grep junk1 err.all)"
grep -q "badline.jsonl.gz.*line 4" err.all || fail "the bad line inside the .jsonl.gz is not named by its number"
[ -z "$(ls tmp)" ] || fail "temporary files were left in \$TMPDIR: $(ls tmp | tr '\n' ' ')"
# inside a tree a .jsonl.gz is just a file: its compressed bytes, under its name
stored_in_tree news.jsonl.gz
finish
