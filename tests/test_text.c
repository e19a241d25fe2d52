/*
 * test_text.c - Criterion tests for lib/text.c: charset evidence and
 * decoding, norm_id (spec/NORMALIZATION.md and its vectors), Unicode NFC
 * conformance, script detection and MinHash.
 *
 * Fixtures: tests/fixtures/text/ (NEWSARC_TEST_DIR).  The NFC conformance
 * test reads NEWSARC_SHARED_DIR/corpus/unicode/unicode-14.0.0/
 * NormalizationTest.txt and is skipped when it is absent.
 */
#include "text.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#ifndef NEWSARC_TEST_DIR
#define NEWSARC_TEST_DIR "tests"
#endif
#ifndef NEWSARC_SPEC_DIR
#define NEWSARC_SPEC_DIR "spec"
#endif
#ifndef NEWSARC_SHARED_DIR
#define NEWSARC_SHARED_DIR "../shared"
#endif

/* ---- helpers ------------------------------------------------------------ */

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob slurp(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f) return b;
    size_t cap = 4096;
    b.p = malloc(cap);
    for (;;) {
        if (b.n == cap) b.p = realloc(b.p, cap *= 2);
        cr_assert_not_null(b.p);
        size_t got = fread(b.p + b.n, 1, cap - b.n, f);
        if (got == 0) break;
        b.n += got;
    }
    fclose(f);
    return b;
}

static blob fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/text/%s", NEWSARC_TEST_DIR, name);
    blob b = slurp(path);
    cr_assert_not_null(b.p, "fixture %s missing", path);
    return b;
}

static na_charset_info charset_of(const void *p, size_t n, const char *hint)
{
    na_charset_info info;
    cr_assert_eq(na_text_charset((const uint8_t *)p, n, hint, &info), 0);
    return info;
}

#define CHARSET(s) charset_of(s, sizeof(s) - 1, NULL)

static char *decode(const void *p, size_t n, const char *charset, size_t *len, bool *subst)
{
    char *out = NULL;
    size_t l = 0;
    cr_assert_eq(na_text_to_utf8((const uint8_t *)p, n, charset, &out, &l, subst), 0, "decoding with %s", charset);
    if (len) *len = l;
    return out;
}

static void norm_id(const void *p, size_t n, const char *charset, uint32_t options, uint8_t id[NA_NORM_ID_SIZE])
{
    cr_assert_eq(na_text_norm_id((const uint8_t *)p, n, charset, options, id), 0);
}

static char *normalized(const void *p, size_t n, uint32_t options)
{
    char *out;
    size_t len;
    cr_assert_eq(na_text_normalize((const uint8_t *)p, n, "UTF-8", options, &out, &len), 0);
    cr_assert_eq(strlen(out), len);
    return out;
}

/* ---- UTF-8 validity ----------------------------------------------------- */

Test(charset, utf8_validity)
{
    static const struct {
        const char *s;
        size_t n;
        bool valid, ascii;
    } cases[] = {
        {"", 0, true, true},
        {"plain ascii\n", 12, true, true},
        {"caf\xc3\xa9", 5, true, false},
        {"\xe2\x82\xac \xf0\x9f\x93\xb0 \xf4\x8f\xbf\xbf", 13, true, false}, /* euro, emoji, U+10FFFF */
        {"\xc0\xaf", 2, false, false},                                      /* overlong '/' */
        {"\xe0\x80\xaf", 3, false, false},                                  /* overlong, 3 bytes */
        {"\xed\xa0\x80", 3, false, false},                                  /* surrogate D800 */
        {"\xf4\x90\x80\x80", 4, false, false},                              /* above U+10FFFF */
        {"abc\xe2\x82", 5, false, false},                                   /* truncated */
        {"\x80", 1, false, false},                                          /* lone continuation */
        {"\xff\xfe\xfd", 3, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        na_charset_info info = charset_of(cases[i].s, cases[i].n, NULL);
        cr_assert_eq(info.valid_utf8, cases[i].valid, "case %zu", i);
        cr_assert_eq(info.ascii_only, cases[i].ascii, "case %zu", i);
        if (cases[i].valid) {
            cr_assert_str_eq(info.chosen, "UTF-8", "case %zu", i);
            cr_assert(info.chosen_clean);
        }
    }
}

Test(charset, bad_arguments)
{
    na_charset_info info;
    cr_assert_eq(na_text_charset(NULL, 3, NULL, &info), NEWSARC_E_ARG);
    cr_assert_eq(na_text_charset((const uint8_t *)"x", 1, NULL, NULL), NEWSARC_E_ARG);
    cr_assert_eq(na_text_charset(NULL, 0, NULL, &info), 0);
    cr_assert_eq(info.reason, NA_CHOSE_EMPTY);
    char *out;
    size_t len;
    cr_assert_eq(na_text_to_utf8((const uint8_t *)"x", 1, "no-such-charset", &out, &len, NULL),
                 NEWSARC_E_UNSUPPORTED);
    cr_assert_eq(na_text_to_utf8((const uint8_t *)"x", 1, "", &out, &len, NULL), NEWSARC_E_UNSUPPORTED);
    cr_assert_eq(na_text_to_utf8((const uint8_t *)"x", 1, "UTF-8,swaplfnl", &out, &len, NULL),
                 NEWSARC_E_UNSUPPORTED);
    cr_assert_eq(na_text_to_utf8((const uint8_t *)"x", 1, NULL, &out, &len, NULL), NEWSARC_E_ARG);
}

Test(charset, damaged_utf8_is_still_utf8)
{
    /* a UTF-8 article with one stray Latin-1 byte: decode as UTF-8, not as mojibake */
    const char *s = "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 \xd8\xa7\xd9\x84\xd9\x8a\xd9\x88\xd9\x85 "
                    "\xa3 \xd8\xb3\xd9\x86\xd8\xa9";
    na_charset_info info = charset_of(s, strlen(s), NULL);
    cr_assert_not(info.valid_utf8);
    cr_assert_str_eq(info.chosen, "UTF-8");
    cr_assert_eq(info.reason, NA_CHOSE_UTF8);
    cr_assert_not(info.chosen_clean);
    bool subst = false;
    char *out = decode(s, strlen(s), info.chosen, NULL, &subst);
    cr_assert(subst);
    cr_assert_not_null(strstr(out, "\xef\xbf\xbd"));
    free(out);
}

/* ---- declarations ------------------------------------------------------- */

Test(charset, declared_xml_and_meta)
{
    static const struct {
        const char *doc;
        na_decl_source src;
        const char *label, *declared;
    } cases[] = {
        {"<?xml version=\"1.0\" encoding=\"windows-1256\"?><rss>\xc7</rss>", NA_DECL_XML, "windows-1256",
         "windows-1256"},
        {"  <?XML version='1.0' ENCODING = 'Shift_JIS' ?><a>\x82\xa0</a>", NA_DECL_XML, "Shift_JIS", "Shift_JIS"},
        {"<?xml version=\"1.0\"?>\n<html><META CHARSET=koi8-r>\xf0</html>", NA_DECL_META, "koi8-r", "KOI8-R"},
        {"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-6\">\xc7",
         NA_DECL_META, "ISO-8859-6", "ISO-8859-6"},
        {"<head><meta content='text/html;charset=x-sjis' http-equiv='content-type'/>\x82\xa0", NA_DECL_META,
         "x-sjis", "Shift_JIS"},
        {"<meta name=\"description\" content=\"charset=nothing\"><meta charset=\"gb2312\">\xd6\xd0", NA_DECL_META,
         "nothing", "", /* first meta with a charset wins; the label is unknown to ICU */},
        {"<metadata charset=windows-1252>\xe9", NA_DECL_NONE, "", ""},
        {"<?xml-stylesheet encoding=\"koi8-r\"?>\xe9", NA_DECL_NONE, "", ""},
        {"<?xml version=\"1.0\" encoding=\"utf-8\"?><p>caf\xe9</p>", NA_DECL_XML, "utf-8", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        na_charset_info info = charset_of(cases[i].doc, strlen(cases[i].doc), NULL);
        cr_assert_eq(info.declared_source, cases[i].src, "case %zu", i);
        cr_assert_str_eq(info.declared_label, cases[i].label, "case %zu", i);
        cr_assert_str_eq(info.declared, cases[i].declared, "case %zu", i);
    }
}

/* fn on every file under NEWSARC_SHARED_DIR/corpus/SUB, in name order;
 * returns how many (0 when the shared corpus is not there). */
static int each_shared_file(const char *sub, void (*fn)(const blob *b, const char *path, void *ctx), void *ctx)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s/corpus/%s' -type f 2>/dev/null | sort", NEWSARC_SHARED_DIR, sub);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    char path[1024];
    int files = 0;
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\n")] = 0;
        blob b = slurp(path);
        if (!b.p) continue;
        fn(&b, path, ctx);
        free(b.p);
        files++;
    }
    pclose(f);
    return files;
}

