/*
 * test_sign.c - lib/sign.c: minisign-compatible keys and signatures.
 *
 * Fixtures in tests/fixtures/keys/ were made by the real minisign (see the
 * README there).  Tests that run /usr/bin/minisign skip when it is absent.
 * Needs NEWSARC_TEST_DIR (the tests/ directory) at compile time.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "sign.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NEWSARC_TEST_DIR
#error "compile with -DNEWSARC_TEST_DIR=\"/path/to/tests\""
#endif
#define KEYS NEWSARC_TEST_DIR "/fixtures/keys/"
#define MINISIGN "/usr/bin/minisign"
#define FIXTURE_PASSWORD "newsarc-fixture"

/* Fast scrypt limits for keys made in tests (libsodium's "interactive"). */
#define FAST_OPS crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE
#define FAST_MEM crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE

static const uint8_t MSG[] = "The quick brown fox\njumps over the lazy dog.\n";
#define MSG_LEN (sizeof MSG - 1)

/* ---- helpers ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    cr_assert(!ferror(f));
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static void load_fixture_nopw(na_seckey *sk, na_pubkey *pk)
{
    size_t n;
    char err[256] = "";
    char *t = slurp(KEYS "minisign-nopw.key", &n);
    cr_assert_eq(na_seckey_decode(t, n, NULL, sk, err, sizeof err), 0, "%s", err);
    free(t);
    t = slurp(KEYS "minisign-nopw.pub", &n);
    cr_assert_eq(na_pubkey_decode(t, n, pk, err, sizeof err), 0, "%s", err);
    free(t);
}

static void sign_ok(const na_seckey *sk, const uint8_t *m, size_t mlen, const char *tc, char *out, size_t cap,
                    size_t *len)
{
    char err[256] = "";
    int rc = na_sign(sk, m, mlen, tc, NULL, out, cap, len, err, sizeof err);
    cr_assert_eq(rc, 0, "na_sign: %d %s", rc, err);
}

/* A private directory for files handed to minisign. */
typedef struct tmpdir {
    char path[64];
} tmpdir;

static void tmpdir_make(tmpdir *d)
{
    strcpy(d->path, "/tmp/newsarc-test-sign-XXXXXX");
    cr_assert_not_null(mkdtemp(d->path), "mkdtemp: %s", strerror(errno));
}

static const char *tmpfile_in(tmpdir *d, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", d->path, name);
    return buf;
}

static void tmpdir_remove(tmpdir *d, const char *const *names)
{
    char p[128];
    for (size_t i = 0; names[i]; i++) unlink(tmpfile_in(d, names[i], p, sizeof p));
    rmdir(d->path);
}

/*
 * Run argv (no shell) with stdin_text on its stdin; capture up to cap-1
 * bytes of stdout+stderr into out.  Returns the exit status, or -1.
 */
