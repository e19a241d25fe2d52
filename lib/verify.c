/*
 * verify.c - full integrity check of an open archive: footer checksum,
 * section hashes against the manifest, table structure, every block's hash
 * and decompression, every article's id, the root hash and the metadata.
 * Blocks are checked in parallel; problems are reported in a fixed order
 * whatever the thread count.
 */
#include "reader.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per article, filled by the entry checks on several threads: the low bits
 * hold 1 + the index of the first entry that refers to the article (0: none
 * yet), the top two bits whether some entry is a JSON text member of it
 * (must be UTF-8) or a whole JSON object (one line).
 */
#define AS_INDEX ((UINT64_C(1) << 62) - 1)
#define AS_TEXT (UINT64_C(1) << 62)
#define AS_WHOLE (UINT64_C(1) << 63)

typedef struct vctx {
    newsarc_reader *r;
    newsarc_problem_fn cb;
    void *cb_ctx;
    int problems;
    _Atomic uint64_t *art_state; /* per article (AS_*), NULL if the entries could not be read */
    uint64_t name_before;        /* reports name an article after its first entry if that is below this */
} vctx;

static void report(vctx *v, const char *section, int64_t block, int64_t article, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int entry_lazy(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint32_t *art);

static void report(vctx *v, const char *section, int64_t block, int64_t article, const char *fmt, ...)
{
    char msg[NA_ERRMSG + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (article >= 0 && (uint64_t)article < v->r->n_arts && n > 0 && (size_t)n < sizeof msg) {
        char hex[2 * NA_HASH + 1];
        na_hex(hex, na_reader_id(v->r, (uint64_t)article), NA_HASH);
        uint64_t first = v->art_state ? atomic_load_explicit(&v->art_state[article], memory_order_relaxed) & AS_INDEX : 0;
        newsarc_entry e = {0};
        uint32_t ea;
        if (first && first - 1 < v->name_before) entry_lazy(v->r, first - 1, &e, &ea);
        if (e.name_len)
            snprintf(msg + n, sizeof msg - (size_t)n, " (article %s '%.*s')", hex,
                     (int)(e.name_len > 300 ? 300 : e.name_len), e.name);
        else
            snprintf(msg + n, sizeof msg - (size_t)n, " (article %s)", hex);
    }
    v->problems++;
    if (v->cb) {
        newsarc_problem p = {NEWSARC_E_CORRUPT, section, block, article, msg};
        v->cb(v->cb_ctx, &p);
    }
}

/* ---- blocks in parallel ---------------------------------------------------------- */

enum { BLK_OK = 0, BLK_BOUNDS, BLK_HASH, BLK_DECOMP };

/* An article within its block, gathered in block order (sorted by offset) by check_tables. */
typedef struct vart {
    uint32_t off, len, art;
    uint32_t text; /* 1: must be UTF-8 (JSON text member), 2: must hold no line feed (whole JSON object) */
} vart;

typedef struct bjob {
    newsarc_reader *r;
    uint8_t *blk_status;   /* per block */
    char (*blk_msg)[128];  /* per block decompression message */
    uint8_t *art_bad;      /* per article: 1 = id mismatch, 2 not UTF-8, 3 holds a line feed */
    const vart *recs;      /* articles grouped by block */
    const uint64_t *first; /* recs range start per block (n_blocks + 1) */
    atomic_uint_fast64_t next; /* next block to take: the split depends on timing, the results do not */
    atomic_int nomem;
} bjob;

enum { BLK_CHUNK = 4 };

/* *buf holds at least need bytes (and at least 1), grown as needed; -1 out of memory. */
static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (*buf && *cap >= need) return 0;
    uint8_t *nb = realloc(*buf, need ? need : 1);
    if (!nb) return -1;
    *buf = nb;
    *cap = need;
    return 0;
}

/*
 * 1 when every one of a block's n articles (in offset order) must be UTF-8
 * and all are: the whole block is valid UTF-8 and every article starts and
 * ends on a sequence boundary (no continuation byte at its first byte or
 * right after its last), so each is made of whole valid sequences.  One
 * pass over 128 KiB instead of one call per article: a million articles of
 * 440 bytes spent much of it in the short tails.  0: check each article.
 */
static int block_utf8(const vart *a, uint64_t n, const uint8_t *buf, size_t usize)
{
    if (n < 2) return 0;
    for (uint64_t k = 0; k < n; k++)
        if (!(a[k].text & 1)) return 0;
    if (!na_utf8_valid(buf, usize)) return 0;
    for (uint64_t k = 0; k < n; k++) {
        size_t end = (size_t)a[k].off + a[k].len;
        if (a[k].len && (buf[a[k].off] & 0xC0) == 0x80) return 0;
        if (end < usize && (buf[end] & 0xC0) == 0x80) return 0;
    }
    return 1;
}

static void check_blocks(void *arg, int t)
{
    (void)t;
    bjob *j = arg;
    newsarc_reader *r = j->r;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint8_t *buf = NULL;
    size_t cap = 0;
    if (!dctx) {
        atomic_store(&j->nomem, 1);
        return;
    }
    for (;;) {
        uint64_t b0 = atomic_fetch_add_explicit(&j->next, BLK_CHUNK, memory_order_relaxed);
        if (b0 >= r->n_blocks || atomic_load_explicit(&j->nomem, memory_order_relaxed)) break;
        uint64_t b1 = r->n_blocks - b0 < BLK_CHUNK ? r->n_blocks : b0 + BLK_CHUNK;
        for (uint64_t b = b0; b < b1; b++) {
            na_block_rec br;
            na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, &br);
            if (br.offset < r->blks_off || !na_add_ok(br.offset, br.csize, r->blks_end) ||
                br.usize > NA_MAX_BLOCK_CONTENT || br.usize > (uint64_t)br.csize * NA_MAX_EXPANSION) {
                j->blk_status[b] = BLK_BOUNDS;
                continue;
            }
            uint8_t h[NA_HASH];
            na_hash(h, r->file + br.offset, br.csize);
            if (memcmp(h, br.hash, NA_HASH) != 0) j->blk_status[b] = BLK_HASH;
            if (grow(&buf, &cap, br.usize) != 0) {
                atomic_store(&j->nomem, 1);
                goto out;
            }
            if (na_reader_decompress(r, dctx, &br, buf, j->blk_msg[b], sizeof j->blk_msg[b]) != 0) {
                j->blk_status[b] = BLK_DECOMP;
                continue;
            }
            int utf8_ok = block_utf8(j->recs + j->first[b], j->first[b + 1] - j->first[b], buf, br.usize);
            for (uint64_t k = j->first[b]; k < j->first[b + 1]; k++) {
                const vart *a = &j->recs[k];
                const uint8_t *p = buf + a->off; /* bounds checked before the threads start */
                if (k + 1 < j->first[b + 1]) { /* the next id, all over the table: fetched while this one hashes */
                    const uint8_t *next = na_reader_id(r, j->recs[k + 1].art);
                    __builtin_prefetch(next);
                    __builtin_prefetch(next + NA_HASH - 1);
                }
                na_hash(h, p, a->len);
                if (memcmp(h, na_reader_id(r, a->art), NA_HASH) != 0) j->art_bad[a->art] = 1;
                else if ((a->text & 1) && !utf8_ok && !na_utf8_valid(p, a->len))
                    j->art_bad[a->art] = 2; /* the string value of a JSON member: must be UTF-8 */
                if ((a->text & 2) && memchr(p, '\n', a->len)) j->art_bad[a->art] = 3; /* a whole JSON object is one line */
            }
        }
    }
out:
    free(buf);
    ZSTD_freeDCtx(dctx);
}