/* Every field of two charset verdicts (the struct is zeroed before use). */
static void same_verdict(const na_charset_info *a, const na_charset_info *b, const char *what)
{
    cr_assert_str_eq(a->declared, b->declared, "%s: declared", what);
    cr_assert_eq(a->declared_clean, b->declared_clean, "%s: declared_clean", what);
    cr_assert_str_eq(a->detected, b->detected, "%s: detected", what);
    cr_assert_str_eq(a->chosen, b->chosen, "%s: chosen", what);
    cr_assert_eq(a->chosen_clean, b->chosen_clean, "%s: chosen_clean", what);
    cr_assert_eq(a->reason, b->reason, "%s: reason", what);
    cr_assert(memcmp(a, b, sizeof *a) == 0, "%s: verdicts differ", what);
}

static void verdicts_agree(const uint8_t *p, size_t n, const char *what)
{
    na_charset_info on, off;
    cr_assert_eq(na_text_byte_tables(1), 1);
    cr_assert_eq(na_text_charset(p, n, NULL, &on), 0);
    na_text_byte_tables(0);
    cr_assert_eq(na_text_charset(p, n, NULL, &off), 0);
    na_text_byte_tables(1);
    same_verdict(&on, &off, what);
}

static void verdicts_of_file(const blob *b, const char *path, void *ctx)
{
    (void)ctx;
    verdicts_agree(b->p, b->n, path);
}

/* Single-byte charsets answer "decodes cleanly" from a table of their 256
 * bytes: the same answers as decoding the whole text.  Each document
 * declares a charset (declared_clean is that answer itself) over bytes
 * drawn from ranges that hit C1 controls, unassigned bytes and NUL; then
 * the legacy fixtures, and the legacy test set of ../shared when it is
 * there, with no declaration (every candidate is asked). */
Test(charset, byte_tables_agree_with_whole_decoding, .timeout = 120)
{
    static const char *const labels[] = {
        "ISO-8859-1",  "ISO-8859-2",   "ISO-8859-5",  "ISO-8859-6",   "ISO-8859-7",   "ISO-8859-8",
        "windows-1250", "windows-1251", "windows-1253", "windows-1255", "windows-1256", "windows-1257",
        "windows-874", "KOI8-R",       "KOI8-U",      "IBM866",       "macintosh",    "x-mac-cyrillic",
        "US-ASCII",    "TIS-620",      "shift_jis",   "gb18030",
    };
    static const uint8_t ranges[][2] = {{0x80, 0xFF}, {0xA0, 0xFF}, {0x80, 0x9F}, {0xC0, 0xFF}, {0x00, 0xFF}};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char doc[700];
    int clean = 0, unclean = 0;
    for (size_t l = 0; l < sizeof labels / sizeof labels[0]; l++) {
        for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
            for (int rep = 0; rep < 4; rep++) {
                int k = snprintf(doc, sizeof doc, "<meta charset=\"%s\"><p>", labels[l]);
                int span = ranges[r][1] - ranges[r][0] + 1;
                for (int i = 0; i < 200; i++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    /* mostly letters, some bytes of the range (fewer on later reps) */
                    doc[k++] = (x >> 8) % (unsigned)(4 + 8 * rep) == 0 ? (char)(ranges[r][0] + (x >> 20) % (unsigned)span)
                                                                       : (char)('a' + (x >> 32) % 26);
                }
                char what[96];
                snprintf(what, sizeof what, "%s, bytes %02x-%02x, rep %d", labels[l], ranges[r][0], ranges[r][1], rep);
                verdicts_agree((const uint8_t *)doc, (size_t)k, what);
                na_charset_info info = charset_of(doc, (size_t)k, NULL);
                if (info.declared[0] && info.declared_clean) clean++;
                else if (info.declared[0]) unclean++;
            }
        }
    }
    cr_assert(clean > 20 && unclean > 20, "both answers met (%d clean, %d not)", clean, unclean);
    static const char *const fixtures[] = {"arabic.windows-1256.txt", "arabic.iso-8859-6.txt", "persian.windows-1256.txt"};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        blob b = fixture(fixtures[i]);
        verdicts_agree(b.p, b.n, fixtures[i]);
        free(b.p);
    }
    int files = each_shared_file("encodings", verdicts_of_file, NULL);
    if (files == 0) cr_log_info("%s/corpus/encodings not found: generated texts and fixtures only", NEWSARC_SHARED_DIR);
}

Test(charset, declaration_outside_scan_window_is_ignored)
{
    size_t n = NA_TEXT_DECL_SCAN + 64;
    char *doc = malloc(n + 64);
    memset(doc, ' ', n);
    strcpy(doc + n, "<meta charset=koi8-r>\xf0\xd2\xc9");
    na_charset_info info = charset_of(doc, strlen(doc), NULL);
    cr_assert_eq(info.declared_source, NA_DECL_NONE);
    free(doc);
}

Test(charset, declared_label_is_widened)
{
    /* ISO-8859-1 pages with C1 bytes are windows-1252; GB2312 pages are GB18030 */
    const char *latin = "<meta charset=iso-8859-1><p>\x93quoted\x94 caf\xe9</p>";
    na_charset_info info = charset_of(latin, strlen(latin), NULL);
    cr_assert_str_eq(info.declared, "ISO-8859-1");
    cr_assert_str_eq(info.chosen, "windows-1252");
    cr_assert_eq(info.reason, NA_CHOSE_DECLARED);
    char *out = decode(latin, strlen(latin), info.chosen, NULL, NULL);
    cr_assert_not_null(strstr(out, "\xe2\x80\x9cquoted\xe2\x80\x9d caf\xc3\xa9"));
    free(out);

    const char *gb = "<?xml version=\"1.0\" encoding=\"gb2312\"?><t>\xd6\xd0\xce\xc4 \x81\x40</t>"; /* 0x8140 is GBK */
    info = charset_of(gb, strlen(gb), NULL);
    cr_assert_str_eq(info.declared, "GB2312");
    cr_assert_str_eq(info.chosen, "GB18030");
    cr_assert(info.declared_clean);
}

Test(charset, declaration_that_does_not_decode_loses)
{
    /* declares UTF-8, but the bytes are not UTF-8: the detector decides */
    blob b = fixture("arabic.windows-1256.txt");
    const char *head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
    size_t hn = strlen(head);
    uint8_t *doc = malloc(hn + b.n);
    memcpy(doc, head, hn);
    memcpy(doc + hn, b.p, b.n);
    na_charset_info info = charset_of(doc, hn + b.n, NULL);
    cr_assert_str_eq(info.declared, "UTF-8");
    cr_assert_not(info.declared_clean);
    cr_assert_str_eq(info.chosen, "windows-1256");
    cr_assert_eq(info.reason, NA_CHOSE_DETECTED);
    free(doc);
    free(b.p);
}

/* ---- BOMs, UTF-16/32, ISO-2022 ------------------------------------------ */

