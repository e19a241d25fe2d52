/* Helpers of tools/cli_util.c checked against a plain reference. */
#include "cli.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

/*
 * The guard's rules one byte at a time: an object ('{' first, its '}'
 * last and only there at depth 0), strings closed, no control byte
 * anywhere (also not after a backslash), no backslash outside a string,
 * brackets and braces counted together up to 512 deep.
 */
static int ref_guard(const unsigned char *p, size_t n)
{
    if (n < 2 || p[0] != '{' || p[n - 1] != '}') return -1;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c < 0x20) return -1;
        if (c == '"') {
            for (i++;; i++) {
                if (i >= n || p[i] < 0x20) return -1;
                if (p[i] == '"') break;
                if (p[i] == '\\' && (++i >= n || p[i] < 0x20)) return -1;
            }
        } else if (c == '\\') return -1;
        else if (c == '{' || c == '[') {
            if (++depth > 512) return -1;
        } else if (c == '}' || c == ']') {
            if (--depth < 0 || (depth == 0 && i != n - 1)) return -1;
        }
    }
    return depth == 0 ? 0 : -1;
}

static uint64_t rng_state = 42;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33) % n;
}

Test(cli, object_guard_cases)
{
    static const char *const pass[] = {"{}", "{\"a\":1}", "{\"a\":\"}\"}", "{\"a\":\"\\\"}\"}", "{\"a\":[1,{\"b\":[]}]}",
                                       "{\"a\":\"\\\\\"}", "{\"\xd8\xae\":\"{[\"}"};
    static const char *const fail[] = {"", "{", "}", "{}}", "{}{}", "{\"a\":\"}", "{\"a\":\"\\\"}", "{\\}", "{\"a\x01\":1}",
                                       "{\"a\":\"\\\x01\"}", "{\"a\":1}\n", "{]}", "{\"a\":[}"};
    for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
        cr_expect(cli_json_object_guard(pass[i], strlen(pass[i])) == 0, "should pass: %s", pass[i]);
    for (size_t i = 0; i < sizeof fail / sizeof *fail; i++)
        cr_expect(cli_json_object_guard(fail[i], strlen(fail[i])) != 0, "should fail: %s", fail[i]);
}

/* random objects of the bytes that matter (and some that do not), short and past several 16-byte chunks */
Test(cli, object_guard_matches_the_byte_walk)
{
    static const unsigned char alpha[] = {'{', '}', '[', ']', '"', '"', '"', '\\', 'a', 'a', 'a', ':', ',', 0x01,
                                          0x1f, 0x20, 0x7b ^ 0x20, 0x7d ^ 0x20, 0xd8, 0xae, 0x7f, 0xff};
    unsigned char buf[200];
    size_t passed = 0;
    for (int t = 0; t < 300000; t++) {
        size_t n = 2 + rnd(t % 3 ? 40 : 190);
        for (size_t i = 0; i < n; i++) buf[i] = alpha[rnd(sizeof alpha)];
        if (rnd(4)) buf[0] = '{';
        if (rnd(4)) buf[n - 1] = '}';
        if (rnd(2)) { /* mostly plain strings: the guard's usual input */
            size_t k = 1;
            while (k + 4 < n - 1) {
                buf[k++] = '"';
                size_t l = rnd(30);
                for (size_t j = 0; j < l && k < n - 2; j++) buf[k++] = rnd(8) ? 'x' : alpha[rnd(sizeof alpha)];
                if (k < n - 1) buf[k++] = '"';
                if (k < n - 1) buf[k++] = rnd(2) ? ':' : ',';
            }
        }
        int want = ref_guard(buf, n), got = cli_json_object_guard((const char *)buf, n);
        cr_assert_eq(got, want, "guard %d, byte walk %d, on %zu bytes: %.*s", got, want, n, (int)n, buf);
        passed += want == 0;
    }
    cr_expect(passed > 1000, "only %zu of the random objects pass: the test says little", passed);
}

Test(cli, object_guard_depth_limit)
{
    char buf[1100];
    for (int d = 511; d <= 513; d++) {
        size_t n = 0;
        for (int k = 0; k < d; k++) buf[n++] = k ? '[' : '{';
        for (int k = d - 1; k >= 0; k--) buf[n++] = k ? ']' : '}';
        cr_expect_eq(cli_json_object_guard(buf, n), d <= 512 ? 0 : -1, "depth %d", d);
    }
}
