/*
 * Signed archives (issue 3): every single-byte change, truncation at every
 * length, appended bytes, a stripped signature and a signature by another
 * key are all rejected by "verify with a public key" = structure + integrity
 * + the minisign signature over the manifest, as `newsarc verify -p` does.
 */
#include "newsarc.h"
#include "sign.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { na_seckey sk; } signer;

static int sign_cb(void *ctx, const uint8_t *m, size_t n, char *out, size_t cap, size_t *out_len)
{
    signer *s = ctx;
    return na_sign(&s->sk, m, n, "newsarc test", NULL, out, cap, out_len, NULL, 0);
}

/* 0 only if the archive opens, verifies, and is signed by pk. */
static int verify_p(const uint8_t *buf, size_t len, const na_pubkey *pk)
{
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open_mem(&r, buf, len);
    if (!rc) rc = newsarc_reader_verify(r, 1, NULL, NULL);
    if (!rc) {
        size_t ml, sl;
        const uint8_t *m = newsarc_reader_manifest(r, &ml);
        const char *sig = newsarc_reader_signature(r, &sl);
        rc = sl ? na_verify(pk, m, ml, sig, sl, NULL, 0, NULL, 0) : NEWSARC_E_SIGNATURE;
    }
    newsarc_reader_free(r);
    return rc;
}

static void make_signed(const na_seckey *sk, tu_buf *out)
{
    /* a few tens of KB: 30 articles of ~900 bytes */
    newsarc_writer *w = newsarc_writer_new(NULL);
    for (int i = 0; i < 80; i++) {
        char name[32];
        snprintf(name, sizeof name, "d/%02d.txt", i);
        char *t = tu_text((uint64_t)i + 500, 1200);
        newsarc_entry e = {0};
        e.name = name;
        e.name_len = strlen(name);
        cr_assert_eq(newsarc_writer_add(w, &e, t, strlen(t), 0), 0);
        free(t);
    }
    signer s = {*sk};
    cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, out, sign_cb, &s), 0, "%s", newsarc_writer_error(w));
    newsarc_writer_free(w);
}

Test(signed, every_change_is_rejected, .timeout = 300)
{
    na_pubkey pk, pk2;
    na_seckey sk, sk2;
    cr_assert_eq(na_keypair_generate(&pk, &sk), 0);
    cr_assert_eq(na_keypair_generate(&pk2, &sk2), 0);
    tu_buf b = {0};
    make_signed(&sk, &b);
    cr_assert_gt(b.len, 8000, "archive of %zu bytes", b.len);
    cr_assert_eq(verify_p(b.data, b.len, &pk), 0, "the intact signed archive must pass");
    cr_expect_neq(verify_p(b.data, b.len, &pk2), 0, "another key must not pass");
    uint8_t *c = malloc(b.len + 1);
    size_t accepted = 0;
    for (size_t i = 0; i < b.len; i++) {
        memcpy(c, b.data, b.len);
        c[i] ^= 0x20;
        if (verify_p(c, b.len, &pk) == 0) accepted++;
        cr_expect_neq(verify_p(c, b.len, &pk), 0, "a change at offset %zu passed verify -p", i);
    }
    cr_expect_eq(accepted, 0);
    for (size_t n = 0; n < b.len; n += (n < 2000 || n > b.len - 2000) ? 1 : 97)
        cr_expect_neq(verify_p(b.data, n, &pk), 0, "truncation to %zu bytes passed", n);
    memcpy(c, b.data, b.len);
    c[b.len] = '\n';
    cr_expect_neq(verify_p(c, b.len + 1, &pk), 0, "an appended byte passed");
    /* stripped signature and re-signature by another key, both via the in-place signer */
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, b.data, b.len), 0);
    tu_buf stripped = {0}, other = {0};
    cr_assert_eq(newsarc_reader_write_with_signature(r, NULL, 0, tu_buf_write, &stripped), 0);
    cr_expect_neq(verify_p(stripped.data, stripped.len, &pk), 0, "a stripped signature passed");
    {
        newsarc_reader *r0 = NULL;
        cr_assert_eq(newsarc_reader_open_mem(&r0, stripped.data, stripped.len), 0);
        cr_expect_eq(newsarc_reader_verify(r0, 1, NULL, NULL), 0, "stripping leaves a valid unsigned archive");
        newsarc_reader_free(r0);
    }
    size_t ml;
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    char sig[1024];
    size_t sl;
    cr_assert_eq(na_sign(&sk2, m, ml, "newsarc test", NULL, sig, sizeof sig, &sl, NULL, 0), 0);
    cr_assert_eq(newsarc_reader_write_with_signature(r, sig, sl, tu_buf_write, &other), 0);
    cr_expect_neq(verify_p(other.data, other.len, &pk), 0, "a re-signature by another key passed for the first key");
    cr_expect_eq(verify_p(other.data, other.len, &pk2), 0, "the re-signature must pass for its own key");
    /* signing in place keeps every byte but the slot and the footer checksum */
    cr_assert_eq(other.len, b.len);
    newsarc_reader_free(r);
    tu_buf_free(&stripped);
    tu_buf_free(&other);
    free(c);
    tu_buf_free(&b);
    na_seckey_wipe(&sk);
    na_seckey_wipe(&sk2);
}
