# Corpus round trip: pack, verify, extract, diff -r of SHARED/corpus/arabic/ant-v2.1-cnn-arabic.
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/corpus/arabic/ant-v2.1-cnn-arabic"
finish
