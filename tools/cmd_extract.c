/*
 * cmd_extract.c - newsarc extract [-C DIR] [-f] [--jsonl] ARCHIVE [SELECTOR...]
 *
 * Files are written under DIR only: every path component is opened with
 * O_NOFOLLOW relative to its parent, names are checked again (archives may
 * be crafted), a file is written to a temporary name and then renamed
 * with RENAME_NOREPLACE, or linked where the filesystem lacks it (no -f:
 * never replaces anything), or renamed (-f: replaces the directory entry
 * itself, never what a symlink points to) into place.  Articles are read in
 * block order so each block is decompressed once.
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
    uint32_t block;
} xitem;

static int cmp_item(const void *a, const void *b)
{
    const xitem *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    if (x->article != y->article) return x->article < y->article ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/*
 * Items in (block, article, entry) order: counted into their blocks first
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
 * extract --jsonl on all threads: this thread resolves the entries (the
 * reader stays on one thread), each worker reads its articles through its
 * own cursor and builds the lines of a run of whole blocks in memory, and
 * the runs are written in order: the same output as one thread, also up to
 * the first bad entry.
 */
typedef struct xjob {
    const xitem *items;
    na_meta_cache *mc;   /* this worker's decoded META frames (entries of its items, in any order) */
    size_t n, done;      /* done: lines before the first failure (n if none) */
    newsarc_cursor *cur;
    na_buf out;
    int rc;
    char msg[600];
} xjob;

#define XJOB_AHEAD 6

static void *xjob_run(void *arg)
{
    xjob *j = arg;
    j->out.len = 0;
    j->rc = 0;
    size_t n = j->n;
    for (j->done = 0; j->done < n; j->done++) {
        const xitem *it = &j->items[j->done];
        const void *data;
        size_t len;
        /* index records are met in block order, scattered in memory: ask for them ahead */
        if (j->done + XJOB_AHEAD < n) na_reader_prefetch_article(j->cur, j->items[j->done + XJOB_AHEAD].article);
        /* the entry now (its frame stays decoded while it is formatted) */
        newsarc_entry e;
        uint64_t art;
        char m[NA_ERRMSG];
        int rc = na_meta_cache_entry(j->mc, it->entry, &e, &art, m);
        if (rc) {
            snprintf(j->msg, sizeof j->msg, "%s", m);
            j->rc = rc;
            return NULL;
        }
        rc = newsarc_cursor_read(j->cur, it->article, &data, &len);
        if (rc) {
            snprintf(j->msg, sizeof j->msg, "%s", newsarc_cursor_error(j->cur));
            j->rc = rc;
            return NULL;
        }
        size_t mark = j->out.len;
        rc = na_json_text_line(&e, data, len, &j->out);
        if (rc == 1) { /* not the compact fast path: jansson */
            char *js = NULL;
            size_t jl = 0;
            rc = newsarc_entry_to_json(&e, data, len, &js, &jl);
            if (!rc && na_buf_append(&j->out, js, jl) != 0) rc = NEWSARC_E_NOMEM;
            newsarc_free(js);
            if (rc) {
                j->out.len = mark;
                snprintf(j->msg, sizeof j->msg, "entry %llu cannot be written as JSON: %s",
                         (unsigned long long)it->entry, newsarc_strerror(rc));
                j->rc = rc;
                return NULL;
            }
        }
        if (na_buf_append(&j->out, "\n", 1) != 0) {
            j->out.len = mark;
            snprintf(j->msg, sizeof j->msg, "out of memory");
            j->rc = NEWSARC_E_NOMEM;
            return NULL;
        }
    }
    return NULL;
}

