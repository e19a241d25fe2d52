/* cli_util.c - messages, exit codes, safe output for the subcommands. */
#include "cli.h"
#include "internal.h"
#include "text.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char *cli_cmd = NULL;

/* Messages may quote names and metadata from archives: always escaped. */
static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    char buf[2048];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    fprintf(stderr, "newsarc%s%s: %s", cli_cmd ? " " : "", cli_cmd ? cli_cmd : "", kind);
    cli_put_safe(stderr, buf, (size_t)n);
    fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

int cli_exit_for(int err)
{
    switch (err) {
    case NEWSARC_OK: return EXIT_OK;
    case NEWSARC_E_CORRUPT:
    case NEWSARC_E_NOTFOUND:
    case NEWSARC_E_INPUT:
    case NEWSARC_E_AMBIGUOUS:
    case NEWSARC_E_SIGNATURE:
    case NEWSARC_E_UNSUPPORTED:
    case NEWSARC_E_LIMIT: return EXIT_DATA;
    default: return EXIT_USAGE;
    }
}

newsarc_reader *cli_open(const char *path, int *code)
{
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open(&r, path);
    if (rc) {
        cli_err("'%s': %s", path, r ? newsarc_reader_error(r) : newsarc_strerror(rc));
        newsarc_reader_free(r);
        *code = cli_exit_for(rc);
        return NULL;
    }
    *code = 0;
    return r;
}

int cli_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* asked once: pack asks per article, and isatty is a system call (200,000 of them on m200k) */
bool cli_progress_enabled(void)
{
    static int on = -1;
    if (on < 0) on = isatty(2) && !getenv("NEWSARC_NO_PROGRESS");
    return on;
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Decode one UTF-8 sequence; returns its length or 0 if invalid. */
size_t cli_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) { len = 2; *cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; *cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; *cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return len;
}

/* Bidi embedding/override/isolate controls and marks that reorder text. */
static bool is_bidi_control(unsigned cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
           cp == 0x061C;
}

typedef void (*safe_put_fn)(void *ctx, const void *p, size_t n);

static void safe_to(safe_put_fn put, void *ctx, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* p[run..i) is safe as it is: written in one go */
    char esc[12];
    while (i < n) {
        /* printable ASCII but the backslash, and 2-byte sequences from U+00C0 on (Latin, Greek, Cyrillic,
         * Hebrew, Arabic, Persian...): safe, decided without decoding */
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\') {
            i++;
            continue;
        }
        if (p[i] >= 0xC3 && p[i] <= 0xDF && n - i >= 2 && (p[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        unsigned cp;
        size_t len = cli_utf8_seq(p + i, n - i, &cp);
        if (len && cp >= 0x20 && cp != '\\' && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0) && !is_bidi_control(cp) &&
            cp != 0x2028 && cp != 0x2029) {
            i += len;
            continue;
        }
        if (i > run) put(ctx, p + run, i - run);
        run = i + (len ? len : 1);
        if (len == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            put(ctx, esc, 4);
            i++;
            continue;
        }
        if (cp == '\\') put(ctx, "\\\\", 2);
        else if (cp == '\n') put(ctx, "\\n", 2);
        else if (cp == '\t') put(ctx, "\\t", 2);
        else if (cp == '\r') put(ctx, "\\r", 2);
        else if (cp < 0x20 || cp == 0x7F) {
            snprintf(esc, sizeof esc, "\\x%02x", cp);
            put(ctx, esc, 4);
        } else if ((cp >= 0x80 && cp < 0xA0) || is_bidi_control(cp) || cp == 0x2028 || cp == 0x2029) {
            snprintf(esc, sizeof esc, "\\u%04x", cp);
            put(ctx, esc, 6);
        } else put(ctx, p + i, len);
        i += len;
    }
    if (i > run) put(ctx, p + run, i - run);
}

static void put_file(void *ctx, const void *p, size_t n) { fwrite(p, 1, n, (FILE *)ctx); }
static void put_out(void *ctx, const void *p, size_t n) { cli_out_bytes((cli_out *)ctx, p, n); }

void cli_put_safe(FILE *f, const char *s, size_t n) { safe_to(put_file, f, s, n); }
void cli_out_safe(cli_out *o, const char *s, size_t n) { safe_to(put_out, o, s, n); }

int cli_json_string(cli_out *o, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    cli_out_byte(o, '"');
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        unsigned cp = c;
        size_t len = 1;
        if (c >= 0x80 && (len = cli_utf8_seq(p + i, n - i, &cp)) == 0) return -1;
        if (c < 0x80) {
            cli_out_bytes(o, p + run, i - run);
            char esc[8];
            if (cp == '"') cli_out_bytes(o, "\\\"", 2);
            else if (cp == '\\') cli_out_bytes(o, "\\\\", 2);
            else if (cp == '\n') cli_out_bytes(o, "\\n", 2);
            else if (cp == '\t') cli_out_bytes(o, "\\t", 2);
            else {
                snprintf(esc, sizeof esc, "\\u%04x", cp);
                cli_out_bytes(o, esc, 6);
            }
            run = i + 1;
        }
        i += len;
    }
    cli_out_bytes(o, p + run, n - run);
    cli_out_byte(o, '"');
    return 0;
}

