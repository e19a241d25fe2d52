/*
 * cmd_keygen.c - newsarc keygen -s SECKEY -p PUBKEY [-W] [-f] [-c COMMENT]
 *
 * Makes an Ed25519 key pair in minisign's file formats (lib/sign.h), so the
 * keys also work with minisign itself.  The secret key file is created
 * owner-only (0600).  Without -f an existing file is never touched: both
 * files are created with O_EXCL, and removed again if anything fails.
 * With -f both are first written to temporary files beside them, then
 * renamed into place.  Termination signals are held back while files are
 * being created, so that an interrupt leaves no partial or temporary file.
 */
#include "cli.h"
#include "password.h"
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void keygen_usage(FILE *f)
{
    fprintf(f,
            "usage: newsarc keygen -s SECKEY -p PUBKEY [-W] [-f] [-c COMMENT]\n"
            "  makes a key pair for 'newsarc pack -s' / 'newsarc sign', in minisign's formats\n"
            "  (minisign -V and minisign -S accept them).\n"
            "  -s, --secret-key FILE   secret key file to create (owner-only, mode 0600)\n"
            "  -p, --public-key FILE   public key file to create\n"
            "  -W, --no-password       do not encrypt the secret key with a password\n"
            "  -f, --force             replace existing key files\n"
            "  -c, --comment TEXT      untrusted comment line of the secret key file\n"
            "  the password is asked twice on the terminal, or taken from $%s (for scripts);\n"
            "  the key is encrypted with scrypt as minisign does (1 GiB of memory, a few seconds).\n"
            "  exit codes: 0 ok, 2 usage or I/O error (existing key files without -f)\n",
            CLI_PASSWORD_ENV);
}

/* One output file: created in place with O_EXCL, or (force) as a temporary file. */
typedef struct key_out {
    const char *path;
    mode_t mode;
    int force;
    int fd;
    int exists_now; /* 1 once a file of ours exists (at path, or at tmp) */
    char tmp[4096];
} key_out;

