#!/usr/bin/env bash
# newsarc benchmark suite: newsarc against its peers, side by side, in one run.
#
# usage: tests/bench/run.sh [options] NEWSARC_BINARY [INPUT...]
#   INPUT            a directory of articles, or a .jsonl feed (one table each);
#                    FEED.jsonl.zst (.gz, .xz, .bz2) and tarballs of a folder
#                    (.tar, .tar.zst, .tgz, ...) are unpacked first, not timed
#   --quick          15 fetches, every step run once, no scaling table
#   --runs N         articles fetched for the fetch-one median (default 50)
#   --scale          also a scaling table (1x, 4x, 16x) for every .jsonl input
#   --synth N        also a synthetic feed of N articles (tests/bench/synth.sh),
#                    newsarc against the .jsonl.zst only
#   --synth-ascii N  also N synthetic articles written with non-ASCII as \uXXXX
#                    escapes (jq -ac, like Python's json.dumps default)
#   --no-zim         leave out the ZIM peer (zimwriterfs is the slowest packer)
#   --workdir DIR    scratch directory (default: a new one under $TMPDIR, removed)
#   --keep           keep the scratch directory
#   --bound PATH     the verify_bound program (default: BUILD/tests/verify_bound beside
#                    BUILD/tools/newsarc); gives verify's share of the decompress + BLAKE2b floor
# The markdown report goes to stdout (and WORKDIR/report.md), progress to stderr.
#
# Peers, all zstd level 3 (newsarc: -l 3 -T 2):
#   tar.zst    tar -cf - DIR | zstd -3 -T2 --long=27     (folders)
#   jsonl.zst  zstd -3 -T2 --long=27 FEED.jsonl           (feeds)
#   zst/file   zstd -3 of every article on its own (a feed is first split into one
#              file per line, not timed); size = sum of the .zst files
#   zim        zimwriterfs -J 2 -j of the same files (libzim's own zstd level and
#              2 MiB clusters, neither settable from zimwriterfs)
# Timings are wall clock on a warm page cache; RSS is GNU time's %M (for a
# pipeline: the largest single process). Needs bash >= 5, zstd, tar, awk, jq,
# b2sum, GNU time (Debian package 'time'), zim-tools for the ZIM peer.
# shellcheck disable=SC2016  # single-quoted code is run later by eval or bash -c
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quick=0 runs='' scale=0 synth=0 synth_ascii=0 zim=1 keep=0 workdir='' bound=''
usage() { sed -n '4,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --runs) runs=${2:?}; shift ;;
    --scale) scale=1 ;;
    --synth) synth=${2:?}; shift ;;
    --synth-ascii) synth_ascii=${2:?}; shift ;;
    --no-zim) zim=0 ;;
    --workdir) workdir=${2:?}; shift ;;
    --keep) keep=1 ;;
    --bound) bound=${2:?}; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option '$1'" >&2; usage ;;
    *) break ;;
  esac
  shift
done
[ $# -ge 1 ] || usage
NEWSARC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
[ -z "$bound" ] && bound=$(dirname "$NEWSARC")/../tests/verify_bound
[ -x "$bound" ] || { echo "run.sh: no verify_bound at '$bound': no verify/bound ratio" >&2; bound=''; }
inputs=("$@")
[ -z "$runs" ] && { [ $quick = 1 ] && runs=15 || runs=50; }
REPS=3
[ $quick = 1 ] && REPS=1
case $runs in '' | *[!0-9]* | 0) echo "run.sh: bad --runs" >&2; exit 2 ;; esac
case $synth in *[!0-9]*) echo "run.sh: bad --synth" >&2; exit 2 ;; esac
case $synth_ascii in *[!0-9]*) echo "run.sh: bad --synth-ascii" >&2; exit 2 ;; esac