/* Bit k set when p[base + k] is a quote, backslash, bracket, brace or
 * control byte, for the (up to) 16 bytes from base: all the guard looks at. */
static unsigned guard_mask(const unsigned char *p, size_t n, size_t base)
{
    unsigned m = 0;
#if defined(__SSE2__)
    if (n - base >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + base));
        __m128i lo = _mm_or_si128(v, _mm_set1_epi8(0x20)); /* [ ] as { } */
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                   _mm_or_si128(_mm_cmpeq_epi8(lo, _mm_set1_epi8('{')), _mm_cmpeq_epi8(lo, _mm_set1_epi8('}'))));
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v)); /* v <= 0x1F */
        return (unsigned)_mm_movemask_epi8(hit);
    }
#endif
    for (size_t k = 0; k < 16 && base + k < n; k++) {
        unsigned char c = p[base + k];
        if (c < 0x20 || c == '"' || c == '\\' || (c | 0x20) == '{' || (c | 0x20) == '}') m |= 1u << k;
    }
    return m;
}

int cli_json_object_guard(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n < 2 || p[0] != '{' || p[n - 1] != '}') return -1;
    /* only the bytes of guard_mask change the state; 16 at a time found, then walked */
    int depth = 0, in_string = 0;
    size_t escaped = SIZE_MAX; /* the byte after a backslash in a string */
    for (size_t base = 0; base < n; base += 16) {
        for (unsigned m = guard_mask(p, n, base); m; m &= m - 1) {
            size_t i = base + (size_t)__builtin_ctz(m);
            unsigned char c = p[i];
            if (c < 0x20) return -1; /* a control byte, escaped or not */
            if (i == escaped) continue;
            if (in_string) {
                if (c == '"') in_string = 0;
                else if (c == '\\') {
                    if (i + 1 >= n) return -1;
                    escaped = i + 1;
                }
            } else if (c == '"') in_string = 1;
            else if (c == '\\') return -1; /* a backslash outside a string */
            else if (c == '{' || c == '[') {
                if (++depth > 512) return -1;
            } else if (--depth < 0 || (depth == 0 && i != n - 1)) return -1;
        }
    }
    return depth == 0 && !in_string ? 0 : -1;
}

int cli_out_flush(cli_out *o)
{
    if (o->fd >= 0) {
        if (o->len && !o->err && cli_write_all(o->fd, o->buf, o->len) != 0) o->err = 1;
        o->len = 0;
    }
    return o->err ? -1 : 0;
}

