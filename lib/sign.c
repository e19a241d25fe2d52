/*
 * sign.c - minisign-compatible keys and signatures (see sign.h for the
 * formats).  Self-contained: needs only libsodium and newsarc.h's error
 * codes, so it can be built and tested on its own.
 *
 * Parsing is strict: exact line structure, exact prefixes, canonical
 * base64 of the exact blob sizes (libsodium's decoder, which also refuses
 * non-zero padding bits), no trailing data.  Secrets live in stack buffers
 * that are wiped before every return.
 */
#include "sign.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- format constants (minisign src/minisign.h) ------------------------ */

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define UNTRUSTED_PREFIX_LEN (sizeof UNTRUSTED_PREFIX - 1)
#define TRUSTED_PREFIX_LEN (sizeof TRUSTED_PREFIX - 1)

#define SIGALG "Ed"        /* key algorithm, and legacy (non-prehashed) signatures */
#define SIGALG_HASHED "ED" /* prehashed signatures: Ed25519 over BLAKE2b-512(message) */
#define KDFALG "Sc"        /* scrypt (crypto_pwhash_scryptsalsa208sha256) */
#define CHKALG "B2"        /* BLAKE2b-256 checksum */

#define PREHASH_BYTES 64u /* crypto_generichash_BYTES_MAX */
#define CHK_BYTES 32u
#define SALT_BYTES 32u

/* public key blob: "Ed" keyid[8] pk[32] */
#define PK_BLOB 42u
/* secret key blob offsets */
#define SK_OFF_SIGALG 0u
#define SK_OFF_KDFALG 2u
#define SK_OFF_CHKALG 4u
#define SK_OFF_SALT 6u
#define SK_OFF_OPS 38u
#define SK_OFF_MEM 46u
#define SK_OFF_KEYID 54u /* encrypted part starts here: keyid, sk, chk */
#define SK_OFF_SK 62u
#define SK_OFF_CHK 126u
#define SK_BLOB 158u
#define SK_ENC_BYTES (SK_BLOB - SK_OFF_KEYID) /* 104 */
/* signature blob: "ED" keyid[8] sig[64] */
#define SIG_BLOB 74u
#define SIG_BYTES 64u

#define DEFAULT_SIG_COMMENT "signature from newsarc secret key"
#define DEFAULT_SK_COMMENT_ENC "newsarc encrypted secret key"
#define DEFAULT_SK_COMMENT_PLAIN "newsarc secret key"

