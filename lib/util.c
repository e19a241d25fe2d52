/* util.c - errors, versions, ids and small buffers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

unsigned newsarc_version_number(void) { return NEWSARC_VERSION_NUMBER; }
const char *newsarc_version_string(void) { return NEWSARC_VERSION_STRING; }

const char *newsarc_strerror(int err)
{
    switch (err) {
    case NEWSARC_OK: return "ok";
    case NEWSARC_E_NOMEM: return "out of memory";
    case NEWSARC_E_IO: return "input/output error";
    case NEWSARC_E_CORRUPT: return "archive is damaged or malformed";
    case NEWSARC_E_NOTFOUND: return "not found";
    case NEWSARC_E_ARG: return "invalid argument";
    case NEWSARC_E_UNSUPPORTED: return "unsupported format version or feature";
    case NEWSARC_E_INPUT: return "invalid input data";
    case NEWSARC_E_STATE: return "call not valid in this state";
    case NEWSARC_E_AMBIGUOUS: return "ambiguous id prefix";
    case NEWSARC_E_SIGNATURE: return "signature missing or invalid";
    case NEWSARC_E_LIMIT: return "format limit exceeded";
    case NEWSARC_E_COMPRESS: return "compression failed";
    default: return "unknown error";
    }
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;
static void do_init(void) { init_result = sodium_init() < 0 ? -1 : 0; }

int na_init(void)
{
    pthread_once(&init_once, do_init);
    return init_result;
}

void newsarc_article_id(uint8_t id[NEWSARC_ID_SIZE], const void *data, size_t len)
{
    na_hash(id, data, len);
}

void newsarc_id_to_hex(char hex[NEWSARC_ID_HEX_SIZE + 1], const uint8_t id[NEWSARC_ID_SIZE])
{
    na_hex(hex, id, NEWSARC_ID_SIZE);
}

void newsarc_free(void *p) { free(p); }

int na_buf_reserve(na_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len) return 0;
    if (extra > SIZE_MAX / 2 - b->len) return -1;
    size_t want = b->len + extra, cap = b->cap ? b->cap : 256;
    while (cap < want) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int na_buf_append(na_buf *b, const void *p, size_t n)
{
    if (n == 0) return 0;
    if (na_buf_reserve(b, n) != 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int na_buf_u32(na_buf *b, uint32_t v)
{
    uint8_t t[4];
    na_st32(t, v);
    return na_buf_append(b, t, 4);
}

void na_buf_free(na_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

#define ARENA_BLOCK (32u << 10)

struct na_arena_blk {
    na_arena_blk *next;
    size_t used, cap;
    max_align_t data[];
};

void *na_arena_alloc(na_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n) n = sizeof(max_align_t);
    na_arena_blk *b = a->cur;
    /* the next kept block that has room (a kept block too small for n is left empty this round) */
    while (b && b->cap - b->used < n) {
        if (!b->next) break;
        b = b->next;
    }
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        na_arena_blk *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b) b->next = nb;
        else a->head = nb;
        b = nb;
    }
    a->cur = b;
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void na_arena_reset(na_arena *a)
{
    for (na_arena_blk *b = a->head; b; b = b->next) b->used = 0;
    a->cur = a->head;
}

void na_arena_free(na_arena *a)
{
    for (na_arena_blk *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    a->head = a->cur = NULL;
}

/*
 * Pass 2 of pack reads every article again and must tell that it is what
 * pass 1 hashed.  Comparing BLAKE2b again cost 0.65 CPU-seconds of a
 * million articles' pack; this check runs at several GB/s.  Four lanes take
 * the 8-byte words in turn; a lane step, a = (a ^ w) * M, a ^= a >> 29, is a
 * bijection of the lane for a given word, and the lanes are then folded in
 * one after another with bijective steps too, so a change confined to one
 * lane always changes the result (others do but for a 2^-64 chance).  Only
 * accidental changes matter here: a forged one would give an archive whose
 * ids do not match, which verify reports.
 */
#define CHECK_M UINT64_C(0x9FB21C651E98DF25)

static inline uint64_t check_step(uint64_t a, uint64_t w)
{
    a = (a ^ w) * CHECK_M;
    return a ^ (a >> 29);
}

uint64_t na_check64(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t a[4] = {UINT64_C(0x243F6A8885A308D3), UINT64_C(0x13198A2E03707344), UINT64_C(0xA4093822299F31D0),
                     UINT64_C(0x082EFA98EC4E6C89)};
    size_t i = 0;
    for (; n - i >= 32; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, s + i + 8 * (size_t)k, 8);
            a[k] = check_step(a[k], w);
        }
    if (n > i) {
        uint8_t tail[32] = {0};
        memcpy(tail, s + i, n - i);
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, tail + 8 * k, 8);
            a[k] = check_step(a[k], w);
        }
    }
    uint64_t h = check_step(UINT64_C(0x452821E638D01377), (uint64_t)n); /* the length tells zero padding apart */
    for (int k = 0; k < 4; k++) h = check_step(h, a[k]);
    h ^= h >> 32;
    return h * CHECK_M;
}

