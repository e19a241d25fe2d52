#!/usr/bin/env bash
# synth.sh N OUT.jsonl [SEED]
# Writes N deterministic synthetic news articles as JSON Lines (see synth.c).
# Words come from the development corpus (Arabic from ant-v1.1-jawharafm, English
# from bbc-news-en: the 4000 most frequent words of each, one group per language);
# set SYNTH_CORPUS to another copy of the corpus, or SYNTH_CORPUS=none for the
# built-in syllable words. Same N, SEED and corpus -> byte-identical output.
# The compiled generator and the word list are cached in $BENCH_CACHE
# (default: ${XDG_CACHE_HOME:-$HOME/.cache}/newsarc-bench).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: synth.sh N OUT.jsonl [SEED]" >&2
  exit 2
fi
n=$1
out=$2
seed=${3:-20240611}
case $n in '' | *[!0-9]*) echo "synth.sh: bad count '$n'" >&2; exit 2 ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsarc-bench}
corpus=${SYNTH_CORPUS:-/work/shared/corpus}
mkdir -p "$cache"
export LC_ALL=C

gen=$cache/synth
if [ ! -x "$gen" ] || [ "$here/synth.c" -nt "$gen" ]; then
  ${CC:-cc} -std=c17 -O2 -Wall -Wextra -Wpedantic -o "$gen.tmp" "$here/synth.c"
  mv "$gen.tmp" "$gen"
fi

# The word list of one group: the 4000 most frequent words of the given files
# (markup, ASCII punctuation and digits dropped; ties broken bytewise).
top_words() {
  awk -v keep="$1" '
    /^<(DOCNO|URL|SRC|CAT|TIME|AUTHOR)>/ { next }
    {
      gsub(/<[^>]*>/, " ")
      gsub(/\xd8\x8c|\xd8\x9b|\xd8\x9f|\xc2\xab|\xc2\xbb|\xe2\x80\x9c|\xe2\x80\x9d|\xe2\x80\x93|\xe2\x80\x99|\xe2\x80[\x8b-\x8f]|\xc2\xa0/, " ")
      gsub(/[\001-\040!-\100\133-\140\173-\177]+/, " ")
      for (i = 1; i <= NF; i++) {
        w = $i
        if (length(w) >= 2 && length(w) <= 40 && w ~ keep) count[(w ~ /^[A-Z][a-z]/) ? tolower(w) : w]++
      }
    }
    END { for (w in count) print count[w] "\t" w }' |
    sort -t "$(printf '\t')" -k1,1nr -k2,2 | awk -F "\t" 'NR <= 4000 { print $2 }'
}

words=none
if [ "$corpus" != none ]; then
  ar=$corpus/arabic/ant-v1.1-jawharafm
  en=$corpus/other-languages/bbc-news-en
  if [ -d "$ar" ] && [ -d "$en" ]; then
    words=$cache/words.txt
    stamp=$(printf '%s\n' "$ar" "$en" "$(sha256sum "$0" | cut -c1-16)" | sha256sum | cut -c1-16)
    if [ ! -s "$words" ] || [ "$(cat "$words.src" 2>/dev/null)" != "$stamp" ]; then
      {
        find "$ar" -type f -name '*.txt' -print0 | sort -z | xargs -0 cat | top_words '^[\200-\377]+$'
        echo
        find "$en" -type f -name '*.txt' -print0 | sort -z | xargs -0 cat | top_words '^[A-Za-z]+$'
      } >"$words.tmp"
      mv "$words.tmp" "$words"
      echo "$stamp" >"$words.src"
    fi
  else
    echo "synth.sh: corpus '$corpus' not found, using built-in words" >&2
  fi
fi

if [ "$words" = none ]; then
  "$gen" "$n" "$seed" >"$out"
else
  "$gen" "$n" "$seed" "$words" >"$out"
fi