_Static_assert(crypto_sign_PUBLICKEYBYTES == NA_PK_BYTES, "pk size");
_Static_assert(crypto_sign_SECRETKEYBYTES == NA_SK_BYTES, "sk size");
_Static_assert(crypto_sign_BYTES == SIG_BYTES, "signature size");
_Static_assert(crypto_pwhash_scryptsalsa208sha256_SALTBYTES == SALT_BYTES, "salt size");
_Static_assert(sodium_base64_ENCODED_LEN(PK_BLOB, sodium_base64_VARIANT_ORIGINAL) == NA_PUBKEY_B64_LEN + 1, "b64");
_Static_assert(sodium_base64_ENCODED_LEN(SK_BLOB, sodium_base64_VARIANT_ORIGINAL) == NA_SECKEY_B64_LEN + 1, "b64");
_Static_assert(sodium_base64_ENCODED_LEN(SIG_BLOB, sodium_base64_VARIANT_ORIGINAL) == NA_SIG_B64_LEN + 1, "b64");
_Static_assert(sodium_base64_ENCODED_LEN(SIG_BYTES, sodium_base64_VARIANT_ORIGINAL) == NA_GSIG_B64_LEN + 1, "b64");

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errcap, int code, const char *fmt, ...)
{
    if (err && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int init_sodium(char *err, size_t errcap)
{
    if (sodium_init() < 0) return fail(err, errcap, NEWSARC_E_IO, "libsodium could not be initialised");
    return 0;
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void na_keyid_hex(char out[17], const uint8_t keyid[NA_KEYID_BYTES])
{
    static const char digits[] = "0123456789ABCDEF";
    uint64_t v = ld64(keyid);
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 0xf];
        v >>= 4;
    }
    out[16] = '\0';
}

void na_seckey_wipe(na_seckey *sk)
{
    if (sk) sodium_memzero(sk, sizeof *sk);
}

void na_seckey_pubkey(const na_seckey *sk, na_pubkey *pk)
{
    memcpy(pk->keyid, sk->keyid, NA_KEYID_BYTES);
    memcpy(pk->pk, sk->sk + (NA_SK_BYTES - NA_PK_BYTES), NA_PK_BYTES);
}

/* A comment is one line: no NUL (implied by C strings), CR or LF. */
static bool comment_ok(const char *c, size_t max)
{
    size_t n = strlen(c);
    return n <= max && strpbrk(c, "\r\n") == NULL;
}

typedef struct span {
    const char *p;
    size_t n;
} span;

/*
 * Split text into exactly `want` lines ending in "\n" or "\r\n" (the last
 * line's ending optional), nothing after them, no NUL or stray CR inside.
 */
static const char *split_lines(const char *t, size_t len, span *lines, size_t want)
{
    size_t pos = 0;
    for (size_t i = 0; i < want; i++) {
        if (pos >= len) return i + 1 < want ? "too few lines" : "last line missing";
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - t) : len;
        if (!nl && i + 1 < want) return "too few lines";
        size_t n = end - pos;
        if (nl && n > 0 && t[end - 1] == '\r') n--;
        lines[i].p = t + pos;
        lines[i].n = n;
        if (memchr(lines[i].p, '\0', n) || memchr(lines[i].p, '\r', n)) return "NUL or carriage return inside a line";
        pos = nl ? end + 1 : len;
    }
    if (pos != len) return "unexpected data after the last line";
    return NULL;
}

static bool has_prefix(span s, const char *prefix, size_t plen)
{
    return s.n >= plen && memcmp(s.p, prefix, plen) == 0;
}

static bool is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

/*
 * Canonical base64 (with padding) of exactly `want` bytes, nothing else.
 * The alphabet is checked here first: libsodium 1.0.18's decoder takes
 * bytes >= 0x80 as base64 digits (signed char arithmetic), so a damaged
 * byte could otherwise decode to valid data.
 */
static int b64_exact(uint8_t *out, size_t want, span s)
{
    size_t got = 0;
    if (s.n + 1 != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL)) return -1;
    for (size_t i = 0; i < s.n; i++)
        if (!is_b64_char((unsigned char)s.p[i])) return -1;
    if (sodium_base642bin(out, want, s.p, s.n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) return -1;
    return got == want ? 0 : -1;
}

/* "untrusted comment: <c>\n" + base64(blob) + "\n", malloc'd, NUL-terminated. */
static int key_text(const char *comment1, const char *comment2, const uint8_t *blob, size_t blob_len, char **out,
                    size_t *out_len)
{
    size_t b64cap = sodium_base64_ENCODED_LEN(blob_len, sodium_base64_VARIANT_ORIGINAL);
    size_t c1 = strlen(comment1), c2 = comment2 ? strlen(comment2) : 0;
    size_t total = UNTRUSTED_PREFIX_LEN + c1 + c2 + 1 + (b64cap - 1) + 1;
    char *t = malloc(total + 1);
    if (!t) return NEWSARC_E_NOMEM;
    size_t o = 0;
    memcpy(t + o, UNTRUSTED_PREFIX, UNTRUSTED_PREFIX_LEN);
    o += UNTRUSTED_PREFIX_LEN;
    memcpy(t + o, comment1, c1);
    o += c1;
    if (c2) memcpy(t + o, comment2, c2);
    o += c2;
    t[o++] = '\n';
    sodium_bin2base64(t + o, b64cap, blob, blob_len, sodium_base64_VARIANT_ORIGINAL);
    o += b64cap - 1;
    t[o++] = '\n';
    t[o] = '\0';
    *out = t;
    *out_len = o;
    return 0;
}

