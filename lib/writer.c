/*
 * writer.c - build a newsarc archive in two passes and stream it in one.
 *
 * Pass 1 (newsarc_writer_add*): hash every article, keep only its id, size,
 * locator and the entry's name/metadata.  Pass 2 (finish): dedupe by id,
 * sort everything into the canonical order, train the dictionary on a
 * deterministic sample, fetch articles again in placement order, compress
 * blocks (in parallel; output does not depend on thread count) and stream
 * the sections HEAD DICT BLKS META INDX MANI SIGN FOOT.
 */
#define ZDICT_STATIC_LINKING_ONLY
#include "internal.h"
#include "similarity.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zdict.h>
/* ZSTD_getCParams and ZSTD_createCDict_advanced: a dictionary's tables sized
 * for the frames it compresses (see frame_cdict) */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define DEFAULT_LEVEL 3
#define DEFAULT_BLOCK (128u * 1024u)
#define DEFAULT_DICT (110u * 1024u)
#define MAX_BLOCK_OPT (64u << 20)
#define SAMPLE_CAP (128u * 1024u) /* bytes taken from one article for training */
#define EVAL_BUDGET (2u << 20)     /* bytes of evaluation blocks for choosing the dictionary */
#define TRAIN_FACTOR 32            /* training sample = 32 x the dictionary size */
#define BATCH_PER_THREAD 8          /* blocks in flight per compression thread (the ring of write_blocks) */
#define DEFAULT_META_MEMORY (64u << 20)
#define META_IN_FILE (UINT64_C(1) << 63) /* a metadata offset in the spill file */
#define KEY_REC 6                        /* placement key record: entry u32, length u16, then the key */
#define KEY_RUN_MIN (1u << 20)           /* bytes of keys per run: meta_memory / 4 within these */
#define KEY_RUN_MAX (1u << 30)

enum { KIND_RAW = 0, KIND_JSON = 1 };

typedef struct build build; /* the state of newsarc_writer_finish */

typedef struct w_article {
    uint8_t id[NA_HASH];
    uint64_t check;         /* na_check64 of the article: pass 2 compares it to what it reads again */
    uint64_t locator;       /* fetch locator, or the writer's own copy when there is no fetch callback */
    uint32_t size;          /* article bytes (<= 1 GiB) */
    uint32_t src_len;       /* bytes to fetch (the line for JSON) */
    uint32_t place_ent;     /* entry giving the placement key (set in finish) */
    uint16_t key;           /* KIND_JSON: interned text member name */
    uint8_t kind;
    uint8_t has_sig;        /* long enough for a MinHash signature */
    /* the band keys are needed only until clustering copied them; the
     * placement fields are filled after that: they share the memory
     * (80 bytes per article in all, see spec/BENCHMARKS.md "memory") */
    union {
        uint64_t band[NA_LSH_BANDS]; /* MinHash band keys (pass 1 .. clustering) */
        struct {
            uint32_t cluster;       /* uniq position of the cluster's representative */
            uint32_t block, offset; /* placement, filled while planning blocks */
        } at;
    } u;
} w_article;

typedef struct w_sample {
    uint8_t id[NA_HASH];
    uint8_t *data;
    size_t len;
} w_sample;

typedef struct w_entry {
    uint64_t name_off; /* arena offset of the name */
    uint64_t meta;     /* the metadata: META_IN_FILE | offset << META_LEN_BITS | length */
    uint32_t article;  /* raw article record, then unique article index */
    uint32_t key_pos;
    uint32_t rank;     /* of the placement key among all entries' keys (set in finish) */
    uint32_t grp;      /* source group of the placement key (set in finish) */
    uint16_t name_len; /* 0: nameless (<= NA_MAX_NAME) */
    uint16_t key;      /* interned text member name, 0 = none */
    uint8_t flags;
} w_entry;

#define META_LEN_BITS 25
#define META_OFF_LIMIT (UINT64_C(1) << (63 - META_LEN_BITS)) /* 256 GiB of metadata */
_Static_assert(NA_MAX_NAME <= UINT16_MAX, "w_entry.name_len");
_Static_assert(NA_MAX_META < (1u << META_LEN_BITS), "w_entry.meta");

static inline uint32_t ent_meta_len(const w_entry *e) { return (uint32_t)(e->meta & ((1u << META_LEN_BITS) - 1)); }
/* the offset as meta_add gave it (META_IN_FILE kept) */
static inline uint64_t ent_meta_off(const w_entry *e)
{
    return (e->meta & META_IN_FILE) | ((e->meta & ~META_IN_FILE) >> META_LEN_BITS);
}

struct newsarc_writer {
    void *batch_mem;  /* add_json_batch's per-line slots, kept between batches (no mmap/munmap per batch) */
    size_t batch_cap; /* slots in batch_mem */
    na_arena *batch_arena; /* per chunk of a batch: what its lines' splitting returns, kept between batches */
    size_t batch_arenas;
    newsarc_writer_options opt;
    newsarc_fetch_fn fetch;
    newsarc_fetch_many_fn fetch_many;
    void *fetch_ctx;
    /* names, metadata, placement keys: append-only chunks that never move
     * (no realloc copies of a growing buffer at peak memory) */
    uint8_t **chunks;
    size_t n_chunks, cap_chunks, chunk_used;
    w_article *arts;
    size_t n_arts, cap_arts;
    w_entry *ents;
    size_t n_ents, cap_ents;
    /* dictionary sample: the articles with the smallest ids that fit the
     * budget (a bottom-k sketch), so it depends only on the article set */
    struct w_sample *samp; /* max-heap by id */
    size_t n_samp, cap_samp;
    uint64_t samp_bytes, samp_budget;
    uint8_t samp_cutoff[NA_HASH]; /* ids >= this are never sampled */
    char *keys[NA_MAX_KEYS + 1]; /* interned text member names, [0] = "" */
    uint16_t n_keys;
    /* charset names of the attr section, interned from the worker threads */
    pthread_mutex_t cs_lock;
    char *charsets[NA_MAX_CHARSETS + 1];
    uint16_t n_charsets;
    /* placement keys: records (entry u32, length u16, bytes), a run of at
     * most key_budget bytes in memory, full runs sorted in the spill file */
    na_buf krun;
    uint32_t *krun_at; /* record offsets in krun */
    size_t n_krun, cap_krun;
    struct key_run *runs;
    size_t n_runs, cap_runs;
    uint64_t key_budget;
    /* metadata beyond opt.meta_memory bytes: appended to an unlinked temp file;
     * meta_file_len counts spill_pend, the last bytes, not written yet */
    int meta_fd;
    uint64_t meta_mem, meta_file_len;
    na_buf spill_pend;
    int finished;
    uint8_t archive_id[NA_HASH];
    char msg[NA_ERRMSG];
};

/* ---- options, handle ------------------------------------------------------ */

newsarc_writer *newsarc_writer_new(const newsarc_writer_options *opt)
{
    if (na_init() != 0) return NULL;
    newsarc_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (opt) w->opt = *opt;
    if (w->opt.level == 0) w->opt.level = DEFAULT_LEVEL;
    if (w->opt.threads <= 0) w->opt.threads = 1;
    if (w->opt.threads > 256) w->opt.threads = 256;
    if (w->opt.block_size == 0) w->opt.block_size = DEFAULT_BLOCK;
    if (w->opt.level < 1 || w->opt.level > ZSTD_maxCLevel()) w->opt.level = 0; /* refused at finish */
    uint64_t d = w->opt.dict_size == 0 ? DEFAULT_DICT : w->opt.dict_size == UINT32_MAX ? 0 : w->opt.dict_size;
    w->samp_budget = d ? d * TRAIN_FACTOR + EVAL_BUDGET : 0;
    memset(w->samp_cutoff, 0xff, NA_HASH);
    if (w->opt.meta_memory == 0) w->opt.meta_memory = DEFAULT_META_MEMORY;
    w->key_budget = w->opt.meta_memory / 4;
    if (w->key_budget < KEY_RUN_MIN) w->key_budget = KEY_RUN_MIN;
    if (w->key_budget > KEY_RUN_MAX) w->key_budget = KEY_RUN_MAX;
    w->meta_fd = -1;
    pthread_mutex_init(&w->cs_lock, NULL);
    return w;
}

void newsarc_writer_free(newsarc_writer *w)
{
    if (!w) return;
    free(w->batch_mem);
    for (size_t i = 0; i < w->batch_arenas; i++) na_arena_free(&w->batch_arena[i]);
    free(w->batch_arena);
    for (size_t i = 0; !w->fetch && i < w->n_arts; i++) free((void *)(uintptr_t)w->arts[i].locator);
    for (size_t i = 0; i < w->n_chunks; i++) free(w->chunks[i]);
    free(w->chunks);
    for (size_t i = 0; i < w->n_samp; i++) free(w->samp[i].data);
    for (size_t i = 1; i <= w->n_keys; i++) free(w->keys[i]);
    for (size_t i = 1; i <= w->n_charsets; i++) free(w->charsets[i]);
    pthread_mutex_destroy(&w->cs_lock);
    if (w->meta_fd >= 0) close(w->meta_fd);
    na_buf_free(&w->spill_pend);
    free(w->samp);
    free(w->arts);
    free(w->ents);
    na_buf_free(&w->krun);
    free(w->krun_at);
    free(w->runs);
    free(w);
}

const char *newsarc_writer_error(const newsarc_writer *w) { return w ? w->msg : "out of memory"; }

size_t newsarc_writer_entry_count(const newsarc_writer *w) { return w->n_ents; }

int newsarc_writer_set_fetch(newsarc_writer *w, newsarc_fetch_fn fetch, void *ctx)
{
    if (w->n_ents) return na_set_error(w->msg, NEWSARC_E_STATE, "set the fetch callback before adding entries");
    w->fetch = fetch;
    w->fetch_ctx = ctx;
    return 0;
}

int newsarc_writer_set_fetch_many(newsarc_writer *w, newsarc_fetch_many_fn fetch_many)
{
    if (!w->fetch) return na_set_error(w->msg, NEWSARC_E_STATE, "set the fetch callback first");
    w->fetch_many = fetch_many;
    return 0;
}

int newsarc_writer_archive_id(const newsarc_writer *w, uint8_t id[NEWSARC_ID_SIZE])
{
    if (w->finished != 2) return NEWSARC_E_STATE;
    memcpy(id, w->archive_id, NA_HASH);
    return 0;
}

/* ---- pass 1 ------------------------------------------------------------------ */

#define CHUNK_BITS 25 /* 32 MiB: larger than any item (metadata <= 16 MiB, names <= 4 KiB) */
#define CHUNK_SIZE ((size_t)1 << CHUNK_BITS)

static int grow(void **arr, size_t *cap, size_t n, size_t elem);

/* Store n bytes; *off = chunk << CHUNK_BITS | offset.  Items never straddle chunks. */
static int arena_add(newsarc_writer *w, const void *p, size_t n, uint64_t *off)
{
    if (n == 0) {
        *off = 0;
        return 0;
    }
    if (n > CHUNK_SIZE) return NEWSARC_E_LIMIT;
    if (w->n_chunks == 0 || w->chunk_used + n > CHUNK_SIZE) {
        if (grow((void **)&w->chunks, &w->cap_chunks, w->n_chunks, sizeof *w->chunks) != 0) return NEWSARC_E_NOMEM;
        uint8_t *c = malloc(CHUNK_SIZE);
        if (!c) return NEWSARC_E_NOMEM;
        w->chunks[w->n_chunks++] = c;
        w->chunk_used = 0;
    }
    *off = ((uint64_t)(w->n_chunks - 1) << CHUNK_BITS) | w->chunk_used;
    memcpy(w->chunks[w->n_chunks - 1] + w->chunk_used, p, n);
    w->chunk_used += n;
    return 0;
}

static inline const uint8_t *arena_at(const newsarc_writer *w, uint64_t off)
{
    return w->n_chunks ? w->chunks[off >> CHUNK_BITS] + (off & (CHUNK_SIZE - 1)) : (const uint8_t *)"";
}

/*
 * The spill file: one unlinked temporary file, append-only, for what would
 * otherwise grow memory with the input (metadata beyond opt.meta_memory,
 * then the compressed META frames).
 */
static int spill_open(newsarc_writer *w)
{
    if (w->meta_fd >= 0) return 0;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/newsarc-meta-XXXXXX", dir) >= (int)sizeof path)
        return na_set_error(w->msg, NEWSARC_E_IO, "TMPDIR is too long");
    int fd = mkstemp(path);
    if (fd >= 0) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fd < 0)
        return na_set_error(w->msg, NEWSARC_E_IO, "cannot create a temporary file for metadata in '%s': %s", dir,
                            strerror(errno));
    unlink(path);
    w->meta_fd = fd;
    return 0;
}

