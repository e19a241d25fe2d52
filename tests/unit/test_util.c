/* Helpers of lib/util.c checked against a plain reference. */
#include "internal.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* ---- na_sort_key_recs: the order of qsort with (bytes, length, tag) ---- */

static const uint8_t *g_base;

static int ref_cmp(const void *x, const void *y)
{
    const uint8_t *a = g_base + *(const uint32_t *)x, *b = g_base + *(const uint32_t *)y;
    size_t an = na_ld16(a + 4), bn = na_ld16(b + 4), n = an < bn ? an : bn;
    int c = n ? memcmp(a + 6, b + 6, n) : 0;
    if (c) return c;
    if (an != bn) return an < bn ? -1 : 1;
    uint32_t ta = na_ld32(a), tb = na_ld32(b);
    return (ta > tb) - (ta < tb);
}

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33) % n;
}

/* n records from gen(i, key, &len); tags are a shuffled 0..n-1 (not in record order). */
static void check_sort(size_t n, void (*gen)(size_t i, uint8_t *key, size_t *len), const char *what)
{
    size_t m = n ? n : 1;
    uint8_t *base = malloc(m * (6 + 300));
    uint32_t *at = malloc(m * sizeof *at), *ref = malloc(m * sizeof *ref), *tag = malloc(m * sizeof *tag);
    cr_assert(base && at && ref && tag);
    for (size_t i = 0; i < n; i++) tag[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd((uint32_t)i);
        uint32_t t = tag[i - 1];
        tag[i - 1] = tag[j];
        tag[j] = t;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        gen(i, base + off + 6, &len);
        cr_assert(len <= 300);
        na_st32(base + off, tag[i]);
        na_st16(base + off + 4, (uint16_t)len);
        at[i] = ref[i] = (uint32_t)off;
        off += 6 + len;
    }
    g_base = base;
    qsort(ref, n, sizeof *ref, ref_cmp);
    cr_assert_eq(na_sort_key_recs(base, at, n), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(at[i], ref[i], "%s: position %zu of %zu differs from the reference order", what, i, n);
    free(base);
    free(at);
    free(ref);
    free(tag);
}

/* URLs: a long shared prefix, few sections, numbers of several lengths */
static void gen_urls(size_t i, uint8_t *key, size_t *len)
{
    static const char *sec[] = {"world", "culture", "sport", "economy", "w"};
    (void)i;
    *len = (size_t)sprintf((char *)key, "https://synth.example/%s/20%02u/%02u/%u.html", sec[rnd(5)], rnd(30), rnd(12) + 1,
                           rnd(200000));
}

/* few byte values (zero included) and lengths 0..40: prefixes of each other, equal keys, zero padding */
static void gen_small_alphabet(size_t i, uint8_t *key, size_t *len)
{
    (void)i;
    *len = rnd(41);
    for (size_t k = 0; k < *len; k++) key[k] = (uint8_t)(rnd(3) == 0 ? 0 : 'a' + rnd(2));
}

/* many equal keys, and keys that differ only by trailing zeros */
static void gen_equal(size_t i, uint8_t *key, size_t *len)
{
    size_t base = 8 + (i % 3) * 4;
    memcpy(key, "same-prefix-", 12);
    *len = base + rnd(3);
    for (size_t k = 12; k < *len; k++) key[k] = 0;
    if (*len > 12 && rnd(50) == 0) key[*len - 1] = 1;
}

/* sorted input, then in reverse: the cases a naive quicksort makes quadratic */
static void gen_sorted(size_t i, uint8_t *key, size_t *len)
{
    *len = (size_t)sprintf((char *)key, "k%09zu", i);
}

static void gen_reverse(size_t i, uint8_t *key, size_t *len)
{
    *len = (size_t)sprintf((char *)key, "k%09zu", 1000000 - i);
}

/* binary keys of all lengths up to 300 */
static void gen_binary(size_t i, uint8_t *key, size_t *len)
{
    (void)i;
    *len = rnd(301);
    for (size_t k = 0; k < *len; k++) key[k] = (uint8_t)rnd(256);
    if (*len > 9 && rnd(2)) memset(key, 0xFF, 9); /* a shared run of 0xFF across a word boundary */
}

Test(util, sort_key_recs_matches_qsort)
{
    rng_state = 20261207;
    static const size_t sizes[] = {0, 1, 2, 3, 17, 100, 5000, 60000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        check_sort(sizes[s], gen_urls, "urls");
        check_sort(sizes[s], gen_small_alphabet, "small alphabet");
        check_sort(sizes[s], gen_equal, "equal keys");
        check_sort(sizes[s], gen_sorted, "sorted");
        check_sort(sizes[s], gen_reverse, "reverse");
        check_sort(sizes[s], gen_binary, "binary");
    }
}

/* ---- na_check64: what pass 2 of pack compares ---- */

Test(util, check64_sees_every_small_change)
{
    uint8_t buf[200], alt[201];
    rng_state = 7;
    for (size_t n = 0; n <= 130; n++) {
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd(256);
        uint64_t h = na_check64(buf, n);
        cr_assert_eq(h, na_check64(buf, n));
        for (size_t i = 0; i < n; i++)
            for (unsigned bit = 0; bit < 8; bit++) {
                memcpy(alt, buf, n);
                alt[i] ^= (uint8_t)(1u << bit);
                cr_assert_neq(na_check64(alt, n), h, "length %zu: bit %u of byte %zu flipped, same check", n, bit, i);
            }
        memcpy(alt, buf, n);
        alt[n] = 0; /* one zero byte more: only the length tells */
        cr_assert_neq(na_check64(alt, n + 1), h, "length %zu: a zero byte appended, same check", n);
        if (n >= 16) { /* two words swapped */
            memcpy(alt, buf, n);
            memcpy(alt, buf + 8, 8);
            memcpy(alt + 8, buf, 8);
            if (memcmp(alt, buf, n)) cr_assert_neq(na_check64(alt, n), h, "length %zu: words 0 and 1 swapped", n);
        }
    }
    cr_assert_eq(na_check64(NULL, 0), na_check64("", 0));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

Test(util, check64_no_collision_among_similar_texts)
{
    /* 200,000 lines differing in a number or a word: a 64-bit check should not repeat */
    enum { N = 200000 };
    uint64_t *h = malloc(sizeof *h * N);
    cr_assert(h);
    char line[128];
    for (size_t i = 0; i < N; i++) {
        int k = snprintf(line, sizeof line, "{\"url\":\"https://example.org/%zu\",\"title\":\"story %zu\"}", i % 100000,
                         i / 100000);
        h[i] = na_check64(line, (size_t)k);
    }
    qsort(h, N, sizeof *h, cmp_u64);
    for (size_t i = 1; i < N; i++) cr_assert_neq(h[i], h[i - 1], "two different lines with the same check");
    free(h);
}