Test(charset, byte_order_marks)
{
    static const struct {
        const char *s;
        size_t n;
        const char *cs;
    } cases[] = {
        {"\xef\xbb\xbfHi", 5, "UTF-8"},
        {"\xff\xfeH\0i\0", 6, "UTF-16LE"},
        {"\xfe\xff\0H\0i", 6, "UTF-16BE"},
        {"\xff\xfe\0\0H\0\0\0", 8, "UTF-32LE"},
        {"\0\0\xfe\xff\0\0\0H", 8, "UTF-32BE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        na_charset_info info = charset_of(cases[i].s, cases[i].n, NULL);
        cr_assert(info.has_bom, "case %zu", i);
        cr_assert_eq(info.declared_source, NA_DECL_BOM);
        cr_assert_str_eq(info.chosen, cases[i].cs);
        cr_assert_eq(info.reason, NA_CHOSE_BOM);
        size_t len;
        char *out = decode(cases[i].s, cases[i].n, info.chosen, &len, NULL);
        cr_assert(len >= 1 && out[0] == 'H', "the BOM is not part of the text (case %zu)", i);
        free(out);
    }
}

Test(charset, utf16_and_utf32_without_bom)
{
    const char *text = "Breaking news: the river rose two metres overnight.\n";
    size_t n = strlen(text);
    static const char *const names[] = {"UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"};
    for (size_t k = 0; k < 4; k++) {
        size_t w = k < 2 ? 2 : 4;
        uint8_t *b = calloc(n, w);
        for (size_t i = 0; i < n; i++) b[i * w + ((k % 2) ? w - 1 : 0)] = (uint8_t)text[i];
        na_charset_info info = charset_of(b, n * w, NULL);
        cr_assert_str_eq(info.chosen, names[k]);
        cr_assert_eq(info.reason, NA_CHOSE_UTF16_32);
        char *out = decode(b, n * w, info.chosen, NULL, NULL);
        cr_assert_str_eq(out, text);
        free(out);
        free(b);
    }
    /* NUL padding before ASCII is not UTF-16 */
    uint8_t pad[64] = {0};
    memcpy(pad + 32, "<html>hello</html>", 18);
    na_charset_info info = charset_of(pad, 50, NULL);
    cr_assert_str_eq(info.chosen, "UTF-8");
    cr_assert_eq(info.reason, NA_CHOSE_ASCII);
}

Test(charset, iso_2022_jp)
{
    /* "nihongo" in ISO-2022-JP: 7-bit, valid UTF-8, but the escapes say otherwise */
    const char s[] = "Title: \x1b$BF|K\\8l\x1b(B\n";
    na_charset_info info = CHARSET(s);
    cr_assert(info.ascii_only);
    cr_assert_str_eq(info.chosen, "ISO-2022-JP");
    cr_assert_eq(info.reason, NA_CHOSE_ISO2022);
    char *out = decode(s, sizeof s - 1, info.chosen, NULL, NULL);
    cr_assert_str_eq(out, "Title: \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n");
    free(out);
}

/* ---- decoding Arabic and Persian in legacy charsets --------------------- */

static void check_legacy(const char *file, const char *utf8_file, const char *want)
{
    blob b = fixture(file), u = fixture(utf8_file);
    na_charset_info info = charset_of(b.p, b.n, NULL);
    cr_assert_not(info.valid_utf8);
    cr_assert_str_eq(info.chosen, want, "%s: chose %s", file, info.chosen);
    cr_assert_eq(info.reason, NA_CHOSE_DETECTED);
    cr_assert(info.chosen_clean);
    size_t len;
    bool subst = true;
    char *out = decode(b.p, b.n, info.chosen, &len, &subst);
    cr_assert_not(subst);
    cr_assert_eq(len, u.n);
    cr_assert(memcmp(out, u.p, u.n) == 0, "%s decodes to the UTF-8 fixture", file);
    free(out);
    free(b.p);
    free(u.p);
}

Test(decode, windows_1256_arabic) { check_legacy("arabic.windows-1256.txt", "arabic.utf8.txt", "windows-1256"); }
Test(decode, iso_8859_6_arabic) { check_legacy("arabic.iso-8859-6.txt", "arabic.utf8.txt", "ISO-8859-6"); }
Test(decode, windows_1256_persian) { check_legacy("persian.windows-1256.txt", "persian.utf8.txt", "windows-1256"); }

Test(decode, declared_windows_1256)
{
    blob b = fixture("arabic.windows-1256.txt");
    const char *head = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\">";
    size_t hn = strlen(head);
    uint8_t *doc = malloc(hn + b.n);
    memcpy(doc, head, hn);
    memcpy(doc + hn, b.p, b.n);
    na_charset_info info = charset_of(doc, hn + b.n, NULL);
    cr_assert_str_eq(info.chosen, "windows-1256");
    cr_assert_eq(info.reason, NA_CHOSE_DECLARED);
    cr_assert(info.declared_clean);
    free(doc);
    free(b.p);
}

Test(decode, source_hint)
{
    /* one short ambiguous word: the source's usual charset decides */
    const char s[] = "\xc7\xe1\xed\xe6\xe3"; /* "alyawm" in windows-1256 */
    na_charset_info info = charset_of(s, sizeof s - 1, "windows-1256");
    cr_assert_str_eq(info.chosen, "windows-1256");
    /* a hint that does not decode cleanly is ignored */
    blob b = fixture("arabic.windows-1256.txt");
    info = charset_of(b.p, b.n, "Shift_JIS");
    cr_assert_str_eq(info.chosen, "windows-1256");
    free(b.p);
}

Test(decode, substitutions_are_reported)
{
    bool subst = false;
    size_t len;
    char *out = decode("a\xff" "b", 3, "UTF-8", &len, &subst);
    cr_assert(subst);
    cr_assert_eq(len, 5);
    cr_assert(memcmp(out, "a\xef\xbf\xbd" "b", 5) == 0);
    free(out);
    /* 0xFF is unassigned in ISO-8859-6 */
    out = decode("\xc7\xff" "x", 3, "ISO-8859-6", &len, &subst);
    cr_assert(subst);
    cr_assert_eq(len, 6);
    cr_assert(memcmp(out, "\xd8\xa7\xef\xbf\xbdx", 6) == 0);
    free(out);
    out = decode("caf\xe9", 4, "ISO-8859-1", &len, &subst);
    cr_assert_not(subst);
    cr_assert_str_eq(out, "caf\xc3\xa9");
    free(out);
    out = decode("", 0, "UTF-8", &len, &subst);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(out, "");
    free(out);
}

/* ---- normalization ------------------------------------------------------ */

Test(norm, white_space_list_matches_icu)
{
    /* spec/NORMALIZATION.md lists White_Space explicitly; it must be ICU's property */
    static const UChar32 list[] = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001,
                                   0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
                                   0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    size_t k = 0;
    for (UChar32 c = 0; c <= 0x10FFFF; c++) {
        bool in = k < sizeof list / sizeof list[0] && list[k] == c;
        cr_assert_eq((bool)u_isUWhiteSpace(c), in, "U+%04X", (unsigned)c);
        if (in) k++;
    }
}

Test(norm, norm_id_invariance)
{
    uint8_t a[NA_NORM_ID_SIZE], b[NA_NORM_ID_SIZE];
    static const struct {
        const char *x, *y;
    } same[] = {
        {"caf\xc3\xa9 cr\xc3\xa8me", "cafe\xcc\x81 cre\xcc\x80me"},                        /* NFC vs NFD */
        {"\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9",
         "\xd8\xa7\xd9\x84\xd9\x80\xd8\xb9\xd8\xb1\xd9\x80\xd9\x80\xd8\xa8\xd9\x8a\xd8\xa9"}, /* tatweel */
        {"line one\nline two\n", "line one\r\nline two\r\n"},                                /* CRLF */
        {"line one\nline two", "line one\rline two"},                                        /* CR */
        {"a b c", "  a \t\t b\xc2\xa0\xc2\xa0 c \n"},                                        /* whitespace runs */
        {"para\npara", "para \n\n \n para"},
        {"Hello", "\xef\xbb\xbfHello"},                                                      /* BOM */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        norm_id(same[i].x, strlen(same[i].x), "UTF-8", 0, a);
        norm_id(same[i].y, strlen(same[i].y), "UTF-8", 0, b);
        cr_assert(memcmp(a, b, NA_NORM_ID_SIZE) == 0, "pair %zu should have the same norm_id", i);
    }
    static const struct {
        const char *x, *y;
    } differ[] = {
        {"a b", "ab"},
        {"a\nb", "a b"},
        {"caf\xc3\xa9", "cafe"},
        {"\xd9\x8a", "\xdb\x8c"}, /* Arabic yeh vs Farsi yeh: only with UNIFY_ALEF_YEH */
        {"\xef\xac\x81", "fi"},   /* no compatibility folding */
        {"The text", "the text"},
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        norm_id(differ[i].x, strlen(differ[i].x), "UTF-8", 0, a);
        norm_id(differ[i].y, strlen(differ[i].y), "UTF-8", 0, b);
        cr_assert(memcmp(a, b, NA_NORM_ID_SIZE) != 0, "pair %zu should differ", i);
    }
    norm_id("\xd9\x8a", 2, "UTF-8", NA_NORM_UNIFY_ALEF_YEH, a);
    norm_id("\xdb\x8c", 2, "UTF-8", NA_NORM_UNIFY_ALEF_YEH, b);
    cr_assert(memcmp(a, b, NA_NORM_ID_SIZE) == 0);
    norm_id("caf\xc3\xa9", 5, "UTF-8", NA_NORM_STRIP_DIACRITICS, a);
    norm_id("cafe", 4, "UTF-8", NA_NORM_STRIP_DIACRITICS, b);
    cr_assert(memcmp(a, b, NA_NORM_ID_SIZE) == 0);
    /* the empty text: the first 16 bytes of the BLAKE2b-256 of nothing */
    norm_id(" \n\t", 3, "UTF-8", 0, a);
    static const uint8_t empty[32] = {0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e,
                                      0xb0, 0x60, 0x99, 0xda, 0xa1, 0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f,
                                      0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8};
    cr_assert(memcmp(a, empty, NA_NORM_ID_SIZE) == 0);
    cr_assert_eq(na_text_norm_id((const uint8_t *)"x", 1, "UTF-8", 0x80, a), NEWSARC_E_ARG);
}

Test(norm, same_text_in_every_charset_has_one_id)
{
    blob u = fixture("arabic.utf8.txt"), w = fixture("arabic.windows-1256.txt"), iso = fixture("arabic.iso-8859-6.txt");
    uint8_t a[NA_NORM_ID_SIZE], b[NA_NORM_ID_SIZE], c[NA_NORM_ID_SIZE], d[NA_NORM_ID_SIZE];
    norm_id(u.p, u.n, "UTF-8", 0, a);
    norm_id(w.p, w.n, "windows-1256", 0, b);
    norm_id(iso.p, iso.n, "ISO-8859-6", 0, c);
    norm_id(w.p, w.n, NULL, 0, d); /* charset chosen by na_text_charset */
    cr_assert(memcmp(a, b, NA_NORM_ID_SIZE) == 0 && memcmp(a, c, NA_NORM_ID_SIZE) == 0 && memcmp(a, d, NA_NORM_ID_SIZE) == 0);
    free(u.p);
    free(w.p);
    free(iso.p);
}

/* Texts whose NFD is more than twice as long (the first buffer ICU is
 * given) and whose UTF-8 is three bytes a UTF-16 unit: both buffers sized
 * without asking ICU first must still give ICU's whole answer. */
Test(norm, buffers_for_expanding_texts)
{
    enum { N = 300 };
    /* U+1F82 (4 code points in NFD, composed again by NFC) and U+0390 (3) */
    char *in = malloc(N * 6 + 1);
    cr_assert_not_null(in);
    size_t n = 0;
    for (int i = 0; i < N; i++) {
        memcpy(in + n, i % 2 ? "\xe1\xbe\x82" : "\xce\x90", i % 2 ? 3 : 2);
        n += i % 2 ? 3 : 2;
    }
    char *out;
    size_t len;
    cr_assert_eq(na_text_normalize_icu((const uint8_t *)in, n, "UTF-8", 0, &out, &len), 0);
    cr_assert(len == n && memcmp(out, in, n) == 0, "NFC(NFD(x)) of an NFC text is the text");
    free(out);
    /* the same text as UTF-16LE with a BOM: every unit back to 2 or 3 bytes */
    uint8_t *u16 = malloc(2 * N + 2);
    cr_assert_not_null(u16);
    u16[0] = 0xFF;
    u16[1] = 0xFE;
    for (int i = 0; i < N; i++) {
        unsigned cp = i % 2 ? 0x1F82 : 0x0390;
        u16[2 + 2 * i] = (uint8_t)cp;
        u16[3 + 2 * i] = (uint8_t)(cp >> 8);
    }
    out = decode(u16, 2 * N + 2, "UTF-16LE", &len, NULL);
    cr_assert(len == n && memcmp(out, in, n) == 0, "UTF-16 decoded to the same UTF-8");
    free(out);
    /* all of 3 bytes a unit: U+4E2D */
    for (int i = 0; i < N; i++) {
        u16[2 + 2 * i] = 0x2D;
        u16[3 + 2 * i] = 0x4E;
    }
    out = decode(u16, 2 * N + 2, "UTF-16LE", &len, NULL);
    cr_assert_eq(len, 3 * (size_t)N);
    for (int i = 0; i < N; i++) cr_assert(memcmp(out + 3 * i, "\xe4\xb8\xad", 3) == 0);
    free(out);
    free(u16);
    free(in);
}

Test(norm, idempotent)
{
    static const char *const texts[] = {
        "  caf\x65\xcc\x81 \r\n\r\n cr\xc3\xa8me \xe2\x80\xa8 ",
        "\xd8\xa7\xd9\x80\xd9\x94 \xd8\xa3\xd9\x8e\xd8\xa8 \xdb\x8c\xd9\x94 \xd9\xb1",
        "\xef\xbb\xbf\xd9\x80\xef\xbb\xbf x \xcc\x81\xef\xbb\xbf",
        "\xd7\xa9\xd6\xb8\xd7\x81\xd7\x9c\xd7\x95\xd6\xb9\xd7\x9d \xe1\x84\x92\xe1\x85\xa1 \xf0\x9d\x85\x9e",
        "\xce\x91\xcc\x94\xcd\x85 \xe1\xbe\x89 \xd0\xb9\xcc\x88",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (uint32_t opt = 0; opt <= NA_NORM_KNOWN; opt++) {
            char *once = normalized(texts[i], strlen(texts[i]), opt);
            char *twice = normalized(once, strlen(once), opt);
            cr_assert_str_eq(once, twice, "text %zu options %u", i, opt);
            free(once);
            free(twice);
        }
}

/* Extract the string value of "key": "..." from one vectors line. */
static bool json_field(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    if (!p) return false;
    p += strlen(pat);
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= cap) return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

Test(norm, spec_vectors)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/vectors/norm_vectors.json", NEWSARC_SPEC_DIR);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    char line[8192], in_hex[4096], want_hex[4096], id_hex[128], charset[64];
    uint8_t in[2048], want[2048], id[32], got_id[NA_NORM_ID_SIZE];
    int count = 0;
    while (fgets(line, sizeof line, f)) {
        if (!json_field(line, "input_hex", in_hex, sizeof in_hex)) continue;
        cr_assert(json_field(line, "charset", charset, sizeof charset));
        cr_assert(json_field(line, "normalized_hex", want_hex, sizeof want_hex));
        cr_assert(json_field(line, "norm_id", id_hex, sizeof id_hex));
        const char *o = strstr(line, "\"options\": ");
        cr_assert_not_null(o);
        uint32_t options = (uint32_t)strtoul(o + 11, NULL, 10);
        size_t n = unhex(in_hex, in), wn = unhex(want_hex, want);
        cr_assert_eq(unhex(id_hex, id), NA_NORM_ID_SIZE);
        char *got;
        size_t got_len;
        cr_assert_eq(na_text_normalize(in, n, charset, options, &got, &got_len), 0);
        cr_assert_eq(got_len, wn, "vector %d", count);
        cr_assert(memcmp(got, want, wn) == 0, "vector %d normalized text", count);
        norm_id(in, n, charset, options, got_id);
        cr_assert(memcmp(got_id, id, NA_NORM_ID_SIZE) == 0, "vector %d norm_id", count);
        free(got);
        count++;
    }
    fclose(f);
    cr_assert_geq(count, 30);
}

/* ---- NFC conformance (Unicode 14.0 NormalizationTest.txt) ---------------- */

/* Code points the other steps of the normalization touch (spec, steps 1, 2, 4, 5). */
static bool touched_by_other_steps(UChar32 c) { return u_isUWhiteSpace(c) || c == 0x0640 || c == 0xFEFF; }

/* "0044 0307" -> UTF-8 in out; false if a code point is touched by other steps. */
static bool column_utf8(const char *col, char *out, size_t cap, size_t *len)
{
    bool plain = true;
    size_t n = 0;
    char *end;
    for (const char *p = col;; p = end) {
        unsigned long cp = strtoul(p, &end, 16);
        if (end == p) break;
        cr_assert(n + 4 <= cap);
        UBool err = false;
        U8_APPEND((uint8_t *)out, n, cap, (UChar32)cp, err);
        cr_assert_not(err, "code point %lx", cp);
        if (touched_by_other_steps((UChar32)cp)) plain = false;
    }
    *len = n;
    return plain;
}

/* na_text_normalize (fast path where it applies) gives what the ICU path gives; *unchanged only when it is so. */
static void fast_matches_icu(const uint8_t *in, size_t n, const char *charset, uint32_t options)
{
    char *a, *b;
    size_t al, bl;
    bool unchanged;
    int ra = na_text_normalize_ex(in, n, charset, options, &a, &al, &unchanged);
    int rb = na_text_normalize_icu(in, n, charset, options, &b, &bl);
    cr_assert_eq(ra, rb, "return codes differ");
    if (ra) return;
    cr_assert(al == bl && memcmp(a, b, al) == 0, "fast and ICU normalizations differ on %zu bytes", n);
    if (unchanged) cr_assert(al == n && memcmp(a, in, n) == 0, "'unchanged' for a changed text");
    free(a);
    free(b);
}

static void nfc_expect(const char *in, size_t n, const char *want, size_t wn, bool want_plain, int line_no)
{
    char *got;
    size_t got_len;
    fast_matches_icu((const uint8_t *)in, n, "UTF-8", 0);
    cr_assert_eq(na_text_normalize((const uint8_t *)in, n, "UTF-8", 0, &got, &got_len), 0);
    if (want_plain) {
        cr_assert(got_len == wn && memcmp(got, want, wn) == 0, "NormalizationTest line %d", line_no);
    } else { /* compare with the normalization of the expected column */
        char *w;
        size_t wl;
        cr_assert_eq(na_text_normalize((const uint8_t *)want, wn, "UTF-8", 0, &w, &wl), 0);
        cr_assert(got_len == wl && memcmp(got, w, wl) == 0, "NormalizationTest line %d", line_no);
        free(w);
    }
    free(got);
}

Test(norm, nfc_conformance, .timeout = 120)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/corpus/unicode/unicode-14.0.0/NormalizationTest.txt", NEWSARC_SHARED_DIR);
    FILE *f = fopen(path, "r");
    if (!f) cr_skip_test("%s not present", path);
    bool *part1 = calloc(0x110000, sizeof *part1);
    cr_assert_not_null(part1);
    char line[2048], col[5][256], u[5][256];
    size_t ul[5];
    bool plain[5];
    int line_no = 0, checked = 0, part = -1;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (line[0] == '@') {
            part = strncmp(line, "@Part1", 6) == 0 ? 1 : 0;
            continue;
        }
        char *p = line;
        for (int k = 0; k < 5; k++) {
            char *semi = strchr(p, ';');
            cr_assert_not_null(semi, "line %d", line_no);
            size_t l = (size_t)(semi - p);
            cr_assert(l < sizeof col[k]);
            memcpy(col[k], p, l);
            col[k][l] = '\0';
            plain[k] = column_utf8(col[k], u[k], sizeof u[k], &ul[k]);
            p = semi + 1;
        }
        if (part == 1) part1[strtoul(col[0], NULL, 16)] = true;
        /* NFC: c2 == toNFC(c1) == toNFC(c2) == toNFC(c3); c4 == toNFC(c4) == toNFC(c5) */
        for (int k = 0; k < 3; k++) nfc_expect(u[k], ul[k], u[1], ul[1], plain[1], line_no);
        for (int k = 3; k < 5; k++) nfc_expect(u[k], ul[k], u[3], ul[3], plain[3], line_no);
        checked++;
    }
    fclose(f);
    cr_assert_gt(checked, 18000);

    /* every other code point X of Unicode 14.0: toNFC(X) == X; tested in batches "X Y Z ..." */
    static char batch[4096 * 5], one[8];
    size_t bn = 0;
    UVersionInfo age;
    for (UChar32 c = 0; c <= 0x10FFFF + 1; c++) {
        bool take = false;
        if (c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF) && !part1[c] && !touched_by_other_steps(c) &&
            c != 0x0D && c != 0x85 && c != 0x2028 && c != 0x2029) {
            u_charAge(c, age);
            take = !(age[0] > 14 || (age[0] == 14 && age[1] > 0)); /* newer than the test file */
        }
        if (take) {
            UBool err = false;
            size_t on = 0;
            U8_APPEND((uint8_t *)one, on, sizeof one, c, err);
            cr_assert_not(err);
            if (bn) batch[bn++] = ' ';
            memcpy(batch + bn, one, on);
            bn += on;
        }
        if (bn && (bn > sizeof batch - 16 || c > 0x10FFFF)) {
            nfc_expect(batch, bn, batch, bn, true, -(int)c);
            bn = 0;
        }
    }
    free(part1);
}

