/*
 * reader.c - open an archive from the end, check its structure, look up and
 * read articles.  Every offset and length taken from the file is checked
 * before use (spec/FORMAT.md, "Reader checks").  Tables are decoded lazily,
 * one record at a time, so opening and fetching one article stay O(log n).
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd_errors.h>

int na_corrupt_at(newsarc_reader *r, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, NA_ERRMSG, fmt, ap);
    va_end(ap);
#ifdef NEWSARC_DEBUG_CORRUPT
    fprintf(stderr, "corrupt at %s:%d: %s\n", file, line, r->msg);
#else
    (void)file;
    (void)line;
#endif
    return NEWSARC_E_CORRUPT;
}

const char *newsarc_reader_error(const newsarc_reader *r) { return r ? r->msg : "out of memory"; }

/* A skippable frame of type t exactly covering [off, off+len). */
static int check_frame(newsarc_reader *r, const na_toc_entry *s)
{
    if (s->length < NA_FRAME_HDR + NA_TYPE_SIZE || s->length - NA_FRAME_HDR > UINT32_MAX)
        return NA_CORRUPT(r, "section %s has an impossible length", s->type);
    const uint8_t *p = r->file + s->offset;
    if (na_ld32(p) != NA_FRAME_MAGIC || na_ld32(p + 4) != s->length - NA_FRAME_HDR || memcmp(p + 8, s->type, 4) != 0)
        return NA_CORRUPT(r, "section %s: frame header does not match the table of sections", s->type);
    return 0;
}

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/*
 * Footer TOC (spec R4): v1 sections once each, in order, contiguous from 0
 * to the end; optional (lowercase) sections only after META or INDX.
 */
static int check_toc(newsarc_reader *r, const na_toc_entry *want[NA_S_COUNT])
{
    const na_footer *f = &r->foot;
    uint64_t pos = 0;
    int next = 0;
    r->n_opt = 0;
    for (uint32_t i = 0; i < f->count; i++) {
        const na_toc_entry *t = &f->toc[i];
        if (t->flags != 0) return NA_CORRUPT(r, "table of sections: reserved flags set on %.4s", t->type);
        if (t->offset != pos) return NA_CORRUPT(r, "table of sections: gap or overlap before %.4s", t->type);
        if (!na_add_ok(t->offset, t->length, r->size)) return NA_CORRUPT(r, "section %.4s extends past the end of the file", t->type);
        pos = t->offset + t->length;
        if (next < NA_S_COUNT && memcmp(t->type, na_section_types[next], 4) == 0) {
            want[next++] = t;
        } else if (is_upper(t->type[0])) {
            for (int k = 0; k < NA_S_COUNT; k++)
                if (memcmp(t->type, na_section_types[k], 4) == 0)
                    return NA_CORRUPT(r, "table of sections: %.4s is out of order or repeated", t->type);
            snprintf(r->msg, NA_ERRMSG, "archive has a critical section '%.4s' this reader does not know", t->type);
            return NEWSARC_E_UNSUPPORTED;
        } else if (next != NA_S_INDX && next != NA_S_MANI) {
            return NA_CORRUPT(r, "table of sections: optional section '%.4s' in a place it may not be", t->type);
        } else {
            int rc = check_frame(r, t);
            if (rc) return rc;
            r->opt_toc[r->n_opt++] = t;
        }
    }
    if (next != NA_S_COUNT) return NA_CORRUPT(r, "table of sections: section %s is missing", na_section_types[next]);
    if (pos != r->size) return NA_CORRUPT(r, "table of sections does not end at the end of the file");
    if (want[NA_S_FOOT]->length != r->foot.frame_length) return NA_CORRUPT(r, "footer entry does not match the footer");
    if (want[NA_S_HEAD]->length != NA_HEAD_FRAME) return NA_CORRUPT(r, "header section has the wrong length");
    if (want[NA_S_SIGN]->length != NA_SIGN_FRAME) return NA_CORRUPT(r, "signature slot has the wrong length");
    return 0;
}

static int open_common(newsarc_reader *r)
{
    if (pthread_mutex_init(&r->loc_mu, NULL) != 0) return na_set_error(r->msg, NEWSARC_E_NOMEM, "cannot create a lock");
    r->loc_mu_ok = 1;
    const char *e = na_footer_decode(r->file, r->size, &r->foot);
    if (e) {
        int rc = NA_CORRUPT(r, "%s", e);
        /* a footer that parsed up to a major version we do not know */
        if (r->size >= 8 && !memcmp(r->file + r->size - 4, NA_TAIL_MAGIC, 4) && strstr(e, "major")) rc = NEWSARC_E_UNSUPPORTED;
        return rc;
    }
    const na_toc_entry *s[NA_S_COUNT] = {0};
    int rc = check_toc(r, s);
    if (rc) return rc;
    for (int k = 0; k < NA_S_COUNT; k++)
        if (k != NA_S_BLKS && (rc = check_frame(r, s[k])) != 0) return rc;
    e = na_head_decode(r->file, s[NA_S_HEAD]->length, &r->major, &r->minor);
    if (e) {
        snprintf(r->msg, NA_ERRMSG, "%s", e);
        return na_head_unsupported(r->file, s[NA_S_HEAD]->length) ? NEWSARC_E_UNSUPPORTED : NEWSARC_E_CORRUPT;
    }
    if (r->major != r->foot.major || r->minor != r->foot.minor)
        return NA_CORRUPT(r, "header and footer disagree about the format version");
    /* manifest */
    r->mani_text = r->file + s[NA_S_MANI]->offset + 12;
    r->mani_len = s[NA_S_MANI]->length - 12;
    if (r->mani_len > NA_MAX_MANIFEST) return NA_CORRUPT(r, "manifest is larger than 1 MiB");
    e = na_manifest_parse(r->mani_text, r->mani_len, &r->mani);
    if (e) return NA_CORRUPT(r, "%s", e);
    if (r->mani.fmt_major != r->major || r->mani.fmt_minor != r->minor)
        return NA_CORRUPT(r, "manifest format version differs from the header");
    if (r->mani.file_length != r->size) return NA_CORRUPT(r, "manifest file length differs from the file size");
    for (int k = 0; k < NA_S_COUNT; k++)
        if (r->mani.sec[k].offset != s[k]->offset || r->mani.sec[k].length != s[k]->length)
            return NA_CORRUPT(r, "manifest and footer disagree about section %s", na_section_types[k]);
    if (r->mani.n_opt != r->n_opt) return NA_CORRUPT(r, "manifest and footer disagree about the optional sections");
    for (uint32_t k = 0; k < r->n_opt; k++) {
        const na_toc_entry *t = r->opt_toc[k];
        int after = t->offset < s[NA_S_INDX]->offset ? NA_S_META : NA_S_INDX;
        if (memcmp(r->mani.opt[k].type, t->type, 4) != 0 || r->mani.opt[k].offset != t->offset ||
            r->mani.opt[k].length != t->length || r->mani.opt_after[k] != after)
            return NA_CORRUPT(r, "manifest and footer disagree about optional section '%.4s'", t->type);
    }
    /* dictionary */
    r->dict_frame = r->file + s[NA_S_DICT]->offset + 12;
    r->dict_frame_len = s[NA_S_DICT]->length - 12;
    if ((r->dict_frame_len == 0) != (r->mani.dict_size == 0) || r->mani.dict_size > NA_MAX_DICT)
        return NA_CORRUPT(r, "dictionary size in the manifest does not fit the dictionary section");
    r->dict_len = (size_t)r->mani.dict_size;
    /* blocks region */
    r->blks_off = s[NA_S_BLKS]->offset;
    r->blks_end = s[NA_S_BLKS]->offset + s[NA_S_BLKS]->length;
    /* index: block table, ids, location chunk directory, location chunks (spec 4.5) */
    const uint8_t *x = r->file + s[NA_S_INDX]->offset + 12;
    uint64_t xl = s[NA_S_INDX]->length - 12;
    if (xl < 12) return NA_CORRUPT(r, "index section is too short");
    r->n_blocks = na_ld32(x);
    r->n_arts = na_ld32(x + 4);
    if (na_ld32(x + 8) != 0) return NA_CORRUPT(r, "index reserved field is not zero");
    if (r->n_arts == 0 || r->n_blocks == 0) return NA_CORRUPT(r, "archive has no articles");
    uint64_t n_chunks = na_loc_chunks(r->n_arts);
    uint64_t xfixed = 12 + (uint64_t)NA_BLOCK_REC * r->n_blocks + (uint64_t)NA_ID_REC * r->n_arts +
                     (uint64_t)NA_LOC_CHUNK_REC * n_chunks;
    if (xfixed > xl) return NA_CORRUPT(r, "index is shorter than its tables");
    if (r->n_arts != r->mani.articles || r->n_blocks != r->mani.blocks)
        return NA_CORRUPT(r, "index counts differ from the manifest");
    if (r->mani.entries < r->mani.articles || r->mani.entries > UINT32_MAX)
        return NA_CORRUPT(r, "manifest entry count is impossible");
    r->blocks_tab = x + 12;
    r->ids_tab = r->blocks_tab + (size_t)NA_BLOCK_REC * r->n_blocks;
    const uint8_t *dir = r->ids_tab + (size_t)NA_ID_REC * r->n_arts;
    r->loc_frames = dir + (size_t)NA_LOC_CHUNK_REC * n_chunks;
    r->n_loc_chunks = (uint32_t)n_chunks;
    r->loc_src = malloc((n_chunks + 1) * sizeof *r->loc_src);
    r->loc_state = calloc(n_chunks, sizeof *r->loc_state);
    r->loc_rows = calloc(n_chunks, sizeof *r->loc_rows);
    if (!r->loc_src || !r->loc_state || !r->loc_rows) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    uint64_t at = 0;
    for (uint64_t k = 0; k < n_chunks; k++) {
        r->loc_src[k] = at;
        at += na_ld32(dir + NA_LOC_CHUNK_REC * k);
    }
    r->loc_src[n_chunks] = at;
    if (at != xl - xfixed) return NA_CORRUPT(r, "index length does not match its location chunks");
    /* metadata: the header here, the frame directory on first use (spec 4.4, R10) */
    const uint8_t *m = r->file + s[NA_S_META]->offset + 12;
    uint64_t ml = s[NA_S_META]->length - 12;
    if (ml < NA_META_FIXED - 4) return NA_CORRUPT(r, "metadata section is too short");
    r->meta_n_frames = na_ld32(m);
    r->meta_table_size = na_ld64(m + 4);
    if (na_ld32(m + 16) != 0) return NA_CORRUPT(r, "metadata reserved field is not zero");
    if (na_ld32(m + 12) != r->mani.entries) return NA_CORRUPT(r, "metadata entry count differs from the manifest");
    if (r->meta_n_frames == 0 || r->meta_n_frames > r->mani.entries)
        return NA_CORRUPT(r, "metadata frame count out of range");
    uint64_t fixed = NA_META_FIXED - 4 + (uint64_t)NA_META_FRAME_REC * r->meta_n_frames;
    if (fixed > ml) return NA_CORRUPT(r, "metadata frame directory is truncated");
    if (r->meta_table_size < 24 * r->mani.entries || r->meta_table_size > NA_MAX_META_TABLE ||
        r->meta_table_size > (ml - fixed) * NA_MAX_EXPANSION)
        return NA_CORRUPT(r, "metadata table size out of range");
    r->meta_payload = m;
    r->meta_payload_len = ml;
    /* signature slot */
    e = na_sign_decode(r->file + s[NA_S_SIGN]->offset + 8, s[NA_S_SIGN]->length - 8, &r->sign_text, &r->sign_len);
    if (e) return NA_CORRUPT(r, "%s", e);
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    return 0;
}

