/*
 * archive_mutator.c - libFuzzer custom mutator for fuzz_reader.
 *
 * Byte-level mutations of an archive rarely get past the footer, the table
 * of sections and the manifest, and never produce a metadata table or a
 * block that still decompresses.  Two times in three, this mutator takes
 * the input apart (when it is a well-formed v1 archive), mutates one thing
 * inside -- the decompressed metadata table, the index, a block's content,
 * the dictionary, the signature slot or a manifest number -- recompresses
 * what needs it, lays the sections out again, rewrites the manifest and
 * footer and, half of the time, recomputes every hash so that verify's
 * deeper checks are reached.  Otherwise (and for inputs that do not parse)
 * it falls back to libFuzzer's own mutations.
 */
#include "format.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define CAP (4u << 20) /* largest table or block content the mutator will handle */

typedef struct part {
    uint8_t *p;
    size_t n;
} part;

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static int part_set(part *x, const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (!q) return -1;
    if (n) memcpy(q, p, n);
    free(x->p);
    x->p = q;
    x->n = n;
    return 0;
}

/* Mutate bytes [0, n) of a buffer that may grow to cap; returns the new length. */
static size_t mutate_bytes(uint8_t *p, size_t n, size_t cap)
{
    if (cap == 0) return n;
    return LLVMFuzzerMutate(p, n, cap);
}

static uint64_t interesting(uint64_t v)
{
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return 1;
    case 2: return v + 1;
    case 3: return v - 1;
    case 4: return UINT32_MAX;
    case 5: return (uint64_t)UINT32_MAX + 1;
    case 6: return UINT64_MAX;
    case 7: return v * 2;
    case 8: return v / 2;
    default: return rnd();
    }
}

enum { P_HEAD, P_DICT, P_BLKS, P_META, P_INDX, P_N };
static const int sec_of[P_N] = {NA_S_HEAD, NA_S_DICT, NA_S_BLKS, NA_S_META, NA_S_INDX};

typedef struct arch {
    part s[P_N];
    uint8_t sign[NA_SIGN_FRAME];
    na_manifest m;
} arch;

static void arch_free(arch *a)
{
    for (int i = 0; i < P_N; i++) free(a->s[i].p);
}

static int arch_split(const uint8_t *d, size_t n, arch *a)
{
    memset(a, 0, sizeof *a);
    na_footer f;
    if (na_footer_decode(d, n, &f) || f.count != NA_S_COUNT) return -1;
    uint64_t pos = 0;
    for (int k = 0; k < NA_S_COUNT; k++) {
        if (memcmp(f.toc[k].type, na_section_types[k], 4) || f.toc[k].offset != pos || f.toc[k].length > n - pos)
            return -1;
        pos += f.toc[k].length;
    }
    if (pos != n || f.toc[NA_S_SIGN].length != NA_SIGN_FRAME || f.toc[NA_S_MANI].length < 12) return -1;
    if (na_manifest_parse(d + f.toc[NA_S_MANI].offset + 12, (size_t)f.toc[NA_S_MANI].length - 12, &a->m)) return -1;
    for (int i = 0; i < P_N; i++) {
        const na_toc_entry *t = &f.toc[sec_of[i]];
        if (part_set(&a->s[i], d + t->offset, (size_t)t->length)) return -1;
    }
    memcpy(a->sign, d + f.toc[NA_S_SIGN].offset, NA_SIGN_FRAME);
    return 0;
}

