/*
 * cmd_pack.c - newsarc pack: walk the inputs, hand every article to the
 * writer (pass 1), let the writer fetch them again in canonical order
 * (pass 2), and write the archive atomically: temp file in the destination
 * directory, fsync, rename, fsync the directory.
 */
#include "cli.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>
#include <zstd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef NEWSARC_HAVE_URING
#include <liburing.h>
#include <pthread.h>
#endif

#define NEWSARC_SKIPPED_NAME ".newsarc/skipped.jsonl"
#define BATCH_LINES 4096      /* JSON lines handed to the writer at once */
#define BATCH_BYTES (16u << 20)
#define FILE_BATCH 512          /* files of a directory handed to the writer at once */
#define FILE_BATCH_BYTES (8u << 20)

#ifdef NEWSARC_HAVE_SIGN
#include "sign_cli.h"
#endif

/* ---- sources: where each article can be read again ------------------------ */

typedef struct source {
    char *path;    /* file to read (a JSONL file, or one article file) */
    char *display; /* how messages name it */
    int fd;        /* open JSONL file, -1 otherwise */
    int is_jsonl;
    char *mem;     /* bytes held in memory (the skipped-lines report) */
    const char *map; /* a JSONL file mapped for the second pass (see map_feeds), or NULL */
    size_t map_len;
    const char *kept; /* an article file's bytes as pass 1 read them (see keep_batch), or NULL */
    size_t kept_len;
} source;

typedef struct pack_state {
    newsarc_writer *w;
    source *src;
    size_t n_src, cap_src;
    const char *text_field;
    int errors;
    uint64_t bytes_in;
    size_t articles_seen;
    int skip_invalid;
    int threads; /* > 1: JSONL lines are read a batch ahead */
    char **skipped; /* JSON Lines report of skipped input lines */
    size_t n_skipped, cap_skipped;
    /* files listed and not yet added (see flush_files); added before anything
     * else is added or reported */
    struct {
        struct qfile *q;
        newsarc_entry *e; /* names owned */
        const void **art;
        size_t *len;
        uint64_t *loc;
        size_t n;
        uint64_t listed; /* bytes, by lstat */
        char *data;
        size_t cap;
    } fb;
    /* article files kept from pass 1 for pass 2 (keep_batch): the buffers, their bytes */
    struct {
        char **buf;
        size_t n, cap;
        uint64_t bytes, budget;
        int off; /* not keeping: NEWSARC_KEEP_BUDGET=0, or over the budget once */
    } keep;
} pack_state;

/* A file listed for the next batch. */
typedef struct qfile {
    uint32_t src;  /* its source: path and display */
    uint64_t want; /* its size when listed: its room in the batch's data */
    size_t off;    /* that room */
    size_t len;    /* bytes read: at data + off, or in own */
    char *own;     /* the file's size changed since it was listed: read here */
    int rc;        /* it could not be read: exit code, and msg */
    char *msg;
} qfile;

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static int add_source(pack_state *ps, const char *path, const char *display, int is_jsonl, int fd, uint32_t *idx)
{
    if (grow((void **)&ps->src, &ps->cap_src, ps->n_src, sizeof *ps->src) != 0) return -1;
    source *s = &ps->src[ps->n_src];
    s->path = strdup(path);
    s->display = strdup(display);
    s->fd = fd;
    s->is_jsonl = is_jsonl;
    s->mem = NULL;
    s->map = NULL;
    s->map_len = 0;
    s->kept = NULL;
    s->kept_len = 0;
    if (!s->path || !s->display) return -1;
    *idx = (uint32_t)ps->n_src++;
    return 0;
}

/*
 * A locator says where an article can be read again, in 8 bytes and no
 * table (the writer gives the length back): a whole-file source has bit 63
 * set and its index below; a line of a JSONL source has the source index in
 * bits 40-62 and the line's offset in bits 0-39.
 */
#define LOC_FILE (UINT64_C(1) << 63)
#define LOC_OFF_BITS 40

/* The locator of src's bytes at off; -1 (no message) past what a locator holds. */
static int locator_of(const pack_state *ps, uint32_t src, uint64_t off, uint64_t *locator)
{
    if (!ps->src[src].is_jsonl) {
        *locator = LOC_FILE | src;
        return 0;
    }
    if (off >> LOC_OFF_BITS || src >= (UINT32_C(1) << 23)) return -1;
    *locator = (uint64_t)src << LOC_OFF_BITS | off;
    return 0;
}

#define LOCATOR_LIMITS "more than 8388608 JSONL inputs, or a line past 1 TiB"

static int make_locator(const pack_state *ps, uint32_t src, uint64_t off, uint64_t *locator)
{
    if (locator_of(ps, src, off, locator) == 0) return 0;
    cli_err("'%s': " LOCATOR_LIMITS, ps->src[src].display);
    return -1;
}

