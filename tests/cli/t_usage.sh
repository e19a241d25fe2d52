# Top-level usage, help, version and exit codes of the other commands.
. "$NEWSARC_CLI_DIR/lib.sh"
na --version
expect 0 "--version" && grep -q '^newsarc ' out || fail "--version: output does not start with 'newsarc ': $(head -c 100 out)"
na help
expect 0 "help"
for c in pack list cat extract verify info; do
    na $c -h
    expect 0 "$c -h"
    [ -s out ] || [ -s err ] || fail "$c -h: no help text"
    na help $c
    expect 0 "help $c"
done
na
expect 2 "no command"
na frobnicate
expect 2 "unknown command"
expect_msg "unknown command"
for c in list cat extract verify info; do
    na $c
    expect 2 "$c without arguments"
    na $c --bogus-option x.nwa
    expect 2 "$c --bogus-option"
    na $c does-not-exist.nwa $( [ $c = cat ] && echo sel )
    expect 2 "$c of a missing archive"
    grep -qF "'does-not-exist.nwa'" err || fail "$c of a missing archive: message does not name it in single quotes: $(errtext)"
done
# an existing file that is not an archive is a data problem
printf 'this is not an archive\n' > plain.txt
: > empty.nwa
for c in list verify info; do
    na $c plain.txt
    expect 1 "$c of a text file"
    na $c empty.nwa
    expect 1 "$c of an empty file"
done
mkdir d.nwa
na verify d.nwa
[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "verify of a directory: exit $rc"
finish
