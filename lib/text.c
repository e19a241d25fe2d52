/*
 * text.c - charset choice, decoding, normalized-text ids, script and MinHash
 * over article text, all through ICU (see text.h for the contracts and
 * spec/NORMALIZATION.md for the exact normalization).
 *
 * The module is self-contained (ICU + libsodium) so it can be built and
 * tested on its own.  It never prints and keeps no state between calls
 * except read-only tables of per-character properties built from ICU on
 * first use (fast paths of normalization and script) and, per thread, ICU's
 * answers about charset labels (label_memo: names, and the single-byte
 * charsets' tables of bytes that do not decode cleanly).
 */
#include "text.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "icu.h"

#include <unicode/utf16.h>
#include <unicode/utf8.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NA_TEXT_AVX2 1
#endif

/* ---- small helpers ------------------------------------------------------ */

static int ascii_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

static bool is_space_byte(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Case-insensitive match of the ASCII word w at b[i..n). */
static bool match_ci(const uint8_t *b, size_t n, size_t i, const char *w)
{
    size_t wl = strlen(w);
    if (i > n || n - i < wl) return false;
    for (size_t j = 0; j < wl; j++)
        if (ascii_lower(b[i + j]) != w[j]) return false;
    return true;
}

static bool is_label_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':' || c == '+';
}

static void copy_name(char dst[NA_CHARSET_NAME], const char *src)
{
    size_t n = strlen(src);
    if (n >= NA_CHARSET_NAME) n = NA_CHARSET_NAME - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A label we are willing to hand to ucnv_open: no options (","), no empty name. */
static bool label_ok(const char *label)
{
    size_t n = label ? strlen(label) : 0;
    if (n == 0 || n >= NA_CHARSET_NAME) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_label_char((uint8_t)label[i])) return false;
    return true;
}

/* ---- charset names ------------------------------------------------------ */

/*
 * What ICU says about a label (its converter's name and widest character),
 * remembered per thread: choosing a legacy text's charset asks it for the
 * same few dozen labels again and again (widened_name alone checks a label
 * against 11 others), and every answer opened a converter: 60,000 opens for
 * the 425 files of a legacy-encoding test set.  Only answers are kept (an
 * unknown label or a failed open is asked again); ICU's data does not
 * change within a process, so the answers do not depend on the memo.
 */
typedef struct label_memo {
    char label[NA_CHARSET_NAME];
    char icu[NA_CHARSET_NAME];
    int8_t max_char; /* ucnv_getMaxCharSize */
    int8_t bytes;    /* 0 not built, 1 bad[] holds, -1 no table (not single-byte, or ICU failed) */
    uint64_t bad[4]; /* the bytes that do not decode, or decode to U+0000 or a C1 control */
} label_memo;
#define LABEL_MEMO 64
static _Thread_local label_memo g_label_memo[LABEL_MEMO];
static _Thread_local unsigned g_label_memo_n, g_label_memo_next;

static label_memo *label_info(const char *label)
{
    if (!label_ok(label)) return NULL;
    for (unsigned i = 0; i < g_label_memo_n; i++)
        if (strcmp(g_label_memo[i].label, label) == 0) return &g_label_memo[i];
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = na_icu.ucnv_open(label, &e);
    if (U_FAILURE(e) || !c) return NULL;
    const char *nm = na_icu.ucnv_getName(c, &e);
    label_memo *m = NULL;
    if (U_SUCCESS(e) && nm) {
        unsigned at = g_label_memo_n < LABEL_MEMO ? g_label_memo_n++ : g_label_memo_next++ % LABEL_MEMO;
        m = &g_label_memo[at];
        copy_name(m->label, label);
        copy_name(m->icu, nm);
        m->max_char = na_icu.ucnv_getMaxCharSize(c);
        m->bytes = 0;
    }
    na_icu.ucnv_close(c);
    return m;
}

/* ICU's internal converter name for label, copied to icu; false if unknown. */
static bool icu_name(const char *label, char icu[NA_CHARSET_NAME])
{
    const label_memo *m = label_info(label);
    if (m) copy_name(icu, m->icu);
    return m != NULL;
}

/*
 * Canonical name of a charset: resolve the label to ICU's converter, then
 * that converter's preferred MIME name, else IANA, WINDOWS, JAVA, else ICU's
 * own name.  Depends only on the converter, never on the spelling of the
 * label.  ICU tags its UHC converter's MIME name "KSC_5601", which names the
 * character set, not the encoding: that one is overridden.
 */
static bool canonical_name(const char *label, char out[NA_CHARSET_NAME])
{
    char icu[NA_CHARSET_NAME];
    if (!icu_name(label, icu)) return false;
    if (strcmp(icu, "windows-949-2000") == 0) {
        copy_name(out, "windows-949");
        return true;
    }
    static const char *const standards[] = {"MIME", "IANA", "WINDOWS", "JAVA"};
    for (size_t i = 0; i < sizeof standards / sizeof standards[0]; i++) {
        UErrorCode e = U_ZERO_ERROR;
        const char *s = na_icu.ucnv_getStandardName(icu, standards[i], &e);
        if (U_SUCCESS(e) && s && *s && strlen(s) < NA_CHARSET_NAME) {
            copy_name(out, s);
            return true;
        }
    }
    copy_name(out, icu);
    return true;
}

/* canonical_name("UTF-8"), asked for every text: found once (it opens a converter) */
static char g_utf8_name[NA_CHARSET_NAME];
static pthread_once_t g_utf8_name_once = PTHREAD_ONCE_INIT;

static void find_utf8_name(void)
{
    if (!canonical_name("UTF-8", g_utf8_name)) copy_name(g_utf8_name, "UTF-8");
}

static void utf8_name(char out[NA_CHARSET_NAME])
{
    pthread_once(&g_utf8_name_once, find_utf8_name);
    copy_name(out, g_utf8_name);
}

static bool same_converter(const char *a, const char *b)
{
    char x[NA_CHARSET_NAME], y[NA_CHARSET_NAME];
    return icu_name(a, x) && icu_name(b, y) && strcmp(x, y) == 0;
}

/*
 * Labels whose text in the wild is in a superset (what browsers do, WHATWG
 * Encoding Standard): the superset decodes every valid sequence of the
 * subset to the same graphic characters, and also decodes what the label
 * gets wrong (C1 bytes as typographic quotes, GBK/UHC extension characters).
 */
static const char *const superset_table[][2] = {
    {"US-ASCII", "windows-1252"},   {"ISO-8859-1", "windows-1252"}, {"ISO-8859-9", "windows-1254"},
    {"TIS-620", "windows-874"},     {"ISO-8859-11", "windows-874"}, {"GB2312", "GB18030"},
    {"GBK", "GB18030"},             {"EUC-KR", "windows-949"},      {"KS_C_5601-1987", "windows-949"},
    {"ibm-949", "windows-949"},     {"Shift_JIS", "windows-31j"},
};

/* The canonical name to decode a label with (its superset if any); false if unknown. */
static bool widened_name(const char *label, char out[NA_CHARSET_NAME])
{
    char icu[NA_CHARSET_NAME], other[NA_CHARSET_NAME];
    if (!icu_name(label, icu)) return false;
    for (size_t i = 0; i < sizeof superset_table / sizeof superset_table[0]; i++)
        if (icu_name(superset_table[i][0], other) && strcmp(icu, other) == 0)
            return canonical_name(superset_table[i][1], out);
    return canonical_name(label, out);
}

