/*
 * cmd_extract.c - newsarc extract [-C DIR] [-f] [--jsonl] ARCHIVE [SELECTOR...]
 *
 * Files are written under DIR only: every path component is opened with
 * O_NOFOLLOW relative to its parent, names are checked again (archives may
 * be crafted), a file is written to a temporary name and then renamed
 * with RENAME_NOREPLACE, or linked where the filesystem lacks it (no -f:
 * never replaces anything), or renamed (-f: replaces the directory entry
 * itself, never what a symlink points to) into place.  Articles are read in
 * the order they are stored, so each block is decompressed once, on all
 * threads; the files (and lines) are written in that order (extract_threads).
 */
#define _GNU_SOURCE /* renameat2 */
#include "cli.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct xitem {
    uint64_t entry, article;
    uint32_t block, offset, len; /* where the article is stored (len: 0 when not looked up) */
} xitem;

static int cmp_item(const void *a, const void *b)
{
    const xitem *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->article != y->article) return x->article < y->article ? -1 : 1; /* (a damaged index) */
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/*
 * Items in the order their articles are stored, (block, offset, entry): counted into their blocks first
 * (linear), then each block's few hundred sorted; a million items sorted
 * whole took a tenth of extract's time.  -1 out of memory.
 */
static int sort_items(xitem *items, size_t n, uint32_t blocks)
{
    /* bucket b for block b; a block number out of range (a damaged index,
     * reported when read) goes to the last bucket, still in cmp_item order */
    size_t nb = (size_t)blocks + 1;
    size_t *end = calloc(nb + 1, sizeof *end);
    xitem *tmp = malloc(sizeof *tmp * (n ? n : 1));
    if (!end || !tmp) {
        free(end);
        free(tmp);
        return -1;
    }
#define BUCKET(it) ((it).block < blocks ? (size_t)(it).block : (size_t)blocks)
    for (size_t i = 0; i < n; i++) end[BUCKET(items[i]) + 1]++;
    for (size_t b = 0; b < nb; b++) end[b + 1] += end[b];
    for (size_t i = 0; i < n; i++) tmp[end[BUCKET(items[i])]++] = items[i];
#undef BUCKET
    /* end[b] is now where bucket b ends */
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b ? end[b - 1] : 0;
        qsort(tmp + lo, end[b] - lo, sizeof *tmp, cmp_item);
    }
    memcpy(items, tmp, sizeof *tmp * n);
    free(end);
    free(tmp);
    return 0;
}

/* The directory of the last file written (names are sorted: the next one is
 * most likely in it too), so its path is not opened again for every file. */
typedef struct dir_cache {
    int fd;      /* -1: none */
    size_t len;  /* its path relative to the root: path[0, len) */
    char path[4097];
} dir_cache;

/* The directory holding name's last component, opened (and created if
 * needed) one component at a time; owned by the root or the cache, not to
 * be closed.  -1 with errno set. */
static int open_parent(int root, dir_cache *dc, const char *name, size_t len, const char **base)
{
    size_t dl = len;
    while (dl > 0 && name[dl - 1] != '/') dl--;
    *base = name + dl;
    if (dl == 0) return root;
    dl--; /* without the slash */
    if (dc->fd >= 0 && dc->len == dl && !memcmp(dc->path, name, dl)) return dc->fd;
    if (dl >= sizeof dc->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = dup(root);
    size_t start = 0;
    for (size_t i = 0; i <= dl && fd >= 0; i++) {
        if (i < dl && name[i] != '/') continue;
        char comp[4097];
        size_t cl = i - start;
        memcpy(comp, name + start, cl);
        comp[cl] = 0;
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(fd, comp, 0777) != 0 && errno != EEXIST) {
                close(fd);
                return -1;
            }
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        close(fd);
        fd = next;
        start = i + 1;
    }
    if (fd < 0) return -1;
    if (dc->fd >= 0) close(dc->fd);
    dc->fd = fd;
    dc->len = dl;
    memcpy(dc->path, name, dl);
    return fd;
}

/* tmp to base in directory dfd unless base exists: one rename with
 * RENAME_NOREPLACE (Linux 3.15) where the filesystem has it, else a link
 * (and the caller unlinks tmp).  1 renamed, 0 linked, -1 errno set. */
static int place_new(int dfd, const char *tmp, const char *base)
{
    if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) == 0) return 1;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    return linkat(dfd, tmp, dfd, base, 0) == 0 ? 0 : -1;
}