/*
 * The fast path (lib/text.c normalize_fast) against ICU on random strings
 * over a palette of the characters that decide it: white space and line
 * terminators, tatweel and BOM, Arabic hamza letters and marks, precomposed
 * and combining Latin, Hangul syllables and jamo, composition exclusions,
 * singletons, supplementary characters and broken UTF-8.
 */
Test(norm, fast_path_agrees_with_icu)
{
    static const uint32_t palette[] = {
        'a', 'Z', '0', '.', ' ', ' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x2000, 0x2028, 0x2029, 0x3000,
        0x0640, 0xFEFF, 0x0627, 0x0644, 0x0622, 0x0623, 0x0625, 0x0624, 0x0626, 0x064E, 0x0651, 0x0653, 0x0654,
        0x0655, 0x0670, 0x06CC, 0x06A9, 0x0671, 0x00E9, 0x0065, 0x0301, 0x0340, 0x0344, 0x0386, 0x1E9B, 0xAC00,
        0x1100, 0x1161, 0x11A8, 0x0F73, 0x0B47, 0x0B3E, 0x0958, 0x2126, 0xF900, 0x05B7, 0x05D0, 0x0915, 0x093C,
        0x1F600, 0x10400, 0x00, 0x7F, 0x200D, 0x202E, 0xFFFD,
        /* marks of many classes, some of which the fast path keeps (harakat 27-35, superscript alef 35,
         * Hebrew points, Thai tone marks 107, Devanagari virama 9, Latin 220/230/232, Han tone 218-228),
         * some it does not (NFC_QC Maybe: 0653-0655, 0301, 3099; 0340 and 0344 decompose) */
        0x064B, 0x064C, 0x064D, 0x064F, 0x0650, 0x0652, 0x0610, 0x06E1, 0x05B0, 0x05C1, 0x0E48, 0x094D, 0x0316,
        0x0300, 0x031B, 0x0323, 0x302A, 0x302B, 0x302E, 0x1DCE, 0x20D0, 0x3099};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    uint8_t buf[4 * 48 + 8];
    for (int t = 0; t < 60000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 40);
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t c = palette[(x >> 16) % (sizeof palette / sizeof *palette)];
            if ((x & 0xFF) == 7) { /* now and then a broken sequence */
                buf[n++] = 0xD9;
                continue;
            }
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)c, err);
            cr_assert_not(err);
        }
        fast_matches_icu(buf, n, "UTF-8", 0);
        if (t % 8 == 0) fast_matches_icu(buf, n, "UTF-8", NA_NORM_STRIP_DIACRITICS); /* options: ICU path */
    }
    /* the committed texts, whole */
    static const char *const files[] = {"arabic.utf8.txt", "persian.utf8.txt", "article.txt", "article_syndicated.txt",
                                        "article_unrelated.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        blob b = fixture(files[i]);
        fast_matches_icu(b.p, b.n, "UTF-8", 0);
        free(b.p);
    }
}

