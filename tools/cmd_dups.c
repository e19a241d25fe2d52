/*
 * cmd_dups.c - newsarc dups [--json] [--threshold X] [-T N] ARCHIVE
 *
 * Groups of near-identical articles (the same wire story with another
 * dateline or footer, re-scrapes, syndicated copies).  Each article's text
 * is decoded to UTF-8, split into words by ICU's word break iterator (so
 * Arabic, Persian, CJK and Latin are all segmented properly), and summarised
 * by a MinHash signature over word 3-shingles.  Locality-sensitive hashing
 * over bands of the signature proposes candidate pairs in linear time; a
 * pair joins a group when its estimated similarity reaches the threshold.
 * Articles with the same norm_id (same text after normalization) are always
 * grouped.  Output order is deterministic.
 */
#include "cli.h"
#include "internal.h"
#include "text.h"

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DUPS_K 32   /* signature values */
#define DUPS_ROWS 4 /* values per LSH band: 8 bands */
#define DUPS_BANDS (DUPS_K / DUPS_ROWS)
#define DUPS_BUCKET_PAIRWISE 64 /* larger buckets are compared against their first member only */

typedef struct dsig {
    uint32_t v[DUPS_K];
    uint8_t ok; /* enough words for a signature */
} dsig;

typedef struct djob {
    const char *path;
    uint64_t n_arts;
    int threads, t;
    dsig *sigs;
    const uint64_t *order; /* article indices sorted by block */
    int rc;
    char msg[512];
} djob;