static int write_entry_file(int root, dir_cache *dc, const char *name, size_t len, const void *data, size_t n,
                            int force, const char *shown)
{
    const char *base;
    int dfd = open_parent(root, dc, name, len, &base);
    if (dfd < 0) {
        cli_err("'%s': cannot create its directory: %s", shown, strerror(errno));
        return EXIT_USAGE;
    }
    char tmp[64];
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        snprintf(tmp, sizeof tmp, ".newsarc-x-%ld-%d", (long)getpid(), tries);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        cli_err("'%s': cannot create a file: %s", shown, strerror(errno));
        return EXIT_USAGE;
    }
    int rc = 0, moved = 0;
    if (cli_write_all(fd, data, n) != 0) {
        cli_err("'%s': write error: %s", shown, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (close(fd) != 0 && !rc) {
        cli_err("'%s': write error: %s", shown, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (!rc) {
        if (force) {
            struct stat st;
            if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                cli_err("'%s': a directory is in the way", shown);
                rc = EXIT_USAGE;
            } else if (renameat(dfd, tmp, dfd, base) != 0) {
                cli_err("'%s': %s", shown, strerror(errno));
                rc = EXIT_USAGE;
            } else
                moved = 1;
        } else {
            int pr = place_new(dfd, tmp, base);
            if (pr < 0) {
                if (errno == EEXIST) cli_err("'%s' already exists (use -f to replace it)", shown);
                else cli_err("'%s': %s", shown, strerror(errno));
                rc = EXIT_USAGE;
            }
            moved = pr == 1;
        }
    }
    if (!moved) unlinkat(dfd, tmp, 0);
    return rc;
}

/*
 * extract --jsonl on all threads.  A job is a run of entries: a thread
 * builds its lines in memory through the thread's own cursor and META
 * cache, and the jobs are written in order, each by the thread that
 * finished the job before it (cli_ordered_run): the same output as one
 * thread, also up to the first bad entry.
 *  - A feed (every entry without a name) has its entries in the order
 *    their articles are stored already (spec 9.2): a job is a run of one
 *    META frame's entries and lists them itself, so META is decoded about
 *    once (a frame cut in several jobs is decoded by each thread that
 *    takes one of them).  A frame is cut when its articles would make a
 *    job of more than about 4 MiB (from the archive's average article
 *    size): a frame of long articles with short metadata holds thousands
 *    of them, and the jobs built ahead are all in memory at once.
 *  - Otherwise the items, sorted beforehand, are cut into runs of whole
 *    blocks.
 */
#define XSLOTS (2 * CLI_MAX_JOBS) /* slots: jobs built ahead of the output */
#define XJOB_AHEAD 6

typedef struct xthread {
    newsarc_cursor *cur;
    na_meta_cache *mc; /* this thread's decoded META frames */
} xthread;

/* Files: what the job found for one entry, done in order by xemit_files. */
typedef struct xfile {
    enum { XF_WRITE, XF_REPEATED, XF_SKIP, XF_BAD_NAME } what;
    const char *bad;           /* XF_BAD_NAME: why */
    size_t name_off, name_len; /* in out, NUL-terminated */
    size_t data_off, data_len; /* in out; data_off SIZE_MAX: read again when written (a big article) */
    uint64_t article;
} xfile;

/* Articles above this are checked when the job is built but not kept: the
 * thread writing the files reads them again (one at a time in memory, as
 * before files were read on several threads). */
#define XFILE_BIG ((size_t)8 << 20)

typedef struct xslot {
    xitem *own; /* a feed's job: its entries */
    size_t own_cap;
    na_buf out; /* lines; files: their names and bytes */
    xfile *files;
    size_t n_files, files_cap;
    int rc; /* the job's lines stop before the entry that failed */
    char msg[600];
} xslot;

typedef struct xrun {
    const char *path;
    xthread th[CLI_MAX_JOBS];
    xslot slot[XSLOTS];
    size_t slots; /* used: 2 a thread, so the lines are written while still in cache */
    newsarc_cursor *emit_cur; /* files: big articles read again by the (one) emitting thread */
    int utf8;                 /* --utf8: file entries decoded (one thread: ICU converters and the reader's text information) */
    const xitem *items; /* sorted items: job k is items[cut[k], cut[k + 1]) */
    const size_t *cut;
    const uint64_t *fcut; /* a feed (items NULL): job k is entries [fcut[k], fcut[k + 1]) of one frame */
    /* files (extract -C): the emitting thread's state */
    newsarc_reader *r;
    const char *dir;
    int root, force;
    dir_cache *dcache;
} xrun;

/* --utf8: a file entry's bytes decoded with the recorded charset into *u
 * (malloc'd, *data and *len then point there); 0, or the error in s. */
static int xutf8(const xrun *x, xslot *s, const newsarc_entry *e, uint64_t art, const void **data, size_t *len,
                 char **u)
{
    *u = NULL;
    if (!x->utf8 || (e->flags & NEWSARC_ENTRY_JSON)) return 0;
    size_t ul = 0;
    int rc = cli_article_utf8(x->r, art, *data, *len, u, &ul);
    if (rc) {
        free(*u);
        *u = NULL;
        snprintf(s->msg, sizeof s->msg, "cannot decode an article: %s", cli_text_error(rc));
        s->rc = rc;
        return rc;
    }
    *data = *u;
    *len = ul;
    return 0;
}

/* The lines of items[0, n) into s->out; on a failure s->rc and s->msg. */
static void xlines(const xrun *x, xthread *th, xslot *s, const xitem *items, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const xitem *it = &items[k];
        const void *data;
        size_t len;
        /* index records are met in block order, scattered in memory: ask for them ahead */
        if (k + XJOB_AHEAD < n) na_reader_prefetch_article(th->cur, items[k + XJOB_AHEAD].article);
        /* the entry now (its frame stays decoded while it is formatted) */
        newsarc_entry e;
        uint64_t art;
        char m[NA_ERRMSG];
        int rc = na_meta_cache_entry(th->mc, it->entry, &e, &art, m);
        if (rc) {
            snprintf(s->msg, sizeof s->msg, "%s", m);
            s->rc = rc;
            return;
        }
        rc = newsarc_cursor_read(th->cur, it->article, &data, &len);
        if (rc) {
            snprintf(s->msg, sizeof s->msg, "%s", newsarc_cursor_error(th->cur));
            s->rc = rc;
            return;
        }
        char *u;
        if (xutf8(x, s, &e, art, &data, &len, &u) != 0) return;
        size_t mark = s->out.len;
        rc = na_json_text_line(&e, data, len, &s->out);
        if (rc == 1) { /* not the compact fast path: jansson */
            char *js = NULL;
            size_t jl = 0;
            rc = newsarc_entry_to_json(&e, data, len, &js, &jl);
            if (!rc && na_buf_append(&s->out, js, jl) != 0) rc = NEWSARC_E_NOMEM;
            newsarc_free(js);
            if (rc) {
                free(u);
                s->out.len = mark;
                snprintf(s->msg, sizeof s->msg, "entry %llu cannot be written as JSON: %s",
                         (unsigned long long)it->entry, newsarc_strerror(rc));
                s->rc = rc;
                return;
            }
        }
        free(u);
        if (na_buf_append(&s->out, "\n", 1) != 0) {
            s->out.len = mark;
            snprintf(s->msg, sizeof s->msg, "out of memory");
            s->rc = NEWSARC_E_NOMEM;
            return;
        }
    }
}

static void xbuild(void *ctx, int t, size_t k)
{
    xrun *x = ctx;
    xthread *th = &x->th[t];
    xslot *s = &x->slot[k % x->slots];
    s->out.len = 0;
    s->rc = 0;
    if (x->items) {
        xlines(x, th, s, x->items + x->cut[k], x->cut[k + 1] - x->cut[k]);
        return;
    }
    uint64_t e0 = x->fcut[k], e1 = x->fcut[k + 1];
    if (s->own_cap < e1 - e0) {
        xitem *o = realloc(s->own, sizeof *o * (size_t)(e1 - e0));
        if (!o) {
            snprintf(s->msg, sizeof s->msg, "out of memory");
            s->rc = NEWSARC_E_NOMEM;
            return;
        }
        s->own = o;
        s->own_cap = (size_t)(e1 - e0);
    }
    /* the job's entries first, so their articles can be asked for ahead */
    size_t n = 0;
    int rc = 0;
    char m[NA_ERRMSG];
    for (uint64_t i = e0; i < e1; i++) {
        newsarc_entry e;
        uint64_t art;
        if ((rc = na_meta_cache_entry(th->mc, i, &e, &art, m)) != 0) break;
        s->own[n++] = (xitem){.entry = i, .article = art};
    }
    xlines(x, th, s, s->own, n);
    if (rc && !s->rc) {
        snprintf(s->msg, sizeof s->msg, "%s", m);
        s->rc = rc;
    }
}

static int xemit(void *ctx, size_t k)
{
    xrun *x = ctx;
    xslot *s = &x->slot[k % x->slots];
    if (s->out.len && cli_write_all(1, s->out.data, s->out.len) != 0) {
        cli_err("stdout: %s", strerror(errno));
        return EXIT_USAGE;
    }
    if (s->rc) {
        cli_err("'%s': %s", x->path, s->msg);
        return cli_exit_for(s->rc);
    }
    return 0;
}

/* One entry of xbuild_files: its name, what to do with it, and its bytes
 * unless big; 0, or the error in s. */
static int xfile_add(const xrun *x, xthread *th, xslot *s, const xitem *it, const newsarc_entry *e, uint64_t art,
                     const void *data, size_t len)
{
    char m[NA_ERRMSG], idname[NEWSARC_ID_HEX_SIZE + 1];
    const char *name = e->name;
    size_t nl = e->name_len;
    if (nl == 0) { /* entries without a name (JSON Lines): DIR/<id> */
        newsarc_article_info ai;
        int rc = na_reader_article_msg(x->r, art, &ai, m);
        if (rc) {
            snprintf(s->msg, sizeof s->msg, "%s", m);
            return s->rc = rc;
        }
        newsarc_id_to_hex(idname, ai.id);
        name = idname;
        nl = NEWSARC_ID_HEX_SIZE;
    }
    xfile *f = &s->files[s->n_files];
    *f = (xfile){.what = XF_WRITE, .name_off = s->out.len, .name_len = nl, .article = it->article};
    if (na_buf_append(&s->out, name, nl) != 0 || na_buf_append(&s->out, "", 1) != 0) { /* NUL: a path */
        snprintf(s->msg, sizeof s->msg, "out of memory");
        return s->rc = NEWSARC_E_NOMEM;
    }
    if ((f->bad = na_name_problem(name, nl)) != NULL) f->what = XF_BAD_NAME;
    else {
        /* a name repeated in the archive: entries are sorted by name, so
         * repeats are adjacent and the first in canonical order wins;
         * unnamed entries of one article (identical JSON lines) share the file <id> */
        newsarc_entry pe;
        uint64_t pa;
        if (it->entry > 0 && na_meta_cache_entry(th->mc, it->entry - 1, &pe, &pa, m) == 0 &&
            pe.name_len == e->name_len && !memcmp(pe.name, e->name, e->name_len) && (e->name_len || pa == art))
            f->what = e->name_len ? XF_REPEATED : XF_SKIP;
    }
    f->data_len = len;
    if (f->what == XF_WRITE && len > XFILE_BIG && !x->utf8) /* checked above; read again when written */
        f->data_off = SIZE_MAX;
    else if (f->what == XF_WRITE) {
        f->data_off = s->out.len;
        if (na_buf_append(&s->out, data, len) != 0) {
            snprintf(s->msg, sizeof s->msg, "out of memory");
            return s->rc = NEWSARC_E_NOMEM;
        }
    }
    s->n_files++;
    return 0;
}

/*
 * Files: a job reads its articles (each checked against its id) and looks
 * at their names, keeping names and bytes in memory; the emitting thread
 * then writes the files in order, so the file system's work overlaps the
 * next jobs' decompression and hashing.  The messages and their order are
 * those of one thread.
 */
static void xbuild_files(void *ctx, int t, size_t k)
{
    xrun *x = ctx;
    xthread *th = &x->th[t];
    xslot *s = &x->slot[k % x->slots];
    const xitem *items = x->items + x->cut[k];
    size_t n = x->cut[k + 1] - x->cut[k];
    s->out.len = 0;
    s->n_files = 0;
    s->rc = 0;
    if (s->files_cap < n) {
        xfile *f = realloc(s->files, sizeof *f * n);
        if (!f) {
            snprintf(s->msg, sizeof s->msg, "out of memory");
            s->rc = NEWSARC_E_NOMEM;
            return;
        }
        s->files = f;
        s->files_cap = n;
    }
    char m[NA_ERRMSG];
    for (size_t i = 0; i < n; i++) {
        const xitem *it = &items[i];
        if (i + XJOB_AHEAD < n) na_reader_prefetch_article(th->cur, items[i + XJOB_AHEAD].article);
        newsarc_entry e;
        uint64_t art;
        const void *data;
        size_t len;
        int rc = na_meta_cache_entry(th->mc, it->entry, &e, &art, m);
        if (rc) {
            snprintf(s->msg, sizeof s->msg, "%s", m);
            s->rc = rc;
            return;
        }
        if ((rc = newsarc_cursor_read(th->cur, it->article, &data, &len)) != 0) {
            snprintf(s->msg, sizeof s->msg, "%s", newsarc_cursor_error(th->cur));
            s->rc = rc;
            return;
        }
        char *u;
        if (xutf8(x, s, &e, art, &data, &len, &u) != 0) return;
        rc = xfile_add(x, th, s, it, &e, art, data, len);
        free(u);
        if (rc) return;
    }
}

static int xemit_files(void *ctx, size_t k)
{
    xrun *x = ctx;
    xslot *s = &x->slot[k % x->slots];
    for (size_t i = 0; i < s->n_files; i++) {
        const xfile *f = &s->files[i];
        const char *name = (const char *)s->out.data + f->name_off;
        char shown[4200];
        snprintf(shown, sizeof shown, "%s/%.*s", x->dir, (int)f->name_len, name);
        if (f->what == XF_BAD_NAME) {
            cli_err("'%s': refusing entry name: %s", x->path, f->bad);
            return EXIT_DATA;
        }
        if (f->what == XF_REPEATED) cli_warn("'%s': name repeated in the archive; kept the first entry", shown);
        if (f->what != XF_WRITE) continue;
        const void *data = s->out.data + (f->data_off == SIZE_MAX ? 0 : f->data_off);
        size_t len = f->data_len;
        int rc = f->data_off == SIZE_MAX ? newsarc_cursor_read(x->emit_cur, f->article, &data, &len) : 0;
        if (rc) {
            cli_err("'%s': %s", x->path, newsarc_cursor_error(x->emit_cur));
            return cli_exit_for(rc);
        }
        rc = write_entry_file(x->root, x->dcache, name, f->name_len, data, len, x->force, shown);
        if (rc) return rc;
    }
    if (s->rc) {
        cli_err("'%s': %s", x->path, s->msg);
        return cli_exit_for(s->rc);
    }
    return 0;
}

/* feed: every entry unnamed (items unused: NULL); else the sorted items[0, ni) */
/* files: write them under dir (root: its descriptor) instead of lines to stdout */
static int extract_threads(newsarc_reader *r, const char *path, int feed, const xitem *items, size_t ni, int threads,
                           const char *dir, int root, int force, dir_cache *dcache, int utf8)
{
    if (utf8) threads = 1; /* charset conversion on one thread */
    int T = threads < 1 ? 1 : threads > CLI_MAX_JOBS ? CLI_MAX_JOBS : threads;
    xrun *x = calloc(1, sizeof *x);
    if (!x) {
        cli_err("out of memory");
        return EXIT_USAGE;
    }
    x->path = path;
    x->r = r;
    x->dir = dir;
    x->root = root;
    x->force = force;
    x->dcache = dcache;
    x->utf8 = utf8;
    int rc = 0;
    size_t jobs = 0;
    uint64_t *fcut = NULL;
    size_t *cut = NULL;
    xitem *uniq = NULL;
    if (feed) {
        /* a job: one frame (256 KiB of metadata: about 1 MB of lines on
         * short articles), or a part of one of about 4 MiB of articles */
        uint32_t frames = 0;
        newsarc_info in;
        newsarc_reader_info(r, &in);
        uint64_t avg = in.article_count ? in.content_size / in.article_count : 0;
        uint64_t per = avg < ((uint64_t)4 << 20) ? ((uint64_t)4 << 20) / (avg + 1) : 0; /* (any value: a damaged block table) */
        if (per < 16) per = 16;
        rc = na_meta_stream_begin(r, &frames);
        for (uint32_t f = 0; !rc && f < frames; f++) {
            uint64_t n = na_meta_stream_entries(r, f);
            jobs += n ? (size_t)((n + per - 1) / per) : 1;
        }
        if (rc) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(rc);
        } else if (!(fcut = malloc(sizeof *fcut * (jobs + 1)))) {
            rc = EXIT_USAGE;
            cli_err("out of memory");
        } else {
            size_t j = 0;
            uint64_t e = 0;
            for (uint32_t f = 0; f < frames; f++) {
                uint64_t end = e + na_meta_stream_entries(r, f);
                do {
                    fcut[j++] = e;
                    e = end - e > per ? e + per : end;
                } while (e < end);
            }
            fcut[j] = e;
            x->fcut = fcut;
        }
    } else {
        /* runs of about `chunk` entries, each extended to the end of its block; at most
         * 2048 entries (about 1 MB of lines) per job: written while still in cache;
         * 16384 (10 MB writes) cost 3x the system time when writing to a file
         * (spec/BENCHMARKS.md) */
        size_t chunk = ni / (8u * (unsigned)T) + 1;
        if (chunk < 16) chunk = 16;
        if (chunk > 2048) chunk = 2048;
        uniq = malloc(sizeof *uniq * (ni ? ni : 1));
        cut = malloc(sizeof *cut * (ni + 2));
        if (!uniq || !cut) {
            rc = EXIT_USAGE;
            cli_err("out of memory");
        }
        /* an entry selected twice is written once */
        size_t nu = 0;
        for (size_t k = 0; !rc && k < ni; k++)
            if (nu == 0 || uniq[nu - 1].entry != items[k].entry) uniq[nu++] = items[k];
        /* jobs keep their lines, or files their bytes, until written: a job
         * ends at a block's end past 4 MiB of articles (files over XFILE_BIG
         * are not kept, see xbuild_files), so jobs built ahead hold a few
         * MiB each */
        const uint64_t max_bytes = (uint64_t)4 << 20, kept_max = dir ? XFILE_BIG : UINT64_MAX;
        for (size_t base = 0; !rc && base < nu; jobs++) {
            size_t end = base + 1;
            uint64_t bytes = uniq[base].len <= kept_max ? uniq[base].len : 0;
            for (; end < nu && end - base < chunk; end++) {
                if (uniq[end].block != uniq[end - 1].block && bytes >= max_bytes) break;
                bytes += uniq[end].len <= kept_max ? uniq[end].len : 0;
            }
            while (end < nu && end - base < chunk + 4096 && uniq[end].block == uniq[end - 1].block) end++;
            cut[jobs] = base;
            cut[jobs + 1] = end;
            base = end;
        }
        x->items = uniq;
        x->cut = cut;
    }
    if (dir && !rc) {
        int e = newsarc_cursor_new(r, &x->emit_cur);
        if (e) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(e);
        }
    }
    for (int t = 0; t < T && !rc; t++) {
        int e = newsarc_cursor_new(r, &x->th[t].cur);
        if (e) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(e);
        } else if (!(x->th[t].mc = na_meta_cache_new(r))) {
            cli_err("out of memory");
            rc = EXIT_USAGE;
        }
    }
    if (!rc) {
        if (feed) na_reader_decode_locations(r, T); /* (the items of the others looked them up already) */
        x->slots = 2 * (size_t)T;
        rc = dir ? cli_ordered_run(T, jobs, x->slots, xbuild_files, xemit_files, x)
                 : cli_ordered_run(T, jobs, x->slots, xbuild, xemit, x);
        if (rc < 0) {
            cli_err("out of memory");
            rc = EXIT_USAGE;
        }
    }
    for (int t = 0; t < T; t++) {
        newsarc_cursor_free(x->th[t].cur);
        na_meta_cache_free(x->th[t].mc);
    }
    newsarc_cursor_free(x->emit_cur);
    for (int k = 0; k < XSLOTS; k++) {
        na_buf_free(&x->slot[k].out);
        free(x->slot[k].own);
        free(x->slot[k].files);
    }
    free(x);
    free(fcut);
    free(cut);
    free(uniq);
    return rc;
}

