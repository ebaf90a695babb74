/*
 * test_path.c -- CUnit suite for mod_gateway/gw_path.c (L0, no stubs).
 *
 * Besides the tables, gw_path_alias_match is compared with a transcription
 * of mod_alias's alias_matches() (httpd 2.4 modules/mappers/mod_alias.c)
 * over every uri and alias of up to 6 and 4 bytes from {'/', 'a', 'b'}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "../../mod_gateway/gw_path.h"

/* An assertion whose failure message says which table row or input failed. */
#define CHECKF(cond, ...)                                                      \
    do {                                                                       \
        int ok_ = !!(cond);                                                    \
        char m_[256] = #cond;                                                  \
        if (!ok_) {                                                            \
            snprintf(m_, sizeof(m_), __VA_ARGS__);                             \
        }                                                                      \
        CU_assertImplementation(ok_, __LINE__, m_, __FILE__, "", CU_FALSE);    \
    } while (0)

/* gw_path_alias_match on heap copies, so ASan sees any over-read. */
static size_t match(const char *uri, const char *alias)
{
    char *u = strdup(uri);
    char *a = strdup(alias);
    size_t n = gw_path_alias_match(u, a);

    free(u);
    free(a);
    return n;
}

struct match_case {
    const char *uri;
    const char *alias;
    size_t matched;
    size_t rest;
};

static const struct match_case match_cases[] = {
    {"/app/x", "/app", 4, 4},
    {"/apple", "/app", 0, 0},
    {"/app", "/app/", 0, 0},
    {"/foo", "/", 1, 0},
    {"//app//x", "/app", 5, 5},
    {"/", "/", 1, 0},
    {"/app", "/app", 4, 4},
    {"/app/", "/app", 4, 4},
    {"/app/", "/app/", 5, 4},
    {"/app/x", "/app/", 5, 4},
    {"/app//x", "/app/", 6, 5},
    {"/app//x", "/app", 4, 4},
    {"///foo", "/", 3, 2},
    {"///", "/", 3, 2},
    {"/x", "//", 1, 0},
    {"/a/b", "/a//b", 4, 4},
    {"/a//b/c", "/a/b", 5, 5},
    {"/app/x/y", "/app/x", 6, 6},
    {"/app/xy", "/app/x", 0, 0},
    {"/app/x", "/app/x/", 0, 0},
    {"/APP", "/app", 0, 0},
    {"/ap", "/app", 0, 0},
    {"/", "/app", 0, 0},
    {"", "/app", 0, 0},
    {"", "/", 0, 0},
    {"app", "/app", 0, 0},
    {"/app", "", 0, 0},
    {"/app?x", "/app", 0, 0},
    {"/app.py", "/app", 0, 0},
    {"/a%2Fb", "/a", 0, 0},
    {"/caf\xc3\xa9/x", "/caf\xc3\xa9", 6, 6},
};

static void test_match_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *c = &match_cases[i];
        size_t n = match(c->uri, c->alias);

        CHECKF(n == c->matched, "row %zu: '%s' ~ '%s' = %zu", i, c->uri,
               c->alias, n);
        if (n > 0) {
            size_t r = gw_path_alias_rest(c->uri, n);

            CHECKF(r == c->rest, "row %zu: rest %zu", i, r);
        }
    }
}

/* httpd 2.4 mod_alias.c alias_matches(), transcribed as the oracle. */
static size_t ref_alias_matches(const char *uri, const char *alias_fakename)
{
    const char *aliasp = alias_fakename, *urip = uri;

    while (*aliasp) {
        if (*aliasp == '/') {
            if (*urip != '/') {
                return 0;
            }
            do {
                ++aliasp;
            } while (*aliasp == '/');
            do {
                ++urip;
            } while (*urip == '/');
        }
        else {
            if (*urip++ != *aliasp++) {
                return 0;
            }
        }
    }
    if (aliasp[-1] != '/' && *urip != '\0' && *urip != '/') {
        return 0;
    }
    return (size_t)(urip - uri);
}

/* The n-th string over {'/', 'a', 'b'} of exactly len bytes. */
static void nth_string(char *out, size_t len, unsigned n)
{
    static const char alphabet[] = "/ab";
    size_t i;

    for (i = 0; i < len; i++, n /= 3) {
        out[i] = alphabet[n % 3];
    }
    out[len] = '\0';
}

