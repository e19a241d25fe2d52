#!/usr/bin/env bash
# Fuzz smoke run: build the libFuzzer targets (tests/fuzz/build.sh), replay
# every saved regression input, then fuzz each target for FUZZ_SECONDS.
# Exits non-zero if a target fails to build, a regression input fails or
# fuzzing finds a crash, leak, sanitizer report or timeout.
#
# env: FUZZ_SECONDS   seconds per target (default 60)
#      FUZZ_BUILD_DIR build directory (default <repo>/build-fuzz)
#      FUZZ_TARGETS   targets to run (default: all four)
#      FUZZ_SRC_ROOT  passed to build.sh
#      FUZZ_SEED      libFuzzer seed (default 1: repeatable; 0 = random)
# Crash inputs land in $FUZZ_BUILD_DIR/artifacts/<target>/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
secs=${FUZZ_SECONDS:-60}
targets=(${FUZZ_TARGETS:-fuzz_reader fuzz_jsonl fuzz_roundtrip fuzz_text})

if ! "$here/build.sh" "$out"; then
    echo "smoke.sh: build failed" >&2
    exit 1
fi
out=$(cd "$out" && pwd)

max_len() {
    case $1 in
        fuzz_reader) echo 65536 ;;
        fuzz_jsonl) echo 4096 ;;
        *) echo 8192 ;;
    esac
}

fail=0
for t in "${targets[@]}"; do
    bin="$out/$t"
    arts="$out/artifacts/$t"
    corpus="$out/corpus/$t"
    mkdir -p "$arts" "$corpus"
    # 1. saved regression inputs: each must now run clean
    regs=()
    if [ -d "$here/regressions/$t" ]; then
        for f in "$here/regressions/$t"/*; do [ -f "$f" ] && regs+=("$f"); done
    fi
    if [ ${#regs[@]} -gt 0 ]; then
        if "$bin" -timeout=60 -rss_limit_mb=2560 "${regs[@]}" >"$out/$t.regressions.log" 2>&1; then
            echo "smoke.sh: $t: ${#regs[@]} regression inputs ok"
        else
            echo "smoke.sh: $t: a regression input FAILED (log: $out/$t.regressions.log)" >&2
            grep -E "SUMMARY|invariant failed|runtime error|Running:" "$out/$t.regressions.log" | tail -5 >&2
            fail=1
        fi
    fi
    # 2. fuzz for a while
    echo "smoke.sh: fuzzing $t for ${secs}s"
    # a fixed seed (FUZZ_SEED, default 1) makes the CI smoke run repeatable
    "$bin" -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=2560 \
        -dict="$here/newsarc.dict" -artifact_prefix="$arts/" -print_final_stats=1 \
        "$corpus" "$out/seeds/$t" >"$out/$t.fuzz.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.fuzz.log")
    if [ $rc -ne 0 ]; then
        echo "smoke.sh: $t: FAILED (exit $rc, log: $out/$t.fuzz.log)" >&2
        grep -E "SUMMARY|invariant failed|runtime error|Test unit written" "$out/$t.fuzz.log" | tail -5 >&2
        fail=1
    else
        echo "smoke.sh: $t: ok, ${execs:-?} executions"
    fi
done
exit $fail