/* UTF-16 and UTF-32 in any byte order: only chosen on a BOM or zero-byte pattern. */
static bool is_utf16_32(const char *name)
{
    return strncmp(name, "UTF-16", 6) == 0 || strncmp(name, "UTF-32", 6) == 0 || strncmp(name, "utf-16", 6) == 0 ||
           strncmp(name, "utf-32", 6) == 0;
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct subst_ctx {
    bool hit;
} subst_ctx;

/* toUnicode callback: every illegal, unassigned or irregular sequence becomes one U+FFFD. */
static void U_CALLCONV to_u_fffd(const void *context, UConverterToUnicodeArgs *args, const char *units,
                                 int32_t length, UConverterCallbackReason reason, UErrorCode *err)
{
    (void)units;
    (void)length;
    if (reason > UCNV_IRREGULAR) return; /* reset / close / clone: nothing to do */
    ((subst_ctx *)(uintptr_t)context)->hit = true;
    static const UChar fffd = 0xFFFD;
    *err = U_ZERO_ERROR;
    na_icu.ucnv_cbToUWriteUChars(args, &fffd, 1, 0, err);
}

/*
 * Decode buf with charset into a malloc'd UTF-16 string, one leading U+FEFF
 * removed.  *u is NUL-terminated; *ulen excludes the NUL.
 */
static int decode_uchars(const uint8_t *buf, size_t len, const char *charset, UChar **u, int32_t *ulen,
                         bool *substituted)
{
    *u = NULL;
    *ulen = 0;
    if (substituted) *substituted = false;
    if ((!buf && len) || !charset) return NEWSARC_E_ARG;
    if (len > NA_TEXT_MAX_INPUT) return NEWSARC_E_LIMIT;
    if (!label_ok(charset)) return NEWSARC_E_UNSUPPORTED;
    if (strcmp(charset, "UTF-8") == 0 && na_utf8_valid(buf, len)) {
        /* what ICU's converter gives for valid UTF-8, without opening one
         * (per text, that was as costly as the rest of the decoding); a
         * sequence gives at most as many UTF-16 units as it has bytes */
        UChar *d = malloc((len + 1) * sizeof(UChar));
        if (!d) return NEWSARC_E_NOMEM;
        size_t n = 0;
        for (size_t i = 0; i < len;) {
            UChar32 cp;
            U8_NEXT_UNSAFE(buf, i, cp);
            if (cp <= 0xFFFF) d[n++] = (UChar)cp;
            else {
                d[n++] = U16_LEAD(cp);
                d[n++] = U16_TRAIL(cp);
            }
        }
        size_t bom = n > 0 && d[0] == 0xFEFF;
        if (bom) memmove(d, d + 1, (n - 1) * sizeof(UChar));
        n -= bom;
        d[n] = 0;
        *u = d;
        *ulen = (int32_t)n;
        return 0;
    }
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = na_icu.ucnv_open(charset, &e);
    if (U_FAILURE(e) || !c) return NEWSARC_E_UNSUPPORTED;
    subst_ctx ctx = {false};
    na_icu.ucnv_setToUCallBack(c, to_u_fffd, &ctx, NULL, NULL, &e);
    if (U_FAILURE(e)) {
        na_icu.ucnv_close(c);
        return NEWSARC_E_UNSUPPORTED;
    }
    size_t cap = len + 16; /* grows when a charset expands */
    UChar *dst = malloc(cap * sizeof(UChar));
    if (!dst) {
        na_icu.ucnv_close(c);
        return NEWSARC_E_NOMEM;
    }
    const char *src = (const char *)buf, *src_end = (const char *)buf + len;
    size_t used = 0;
    for (;;) {
        UChar *t = dst + used;
        e = U_ZERO_ERROR;
        na_icu.ucnv_toUnicode(c, &t, dst + cap - 1, &src, src_end, NULL, true, &e);
        used = (size_t)(t - dst);
        if (e != U_BUFFER_OVERFLOW_ERROR) break;
        if (cap > (size_t)INT32_MAX / 2) {
            e = U_INDEX_OUTOFBOUNDS_ERROR;
            break;
        }
        UChar *bigger = realloc(dst, cap * 2 * sizeof(UChar));
        if (!bigger) {
            free(dst);
            na_icu.ucnv_close(c);
            return NEWSARC_E_NOMEM;
        }
        dst = bigger;
        cap *= 2;
    }
    na_icu.ucnv_close(c);
    if (U_FAILURE(e)) {
        free(dst);
        return e == U_INDEX_OUTOFBOUNDS_ERROR ? NEWSARC_E_LIMIT : NEWSARC_E_UNSUPPORTED;
    }
    size_t skip = (used > 0 && dst[0] == 0xFEFF) ? 1 : 0;
    if (skip) memmove(dst, dst + 1, (used - 1) * sizeof(UChar));
    used -= skip;
    dst[used] = 0;
    *u = dst;
    *ulen = (int32_t)used;
    if (substituted) *substituted = ctx.hit;
    return 0;
}

/*
 * UTF-16 -> malloc'd NUL-terminated UTF-8 (lone surrogates become U+FFFD),
 * in one call: a unit gives at most 3 bytes (a surrogate pair 4 for 2).
 */
static int uchars_to_utf8(const UChar *u, int32_t ulen, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (ulen < 0 || ulen > (INT32_MAX - 1) / 3) return NEWSARC_E_LIMIT;
    int32_t cap = 3 * ulen + 1;
    char *s = malloc((size_t)cap);
    if (!s) return NEWSARC_E_NOMEM;
    UErrorCode e = U_ZERO_ERROR;
    int32_t need = 0, nsub = 0;
    na_icu.u_strToUTF8WithSub(s, cap, &need, u, ulen, 0xFFFD, &nsub, &e);
    if (U_FAILURE(e) || need < 0 || need >= cap) {
        free(s);
        return NEWSARC_E_LIMIT;
    }
    s[need] = '\0';
    *out = s;
    *out_len = (size_t)need;
    return 0;
}

int na_text_to_utf8(const uint8_t *buf, size_t len, const char *charset, char **out, size_t *out_len,
                    bool *substituted)
{
    if (!out || !out_len) return NEWSARC_E_ARG;
    *out = NULL;
    *out_len = 0;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    UChar *u;
    int32_t ulen;
    int rc = decode_uchars(buf, len, charset, &u, &ulen, substituted);
    if (rc) return rc;
    rc = uchars_to_utf8(u, ulen, out, out_len);
    free(u);
    return rc;
}

/* Branch-free: a UTF-16 unit that is U+0000 or a C1 control. */
static unsigned unclean_unit(UChar u) { return (unsigned)(u == 0) | (unsigned)((uint16_t)(u - 0x80) < 0x20); }

/*
 * 1 if buf decodes with charset without any illegal/unassigned sequence and
 * without producing U+0000 or a C1 control (U+0080..U+009F): real text has
 * neither, so either is evidence of the wrong charset.  0 if not or unknown.
 */
static int decode_all_cleanly(const uint8_t *buf, size_t len, const char *charset)
{
    if (!label_ok(charset)) return 0;
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = na_icu.ucnv_open(charset, &e);
    if (U_FAILURE(e) || !c) return 0;
    na_icu.ucnv_setToUCallBack(c, na_icu.UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &e);
    const char *src = (const char *)buf, *src_end = (const char *)buf + len;
    UChar tmp[2048];
    int clean = U_SUCCESS(e);
    while (clean) {
        UChar *t = tmp;
        e = U_ZERO_ERROR;
        na_icu.ucnv_toUnicode(c, &t, tmp + 2048, &src, src_end, NULL, true, &e);
        unsigned bad = 0;
        for (const UChar *p = tmp; p < t; p++) bad |= unclean_unit(*p);
        if (bad) clean = 0;
        if (e == U_BUFFER_OVERFLOW_ERROR) continue;
        if (U_FAILURE(e)) clean = 0;
        break;
    }
    na_icu.ucnv_close(c);
    return clean;
}

static _Atomic int g_byte_tables = 1;

int na_text_byte_tables(int on)
{
    if (on >= 0) atomic_store_explicit(&g_byte_tables, on ? 1 : 0, memory_order_relaxed);
    return atomic_load_explicit(&g_byte_tables, memory_order_relaxed);
}

/*
 * A single-byte charset (every character one byte, and one byte never more
 * than one character) decodes each byte on its own, so whether a text
 * decodes cleanly is whether it has none of the bytes that do not: each
 * byte decoded alone, once, by the same converter with the same checks.
 * 1 the table is in m->bad, 0 not (another kind of charset, or ICU failed).
 */
static int byte_table(label_memo *m)
{
    if (m->bytes) return m->bytes > 0;
    m->bytes = -1;
    if (m->max_char != 1) return 0;
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = na_icu.ucnv_open(m->label, &e);
    if (U_FAILURE(e) || !c) return 0;
    int ok = na_icu.ucnv_getMinCharSize(c) == 1;
    uint64_t bad[4] = {0, 0, 0, 0};
    for (unsigned b = 0; b < 256 && ok; b++) {
        char byte = (char)b;
        const char *src = &byte;
        UChar tmp[8], *t = tmp;
        e = U_ZERO_ERROR;
        na_icu.ucnv_resetToUnicode(c);
        na_icu.ucnv_setToUCallBack(c, na_icu.UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &e);
        na_icu.ucnv_toUnicode(c, &t, tmp + 8, &src, &byte + 1, NULL, true, &e);
        unsigned unclean = U_FAILURE(e) || src != &byte + 1;
        for (const UChar *p = tmp; p < t; p++) unclean |= unclean_unit(*p);
        if (unclean) bad[b >> 6] |= 1ull << (b & 63);
    }
    na_icu.ucnv_close(c);
    if (!ok) return 0;
    memcpy(m->bad, bad, sizeof bad);
    m->bytes = 1;
    return 1;
}

/* The set of byte values in a text, for decodes_cleanly. */
typedef struct byte_set {
    int have; /* 0 not gathered yet */
    uint64_t bits[4];
} byte_set;

static void gather_bytes(const uint8_t *buf, size_t len, byte_set *bs)
{
    uint8_t seen[256] = {0};
    for (size_t i = 0; i < len; i++) seen[buf[i]] = 1;
    memset(bs->bits, 0, sizeof bs->bits);
    for (unsigned b = 0; b < 256; b++) bs->bits[b >> 6] |= (uint64_t)seen[b] << (b & 63);
    bs->have = 1;
}

/* decode_all_cleanly's answer; from the byte table when charset has one
 * (bs: the text's bytes, gathered on first use; may be NULL). */
static int decodes_cleanly(const uint8_t *buf, size_t len, const char *charset, byte_set *bs)
{
    if (bs && atomic_load_explicit(&g_byte_tables, memory_order_relaxed)) {
        label_memo *m = label_info(charset);
        if (m && byte_table(m)) {
            if (!bs->have) gather_bytes(buf, len, bs);
            return !((bs->bits[0] & m->bad[0]) | (bs->bits[1] & m->bad[1]) | (bs->bits[2] & m->bad[2]) |
                     (bs->bits[3] & m->bad[3]));
        }
    }
    return decode_all_cleanly(buf, len, charset);
}

/* ---- byte-level evidence ------------------------------------------------ */

/*
 * Length of the well-formed UTF-8 sequence at b[0..n) (strict: no overlongs,
 * surrogates or values above U+10FFFF), or 0 if it is not one.
 */
static size_t utf8_seq(const uint8_t *b, size_t n)
{
    uint8_t c = b[0];
    if (c < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n - 1 < need || b[1] < lo || b[1] > hi) return 0;
    for (size_t j = 2; j <= need; j++)
        if (b[j] < 0x80 || b[j] > 0xBF) return 0;
    return need + 1;
}

/* Counts multi-byte UTF-8 sequences and bytes that start no sequence. */
static void utf8_stats(const uint8_t *b, size_t n, size_t *multibyte, size_t *invalid)
{
    *multibyte = *invalid = 0;
    if (na_utf8_valid(b, n)) { /* the usual case, 16-32 bytes at a time: then every lead byte starts a sequence */
        size_t m = 0, i = 0;
        for (; i + 8 <= n; i += 8) { /* lead bytes (11xxxxxx), 8 at a time: bit 7 and bit 6 of each byte */
            uint64_t v;
            memcpy(&v, b + i, 8);
            uint64_t lead = (v & (v << 1) & 0x8080808080808080ULL) >> 7; /* 1 in each lead byte */
            m += (size_t)((lead * 0x0101010101010101ULL) >> 56);                /* their sum, in the top byte */
        }
        for (; i < n; i++) m += b[i] >= 0xC0;
        *multibyte = m;
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(b + i, n - i);
        if (k == 0) {
            (*invalid)++;
            i++;
            continue;
        }
        if (k > 1) (*multibyte)++;
        i += k;
    }
}

/* Mostly UTF-8: at least this many multi-byte sequences, and this many per invalid byte. */
#define UTF8_DAMAGED_MIN 8
#define UTF8_DAMAGED_RATIO 10

/* Byte order mark: the charset it announces, or NULL. */
static const char *bom_charset(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) return "UTF-8";
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0) return "UTF-32LE";
    if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF) return "UTF-32BE";
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE) return "UTF-16LE";
    if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF) return "UTF-16BE";
    return NULL;
}

/*
 * UTF-16/32 without a BOM, from the zero bytes of mostly-ASCII text in the
 * first 4 KB: UTF-32 when every unit is a scalar value and at least half are
 * not zero; UTF-16 when at least a quarter of the units are ASCII characters
 * (zero high byte) in one byte order and few in the other.  The caller still
 * requires a clean decode.  NULL if no pattern.
 */
static const char *utf16_32_pattern(const uint8_t *b, size_t n)
{
    size_t w = n < 4096 ? n : 4096;
    if (!memchr(b, 0, w)) return NULL; /* both patterns need zero bytes (UTF-32: every unit's top byte) */
    if (n % 4 == 0 && w >= 8) {
        for (int be = 0; be < 2; be++) {
            size_t units = w / 4, nonzero = 0;
            bool ok = true;
            for (size_t i = 0; i < units && ok; i++) {
                const uint8_t *p = b + 4 * i;
                uint32_t v = be ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
                                : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
                if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) ok = false;
                if (v) nonzero++;
            }
            if (ok && nonzero * 2 >= units) return be ? "UTF-32BE" : "UTF-32LE";
        }
    }
    if (n % 2 == 0 && w >= 4) {
        size_t units = w / 2, le_ascii = 0, be_ascii = 0;
        for (size_t i = 0; i < units; i++) {
            uint8_t x = b[2 * i], y = b[2 * i + 1];
            if (y == 0 && x != 0 && x < 0x80) le_ascii++;
            if (x == 0 && y != 0 && y < 0x80) be_ascii++;
        }
        if (le_ascii * 4 >= units && be_ascii * 8 <= le_ascii) return "UTF-16LE";
        if (be_ascii * 4 >= units && le_ascii * 8 <= be_ascii) return "UTF-16BE";
    }
    return NULL;
}

/* 7-bit text with ISO-2022 designator escapes: which ISO-2022 charset, or NULL. */
static const char *iso2022_charset(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++) {
        if (b[i] != 0x1B) continue;
        if (b[i + 1] == '$' && b[i + 2] == ')' && b[i + 3] == 'C') return "ISO-2022-KR";
        if (b[i + 1] == '$' && b[i + 2] == ')' && (b[i + 3] == 'A' || b[i + 3] == 'G')) return "ISO-2022-CN";
        if (b[i + 1] == '$' && b[i + 2] == '*' && b[i + 3] == 'H') return "ISO-2022-CN";
        if (b[i + 1] == '$' && (b[i + 2] == 'B' || b[i + 2] == '@')) return "ISO-2022-JP";
        if (b[i + 1] == '(' && (b[i + 2] == 'J' || b[i + 2] == 'I')) return "ISO-2022-JP";
    }
    return NULL;
}

/*
 * The part of the text whose charset is in question: the whitespace-separated
 * words that contain a byte >= 0x80, joined by spaces, at most
 * NA_TEXT_DETECT_MAX bytes.  Feeds and pages are mostly ASCII markup and
 * English; without this the detector's Latin-1 models win on that ASCII.
 * Multi-byte characters never contain whitespace bytes, so they stay whole.
 */
