/*
 * jsonfast.c - JSON without a tree, where jansson's tree per object was the
 * cost: metadata newsarc wrote itself, and pack's second reading of input
 * lines (na_json_text_fast, whose result is checked against the article id).
 *
 * Metadata texts are stored in the compact form of spec/FORMAT.md 10.3
 * (jansson's JSON_COMPACT output).  Checking them with jansson builds a
 * tree per entry, which dominated verify and extract --jsonl on large
 * archives.  na_json_compact_object() recognizes the compact form without
 * a tree.  It is deliberately partial: it says "yes" only for texts that
 * jansson parses and dumps back to the same bytes, and "not sure" for
 * anything else (reals, escapes other than the canonical ones, deep nesting,
 * many members, NUL in names), so callers fall back to jansson and nothing
 * changes but the speed.  tests/unit/test_jsonfast.c checks the "yes"
 * answers against jansson.
 */
#include "internal.h"

#include <stdatomic.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NA_AVX2_PATH 1
#endif

#define JC_MAX_DEPTH 64
#define JC_MAX_MEMBERS 64 /* per object: duplicate names are looked for pairwise */

typedef struct jc {
    const unsigned char *p;
    size_t n, i;
    int depth;
    const char *key; /* optional: a top-level member name looked for while checking (plain, see plain_key) */
    size_t key_len;
    int has;         /* set when that name was seen */
    int utf8;        /* p[0, n) is known to be valid UTF-8: strings are only looked at for stops */
    const uint64_t *map; /* optional, with utf8: bit i set where p[i] is a stop ('"', '\\', control) */
} jc;

#define JC_MAP_BYTES 4096 /* objects up to this size are checked with a stop map */

/* Strict UTF-8 (shortest form, no surrogates, <= U+10FFFF): length of the sequence at p, 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogates */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* inline in this file's string walks (short strings: the call cost showed), na_json_plain_run for the others */
static inline size_t plain_run(const unsigned char *p, size_t n, size_t i, int ascii_only)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    const unsigned keep_high = ascii_only ? 0u : 0xFFFFu;
    while (n - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned high = (unsigned)_mm_movemask_epi8(v);
        __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        /* signed: bytes 80-FF are below 0x20 too, and stop only when ASCII is asked for */
        unsigned stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(q, _mm_cmplt_epi8(v, space))) & ~(high & keep_high);
        if (stop) return i + (unsigned)__builtin_ctz(stop);
        i += 16;
    }
#endif
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t high_mask = ascii_only ? ~UINT64_C(0) : 0;
    while (n - i >= 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | (v & high_mask);
        if (hit & highs) break;
        i += 8;
    }
    return i;
}

size_t na_json_plain_run(const unsigned char *p, size_t n, size_t i, int ascii_only) { return plain_run(p, n, i, ascii_only); }

/* Index of the next '"', '\\' or control byte at or after i (n if none); in
 * valid UTF-8 these are the only bytes a JSON string needs looked at (they are
 * ASCII, never part of a longer sequence). */
static size_t next_special(const char *p, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)p;
    i = plain_run(u, n, i, 0);
    while (i < n && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') i++;
    return i;
}

#if defined(__SSE2__)
/* Byte-class masks of 16 bytes: high bit set, continuation (80-BF), 2-byte lead (C2-DF), JSON stop (ASCII). */
typedef struct cls16 {
    unsigned high, cont, lead, stop;
} cls16;

static inline cls16 classify16(const unsigned char *p, int json)
{
    const __m128i c0 = _mm_set1_epi8((char)0xC0), c1 = _mm_set1_epi8((char)0xC1), e0 = _mm_set1_epi8((char)0xE0);
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    cls16 c;
    c.high = (unsigned)_mm_movemask_epi8(v);
    c.cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, c0));
    c.lead = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, c1), _mm_cmplt_epi8(v, e0)));
    c.stop = 0;
    if (json) {
        __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
        c.stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(q, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)))) & ~c.high;
    }
    return c;
}

/*
 * The walk of run_2byte below, 32 or 16 bytes at a time with SSE2 (every
 * x86-64 has it): byte classes by signed comparison (continuation 80-BF is
 * below (int8)C0, a 2-byte lead C2-DF lies between (int8)C1 and (int8)E0),
 * then the same mask algebra as the 8-byte words.  *stopped says whether it
 * found a byte that stops the run (else fewer than 16 bytes are left).
 */
static size_t run_2byte_sse2(const unsigned char *p, size_t n, size_t i, int json, int *stopped)
{
    uint64_t carry = 0; /* 1: the chunk before ended with a lead byte */
    *stopped = 0;
    while (n - i >= 16) {
        /* 32 bytes at a time while they last (one test and branch for both halves), then 16 */
        int two = n - i >= 32;
        cls16 x = classify16(p + i, json), y = two ? classify16(p + i + 16, json) : (cls16){0, 0, 0, 0};
        uint64_t high = x.high | (uint64_t)y.high << 16, cont = x.cont | (uint64_t)y.cont << 16;
        uint64_t lead = x.lead | (uint64_t)y.lead << 16, width = two ? 32 : 16;
        uint64_t bad = (x.stop | (uint64_t)y.stop << 16) | (high & ~(lead | cont)) |
                       (cont ^ (((lead << 1) | carry) & ((UINT64_C(1) << width) - 1)));
        if (bad) {
            /* every byte before the first flagged one is fine, but a lead byte just before it is cut off */
            unsigned k = (unsigned)__builtin_ctzll(bad);
            *stopped = 1;
            return i + k - (size_t)(k ? (lead >> (k - 1)) & 1u : carry);
        }
        carry = lead >> (width - 1);
        i += (size_t)width;
    }
    return carry ? i - 1 : i;
}
#endif

#if defined(NA_AVX2_PATH)
/* The same walk 64 bytes at a time with AVX2, chosen at run time (the SSE2
 * walk above on CPUs without it, and for what is left under 64 bytes). */
typedef struct cls32 {
    uint32_t high, cont, lead, stop;
} cls32;

__attribute__((target("avx2"))) static inline cls32 classify32(const unsigned char *p, int json)
{
    const __m256i c0 = _mm256_set1_epi8((char)0xC0), c1 = _mm256_set1_epi8((char)0xC1), e0 = _mm256_set1_epi8((char)0xE0);
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
    cls32 c;
    c.high = (uint32_t)_mm256_movemask_epi8(v);
    c.cont = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(c0, v));
    c.lead = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpgt_epi8(v, c1), _mm256_cmpgt_epi8(e0, v)));
    c.stop = 0;
    if (json) {
        __m256i q = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')), _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
        c.stop = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(q, _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v))) & ~c.high;
    }
    return c;
}

/* As run_2byte_sse2 while 64 bytes are left; then returns where the SSE2
 * walk goes on (the lead byte of a sequence cut at the end, if any). */
__attribute__((target("avx2"))) static size_t run_2byte_avx2(const unsigned char *p, size_t n, size_t i, int json, int *stopped)
{
    uint64_t carry = 0;
    *stopped = 0;
    while (n - i >= 64) {
        cls32 x = classify32(p + i, json), y = classify32(p + i + 32, json);
        uint64_t high = x.high | (uint64_t)y.high << 32, cont = x.cont | (uint64_t)y.cont << 32;
        uint64_t lead = x.lead | (uint64_t)y.lead << 32;
        uint64_t bad = (x.stop | (uint64_t)y.stop << 32) | (high & ~(lead | cont)) | (cont ^ ((lead << 1) | carry));
        if (bad) {
            unsigned k = (unsigned)__builtin_ctzll(bad);
            *stopped = 1;
            return i + k - (size_t)(k ? (lead >> (k - 1)) & 1u : carry);
        }
        carry = lead >> 63;
        i += 64;
    }
    return carry ? i - 1 : i;
}