static int pread_all(int fd, void *dst, size_t len, uint64_t off)
{
    char *p = dst;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Fetch callback for the writer's second pass. */
static int fetch(void *ctx, uint64_t locator, void *dst, size_t len)
{
    pack_state *ps = ctx;
    uint64_t src = locator & LOC_FILE ? locator & ~LOC_FILE : locator >> LOC_OFF_BITS;
    uint64_t off = locator & LOC_FILE ? 0 : locator & ((UINT64_C(1) << LOC_OFF_BITS) - 1);
    if (src >= ps->n_src) return -1;
    source *s = &ps->src[src];
    if (s->mem) {
        memcpy(dst, s->mem + off, len);
        return 0;
    }
    if (s->kept && len <= s->kept_len) {
        memcpy(dst, s->kept, len);
        return 0;
    }
    if (s->map && off <= s->map_len && len <= s->map_len - off) {
        memcpy(dst, s->map + off, len);
        return 0;
    }
    if (s->is_jsonl) {
        if (pread_all(s->fd, dst, len, off) == 0) return 0;
        cli_err("'%s': could not read it again: %s", s->display, errno ? strerror(errno) : "file shrank");
        return -1;
    }
    int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int ok = fd >= 0 && pread_all(fd, dst, len, 0) == 0;
    int e = errno;
    if (fd >= 0) close(fd);
    if (!ok) cli_err("'%s': could not read it again: %s", s->display, e ? strerror(e) : "file shrank");
    return ok ? 0 : -1;
}

#ifdef NEWSARC_HAVE_URING
/*
 * Pass 2 asks for a block's articles together (newsarc_writer_set_fetch_many):
 * the lines of JSONL inputs are read with one io_uring submission instead of
 * one pread each.  A system call costs about 2 us on the VMs this was
 * measured on, io_uring about 0.6 us a read (a million-line feed reads a
 * million lines again).  One ring per thread, made on first use; where
 * io_uring is missing or refused (old kernels, seccomp), or
 * NEWSARC_NO_IO_URING is set, the reads are the fetch callback's preads.
 */
#define RING_ENTRIES 256

typedef struct uring_tls {
    struct io_uring ring;
    int state; /* 0 not tried, 1 ready, -1 unavailable */
} uring_tls;

static pthread_key_t g_uring_key;
static pthread_once_t g_uring_once = PTHREAD_ONCE_INIT;
static int g_uring_off;

static void uring_release(void *p)
{
    uring_tls *u = p;
    if (u->state == 1) io_uring_queue_exit(&u->ring);
    free(u);
}

static void uring_setup(void)
{
    const char *off = getenv("NEWSARC_NO_IO_URING");
    g_uring_off = (off && *off) || pthread_key_create(&g_uring_key, uring_release) != 0;
}

/* This thread's ring, or NULL: read with pread. */
static struct io_uring *uring_get(void)
{
    pthread_once(&g_uring_once, uring_setup);
    if (g_uring_off) return NULL;
    uring_tls *u = pthread_getspecific(g_uring_key);
    if (!u) {
        if (!(u = calloc(1, sizeof *u))) return NULL;
        if (pthread_setspecific(g_uring_key, u) != 0) {
            free(u);
            return NULL;
        }
    }
    if (u->state == 0) u->state = io_uring_queue_init(RING_ENTRIES, &u->ring, 0) == 0 ? 1 : -1;
    return u->state == 1 ? &u->ring : NULL;
}

/* Where locator's bytes are: the JSONL source and the offset, or NULL for other sources. */
static source *jsonl_at(pack_state *ps, uint64_t locator, uint64_t *off)
{
    if (locator & LOC_FILE) return NULL;
    uint64_t src = locator >> LOC_OFF_BITS;
    if (src >= ps->n_src || !ps->src[src].is_jsonl || ps->src[src].mem || ps->src[src].map) return NULL;
    *off = locator & ((UINT64_C(1) << LOC_OFF_BITS) - 1);
    return &ps->src[src];
}

static int fetch_many(void *ctx, size_t n, const uint64_t *locators, void *const *dsts, const size_t *lens)
{
    pack_state *ps = ctx;
    struct io_uring *ring = uring_get();
    for (size_t i = 0; i < n;) {
        unsigned queued = 0;
        for (; i < n && queued < RING_ENTRIES; i++) {
            uint64_t off;
            source *s = ring && lens[i] ? jsonl_at(ps, locators[i], &off) : NULL;
            if (!s) { /* a whole file, the report held in memory, or no ring */
                if (fetch(ctx, locators[i], dsts[i], lens[i]) != 0) return -1;
                continue;
            }
            struct io_uring_sqe *sqe = io_uring_get_sqe(ring); /* never NULL: at most RING_ENTRIES queued */
            io_uring_prep_read(sqe, s->fd, dsts[i], (unsigned)lens[i], off);
            io_uring_sqe_set_data64(sqe, i);
            queued++;
        }
        if (!queued) continue;
        int r;
        do r = io_uring_submit(ring);
        while (r == -EINTR);
        if (r != (int)queued) {
            for (int k = 0; k < r; k++) { /* the reads taken finish before their buffers can go */
                struct io_uring_cqe *cqe;
                int w;
                do w = io_uring_wait_cqe(ring, &cqe);
                while (w == -EINTR);
                if (w < 0) break;
                io_uring_cqe_seen(ring, cqe);
            }
            cli_err("cannot read inputs again: io_uring: %s", r < 0 ? strerror(-r) : "not every read was taken");
            return -1;
        }
        int failed = 0;
        for (unsigned k = 0; k < queued; k++) { /* every completion is taken, even after a failure */
            struct io_uring_cqe *cqe;
            do r = io_uring_wait_cqe(ring, &cqe);
            while (r == -EINTR);
            if (r < 0) { /* only a broken ring (EFAULT, EBADF) gets here: the pack stops */
                cli_err("cannot read inputs again: io_uring: %s", strerror(-r));
                return -1;
            }
            size_t j = (size_t)io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(ring, cqe);
            uint64_t off;
            source *s = j < n ? jsonl_at(ps, locators[j], &off) : NULL;
            if (!s || failed) {
                failed = 1;
                continue;
            }
            errno = res < 0 ? -res : 0;
            /* a short read is finished by pread (at the end of a file that shrank, it fails) */
            if (res < 0 || pread_all(s->fd, (char *)dsts[j] + res, lens[j] - (size_t)res, off + (uint64_t)res) != 0) {
                cli_err("'%s': could not read it again: %s", s->display, errno ? strerror(errno) : "file shrank");
                failed = 1;
            }
        }
        if (failed) return -1;
    }
    return 0;
}
#endif

/*
 * The second pass reads every line again, in placement order: all over the
 * file.  A read per line (io_uring or pread) costs the kernel a page-cache
 * lookup and a copy each: on the million-article feed 2.4 s of system time
 * out of 12 s of CPU.  Feeds up to MAP_BUDGET in all (and a quarter of the
 * RAM) are mapped instead and their lines copied from the mapping: system
 * time 1.3 s, wall time 7-14% less (spec/BENCHMARKS.md).  The pages are
 * the page cache's, which holds them either way, but they count in the
 * process's RSS while mapped, hence the budget: a larger feed (the 10 GB
 * one, in 512 MB) is read line by line as before.  A file cut short while
 * mapped (or a read error where it lives) raises SIGBUS:
 * cli_atomic_guard_sigbus removes the temporary output and says so.
 * NEWSARC_NO_MMAP=1 reads every feed line by line (the tests compare the
 * two).
 */
#define MAP_BUDGET ((uint64_t)1 << 30)

static void map_feeds(pack_state *ps)
{
    if (getenv("NEWSARC_NO_MMAP")) return;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t budget = MAP_BUDGET;
    if (pages > 0 && psz > 0 && (uint64_t)pages / 4 * (uint64_t)psz < budget) budget = (uint64_t)pages / 4 * (uint64_t)psz;
    int mapped = 0;
    for (size_t i = 0; i < ps->n_src; i++) {
        source *s = &ps->src[i];
        struct stat st;
        if (!s->is_jsonl || s->fd < 0 || s->mem || fstat(s->fd, &st) != 0 || st.st_size <= 0 ||
            (uint64_t)st.st_size > budget)
            continue;
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, s->fd, 0);
        if (m == MAP_FAILED) continue; /* read line by line */
        s->map = m;
        s->map_len = (size_t)st.st_size;
        budget -= (uint64_t)st.st_size;
        mapped = 1;
    }
    if (mapped) cli_atomic_guard_sigbus();
}

static void unmap_feeds(pack_state *ps)
{
    for (size_t i = 0; i < ps->n_src; i++)
        if (ps->src[i].map) munmap((void *)(uintptr_t)ps->src[i].map, ps->src[i].map_len);
}

/* Read the whole regular file f (an article) into dst (its room) or into
 * f->own; on failure f->rc and f->msg.  Any thread. */
static void read_file(const source *src, qfile *f, char *dst)
{
    char m[4400];
    int fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0) {
        snprintf(m, sizeof m, "'%s': cannot open: %s", src->display, strerror(errno));
        f->rc = EXIT_USAGE;
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(m, sizeof m, "'%s': not a regular file", src->display);
        f->rc = EXIT_USAGE;
    } else if ((uint64_t)st.st_size > ((uint64_t)1 << 30)) {
        snprintf(m, sizeof m, "'%s': larger than 1 GiB, the format's article limit", src->display);
        f->rc = EXIT_DATA;
    } else {
        size_t n = (size_t)st.st_size;
        if ((uint64_t)n != f->want && !(dst = f->own = malloc(n + 1))) {
            snprintf(m, sizeof m, "out of memory");
            f->rc = EXIT_USAGE;
        } else if (pread_all(fd, dst, n, 0) != 0) {
            /* a file that grows while we read it is caught by the second pass */
            snprintf(m, sizeof m, "'%s': read error or file shrank while reading", src->display);
            f->rc = EXIT_USAGE;
        }
        f->len = n;
    }
    if (fd >= 0) close(fd);
    if (f->rc && !(f->msg = strdup(m))) f->rc = EXIT_USAGE; /* reported as out of memory */
}

typedef struct fb_reads {
    pack_state *ps;
    int threads;
} fb_reads;

static void read_share(void *arg, int t)
{
    fb_reads *x = arg;
    pack_state *ps = x->ps;
    size_t n = ps->fb.n, lo = n * (size_t)t / (size_t)x->threads, hi = n * (size_t)(t + 1) / (size_t)x->threads;
    for (size_t i = lo; i < hi; i++) {
        qfile *f = &ps->fb.q[i];
        read_file(&ps->src[f->src], f, ps->fb.data + f->off);
    }
}

static void file_batch_free(pack_state *ps)
{
    for (size_t i = 0; i < ps->fb.n; i++) {
        free((char *)ps->fb.e[i].name);
        free(ps->fb.q[i].own);
        free(ps->fb.q[i].msg);
    }
    ps->fb.n = 0;
    ps->fb.listed = 0;
}

