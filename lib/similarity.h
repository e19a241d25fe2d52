/* similarity.h - byte-level MinHash for block placement.  Internal. */
#ifndef NEWSARC_SIMILARITY_H
#define NEWSARC_SIMILARITY_H

#include <stddef.h>
#include <stdint.h>

#define NA_MINHASH_K 8
/* LSH: NA_MINHASH_K values in bands of NA_MINHASH_ROWS. */
#define NA_MINHASH_ROWS 4

#define NA_LSH_BANDS (NA_MINHASH_K / NA_MINHASH_ROWS)

/* Signature of p[0..n); articles shorter than 8 bytes get all-ones. */
void na_minhash(const uint8_t *p, size_t n, uint32_t sig[NA_MINHASH_K]);

/* Tests: level 0 folds without SIMD, 1 with AVX-512 where the CPU has it,
 * -1 only asks; returns the fold in use (1 AVX-512). */
int na_minhash_simd(int level);

/* LSH band keys of a signature; returns 0 (no keys) for an all-ones one. */
int na_minhash_bands(const uint32_t sig[NA_MINHASH_K], uint64_t band[NA_LSH_BANDS]);

#endif