/* Signatures of the articles of the blocks t, t+T, ... (own reader handle per thread). */
static void *sign_articles(void *arg)
{
    djob *j = arg;
    newsarc_reader *r = NULL;
    if ((j->rc = newsarc_reader_open(&r, j->path)) != 0) {
        snprintf(j->msg, sizeof j->msg, "%s", r ? newsarc_reader_error(r) : "out of memory");
        newsarc_reader_free(r);
        return NULL;
    }
    uint64_t sig[DUPS_K];
    /* articles in block order, so each block is decompressed once */
    for (uint64_t k = 0; k < j->n_arts && !j->rc; k++) {
        uint64_t a = j->order[k];
        newsarc_article_info ai;
        if (newsarc_reader_article(r, a, &ai) != 0) continue;
        if ((int)(ai.block % (uint32_t)j->threads) != j->t) continue;
        void *data;
        size_t len;
        char *u = NULL;
        size_t ul = 0;
        if ((j->rc = newsarc_reader_read(r, a, &data, &len)) != 0) {
            snprintf(j->msg, sizeof j->msg, "%s", newsarc_reader_error(r));
            break;
        }
        int rc = cli_article_utf8(r, a, data, len, &u, &ul);
        newsarc_free(data);
        if (rc == 0 && na_text_minhash(u, ul, DUPS_K, sig) == 0 && sig[0] != UINT64_MAX) {
            for (int q = 0; q < DUPS_K; q++) j->sigs[a].v[q] = (uint32_t)(sig[q] >> 32);
            j->sigs[a].ok = 1;
        }
        free(u);
    }
    newsarc_reader_free(r);
    return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

typedef struct bitem {
    uint64_t key;
    uint32_t art;
} bitem;

static int cmp_bitem(const void *x, const void *y)
{
    const bitem *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->art < b->art ? -1 : a->art > b->art;
}

static uint32_t find(uint32_t *p, uint32_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static void unite(uint32_t *p, uint32_t a, uint32_t b)
{
    a = find(p, a);
    b = find(p, b);
    if (a != b) p[a > b ? a : b] = a < b ? a : b; /* the smaller index is the root: order-independent */
}

static double similarity(const dsig *a, const dsig *b)
{
    int eq = 0;
    for (int k = 0; k < DUPS_K; k++) eq += a->v[k] == b->v[k];
    return (double)eq / DUPS_K;
}

/* How output names an article: its first entry's name, else its url or link (metadata). */
typedef struct label {
    char *s; /* malloc'd */
    size_t n;
    int is_url;
} label;

static label article_label(newsarc_reader *r, uint64_t first_entry)
{
    label l = {NULL, 0, 0};
    newsarc_entry e;
    uint64_t art;
    if (first_entry == UINT64_MAX || newsarc_reader_entry(r, first_entry, &e, &art) != 0) return l;
    const char *src = e.name;
    size_t n = e.name_len;
    json_t *m = NULL;
    if (!n && e.meta_len && (m = json_loadb(e.meta, e.meta_len, JSON_ALLOW_NUL, NULL))) {
        static const char *const keys[] = {"url", "link", "source_url"};
        for (int k = 0; k < 3 && !n; k++) {
            json_t *v = json_object_get(m, keys[k]);
            if (v && json_is_string(v)) {
                src = json_string_value(v);
                n = json_string_length(v);
                l.is_url = 1;
            }
        }
    }
    if (n && (l.s = malloc(n))) {
        memcpy(l.s, src, n);
        l.n = n;
    }
    json_decref(m);
    return l;
}

static void dups_usage(FILE *f)
{
    fprintf(f, "usage: newsarc dups [--json] [--threshold X] [-T THREADS] ARCHIVE\n"
               "  groups of near-identical articles (MinHash over ICU word 3-shingles, similarity >= X,\n"
               "  default 0.5); articles with the same norm_id are always grouped.\n"
               "  --json: one JSON object per group: {\"group\":N,\"members\":[{\"id\",\"size\",\"name\"|\"url\",\"similarity\"}]}\n");
}

int cmd_dups(int argc, char **argv)
{
    static const struct option lopts[] = {{"json", no_argument, 0, 'j'},
                                          {"threshold", required_argument, 0, 't'},
                                          {"threads", required_argument, 0, 'T'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    int json = 0, c;
    double threshold = 0.5;
    int threads = cli_threads_default();
    optind = 1;
    while ((c = getopt_long(argc, argv, "jt:T:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 't': {
            char *end;
            threshold = strtod(optarg, &end);
            if (*end || end == optarg || !(threshold > 0 && threshold <= 1)) {
                cli_err("threshold '%s' is not a number in (0, 1]", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'T':
            if (!cli_threads_arg(optarg, &threads)) return EXIT_USAGE;
            break;
        case 'h': dups_usage(stdout); return EXIT_OK;
        default: dups_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        dups_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    int code;
    uint64_t *order = NULL;
    if (na_icu_load() != 0) { /* signatures are taken from the decoded, normalized text */
        cli_err("%s", na_icu_error());
        return EXIT_USAGE;
    }
    newsarc_reader *r = cli_open(path, &code);
    if (!r) return code;
    uint64_t n = newsarc_reader_article_count(r), ne = newsarc_reader_entry_count(r);
    dsig *sigs = calloc(n, sizeof *sigs);
    uint32_t *parent = malloc(sizeof *parent * n);
    uint64_t *first_entry = malloc(sizeof *first_entry * n);
    bitem *items = malloc(sizeof *items * (n * DUPS_BANDS + n));
    djob *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    if (!sigs || !parent || !first_entry || !items || !jobs || !th) {
        cli_err("out of memory");
        code = EXIT_USAGE;
        goto out;
    }
    for (uint64_t a = 0; a < n; a++) {
        parent[a] = (uint32_t)a;
        first_entry[a] = UINT64_MAX;
    }
    if (newsarc_reader_load_entries(r, threads) != 0) {
        cli_err("'%s': %s", path, newsarc_reader_error(r));
        code = EXIT_DATA;
        goto out;
    }
    for (uint64_t i = 0; i < ne; i++) {
        newsarc_entry e;
        uint64_t art;
        if (newsarc_reader_entry(r, i, &e, &art) != 0) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            code = EXIT_DATA;
            goto out;
        }
        if (art < n && first_entry[art] == UINT64_MAX) first_entry[art] = i;
    }
    /* 1. signatures, on all threads, articles taken block by block */
    order = malloc(sizeof *order * (n ? n : 1));
    if (!order) {
        cli_err("out of memory");
        code = EXIT_USAGE;
        goto out;
    }
    for (uint64_t a = 0; a < n; a++) {
        newsarc_article_info ai;
        if (newsarc_reader_article(r, a, &ai) != 0) { /* a damaged location chunk; later calls cannot fail */
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            code = EXIT_DATA;
            goto out;
        }
        order[a] = ((uint64_t)ai.block << 32) | a; /* article index < 2^32 */
    }
    qsort(order, n, sizeof *order, cmp_u64);
    for (uint64_t a = 0; a < n; a++) order[a] &= 0xffffffffu;
    int *started = calloc((size_t)threads, sizeof *started);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (djob){path, n, threads, t, sigs, order, 0, ""};
        if (t > 0 && started) started[t] = pthread_create(&th[t], NULL, sign_articles, &jobs[t]) == 0;
    }
    sign_articles(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started && started[t]) pthread_join(th[t], NULL);
        else sign_articles(&jobs[t]); /* its thread did not start: do its share here */
    }
    free(started);
    for (int t = 0; t < threads; t++)
        if (jobs[t].rc) {
            cli_err("'%s': %s", path, jobs[t].msg);
            code = cli_exit_for(jobs[t].rc);
            goto out;
        }
    /* 2. candidates: LSH bands, plus exact norm_id matches */
    size_t m = 0;
    for (uint64_t a = 0; a < n; a++) {
        newsarc_text_info ti;
        if (newsarc_reader_text_info(r, a, &ti) == 0 && ti.has_norm_id) {
            uint64_t k;
            memcpy(&k, ti.norm_id, 8);
            items[m++] = (bitem){k | 1, (uint32_t)a}; /* odd keys: norm ids */
        }
        if (!sigs[a].ok) continue;
        for (int b = 0; b < DUPS_BANDS; b++) {
            uint64_t k = 0xcbf29ce484222325ULL ^ (uint64_t)b;
            for (int q = 0; q < DUPS_ROWS; q++) k = (k ^ sigs[a].v[b * DUPS_ROWS + q]) * 0x100000001b3ULL;
            items[m++] = (bitem){k & ~1ULL, (uint32_t)a}; /* even keys: bands */
        }
    }
    qsort(items, m, sizeof *items, cmp_bitem);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && items[j].key == items[i].key; j++) {}
        int exact = items[i].key & 1;
        /* pairwise in small buckets; against the first member in big ones (boilerplate) */
        for (size_t x = i; x < j; x++)
            for (size_t y = x + 1; y < j && (x == i || j - i <= DUPS_BUCKET_PAIRWISE); y++) {
                uint32_t a = items[x].art, b = items[y].art;
                if (a == b) continue;
                if (exact) {
                    newsarc_text_info ta, tb;
                    if (newsarc_reader_text_info(r, a, &ta) == 0 && newsarc_reader_text_info(r, b, &tb) == 0 &&
                        !memcmp(ta.norm_id, tb.norm_id, NEWSARC_NORM_ID_SIZE))
                        unite(parent, a, b);
                } else if (similarity(&sigs[a], &sigs[b]) >= threshold) {
                    unite(parent, a, b);
                }
            }
    }
    /* 3. groups (components of 2+), in order of their smallest article index (= id order) */
    uint32_t *count = calloc(n, sizeof *count);
    if (!count) {
        cli_err("out of memory");
        code = EXIT_USAGE;
        goto out;
    }
    for (uint64_t a = 0; a < n; a++) count[find(parent, (uint32_t)a)]++;
    uint64_t groups = 0;
    static cli_out o;
    o.fd = 1;
    for (uint64_t root = 0; root < n; root++) {
        if (find(parent, (uint32_t)root) != root || count[root] < 2) continue;
        groups++;
        char buf[256];
        if (json) {
            snprintf(buf, sizeof buf, "{\"group\":%llu,\"members\":[", (unsigned long long)groups);
            cli_out_bytes(&o, buf, strlen(buf));
        } else {
            snprintf(buf, sizeof buf, "group %llu: %u articles\n", (unsigned long long)groups, count[root]);
            cli_out_bytes(&o, buf, strlen(buf));
        }
        int firstm = 1;
        for (uint64_t a = root; a < n; a++) {
            if (find(parent, (uint32_t)a) != root) continue;
            newsarc_article_info ai;
            newsarc_reader_article(r, a, &ai);
            char hex[NEWSARC_ID_HEX_SIZE + 1];
            newsarc_id_to_hex(hex, ai.id);
            label l = article_label(r, first_entry[a]);
            double sim = (sigs[a].ok && sigs[root].ok) ? similarity(&sigs[a], &sigs[root]) : 1.0;
            if (json) {
                snprintf(buf, sizeof buf, "%s{\"id\":\"%s\",\"size\":%llu,\"similarity\":%.3f", firstm ? "" : ",", hex,
                         (unsigned long long)ai.size, sim);
                cli_out_bytes(&o, buf, strlen(buf));
                if (l.n) {
                    cli_out_bytes(&o, l.is_url ? ",\"url\":" : ",\"name\":", l.is_url ? 7 : 8);
                    if (cli_json_string(&o, l.s, l.n) != 0) cli_out_bytes(&o, "null", 4);
                }
                cli_out_byte(&o, '}');
                free(l.s);
            } else {
                snprintf(buf, sizeof buf, "  %.12s  %9llu  %.2f  ", hex, (unsigned long long)ai.size, sim);
                cli_out_bytes(&o, buf, strlen(buf));
                cli_out_flush(&o);
                cli_put_safe(stdout, l.n ? l.s : "-", l.n ? l.n : 1);
                free(l.s);
                l.s = NULL;
                fputc('\n', stdout);
                fflush(stdout);
            }
            firstm = 0;
        }
        if (json) cli_out_bytes(&o, "]}\n", 3);
    }
    if (cli_out_flush(&o) != 0) {
        cli_err("stdout: write error");
        code = EXIT_USAGE;
    }
    if (!json) fprintf(stderr, "newsarc dups: %llu group%s among %llu articles\n", (unsigned long long)groups,
                       groups == 1 ? "" : "s", (unsigned long long)n);
    free(count);
out:
    free(order);
    free(sigs);
    free(parent);
    free(first_entry);
    free(items);
    free(jobs);
    free(th);
    newsarc_reader_free(r);
    return code;
}
