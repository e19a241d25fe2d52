/* cmd_cat.c - newsarc cat ARCHIVE SELECTOR: one article's exact bytes to stdout. */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void cat_usage(FILE *f)
{
    fprintf(f, "usage: newsarc cat [--utf8] ARCHIVE SELECTOR\n"
               "  --utf8: the text decoded to UTF-8 with the charset the archive recorded (else the exact bytes)\n"
               "  SELECTOR: a full id (64 hex digits), an entry name, or a unique id prefix of at least 8 hex digits\n");
}

int cmd_cat(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        cat_usage(stdout);
        return EXIT_OK;
    }
    int utf8 = 0;
    if (argc == 4 && !strcmp(argv[1], "--utf8")) {
        utf8 = 1;
        argv++;
        argc--;
    }
    if (argc != 3 || argv[1][0] == '-') {
        cat_usage(stderr);
        return EXIT_USAGE;
    }
    int code;
    newsarc_reader *r = cli_open(argv[1], &code);
    if (!r) return code;
    uint64_t idx;
    void *data = NULL;
    size_t len = 0;
    int rc = newsarc_reader_select(r, argv[2], strlen(argv[2]), &idx);
    if (!rc) rc = newsarc_reader_read(r, idx, &data, &len);
    if (!rc && utf8) {
        char *u = NULL;
        size_t ul = 0;
        rc = cli_article_utf8(r, idx, data, len, &u, &ul);
        newsarc_free(data);
        data = u;
        len = ul;
        if (rc) {
            cli_err("'%s': cannot decode the article: %s", argv[1], cli_text_error(rc));
            newsarc_reader_free(r);
            return cli_exit_for(rc);
        }
    }
    if (rc) {
        cli_err("'%s': %s", argv[1], newsarc_reader_error(r));
        code = cli_exit_for(rc);
    } else if (cli_write_all(1, data, len) != 0) {
        cli_err("stdout: %s", strerror(errno));
        code = EXIT_USAGE;
    }
    newsarc_free(data);
    newsarc_reader_free(r);
    return code;
}
