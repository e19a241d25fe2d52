/*
 * faultshim.c - LD_PRELOAD fault injector for the atomic-output tests
 * (tests/faults/run.sh).  Build: cc -shared -fPIC -O2 -o faultshim.so faultshim.c -ldl
 *
 * It counts calls of one kind on files whose path contains a substring and
 * makes the Nth one misbehave.  Environment:
 *   FAULT_OP      write | read | fsync | close | rename | link | mmap | lstat   (fsync includes
 *                 fdatasync; rename includes renameat and renameat2; link
 *                 includes linkat and renameat2 with RENAME_NOREPLACE, the
 *                 no-replace placement extract uses where it can)
 *   FAULT_N       which matching call misbehaves, 1-based (0 or unset: none)
 *   FAULT_MATCH   substring of the path (the fd's path for write, read, fsync
 *                 and close; the source path for rename and link; the path for
 *                 lstat); default
 *                 ".tmp-"; empty matches everything
 *   FAULT_ERRNO   ENOSPC (default), EIO, EDQUOT, EINTR or a number
 *   FAULT_ACTION  fail    the call fails with FAULT_ERRNO (close: the fd is
 *                         closed anyway, as Linux does)
 *                 short   write (read): writes (reads) only half, at least 1
 *                         byte, and returns the short count
 *                 pause   before the call: create the file FAULT_MARK, then
 *                         sleep FAULT_SLEEP seconds (default 60) so a test
 *                         can kill the process mid-write
 *                 every   fail this call and every later matching one
 *   FAULT_COUNT   file to which the number of matching calls of FAULT_OP is
 *                 written at exit (to learn K for "every index 1..K")
 * Only the process's own calls through libc are seen (not raw syscalls).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { OP_NONE, OP_WRITE, OP_READ, OP_FSYNC, OP_CLOSE, OP_RENAME, OP_LINK, OP_MMAP, OP_LSTAT };
enum { ACT_FAIL, ACT_SHORT, ACT_PAUSE, ACT_EVERY };

static int g_op = OP_NONE, g_act = ACT_FAIL, g_errno = ENOSPC;
static long g_n = 0;
static const char *g_match = ".tmp-";
static atomic_long g_count;
static atomic_int g_ready;

static void setup(void)
{
    if (atomic_load(&g_ready)) return;
    const char *op = getenv("FAULT_OP");
    if (op) {
        if (!strcmp(op, "write")) g_op = OP_WRITE;
        else if (!strcmp(op, "read")) g_op = OP_READ;
        else if (!strcmp(op, "fsync")) g_op = OP_FSYNC;
        else if (!strcmp(op, "close")) g_op = OP_CLOSE;
        else if (!strcmp(op, "rename")) g_op = OP_RENAME;
        else if (!strcmp(op, "link")) g_op = OP_LINK;
        else if (!strcmp(op, "mmap")) g_op = OP_MMAP;
        else if (!strcmp(op, "lstat")) g_op = OP_LSTAT;
    }
    const char *n = getenv("FAULT_N");
    if (n) g_n = strtol(n, NULL, 10);
    const char *m = getenv("FAULT_MATCH");
    if (m) g_match = m;
    const char *e = getenv("FAULT_ERRNO");
    if (e) {
        if (!strcmp(e, "ENOSPC")) g_errno = ENOSPC;
        else if (!strcmp(e, "EIO")) g_errno = EIO;
        else if (!strcmp(e, "EDQUOT")) g_errno = EDQUOT;
        else if (!strcmp(e, "EINTR")) g_errno = EINTR;
        else g_errno = atoi(e);
    }
    const char *a = getenv("FAULT_ACTION");
    if (a) {
        if (!strcmp(a, "short")) g_act = ACT_SHORT;
        else if (!strcmp(a, "pause")) g_act = ACT_PAUSE;
        else if (!strcmp(a, "every")) g_act = ACT_EVERY;
    }
    atomic_store(&g_ready, 1);
}

__attribute__((destructor)) static void report_count(void)
{
    const char *f = getenv("FAULT_COUNT");
    if (!f) return;
    FILE *o = fopen(f, "w");
    if (!o) return;
    fprintf(o, "%ld\n", (long)atomic_load(&g_count));
    fclose(o);
}

static int path_matches(const char *path)
{
    setup();
    return path && (!*g_match || strstr(path, g_match) != NULL);
}

static int fd_matches(int fd)
{
    setup();
    if (fd < 0 || g_op == OP_NONE) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = 0;
    return path_matches(path);
}

/* 1 if this matching call is the one to misbehave. */
static int hit(int op, int matches)
{
    setup();
    if (op != g_op || !matches) return 0;
    long k = atomic_fetch_add(&g_count, 1) + 1;
    if (g_n <= 0) return 0;
    return g_act == ACT_EVERY ? k >= g_n : k == g_n;
}

