/*
 * text.h - what ICU can tell about an article's text.  Internal, not API.
 *
 * newsarc stores every article's original bytes; this module only looks at
 * them: which charset they are in, a normalized-text id (norm_id) that is the
 * same for trivially different copies, the dominant script, and a MinHash
 * signature for near-duplicate search.  Nothing here changes stored bytes.
 *
 * Conventions (as in newsarc.h): buffers travel with their length and are
 * never assumed NUL-terminated; functions return 0 or an enum newsarc_error
 * code (NEWSARC_E_ARG, NEWSARC_E_NOMEM, NEWSARC_E_UNSUPPORTED for a charset
 * ICU does not know, NEWSARC_E_LIMIT for input over NA_TEXT_MAX_INPUT).
 * All functions are thread-safe: what they keep between calls is per thread
 * (ICU's answers about charset labels) or built once (per-character tables).
 * The exact normalization behind norm_id is specified in spec/NORMALIZATION.md.
 */
#ifndef NEWSARC_TEXT_H
#define NEWSARC_TEXT_H

#include "newsarc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest input any function here accepts (bytes); keeps ICU's int32 lengths safe. */
#define NA_TEXT_MAX_INPUT ((size_t)1 << 27)

/* How much of the buffer is searched for an XML/HTML charset declaration. */
#define NA_TEXT_DECL_SCAN 4096
/* How much of the buffer is given to ICU's charset detector. */
#define NA_TEXT_DETECT_MAX 65536

/* Charset names: NUL-terminated, at most NA_CHARSET_NAME - 1 bytes. */
#define NA_CHARSET_NAME 48

/* Where a declared charset came from. */
typedef enum na_decl_source {
    NA_DECL_NONE = 0,
    NA_DECL_BOM = 1,  /* byte order mark */
    NA_DECL_XML = 2,  /* <?xml ... encoding="..."?> */
    NA_DECL_META = 3, /* <meta charset=...> or <meta http-equiv=Content-Type content="...; charset=..."> */
} na_decl_source;

/* Why na_charset_info.chosen was chosen. */
typedef enum na_charset_reason {
    NA_CHOSE_EMPTY = 0,     /* empty buffer: UTF-8 */
    NA_CHOSE_BOM = 1,       /* byte order mark */
    NA_CHOSE_UTF16_32 = 2,  /* no BOM, but the zero-byte pattern of UTF-16/32 and a clean decode */
    NA_CHOSE_ASCII = 3,     /* only bytes < 0x80 (and no ISO-2022 escapes): UTF-8 */
    NA_CHOSE_ISO2022 = 4,   /* 7-bit with ISO-2022 designator escapes that decode cleanly */
    NA_CHOSE_UTF8 = 5,      /* valid UTF-8 with non-ASCII characters, or UTF-8 with rare damage */
    NA_CHOSE_DECLARED = 6,  /* the declared charset (or its superset) decodes cleanly */
    NA_CHOSE_HINT = 7,      /* the source's usual charset: a plausible candidate close to the best */
    NA_CHOSE_DETECTED = 8,  /* the best clean and plausible candidate (detector, defaults) */
    NA_CHOSE_FALLBACK = 9,  /* nothing is clean and plausible; decoding may substitute U+FFFD */
} na_charset_reason;

typedef struct na_charset_info {
    bool valid_utf8;                     /* the whole buffer is well-formed UTF-8 */
    bool ascii_only;                     /* every byte < 0x80 */
    bool has_bom;                        /* starts with a UTF-8/16/32 byte order mark */
    na_decl_source declared_source;      /* NA_DECL_NONE if nothing declared */
    char declared_label[NA_CHARSET_NAME]; /* the label as written (truncated), "" if none */
    char declared[NA_CHARSET_NAME];      /* canonical name of that label, "" if none or unknown to ICU */
    bool declared_clean;                 /* declared (or its superset) decodes the whole buffer cleanly */
    char detected[NA_CHARSET_NAME];      /* ICU detector's best guess, canonical; "" if not run/none */
    int32_t detected_confidence;         /* 0..100; 0 if not run */
    char chosen[NA_CHARSET_NAME];        /* canonical name to decode with; never "" on success */
    na_charset_reason reason;
    bool chosen_clean;                   /* decoding with chosen substitutes nothing (legacy: and gives no NUL/C1) */
} na_charset_info;