static int run(char *const argv[], const char *stdin_text, char *out, size_t cap)
{
    int in[2], op[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(op), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(op[1], 1);
        dup2(op[1], 2);
        close(in[0]);
        close(in[1]);
        close(op[0]);
        close(op[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(op[1]);
    if (stdin_text) {
        size_t n = strlen(stdin_text);
        cr_assert_eq(write(in[1], stdin_text, n), (ssize_t)n);
    }
    close(in[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(op[0], out + got, cap - 1 - got)) > 0) {
        got += (size_t)r;
        if (got == cap - 1) break;
    }
    out[got] = '\0';
    close(op[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void need_minisign(void)
{
    if (access(MINISIGN, X_OK) != 0) cr_skip_test("%s not installed", MINISIGN);
}

/* ---- sign / verify -------------------------------------------------------- */

Test(sign, round_trip_and_trusted_comment)
{
    na_pubkey pk;
    na_seckey sk;
    cr_assert_eq(na_keypair_generate(&pk, &sk), 0);
    char sig[1024], tc[NA_TRUSTED_COMMENT_MAX + 1], err[256] = "";
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "newsarc archive 1234\ttab", sig, sizeof sig, &n);
    cr_assert_eq(strlen(sig), n, "NUL-terminated when there is room");
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, sig, n, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "newsarc archive 1234\ttab");
    /* shape: 4 lines, the documented prefixes and base64 lengths */
    cr_assert(strncmp(sig, "untrusted comment: signature from newsarc secret key\n", 53) == 0, "%s", sig);
    const char *l2 = strchr(sig, '\n') + 1;
    cr_assert_eq(strchr(l2, '\n') - l2, NA_SIG_B64_LEN);
    cr_assert(strncmp(l2, "RU", 2) == 0, "prehashed \"ED\" form"); /* base64 of "ED" + ... */
    /* empty message, NULL comments */
    cr_assert_eq(na_sign(&sk, NULL, 0, NULL, NULL, sig, sizeof sig, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(na_verify(&pk, NULL, 0, sig, n, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "");
    cr_assert_neq(na_verify(&pk, MSG, 1, sig, n, NULL, 0, NULL, 0), 0);
    na_seckey_wipe(&sk);
}

Test(sign, deterministic)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char a[1024], b[1024];
    size_t na_, nb;
    sign_ok(&sk, MSG, MSG_LEN, "tc", a, sizeof a, &na_);
    sign_ok(&sk, MSG, MSG_LEN, "tc", b, sizeof b, &nb);
    cr_assert_eq(na_, nb);
    cr_assert(memcmp(a, b, na_) == 0);
    /* and equal to what minisign itself wrote for the fixture message */
    size_t mlen, slen;
    char *m = slurp(KEYS "message.txt", &mlen);
    char *want = slurp(KEYS "message.txt.minisig", &slen);
    sign_ok(&sk, (const uint8_t *)m, mlen, "fixture trusted comment\ttab", a, sizeof a, &na_);
    char err[256];
    cr_assert_eq(na_sign(&sk, (const uint8_t *)m, mlen, "fixture trusted comment\ttab", "fixture untrusted comment",
                         a, sizeof a, &na_, err, sizeof err),
                 0);
    cr_assert_eq(na_, slen, "size %zu vs minisign's %zu", na_, slen);
    cr_assert(memcmp(a, want, slen) == 0, "ours:\n%.*s\nminisign:\n%s", (int)na_, a, want);
    free(m);
    free(want);
}

Test(sign, verifies_minisign_signature)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    size_t mlen, slen;
    char *m = slurp(KEYS "message.txt", &mlen);
    char *s = slurp(KEYS "message.txt.minisig", &slen);
    char tc[NA_TRUSTED_COMMENT_MAX + 1], err[256] = "";
    cr_assert_eq(na_verify(&pk, (const uint8_t *)m, mlen, s, slen, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "fixture trusted comment\ttab");
    uint8_t kid[NA_KEYID_BYTES];
    cr_assert_eq(na_sig_keyid(s, slen, kid, err, sizeof err), 0);
    cr_assert(memcmp(kid, pk.keyid, sizeof kid) == 0);
    char hex[17];
    na_keyid_hex(hex, pk.keyid);
    cr_assert_str_eq(hex, "D78194F861EA8345", "minisign prints this key id");
    /* CRLF line ends and a missing final line break are accepted */
    char crlf[1024];
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        if (s[i] == '\n') crlf[o++] = '\r';
        crlf[o++] = s[i];
    }
    cr_assert_eq(na_verify(&pk, (const uint8_t *)m, mlen, crlf, o, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "fixture trusted comment\ttab");
    cr_assert_eq(na_verify(&pk, (const uint8_t *)m, mlen, s, slen - 1, NULL, 0, err, sizeof err), 0, "%s", err);
    free(m);
    free(s);
}

Test(sign, one_byte_changes_in_message_rejected)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char sig[1024];
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "tc", sig, sizeof sig, &n);
    uint8_t m[sizeof MSG];
    for (size_t i = 0; i < MSG_LEN; i++) {
        for (unsigned x = 1; x < 256; x <<= 1) {
            memcpy(m, MSG, MSG_LEN);
            m[i] ^= (uint8_t)x;
            cr_assert_eq(na_verify(&pk, m, MSG_LEN, sig, n, NULL, 0, NULL, 0), NEWSARC_E_SIGNATURE,
                         "byte %zu bit %u", i, x);
        }
    }
    memcpy(m, MSG, MSG_LEN);
    cr_assert_eq(na_verify(&pk, m, MSG_LEN - 1, sig, n, NULL, 0, NULL, 0), NEWSARC_E_SIGNATURE, "truncated");
    m[MSG_LEN] = '\n';
    cr_assert_eq(na_verify(&pk, m, MSG_LEN + 1, sig, n, NULL, 0, NULL, 0), NEWSARC_E_SIGNATURE, "appended");
}

/*
 * Every single-byte change of the signature text is rejected, except inside
 * the untrusted comment, which (as in minisign) no signature covers.
 */
Test(sign, one_byte_changes_in_signature_text_rejected)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char sig[1024], bad[1024], tc[64];
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "trusted: archive id 0123", sig, sizeof sig, &n);
    const size_t ut_start = strlen("untrusted comment: ");
    const size_t ut_end = (size_t)(strchr(sig, '\n') - sig);
    static const uint8_t deltas[] = {0x01, 0x02, 0x20, 0x40, 0x80, 0x0b};
    size_t accepted = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < sizeof deltas; d++) {
            memcpy(bad, sig, n);
            bad[i] = (char)(bad[i] ^ deltas[d]);
            int rc = na_verify(&pk, MSG, MSG_LEN, bad, n, tc, sizeof tc, NULL, 0);
            bool in_untrusted = i >= ut_start && i < ut_end;
            if (in_untrusted && bad[i] != '\n' && bad[i] != '\r' && bad[i] != '\0') {
                cr_assert_eq(rc, 0, "untrusted comment byte %zu changed: still valid", i);
                accepted++;
            } else {
                cr_assert_neq(rc, 0, "byte %zu ^ 0x%02x accepted", i, deltas[d]);
            }
        }
    }
    cr_assert_gt(accepted, 0);
}

