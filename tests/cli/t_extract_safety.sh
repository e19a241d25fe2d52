# extract never overwrites without -f and never writes through a symlink
# planted at the destination (file or directory), even with -f.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
na pack -o a.nwa in
expect 0 "pack" || finish

# ---- existing file, no -f: refused, untouched
mkdir -p d1/dup && printf 'mine\n' > d1/dup/one.txt
na extract -C d1 a.nwa
expect 2 "extract over an existing file without -f"
expect_msg "extract over an existing file"
[ "$(cat d1/dup/one.txt)" = mine ] || fail "extract without -f overwrote d1/dup/one.txt"
na extract -f -C d1 a.nwa
expect 0 "extract -f over an existing file" && same_tree in d1 "extract -f"
# a second extract into a complete tree without -f: refused, still identical
na extract -C d1 a.nwa
expect 2 "extract again without -f"
same_tree in d1 "tree after a refused extract"

# ---- symlink to a file outside, at an article's path
printf 'outside\n' > outside.txt; cp outside.txt outside.orig
mkdir -p d2/dup && ln -s "$WORK/outside.txt" d2/dup/one.txt
na extract -C d2 a.nwa
[ "$rc" = 0 ] && fail "extract without -f onto a symlink succeeded"
same outside.orig outside.txt "symlink at destination (no -f): outside file"
na extract -f -C d2 a.nwa
same outside.orig outside.txt "symlink at destination with -f: outside file must not change"
if [ "$rc" = 0 ]; then
    [ -L d2/dup/one.txt ] && fail "extract -f succeeded but d2/dup/one.txt is still a symlink"
    same in/dup/one.txt d2/dup/one.txt "extract -f replacing a symlink"
fi
# relative symlink and a dangling one
printf 'outside\n' > outside2.txt
mkdir -p d3/Case && ln -s ../../outside2.txt d3/Case/A.txt && ln -s "$WORK/not-there.txt" d3/Case/a.txt
na extract -f -C d3 a.nwa
[ "$(cat outside2.txt)" = outside ] || fail "extract -f wrote through a relative symlink"
[ -e not-there.txt ] && fail "extract -f created the target of a dangling symlink"

# ---- symlink to a directory outside, at a directory of the tree
mkdir outdir
mkdir d4 && ln -s "$WORK/outdir" d4/dup
na extract -f -C d4 a.nwa
[ -z "$(ls -A outdir)" ] || fail "extract -f wrote into a symlinked directory: outdir has $(ls -A outdir | tr '\n' ' ')"
mkdir -p d5/a/b && ln -s "$WORK/outdir" d5/a/b/c
na extract -f -C d5 a.nwa
[ -z "$(ls -A outdir)" ] || fail "extract -f wrote through a symlinked directory deeper in the path (a/b/c)"

# ---- the JSONL case: DIR/<id> is a symlink
cp "$FIX/jsonl/news.jsonl" news.jsonl
na pack -o j.nwa news.jsonl
id=$(printf '%s' 'last line has no newline' | b2sum -l 256 | cut -d' ' -f1)
mkdir d6 && ln -s "$WORK/outside.txt" "d6/$id"
na extract -f -C d6 j.nwa
same outside.orig outside.txt "symlink at DIR/<id> (JSONL entry) with -f"

# ---- a directory where a file goes: -f must not delete it
mkdir -p d7/empty.txt && printf 'keep\n' > d7/empty.txt/keep
na extract -f -C d7 a.nwa
[ "$rc" = 0 ] && fail "extract -f over a directory in the way succeeded"
[ "$rc" -le 2 ] || fail "extract -f over a directory in the way: exit $rc"
[ "$(cat d7/empty.txt/keep 2>/dev/null)" = keep ] || fail "extract -f deleted a directory that was in the way"

# ---- extract to a DIR that does not exist yet, and -C pointing at a file
na extract -C new a.nwa
expect 0 "extract -C into a missing directory" && same_tree in new "extract into a new directory"
printf 'x' > afile
na extract -C afile a.nwa
expect 2 "extract -C onto a regular file"
finish
