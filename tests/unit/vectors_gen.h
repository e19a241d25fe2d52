/* vectors_gen.h - the inputs of the golden test vectors in spec/vectors/. */
#ifndef NEWSARC_VECTORS_GEN_H
#define NEWSARC_VECTORS_GEN_H

#include "testutil.h"

#define VG_COUNT 5
#define VG_SIGNED 4 /* index of the signed vector */

/* Name of vector i ("minimal", ...). */
const char *vg_name(int i);
/* The public key (minisign .pub text) of the signed vector; malloc'd, NULL on failure. */
char *vg_signed_pubkey(size_t *len);
/* Build vector i; 0 or a newsarc error code. */
int vg_build(int i, tu_buf *out);

#endif
