/* JSON line -> article + metadata rules (spec/FORMAT.md, "JSON entries"). */
#include "internal.h"

#include <criterion/criterion.h>
#include <string.h>

static na_json_split split(const char *line, const char *field)
{
    na_json_split s;
    char msg[NA_ERRMSG];
    int rc = na_json_split_line(line, strlen(line), field, &s, msg);
    cr_assert_eq(rc, 0, "%s: %s", line, msg);
    return s;
}

Test(jsonentry, text_member_priority)
{
    na_json_split s = split("{\"body\":\"B\",\"content\":\"C\",\"text\":\"T\",\"maintext\":\"M\"}", NULL);
    cr_expect_eq(s.text_len, 1);
    cr_expect_eq(s.text[0], 'M');
    cr_expect_str_eq(s.key, "maintext");
    cr_expect_eq(s.key_pos, 3);
    cr_expect_str_eq(s.meta, "{\"body\":\"B\",\"content\":\"C\",\"text\":\"T\"}");
    na_json_split_free(&s);
    s = split("{\"content\":\"C\",\"body\":\"B\"}", NULL);
    cr_expect_str_eq(s.key, "content");
    na_json_split_free(&s);
}

Test(jsonentry, non_string_text_is_skipped)
{
    na_json_split s = split("{\"maintext\":null,\"text\":\"real\"}", NULL);
    cr_expect_str_eq(s.key, "text");
    cr_expect_str_eq(s.meta, "{\"maintext\":null}");
    na_json_split_free(&s);
}

Test(jsonentry, user_text_field)
{
    na_json_split s = split("{\"text\":\"t\",\"article_body\":\"A\"}", "article_body");
    cr_expect_str_eq(s.key, "article_body");
    cr_expect_eq(s.key_pos, 1);
    na_json_split_free(&s);
    /* the named member missing: stored whole, not taken from the defaults */
    s = split("{\"text\":\"t\"}", "article_body");
    cr_expect(s.flags & NEWSARC_ENTRY_WHOLE);
    na_json_split_free(&s);
}

Test(jsonentry, whole_object_keeps_exact_line)
{
    const char *line = "{ \"paragraphs\" : [\"a\", \"b\"], \"title\": \"x\", \"n\": 1e3 }";
    na_json_split s = split(line, NULL);
    cr_expect(s.flags & NEWSARC_ENTRY_WHOLE);
    cr_expect_eq(s.text_len, strlen(line));
    cr_expect(!memcmp(s.text, line, s.text_len));
    cr_expect_str_eq(s.meta, "{\"title\":\"x\",\"n\":1000.0}", "scalars are listed in meta");
    na_json_split_free(&s);
}

Test(jsonentry, placement_key_from_url)
{
    na_json_split s = split("{\"text\":\"t\",\"link\":\"L\",\"url\":\"U\"}", NULL);
    cr_expect_str_eq(s.place, "U");
    na_json_split_free(&s);
}

Test(jsonentry, errors)
{
    na_json_split s;
    char msg[NA_ERRMSG];
    cr_expect_eq(na_json_split_line("{", 1, NULL, &s, msg), NEWSARC_E_INPUT);
    cr_expect_eq(na_json_split_line("\"str\"", 5, NULL, &s, msg), NEWSARC_E_INPUT);
    cr_expect_eq(na_json_split_line("{} {}", 5, NULL, &s, msg), NEWSARC_E_INPUT);
    cr_expect_eq(na_json_split_line("{\"text\":\"\xff\"}", 11, NULL, &s, msg), NEWSARC_E_INPUT, "invalid UTF-8");
}

Test(jsonentry, rebuild_inserts_text_at_its_position)
{
    newsarc_entry e = {0};
    e.flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_TEXT_FIELD;
    e.meta = "{\"a\":1,\"b\":[true,null]}";
    e.meta_len = strlen(e.meta);
    e.text_key = "text";
    e.text_key_len = 4;
    e.text_pos = 1;
    char *out;
    size_t n;
    cr_assert_eq(newsarc_entry_to_json(&e, "hi\n", 3, &out, &n), 0);
    cr_expect_str_eq(out, "{\"a\":1,\"text\":\"hi\\n\",\"b\":[true,null]}");
    newsarc_free(out);
    e.text_pos = 2; /* at the end */
    cr_assert_eq(newsarc_entry_to_json(&e, "hi", 2, &out, &n), 0);
    cr_expect_str_eq(out, "{\"a\":1,\"b\":[true,null],\"text\":\"hi\"}");
    newsarc_free(out);
}

