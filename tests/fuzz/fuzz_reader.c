/*
 * fuzz_reader.c - libFuzzer target: arbitrary bytes as an archive.
 *
 * Opens the input with newsarc_reader_open_mem and, when it opens, walks
 * every public reader entry point: info, every article record, every
 * article's bytes, every entry and its JSON form, a few selectors, the
 * manifest and signature accessors, and a one-thread verify.  Nothing may
 * crash, leak, read out of bounds or take unbounded memory; errors are
 * fine.  A few invariants of successful calls are checked with abort().
 */
#include "newsarc.h"

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep one input bounded in time: an archive of a few KB can still list
 * thousands of tiny articles. */
#define MAX_READS 4096
#define MAX_ENTRIES 4096

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_reader: invariant failed: %s\n", what);
        abort();
    }
}

static void problem_cb(void *ctx, const newsarc_problem *p)
{
    size_t *n = ctx;
    (*n)++;
    must(p->section != NULL && p->message != NULL, "problem has section and message");
    must(p->code != 0, "problem has a code");
    (void)strlen(p->message);
}

/* Selector results are checked for sanity only. */
static void sel(newsarc_reader *r, const char *s, size_t n)
{
    uint64_t idx = UINT64_MAX;
    int rc = newsarc_reader_select(r, s, n, &idx);
    if (rc == 0) must(idx < newsarc_reader_article_count(r), "select gives an existing article");
    else must(rc == NEWSARC_E_NOTFOUND || rc == NEWSARC_E_AMBIGUOUS || rc == NEWSARC_E_CORRUPT ||
                  rc == NEWSARC_E_NOMEM, "select error");
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

/* Signing in place rewrites the slot and the checksum only: the copy opens
 * like the original, with the new signature and the same manifest. */
static void check_resign(newsarc_reader *r, size_t size)
{
    static const char sig[] = "untrusted comment: fuzz\nRWQ\n";
    obuf o = {0};
    int rc = newsarc_reader_write_with_signature(r, sig, sizeof sig - 1, out_fn, &o);
    if (rc == NEWSARC_E_NOMEM) {
        free(o.p);
        return;
    }
    must(rc == 0, "write_with_signature succeeds on an archive that opened");
    must(o.len == size, "signing keeps the file length");
    newsarc_reader *r2 = NULL;
    rc = newsarc_reader_open_mem(&r2, o.p, o.len);
    must(rc == 0, "the re-signed copy opens");
    size_t sl = 0, m1 = 0, m2 = 0;
    const char *s2 = newsarc_reader_signature(r2, &sl);
    must(sl == sizeof sig - 1 && s2 && !memcmp(s2, sig, sl), "the new signature is read back");
    const uint8_t *a = newsarc_reader_manifest(r, &m1), *b = newsarc_reader_manifest(r2, &m2);
    must(m1 == m2 && !memcmp(a, b, m1), "the manifest is unchanged");
    newsarc_reader_free(r2);
    free(o.p);
}

static int known_error(int rc) { return rc >= NEWSARC_E_NOMEM && rc <= NEWSARC_E_COMPRESS; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so ASan catches reads even one byte past the end */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);

    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open_mem(&r, buf, size);
    if (rc) {
        must(known_error(rc), "open returns a known error code");
        must(rc == NEWSARC_E_CORRUPT || rc == NEWSARC_E_UNSUPPORTED || rc == NEWSARC_E_NOMEM,
             "open of bad bytes is CORRUPT or UNSUPPORTED");
        if (r) (void)strlen(newsarc_reader_error(r));
        newsarc_reader_free(r);
        free(buf);
        return 0;
    }

    newsarc_info in;
    must(newsarc_reader_info(r, &in) == 0, "info succeeds");
    must(in.file_size == size, "info file size");
    must(memchr(in.zstd_version, 0, sizeof in.zstd_version) != NULL, "zstd_version is terminated");
    size_t ml = 0;
    const uint8_t *mani = newsarc_reader_manifest(r, &ml);
    must(mani != NULL && ml > 0 && ml <= size, "manifest inside the file");
    must(mani >= buf && mani + ml <= buf + size, "manifest points into the buffer");
    size_t sl = 0;
    const char *sig = newsarc_reader_signature(r, &sl);
    must((sig == NULL) == (sl == 0), "signature pointer and length agree");
    if (sig) must((const uint8_t *)sig >= buf && (const uint8_t *)sig + sl <= buf + size, "signature in buffer");

    uint64_t na = newsarc_reader_article_count(r);
    must(na == in.article_count, "article count agrees with info");
    uint64_t reads = 0;
    int read_failed = 0, entry_failed = 0;
    newsarc_cursor *cur = NULL;
    if (na && newsarc_cursor_new(r, &cur) != 0) cur = NULL; /* a bad dictionary: reads fail too */
    for (uint64_t i = 0; i < na; i++) {
        newsarc_article_info ai;
        int arc = newsarc_reader_article(r, i, &ai);
        /* in range, so it fails only when its location chunk is damaged, and then every read of it does */
        must(arc == 0 || arc == NEWSARC_E_CORRUPT || arc == NEWSARC_E_NOMEM, "article record: ok or CORRUPT");
        if (arc) {
            read_failed = 1;
            void *d = NULL;
            size_t n = 0;
            rc = newsarc_reader_read(r, i, &d, &n);
            must(rc == arc || rc == NEWSARC_E_NOMEM, "a read through a damaged location chunk fails alike");
            newsarc_free(d);
            continue;
        }
        uint64_t idx = UINT64_MAX;
        if (newsarc_reader_find_id(r, ai.id, &idx) == 0) {
            uint8_t id2[NEWSARC_ID_SIZE];
            newsarc_article_info bi;
            int brc = newsarc_reader_article(r, idx, &bi);
            must(brc == 0 || brc == NEWSARC_E_CORRUPT || brc == NEWSARC_E_NOMEM, "found index is valid");
            if (brc == 0) {
                memcpy(id2, bi.id, sizeof id2);
                must(memcmp(id2, ai.id, sizeof id2) == 0, "find_id returns a matching record");
            }
        }
        if (reads++ < MAX_READS) {
            void *d = NULL;
            size_t n = 0;
            rc = newsarc_reader_read(r, i, &d, &n);
            /* a cursor reads the same bytes, or fails the same way */
            if (cur) {
                const void *cd = NULL;
                size_t cn = 0;
                int crc = newsarc_cursor_read(cur, i, &cd, &cn);
                must(crc == rc, "cursor read agrees with newsarc_reader_read");
                must(crc != 0 || (cn == n && (n == 0 || memcmp(cd, d, n) == 0)), "cursor read returns the same bytes");
            }
            if (rc == 0) {
                uint8_t id[NEWSARC_ID_SIZE];
                newsarc_article_id(id, d, n);
                must(memcmp(id, ai.id, sizeof id) == 0, "read returns bytes matching the id");
                must(n == ai.size, "read length matches the record");
            } else {
                read_failed = 1;
                must(d == NULL && n == 0, "failed read returns nothing");
                must(rc == NEWSARC_E_CORRUPT || rc == NEWSARC_E_NOMEM, "read error is CORRUPT");
            }
            newsarc_free(d);
        }
    }
    newsarc_cursor_free(cur);
    must(newsarc_reader_article(r, na, &(newsarc_article_info){0}) == NEWSARC_E_NOTFOUND, "article past the end");

    uint64_t ne = newsarc_reader_entry_count(r);
    char first_name[64];
    size_t first_name_len = 0;
    for (uint64_t i = 0; i < ne && i < MAX_ENTRIES; i++) {
        newsarc_entry e;
        uint64_t art = UINT64_MAX;
        rc = newsarc_reader_entry(r, i, &e, &art);
        if (rc) {
            entry_failed = 1;
            must(rc == NEWSARC_E_CORRUPT || rc == NEWSARC_E_NOMEM, "entry error is CORRUPT");
            break; /* the metadata table did not load: every entry fails alike */
        }
        must(art < na, "entry refers to an existing article");
        if (e.name_len) must((const uint8_t *)e.name != NULL, "named entry has a pointer");
        /* touch every byte the entry points at */
        volatile uint8_t sink = 0;
        for (size_t k = 0; k < e.name_len; k++) sink ^= (uint8_t)e.name[k];
        for (size_t k = 0; k < e.meta_len; k++) sink ^= (uint8_t)e.meta[k];
        for (size_t k = 0; k < e.text_key_len; k++) sink ^= (uint8_t)e.text_key[k];
        (void)sink;
        if (i == 0 && e.name_len && e.name_len < sizeof first_name) {
            memcpy(first_name, e.name, e.name_len);
            first_name_len = e.name_len;
        }
        if (i < 256) {
            void *d = NULL;
            size_t n = 0;
            if (newsarc_reader_read(r, art, &d, &n) == 0) {
                char *js = NULL;
                size_t jl = 0;
                rc = newsarc_entry_to_json(&e, d, n, &js, &jl);
                if (rc == 0) {
                    must(js != NULL && strlen(js) <= jl, "entry JSON is a string");
                    /* one JSON Lines line: extract --jsonl writes it followed by LF */
                    must(memchr(js, '\n', jl) == NULL, "entry JSON holds no newline");
                    /* exactly one JSON object (objects stored whole keep the spaces around them) */
                    json_error_t jerr;
                    json_t *o = json_loadb(js, jl, JSON_ALLOW_NUL, &jerr);
                    if (!o && json_error_code(&jerr) == json_error_numeric_overflow)
                        o = json_loadb(js, jl, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
                    must(o && json_is_object(o), "entry JSON is one JSON object jansson loads");
                    json_decref(o);
                }
                else must(js == NULL, "failed entry JSON returns nothing");
                newsarc_free(js);
            }
            newsarc_free(d);
        }
    }
    newsarc_entry tmp;
    uint64_t tmpa;
    rc = newsarc_reader_entry(r, ne, &tmp, &tmpa);
    must(rc != 0, "entry past the end fails");

    /* selectors: a name, full ids, prefixes, junk */
    if (first_name_len) sel(r, first_name, first_name_len);
    if (na) {
        newsarc_article_info ai;
        newsarc_reader_article(r, na / 2, &ai);
        char hex[NEWSARC_ID_HEX_SIZE + 1];
        newsarc_id_to_hex(hex, ai.id);
        uint64_t idx;
        rc = newsarc_reader_select(r, hex, 64, &idx);
        must(rc != NEWSARC_E_AMBIGUOUS, "a full id is never ambiguous");
        sel(r, hex, 8);
        sel(r, hex, 13);
    }
    sel(r, "0000000000000000000000000000000000000000000000000000000000000000", 64);
    sel(r, "ffffffff", 8);
    sel(r, "", 0);
    sel(r, "no/such/name.txt", 16);

    check_resign(r, size);

    size_t problems = 0;
    rc = newsarc_reader_verify(r, 1, problem_cb, &problems);
    must(rc == 0 || rc == NEWSARC_E_CORRUPT || rc == NEWSARC_E_NOMEM, "verify result");
    must((rc == 0) == (problems == 0) || rc == NEWSARC_E_NOMEM, "verify result agrees with the problems reported");
    /* verify is the strictest check: what it passes, the reader must read */
    if (rc == 0) {
        must(!read_failed, "verify passed but an article could not be read");
        must(!entry_failed, "verify passed but the entries could not be loaded");
    }

    newsarc_reader_free(r);
    free(buf);
    return 0;
}
