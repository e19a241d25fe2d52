/* Writer + reader + verify: round trips, determinism, lookups, damage. */
#include "format.h"
#include "newsarc.h"
#include "reader.h" /* the attr records, to check how a norm_id is stored */
#include "similarity.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ITEMS 40

static tu_item items[N_ITEMS];
static char names[N_ITEMS][32];
static char *texts[N_ITEMS];

static void make_items(void)
{
    for (int i = 0; i < N_ITEMS; i++) {
        snprintf(names[i], sizeof names[i], "dir%d/article-%02d.txt", i % 3, i);
        texts[i] = tu_text((uint64_t)i + 1, 200 + (size_t)i * 97);
        items[i] = (tu_item){names[i], texts[i], 0};
    }
    /* one duplicate article under another name, and one empty article */
    items[N_ITEMS - 2] = (tu_item){"copy/of-first.txt", texts[0], 0};
    items[N_ITEMS - 1] = (tu_item){"empty.txt", "", 0};
}

static void free_items(void)
{
    for (int i = 0; i < N_ITEMS; i++) free(texts[i]);
}

TestSuite(archive, .init = make_items, .fini = free_items);

static newsarc_reader *open_buf(const tu_buf *b)
{
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open_mem(&r, b->data, b->len);
    cr_assert_eq(rc, 0, "open: %s", newsarc_reader_error(r));
    return r;
}

Test(archive, round_trip_every_article)
{
    tu_buf b = {0};
    newsarc_writer_options o = {.block_size = 4096};
    char msg[512];
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, &o, &b, msg, sizeof msg), 0, "%s", msg);
    newsarc_reader *r = open_buf(&b);
    cr_expect_eq(newsarc_reader_article_count(r), N_ITEMS - 1, "the duplicate is stored once");
    cr_expect_eq(newsarc_reader_entry_count(r), N_ITEMS);
    for (int i = 0; i < N_ITEMS; i++) {
        uint64_t idx;
        cr_assert_eq(newsarc_reader_select(r, items[i].name, strlen(items[i].name), &idx), 0, "%s", items[i].name);
        void *d;
        size_t n;
        cr_assert_eq(newsarc_reader_read(r, idx, &d, &n), 0);
        cr_expect_eq(n, strlen(items[i].data));
        cr_expect(n == 0 || !memcmp(d, items[i].data, n));
        uint8_t id[32];
        newsarc_article_id(id, items[i].data, n);
        newsarc_article_info ai;
        newsarc_reader_article(r, idx, &ai);
        cr_expect(!memcmp(id, ai.id, 32), "id is BLAKE2b-256 of the bytes");
        newsarc_free(d);
    }
    cr_expect_eq(newsarc_reader_verify(r, 2, NULL, NULL), 0);
    newsarc_info in;
    newsarc_reader_info(r, &in);
    cr_expect_gt(in.block_count, 5, "4 KiB blocks split the content");
    cr_expect_eq(in.file_size, b.len);
    newsarc_reader_free(r);
    tu_buf_free(&b);
}

Test(archive, same_bytes_whatever_order_and_threads)
{
    size_t perm[N_ITEMS];
    for (int i = 0; i < N_ITEMS; i++) perm[i] = (size_t)(N_ITEMS - 1 - i);
    /* a shuffled order too */
    size_t perm2[N_ITEMS];
    for (int i = 0; i < N_ITEMS; i++) perm2[i] = (size_t)((i * 17) % N_ITEMS);
    tu_buf a = {0}, b = {0}, c = {0};
    newsarc_writer_options o1 = {.block_size = 4096, .threads = 1};
    newsarc_writer_options o2 = {.block_size = 4096, .threads = 3};
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, &o1, &a, NULL, 0), 0);
    cr_assert_eq(tu_pack(items, N_ITEMS, perm, &o2, &b, NULL, 0), 0);
    cr_assert_eq(tu_pack(items, N_ITEMS, perm2, &o2, &c, NULL, 0), 0);
    cr_assert_eq(a.len, b.len);
    cr_expect(!memcmp(a.data, b.data, a.len), "reversed input order or 3 threads changed the bytes");
    cr_assert_eq(a.len, c.len);
    cr_expect(!memcmp(a.data, c.data, a.len), "shuffled input order changed the bytes");
    tu_buf_free(&a);
    tu_buf_free(&b);
    tu_buf_free(&c);
}