/* Texts the fast path can take with marks in them: letters, white space,
 * tatweel, BOM and marks it keeps, in every order (marks after white space,
 * after a deletion, out of canonical order: those go to ICU). */
Test(norm, fast_path_marks_agree_with_icu)
{
    static const uint32_t palette[] = {'a', ' ', '\n', 0x0627, 0x0644, 0x0628, 0x0622, 0x00E9, 0x05D0, 0x0E01, 0x0915,
                                       0x0640, 0xFEFF, 0x064B, 0x064E, 0x0650, 0x0651, 0x0651, 0x0652, 0x0670,
                                       0x05B0, 0x05C1, 0x0E48, 0x094D, 0x0316, 0x0300, 0x0323, 0x302A, 0x302E};
    uint64_t x = 0xD1B54A32D192ED03ULL;
    uint8_t buf[4 * 24 + 8];
    int kept = 0;
    for (int t = 0; t < 60000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 24);
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)palette[(x >> 16) % (sizeof palette / sizeof *palette)],
                      err);
            cr_assert_not(err);
        }
        fast_matches_icu(buf, n, "UTF-8", 0);
        char *o;
        size_t ol;
        bool unchanged;
        cr_assert_eq(na_text_normalize_ex(buf, n, "UTF-8", 0, &o, &ol, &unchanged), 0);
        for (size_t i = 0; unchanged && i + 1 < n; i++)
            if (buf[i] == 0xD9 && buf[i + 1] >= 0x8B && buf[i + 1] <= 0x92) { /* a haraka the fast path kept */
                kept++;
                break;
            }
        free(o);
    }
    cr_assert_gt(kept, 500, "texts with marks the fast path kept: %d", kept);
}

/*
 * Long texts of Arabic and Persian letters with single spaces, which the
 * fast path passes over 32 bytes at a time, broken at random by what ends
 * such a run: the letters around the ones it takes (U+0620, U+063B..063F,
 * tatweel, harakat, U+066E.., Persian letters), Arabic punctuation and
 * digits, double spaces, line ends, a trailing space, Latin; at every
 * alignment.  The text and the dominant script against ICU.
 */
static void script_reference(const uint8_t *s, size_t n, char out[16]);

/* na_text_normalize_script (pack's one pass) gives na_text_normalize_ex's
 * text and `unchanged`, and the reference script of that text; returns
 * `unchanged`. */
static bool script_agrees(const uint8_t *buf, size_t n)
{
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    bool ua = false, ub = false;
    char got[16], want[16];
    cr_assert_eq(na_text_normalize_script(buf, n, "UTF-8", 0, &a, &an, &ua, got), 0);
    cr_assert_eq(na_text_normalize_ex(buf, n, "UTF-8", 0, &b, &bn, &ub), 0);
    cr_assert(an == bn && !memcmp(a, b, an) && ua == ub, "same normalized text");
    script_reference((const uint8_t *)b, bn, want);
    cr_assert_str_eq(got, want, "script of %zu bytes", n);
    free(a);
    free(b);
    return ua;
}

/* Texts in other charsets, and damaged UTF-8, are decoded to UTF-8 and
 * then normalized by the fast path: the same text as ICU's whole path, the
 * same script as counting the result, and never "unchanged". */