/**
 * Decide which charset to decode buf with.  Evidence, strongest first:
 *  1. a BOM;
 *  2. the zero-byte pattern of UTF-16/32 (no BOM) with a clean decode;
 *  3. only ASCII: UTF-8 (ISO-2022-JP/KR/CN if their escapes are present);
 *  4. valid UTF-8, or UTF-8 with rare damage (>= 8 multi-byte sequences and
 *     >= 10 per invalid byte: chosen_clean is then false);
 *  5. a declaration (XML or HTML meta in the first NA_TEXT_DECL_SCAN bytes)
 *     that decodes cleanly;
 *  6. candidates: ICU's detector (run on the words holding non-ASCII bytes,
 *     at most NA_TEXT_DETECT_MAX bytes), windows-1252, the single-byte
 *     charsets ICU models, and ones it does not (IBM866, x-mac-cyrillic,
 *     macintosh, windows-874, ...; scored by transcoding to a modelled
 *     sibling).  A candidate must decode cleanly and, when single-byte or
 *     without detector evidence, give plausible words (no symbols inside
 *     words, no mixed scripts or "moЯ" case).  The best detector confidence
 *     wins; source_hint_charset (what other articles of the same source use,
 *     may be NULL) wins if it is a candidate within 10 points of the best.
 *  7. nothing clean: declared, hint, detected or windows-1252, with
 *     substitutions (reason NA_CHOSE_FALLBACK).
 * "Cleanly" = no illegal or unassigned byte sequence and no decoded U+0000 or
 * C1 control.  Legacy labels are widened to the superset browsers use
 * (ISO-8859-1/ASCII -> windows-1252, GB2312/GBK -> GB18030, EUC-KR ->
 * windows-949, ISO-8859-9 -> windows-1254, TIS-620 -> windows-874).
 * Names are canonical: the preferred MIME name, else IANA, else ICU's.
 * Deterministic for a given ICU version; the numeric values of
 * na_decl_source and na_charset_reason are stable (archives store them).
 * @return 0, NEWSARC_E_ARG, NEWSARC_E_NOMEM or NEWSARC_E_LIMIT.
 */
NEWSARC_WUR int na_text_charset(const uint8_t *buf, size_t len, const char *source_hint_charset,
                                na_charset_info *out);

/**
 * Decode buf from charset to UTF-8 with ICU.  Never fails on bad bytes: each
 * illegal or unassigned sequence becomes U+FFFD and *substituted (may be NULL)
 * is set.  One leading U+FEFF (a byte order mark) is removed.  *out is
 * malloc'd, NUL-terminated (the NUL not counted in *out_len); caller frees.
 * @return 0, NEWSARC_E_ARG, NEWSARC_E_UNSUPPORTED (unknown charset),
 *         NEWSARC_E_NOMEM or NEWSARC_E_LIMIT.
 */
NEWSARC_WUR int na_text_to_utf8(const uint8_t *buf, size_t len, const char *charset, char **out, size_t *out_len,
                                bool *substituted);

/* norm_id options (spec/NORMALIZATION.md).  0 = the default normalization. */
#define NA_NORM_STRIP_DIACRITICS 0x1u /* remove Latin/Greek/Cyrillic accents, Hebrew points, Arabic harakat */
#define NA_NORM_UNIFY_ALEF_YEH 0x2u   /* Arabic-script letter variants: alef forms, yeh forms, keheh */
#define NA_NORM_KNOWN 0x3u

#define NA_NORM_ID_SIZE 16 /* NEWSARC_NORM_ID_SIZE */

/**
 * The normalized text of buf (decoded from charset, or from the charset
 * na_text_charset chooses when charset is NULL), in UTF-8, as defined in
 * spec/NORMALIZATION.md.  *out is malloc'd and NUL-terminated; caller frees.
 * @return 0, NEWSARC_E_ARG (also for unknown option bits), NEWSARC_E_UNSUPPORTED,
 *         NEWSARC_E_NOMEM or NEWSARC_E_LIMIT.
 */
NEWSARC_WUR int na_text_normalize(const uint8_t *buf, size_t len, const char *charset, uint32_t options, char **out,
                                  size_t *out_len);