static void do_pause(void)
{
    const char *mark = getenv("FAULT_MARK");
    if (mark) {
        int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    }
    const char *s = getenv("FAULT_SLEEP");
    sleep(s ? (unsigned)atoi(s) : 60u);
}

/* The next definition of a libc function (POSIX's way to store dlsym's result). */
#define REAL(ret, name, ...)                                    \
    static ret (*real_##name)(__VA_ARGS__);                     \
    if (!real_##name) {                                         \
        void *sym_ = dlsym(RTLD_NEXT, #name);                   \
        memcpy(&real_##name, &sym_, sizeof sym_);               \
    }

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(ssize_t, write, int, const void *, size_t);
    if (hit(OP_WRITE, fd_matches(fd))) {
        if (g_act == ACT_PAUSE) do_pause();
        else if (g_act == ACT_SHORT && len > 1) return real_write(fd, buf, len / 2);
        else if (g_act != ACT_SHORT) {
            errno = g_errno;
            return -1;
        }
    }
    return real_write(fd, buf, len);
}

ssize_t read(int fd, void *buf, size_t len)
{
    REAL(ssize_t, read, int, void *, size_t);
    setup();
    if (g_op == OP_READ && hit(OP_READ, fd_matches(fd))) {
        if (g_act == ACT_PAUSE) do_pause();
        else if (g_act == ACT_SHORT && len > 1) return real_read(fd, buf, len / 2);
        else if (g_act != ACT_SHORT) {
            errno = g_errno;
            return -1;
        }
    }
    return real_read(fd, buf, len);
}

/* mmap: the Nth mapping of a matching file succeeds, then the file is cut
 * to half its length (another process truncating an input being packed):
 * touching the mapping past the new end raises SIGBUS. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    REAL(void *, mmap, void *, size_t, int, int, int, off_t);
    void *m = real_mmap(addr, len, prot, flags, fd, off);
    /* setup() only for a file mapping under FAULT_OP=mmap: the loader and the
     * sanitizer runtime map memory before the environment can be read, and
     * setup() reads it once for good */
    const char *op = fd >= 0 ? getenv("FAULT_OP") : NULL;
    if (m != MAP_FAILED && op && !strcmp(op, "mmap") && hit(OP_MMAP, fd_matches(fd))) {
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = 0;
            if (truncate(path, (off_t)(len / 2)) != 0) perror("faultshim: truncate");
        }
    }
    return m;
}

int fsync(int fd)
{
    REAL(int, fsync, int);
    if (hit(OP_FSYNC, fd_matches(fd))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    if (hit(OP_FSYNC, fd_matches(fd))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_fdatasync(fd);
}

int close(int fd)
{
    REAL(int, close, int);
    if (hit(OP_CLOSE, fd_matches(fd))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            real_close(fd); /* Linux closes the descriptor even when close reports an error */
            errno = g_errno;
            return -1;
        }
    }
    return real_close(fd);
}

int lstat(const char *path, struct stat *st)
{
    REAL(int, lstat, const char *, struct stat *);
    if (hit(OP_LSTAT, path_matches(path))) {
        errno = g_errno;
        return -1;
    }
    return real_lstat(path, st);
}

int rename(const char *from, const char *to)
{
    REAL(int, rename, const char *, const char *);
    if (hit(OP_RENAME, path_matches(from))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_rename(from, to);
}

int renameat(int dfd, const char *from, int tfd, const char *to)
{
    REAL(int, renameat, int, const char *, int, const char *);
    if (hit(OP_RENAME, path_matches(from))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_renameat(dfd, from, tfd, to);
}

int renameat2(int dfd, const char *from, int tfd, const char *to, unsigned int flags)
{
    REAL(int, renameat2, int, const char *, int, const char *, unsigned int);
    if (hit((flags & RENAME_NOREPLACE) ? OP_LINK : OP_RENAME, path_matches(from))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_renameat2(dfd, from, tfd, to, flags);
}

int link(const char *from, const char *to)
{
    REAL(int, link, const char *, const char *);
    if (hit(OP_LINK, path_matches(from))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_link(from, to);
}

int linkat(int dfd, const char *from, int tfd, const char *to, int flags)
{
    REAL(int, linkat, int, const char *, int, const char *, int);
    if (hit(OP_LINK, path_matches(from))) {
        if (g_act == ACT_PAUSE) do_pause();
        else {
            errno = g_errno;
            return -1;
        }
    }
    return real_linkat(dfd, from, tfd, to, flags);
}
