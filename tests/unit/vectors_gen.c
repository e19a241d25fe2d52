/*
 * vectors_gen.c - deterministic inputs for the golden vectors.  Changing
 * anything here changes spec/vectors/: regenerate with
 * `cmake --build build --target vectors` and say why in the commit.
 */
#include "vectors_gen.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[VG_COUNT] = {"minimal", "files", "jsonl", "dictionary", "signed"};

const char *vg_name(int i) { return i >= 0 && i < VG_COUNT ? names[i] : NULL; }

static int build_minimal(tu_buf *out)
{
    tu_item it = {"hello.txt", "Hello, newsarc!\n", 0};
    return tu_pack(&it, 1, NULL, NULL, out, NULL, 0);
}

static int build_files(tu_buf *out)
{
    static const char arabic[] = "\xd9\x88\xd9\x83\xd8\xa7\xd9\x84\xd8\xa9 \xd8\xa7\xd9\x84\xd8\xa3\xd9\x86\xd8\xa8"
                                 "\xd8\xa7\xd8\xa1: \xd8\xae\xd8\xa8\xd8\xb1 \xd8\xb9\xd8\xa7\xd8\xac\xd9\x84\n";
    char *long1 = tu_text(11, 3000), *long2 = tu_text(12, 2500);
    tu_item its[] = {
        {"ar/001.txt", arabic, 0},
        {"ar/002.txt", long1, 0},
        {"en/report one.txt", long2, 0},
        {"latin1.txt", "caf\xe9 \xa3" "5\r\n", 0},
        {"empty.txt", "", 0},
        {"copy/of-001.txt", arabic, 0},
    };
    newsarc_writer_options o = {.block_size = 2048, .level = 3};
    int rc = tu_pack(its, sizeof its / sizeof *its, NULL, &o, out, NULL, 0);
    free(long1);
    free(long2);
    return rc;
}

static int build_jsonl(tu_buf *out)
{
    tu_item its[] = {
        {NULL, "{\"url\":\"https://example.com/a\",\"title\":\"A\",\"maintext\":\"Text of A.\",\"date_publish\":\"2024-01-02 03:04:05\",\"authors\":[\"X\",\"Y\"],\"n\":3}", 0},
        {NULL, "{\"text\":\"\\u0646\\u0635 \\u0639\\u0631\\u0628\\u064a\",\"source\":null,\"meta\":{\"k\":true}}", 0},
        {NULL, "{\"title\":\"no text member\",\"paragraphs\":[\"p1\",\"p2\"],\"link\":\"https://example.com/b\"}", 0},
    };
    return tu_pack(its, sizeof its / sizeof *its, NULL, NULL, out, NULL, 0);
}

static int build_dictionary(tu_buf *out)
{
    enum { N = 240 };
    tu_item its[N];
    char nm[N][24];
    char *tx[N];
    for (int i = 0; i < N; i++) {
        snprintf(nm[i], sizeof nm[i], "feed/%03d.txt", i);
        tx[i] = tu_text((uint64_t)i + 100, 900 + (size_t)(i % 7) * 50);
        its[i] = (tu_item){nm[i], tx[i], 0};
    }
    newsarc_writer_options o = {.block_size = 16384, .dict_size = 4096};
    int rc = tu_pack(its, N, NULL, &o, out, NULL, 0);
    for (int i = 0; i < N; i++) free(tx[i]);
    return rc;
}

/* The unencrypted minisign test key in tests/fixtures/keys (made by the real minisign). */
static char *slurp_fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fixtures/keys/%s", NEWSARC_TEST_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(8192);
    size_t n = buf ? fread(buf, 1, 8191, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    *len = n;
    return buf;
}

char *vg_signed_pubkey(size_t *len) { return slurp_fixture("minisign-nopw.pub", len); }

static int sign_cb(void *ctx, const uint8_t *m, size_t n, char *out, size_t cap, size_t *out_len)
{
    return na_sign(ctx, m, n, "newsarc test vector", NULL, out, cap, out_len, NULL, 0);
}

static int build_signed(tu_buf *out)
{
    size_t kl;
    char *key = slurp_fixture("minisign-nopw.key", &kl);
    if (!key) return NEWSARC_E_IO;
    na_seckey sk;
    int rc = na_seckey_decode(key, kl, NULL, &sk, NULL, 0);
    free(key);
    if (rc) return rc;
    newsarc_writer *w = newsarc_writer_new(NULL);
    newsarc_entry e = {0};
    e.name = "signed.txt";
    e.name_len = strlen(e.name);
    const char *text = "Every byte of this archive is covered by an Ed25519 signature.\n";
    rc = newsarc_writer_add(w, &e, text, strlen(text), 0);
    if (!rc) rc = newsarc_writer_finish(w, tu_buf_write, out, sign_cb, &sk);
    newsarc_writer_free(w);
    na_seckey_wipe(&sk);
    return rc;
}

int vg_build(int i, tu_buf *out)
{
    switch (i) {
    case 0: return build_minimal(out);
    case 1: return build_files(out);
    case 2: return build_jsonl(out);
    case 3: return build_dictionary(out);
    case 4: return build_signed(out);
    default: return NEWSARC_E_ARG;
    }
}