/*
 * Whole 64-byte chunks of valid UTF-8 of any sequence length (and, with
 * json, no quote, backslash or control), after Keiser and Lemire,
 * "Validating UTF-8 In Less Than One Instruction Per Byte" (2021): every
 * error shows in two adjacent bytes (what the high and low nibble of the
 * first and the high nibble of the second allow, three table lookups
 * ANDed), except a missing third or fourth byte, found from the bytes 2 and
 * 3 before.  The 2-byte walk above stopped at every 3-byte character: 0.3
 * GB/s on Chinese text, where this runs at several GB/s.  It answers per
 * chunk, not per byte: it returns the start of the sequence that holds the
 * first byte of the first chunk with a stop or an error (or of the last
 * chunk shorter than 64 bytes), and the exact walks go on from there.
 */
enum {
    U8_TOO_SHORT = 1 << 0,  /* lead, then no continuation */
    U8_TOO_LONG = 1 << 1,   /* ASCII, then a continuation */
    U8_OVERLONG_3 = 1 << 2, /* E0 80-9F */
    U8_TOO_LARGE = 1 << 3,  /* F4 90-BF, F5-FF */
    U8_SURROGATE = 1 << 4,  /* ED A0-BF */
    U8_OVERLONG_2 = 1 << 5, /* C0, C1 */
    U8_TOO_LARGE_1000 = 1 << 6,
    U8_OVERLONG_4 = 1 << 6, /* F0 80-8F (shares the bit: the two never meet on one lead) */
    U8_TWO_CONTS = 1 << 7,  /* a continuation after a continuation: right only as a 3rd or 4th byte */
    U8_CARRY = U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS,
};

/* What a byte allows of the next, by its high nibble (hi1) and its low nibble
 * (lo1); what a byte allows of the one before, by its high nibble (hi2). */
#define U8_C1 (U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000)
static const unsigned char u8_hi1[16] = {
    U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, /* ASCII */
    U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, /* continuations */
    U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT, U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
    U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
};
static const unsigned char u8_lo1[16] = {
    U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, U8_CARRY | U8_OVERLONG_2, U8_CARRY, U8_CARRY,
    U8_CARRY | U8_TOO_LARGE, U8_C1, U8_C1, U8_C1, U8_C1, U8_C1, U8_C1, U8_C1, U8_C1, U8_C1 | U8_SURROGATE, U8_C1, U8_C1,
};
static const unsigned char u8_hi2[16] = {
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE_1000 | U8_OVERLONG_4, /* 80-8F */
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,                      /* 90-9F */
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,                       /* A0-AF */
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,                       /* B0-BF */
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
};
#undef U8_C1

/* The bytes k = 1..3 before each byte of cur, prev being the 32 bytes before cur. */
#define U8_PREV(cur, prev, k) _mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21), 16 - (k))

__attribute__((target("avx2"))) static inline __m256i u8_errors(__m256i cur, __m256i prev)
{
    const __m256i hi1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)u8_hi1));
    const __m256i lo1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)u8_lo1));
    const __m256i hi2 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)u8_hi2));
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i p1 = U8_PREV(cur, prev, 1);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(hi1, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nib)),
                         _mm256_shuffle_epi8(lo1, _mm256_and_si256(p1, nib))),
        _mm256_shuffle_epi8(hi2, _mm256_and_si256(_mm256_srli_epi16(cur, 4), nib)));
    /* 2 bytes after E0-FF or 3 after F0-FF a continuation is due: there, and only there, TWO_CONTS is right */
    __m256i third = _mm256_subs_epu8(U8_PREV(cur, prev, 2), _mm256_set1_epi8((char)(0xE0 - 0x80)));
    __m256i fourth = _mm256_subs_epu8(U8_PREV(cur, prev, 3), _mm256_set1_epi8((char)(0xF0 - 0x80)));
    __m256i due = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(due, sc);
}

__attribute__((target("avx2"))) static inline __m256i u8_stops(__m256i v)
{
    const __m256i ctl = _mm256_set1_epi8(0x1F);
    return _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                           _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))),
                           _mm256_cmpeq_epi8(_mm256_max_epu8(v, ctl), ctl));
}

/*
 * One 64-byte chunk of a UTF-8 walk (a, b: its two halves): 1 if it holds
 * no error given the chunk before (*prev, its second half, and *cut, where
 * that chunk's last three bytes start sequences cut at its end), which are
 * then updated for the next chunk.  An ASCII chunk is fine unless a
 * sequence was cut before it.
 */
__attribute__((target("avx2"))) static inline int u8_chunk_ok(__m256i a, __m256i b, __m256i *prev, __m256i *cut)
{
    /* nonzero where a sequence is cut at the end of 32 bytes: its lead is among the last three */
    const __m256i last = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, (char)(0xF0 - 1),
                                          (char)(0xE0 - 1), (char)(0xC0 - 1));
    __m256i err;
    if (!_mm256_movemask_epi8(_mm256_or_si256(a, b))) {
        err = *cut;
        *cut = _mm256_setzero_si256();
    } else {
        err = _mm256_or_si256(u8_errors(a, *prev), u8_errors(b, a));
        *cut = _mm256_subs_epu8(b, last);
    }
    *prev = b;
    return _mm256_testz_si256(err, err);
}

/* The stops ('"', '\\', controls) of a 64-byte chunk as bits, those of its first left bytes only. */
__attribute__((target("avx2"))) static inline uint64_t u8_chunk_stops(__m256i a, __m256i b, size_t left)
{
    uint64_t stop = (uint32_t)_mm256_movemask_epi8(u8_stops(a)) | (uint64_t)(uint32_t)_mm256_movemask_epi8(u8_stops(b)) << 32;
    return left < 64 ? stop & ((UINT64_C(1) << left) - 1) : stop;
}

/*
 * i is the start of a sequence.  *exact = 1: p[i, r) is valid (and, with
 * json, holds no stop), and r, the position returned, is n or (json) a stop
 * byte: the common case, a string walked to its end in one call.  The last
 * partial 64 bytes are checked in a copy padded with zeros, after which a
 * sequence cut by the end shows as an error like any other (the padding's
 * stops are ignored).  *exact = 0: a chunk holds an error (or, at its
 * start, the end of a cut sequence): r is the start of the sequence that
 * holds its first byte, and the exact walks go on from there.
 */