die() { echo "run.sh: $*" >&2; exit 2; }
[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "needs bash >= 5 (EPOCHREALTIME)"
[ -x "$NEWSARC" ] || die "'$NEWSARC' is not executable"
for t in zstd tar awk jq b2sum; do command -v $t >/dev/null || die "'$t' not found"; done
TIME=/usr/bin/time
[ -x $TIME ] || die "GNU time not found at $TIME (Debian: apt-get install -y time)"
if [ $zim = 1 ] && ! command -v zimwriterfs >/dev/null; then
  echo "run.sh: zimwriterfs not found (Debian: apt-get install -y zim-tools); no ZIM peer" >&2
  zim=0
fi
[ ${#inputs[@]} -gt 0 ] || [ "$synth" != 0 ] || [ "$synth_ascii" != 0 ] || die "nothing to measure: give an INPUT or --synth N"

if [ -z "$workdir" ]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/newsarc-bench.XXXXXX") || die "cannot create a scratch directory"
else
  mkdir -p "$workdir" || die "cannot create '$workdir'"
  workdir=$(cd "$workdir" && pwd)
fi
W=$workdir
mkdir -p "$W/trash"
cleanup() { [ $keep = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
report=$W/report.md
: >"$report"
out() { printf '%s\n' "$*" | tee -a "$report"; }
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- measuring
# measure KEY CMD...: wall time (microseconds) in T[KEY], peak RSS (KiB) in M[KEY].
# Before every run: the shell code in $PREP (e.g. removing the previous output), then
# sync so that write-back of earlier steps does not land in this one. A command is
# run $REPS times (median time, largest RSS), fewer once its runs took 5 s in all:
# one slow run (a file system stall) is outvoted, and a slow tool runs once. A failing command
# leaves T[KEY]=FAIL and its stderr in $W/KEY.err.
declare -A T M
PREP=
# aside PATH: move a previous output out of the way (one rename) instead of
# deleting it; empty_trash deletes them after each measurement (outside the
# timed runs; keeping them longer filled the page cache and slowed the runs
# that write large outputs).  Deleting 10-16k files, or truncating a 600 MB
# output, just before a run made that run 2-6x slower on this VM (ext4
# mounted with discard), whatever the tool.
aside_n=0
aside() {
  if [ -e "$1" ]; then
    aside_n=$((aside_n + 1))
    mv "$1" "$W/trash/$aside_n"
  fi
}
empty_trash() {
  rm -rf "$W/trash"
  mkdir -p "$W/trash"
  sync
}

measure() {
  local key=$1 t0 t1 rc i rss=0 r
  local spent=0 written=0
  local -a times=()
  shift
  for ((i = 0; i < REPS; i++)); do
    [ -n "$PREP" ] && eval "$PREP"
    aside "$W/$key.out"
    sync
    t0=${EPOCHREALTIME/./}
    $TIME -f %M -o "$W/rss" "$@" >"$W/$key.out" 2>"$W/$key.err"
    rc=$?
    t1=${EPOCHREALTIME/./}
    if [ $rc -ne 0 ]; then
      T[$key]=FAIL M[$key]=FAIL
      log "FAILED ($rc): $key: $(tail -n 3 "$W/$key.err" | tr '\n' ' ')"
      PREP=
      return 1
    fi
    times+=("$((t1 - t0))")
    r=$(tail -n 1 "$W/rss")
    [ "$r" -gt "$rss" ] && rss=$r
    spent=$((spent + t1 - t0))
    written=$((written + $(stat -c %s "$W/$key.out")))
    # enough after 5 s, but at least two runs below 20 s: one stalled run is not the answer;
    # and enough after 1 GiB of standard output kept aside (m1's listing, 355 MB, repeated
    # for 5 s left gigabytes of dirty pages that slowed the later runs: 0.28 -> 0.8 s;
    # outputs written to files or directories of their own are not counted)
    [ "$spent" -ge 5000000 ] && { [ "$i" -ge 1 ] || [ "$spent" -ge 20000000 ]; } && break
    [ "$i" -ge 1 ] && [ "$written" -ge 1073741824 ] && break
  done
  T[$key]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  M[$key]=$rss
  aside "$W/$key.out"
  empty_trash
  PREP=
  return 0
}

# fetch-one timing without GNU time (process start of the tool itself included)
declare -A F
fetch_series() { # NAME FUNC: time FUNC for every sample key; median/p90 in F
  local name=$1 fn=$2 key t0 t1 fails=0
  : >"$W/fetch.$name"
  while IFS= read -r key; do
    t0=${EPOCHREALTIME/./}
    if ! $fn "$key" >/dev/null 2>>"$W/fetch.$name.err"; then fails=$((fails + 1)); fi
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0)) >>"$W/fetch.$name"
  done <"$W/sample"
  F[$name]=$(sort -n "$W/fetch.$name" | awk -v f=$fails '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          p = v[int(NR * 0.9 + 0.999)]; printf "%.1f|%.1f|%d", m / 1000, p / 1000, f }')
  # times of failed fetches are error paths, not fetches
  [ $fails = 0 ] || { F[$name]="FAIL|FAIL|$fails"; log "fetch $name: $fails of $runs fetches failed: $(head -n 2 "$W/fetch.$name.err" | tr '\n' ' ')"; }
}

sec() { if [ "${1:-FAIL}" = FAIL ]; then echo FAIL; else awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; fi; }
mib() { if [ "${1:-FAIL}" = FAIL ]; then echo FAIL; else awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; fi; }
ratio() { # A/B with 2 decimals, '-' if either is missing
  case "$1$2" in *FAIL* | *-*) echo - ; return ;; esac
  if [ -z "$1" ] || [ -z "$2" ]; then echo -; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else if (a / b < 0.1) printf "%.4f", a / b; else printf "%.2f", a / b }'
}
fsize() { stat -c %s "$1" 2>/dev/null || echo FAIL; }
tree_size() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

PNG=iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAOklEQVR42u3OQQ0AAAgEoItkJCMZ2RbOBxsBSPW8EiEhISEhISEhISEhISEhISEhISEhISEhISGhOwvL+SCXQNDfFQAAAABJRU5ErkJggg==
zim_stage_extras() { # DIR: the welcome page and 48x48 illustration zimwriterfs insists on
  echo "$PNG" | base64 -d >"$1/__bench_illustration.png"
  printf '<html><head><title>bench</title></head><body>benchmark</body></html>\n' >"$1/__bench_index.html"
}

# ---------------------------------------------------------------- tools
fetch_newsarc() { "$NEWSARC" cat "$A_NWA" "$1"; }
fetch_perfile() { zstd -dcq "$A_PF/$1.zst"; }
fetch_zim() { zimdump show --url="$1" "$A_ZIM"; }
# (zstd dies of SIGPIPE when tar or sed stop early: only the reader's status counts)
fetch_tar() { zstd -dcq "$A_TAR" 2>/dev/null | tar -xOf - --occurrence=1 "./$1"; return "${PIPESTATUS[1]}"; }
fetch_jsonl() { zstd -dcq "$A_JZ" 2>/dev/null | sed -n "$1{p;q}"; return "${PIPESTATUS[1]}"; }
# the selectors for one sample key (folder: the name; feed: the line number)
sel_newsarc() { if [ "$kind" = dir ]; then cat; else cat >"$W/sample.keys.map"; map_ids <"$W/sample.keys.map"; fi; }
sel_file() { if [ "$kind" = dir ]; then cat; else awk '{ printf "a/%07d.json\n", $1 }'; fi; }

# feed line numbers -> newsarc article ids: BLAKE2b-256 of the article bytes, which are
# the first string member among maintext, text, content, body, else the whole line
map_ids() {
  local n line
  declare -A lines=()
  awk 'NR == FNR { sub(/^I/, ""); want[$0] = 1; next } FNR in want { print FNR "\t" $0 }' - "$input" >"$W/sample.lines"
  while IFS=$'\t' read -r n line; do lines[$n]=$line; done <"$W/sample.lines"
  while read -r n; do
    n=${n#I}
    line=${lines[$n]}
    if printf '%s' "$line" | jq -e 'if type != "object" then false
        else [.maintext, .text, .content, .body] | map(select(type == "string")) | length > 0 end' >/dev/null 2>&1; then
      printf '%s' "$line" | jq -j '[.maintext, .text, .content, .body] | map(select(type == "string")) | .[0]'
    else
      printf '%s' "$line"
    fi | b2sum -l 256 | cut -c1-64
  done <"$W/sample.keys.map"
}

pick_sample() { # KIND INPUT -> $W/sample.keys (runs distinct keys, seeded)
  if [ "$1" = dir ]; then
    (cd "$2" && find . -type f -printf '%P\n') | sort
  else # (lines pack skipped as malformed are not in the archive: not picked)
    awk -v skip="$W/skipped.lines" 'BEGIN { while ((getline l < skip) > 0) bad[l] = 1 } NF && !(NR in bad) { print NR }' "$2"
  fi | awk -v k="$runs" 'BEGIN { srand(20240611) } { v[NR] = $0 }
       END { if (k > NR) k = NR
             for (i = 1; i <= k; i++) { j = i + int(rand() * (NR - i + 1)); t = v[i]; v[i] = v[j]; v[j] = t; print v[i] } }' \
    >"$W/sample.keys"
}

# ---------------------------------------------------------------- one input
# file_sums DIR: the regular files below DIR, each "b2sum  ./path", sorted by
# path (what pack takes from a folder: symbolic links and special files are
# left out with a warning, and empty directories hold no article)
file_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r b2sum); }