Test(jsonentry, file_entries_as_json)
{
    newsarc_entry e = {0};
    e.name = "d/x.txt";
    e.name_len = 7;
    char *out;
    size_t n;
    cr_assert_eq(newsarc_entry_to_json(&e, "caf\xc3\xa9", 5, &out, &n), 0);
    cr_expect_str_eq(out, "{\"name\":\"d/x.txt\",\"text\":\"caf\xc3\xa9\"}");
    newsarc_free(out);
    cr_assert_eq(newsarc_entry_to_json(&e, "\xa3", 1, &out, &n), 0);
    cr_expect_str_eq(out, "{\"name\":\"d/x.txt\",\"text_base64\":\"ow==\"}");
    newsarc_free(out);
}

/* Pack pass 2 reads articles back without a tree: the same bytes as jansson. */
Test(jsonentry, fast_text_matches_jansson)
{
    static const char *const lines[] = {
        "{\"maintext\":\"plain\"}",
        " { \"url\" : \"u\" , \"maintext\" : \"spaced\" } ",
        "{\"a\":{\"maintext\":\"nested, not this\",\"x\":[1,{\"y\":\"}\"}]},\"maintext\":\"top\"}",
        "{\"t\":\"\\\"maintext\\\":\\\"in a string\\\"\",\"maintext\":\"real\"}",
        "{\"maintext\":\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"}",
        "{\"maintext\":\"\\u0041\\u00e9\\u0627\\u20ac \\ud83d\\ude00 \\u0000 nul\"}",
        "{\"n\":-1.5e3,\"b\":true,\"z\":null,\"arr\":[\"a\\\"]\",[]],\"maintext\":\"after scalars\"}",
        "{\"ma\\u0069ntext\":\"escaped member name\"}",
        "{\"maintext\":\"\"}",
        "{\"maintext\":\"long run of plain bytes without any escape at all, longer than eight\"}",
        "{\"maintext\":\"\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 UTF-8\"}",
        "{\"maintext\":null,\"text\":\"second choice\"}",
        "\t{\"text\":\"tab before\"}\r\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        na_json_split s = split(lines[i], NULL);
        cr_assert(s.flags & NEWSARC_ENTRY_TEXT_FIELD, "%s", lines[i]);
        na_buf out = {0};
        cr_assert_eq(na_buf_append(&out, "pre", 3), 0); /* appends after what is there */
        int rc = na_json_text_fast(lines[i], strlen(lines[i]), s.key, &out);
        cr_expect_eq(rc, 0, "fast path failed on %s", lines[i]);
        cr_expect_eq(out.len, 3 + s.text_len, "%s", lines[i]);
        cr_expect(out.len == 3 + s.text_len && memcmp(out.data + 3, s.text, s.text_len) == 0, "%s", lines[i]);
        na_buf_free(&out);
        na_json_split_free(&s);
    }
}

Test(jsonentry, fast_text_refuses_what_it_cannot_read)
{
    static const char *const bad[] = {
        "[\"maintext\",\"x\"]",          /* not an object */
        "{\"text\":\"no such member\"}", /* member missing */
        "{\"maintext\":1}",              /* not a string */
        "{\"maintext\":\"unterminated",  /* truncated */
        "{\"maintext\":\"bad \\x escape\"}",
        "{\"maintext\":\"lone \\udc00 low\"}",
        "{\"maintext\":\"lone \\ud800 high\"}",
        "{\"maintext\":\"short \\u12\"}",
        "{\"a\":{\"b\":\"unclosed\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        na_buf out = {0};
        cr_expect_eq(na_json_text_fast(bad[i], strlen(bad[i]), "maintext", &out), -1, "%s", bad[i]);
        cr_expect_eq(out.len, 0, "%s: output left behind", bad[i]);
        na_buf_free(&out);
    }
}

