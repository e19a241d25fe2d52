/* cli.h - shared helpers of the newsarc command's subcommands. */
#ifndef NEWSARC_CLI_H
#define NEWSARC_CLI_H

#include "newsarc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Exit codes (README, "Exit codes"). */
enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

/* Current subcommand name, for messages ("newsarc pack: ..."). */
extern const char *cli_cmd;

void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit code for a library error: data problems 1, the rest 2. */
int cli_exit_for(int err);

/* Open an archive, printing a message naming it on failure. NULL on failure, *code set. */
newsarc_reader *cli_open(const char *path, int *code);

/* write(2) all bytes; 0 or -1 with errno. */
int cli_write_all(int fd, const void *p, size_t n);

/* Progress line on stderr, only when stderr is a terminal. */
bool cli_progress_enabled(void);

/* Terminal-safe text: escape C0/C1/DEL, bidi controls and invalid UTF-8 (README, "Output"). */
void cli_put_safe(FILE *f, const char *s, size_t n);

/* Decode one UTF-8 sequence (shortest form, no surrogates): its length, or 0 if invalid. */
size_t cli_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* A buffered writer on a file descriptor, for bulk output (list --json), or
 * a growing buffer in memory that keeps everything (fd < 0: worker threads,
 * whose lines the main thread then writes from there). */
typedef struct cli_out {
    int fd, err;
    char *buf;            /* fd >= 0: store, set on first use; fd < 0: malloc, grown as needed (free it) */
    size_t len, cap;      /* bytes in buf, its size */
    char store[1 << 20];
} cli_out;
void cli_out_bytes(cli_out *o, const void *p, size_t n);
/* cli_out_bytes inline while they fit (a constant n becomes a few moves): list --json's fields */
static inline void cli_out_put(cli_out *o, const void *p, size_t n)
{
    if (n && n <= o->cap - o->len) { /* (n == 0: buf may still be NULL) */
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    } else
        cli_out_bytes(o, p, n);
}
static inline void cli_out_byte(cli_out *o, char c)
{
    if (o->len == o->cap) cli_out_bytes(o, &c, 1);
    else o->buf[o->len++] = c;
}
int cli_out_flush(cli_out *o); /* -1 if any write failed (memory: if memory ran out); memory: keeps the bytes */

/* Run fn on jobs[0..n) (each size bytes), job 0 on this thread, the others on their own
 * threads (or here when a thread cannot be made); returns when all are done.  n <= 16. */
#define CLI_MAX_JOBS 16
void cli_run_jobs(void *(*fn)(void *), void *jobs, size_t size, int n);

/*
 * Jobs 0 .. n-1 built on `threads` threads and handed out in order, with no
 * thread of their own for the output: build(ctx, t, k) runs on thread t
 * (0 .. threads-1) and fills slot k % slots; emit(ctx, k) runs as soon as
 * jobs 0 .. k are built, on the thread that finished the last of them, one
 * emit at a time, while the other threads go on building (at most `slots`
 * jobs built and not yet emitted).  After an emit returns nonzero no job is
 * emitted or started any more; that value is returned (0: all emitted;
 * emit should return positive values: -1 means no memory for the run).
 */
int cli_ordered_run(int threads, size_t n, size_t slots, void (*build)(void *ctx, int t, size_t k),
                    int (*emit)(void *ctx, size_t k), void *ctx);

/* Write s as a JSON string; -1 (output unusable) if s is not valid UTF-8. */
int cli_json_string(cli_out *o, const char *s, size_t n);
/* cli_put_safe into a cli_out. */
void cli_out_safe(cli_out *o, const char *s, size_t n);

/*
 * Injection guard for stored metadata copied verbatim into JSON output: one
 * object (starts with '{', its matching '}' is the last byte, strings
 * closed), no raw control characters.  Not a full JSON check (verify does that with
 * jansson); it guarantees the copy cannot end the object early, add members
 * to the enclosing line or break the line.  0 if it passes.
 */
int cli_json_object_guard(const char *s, size_t n);

/* -T: default = online cores (at most 64); parse with a message on error. */
int cli_threads_default(void);
bool cli_threads_arg(const char *arg, int *out);

/* Parse an integer option; returns false on garbage. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* Atomic output file (tools/atomic.c). */
typedef struct cli_atomic {
    int fd;
    const char *dest;
    int force;
} cli_atomic;
int cli_atomic_begin(cli_atomic *a, const char *dest, int force); /* 0, or -1 with a message */
int cli_atomic_commit(cli_atomic *a);                            /* exit code; message on failure */
void cli_atomic_abort(cli_atomic *a);
/* SIGBUS (a mapped input cut short) removes the temporary file too, with a message. */
void cli_atomic_guard_sigbus(void);

/*
 * The article's text as UTF-8, decoded with the charset the archive
 * recorded (ICU converters; bad bytes become U+FFFD).  Articles without a
 * record are returned as they are when they are valid UTF-8, else decoded
 * from what the detector says now.  *out is malloc'd.  0 or an error code.
 */
int cli_article_utf8(newsarc_reader *r, uint64_t article, const void *data, size_t len, char **out, size_t *out_len);
/* What a text function's error means (says so when ICU could not be loaded). */
const char *cli_text_error(int rc);

int cmd_pack(int argc, char **argv);
int cmd_dups(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
