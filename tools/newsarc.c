/*
 * newsarc.c - the newsarc command: a table of subcommands (git.c style),
 * each in its own file.  Exit codes: 0 ok, 1 data problem, 2 usage or I/O.
 */
#include "cli.h"

#include <string.h>

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

#ifdef NEWSARC_HAVE_SIGN
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
#endif

static const subcommand commands[] = {
    {"pack", cmd_pack, "pack directories, files or JSON Lines into an archive"},
    {"verify", cmd_verify, "check every byte of an archive (and its signature with -p)"},
    {"list", cmd_list, "list the entries of an archive"},
    {"cat", cmd_cat, "write one article's exact bytes to stdout"},
    {"extract", cmd_extract, "write articles back as files, or as JSON Lines"},
    {"info", cmd_info, "show an archive's format, counts, sizes and id"},
    {"dups", cmd_dups, "list groups of near-identical articles"},
#ifdef NEWSARC_HAVE_SIGN
    {"keygen", cmd_keygen, "make a minisign-compatible key pair"},
    {"sign", cmd_sign, "sign an archive in place"},
    {"manifest", cmd_manifest, "write the signed manifest (and .minisig) for minisign -V"},
#endif
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *f)
{
    fprintf(f, "usage: newsarc <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'newsarc <command> -h' shows a command's options.\n"
               "exit codes: 0 ok, 1 data problem (damaged archive, not found, bad input), 2 usage or I/O error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        if (argc > 2 && strcmp(c, "help") == 0) {
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    char *hargv[] = {argv[2], "-h", NULL};
                    cli_cmd = commands[i].name;
                    return commands[i].run(2, hargv);
                }
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "version")) {
        printf("newsarc %s (format %d.%d)\n", newsarc_version_string(), NEWSARC_FORMAT_MAJOR, NEWSARC_FORMAT_MINOR);
        return EXIT_OK;
    }
    if (newsarc_version_number() != NEWSARC_VERSION_NUMBER) {
        fprintf(stderr, "newsarc: library version %s does not match this program (%s)\n", newsarc_version_string(),
                NEWSARC_VERSION_STRING);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(c, commands[i].name)) {
            cli_cmd = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "newsarc: '%s' is not a newsarc command\n", c);
    usage(stderr);
    return EXIT_USAGE;
}
