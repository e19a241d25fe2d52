# JSONL: pack, extract --jsonl gives back the same objects, whole objects
# byte-exact, list --json fields, cat of text members, stdin = file.
. "$NEWSARC_CLI_DIR/lib.sh"
J=$FIX/jsonl
cp "$J/news.jsonl" news.jsonl
nobj=$(jq -c . news.jsonl | wc -l)

na pack -o a.nwa news.jsonl
expect 0 "pack news.jsonl" || finish
na verify a.nwa
expect 0 "verify"

# ---- extract --jsonl = input objects (multiset), member order kept
na extract --jsonl a.nwa
expect 0 "extract --jsonl" || finish
cp out back.jsonl
jq -e . back.jsonl >/dev/null 2>&1 || fail "extract --jsonl: output is not valid JSON Lines"
[ "$(wc -l < back.jsonl)" -eq "$nobj" ] || fail "extract --jsonl: $(wc -l < back.jsonl) lines, expected $nobj"
canon_multiset news.jsonl > want.c; canon_multiset back.jsonl > got.c
cmp -s want.c got.c || fail "extract --jsonl: objects differ from the input: $(diff want.c got.c | head -n 6 | tr '\n' ' ')"
ordered_multiset news.jsonl > want.o; ordered_multiset back.jsonl > got.o
cmp -s want.c got.c && ! cmp -s want.o got.o && fail "extract --jsonl: same values but member order changed: $(diff want.o got.o | head -n 4 | tr '\n' ' ')"

# ---- objects without a text member come back as the exact line
for n in 5 16 12 15; do
    line=$(sed -n "${n}p" news.jsonl)
    want=$(grep -cFx -- "$line" news.jsonl)
    got=$(grep -cFx -- "$line" back.jsonl)
    [ "$got" = "$want" ] || fail "extract --jsonl: whole object of input line $n found $got times as the exact line, expected $want: $line"
done

# ---- list --json
na list --json a.nwa
expect 0 "list --json" || finish
cp out list.json
[ "$(wc -l < list.json)" -eq "$nobj" ] || fail "list --json: $(wc -l < list.json) entries, expected $nobj"
[ -z "$(jq -c 'select(has("name"))' list.json)" ] || fail "list --json: JSONL entries have a name"
# entry for input line N: the one whose article hashes like the expected text
check_entry() { # LINE_NO TEXT_FIELD_OR_EMPTY
    local n=$1 tf=$2 line id e meta_want
    line=$(sed -n "${n}p" news.jsonl)
    if [ -n "$tf" ]; then
        printf '%s' "$line" | jq -j --arg k "$tf" '.[$k]' > art.want
        meta_want=$(printf '%s' "$line" | jq -c --arg k "$tf" 'del(.[$k])')
    else
        printf '%s' "$line" > art.want
    fi
    id=$(hashof art.want)
    e=$(jq -c --arg id "$id" 'select(.id == $id)' list.json | head -n1)
    [ -n "$e" ] || { fail "list --json: no entry with id $id for input line $n"; return; }
    [ "$(printf '%s' "$e" | jq .size)" = "$(fsize art.want)" ] || fail "list --json line $n: size $(printf '%s' "$e" | jq .size), expected $(fsize art.want)"
    if [ -n "$tf" ]; then
        [ "$(printf '%s' "$e" | jq -r '.text_field // ""')" = "$tf" ] || fail "list --json line $n: text_field is not '$tf': $e"
        printf '%s' "$e" | jq -e 'has("whole")' >/dev/null && fail "list --json line $n: text entry marked whole: $e"
        if [ "$meta_want" = "{}" ]; then
            printf '%s' "$e" | jq -e 'has("meta")' >/dev/null && fail "list --json line $n: meta present though the object has no other member: $e"
        else
            [ "$(printf '%s' "$e" | jq -c .meta)" = "$meta_want" ] || fail "list --json line $n: meta $(printf '%s' "$e" | jq -c .meta) != $meta_want (order kept)"
        fi
    else
        [ "$(printf '%s' "$e" | jq .whole)" = true ] || fail "list --json line $n: not whole: $e"
        printf '%s' "$e" | jq -e 'has("text_field")' >/dev/null && fail "list --json line $n: whole entry has text_field: $e"
        # a whole entry may carry some members as meta (for list's url/title): they must be the object's own, in order
        if printf '%s' "$e" | jq -e 'has("meta")' >/dev/null; then
            printf '%s' "$line" | jq -c --argjson m "$(printf '%s' "$e" | jq -c .meta)" 'with_entries(select(.key as $k | $m | has($k)))' > m.want
            printf '%s' "$e" | jq -c .meta > m.got
            cmp -s m.want m.got || fail "list --json line $n: whole entry's meta is not a subset of the object's members in order: $(cat m.got)"
        fi
    fi
    nax cat a.nwa "$id" > art.got
    expect 0 "cat the article of input line $n" && same art.want art.got "cat the article of input line $n"
}
check_entry 1 maintext     # news-please, Arabic, nested object, numbers, booleans, nulls
check_entry 2 maintext     # Persian, ZWNJ, text member in second place
check_entry 3 text         # trafilatura
check_entry 5 ""           # paragraphs only: stored whole
check_entry 7 maintext     # \u escapes, surrogate pair
check_entry 8 maintext     # \u0000 inside the text
check_entry 9 text         # maintext null -> text
check_entry 10 content
check_entry 11 body
check_entry 12 ""          # maintext not a string -> whole
check_entry 13 maintext    # non-Latin member name
check_entry 14 maintext    # empty text
check_entry 15 ""          # {}
check_entry 17 maintext    # last line without newline
printf 'before\000after' > nul.want
nax cat a.nwa "$(hashof nul.want)" > nul.got
expect 0 "cat the NUL article" && same nul.want nul.got "text with \\u0000"
# duplicate identical lines: two entries (same id)
d1=$(sed -n 1p news.jsonl | jq -j .maintext | b2sum -l 256 | cut -d' ' -f1)
[ "$(jq -r .id list.json | grep -c "$d1")" = 2 ] || fail "list --json: duplicate line 1/6 not listed twice"
[ "$(jq -r .id list.json | LC_ALL=C sort -u | wc -l)" = "$(jq .articles <(nax info --json a.nwa))" ] || fail "info articles != distinct ids"
# info's sizes account for every byte of the file, the text information included
nax info --json a.nwa > info.json
sum=$(jq '.blocks_size + .dict_section_size + .meta_size + .index_size + .text_info_size + .other_size' info.json)
[ "$sum" = "$(wc -c < a.nwa)" ] || fail "info --json: the sizes add up to $sum, the file has $(wc -c < a.nwa) bytes"
[ "$(jq .text_info_size info.json)" -gt 0 ] || fail "info --json: no text_info_size for an archive with text information"
[ "$(jq .other_size info.json)" -ge $((32 + 1032)) ] || fail "info --json: other_size below the header and signature slot"
nax info a.nwa | grep -q '^  text info: *[1-9][0-9]* bytes$' || fail "info: no text info size line"