/*
 * Article files are read twice: once in pass 1 (hashed, described) and
 * once in pass 2 (compressed in placement order).  Opening, reading and
 * closing each file again was about a seventh of packing a folder of small
 * files (jawharafm: open, fstat, pread and close were a quarter of the
 * samples, path walks included).  So the bytes pass 1 read are kept for
 * pass 2 while all of them fit KEEP_BUDGET (and a sixteenth of the RAM):
 * a batch's buffer is kept whole instead of reused.  The first batch that
 * would go over it releases everything kept, and the folder is read again
 * as before: the memory a large folder (the 10 GB one) needs stays what it
 * was, beyond this budget for a moment early on.  That moment is why the
 * budget is small: a 344 MB folder packed with 256 MiB peaked at 283 MB
 * (37 MB reading every file again) and gained nothing, everything being
 * released and read again after all.  64 MiB holds the folders of
 * ../shared (the corpus is 54 MB).  Pass 2 compares every
 * article with pass 1 (a 64-bit check) either way, and kept bytes are pass
 * 1's own.  NEWSARC_KEEP_BUDGET=N sets the budget in bytes, 0 reads every
 * file again (the tests compare them).
 */
#define KEEP_BUDGET ((uint64_t)64 << 20)

static void keep_init(pack_state *ps)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    ps->keep.budget = KEEP_BUDGET;
    if (pages > 0 && psz > 0 && (uint64_t)pages / 16 * (uint64_t)psz < ps->keep.budget)
        ps->keep.budget = (uint64_t)pages / 16 * (uint64_t)psz;
    const char *e = getenv("NEWSARC_KEEP_BUDGET"); /* bytes; 0 reads every file again (for the tests) */
    if (e && *e >= '0' && *e <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(e, &end, 10);
        if (!errno && !*end) ps->keep.budget = v;
    }
    ps->keep.off = ps->keep.budget == 0;
}

static void keep_release(pack_state *ps)
{
    for (size_t i = 0; i < ps->keep.n; i++) free(ps->keep.buf[i]);
    free(ps->keep.buf);
    ps->keep.buf = NULL;
    ps->keep.n = ps->keep.cap = 0;
    ps->keep.bytes = 0;
    for (size_t i = 0; i < ps->n_src; i++) {
        ps->src[i].kept = NULL;
        ps->src[i].kept_len = 0;
    }
}

static int keep_take(pack_state *ps, char *buf)
{
    if (grow((void **)&ps->keep.buf, &ps->keep.cap, ps->keep.n, sizeof *ps->keep.buf) != 0) return -1;
    ps->keep.buf[ps->keep.n++] = buf;
    return 0;
}

/* After the first ok files of the batch were added: keep their bytes, or
 * stop keeping (and release what was kept) when they would not fit. */
static void keep_batch(pack_state *ps, size_t ok, size_t room)
{
    if (ps->keep.off || ok == 0) return;
    uint64_t more = room;
    for (size_t i = 0; i < ok; i++)
        if (ps->fb.q[i].own) more += ps->fb.q[i].len;
    if (ps->keep.bytes + more > ps->keep.budget) {
        keep_release(ps);
        ps->keep.off = 1;
        return;
    }
    if (keep_take(ps, ps->fb.data) != 0) return; /* out of memory: this batch is read again */
    ps->keep.bytes += more;
    for (size_t i = 0; i < ok; i++) {
        qfile *f = &ps->fb.q[i];
        if (f->own && keep_take(ps, f->own) != 0) continue;
        source *s = &ps->src[f->src];
        s->kept = f->own ? f->own : ps->fb.data + f->off;
        s->kept_len = f->len;
        f->own = NULL; /* kept: file_batch_free leaves it */
    }
    ps->fb.data = NULL; /* the next batch gets a buffer of its own */
    ps->fb.cap = 0;
}

/*
 * The files listed so far, read on all threads (each into its room in one
 * buffer), then handed to the writer at once (newsarc_writer_add_batch:
 * hashed on all threads, added in order).  Up to the first file that cannot
 * be read; the first problem in input order is reported.
 */
static int flush_files(pack_state *ps)
{
    size_t n = ps->fb.n;
    if (!n) return 0;
    size_t room = 0;
    for (size_t i = 0; i < n; i++) {
        qfile *f = &ps->fb.q[i];
        f->off = room;
        if (f->want <= ((uint64_t)1 << 30)) room += (size_t)f->want; /* larger: refused when read */
    }
    int rc = 0;
    if (room + 1 > ps->fb.cap) {
        char *d = realloc(ps->fb.data, room + 1);
        if (!d) {
            cli_err("out of memory");
            rc = EXIT_USAGE;
        } else {
            ps->fb.data = d;
            ps->fb.cap = room + 1;
        }
    }
    if (!rc) {
        /* small batches on this thread: a thread costs more than they take */
        fb_reads x = {ps, n >= 64 && ps->threads > 1 ? ps->threads : 1};
        if (x.threads > 16) x.threads = 16;
        na_run_threads(x.threads, read_share, &x);
        size_t ok = 0;
        while (ok < n && !ps->fb.q[ok].rc) ok++;
        for (size_t i = 0; i < ok; i++) {
            qfile *f = &ps->fb.q[i];
            ps->fb.art[i] = f->own ? f->own : ps->fb.data + f->off;
            ps->fb.len[i] = f->len;
        }
        size_t done = 0;
        int wrc = newsarc_writer_add_batch(ps->w, ps->fb.e, ps->fb.art, ps->fb.len, ok, ps->fb.loc, &done);
        for (size_t i = 0; i < done; i++) ps->bytes_in += ps->fb.len[i];
        if (!wrc) keep_batch(ps, done, room);
        if (wrc == NEWSARC_E_NOMEM) { /* the batch's or the entry's memory: no file to blame */
            cli_err("out of memory");
            rc = EXIT_USAGE;
        } else if (wrc) {
            cli_err("'%s': %s", ps->src[ps->fb.q[done].src].display, newsarc_writer_error(ps->w));
            rc = cli_exit_for(wrc);
        } else if (ok < n) {
            cli_err("%s", ps->fb.q[ok].msg ? ps->fb.q[ok].msg : "out of memory");
            rc = ps->fb.q[ok].rc;
        }
    }
    file_batch_free(ps);
    return rc;
}

/* A problem with an input: the files read before it are added first (their
 * errors come first, in input order); then the message, and code. */
