# Round trip of SHARED/seeds; also each seed packed alone (single-file input).
. "$NEWSARC_CLI_DIR/lib.sh"
corpus_roundtrip "$SHARED/seeds"
for f in "$SHARED"/seeds/*; do
    [ -f "$f" ] || continue
    na pack -o one.nwa "$f"
    expect 0 "pack '$f' alone" || continue
    nax cat one.nwa "$(basename "$f")" > got
    expect 0 "cat '$(basename "$f")'" && same "$f" got "single seed '$f'"
    rm -f one.nwa
done
finish