/* Every entry's item (entry, article, where it is stored), frames taken from a shared
 * counter by each thread with its own META cache; the first damaged frame
 * in order is the one reported. */
typedef struct ijob {
    newsarc_reader *r;
    const uint64_t *first; /* per frame: its first entry; one more: the count */
    uint32_t frames;
    const uint32_t (*where)[3]; /* per article: block, offset, length */
    xitem *items;
    _Atomic uint32_t next;
    _Atomic uint32_t bad;  /* lowest damaged frame (frames: none) */
    int rc[CLI_MAX_JOBS];
    char msg[CLI_MAX_JOBS][NA_ERRMSG];
    uint32_t bad_of[CLI_MAX_JOBS];
} ijob;

static void items_share(void *arg, int t)
{
    ijob *j = arg;
    na_meta_cache *mc = na_meta_cache_new(j->r);
    j->bad_of[t] = j->frames;
    if (!mc) {
        j->rc[t] = NEWSARC_E_NOMEM;
        snprintf(j->msg[t], sizeof j->msg[t], "out of memory");
        j->bad_of[t] = 0;
        return;
    }
    for (uint32_t f; (f = atomic_fetch_add(&j->next, 1)) < j->frames;) {
        if (f > atomic_load(&j->bad)) break;
        for (uint64_t i = j->first[f]; i < j->first[f + 1]; i++) {
            newsarc_entry e;
            uint64_t art;
            int rc = na_meta_cache_entry(mc, i, &e, &art, j->msg[t]);
            if (rc) {
                j->rc[t] = rc;
                j->bad_of[t] = f;
                uint32_t b = atomic_load(&j->bad);
                while (f < b && !atomic_compare_exchange_weak(&j->bad, &b, f))
                    ;
                na_meta_cache_free(mc);
                return;
            }
            j->items[i] = (xitem){i, art, j->where[art][0], j->where[art][1], j->where[art][2]};
        }
    }
    na_meta_cache_free(mc);
}

