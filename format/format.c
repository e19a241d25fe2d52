/* format.c - encoders/decoders of newsarc v1 fixed structures (spec/FORMAT.md). */
#include "format.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char na_section_types[NA_S_COUNT][5] = {"HEAD", "DICT", "BLKS", "META", "INDX", "MANI", "SIGN", "FOOT"};

void na_frame_header(uint8_t out[12], uint32_t payload_len, const char type[4])
{
    na_st32(out, NA_FRAME_MAGIC);
    na_st32(out + 4, payload_len);
    memcpy(out + 8, type, 4);
}

void na_head_encode(uint8_t out[NA_HEAD_FRAME])
{
    memset(out, 0, NA_HEAD_FRAME);
    na_frame_header(out, NA_HEAD_PAYLOAD, "HEAD");
    memcpy(out + 12, NA_FILE_MAGIC, 8);
    na_st16(out + 20, 1);
    na_st16(out + 22, 0);
    /* required_features (24) and optional_features (28) stay zero */
}

const char *na_head_decode(const uint8_t *buf, size_t len, uint16_t *major, uint16_t *minor)
{
    if (len != NA_HEAD_FRAME) return "header section has the wrong length";
    if (na_ld32(buf) != NA_FRAME_MAGIC || na_ld32(buf + 4) != NA_HEAD_PAYLOAD || memcmp(buf + 8, "HEAD", 4) != 0)
        return "header frame is malformed";
    if (memcmp(buf + 12, NA_FILE_MAGIC, 8) != 0) return "not a newsarc archive (bad file magic)";
    *major = na_ld16(buf + 20);
    *minor = na_ld16(buf + 22);
    if (*major != 1) return "unsupported format major version";
    if (na_ld32(buf + 24) != 0) return "archive needs features this reader does not know (required_features)";
    return NULL;
}

int na_head_unsupported(const uint8_t *buf, size_t len)
{
    return len == NA_HEAD_FRAME && !memcmp(buf + 12, NA_FILE_MAGIC, 8) &&
           (na_ld16(buf + 20) != 1 || na_ld32(buf + 24) != 0);
}

size_t na_footer_frame_size(uint32_t count) { return NA_FRAME_HDR + NA_FOOT_FIXED + (size_t)NA_TOC_ENTRY * count; }

void na_footer_encode(uint8_t *out, const na_footer *f)
{
    size_t frame = na_footer_frame_size(f->count);
    memset(out, 0, frame);
    na_frame_header(out, (uint32_t)(frame - NA_FRAME_HDR), "FOOT");
    uint8_t *p = out + 12;
    na_st16(p, f->major);
    na_st16(p + 2, f->minor);
    na_st32(p + 4, f->count);
    p += 8;
    for (uint32_t i = 0; i < f->count; i++, p += NA_TOC_ENTRY) {
        memcpy(p, f->toc[i].type, 4);
        na_st32(p + 4, f->toc[i].flags);
        na_st64(p + 8, f->toc[i].offset);
        na_st64(p + 16, f->toc[i].length);
    }
    na_st64(p, f->file_length);
    memcpy(p + 8, f->checksum, NA_HASH);
    na_st32(p + 40, (uint32_t)frame);
    memcpy(p + 44, NA_TAIL_MAGIC, 4);
}

