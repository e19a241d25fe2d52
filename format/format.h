/*
 * format.h - the on-disk constants of newsarc v1 and pure encoders/decoders
 * of its fixed structures (spec/FORMAT.md).  No I/O, no allocation except
 * where noted; every decoder checks sizes before reading.  Internal: not
 * part of the public API.
 */
#ifndef NEWSARC_FORMAT_H
#define NEWSARC_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define NA_FRAME_MAGIC 0x184D2A5Au /* zstd skippable frame, nibble A */
#define NA_FRAME_HDR 8u            /* magic + payload length */
#define NA_TYPE_SIZE 4u

#define NA_FILE_MAGIC "newsarc\n"
#define NA_TAIL_MAGIC "NWSA"

#define NA_HEAD_PAYLOAD 24u
#define NA_HEAD_FRAME (NA_FRAME_HDR + NA_HEAD_PAYLOAD)

#define NA_SIGN_PAYLOAD 1024u
#define NA_SIGN_FRAME (NA_FRAME_HDR + NA_SIGN_PAYLOAD)
#define NA_SIGN_TEXT_MAX (NA_SIGN_PAYLOAD - 8u)

#define NA_TOC_ENTRY 24u
#define NA_FOOT_FIXED 60u /* payload bytes besides the TOC entries */
#define NA_FOOT_TAIL 40u  /* checksum + frame length + tail magic */
#define NA_SECTIONS_V1 8u
#define NA_FOOT_FRAME_V1 (NA_FRAME_HDR + NA_FOOT_FIXED + NA_TOC_ENTRY * NA_SECTIONS_V1)
#define NA_MAX_SECTIONS 64u

#define NA_BLOCK_REC 48u
#define NA_ID_REC 32u         /* one id in the INDX id table */
#define NA_LOC_REC 12u         /* one location (block, offset, length) decoded */
#define NA_LOC_CHUNK 4096u     /* locations per INDX location chunk */
#define NA_LOC_CHUNK_REC 4u    /* one location chunk directory record */
#define NA_INDX_FIXED 16u
#define NA_META_FIXED 24u     /* META payload before the frame directory */
#define NA_META_FRAME_REC 16u /* one frame directory record */

/* limits (spec/FORMAT.md, "Limits") */
#define NA_MAX_ARTICLE ((uint64_t)1 << 30)
#define NA_MAX_BLOCK_CONTENT ((uint64_t)1 << 30)
#define NA_MAX_NAME 4096u
#define NA_MAX_KEY 1024u
#define NA_MAX_KEYS 4096 /* distinct text member names one writer accepts */
#define NA_MAX_CHARSETS 1024 /* distinct charset names in an attr section */
#define NA_MAX_META (16u << 20)
#define NA_MAX_DICT (16u << 20) /* dictionary-size */
#define NA_MAX_META_TABLE ((uint64_t)1 << 32)
#define NA_MAX_MANIFEST (1u << 20)
/* A zstd block holds at most 128 KiB and costs at least 4 bytes (an RLE
 * block), so no frame expands more than 32768-fold: a larger claim is a lie
 * and is refused before any memory is allocated for it. */
#define NA_MAX_EXPANSION 32768u

#define NA_HASH 32u

enum na_section {
    NA_S_HEAD = 0,
    NA_S_DICT,
    NA_S_BLKS,
    NA_S_META,
    NA_S_INDX,
    NA_S_MANI,
    NA_S_SIGN,
    NA_S_FOOT,
    NA_S_COUNT
};

extern const char na_section_types[NA_S_COUNT][5];

/* ---- little-endian helpers --------------------------------------------- */

static inline uint16_t na_ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t na_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t na_ld64(const uint8_t *p) { return (uint64_t)na_ld32(p) | ((uint64_t)na_ld32(p + 4) << 32); }
static inline void na_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void na_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void na_st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- structures ---------------------------------------------------------- */

typedef struct na_toc_entry {
    char type[5];
    uint32_t flags;
    uint64_t offset;
    uint64_t length;
} na_toc_entry;

