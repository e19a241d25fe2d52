/*
 * Hostile archives: a valid archive made by the writer, taken apart into
 * its sections, damaged on purpose, and put back together -- either patched
 * in place (hashes left stale: verify must notice) or "resealed" (section
 * hashes, root, manifest, footer and checksum recomputed, so that the lie
 * reaches the structural checks behind the hashes).  For every case the
 * reader must refuse with a specific error (NEWSARC_E_CORRUPT or
 * NEWSARC_E_UNSUPPORTED), never crash, and stay within bounded time (each
 * test has a timeout) and memory (outside sanitizer builds, the address
 * space is capped so that a huge allocation shows up as NEWSARC_E_NOMEM).
 */
#include "format.h"
#include "internal.h" /* attr record flags */
#include "newsarc.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zstd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif

#define C NEWSARC_E_CORRUPT
#define U NEWSARC_E_UNSUPPORTED

/* ---- memory cap --------------------------------------------------------------- */

/* Cap the address space at what the process uses now + 512 MiB: every
 * hostile archive here is a few KB, so no honest read needs more. */
static void cap_memory(void)
{
#ifndef HOSTILE_ASAN
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    if (pages) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * 4096u + (512u << 20);
        setrlimit(RLIMIT_AS, &rl);
    }
#endif
}

/* ---- the base archives ---------------------------------------------------------- */

#define N_FILES 14

static char *texts[N_FILES];
static char names[N_FILES][40];
static tu_item items[N_FILES + 3];
static size_t n_items;

static void make_items(void)
{
    n_items = 0;
    for (int i = 0; i < N_FILES; i++) {
        snprintf(names[i], sizeof names[i], "sec%d/story-%02d.txt", i % 3, i);
        texts[i] = tu_text((uint64_t)i + 101, 300 + (size_t)i * 211);
        items[n_items++] = (tu_item){names[i], texts[i], 0};
    }
    items[n_items++] = (tu_item){NULL, "{\"url\":\"https://e.org/a\",\"title\":\"A\",\"maintext\":\"Alpha text.\"}", 0};
    items[n_items++] = (tu_item){NULL, "{\"url\":\"https://e.org/b\",\"title\":\"no text member\"}", 0};
    items[n_items++] = (tu_item){"empty.txt", "", 0};
}

static void free_items(void)
{
    for (int i = 0; i < N_FILES; i++) free(texts[i]);
}

static void suite_init(void)
{
    make_items();
    cap_memory();
}

TestSuite(hostile, .init = suite_init, .fini = free_items, .timeout = 30);

/* A valid archive: several blocks (1 KiB target), file and JSON entries. */
static void base_archive(tu_buf *out)
{
    /* no attr section: the tests below reassemble the eight critical sections */
    newsarc_writer_options o = {.level = 3, .block_size = 1024, .dict_size = UINT32_MAX, .threads = 1, .no_text_info = 1};
    char msg[512];
    memset(out, 0, sizeof *out);
    cr_assert_eq(tu_pack(items, n_items, NULL, &o, out, msg, sizeof msg), 0, "pack: %s", msg);
}

/* ---- taking an archive apart and putting it back together ---------------------- */

enum { P_HEAD, P_DICT, P_BLKS, P_META, P_INDX, P_COUNT };
static const int part_section[P_COUNT] = {NA_S_HEAD, NA_S_DICT, NA_S_BLKS, NA_S_META, NA_S_INDX};

typedef struct arch {
    tu_buf part[P_COUNT]; /* whole frames (BLKS: the whole region) */
    na_manifest m;
    uint8_t sign[NA_SIGN_FRAME];
    tu_buf extra;         /* optional extra frame placed between INDX and MANI */
    char extra_type[5];
    int list_extra;       /* list it in the manifest (as a later minor version would) */
    uint32_t (*locs)[3];  /* INDX locations, decoded by split_archive */
    uint32_t n_locs;
    int loc_edit;         /* assemble compresses the locations again */
} arch;

/* Append n bytes (n may be 0: nothing happens). */
static int put(tu_buf *b, const void *p, size_t n) { return n ? tu_buf_write(b, p, n) : 0; }

static void buf_set(tu_buf *b, const void *p, size_t n)
{
    b->len = 0;
    cr_assert_eq(put(b, p, n), 0);
}

static void split_archive(const tu_buf *b, arch *a)
{
    memset(a, 0, sizeof *a);
    na_footer f;
    cr_assert_null(na_footer_decode(b->data, b->len, &f), "base archive footer");
    cr_assert_eq(f.count, NA_S_COUNT);
    for (int p = 0; p < P_COUNT; p++) {
        const na_toc_entry *t = &f.toc[part_section[p]];
        buf_set(&a->part[p], b->data + t->offset, (size_t)t->length);
    }
    const na_toc_entry *mt = &f.toc[NA_S_MANI];
    cr_assert_null(na_manifest_parse(b->data + mt->offset + 12, (size_t)mt->length - 12, &a->m));
    memcpy(a->sign, b->data + f.toc[NA_S_SIGN].offset, NA_SIGN_FRAME);
    /* locations: the chunks after the ids and the chunk directory (spec 4.5) */
    const uint8_t *x = a->part[P_INDX].data;
    uint32_t nb = na_ld32(x + 12), na = na_ld32(x + 16);
    uint64_t nc = na_loc_chunks(na);
    size_t dir = 24 + (size_t)NA_BLOCK_REC * nb + (size_t)NA_ID_REC * na, src = dir + NA_LOC_CHUNK_REC * nc;
    a->n_locs = na;
    a->locs = calloc(na, sizeof *a->locs);
    uint8_t *planes = malloc(NA_LOC_REC * NA_LOC_CHUNK);
    cr_assert(a->locs && planes);
    for (uint64_t k = 0; k < nc; k++) {
        size_t m = na - k * NA_LOC_CHUNK < NA_LOC_CHUNK ? na - k * NA_LOC_CHUNK : NA_LOC_CHUNK;
        uint32_t cs = na_ld32(x + dir + NA_LOC_CHUNK_REC * k);
        size_t got = ZSTD_decompress(planes, NA_LOC_REC * m, x + src, cs);
        cr_assert_eq(got, NA_LOC_REC * m, "base archive location chunk %llu", (unsigned long long)k);
        na_locs_from_planes(a->locs + k * NA_LOC_CHUNK, planes, m);
        src += cs;
    }
    cr_assert_eq(src, a->part[P_INDX].len);
    free(planes);
}

/* The INDX frame with the locations compressed again from a->locs (level 3, as a writer may). */
static void encode_locs(arch *a)
{
    tu_buf *ix = &a->part[P_INDX];
    uint32_t nb = na_ld32(ix->data + 12), na = a->n_locs;
    uint64_t nc = na_loc_chunks(na);
    ix->len = 24 + (size_t)NA_BLOCK_REC * nb + (size_t)NA_ID_REC * na;
    size_t dir = ix->len;
    for (uint64_t k = 0; k < nc; k++) put(ix, "\0\0\0\0", 4);
    uint8_t *planes = malloc(NA_LOC_REC * NA_LOC_CHUNK), *z = malloc(ZSTD_compressBound(NA_LOC_REC * NA_LOC_CHUNK));
    cr_assert(planes && z);
    for (uint64_t k = 0; k < nc; k++) {
        size_t m = na - k * NA_LOC_CHUNK < NA_LOC_CHUNK ? na - k * NA_LOC_CHUNK : NA_LOC_CHUNK;
        na_locs_to_planes(planes, (const uint32_t(*)[3])(a->locs + k * NA_LOC_CHUNK), m);
        size_t zl = ZSTD_compress(z, ZSTD_compressBound(NA_LOC_REC * m), planes, NA_LOC_REC * m, 3);
        cr_assert(!ZSTD_isError(zl));
        put(ix, z, zl);
        na_st32(ix->data + dir + NA_LOC_CHUNK_REC * k, (uint32_t)zl);
    }
    na_st32(ix->data + 4, (uint32_t)ix->len - 8);
    free(planes);
    free(z);
}

static void free_arch(arch *a)
{
    for (int p = 0; p < P_COUNT; p++) tu_buf_free(&a->part[p]);
    tu_buf_free(&a->extra);
    free(a->locs);
}

/* INDX accessors (frame offsets: 12 count fields, 24 tables). */
static uint8_t *ix(arch *a) { return a->part[P_INDX].data; }
static uint32_t ix_blocks(arch *a) { return na_ld32(ix(a) + 12); }
static uint32_t ix_arts(arch *a) { return na_ld32(ix(a) + 16); }
static uint8_t *ix_block(arch *a, uint32_t b) { return ix(a) + 24 + (size_t)NA_BLOCK_REC * b; }
static uint8_t *ix_id(arch *a, uint32_t i) { return ix(a) + 24 + (size_t)NA_BLOCK_REC * ix_blocks(a) + (size_t)NA_ID_REC * i; }
/* Article i's location (block, offset, length), to read or change: assemble encodes them again. */
static uint32_t *ix_loc(arch *a, uint32_t i)
{
    cr_assert(i < a->n_locs);
    a->loc_edit = 1;
    return a->locs[i];
}

#define RESEAL 1      /* recompute section hashes, BLKS hash and root */
#define KEEP_HASHES 0 /* leave the manifest's hashes as they were */

/*
 * Lay the parts out again: manifest offsets/lengths/file length follow the
 * parts (iterated until the manifest's own length is stable), then the
 * signature slot, then the footer with its checksum.  Counts in the
 * manifest are left as the test set them.
 */
static void assemble(arch *a, int reseal, tu_buf *out)
{
    memset(out, 0, sizeof *out);
    if (a->loc_edit) encode_locs(a);
    uint64_t off = 0;
    for (int p = 0; p < P_COUNT; p++) {
        a->m.sec[part_section[p]].offset = off;
        a->m.sec[part_section[p]].length = a->part[p].len;
        off += a->part[p].len;
        if (p == P_INDX) off += a->extra.len;
        if (reseal && part_section[p] != NA_S_BLKS)
            crypto_generichash(a->m.sec_hash[part_section[p]], NA_HASH, a->part[p].data, a->part[p].len, NULL, 0);
    }
    if (reseal && a->part[P_INDX].len >= 24) {
        /* hash of the block hashes and root over the ids, as far as the table goes */
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, NA_HASH);
        for (uint32_t b = 0; b < ix_blocks(a) && 24 + (uint64_t)NA_BLOCK_REC * (b + 1) <= a->part[P_INDX].len; b++)
            crypto_generichash_update(&st, ix_block(a, b) + 16, NA_HASH);
        crypto_generichash_final(&st, a->m.sec_hash[NA_S_BLKS], NA_HASH);
        crypto_generichash_init(&st, NULL, 0, NA_HASH);
        uint64_t tab = 24 + (uint64_t)NA_BLOCK_REC * ix_blocks(a);
        for (uint32_t i = 0; i < ix_arts(a) && tab + (uint64_t)NA_ID_REC * (i + 1) <= a->part[P_INDX].len; i++)
            crypto_generichash_update(&st, ix(a) + tab + (size_t)NA_ID_REC * i, NA_HASH);
        crypto_generichash_final(&st, a->m.root, NA_HASH);
    }
    a->m.n_opt = 0;
    if (a->extra.len && a->list_extra) {
        a->m.n_opt = 1;
        memcpy(a->m.opt[0].type, a->extra_type, 5);
        a->m.opt[0].offset = a->m.sec[NA_S_INDX].offset + a->m.sec[NA_S_INDX].length;
        a->m.opt[0].length = a->extra.len;
        a->m.opt_after[0] = NA_S_INDX;
        if (reseal) crypto_generichash(a->m.opt_hash[0], NA_HASH, a->extra.data, a->extra.len, NULL, 0);
    }
    size_t mlen = 0;
    char *mtext = NULL;
    for (int iter = 0; iter < 10; iter++) {
        a->m.sec[NA_S_MANI].offset = off;
        a->m.sec[NA_S_MANI].length = 12 + mlen;
        a->m.sec[NA_S_SIGN].offset = off + 12 + mlen;
        a->m.sec[NA_S_SIGN].length = NA_SIGN_FRAME;
        a->m.sec[NA_S_FOOT].offset = off + 12 + mlen + NA_SIGN_FRAME;
        a->m.sec[NA_S_FOOT].length = na_footer_frame_size(a->extra.len ? 9 : 8);
        a->m.file_length = a->m.sec[NA_S_FOOT].offset + a->m.sec[NA_S_FOOT].length;
        size_t n = na_manifest_format(NULL, 0, &a->m);
        if (n == mlen) break;
        mlen = n;
    }
    mtext = malloc(mlen + 1);
    cr_assert_eq(na_manifest_format(mtext, mlen + 1, &a->m), mlen);
    for (int p = 0; p < P_COUNT; p++) {
        cr_assert_eq(put(out, a->part[p].data, a->part[p].len), 0);
        if (p == P_INDX && a->extra.len) cr_assert_eq(put(out, a->extra.data, a->extra.len), 0);
    }
    uint8_t hdr[12];
    na_frame_header(hdr, (uint32_t)(mlen + 4), "MANI");
    put(out, hdr, 12);
    put(out, mtext, mlen);
    free(mtext);
    put(out, a->sign, NA_SIGN_FRAME);
    na_footer f;
    memset(&f, 0, sizeof f);
    f.major = 1;
    f.minor = (uint16_t)a->m.fmt_minor;
    uint32_t k = 0;
    for (int s = 0; s < NA_S_COUNT; s++) {
        if (s == NA_S_MANI && a->extra.len) {
            memcpy(f.toc[k].type, a->extra_type, 5);
            f.toc[k].offset = a->m.sec[NA_S_INDX].offset + a->m.sec[NA_S_INDX].length;
            f.toc[k].length = a->extra.len;
            k++;
        }
        memcpy(f.toc[k].type, na_section_types[s], 5);
        f.toc[k].offset = a->m.sec[s].offset;
        f.toc[k].length = a->m.sec[s].length;
        k++;
    }
    f.count = k;
    f.file_length = a->m.file_length;
    size_t fl = na_footer_frame_size(k);
    uint8_t *foot = calloc(1, fl);
    na_footer_encode(foot, &f);
    put(out, foot, fl);
    free(foot);
    cr_assert_eq(out->len, a->m.file_length);
    crypto_generichash(out->data + out->len - NA_FOOT_TAIL, NA_HASH, out->data, out->len - NA_FOOT_TAIL, NULL, 0);
}