/* ---- sections ------------------------------------------------------------------------ */

/*
 * Section hashes (V1, V2, V4, V9).  The whole-file checksum alone hashes
 * every byte once more, so this runs on its own thread beside the block
 * checks (when verify has more than one); the results are reported after
 * them, at the same place whatever the thread count.
 */
typedef struct shash {
    newsarc_reader *r;
    bool file_bad, blks_bad, root_bad;
    bool sec_bad[NA_S_COUNT];
    bool opt_bad[NA_MAX_SECTIONS];
} shash;

static void *hash_sections(void *arg)
{
    shash *x = arg;
    newsarc_reader *r = x->r;
    uint8_t h[NA_HASH];
    na_hash(h, r->file, (size_t)(r->size - NA_FOOT_TAIL));
    x->file_bad = memcmp(h, r->foot.checksum, NA_HASH) != 0;
    static const int hashed[] = {NA_S_HEAD, NA_S_DICT, NA_S_META, NA_S_INDX};
    for (size_t i = 0; i < sizeof hashed / sizeof *hashed; i++) {
        int s = hashed[i];
        na_hash(h, r->file + r->mani.sec[s].offset, (size_t)r->mani.sec[s].length);
        x->sec_bad[s] = memcmp(h, r->mani.sec_hash[s], NA_HASH) != 0;
    }
    for (uint32_t k = 0; k < r->mani.n_opt; k++) {
        na_hash(h, r->file + r->mani.opt[k].offset, (size_t)r->mani.opt[k].length);
        x->opt_bad[k] = memcmp(h, r->mani.opt_hash[k], NA_HASH) != 0;
    }
    /* BLKS: hash of the block hashes as recorded in the index */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NA_HASH);
    for (uint32_t b = 0; b < r->n_blocks; b++)
        crypto_generichash_update(&st, r->blocks_tab + (size_t)b * NA_BLOCK_REC + 16, NA_HASH);
    crypto_generichash_final(&st, h, NA_HASH);
    x->blks_bad = memcmp(h, r->mani.sec_hash[NA_S_BLKS], NA_HASH) != 0;
    /* root */
    crypto_generichash_init(&st, NULL, 0, NA_HASH);
    crypto_generichash_update(&st, r->ids_tab, (size_t)NA_ID_REC * r->n_arts);
    crypto_generichash_final(&st, h, NA_HASH);
    x->root_bad = memcmp(h, r->mani.root, NA_HASH) != 0;
    return NULL;
}

