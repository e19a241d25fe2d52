# The benchmark suite (tests/bench/run.sh, README "Benchmarks") runs from the
# build on small inputs of each kind it takes: a folder (with a symbolic
# link pack leaves out), a feed, a gzip-compressed feed (unpacked first), a
# feed named data.json (given a .jsonl name first), and a feed whose last
# line is cut short (measured again with --skip-invalid).
# Every newsarc number is there, each round trip says what it found, and
# every peer gets its row of ratios.  --runs 20 fetches every line of the
# cut feed (17 lines): the skipped one must not be among them.  (Timings
# are not checked: they are what the suite reports, not a test.)
. "$NEWSARC_CLI_DIR/lib.sh"
[ -x /usr/bin/time ] || skip "GNU time not installed (tools/setup-debian.sh installs it)"
command -v gzip > /dev/null || skip "no gzip"
bench=$NEWSARC_CLI_DIR/../bench/run.sh
cp -a "$FIX/tree" tree && ln -s nowhere tree/link
cp "$FIX/jsonl/news.jsonl" feed.jsonl
gzip -c feed.jsonl > zipped.jsonl.gz
cp feed.jsonl data.json
{ cat feed.jsonl; printf '{"url": "https://example.org/cut", "text": "cut sh'; } > cut.jsonl
bash "$bench" --quick --no-zim --runs 20 "$NEWSARC" tree feed.jsonl zipped.jsonl.gz data.json cut.jsonl > report.md 2> bench.err
rc=$?
[ $rc -eq 0 ] || fail "run.sh exit $rc: $(tail -n 5 bench.err | tr '\n' ' ')"
[ "$(grep -c '^### ' report.md)" -eq 5 ] || fail "not five tables: $(grep '^### ' report.md | tr '\n' ' ')"
[ "$(grep -c '^| newsarc (-l 3 -T 2) |' report.md)" -eq 5 ] || fail "not five newsarc rows"
grep '^| zstd -3 -T2' report.md | grep -q FAIL && fail "a zstd number is FAIL"
grep '^| newsarc' report.md | grep -q FAIL && fail "a newsarc number is FAIL: $(grep '^| newsarc' report.md | grep FAIL | head -n 2 | tr '\n' ' ')"
grep -q DIFFERS report.md && fail "a round trip DIFFERS"
grep -q "round trip: the same regular files (names and b2sum); the input's 1 symbolic links" report.md ||
    fail "the folder's round trip: $(grep 'round trip' report.md | head -n 1)"
[ "$(grep -Ec 'round trip: same (lines|objects)' report.md)" -eq 3 ] || fail "the feed, its .gz and data.json do not all give the same lines (or objects)"
grep -q "^### data.json (JSONL feed, measured as JSON Lines)" report.md || fail "data.json was not measured as JSON Lines"
grep -q "measured with --skip-invalid: 1 malformed lines skipped" report.md || fail "the cut feed was not measured with --skip-invalid"
grep -q "from zipped.jsonl.gz unpacked first" report.md || fail "the .jsonl.gz was not unpacked first"
for p in tar jsonl perfile; do
    grep -q "^| $p | [0-9]" report.md || fail "no ratio row for the $p peer"
done
grep -q "verify runs at [0-9]" report.md || fail "no verify/floor ratio"
finish
