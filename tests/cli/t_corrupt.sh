# Damaged archives: verify exits 1 for any flipped, missing or extra byte;
# no command crashes (exit < 128), and cat never prints wrong bytes with exit 0.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
cp "$FIX/jsonl/news.jsonl" news.jsonl
na pack --block-size 1024 -o good.nwa in news.jsonl
expect 0 "pack" || finish
na verify good.nwa
expect 0 "verify the intact archive" || finish
for t in 1 2 4; do na verify -T $t good.nwa; expect 0 "verify -T $t"; done
na list --json good.nwa
jq -r .id out | LC_ALL=C sort -u > ids
# list --json formats on worker threads: the same lines in the same order for any count
for t in 1 3 16; do
    cp out list.all; na list --json -T $t good.nwa
    expect 0 "list --json -T $t" && same out list.all "list --json -T $t differs from the default"
done
# and plain list
na list good.nwa; cp out plain.all
[ "$(wc -l < plain.all)" = "$(wc -l < list.all)" ] || fail "plain list: $(wc -l < plain.all) lines for $(wc -l < list.all) entries"
! grep -qvE '^[0-9a-f]{12} +[0-9]+  ' plain.all || fail "plain list: a line is not 'short-id  size  ...': $(grep -vE '^[0-9a-f]{12} +[0-9]+  ' plain.all | head -n 1)"
for t in 1 3 16; do
    na list -T $t good.nwa
    expect 0 "list -T $t" && same out plain.all "list -T $t differs from the default"
done
# so does extract --jsonl
na extract --jsonl good.nwa; cp out xj.all
for t in 1 3 16; do
    na extract --jsonl -T $t good.nwa
    expect 0 "extract --jsonl -T $t" && same out xj.all "extract --jsonl -T $t differs from the default"
done
na list --json good.nwa
size=$(fsize good.nwa)
toc good.nwa > toc.txt || { fail "cannot read the footer TOC with od"; finish; }
info "sections: $(tr '\n' ';' < toc.txt)"

# every command on a damaged copy: no crash; verify must say damaged (exit 1)
check_damaged() { # FILE WHAT
    local f=$1 what=$2 id
    na verify "$f"
    expect 1 "verify ($what)"
    tail -n1 out | grep -q "^$f: damaged" || fail "verify ($what): last stdout line is not '$f: damaged ...': $(tail -n1 out)"
    na list -T 1 "$f"
    [ "$rc" -le 1 ] || fail "list ($what): exit $rc"
    local rcp=$rc; cp out plain1.out; cp err plain1.err
    na list -T 3 "$f"
    [ "$rc" = "$rcp" ] || fail "list ($what): exit $rc with 3 threads, $rcp with 1"
    same out plain1.out "list ($what): output differs between 1 and 3 threads"
    same err plain1.err "list ($what): message differs between 1 and 3 threads"
    na list --json -T 1 "$f"
    [ "$rc" -le 1 ] || fail "list --json ($what): exit $rc"
    local rc1=$rc; cp out list1.out; cp err list1.err
    na list --json -T 3 "$f"
    [ "$rc" = "$rc1" ] || fail "list --json ($what): exit $rc with 3 threads, $rc1 with 1"
    same out list1.out "list --json ($what): output differs between 1 and 3 threads"
    same err list1.err "list --json ($what): message differs between 1 and 3 threads"
    na info --json "$f"
    [ "$rc" -le 1 ] || fail "info --json ($what): exit $rc"
    rm -rf x; na extract -C x -T 1 "$f"
    [ "$rc" -le 1 ] || fail "extract ($what): exit $rc"
    # files are read on all threads and written in order: the same files and message at 3
    rc1=$rc; cp err xf1.err; tree_files x > xf1.list
    rm -rf x3; na extract -C x3 -T 3 "$f"
    [ "$rc" = "$rc1" ] || fail "extract ($what): exit $rc with 3 threads, $rc1 with 1"
    same err xf1.err "extract ($what): message differs between 1 and 3 threads"
    tree_files x3 > xf3.list
    same xf3.list xf1.list "extract ($what): other files written with 3 threads than with 1"
    na extract --jsonl -T 1 "$f"
    [ "$rc" -le 1 ] || fail "extract --jsonl ($what): exit $rc"
    rc1=$rc; cp out x1.out; cp err x1.err
    na extract --jsonl -T 3 "$f"
    [ "$rc" = "$rc1" ] || fail "extract --jsonl ($what): exit $rc with 3 threads, $rc1 with 1"
    same out x1.out "extract --jsonl ($what): output differs between 1 and 3 threads"
    same err x1.err "extract --jsonl ($what): message differs between 1 and 3 threads"
    while read -r id; do
        nax cat "$f" "$id" > cat.out
        if [ "$rc" = 0 ] && [ "$(hashof cat.out)" != "$id" ]; then fail "cat ($what): exit 0 but wrong bytes for $id"; fi
        [ "$rc" -le 1 ] || fail "cat $id ($what): exit $rc"
    done < ids
}

