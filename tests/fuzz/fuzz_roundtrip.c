/*
 * fuzz_roundtrip.c - libFuzzer target: pack arbitrary files, read them back.
 *
 * Input layout (every field optional: a short input just ends the list):
 *   byte 0        options: bits 0-1 level (1, 2, 3 or 19), bits 2-4 block
 *                 size (see block_sizes), bit 5 two threads, bit 6 fetch
 *                 callback for the first pack (the second uses the other mode)
 *   then records: u8 name_len (0..127, high bit ignored), u16le data_len,
 *                 name bytes, data bytes (truncated at the end of the input)
 * At most MAX_RECORDS records.  Records whose names the writer refuses
 * (NEWSARC_E_INPUT) are skipped.  The archive must open and verify, hold one
 * entry per record with the same name, and every article must read back as
 * exactly the record's bytes.  Packing the records in reverse order must
 * give the same archive.  One name for two different files, or a name that
 * is also the directory of another ("x" and "x/y"), is refused at finish
 * with NEWSARC_E_INPUT.
 */
#include "newsarc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECORDS 48

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_roundtrip: invariant failed: %s\n", what);
        abort();
    }
}

typedef struct obuf {
    uint8_t *p;
    size_t len, cap;
} obuf;

static int out_fn(void *ctx, const void *p, size_t n)
{
    obuf *b = ctx;
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n) c *= 2;
        uint8_t *q = realloc(b->p, c);
        if (!q) return -1;
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

typedef struct rec {
    const char *name;
    size_t name_len;
    const uint8_t *data;
    size_t len;
    int ok;
} rec;

typedef struct recs {
    rec r[MAX_RECORDS];
    size_t n;
} recs;

static int fetch_fn(void *ctx, uint64_t locator, void *dst, size_t len)
{
    const recs *R = ctx;
    if (locator >= R->n || R->r[locator].len != len) return -1;
    if (len) memcpy(dst, R->r[locator].data, len);
    return 0;
}

