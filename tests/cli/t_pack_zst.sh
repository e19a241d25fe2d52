# pack of a zstd-compressed feed: FEED.jsonl.zst and zstd on stdin give the
# archive of the plain feed (one frame or several, a skippable frame first,
# a pipe giving one byte at first); a damaged or truncated stream, or a bad
# line inside it, is refused naming the input; inside a tree a .jsonl.zst
# is a file like any other.
. "$NEWSARC_CLI_DIR/lib.sh"
zstd_whole() { zstd -q -3 -c; }
compressed_feeds zst zstd_whole

# several frames, as zstd -T writes or cat of two .zst files gives
head -n 1000 big.jsonl > h1.jsonl; tail -n +1001 big.jsonl > h2.jsonl
zstd -q -c h1.jsonl > multi.jsonl.zst; zstd -q -c --long=31 h2.jsonl >> multi.jsonl.zst
na pack -o multi.nwa multi.jsonl.zst; expect 0 "pack a two-frame .jsonl.zst"
same big.nwa multi.nwa "two frames give other bytes than the plain feed"

# frames cut anywhere (mid-line too) at random sizes, some without checksums: the
# decoder's last block may be only partly out when the input ends
zst_piece() { if [ "$2" = 0 ]; then zstd -q -c -$(( $1 % 6 + 1 )) --no-check; else zstd -q -c -$(( $1 % 6 + 1 )); fi; }
cut_rounds jsonl.zst 6 300000 zst_piece

# a skippable frame first (magic 0x184D2A50, 4 bytes of payload), on stdin; and a pipe that gives one byte first
{ printf '\x50\x2a\x4d\x18\x04\x00\x00\x00abcd'; cat news.jsonl.zst; } > skip.zst
nax pack -o skip.nwa - < skip.zst > /dev/null; expect 0 "pack - with a skippable frame first"
same news.nwa skip.nwa "a skippable frame first gives other bytes"
slow_pipe news.jsonl.zst

# damage: truncated, not zstd at all, a flipped bit (the frame's checksum), a bad line inside
compressed_refused jsonl.zst zstd_whole # (and an empty one: zstd -d refuses it too)
grep -q truncated err.all || fail "no message says the truncated stream is truncated"
grep -q "badline.jsonl.zst.*line 4" err.all || fail "the bad line inside the .jsonl.zst is not named by its number"
[ -z "$(ls tmp)" ] || fail "temporary files were left in \$TMPDIR: $(ls tmp | tr '\n' ' ')"
# inside a tree a .jsonl.zst is just a file: its compressed bytes, under its name
stored_in_tree news.jsonl.zst
finish