# one byte flipped in the middle of the file
cp good.nwa mid.nwa; flip_byte mid.nwa $((size / 2))
check_damaged mid.nwa "byte $((size / 2)) flipped"
for t in 1 2; do na verify -T $t mid.nwa; expect 1 "verify -T $t (damaged)"; done
# one byte flipped in the middle of each section, and at its first and last byte
while read -r type off len; do
    for pos in $off $((off + len / 2)) $((off + len - 1)); do
        [ "$len" -gt 0 ] || continue
        cp good.nwa f.nwa; flip_byte f.nwa $pos
        na verify f.nwa
        expect 1 "verify, $type byte $pos flipped"
    done
    cp good.nwa s.nwa; flip_byte s.nwa $((off + len / 2))
    check_damaged s.nwa "$type middle byte flipped"
done < toc.txt
# a flipped byte inside each block (not detected by the whole-file checksum alone:
# cat must check the block hash)
read -r _ boff blen < <(grep '^BLKS ' toc.txt)
for pos in $(seq $((boff + 5)) $(( (blen / 7) + 1 )) $((boff + blen - 1))); do
    cp good.nwa b.nwa; flip_byte b.nwa $pos
    while read -r id; do
        nax cat b.nwa "$id" > cat.out
        [ "$rc" = 0 ] && [ "$(hashof cat.out)" != "$id" ] && fail "cat after flipping BLKS byte $pos: exit 0 but wrong bytes for $id"
        [ "$rc" -le 1 ] || fail "cat after flipping BLKS byte $pos: exit $rc"
    done < ids
    rm -rf x; na extract -C x b.nwa
    if [ "$rc" = 0 ]; then same_tree in x "extract exit 0 after flipping BLKS byte $pos"; fi
done

# truncated by one byte
head -c $((size - 1)) good.nwa > trunc.nwa
check_damaged trunc.nwa "truncated by 1 byte"
na list trunc.nwa; expect 1 "list of a truncated archive"
na info trunc.nwa; expect 1 "info of a truncated archive"
# truncated at each section start
while read -r type off len; do
    [ "$off" -gt 0 ] || continue
    head -c "$off" good.nwa > t.nwa
    na verify t.nwa; expect 1 "verify, truncated at the start of $type"
    na list t.nwa; [ "$rc" = 1 ] || fail "list, truncated at the start of $type: exit $rc"
done < toc.txt
# one byte appended, and a whole second copy appended
cp good.nwa app.nwa; printf '\n' >> app.nwa
check_damaged app.nwa "one byte appended"
na list app.nwa; expect 1 "list with a byte appended"
na info app.nwa; expect 1 "info with a byte appended"
cat good.nwa good.nwa > twice.nwa
na verify twice.nwa; expect 1 "verify of two archives concatenated"
# a byte inserted in the middle
{ head -c $((size / 2)) good.nwa; printf 'X'; tail -c +$((size / 2 + 1)) good.nwa; } > ins.nwa
na verify ins.nwa; expect 1 "verify with a byte inserted"
# the tail only, the footer only
tail -c 8 good.nwa > tail8.nwa
na verify tail8.nwa; expect 1 "verify of the last 8 bytes"
na list tail8.nwa; [ "$rc" = 1 ] || fail "list of the last 8 bytes: exit $rc"
read -r _ foff flen < <(grep '^FOOT ' toc.txt)
tail -c "$flen" good.nwa > foot.nwa
na verify foot.nwa; expect 1 "verify of the footer alone"
na list foot.nwa; [ "$rc" = 1 ] || fail "list of the footer alone: exit $rc"
# a zeroed 4 KiB run in the middle
zl=4096; [ $((size / 3)) -lt $zl ] && zl=$((size / 3))
cp good.nwa z.nwa; dd if=/dev/zero of=z.nwa bs=1 seek=$((size / 3)) count=$zl conv=notrunc 2>/dev/null
check_damaged z.nwa "$zl bytes zeroed"
# a location chunk that is not a zstd frame (its magic flipped): every command
# that needs a location says which chunk, naming the file, and exits 1
read -r _ xoff _ < <(grep '^INDX ' toc.txt)
xnb=$(u32 good.nwa $((xoff + 12))); xna=$(u32 good.nwa $((xoff + 16)))
cp good.nwa loc.nwa; flip_byte loc.nwa $((xoff + 24 + 48 * xnb + 32 * xna + 4 * ((xna + 4095) / 4096)))
check_damaged loc.nwa "location chunk magic flipped"
na verify loc.nwa
cat out err | grep -q 'location chunk 0' || fail "verify of a damaged location chunk does not name it: $(cat out) $(errtext)"
for c in "list" "list --json" "extract --jsonl" "dups" "list -T 3"; do
    na $c loc.nwa
    expect 1 "$c with a damaged location chunk"
    grep -q "loc.nwa.*location chunk 0" err || fail "$c with a damaged location chunk: message $(errtext)"
done
nax cat loc.nwa "$(head -n 1 ids)" > cat.out
[ "$rc" = 1 ] && grep -q "location chunk 0" err || fail "cat with a damaged location chunk: exit $rc, $(errtext)"

# verify names what is damaged
cp good.nwa named.nwa; flip_byte named.nwa $((boff + 20))
na verify named.nwa
expect 1 "verify, a block byte flipped"
grep -qi 'block' err || grep -qi 'block' out || fail "verify, a block byte flipped: no mention of the block: $(errtext)"
finish