static int input_error(pack_state *ps, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int input_error(pack_state *ps, int code, const char *fmt, ...)
{
    int rc = flush_files(ps);
    if (rc) return rc;
    char m[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    cli_err("%s", m);
    return code;
}

/* A warning about an input, after the files read before it are added: 0, or their error. */
static int input_warning(pack_state *ps, const char *what, const char *path)
{
    int rc = flush_files(ps);
    if (!rc) cli_warn("'%s': %s", path, what);
    return rc;
}

static void progress(pack_state *ps)
{
    if (cli_progress_enabled() && (ps->articles_seen % 1000) == 0)
        fprintf(stderr, "\rnewsarc pack: read %zu articles, %.1f MB", ps->articles_seen, (double)ps->bytes_in / 1e6);
}

/* List a file for the next batch (size: from lstat, its room in the batch). */
static int add_file(pack_state *ps, const char *path, const char *name, const char *display, uint64_t size)
{
    uint32_t si;
    uint64_t loc;
    size_t k = ps->fb.n;
    if (!ps->fb.q) { /* the batch's arrays, once (all or none) */
        ps->fb.q = calloc(FILE_BATCH, sizeof *ps->fb.q);
        ps->fb.e = calloc(FILE_BATCH, sizeof *ps->fb.e);
        ps->fb.art = calloc(FILE_BATCH, sizeof *ps->fb.art);
        ps->fb.len = calloc(FILE_BATCH, sizeof *ps->fb.len);
        ps->fb.loc = calloc(FILE_BATCH, sizeof *ps->fb.loc);
        if (!ps->fb.q || !ps->fb.e || !ps->fb.art || !ps->fb.len || !ps->fb.loc) {
            free(ps->fb.q);
            free(ps->fb.e);
            free(ps->fb.art);
            free(ps->fb.len);
            free(ps->fb.loc);
            ps->fb.q = NULL;
            ps->fb.e = NULL;
            ps->fb.art = NULL;
            ps->fb.len = NULL;
            ps->fb.loc = NULL;
            return input_error(ps, EXIT_USAGE, "out of memory");
        }
    }
    char *nm = NULL;
    if (add_source(ps, path, display, 0, -1, &si) != 0 || make_locator(ps, si, 0, &loc) != 0 || !(nm = strdup(name)))
        return input_error(ps, EXIT_USAGE, "out of memory");
    ps->fb.q[k] = (qfile){.src = si, .want = size};
    ps->fb.e[k] = (newsarc_entry){.name = nm, .name_len = strlen(nm)};
    ps->fb.loc[k] = loc;
    ps->fb.n++;
    ps->fb.listed += size;
    ps->articles_seen++;
    progress(ps);
    return ps->fb.n == FILE_BATCH || ps->fb.listed >= FILE_BATCH_BYTES ? flush_files(ps) : 0;
}

/* ---- directories --------------------------------------------------------------------- */

typedef struct dirstack {
    dev_t dev[256];
    ino_t ino[256];
    int depth;
} dirstack;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* dirpath/name into path (room for both, a '/' and the NUL) */
static void walk_path(char *path, const char *dirpath, size_t pl, const char *name)
{
    memcpy(path, dirpath, pl);
    size_t k = pl;
    if (!pl || dirpath[pl - 1] != '/') path[k++] = '/';
    strcpy(path + k, name);
}

/*
 * A directory's entries are stat'ed WALK_CHUNK at a time on all threads
 * before they are taken in order: one lstat per file was a quarter of
 * pass 1 of a folder of small files, on one core (jawharafm: 28 of 95 ms).
 */
#define WALK_CHUNK 1024
typedef struct walk_stats {
    const char *dirpath;
    char **names;
    size_t lo, n;       /* names[lo .. lo + n) stat'ed */
    struct stat *st;    /* min(entries, WALK_CHUNK) each */
    int *err;           /* errno of the lstat, 0 when it worked */
    int threads;
} walk_stats;

static void lstat_share(void *arg, int t)
{
    walk_stats *ws = arg;
    size_t pl = strlen(ws->dirpath), a = ws->n * (size_t)t / (size_t)ws->threads,
           b = ws->n * (size_t)(t + 1) / (size_t)ws->threads;
    char stackbuf[512];
    for (size_t k = a; k < b; k++) {
        const char *nm = ws->names[ws->lo + k];
        size_t need = pl + strlen(nm) + 2;
        char *path = need <= sizeof stackbuf ? stackbuf : malloc(need);
        if (!path) {
            ws->err[k] = ENOMEM;
            continue;
        }
        walk_path(path, ws->dirpath, pl, nm);
        ws->err[k] = lstat(path, &ws->st[k]) != 0 ? errno : 0;
        if (path != stackbuf) free(path);
    }
}

static int walk(pack_state *ps, const char *dirpath, const char *prefix, dirstack *ds)
{
    DIR *d = opendir(dirpath);
    if (!d) return input_error(ps, EXIT_USAGE, "'%s': cannot open directory: %s", dirpath, strerror(errno));
    struct stat st;
    if (fstat(dirfd(d), &st) == 0) {
        for (int i = 0; i < ds->depth; i++)
            if (ds->dev[i] == st.st_dev && ds->ino[i] == st.st_ino) {
                closedir(d);
                return input_error(ps, EXIT_DATA, "'%s': directory loop", dirpath);
            }
        if (ds->depth >= 256) {
            closedir(d);
            return input_error(ps, EXIT_DATA, "'%s': directories nested too deeply", dirpath);
        }
        ds->dev[ds->depth] = st.st_dev;
        ds->ino[ds->depth] = st.st_ino;
        ds->depth++;
    }
    /* read all names first, sorted, so messages come in a stable order */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (grow((void **)&names, &cap, n, sizeof *names) != 0 || !(names[n] = strdup(de->d_name))) {
            closedir(d);
            return input_error(ps, EXIT_USAGE, "out of memory");
        }
        n++;
    }
    int rd_err = errno;
    closedir(d);
    if (rd_err) return input_error(ps, EXIT_USAGE, "'%s': cannot read directory: %s", dirpath, strerror(rd_err));
    if (n) qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    /* the entries' lstat calls made WALK_CHUNK at a time on all threads,
     * then the entries taken in order as before (messages in the same order) */
    walk_stats ws = {.dirpath = dirpath, .names = names};
    for (size_t i = 0; i < n; i++) {
        if (rc) {
            free(names[i]);
            continue;
        }
        if (i == ws.lo + ws.n || !ws.st) {
            ws.lo = i;
            ws.n = n - i < WALK_CHUNK ? n - i : WALK_CHUNK;
            size_t room = n < WALK_CHUNK ? n : WALK_CHUNK; /* (the first chunk is the largest) */
            if (!ws.st && !(ws.st = malloc(sizeof *ws.st * room)))
                rc = input_error(ps, EXIT_USAGE, "out of memory");
            if (!(ws.err = ws.err ? ws.err : malloc(sizeof *ws.err * room)))
                rc = rc ? rc : input_error(ps, EXIT_USAGE, "out of memory");
            if (rc) {
                free(names[i]);
                continue;
            }
            int th = ws.n >= 64 && ps->threads > 1 ? (ps->threads > 8 ? 8 : ps->threads) : 1;
            ws.threads = th;
            na_run_threads(th, lstat_share, &ws);
        }
        size_t pl = strlen(dirpath), nl = strlen(names[i]), ql = strlen(prefix);
        char *path = malloc(pl + nl + 2), *name = malloc(ql + nl + 2);
        if (!path || !name) {
            rc = input_error(ps, EXIT_USAGE, "out of memory");
        } else {
            walk_path(path, dirpath, pl, names[i]);
            sprintf(name, "%s%s%s", prefix, ql ? "/" : "", names[i]);
            const struct stat *lst = &ws.st[i - ws.lo];
            int lerr = ws.err[i - ws.lo];
            if (lerr) {
                rc = input_error(ps, EXIT_USAGE, "'%s': cannot stat: %s", path, strerror(lerr));
            } else if (S_ISDIR(lst->st_mode)) {
                rc = walk(ps, path, name, ds);
            } else if (S_ISREG(lst->st_mode)) {
                rc = add_file(ps, path, name, path, (uint64_t)lst->st_size);
            } else if (S_ISLNK(lst->st_mode)) {
                rc = input_warning(ps, "symbolic link not followed, skipped", path);
            } else {
                rc = input_warning(ps, "not a regular file, skipped", path);
            }
        }
        free(path);
        free(name);
        free(names[i]);
    }
    free(ws.st);
    free(ws.err);
    free(names);
    ds->depth--;
    return rc;
}

/* One line of the skipped-lines report (file base name, line, reason). */
static int note_skipped(pack_state *ps, const char *display, uint64_t lineno, const char *why)
{
    const char *base = strrchr(display, '/');
    json_t *o = json_pack("{s:s, s:I, s:s}", "file", base ? base + 1 : display, "line", (json_int_t)lineno, "error", why);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!line || grow((void **)&ps->skipped, &ps->cap_skipped, ps->n_skipped, sizeof *ps->skipped) != 0) {
        free(line);
        return -1;
    }
    ps->skipped[ps->n_skipped++] = line;
    return 0;
}

/*
 * With --skip-invalid, the report travels inside the archive as the entry
 * ".newsarc/skipped.jsonl" (sorted lines), covered by every hash like any
 * article.
 */