int newsarc_reader_open_mem(newsarc_reader **out, const void *buf, size_t len)
{
    *out = NULL;
    if (na_init() != 0) return NEWSARC_E_NOMEM;
    newsarc_reader *r = calloc(1, sizeof *r);
    if (!r) return NEWSARC_E_NOMEM;
    *out = r;
    r->file = buf;
    r->size = len;
    return open_common(r);
}

int newsarc_reader_open(newsarc_reader **out, const char *path)
{
    *out = NULL;
    if (na_init() != 0) return NEWSARC_E_NOMEM;
    newsarc_reader *r = calloc(1, sizeof *r);
    if (!r) return NEWSARC_E_NOMEM;
    *out = r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return na_set_error(r->msg, NEWSARC_E_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return na_set_error(r->msg, NEWSARC_E_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return na_set_error(r->msg, NEWSARC_E_IO, "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return NA_CORRUPT(r, "file is empty");
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return na_set_error(r->msg, NEWSARC_E_IO, "cannot map: %s", strerror(e));
    r->file = p;
    r->size = (uint64_t)st.st_size;
    r->mapped = 1;
    return open_common(r);
}

void newsarc_reader_free(newsarc_reader *r)
{
    if (!r) return;
    if (r->mapped) munmap((void *)r->file, (size_t)r->size);
    ZSTD_freeDCtx(r->dctx);
    ZSTD_freeDDict(r->ddict);
    for (uint32_t f = 0; r->mf && f < r->meta_n_frames; f++)
        if (r->mf[f].own) free(r->mf[f].data);
    if (r->meta_arena) munmap(r->meta_arena, r->meta_arena_len);
    free(r->mf);
    free(r->ent);
    free(r->blk_cache);
    free(r->dict);
    free(r->attr);
    for (uint32_t i = 1; i <= r->attr_n_names; i++) free(r->attr_names[i]);
    free(r->loc_src);
    free((void *)r->loc_state);
    for (uint32_t k = 0; r->loc_rows && k < r->n_loc_chunks; k++) free(r->loc_rows[k]);
    free(r->loc_rows);
    ZSTD_freeDCtx(r->loc_dctx);
    if (r->loc_mu_ok) pthread_mutex_destroy(&r->loc_mu);
    free(r);
}

uint64_t newsarc_reader_article_count(const newsarc_reader *r) { return r->n_arts; }

uint64_t newsarc_reader_entry_count(const newsarc_reader *r) { return r->mani.entries; }

int newsarc_reader_info(newsarc_reader *r, newsarc_info *in)
{
    memset(in, 0, sizeof *in);
    in->format_major = r->major;
    in->format_minor = r->minor;
    in->file_size = r->size;
    in->article_count = r->n_arts;
    in->entry_count = r->mani.entries;
    in->block_count = r->n_blocks;
    for (uint32_t b = 0; b < r->n_blocks; b++) {
        na_block_rec br;
        na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, &br);
        in->content_size += br.usize;
    }
    in->blocks_size = r->blks_end - r->blks_off;
    in->dict_size = r->dict_len;
    in->dict_section_size = r->mani.sec[NA_S_DICT].length;
    in->meta_size = r->mani.sec[NA_S_META].length;
    in->index_size = r->mani.sec[NA_S_INDX].length;
    for (uint32_t k = 0; k < r->n_opt; k++)
        if (!memcmp(r->opt_toc[k]->type, "attr", 4)) in->text_info_size = r->opt_toc[k]->length;
    /* every byte belongs to one section (the TOC tiles the file): the rest is the small ones */
    in->other_size = r->size - (r->mani.sec[NA_S_BLKS].length + in->dict_section_size + in->meta_size +
                                in->index_size + in->text_info_size);
    in->level = r->mani.level;
    in->block_size = (uint32_t)r->mani.block_size;
    snprintf(in->zstd_version, sizeof in->zstd_version, "%s", r->mani.zstd_version);
    na_hash(in->archive_id, r->mani_text, r->mani_len);
    memcpy(in->root_hash, r->mani.root, NA_HASH);
    in->signed_ = r->sign_len > 0;
    return 0;
}

/* The checks of a block record before use (spec 8.2); the reader is only read. */
static int block_check(const newsarc_reader *r, uint32_t b, na_block_rec *out, char msg[NA_ERRMSG])
{
    if (b >= r->n_blocks) return na_set_error(msg, NEWSARC_E_CORRUPT, "article refers to block %u of %u", b, r->n_blocks);
    na_block_decode(r->blocks_tab + (size_t)b * NA_BLOCK_REC, out);
    if (out->offset < r->blks_off || !na_add_ok(out->offset, out->csize, r->blks_end))
        return na_set_error(msg, NEWSARC_E_CORRUPT, "block %u lies outside the blocks region", b);
    if (out->usize > NA_MAX_BLOCK_CONTENT)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "block %u is larger than the format allows", b);
    if (out->usize > (uint64_t)out->csize * NA_MAX_EXPANSION)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "block %u claims more content than its frame can hold", b);
    if (ZSTD_getFrameContentSize(r->file + out->offset, out->csize) != out->usize)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "block %u: frame content size differs from the index", b);
    return 0;
}

