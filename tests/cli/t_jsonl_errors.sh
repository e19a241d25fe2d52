# Bad JSONL: exit 1, message names the file and the line, no archive written
# (and an existing one left alone even with -f).
. "$NEWSARC_CLI_DIR/lib.sh"
J=$FIX/jsonl
cp "$J/broken.jsonl" "$J/notobject.jsonl" "$J/badutf8.jsonl" .
bad_line() { # FILE LINE WHAT
    na pack -o out.nwa "$1"
    expect 1 "$3 ($1)"
    expect_msg "$3"
    grep -qF "$1" err || fail "$3: message does not name '$1': $(errtext)"
    grep -qE "(^|[^0-9])$2([^0-9]|$)" err || fail "$3: message does not give line $2: $(errtext)"
    [ -e out.nwa ] && { fail "$3: archive written anyway"; rm -f out.nwa; }
    ls -A | grep -v -e '\.jsonl$' -e '^err' -e '^out$' -e '^\.log$' -e '^old\.nwa' | grep -q . && fail "$3: left files behind: $(ls -A | tr '\n' ' ')"
}
bad_line broken.jsonl 5 "malformed JSON at line 5"
bad_line notobject.jsonl 2 "a JSON array instead of an object at line 2"
bad_line badutf8.jsonl 2 "invalid UTF-8 in a string at line 2"

# with -f, an existing archive stays as it was
printf 'old archive bytes\n' > old.nwa; cp old.nwa old.nwa.orig
na pack -f -o old.nwa broken.jsonl
expect 1 "pack -f of a malformed JSONL over an existing file"
same old.nwa.orig old.nwa "pack -f that fails must not touch the existing OUT"

# from stdin: exit 1 and the line number
nax pack -o std.nwa - < broken.jsonl > /dev/null
expect 1 "malformed JSONL on stdin"
grep -qE "(^|[^0-9])5([^0-9]|$)" err || fail "malformed JSONL on stdin: message does not give line 5: $(errtext)"
[ -e std.nwa ] && fail "malformed JSONL on stdin: archive written anyway"

# -o - : nothing at all on stdout
nax pack -o - broken.jsonl > stdout.bin
expect 1 "pack -o - of a malformed JSONL"
[ -s stdout.bin ] && fail "pack -o - of a malformed JSONL wrote $(fsize stdout.bin) bytes to stdout"

# a malformed line in the second of two inputs: still nothing written
cp "$J/news.jsonl" good.jsonl
na pack -o two.nwa good.jsonl broken.jsonl
expect 1 "good.jsonl + broken.jsonl"
[ -e two.nwa ] && fail "good + broken JSONL: archive written anyway"
# --skip-invalid: the good lines are packed, each bad line is reported on stderr
# and in the archive as .newsarc/skipped.jsonl
printf '{"text":"good one"}\n{"text": bad}\n\n{"text":"good two"}\n[1]\n' > mixed.jsonl
na pack --skip-invalid -o s.nwa mixed.jsonl
expect 0 "pack --skip-invalid"
[ "$(grep -c 'skipped' err)" = 2 ] || fail "--skip-invalid: expected 2 'skipped' warnings: $(errtext)"
na cat s.nwa .newsarc/skipped.jsonl
expect 0 "cat .newsarc/skipped.jsonl"
[ "$(jq -r .line out | tr '\n' ' ')" = "2 5 " ] || fail "skipped report lines: $(cat out)"
na list --json s.nwa
[ "$(grep -c '"text_field"' out)" = 2 ] || fail "--skip-invalid: the two good lines are not both packed"
finish
