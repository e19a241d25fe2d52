/* cmd_verify.c - newsarc verify [-T N] ARCHIVE: check every byte. */
#include "cli.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

#ifdef NEWSARC_HAVE_SIGN
#include "sign_cli.h"
#endif

typedef struct vstate {
    const char *path;
    int shown;
} vstate;

static void on_problem(void *ctx, const newsarc_problem *p)
{
    vstate *v = ctx;
    if (v->shown++ >= 1000) return; /* a damaged 1M-article archive should not flood the terminal */
    fprintf(stderr, "newsarc verify: '%s': %s: ", v->path, p->section);
    cli_put_safe(stderr, p->message, strlen(p->message));
    fputc('\n', stderr);
}

static void verify_usage(FILE *f)
{
    fprintf(f, "usage: newsarc verify [-p PUBKEY] [-T THREADS] ARCHIVE\n"
               "  checks the footer checksum, every section hash, every block and every article id;\n"
               "  with -p also that the archive is signed by that minisign public key.\n"
               "  exit 0 intact (and signed by PUBKEY with -p), 1 damaged or not signed by PUBKEY, 2 usage or I/O\n");
}

int cmd_verify(int argc, char **argv)
{
    static const struct option lopts[] = {{"threads", required_argument, 0, 'T'},
                                          {"public-key", required_argument, 0, 'p'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    int threads = cli_threads_default(), c;
    const char *pubkey = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "T:p:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'T':
            if (!cli_threads_arg(optarg, &threads)) return EXIT_USAGE;
            break;
        case 'p': pubkey = optarg; break;
        case 'h': verify_usage(stdout); return EXIT_OK;
        default: verify_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        verify_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
#ifdef NEWSARC_HAVE_SIGN
    na_pubkey pk;
    if (pubkey && sign_cli_load_pubkey(&pk, pubkey) != 0) return EXIT_USAGE;
#else
    if (pubkey) {
        cli_err("this build cannot check signatures");
        return EXIT_USAGE;
    }
#endif
    int code;
    newsarc_reader *r = cli_open(path, &code);
    if (!r) {
        if (code == EXIT_DATA) printf("%s: damaged\n", path);
        return code;
    }
    vstate vs = {path, 0};
    int rc = newsarc_reader_verify(r, threads, on_problem, &vs);
    newsarc_info in;
    newsarc_reader_info(r, &in);
    int exit_code = EXIT_OK;
    if (rc == NEWSARC_E_CORRUPT) {
        printf("%s: damaged (%d problem%s)\n", path, vs.shown, vs.shown == 1 ? "" : "s");
        exit_code = EXIT_DATA;
    } else if (rc) {
        cli_err("'%s': %s", path, newsarc_reader_error(r));
        exit_code = cli_exit_for(rc);
    } else {
        char sig[128] = "unsigned";
#ifdef NEWSARC_HAVE_SIGN
        exit_code = sign_cli_verify_report(r, pubkey ? &pk : NULL, path, sig, sizeof sig);
#endif
        if (exit_code == EXIT_OK)
            printf("%s: ok, %llu articles in %llu blocks, %s\n", path, (unsigned long long)in.article_count,
                   (unsigned long long)in.block_count, sig);
    }
    newsarc_reader_free(r);
    return exit_code;
}