static int add_skipped_report(pack_state *ps)
{
    if (!ps->n_skipped) return 0;
    qsort(ps->skipped, ps->n_skipped, sizeof *ps->skipped, cmp_str);
    size_t total = 0;
    for (size_t i = 0; i < ps->n_skipped; i++) total += strlen(ps->skipped[i]) + 1;
    char *rep = malloc(total + 1), *at = rep;
    if (!rep) return EXIT_USAGE;
    for (size_t i = 0; i < ps->n_skipped; i++) at += sprintf(at, "%s\n", ps->skipped[i]);
    newsarc_entry e = {0};
    e.name = NEWSARC_SKIPPED_NAME;
    e.name_len = strlen(e.name);
    /* the report lives only in memory: the writer reads it back from a memory source */
    uint32_t si;
    uint64_t loc;
    int rc = 0;
    if (add_source(ps, "", "skipped-lines report", 0, -1, &si) != 0 || make_locator(ps, si, 0, &loc) != 0)
        rc = EXIT_USAGE;
    else {
        ps->src[si].mem = rep;
        rep = NULL;
        int wrc = newsarc_writer_add(ps->w, &e, ps->src[si].mem, total, loc);
        if (wrc) {
            cli_err("%s", newsarc_writer_error(ps->w));
            rc = cli_exit_for(wrc);
        }
    }
    free(rep);
    return rc;
}

/* ---- JSON Lines ------------------------------------------------------------------------ */

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Lines waiting to be handed to the writer in one batch (parsed on all threads). */
typedef struct line_batch {
    char *bytes;
    size_t len, cap;
    size_t n;
    size_t off[BATCH_LINES];
    size_t lens[BATCH_LINES];
    uint64_t loc[BATCH_LINES];
    uint64_t lineno[BATCH_LINES];
} line_batch;

static int flush_lines(pack_state *ps, line_batch *b, const char *display)
{
    const char *lines[BATCH_LINES];
    for (size_t i = 0; i < b->n; i++) lines[i] = b->bytes + b->off[i];
    size_t at = 0;
    int rc = 0;
    while (at < b->n && !rc) {
        size_t done = 0;
        int wrc = newsarc_writer_add_json_batch(ps->w, lines + at, b->lens + at, b->n - at, ps->text_field, b->loc + at,
                                                &done);
        if (!wrc) break;
        size_t bad = at + done;
        unsigned long long ln = (unsigned long long)b->lineno[bad];
        if (wrc == NEWSARC_E_INPUT && ps->skip_invalid) {
            cli_warn("'%s' line %llu: %s (skipped)", display, ln, newsarc_writer_error(ps->w));
            if (note_skipped(ps, display, b->lineno[bad], newsarc_writer_error(ps->w)) != 0) {
                cli_err("out of memory");
                rc = EXIT_USAGE;
            }
        } else {
            cli_err("'%s' line %llu: %s", display, ln, newsarc_writer_error(ps->w));
            rc = cli_exit_for(wrc);
        }
        at = bad + 1;
    }
    b->n = 0;
    b->len = 0;
    return rc;
}

/*
 * Lines are read one batch ahead, on a thread of their own, while the
 * writer parses and adds the batch before (its helpers idled while this
 * thread read: about 0.2 s of a million lines).  The reader keeps its
 * first error and main reports it in input order: after the batches before
 * it were added, as a sequential read would.
 */
typedef struct line_reader {
    pack_state *ps;
    FILE *f;
    uint32_t si;
    char *line;
    size_t cap;
    uint64_t off, lineno;
    int eof;         /* no line left (or a read error: read_errno) */
    int read_errno;  /* the read error at the end, reported after the lines before it */
    int rc;          /* a line that stops the pack: its exit code, and msg */
    char msg[128];
    size_t limit;     /* lines in the next batch: 256 at first, doubling up to BATCH_LINES, so the
                       * writer starts on the first lines while the reader reads on */
    line_batch *next; /* what read_ahead fills */
} line_reader;

/* Fill b (emptied first) with the next lines, up to a batch; stops early at the end or an error. */
static void read_lines(line_reader *r, line_batch *b)
{
    b->n = 0;
    b->len = 0;
    while (!r->rc && !r->eof) {
        errno = 0;
        ssize_t got = getline(&r->line, &r->cap, r->f);
        if (got <= 0 || ferror(r->f)) { /* a line cut by a read error is not a line */
            r->eof = 1;
            if (ferror(r->f)) r->read_errno = errno ? errno : EIO;
            return;
        }
        r->lineno++;
        uint64_t start = r->off;
        r->off += (uint64_t)got;
        size_t len = (size_t)got;
        if (len && r->line[len - 1] == '\n') len--;
        if (len && r->line[len - 1] == '\r') len--;
        const char *p = r->line;
        if (r->lineno == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM */
            p += 3;
            len -= 3;
            start += 3;
        }
        if (is_blank(p, len)) continue;
        uint64_t loc = 0;
        if (len > UINT32_MAX) {
            r->rc = EXIT_DATA;
            snprintf(r->msg, sizeof r->msg, " line %llu: line longer than 4 GiB", (unsigned long long)r->lineno);
        } else if (locator_of(r->ps, r->si, start, &loc) != 0) {
            r->rc = EXIT_USAGE;
            snprintf(r->msg, sizeof r->msg, ": %s", LOCATOR_LIMITS);
        } else if (b->len + len > b->cap) {
            size_t nc = b->cap ? b->cap : (1u << 20);
            while (nc < b->len + len) nc *= 2;
            char *nb = realloc(b->bytes, nc);
            if (!nb) r->rc = EXIT_USAGE; /* no message: out of memory */
            else {
                b->bytes = nb;
                b->cap = nc;
            }
        }
        if (r->rc) return;
        memcpy(b->bytes + b->len, p, len);
        b->off[b->n] = b->len;
        b->lens[b->n] = len;
        b->loc[b->n] = loc;
        b->lineno[b->n] = r->lineno;
        b->n++;
        b->len += len;
        r->ps->bytes_in += len;
        r->ps->articles_seen++;
        progress(r->ps);
        if (b->n >= r->limit || b->len >= BATCH_BYTES) break;
    }
    if (r->limit < BATCH_LINES) r->limit *= 2;
}

static void *read_ahead(void *arg)
{
    line_reader *r = arg;
    read_lines(r, r->next);
    return NULL;
}

static int add_jsonl(pack_state *ps, const char *path, const char *display, int fd)
{
    FILE *f = fdopen(dup(fd), "rb");
    if (!f) {
        cli_err("'%s': %s", display, strerror(errno));
        return EXIT_USAGE;
    }
    line_reader r = {.ps = ps, .f = f, .limit = 256};
    line_batch *cur = calloc(1, sizeof *cur), *next = calloc(1, sizeof *next);
    if (!cur || !next || add_source(ps, path, display, 1, fd, &r.si) != 0) {
        fclose(f);
        free(cur);
        free(next);
        cli_err("out of memory");
        return EXIT_USAGE;
    }
    int rc = 0;
    read_lines(&r, cur);
    while (!rc && cur->n) {
        pthread_t th;
        int ahead = 0;
        if (!r.eof && !r.rc) {
            r.next = next;
            ahead = ps->threads > 1 && pthread_create(&th, NULL, read_ahead, &r) == 0;
        }
        rc = flush_lines(ps, cur, display);
        if (ahead) pthread_join(th, NULL);
        else if (!rc && !r.eof && !r.rc) read_lines(&r, next);
        else next->n = 0;
        line_batch *t = cur;
        cur = next;
        next = t;
    }
    if (!rc && r.rc) {
        if (r.msg[0]) cli_err("'%s'%s", display, r.msg);
        else cli_err("out of memory");
        rc = r.rc;
    }
    if (!rc && r.read_errno) {
        cli_err("'%s': read error: %s", display, strerror(r.read_errno));
        rc = EXIT_USAGE;
    }
    free(cur->bytes);
    free(cur);
    free(next->bytes);
    free(next);
    free(r.line);
    fclose(f);
    return rc;
}

