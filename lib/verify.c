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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vctx {
    newsarc_reader *r;
    newsarc_problem_fn cb;
    void *cb_ctx;
    int problems;
    const char **art_name; /* article -> first entry name (if known) */
    uint8_t *text_art;     /* bit 0: text member of a JSON entry (UTF-8); bit 1: whole JSON object (one line) */
    size_t *art_name_len;
} vctx;

static void report(vctx *v, const char *section, int64_t block, int64_t article, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(vctx *v, const char *section, int64_t block, int64_t article, const char *fmt, ...)
{
    char msg[NA_ERRMSG + 256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (article >= 0 && (uint64_t)article < v->r->n_arts && n > 0 && (size_t)n < sizeof msg) {
        na_article_rec a;
        na_article_decode(v->r->arts_tab + (size_t)article * NA_ARTICLE_REC, &a);
        char hex[2 * NA_HASH + 1];
        na_hex(hex, a.id, NA_HASH);
        if (v->art_name && v->art_name_len[article])
            snprintf(msg + n, sizeof msg - (size_t)n, " (article %s '%.*s')", hex,
                     (int)(v->art_name_len[article] > 300 ? 300 : v->art_name_len[article]), v->art_name[article]);
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

typedef struct bjob {
    newsarc_reader *r;
    int threads, t;
    uint8_t *blk_status;   /* per block */
    char (*blk_msg)[128];  /* per block decompression message */
    uint8_t *art_bad;      /* per article: 1 = id mismatch */
    const uint32_t *by_block; /* articles grouped by block */
    const uint64_t *first;    /* by_block range start per block (n_blocks + 1) */
    int nomem;
    uint8_t *meta_bad;        /* per entry: 1 metadata not a JSON object, 2 text member rules (NULL: skip) */
    const uint8_t *text_art;  /* per article: must be UTF-8 (may be NULL) */
} bjob;

static void *check_blocks(void *arg)
{
    bjob *j = arg;
    newsarc_reader *r = j->r;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint8_t *buf = NULL;
    size_t cap = 0;
    if (!dctx) {
        j->nomem = 1;
        return NULL;
    }
    /* metadata JSON validity, entries shared round-robin */
    for (uint64_t i = (uint64_t)j->t; j->meta_bad && i < r->n_ents; i += (uint64_t)j->threads) {
        newsarc_entry e;
        uint32_t art;
        na_reader_entry_at(r, i, &e, &art);
        if (!e.meta_len) {
            if ((e.flags & NEWSARC_ENTRY_TEXT_FIELD) && e.text_pos != 0) j->meta_bad[i] = 2;
            continue;
        }
        uint32_t members;
        if (na_json_compact_object(e.meta, e.meta_len, &members)) { /* fast path, jansson when unsure */
            int has = (e.flags & NEWSARC_ENTRY_TEXT_FIELD)
                          ? na_json_compact_has(e.meta, e.meta_len, members, e.text_key, e.text_key_len)
                          : 0;
            if (has >= 0) {
                if ((e.flags & NEWSARC_ENTRY_TEXT_FIELD) && (e.text_pos > members || has)) j->meta_bad[i] = 2;
                continue;
            }
        }
        json_t *m = json_loadb(e.meta, e.meta_len, JSON_ALLOW_NUL, NULL);
        if (!m || !json_is_object(m)) j->meta_bad[i] = 1;
        else if ((e.flags & NEWSARC_ENTRY_TEXT_FIELD) &&
                 (e.text_pos > json_object_size(m) || json_object_getn(m, e.text_key, e.text_key_len)))
            j->meta_bad[i] = 2;
        json_decref(m);
    }
    for (uint64_t b = (uint64_t)j->t; b < r->n_blocks; b += (uint64_t)j->threads) {
        na_block_rec br;
        na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, &br);
        if (br.offset < r->blks_off || !na_add_ok(br.offset, br.csize, r->blks_end) || br.usize > NA_MAX_BLOCK_CONTENT ||
            br.usize > (uint64_t)br.csize * NA_MAX_EXPANSION) {
            j->blk_status[b] = BLK_BOUNDS;
            continue;
        }
        uint8_t h[NA_HASH];
        na_hash(h, r->file + br.offset, br.csize);
        if (memcmp(h, br.hash, NA_HASH) != 0) j->blk_status[b] = BLK_HASH;
        if (cap < br.usize || !buf) {
            uint8_t *nb = realloc(buf, br.usize ? br.usize : 1);
            if (!nb) {
                j->nomem = 1;
                break;
            }
            buf = nb;
            cap = br.usize;
        }
        if (na_reader_decompress(r, dctx, &br, buf, j->blk_msg[b], sizeof j->blk_msg[b]) != 0) {
            j->blk_status[b] = BLK_DECOMP;
            continue;
        }
        for (uint64_t k = j->first[b]; k < j->first[b + 1]; k++) {
            na_article_rec a;
            na_article_decode(r->arts_tab + (size_t)j->by_block[k] * NA_ARTICLE_REC, &a);
            na_hash(h, buf + a.offset, a.length); /* bounds checked before the threads start */
            if (memcmp(h, a.id, NA_HASH) != 0) j->art_bad[j->by_block[k]] = 1;
            else if (j->text_art && (j->text_art[j->by_block[k]] & 1)) {
                /* the string value of a JSON member: must be UTF-8 */
                if (!na_utf8_valid(buf + a.offset, a.length)) j->art_bad[j->by_block[k]] = 2;
            }
            if (j->text_art && (j->text_art[j->by_block[k]] & 2) && memchr(buf + a.offset, '\n', a.length))
                j->art_bad[j->by_block[k]] = 3; /* a whole JSON object is one line */
        }
    }
    free(buf);
    ZSTD_freeDCtx(dctx);
    return NULL;
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
    for (uint32_t a = 0; a < r->n_arts; a++) crypto_generichash_update(&st, r->arts_tab + (size_t)a * NA_ARTICLE_REC, NA_HASH);
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

static int cmp_u64_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Block table contiguity, article order and bounds, tiling of every block. */
static int check_tables(vctx *v, uint32_t **by_block_out, uint64_t **first_out, uint8_t *art_ok_bounds)
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
    uint32_t *by_block = malloc(sizeof *by_block * r->n_arts);
    uint64_t *fill = calloc((size_t)r->n_blocks + 1, sizeof *fill);
    if (!first || !by_block || !fill) {
        free(first);
        free(by_block);
        free(fill);
        return NEWSARC_E_NOMEM;
    }
    for (uint32_t a = 0; a < r->n_arts; a++) {
        na_article_rec ar;
        na_article_decode(r->arts_tab + (size_t)a * NA_ARTICLE_REC, &ar);
        if (a > 0 && memcmp(r->arts_tab + (size_t)(a - 1) * NA_ARTICLE_REC, ar.id, NA_HASH) >= 0)
            report(v, "INDX", -1, a, "article ids are not strictly increasing");
        na_block_rec br;
        if (ar.block >= r->n_blocks) {
            report(v, "INDX", -1, a, "article refers to a block that does not exist");
            continue;
        }
        na_block_decode(r->blocks_tab + (size_t)ar.block * NA_BLOCK_REC, &br);
        if ((uint64_t)ar.offset + ar.length > br.usize) {
            report(v, "INDX", ar.block, a, "article extends past the end of its block");
            continue;
        }
        art_ok_bounds[a] = 1;
        first[ar.block + 1]++;
    }
    for (uint32_t b = 0; b < r->n_blocks; b++) first[b + 1] += first[b];
    for (uint32_t a = 0; a < r->n_arts; a++) {
        if (!art_ok_bounds[a]) continue;
        uint32_t blk = na_ld32(r->arts_tab + (size_t)a * NA_ARTICLE_REC + 32);
        by_block[first[blk] + fill[blk]++] = a;
    }
    /* tiling: within each block, articles sorted by offset cover [0, usize) exactly */
    for (uint32_t b = 0; b < r->n_blocks; b++) {
        uint64_t lo = first[b], hi = first[b + 1];
        /* sort the block's articles by offset (index-order ties cannot occur
         * in a valid block; if they do, the tiling check reports it) */
        if (hi - lo > 1) {
            uint64_t *pairs = malloc(2 * sizeof *pairs * (size_t)(hi - lo));
            if (!pairs) {
                free(fill);
                free(first);
                free(by_block);
                return NEWSARC_E_NOMEM;
            }
            /* key: offset, then empty articles first (an empty article may
             * share its offset with the next one), then index */
            for (uint64_t i = lo; i < hi; i++) {
                const uint8_t *rec = r->arts_tab + (size_t)by_block[i] * NA_ARTICLE_REC;
                pairs[2 * (i - lo)] = ((uint64_t)na_ld32(rec + 36) << 1) | (na_ld32(rec + 40) != 0);
                pairs[2 * (i - lo) + 1] = by_block[i];
            }
            qsort(pairs, (size_t)(hi - lo), 2 * sizeof *pairs, cmp_u64_pair);
            for (uint64_t i = lo; i < hi; i++) by_block[i] = (uint32_t)pairs[2 * (i - lo) + 1];
            free(pairs);
        }
        uint64_t at = 0;
        for (uint64_t i = lo; i < hi; i++) {
            na_article_rec ar;
            na_article_decode(r->arts_tab + (size_t)by_block[i] * NA_ARTICLE_REC, &ar);
            if (ar.offset != at) {
                report(v, "INDX", b, by_block[i], "articles of block %u overlap or leave a gap", b);
                break;
            }
            at += ar.length;
        }
        na_block_rec br;
        na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, &br);
        if (hi == lo) report(v, "INDX", b, -1, "block %u holds no article", b);
        else if (at != br.usize) report(v, "INDX", b, -1, "articles do not fill block %u exactly", b);
    }
    free(fill);
    *by_block_out = by_block;
    *first_out = first;
    return 0;
}

static int cmp_span(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (an < bn ? -1 : an > bn);
}

/* Metadata: structure (checked at load), canonical order, names, coverage. */
static void check_meta(vctx *v, int threads)
{
    newsarc_reader *r = v->r;
    if (na_reader_load_meta(r, threads) != 0) {
        report(v, "META", -1, -1, "%s", r->msg);
        return;
    }
    uint8_t *seen = calloc(r->n_arts, 1);
    v->art_name = calloc(r->n_arts, sizeof *v->art_name);
    v->text_art = calloc(r->n_arts, 1);
    v->art_name_len = calloc(r->n_arts, sizeof *v->art_name_len);
    if (!seen || !v->art_name || !v->art_name_len || !v->text_art) {
        free(seen);
        report(v, "META", -1, -1, "out of memory");
        return;
    }
    newsarc_entry prev = {0};
    uint32_t prev_art = 0;
    for (uint64_t i = 0; i < r->n_ents; i++) {
        newsarc_entry e;
        uint32_t art;
        na_reader_entry_at(r, i, &e, &art);
        const char *np = na_name_problem(e.name, e.name_len);
        if (np) report(v, "META", -1, art, "entry %llu: %s", (unsigned long long)i, np);
        int jsonish = (e.flags & (NEWSARC_ENTRY_TEXT_FIELD | NEWSARC_ENTRY_WHOLE)) != 0;
        if (jsonish != ((e.flags & NEWSARC_ENTRY_JSON) != 0) ||
            ((e.flags & NEWSARC_ENTRY_TEXT_FIELD) && (e.flags & NEWSARC_ENTRY_WHOLE)) ||
            (!(e.flags & NEWSARC_ENTRY_TEXT_FIELD) && (e.text_key_len || e.text_pos)))
            report(v, "META", -1, art, "entry %llu has inconsistent flags", (unsigned long long)i);
        if (i > 0) {
            int c = cmp_span(prev.name, prev.name_len, e.name, e.name_len);
            if (!c) c = prev_art < art ? -1 : prev_art > art;
            if (!c) c = cmp_span(prev.text_key, prev.text_key_len, e.text_key, e.text_key_len);
            if (!c) c = prev.text_pos < e.text_pos ? -1 : prev.text_pos > e.text_pos;
            if (!c) c = cmp_span(prev.meta, prev.meta_len, e.meta, e.meta_len);
            if (!c) c = prev.flags < e.flags ? -1 : prev.flags > e.flags;
            if (c > 0) report(v, "META", -1, art, "entry %llu is out of canonical order", (unsigned long long)i);
            if (e.name_len && e.name_len == prev.name_len && !memcmp(e.name, prev.name, e.name_len) && art != prev_art)
                report(v, "META", -1, art, "entry %llu: the name is also given to another article", (unsigned long long)i);
        }
        if (e.flags & NEWSARC_ENTRY_TEXT_FIELD) v->text_art[art] |= 1;
        if (e.flags & NEWSARC_ENTRY_WHOLE) v->text_art[art] |= 2;
        if (!seen[art]) {
            seen[art] = 1;
            v->art_name[art] = e.name;
            v->art_name_len[art] = e.name_len;
        }
        prev = e;
        prev_art = art;
    }
    for (uint32_t a = 0; a < r->n_arts; a++)
        if (!seen[a]) report(v, "META", -1, a, "article is not referenced by any entry");
    free(seen);
}

int newsarc_reader_verify(newsarc_reader *r, int threads, newsarc_problem_fn cb, void *cb_ctx)
{
    vctx v = {r, cb, cb_ctx, 0, NULL, NULL, NULL};
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    shash sh = {.r = r};
    pthread_t hth;
    bool hashing = threads > 1 && pthread_create(&hth, NULL, hash_sections, &sh) == 0;
    if (!hashing) hash_sections(&sh);
    if (na_reader_load_attr(r) != 0) report(&v, "attr", -1, -1, "%s", r->msg);
    check_meta(&v, threads); /* first, so later reports can name articles */
    if (na_reader_ddict(r) != 0) report(&v, "DICT", -1, -1, "%s", r->msg);
    uint8_t *bounds_ok = calloc(r->n_arts, 1);
    uint32_t *by_block = NULL;
    uint64_t *first = NULL;
    bjob *jobs = calloc((size_t)threads, sizeof *jobs);
    uint8_t *blk_status = calloc((size_t)r->n_blocks + 1, 1);
    char(*blk_msg)[128] = calloc((size_t)r->n_blocks + 1, sizeof *blk_msg);
    uint8_t *art_bad = calloc(r->n_arts, 1);
    uint8_t *meta_bad = r->meta_state == 1 ? calloc(r->n_ents ? r->n_ents : 1, 1) : NULL;
    int rc = 0;
    if (!bounds_ok || !jobs || !blk_status || !blk_msg || !art_bad || check_tables(&v, &by_block, &first, bounds_ok) != 0)
        rc = na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    if (!rc && (r->dict_len == 0 || r->ddict)) {
        pthread_t th[64];
        int started[64] = {0};
        for (int t = 0; t < threads; t++) {
            jobs[t] = (bjob){r, threads, t, blk_status, blk_msg, art_bad, by_block, first, 0, meta_bad, v.text_art};
            if (t > 0) started[t] = pthread_create(&th[t], NULL, check_blocks, &jobs[t]) == 0;
        }
        check_blocks(&jobs[0]);
        for (int t = 1; t < threads; t++) {
            if (started[t]) pthread_join(th[t], NULL);
            else check_blocks(&jobs[t]);
        }
        for (int t = 0; t < threads; t++)
            if (jobs[t].nomem) rc = na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
        for (uint32_t b = 0; b < r->n_blocks && !rc; b++) {
            if (blk_status[b] == BLK_BOUNDS) report(&v, "BLKS", b, -1, "block %u lies outside the blocks region", b);
            if (blk_status[b] == BLK_HASH) report(&v, "BLKS", b, -1, "block %u: hash does not match the index", b);
            if (blk_status[b] == BLK_DECOMP) {
                report(&v, "BLKS", b, -1, "block %u: %s", b, blk_msg[b]);
                for (uint64_t k = first[b]; k < first[b + 1]; k++)
                    report(&v, "BLKS", b, by_block[k], "article in damaged block %u cannot be read", b);
            }
        }
        for (uint32_t a = 0; a < r->n_arts && !rc; a++)
            if (art_bad[a] == 1) report(&v, "BLKS", -1, a, "article bytes do not match the id");
            else if (art_bad[a] == 2) report(&v, "BLKS", -1, a, "a JSON text member's article is not valid UTF-8");
            else if (art_bad[a] == 3) report(&v, "BLKS", -1, a, "a whole JSON object's article holds a line feed");
        for (uint64_t i = 0; meta_bad && i < r->n_ents && !rc; i++)
            if (meta_bad[i]) {
                newsarc_entry e;
                uint32_t art;
                na_reader_entry_at(r, i, &e, &art);
                report(&v, "META", -1, art,
                       meta_bad[i] == 1 ? "entry %llu: metadata is not a JSON object"
                                        : "entry %llu: text member position or name clashes with the metadata",
                       (unsigned long long)i);
            }
    }
    if (hashing) pthread_join(hth, NULL);
    report_sections(&v, &sh);
    free(bounds_ok);
    free(by_block);
    free(first);
    free(jobs);
    free(blk_status);
    free(blk_msg);
    free(art_bad);
    free(meta_bad);
    free(v.art_name);
    free(v.text_art);
    free(v.art_name_len);
    if (rc) return rc;
    if (v.problems) return na_set_error(r->msg, NEWSARC_E_CORRUPT, "%d problem%s found", v.problems, v.problems == 1 ? "" : "s");
    return 0;
}