int na_reader_block(newsarc_reader *r, uint32_t b, na_block_rec *out) { return block_check(r, b, out, r->msg); }

/* Why a location chunk is damaged (its state is the negated reason). */
enum { LOC_NOT_ONE_FRAME = 1, LOC_SIZE, LOC_DICT, LOC_DECOMPRESS, LOC_CHECKSUM };

static int loc_damaged(char msg[NA_ERRMSG], uint32_t k, int why, size_t usize)
{
    switch (why) {
    case LOC_NOT_ONE_FRAME: return na_set_error(msg, NEWSARC_E_CORRUPT, "index: location chunk %u is not one zstd frame of its length", k);
    case LOC_SIZE: return na_set_error(msg, NEWSARC_E_CORRUPT, "index: location chunk %u does not declare %zu bytes", k, usize);
    case LOC_DICT: return na_set_error(msg, NEWSARC_E_CORRUPT, "index: location chunk %u asks for a dictionary", k);
    case LOC_CHECKSUM: return na_set_error(msg, NEWSARC_E_CORRUPT, "index: location chunk %u is damaged (its content checksum does not match)", k);
    default: return na_set_error(msg, NEWSARC_E_CORRUPT, "index: location chunk %u does not decompress", k);
    }
}

static size_t loc_records(const newsarc_reader *r, uint32_t k)
{
    uint64_t first = (uint64_t)k * NA_LOC_CHUNK;
    return (size_t)(r->n_arts - first < NA_LOC_CHUNK ? r->n_arts - first : NA_LOC_CHUNK);
}

/* Decode location chunk k (spec 4.5, U2) into rows, with loc_mu held:
 * 0, -1 out of memory, or a LOC_ reason. */
static int loc_decode(newsarc_reader *r, uint32_t k, ZSTD_DCtx *dctx)
{
    size_t m = loc_records(r, k), usize = NA_LOC_REC * m;
    const uint8_t *src = r->loc_frames + r->loc_src[k];
    size_t csize = (size_t)(r->loc_src[k + 1] - r->loc_src[k]);
    if (!dctx && !r->loc_dctx) r->loc_dctx = ZSTD_createDCtx();
    if (!dctx) dctx = r->loc_dctx;
    if (!dctx) return -1;
    if (ZSTD_findFrameCompressedSize(src, csize) != csize) return LOC_NOT_ONE_FRAME;
    if (ZSTD_getFrameContentSize(src, csize) != usize) return LOC_SIZE;
    if (ZSTD_getDictID_fromFrame(src, csize) != 0) return LOC_DICT;
    uint8_t *planes = malloc(usize);
    uint32_t(*rows)[3] = malloc(sizeof *rows * m);
    if (!planes || !rows) {
        free(planes);
        free(rows);
        return -1;
    }
    size_t got = ZSTD_decompressDCtx(dctx, planes, usize, src, csize);
    if (ZSTD_isError(got) || got != usize) {
        free(planes);
        free(rows);
        return ZSTD_isError(got) && ZSTD_getErrorCode(got) == ZSTD_error_checksum_wrong ? LOC_CHECKSUM : LOC_DECOMPRESS;
    }
    /* as rows: a lookup then touches one cache line, not twelve */
    na_locs_from_planes(rows, planes, m);
    free(planes);
    r->loc_rows[k] = rows;
    return 0;
}

int na_reader_loc_chunk(newsarc_reader *r, uint32_t k, char msg[NA_ERRMSG], ZSTD_DCtx *dctx)
{
    if (k >= r->n_loc_chunks) return na_set_error(msg, NEWSARC_E_NOTFOUND, "no location chunk %u", k);
    int st = atomic_load_explicit(&r->loc_state[k], memory_order_acquire);
    if (st == 0) {
        pthread_mutex_lock(&r->loc_mu);
        st = atomic_load_explicit(&r->loc_state[k], memory_order_relaxed);
        if (st == 0) {
            int why = loc_decode(r, k, dctx);
            if (why >= 0) {
                st = why ? -why : 1;
                atomic_store_explicit(&r->loc_state[k], (signed char)st, memory_order_release);
            }
        }
        pthread_mutex_unlock(&r->loc_mu);
        if (st == 0) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
    }
    /* the same message whichever thread decoded the chunk */
    return st > 0 ? 0 : loc_damaged(msg, k, -st, NA_LOC_REC * loc_records(r, k));
}

/* na_reader_decode_locations: chunks taken from a counter, each thread with its own context */
typedef struct loc_pass {
    newsarc_reader *r;
    _Atomic uint32_t next;
} loc_pass;

static void locs_share(void *arg, int t)
{
    (void)t;
    loc_pass *p = arg;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d) return; /* left to their first use */
    for (uint32_t k; (k = atomic_fetch_add(&p->next, 1)) < p->r->n_loc_chunks;) {
        if (atomic_load_explicit(&p->r->loc_state[k], memory_order_relaxed) != 0) continue;
        int why = loc_decode(p->r, k, d); /* no lock: each chunk is this thread's alone */
        if (why >= 0) atomic_store_explicit(&p->r->loc_state[k], (signed char)(why ? -why : 1), memory_order_release);
    }
    ZSTD_freeDCtx(d);
}

void na_reader_decode_locations(newsarc_reader *r, int threads)
{
    if (r->n_loc_chunks < 2 || threads < 2) return; /* their first use decodes them */
    loc_pass p = {.r = r};
    atomic_init(&p.next, 0);
    na_run_threads(threads > 16 ? 16 : threads, locs_share, &p);
}

int na_reader_loc(newsarc_reader *r, uint64_t i, uint32_t loc[3], char msg[NA_ERRMSG], ZSTD_DCtx *dctx)
{
    if (i >= r->n_arts) return na_set_error(msg, NEWSARC_E_NOTFOUND, "no article %llu", (unsigned long long)i);
    int rc = na_reader_loc_chunk(r, (uint32_t)(i / NA_LOC_CHUNK), msg, dctx);
    if (rc) return rc;
    na_reader_loc_known(r, i, loc);
    return 0;
}

int na_reader_article_rec(newsarc_reader *r, uint64_t i, na_article_rec *out)
{
    uint32_t loc[3] = {0, 0, 0};
    int rc = na_reader_loc(r, i, loc, r->msg, r->dctx);
    if (rc) return rc;
    memcpy(out->id, na_reader_id(r, i), NA_HASH);
    out->block = loc[0];
    out->offset = loc[1];
    out->length = loc[2];
    return 0;
}

static int article_info(newsarc_reader *r, uint64_t index, newsarc_article_info *out, char msg[NA_ERRMSG], ZSTD_DCtx *dctx)
{
    uint32_t loc[3] = {0, 0, 0};
    int rc = na_reader_loc(r, index, loc, msg, dctx);
    if (rc) return rc;
    memcpy(out->id, na_reader_id(r, index), NA_HASH);
    out->size = loc[2];
    out->block = loc[0];
    return 0;
}

int na_reader_article_msg(newsarc_reader *r, uint64_t index, newsarc_article_info *out, char msg[NA_ERRMSG])
{
    return article_info(r, index, out, msg, NULL);
}

int na_reader_article_where(newsarc_reader *r, uint64_t index, uint32_t where[3], char msg[NA_ERRMSG])
{
    where[0] = where[1] = where[2] = 0;
    return na_reader_loc(r, index, where, msg, NULL);
}

/* On the reader's thread: its decompression context decodes a location chunk too. */
int newsarc_reader_article(newsarc_reader *r, uint64_t index, newsarc_article_info *out)
{
    return article_info(r, index, out, r->msg, r->dctx);
}