# bench_input LABEL INPUT PEERS   (PEERS: words among tar jsonl perfile zim)
bench_input() {
  local label=$1 peers=$3 p
  input=$2
  if [ -d "$input" ]; then kind=dir; else kind=jsonl; fi
  local in_bytes articles
  if [ $kind = dir ]; then
    in_bytes=$(tree_size "$input")
    articles=$(find "$input" -type f | wc -l)
  else
    in_bytes=$(fsize "$input")
    articles=$(awk 'NF' "$input" | wc -l)
  fi
  log "== $label: $articles articles, $in_bytes bytes"
  rm -rf "$W/x" && mkdir -p "$W/x"
  A_NWA=$W/x/a.nwa A_TAR=$W/x/a.tar.zst A_JZ=$W/x/a.jsonl.zst A_PF=$W/x/pf A_ZIM=$W/x/a.zim
  T=() M=() F=()
  declare -A S=()
  : >"$W/skipped.lines"

  # files for the per-file and ZIM peers (a feed: one file per line; not timed)
  local files=$input
  if [ $kind = jsonl ] && [[ " $peers " == *" perfile "* || " $peers " == *" zim "* ]]; then
    files=$W/x/lines
    mkdir -p "$files/a"
    awk -v d="$files/a" 'NF { f = sprintf("%s/%07d.json", d, NR); printf "%s", $0 > f; close(f) }' "$input"
  fi

  # ---- pack
  log "pack"
  PREP='aside "$A_NWA"'
  measure pack.newsarc "$NEWSARC" pack -q -l 3 -T 2 -o "$A_NWA" "$input" && S[newsarc]=$(fsize "$A_NWA")
  # a scraped feed often has a malformed line (a line cut short when the
  # scraper stopped): pack refuses it as it is, so the feed is measured
  # again with --skip-invalid, and the report says so
  if [ $kind = jsonl ] && [ "${T[pack.newsarc]}" = FAIL ] && grep -q "line [0-9][0-9]*:" "$W/pack.newsarc.err"; then
    local why
    why=$(grep -m 1 "line [0-9][0-9]*:" "$W/pack.newsarc.err" | sed 's/^newsarc pack: //' | cut -c 1-200)
    PREP='aside "$A_NWA"'
    if measure pack.newsarc "$NEWSARC" pack -q --skip-invalid -l 3 -T 2 -o "$A_NWA" "$input"; then
      S[newsarc]=$(fsize "$A_NWA")
      # (their numbers from the archive's record of them: a message may quote "line N:" from the line itself)
      "$NEWSARC" cat "$A_NWA" .newsarc/skipped.jsonl 2>/dev/null | jq -r .line >"$W/skipped.lines"
      S[packnote]="newsarc pack refused the feed as it is ($why); measured with --skip-invalid: $(wc -l <"$W/skipped.lines") malformed lines skipped (kept in the archive as .newsarc/skipped.jsonl), so the round trip below cannot give the same lines"
      log "pack: measured again with --skip-invalid ($why)"
    fi
  fi
  for p in $peers; do
    case $p in
      tar) PREP='aside "$A_TAR"'
        measure pack.tar bash -c 'tar -C "$1" --sort=name -cf - . | zstd -3 -T2 --long=27 -q -o "$2"' _ "$input" "$A_TAR" &&
        S[tar]=$(fsize "$A_TAR") ;;
      jsonl) PREP='aside "$A_JZ"'
        measure pack.jsonl zstd -3 -T2 --long=27 -q -o "$A_JZ" "$input" && S[jsonl]=$(fsize "$A_JZ") ;;
      perfile) PREP='aside "$A_PF"'
        measure pack.perfile bash -c 'cd "$1" && zstd -3 -q -r . --output-dir-mirror "$2"' _ "$files" "$A_PF" &&
        S[perfile]=$(tree_size "$A_PF") ;;
      zim)
        local stage=$W/x/zimsrc
        if [ $kind = dir ]; then cp -r "$input" "$stage"; else mv "$files" "$stage"; files=$stage; fi
        zim_stage_extras "$stage"
        PREP='aside "$A_ZIM"'
        measure pack.zim zimwriterfs -w __bench_index.html -I __bench_illustration.png -l mul -t bench \
          -d benchmark -c bench -p bench -j -J 2 "$stage" "$A_ZIM" && S[zim]=$(fsize "$A_ZIM")
        [ $kind = dir ] && aside "$stage"
        ;;
    esac
  done

  # ---- verify
  log "verify"
  measure verify.newsarc "$NEWSARC" verify -T 2 "$A_NWA"
  [ -n "$bound" ] && measure verify.bound "$bound" -T 2 "$A_NWA"
  for p in $peers; do
    case $p in
      tar) measure verify.tar zstd -tq "$A_TAR" ;;
      jsonl) measure verify.jsonl zstd -tq "$A_JZ" ;;
      perfile) measure verify.perfile zstd -tq -r "$A_PF" ;;
      zim) measure verify.zim zimcheck -C "$A_ZIM" ;;
    esac
  done

  # ---- list
  log "list"
  measure list.newsarc "$NEWSARC" list "$A_NWA"
  measure listjson.newsarc "$NEWSARC" list --json "$A_NWA"
  for p in $peers; do
    case $p in
      tar) measure list.tar bash -c 'zstd -dcq "$1" | tar -tf -' _ "$A_TAR" ;;
      jsonl) measure list.jsonl zstd -dcq "$A_JZ" ;;
      perfile) measure list.perfile find "$A_PF" -type f ;;
      zim) measure list.zim zimdump list "$A_ZIM" ;;
    esac
  done

  # ---- extract everything (outputs moved aside, see aside())
  log "extract"
  if [ $kind = dir ]; then
    PREP='aside "$W/x/out.newsarc"'
    measure extract.newsarc "$NEWSARC" extract -C "$W/x/out.newsarc" "$A_NWA"
    if [ "${T[extract.newsarc]}" != FAIL ] && ! cmp -s <(file_sums "$input") <(file_sums "$W/x/out.newsarc"); then
      log "WARNING: newsarc extract differs from the input"; S[roundtrip]=DIFFERS
    elif [ "${T[extract.newsarc]}" != FAIL ]; then
      S[roundtrip]="the same regular files (names and b2sum)"
      local nreg
      nreg=$(find "$input" ! -type f ! -type d | wc -l)
      [ "$nreg" -gt 0 ] && S[roundtrip]+="; the input's $nreg symbolic links and special files are not packed (pack says so)"
    fi
  else
    PREP='aside "$W/x/out.newsarc.jsonl"'
    measure extract.newsarc bash -c '"$1" extract --jsonl "$2" >"$3"' _ "$NEWSARC" "$A_NWA" "$W/x/out.newsarc.jsonl"
    if [ "${T[extract.newsarc]}" != FAIL ]; then
      if cmp -s <(awk 'NF' "$input" | sort) <(sort "$W/x/out.newsarc.jsonl"); then S[roundtrip]="same lines"
      elif cmp -s <(jq -ac . "$input" 2>/dev/null | sort) <(jq -ac . "$W/x/out.newsarc.jsonl" 2>/dev/null | sort); then
        S[roundtrip]="same objects (jq -ac), written as compact UTF-8 JSON"
      else S[roundtrip]="lines differ"; fi
    fi
  fi
  aside "$W/x/out.newsarc"
  aside "$W/x/out.newsarc.jsonl"
  for p in $peers; do
    case $p in
      tar) PREP='aside "$W/x/out.tar"; mkdir -p "$W/x/out.tar"'
        measure extract.tar bash -c 'zstd -dcq "$1" | tar -xf - -C "$2"' _ "$A_TAR" "$W/x/out.tar" ;;
      jsonl) PREP='aside "$W/x/out.jsonl"'
        measure extract.jsonl zstd -dq "$A_JZ" -o "$W/x/out.jsonl" ;;
      perfile) PREP='aside "$W/x/out.pf"'
        measure extract.perfile bash -c 'cd "$1" && zstd -dq -r . --output-dir-mirror "$2"' _ "$A_PF" "$W/x/out.pf" ;;
      zim) PREP='aside "$W/x/out.zim"'
        measure extract.zim zimdump dump --dir="$W/x/out.zim" "$A_ZIM" ;;
    esac
    aside "$W/x/out.$p"
  done
  empty_trash

  # ---- fetch one article, median of $runs random articles
  log "fetch one ($runs random articles)"
  pick_sample $kind "$input"
  sel_newsarc <"$W/sample.keys" >"$W/sample.newsarc"
  sel_file <"$W/sample.keys" >"$W/sample.file"
  # correctness of the selectors first (first 3 keys)
  local k ok=1
  while IFS= read -r k; do
    fetch_newsarc "$k" >/dev/null 2>&1 || { ok=0; log "newsarc cat '$k' failed"; }
  done < <(head -n 3 "$W/sample.newsarc")
  [ $ok = 1 ] || log "WARNING: newsarc selectors do not resolve; fetch numbers are error paths"
  # interleave the tools round by round to spread machine noise
  for p in newsarc $peers; do
    case $p in
      newsarc) cp "$W/sample.newsarc" "$W/sample" ;;
      tar | perfile | zim) cp "$W/sample.file" "$W/sample" ;;
      jsonl) cp "$W/sample.keys" "$W/sample" ;;
    esac
    if [ "${S[$p]:-FAIL}" = FAIL ]; then F[$p]="FAIL|FAIL|0"; continue; fi # (its pack failed: nothing to fetch from)
    fetch_series "$p" "fetch_$p"
  done
  # one measured fetch each for its peak RSS
  local k1 kf kl
  k1=$(head -n 1 "$W/sample.newsarc") kf=$(head -n 1 "$W/sample.file") kl=$(head -n 1 "$W/sample.keys")
  measure fetch.newsarc "$NEWSARC" cat "$A_NWA" "$k1"
  for p in $peers; do
    case $p in
      tar) measure fetch.tar bash -c 'zstd -dcq "$1" | tar -xOf - --occurrence=1 "./$2"' _ "$A_TAR" "$kf" ;;
      jsonl) measure fetch.jsonl bash -c 'zstd -dcq "$1" | sed -n "$2{p;q}"' _ "$A_JZ" "$kl" ;;
      perfile) measure fetch.perfile zstd -dcq "$A_PF/$kf.zst" ;;
      zim) measure fetch.zim zimdump show --url="$kf" "$A_ZIM" ;;
    esac
  done

  # ---- report
  local name
  out ""
  out "### $label"
  out ""
  out "Input: $kind, $articles articles, $in_bytes bytes. Fetch: median (p90) of $runs random articles, process start included. Warm page cache."
  [ -n "${S[packnote]:-}" ] && out "${S[packnote]}."
  [ -n "${S[roundtrip]:-}" ] && out "newsarc extract round trip: ${S[roundtrip]}."
  out ""
  out "| tool | archive bytes | input/archive | pack s | pack RSS MiB | extract-all s | extract RSS MiB | verify s | fetch one ms: median (p90) | fetch RSS MiB | list s | list RSS MiB |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for p in newsarc $peers; do
    case $p in
      newsarc) name="newsarc (-l 3 -T 2)" ;;
      tar) name="tar + zstd -3 -T2 --long=27" ;;
      jsonl) name="zstd -3 -T2 --long=27 .jsonl" ;;
      perfile) name="zstd -3 per article (sum)" ;;
      zim) name="ZIM (zimwriterfs -J 2 -j)" ;;
    esac
    local f=${F[$p]:-FAIL|FAIL|0} med p90 ratio_in=-
    med=${f%%|*} p90=${f#*|} p90=${p90%%|*}
    [ "${S[$p]:-FAIL}" != FAIL ] && ratio_in=$(ratio "$in_bytes" "${S[$p]}")
    out "| $name | ${S[$p]:-FAIL} | $ratio_in | $(sec "${T[pack.$p]:-FAIL}") | $(mib "${M[pack.$p]:-FAIL}") | $(sec "${T[extract.$p]:-FAIL}") | $(mib "${M[extract.$p]:-FAIL}") | $(sec "${T[verify.$p]:-FAIL}") | $med ($p90) | $(mib "${M[fetch.$p]:-FAIL}") | $(sec "${T[list.$p]:-FAIL}") | $(mib "${M[list.$p]:-FAIL}") |"
  done
  out "| newsarc list --json | | | | | | | | | | $(sec "${T[listjson.newsarc]:-FAIL}") | $(mib "${M[listjson.newsarc]:-FAIL}") |"
  if [ -n "$bound" ]; then
    out ""
    out "verify against its floor (tests/bench/verify_bound: only decompressing every block, META frame and the text information and BLAKE2b-hashing what verify hashes, 2 threads): $(sec "${T[verify.bound]:-FAIL}") s, so verify runs at $(ratio "${T[verify.bound]:-FAIL}" "${T[verify.newsarc]:-FAIL}") of it (target >= 0.80)."
  fi
  out ""
  out "newsarc / peer (below 1 = newsarc smaller or faster):"
  out ""
  out "| peer | size | pack time | pack RSS | extract time | verify time | fetch median | list time |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|"
  local fn=${F[newsarc]%%|*}
  for p in $peers; do
    local fp=${F[$p]:-FAIL}
    fp=${fp%%|*}
    out "| $p | $(ratio "${S[newsarc]:-FAIL}" "${S[$p]:-FAIL}") | $(ratio "${T[pack.newsarc]:-FAIL}" "${T[pack.$p]:-FAIL}") | $(ratio "${M[pack.newsarc]:-FAIL}" "${M[pack.$p]:-FAIL}") | $(ratio "${T[extract.newsarc]:-FAIL}" "${T[extract.$p]:-FAIL}") | $(ratio "${T[verify.newsarc]:-FAIL}" "${T[verify.$p]:-FAIL}") | $(ratio "$fn" "$fp") | $(ratio "${T[list.newsarc]:-FAIL}" "${T[list.$p]:-FAIL}") |"
  done
  rm -rf "$W/x"
  empty_trash
}