/*
 * Inputs read once (stdin, a .jsonl.zst or .jsonl.gz file) pass through a
 * tee_in before pass 1: zstd is decompressed (every frame, windows up to
 * 2 GiB as zstd --long=31 writes), gzip too (every member, as gzip -d
 * does), stdin's kind is told by its first bytes, and every byte is written
 * to an unlinked temporary file in $TMPDIR, which both passes read, so a
 * line's offset is its offset in that file.  The first error is kept in msg.
 */
enum { IN_TELL = -1, IN_PLAIN = 0, IN_ZSTD = 1, IN_GZIP = 2 };
typedef struct tee_in {
    int in_fd, spill_fd;
    const char *display;
    int kind;                 /* IN_ZSTD, IN_GZIP, IN_PLAIN, or IN_TELL: told by the first bytes */
    ZSTD_DCtx *d;
    z_stream gz;
    int gz_init;              /* gz is set up (inflateEnd due) */
    unsigned char *in;        /* compressed bytes read, in[pos..len) not yet decompressed */
    size_t pos, len;
    int eof, frame_open, first, any; /* frame_open: inside a zstd frame or gzip member; any: some byte was read */
    int rc;                   /* EXIT_DATA or EXIT_USAGE, and msg */
    char msg[300];
} tee_in;

enum { TEE_IN = 1 << 17 };

/* 1 when the bytes start a zstd frame (or a skippable frame, which zstd tools also write first). */
static int zstd_magic(const unsigned char *p, size_t n)
{
    if (n < 4) return 0;
    uint32_t m = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return m == 0xFD2FB528u || (m & 0xFFFFFFF0u) == 0x184D2A50u;
}

/* 1 when the bytes start a gzip member (RFC 1952: ID1 ID2 and CM = 8, deflate). */
static int gzip_magic(const unsigned char *p, size_t n) { return n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8; }

static ssize_t tee_fail(tee_in *t, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keep the first error (rc, and the message); -1. */
static ssize_t tee_fail(tee_in *t, int rc, const char *fmt, ...)
{
    if (!t->rc) {
        va_list ap;
        va_start(ap, fmt);
        t->rc = rc;
        vsnprintf(t->msg, sizeof t->msg, fmt, ap);
        va_end(ap);
    }
    errno = EIO;
    return -1;
}

/* At least want bytes unread in t->in, or the end of the input: the unread
 * ones moved to the front and more read after them.  0, or -1 after tee_fail. */
static int tee_more(tee_in *t, size_t want)
{
    while (t->len - t->pos < want && !t->eof) {
        memmove(t->in, t->in + t->pos, t->len - t->pos);
        t->len -= t->pos;
        t->pos = 0;
        ssize_t k = read(t->in_fd, t->in + t->len, TEE_IN - t->len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return (int)tee_fail(t, EXIT_USAGE, "'%s': read error: %s", t->display, strerror(errno));
        if (k == 0) t->eof = 1;
        t->len += (size_t)k;
        if (k > 0) t->any = 1;
    }
    return 0;
}

/* Fill t->in from in_fd when it is used up; the first fill gets 4 bytes at
 * least (a pipe may give fewer) or the end, and tells the input's kind. */
static int tee_fill(tee_in *t)
{
    if (t->pos < t->len || t->eof) return 0;
    if (tee_more(t, t->first ? 4 : 1) != 0) return -1;
    if (t->first && t->kind == IN_TELL)
        t->kind = zstd_magic(t->in, t->len) ? IN_ZSTD : gzip_magic(t->in, t->len) ? IN_GZIP : IN_PLAIN;
    t->first = 0;
    return 0;
}

/*
 * Some gzip output into buf (at most size bytes): > 0 bytes, 0 at the end
 * of the input (between members), -1 after tee_fail.  Members follow one
 * another (what gzip -d accepts: `cat a.gz b.gz`); anything after the last
 * member that is not another member is refused, as is a member cut short.
 */
static ssize_t gz_step(tee_in *t, char *buf, size_t size)
{
    if (!t->gz_init) {
        if (t->pos == t->len && !t->any) return tee_fail(t, EXIT_DATA, "'%s' is empty: not a gzip stream", t->display);
        memset(&t->gz, 0, sizeof t->gz);
        if (inflateInit2(&t->gz, 16 + MAX_WBITS) != Z_OK) return tee_fail(t, EXIT_USAGE, "out of memory");
        t->gz_init = 1;
        t->frame_open = 0;
    }
    for (;;) {
        if (tee_fill(t) != 0) return -1;
        if (!t->frame_open) { /* between members: the end, or the next member */
            if (t->pos == t->len && t->eof) return 0;
            if (tee_more(t, 3) != 0) return -1; /* the next member's magic, whole */
            if (!gzip_magic(t->in + t->pos, t->len - t->pos))
                return tee_fail(t, EXIT_DATA, "'%s': not valid gzip at byte %llu of the input", t->display,
                                (unsigned long long)t->gz.total_in);
        }
        size_t avail = t->len - t->pos;
        t->gz.next_in = t->in + t->pos;
        t->gz.avail_in = avail > UINT_MAX ? UINT_MAX : (unsigned)avail;
        t->gz.next_out = (unsigned char *)buf;
        t->gz.avail_out = size > UINT_MAX ? UINT_MAX : (unsigned)size;
        int z = inflate(&t->gz, Z_NO_FLUSH);
        t->pos = (size_t)(t->gz.next_in - t->in);
        size_t got = (size_t)((char *)t->gz.next_out - buf);
        if (z == Z_STREAM_END) {
            uLong in_total = t->gz.total_in;
            if (inflateReset(&t->gz) != Z_OK) return tee_fail(t, EXIT_USAGE, "'%s': internal: inflateReset failed", t->display);
            t->gz.total_in = in_total; /* (for messages: bytes of the whole input) */
            t->frame_open = 0;
        } else if (z == Z_OK || z == Z_BUF_ERROR) {
            t->frame_open = 1;
            /* no progress with the whole input read: the member is cut short */
            if (!got && t->pos == t->len && t->eof)
                return tee_fail(t, EXIT_DATA, "'%s': the gzip stream is truncated", t->display);
        } else if (z == Z_MEM_ERROR) {
            return tee_fail(t, EXIT_USAGE, "out of memory");
        } else {
            return tee_fail(t, EXIT_DATA, "'%s': not valid gzip: %s", t->display, t->gz.msg ? t->gz.msg : "damaged data");
        }
        if (got) return (ssize_t)got;
    }
}

static ssize_t tee_read(void *cookie, char *buf, size_t size)
{
    tee_in *t = cookie;
    if (t->rc) {
        errno = EIO;
        return -1;
    }
    size_t got = 0;
    while (!got) {
        if (tee_fill(t) != 0) return -1;
        if (t->kind == IN_PLAIN) {
            if (t->pos == t->len) return 0; /* the end */
            got = t->len - t->pos < size ? t->len - t->pos : size;
            memcpy(buf, t->in + t->pos, got);
            t->pos += got;
            break;
        }
        if (t->kind == IN_GZIP) {
            ssize_t g = gz_step(t, buf, size);
            if (g <= 0) return g;
            got = (size_t)g;
            break;
        }
        if (t->pos == t->len && !t->any) return tee_fail(t, EXIT_DATA, "'%s' is empty: not a zstd stream", t->display);
        if (t->pos == t->len && !t->frame_open) { /* the end, between frames */
            ZSTD_freeDCtx(t->d); /* its window (128 MiB for --long=27) is not kept through the rest of the pack */
            t->d = NULL;
            return 0;
        }
        if (!t->d && (!(t->d = ZSTD_createDCtx()) || ZSTD_isError(ZSTD_DCtx_setParameter(t->d, ZSTD_d_windowLogMax, 31))))
            return tee_fail(t, EXIT_USAGE, "out of memory");
        /* at the end of the input (eof) this still flushes what the decoder holds of a frame's last block */
        ZSTD_inBuffer ib = {t->in, t->len, t->pos};
        ZSTD_outBuffer ob = {buf, size, 0};
        size_t z = ZSTD_decompressStream(t->d, &ob, &ib);
        if (ZSTD_isError(z)) return tee_fail(t, EXIT_DATA, "'%s': not valid zstd: %s", t->display, ZSTD_getErrorName(z));
        t->pos = ib.pos;
        t->frame_open = z != 0;
        got = ob.pos;
        if (!got && t->eof && t->pos == t->len && t->frame_open)
            return tee_fail(t, EXIT_DATA, "'%s': the zstd stream is truncated", t->display);
    }
    if (cli_write_all(t->spill_fd, buf, got) != 0)
        return tee_fail(t, EXIT_USAGE, "temporary file for '%s': write error: %s", t->display, strerror(errno));
    return (ssize_t)got;
}

/* The unlinked temporary file of an input read once; -1 after a message. */
static int spill_file(const char *display)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/newsarc-input-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        cli_err("cannot create a temporary file for '%s' in '%s': %s", display, dir && *dir ? dir : "/tmp",
                strerror(errno));
        return -1;
    }
    unlink(tmpl);
    return fd;
}