int newsarc_reader_find_id(newsarc_reader *r, const uint8_t id[NEWSARC_ID_SIZE], uint64_t *index)
{
    uint64_t lo = 0, hi = r->n_arts;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = memcmp(na_reader_id(r, mid), id, NA_HASH);
        if (c == 0) {
            *index = mid;
            return 0;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no article with that id");
}

/* First article whose id is >= the given prefix bytes (prefix may be odd-length in hex). */
static int select_prefix(newsarc_reader *r, const char *hex, size_t n, uint64_t *index)
{
    uint8_t lo_id[NA_HASH], hi_id[NA_HASH];
    char buf[2 * NA_HASH + 1];
    memcpy(buf, hex, n);
    memset(buf + n, '0', 2 * NA_HASH - n);
    buf[2 * NA_HASH] = 0;
    if (na_unhex(lo_id, buf, NA_HASH) != 0) return NEWSARC_E_NOTFOUND;
    memset(buf + n, 'f', 2 * NA_HASH - n);
    if (na_unhex(hi_id, buf, NA_HASH) != 0) return NEWSARC_E_NOTFOUND;
    uint64_t lo = 0, hi = r->n_arts;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (memcmp(na_reader_id(r, mid), lo_id, NA_HASH) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo >= r->n_arts || memcmp(na_reader_id(r, lo), hi_id, NA_HASH) > 0)
        return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no article id starts with '%.*s'", (int)n, hex);
    if (lo + 1 < r->n_arts && memcmp(na_reader_id(r, lo + 1), hi_id, NA_HASH) <= 0)
        return na_set_error(r->msg, NEWSARC_E_AMBIGUOUS, "more than one article id starts with '%.*s'", (int)n, hex);
    *index = lo;
    return 0;
}

static int meta_dir(newsarc_reader *r);
static int meta_frame(newsarc_reader *r, uint32_t f);

/* Bytewise, a proper prefix first (the canonical order of names). */
static int cmp_name(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (an < bn ? -1 : an > bn);
}

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int newsarc_reader_select(newsarc_reader *r, const char *sel, size_t n, uint64_t *article_index)
{
    if (n == 2 * NA_HASH && all_hex(sel, n)) {
        uint8_t id[NA_HASH];
        if (na_unhex(id, sel, NA_HASH) == 0 && newsarc_reader_find_id(r, id, article_index) == 0) return 0;
    }
    if (n == 0) return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "empty selector"); /* JSON entries have no name */
    /* entries are sorted by name: the directory's first names pick the one
     * frame that can hold it (the last whose first name <= sel) */
    int rc = meta_dir(r);
    if (rc) return rc;
    uint32_t flo = 0, fhi = r->meta_n_frames - 1;
    while (flo < fhi) {
        uint32_t mid = flo + (fhi - flo + 1) / 2;
        const na_meta_frame *x = &r->mf[mid];
        if (cmp_name((const char *)r->meta_payload + x->name, x->name_len, sel, n) <= 0) flo = mid;
        else fhi = mid - 1;
    }
    if ((rc = meta_frame(r, flo)) != 0) return rc;
    uint64_t lo = r->mf[flo].first, hi = lo + r->mf[flo].entries, end = hi;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        newsarc_entry e;
        uint32_t art;
        if ((rc = na_reader_entry_at(r, mid, &e, &art)) != 0) return rc;
        if (cmp_name(e.name, e.name_len, sel, n) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < end) {
        newsarc_entry e;
        uint32_t art;
        if ((rc = na_reader_entry_at(r, lo, &e, &art)) != 0) return rc;
        if (e.name_len == n && memcmp(e.name, sel, n) == 0) {
            if (art >= r->n_arts) return NA_CORRUPT(r, "entry refers to a missing article");
            *article_index = art;
            return 0;
        }
    }
    if (n >= 8 && n <= 2 * NA_HASH && all_hex(sel, n)) return select_prefix(r, sel, n, article_index);
    return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no article with id or name '%.*s'", (int)(n > 200 ? 200 : n), sel);
}

int na_reader_ddict(newsarc_reader *r)
{
    if (r->ddict || r->dict_len == 0) return 0;
    if (r->dict_state == -1) return NA_CORRUPT(r, "dictionary section is damaged");
    /* the body is one zstd frame (no dictionary) of exactly dictionary-size bytes */
    const uint8_t *f = r->dict_frame;
    size_t fl = r->dict_frame_len;
    size_t fs = ZSTD_findFrameCompressedSize(f, fl);
    r->dict_state = -1;
    if (ZSTD_getFrameContentSize(f, fl) != r->dict_len || ZSTD_isError(fs) || fs != fl)
        return NA_CORRUPT(r, "dictionary section is not one zstd frame of dictionary-size bytes");
    if (!r->dict && !(r->dict = malloc(r->dict_len))) {
        r->dict_state = 0;
        return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory for the dictionary");
    }
    size_t got = ZSTD_decompressDCtx(r->dctx, r->dict, r->dict_len, f, fl);
    if (ZSTD_isError(got) || got != r->dict_len) return NA_CORRUPT(r, "dictionary section does not decompress");
    /* a zstd dictionary proper (magic EC30A437, non-zero id), not raw content */
    if (r->dict_len < 8 || na_ld32(r->dict) != 0xEC30A437u || na_ld32(r->dict + 4) == 0)
        return NA_CORRUPT(r, "dictionary section is not a zstd dictionary");
    r->ddict = ZSTD_createDDict(r->dict, r->dict_len);
    if (!r->ddict) return NA_CORRUPT(r, "dictionary section is not a valid zstd dictionary");
    r->dict_state = 1;
    return 0;
}

