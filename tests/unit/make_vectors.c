/*
 * make_vectors DIR - write the golden vectors (spec/vectors/NAME.nwa) and
 * vectors.json describing their expected contents.  See spec/README.md.
 */
#include "newsarc.h"
#include "vectors_gen.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static json_t *hexstr(const uint8_t id[32])
{
    char h[65];
    newsarc_id_to_hex(h, id);
    return json_string(h);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_vectors DIR\n");
        return 2;
    }
    json_t *all = json_object();
    json_object_set_new(all, "note", json_string("Golden vectors of the newsarc v1 format. Made by tests/unit/make_vectors "
                                                 "(cmake --build build --target vectors) from the inputs in "
                                                 "tests/unit/vectors_gen.c. file_b2 is BLAKE2b-256 (b2sum -l 256) of the "
                                                 "archive; ids are BLAKE2b-256 of each article's bytes."));
    json_object_set_new(all, "zstd_version", json_string(ZSTD_versionString()));
    json_t *list = json_array();
    for (int i = 0; i < VG_COUNT; i++) {
        tu_buf b = {0};
        if (vg_build(i, &b) != 0) {
            fprintf(stderr, "make_vectors: building '%s' failed\n", vg_name(i));
            return 1;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.nwa", argv[1], vg_name(i));
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
            fprintf(stderr, "make_vectors: cannot write '%s'\n", path);
            return 2;
        }
        newsarc_reader *r = NULL;
        if (newsarc_reader_open_mem(&r, b.data, b.len) != 0) {
            fprintf(stderr, "make_vectors: '%s' does not open: %s\n", path, newsarc_reader_error(r));
            return 1;
        }
        newsarc_info in;
        newsarc_reader_info(r, &in);
        uint8_t fh[32];
        newsarc_article_id(fh, b.data, b.len);
        json_t *v = json_object();
        json_object_set_new(v, "name", json_string(vg_name(i)));
        json_object_set_new(v, "file", json_string(strrchr(path, '/') + 1));
        json_object_set_new(v, "file_size", json_integer((json_int_t)b.len));
        json_object_set_new(v, "file_b2", hexstr(fh));
        json_object_set_new(v, "archive_id", hexstr(in.archive_id));
        json_object_set_new(v, "root", hexstr(in.root_hash));
        json_object_set_new(v, "blocks", json_integer((json_int_t)in.block_count));
        json_object_set_new(v, "dict_size", json_integer((json_int_t)in.dict_size));
        json_t *ents = json_array();
        for (uint64_t k = 0; k < newsarc_reader_entry_count(r); k++) {
            newsarc_entry e;
            uint64_t art;
            newsarc_article_info ai;
            if (newsarc_reader_entry(r, k, &e, &art) != 0 || newsarc_reader_article(r, art, &ai) != 0) return 1;
            json_t *o = json_object();
            json_object_set_new(o, "id", hexstr(ai.id));
            json_object_set_new(o, "size", json_integer((json_int_t)ai.size));
            if (e.name_len) json_object_set_new(o, "name", json_stringn(e.name, e.name_len));
            if (e.text_key_len) json_object_set_new(o, "text_field", json_stringn(e.text_key, e.text_key_len));
            if (e.meta_len) json_object_set_new(o, "meta", json_stringn(e.meta, e.meta_len));
            json_object_set_new(o, "flags", json_integer(e.flags));
            json_array_append_new(ents, o);
        }
        json_object_set_new(v, "entries", ents);
        if (i == VG_SIGNED) {
            size_t pl;
            char *pub = vg_signed_pubkey(&pl);
            char ppath[4096];
            snprintf(ppath, sizeof ppath, "%s/signed.pub", argv[1]);
            FILE *pf = pub ? fopen(ppath, "wb") : NULL;
            if (!pf || fwrite(pub, 1, pl, pf) != pl || fclose(pf) != 0) {
                fprintf(stderr, "make_vectors: cannot write '%s'\n", ppath);
                return 2;
            }
            free(pub);
            json_object_set_new(v, "public_key_file", json_string("signed.pub"));
        }
        json_array_append_new(list, v);
        newsarc_reader_free(r);
        tu_buf_free(&b);
    }
    json_object_set_new(all, "vectors", list);
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors.json", argv[1]);
    if (json_dump_file(all, path, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "make_vectors: cannot write '%s'\n", path);
        return 2;
    }
    json_decref(all);
    printf("wrote %d vectors to %s\n", VG_COUNT, argv[1]);
    return 0;
}
