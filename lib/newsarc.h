/*
 * newsarc.h - the one public header of libnewsarc.
 *
 * newsarc archives hold articles as zstd-compressed, content-addressed
 * records (id = BLAKE2b-256 of the exact article bytes) with metadata, an
 * index sorted by id, a manifest that a signature covers, and a footer that
 * lets a reader start from the end.  The byte format is specified in
 * spec/FORMAT.md; this header is the C API.  Anything not declared here is
 * not API.
 *
 * Conventions
 *  - Every buffer travels with its length; article bytes are never assumed
 *    to be NUL-terminated.
 *  - Functions return an int error code (enum newsarc_error, 0 = ok); the
 *    handle keeps a human-readable message (newsarc_*_error()).
 *  - Handles are opaque, created by *_new / *_open and released by *_free,
 *    which accepts NULL.
 *  - A handle may be used by one thread at a time; distinct handles (also
 *    on the same file) may be used concurrently from different threads.
 *  - The library never prints and never exits.
 */
#ifndef NEWSARC_H
#define NEWSARC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NEWSARC_BUILDING) && defined(__GNUC__)
#define NEWSARC_API __attribute__((visibility("default")))
#else
#define NEWSARC_API
#endif

#if defined(__GNUC__)
#define NEWSARC_WUR __attribute__((warn_unused_result))
#else
#define NEWSARC_WUR
#endif

/* ---- versions ---------------------------------------------------------- */

#define NEWSARC_VERSION_MAJOR 0
#define NEWSARC_VERSION_MINOR 1
#define NEWSARC_VERSION_PATCH 0
#define NEWSARC_VERSION_NUMBER \
    (NEWSARC_VERSION_MAJOR * 10000 + NEWSARC_VERSION_MINOR * 100 + NEWSARC_VERSION_PATCH)
#define NEWSARC_VERSION_STRING "0.1.0"

/* The archive format version this library writes (spec/FORMAT.md). */
#define NEWSARC_FORMAT_MAJOR 1
#define NEWSARC_FORMAT_MINOR 0

/** @return NEWSARC_VERSION_NUMBER of the library actually linked. */
NEWSARC_API unsigned newsarc_version_number(void);
/** @return NEWSARC_VERSION_STRING of the library actually linked. */
NEWSARC_API const char *newsarc_version_string(void);

/* ---- errors ------------------------------------------------------------ */

enum newsarc_error {
    NEWSARC_OK = 0,
    NEWSARC_E_NOMEM = 1,       /* out of memory */
    NEWSARC_E_IO = 2,          /* read/write/open failed (errno kept in message) */
    NEWSARC_E_CORRUPT = 3,     /* the archive bytes are damaged or malformed */
    NEWSARC_E_NOTFOUND = 4,    /* no such article or entry */
    NEWSARC_E_ARG = 5,         /* invalid argument or option */
    NEWSARC_E_UNSUPPORTED = 6, /* a format version or feature this library does not know */
    NEWSARC_E_INPUT = 7,       /* bad input data given to the writer */
    NEWSARC_E_STATE = 8,       /* call not valid in the handle's current state */
    NEWSARC_E_AMBIGUOUS = 9,   /* an id prefix matches more than one article */
    NEWSARC_E_SIGNATURE = 10,  /* signature missing, malformed, or not by the trusted key */
    NEWSARC_E_LIMIT = 11,      /* a format limit would be exceeded */
    NEWSARC_E_COMPRESS = 12    /* zstd or dictionary training failed */
};

/** @return a static English description of an error code. */
NEWSARC_API const char *newsarc_strerror(int err);

#define NEWSARC_ID_SIZE 32 /* BLAKE2b-256 */
#define NEWSARC_NORM_ID_SIZE 16 /* norm_id: BLAKE2b-256 of the normalized text, first 16 bytes */
#define NEWSARC_ID_HEX_SIZE 64

/**
 * Compute an article id: BLAKE2b-256 of the exact bytes.
 * Same value as `b2sum -l 256`.
 */
NEWSARC_API void newsarc_article_id(uint8_t id[NEWSARC_ID_SIZE], const void *data, size_t len);

/** Write the 64 lowercase hex digits of id plus a NUL into hex[65]. */
NEWSARC_API void newsarc_id_to_hex(char hex[NEWSARC_ID_HEX_SIZE + 1], const uint8_t id[NEWSARC_ID_SIZE]);