__attribute__((target("avx2"))) static size_t run_utf8_avx2(const unsigned char *p, size_t n, size_t i, int json,
                                                             int *exact)
{
    const size_t i0 = i;
    __m256i prev = _mm256_setzero_si256(), cut = _mm256_setzero_si256();
    unsigned char tail[64];
    *exact = 0;
    for (;;) {
        const unsigned char *q = p + i;
        size_t left = n - i;
        if (left < 64) {
            memset(tail, 0, sizeof tail);
            if (left) memcpy(tail, q, left);
            q = tail;
        }
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)q);
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(q + 32));
        if (!u8_chunk_ok(a, b, &prev, &cut)) break;
        uint64_t stop = json ? u8_chunk_stops(a, b, left) : 0;
        if (stop) {
            *exact = 1;
            return i + (size_t)__builtin_ctzll(stop);
        }
        if (left <= 64) { /* the last bytes were in this chunk */
            if (left == 64 && !_mm256_testz_si256(cut, cut)) { /* no padding after it: a cut sequence shows here */
                i += 64;
                break;
            }
            *exact = 1;
            return n;
        }
        i += 64;
    }
    /* back to the lead of a sequence cut at i, if any (everything from i0 to it is valid) */
    for (size_t k = 1; k <= 3 && k <= i - i0; k++) {
        unsigned c = p[i - k];
        if (c < 0x80) break;
        if (c >= 0xC0) {
            if (k < (c >= 0xF0 ? 4u : c >= 0xE0 ? 3u : 2u)) i -= k;
            break;
        }
    }
    return i;
}

/*
 * Whether p[0, n) is valid UTF-8 (1), and the bit map of its stops in map
 * (bit i of map[i / 64]: p[i] is a quote, backslash or control), in one
 * pass of 64 bytes at a time: run_utf8_avx2's checks, but every chunk's
 * stops are kept instead of ending at the first.
 */
__attribute__((target("avx2"))) static int utf8_stop_map_avx2(const unsigned char *p, size_t n, uint64_t *map)
{
    __m256i prev = _mm256_setzero_si256(), cut = _mm256_setzero_si256();
    unsigned char tail[64];
    for (size_t i = 0; i < n; i += 64) {
        const unsigned char *q = p + i;
        size_t left = n - i;
        if (left < 64) { /* zeros after the end: a sequence cut by it shows as an error */
            memset(tail, 0, sizeof tail);
            memcpy(tail, q, left);
            q = tail;
        }
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)q);
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(q + 32));
        if (!u8_chunk_ok(a, b, &prev, &cut)) return 0;
        map[i / 64] = u8_chunk_stops(a, b, left);
    }
    return _mm256_testz_si256(cut, cut); /* n a multiple of 64: a sequence cut at the end had no padding to show it */
}
#undef U8_PREV

/* -1 not asked yet; na_jsonfast_simd lets the tests take either walk. */
static _Atomic int use_avx2 = -1;

static int avx2_ok(void)
{
    int v = atomic_load_explicit(&use_avx2, memory_order_relaxed);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
        atomic_store_explicit(&use_avx2, v, memory_order_relaxed);
    }
    return v;
}
#endif

int na_jsonfast_simd(int level)
{
#if defined(NA_AVX2_PATH)
    if (level >= 0) {
        __builtin_cpu_init();
        atomic_store_explicit(&use_avx2, level >= 2 && __builtin_cpu_supports("avx2") ? 1 : 0, memory_order_relaxed);
    }
    return avx2_ok() ? 2 : 1;
#elif defined(__SSE2__)
    (void)level;
    return 1;
#else
    (void)level;
    return 0;
#endif
}

/*
 * Whole 8-byte words of ASCII and 2-byte UTF-8 sequences (C2-DF, 80-BF;
 * most of Arabic, Persian, Cyrillic...), a sequence possibly split between
 * two words; with json, ASCII other than quote, backslash and controls.
 * Returns the first byte that is not such, or the lead byte of the sequence
 * it cuts off, so that the caller goes on at the start of a sequence (and
 * looks at the rest one sequence at a time); n when the run reaches the end
 * (the last 0-7 bytes are left to the caller too).  Every flag below is
 * exact up to the first flagged byte (the borrow tricks can only flag bytes
 * after a true one), so the stop is exact.
 */
static size_t run_2byte(const unsigned char *p, size_t n, size_t i, int json)
{
#if defined(NA_AVX2_PATH)
    if (n - i >= 64 && avx2_ok()) { /* shorter: the walks below cost less than the padded copy */
        int exact, stopped;
        i = run_utf8_avx2(p, n, i, json, &exact);
        if (exact) return i;
        i = run_2byte_avx2(p, n, i, json, &stopped);
        if (stopped) return i;
    }
#endif
#if defined(__SSE2__)
    int stopped;
    i = run_2byte_sse2(p, n, i, json, &stopped);
    if (stopped) return i;
#endif
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t carry = 0; /* 0x80: the word before ended with a lead byte */
    while (n - i >= 8) {
        uint64_t v, bad = 0, lead = 0;
        memcpy(&v, p + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v); /* byte k of the text in bits 8k..8k+7 */
#endif
        if (json) {
            uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
            bad = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v);
        }
        uint64_t high = v & highs;
        if (high | carry) {
            uint64_t b6 = (v << 1) & highs, b5 = (v << 2) & highs;
            lead = high & b6;
            uint64_t cont = high & ~b6;
            uint64_t c0 = (v & (ones * 0xFE)) ^ (ones * 0xC0); /* zero byte: C0 or C1 (overlong) */
            bad |= (lead & b5) | (cont ^ ((lead << 8) | carry)) | ((c0 - ones) & ~c0);
        }
        bad &= highs;
        if (bad) {
            unsigned k = (unsigned)__builtin_ctzll(bad) / 8;
            return i + k - (k ? (size_t)((lead >> (8 * k - 1)) & 1u) : (carry != 0));
        }
        carry = lead >> 56;
        i += 8;
    }
    return carry ? i - 1 : i;
}

/*
 * Skip what a compact string holds as it is: ASCII other than quote,
 * backslash and controls, and valid UTF-8 sequences.  Stops at the first
 * byte that is none of these (or at n).
 */
static size_t skip_string_plain(const unsigned char *p, size_t n, size_t i)
{
    for (;;) {
        i = run_2byte(p, n, i, 1);
        if (i >= n) return i;
        size_t stop = n - i < 8 ? n : i + 8; /* the word the fast path refused, one sequence at a time */
        while (i < stop) {
            unsigned char b = p[i];
            if (b < 0x80) {
                if (b < 0x20 || b == '"' || b == '\\') return i;
                i++;
                continue;
            }
            size_t l = utf8_len(p + i, n - i);
            if (!l) return i;
            i += l;
        }
    }
}

/* 1 (the default): compact objects get a stop map; na_jsonfast_map lets the tests compare with the walks. */
static _Atomic int use_map = 1;

int na_jsonfast_map(int on)
{
    if (on >= 0) atomic_store_explicit(&use_map, on ? 1 : 0, memory_order_relaxed);
    return atomic_load_explicit(&use_map, memory_order_relaxed);
}

/* Whether p[0, n) is valid UTF-8 (1), and its stop map (see utf8_stop_map_avx2); n <= JC_MAP_BYTES. */
static int utf8_stop_map(const unsigned char *p, size_t n, uint64_t *map)
{
#if defined(NA_AVX2_PATH)
    if (avx2_ok()) return utf8_stop_map_avx2(p, n, map);
#endif
    if (!na_utf8_valid(p, n)) return 0;
    memset(map, 0, (n + 63) / 64 * sizeof *map);
    size_t i = 0;
#if defined(__SSE2__)
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
        q = _mm_or_si128(q, _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v)); /* v <= 0x1F */
        map[i / 64] |= (uint64_t)(unsigned)_mm_movemask_epi8(q) << (i % 64);
    }
