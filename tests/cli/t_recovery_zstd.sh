# "Recovery with only the zstd CLI" (format brief): footer TOC read with od,
# DICT body cut out with dd/tail/head, `zstd -d -D dict` of the whole archive
# gives all article bytes; the INDX tables (ids, and the location chunks
# decompressed with zstd and read as byte planes with od) locate every article.  Also checks
# the manifest, root, archive id and footer checksum with b2sum only.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
cp "$FIX/jsonl/news.jsonl" news.jsonl
gen_articles gen 400 7

# hex of N bytes at OFF
hexat() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

recover() { # ARCHIVE WHAT [full]
    local a=$1 what=$2 full=${3:-} type off len doff dlen csize
    rm -rf r && mkdir r
    toc "$a" > r/toc || { fail "$what: footer TOC not readable with od"; return; }
    # the eight critical sections in order; optional (lowercase) ones such as attr may sit after META or INDX
    [ "$(cut -d' ' -f1 r/toc | grep -v '^[a-z]' | tr '\n' ' ')" = "HEAD DICT BLKS META INDX MANI SIGN FOOT " ] || fail "$what: TOC sections: $(cut -d' ' -f1 r/toc | tr '\n' ' ')"
    cut -d' ' -f1 r/toc | tr '\n' ' ' | grep -Eq '^HEAD DICT BLKS META ([a-z][A-Za-z]{3} )*INDX ([a-z][A-Za-z]{3} )*MANI SIGN FOOT $' || fail "$what: optional sections out of place: $(cut -d' ' -f1 r/toc | tr '\n' ' ')"
    # sections contiguous from 0 to the end
    local pos=0
    while read -r type off len; do
        [ "$off" = "$pos" ] || fail "$what: section $type at $off, expected $pos"
        pos=$((off + len))
    done < r/toc
    [ "$pos" = "$(fsize "$a")" ] || fail "$what: sections end at $pos, file has $(fsize "$a") bytes"
    read -r _ doff dlen < <(grep '^DICT ' r/toc)
    [ "$(str4 "$a" $((doff + 8)))" = DICT ] || fail "$what: no 'DICT' type at $((doff + 8))"
    tail -c +$((doff + 13)) "$a" | head -c $((dlen - 12)) > r/dict.zst
    : > r/dict.bin
    if [ -s r/dict.zst ]; then
        # the DICT body is the dictionary in one zstd frame
        [ "$(hexat r/dict.zst 0 4)" = 28b52ffd ] || fail "$what: DICT body is not a zstd frame"
        zstd -q -d -c r/dict.zst > r/dict.bin 2> r/zstd.err || { fail "$what: zstd -d of the DICT body failed: $(head -c 300 r/zstd.err)"; return; }
        [ "$(hexat r/dict.bin 0 4)" = 37a430ec ] || fail "$what: the DICT body does not decompress to a zstd dictionary"
        zstd -q -d -D r/dict.bin -c "$a" > r/content.bin 2> r/zstd.err || { fail "$what: zstd -d -D dict failed: $(head -c 300 r/zstd.err)"; return; }
    else
        zstd -q -d -c "$a" > r/content.bin 2> r/zstd.err || { fail "$what: zstd -d (no dictionary) failed: $(head -c 300 r/zstd.err)"; return; }
    fi
    na info --json "$a"
    csize=$(jq .content_size out)
    [ "$(fsize r/content.bin)" = "$csize" ] || fail "$what: zstd -d gave $(fsize r/content.bin) bytes, info content_size is $csize"
    [ "$(jq .dict_size out)" = "$(fsize r/dict.bin)" ] || fail "$what: info dict_size $(jq .dict_size out), the DICT body decompresses to $(fsize r/dict.bin) bytes"
    [ "$(jq .dict_section_size out)" = "$dlen" ] || fail "$what: info dict_section_size $(jq .dict_section_size out) != DICT length $dlen"
    [ "$(jq .blocks_size out)" = "$(grep '^BLKS ' r/toc | cut -d' ' -f3)" ] || fail "$what: info blocks_size $(jq .blocks_size out) != BLKS length"
    [ "$(jq .file_size out)" = "$(fsize "$a")" ] || fail "$what: info file_size"
    info "$what: dict $(fsize r/dict.bin) bytes, $(jq .blocks out) blocks, content $csize bytes"
    # INDX: block table and article table
    local ioff ilen nb na_ i e bo bc bu base=0 aid ab ao al
    read -r _ ioff ilen < <(grep '^INDX ' r/toc)
    [ "$(str4 "$a" $((ioff + 8)))" = INDX ] || fail "$what: no 'INDX' type"
    nb=$(u32 "$a" $((ioff + 12))); na_=$(u32 "$a" $((ioff + 16)))
    [ "$nb" = "$(jq .blocks out)" ] || fail "$what: INDX block_count $nb != info blocks"
    [ "$na_" = "$(jq .articles out)" ] || fail "$what: INDX article_count $na_ != info articles"
    # location chunks: a directory of u32 lengths after the ids, then the zstd frames
    local nc=$(((na_ + 4095) / 4096)) dir src k cs
    dir=$((ioff + 24 + 48 * nb + 32 * na_)); src=$((dir + 4 * nc))
    for ((k = 0; k < nc; k++)); do
        cs=$(u32 "$a" $((dir + 4 * k)))
        tail -c +$((src + 1)) "$a" | head -c "$cs" > r/chunk$k.zst
        zstd -q -d -c r/chunk$k.zst > r/chunk$k.bin 2> r/zstd.err || fail "$what: zstd -d of location chunk $k failed: $(head -c 300 r/zstd.err)"
        src=$((src + cs))
    done
    [ "$ilen" = $((src - ioff)) ] || fail "$what: INDX frame length $ilen, its tables end at $((src - ioff))"
    declare -a bbase
    for ((i = 0; i < nb; i++)); do
        e=$((ioff + 24 + 48 * i))
        bo=$(u64 "$a" $e); bc=$(u32 "$a" $((e + 8))); bu=$(u32 "$a" $((e + 12)))
        bbase[i]=$base; base=$((base + bu))
        if [ -n "$full" ]; then
            [ "$(tail -c +$((bo + 1)) "$a" | head -c "$bc" | b2sum -l 256 | cut -d' ' -f1)" = "$(hexat "$a" $((e + 16)) 32)" ] \
                || fail "$what: block $i hash in INDX is not BLAKE2b-256 of its frame"
        fi
    done
    [ "$base" = "$csize" ] || fail "$what: sum of block usize $base != content_size $csize"
    [ -n "$full" ] || return
    hexat "$a" $((ioff + 24 + 48 * nb)) $((32 * na_)) > r/ids.hex
    local ids prev='' allids='' m j
    ids=$(cat r/ids.hex)
    declare -a P
    for ((i = 0; i < na_; i++)); do
        aid=${ids:i*64:64}
        # location i: byte planes of its chunk (block, offset, length; 4 planes each, low byte first)
        k=$((i / 4096)); j=$((i % 4096)); m=$((na_ - 4096 * k)); [ $m -le 4096 ] || m=4096
        if [ $j = 0 ]; then
            mapfile -t P < <(od -An -v -tu1 -w1 r/chunk$k.bin | tr -d ' ')
            [ ${#P[@]} = $((12 * m)) ] || fail "$what: location chunk $k holds ${#P[@]} bytes, expected $((12 * m))"
        fi
        ab=$((P[j] + 256 * P[m + j] + 65536 * P[2 * m + j] + 16777216 * P[3 * m + j]))
        ao=$((P[4 * m + j] + 256 * P[5 * m + j] + 65536 * P[6 * m + j] + 16777216 * P[7 * m + j]))
        al=$((P[8 * m + j] + 256 * P[9 * m + j] + 65536 * P[10 * m + j] + 16777216 * P[11 * m + j]))
        [ -z "$prev" ] || [[ "$prev" < "$aid" ]] || fail "$what: article ids not strictly increasing at $i"
        prev=$aid; allids+=$aid
        [ "$(tail -c +$((bbase[ab] + ao + 1)) r/content.bin | head -c "$al" | b2sum -l 256 | cut -d' ' -f1)" = "$aid" ] \
            || fail "$what: article $aid (block $ab offset $ao length $al) not found in the zstd output"
    done
    # manifest: archive id, root, section lines, footer checksum
    local moff mlen
    read -r _ moff mlen < <(grep '^MANI ' r/toc)
    tail -c +$((moff + 13)) "$a" | head -c $((mlen - 12)) > r/manifest
    [ "$(hashof r/manifest)" = "$(jq -r .archive_id out)" ] || fail "$what: archive_id is not BLAKE2b-256 of the manifest text"
    [ "$(head -n1 r/manifest)" = "newsarc-manifest 1" ] || fail "$what: manifest first line: $(head -n1 r/manifest)"
    hex2bin "$allids" > r/ids.bin
    [ "$(grep '^root ' r/manifest | cut -d' ' -f2)" = "$(hashof r/ids.bin)" ] || fail "$what: manifest root is not H(id0||id1||...)"
    [ "$(jq -r .root out)" = "$(hashof r/ids.bin)" ] || fail "$what: info root is not H(id0||id1||...)"
    [ "$(grep '^file-length ' r/manifest | cut -d' ' -f2)" = "$(fsize "$a")" ] || fail "$what: manifest file-length"
    while read -r type off len; do
        grep -q "^section $type $off $len " r/manifest || fail "$what: manifest has no 'section $type $off $len' line"
        case $type in HEAD | DICT | META | INDX)
            [ "$(grep "^section $type " r/manifest | cut -d' ' -f5)" = "$(tail -c +$((off + 1)) "$a" | head -c "$len" | b2sum -l 256 | cut -d' ' -f1)" ] \
                || fail "$what: manifest hash of $type is not H(frame bytes)" ;;
        esac
    done < r/toc
    local L=$(fsize "$a")
    [ "$(head -c $((L - 40)) "$a" | b2sum -l 256 | cut -d' ' -f1)" = "$(hexat "$a" $((L - 40)) 32)" ] || fail "$what: footer checksum is not H(file[0, L-40))"
}

na pack --block-size 2048 -o small.nwa in news.jsonl
expect 0 "pack tree + JSONL" && recover small.nwa "tree+JSONL, no dictionary" full
na pack --dict-size 28160 --block-size 16384 -o dict.nwa gen in
expect 0 "pack with --dict-size 28160" && recover dict.nwa "generated, 28160-byte dictionary" full
na info --json dict.nwa
[ "$(jq .dict_size out)" -gt 0 ] || fail "--dict-size 28160: no dictionary stored (dict_size $(jq .dict_size out))"
na pack --no-dict -o nodict.nwa gen
expect 0 "pack --no-dict" && recover nodict.nwa "--no-dict"
na pack -o auto.nwa gen in news.jsonl
expect 0 "pack default options" && recover auto.nwa "default options"
finish
