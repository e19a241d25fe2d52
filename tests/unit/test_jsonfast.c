/*
 * lib/jsonfast.c against jansson: the fast paths may say "not sure", but
 * whenever they answer, the answer must be jansson's.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* When the checker says yes: jansson parses it, and dumps it back to the same bytes. */
static void check_claim(const char *s, size_t n)
{
    uint32_t members = 0;
    /* the one-walk check and member lookup answers exactly when the two-walk pair does, and the same */
    static const char *const keys[] = {"a", "url", "title", "b", "z", "maintext"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        uint32_t m1 = 0, m2 = 0;
        int has = -1, one = na_json_compact_object_has(s, n, &m1, keys[k], strlen(keys[k]), &has);
        int two = na_json_compact_object(s, n, &m2);
        int h2 = two ? na_json_compact_has(s, n, m2, keys[k], strlen(keys[k])) : -1;
        cr_assert_eq(one, two && h2 >= 0, "one walk says %d, two walks %d/%d on %.*s", one, two, h2, (int)n, s);
        if (one) cr_assert(m1 == m2 && has == h2, "member count or '%s' differs on %.*s", keys[k], (int)n, s);
    }
    /* the stop map (the default up to 4 KiB) and the string walks: the same answer and count */
    uint32_t mw = 0;
    na_jsonfast_map(0);
    int walk = na_json_compact_object(s, n, &mw);
    na_jsonfast_map(1);
    int map = na_json_compact_object(s, n, &members);
    cr_assert_eq(map, walk, "with the stop map %d, with the string walks %d, on %.*s", map, walk, (int)n, s);
    if (!map) return;
    cr_assert_eq(members, mw, "member count with the stop map and the string walks on %.*s", (int)n, s);
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &err);
    cr_assert(j && json_is_object(j), "claimed compact but jansson refuses: %.*s (%s)", (int)n, s, j ? "" : err.text);
    cr_assert_eq(json_object_size(j), members, "member count of %.*s", (int)n, s);
    char *d = json_dumps(j, JSON_COMPACT);
    cr_assert(d && strlen(d) == n && memcmp(d, s, n) == 0, "claimed compact, jansson writes %s for %.*s", d, (int)n, s);
    free(d);
    json_decref(j);
}

static const char *const canonical[] = {
    "{}",
    "{\"a\":1}",
    "{\"url\":\"https://x.org/a/b?c=1\",\"title\":\"\xd8\xae\xd8\xa8\xd8\xb1\",\"n\":-42,\"ok\":true,\"z\":null}",
    "{\"a\":[1,2,[3,{\"b\":false}],\"s\"],\"c\":{}}",
    "{\"esc\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001F \\u0000 / \x7f\"}",
    "{\"big\":123456789012345678,\"neg\":-123456789012345678,\"zero\":0}",
    "{\"emoji\":\"\xf0\x9f\x98\x80\",\"cjk\":\"\xe4\xb8\xad\"}",
    /* stops past the first 16 and 32 bytes of a string (the strings' 16-byte walk) */
    "{\"title\":\"\xd8\xae\xd8\xa8\xd8\xb1 \xd8\xae\xd8\xa8\xd8\xb1 \xd8\xae\xd8\xa8\xd8\xb1 \xd8\xae\xd8\xa8\xd8\xb1 "
    "q\\\" b\\\\ \\n \\u0001 \xe2\x80\x8c \xf0\x9f\x98\x80 0123456789abcdef0123456789abcdef\\t\",\"k\":\"0123456789abcdef0123456789abcdef\"}",
};

Test(jsonfast, canonical_objects_are_recognized)
{
    for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++) {
        uint32_t m;
        cr_expect(na_json_compact_object(canonical[i], strlen(canonical[i]), &m), "not recognized: %s", canonical[i]);
        check_claim(canonical[i], strlen(canonical[i]));
    }
}