/* Recompute only the footer checksum (after patching bytes in place). */
static void fix_checksum(tu_buf *b)
{
    crypto_generichash(b->data + b->len - NA_FOOT_TAIL, NA_HASH, b->data, b->len - NA_FOOT_TAIL, NULL, 0);
}

/* Footer TOC entry s of a v1 archive (8 sections). */
static uint8_t *toc_entry(tu_buf *b, int s)
{
    return b->data + b->len - NA_FOOT_FRAME_V1 + 20 + (size_t)NA_TOC_ENTRY * s;
}

/* ---- metadata table ---------------------------------------------------------------- */

/*
 * The entry table as the tests patch it: u32 entry count, then the records.
 * META itself (spec 4.4) holds the count in its header and directory and the
 * records in frames; the base archive has one frame and no dictionary.
 */
static void meta_table(arch *a, tu_buf *table)
{
    const uint8_t *f = a->part[P_META].data;
    cr_assert_eq(na_ld32(f + 12), 1, "base metadata has one frame");
    uint64_t n = na_ld64(f + 16);
    const uint8_t *frame = f + 48 + na_ld32(f + 44);
    memset(table, 0, sizeof *table);
    table->data = malloc((size_t)n + 4);
    table->len = table->cap = (size_t)n + 4;
    na_st32(table->data, na_ld32(f + 24));
    size_t got = ZSTD_decompress(table->data + 4, (size_t)n, frame, a->part[P_META].len - (size_t)(frame - f));
    cr_assert(!ZSTD_isError(got) && got == n, "base metadata decompresses");
}

/*
 * Replace META by one frame of the table's records.  The header keeps the
 * manifest's entry count; the directory takes the table's count (so a lying
 * count is a lying directory) and its first record's name when it has one;
 * declared = the table size written in the header.
 */
static void set_meta(arch *a, const uint8_t *table, size_t n, uint64_t declared)
{
    const uint8_t *rec = table + 4;
    size_t rn = n - 4, cap = ZSTD_compressBound(rn);
    uint32_t nl = rn >= 12 && na_ld32(rec + 8) <= rn - 12 ? na_ld32(rec + 8) : 0;
    uint8_t *z = malloc(cap + 48 + nl);
    size_t c = ZSTD_compress(z + 48 + nl, cap, rec, rn, 3);
    cr_assert(!ZSTD_isError(c));
    na_frame_header(z, (uint32_t)(c + 40 + nl), "META");
    na_st32(z + 12, 1);
    na_st64(z + 16, declared);
    na_st32(z + 24, (uint32_t)a->m.entries);
    na_st32(z + 28, 0);
    na_st32(z + 32, (uint32_t)c);
    na_st32(z + 36, (uint32_t)rn);
    na_st32(z + 40, na_ld32(table));
    na_st32(z + 44, nl);
    if (nl) memcpy(z + 48, rec + 12, nl);
    buf_set(&a->part[P_META], z, c + 48 + nl);
    free(z);
}

/* Offsets of the fields of entry i's record (tables come from the writer: no checks). */
typedef struct ent_pos {
    size_t rec, name_len, name, key_len, key, key_pos, meta_len, meta, end;
} ent_pos;

static ent_pos entry_pos(const tu_buf *t, uint32_t i)
{
    ent_pos e;
    size_t p = 4;
    for (uint32_t k = 0;; k++) {
        e.rec = p;
        e.name_len = p + 8;
        e.name = p + 12;
        p = e.name + na_ld32(t->data + e.name_len);
        e.key_len = p;
        e.key = p + 4;
        p = e.key + na_ld32(t->data + e.key_len);
        e.key_pos = p;
        e.meta_len = p + 4;
        e.meta = p + 8;
        p = e.meta + na_ld32(t->data + e.meta_len);
        e.end = p;
        if (k == i) return e;
    }
}

/* ---- zstd frames ------------------------------------------------------------------------ */

/*
 * A frame of one raw block holding content: window descriptor exponent wexp
 * (window = 2^(10+wexp)), or single-segment when wexp < 0; declared content
 * size fcs in 4 bytes.
 */
static size_t raw_frame(uint8_t *out, const uint8_t *content, size_t n, int wexp, uint32_t fcs)
{
    size_t p = 0;
    na_st32(out, 0xFD2FB528u);
    p = 4;
    out[p++] = (uint8_t)(0x80 | (wexp < 0 ? 0x20 : 0)); /* FCS field 4 bytes, no checksum, no dictID */
    if (wexp >= 0) out[p++] = (uint8_t)(wexp << 3);
    na_st32(out + p, fcs);
    p += 4;
    uint32_t bh = 1u | (0u << 1) | ((uint32_t)n << 3); /* last block, raw */
    out[p++] = (uint8_t)bh;
    out[p++] = (uint8_t)(bh >> 8);
    out[p++] = (uint8_t)(bh >> 16);
    memcpy(out + p, content, n);
    return p + n;
}

/* Decompressed content of block b (base archives have no dictionary). */
static uint8_t *block_content(arch *a, uint32_t b, size_t *n)
{
    na_block_rec br;
    na_block_decode(ix_block(a, b), &br);
    uint64_t rel = br.offset - a->m.sec[NA_S_BLKS].offset;
    uint8_t *c = malloc(br.usize ? br.usize : 1);
    size_t got = ZSTD_decompress(c, br.usize, a->part[P_BLKS].data + rel, br.csize);
    cr_assert(!ZSTD_isError(got) && got == br.usize, "block %u decompresses", b);
    *n = br.usize;
    return c;
}

/* Replace block b's frame; later blocks move; the index follows (csize, usize, hash). */
static void replace_block(arch *a, uint32_t b, const uint8_t *frame, size_t len, uint32_t usize)
{
    na_block_rec br;
    na_block_decode(ix_block(a, b), &br);
    uint64_t base = a->m.sec[NA_S_BLKS].offset;
    size_t rel = (size_t)(br.offset - base);
    tu_buf nb = {0};
    put(&nb, a->part[P_BLKS].data, rel);
    put(&nb, frame, len);
    put(&nb, a->part[P_BLKS].data + rel + br.csize, a->part[P_BLKS].len - rel - br.csize);
    tu_buf_free(&a->part[P_BLKS]);
    a->part[P_BLKS] = nb;
    int64_t delta = (int64_t)len - (int64_t)br.csize;
    br.csize = (uint32_t)len;
    br.usize = usize;
    crypto_generichash(br.hash, NA_HASH, frame, len, NULL, 0);
    na_block_encode(ix_block(a, b), &br);
    for (uint32_t k = b + 1; k < ix_blocks(a); k++) {
        na_block_rec r;
        na_block_decode(ix_block(a, k), &r);
        r.offset = (uint64_t)((int64_t)r.offset + delta);
        na_block_encode(ix_block(a, k), &r);
    }
}

/* ---- running every reader entry point ----------------------------------------------- */

typedef struct outcome {
    int open;    /* newsarc_reader_open_mem */
    int read;    /* first failing newsarc_reader_read, 0 if all succeeded */
    int entry;   /* first failing newsarc_reader_entry */
    int json;    /* first failing newsarc_entry_to_json */
    int verify;  /* newsarc_reader_verify, 1 thread */
    int verify2; /* newsarc_reader_verify, 3 threads */
    int problems;
} outcome;

static void count_problem(void *ctx, const newsarc_problem *p)
{
    int *n = ctx;
    cr_assert_not_null(p->message);
    cr_assert_not_null(p->section);
    (*n)++;
}

static outcome run_all(const tu_buf *b)
{
    outcome o = {0};
    /* a private exact-size copy: reading one byte past the end would show under ASan */
    uint8_t *copy = malloc(b->len ? b->len : 1);
    memcpy(copy, b->data, b->len);
    newsarc_reader *r = NULL;
    o.open = newsarc_reader_open_mem(&r, copy, b->len);
    if (o.open) {
        cr_assert_not_null(r, "a failed open still gives a handle for the message");
        cr_assert(strlen(newsarc_reader_error(r)) > 0, "a failed open explains itself");
        newsarc_reader_free(r);
        free(copy);
        return o;
    }
    newsarc_info in;
    newsarc_reader_info(r, &in);
    uint64_t na = newsarc_reader_article_count(r);
    for (uint64_t i = 0; i < na; i++) {
        void *d = NULL;
        size_t n = 0;
        int rc = newsarc_reader_read(r, i, &d, &n);
        if (rc && !o.read) o.read = rc;
        newsarc_free(d);
    }
    uint64_t ne = newsarc_reader_entry_count(r);
    for (uint64_t i = 0; i < ne && i < 100000; i++) {
        newsarc_entry e;
        uint64_t art;
        int rc = newsarc_reader_entry(r, i, &e, &art);
        if (rc) {
            if (!o.entry) o.entry = rc;
            break;
        }
        void *d = NULL;
        size_t n = 0;
        if (newsarc_reader_read(r, art, &d, &n) == 0) {
            char *js = NULL;
            size_t jl = 0;
            rc = newsarc_entry_to_json(&e, d, n, &js, &jl);
            if (rc && !o.json) o.json = rc;
            newsarc_free(js);
        }
        newsarc_free(d);
    }
    uint64_t idx;
    int src = newsarc_reader_select(r, "sec1/story-04.txt", 17, &idx);
    cr_expect(src == 0 || src == C || src == NEWSARC_E_NOTFOUND, "select by name returns %d", src);
    src = newsarc_reader_select(r, "00000000", 8, &idx);
    cr_expect(src == 0 || src == C || src == NEWSARC_E_NOTFOUND || src == NEWSARC_E_AMBIGUOUS, "select by prefix returns %d", src);
    o.verify = newsarc_reader_verify(r, 1, count_problem, &o.problems);
    newsarc_reader_free(r);
    /* a fresh handle for the threaded verify (no state carried over) */
    cr_assert_eq(newsarc_reader_open_mem(&r, copy, b->len), 0);
    int p2 = 0;
    o.verify2 = newsarc_reader_verify(r, 3, count_problem, &p2);
    cr_expect_eq(p2, o.problems, "the same problems whatever the thread count");
    newsarc_reader_free(r);
    free(copy);
    return o;
}

static void expect_open_fails(const tu_buf *b, int code, const char *what)
{
    outcome o = run_all(b);
    cr_expect_eq(o.open, code, "%s: open returns %d, expected %d", what, o.open, code);
}

/* Opens (the damage is behind the structure open checks), verify refuses. */
static outcome expect_verify_fails(const tu_buf *b, const char *what)
{
    outcome o = run_all(b);
    cr_expect_eq(o.open, 0, "%s: open returns %d, expected 0", what, o.open);
    cr_expect_eq(o.verify, C, "%s: verify returns %d, expected CORRUPT", what, o.verify);
    cr_expect_eq(o.verify2, C, "%s: threaded verify returns %d, expected CORRUPT", what, o.verify2);
    if (o.verify == C) cr_expect_gt(o.problems, 0, "%s: verify names the problem", what);
    return o;
}

/* ---- sanity of the tools above ------------------------------------------------------- */

Test(hostile, base_and_reassembled_archives_are_valid)
{
    tu_buf b;
    base_archive(&b);
    outcome o = run_all(&b);
    cr_assert_eq(o.open, 0);
    cr_expect_eq(o.read, 0);
    cr_expect_eq(o.entry, 0);
    cr_expect_eq(o.json, 0);
    cr_expect_eq(o.verify, 0);
    arch a;
    split_archive(&b, &a);
    cr_assert_gt(ix_blocks(&a), 3, "several blocks");
    tu_buf c;
    assemble(&a, RESEAL, &c);
    cr_assert_eq(c.len, b.len);
    cr_expect(!memcmp(c.data, b.data, b.len), "taking apart and resealing is the identity");
    /* a block rewritten as one raw block of the same content reads the same */
    size_t n;
    uint8_t *content = block_content(&a, 1, &n);
    uint8_t *fr = malloc(n + 32);
    size_t fl = raw_frame(fr, content, n, -1, (uint32_t)n);
    replace_block(&a, 1, fr, fl, (uint32_t)n);
    tu_buf d;
    assemble(&a, RESEAL, &d);
    o = run_all(&d);
    cr_expect_eq(o.open, 0);
    cr_expect_eq(o.read, 0);
    cr_expect_eq(o.verify, 0, "a raw-block frame is a valid block");
    free(fr);
    free(content);
    tu_buf_free(&b);
    tu_buf_free(&c);
    tu_buf_free(&d);
    free_arch(&a);
}

/* ---- file level: truncation, trailing bytes, footer -------------------------------------- */

Test(hostile, every_truncation_is_refused)
{
    tu_buf b;
    base_archive(&b);
    for (size_t n = 0; n < b.len; n++) {
        newsarc_reader *r = NULL;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        int rc = newsarc_reader_open_mem(&r, copy, n);
        cr_expect_eq(rc, C, "truncated to %zu bytes: open returns %d", n, rc);
        newsarc_reader_free(r);
        free(copy);
    }
    tu_buf_free(&b);
}

