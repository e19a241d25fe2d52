# farsnews.jsonl (1,500 Persian articles, no text member: all stored whole):
# extract --jsonl gives back the input objects, and the exact lines.
. "$NEWSARC_CLI_DIR/lib.sh"
src=$SHARED/corpus/other-languages/farsnews-fa/farsnews.jsonl
[ -n "$SHARED" ] || skip "no shared dir given"
[ -f "$src" ] || skip "'$src' not present"
na pack -o f.nwa "$src"
expect 0 "pack farsnews.jsonl" || finish
na info --json f.nwa
info "$(jq -c '{articles, entries, blocks, content_size, file_size, ratio, dict_size}' out)"
na verify f.nwa
expect 0 "verify"
na extract --jsonl f.nwa
expect 0 "extract --jsonl" || finish
canon_multiset "$src" > want; canon_multiset out > got
cmp -s want got || fail "extract --jsonl: objects differ from the input ($(diff want got | grep -c '^[<>]') differing lines)"
grep -v '^$' "$src" | LC_ALL=C sort > want.lines; LC_ALL=C sort out > got.lines
cmp -s want.lines got.lines || fail "extract --jsonl: not the exact input lines (objects without a text member are stored whole)"
# stdin gives the same archive
nax pack -o s.nwa - < "$src"
expect 0 "pack - < farsnews.jsonl" && same f.nwa s.nwa "stdin vs file (farsnews)"
# the same lines in another order give the same archive
mkdir shuf && awk 1 "$src" | tac > shuf/farsnews.jsonl
na pack -o r.nwa shuf/farsnews.jsonl
expect 0 "pack reversed farsnews" && same f.nwa r.nwa "farsnews lines reversed"
# --text-field abstract: the other members (lists included) become metadata;
# the objects must come back with the same members in the same order
na pack --text-field abstract -o a.nwa "$src"
expect 0 "pack --text-field abstract"
na extract --jsonl a.nwa
expect 0 "extract --jsonl (text-field abstract)"
ordered_multiset "$src" > want.o; ordered_multiset out > got.o
cmp -s want.o got.o || fail "--text-field abstract: objects differ or member order changed ($(diff want.o got.o | grep -c '^[<>]') lines)"
# the same articles as news-please style objects (maintext in the middle)
jq -c '{title, url: .link, maintext: (.paragraphs | join("\n")), date_publish: null, authors: [], tags, extra: {cat, subcat}}' "$src" > np.jsonl
na pack -o np.nwa np.jsonl
expect 0 "pack news-please style farsnews"
na extract --jsonl np.nwa
expect 0 "extract --jsonl (news-please style)"
ordered_multiset np.jsonl > want.o; ordered_multiset out > got.o
cmp -s want.o got.o || fail "news-please style farsnews: objects differ ($(diff want.o got.o | grep -c '^[<>]') lines)"
na list --json np.nwa
[ "$(jq -r .text_field out | sort -u)" = maintext ] || fail "news-please style: text_field not maintext for all"
finish
