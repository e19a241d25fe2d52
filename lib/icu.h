/*
 * icu.h - ICU, loaded when first needed.  Not API.
 *
 * Linking ICU (and the C++ runtime it brings) costs every process about
 * 1.2 ms of start-up on the reference machine, which is most of what `cat`
 * of one article costs.  Only text information (pack), --utf8 output and
 * near-duplicate search need ICU, so libnewsarc opens it with dlopen on
 * first use, from the same major version the headers came from.  The table
 * holds one pointer per ICU function used; its members carry ICU's
 * version-renamed names (ucnv_open is ucnv_open_72 after unicode/urename.h),
 * so na_icu.ucnv_open(...) reads like the plain call.
 */
#ifndef NEWSARC_ICU_H
#define NEWSARC_ICU_H

#include "internal.h"

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ucsdet.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

#define NA_ICU_FUNCTIONS(X)                                                                                            \
    X(u_charType)                                                                                                      \
    X(u_getIntPropertyValue)                                                                                           \
    X(u_isUWhiteSpace)                                                                                                 \
    X(u_strFoldCase)                                                                                                   \
    X(u_strFromUTF8WithSub)                                                                                            \
    X(u_strToUTF8WithSub)                                                                                              \
    X(ubrk_close)                                                                                                      \
    X(ubrk_first)                                                                                                      \
    X(ubrk_getRuleStatus)                                                                                              \
    X(ubrk_next)                                                                                                       \
    X(ubrk_open)                                                                                                       \
    X(ucnv_cbToUWriteUChars)                                                                                           \
    X(ucnv_close)                                                                                                      \
    X(ucnv_fromUChars)                                                                                                 \
    X(ucnv_getMaxCharSize)                                                                                             \
    X(ucnv_getMinCharSize)                                                                                             \
    X(ucnv_getName)                                                                                                    \
    X(ucnv_getStandardName)                                                                                            \
    X(ucnv_open)                                                                                                       \
    X(ucnv_resetToUnicode)                                                                                             \
    X(ucnv_setToUCallBack)                                                                                             \
    X(ucnv_toUnicode)                                                                                                  \
    X(UCNV_TO_U_CALLBACK_STOP)                                                                                         \
    X(ucsdet_close)                                                                                                    \
    X(ucsdet_detectAll)                                                                                                \
    X(ucsdet_enableInputFilter)                                                                                        \
    X(ucsdet_getConfidence)                                                                                            \
    X(ucsdet_getName)                                                                                                  \
    X(ucsdet_open)                                                                                                     \
    X(ucsdet_setDeclaredEncoding)                                                                                      \
    X(ucsdet_setText)                                                                                                  \
    X(unorm2_getCombiningClass)                                                                                        \
    X(unorm2_getNFCInstance)                                                                                           \
    X(unorm2_getNFDInstance)                                                                                           \
    X(unorm2_normalize)                                                                                                \
    X(uscript_getScript)                                                                                               \
    X(uscript_getShortName)

#define NA_ICU_MEMBER(f) __typeof__(f) *f;
typedef struct na_icu_api {
    NA_ICU_FUNCTIONS(NA_ICU_MEMBER)
} na_icu_api;
#undef NA_ICU_MEMBER

extern na_icu_api na_icu; /* valid after na_icu_load() returned 0 (internal.h) */

#endif
