/* vectors_gen.h - the inputs of the golden test vectors in spec/vectors/. */
#ifndef NEWSARC_VECTORS_GEN_H
#define NEWSARC_VECTORS_GEN_H

#include "testutil.h"

#define VG_COUNT 4

/* Name of vector i ("minimal", ...). */
const char *vg_name(int i);
/* Build vector i; 0 or a newsarc error code. */
int vg_build(int i, tu_buf *out);

#endif