/* ---- the split without a tree against jansson's (lib/jsonfast.c na_json_split_fast) ---------- */

Test(jsonentry, arena_blocks_are_kept_and_reused)
{
    na_arena a = {0};
    uint8_t *first = na_arena_alloc(&a, 10);
    cr_assert(first);
    uint8_t *p[200];
    for (int i = 0; i < 200; i++) { /* sizes across the 32 KiB block, some larger than a block */
        size_t n = (size_t)(i * 997 % 5000) + (i % 50 == 7 ? 70000 : 0);
        p[i] = na_arena_alloc(&a, n);
        cr_assert(p[i]);
        cr_assert_eq((uintptr_t)p[i] % _Alignof(max_align_t), 0, "aligned");
        memset(p[i], i, n);
    }
    for (int i = 0; i < 200; i++) { /* nothing overwrote anything */
        size_t n = (size_t)(i * 997 % 5000) + (i % 50 == 7 ? 70000 : 0);
        for (size_t k = 0; k < n; k += 61) cr_assert_eq(p[i][k], (uint8_t)i, "piece %d byte %zu", i, k);
    }
    na_arena_reset(&a);
    cr_assert_eq(na_arena_alloc(&a, 10), first, "a reset starts again in the first block");
    na_arena_free(&a);
    cr_assert(!a.head && !a.cur);
}

static int n_fast, n_compared;

static int same_str(const char *a, size_t al, const char *b, size_t bl)
{
    if (!a || !b) return !a && !b;
    return al == bl && !memcmp(a, b, al);
}

/* When the fast path answers, jansson's tree must give exactly the same split. */
static void compare_split(const char *line, size_t len, const char *field)
{
    na_json_split f, t;
    char msg[NA_ERRMSG];
    /* scratch reused from call to call as pack's threads do, its results in
     * an arena as pack's batches have them, or neither: in turn */
    static na_json_scratch sc;
    static na_arena arena;
    static na_json_scratch sca = {.out = &arena};
    if (n_compared % 64 == 2) na_arena_reset(&arena);
    na_json_scratch *use = n_compared % 3 == 0 ? NULL : n_compared % 3 == 1 ? &sc : &sca;
    int fr = na_json_split_fast(line, len, field, &f, use);
    n_compared++;
    cr_assert_eq(f.in_arena, use == &sca && fr == 1, "in_arena says where the results are");
    if (fr != 1) {
        cr_assert_eq(fr, 0);
        cr_assert(!f.meta && !f.key && !f.owned && !f.place, "a 'not sure' answer leaves nothing behind");
        return;
    }
    n_fast++;
    int tr = na_json_split_tree(line, len, field, &t, msg);
    cr_assert_eq(tr, 0, "fast path accepted what jansson refuses (%s): %.*s", msg, (int)len, line);
    cr_expect_eq(f.flags, t.flags, "flags: %.*s", (int)len, line);
    cr_expect(same_str(f.meta, f.meta_len, t.meta, t.meta_len), "meta %s vs %s: %.*s", f.meta ? f.meta : "(none)",
              t.meta ? t.meta : "(none)", (int)len, line);
    cr_expect(same_str(f.key, f.key_len, t.key, t.key_len), "key: %.*s", (int)len, line);
    cr_expect_eq(f.key_pos, t.key_pos, "key_pos: %.*s", (int)len, line);
    cr_expect(same_str((const char *)f.text, f.text_len, (const char *)t.text, t.text_len), "text: %.*s", (int)len, line);
    cr_expect(same_str(f.place, f.place ? strlen(f.place) : 0, t.place, t.place ? strlen(t.place) : 0),
              "place %s vs %s: %.*s", f.place ? f.place : "(none)", t.place ? t.place : "(none)", (int)len, line);
    if (f.meta) cr_expect_eq(f.meta[f.meta_len], 0, "meta is NUL-terminated");
    na_json_split_free(&f);
    na_json_split_free(&t);
}

