/* internal.h - helpers shared by the lib/ modules.  Not API. */
#ifndef NEWSARC_INTERNAL_H
#define NEWSARC_INTERNAL_H

#include "newsarc.h"
#include "format.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NA_ERRMSG 512

/* A growable byte buffer. */
typedef struct na_buf {
    uint8_t *data;
    size_t len, cap;
} na_buf;

int na_buf_reserve(na_buf *b, size_t extra); /* 0 ok, -1 nomem */
int na_buf_append(na_buf *b, const void *p, size_t n);
int na_buf_u32(na_buf *b, uint32_t v);
void na_buf_free(na_buf *b);

/*
 * A bump allocator over a list of blocks, for many small pieces that die
 * together: reset makes every block free again (and keeps them), free gives
 * them back.  One thread at a time.
 */
typedef struct na_arena_blk na_arena_blk;
typedef struct na_arena {
    na_arena_blk *head, *cur;
} na_arena;
void *na_arena_alloc(na_arena *a, size_t n); /* NULL: out of memory */
void na_arena_reset(na_arena *a);
void na_arena_free(na_arena *a);

/* vsnprintf into a fixed message buffer; returns code for tail calls. */
int na_set_error(char msg[NA_ERRMSG], int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * META frame by frame (list, extract): na_meta_stream_begin reads the frame
 * directory and the dictionary, on the reader's thread; then entries are
 * read through caches (below), and na_meta_stream_entries gives a frame's
 * entry count from the directory.
 */
int na_meta_stream_begin(newsarc_reader *r, uint32_t *frames);
uint32_t na_meta_stream_entries(const newsarc_reader *r, uint32_t f); /* from the directory */
/* Entries in any order through a few decoded META frames kept by one thread
 * (after na_meta_stream_begin; one cache per thread, several caches may read
 * one reader together).  Entries stay valid until the cache decodes more
 * frames than it holds (4). */
typedef struct na_meta_cache na_meta_cache;
na_meta_cache *na_meta_cache_new(const newsarc_reader *r);
int na_meta_cache_entry(na_meta_cache *c, uint64_t i, newsarc_entry *e, uint64_t *article, char msg[NA_ERRMSG]);
void na_meta_cache_free(na_meta_cache *c);
/* Prefetch what reading article i touches: its id, location and attr record
 * (those already decoded).  Reads only: any thread. */
void na_reader_prefetch(const newsarc_reader *r, uint64_t index);
/* newsarc_reader_article with its message in msg instead of the reader's,
 * so several threads may call it on one reader. */
int na_reader_article_msg(newsarc_reader *r, uint64_t index, newsarc_article_info *out, char msg[NA_ERRMSG]);
/* Every INDX location chunk decoded now, on `threads` threads, for a reader
 * about to look up most articles (list, extract): otherwise the first job
 * decodes them one at a time under the reader's lock while the other
 * threads wait.  Damaged chunks are reported at their first use, as
 * always.  Only while no other thread uses r. */
void na_reader_decode_locations(newsarc_reader *r, int threads);
/* Where article i is stored: its block, offset and length, as
 * na_reader_article_msg (not checked against the block table). */
int na_reader_article_where(newsarc_reader *r, uint64_t index, uint32_t where[3], char msg[NA_ERRMSG]);

static inline void na_hash(uint8_t out[NA_HASH], const void *p, size_t n)
{
    crypto_generichash(out, NA_HASH, (const unsigned char *)p, n, NULL, 0);
}

/*
 * Run fn(arg, t) for t = 0 .. threads-1, t = 0 on the calling thread and the
 * others on new threads; a share whose thread cannot start runs on the
 * calling thread afterwards.  The work split must depend only on t and
 * threads (never on timing) for results that do not depend on threads.
 */
void na_run_threads(int threads, void (*fn)(void *arg, int t), void *arg);

/*
 * Jobs done by worker threads while the calling thread prepares the next
 * ones and takes the results in order (pack's blocks and META frames).
 * Job k lives in slot k % cap of the caller's array.  The caller fills slot
 * `planned` and publishes it; workers take published jobs in order and run
 * fn(ctx, t, k) (t: the worker, 0 .. threads-1); na_ring_wait(k) returns
 * when job k is done (and runs it on the calling thread if no worker could
 * start).  A slot may be filled again once its job was waited for.  What a
 * job produces must depend only on k, never on t or timing.
 */
typedef struct na_ring {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    size_t cap, planned, taken;
    uint8_t *ready; /* per slot: its job is done */
    int stop, workers;
    void (*fn)(void *ctx, int t, size_t k);
    void *ctx;
    pthread_t th[64];
} na_ring;

int na_ring_start(na_ring *q, size_t cap, int threads, void (*fn)(void *ctx, int t, size_t k), void *ctx); /* 0, or -1: no memory */
void na_ring_publish(na_ring *q); /* job q->planned is ready to take */
void na_ring_wait(na_ring *q, size_t k);
void na_ring_stop(na_ring *q); /* after the last wait, or on an error: joins the workers */

/* ICU, opened on first use (icu.h): 0, or -1 with na_icu_error() saying why. */
int na_icu_load(void);
const char *na_icu_error(void);

/* Overflow-safe a + b <= limit. */
static inline bool na_add_ok(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

/*
 * Entry names: valid UTF-8, relative, '/'-separated, no empty, "." or ".."
 * components, no C0/C1/DEL characters, at most 4096 bytes.
 * @return NULL if acceptable, else a static description.
 */
const char *na_name_problem(const char *s, size_t n);

/* Library initialisation (sodium_init), idempotent and thread-safe. */
int na_init(void);

/* Text attributes of one article (optional section "attr", spec/FORMAT.md 4.9). */
#define NA_ATTR_PRESENT 0x1u /* the article was examined */
#define NA_ATTR_UTF8 0x2u    /* its bytes are valid UTF-8 */
#define NA_ATTR_CLEAN 0x4u   /* decoding with the chosen charset substitutes nothing */
#define NA_ATTR_NORM 0x8u    /* norm_id and script are set */
#define NA_ATTR_NORM_IS_ID 0x10u /* norm_id is the id's first 16 bytes (normalizing changed nothing); field zero */
#define NA_ATTR_KNOWN 0x1Fu
#define NA_ATTR_REC 30u      /* bytes per article record */
#define NA_NORM_ID 16u       /* bytes of a norm_id */

typedef struct na_attr {
    uint8_t flags, reason, decl_source, confidence;
    char script[4];                     /* ISO 15924, e.g. "Arab"; zero if unknown */
    uint16_t declared, detected, chosen; /* charset name indexes, 0 = none */
    uint8_t norm_id[NA_NORM_ID];
} na_attr;

/* A hint: article `index`'s index record will be read soon through c (lib/reader.c). */
void na_reader_prefetch_article(const newsarc_cursor *c, uint64_t index);

/* JSON entry helpers (lib/jsonentry.c). */
typedef struct na_json_split {
    uint32_t flags;      /* NEWSARC_ENTRY_* */
    char *meta;          /* compact JSON of the other members (malloc), may be NULL */
    size_t meta_len;
    char *key;           /* text member name (malloc) or NULL */
    size_t key_len;
    uint32_t key_pos;
    const uint8_t *text; /* article bytes: points into *owned or the line */
    size_t text_len;
    char *owned;         /* malloc'd decoded text (TEXT_FIELD) */
    char *place;         /* url-like placement key (malloc) or NULL */
    bool in_arena;       /* meta, key, owned and place are in the scratch's arena, not malloc'd */
} na_json_split;

/*
 * Split one JSON object line into article + metadata.  text_field NULL =
 * the default candidates.  On error returns NEWSARC_E_INPUT with msg set.
 */
int na_json_split_line(const char *line, size_t len, const char *text_field, na_json_split *out, char msg[NA_ERRMSG]);
void na_json_split_free(na_json_split *s);
/* The two ways na_json_split_line works: without a tree (lib/jsonfast.c; 1
 * done, 0 not sure: then out is empty) and with jansson's tree (any line).
 * Exposed so that tests can compare them. */
typedef struct na_json_scratch {
    na_buf tmp, strs, vals; /* reused from line to line by one thread; na_json_scratch_free */
    na_arena *out;          /* where the fast path puts what it returns (NULL: malloc) */
} na_json_scratch;
void na_json_scratch_free(na_json_scratch *sc);
/* sc: buffers to reuse, or NULL */
int na_json_split_fast(const char *line, size_t len, const char *text_field, na_json_split *out, na_json_scratch *sc);
int na_json_split_line_sc(const char *line, size_t len, const char *text_field, na_json_split *out,
                          char msg[NA_ERRMSG], na_json_scratch *sc);
int na_json_split_tree(const char *line, size_t len, const char *text_field, na_json_split *out, char msg[NA_ERRMSG]);
/* longest string member a WHOLE object copies into its listing metadata */
#define NA_WHOLE_META_MAX 256
/*
 * Fast path for reading an article back (pack pass 2): append the decoded
 * string value of the top-level member `key` of the JSON object in line to
 * out, without building a tree.  Lenient: it does not validate the line
 * (pass 1 did, with jansson) and the caller MUST check the result against
 * the article id, falling back to na_json_split_line on a mismatch.
 * 0 if found, -1 if not found or the line is not what it expects.
 */
int na_json_text_fast(const char *line, size_t len, const char *key, na_buf *out);

/*
 * Compact JSON written by newsarc (lib/jsonfast.c).  na_json_compact_object:
 * 1 if s is certainly an object in the compact form of FORMAT.md 10.3 that
 * jansson parses and dumps back to the same bytes (then *members = its
 * member count), 0 if not sure (the caller asks jansson).
 * na_json_put_string: append s as a compact JSON string; -1 if s is not
 * UTF-8 (or no memory), and then nothing is appended.  na_json_text_line: append the JSON line of a
 * TEXT_FIELD entry (spec 10.2) exactly as the jansson path would write it;
 * 0 done, 1 not handled (nothing appended: use the jansson path).
 */
int na_json_compact_object(const char *s, size_t n, uint32_t *members);
/* The index of the first of p[i..n) that may need attention in a JSON string, 16 bytes at a
 * time (SSE2) or 8: a quote, a backslash, a control byte (and with ascii_only, a non-ASCII
 * byte); it may stop early (by less than 16 bytes, or in the last 15), never late. */
size_t na_json_plain_run(const unsigned char *p, size_t n, size_t i, int ascii_only);
/* The vector walk of UTF-8 runs (lib/jsonfast.c): returns the level in use,
 * 2 AVX2, 1 SSE2, 0 words only; level >= 0 asks for one (tests take each). */
int na_jsonfast_simd(int level);
/* Tests: 1 (default) compact objects up to 4 KiB are checked with a stop map, 0 with the string walks; -1 asks. */
int na_jsonfast_map(int on);
int na_json_put_string(na_buf *out, const char *s, size_t n);
int na_json_text_line(const newsarc_entry *e, const void *article, size_t len, na_buf *out);
/* For a checked compact object: 1 if it has a top-level member named key, 0 if not, -1 not sure. */
int na_json_compact_has(const char *meta, size_t n, uint32_t members, const char *key, size_t key_len);
/* na_json_compact_object and na_json_compact_has in one walk: 1 (and *has) when s is a compact
 * object and key needs no escaping, 0 when not sure (ask jansson). */
int na_json_compact_object_has(const char *s, size_t n, uint32_t *members, const char *key, size_t key_len, int *has);
/* For a checked compact object: the decoded value of the string member key into out (1), 0 if
 * there is none or it is not a string, -1 not sure. */
int na_json_compact_string(const char *meta, size_t n, uint32_t members, const char *key, na_buf *out);
/* 1 if s is certainly one JSON object that jansson loads (JSON_ALLOW_NUL; big integers as
 * reals), with whitespace around it allowed; 0 if not sure. */
int na_json_object_valid(const char *s, size_t n);
/* A fast 64-bit check of n bytes (not cryptographic; never stored in an
 * archive): a change confined to one 8-byte lane of every 32 always shows. */
uint64_t na_check64(const void *p, size_t n);
/* Sort the records at base + at[i] (u32 tag, u16 length, then that many
 * bytes) by their bytes (a prefix first), then by tag: the order of
 * qsort with that comparison, faster on keys with long common prefixes
 * (URLs: on m1 pack's key sorting went from about 19% to 7% of the adding
 * thread's samples).  -1 when out of memory (at is left as it was). */
int na_sort_key_recs(const uint8_t *base, uint32_t *at, size_t n);
/* Strict UTF-8 (shortest form, no surrogates, <= U+10FFFF; NUL allowed), as jansson checks strings. */
int na_utf8_valid(const void *s, size_t n);

#endif
