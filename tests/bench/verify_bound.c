/*
 * verify_bound - what "decompress + BLAKE2b on all cores" allows for one
 * archive: the floor under `newsarc verify` (issue #4 asks for verify at
 * >= 80% of it).  On THREADS threads it does only the unavoidable work of a
 * full verify: BLAKE2b-256 of the whole file, of the HEAD, DICT, META and
 * INDX sections and of every optional section (the text information), of
 * the id table (the root) and of the block hashes (BLKS), of every block
 * frame and of every article, and zstd decompression of every block, every
 * META frame, the text information's table (streamed through 128 KiB: its
 * records must be read, not kept) and every location chunk of the index
 * (those on one thread, before the rest).  It checks nothing
 * and prints the seconds it took (wall), so the benchmark can report
 * verify / bound in one run.
 *
 *   verify_bound [-T THREADS] ARCHIVE
 */
#include "reader.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct job {
    newsarc_reader *r;
    const uint64_t *first;     /* per block: start of its articles in span[] (n_blocks + 1) */
    const uint32_t (*span)[2]; /* offset and length of each article, grouped by block */
    atomic_uint_fast64_t next; /* work items: 0 the whole file, 1 the sections, 2 the text information, then META frames, then blocks */
    uint64_t n_items;
    atomic_uint_fast64_t sink; /* keeps the results alive */
} job;

/* The text information's table (spec 4.9), when there is one: decompressed
 * through buf 128 KiB at a time (the frame follows the section's 16 bytes). */
static void attr_table(newsarc_reader *r, ZSTD_DCtx *d, uint8_t *buf)
{
    for (uint32_t k = 0; k < r->n_opt; k++) {
        if (memcmp(r->opt_toc[k]->type, "attr", 4) != 0 || r->opt_toc[k]->length < 16 + 12) continue;
        ZSTD_inBuffer in = {r->file + r->opt_toc[k]->offset + 8 + 16, (size_t)r->opt_toc[k]->length - 8 - 16, 0};
        ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
        size_t rc;
        do {
            ZSTD_outBuffer out = {buf, (size_t)128 << 10, 0};
            rc = ZSTD_decompressStream(d, &out, &in);
            if (ZSTD_isError(rc) || (rc && in.pos == in.size && out.pos < out.size)) {
                fprintf(stderr, "verify_bound: the text information does not decompress (run newsarc verify)\n");
                exit(1);
            }
        } while (rc);
    }
}