static void check_against_oracle(const char *uri, const char *alias)
{
    size_t want = ref_alias_matches(uri, alias);
    size_t n = match(uri, alias);
    size_t r;

    CHECKF(n == want, "'%s' ~ '%s': %zu, mod_alias says %zu", uri, alias, n,
           want);
    if (n == 0) {
        return;
    }
    r = gw_path_alias_rest(uri, n);
    CHECKF(uri[r] == '\0' || uri[r] == '/', "'%s' ~ '%s': rest '%s'", uri,
           alias, uri + r);
    CHECKF(r == n || (r == n - 1 && uri[r] == '/'), "'%s' ~ '%s': rest %zu",
           uri, alias, r);
}

static void test_match_oracle(void)
{
    char uri[8], alias[8];
    size_t ulen, alen;
    unsigned i, j, ucount, acount;

    for (alen = 1; alen <= 4; alen++) {
        for (acount = 1, i = 0; i < alen; i++) {
            acount *= 3;
        }
        for (ulen = 0; ulen <= 6; ulen++) {
            for (ucount = 1, i = 0; i < ulen; i++) {
                ucount *= 3;
            }
            for (j = 0; j < acount; j++) {
                nth_string(alias, alen, j);
                for (i = 0; i < ucount; i++) {
                    nth_string(uri, ulen, i);
                    check_against_oracle(uri, alias);
                }
            }
        }
    }
}

static void test_match_null(void)
{
    CU_ASSERT_EQUAL(gw_path_alias_match(NULL, "/"), 0);
    CU_ASSERT_EQUAL(gw_path_alias_match("/", NULL), 0);
    CU_ASSERT_EQUAL(gw_path_alias_match(NULL, NULL), 0);
}

static void test_rest(void)
{
    CU_ASSERT_EQUAL(gw_path_alias_rest("/foo", 1), 0);
    CU_ASSERT_EQUAL(gw_path_alias_rest("/app/x", 4), 4);
    CU_ASSERT_EQUAL(gw_path_alias_rest("/app/x", 5), 4);
    CU_ASSERT_EQUAL(gw_path_alias_rest("/app", 4), 4);
    CU_ASSERT_EQUAL(gw_path_alias_rest("///foo", 3), 2);
    CU_ASSERT_EQUAL(gw_path_alias_rest("/", 1), 0);
    CU_ASSERT_EQUAL(gw_path_alias_rest("/app", 0), 0);
    CU_ASSERT_EQUAL(gw_path_alias_rest("", 0), 0);
    CU_ASSERT_EQUAL(gw_path_alias_rest(NULL, 0), 0);
}

struct strip_case {
    const char *s;
    size_t len;
    size_t want;
};

static const struct strip_case strip_cases[] = {
    {"/app/", 5, 4},  {"/app", 4, 4},   {"/app///", 7, 4}, {"/a/b/", 5, 4},
    {"/", 1, 0},      {"///", 3, 0},    {"", 0, 0},        {"app/", 4, 3},
    {"/app/x", 5, 4}, {"/app/x", 4, 4}, {"/app", 0, 0},
};

static void test_strip(void)
{
    size_t i;

    for (i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
        const struct strip_case *c = &strip_cases[i];
        char *p = calloc(c->len ? c->len : 1, 1);
        size_t n;

        memcpy(p, c->s, c->len);
        n = gw_path_strip_trailing_slashes(p, c->len);
        CHECKF(n == c->want, "row %zu: %zu", i, n);
        free(p);
    }
    CU_ASSERT_EQUAL(gw_path_strip_trailing_slashes(NULL, 0), 0);
}

/* SCRIPT_NAME + PATH_INFO, the way translate_name builds them, gives the
 * uri back with at most the doubled slashes folded. */
static void test_split_uri(void)
{
    static const char *const uris[] = {"/app", "/app/", "/app/x/y", "/app//x"};
    size_t i;

    for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        size_t n = gw_path_alias_match(uris[i], "/app/");
        size_t r, sn;

        if (n == 0) {
            CHECKF(strcmp(uris[i], "/app") == 0, "'%s' not matched", uris[i]);
            continue;
        }
        r = gw_path_alias_rest(uris[i], n);
        sn = gw_path_strip_trailing_slashes(uris[i], r);
        CHECKF(sn == 4 && strncmp(uris[i], "/app", 4) == 0,
               "'%s': SCRIPT_NAME %zu", uris[i], sn);
        CHECKF(uris[i][r] == '/', "'%s': PATH_INFO '%s'", uris[i], uris[i] + r);
    }
}

static CU_TestInfo tests[] = {
    {"alias_match: table", test_match_table},
    {"alias_match: against mod_alias", test_match_oracle},
    {"alias_match: NULL", test_match_null},
    {"alias_rest", test_rest},
    {"strip_trailing_slashes", test_strip},
    {"SCRIPT_NAME and PATH_INFO", test_split_uri},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "path"
#include "unit.h"