/* chk = BLAKE2b-256(sig_alg || keyid || sk), over the blob's fields. */
static void seckey_checksum(uint8_t chk[CHK_BYTES], const uint8_t blob[SK_BLOB])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, CHK_BYTES);
    crypto_generichash_update(&st, blob + SK_OFF_SIGALG, 2);
    crypto_generichash_update(&st, blob + SK_OFF_KEYID, NA_KEYID_BYTES);
    crypto_generichash_update(&st, blob + SK_OFF_SK, NA_SK_BYTES);
    crypto_generichash_final(&st, chk, CHK_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* ---- keys ---------------------------------------------------------------- */

int na_keypair_generate(na_pubkey *pk, na_seckey *sk)
{
    if (init_sodium(NULL, 0)) return NEWSARC_E_IO;
    randombytes_buf(sk->keyid, NA_KEYID_BYTES);
    if (crypto_sign_keypair(pk->pk, sk->sk) != 0) {
        na_seckey_wipe(sk);
        return NEWSARC_E_IO;
    }
    memcpy(pk->keyid, sk->keyid, NA_KEYID_BYTES);
    return 0;
}

int na_seckey_encode_kdf(const na_seckey *sk, const char *password, const char *comment, uint64_t opslimit,
                         uint64_t memlimit, char **out_text, size_t *out_len, char *err, size_t errcap)
{
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    *out_text = NULL;
    *out_len = 0;
    if (!comment) comment = password ? DEFAULT_SK_COMMENT_ENC : DEFAULT_SK_COMMENT_PLAIN;
    if (!comment_ok(comment, NA_UNTRUSTED_COMMENT_MAX))
        return fail(err, errcap, NEWSARC_E_ARG, "comment longer than %u bytes or with a line break",
                    NA_UNTRUSTED_COMMENT_MAX);
    bool defaults = opslimit == 0 && memlimit == 0;
    if (defaults) {
        opslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
        memlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
    }
    if (password && (opslimit < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN || opslimit > NA_KDF_OPSLIMIT_MAX ||
                     memlimit < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN || memlimit > NA_KDF_MEMLIMIT_MAX))
        return fail(err, errcap, NEWSARC_E_ARG, "scrypt limits out of range");

    uint8_t blob[SK_BLOB], stream[SK_ENC_BYTES];
    memset(blob, 0, sizeof blob);
    memcpy(blob + SK_OFF_SIGALG, SIGALG, 2);
    memcpy(blob + SK_OFF_CHKALG, CHKALG, 2);
    memcpy(blob + SK_OFF_KEYID, sk->keyid, NA_KEYID_BYTES);
    memcpy(blob + SK_OFF_SK, sk->sk, NA_SK_BYTES);
    seckey_checksum(blob + SK_OFF_CHK, blob);
    if (password) {
        memcpy(blob + SK_OFF_KDFALG, KDFALG, 2);
        randombytes_buf(blob + SK_OFF_SALT, SALT_BYTES);
        /* like minisign: with the default limits, halve them while memory is refused */
        while (crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, password, strlen(password),
                                                  blob + SK_OFF_SALT, opslimit, (size_t)memlimit) != 0) {
            opslimit /= 2;
            memlimit /= 2;
            if (!defaults || opslimit < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
                memlimit < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN) {
                sodium_memzero(blob, sizeof blob);
                sodium_memzero(stream, sizeof stream);
                return fail(err, errcap, NEWSARC_E_NOMEM, "key derivation (scrypt) failed: not enough memory");
            }
        }
        st64(blob + SK_OFF_OPS, opslimit);
        st64(blob + SK_OFF_MEM, memlimit);
        for (size_t i = 0; i < SK_ENC_BYTES; i++) blob[SK_OFF_KEYID + i] ^= stream[i];
    }
    rc = key_text(comment, NULL, blob, sizeof blob, out_text, out_len);
    sodium_memzero(blob, sizeof blob);
    sodium_memzero(stream, sizeof stream);
    if (rc) return fail(err, errcap, rc, "out of memory");
    return 0;
}

