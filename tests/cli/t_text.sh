# Issue 6: charset evidence, cat/extract --utf8, norm_id, script, dups.
. "$NEWSARC_CLI_DIR/lib.sh"
mkdir -p in
# Arabic in windows-1256 (no declaration), the same text in UTF-8, and HTML declaring its charset
printf '%s\n' "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة، بسعة مئتي سرير ويخدم أكثر من مليون نسمة." > ar-utf8.txt
iconv -f UTF-8 -t WINDOWS-1256 ar-utf8.txt > in/ar-1256.txt || skip "iconv cannot make windows-1256"
cp ar-utf8.txt in/ar-utf8.txt
{ printf '<html><head><meta charset="koi8-r"></head><body>'; printf '%s' "Привет, мир! Новости дня: в столице открылась новая библиотека, и жители города пришли посмотреть на неё." | iconv -f UTF-8 -t KOI8-R; printf '</body></html>\n'; } > in/ru.html
# the same words in NFC and NFD, with CRLF and extra spaces, and Arabic with tatweel
printf 'caf\xc3\xa9 au lait\n' > in/nfc.txt
printf 'caf\x65\xcc\x81   au lait\r\n\r\n' > in/nfd.txt
printf '\xd9\x83\xd8\xaa\xd8\xa7\xd8\xa8 \xd8\xac\xd8\xaf\xd9\x8a\xd8\xaf\n' > in/kitab.txt
printf '\xd9\x83\xd8\xaa\xd9\x80\xd9\x80\xd8\xa7\xd8\xa8 \xd8\xac\xd8\xaf\xd9\x8a\xd8\xaf\n' > in/kitab-tatweel.txt
na pack -o a.nwa in
expect 0 "pack" || finish
na list --json a.nwa
expect 0 "list --json" || finish
cp out list.json
field() { jq -r --arg n "$1" "select(.name==\$n)|$2" list.json; }
[ "$(field ar-1256.txt .utf8)" = false ] || fail "windows-1256 file not marked as non-UTF-8"
[ "$(field ar-1256.txt .charset.decoded_as)" = windows-1256 ] || fail "windows-1256 decoded as '$(field ar-1256.txt .charset.decoded_as)'"
[ "$(field ar-1256.txt .script)" = Arab ] || fail "script of the Arabic file: '$(field ar-1256.txt .script)'"
[ "$(field ar-utf8.txt .utf8)" = true ] || fail "UTF-8 file not marked as UTF-8"
[ "$(field ar-utf8.txt .charset)" = null ] || fail "plain UTF-8 file should carry no charset object"
[ "$(field ru.html .charset.declared)" = KOI8-R ] || fail "declared charset of ru.html: '$(field ru.html .charset.declared)'"
[ "$(field ru.html .charset.declared_by)" = meta ] || fail "ru.html declaration not attributed to the meta tag"
[ "$(field ru.html .script)" = Cyrl ] || fail "script of ru.html: '$(field ru.html .script)'"
# the decoded and the UTF-8 copy have the same norm_id; the original bytes stay as they were
[ "$(field ar-1256.txt .norm_id)" = "$(field ar-utf8.txt .norm_id)" ] || fail "norm_id differs between windows-1256 and UTF-8 copies"
[ "$(field ar-1256.txt .id)" != "$(field ar-utf8.txt .id)" ] || fail "ids of different bytes must differ"
[ "$(field nfc.txt .norm_id)" = "$(field nfd.txt .norm_id)" ] || fail "NFC/NFD + CRLF + spaces copies have different norm_ids"
[ "$(field kitab.txt .norm_id)" = "$(field kitab-tatweel.txt .norm_id)" ] || fail "tatweel changes the norm_id"
[ "$(field nfc.txt .norm_id)" != "$(field kitab.txt .norm_id)" ] || fail "different texts share a norm_id"
# cat: exact bytes by default, UTF-8 with --utf8
nax cat a.nwa ar-1256.txt > raw.out
same in/ar-1256.txt raw.out "cat without --utf8 must give the original bytes"
nax cat --utf8 a.nwa ar-1256.txt > u.out
expect 0 "cat --utf8"
same ar-utf8.txt u.out "cat --utf8 of the windows-1256 article"
nax extract --utf8 -C x a.nwa ru.html
expect 0 "extract --utf8"
grep -q "Привет, мир" x/ru.html || fail "extract --utf8 did not decode KOI8-R: $(head -c 200 x/ru.html)"
# several charsets, met by the worker threads in any order: the bytes never change
for i in 1 2 3; do
    for t in 1 2 4; do
        na pack -T $t --block-size 1024 -o "det-$t-$i.nwa" in
        cmp -s det-1-1.nwa "det-$t-$i.nwa" || fail "-T $t run $i: archive bytes differ from -T 1 run 1"
    done