static void report_sections(vctx *v, const shash *x)
{
    newsarc_reader *r = v->r;
    if (x->file_bad) report(v, "FOOT", -1, -1, "whole-file checksum does not match");
    for (int s = 0; s < NA_S_COUNT; s++)
        if (x->sec_bad[s]) report(v, na_section_types[s], -1, -1, "section hash does not match the manifest");
    for (uint32_t k = 0; k < r->mani.n_opt; k++)
        if (x->opt_bad[k]) report(v, r->mani.opt[k].type, -1, -1, "section hash does not match the manifest");
    if (x->blks_bad) report(v, "BLKS", -1, -1, "hash of the block hashes does not match the manifest");
    if (x->root_bad) report(v, "INDX", -1, -1, "root hash over the ids does not match the manifest");
}

static int cmp_vart(const void *a, const void *b)
{
    const vart *x = a, *y = b;
    /* offset, then empty articles first (an empty article may share its
     * offset with the next one), then index */
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if ((x->len != 0) != (y->len != 0)) return x->len != 0 ? 1 : -1;
    return x->art < y->art ? -1 : x->art > y->art;
}

static int cmp_key64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort a block's keys by their top 33 bits (offset, non-empty), stably, so
 * that equal tops keep the positions in the low bits in order: two LSD radix
 * passes of half the significant bits each; qsort for offsets of 2^21 and
 * more.  tmp holds n keys. */
static void sort_block_keys(uint64_t *key, uint64_t *tmp, size_t n)
{
    uint64_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] >> 31 > top) top = key[i] >> 31;
    unsigned bits = 0;
    while (bits < 64 && top >> bits) bits++;
    if (bits > 22) {
        qsort(key, n, sizeof *key, cmp_key64);
        return;
    }
    unsigned d = (bits + 1) / 2, cnt[1u << 11];
    uint64_t *from = key, *to = tmp;
    for (unsigned pass = 0; pass < 2; pass++, from = to, to = from == key ? tmp : key) {
        unsigned sh = 31 + pass * d, mask = (1u << d) - 1;
        memset(cnt, 0, sizeof *cnt * (mask + 1));
        for (size_t i = 0; i < n; i++) cnt[(from[i] >> sh) & mask]++;
        for (unsigned b = 0, at = 0; b <= mask; b++) {
            unsigned c = cnt[b];
            cnt[b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) to[cnt[(from[i] >> sh) & mask]++] = from[i];
    }
    /* two passes: the result is back in key */
}

