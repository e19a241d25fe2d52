# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/other-languages/bbc-news-en.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/other-languages/bbc-news-en"
finish
