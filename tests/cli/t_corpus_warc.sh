# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/warc.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/warc"
finish