Test(hostile, bytes_cut_from_the_front_are_refused)
{
    tu_buf b;
    base_archive(&b);
    for (size_t k = 1; k < b.len; k += 7) {
        tu_buf c = {0};
        put(&c, b.data + k, b.len - k);
        newsarc_reader *r = NULL;
        int rc = newsarc_reader_open_mem(&r, c.data, c.len);
        cr_expect_eq(rc, C, "first %zu bytes cut: open returns %d", k, rc);
        newsarc_reader_free(r);
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, trailing_garbage)
{
    tu_buf b;
    base_archive(&b);
    tu_buf c = {0};
    put(&c, b.data, b.len);
    put(&c, "garbage", 7);
    expect_open_fails(&c, C, "7 bytes appended");
    /* the footer repeated: the tail looks right, the lengths do not */
    c.len = b.len;
    put(&c, b.data + b.len - NA_FOOT_FRAME_V1, NA_FOOT_FRAME_V1);
    expect_open_fails(&c, C, "footer appended twice");
    /* a whole second archive appended */
    c.len = b.len;
    put(&c, b.data, b.len);
    expect_open_fails(&c, C, "archive appended to itself");
    tu_buf_free(&c);
    tu_buf_free(&b);
}

Test(hostile, footer_length_lies)
{
    tu_buf b;
    base_archive(&b);
    static const uint32_t lies[] = {0, 1, 8, 59, 68, NA_FOOT_FRAME_V1 - 24, NA_FOOT_FRAME_V1 - 1, NA_FOOT_FRAME_V1 + 1,
                                    NA_FOOT_FRAME_V1 + 24, 4096, 0x7FFFFFFFu, 0xFFFFFFF0u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
        tu_buf c = {0};
        put(&c, b.data, b.len);
        na_st32(c.data + c.len - 8, lies[i]);
        expect_open_fails(&c, C, "footer length lies");
        /* the frame header too, consistently */
        if (lies[i] >= 8 && lies[i] <= c.len) {
            na_st32(c.data + c.len - lies[i] + 4, lies[i] - 8);
            expect_open_fails(&c, C, "footer length lies in both places");
        }
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, footer_section_count_and_file_length_lie)
{
    tu_buf b;
    base_archive(&b);
    static const uint32_t counts[] = {0, 1, 7, 9, 64, 65, 0xFFFFFFFFu};
    uint8_t *cnt = b.data + b.len - NA_FOOT_FRAME_V1 + 16;
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        tu_buf c = {0};
        put(&c, b.data, b.len);
        na_st32(c.data + (cnt - b.data), counts[i]);
        expect_open_fails(&c, C, "section count lies");
        tu_buf_free(&c);
    }
    static const uint64_t lens[] = {0, 1, 1000, UINT64_MAX, UINT64_MAX - 15};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        tu_buf c = {0};
        put(&c, b.data, b.len);
        na_st64(c.data + c.len - NA_FOOT_TAIL - 8, lens[i]);
        expect_open_fails(&c, C, "footer file length lies");
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, toc_offsets_past_the_end_and_overflowing)
{
    tu_buf b;
    base_archive(&b);
    for (int s = 0; s < NA_S_COUNT; s++) {
        static const uint64_t offs[] = {1, 0xFFFFFFFFFFFFFFF0ULL, 0x8000000000000000ULL, UINT64_MAX};
        for (size_t k = 0; k < 4; k++) {
            tu_buf c = {0};
            put(&c, b.data, b.len);
            uint8_t *t = toc_entry(&c, s);
            na_st64(t + 8, k == 0 ? c.len + 100 : offs[k]);
            expect_open_fails(&c, C, "section offset past the end or huge");
            tu_buf_free(&c);
        }
        static const uint64_t lens[] = {0, 11, 0xFFFFFFFFFFFFFFF0ULL, UINT64_MAX, 0x100000000ULL + 12};
        for (size_t k = 0; k < 5; k++) {
            tu_buf c = {0};
            put(&c, b.data, b.len);
            uint8_t *t = toc_entry(&c, s);
            na_st64(t + 16, lens[k]);
            expect_open_fails(&c, C, "section length zero, short or overflowing");
            tu_buf_free(&c);
        }
        /* offset + length wrapping around to exactly the next section */
        tu_buf c = {0};
        put(&c, b.data, b.len);
        uint8_t *t = toc_entry(&c, s);
        uint64_t off = na_ld64(t + 8), len = na_ld64(t + 16);
        na_st64(t + 8, off + 0x8000000000000000ULL);
        na_st64(t + 16, len + 0x8000000000000000ULL);
        expect_open_fails(&c, C, "offset and length both shifted by 2^63");
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, toc_gap_overlap_order_duplicates)
{
    tu_buf b;
    base_archive(&b);
    for (int s = 1; s < NA_S_COUNT; s++) {
        for (int d = -1; d <= 1; d += 2) {
            tu_buf c = {0};
            put(&c, b.data, b.len);
            uint8_t *t = toc_entry(&c, s);
            na_st64(t + 8, na_ld64(t + 8) + (uint64_t)(int64_t)d);
            expect_open_fails(&c, C, d > 0 ? "a gap before a section" : "sections overlap");
            /* the previous section grown to meet it: no gap, but the frame no longer matches */
            uint8_t *p = toc_entry(&c, s - 1);
            na_st64(p + 16, na_ld64(p + 16) + (uint64_t)(int64_t)d);
            expect_open_fails(&c, C, "a section's length changed to cover the gap");
            tu_buf_free(&c);
        }
        /* sections swapped, or one repeated in place of another */
        tu_buf c = {0};
        put(&c, b.data, b.len);
        uint8_t tmp[NA_TOC_ENTRY];
        memcpy(tmp, toc_entry(&c, s), NA_TOC_ENTRY);
        memcpy(toc_entry(&c, s), toc_entry(&c, s - 1), NA_TOC_ENTRY);
        memcpy(toc_entry(&c, s - 1), tmp, NA_TOC_ENTRY);
        expect_open_fails(&c, C, "two sections swapped");
        memcpy(c.data, b.data, b.len);
        memcpy(toc_entry(&c, s), toc_entry(&c, s - 1), NA_TOC_ENTRY);
        expect_open_fails(&c, C, "a section listed twice");
        memcpy(c.data, b.data, b.len);
        memcpy(toc_entry(&c, s), "HEAD", 4);
        expect_open_fails(&c, C, "a type renamed to another v1 type");
        memcpy(c.data, b.data, b.len);
        na_st32(toc_entry(&c, s) + 4, 1);
        expect_open_fails(&c, C, "reserved TOC flags");
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, unknown_and_optional_sections)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    uint8_t fr[40];
    memset(fr, 0x5c, sizeof fr);
    struct {
        const char *type;
        int listed, reseal, open, verify;
        const char *what;
    } cases[] = {
        {"Xtra", 0, RESEAL, U, 0, "unknown critical section"},
        {"Xtra", 1, RESEAL, U, 0, "unknown critical section, listed in the manifest"},
        {"xtra", 0, RESEAL, C, 0, "optional section the manifest does not list"},
        {"xtra", 1, RESEAL, 0, 0, "optional section listed in the manifest: skipped"},
        {"xtra", 1, KEEP_HASHES, 0, C, "optional section with a wrong hash in the manifest"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        na_frame_header(fr, sizeof fr - 8, cases[k].type);
        buf_set(&a.extra, fr, sizeof fr);
        memcpy(a.extra_type, cases[k].type, 5);
        a.list_extra = cases[k].listed;
        memset(a.m.opt_hash, 0, sizeof a.m.opt_hash);
        tu_buf c;
        assemble(&a, RESEAL, &c);
        if (!cases[k].reseal) {
            /* the optional section's hash stale, everything else right */
            arch a2;
            split_archive(&b, &a2);
            tu_buf_free(&c);
            buf_set(&a2.extra, fr, sizeof fr);
            memcpy(a2.extra_type, cases[k].type, 5);
            a2.list_extra = 1;
            assemble(&a2, RESEAL, &c);
            /* damage one byte of the optional frame's payload after sealing */
            na_footer f;
            cr_assert_null(na_footer_decode(c.data, c.len, &f));
            c.data[f.toc[NA_S_INDX + 1].offset + 20] ^= 1;
            fix_checksum(&c);
            free_arch(&a2);
        }
        outcome o = run_all(&c);
        cr_expect_eq(o.open, cases[k].open, "%s: open returns %d", cases[k].what, o.open);
        if (!o.open) {
            cr_expect_eq(o.read, 0, "%s: reads", cases[k].what);
            cr_expect_eq(o.verify, cases[k].verify, "%s: verify returns %d", cases[k].what, o.verify);
        }
        tu_buf_free(&c);
    }
    /* listed, but its frame header names another type */
    na_frame_header(fr, sizeof fr - 8, "yyyy");
    buf_set(&a.extra, fr, sizeof fr);
    memcpy(a.extra_type, "xtra", 5);
    a.list_extra = 1;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "optional section whose frame names another type");
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

/* An attr table (FORMAT.md 4.9) of n records, n_count in its count field,
 * charset names cs, every record with flags and norm_id first byte norm0,
 * record bad_at malformed ("declared by" out of range). */
static void attr_table(tu_buf *t, uint32_t n, uint32_t n_count, const char *const *cs, int n_names, uint8_t flags,
                       uint8_t norm0, uint32_t bad_at)
{
    uint8_t w[4];
    na_st32(w, n_count);
    put(t, w, 4);
    na_st32(w, 0);
    put(t, w, 4);
    na_st32(w, (uint32_t)n_names);
    put(t, w, 4);
    for (int i = 0; i < n_names; i++) {
        uint8_t l = (uint8_t)strlen(cs[i]);
        put(t, &l, 1);
        put(t, cs[i], l);
    }
    uint8_t rec[NA_ATTR_REC] = {0};
    rec[0] = flags;
    rec[12] = 1;     /* chosen: name 1 */
    rec[14] = norm0; /* first byte of the norm_id field */
    for (uint32_t i = 0; i < n; i++) {
        rec[2] = i == bad_at ? 4 : 0; /* "declared by": 0..3 */
        put(t, rec, sizeof rec);
    }
}

/* The attr section around the zstd frame z of a table of ts bytes. */
static void attr_section(tu_buf *out, const uint8_t *z, size_t zl, uint64_t ts)
{
    uint8_t hdr[12 + 12]; /* frame header with type, reserved u32, table_size u64 */
    na_frame_header(hdr, (uint32_t)(4 + 12 + zl), "attr");
    na_st32(hdr + 12, 0);
    na_st64(hdr + 16, ts);
    buf_set(out, hdr, sizeof hdr);
    put(out, z, zl);
}

/* An "attr" section built by hand around a charset-name table: sorted names
 * are accepted, unsorted or repeated ones are damage. */
static void attr_frame_bad(tu_buf *out, uint32_t n_arts, const char *const *cs, int n_names, uint8_t flags,
                           uint8_t norm0, uint32_t bad_at)
{
    tu_buf t = {0};
    attr_table(&t, n_arts, n_arts, cs, n_names, flags, norm0, bad_at);
    size_t cap = ZSTD_compressBound(t.len);
    uint8_t *z = malloc(cap);
    size_t zl = ZSTD_compress(z, cap, t.data, t.len, 3);
    cr_assert(!ZSTD_isError(zl));
    attr_section(out, z, zl, t.len);
    free(z);
    tu_buf_free(&t);
}

/* The base archive with a hand-built attr section; *r opened on it (the open must succeed). */
static void with_attr_bad(const tu_buf *b, uint32_t n_arts, const char *const *cs, int n_names, uint8_t flags,
                          uint8_t norm0, uint32_t bad_at, const char *what, tu_buf *out, newsarc_reader **r)
{
    arch a;
    split_archive(b, &a);
    attr_frame_bad(&a.extra, n_arts, cs, n_names, flags, norm0, bad_at);
    memcpy(a.extra_type, "attr", 5);
    a.list_extra = 1;
    assemble(&a, RESEAL, out);
    free_arch(&a);
    *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(r, out->data, out->len), 0, "%s: open", what);
}

static void with_attr(const tu_buf *b, uint32_t n_arts, const char *const *cs, int n_names, uint8_t flags,
                      uint8_t norm0, const char *what, tu_buf *out, newsarc_reader **r)
{
    with_attr_bad(b, n_arts, cs, n_names, flags, norm0, UINT32_MAX, what, out, r);
}

static void first_attr_problem(void *ctx, const newsarc_problem *p)
{
    char *m = ctx;
    if (!m[0] && !strcmp(p->section, "attr")) snprintf(m, 200, "%s", p->message);
}

/* The base archive with an attr section around the zstd frame z (table of ts bytes). */
static void with_attr_zframe(const tu_buf *b, const uint8_t *z, size_t zl, uint64_t ts, tu_buf *out)
{
    arch a;
    split_archive(b, &a);
    attr_section(&a.extra, z, zl, ts);
    memcpy(a.extra_type, "attr", 5);
    a.list_extra = 1;
    assemble(&a, RESEAL, out);
    free_arch(&a);
}

/* text_info (the table loaded whole) and verify (checked through its window)
 * say the same about archive c's attr section: both accept it, or both give
 * the same message.  want: the message expected ("" = accepted). */
static void attr_verdicts_agree(const tu_buf *c, const char *want, const char *what)
{
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, c->data, c->len), 0, "%s: open", what);
    newsarc_text_info ti;
    int rt = newsarc_reader_text_info(r, 0, &ti);
    char loaded[200];
    snprintf(loaded, sizeof loaded, "%s", rt ? newsarc_reader_error(r) : "");
    newsarc_reader_free(r);
    cr_assert_eq(newsarc_reader_open_mem(&r, c->data, c->len), 0);
    char checked[200] = "";
    int rv = newsarc_reader_verify(r, 2, first_attr_problem, checked);
    newsarc_reader_free(r);
    cr_expect_str_eq(loaded, want, "%s: text_info says '%s'", what, loaded);
    cr_expect_str_eq(checked, want, "%s: verify says '%s'", what, checked);
    cr_expect_eq(rv, want[0] ? C : 0, "%s: verify returns %d", what, rv);
}

/*
 * verify checks the attr table through a window of about 180 KiB (6,000
 * records) instead of loading it: with 14,000 articles, a malformed record
 * in the first window, at the seams a 128 KiB zstd block makes and in the
 * last one, a damaged frame (which wins over a bad record before it, as when
 * the table is decoded whole first), a window of 256 MiB, bad names and
 * counts: verify says what the loading reader (text_info) says, word for word.
 */