/* Write p[0, n) at off of the spill file. */
static int spill_pwrite(newsarc_writer *w, const void *p, size_t n, uint64_t off)
{
    const uint8_t *c = p;
    for (size_t done = 0; done < n;) {
        ssize_t k = pwrite(w->meta_fd, c + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            return na_set_error(w->msg, NEWSARC_E_IO, "cannot write metadata to the temporary file: %s",
                                k < 0 ? strerror(errno) : "no space");
        done += (size_t)k;
    }
    return 0;
}

/* Write out the bytes spill_append held back. */
static int spill_sync(newsarc_writer *w)
{
    if (!w->spill_pend.len) return 0;
    int rc = spill_pwrite(w, w->spill_pend.data, w->spill_pend.len, w->meta_file_len - w->spill_pend.len);
    w->spill_pend.len = 0;
    return rc;
}

/* Append n bytes to the spill file; *off is where they are. */
static int spill_write(newsarc_writer *w, const void *p, size_t n, uint64_t *off)
{
    int rc = spill_open(w);
    if (!rc) rc = spill_sync(w);
    if (!rc) rc = spill_pwrite(w, p, n, w->meta_file_len);
    if (rc) return rc;
    *off = w->meta_file_len;
    w->meta_file_len += n;
    return 0;
}

/*
 * The same for many small pieces (pass 1's metadata, one entry's at a time,
 * on the thread that adds articles in order): gathered into writes of
 * SPILL_PEND bytes, one system call per entry having been most of that
 * thread's time on a large feed.  finish() writes the rest out before
 * anything reads the file from other threads.
 */
#define SPILL_PEND (1u << 20)

static int spill_append(newsarc_writer *w, const void *p, size_t n, uint64_t *off)
{
    if (n >= SPILL_PEND) return spill_write(w, p, n, off);
    int rc = spill_open(w);
    if (!rc && w->spill_pend.len + n > SPILL_PEND) rc = spill_sync(w);
    if (!rc && na_buf_append(&w->spill_pend, p, n) != 0) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    if (rc) return rc;
    *off = w->meta_file_len;
    w->meta_file_len += n;
    return 0;
}

/* Read n bytes at off of the spill file into dst: 0, or -1 on a read error.
 * Only in finish(), which first writes out what spill_append held back. */
static int spill_read(const newsarc_writer *w, uint64_t off, void *dst, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(w->meta_fd, (uint8_t *)dst + done, n - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        done += (size_t)k;
    }
    return 0;
}

/*
 * Metadata: in the arena up to opt.meta_memory bytes, then in the spill
 * file (metadata is read once more, when META is built, and for the rare
 * ties of the canonical entry order), so memory does not grow with it.
 */
static int meta_add(newsarc_writer *w, const void *p, size_t n, uint64_t *off)
{
    if (n == 0) {
        *off = 0;
        return 0;
    }
    if (w->meta_fd < 0 && n <= w->opt.meta_memory - w->meta_mem && w->meta_mem <= w->opt.meta_memory) {
        int rc = arena_add(w, p, n, off);
        if (rc) return na_set_error(w->msg, rc, "out of memory");
        w->meta_mem += n;
        return 0;
    }
    int rc = spill_append(w, p, n, off);
    *off |= META_IN_FILE;
    return rc;
}

/* The metadata bytes of an entry: in the arena, or read into scratch.  NULL on a read error. */
static const uint8_t *meta_at(const newsarc_writer *w, uint64_t off, uint32_t len, na_buf *scratch)
{
    if (!(off & META_IN_FILE)) return arena_at(w, off);
    scratch->len = 0;
    if (na_buf_reserve(scratch, len ? len : 1) != 0) return NULL;
    return spill_read(w, off & ~META_IN_FILE, scratch->data, len) == 0 ? scratch->data : NULL;
}

/*
 * Bytes produced before they can be written (the compressed META frames,
 * built before the blocks): in memory up to a budget, then in the spill file.
 */
typedef struct spool {
    na_buf mem;
    uint64_t file_off, file_len; /* the part in the spill file, after mem */
    int in_file;
} spool;

static int spool_add(newsarc_writer *w, spool *s, const void *p, size_t n, uint64_t budget)
{
    uint64_t off;
    if (!s->in_file && s->mem.len + n <= budget)
        return na_buf_append(&s->mem, p, n) ? na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory") : 0;
    if (!s->in_file) { /* over budget: from here on everything goes to the file */
        int rc = spill_write(w, s->mem.data, s->mem.len, &s->file_off);
        if (rc) return rc;
        s->file_len = s->mem.len;
        na_buf_free(&s->mem);
        s->in_file = 1;
    }
    int rc = spill_write(w, p, n, &off);
    s->file_len += n;
    return rc;
}

static uint64_t spool_len(const spool *s) { return s->in_file ? s->file_len : s->mem.len; }

/* ---- placement keys ----------------------------------------------------------------------------------- */

/*
 * Every entry has a placement key (its name, or the url of a nameless JSON
 * entry), but the placement order needs only the order of the keys.  They
 * are kept as records in a run of at most key_budget bytes; a full run is
 * sorted and appended to the spill file.  finish() merges the runs and gives
 * every entry the rank of its key (equal keys, equal ranks) and the number of
 * its source (charset hints): 8 bytes per entry in memory instead of the key
 * (spec/BENCHMARKS.md "memory").
 */
typedef struct key_run {
    uint64_t off, len;
} key_run;

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
static void source_of(const uint8_t *k, size_t n, const uint8_t **src, uint32_t *len);

static _Thread_local const uint8_t *g_krun;

/* Key records by (key bytes, entry): a total order. */
static int cmp_key_rec(const uint8_t *a, const uint8_t *b)
{
    int c = cmp_bytes(a + KEY_REC, na_ld16(a + 4), b + KEY_REC, na_ld16(b + 4));
    if (c) return c;
    uint32_t x = na_ld32(a), y = na_ld32(b);
    return (x > y) - (x < y);
}

static int cmp_krun_at(const void *x, const void *y)
{
    return cmp_key_rec(g_krun + *(const uint32_t *)x, g_krun + *(const uint32_t *)y);
}

static void sort_run(newsarc_writer *w)
{
    /* the same order by comparisons when the faster sort has no memory */
    if (na_sort_key_recs(w->krun.data, w->krun_at, w->n_krun) == 0) return;
    g_krun = w->krun.data;
    qsort(w->krun_at, w->n_krun, sizeof *w->krun_at, cmp_krun_at);
}

/* Sort the run in memory and append it to the spill file. */
static int key_flush(newsarc_writer *w)
{
    if (w->n_krun == 0) return 0;
    if (grow((void **)&w->runs, &w->cap_runs, w->n_runs, sizeof *w->runs) != 0)
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    sort_run(w);
    size_t cap = 1u << 20, n = 0;
    uint8_t *stage = malloc(cap);
    if (!stage) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    key_run r = {0, 0};
    uint64_t off;
    int rc = 0;
    for (size_t i = 0; i <= w->n_krun && !rc; i++) {
        const uint8_t *rec = i < w->n_krun ? w->krun.data + w->krun_at[i] : NULL;
        size_t rl = rec ? KEY_REC + (size_t)na_ld16(rec + 4) : 0;
        if (n && (!rec || n + rl > cap)) {
            rc = spill_write(w, stage, n, &off);
            if (r.len == 0) r.off = off;
            r.len += n;
            n = 0;
        }
        if (rec) {
            memcpy(stage + n, rec, rl);
            n += rl;
        }
    }
    free(stage);
    if (rc) return rc;
    w->runs[w->n_runs++] = r;
    w->krun.len = 0;
    w->n_krun = 0;
    return 0;
}

static int key_add(newsarc_writer *w, uint32_t ent, const void *p, size_t n)
{
    if (w->n_krun && w->krun.len + KEY_REC + n > w->key_budget) {
        int rc = key_flush(w);
        if (rc) return rc;
    }
    if (grow((void **)&w->krun_at, &w->cap_krun, w->n_krun, sizeof *w->krun_at) != 0 ||
        na_buf_reserve(&w->krun, KEY_REC + n) != 0)
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    uint8_t *r = w->krun.data + w->krun.len;
    na_st32(r, ent);
    na_st16(r + 4, (uint16_t)n);
    if (n) memcpy(r + KEY_REC, p, n);
    w->krun_at[w->n_krun++] = (uint32_t)w->krun.len;
    w->krun.len += KEY_REC + n;
    return 0;
}

/* Ranks and source groups from the keys in sorted order. */
typedef struct src_slot {
    uint64_t hash, off;
    uint32_t len, grp; /* grp 0: empty slot, else group + 1 */
} src_slot;

typedef struct ranker {
    newsarc_writer *w;
    uint32_t rank, grp, n_grp;
    int started;
    uint8_t prev[NA_MAX_NAME];
    size_t prev_len;
    src_slot *slot; /* open addressing, a power of two */
    size_t cap, used;
    na_buf bytes; /* the sources */
} ranker;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

/* The group of a source, numbered in order of first appearance. */
static int source_group(ranker *k, const uint8_t *src, uint32_t len, uint32_t *grp)
{
    if (2 * (k->used + 1) > k->cap) {
        size_t nc = k->cap ? 2 * k->cap : 1024;
        src_slot *ns = calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < k->cap; i++) {
            if (!k->slot[i].grp) continue;
            size_t j = k->slot[i].hash & (nc - 1);
            while (ns[j].grp) j = (j + 1) & (nc - 1);
            ns[j] = k->slot[i];
        }
        free(k->slot);
        k->slot = ns;
        k->cap = nc;
    }
    uint64_t h = fnv1a(src, len);
    size_t j = h & (k->cap - 1);
    for (; k->slot[j].grp; j = (j + 1) & (k->cap - 1)) {
        const src_slot *s = &k->slot[j];
        if (s->hash == h && s->len == len && (!len || !memcmp(k->bytes.data + s->off, src, len))) {
            *grp = s->grp - 1;
            return 0;
        }
    }
    if (k->n_grp == UINT32_MAX - 1 || na_buf_append(&k->bytes, src, len) != 0) return -1;
    k->slot[j] = (src_slot){h, k->bytes.len - len, len, ++k->n_grp};
    k->used++;
    *grp = k->n_grp - 1;
    return 0;
}

static int rank_one(ranker *k, const uint8_t *rec)
{
    newsarc_writer *w = k->w;
    uint32_t ent = na_ld32(rec);
    size_t n = na_ld16(rec + 4);
    const uint8_t *key = rec + KEY_REC;
    if (ent >= w->n_ents || n > NA_MAX_NAME)
        return na_set_error(w->msg, NEWSARC_E_IO, "the temporary file of placement keys reads back wrong");
    if (!k->started || cmp_bytes(key, n, k->prev, k->prev_len) != 0) {
        if (k->started) k->rank++;
        k->started = 1;
        memcpy(k->prev, key, n);
        k->prev_len = n;
        const uint8_t *src;
        uint32_t sl;
        source_of(key, n, &src, &sl);
        if (source_group(k, src, sl, &k->grp) != 0) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    w->ents[ent].rank = k->rank;
    w->ents[ent].grp = k->grp;
    return 0;
}

/* A run being merged: the current record is whole at buf + at. */
typedef struct kcur {
    uint64_t pos, end; /* unread part of the run in the spill file */
    uint8_t *buf;
    size_t at, have;
} kcur;

#define KCUR_BUF (64u << 10) /* > the largest record */

/* 1: a record is ready; 0: the run is done; -1: read error or a cut record. */
static int kcur_fill(const newsarc_writer *w, kcur *c)
{
    size_t need = KEY_REC;
    for (int pass = 0; pass < 2; pass++) {
        if (c->have - c->at < need) {
            memmove(c->buf, c->buf + c->at, c->have - c->at);
            c->have -= c->at;
            c->at = 0;
            uint64_t k = KCUR_BUF - c->have;
            if (k > c->end - c->pos) k = c->end - c->pos;
            if (k && spill_read(w, c->pos, c->buf + c->have, (size_t)k) != 0) return -1;
            c->pos += k;
            c->have += (size_t)k;
            if (c->have - c->at < need) return pass == 0 && c->have == 0 ? 0 : -1;
        }
        need = KEY_REC + (size_t)na_ld16(c->buf + c->at + 4);
    }
    return 1;
}

static int kcur_less(const kcur *c, uint32_t a, uint32_t b)
{
    return cmp_key_rec(c[a].buf + c[a].at, c[b].buf + c[b].at) < 0;
}

static void heap_down(const kcur *c, uint32_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && kcur_less(c, h[l], h[m])) m = l;
        if (r < n && kcur_less(c, h[r], h[m])) m = r;
        if (m == i) return;
        uint32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Merge the runs (k-way, a heap of cursors) into rank_one. */
static int merge_runs(newsarc_writer *w, ranker *k)
{
    size_t n = w->n_runs;
    kcur *c = calloc(n, sizeof *c);
    uint32_t *h = malloc(sizeof *h * n);
    int rc = c && h ? 0 : na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    size_t live = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        c[i] = (kcur){w->runs[i].off, w->runs[i].off + w->runs[i].len, malloc(KCUR_BUF), 0, 0};
        int f = c[i].buf ? kcur_fill(w, &c[i]) : -2;
        if (f == -2) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        else if (f < 0) rc = na_set_error(w->msg, NEWSARC_E_IO, "cannot read the temporary file back");
        else if (f) h[live++] = (uint32_t)i;
    }
    for (size_t i = live / 2; i-- > 0 && !rc;) heap_down(c, h, live, i);
    while (live && !rc) {
        kcur *t = &c[h[0]];
        const uint8_t *rec = t->buf + t->at;
        rc = rank_one(k, rec);
        t->at += KEY_REC + (size_t)na_ld16(rec + 4);
        int f = rc ? 1 : kcur_fill(w, t);
        if (f < 0) rc = na_set_error(w->msg, NEWSARC_E_IO, "cannot read the temporary file back");
        else if (f == 0) h[0] = h[--live];
        heap_down(c, h, live, 0);
    }
    for (size_t i = 0; c && i < n; i++) free(c[i].buf);
    free(c);
    free(h);
    return rc;
}

/* The in-memory run and the list of runs. */
static void release_keys(newsarc_writer *w)
{
    na_buf_free(&w->krun);
    free(w->krun_at);
    w->krun_at = NULL;
    w->n_krun = w->cap_krun = 0;
    free(w->runs);
    w->runs = NULL;
    w->n_runs = w->cap_runs = 0;
}