int na_reader_decompress(newsarc_reader *r, ZSTD_DCtx *dctx, const na_block_rec *b, uint8_t *dst, char *msg,
                         size_t msgcap)
{
    const uint8_t *src = r->file + b->offset;
    unsigned long long cs = ZSTD_getFrameContentSize(src, b->csize);
    if (cs != b->usize) {
        snprintf(msg, msgcap, "%s",
                 cs == ZSTD_CONTENTSIZE_ERROR     ? "block is not a valid zstd frame"
                 : cs == ZSTD_CONTENTSIZE_UNKNOWN ? "block frame does not declare its content size"
                                                  : "block frame declares a content size different from the index");
        return NEWSARC_E_CORRUPT;
    }
    size_t fs = ZSTD_findFrameCompressedSize(src, b->csize);
    if (ZSTD_isError(fs) || fs != b->csize) {
        snprintf(msg, msgcap, "block frame length differs from the index");
        return NEWSARC_E_CORRUPT;
    }
    size_t got = r->ddict ? ZSTD_decompress_usingDDict(dctx, dst, b->usize, src, b->csize, r->ddict)
                          : ZSTD_decompressDCtx(dctx, dst, b->usize, src, b->csize);
    if (ZSTD_isError(got) || got != b->usize) {
        snprintf(msg, msgcap, "block does not decompress: %s", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
        return NEWSARC_E_CORRUPT;
    }
    return 0;
}

int newsarc_reader_read(newsarc_reader *r, uint64_t index, void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    na_article_rec a;
    na_block_rec b;
    int rc = na_reader_article_rec(r, index, &a);
    if (!rc) rc = na_reader_block(r, a.block, &b);
    if (rc) return rc;
    if ((uint64_t)a.offset + a.length > b.usize)
        return NA_CORRUPT(r, "article %llu lies outside its block", (unsigned long long)index);
    if (!r->blk_cache_valid || r->blk_cache_id != a.block) {
        if ((rc = na_reader_ddict(r)) != 0) return rc;
        r->blk_cache_valid = 0;
        uint8_t *buf = realloc(r->blk_cache, b.usize ? b.usize : 1);
        if (!buf) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
        r->blk_cache = buf;
        char m[256];
        if (na_reader_decompress(r, r->dctx, &b, buf, m, sizeof m) != 0)
            return NA_CORRUPT(r, "block %u: %s", a.block, m);
        r->blk_cache_id = a.block;
        r->blk_cache_len = b.usize;
        r->blk_cache_valid = 1;
    }
    uint8_t id[NA_HASH];
    na_hash(id, r->blk_cache + a.offset, a.length);
    if (memcmp(id, a.id, NA_HASH) != 0)
        return NA_CORRUPT(r, "article %llu does not match its id (block %u is damaged)", (unsigned long long)index,
                          a.block);
    void *out = malloc(a.length ? a.length : 1);
    if (!out) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    memcpy(out, r->blk_cache + a.offset, a.length);
    *data = out;
    *len = a.length;
    return 0;
}

/* ---- cursors: reading from several threads ------------------------------------------ */

struct newsarc_cursor {
    newsarc_reader *r;
    ZSTD_DCtx *dctx;
    uint8_t *blk;
    size_t cap;
    uint32_t blk_id;
    int blk_valid;
    char msg[NA_ERRMSG];
};

int newsarc_cursor_new(newsarc_reader *r, newsarc_cursor **out)
{
    *out = NULL;
    int rc = na_reader_ddict(r); /* the one lazy part of reading, done here on the reader's thread */
    if (rc) return rc;
    newsarc_cursor *c = calloc(1, sizeof *c);
    if (!c || !(c->dctx = ZSTD_createDCtx())) {
        free(c);
        return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    c->r = r;
    *out = c;
    return 0;
}

void newsarc_cursor_free(newsarc_cursor *c)
{
    if (!c) return;
    ZSTD_freeDCtx(c->dctx);
    free(c->blk);
    free(c);
}

const char *newsarc_cursor_error(const newsarc_cursor *c) { return c ? c->msg : "out of memory"; }

void na_reader_prefetch(const newsarc_reader *r, uint64_t index)
{
    if (index >= r->n_arts) return;
    __builtin_prefetch(na_reader_id(r, index));
    na_reader_prefetch_loc(r, index);
    if (r->attr_state == 1) __builtin_prefetch(r->attr_recs + (size_t)index * NA_ATTR_REC);
}

void na_reader_prefetch_article(const newsarc_cursor *c, uint64_t index) { na_reader_prefetch(c->r, index); }

int newsarc_cursor_read(newsarc_cursor *c, uint64_t index, const void **data, size_t *len)
{
    const newsarc_reader *r = c->r;
    *data = NULL;
    *len = 0;
    if (index >= r->n_arts) return na_set_error(c->msg, NEWSARC_E_NOTFOUND, "no article %llu", (unsigned long long)index);
    uint32_t loc[3] = {0, 0, 0};
    int rc = na_reader_loc(c->r, index, loc, c->msg, c->dctx);
    if (rc) return rc;
    na_article_rec a = {.block = loc[0], .offset = loc[1], .length = loc[2]};
    na_block_rec b;
    rc = block_check(r, a.block, &b, c->msg);
    if (rc) return rc;
    if ((uint64_t)a.offset + a.length > b.usize)
        return na_set_error(c->msg, NEWSARC_E_CORRUPT, "article %llu lies outside its block", (unsigned long long)index);
    if (!c->blk_valid || c->blk_id != a.block) {
        c->blk_valid = 0;
        if (c->cap < b.usize || !c->blk) {
            uint8_t *nb = realloc(c->blk, b.usize ? b.usize : 1);
            if (!nb) return na_set_error(c->msg, NEWSARC_E_NOMEM, "out of memory");
            c->blk = nb;
            c->cap = b.usize;
        }
        char m[256];
        if (na_reader_decompress((newsarc_reader *)r, c->dctx, &b, c->blk, m, sizeof m) != 0)
            return na_set_error(c->msg, NEWSARC_E_CORRUPT, "block %u: %s", a.block, m);
        c->blk_id = a.block;
        c->blk_valid = 1;
    }
    uint8_t id[NA_HASH];
    na_hash(id, c->blk + a.offset, a.length);
    if (memcmp(id, na_reader_id(r, index), NA_HASH) != 0)
        return na_set_error(c->msg, NEWSARC_E_CORRUPT, "article %llu does not match its id (block %u is damaged)",
                            (unsigned long long)index, a.block);
    *data = c->blk + a.offset;
    *len = a.length;
    return 0;
}

/* ---- metadata -------------------------------------------------------------------- */

static int rd32(const uint8_t *t, uint64_t size, uint64_t *pos, uint32_t *v)
{
    if (size - *pos < 4) return -1;
    *v = na_ld32(t + *pos);
    *pos += 4;
    return 0;
}

static int skip_bytes(uint64_t size, uint64_t *pos, uint32_t n, uint32_t max)
{
    if (n > max || size - *pos < n) return -1;
    *pos += n;
    return 0;
}

/* The frame directory (spec 4.4): every count, size and offset checked once. */
static int meta_dir(newsarc_reader *r)
{
    if (r->meta_dir_state == 1) return 0;
    if (r->meta_dir_state == -1) return NEWSARC_E_CORRUPT;
    r->meta_dir_state = -1;
    uint32_t nf = r->meta_n_frames;
    uint64_t ne = r->mani.entries;
    r->mf = calloc(nf, sizeof *r->mf);
    r->ent = calloc((size_t)ne, sizeof *r->ent);
    if (!r->mf || !r->ent) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory for the metadata directory");
    const uint8_t *d = r->meta_payload + NA_META_FIXED - 4;
    uint64_t first = 0, usum = 0, name = NA_META_FIXED - 4 + (uint64_t)NA_META_FRAME_REC * nf;
    for (uint32_t f = 0; f < nf; f++, d += NA_META_FRAME_REC) {
        na_meta_frame *x = &r->mf[f];
        x->csize = na_ld32(d);
        x->usize = na_ld32(d + 4);
        x->entries = na_ld32(d + 8);
        x->name_len = na_ld32(d + 12);
        x->first = first;
        x->name = name;
        x->uoff = usum;
        if (x->entries == 0 || x->entries > ne - first)
            return NA_CORRUPT(r, "metadata frame %u: entry count out of range", f);
        if (x->name_len > NA_MAX_NAME) return NA_CORRUPT(r, "metadata frame %u: first name too long", f);
        if (x->usize < 24 * (uint64_t)x->entries || x->usize > NA_MAX_BLOCK_CONTENT ||
            x->usize > (uint64_t)x->csize * NA_MAX_EXPANSION || x->usize > r->meta_table_size - usum)
            return NA_CORRUPT(r, "metadata frame %u: size out of range", f);
        first += x->entries;
        usum += x->usize;
        name += x->name_len; /* < 2^32 * (16 + 4096): no overflow */
    }
    if (first != ne) return NA_CORRUPT(r, "metadata frames hold %llu entries, the manifest says %llu",
                                       (unsigned long long)first, (unsigned long long)ne);
    if (usum != r->meta_table_size) return NA_CORRUPT(r, "metadata frame sizes do not add up to the table size");
    uint64_t src = name;
    for (uint32_t f = 0; f < nf; f++) {
        if (src > r->meta_payload_len) break;
        r->mf[f].src = src;
        src += r->mf[f].csize;
    }
    if (src != r->meta_payload_len) return NA_CORRUPT(r, "metadata frames do not fill the section exactly");
    r->n_ents = ne;
    r->meta_dir_state = 1;
    return 0;
}

/*
 * Decompress and check one frame (U4).  Touches only frame f and its
 * entries' slots, so different frames may load on different threads.
 */
/* Decompress frame f into t (usize bytes) and check it (U4), pointing ent[k]
 * at its record k; touches nothing shared, so any thread may use it on any
 * frame with its own t, ent and dctx. */
static int meta_frame_decode(const newsarc_reader *r, uint32_t f, ZSTD_DCtx *dctx, uint8_t *t, const uint8_t **ent,
                             char msg[NA_ERRMSG])
{
    const na_meta_frame *x = &r->mf[f];
    const uint8_t *src = r->meta_payload + x->src;
    if (ZSTD_getFrameContentSize(src, x->csize) != x->usize)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u: declared size differs from the directory", f);
    size_t fs = ZSTD_findFrameCompressedSize(src, x->csize);
    if (ZSTD_isError(fs) || fs != x->csize)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u: frame length is wrong", f);
    size_t got = r->ddict ? ZSTD_decompress_usingDDict(dctx, t, x->usize, src, x->csize, r->ddict)
                          : ZSTD_decompressDCtx(dctx, t, x->usize, src, x->csize);
    if (ZSTD_isError(got) && ZSTD_getErrorCode(got) == ZSTD_error_checksum_wrong)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u is damaged (its content checksum does not match)", f);
    if (ZSTD_isError(got) || got != x->usize)
        return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u does not decompress", f);
    uint64_t size = x->usize, pos = 0;
    for (uint32_t k = 0; k < x->entries; k++) {
        uint64_t i = x->first + k;
        ent[k] = t + pos;
        uint32_t art, flags, nl, kl, kp, ml;
        if (rd32(t, size, &pos, &art) || rd32(t, size, &pos, &flags) || rd32(t, size, &pos, &nl) ||
            skip_bytes(size, &pos, nl, NA_MAX_NAME) || rd32(t, size, &pos, &kl) ||
            skip_bytes(size, &pos, kl, NA_MAX_KEY) || rd32(t, size, &pos, &kp) || rd32(t, size, &pos, &ml) ||
            skip_bytes(size, &pos, ml, NA_MAX_META))
            return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata entry %llu is truncated or too long",
                                (unsigned long long)i);
        if (art >= r->n_arts)
            return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata entry %llu refers to a missing article",
                                (unsigned long long)i);
        if (flags & ~NEWSARC_ENTRY_KNOWN_FLAGS)
            return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata entry %llu has reserved flags set",
                                (unsigned long long)i);
        if (k == 0 && (nl != x->name_len || (nl && memcmp(t + 12, r->meta_payload + x->name, nl) != 0)))
            return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u: first name differs from the directory", f);
    }
    if (pos != size) return na_set_error(msg, NEWSARC_E_CORRUPT, "metadata frame %u has trailing bytes", f);
    return 0;
}