Test(sign, trusted_comment_changes_rejected)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char sig[1024], alt[1024];
    size_t n, an;
    sign_ok(&sk, MSG, MSG_LEN, "archive abc", sig, sizeof sig, &n);
    const char *tcl = strstr(sig, "trusted comment: archive abc\n");
    cr_assert_not_null(tcl);
    static const char *const others[] = {"archive abd", "archive ab", "archive abcd", "", "archive abc ", " archive abc"};
    for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
        size_t pre = (size_t)(tcl - sig) + strlen("trusted comment: ");
        size_t post = pre + strlen("archive abc");
        an = 0;
        memcpy(alt, sig, pre);
        an = pre;
        memcpy(alt + an, others[k], strlen(others[k]));
        an += strlen(others[k]);
        memcpy(alt + an, sig + post, n - post);
        an += n - post;
        cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, alt, an, NULL, 0, NULL, 0), NEWSARC_E_SIGNATURE, "'%s'", others[k]);
    }
}

Test(sign, wrong_key_rejected)
{
    na_pubkey pk, other_pk;
    na_seckey sk, other_sk;
    load_fixture_nopw(&sk, &pk);
    cr_assert_eq(na_keypair_generate(&other_pk, &other_sk), 0);
    char sig[1024], err[256] = "";
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "tc", sig, sizeof sig, &n);
    cr_assert_eq(na_verify(&other_pk, MSG, MSG_LEN, sig, n, NULL, 0, err, sizeof err), NEWSARC_E_SIGNATURE);
    cr_assert(strstr(err, "D78194F861EA8345") != NULL, "message names the key ids: %s", err);
    /* same key id, other key material: the Ed25519 check catches it */
    memcpy(other_pk.keyid, pk.keyid, NA_KEYID_BYTES);
    cr_assert_eq(na_verify(&other_pk, MSG, MSG_LEN, sig, n, NULL, 0, err, sizeof err), NEWSARC_E_SIGNATURE);
    /* the right key still works */
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, sig, n, NULL, 0, err, sizeof err), 0, "%s", err);
    na_seckey_wipe(&other_sk);
}

