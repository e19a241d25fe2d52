#!/bin/bash
# CLI end-to-end tests for newsarc.
#   bash tests/cli/run.sh NEWSARC_BINARY [SHARED_DIR] [TEST...]
# Runs every tests/cli/t_*.sh (or only the named ones, e.g. t_tree or t_tree.sh),
# each in its own temporary directory, prints "ok NAME" or "FAIL NAME: reason"
# per test (details indented below a failure), then "N passed, N failed".
# Exit status: 0 if all passed, 1 otherwise, 2 on usage error.
# A test that cannot run (e.g. no SHARED_DIR) prints "ok NAME # skip: why".
# Environment: NEWSARC_TEST_KEEP=1 keeps the temp dirs; NEWSARC_TEST_TIMEOUT
# (seconds, default 300) limits each newsarc invocation.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 NEWSARC_BINARY [SHARED_DIR] [TEST...]" >&2
    exit 2
fi
bin=$1; shift
shared=
if [ $# -ge 1 ]; then shared=$1; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if [ ! -x "$bin" ]; then
    echo "FAIL setup: '$bin' is not an executable"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ -n "$shared" ] && [ ! -d "$shared" ]; then shared=; fi
if [ -n "$shared" ]; then shared=$(cd "$shared" && pwd); fi
for tool in jq b2sum zstd od dd cmp diff mktemp timeout; do
    command -v $tool >/dev/null 2>&1 || { echo "FAIL setup: '$tool' not found"; echo "0 passed, 1 failed"; exit 1; }
done

tests=()
if [ $# -gt 0 ]; then
    for t in "$@"; do tests+=("$here/${t%.sh}.sh"); done
else
    for t in "$here"/t_*.sh; do tests+=("$t"); done
fi

pass=0 failn=0 start=$SECONDS
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    if [ ! -f "$t" ]; then echo "FAIL $name: no such test"; failn=$((failn + 1)); continue; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/newsarc-cli.$name.XXXXXX")
    t0=$SECONDS
    (cd "$work" && NEWSARC=$bin NEWSARC_SHARED=$shared NEWSARC_CLI_DIR=$here \
        NEWSARC_FIXTURES=$here/../fixtures WORK=$work bash "$t") > "$work/.log" 2>&1 < /dev/null
    rc=$?
    dt=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then
        echo "ok $name (${dt}s)"; pass=$((pass + 1))
    elif [ $rc -eq 77 ]; then
        echo "ok $name # skip: $(grep -m1 '^SKIP: ' "$work/.log" | sed 's/^SKIP: //')"; pass=$((pass + 1))
    else
        reason=$(grep -m1 '^FAIL: ' "$work/.log" | sed 's/^FAIL: //')
        [ -n "$reason" ] || reason="exit status $rc"
        nf=$(grep -c '^FAIL: ' "$work/.log")
        [ "$nf" -gt 1 ] && reason="$reason (+$((nf - 1)) more)"
        echo "FAIL $name: $reason"
        sed 's/^/    /' "$work/.log" | head -n 80
        failn=$((failn + 1))
    fi
    if [ "${NEWSARC_TEST_KEEP:-0}" = 1 ]; then echo "    (kept $work)"; else chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"; fi
done
echo "# total time $((SECONDS - start))s"
echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