/* Lay out again; reseal = recompute section hashes, BLKS hash and root. */
static size_t arch_join(arch *a, int reseal, uint8_t *out, size_t max)
{
    uint64_t off = 0;
    for (int i = 0; i < P_N; i++) {
        a->m.sec[sec_of[i]].offset = off;
        a->m.sec[sec_of[i]].length = a->s[i].n;
        off += a->s[i].n;
        if (reseal && sec_of[i] != NA_S_BLKS)
            crypto_generichash(a->m.sec_hash[sec_of[i]], NA_HASH, a->s[i].p, a->s[i].n, NULL, 0);
    }
    const part *x = &a->s[P_INDX];
    if (reseal && x->n >= 24) {
        uint32_t nb = na_ld32(x->p + 12), na = na_ld32(x->p + 16);
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, NA_HASH);
        for (uint64_t b = 0; b < nb && 24 + NA_BLOCK_REC * (b + 1) <= x->n; b++)
            crypto_generichash_update(&st, x->p + 24 + NA_BLOCK_REC * b + 16, NA_HASH);
        crypto_generichash_final(&st, a->m.sec_hash[NA_S_BLKS], NA_HASH);
        uint64_t tab = 24 + (uint64_t)NA_BLOCK_REC * nb;
        crypto_generichash_init(&st, NULL, 0, NA_HASH);
        for (uint64_t i = 0; i < na && tab + NA_ID_REC * (i + 1) <= x->n; i++)
            crypto_generichash_update(&st, x->p + tab + NA_ID_REC * i, NA_HASH);
        crypto_generichash_final(&st, a->m.root, NA_HASH);
    }
    size_t mlen = 0;
    for (int it = 0; it < 8; it++) {
        a->m.sec[NA_S_MANI].offset = off;
        a->m.sec[NA_S_MANI].length = 12 + mlen;
        a->m.sec[NA_S_SIGN].offset = off + 12 + mlen;
        a->m.sec[NA_S_SIGN].length = NA_SIGN_FRAME;
        a->m.sec[NA_S_FOOT].offset = off + 12 + mlen + NA_SIGN_FRAME;
        a->m.sec[NA_S_FOOT].length = NA_FOOT_FRAME_V1;
        a->m.file_length = a->m.sec[NA_S_FOOT].offset + NA_FOOT_FRAME_V1;
        size_t n = na_manifest_format(NULL, 0, &a->m);
        if (n == mlen) break;
        mlen = n;
    }
    uint64_t total = a->m.file_length;
    if (total > max) return 0;
    size_t at = 0;
    for (int i = 0; i < P_N; i++) {
        if (a->s[i].n) memcpy(out + at, a->s[i].p, a->s[i].n);
        at += a->s[i].n;
    }
    na_frame_header(out + at, (uint32_t)(mlen + 4), "MANI");
    char *mt = malloc(mlen + 1);
    if (!mt) return 0;
    if (na_manifest_format(mt, mlen + 1, &a->m) != mlen) {
        free(mt);
        return 0;
    }
    memcpy(out + at + 12, mt, mlen);
    free(mt);
    at += 12 + mlen;
    memcpy(out + at, a->sign, NA_SIGN_FRAME);
    at += NA_SIGN_FRAME;
    na_footer f;
    memset(&f, 0, sizeof f);
    f.major = 1;
    f.minor = (uint16_t)a->m.fmt_minor;
    f.count = NA_S_COUNT;
    for (int k = 0; k < NA_S_COUNT; k++) {
        memcpy(f.toc[k].type, na_section_types[k], 5);
        f.toc[k].offset = a->m.sec[k].offset;
        f.toc[k].length = a->m.sec[k].length;
    }
    f.file_length = total;
    na_footer_encode(out + at, &f);
    at += NA_FOOT_FRAME_V1;
    crypto_generichash(out + at - NA_FOOT_TAIL, NA_HASH, out, at - NA_FOOT_TAIL, NULL, 0);
    return at;
}

/*
 * The metadata (spec 4.4): one frame, chosen at random, decompressed,
 * mutated and recompressed (with the dictionary when there is one); its
 * directory record follows the new sizes, and table_size the difference,
 * except now and then when either gets an interesting value instead.
 */
