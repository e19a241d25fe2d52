/*
 * password.c - read a password from $NEWSARC_PASSWORD or from the
 * controlling terminal with echo off (see password.h).
 */
#include "password.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Terminal state to restore if a signal arrives while echo is off. */
static volatile sig_atomic_t g_tty_saved = 0;
static int g_tty_fd = -1;
static struct termios g_tty_old;

static void restore_and_reraise(int sig)
{
    if (g_tty_saved) tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_old);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int k_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_SIGNALS (sizeof k_signals / sizeof *k_signals)

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || !errcap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/*
 * One line from fd into buf.  0 ok, -1 read error or EOF before any
 * input, -2 too long (the rest of the line is still consumed).
 */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int too_long = 0, got_any = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) {
            if (!got_any) return -1;
            break;
        }
        got_any = 1;
        if (c == '\n') break;
        if (n + 1 < cap) buf[n++] = c;
        else too_long = 1;
        c = 0;
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return too_long ? -2 : 0;
}

static int ask(int fd, const char *prompt, char *buf, size_t cap, char *err, size_t errcap)
{
    struct termios old, quiet;
    struct sigaction sa, prev[N_SIGNALS];
    /* echo off first, then the prompt: typeahead before the prompt is dropped (TCSAFLUSH), answers after it are not */
    int have_tty = tcgetattr(fd, &old) == 0;
    if (have_tty) {
        g_tty_old = old;
        g_tty_fd = fd;
        g_tty_saved = 1;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < N_SIGNALS; i++) sigaction(k_signals[i], &sa, &prev[i]);
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    int rc = write(fd, prompt, strlen(prompt)) < 0 ? -3 : read_line(fd, buf, cap);
    if (have_tty) {
        tcsetattr(fd, TCSANOW, &old);
        g_tty_saved = 0;
        for (size_t i = 0; i < N_SIGNALS; i++) sigaction(k_signals[i], &prev[i], NULL);
    }
    if (rc != 0) sodium_memzero(buf, cap);
    if (rc == -3) set_err(err, errcap, "cannot write to the terminal");
    else if (rc == -2) set_err(err, errcap, "password longer than %zu bytes", cap - 1);
    else if (rc != 0) set_err(err, errcap, "no password entered");
    return rc ? -1 : 0;
}

int cli_password_read(const char *prompt, int confirm, char *buf, size_t cap, char *err, size_t errcap)
{
    if (cap == 0) return -1;
    buf[0] = '\0';
    if (sodium_init() < 0) {
        set_err(err, errcap, "libsodium could not be initialised");
        return -1;
    }
    const char *env = getenv(CLI_PASSWORD_ENV);
    if (env) {
        size_t n = strlen(env);
        if (n >= cap) {
            set_err(err, errcap, "$%s is longer than %zu bytes", CLI_PASSWORD_ENV, cap - 1);
            return -1;
        }
        memcpy(buf, env, n + 1);
        return 0;
    }
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errcap, "no terminal to ask for the password (set $%s, or use a key without password)",
                 CLI_PASSWORD_ENV);
        return -1;
    }
    int rc = ask(fd, prompt, buf, cap, err, errcap);
    if (rc == 0 && confirm) {
        char *again = sodium_malloc(cap);
        if (!again) {
            set_err(err, errcap, "out of memory");
            rc = -1;
        } else {
            rc = ask(fd, "Password (again): ", again, cap, err, errcap);
            if (rc == 0 && strcmp(buf, again) != 0) {
                set_err(err, errcap, "the passwords do not match");
                rc = -1;
            }
            sodium_free(again);
        }
    }
    close(fd);
    if (rc != 0) sodium_memzero(buf, cap);
    return rc;
}
