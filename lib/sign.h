/*
 * sign.h - minisign-compatible keys and signatures (internal, not API).
 *
 * Reads and writes minisign's own text formats byte for byte, so that keys
 * made by `minisign -G` work here and keys and signatures made here work
 * with `minisign -V` / `minisign -S`.  The formats (all integers
 * little-endian, base64 = RFC 4648 with padding, one line each):
 *
 *   public key file   "untrusted comment: <text>\n" base64(pubkey blob) "\n"
 *     pubkey blob     "Ed" keyid[8] pk[32]                          (42 bytes)
 *   secret key file   "untrusted comment: <text>\n" base64(seckey blob) "\n"
 *     seckey blob     "Ed" kdf_alg[2] "B2" kdf_salt[32] opslimit u64
 *                     memlimit u64, then keyid[8] sk[64] chk[32] XORed
 *                     with scrypt(password, salt, opslimit, memlimit) when
 *                     kdf_alg = "Sc"; kdf_alg = 00 00 means not encrypted
 *                     (minisign -W).  chk = BLAKE2b-256("Ed" keyid sk).
 *                                                                  (158 bytes)
 *   signature file    "untrusted comment: <text>\n"
 *                     base64("ED" keyid[8] Ed25519(BLAKE2b-512(message))) "\n"
 *                     "trusted comment: <text>\n"
 *                     base64(Ed25519(signature[64] || trusted text)) "\n"
 *
 * Only prehashed signatures ("ED", minisign's default since 0.8) are
 * written and accepted; legacy "Ed" signatures (minisign -l) are rejected
 * with a message saying so.  The untrusted comment is, as in minisign,
 * not covered by any signature; the trusted comment is.
 *
 * Every function calls sodium_init() itself.  Functions taking err/errcap
 * write a one-line English message there on failure (err may be NULL).
 * Return values: 0 ok, else an enum newsarc_error code:
 *   NEWSARC_E_INPUT      malformed key text
 *   NEWSARC_E_SIGNATURE  signature malformed, by another key, or not valid
 *   NEWSARC_E_ARG        bad argument (comment with a line break, missing
 *                        or wrong password, buffer too small)
 *   NEWSARC_E_NOMEM      out of memory (also: scrypt could not get memory)
 *   NEWSARC_E_IO         libsodium could not be initialised
 * Thread safety: all functions are reentrant (no global state besides
 * libsodium's own initialisation).
 */
#ifndef NEWSARC_SIGN_H
#define NEWSARC_SIGN_H

#include "newsarc.h"

#include <stddef.h>
#include <stdint.h>

#define NA_KEYID_BYTES 8
#define NA_PK_BYTES 32
#define NA_SK_BYTES 64 /* libsodium layout: seed[32] || pk[32] */

/*
 * Longest comments minisign itself reads back (its line buffers are 1024
 * and 8192 bytes including prefix and line feed).  Comments may hold any
 * bytes but NUL, CR and LF.
 */
#define NA_UNTRUSTED_COMMENT_MAX 1003u
#define NA_TRUSTED_COMMENT_MAX 8173u

/*
 * scrypt limits of a key stored in a file are bounded before use, so that
 * a crafted key cannot make us allocate or compute without limit.  The
 * bounds are twice minisign's own values (OPSLIMIT/MEMLIMIT_SENSITIVE).
 */
#define NA_KDF_OPSLIMIT_MAX (2ull * 33554432ull)
#define NA_KDF_MEMLIMIT_MAX (2ull * 1073741824ull)

/* Sizes of the texts, useful for fixed buffers. */
#define NA_PUBKEY_B64_LEN 56u  /* base64 of the 42-byte blob, no NUL */
#define NA_SECKEY_B64_LEN 212u /* base64 of the 158-byte blob */
#define NA_SIG_B64_LEN 100u    /* base64 of "ED" keyid sig (74 bytes) */
#define NA_GSIG_B64_LEN 88u    /* base64 of the 64-byte global signature */

typedef struct na_pubkey {
    uint8_t keyid[NA_KEYID_BYTES];
    uint8_t pk[NA_PK_BYTES];
} na_pubkey;

/* Secret: wipe with na_seckey_wipe() (sodium_memzero) when done. */
typedef struct na_seckey {
    uint8_t keyid[NA_KEYID_BYTES];
    uint8_t sk[NA_SK_BYTES];
} na_seckey;

/** Zero a secret key (sodium_memzero). Accepts NULL. */
void na_seckey_wipe(na_seckey *sk);

/**
 * The key id as minisign prints it: the 8 bytes read as a little-endian
 * u64, 16 uppercase hex digits ("E7D2BDAD52998B9D"), plus a NUL.
 */
void na_keyid_hex(char out[17], const uint8_t keyid[NA_KEYID_BYTES]);

/** A fresh key pair with a random key id. @return 0 or NEWSARC_E_IO. */
int na_keypair_generate(na_pubkey *pk, na_seckey *sk);

