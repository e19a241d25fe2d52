/*
 * cmd_extract.c - newsarc extract [-C DIR] [-f] [--jsonl] ARCHIVE [SELECTOR...]
 *
 * Files are written under DIR only: every path component is opened with
 * O_NOFOLLOW relative to its parent, names are checked again (archives may
 * be crafted), a file is written to a temporary name and then linked (no
 * -f: never replaces anything) or renamed (-f: replaces the directory entry
 * itself, never what a symlink points to) into place.  Articles are read in
 * block order so each block is decompressed once.
 */
#include "cli.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
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

/* Open (creating if needed) the directory holding name's last component. */
static int open_parent(int root, const char *name, size_t len, const char **base)
{
    int fd = dup(root);
    size_t start = 0;
    for (size_t i = 0; i < len && fd >= 0; i++) {
        if (name[i] != '/') continue;
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
    *base = name + start;
    return fd;
}

static int write_entry_file(int root, const char *name, size_t len, const void *data, size_t n, int force,
                            const char *shown)
{
    const char *base;
    int dfd = open_parent(root, name, len, &base);
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
        close(dfd);
        return EXIT_USAGE;
    }
    int rc = 0;
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
            }
        } else if (linkat(dfd, tmp, dfd, base, 0) != 0) {
            if (errno == EEXIST) cli_err("'%s' already exists (use -f to replace it)", shown);
            else cli_err("'%s': %s", shown, strerror(errno));
            rc = EXIT_USAGE;
        }
    }
    unlinkat(dfd, tmp, 0); /* after rename this is a no-op */
    close(dfd);
    return rc;
}

static void extract_usage(FILE *f)
{
    fprintf(f, "usage: newsarc extract [-C DIR] [-f] [--jsonl] ARCHIVE [SELECTOR...]\n"
               "  -C, --directory DIR  write files under DIR (default: .)\n"
               "  -f, --force          replace existing files\n"
               "      --jsonl          write JSON Lines to stdout instead of files\n"
               "      --utf8           file entries decoded to UTF-8 with the recorded charset\n"
               "  SELECTOR: id, unique id prefix (>= 8 hex digits) or name; none = everything\n");
}

int cmd_extract(int argc, char **argv)
{
    static const struct option lopts[] = {{"directory", required_argument, 0, 'C'},
                                          {"force", no_argument, 0, 'f'},
                                          {"jsonl", no_argument, 0, 'J'},
                                          {"utf8", no_argument, 0, 'U'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *dir = ".";
    int force = 0, jsonl = 0, utf8 = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "C:fh", lopts, NULL)) != -1) {
        switch (c) {
        case 'C': dir = optarg; break;
        case 'f': force = 1; break;
        case 'J': jsonl = 1; break;
        case 'U': utf8 = 1; break;
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
    for (int pass = 0; pass < 2 && !rc; pass++) {
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
    size_t ni = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (!want[i]) continue;
        newsarc_entry e;
        uint64_t art;
        newsarc_article_info ai;
        if (newsarc_reader_entry(r, i, &e, &art) != 0 || newsarc_reader_article(r, art, &ai) != 0) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            rc = EXIT_DATA;
            break;
        }
        items[ni++] = (xitem){i, art, ai.block};
    }
    free(want);
    qsort(items, ni, sizeof *items, cmp_item);
    int root = -1;
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
    for (size_t k = 0; k < ni && !rc; k++) {
        if (items[k].entry == prev_entry) continue; /* selected twice */
        prev_entry = items[k].entry;
        newsarc_entry e;
        uint64_t art;
        void *data = NULL;
        size_t len = 0;
        int e1 = newsarc_reader_entry(r, items[k].entry, &e, &art);
        if (!e1) e1 = newsarc_reader_read(r, art, &data, &len);
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
                cli_err("'%s': cannot decode an article: %s", path, newsarc_strerror(e1));
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
                if (items[k].entry > 0 && newsarc_reader_entry(r, items[k].entry - 1, &pe, &pa) == 0 &&
                    pe.name_len == e.name_len && !memcmp(pe.name, e.name, e.name_len) && (e.name_len || pa == art))
                    dup = e.name_len ? 1 : 2;
                /* unnamed entries of one article (identical JSON lines) share the file <id> */
                if (dup == 1) cli_warn("'%s': name repeated in the archive; kept the first entry", shown);
                else if (!dup) rc = write_entry_file(root, name, nl, data, len, force, shown);
            }
        }
        newsarc_free(data);
    }
    if (jsonl && cli_out_flush(&jout) != 0 && !rc) {
        cli_err("stdout: %s", strerror(errno));
        rc = EXIT_USAGE;
    }
    if (root >= 0) close(root);
    free(items);
    free(sel_art);
    free(sel_named);
    newsarc_reader_free(r);
    return rc;
}