static const char *const edge_lines[] = {
    "{}",
    " {\"maintext\" : \"x\" , \"url\":\"u\" } ",
    "{\"maintext\":\"\"}",
    "{\"url\":\"http://a/\\u0000b\",\"maintext\":\"t\"}",
    "{\"maintext\":\"a\\u0000b\",\"k\":\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\\/\"}",
    "{\"maintext\":\"\\ud83d\\ude00 \\u00e9\\u0627\",\"title\":\"\\u0627\\u0644\"}",
    "{\"maintext\":\"x\",\"n\":[1,-2,0,123456789012345678,true,false,null,{},[],{\"a\":{\"b\":[]}}]}",
    "{\"maintext\":\"x\",\"r\":1.5}",
    "{\"maintext\":\"x\",\"r\":-0}",
    "{\"maintext\":\"x\",\"r\":1e5}",
    "{\"maintext\":\"x\",\"r\":1234567890123456789}",
    "{\"maintext\":\"x\",\"r\":01}",
    "{\"maintext\":\"x\",\"maintext\":\"y\"}",
    "{\"maintext\":\"x\",\"o\":{\"a\":1,\"a\":2}}",
    "{\"a\\u0000\":1,\"maintext\":\"x\"}",
    "{\"maintext\":\"x\",\"o\":{\"\\u0061\":1,\"a\":2}}",
    "{\"text\":1,\"body\":\"b\",\"content\":[\"c\"]}",
    "{\"title\":\"t\",\"n\":5,\"arr\":[1],\"obj\":{\"x\":1},\"b\":true}",
    "{\"link\":\"l\",\"url\":5,\"source_url\":\"s\"}",
    "{\"maintext\":\"x\",}",
    "{\"maintext\":\"x\" \"a\":1}",
    "{\"maintext\":\"x\"} x",
    "[1,2]",
    "\"str\"",
    "{\"maintext\":\"\xff\"}",
    "{\"maintext\":\"\xed\xa0\x80\"}",
    "{\"maintext\":\"\xc0\xaf\"}",
    "{\"maintext\":\"\\ud800\"}",
    "{\"maintext\":\"\\udc00\\ud800\"}",
    "{\"maintext\":\"tab\there\"}",
    "{\"maintext\":\"x\",\"t\":tru}",
    "{\"maintext\":\"x\",\"t\":truex}",
    "{\"maintext\":\"x\",\"a\":[1,]}",
    "{\"maintext\":\"x\",\"a\":[,1]}",
    "{\"maintext\":\"x\",\"s\":\"\\x\"}",
    "{\"maintext\":\"x\",\"s\":\"\\u12\"}",
    "{\"a\":\"\x7f\",\"maintext\":\"\xe2\x80\xa8\"}",
};

Test(jsonentry, fast_split_agrees_with_the_tree)
{
    n_fast = n_compared = 0;
    for (size_t i = 0; i < sizeof edge_lines / sizeof *edge_lines; i++) {
        compare_split(edge_lines[i], strlen(edge_lines[i]), NULL);
        compare_split(edge_lines[i], strlen(edge_lines[i]), "title");
    }
    /* a long string in a WHOLE object is left out of its metadata: 256 bytes in, 257 out */
    char whole[700];
    for (int n = 255; n <= 258; n++) {
        int l = snprintf(whole, sizeof whole, "{\"title\":\"%0*d\",\"x\":1}", n, 7);
        compare_split(whole, (size_t)l, NULL);
    }
    /* deep nesting: 64 levels are handled, deeper ones go to jansson */
    for (int depth = 60; depth <= 70; depth += 10) {
        char d[400];
        int l = snprintf(d, sizeof d, "{\"maintext\":\"x\",\"a\":");
        for (int k = 0; k < depth; k++) d[l++] = '[';
        for (int k = 0; k < depth; k++) d[l++] = ']';
        d[l++] = '}';
        compare_split(d, (size_t)l, NULL);
    }
    cr_expect_geq(n_fast, 20, "the fast path answered %d of %d", n_fast, n_compared);
}

/*
 * Text escaped one character at a time (\uXXXX, as Python's json.dumps
 * writes by default): runs of escapes of every UTF-8 length, surrogate
 * pairs, lone or reversed surrogates, short or non-hex escapes, broken by
 * other escapes and raw bytes, in the text and in metadata; the fast split
 * against the tree on every line.
 */