/** The public half of a secret key (pk = sk[32..64], same key id). */
void na_seckey_pubkey(const na_seckey *sk, na_pubkey *pk);

/**
 * Secret key file text.  password NULL: not encrypted (like minisign -W),
 * otherwise scrypt-encrypted with minisign's parameters (opslimit
 * 33554432, memlimit 1 GiB, halved while memory is refused, as minisign
 * does: takes seconds on purpose).  comment NULL = "newsarc encrypted
 * secret key" / "newsarc secret key".  Unencrypted keys carry a valid
 * checksum (minisign -W leaves it zero; both forms are read back).
 * *out_text (malloc, NUL-terminated, *out_len bytes without the NUL) is
 * secret when not encrypted: the caller wipes and frees it.
 */
int na_seckey_encode(const na_seckey *sk, const char *password, const char *comment, char **out_text,
                     size_t *out_len, char *err, size_t errcap);

/**
 * na_seckey_encode() with explicit scrypt limits (0 = minisign's
 * defaults); limits above NA_KDF_*_MAX or below libsodium's minimum are
 * refused (NEWSARC_E_ARG).  For tests and for fast throw-away keys.
 */
int na_seckey_encode_kdf(const na_seckey *sk, const char *password, const char *comment, uint64_t opslimit,
                         uint64_t memlimit, char **out_text, size_t *out_len, char *err, size_t errcap);

/**
 * Whether a secret key text needs a password: 1 encrypted, 0 not,
 * negative (-NEWSARC_E_INPUT) if the text is not a minisign secret key.
 */
int na_seckey_is_encrypted(const char *text, size_t len);

/**
 * Read a secret key file text (minisign format, LF or CRLF line ends).
 * password may be NULL for an unencrypted key (and is ignored for one).
 * A wrong password is detected by the checksum: NEWSARC_E_ARG with
 * "wrong password"; an encrypted key without password: NEWSARC_E_ARG.
 * The decrypted key is also checked for consistency (its public half is
 * derived from the seed again).  On failure *sk is zeroed.
 */
int na_seckey_decode(const char *text, size_t len, const char *password, na_seckey *sk, char *err,
                     size_t errcap);

/**
 * Public key file text: "untrusted comment: minisign public key <KEYID>\n"
 * then the base64 line, as minisign -G writes it.  *out_text is malloc'd
 * and NUL-terminated (*out_len without the NUL).
 * @return 0, NEWSARC_E_NOMEM or NEWSARC_E_IO.
 */
int na_pubkey_encode(const na_pubkey *pk, char **out_text, size_t *out_len);

/**
 * Read a public key: a minisign .pub file text, or the bare base64 string
 * that `minisign -P` takes (surrounding blanks and line breaks allowed).
 * The file form must be exactly two lines.  @return 0 or NEWSARC_E_INPUT.
 */
int na_pubkey_decode(const char *text, size_t len, na_pubkey *pk, char *err, size_t errcap);

/**
 * Sign msg: a minisign .minisig text (prehashed "ED" form), written to out
 * (cap bytes; also NUL-terminated when cap > *out_len).  Deterministic: the
 * same key, message and comments always give the same bytes.
 * trusted_comment NULL = empty; untrusted_comment NULL = "signature from
 * newsarc secret key".  The result is checked against the key's public
 * half before returning.
 * @return 0, NEWSARC_E_ARG (comment too long or with a line break),
 * NEWSARC_E_LIMIT (cap too small; *out_len = size needed), NEWSARC_E_IO.
 */
int na_sign(const na_seckey *sk, const uint8_t *msg, size_t len, const char *trusted_comment,
            const char *untrusted_comment, char *out, size_t cap, size_t *out_len, char *err, size_t errcap);

/**
 * Verify a .minisig text over msg with pk, exactly: four lines ("\n" or
 * "\r\n", the last one's line break optional), nothing after them, the
 * prefixes, canonical base64 of the exact sizes, algorithm "ED", key id
 * equal to pk's, both Ed25519 signatures.  On success copies the trusted
 * comment (NUL-terminated) to trusted_comment_out when it is not NULL; it
 * needs up to NA_TRUSTED_COMMENT_MAX + 1 bytes (a smaller tc_cap that does
 * not fit gives NEWSARC_E_ARG).  Nothing is copied unless verified.
 * @return 0, NEWSARC_E_SIGNATURE, NEWSARC_E_ARG, NEWSARC_E_IO.
 */
NEWSARC_WUR int na_verify(const na_pubkey *pk, const uint8_t *msg, size_t len, const char *sig_text,
                          size_t sig_len, char *trusted_comment_out, size_t tc_cap, char *err, size_t errcap);

/**
 * The key id a .minisig text claims, after the same format checks as
 * na_verify() (no cryptographic check: for messages such as "signed by
 * key ...").  @return 0 or NEWSARC_E_SIGNATURE.
 */
int na_sig_keyid(const char *sig_text, size_t sig_len, uint8_t keyid[NA_KEYID_BYTES], char *err, size_t errcap);

#endif