# ---- extract to files: entries without a name are written as DIR/<id>
na extract -C files a.nwa
expect 0 "extract -C files (JSONL archive)"
jq -r .id list.json | LC_ALL=C sort -u > ids.want
tree_files files > ids.got
cmp -s ids.want ids.got || fail "extract of JSONL archive: files are not named by the distinct ids: $(diff ids.want ids.got | head -n 4 | tr '\n' ' ')"
for f in $(cat ids.got); do [ "$(hashof "files/$f")" = "$f" ] || fail "extract: files/$f does not hash to its name"; done

# ---- stdin (-) and file give the same archive
nax pack -o s.nwa - < news.jsonl
expect 0 "pack - < news.jsonl" && same a.nwa s.nwa "pack from stdin vs from the file"
cat news.jsonl | nax pack -o p.nwa -
expect 0 "pack - from a pipe" && same a.nwa p.nwa "pack from a pipe vs from the file"

# ---- CRLF line endings
cp "$J/crlf.jsonl" crlf.jsonl
na pack -o c.nwa crlf.jsonl
expect 0 "pack crlf.jsonl"
na extract --jsonl c.nwa
expect 0 "extract --jsonl crlf"
canon_multiset crlf.jsonl > w; canon_multiset out > g
cmp -s w g || fail "CRLF JSONL: objects differ: $(diff w g | tr '\n' ' ')"

# ---- list (human): url and title from metadata; terminal-safe
na list a.nwa
expect 0 "list (JSONL)"
[ "$(wc -l < out)" -eq "$nobj" ] || fail "list: $(wc -l < out) lines, expected $nobj"
grep -F 'https://example.com/ar/news/1' out | grep -qF 'افتتاح حديقة عامة جديدة' || fail "list: no line with the url and title of input line 1"
grep -qF 'https://example.ir/news/1400' out || fail "list: the whole object's link is not shown"
cp "$J/hostile.jsonl" hostile.jsonl
na pack -o h.nwa hostile.jsonl
expect 0 "pack hostile.jsonl"
na list h.nwa
expect 0 "list (hostile metadata)"
[ "$(wc -l < out)" = 1 ] || fail "list: metadata with a newline made $(wc -l < out) lines for 1 entry"
LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" out && fail "list: raw control characters from metadata reach the terminal: $(od -c out | head -n 3 | tr '\n' ' ')"
grep -q "$(printf '\342\200\256')" out && fail "list: raw U+202E (bidi override) from metadata reaches the terminal"
grep -q "$(printf '\302\233')" out && fail "list: raw U+009B (C1 CSI) from metadata reaches the terminal"
na extract --jsonl h.nwa
canon_multiset hostile.jsonl > w; canon_multiset out > g
cmp -s w g || fail "hostile.jsonl: extract --jsonl objects differ"

# ---- --text-field
cp "$J/textfield.jsonl" tf.jsonl
na pack --text-field article_body -o t.nwa tf.jsonl
expect 0 "pack --text-field article_body"
na list --json t.nwa
expect 0 "list --json (text-field)"
[ "$(jq -r .text_field out | sort -u)" = article_body ] || fail "--text-field: entries' text_field: $(jq -c .text_field out | tr '\n' ' ')"
printf 'متن مقاله‌ی دوم.' > tf.want
nax cat t.nwa "$(hashof tf.want)" > tf.got
expect 0 "cat the --text-field article" && same tf.want tf.got "--text-field article text"
na extract --jsonl t.nwa
expect 0 "extract --jsonl (text-field)"
ordered_multiset tf.jsonl > w; ordered_multiset out > g
cmp -s w g || fail "--text-field: extract --jsonl objects differ (order kept): $(diff w g | tr '\n' ' ')"
na pack -o t2.nwa tf.jsonl
expect 0 "pack textfield.jsonl without --text-field"
na list --json t2.nwa
[ "$(jq -c .whole out | sort -u)" = true ] || fail "without --text-field, objects with no default text member are not stored whole: $(tr '\n' ' ' < out)"
finish