static size_t focus_sample(const uint8_t *b, size_t n, uint8_t *out)
{
    size_t o = 0, i = 0;
    while (i < n && o < NA_TEXT_DETECT_MAX) {
        while (i < n && is_space_byte(b[i])) i++;
        size_t start = i;
        bool high = false;
        while (i < n && !is_space_byte(b[i])) high |= b[i++] >= 0x80;
        if (!high) continue;
        size_t wl = i - start;
        if (wl + 1 > NA_TEXT_DETECT_MAX - o) break;
        memcpy(out + o, b + start, wl);
        o += wl;
        out[o++] = ' ';
    }
    return o;
}

/* ---- declarations ------------------------------------------------------- */

/* Read a label at b[i..n): optional quote, label characters, matching quote. */
static bool read_label(const uint8_t *b, size_t n, size_t i, bool quote_required, char label[NA_CHARSET_NAME])
{
    uint8_t q = 0;
    if (i < n && (b[i] == '"' || b[i] == '\'')) q = b[i++];
    if (quote_required && !q) return false;
    size_t start = i;
    while (i < n && is_label_char(b[i])) i++;
    size_t ln = i - start;
    if (ln == 0 || ln >= NA_CHARSET_NAME) return false;
    if (q && (i >= n || b[i] != q)) return false;
    memcpy(label, b + start, ln);
    label[ln] = '\0';
    return true;
}

/* After a keyword at b[i]: spaces, '=', spaces; returns the index after them or n if absent. */
static size_t skip_equals(const uint8_t *b, size_t n, size_t i)
{
    while (i < n && is_space_byte(b[i])) i++;
    if (i >= n || b[i] != '=') return n;
    i++;
    while (i < n && is_space_byte(b[i])) i++;
    return i;
}

static bool xml_declaration(const uint8_t *b, size_t n, char label[NA_CHARSET_NAME])
{
    size_t i = 0;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3;
    while (i < n && is_space_byte(b[i])) i++;
    if (!match_ci(b, n, i, "<?xml") || i + 5 >= n || !is_space_byte(b[i + 5])) return false;
    size_t end = i + 5;
    while (end + 1 < n && !(b[end] == '?' && b[end + 1] == '>')) end++;
    for (size_t j = i + 5; j + 8 <= end; j++) {
        if (!match_ci(b, end, j, "encoding")) continue;
        size_t k = skip_equals(b, end, j + 8);
        return k < end && read_label(b, end, k, true, label);
    }
    return false;
}

static bool meta_declaration(const uint8_t *b, size_t n, char label[NA_CHARSET_NAME])
{
    for (size_t i = 0; i + 5 < n; i++) {
        const uint8_t *lt = memchr(b + i, '<', n - 5 - i);
        if (!lt) break;
        i = (size_t)(lt - b);
        if (!match_ci(b, n, i + 1, "meta")) continue;
        if (!(is_space_byte(b[i + 5]) || b[i + 5] == '/')) continue;
        size_t end = i + 5;
        while (end < n && b[end] != '>') end++;
        for (size_t j = i + 5; j + 7 <= end; j++) {
            if (!match_ci(b, end, j, "charset")) continue;
            size_t k = skip_equals(b, end, j + 7);
            if (k < end && read_label(b, end, k, false, label)) return true;
        }
        i = end;
    }
    return false;
}

/* ---- plausibility of a decoding ------------------------------------------ */

/*
 * Words (runs between whitespace and ASCII non-letters) of a decoded text,
 * judged by what a wrong single-byte charset typically produces: a symbol
 * between letters ("Ð¿Ñ€"), letters of two scripts in one word, upper case
 * after lower case ("моЯ"), or a Latin word of 3+ letters without a single
 * ASCII letter ("Ïðèâåò" - Cyrillic read as windows-1252).  good/bad count
 * the non-ASCII characters of plausible/implausible words.
 */
typedef struct plausibility {
    size_t good, bad;
} plausibility;

typedef struct word_state {
    int32_t letters, ascii_letters, marks, nonascii, script;
    int32_t pending_nonascii; /* non-letters after the last letter: inside the word if a letter follows */
    bool mixed_script, bad_inner, seen_lower, bad_case;
} word_state;

static void word_flush(word_state *w, plausibility *p)
{
    if (w->letters > 0 && w->nonascii > 0) {
        bool ok = !w->mixed_script && !w->bad_inner && !w->bad_case;
        if (w->script == USCRIPT_LATIN && w->letters >= 3 && w->ascii_letters == 0) ok = false;
        if (ok) p->good += (size_t)w->nonascii;
        else
            p->bad += (size_t)w->nonascii;
    }
    memset(w, 0, sizeof *w);
    w->script = -1;
}

static void judge_text(const UChar *u, int32_t n, plausibility *p)
{
    word_state w;
    memset(&w, 0, sizeof w);
    w.script = -1;
    int32_t i = 0;
    while (i < n) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        bool ascii_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if ((c < 0x80 && !ascii_letter) || na_icu.u_isUWhiteSpace(c)) {
            word_flush(&w, p);
            continue;
        }
        int8_t gc = na_icu.u_charType(c);
        bool letter = gc == U_UPPERCASE_LETTER || gc == U_LOWERCASE_LETTER || gc == U_TITLECASE_LETTER ||
                      gc == U_MODIFIER_LETTER || gc == U_OTHER_LETTER;
        bool mark = gc == U_NON_SPACING_MARK || gc == U_COMBINING_SPACING_MARK || gc == U_ENCLOSING_MARK;
        if (gc == U_FORMAT_CHAR) continue; /* ZWNJ, ZWJ, bidi marks: part of Persian and Indic words */
        if (!letter && !mark) {
            /* punctuation or symbol: fine at the edges of a word, suspicious inside */
            bool soft = c == 0x2019 || c == 0x00B7 || c == 0x2010 || c == 0x2011;
            if (w.letters > 0 && !soft) w.pending_nonascii++;
            if (c == 0xFFFD) w.bad_inner = true, w.nonascii++;
            continue;
        }
        if (w.pending_nonascii) {
            w.bad_inner = true;
            w.nonascii += w.pending_nonascii;
            w.pending_nonascii = 0;
        }
        if (c >= 0x80) w.nonascii++;
        if (mark) {
            /* a mark belongs to a letter before it, and letters carry few */
            if (w.letters == 0 || ++w.marks > 2 * w.letters) w.bad_inner = true;
            continue;
        }
        w.letters++;
        if (ascii_letter) w.ascii_letters++;
        UErrorCode e = U_ZERO_ERROR;
        int32_t sc = na_icu.uscript_getScript(c, &e);
        if (U_SUCCESS(e) && sc != USCRIPT_COMMON && sc != USCRIPT_INHERITED && sc != USCRIPT_UNKNOWN) {
            if (w.script < 0) w.script = sc;
            else if (w.script != sc)
                w.mixed_script = true;
        }
        bool upper = gc == U_UPPERCASE_LETTER || gc == U_TITLECASE_LETTER;
        bool lower = gc == U_LOWERCASE_LETTER;
        if (upper && w.seen_lower) w.bad_case = true; /* lower then upper: "моЯ" */
        if (lower) w.seen_lower = true;
    }
    word_flush(&w, p);
}

static int judge_decoding(const uint8_t *buf, size_t len, const char *charset, plausibility *p)
{
    p->good = p->bad = 0;
    UChar *u;
    int32_t n;
    int rc = decode_uchars(buf, len, charset, &u, &n, NULL);
    if (rc) return rc;
    judge_text(u, n, p);
    free(u);
    return 0;
}

static bool single_byte(const char *charset)
{
    const label_memo *m = label_info(charset);
    return m && m->max_char == 1;
}


/* ---- choosing ----------------------------------------------------------- */

static void choose(na_charset_info *out, const char *canon, na_charset_reason reason, bool clean)
{
    copy_name(out->chosen, canon);
    out->reason = reason;
    out->chosen_clean = clean;
}

/* ICU detector names that are not converter names. */
static const char *detector_label(const char *name)
{
    if (strncmp(name, "IBM424_", 7) == 0) return "IBM424";
    if (strncmp(name, "IBM420_", 7) == 0) return "IBM420";
    return name;
}

typedef struct detection {
    UCharsetDetector *det;
    const UCharsetMatch **matches; /* owned by det */
    int32_t count;
    uint8_t *sample; /* the detector's input, must outlive det */
    size_t sample_len;
} detection;

static void detection_free(detection *d)
{
    na_icu.ucsdet_close(d->det);
    free(d->sample);
}

static int run_detector(const uint8_t *buf, size_t len, const char *declared_label, detection *d)
{
    UErrorCode e = U_ZERO_ERROR;
    d->det = na_icu.ucsdet_open(&e);
    d->matches = NULL;
    d->count = 0;
    d->sample = NULL;
    if (U_FAILURE(e)) return e == U_MEMORY_ALLOCATION_ERROR ? NEWSARC_E_NOMEM : 0;
    na_icu.ucsdet_enableInputFilter(d->det, true);
    d->sample = malloc(NA_TEXT_DETECT_MAX);
    if (!d->sample) {
        na_icu.ucsdet_close(d->det);
        return NEWSARC_E_NOMEM;
    }
    d->sample_len = focus_sample(buf, len, d->sample);
    na_icu.ucsdet_setText(d->det, (const char *)d->sample, (int32_t)d->sample_len, &e);
    if (declared_label && *declared_label) na_icu.ucsdet_setDeclaredEncoding(d->det, declared_label, -1, &e);
    if (U_SUCCESS(e)) d->matches = na_icu.ucsdet_detectAll(d->det, &d->count, &e);
    if (U_FAILURE(e)) {
        d->matches = NULL;
        d->count = 0;
    }
    return 0;
}

/*
 * Single-byte charsets ICU's detector has no model for, tried when the text
 * is plausible in them.  Each names a sibling with the same letters that
 * ICU does model: the text is transcoded into it and ICU's confidence there
 * stands for the charset's own ("" = no sibling, confidence 0).
 */
static const char *const extra_charsets[][2] = {
    {"macintosh", "windows-1252"}, {"IBM866", "windows-1251"}, {"x-mac-cyrillic", "windows-1251"},
    {"IBM855", "windows-1251"},    {"KOI8-U", "windows-1251"}, {"windows-874", ""},
    {"windows-1257", ""},          {"windows-1258", ""},
};

/*
 * Single-byte charsets ICU models but may leave out of its list for a short
 * text: tried too (confidence 0, i.e. only plausibility speaks for them).
 */
static const char *const modelled_charsets[] = {
    "windows-1250", "windows-1251", "windows-1253", "windows-1254", "windows-1255", "windows-1256",
    "ISO-8859-2",   "ISO-8859-5",   "ISO-8859-6",   "ISO-8859-7",   "ISO-8859-8",   "KOI8-R",
};

/* ISO-8859 names ICU's detector gives whose windows-125x sibling decodes C1 bytes. */
static const char *const windows_sibling[][2] = {
    {"ISO-8859-2", "windows-1250"}, {"ISO-8859-7", "windows-1253"}, {"ISO-8859-8", "windows-1255"},
    {"ISO-8859-8-I", "windows-1255"},
};

#define MAX_CANDIDATES 48
/* A decoding is plausible when at most 1 in 10 questionable characters sit in
   implausible words and it is within 5 points of the best single-byte one. */
#define PLAUSIBLE_MAX 0.10
#define PLAUSIBLE_SLACK 0.05
/* The source hint wins unless another candidate scores this much higher. */
#define HINT_MARGIN 10.0
/* ICU's multi-byte recognizers say 10 for "compatible, but no evidence". */
#define MBCS_NO_EVIDENCE 10

typedef struct candidate {
    char name[NA_CHARSET_NAME]; /* canonical, widened */
    char icu[NA_CHARSET_NAME];  /* ICU's converter name, to compare candidates */
    const char *sibling;        /* extras: charset whose ICU confidence stands for this one */
    int32_t confidence;         /* detector's, -1 = not yet known (extras) */
    bool single_byte, eligible;
    double bad_ratio, score;
} candidate;

