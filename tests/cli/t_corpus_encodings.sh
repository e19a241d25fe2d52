# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/encodings.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/encodings"
finish