static int build_all_items(newsarc_reader *r, const char *path, uint32_t frames, const uint32_t (*where)[3],
                           xitem *items, int threads)
{
    int T = threads < 1 ? 1 : threads > CLI_MAX_JOBS ? CLI_MAX_JOBS : threads;
    ijob *j = calloc(1, sizeof *j);
    uint64_t *first = malloc(sizeof *first * ((size_t)frames + 1));
    if (!j || !first) {
        free(j);
        free(first);
        cli_err("out of memory");
        return EXIT_USAGE;
    }
    first[0] = 0;
    for (uint32_t f = 0; f < frames; f++) first[f + 1] = first[f] + na_meta_stream_entries(r, f);
    j->r = r;
    j->first = first;
    j->frames = frames;
    j->where = where;
    j->items = items;
    atomic_init(&j->next, 0);
    atomic_init(&j->bad, frames);
    na_run_threads(T, items_share, j);
    int rc = 0, worst = -1;
    for (int t = 0; t < T; t++)
        if (j->rc[t] && (worst < 0 || j->bad_of[t] < j->bad_of[worst])) worst = t;
    if (worst >= 0) {
        cli_err("'%s': %s", path, j->msg[worst]);
        rc = cli_exit_for(j->rc[worst]);
    }
    free(first);
    free(j);
    return rc;
}