static int meta_frame_load(newsarc_reader *r, uint32_t f, ZSTD_DCtx *dctx, uint8_t *into, char msg[NA_ERRMSG])
{
    na_meta_frame *x = &r->mf[f];
    uint8_t *t = into ? into : r->meta_arena ? r->meta_arena + x->uoff : malloc(x->usize);
    if (!t) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory for metadata frame %u", f);
    int rc = meta_frame_decode(r, f, dctx, t, r->ent + x->first, msg);
    if (rc) {
        for (uint32_t k = 0; k < x->entries; k++) r->ent[x->first + k] = NULL;
        if (!into && !r->meta_arena) free(t);
        x->state = -1;
        return rc;
    }
    x->data = t;
    x->own = !into && !r->meta_arena;
    x->state = 1;
    return 0;
}

/* Frame f ready on the reader's thread. */
static int meta_frame(newsarc_reader *r, uint32_t f)
{
    if (r->mf[f].state == 1) return 0;
    if (r->mf[f].state == -1) return NEWSARC_E_CORRUPT;
    int rc = na_reader_ddict(r);
    if (rc) return rc;
    char msg[NA_ERRMSG];
    rc = meta_frame_load(r, f, r->dctx, NULL, msg);
    if (rc == NEWSARC_E_CORRUPT) return NA_CORRUPT(r, "%s", msg);
    if (rc) return na_set_error(r->msg, rc, "%s", msg);
    return 0;
}

/* The frame that holds entry i (the directory is loaded, i < n_ents). */
static uint32_t meta_frame_of(const newsarc_reader *r, uint64_t i)
{
    uint32_t lo = 0, hi = r->meta_n_frames - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (r->mf[mid].first <= i) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/*
 * Every frame at once: one mapping for the whole table instead of a
 * malloc (so an mmap) per frame, with transparent huge pages where the
 * kernel offers them: on m1's 200 MB table a quarter of `list --json`'s
 * time went to page faults.  Without the mapping, frames are malloc'd.
 */
static void meta_arena(newsarc_reader *r)
{
    if (r->meta_arena || r->meta_table_size == 0 || r->meta_table_size > SIZE_MAX / 2) return;
    size_t len = (size_t)r->meta_table_size;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    r->meta_arena = p;
    r->meta_arena_len = len;
}

typedef struct meta_job {
    newsarc_reader *r;
    int threads;
    uint32_t bad;          /* lowest failed frame of this share, or UINT32_MAX */
    int rc;
    char msg[NA_ERRMSG];
} meta_job;

static void meta_load_share(void *arg, int t)
{
    meta_job *j = (meta_job *)arg + t;
    j->bad = UINT32_MAX;
    j->rc = 0;
    ZSTD_DCtx *d = t == 0 ? j->r->dctx : ZSTD_createDCtx();
    if (!d) {
        j->rc = na_set_error(j->msg, NEWSARC_E_NOMEM, "out of memory");
        j->bad = (uint32_t)t;
        return;
    }
    for (uint32_t f = (uint32_t)t; f < j->r->meta_n_frames; f += (uint32_t)j->threads) {
        if (j->r->mf[f].state != 0) continue;
        char msg[NA_ERRMSG];
        int rc = meta_frame_load(j->r, f, d, NULL, msg);
        if (rc && f < j->bad) {
            j->bad = f;
            j->rc = rc;
            memcpy(j->msg, msg, sizeof msg);
        }
    }
    if (t != 0) ZSTD_freeDCtx(d);
}

int na_reader_meta_dir(newsarc_reader *r)
{
    int rc = meta_dir(r);
    return rc ? rc : na_reader_ddict(r);
}

int na_reader_meta_frame_into(newsarc_reader *r, uint32_t f, ZSTD_DCtx *dctx, uint8_t *buf, char msg[NA_ERRMSG])
{
    if (r->mf[f].state != 0)
        return na_set_error(msg, NEWSARC_E_STATE, "internal: metadata frame %u is already loaded or failed", f);
    return meta_frame_load(r, f, dctx, buf, msg);
}

int na_meta_stream_begin(newsarc_reader *r, uint32_t *frames)
{
    int rc = na_reader_meta_dir(r);
    *frames = rc ? 0 : r->meta_n_frames;
    return rc;
}

uint32_t na_meta_stream_entries(const newsarc_reader *r, uint32_t f) { return f < r->meta_n_frames ? r->mf[f].entries : 0; }

/* A few META frames decoded on one thread, for reading entries in any order
 * without the whole table in memory (extract). */
#define META_CACHE_SLOTS 4
struct na_meta_cache {
    const newsarc_reader *r;
    ZSTD_DCtx *dctx;
    uint64_t tick;
    struct {
        uint32_t f;      /* UINT32_MAX: empty */
        uint64_t used;
        uint8_t *buf;
        size_t cap;
        const uint8_t **ent;
        size_t ent_cap;
    } s[META_CACHE_SLOTS];
};

na_meta_cache *na_meta_cache_new(const newsarc_reader *r)
{
    na_meta_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->r = r;
    for (int k = 0; k < META_CACHE_SLOTS; k++) c->s[k].f = UINT32_MAX;
    if (!(c->dctx = ZSTD_createDCtx())) {
        free(c);
        return NULL;
    }
    return c;
}

void na_meta_cache_free(na_meta_cache *c)
{
    if (!c) return;
    for (int k = 0; k < META_CACHE_SLOTS; k++) {
        free(c->s[k].buf);
        free((void *)c->s[k].ent);
    }
    ZSTD_freeDCtx(c->dctx);
    free(c);
}

int na_meta_cache_entry(na_meta_cache *c, uint64_t i, newsarc_entry *e, uint64_t *article, char msg[NA_ERRMSG])
{
    const newsarc_reader *r = c->r;
    if (r->meta_dir_state != 1) return na_set_error(msg, NEWSARC_E_STATE, "internal: metadata directory not read");
    if (i >= r->n_ents) return na_set_error(msg, NEWSARC_E_NOTFOUND, "no entry %llu", (unsigned long long)i);
    uint32_t f = meta_frame_of(r, i);
    int k = 0;
    for (int q = 0; q < META_CACHE_SLOTS; q++) {
        if (c->s[q].f == f) {
            k = q;
            goto found;
        }
        if (c->s[q].used < c->s[k].used) k = q; /* least recently used (empty slots have 0) */
    }
    const na_meta_frame *x = &r->mf[f];
    if (c->s[k].cap < x->usize) {
        uint8_t *nb = realloc(c->s[k].buf, x->usize);
        if (!nb) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory for metadata frame %u", f);
        c->s[k].buf = nb;
        c->s[k].cap = x->usize;
    }
    if (c->s[k].ent_cap < x->entries) {
        const uint8_t **ne = realloc((void *)c->s[k].ent, sizeof *ne * x->entries);
        if (!ne) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory for metadata frame %u", f);
        c->s[k].ent = ne;
        c->s[k].ent_cap = x->entries;
    }
    c->s[k].f = UINT32_MAX;
    int rc = meta_frame_decode(r, f, c->dctx, c->s[k].buf, c->s[k].ent, msg);
    if (rc) return rc;
    c->s[k].f = f;
found:
    c->s[k].used = ++c->tick;
    uint32_t art;
    na_entry_parse(c->s[k].ent[i - r->mf[f].first], e, &art);
    *article = art;
    return 0;
}

void na_reader_meta_unload(newsarc_reader *r, uint32_t f)
{
    na_meta_frame *x = &r->mf[f];
    if (x->state != 1) return;
    for (uint32_t k = 0; k < x->entries; k++) r->ent[x->first + k] = NULL;
    x->data = NULL;
    x->state = 0;
}

int na_reader_load_meta(newsarc_reader *r, int threads)
{
    if (r->meta_state == 1) return 0;
    if (r->meta_state == -1) return NEWSARC_E_CORRUPT;
    int rc = meta_dir(r);
    if (!rc) rc = na_reader_ddict(r);
    if (rc) return rc;
    uint32_t nf = r->meta_n_frames;
    meta_arena(r);
    int T = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    if ((uint32_t)T > nf) T = (int)nf;
    meta_job jobs[64];
    for (int t = 0; t < T; t++) jobs[t] = (meta_job){r, T, UINT32_MAX, 0, {0}};
    na_run_threads(T, meta_load_share, jobs);
    /* report the first failed frame, whatever the thread count */
    meta_job *worst = NULL;
    for (int t = 0; t < T; t++)
        if (jobs[t].rc && (!worst || jobs[t].bad < worst->bad)) worst = &jobs[t];
    for (uint32_t f = 0; !worst && f < nf; f++)
        if (r->mf[f].state != 1) { /* failed earlier, on the reader's thread */
            r->meta_state = -1;
            return NA_CORRUPT(r, "metadata frame %u is damaged", f);
        }
    if (worst) {
        r->meta_state = -1;
        return worst->rc == NEWSARC_E_CORRUPT ? NA_CORRUPT(r, "%s", worst->msg)
                                              : na_set_error(r->msg, worst->rc, "%s", worst->msg);
    }
    r->meta_state = 1;
    return 0;
}

int newsarc_reader_load_entries(newsarc_reader *r, int threads) { return na_reader_load_meta(r, threads); }

int na_reader_entry_at(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint32_t *article)
{
    if (i >= r->n_ents) return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no entry %llu", (unsigned long long)i);
    const uint8_t *p = r->ent[i];
    if (!p) return na_set_error(r->msg, NEWSARC_E_STATE, "internal: metadata frame of entry %llu not loaded",
                                (unsigned long long)i);
    na_entry_parse(p, e, article);
    return 0;
}

size_t na_entry_parse(const uint8_t *p, newsarc_entry *e, uint32_t *article)
{
    const uint8_t *start = p;
    memset(e, 0, sizeof *e);
    *article = na_ld32(p);
    e->flags = na_ld32(p + 4);
    e->name_len = na_ld32(p + 8);
    e->name = (const char *)p + 12;
    p += 12 + e->name_len;
    e->text_key_len = na_ld32(p);
    e->text_key = (const char *)p + 4;
    p += 4 + e->text_key_len;
    e->text_pos = na_ld32(p);
    e->meta_len = na_ld32(p + 4);
    e->meta = (const char *)p + 8;
    return (size_t)(p + 8 - start) + e->meta_len;
}

int newsarc_reader_entry(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint64_t *article_index)
{
    int rc = meta_dir(r);
    if (rc) return rc;
    if (i >= r->n_ents) return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no entry %llu", (unsigned long long)i);
    if (!r->ent[i] && (rc = meta_frame(r, meta_frame_of(r, i))) != 0) return rc;
    uint32_t art;
    rc = na_reader_entry_at(r, i, e, &art);
    if (!rc) *article_index = art;
    return rc;
}

const uint8_t *newsarc_reader_manifest(newsarc_reader *r, size_t *len)
{
    *len = r->mani_len;
    return r->mani_text;
}

const char *newsarc_reader_signature(newsarc_reader *r, size_t *len)
{
    *len = r->sign_len;
    return (const char *)r->sign_text;
}

int newsarc_reader_write_with_signature(newsarc_reader *r, const char *sig, size_t len, newsarc_write_fn out,
                                        void *out_ctx)
{
    if (len > NA_SIGN_TEXT_MAX) return na_set_error(r->msg, NEWSARC_E_LIMIT, "signature text longer than 1016 bytes");
    const na_toc_entry *slot = &r->mani.sec[NA_S_SIGN];
    uint8_t frame[NA_SIGN_FRAME];
    memset(frame, 0, sizeof frame);
    na_frame_header(frame, NA_SIGN_PAYLOAD, "SIGN");
    na_st32(frame + 12, (uint32_t)len);
    if (len) memcpy(frame + 16, sig, len);
    uint64_t tail = r->size - NA_FOOT_TAIL;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NA_HASH);
    /* [0, slot) unchanged, the new slot, then the footer up to its checksum */
    const uint8_t *parts[3] = {r->file, frame, r->file + slot->offset + slot->length};
    uint64_t lens[3] = {slot->offset, NA_SIGN_FRAME, tail - (slot->offset + slot->length)};
    for (int i = 0; i < 3; i++) {
        for (uint64_t at = 0; at < lens[i];) {
            size_t n = lens[i] - at > (1u << 20) ? (1u << 20) : (size_t)(lens[i] - at);
            crypto_generichash_update(&st, parts[i] + at, n);
            if (out(out_ctx, parts[i] + at, n) != 0) return na_set_error(r->msg, NEWSARC_E_IO, "write failed");
            at += n;
        }
    }
    uint8_t end[NA_FOOT_TAIL];
    crypto_generichash_final(&st, end, NA_HASH);
    memcpy(end + NA_HASH, r->file + tail + NA_HASH, NA_FOOT_TAIL - NA_HASH);
    if (out(out_ctx, end, sizeof end) != 0) return na_set_error(r->msg, NEWSARC_E_IO, "write failed");
    return 0;
}