Test(hostile, attr_checked_in_windows_as_when_loaded, .timeout = 120)
{
    enum { N = 14000 };
    static char txt[N][24], nm[N][16];
    static tu_item many[N];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(txt[i], sizeof txt[i], "article %u", i);
        snprintf(nm[i], sizeof nm[i], "a/%05u", i);
        many[i] = (tu_item){nm[i], txt[i], 0};
    }
    newsarc_writer_options o = {.level = 1, .block_size = 65536, .dict_size = 0, .threads = 1, .no_text_info = 1};
    char msg[512];
    tu_buf b = {0};
    cr_assert_eq(tu_pack(many, N, NULL, &o, &b, msg, sizeof msg), 0, "pack: %s", msg);
    static const char *const charsets[] = {"ISO-8859-6", "UTF-8"}, *const unsorted[] = {"UTF-8", "ISO-8859-6"};
    static const uint32_t bad[] = {UINT32_MAX, 0, 4368, 4369, 4370, 6006, 6007, 6008, 8737, 8738, 12000, N - 1};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        tu_buf c;
        newsarc_reader *r;
        with_attr_bad(&b, N, charsets, 2, NA_ATTR_PRESENT, 0, bad[k], "many records", &c, &r);
        newsarc_reader_free(r);
        char want[200] = "", what[64];
        if (bad[k] != UINT32_MAX) snprintf(want, sizeof want, "attr record %u is malformed", bad[k]);
        snprintf(what, sizeof what, "bad record %u", bad[k]);
        attr_verdicts_agree(&c, want, what);
        tu_buf_free(&c);
    }
    struct {
        uint32_t bad_at, count;
        const char *const *names;
        int window28, flip_last, flip_mid;
        const char *want, *what;
    } cases[] = {
        {0, N, charsets, 0, 1, 0, "attr table is damaged (its content checksum does not match)",
         "bad record 0 and a wrong checksum"},
        {UINT32_MAX, N, charsets, 0, 0, 1, NULL, "a byte of the frame's middle flipped"},
        {5, N, charsets, 0, 0, 1, NULL, "bad record 5 and a byte of the frame's middle flipped"},
        {UINT32_MAX, N, charsets, 1, 0, 0, "", "a window of 256 MiB"},
        {0, N, charsets, 1, 0, 0, "attr record 0 is malformed", "bad record 0, a window of 256 MiB"},
        {UINT32_MAX, N, unsorted, 0, 0, 0, "attr charset names are not sorted", "names out of order"},
        {UINT32_MAX, N - 1, charsets, 0, 0, 0, "attr table does not describe every article", "count one short"},
        {UINT32_MAX, N + 1, charsets, 0, 0, 0, "attr table does not describe every article", "count one over"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_buf t = {0}, c;
        attr_table(&t, N, cases[k].count, cases[k].names, 2, NA_ATTR_PRESENT, 0, cases[k].bad_at);
        size_t cap = ZSTD_compressBound(t.len);
        uint8_t *z = malloc(cap);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        cr_assert(z && cc);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        if (cases[k].window28) ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 10);
        size_t zl = ZSTD_compress2(cc, z, cap, t.data, t.len);
        ZSTD_freeCCtx(cc);
        cr_assert(!ZSTD_isError(zl));
        if (cases[k].window28) { /* the descriptor says 2^28 (exponent 18 over 2^10); the data needs 2^10 */
            cr_assert((z[4] & 0x20) == 0, "a window descriptor is present");
            z[5] = (uint8_t)(18 << 3);
        }
        if (cases[k].flip_last) z[zl - 1] ^= 0x55;
        if (cases[k].flip_mid) z[zl / 2] ^= 0x55;
        with_attr_zframe(&b, z, zl, t.len, &c);
        if (cases[k].want) attr_verdicts_agree(&c, cases[k].want, cases[k].what);
        else { /* whichever decoding error zstd finds: the same from both, and not accepted */
            newsarc_reader *r = NULL;
            cr_assert_eq(newsarc_reader_open_mem(&r, c.data, c.len), 0);
            newsarc_text_info ti;
            int rt = newsarc_reader_text_info(r, 0, &ti);
            char loaded[200];
            snprintf(loaded, sizeof loaded, "%s", rt ? newsarc_reader_error(r) : "");
            newsarc_reader_free(r);
            cr_expect(rt != 0 && strncmp(loaded, "attr table ", 11) == 0 && !strstr(loaded, "record"),
                      "%s: text_info says '%s'", cases[k].what, loaded);
            attr_verdicts_agree(&c, loaded, cases[k].what);
        }
        free(z);
        tu_buf_free(&t);
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

Test(hostile, attr_charset_names)
{
    tu_buf b;
    base_archive(&b);
    newsarc_reader *r0 = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r0, b.data, b.len), 0);
    uint32_t n_arts = (uint32_t)newsarc_reader_article_count(r0);
    newsarc_reader_free(r0);
    static const char *const sorted[] = {"ISO-8859-6", "UTF-8", "windows-1256"};
    static const char *const unsorted[] = {"UTF-8", "ISO-8859-6", "windows-1256"};
    static const char *const repeated[] = {"UTF-8", "UTF-8"};
    static const char *const prefix[] = {"UTF-16", "UTF-16BE", "UTF-16"};
    struct {
        const char *const *names;
        int n, verify;
        const char *what;
    } cases[] = {
        {sorted, 3, 0, "sorted names"},
        {unsorted, 3, C, "names out of order"},
        {repeated, 2, C, "a name twice"},
        {prefix, 3, C, "a name after one it is a prefix of"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_buf c;
        newsarc_reader *r;
        with_attr(&b, n_arts, cases[k].names, cases[k].n, 0, 0, cases[k].what, &c, &r);
        newsarc_text_info ti;
        int rt = newsarc_reader_text_info(r, 0, &ti);
        cr_expect_eq(rt, cases[k].verify, "%s: text_info returns %d (%s)", cases[k].what, rt, newsarc_reader_error(r));
        newsarc_reader_free(r);
        outcome o = run_all(&c);
        cr_expect_eq(o.open, 0, "%s: open", cases[k].what);
        cr_expect_eq(o.verify, cases[k].verify, "%s: verify returns %d", cases[k].what, o.verify);
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

/* Flag bit 4 (norm_id = the id's prefix): only with bit 3, and then the stored field is zero. */
Test(hostile, attr_norm_id_as_the_id)
{
    tu_buf b;
    base_archive(&b);
    newsarc_reader *r0 = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r0, b.data, b.len), 0);
    uint32_t n_arts = (uint32_t)newsarc_reader_article_count(r0);
    newsarc_article_info ai;
    cr_assert_eq(newsarc_reader_article(r0, 0, &ai), 0);
    newsarc_reader_free(r0);
    static const char *const utf8_only[] = {"UTF-8"};
    const uint8_t P = NA_ATTR_PRESENT, N = NA_ATTR_NORM, I = NA_ATTR_NORM_IS_ID;
    struct {
        uint8_t flags, norm0;
        int verify;
        const char *what;
    } cases[] = {
        {P | N | I, 0, 0, "bit 4 with bit 3 and a zero field"},
        {P | N, 7, 0, "a stored norm_id"},
        {P | I, 0, C, "bit 4 without bit 3"},
        {P | N | I, 7, C, "bit 4 with a stored norm_id"},
        {P | N | 0x20, 0, C, "reserved bit 5"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_buf c;
        newsarc_reader *r;
        with_attr(&b, n_arts, utf8_only, 1, cases[k].flags, cases[k].norm0, cases[k].what, &c, &r);
        newsarc_text_info ti;
        int rt = newsarc_reader_text_info(r, 0, &ti);
        cr_expect_eq(rt, cases[k].verify, "%s: text_info returns %d (%s)", cases[k].what, rt, newsarc_reader_error(r));
        if (rt == 0) {
            cr_expect(ti.has_norm_id, "%s: has a norm_id", cases[k].what);
            uint8_t want[NEWSARC_NORM_ID_SIZE] = {0};
            if (cases[k].flags & I) memcpy(want, ai.id, sizeof want);
            else want[0] = cases[k].norm0;
            cr_expect(!memcmp(ti.norm_id, want, sizeof want), "%s: the norm_id read back", cases[k].what);
        }
        newsarc_reader_free(r);
        outcome o = run_all(&c);
        cr_expect_eq(o.verify, cases[k].verify, "%s: verify returns %d", cases[k].what, o.verify);
        tu_buf_free(&c);
    }
    tu_buf_free(&b);
}

/* ---- header ---------------------------------------------------------------------------------- */

Test(hostile, header_magic_version_features)
{
    tu_buf b;
    base_archive(&b);
    tu_buf c = {0};
    put(&c, b.data, b.len);
    c.data[12] ^= 0x20; /* "Newsarc\n" */
    expect_open_fails(&c, C, "file magic");
    memcpy(c.data, b.data, b.len);
    c.data[8] = 'h';
    expect_open_fails(&c, C, "section type of HEAD");
    memcpy(c.data, b.data, b.len);
    na_st32(c.data, 0x184D2A5Bu);
    expect_open_fails(&c, C, "skippable frame magic of HEAD");
    memcpy(c.data, b.data, b.len);
    na_st32(c.data + 24, 1);
    expect_open_fails(&c, U, "a required feature bit");
    memcpy(c.data, b.data, b.len);
    na_st32(c.data + 24, 0x80000000u);
    expect_open_fails(&c, U, "the top required feature bit");
    memcpy(c.data, b.data, b.len);
    na_st32(c.data + 28, 0xFFFFFFFFu); /* optional features: ignored */
    outcome o = run_all(&c);
    cr_expect_eq(o.open, 0, "optional feature bits are ignored by open");
    /* major 2 in the header only: refused as a version this reader does not know */
    memcpy(c.data, b.data, b.len);
    na_st16(c.data + 20, 2);
    expect_open_fails(&c, U, "format major 2 in the header");
    /* major 2 everywhere (header, footer): a future archive */
    na_st16(c.data + c.len - NA_FOOT_FRAME_V1 + 12, 2);
    expect_open_fails(&c, U, "format major 2 in header and footer");
    tu_buf_free(&c);
    /* a higher minor version, consistent in header, manifest and footer, is readable */
    arch a;
    split_archive(&b, &a);
    na_st16(a.part[P_HEAD].data + 22, 7);
    a.m.fmt_minor = 7;
    tu_buf d;
    assemble(&a, RESEAL, &d);
    o = run_all(&d);
    cr_expect_eq(o.open, 0, "minor 7 opens");
    cr_expect_eq(o.verify, 0, "minor 7 verifies");
    /* header minor differing from the manifest */
    na_st16(d.data + 22, 0);
    expect_open_fails(&d, C, "header and manifest disagree on the minor version");
    tu_buf_free(&d);
    free_arch(&a);
    tu_buf_free(&b);
}

/* ---- manifest ------------------------------------------------------------------------------- */

/* Replace the first occurrence of from by to in the manifest text, same length, in place. */
static int patch_manifest(tu_buf *c, const char *from, const char *to)
{
    cr_assert_eq(strlen(from), strlen(to));
    na_footer f;
    cr_assert_null(na_footer_decode(c->data, c->len, &f));
    uint8_t *t = c->data + f.toc[NA_S_MANI].offset + 12;
    size_t n = (size_t)f.toc[NA_S_MANI].length - 12, k = strlen(from);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(t + i, from, k)) {
            memcpy(t + i, to, k);
            return 1;
        }
    return 0;
}

