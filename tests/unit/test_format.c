/* Unit tests of format/: fixed structures, footer, manifest grammar. */
#include "format.h"

#include <criterion/criterion.h>
#include <string.h>

Test(format, little_endian_helpers)
{
    uint8_t b[8];
    na_st16(b, 0x1234);
    cr_expect(b[0] == 0x34 && b[1] == 0x12);
    na_st32(b, 0x184D2A5Au);
    cr_expect(b[0] == 0x5A && b[1] == 0x2A && b[2] == 0x4D && b[3] == 0x18);
    cr_expect_eq(na_ld32(b), 0x184D2A5Au);
    na_st64(b, 0x0102030405060708ULL);
    cr_expect(b[0] == 8 && b[7] == 1);
    cr_expect_eq(na_ld64(b), 0x0102030405060708ULL);
}

Test(format, header_round_trip_and_refusals)
{
    uint8_t h[NA_HEAD_FRAME];
    uint16_t ma, mi;
    na_head_encode(h);
    cr_assert_null(na_head_decode(h, sizeof h, &ma, &mi));
    cr_expect(ma == 1 && mi == 0);
    cr_expect(!memcmp(h + 12, "newsarc\n", 8));
    uint8_t bad[NA_HEAD_FRAME];
    memcpy(bad, h, sizeof h);
    bad[20] = 2; /* major 2 */
    cr_expect_not_null(na_head_decode(bad, sizeof bad, &ma, &mi));
    memcpy(bad, h, sizeof h);
    bad[24] = 1; /* a required feature bit */
    cr_expect_not_null(na_head_decode(bad, sizeof bad, &ma, &mi));
    memcpy(bad, h, sizeof h);
    bad[28] = 0xff; /* optional features are ignored */
    cr_expect_null(na_head_decode(bad, sizeof bad, &ma, &mi));
    cr_expect_not_null(na_head_decode(h, sizeof h - 1, &ma, &mi));
}

static void sample_footer(na_footer *f)
{
    memset(f, 0, sizeof *f);
    f->major = 1;
    f->count = NA_S_COUNT;
    uint64_t off = 0;
    for (int s = 0; s < NA_S_COUNT; s++) {
        memcpy(f->toc[s].type, na_section_types[s], 5);
        f->toc[s].offset = off;
        f->toc[s].length = s == NA_S_FOOT ? NA_FOOT_FRAME_V1 : 100;
        off += f->toc[s].length;
    }
    f->file_length = off;
}

Test(format, footer_round_trip)
{
    na_footer f, g;
    sample_footer(&f);
    uint8_t *file = calloc(1, f.file_length);
    na_footer_encode(file + f.file_length - NA_FOOT_FRAME_V1, &f);
    cr_assert_null(na_footer_decode(file, f.file_length, &g));
    cr_expect_eq(g.count, NA_S_COUNT);
    for (int s = 0; s < NA_S_COUNT; s++) {
        cr_expect_str_eq(g.toc[s].type, na_section_types[s]);
        cr_expect_eq(g.toc[s].offset, f.toc[s].offset);
        cr_expect_eq(g.toc[s].length, f.toc[s].length);
    }
    /* truncated, extended, bad tail magic, lying length */
    cr_expect_not_null(na_footer_decode(file, f.file_length - 1, &g));
    file[f.file_length - 1] ^= 1;
    cr_expect_not_null(na_footer_decode(file, f.file_length, &g));
    file[f.file_length - 1] ^= 1;
    na_st32(file + f.file_length - 8, 0xFFFFFFF0u);
    cr_expect_not_null(na_footer_decode(file, f.file_length, &g));
    free(file);
}

static void sample_manifest(na_manifest *m)
{
    memset(m, 0, sizeof *m);
    m->fmt_major = 1;
    strcpy(m->zstd_version, "1.5.4");
    m->level = 3;
    m->block_size = 131072;
    m->dict_size = 0;
    m->articles = 2;
    m->entries = 3;
    m->blocks = 1;
    m->file_length = 5000;
    for (int s = 0; s < NA_S_COUNT; s++) {
        memcpy(m->sec[s].type, na_section_types[s], 5);
        m->sec[s].offset = (uint64_t)s * 10;
        m->sec[s].length = 10;
        memset(m->sec_hash[s], s == NA_S_MANI || s == NA_S_SIGN || s == NA_S_FOOT ? 0 : 0xA0 + s, NA_HASH);
    }
    memset(m->root, 0x5c, NA_HASH);
}

