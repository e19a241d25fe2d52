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
static void cli_out_str(cli_out *o, const char *s) { cli_out_bytes(o, s, strlen(s)); }

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
    for (int k = 0; k < size; k++) {
        hex[2 * k] = digits[id[k] >> 4];
        hex[2 * k + 1] = digits[id[k] & 15];
    }
    cli_out_bytes(o, hex, 2 * (size_t)size);
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
    cli_out_bytes(o, "{\"id\":\"", 7);
    put_hex(o, ai->id, NEWSARC_ID_SIZE);
    cli_out_bytes(o, "\",\"size\":", 9);
    size_t nl = 0;
    uint64_t v = ai->size;
    do {
        num[sizeof num - 1 - nl++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cli_out_bytes(o, num + sizeof num - nl, nl);
    if (e->name_len) {
        cli_out_bytes(o, ",\"name\":", 8);
        if (cli_json_string(o, e->name, e->name_len) != 0) return NEWSARC_E_CORRUPT;
    }
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        cli_out_bytes(o, ",\"text_field\":", 14);
        if (cli_json_string(o, e->text_key, e->text_key_len) != 0) return NEWSARC_E_CORRUPT;
    }
    if (e->flags & NEWSARC_ENTRY_WHOLE) cli_out_bytes(o, ",\"whole\":true", 13);
    list_text_info(o, ti);
    if (e->meta_len) {
        cli_out_bytes(o, ",\"meta\":", 8);
        cli_out_bytes(o, e->meta, e->meta_len);
    }
    cli_out_bytes(o, "}\n", 2);
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
 * list and list --json on all threads.  The reader handle stays on this thread (one
 * thread per handle, newsarc.h): it collects a chunk of entries per worker,
 * the workers format their chunks into memory, and the chunks are written in
 * order, so the output is the same for any thread count, also when an entry
 * is bad (the lines before it, then the error).
 */
#define LIST_CHUNK 8192 /* entries per worker and round, at most */

typedef struct list_item {
    newsarc_entry e;
    newsarc_article_info ai;
    newsarc_text_info ti;
} list_item;

typedef struct list_job {
    newsarc_reader *r; /* entries and text information loaded: read-only from here, on any thread */
    list_item *items;
    uint64_t first; /* entry index of items[0] */
    size_t n, done; /* done: lines formatted before a bad entry (n if none) */
    cli_out *out;   /* fd -1: memory */
    int human;      /* plain list, else --json */
    int rc;         /* a malformed entry */
    int rrc;        /* the reader refused entry first + n (n shortened to it) */
    char msg[NA_ERRMSG]; /* why, when it was the article's location */
} list_job;

static void *list_format(void *arg)
{
    list_job *j = arg;
    cli_out *o = j->out;
    o->len = o->mem_len = 0;
    o->err = 0;
    /* gather on this thread: entries, index and attr records of the chunk.  Safe
     * on several threads because every entry is loaded and attr decoded first:
     * these calls then only read (their error paths, which write the reader's
     * message, cannot be reached: META loading refused articles out of range);
     * an article's location may be damaged, so its message comes back in j->msg. */
    for (size_t k = 0; k < j->n; k++) {
        uint64_t art;
        list_item *it = &j->items[k];
        int rrc = newsarc_reader_entry(j->r, j->first + k, &it->e, &art);
        if (!rrc) rrc = na_reader_article_msg(j->r, art, &it->ai, j->msg);
        if (!rrc && !j->human) rrc = newsarc_reader_text_info(j->r, art, &it->ti);
        if (rrc) {
            j->rrc = rrc;
            j->n = k;
        }
    }
    if (j->human) {
        na_buf wb = {0}, tb = {0};
        for (j->done = 0; j->done < j->n; j->done++) list_human(o, &j->items[j->done].e, &j->items[j->done].ai, &wb, &tb);
        na_buf_free(&wb);
        na_buf_free(&tb);
    }
    for (; j->done < j->n; j->done++) {
        size_t mark = o->mem_len + o->len;
        if (list_json(o, &j->items[j->done].e, &j->items[j->done].ai, &j->items[j->done].ti) != 0) {
            /* drop the bad entry's partial line */
            if (mark >= o->mem_len) o->len = mark - o->mem_len;
            else {
                o->mem_len = mark;
                o->len = 0;
            }
            j->rc = NEWSARC_E_CORRUPT;
            break;
        }
    }
    cli_out_flush(o);
    return NULL;
}

static int list_all(newsarc_reader *r, const char *path, uint64_t n, int threads, int human, int *write_err)
{
    int T = threads < 1 ? 1 : threads > CLI_MAX_JOBS ? CLI_MAX_JOBS : threads;
    list_item *items = malloc(sizeof *items * LIST_CHUNK * (size_t)T);
    cli_out *outs = calloc((size_t)T, sizeof *outs);
    static cli_out out;
    out.fd = 1;
    if (!items || !outs) {
        free(items);
        free(outs);
        cli_err("out of memory");
        return NEWSARC_E_NOMEM;
    }
    /* small archives still get one chunk per thread (and the tests the ordering) */
    size_t chunk = n / (4u * (unsigned)T) + 1;
    if (chunk < 16) chunk = 16;
    if (chunk > LIST_CHUNK) chunk = LIST_CHUNK;
    int rc = 0;
    /* text information decoded once, before the threads read it */
    newsarc_text_info ti0;
    int rrc = n && !human ? newsarc_reader_text_info(r, 0, &ti0) : 0;
    if (rrc) {
        cli_err("'%s': %s", path, newsarc_reader_error(r));
        rc = rrc;
    }
    for (uint64_t base = 0; base < n && !rc;) {
        list_job jobs[CLI_MAX_JOBS];
        int used = 0;
        for (; used < T && base < n; used++) {
            size_t m = n - base < chunk ? (size_t)(n - base) : chunk;
            outs[used].fd = -1;
            jobs[used] = (list_job){.r = r, .items = items + (size_t)used * chunk, .first = base, .n = m, .out = &outs[used],
                                    .human = human};
            base += m;
        }
        cli_run_jobs(list_format, jobs, sizeof *jobs, used);
        /* write in order, up to the first bad entry */
        for (int t = 0; t < used && !rc; t++) {
            if (jobs[t].out->err) {
                cli_err("out of memory");
                rc = NEWSARC_E_NOMEM;
                break;
            }
            cli_out_bytes(&out, jobs[t].out->mem, jobs[t].out->mem_len);
            if (jobs[t].rc) {
                cli_err("'%s': entry %llu has malformed metadata", path,
                        (unsigned long long)(jobs[t].first + jobs[t].done));
                rc = jobs[t].rc;
            } else if (jobs[t].rrc) {
                cli_err("'%s': %s", path, jobs[t].msg[0] ? jobs[t].msg : newsarc_reader_error(r));
                rc = jobs[t].rrc;
            }
        }
    }
    for (int t = 0; t < T; t++) free(outs[t].mem);
    free(outs);
    free(items);
    if (cli_out_flush(&out) != 0) *write_err = 1;
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
    uint64_t n = newsarc_reader_entry_count(r);
    int rc = newsarc_reader_load_entries(r, threads), write_err = 0;
    if (rc) cli_err("'%s': %s", path, newsarc_reader_error(r));
    else rc = list_all(r, path, n, threads, !json, &write_err);
    if ((write_err || fflush(stdout) != 0) && !rc) {
        cli_err("stdout: write error");
        newsarc_reader_free(r);
        return EXIT_USAGE;
    }
    newsarc_reader_free(r);
    return cli_exit_for(rc);
}