# ---------------------------------------------------------------- scaling
# scale_feed FEED K OUT: K copies of the feed, copy c's article texts (or, for objects
# stored whole, the objects) made distinct so that nothing is deduplicated
scale_feed() {
  awk -v k="$2" '
    NF { line[++n] = $0 }
    END {
      for (c = 1; c <= k; c++)
        for (i = 1; i <= n; i++) {
          s = line[i]
          if (c > 1) {
            if (match(s, /"(maintext|text|content|body)"[ \t]*:[ \t]*"/))
              s = substr(s, 1, RSTART + RLENGTH - 1) "copy " c ": " substr(s, RSTART + RLENGTH)
            else
              sub(/^[ \t]*\{/, "{\"bench_copy\":" c ",", s)
          }
          print s
        }
    }' "$1" >"$3"
}

bench_scale() { # LABEL FEED
  local label=$1 feed=$2 k
  out ""
  out "### Scaling: $label"
  out ""
  out "Copies of the feed with every copy's articles made distinct (a short prefix), so nothing deduplicates. zstd --long=27 still sees the near-copies inside its 128 MiB window; newsarc's 128 KiB blocks do not."
  out ""
  out "| scale | input bytes | articles | newsarc bytes | newsarc pack s | newsarc pack RSS MiB | newsarc cat ms (median of 15) | newsarc list --json s | jsonl.zst bytes | zstd pack s | zstd pack RSS MiB |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for k in 1 4 16; do
    mkdir -p "$W/s"
    local f=$W/s/feed.$k.jsonl
    scale_feed "$feed" $k "$f"
    log "scale ${k}x: $(fsize "$f") bytes"
    T=() M=() F=()
    local nb=FAIL jb=FAIL
    PREP='aside "$W/s/a.nwa"'
    measure sp.newsarc "$NEWSARC" pack -q -l 3 -T 2 -o "$W/s/a.nwa" "$f" && nb=$(fsize "$W/s/a.nwa")
    PREP='aside "$W/s/a.jsonl.zst"'
    measure sp.jsonl zstd -3 -T2 --long=27 -q -o "$W/s/a.jsonl.zst" "$f" && jb=$(fsize "$W/s/a.jsonl.zst")
    measure sl.newsarc "$NEWSARC" list --json "$W/s/a.nwa"
    local saved=$runs
    runs=15
    input=$f kind=jsonl A_NWA=$W/s/a.nwa
    pick_sample jsonl "$f"
    sel_newsarc <"$W/sample.keys" >"$W/sample"
    fetch_series scale fetch_newsarc
    runs=$saved
    out "| ${k}x | $(fsize "$f") | $(awk 'NF' "$f" | wc -l) | $nb | $(sec "${T[sp.newsarc]}") | $(mib "${M[sp.newsarc]}") | ${F[scale]%%|*} | $(sec "${T[sl.newsarc]}") | $jb | $(sec "${T[sp.jsonl]}") | $(mib "${M[sp.jsonl]}") |"
    rm -rf "$W/s"
    empty_trash
  done
}

# ---------------------------------------------------------------- main
t_start=${EPOCHREALTIME/./}
out "## newsarc benchmarks"
out ""
out "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo); $(uname -sr); load average at start $(cut -d' ' -f1-3 /proc/loadavg)."
out "Tools: $("$NEWSARC" --version 2>&1 | head -n 1) (binary sha256 $(sha256sum "$NEWSARC" | cut -c1-12)); zstd $(zstd -q --version 2>/dev/null || zstd --version | grep -o 'v[0-9.]*'); $(tar --version | head -n 1)$( [ $zim = 1 ] && echo "; zimwriterfs $(zimwriterfs --version 2>&1 | head -n 1 | awk '{ print $NF }')")."
out "Date: $(date -u +%Y-%m-%d). Mode: $([ $quick = 1 ] && echo quick || echo full), $runs fetches per tool."

zimpeer=
[ $zim = 1 ] && zimpeer=zim
# A corpus shipped compressed or as a tarball (FEED.jsonl.zst, .gz, .xz,
# .bz2; DIR.tar, .tar.zst, .tgz, ...) is unpacked into the scratch
# directory first, not timed, and measured as the feed or folder it holds:
# every tool, newsarc included, then starts from the same plain input.
unpacked() { # unpacked INPUT -> prints the path to measure, or nothing
  local in=$1 base dec=''
  base=$(basename "$in")
  case $base in
    *.zst | *.tzst) dec='zstd -dcq' ;;
    *.gz | *.tgz) dec='gzip -dc' ;;
    *.xz | *.txz) dec='xz -dc' ;;
    *.bz2 | *.tbz2) dec='bzip2 -dc' ;;
  esac
  case $base in
    *.tar | *.tar.* | *.tgz | *.tzst | *.txz | *.tbz2)
      local d=$W/in/${base%%.t*}
      rm -rf "$d" && mkdir -p "$d" || return 1
      if [ -n "$dec" ]; then $dec "$in" | tar -xf - -C "$d"; else tar -xf "$in" -C "$d"; fi || return 1
      # a tarball of one top folder: that folder
      if [ "$(find "$d" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ] && [ -d "$d"/* ]; then d=$(echo "$d"/*); fi
      echo "$d" ;;
    *)
      [ -n "$dec" ] || { echo "$in"; return 0; }
      mkdir -p "$W/in" || return 1
      local f=$W/in/${base%.*}
      $dec "$in" >"$f" || return 1
      echo "$f" ;;
  esac
}