static void extract_usage(FILE *f)
{
    fprintf(f, "usage: newsarc extract [-C DIR] [-f] [--jsonl] ARCHIVE [SELECTOR...]\n"
               "  -C, --directory DIR  write files under DIR (default: .)\n"
               "  -f, --force          replace existing files\n"
               "      --jsonl          write JSON Lines to stdout instead of files\n"
               "      --utf8           file entries decoded to UTF-8 with the recorded charset\n"
               "  -T, --threads N      threads reading the articles (default: all cores; same output)\n"
               "  SELECTOR: id, unique id prefix (>= 8 hex digits) or name; none = everything\n");
}

int cmd_extract(int argc, char **argv)
{
    static const struct option lopts[] = {{"directory", required_argument, 0, 'C'},
                                          {"force", no_argument, 0, 'f'},
                                          {"jsonl", no_argument, 0, 'J'},
                                          {"utf8", no_argument, 0, 'U'},
                                          {"threads", required_argument, 0, 'T'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *dir = ".";
    int force = 0, jsonl = 0, utf8 = 0, threads = cli_threads_default(), c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "C:fT:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'C': dir = optarg; break;
        case 'f': force = 1; break;
        case 'J': jsonl = 1; break;
        case 'U': utf8 = 1; break;
        case 'T':
            if (!cli_threads_arg(optarg, &threads)) return EXIT_USAGE;
            break;
        case 'h': extract_usage(stdout); return EXIT_OK;
        default: extract_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        extract_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind++];
    int code;
    newsarc_reader *r = cli_open(path, &code);
    if (!r) return code;
    uint64_t n = newsarc_reader_entry_count(r);
    int nsel = argc - optind;
    uint64_t *sel_art = calloc((size_t)nsel + 1, sizeof *sel_art);
    uint8_t *sel_named = calloc((size_t)nsel + 1, 1);
    xitem *items = malloc(sizeof *items * (n ? n : 1));
    int rc = (sel_art && sel_named && items) ? 0 : EXIT_USAGE;
    /* resolve selectors first: nothing is written if one is unknown */
    for (int s = 0; s < nsel && !rc; s++) {
        int e = newsarc_reader_select(r, argv[optind + s], strlen(argv[optind + s]), &sel_art[s]);
        if (e) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(e);
        }
    }
    /* Which entries: a selector equal to an entry name selects that entry;
     * otherwise (an id or prefix) every entry of the article it names. */
    uint8_t *want = calloc(n ? n : 1, 1);
    if (!want) rc = EXIT_USAGE;
    /* selectors look at every entry's name: decompress them all on all
     * threads; everything else reads entries through a few frames at a time */
    uint32_t n_frames = 0;
    int e0 = rc ? 0 : nsel ? newsarc_reader_load_entries(r, threads) : na_meta_stream_begin(r, &n_frames);
    if (e0) {
        cli_err("'%s': %s", path, newsarc_reader_error(r));
        rc = cli_exit_for(e0);
    }
    na_meta_cache *mc = rc ? NULL : na_meta_cache_new(r);
    if (!rc && !mc) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    }
    char mmsg[NA_ERRMSG];
    if (nsel == 0 && !rc) memset(want, 1, n ? n : 1); /* everything: no need to look at the entries */
    for (int pass = 0; pass < 2 && nsel > 0 && !rc; pass++) {
        for (uint64_t i = 0; i < n && !rc; i++) {
            newsarc_entry e;
            uint64_t art;
            int e1 = newsarc_reader_entry(r, i, &e, &art);
            if (e1) {
                cli_err("'%s': %s", path, newsarc_reader_error(r));
                rc = cli_exit_for(e1);
                break;
            }
            if (nsel == 0) want[i] = 1;
            for (int s = 0; s < nsel; s++) {
                const char *sv = argv[optind + s];
                if (pass == 0 && e.name_len == strlen(sv) && !memcmp(e.name, sv, e.name_len)) want[i] = sel_named[s] = 1;
                if (pass == 1 && !sel_named[s] && art == sel_art[s]) want[i] = 1;
            }
        }
    }
    /* a feed: the last entry in canonical order has no name, so none has (spec 9.2) */
    int feed = 0;
    if (!rc && nsel == 0 && jsonl && n > 0) {
        newsarc_entry le;
        uint64_t la;
        feed = na_meta_cache_entry(mc, n - 1, &le, &la, mmsg) == 0 && le.name_len == 0;
    }
    /* where each article is stored, read from the index in order (entries reach articles in random order) */
    uint64_t na = feed ? 0 : newsarc_reader_article_count(r);
    if (!rc && nsel == 0 && !feed) na_reader_decode_locations(r, threads);
    uint32_t(*where)[3] = malloc(sizeof *where * (na ? na : 1));
    if (!where && !rc) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    }
    for (uint64_t a = 0; a < na && !rc; a++) {
        if (na_reader_article_where(r, a, where[a], mmsg) != 0) {
            cli_err("'%s': %s", path, mmsg);
            rc = EXIT_DATA;
            break;
        }
    }
    size_t ni = 0;
    if (nsel == 0 && !feed && !rc) { /* everything, on all threads */
        rc = build_all_items(r, path, n_frames, (const uint32_t(*)[3])where, items, threads);
        ni = rc ? 0 : (size_t)n;
    }
    for (uint64_t i = 0; i < n && !rc && nsel; i++) {
        if (!want[i]) continue;
        newsarc_entry e;
        uint64_t art;
        int e1 = na_meta_cache_entry(mc, i, &e, &art, mmsg);
        if (e1) {
            cli_err("'%s': %s", path, mmsg);
            rc = cli_exit_for(e1);
            break;
        }
        items[ni++] = (xitem){i, art, where[art][0], where[art][1], where[art][2]};
    }
    free(where);
    free(want);
    newsarc_info info;
    newsarc_reader_info(r, &info);
    if (!rc && sort_items(items, ni, (uint32_t)info.block_count) != 0) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    }
    int root = -1;
    static dir_cache dcache = {.fd = -1};
    if (!rc && !jsonl) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            cli_err("'%s': cannot create directory: %s", dir, strerror(errno));
            rc = EXIT_USAGE;
        } else if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            cli_err("'%s': not a usable directory: %s", dir, strerror(errno));
            rc = EXIT_USAGE;
        }
    }
    /* lines to stdout, or files under dir: read on all threads, written in order */
    if (!rc)
        rc = jsonl ? extract_threads(r, path, feed, items, ni, threads, NULL, -1, 0, NULL, utf8)
                   : extract_threads(r, path, 0, items, ni, threads, dir, root, force, &dcache, utf8);
    if (dcache.fd >= 0) close(dcache.fd);
    if (root >= 0) close(root);
    na_meta_cache_free(mc);
    free(items);
    free(sel_art);
    free(sel_named);
    newsarc_reader_free(r);
    return rc;
}