/* ---- text information (optional section "attr") -------------------------------------- */

/* The attr section's frame (*f, *flen) and table size (*ts), checked (spec
 * 4.9): 0 (*f NULL when there is no attr section) or NEWSARC_E_CORRUPT. */
static int attr_frame(newsarc_reader *r, const uint8_t **f, size_t *flen, uint64_t *ts)
{
    const na_toc_entry *t = NULL;
    *f = NULL;
    for (uint32_t k = 0; k < r->n_opt; k++)
        if (!memcmp(r->opt_toc[k]->type, "attr", 4)) t = r->opt_toc[k];
    if (!t) return 0;
    const uint8_t *m = r->file + t->offset + 12;
    uint64_t ml = t->length - 12;
    if (ml < 12 || na_ld32(m) != 0) return NA_CORRUPT(r, "attr section header is malformed");
    *ts = na_ld64(m + 4);
    if (*ts < 12 || *ts > NA_MAX_META_TABLE || *ts > (ml - 12) * NA_MAX_EXPANSION)
        return NA_CORRUPT(r, "attr table size out of range");
    if (ZSTD_getFrameContentSize(m + 12, ml - 12) != *ts || ZSTD_findFrameCompressedSize(m + 12, ml - 12) != ml - 12)
        return NA_CORRUPT(r, "attr frame is malformed");
    *f = m + 12;
    *flen = (size_t)(ml - 12);
    return 0;
}

/* The table's head: counts, options and charset names (kept in
 * r->attr_names), from p[0, n) holding at least min(ATTR_HEAD_MAX, ts) of
 * the table's ts bytes; 0 with its length in *head, or an error (r->msg). */
#define ATTR_HEAD_MAX (12 + NA_MAX_CHARSETS * 48)
static int attr_head(newsarc_reader *r, const uint8_t *p, size_t n, uint64_t ts, size_t *head, uint32_t *nnames_out)
{
    const uint8_t *p0 = p, *end = p + n;
    uint32_t count = na_ld32(p), nnames = na_ld32(p + 8);
    r->attr_norm_options = na_ld32(p + 4);
    p += 12;
    if (count != r->n_arts) return NA_CORRUPT(r, "attr table does not describe every article");
    if (nnames > NA_MAX_CHARSETS) return NA_CORRUPT(r, "attr table lists too many charsets");
    for (uint32_t i = 1; i <= nnames; i++) {
        if (p >= end || (size_t)(end - p) < 1u + p[0]) return NA_CORRUPT(r, "attr charset names are truncated");
        uint8_t l = p[0];
        if (l == 0 || l >= 48) return NA_CORRUPT(r, "attr charset name has a bad length");
        for (uint8_t k = 0; k < l; k++)
            if (p[1 + k] <= 0x20 || p[1 + k] >= 0x7f) return NA_CORRUPT(r, "attr charset name is not printable ASCII");
        if (i > 1) { /* strictly increasing, bytewise: so distinct, and one table per set of names */
            size_t pl = strlen(r->attr_names[i - 1]);
            int c = memcmp(r->attr_names[i - 1], p + 1, pl < l ? pl : l);
            if (c > 0 || (c == 0 && pl >= l)) return NA_CORRUPT(r, "attr charset names are not sorted");
        }
        if (!r->attr_names[i] && !(r->attr_names[i] = malloc(48)))
            return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
        memcpy(r->attr_names[i], p + 1, l);
        r->attr_names[i][l] = 0;
        if (i > r->attr_n_names) r->attr_n_names = i;
        p += 1 + l;
    }
    *head = (size_t)(p - p0);
    if (ts - *head != (uint64_t)NA_ATTR_REC * count) return NA_CORRUPT(r, "attr table has the wrong size");
    *nnames_out = nnames;
    return 0;
}

