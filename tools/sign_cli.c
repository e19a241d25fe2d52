/*
 * sign_cli.c - key files, passwords and signature reports for pack -s,
 * sign, verify -p and manifest.  The cryptography is in lib/sign.c.
 *
 * Trust model (spec/FORMAT.md section 11): the algorithm and key come from
 * the public key the user names, never from the archive; the key id in the
 * signature is only a hint for messages.
 */
#include "sign_cli.h"

#include "cli.h"
#include "password.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read a small text file (keys are a few hundred bytes). */
static char *read_small(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_err("'%s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(16385);
    size_t n = buf ? fread(buf, 1, 16385, f) : 0;
    int bad = !buf || ferror(f) || n > 16384;
    fclose(f);
    if (bad) {
        cli_err("'%s': %s", path, buf ? "not a key file (too large or unreadable)" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int sign_cli_load(sign_cli_ctx *c, const char *path)
{
    memset(c, 0, sizeof *c);
    size_t len;
    char *text = read_small(path, &len);
    if (!text) return -1;
    char err[256], pw[CLI_PASSWORD_CAP];
    int enc = na_seckey_is_encrypted(text, len);
    int rc = 0;
    if (enc < 0) {
        cli_err("'%s': not a minisign secret key", path);
        rc = -1;
    } else if (enc > 0) {
        char prompt[600];
        snprintf(prompt, sizeof prompt, "password for '%s': ", path);
        if (cli_password_read(prompt, 0, pw, sizeof pw, err, sizeof err) != 0) {
            cli_err("'%s': %s", path, err);
            rc = -1;
        }
    }
    if (!rc && na_seckey_decode(text, len, enc > 0 ? pw : NULL, &c->sk, err, sizeof err) != 0) {
        cli_err("'%s': %s", path, err);
        rc = -1;
    }
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(text, len);
    free(text);
    if (!rc) na_keyid_hex(c->keyid_hex, c->sk.keyid);
    return rc;
}

void sign_cli_free(sign_cli_ctx *c) { na_seckey_wipe(&c->sk); }

/*
 * The trusted comment names the archive and its article count, and nothing
 * time-dependent unless SOURCE_DATE_EPOCH asks for a date: the same key and
 * archive always give the same signature.
 */
int sign_cli_callback(void *ctx, const uint8_t *manifest, size_t len, char *out, size_t cap, size_t *out_len)
{
    sign_cli_ctx *c = ctx;
    uint8_t id[NEWSARC_ID_SIZE];
    char hex[NEWSARC_ID_HEX_SIZE + 1], tc[256];
    newsarc_article_id(id, manifest, len);
    newsarc_id_to_hex(hex, id);
    unsigned long long articles = 0;
    const char *a = NULL;
    for (size_t i = 0; i + 9 < len; i++)
        if ((i == 0 || manifest[i - 1] == '\n') && !memcmp(manifest + i, "articles ", 9)) {
            a = (const char *)manifest + i + 9;
            break;
        }
    if (a) articles = strtoull(a, NULL, 10);
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    int n;
    if (epoch && *epoch && strspn(epoch, "0123456789") == strlen(epoch) && strlen(epoch) < 20)
        n = snprintf(tc, sizeof tc, "newsarc archive %s articles %llu timestamp:%s", hex, articles, epoch);
    else
        n = snprintf(tc, sizeof tc, "newsarc archive %s articles %llu", hex, articles);
    if (n < 0 || (size_t)n >= sizeof tc) return -1;
    char err[256];
    if (na_sign(&c->sk, manifest, len, tc, NULL, out, cap, out_len, err, sizeof err) != 0) {
        cli_err("signing: %s", err);
        return -1;
    }
    return 0;
}

int sign_cli_load_pubkey(na_pubkey *pk, const char *path)
{
    size_t len;
    char *text = read_small(path, &len);
    if (!text) return -1;
    char err[256];
    int rc = na_pubkey_decode(text, len, pk, err, sizeof err);
    free(text);
    if (rc) {
        cli_err("'%s': %s", path, err);
        return -1;
    }
    return 0;
}

int sign_cli_verify_report(newsarc_reader *r, const na_pubkey *pk, const char *path, char *desc, size_t cap)
{
    size_t sl, ml;
    const char *sig = newsarc_reader_signature(r, &sl);
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    char err[256], kid[17];
    if (!sl) {
        snprintf(desc, cap, "unsigned");
        if (pk) {
            printf("%s: not signed (verify -p needs a signature by that key)\n", path);
            return EXIT_DATA;
        }
        return EXIT_OK;
    }
    uint8_t claimed[NA_KEYID_BYTES];
    if (na_sig_keyid(sig, sl, claimed, err, sizeof err) != 0) {
        fprintf(stderr, "newsarc verify: '%s': SIGN: %s\n", path, err);
        printf("%s: damaged (malformed signature)\n", path);
        return EXIT_DATA;
    }
    na_keyid_hex(kid, claimed);
    if (!pk) {
        /* integrity only: say who claims to have signed, never call it authentic */
        snprintf(desc, cap, "signed by key id %s (not checked: use -p PUBKEY)", kid);
        return EXIT_OK;
    }
    char want[17];
    na_keyid_hex(want, pk->keyid);
    static char tc[NA_TRUSTED_COMMENT_MAX + 1];
    int rc = na_verify(pk, m, ml, sig, sl, tc, sizeof tc, err, sizeof err);
    if (rc) {
        if (memcmp(claimed, pk->keyid, NA_KEYID_BYTES) != 0)
            fprintf(stderr, "newsarc verify: '%s': SIGN: signed by key id %s, not by the given key %s\n", path, kid, want);
        else
            fprintf(stderr, "newsarc verify: '%s': SIGN: %s\n", path, err);
        printf("%s: signature NOT valid for key %s\n", path, want);
        return EXIT_DATA;
    }
    /* the trusted comment, when it names an archive, must name this one */
    uint8_t id[NEWSARC_ID_SIZE];
    char hex[NEWSARC_ID_HEX_SIZE + 1];
    newsarc_article_id(id, m, ml);
    newsarc_id_to_hex(hex, id);
    if (!strncmp(tc, "newsarc archive ", 16) && strncmp(tc + 16, hex, NEWSARC_ID_HEX_SIZE) != 0) {
        fprintf(stderr, "newsarc verify: '%s': SIGN: the signed comment names another archive\n", path);
        printf("%s: signature NOT valid for this archive\n", path);
        return EXIT_DATA;
    }
    snprintf(desc, cap, "signature good, key %s", want);
    return EXIT_OK;
}