Test(format, manifest_round_trip)
{
    na_manifest m, p;
    sample_manifest(&m);
    size_t n = na_manifest_format(NULL, 0, &m);
    char *t = malloc(n + 1);
    cr_assert_eq(na_manifest_format(t, n + 1, &m), n);
    cr_expect(!strncmp(t, "newsarc-manifest 1\nformat 1.0\nzstd-version 1.5.4\nlevel 3\n", 55));
    cr_assert_null(na_manifest_parse((uint8_t *)t, n, &p));
    cr_expect_eq(p.articles, 2);
    cr_expect_eq(p.entries, 3);
    cr_expect_eq(p.file_length, 5000);
    cr_expect(!memcmp(p.root, m.root, NA_HASH));
    cr_expect(!memcmp(p.sec_hash[NA_S_INDX], m.sec_hash[NA_S_INDX], NA_HASH));
    /* every strict rule */
    cr_expect_not_null(na_manifest_parse((uint8_t *)t, n - 1, &p), "missing final LF");
    char *u = malloc(n + 2);
    memcpy(u, t, n);
    u[n] = '\n';
    cr_expect_not_null(na_manifest_parse((uint8_t *)u, n + 1, &p), "trailing bytes");
    memcpy(u, t, n);
    char *lvl = strstr(u, "level 3");
    lvl[6] = 'x';
    cr_expect_not_null(na_manifest_parse((uint8_t *)u, n, &p), "bad number");
    memcpy(u, t, n);
    char *art = strstr(u, "articles 2");
    art[9] = '0'; /* "articles 0" is fine, "articles 02" is not: make a leading zero */
    cr_expect_null(na_manifest_parse((uint8_t *)u, n, &p));
    memcpy(u, t, n);
    char *root = strstr(u, "root ");
    root[5] = 'A'; /* uppercase hex is refused */
    cr_expect_not_null(na_manifest_parse((uint8_t *)u, n, &p), "uppercase hex");
    memcpy(u, t, n);
    char *sec = strstr(u, "section DICT");
    sec[8] = 'X';
    cr_expect_not_null(na_manifest_parse((uint8_t *)u, n, &p), "section order");
    free(u);
    free(t);
}

Test(format, manifest_refuses_leading_zeros)
{
    const char *bad = "newsarc-manifest 1\nformat 1.0\nzstd-version 1.5.4\nlevel 03\n";
    na_manifest p;
    cr_expect_not_null(na_manifest_parse((const uint8_t *)bad, strlen(bad), &p));
}

Test(format, records_round_trip)
{
    na_block_rec b = {123456789012ULL, 77, 131072, {0}}, b2;
    memset(b.hash, 0xee, NA_HASH);
    uint8_t raw[NA_BLOCK_REC];
    na_block_encode(raw, &b);
    na_block_decode(raw, &b2);
    cr_expect(b2.offset == b.offset && b2.csize == 77 && b2.usize == 131072 && !memcmp(b2.hash, b.hash, NA_HASH));
}

/* Location chunks: byte planes, least significant byte first (spec 4.5). */
Test(format, location_planes)
{
    uint32_t loc[3][3] = {{0x04030201u, 0x14131211u, 0x24232221u}, {0xA4A3A2A1u, 0xB4B3B2B1u, 0xC4C3C2C1u}, {7, 8, 9}}, back[3][3];
    uint8_t p[36];
    na_locs_to_planes(p, (const uint32_t(*)[3])loc, 3);
    static const uint8_t want[36] = {0x01, 0xA1, 7, 0x02, 0xA2, 0, 0x03, 0xA3, 0, 0x04, 0xA4, 0,
                                     0x11, 0xB1, 8, 0x12, 0xB2, 0, 0x13, 0xB3, 0, 0x14, 0xB4, 0,
                                     0x21, 0xC1, 9, 0x22, 0xC2, 0, 0x23, 0xC3, 0, 0x24, 0xC4, 0};
    cr_expect_arr_eq(p, want, 36);
    na_locs_from_planes(back, p, 3);
    cr_expect_arr_eq(back, loc, sizeof loc);
    cr_expect_eq(na_loc_chunks(1), 1);
    cr_expect_eq(na_loc_chunks(4096), 1);
    cr_expect_eq(na_loc_chunks(4097), 2);
}

Test(format, hex_is_strict_lowercase)
{
    uint8_t out[2];
    cr_expect_eq(na_unhex(out, "0aff", 2), 0);
    cr_expect(out[0] == 0x0a && out[1] == 0xff);
    cr_expect_eq(na_unhex(out, "0AFF", 2), -1);
    cr_expect_eq(na_unhex(out, "0g00", 2), -1);
}

Test(format, sign_slot)
{
    uint8_t p[NA_SIGN_PAYLOAD] = {0};
    memcpy(p, "SIGN", 4);
    const uint8_t *t;
    size_t n;
    cr_expect_null(na_sign_decode(p, sizeof p, &t, &n));
    cr_expect_eq(n, 0);
    na_st32(p + 4, 3);
    memcpy(p + 8, "abc", 3);
    cr_expect_null(na_sign_decode(p, sizeof p, &t, &n));
    cr_expect_eq(n, 3);
    p[100] = 1; /* padding must be zero */
    cr_expect_not_null(na_sign_decode(p, sizeof p, &t, &n));
    p[100] = 0;
    na_st32(p + 4, NA_SIGN_TEXT_MAX + 1);
    cr_expect_not_null(na_sign_decode(p, sizeof p, &t, &n));
}