Test(sign, malformed_signatures_rejected)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char sig[1024], bad[2048], err[256];
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "tc", sig, sizeof sig, &n);
#define EXPECT_BAD(text, len, what)                                                                                  \
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, (text), (len), NULL, 0, err, sizeof err), NEWSARC_E_SIGNATURE, what)
    EXPECT_BAD(sig, 0, "empty");
    EXPECT_BAD(NULL, 0, "NULL");
    EXPECT_BAD(sig, n - 2, "truncated last line");
    for (size_t cut = 1; cut < n - 1; cut += 7) EXPECT_BAD(sig, cut, "truncated");
    memcpy(bad, sig, n);
    memcpy(bad + n, "x", 1);
    EXPECT_BAD(bad, n + 1, "garbage after the signature");
    memcpy(bad + n, "\n", 1);
    EXPECT_BAD(bad, n + 1, "blank line after the signature");
    memcpy(bad + n, sig, n);
    EXPECT_BAD(bad, 2 * n, "two signatures");
    memcpy(bad, sig, n);
    bad[n - 1] = '\0';
    EXPECT_BAD(bad, n, "NUL instead of the last line feed");
    /* non-canonical base64: the global signature's last data character
       ("..x==") carries 4 padding bits, which must be zero */
    memcpy(bad, sig, n);
    char *last = bad + n - 4; /* the character before "==\n" */
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t v = (size_t)(strchr(b64, *last) - b64);
    *last = b64[v ^ 1];
    EXPECT_BAD(bad, n, "non-zero padding bits");
    /* base64 without padding */
    memcpy(bad, sig, n);
    memcpy(bad + n - 3, "\n", 1);
    EXPECT_BAD(bad, n - 2, "global signature without padding");
    /* unknown algorithm: "EX" instead of "ED" */
    uint8_t blob[74];
    size_t bl;
    const char *l2 = strchr(sig, '\n') + 1;
    cr_assert_eq(sodium_base642bin(blob, sizeof blob, l2, NA_SIG_B64_LEN, NULL, &bl, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    blob[1] = 'X';
    memcpy(bad, sig, n);
    char enc[NA_SIG_B64_LEN + 1];
    sodium_bin2base64(enc, sizeof enc, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    memcpy(bad + (l2 - sig), enc, NA_SIG_B64_LEN);
    EXPECT_BAD(bad, n, "unknown algorithm");
    cr_assert(strstr(err, "algorithm") != NULL, "%s", err);
#undef EXPECT_BAD
}

Test(sign, legacy_signature_rejected)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    size_t mlen, slen;
    char *m = slurp(KEYS "message.txt", &mlen);
    char *s = slurp(KEYS "message.txt.legacy.minisig", &slen);
    char err[256] = "";
    cr_assert_eq(na_verify(&pk, (const uint8_t *)m, mlen, s, slen, NULL, 0, err, sizeof err), NEWSARC_E_SIGNATURE);
    cr_assert(strstr(err, "legacy") != NULL, "%s", err);
    free(m);
    free(s);
}

Test(sign, arguments)
{
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char sig[1024], tc[4], err[256];
    size_t n;
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, "a\nb", NULL, sig, sizeof sig, &n, err, sizeof err), NEWSARC_E_ARG);
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, "a\rb", NULL, sig, sizeof sig, &n, err, sizeof err), NEWSARC_E_ARG);
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, "x", "u\n", sig, sizeof sig, &n, err, sizeof err), NEWSARC_E_ARG);
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, "x", NULL, sig, 100, &n, err, sizeof err), NEWSARC_E_LIMIT);
    size_t need = n;
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, "x", NULL, sig, need, &n, err, sizeof err), 0, "exact fit: %s", err);
    cr_assert_eq(n, need);
    /* longest comments minisign reads back */
    char *longtc = malloc(NA_TRUSTED_COMMENT_MAX + 2), *out = malloc(16384);
    memset(longtc, 't', NA_TRUSTED_COMMENT_MAX + 1);
    longtc[NA_TRUSTED_COMMENT_MAX + 1] = '\0';
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, longtc, NULL, out, 16384, &n, err, sizeof err), NEWSARC_E_ARG);
    longtc[NA_TRUSTED_COMMENT_MAX] = '\0';
    cr_assert_eq(na_sign(&sk, MSG, MSG_LEN, longtc, NULL, out, 16384, &n, err, sizeof err), 0, "%s", err);
    char *tcbig = malloc(NA_TRUSTED_COMMENT_MAX + 1);
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, out, n, tcbig, NA_TRUSTED_COMMENT_MAX + 1, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(strlen(tcbig), NA_TRUSTED_COMMENT_MAX);
    /* too small a trusted comment buffer */
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, out, n, tc, sizeof tc, err, sizeof err), NEWSARC_E_ARG);
    cr_assert_str_eq(tc, "");
    free(longtc);
    free(out);
    free(tcbig);
}

/* ---- keys ---------------------------------------------------------------- */

