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

static int list_json(newsarc_reader *r, const newsarc_entry *e, uint64_t art, const newsarc_article_info *ai)
{
    char hex[NEWSARC_ID_HEX_SIZE + 1];
    newsarc_id_to_hex(hex, ai->id);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(hex));
    json_object_set_new(o, "size", json_integer((json_int_t)ai->size));
    if (e->name_len) {
        json_t *n = json_stringn(e->name, e->name_len);
        if (!n) {
            json_decref(o);
            return NEWSARC_E_CORRUPT;
        }
        json_object_set_new(o, "name", n);
    }
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        json_t *k = json_stringn(e->text_key, e->text_key_len);
        if (!k) {
            json_decref(o);
            return NEWSARC_E_CORRUPT;
        }
        json_object_set_new(o, "text_field", k);
    }
    if (e->flags & NEWSARC_ENTRY_WHOLE) json_object_set_new(o, "whole", json_true());
    json_t *m = parse_meta(e);
    if (e->meta_len && !m) {
        json_decref(o);
        return NEWSARC_E_CORRUPT;
    }
    if (m) json_object_set_new(o, "meta", m);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) return NEWSARC_E_NOMEM;
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    (void)r;
    (void)art;
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
            rc = list_json(r, &e, art, &ai);
            if (rc) cli_err("'%s': entry %llu has malformed metadata", path, (unsigned long long)i);
        } else {
            list_human(&e, &ai);
        }
    }
    if (fflush(stdout) != 0 && !rc) {
        cli_err("stdout: write error");
        newsarc_reader_free(r);
        return EXIT_USAGE;
    }
    newsarc_reader_free(r);
    return cli_exit_for(rc);
}