/* Give every entry the rank of its placement key and its source group; frees the keys. */
static int key_rank(newsarc_writer *w)
{
    ranker *k = calloc(1, sizeof *k);
    if (!k) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    k->w = w;
    int rc = 0;
    if (w->n_runs == 0) { /* one run, still in memory */
        sort_run(w);
        for (size_t i = 0; i < w->n_krun && !rc; i++) rc = rank_one(k, w->krun.data + w->krun_at[i]);
    } else {
        rc = key_flush(w);
        /* the run buffer is not needed for the merge: freed first */
        na_buf_free(&w->krun);
        if (!rc) rc = merge_runs(w, k);
    }
    release_keys(w);
    free(k->slot);
    na_buf_free(&k->bytes);
    free(k);
    return rc;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap + *cap / 2 : 1024; /* 1.5x: lower peak than doubling */
    if (nc > SIZE_MAX / elem) return -1;
    void *p = realloc(*arr, nc * elem);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static void heap_swap(w_sample *h, size_t i, size_t j)
{
    w_sample t = h[i];
    h[i] = h[j];
    h[j] = t;
}

/* Offer an article to the dictionary sample (see struct newsarc_writer). */
static int sample_offer(newsarc_writer *w, const uint8_t id[NA_HASH], const void *data, size_t len)
{
    if (w->samp_budget == 0 || len == 0 || memcmp(id, w->samp_cutoff, NA_HASH) >= 0) return 0;
    size_t take = len > SAMPLE_CAP ? SAMPLE_CAP : len;
    if (grow((void **)&w->samp, &w->cap_samp, w->n_samp, sizeof *w->samp) != 0) return -1;
    w_sample *h = w->samp;
    size_t i = w->n_samp++;
    memcpy(h[i].id, id, NA_HASH);
    h[i].len = take;
    if (!(h[i].data = malloc(take))) {
        w->n_samp--;
        return -1;
    }
    memcpy(h[i].data, data, take);
    w->samp_bytes += take;
    for (; i > 0 && memcmp(h[(i - 1) / 2].id, h[i].id, NA_HASH) < 0; i = (i - 1) / 2) heap_swap(h, i, (i - 1) / 2);
    while (w->samp_bytes > w->samp_budget && w->n_samp) {
        /* drop the largest id; nothing at or above it is sampled again */
        memcpy(w->samp_cutoff, h[0].id, NA_HASH);
        w->samp_bytes -= h[0].len;
        free(h[0].data);
        h[0] = h[--w->n_samp];
        for (size_t k = 0;;) {
            size_t l = 2 * k + 1, r = l + 1, m = k;
            if (l < w->n_samp && memcmp(h[l].id, h[m].id, NA_HASH) > 0) m = l;
            if (r < w->n_samp && memcmp(h[r].id, h[m].id, NA_HASH) > 0) m = r;
            if (m == k) break;
            heap_swap(h, k, m);
            k = m;
        }
    }
    return 0;
}

/* Common tail of the add functions: record article + entry. */
/* Text member names repeat on every line: keep each once. 0 = none. */
static int intern_key(newsarc_writer *w, const char *k, size_t n, uint16_t *out)
{
    *out = 0;
    if (n == 0) return 0;
    for (uint16_t i = 1; i <= w->n_keys; i++)
        if (strlen(w->keys[i]) == n && !memcmp(w->keys[i], k, n)) {
            *out = i;
            return 0;
        }
    if (w->n_keys >= NA_MAX_KEYS) return na_set_error(w->msg, NEWSARC_E_LIMIT, "more than %d different text members", NA_MAX_KEYS);
    char *d = malloc(n + 1);
    if (!d) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    memcpy(d, k, n);
    d[n] = 0;
    w->keys[++w->n_keys] = d;
    *out = w->n_keys;
    return 0;
}

static const char *key_str(const newsarc_writer *w, uint16_t k) { return k ? w->keys[k] : ""; }

static int add_prepared(newsarc_writer *w, const newsarc_entry *e, const void *article, size_t len, uint64_t locator,
                        uint64_t src_len, uint8_t kind, const char *place, size_t place_len, const uint8_t id[NA_HASH],
                        uint64_t check, const uint32_t sig[NA_MINHASH_K]);

static int add_common(newsarc_writer *w, const newsarc_entry *e, const void *article, size_t len, uint64_t locator,
                      uint64_t src_len, uint8_t kind, const char *place, size_t place_len)
{
    uint8_t id[NA_HASH];
    uint32_t sig[NA_MINHASH_K];
    na_hash(id, article, len);
    na_minhash(article, len, sig);
    return add_prepared(w, e, article, len, locator, src_len, kind, place, place_len, id, na_check64(article, len), sig);
}

/* Record an article whose id and signature are already computed. */
static int add_prepared(newsarc_writer *w, const newsarc_entry *e, const void *article, size_t len, uint64_t locator,
                        uint64_t src_len, uint8_t kind, const char *place, size_t place_len, const uint8_t id[NA_HASH],
                        uint64_t check, const uint32_t sig[NA_MINHASH_K])
{
    if (w->finished) return na_set_error(w->msg, NEWSARC_E_STATE, "the writer is finished");
    if ((uint64_t)len > NA_MAX_ARTICLE) return na_set_error(w->msg, NEWSARC_E_LIMIT, "article is larger than 1 GiB");
    if (e->flags & ~NEWSARC_ENTRY_KNOWN_FLAGS) return na_set_error(w->msg, NEWSARC_E_ARG, "unknown entry flags");
    const char *np = na_name_problem(e->name, e->name_len);
    if (np) return na_set_error(w->msg, NEWSARC_E_INPUT, "%s", np);
    if (e->meta_len > NA_MAX_META) return na_set_error(w->msg, NEWSARC_E_LIMIT, "metadata is larger than 16 MiB");
    if (e->text_key_len > NA_MAX_KEY) return na_set_error(w->msg, NEWSARC_E_LIMIT, "text member name is too long");
    if (w->n_arts >= UINT32_MAX - 1) return na_set_error(w->msg, NEWSARC_E_LIMIT, "too many articles");
    if (src_len > UINT32_MAX) return na_set_error(w->msg, NEWSARC_E_LIMIT, "input line longer than 4 GiB");
    uint16_t key;
    int krc = intern_key(w, e->text_key, e->text_key_len, &key);
    if (krc) return krc;
    if (grow((void **)&w->arts, &w->cap_arts, w->n_arts, sizeof *w->arts) ||
        grow((void **)&w->ents, &w->cap_ents, w->n_ents, sizeof *w->ents))
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    w_article *a = &w->arts[w->n_arts];
    w_entry *en = &w->ents[w->n_ents];
    memset(a, 0, sizeof *a);
    memset(en, 0, sizeof *en);
    memcpy(a->id, id, NA_HASH);
    a->check = check;
    a->has_sig = na_minhash_bands(sig, a->u.band);
    if (sample_offer(w, a->id, article, len) != 0) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    a->size = (uint32_t)len;
    a->kind = kind;
    a->src_len = (uint32_t)src_len;
    a->locator = locator;
    int rc = 0;
    if (!w->fetch) { /* keep the article bytes in memory */
        a->kind = KIND_RAW;
        a->src_len = (uint32_t)len;
        /* in-memory mode (no fetch callback): articles get their own copy */
        uint8_t *copy = malloc(len ? len : 1);
        a->locator = 0;
        if (!copy) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        else {
            if (len) memcpy(copy, article, len);
            a->locator = (uint64_t)(uintptr_t)copy;
        }
    } else if (kind == KIND_JSON) {
        a->key = key;
    }
    en->article = (uint32_t)w->n_arts;
    en->flags = (uint8_t)e->flags;
    en->key_pos = e->text_pos;
    en->key = key;
    uint64_t moff = 0;
    if (e->name_len) { /* the name is also the placement key */
        en->name_len = (uint16_t)e->name_len;
        if (!rc && arena_add(w, e->name, e->name_len, &en->name_off) != 0) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    if (!rc) rc = meta_add(w, e->meta, e->meta_len, &moff);
    if (!rc && (moff & ~META_IN_FILE) >= META_OFF_LIMIT)
        rc = na_set_error(w->msg, NEWSARC_E_LIMIT, "more than 256 GiB of metadata");
    en->meta = (moff & META_IN_FILE) | (moff & ~META_IN_FILE) << META_LEN_BITS | e->meta_len;
    /* the placement key goes to the sorted runs, not to memory: last, as
     * it does not fail after adding */
    if (!rc && e->name_len) rc = key_add(w, (uint32_t)w->n_ents, e->name, e->name_len);
    else if (!rc) rc = key_add(w, (uint32_t)w->n_ents, place, place_len > NA_MAX_NAME ? NA_MAX_NAME : place_len);
    if (rc) {
        if (!w->fetch) free((void *)(uintptr_t)a->locator);
        return rc; /* message set */
    }
    w->n_arts++;
    w->n_ents++;
    return 0;
}

int newsarc_writer_add(newsarc_writer *w, const newsarc_entry *e, const void *article, size_t len, uint64_t locator)
{
    if (e->flags != 0 || e->text_key_len || e->text_pos)
        return na_set_error(w->msg, NEWSARC_E_ARG, "entries with JSON flags come from newsarc_writer_add_json");
    return add_common(w, e, article, len, locator, len, KIND_RAW, NULL, 0);
}

int newsarc_writer_add_json(newsarc_writer *w, const char *line, size_t len, const char *text_field, uint64_t locator)
{
    na_json_split s;
    int rc = na_json_split_line(line, len, text_field, &s, w->msg);
    if (rc) return rc;
    newsarc_entry e = {.flags = s.flags,
                       .meta = s.meta,
                       .meta_len = s.meta_len,
                       .text_key = s.key,
                       .text_key_len = s.key_len,
                       .text_pos = s.key_pos};
    /* A WHOLE object's article is the line itself: fetched back raw. */
    uint8_t kind = (s.flags & NEWSARC_ENTRY_WHOLE) ? KIND_RAW : KIND_JSON;
    rc = add_common(w, &e, s.text, s.text_len, locator, len, kind, s.place, s.place ? strlen(s.place) : 0);
    na_json_split_free(&s);
    return rc;
}

/* ---- JSON lines in batches: parsed and hashed on all threads ---------------------- */

typedef struct jprep {
    const char *line;
    size_t len;
    na_json_split s;
    int rc;
    char msg[NA_ERRMSG];
    uint8_t id[NA_HASH];
    uint64_t check;
    uint32_t sig[NA_MINHASH_K];
} jprep;

/*
 * A batch is prepared (split, hashed, MinHashed) in chunks of JB_CHUNK lines
 * claimed by the helper threads and by the caller's thread; the caller adds
 * the prepared lines in order (add_prepared, which is serial) as soon as
 * their chunk is ready, and prepares a chunk itself when the next one is not
 * ready yet.  So the serial adding overlaps the parallel preparing instead
 * of following it; the lines are added in the same order as before.
 */
#define JB_CHUNK 32

typedef struct jbatch {
    jprep *p;
    na_arena *arena; /* per chunk */
    size_t n, chunks;
    const char *text_field;
    int raw;              /* articles as they are (newsarc_writer_add_batch), not JSON lines */
    atomic_size_t next;   /* next chunk to claim */
    atomic_uchar *ready;  /* per chunk: prepared */
} jbatch;

static void prepare_chunk(jbatch *b, size_t c)
{
    size_t end = (c + 1) * JB_CHUNK < b->n ? (c + 1) * JB_CHUNK : b->n;
    /* the chunk's results in one arena: no malloc per line here and no
     * free of another thread's memory on the thread that adds them */
    na_arena_reset(&b->arena[c]);
    na_json_scratch sc = {.out = &b->arena[c]};
    for (size_t i = c * JB_CHUNK; i < end; i++) {
        jprep *p = &b->p[i];
        if (b->raw) {
            p->s.text = (const uint8_t *)p->line;
            p->s.text_len = p->len;
        } else if ((p->rc = na_json_split_line_sc(p->line, p->len, b->text_field, &p->s, p->msg, &sc)) != 0)
            continue;
        na_hash(p->id, p->s.text, p->s.text_len);
        p->check = na_check64(p->s.text, p->s.text_len);
        na_minhash(p->s.text, p->s.text_len, p->sig);
    }
    na_json_scratch_free(&sc);
    atomic_store_explicit(&b->ready[c], 1, memory_order_release);
}

/* 1 if a chunk was claimed and prepared, 0 if none was left. */
static int prepare_next(jbatch *b)
{
    size_t c = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
    if (c >= b->chunks) return 0;
    prepare_chunk(b, c);
    return 1;
}

static void *prepare_lines(void *arg)
{
    while (prepare_next(arg)) {}
    return NULL;
}

/* JSON lines (entries NULL) or raw articles with their entries, added in order */
static int add_batch(newsarc_writer *w, const newsarc_entry *entries, const char *const *lines, const size_t *lens,
                     size_t n, const char *text_field, const uint64_t *locators, size_t *done)
{
    *done = 0;
    if (w->finished) return na_set_error(w->msg, NEWSARC_E_STATE, "the writer is finished");
    if (n == 0) return 0;
    jbatch jb = {.n = n, .chunks = (n + JB_CHUNK - 1) / JB_CHUNK, .text_field = text_field, .raw = entries != NULL};
    if (w->batch_cap < n) {
        free(w->batch_mem);
        w->batch_cap = 0;
        if (!(w->batch_mem = malloc(sizeof *jb.p * n))) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        w->batch_cap = n;
    }
    jb.p = w->batch_mem;
    if (w->batch_arenas < jb.chunks) {
        na_arena *na = realloc(w->batch_arena, sizeof *na * jb.chunks);
        if (!na) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        memset(na + w->batch_arenas, 0, sizeof *na * (jb.chunks - w->batch_arenas));
        w->batch_arena = na;
        w->batch_arenas = jb.chunks;
    }
    jb.arena = w->batch_arena;
    jb.ready = calloc(jb.chunks, sizeof *jb.ready);
    if (!jb.ready) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    atomic_init(&jb.next, 0);
    for (size_t c = 0; c < jb.chunks; c++) atomic_init(&jb.ready[c], 0);
    for (size_t i = 0; i < n; i++) {
        jb.p[i].line = lines[i];
        jb.p[i].len = lens[i];
        jb.p[i].rc = 0;
        memset(&jb.p[i].s, 0, sizeof jb.p[i].s);
    }
    int H = w->opt.threads > 16 ? 15 : w->opt.threads - 1; /* helpers beside this thread */
    if (H < 0) H = 0;
    if ((size_t)H > jb.chunks - 1) H = (int)(jb.chunks - 1);
    pthread_t th[15];
    int started = 0;
    while (started < H && pthread_create(&th[started], NULL, prepare_lines, &jb) == 0) started++;
    int rc = 0;
    size_t i = 0;
    for (size_t c = 0; c < jb.chunks && !rc; c++) {
        while (!atomic_load_explicit(&jb.ready[c], memory_order_acquire))
            if (!prepare_next(&jb)) sched_yield(); /* chunk c is being prepared by a helper */
        size_t end = (c + 1) * JB_CHUNK < n ? (c + 1) * JB_CHUNK : n;
        for (; i < end && !rc; i++) {
            jprep *q = &jb.p[i];
            if (entries) {
                const newsarc_entry *e = &entries[i];
                if (e->flags != 0 || e->text_key_len || e->text_pos)
                    rc = na_set_error(w->msg, NEWSARC_E_ARG, "entries with JSON flags come from newsarc_writer_add_json");
                else
                    rc = add_prepared(w, e, q->line, q->len, locators[i], q->len, KIND_RAW, NULL, 0, q->id, q->check,
                                      q->sig);
                if (rc) break;
                continue;
            }
            if (q->rc) {
                rc = na_set_error(w->msg, q->rc, "%s", q->msg);
                break;
            }
            newsarc_entry e = {.flags = q->s.flags,
                               .meta = q->s.meta,
                               .meta_len = q->s.meta_len,
                               .text_key = q->s.key,
                               .text_key_len = q->s.key_len,
                               .text_pos = q->s.key_pos};
            uint8_t kind = (q->s.flags & NEWSARC_ENTRY_WHOLE) ? KIND_RAW : KIND_JSON;
            rc = add_prepared(w, &e, q->s.text, q->s.text_len, locators[i], q->len, kind, q->s.place,
                              q->s.place ? strlen(q->s.place) : 0, q->id, q->check, q->sig);
            if (rc) break;
        }
    }
    /* after an error the helpers still prepare what is left: wait for them */
    atomic_store_explicit(&jb.next, jb.chunks, memory_order_relaxed);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    *done = i;
    for (size_t k = 0; !entries && k < n; k++) na_json_split_free(&jb.p[k].s);
    free(jb.ready);
    return rc;
}

int newsarc_writer_add_json_batch(newsarc_writer *w, const char *const *lines, const size_t *lens, size_t n,
                                  const char *text_field, const uint64_t *locators, size_t *done)
{
    return add_batch(w, NULL, lines, lens, n, text_field, locators, done);
}

int newsarc_writer_add_batch(newsarc_writer *w, const newsarc_entry *entries, const void *const *articles,
                             const size_t *lens, size_t n, const uint64_t *locators, size_t *done)
{
    if (!entries && n) {
        *done = 0;
        return na_set_error(w->msg, NEWSARC_E_ARG, "no entries");
    }
    return add_batch(w, entries, (const char *const *)articles, lens, n, NULL, locators, done);
}

/* ---- fetching article bytes again (pass 2) -------------------------------- */

typedef struct fetcher {
    na_buf src; /* scratch for the source bytes */
    /* fetch_many's arguments for a block: each source's locator, where it
     * goes in src (one after the other), its length */
    uint64_t *loc;
    void **dst;
    size_t *len;
    size_t cap;
    const struct w_article **arts; /* the block's articles */
    size_t cap_arts;
} fetcher;

static void fetcher_free(fetcher *f)
{
    na_buf_free(&f->src);
    free(f->loc);
    free(f->dst);
    free(f->len);
    free(f->arts);
}

static int check_article(const newsarc_writer *w, const uint8_t *src, const w_article *a, na_buf *dst,
                         char msg[NA_ERRMSG]);

/*
 * Append article a's bytes to dst, checking they still hash to its id.
 * Thread-safe given a fetcher and msg per thread (the fetch callback must be).
 */
static int fetch_article(const newsarc_writer *w, fetcher *f, const w_article *a, na_buf *dst, char msg[NA_ERRMSG])
{
    const uint8_t *src;
    f->src.len = 0;
    if (w->fetch) {
        if (na_buf_reserve(&f->src, a->src_len) != 0) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
        if (w->fetch(w->fetch_ctx, a->locator, f->src.data, a->src_len) != 0)
            return na_set_error(msg, NEWSARC_E_IO, "could not read an input again");
        src = f->src.data;
    } else {
        src = (const uint8_t *)(uintptr_t)a->locator;
    }
    return check_article(w, src, a, dst, msg);
}

/* The sources of arts[0, n) read by fetch_many into f->src, one after the other. */
static int fetch_sources(const newsarc_writer *w, fetcher *f, const w_article *const *arts, size_t n,
                         char msg[NA_ERRMSG])
{
    if (n > f->cap) {
        uint64_t *l = realloc(f->loc, n * sizeof *l);
        if (l) f->loc = l;
        void **d = realloc(f->dst, n * sizeof *d);
        if (d) f->dst = d;
        size_t *k = realloc(f->len, n * sizeof *k);
        if (k) f->len = k;
        if (!l || !d || !k) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
        f->cap = n;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += arts[i]->src_len;
    f->src.len = 0;
    if (na_buf_reserve(&f->src, total ? total : 1) != 0) return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
    for (size_t i = 0, at = 0; i < n; at += arts[i++]->src_len) {
        f->loc[i] = arts[i]->locator;
        f->dst[i] = f->src.data + at;
        f->len[i] = arts[i]->src_len;
    }
    if (w->fetch_many(w->fetch_ctx, n, f->loc, f->dst, f->len) != 0)
        return na_set_error(msg, NEWSARC_E_IO, "could not read an input again");
    return 0;
}

/* Append the article in its source bytes src to dst, checking it is still
 * what pass 1 hashed (its size and na_check64). */
static int check_article(const newsarc_writer *w, const uint8_t *src, const w_article *a, na_buf *dst,
                         char msg[NA_ERRMSG])
{
    const uint8_t *art = src;
    size_t alen = a->src_len;
    na_json_split s = {0};
    if (a->kind == KIND_JSON) {
        /* fast path: the member's string decoded straight into dst, no tree;
         * accepted only when it is what pass 1 took (dst->data is NULL when
         * all is empty) */
        size_t start = dst->len;
        if (na_json_text_fast((const char *)src, a->src_len, key_str(w, a->key), dst) == 0 &&
            dst->len - start == a->size && na_check64(a->size ? dst->data + start : NULL, a->size) == a->check)
            return 0;
        dst->len = start;
    }
    if (a->kind == KIND_JSON) {
        /* re-split taking exactly the member the first pass took */
        char why[NA_ERRMSG];
        if (na_json_split_line((const char *)src, a->src_len, key_str(w, a->key), &s, why) != 0)
            return na_set_error(msg, NEWSARC_E_INPUT, "an input changed while packing (%s)", why);
        art = s.text;
        alen = s.text_len;
    }
    int rc = 0;
    if (alen != a->size || na_check64(art, alen) != a->check)
        rc = na_set_error(msg, NEWSARC_E_INPUT, "an input changed while packing");
    else if (na_buf_append(dst, art, alen) != 0)
        rc = na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
    na_json_split_free(&s);
    return rc;
}

/* ---- canonical order ------------------------------------------------------- */

/* qsort has no context argument in C17: per thread, so that writers on
 * different threads can finish at the same time */
static _Thread_local const w_article *g_arts;
static _Thread_local const newsarc_writer *g_w;
static _Thread_local const w_entry *g_ents;
static _Thread_local na_buf g_meta_a, g_meta_b; /* spilled metadata read by cmp_entry */
static _Thread_local int g_meta_err;

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

static int cmp_art_id(const void *x, const void *y)
{
    const w_article *a = &g_arts[*(const uint32_t *)x], *b = &g_arts[*(const uint32_t *)y];
    int c = memcmp(a->id, b->id, NA_HASH);
    if (c) return c;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    return i < j ? -1 : i > j;
}

static int cmp_entry(const void *x, const void *y)
{
    const w_entry *a = x, *b = y;
    int c = cmp_bytes(arena_at(g_w, a->name_off), a->name_len, arena_at(g_w, b->name_off), b->name_len);
    if (c) return c;
    if (a->article != b->article) return a->article < b->article ? -1 : 1;
    if (a->key != b->key) {
        const char *ka = key_str(g_w, a->key), *kb = key_str(g_w, b->key);
        c = cmp_bytes((const uint8_t *)ka, strlen(ka), (const uint8_t *)kb, strlen(kb));
        if (c) return c;
    }
    if (a->key_pos != b->key_pos) return a->key_pos < b->key_pos ? -1 : 1;
    const uint8_t *ma = meta_at(g_w, ent_meta_off(a), ent_meta_len(a), &g_meta_a);
    const uint8_t *mb = meta_at(g_w, ent_meta_off(b), ent_meta_len(b), &g_meta_b);
    if (!ma || !mb) {
        g_meta_err = 1;
        return 0;
    }
    c = cmp_bytes(ma, ent_meta_len(a), mb, ent_meta_len(b));
    if (c) return c;
    return a->flags < b->flags ? -1 : a->flags > b->flags;
}

static int cmp_entry_at(const void *x, const void *y)
{
    return cmp_entry(&g_ents[*(const uint32_t *)x], &g_ents[*(const uint32_t *)y]);
}

/* Sort the entries into canonical order through an index array (4 bytes per
 * entry, where qsort of the records would allocate a copy of them all) and
 * move them in place, cycle by cycle.  idx has room for n. */
static void permute_entries(w_entry *ents, size_t n, uint32_t *idx);

static int sort_entries(w_entry *ents, size_t n, uint32_t *idx, size_t n_uniq)
{
    g_ents = ents;
    /* nameless entries (a JSON feed's) sort first, by article: a stable
     * counting sort (4 bytes per article), then only the entries of one
     * article given more than once are compared; the named ones by qsort */
    uint32_t *cnt = calloc(n_uniq + 2, sizeof *cnt);
    if (!cnt) return -1;
    size_t nn = 0;
    for (size_t i = 0; i < n; i++)
        if (!ents[i].name_len) {
            cnt[ents[i].article + 1]++;
            nn++;
        }
    for (size_t a = 1; a <= n_uniq; a++) cnt[a] += cnt[a - 1];
    for (size_t i = 0, b = nn; i < n; i++) {
        if (ents[i].name_len) idx[b++] = (uint32_t)i;
        else idx[cnt[ents[i].article]++] = (uint32_t)i;
    }
    free(cnt);
    for (size_t s = 0, e; s < nn; s = e) { /* one article given more than once */
        for (e = s + 1; e < nn && ents[idx[e]].article == ents[idx[s]].article; e++) {}
        if (e - s > 1) qsort(idx + s, e - s, sizeof *idx, cmp_entry_at);
    }
    qsort(idx + nn, n - nn, sizeof *idx, cmp_entry_at);
    permute_entries(ents, n, idx);
    return 0;
}

/* ents[j] = old ents[idx[j]] for every j, cycle by cycle (idx is used up). */
static void permute_entries(w_entry *ents, size_t n, uint32_t *idx)
{
    for (size_t i = 0; i < n; i++) { /* new[j] = old[idx[j]] */
        if (idx[i] == i) continue;
        w_entry t = ents[i];
        size_t j = i;
        while (idx[j] != i) {
            size_t k = idx[j];
            ents[j] = ents[k];
            idx[j] = (uint32_t)j;
            j = k;
        }
        ents[j] = t;
        idx[j] = (uint32_t)j;
    }
}

/*
 * Article records in id order, the same article given twice by record
 * index (cmp_art_id): bucketed by the first two bytes of the id, then each
 * bucket sorted by comparison.  Ids are hashes, so a bucket holds about
 * n / 65536 records (repeats of one article aside, which qsort takes).
 * qsort of all n through the comparator was 0.7 s of m1's pack.
 */
static int sort_by_id(const newsarc_writer *w, uint32_t *ord)
{
    size_t n = w->n_arts;
    uint32_t *cnt = calloc(65536 + 1, sizeof *cnt);
    if (!cnt) return -1;
    for (size_t i = 0; i < n; i++) cnt[((unsigned)w->arts[i].id[0] << 8 | w->arts[i].id[1]) + 1]++;
    for (size_t k = 1; k <= 65536; k++) cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < n; i++) ord[cnt[(unsigned)w->arts[i].id[0] << 8 | w->arts[i].id[1]]++] = (uint32_t)i;
    /* cnt[k] is now where bucket k ends */
    for (size_t k = 0, lo = 0; k < 65536; lo = cnt[k++]) {
        size_t len = cnt[k] - lo;
        if (len > 16) qsort(ord + lo, len, sizeof *ord, cmp_art_id);
        else
            for (size_t i = lo + 1; i < lo + len; i++)
                for (size_t j = i; j > lo && cmp_art_id(&ord[j - 1], &ord[j]) > 0; j--) {
                    uint32_t t = ord[j];
                    ord[j] = ord[j - 1];
                    ord[j - 1] = t;
                }
    }
    free(cnt);
    return 0;
}

#define NA_CLUSTER_BUCKET_MAX 32

typedef struct band_item {
    uint64_t key;
    uint32_t art; /* uniq position */
} band_item;

static int band_less(const band_item *a, const band_item *b)
{
    return a->key != b->key ? a->key < b->key : a->art < b->art;
}

static void band_swap(band_item *a, band_item *b)
{
    band_item t = *a;
    *a = *b;
    *b = t;
}

/*
 * Sort band items in place (qsort would allocate a second array as large as
 * the items, the peak of memory when packing).  The order (key, art) is
 * total, so the result is unique whatever the algorithm.
 */
static void sort_bands(band_item *v, size_t n)
{
    while (n > 16) {
        /* median of three to v[0], then Hoare partition */
        size_t m = n / 2;
        if (band_less(&v[m], &v[0])) band_swap(&v[m], &v[0]);
        if (band_less(&v[n - 1], &v[m])) band_swap(&v[n - 1], &v[m]);
        if (band_less(&v[m], &v[0])) band_swap(&v[m], &v[0]);
        band_swap(&v[0], &v[m]);
        band_item piv = v[0];
        size_t i = 0, j = n;
        for (;;) {
            do i++; while (i < n && band_less(&v[i], &piv));
            do j--; while (band_less(&piv, &v[j]));
            if (i >= j) break;
            band_swap(&v[i], &v[j]);
        }
        band_swap(&v[0], &v[j]);
        /* recurse into the smaller side, loop on the larger: O(log n) stack */
        if (j < n - j - 1) {
            sort_bands(v, j);
            v += j + 1;
            n -= j + 1;
        } else {
            sort_bands(v + j + 1, n - j - 1);
            n = j;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && band_less(&v[k], &v[k - 1]); k--) band_swap(&v[k], &v[k - 1]);
}

static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/*
 * Group similar articles: LSH over the MinHash signatures (bands of
 * NA_MINHASH_ROWS values; articles sharing any band are joined).  One band
 * at a time, sorted in place: 16 bytes per article beside the union-find
 * array.  It reads only the signatures, so finish() runs it on a second
 * thread while it sorts the entries (lsh_job).
 */
typedef struct lsh_job {
    const newsarc_writer *w;
    const uint32_t *uniq;
    size_t n;
    uint32_t *parent; /* n: union-find over uniq positions */
    int rc;           /* -1: out of memory */
} lsh_job;

static void *lsh_join(void *arg)
{
    lsh_job *j = arg;
    const w_article *arts = j->w->arts;
    size_t n = j->n;
    band_item *items = malloc(sizeof *items * (n ? n : 1));
    if (!items) {
        j->rc = -1;
        return NULL;
    }
    uint32_t *parent = j->parent;
    for (size_t i = 0; i < n; i++) parent[i] = (uint32_t)i;
    for (int band = 0; band < NA_LSH_BANDS; band++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const w_article *a = &arts[j->uniq[i]];
            if (a->has_sig) items[m++] = (band_item){a->u.band[band], (uint32_t)i}; /* else too short to compare */
        }
        sort_bands(items, m);
        /* a bucket shared by very many articles is boilerplate, not a story */
        for (size_t i = 0, k; i < m; i = k) {
            for (k = i + 1; k < m && items[k].key == items[i].key; k++) {}
            if (k - i > NA_CLUSTER_BUCKET_MAX) continue;
            for (size_t e = i + 1; e < k; e++) {
                uint32_t ra = uf_find(parent, items[i].art), rb = uf_find(parent, items[e].art);
                if (ra != rb) parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
            }
        }
    }
    free(items);
    return NULL;
}

/*
 * Each article's cluster is the member of its group (lsh_join's parent)
 * with the smallest placement key, so the result depends only on the set
 * of articles.  rank[i] is the placement-key rank of article uniq[i]; uniq
 * is in id order, so (rank[i], i) orders the keys (placement key, id) as
 * cmp_key does, without reading the records.  cl[i] gets article i's
 * representative (a uniq position); it is also written into the records
 * (plan_blocks reads it there), whose union with the band keys is free
 * only now, after the last band was read.
 */
static void cluster_articles(newsarc_writer *w, const uint32_t *uniq, size_t n, uint32_t *parent, const uint32_t *rank,
                             uint32_t *cl)
{
    for (size_t i = 0; i < n; i++) cl[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t root = uf_find(parent, (uint32_t)i), c = cl[root];
        if (c == UINT32_MAX || rank[i] < rank[c] || (rank[i] == rank[c] && i < c)) cl[root] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++) cl[i] = cl[uf_find(parent, (uint32_t)i)]; /* a root keeps its own */
    for (size_t i = 0; i < n; i++) w->arts[uniq[i]].u.at.cluster = cl[i];
}

/*
 * finish() begins with work of one thread at a time (1 s of a million
 * articles' pack, while the other core idled): pairs of steps that read
 * different things run side by side.  side_run starts fn on a second
 * thread when the writer may use one (else, or when no thread can be
 * started, runs it here); side_wait waits for it.  The results are the
 * same either way.
 */
typedef struct side {
    pthread_t th;
    int started;
} side;

static void side_run(side *s, int threads, void *(*fn)(void *), void *arg)
{
    s->started = threads > 1 && pthread_create(&s->th, NULL, fn, arg) == 0;
    if (!s->started) fn(arg);
}

static void side_wait(side *s)
{
    if (s->started) pthread_join(s->th, NULL);
    s->started = 0;
}

/* ---- output with running hashes ------------------------------------------- */

typedef struct out_state {
    newsarc_write_fn fn;
    void *ctx;
    uint64_t off;
    crypto_generichash_state file; /* footer checksum */
    crypto_generichash_state sec;  /* current section */
    int err;
    int threads; /* > 1: large writes hash the section on a second thread */
} out_state;

struct build {
    newsarc_writer *w;
    uint32_t *uniq;       /* unique article records, id order */
    size_t n_uniq;
    uint32_t *place;      /* unique article indices in placement order */
    na_attr *attrs;       /* text information by uniq position (allocated after the entries are freed) */
    uint32_t *src_grp;    /* source group number by uniq position (for the charset hints) */
    na_buf meta_head;     /* META payload up to the frames; the frames are spooled */
    spool meta_frames;
    na_block_rec *blocks;
    size_t n_blocks, cap_blocks;
    out_state o;
    uint8_t hashes[NA_S_COUNT][NA_HASH];
    na_toc_entry sec[NA_S_COUNT];
    int has_attr;               /* the optional "attr" section follows META */
    na_toc_entry attr_sec;
    uint8_t attr_hash[NA_HASH];
    uint64_t content;
};

/* What emit hashes: the whole-file checksum, the current section's hash
 * (not BLKS: its hash is over the block hashes, spec/FORMAT.md 5, so
 * hashing its bytes there was 140 MB of wasted BLAKE2b on m1's main
 * thread). */
enum { EMIT_FILE = 1, EMIT_SEC = 2, EMIT_BOTH = 3 };

/* The section hash of a large write, beside the file hash (the sections
 * written after the blocks, a million articles' META and INDX, were 0.1 s
 * of hashing while the other core idled). */
typedef struct sec_job {
    crypto_generichash_state *st;
    const void *p;
    size_t n;
} sec_job;

static void *sec_update(void *arg)
{
    sec_job *j = arg;
    crypto_generichash_update(j->st, j->p, j->n);
    return NULL;
}

#define EMIT_SPLIT (256u << 10)

static int emit(out_state *o, const void *p, size_t n, int hash)
{
    if (o->err || n == 0) return o->err;
    if (o->fn(o->ctx, p, n) != 0) return o->err = NEWSARC_E_IO;
    if (hash == EMIT_BOTH && n >= EMIT_SPLIT && o->threads > 1) {
        sec_job j = {&o->sec, p, n};
        side sd;
        side_run(&sd, o->threads, sec_update, &j);
        crypto_generichash_update(&o->file, p, n);
        side_wait(&sd);
    } else {
        if (hash & EMIT_FILE) crypto_generichash_update(&o->file, p, n);
        if (hash & EMIT_SEC) crypto_generichash_update(&o->sec, p, n);
    }
    o->off += n;
    return 0;
}

static void sec_begin(out_state *o) { crypto_generichash_init(&o->sec, NULL, 0, NA_HASH); }
static void sec_end(out_state *o, uint8_t out[NA_HASH]) { crypto_generichash_final(&o->sec, out, NA_HASH); }

/* ---- dictionary ---------------------------------------------------------------- */

static size_t train_one(const newsarc_writer *w, na_buf *dict, size_t dsize, const na_buf *samples,
                        const size_t *sizes, size_t ns)
{
    dict->len = 0;
    if (na_buf_reserve(dict, dsize) != 0) return 0;
    ZDICT_fastCover_params_t p;
    memset(&p, 0, sizeof p);
    /* f 18 (a 2^18 frequency table) and accel 2: 30 ms less of a 6 MB
     * feed's 160, sizes within 0.1% (spec/BENCHMARKS.md "dictionary
     * training, kept") */
    p.d = 8;
    p.k = 200;
    p.f = 18;
    p.steps = 0;
    p.nbThreads = 1; /* more threads may break ties differently */
    p.accel = 2;
    p.splitPoint = 1.0;
    p.zParams.compressionLevel = w->opt.level;
    size_t r = ZDICT_trainFromBuffer_fastCover(dict->data, dsize, samples->data, sizes, (unsigned)ns, p);
    dict->len = ZDICT_isError(r) ? 0 : r; /* training can fail on odd data: no dictionary then */
    return dict->len;
}

/*
 * The DICT body (spec/FORMAT.md 4.2): the dictionary in one zstd frame at a
 * fixed level.  Its content part is raw sample text, so this stores it in
 * about a third of its size (jawharafm 112,640 -> 34,641 bytes).  0 ok.
 */
#define DICT_FRAME_LEVEL 15
static int compress_dict(const na_buf *dict, na_buf *z)
{
    z->len = 0;
    if (!dict->len) return 0;
    size_t cap = ZSTD_compressBound(dict->len);
    if (na_buf_reserve(z, cap) != 0) return -1;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t r = c ? ZSTD_compressCCtx(c, z->data, cap, dict->data, dict->len, DICT_FRAME_LEVEL) : 1;
    ZSTD_freeCCtx(c);
    if (!c || ZSTD_isError(r)) return -1;
    z->len = r;
    return 0;
}

/*
 * The dictionary prepared for META frames of about frame_size bytes.
 * ZSTD_createCDict does not know the frames' size and picks the level's
 * parameters for the dictionary alone (level 9 with a 110 KB dictionary: a
 * 128 KiB window and small tables), and the frames are then compressed with
 * the CDict's parameters.  These are the ones zstd picks for a frame of that
 * size with that dictionary: META 1.4% smaller and faster to make.  Blocks
 * keep ZSTD_createCDict's (with the same change they grew 1-2.5%):
 * spec/BENCHMARKS.md "META dictionary parameters".
 */
static ZSTD_CDict *frame_cdict(const void *dict, size_t dict_len, int level, size_t frame_size)
{
    return ZSTD_createCDict_advanced(dict, dict_len, ZSTD_dlm_byCopy, ZSTD_dct_auto,
                                     ZSTD_getCParams(level, frame_size, dict_len), ZSTD_defaultCMem);
}

/* Compressed size of the evaluation blocks with dict (may be empty). */
static uint64_t trial_size(const newsarc_writer *w, const na_buf *dict, const na_buf *eval, const size_t *bounds,
                           size_t nb)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CDict *cd = dict->len ? ZSTD_createCDict(dict->data, dict->len, w->opt.level) : NULL;
    uint8_t *dst = malloc(ZSTD_compressBound(w->opt.block_size) + 1024);
    uint64_t total = 0;
    if (!c || !dst || (dict->len && !cd)) total = UINT64_MAX;
    for (size_t i = 0; i < nb && total != UINT64_MAX; i++) {
        size_t len = bounds[i + 1] - bounds[i];
        size_t r = cd ? ZSTD_compress_usingCDict(c, dst, ZSTD_compressBound(len), eval->data + bounds[i], len, cd)
                      : ZSTD_compressCCtx(c, dst, ZSTD_compressBound(len), eval->data + bounds[i], len, w->opt.level);
        total = ZSTD_isError(r) ? UINT64_MAX : total + r;
    }
    free(dst);
    ZSTD_freeCDict(cd);
    ZSTD_freeCCtx(c);
    return total;
}

typedef struct dict_trial {
    const newsarc_writer *w;
    na_buf dict, zdict;
    uint64_t size;
    const na_buf *train;
    const size_t *sizes;
    size_t ns;
    const na_buf *eval;
    const size_t *bounds;
    size_t nb;
    double scale, est;
} dict_trial;

static void *run_trial(void *arg)
{
    dict_trial *t = arg;
    if (train_one(t->w, &t->dict, t->size, t->train, t->sizes, t->ns) == 0) return NULL;
    uint64_t c = trial_size(t->w, &t->dict, t->eval, t->bounds, t->nb);
    if (compress_dict(&t->dict, &t->zdict) != 0) c = UINT64_MAX;
    t->est = c == UINT64_MAX ? 1e300 : (double)c * t->scale + (double)t->zdict.len;
    return NULL;
}

/*
 * Choose and train the dictionary.  It is stored in the archive, so it must
 * earn its size: with the default (auto) size, candidates of 112640 and
 * 28160 bytes (scaled down for small archives) and "none" are each measured
 * on evaluation blocks disjoint from the training sample, and the smallest
 * estimated archive wins.  Everything is a function of the article set.
 */
static int cmp_sample(const void *x, const void *y) { return memcmp(((const w_sample *)x)->id, ((const w_sample *)y)->id, NA_HASH); }

static int train_dictionary(newsarc_writer *w, uint64_t total, na_buf *dict, na_buf *zdict)
{
    dict->len = 0;
    zdict->len = 0;
    if (w->opt.dict_size == UINT32_MAX) return 0;
    int automatic = w->opt.dict_size == 0;
    uint64_t dmax = automatic ? DEFAULT_DICT : w->opt.dict_size;
    if (dmax > total / 32) dmax = total / 32;
    if (dmax < 4096 || w->n_samp < 32) return 0;
    /* the sample in id order; every 4th sample evaluates (automatic size) */
    qsort(w->samp, w->n_samp, sizeof *w->samp, cmp_sample);
    na_buf train = {0}, eval = {0};
    size_t *sizes = malloc(sizeof *sizes * w->n_samp), *bounds = malloc(sizeof *bounds * (w->n_samp + 2));
    if (!sizes || !bounds) {
        free(sizes);
        free(bounds);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    size_t ns = 0, nb = 0;
    bounds[0] = 0;
    int rc = 0;
    for (size_t i = 0; i < w->n_samp && !rc; i++) {
        const w_sample *sp = &w->samp[i];
        if (i > 0 && !memcmp(sp->id, w->samp[i - 1].id, NA_HASH)) continue; /* duplicate article */
        int for_eval = automatic && (i % 4 == 3) && eval.len < EVAL_BUDGET;
        if (!for_eval && train.len >= dmax * TRAIN_FACTOR) continue;
        if (na_buf_append(for_eval ? &eval : &train, sp->data, sp->len) != 0) {
            rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
            break;
        }
        if (!for_eval) sizes[ns++] = sp->len;
        else if (eval.len - bounds[nb] >= w->opt.block_size) bounds[++nb] = eval.len;
    }
    if (eval.len > bounds[nb]) bounds[++nb] = eval.len;
    if (!rc && ns >= 16) {
        if (!automatic) {
            train_one(w, dict, dmax, &train, sizes, ns);
        } else if (nb > 0) {
            /* estimated archive bytes = eval compressed * scale + dictionary;
             * candidates are trained and measured in parallel */
            dict_trial t[2];
            memset(t, 0, sizeof t);
            pthread_t th[2];
            int started[2] = {0, 0};
            for (int k = 0; k < 2; k++) {
                t[k] = (dict_trial){w, {0}, {0}, k == 0 ? dmax : dmax / 4, &train, sizes, ns, &eval, bounds, nb,
                                    (double)total / (double)eval.len, 1e300};
                if (t[k].size >= 4096) started[k] = pthread_create(&th[k], NULL, run_trial, &t[k]) == 0 ? 1 : 2;
            }
            na_buf none = {0};
            double best = (double)trial_size(w, &none, &eval, bounds, nb) * ((double)total / (double)eval.len);
            int chosen = -1;
            for (int k = 0; k < 2; k++) {
                if (started[k] == 1) pthread_join(th[k], NULL);
                else if (started[k] == 2) run_trial(&t[k]);
                if (t[k].est < best) {
                    best = t[k].est;
                    chosen = k;
                }
            }
            for (int k = 0; k < 2; k++) {
                if (k == chosen) {
                    na_buf_free(dict);
                    na_buf_free(zdict);
                    *dict = t[k].dict;
                    *zdict = t[k].zdict;
                } else {
                    na_buf_free(&t[k].dict);
                    na_buf_free(&t[k].zdict);
                }
            }
        }
    }
    free(sizes);
    free(bounds);
    na_buf_free(&train);
    na_buf_free(&eval);
    if (!rc && dict->len && !zdict->len && compress_dict(dict, zdict) != 0)
        rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory compressing the dictionary");
    return rc;
}

/* ---- block compression in parallel ------------------------------------------------------ */

/* ---- text attributes (attr section) ---------------------------------------------------------- */

static uint16_t intern_charset(newsarc_writer *w, const char *name)
{
    if (!*name) return 0;
    pthread_mutex_lock(&w->cs_lock);
    uint16_t found = 0;
    for (uint16_t i = 1; i <= w->n_charsets && !found; i++)
        if (!strcmp(w->charsets[i], name)) found = i;
    if (!found && w->n_charsets < NA_MAX_CHARSETS) {
        char *d = strdup(name);
        if (d) {
            w->charsets[++w->n_charsets] = d;
            found = w->n_charsets;
        }
    }
    pthread_mutex_unlock(&w->cs_lock);
    return found;
}

/*
 * Charset evidence, norm_id and dominant script of one article
 * (spec/FORMAT.md "attr", spec/NORMALIZATION.md).  The original bytes are
 * never changed; this only describes them.
 */
static int text_attr(newsarc_writer *w, const uint8_t *p, size_t n, const uint8_t id[NA_HASH], const char *hint,
                     na_attr *a, char msg[NA_ERRMSG])
{
    memset(a, 0, sizeof *a);
    na_charset_info ci;
    int rc = na_text_charset(p, n, hint, &ci);
    if (rc == NEWSARC_E_LIMIT) return 0; /* too large to examine: no attributes */
    if (rc == NEWSARC_E_UNSUPPORTED && na_icu_load() != 0)
        return na_set_error(msg, rc, "%s (text information needs ICU; packing with --no-text-info does not)",
                            na_icu_error());
    if (rc) return na_set_error(msg, rc, "charset detection failed");
    a->flags = NA_ATTR_PRESENT | (ci.valid_utf8 ? NA_ATTR_UTF8 : 0) | (ci.chosen_clean ? NA_ATTR_CLEAN : 0);
    a->reason = (uint8_t)ci.reason;
    a->decl_source = (uint8_t)ci.declared_source;
    a->confidence = (uint8_t)(ci.detected_confidence < 0 ? 0 : ci.detected_confidence > 100 ? 100 : ci.detected_confidence);
    a->declared = intern_charset(w, ci.declared);
    a->detected = intern_charset(w, ci.detected);
    a->chosen = intern_charset(w, ci.chosen);
    char *u = NULL;
    size_t ul = 0;
    bool unchanged;
    char script[16];
    rc = na_text_normalize_script(p, n, ci.chosen, w->opt.norm_options, &u, &ul, &unchanged, script);
    if (rc == 0) {
        /* unchanged: the normalized text is the article, so its hash is the id */
        uint8_t h[NA_HASH];
        if (!unchanged) na_hash(h, u, ul);
        memcpy(a->norm_id, unchanged ? id : h, NA_NORM_ID);
        if (script[0]) memcpy(a->script, script, 4);
        a->flags |= NA_ATTR_NORM;
    }
    free(u);
    if (rc && rc != NEWSARC_E_LIMIT) return na_set_error(msg, rc, "text normalization failed");
    return 0;
}

/*
 * Source hints (issue: "what other articles from the same source use").
 * The source of an article is the host of its placement key when that is a
 * URL, else the directory of its name.  Articles that are not UTF-8 and
 * whose charset was declared (and decodes cleanly) or detected with
 * confidence >= HINT_VOTE_CONF vote for their charset; when at least two
 * votes agree on a plurality charset, the source's other non-UTF-8
 * articles, whose choice was weak (a low-confidence detection or a
 * fallback), are examined again with that charset as the hint: it wins only
 * if it is a clean, plausible candidate close to the best (text.h).  Runs
 * after all articles were examined, on their attributes alone, so the
 * result does not depend on input order or threads.
 */
#define HINT_VOTE_CONF 50

typedef struct hint_item {
    uint32_t grp;   /* source group */
    uint32_t uniq;  /* index into b->uniq */
    uint16_t cs;    /* chosen charset */
    uint8_t role;   /* 1 votes, 2 may take the hint, 0 neither */
} hint_item;

static void source_of(const uint8_t *k, size_t n, const uint8_t **src, uint32_t *len)
{
    for (size_t i = 0; i + 2 < n && i < 16; i++) {
        if (k[i] == ':' && k[i + 1] == '/' && k[i + 2] == '/') {
            size_t s = i + 3, e = s;
            while (e < n && k[e] != '/' && k[e] != '?' && k[e] != '#') e++;
            *src = k + s;
            *len = (uint32_t)(e - s);
            return;
        }
    }
    size_t e = n;
    while (e > 0 && k[e - 1] != '/') e--;
    *src = k;
    *len = (uint32_t)(e ? e - 1 : 0);
}

/* The source group of every article (that of its placement key), kept for
 * the charset hints decided after the blocks, when the entries are freed. */
static int source_groups(build *b)
{
    newsarc_writer *w = b->w;
    b->src_grp = malloc(sizeof *b->src_grp * (b->n_uniq ? b->n_uniq : 1));
    if (!b->src_grp) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    for (size_t k = 0; k < b->n_uniq; k++) b->src_grp[k] = w->ents[w->arts[b->uniq[k]].place_ent].grp;
    return 0;
}

static int cmp_hint_item(const void *x, const void *y)
{
    const hint_item *a = x, *b = y;
    if (a->grp != b->grp) return a->grp < b->grp ? -1 : 1;
    return a->uniq < b->uniq ? -1 : a->uniq > b->uniq;
}

static int cmp_cs_str(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

static int apply_source_hints(build *b, char msg[NA_ERRMSG])
{
    newsarc_writer *w = b->w;
    const uint32_t *uniq = b->uniq;
    na_attr *attrs = b->attrs;
    size_t n_uniq = b->n_uniq;
    hint_item *it = malloc(sizeof *it * (n_uniq ? n_uniq : 1));
    const char **votes = malloc(sizeof *votes * (n_uniq ? n_uniq : 1));
    if (!it || !votes) {
        free(it);
        free(votes);
        return na_set_error(msg, NEWSARC_E_NOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t k = 0; k < n_uniq; k++) {
        const na_attr *t = &attrs[k];
        if (!(t->flags & NA_ATTR_PRESENT) || (t->flags & NA_ATTR_UTF8) || !t->chosen) continue;
        uint8_t role = 0;
        if ((t->flags & NA_ATTR_CLEAN) &&
            (t->reason == NA_CHOSE_DECLARED || (t->reason == NA_CHOSE_DETECTED && t->confidence >= HINT_VOTE_CONF)))
            role = 1;
        else if (t->reason == NA_CHOSE_DETECTED || t->reason == NA_CHOSE_FALLBACK)
            role = 2;
        if (!role) continue;
        it[m++] = (hint_item){b->src_grp[k], (uint32_t)k, t->chosen, role};
    }
    qsort(it, m, sizeof *it, cmp_hint_item);
    int rc = 0;
    fetcher f = {0};
    na_buf art = {0};
    for (size_t g = 0, end; g < m && !rc; g = end) {
        size_t nv = 0;
        for (end = g; end < m && it[end].grp == it[g].grp; end++)
            if (it[end].role == 1) votes[nv++] = w->charsets[it[end].cs];
        if (nv < 2) continue;
        /* plurality charset; ties go to the smaller name */
        qsort(votes, nv, sizeof *votes, cmp_cs_str);
        const char *hint = NULL;
        size_t best = 0;
        for (size_t i = 0, j; i < nv; i = j) {
            for (j = i; j < nv && strcmp(votes[j], votes[i]) == 0; j++) {}
            if (j - i > best) {
                best = j - i;
                hint = votes[i];
            }
        }
        if (best < 2) continue;
        for (size_t i = g; i < end && !rc; i++) {
            w_article *a = &w->arts[uniq[it[i].uniq]];
            if (it[i].role != 2 || strcmp(w->charsets[it[i].cs], hint) == 0) continue;
            art.len = 0;
            rc = fetch_article(w, &f, a, &art, msg);
            if (!rc)
                rc = text_attr(w, a->size ? art.data : (const uint8_t *)"", a->size, a->id, hint, &attrs[it[i].uniq],
                               msg);
        }
    }
    fetcher_free(&f);
    na_buf_free(&art);
    free(it);
    free(votes);
    return rc;
}

/*
 * Whether to close a block of len bytes before article i (in placement
 * order) so that the group of similar articles it begins lands whole in the
 * next block: the group has two or more members, does not fit in what is
 * left of this block, fits in an empty one, and this block is at least a
 * quarter full.  A group cut in two costs about one more compressed copy
 * of its article in the second block; copies of a feed (fars x 16) came
 * out 9.5% smaller, the corpora in ../shared within 0.05% (spec/BENCHMARKS.md).
 */
static int keep_together(const newsarc_writer *w, const build *b, size_t i, uint64_t len)
{
    uint32_t c = w->arts[b->uniq[b->place[i]]].u.at.cluster;
    if (i > 0 && w->arts[b->uniq[b->place[i - 1]]].u.at.cluster == c) return 0; /* not the group's first */
    uint64_t size = 0, block = w->opt.block_size;
    size_t k = i;
    for (; k < b->n_uniq && size <= block; k++) {
        const w_article *a = &w->arts[b->uniq[b->place[k]]];
        if (a->u.at.cluster != c) break;
        size += a->size;
    }
    return k - i >= 2 && size <= block && len + size > block && 4 * len >= block;
}

/*
 * How far a block may grow with article a.  block_size, except for a group
 * of long similar articles (each at least an eighth of block_size:
 * re-scraped articles, the same page fetched on several days, a site's
 * pages sharing a large template), which share blocks up to
 * BIG_GROUP_BLOCKS x block_size: a few to a block (or one), each block
 * started again from a whole copy.  1,600 articles of 30 KB, 200 texts
 * fetched 8 times each with a line of their own: 6.87 MB, 2.6 MB sharing
 * (the solid .jsonl.zst: 2.7 MB); 400 raw HTML pages of 190 KB, 21 texts:
 * 13.9 MB, 5.4 MB (solid 0.77 MB) (spec/BENCHMARKS.md).  Reading one of
 * them decompresses up to 1 MiB instead of its own block (cat 2.8-3.0 ms
 * instead of 2.3-2.5); other articles are packed as before.
 */
#define BIG_GROUP_BLOCKS 8
#define NO_GROUP UINT32_MAX

static uint64_t block_limit(const newsarc_writer *w, const w_article *a, uint32_t group)
{
    uint64_t bs = w->opt.block_size;
    if (group == NO_GROUP || 8 * a->size < bs) return bs;
    return bs * BIG_GROUP_BLOCKS;
}

/*
 * Blocks are planned up front from the article sizes (placement order,
 * closed before the next article would pass block_size), then filled and
 * compressed by worker threads: fetching (and re-parsing JSON) runs in
 * parallel too.  The bytes do not depend on the thread count.
 */
typedef struct cjob {
    size_t first, last;  /* articles [first, last) in placement order */
    na_buf raw;          /* block content */
    na_buf comp;         /* frame */
    uint8_t hash[NA_HASH]; /* of the frame */
    int rc;              /* newsarc error or 0 */
    char msg[NA_ERRMSG];
} cjob;

/*
 * Blocks go through a ring of cap jobs (na_ring): the main thread plans
 * blocks into free slots and writes finished ones out in order, while the
 * workers fill, compress and hash the next ones (before, all threads
 * waited at the end of each batch while the main thread wrote it).
 */
typedef struct cpool {
    newsarc_writer *w;
    const uint32_t *uniq, *place;
    na_attr *attrs; /* by uniq position; NULL without text information */
    cjob *jobs;
    size_t cap;
    int threads;
    ZSTD_CDict *cdict;
    ZSTD_CCtx **cctx;
    fetcher *fetchers;
} cpool;


static void fill_and_compress(cpool *p, int t, cjob *j)
{
    j->rc = 0;
    j->raw.len = 0;
    j->comp.len = 0;
    fetcher *f = &p->fetchers[t];
    const newsarc_writer *w = p->w;
    if (w->fetch_many) { /* the block's sources at once, one after the other in f->src */
        size_t n = j->last - j->first;
        if (n > f->cap_arts) {
            const w_article **na = realloc(f->arts, n * sizeof *na);
            if (!na) {
                j->rc = na_set_error(j->msg, NEWSARC_E_NOMEM, "out of memory");
                return;
            }
            f->arts = na;
            f->cap_arts = n;
        }
        for (size_t i = 0; i < n; i++) f->arts[i] = &w->arts[p->uniq[p->place[j->first + i]]];
        j->rc = fetch_sources(w, f, f->arts, n, j->msg);
    }
    for (size_t i = j->first, src = 0; i < j->last && !j->rc; i++) {
        w_article *a = &p->w->arts[p->uniq[p->place[i]]];
        size_t at = j->raw.len;
        if (w->fetch_many) {
            j->rc = check_article(w, f->src.data + src, a, &j->raw, j->msg);
            src += a->src_len;
        } else
            j->rc = fetch_article(w, f, a, &j->raw, j->msg);
        if (!j->rc && !p->w->opt.no_text_info)
            j->rc = text_attr(p->w, a->size ? j->raw.data + at : (const uint8_t *)"", a->size, a->id, NULL,
                              &p->attrs[p->place[i]], j->msg);
    }
    if (j->rc) return;
    size_t bound = ZSTD_compressBound(j->raw.len);
    if (na_buf_reserve(&j->comp, bound) != 0) {
        j->rc = na_set_error(j->msg, NEWSARC_E_NOMEM, "out of memory");
        return;
    }
    size_t r = ZSTD_compress2(p->cctx[t], j->comp.data, bound, j->raw.data, j->raw.len);
    if (ZSTD_isError(r)) j->rc = na_set_error(j->msg, NEWSARC_E_COMPRESS, "zstd: %s", ZSTD_getErrorName(r));
    else {
        j->comp.len = r;
        na_hash(j->hash, j->comp.data, j->comp.len);
    }
}

static void block_job(void *ctx, int t, size_t k)
{
    cpool *p = ctx;
    fill_and_compress(p, t, &p->jobs[k % p->cap]);
}

/* ---- finish ------------------------------------------------------------------------------------------------ */



/* A section of one frame: body, then (if any) what was spooled. */
static int write_frame_section(build *b, int s, const char *type, const void *body, size_t n, const spool *tail)
{
    newsarc_writer *w = b->w;
    uint8_t hdr[12];
    uint64_t payload = 4 + (uint64_t)n + (tail ? spool_len(tail) : 0);
    if (payload > UINT32_MAX) return na_set_error(w->msg, NEWSARC_E_LIMIT, "section %s is larger than 4 GiB", type);
    na_frame_header(hdr, (uint32_t)payload, type);
    b->sec[s].offset = b->o.off;
    sec_begin(&b->o);
    emit(&b->o, hdr, 12, EMIT_BOTH);
    emit(&b->o, body, n, EMIT_BOTH);
    if (tail && !tail->in_file) emit(&b->o, tail->mem.data, tail->mem.len, EMIT_BOTH);
    if (tail && tail->in_file) {
        size_t cap = 1u << 20;
        uint8_t *buf = malloc(cap);
        if (!buf) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        for (uint64_t done = 0; done < tail->file_len && !b->o.err;) {
            size_t k = tail->file_len - done < cap ? (size_t)(tail->file_len - done) : cap;
            if (spill_read(w, tail->file_off + done, buf, k) != 0) {
                free(buf);
                return na_set_error(w->msg, NEWSARC_E_IO, "cannot read the temporary file back");
            }
            emit(&b->o, buf, k, EMIT_BOTH);
            done += k;
        }
        free(buf);
    }
    sec_end(&b->o, b->hashes[s]);
    b->sec[s].length = b->o.off - b->sec[s].offset;
    memcpy(b->sec[s].type, type, 5);
    return b->o.err ? na_set_error(w->msg, NEWSARC_E_IO, "write failed") : 0;
}

static int add_block(build *b, const cjob *j)
{
    if (grow((void **)&b->blocks, &b->cap_blocks, b->n_blocks, sizeof *b->blocks) != 0)
        return na_set_error(b->w->msg, NEWSARC_E_NOMEM, "out of memory");
    if (j->rc) return na_set_error(b->w->msg, j->rc, "%s", j->msg);
    if (j->comp.len > UINT32_MAX) return na_set_error(b->w->msg, NEWSARC_E_LIMIT, "block too large");
    na_block_rec *r = &b->blocks[b->n_blocks++];
    r->offset = b->o.off;
    r->csize = (uint32_t)j->comp.len;
    r->usize = (uint32_t)j->raw.len;
    memcpy(r->hash, j->hash, NA_HASH);
    emit(&b->o, j->comp.data, j->comp.len, EMIT_FILE);
    return b->o.err ? na_set_error(b->w->msg, NEWSARC_E_IO, "write failed") : 0;
}

static int write_blocks(build *b, const uint8_t *dict, size_t dict_len)
{
    newsarc_writer *w = b->w;
    int T = w->opt.threads;
    cpool p = {0};
    p.w = w;
    p.uniq = b->uniq;
    p.place = b->place;
    p.attrs = b->attrs;
    p.threads = T;
    size_t cap = p.cap = (size_t)T * BATCH_PER_THREAD;
    p.jobs = calloc(cap, sizeof *p.jobs);
    p.cctx = calloc((size_t)T, sizeof *p.cctx);
    p.fetchers = calloc((size_t)T, sizeof *p.fetchers);
    int rc = (p.jobs && p.cctx && p.fetchers) ? 0 : na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    if (!rc && dict_len) {
        p.cdict = ZSTD_createCDict(dict, dict_len, w->opt.level);
        if (!p.cdict) rc = na_set_error(w->msg, NEWSARC_E_COMPRESS, "zstd could not load the dictionary");
    }
    for (int t = 0; t < T && !rc; t++) {
        ZSTD_CCtx *c = p.cctx[t] = ZSTD_createCCtx();
        if (!c) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
        else {
            ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, w->opt.level);
            ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
            ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
            ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 1);
            if (p.cdict) ZSTD_CCtx_refCDict(c, p.cdict);
        }
    }
    b->sec[NA_S_BLKS].offset = b->o.off;
    memcpy(b->sec[NA_S_BLKS].type, "BLKS", 5);
    na_ring q = {0};
    if (!rc && na_ring_start(&q, cap, T, block_job, &p) != 0) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    size_t i = 0, emitted = 0, planned = 0;
    while (!rc) {
        /* plan blocks into the free slots, from the sizes alone */
        for (; planned - emitted < cap && i < b->n_uniq; planned++) {
            cjob *j = &p.jobs[planned % cap];
            uint64_t len = 0;
            j->first = i;
            uint32_t group = 0; /* the cluster of every article in the block so far, or NO_GROUP */
            while (i < b->n_uniq) {
                w_article *a = &w->arts[b->uniq[b->place[i]]];
                uint32_t c = a->u.at.cluster;
                if (len == 0) group = c;
                else if (c != group) group = NO_GROUP;
                if (len > 0 && (len + a->size > block_limit(w, a, group) || len + a->size > NA_MAX_BLOCK_CONTENT)) break;
                if (len > 0 && keep_together(w, b, i, len)) break;
                a->u.at.block = (uint32_t)planned;
                a->u.at.offset = (uint32_t)len;
                len += a->size;
                i++;
            }
            j->last = i;
            na_ring_publish(&q);
        }
        if (emitted == planned) break; /* all written */
        na_ring_wait(&q, emitted);
        rc = add_block(b, &p.jobs[emitted % cap]);
        emitted++;
    }
    na_ring_stop(&q);
    b->sec[NA_S_BLKS].length = b->o.off - b->sec[NA_S_BLKS].offset;
    /* BLKS hash = H(H(block 0) || H(block 1) || ...) */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NA_HASH);
    for (size_t k = 0; k < b->n_blocks; k++) crypto_generichash_update(&st, b->blocks[k].hash, NA_HASH);
    crypto_generichash_final(&st, b->hashes[NA_S_BLKS], NA_HASH);
    for (size_t k = 0; k < cap && p.jobs; k++) {
        na_buf_free(&p.jobs[k].raw);
        na_buf_free(&p.jobs[k].comp);
    }
    for (int t = 0; t < T && p.fetchers; t++) fetcher_free(&p.fetchers[t]);
    for (int t = 0; t < T && p.cctx; t++) ZSTD_freeCCtx(p.cctx[t]);
    free(p.jobs);
    free(p.cctx);
    free(p.fetchers);
    ZSTD_freeCDict(p.cdict);
    return rc;
}

/* Streaming compressor into a growable buffer: the raw table is never whole in memory. */
typedef struct zsink {
    ZSTD_CCtx *c;
    na_buf out;   /* compressed bytes */
    na_buf stage; /* raw bytes waiting */
    int bad;
} zsink;

static void zsink_push(zsink *z, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {z->stage.data, z->stage.len, 0};
    for (;;) {
        if (na_buf_reserve(&z->out, ZSTD_CStreamOutSize()) != 0) {
            z->bad = 1;
            return;
        }
        ZSTD_outBuffer ob = {z->out.data + z->out.len, z->out.cap - z->out.len, 0};
        size_t r = ZSTD_compressStream2(z->c, &ob, &in, mode);
        z->out.len += ob.pos;
        if (ZSTD_isError(r)) {
            z->bad = 1;
            return;
        }
        if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size) break;
    }
    z->stage.len = 0;
}