static int mut_meta(arch *a)
{
    part *m = &a->s[P_META];
    if (m->n < 48) return -1;
    uint32_t nf = na_ld32(m->p + 12);
    if (nf == 0 || nf > (m->n - 32) / 16) return -1;
    uint64_t src = 32 + 16 * (uint64_t)nf, at = 0;
    for (uint32_t k = 0; k < nf; k++) src += na_ld32(m->p + 44 + 16 * (size_t)k);
    uint32_t f = rnd() % nf;
    for (uint32_t k = 0; k < nf; k++) {
        if (k == f) at = src;
        src += na_ld32(m->p + 32 + 16 * (size_t)k);
    }
    if (src != m->n) return -1;
    uint8_t *d = m->p + 32 + 16 * (size_t)f;
    uint32_t csize = na_ld32(d), usize = na_ld32(d + 4);
    const part *dp = &a->s[P_DICT];
    const void *dict = dp->n > 12 ? dp->p + 12 : NULL;
    size_t dict_len = dp->n > 12 ? dp->n - 12 : 0;
    if (usize > CAP) return -1;
    size_t cap = (size_t)usize * 2 + 256;
    uint8_t *tab = malloc(cap);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t got = tab && dc ? ZSTD_decompress_usingDict(dc, tab, usize, m->p + at, csize, dict, dict_len) : (size_t)-1;
    uint8_t *z = NULL;
    size_t c = (size_t)-1;
    if (!ZSTD_isError(got) && cc) {
        size_t n = mutate_bytes(tab, got, cap);
        size_t zb = ZSTD_compressBound(n);
        z = malloc(m->n - csize + zb);
        if (z) c = ZSTD_compress_usingDict(cc, z + at, zb, tab, n, dict, dict_len, 1);
        if (!ZSTD_isError(c)) {
            memcpy(z, m->p, at);
            memcpy(z + at + c, m->p + at + csize, m->n - at - csize);
            uint8_t *zd = z + 32 + 16 * (size_t)f;
            na_st32(zd, (uint32_t)c);
            na_st32(zd + 4, rnd() % 8 ? (uint32_t)n : (uint32_t)interesting(n));
            na_st64(z + 16, rnd() % 8 ? na_ld64(z + 16) - usize + n : interesting(na_ld64(z + 16)));
            na_frame_header(z, (uint32_t)(m->n - csize + c - 8), "META");
        }
    }
    int rc = !ZSTD_isError(c) && z ? part_set(m, z, m->n - csize + c) : -1;
    free(tab);
    free(z);
    ZSTD_freeDCtx(dc);
    ZSTD_freeCCtx(cc);
    return rc;
}

/* The index's locations (spec 4.5), all decoded into a new array; -1 if
 * the index does not parse as this version writes it. */
static int locs_get(const part *x, uint32_t (**out)[3])
{
    if (x->n < 24) return -1;
    uint32_t nb = na_ld32(x->p + 12), na = na_ld32(x->p + 16);
    uint64_t nc = na_loc_chunks(na), dir = 24 + (uint64_t)NA_BLOCK_REC * nb + (uint64_t)NA_ID_REC * na;
    uint64_t src = dir + NA_LOC_CHUNK_REC * nc;
    if (!na || src > x->n || (uint64_t)na * NA_LOC_REC > CAP) return -1;
    uint32_t(*loc)[3] = malloc(sizeof *loc * na);
    uint8_t *planes = malloc(NA_LOC_REC * NA_LOC_CHUNK);
    int rc = loc && planes ? 0 : -1;
    for (uint64_t k = 0; k < nc && !rc; k++) {
        size_t m = na - k * NA_LOC_CHUNK < NA_LOC_CHUNK ? na - k * NA_LOC_CHUNK : NA_LOC_CHUNK;
        uint32_t cs = na_ld32(x->p + dir + NA_LOC_CHUNK_REC * k);
        if (cs > x->n - src) rc = -1;
        else if (ZSTD_decompress(planes, NA_LOC_REC * m, x->p + src, cs) != NA_LOC_REC * m) rc = -1;
        else na_locs_from_planes(loc + k * NA_LOC_CHUNK, planes, m);
        src += cs;
    }
    free(planes);
    if (rc || src != x->n) {
        free(loc);
        return -1;
    }
    *out = loc;
    return 0;
}

/* Replace the index's location chunks by loc compressed again. */
static int locs_put(part *x, const uint32_t (*loc)[3])
{
    uint32_t nb = na_ld32(x->p + 12), na = na_ld32(x->p + 16);
    uint64_t nc = na_loc_chunks(na);
    size_t dir = 24 + (size_t)NA_BLOCK_REC * nb + (size_t)NA_ID_REC * na;
    size_t cap = dir + NA_LOC_CHUNK_REC * nc + nc * ZSTD_compressBound(NA_LOC_REC * NA_LOC_CHUNK);
    uint8_t *p = malloc(cap), *planes = malloc(NA_LOC_REC * NA_LOC_CHUNK);
    if (!p || !planes) {
        free(p);
        free(planes);
        return -1;
    }
    memcpy(p, x->p, dir);
    size_t n = dir + NA_LOC_CHUNK_REC * nc;
    for (uint64_t k = 0; k < nc; k++) {
        size_t m = na - k * NA_LOC_CHUNK < NA_LOC_CHUNK ? na - k * NA_LOC_CHUNK : NA_LOC_CHUNK;
        na_locs_to_planes(planes, loc + k * NA_LOC_CHUNK, m);
        size_t zl = ZSTD_compress(p + n, cap - n, planes, NA_LOC_REC * m, 1);
        if (ZSTD_isError(zl)) {
            free(p);
            free(planes);
            return -1;
        }
        na_st32(p + dir + NA_LOC_CHUNK_REC * k, (uint32_t)zl);
        n += zl;
    }
    na_st32(p + 4, (uint32_t)(n - 8));
    free(planes);
    free(x->p);
    x->p = p;
    x->n = n;
    return 0;
}