done
cmp -s det-1-1.nwa det-2-1.nwa || fail "-T1 and -T2 differ"
cmp -s det-2-1.nwa det-4-3.nwa || fail "-T2 and -T4 differ"
# --no-text-info: no attr section, no text fields
na pack --no-text-info -o b.nwa in
expect 0 "pack --no-text-info"
toc b.nwa | grep -q '^attr ' && fail "--no-text-info still wrote an attr section"
na list --json b.nwa
grep -q norm_id out && fail "--no-text-info archive lists norm_ids"
# stronger normalization is recorded
na pack --normalize strip-diacritics -o c.nwa in
na info --json c.nwa
[ "$(jq -c .normalization out)" = '["strip-diacritics"]' ] || fail "normalization option not recorded: $(cat out)"
na pack --normalize nonsense -o d.nwa in
expect 2 "unknown --normalize value"

# dups: a wire story, the same story with another dateline and footer, and an unrelated one
story="The central bank raised its key interest rate by half a percentage point on Thursday, the third increase this year, citing persistent inflation in food and energy prices. Officials said further moves would depend on data in the coming months, while analysts expect borrowing costs to stay high through the end of the year. The decision was widely anticipated by markets."
mkdir -p d
printf 'CAIRO (Reuters) - %s\n' "$story" > d/a.txt
printf 'AMMAN, May 3 (AFP) - %s Read more on our website.\n' "$story" > d/b.txt
printf '%s\n' "Heavy rain flooded several streets in the capital overnight, and the weather service warned of more storms over the weekend, asking drivers to avoid low-lying roads and underpasses until the water recedes." > d/c.txt
na pack -o dd.nwa d
na dups --json dd.nwa
expect 0 "dups --json" || finish
[ "$(wc -l < out)" = 1 ] || fail "dups found $(wc -l < out) groups, expected 1: $(cat out)"
[ "$(jq -r '[.members[].name]|sort|join(",")' out)" = "a.txt,b.txt" ] || fail "dups group members: $(jq -c '[.members[].name]' out)"
na dups --threshold 0.99 --json dd.nwa
[ ! -s out ] || fail "dups --threshold 0.99 should find no group: $(cat out)"
na dups --threshold 2 dd.nwa
expect 2 "dups with a threshold out of range"
# source hints: a 3-byte article ("khabar" in windows-1256) is too short for the
# detector; three declared windows-1256 pages in the same directory make that
# the hint, and the same word alone in another directory gets no hint
mkdir -p src/site src/other
for i in 1 2 3; do
    { printf '<html><head><meta charset="windows-1256"></head><body><p>'; printf 'Article %s: ' $i
      printf '\307\341\323\341\307\343 \316\310\321 \307\341\335\312\307\311'; printf '</p></body></html>\n'; } > src/site/a$i.html
done
printf '\316\310\321' > src/site/short.txt
printf '\316\310\321\n' > src/other/short.txt # not the same bytes: one article has one placement (source)
for t in 1 2; do
    na pack -T $t -f -o h$t.nwa src
    expect 0 "pack (source hints, -T $t)" || finish
done
same h1.nwa h2.nwa "source hints made the archive depend on the thread count"
na list --json h1.nwa
cp out hint.json
hfield() { jq -r --arg n "$1" "select(.name==\$n)|$2" hint.json; }
[ "$(hfield site/a1.html .charset.reason)" = declared ] || fail "site/a1.html: reason '$(hfield site/a1.html .charset.reason)', expected declared"
[ "$(hfield site/short.txt .charset.decoded_as)" = windows-1256 ] || fail "site/short.txt decoded as '$(hfield site/short.txt .charset.decoded_as)', expected the source's windows-1256"
[ "$(hfield site/short.txt .charset.reason)" = hint ] || fail "site/short.txt: reason '$(hfield site/short.txt .charset.reason)', expected hint"
[ "$(hfield other/short.txt .charset.reason)" != hint ] || fail "other/short.txt took a hint from another directory"

# ICU is opened on first use (lib/icu.h): reading needs none, decoding and packing load it
loaded() { LD_DEBUG=files "$NEWSARC" "$@" 2>&1 >/dev/null | grep -c 'file=libicui18n' ; }
[ "$(loaded cat h1.nwa site/short.txt)" = 0 ] || fail "cat loaded ICU"
[ "$(loaded list --json h1.nwa)" = 0 ] || fail "list --json loaded ICU"
[ "$(loaded verify h1.nwa)" = 0 ] || fail "verify loaded ICU"
[ "$(loaded cat --utf8 h1.nwa site/short.txt)" != 0 ] || fail "cat --utf8 did not load ICU (LD_DEBUG shows no dlopen?)"
[ "$(loaded pack -f -o h3.nwa src)" != 0 ] || fail "pack did not load ICU"
same h1.nwa h3.nwa "pack with ICU opened at run time"
finish