Test(keys, minisign_unencrypted_key)
{
    na_pubkey pk, derived;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    na_seckey_pubkey(&sk, &derived);
    cr_assert(memcmp(&derived, &pk, sizeof pk) == 0, "secret key's public half = the .pub file");
    size_t n;
    char *t = slurp(KEYS "minisign-nopw.key", &n);
    cr_assert_eq(na_seckey_is_encrypted(t, n), 0);
    /* a password given for an unencrypted key is ignored, as minisign does */
    na_seckey sk2;
    char err[256] = "";
    cr_assert_eq(na_seckey_decode(t, n, "whatever", &sk2, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(&sk2, &sk, sizeof sk) == 0);
    free(t);
}

Test(keys, minisign_encrypted_key, .timeout = 120)
{
    size_t n;
    char err[256] = "";
    na_seckey sk;
    na_pubkey pk, derived;
    char *t = slurp(KEYS "minisign-pw.key", &n);
    cr_assert_eq(na_seckey_is_encrypted(t, n), 1);
    cr_assert_eq(na_seckey_decode(t, n, NULL, &sk, err, sizeof err), NEWSARC_E_ARG, "no password");
    /* the one slow test: minisign's scrypt limits (1 GiB, seconds) */
    cr_assert_eq(na_seckey_decode(t, n, FIXTURE_PASSWORD, &sk, err, sizeof err), 0, "%s", err);
    char *p = slurp(KEYS "minisign-pw.pub", &n);
    cr_assert_eq(na_pubkey_decode(p, n, &pk, err, sizeof err), 0, "%s", err);
    na_seckey_pubkey(&sk, &derived);
    cr_assert(memcmp(&derived, &pk, sizeof pk) == 0);
    char sig[1024];
    size_t sl;
    sign_ok(&sk, MSG, MSG_LEN, "tc", sig, sizeof sig, &sl);
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, sig, sl, NULL, 0, err, sizeof err), 0, "%s", err);
    free(p);
    free(t);
    na_seckey_wipe(&sk);
}