/* The index: bytes after the frame header; sometimes only one field of a record. */
static int mut_index(arch *a)
{
    part *x = &a->s[P_INDX];
    if (x->n < 24) return -1;
    if (rnd() % 2) {
        uint32_t nb = na_ld32(x->p + 12), na = na_ld32(x->p + 16);
        uint32_t(*loc)[3] = NULL;
        if (locs_get(x, &loc) != 0) return -1;
        /* one numeric field of one record */
        if (nb && rnd() % 2) {
            uint8_t *r = x->p + 24 + (size_t)NA_BLOCK_REC * (rnd() % nb);
            switch (rnd() % 3) {
            case 0: na_st64(r, interesting(na_ld64(r))); break;
            case 1: na_st32(r + 8, (uint32_t)interesting(na_ld32(r + 8))); break;
            default: na_st32(r + 12, (uint32_t)interesting(na_ld32(r + 12))); break;
            }
        } else {
            uint32_t *l = loc[rnd() % na];
            int f = (int)(rnd() % 3);
            l[f] = (uint32_t)interesting(l[f]);
            if (locs_put(x, (const uint32_t(*)[3])loc) != 0) {
                free(loc);
                return -1;
            }
        }
        free(loc);
        return 0;
    }
    size_t cap = x->n * 2 + 128;
    uint8_t *p = malloc(cap);
    if (!p) return -1;
    memcpy(p, x->p, x->n);
    size_t n = 12 + mutate_bytes(p + 12, x->n - 12, cap - 12);
    na_st32(p + 4, (uint32_t)(n - 8));
    free(x->p);
    x->p = p;
    x->n = n;
    return 0;
}

/* One block: decompress, mutate the content, recompress; the index follows.
 * Half of the time the ids of the block's articles are recomputed so reads
 * get past the id check. */
