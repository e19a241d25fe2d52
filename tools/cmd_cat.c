/* cmd_cat.c - newsarc cat ARCHIVE SELECTOR: one article's exact bytes to stdout. */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void cat_usage(FILE *f)
{
    fprintf(f, "usage: newsarc cat ARCHIVE SELECTOR\n"
               "  SELECTOR: a full id (64 hex digits), an entry name, or a unique id prefix of at least 8 hex digits\n");
}

int cmd_cat(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        cat_usage(stdout);
        return EXIT_OK;
    }
    if (argc != 3) {
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