/* Append a candidate unless its converter is already listed; @return its index or -1. */
static int add_candidate(candidate *c, int *n, const char *name, int32_t conf, const char *sibling)
{
    char icu[NA_CHARSET_NAME];
    if (is_utf16_32(name) || !icu_name(name, icu)) return -1;
    for (int i = 0; i < *n; i++)
        if (strcmp(c[i].icu, icu) == 0) return i;
    if (*n >= MAX_CANDIDATES) return -1;
    memset(&c[*n], 0, sizeof c[*n]);
    copy_name(c[*n].name, name);
    copy_name(c[*n].icu, icu);
    c[*n].confidence = conf;
    c[*n].sibling = sibling;
    return (*n)++;
}

/* ICU's confidence for the sibling charset after transcoding sample into it. */
static int32_t sibling_confidence(const uint8_t *sample, size_t n, const char *charset, const char *sibling)
{
    if (!sibling || !*sibling) return 0;
    UChar *u;
    int32_t ulen;
    if (decode_uchars(sample, n, charset, &u, &ulen, NULL)) return 0;
    int32_t conf = 0;
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = na_icu.ucnv_open(sibling, &e);
    char *t = malloc((size_t)ulen * 2 + 16);
    if (U_SUCCESS(e) && t) {
        int32_t tlen = na_icu.ucnv_fromUChars(c, t, ulen * 2 + 16, u, ulen, &e);
        UCharsetDetector *det = na_icu.ucsdet_open(&e);
        if (U_SUCCESS(e)) {
            na_icu.ucsdet_setText(det, t, tlen, &e);
            int32_t count = 0;
            const UCharsetMatch **m = na_icu.ucsdet_detectAll(det, &count, &e);
            for (int32_t i = 0; U_SUCCESS(e) && i < count; i++) {
                const char *nm = na_icu.ucsdet_getName(m[i], &e);
                char w[NA_CHARSET_NAME];
                if (U_SUCCESS(e) && nm && widened_name(detector_label(nm), w) && same_converter(w, sibling)) {
                    conf = na_icu.ucsdet_getConfidence(m[i], &e);
                    break;
                }
            }
        }
        na_icu.ucsdet_close(det);
    }
    if (c) na_icu.ucnv_close(c);
    free(t);
    free(u);
    return U_SUCCESS(e) ? conf : 0;
}

/*
 * Candidates from the detector (in its order) and the extras; keep those
 * that decode the whole buffer cleanly; single-byte ones must also give
 * plausible words on the sample.  @return index of the best, or -1.
 */