Test(jsonfast, unsure_cases)
{
    static const char *const unsure[] = {
        "", "{", "[]", "{\"a\":1,}", "{\"a\" :1}", " {\"a\":1}", "{\"a\":1} ", "{\"a\":1.5}", "{\"a\":1e3}",
        "{\"a\":-0}", "{\"a\":01}", "{\"a\":1234567890123456789}", "{\"a\":\"\\u0041\"}", "{\"a\":\"\\u000a\"}",
        "{\"a\":\"\\u001f\"}", "{\"a\":\"\\/\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":1,\"a\":2}", "{\"\\u0000\":1}", "{\"a\":tru}", "{\"a\":[1,]}",
        "{\"a\":1}{", "{a:1}",
        /* a control byte, a bad sequence and an overlong one past the first 16 and 32 bytes of a string */
        "{\"a\":\"0123456789abcdef0123\x01 456789abcdef0123456789abcdef\"}",
        "{\"a\":\"0123456789abcdef0123456789abcdef01\x1f 456789abcdef0123456789abcdef\"}",
        "{\"a\":\"0123456789abcdef0123456789abcdef01\xd8 456789abcdef0123456789abcdef\"}",
        "{\"a\":\"0123456789abcdef\xc1\xbf 456789abcdef0123456789abcdef\"}",
        "{\"0123456789abcdef0123456789\n 0123456789abcdef0123456789\":1}",
        "{\"a\":\"0123456789abcdef0123456789\\u0041 0123456789abcdef0123456789\"}",
    };
    for (size_t i = 0; i < sizeof unsure / sizeof *unsure; i++)
        cr_expect(!na_json_compact_object(unsure[i], strlen(unsure[i]), NULL), "should be unsure: %s", unsure[i]);
}

/*
 * 300,000 objects of random tokens (up to maxk of them) and 100,000 seeds
 * with 1-3 bytes replaced, deleted or inserted, each given to check.
 */
static void run_differential(const char *const *tok, size_t ntok, uint32_t maxk, const char *const *seeds,
                             size_t nseeds, void (*check)(const char *, size_t))
{
    char s[512];
    for (int it = 0; it < 300000; it++) {
        size_t n = 0;
        s[n++] = '{';
        for (uint32_t t = 0, k = rnd(maxk); t < k; t++) {
            const char *w = tok[rnd((uint32_t)ntok)];
            size_t l = strlen(w);
            if (n + l + 2 >= sizeof s) break;
            memcpy(s + n, w, l);
            n += l;
        }
        s[n++] = '}';
        check(s, n);
    }
    for (int it = 0; it < 100000; it++) {
        const char *c = seeds[rnd((uint32_t)nseeds)];
        size_t n = strlen(c);
        memcpy(s, c, n);
        for (int f = 0, nf = 1 + (int)rnd(3); f < nf && n > 0; f++) {
            size_t at = rnd((uint32_t)n);
            switch (rnd(3)) {
            case 0: s[at] = (char)rnd(256); break;
            case 1: memmove(s + at, s + at + 1, n - at - 1); n--; break;
            default:
                if (n + 1 < sizeof s) {
                    memmove(s + at + 1, s + at, n - at);
                    s[at] = "{}[],:\"\\0a-.e\x80"[rnd(15)];
                    n++;
                }
            }
        }
        check(s, n);
    }
}

/* Random token soup and mutated canonical texts: every "yes" must be jansson's. */
Test(jsonfast, differential_against_jansson, .timeout = 60)
{
    static const char *const tok[] = {"{", "}", "[", "]", ",", ":", "\"a\"", "\"b\"", "\"\\u0000\"", "\"\\n\"",
                                      "\"\\u0001\"", "\"\xd8\xa7\"", "1", "-7", "0", "true", "false", "null", "\"x\"",
                                      "1.0", "\"\\\"\"", "\"\x7f\"", "\"\\u00e9\"", "\"\\/\""};
    run_differential(tok, sizeof tok / sizeof *tok, 14, canonical, sizeof canonical / sizeof *canonical, check_claim);
}