/** Free memory returned by the library (article buffers). Accepts NULL. */
NEWSARC_API void newsarc_free(void *p);

/* ---- entries: what the writer takes and the reader gives back --------- */

/* Entry flags (spec/FORMAT.md, metadata section). */
#define NEWSARC_ENTRY_JSON 0x1u       /* entry came from a JSON object (meta holds its other fields) */
#define NEWSARC_ENTRY_TEXT_FIELD 0x2u /* the article is the string value of member text_key */
#define NEWSARC_ENTRY_WHOLE 0x4u      /* the article is the whole JSON object, bytes as given */
#define NEWSARC_ENTRY_KNOWN_FLAGS 0x7u

/**
 * One entry: a name and/or metadata pointing at one article.
 * All pointers borrow memory; lengths are byte counts.
 *  - name: file path relative to the input root, '/'-separated (may be empty)
 *  - meta: a compact JSON object (UTF-8) with the entry's metadata, or empty
 *  - text_key / text_pos: with NEWSARC_ENTRY_TEXT_FIELD, the member name the
 *    article text came from and its position among the object's members, so
 *    the original object can be rebuilt with the same member order.
 */
typedef struct newsarc_entry {
    uint32_t flags;
    const char *name;
    size_t name_len;
    const char *meta;
    size_t meta_len;
    const char *text_key;
    size_t text_key_len;
    uint32_t text_pos;
} newsarc_entry;

/* ---- writer ------------------------------------------------------------ */

typedef struct newsarc_writer newsarc_writer;

/** Writer options. Zero in any field means "the default". */
typedef struct newsarc_writer_options {
    int level;            /* zstd level, default 3, range 1..22 */
    int threads;          /* compression threads, default 1; output never depends on it */
    uint32_t block_size;  /* target uncompressed block size, default 131072 */
    uint32_t dict_size;   /* dictionary size; 0 = automatic (measures 112640, 28160 bytes and none,
                             keeps the smallest result); UINT32_MAX = no dictionary */
    int no_text_info;     /* 1 = no "attr" section (charset, norm_id, script per article) */
    uint32_t norm_options; /* NEWSARC_NORM_* bits for norm_id; 0 = the default normalization */
    uint64_t meta_memory; /* metadata bytes kept in memory while packing (then the compressed
                             META frames within what is left), and a quarter of it (1 MiB to
                             1 GiB) of placement keys (names, urls) per sorted run; the rest goes
                             to an unlinked temporary file in $TMPDIR (else /tmp) and is read back
                             once; 0 = 64 MiB, UINT64_MAX = never spill.  Output never depends on it */
} newsarc_writer_options;

/* Stronger normalizations for norm_id (spec/NORMALIZATION.md); recorded in the archive. */
#define NEWSARC_NORM_STRIP_DIACRITICS 0x1u
#define NEWSARC_NORM_UNIFY_ALEF_YEH 0x2u

/**
 * Fetch callback: the writer makes two passes (hash, then compress in the
 * canonical order), and in the second pass asks for an article's bytes
 * again by the locator given to newsarc_writer_add().  It must write exactly
 * len bytes to dst and return 0, or return non-zero on failure (the writer
 * then checks nothing further and fails with NEWSARC_E_IO).  The writer
 * re-hashes fetched bytes and fails with NEWSARC_E_INPUT if they changed.
 */
typedef int (*newsarc_fetch_fn)(void *ctx, uint64_t locator, void *dst, size_t len);

/**
 * Optional companion of the fetch callback: the second pass asks for the
 * articles of a block together, so that a caller can read them with one
 * system call (io_uring) instead of one each.  It must write exactly lens[i]
 * bytes of locators[i] to dsts[i] for every i < n and return 0, or return
 * non-zero (as the fetch callback).  Called from several threads at once.
 */
typedef int (*newsarc_fetch_many_fn)(void *ctx, size_t n, const uint64_t *locators, void *const *dsts,
                                     const size_t *lens);

/** Output callback: write all len bytes; return 0 on success. */
typedef int (*newsarc_write_fn)(void *ctx, const void *buf, size_t len);

/**
 * Signing callback used while finishing: given the manifest bytes, write a
 * signature text (minisign .minisig format) of at most cap bytes into out and
 * its length into *out_len; return 0 on success.
 */
typedef int (*newsarc_sign_fn)(void *ctx, const uint8_t *manifest, size_t manifest_len,
                               char *out, size_t cap, size_t *out_len);