/* Block table contiguity, article order and bounds, tiling of every block. */
static int check_tables(vctx *v, vart **recs_out, uint64_t **first_out)
{
    newsarc_reader *r = v->r;
    uint64_t pos = r->blks_off;
    for (uint32_t b = 0; b < r->n_blocks; b++) {
        na_block_rec br;
        na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, &br);
        if (br.offset != pos) report(v, "INDX", b, -1, "block %u does not start where the previous one ends", b);
        pos = br.offset + br.csize;
    }
    if (pos != r->blks_end) report(v, "INDX", -1, -1, "blocks do not end where the blocks region ends");
    uint64_t *first = calloc((size_t)r->n_blocks + 1, sizeof *first);
    uint64_t *fill = malloc(((size_t)r->n_blocks + 1) * sizeof *fill);
    uint8_t *ok = calloc(r->n_arts ? r->n_arts : 1, 1);
    if (!first || !fill || !ok) {
        free(first);
        free(fill);
        free(ok);
        return NEWSARC_E_NOMEM;
    }
    /* every location chunk decoded (each damaged one reported; its articles are skipped) */
    for (uint32_t k = 0; k < r->n_loc_chunks; k++) {
        char m[NA_ERRMSG];
        int rc = na_reader_loc_chunk(r, k, m, NULL);
        if (rc == NEWSARC_E_NOMEM) {
            free(first);
            free(fill);
            free(ok);
            return rc;
        }
        if (rc) report(v, "INDX", -1, -1, "%s", m);
    }
    uint64_t n_ok = 0;
    for (uint32_t a = 0; a < r->n_arts; a++) {
        const uint8_t *id = na_reader_id(r, a);
        if (a > 0 && memcmp(id - NA_ID_REC, id, NA_HASH) >= 0)
            report(v, "INDX", -1, a, "article ids are not strictly increasing");
        if (atomic_load_explicit(&r->loc_state[a / NA_LOC_CHUNK], memory_order_acquire) != 1) continue;
        uint32_t loc[3];
        na_reader_loc_known(r, a, loc);
        uint32_t blk = loc[0], off = loc[1], len = loc[2];
        if (blk >= r->n_blocks) {
            report(v, "INDX", -1, a, "article refers to a block that does not exist");
            continue;
        }
        if ((uint64_t)off + len > na_ld32(r->blocks_tab + (size_t)blk * NA_BLOCK_REC + 12)) {
            report(v, "INDX", blk, a, "article extends past the end of its block");
            continue;
        }
        ok[a] = 1;
        first[blk + 1]++;
        n_ok++;
    }
    for (uint32_t b = 0; b < r->n_blocks; b++) first[b + 1] += first[b];
    memcpy(fill, first, ((size_t)r->n_blocks + 1) * sizeof *fill);
    vart *recs = malloc(sizeof *recs * (size_t)(n_ok ? n_ok : 1));
    if (!recs) {
        free(first);
        free(fill);
        free(ok);
        return NEWSARC_E_NOMEM;
    }
    for (uint32_t a = 0; a < r->n_arts; a++) {
        if (!ok[a]) continue;
        uint32_t loc[3];
        na_reader_loc_known(r, a, loc);
        uint64_t st = v->art_state ? atomic_load_explicit(&v->art_state[a], memory_order_relaxed) : 0;
        uint64_t at = fill[loc[0]]++; /* < n_ok <= n_arts < 2^32 */
        recs[at] = (vart){loc[1], loc[2], a, ((st & AS_TEXT) ? 1u : 0u) | ((st & AS_WHOLE) ? 2u : 0u)};
    }
    free(fill);
    free(ok);
    /* tiling: within each block, articles sorted by offset cover [0, usize) exactly.
     * A block's records are sorted as 64-bit keys (offset, non-empty, position:
     * the order of cmp_vart, since a block's records are in index order) and
     * then moved: qsort of the 16-byte records copied each one by memcpy.
     * key holds 2 x most: the keys and the radix sort's other half. */
    uint64_t most = 0;
    for (uint32_t b = 0; b < r->n_blocks; b++)
        if (first[b + 1] - first[b] > most) most = first[b + 1] - first[b];
    uint64_t *key = most < ((uint64_t)1 << 31) ? malloc(sizeof *key * 2 * (size_t)(most ? most : 1)) : NULL;
    vart *moved = key ? malloc(sizeof *moved * (size_t)(most ? most : 1)) : NULL;
    for (uint32_t b = 0; b < r->n_blocks; b++) {
        uint64_t lo = first[b], hi = first[b + 1];
        /* index-order ties cannot occur in a valid block; if they do, the tiling check reports it */
        if (hi - lo > 1 && moved) {
            size_t n = (size_t)(hi - lo);
            for (size_t i = 0; i < n; i++)
                key[i] = (uint64_t)recs[lo + i].off << 32 | (uint64_t)(recs[lo + i].len != 0) << 31 | i;
            sort_block_keys(key, key + most, n);
            for (size_t i = 0; i < n; i++) moved[i] = recs[lo + (key[i] & 0x7FFFFFFFu)];
            memcpy(recs + lo, moved, n * sizeof *moved);
        } else if (hi - lo > 1)
            qsort(recs + lo, (size_t)(hi - lo), sizeof *recs, cmp_vart);
        uint64_t at = 0;
        for (uint64_t i = lo; i < hi; i++) {
            if (recs[i].off != at) {
                report(v, "INDX", b, recs[i].art, "articles of block %u overlap or leave a gap", b);
                break;
            }
            at += recs[i].len;
        }
        uint32_t usize = na_ld32(r->blocks_tab + (size_t)b * NA_BLOCK_REC + 12);
        if (hi == lo) report(v, "INDX", b, -1, "block %u holds no article", b);
        else if (at != usize) report(v, "INDX", b, -1, "articles do not fill block %u exactly", b);
    }
    free(key);
    free(moved);
    *recs_out = recs;
    *first_out = first;
    return 0;
}