/* Records first .. first + n - 1 at q; 0 or NEWSARC_E_CORRUPT (r->msg). */
static int attr_records(newsarc_reader *r, const uint8_t *q, uint32_t first, uint32_t n, uint32_t nnames)
{
    for (uint32_t i = first; i < first + n; i++, q += NA_ATTR_REC) {
        if ((q[0] & ~NA_ATTR_KNOWN) || q[1] > 9 || q[2] > 3 || q[3] > 100 || na_ld16(q + 8) > nnames ||
            na_ld16(q + 10) > nnames || na_ld16(q + 12) > nnames)
            return NA_CORRUPT(r, "attr record %u is malformed", i);
        if ((q[0] & NA_ATTR_NORM_IS_ID) &&
            (!(q[0] & NA_ATTR_NORM) || memcmp(q + 14, (const uint8_t[NA_NORM_ID]){0}, NA_NORM_ID) != 0))
            return NA_CORRUPT(r, "attr record %u: norm_id marked as the id's but set", i);
        for (int k = 0; k < 4; k++)
            if (q[4 + k] && !((q[4 + k] >= 'A' && q[4 + k] <= 'Z') || (q[4 + k] >= 'a' && q[4 + k] <= 'z')))
                return NA_CORRUPT(r, "attr record %u has a malformed script", i);
    }
    return 0;
}

static int attr_decompress_error(newsarc_reader *r, size_t rc)
{
    if (ZSTD_isError(rc) && ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation)
        return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    if (ZSTD_isError(rc) && ZSTD_getErrorCode(rc) == ZSTD_error_checksum_wrong)
        return NA_CORRUPT(r, "attr table is damaged (its content checksum does not match)");
    return NA_CORRUPT(r, "attr table does not decompress");
}

int na_reader_load_attr(newsarc_reader *r)
{
    if (r->attr_state == 1 || r->attr_state == 2) return 0;
    if (r->attr_state == -1) return NEWSARC_E_CORRUPT;
    uint64_t ts = 0;
    size_t flen = 0;
    const uint8_t *f;
    r->attr_state = -1;
    int rc = attr_frame(r, &f, &flen, &ts);
    if (rc) return rc;
    if (!f) {
        r->attr_state = 2;
        return 0;
    }
    r->attr = malloc((size_t)ts);
    if (!r->attr) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    size_t got = ZSTD_decompressDCtx(r->dctx, r->attr, (size_t)ts, f, flen);
    if (ZSTD_isError(got) || got != ts) return attr_decompress_error(r, got);
    uint32_t nnames;
    size_t head;
    if ((rc = attr_head(r, r->attr, (size_t)ts, ts, &head, &nnames)) != 0) return rc;
    if ((rc = attr_records(r, r->attr + head, 0, r->n_arts, nnames)) != 0) return rc;
    r->attr_recs = r->attr + head;
    r->attr_state = 1;
    return 0;
}

int na_reader_check_attr(newsarc_reader *r, ZSTD_DCtx *d)
{
    if (r->attr_state != 0) return na_reader_load_attr(r); /* loaded, absent or known bad already */
    uint64_t ts = 0;
    size_t flen = 0;
    const uint8_t *f;
    int rc = attr_frame(r, &f, &flen, &ts);
    if (rc || !f) return rc;
    /* the head first, then whole records, through a window of ATTR_HEAD_MAX + 128 KiB */
    enum { WIN = ATTR_HEAD_MAX + (128 << 10) };
    uint8_t *buf = malloc(WIN);
    if (!buf) return na_set_error(r->msg, NEWSARC_E_NOMEM, "out of memory");
    ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
    /* any window, as the one-shot decoder of na_reader_load_attr takes (zstd's
     * buffer is at most the table, which that path allocates whole) */
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZSTD_dParam_getBounds(ZSTD_d_windowLogMax).upperBound);
    ZSTD_inBuffer in = {f, flen, 0};
    uint64_t done = 0; /* table bytes decompressed */
    size_t have = 0, head = 0;
    uint32_t nnames = 0, next = 0;
    /* the first problem in the table's content is kept and the frame decoded
     * to its end: a frame that does not decode (checksum, damage) is what
     * na_reader_load_attr reports first, so it is reported first here too */
    int found = 0, saved = 0, head_done = 0;
    char found_msg[NA_ERRMSG];
    for (;;) {
        ZSTD_outBuffer out = {buf, WIN, have};
        size_t zr = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(zr) || (zr && in.pos == in.size && out.pos == have) || done + (out.pos - have) > ts) {
            rc = attr_decompress_error(r, zr);
            break;
        }
        done += out.pos - have;
        have = out.pos;
        size_t at = 0;
        if (!found && !head_done && (have >= ATTR_HEAD_MAX || done == ts)) {
            found = have < 12 ? NA_CORRUPT(r, "attr table has the wrong size") : attr_head(r, buf, have, ts, &head, &nnames);
            head_done = 1;
            at = head;
        }
        if (!found && head_done) {
            uint32_t n = (uint32_t)((have - at) / NA_ATTR_REC);
            found = attr_records(r, buf + at, next, n, nnames);
            next += n;
            at += (size_t)n * NA_ATTR_REC;
        }
        if (found) {
            if (!saved) snprintf(found_msg, sizeof found_msg, "%s", r->msg);
            saved = 1;
            at = have; /* from here on only decoded */
        }
        memmove(buf, buf + at, have - at);
        have -= at;
        if (!zr) { /* the frame ended (its checksum matched) */
            if (done != ts) rc = attr_decompress_error(r, zr);
            else if (found) rc = na_set_error(r->msg, found, "%s", found_msg);
            break;
        }
    }
    free(buf);
    return rc;
}

uint32_t newsarc_reader_norm_options(newsarc_reader *r)
{
    return na_reader_load_attr(r) == 0 && r->attr_state == 1 ? r->attr_norm_options : 0;
}

static const char *const attr_reasons[] = {"empty", "bom", "utf16/32", "ascii", "iso-2022", "utf-8",
                                           "declared", "hint", "detected", "fallback"};
static const char *const attr_decl[] = {"", "bom", "xml", "meta"};

int newsarc_reader_text_info(newsarc_reader *r, uint64_t index, newsarc_text_info *out)
{
    memset(out, 0, sizeof *out);
    out->declared = out->declared_by = out->detected = out->decoded_as = out->reason = "";
    int rc = na_reader_load_attr(r);
    if (rc) return rc;
    if (index >= r->n_arts) return na_set_error(r->msg, NEWSARC_E_NOTFOUND, "no article %llu", (unsigned long long)index);
    if (r->attr_state != 1) return 0;
    const uint8_t *q = r->attr_recs + (size_t)index * NA_ATTR_REC;
    if (!(q[0] & NA_ATTR_PRESENT)) return 0;
    out->present = 1;
    out->valid_utf8 = (q[0] & NA_ATTR_UTF8) != 0;
    out->clean = (q[0] & NA_ATTR_CLEAN) != 0;
    out->reason = attr_reasons[q[1]];
    out->declared_by = attr_decl[q[2]];
    out->confidence = q[3];
    uint16_t d = na_ld16(q + 8), t = na_ld16(q + 10), c = na_ld16(q + 12);
    out->declared = d ? r->attr_names[d] : "";
    out->detected = t ? r->attr_names[t] : "";
    out->decoded_as = c ? r->attr_names[c] : "";
    if (q[0] & NA_ATTR_NORM) {
        memcpy(out->script, q + 4, 4);
        out->has_norm_id = 1;
        if (q[0] & NA_ATTR_NORM_IS_ID) memcpy(out->norm_id, na_reader_id(r, index), NA_NORM_ID);
        else memcpy(out->norm_id, q + 14, NA_NORM_ID);
    }
    return 0;
}
