/* cmd_info.c - newsarc info [--json] ARCHIVE. */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

int cmd_info(int argc, char **argv)
{
    static const struct option lopts[] = {{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
        if (c == 'j') json = 1;
        else if (c == 'h') {
            printf("usage: newsarc info [--json] ARCHIVE\n");
            return EXIT_OK;
        } else {
            fprintf(stderr, "usage: newsarc info [--json] ARCHIVE\n");
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: newsarc info [--json] ARCHIVE\n");
        return EXIT_USAGE;
    }
    int code;
    newsarc_reader *r = cli_open(argv[optind], &code);
    if (!r) return code;
    newsarc_info in;
    newsarc_reader_info(r, &in);
    char id[NEWSARC_ID_HEX_SIZE + 1], root[NEWSARC_ID_HEX_SIZE + 1], fmt[16];
    newsarc_id_to_hex(id, in.archive_id);
    newsarc_id_to_hex(root, in.root_hash);
    snprintf(fmt, sizeof fmt, "%u.%u", in.format_major, in.format_minor);
    double ratio = in.file_size ? (double)in.content_size / (double)in.file_size : 0;
    if (json) {
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:b}",
                              "format", fmt, "file_size", (json_int_t)in.file_size, "articles",
                              (json_int_t)in.article_count, "entries", (json_int_t)in.entry_count, "blocks",
                              (json_int_t)in.block_count, "content_size", (json_int_t)in.content_size, "blocks_size",
                              (json_int_t)in.blocks_size, "ratio", ratio, "level", in.level, "block_size",
                              (json_int_t)in.block_size, "dict_size", (json_int_t)in.dict_size, "dict_section_size",
                              (json_int_t)in.dict_section_size, "meta_size",
                              (json_int_t)in.meta_size, "index_size", (json_int_t)in.index_size, "text_info_size",
                              (json_int_t)in.text_info_size, "other_size", (json_int_t)in.other_size, "zstd_version",
                              in.zstd_version, "archive_id", id, "root", root, "signed", in.signed_);
        if (o) {
            uint32_t no = newsarc_reader_norm_options(r);
            json_t *arr = json_array();
            if (no & NEWSARC_NORM_STRIP_DIACRITICS) json_array_append_new(arr, json_string("strip-diacritics"));
            if (no & NEWSARC_NORM_UNIFY_ALEF_YEH) json_array_append_new(arr, json_string("unify-alef-yeh"));
            json_object_set_new(o, "normalization", arr);
        }
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
        if (s) printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("format:        newsarc %s\n", fmt);
        printf("archive id:    %s\n", id);
        printf("root hash:     %s\n", root);
        printf("signed:        %s\n", in.signed_ ? "yes (check with verify -p)" : "no");
        printf("articles:      %llu (entries: %llu)\n", (unsigned long long)in.article_count,
               (unsigned long long)in.entry_count);
        printf("blocks:        %llu (target size %u bytes, zstd level %d, zstd %s)\n", (unsigned long long)in.block_count,
               in.block_size, in.level, in.zstd_version);
        printf("content:       %llu bytes\n", (unsigned long long)in.content_size);
        printf("file:          %llu bytes (ratio %.2fx)\n", (unsigned long long)in.file_size, ratio);
        printf("  blocks:      %llu bytes\n", (unsigned long long)in.blocks_size);
        if (in.dict_size)
            printf("  dictionary:  %llu bytes (%llu decompressed)\n", (unsigned long long)in.dict_section_size,
                   (unsigned long long)in.dict_size);
        else
            printf("  dictionary:  none\n");
        printf("  metadata:    %llu bytes\n", (unsigned long long)in.meta_size);
        printf("  index:       %llu bytes\n", (unsigned long long)in.index_size);
        if (in.text_info_size) printf("  text info:   %llu bytes\n", (unsigned long long)in.text_info_size);
        printf("  other:       %llu bytes (header, manifest, signature slot, footer, unknown sections)\n", (unsigned long long)in.other_size);
        newsarc_text_info ti;
        if (newsarc_reader_text_info(r, 0, &ti) == 0)
            printf("text info:     %s\n", !ti.present ? "none" : newsarc_reader_norm_options(r) == 0 ? "charset, script, norm_id (default normalization)"
                                                                                                  : "charset, script, norm_id (stronger normalization, see info --json)");
    }
    newsarc_reader_free(r);
    return EXIT_OK;
}
