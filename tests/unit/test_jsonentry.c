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
