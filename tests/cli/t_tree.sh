# pack/verify/list/info/cat/extract on the tree fixture.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
nfiles=$(tree_files in | wc -l)

na pack -o a.nwa in
expect 0 "pack tree" || finish
[ -s a.nwa ] || { fail "pack wrote no archive"; finish; }

na verify a.nwa
expect 0 "verify" 
tail -n1 out | grep -q '^a\.nwa: ok' || fail "verify: last stdout line is not 'a.nwa: ok ...': $(tail -n1 out)"

# ---- list --json
na list --json a.nwa
expect 0 "list --json" || finish
cp out list.json
jq -e . list.json >/dev/null 2>&1 || fail "list --json: not valid JSON Lines"
[ "$(wc -l < list.json)" -eq "$nfiles" ] || fail "list --json: $(wc -l < list.json) entries, expected $nfiles"
jq -r '.name' list.json | LC_ALL=C sort > names.got
tree_files in > names.want
cmp -s names.got names.want || fail "list --json: names differ from the tree's files: $(diff names.want names.got | head -n 6 | tr '\n' ' ')"
jq -r '.name // ""' list.json > names.order
LC_ALL=C sort names.order | cmp -s - names.order || fail "list --json: entries not in bytewise name order"
[ -z "$(jq -c 'select(has("text_field") or has("whole") or has("meta"))' list.json)" ] || fail "list --json: file entries have text_field/whole/meta"
jq -r '.id + " " + (.size|tostring) + " " + .name' list.json > ids.txt
while read -r id size name; do
    [ -f "in/$name" ] || { fail "list names '$name' which is not in the tree"; continue; }
    [ "$size" = "$(fsize "in/$name")" ] || fail "list: '$name' size $size, file has $(fsize "in/$name")"
    [ "$id" = "$(hashof "in/$name")" ] || fail "list: '$name' id $id is not BLAKE2b-256 of its bytes"
done < ids.txt
cut -d' ' -f1 ids.txt | LC_ALL=C sort -u > uniq.ids
narticles=$(wc -l < uniq.ids)

# ---- list (human)
na list a.nwa
expect 0 "list"
[ "$(wc -l < out)" -eq "$nfiles" ] || fail "list: $(wc -l < out) lines, expected $nfiles"
while IFS= read -r line; do
    short=${line%%  *}
    [[ $short =~ ^[0-9a-f]{12}$ ]] || { fail "list: line does not start with a 12-hex id and two spaces: '$line'"; continue; }
    grep -q "^$short" uniq.ids || fail "list: short id $short is no article's id prefix"
done < out
grep -q '  dup/one\.txt' out || fail "list: no line with the name 'dup/one.txt'"

# ---- info
na info --json a.nwa
expect 0 "info --json"
cp out info.json
for k in format file_size articles entries blocks content_size blocks_size ratio level block_size dict_size zstd_version archive_id root signed; do
    jq -e "has(\"$k\")" info.json >/dev/null 2>&1 || fail "info --json: no key '$k'"
done
[ "$(jq .file_size info.json)" = "$(fsize a.nwa)" ] || fail "info: file_size $(jq .file_size info.json) != $(fsize a.nwa)"
[ "$(jq .entries info.json)" = "$nfiles" ] || fail "info: entries $(jq .entries info.json), expected $nfiles"
[ "$(jq .articles info.json)" = "$narticles" ] || fail "info: articles $(jq .articles info.json), expected $narticles"
sum=$(jq -s 'unique_by(.id) | map(.size) | add' list.json)
[ "$(jq .content_size info.json)" = "$sum" ] || fail "info: content_size $(jq .content_size info.json), sum of article sizes $sum"
[ "$(jq .signed info.json)" = false ] || fail "info: signed is not false"
[[ $(jq -r .archive_id info.json) =~ ^[0-9a-f]{64}$ ]] || fail "info: archive_id is not 64 hex"
na info a.nwa
expect 0 "info (human)"
[ -s out ] || fail "info: no output"

# ---- cat by id, by name, by prefix
while read -r id; do
    nax cat a.nwa "$id" > got
    expect 0 "cat $id" || continue
    [ "$(hashof got)" = "$id" ] || fail "cat $id: bytes hash to $(hashof got)"
    nax cat a.nwa "${id:0:8}" > got8
    if [ "$(grep -c "^${id:0:8}" uniq.ids)" = 1 ]; then
        expect 0 "cat by 8-hex prefix ${id:0:8}" && same got got8 "cat by 8-hex prefix ${id:0:8}"
    fi
    nax cat a.nwa "${id:0:12}" > got12
    expect 0 "cat by 12-hex short id" && same got got12 "cat by 12-hex short id ${id:0:12}"
