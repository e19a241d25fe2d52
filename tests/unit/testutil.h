/* testutil.h - helpers shared by the unit tests. */
#ifndef NEWSARC_TESTUTIL_H
#define NEWSARC_TESTUTIL_H

#include "newsarc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tu_buf {
    uint8_t *data;
    size_t len, cap;
} tu_buf;

/* newsarc_write_fn appending to a tu_buf. */
int tu_buf_write(void *ctx, const void *p, size_t n);
void tu_buf_free(tu_buf *b);

typedef struct tu_item {
    const char *name;   /* file entry name, or NULL for a JSON line */
    const char *data;   /* article bytes, or the JSON line */
    size_t len;         /* 0 = strlen(data) */
} tu_item;

/*
 * Pack items (in the order given by perm, or 0..n-1 if perm is NULL) with
 * opt into out.  Returns the writer's error code; msg gets its message.
 */
int tu_pack(const tu_item *items, size_t n, const size_t *perm, const newsarc_writer_options *opt, tu_buf *out,
            char *msg, size_t msgcap);

/* Deterministic pseudo-random text of len bytes (words from a small list, seeded). */
char *tu_text(uint64_t seed, size_t len);

#endif
