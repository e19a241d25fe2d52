/* reader.h - the reader handle, shared by reader.c and verify.c.  Not API. */
#ifndef NEWSARC_READER_H
#define NEWSARC_READER_H

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <zstd.h>

/* Record where a corruption check fired (like SQLite's CORRUPT_BKPT). */
#define NA_CORRUPT(r, ...) na_corrupt_at((r), __FILE__, __LINE__, __VA_ARGS__)

typedef struct na_meta_frame {
    uint64_t src;         /* offset of the zstd frame in the META payload */
    uint64_t first;       /* index of its first entry */
    uint64_t name;        /* offset of its first name in the META payload */
    uint64_t uoff;        /* offset of its records in the whole table (sum of the earlier usize) */
    uint32_t csize, usize, entries, name_len;
    uint8_t *data;        /* decompressed records, NULL until loaded */
    int own;              /* data is its own allocation (else inside meta_arena) */
    int state;            /* 0 not loaded, 1 ok, -1 failed */
} na_meta_frame;

struct newsarc_reader {
    const uint8_t *file;
    uint64_t size;
    int mapped;
    na_footer foot;
    const na_toc_entry *opt_toc[NA_MAX_SECTIONS]; /* optional sections, TOC order */
    uint32_t n_opt;
    na_manifest mani;
    const uint8_t *mani_text;
    size_t mani_len;
    uint16_t major, minor;
    const uint8_t *dict_frame; /* DICT body: the dictionary in one zstd frame, or empty */
    size_t dict_frame_len;
    uint8_t *dict;             /* the dictionary, decompressed on first use */
    size_t dict_len;           /* its size, the manifest's dictionary-size */
    int dict_state;            /* 0 not loaded, 1 ok, -1 damaged */
    const uint8_t *blocks_tab, *ids_tab;
    uint32_t n_blocks, n_arts;
    /* INDX locations (spec 4.5): chunks of NA_LOC_CHUNK, decoded on first use */
    const uint8_t *loc_frames;  /* the chunk frames, back to back */
    uint64_t *loc_src;          /* per chunk: offset of its frame in loc_frames; one more: the end */
    uint32_t n_loc_chunks;
    uint32_t (**loc_rows)[3];   /* per chunk: block, offset, length of its articles, set before its state becomes 1 */
    _Atomic signed char *loc_state; /* per chunk: 0 not decoded, 1 ok, -1 damaged */
    pthread_mutex_t loc_mu;     /* held while a chunk is decoded */
    int loc_mu_ok;
    ZSTD_DCtx *loc_dctx;
    uint64_t blks_off, blks_end;
    /* META (spec 4.4): header read at open, directory on first use */
    const uint8_t *meta_payload; /* after the type */
    uint64_t meta_payload_len;
    uint64_t meta_table_size;
    uint32_t meta_n_frames;
    const uint8_t *sign_text;
    size_t sign_len;
    /* lazily built */
    ZSTD_DCtx *dctx;
    ZSTD_DDict *ddict;
    na_meta_frame *mf;     /* per META frame, from the directory */
    const uint8_t **ent;   /* per entry: its record, NULL until its frame is loaded */
    uint8_t *meta_arena;   /* the whole table, when every frame is loaded at once (mmap) */
    size_t meta_arena_len;
    uint64_t n_ents;       /* entry count, set with the directory */
    int meta_dir_state;    /* 0 not read, 1 ok, -1 failed */
    int meta_state;        /* 1 every frame loaded, -1 a frame failed */
    uint8_t *blk_cache;    /* last decompressed block */
    uint32_t blk_cache_id;
    size_t blk_cache_len;
    int blk_cache_valid;
    /* optional "attr" section (text information), decoded on first use */
    const uint8_t *attr_frame;
    size_t attr_frame_len;
    uint64_t attr_table_size;
    int attr_state;          /* 0 not loaded, 1 ok, -1 malformed, 2 absent */
    uint8_t *attr;           /* decompressed table */
    const uint8_t *attr_recs;
    uint32_t attr_norm_options;
    char *attr_names[NA_MAX_CHARSETS + 1];
    uint32_t attr_n_names;
    char msg[NA_ERRMSG];
};