static int cmp_span(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (an < bn ? -1 : an > bn);
}

/* ---- entries ------------------------------------------------------------------------ */

/* What is wrong with an entry: found on several threads, reported in entry order. */
enum {
    EB_NAME = 1,      /* name problem */
    EB_FLAGS = 2,     /* inconsistent flags */
    EB_ORDER = 4,     /* out of canonical order */
    EB_DUPNAME = 8,   /* the name is also given to another article */
    EB_NOTOBJ = 16,   /* metadata is not a JSON object */
    EB_TEXTPOS = 32,  /* text member position or name clashes with the metadata */
};

/* The lowest frame a thread could not load, and why. */
typedef struct efail {
    uint32_t frame; /* UINT32_MAX: none */
    int rc;
    char msg[NA_ERRMSG];
} efail;

typedef struct ejob {
    newsarc_reader *r;
    uint8_t *bad;                /* per entry, EB_* */
    _Atomic uint64_t *art_state; /* per article, AS_* */
    uint8_t **edge;              /* per frame f: copies of its first (2f) and last (2f + 1) entry records */
    atomic_uint next;            /* next frame to take: the split depends on timing, the results do not */
    atomic_int nomem;
    efail fail[64];
} ejob;

/* 1 metadata is not a JSON object, 2 text member rules, 0 fine. */
static int meta_problem(const newsarc_entry *e)
{
    if (!e->meta_len) return (e->flags & NEWSARC_ENTRY_TEXT_FIELD) && e->text_pos != 0 ? 2 : 0;
    uint32_t members;
    int has = 0; /* fast path in one walk, jansson when unsure */
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        if (na_json_compact_object_has(e->meta, e->meta_len, &members, e->text_key, e->text_key_len, &has))
            return e->text_pos > members || has ? 2 : 0;
    } else if (na_json_compact_object(e->meta, e->meta_len, &members))
        return 0;
    int bad = 0;
    json_t *m = json_loadb(e->meta, e->meta_len, JSON_ALLOW_NUL, NULL);
    if (!m || !json_is_object(m)) bad = 1;
    else if ((e->flags & NEWSARC_ENTRY_TEXT_FIELD) &&
             (e->text_pos > json_object_size(m) || json_object_getn(m, e->text_key, e->text_key_len)))
        bad = 2;
    json_decref(m);
    return bad;
}

/* What is wrong with an entry on its own: name, flags, metadata JSON. */
static uint8_t entry_bits(const newsarc_entry *e)
{
    uint8_t bad = 0;
    if (na_name_problem(e->name, e->name_len)) bad |= EB_NAME;
    int jsonish = (e->flags & (NEWSARC_ENTRY_TEXT_FIELD | NEWSARC_ENTRY_WHOLE)) != 0;
    if (jsonish != ((e->flags & NEWSARC_ENTRY_JSON) != 0) ||
        ((e->flags & NEWSARC_ENTRY_TEXT_FIELD) && (e->flags & NEWSARC_ENTRY_WHOLE)) ||
        (!(e->flags & NEWSARC_ENTRY_TEXT_FIELD) && (e->text_key_len || e->text_pos)))
        bad |= EB_FLAGS;
    int mp = meta_problem(e);
    if (mp) bad |= mp == 1 ? EB_NOTOBJ : EB_TEXTPOS;
    return bad;
}

/* An article's location, looked up at most once while a frame's entries are
 * walked (each entry is compared with the one before and the one after). */
typedef struct vloc {
    uint32_t art;
    int8_t st; /* 0 not looked up, 1 known, 2 its location chunk is damaged */
    uint32_t loc[3];
} vloc;

static int vloc_get(newsarc_reader *r, vloc *l)
{
    if (!l->st) {
        char msg[NA_ERRMSG];
        if (l->art < r->n_arts && atomic_load_explicit(&r->loc_state[l->art / NA_LOC_CHUNK], memory_order_acquire) == 1) {
            na_reader_loc_known(r, l->art, l->loc); /* decoded already: the usual case */
            l->st = 1;
        } else
            l->st = na_reader_loc(r, l->art, l->loc, msg, NULL) == 0 ? 1 : 2;
    }
    return l->st;
}

/* Canonical order of two articles (spec 9.2): by location (block, offset,
 * length), which names one article; 2 when a location chunk is damaged
 * (reported with the index, not as an order fault). */
static int cmp_location(newsarc_reader *r, vloc *a, vloc *b)
{
    if (a->art == b->art) return 0;
    if (vloc_get(r, a) != 1 || vloc_get(r, b) != 1) return 2;
    for (int f = 0; f < 3; f++)
        if (a->loc[f] != b->loc[f]) return a->loc[f] < b->loc[f] ? -1 : 1;
    return a->art < b->art ? -1 : 1; /* two records with one location: the index check reports it */
}