static void decoded_agrees(const uint8_t *buf, size_t n, const char *charset, const char *what)
{
    fast_matches_icu(buf, n, charset, 0);
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    bool ua = true;
    char got[16], want[16];
    cr_assert_eq(na_text_normalize_script(buf, n, charset, 0, &a, &an, &ua, got), 0, "%s", what);
    cr_assert_eq(na_text_normalize_icu(buf, n, charset, 0, &b, &bn), 0, "%s", what);
    cr_assert(an == bn && !memcmp(a, b, an), "%s: same normalized text", what);
    cr_assert(!ua, "%s: decoded text reported unchanged", what);
    script_reference((const uint8_t *)b, bn, want);
    cr_assert_str_eq(got, want, "%s: script", what);
    free(a);
    free(b);
}

static void decoded_file(const blob *b, const char *path, void *ctx)
{
    na_charset_info info = charset_of(b->p, b->n, NULL);
    if (strcmp(info.chosen, "UTF-8") != 0 || !info.valid_utf8) {
        decoded_agrees(b->p, b->n, info.chosen, path);
        ++*(int *)ctx;
    }
}

Test(norm, decoded_texts_agree_with_icu, .timeout = 120)
{
    static const char *const fixtures[][2] = {{"arabic.windows-1256.txt", "windows-1256"},
                                              {"arabic.iso-8859-6.txt", "ISO-8859-6"},
                                              {"persian.windows-1256.txt", "windows-1256"}};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        blob b = fixture(fixtures[i][0]);
        decoded_agrees(b.p, b.n, fixtures[i][1], fixtures[i][0]);
        free(b.p);
    }
    /* damaged UTF-8: stray bytes, a cut sequence, CR LF and a BOM after decoding */
    blob u = fixture("arabic.utf8.txt");
    uint8_t *d = malloc(u.n + 16);
    cr_assert_not_null(d);
    memcpy(d, "\xef\xbb\xbf", 3);
    memcpy(d + 3, u.p, u.n);
    size_t n = u.n + 3;
    d[n / 3] = 0xFF;
    d[n / 2] = 0xC3;
    memcpy(d + n, "\r\n\xd8", 3);
    decoded_agrees(d, n + 3, "UTF-8", "damaged UTF-8");
    /* unpaired surrogates from the decoder (CESU-8, UTF-7) pair up once a
     * tatweel or U+FEFF between them is deleted: ICU's path, not UTF-8 */
    static const char *const halves[][2] = {
        {"x\xed\xa0\xbd\xd9\x80\xed\xb8\x80y", "CESU-8"},
        {"\xed\xa0\xbd\xef\xbb\xbf\xed\xb8\x80", "CESU-8"},
        {"x+2D0GQN4A-y", "UTF-7"},
        {"a\xed\xa0\xbd b", "CESU-8"}, /* one alone */
    };
    for (size_t i = 0; i < sizeof halves / sizeof *halves; i++)
        decoded_agrees((const uint8_t *)halves[i][0], strlen(halves[i][0]), halves[i][1], halves[i][0]);
    char *o;
    size_t ol;
    cr_assert_eq(na_text_normalize((const uint8_t *)halves[0][0], strlen(halves[0][0]), "CESU-8", 0, &o, &ol), 0);
    cr_assert(ol == 6 && memcmp(o, "x\xf0\x9f\x98\x80y", 6) == 0, "the halves make U+1F600");
    free(o);
    free(d);
    free(u.p);
    int legacy = 0;
    each_shared_file("encodings", decoded_file, &legacy);
    if (legacy == 0) cr_log_info("%s/corpus/encodings not found: fixtures only", NEWSARC_SHARED_DIR);
}

/*
 * Long texts that the fast path takes except for a few stretches, which go
 * to ICU from the kept character before them (a mark after it composes or
 * reorders with it: e + U+0301, alef + tatweel + U+0653, a haraka then
 * U+0301) to the next kept character or white space; stretches closer than
 * the join distance go as one.  Sparse and dense, after the 32-byte runs,
 * after white space, at both ends; with the runs and without.  The text,
 * `unchanged` and the script against ICU.
 */
Test(norm, slow_stretches_agree_with_icu, .timeout = 120)
{
    static const char *const slow[] = {
        "\xcc\x81",                 /* U+0301 after the word: composes (e, a) or not */
        "\xd9\x80\xd9\x93",         /* tatweel, madda above: alef + madda -> U+0622 */
        "\xd9\x8e\xcc\x81",         /* a haraka then U+0301 (230 after 30: no reordering, no composition) */
        "\xcc\x81\xcc\x96",         /* 230 then 220: reordered */
        "\xf0\x9f\x98\x80",         /* U+1F600, beyond the BMP */
        " \xe0\xa5\x98",             /* U+0958: composition exclusion, decomposed */
        " \xe2\x84\xa6",             /* U+2126 -> U+03A9 */
        " \xea\xb0\x80\xe1\x86\xa8", /* Hangul LV + T -> LVT */
        " \xe1\x84\x80\xe1\x85\xa1", /* L + V -> LV */
        " \xe3\x81\x8b\xe3\x82\x99", /* ka + dakuten -> ga */
        "\xe2\x80\x83\xcc\x81",     /* EM SPACE then a mark */
        "\r\n\xcc\x81",             /* a mark after a line end */
        "\xef\xbb\xbf\xcc\x81",     /* BOM (dropped) then a mark */
    };
    static const char *const arabic[] = {"\xd8\xa7", "\xd9\x84", "\xd8\xa8", "\xd9\x85", "\xd9\x86", "\xd8\xb9"};
    uint64_t x = 0x2545F4914F6CDD1Dull;
    enum { CAP = 24000 };
    uint8_t *buf = malloc(CAP);
    cr_assert_not_null(buf);
    int changed_by_ends = 0;
    for (int t = 0; t < 1200; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned every = 2u + (unsigned)(x % 400); /* a slow stretch every this many words on average */
        int words = 20 + (int)((x >> 16) % 800);
        if (t % 7 == 0) { /* starts with a stretch */
            memcpy(buf, "e\xcc\x81", 3);
            n = 3;
        }
        for (int w = 0; w < words && n + 64 < CAP; w++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int kind = (int)(x % 3), wl = 2 + (int)((x >> 8) % 9);
            for (int i = 0; i < wl; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (kind == 0) {
                    const char *a = arabic[(x >> 20) % 6];
                    memcpy(buf + n, a, 2);
                    n += 2;
                    if ((x & 31) == 0) { /* a haraka the fast path keeps */
                        memcpy(buf + n, "\xd9\x8e", 2);
                        n += 2;
                    }
                } else if (kind == 1) buf[n++] = (uint8_t)('a' + (x >> 24) % 26);
                else buf[n++] = (uint8_t)('0' + (x >> 24) % 10);
            }
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if ((x >> 12) % every == 0) {
                const char *sl = slow[(x >> 32) % (sizeof slow / sizeof *slow)];
                memcpy(buf + n, sl, strlen(sl));
                n += strlen(sl);
            }
            static const char *const sep[] = {" ", " ", " ", " ", " ", " ", "  ", "\n", "\r\n", "\xc2\xa0", "\xd9\x80", ". "};
            const char *sp = sep[(x >> 40) % (sizeof sep / sizeof *sep)];
            memcpy(buf + n, sp, strlen(sp));
            n += strlen(sp);
        }
        if (t % 5 == 0) { /* ends with a stretch */
            memcpy(buf + n, "a\xcc\x81", 3);
            n += 3;
        }
        for (int simd = 1; simd >= 0; simd--) {
            na_text_simd(simd);
            fast_matches_icu(buf, n, "UTF-8", 0);
            if (!script_agrees(buf, n)) changed_by_ends++;
        }
        na_text_simd(1);
    }
    free(buf);
    cr_assert_gt(changed_by_ends, 1000);
    /* the kept character taken back is counted once: two Arabic letters
     * first, then two Latin ones, the second with a mark (a tie: Arabic) */
    static const char *const cases[][2] = {
        {"\xd8\xa8\xd8\xa8 ab\xcc\x81", "Arab"},
        {"\xd8\xa8\xd8\xa8 a\xd9\x80\xcc\x81" "b", "Arab"},
        {"  \xe2\x84\xa6\xe2\x84\xa6\xe2\x84\xa6 ab", "Grek"}, /* white space before a stretch at the start: dropped */
        {"ab  \xe2\x84\xa6\xe2\x84\xa6\xe2\x84\xa6  ", "Grek"}, /* ... and after one at the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *o;
        size_t ol;
        bool unchanged;
        char script[16];
        const uint8_t *in = (const uint8_t *)cases[i][0];
        cr_assert_eq(na_text_normalize_script(in, strlen(cases[i][0]), "UTF-8", 0, &o, &ol, &unchanged, script), 0);
        cr_assert_str_eq(script, cases[i][1], "case %zu", i);
        free(o);
        fast_matches_icu(in, strlen(cases[i][0]), "UTF-8", 0);
        script_agrees(in, strlen(cases[i][0]));
    }
}

Test(norm, fast_path_arabic_runs_agree_with_icu)
{
    static const uint32_t arabic[] = {0x0627, 0x0644, 0x0645, 0x0646, 0x0628, 0x062A, 0x0631, 0x064A, 0x0643,
                                      0x0621, 0x063A, 0x0641, 0x064A, 0x0648, 0x0647, 0x0629, 0x062C, 0x0639};
    static const uint32_t ascii[] = {'a', 'e', 't', 'o', 'n', 'z', 'A', 'Q', 'Z', '0', '7', '.', ',', '-', '\'', '"',
                                     '(', ')', '@', '~', '`', '{', 0x01, 0x1F, 0x7F};
    const uint32_t *letters = arabic;
    size_t n_letters = sizeof arabic / sizeof *arabic;
    static const uint32_t breaks[] = {0x0620, 0x063B, 0x063F, 0x0640, 0x064B, 0x064E, 0x0651, 0x0652, 0x0670,
                                      0x066E, 0x067E, 0x0686, 0x0698, 0x06A9, 0x06AF, 0x06CC, 0x06C0, 0x06D2,
                                      0x06D4, 0x060C, 0x061B, 0x061F, 0x0660, 0x0669, 0x06F0, 0x06F9, 0x06FF,
                                      0x0600, 0x0610, 0x06E1, 'a', 'Q', '.', '\n', 0x00A0, 0x200C, 0x0622, 0x0623,
                                      '\t', '\r', 0x00E9, 0x0301, 0x00C0, 0x0430, 0x0627};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    uint8_t buf[4 * 420 + 8];
    int long_runs = 0;
    for (int t = 0; t < 20000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 400), rate = 4 + (int)((x >> 12) % 60); /* about one break in rate characters */
        int lead = (int)((x >> 24) % 3);                              /* shifts the alignment: 0-2 ASCII first */
        letters = t % 2 ? ascii : arabic; /* runs of Arabic letters, or of ASCII characters */
        n_letters = t % 2 ? sizeof ascii / sizeof *ascii : sizeof arabic / sizeof *arabic;
        for (int k = 0; k < lead; k++) buf[n++] = 'x';
        int run = 0;
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t c;
            if ((int)((x >> 8) % (uint64_t)rate) == 0) {
                c = breaks[(x >> 20) % (sizeof breaks / sizeof *breaks)];
                if ((x >> 40) % 4 == 0) c = ' '; /* a second space */
                run = 0;
            } else if ((x >> 30) % 5 == 0 && run > 0) {
                c = ' ';
            } else {
                c = letters[(x >> 20) % n_letters];
                if (++run == 40) long_runs++;
            }
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)c, err);
            cr_assert_not(err);
        }
        if ((x >> 50) % 8 == 0) buf[n++] = ' '; /* a trailing space */
        fast_matches_icu(buf, n, "UTF-8", 0);
        (void)script_agrees(buf, n);
    }
    cr_assert_gt(long_runs, 2000, "texts with runs the fast path passes over: %d", long_runs);
    /* the letters it passes over are counted exactly: A Arabic letters in
     * runs, then A - 1, A or A + 1 Latin ones (a tie goes to the first met),
     * and the other way round */
    for (int t = 0; t < 6000; t++) {
        int latin_first = t >= 3000;
        size_t n = 0, first_n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = 1 + (int)(x % 300);
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (k > 0 && (x >> 30) % 6 == 0) buf[n++] = ' ';
            UBool err = false;
            UChar32 c = latin_first ? (UChar32)"abcdefghijklmnopqrstuvwxyzAZ"[(x >> 20) % 28]
                                    : (UChar32)arabic[(x >> 20) % (sizeof arabic / sizeof *arabic)];
            U8_APPEND(buf, n, (int32_t)sizeof buf, c, err);
            cr_assert_not(err);
            if (!latin_first && (x >> 44) % 9 == 0) buf[n++] = '.'; /* not a letter: not counted */
            if (latin_first && (x >> 44) % 9 == 0) buf[n++] = '7';
            first_n++;
        }
        int delta = (int)(t % 3) - 1;
        buf[n++] = ' ';
        for (int k = 0; k < (int)first_n + delta && n + 2 < sizeof buf; k++) {
            if (latin_first) { /* U+0628 */
                buf[n++] = 0xD8;
                buf[n++] = 0xA8;
            } else
                buf[n++] = 'a';
        }
        char *a = NULL;
        size_t an = 0;
        bool ua = false;
        char got[16];
        cr_assert_eq(na_text_normalize_script(buf, n, "UTF-8", 0, &a, &an, &ua, got), 0);
        const char *first = latin_first ? "Latn" : "Arab", *second = latin_first ? "Arab" : "Latn";
        cr_assert_str_eq(got, delta > 0 ? second : first, "%zu letters, then %zu", first_n, first_n + delta);
        free(a);
    }
}