static int all_hex64(const char *s, size_t n)
{
    if (n != 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static const uint32_t block_sizes[8] = {0, 1, 16, 100, 1024, 4096, 65536, 1u << 20};

static char last_error[600]; /* the writer's message when finish failed */

/* Pack the accepted records in the given direction; returns the finish code. */
static int pack(recs *R, const newsarc_writer_options *o, int use_fetch, int reverse, obuf *out, int mark)
{
    newsarc_writer *w = newsarc_writer_new(o);
    must(w != NULL, "writer");
    if (use_fetch) must(newsarc_writer_set_fetch(w, fetch_fn, R) == 0, "set fetch");
    size_t added = 0;
    for (size_t k = 0; k < R->n; k++) {
        size_t i = reverse ? R->n - 1 - k : k;
        rec *x = &R->r[i];
        if (!mark && !x->ok) continue;
        newsarc_entry e = {0};
        e.name = x->name;
        e.name_len = x->name_len;
        int rc = newsarc_writer_add(w, &e, x->data, x->len, i);
        if (mark) {
            x->ok = rc == 0;
            if (rc) must(rc == NEWSARC_E_INPUT, "a refused file is bad input (its name)");
        } else {
            must(rc == 0, "second pack accepts what the first accepted");
        }
        added += rc == 0;
    }
    int rc = added ? newsarc_writer_finish(w, out_fn, out, NULL, NULL) : -1;
    if (rc > 0) snprintf(last_error, sizeof last_error, "%s", newsarc_writer_error(w));
    newsarc_writer_free(w);
    return rc;
}

static void print_problem(void *ctx, const newsarc_problem *p)
{
    (void)ctx;
    fprintf(stderr, "verify problem: %s block %lld article %lld: %s\n", p->section, (long long)p->block,
            (long long)p->article, p->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, data, size);
    uint8_t opt = copy[0];
    static const int levels[4] = {1, 2, 3, 19};
    newsarc_writer_options o = {0};
    o.level = levels[opt & 3];
    o.block_size = block_sizes[(opt >> 2) & 7];
    o.threads = (opt & 0x20) ? 2 : 1;
    o.dict_size = UINT32_MAX; /* inputs are far too small to train one */
    int use_fetch = (opt & 0x40) != 0;

    recs R;
    memset(&R, 0, sizeof R);
    size_t at = 1;
    while (at + 3 <= size && R.n < MAX_RECORDS) {
        size_t nl = copy[at] & 0x7f;
        size_t dl = (size_t)copy[at + 1] | ((size_t)copy[at + 2] << 8);
        at += 3;
        if (nl > size - at) nl = size - at;
        rec *x = &R.r[R.n++];
        x->name = (const char *)copy + at;
        x->name_len = nl;
        at += nl;
        if (dl > size - at) dl = size - at;
        x->data = copy + at;
        x->len = dl;
        at += dl;
    }

    obuf a = {0}, b = {0};
    int rc = pack(&R, &o, use_fetch, 0, &a, 1);
    if (rc < 0) goto out; /* no record accepted */
    /* One name, one article: two accepted files with the same name and
     * different bytes are refused at finish (NEWSARC_E_INPUT); the same file
     * given twice is one entry.  Unnamed files are all kept. */
    int conflict = 0;
    size_t expect_entries = 0;
    for (size_t i = 0; i < R.n; i++) {
        rec *x = &R.r[i];
        if (!x->ok) continue;
        int first = 1;
        for (size_t k = 0; k < i && x->name_len; k++) {
            rec *y = &R.r[k];
            if (!y->ok || y->name_len != x->name_len || memcmp(y->name, x->name, x->name_len)) continue;
            if (y->len == x->len && (x->len == 0 || !memcmp(y->data, x->data, x->len))) first = 0;
            else conflict = 1;
        }
        expect_entries += first;
        /* a name may not also be the directory of another ("x" and "x/y") */
        for (size_t k = 0; k < R.n && x->name_len; k++) {
            rec *y = &R.r[k];
            if (y->ok && y->name_len > x->name_len && y->name[x->name_len] == '/' &&
                !memcmp(y->name, x->name, x->name_len))
                conflict = 1;
        }
    }
    if (rc > 0 && !conflict) fprintf(stderr, "finish: %s\n", last_error);
    if (conflict) {
        must(rc == NEWSARC_E_INPUT, "conflicting names are refused");
        goto out;
    }
    must(rc == 0, "finish succeeds");
    rc = pack(&R, &o, !use_fetch, 1, &b, 0);
    if (rc > 0) fprintf(stderr, "finish: %s\n", last_error);
    must(rc == 0, "finish succeeds (reversed)");
    must(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "same archive whatever the order and fetch mode");

    const char *save = getenv("FUZZ_SAVE_ARCHIVE"); /* for reproducing by hand */
    if (save) {
        FILE *f = fopen(save, "wb");
        if (f) {
            fwrite(a.p, 1, a.len, f);
            fclose(f);
        }
    }
    newsarc_reader *r = NULL;
    rc = newsarc_reader_open_mem(&r, a.p, a.len);
    if (rc) fprintf(stderr, "open: %s\n", newsarc_reader_error(r));
    must(rc == 0, "the archive opens");
    rc = newsarc_reader_verify(r, 1, print_problem, NULL);
    if (rc) fprintf(stderr, "verify: %s\n", newsarc_reader_error(r));
    must(rc == 0, "the archive verifies");

    must(newsarc_reader_entry_count(r) == expect_entries, "one entry per distinct file");
    /* every file: its id is there and reads back as its bytes */
    for (size_t i = 0; i < R.n; i++) {
        rec *x = &R.r[i];
        if (!x->ok) continue;
        uint8_t id[NEWSARC_ID_SIZE];
        newsarc_article_id(id, x->data, x->len);
        uint64_t idx;
        must(newsarc_reader_find_id(r, id, &idx) == 0, "article id present");
        void *d;
        size_t n;
        must(newsarc_reader_read(r, idx, &d, &n) == 0, "article reads");
        must(n == x->len && (n == 0 || memcmp(d, x->data, n) == 0), "article bytes are the file's bytes");
        newsarc_free(d);
        if (x->name_len) {
            uint64_t sel;
            must(newsarc_reader_select(r, x->name, x->name_len, &sel) == 0, "select by name");
            /* a name of 64 hex digits is tried as an id first */
            if (!all_hex64(x->name, x->name_len)) must(sel == idx, "name selects its article");
        }
    }
    /* every entry: a name some accepted file had, pointing at that file's article */
    for (uint64_t i = 0; i < newsarc_reader_entry_count(r); i++) {
        newsarc_entry e;
        uint64_t art;
        must(newsarc_reader_entry(r, i, &e, &art) == 0, "entry");
        must(e.flags == 0 && e.meta_len == 0 && e.text_key_len == 0, "file entry has no JSON parts");
        newsarc_article_info ai;
        must(newsarc_reader_article(r, art, &ai) == 0, "entry's article");
        int found = 0;
        for (size_t k = 0; k < R.n && !found; k++) {
            rec *x = &R.r[k];
            if (!x->ok || x->name_len != e.name_len || (e.name_len && memcmp(x->name, e.name, e.name_len))) continue;
            uint8_t id[NEWSARC_ID_SIZE];
            newsarc_article_id(id, x->data, x->len);
            found = !memcmp(id, ai.id, sizeof id);
        }
        must(found, "entry matches a packed file");
    }
    newsarc_reader_free(r);
out:
    free(a.p);
    free(b.p);
    free(copy);
    return 0;
}