#endif
    for (; i < n; i++)
        if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\') map[i / 64] |= UINT64_C(1) << (i % 64);
    return 1;
}

/* The first stop at or after i <= n in the stop map of n bytes: n if none,
 * since compact_whole sets bit n as a sentinel (the map has a word for it). */
static inline size_t map_next(const uint64_t *map, size_t i)
{
    size_t w = i / 64;
    uint64_t m = map[w] & (~UINT64_C(0) << (i % 64));
    while (!m) m = map[++w];
    return w * 64 + (size_t)__builtin_ctzll(m);
}

static int is_upper_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

/* A canonical string at p[i] == '"'; *nul set if it holds U+0000.  1 yes, 0 not sure. */
static int jc_string(jc *c, int *nul)
{
    const unsigned char *p = c->p;
    size_t n = c->n, i = c->i + 1;
    for (;;) {
        i = c->map ? map_next(c->map, i) : c->utf8 ? next_special((const char *)p, n, i) : skip_string_plain(p, n, i);
        if (i >= n) return 0;
        unsigned char b = p[i];
        if (b == '"') {
            c->i = i + 1;
            return 1;
        }
        if (b == '\\') {
            if (n - i < 2) return 0;
            unsigned char e = p[i + 1];
            if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                i += 2;
                continue;
            }
            /* \u00XX only for controls without a short form, uppercase hex */
            if (e != 'u' || n - i < 6 || p[i + 2] != '0' || p[i + 3] != '0' || !is_upper_hex(p[i + 4]) ||
                !is_upper_hex(p[i + 5]))
                return 0;
            unsigned v = (unsigned)((p[i + 4] <= '9' ? p[i + 4] - '0' : p[i + 4] - 'A' + 10) * 16 +
                                    (p[i + 5] <= '9' ? p[i + 5] - '0' : p[i + 5] - 'A' + 10));
            if (v >= 0x20 || v == 8 || v == 9 || v == 10 || v == 12 || v == 13) return 0;
            if (v == 0 && nul) *nul = 1;
            i += 6;
            continue;
        }
        return 0; /* a control character or invalid UTF-8 */
    }
}

static int jc_value(jc *c);

static int jc_lit(jc *c, const char *w, size_t l)
{
    if (c->n - c->i < l || memcmp(c->p + c->i, w, l) != 0) return 0;
    c->i += l;
    return 1;
}

/* Integers only (reals are "not sure"): -?(0|[1-9][0-9]{0,17}), never "-0". */
static int jc_number(jc *c)
{
    const unsigned char *p = c->p;
    size_t i = c->i, n = c->n;
    int neg = 0;
    if (p[i] == '-') {
        neg = 1;
        if (++i >= n) return 0;
    }
    size_t d0 = i;
    if (p[i] == '0') i++;
    else if (p[i] >= '1' && p[i] <= '9')
        while (i < n && p[i] >= '0' && p[i] <= '9') i++;
    else return 0;
    if (i - d0 > 18 || (neg && p[d0] == '0')) return 0;
    if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E' || (p[i] >= '0' && p[i] <= '9'))) return 0;
    c->i = i;
    return 1;
}

