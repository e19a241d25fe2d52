# Deliberate tampering that keeps every checksum consistent ("resealed":
# block hashes, manifest section hashes and the footer checksum recomputed
# with b2sum), so only the readers' structural checks stand between the bytes
# and a crash: verify must still say damaged (exit 1), other commands must
# fail cleanly (exit <= 1), and cat may only exit 0 with bytes that hash to the id.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
cp "$FIX/jsonl/news.jsonl" news.jsonl
na pack --block-size 2048 -o good.nwa in news.jsonl
expect 0 "pack" || finish
na list --json good.nwa
jq -r .id out | LC_ALL=C sort -u > ids

hexat() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
put_hex() { hex2bin "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
put_u32() { put_hex "$1" "$2" "$(printf '%08x' "$3" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')"; }
put_u64() { local h; h=$(printf '%016x' "$3"); put_hex "$1" "$2" "$(echo "$h" | sed 's/\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)/\8\7\6\5\4\3\2\1/')"; }
range_hash() { tail -c +$(($2 + 1)) "$1" | head -c "$3" | b2sum -l 256 | cut -d' ' -f1; }
sec() { grep "^$2 " "$1.toc"; }

# reseal FILE [blocks]: recompute (block hashes in INDX,) manifest section hashes, footer checksum
reseal() {
    local f=$1 type off len ioff nb i e bo bc blkcat='' moff mlen L h
    toc "$f" > "$f.toc" || return 1
    read -r _ ioff _ < <(sec "$f" INDX)
    nb=${GOOD_NB:-$(u32 "$f" $((ioff + 12)))}   # the untampered count
    for ((i = 0; i < nb; i++)); do
        e=$((ioff + 24 + 48 * i))
        if [ "${2:-}" = blocks ]; then
            bo=$(u64 "$f" $e); bc=$(u32 "$f" $((e + 8)))
            put_hex "$f" $((e + 16)) "$(range_hash "$f" "$bo" "$bc")"
        fi
        blkcat+=$(hexat "$f" $((e + 16)) 32)
    done
    read -r _ moff mlen < <(sec "$f" MANI)
    tail -c +$((moff + 13)) "$f" | head -c $((mlen - 12)) > "$f.mani"
    while read -r type off len; do
        case $type in
            HEAD | DICT | META | INDX) h=$(range_hash "$f" "$off" "$len") ;;
            BLKS) h=$(hex2bin "$blkcat" | b2sum -l 256 | cut -d' ' -f1) ;;
            *) continue ;;
        esac
        sed -i "s/^\(section $type $off $len \)[0-9a-f]\{64\}\$/\1$h/" "$f.mani"
    done < "$f.toc"
    [ "$(fsize "$f.mani")" = $((mlen - 12)) ] || return 1
    dd if="$f.mani" of="$f" bs=1 seek=$((moff + 12)) conv=notrunc 2>/dev/null
    L=$(fsize "$f")
    put_hex "$f" $((L - 40)) "$(head -c $((L - 40)) "$f" | b2sum -l 256 | cut -d' ' -f1)"
}

probe() { # FILE WHAT
    local f=$1 what=$2 id
    na verify "$f"
    expect 1 "verify ($what)"
    for c in "list --json" "info --json" "extract --jsonl"; do
        na $c "$f"
        [ "$rc" -le 1 ] || fail "$c ($what): exit $rc"
    done
    rm -rf x; na extract -C x "$f"
    [ "$rc" -le 1 ] || fail "extract ($what): exit $rc"
    if [ "$rc" = 0 ]; then same_tree in x "extract exit 0 ($what)"; fi
    # every id after a block change, else a sample (runtime)
    if [ -n "${RESEAL_BLOCKS:-}" ]; then cp ids ids.probe; else { head -n 3 ids; tail -n 2 ids; } > ids.probe; fi
    while read -r id; do
        nax cat "$f" "$id" > cat.out
        [ "$rc" = 0 ] && [ "$(hashof cat.out)" != "$id" ] && fail "cat ($what): exit 0 with wrong bytes for $id"
        [ "$rc" -le 1 ] || fail "cat $id ($what): exit $rc"
    done < ids.probe
}

# the resealer itself must keep an intact archive intact
cp good.nwa r.nwa
reseal r.nwa blocks || fail "reseal failed on the intact archive"
same good.nwa r.nwa "resealing an intact archive must change nothing" || finish

toc good.nwa > good.toc
read -r _ hoff _ < <(grep '^HEAD ' good.toc)
read -r _ boff blen < <(grep '^BLKS ' good.toc)
read -r _ moff mlen < <(grep '^META ' good.toc)
read -r _ ioff ilen < <(grep '^INDX ' good.toc)
nb=$(u32 good.nwa $((ioff + 12))); nart=$(u32 good.nwa $((ioff + 16)))
GOOD_NB=$nb
B0=$((ioff + 24)); A0=$((ioff + 24 + 48 * nb))
info "blocks $nb, articles $nart"