/* The same, and *unchanged = true when the normalized text is certainly the
 * input bytes (only the fast path says so; false says nothing). */
NEWSARC_WUR int na_text_normalize_ex(const uint8_t *buf, size_t len, const char *charset, uint32_t options,
                                     char **out, size_t *out_len, bool *unchanged);
/* na_text_normalize_ex and na_text_script of its output (script "" where
 * that would fail): in one pass over the text when the fast path normalizes it. */
NEWSARC_WUR int na_text_normalize_script(const uint8_t *buf, size_t len, const char *charset, uint32_t options,
                                         char **out, size_t *out_len, bool *unchanged, char script[16]);
/* The same through ICU only, without the fast path (for tests that compare them). */
NEWSARC_WUR int na_text_normalize_icu(const uint8_t *buf, size_t len, const char *charset, uint32_t options,
                                      char **out, size_t *out_len);

/* The normalization fast path's 32-byte runs (AVX2): level 0 per character
 * only, 1 with them where the CPU has AVX2, -1 only asks.  Returns what is
 * used now.  For the tests: both give the same results. */
int na_text_simd(int level);

/* Whether a text decodes cleanly in a single-byte charset is read from a
 * table of the charset's 256 bytes (built once per thread) and the set of
 * bytes the text has: 1 on (the default), 0 a whole decoding by ICU each
 * time, -1 only asks.  For the tests: both give the same answers. */
int na_text_byte_tables(int on);

/**
 * norm_id = BLAKE2b-256 of na_text_normalize's output, into out.  Copies
 * that differ only in charset, Unicode normalization form, line endings,
 * whitespace runs, tatweel or BOMs get the same id.  Pass the charset
 * explicitly (e.g. the recorded one) for ids that stay stable across library
 * versions; NULL uses na_text_charset, a heuristic that may improve.
 */
NEWSARC_WUR int na_text_norm_id(const uint8_t *buf, size_t len, const char *charset, uint32_t options,
                                uint8_t out[NA_NORM_ID_SIZE]);

/**
 * Dominant script of UTF-8 text (invalid sequences skipped): the ISO 15924
 * code of the script (ICU uscript_getScript) that most letters (general
 * category L*) belong to, Common/Inherited/Unknown ignored; ties go to the
 * script seen first.  "Zyyy" when there are no such letters.  out gets a
 * NUL-terminated code such as "Arab", "Latn", "Cyrl", "Hani", "Hira".
 * @return 0, NEWSARC_E_ARG or NEWSARC_E_LIMIT.
 */
NEWSARC_WUR int na_text_script(const uint8_t *utf8, size_t len, char out[16]);

/* Largest signature na_text_minhash computes. */
#define NA_MINHASH_MAX_K 4096

/**
 * MinHash signature of UTF-8 text for near-duplicate search.  The text
 * (invalid UTF-8 read as U+FFFD) is put in NFC, fully case-folded and put in
 * NFC again; tokens are the segments of ICU's root-locale word break iterator
 * whose rule status is not UBRK_WORD_NONE (words, numbers, ideographs, kana).
 * token hash = mix64(FNV-1a-64 of its UTF-16 code units, low byte first);
 * shingles are 3 consecutive tokens (a text with 1-2 tokens has one shingle of
 * all of them), shingle hash h = mix64(mix64(mix64(t1) + t2) + t3); sig[i] is
 * the minimum over shingles of mix64(h ^ seed_i), seed_i = mix64(golden *
 * (i + 1)), mix64 = the SplitMix64 finalizer.  No random state: signatures
 * are identical across runs and machines (for one ICU version's word
 * breaking).  A text without tokens gets all UINT64_MAX.  Use the output of
 * na_text_normalize for tatweel/whitespace insensitivity.
 * @param k number of values, 1..NA_MINHASH_MAX_K
 * @return 0, NEWSARC_E_ARG, NEWSARC_E_NOMEM or NEWSARC_E_LIMIT.
 */
NEWSARC_WUR int na_text_minhash(const char *utf8, size_t len, uint32_t k, uint64_t *sig);

/** Estimated Jaccard similarity: fraction of equal positions (0.0 if k == 0). */
double na_minhash_similarity(const uint64_t *a, const uint64_t *b, uint32_t k);

#endif