Test(archive, dictionary_is_trained_and_used)
{
    /* enough similar content for a dictionary: 400 articles of ~1.5 KB */
    enum { N = 400 };
    tu_item *its = calloc(N, sizeof *its);
    char(*nm)[32] = calloc(N, 32);
    char **tx = calloc(N, sizeof *tx);
    for (int i = 0; i < N; i++) {
        snprintf(nm[i], 32, "a/%03d", i);
        tx[i] = tu_text((uint64_t)i * 7 + 3, 1500);
        its[i] = (tu_item){nm[i], tx[i], 0};
    }
    tu_buf b = {0};
    newsarc_writer_options o = {.block_size = 8192};
    cr_assert_eq(tu_pack(its, N, NULL, &o, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    newsarc_info in;
    newsarc_reader_info(r, &in);
    cr_expect_gt(in.dict_size, 0, "a dictionary was trained");
    cr_expect_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    uint64_t idx;
    void *d;
    size_t n;
    cr_assert_eq(newsarc_reader_select(r, "a/123", 5, &idx), 0);
    cr_assert_eq(newsarc_reader_read(r, idx, &d, &n), 0);
    cr_expect(n == 1500 && !memcmp(d, tx[123], n));
    newsarc_free(d);
    /* stored as one zstd frame, smaller than the dictionary */
    cr_expect_gt(in.dict_section_size, 12);
    cr_expect_lt(in.dict_section_size, in.dict_size, "the dictionary is stored compressed");
    cr_expect_eq(b.data[44] | b.data[45] << 8 | b.data[46] << 16 | (uint32_t)b.data[47] << 24, 0xFD2FB528u,
                 "the DICT body is a zstd frame");
    newsarc_reader_free(r);
    /* a DICT frame that does not declare dictionary-size bytes: no article is read, the problem is named */
    b.data[44 + 5] ^= 0x01; /* frame content size, 4 bytes after the magic and descriptor */
    r = open_buf(&b);
    /* names live in META, compressed with the same dictionary: the lookup already fails */
    cr_expect_eq(newsarc_reader_select(r, "a/123", 5, &idx), NEWSARC_E_CORRUPT);
    cr_expect(strstr(newsarc_reader_error(r), "dictionary") != NULL, "message: %s", newsarc_reader_error(r));
    newsarc_entry other;
    uint64_t oart;
    cr_expect_neq(newsarc_reader_entry(r, (uint64_t)1 << 40, &other, &oart), 0); /* another error in between */
    cr_expect_eq(newsarc_reader_read(r, 0, &d, &n), NEWSARC_E_CORRUPT, "still refused on a second use");
    cr_expect(strstr(newsarc_reader_error(r), "dictionary") != NULL, "second message: %s", newsarc_reader_error(r));
    cr_expect_neq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    newsarc_reader_free(r);
    tu_buf_free(&b);
    for (int i = 0; i < N; i++) free(tx[i]);
    free(tx);
    free(nm);
    free(its);
}

Test(archive, selectors)
{
    tu_buf b = {0};
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, NULL, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    newsarc_article_info ai;
    newsarc_reader_article(r, 5, &ai);
    char hex[65];
    newsarc_id_to_hex(hex, ai.id);
    uint64_t idx = 99;
    cr_expect_eq(newsarc_reader_select(r, hex, 64, &idx), 0);
    cr_expect_eq(idx, 5);
    idx = 99;
    cr_expect_eq(newsarc_reader_select(r, hex, 10, &idx), 0, "unique 10-digit prefix");
    cr_expect_eq(idx, 5);
    cr_expect_eq(newsarc_reader_select(r, hex, 7, &idx), NEWSARC_E_NOTFOUND, "prefixes under 8 digits are not ids");
    cr_expect_eq(newsarc_reader_select(r, "nope.txt", 8, &idx), NEWSARC_E_NOTFOUND);
    uint8_t zero[32] = {0};
    cr_expect_eq(newsarc_reader_find_id(r, zero, &idx), NEWSARC_E_NOTFOUND);
    newsarc_reader_free(r);
    tu_buf_free(&b);
}

Test(archive, ambiguous_prefix, .timeout = 60)
{
    /* Enough tiny articles that two ids share their first 8 hex digits
     * (birthday bound ~2^16; the inputs are fixed, so this is deterministic). */
    enum { N = 200000 };
    tu_item *its = calloc(N, sizeof *its);
    char(*tx)[16] = calloc(N, 16);
    for (int i = 0; i < N; i++) {
        snprintf(tx[i], 16, "t%d", i);
        its[i] = (tu_item){NULL, tx[i], 0};
    }
    /* JSON-less unnamed file entries: use add directly */
    newsarc_writer *w = newsarc_writer_new(NULL);
    for (int i = 0; i < N; i++) {
        newsarc_entry e = {0};
        cr_assert_eq(newsarc_writer_add(w, &e, tx[i], strlen(tx[i]), 0), 0);
    }
    tu_buf b = {0};
    cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, &b, NULL, NULL), 0);
    newsarc_writer_free(w);
    newsarc_reader *r = open_buf(&b);
    int found = 0;
    for (uint64_t i = 0; i + 1 < N && !found; i++) {
        newsarc_article_info a0, a1;
        newsarc_reader_article(r, i, &a0);
        newsarc_reader_article(r, i + 1, &a1);
        if (!memcmp(a0.id, a1.id, 4)) {
            char hex[65];
            newsarc_id_to_hex(hex, a0.id);
            uint64_t idx;
            cr_expect_eq(newsarc_reader_select(r, hex, 8, &idx), NEWSARC_E_AMBIGUOUS);
            cr_expect_eq(newsarc_reader_select(r, hex, 64, &idx), 0);
            cr_expect_eq(idx, i);
            found = 1;
        }
    }
    cr_expect(found, "no shared 8-digit prefix among the test ids");
    newsarc_reader_free(r);
    tu_buf_free(&b);
    free(tx);
    free(its);
}

Test(archive, refuses_bad_names)
{
    const char *bad[] = {"/abs", "a/../b", "a//b", "./a", "a/", "ctl\x01", "bad\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_item it = {bad[i], "x", 0};
        tu_buf b = {0};
        cr_expect_eq(tu_pack(&it, 1, NULL, NULL, &b, NULL, 0), NEWSARC_E_INPUT, "name '%s' accepted", bad[i]);
        tu_buf_free(&b);
    }
}

Test(archive, refuses_empty_and_conflicting_names)
{
    tu_buf b = {0};
    cr_expect_eq(tu_pack(items, 0, NULL, NULL, &b, NULL, 0), NEWSARC_E_INPUT);
    tu_item two[2] = {{"same", "one", 0}, {"same", "two", 0}};
    cr_expect_eq(tu_pack(two, 2, NULL, NULL, &b, NULL, 0), NEWSARC_E_INPUT);
    tu_buf_free(&b);
}

/* Every single-byte change anywhere in a small archive is detected by verify or open. */
Test(archive, every_byte_flip_is_detected, .timeout = 120)
{
    tu_item small[4] = {{"a.txt", "first article text", 0}, {"b/c.txt", "second article, longer text here", 0},
                        {"d.txt", "third", 0}, {"e.txt", "first article text", 0}};
    tu_buf b = {0};
    cr_assert_eq(tu_pack(small, 4, NULL, NULL, &b, NULL, 0), 0);
    uint8_t *copy = malloc(b.len);
    size_t undetected = 0;
    for (size_t i = 0; i < b.len; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= 0x01;
        newsarc_reader *r = NULL;
        int rc = newsarc_reader_open_mem(&r, copy, b.len);
        if (rc == 0) rc = newsarc_reader_verify(r, 1, NULL, NULL);
        if (rc == 0) undetected++;
        cr_expect_neq(rc, 0, "flip at offset %zu not detected", i);
        newsarc_reader_free(r);
    }
    cr_expect_eq(undetected, 0);
    /* truncation at every length and appended bytes */
    for (size_t n = 0; n < b.len; n++) {
        newsarc_reader *r = NULL;
        int rc = newsarc_reader_open_mem(&r, b.data, n);
        if (rc == 0) rc = newsarc_reader_verify(r, 1, NULL, NULL);
        cr_expect_neq(rc, 0, "truncation to %zu bytes not detected", n);
        newsarc_reader_free(r);
    }
    uint8_t *longer = malloc(b.len + 1);
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    newsarc_reader *r = NULL;
    cr_expect_neq(newsarc_reader_open_mem(&r, longer, b.len + 1), 0, "appended byte not detected");
    newsarc_reader_free(r);
    free(longer);
    free(copy);
    tu_buf_free(&b);
}