Test(keys, seckey_round_trip_unencrypted)
{
    na_pubkey pk;
    na_seckey sk, back;
    cr_assert_eq(na_keypair_generate(&pk, &sk), 0);
    char *t, err[256] = "";
    size_t n;
    cr_assert_eq(na_seckey_encode(&sk, NULL, NULL, &t, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(strlen(t), n);
    cr_assert(strncmp(t, "untrusted comment: newsarc secret key\n", 38) == 0, "%s", t);
    cr_assert_eq(n, 38 + NA_SECKEY_B64_LEN + 1);
    cr_assert_eq(t[n - 1], '\n');
    cr_assert_eq(na_seckey_is_encrypted(t, n), 0);
    cr_assert_eq(na_seckey_decode(t, n, NULL, &back, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(&back, &sk, sizeof sk) == 0);
    /* blob layout: "Ed" 00 00 "B2", zero salt and limits, keyid, sk, non-zero checksum */
    uint8_t blob[158];
    size_t bl;
    cr_assert_eq(sodium_base642bin(blob, sizeof blob, t + 38, NA_SECKEY_B64_LEN, NULL, &bl, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert(memcmp(blob, "Ed\0\0B2", 6) == 0);
    cr_assert(sodium_is_zero(blob + 6, 48));
    cr_assert(memcmp(blob + 54, sk.keyid, 8) == 0);
    cr_assert(memcmp(blob + 62, sk.sk, 64) == 0);
    uint8_t chk[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)"Ed", 2);
    crypto_generichash_update(&st, sk.keyid, 8);
    crypto_generichash_update(&st, sk.sk, 64);
    crypto_generichash_final(&st, chk, 32);
    cr_assert(memcmp(blob + 126, chk, 32) == 0, "checksum = BLAKE2b-256(\"Ed\" keyid sk)");
    /* a damaged checksum or key is detected */
    blob[140] ^= 1;
    char enc[NA_SECKEY_B64_LEN + 1];
    sodium_bin2base64(enc, sizeof enc, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    memcpy(t + 38, enc, NA_SECKEY_B64_LEN);
    cr_assert_eq(na_seckey_decode(t, n, NULL, &back, err, sizeof err), NEWSARC_E_INPUT);
    blob[140] ^= 1;
    blob[100] ^= 1; /* the public half inside sk, checksum zeroed as minisign -W does */
    memset(blob + 126, 0, 32);
    sodium_bin2base64(enc, sizeof enc, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    memcpy(t + 38, enc, NA_SECKEY_B64_LEN);
    cr_assert_eq(na_seckey_decode(t, n, NULL, &back, err, sizeof err), NEWSARC_E_INPUT, "inconsistent key");
    sodium_memzero(t, n);
    free(t);
    na_seckey_wipe(&sk);
}

Test(keys, seckey_round_trip_encrypted, .timeout = 60)
{
    na_pubkey pk;
    na_seckey sk, back;
    cr_assert_eq(na_keypair_generate(&pk, &sk), 0);
    char *t, err[256] = "";
    size_t n;
    cr_assert_eq(na_seckey_encode_kdf(&sk, "pässwörd", "my comment", FAST_OPS, FAST_MEM, &t, &n, err, sizeof err), 0,
                 "%s", err);
    cr_assert(strncmp(t, "untrusted comment: my comment\n", 30) == 0, "%s", t);
    cr_assert_eq(na_seckey_is_encrypted(t, n), 1);
    uint8_t blob[158];
    size_t bl;
    cr_assert_eq(sodium_base642bin(blob, sizeof blob, t + 30, NA_SECKEY_B64_LEN, NULL, &bl, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert(memcmp(blob, "EdScB2", 6) == 0);
    cr_assert(memcmp(blob + 62, sk.sk, 64) != 0, "sk is encrypted");
    uint64_t ops = 0, mem = 0;
    for (int i = 7; i >= 0; i--) {
        ops = (ops << 8) | blob[38 + i];
        mem = (mem << 8) | blob[46 + i];
    }
    cr_assert_eq(ops, FAST_OPS);
    cr_assert_eq(mem, FAST_MEM);
    cr_assert_eq(na_seckey_decode(t, n, "pässwörd", &back, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(&back, &sk, sizeof sk) == 0);
    cr_assert_eq(na_seckey_decode(t, n, "password", &back, err, sizeof err), NEWSARC_E_ARG);
    cr_assert(strstr(err, "wrong password") != NULL, "%s", err);
    uint8_t zero[sizeof back] = {0};
    cr_assert(memcmp(&back, zero, sizeof back) == 0, "zeroed on failure");
    cr_assert_eq(na_seckey_decode(t, n, "", &back, err, sizeof err), NEWSARC_E_ARG);
    /* limits from the file are bounded before scrypt runs */
    blob[46 + 7] = 0x10;
    char enc[NA_SECKEY_B64_LEN + 1];
    sodium_bin2base64(enc, sizeof enc, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    memcpy(t + 30, enc, NA_SECKEY_B64_LEN);
    cr_assert_eq(na_seckey_decode(t, n, "pässwörd", &back, err, sizeof err), NEWSARC_E_INPUT);
    cr_assert(strstr(err, "scrypt") != NULL, "%s", err);
    /* explicit limits are checked too */
    char *t2;
    size_t n2;
    cr_assert_eq(na_seckey_encode_kdf(&sk, "x", NULL, NA_KDF_OPSLIMIT_MAX + 1, FAST_MEM, &t2, &n2, err, sizeof err),
                 NEWSARC_E_ARG);
    cr_assert_eq(na_seckey_encode_kdf(&sk, "x", "two\nlines", FAST_OPS, FAST_MEM, &t2, &n2, err, sizeof err),
                 NEWSARC_E_ARG);
    free(t);
    na_seckey_wipe(&sk);
}

Test(keys, seckey_malformed)
{
    size_t n;
    char err[256], buf[1024];
    na_seckey sk;
    char *t = slurp(KEYS "minisign-nopw.key", &n);
#define EXPECT_BAD(text, len, what)                                                                                  \
    do {                                                                                                             \
        cr_assert_eq(na_seckey_decode((text), (len), NULL, &sk, err, sizeof err), NEWSARC_E_INPUT, what);          \
        cr_assert_lt(na_seckey_is_encrypted((text), (len)), 0, what);                                               \
    } while (0)
    EXPECT_BAD(t, 0, "empty");
    EXPECT_BAD(t, n - 5, "truncated");
    memcpy(buf, t, n);
    memcpy(buf + n, "more\n", 5);
    EXPECT_BAD(buf, n + 5, "extra line");
    memcpy(buf, t, n);
    buf[0] = 'U';
    EXPECT_BAD(buf, n, "prefix");
    char *l2 = strchr(t, '\n') + 1;
    EXPECT_BAD(l2, n - (size_t)(l2 - t), "no comment line");
    /* the public key is not a secret key */
    size_t pn;
    char *p = slurp(KEYS "minisign-nopw.pub", &pn);
    EXPECT_BAD(p, pn, "public key file");
#undef EXPECT_BAD
    free(p);
    free(t);
}

Test(keys, pubkey_encode_decode)
{
    na_pubkey pk, back;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    char *t, err[256] = "";
    size_t n, fn;
    cr_assert_eq(na_pubkey_encode(&pk, &t, &n), 0);
    char *f = slurp(KEYS "minisign-nopw.pub", &fn);
    cr_assert_eq(n, fn);
    cr_assert(memcmp(t, f, n) == 0, "byte-identical to minisign's .pub:\n%s\n%s", t, f);
    cr_assert_eq(na_pubkey_decode(t, n, &back, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(&back, &pk, sizeof pk) == 0);
    /* bare base64, as minisign -P takes it */
    const char *b64 = strchr(t, '\n') + 1;
    cr_assert_eq(na_pubkey_decode(b64, NA_PUBKEY_B64_LEN, &back, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(&back, &pk, sizeof pk) == 0);
    cr_assert_eq(na_pubkey_decode(b64, NA_PUBKEY_B64_LEN + 1, &back, err, sizeof err), 0, "with line feed: %s", err);
    cr_assert_eq(na_pubkey_decode("RWRFg+ph+JSB1w7SkHeUGBbAxQ+dkZxtM8S7A/IqUQSG5usS/Wvi9ELJ", 56, &back, err,
                                  sizeof err),
                 0, "%s", err);
    cr_assert(memcmp(&back, &pk, sizeof pk) == 0);
    /* malformed */
    char buf[256];
    cr_assert_eq(na_pubkey_decode(b64, NA_PUBKEY_B64_LEN - 1, &back, err, sizeof err), NEWSARC_E_INPUT);
    cr_assert_eq(na_pubkey_decode("", 0, &back, err, sizeof err), NEWSARC_E_INPUT);
    memcpy(buf, t, n);
    memcpy(buf + n, "x\n", 2);
    cr_assert_eq(na_pubkey_decode(buf, n + 2, &back, err, sizeof err), NEWSARC_E_INPUT, "garbage after");
    memcpy(buf, t, n);
    buf[n - 2] = '!';
    cr_assert_eq(na_pubkey_decode(buf, n, &back, err, sizeof err), NEWSARC_E_INPUT, "damaged base64");
    buf[n - 2] = (char)0xd1; /* libsodium 1.0.18 alone would take this byte as a base64 digit */
    cr_assert_eq(na_pubkey_decode(buf, n, &back, err, sizeof err), NEWSARC_E_INPUT, "non-ASCII in base64");
    memcpy(buf, t, n);
    buf[strlen("untrusted comment: ") + 20] = '\0';
    cr_assert_eq(na_pubkey_decode(buf, n, &back, err, sizeof err), NEWSARC_E_INPUT, "NUL in the comment");
    size_t sn;
    char *s = slurp(KEYS "minisign-nopw.key", &sn);
    cr_assert_eq(na_pubkey_decode(s, sn, &back, err, sizeof err), NEWSARC_E_INPUT, "secret key file");
    free(s);
    free(f);
    free(t);
}

/* ---- interoperability with the real minisign ----------------------------- */

/* A signature we make with the minisign-made key: minisign -Vm accepts it. */
Test(minisign, verifies_our_signature_with_its_key)
{
    need_minisign();
    na_pubkey pk;
    na_seckey sk;
    load_fixture_nopw(&sk, &pk);
    tmpdir d;
    tmpdir_make(&d);
    char mp[128], sp[128], out[4096], sig[1024];
    size_t n;
    sign_ok(&sk, MSG, MSG_LEN, "newsarc interop\ttest", sig, sizeof sig, &n);
    spit(tmpfile_in(&d, "m.txt", mp, sizeof mp), MSG, MSG_LEN);
    spit(tmpfile_in(&d, "m.txt.minisig", sp, sizeof sp), sig, n);
    char *argv[] = {MINISIGN, "-V", "-H", "-p", KEYS "minisign-nopw.pub", "-m", mp, NULL};
    int rc = run(argv, NULL, out, sizeof out);
    cr_assert_eq(rc, 0, "minisign -V: %s", out);
    cr_assert(strstr(out, "Trusted comment: newsarc interop\ttest") != NULL, "%s", out);
    /* and rejects it for a changed message */
    spit(mp, MSG, MSG_LEN - 1);
    cr_assert_eq(run(argv, NULL, out, sizeof out), 1, "minisign -V on a changed message: %s", out);
    static const char *const names[] = {"m.txt", "m.txt.minisig", NULL};
    tmpdir_remove(&d, names);
}

/* A key pair we make (unencrypted and encrypted) and our signature: minisign takes them. */
Test(minisign, uses_our_keys, .timeout = 60)
{
    need_minisign();
    na_pubkey pk;
    na_seckey sk;
    cr_assert_eq(na_keypair_generate(&pk, &sk), 0);
    tmpdir d;
    tmpdir_make(&d);
    char pp[128], kp[128], ep[128], mp[128], sp[128], out[4096], sig[1024], err[256] = "";
    char *t;
    size_t n;
    cr_assert_eq(na_pubkey_encode(&pk, &t, &n), 0);
    spit(tmpfile_in(&d, "k.pub", pp, sizeof pp), t, n);
    free(t);
    cr_assert_eq(na_seckey_encode(&sk, NULL, NULL, &t, &n, err, sizeof err), 0, "%s", err);
    spit(tmpfile_in(&d, "k.key", kp, sizeof kp), t, n);
    free(t);
    cr_assert_eq(na_seckey_encode_kdf(&sk, "s3cret", NULL, FAST_OPS, FAST_MEM, &t, &n, err, sizeof err), 0, "%s", err);
    spit(tmpfile_in(&d, "e.key", ep, sizeof ep), t, n);
    free(t);
    spit(tmpfile_in(&d, "m.txt", mp, sizeof mp), MSG, MSG_LEN);
    tmpfile_in(&d, "m.txt.minisig", sp, sizeof sp);

    /* 1. our signature, our public key file */
    sign_ok(&sk, MSG, MSG_LEN, "ours", sig, sizeof sig, &n);
    spit(sp, sig, n);
    char *verify_argv[] = {MINISIGN, "-V", "-p", pp, "-m", mp, NULL};
    cr_assert_eq(run(verify_argv, NULL, out, sizeof out), 0, "minisign -V of our signature: %s", out);
    /* also with the key given inline, as -P */
    char pkb64[NA_PUBKEY_B64_LEN + 1];
    size_t pn;
    char *pt = slurp(pp, &pn);
    memcpy(pkb64, strchr(pt, '\n') + 1, NA_PUBKEY_B64_LEN);
    pkb64[NA_PUBKEY_B64_LEN] = '\0';
    free(pt);
    char *verify_inline[] = {MINISIGN, "-V", "-P", pkb64, "-m", mp, NULL};
    cr_assert_eq(run(verify_inline, NULL, out, sizeof out), 0, "minisign -V -P: %s", out);

    /* 2. minisign signs with our unencrypted key; we verify its signature */
    char *sign_argv[] = {MINISIGN, "-S", "-s", kp, "-m", mp, "-t", "by minisign", NULL};
    cr_assert_eq(run(sign_argv, NULL, out, sizeof out), 0, "minisign -S with our -W key: %s", out);
    size_t sl;
    char *ms = slurp(sp, &sl);
    char tc[64];
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, ms, sl, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "by minisign");
    free(ms);

    /* 3. minisign decrypts our encrypted key (password on stdin) */
    char *sign_enc[] = {MINISIGN, "-S", "-s", ep, "-m", mp, "-t", "encrypted key", NULL};
    cr_assert_eq(run(sign_enc, "s3cret\n", out, sizeof out), 0, "minisign -S with our encrypted key: %s", out);
    ms = slurp(sp, &sl);
    cr_assert_eq(na_verify(&pk, MSG, MSG_LEN, ms, sl, tc, sizeof tc, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(tc, "encrypted key");
    free(ms);
    cr_assert_neq(run(sign_enc, "wrong\n", out, sizeof out), 0, "minisign with a wrong password: %s", out);

    static const char *const names[] = {"k.pub", "k.key", "e.key", "m.txt", "m.txt.minisig", NULL};
    tmpdir_remove(&d, names);
    na_seckey_wipe(&sk);
}
