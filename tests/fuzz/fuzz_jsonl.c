/*
 * fuzz_jsonl.c - libFuzzer target: arbitrary bytes as JSON Lines.
 *
 * The input is split on '\n' into at most MAX_LINES lines.  Pack A adds
 * them one by one with newsarc_writer_add_json (articles kept in memory);
 * pack B adds them in reverse order with newsarc_writer_add_json_batch on
 * two threads and a fetch callback (the CLI's path).  Lines the writer
 * refuses must be refused with NEWSARC_E_INPUT by both.  Then:
 *  - A and B are the same bytes (output independent of order and threads);
 *  - A opens and verifies with no problem;
 *  - it has one entry per accepted line, and each entry's JSON form gives
 *    back its line: WHOLE entries byte for byte, the others as an equal
 *    object with the members in the same order.
 * And, per line: when the split without a tree (na_json_split_fast)
 * answers, jansson's tree gives exactly the same split.
 */
#include "internal.h"
#include "newsarc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_jsonl: invariant failed: %s\n", what);
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

typedef struct lines {
    const char *line[MAX_LINES];
    size_t len[MAX_LINES];
    size_t n;
} lines;

static int fetch_fn(void *ctx, uint64_t locator, void *dst, size_t len)
{
    const lines *L = ctx;
    if (locator >= L->n || L->len[locator] != len) return -1;
    memcpy(dst, L->line[locator], len);
    return 0;
}

/* Same members with equal values in the same order. */
static int same_object(json_t *a, json_t *b)
{
    if (!json_is_object(a) || !json_is_object(b) || !json_equal(a, b)) return 0;
    void *ia = json_object_iter(a), *ib = json_object_iter(b);
    while (ia && ib) {
        if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0) return 0;
        ia = json_object_iter_next(a, ia);
        ib = json_object_iter_next(b, ib);
    }
    return !ia && !ib;
}

static void print_problem(void *ctx, const newsarc_problem *p)
{
    (void)ctx;
    fprintf(stderr, "verify problem: %s block %lld article %lld: %s\n", p->section, (long long)p->block,
            (long long)p->article, p->message);
}

static int same_bytes(const void *a, size_t al, const void *b, size_t bl)
{
    if (!a || !b) return !a && !b;
    return al == bl && (al == 0 || !memcmp(a, b, al));
}

