#!/usr/bin/env bash
# Build the libFuzzer targets of tests/fuzz with clang, ASan and UBSan,
# compiling format/*.c and lib/*.c directly (no CMake involved).
#
# usage: tests/fuzz/build.sh [OUTDIR]
#   OUTDIR   default: $FUZZ_BUILD_DIR or <repo>/build-fuzz
# env:     CC (default: clang, else clang-14), FUZZ_CFLAGS (extra flags),
#          FUZZ_SRC_ROOT: take format/ and lib/ from another tree (e.g. an
#          export of a commit: git archive HEAD | tar -x -C /tmp/snap)
# Output:  OUTDIR/fuzz_reader, OUTDIR/fuzz_jsonl, OUTDIR/fuzz_roundtrip, OUTDIR/fuzz_text and
#          seed corpora OUTDIR/seeds/<target>/ (spec/vectors copied, plus the
#          small committed seeds of tests/fuzz/seeds/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src_root=$(cd "${FUZZ_SRC_ROOT:-$root}" && pwd)
out=${1:-${FUZZ_BUILD_DIR:-$root/build-fuzz}}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

if [ -z "${CC:-}" ]; then
    if command -v clang >/dev/null 2>&1; then CC=clang
    elif command -v clang-14 >/dev/null 2>&1; then CC=clang-14
    else echo "build.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; fi
fi
deps="libzstd libsodium jansson icu-uc icu-i18n"
dep_cflags=$(pkg-config --cflags $deps)
dep_libs=$(pkg-config --libs $deps)

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
common="-std=c17 -g -O1 $san -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Wno-unused-parameter
        -I$src_root/lib -I$src_root/format $dep_cflags ${FUZZ_CFLAGS:-}"

# Library objects: every format/*.c and lib/*.c; a file that does not
# compile on its own (work in progress, extra dependencies) is left out.
objs=()
skipped=()
for src in "$src_root"/format/*.c "$src_root"/lib/*.c; do
    obj="$out/obj/$(basename "$(dirname "$src")")_$(basename "${src%.c}").o"
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ "$here/build.sh" -nt "$obj" ] ||
       [ -n "$(find "$src_root/lib" "$src_root/format" -name '*.h' -newer "$obj" -print -quit)" ] ||
       [ "$(cat "$obj.src" 2>/dev/null)" != "$src" ]; then
        # shellcheck disable=SC2086
        if ! $CC $common -fsanitize=fuzzer-no-link -c "$src" -o "$obj" 2>"$obj.log"; then
            rm -f "$obj"
            skipped+=("${src#"$src_root"/}")
            continue
        fi
        echo "$src" >"$obj.src"
    fi
    objs+=("$obj")
done
for s in ${skipped[@]+"${skipped[@]}"}; do
    echo "build.sh: warning: $s does not compile standalone, left out (see $out/obj/*.log)" >&2
done

targets=(fuzz_reader fuzz_jsonl fuzz_roundtrip fuzz_text)
failed=()
# fuzz_reader's custom mutator, built without coverage instrumentation (its
# own branches would only distract the fuzzer)
# shellcheck disable=SC2086
if ! $CC $common -c "$here/archive_mutator.c" -o "$out/obj/archive_mutator.o" 2>"$out/obj/archive_mutator.log"; then
    echo "build.sh: error: archive_mutator.c does not build (see $out/obj/archive_mutator.log)" >&2
    exit 1
fi
for t in "${targets[@]}"; do
    extra=()
    [ "$t" = fuzz_reader ] && extra=("$out/obj/archive_mutator.o")
    # shellcheck disable=SC2086
    if ! $CC $common -fsanitize=fuzzer "$here/$t.c" "${extra[@]}" "${objs[@]}" $dep_libs -lpthread -o "$out/$t.new" 2>"$out/$t.log"; then
        echo "build.sh: error: $t does not build (see $out/$t.log)" >&2
        rm -f "$out/$t.new"
        failed+=("$t")
        continue
    fi
    mv -f "$out/$t.new" "$out/$t"
done

# Seed corpora, rebuilt each time (cheap; large inputs are never committed).
rm -rf "$out/seeds"
for t in "${targets[@]}"; do mkdir -p "$out/seeds/$t"; done
cp "$root"/spec/vectors/*.nwa "$out/seeds/fuzz_reader/" 2>/dev/null || true
for t in "${targets[@]}"; do
    if [ -d "$here/seeds/$t" ]; then cp "$here/seeds/$t"/* "$out/seeds/$t/" 2>/dev/null || true; fi
    if [ -d "$here/regressions/$t" ]; then cp "$here/regressions/$t"/* "$out/seeds/$t/" 2>/dev/null || true; fi
done
# the text fixtures of the test suite, as UTF-8 (option byte 0) and as given
for f in "$root"/tests/fixtures/text/*.txt; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .txt)
    { printf '\000'; head -c 6000 "$f"; } >"$out/seeds/fuzz_text/utf8-$b"
    { printf '\007'; head -c 6000 "$f"; } >"$out/seeds/fuzz_text/legacy-$b"
done
# JSON Lines fixtures of the test suite: whole files and single lines
for f in "$root"/tests/fixtures/*.jsonl "$root"/tests/fixtures/jsonl/*.jsonl; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .jsonl)
    cp "$f" "$out/seeds/fuzz_jsonl/fixture-$b"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "build.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "build.sh: built ${targets[*]} in $out"