/*
 * The placement keys of pack (names, URLs) share long prefixes: qsort
 * through a comparator spends most of its time in memcmp over them.  Here
 * the records are sorted 8 bytes at a time, most significant first: each
 * item caches the big-endian word of its key at the current depth, the
 * items are sorted by that word (local data, no indirection), and every
 * group with equal words is sorted again on the next 8 bytes.  A key that
 * ends within the word is a prefix of the others in its group (it was
 * padded with zeros), so it goes first, ordered by length and then tag.
 */
typedef struct key_item {
    uint64_t w; /* the key's bytes [d, d + 8), zero-padded; or (length, tag) once it ended */
    uint32_t at, len;
} key_item;

static void key_swap(key_item *a, key_item *b)
{
    key_item t = *a;
    *a = *b;
    *b = t;
}

static void key_sift(key_item *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && v[l].w > v[m].w) m = l;
        if (l + 1 < n && v[l + 1].w > v[m].w) m = l + 1;
        if (m == i) return;
        key_swap(&v[i], &v[m]);
        i = m;
    }
}

/* By w: quicksort with three-way partitions (runs of equal words cost one
 * pass), heapsort below a depth limit (no quadratic case on crafted keys). */
static void key_sort_w(key_item *v, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            for (size_t i = n / 2; i-- > 0;) key_sift(v, n, i);
            for (size_t i = n; i-- > 1;) {
                key_swap(&v[0], &v[i]);
                key_sift(v, i, 0);
            }
            return;
        }
        uint64_t a = v[0].w, b = v[n / 2].w, c = v[n - 1].w;
        uint64_t p = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        size_t lt = 0, i = 0, gt = n;
        while (i < gt) {
            if (v[i].w < p) key_swap(&v[lt++], &v[i++]);
            else if (v[i].w > p) key_swap(&v[i], &v[--gt]);
            else i++;
        }
        if (lt < n - gt) {
            key_sort_w(v, lt, depth);
            v += gt;
            n -= gt;
        } else {
            key_sort_w(v + gt, n - gt, depth);
            n = lt;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && v[k].w < v[k - 1].w; k--) key_swap(&v[k], &v[k - 1]);
}

static uint64_t key_word(const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    if (n >= 8) {
        for (int i = 0; i < 8; i++) w = w << 8 | p[i];
        return w;
    }
    for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (56 - 8 * i);
    return w;
}

typedef struct key_task {
    size_t lo, n, d;
} key_task;

int na_sort_key_recs(const uint8_t *base, uint32_t *at, size_t n)
{
    if (n < 2) return 0;
    key_item *v = malloc(sizeof *v * n);
    size_t cap = 64, top = 0;
    key_task *st = malloc(sizeof *st * cap);
    if (!v || !st) {
        free(v);
        free(st);
        return -1;
    }
    for (size_t i = 0; i < n; i++) v[i] = (key_item){0, at[i], na_ld16(base + at[i] + 4)};
    unsigned depth = 0;
    for (size_t k = n; k; k >>= 1) depth += 2;
    st[top++] = (key_task){0, n, 0};
    while (top) {
        key_task t = st[--top];
        key_item *g = v + t.lo;
        for (size_t i = 0; i < t.n; i++) {
            size_t len = g[i].len;
            g[i].w = len > t.d ? key_word(base + g[i].at + 6 + t.d, len - t.d) : 0;
        }
        key_sort_w(g, t.n, depth);
        for (size_t s = 0, e; s < t.n; s = e) {
            for (e = s + 1; e < t.n && g[e].w == g[s].w; e++) {}
            if (e - s < 2) continue;
            /* the keys that end within this word first, by (length, tag) */
            size_t m = s;
            for (size_t i = s; i < e; i++)
                if (g[i].len <= t.d + 8) key_swap(&g[m++], &g[i]);
            for (size_t i = s; i < m; i++) g[i].w = (uint64_t)g[i].len << 32 | na_ld32(base + g[i].at);
            key_sort_w(g + s, m - s, depth);
            if (e - m < 2) continue;
            if (top == cap) {
                key_task *ns = realloc(st, sizeof *st * cap * 2);
                if (!ns) {
                    free(v);
                    free(st);
                    return -1;
                }
                st = ns;
                cap *= 2;
            }
            st[top++] = (key_task){t.lo + m, e - m, t.d + 8};
        }
    }
    for (size_t i = 0; i < n; i++) at[i] = v[i].at;
    free(v);
    free(st);
    return 0;
}