/* The JSON line of a TEXT_FIELD entry, built with jansson (the reference). */
static char *reference_line(const newsarc_entry *e, const void *text, size_t len)
{
    json_t *meta = e->meta_len ? json_loadb(e->meta, e->meta_len, JSON_ALLOW_NUL, NULL) : NULL;
    json_t *t = json_stringn(text, len), *obj = json_object();
    if (!t || (e->meta_len && !meta)) {
        json_decref(t);
        json_decref(meta);
        json_decref(obj);
        return NULL;
    }
    char key[64];
    cr_assert_lt(e->text_key_len, sizeof key, "test keys are short");
    memcpy(key, e->text_key, e->text_key_len);
    key[e->text_key_len] = 0;
    uint32_t pos = 0;
    int placed = 0;
    const char *k;
    json_t *v;
    if (meta) {
        json_object_foreach(meta, k, v)
        {
            if (!placed && pos == e->text_pos) {
                json_object_set(obj, key, t);
                placed = 1;
            }
            json_object_set(obj, k, v);
            pos++;
        }
    }
    if (!placed) json_object_set(obj, key, t);
    char *d = json_dumps(obj, JSON_COMPACT);
    json_decref(t);
    json_decref(meta);
    json_decref(obj);
    return d;
}

Test(jsonfast, text_lines_match_jansson)
{
    static const char *const metas[] = {"", "{}", "{\"url\":\"u\"}", "{\"url\":\"u\",\"title\":\"t\",\"n\":[1,{\"x\":null}]}",
                                        "{\"maintext\":\"already here\"}", "{\"a\":1.5,\"b\":2}"};
#define LIT(s) {s, sizeof s - 1}
    static const struct {
        const char *s;
        size_t n;
    } texts[] = {LIT("plain"), LIT(""), LIT("q\" b\\ \n\t\r\b\f \x01\x1f \x7f /"),
                 LIT("\xd8\xa7\xd9\x84\xd8\xae\xd8\xa8\xd8\xb1 \xf0\x9f\x98\x80"), LIT("bad \xff utf8"),
                 LIT("nul \0 inside")};
#undef LIT
    static const char *const keys[] = {"maintext", "m\"k\tx", "\xd9\x85\xd8\xaa\xd9\x86"};
    for (size_t kk = 0; kk < sizeof keys / sizeof *keys; kk++)
    for (size_t m = 0; m < sizeof metas / sizeof *metas; m++)
        for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
            for (uint32_t pos = 0; pos < 5; pos++) {
                newsarc_entry e = {.flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_TEXT_FIELD,
                                   .meta = metas[m],
                                   .meta_len = strlen(metas[m]),
                                   .text_key = keys[kk],
                                   .text_key_len = strlen(keys[kk]),
                                   .text_pos = pos};
                na_buf out = {0};
                int fast = na_json_text_line(&e, texts[t].s, texts[t].n, &out);
                char *ref = reference_line(&e, texts[t].s, texts[t].n);
                if (fast == 0) {
                    cr_assert(ref, "fast path wrote a line jansson refuses (meta %s, text %zu)", metas[m], t);
                    cr_expect(out.len == strlen(ref) && memcmp(out.data, ref, out.len) == 0,
                              "meta %s text %zu pos %u: fast %.*s, jansson %s", metas[m], t, pos, (int)out.len,
                              (const char *)out.data, ref);
                } else {
                    cr_expect_eq(out.len, 0, "declined but left bytes");
                }
                /* the fast path must take the ordinary cases */
                if (m < 4 && t != 4 && kk != 1)
                    cr_expect_eq(fast, 0, "meta %s text %zu pos %u: not taken", metas[m], t, pos);
                if (kk == 1) cr_expect_eq(fast, 1, "a key that needs escaping is left to jansson");
                /* and the public function gives jansson's line either way */
                char *js = NULL;
                size_t jl = 0;
                int rc = newsarc_entry_to_json(&e, texts[t].s, texts[t].n, &js, &jl);
                if (ref) cr_expect(rc == 0 && jl == strlen(ref) && !memcmp(js, ref, jl), "entry_to_json differs: %s", ref);
                else cr_expect_neq(rc, 0, "entry_to_json wrote a line jansson refuses");
                free(js);
                free(ref);
                na_buf_free(&out);
            }
}

