/*
 * test_envname.c -- CUnit suite for mod_gateway/gw_envname.c (L0, no
 * stubs). Header names are copied into heap buffers of exactly len bytes,
 * so an ASan build catches any read past len.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "../../mod_gateway/gw_envname.h"

/* An assertion whose failure message says which table row or byte failed. */
#define CHECKF(cond, ...)                                                      \
    do {                                                                       \
        int ok_ = !!(cond);                                                    \
        char m_[256] = #cond;                                                  \
        if (!ok_) {                                                            \
            snprintf(m_, sizeof(m_), __VA_ARGS__);                             \
        }                                                                      \
        CU_assertImplementation(ok_, __LINE__, m_, __FILE__, "", CU_FALSE);    \
    } while (0)

#define LIT(s) s, sizeof(s) - 1

/* gw_envname_from_header on an exact-size copy of name; the key lands in
 * out, which is pre-filled with junk so a missing NUL shows. */
static size_t envname(const char *name, size_t len, char *out, size_t outcap,
                      unsigned flags)
{
    char *p = calloc(len ? len : 1, 1);
    size_t n;

    memcpy(p, name, len);
    memset(out, '#', outcap);
    n = gw_envname_from_header(p, len, out, outcap, flags);
    free(p);
    return n;
}

struct env_case {
    const char *name;
    size_t len;
    unsigned flags;
    const char *key; /* NULL when the header must not be exported */
};

static const struct env_case env_cases[] = {
    {LIT("Host"), 0, "HTTP_HOST"},
    {LIT("host"), 0, "HTTP_HOST"},
    {LIT("User-Agent"), 0, "HTTP_USER_AGENT"},
    {LIT("X-Forwarded-For"), 0, "HTTP_X_FORWARDED_FOR"},
    {LIT("x-request-id"), 0, "HTTP_X_REQUEST_ID"},
    {LIT("Accept-Encoding"), 0, "HTTP_ACCEPT_ENCODING"},
    {LIT("DNT"), 0, "HTTP_DNT"},
    {LIT("X-0123456789"), 0, "HTTP_X_0123456789"},
    {LIT("-"), 0, "HTTP__"},
    {LIT("X--Y"), 0, "HTTP_X__Y"},
    {LIT("Content-Type"), 0, "CONTENT_TYPE"},
    {LIT("content-type"), 0, "CONTENT_TYPE"},
    {LIT("CONTENT-LENGTH"), 0, "CONTENT_LENGTH"},
    {LIT("Content-Length"), GW_ENVNAME_PASS_AUTH, "CONTENT_LENGTH"},
    {LIT("Content-Types"), 0, "HTTP_CONTENT_TYPES"},
    {LIT("Content-Lengt"), 0, "HTTP_CONTENT_LENGT"},
    {LIT("Content-MD5"), 0, "HTTP_CONTENT_MD5"},
    /* httpoxy (CVE-2016-5387), in any case */
    {LIT("Proxy"), 0, NULL},
    {LIT("proxy"), GW_ENVNAME_PASS_AUTH, NULL},
    {LIT("PROXY"), 0, NULL},
    {LIT("pRoXy"), 0, NULL},
    {LIT("Proxy-Foo"), 0, "HTTP_PROXY_FOO"},
    {LIT("Proxies"), 0, "HTTP_PROXIES"},
    {LIT("X-Proxy"), 0, "HTTP_X_PROXY"},
    /* credentials */
    {LIT("Authorization"), 0, NULL},
    {LIT("authorization"), 0, NULL},
    {LIT("AUTHORIZATION"), 0, NULL},
    {LIT("Authorization"), GW_ENVNAME_PASS_AUTH, "HTTP_AUTHORIZATION"},
    {LIT("aUtHoRiZaTiOn"), GW_ENVNAME_PASS_AUTH, "HTTP_AUTHORIZATION"},
    {LIT("Proxy-Authorization"), 0, NULL},
    {LIT("Proxy-Authorization"), GW_ENVNAME_PASS_AUTH, NULL},
    {LIT("proxy-authorization"), GW_ENVNAME_PASS_AUTH, NULL},
    {LIT("X-Authorization"), 0, "HTTP_X_AUTHORIZATION"},
    /* the dash/underscore ambiguity and other bytes */
    {LIT("X-Foo_Bar"), 0, NULL},
    {LIT("X_Foo"), 0, NULL},
    {LIT("_"), 0, NULL},
    {LIT("Content_Type"), 0, NULL},
    {LIT("Proxy_"), 0, NULL},
    {LIT(""), 0, NULL},
    {LIT("X Foo"), 0, NULL},
    {LIT("X.Foo"), 0, NULL},
    {LIT("X:Foo"), 0, NULL},
    {LIT("X-Foo\0"), 0, NULL},
    {LIT("\0X-Foo"), 0, NULL},
    {LIT("Host\r\n"), 0, NULL},
    {LIT("caf\xc3\xa9"), 0, NULL},
};

static void test_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
        const struct env_case *c = &env_cases[i];
        char out[GW_ENVNAME_MAX];
        size_t n = envname(c->name, c->len, out, sizeof(out), c->flags);

        if (c->key) {
            CHECKF(n == strlen(c->key), "row %zu: length %zu", i, n);
            CHECKF(n < sizeof(out) && out[n] == '\0',
                   "row %zu: not NUL-terminated", i);
            CHECKF(strcmp(out, c->key) == 0, "row %zu: got '%.*s'", i, (int)n,
                   out);
        }
        else {
            CHECKF(n == 0, "row %zu: exported as '%.*s'", i, (int)n, out);
            CHECKF(out[0] == '\0', "row %zu: out not emptied", i);
        }
    }
}

