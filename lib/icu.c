/* icu.c - ICU opened with dlopen on first use (see icu.h). */
#include "icu.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

na_icu_api na_icu;

#define NA_STR2(x) #x
#define NA_STR(x) NA_STR2(x)
/* libicui18n depends on libicuuc: one dlopen reaches both through dlsym */
#define NA_ICU_LIBRARY "libicui18n.so." NA_STR(U_ICU_VERSION_MAJOR_NUM)

static pthread_once_t icu_once = PTHREAD_ONCE_INIT;
static int icu_result = -1;
static char icu_error[256] = "ICU was not loaded";

static void icu_open(void)
{
    void *h = dlopen(NA_ICU_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(icu_error, sizeof icu_error, "cannot load ICU (%s): %s", NA_ICU_LIBRARY, e ? e : "unknown error");
        return;
    }
    /* NA_STR(f) is the version-renamed symbol, e.g. "ucnv_open_72" */
#define NA_ICU_RESOLVE(f)                                                                                              \
    if (!(*(void **)&na_icu.f = dlsym(h, NA_STR(f)))) {                                                                \
        snprintf(icu_error, sizeof icu_error, "ICU (%s) has no function %s", NA_ICU_LIBRARY, NA_STR(f));              \
        return;                                                                                                        \
    }
    NA_ICU_FUNCTIONS(NA_ICU_RESOLVE)
#undef NA_ICU_RESOLVE
    icu_result = 0; /* the handle stays open for the life of the process */
}

int na_icu_load(void)
{
    pthread_once(&icu_once, icu_open);
    return icu_result;
}

const char *na_icu_error(void) { return icu_result == 0 ? "" : icu_error; }