/*
 * Pack in_fd, read once (kind as in tee_in), as a JSONL feed: the whole
 * input goes through the tee into the temporary file first, which both
 * passes then read.  For zstd this also frees the decoder and its window
 * (128 MiB for --long=27) before pass 1, whose own peak it would add to
 * (m1: 340 MB against 216 MB when it was decompressed beside pass 1, for
 * about the same time), which the 512 MB bound for a 10 GB feed has no
 * room for.
 */
static int add_jsonl_once(pack_state *ps, const char *path, const char *display, int in_fd, int kind)
{
    int fd = spill_file(display);
    if (fd < 0) return EXIT_USAGE;
    enum { CHUNK = 1 << 20 };
    tee_in t = {.in_fd = in_fd, .spill_fd = fd, .display = display, .kind = kind, .first = 1, .in = malloc(TEE_IN)};
    char *buf = malloc(CHUNK);
    int rc = 0;
    ssize_t k = 0;
    if (!t.in || !buf) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    } else {
        while ((k = tee_read(&t, buf, CHUNK)) > 0) {}
        if (k < 0) {
            cli_err("%s", t.msg);
            rc = t.rc;
        }
    }
    free(buf);
    free(t.in);
    ZSTD_freeDCtx(t.d);
    if (t.gz_init) inflateEnd(&t.gz);
    if (!rc && lseek(fd, 0, SEEK_SET) != 0) {
        cli_err("temporary file for '%s': %s", display, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (rc) {
        close(fd);
        return rc;
    }
    return add_jsonl(ps, path, display, fd); /* fd is the source's now (closed with the others) */
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int add_input(pack_state *ps, const char *in)
{
    if (!strcmp(in, "-")) {
        return add_jsonl_once(ps, "-", "<stdin>", 0, IN_TELL);
    }
    struct stat st;
    if (stat(in, &st) != 0) {
        cli_err("'%s': %s", in, strerror(errno));
        return EXIT_USAGE;
    }
    if (S_ISDIR(st.st_mode)) {
        dirstack ds = {.depth = 0};
        int rc = walk(ps, in, "", &ds);
        return rc ? rc : flush_files(ps);
    }
    if (!S_ISREG(st.st_mode)) {
        cli_err("'%s': not a directory, a regular file or '-'", in);
        return EXIT_USAGE;
    }
    if (ends_with(in, ".jsonl") || ends_with(in, ".ndjson")) {
        int fd = open(in, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_err("'%s': cannot open: %s", in, strerror(errno));
            return EXIT_USAGE;
        }
        return add_jsonl(ps, in, in, fd);
    }
    int kind = ends_with(in, ".jsonl.zst") || ends_with(in, ".ndjson.zst")  ? IN_ZSTD
               : ends_with(in, ".jsonl.gz") || ends_with(in, ".ndjson.gz") ? IN_GZIP
                                                                            : IN_PLAIN;
    if (kind != IN_PLAIN) { /* decompressed once, into a temporary file the second pass reads */
        int zfd = open(in, O_RDONLY | O_CLOEXEC);
        if (zfd < 0) {
            cli_err("'%s': cannot open: %s", in, strerror(errno));
            return EXIT_USAGE;
        }
        int rc = add_jsonl_once(ps, in, in, zfd, kind);
        close(zfd);
        return rc;
    }
    const char *base = strrchr(in, '/');
    int rc = add_file(ps, in, base ? base + 1 : in, in, (uint64_t)st.st_size);
    return rc ? rc : flush_files(ps);
}

/* ---- output: atomic file or stdout ----------------------------------------------------------- */

typedef struct outfile {
    int fd;
    char *buf;
    size_t len, cap;
} outfile;

static int out_flush(outfile *o)
{
    if (o->len && cli_write_all(o->fd, o->buf, o->len) != 0) return -1;
    o->len = 0;
    return 0;
}

static int out_write(void *ctx, const void *p, size_t n)
{
    outfile *o = ctx;
    if (n >= o->cap) {
        if (out_flush(o) != 0) return -1;
        return cli_write_all(o->fd, p, n);
    }
    if (o->len + n > o->cap && out_flush(o) != 0) return -1;
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* ---- the command -------------------------------------------------------------------------------------- */

static void pack_usage(FILE *f)
{
    fprintf(f,
            "usage: newsarc pack -o OUT [options] INPUT...\n"
            "  INPUT           a directory (every regular file below it, named by its relative path),\n"
            "                  a .jsonl or .ndjson file (one JSON object per line), a .jsonl.zst or\n"
            "                  .jsonl.gz file (the same, compressed; decompressed into $TMPDIR), '-'\n"
            "                  (JSON Lines on stdin, plain, zstd or gzip), or any other file (one\n"
            "                  article named by its base name)\n"
            "  -o, --output OUT   archive to write ('-' = stdout)\n"
            "  -f, --force        replace OUT if it exists\n"
            "  -l, --level N      zstd level 1..22 (default 3)\n"
            "  -T, --threads N    compression threads (default: all cores); output never depends on it\n"
            "      --block-size N target uncompressed block size in bytes (default 131072)\n"
            "      --dict-size N  dictionary size in bytes (default: automatic, chosen by measuring\n                  112640, 28160 and none)\n"
            "      --no-dict      no dictionary\n"
            "      --text-field NAME  JSON member holding the article text (default: first of\n"
            "                  maintext, text, content, body)\n"
#ifdef NEWSARC_HAVE_SIGN
            "  -s, --secret-key FILE  sign with this minisign secret key (password: terminal or $NEWSARC_PASSWORD)\n"
#endif
            "      --skip-invalid skip malformed JSON lines (each reported on stderr and in the\n"
            "                  archive as the entry '" NEWSARC_SKIPPED_NAME "')\n"
            "      --no-text-info don't record charset, norm_id and script per article (faster)\n"
            "      --meta-memory MIB  metadata kept in memory while packing (default 64), and a\n"
            "                  quarter as much of urls/names; the rest goes to a temporary\n"
            "                  file in $TMPDIR (output is the same)\n"
            "      --normalize LIST  stronger normalizations for norm_id, recorded in the archive:\n"
            "                  strip-diacritics, unify-alef-yeh (comma-separated)\n"
            "  -q, --quiet        no summary line\n");
}

int cmd_pack(int argc, char **argv)
{
#ifdef __GLIBC__
    /* glibc raises its mmap threshold to the size of any large block freed
     * (up to 32 MiB); after that the writer's growing per-article arrays
     * come from the heap, and every copy left behind by realloc stays
     * resident.  A fixed 1 MiB threshold keeps them mapped, so realloc moves
     * pages and free returns them: fars 64x peak 68.3 -> 54.4 MiB. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    static const struct option lopts[] = {{"output", required_argument, 0, 'o'},
                                          {"force", no_argument, 0, 'f'},
                                          {"level", required_argument, 0, 'l'},
                                          {"threads", required_argument, 0, 'T'},
                                          {"block-size", required_argument, 0, 'B'},
                                          {"dict-size", required_argument, 0, 'D'},
                                          {"no-dict", no_argument, 0, 'N'},
                                          {"text-field", required_argument, 0, 'F'},
                                          {"secret-key", required_argument, 0, 's'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"skip-invalid", no_argument, 0, 'S'},
                                          {"no-text-info", no_argument, 0, 'X'},
                                          {"normalize", required_argument, 0, 'Z'},
                                          {"meta-memory", required_argument, 0, 'M'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *out = NULL, *seckey = NULL;
    int force = 0, quiet = 0;
    newsarc_writer_options opt = {0};
    long v;
    opt.threads = cli_threads_default();
    pack_state ps;
    memset(&ps, 0, sizeof ps);
    keep_init(&ps);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:fl:T:s:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 's': seckey = optarg; break;
        case 'l':
            if (!cli_parse_long(optarg, 1, 22, &v)) { cli_err("level '%s' is not a number from 1 to 22", optarg); return EXIT_USAGE; }
            opt.level = (int)v;
            break;
        case 'T':
            if (!cli_threads_arg(optarg, &opt.threads)) return EXIT_USAGE;
            break;
        case 'B':
            if (!cli_parse_long(optarg, 1024, 64L << 20, &v)) { cli_err("block size '%s' is not a number from 1024 to 67108864", optarg); return EXIT_USAGE; }
            opt.block_size = (uint32_t)v;
            break;
        case 'D':
            if (!cli_parse_long(optarg, 1024, 16L << 20, &v)) { cli_err("dictionary size '%s' is not a number from 1024 to 16777216", optarg); return EXIT_USAGE; }
            opt.dict_size = (uint32_t)v;
            break;
        case 'N': opt.dict_size = UINT32_MAX; break;
        case 'F': ps.text_field = optarg; break;
        case 'S': ps.skip_invalid = 1; break;
        case 'X': opt.no_text_info = 1; break;
        case 'M':
            if (!cli_parse_long(optarg, 0, 1L << 20, &v)) { cli_err("metadata memory '%s' is not a number of MiB from 0 to 1048576", optarg); return EXIT_USAGE; }
            opt.meta_memory = v ? (uint64_t)v << 20 : 1; /* 0 MiB: every metadata byte to the file */
            break;
        case 'Z': {
            /* comma-separated stronger normalizations for norm_id */
            char *list = strdup(optarg), *save = NULL;
            for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
                if (!strcmp(t, "strip-diacritics")) opt.norm_options |= NEWSARC_NORM_STRIP_DIACRITICS;
                else if (!strcmp(t, "unify-alef-yeh")) opt.norm_options |= NEWSARC_NORM_UNIFY_ALEF_YEH;
                else {
                    cli_err("unknown normalization '%s' (known: strip-diacritics, unify-alef-yeh)", t);
                    free(list);
                    return EXIT_USAGE;
                }
            }
            free(list);
            break;
        }
        case 'h': pack_usage(stdout); return EXIT_OK;
        default: pack_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!out) {
        cli_err("missing -o OUT");
        pack_usage(stderr);
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_err("no INPUT given");
        pack_usage(stderr);
        return EXIT_USAGE;
    }
    int to_stdout = !strcmp(out, "-");
    struct stat st;
    if (!to_stdout && !force && lstat(out, &st) == 0) {
        cli_err("'%s' already exists (use -f to replace it)", out);
        return EXIT_USAGE;
    }
#ifdef NEWSARC_HAVE_SIGN
    sign_cli_ctx sctx;
    if (seckey && sign_cli_load(&sctx, seckey) != 0) return EXIT_USAGE;
#else
    if (seckey) {
        cli_err("this build cannot sign");
        return EXIT_USAGE;
    }
#endif
    ps.w = newsarc_writer_new(&opt);
    if (!ps.w) {
        cli_err("out of memory");
        return EXIT_USAGE;
    }
    newsarc_writer_set_fetch(ps.w, fetch, &ps);
    ps.threads = opt.threads;
#ifdef NEWSARC_HAVE_URING
    newsarc_writer_set_fetch_many(ps.w, fetch_many);
#endif
    int rc = 0;
    for (int i = optind; i < argc && !rc; i++) rc = add_input(&ps, argv[i]);
    if (!rc) rc = add_skipped_report(&ps);
    if (cli_progress_enabled() && ps.articles_seen >= 1000) fputc('\n', stderr);
    if (!rc && newsarc_writer_entry_count(ps.w) == 0) {
        cli_err("no articles found in the inputs");
        rc = EXIT_DATA;
    }
    int fd = -1;
    cli_atomic at = {-1, out, force};
    if (!rc) {
        if (to_stdout) fd = 1;
        else if (cli_atomic_begin(&at, out, force) != 0) rc = EXIT_USAGE;
        else fd = at.fd;
    }
    outfile of = {fd, NULL, 0, 1 << 20};
    if (!rc && !(of.buf = malloc(of.cap))) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    }
    if (!rc) {
        map_feeds(&ps);
        if (cli_progress_enabled()) fprintf(stderr, "newsarc pack: compressing...\r");
#ifdef NEWSARC_HAVE_SIGN
        int wrc = newsarc_writer_finish(ps.w, out_write, &of, seckey ? sign_cli_callback : NULL, seckey ? &sctx : NULL);
#else
        int wrc = newsarc_writer_finish(ps.w, out_write, &of, NULL, NULL);
#endif
        if (!wrc && out_flush(&of) != 0) {
            cli_err("'%s': write error: %s", out, strerror(errno));
            rc = EXIT_USAGE;
        } else if (wrc == NEWSARC_E_IO) {
            cli_err("'%s': %s: %s", out, newsarc_writer_error(ps.w), strerror(errno));
            rc = EXIT_USAGE;
        } else if (wrc) {
            cli_err("%s", newsarc_writer_error(ps.w));
            rc = cli_exit_for(wrc);
        }
    }
    if (!to_stdout && at.fd >= 0) {
        if (rc) cli_atomic_abort(&at);
        else rc = cli_atomic_commit(&at);
    }
    if (!rc && !quiet) {
        uint8_t id[NEWSARC_ID_SIZE];
        char hex[NEWSARC_ID_HEX_SIZE + 1];
        if (newsarc_writer_archive_id(ps.w, id) == 0) {
            newsarc_id_to_hex(hex, id);
            fprintf(stderr, "newsarc pack: %zu entries, %.1f MB in, archive id %s\n", newsarc_writer_entry_count(ps.w),
                    (double)ps.bytes_in / 1e6, hex);
        }
    }
#ifdef NEWSARC_HAVE_SIGN
    if (seckey) sign_cli_free(&sctx);
#endif
    free(of.buf);
    newsarc_writer_free(ps.w);
    unmap_feeds(&ps);
    keep_release(&ps);
    for (size_t i = 0; i < ps.n_src; i++) {
        if (ps.src[i].fd >= 0) close(ps.src[i].fd);
        free(ps.src[i].path);
        free(ps.src[i].display);
        free(ps.src[i].mem);
    }
    for (size_t i = 0; i < ps.n_skipped; i++) free(ps.skipped[i]);
    free(ps.skipped);
    free(ps.src);
    file_batch_free(&ps);
    free(ps.fb.q);
    free(ps.fb.e);
    free(ps.fb.len);
    free(ps.fb.loc);
    free(ps.fb.art);
    free(ps.fb.data);
    return rc;
}