Test(archive, json_entries_round_trip)
{
    tu_item js[] = {
        {NULL, "{\"title\":\"T1\",\"maintext\":\"body one\",\"url\":\"https://x/1\",\"n\":1.5,\"tags\":[1,2]}", 0},
        {NULL, "{\"paragraphs\":[\"p1\",\"p2\"],\"link\":\"https://x/2\"}", 0},
        {NULL, "{\"text\":\"nul\\u0000inside\",\"id\":7}", 0},
        {NULL, "{\"text\":\"nul\\u0000inside\",\"id\":7}", 0},
    };
    tu_buf b = {0};
    cr_assert_eq(tu_pack(js, 4, NULL, NULL, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    cr_expect_eq(newsarc_reader_entry_count(r), 4, "identical lines are kept as entries");
    cr_expect_eq(newsarc_reader_article_count(r), 3);
    int seen_whole = 0, seen_main = 0;
    for (uint64_t i = 0; i < 4; i++) {
        newsarc_entry e;
        uint64_t art;
        cr_assert_eq(newsarc_reader_entry(r, i, &e, &art), 0);
        void *d;
        size_t n;
        cr_assert_eq(newsarc_reader_read(r, art, &d, &n), 0);
        char *js_out;
        size_t jl;
        cr_assert_eq(newsarc_entry_to_json(&e, d, n, &js_out, &jl), 0);
        if (e.flags & NEWSARC_ENTRY_WHOLE) {
            seen_whole = 1;
            cr_expect_str_eq(js_out, js[1].data, "whole objects come back byte for byte");
        } else if (e.text_key_len == 8) {
            seen_main = 1;
            cr_expect_str_eq(js_out, "{\"title\":\"T1\",\"maintext\":\"body one\",\"url\":\"https://x/1\",\"n\":1.5,\"tags\":[1,2]}");
            cr_expect(n == 8 && !memcmp(d, "body one", 8), "the article is the text member's value");
        } else {
            cr_expect_str_eq(js_out, "{\"text\":\"nul\\u0000inside\",\"id\":7}");
            cr_expect_eq(n, 10);
        }
        newsarc_free(js_out);
        newsarc_free(d);
    }
    cr_expect(seen_whole && seen_main);
    cr_expect_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    newsarc_reader_free(r);
    tu_buf_free(&b);
}

Test(archive, bad_json_is_refused)
{
    tu_item js[] = {{NULL, "{\"text\": \"unterminated", 0}};
    tu_buf b = {0};
    char msg[512];
    cr_expect_eq(tu_pack(js, 1, NULL, NULL, &b, msg, sizeof msg), NEWSARC_E_INPUT);
    cr_expect(strstr(msg, "invalid JSON") != NULL, "%s", msg);
    tu_item arr[] = {{NULL, "[1,2]", 0}};
    cr_expect_eq(tu_pack(arr, 1, NULL, NULL, &b, msg, sizeof msg), NEWSARC_E_INPUT);
    tu_buf_free(&b);
}

Test(archive, archive_id_is_hash_of_manifest)
{
    tu_buf b = {0};
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, NULL, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    size_t ml;
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    uint8_t h[32];
    newsarc_article_id(h, m, ml);
    newsarc_info in;
    newsarc_reader_info(r, &in);
    cr_expect(!memcmp(h, in.archive_id, 32));
    cr_expect(!strncmp((const char *)m, "newsarc-manifest 1\n", 19));
    size_t sl;
    cr_expect_null(newsarc_reader_signature(r, &sl));
    cr_expect_eq(sl, 0);
    newsarc_reader_free(r);
    tu_buf_free(&b);
}

/* JSON lines, several with the same text and different metadata (ties of the entry order). */
#define N_SPILL 60
static char spill_lines[N_SPILL][256];
static tu_item spill_items[N_SPILL];

static void make_spill_items(void)
{
    for (int i = 0; i < N_SPILL; i++) {
        snprintf(spill_lines[i], sizeof spill_lines[i],
                 "{\"url\":\"https://example.org/%d\",\"title\":\"t%d\",\"maintext\":\"text number %d of the feed\"}",
                 i % 7 == 0 ? 1 : i, i % 5, i % 11);
        spill_items[i] = (tu_item){NULL, spill_lines[i], 0};
    }
}

Test(archive, metadata_spilled_to_a_file_gives_the_same_bytes)
{
    make_spill_items();
    size_t rev[N_SPILL];
    for (int i = 0; i < N_SPILL; i++) rev[i] = (size_t)(N_SPILL - 1 - i);
    newsarc_writer_options mem = {.block_size = 4096, .meta_memory = UINT64_MAX};
    newsarc_writer_options some = {.block_size = 4096, .meta_memory = 600};
    newsarc_writer_options file = {.block_size = 4096, .meta_memory = 1, .threads = 2};
    tu_buf a = {0}, b = {0}, c = {0}, d = {0};
    char msg[512];
    cr_assert_eq(tu_pack(spill_items, N_SPILL, NULL, &mem, &a, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(spill_items, N_SPILL, rev, &some, &b, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(spill_items, N_SPILL, NULL, &file, &c, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(spill_items, N_SPILL, rev, &file, &d, msg, sizeof msg), 0, "%s", msg);
    cr_assert(a.len == b.len && !memcmp(a.data, b.data, a.len), "partly spilled metadata changed the bytes");
    cr_assert(a.len == c.len && !memcmp(a.data, c.data, a.len), "spilled metadata changed the bytes");
    cr_assert(a.len == d.len && !memcmp(a.data, d.data, a.len), "spilled metadata, reversed input, changed the bytes");
    newsarc_reader *r = open_buf(&c);
    cr_expect_eq(newsarc_reader_entry_count(r), N_SPILL, "one entry per line");
    cr_expect_eq(newsarc_reader_article_count(r), 11, "texts shared by several lines stored once");
    cr_expect_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    newsarc_reader_free(r);
    tu_buf_free(&a);
    tu_buf_free(&b);
    tu_buf_free(&c);
    tu_buf_free(&d);
}

/*
 * Placement keys beyond the key budget (1 MiB with the smallest metadata
 * budget) are sorted in runs in the temporary file and merged: the bytes are
 * those of one run in memory.  Urls recur across runs (equal keys must get
 * equal ranks), some with other texts, some texts under several urls.
 */
#define N_KEYS 16000
Test(archive, placement_keys_in_sorted_runs_give_the_same_bytes)
{
    char **lines = calloc(N_KEYS, sizeof *lines);
    tu_item *kitems = calloc(N_KEYS, sizeof *kitems);
    size_t *rev = calloc(N_KEYS, sizeof *rev);
    cr_assert(lines && kitems && rev);
    for (int i = 0; i < N_KEYS; i++) {
        lines[i] = malloc(256);
        cr_assert(lines[i]);
        int u = i % 9 == 0 ? i / 9 : i; /* recurring urls */
        snprintf(lines[i], 256,
                 "{\"url\":\"https://news%d.example.org/section-%d/a-rather-long-slug-for-article-%06d\","
                 "\"maintext\":\"story %d of the day, told once more\"}",
                 u % 5, u % 13, u, i % 4000);
        kitems[i] = (tu_item){NULL, lines[i], 0};
        rev[i] = (size_t)(N_KEYS - 1 - i);
    }
    newsarc_writer_options mem = {.meta_memory = UINT64_MAX, .dict_size = UINT32_MAX};
    newsarc_writer_options file = {.meta_memory = 1, .threads = 2, .dict_size = UINT32_MAX};
    tu_buf a = {0}, b = {0}, c = {0};
    char msg[512];
    cr_assert_eq(tu_pack(kitems, N_KEYS, NULL, &mem, &a, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(kitems, N_KEYS, NULL, &file, &b, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(kitems, N_KEYS, rev, &file, &c, msg, sizeof msg), 0, "%s", msg);
    cr_assert(a.len == b.len && !memcmp(a.data, b.data, a.len), "keys in runs changed the bytes");
    cr_assert(a.len == c.len && !memcmp(a.data, c.data, a.len), "keys in runs, reversed input, changed the bytes");
    newsarc_reader *r = open_buf(&b);
    cr_expect_eq(newsarc_reader_entry_count(r), N_KEYS);
    cr_expect_eq(newsarc_reader_article_count(r), 4000);
    cr_expect_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    newsarc_reader_free(r);
    tu_buf_free(&a);
    tu_buf_free(&b);
    tu_buf_free(&c);
    for (int i = 0; i < N_KEYS; i++) free(lines[i]);
    free(lines);
    free(kitems);
    free(rev);
}

Test(archive, metadata_spill_needs_a_writable_tmpdir)
{
    make_spill_items();
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent/newsarc-test", 1);
    newsarc_writer_options file = {.meta_memory = 1};
    tu_buf a = {0};
    char msg[512] = "";
    int rc = tu_pack(spill_items, N_SPILL, NULL, &file, &a, msg, sizeof msg);
    if (saved) setenv("TMPDIR", saved, 1);
    else unsetenv("TMPDIR");
    free(saved);
    cr_expect_eq(rc, NEWSARC_E_IO, "rc %d: %s", rc, msg);
    cr_expect(strstr(msg, "/nonexistent/newsarc-test") != NULL, "message names the directory: %s", msg);
    tu_buf_free(&a);
}

/* Cursors: several threads reading one reader, each through its own cursor. */
typedef struct cursor_job {
    newsarc_cursor *c;
    newsarc_reader *r;
    int t, bad;
} cursor_job;

static void *cursor_thread(void *arg)
{
    cursor_job *j = arg;
    uint64_t n = newsarc_reader_article_count(j->r);
    for (int round = 0; round < 20; round++)
        for (uint64_t i = (uint64_t)(j->t + round) % 3; i < n; i += 2) {
            const void *d;
            size_t len;
            newsarc_article_info ai;
            if (newsarc_cursor_read(j->c, i, &d, &len) != 0 || newsarc_reader_article(j->r, i, &ai) != 0) {
                j->bad++;
                continue;
            }
            uint8_t id[32];
            newsarc_article_id(id, d, len);
            if (len != ai.size || memcmp(id, ai.id, 32) != 0) j->bad++;
        }
    return NULL;
}

Test(archive, cursors_read_from_several_threads)
{
    tu_buf b = {0};
    newsarc_writer_options o = {.block_size = 2048};
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, &o, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    cursor_job j[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        j[t] = (cursor_job){NULL, r, t, 0};
        cr_assert_eq(newsarc_cursor_new(r, &j[t].c), 0);
    }
    for (int t = 0; t < 3; t++) cr_assert_eq(pthread_create(&th[t], NULL, cursor_thread, &j[t]), 0);
    for (int t = 0; t < 3; t++) {
        pthread_join(th[t], NULL);
        cr_expect_eq(j[t].bad, 0, "thread %d read wrong bytes", t);
    }
    const void *d;
    size_t len;
    cr_expect_eq(newsarc_cursor_read(j[0].c, newsarc_reader_article_count(r), &d, &len), NEWSARC_E_NOTFOUND);
    cr_expect(strstr(newsarc_cursor_error(j[0].c), "no article") != NULL);
    for (int t = 0; t < 3; t++) newsarc_cursor_free(j[t].c);
    newsarc_reader_free(r);
    /* a damaged block: the article does not match its id */
    newsarc_info in;
    r = open_buf(&b);
    cr_assert_eq(newsarc_reader_info(r, &in), 0);
    newsarc_article_info ai;
    cr_assert_eq(newsarc_reader_article(r, 0, &ai), 0);
    newsarc_reader_free(r);
    int seen_corrupt = 0;
    for (size_t off = 200; off < b.len && !seen_corrupt; off += 97) {
        tu_buf c = {0};
        tu_buf_write(&c, b.data, b.len);
        c.data[off] ^= 0x20;
        newsarc_reader *rc = NULL;
        if (newsarc_reader_open_mem(&rc, c.data, c.len) == 0) {
            newsarc_cursor *cur;
            if (newsarc_cursor_new(rc, &cur) == 0) {
                for (uint64_t i = 0; i < newsarc_reader_article_count(rc); i++) {
                    int e = newsarc_cursor_read(cur, i, &d, &len);
                    cr_assert(e == 0 || e == NEWSARC_E_CORRUPT, "cursor read: %d", e);
                    if (e == NEWSARC_E_CORRUPT) seen_corrupt = 1;
                    if (e == 0) {
                        uint8_t id[32];
                        newsarc_reader_article(rc, i, &ai);
                        newsarc_article_id(id, d, len);
                        cr_assert(!memcmp(id, ai.id, 32), "cursor returned bytes that do not match the id");
                    }
                }
                newsarc_cursor_free(cur);
            }
        }
        newsarc_reader_free(rc);
        tu_buf_free(&c);
    }
    cr_expect(seen_corrupt, "no flipped byte was caught by a cursor read");
    tu_buf_free(&b);
}

/* ---- META in frames (spec 4.4) ------------------------------------------------------------ */

#define N_FR_FILES 7000
#define N_FR_JSON 2500

static tu_item *frame_items(size_t *n)
{
    tu_item *it = calloc(N_FR_FILES + N_FR_JSON, sizeof *it);
    cr_assert(it);
    for (int i = 0; i < N_FR_FILES; i++) {
        char *name = malloc(128), *text = malloc(64);
        /* long names: the table passes several 256 KiB frames */
        snprintf(name, 128, "section-%02d/a-rather-long-directory-name-for-frames/article-%05d.txt", i % 7, i);
        snprintf(text, 64, "file article %d", i / 2); /* pairs share an article */
        it[i] = (tu_item){name, text, 0};
    }
    for (int i = 0; i < N_FR_JSON; i++) {
        char *line = malloc(256);
        snprintf(line, 256,
                 "{\"url\":\"https://example.org/news/%d.html\",\"title\":\"headline number %d of the day\","
                 "\"text\":\"json article %d\"}",
                 i, i, i);
        it[N_FR_FILES + i] = (tu_item){NULL, line, 0};
    }
    *n = N_FR_FILES + N_FR_JSON;
    return it;
}

static void frame_items_free(tu_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)it[i].name);
        free((char *)it[i].data);
    }
    free(it);
}

/* META's payload in an archive, and its frame count */
static const uint8_t *meta_payload(const tu_buf *b, uint32_t *frames)
{
    na_footer f;
    cr_assert_null(na_footer_decode(b->data, b->len, &f));
    const uint8_t *m = b->data + f.toc[NA_S_META].offset + 8;
    *frames = na_ld32(m + 4);
    return m;
}

static void same_entry(const newsarc_entry *a, uint64_t aa, const newsarc_entry *b, uint64_t ab, uint64_t i)
{
    cr_assert(aa == ab && a->flags == b->flags && a->name_len == b->name_len && a->meta_len == b->meta_len &&
                  a->text_key_len == b->text_key_len && a->text_pos == b->text_pos,
              "entry %llu differs", (unsigned long long)i);
    cr_assert(!memcmp(a->name, b->name, a->name_len) && !memcmp(a->meta, b->meta, a->meta_len) &&
                  !memcmp(a->text_key, b->text_key, a->text_key_len),
              "entry %llu differs", (unsigned long long)i);
}

Test(archive, metadata_in_frames_read_any_way, .timeout = 120)
{
    size_t n;
    tu_item *it = frame_items(&n);
    size_t *rev = malloc(n * sizeof *rev);
    for (size_t i = 0; i < n; i++) rev[i] = n - 1 - i;
    newsarc_writer_options o1 = {.block_size = 8192, .threads = 1}, o3 = {.block_size = 8192, .threads = 3};
    tu_buf a = {0}, b = {0};
    char msg[512];
    cr_assert_eq(tu_pack(it, n, NULL, &o1, &a, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(tu_pack(it, n, rev, &o3, &b, msg, sizeof msg), 0, "%s", msg);
    cr_assert(a.len == b.len && !memcmp(a.data, b.data, a.len), "frames depend on threads or input order");
    uint32_t nf;
    meta_payload(&a, &nf);
    cr_assert_geq(nf, 4, "expected several META frames, got %u", nf);

    newsarc_reader *r1 = open_buf(&a), *r4 = open_buf(&a), *lazy = open_buf(&a);
    cr_assert_eq(newsarc_reader_load_entries(r1, 1), 0, "%s", newsarc_reader_error(r1));
    cr_assert_eq(newsarc_reader_load_entries(r4, 4), 0, "%s", newsarc_reader_error(r4));
    uint64_t ne = newsarc_reader_entry_count(r1);
    cr_assert_eq(ne, n);
    for (uint64_t k = ne; k-- > 0;) { /* backwards: frames load out of order */
        newsarc_entry e1, e4, el;
        uint64_t a1, a4, al;
        cr_assert_eq(newsarc_reader_entry(r1, k, &e1, &a1), 0);
        cr_assert_eq(newsarc_reader_entry(r4, k, &e4, &a4), 0);
        cr_assert_eq(newsarc_reader_entry(lazy, k, &el, &al), 0, "%s", newsarc_reader_error(lazy));
        same_entry(&e1, a1, &e4, a4, k);
        same_entry(&e1, a1, &el, al, k);
        if (k > 0) { /* canonical order holds across frame boundaries */
            newsarc_entry p;
            uint64_t pa;
            cr_assert_eq(newsarc_reader_entry(r1, k - 1, &p, &pa), 0);
            size_t m = p.name_len < e1.name_len ? p.name_len : e1.name_len;
            int c = m ? memcmp(p.name, e1.name, m) : 0;
            cr_assert(c < 0 || (c == 0 && p.name_len <= e1.name_len), "entries %llu, %llu out of order",
                      (unsigned long long)k - 1, (unsigned long long)k);
        }
    }
    /* lookups by name, each on a fresh reader (one frame decompressed) */
    for (int i = 0; i < N_FR_FILES; i += 331) {
        newsarc_reader *r = open_buf(&a);
        uint64_t idx;
        cr_assert_eq(newsarc_reader_select(r, it[i].name, strlen(it[i].name), &idx), 0, "%s: %s", it[i].name,
                     newsarc_reader_error(r));
        void *data;
        size_t len;
        cr_assert_eq(newsarc_reader_read(r, idx, &data, &len), 0);
        cr_assert(len == strlen(it[i].data) && !memcmp(data, it[i].data, len), "%s: wrong article", it[i].name);
        newsarc_free(data);
        newsarc_reader_free(r);
    }
    static const char *absent[] = {"", "a", "section-00/a", "section-03/a-rather-long-directory-name-for-frames/article-00003.tx",
                                   "section-06/a-rather-long-directory-name-for-frames/article-99999.txt", "zzz"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
        uint64_t idx;
        cr_expect_eq(newsarc_reader_select(lazy, absent[i], strlen(absent[i]), &idx), NEWSARC_E_NOTFOUND, "'%s'",
                     absent[i]);
    }
    cr_expect_eq(newsarc_reader_verify(r1, 1, NULL, NULL), 0);
    cr_expect_eq(newsarc_reader_verify(lazy, 3, NULL, NULL), 0);
    newsarc_reader_free(r1);
    newsarc_reader_free(r4);
    newsarc_reader_free(lazy);
    tu_buf_free(&a);
    tu_buf_free(&b);
    free(rev);
    frame_items_free(it, n);
}

/* Damage in one META frame: named the same way whatever the thread count, other frames still readable. */
Test(archive, metadata_frame_damage_is_isolated, .timeout = 120)
{
    size_t n;
    tu_item *it = frame_items(&n);
    newsarc_writer_options o = {.block_size = 8192, .threads = 2};
    tu_buf a = {0};
    char msg[512];
    cr_assert_eq(tu_pack(it, n, NULL, &o, &a, msg, sizeof msg), 0, "%s", msg);
    uint32_t nf;
    const uint8_t *m = meta_payload(&a, &nf);
    cr_assert_geq(nf, 4);
    size_t names_at = 24 + 16 * (size_t)nf, src = names_at;
    for (uint32_t f = 0; f < nf; f++) src += na_ld32(m + 24 + 16 * f + 12);
    size_t frame_at[64];
    cr_assert_leq(nf, 64);
    for (uint32_t f = 0; f < nf; f++) {
        frame_at[f] = src;
        src += na_ld32(m + 24 + 16 * f);
    }
    size_t base = (size_t)(m - a.data);
    /* frames 1 and 3 broken (magic): every thread count reports frame 1 */
    tu_buf d = {0};
    tu_buf_write(&d, a.data, a.len);
    d.data[base + frame_at[1]] ^= 0x40;
    d.data[base + frame_at[3]] ^= 0x40;
    char first[512];
    for (int T = 1; T <= 4; T++) {
        newsarc_reader *r = open_buf(&d);
        cr_assert_eq(newsarc_reader_load_entries(r, T), NEWSARC_E_CORRUPT);
        if (T == 1) snprintf(first, sizeof first, "%s", newsarc_reader_error(r));
        cr_expect_str_eq(newsarc_reader_error(r), first, "threads %d", T);
        cr_expect(strstr(first, "metadata frame 1") != NULL, "names the first damaged frame: %s", first);
        newsarc_reader_free(r);
    }
    /* an entry of frame 0 still reads; one of frame 1 does not */
    newsarc_reader *r = open_buf(&d);
    newsarc_entry e;
    uint64_t art;
    cr_expect_eq(newsarc_reader_entry(r, 0, &e, &art), 0);
    cr_expect_eq(newsarc_reader_entry(r, na_ld32(m + 24 + 8), &e, &art), NEWSARC_E_CORRUPT);
    cr_expect_eq(newsarc_reader_verify(r, 2, NULL, NULL), NEWSARC_E_CORRUPT);
    newsarc_reader_free(r);
    /* a first name in the directory that differs from the frame's first record */
    tu_buf_free(&d);
    tu_buf_write(&d, a.data, a.len);
    size_t nm = names_at;
    for (uint32_t f = 0; f < 2; f++) nm += na_ld32(m + 24 + 16 * f + 12);
    cr_assert_gt(na_ld32(m + 24 + 16 * 2 + 12), 0, "frame 2 starts with a named entry");
    d.data[base + nm + 3] ^= 1;
    r = open_buf(&d);
    cr_expect_eq(newsarc_reader_load_entries(r, 2), NEWSARC_E_CORRUPT);
    cr_expect(strstr(newsarc_reader_error(r), "first name") != NULL, "%s", newsarc_reader_error(r));
    newsarc_reader_free(r);
    tu_buf_free(&d);
    tu_buf_free(&a);
    frame_items_free(it, n);
}

/*
 * norm_id (attr): 16 bytes; when normalizing changes nothing it is the id's
 * first 16 bytes and the record stores zeros (spec/FORMAT.md 4.9 flag bit 4).
 */
Test(archive, norm_id_is_the_id_prefix_only_when_normalizing_changes_nothing)
{
    static const tu_item its[] = {
        {"plain.txt", "The minister said on Monday.\nThe talks would go on.", 0},
        {"crlf.txt", "The minister said on Monday.\r\nThe talks would go on.", 0},
        {"arabic.txt", "\xd9\x82\xd8\xa7\xd9\x84 \xd8\xa7\xd9\x84\xd9\x88\xd8\xb2\xd9\x8a\xd8\xb1", 0},
    };
    tu_buf b = {0};
    newsarc_writer_options o = {.dict_size = UINT32_MAX, .threads = 1};
    cr_assert_eq(tu_pack(its, 3, NULL, &o, &b, NULL, 0), 0);
    newsarc_reader *r = open_buf(&b);
    cr_assert_eq(newsarc_reader_verify(r, 1, NULL, NULL), 0);
    uint8_t nid[3][NEWSARC_NORM_ID_SIZE];
    int same[3];
    for (int k = 0; k < 3; k++) {
        uint64_t idx;
        newsarc_article_info ai;
        newsarc_text_info ti;
        cr_assert_eq(newsarc_reader_select(r, its[k].name, strlen(its[k].name), &idx), 0);
        cr_assert_eq(newsarc_reader_article(r, idx, &ai), 0);
        cr_assert_eq(newsarc_reader_text_info(r, idx, &ti), 0);
        cr_assert(ti.present && ti.has_norm_id, "%s has a norm_id", its[k].name);
        memcpy(nid[k], ti.norm_id, sizeof nid[k]);
        same[k] = !memcmp(ti.norm_id, ai.id, NEWSARC_NORM_ID_SIZE);
        /* stored: flag bit 4 and a zero field exactly when it is the id's prefix */
        const uint8_t *q = r->attr_recs + (size_t)idx * NA_ATTR_REC;
        static const uint8_t zero[NA_NORM_ID];
        cr_expect_eq((q[0] & NA_ATTR_NORM_IS_ID) != 0, same[k], "%s: flag", its[k].name);
        cr_expect_eq(!memcmp(q + 14, zero, NA_NORM_ID), same[k], "%s: stored field", its[k].name);
    }
    cr_expect(same[0], "an already normalized text: norm_id is the id's prefix");
    cr_expect(same[2], "Arabic without anything to normalize: the id's prefix");
    cr_expect(!same[1], "CRLF is normalized: the norm_id is not the id's");
    cr_expect(!memcmp(nid[0], nid[1], NEWSARC_NORM_ID_SIZE), "CRLF and LF copies share a norm_id");
    newsarc_reader_free(r);
    tu_buf_free(&b);
}

/* ---- placement MinHash (lib/similarity.c) against a plain reference ---------------- */


static void minhash_reference(const uint8_t *p, size_t n, uint32_t sig[NA_MINHASH_K])
{
    static const uint64_t seeds[NA_MINHASH_K] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL,
                                                 0x2545F4914F6CDD1DULL, 0xD6E8FEB86659FD93ULL, 0xA0761D6478BD642FULL,
                                                 0xE7037ED1A0B428DBULL, 0x8EBC6AF09C88C6E3ULL};
    uint64_t mins[NA_MINHASH_K];
    for (int i = 0; i < NA_MINHASH_K; i++) mins[i] = UINT64_MAX;
    for (size_t i = 7; n >= 8 && i < n; i++) {
        uint64_t w = 0;
        for (size_t k = i - 7; k <= i; k++) w = (w << 8) | p[k];
        uint64_t h = w * 0x9E3779B97F4A7C15ULL;
        if (h >> 62) continue;
        h ^= h >> 33, h *= 0xff51afd7ed558ccdULL, h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ULL, h ^= h >> 33;
        for (int k = 0; k < NA_MINHASH_K; k++) {
            uint64_t v = (h ^ seeds[k]) * 0xD6E8FEB86659FD93ULL;
            v ^= v >> 32;
            if (v < mins[k]) mins[k] = v;
        }
    }
    for (int i = 0; i < NA_MINHASH_K; i++) sig[i] = (uint32_t)(mins[i] >> 32);
}

/* The signature decides placement, so the archive bytes: it must not change with how it is computed. */
Test(similarity, minhash_matches_the_reference)
{
    static uint8_t buf[3000];
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)((x >> 24) % 7 == 0 ? ' ' : 'a' + (x >> 32) % 26); /* text-like, repeats */
    }
    int top = na_minhash_simd(1);
    for (int level = 0; level <= top; level++) { /* without SIMD, and with AVX-512 where the CPU has it */
        cr_assert_eq(na_minhash_simd(level), level);
        for (size_t n = 0; n <= sizeof buf; n += (n < 600 ? 1 : 97)) {
            uint32_t a[NA_MINHASH_K], b[NA_MINHASH_K];
            na_minhash(buf, n, a);
            minhash_reference(buf, n, b);
            cr_assert(!memcmp(a, b, sizeof a), "length %zu, SIMD level %d", n, level);
        }
    }
    na_minhash_simd(1);
}

/*
 * Spec 9.3, packing: a group of similar articles that would straddle two
 * blocks starts a new one when the current block is at least a quarter
 * full and the group fits in an empty block.  Seven unrelated 1500-byte
 * articles (10.5 KB) come first, then five copies of one 2000-byte article
 * (10 KB, each with its own prefix): in 16 KiB blocks, filling greedily
 * would put two copies in the first block and three in the second.
 */
Test(similarity, a_group_of_copies_is_not_cut_between_blocks)
{
    enum { SINGLES = 7, COPIES = 5 };
    char nm[SINGLES + COPIES][16], *tx[SINGLES + COPIES];
    tu_item its[SINGLES + COPIES];
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char *story = malloc(2001);
    cr_assert(story);
    for (int k = 0; k < 2000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        story[k] = (char)('a' + (x >> 32) % 26);
    }
    story[2000] = 0;
    for (int i = 0; i < SINGLES + COPIES; i++) {
        tx[i] = malloc(2100);
        cr_assert(tx[i]);
        if (i < SINGLES) { /* random letters: nothing in common with the rest */
            snprintf(nm[i], sizeof nm[i], "a/%02d", i);
            for (int k = 0; k < 1500; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                tx[i][k] = (char)('a' + (x >> 32) % 26);
            }
            tx[i][1500] = 0;
        } else {
            snprintf(nm[i], sizeof nm[i], "b/%02d", i);
            snprintf(tx[i], 2100, "copy %d: %s", i, story);
        }
        its[i] = (tu_item){nm[i], tx[i], 0};
    }
    newsarc_writer_options o = {.block_size = 16384, .level = 3, .dict_size = UINT32_MAX};
    tu_buf b = {0};
    char msg[256];
    cr_assert_eq(tu_pack(its, SINGLES + COPIES, NULL, &o, &b, msg, sizeof msg), 0, "%s", msg);
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, b.data, b.len), 0);
    int64_t copies_block = -1;
    uint32_t blocks_of_singles = 0;
    for (uint64_t i = 0; i < newsarc_reader_article_count(r); i++) {
        newsarc_article_info ai;
        cr_assert_eq(newsarc_reader_article(r, i, &ai), 0);
        if (ai.size > 1500) { /* a copy */
            if (copies_block < 0) copies_block = ai.block;
            cr_assert_eq(ai.block, (uint32_t)copies_block, "the copies are split between blocks %u and %lld",
                         ai.block, (long long)copies_block);
        } else
            blocks_of_singles |= 1u << ai.block;
    }
    cr_expect_eq(blocks_of_singles, 1u, "the unrelated articles fill one block");
    cr_expect_eq(copies_block, 1, "the copies start the second block");
    newsarc_reader_free(r);
    tu_buf_free(&b);
    free(story);
    for (int i = 0; i < SINGLES + COPIES; i++) free(tx[i]);
}

/*
 * The batch fetch callback (newsarc_writer_set_fetch_many: pack reads a
 * block's input lines with one io_uring submission): the same archive as one
 * fetch per article, at any thread count; bytes that changed since pass 1
 * and a failing read are reported as with the plain callback.
 */
typedef struct many_src {
    const char *data; /* the "file": JSON lines, located by offset */
    int mode;         /* 0 as read, 1 one byte changed, 2 the read fails */
    _Atomic int batches;
    uint64_t flip_at; /* mode 1, plain fetch: the line at this offset has a byte changed */
} many_src;

static int many_fetch(void *ctx, uint64_t locator, void *dst, size_t len)
{
    many_src *m = ctx;
    memcpy(dst, m->data + locator, len);
    if (m->mode == 1 && locator == m->flip_at && len > 30) ((char *)dst)[len - 5] ^= 1; /* inside the text */
    return 0;
}

static int many_fetch_many(void *ctx, size_t n, const uint64_t *locators, void *const *dsts, const size_t *lens)
{
    many_src *m = ctx;
    m->batches++;
    if (m->mode == 2) return -1;
    for (size_t i = 0; i < n; i++) memcpy(dsts[i], m->data + locators[i], lens[i]);
    if (m->mode == 1 && n > 2 && lens[2] > 30) ((char *)dsts[2])[lens[2] - 5] ^= 1; /* inside the text */
    return 0;
}

static int pack_many(many_src *m, const size_t *offs, const size_t *lens, size_t n, int threads, int batch,
                     tu_buf *out, char *msg)
{
    newsarc_writer_options o = {.block_size = 4096, .threads = threads};
    newsarc_writer *w = newsarc_writer_new(&o);
    cr_assert(w);
    cr_assert_eq(newsarc_writer_set_fetch(w, many_fetch, m), 0);
    if (batch) cr_assert_eq(newsarc_writer_set_fetch_many(w, many_fetch_many), 0);
    for (size_t i = 0; i < n; i++) cr_assert_eq(newsarc_writer_add_json(w, m->data + offs[i], lens[i], NULL, offs[i]), 0);
    int rc = newsarc_writer_finish(w, tu_buf_write, out, NULL, NULL);
    snprintf(msg, 512, "%s", newsarc_writer_error(w));
    newsarc_writer_free(w);
    return rc;
}

Test(archive, batch_fetch_gives_the_same_bytes_and_reports_changes)
{
    enum { N = 400 };
    size_t cap = (size_t)N * 160, used = 0, offs[N], lens[N];
    char *data = malloc(cap);
    cr_assert(data);
    for (int i = 0; i < N; i++) {
        offs[i] = used;
        int k = snprintf(data + used, cap - used,
                         "{\"url\":\"https://example.org/%d\",\"maintext\":\"story %d, told %d times over again\"}\n",
                         (i * 37) % N, i % 150, i);
        lens[i] = (size_t)k - 1;
        used += (size_t)k;
    }
    many_src m = {.data = data};
    tu_buf a = {0}, b = {0}, c = {0};
    char msg[512];
    cr_assert_eq(pack_many(&m, offs, lens, N, 2, 0, &a, msg), 0, "%s", msg);
    cr_assert_eq(m.batches, 0);
    for (int t = 1; t <= 3; t++) {
        b.len = 0;
        cr_assert_eq(pack_many(&m, offs, lens, N, t, 1, &b, msg), 0, "%s", msg);
        cr_assert(a.len == b.len && !memcmp(a.data, b.data, a.len), "batch fetch at -T %d changed the bytes", t);
    }
    cr_assert_gt(m.batches, 3, "one call per block");
    m.mode = 1;
    cr_assert_eq(pack_many(&m, offs, lens, N, 2, 1, &c, msg), NEWSARC_E_INPUT);
    cr_assert(strstr(msg, "changed while packing"), "%s", msg);
    m.flip_at = offs[N / 3]; /* the same through the plain callback, one line */
    for (int t = 1; t <= 2; t++) {
        c.len = 0;
        cr_assert_eq(pack_many(&m, offs, lens, N, t, 0, &c, msg), NEWSARC_E_INPUT, "-T %d", t);
        cr_assert(strstr(msg, "changed while packing"), "%s", msg);
    }
    m.mode = 2;
    c.len = 0;
    cr_assert_eq(pack_many(&m, offs, lens, N, 2, 1, &c, msg), NEWSARC_E_IO);
    cr_assert(strstr(msg, "could not read an input again"), "%s", msg);
    newsarc_writer *w = newsarc_writer_new(NULL);
    cr_assert_eq(newsarc_writer_set_fetch_many(w, many_fetch_many), NEWSARC_E_STATE, "needs the fetch callback first");
    newsarc_writer_free(w);
    tu_buf_free(&a);
    tu_buf_free(&b);
    tu_buf_free(&c);
    free(data);
}

/* newsarc_writer_add_batch: the bytes of one newsarc_writer_add after the
 * other, for any batch cut and thread count; the first bad entry stops it. */
Test(archive, add_batch_gives_the_bytes_of_single_adds)
{
    tu_buf a = {0};
    newsarc_writer_options o1 = {.block_size = 4096, .threads = 1};
    cr_assert_eq(tu_pack(items, N_ITEMS, NULL, &o1, &a, NULL, 0), 0);
    newsarc_entry e[N_ITEMS];
    const void *art[N_ITEMS];
    size_t len[N_ITEMS];
    uint64_t loc[N_ITEMS] = {0};
    for (int i = 0; i < N_ITEMS; i++) {
        e[i] = (newsarc_entry){.name = items[i].name, .name_len = strlen(items[i].name)};
        art[i] = items[i].data;
        len[i] = strlen(items[i].data);
    }
    for (int threads = 1; threads <= 3; threads++)
        for (size_t cut = 1; cut <= N_ITEMS; cut += 13) {
            newsarc_writer_options o = {.block_size = 4096, .threads = threads};
            newsarc_writer *w = newsarc_writer_new(&o);
            cr_assert(w);
            for (size_t at = 0; at < N_ITEMS; at += cut) {
                size_t n = at + cut <= N_ITEMS ? cut : N_ITEMS - at, done = 99;
                cr_assert_eq(newsarc_writer_add_batch(w, e + at, art + at, len + at, n, loc + at, &done), 0, "%s",
                             newsarc_writer_error(w));
                cr_assert_eq(done, n);
            }
            tu_buf b = {0};
            cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, &b, NULL, NULL), 0);
            newsarc_writer_free(w);
            cr_assert(b.len == a.len && !memcmp(a.data, b.data, a.len),
                      "batches of %zu at -T %d give other bytes than single adds", cut, threads);
            tu_buf_free(&b);
        }
    /* a bad name at 5: the five before it are added, *done says so */
    newsarc_entry bad[N_ITEMS];
    memcpy(bad, e, sizeof bad);
    bad[5] = (newsarc_entry){.name = "a/../b", .name_len = 6};
    newsarc_writer_options o2 = {.threads = 2};
    newsarc_writer *w = newsarc_writer_new(&o2);
    size_t done = 99;
    cr_expect_eq(newsarc_writer_add_batch(w, bad, art, len, N_ITEMS, loc, &done), NEWSARC_E_INPUT);
    cr_expect_eq(done, 5);
    cr_expect(strstr(newsarc_writer_error(w), "'..'"), "message: %s", newsarc_writer_error(w));
    cr_expect_eq(newsarc_writer_add_batch(w, e, art, len, 0, loc, &done), 0);
    cr_expect_eq(done, 0);
    newsarc_writer_free(w);
    tu_buf_free(&a);
}