Test(hostile, manifest_line_changed)
{
    tu_buf b;
    base_archive(&b);
    /* same-length edits: the manifest still parses; the footer checksum catches it */
    tu_buf c = {0};
    put(&c, b.data, b.len);
    cr_assert(patch_manifest(&c, "level 3\n", "level 4\n"));
    expect_verify_fails(&c, "manifest level changed");
    memcpy(c.data, b.data, b.len);
    cr_assert(patch_manifest(&c, "root ", "root "));
    {
        /* one digit of the root */
        na_footer f;
        na_footer_decode(c.data, c.len, &f);
        uint8_t *t = c.data + f.toc[NA_S_MANI].offset + f.toc[NA_S_MANI].length - 2;
        *t = *t == '0' ? '1' : '0';
    }
    expect_verify_fails(&c, "root digit changed");
    fix_checksum(&c);
    expect_verify_fails(&c, "root digit changed, checksum redone");
    /* a section hash digit */
    memcpy(c.data, b.data, b.len);
    {
        na_footer f;
        na_footer_decode(c.data, c.len, &f);
        uint8_t *t = c.data + f.toc[NA_S_MANI].offset + 12;
        size_t n = (size_t)f.toc[NA_S_MANI].length - 12;
        uint8_t *s = NULL;
        for (size_t i = 0; i + 13 <= n && !s; i++)
            if (!memcmp(t + i, "section META ", 13)) s = t + i;
        cr_assert_not_null(s);
        uint8_t *nl = memchr(s, '\n', n - (size_t)(s - t));
        nl[-1] = nl[-1] == 'a' ? 'b' : 'a';
    }
    fix_checksum(&c);
    expect_verify_fails(&c, "META hash digit changed, checksum redone");
    /* grammar violations: open refuses */
    static const char *const edits[][2] = {
        {"newsarc-manifest 1\n", "newsarc-manifest 2\n"},
        {"format 1.0\n", "format 1.1\n"},
        {"format 1.0\n", "format 2.0\n"},
        {"format 1.0\n", "format 1,0\n"},
        {"level 3\n", "level x\n"},
        {"level 3\n", "level  \n"},
        {"\nblocks ", "\nBlocks "},
        {"articles ", "articles\t"},
        {"section HEAD 0 ", "section HEAD 00"},
        {"section HEAD ", "section DICT "},
        {"section MANI", "section mani"},
        {" -\nsection FOOT", " +\nsection FOOT"},
        {"\nroot ", "\nroot\t"},
        {"\nroot ", "\r\nroot"},
        {"zstd-version 1.5.4\n", "zstd-version 1.5.x\n"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        memcpy(c.data, b.data, b.len);
        cr_assert(patch_manifest(&c, edits[i][0], edits[i][1]), "edit %zu applies", i);
        expect_open_fails(&c, C, edits[i][1]);
    }
    /* last LF replaced, a NUL inside */
    memcpy(c.data, b.data, b.len);
    {
        na_footer f;
        na_footer_decode(c.data, c.len, &f);
        c.data[f.toc[NA_S_MANI].offset + f.toc[NA_S_MANI].length - 1] = ' ';
        expect_open_fails(&c, C, "no final LF");
        memcpy(c.data, b.data, b.len);
        c.data[f.toc[NA_S_MANI].offset + 30] = 0;
        expect_open_fails(&c, C, "NUL in the manifest");
    }
    tu_buf_free(&c);
    tu_buf_free(&b);
}

Test(hostile, manifest_numbers_lie)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    na_manifest orig = a.m;
    struct {
        uint64_t *field;
        uint64_t value;
        int open;
        const char *what;
    } cases[] = {
        {&a.m.articles, 5000000000ULL, C, "articles 5e9"},
        {&a.m.articles, 0, C, "articles 0"},
        {&a.m.blocks, UINT64_MAX, C, "blocks 2^64-1"},
        {&a.m.blocks, 0, C, "blocks 0"},
        {&a.m.dict_size, 112640, C, "dictionary size without a dictionary"},
        {&a.m.entries, 5000000000ULL, 0, "entries 5e9"},
        {&a.m.entries, UINT64_MAX, 0, "entries 2^64-1"},
        {&a.m.entries, 0, 0, "entries 0"},
        {&a.m.entries, 1, 0, "entries 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        a.m = orig;
        *cases[i].field = cases[i].value;
        tu_buf c;
        assemble(&a, RESEAL, &c);
        outcome o = run_all(&c);
        if (cases[i].open) {
            cr_expect_eq(o.open, cases[i].open, "%s: open returns %d", cases[i].what, o.open);
        } else {
            /* entries is checked against the metadata table when it is loaded */
            cr_expect(o.open == C || (o.verify == C && (cases[i].value == 0 || o.entry == C)),
                      "%s: open %d entry %d verify %d", cases[i].what, o.open, o.entry, o.verify);
        }
        tu_buf_free(&c);
    }
    /* file-length in the manifest different from the file */
    a.m = orig;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    char from[64], to[64];
    snprintf(from, sizeof from, "file-length %llu\n", (unsigned long long)c.len);
    snprintf(to, sizeof to, "file-length %llu\n", (unsigned long long)c.len + 1);
    if (strlen(from) == strlen(to)) {
        cr_assert(patch_manifest(&c, from, to));
        expect_open_fails(&c, C, "manifest file-length");
    }
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

/*
 * The manifest claims more entries than the metadata table could hold.  A
 * caller sizing arrays by newsarc_reader_entry_count() (the CLI's extract
 * does) must not be told billions: open should refuse the archive.
 */
Test(hostile, entry_count_is_checked_at_open)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    a.m.entries = 5000000000ULL;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open_mem(&r, c.data, c.len);
    cr_expect(rc == C || newsarc_reader_entry_count(r) <= 1000000,
              "open accepted an entry count of 5e9 for a %zu-byte archive", c.len);
    newsarc_reader_free(r);
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

/* ---- index --------------------------------------------------------------------------------------- */

Test(hostile, index_counts_far_too_large)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    na_manifest orig = a.m;
    tu_buf ix0 = {0};
    put(&ix0, a.part[P_INDX].data, a.part[P_INDX].len);
    static const uint32_t big[] = {0xFFFFFFFFu, 0x80000000u, 0x05555556u /* 48*n wraps in 32 bits */, 1000000};
    for (int which = 0; which < 2; which++)
        for (size_t k = 0; k < sizeof big / sizeof *big; k++) {
            buf_set(&a.part[P_INDX], ix0.data, ix0.len);
            a.m = orig;
            na_st32(a.part[P_INDX].data + 12 + 4 * which, big[k]);
            if (which == 0) a.m.blocks = big[k];
            else a.m.articles = big[k];
            tu_buf c;
            assemble(&a, KEEP_HASHES, &c);
            expect_open_fails(&c, C, which ? "article count huge" : "block count huge");
            tu_buf_free(&c);
        }
    /* no articles, and a consistent empty index */
    buf_set(&a.part[P_INDX], ix0.data, 24);
    na_st32(a.part[P_INDX].data + 4, 16);
    na_st32(a.part[P_INDX].data + 12, 0);
    na_st32(a.part[P_INDX].data + 16, 0);
    a.m = orig;
    a.m.blocks = 0;
    a.m.articles = 0;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "no articles");
    tu_buf_free(&c);
    /* reserved field */
    buf_set(&a.part[P_INDX], ix0.data, ix0.len);
    a.m = orig;
    na_st32(a.part[P_INDX].data + 20, 1);
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "index reserved field");
    tu_buf_free(&c);
    /* the INDX frame one byte short or long */
    for (int d = -1; d <= 1; d += 2) {
        buf_set(&a.part[P_INDX], ix0.data, ix0.len);
        if (d > 0) put(&a.part[P_INDX], "", 1);
        else a.part[P_INDX].len--;
        na_st32(a.part[P_INDX].data + 4, (uint32_t)a.part[P_INDX].len - 8);
        assemble(&a, RESEAL, &c);
        expect_open_fails(&c, C, "index length not a whole number of records");
        tu_buf_free(&c);
    }
    tu_buf_free(&ix0);
    free_arch(&a);
    tu_buf_free(&b);
}

typedef void (*ix_patch)(arch *a);

/* Apply patch to a fresh split of the base archive; return it assembled. */
static void patched(ix_patch patch, int reseal, tu_buf *out)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    patch(&a);
    assemble(&a, reseal, out);
    free_arch(&a);
    tu_buf_free(&b);
}

/* Index damage that open does not look at (it decodes records lazily): the
 * reads that touch it and verify must refuse, with stale or fresh hashes. */
static void expect_read_and_verify_fail(ix_patch patch, const char *what)
{
    for (int reseal = 0; reseal <= 1; reseal++) {
        tu_buf c;
        patched(patch, reseal, &c);
        outcome o = expect_verify_fails(&c, what);
        cr_expect_eq(o.read, C, "%s (%s): a read returns %d, expected CORRUPT", what, reseal ? "resealed" : "stale",
                     o.read);
        tu_buf_free(&c);
    }
}

static void blk_off_past_end(arch *a) { na_st64(ix_block(a, 1), 1u << 30); }
static void blk_off_wraps(arch *a) { na_st64(ix_block(a, 1), 0xFFFFFFFFFFFFFFF0ULL); }
static void blk_off_before(arch *a) { na_st64(ix_block(a, 0), 0); }
static void blk_csize_huge(arch *a) { na_st32(ix_block(a, 1) + 8, 0xFFFFFFFFu); }
static void blk_csize_zero(arch *a) { na_st32(ix_block(a, 1) + 8, 0); }
static void blk_csize_short(arch *a) { na_st32(ix_block(a, 1) + 8, na_ld32(ix_block(a, 1) + 8) - 1); }
static void blk_usize_huge(arch *a) { na_st32(ix_block(a, 1) + 12, 0xFFFFFFFFu); }
static void blk_usize_limit(arch *a) { na_st32(ix_block(a, 1) + 12, 1u << 30); }
static void blk_usize_plus1(arch *a) { na_st32(ix_block(a, 1) + 12, na_ld32(ix_block(a, 1) + 12) + 1); }
static void blk_usize_minus1(arch *a) { na_st32(ix_block(a, 1) + 12, na_ld32(ix_block(a, 1) + 12) - 1); }
static void blk_overlap(arch *a)
{
    /* block 1 made to point at block 0's frame */
    memcpy(ix_block(a, 1), ix_block(a, 0), 16);
}
static void blk_hash(arch *a) { ix_block(a, 1)[20] ^= 1; }

Test(hostile, block_records_out_of_bounds)
{
    expect_read_and_verify_fail(blk_off_past_end, "block offset past the end");
    expect_read_and_verify_fail(blk_off_wraps, "block offset + csize wraps");
    expect_read_and_verify_fail(blk_off_before, "block offset before the blocks region");
    expect_read_and_verify_fail(blk_csize_huge, "block csize 2^32-1");
    expect_read_and_verify_fail(blk_csize_zero, "block csize 0");
    expect_read_and_verify_fail(blk_csize_short, "block csize one short");
    expect_read_and_verify_fail(blk_usize_huge, "block usize 2^32-1");
    expect_read_and_verify_fail(blk_usize_limit, "block usize 2^30 from a small frame");
    expect_read_and_verify_fail(blk_usize_plus1, "block usize one more than the frame");
    expect_read_and_verify_fail(blk_usize_minus1, "block usize one less than the frame");
    expect_read_and_verify_fail(blk_overlap, "two blocks share a frame");
}

Test(hostile, block_hash_mismatch)
{
    /* the bytes still decompress and the ids match: reads succeed, verify refuses */
    for (int reseal = 0; reseal <= 1; reseal++) {
        tu_buf c;
        patched(blk_hash, reseal, &c);
        expect_verify_fails(&c, "block hash");
        tu_buf_free(&c);
    }
}

/* An article with bytes followed by another with bytes (the empty article
 * would make some damage invisible: its id holds whatever the offset). */
static uint32_t victim(arch *a)
{
    for (uint32_t i = 1; i + 1 < a->n_locs; i++)
        if (a->locs[i][2] && a->locs[i + 1][2]) return i;
    cr_assert_fail("no two non-empty articles in a row");
    return 0;
}

static void art_block_out(arch *a) { ix_loc(a, victim(a))[0] = ix_blocks(a); }
static void art_block_max(arch *a) { ix_loc(a, victim(a))[0] = 0xFFFFFFFFu; }
static void art_off_wraps(arch *a)
{
    ix_loc(a, victim(a))[1] = 0xFFFFFFF0u;
    ix_loc(a, victim(a))[2] = 0x20u;
}
static void art_len_huge(arch *a) { ix_loc(a, victim(a))[2] = 0xFFFFFFFFu; }
static void art_len_past_block(arch *a) { ix_loc(a, victim(a))[2] += 100000; }
static void art_off_shift(arch *a) { ix_loc(a, victim(a))[1] += 1; }
static void art_id(arch *a) { ix_id(a, victim(a))[31] ^= 0x80; }

Test(hostile, article_records_out_of_bounds)
{
    expect_read_and_verify_fail(art_block_out, "article block = block count");
    expect_read_and_verify_fail(art_block_max, "article block 2^32-1");
    expect_read_and_verify_fail(art_off_wraps, "article offset + length past 2^32");
    expect_read_and_verify_fail(art_len_huge, "article length 2^32-1");
    expect_read_and_verify_fail(art_len_past_block, "article length past its block");
    expect_read_and_verify_fail(art_off_shift, "article offset moved by one");
    expect_read_and_verify_fail(art_id, "article id changed");
}

static void art_swap(arch *a)
{
    uint32_t v = victim(a);
    uint8_t t[NA_ID_REC];
    uint32_t l[3];
    memcpy(t, ix_id(a, v), NA_ID_REC);
    memcpy(ix_id(a, v), ix_id(a, v + 1), NA_ID_REC);
    memcpy(ix_id(a, v + 1), t, NA_ID_REC);
    memcpy(l, ix_loc(a, v), sizeof l);
    memcpy(ix_loc(a, v), ix_loc(a, v + 1), sizeof l);
    memcpy(ix_loc(a, v + 1), l, sizeof l);
}
static void art_dup(arch *a)
{
    uint32_t v = victim(a);
    memcpy(ix_id(a, v + 1), ix_id(a, v), NA_ID_REC);
    memcpy(ix_loc(a, v + 1), ix_loc(a, v), NA_LOC_REC);
}
static void art_dup_id_only(arch *a) { memcpy(ix_id(a, victim(a) + 1), ix_id(a, victim(a)), NA_HASH); }
static void art_two_in_one_place(arch *a)
{
    /* article v+1 made to cover the same bytes as article v (keeping its own id) */
    uint32_t v = victim(a);
    memcpy(ix_loc(a, v + 1), ix_loc(a, v), NA_LOC_REC);
}

Test(hostile, index_unsorted_duplicate_overlapping)
{
    for (int reseal = 0; reseal <= 1; reseal++) {
        tu_buf c;
        patched(art_swap, reseal, &c);
        outcome o = expect_verify_fails(&c, "two article records swapped");
        cr_expect_eq(o.read, 0, "records are self-consistent: each reads");
        tu_buf_free(&c);
        patched(art_dup, reseal, &c);
        expect_verify_fails(&c, "an article record repeated");
        tu_buf_free(&c);
        patched(art_dup_id_only, reseal, &c);
        o = expect_verify_fails(&c, "an id repeated");
        cr_expect_eq(o.read, C, "the record with a borrowed id does not read");
        tu_buf_free(&c);
        patched(art_two_in_one_place, reseal, &c);
        o = expect_verify_fails(&c, "two records cover the same bytes");
        cr_expect_eq(o.read, C);
        tu_buf_free(&c);
    }
}

/* ---- location chunks (spec 4.5) ------------------------------------------------------------------ */

/* Replace location chunk k of the INDX frame by frame[0..fl) (directory and frame length follow). */
static void set_chunk(arch *a, uint32_t k, const uint8_t *frame, size_t fl)
{
    tu_buf *x = &a->part[P_INDX];
    uint32_t nb = ix_blocks(a), na = ix_arts(a);
    uint64_t nc = na_loc_chunks(na);
    cr_assert(k < nc);
    size_t dir = 24 + (size_t)NA_BLOCK_REC * nb + (size_t)NA_ID_REC * na, at = dir + NA_LOC_CHUNK_REC * nc;
    for (uint32_t i = 0; i < k; i++) at += na_ld32(x->data + dir + NA_LOC_CHUNK_REC * i);
    size_t old = na_ld32(x->data + dir + NA_LOC_CHUNK_REC * k);
    tu_buf t = {0};
    put(&t, x->data, at);
    put(&t, frame, fl);
    put(&t, x->data + at + old, x->len - at - old);
    buf_set(x, t.data, t.len);
    tu_buf_free(&t);
    na_st32(x->data + dir + NA_LOC_CHUNK_REC * k, (uint32_t)fl);
    na_st32(x->data + 4, (uint32_t)x->len - 8);
}

/* Chunk k's content (its byte planes) as the base archive has it. */
static size_t chunk_planes(arch *a, uint32_t k, uint8_t *out)
{
    size_t m = a->n_locs - (size_t)k * NA_LOC_CHUNK < NA_LOC_CHUNK ? a->n_locs - (size_t)k * NA_LOC_CHUNK : NA_LOC_CHUNK;
    na_locs_to_planes(out, (const uint32_t(*)[3])(a->locs + (size_t)k * NA_LOC_CHUNK), m);
    return NA_LOC_REC * m;
}

enum { LC_LONGER, LC_SHORTER, LC_FCS_LIE, LC_DICT, LC_TWO_FRAMES, LC_TRAILING, LC_SKIPPABLE, LC_GARBAGE, LC_COUNT };
static const char *const lc_what[LC_COUNT] = {
    "location chunk holding 12 bytes more than its records", "location chunk holding 12 bytes less",
    "location chunk declaring one byte more than it holds", "location chunk asking for a dictionary",
    "location chunk in two frames", "location chunk with a byte after its frame",
    "location chunk replaced by a skippable frame", "location chunk of garbage bytes"};