Test(jsonfast, put_string_appends_nothing_on_failure)
{
    na_buf out = {0};
    cr_assert_eq(na_buf_append(&out, "x", 1), 0);
    cr_expect_eq(na_json_put_string(&out, "ab\xff", 3), -1);
    cr_expect_eq(out.len, 1, "partial string left behind");
    na_buf_free(&out);
}

Test(jsonfast, utf8_validation_matches_jansson)
{
    uint8_t s[16];
    for (int it = 0; it < 200000; it++) {
        size_t n = 1 + rnd(sizeof s);
        for (size_t i = 0; i < n; i++) s[i] = (uint8_t)(rnd(4) ? 0x80 + rnd(0x80) : rnd(0x80));
        json_t *j = json_stringn((const char *)s, n);
        cr_assert_eq(na_utf8_valid(s, n), j != NULL, "utf8 verdict differs from jansson on %zu bytes", n);
        json_decref(j);
    }
}

/* Strict UTF-8 the plain way (Unicode 15, table 3-7), to check the vector walks against. */
static int utf8_reference(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], lo = 0x80, hi = 0xBF;
        size_t l;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC2) return 0;
        if (c < 0xE0) l = 2;
        else if (c < 0xF0) {
            l = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c < 0xF5) {
            l = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return 0;
        if (n - i < l || p[i + 1] < lo || p[i + 1] > hi) return 0;
        for (size_t k = 2; k < l; k++)
            if ((p[i + k] & 0xC0) != 0x80) return 0;
        i += l;
    }
    return 1;
}

/*
 * Every lead byte, with second, third and fourth bytes from each class
 * that decides anything, placed across the 32- and 64-byte edges of the
 * vector walks, after ASCII (the ASCII shortcut, then a cut sequence) or
 * after Chinese text (the full check), with and without text after it:
 * na_utf8_valid and na_json_put_string against utf8_reference, on every
 * walk this CPU has.
 */