static int extract_jsonl_threads(newsarc_reader *r, const char *path, const xitem *items, size_t ni, int threads)
{
    int T = threads < 1 ? 1 : threads > CLI_MAX_JOBS ? CLI_MAX_JOBS : threads;
    size_t chunk = ni / (8u * (unsigned)T) + 1;
    if (chunk < 16) chunk = 16;
    /* at most 2048 entries (about 1 MB of lines) per job: written while
     * still in cache; 16384 (10 MB writes) cost 3x the system time when
     * writing to a file (spec/BENCHMARKS.md) */
    if (chunk > 2048) chunk = 2048;
    xjob jobs[CLI_MAX_JOBS];
    memset(jobs, 0, sizeof jobs);
    xitem *uniq = malloc(sizeof *uniq * (ni ? ni : 1));
    int rc = uniq ? 0 : EXIT_USAGE;
    if (rc) cli_err("out of memory");
    /* an entry selected twice is written once */
    size_t nu = 0;
    for (size_t k = 0; uniq && k < ni; k++)
        if (nu == 0 || uniq[nu - 1].entry != items[k].entry) uniq[nu++] = items[k];
    for (int t = 0; t < T && !rc; t++) {
        int e = newsarc_cursor_new(r, &jobs[t].cur);
        if (e) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(e);
        } else if (!(jobs[t].mc = na_meta_cache_new(r))) {
            cli_err("out of memory");
            rc = EXIT_USAGE;
        }
    }
    static cli_out out;
    out.fd = 1;
    for (size_t base = 0; base < nu && !rc;) {
        int used = 0;
        for (; used < T && base < nu && !rc; used++) {
            /* a run: about `chunk` entries, extended to the end of its block */
            size_t end = base + chunk < nu ? base + chunk : nu;
            while (end < nu && end - base < chunk + 4096 && uniq[end].block == uniq[end - 1].block) end++;
            xjob *j = &jobs[used];
            j->items = uniq + base;
            j->n = end - base;
            base = end;
        }
        if (rc) break;
        cli_run_jobs(xjob_run, jobs, sizeof *jobs, used);
        for (int t = 0; t < used && !rc; t++) {
            cli_out_bytes(&out, jobs[t].out.data, jobs[t].out.len);
            if (jobs[t].rc) {
                cli_err("'%s': %s", path, jobs[t].msg);
                rc = cli_exit_for(jobs[t].rc);
            }
        }
    }
    if (cli_out_flush(&out) != 0 && !rc) {
        cli_err("stdout: %s", strerror(errno));
        rc = EXIT_USAGE;
    }
    for (int t = 0; t < T; t++) {
        newsarc_cursor_free(jobs[t].cur);
        na_meta_cache_free(jobs[t].mc);
        na_buf_free(&jobs[t].out);
    }
    free(uniq);
    return rc;
}

/* Every entry's item (entry, article, block), frames taken from a shared
 * counter by each thread with its own META cache; the first damaged frame
 * in order is the one reported. */
typedef struct ijob {
    newsarc_reader *r;
    const uint64_t *first; /* per frame: its first entry; one more: the count */
    uint32_t frames;
    const uint32_t *block_of;
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
            j->items[i] = (xitem){i, art, j->block_of[art]};
        }
    }
    na_meta_cache_free(mc);
}