static int jc_object(jc *c, uint32_t *members)
{
    size_t start[JC_MAX_MEMBERS], len[JC_MAX_MEMBERS];
    uint32_t m = 0;
    if (++c->depth > JC_MAX_DEPTH) return 0;
    c->i++; /* { */
    if (c->i < c->n && c->p[c->i] == '}') {
        c->i++;
        c->depth--;
        if (members) *members = 0;
        return 1;
    }
    for (;;) {
        if (c->i >= c->n || c->p[c->i] != '"' || m == JC_MAX_MEMBERS) return 0;
        size_t s = c->i;
        int nul = 0;
        if (!jc_string(c, &nul) || nul) return 0;
        start[m] = s;
        len[m] = c->i - s;
        if (c->key && c->depth == 1 && len[m] == c->key_len + 2 && memcmp(c->p + s + 1, c->key, c->key_len) == 0)
            c->has = 1;
        for (uint32_t k = 0; k < m; k++) /* canonical escapes: equal names have equal bytes */
            if (len[k] == len[m] && memcmp(c->p + start[k], c->p + s, len[m]) == 0) return 0;
        m++;
        if (c->i >= c->n || c->p[c->i] != ':') return 0;
        c->i++;
        if (!jc_value(c)) return 0;
        if (c->i >= c->n) return 0;
        if (c->p[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->p[c->i] != '}') return 0;
        c->i++;
        c->depth--;
        if (members) *members = m;
        return 1;
    }
}

/*
 * jc_object for the whole text when it has a stop map, in one loop: a name
 * or string value ends at the next stop when that is its closing quote (no
 * escape in it: the usual case), else jc_string walks it; other values are
 * jc_value's.  The same answer as jc_object (and c->i == c->n) in fewer
 * calls: the tests compare the two on every object.
 */
static int jc_top(jc *c, uint32_t *members)
{
    const unsigned char *p = c->p;
    const size_t n = c->n;
    size_t start[JC_MAX_MEMBERS], len[JC_MAX_MEMBERS], i = 1;
    uint32_t m = 0;
    int has = 0;
    uint64_t lens = 0; /* bit l: a name of l bytes (quotes included) was met */
    if (n >= 2 && p[1] == '}') {
        *members = 0;
        return n == 2;
    }
    c->depth = 1;
    for (;;) {
        if (i >= n || p[i] != '"' || m == JC_MAX_MEMBERS) return 0;
        size_t e = map_next(c->map, i + 1);
        if (e < n && p[e] == '"') e++;
        else { /* an escape or a control before the closing quote */
            int nul = 0;
            c->i = i;
            if (!jc_string(c, &nul) || nul) return 0;
            e = c->i;
        }
        size_t l = e - i;
        if (c->key && l == c->key_len + 2 && memcmp(p + i + 1, c->key, c->key_len) == 0) has = 1;
        if (l >= 64 || (lens >> l & 1)) /* else no name so far has its length */
            for (uint32_t k = 0; k < m; k++) /* canonical escapes: equal names have equal bytes */
                if (len[k] == l && memcmp(p + start[k], p + i, l) == 0) return 0;
        lens |= l < 64 ? UINT64_C(1) << l : 0;
        start[m] = i;
        len[m++] = l;
        i = e;
        if (i + 1 >= n || p[i] != ':') return 0;
        i++;
        c->i = i;
        if (p[i] == '"' && (e = map_next(c->map, i + 1)) < n && p[e] == '"') i = e + 1;
        else if (!jc_value(c)) return 0;
        else i = c->i;
        if (i >= n) return 0;
        if (p[i] == ',') {
            i++;
            continue;
        }
        if (p[i] != '}' || i + 1 != n) return 0;
        c->i = n;
        c->depth = 0;
        c->has = has;
        *members = m;
        return 1;
    }
}

static int jc_array(jc *c)
{
    if (++c->depth > JC_MAX_DEPTH) return 0;
    c->i++; /* [ */
    if (c->i < c->n && c->p[c->i] == ']') {
        c->i++;
        c->depth--;
        return 1;
    }
    for (;;) {
        if (!jc_value(c) || c->i >= c->n) return 0;
        if (c->p[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->p[c->i] != ']') return 0;
        c->i++;
        c->depth--;
        return 1;
    }
}

static int jc_value(jc *c)
{
    if (c->i >= c->n) return 0;
    switch (c->p[c->i]) {
    case '{': return jc_object(c, NULL);
    case '[': return jc_array(c);
    case '"': return jc_string(c, NULL);
    case 't': return jc_lit(c, "true", 4);
    case 'f': return jc_lit(c, "false", 5);
    case 'n': return jc_lit(c, "null", 4);
    default: return jc_number(c);
    }
}

/* The whole of c's text is one compact object (1), else not sure (0). */
static int compact_whole(jc *c, uint32_t *members)
{
    if (c->n < 2 || c->p[0] != '{') return 0;
    /* A compact object is valid UTF-8 as a whole (its structure is ASCII):
     * checked in one pass (64 bytes at a time with AVX2), the strings are
     * then only walked to their quotes and escapes.  Not UTF-8: not compact. */
    uint64_t map[JC_MAP_BYTES / 64 + 1]; /* up to JC_MAP_BYTES: the stops found in the same pass, strings end at a bit scan */
    if (c->n <= JC_MAP_BYTES && atomic_load_explicit(&use_map, memory_order_relaxed)) {
        if (!utf8_stop_map(c->p, c->n, map)) return 0;
        if (c->n % 64 == 0) map[c->n / 64] = 0;
        map[c->n / 64] |= UINT64_C(1) << (c->n % 64); /* the sentinel: map_next ends there */
        c->map = map;
    } else if (!na_utf8_valid(c->p, c->n))
        return 0;
    c->utf8 = 1;
    uint32_t m = 0;
    int ok = c->map ? jc_top(c, &m) : jc_object(c, &m) && c->i == c->n;
    c->map = NULL; /* not past this frame */
    if (!ok) return 0;
    if (members) *members = m;
    return 1;
}

int na_json_compact_object(const char *s, size_t n, uint32_t *members)
{
    jc c = {.p = (const unsigned char *)s, .n = n};
    return compact_whole(&c, members);
}

static int plain_key(const char *key, size_t len);

int na_json_compact_object_has(const char *s, size_t n, uint32_t *members, const char *key, size_t key_len, int *has)
{
    if (!plain_key(key, key_len)) return 0;
    jc c = {.p = (const unsigned char *)s, .n = n, .key = key, .key_len = key_len};
    if (!compact_whole(&c, members)) return 0;
    *has = c.has;
    return 1;
}

/* Offset of top-level member pos (< its member count) of a checked compact object. */
static size_t member_offset(const char *s, size_t n, uint32_t pos)
{
    jc c = {.p = (const unsigned char *)s, .n = n, .i = 1, .depth = 1, .utf8 = 1};
    for (uint32_t k = 0; k < pos; k++) {
        (void)jc_string(&c, NULL);
        c.i++; /* : */
        (void)jc_value(&c);
        c.i++; /* , */
    }
    return c.i;
}

/* Append s as a compact JSON string (10.3); -1 if not valid UTF-8 or out of memory. */
/* Append s as a compact JSON string; on failure nothing is appended. */
static int put_string(na_buf *out, const char *s, size_t n);

int na_json_put_string(na_buf *out, const char *s, size_t n)
{
    size_t start = out->len;
    int rc = put_string(out, s, n);
    if (rc) out->len = start;
    return rc;
}

static int put_string(na_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (na_buf_reserve(out, n + 2) != 0) return -1;
    out->data[out->len++] = '"';
    size_t i = 0, run = 0;
    while (i < n) {
        i = skip_string_plain(p, n, i);
        if (i >= n) break;
        unsigned char b = p[i];
        if (b >= 0x80) return -1; /* invalid UTF-8 */
        if (na_buf_append(out, p + run, i - run) != 0) return -1;
        char esc[7];
        size_t el = 2;
        esc[0] = '\\';
        switch (b) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = "0123456789ABCDEF"[b >> 4];
            esc[5] = "0123456789ABCDEF"[b & 15];
            el = 6;
        }
        if (na_buf_append(out, esc, el) != 0) return -1;
        run = ++i;
    }
    if (na_buf_append(out, p + run, n - run) != 0 || na_buf_append(out, "\"", 1) != 0) return -1;
    return 0;
}

/* A member name that is its own compact form (no byte needs escaping, no NUL). */
static int plain_key(const char *key, size_t len)
{
    const unsigned char *k = (const unsigned char *)key;
    size_t i = 0; /* printable ASCII first, in one loop: names are mostly that */
    while (i < len && k[i] >= 0x20 && k[i] < 0x80 && k[i] != '"' && k[i] != '\\') i++;
    return len && (i == len || skip_string_plain(k, len, i) == len);
}

int na_json_compact_has(const char *meta, size_t n, uint32_t members, const char *key, size_t key_len)
{
    if (!plain_key(key, key_len)) return -1;
    jc c = {.p = (const unsigned char *)meta, .n = n, .i = 1, .depth = 1, .utf8 = 1};
    for (uint32_t m = 0; m < members; m++) {
        size_t s = c.i;
        (void)jc_string(&c, NULL);
        if (c.i - s - 2 == key_len && memcmp(meta + s + 1, key, key_len) == 0) return 1;
        c.i++; /* : */
        (void)jc_value(&c);
        c.i++; /* , or } */
    }
    return 0;
}

int na_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t i = 0;
    for (;;) {
        i = run_2byte(p, n, i, 0);
        if (i >= n) return 1;
        size_t stop = n - i < 8 ? n : i + 8; /* the word the fast path refused, one sequence at a time */
        while (i < stop) {
            size_t l = utf8_len(p + i, n - i);
            if (!l) return 0;
            i += l;
        }
    }
}

int na_json_text_line(const newsarc_entry *e, const void *article, size_t len, na_buf *out)
{
    uint32_t members = 0;
    if (!(e->flags & NEWSARC_ENTRY_TEXT_FIELD) || !e->text_key_len || memchr(e->text_key, 0, e->text_key_len)) return 1;
    /* compact, and (in the same walk) no member with the text's name: jansson
     * would replace that one, so it is not the fast path */
    int has = 0;
    if (e->meta_len ? !na_json_compact_object_has(e->meta, e->meta_len, &members, e->text_key, e->text_key_len, &has) || has
                    : !plain_key(e->text_key, e->text_key_len))
        return 1;
    size_t start = out->len;
    int rc;
    /* the text member goes at position text_pos (at the end when past it), as jansson puts it */
    size_t n = e->meta_len;
    uint32_t pos = e->text_pos;
    if (members == 0) rc = na_buf_append(out, "{", 1);
    else if (pos >= members) rc = na_buf_append(out, e->meta, n - 1) || na_buf_append(out, ",", 1);
    else if (pos == 0) rc = na_buf_append(out, "{", 1);
    else rc = na_buf_append(out, e->meta, member_offset(e->meta, n, pos));
    if (!rc) rc = na_buf_append(out, "\"", 1) || na_buf_append(out, e->text_key, e->text_key_len) || na_buf_append(out, "\":", 2);
    if (!rc && na_json_put_string(out, article, len) != 0) rc = 1;
    if (!rc) {
        if (members == 0 || pos >= members) rc = na_buf_append(out, "}", 1);
        else {
            size_t at = pos == 0 ? 1 : member_offset(e->meta, n, pos);
            rc = na_buf_append(out, ",", 1) || na_buf_append(out, e->meta + at, n - at);
        }
    }
    if (rc) out->len = start;
    return rc ? 1 : 0;
}