Test(jsonfast, utf8_sequences_across_vector_edges, .timeout = 120)
{
    static const uint8_t second[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xAF, 0xB0,
                                     0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
    static const uint8_t later[] = {0x41, 0x80, 0xA0, 0xBF, 0xE4};
    static const size_t at[] = {30, 61, 62, 63};
    uint8_t s[200];
    na_buf out = {0};
    long valid = 0, invalid = 0;
    int top = na_jsonfast_simd(2);
    for (int level = top; level >= 1; level--) {
        cr_assert_eq(na_jsonfast_simd(level), level);
        for (int cjk = 0; cjk < 2; cjk++)
            for (size_t ai = 0; ai < sizeof at / sizeof *at; ai++)
                for (int tail = 0; tail < 2; tail++)
                    for (unsigned b0 = 0; b0 < 256; b0++)
                        for (size_t i1 = 0; i1 < sizeof second; i1++)
                            for (size_t i2 = 0; i2 < sizeof later * sizeof later; i2++) {
                                size_t pos = at[ai], n = 0;
                                while (n < pos) /* filler up to pos: ASCII, or 3-byte characters and ASCII */
                                    if (cjk && pos - n >= 3 && n % 4 != 3) {
                                        memcpy(s + n, "\xe4\xb8\xad", 3);
                                        n += 3;
                                    } else
                                        s[n++] = 'a';
                                s[n++] = (uint8_t)b0;
                                s[n++] = second[i1];
                                s[n++] = later[i2 % sizeof later];
                                s[n++] = later[i2 / sizeof later];
                                if (tail) {
                                    memset(s + n, 'z', 100); /* the next 64 bytes may be ASCII */
                                    memcpy(s + n + 100, "\xd8\xa7\xe4\xb8\xad", 5);
                                    n += 105;
                                }
                                int want = utf8_reference(s, n);
                                cr_assert_eq(na_utf8_valid(s, n), want,
                                             "walk %d: %02x %02x %02x %02x at %zu (filler %d, tail %d)", level, b0,
                                             second[i1], later[i2 % sizeof later], later[i2 / sizeof later], pos, cjk, tail);
                                if (b0 < 0x20 || b0 == '"' || b0 == '\\') continue; /* escaped: another path */
                                out.len = 0;
                                cr_assert_eq(na_json_put_string(&out, (const char *)s, n) == 0, want,
                                             "walk %d, string: %02x %02x at %zu", level, b0, second[i1], pos);
                                if (want) valid++;
                                else invalid++;
                            }
    }
    na_jsonfast_simd(2);
    na_buf_free(&out);
    cr_expect_gt(valid, 1000);
    cr_expect_gt(invalid, 1000);
}

/*
 * Long, mostly valid strings, so that the 16- and 8-byte fast paths run
 * over many alignments and stop at every kind of sequence: UTF-8 verdicts
 * and escaped forms against jansson's.
 */
Test(jsonfast, long_strings_match_jansson, .timeout = 60)
{
    static const char *const pal[] = {
        "a", "Z", " ", "0", "/", "\x7f",           /* ASCII */
        "\xd8\xa7", "\xd9\x84", "\xdb\x8c", "\xc2\x80", "\xdf\xbf", /* 2 bytes: Arabic, Persian, edges */
        "\xe2\x80\x8c", "\xe4\xb8\xad", "\xef\xbb\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", /* 3 bytes */
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", /* 4 bytes */
        "\"", "\\", "\n", "\x01", "\x1f",         /* escaped */
    };
    static const char *const broken[] = {
        "\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xc2", "\xdf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf5\x80\x80\x80",
        "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xff", "\xe4\xb8", "\xd8\xa7\xa7",
    };
    const size_t np = sizeof pal / sizeof *pal, nb = sizeof broken / sizeof *broken;
    char s[420];
    int checked_valid = 0, checked_invalid = 0;
    /* every vector walk this CPU has (AVX2, SSE2), against the same reference */
    int top = na_jsonfast_simd(2);
    for (int level = top; level >= 1; level--)
    for (int it = 0; it < 40000; it++) {
        if (it == 0) cr_assert_eq(na_jsonfast_simd(level), level, "walk %d", level);
        size_t n = 0, want = 1 + rnd(it % 2 ? 150 : 400);
        int mode = (int)rnd(4); /* 0 ASCII, 1 ASCII + 2-byte, 2 everything, 3 like 1 with escapes */
        while (n < want) {
            const char *piece;
            if (rnd(200) == 0) piece = broken[rnd((uint32_t)nb)];
            else if (mode == 0) piece = pal[rnd(6)];
            else if (mode == 1) piece = pal[rnd(11)];
            else if (mode == 3) piece = pal[rnd(30) ? rnd(11) : 18 + rnd(5)];
            else piece = pal[rnd((uint32_t)np)];
            size_t l = strlen(piece);
            if (n + l > sizeof s) break;
            memcpy(s + n, piece, l);
            n += l;
        }
        size_t off = rnd(16); /* the same string at another alignment */
        char *at = malloc(n + off + 1);
        memcpy(at + off, s, n);
        const char *t = at + off;
        json_t *j = json_stringn(t, n);
        cr_assert_eq(na_utf8_valid(t, n), j != NULL, "utf8 verdict differs from jansson on %zu bytes", n);
        na_buf out = {0};
        int rc = na_json_put_string(&out, t, n);
        if (j) {
            char *d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
            cr_assert_eq(rc, 0);
            cr_assert(d && out.len == strlen(d) && !memcmp(out.data, d, out.len), "escaped form differs from jansson's");
            free(d);
            checked_valid++;
        } else {
            cr_assert_eq(rc, -1, "invalid UTF-8 escaped as if valid");
            checked_invalid++;
        }
        na_buf_free(&out);
        json_decref(j);
        free(at);
    }
    na_jsonfast_simd(2);
    cr_expect_gt(checked_valid, 20000 * top);
    cr_expect_gt(checked_invalid, 5000 * top);
}

Test(jsonfast, plain_runs_stop_in_time)
{
    unsigned char s[120];
    for (int it = 0; it < 200000; it++) {
        size_t n = 1 + rnd(sizeof s), i = rnd((uint32_t)n);
        int ascii = (int)rnd(2);
        for (size_t k = 0; k < n; k++) {
            uint32_t r = rnd(100);
            s[k] = (unsigned char)(r < 2 ? (uint32_t)(unsigned char)"\"\\"[r] : r < 4 ? rnd(0x20) : r < 20 ? 0x80 + rnd(0x80) : 0x20 + rnd(0x60));
        }
        size_t ref = i;
        while (ref < n && !(s[ref] == '"' || s[ref] == '\\' || s[ref] < 0x20 || (ascii && s[ref] >= 0x80))) ref++;
        size_t got = na_json_plain_run(s, n, i, ascii);
        cr_assert(got >= i && got <= ref, "run from %zu stops at %zu, past the byte at %zu", i, got, ref);
        cr_assert(ref - got < 16 || n - got < 16, "run from %zu stops at %zu, long before %zu", i, got, ref);
    }
}

Test(jsonfast, string_members_match_jansson)
{
    static const char *const keys[] = {"url", "title", "esc", "a", "n", "ok", "missing", "emoji"};
    for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++) {
        const char *s = canonical[i];
        uint32_t members;
        cr_assert(na_json_compact_object(s, strlen(s), &members));
        json_t *j = json_loadb(s, strlen(s), JSON_ALLOW_NUL, NULL);
        cr_assert(j);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            na_buf b = {0};
            int r = na_json_compact_string(s, strlen(s), members, keys[k], &b);
            json_t *v = json_object_get(j, keys[k]);
            if (v && json_is_string(v)) {
                cr_expect_eq(r, 1, "%s in %s", keys[k], s);
                cr_expect(b.len == json_string_length(v) && (b.len == 0 || !memcmp(b.data, json_string_value(v), b.len)),
                          "%s in %s: decoded value differs", keys[k], s);
            } else {
                cr_expect_eq(r, 0, "%s in %s: not a string member", keys[k], s);
            }
            na_buf_free(&b);
        }
        json_decref(j);
    }
}

