# A CLI round trip is valgrind-clean: no invalid reads or writes, no use of
# uninitialised bytes (also in what is written to the archive), no leaks.
. "$NEWSARC_CLI_DIR/lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
ldd "$NEWSARC" 2>/dev/null | grep -q 'libasan' && skip "sanitizer build (valgrind cannot run it)"
cp -a "$FIX/tree" in
cp "$FIX/jsonl/news.jsonl" news.jsonl
# memcheck does not see the kernel fill buffers through io_uring (pack's
# second reading of JSONL lines): it would call them uninitialised
export NEWSARC_NO_IO_URING=1
vg() { # vg WHAT ARGS...: run newsarc under valgrind; errors give exit 99
    local what=$1; shift
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --track-fds=no "$NEWSARC" "$@" > vg.out 2> vg.err
    local rc=$?
    [ $rc -eq 99 ] && fail "$what: valgrind errors: $(grep -m5 '==' vg.err | tr '\n' ' ' | head -c 600)"
    return $rc
}
vg "pack tree" pack -q -T 2 -o a.nwa in || fail "pack under valgrind failed"
vg "pack jsonl" pack -q -o j.nwa news.jsonl || fail "pack jsonl under valgrind failed"
zstd -q news.jsonl -o news.jsonl.zst
vg "pack jsonl.zst" pack -q -o z.nwa news.jsonl.zst || fail "pack jsonl.zst under valgrind failed"
same j.nwa z.nwa "pack of the .jsonl.zst under valgrind"
{ head -n 2 news.jsonl | gzip -c; tail -n +3 news.jsonl | gzip -c; } > news.jsonl.gz # two members
vg "pack jsonl.gz" pack -q -o g.nwa news.jsonl.gz || fail "pack jsonl.gz under valgrind failed"
same j.nwa g.nwa "pack of the .jsonl.gz under valgrind"
head -c -5 news.jsonl.gz > cut.jsonl.gz
vg "pack of a truncated jsonl.gz" pack -q -o c.nwa cut.jsonl.gz
[ $? -eq 1 ] || fail "pack of a truncated .jsonl.gz under valgrind: not exit 1"
vg "verify" verify a.nwa || fail "verify under valgrind failed"
vg "list --json" list --json j.nwa || fail "list under valgrind failed"
vg "cat" cat a.nwa "$(jq -r .id < <("$NEWSARC" list --json a.nwa | head -n1))" || fail "cat under valgrind failed"
vg "extract" extract -C x a.nwa || fail "extract under valgrind failed"
diff -r in x > /dev/null || fail "extract under valgrind: tree differs"
vg "extract --jsonl" extract --jsonl j.nwa || fail "extract --jsonl under valgrind failed"
vg "dups" dups --json a.nwa || fail "dups under valgrind failed"
finish
