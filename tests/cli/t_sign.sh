# keygen / sign / verify -p / manifest, and interoperability with minisign.
# Skipped while the binary has no keygen command.
. "$NEWSARC_CLI_DIR/lib.sh"
na keygen -h
[ "$rc" = 0 ] || skip "this newsarc has no keygen command"
cp -a "$FIX/tree" in
na pack -o a.nwa in
expect 0 "pack" || finish
cp a.nwa unsigned.nwa
na info --json a.nwa; id0=$(jq -r .archive_id out)

# key pair without password
na keygen -W -s k.sec -p k.pub
expect 0 "keygen -W" || finish
[ -s k.sec ] && [ -s k.pub ] || fail "keygen: key files missing"
head -n1 k.pub | grep -q '^untrusted comment: ' || fail "k.pub is not in minisign format: $(head -n1 k.pub)"
cp k.sec k.sec.orig
na keygen -W -s k.sec -p k.pub
expect 2 "keygen over existing keys without -f"
same k.sec.orig k.sec "keygen without -f must keep the old secret key"

na sign -s k.sec a.nwa
expect 0 "sign" || finish
na verify a.nwa
expect 0 "verify a signed archive"
na verify -p k.pub a.nwa
expect 0 "verify -p with the right key"
na info --json a.nwa
[ "$(jq .signed out)" = true ] || fail "info: signed is not true after sign"
[ "$(jq -r .archive_id out)" = "$id0" ] || fail "sign changed the archive id"
# only the SIGN frame and the footer checksum may change
[ "$(fsize a.nwa)" = "$(fsize unsigned.nwa)" ] || fail "sign changed the file size"
read -r _ soff slen < <(toc a.nwa | grep '^SIGN ')
L=$(fsize a.nwa)
cmp -l unsigned.nwa a.nwa | while read -r pos _ _; do
    p=$((pos - 1))
    if ! { [ $p -ge "$soff" ] && [ $p -lt $((soff + slen)) ]; } && ! { [ $p -ge $((L - 40)) ] && [ $p -lt $((L - 8)) ]; }; then
        echo "$p"
    fi
done > outside
[ -s outside ] && fail "sign changed bytes outside the SIGN slot and footer checksum: $(head -n 5 outside | tr '\n' ' ')"

# other key, unsigned archive, damaged signature
na keygen -W -s o.sec -p o.pub
na verify -p o.pub a.nwa
expect 1 "verify -p with another key"
na verify -p k.pub unsigned.nwa
expect 1 "verify -p of an unsigned archive"
cp a.nwa bad.nwa; flip_byte bad.nwa $((soff + 8 + 150))
na verify -p k.pub bad.nwa
expect 1 "verify -p with a damaged signature"
na verify -p does-not-exist.pub a.nwa
expect 2 "verify -p with a missing key file"

# manifest for minisign -V
na manifest -o m.txt a.nwa
expect 0 "manifest"
[ -s m.txt.minisig ] || fail "manifest: no m.txt.minisig for a signed archive"
read -r _ moff mlen < <(toc a.nwa | grep '^MANI ')
tail -c +$((moff + 13)) a.nwa | head -c $((mlen - 12)) > mani.want
same mani.want m.txt "manifest file vs MANI section text"
[ "$(hashof m.txt)" = "$id0" ] || fail "manifest text does not hash to the archive id"
if command -v minisign >/dev/null; then
    minisign -V -q -p k.pub -m m.txt >mv.out 2>&1 || fail "minisign -V rejects newsarc's signature: $(head -c 300 mv.out)"
    # a key made by minisign works with newsarc sign
    minisign -G -W -p ms.pub -s ms.sec >/dev/null 2>&1 || fail "minisign -G failed"
    cp unsigned.nwa b.nwa
    na sign -s ms.sec b.nwa
    expect 0 "sign with a minisign-made key"
    na verify -p ms.pub b.nwa
    expect 0 "verify -p with a minisign-made public key"
fi

# password-protected key via NEWSARC_PASSWORD
NEWSARC_PASSWORD=correct-horse nax keygen -s p.sec -p p.pub < /dev/null > /dev/null
expect 0 "keygen with NEWSARC_PASSWORD"
cp unsigned.nwa c.nwa; cp c.nwa c.orig
NEWSARC_PASSWORD=wrong nax sign -s p.sec c.nwa < /dev/null > /dev/null
[ "$rc" != 0 ] || fail "sign with a wrong password succeeded"
same c.orig c.nwa "a failed sign must leave the archive unchanged"
NEWSARC_PASSWORD=correct-horse nax sign -s p.sec c.nwa < /dev/null > /dev/null
expect 0 "sign with the right password"
na verify -p p.pub c.nwa
expect 0 "verify -p (password-protected key)"
finish