int na_set_error(char msg[NA_ERRMSG], int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, NA_ERRMSG, fmt, ap);
    va_end(ap);
    return code;
}

/* Names: valid UTF-8, relative, '/'-separated, no empty, "." or ".." parts, no controls. */
const char *na_name_problem(const char *s, size_t n)
{
    if (n == 0) return NULL;
    if (n > NA_MAX_NAME) return "name is longer than 4096 bytes";
    if (s[0] == '/') return "name is an absolute path";
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && (unsigned char)s[i] < 0x20) return "name contains a control character";
        if (i < n && (unsigned char)s[i] == 0x7f) return "name contains a control character";
        if (i == n || s[i] == '/') {
            size_t cl = i - start;
            if (cl == 0) return "name has an empty path component";
            if ((cl == 1 && s[start] == '.') || (cl == 2 && s[start] == '.' && s[start + 1] == '.'))
                return "name has a '.' or '..' component";
            start = i + 1;
        }
    }
    /* UTF-8 validity (shortest form, no surrogates) */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return "name is not valid UTF-8";
        if (i + len > n) return "name is not valid UTF-8";
        for (size_t k = 1; k < len; k++) {
            unsigned char d = (unsigned char)s[i + k];
            if ((d & 0xC0) != 0x80) return "name is not valid UTF-8";
            cp = (cp << 6) | (d & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return "name is not valid UTF-8";
        if (cp >= 0x80 && cp < 0xA0) return "name contains a control character";
        i += len;
    }
    return NULL;
}


typedef struct na_thread_arg {
    void (*fn)(void *, int);
    void *arg;
    int t;
} na_thread_arg;

static void *na_thread_main(void *p)
{
    na_thread_arg *a = p;
    a->fn(a->arg, a->t);
    return NULL;
}

void na_run_threads(int threads, void (*fn)(void *arg, int t), void *arg)
{
    enum { MAX = 256 };
    if (threads < 1) threads = 1;
    if (threads > MAX) threads = MAX;
    pthread_t th[MAX];
    na_thread_arg ta[MAX];
    int started[MAX] = {0};
    for (int t = 1; t < threads; t++) {
        ta[t] = (na_thread_arg){fn, arg, t};
        started[t] = pthread_create(&th[t], NULL, na_thread_main, &ta[t]) == 0;
    }
    fn(arg, 0);
    for (int t = 1; t < threads; t++) {
        if (started[t]) pthread_join(th[t], NULL);
        else fn(arg, t);
    }
}

/* ---- a ring of jobs (internal.h) ---------------------------------------------------------------------- */

typedef struct na_ring_worker {
    na_ring *q;
    int t;
} na_ring_worker;

static void *na_ring_main(void *arg)
{
    na_ring_worker *wk = arg;
    na_ring *q = wk->q;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->taken == q->planned) pthread_cond_wait(&q->work, &q->mu);
        if (q->stop) break;
        size_t k = q->taken++;
        pthread_mutex_unlock(&q->mu);
        q->fn(q->ctx, wk->t, k);
        pthread_mutex_lock(&q->mu);
        q->ready[k % q->cap] = 1;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    free(wk);
    return NULL;
}

int na_ring_start(na_ring *q, size_t cap, int threads, void (*fn)(void *ctx, int t, size_t k), void *ctx)
{
    memset(q, 0, sizeof *q);
    q->cap = cap ? cap : 1;
    q->fn = fn;
    q->ctx = ctx;
    if (!(q->ready = calloc(q->cap, 1))) return -1;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    int n = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    for (int t = 0; t < n; t++) {
        na_ring_worker *wk = malloc(sizeof *wk);
        if (!wk) break;
        *wk = (na_ring_worker){q, t};
        if (pthread_create(&q->th[q->workers], NULL, na_ring_main, wk) != 0) {
            free(wk);
            break;
        }
        q->workers++;
    }
    return 0;
}

void na_ring_publish(na_ring *q)
{
    pthread_mutex_lock(&q->mu);
    q->ready[q->planned % q->cap] = 0;
    q->planned++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
}

void na_ring_wait(na_ring *q, size_t k)
{
    if (!q->workers) { /* no thread: run it here, in order */
        pthread_mutex_lock(&q->mu);
        q->taken = k + 1;
        pthread_mutex_unlock(&q->mu);
        q->fn(q->ctx, 0, k);
        return;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->ready[k % q->cap]) pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void na_ring_stop(na_ring *q)
{
    if (!q->ready) return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
    for (int t = 0; t < q->workers; t++) pthread_join(q->th[t], NULL);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->mu);
    free(q->ready);
    q->ready = NULL;
}