int na_reader_load_attr(newsarc_reader *r);
/* The same checks and messages as na_reader_load_attr without keeping the
 * table (verify): decompressed through a window of about 180 KiB with d, plus
 * zstd's own window buffer in d (at most the table: 2 MiB at level 3). */
int na_reader_check_attr(newsarc_reader *r, ZSTD_DCtx *d);

int na_corrupt_at(newsarc_reader *r, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Bounds-checked access to the tables. */
int na_reader_block(newsarc_reader *r, uint32_t b, na_block_rec *out);
int na_reader_article_rec(newsarc_reader *r, uint64_t i, na_article_rec *out);
/* Article i's location (block, offset, length), its chunk decoded and
 * checked on first use; safe on any thread (msg is the caller's, and dctx,
 * if not NULL, a decompression context only the calling thread uses; NULL:
 * the reader's own one for chunks, under its lock).  The block, offset and
 * length are not checked against the block table. */
int na_reader_loc(newsarc_reader *r, uint64_t i, uint32_t loc[3], char msg[NA_ERRMSG], ZSTD_DCtx *dctx);
/* Decode location chunk k now (verify reports each damaged chunk). */
int na_reader_loc_chunk(newsarc_reader *r, uint32_t k, char msg[NA_ERRMSG], ZSTD_DCtx *dctx);
/* Article i's location, its chunk known to be decoded (state 1). */
static inline void na_reader_loc_known(const newsarc_reader *r, uint64_t i, uint32_t loc[3])
{
    const uint32_t *l = r->loc_rows[i / NA_LOC_CHUNK][i % NA_LOC_CHUNK];
    loc[0] = l[0];
    loc[1] = l[1];
    loc[2] = l[2];
}
/* Prefetch article i's location row when its chunk is decoded. */
static inline void na_reader_prefetch_loc(const newsarc_reader *r, uint64_t i)
{
    uint64_t k = i / NA_LOC_CHUNK;
    if (i < r->n_arts && atomic_load_explicit(&r->loc_state[k], memory_order_acquire) == 1)
        __builtin_prefetch(r->loc_rows[k][i % NA_LOC_CHUNK]);
}
/* Article i's id (i < n_arts). */
static inline const uint8_t *na_reader_id(const newsarc_reader *r, uint64_t i) { return r->ids_tab + (size_t)i * NA_ID_REC; }
/* Every META frame, decompressed and checked (U4) on `threads` threads. */
int na_reader_load_meta(newsarc_reader *r, int threads);
/*
 * Streaming use of META (verify): the directory and dictionary, then one
 * frame at a time into a caller's buffer (capacity mf[f].usize), checked as
 * na_reader_load_meta checks it; its entries can be read with
 * na_reader_entry_at until na_reader_meta_unload(r, f), which is only for
 * frames loaded this way.  Different frames may be loaded on different
 * threads.  A frame that fails stays failed.
 */
int na_reader_meta_dir(newsarc_reader *r);
int na_reader_meta_frame_into(newsarc_reader *r, uint32_t f, ZSTD_DCtx *dctx, uint8_t *buf, char msg[NA_ERRMSG]);
void na_reader_meta_unload(newsarc_reader *r, uint32_t f);
/* Decompress block b into dst (capacity usize); uses dctx (may be per-thread). */
int na_reader_decompress(newsarc_reader *r, ZSTD_DCtx *dctx, const na_block_rec *b, uint8_t *dst, char *msg,
                         size_t msgcap);
int na_reader_ddict(newsarc_reader *r);
/* Parse entry i; its frame must be loaded (na_reader_load_meta).  Reads only: safe from several threads. */
int na_reader_entry_at(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint32_t *article);
/* Parse the entry record at p (already checked at load); returns the record's length. */
size_t na_entry_parse(const uint8_t *p, newsarc_entry *e, uint32_t *article);

#endif