/* Objects stored whole: when the checker says valid, jansson must load them. */
static void check_valid_claim(const char *s, size_t n)
{
    if (!na_json_object_valid(s, n)) return;
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &err);
    if (!j && json_error_code(&err) == json_error_numeric_overflow)
        j = json_loadb(s, n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &err);
    cr_assert(j && json_is_object(j), "claimed valid but jansson refuses: %.*s (%s)", (int)n, s, j ? "not an object" : err.text);
    json_decref(j);
}

Test(jsonfast, whole_objects_against_jansson, .timeout = 60)
{
    static const char *const ok[] = {
        "{}", " { } ", "{\"a\": 1, \"b\" : [true, false, null], \"c\": {\"d\": \"e\"}}\r",
        "{\"n\": -0.5e-10, \"m\": 12345678901234567, \"u\": \"\\u00e9\\ud83d\\ude00\\/\", \"z\": \"\\u0000\"}",
        "{\"dup\": 1, \"dup\": 2}", "{\"ar\": \"\xd8\xae\xd8\xa8\xd8\xb1\"}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        cr_expect(na_json_object_valid(ok[i], strlen(ok[i])), "not recognized: %s", ok[i]);
        check_valid_claim(ok[i], strlen(ok[i]));
    }
    static const char *const unsure[] = {"[]", "{", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1e400}", "{\"a\":\"\\ud800\"}",
                                         "{\"a\":\"\\x\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc0\x80\"}", "{a:1}", "{\"a\":1} x",
                                         "{\"a\":.5}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}"};
    for (size_t i = 0; i < sizeof unsure / sizeof *unsure; i++)
        cr_expect(!na_json_object_valid(unsure[i], strlen(unsure[i])), "should be unsure: %s", unsure[i]);
    static const char *const tok[] = {"{", "}", "[", "]", ",", ":", " ", "\t", "\"a\"", "\"b\"", "\"\\u00e9\"",
                                      "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "1", "-7", "0", "1.5", "2e10", "-0.0E+5",
                                      "true", "false", "null", "\"\xd8\xa7\"", "\"\\/\"", "\"\\u0000\"", "01", "1e999"};
    run_differential(tok, sizeof tok / sizeof *tok, 16, ok, sizeof ok / sizeof *ok, check_valid_claim);
}