void cli_out_bytes(cli_out *o, const void *p, size_t n)
{
    if (n == 0) return; /* p may be NULL (an empty chunk) */
    if (o->fd >= 0 && !o->buf) {
        o->buf = o->store;
        o->cap = sizeof o->store;
    }
    if (n > o->cap - o->len) {
        if (o->fd >= 0) {
            cli_out_flush(o);
            if (n > o->cap) { /* larger than the buffer: straight out */
                if (!o->err && cli_write_all(o->fd, p, n) != 0) o->err = 1;
                return;
            }
        } else {
            size_t cap = o->cap ? o->cap : 64 * 1024;
            while (cap - o->len < n) cap *= 2;
            char *m = o->err ? NULL : realloc(o->buf, cap);
            if (!m) {
                o->err = 1;
                return;
            }
            o->buf = m;
            o->cap = cap;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

int cli_article_utf8(newsarc_reader *r, uint64_t article, const void *data, size_t len, char **out, size_t *out_len)
{
    newsarc_text_info ti;
    int rc = newsarc_reader_text_info(r, article, &ti);
    if (rc) return rc;
    const char *cs = ti.present && ti.decoded_as[0] ? ti.decoded_as : NULL;
    na_charset_info ci;
    if (!cs) {
        rc = na_text_charset(data, len, NULL, &ci);
        if (rc) return rc;
        cs = ci.chosen;
    }
    return na_text_to_utf8(data, len, cs, out, out_len, NULL);
}

const char *cli_text_error(int rc)
{
    return rc == NEWSARC_E_UNSUPPORTED && na_icu_load() != 0 ? na_icu_error() : newsarc_strerror(rc);
}

int cli_threads_default(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
}

bool cli_threads_arg(const char *arg, int *out)
{
    long v;
    if (!cli_parse_long(arg, 1, 64, &v)) {
        cli_err("threads '%s' is not a number from 1 to 64", arg);
        return false;
    }
    *out = (int)v;
    return true;
}

typedef struct cli_jobs {
    void *(*fn)(void *);
    char *jobs;
    size_t size;
} cli_jobs;

static void cli_job(void *arg, int t)
{
    cli_jobs *c = arg;
    c->fn(c->jobs + (size_t)t * c->size);
}

void cli_run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n)
{
    if (n < 1) return;
    cli_jobs c = {fn, jobs, size};
    na_run_threads(n > CLI_MAX_JOBS ? CLI_MAX_JOBS : n, cli_job, &c);
}

typedef struct cli_ordered {
    pthread_mutex_t mu;
    pthread_cond_t room; /* a slot freed, or stop */
    size_t n, slots, next, emitted;
    unsigned char *built; /* per slot */
    int emitting, stop, result;
    void (*build)(void *, int, size_t);
    int (*emit)(void *, size_t);
    void *ctx;
} cli_ordered;

static void cli_ordered_worker(void *arg, int t)
{
    cli_ordered *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (!o->stop && o->next < o->n && o->next - o->emitted >= o->slots) pthread_cond_wait(&o->room, &o->mu);
        if (o->stop || o->next >= o->n) break;
        size_t k = o->next++;
        pthread_mutex_unlock(&o->mu);
        o->build(o->ctx, t, k);
        pthread_mutex_lock(&o->mu);
        o->built[k % o->slots] = 1;
        if (o->emitting) continue; /* the thread emitting sees it before it stops */
        o->emitting = 1;
        while (!o->stop && o->emitted < o->n && o->built[o->emitted % o->slots]) {
            size_t e = o->emitted;
            pthread_mutex_unlock(&o->mu);
            int r = o->emit(o->ctx, e);
            pthread_mutex_lock(&o->mu);
            o->built[e % o->slots] = 0;
            o->emitted++;
            if (r) {
                o->stop = 1;
                o->result = r;
            }
            pthread_cond_broadcast(&o->room);
        }
        o->emitting = 0;
    }
    pthread_mutex_unlock(&o->mu);
}

int cli_ordered_run(int threads, size_t n, size_t slots, void (*build)(void *ctx, int t, size_t k),
                    int (*emit)(void *ctx, size_t k), void *ctx)
{
    cli_ordered o = {.n = n, .slots = slots ? slots : 1, .build = build, .emit = emit, .ctx = ctx};
    if (!(o.built = calloc(o.slots, 1))) return -1;
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.room, NULL);
    /* a thread that cannot be made runs its share after the others (na_run_threads): still in order */
    na_run_threads(threads < 1 ? 1 : threads, cli_ordered_worker, &o);
    pthread_cond_destroy(&o.room);
    pthread_mutex_destroy(&o.mu);
    free(o.built);
    return o.result;
}
