/*
 * jsonentry.c - JSON objects <-> (article, metadata) entries.
 *
 * A JSON Lines object becomes one article plus metadata: the article is the
 * string value of the first present text member (maintext, text, content,
 * body, or a member the user names); the other members, in their original
 * order, are the metadata.  An object without a text member is kept whole:
 * the article is the exact line.  spec/FORMAT.md, "JSON entries".
 */
#include "internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>


static const char *const default_text_fields[] = {"maintext", "text", "content", "body"};
static const char *const placement_fields[] = {"url", "link", "source_url"};

void na_json_split_free(na_json_split *s)
{
    if (!s->in_arena) {
        free(s->meta);
        free(s->key);
        free(s->owned);
        free(s->place);
    }
    memset(s, 0, sizeof *s);
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, p, n);
    d[n] = 0;
    return d;
}

/* Compact JSON text of obj, or NULL meta for an empty object. */
static int dump_meta(json_t *obj, na_json_split *out)
{
    if (json_object_size(obj) == 0) return 0;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return NEWSARC_E_NOMEM;
    out->meta = s;
    out->meta_len = strlen(s);
    return 0;
}

int na_json_split_line(const char *line, size_t len, const char *text_field, na_json_split *out, char msg[NA_ERRMSG])
{
    return na_json_split_line_sc(line, len, text_field, out, msg, NULL);
}

int na_json_split_line_sc(const char *line, size_t len, const char *text_field, na_json_split *out,
                          char msg[NA_ERRMSG], na_json_scratch *sc)
{
    if (na_json_split_fast(line, len, text_field, out, sc) == 1) return 0;
    return na_json_split_tree(line, len, text_field, out, msg);
}

int na_json_split_tree(const char *line, size_t len, const char *text_field, na_json_split *out, char msg[NA_ERRMSG])
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    /* Objects jansson cannot hold exactly are kept whole (their exact
     * bytes): a member name used twice (a tree keeps one value), or an
     * integer beyond 64 bits.  Their listing metadata then comes from a
     * lenient parse, and numbers are left out of it when they overflowed. */
    int duplicate = !root && json_error_code(&jerr) == json_error_duplicate_key;
    if (duplicate) root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    int overflow = !root && json_error_code(&jerr) == json_error_numeric_overflow;
    if (overflow) root = json_loadb(line, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root) return na_set_error(msg, NEWSARC_E_INPUT, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    int force_whole = duplicate || overflow;
    if (!json_is_object(root)) {
        json_decref(root);
        return na_set_error(msg, NEWSARC_E_INPUT, "line is JSON but not an object");
    }
    int rc = 0;
    const char *key = NULL;
    json_t *text = NULL;
    size_t nfields = text_field ? 1 : sizeof default_text_fields / sizeof *default_text_fields;
    for (size_t i = 0; i < nfields && !text && !force_whole; i++) {
        const char *k = text_field ? text_field : default_text_fields[i];
        json_t *v = json_object_get(root, k);
        if (v && json_is_string(v)) {
            key = k;
            text = v;
        }
    }
    for (size_t i = 0; i < sizeof placement_fields / sizeof *placement_fields && !out->place; i++) {
        json_t *v = json_object_get(root, placement_fields[i]);
        if (v && json_is_string(v) && !(out->place = dup_bytes(json_string_value(v), strlen(json_string_value(v)))))
            rc = NEWSARC_E_NOMEM;
    }
    json_t *meta = json_object();
    if (!meta) rc = NEWSARC_E_NOMEM;
    const char *k;
    json_t *v;
    uint32_t pos = 0;
    json_object_foreach(root, k, v)
    {
        if (rc) break;
        if (text && strcmp(k, key) == 0) {
            out->key_pos = pos;
        } else if (text || (!json_is_object(v) && !json_is_array(v) && !(overflow && json_is_number(v)) &&
                            !(json_is_string(v) && json_string_length(v) > NA_WHOLE_META_MAX))) {
            /* WHOLE objects keep only short scalar members (title, url,
             * date...) as listing metadata: the article holds everything. */
            if (json_object_set(meta, k, v) != 0) rc = NEWSARC_E_NOMEM;
        }
        pos++;
    }
    if (!rc) rc = dump_meta(meta, out);
    if (!rc && text) {
        size_t tl = json_string_length(text);
        out->flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_TEXT_FIELD;
        out->owned = dup_bytes(json_string_value(text), tl);
        out->key = dup_bytes(key, strlen(key));
        if (!out->owned || !out->key) rc = NEWSARC_E_NOMEM;
        out->text = (const uint8_t *)out->owned;
        out->text_len = tl;
        out->key_len = key ? strlen(key) : 0;
    } else if (!rc) {
        out->flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_WHOLE;
        out->text = (const uint8_t *)line;
        out->text_len = len;
    }
    json_decref(meta);
    json_decref(root);
    if (rc) {
        na_json_split_free(out);
        return na_set_error(msg, rc, "%s", newsarc_strerror(rc));
    }
    return 0;
}