int na_json_compact_string(const char *meta, size_t n, uint32_t members, const char *key, na_buf *out)
{
    size_t kl = strlen(key);
    if (!plain_key(key, kl)) return -1;
    jc c = {.p = (const unsigned char *)meta, .n = n, .i = 1, .depth = 1, .utf8 = 1};
    for (uint32_t m = 0; m < members; m++) {
        size_t s = c.i;
        (void)jc_string(&c, NULL);
        int match = c.i - s - 2 == kl && memcmp(meta + s + 1, key, kl) == 0;
        c.i++; /* : */
        size_t v = c.i;
        (void)jc_value(&c);
        if (match) {
            if (meta[v] != '"') return 0;
            /* decode the canonical escapes of 10.3 */
            out->len = 0;
            for (size_t i = v + 1, end = c.i - 1; i < end; i++) {
                /* the bytes up to the next escape as they are, in one go */
                const char *esc = memchr(meta + i, '\\', end - i);
                size_t run = esc ? (size_t)(esc - (meta + i)) : end - i;
                if (run && na_buf_append(out, meta + i, run) != 0) return -1;
                i += run;
                if (i >= end) break;
                char ch = meta[i];
                if (ch == '\\') {
                    char e = meta[++i];
                    if (e == 'u') {
                        ch = (char)((meta[i + 3] <= '9' ? meta[i + 3] - '0' : meta[i + 3] - 'A' + 10) * 16 +
                                    (meta[i + 4] <= '9' ? meta[i + 4] - '0' : meta[i + 4] - 'A' + 10));
                        i += 4;
                    } else
                        ch = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
                }
                if (na_buf_append(out, &ch, 1) != 0) return -1;
            }
            return 1;
        }
        c.i++; /* , or } */
    }
    return 0;
}

/* ---- any JSON object (objects stored whole) ---------------------------------- */

static size_t jv_ws(const unsigned char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
    return i;
}

static int hexval(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4v(const unsigned char *p, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        int d = hexval(p[k]);
        if (d < 0) return 0;
        *v = *v << 4 | (unsigned)d;
    }
    return 1;
}

/* Any JSON string jansson accepts with JSON_ALLOW_NUL (no U+0000 in member names); 0 = not sure. */
static int jv_string(jc *c, int name)
{
    const unsigned char *p = c->p;
    size_t n = c->n, i = c->i + 1;
    for (;;) {
        i = skip_string_plain(p, n, i);
        if (i >= n) return 0;
        if (p[i] == '"') {
            c->i = i + 1;
            return 1;
        }
        if (p[i] != '\\' || n - i < 2) return 0; /* a control character, invalid UTF-8 */
        unsigned char e = p[i + 1];
        if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            i += 2;
            continue;
        }
        unsigned v, lo;
        if (e != 'u' || n - i < 6 || !hex4v(p + i + 2, &v)) return 0;
        i += 6;
        if ((v >= 0xDC00 && v <= 0xDFFF) || (v == 0 && name)) return 0;
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (n - i < 6 || p[i] != '\\' || p[i + 1] != 'u' || !hex4v(p + i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return 0;
            i += 6;
        }
    }
}

/* Numbers that are certainly in range for jansson (as integers, or reals when retried so). */
static int jv_number(jc *c)
{
    const unsigned char *p = c->p;
    size_t i = c->i, n = c->n, d;
    if (i < n && p[i] == '-') i++;
    if (i >= n) return 0;
    if (p[i] == '0') i++;
    else {
        for (d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) d++;
        if (d == 0 || d > 18) return 0;
    }
    if (i < n && p[i] == '.') {
        for (i++, d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) d++;
        if (d == 0 || d > 40) return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        for (d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) d++;
        if (d == 0 || d > 2) return 0;
    }
    c->i = i;
    return 1;
}

static int jv_value(jc *c);

static int jv_container(jc *c, unsigned char close)
{
    if (++c->depth > JC_MAX_DEPTH) return 0;
    c->i = jv_ws(c->p, c->n, c->i + 1);
    if (c->i < c->n && c->p[c->i] == close) {
        c->i++;
        c->depth--;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            if (c->i >= c->n || c->p[c->i] != '"' || !jv_string(c, 1)) return 0;
            c->i = jv_ws(c->p, c->n, c->i);
            if (c->i >= c->n || c->p[c->i] != ':') return 0;
            c->i = jv_ws(c->p, c->n, c->i + 1);
        }
        if (!jv_value(c)) return 0;
        c->i = jv_ws(c->p, c->n, c->i);
        if (c->i >= c->n) return 0;
        if (c->p[c->i] == ',') {
            c->i = jv_ws(c->p, c->n, c->i + 1);
            continue;
        }
        if (c->p[c->i] != close) return 0;
        c->i++;
        c->depth--;
        return 1;
    }
}

static int jv_value(jc *c)
{
    if (c->i >= c->n) return 0;
    switch (c->p[c->i]) {
    case '{': return jv_container(c, '}');
    case '[': return jv_container(c, ']');
    case '"': return jv_string(c, 0);
    case 't': return jc_lit(c, "true", 4);
    case 'f': return jc_lit(c, "false", 5);
    case 'n': return jc_lit(c, "null", 4);
    default: return jv_number(c);
    }
}

int na_json_object_valid(const char *s, size_t n)
{
    jc c = {.p = (const unsigned char *)s, .n = n, .i = 0, .depth = 0};
    c.i = jv_ws(c.p, n, 0);
    if (c.i >= n || s[c.i] != '{' || !jv_container(&c, '}')) return 0;
    return jv_ws(c.p, n, c.i) == n;
}

/* ---- the pass-2 reader of input lines (na_json_text_fast) ------------------ */

static size_t skip_ws(const char *p, size_t n, size_t i) { return jv_ws((const unsigned char *)p, n, i); }

/*
 * Decode the JSON string starting at p[i] == '"' into out (if out) and
 * return the index after its closing quote, or 0 if malformed.
 */
static size_t json_str(const char *p, size_t n, size_t i, na_buf *out)
{
    i++;
    for (;;) {
        size_t j = next_special(p, n, i);
        if (j >= n) return 0;
        if (out && j > i) {
            if (j - i <= out->cap - out->len && j - i <= 8) { /* a short run between escapes (a space) */
                for (size_t k = i; k < j; k++) out->data[out->len++] = (uint8_t)p[k];
            } else if (na_buf_append(out, p + i, j - i) != 0)
                return 0;
        }
        if (p[j] == '"') return j + 1;
        if (p[j] != '\\') return 0; /* a raw control character: jansson refuses it */
        /* an escape */
        if (n - j < 2) return 0;
        char c = p[j + 1], e;
        i = j + 2;
        switch (c) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u':
            /* text escaped as \uXXXX (Python's json.dumps by default) is one escape a character:
             * a run of them is decoded here, written in place (na_buf_append and the scan for the
             * next stop for each were most of the split's time on such feeds) */
            for (;;) {
                unsigned cp, lo;
                if (n - i < 4 || !hex4v((const unsigned char *)p + i, &cp)) return 0;
                i += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (n - i < 6 || p[i] != '\\' || p[i + 1] != 'u' || !hex4v((const unsigned char *)p + i + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return 0;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (out) {
                    if (out->cap - out->len < 4 && na_buf_reserve(out, 4) != 0) return 0;
                    uint8_t *u = out->data + out->len;
                    if (cp < 0x80) u[0] = (uint8_t)cp, out->len += 1;
                    else if (cp < 0x800) u[0] = (uint8_t)(0xC0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3F)), out->len += 2;
                    else if (cp < 0x10000)
                        u[0] = (uint8_t)(0xE0 | cp >> 12), u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
                        u[2] = (uint8_t)(0x80 | (cp & 0x3F)), out->len += 3;
                    else
                        u[0] = (uint8_t)(0xF0 | cp >> 18), u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
                        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (uint8_t)(0x80 | (cp & 0x3F)), out->len += 4;
                }
                if (n - i < 6 || p[i] != '\\' || p[i + 1] != 'u') break;
                i += 2; /* another \u right after */
            }
            continue;
        default: return 0;
        }
        if (out && na_buf_append(out, &e, 1) != 0) return 0;
    }
}

