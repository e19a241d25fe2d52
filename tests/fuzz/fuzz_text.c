/*
 * fuzz_text.c - libFuzzer target: the text information's shortcuts against
 * ICU's whole path (spec/NORMALIZATION.md, lib/text.c).
 *
 * Input: byte 0 = options: bit 0 the fast path's 32-byte AVX2 runs on or
 * off, bits 1-3 the charset the text is normalized as (see charsets: CESU-8
 * gives unpaired surrogates); the
 * rest is the text (any bytes: valid, damaged or legacy-encoded).
 * Invariants:
 *   - na_text_normalize_ex (fast path, decoded route, ICU stretches) and
 *     na_text_normalize_icu (ICU only) return the same code and text;
 *   - `unchanged` only when the text is the input, byte for byte;
 *   - na_text_normalize_script gives that text and `unchanged`, and the
 *     script na_text_script finds in ICU's text;
 *   - na_text_charset gives the same verdict with the single-byte charsets'
 *     byte tables as with ICU decoding the whole text.
 */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_text: invariant failed: %s\n", what);
        abort();
    }
}

static const char *const charsets[8] = {"UTF-8",  "UTF-8",     "windows-1256", "ISO-8859-6",
                                        "KOI8-R", "Shift_JIS", "UTF-16LE",     "CESU-8"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t opt = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    const char *cs = charsets[(opt >> 1) & 7];
    na_text_simd(opt & 1);

    char *a = NULL, *b = NULL, *c = NULL;
    size_t al = 0, bl = 0, cl = 0;
    bool ua = false, uc = false;
    char script[16], want[16];
    int ra = na_text_normalize_ex(p, n, cs, 0, &a, &al, &ua);
    int rb = na_text_normalize_icu(p, n, cs, 0, &b, &bl);
    must(ra == rb, "fast and ICU return codes differ");
    if (ra == 0) {
        must(al == bl && memcmp(a, b, al) == 0, "fast and ICU normalizations differ");
        must(!ua || (al == n && memcmp(a, p, n) == 0), "'unchanged' for a changed text");
        int rc = na_text_normalize_script(p, n, cs, 0, &c, &cl, &uc, script);
        must(rc == 0, "normalize_script failed where normalize did not");
        must(cl == al && memcmp(c, a, al) == 0 && uc == ua, "normalize_script's text differs");
        must(na_text_script((const uint8_t *)b, bl, want) == 0, "na_text_script failed");
        must(strcmp(script, want) == 0, "script counted while normalizing differs from ICU's text's");
    }
    free(a);
    free(b);
    free(c);

    na_charset_info on, off;
    memset(&on, 0, sizeof on);
    memset(&off, 0, sizeof off);
    na_text_byte_tables(1);
    int r1 = na_text_charset(p, n, NULL, &on);
    na_text_byte_tables(0);
    int r2 = na_text_charset(p, n, NULL, &off);
    na_text_byte_tables(1);
    must(r1 == r2, "charset return codes differ with byte tables");
    if (r1 == 0) must(memcmp(&on, &off, sizeof on) == 0, "charset verdicts differ with byte tables");
    na_text_simd(1);
    return 0;
}