static void check_fast_split(const char *line, size_t len, const char *field)
{
    na_json_split f, t;
    char msg[NA_ERRMSG];
    int fr = na_json_split_fast(line, len, field, &f, NULL);
    must(fr == 0 || fr == 1, "fast split answers 0 or 1");
    if (fr == 0) {
        must(!f.meta && !f.key && !f.owned && !f.place, "fast split: 'not sure' leaves nothing");
        return;
    }
    must(na_json_split_tree(line, len, field, &t, msg) == 0, "fast split accepted a line jansson refuses");
    must(f.flags == t.flags && f.key_pos == t.key_pos, "fast split: flags and key_pos");
    must(same_bytes(f.meta, f.meta_len, t.meta, t.meta_len), "fast split: meta");
    must(same_bytes(f.key, f.key_len, t.key, t.key_len), "fast split: key");
    must(same_bytes(f.text, f.text_len, t.text, t.text_len), "fast split: text");
    must(same_bytes(f.place, f.place ? strlen(f.place) : 0, t.place, t.place ? strlen(t.place) : 0),
         "fast split: placement key");
    na_json_split_free(&f);
    na_json_split_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    lines L = {0};
    for (size_t at = 0; at < size && L.n < MAX_LINES;) {
        const char *nl = memchr(copy + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - copy) : size;
        L.line[L.n] = copy + at;
        L.len[L.n] = end - at;
        L.n++;
        at = end + 1;
    }

    for (size_t i = 0; i < L.n; i++) {
        check_fast_split(L.line[i], L.len[i], NULL);
        check_fast_split(L.line[i], L.len[i], "title");
    }

    /* pack A: one by one, in memory */
    newsarc_writer_options oa = {.level = 1, .threads = 1, .block_size = 256, .dict_size = UINT32_MAX};
    newsarc_writer *wa = newsarc_writer_new(&oa);
    must(wa != NULL, "writer A");
    int ok[MAX_LINES] = {0};
    size_t accepted = 0;
    for (size_t i = 0; i < L.n; i++) {
        int rc = newsarc_writer_add_json(wa, L.line[i], L.len[i], NULL, i);
        if (rc == 0) {
            ok[i] = 1;
            accepted++;
        } else {
            must(rc == NEWSARC_E_INPUT || rc == NEWSARC_E_LIMIT, "a refused line is bad input");
            (void)strlen(newsarc_writer_error(wa));
        }
    }
    /* pack B: reversed, in batches on two threads, with a fetch callback */
    newsarc_writer_options ob = oa;
    ob.threads = 2;
    newsarc_writer *wb = newsarc_writer_new(&ob);
    must(wb != NULL, "writer B");
    must(newsarc_writer_set_fetch(wb, fetch_fn, &L) == 0, "set fetch");
    const char *rl[MAX_LINES];
    size_t rlen[MAX_LINES];
    uint64_t rloc[MAX_LINES];
    for (size_t i = 0; i < L.n; i++) {
        rl[i] = L.line[L.n - 1 - i];
        rlen[i] = L.len[L.n - 1 - i];
        rloc[i] = L.n - 1 - i;
    }
    for (size_t at = 0; at < L.n;) {
        size_t done = 0;
        int rc = newsarc_writer_add_json_batch(wb, rl + at, rlen + at, L.n - at, NULL, rloc + at, &done);
        for (size_t k = at; k < at + done; k++) must(ok[rloc[k]], "B accepted a line A refused");
        if (rc == 0) break;
        must(!ok[rloc[at + done]], "B refused a line A accepted");
        must(rc == NEWSARC_E_INPUT || rc == NEWSARC_E_LIMIT, "batch: a refused line is bad input");
        at += done + 1;
    }
    must(newsarc_writer_entry_count(wa) == accepted, "entry count A");
    must(newsarc_writer_entry_count(wb) == accepted, "entry count B");

    obuf a = {0}, b = {0};
    int rca = newsarc_writer_finish(wa, out_fn, &a, NULL, NULL);
    int rcb = newsarc_writer_finish(wb, out_fn, &b, NULL, NULL);
    if (accepted == 0) {
        /* nothing to pack: the writer may refuse an archive with no articles */
        must(rca == rcb, "empty writers agree");
        if (rca) goto done;
    }
    if (rca) fprintf(stderr, "finish A: %s\n", newsarc_writer_error(wa));
    if (rcb) fprintf(stderr, "finish B: %s\n", newsarc_writer_error(wb));
    must(rca == 0 && rcb == 0, "finish succeeds on accepted lines");
    must(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "same archive whatever order, threads and fetch");

    const char *save = getenv("FUZZ_SAVE_ARCHIVE"); /* for reproducing by hand */
    if (save) {
        FILE *f = fopen(save, "wb");
        if (f) {
            fwrite(a.p, 1, a.len, f);
            fclose(f);
        }
    }
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open_mem(&r, a.p, a.len);
    if (rc) fprintf(stderr, "open: %s\n", newsarc_reader_error(r));
    must(rc == 0, "the writer's archive opens");
    rc = newsarc_reader_verify(r, 1, print_problem, NULL);
    if (rc) fprintf(stderr, "verify: %s\n", newsarc_reader_error(r));
    must(rc == 0, "the writer's archive verifies");
    must(newsarc_reader_entry_count(r) == accepted, "entry count in the archive");

    /* every accepted line comes back (multiset match, n <= 64) */
    char *outs[MAX_LINES];
    size_t outl[MAX_LINES];
    uint32_t outf[MAX_LINES];
    int used[MAX_LINES] = {0};
    size_t ne = (size_t)newsarc_reader_entry_count(r);
    for (size_t i = 0; i < ne; i++) {
        newsarc_entry e;
        uint64_t art;
        must(newsarc_reader_entry(r, i, &e, &art) == 0, "entry");
        must(e.flags & NEWSARC_ENTRY_JSON, "JSON flag");
        void *d;
        size_t n;
        must(newsarc_reader_read(r, art, &d, &n) == 0, "read");
        must(newsarc_entry_to_json(&e, d, n, &outs[i], &outl[i]) == 0, "entry to JSON");
        outf[i] = e.flags;
        newsarc_free(d);
    }
    /* WHOLE entries first, byte for byte: a line kept whole (say, with a
     * repeated member) may parse equal to another line's rebuilt object */
    int matched[MAX_LINES] = {0};
    for (size_t i = 0; i < L.n; i++) {
        if (!ok[i]) continue;
        for (size_t k = 0; k < ne && !matched[i]; k++)
            if (!used[k] && (outf[k] & NEWSARC_ENTRY_WHOLE) && outl[k] == L.len[i] &&
                memcmp(outs[k], L.line[i], L.len[i]) == 0)
                used[k] = matched[i] = 1;
    }
    for (size_t i = 0; i < L.n; i++) {
        if (!ok[i] || matched[i]) continue;
        json_t *orig = json_loadb(L.line[i], L.len[i], JSON_ALLOW_NUL, NULL);
        for (size_t k = 0; k < ne && orig && !matched[i]; k++) {
            if (used[k] || (outf[k] & NEWSARC_ENTRY_WHOLE)) continue;
            json_t *back = json_loadb(outs[k], outl[k], JSON_ALLOW_NUL, NULL);
            if (back && same_object(orig, back)) used[k] = matched[i] = 1;
            json_decref(back);
        }
        json_decref(orig);
        if (!matched[i]) fprintf(stderr, "line %zu: %.*s\n", i, (int)(L.len[i] > 500 ? 500 : L.len[i]), L.line[i]);
        must(matched[i], "an accepted line is given back by its entry");
    }
    for (size_t i = 0; i < ne; i++) newsarc_free(outs[i]);
    newsarc_reader_free(r);
done:
    free(a.p);
    free(b.p);
    newsarc_writer_free(wa);
    newsarc_writer_free(wb);
    free(copy);
    return 0;
}
