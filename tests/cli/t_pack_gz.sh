# pack of a gzip-compressed feed, and feeds named .ndjson: FEED.jsonl.gz (and
# .ndjson, .ndjson.gz, .ndjson.zst) and gzip on stdin give the archive of the
# plain feed (one member or several, cut anywhere; a pipe giving one byte at
# first); a damaged or truncated stream, bytes after the last member, or a
# bad line inside is refused naming the input, with no archive and nothing
# left in $TMPDIR; inside a tree a .jsonl.gz is a file like any other.
. "$NEWSARC_CLI_DIR/lib.sh"
command -v gzip > /dev/null || skip "no gzip"
gzip_whole() { gzip -c; }
compressed_feeds gz gzip_whole

# .ndjson is JSON Lines too, plain and compressed
cp big.jsonl big.ndjson && cp big.jsonl.gz big.ndjson.gz && zstd -q -c big.jsonl > big.ndjson.zst
for f in big.ndjson big.ndjson.gz big.ndjson.zst; do
    na pack -o "$f.nwa" "$f"; expect 0 "pack $f"
    same big.nwa "$f.nwa" "$f gives other bytes than big.jsonl"
done

# members cut anywhere (mid-line too) at random sizes and levels, as cat of .gz files gives
gz_piece() { gzip -c -"$1"; }
cut_rounds jsonl.gz 4 200000 gz_piece
# an empty member between two others, and a pipe giving one byte first
{ head -n 3 news.jsonl | gzip -c; printf '' | gzip -c; tail -n +4 news.jsonl | gzip -c; } > three.jsonl.gz
na pack -o three.nwa three.jsonl.gz; expect 0 "pack three members, one empty"
same news.nwa three.nwa "three members give other bytes"
slow_pipe news.jsonl.gz

# damage (compressed_refused): truncated, not gzip, a flipped bit (in the deflate data: a bad
# code, distance or CRC-32), a bad line inside; and junk after the last member
{ cat news.jsonl.gz; echo junk; } > junk.jsonl.gz
{ cat news.jsonl.gz; printf x; } > junk1.jsonl.gz # one byte after the member: not enough for a gzip magic
compressed_refused jsonl.gz gzip_whole junk junk1
grep -q "trunc.jsonl.gz.*truncated" err.all || fail "no message says the truncated stream is truncated"
grep -q "junk.jsonl.gz.*not valid gzip at byte" err.all || fail "junk after the last member: no message says where"
grep -q "junk1.jsonl.gz.*not valid gzip at byte $(fsize news.jsonl.gz)" err.all || fail "one byte after the last member: $(grep junk1 err.all)"
grep -q "badline.jsonl.gz.*line 4" err.all || fail "the bad line inside the .jsonl.gz is not named by its number"
[ -z "$(ls tmp)" ] || fail "temporary files were left in \$TMPDIR: $(ls tmp | tr '\n' ' ')"
# inside a tree a .jsonl.gz is just a file: its compressed bytes, under its name
stored_in_tree news.jsonl.gz
finish