static int ref_ok(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-';
}

static void test_every_byte(void)
{
    char name[3] = "X?Y";
    int c;

    for (c = 0; c < 256; c++) {
        char out[GW_ENVNAME_MAX];
        char want[9] = "HTTP_X?Y";
        size_t n;

        name[1] = (char)c;
        n = envname(name, 3, out, sizeof(out), GW_ENVNAME_PASS_AUTH);
        if (!ref_ok(c)) {
            CHECKF(n == 0, "byte 0x%02x exported", c);
            continue;
        }
        want[6] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? c - 32 : c;
        CHECKF(n == 8 && strcmp(out, want) == 0, "byte 0x%02x: '%.40s'", c,
               n ? out : "");
    }
}

static void test_lengths(void)
{
    char name[300];
    char out[GW_ENVNAME_MAX + 50];
    size_t n;

    memset(name, 'a', sizeof(name));
    /* A 256-byte name fits GW_ENVNAME_MAX exactly. */
    n = envname(name, 256, out, GW_ENVNAME_MAX, 0);
    CU_ASSERT_EQUAL(n, 261);
    CU_ASSERT_EQUAL(out[261], '\0');
    CU_ASSERT_EQUAL(strncmp(out, "HTTP_AAAA", 9), 0);
    CU_ASSERT_EQUAL(out[260], 'A');
    /* One byte less room, or one byte more name: refused, not cut. */
    CU_ASSERT_EQUAL(envname(name, 256, out, GW_ENVNAME_MAX - 1, 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    CU_ASSERT_EQUAL(envname(name, 257, out, GW_ENVNAME_MAX, 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    CU_ASSERT_EQUAL(envname(name, 257, out, GW_ENVNAME_MAX + 1, 0), 262);
    /* Small buffers: "HTTP_A" needs 7 bytes. */
    CU_ASSERT_EQUAL(envname(LIT("A"), out, 7, 0), 6);
    CU_ASSERT_STRING_EQUAL(out, "HTTP_A");
    CU_ASSERT_EQUAL(envname(LIT("A"), out, 6, 0), 0);
    CU_ASSERT_EQUAL(envname(LIT("A"), out, 1, 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    CU_ASSERT_EQUAL(envname(LIT("Content-Type"), out, 13, 0), 12);
    CU_ASSERT_STRING_EQUAL(out, "CONTENT_TYPE");
    CU_ASSERT_EQUAL(envname(LIT("Content-Type"), out, 12, 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    CU_ASSERT_EQUAL(gw_envname_from_header("Host", 4, out, 0, 0), 0);
    CU_ASSERT_EQUAL(gw_envname_from_header("Host", 4, NULL, 64, 0), 0);
    CU_ASSERT_EQUAL(gw_envname_from_header(NULL, 4, out, sizeof(out), 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
    /* Only len counts. */
    CU_ASSERT_EQUAL(gw_envname_from_header("Host: x", 4, out, 64, 0), 9);
    CU_ASSERT_STRING_EQUAL(out, "HTTP_HOST");
}

static void test_unknown_flags(void)
{
    char out[GW_ENVNAME_MAX];

    CU_ASSERT_EQUAL(envname(LIT("Authorization"), out, sizeof(out), 0x2), 0);
    CU_ASSERT_EQUAL(envname(LIT("Proxy"), out, sizeof(out), ~0u), 0);
    CU_ASSERT_EQUAL(envname(LIT("Proxy-Authorization"), out, sizeof(out), ~0u),
                    0);
    CU_ASSERT_EQUAL(envname(LIT("Authorization"), out, sizeof(out), ~0u), 18);
}

static void test_is_header_key(void)
{
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTP_HOST"), 1);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTP_"), 1);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTP_PROXY"), 1);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTP"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTPS"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("HTTP-HOST"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("CONTENT_TYPE"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("REMOTE_USER"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("mod_gateway.version"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key("X_HTTP_HOST"), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key(""), 0);
    CU_ASSERT_EQUAL(gw_envname_is_header_key(NULL), 0);
}

/* Every exported key is a header key, except the two CGI ones, so the
 * child can tell the namespaces apart with gw_envname_is_header_key. */
static void test_round_trip(void)
{
    size_t i;

    for (i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
        const struct env_case *c = &env_cases[i];
        char out[GW_ENVNAME_MAX];
        int cgi;

        if (!c->key) {
            continue;
        }
        cgi = strcmp(c->key, "CONTENT_TYPE") == 0 ||
              strcmp(c->key, "CONTENT_LENGTH") == 0;
        envname(c->name, c->len, out, sizeof(out), c->flags);
        CHECKF(gw_envname_is_header_key(out) == !cgi, "row %zu: '%.40s'", i,
               out);
    }
}

static CU_TestInfo tests[] = {
    {"table", test_table},
    {"every byte", test_every_byte},
    {"lengths and buffer sizes", test_lengths},
    {"unknown flags", test_unknown_flags},
    {"is_header_key", test_is_header_key},
    {"exported keys are header keys", test_round_trip},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "envname"
#include "unit.h"
