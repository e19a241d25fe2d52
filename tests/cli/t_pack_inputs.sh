# pack input kinds: symlinks skipped with a warning, bad names refused,
# a single regular file, several inputs.
. "$NEWSARC_CLI_DIR/lib.sh"
cp -a "$FIX/tree" in
printf 'outside\n' > outside.txt
ln -s "$WORK/outside.txt" in/link-to-file.txt
ln -s "$WORK" in/link-to-dir
na pack -o a.nwa in
expect 0 "pack a tree holding symlinks" || finish
grep -q 'link-to-file' err || fail "no warning naming the skipped symlink: $(errtext)"
na list --json a.nwa
jq -r .name out | grep -q '^link-to' && fail "symlinks were packed: $(jq -r .name out | grep '^link-to' | tr '\n' ' ')"
[ "$(wc -l < out)" = "$(tree_files "$FIX/tree" | wc -l)" ] || fail "entry count $(wc -l < out) differs from the tree's files"

# a single regular file: one article named by its base name
mkdir -p one/sub && printf 'single\n' > one/sub/article.txt
na pack -o s.nwa one/sub/article.txt
expect 0 "pack a single file"
na list --json s.nwa
[ "$(jq -r .name out)" = article.txt ] || fail "single file: name is '$(jq -r .name out)', expected 'article.txt'"
# a single file with an awkward base name
cp one/sub/article.txt "one/خبر فوری – ۱.txt"
na pack -o s2.nwa "one/خبر فوری – ۱.txt"
na list --json s2.nwa
[ "$(jq -r .name out)" = "خبر فوری – ۱.txt" ] || fail "single file with a Persian name: got '$(jq -r .name out)'"

# names that are not allowed: control character, invalid UTF-8
mkdir bad1 && printf 'x\n' > bad1/$'tab\tname.txt'
na pack -o b1.nwa bad1
expect 1 "a file name with a TAB"
grep -q 'name' err || fail "TAB name: message: $(errtext)"
[ -e b1.nwa ] && fail "TAB name: archive written anyway"
mkdir bad2 && printf 'x\n' > "bad2/$(printf 'latin1-\351t\351').txt"
na pack -o b2.nwa bad2
expect 1 "a file name that is not UTF-8"
[ -e b2.nwa ] && fail "non-UTF-8 name: archive written anyway"
mkdir bad3 && printf 'x\n' > bad3/$'new\nline.txt'
na pack -o b3.nwa bad3
expect 1 "a file name with a newline"
mkdir bad4 && printf 'x\n' > bad4/$'esc\033[31mred.txt'
na pack -o b4.nwa bad4
expect 1 "a file name with an ESC character"
mkdir bad5 && printf 'x\n' > bad5/$'c1\xc2\x9bcsi.txt'
na pack -o b5.nwa bad5
expect 1 "a file name with a C1 control (U+009B)"

# files are handed to the writer in batches: a refused name is still the
# first problem reported, before the warning about a link after it and the
# error about an unreadable file after that (names sorted: a, b, c)
mkdir bad6 && printf 'x\n' > bad6/$'a\tname.txt' && ln -s a bad6/b-link && printf 'y\n' > bad6/c.txt
chmod 000 bad6/c.txt
na pack -o b6.nwa bad6
expect 1 "a refused name, then a link, then an unreadable file"
grep -q "bad6/a.*control character" err || fail "batched files: the first message is not the refused name's: $(errtext)"
grep -q 'b-link' err && fail "batched files: the link after the refused name was reported: $(errtext)"
grep -q 'c.txt' err && fail "batched files: the file after the refused name was reported: $(errtext)"
chmod 644 bad6/c.txt
# and 1300 files (batches of 512) give the bytes of one batch per file (-T 1 still batches: same bytes)
mkdir many && for i in $(seq 1 1300); do printf 'article %d\n' "$i" > many/f$i.txt; done
na pack -T 1 -o many1.nwa many; expect 0 "pack 1300 files -T 1"
na pack -T 3 -o many3.nwa many; expect 0 "pack 1300 files -T 3"
same many1.nwa many3.nwa "1300 files: -T 1 and -T 3 give other bytes"
na list many1.nwa; [ "$(wc -l < out)" = 1300 ] || fail "1300 files: $(wc -l < out) entries"

# several inputs: two trees with distinct names, a file, and JSONL
mkdir -p t2/extra && printf 'extra\n' > t2/extra/x.txt
cp "$FIX/jsonl/news.jsonl" news.jsonl
na pack -o m.nwa in t2 one/sub/article.txt news.jsonl
expect 0 "pack several inputs"
na list --json m.nwa
jq -r '.name // empty' out | grep -qx extra/x.txt || fail "several inputs: extra/x.txt missing"
jq -r '.name // empty' out | grep -qx article.txt || fail "several inputs: article.txt missing"
[ "$(jq -c 'select(has("name") | not)' out | wc -l)" = "$(jq -c . news.jsonl | wc -l)" ] || fail "several inputs: JSONL entries missing"
na verify m.nwa
expect 0 "verify several inputs"
# a file ending in .JSONL in a tree is just a file
mkdir t3 && cp news.jsonl t3/inside.jsonl
na pack -o t3.nwa t3
na list --json t3.nwa
[ "$(jq -r .name out)" = inside.jsonl ] || fail "a .jsonl inside a directory was not packed as a file"

