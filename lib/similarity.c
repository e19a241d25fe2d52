/*
 * similarity.c - byte-level MinHash used to place near-identical articles
 * (syndicated wire copies, re-scraped pages) in the same block.  Fast and
 * language-agnostic: shingles are 8-byte windows; a deterministic 1-in-4
 * subsample of them (by content hash) keeps the cost near one multiply per byte.
 * The result only influences placement order, never what is stored.
 */
#include "similarity.h"

#include <stdatomic.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NA_AVX512_PATH 1
#endif

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static const uint64_t seeds[NA_MINHASH_K] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL,
                                             0x2545F4914F6CDD1DULL, 0xD6E8FEB86659FD93ULL, 0xA0761D6478BD642FULL,
                                             0xE7037ED1A0B428DBULL, 0x8EBC6AF09C88C6E3ULL};

/* The kept shingles folded into the minimums, one seed at a time. */
static void fold_scalar(const uint64_t *kept, size_t cnt, uint64_t mins[NA_MINHASH_K])
{
    for (size_t c = 0; c < cnt; c++) {
        uint64_t h = mix64(kept[c]);
        for (int k = 0; k < NA_MINHASH_K; k++) {
            uint64_t v = (h ^ seeds[k]) * 0xD6E8FEB86659FD93ULL;
            v ^= v >> 32;
            mins[k] = v < mins[k] ? v : mins[k];
        }
    }
}

#if defined(NA_AVX512_PATH)
/* The same, the eight seeds in one vector (AVX-512 has the 64-bit multiply AVX2 lacks). */
__attribute__((target("avx512f,avx512dq"))) static void fold_avx512(const uint64_t *kept, size_t cnt,
                                                                     uint64_t mins[NA_MINHASH_K])
{
    _Static_assert(NA_MINHASH_K == 8, "one vector of eight 64-bit lanes");
    __m512i m = _mm512_loadu_si512((const void *)mins);
    const __m512i sd = _mm512_loadu_si512((const void *)seeds);
    const __m512i mul = _mm512_set1_epi64((long long)0xD6E8FEB86659FD93ULL);
    for (size_t c = 0; c < cnt; c++) {
        __m512i v = _mm512_mullo_epi64(_mm512_xor_si512(_mm512_set1_epi64((long long)mix64(kept[c])), sd), mul);
        m = _mm512_min_epu64(m, _mm512_xor_si512(v, _mm512_srli_epi64(v, 32)));
    }
    _mm512_storeu_si512((void *)mins, m);
}

/* -1 not asked yet; na_minhash_simd lets the tests take either fold. */
static _Atomic int use_avx512 = -1;

static int cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

static int avx512_ok(void)
{
    int v = atomic_load_explicit(&use_avx512, memory_order_relaxed);
    if (v < 0) {
        v = cpu_has_avx512();
        atomic_store_explicit(&use_avx512, v, memory_order_relaxed);
    }
    return v;
}
#endif

int na_minhash_simd(int level)
{
#if defined(NA_AVX512_PATH)
    if (level >= 0) atomic_store_explicit(&use_avx512, level >= 1 && cpu_has_avx512(), memory_order_relaxed);
    return avx512_ok();
#else
    (void)level;
    return 0;
#endif
}

void na_minhash(const uint8_t *p, size_t n, uint32_t sig[NA_MINHASH_K])
{
    uint64_t mins[NA_MINHASH_K];
    for (int i = 0; i < NA_MINHASH_K; i++) mins[i] = UINT64_MAX;
    if (n >= 8) {
        /* the kept shingles are gathered without a branch (which one is kept
         * is unpredictable), then folded into the minimums in a second loop */
        uint64_t kept[256];
        uint64_t w = 0;
        for (size_t i = 0; i < 7; i++) w = (w << 8) | p[i];
        for (size_t i = 7; i < n;) {
            size_t cnt = 0, stop = n - i > 256 ? i + 256 : n;
            for (; i < stop; i++) {
                w = (w << 8) | p[i];
                uint64_t h = w * 0x9E3779B97F4A7C15ULL; /* multiplicative hash of the 8-byte window */
                kept[cnt] = h;
                cnt += (h >> 62) == 0; /* keep 1 shingle in 4, chosen by content */
            }
#if defined(NA_AVX512_PATH)
            if (avx512_ok()) {
                fold_avx512(kept, cnt, mins);
                continue;
            }
#endif
            fold_scalar(kept, cnt, mins);
        }
    }
    for (int i = 0; i < NA_MINHASH_K; i++) sig[i] = (uint32_t)(mins[i] >> 32);
}

int na_minhash_bands(const uint32_t sig[NA_MINHASH_K], uint64_t band[NA_LSH_BANDS])
{
    if (sig[0] == UINT32_MAX) return 0;
    for (int b = 0; b < NA_LSH_BANDS; b++) {
        uint64_t k = (uint64_t)b << 60;
        for (int r = 0; r < NA_MINHASH_ROWS; r++) k = (k * 0x100000001B3ULL) ^ sig[b * NA_MINHASH_ROWS + r];
        band[b] = k ^ ((uint64_t)b << 60);
    }
    return 1;
}
