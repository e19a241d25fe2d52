/*
 * cmd_list.c - newsarc list [--json] ARCHIVE.  Reads only the metadata and
 * index sections, never a block.  Human output is terminal-safe (control,
 * escape and bidi characters shown escaped); --json is exact JSON Lines.
 */
#include "cli.h"
#include "internal.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Parse stored metadata; NULL if empty or not a JSON object. */
static json_t *parse_meta(const newsarc_entry *e)
{
    if (!e->meta_len) return NULL;
    json_t *m = json_loadb(e->meta, e->meta_len, JSON_ALLOW_NUL, NULL);
    if (m && !json_is_object(m)) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static const char *meta_str(json_t *m, const char *const *keys, size_t n, size_t *len)
{
    for (size_t i = 0; m && i < n; i++) {
        json_t *v = json_object_get(m, keys[i]);
        if (v && json_is_string(v)) {
            *len = json_string_length(v);
            return json_string_value(v);
        }
    }
    *len = 0;
    return NULL;
}

/*
 * One JSON Lines object, written directly: at a million entries per archive
 * a tree per line (jansson) costs 20x more than the listing itself.
 */
static void cli_out_str(cli_out *o, const char *s) { cli_out_put(o, s, strlen(s)); }

static void put_str_member(cli_out *o, const char *name, const char *v)
{
    cli_out_str(o, ",\"");
    cli_out_str(o, name);
    cli_out_str(o, "\":");
    cli_json_string(o, v, strlen(v)); /* names from a checked table: ASCII */
}

/* ids are public: a table beats libsodium's constant-time hex 3:1 here, which matters at a million lines */
static void put_hex(cli_out *o, const uint8_t *id, int size)
{
    static const char digits[] = "0123456789abcdef";
    char hex[2 * NEWSARC_ID_SIZE];
    int k = 0;
#if defined(__SSE2__)
    /* 16 bytes at a time: nibbles interleaved high first, then '0' + n, plus 'a' - '0' - 10 above 9 */
    for (; k + 16 <= size; k += 16) {
        const __m128i f = _mm_set1_epi8(15), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                      gap = _mm_set1_epi8('a' - '0' - 10);
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(id + k));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), f), lo = _mm_and_si128(v, f);
        __m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);
        a = _mm_add_epi8(_mm_add_epi8(a, zero), _mm_and_si128(_mm_cmpgt_epi8(a, nine), gap));
        b = _mm_add_epi8(_mm_add_epi8(b, zero), _mm_and_si128(_mm_cmpgt_epi8(b, nine), gap));
        _mm_storeu_si128((__m128i *)(void *)(hex + 2 * k), a);
        _mm_storeu_si128((__m128i *)(void *)(hex + 2 * k + 16), b);
    }
#endif
    for (; k < size; k++) {
        hex[2 * k] = digits[id[k] >> 4];
        hex[2 * k + 1] = digits[id[k] & 15];
    }
    cli_out_put(o, hex, 2 * (size_t)size);
}

/* Text information: norm_id, script, and the charset evidence when the bytes are not plain UTF-8. */
static void list_text_info(cli_out *o, const newsarc_text_info *t)
{
    if (!t->present) return;
    cli_out_str(o, t->valid_utf8 ? ",\"utf8\":true" : ",\"utf8\":false");
    if (t->script[0]) put_str_member(o, "script", t->script);
    if (t->has_norm_id) {
        cli_out_str(o, ",\"norm_id\":\"");
        put_hex(o, t->norm_id, NEWSARC_NORM_ID_SIZE);
        cli_out_byte(o, '"');
    }
    if (!t->valid_utf8 || t->declared[0]) {
        char num[32];
        cli_out_str(o, ",\"charset\":{\"decoded_as\":");
        cli_json_string(o, t->decoded_as, strlen(t->decoded_as));
        put_str_member(o, "reason", t->reason);
        if (t->declared[0]) {
            put_str_member(o, "declared", t->declared);
            put_str_member(o, "declared_by", t->declared_by);
        }
        if (t->detected[0]) {
            put_str_member(o, "detected", t->detected);
            snprintf(num, sizeof num, ",\"confidence\":%d", t->confidence);
            cli_out_str(o, num);
        }
        cli_out_str(o, t->clean ? ",\"clean\":true}" : ",\"clean\":false}");
    }
}