for in in "${inputs[@]}"; do
  orig=$in
  if [ -f "$in" ]; then
    in=$(unpacked "$in") && [ -n "$in" ] || { log "skipping '$orig': could not unpack it"; continue; }
    [ "$in" != "$orig" ] && log "'$orig' unpacked to '$in' (not timed)"
  fi
  note=''
  [ "$in" != "$orig" ] && note=", from $(basename "$orig") unpacked first"
  # a feed under another name (data.json holding JSON Lines, as many datasets
  # ship): newsarc takes .jsonl and .ndjson as feeds, any other file as one
  # article, so it is given a .jsonl name (a hard link, else a copy: zstd
  # refuses symbolic links; not timed)
  if [ -f "$in" ] && [[ $in != *.jsonl && $in != *.ndjson ]]; then
    f=$W/in/$(basename "$in").jsonl
    mkdir -p "$W/in" && { ln -f "$in" "$f" 2>/dev/null || cp "$in" "$f"; } && in=$f && note+=", measured as JSON Lines"
  fi
  if [ -d "$in" ]; then
    bench_input "$(basename "$orig") (folder$note)" "$(cd "$in" && pwd)" "tar perfile $zimpeer"
  elif [ -f "$in" ]; then
    bench_input "$(basename "$orig") (JSONL feed$note)" "$(cd "$(dirname "$in")" && pwd)/$(basename "$in")" "jsonl perfile $zimpeer"
    [ $scale = 1 ] && [ $quick = 0 ] && bench_scale "$(basename "$orig")" "$in"
  else
    log "skipping '$in': not found"
  fi
  [ "$in" != "$orig" ] && rm -rf "$W/in"