/* The 32-byte runs against the per-character loop itself (na_text_simd 0
 * and 1): the same text, `unchanged` and script on long texts of Arabic and
 * ASCII runs broken at random, so archives are the same on CPUs without
 * AVX2.  (Where this CPU has no AVX2 both are the loop.) */
Test(norm, fast_path_runs_agree_with_the_loop)
{
    static const uint32_t palette[] = {0x0627, 0x0644, 0x0645, 0x064A, 0x0621, 0x063A, 0x0641, 0x06A9, 0x06CC,
                                       'a',    'Z',    'q',    '0',    '.',    ' ',    ' ',    ' ',    ' ',
                                       0x0640, 0x064E, 0x0651, 0x0660, 0x060C, '\n',   0x00A0, 0x00E9, 0x0301,
                                       0x200C, 0x0620, 0x063B, 0x06FF, 0x0430, 0xFEFF, 0x10400};
    uint64_t x = 0xA0761D6478BD642FULL;
    uint8_t buf[4 * 700 + 8];
    int top = na_text_simd(1);
    for (int t = 0; t < 20000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 700), simple = (int)((x >> 12) % 4); /* simple: mostly Arabic (1), ASCII (2) */
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t c = palette[(x >> 16) % (sizeof palette / sizeof *palette)];
            if (simple && (x >> 40) % 16 != 0) c = simple == 1 ? palette[(x >> 20) % 9] : (x >> 20) % 7 ? 'a' + (x >> 24) % 26 : ' ';
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)c, err);
            cr_assert_not(err);
        }
        char *a = NULL, *b = NULL, sa[16], sb[16];
        size_t an = 0, bn = 0;
        bool ua = false, ub = false;
        na_text_simd(0);
        int ra = na_text_normalize_script(buf, n, "UTF-8", 0, &a, &an, &ua, sa);
        na_text_simd(1);
        int rb = na_text_normalize_script(buf, n, "UTF-8", 0, &b, &bn, &ub, sb);
        cr_assert_eq(ra, rb);
        cr_assert(an == bn && !memcmp(a, b, an) && ua == ub, "per character and 32 bytes at a time differ on %zu bytes", n);
        cr_assert_str_eq(sa, sb, "script of %zu bytes", n);
        free(a);
        free(b);
    }
    cr_assert_eq(na_text_simd(-1), top);
}

/* ---- script ------------------------------------------------------------- */

static void expect_script(const char *s, const char *want)
{
    char out[16];
    cr_assert_eq(na_text_script((const uint8_t *)s, strlen(s), out), 0);
    cr_assert_str_eq(out, want, "text \"%s\"", s);
}

Test(script, dominant_script)
{
    blob ar = fixture("arabic.utf8.txt"), fa = fixture("persian.utf8.txt");
    char out[16];
    cr_assert_eq(na_text_script(ar.p, ar.n, out), 0);
    cr_assert_str_eq(out, "Arab");
    cr_assert_eq(na_text_script(fa.p, fa.n, out), 0);
    cr_assert_str_eq(out, "Arab");
    free(ar.p);
    free(fa.p);
    expect_script("The minister said on Tuesday", "Latn");
    expect_script("\xd0\x9c\xd0\xb8\xd0\xbd\xd0\xb8\xd1\x81\xd1\x82\xd1\x80 \xd1\x81\xd0\xba\xd0\xb0\xd0\xb7\xd0\xb0\xd0\xbb",
                  "Cyrl");
    expect_script("\xe6\x96\xb0\xe9\x97\xbb\xe6\x8a\xa5\xe9\x81\x93", "Hani");
    expect_script("\xeb\x89\xb4\xec\x8a\xa4 \xea\xb8\xb0\xec\x82\xac", "Hang");
    expect_script("\xd7\x97\xd7\x93\xd7\xa9\xd7\x95\xd7\xaa", "Hebr");
    /* mostly Arabic with Latin names and digits */
    expect_script("\xd9\x82\xd8\xa7\xd9\x84 \xd8\xa7\xd9\x84\xd9\x88\xd8\xb2\xd9\x8a\xd8\xb1 BBC 2024 "
                  "\xd8\xa5\xd9\x86 \xd8\xa7\xd9\x84\xd9\x85\xd8\xb4\xd8\xb1\xd9\x88\xd8\xb9",
                  "Arab");
    expect_script("2024 -- !!! \xd9\xa1\xd9\xa2", "Zyyy"); /* digits and punctuation only */
    expect_script("", "Zyyy");
    expect_script("\xff\xfe abc \xc0", "Latn"); /* invalid bytes skipped */
    cr_assert_eq(na_text_script(NULL, 1, out), NEWSARC_E_ARG);
}

