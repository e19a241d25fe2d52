# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/html.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/html"
finish