static void damage_chunk(arch *a, uint32_t k, int how)
{
    uint8_t *pl = calloc(1, NA_LOC_REC * NA_LOC_CHUNK + 64), *fr = malloc(2 * NA_LOC_REC * NA_LOC_CHUNK + 256);
    cr_assert(pl && fr);
    size_t n = chunk_planes(a, k, pl), fl = 0;
    switch (how) {
    case LC_LONGER: fl = raw_frame(fr, pl, n + 12, -1, (uint32_t)n + 12); break;
    case LC_SHORTER: fl = raw_frame(fr, pl, n - 12, -1, (uint32_t)n - 12); break;
    case LC_FCS_LIE: fl = raw_frame(fr, pl, n, -1, (uint32_t)n + 1); break;
    case LC_DICT:
        /* single segment, one-byte Dictionary_ID 7, four-byte content size, one raw block */
        fl = raw_frame(fr + 1, pl, n, -1, (uint32_t)n) + 1;
        memmove(fr, fr + 1, 4);
        fr[4] = 0xA1;
        fr[5] = 7;
        break;
    case LC_TWO_FRAMES:
        fl = raw_frame(fr, pl, n / 2, -1, (uint32_t)(n / 2));
        fl += raw_frame(fr + fl, pl + n / 2, n - n / 2, -1, (uint32_t)(n - n / 2));
        break;
    case LC_TRAILING:
        fl = raw_frame(fr, pl, n, -1, (uint32_t)n);
        fr[fl++] = 0;
        break;
    case LC_SKIPPABLE:
        fl = n + 12;
        na_frame_header(fr, (uint32_t)n + 4, "locs");
        memcpy(fr + 12, pl, n);
        break;
    default:
        fl = 40;
        for (size_t i = 0; i < fl; i++) fr[i] = (uint8_t)(i * 37 + 11);
        break;
    }
    set_chunk(a, k, fr, fl);
    free(pl);
    free(fr);
}

Test(hostile, location_chunks_that_lie)
{
    for (int how = 0; how < LC_COUNT; how++)
        for (int reseal = 0; reseal <= 1; reseal++) {
            tu_buf b;
            base_archive(&b);
            arch a;
            split_archive(&b, &a);
            damage_chunk(&a, 0, how);
            tu_buf c;
            assemble(&a, reseal, &c);
            outcome o = expect_verify_fails(&c, lc_what[how]);
            cr_expect_eq(o.read, C, "%s: a read returns %d, expected CORRUPT", lc_what[how], o.read);
            tu_buf_free(&c);
            free_arch(&a);
            tu_buf_free(&b);
        }
    /* the same chunk as a valid raw-block frame reads and verifies (the test's frames are sound) */
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    uint8_t *pl = malloc(NA_LOC_REC * NA_LOC_CHUNK), *fr = malloc(NA_LOC_REC * NA_LOC_CHUNK + 64);
    size_t n = chunk_planes(&a, 0, pl);
    set_chunk(&a, 0, fr, raw_frame(fr, pl, n, -1, (uint32_t)n));
    tu_buf c;
    assemble(&a, RESEAL, &c);
    outcome o = run_all(&c);
    cr_expect(o.open == 0 && o.read == 0 && o.verify == 0 && o.verify2 == 0, "raw-block chunk: %d %d %d", o.open, o.read, o.verify);
    free(pl);
    free(fr);
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

Test(hostile, location_directory_that_lies)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    size_t dir = 24 + (size_t)NA_BLOCK_REC * ix_blocks(&a) + (size_t)NA_ID_REC * ix_arts(&a);
    static const int32_t delta[] = {1, -1, 0x40000000};
    for (size_t d = 0; d < sizeof delta / sizeof *delta; d++) {
        arch t;
        split_archive(&b, &t);
        na_st32(ix(&t) + dir, na_ld32(ix(&t) + dir) + (uint32_t)delta[d]);
        tu_buf c;
        assemble(&t, RESEAL, &c);
        expect_open_fails(&c, C, "chunk directory disagrees with the INDX length");
        tu_buf_free(&c);
        free_arch(&t);
    }
    free_arch(&a);
    tu_buf_free(&b);
}

/* More than one chunk: every article reads through its chunk, a damaged
 * chunk takes only its own articles with it, and verify names it. */
Test(hostile, location_chunks_are_independent)
{
    enum { N = 2 * NA_LOC_CHUNK + 100 };
    tu_item *it = calloc(N, sizeof *it);
    char (*txt)[48] = calloc(N, sizeof *txt);
    cr_assert(it && txt);
    for (size_t i = 0; i < N; i++) {
        snprintf(txt[i], sizeof txt[i], "article %zu of the chunk test", i);
        it[i] = (tu_item){NULL, txt[i], 0};
        char *line = malloc(96);
        snprintf(line, 96, "{\"url\":\"https://e.org/%zu\",\"text\":\"%s\"}", i, txt[i]);
        it[i].data = line;
    }
    newsarc_writer_options o = {.level = 1, .block_size = 4096, .dict_size = UINT32_MAX, .threads = 2, .no_text_info = 1};
    tu_buf b = {0};
    char msg[512];
    cr_assert_eq(tu_pack(it, N, NULL, &o, &b, msg, sizeof msg), 0, "pack: %s", msg);
    arch a;
    split_archive(&b, &a);
    cr_assert_eq(na_loc_chunks(ix_arts(&a)), 3);
    outcome ok = run_all(&b);
    cr_expect(ok.open == 0 && ok.read == 0 && ok.verify == 0 && ok.verify2 == 0);
    /* every article by index: its bytes hash to its id */
    newsarc_reader *r = NULL;
    cr_assert_eq(newsarc_reader_open_mem(&r, b.data, b.len), 0);
    for (uint64_t i = 0; i < N; i++) {
        void *d = NULL;
        size_t n = 0;
        newsarc_article_info ai;
        cr_assert_eq(newsarc_reader_read(r, i, &d, &n), 0, "article %llu", (unsigned long long)i);
        cr_assert_eq(newsarc_reader_article(r, i, &ai), 0);
        uint8_t id[NA_HASH];
        newsarc_article_id(id, d, n);
        cr_assert(!memcmp(id, ai.id, NA_HASH) && ai.size == n);
        newsarc_free(d);
    }
    newsarc_reader_free(r);
    damage_chunk(&a, 1, LC_LONGER);
    tu_buf c;
    assemble(&a, RESEAL, &c);
    cr_assert_eq(newsarc_reader_open_mem(&r, c.data, c.len), 0);
    for (uint64_t i = 0; i < N; i++) {
        void *d = NULL;
        size_t n = 0;
        int rc = newsarc_reader_read(r, i, &d, &n);
        newsarc_free(d);
        if (i / NA_LOC_CHUNK == 1) cr_assert_eq(rc, C, "article %llu in the damaged chunk", (unsigned long long)i);
        else cr_assert_eq(rc, 0, "article %llu outside the damaged chunk", (unsigned long long)i);
    }
    cr_expect_str_eq(newsarc_reader_error(r), "index: location chunk 1 does not declare 49152 bytes");
    newsarc_reader_free(r);
    outcome bad = expect_verify_fails(&c, "second of three location chunks damaged");
    cr_expect_eq(bad.problems >= 1, 1);
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
    for (size_t i = 0; i < N; i++) free((void *)it[i].data);
    free(it);
    free(txt);
}

/* ---- block frames ----------------------------------------------------------------------------------- */

static void frame_case(int wexp, int64_t fcs_delta, int64_t usize_delta, int expect_read, const char *what)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    size_t n;
    uint8_t *content = block_content(&a, 1, &n);
    uint8_t *fr = malloc(n + 32);
    size_t fl = raw_frame(fr, content, n, wexp, (uint32_t)((int64_t)n + fcs_delta));
    replace_block(&a, 1, fr, fl, (uint32_t)((int64_t)n + usize_delta));
    tu_buf c;
    assemble(&a, RESEAL, &c);
    outcome o = run_all(&c);
    cr_expect_eq(o.open, 0, "%s: opens", what);
    if (expect_read < 0) {
        /* valid but unusual: either read exactly (checked by id) or refused */
        cr_expect(o.read == 0 || o.read == C || o.read == U, "%s: read returns %d", what, o.read);
        cr_expect(o.verify == 0 || o.verify == C, "%s: verify returns %d", what, o.verify);
    } else {
        cr_expect_eq(o.read, expect_read, "%s: read returns %d", what, o.read);
        cr_expect_eq(o.verify, expect_read ? C : 0, "%s: verify returns %d", what, o.verify);
    }
    tu_buf_free(&c);
    free(fr);
    free(content);
    free_arch(&a);
    tu_buf_free(&b);
}

Test(hostile, block_frames_that_lie)
{
    /* the frame declares less than it holds: decompression must stop at the buffer */
    frame_case(-1, -10, -10, C, "frame and index both claim 10 bytes less than the frame holds");
    /* the frame declares more than it holds */
    frame_case(-1, +10, +10, C, "frame and index both claim 10 bytes more than the frame holds");
    /* index and frame disagree */
    frame_case(-1, 0, +1, C, "index usize one more than the frame's content size");
    /* a bomb: frame and index claim the format maximum, the frame holds a few hundred bytes */
    frame_case(-1, (int64_t)(1u << 30) - 5000, (int64_t)(1u << 30) - 5000, C, "frame claims ~1 GiB");
    /* window descriptors: 2^31 is the largest zstd allows (refusal or exact read are both fine),
     * 2^32 is invalid */
    frame_case(21, 0, 0, -1, "frame window 2 GiB");
    frame_case(22, 0, 0, C, "frame window 4 GiB (beyond zstd's limit)");
    frame_case(0, 0, 0, -1, "frame window 1 KiB with a raw block larger than the window");
}

Test(hostile, block_frame_replaced_by_other_kinds)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    na_block_rec br;
    na_block_decode(ix_block(&a, 1), &br);
    /* a skippable frame of the same length, a frame with a checksum that fails, garbage */
    uint8_t *fr = calloc(1, br.csize);
    na_frame_header(fr, br.csize - 8, "junk");
    replace_block(&a, 1, fr, br.csize, br.usize);
    tu_buf c;
    assemble(&a, RESEAL, &c);
    outcome o = expect_verify_fails(&c, "block replaced by a skippable frame");
    cr_expect_eq(o.read, C);
    tu_buf_free(&c);
    free_arch(&a);
    split_archive(&b, &a);
    size_t n;
    uint8_t *content = block_content(&a, 1, &n);
    size_t cap = ZSTD_compressBound(n) + 64;
    uint8_t *z = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    size_t zl = ZSTD_compress2(cc, z, cap, content, n);
    cr_assert(!ZSTD_isError(zl));
    ZSTD_freeCCtx(cc);
    z[zl - 1] ^= 0xFF; /* the checksum */
    replace_block(&a, 1, z, zl, (uint32_t)n);
    assemble(&a, RESEAL, &c);
    o = expect_verify_fails(&c, "block frame with a failing checksum");
    cr_expect_eq(o.read, C);
    tu_buf_free(&c);
    free_arch(&a);
    /* two frames where one was: the index csize covers both */
    split_archive(&b, &a);
    size_t zl2 = ZSTD_compress(z, cap, content, n / 2, 3);
    size_t zl3 = ZSTD_compress(z + zl2, cap - zl2, content + n / 2, n - n / 2, 3);
    cr_assert(!ZSTD_isError(zl2) && !ZSTD_isError(zl3));
    replace_block(&a, 1, z, zl2 + zl3, (uint32_t)n);
    assemble(&a, RESEAL, &c);
    o = expect_verify_fails(&c, "two frames in one block's place");
    cr_expect_eq(o.read, C);
    tu_buf_free(&c);
    free_arch(&a);
    free(z);
    free(content);
    free(fr);
    tu_buf_free(&b);
}

/* ---- metadata ---------------------------------------------------------------------------------- */

Test(hostile, meta_table_size_lies)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    tu_buf t;
    meta_table(&a, &t);
    static const uint64_t sizes[] = {0, 3, UINT64_MAX, (uint64_t)1 << 32 | 1, 0xFFFFFFFFull * 40000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        set_meta(&a, t.data, t.len, sizes[i]);
        tu_buf c;
        assemble(&a, RESEAL, &c);
        expect_open_fails(&c, C, "metadata table size out of range");
        tu_buf_free(&c);
    }
    /* in range but not the frame's size */
    for (int d = -1; d <= 1; d += 2) {
        set_meta(&a, t.data, t.len, t.len - 4 + (uint64_t)(int64_t)d);
        tu_buf c;
        assemble(&a, RESEAL, &c);
        outcome o = expect_verify_fails(&c, "metadata table size off by one");
        cr_expect_eq(o.entry, C, "entry access returns %d", o.entry);
        tu_buf_free(&c);
    }
    /* META payload too short, frame garbage */
    uint8_t shortm[20];
    na_frame_header(shortm, 12, "META");
    memset(shortm + 12, 0, 8);
    buf_set(&a.part[P_META], shortm, sizeof shortm);
    tu_buf c;
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "metadata section too short");
    tu_buf_free(&c);
    uint8_t junk[96];
    memset(junk, 0xAB, sizeof junk);
    na_frame_header(junk, sizeof junk - 8, "META");
    /* one frame of garbage, with a directory and header that pass every
     * check made before the frame itself is read */
    na_st32(junk + 12, 1);
    na_st64(junk + 16, 4096);
    na_st32(junk + 24, (uint32_t)a.m.entries);
    na_st32(junk + 28, 0);
    na_st32(junk + 32, sizeof junk - 48);
    na_st32(junk + 36, 4096);
    na_st32(junk + 40, (uint32_t)a.m.entries);
    na_st32(junk + 44, 0);
    buf_set(&a.part[P_META], junk, sizeof junk);
    assemble(&a, RESEAL, &c);
    outcome o = expect_verify_fails(&c, "metadata frame is garbage");
    cr_expect_eq(o.entry, C);
    tu_buf_free(&c);
    tu_buf_free(&t);
    free_arch(&a);
    tu_buf_free(&b);
}

typedef void (*table_patch)(tu_buf *t);