static int build_all_items(newsarc_reader *r, const char *path, uint32_t frames, const uint32_t *block_of, xitem *items,
                           int threads)
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
    j->block_of = block_of;
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
               "  -T, --threads N      threads for --jsonl (default: all cores; same output)\n"
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
    /* each article's block, read from the index in order (entries reach articles in random order) */
    uint64_t na = newsarc_reader_article_count(r);
    uint32_t *block_of = malloc(sizeof *block_of * (na ? na : 1));
    if (!block_of && !rc) {
        cli_err("out of memory");
        rc = EXIT_USAGE;
    }
    for (uint64_t a = 0; a < na && !rc; a++) {
        newsarc_article_info ai;
        if (newsarc_reader_article(r, a, &ai) != 0) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = EXIT_DATA;
            break;
        }
        block_of[a] = ai.block;
    }
    size_t ni = 0;
    if (nsel == 0 && !rc) { /* everything, on all threads */
        rc = build_all_items(r, path, n_frames, block_of, items, threads);
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
        items[ni++] = (xitem){i, art, block_of[art]};
    }
    free(block_of);
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
    static cli_out jout; /* --jsonl: buffered stdout */
    jout.fd = 1;
    uint64_t prev_entry = UINT64_MAX;
    if (!rc && jsonl && !utf8) { /* file entries as JSON need no charset work: all threads */
        rc = extract_jsonl_threads(r, path, items, ni, threads);
        ni = 0;
    }
    for (size_t k = 0; k < ni && !rc; k++) {
        if (items[k].entry == prev_entry) continue; /* selected twice */
        prev_entry = items[k].entry;
        newsarc_entry e;
        uint64_t art;
        void *data = NULL;
        size_t len = 0;
        int e1 = na_meta_cache_entry(mc, items[k].entry, &e, &art, mmsg);
        if (e1) {
            cli_err("'%s': %s", path, mmsg);
            rc = cli_exit_for(e1);
            break;
        }
        e1 = newsarc_reader_read(r, art, &data, &len);
        if (e1) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = cli_exit_for(e1);
            break;
        }
        if (utf8 && !(e.flags & NEWSARC_ENTRY_JSON)) {
            char *u = NULL;
            size_t ul = 0;
            e1 = cli_article_utf8(r, art, data, len, &u, &ul);
            newsarc_free(data);
            data = u;
            len = ul;
            if (e1) {
                cli_err("'%s': cannot decode an article: %s", path, cli_text_error(e1));
                rc = cli_exit_for(e1);
                break;
            }
        }
        if (jsonl) {
            char *js = NULL;
            size_t jl = 0;
            e1 = newsarc_entry_to_json(&e, data, len, &js, &jl);
            if (e1) {
                cli_err("'%s': entry %llu cannot be written as JSON: %s", path, (unsigned long long)items[k].entry,
                        newsarc_strerror(e1));
                rc = cli_exit_for(e1);
            } else {
                cli_out_bytes(&jout, js, jl);
                cli_out_byte(&jout, '\n');
            }
            newsarc_free(js);
        } else {
            char idname[NEWSARC_ID_HEX_SIZE + 1];
            const char *name = e.name;
            size_t nl = e.name_len;
            if (nl == 0) {
                newsarc_article_info ai;
                newsarc_reader_article(r, art, &ai);
                newsarc_id_to_hex(idname, ai.id);
                name = idname;
                nl = NEWSARC_ID_HEX_SIZE;
            }
            const char *bad = na_name_problem(name, nl);
            char shown[4200];
            snprintf(shown, sizeof shown, "%s/%.*s", dir, (int)nl, name);
            if (bad) {
                cli_err("'%s': refusing entry name: %s", path, bad);
                rc = EXIT_DATA;
            } else {
                /* a name repeated in the archive: entries are sorted by name, so
                 * repeats are adjacent and the first in canonical order wins */
                int dup = 0;
                newsarc_entry pe;
                uint64_t pa;
                if (items[k].entry > 0 && na_meta_cache_entry(mc, items[k].entry - 1, &pe, &pa, mmsg) == 0 &&
                    pe.name_len == e.name_len && !memcmp(pe.name, e.name, e.name_len) && (e.name_len || pa == art))
                    dup = e.name_len ? 1 : 2;
                /* unnamed entries of one article (identical JSON lines) share the file <id> */
                if (dup == 1) cli_warn("'%s': name repeated in the archive; kept the first entry", shown);
                else if (!dup) rc = write_entry_file(root, &dcache, name, nl, data, len, force, shown);
            }
        }
        newsarc_free(data);
    }
    if (jsonl && cli_out_flush(&jout) != 0 && !rc) {
        cli_err("stdout: %s", strerror(errno));
        rc = EXIT_USAGE;
    }
    if (dcache.fd >= 0) close(dcache.fd);
    if (root >= 0) close(root);
    na_meta_cache_free(mc);
    free(items);
    free(sel_art);
    free(sel_named);
    newsarc_reader_free(r);
    return rc;
}
