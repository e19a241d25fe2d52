/* cli_util.c - messages, exit codes, safe output for the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_cmd = NULL;

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "newsarc%s%s: %s", cli_cmd ? " " : "", cli_cmd ? cli_cmd : "", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

int cli_exit_for(int err)
{
    switch (err) {
    case NEWSARC_OK: return EXIT_OK;
    case NEWSARC_E_CORRUPT:
    case NEWSARC_E_NOTFOUND:
    case NEWSARC_E_INPUT:
    case NEWSARC_E_AMBIGUOUS:
    case NEWSARC_E_SIGNATURE:
    case NEWSARC_E_UNSUPPORTED:
    case NEWSARC_E_LIMIT: return EXIT_DATA;
    default: return EXIT_USAGE;
    }
}

newsarc_reader *cli_open(const char *path, int *code)
{
    newsarc_reader *r = NULL;
    int rc = newsarc_reader_open(&r, path);
    if (rc) {
        cli_err("'%s': %s", path, r ? newsarc_reader_error(r) : newsarc_strerror(rc));
        newsarc_reader_free(r);
        *code = cli_exit_for(rc);
        return NULL;
    }
    *code = 0;
    return r;
}

int cli_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

bool cli_progress_enabled(void) { return isatty(2) && !getenv("NEWSARC_NO_PROGRESS"); }

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Decode one UTF-8 sequence; returns its length or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) { len = 2; *cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; *cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; *cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return len;
}

/* Bidi embedding/override/isolate controls and marks that reorder text. */
static bool is_bidi_control(unsigned cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
           cp == 0x061C;
}

void cli_put_safe(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned cp;
        size_t len = utf8_seq(p + i, n - i, &cp);
        if (len == 0) {
            fprintf(f, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (cp == '\\') fputs("\\\\", f);
        else if (cp == '\n') fputs("\\n", f);
        else if (cp == '\t') fputs("\\t", f);
        else if (cp == '\r') fputs("\\r", f);
        else if (cp < 0x20 || cp == 0x7F) fprintf(f, "\\x%02x", cp);
        else if ((cp >= 0x80 && cp < 0xA0) || is_bidi_control(cp) || cp == 0x2028 || cp == 0x2029)
            fprintf(f, "\\u%04x", cp);
        else fwrite(p + i, 1, len, f);
        i += len;
    }
}
