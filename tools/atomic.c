/*
 * atomic.c - write a file so that a crash or kill at any moment leaves the
 * old file or none under its name, never a partial one: temporary file in
 * the destination's directory, fsync, link (no -f: never replaces) or
 * rename (-f), fsync the directory.  SIGINT/SIGTERM/SIGHUP remove the
 * temporary file.  One atomic output at a time per process.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t g_have_tmp = 0;
static char g_tmp_path[4096];

static void on_signal(int sig)
{
    static int said;
    if (sig == SIGBUS) { /* only a mapped input raises it (pack's map_feeds: cut short, or a read error where the file lives) */
        /* Several threads may fault at once: the first says so, removes the
         * temporary file and ends the process; the others wait for that
         * (one that went on to raise could end the process before the
         * message is written: 1 run of that fault test in 40, 2 suite runs in 11) */
        if (__atomic_exchange_n(&said, 1, __ATOMIC_SEQ_CST))
            for (;;) pause();
        static const char m[] = "newsarc: a mapped input file could not be read again (cut short by another program, or an I/O error); pack stopped, no archive file left\n";
        ssize_t w = write(2, m, sizeof m - 1);
        (void)w;
    }
    if (g_have_tmp) unlink(g_tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

int cli_atomic_begin(cli_atomic *a, const char *dest, int force)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->dest = dest;
    a->force = force;
    const char *slash = strrchr(dest, '/');
    size_t dl = slash ? (size_t)(slash - dest) + 1 : 0;
    if (strlen(dest) + 32 > sizeof g_tmp_path) {
        cli_err("'%s': path too long", dest);
        return -1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    snprintf(g_tmp_path, sizeof g_tmp_path, "%.*s.%s.tmp-XXXXXX", (int)dl, dest, slash ? slash + 1 : dest);
    int fd = mkstemp(g_tmp_path);
    if (fd < 0) {
        cli_err("'%s': cannot create a temporary file beside it: %s", dest, strerror(errno));
        return -1;
    }
    g_have_tmp = 1;
    mode_t um = umask(0); /* mkstemp makes 0600; give the file the usual 0666 & ~umask */
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) cli_warn("'%s': cannot set the file mode: %s", g_tmp_path, strerror(errno));
    a->fd = fd;
    return 0;
}

void cli_atomic_guard_sigbus(void) { signal(SIGBUS, on_signal); }

void cli_atomic_abort(cli_atomic *a)
{
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    if (g_have_tmp) unlink(g_tmp_path);
    g_have_tmp = 0;
}

static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) strcpy(dir, ".");
    else if (slash == path) strcpy(dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int cli_atomic_commit(cli_atomic *a)
{
    if (fsync(a->fd) != 0) {
        cli_err("'%s': fsync failed: %s", a->dest, strerror(errno));
        cli_atomic_abort(a);
        return EXIT_USAGE;
    }
    int fd = a->fd;
    a->fd = -1;
    if (close(fd) != 0) {
        cli_err("'%s': close failed: %s", a->dest, strerror(errno));
        cli_atomic_abort(a);
        return EXIT_USAGE;
    }
    int ok;
    if (a->force) ok = rename(g_tmp_path, a->dest) == 0;
    else {
        /* never replace a file that appeared meanwhile */
        ok = link(g_tmp_path, a->dest) == 0;
        if (!ok && errno == EEXIST) {
            cli_err("'%s' already exists (use -f to replace it)", a->dest);
            cli_atomic_abort(a);
            return EXIT_USAGE;
        }
        if (ok) unlink(g_tmp_path);
    }
    if (!ok) {
        cli_err("'%s': cannot move the file into place: %s", a->dest, strerror(errno));
        cli_atomic_abort(a);
        return EXIT_USAGE;
    }
    g_have_tmp = 0;
    if (fsync_dir_of(a->dest) != 0) {
        cli_err("'%s': could not fsync its directory: %s", a->dest, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}
