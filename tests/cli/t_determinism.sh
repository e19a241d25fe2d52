# The archive bytes depend only on the content: not on input order, mtimes,
# creation order, cwd, locale, TZ, thread count or output to a pipe.
. "$NEWSARC_CLI_DIR/lib.sh"
mkdir -p src && cp -a "$FIX/tree" src/tree && cp "$FIX/jsonl/news.jsonl" src/news.jsonl
# small blocks so there are several blocks (and threads have work to share)
P="--block-size 1024"

na pack $P -o a1.nwa src/tree src/news.jsonl
expect 0 "pack tree + news.jsonl" || finish
na info --json a1.nwa
info "blocks: $(jq .blocks out)"
[ "$(jq .blocks out)" -ge 3 ] || fail "--block-size 1024 gave $(jq .blocks out) blocks, expected several"

na pack $P -o a2.nwa src/tree src/news.jsonl
expect 0 "pack again" && same a1.nwa a2.nwa "same input packed twice"

na pack $P -o a3.nwa src/news.jsonl src/tree
expect 0 "pack, inputs in the other order" && same a1.nwa a3.nwa "INPUT order swapped"

# pass 2 reading the lines again from the file (io_uring where the build has
# it, else pread) instead of from its mapping (the default for feeds up to 1 GiB),
# and the files of a folder again instead of pass 1's bytes (kept up to 64 MiB)
export NEWSARC_NO_MMAP=1 NEWSARC_KEEP_BUDGET=0
na pack $P -o a3m.nwa src/tree src/news.jsonl
expect 0 "pack with NEWSARC_NO_MMAP and NEWSARC_KEEP_BUDGET=0" && same a1.nwa a3m.nwa "read again instead of mapped or kept from pass 1"
export NEWSARC_NO_IO_URING=1
na pack $P -o a3p.nwa src/tree src/news.jsonl
unset NEWSARC_NO_IO_URING NEWSARC_NO_MMAP NEWSARC_KEEP_BUDGET
expect 0 "pack with NEWSARC_NO_IO_URING" && same a1.nwa a3p.nwa "pread instead of io_uring"

# a folder of 1,100 files (three batches of pass 1): all kept for pass 2, the
# first batch kept and then released when the second would not fit, none kept
mkdir -p many/a many/b
for i in $(seq 1 1100); do printf 'article %d: %s\n' "$i" "$(printf '%*s' $((i % 97 + 20)) '' | tr ' ' x)" >"many/$((i % 2 ? 1 : 0))$i.txt"; done
mv many/1*.txt many/a/ && mv many/0*.txt many/b/
na pack $P -o k1.nwa many
expect 0 "pack of 1,100 files"
NEWSARC_KEEP_BUDGET=60000 na pack $P -o k2.nwa many
expect 0 "pack of 1,100 files, keeping released" && same k1.nwa k2.nwa "first batch kept, then released"
NEWSARC_KEEP_BUDGET=0 na pack $P -o k3.nwa many
expect 0 "pack of 1,100 files, none kept" && same k1.nwa k3.nwa "every file read again"

# JSONL lines reversed (same file name in another directory)
# (awk 1 adds the newline the fixture's last line lacks, so tac glues nothing)
mkdir rev && awk 1 src/news.jsonl | tac > rev/news.jsonl
na pack $P -o a4.nwa src/tree rev/news.jsonl
expect 0 "pack reversed JSONL" && same a1.nwa a4.nwa "JSONL lines in reverse order"

# the tree recreated elsewhere: files created in reverse order, other mtimes
mkdir -p copy/tree
n=0
tree_files src/tree | LC_ALL=C sort -r | while IFS= read -r f; do
    n=$((n + 1))
    mkdir -p "copy/tree/$(dirname "$f")"
    cat "src/tree/$f" > "copy/tree/$f"
    touch -d "@$((1000000000 + n * 86400 * 37))" "copy/tree/$f"
done
find copy/tree -type d -exec touch -d '2001-09-09 01:46:40' {} +
cp src/news.jsonl copy/news.jsonl && touch -d '1999-12-31 23:59:59' copy/news.jsonl
na pack $P -o a5.nwa copy/tree copy/news.jsonl
expect 0 "pack the recreated tree" && same a1.nwa a5.nwa "tree recreated in another order with other mtimes"

# cwd and absolute paths
mkdir elsewhere
(cd elsewhere && nax pack $P -o "$WORK/a6.nwa" "$WORK/src/tree" "$WORK/src/news.jsonl"; echo $rc > ../rc6)
[ "$(cat rc6)" = 0 ] && same a1.nwa a6.nwa "other cwd, absolute paths"
(cd src/tree && nax pack $P -o "$WORK/a7.nwa" . ../news.jsonl; echo $rc > ../../rc7)
[ "$(cat rc7)" = 0 ] && same a1.nwa a7.nwa "directory given as '.'"

# locale and time zone
LC_ALL=C TZ=Asia/Tehran nax pack $P -o a8.nwa src/tree src/news.jsonl
expect 0 "pack LC_ALL=C TZ=Asia/Tehran" && same a1.nwa a8.nwa "LC_ALL=C TZ=Asia/Tehran"
(unset LC_ALL; LANG=fa_IR.UTF-8 LC_CTYPE=C.UTF-8 TZ=America/St_Johns nax pack $P -o a9.nwa src/tree src/news.jsonl; echo $rc > rc9)
rc=$(cat rc9)
expect 0 "pack LANG=fa_IR.UTF-8 TZ=America/St_Johns" && same a1.nwa a9.nwa "LANG=fa_IR.UTF-8 TZ=America/St_Johns"

# threads
for t in 1 2 3 8; do
    na pack $P -T $t -o t$t.nwa src/tree src/news.jsonl
    expect 0 "pack -T $t" && same a1.nwa t$t.nwa "-T $t"
done
na pack -T 1 -o d1.nwa src/tree src/news.jsonl
na pack -T 2 -o d2.nwa src/tree src/news.jsonl
expect 0 "pack -T 2 default block size" && same d1.nwa d2.nwa "-T1 vs -T2 (default block size)"

# -o - writes the same bytes to stdout
nax pack $P -o - src/tree src/news.jsonl > stdout.nwa
expect 0 "pack -o -" && same a1.nwa stdout.nwa "-o - vs -o FILE"
nax pack $P -o - src/tree src/news.jsonl | cat > pipe.nwa
same a1.nwa pipe.nwa "-o - into a pipe vs -o FILE"
[ -e ./- ] && fail "-o - created a file named '-'"
finish