static int rank_candidates(const uint8_t *buf, size_t len, byte_set *bs, const detection *d, candidate *c, int n)
{
    double best_ratio = 1.0;
    for (int i = 0; i < n; i++) {
        c[i].eligible = decodes_cleanly(buf, len, c[i].name, bs);
        if (!c[i].eligible) continue;
        c[i].single_byte = single_byte(c[i].name);
        /* multi-byte decodings ICU has evidence for are trusted as they are */
        if (!c[i].single_byte && c[i].confidence > MBCS_NO_EVIDENCE) continue;
        plausibility p = {0, 0};
        if (judge_decoding(d->sample, d->sample_len, c[i].name, &p) != 0) {
            c[i].eligible = false;
            continue;
        }
        c[i].bad_ratio = (p.good + p.bad) ? (double)p.bad / (double)(p.good + p.bad) : 0.0;
        if (c[i].bad_ratio < best_ratio) best_ratio = c[i].bad_ratio;
    }
    /* score = confidence - 100 * bad ratio: among near-equal confidences the
       more plausible decoding wins; ties between candidates ICU has evidence
       for go to a windows-* code page, others to the earlier candidate */
    int best = -1;
    double best_score = 0;
    for (int i = 0; i < n; i++) {
        if (!c[i].eligible) continue;
        if (c[i].bad_ratio > PLAUSIBLE_MAX || c[i].bad_ratio > best_ratio + PLAUSIBLE_SLACK) {
            c[i].eligible = false;
            continue;
        }
        if (c[i].confidence < 0)
            c[i].confidence = sibling_confidence(d->sample, d->sample_len, c[i].name, c[i].sibling);
        int32_t conf = (!c[i].single_byte && c[i].confidence <= MBCS_NO_EVIDENCE) ? 0 : c[i].confidence;
        double score = conf - 100.0 * c[i].bad_ratio;
        if (conf > 0 && strncmp(c[i].name, "windows-", 8) == 0) score += 0.5; /* the web's usual choice */
        c[i].score = score;
        if (best < 0 || score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

/* Non-UTF-8, non-ASCII, no BOM: declaration, hint, detector, fallback. */
static int choose_legacy(const uint8_t *buf, size_t len, byte_set *bs, const char *hint, na_charset_info *out)
{
    char cand[NA_CHARSET_NAME];
    bool have_decl = out->declared[0] && !is_utf16_32(out->declared);
    if (have_decl && out->declared_clean) {
        widened_name(out->declared, cand);
        if (decodes_cleanly(buf, len, cand, bs)) {
            choose(out, cand, NA_CHOSE_DECLARED, true);
            return 0;
        }
        choose(out, out->declared, NA_CHOSE_DECLARED, true);
        return 0;
    }

    detection d;
    int rc = run_detector(buf, len, out->declared_label, &d);
    if (rc) return rc;
    candidate *c = calloc(MAX_CANDIDATES, sizeof *c);
    if (!c) {
        detection_free(&d);
        return NEWSARC_E_NOMEM;
    }
    int n = 0;
    for (int32_t i = 0; i < d.count; i++) {
        UErrorCode e = U_ZERO_ERROR;
        const char *nm = na_icu.ucsdet_getName(d.matches[i], &e);
        int32_t conf = na_icu.ucsdet_getConfidence(d.matches[i], &e);
        if (U_FAILURE(e) || !nm) continue;
        nm = detector_label(nm);
        if (i == 0 && canonical_name(nm, cand)) {
            copy_name(out->detected, cand);
            out->detected_confidence = conf;
        }
        if (!widened_name(nm, cand)) continue;
        for (size_t k = 0; k < sizeof windows_sibling / sizeof windows_sibling[0]; k++)
            if (same_converter(nm, windows_sibling[k][0]) && !decodes_cleanly(buf, len, cand, bs))
                widened_name(windows_sibling[k][1], cand);
        if (conf > MBCS_NO_EVIDENCE || single_byte(cand)) add_candidate(c, &n, cand, conf, NULL);
    }
    /* no evidence at all: the most common legacy charset (as browsers default) */
    if (widened_name("windows-1252", cand)) add_candidate(c, &n, cand, 0, NULL);
    /* multi-byte charsets ICU only finds "not incompatible": after that default */
    for (int32_t i = 0; i < d.count; i++) {
        UErrorCode e = U_ZERO_ERROR;
        const char *nm = na_icu.ucsdet_getName(d.matches[i], &e);
        int32_t conf = na_icu.ucsdet_getConfidence(d.matches[i], &e);
        if (U_SUCCESS(e) && nm && widened_name(detector_label(nm), cand)) add_candidate(c, &n, cand, conf, NULL);
    }
    int hint_at = (hint && widened_name(hint, cand)) ? add_candidate(c, &n, cand, -1, NULL) : -1;
    for (size_t k = 0; k < sizeof modelled_charsets / sizeof modelled_charsets[0]; k++)
        if (widened_name(modelled_charsets[k], cand)) add_candidate(c, &n, cand, 0, NULL);
    for (size_t k = 0; k < sizeof extra_charsets / sizeof extra_charsets[0]; k++)
        if (widened_name(extra_charsets[k][0], cand)) add_candidate(c, &n, cand, -1, extra_charsets[k][1]);

    int best = rank_candidates(buf, len, bs, &d, c, n);
    /* the source's usual charset, unless another is clearly better */
    if (hint_at >= 0 && c[hint_at].eligible && best >= 0 && c[hint_at].score >= c[best].score - HINT_MARGIN) {
        choose(out, c[hint_at].name, NA_CHOSE_HINT, true);
        best = -2;
    }
    if (best >= 0) choose(out, c[best].name, NA_CHOSE_DETECTED, true);
    free(c);
    detection_free(&d);
    if (best != -1) return 0;

    /* Nothing decodes cleanly and plausibly: the most specific evidence, with
       substitutions: the declaration, the hint, the detector, windows-1252. */
    const char *const fallbacks[] = {have_decl ? out->declared : NULL, hint, out->detected, "windows-1252"};
    for (size_t k = 0; k < sizeof fallbacks / sizeof fallbacks[0]; k++)
        if (fallbacks[k] && widened_name(fallbacks[k], cand) && !is_utf16_32(cand)) break;
    choose(out, cand, NA_CHOSE_FALLBACK, decodes_cleanly(buf, len, cand, bs));
    return 0;
}

int na_text_charset(const uint8_t *buf, size_t len, const char *source_hint_charset, na_charset_info *out)
{
    if (!out) return NEWSARC_E_ARG;
    memset(out, 0, sizeof *out);
    if (!buf && len) return NEWSARC_E_ARG;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    if (len > NA_TEXT_MAX_INPUT) return NEWSARC_E_LIMIT;
    char cand[NA_CHARSET_NAME];
    byte_set bs = {0, {0, 0, 0, 0}}; /* the text's bytes, gathered when a single-byte charset is tried */
    utf8_name(cand);
    if (len == 0) {
        out->valid_utf8 = out->ascii_only = true;
        choose(out, cand, NA_CHOSE_EMPTY, true);
        return 0;
    }
    size_t utf8_multi, utf8_invalid;
    utf8_stats(buf, len, &utf8_multi, &utf8_invalid);
    out->valid_utf8 = utf8_invalid == 0;
    out->ascii_only = out->valid_utf8 && utf8_multi == 0;

    const char *bom = bom_charset(buf, len);
    if (bom) {
        out->has_bom = true;
        out->declared_source = NA_DECL_BOM;
        copy_name(out->declared_label, bom);
        canonical_name(bom, out->declared);
        out->declared_clean = decodes_cleanly(buf, len, out->declared, &bs);
        choose(out, out->declared, NA_CHOSE_BOM, out->declared_clean);
        return 0;
    }

    size_t scan = len < NA_TEXT_DECL_SCAN ? len : NA_TEXT_DECL_SCAN;
    char label[NA_CHARSET_NAME];
    if (xml_declaration(buf, scan, label)) out->declared_source = NA_DECL_XML;
    else if (meta_declaration(buf, scan, label))
        out->declared_source = NA_DECL_META;
    if (out->declared_source != NA_DECL_NONE) {
        copy_name(out->declared_label, label);
        if (canonical_name(label, out->declared) && widened_name(label, cand))
            out->declared_clean = decodes_cleanly(buf, len, cand, &bs) || decodes_cleanly(buf, len, out->declared, &bs);
    }

    const char *pat = utf16_32_pattern(buf, len);
    if (pat && decodes_cleanly(buf, len, pat, &bs)) {
        canonical_name(pat, cand);
        choose(out, cand, NA_CHOSE_UTF16_32, true);
        return 0;
    }
    if (out->ascii_only) {
        const char *iso = iso2022_charset(buf, len);
        if (iso && decodes_cleanly(buf, len, iso, &bs)) {
            canonical_name(iso, cand);
            choose(out, cand, NA_CHOSE_ISO2022, true);
        } else {
            utf8_name(cand);
            choose(out, cand, NA_CHOSE_ASCII, true);
        }
        return 0;
    }
    /* valid UTF-8, or UTF-8 with a little damage (a stray legacy byte, a
       truncated tail): decoding it as anything else garbles every character */
    if (out->valid_utf8 || (utf8_multi >= UTF8_DAMAGED_MIN && utf8_multi >= UTF8_DAMAGED_RATIO * utf8_invalid)) {
        utf8_name(cand);
        choose(out, cand, NA_CHOSE_UTF8, out->valid_utf8);
        return 0;
    }
    return choose_legacy(buf, len, &bs, source_hint_charset, out);
}

/* ---- per-character tables (the fast paths) ------------------------------ */

/*
 * For every BMP code point, built once from ICU: its class for the
 * normalization fast path, and its script when it is a letter that counts
 * for na_text_script.  ~190 KB, ~10 ms to build.
 */
enum { FC_SLOW = 0, FC_KEEP, FC_WS, FC_WS_LF, FC_DROP, FC_MARK };
static uint8_t *g_fast_class;
static uint8_t *g_mark_ccc; /* FC_MARK: the canonical combining class */
static int16_t *g_letter_script; /* script code, or -1 */
/* The code points U+0600..U+06FF that are FC_KEEP letters of the Arabic
 * script, as a bitmap by ((UTF-8 lead - 0xD8) << 6 | continuation & 0x3F):
 * the normalization fast path takes runs of them and single spaces 32
 * bytes at a time.  Built from the tables above, so a code point is in it
 * only when ICU's data makes it such a letter. */
static uint8_t g_arab_keep[32];
/* The same for ASCII: FC_KEEP characters by code, and whether every ASCII
 * letter counts as Latin and nothing else as a letter (else no ASCII runs). */
static uint8_t g_ascii_keep[16];
static bool g_ascii_runs;
static pthread_once_t g_tables_once = PTHREAD_ONCE_INIT;

static bool is_white_space(UChar32 c);

static void build_tables(void)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfc = na_icu.unorm2_getNFCInstance(&e);
    uint8_t *fc = malloc(0x10000), *mc = calloc(0x10000, 1);
    int16_t *ls = malloc(0x10000 * sizeof *ls);
    if (U_FAILURE(e) || !fc || !mc || !ls) {
        free(fc);
        free(mc);
        free(ls);
        return;
    }
    for (UChar32 c = 0; c < 0x10000; c++) {
        uint8_t k = FC_SLOW;
        if (c >= 0xD800 && c <= 0xDFFF) k = FC_SLOW;
        else if (c == 0x0640 || c == 0xFEFF) k = FC_DROP; /* tatweel, BOM (step 4a) */
        else if (c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x85 || c == 0x2028 || c == 0x2029)
            k = FC_WS_LF; /* line terminators: LF after step 2 */
        else if (is_white_space(c))
            k = FC_WS;
        else if (na_icu.u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES) {
            uint8_t ccc = na_icu.unorm2_getCombiningClass(nfc, c);
            if (ccc == 0) k = FC_KEEP;
            else if (na_icu.u_getIntPropertyValue(c, UCHAR_NFD_QUICK_CHECK) == UNORM_YES) {
                k = FC_MARK; /* a mark that neither decomposes nor composes with what is before it */
                mc[c] = ccc;
            }
        }
        fc[c] = k;
        int16_t sc = -1;
        int8_t gc = na_icu.u_charType(c);
        if (gc == U_UPPERCASE_LETTER || gc == U_LOWERCASE_LETTER || gc == U_TITLECASE_LETTER ||
            gc == U_MODIFIER_LETTER || gc == U_OTHER_LETTER) {
            UErrorCode se = U_ZERO_ERROR;
            int32_t s = na_icu.uscript_getScript(c, &se);
            if (U_SUCCESS(se) && s >= 0 && s < USCRIPT_CODE_LIMIT && s < INT16_MAX && s != USCRIPT_COMMON &&
                s != USCRIPT_INHERITED && s != USCRIPT_UNKNOWN)
                sc = (int16_t)s;
        }
        ls[c] = sc;
    }
    for (UChar32 c = 0x0600; c < 0x0700; c++)
        if (fc[c] == FC_KEEP && ls[c] == USCRIPT_ARABIC) g_arab_keep[(c - 0x0600) >> 3] |= (uint8_t)(1u << (c & 7));
    g_ascii_runs = true;
    for (UChar32 c = 0; c < 0x80; c++) {
        bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
        if (fc[c] == FC_KEEP) g_ascii_keep[c >> 3] |= (uint8_t)(1u << (c & 7));
        if (ls[c] != (alpha ? USCRIPT_LATIN : -1) || (alpha && fc[c] != FC_KEEP)) g_ascii_runs = false;
    }
    g_fast_class = fc;
    g_mark_ccc = mc;
    g_letter_script = ls;
}

/* After na_icu_load(): true when the tables are there (else: the ICU paths). */
static bool tables_ready(void)
{
    pthread_once(&g_tables_once, build_tables);
    return g_fast_class != NULL;
}

/*
 * Letters counted per script (na_text_script), the scripts in the order
 * first met (the tie-break).  Letters of one script come in runs, added at
 * once; texts rarely hold more than a few scripts, so they are searched in
 * a short array (spilling to the heap past 16).
 */
typedef struct script_tally {
    int32_t n, cap;
    int32_t *sc;
    size_t *count;
    int32_t run_script; /* a run of letters of this script not added yet (run of them), or -1 */
    size_t run;
    int32_t in_sc[16];
    size_t in_count[16];
} script_tally;

static void tally_init(script_tally *t)
{
    t->n = 0;
    t->cap = 16;
    t->sc = t->in_sc;
    t->count = t->in_count;
    t->run_script = -1;
    t->run = 0;
}

static void tally_free(script_tally *t)
{
    if (t->sc != t->in_sc) free(t->sc);
    if (t->count != t->in_count) free(t->count);
    tally_init(t);
}

/* n letters of script sc; -1 out of memory. */
static int tally_add(script_tally *t, int32_t sc, size_t n)
{
    if (!n) return 0;
    for (int32_t i = t->n - 1; i >= 0; i--)
        if (t->sc[i] == sc) {
            t->count[i] += n;
            return 0;
        }
    if (t->n == t->cap) {
        int32_t *nsc = malloc(sizeof *nsc * (size_t)t->cap * 2);
        size_t *ncount = malloc(sizeof *ncount * (size_t)t->cap * 2);
        if (!nsc || !ncount) {
            free(nsc);
            free(ncount);
            return -1;
        }
        memcpy(nsc, t->sc, sizeof *nsc * (size_t)t->n);
        memcpy(ncount, t->count, sizeof *ncount * (size_t)t->n);
        if (t->sc != t->in_sc) free(t->sc);
        if (t->count != t->in_count) free(t->count);
        t->sc = nsc;
        t->count = ncount;
        t->cap *= 2;
    }
    t->sc[t->n] = sc;
    t->count[t->n++] = n;
    return 0;
}

/* One letter of script sc (from the table). */
static inline int tally_letter(script_tally *t, int32_t sc)
{
    if (sc == t->run_script) {
        t->run++;
        return 0;
    }
    int rc = tally_add(t, t->run_script, t->run);
    t->run_script = sc;
    t->run = 1;
    return rc;
}

/* Add the open run (before a letter counted on its own, and at the end). */
static int tally_flush(script_tally *t)
{
    int rc = tally_add(t, t->run_script, t->run);
    t->run_script = -1;
    t->run = 0;
    return rc;
}

/* The script with most letters (the first met among equals), "Zyyy" if none. */
static void tally_result(const script_tally *t, char out[16])
{
    memcpy(out, "Zyyy", 5);
    int32_t best = -1;
    for (int32_t i = 0; i < t->n; i++)
        if (best < 0 || t->count[i] > t->count[best]) best = i;
    if (best >= 0) {
        const char *nm = na_icu.uscript_getShortName((UScriptCode)t->sc[best]);
        if (nm && strlen(nm) < 16) memcpy(out, nm, strlen(nm) + 1);
    }
}

/* ---- normalization (spec/NORMALIZATION.md) ------------------------------ */

#if defined(NA_TEXT_AVX2)
/* n letters of script sc in a row (tally_letter n times). */
static inline int tally_letters(script_tally *t, int32_t sc, size_t n)
{
    if (sc == t->run_script) {
        t->run += n;
        return 0;
    }
    int rc = tally_add(t, t->run_script, t->run);
    t->run_script = sc;
    t->run = n;
    return rc;
}

/* -1 not asked yet; na_text_simd lets the tests take either path. */
static _Atomic int g_text_avx2 = -1;

static int cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

static int text_avx2(void)
{
    int v = atomic_load_explicit(&g_text_avx2, memory_order_relaxed);
    if (v < 0) {
        v = cpu_avx2();
        atomic_store_explicit(&g_text_avx2, v, memory_order_relaxed);
    }
    return v;
}

/* 1 << (x & 7) in every byte: the bit of a byte of a 256-bit map. */
__attribute__((target("avx2"))) static inline __m256i bit_of(__m256i x)
{
    const __m256i bits = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128, 1, 2, 4, 8, 16, 32, 64, (char)128, 1, 2, 4,
                                          8, 16, 32, 64, (char)128, 1, 2, 4, 8, 16, 32, 64, (char)128);
    return _mm256_shuffle_epi8(bits, _mm256_and_si256(x, _mm256_set1_epi8(7)));
}

/*
 * Where a run of p[0..32) ends: keep marks the bytes that may be in it
 * besides single spaces (sp: the spaces, nx: p[1..33)); a character with a
 * bit in split continues past byte 31 and is left out; a space at the end
 * is left to the loop, which decides what it does.  *letters: the bits of
 * counted inside the run.
 */
__attribute__((target("avx2"))) static inline size_t run_cut(const uint8_t *p, __m256i keep, __m256i sp, __m256i nx,
                                                               uint32_t split, uint32_t counted, size_t *letters)
{
    const __m256i two_spaces = _mm256_and_si256(sp, _mm256_cmpeq_epi8(nx, _mm256_set1_epi8(' ')));
    const __m256i ok = _mm256_andnot_si256(two_spaces, _mm256_or_si256(sp, keep));
    uint32_t bad = ~(uint32_t)_mm256_movemask_epi8(ok);
    size_t n = bad ? (size_t)__builtin_ctz(bad) : 32; /* bad bytes start a character */
    if (n == 32 && (split >> 31)) n = 31;
    if (n && p[n - 1] == ' ') n--; /* at most one: two spaces are bad */
    *letters = (size_t)__builtin_popcount(n == 32 ? counted : counted & ((1u << n) - 1));
    return n;
}

/*
 * How many of p[0..32) the fast path can pass over as they are, right
 * after a kept character: letters of g_arab_keep, each alone or after one
 * space, ending with a letter.  p[32] is read too.  *letters: how many
 * letters.  The input is valid UTF-8 starting at a character, so bytes
 * D8..DB are 2-byte leads and each is followed by its continuation byte.
 */
__attribute__((target("avx2"))) static size_t arab_run_avx2(const uint8_t *p, size_t *letters)
{
    const __m256i v = _mm256_loadu_si256((const __m256i *)p), nx = _mm256_loadu_si256((const __m256i *)(p + 1));
    const __m256i sp = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(' '));
    const __m256i lead = _mm256_cmpeq_epi8(_mm256_and_si256(v, _mm256_set1_epi8((char)0xFC)), _mm256_set1_epi8((char)0xD8));
    const __m256i cont = _mm256_cmpeq_epi8(_mm256_and_si256(v, _mm256_set1_epi8((char)0xC0)), _mm256_set1_epi8((char)0x80));
    /* bitmap byte (lead & 3) << 3 | (next & 0x38) >> 3 (0..31: two 16-byte halves), bit next & 7 */
    const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)g_arab_keep));
    const __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(g_arab_keep + 16)));
    const __m256i idx = _mm256_or_si256(_mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi8(1)), 3),
                                        _mm256_and_si256(_mm256_srli_epi16(nx, 3), _mm256_set1_epi8(7)));
    const __m256i upper = _mm256_cmpeq_epi8(_mm256_and_si256(v, _mm256_set1_epi8(2)), _mm256_set1_epi8(2));
    const __m256i byte = _mm256_blendv_epi8(_mm256_shuffle_epi8(lo, idx), _mm256_shuffle_epi8(hi, idx), upper);
    const __m256i bit = bit_of(nx);
    const __m256i letter = _mm256_and_si256(lead, _mm256_cmpeq_epi8(_mm256_and_si256(byte, bit), bit));
    uint32_t leads = (uint32_t)_mm256_movemask_epi8(lead);
    return run_cut(p, _mm256_or_si256(letter, cont), sp, nx, leads, leads, letters);
}

