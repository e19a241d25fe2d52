#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tu_buf_write(void *ctx, const void *p, size_t n)
{
    tu_buf *b = ctx;
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n) c *= 2;
        uint8_t *d = realloc(b->data, c);
        if (!d) return -1;
        b->data = d;
        b->cap = c;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void tu_buf_free(tu_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int tu_pack(const tu_item *items, size_t n, const size_t *perm, const newsarc_writer_options *opt, tu_buf *out,
            char *msg, size_t msgcap)
{
    newsarc_writer *w = newsarc_writer_new(opt);
    if (!w) return NEWSARC_E_NOMEM;
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        const tu_item *it = &items[perm ? perm[k] : k];
        size_t len = it->len ? it->len : strlen(it->data);
        if (it->name) {
            newsarc_entry e = {0};
            e.name = it->name;
            e.name_len = strlen(it->name);
            rc = newsarc_writer_add(w, &e, it->data, len, 0);
        } else {
            rc = newsarc_writer_add_json(w, it->data, len, NULL, 0);
        }
    }
    if (!rc) rc = newsarc_writer_finish(w, tu_buf_write, out, NULL, NULL);
    if (rc && msg) snprintf(msg, msgcap, "%s", newsarc_writer_error(w));
    newsarc_writer_free(w);
    return rc;
}

char *tu_text(uint64_t seed, size_t len)
{
    static const char *const words[] = {"the", "news", "agency", "reported", "on", "monday", "that", "minister",
                                        "الأخبار", "وكالة", "قال", "الوزير", "في", "يوم", "خبرگزاری", "گزارش"};
    char *s = malloc(len + 1);
    size_t at = 0;
    uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    while (at < len) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *wd = words[(x >> 33) % (sizeof words / sizeof *words)];
        size_t wl = strlen(wd);
        for (size_t i = 0; i < wl && at < len; i++) s[at++] = wd[i];
        if (at < len) s[at++] = ((x >> 20) % 11 == 0) ? '\n' : ' ';
    }
    s[len] = 0;
    return s;
}
