# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/arabic/ant-v1.1-jawharafm.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/arabic/ant-v1.1-jawharafm"
finish