done

if [ "$synth" != 0 ]; then
  log "generating a synthetic feed of $synth articles"
  t0=${EPOCHREALTIME/./}
  "$here/synth.sh" "$synth" "$W/synth.jsonl" || die "synth.sh failed"
  t1=${EPOCHREALTIME/./}
  log "generated $(fsize "$W/synth.jsonl") bytes in $(sec $((t1 - t0))) s"
  bench_input "synthetic feed, $synth articles (tests/bench/synth.sh)" "$W/synth.jsonl" "jsonl"
  rm -f "$W/synth.jsonl"
fi

if [ "$synth_ascii" != 0 ]; then
  log "generating a synthetic feed of $synth_ascii articles, non-ASCII escaped"
  "$here/synth.sh" "$synth_ascii" "$W/synth-src.jsonl" || die "synth.sh failed"
  jq -ac . "$W/synth-src.jsonl" > "$W/synth-ascii.jsonl" || die "jq failed"
  rm -f "$W/synth-src.jsonl"
  bench_input "synthetic feed, $synth_ascii articles, non-ASCII as \\uXXXX escapes (synth.sh, then jq -ac)" "$W/synth-ascii.jsonl" "jsonl"
  rm -f "$W/synth-ascii.jsonl"
fi

t_end=${EPOCHREALTIME/./}
out ""
out "Suite wall time: $(sec $((t_end - t_start))) s."
log "done in $(sec $((t_end - t_start))) s"