/* What is wrong with an entry given the one before it: canonical order, a name shared by two articles. */
static uint8_t pair_bits(newsarc_reader *r, const newsarc_entry *prev, vloc *prev_loc, const newsarc_entry *e,
                         vloc *loc)
{
    uint8_t bad = 0;
    int c = cmp_span(prev->name, prev->name_len, e->name, e->name_len);
    if (!c) c = cmp_location(r, prev_loc, loc);
    if (c != 2) { /* else the order of the two is unknown */
        if (!c) c = cmp_span(prev->text_key, prev->text_key_len, e->text_key, e->text_key_len);
        if (!c) c = prev->text_pos < e->text_pos ? -1 : prev->text_pos > e->text_pos;
        if (!c) c = cmp_span(prev->meta, prev->meta_len, e->meta, e->meta_len);
        if (!c) c = prev->flags < e->flags ? -1 : prev->flags > e->flags;
        if (c > 0) bad |= EB_ORDER;
    }
    if (e->name_len && e->name_len == prev->name_len && !memcmp(e->name, prev->name, e->name_len) &&
        loc->art != prev_loc->art)
        bad |= EB_DUPNAME;
    return bad;
}

/* Entry i refers to its article: keep the lowest such index and the text rules, whichever thread gets there first. */
static void note_article(_Atomic uint64_t *s, const newsarc_entry *e, uint64_t i)
{
    uint64_t tb = ((e->flags & NEWSARC_ENTRY_TEXT_FIELD) ? AS_TEXT : 0) | ((e->flags & NEWSARC_ENTRY_WHOLE) ? AS_WHOLE : 0);
    uint64_t old = atomic_load_explicit(s, memory_order_relaxed);
    for (;;) {
        uint64_t idx = old & AS_INDEX;
        uint64_t nv = (old & ~AS_INDEX) | tb | (idx && idx <= i + 1 ? idx : i + 1);
        if (nv == old ||
            atomic_compare_exchange_weak_explicit(s, &old, nv, memory_order_relaxed, memory_order_relaxed))
            break;
    }
}

static void frame_failed(efail *fl, uint32_t f, int rc, const char *msg)
{
    if (f >= fl->frame) return;
    fl->frame = f;
    fl->rc = rc;
    snprintf(fl->msg, sizeof fl->msg, "%s", msg);
}

/*
 * Frames taken one at a time from a shared counter: each is decompressed
 * into this thread's buffer, its entries checked, and the buffer reused
 * for the next (the whole table is never held: 230 MB on m1, whose fresh
 * pages cost more to clear than the checks).  Pairs that straddle two
 * frames are checked afterwards from the copies in edge[].
 */
static void check_frames(void *arg, int t)
{
    ejob *j = arg;
    newsarc_reader *r = j->r;
    efail *fl = &j->fail[t];
    fl->frame = UINT32_MAX;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint8_t *buf = NULL;
    size_t cap = 0;
    if (!d) {
        atomic_store(&j->nomem, 1);
        return;
    }
    for (;;) {
        uint32_t f = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (f >= r->meta_n_frames || atomic_load_explicit(&j->nomem, memory_order_relaxed)) break;
        na_meta_frame *x = &r->mf[f];
        int scratch = x->state == 0; /* else loaded before verify began (or failed) */
        if (scratch) {
            if (grow(&buf, &cap, x->usize) != 0) {
                atomic_store(&j->nomem, 1);
                break;
            }
            char msg[NA_ERRMSG];
            int rc = na_reader_meta_frame_into(r, f, d, buf, msg);
            if (rc) {
                frame_failed(fl, f, rc, msg);
                continue;
            }
        } else if (x->state != 1) {
            char msg[NA_ERRMSG];
            snprintf(msg, sizeof msg, "metadata frame %u is damaged", f);
            frame_failed(fl, f, NEWSARC_E_CORRUPT, msg);
            continue;
        }
        newsarc_entry prev = {0}, e;
        vloc prev_loc = {0}, loc;
        uint32_t art;
        for (uint32_t k = 0; k < x->entries; k++) {
            uint64_t i = x->first + k;
            if (k + 8 < x->entries) { /* entries follow the placement: their articles are all over the index */
                uint32_t ahead = na_ld32(r->ent[i + 8]);
                if (ahead < r->n_arts) {
                    __builtin_prefetch(&j->art_state[ahead]);
                    na_reader_prefetch_loc(r, ahead);
                }
            }
            size_t len = na_entry_parse(r->ent[i], &e, &art);
            uint8_t bad = entry_bits(&e);
            loc = (vloc){.art = art};
            if (k) bad |= pair_bits(r, &prev, &prev_loc, &e, &loc);
            j->bad[i] = bad;
            note_article(&j->art_state[art], &e, i);
            for (int side = 0; side < 2; side++) {
                if (side ? k + 1 != x->entries : k != 0) continue;
                uint8_t *c = malloc(len);
                if (!c) {
                    atomic_store(&j->nomem, 1);
                    break;
                }
                memcpy(c, r->ent[i], len);
                j->edge[2 * (size_t)f + (size_t)side] = c;
            }
            prev = e;
            prev_loc = loc;
        }
        if (scratch) na_reader_meta_unload(r, f);
    }
    free(buf);
    ZSTD_freeDCtx(d);
}