/*
 * The stop map against the string walks at every vector level: a piece
 * (sequences valid and broken, escapes, stops) at every offset around the
 * first three 64-byte chunks of an object, and objects of 4095-4097 bytes
 * (the map's limit) with the piece near their end.
 */
Test(jsonfast, stop_map_matches_the_string_walks, .timeout = 60)
{
    static const char *const piece[] = {"\xd8\xa7", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\n",
                                        "\\u0001", "\x80", "\xc2", "\xe4\xb8", "\xf0\x9f\x98", "\xed\xa0\x80",
                                        "\xc0\xaf", "\"", "\\", "\x01", "\x7f", "a", "\xd8\xa7\xd8"};
    static char s[4200];
    long yes = 0, no = 0;
    int top = na_jsonfast_simd(2);
    for (int level = top; level >= 1; level--) {
        cr_assert_eq(na_jsonfast_simd(level), level);
        for (size_t pi = 0; pi < sizeof piece / sizeof *piece; pi++)
            for (size_t at = 6; at < 200 + 3 * 4; at++) {
                int big = at >= 200;
                size_t pos = big ? 4096 - 12 + (at - 200) : at, n = 0;
                n += (size_t)sprintf(s, "{\"k\":\"");
                while (n < pos) { /* filler: Arabic letters where two bytes fit, else ASCII */
                    if (pos - n >= 2 && n % 5 != 0) {
                        memcpy(s + n, "\xd9\x84", 2);
                        n += 2;
                    } else
                        s[n++] = 'x';
                }
                size_t l = strlen(piece[pi]);
                memcpy(s + n, piece[pi], l);
                n += l;
                n += (size_t)sprintf(s + n, "\",\"t\":%d}", (int)(at % 3));
                uint32_t m1 = 0, m0 = 0;
                int has1 = -1, has0 = -1;
                na_jsonfast_map(1);
                int r1 = na_json_compact_object_has(s, n, &m1, "t", 1, &has1);
                na_jsonfast_map(0);
                int r0 = na_json_compact_object_has(s, n, &m0, "t", 1, &has0);
                na_jsonfast_map(1);
                cr_assert_eq(r1, r0, "level %d, piece %zu at %zu (%zu bytes): map %d, walks %d", level, pi, pos, n, r1, r0);
                if (r1) cr_assert(m1 == m0 && has1 == has0 && has1 == 1, "level %d, piece %zu at %zu: count or member", level, pi, pos);
                if (r1) yes++;
                else no++;
            }
    }
    na_jsonfast_simd(2);
    cr_expect_gt(yes, 2000);
    cr_expect_gt(no, 2000);
    /* values nested up to the depth limit and past it: the same verdict both ways */
    for (int d = 60; d <= 66; d++) {
        size_t n = (size_t)sprintf(s, "{\"a\":");
        for (int k = 1; k < d; k++) s[n++] = k % 2 ? '[' : '{', n += k % 2 ? 0 : (size_t)sprintf(s + n, "\"b\":");
        s[n++] = '1';
        for (int k = d - 1; k >= 1; k--) s[n++] = k % 2 ? ']' : '}';
        s[n++] = '}';
        uint32_t m1 = 0, m0 = 0;
        na_jsonfast_map(1);
        int r1 = na_json_compact_object(s, n, &m1);
        na_jsonfast_map(0);
        int r0 = na_json_compact_object(s, n, &m0);
        na_jsonfast_map(1);
        cr_assert_eq(r1, r0, "depth %d: map %d, walks %d: %.*s", d, r1, r0, (int)n, s);
        if (d == 60) cr_assert_eq(r1, 1, "depth 60 is compact: %.*s", (int)n, s);
        if (d == 66) cr_assert_eq(r1, 0, "depth 66 is past the limit");
    }
}