/* The same for ASCII characters of g_ascii_keep; *letters: the ASCII letters among them (Latin). */
__attribute__((target("avx2"))) static size_t ascii_run_avx2(const uint8_t *p, size_t *letters)
{
    const __m256i v = _mm256_loadu_si256((const __m256i *)p), nx = _mm256_loadu_si256((const __m256i *)(p + 1));
    const __m256i sp = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(' '));
    const __m256i tbl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)g_ascii_keep));
    /* byte c >> 3, or bit 7 set (a zero from the shuffle) for c >= 0x80 */
    const __m256i idx = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 3), _mm256_set1_epi8(0x0F)),
                                        _mm256_and_si256(v, _mm256_set1_epi8((char)0x80)));
    const __m256i bit = bit_of(v);
    const __m256i keep = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(tbl, idx), bit), bit);
    /* letters: c | 0x20 in 'a'..'z' (as signed bytes) */
    const __m256i low = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    const __m256i alpha = _mm256_andnot_si256(_mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8('a'), low),
                                                              _mm256_cmpgt_epi8(low, _mm256_set1_epi8('z'))),
                                              keep);
    return run_cut(p, keep, sp, nx, 0, (uint32_t)_mm256_movemask_epi8(alpha), letters);
}
#endif

static int normalize_segment(const uint8_t *buf, size_t n, bool *pending, bool *pending_lf, char **o, size_t *cap,
                             size_t *k, size_t reserve, script_tally *st);
static int tally_utf8(script_tally *t, const uint8_t *utf8, size_t len);

/* The class of the character at buf[i] (valid UTF-8), its length in *l;
 * FC_SLOW beyond the BMP. */
static inline uint8_t fast_class_at(const uint8_t *buf, size_t i, size_t *l)
{
    uint32_t c = buf[i];
    if (c < 0x80) {
        *l = 1;
        return g_fast_class[c];
    }
    if (c >= 0xF0) {
        *l = 4;
        return FC_SLOW;
    }
    *l = c >= 0xE0 ? 3 : 2;
    c = *l == 2 ? (c & 0x1F) << 6 | (buf[i + 1] & 0x3F)
                : (c & 0x0F) << 12 | (uint32_t)(buf[i + 1] & 0x3F) << 6 | (buf[i + 2] & 0x3F);
    return g_fast_class[c];
}

/*
 * Where a stretch of text the fast path cannot take, starting with the
 * character at i, may end: before the first character after it that is
 * kept as it is (class 0, NFC_QC Yes: nothing before it composes with it or
 * moves past it) or is white space (it becomes a space or LF, which is such
 * a character).  Stretches closer than SEGMENT_JOIN bytes are joined, so a
 * text full of such characters goes to ICU in a few large pieces rather
 * than one at a time.
 */
#define SEGMENT_JOIN 256
static size_t segment_end(const uint8_t *buf, size_t len, size_t i)
{
    size_t l;
    (void)fast_class_at(buf, i, &l);
    size_t e = i + l;
    for (;;) {
        while (e < len) {
            uint8_t cls = fast_class_at(buf, e, &l);
            if (cls == FC_KEEP || cls == FC_WS || cls == FC_WS_LF) break;
            e += l;
        }
        size_t j = e, stop = len - e > SEGMENT_JOIN ? e + SEGMENT_JOIN : len;
        while (j < stop) {
            if (fast_class_at(buf, j, &l) == FC_SLOW) break;
            j += l;
        }
        if (j >= stop) return e;
        e = j + l; /* another one close by: the stretch goes on to the end of that one */
    }
}


/*
 * Steps 1-7 for the common case without ICU: valid UTF-8 read as UTF-8, the
 * default options, and every code point in the BMP with NFC_Quick_Check Yes
 * and combining class 0 (or white space, a line terminator, tatweel, BOM),
 * or a mark with NFC_QC and NFD_QC Yes (Arabic harakat, most combining
 * marks) right after such a character or mark and in canonical order (its
 * class not below the mark's before it).  Such a text passes the NFC quick
 * check, so it is NFC; its NFD only decomposes characters that NFC composes
 * back, no character of it can compose with the one before it (those have
 * NFC_QC Maybe), and no mark follows an edit (a deletion or white space
 * could change what a mark combines with), so steps 3-6 reduce to the
 * deletions and whitespace runs of steps 2, 4 and 5 applied to the code
 * points as they are.  What does not fit that description is handed to
 * ICU a stretch at a time (normalize_segment, segment_end) and the fast
 * path goes on after it.  Returns 1 with *out (malloc'd, NUL-terminated) and
 * *unchanged, or 0 when the ICU path must decide for the whole text (other
 * charsets, invalid UTF-8, options, out of memory).  tests/test_text.c and
 * tests/fuzz/fuzz_text.c compare the two.
 *
 * the letters of the normalized text are counted in it too (its
 * characters are the kept ones: white space and dropped characters are not
 * letters); st is left half-filled when this returns 0.
 */
static int normalize_fast(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                          size_t *out_len, bool *unchanged, script_tally *st)
{
    if (options || !charset || strcmp(charset, "UTF-8") != 0 || len > NA_TEXT_MAX_INPUT || (!buf && len) ||
        !tables_ready())
        return 0;
    if (!na_utf8_valid(buf, len)) return 0; /* invalid bytes are substituted by ICU; then every lead starts a sequence */
    size_t cap = len + 1; /* at least k + (len - i) + 1 throughout */
    char *o = malloc(cap);
    if (!o) return 0;
    size_t k = 0, run = 0; /* buf[run..i): characters kept, copied in one go when the run ends */
    size_t space = SIZE_MAX; /* a single ' ' after a kept character, left in the run until what follows it is known */
    bool pending = false, pending_lf = false;
    uint8_t last = FC_SLOW, last_ccc = 0; /* the character before: its class, and its combining class if a mark */
    /* the last kept character (class 0) with only marks or deletions after
     * it: where it starts in buf, where it goes in o, its letter script */
    bool ks_valid = false;
    size_t ks_in = 0, ks_out = 0;
    int16_t ks_script = -1;
    for (size_t i = 0; i < len;) {
        uint32_t c = buf[i];
        size_t l = 1;
        if (c >= 0x80) {
            if (c >= 0xF0) goto slow; /* beyond the BMP */
            l = c >= 0xE0 ? 3 : 2;
            c = l == 2 ? (c & 0x1F) << 6 | (buf[i + 1] & 0x3F)
                       : (c & 0x0F) << 12 | (uint32_t)(buf[i + 1] & 0x3F) << 6 | (buf[i + 2] & 0x3F);
        }
        uint8_t cls = g_fast_class[c];
        if (cls == FC_KEEP) {
            if (pending) { /* the run starts here (white space ended the one before) */
                if (k > 0) o[k++] = pending_lf ? '\n' : ' ';
                pending = pending_lf = false;
            }
            if (st && g_letter_script[c] >= 0 && tally_letter(st, g_letter_script[c]) != 0) {
                free(o);
                return 0;
            }
            space = SIZE_MAX; /* a space between kept characters stays as it is */
            last = FC_KEEP;
            last_ccc = 0;
            ks_valid = true;
            ks_in = i;
            ks_out = k + (i - run);
            ks_script = g_letter_script[c];
            i += l;
#if defined(NA_TEXT_AVX2)
            /* Arabic letters and single spaces change nothing: passed over
             * 32 bytes at a time (the state after them is this one) */
            size_t (*skip)(const uint8_t *, size_t *) = NULL;
            int32_t run_script = 0;
            if (l == 2 && c >= 0x0600 && c < 0x0700) {
                skip = arab_run_avx2;
                run_script = USCRIPT_ARABIC;
            } else if (l == 1 && g_ascii_runs) { /* the same for ASCII (Latin letters) */
                skip = ascii_run_avx2;
                run_script = USCRIPT_LATIN;
            }
            if (skip && text_avx2()) {
                size_t n, letters, from = i;
                while (len - i >= 33 && (n = skip(buf + i, &letters)) > 0) {
                    if (st && letters && tally_letters(st, run_script, letters) != 0) {
                        free(o);
                        return 0;
                    }
                    i += n;
                    if (n < 30) break;
                }
                if (i > from) { /* the run ends with a kept character: the last one */
                    size_t p = i - 1;
                    while ((buf[p] & 0xC0) == 0x80) p--;
                    size_t pl;
                    (void)fast_class_at(buf, p, &pl);
                    uint32_t pc = pl == 1 ? buf[p] : (uint32_t)(buf[p] & 0x1F) << 6 | (buf[p + 1] & 0x3F);
                    ks_in = p;
                    ks_out = k + (p - run);
                    ks_script = pl <= 2 ? g_letter_script[pc] : -1;
                    if (pl > 2) ks_valid = false; /* not expected: runs are of 1- and 2-byte characters */
                }
            }
#endif
            continue;
        }
        if (cls == FC_MARK) { /* kept too, after a kept character, in canonical order */
            uint8_t ccc = g_mark_ccc[c];
            if ((last != FC_KEEP && last != FC_MARK) || last_ccc > ccc) goto slow;
            last = FC_MARK;
            last_ccc = ccc;
            i += l;
            continue;
        }
        if (c == ' ' && (last == FC_KEEP || last == FC_MARK)) { /* most spaces: the run goes on */
            space = i;
            last = FC_WS; /* as if it had ended the run (a mark after it is not kept) */
            last_ccc = 0;
            ks_valid = false;
            i++;
            continue;
        }
        if (cls != FC_WS && cls != FC_WS_LF && cls != FC_DROP) goto slow;
        if (space != SIZE_MAX) { /* not followed by a kept character: the space ends the run after all */
            memcpy(o + k, buf + run, space - run);
            k += space - run;
            run = space + 1;
            pending = true;
            space = SIZE_MAX;
        }
        last = cls;
        last_ccc = 0;
        memcpy(o + k, buf + run, i - run);
        k += i - run;
        if (cls == FC_WS_LF) pending_lf = true;
        if (cls != FC_DROP) { /* a deletion keeps the kept character before it in reach of a mark after it */
            pending = true;
            ks_valid = false;
        }
        i += l;
        run = i;
        continue;
    slow:
        /* What the fast path cannot take goes to ICU from the last kept
         * character before it (which a mark may compose or reorder with)
         * to the next kept character or white space after it; the output
         * of that kept character is taken back, and counted again. */
        if (space != SIZE_MAX) { /* a space right before: pending white space for ICU */
            memcpy(o + k, buf + run, space - run);
            k += space - run;
            pending = true;
            space = SIZE_MAX;
            ks_valid = false;
        } else {
            memcpy(o + k, buf + run, i - run);
            k += i - run;
        }
        size_t from = i;
        if (ks_valid) {
            from = ks_in;
            k = ks_out;
            if (st && ks_script >= 0) {
                if (st->run_script != ks_script || st->run == 0) {
                    free(o);
                    return 0;
                }
                st->run--;
            }
        }
        size_t to = segment_end(buf, len, i);
        if (normalize_segment(buf + from, to - from, &pending, &pending_lf, &o, &cap, &k, len - to, st) != 0) {
            free(o);
            return 0;
        }
        i = run = to;
        last = FC_SLOW;
        last_ccc = 0;
        ks_valid = false;
    }
    if (space != SIZE_MAX) { /* a trailing space is dropped */
        memcpy(o + k, buf + run, space - run);
        k += space - run;
        run = len;
    }
    if (len > run) memcpy(o + k, buf + run, len - run);
    k += len - run;
    o[k] = 0;
    *unchanged = k == len && (len == 0 || memcmp(o, buf, len) == 0);
    *out = o;
    *out_len = k;
    return 1;
}

