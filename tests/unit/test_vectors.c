/*
 * Golden vectors: the committed archives in spec/vectors/ must (1) open,
 * verify and hold exactly the entries vectors.json lists, and (2) be what
 * the writer produces today, byte for byte.  (2) fails loudly if the format
 * bytes change by accident; it is skipped only when the linked zstd is not
 * the version the vectors were made with (zstd's output may differ).
 */
#include "newsarc.h"
#include "sign.h"
#include "vectors_gen.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static json_t *load_vectors(void)
{
    json_error_t err;
    json_t *j = json_load_file(NEWSARC_SPEC_DIR "/vectors/vectors.json", 0, &err);
    cr_assert_not_null(j, "vectors.json: %s", err.text);
    return j;
}

static json_t *vector(json_t *all, const char *name)
{
    json_t *list = json_object_get(all, "vectors");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *v = json_array_get(list, i);
        if (!strcmp(json_string_value(json_object_get(v, "name")), name)) return v;
    }
    cr_assert_fail("vector '%s' missing from vectors.json", name);
    return NULL;
}

static void check_committed(int i)
{
    json_t *all = load_vectors();
    json_t *v = vector(all, vg_name(i));
    char path[4096];
    snprintf(path, sizeof path, NEWSARC_SPEC_DIR "/vectors/%s", json_string_value(json_object_get(v, "file")));
    size_t len;
    uint8_t *data = slurp(path, &len);
    cr_expect_eq((json_int_t)len, json_integer_value(json_object_get(v, "file_size")));
    uint8_t h[32];
    char hex[65];
    newsarc_article_id(h, data, len);
    newsarc_id_to_hex(hex, h);
    cr_expect_str_eq(hex, json_string_value(json_object_get(v, "file_b2")));
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, data, len), 0, "%s: %s", path, newsarc_reader_error(r));
    cr_expect_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0, "%s: %s", path, newsarc_reader_error(r));
    newsarc_info in;
    newsarc_reader_info(r, &in);
    newsarc_id_to_hex(hex, in.archive_id);
    cr_expect_str_eq(hex, json_string_value(json_object_get(v, "archive_id")));
    json_t *ents = json_object_get(v, "entries");
    cr_assert_eq(newsarc_reader_entry_count(r), json_array_size(ents));
    for (size_t k = 0; k < json_array_size(ents); k++) {
        json_t *o = json_array_get(ents, k);
        newsarc_entry e;
        uint64_t art;
        newsarc_article_info ai;
        cr_assert_eq(newsarc_reader_entry(r, k, &e, &art), 0);
        cr_assert_eq(newsarc_reader_article(r, art, &ai), 0);
        newsarc_id_to_hex(hex, ai.id);
        cr_expect_str_eq(hex, json_string_value(json_object_get(o, "id")));
        json_t *nm = json_object_get(o, "name");
        cr_expect_eq(e.name_len, nm ? json_string_length(nm) : 0);
        if (nm) cr_expect(!memcmp(e.name, json_string_value(nm), e.name_len));
        /* the article's bytes hash to the listed id */
        void *d;
        size_t n;
        cr_assert_eq(newsarc_reader_read(r, art, &d, &n), 0);
        newsarc_article_id(h, d, n);
        cr_expect(!memcmp(h, ai.id, 32));
        newsarc_free(d);
    }
    newsarc_reader_free(r);
    free(data);
    json_decref(all);
}

static void check_regenerated(int i)
{
    json_t *all = load_vectors();
    const char *zv = json_string_value(json_object_get(all, "zstd_version"));
    if (strcmp(zv, ZSTD_versionString()) != 0) {
        json_decref(all);
        cr_skip_test("vectors made with zstd %s, linked zstd is %s", zv, ZSTD_versionString());
    }
    json_t *v = vector(all, vg_name(i));
    char path[4096];
    snprintf(path, sizeof path, NEWSARC_SPEC_DIR "/vectors/%s", json_string_value(json_object_get(v, "file")));
    size_t len;
    uint8_t *data = slurp(path, &len);
    tu_buf b = {0};
    cr_assert_eq(vg_build(i, &b), 0);
    cr_expect_eq(b.len, len, "%s: the writer's output changed size (%zu vs %zu): regenerate only if intended", path,
                 b.len, len);
    if (b.len == len) {
        size_t at = 0;
        while (at < len && b.data[at] == data[at]) at++;
        cr_expect_eq(at, len, "%s: the writer's output differs at byte %zu: regenerate only if intended", path, at);
    }
    tu_buf_free(&b);
    free(data);
    json_decref(all);
}

Test(vectors, minimal_committed) { check_committed(0); }
Test(vectors, files_committed) { check_committed(1); }
Test(vectors, jsonl_committed) { check_committed(2); }
Test(vectors, dictionary_committed) { check_committed(3); }
Test(vectors, minimal_regenerated) { check_regenerated(0); }
Test(vectors, files_regenerated) { check_regenerated(1); }
Test(vectors, jsonl_regenerated) { check_regenerated(2); }
Test(vectors, dictionary_regenerated) { check_regenerated(3); }
Test(vectors, signed_committed) { check_committed(4); }
Test(vectors, signed_regenerated) { check_regenerated(4); }

/* The signed vector's signature checks with its committed public key (as `newsarc verify -p` does). */
Test(vectors, signed_signature)
{
    size_t len, pl;
    uint8_t *data = slurp(NEWSARC_SPEC_DIR "/vectors/signed.nwa", &len);
    uint8_t *pub = slurp(NEWSARC_SPEC_DIR "/vectors/signed.pub", &pl);
    na_pubkey pk;
    cr_assert_eq(na_pubkey_decode((const char *)pub, pl, &pk, NULL, 0), 0);
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, data, len), 0);
    size_t ml, sl;
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    const char *sig = newsarc_reader_signature(r, &sl);
    cr_assert_gt(sl, 0, "the signed vector has no signature");
    cr_expect_eq(na_verify(&pk, m, ml, sig, sl, NULL, 0, NULL, 0), 0);
    newsarc_reader_free(r);
    free(pub);
    free(data);
}