/* Patch the decompressed table, recompress, reseal: entries and verify must refuse. */
static outcome table_case(table_patch patch, int entry_code, const char *what)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    tu_buf t;
    meta_table(&a, &t);
    patch(&t);
    set_meta(&a, t.data, t.len, t.len - 4);
    tu_buf c;
    assemble(&a, RESEAL, &c);
    outcome o = expect_verify_fails(&c, what);
    cr_expect_eq(o.entry, entry_code, "%s: entry returns %d, expected %d", what, o.entry, entry_code);
    tu_buf_free(&c);
    tu_buf_free(&t);
    free_arch(&a);
    tu_buf_free(&b);
    return o;
}

static void t_count_huge(tu_buf *t) { na_st32(t->data, 0xFFFFFFFFu); }
static void t_count_plus(tu_buf *t) { na_st32(t->data, na_ld32(t->data) + 1); }
static void t_name_len_huge(tu_buf *t) { na_st32(t->data + entry_pos(t, 1).name_len, 0xFFFFFFF0u); }
static void t_name_len_limit(tu_buf *t) { na_st32(t->data + entry_pos(t, 1).name_len, 4097); }
static void t_key_len_huge(tu_buf *t) { na_st32(t->data + entry_pos(t, 0).key_len, 0x7FFFFFFFu); }
static void t_meta_len_huge(tu_buf *t)
{
    uint32_t n = na_ld32(t->data);
    na_st32(t->data + entry_pos(t, n - 1).meta_len, 0xFFFFFFFFu);
}
static void t_meta_len_short(tu_buf *t)
{
    /* the last entry's meta one byte longer than the table */
    uint32_t n = na_ld32(t->data);
    ent_pos e = entry_pos(t, n - 1);
    na_st32(t->data + e.meta_len, na_ld32(t->data + e.meta_len) + 1);
}
static void t_article_out(tu_buf *t) { na_st32(t->data + entry_pos(t, 2).rec, 0xFFFFFFFFu); }
static void t_flags_reserved(tu_buf *t) { na_st32(t->data + entry_pos(t, 2).rec + 4, 0x100u); }
static void t_trailing(tu_buf *t) { put(t, "\0\0\0\0", 4); }
static void t_truncated(tu_buf *t) { t->len -= 3; }

Test(hostile, meta_records_malformed)
{
    table_case(t_count_huge, C, "entry count 2^32-1");
    table_case(t_count_plus, C, "entry count one more than the records");
    table_case(t_name_len_huge, C, "name length 2^32-16");
    table_case(t_name_len_limit, C, "name length 4097");
    table_case(t_key_len_huge, C, "key length 2^31-1");
    table_case(t_meta_len_huge, C, "meta length 2^32-1");
    table_case(t_meta_len_short, C, "meta length past the table");
    table_case(t_article_out, C, "entry refers to article 2^32-1");
    table_case(t_flags_reserved, C, "reserved entry flags");
    table_case(t_trailing, C, "trailing bytes after the entries");
    table_case(t_truncated, C, "table cut short");
}

/* First entry whose name is at least min bytes long (file entries; JSON ones are unnamed). */
static uint32_t named(const tu_buf *t, uint32_t min)
{
    uint32_t n = na_ld32(t->data);
    for (uint32_t i = 0; i < n; i++)
        if (na_ld32(t->data + entry_pos(t, i).name_len) >= min) return i;
    cr_assert_fail("no entry with a name of %u bytes", min);
    return 0;
}

/* A file entry's name replaced by s, padded with 'a' to the same length. */
static void set_name(tu_buf *t, const char *s)
{
    size_t k = strlen(s);
    ent_pos e = entry_pos(t, named(t, (uint32_t)k));
    uint32_t nl = na_ld32(t->data + e.name_len);
    memset(t->data + e.name, 'a', nl);
    memcpy(t->data + e.name, s, k);
}
static void t_name_dotdot(tu_buf *t) { set_name(t, "../../etc/x"); }
static void t_name_abs(tu_buf *t) { set_name(t, "/etc/passwd"); }
static void t_name_ctrl(tu_buf *t) { set_name(t, "a\x1b[2Jb"); }
static void t_name_utf8(tu_buf *t) { set_name(t, "a\xC0\xAF"); }
static void t_name_empty_comp(tu_buf *t) { set_name(t, "a//b"); }

static uint32_t find_flagged(const tu_buf *t, uint32_t flag)
{
    uint32_t n = na_ld32(t->data);
    for (uint32_t i = 0; i < n; i++)
        if (na_ld32(t->data + entry_pos(t, i).rec + 4) & flag) return i;
    cr_assert_fail("no entry with flag %u", flag);
    return 0;
}

static void t_meta_not_object(tu_buf *t)
{
    /* the TEXT_FIELD entry's metadata made a JSON array of the same length */
    ent_pos e = entry_pos(t, find_flagged(t, NEWSARC_ENTRY_TEXT_FIELD));
    uint32_t ml = na_ld32(t->data + e.meta_len);
    cr_assert_geq(ml, 2);
    memset(t->data + e.meta, ' ', ml);
    t->data[e.meta] = '[';
    t->data[e.meta + ml - 1] = ']';
}
static void t_meta_broken_json(tu_buf *t)
{
    ent_pos e = entry_pos(t, find_flagged(t, NEWSARC_ENTRY_TEXT_FIELD));
    t->data[e.meta + na_ld32(t->data + e.meta_len) - 1] = ',';
}
static void t_flags_inconsistent(tu_buf *t)
{
    ent_pos e = entry_pos(t, named(t, 1)); /* a file entry */
    na_st32(t->data + e.rec + 4, NEWSARC_ENTRY_TEXT_FIELD | NEWSARC_ENTRY_WHOLE);
}

/* Two consecutive file entries whose records have the same length. */
static uint32_t same_size_pair(const tu_buf *t)
{
    uint32_t n = na_ld32(t->data);
    for (uint32_t i = named(t, 1); i + 1 < n; i++) {
        ent_pos a = entry_pos(t, i), b = entry_pos(t, i + 1);
        if (a.end - a.rec == b.end - b.rec) return i;
    }
    cr_assert_fail("no two entries of the same size");
    return 0;
}

static void t_out_of_order(tu_buf *t)
{
    uint32_t i = same_size_pair(t);
    ent_pos e1 = entry_pos(t, i), e2 = entry_pos(t, i + 1);
    size_t l = e1.end - e1.rec;
    uint8_t *tmp = malloc(l);
    memcpy(tmp, t->data + e1.rec, l);
    memcpy(t->data + e1.rec, t->data + e2.rec, l);
    memcpy(t->data + e2.rec, tmp, l);
    free(tmp);
}

static void t_orphan(tu_buf *t)
{
    /* a file entry made to point at the next one's article: its own article loses its only entry */
    uint32_t i = same_size_pair(t);
    memcpy(t->data + entry_pos(t, i).rec, t->data + entry_pos(t, i + 1).rec, 4);
}

Test(hostile, meta_contents_verify_refuses)
{
    /* structurally fine: entries load; verify refuses the content */
    table_case(t_name_dotdot, 0, "name with '..'");
    table_case(t_name_abs, 0, "absolute name");
    table_case(t_name_ctrl, 0, "name with an escape character");
    table_case(t_name_utf8, 0, "name with overlong UTF-8");
    table_case(t_name_empty_comp, 0, "name with an empty component");
    table_case(t_flags_inconsistent, 0, "file entry flagged TEXT_FIELD|WHOLE");
    table_case(t_out_of_order, 0, "entries out of canonical order");
    table_case(t_orphan, 0, "an article without an entry");
    outcome o = table_case(t_meta_not_object, 0, "metadata is a JSON array");
    cr_expect_eq(o.json, C, "entry_to_json refuses metadata that is not an object");
    o = table_case(t_meta_broken_json, 0, "metadata is broken JSON");
    cr_expect_eq(o.json, C, "entry_to_json refuses broken metadata");
}

static int verify_messages(const tu_buf *b, tu_buf *out);

/* Swap entries i and i + 1 of a table (records of any length). */
static void swap_entries(tu_buf *t, uint32_t i)
{
    ent_pos e1 = entry_pos(t, i), e2 = entry_pos(t, i + 1);
    tu_buf n = {0};
    put(&n, t->data, e1.rec);
    put(&n, t->data + e2.rec, e2.end - e2.rec);
    put(&n, t->data + e1.rec, e1.end - e1.rec);
    put(&n, t->data + e2.end, t->len - e2.end);
    buf_set(t, n.data, n.len);
    tu_buf_free(&n);
}

static int cmp_loc(const uint32_t *a, const uint32_t *b)
{
    for (int f = 0; f < 3; f++)
        if (a[f] != b[f]) return a[f] < b[f] ? -1 : 1;
    return 0;
}

/* Entries with the same (empty) name follow their articles' locations
 * (spec 9.2), not the id order: the writer writes them so, verify accepts
 * that and refuses two of them swapped into id order. */
Test(hostile, json_entries_follow_their_articles_locations)
{
    enum { N = 40 };
    tu_item it[N];
    char lines[N][160];
    for (int i = 0; i < N; i++) {
        snprintf(lines[i], sizeof lines[i], "{\"url\":\"https://e.org/%02d\",\"title\":\"t%d\",\"text\":\"story %d, %s\"}",
                 (i * 17) % N, i, i, i % 2 ? "one way" : "another way");
        it[i] = (tu_item){NULL, lines[i], 0};
    }
    newsarc_writer_options o = {.level = 3, .block_size = 256, .dict_size = UINT32_MAX, .threads = 2, .no_text_info = 1};
    tu_buf b = {0};
    char msg[512];
    cr_assert_eq(tu_pack(it, N, NULL, &o, &b, msg, sizeof msg), 0, "pack: %s", msg);
    arch a;
    split_archive(&b, &a);
    cr_assert_gt(ix_blocks(&a), 3);
    tu_buf t;
    meta_table(&a, &t);
    cr_assert_eq(na_ld32(t.data), N);
    uint32_t swap = UINT32_MAX;
    for (uint32_t i = 0; i + 1 < N; i++) {
        uint32_t p = na_ld32(t.data + entry_pos(&t, i).rec), q = na_ld32(t.data + entry_pos(&t, i + 1).rec);
        cr_expect_lt(cmp_loc(a.locs[p], a.locs[q]), 0, "entries %u and %u in location order", i, i + 1);
        if (p > q && swap == UINT32_MAX) swap = i; /* in location order, against id order */
    }
    cr_assert_neq(swap, UINT32_MAX, "some neighbours are out of id order (else the test shows nothing)");
    outcome ok = run_all(&b);
    cr_expect(ok.open == 0 && ok.read == 0 && ok.verify == 0 && ok.verify2 == 0, "the archive as written verifies");
    swap_entries(&t, swap);
    set_meta(&a, t.data, t.len, t.len - 4);
    tu_buf c, rep;
    assemble(&a, RESEAL, &c);
    expect_verify_fails(&c, "two JSON entries put in id order");
    cr_expect_eq(verify_messages(&c, &rep), C);
    cr_expect(strstr((char *)rep.data, "out of canonical order") != NULL, "verify says: %s", (char *)rep.data);
    tu_buf_free(&rep);
    tu_buf_free(&c);
    tu_buf_free(&t);
    free_arch(&a);
    tu_buf_free(&b);
}

/*
 * META as two frames, split before entry `split` of the table: verify
 * checks frames on separate threads and the pairs that straddle two frames
 * afterwards, so a fault at the seam must be found like any other.
 */
static void set_meta_split(arch *a, const tu_buf *t, uint32_t split)
{
    uint32_t n = na_ld32(t->data);
    cr_assert(split > 0 && split < n);
    size_t cut = entry_pos(t, split).rec;
    const uint8_t *part[2] = {t->data + 4, t->data + cut};
    size_t plen[2] = {cut - 4, t->len - cut};
    uint32_t pent[2] = {split, n - split};
    uint32_t nl[2];
    size_t zc[2];
    uint8_t *z[2];
    for (int k = 0; k < 2; k++) {
        nl[k] = na_ld32(part[k] + 8);
        z[k] = malloc(ZSTD_compressBound(plen[k]));
        zc[k] = ZSTD_compress(z[k], ZSTD_compressBound(plen[k]), part[k], plen[k], 3);
        cr_assert(!ZSTD_isError(zc[k]));
    }
    size_t head = 32 + 2 * 16, len = head + nl[0] + nl[1] + zc[0] + zc[1];
    uint8_t *m = calloc(1, len);
    na_frame_header(m, (uint32_t)(len - 8), "META");
    na_st32(m + 12, 2);
    na_st64(m + 16, t->len - 4);
    na_st32(m + 24, (uint32_t)a->m.entries);
    size_t at = head;
    for (int k = 0; k < 2; k++) {
        uint8_t *d = m + 32 + 16 * k;
        na_st32(d, (uint32_t)zc[k]);
        na_st32(d + 4, (uint32_t)plen[k]);
        na_st32(d + 8, pent[k]);
        na_st32(d + 12, nl[k]);
        memcpy(m + at, part[k] + 12, nl[k]);
        at += nl[k];
    }
    for (int k = 0; k < 2; k++) {
        memcpy(m + at, z[k], zc[k]);
        at += zc[k];
        free(z[k]);
    }
    buf_set(&a->part[P_META], m, len);
    free(m);
}

static void collect_problem(void *ctx, const newsarc_problem *p)
{
    tu_buf *all = ctx;
    cr_assert_eq(put(all, p->message, strlen(p->message)), 0);
    cr_assert_eq(put(all, "\n", 1), 0);
}

/* verify's messages at 1 and 3 threads (which must agree), NUL-terminated; returns verify's code. */
static int verify_messages(const tu_buf *b, tu_buf *out)
{
    int rc[2];
    tu_buf msgs[2];
    for (int k = 0; k < 2; k++) {
        newsarc_reader *r = NULL;
        memset(&msgs[k], 0, sizeof msgs[k]);
        cr_assert_eq(newsarc_reader_open_mem(&r, b->data, b->len), 0);
        rc[k] = newsarc_reader_verify(r, k ? 3 : 1, collect_problem, &msgs[k]);
        cr_assert_eq(put(&msgs[k], "", 1), 0);
        newsarc_reader_free(r);
    }
    cr_expect_eq(rc[0], rc[1]);
    cr_expect_str_eq((char *)msgs[0].data, (char *)msgs[1].data, "the same report at 1 and 3 threads");
    tu_buf_free(&msgs[1]);
    *out = msgs[0];
    return rc[0];
}