static int mut_block(arch *a)
{
    part *x = &a->s[P_INDX];
    if (x->n < 24) return -1;
    uint32_t nb = na_ld32(x->p + 12), na = na_ld32(x->p + 16);
    uint32_t(*loc)[3] = NULL;
    if (!nb || locs_get(x, &loc) != 0) return -1;
    uint32_t b = rnd() % nb;
    na_block_rec br;
    na_block_decode(x->p + 24 + (size_t)NA_BLOCK_REC * b, &br);
    uint64_t base = a->m.sec[NA_S_BLKS].offset;
    if (br.offset < base || br.offset - base > a->s[P_BLKS].n || br.csize > a->s[P_BLKS].n - (br.offset - base) ||
        br.usize > CAP)
        return free(loc), -1;
    size_t rel = (size_t)(br.offset - base);
    size_t cap = (size_t)br.usize * 2 + 256;
    uint8_t *c = malloc(cap);
    if (!c) return free(loc), -1;
    const part *dict = &a->s[P_DICT];
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    size_t got = dc ? ZSTD_decompress_usingDict(dc, c, br.usize, a->s[P_BLKS].p + rel, br.csize, dict->p + 12,
                                                dict->n - 12)
                    : 0;
    ZSTD_freeDCtx(dc);
    if (!dc || ZSTD_isError(got) || got != br.usize) {
        free(c);
        return free(loc), -1;
    }
    size_t n = mutate_bytes(c, got, cap);
    size_t zb = ZSTD_compressBound(n);
    uint8_t *z = malloc(zb);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t zl = (z && cc) ? ZSTD_compress_usingDict(cc, z, zb, c, n, dict->p + 12, dict->n - 12, 1) : 0;
    ZSTD_freeCCtx(cc);
    if (!z || !cc || ZSTD_isError(zl)) {
        free(z);
        free(c);
        return free(loc), -1;
    }
    /* splice the frame in */
    size_t blen = a->s[P_BLKS].n - br.csize + zl;
    uint8_t *nbk = malloc(blen ? blen : 1);
    if (!nbk) {
        free(z);
        free(c);
        return free(loc), -1;
    }
    memcpy(nbk, a->s[P_BLKS].p, rel);
    memcpy(nbk + rel, z, zl);
    memcpy(nbk + rel + zl, a->s[P_BLKS].p + rel + br.csize, a->s[P_BLKS].n - rel - br.csize);
    free(a->s[P_BLKS].p);
    a->s[P_BLKS].p = nbk;
    a->s[P_BLKS].n = blen;
    int64_t delta = (int64_t)zl - (int64_t)br.csize;
    br.csize = (uint32_t)zl;
    br.usize = (uint32_t)n;
    crypto_generichash(br.hash, NA_HASH, z, zl, NULL, 0);
    na_block_encode(x->p + 24 + (size_t)NA_BLOCK_REC * b, &br);
    for (uint32_t k = b + 1; k < nb; k++) {
        uint8_t *r = x->p + 24 + (size_t)NA_BLOCK_REC * k;
        na_st64(r, (uint64_t)((int64_t)na_ld64(r) + delta));
    }
    if (rnd() % 2) {
        for (uint32_t i = 0; i < na; i++) {
            uint8_t *r = x->p + 24 + (size_t)NA_BLOCK_REC * nb + (size_t)NA_ID_REC * i;
            if (loc[i][0] == b && (uint64_t)loc[i][1] + loc[i][2] <= n)
                crypto_generichash(r, NA_HASH, c + loc[i][1], loc[i][2], NULL, 0);
        }
    }
    free(loc);
    free(z);
    free(c);
    return 0;
}

static int mut_dict(arch *a)
{
    part *d = &a->s[P_DICT];
    size_t cap = d->n * 2 + 64;
    uint8_t *p = malloc(cap);
    if (!p) return -1;
    memcpy(p, d->p, d->n);
    size_t n = 12 + mutate_bytes(p + 12, d->n - 12, cap - 12);
    na_st32(p + 4, (uint32_t)(n - 8));
    free(d->p);
    d->p = p;
    d->n = n;
    a->m.dict_size = n - 12;
    return 0;
}

static int mut_sign(arch *a)
{
    if (rnd() % 2) {
        na_st32(a->sign + 12, (uint32_t)interesting(na_ld32(a->sign + 12)));
    } else {
        size_t n = rnd() % 200;
        for (size_t i = 0; i < n; i++) a->sign[16 + i] = (uint8_t)(rnd() % 95 + 32);
        na_st32(a->sign + 12, (uint32_t)n);
    }
    return 0;
}

static int mut_manifest(arch *a)
{
    switch (rnd() % 6) {
    case 0: a->m.articles = interesting(a->m.articles); break;
    case 1: a->m.entries = interesting(a->m.entries); break;
    case 2: a->m.blocks = interesting(a->m.blocks); break;
    case 3: a->m.dict_size = interesting(a->m.dict_size); break;
    case 4: a->m.level = (int)(rnd() % 50) - 10; break;
    default: a->m.block_size = interesting(a->m.block_size); break;
    }
    return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng_state = seed;
    if (rnd() % 3 == 0) return LLVMFuzzerMutate(data, size, max_size);
    arch a;
    if (arch_split(data, size, &a) != 0) {
        arch_free(&a);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    int rc;
    switch (rnd() % 8) {
    case 0:
    case 1: rc = mut_meta(&a); break;
    case 2:
    case 3: rc = mut_block(&a); break;
    case 4: rc = mut_index(&a); break;
    case 5: rc = mut_dict(&a); break;
    case 6: rc = mut_sign(&a); break;
    default: rc = mut_manifest(&a); break;
    }
    size_t n = 0;
    if (rc == 0) {
        uint8_t *out = malloc(max_size);
        if (out) {
            n = arch_join(&a, rnd() % 2, out, max_size);
            if (n) memcpy(data, out, n);
            free(out);
        }
    }
    arch_free(&a);
    return n ? n : LLVMFuzzerMutate(data, size, max_size);
}
