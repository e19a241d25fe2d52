# JSON numbers outside the double/int64 comfort zone are valid JSON: they must
# pack and come back as the same values (compared through jq).
. "$NEWSARC_CLI_DIR/lib.sh"
cp "$FIX/jsonl/numbers.jsonl" n.jsonl
na pack -o n.nwa n.jsonl
expect 0 "pack numbers.jsonl (integer beyond 64 bits, 1E+2, 0.1, int64 max)" || finish
na extract --jsonl n.nwa
expect 0 "extract --jsonl"
canon_multiset n.jsonl > w; canon_multiset out > g
cmp -s w g || fail "numbers changed: want $(cat w) got $(cat g)"
# exact member text for the integer that fits int64
grep -q '"i64":9223372036854775807' out || fail "int64 max not kept exactly: $(cat out)"
finish