/* Index after the JSON value starting at p[i], or 0 if malformed. */
static size_t json_skip(const char *p, size_t n, size_t i)
{
    if (i >= n) return 0;
    if (p[i] == '"') return json_str(p, n, i, NULL);
    if (p[i] == '{' || p[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char c = p[i];
            if (c == '"') {
                if (!(i = json_str(p, n, i, NULL))) return 0;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            i++;
        }
        return 0;
    }
    while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
           p[i] != '\r')
        i++;
    return i;
}

int na_json_text_fast(const char *line, size_t len, const char *key, na_buf *out)
{
    size_t kl = strlen(key), i = skip_ws(line, len, 0);
    if (i >= len || line[i] != '{') return -1;
    i++;
    na_buf name = {0};
    int rc = -1;
    for (;;) {
        i = skip_ws(line, len, i);
        if (i >= len || line[i] != '"') break;
        size_t k = json_str(line, len, i, NULL);
        if (!k) break;
        /* the member name: compared raw unless it has escapes */
        const char *nm = line + i + 1;
        size_t nl = k - i - 2;
        if (memchr(nm, '\\', nl)) {
            name.len = 0;
            if (!json_str(line, len, i, &name)) break;
            nm = (const char *)name.data;
            nl = name.len;
        }
        i = skip_ws(line, len, k);
        if (i >= len || line[i] != ':') break;
        i = skip_ws(line, len, i + 1);
        if (i < len && line[i] == '"' && kl && nl == kl && memcmp(nm, key, kl) == 0) {
            size_t start = out->len;
            rc = json_str(line, len, i, out) ? 0 : -1;
            if (rc) out->len = start;
            break;
        }
        if (!(i = json_skip(line, len, i))) break;
        i = skip_ws(line, len, i);
        if (i >= len || line[i] != ',') break;
        i++;
    }
    na_buf_free(&name);
    return rc;
}

/* ---- pass 1: a JSON Lines object split without a tree (na_json_split_fast) ---------- */

/*
 * Pack's first reading of a JSON line, where jansson's tree per object was
 * a sixth of pack's time.  Every value is checked as jansson checks it and
 * written back in jansson's JSON_COMPACT form as it is read: strings decoded,
 * UTF-8 checked and escaped as jansson escapes them; integers of up to 18
 * digits copied; literals copied; containers recursively.  Anything it is
 * not sure of (reals, longer integers, -0, nesting over 64, objects over 64
 * members, duplicate names, U+0000 in a name, any syntax error) answers 0
 * and jansson decides, so the result is always what the tree would give.
 * tests/unit/test_jsonentry.c and fuzz_jsonl compare the two.
 */
typedef struct js {
    const char *p;
    size_t n, i;
    int depth;
    na_buf tmp; /* the last decoded string */
} js;

/* Decode the string at p[i] into tmp; 1 ok, 0 not sure (malformed, not UTF-8, NUL in a name, no memory). */
static int js_string(js *s, int name)
{
    s->tmp.len = 0;
    size_t e = json_str(s->p, s->n, s->i, &s->tmp);
    if (!e || !na_utf8_valid(s->tmp.data, s->tmp.len)) return 0;
    if (name && s->tmp.len && memchr(s->tmp.data, 0, s->tmp.len)) return 0;
    s->i = e;
    return 1;
}

static int js_number(js *s, na_buf *out)
{
    const char *p = s->p;
    size_t i = s->i, n = s->n, d = 0;
    if (i < n && p[i] == '-') i++;
    if (i >= n) return 0;
    if (p[i] == '0') {
        if (i > s->i) return 0; /* -0: jansson writes 0 */
        i++;
    } else {
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) d++;
        if (d == 0 || d > 18) return 0;
    }
    if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E' || (p[i] >= '0' && p[i] <= '9'))) return 0;
    if (na_buf_append(out, p + s->i, i - s->i) != 0) return 0;
    s->i = i;
    return 1;
}

static int js_value(js *s, na_buf *out);

static int js_container(js *s, na_buf *out, char close)
{
    if (++s->depth > JC_MAX_DEPTH || na_buf_append(out, s->p + s->i, 1) != 0) return 0;
    uint32_t at[JC_MAX_MEMBERS], len[JC_MAX_MEMBERS], count = 0;
    s->i = skip_ws(s->p, s->n, s->i + 1);
    if (s->i < s->n && s->p[s->i] == close) {
        s->i++;
        s->depth--;
        return na_buf_append(out, &close, 1) == 0;
    }
    for (int first = 1;; first = 0) {
        if (!first && na_buf_append(out, ",", 1) != 0) return 0;
        if (close == '}') {
            if (s->i >= s->n || s->p[s->i] != '"' || count >= JC_MAX_MEMBERS || !js_string(s, 1)) return 0;
            size_t a = out->len;
            if (put_string(out, (const char *)s->tmp.data, s->tmp.len) != 0 || out->len - a > UINT32_MAX) return 0;
            /* equal names have equal compact forms */
            for (uint32_t k = 0; k < count; k++)
                if (len[k] == out->len - a && !memcmp(out->data + at[k], out->data + a, len[k])) return 0;
            at[count] = (uint32_t)a;
            len[count++] = (uint32_t)(out->len - a);
            s->i = skip_ws(s->p, s->n, s->i);
            if (s->i >= s->n || s->p[s->i] != ':' || na_buf_append(out, ":", 1) != 0) return 0;
            s->i = skip_ws(s->p, s->n, s->i + 1);
        }
        if (!js_value(s, out)) return 0;
        s->i = skip_ws(s->p, s->n, s->i);
        if (s->i >= s->n) return 0;
        if (s->p[s->i] == ',') {
            s->i = skip_ws(s->p, s->n, s->i + 1);
            continue;
        }
        if (s->p[s->i] != close) return 0;
        s->i++;
        s->depth--;
        return na_buf_append(out, &close, 1) == 0;
    }
}

static int js_lit(js *s, na_buf *out, const char *w, size_t l)
{
    if (s->n - s->i < l || memcmp(s->p + s->i, w, l) != 0 || na_buf_append(out, w, l) != 0) return 0;
    s->i += l;
    return 1;
}