/** Create a writer. opt may be NULL. @return NULL only when out of memory. */
NEWSARC_API newsarc_writer *newsarc_writer_new(const newsarc_writer_options *opt);
NEWSARC_API void newsarc_writer_free(newsarc_writer *w);
/** @return the last error message of this writer ("" if none). */
NEWSARC_API const char *newsarc_writer_error(const newsarc_writer *w);

/**
 * Set the fetch callback.  Without one, newsarc_writer_add() copies every
 * article into memory (fine for small archives and tests).
 */
NEWSARC_API int newsarc_writer_set_fetch(newsarc_writer *w, newsarc_fetch_fn fetch, void *ctx);
/** Set the batch fetch callback too (after newsarc_writer_set_fetch; its ctx is used). */
NEWSARC_API int newsarc_writer_set_fetch_many(newsarc_writer *w, newsarc_fetch_many_fn fetch_many);

/**
 * Add one entry and its article bytes.  The bytes are hashed now; with a
 * fetch callback they are not kept and are fetched again by locator later.
 * Entries may be added in any order: the archive does not depend on it.
 */
NEWSARC_API NEWSARC_WUR int newsarc_writer_add(newsarc_writer *w, const newsarc_entry *e,
                                               const void *article, size_t len, uint64_t locator);

/**
 * Add one JSON object (one JSON Lines line, without its line terminator).
 * The article is the string value of the first present member among
 * text_field (if not NULL) or "maintext", "text", "content", "body"; the
 * other members are the entry's metadata.  An object with none of them is
 * stored whole (the article is the exact line bytes).  With a fetch
 * callback, locator must later fetch the same line bytes (len of them).
 * @return NEWSARC_E_INPUT with a message if the line is not a JSON object.
 */
NEWSARC_API NEWSARC_WUR int newsarc_writer_add_json(newsarc_writer *w, const char *line, size_t len,
                                                    const char *text_field, uint64_t locator);

/**
 * Add n JSON lines as newsarc_writer_add_json() would, one after the other,
 * with the parsing and hashing spread over the writer's threads.  On the
 * first line that fails, returns its error (message on the handle) with
 * *done = the number of lines added before it; that line is lines[*done].
 */
NEWSARC_API NEWSARC_WUR int newsarc_writer_add_json_batch(newsarc_writer *w, const char *const *lines,
                                                          const size_t *lens, size_t n, const char *text_field,
                                                          const uint64_t *locators, size_t *done);

/**
 * Add n entries and their article bytes as newsarc_writer_add() would, one
 * after the other, with the hashing spread over the writer's threads
 * (files of a directory): entries, articles, lens and locators each hold n
 * items.  On the first entry that fails, returns its error (message on the
 * handle) with *done = the number added before it.
 */
NEWSARC_API NEWSARC_WUR int newsarc_writer_add_batch(newsarc_writer *w, const newsarc_entry *entries,
                                                     const void *const *articles, const size_t *lens, size_t n,
                                                     const uint64_t *locators, size_t *done);

/** @return entries added so far. */
NEWSARC_API size_t newsarc_writer_entry_count(const newsarc_writer *w);

/**
 * Build the archive and stream it through out in one pass.  sign may be
 * NULL (unsigned archive: the signature slot stays empty).  After finish
 * the writer accepts nothing more.
 */
NEWSARC_API NEWSARC_WUR int newsarc_writer_finish(newsarc_writer *w, newsarc_write_fn out, void *out_ctx,
                                                  newsarc_sign_fn sign, void *sign_ctx);

/** Archive id (BLAKE2b-256 of the manifest) after a successful finish. */
NEWSARC_API int newsarc_writer_archive_id(const newsarc_writer *w, uint8_t id[NEWSARC_ID_SIZE]);

/* ---- reader ------------------------------------------------------------ */

typedef struct newsarc_reader newsarc_reader;

typedef struct newsarc_info {
    uint16_t format_major, format_minor;
    uint64_t file_size;
    uint64_t article_count;    /* distinct articles */
    uint64_t entry_count;      /* names / metadata records */
    uint64_t block_count;
    uint64_t content_size;     /* sum of article sizes */
    uint64_t blocks_size;      /* compressed bytes of all blocks */
    uint64_t dict_size;        /* dictionary bytes (0 = none) */
    uint64_t meta_size;        /* metadata section bytes */
    uint64_t index_size;       /* index section bytes */
    int level;                 /* as recorded in the manifest */
    uint32_t block_size;       /* as recorded in the manifest */
    char zstd_version[32];     /* zstd version that wrote the archive */
    uint8_t archive_id[NEWSARC_ID_SIZE];
    uint8_t root_hash[NEWSARC_ID_SIZE];
    int signed_;               /* 1 if the signature slot is filled */
    uint64_t dict_section_size; /* DICT section bytes (the dictionary is stored compressed) */
    uint64_t text_info_size;    /* attr section bytes (0 = no text information) */
    uint64_t other_size;        /* the rest: header, manifest, signature slot, footer, optional sections this version does not know */
} newsarc_info;

