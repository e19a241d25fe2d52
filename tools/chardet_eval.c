/*
 * chardet_eval - how often na_text_charset picks a charset that decodes a
 * file to exactly the text its true charset gives.
 *
 * usage: chardet_eval [-s] [-v] [-n] [-H HINT] [-m PERCENT] [DIR]
 *   DIR  the chardet test corpus: one folder per true charset, named
 *        "<charset>" or "<charset>-<language>" (default:
 *        NEWSARC_SHARED_DIR/corpus/encodings/chardet-tests)
 *   -s   strict truth: decode with the folder's charset as named, instead
 *        of the superset browsers use for it (GB2312 -> GB18030, ...)
 *   -v   list every file, not only the failures
 *   -H X give X as the source hint ("truth" = the folder's own charset)
 *   -m P exit 1 when fewer than P percent of the files are correct (for ctest)
 *   -n   hide declarations: overwrite "charset"/"encoding" in the first
 *        NA_TEXT_DECL_SCAN bytes (both decodings see the same bytes), to
 *        measure the detector alone
 *
 * A file counts as correct when na_text_to_utf8(chosen) == na_text_to_utf8(truth)
 * byte for byte (both drop a leading BOM).  Exit 0, 1 below -m, 2 on error.
 */
#include "text.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <unicode/ucnv.h>

#ifndef NEWSARC_SHARED_DIR
#define NEWSARC_SHARED_DIR "../shared"
#endif

static bool icu_knows(const char *name)
{
    UErrorCode e = U_ZERO_ERROR;
    UConverter *c = ucnv_open(name, &e);
    if (U_FAILURE(e) || !c) return false;
    ucnv_close(c);
    return true;
}

/* The charset a folder name stands for, as an ICU label. */
static void truth_label(const char *folder, bool strict, char *out, size_t cap)
{
    static const char *const fixed[][3] = {
        /* folder, strict label, superset label */
        {"utf-8-sig", "UTF-8", "UTF-8"},     {"ascii", "US-ASCII", "windows-1252"},
        {"CP949", "windows-949", "windows-949"}, {"CP932", "windows-31j", "windows-31j"},
        {"GB2312", "GB2312", "GB18030"},     {"EUC-KR", "EUC-KR", "windows-949"},
        {"iso-8859-1", "ISO-8859-1", "windows-1252"}, {"TIS-620", "TIS-620", "windows-874"},
        {"SHIFT_JIS", "Shift_JIS", "windows-31j"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(folder, fixed[i][0]) == 0) {
            snprintf(out, cap, "%s", fixed[i][strict ? 1 : 2]);
            return;
        }
    snprintf(out, cap, "%s", folder);
    /* "iso-8859-2-czech" -> "iso-8859-2": drop "-language" while ICU does not know the name */
    while (!icu_knows(out)) {
        char *dash = strrchr(out, '-');
        if (!dash) break;
        *dash = '\0';
    }
    if (!strict && strcmp(out, "iso-8859-9") == 0) snprintf(out, cap, "windows-1254");
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        if (n == cap) {
            uint8_t *bigger = realloc(b, cap * 2);
            if (!bigger) {
                free(b);
                b = NULL;
                break;
            }
            b = bigger;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return b;
}

/* Overwrite the keywords a declaration needs so that none is found. */
static void hide_declarations(uint8_t *b, size_t n)
{
    static const char *const words[] = {"charset", "encoding"};
    size_t scan = n < NA_TEXT_DECL_SCAN ? n : NA_TEXT_DECL_SCAN;
    for (size_t w = 0; w < 2; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= scan; i++) {
            size_t j = 0;
            while (j < wl && (b[i + j] | 0x20) == words[w][j]) j++;
            if (j == wl) memset(b + i, 'x', wl);
        }
    }
}

static const char *reason_name(na_charset_reason r)
{
    static const char *const names[] = {"empty", "bom", "utf16/32", "ascii", "iso2022", "utf8",
                                        "declared", "hint", "detected", "fallback"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv)
{
    bool strict = false, verbose = false, hide = false;
    const char *hint = NULL;
    double min_percent = 0;
    const char *dir = NEWSARC_SHARED_DIR "/corpus/encodings/chardet-tests";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0) strict = true;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "-n") == 0)
            hide = true;
        else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc)
            hint = argv[++i];
        else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            min_percent = strtod(argv[++i], NULL);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: chardet_eval [-s] [-v] [-n] [-H HINT] [-m PERCENT] [DIR]\n");
            return 2;
        } else
            dir = argv[i];
    }
    struct dirent **folders;
    int nf = scandir(dir, &folders, NULL, by_name);
    if (nf < 0) {
        fprintf(stderr, "chardet_eval: cannot read '%s'\n", dir);
        return 2;
    }
    unsigned total = 0, good = 0;
    for (int fi = 0; fi < nf; fi++) {
        char fdir[4096];
        snprintf(fdir, sizeof fdir, "%s/%s", dir, folders[fi]->d_name);
        struct stat st;
        if (folders[fi]->d_name[0] == '.' || stat(fdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(folders[fi]);
            continue;
        }
        char truth[512];
        truth_label(folders[fi]->d_name, strict, truth, sizeof truth);
        struct dirent **files;
        int nfiles = scandir(fdir, &files, NULL, by_name);
        unsigned ftotal = 0, fgood = 0;
        for (int j = 0; j < nfiles; j++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", fdir, files[j]->d_name);
            if (files[j]->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                free(files[j]);
                continue;
            }
            size_t len = 0;
            uint8_t *buf = read_all(path, &len);
            if (!buf) {
                fprintf(stderr, "chardet_eval: cannot read '%s'\n", path);
                return 2;
            }
            if (hide) hide_declarations(buf, len);
            na_charset_info info;
            char *want = NULL, *got = NULL;
            size_t want_len = 0, got_len = 0;
            bool sub_w = false, sub_g = false;
            const char *h = hint && strcmp(hint, "truth") == 0 ? truth : hint;
            int rc = na_text_charset(buf, len, h, &info);
            int rw = na_text_to_utf8(buf, len, truth, &want, &want_len, &sub_w);
            int rg = rc ? rc : na_text_to_utf8(buf, len, info.chosen, &got, &got_len, &sub_g);
            bool ok = rc == 0 && rw == 0 && rg == 0 && want_len == got_len && memcmp(want, got, want_len) == 0;
            ftotal++;
            if (ok) fgood++;
            if (!ok || verbose)
                printf("%s %s/%s: truth=%s%s chosen=%s (%s%s) declared=%s detected=%s/%d\n", ok ? "ok  " : "FAIL",
                       folders[fi]->d_name, files[j]->d_name, truth, rw ? "(unsupported)" : "", info.chosen,
                       reason_name(info.reason), info.chosen_clean ? "" : ",unclean",
                       info.declared_label[0] ? info.declared_label : "-", info.detected[0] ? info.detected : "-",
                       info.detected_confidence);
            free(want);
            free(got);
            free(buf);
            free(files[j]);
        }
        free(files);
        total += ftotal;
        good += fgood;
        if (fgood != ftotal) printf("  folder %s: %u/%u\n", folders[fi]->d_name, fgood, ftotal);
        free(folders[fi]);
    }
    free(folders);
    double percent = total ? 100.0 * good / total : 0.0;
    printf("correct: %u/%u = %.1f%% (%s truth)\n", good, total, percent, strict ? "strict" : "superset");
    return total == 0 ? 2 : percent < min_percent ? 1 : 0;
}