static int is_utf8(const uint8_t *p, size_t n)
{
    /* jansson validates UTF-8 in json_stringn; use it as the validator */
    json_t *t = json_stringn((const char *)p, n);
    if (!t) return 0;
    json_decref(t);
    return 1;
}

int newsarc_entry_to_json(const newsarc_entry *e, const void *article, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (e->flags & NEWSARC_ENTRY_WHOLE) {
        /* a whole object is one JSON line: a line feed inside can only come
         * from a crafted archive, and would split the output line */
        if (memchr(article, '\n', len)) return NEWSARC_E_CORRUPT;
        /* and it must be a JSON object (big integers read as reals only to check);
         * the checker without a tree answers first, jansson when it is not sure */
        int ok = na_json_object_valid(article, len);
        if (!ok) {
            json_error_t jerr;
            json_t *o = json_loadb(article, len, JSON_ALLOW_NUL, &jerr);
            if (!o && json_error_code(&jerr) == json_error_numeric_overflow)
                o = json_loadb(article, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &jerr);
            ok = o && json_is_object(o);
            json_decref(o);
        }
        if (!ok) return NEWSARC_E_CORRUPT;
        char *s = malloc(len + 1);
        if (!s) return NEWSARC_E_NOMEM;
        memcpy(s, article, len);
        s[len] = 0;
        *out = s;
        *out_len = len;
        return 0;
    }
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        /* metadata newsarc wrote (compact form): spliced without a tree */
        na_buf line = {0};
        int fast = na_json_text_line(e, article, len, &line);
        if (fast == 0 && na_buf_append(&line, "", 1) == 0) {
            *out = (char *)line.data;
            *out_len = line.len - 1;
            return 0;
        }
        na_buf_free(&line);
    }
    json_t *obj = json_object();
    if (!obj) return NEWSARC_E_NOMEM;
    int rc = 0;
    if (e->flags & NEWSARC_ENTRY_TEXT_FIELD) {
        json_t *meta = NULL;
        if (e->meta_len) {
            meta = json_loadb(e->meta, e->meta_len, JSON_ALLOW_NUL, NULL);
            if (!meta || !json_is_object(meta)) rc = NEWSARC_E_CORRUPT;
        }
        json_t *text = rc ? NULL : json_stringn((const char *)article, len);
        char *key = rc ? NULL : malloc(e->text_key_len + 1);
        if (!rc && (!text || !key)) rc = text ? NEWSARC_E_NOMEM : NEWSARC_E_CORRUPT;
        if (!rc) {
            memcpy(key, e->text_key, e->text_key_len);
            key[e->text_key_len] = 0;
            uint32_t pos = 0;
            const char *k;
            json_t *v;
            int placed = 0;
            if (meta) {
                json_object_foreach(meta, k, v)
                {
                    if (!placed && pos == e->text_pos) {
                        json_object_set(obj, key, text);
                        placed = 1;
                    }
                    json_object_set(obj, k, v);
                    pos++;
                }
            }
            if (!placed) json_object_set(obj, key, text);
        }
        free(key);
        json_decref(text);
        json_decref(meta);
    } else {
        if (e->name_len) {
            json_t *n = json_stringn(e->name, e->name_len);
            if (!n) rc = NEWSARC_E_CORRUPT;
            else json_object_set_new(obj, "name", n);
        }
        if (!rc && is_utf8(article, len)) {
            json_object_set_new(obj, "text", json_stringn((const char *)article, len));
        } else if (!rc) {
            size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = malloc(b64len);
            if (!b64) rc = NEWSARC_E_NOMEM;
            else {
                sodium_bin2base64(b64, b64len, article, len, sodium_base64_VARIANT_ORIGINAL);
                json_object_set_new(obj, "text_base64", json_string(b64));
                free(b64);
            }
        }
    }
    if (!rc) {
        char *s = json_dumps(obj, JSON_COMPACT);
        if (!s) rc = NEWSARC_E_NOMEM;
        else {
            *out = s;
            *out_len = strlen(s);
        }
    }
    json_decref(obj);
    return rc;
}