typedef struct na_footer {
    uint16_t major, minor;
    uint32_t count;
    na_toc_entry toc[NA_MAX_SECTIONS];
    uint64_t file_length;
    uint8_t checksum[NA_HASH];
    uint32_t frame_length;
} na_footer;

typedef struct na_block_rec {
    uint64_t offset;
    uint32_t csize, usize;
    uint8_t hash[NA_HASH];
} na_block_rec;

typedef struct na_article_rec {
    uint8_t id[NA_HASH];
    uint32_t block, offset, length;
} na_article_rec;

typedef struct na_manifest {
    unsigned fmt_major, fmt_minor;
    char zstd_version[32];
    int level;
    uint64_t block_size, dict_size;
    uint64_t articles, entries, blocks, file_length;
    na_toc_entry sec[NA_S_COUNT];
    uint8_t sec_hash[NA_S_COUNT][NA_HASH]; /* zero for MANI, SIGN, FOOT */
    uint8_t root[NA_HASH];
    /* optional (lowercase) sections of a later minor version, in TOC order;
     * after[i] is NA_S_META or NA_S_INDX: the section they follow */
    uint32_t n_opt;
    na_toc_entry opt[NA_MAX_SECTIONS - NA_S_COUNT];
    uint8_t opt_hash[NA_MAX_SECTIONS - NA_S_COUNT][NA_HASH];
    uint8_t opt_after[NA_MAX_SECTIONS - NA_S_COUNT];
} na_manifest;

/* Write a skippable frame header + type (12 bytes). */
void na_frame_header(uint8_t out[12], uint32_t payload_len, const char type[4]);

/* HEAD frame (32 bytes). */
void na_head_encode(uint8_t out[NA_HEAD_FRAME]);
/* @return 0, or a static message describing the problem. */
const char *na_head_decode(const uint8_t *buf, size_t len, uint16_t *major, uint16_t *minor);
/* After na_head_decode or na_footer_decode failed: is the problem a version
 * or feature this reader does not know (rather than damage)? */
int na_head_unsupported(const uint8_t *buf, size_t len);

/* FOOT frame: out must hold na_footer_frame_size(count). Checksum is written by caller. */
size_t na_footer_frame_size(uint32_t count);
void na_footer_encode(uint8_t *out, const na_footer *f);
/* Decode from the whole file; returns NULL or a static message. */
const char *na_footer_decode(const uint8_t *file, uint64_t file_len, na_footer *f);

void na_block_encode(uint8_t out[NA_BLOCK_REC], const na_block_rec *b);
void na_block_decode(const uint8_t in[NA_BLOCK_REC], na_block_rec *b);
/* Location chunks (spec 4.5): m locations as 12 byte planes of m bytes
 * (byte j of field f of location k at (4f + j) * m + k; fields block,
 * offset, length; least significant byte first).  out/in hold 12 * m bytes. */
void na_locs_to_planes(uint8_t *out, const uint32_t (*loc)[3], size_t m);
void na_locs_from_planes(uint32_t (*loc)[3], const uint8_t *in, size_t m);
/* Location chunks of an index with n articles. */
static inline uint64_t na_loc_chunks(uint64_t n) { return (n + NA_LOC_CHUNK - 1) / NA_LOC_CHUNK; }

/*
 * Manifest text.  na_manifest_format writes at most cap bytes and returns
 * the length needed (like snprintf, without the NUL).
 */
size_t na_manifest_format(char *out, size_t cap, const na_manifest *m);
/* Parse the exact grammar; NULL or a static message. */
const char *na_manifest_parse(const uint8_t *text, size_t len, na_manifest *m);

/* Signature slot payload helpers. */
const char *na_sign_decode(const uint8_t *payload, size_t len, const uint8_t **text, size_t *text_len);

/* Hex helpers over libsodium's: lowercase only. */
void na_hex(char *out, const uint8_t *in, size_t n); /* writes 2n chars + NUL */
int na_unhex(uint8_t *out, const char *in, size_t n_bytes); /* 0 ok, -1 not exactly 2n lowercase hex digits */

#endif