/* Read entry i, loading its frame if verify's streaming left it unloaded; 0 ok. */
static int entry_lazy(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint32_t *art)
{
    uint64_t a;
    memset(e, 0, sizeof *e);
    if (newsarc_reader_entry(r, i, e, &a) != 0) return -1;
    *art = (uint32_t)a;
    return 0;
}

/*
 * Metadata: structure (checked at load), canonical order, names, coverage,
 * and the metadata JSON of every entry (reported after the blocks, in *ebad).
 */
static void check_meta(vctx *v, int threads, uint8_t **ebad)
{
    newsarc_reader *r = v->r;
    *ebad = NULL;
    if (na_reader_meta_dir(r) != 0) {
        report(v, "META", -1, -1, "%s", r->msg);
        return;
    }
    uint32_t nf = r->meta_n_frames;
    ejob j = {.r = r};
    j.bad = malloc(r->n_ents ? r->n_ents : 1);
    /* zeroed by writing, not calloc: the threads read a state before they
     * swap it, and a first read maps the shared zero page, whose
     * copy-on-write at the swap then flushes the TLB of every CPU (1.2%
     * of verify's samples on m1, one fault per 4 KiB of states) */
    j.art_state = malloc(sizeof *j.art_state * (r->n_arts ? r->n_arts : 1));
    if (j.art_state) memset(j.art_state, 0, sizeof *j.art_state * (r->n_arts ? r->n_arts : 1));
    j.edge = calloc(2 * (size_t)nf + 1, sizeof *j.edge);
    atomic_init(&j.next, 0);
    atomic_init(&j.nomem, 0);
    if (threads > 64) threads = 64;
    if ((uint32_t)threads > nf) threads = nf ? (int)nf : 1;
    if (j.bad && j.art_state && j.edge) na_run_threads(threads, check_frames, &j);
    efail *worst = NULL;
    for (int t = 0; t < threads && j.bad && j.art_state && j.edge; t++)
        if (j.fail[t].frame != UINT32_MAX && (!worst || j.fail[t].frame < worst->frame)) worst = &j.fail[t];
    if (!j.bad || !j.art_state || !j.edge || atomic_load(&j.nomem)) report(v, "META", -1, -1, "out of memory");
    else if (worst) report(v, "META", -1, -1, "%s", worst->msg);
    else {
        /* the pairs that straddle frames */
        for (uint32_t f = 1; f < nf; f++) {
            newsarc_entry prev, e;
            vloc prev_loc = {0}, loc = {0};
            na_entry_parse(j.edge[2 * (size_t)f - 1], &prev, &prev_loc.art);
            na_entry_parse(j.edge[2 * (size_t)f], &e, &loc.art);
            j.bad[r->mf[f].first] |= pair_bits(r, &prev, &prev_loc, &e, &loc);
        }
        v->art_state = j.art_state;
        j.art_state = NULL;
        *ebad = j.bad;
        j.bad = NULL;
    }
    for (size_t k = 0; j.edge && k < 2 * (size_t)nf; k++) free(j.edge[k]);
    free(j.edge);
    free(j.art_state);
    uint8_t *bad = *ebad;
    free(j.bad);
    if (!bad) return;
    for (uint64_t i = 0; i < r->n_ents; i++) {
        if (!(bad[i] & (EB_NAME | EB_FLAGS | EB_ORDER | EB_DUPNAME))) continue;
        newsarc_entry e;
        uint32_t art;
        if (entry_lazy(r, i, &e, &art) != 0) continue; /* loaded once already: cannot fail but for memory */
        v->name_before = i; /* as when the entries were checked one by one: named by an earlier entry only */
        if (bad[i] & EB_NAME) report(v, "META", -1, art, "entry %llu: %s", (unsigned long long)i, na_name_problem(e.name, e.name_len));
        if (bad[i] & EB_FLAGS) report(v, "META", -1, art, "entry %llu has inconsistent flags", (unsigned long long)i);
        if (bad[i] & EB_ORDER) report(v, "META", -1, art, "entry %llu is out of canonical order", (unsigned long long)i);
        if (bad[i] & EB_DUPNAME)
            report(v, "META", -1, art, "entry %llu: the name is also given to another article", (unsigned long long)i);
    }
    v->name_before = UINT64_MAX;
    for (uint32_t a = 0; a < r->n_arts; a++)
        if (!(atomic_load_explicit(&v->art_state[a], memory_order_relaxed) & AS_INDEX))
            report(v, "META", -1, a, "article is not referenced by any entry");
}

