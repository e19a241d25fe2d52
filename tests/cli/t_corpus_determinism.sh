# Determinism on real data with a dictionary: CNN Arabic subset packed with
# -T1/-T2/-T3, from a copy created in another order with other mtimes, and
# under another locale/TZ: all the same bytes.
. "$NEWSARC_CLI_DIR/lib.sh"
src=$SHARED/corpus/arabic/ant-v2.1-cnn-arabic
[ -n "$SHARED" ] || skip "no shared dir given"
[ -d "$src" ] || skip "'$src' not present"
na pack -T 1 -o t1.nwa "$src"
expect 0 "pack -T 1" || finish
na info --json t1.nwa
info "$(jq -c '{articles, blocks, dict_size, ratio}' out)"
for t in 2 3; do
    na pack -T $t -o t$t.nwa "$src"
    expect 0 "pack -T $t" && same t1.nwa t$t.nwa "-T 1 vs -T $t"
done
# tar extracts in archive order: files (and their directories) are created in
# reverse name order; -m gives them the current time as mtime
mkdir copy
(cd "$src" && find . -type f | LC_ALL=C sort -r) | tar -cf - -C "$src" --no-recursion -T - | tar -xmf - -C copy
[ "$(find copy -type f | wc -l)" = "$(find "$src" -type f | wc -l)" ] || fail "copy incomplete"
LC_ALL=C TZ=Pacific/Chatham nax pack -o c.nwa copy
expect 0 "pack the copy" && same t1.nwa c.nwa "copy made in reverse order, other mtimes, LC_ALL=C, TZ=Pacific/Chatham"
finish