done < uniq.ids
while read -r id size name; do
    nax cat a.nwa "$name" > got
    expect 0 "cat by name '$name'" && same "in/$name" got "cat by name '$name'"
done < ids.txt
nax cat a.nwa empty.txt > got
expect 0 "cat empty.txt" && [ ! -s got ] || fail "cat empty.txt: output not empty"
for sel in no/such/name.txt dup ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff; do
    if ! grep -qx "$sel" names.want && ! grep -q "^$sel" uniq.ids; then
        nax cat a.nwa "$sel" > got
        expect 1 "cat unknown selector '$sel'"
        [ -s got ] && fail "cat unknown selector '$sel': wrote to stdout"
    fi
done
first=$(head -n1 uniq.ids)
nax cat a.nwa "${first:0:7}" > got
expect 1 "cat with a 7-hex prefix (below the 8-digit minimum)"
# a prefix matching no id
for p in 00000000 11111111 22222222 deadbeef; do
    grep -q "^$p" uniq.ids && continue
    nax cat a.nwa "$p" > got; expect 1 "cat prefix $p matching nothing"; break
done

# ---- extract
na extract -C outdir a.nwa
expect 0 "extract -C outdir" && same_tree in outdir "extract"
# into the cwd
mkdir cwdx && (cd cwdx && nax extract ../a.nwa; echo $rc > ../rc.cwd)
[ "$(cat rc.cwd)" = 0 ] || fail "extract into . : exit $(cat rc.cwd)"
same_tree in cwdx "extract into ."
# selected entries only
wid=$(grep ' ar/weather-001.txt$' ids.txt | cut -d' ' -f1)
na extract -C sel a.nwa dup/one.txt "$wid"
expect 0 "extract with selectors"
[ "$(tree_files sel | tr '\n' ' ')" = "ar/weather-001.txt dup/one.txt " ] || fail "extract selectors: got files: $(tree_files sel | tr '\n' ' ')"
same in/dup/one.txt sel/dup/one.txt "extract selector by name"
na extract -C sel2 a.nwa no/such/name.txt
expect 1 "extract unknown selector"

# ---- extract --jsonl of file entries: {"name","text"} or {"name","text_base64"}
na extract --jsonl a.nwa
expect 0 "extract --jsonl (tree)" 
cp out files.jsonl
[ "$(wc -l < files.jsonl)" -eq "$nfiles" ] || fail "extract --jsonl: $(wc -l < files.jsonl) lines, expected $nfiles"
i=0
while IFS= read -r line; do
    i=$((i + 1))
    name=$(printf '%s' "$line" | jq -r .name)
    [ -f "in/$name" ] || { fail "extract --jsonl line $i: name '$name' not in the tree"; continue; }
    if printf '%s' "$line" | jq -e 'has("text")' >/dev/null; then
        printf '%s' "$line" | jq -j .text > t.bin
        iconv -f UTF-8 -t UTF-8 "in/$name" >/dev/null 2>&1 || fail "extract --jsonl: '$name' is not valid UTF-8 but came as text"
    elif printf '%s' "$line" | jq -e 'has("text_base64")' >/dev/null; then
        printf '%s' "$line" | jq -r .text_base64 | base64 -d > t.bin
        iconv -f UTF-8 -t UTF-8 "in/$name" >/dev/null 2>&1 && fail "extract --jsonl: '$name' is valid UTF-8 but came as text_base64"
    else
        fail "extract --jsonl line $i: neither text nor text_base64"; continue
    fi
    cmp -s t.bin "in/$name" || fail "extract --jsonl: '$name' text differs from the file"
done < files.jsonl

# files over 8 MiB are checked when read but written from a second read (not
# kept in memory by the jobs read ahead), beside small files in the same jobs
mkdir -p bigtree/a && seq 1 1500000 > bigtree/a/big1.txt && seq 7 2000000 > bigtree/big2.txt
for i in $(seq 1 40); do printf 'small %d\n' "$i" > bigtree/a/s$i.txt; done
[ "$(fsize bigtree/a/big1.txt)" -gt $((8 << 20)) ] || fail "big file: the test's file is not over 8 MiB"
na pack -o big.nwa bigtree; expect 0 "pack files over 8 MiB"
for t in 1 3; do
    rm -rf bx; na extract -T $t -C bx big.nwa
    expect 0 "extract -T $t files over 8 MiB" && same_tree bigtree bx "extract -T $t files over 8 MiB"
done
finish