int na_seckey_encode(const na_seckey *sk, const char *password, const char *comment, char **out_text,
                     size_t *out_len, char *err, size_t errcap)
{
    return na_seckey_encode_kdf(sk, password, comment, 0, 0, out_text, out_len, err, errcap);
}

/* Parse a secret key text into its (still encrypted) blob. */
static int seckey_parse(const char *text, size_t len, uint8_t blob[SK_BLOB], char *err, size_t errcap)
{
    span l[2];
    const char *why = split_lines(text, len, l, 2);
    if (why) return fail(err, errcap, NEWSARC_E_INPUT, "not a minisign secret key: %s", why);
    if (!has_prefix(l[0], UNTRUSTED_PREFIX, UNTRUSTED_PREFIX_LEN))
        return fail(err, errcap, NEWSARC_E_INPUT, "not a minisign secret key: first line must start with \"%s\"",
                    UNTRUSTED_PREFIX);
    if (b64_exact(blob, SK_BLOB, l[1]) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "not a minisign secret key: second line is not base64 of %u bytes",
                    SK_BLOB);
    if (memcmp(blob + SK_OFF_SIGALG, SIGALG, 2) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "unsupported signature algorithm in secret key");
    if (memcmp(blob + SK_OFF_CHKALG, CHKALG, 2) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "unsupported checksum algorithm in secret key");
    if (memcmp(blob + SK_OFF_KDFALG, KDFALG, 2) != 0 && memcmp(blob + SK_OFF_KDFALG, "\0\0", 2) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "unsupported key derivation function in secret key");
    return 0;
}

int na_seckey_is_encrypted(const char *text, size_t len)
{
    uint8_t blob[SK_BLOB];
    if (init_sodium(NULL, 0)) return -NEWSARC_E_IO;
    int rc = seckey_parse(text, len, blob, NULL, 0);
    int enc = rc ? -rc : memcmp(blob + SK_OFF_KDFALG, KDFALG, 2) == 0;
    sodium_memzero(blob, sizeof blob);
    return enc;
}

int na_seckey_decode(const char *text, size_t len, const char *password, na_seckey *out, char *err, size_t errcap)
{
    uint8_t blob[SK_BLOB], stream[SK_ENC_BYTES], chk[CHK_BYTES];
    uint8_t seed_pk[NA_PK_BYTES], seed_sk[NA_SK_BYTES];
    memset(out, 0, sizeof *out);
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    rc = seckey_parse(text, len, blob, err, errcap);
    if (rc) goto done;
    bool encrypted = memcmp(blob + SK_OFF_KDFALG, KDFALG, 2) == 0;
    if (encrypted) {
        uint64_t ops = ld64(blob + SK_OFF_OPS), mem = ld64(blob + SK_OFF_MEM);
        if (!password) {
            rc = fail(err, errcap, NEWSARC_E_ARG, "the secret key is encrypted: a password is needed");
            goto done;
        }
        if (ops > NA_KDF_OPSLIMIT_MAX || mem > NA_KDF_MEMLIMIT_MAX || mem > SIZE_MAX) {
            rc = fail(err, errcap, NEWSARC_E_INPUT,
                      "secret key asks for scrypt limits beyond what we accept (opslimit %llu, memlimit %llu)",
                      (unsigned long long)ops, (unsigned long long)mem);
            goto done;
        }
        if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, password, strlen(password),
                                               blob + SK_OFF_SALT, ops, (size_t)mem) != 0) {
            rc = fail(err, errcap, NEWSARC_E_NOMEM, "key derivation (scrypt) failed: not enough memory");
            goto done;
        }
        for (size_t i = 0; i < SK_ENC_BYTES; i++) blob[SK_OFF_KEYID + i] ^= stream[i];
    }
    seckey_checksum(chk, blob);
    if (sodium_memcmp(chk, blob + SK_OFF_CHK, CHK_BYTES) != 0) {
        if (encrypted) {
            rc = fail(err, errcap, NEWSARC_E_ARG, "wrong password for this secret key (or the key is damaged)");
            goto done;
        }
        /* minisign -W leaves the checksum of an unencrypted key zero */
        if (!sodium_is_zero(blob + SK_OFF_CHK, CHK_BYTES)) {
            rc = fail(err, errcap, NEWSARC_E_INPUT, "secret key checksum mismatch: the key is damaged");
            goto done;
        }
    }
    /* the public half stored in sk must be the one the seed gives */
    if (crypto_sign_seed_keypair(seed_pk, seed_sk, blob + SK_OFF_SK) != 0 ||
        sodium_memcmp(seed_sk, blob + SK_OFF_SK, NA_SK_BYTES) != 0) {
        rc = fail(err, errcap, NEWSARC_E_INPUT, "secret key is inconsistent: the key is damaged");
        goto done;
    }
    memcpy(out->keyid, blob + SK_OFF_KEYID, NA_KEYID_BYTES);
    memcpy(out->sk, blob + SK_OFF_SK, NA_SK_BYTES);