t() { # WHAT COMMAND... : apply to a fresh copy, reseal, probe
    local what=$1; shift
    cp good.nwa t.nwa
    "$@"
    if ! reseal t.nwa ${RESEAL_BLOCKS:-}; then fail "$what: could not reseal"; return; fi
    local t0=$SECONDS
    probe t.nwa "$what"
    [ $((SECONDS - t0)) -lt 5 ] || info "$what: probing took $((SECONDS - t0))s"
}
t "format_major 2"                 put_hex t.nwa $((hoff + 20)) 0200
t "required_features bit 31"       put_u32 t.nwa $((hoff + 24)) 2147483648
t "INDX block_count + 1"           put_u32 t.nwa $((ioff + 12)) $((nb + 1))
t "INDX block_count 0xffffffff"    put_u32 t.nwa $((ioff + 12)) 4294967295
t "INDX article_count + 1"         put_u32 t.nwa $((ioff + 16)) $((nart + 1))
t "INDX article_count 0"           put_u32 t.nwa $((ioff + 16)) 0
t "article 0 length 0xffffffff"    put_u32 t.nwa $((A0 + 40)) 4294967295
t "article 0 length + 1"           put_u32 t.nwa $((A0 + 40)) $(( $(u32 good.nwa $((A0 + 40))) + 1 ))
t "article 0 offset 0x7fffffff"    put_u32 t.nwa $((A0 + 36)) 2147483647
t "article 1 offset - 1"           put_u32 t.nwa $((A0 + 44 + 36)) $(( $(u32 good.nwa $((A0 + 44 + 36))) - 1 ))
t "article 0 block = block_count"  put_u32 t.nwa $((A0 + 32)) "$nb"
t "article ids out of order"       put_hex t.nwa "$A0" "$(hexat good.nwa $((A0 + 44)) 32)"
t "block 0 usize 0xffffffff"       put_u32 t.nwa $((B0 + 12)) 4294967295
t "block 0 usize + 1"              put_u32 t.nwa $((B0 + 12)) $(( $(u32 good.nwa $((B0 + 12))) + 1 ))
t "block 0 csize + 1"              put_u32 t.nwa $((B0 + 8)) $(( $(u32 good.nwa $((B0 + 8))) + 1 ))
t "block 0 offset + 1"             put_u64 t.nwa "$B0" $(( $(u64 good.nwa "$B0") + 1 ))
t "block 0 offset 2^62"            put_u64 t.nwa "$B0" 4611686018427387904
# META payload: type, frame_count, table_size, entry_count, reserved, directory
t "META frame_count 0"             put_u32 t.nwa $((moff + 12)) 0
t "META frame_count + 1"           put_u32 t.nwa $((moff + 12)) $(( $(u32 good.nwa $((moff + 12))) + 1 ))
t "META table_size 2^40"           put_u64 t.nwa $((moff + 16)) 1099511627776
t "META table_size 0"              put_u64 t.nwa $((moff + 16)) 0
t "META entry_count + 1"           put_u32 t.nwa $((moff + 24)) $(( $(u32 good.nwa $((moff + 24))) + 1 ))
t "META reserved != 0"             put_u32 t.nwa $((moff + 28)) 1
t "META frame 0 csize + 1"         put_u32 t.nwa $((moff + 32)) $(( $(u32 good.nwa $((moff + 32))) + 1 ))
t "META frame 0 usize - 1"         put_u32 t.nwa $((moff + 36)) $(( $(u32 good.nwa $((moff + 36))) - 1 ))
t "META frame 0 entries - 1"       put_u32 t.nwa $((moff + 40)) $(( $(u32 good.nwa $((moff + 40))) - 1 ))
t "META frame 0 first name + 1"    put_u32 t.nwa $((moff + 44)) $(( $(u32 good.nwa $((moff + 44))) + 1 ))
# (one frame here: frame 0 follows the directory and its first name)
[ "$(u32 good.nwa $((moff + 12)))" = 1 ] || fail "fixture: expected one META frame"
f0=$((moff + 48 + $(u32 good.nwa $((moff + 44)))))
t "META frame 0 magic flipped"     flip_byte t.nwa "$f0"
t "META frame 0 header flipped"    flip_byte t.nwa $((f0 + 4))
RESEAL_BLOCKS=blocks
for pos in $((boff + 6)) $((boff + blen / 3)) $((boff + blen / 2)) $((boff + blen - 2)); do
    t "BLKS byte $pos flipped (block hashes resealed)" flip_byte t.nwa "$pos"
done
RESEAL_BLOCKS=
finish