typedef struct newsarc_article_info {
    uint8_t id[NEWSARC_ID_SIZE];
    uint64_t size;
    uint32_t block;
} newsarc_article_info;

/**
 * Open an archive file (mmap, read-only).  Checks the footer, the table of
 * sections, the header, the index tables' structure and bounds, and the
 * manifest's agreement with the footer; it does not hash anything (see
 * newsarc_reader_verify).  On failure *out is still set (unless NOMEM) so
 * the message can be read with newsarc_reader_error(); free it.
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_open(newsarc_reader **out, const char *path);
/** Same over a caller-owned buffer that must outlive the reader. */
NEWSARC_API NEWSARC_WUR int newsarc_reader_open_mem(newsarc_reader **out, const void *buf, size_t len);
NEWSARC_API void newsarc_reader_free(newsarc_reader *r);
NEWSARC_API const char *newsarc_reader_error(const newsarc_reader *r);

NEWSARC_API int newsarc_reader_info(newsarc_reader *r, newsarc_info *info);
NEWSARC_API uint64_t newsarc_reader_article_count(const newsarc_reader *r);
NEWSARC_API uint64_t newsarc_reader_entry_count(const newsarc_reader *r);

/** Article by index in id order (0 .. article_count-1). */
NEWSARC_API int newsarc_reader_article(newsarc_reader *r, uint64_t index, newsarc_article_info *out);

/** Find an article by full id. @return NEWSARC_E_NOTFOUND if absent. */
NEWSARC_API NEWSARC_WUR int newsarc_reader_find_id(newsarc_reader *r, const uint8_t id[NEWSARC_ID_SIZE],
                                                   uint64_t *index);

/**
 * Resolve a selector: 64 hex digits (full id), an exact entry name, or a
 * unique id prefix of at least 8 hex digits, tried in that order.
 * @return NEWSARC_E_NOTFOUND, NEWSARC_E_AMBIGUOUS or 0.
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_select(newsarc_reader *r, const char *selector, size_t len,
                                                  uint64_t *article_index);

/**
 * Read an article's exact bytes (decompresses one block).  *data is
 * allocated; release with newsarc_free().  The bytes are checked against the
 * id before they are returned (NEWSARC_E_CORRUPT if they do not match).
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_read(newsarc_reader *r, uint64_t index, void **data, size_t *len);

/**
 * Cursors read articles from several threads over one open reader: each
 * has its own decompression context and block cache and only reads the
 * reader's tables, so different cursors of one reader may be used at the
 * same time from different threads (one thread per cursor), also while the
 * reader's thread keeps using the reader.  Free every cursor before the
 * reader.  newsarc_cursor_new is called on the reader's thread.
 */
typedef struct newsarc_cursor newsarc_cursor;
NEWSARC_API NEWSARC_WUR int newsarc_cursor_new(newsarc_reader *r, newsarc_cursor **out);
NEWSARC_API void newsarc_cursor_free(newsarc_cursor *c);
/**
 * An article's exact bytes, checked against its id, without a copy: *data
 * points into the cursor's block and stays valid until the next read on
 * this cursor.  Errors as newsarc_reader_read; the message is
 * newsarc_cursor_error(c).
 */
NEWSARC_API NEWSARC_WUR int newsarc_cursor_read(newsarc_cursor *c, uint64_t index, const void **data, size_t *len);
NEWSARC_API const char *newsarc_cursor_error(const newsarc_cursor *c);

/**
 * Entry by position in canonical order (0 .. entry_count-1). Pointers live as
 * long as r.  Entries are stored in frames of about 256 KiB that are
 * decompressed when first used; to go through all of them, call
 * newsarc_reader_load_entries first.
 */