static void work(void *arg, int t)
{
    (void)t;
    job *j = arg;
    newsarc_reader *r = j->r;
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint8_t *buf = malloc(NA_MAX_BLOCK_CONTENT);
    uint8_t h[NA_HASH];
    uint64_t acc = 0;
    if (!d || !buf) {
        fprintf(stderr, "verify_bound: out of memory\n");
        exit(2);
    }
    for (;;) {
        uint64_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->n_items) break;
        if (k == 0) {
            na_hash(h, r->file, (size_t)(r->size - NA_FOOT_TAIL));
        } else if (k == 1) {
            static const int secs[] = {NA_S_HEAD, NA_S_DICT, NA_S_META, NA_S_INDX};
            for (size_t s = 0; s < sizeof secs / sizeof *secs; s++)
                na_hash(h, r->file + r->mani.sec[secs[s]].offset, (size_t)r->mani.sec[secs[s]].length);
            for (uint32_t o = 0; o < r->mani.n_opt; o++)
                na_hash(h, r->file + r->mani.opt[o].offset, (size_t)r->mani.opt[o].length);
            /* the root over the id table (32 MB on m1) and the hash of the block hashes */
            na_hash(h, r->ids_tab, (size_t)NA_ID_REC * r->n_arts);
            acc += h[0];
            crypto_generichash_state st;
            crypto_generichash_init(&st, NULL, 0, NA_HASH);
            for (uint32_t b = 0; b < r->n_blocks; b++)
                crypto_generichash_update(&st, r->blocks_tab + (size_t)b * NA_BLOCK_REC + 16, NA_HASH);
            crypto_generichash_final(&st, h, NA_HASH);
        } else if (k == 2) {
            attr_table(r, d, buf);
        } else if (k - 3 < r->meta_n_frames) {
            const na_meta_frame *x = &r->mf[k - 3];
            size_t got = ZSTD_decompress_usingDDict(d, buf, x->usize, r->meta_payload + x->src, x->csize, r->ddict);
            if (ZSTD_isError(got) || got != x->usize) {
                fprintf(stderr, "verify_bound: metadata frame %llu does not decompress\n", (unsigned long long)(k - 3));
                exit(1);
            }
            h[0] = buf[0];
        } else {
            na_block_rec b;
            uint32_t bi = (uint32_t)(k - 3 - r->meta_n_frames);
            na_block_decode(r->blocks_tab + (size_t)bi * NA_BLOCK_REC, &b);
            if (b.offset < r->blks_off || !na_add_ok(b.offset, b.csize, r->blks_end) || b.usize > NA_MAX_BLOCK_CONTENT) {
                fprintf(stderr, "verify_bound: block %u lies outside the archive (run newsarc verify)\n", bi);
                exit(1);
            }
            na_hash(h, r->file + b.offset, b.csize);
            char msg[128];
            if (na_reader_decompress(r, d, &b, buf, msg, sizeof msg) != 0) {
                fprintf(stderr, "verify_bound: block %u: %s\n", bi, msg);
                exit(1);
            }
            for (uint64_t a = j->first[bi]; a < j->first[bi + 1]; a++) {
                if ((uint64_t)j->span[a][0] + j->span[a][1] > b.usize) {
                    fprintf(stderr, "verify_bound: an article extends past block %u (run newsarc verify)\n", bi);
                    exit(1);
                }
                na_hash(h, buf + j->span[a][0], j->span[a][1]);
                acc += h[0];
            }
        }
        acc += h[0];
    }
    atomic_fetch_add(&j->sink, acc);
    free(buf);
    ZSTD_freeDCtx(d);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), c;
    while ((c = getopt(argc, argv, "T:")) != -1) {
        if (c == 'T') threads = atoi(optarg);
        else return 2;
    }
    if (optind + 1 != argc || threads < 1) {
        fprintf(stderr, "usage: verify_bound [-T THREADS] ARCHIVE\n");
        return 2;
    }
    double t0 = now();
    newsarc_reader *r = NULL;
    if (newsarc_reader_open(&r, argv[optind]) != 0) {
        fprintf(stderr, "verify_bound: %s: %s\n", argv[optind], r ? newsarc_reader_error(r) : "out of memory");
        return 2;
    }
    if (na_reader_meta_dir(r) != 0) {
        fprintf(stderr, "verify_bound: %s: %s\n", argv[optind], newsarc_reader_error(r));
        return 2;
    }
    /* the articles grouped by block (a counting sort over the index), as verify must */
    uint64_t *first = calloc((size_t)r->n_blocks + 2, sizeof *first);
    uint32_t(*span)[2] = malloc(sizeof *span * ((size_t)r->n_arts + 1));
    if (!first || !span) {
        fprintf(stderr, "verify_bound: out of memory\n");
        return 2;
    }
    char msg[NA_ERRMSG];
    for (uint32_t k = 0; k < r->n_loc_chunks; k++)
        if (na_reader_loc_chunk(r, k, msg, NULL) != 0) {
            fprintf(stderr, "verify_bound: %s: %s\n", argv[optind], msg);
            return 1;
        }
    for (uint32_t a = 0; a < r->n_arts; a++) {
        uint32_t loc[3];
        na_reader_loc_known(r, a, loc);
        uint32_t b = loc[0];
        if (b >= r->n_blocks) {
            fprintf(stderr, "verify_bound: %s: damaged index\n", argv[optind]);
            return 1;
        }
        first[b + 2]++;
    }
    for (uint32_t b = 0; b < r->n_blocks; b++) first[b + 2] += first[b + 1];
    for (uint32_t a = 0; a < r->n_arts; a++) {
        uint32_t loc[3];
        na_reader_loc_known(r, a, loc);
        uint64_t at = first[loc[0] + 1]++;
        span[at][0] = loc[1];
        span[at][1] = loc[2];
    }
    job j = {.r = r, .first = first, .span = (const uint32_t(*)[2])span, .n_items = 3 + (uint64_t)r->meta_n_frames + r->n_blocks};
    atomic_init(&j.next, 0);
    atomic_init(&j.sink, 0);
    na_run_threads(threads, work, &j);
    printf("%.3f\n", now() - t0);
    free(first);
    free(span);
    newsarc_reader_free(r);
    return 0;
}