static void zsink_add(zsink *z, const void *p, size_t n)
{
    if (z->bad) return;
    if (z->stage.len + n > (1u << 20) && z->stage.len) zsink_push(z, ZSTD_e_continue);
    if (na_buf_append(&z->stage, p, n) != 0) z->bad = 1;
}

static void zsink_u32(zsink *z, uint32_t v)
{
    uint8_t t[4];
    na_st32(t, v);
    zsink_add(z, t, 4);
}

/*
 * META (spec/FORMAT.md 4.4): the entry records cut into frames of at least
 * META_FRAME_TARGET bytes (a record is never split), each compressed on its
 * own with the archive's dictionary, so that a reader decompresses only the
 * frame it needs and several frames at once.  Frames are built here in
 * batches and compressed on the worker threads; their bytes depend only on
 * their content, never on the thread count.
 */
#define META_FRAME_TARGET (256u << 10)

typedef struct mframe {
    na_buf raw, comp;
    size_t first, last; /* its entries */
    uint64_t size;      /* their records' size, as planned */
    int err;            /* filling it: NEWSARC_E_IO or NEWSARC_E_NOMEM */
    size_t rc;          /* zstd result of the compression */
} mframe;

typedef struct mpool {
    newsarc_writer *w;
    mframe *f;
    size_t cap; /* frames in the ring (na_ring) */
    ZSTD_CCtx **cctx;
    na_buf *scratch; /* per thread: metadata read back from the spill file */
} mpool;