int na_text_simd(int level)
{
#if defined(NA_TEXT_AVX2)
    if (level >= 0) atomic_store_explicit(&g_text_avx2, level >= 1 && cpu_avx2(), memory_order_relaxed);
    return text_avx2();
#else
    (void)level;
    return 0;
#endif
}

/* Step 2: line terminators.  CR LF, CR, VT, FF, NEL, LS, PS -> LF.  In place. */
static int32_t unify_line_ends(UChar *u, int32_t n)
{
    int32_t o = 0;
    for (int32_t i = 0; i < n; i++) {
        UChar c = u[i];
        if (c == 0x0D) {
            if (i + 1 < n && u[i + 1] == 0x0A) i++;
            c = 0x0A;
        } else if (c == 0x0B || c == 0x0C || c == 0x85 || c == 0x2028 || c == 0x2029)
            c = 0x0A;
        u[o++] = c;
    }
    return o;
}

/*
 * Normalize src into a new malloc'd buffer with ICU normalizer nz: one call
 * into a buffer of 2n + 16 units (NFC never grows a text, NFD rarely more
 * than that), a second only when ICU says it needs more (asking for the size
 * first was a whole second normalization of every text).
 */
static int normalize_with(const UNormalizer2 *nz, const UChar *src, int32_t n, UChar **dst, int32_t *dlen)
{
    if (n < 0 || n > (INT32_MAX - 17) / 2) return NEWSARC_E_LIMIT;
    int32_t cap = 2 * n + 16;
    UChar *d = malloc((size_t)cap * sizeof(UChar));
    if (!d) return NEWSARC_E_NOMEM;
    UErrorCode e = U_ZERO_ERROR;
    int32_t got = na_icu.unorm2_normalize(nz, src, n, d, cap, &e);
    if ((e == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(e)) && got >= cap && got < INT32_MAX - 1) { /* room for the NUL too */
        cap = got + 1;
        UChar *bigger = realloc(d, (size_t)cap * sizeof(UChar));
        if (!bigger) {
            free(d);
            return NEWSARC_E_NOMEM;
        }
        d = bigger;
        e = U_ZERO_ERROR;
        got = na_icu.unorm2_normalize(nz, src, n, d, cap, &e);
    }
    if (U_FAILURE(e) || got < 0 || got >= cap) {
        free(d);
        return NEWSARC_E_LIMIT;
    }
    d[got] = 0;
    *dst = d;
    *dlen = got;
    return 0;
}

/* STRIP_DIACRITICS: the marks removed after NFD (spec/NORMALIZATION.md, set D). */
static bool is_stripped_diacritic(UChar32 c)
{
    static const UChar32 ranges[][2] = {
        {0x0300, 0x036F}, /* Combining Diacritical Marks */
        {0x0483, 0x0489}, /* Cyrillic combining marks (titlo, ...) */
        {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2}, {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, /* Hebrew */
        {0x0610, 0x061A}, {0x064B, 0x0652}, {0x0656, 0x065F}, {0x0670, 0x0670}, /* Arabic harakat */
        {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, /* Quranic annotation */
        {0x08D3, 0x08E1}, {0x08E3, 0x08FF},                                     /* Arabic Extended-A */
        {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0xFE20, 0xFE2F}, /* more combining marks */
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1]) return true;
    return false;
}

static void put_cp(UChar *o, int32_t *k, UChar32 c)
{
    if (c <= 0xFFFF) o[(*k)++] = (UChar)c;
    else {
        o[(*k)++] = U16_LEAD(c);
        o[(*k)++] = U16_TRAIL(c);
    }
}

/* White_Space (spec/NORMALIZATION.md step 5), with an ASCII fast path. */
static bool is_white_space(UChar32 c)
{
    if (c < 0x80) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
    return na_icu.u_isUWhiteSpace(c);
}

/*
 * Steps 4 and 5 on NFD text: deletions and mappings, then whitespace runs.
 * Output is never longer than the input, so o may be u.  nfd supplies the
 * combining classes (only needed for UNIFY_ALEF_YEH).
 */
static int32_t edit_nfd(const UChar *u, int32_t n, uint32_t options, const UNormalizer2 *nfd, UChar *o,
                        bool *pending_io, bool *pending_lf_io, bool had_output)
{
    int32_t i = 0, k = 0;
    bool pending = *pending_io, pending_lf = *pending_lf_io;
    UChar32 base = -1; /* last output code point with combining class 0 */
    while (i < n) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        if (c == 0x0640 || c == 0xFEFF) continue; /* tatweel; byte order mark (deprecated ZWNBSP) */
        if ((options & NA_NORM_STRIP_DIACRITICS) && is_stripped_diacritic(c)) continue;
        if (options & NA_NORM_UNIFY_ALEF_YEH) {
            if (c == 0x0671) c = 0x0627;                     /* alef wasla -> alef */
            else if (c == 0x0649 || c == 0x06CC) c = 0x064A; /* alef maksura, farsi yeh -> yeh */
            else if (c == 0x06A9) c = 0x0643;                /* keheh -> kaf */
        }
        if (is_white_space(c)) {
            pending = true;
            pending_lf |= c == 0x0A;
            continue;
        }
        if (pending) {
            if (k > 0 || had_output) {
                o[k++] = pending_lf ? 0x0A : 0x20;
                base = o[k - 1];
            }
            pending = pending_lf = false;
        }
        /* madda / hamza above / hamza below on alef: the alef variants of NFD */
        if ((options & NA_NORM_UNIFY_ALEF_YEH) && (c == 0x0653 || c == 0x0654 || c == 0x0655) && base == 0x0627)
            continue;
        put_cp(o, &k, c);
        if ((options & NA_NORM_UNIFY_ALEF_YEH) && na_icu.unorm2_getCombiningClass(nfd, c) == 0) base = c;
    }
    *pending_io = pending;
    *pending_lf_io = pending_lf;
    return k;
}

/* The normalized text as UTF-16 (steps 1-6). */
static int normalize_uchars(const uint8_t *buf, size_t len, const char *charset, uint32_t options, UChar **out,
                            int32_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (options & ~NA_NORM_KNOWN) return NEWSARC_E_ARG;
    if (!buf && len) return NEWSARC_E_ARG;
    if (len > NA_TEXT_MAX_INPUT) return NEWSARC_E_LIMIT;
    na_charset_info info;
    if (!charset) {
        int rc = na_text_charset(buf, len, NULL, &info);
        if (rc) return rc;
        charset = info.chosen;
    }
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfd = na_icu.unorm2_getNFDInstance(&e);
    const UNormalizer2 *nfc = na_icu.unorm2_getNFCInstance(&e);
    if (U_FAILURE(e)) return NEWSARC_E_UNSUPPORTED;

    UChar *u = NULL, *d = NULL, *r = NULL;
    int32_t ulen, dlen, rlen;
    int rc = decode_uchars(buf, len, charset, &u, &ulen, NULL); /* step 1 */
    if (rc) return rc;
    ulen = unify_line_ends(u, ulen);        /* step 2 */
    rc = normalize_with(nfd, u, ulen, &d, &dlen); /* step 3 */
    free(u);
    if (rc) return rc;
    bool pending = false, pending_lf = false; /* white space at the end is dropped */
    dlen = edit_nfd(d, dlen, options, nfd, d, &pending, &pending_lf, false); /* steps 4-5, in place: never longer */
    rc = normalize_with(nfc, d, dlen, &r, &rlen); /* step 6 */
    free(d);
    if (rc) return rc;
    *out = r;
    *out_len = rlen;
    return 0;
}

/*
 * Steps 2-6 by ICU for a stretch buf[0..n) of valid UTF-8 inside a text
 * (normalize_fast's slow stretches): white space before it is *pending
 * (written before its first character if anything was written before it),
 * white space at its end is left pending for what follows.  The result is
 * appended to *o at *k, *o grown so that reserve more bytes and a NUL fit
 * after it; its letters are counted in st.  0 ok, -1 not (the caller then
 * leaves the whole text to ICU).
 */
static int normalize_segment(const uint8_t *buf, size_t n, bool *pending, bool *pending_lf, char **o, size_t *cap,
                             size_t *k, size_t reserve, script_tally *st)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfd = na_icu.unorm2_getNFDInstance(&e);
    const UNormalizer2 *nfc = na_icu.unorm2_getNFCInstance(&e);
    if (U_FAILURE(e) || n > (size_t)INT32_MAX / 4) return -1;
    UChar *u, *d = NULL, *ed = NULL, *r = NULL;
    int32_t ul, dl, el, rl;
    int rc = -1;
    /* step 1 (a stretch never starts with U+FEFF, which step 4 drops anyway) */
    if (decode_uchars(buf, n, "UTF-8", &u, &ul, NULL) != 0) return -1;
    ul = unify_line_ends(u, ul); /* step 2 */
    int bad = normalize_with(nfd, u, ul, &d, &dl); /* step 3 */
    free(u); /* each step's input freed as soon as it is used: a long stretch holds two texts at a time */
    u = NULL;
    if (bad || !(ed = malloc(((size_t)dl + 2) * sizeof *ed))) goto done;
    el = edit_nfd(d, dl, 0, nfd, ed, pending, pending_lf, *k > 0); /* steps 4-5: at most one unit longer */
    free(d);
    d = NULL;
    bad = normalize_with(nfc, ed, el, &r, &rl); /* step 6 */
    free(ed);
    ed = NULL;
    if (bad) goto done;
    /* + 1: room for a space still pending at the end (a stretch never ends
     * with white space, so none is; the fast path would write it later) */
    size_t need = *k + 3 * (size_t)rl + reserve + 2;
    if (need > *cap) {
        char *bigger = realloc(*o, need);
        if (!bigger) goto done;
        *o = bigger;
        *cap = need;
    }
    int32_t m = 0;
    e = U_ZERO_ERROR;
    na_icu.u_strToUTF8WithSub(*o + *k, 3 * rl + 1, &m, r, rl, 0xFFFD, NULL, &e);
    if (U_FAILURE(e) || m < 0 || m > 3 * rl) goto done;
    if (st && tally_utf8(st, (const uint8_t *)*o + *k, (size_t)m) != 0) goto done;
    *k += (size_t)m;
    rc = 0;
done:
    free(u);
    free(d);
    free(ed);
    free(r);
    return rc;
}

/*
 * A text the fast path cannot take as it is, because it is in another
 * charset or is damaged UTF-8: decoded to UTF-8 first (step 1, the decoding
 * ICU's path starts with: one leading U+FEFF dropped, which step 4 drops
 * anyway, and U+FFFD for what does not decode), then the fast path on
 * that, unless the decoding has an unpaired surrogate.  Legacy-encoded
 * texts went through ICU's normalizers whole; this gives the same text
 * (test_text compares them).  1 done, 0 not taken (the text is UTF-8 the
 * fast path has read already, or what it decodes to needs ICU after all).
 * The tally is reset before use.
 */
static int normalize_decoded(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                             size_t *out_len, script_tally *st)
{
    if (options || !charset || len > NA_TEXT_MAX_INPUT || (!buf && len) || !tables_ready()) return 0;
    if (strcmp(charset, "UTF-8") == 0 && na_utf8_valid(buf, len)) return 0;
    UChar *u;
    int32_t ul;
    if (decode_uchars(buf, len, charset, &u, &ul, NULL) != 0) return 0;
    /* an unpaired surrogate (CESU-8 and UTF-7 give them without complaint)
     * stays one through steps 2-6 and may pair up with another once a
     * deletion brings them together; UTF-8 cannot carry it: ICU decides */
    for (int32_t i = 0; i < ul; i++) {
        if (!U16_IS_SURROGATE(u[i])) continue;
        if (U16_IS_SURROGATE_LEAD(u[i]) && i + 1 < ul && U16_IS_TRAIL(u[i + 1])) {
            i++;
            continue;
        }
        free(u);
        return 0;
    }
    char *d;
    size_t dl;
    int rc = uchars_to_utf8(u, ul, &d, &dl);
    free(u);
    if (rc != 0) return 0;
    if (st) {
        tally_free(st);
        tally_init(st);
    }
    bool unchanged;
    int ok = normalize_fast((const uint8_t *)d, dl, "UTF-8", options, out, out_len, &unchanged, st);
    free(d);
    return ok;
}

