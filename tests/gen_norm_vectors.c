/*
 * gen_norm_vectors - writes spec/vectors/norm_vectors.json from the cases
 * below, using lib/text.c.  spec/vectors/check_norm_vectors.py recomputes
 * every vector with Python's unicodedata and hashlib, independently.
 *
 * build: cc -std=c17 -I lib lib/text.c tests/gen_norm_vectors.c \
 *          $(pkg-config --cflags --libs icu-uc icu-i18n libsodium) -o /tmp/gen_norm_vectors
 * run:   /tmp/gen_norm_vectors > spec/vectors/norm_vectors.json
 */
#include "text.h"

#include <stdio.h>
#include <unicode/uversion.h>
#include <stdlib.h>
#include <string.h>

typedef struct vcase {
    const char *name;
    const char *input; /* bytes */
    size_t len;        /* 0: strlen(input) */
    const char *charset;
    uint32_t options;
} vcase;

#define S(x) x, sizeof(x) - 1

static const vcase cases[] = {
    {"empty", S(""), "UTF-8", 0},
    {"ascii", S("Hello, world."), "UTF-8", 0},
    {"only whitespace", S(" \t\r\n\xc2\xa0\xe3\x80\x80 "), "UTF-8", 0},
    {"whitespace runs: spaces, tabs, NBSP, ideographic space", S("  a \t b\xc2\xa0\xc2\xa0" "c\xe3\x80\x80" "d  "),
     "UTF-8", 0},
    {"a run with a line break becomes one LF", S("para one.  \r\n \r\n\t para two.\n\n\n\npara three."), "UTF-8",
     0},
    {"line terminators CR, VT, FF, NEL, LS, PS", S("a\rb\x0b" "c\x0c" "d\xc2\x85" "e\xe2\x80\xa8" "f\xe2\x80\xa9g"),
     "UTF-8", 0},
    {"NFD e + acute composes", S("caf\x65\xcc\x81 cr\x65\xcc\x80me"), "UTF-8", 0},
    {"NFC input is unchanged", S("caf\xc3\xa9 cr\xc3\xa8me"), "UTF-8", 0},
    {"mark order a+dot below+circumflex", S("\x61\xcc\x82\xcc\xa3 \x61\xcc\xa3\xcc\x82"), "UTF-8", 0},
    {"singletons Angstrom and Ohm", S("\xe2\x84\xab \xe2\x84\xa6"), "UTF-8", 0},
    {"Hangul jamo compose", S("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"), "UTF-8", 0},
    {"composition exclusion U+1D15E stays decomposed", S("\xf0\x9d\x85\x9e"), "UTF-8", 0},
    {"compatibility characters are kept (not NFKC)", S("\xef\xac\x81 \xe2\x91\xa0 \xef\xbc\xa1"), "UTF-8", 0},
    {"tatweel removed", S("\xd8\xa7\xd9\x84\xd9\x80\xd9\x80\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9"), "UTF-8", 0},
    {"tatweel between alef and madda: alef with madda results",
     S("\xd8\xa7\xd9\x80\xd9\x93\xd8\xb1"), "UTF-8", 0},
    {"ZWNJ is kept, an inner BOM removed", S("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xb4\xd9\x88\xd8\xaf x\xef\xbb\xbfy"),
     "UTF-8", 0},
    {"leading BOM removed", S("\xef\xbb\xbfHello"), "UTF-8", 0},
    {"leading combining mark", S(" \xcc\x81" "a"), "UTF-8", 0},
    {"invalid UTF-8: maximal subparts become U+FFFD", S("a\xe2\x82" "b\xff" "c\xf0\x9f\x98"), "UTF-8", 0},
    {"surrogate and overlong in UTF-8", S("x\xed\xa0\x80y\xc0\xafz"), "UTF-8", 0},
    {"emoji and supplementary letters", S("\xf0\x9f\x93\xb0 \xf0\x90\x90\x80"), "UTF-8", 0},
    {"Arabic with harakat, default keeps them",
     S("\xd9\x8a\xd9\x8e\xd8\xb0\xd9\x92\xd9\x87\xd9\x8e\xd8\xa8\xd9\x8f \xd8\xa7\xd9\x84\xd9\x92\xd9\x88\xd9\x8e"
       "\xd9\x84\xd9\x8e\xd8\xaf\xd9\x8f"),
     "UTF-8", 0},
    {"Arabic with harakat, STRIP_DIACRITICS",
     S("\xd9\x8a\xd9\x8e\xd8\xb0\xd9\x92\xd9\x87\xd9\x8e\xd8\xa8\xd9\x8f \xd8\xa7\xd9\x84\xd9\x92\xd9\x88\xd9\x8e"
       "\xd9\x84\xd9\x8e\xd8\xaf\xd9\x8f"),
     "UTF-8", NA_NORM_STRIP_DIACRITICS},
    {"shadda, tanwin, superscript alef, STRIP_DIACRITICS",
     S("\xd9\x85\xd8\xad\xd9\x85\xd9\x91\xd8\xaf\xd9\x8c \xd9\x87\xd9\xb0\xd8\xb0\xd8\xa7"), "UTF-8",
     NA_NORM_STRIP_DIACRITICS},
    {"hamza forms survive STRIP_DIACRITICS", S("\xd8\xa3 \xd8\xa5 \xd8\xa2 \xd8\xa4 \xd8\xa6"), "UTF-8",
     NA_NORM_STRIP_DIACRITICS},
    {"Latin, Greek, Vietnamese, Cyrillic accents, STRIP_DIACRITICS",
     S("Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e, \xce\xac\xce\xbb\xce\xbb\xce\xb7, Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t, "
       "\xd0\xb9\xd0\xbe\xd0\xb4 \xd1\x91\xd0\xb6"),
     "UTF-8", NA_NORM_STRIP_DIACRITICS},
    {"Hebrew points, STRIP_DIACRITICS", S("\xd7\xa9\xd6\xb8\xd7\x81\xd7\x9c\xd7\x95\xd6\xb9\xd7\x9d"), "UTF-8",
     NA_NORM_STRIP_DIACRITICS},
    {"alef variants, UNIFY_ALEF_YEH", S("\xd8\xa3\xd8\xad\xd9\x85\xd8\xaf \xd8\xa5\xd9\x84\xd9\x89 \xd8\xa2\xd9\x85\xd9\x86"
                                        " \xd9\xb1\xd9\x84\xd9\x84\xd9\x87"),
     "UTF-8", NA_NORM_UNIFY_ALEF_YEH},
    {"Persian yeh and keheh, UNIFY_ALEF_YEH", S("\xda\xa9\xd8\xaa\xd8\xa7\xd8\xa8 \xd9\x85\xdb\x8c \xd8\xb9\xd9\x84\xd9\x89"),
     "UTF-8", NA_NORM_UNIFY_ALEF_YEH},
    {"yeh with hamza stays, UNIFY_ALEF_YEH", S("\xd8\xa6 \xd8\xa4 \xdb\x8c\xd9\x94"), "UTF-8",
     NA_NORM_UNIFY_ALEF_YEH},
    {"alef + fatha + hamza above (NFD order), UNIFY_ALEF_YEH", S("\xd8\xa3\xd9\x8e\xd8\xa8"), "UTF-8",
     NA_NORM_UNIFY_ALEF_YEH},
    {"alef + tatweel + hamza above, UNIFY_ALEF_YEH", S("\xd8\xa7\xd9\x80\xd9\x94"), "UTF-8",
     NA_NORM_UNIFY_ALEF_YEH},
    {"both options", S("\xd8\xa3\xd9\x8e\xd9\x86\xd9\x8e\xd8\xa7 \xd9\x81\xdb\x8c \xd8\xa7\xd9\x84\xd9\x80\xd9\x80"
                       "\xda\xa9\xd8\xaa\xd8\xa7\xd8\xa8\xd9\x90"),
     "UTF-8", NA_NORM_STRIP_DIACRITICS | NA_NORM_UNIFY_ALEF_YEH},
    {"windows-1256 Arabic", S("\xc7\xe1\xda\xd1\xc8\xed\xc9 \xdc\xdc \xc3\xe5\xe1\xc7\xf0\r\n"), "windows-1256", 0},
    {"windows-1256 Persian with ZWNJ, keheh, gaf", S("\x98\xc7\x90\xd0 \xe3\xed\x9d\xd4\xe6\xcf"), "windows-1256", 0},
    {"ISO-8859-6 Arabic", S("\xc7\xe4\xd9\xd1\xc8\xea\xc9 \xe0\xe0 \xc3\xe7\xe4\xc7\xeb\r\n"), "ISO-8859-6", 0},
    {"windows-1252 curly quotes and euro", S("\x93quoted\x94 \x80" "5 caf\xe9"), "windows-1252", 0},
    {"UTF-16LE with BOM", S("\xff\xfeH\x00i\x00 \x00\x01\x06"), "UTF-16LE", 0},
};

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int main(void)
{
    FILE *f = stdout;
    fprintf(f, "{\n  \"spec\": \"spec/NORMALIZATION.md\",\n  \"version\": 1,\n");
    fprintf(f, "  \"note\": \"Generated by tests/gen_norm_vectors.c (lib/text.c, ICU %s); checked independently by "
               "spec/vectors/check_norm_vectors.py (Python unicodedata + hashlib). One vector per line. "
               "normalized_hex is the UTF-8 normalized text; norm_id is the first 16 bytes of its BLAKE2b-256.\",\n",
            U_ICU_VERSION);
    fprintf(f, "  \"options\": {\"STRIP_DIACRITICS\": %u, \"UNIFY_ALEF_YEH\": %u},\n", NA_NORM_STRIP_DIACRITICS,
            NA_NORM_UNIFY_ALEF_YEH);
    fprintf(f, "  \"vectors\": [\n");
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        const vcase *c = &cases[i];
        char *out;
        size_t out_len;
        uint8_t id[NA_NORM_ID_SIZE];
        if (na_text_normalize((const uint8_t *)c->input, c->len, c->charset, c->options, &out, &out_len) != 0 ||
            na_text_norm_id((const uint8_t *)c->input, c->len, c->charset, c->options, id) != 0) {
            fprintf(stderr, "gen_norm_vectors: case '%s' failed\n", c->name);
            return 1;
        }
        fprintf(f, "    {\"name\": ");
        json_string(f, c->name);
        fprintf(f, ", \"input_hex\": \"");
        hex(f, (const uint8_t *)c->input, c->len);
        fprintf(f, "\", \"charset\": \"%s\", \"options\": %u, \"normalized_hex\": \"", c->charset, c->options);
        hex(f, (const uint8_t *)out, out_len);
        fprintf(f, "\", \"norm_id\": \"");
        hex(f, id, sizeof id);
        fprintf(f, "\"}%s\n", i + 1 < n ? "," : "");
        free(out);
    }
    fprintf(f, "  ]\n}\n");
    return 0;
}