static int meta_record(newsarc_writer *w, const w_entry *e, na_buf *out, na_buf *scratch);

/* A worker fills a frame with its entries' records (reading spilled
 * metadata back: one pread each, so on the workers, not on the thread that
 * cuts the frames) and compresses it. */
static void meta_compress(void *arg, int t, size_t k)
{
    mpool *p = arg;
    mframe *f = &p->f[k % p->cap];
    f->raw.len = 0;
    f->err = 0;
    f->rc = 0;
    for (size_t i = f->first; i < f->last && !f->err; i++) f->err = meta_record(p->w, &p->w->ents[i], &f->raw, &p->scratch[t]);
    if (f->err) return;
    size_t bound = ZSTD_compressBound(f->raw.len);
    f->comp.len = 0;
    if (na_buf_reserve(&f->comp, bound) != 0) {
        f->rc = (size_t)-1;
        return;
    }
    f->rc = ZSTD_compress2(p->cctx[t], f->comp.data, bound, f->raw.data, f->raw.len);
    if (!ZSTD_isError(f->rc)) f->comp.len = f->rc;
}

/* The size of an entry's record in the META table (spec/FORMAT.md 4.4). */
static uint64_t meta_record_size(const newsarc_writer *w, const w_entry *e)
{
    return 24 + (uint64_t)e->name_len + strlen(key_str(w, e->key)) + ent_meta_len(e);
}