const char *na_footer_decode(const uint8_t *file, uint64_t file_len, na_footer *f)
{
    if (file_len < NA_HEAD_FRAME + na_footer_frame_size(0)) return "file too short to be a newsarc archive";
    const uint8_t *end = file + file_len;
    if (memcmp(end - 4, NA_TAIL_MAGIC, 4) != 0) return "no newsarc footer at the end of the file (truncated or not an archive)";
    uint32_t flen = na_ld32(end - 8);
    if (flen < na_footer_frame_size(0) || flen > na_footer_frame_size(NA_MAX_SECTIONS) || flen > file_len - NA_HEAD_FRAME)
        return "footer length out of range";
    const uint8_t *p = end - flen;
    if (na_ld32(p) != NA_FRAME_MAGIC || na_ld32(p + 4) != flen - NA_FRAME_HDR || memcmp(p + 8, "FOOT", 4) != 0)
        return "footer frame is malformed";
    f->major = na_ld16(p + 12);
    f->minor = na_ld16(p + 14);
    f->count = na_ld32(p + 16);
    if (f->major != 1) return "unsupported format major version in footer";
    if (f->count > NA_MAX_SECTIONS || na_footer_frame_size(f->count) != flen)
        return "footer section count does not match its length";
    const uint8_t *t = p + 20;
    for (uint32_t i = 0; i < f->count; i++, t += NA_TOC_ENTRY) {
        memcpy(f->toc[i].type, t, 4);
        f->toc[i].type[4] = 0;
        for (int k = 0; k < 4; k++)
            if (!((t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= 'a' && t[k] <= 'z'))) return "table of sections: a type is not 4 ASCII letters";
        f->toc[i].flags = na_ld32(t + 4);
        f->toc[i].offset = na_ld64(t + 8);
        f->toc[i].length = na_ld64(t + 16);
    }
    f->file_length = na_ld64(t);
    memcpy(f->checksum, t + 8, NA_HASH);
    f->frame_length = flen;
    if (f->file_length != file_len) return "file length differs from the one recorded in the footer";
    return NULL;
}

void na_block_encode(uint8_t out[NA_BLOCK_REC], const na_block_rec *b)
{
    na_st64(out, b->offset);
    na_st32(out + 8, b->csize);
    na_st32(out + 12, b->usize);
    memcpy(out + 16, b->hash, NA_HASH);
}

void na_block_decode(const uint8_t in[NA_BLOCK_REC], na_block_rec *b)
{
    b->offset = na_ld64(in);
    b->csize = na_ld32(in + 8);
    b->usize = na_ld32(in + 12);
    memcpy(b->hash, in + 16, NA_HASH);
}

void na_locs_to_planes(uint8_t *out, const uint32_t (*loc)[3], size_t m)
{
    for (int f = 0; f < 3; f++)
        for (int j = 0; j < 4; j++) {
            uint8_t *p = out + (size_t)(4 * f + j) * m;
            for (size_t k = 0; k < m; k++) p[k] = (uint8_t)(loc[k][f] >> (8 * j));
        }
}

void na_locs_from_planes(uint32_t (*loc)[3], const uint8_t *in, size_t m)
{
    for (int f = 0; f < 3; f++) {
        const uint8_t *p = in + (size_t)4 * f * m;
        for (size_t k = 0; k < m; k++)
            loc[k][f] = (uint32_t)p[k] | (uint32_t)p[m + k] << 8 | (uint32_t)p[2 * m + k] << 16 | (uint32_t)p[3 * m + k] << 24;
    }
}

void na_hex(char *out, const uint8_t *in, size_t n) { sodium_bin2hex(out, 2 * n + 1, in, n); }

