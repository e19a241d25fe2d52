/* sign_cli.h - the CLI's side of signing: key files, passwords, reports. */
#ifndef NEWSARC_SIGN_CLI_H
#define NEWSARC_SIGN_CLI_H

#include "newsarc.h"
#include "sign.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sign_cli_ctx {
    na_seckey sk;
    char keyid_hex[17];
} sign_cli_ctx;

/* Load a minisign secret key (password from $NEWSARC_PASSWORD or the terminal). 0 or -1 with a message. */
int sign_cli_load(sign_cli_ctx *c, const char *path);
void sign_cli_free(sign_cli_ctx *c);
/* newsarc_sign_fn: minisign signature over the manifest, deterministic trusted comment. */
int sign_cli_callback(void *ctx, const uint8_t *manifest, size_t len, char *out, size_t cap, size_t *out_len);
/* Load a minisign public key file. 0 or -1 with a message. */
int sign_cli_load_pubkey(na_pubkey *pk, const char *path);
/*
 * After an intact verify: describe the signature into desc and, with pk,
 * check it.  Returns the exit code (1 when pk is given and the archive is
 * unsigned or not signed by pk).
 */
int sign_cli_verify_report(newsarc_reader *r, const na_pubkey *pk, const char *path, char *desc, size_t cap);

#endif