static int meta_record(newsarc_writer *w, const w_entry *e, na_buf *out, na_buf *scratch)
{
    const char *k = key_str(w, e->key);
    uint32_t kl = (uint32_t)strlen(k);
    const uint8_t *m = meta_at(w, ent_meta_off(e), ent_meta_len(e), scratch);
    if (!m) return NEWSARC_E_IO;
    if (na_buf_u32(out, e->article) || na_buf_u32(out, e->flags) || na_buf_u32(out, e->name_len) ||
        na_buf_append(out, arena_at(w, e->name_off), e->name_len) || na_buf_u32(out, kl) ||
        na_buf_append(out, k, kl) || na_buf_u32(out, e->key_pos) || na_buf_u32(out, ent_meta_len(e)) ||
        na_buf_append(out, m, ent_meta_len(e)))
        return NEWSARC_E_NOMEM;
    return 0;
}

static int build_meta(build *b, const uint8_t *dict, size_t dict_len)
{
    newsarc_writer *w = b->w;
    uint64_t table = 0;
    for (size_t i = 0; i < w->n_ents; i++) table += meta_record_size(w, &w->ents[i]);
    if (table > NA_MAX_META_TABLE) return na_set_error(w->msg, NEWSARC_E_LIMIT, "metadata table larger than 4 GiB");
    int T = w->opt.threads < 1 ? 1 : w->opt.threads;
    /* at least level 6: level 9 made META 0.3% of the archive smaller on a
     * large feed for 8-14% more pack CPU (spec/BENCHMARKS.md "META level,
     * third look") */
    int level = w->opt.level < 6 ? 6 : w->opt.level;
    size_t cap = (size_t)T * 4;
    mpool p = {w, calloc(cap, sizeof(mframe)), cap, calloc((size_t)T, sizeof(ZSTD_CCtx *)),
               calloc((size_t)T, sizeof(na_buf))};
    ZSTD_CDict *cd = dict_len ? frame_cdict(dict, dict_len, level, META_FRAME_TARGET) : NULL;
    na_buf *head = &b->meta_head, names = {0};
    /* the compressed frames stay in memory only within what is left of the metadata budget */
    uint64_t budget = w->opt.meta_memory > w->meta_mem ? w->opt.meta_memory - w->meta_mem : 0;
    int rc = !p.f || !p.cctx || !p.scratch || (dict_len && !cd) ? NEWSARC_E_NOMEM : 0;
    for (int t = 0; t < T && !rc; t++) {
        ZSTD_CCtx *c = p.cctx[t] = ZSTD_createCCtx();
        if (!c) rc = NEWSARC_E_NOMEM;
        else if (cd) ZSTD_CCtx_refCDict(c, cd);
        else ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
        if (c) {
            ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
            /* names and metadata are not covered by the article ids: the
             * checksum lets cat, list and extract catch a damaged frame */
            ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
            ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 1);
        }
    }
    /* header and directory first (the frame sizes are known only at the end) */
    uint32_t n_frames = 0; /* written out */
    if (!rc && na_buf_reserve(head, NA_META_FIXED - 4) != 0) rc = NEWSARC_E_NOMEM;
    if (!rc) head->len = NA_META_FIXED - 4;
    /* frames are cut here, in order, from the records' sizes (a frame ends
     * with the record that brings it to META_FRAME_TARGET bytes), while the
     * workers fill and compress the ones before */
    na_ring q = {0};
    if (!rc && na_ring_start(&q, cap, T, meta_compress, &p) != 0) rc = NEWSARC_E_NOMEM;
    size_t i = 0, planned = 0;
    while (!rc) {
        for (; planned - n_frames < cap && i < w->n_ents && !rc; planned++) {
            mframe *f = &p.f[planned % cap];
            const w_entry *first = &w->ents[i];
            uint64_t raw = 0;
            f->first = i;
            while (i < w->n_ents && raw < META_FRAME_TARGET) raw += meta_record_size(w, &w->ents[i++]);
            f->last = i;
            f->size = raw;
            if (na_buf_append(&names, arena_at(w, first->name_off), first->name_len)) rc = NEWSARC_E_NOMEM;
            if (!rc) {
                uint8_t d[NA_META_FRAME_REC] = {0}; /* csize filled in after compression */
                na_st32(d + 4, (uint32_t)raw);
                na_st32(d + 8, (uint32_t)(f->last - f->first));
                na_st32(d + 12, first->name_len);
                if (na_buf_append(head, d, sizeof d)) rc = NEWSARC_E_NOMEM;
            }
            if (!rc) na_ring_publish(&q);
        }
        if (rc || n_frames == planned) break;
        na_ring_wait(&q, n_frames);
        mframe *f = &p.f[n_frames % cap];
        if (f->err || f->raw.len != f->size) { /* the second cannot happen: meta_record_size is meta_record's */
            rc = f->err ? f->err : NEWSARC_E_COMPRESS;
            break;
        }
        if (ZSTD_isError(f->rc) || f->comp.len > UINT32_MAX) {
            rc = NEWSARC_E_COMPRESS;
            break;
        }
        na_st32(head->data + NA_META_FIXED - 4 + (size_t)n_frames * NA_META_FRAME_REC, (uint32_t)f->comp.len);
        if (spool_add(w, &b->meta_frames, f->comp.data, f->comp.len, budget)) rc = -1; /* message set */
        n_frames++;
    }
    na_ring_stop(&q);
    if (!rc) {
        /* payload after the type: frame_count, table_size, entry_count, reserved */
        na_st32(head->data, n_frames);
        na_st64(head->data + 4, table);
        na_st32(head->data + 12, (uint32_t)w->n_ents);
        na_st32(head->data + 16, 0);
        if (na_buf_append(head, names.data, names.len)) rc = NEWSARC_E_NOMEM;
    }
    if (rc == -1) rc = NEWSARC_E_IO;
    else if (rc == NEWSARC_E_IO) rc = na_set_error(w->msg, rc, "cannot read metadata back from the temporary file");
    else if (rc == NEWSARC_E_COMPRESS) rc = na_set_error(w->msg, rc, "could not compress the metadata");
    else if (rc) rc = na_set_error(w->msg, rc, "out of memory for the metadata");
    for (size_t k = 0; k < cap && p.f; k++) {
        na_buf_free(&p.f[k].raw);
        na_buf_free(&p.f[k].comp);
    }
    for (int t = 0; t < T && p.cctx; t++) ZSTD_freeCCtx(p.cctx[t]);
    for (int t = 0; t < T && p.scratch; t++) na_buf_free(&p.scratch[t]);
    free(p.f);
    free(p.cctx);
    free(p.scratch);
    ZSTD_freeCDict(cd);
    na_buf_free(&names);
    return rc;
}

