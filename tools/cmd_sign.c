/*
 * cmd_sign.c - newsarc sign -s SECKEY ARCHIVE (in place, atomically) and
 * newsarc manifest -o FILE ARCHIVE (the signed bytes for minisign -V).
 *
 * Signing rewrites only the fixed-size signature slot and the footer
 * checksum: the manifest, and so the archive id, stay the same.  The archive
 * is verified before it is signed, and the new signature is checked against
 * the key's public half before the file is replaced.
 */
#include "cli.h"
#include "sign_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_fd(void *ctx, const void *p, size_t n) { return cli_write_all(*(int *)ctx, p, n); }

static void sign_usage(FILE *f)
{
    fprintf(f, "usage: newsarc sign -s SECKEY ARCHIVE\n"
               "  signs ARCHIVE in place (atomically) with a minisign secret key; the archive id does not change.\n"
               "  the password comes from the terminal, or from $NEWSARC_PASSWORD\n");
}

int cmd_sign(int argc, char **argv)
{
    static const struct option lopts[] = {{"secret-key", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *seckey = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", lopts, NULL)) != -1) {
        if (c == 's') seckey = optarg;
        else if (c == 'h') {
            sign_usage(stdout);
            return EXIT_OK;
        } else {
            sign_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!seckey || optind + 1 != argc) {
        sign_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    int code;
    newsarc_reader *r = cli_open(path, &code);
    if (!r) return code;
    /* never sign damaged bytes */
    int rc = newsarc_reader_verify(r, 0, NULL, NULL);
    if (rc) {
        cli_err("'%s': %s; not signing (run 'newsarc verify' for details)", path, newsarc_reader_error(r));
        newsarc_reader_free(r);
        return cli_exit_for(rc);
    }
    sign_cli_ctx sctx;
    if (sign_cli_load(&sctx, seckey) != 0) {
        newsarc_reader_free(r);
        return EXIT_USAGE;
    }
    size_t ml, sl = 0;
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    char sig[1024];
    code = EXIT_OK;
    if (sign_cli_callback(&sctx, m, ml, sig, sizeof sig, &sl) != 0) {
        cli_err("'%s': signing failed", path);
        code = EXIT_DATA;
    }
    cli_atomic at = {-1, path, 1};
    if (!code && cli_atomic_begin(&at, path, 1) != 0) code = EXIT_USAGE;
    if (!code) {
        rc = newsarc_reader_write_with_signature(r, sig, sl, write_fd, &at.fd);
        if (rc) {
            cli_err("'%s': %s: %s", path, newsarc_reader_error(r), strerror(errno));
            cli_atomic_abort(&at);
            code = cli_exit_for(rc);
        } else {
            code = cli_atomic_commit(&at);
        }
    }
    if (!code) fprintf(stderr, "newsarc sign: '%s' signed by key %s\n", path, sctx.keyid_hex);
    sign_cli_free(&sctx);
    newsarc_reader_free(r);
    return code;
}

static void manifest_usage(FILE *f)
{
    fprintf(f, "usage: newsarc manifest -o FILE ARCHIVE\n"
               "  writes the manifest (the exact bytes a signature covers) to FILE ('-' = stdout) and, for a signed\n"
               "  archive, the signature to FILE.minisig, so that 'minisign -Vm FILE -p PUBKEY' checks it\n");
}

static int write_file_atomic(const char *path, const void *p, size_t n)
{
    cli_atomic at;
    if (cli_atomic_begin(&at, path, 1) != 0) return EXIT_USAGE;
    if (cli_write_all(at.fd, p, n) != 0) {
        cli_err("'%s': write error: %s", path, strerror(errno));
        cli_atomic_abort(&at);
        return EXIT_USAGE;
    }
    return cli_atomic_commit(&at);
}

int cmd_manifest(int argc, char **argv)
{
    static const struct option lopts[] = {{"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else if (c == 'h') {
            manifest_usage(stdout);
            return EXIT_OK;
        } else {
            manifest_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!out || optind + 1 != argc) {
        manifest_usage(stderr);
        return EXIT_USAGE;
    }
    int code;
    newsarc_reader *r = cli_open(argv[optind], &code);
    if (!r) return code;
    size_t ml, sl;
    const uint8_t *m = newsarc_reader_manifest(r, &ml);
    const char *sig = newsarc_reader_signature(r, &sl);
    if (!strcmp(out, "-")) {
        code = cli_write_all(1, m, ml) == 0 ? EXIT_OK : EXIT_USAGE;
    } else {
        code = write_file_atomic(out, m, ml);
        if (!code && sl) {
            size_t n = strlen(out);
            char *sp = malloc(n + 9);
            if (!sp) code = EXIT_USAGE;
            else {
                memcpy(sp, out, n);
                memcpy(sp + n, ".minisig", 9);
                code = write_file_atomic(sp, sig, sl);
                free(sp);
            }
        }
        if (!code && !sl) fprintf(stderr, "newsarc manifest: '%s' is not signed: no .minisig written\n", argv[optind]);
    }
    newsarc_reader_free(r);
    return code;
}