int newsarc_reader_verify(newsarc_reader *r, int threads, newsarc_problem_fn cb, void *cb_ctx)
{
    vctx v = {r, cb, cb_ctx, 0, NULL, UINT64_MAX};
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    shash sh = {.r = r};
    pthread_t hth;
    bool hashing = threads > 1 && pthread_create(&hth, NULL, hash_sections, &sh) == 0;
    if (!hashing) hash_sections(&sh);
    /* checked through a small window: the table (30 MB on a million articles) is not kept */
    if (na_reader_check_attr(r, r->dctx) != 0) report(&v, "attr", -1, -1, "%s", r->msg);
    uint8_t *ebad = NULL;
    check_meta(&v, threads, &ebad); /* first, so later reports can name articles */
    if (na_reader_ddict(r) != 0) report(&v, "DICT", -1, -1, "%s", r->msg);
    vart *recs = NULL;
    uint64_t *first = NULL;
    uint8_t *blk_status = calloc((size_t)r->n_blocks + 1, 1);
    char(*blk_msg)[128] = calloc((size_t)r->n_blocks + 1, sizeof *blk_msg);
    uint8_t *art_bad = calloc(r->n_arts ? r->n_arts : 1, 1);
    int rc = 0;
    if (!blk_status || !blk_msg || !art_bad || check_tables(&v, &recs, &first) != 0)
        rc = na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    if (!rc && (r->dict_len == 0 || r->ddict)) {
        bjob j = {.r = r, .blk_status = blk_status, .blk_msg = blk_msg, .art_bad = art_bad, .recs = recs, .first = first};
        atomic_init(&j.next, 0);
        atomic_init(&j.nomem, 0);
        na_run_threads(threads, check_blocks, &j);
        if (atomic_load(&j.nomem)) rc = na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
        for (uint32_t b = 0; b < r->n_blocks && !rc; b++) {
            if (blk_status[b] == BLK_BOUNDS) report(&v, "BLKS", b, -1, "block %u lies outside the blocks region", b);
            if (blk_status[b] == BLK_HASH) report(&v, "BLKS", b, -1, "block %u: hash does not match the index", b);
            if (blk_status[b] == BLK_DECOMP) {
                report(&v, "BLKS", b, -1, "block %u: %s", b, blk_msg[b]);
                for (uint64_t k = first[b]; k < first[b + 1]; k++)
                    report(&v, "BLKS", b, recs[k].art, "article in damaged block %u cannot be read", b);
            }
        }
        for (uint32_t a = 0; a < r->n_arts && !rc; a++)
            if (art_bad[a] == 1) report(&v, "BLKS", -1, a, "article bytes do not match the id");
            else if (art_bad[a] == 2) report(&v, "BLKS", -1, a, "a JSON text member's article is not valid UTF-8");
            else if (art_bad[a] == 3) report(&v, "BLKS", -1, a, "a whole JSON object's article holds a line feed");
        for (uint64_t i = 0; ebad && i < r->n_ents && !rc; i++)
            if (ebad[i] & (EB_NOTOBJ | EB_TEXTPOS)) {
                newsarc_entry e;
                uint32_t art;
                if (entry_lazy(r, i, &e, &art) != 0) continue;
                report(&v, "META", -1, art,
                       (ebad[i] & EB_NOTOBJ) ? "entry %llu: metadata is not a JSON object"
                                             : "entry %llu: text member position or name clashes with the metadata",
                       (unsigned long long)i);
            }
    }
    if (hashing) pthread_join(hth, NULL);
    report_sections(&v, &sh);
    free(recs);
    free(first);
    free(blk_status);
    free(blk_msg);
    free(art_bad);
    free(ebad);
    free(v.art_state);
    if (rc) return rc;
    if (v.problems) return na_set_error(r->msg, NEWSARC_E_CORRUPT, "%d problem%s found", v.problems, v.problems == 1 ? "" : "s");
    return 0;
}