/*
 * Optional section "attr" (spec/FORMAT.md 4.9): per article, in id order,
 * what ICU tells about the text.  Its table is zstd-compressed like META's.
 */
typedef struct {
    const char *name;
    uint16_t num;
} cs_name;

static int cmp_cs_name(const void *x, const void *y)
{
    return strcmp(((const cs_name *)x)->name, ((const cs_name *)y)->name);
}

/*
 * The attr section's compressed body (the charset hints applied first),
 * built beside the META section's write: attr_job on a second thread.
 */
typedef struct attr_job {
    build *b;
    zsink z;
    int rc;
    char msg[NA_ERRMSG];
} attr_job;

static int build_attr(build *b, zsink *zout, char msg[NA_ERRMSG])
{
    newsarc_writer *w = b->w;
    /* The worker threads number charset names in the order they meet them,
     * which depends on scheduling: write the names sorted (bytewise, as the
     * spec requires) and renumber the records to match. */
    cs_name order[NA_MAX_CHARSETS];
    uint16_t renum[NA_MAX_CHARSETS + 1];
    for (uint16_t i = 0; i < w->n_charsets; i++) order[i] = (cs_name){w->charsets[i + 1], (uint16_t)(i + 1)};
    qsort(order, w->n_charsets, sizeof *order, cmp_cs_name);
    renum[0] = 0;
    for (uint16_t i = 0; i < w->n_charsets; i++) renum[order[i].num] = (uint16_t)(i + 1);
    uint64_t table = 12 + (uint64_t)NA_ATTR_REC * b->n_uniq;
    for (uint16_t i = 1; i <= w->n_charsets; i++) table += 1 + strlen(w->charsets[i]);
    zsink z = {0};
    z.c = ZSTD_createCCtx();
    if (!z.c || na_buf_reserve(&z.out, 12) != 0) z.bad = 1;
    else {
        memset(z.out.data, 0, 4);
        na_st64(z.out.data + 4, table);
        z.out.len = 12;
        ZSTD_CCtx_setParameter(z.c, ZSTD_c_compressionLevel, w->opt.level);
        ZSTD_CCtx_setParameter(z.c, ZSTD_c_contentSizeFlag, 1);
        ZSTD_CCtx_setParameter(z.c, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setPledgedSrcSize(z.c, table);
    }
    zsink_u32(&z, (uint32_t)b->n_uniq);
    zsink_u32(&z, w->opt.norm_options);
    zsink_u32(&z, w->n_charsets);
    for (uint16_t i = 0; i < w->n_charsets; i++) {
        const char *name = order[i].name;
        uint8_t l = (uint8_t)strlen(name);
        zsink_add(&z, &l, 1);
        zsink_add(&z, name, l);
    }
    for (size_t i = 0; i < b->n_uniq && !z.bad; i++) {
        const na_attr *a = &b->attrs[i];
        uint8_t rec[NA_ATTR_REC];
        /* normalizing changed nothing: the norm_id is the id's prefix, stored as zeros (free after zstd) */
        int is_id = (a->flags & NA_ATTR_NORM) && !memcmp(a->norm_id, w->arts[b->uniq[i]].id, NA_NORM_ID);
        rec[0] = (uint8_t)(a->flags | (is_id ? NA_ATTR_NORM_IS_ID : 0));
        rec[1] = a->reason;
        rec[2] = a->decl_source;
        rec[3] = a->confidence;
        memcpy(rec + 4, a->script, 4);
        na_st16(rec + 8, renum[a->declared]);
        na_st16(rec + 10, renum[a->detected]);
        na_st16(rec + 12, renum[a->chosen]);
        if (is_id) memset(rec + 14, 0, NA_NORM_ID);
        else memcpy(rec + 14, a->norm_id, NA_NORM_ID);
        zsink_add(&z, rec, sizeof rec);
    }
    if (!z.bad) zsink_push(&z, ZSTD_e_end);
    ZSTD_freeCCtx(z.c);
    z.c = NULL;
    na_buf_free(&z.stage);
    *zout = z;
    if (z.bad) return na_set_error(msg, NEWSARC_E_COMPRESS, "could not compress the text attributes");
    if (4 + (uint64_t)z.out.len > UINT32_MAX) return na_set_error(msg, NEWSARC_E_LIMIT, "attr section too large");
    return 0;
}

static void *attr_run(void *arg)
{
    attr_job *j = arg;
    char *msg = j->msg; /* not w->msg: the main thread may set that meanwhile */
    j->rc = apply_source_hints(j->b, msg);
    if (!j->rc) j->rc = build_attr(j->b, &j->z, msg);
    return NULL;
}

/* The attr section from what build_attr made. */
static int write_attr(build *b, const zsink *z)
{
    uint8_t hdr[12];
    na_frame_header(hdr, (uint32_t)(4 + z->out.len), "attr");
    b->attr_sec = (na_toc_entry){"attr", 0, b->o.off, 0};
    sec_begin(&b->o);
    emit(&b->o, hdr, 12, EMIT_BOTH);
    emit(&b->o, z->out.data, z->out.len, EMIT_BOTH);
    sec_end(&b->o, b->attr_hash);
    b->attr_sec.length = b->o.off - b->attr_sec.offset;
    b->has_attr = 1;
    return b->o.err ? na_set_error(b->w->msg, NEWSARC_E_IO, "write failed") : 0;
}

/* Location chunks of the index (spec 4.5), compressed on all threads. */
typedef struct lchunks {
    build *b;
    int level;
    uint64_t n_chunks;
    na_buf *out;          /* per chunk: its zstd frame */
    _Atomic uint64_t next;
    _Atomic int err;
} lchunks;

static void loc_compress(void *arg, int t)
{
    (void)t;
    lchunks *j = arg;
    const newsarc_writer *w = j->b->w;
    ZSTD_CCtx *c = ZSTD_createCCtx();
    uint32_t(*loc)[3] = malloc(sizeof *loc * NA_LOC_CHUNK);
    uint8_t *planes = malloc(NA_LOC_REC * NA_LOC_CHUNK);
    if (!c || !loc || !planes) atomic_store(&j->err, 1);
    else {
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, j->level);
        ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
        ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
    }
    for (uint64_t k; !atomic_load(&j->err) && (k = atomic_fetch_add(&j->next, 1)) < j->n_chunks;) {
        size_t first = (size_t)k * NA_LOC_CHUNK, m = j->b->n_uniq - first;
        if (m > NA_LOC_CHUNK) m = NA_LOC_CHUNK;
        for (size_t i = 0; i < m; i++) {
            const w_article *a = &w->arts[j->b->uniq[first + i]];
            loc[i][0] = a->u.at.block;
            loc[i][1] = a->u.at.offset;
            loc[i][2] = (uint32_t)a->size;
        }
        na_locs_to_planes(planes, (const uint32_t(*)[3])loc, m);
        na_buf *o = &j->out[k];
        size_t cap = ZSTD_compressBound(NA_LOC_REC * m);
        if (na_buf_reserve(o, cap) != 0) {
            atomic_store(&j->err, 1);
            break;
        }
        size_t got = ZSTD_compress2(c, o->data, cap, planes, NA_LOC_REC * m);
        if (ZSTD_isError(got)) {
            atomic_store(&j->err, 1);
            break;
        }
        o->len = got;
    }
    ZSTD_freeCCtx(c);
    free(loc);
    free(planes);
}

/* The index: block table, ids and location chunk directory streamed to the
 * output in 64 KiB pieces, then the location chunks (compressed first, so
 * that the frame length is known). */
static int write_index(build *b, uint8_t root[NA_HASH])
{
    newsarc_writer *w = b->w;
    if (b->n_blocks > UINT32_MAX) return na_set_error(w->msg, NEWSARC_E_LIMIT, "too many blocks");
    lchunks j = {.b = b, .level = w->opt.level < 9 ? 9 : w->opt.level, .n_chunks = na_loc_chunks(b->n_uniq)};
    j.out = calloc(j.n_chunks ? j.n_chunks : 1, sizeof *j.out);
    if (!j.out) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    int T = w->opt.threads;
    if ((uint64_t)T > j.n_chunks) T = (int)j.n_chunks;
    na_run_threads(T, loc_compress, &j);
    uint64_t size = 12 + (uint64_t)NA_BLOCK_REC * b->n_blocks + (uint64_t)NA_ID_REC * b->n_uniq +
                    (uint64_t)NA_LOC_CHUNK_REC * j.n_chunks;
    for (uint64_t k = 0; k < j.n_chunks; k++) size += j.out[k].len;
    int rc = 0;
    if (atomic_load(&j.err)) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory compressing the index");
    else if (size + 4 > UINT32_MAX) rc = na_set_error(w->msg, NEWSARC_E_LIMIT, "index larger than 4 GiB");
    if (rc) {
        for (uint64_t k = 0; k < j.n_chunks; k++) na_buf_free(&j.out[k]);
        free(j.out);
        return rc;
    }
    /* staged 1 MiB at a time: emit hashes the section beside the file on another thread */
    enum { STAGE = 1u << 20 };
    uint8_t *stage = malloc(STAGE);
    if (!stage) {
        for (uint64_t k = 0; k < j.n_chunks; k++) na_buf_free(&j.out[k]);
        free(j.out);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    na_frame_header(stage, (uint32_t)(size + 4), "INDX");
    na_st32(stage + 12, (uint32_t)b->n_blocks);
    na_st32(stage + 16, (uint32_t)b->n_uniq);
    na_st32(stage + 20, 0);
    n = 24;
    b->sec[NA_S_INDX] = (na_toc_entry){"INDX", 0, b->o.off, size + 12};
    sec_begin(&b->o);
    for (size_t i = 0; i < b->n_blocks; i++) {
        if (n + NA_BLOCK_REC > STAGE) {
            emit(&b->o, stage, n, EMIT_BOTH);
            n = 0;
        }
        na_block_encode(stage + n, &b->blocks[i]);
        n += NA_BLOCK_REC;
    }
    /* the root hashes the id table as staged, 1 MiB at a time (one update
     * per id was 1M calls on m1); the records are read in id order, all
     * over the article array: prefetched a few ahead */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NA_HASH);
    size_t ids_at = n; /* where this stage's ids begin */
    for (size_t i = 0; i < b->n_uniq; i++) {
        if (i + 8 < b->n_uniq) __builtin_prefetch(w->arts[b->uniq[i + 8]].id);
        if (n + NA_ID_REC > STAGE) {
            crypto_generichash_update(&st, stage + ids_at, n - ids_at);
            emit(&b->o, stage, n, EMIT_BOTH);
            n = ids_at = 0;
        }
        memcpy(stage + n, w->arts[b->uniq[i]].id, NA_HASH);
        n += NA_ID_REC;
    }
    crypto_generichash_update(&st, stage + ids_at, n - ids_at);
    for (uint64_t k = 0; k < j.n_chunks; k++) {
        if (n + NA_LOC_CHUNK_REC > STAGE) {
            emit(&b->o, stage, n, EMIT_BOTH);
            n = 0;
        }
        na_st32(stage + n, (uint32_t)j.out[k].len);
        n += NA_LOC_CHUNK_REC;
    }
    emit(&b->o, stage, n, EMIT_BOTH);
    free(stage);
    for (uint64_t k = 0; k < j.n_chunks; k++) {
        emit(&b->o, j.out[k].data, j.out[k].len, EMIT_BOTH);
        na_buf_free(&j.out[k]);
    }
    free(j.out);
    crypto_generichash_final(&st, root, NA_HASH);
    sec_end(&b->o, b->hashes[NA_S_INDX]);
    if (b->o.err) return na_set_error(w->msg, NEWSARC_E_IO, "write failed");
    if (b->o.off - b->sec[NA_S_INDX].offset != size + 12) return na_set_error(w->msg, NEWSARC_E_STATE, "internal: index size");
    return 0;
}

/* Manifest text with self-referencing positions, iterated to a fixed point. */
static int build_manifest(build *b, const uint8_t root[NA_HASH], size_t dict_len, na_buf *text)
{
    newsarc_writer *w = b->w;
    na_manifest m;
    memset(&m, 0, sizeof m);
    m.fmt_major = NEWSARC_FORMAT_MAJOR;
    m.fmt_minor = NEWSARC_FORMAT_MINOR;
    snprintf(m.zstd_version, sizeof m.zstd_version, "%s", ZSTD_versionString());
    m.level = w->opt.level;
    m.block_size = w->opt.block_size;
    m.dict_size = dict_len;
    m.articles = b->n_uniq;
    m.entries = w->n_ents;
    m.blocks = b->n_blocks;
    memcpy(m.root, root, NA_HASH);
    for (int s = 0; s <= NA_S_INDX; s++) {
        m.sec[s] = b->sec[s];
        memcpy(m.sec_hash[s], b->hashes[s], NA_HASH);
    }
    if (b->has_attr) {
        m.n_opt = 1;
        m.opt[0] = b->attr_sec;
        memcpy(m.opt_hash[0], b->attr_hash, NA_HASH);
        m.opt_after[0] = NA_S_META;
    }
    size_t foot_len = na_footer_frame_size(NA_S_COUNT + m.n_opt);
    uint64_t mani_off = b->o.off;
    size_t len = 0, prev = (size_t)-1;
    for (int iter = 0; iter < 8 && len != prev; iter++) {
        prev = len;
        m.sec[NA_S_MANI] = (na_toc_entry){"MANI", 0, mani_off, NA_FRAME_HDR + 4 + (uint64_t)len};
        m.sec[NA_S_SIGN] = (na_toc_entry){"SIGN", 0, m.sec[NA_S_MANI].offset + m.sec[NA_S_MANI].length, NA_SIGN_FRAME};
        m.sec[NA_S_FOOT] = (na_toc_entry){"FOOT", 0, m.sec[NA_S_SIGN].offset + NA_SIGN_FRAME, foot_len};
        m.file_length = m.sec[NA_S_FOOT].offset + foot_len;
        len = na_manifest_format(NULL, 0, &m);
    }
    if (len != prev) return na_set_error(w->msg, NEWSARC_E_LIMIT, "manifest length does not settle");
    text->len = 0;
    if (na_buf_reserve(text, len + 1) != 0) return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    na_manifest_format((char *)text->data, len + 1, &m);
    text->len = len;
    for (int s = NA_S_MANI; s < NA_S_COUNT; s++) b->sec[s] = m.sec[s];
    return 0;
}

/* The dictionary sample, once the dictionary is trained. */
static void release_samples(newsarc_writer *w)
{
    for (size_t i = 0; i < w->n_samp; i++) free(w->samp[i].data);
    free(w->samp);
    w->samp = NULL;
    w->n_samp = w->cap_samp = 0;
}

/*
 * Entries, names, placement keys and metadata, once META is built: the
 * blocks need only the article records (n_ents stays for the manifest).
 */
static void release_entries(newsarc_writer *w)
{
    free(w->ents);
    w->ents = NULL;
    w->cap_ents = 0;
    for (size_t i = 0; i < w->n_chunks; i++) free(w->chunks[i]);
    free(w->chunks);
    w->chunks = NULL;
    w->n_chunks = w->cap_chunks = w->chunk_used = 0;
}

/* The second key of the canonical entry order (spec 9.2): entries with the
 * same name follow their articles' locations, that is the placement order
 * (blocks are filled in placement order, so (block, offset, length) grows
 * with it and names one article).  The entries are sorted by (name, article,
 * ...) already: each run of equal names is sorted again by placement rank,
 * ties (entries of one article) keeping their order.  Keeps JSON Lines
 * metadata of similar articles together in META (m1: 40.9 -> 35.8 MB). */
static _Thread_local const uint32_t *g_rank;

static int cmp_run_at(const void *x, const void *y)
{
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    uint32_t ri = g_rank[g_ents[i].article], rj = g_rank[g_ents[j].article];
    if (ri != rj) return ri < rj ? -1 : 1;
    return i < j ? -1 : i > j;
}

/*
 * Placement order: clusters of similar articles stay together, placed where
 * their first member (by key) would be; within a cluster, by key: the order
 * (key of the cluster's representative, key of the article), where a key
 * is (placement key, id).  Without comparisons: unique articles are in id
 * order, so a stable counting sort by placement-key rank gives the key
 * order, and a second one by the representative's position in it (each
 * representative is its cluster's first member by key) the placement.
 * (qsort with a comparator was 0.9 s of m1's pack, on one core.)
 */