int na_unhex(uint8_t *out, const char *in, size_t n_bytes)
{
    for (size_t i = 0; i < 2 * n_bytes; i++) {
        char c = in[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
    }
    size_t got = 0;
    if (sodium_hex2bin(out, n_bytes, in, 2 * n_bytes, NULL, &got, NULL) != 0 || got != n_bytes) return -1;
    return 0;
}

/* ---- manifest ------------------------------------------------------------ */

typedef struct {
    char *out;
    size_t cap, len;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = b->len < b->cap ? b->out + b->len : NULL;
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    char tmp[1];
    int n = vsnprintf(dst ? dst : tmp, dst ? room : 0, fmt, ap);
    va_end(ap);
    if (n > 0) b->len += (size_t)n;
}

static const char *const manifest_head[] = {"newsarc-manifest 1"};

size_t na_manifest_format(char *out, size_t cap, const na_manifest *m)
{
    /* vsnprintf writes a NUL; reserve it so the returned length is exact. */
    char scratch[1];
    sbuf b = {cap ? out : scratch, cap ? cap : 0, 0};
    sb_printf(&b, "%s\n", manifest_head[0]);
    sb_printf(&b, "format %u.%u\n", m->fmt_major, m->fmt_minor);
    sb_printf(&b, "zstd-version %s\n", m->zstd_version);
    sb_printf(&b, "level %d\n", m->level);
    sb_printf(&b, "block-size %llu\n", (unsigned long long)m->block_size);
    sb_printf(&b, "dictionary-size %llu\n", (unsigned long long)m->dict_size);
    sb_printf(&b, "articles %llu\n", (unsigned long long)m->articles);
    sb_printf(&b, "entries %llu\n", (unsigned long long)m->entries);
    sb_printf(&b, "blocks %llu\n", (unsigned long long)m->blocks);
    sb_printf(&b, "file-length %llu\n", (unsigned long long)m->file_length);
    for (int s = 0; s < NA_S_COUNT; s++) {
        char hex[2 * NA_HASH + 1];
        if (s == NA_S_MANI || s == NA_S_SIGN || s == NA_S_FOOT)
            strcpy(hex, "-");
        else
            na_hex(hex, m->sec_hash[s], NA_HASH);
        sb_printf(&b, "section %s %llu %llu %s\n", na_section_types[s], (unsigned long long)m->sec[s].offset,
                  (unsigned long long)m->sec[s].length, hex);
        for (uint32_t k = 0; k < m->n_opt; k++) {
            if (m->opt_after[k] != s) continue;
            na_hex(hex, m->opt_hash[k], NA_HASH);
            sb_printf(&b, "section %.4s %llu %llu %s\n", m->opt[k].type, (unsigned long long)m->opt[k].offset,
                      (unsigned long long)m->opt[k].length, hex);
        }
    }
    char root[2 * NA_HASH + 1];
    na_hex(root, m->root, NA_HASH);
    sb_printf(&b, "root %s\n", root);
    return b.len;
}

/* Strict line parser: each call consumes one LF-terminated line. */
typedef struct {
    const char *p, *end;
} cursor;

static int next_line(cursor *c, const char **line, size_t *len)
{
    if (c->p >= c->end) return -1;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (!nl) return -1;
    *line = c->p;
    *len = (size_t)(nl - c->p);
    c->p = nl + 1;
    return 0;
}

/* Decimal without leading zeros (except "0"), fits in uint64. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* Line "key value": returns value span. */
static int keyed(cursor *c, const char *key, const char **val, size_t *vlen)
{
    const char *line;
    size_t len, kl = strlen(key);
    if (next_line(c, &line, &len) != 0) return -1;
    if (len <= kl + 1 || memcmp(line, key, kl) != 0 || line[kl] != ' ') return -1;
    *val = line + kl + 1;
    *vlen = len - kl - 1;
    return 0;
}

static int keyed_u64(cursor *c, const char *key, uint64_t *v)
{
    const char *val;
    size_t n;
    return keyed(c, key, &val, &n) == 0 ? parse_u64(val, n, v) : -1;
}

/* Split a span on single spaces into at most max fields; returns the count. */
static size_t split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ' ') {
            if (k == max) return max + 1;
            f[k] = s + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

const char *na_manifest_parse(const uint8_t *text, size_t len, na_manifest *m)
{
    memset(m, 0, sizeof *m);
    cursor c = {(const char *)text, (const char *)text + len};
    const char *line, *val;
    size_t n, vn;
    if (next_line(&c, &line, &n) != 0 || n != strlen(manifest_head[0]) || memcmp(line, manifest_head[0], n) != 0)
        return "manifest does not start with 'newsarc-manifest 1'";
    {
        const char *dot;
        uint64_t ma, mi;
        if (keyed(&c, "format", &val, &vn) != 0 || !(dot = memchr(val, '.', vn)) ||
            parse_u64(val, (size_t)(dot - val), &ma) != 0 || parse_u64(dot + 1, vn - (size_t)(dot - val) - 1, &mi) != 0 ||
            ma > 65535 || mi > 65535)
            return "manifest 'format' line is malformed";
        m->fmt_major = (unsigned)ma;
        m->fmt_minor = (unsigned)mi;
    }
    if (keyed(&c, "zstd-version", &val, &vn) != 0 || vn >= sizeof m->zstd_version)
        return "manifest 'zstd-version' line is malformed";
    for (size_t i = 0; i < vn; i++)
        if (!((val[i] >= '0' && val[i] <= '9') || val[i] == '.')) return "manifest 'zstd-version' line is malformed";
    memcpy(m->zstd_version, val, vn);
    if (keyed(&c, "level", &val, &vn) != 0) return "manifest 'level' line is malformed";
    {
        int neg = vn > 1 && val[0] == '-';
        uint64_t lv;
        if (parse_u64(val + neg, vn - (size_t)neg, &lv) != 0 || lv > 1000000 || (neg && lv == 0))
            return "manifest 'level' line is malformed";
        m->level = neg ? -(int)lv : (int)lv;
    }
    if (keyed_u64(&c, "block-size", &m->block_size) != 0) return "manifest 'block-size' line is malformed";
    if (keyed_u64(&c, "dictionary-size", &m->dict_size) != 0) return "manifest 'dictionary-size' line is malformed";
    if (keyed_u64(&c, "articles", &m->articles) != 0) return "manifest 'articles' line is malformed";
    if (keyed_u64(&c, "entries", &m->entries) != 0) return "manifest 'entries' line is malformed";
    if (keyed_u64(&c, "blocks", &m->blocks) != 0) return "manifest 'blocks' line is malformed";
    if (keyed_u64(&c, "file-length", &m->file_length) != 0) return "manifest 'file-length' line is malformed";
    for (int s = 0; s < NA_S_COUNT; s++) {
        const char *f[4];
        size_t fl[4];
        /* optional sections (lowercase types) may follow META or INDX */
        while ((s == NA_S_INDX || s == NA_S_MANI) && c.end - c.p > 9 && !memcmp(c.p, "section ", 8) && c.p[8] >= 'a' &&
               c.p[8] <= 'z') {
            if (m->n_opt >= NA_MAX_SECTIONS - NA_S_COUNT) return "manifest lists too many sections";
            uint32_t k = m->n_opt;
            if (keyed(&c, "section", &val, &vn) != 0 || split(val, vn, f, fl, 4) != 4 || fl[0] != 4)
                return "manifest 'section' line is malformed";
            for (int q = 1; q < 4; q++)
                if (!((f[0][q] >= 'a' && f[0][q] <= 'z') || (f[0][q] >= 'A' && f[0][q] <= 'Z')))
                    return "manifest 'section' line has a malformed type";
            memcpy(m->opt[k].type, f[0], 4);
            m->opt[k].type[4] = 0;
            if (parse_u64(f[1], fl[1], &m->opt[k].offset) != 0 || parse_u64(f[2], fl[2], &m->opt[k].length) != 0 ||
                fl[3] != 2 * NA_HASH || na_unhex(m->opt_hash[k], f[3], NA_HASH) != 0)
                return "manifest 'section' line is malformed";
            m->opt_after[k] = (uint8_t)(s - 1);
            m->n_opt++;
        }
        if (keyed(&c, "section", &val, &vn) != 0 || split(val, vn, f, fl, 4) != 4)
            return "manifest 'section' line is malformed";
        if (fl[0] != 4 || memcmp(f[0], na_section_types[s], 4) != 0) return "manifest sections are missing or out of order";
        memcpy(m->sec[s].type, f[0], 4);
        if (parse_u64(f[1], fl[1], &m->sec[s].offset) != 0 || parse_u64(f[2], fl[2], &m->sec[s].length) != 0)
            return "manifest 'section' line has a malformed number";
        if (s == NA_S_MANI || s == NA_S_SIGN || s == NA_S_FOOT) {
            if (fl[3] != 1 || f[3][0] != '-') return "manifest 'section' line must end in '-' for this section";
        } else if (fl[3] != 2 * NA_HASH || na_unhex(m->sec_hash[s], f[3], NA_HASH) != 0) {
            return "manifest 'section' line has a malformed hash";
        }
    }
    if (keyed(&c, "root", &val, &vn) != 0 || vn != 2 * NA_HASH || na_unhex(m->root, val, NA_HASH) != 0)
        return "manifest 'root' line is malformed";
    if (c.p != c.end) return "manifest has trailing bytes";
    return NULL;
}

const char *na_sign_decode(const uint8_t *payload, size_t len, const uint8_t **text, size_t *text_len)
{
    if (len != NA_SIGN_PAYLOAD || memcmp(payload, "SIGN", 4) != 0) return "signature slot is malformed";
    uint32_t n = na_ld32(payload + 4);
    if (n > NA_SIGN_TEXT_MAX) return "signature length out of range";
    for (size_t i = 8 + n; i < len; i++)
        if (payload[i] != 0) return "signature slot padding is not zero";
    *text = n ? payload + 8 : NULL;
    *text_len = n;
    return NULL;
}