static int key_out_open(key_out *o)
{
    o->fd = -1;
    o->exists_now = 0;
    if (!o->force) {
        o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o->mode);
        if (o->fd < 0) {
            if (errno == EEXIST) cli_err("'%s' already exists (use -f to replace it)", o->path);
            else cli_err("'%s': cannot create: %s", o->path, strerror(errno));
            return -1;
        }
        o->exists_now = 1;
        return 0;
    }
    const char *slash = strrchr(o->path, '/');
    int dl = slash ? (int)(slash - o->path) + 1 : 0;
    int n = snprintf(o->tmp, sizeof o->tmp, "%.*s.%s.tmp-XXXXXX", dl, o->path, slash ? slash + 1 : o->path);
    if (n < 0 || (size_t)n >= sizeof o->tmp) {
        cli_err("'%s': path too long", o->path);
        return -1;
    }
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        cli_err("'%s': cannot create a temporary file beside it: %s", o->path, strerror(errno));
        return -1;
    }
    o->exists_now = 1;
    /* mkstemp makes 0600; the public key gets the usual mode */
    if (fchmod(o->fd, o->mode) != 0) {
        cli_err("'%s': cannot set the file mode: %s", o->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static int key_out_write(key_out *o, const char *text, size_t len)
{
    if (cli_write_all(o->fd, text, len) != 0 || fsync(o->fd) != 0) {
        cli_err("'%s': write error: %s", o->path, strerror(errno));
        return -1;
    }
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) != 0) {
        cli_err("'%s': close failed: %s", o->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int key_out_commit(key_out *o)
{
    if (o->force && rename(o->tmp, o->path) != 0) {
        cli_err("'%s': cannot move the file into place: %s", o->path, strerror(errno));
        return -1;
    }
    o->exists_now = 0; /* the file is final now: no longer ours to remove */
    return 0;
}

static void key_out_discard(key_out *o)
{
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    if (o->exists_now) unlink(o->force ? o->tmp : o->path);
    o->exists_now = 0;
}

static void fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    if (fsync(fd) != 0) cli_warn("'%s': could not fsync its directory: %s", path, strerror(errno));
    close(fd);
}

/* Write both files, or (on any failure) neither of the new ones. Returns an exit code. */
static int write_pair(const char *sec_path, const char *sec_text, size_t sec_len, const char *pub_path,
                      const char *pub_text, size_t pub_len, int force)
{
    mode_t um = umask(0);
    umask(um);
    key_out sec = {.path = sec_path, .mode = 0600, .force = force, .fd = -1};
    key_out pub = {.path = pub_path, .mode = 0666 & ~um, .force = force, .fd = -1};
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &old);
    int ok = key_out_open(&sec) == 0 && key_out_write(&sec, sec_text, sec_len) == 0 && key_out_open(&pub) == 0 &&
             key_out_write(&pub, pub_text, pub_len) == 0 && key_out_commit(&sec) == 0;
    if (ok && key_out_commit(&pub) != 0) {
        ok = 0;
        if (force) cli_err("'%s' was replaced, but '%s' was not: the two files do not match", sec_path, pub_path);
    }
    if (!ok) { /* removes only files this call created and did not commit */
        key_out_discard(&pub);
        key_out_discard(&sec);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!ok) return EXIT_USAGE;
    fsync_dir_of(sec_path);
    fsync_dir_of(pub_path);
    return EXIT_OK;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option lopts[] = {{"secret-key", required_argument, 0, 's'},
                                          {"public-key", required_argument, 0, 'p'},
                                          {"no-password", no_argument, 0, 'W'},
                                          {"force", no_argument, 0, 'f'},
                                          {"comment", required_argument, 0, 'c'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *sec_path = NULL, *pub_path = NULL, *comment = NULL;
    int no_password = 0, force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:p:Wfc:h", lopts, NULL)) != -1) {
        switch (c) {
        case 's': sec_path = optarg; break;
        case 'p': pub_path = optarg; break;
        case 'W': no_password = 1; break;
        case 'f': force = 1; break;
        case 'c': comment = optarg; break;
        case 'h': keygen_usage(stdout); return EXIT_OK;
        default: keygen_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!sec_path || !pub_path || optind != argc || !*sec_path || !*pub_path) {
        keygen_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(sec_path, pub_path) == 0) {
        cli_err("the secret and the public key cannot both be '%s'", sec_path);
        return EXIT_USAGE;
    }
    if (comment && (strlen(comment) > NA_UNTRUSTED_COMMENT_MAX || strpbrk(comment, "\r\n"))) {
        cli_err("the comment must be one line of at most %u bytes", NA_UNTRUSTED_COMMENT_MAX);
        return EXIT_USAGE;
    }
    /* refuse early, before asking for a password; write_pair checks again (O_EXCL) */
    if (!force) {
        const char *p = exists(sec_path) ? sec_path : exists(pub_path) ? pub_path : NULL;
        if (p) {
            cli_err("'%s' already exists (use -f to replace it)", p);
            return EXIT_USAGE;
        }
    }

    char err[512] = "";
    char *password = NULL;
    if (sodium_init() < 0) {
        cli_err("libsodium could not be initialised");
        return EXIT_USAGE;
    }
    if (!no_password) {
        password = sodium_malloc(CLI_PASSWORD_CAP);
        if (!password) {
            cli_err("out of memory");
            return EXIT_USAGE;
        }
        if (cli_password_read("Password for the new secret key: ", 1, password, CLI_PASSWORD_CAP, err, sizeof err) !=
            0) {
            cli_err("%s", err);
            sodium_free(password);
            return EXIT_USAGE;
        }
        if (!*password) {
            cli_err("empty password: use -W for a secret key without password");
            sodium_free(password);
            return EXIT_USAGE;
        }
    }

    na_pubkey pk;
    na_seckey sk;
    char *sec_text = NULL, *pub_text = NULL;
    size_t sec_len = 0, pub_len = 0;
    int code = EXIT_USAGE;
    if (na_keypair_generate(&pk, &sk) != 0) {
        cli_err("cannot generate a key pair (no random source?)");
        goto out;
    }
    if (password && cli_progress_enabled()) fprintf(stderr, "newsarc keygen: encrypting the secret key (scrypt)...\n");
    int rc = na_seckey_encode(&sk, password, comment, &sec_text, &sec_len, err, sizeof err);
    if (rc) {
        cli_err("'%s': %s", sec_path, err);
        goto out;
    }
    if (na_pubkey_encode(&pk, &pub_text, &pub_len) != 0) {
        cli_err("out of memory");
        goto out;
    }
    code = write_pair(sec_path, sec_text, sec_len, pub_path, pub_text, pub_len, force);
    if (code == EXIT_OK) {
        char hex[17];
        na_keyid_hex(hex, pk.keyid);
        const char *b64 = strchr(pub_text, '\n') + 1;
        printf("key id %s\npublic key %.*s\n", hex, (int)NA_PUBKEY_B64_LEN, b64);
        if (fflush(stdout) != 0) code = EXIT_USAGE;
    }
out:
    na_seckey_wipe(&sk);
    if (sec_text) {
        sodium_memzero(sec_text, sec_len);
        free(sec_text);
    }
    free(pub_text);
    if (password) sodium_free(password);
    return code;
}
