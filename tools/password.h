/* password.h - passwords for minisign secret keys: $NEWSARC_PASSWORD or the terminal. */
#ifndef NEWSARC_PASSWORD_H
#define NEWSARC_PASSWORD_H

#include <stddef.h>

/* Buffer size for a password, NUL included (minisign's PASSWORDMAXBYTES). */
#define CLI_PASSWORD_CAP 1024

/* The environment variable scripts use to pass the password. */
#define CLI_PASSWORD_ENV "NEWSARC_PASSWORD"

/**
 * Read a password into buf (cap bytes, NUL-terminated, without line break).
 * When $NEWSARC_PASSWORD is set (even to ""), it is the password and no
 * question is asked.  Otherwise the prompt is written to /dev/tty and the
 * answer read there with echo off (stdin and stdout are left alone); with
 * confirm, it is asked twice and both answers must match.  Ctrl-C while
 * echo is off restores the terminal before the default action.
 * The caller wipes buf (sodium_memzero) after use.
 * @return 0, or -1 with a lowercase message in err.
 */
int cli_password_read(const char *prompt, int confirm, char *buf, size_t cap, char *err, size_t errcap);

#endif