/* The dominant letter script the plain way: every character through ICU, none from tables or fast paths. */
static void script_reference(const uint8_t *s, size_t n, char out[16])
{
    static size_t count[USCRIPT_CODE_LIMIT];
    static int32_t first[USCRIPT_CODE_LIMIT];
    memset(count, 0, sizeof count);
    int32_t order = 0;
    for (int32_t i = 0; i < (int32_t)n;) {
        UChar32 c;
        U8_NEXT(s, i, (int32_t)n, c);
        if (c < 0) continue;
        int8_t gc = u_charType(c);
        if (gc != U_UPPERCASE_LETTER && gc != U_LOWERCASE_LETTER && gc != U_TITLECASE_LETTER &&
            gc != U_MODIFIER_LETTER && gc != U_OTHER_LETTER)
            continue;
        UErrorCode e = U_ZERO_ERROR;
        int32_t sc = uscript_getScript(c, &e);
        if (U_FAILURE(e) || sc < 0 || sc >= USCRIPT_CODE_LIMIT || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED ||
            sc == USCRIPT_UNKNOWN)
            continue;
        if (count[sc]++ == 0) first[sc] = order++;
    }
    int32_t best = -1;
    for (int32_t sc = 0; sc < USCRIPT_CODE_LIMIT; sc++)
        if (count[sc] && (best < 0 || count[sc] > count[best] || (count[sc] == count[best] && first[sc] < first[best])))
            best = sc;
    snprintf(out, 16, "%s", best >= 0 ? uscript_getShortName((UScriptCode)best) : "Zyyy");
}

Test(script, agrees_with_icu_character_by_character)
{
    /* Latin, Arabic, Cyrillic, Hebrew, Greek (2 bytes), Devanagari, Han, Hangul (3), supplementary (4),
     * digits and marks that count for nothing, and broken sequences */
    static const uint32_t palette[] = {'a', 'Z', '1', ' ', 0xE9, 0x0627, 0x0644, 0x06CC, 0x064E, 0x0430, 0x05D0,
                                       0x03B1, 0x0915, 0x4E2D, 0xAC00, 0x10400, 0x1D400, 0x0660, 0x02B0, 0x00AA};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    uint8_t buf[4 * 64 + 8];
    for (int t = 0; t < 20000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 60);
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if ((x & 0x3F) == 5) { /* a lead byte without its tail, or a stray continuation byte */
                buf[n++] = (x & 0x40) ? 0xD9 : 0xB8;
                continue;
            }
            if ((x & 0x3F) == 9) {
                buf[n++] = 0xE4;
                buf[n++] = 0xB8;
                continue;
            }
            uint32_t c = palette[(x >> 16) % (sizeof palette / sizeof *palette)];
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)c, err);
            cr_assert_not(err);
        }
        char got[16], want[16];
        cr_assert_eq(na_text_script(buf, n, got), 0);
        script_reference(buf, n, want);
        cr_assert_str_eq(got, want, "script of %zu bytes", n);
    }
}

/* na_text_normalize_script (pack's one pass over the text when the fast
 * path normalizes it) against normalizing, then the reference script of
 * the result: letters of many scripts (past the tally's 16 in one text),
 * white space, line ends, tatweel and BOMs the fast path edits, and marks,
 * supplementary characters and broken bytes it leaves to ICU. */
Test(script, counted_while_normalizing_agrees)
{
    static const uint32_t palette[] = {
        'a',    0x03B1, 0x0430, 0x0561, 0x05D0, 0x0627, 0x0710, 0x0780, 0x0915, 0x0995, 0x0A15, 0x0A95, 0x0B15,
        0x0B95, 0x0C15, 0x0C95, 0x0D15, 0x0D85, 0x0E01, 0x0E81, 0x0F40, 0x1000, 0x10D0, 0xAC00, 0x1200, 0x13A0,
        0x1780, 0x1820, 0x3042, 0x30A2, 0x4E2D, ' ',    ' ',    '\r',   '\n',   0x0640, 0x00A0, 0xFEFF, '7',
        0x0651, 0x10400, 'e',   0x0644, 0x0644};
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    uint8_t buf[4 * 200 + 8];
    int fast = 0;
    for (int t = 0; t < 6000; t++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = (int)(x % 200);
        int simple = (x >> 20) % 3 != 0; /* mostly texts the fast path takes */
        for (int k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (!simple && (x & 0x7F) == 5) {
                buf[n++] = 0xD9; /* a lead byte without its tail */
                continue;
            }
            size_t np = sizeof palette / sizeof *palette - (simple ? 5 : 0); /* the last five: ICU's */
            uint32_t c = palette[(x >> 16) % np];
            if (simple && (c == 0x0651 || c == 0x10400)) c = 'b';
            UBool err = false;
            U8_APPEND(buf, n, (int32_t)sizeof buf, (UChar32)c, err);
            cr_assert_not(err);
        }
        fast += script_agrees(buf, n) || simple;
    }
    cr_assert_gt(fast, 3000, "the fast path was taken");
}

/* ---- MinHash ------------------------------------------------------------ */

#define K 128

static void sig_of(const blob *b, uint64_t sig[K]) { cr_assert_eq(na_text_minhash((const char *)b->p, b->n, K, sig), 0); }

Test(minhash, syndicated_copy_and_unrelated)
{
    blob a = fixture("article.txt"), s = fixture("article_syndicated.txt"), u = fixture("article_unrelated.txt");
    uint64_t sa[K], ss[K], su[K];
    sig_of(&a, sa);
    sig_of(&s, ss);
    sig_of(&u, su);
    double syn = na_minhash_similarity(sa, ss, K), unrel = na_minhash_similarity(sa, su, K);
    cr_assert_gt(syn, 0.7, "syndicated copy similarity %.3f", syn);
    cr_assert_lt(unrel, 0.2, "unrelated similarity %.3f", unrel);
    cr_assert_eq(na_minhash_similarity(sa, sa, K), 1.0);
    free(a.p);
    free(s.p);
    free(u.p);
}

Test(minhash, case_and_normalization_do_not_matter)
{
    const char *x = "Caf\xc3\xa9 owners RAISE prices again, says the report";
    const char *y = "cafe\xcc\x81 Owners raise PRICES again -- says the report!";
    uint64_t a[K], b[K];
    cr_assert_eq(na_text_minhash(x, strlen(x), K, a), 0);
    cr_assert_eq(na_text_minhash(y, strlen(y), K, b), 0);
    cr_assert_eq(na_minhash_similarity(a, b, K), 1.0);
}

Test(minhash, deterministic_values)
{
    /* pinned: the signature must not change across runs, machines or versions */
    const char *s = "The quick brown fox jumps over the lazy dog.";
    uint64_t sig[4];
    cr_assert_eq(na_text_minhash(s, strlen(s), 4, sig), 0);
    static const uint64_t want[4] = {0x25169b9dcb792586ULL, 0x32cd9d8a975ab702ULL, 0x63ff34acfdf19e7dULL,
                                     0x15c9a9f3308f3593ULL};
    for (int i = 0; i < 4; i++) cr_assert_eq(sig[i], want[i], "sig[%d] = 0x%016llx", i, (unsigned long long)sig[i]);
    const char *ar = "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9"; /* one token: one shingle */
    cr_assert_eq(na_text_minhash(ar, strlen(ar), 2, sig), 0);
    cr_assert_eq(sig[0], 0x5a9b61b2e12437efULL);
    cr_assert_eq(sig[1], 0xf92ac5cba1808692ULL);
}

Test(minhash, edge_cases)
{
    uint64_t sig[8];
    cr_assert_eq(na_text_minhash("", 0, 8, sig), 0);
    for (int i = 0; i < 8; i++) cr_assert_eq(sig[i], UINT64_MAX);
    cr_assert_eq(na_text_minhash(" ,.; ", 5, 8, sig), 0); /* no word tokens */
    cr_assert_eq(sig[0], UINT64_MAX);
    cr_assert_eq(na_text_minhash("x", 1, 0, sig), NEWSARC_E_ARG);
    cr_assert_eq(na_text_minhash("x", 1, NA_MINHASH_MAX_K + 1, sig), NEWSARC_E_ARG);
    cr_assert_eq(na_text_minhash(NULL, 1, 8, sig), NEWSARC_E_ARG);
    cr_assert_eq(na_text_minhash("a\xff\xfe b c d", 10, 8, sig), 0); /* invalid UTF-8 is read as U+FFFD */
    cr_assert_eq(na_minhash_similarity(sig, sig, 0), 0.0);
}