NEWSARC_API int newsarc_reader_entry(newsarc_reader *r, uint64_t i, newsarc_entry *e, uint64_t *article_index);
/**
 * Decompress and check every entry now, on `threads` threads (1 or more; the
 * result does not depend on it).  Optional: newsarc_reader_entry loads what
 * it needs; this is faster for a walk over all entries.  Errors as
 * newsarc_reader_entry (NEWSARC_E_CORRUPT for a damaged table).
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_load_entries(newsarc_reader *r, int threads);

/**
 * Rebuild an entry as one compact JSON object (no trailing newline) given its
 * article bytes: JSON entries give back their original object (same members
 * in the same order; WHOLE entries their exact bytes); file entries give
 * {"name": ..., "text": ...}, or "text_base64" when the bytes are not UTF-8.
 * *out is allocated; release with newsarc_free().
 */
NEWSARC_API NEWSARC_WUR int newsarc_entry_to_json(const newsarc_entry *e, const void *article, size_t len,
                                                  char **out, size_t *out_len);

/** What the archive records about an article's text (optional "attr" section). */
typedef struct newsarc_text_info {
    int present;                /* 0: not recorded (older writer, --no-text-info, or too large) */
    int valid_utf8;             /* the bytes are valid UTF-8 */
    int clean;                  /* decoding with decoded_as substitutes nothing */
    const char *declared;       /* charset declared by a BOM, XML or HTML meta tag, "" if none */
    const char *declared_by;    /* "bom", "xml", "meta" or "" */
    const char *detected;       /* ICU's detector result, "" if not run */
    int confidence;             /* the detector's confidence 0..100 */
    const char *decoded_as;     /* the charset newsarc decodes the text with (--utf8) */
    const char *reason;         /* why: "empty", "bom", "utf16/32", "ascii", "iso-2022", "utf-8",
                                   "declared", "hint", "detected", "fallback" */
    char script[5];             /* dominant ISO 15924 script ("Arab", "Latn", ...), "" if unknown */
    int has_norm_id;
    uint8_t norm_id[NEWSARC_NORM_ID_SIZE]; /* first 16 bytes of BLAKE2b-256 of the normalized text (spec/NORMALIZATION.md) */
} newsarc_text_info;

/**
 * Text information of an article (by index in id order).  Strings live as
 * long as r.  @return 0 (with present = 0 when none is recorded) or
 * NEWSARC_E_CORRUPT if the attr section is malformed.
 */
NEWSARC_API int newsarc_reader_text_info(newsarc_reader *r, uint64_t index, newsarc_text_info *out);

/** The NEWSARC_NORM_* options the archive's norm_ids were made with (0 if none recorded). */
NEWSARC_API uint32_t newsarc_reader_norm_options(newsarc_reader *r);

/** The manifest text (the signed bytes). Lives as long as r. */
NEWSARC_API const uint8_t *newsarc_reader_manifest(newsarc_reader *r, size_t *len);

/**
 * The signature text stored in the archive (minisign .minisig format), or
 * NULL with *len = 0 when the archive is unsigned.
 */
NEWSARC_API const char *newsarc_reader_signature(newsarc_reader *r, size_t *len);

/**
 * Stream a copy of the archive with sig (a minisign .minisig text over the
 * manifest, at most 1016 bytes; len 0 = unsigned) in its signature slot and
 * the footer checksum recomputed.  No other byte changes, so the archive id
 * stays the same.  The caller checks the signature and the archive first.
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_write_with_signature(newsarc_reader *r, const char *sig, size_t len,
                                                                newsarc_write_fn out, void *out_ctx);

/* Problems found by verify are reported one by one through this callback. */
typedef struct newsarc_problem {
    int code;               /* NEWSARC_E_CORRUPT, ... */
    const char *section;    /* "HEAD", "BLKS", "META", ... */
    int64_t block;          /* block number or -1 */
    int64_t article;        /* article index or -1 */
    const char *message;
} newsarc_problem;
typedef void (*newsarc_problem_fn)(void *ctx, const newsarc_problem *p);

/**
 * Full integrity check: the footer checksum, every section hash against the
 * manifest, every block hash, every block's decompression, every article's
 * id, the metadata's structure and order.  threads: 0 = 1.
 * @return 0 if intact, NEWSARC_E_CORRUPT if any problem was reported.
 */
NEWSARC_API NEWSARC_WUR int newsarc_reader_verify(newsarc_reader *r, int threads, newsarc_problem_fn cb,
                                                  void *cb_ctx);

#ifdef __cplusplus
}
#endif
#endif /* NEWSARC_H */