Test(hostile, meta_frame_seams)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    tu_buf t;
    meta_table(&a, &t);
    uint32_t i = same_size_pair(&t);
    /* the table split in two frames, unchanged otherwise, is valid */
    set_meta_split(&a, &t, i + 1);
    tu_buf c, msg;
    assemble(&a, RESEAL, &c);
    cr_expect_eq(verify_messages(&c, &msg), 0, "a valid table in two frames verifies: %s", (char *)msg.data);
    tu_buf_free(&msg);
    tu_buf_free(&c);
    /* entries i and i + 1 swapped, on either side of the seam */
    tu_buf u = {0};
    cr_assert_eq(put(&u, t.data, t.len), 0);
    t_out_of_order(&u);
    set_meta_split(&a, &u, i + 1);
    assemble(&a, RESEAL, &c);
    cr_expect_eq(verify_messages(&c, &msg), C);
    char want[64];
    snprintf(want, sizeof want, "entry %u is out of canonical order", i + 1);
    cr_expect(strstr((char *)msg.data, want), "the seam's order fault is reported: %s", (char *)msg.data);
    tu_buf_free(&msg);
    tu_buf_free(&c);
    /* entry i + 1 given entry i's name (same length), across the seam */
    memcpy(u.data, t.data, t.len);
    ent_pos e1 = entry_pos(&u, i), e2 = entry_pos(&u, i + 1);
    uint32_t l1 = na_ld32(u.data + e1.name_len), l2 = na_ld32(u.data + e2.name_len);
    if (l1 == l2) {
        memcpy(u.data + e2.name, u.data + e1.name, l1);
        set_meta_split(&a, &u, i + 1);
        assemble(&a, RESEAL, &c);
        cr_expect_eq(verify_messages(&c, &msg), C);
        snprintf(want, sizeof want, "entry %u: the name is also given to another article", i + 1);
        cr_expect(strstr((char *)msg.data, want), "the seam's shared name is reported: %s", (char *)msg.data);
        tu_buf_free(&msg);
        tu_buf_free(&c);
    } else {
        cr_expect_fail("entries %u and %u have names of %u and %u bytes: pick another pair", i, i + 1, l1, l2);
    }
    tu_buf_free(&u);
    tu_buf_free(&t);
    free_arch(&a);
    tu_buf_free(&b);
}

/* ---- signature slot --------------------------------------------------------------------------- */

Test(hostile, signature_slot)
{
    tu_buf b;
    base_archive(&b);
    arch a;
    split_archive(&b, &a);
    static const uint32_t lens[] = {NA_SIGN_TEXT_MAX + 1, 0xFFFFFFFFu};
    for (size_t i = 0; i < 2; i++) {
        na_st32(a.sign + 12, lens[i]);
        tu_buf c;
        assemble(&a, RESEAL, &c);
        expect_open_fails(&c, C, "signature length out of range");
        tu_buf_free(&c);
    }
    na_st32(a.sign + 12, 4);
    memcpy(a.sign + 16, "abcd", 4);
    a.sign[NA_SIGN_FRAME - 1] = 1;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "signature padding not zero");
    tu_buf_free(&c);
    memset(a.sign + 12, 0, NA_SIGN_FRAME - 12);
    na_st32(a.sign + 4, NA_SIGN_PAYLOAD + 8);
    assemble(&a, RESEAL, &c);
    expect_open_fails(&c, C, "signature frame length");
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

/* ---- JSON output of hostile entries ------------------------------------------------------ */

/*
 * A WHOLE entry's article is given back as is by newsarc_entry_to_json
 * (and `extract --jsonl`): bytes that are not one JSON object on one line
 * would let an archive inject lines into the JSON Lines output.
 */
Test(hostile, whole_entry_json_is_one_object_on_one_line)
{
    static const char *const bad[] = {
        "{\"a\":1}\n{\"injected\":true}",
        "{\"a\":1}\n",
        "not json at all",
        "[1,2,3]",
        "{\"a\":1",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        newsarc_entry e = {0};
        e.flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_WHOLE;
        char *out = NULL;
        size_t n = 0;
        int rc = newsarc_entry_to_json(&e, bad[i], strlen(bad[i]), &out, &n);
        cr_expect(rc == C, "WHOLE article %zu ('%s'): entry_to_json returns %d, expected CORRUPT", i, bad[i], rc);
        cr_expect(rc != 0 || memchr(out, '\n', n) == NULL, "WHOLE article %zu: output holds a newline", i);
        newsarc_free(out);
    }
    /* a JSON line with a raw CR between members is one valid object: given back as is */
    newsarc_entry e = {0};
    e.flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_WHOLE;
    const char *ok = "{\"a\":1,\r\"b\":12345678901234567890123}";
    char *out = NULL;
    size_t n = 0;
    cr_expect_eq(newsarc_entry_to_json(&e, ok, strlen(ok), &out, &n), 0);
    cr_expect(n == strlen(ok) && out && !memcmp(out, ok, n));
    newsarc_free(out);
}

/* JSON lines packed without dictionary or text information into one block, split into parts. */
static void pack_one_block(const tu_item *it, size_t n, tu_buf *b, arch *a)
{
    newsarc_writer_options o = {.dict_size = UINT32_MAX, .no_text_info = 1};
    memset(b, 0, sizeof *b);
    cr_assert_eq(tu_pack(it, n, NULL, &o, b, NULL, 0), 0);
    split_archive(b, a);
    cr_assert_eq(ix_blocks(a), 1);
    cr_assert_eq(ix_arts(a), n);
}

/* The same through an archive: verify must not call it intact. */
Test(hostile, whole_entry_with_two_lines_in_an_archive)
{
    tu_item one[1] = {{NULL, "{\"url\":\"https://e.org/x\",\"title\":\"T\"}", 0}};
    tu_buf b;
    arch a;
    pack_one_block(one, 1, &b, &a);
    const char *inj = "{\"url\":\"https://e.org/x\",\"title\":\"T\"}\n{\"injected\":true}";
    size_t n = strlen(inj);
    uint8_t *fr = malloc(n + 32);
    size_t fl = raw_frame(fr, (const uint8_t *)inj, n, -1, (uint32_t)n);
    replace_block(&a, 0, fr, fl, (uint32_t)n);
    newsarc_article_id(ix_id(&a, 0), inj, n);
    ix_loc(&a, 0)[1] = 0;
    ix_loc(&a, 0)[2] = (uint32_t)n;
    tu_buf c;
    assemble(&a, RESEAL, &c);
    const char *save = getenv("HOSTILE_SAVE_DIR"); /* to try the CLI on it */
    if (save) {
        char path[4096];
        snprintf(path, sizeof path, "%s/whole-two-lines.nwa", save);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(c.data, 1, c.len, f);
            fclose(f);
        }
    }
    outcome r = run_all(&c);
    cr_expect_eq(r.open, 0);
    cr_expect_eq(r.read, 0, "the article itself reads (its id matches)");
    cr_expect_eq(r.json, C, "entry_to_json refuses a WHOLE article of two lines");
    cr_expect_eq(r.verify, C, "verify refuses a WHOLE article that is not one JSON object");
    free(fr);
    tu_buf_free(&c);
    free_arch(&a);
    tu_buf_free(&b);
}

/*
 * Two JSON text articles in one block, rebuilt so that A's text ends with
 * the lead byte of a 2-byte sequence and B's begins with its continuation:
 * the block is valid UTF-8, neither article is.  verify checks a block's
 * text in one pass first (lib/verify.c block_utf8), so it must still look
 * at the seams.  The control moves the whole sequence into A: valid.
 */
static int split_utf8_case(int seed, int split, outcome *out)
{
    char l[2][128];
    snprintf(l[0], sizeof l[0], "{\"url\":\"https://e.org/a\",\"maintext\":\"first %d\"}", seed);
    snprintf(l[1], sizeof l[1], "{\"url\":\"https://e.org/b\",\"maintext\":\"second %d\"}", seed);
    tu_item it[2] = {{NULL, l[0], 0}, {NULL, l[1], 0}};
    tu_buf b;
    arch a;
    pack_one_block(it, 2, &b, &a);
    size_t n;
    uint8_t *c = block_content(&a, 0, &n);
    uint32_t first = ix_loc(&a, 0)[1] == 0 ? 0 : 1; /* the index position of the article at offset 0 */
    uint32_t la = ix_loc(&a, first)[2], lb = ix_loc(&a, 1 - first)[2];
    cr_assert_eq((size_t)la + lb, n);
    /* A + D8 | A7 + B (split), or A + D8 A7 | B (whole) */
    uint8_t nc[128];
    size_t na2 = la + (split ? 1 : 2), nb2 = lb + (split ? 1 : 0);
    memcpy(nc, c, la);
    memcpy(nc + la, "\xD8\xA7", 2);
    memcpy(nc + la + 2, c + la, lb);
    uint8_t ida[32], idb[32];
    newsarc_article_id(ida, nc, na2);
    newsarc_article_id(idb, nc + na2, nb2);
    /* the index is in id order: keep this seed only if the order stays */
    int a_first_in_index = first == 0;
    if ((memcmp(ida, idb, 32) < 0) != a_first_in_index) {
        free(c);
        free_arch(&a);
        tu_buf_free(&b);
        return 0;
    }
    uint8_t fr[256];
    size_t fl = raw_frame(fr, nc, na2 + nb2, -1, (uint32_t)(na2 + nb2));
    replace_block(&a, 0, fr, fl, (uint32_t)(na2 + nb2));
    memcpy(ix_id(&a, first), ida, 32);
    memcpy(ix_id(&a, 1 - first), idb, 32);
    ix_loc(&a, first)[1] = 0;
    ix_loc(&a, first)[2] = (uint32_t)na2;
    ix_loc(&a, 1 - first)[1] = (uint32_t)na2;
    ix_loc(&a, 1 - first)[2] = (uint32_t)nb2;
    tu_buf d;
    assemble(&a, RESEAL, &d);
    *out = run_all(&d);
    tu_buf_free(&d);
    free(c);
    free_arch(&a);
    tu_buf_free(&b);
    return 1;
}

Test(hostile, text_members_cut_inside_a_utf8_sequence)
{
    int done[2] = {0, 0};
    for (int seed = 0; seed < 200 && !(done[0] && done[1]); seed++)
        for (int split = 0; split < 2; split++) {
            outcome r;
            if (done[split] || !split_utf8_case(seed, split, &r)) continue;
            done[split] = 1;
            cr_expect_eq(r.open, 0);
            if (split) {
                cr_expect_eq(r.verify, C, "verify: A ends with a lead byte, B begins with its continuation");
                cr_expect_eq(r.verify2, C, "verify -T 3: the same");
            } else {
                cr_expect_eq(r.verify, 0, "control: the whole sequence in A verifies");
                cr_expect_eq(r.verify2, 0, "control at -T 3");
            }
        }
    cr_assert(done[0] && done[1], "no seed kept the id order");
}

/* ---- found by fuzzing ------------------------------------------------------------------------ */

/*
 * An empty article and an article larger than the block size: the writer
 * put both at offset 0 of one block, and verify's tiling check called the
 * archive damaged when the large article's id sorted first
 * (tests/fuzz/regressions/fuzz_roundtrip/empty-article-shares-block-offset).
 */
Test(hostile, empty_article_beside_a_large_one_verifies)
{
    /* find large contents whose id sorts before the empty article's (0e5751c0...) */
    uint8_t empty_id[32];
    newsarc_article_id(empty_id, "", 0);
    for (int found = 0, seed = 0; found < 2 && seed < 2000; seed++) {
        char *big = tu_text((uint64_t)seed + 7, 3000);
        uint8_t id[32];
        newsarc_article_id(id, big, 3000);
        if (memcmp(id, empty_id, 32) < 0) {
            found++;
            tu_item its[2] = {{"", "", 0}, {found == 1 ? "big.txt" : "", big, 0}};
            newsarc_writer_options o = {.block_size = 1024, .dict_size = UINT32_MAX, .no_text_info = 1};
            tu_buf b = {0};
            newsarc_writer *w = newsarc_writer_new(&o);
            for (int i = 0; i < 2; i++) {
                newsarc_entry e = {0};
                e.name = its[i].name;
                e.name_len = strlen(its[i].name);
                cr_assert_eq(newsarc_writer_add(w, &e, its[i].data, strlen(its[i].data), 0), 0);
            }
            cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, &b, NULL, NULL), 0);
            newsarc_writer_free(w);
            outcome r = run_all(&b);
            cr_expect_eq(r.open, 0);
            cr_expect_eq(r.read, 0);
            cr_expect_eq(r.verify, 0, "an empty article beside a %s large article verifies",
                         found == 1 ? "named" : "unnamed");
            tu_buf_free(&b);
        }
        free(big);
    }
}

static int fetch_braces(void *ctx, uint64_t locator, void *dst, size_t len)
{
    (void)ctx;
    (void)locator;
    if (len != 2) return -1;
    memcpy(dst, "{}", 2);
    return 0;
}

/* Writers with nothing in their name/metadata arena (only empty or unnamed
 * articles): no pointer arithmetic on a NULL arena (UBSan). */
Test(hostile, writer_with_empty_arena)
{
    newsarc_writer_options o = {.dict_size = UINT32_MAX, .no_text_info = 1};
    newsarc_writer *w = newsarc_writer_new(&o);
    newsarc_entry e = {0};
    cr_assert_eq(newsarc_writer_add(w, &e, "", 0, 0), 0);
    tu_buf b = {0};
    cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, &b, NULL, NULL), 0);
    newsarc_writer_free(w);
    outcome r = run_all(&b);
    cr_expect_eq(r.verify, 0);
    tu_buf_free(&b);
    /* the same with a fetch callback and a JSON object without metadata
     * (tests/fuzz/regressions/fuzz_jsonl/ub-null-arena-whole-object) */
    w = newsarc_writer_new(&o);
    cr_assert_eq(newsarc_writer_set_fetch(w, fetch_braces, NULL), 0);
    cr_assert_eq(newsarc_writer_add_json(w, "{}", 2, NULL, 0), 0);
    cr_assert_eq(newsarc_writer_finish(w, tu_buf_write, &b, NULL, NULL), 0);
    newsarc_writer_free(w);
    r = run_all(&b);
    cr_expect_eq(r.verify, 0);
    tu_buf_free(&b);
}