static int place_articles(build *b, const uint32_t *rank, const uint32_t *cl)
{
    newsarc_writer *w = b->w;
    size_t n = b->n_uniq;
    uint32_t n_ranks = 0;
    for (size_t p = 0; p < n; p++)
        if (rank[p] >= n_ranks) n_ranks = rank[p] + 1;
    size_t nc = (n_ranks > n ? n_ranks : n) + 1;
    uint32_t *cnt = calloc(nc, sizeof *cnt), *keyord = malloc(sizeof *keyord * (n ? n : 1));
    b->place = malloc(sizeof *b->place * (n ? n : 1));
    if (!cnt || !keyord || !b->place) {
        free(cnt);
        free(keyord);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    /* key order: by rank, stably over id order */
    for (size_t p = 0; p < n; p++) cnt[rank[p] + 1]++;
    for (size_t r = 1; r <= n_ranks; r++) cnt[r] += cnt[r - 1];
    for (size_t p = 0; p < n; p++) keyord[cnt[rank[p]]++] = (uint32_t)p;
    /* keypos of every article, in b->place for now */
    uint32_t *keypos = b->place;
    for (size_t k = 0; k < n; k++) keypos[keyord[k]] = (uint32_t)k;
    /* placement: by the representative's key position, stably over key order */
    memset(cnt, 0, nc * sizeof *cnt);
    for (size_t p = 0; p < n; p++) cnt[keypos[cl[p]] + 1]++;
    for (size_t k = 1; k <= n; k++) cnt[k] += cnt[k - 1];
    uint32_t *rep = malloc(sizeof *rep * (n ? n : 1)); /* the representative's key position, per article */
    if (!rep) {
        free(cnt);
        free(keyord);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    for (size_t p = 0; p < n; p++) rep[p] = keypos[cl[p]];
    for (size_t k = 0; k < n; k++) {
        uint32_t p = keyord[k];
        b->place[cnt[rep[p]]++] = p; /* keypos is no longer read */
    }
    free(rep);
    free(cnt);
    free(keyord);
    return 0;
}

static int order_by_location(build *b)
{
    newsarc_writer *w = b->w;
    size_t n = w->n_ents;
    uint32_t *rank = malloc(sizeof *rank * (b->n_uniq ? b->n_uniq : 1));
    uint32_t *idx = malloc(sizeof *idx * (n ? n : 1));
    if (!rank || !idx) {
        free(rank);
        free(idx);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->n_uniq; i++) rank[b->place[i]] = (uint32_t)i;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    g_ents = w->ents;
    g_rank = rank;
    int moved = 0;
    for (size_t s = 0, e; s < n; s = e) {
        const w_entry *a = &w->ents[s];
        for (e = s + 1; e < n && w->ents[e].name_len == a->name_len &&
                        !memcmp(arena_at(w, w->ents[e].name_off), arena_at(w, a->name_off), a->name_len);
             e++)
            ;
        if (e - s > 64 && a->name_len == 0) { /* a JSON feed's entries: by rank, stably (a counting sort) */
            uint32_t *cnt = calloc(b->n_uniq + 1, sizeof *cnt);
            if (!cnt) {
                free(rank);
                free(idx);
                return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
            }
            for (size_t i = s; i < e; i++) cnt[rank[w->ents[i].article] + 1]++;
            for (size_t r = 1; r < b->n_uniq; r++) cnt[r] += cnt[r - 1];
            for (size_t i = s; i < e; i++) idx[s + cnt[rank[w->ents[i].article]]++] = (uint32_t)i;
            free(cnt);
            moved = 1;
        } else if (e - s > 1) {
            qsort(idx + s, e - s, sizeof *idx, cmp_run_at);
            moved = 1;
        }
    }
    if (moved) permute_entries(w->ents, n, idx);
    free(idx);
    free(rank);
    /* the entry giving each article its placement key moved with it */
    for (size_t i = n; i-- > 0;) w->arts[b->uniq[w->ents[i].article]].place_ent = (uint32_t)i;
    return 0;
}

/*
 * The article records in id order (ord), the unique ones (uniq) and each
 * record's position among them (map): beside key_rank, on a second thread.
 */
typedef struct id_job {
    const newsarc_writer *w;
    uint32_t *ord, *map, *uniq;
    size_t n_uniq;
    int rc; /* -1: out of memory */
} id_job;

static void *id_order(void *arg)
{
    id_job *j = arg;
    const newsarc_writer *w = j->w;
    g_arts = w->arts; /* cmp_art_id's, on this thread */
    if (sort_by_id(w, j->ord) != 0) {
        j->rc = -1;
        return NULL;
    }
    for (size_t i = 0; i < w->n_arts; i++) {
        uint32_t o = j->ord[i];
        if (j->n_uniq == 0 || memcmp(w->arts[o].id, w->arts[j->uniq[j->n_uniq - 1]].id, NA_HASH) != 0)
            j->uniq[j->n_uniq++] = o;
        j->map[o] = (uint32_t)(j->n_uniq - 1);
    }
    return NULL;
}

/*
 * The entries in canonical order, one per name, each article's placement
 * entry set.  idx has room for n_ents.  Runs beside lsh_join.
 */
static int order_entries(build *b, uint32_t *idx)
{
    newsarc_writer *w = b->w;
    g_meta_err = 0;
    if (sort_entries(w->ents, w->n_ents, idx, b->n_uniq) != 0) /* n_ents == n_arts until deduplicated */
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    /* one name, one article: a second input with the same relative path
     * would make extraction ambiguous */
    size_t kept = w->n_ents ? 1 : 0;
    for (size_t i = 1; i < w->n_ents; i++) {
        const w_entry *p = &w->ents[kept - 1], *e = &w->ents[i];
        int same_name = e->name_len && e->name_len == p->name_len &&
                        !memcmp(arena_at(w, e->name_off), arena_at(w, p->name_off), e->name_len);
        if (same_name && cmp_entry(p, e) == 0) continue; /* the same file given twice: one entry */
        w->ents[kept++] = *e;
        if (same_name && p->article != e->article)
            return na_set_error(w->msg, NEWSARC_E_INPUT, "two different articles have the name '%.*s'",
                                (int)(e->name_len > 300 ? 300 : e->name_len), (const char *)arena_at(w, e->name_off));
    }
    w->n_ents = kept;
    na_buf_free(&g_meta_a);
    na_buf_free(&g_meta_b);
    if (g_meta_err) return na_set_error(w->msg, NEWSARC_E_IO, "cannot read metadata back from the temporary file");
    /* a name may not also be a directory of another name ("x" and "x/y") */
    for (size_t i = 0; i < w->n_ents; i++) {
        const w_entry *e = &w->ents[i];
        const uint8_t *nm = arena_at(w, e->name_off);
        for (uint32_t k = 1; k < e->name_len; k++) {
            if (nm[k] != '/') continue;
            /* binary search for an entry named exactly nm[0..k) */
            size_t lo = 0, hi = w->n_ents;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const w_entry *m = &w->ents[mid];
                if (cmp_bytes(arena_at(w, m->name_off), m->name_len, nm, k) < 0) lo = mid + 1;
                else hi = mid;
            }
            if (lo < w->n_ents && (&w->ents[lo])->name_len == k)
                return na_set_error(w->msg, NEWSARC_E_INPUT, "'%.*s' is both a file and the directory of '%.*s'", (int)k,
                                    (const char *)nm, (int)(e->name_len > 300 ? 300 : e->name_len), (const char *)nm);
        }
    }
    /* placement key of an article: that of its first entry in canonical order
     * (place_ent is not in the union lsh_join reads) */
    for (size_t i = w->n_ents; i-- > 0;) {
        w_article *a = &w->arts[b->uniq[w->ents[i].article]];
        a->place_ent = (uint32_t)i;
    }
    return 0;
}

static int finish(build *b, newsarc_sign_fn sign, void *sign_ctx)
{
    newsarc_writer *w = b->w;
    /* held-back metadata to the file: from here on other threads read it */
    int rc = w->meta_fd >= 0 ? spill_sync(w) : 0;
    na_buf_free(&w->spill_pend);
    if (rc) return rc;
    /* (every array here is 4 bytes per article; the large records are
     * sorted through index arrays, never copied: spec/BENCHMARKS.md "memory") */
    size_t na = w->n_arts ? w->n_arts : 1;
    uint32_t *ord = malloc(sizeof *ord * na), *map = malloc(sizeof *map * na);
    b->uniq = malloc(sizeof *b->uniq * na);
    if (!ord || !map || !b->uniq) {
        free(ord);
        free(map);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    /* placement key ranks beside the unique articles in id order */
    side sd;
    id_job ij = {.w = w, .ord = ord, .map = map, .uniq = b->uniq};
    side_run(&sd, w->opt.threads, id_order, &ij);
    rc = key_rank(w);
    side_wait(&sd);
    if (!rc && ij.rc) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    if (rc) {
        free(ord);
        free(map);
        return rc;
    }
    b->n_uniq = ij.n_uniq;
    g_arts = w->arts;
    g_w = w;
    g_ents = w->ents;
    for (size_t i = 0; i < w->n_ents; i++) w->ents[i].article = map[w->ents[i].article];
    free(map);
    /* the entries' canonical order beside the similarity groups */
    lsh_job lj = {.w = w, .uniq = b->uniq, .n = b->n_uniq, .parent = malloc(sizeof(uint32_t) * (b->n_uniq ? b->n_uniq : 1))};
    if (!lj.parent) {
        free(ord);
        return na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    }
    side_run(&sd, w->opt.threads, lsh_join, &lj);
    rc = order_entries(b, ord);
    side_wait(&sd);
    free(ord);
    if (!rc && lj.rc) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    /* placement order over unique articles (positions in uniq), from each
     * one's key rank and representative gathered once into dense arrays
     * (the records are 1M random reads away each time) */
    uint32_t *rank = rc ? NULL : malloc(sizeof *rank * (b->n_uniq ? b->n_uniq : 1));
    uint32_t *cl = rc ? NULL : malloc(sizeof *cl * (b->n_uniq ? b->n_uniq : 1));
    if (!rc && (!rank || !cl)) rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    if (!rc) {
        for (size_t p = 0; p < b->n_uniq; p++) rank[p] = w->ents[w->arts[b->uniq[p]].place_ent].rank;
        cluster_articles(w, b->uniq, b->n_uniq, lj.parent, rank, cl);
    }
    free(lj.parent);
    if (!rc) rc = place_articles(b, rank, cl);
    free(rank);
    free(cl);
    if (rc) return rc;
    rc = order_by_location(b);
    if (rc) return rc;
    for (size_t i = 0; i < b->n_uniq; i++) b->content += w->arts[b->uniq[i]].size;
    /* dictionary, trained on the sample taken in pass 1 */
    na_buf dict = {0}, zdict = {0};
    rc = train_dictionary(w, b->content, &dict, &zdict);
    release_samples(w);
    /* META does not depend on where the articles land: built (and spooled)
     * now, so that the entries, names and keys are freed before the blocks */
    if (!rc) rc = build_meta(b, dict.data, dict.len);
    if (!rc && !w->opt.no_text_info) rc = source_groups(b);
    if (!rc) release_entries(w);
    if (!rc && !w->opt.no_text_info && !(b->attrs = calloc(b->n_uniq ? b->n_uniq : 1, sizeof *b->attrs)))
        rc = na_set_error(w->msg, NEWSARC_E_NOMEM, "out of memory");
    /* HEAD, DICT */
    if (!rc) {
        uint8_t head[NA_HEAD_FRAME];
        na_head_encode(head);
        crypto_generichash_init(&b->o.file, NULL, 0, NA_HASH);
        sec_begin(&b->o);
        b->sec[NA_S_HEAD] = (na_toc_entry){"HEAD", 0, 0, NA_HEAD_FRAME};
        emit(&b->o, head, NA_HEAD_FRAME, EMIT_BOTH);
        sec_end(&b->o, b->hashes[NA_S_HEAD]);
        rc = b->o.err ? na_set_error(w->msg, NEWSARC_E_IO, "write failed") : 0;
    }
    if (!rc) rc = write_frame_section(b, NA_S_DICT, "DICT", zdict.data, zdict.len, NULL);
    if (!rc) rc = write_blocks(b, dict.data, dict.len);
    /* META is written while the attr section is built (charset hints, then compressed) */
    attr_job aj = {.b = b};
    if (!rc) {
        side sa;
        if (!w->opt.no_text_info) side_run(&sa, w->opt.threads, attr_run, &aj);
        rc = write_frame_section(b, NA_S_META, "META", b->meta_head.data, b->meta_head.len, &b->meta_frames);
        if (!w->opt.no_text_info) {
            side_wait(&sa);
            if (!rc && aj.rc) rc = na_set_error(w->msg, aj.rc, "%s", aj.msg);
            if (!rc) rc = write_attr(b, &aj.z);
        }
    }
    na_buf_free(&aj.z.out);
    uint8_t root[NA_HASH];
    if (!rc) rc = write_index(b, root);
    na_buf mani = {0};
    if (!rc) rc = build_manifest(b, root, dict.len, &mani);
    if (!rc && b->o.off != b->sec[NA_S_MANI].offset) rc = na_set_error(w->msg, NEWSARC_E_STATE, "internal: offsets");
    if (!rc) {
        uint8_t discard[NA_HASH];
        sec_begin(&b->o);
        uint8_t hdr[12];
        na_frame_header(hdr, (uint32_t)(4 + mani.len), "MANI");
        emit(&b->o, hdr, 12, EMIT_BOTH);
        emit(&b->o, mani.data, mani.len, EMIT_BOTH);
        sec_end(&b->o, discard);
        na_hash(w->archive_id, mani.data, mani.len);
    }
    /* SIGN slot */
    if (!rc) {
        uint8_t slot[NA_SIGN_FRAME];
        memset(slot, 0, sizeof slot);
        na_frame_header(slot, NA_SIGN_PAYLOAD, "SIGN");
        if (sign) {
            size_t sl = 0;
            if (sign(sign_ctx, mani.data, mani.len, (char *)slot + 16, NA_SIGN_TEXT_MAX, &sl) != 0 ||
                sl > NA_SIGN_TEXT_MAX)
                rc = na_set_error(w->msg, NEWSARC_E_SIGNATURE, "signing failed");
            else
                na_st32(slot + 12, (uint32_t)sl);
        }
        if (!rc) {
            emit(&b->o, slot, sizeof slot, EMIT_FILE);
            rc = b->o.err ? na_set_error(w->msg, NEWSARC_E_IO, "write failed") : 0;
        }
    }
    /* FOOT */
    if (!rc) {
        na_footer f;
        memset(&f, 0, sizeof f);
        f.major = NEWSARC_FORMAT_MAJOR;
        f.minor = NEWSARC_FORMAT_MINOR;
        /* TOC order: HEAD DICT BLKS META [attr] INDX MANI SIGN FOOT */
        f.count = 0;
        for (int s = 0; s < NA_S_COUNT; s++) {
            f.toc[f.count++] = b->sec[s];
            if (s == NA_S_META && b->has_attr) f.toc[f.count++] = b->attr_sec;
        }
        size_t flen = na_footer_frame_size(f.count);
        f.file_length = b->sec[NA_S_FOOT].offset + flen;
        uint8_t foot[NA_FOOT_FRAME_V1 + NA_TOC_ENTRY];
        na_footer_encode(foot, &f);
        size_t head = flen - NA_FOOT_TAIL;
        emit(&b->o, foot, head, EMIT_FILE);
        crypto_generichash_final(&b->o.file, foot + head, NA_HASH);
        emit(&b->o, foot + head, NA_FOOT_TAIL, 0); /* the checksum itself */
        rc = b->o.err ? na_set_error(w->msg, NEWSARC_E_IO, "write failed") : 0;
        if (!rc && b->o.off != f.file_length) rc = na_set_error(w->msg, NEWSARC_E_STATE, "internal: file length");
    }
    na_buf_free(&mani);
    na_buf_free(&dict);
    na_buf_free(&zdict);
    return rc;
}

int newsarc_writer_finish(newsarc_writer *w, newsarc_write_fn out, void *out_ctx, newsarc_sign_fn sign,
                          void *sign_ctx)
{
    if (w->finished) return na_set_error(w->msg, NEWSARC_E_STATE, "the writer is already finished");
    if (w->opt.level == 0) return na_set_error(w->msg, NEWSARC_E_ARG, "compression level out of range (1..%d)", ZSTD_maxCLevel());
    if (w->opt.block_size > MAX_BLOCK_OPT) return na_set_error(w->msg, NEWSARC_E_ARG, "block size above 64 MiB");
    if (w->opt.dict_size != UINT32_MAX && w->opt.dict_size > NA_MAX_DICT)
        return na_set_error(w->msg, NEWSARC_E_ARG, "dictionary size above 16 MiB");
    if (w->n_ents == 0) return na_set_error(w->msg, NEWSARC_E_INPUT, "no articles to pack");
    w->finished = 1;
    build b;
    memset(&b, 0, sizeof b);
    b.w = w;
    b.o.fn = out;
    b.o.ctx = out_ctx;
    b.o.threads = w->opt.threads;
    int rc = finish(&b, sign, sign_ctx);
    free(b.uniq);
    free(b.place);
    free(b.attrs);
    free(b.src_grp);
    na_buf_free(&b.meta_head);
    na_buf_free(&b.meta_frames.mem);
    free(b.blocks);
    if (!rc) w->finished = 2;
    return rc;
}