Test(jsonentry, escape_runs_agree_with_the_tree)
{
    uint64_t x = 0x2545F4914F6CDD1DULL;
    char line[4096];
    n_fast = n_compared = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = 0;
        for (int field = 0; field < 2; field++) {
            n += (size_t)snprintf(line + n, sizeof line - n, field ? ",\"title\":\"" : "{\"maintext\":\"");
            for (int k = 0, pieces = 1 + (int)(x % 40); k < pieces && n < sizeof line - 64; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                unsigned r = (unsigned)(x >> 20) % (it % 4 ? 92 : 100); /* escapes that fail in one line of 4 */
                unsigned cp = (unsigned)(x >> 32);
                if (r < 60) { /* one code point: ASCII, 2 or 3 bytes of UTF-8, never a surrogate */
                    cp = r < 10 ? 0x20 + cp % 0x5F : r < 40 ? 0x80 + cp % 0x780 : 0x800 + cp % 0xF000;
                    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x0627;
                    n += (size_t)snprintf(line + n, sizeof line - n, (x >> 12) & 1 ? "\\u%04x" : "\\u%04X", cp);
                } else if (r < 70) { /* a pair: 4 bytes of UTF-8 */
                    cp %= 0x100000;
                    n += (size_t)snprintf(line + n, sizeof line - n, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
                } else if (r < 80) line[n++] = ' ';
                else if (r < 85) n += (size_t)snprintf(line + n, sizeof line - n, "\\n");
                else if (r < 88) n += (size_t)snprintf(line + n, sizeof line - n, "\\\"");
                else if (r < 92) n += (size_t)snprintf(line + n, sizeof line - n, "\xd8\xa7");
                else if (r < 94) n += (size_t)snprintf(line + n, sizeof line - n, "\\u%04x", 0xD800 + cp % 0x800); /* lone or reversed */
                else if (r < 96) n += (size_t)snprintf(line + n, sizeof line - n, "\\u00e");                      /* short */
                else if (r < 98) n += (size_t)snprintf(line + n, sizeof line - n, "\\u00g0");                     /* not hex */
                else n += (size_t)snprintf(line + n, sizeof line - n, "\\u0000");
            }
            line[n++] = '"';
        }
        line[n++] = '}';
        compare_split(line, n, NULL);
    }
    cr_expect_gt(n_fast, 5000, "the fast path answered only %d of %d", n_fast, n_compared);
}

/* Every line of the JSONL fixtures, and many mutations of them (deterministic). */
Test(jsonentry, fast_split_agrees_on_fixtures_and_mutations)
{
    static const char *const files[] = {"news.jsonl", "hostile.jsonl", "numbers.jsonl", "textfield.jsonl",
                                        "badutf8.jsonl", "broken.jsonl", "crlf.jsonl", "notobject.jsonl"};
    static const char alphabet[] = "{}[]\",:\\ u0123456789-.eEtfn\x80\xc3\xa9\xff\x01";
    uint64_t x = 88172645463325252ULL;
    n_fast = n_compared = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof *files; fi++) {
        char path[512];
        snprintf(path, sizeof path, "%s/fixtures/jsonl/%s", NEWSARC_TEST_DIR, files[fi]);
        FILE *fp = fopen(path, "rb");
        cr_assert_not_null(fp, "%s", path);
        char line[65536];
        while (fgets(line, sizeof line, fp)) {
            size_t len = strcspn(line, "\n");
            compare_split(line, len, NULL);
            for (int k = 0; k < 200 && len > 0; k++) {
                char mut[65600];
                memcpy(mut, line, len);
                size_t ml = len;
                for (int e = 0; e < 1 + k % 3; e++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    size_t at = (size_t)(x >> 8) % ml;
                    char c = alphabet[(x >> 40) % (sizeof alphabet - 1)];
                    if (x & 1) mut[at] = c; /* replace */
                    else if (ml < sizeof mut - 1) {
                        memmove(mut + at + 1, mut + at, ml - at); /* insert */
                        mut[at] = c;
                        ml++;
                    }
                }
                compare_split(mut, ml, (k & 4) ? "title" : NULL);
            }
        }
        fclose(fp);
    }
    cr_expect_geq(n_fast, 500, "the fast path answered %d of %d", n_fast, n_compared);
    cr_log_info("fast path answered %d of %d", n_fast, n_compared);
}