static int list_json(cli_out *o, const newsarc_entry *e, const newsarc_article_info *ai, const newsarc_text_info *ti)
{
    char num[32];
    if (e->meta_len && cli_json_object_guard(e->meta, e->meta_len) != 0) return NEWSARC_E_CORRUPT;
    cli_out_put(o, "{\"id\":\"", 7);
    put_hex(o, ai->id, NEWSARC_ID_SIZE);
    cli_out_put(o, "\",\"size\":", 9);
    size_t nl = 0;
    uint64_t v = ai->size;
    do {
        num[sizeof num - 1 - nl++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cli_out_put(o, num + sizeof num - nl, nl);
    if (e->name_len) {
        cli_out_put(o, ",\"name\":", 8);
        if (cli_json_string(o, e->name, e->name_len) != 0) return NEWSARC_E_CORRUPT;
    }
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        cli_out_put(o, ",\"text_field\":", 14);
        if (cli_json_string(o, e->text_key, e->text_key_len) != 0) return NEWSARC_E_CORRUPT;
    }
    if (e->flags & NEWSARC_ENTRY_WHOLE) cli_out_put(o, ",\"whole\":true", 13);
    list_text_info(o, ti);
    if (e->meta_len) {
        cli_out_put(o, ",\"meta\":", 8);
        cli_out_put(o, e->meta, e->meta_len);
    }
    cli_out_put(o, "}\n", 2);
    return 0;
}

/* The first string member among keys: from the compact text without a tree when it is newsarc's (1), else -1. */
static int compact_pick(const newsarc_entry *e, uint32_t members, const char *const *keys, size_t n, na_buf *b,
                        const char **v, size_t *len)
{
    for (size_t i = 0; i < n; i++) {
        int r = na_json_compact_string(e->meta, e->meta_len, members, keys[i], b);
        if (r < 0) return -1;
        if (r == 1) {
            *v = b->len ? (const char *)b->data : "";
            *len = b->len;
            return 1;
        }
    }
    return 1;
}

/* One line of plain list: short id, size, name or url, title (escaped for a terminal). */
static void list_human(cli_out *o, const newsarc_entry *e, const newsarc_article_info *ai, na_buf *wb, na_buf *tb)
{
    static const char *const where_keys[] = {"url", "link", "source_url"};
    static const char *const title_keys[] = {"title", "headline"};
    char hex[NEWSARC_ID_HEX_SIZE + 1];
    newsarc_id_to_hex(hex, ai->id);
    char head[40];
    int hl = snprintf(head, sizeof head, "%.12s  %9llu  ", hex, (unsigned long long)ai->size);
    cli_out_bytes(o, head, (size_t)hl);
    const char *where = NULL, *title = NULL;
    size_t wl = 0, tl = 0;
    uint32_t members = 0;
    json_t *m = NULL;
    int fast = !e->meta_len || na_json_compact_object(e->meta, e->meta_len, &members);
    if (fast && e->meta_len)
        fast = (e->name_len || compact_pick(e, members, where_keys, 3, wb, &where, &wl) == 1) &&
               compact_pick(e, members, title_keys, 2, tb, &title, &tl) == 1;
    if (!fast) {
        m = parse_meta(e);
        where = e->name_len ? NULL : meta_str(m, where_keys, 3, &wl);
        title = meta_str(m, title_keys, 2, &tl);
    }
    if (e->name_len) {
        where = e->name;
        wl = e->name_len;
    }
    if (where) cli_out_safe(o, where, wl);
    else cli_out_byte(o, '-');
    if (title) {
        cli_out_bytes(o, "  ", 2);
        cli_out_safe(o, title, tl > 200 ? 200 : tl);
    }
    cli_out_byte(o, '\n');
    json_decref(m);
}

/*
 * list and list --json on all threads: a job is a run of whole META frames;
 * a thread decompresses the job's frames through its own cache
 * (na_meta_cache) and formats their entries into memory, and the jobs are
 * written in frame order by the thread that finished the job before
 * (cli_ordered_run), so the output is the same for any thread count, also
 * when a frame or an entry is bad (the lines before it, then the error).
 * The whole entry table is never in memory at once.
 */
typedef struct list_item {
    newsarc_entry e;
    uint64_t art;
    newsarc_article_info ai;
    newsarc_text_info ti;
} list_item;

typedef struct list_slot { /* one per thread, kept across jobs */
    na_meta_cache *mc;
    list_item *items;
    size_t cap;
} list_slot;

typedef struct list_job {
    newsarc_reader *r; /* frame directory and text information loaded: read-only from here, on any thread */
    list_slot *slot;
    uint32_t frame, frames; /* the job's frames: frame, frame + 1, ... */
    uint64_t first; /* entry index of the first entry of the frame being formatted (set: of the job's first frame) */
    size_t n, done; /* that frame's entries; done: lines formatted before a bad entry (n if none) */
    cli_out *out;   /* fd -1: memory */
    int human;      /* plain list, else --json */
    int rc;         /* a malformed entry */
    int rrc;        /* the reader refused the frame, or entry first + n (n shortened to it) */
    char msg[NA_ERRMSG]; /* why */
} list_job;

/* One frame of the job into its output; 0, or stop (j->rc / j->rrc set). */
static int list_frame(list_job *j, uint32_t f)
{
    cli_out *o = j->out;
    list_slot *sl = j->slot;
    uint32_t ne = na_meta_stream_entries(j->r, f);
    j->n = j->done = 0;
    if (sl->cap < ne) {
        list_item *ni = realloc(sl->items, sizeof *ni * ne);
        if (!ni) {
            j->rrc = na_set_error(j->msg, NEWSARC_E_NOMEM, "out of memory");
            return -1;
        }
        sl->items = ni;
        sl->cap = ne;
    }
    j->n = ne;
    /* entries (the frame decoded by this thread's cache on the first one, and
     * kept while the frame is formatted), index and attr records (attr was
     * decoded before the threads started; an article's location may be
     * damaged: every message comes back in j->msg) */
    for (size_t k = 0; k < j->n; k++) {
        int rrc = na_meta_cache_entry(sl->mc, j->first + k, &sl->items[k].e, &sl->items[k].art, j->msg);
        if (rrc) {
            j->rrc = rrc;
            j->n = k;
        }
    }
    /* entries come in placement order, their articles from all over the
     * index: what article k + 16 needs is fetched while article k is read */
    enum { AHEAD = 16 };
    for (size_t k = 0; k < j->n && k < AHEAD; k++) na_reader_prefetch(j->r, sl->items[k].art);
    for (size_t k = 0; k < j->n; k++) {
        list_item *it = &sl->items[k];
        if (k + AHEAD < j->n) na_reader_prefetch(j->r, sl->items[k + AHEAD].art);
        int rrc = na_reader_article_msg(j->r, it->art, &it->ai, j->msg);
        if (!rrc && !j->human) rrc = newsarc_reader_text_info(j->r, it->art, &it->ti);
        if (rrc) {
            j->rrc = rrc;
            j->n = k;
        }
    }
    if (j->human) {
        na_buf wb = {0}, tb = {0};
        for (; j->done < j->n; j->done++) list_human(o, &sl->items[j->done].e, &sl->items[j->done].ai, &wb, &tb);
        na_buf_free(&wb);
        na_buf_free(&tb);
    }
    for (; j->done < j->n; j->done++) {
        size_t mark = o->len;
        if (list_json(o, &sl->items[j->done].e, &sl->items[j->done].ai, &sl->items[j->done].ti) != 0) {
            o->len = mark; /* drop the bad entry's partial line */
            j->rc = NEWSARC_E_CORRUPT;
            break;
        }
    }
    return j->rc || j->rrc ? -1 : 0;
}

static void *list_format(void *arg)
{
    list_job *j = arg;
    cli_out *o = j->out;
    o->len = 0;
    o->err = 0;
    for (uint32_t f = j->frame; f < j->frame + j->frames; f++) {
        if (f > j->frame) j->first += j->n; /* all of the previous frame's entries, or it stopped the job */
        if (list_frame(j, f) != 0) break;
    }
    return NULL; /* the lines stay in o->buf until the job is written */
}

/* entries per job, at least one frame: about 1 MB of lines, written while still in cache */
#define LIST_CHUNK 2048

typedef struct list_run {
    newsarc_reader *r;
    const char *path;
    int human, write_err;
    list_slot *slots;    /* per thread */
    list_job *jobs;      /* per job slot */
    cli_out *outs;       /* per job slot: memory */
    size_t nslots;
    const uint32_t *cut; /* job k: frames cut[k] .. cut[k + 1] - 1 */
    const uint64_t *first; /* per job: the entry index of its first frame's first entry */
} list_run;

static void list_build(void *ctx, int t, size_t k)
{
    list_run *x = ctx;
    size_t s = k % x->nslots;
    x->outs[s].fd = -1;
    x->jobs[s] = (list_job){.r = x->r, .slot = &x->slots[t], .frame = x->cut[k], .frames = x->cut[k + 1] - x->cut[k],
                            .first = x->first[k], .out = &x->outs[s], .human = x->human};
    list_format(&x->jobs[s]);
}

/* in order, up to the first bad frame or entry */
static int list_emit(void *ctx, size_t k)
{
    list_run *x = ctx;
    list_job *j = &x->jobs[k % x->nslots];
    if (j->out->err) {
        cli_err("out of memory");
        return NEWSARC_E_NOMEM;
    }
    if (j->out->len && cli_write_all(1, j->out->buf, j->out->len) != 0) {
        x->write_err = 1;
        return NEWSARC_E_IO;
    }
    if (j->rc) {
        cli_err("'%s': entry %llu has malformed metadata", x->path, (unsigned long long)(j->first + j->done));
        return j->rc;
    }
    if (j->rrc) {
        cli_err("'%s': %s", x->path, j->msg[0] ? j->msg : newsarc_reader_error(x->r));
        return j->rrc;
    }
    return 0;
}

static int list_all(newsarc_reader *r, const char *path, int threads, int human, int *write_err)
{
    int T = threads < 1 ? 1 : threads > CLI_MAX_JOBS ? CLI_MAX_JOBS : threads;
    list_run x = {.r = r, .path = path, .human = human, .nslots = 2 * (size_t)T};
    uint32_t nf = 0;
    int rc = na_meta_stream_begin(r, &nf);
    if (rc) cli_err("'%s': %s", path, newsarc_reader_error(r));
    list_slot *slots = calloc((size_t)T, sizeof *slots);
    list_job *jobs = calloc(x.nslots, sizeof *jobs);
    cli_out *outs = calloc(x.nslots, sizeof *outs);
    uint32_t *cut = malloc(sizeof *cut * ((size_t)nf + 2));
    uint64_t *first = malloc(sizeof *first * ((size_t)nf + 1));
    if (!rc && (!slots || !jobs || !outs || !cut || !first)) {
        cli_err("out of memory");
        rc = NEWSARC_E_NOMEM;
    }
    for (int t = 0; t < T && !rc; t++)
        if (!(slots[t].mc = na_meta_cache_new(r))) {
            cli_err("out of memory");
            rc = NEWSARC_E_NOMEM;
        }
    /* text information decoded once, before the threads read it */
    newsarc_text_info ti0;
    if (!rc && newsarc_reader_entry_count(r) && !human && (rc = newsarc_reader_text_info(r, 0, &ti0)) != 0)
        cli_err("'%s': %s", path, newsarc_reader_error(r));
    size_t njobs = 0;
    uint64_t at = 0; /* entry index of frame f's first entry */
    for (uint32_t f = 0; f < nf && !rc; njobs++) {
        cut[njobs] = f;
        first[njobs] = at;
        uint64_t ents = 0;
        do {
            ents += na_meta_stream_entries(r, f);
            at += na_meta_stream_entries(r, f);
            f++;
        } while (f < nf && ents + na_meta_stream_entries(r, f) <= LIST_CHUNK);
        cut[njobs + 1] = f;
    }
    if (!rc) {
        na_reader_decode_locations(r, T);
        x.slots = slots;
        x.jobs = jobs;
        x.outs = outs;
        x.cut = cut;
        x.first = first;
        rc = cli_ordered_run(T, njobs, x.nslots, list_build, list_emit, &x);
        if (rc < 0) {
            cli_err("out of memory");
            rc = NEWSARC_E_NOMEM;
        } else if (x.write_err) {
            *write_err = 1;
            rc = 0;
        }
    }
    for (int t = 0; slots && t < T; t++) {
        na_meta_cache_free(slots[t].mc);
        free(slots[t].items);
    }
    for (size_t k = 0; outs && k < x.nslots; k++) free(outs[k].buf);
    free(outs);
    free(jobs);
    free(slots);
    free(cut);
    free(first);
    return rc;
}

static void list_usage(FILE *f)
{
    fprintf(f, "usage: newsarc list [--json] [-T THREADS] ARCHIVE\n");
}

int cmd_list(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"json", no_argument, 0, 'j'}, {"threads", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, threads = cli_threads_default(), c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jT:h", lopts, NULL)) != -1) {
        if (c == 'j') json = 1;
        else if (c == 'T') {
            if (!cli_threads_arg(optarg, &threads)) return EXIT_USAGE;
        } else if (c == 'h') {
            list_usage(stdout);
            printf("  one line per entry: short id, size, name (or url), title\n"
                   "  --json      JSON Lines: id, size, name, text_field, whole, text information, meta\n"
                   "  -T THREADS  threads formatting the lines (default: all cores; same output for any number)\n");
            return EXIT_OK;
        } else {
            list_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        list_usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    int code;
    newsarc_reader *r = cli_open(path, &code);
    if (!r) return code;
    int write_err = 0;
    int rc = list_all(r, path, threads, !json, &write_err);
    if ((write_err || fflush(stdout) != 0) && !rc) {
        cli_err("stdout: write error");
        newsarc_reader_free(r);
        return EXIT_USAGE;
    }
    newsarc_reader_free(r);
    return cli_exit_for(rc);
}
