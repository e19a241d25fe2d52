# pack refusals: existing OUT without -f, missing input, empty directory, bad options.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in

printf 'precious\n' > out.nwa; cp out.nwa out.orig
na pack -o out.nwa in
expect 2 "pack onto an existing OUT without -f"
expect_msg "existing OUT"
grep -qF "'out.nwa'" err || fail "existing OUT: message does not name 'out.nwa' in single quotes: $(errtext)"
same out.orig out.nwa "existing OUT without -f must stay unchanged"
na pack -f -o out.nwa in
expect 0 "pack -f onto an existing OUT"
na verify out.nwa
expect 0 "verify after pack -f"

# OUT is a directory / in a missing directory
mkdir outdir
na pack -f -o outdir in
[ "$rc" = 2 ] || fail "pack -o DIRECTORY: exit $rc, expected 2"
[ -d outdir ] || fail "pack -o DIRECTORY replaced the directory"
na pack -o no/such/dir/x.nwa in
expect 2 "pack -o into a missing directory"

# missing input
na pack -o m.nwa does-not-exist
expect 2 "pack of a nonexistent input"
expect_msg "nonexistent input"
grep -qF "does-not-exist" err || fail "nonexistent input: message does not name it: $(errtext)"
[ -e m.nwa ] && fail "nonexistent input: archive written anyway"
na pack -o m2.nwa in does-not-exist
expect 2 "pack of a tree plus a nonexistent input"
[ -e m2.nwa ] && fail "tree + nonexistent input: archive written anyway"

# empty input directory (and one holding only empty directories)
mkdir -p empty emptier/a/b
na pack -o e.nwa empty
[ "$rc" != 0 ] || fail "pack of an empty directory succeeded"
expect_msg "empty input directory"
[ -e e.nwa ] && fail "empty input directory: archive written anyway"
na pack -o e2.nwa emptier
[ "$rc" != 0 ] || fail "pack of a directory with only empty directories succeeded"
# empty JSONL / only blank lines
: > empty.jsonl; printf '\n\n' > blank.jsonl
na pack -o e3.nwa empty.jsonl
[ "$rc" != 0 ] || fail "pack of an empty .jsonl succeeded"
[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "pack of an empty .jsonl: exit $rc"
na pack -o e4.nwa blank.jsonl
[ "$rc" != 0 ] || fail "pack of a .jsonl with only blank lines succeeded"

# usage errors
na pack in
expect 2 "pack without -o"
na pack -o u.nwa
expect 2 "pack without INPUT"
na pack --no-such-option -o u.nwa in
expect 2 "pack --no-such-option"
na pack -l 99 -o u.nwa in
expect 2 "pack -l 99"
na pack -T 0x -o u.nwa in
expect 2 "pack -T 0x"
na pack --block-size abc -o u.nwa in
expect 2 "pack --block-size abc"
[ -e u.nwa ] && fail "usage errors: an archive was written"
finish