done:
    sodium_memzero(blob, sizeof blob);
    sodium_memzero(stream, sizeof stream);
    sodium_memzero(chk, sizeof chk);
    sodium_memzero(seed_sk, sizeof seed_sk);
    return rc;
}

int na_pubkey_encode(const na_pubkey *pk, char **out_text, size_t *out_len)
{
    if (init_sodium(NULL, 0)) return NEWSARC_E_IO;
    uint8_t blob[PK_BLOB];
    char hex[17];
    memcpy(blob, SIGALG, 2);
    memcpy(blob + 2, pk->keyid, NA_KEYID_BYTES);
    memcpy(blob + 2 + NA_KEYID_BYTES, pk->pk, NA_PK_BYTES);
    na_keyid_hex(hex, pk->keyid);
    *out_text = NULL;
    *out_len = 0;
    return key_text("minisign public key ", hex, blob, sizeof blob, out_text, out_len);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int na_pubkey_decode(const char *text, size_t len, na_pubkey *pk, char *err, size_t errcap)
{
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    memset(pk, 0, sizeof *pk);
    span key;
    if (len >= UNTRUSTED_PREFIX_LEN && memcmp(text, UNTRUSTED_PREFIX, UNTRUSTED_PREFIX_LEN) == 0) {
        span l[2];
        const char *why = split_lines(text, len, l, 2);
        if (why) return fail(err, errcap, NEWSARC_E_INPUT, "not a minisign public key: %s", why);
        key = l[1];
    } else { /* a bare base64 key, as minisign -P takes it */
        size_t a = 0, b = len;
        while (a < b && is_space(text[a])) a++;
        while (b > a && is_space(text[b - 1])) b--;
        key.p = text + a;
        key.n = b - a;
    }
    uint8_t blob[PK_BLOB];
    if (b64_exact(blob, PK_BLOB, key) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "not a minisign public key: expected base64 of %u bytes", PK_BLOB);
    if (memcmp(blob, SIGALG, 2) != 0)
        return fail(err, errcap, NEWSARC_E_INPUT, "unsupported signature algorithm in public key");
    memcpy(pk->keyid, blob + 2, NA_KEYID_BYTES);
    memcpy(pk->pk, blob + 2 + NA_KEYID_BYTES, NA_PK_BYTES);
    return 0;
}

/* ---- signatures ------------------------------------------------------- */

static void prehash(uint8_t h[PREHASH_BYTES], const uint8_t *msg, size_t len)
{
    static const uint8_t empty[1] = {0};
    crypto_generichash(h, PREHASH_BYTES, len ? msg : empty, len, NULL, 0);
}

int na_sign(const na_seckey *sk, const uint8_t *msg, size_t len, const char *trusted_comment,
            const char *untrusted_comment, char *out, size_t cap, size_t *out_len, char *err, size_t errcap)
{
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    if (!trusted_comment) trusted_comment = "";
    if (!untrusted_comment) untrusted_comment = DEFAULT_SIG_COMMENT;
    if (!msg && len) return fail(err, errcap, NEWSARC_E_ARG, "no message");
    if (!comment_ok(untrusted_comment, NA_UNTRUSTED_COMMENT_MAX))
        return fail(err, errcap, NEWSARC_E_ARG, "untrusted comment longer than %u bytes or with a line break",
                    NA_UNTRUSTED_COMMENT_MAX);
    if (!comment_ok(trusted_comment, NA_TRUSTED_COMMENT_MAX))
        return fail(err, errcap, NEWSARC_E_ARG, "trusted comment longer than %u bytes or with a line break",
                    NA_TRUSTED_COMMENT_MAX);
    size_t ulen = strlen(untrusted_comment), tlen = strlen(trusted_comment);
    size_t total = UNTRUSTED_PREFIX_LEN + ulen + 1 + NA_SIG_B64_LEN + 1 + TRUSTED_PREFIX_LEN + tlen + 1 +
                   NA_GSIG_B64_LEN + 1;
    *out_len = total;
    if (total > cap)
        return fail(err, errcap, NEWSARC_E_LIMIT, "signature text needs %zu bytes, only %zu available", total, cap);

    uint8_t h[PREHASH_BYTES], blob[SIG_BLOB], gsig[SIG_BYTES];
    uint8_t sig_tc[SIG_BYTES + NA_TRUSTED_COMMENT_MAX];
    const uint8_t *pk = sk->sk + (NA_SK_BYTES - NA_PK_BYTES);
    prehash(h, msg, len);
    memcpy(blob, SIGALG_HASHED, 2);
    memcpy(blob + 2, sk->keyid, NA_KEYID_BYTES);
    if (crypto_sign_detached(blob + 2 + NA_KEYID_BYTES, NULL, h, sizeof h, sk->sk) != 0)
        return fail(err, errcap, NEWSARC_E_IO, "signing failed");
    memcpy(sig_tc, blob + 2 + NA_KEYID_BYTES, SIG_BYTES);
    memcpy(sig_tc + SIG_BYTES, trusted_comment, tlen);
    if (crypto_sign_detached(gsig, NULL, sig_tc, SIG_BYTES + tlen, sk->sk) != 0)
        return fail(err, errcap, NEWSARC_E_IO, "signing failed");
    /* check our own result, as minisign does, before handing it out */
    if (crypto_sign_verify_detached(blob + 2 + NA_KEYID_BYTES, h, sizeof h, pk) != 0 ||
        crypto_sign_verify_detached(gsig, sig_tc, SIG_BYTES + tlen, pk) != 0)
        return fail(err, errcap, NEWSARC_E_IO, "the new signature does not verify: damaged secret key?");

    size_t o = 0;
    memcpy(out + o, UNTRUSTED_PREFIX, UNTRUSTED_PREFIX_LEN);
    o += UNTRUSTED_PREFIX_LEN;
    memcpy(out + o, untrusted_comment, ulen);
    o += ulen;
    out[o++] = '\n';
    char b64[NA_SIG_B64_LEN + 1];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    memcpy(out + o, b64, NA_SIG_B64_LEN);
    o += NA_SIG_B64_LEN;
    out[o++] = '\n';
    memcpy(out + o, TRUSTED_PREFIX, TRUSTED_PREFIX_LEN);
    o += TRUSTED_PREFIX_LEN;
    memcpy(out + o, trusted_comment, tlen);
    o += tlen;
    out[o++] = '\n';
    sodium_bin2base64(b64, sizeof b64, gsig, sizeof gsig, sodium_base64_VARIANT_ORIGINAL);
    memcpy(out + o, b64, NA_GSIG_B64_LEN);
    o += NA_GSIG_B64_LEN;
    out[o++] = '\n';
    if (o < cap) out[o] = '\0';
    return 0;
}

typedef struct parsed_sig {
    uint8_t blob[SIG_BLOB]; /* "ED" keyid sig */
    uint8_t gsig[SIG_BYTES];
    span tc;
} parsed_sig;

static int sig_parse(const char *text, size_t len, parsed_sig *ps, char *err, size_t errcap)
{
    span l[4];
    if (!text) return fail(err, errcap, NEWSARC_E_SIGNATURE, "no signature");
    const char *why = split_lines(text, len, l, 4);
    if (why) return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: %s", why);
    if (!has_prefix(l[0], UNTRUSTED_PREFIX, UNTRUSTED_PREFIX_LEN))
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: line 1 must start with \"%s\"",
                    UNTRUSTED_PREFIX);
    if (l[0].n - UNTRUSTED_PREFIX_LEN > NA_UNTRUSTED_COMMENT_MAX)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: untrusted comment too long");
    if (b64_exact(ps->blob, SIG_BLOB, l[1]) != 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: line 2 is not base64 of %u bytes",
                    SIG_BLOB);
    if (memcmp(ps->blob, SIGALG, 2) == 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE,
                    "legacy (non-prehashed) minisign signature: not accepted, sign again without minisign -l");
    if (memcmp(ps->blob, SIGALG_HASHED, 2) != 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "unsupported signature algorithm");
    if (!has_prefix(l[2], TRUSTED_PREFIX, TRUSTED_PREFIX_LEN))
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: line 3 must start with \"%s\"",
                    TRUSTED_PREFIX);
    ps->tc.p = l[2].p + TRUSTED_PREFIX_LEN;
    ps->tc.n = l[2].n - TRUSTED_PREFIX_LEN;
    if (ps->tc.n > NA_TRUSTED_COMMENT_MAX)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: trusted comment too long");
    if (b64_exact(ps->gsig, SIG_BYTES, l[3]) != 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "malformed signature: line 4 is not base64 of %u bytes",
                    SIG_BYTES);
    return 0;
}