static int js_value(js *s, na_buf *out)
{
    if (s->i >= s->n) return 0;
    switch (s->p[s->i]) {
    case '{': return js_container(s, out, '}');
    case '[': return js_container(s, out, ']');
    case '"': return js_string(s, 0) && put_string(out, (const char *)s->tmp.data, s->tmp.len) == 0;
    case 't': return js_lit(s, out, "true", 4);
    case 'f': return js_lit(s, out, "false", 5);
    case 'n': return js_lit(s, out, "null", 4);
    default: return js_number(s, out);
    }
}

/* One top-level member: its decoded name and string value in strs, its compact name and value in vals. */
typedef struct js_member {
    size_t name, name_len;   /* decoded name, in strs */
    size_t str, str_len;     /* decoded string value, in strs (strings only) */
    size_t cname, cval, end; /* compact name [cname, cval), compact value [cval + 1, end) in vals (after ':') */
    char kind;               /* first byte of the value: '"', '{', '[', or other */
} js_member;

/* A copy of p[0, n) with a NUL after it, in the scratch's arena if it has one. */
static char *js_dup(na_json_scratch *sc, const void *p, size_t n)
{
    char *d = sc->out ? na_arena_alloc(sc->out, n + 1) : malloc(n + 1);
    if (d) {
        if (n) memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

static int js_name_is(const na_buf *strs, const js_member *m, const char *w)
{
    size_t l = strlen(w);
    return m->name_len == l && !memcmp(strs->data + m->name, w, l);
}

void na_json_scratch_free(na_json_scratch *sc)
{
    na_buf_free(&sc->tmp);
    na_buf_free(&sc->strs);
    na_buf_free(&sc->vals);
}

int na_json_split_fast(const char *line, size_t len, const char *text_field, na_json_split *out, na_json_scratch *sc)
{
    static const char *const text_fields[] = {"maintext", "text", "content", "body"};
    static const char *const place_fields[] = {"url", "link", "source_url"};
    memset(out, 0, sizeof *out);
    na_json_scratch local = {0};
    if (!sc) sc = &local;
    js s = {line, len, 0, 0, sc->tmp};
    na_buf strs = sc->strs, vals = sc->vals;
    s.tmp.len = strs.len = vals.len = 0;
    js_member m[JC_MAX_MEMBERS];
    uint32_t count = 0;
    int ok = na_buf_reserve(&s.tmp, 256) == 0 && na_buf_reserve(&strs, 256) == 0 && na_buf_reserve(&vals, 256) == 0;
    s.i = skip_ws(line, len, 0);
    ok = ok && s.i < len && line[s.i] == '{';
    if (ok) s.i = skip_ws(line, len, s.i + 1);
    if (ok && s.i < len && line[s.i] == '}') s.i++;
    else
        while (ok) {
            js_member *x = &m[count];
            ok = count < JC_MAX_MEMBERS && s.i < len && line[s.i] == '"' && js_string(&s, 1);
            if (!ok) break;
            x->name = strs.len;
            x->name_len = s.tmp.len;
            x->cname = vals.len;
            ok = na_buf_append(&strs, s.tmp.data, s.tmp.len) == 0 &&
                 put_string(&vals, (const char *)s.tmp.data, s.tmp.len) == 0;
            for (uint32_t k = 0; ok && k < count; k++)
                if (m[k].name_len == x->name_len && !memcmp(strs.data + m[k].name, strs.data + x->name, x->name_len))
                    ok = 0; /* a duplicate name: jansson's lenient parse and WHOLE decide */
            s.i = skip_ws(line, len, s.i);
            ok = ok && s.i < len && line[s.i] == ':';
            if (!ok) break;
            s.i = skip_ws(line, len, s.i + 1);
            x->cval = vals.len;
            x->kind = s.i < len ? line[s.i] : 0;
            ok = na_buf_append(&vals, ":", 1) == 0 && js_value(&s, &vals);
            if (ok && x->kind == '"') { /* js_value left the decoded string in tmp */
                x->str = strs.len;
                x->str_len = s.tmp.len;
                ok = na_buf_append(&strs, s.tmp.data, s.tmp.len) == 0;
            }
            x->end = vals.len;
            count++;
            s.i = skip_ws(line, len, s.i);
            ok = ok && s.i < len;
            if (!ok) break;
            if (line[s.i] == ',') {
                s.i = skip_ws(line, len, s.i + 1);
                continue;
            }
            ok = line[s.i] == '}';
            s.i++;
            break;
        }
    ok = ok && skip_ws(line, len, s.i) == len;
    /* the text member: the first candidate present with a string value */
    int text = -1;
    size_t nf = text_field ? 1 : sizeof text_fields / sizeof *text_fields;
    for (size_t f = 0; ok && f < nf && text < 0; f++)
        for (uint32_t k = 0; k < count && text < 0; k++)
            if (m[k].kind == '"' && js_name_is(&strs, &m[k], text_field ? text_field : text_fields[f])) text = (int)k;
    for (size_t f = 0; ok && f < sizeof place_fields / sizeof *place_fields && !out->place; f++)
        for (uint32_t k = 0; k < count; k++)
            if (m[k].kind == '"' && js_name_is(&strs, &m[k], place_fields[f])) {
                /* as the tree path: the value up to its first U+0000 */
                const char *v = (const char *)strs.data + m[k].str;
                const char *z = memchr(v, 0, m[k].str_len);
                if (!(out->place = js_dup(sc, v, z ? (size_t)(z - v) : m[k].str_len))) ok = 0;
                break;
            }
    /* metadata: every other member (TEXT_FIELD), or the short scalars (WHOLE),
     * built in tmp (free by now), then copied */
    out->in_arena = sc->out != NULL;
    na_buf meta = s.tmp;
    meta.len = 0;
    uint32_t kept = 0;
    for (uint32_t k = 0; ok && k < count; k++) {
        if ((int)k == text) {
            out->key_pos = k;
            continue;
        }
        if (text < 0 && (m[k].kind == '{' || m[k].kind == '[' || (m[k].kind == '"' && m[k].str_len > NA_WHOLE_META_MAX)))
            continue;
        if (na_buf_append(&meta, kept++ ? "," : "{", 1) != 0 ||
            na_buf_append(&meta, vals.data + m[k].cname, m[k].end - m[k].cname) != 0)
            ok = 0;
    }
    if (ok && kept) {
        if (na_buf_append(&meta, "}", 1) != 0 || !(out->meta = js_dup(sc, meta.data, meta.len))) ok = 0;
        else out->meta_len = meta.len;
    }
    s.tmp = meta;
    if (ok && text >= 0) {
        out->flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_TEXT_FIELD;
        out->owned = js_dup(sc, strs.data + m[text].str, m[text].str_len);
        out->key = js_dup(sc, strs.data + m[text].name, m[text].name_len);
        out->key_len = m[text].name_len;
        out->text = (const uint8_t *)out->owned;
        out->text_len = m[text].str_len;
        if (!out->owned || !out->key) ok = 0;
    } else if (ok) {
        out->flags = NEWSARC_ENTRY_JSON | NEWSARC_ENTRY_WHOLE;
        out->text = (const uint8_t *)line;
        out->text_len = len;
    }
    /* the buffers (perhaps grown) go back to the scratch, or are freed */
    sc->tmp = s.tmp;
    sc->strs = strs;
    sc->vals = vals;
    if (sc == &local) na_json_scratch_free(&local);
    if (!ok) na_json_split_free(out); /* out of memory included: the tree path reports it */
    return ok;
}
