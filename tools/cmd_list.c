/*
 * cmd_list.c - newsarc list [--json] ARCHIVE.  Reads only the metadata and
 * index sections, never a block.  Human output is terminal-safe (control,
 * escape and bidi characters shown escaped); --json is exact JSON Lines.
 */
#include "cli.h"

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

/* Text information: norm_id, script, and the charset evidence when the bytes are not plain UTF-8. */
static void list_text_info(cli_out *o, const newsarc_text_info *t)
{
    if (!t->present) return;
    cli_out_str(o, t->valid_utf8 ? ",\"utf8\":true" : ",\"utf8\":false");
    if (t->script[0]) put_str_member(o, "script", t->script);
    if (t->has_norm_id) {
        char hex[NEWSARC_ID_HEX_SIZE + 1];
        newsarc_id_to_hex(hex, t->norm_id);
        put_str_member(o, "norm_id", hex);
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
    /* ids are public: a table beats libsodium's constant-time hex 3:1 here,
     * which matters at a million lines */
    static const char digits[] = "0123456789abcdef";
    char hex[NEWSARC_ID_HEX_SIZE], num[32];
    for (int k = 0; k < NEWSARC_ID_SIZE; k++) {
        hex[2 * k] = digits[ai->id[k] >> 4];
        hex[2 * k + 1] = digits[ai->id[k] & 15];
    }
    if (e->meta_len && cli_json_object_guard(e->meta, e->meta_len) != 0) return NEWSARC_E_CORRUPT;
    cli_out_bytes(o, "{\"id\":\"", 7);
    cli_out_bytes(o, hex, NEWSARC_ID_HEX_SIZE);
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

static void list_human(const newsarc_entry *e, const newsarc_article_info *ai)
{
    static const char *const where_keys[] = {"url", "link", "source_url"};
    static const char *const title_keys[] = {"title", "headline"};
    char hex[NEWSARC_ID_HEX_SIZE + 1];
    newsarc_id_to_hex(hex, ai->id);
    printf("%.12s  %9llu  ", hex, (unsigned long long)ai->size);
    json_t *m = parse_meta(e);
    size_t wl, tl;
    const char *where = e->name_len ? e->name : meta_str(m, where_keys, 3, &wl);
    if (e->name_len) wl = e->name_len;
    const char *title = meta_str(m, title_keys, 2, &tl);
    if (where) cli_put_safe(stdout, where, wl);
    else fputs("-", stdout);
    if (title) {
        fputs("  ", stdout);
        cli_put_safe(stdout, title, tl > 200 ? 200 : tl);
    }
    fputc('\n', stdout);
    json_decref(m);
}

int cmd_list(int argc, char **argv)
{
    static const struct option lopts[] = {{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
        if (c == 'j') json = 1;
        else if (c == 'h') {
            printf("usage: newsarc list [--json] ARCHIVE\n"
                   "  one line per entry: short id, size, name (or url), title\n"
                   "  --json  JSON Lines: id, size, name, text_field, whole, meta\n");
            return EXIT_OK;
        } else {
            fprintf(stderr, "usage: newsarc list [--json] ARCHIVE\n");
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: newsarc list [--json] ARCHIVE\n");
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    int code;
    newsarc_reader *r = cli_open(path, &code);
    if (!r) return code;
    uint64_t n = newsarc_reader_entry_count(r);
    static cli_out out;
    out.fd = 1;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        newsarc_entry e;
        uint64_t art;
        newsarc_article_info ai;
        rc = newsarc_reader_entry(r, i, &e, &art);
        if (!rc) rc = newsarc_reader_article(r, art, &ai);
        if (rc) {
            cli_err("'%s': %s", path, newsarc_reader_error(r));
            break;
        }
        if (json) {
            newsarc_text_info ti;
            rc = newsarc_reader_text_info(r, art, &ti);
            if (rc) {
                cli_err("'%s': %s", path, newsarc_reader_error(r));
                break;
            }
            rc = list_json(&out, &e, &ai, &ti);
            if (rc) cli_err("'%s': entry %llu has malformed metadata", path, (unsigned long long)i);
        } else {
            list_human(&e, &ai);
        }
    }
    if ((cli_out_flush(&out) != 0 || fflush(stdout) != 0) && !rc) {
        cli_err("stdout: write error");
        newsarc_reader_free(r);
        return EXIT_USAGE;
    }
    newsarc_reader_free(r);
    return cli_exit_for(rc);
}