# large files: empty, exactly one block, one byte more, several blocks, incompressible
mkdir big
: > big/0.txt
seq 1 40000 | head -c 131072 > big/131072.txt
seq 7 40007 | head -c 131073 > big/131073.txt
seq 1 200000 | head -c 700001 > big/700001.txt
head -c 300000 /dev/urandom > big/random.bin
for i in $(seq 1 50); do printf 'small %d\n' $i > big/s$i.txt; done
na pack -o big.nwa big
expect 0 "pack big files"
na verify big.nwa
expect 0 "verify big files"
na extract -C bigx big.nwa
expect 0 "extract big files" && same_tree big bigx "big files round trip"
na info --json big.nwa
[ "$(jq .blocks out)" -ge 4 ] || fail "big files: $(jq .blocks out) blocks, expected at least 4 (articles over 128 KiB get their own block)"

# the output file inside the input tree is not packed into itself
na pack -o plain.nwa in
cp -a "$FIX/tree" self
na pack -o self/inside.nwa self
expect 0 "pack -o inside the input directory"
same plain.nwa self/inside.nwa "archive written inside its own input tree (must not include itself)"

# two different articles under one name (same relative path in two inputs)
mkdir -p A B && printf 'a\n' > A/x.txt && printf 'b\n' > B/x.txt
na pack -o ab.nwa A B
expect 1 "two different articles with the name 'x.txt'"
[ -e ab.nwa ] && fail "name clash: archive written anyway"

# a name that is also a directory of another name ('x' and 'x/y', from two
# inputs): such an archive can never be extracted, so pack must refuse it
# (or extract must manage; it cannot on a POSIX file system)
mkdir -p X1 X2/x && printf '1\n' > X1/x && printf '2\n' > X2/x/y
na pack -o xy.nwa X1 X2
if [ "$rc" = 0 ]; then
    na extract -C xyx xy.nwa
    [ "$rc" = 0 ] || fail "pack accepted the names 'x' and 'x/y' together, and extract then fails (exit $rc): $(errtext)"
else
    expect 1 "names 'x' and 'x/y' in one archive"
    [ -e xy.nwa ] && fail "names 'x' and 'x/y': refused but an archive was written"
fi

# a FIFO in the tree: skipped (with a warning), never opened (would block)
mkdir fifo && printf 'a\n' > fifo/a.txt && mkfifo fifo/pipe
TMO=20 na pack -o fifo.nwa fifo
expect 0 "pack a tree holding a FIFO"
grep -q pipe err || fail "FIFO: no warning naming it"
na list --json fifo.nwa
[ "$(jq -r .name out)" = a.txt ] || fail "FIFO: entries are $(jq -r .name out | tr '\n' ' ')"

# a tree holding only an empty file; a JSONL holding only an empty text
mkdir onlyempty && : > onlyempty/e.txt
na pack -o oe.nwa onlyempty
expect 0 "pack a tree with only an empty file"
na verify oe.nwa
expect 0 "verify (only an empty article)"
na extract -C oex oe.nwa
expect 0 "extract (only an empty article)" && same_tree onlyempty oex "only an empty file"
printf '{"maintext":""}\n' > e.jsonl
na pack -o ej.nwa e.jsonl
expect 0 "pack a JSONL with one empty text"
na extract --jsonl ej.nwa
expect 0 "extract --jsonl (one empty text)"
[ "$(jq -c . out)" = '{"maintext":""}' ] || fail "one empty text: got $(cat out)"

# one JSONL line of 4 MB (text larger than a block)
jq -nc '{url: "https://example.org/huge", maintext: ("ab\u0627\n" * 1000000)}' > huge.jsonl
na pack -o hj.nwa huge.jsonl
expect 0 "pack a 4 MB JSONL line"
na extract --jsonl hj.nwa
expect 0 "extract --jsonl of a 4 MB line"
canon_multiset huge.jsonl > w; canon_multiset out > g
cmp -s w g || fail "4 MB JSONL line does not come back equal"

# long similar articles (an eighth of the block size or more) share blocks
# of up to 8 x the block size: five copies of one 100 KB page, each with its
# own line, in one block, and eight of a 30 KB one; five different pages of
# that size a block each
mkdir -p big/same big/diff
head -c 75000 /dev/urandom | base64 -w 100 > page.txt
for i in 1 2 3 4 5; do { sed -n '1,300p' page.txt; printf 'fetched on day %d\n' "$i"; sed -n '301,$p' page.txt; } > "big/same/p$i.html"; done
for i in 1 2 3 4 5; do head -c 75000 /dev/urandom | base64 -w 100 > "big/diff/p$i.html"; done
na pack -o bs.nwa big/same
expect 0 "pack five similar large pages"
na info --json bs.nwa
[ "$(jq .blocks out)" = 1 ] || fail "five similar 100 KB pages: $(jq .blocks out) blocks, expected 1"
[ "$(stat -c %s bs.nwa)" -lt 160000 ] || fail "five similar 100 KB pages take $(stat -c %s bs.nwa) bytes: the copies were not compressed together"
mkdir -p big/mid
head -c 22500 /dev/urandom | base64 -w 100 > mid.txt
for i in 1 2 3 4 5 6 7 8; do { sed -n '1,100p' mid.txt; printf 'fetched on day %d\n' "$i"; sed -n '101,$p' mid.txt; } > "big/mid/m$i.html"; done
na pack -o bm.nwa big/mid
na info --json bm.nwa
[ "$(jq .blocks out)" = 1 ] || fail "eight similar 30 KB pages (240 KB): $(jq .blocks out) blocks, expected 1"
na pack -o bd.nwa big/diff
na info --json bd.nwa
[ "$(jq .blocks out)" = 5 ] || fail "five different 100 KB pages: $(jq .blocks out) blocks, expected 5"
na pack --block-size 32768 -o bs2.nwa big/same
na info --json bs2.nwa
[ "$(jq .blocks out)" = 3 ] || fail "five similar 101 KB pages, 32 KiB blocks (256 KiB for them): $(jq .blocks out) blocks, expected 3"
finish