int na_text_normalize(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                      size_t *out_len)
{
    bool unchanged;
    return na_text_normalize_ex(buf, len, charset, options, out, out_len, &unchanged);
}

int na_text_normalize_ex(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                         size_t *out_len, bool *unchanged)
{
    if (!out || !out_len || !unchanged) return NEWSARC_E_ARG;
    *out = NULL;
    *out_len = 0;
    *unchanged = false;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    if (normalize_fast(buf, len, charset, options, out, out_len, unchanged, NULL)) return 0;
    /* decoded first: never "unchanged" (the ICU path does not say it either) */
    if (normalize_decoded(buf, len, charset, options, out, out_len, NULL)) return 0;
    return na_text_normalize_icu(buf, len, charset, options, out, out_len);
}

int na_text_normalize_script(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                             size_t *out_len, bool *unchanged, char script[16])
{
    if (!out || !out_len || !unchanged || !script) return NEWSARC_E_ARG;
    *out = NULL;
    *out_len = 0;
    *unchanged = false;
    script[0] = 0;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    script_tally t;
    tally_init(&t);
    int rc = 0;
    if (normalize_fast(buf, len, charset, options, out, out_len, unchanged, &t) ||
        normalize_decoded(buf, len, charset, options, out, out_len, &t)) { /* one pass for both */
        if (tally_flush(&t) == 0) tally_result(&t, script);
    } else {
        rc = na_text_normalize_icu(buf, len, charset, options, out, out_len);
        if (rc == 0 && na_text_script((const uint8_t *)*out, *out_len, script) != 0) script[0] = 0;
    }
    tally_free(&t);
    return rc;
}

int na_text_normalize_icu(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                          size_t *out_len)
{
    if (!out || !out_len) return NEWSARC_E_ARG;
    *out = NULL;
    *out_len = 0;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    UChar *u;
    int32_t n;
    int rc = normalize_uchars(buf, len, charset, options, &u, &n);
    if (rc) return rc;
    rc = uchars_to_utf8(u, n, out, out_len); /* step 7 */
    free(u);
    return rc;
}

int na_text_norm_id(const uint8_t *buf, size_t len, const char *charset, uint32_t options,
                    uint8_t out[NA_NORM_ID_SIZE])
{
    if (!out) return NEWSARC_E_ARG;
    char *s;
    size_t n;
    int rc = na_text_normalize(buf, len, charset, options, &s, &n);
    if (rc) return rc;
    if (sodium_init() < 0) {
        free(s);
        return NEWSARC_E_UNSUPPORTED;
    }
    uint8_t h[NA_HASH]; /* norm_id is the first 16 bytes of BLAKE2b-256 (not BLAKE2b-128) */
    crypto_generichash(h, NA_HASH, (const unsigned char *)s, n, NULL, 0);
    memcpy(out, h, NA_NORM_ID_SIZE);
    free(s);
    return 0;
}

/* ---- script ------------------------------------------------------------- */

/* Count the letters of valid or damaged UTF-8 in t, in order (sequences
 * that are not well-formed are skipped); -1 out of memory. */
static int tally_utf8(script_tally *t, const uint8_t *utf8, size_t len)
{
    bool tables = tables_ready();
    int rc = 0;
    for (size_t i = 0; i < len && !rc;) {
        UChar32 c;
        uint8_t b0 = utf8[i];
        if (b0 < 0x80) { /* ASCII and 2-byte sequences decoded here, the rest by utf8_seq: the same characters */
            c = b0;
            i++;
        } else if (b0 >= 0xC2 && b0 <= 0xDF && len - i >= 2 && (utf8[i + 1] & 0xC0) == 0x80) {
            c = (UChar32)(((b0 & 0x1Fu) << 6) | (utf8[i + 1] & 0x3Fu));
            i += 2;
        } else {
            size_t k = utf8_seq(utf8 + i, len - i);
            if (k == 0) {
                i++;
                continue;
            }
            int32_t j = 0;
            U8_NEXT_UNSAFE(utf8 + i, j, c);
            i += k;
        }
        if (c < 0x10000 && tables) { /* the same answer from the table */
            int16_t sc = g_letter_script[c];
            if (sc >= 0) rc = tally_letter(t, sc);
            continue;
        }
        rc = tally_flush(t); /* in order, before this character */
        int8_t gc = na_icu.u_charType(c);
        if (gc != U_UPPERCASE_LETTER && gc != U_LOWERCASE_LETTER && gc != U_TITLECASE_LETTER &&
            gc != U_MODIFIER_LETTER && gc != U_OTHER_LETTER)
            continue;
        UErrorCode e = U_ZERO_ERROR;
        int32_t sc = na_icu.uscript_getScript(c, &e);
        if (U_FAILURE(e) || sc < 0 || sc >= USCRIPT_CODE_LIMIT || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED ||
            sc == USCRIPT_UNKNOWN)
            continue;
        if (!rc) rc = tally_add(t, sc, 1);
    }
    return rc;
}

int na_text_script(const uint8_t *utf8, size_t len, char out[16])
{
    if (!out || (!utf8 && len)) return NEWSARC_E_ARG;
    memcpy(out, "Zyyy", 5);
    if (len > NA_TEXT_MAX_INPUT) return NEWSARC_E_LIMIT;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    script_tally t;
    tally_init(&t);
    int rc = tally_utf8(&t, utf8, len);
    if (!rc) rc = tally_flush(&t);
    if (!rc) tally_result(&t, out);
    tally_free(&t);
    return rc ? NEWSARC_E_NOMEM : 0;
}

/* ---- MinHash ------------------------------------------------------------ */

/* A 64-bit finalizer (the mixing steps of SplitMix64). */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* 64-bit FNV-1a over UTF-16 code units (each as 2 bytes, little-endian), mixed. */
static uint64_t token_hash(const UChar *t, int32_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int32_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)(t[i] & 0xFF)) * 0x100000001B3ULL;
        h = (h ^ (uint8_t)(t[i] >> 8)) * 0x100000001B3ULL;
    }
    return mix64(h);
}

/* text -> NFC -> full case folding -> NFC, as a new malloc'd string. */
static int fold_text(const UChar *u, int32_t n, const UNormalizer2 *nfc, UChar **out, int32_t *out_len)
{
    UChar *a = NULL, *f = NULL;
    int32_t alen, flen;
    int rc = normalize_with(nfc, u, n, &a, &alen);
    if (rc) return rc;
    UErrorCode e = U_ZERO_ERROR;
    flen = na_icu.u_strFoldCase(NULL, 0, a, alen, U_FOLD_CASE_DEFAULT, &e);
    if ((e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e)) || flen < 0 || flen >= INT32_MAX - 1) rc = NEWSARC_E_LIMIT;
    else if (!(f = malloc(((size_t)flen + 1) * sizeof(UChar))))
        rc = NEWSARC_E_NOMEM;
    else {
        e = U_ZERO_ERROR;
        flen = na_icu.u_strFoldCase(f, flen + 1, a, alen, U_FOLD_CASE_DEFAULT, &e);
        rc = U_FAILURE(e) ? NEWSARC_E_LIMIT : normalize_with(nfc, f, flen, out, out_len);
    }
    free(a);
    free(f);
    return rc;
}

/* Hashes of the word tokens of text, into a malloc'd array. */
static int token_hashes(const UChar *text, int32_t n, uint64_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    UErrorCode e = U_ZERO_ERROR;
    UBreakIterator *bi = na_icu.ubrk_open(UBRK_WORD, "", text, n, &e);
    if (U_FAILURE(e)) return e == U_MEMORY_ALLOCATION_ERROR ? NEWSARC_E_NOMEM : NEWSARC_E_UNSUPPORTED;
    size_t cap = 64, used = 0;
    uint64_t *h = malloc(cap * sizeof *h);
    int rc = h ? 0 : NEWSARC_E_NOMEM;
    int32_t start = na_icu.ubrk_first(bi);
    for (int32_t end = na_icu.ubrk_next(bi); rc == 0 && end != UBRK_DONE; start = end, end = na_icu.ubrk_next(bi)) {
        if (na_icu.ubrk_getRuleStatus(bi) < UBRK_WORD_NONE_LIMIT) continue; /* spaces, punctuation */
        if (used == cap) {
            uint64_t *bigger = realloc(h, cap * 2 * sizeof *h);
            if (!bigger) {
                rc = NEWSARC_E_NOMEM;
                break;
            }
            h = bigger;
            cap *= 2;
        }
        h[used++] = token_hash(text + start, end - start);
    }
    na_icu.ubrk_close(bi);
    if (rc) {
        free(h);
        return rc;
    }
    *out = h;
    *count = used;
    return 0;
}

int na_text_minhash(const char *utf8, size_t len, uint32_t k, uint64_t *sig)
{
    if (!sig || k == 0 || k > NA_MINHASH_MAX_K || (!utf8 && len)) return NEWSARC_E_ARG;
    if (len > NA_TEXT_MAX_INPUT) return NEWSARC_E_LIMIT;
    if (na_icu_load() != 0) return NEWSARC_E_UNSUPPORTED;
    for (uint32_t i = 0; i < k; i++) sig[i] = UINT64_MAX;
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfc = na_icu.unorm2_getNFCInstance(&e);
    if (U_FAILURE(e)) return NEWSARC_E_UNSUPPORTED;

    /* UTF-8 -> UTF-16 (invalid sequences -> U+FFFD) -> NFC, folded */
    int32_t ulen = 0;
    na_icu.u_strFromUTF8WithSub(NULL, 0, &ulen, utf8, (int32_t)len, 0xFFFD, NULL, &e);
    if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e)) return NEWSARC_E_LIMIT;
    UChar *u = malloc(((size_t)ulen + 1) * sizeof(UChar));
    if (!u) return NEWSARC_E_NOMEM;
    e = U_ZERO_ERROR;
    na_icu.u_strFromUTF8WithSub(u, ulen + 1, &ulen, utf8, (int32_t)len, 0xFFFD, NULL, &e);
    UChar *t = NULL;
    int32_t tlen = 0;
    int rc = U_FAILURE(e) ? NEWSARC_E_LIMIT : fold_text(u, ulen, nfc, &t, &tlen);
    free(u);
    if (rc) return rc;
    uint64_t *tok;
    size_t ntok;
    rc = token_hashes(t, tlen, &tok, &ntok);
    free(t);
    if (rc) return rc;

    uint64_t *seed = malloc((size_t)k * sizeof *seed);
    if (!seed) {
        free(tok);
        return NEWSARC_E_NOMEM;
    }
    for (uint32_t i = 0; i < k; i++) seed[i] = mix64(0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1));
    size_t width = ntok < 3 ? ntok : 3, nshingle = ntok == 0 ? 0 : ntok - width + 1;
    for (size_t s = 0; s < nshingle; s++) {
        uint64_t h = 0;
        for (size_t j = 0; j < width; j++) h = mix64(h + tok[s + j]);
        for (uint32_t i = 0; i < k; i++) {
            uint64_t v = mix64(h ^ seed[i]);
            if (v < sig[i]) sig[i] = v;
        }
    }
    free(seed);
    free(tok);
    return 0;
}

double na_minhash_similarity(const uint64_t *a, const uint64_t *b, uint32_t k)
{
    if (!a || !b || k == 0) return 0.0;
    uint32_t same = 0;
    for (uint32_t i = 0; i < k; i++) same += a[i] == b[i];
    return (double)same / (double)k;
}