int na_sig_keyid(const char *sig_text, size_t sig_len, uint8_t keyid[NA_KEYID_BYTES], char *err, size_t errcap)
{
    parsed_sig ps;
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    rc = sig_parse(sig_text, sig_len, &ps, err, errcap);
    if (rc) return rc;
    memcpy(keyid, ps.blob + 2, NA_KEYID_BYTES);
    return 0;
}

int na_verify(const na_pubkey *pk, const uint8_t *msg, size_t len, const char *sig_text, size_t sig_len,
              char *trusted_comment_out, size_t tc_cap, char *err, size_t errcap)
{
    parsed_sig ps;
    if (trusted_comment_out && tc_cap) trusted_comment_out[0] = '\0';
    int rc = init_sodium(err, errcap);
    if (rc) return rc;
    if (!msg && len) return fail(err, errcap, NEWSARC_E_ARG, "no message");
    rc = sig_parse(sig_text, sig_len, &ps, err, errcap);
    if (rc) return rc;
    if (memcmp(ps.blob + 2, pk->keyid, NA_KEYID_BYTES) != 0) {
        char a[17], b[17];
        na_keyid_hex(a, ps.blob + 2);
        na_keyid_hex(b, pk->keyid);
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "signed by key %s, not by the given key %s", a, b);
    }
    if (trusted_comment_out && tc_cap < ps.tc.n + 1)
        return fail(err, errcap, NEWSARC_E_ARG, "trusted comment buffer too small (%zu bytes needed)", ps.tc.n + 1);
    uint8_t h[PREHASH_BYTES];
    uint8_t sig_tc[SIG_BYTES + NA_TRUSTED_COMMENT_MAX];
    prehash(h, msg, len);
    if (crypto_sign_verify_detached(ps.blob + 2 + NA_KEYID_BYTES, h, sizeof h, pk->pk) != 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "signature verification failed: the data or the signature changed");
    memcpy(sig_tc, ps.blob + 2 + NA_KEYID_BYTES, SIG_BYTES);
    memcpy(sig_tc + SIG_BYTES, ps.tc.p, ps.tc.n);
    if (crypto_sign_verify_detached(ps.gsig, sig_tc, SIG_BYTES + ps.tc.n, pk->pk) != 0)
        return fail(err, errcap, NEWSARC_E_SIGNATURE, "trusted comment signature verification failed");
    if (trusted_comment_out) {
        memcpy(trusted_comment_out, ps.tc.p, ps.tc.n);
        trusted_comment_out[ps.tc.n] = '\0';
    }
    return 0;
}
