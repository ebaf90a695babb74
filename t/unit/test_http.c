/*
 * test_http.c -- CUnit suite for mod_gateway/gw_http.c (L0, no stubs).
 *
 * Inputs are copied into heap buffers of exactly len bytes with no NUL
 * after them, so an ASan build catches any read past len.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "../../mod_gateway/gw_http.h"

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

/* A copy of s[0..len) with nothing readable after it. */
static char *exact(const char *s, size_t len)
{
    char *p = calloc(len ? len : 1, 1);

    if (p && len) {
        memcpy(p, s, len);
    }
    return p;
}

static int status(const char *s, size_t len, int *code, const char **err)
{
    char *p = exact(s, len);
    int rv = gw_http_check_status(p, len, code, err);

    free(p);
    return rv;
}

static int hname(const char *s, size_t len, const char **err)
{
    char *p = exact(s, len);
    int rv = gw_http_check_header_name(p, len, err);

    free(p);
    return rv;
}

static int hvalue(const char *s, size_t len, const char **err)
{
    char *p = exact(s, len);
    int rv = gw_http_check_header_value(p, len, err);

    free(p);
    return rv;
}

static int hop(const char *s, size_t len)
{
    char *p = exact(s, len);
    int rv = gw_http_is_hop_by_hop(p, len);

    free(p);
    return rv;
}

static int clen(const char *s, size_t len, long long *out, const char **err)
{
    char *p = exact(s, len);
    int rv = gw_http_parse_content_length(p, len, out, err);

    free(p);
    return rv;
}

struct status_case {
    const char *s;
    size_t len;
    int code;        /* expected code, or 0 when refused */
    const char *err; /* expected error, when refused */
};

static const struct status_case status_cases[] = {
    {LIT("200 OK"), 200, NULL},
    {LIT("204 "), 204, NULL},
    {LIT("404 Not Found"), 404, NULL},
    {LIT("599 x"), 599, NULL},
    {LIT("200  leading space in reason"), 200, NULL},
    {LIT("200 tab\there"), 200, NULL},
    {LIT("200 caf\xc3\xa9"), 200, NULL},
    {LIT("200 \x80\xff"), 200, NULL},
    {LIT("200 ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./"), 200, NULL},
    {LIT(""), 0, "status line is empty"},
    {LIT("200"), 0,
     "status code must be followed by a space "
     "(\"204 \" for an empty reason)"},
    {LIT("20"), 0, "status code must be three digits"},
    {LIT("20x OK"), 0, "status code must be three digits"},
    {LIT("x00 OK"), 0, "status code must be three digits"},
    {LIT(" 200 OK"), 0, "status code must be three digits"},
    {LIT("+20 OK"), 0, "status code must be three digits"},
    {LIT("-20 OK"), 0, "status code must be three digits"},
    {LIT("20 OK"), 0, "status code must be three digits"},
    {LIT("2000 OK"), 0, "status code must be three digits"},
    {LIT("200OK"), 0, "status code must be followed by a single space"},
    {LIT("200\tOK"), 0, "status code must be followed by a single space"},
    {LIT("200-OK"), 0, "status code must be followed by a single space"},
    {LIT("200\0OK"), 0, "status code must be followed by a single space"},
    {LIT("2\x00"
         "0 OK"),
     0, "status code must be three digits"},
    {LIT("100 Continue"), 0,
     "1xx status codes cannot be sent by an "
     "application"},
    {LIT("101 Switching Protocols"), 0,
     "1xx status codes cannot be sent "
     "by an application"},
    {LIT("199 x"), 0, "1xx status codes cannot be sent by an application"},
    {LIT("000 x"), 0, "status code must be between 200 and 599"},
    {LIT("099 x"), 0, "status code must be between 200 and 599"},
    {LIT("600 x"), 0, "status code must be between 200 and 599"},
    {LIT("999 x"), 0, "status code must be between 200 and 599"},
    {LIT("200 OK\r\nSet-Cookie: a=b"), 0, "status reason contains CR or LF"},
    {LIT("200 OK\n"), 0, "status reason contains CR or LF"},
    {LIT("200 O\0K"), 0, "status reason contains a NUL byte"},
    {LIT("200 OK\x7f"), 0, "status reason contains a control character"},
    {LIT("200 \x1b[31m"), 0, "status reason contains a control character"},
};

static void test_status_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
        const struct status_case *c = &status_cases[i];
        const char *err = NULL;
        int code = -7;
        int rv = status(c->s, c->len, &code, &err);

        if (c->code) {
            CHECKF(rv == 0, "row %zu: refused: %s", i, err ? err : "?");
            CHECKF(code == c->code, "row %zu: code %d", i, code);
        }
        else {
            CHECKF(rv == -1, "row %zu: accepted", i);
            CHECKF(code == -7, "row %zu: code written on failure", i);
            CHECKF(err && strcmp(err, c->err) == 0, "row %zu: err '%s'", i,
                   err ? err : "(null)");
        }
    }
}

static void test_status_every_code(void)
{
    char buf[5] = "??? X";
    int n;

    for (n = 0; n <= 999; n++) {
        int code = 0;
        int rv;

        buf[0] = (char)('0' + n / 100);
        buf[1] = (char)('0' + n / 10 % 10);
        buf[2] = (char)('0' + n % 10);
        rv = status(buf, 5, &code, NULL);
        if (n >= 200 && n <= 599) {
            CHECKF(rv == 0 && code == n, "%03d refused", n);
        }
        else {
            CHECKF(rv == -1, "%03d accepted", n);
        }
    }
}

static void test_status_control_chars(void)
{
    char buf[] = "200 OK?X";
    int c;

    for (c = 0; c < 256; c++) {
        const char *err = NULL;
        int bad = (c < 0x20 && c != '\t') || c == 0x7f;
        int rv;

        buf[6] = (char)c;
        rv = status(buf, 8, NULL, &err);
        CHECKF(rv == (bad ? -1 : 0), "byte 0x%02x mid reason", c);
        rv = status(buf, 7, NULL, NULL);
        CHECKF(rv == (bad ? -1 : 0), "byte 0x%02x ends reason", c);
        if (bad) {
            CHECKF(err && strstr(err, "status reason contains") == err,
                   "byte 0x%02x: err '%s'", c, err ? err : "(null)");
        }
    }
}

static void test_status_lengths(void)
{
    char buf[GW_HTTP_STATUS_MAX + 2];
    const char *err = NULL;
    int code = 0;

    memset(buf, 'r', sizeof(buf));
    memcpy(buf, "200 ", 4);
    CU_ASSERT_EQUAL(status(buf, GW_HTTP_STATUS_MAX, &code, &err), 0);
    CU_ASSERT_EQUAL(code, 200);
    CU_ASSERT_EQUAL(status(buf, GW_HTTP_STATUS_MAX + 1, &code, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "status line is longer than 516 bytes");
    /* Only len counts: a NUL or a CRLF after it is not looked at. */
    CU_ASSERT_EQUAL(gw_http_check_status("200 OK\r\n", 6, NULL, NULL), 0);
    CU_ASSERT_EQUAL(gw_http_check_status("200 OK\0", 6, NULL, NULL), 0);
    CU_ASSERT_EQUAL(gw_http_check_status(NULL, 0, NULL, &err), -1);
    CU_ASSERT_EQUAL(gw_http_check_status(NULL, 6, NULL, NULL), -1);
}

/* RFC 9110 5.6.2 tchar, spelled out independently of the implementation. */
static int ref_tchar(int c)
{
    return c > 0 && c < 128 &&
           strchr("!#$%&'*+-.^_`|~0123456789"
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  c) != NULL;
}

static void test_name_every_byte(void)
{
    char buf[3] = "X?Y";
    int c;

    for (c = 0; c < 256; c++) {
        const char *err = NULL;
        int want = ref_tchar(c) ? 0 : -1;

        buf[1] = (char)c;
        CHECKF(hname(buf, 3, &err) == want, "byte 0x%02x in the middle", c);
        CHECKF(hname(buf + 1, 1, NULL) == want, "byte 0x%02x alone", c);
        CHECKF(hname(buf, 2, NULL) == want, "byte 0x%02x at the end", c);
        if (want) {
            CHECKF(err && strstr(err, "header name contains") == err,
                   "byte 0x%02x: err '%s'", c, err ? err : "(null)");
        }
    }
}

static void test_name_table(void)
{
    const char *err = NULL;

    CU_ASSERT_EQUAL(hname(LIT("Content-Type"), &err), 0);
    CU_ASSERT_EQUAL(hname(LIT("X-Request-Id"), &err), 0);
    CU_ASSERT_EQUAL(hname(LIT("x_underscore"), &err), 0);
    CU_ASSERT_EQUAL(hname(LIT("!#$%&'*+-.^_`|~"), &err), 0);
    CU_ASSERT_EQUAL(hname(LIT(""), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name is empty");
    CU_ASSERT_EQUAL(hname(LIT("Set-Cookie\0X"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name contains a NUL byte");
    CU_ASSERT_EQUAL(hname(LIT("X-A\r\nX-B"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name contains CR or LF");
    CU_ASSERT_EQUAL(hname(LIT("X-A\x7f"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name contains a control character");
    CU_ASSERT_EQUAL(hname(LIT("Content-Type:"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name contains a character not "
                                "allowed in a token (RFC 9110 5.6.2)");
    CU_ASSERT_EQUAL(hname(LIT("X Foo"), NULL), -1);
    CU_ASSERT_EQUAL(hname(LIT(" X"), NULL), -1);
    CU_ASSERT_EQUAL(hname(LIT("X "), NULL), -1);
    CU_ASSERT_EQUAL(hname(LIT("X\tFoo"), NULL), -1);
    CU_ASSERT_EQUAL(hname(LIT("caf\xc3\xa9"), NULL), -1);
    CU_ASSERT_EQUAL(gw_http_check_header_name(NULL, 0, NULL), -1);
    CU_ASSERT_EQUAL(gw_http_check_header_name(NULL, 4, NULL), -1);
    /* Only len counts. */
    CU_ASSERT_EQUAL(gw_http_check_header_name("X-A: b", 3, NULL), 0);
}

static void test_name_lengths(void)
{
    char buf[GW_HTTP_NAME_MAX + 1];
    const char *err = NULL;

    memset(buf, 'n', sizeof(buf));
    CU_ASSERT_EQUAL(hname(buf, 1, &err), 0);
    CU_ASSERT_EQUAL(hname(buf, GW_HTTP_NAME_MAX, &err), 0);
    CU_ASSERT_EQUAL(hname(buf, GW_HTTP_NAME_MAX + 1, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header name is longer than 256 bytes");
}

static void test_value_every_byte(void)
{
    char buf[3] = "a?b";
    int c;

    for (c = 0; c < 256; c++) {
        const char *err = NULL;
        int bad = (c < 0x20 && c != '\t') || c == 0x7f;
        int want = bad ? -1 : 0;

        buf[1] = (char)c;
        CHECKF(hvalue(buf, 3, &err) == want, "byte 0x%02x in the middle", c);
        CHECKF(hvalue(buf + 1, 1, NULL) == want, "byte 0x%02x alone", c);
        CHECKF(hvalue(buf, 2, NULL) == want, "byte 0x%02x at the end", c);
        CHECKF(hvalue(buf + 1, 2, NULL) == want, "byte 0x%02x first", c);
        if (bad) {
            CHECKF(err && strstr(err, "header value contains") == err,
                   "byte 0x%02x: err '%s'", c, err ? err : "(null)");
        }
    }
}

static void test_value_table(void)
{
    const char *err = NULL;

    CU_ASSERT_EQUAL(hvalue(LIT("text/html; charset=utf-8"), &err), 0);
    CU_ASSERT_EQUAL(hvalue(LIT(""), &err), 0);
    CU_ASSERT_EQUAL(hvalue(LIT(" padded\t"), &err), 0);
    CU_ASSERT_EQUAL(hvalue(LIT("attachment; filename=\"\xe2\x82\xac\""), &err),
                    0);
    CU_ASSERT_EQUAL(hvalue(LIT("a\r\nSet-Cookie: admin=1"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains CR or LF");
    CU_ASSERT_EQUAL(hvalue(LIT("a\nb"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains CR or LF");
    CU_ASSERT_EQUAL(hvalue(LIT("a\rb"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains CR or LF");
    CU_ASSERT_EQUAL(hvalue(LIT("/ok\0/evil"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains a NUL byte");
    CU_ASSERT_EQUAL(hvalue(LIT("bell\a"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains a control character");
    CU_ASSERT_EQUAL(gw_http_check_header_value(NULL, 0, &err), 0);
    CU_ASSERT_EQUAL(gw_http_check_header_value(NULL, 1, &err), -1);
    CU_ASSERT_EQUAL(gw_http_check_header_value("ok\r\n", 2, NULL), 0);
}

static void test_value_lengths(void)
{
    char *buf = malloc(GW_HTTP_VALUE_MAX + 1);
    const char *err = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(buf, 'v', GW_HTTP_VALUE_MAX + 1);
    CU_ASSERT_EQUAL(hvalue(buf, GW_HTTP_VALUE_MAX, &err), 0);
    CU_ASSERT_EQUAL(hvalue(buf, GW_HTTP_VALUE_MAX + 1, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value is longer than 65536 bytes");
    /* Every byte is still checked at the cap. */
    buf[GW_HTTP_VALUE_MAX - 1] = '\n';
    CU_ASSERT_EQUAL(hvalue(buf, GW_HTTP_VALUE_MAX, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "header value contains CR or LF");
    free(buf);
}

static void test_hop_by_hop(void)
{
    static const char *const yes[] = {
        "Connection",
        "connection",
        "CONNECTION",
        "cOnNeCtIoN",
        "Keep-Alive",
        "keep-alive",
        "KEEP-ALIVE",
        "Proxy-Authenticate",
        "proxy-authenticate",
        "Proxy-Authorization",
        "PROXY-AUTHORIZATION",
        "Proxy-Connection",
        "proxy-connection",
        "TE",
        "te",
        "Te",
        "tE",
        "Trailer",
        "trailer",
        "Transfer-Encoding",
        "transfer-encoding",
        "TRANSFER-ENCODING",
        "Upgrade",
        "upgrade",
        "UPGRADE",
    };
    static const char *const no[] = {
        "",
        "Content-Length",
        "Content-Type",
        "Connectio",
        "Connections",
        "X-Connection",
        "Keep_Alive",
        "KeepAlive",
        "T",
        "TE ",
        " TE",
        "Trailers",
        "Transfer-Encodin",
        "Proxy",
        "Authorization",
        "Set-Cookie",
        "Location",
        "Upgrade-Insecure-Requests",
    };
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        CHECKF(hop(yes[i], strlen(yes[i])) == 1, "'%s' not hop-by-hop", yes[i]);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        CHECKF(hop(no[i], strlen(no[i])) == 0, "'%s' hop-by-hop", no[i]);
    }
    /* A NUL must not end the comparison early. */
    CU_ASSERT_EQUAL(hop(LIT("TE\0")), 0);
    CU_ASSERT_EQUAL(hop(LIT("Upgrade\0x")), 0);
    CU_ASSERT_EQUAL(gw_http_is_hop_by_hop("Connection: close", 10), 1);
    CU_ASSERT_EQUAL(gw_http_is_hop_by_hop(NULL, 0), 0);
}

static void test_name_eq(void)
{
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("Content-Type"), "content-type"), 1);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("CONTENT-TYPE"), "Content-Type"), 1);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT(""), ""), 1);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT(""), "a"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("a"), ""), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("ab"), "abc"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("abc"), "ab"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("ab\0"), "ab"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("a\0c"), "a"), 0);
    /* b's NUL must end the comparison even when a has a NUL there and b's
     * buffer goes on. */
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("a\0"), "a\0\0"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("TE\0"), "te\0\0"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq("abc", 2, "ab"), 1);
    /* ASCII folding only: '@'/'`', '['/'{' and Latin-1 letters differ by
     * 0x20 but are not case pairs. */
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("@"), "`"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("["), "{"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("\xc9"), "\xe9"), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("\xe9"), "\xe9"), 1);
    CU_ASSERT_EQUAL(gw_http_name_eq(NULL, 0, ""), 0);
    CU_ASSERT_EQUAL(gw_http_name_eq(LIT("a"), NULL), 0);
}

struct clen_case {
    const char *s;
    size_t len;
    int ok;
    long long value;
};

static const struct clen_case clen_cases[] = {
    {LIT("0"), 1, 0},
    {LIT("00"), 1, 0},
    {LIT("1"), 1, 1},
    {LIT("0042"), 1, 42},
    {LIT("1234567890"), 1, 1234567890LL},
    {LIT("9223372036854775807"), 1, 9223372036854775807LL},
    {LIT("0000000000000000001"), 1, 1},
    {LIT("9223372036854775808"), 0, 0},
    {LIT("9999999999999999999"), 0, 0},
    {LIT("18446744073709551615"), 0, 0},
    {LIT("18446744073709551616"), 0, 0},
    {LIT("00000000000000000001"), 0, 0},
    {LIT("12345678901234567890"), 0, 0},
    {LIT(""), 0, 0},
    {LIT("+1"), 0, 0},
    {LIT("-1"), 0, 0},
    {LIT("-0"), 0, 0},
    {LIT(" 1"), 0, 0},
    {LIT("1 "), 0, 0},
    {LIT("\t1"), 0, 0},
    {LIT("1,1"), 0, 0},
    {LIT("1, 1"), 0, 0},
    {LIT("0x10"), 0, 0},
    {LIT("1e3"), 0, 0},
    {LIT("1.0"), 0, 0},
    {LIT("1\0"), 0, 0},
    {LIT("\0"
         "1"),
     0, 0},
    {LIT("1\r\n"), 0, 0},
    {LIT("\xd9\xa1"), 0, 0},
};

static void test_content_length_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(clen_cases) / sizeof(clen_cases[0]); i++) {
        const struct clen_case *c = &clen_cases[i];
        const char *err = NULL;
        long long out = -7;
        int rv = clen(c->s, c->len, &out, &err);

        if (c->ok) {
            CHECKF(rv == 0 && out == c->value, "row %zu: rv %d out %lld", i, rv,
                   out);
        }
        else {
            CHECKF(rv == -1, "row %zu: accepted as %lld", i, out);
            CHECKF(out == -7, "row %zu: out written on failure", i);
            CHECKF(err != NULL && strstr(err, "Content-Length") == err,
                   "row %zu: err '%s'", i, err ? err : "(null)");
        }
    }
}

static void test_content_length_errors(void)
{
    const char *err = NULL;
    long long out = 0;

    CU_ASSERT_EQUAL(clen(LIT(""), &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "Content-Length is empty");
    CU_ASSERT_EQUAL(clen(LIT("12345678901234567890"), &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "Content-Length has more than 19 digits");
    CU_ASSERT_EQUAL(clen(LIT("9223372036854775808"), &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "Content-Length is larger than 2^63-1");
    CU_ASSERT_EQUAL(clen(LIT("-1"), &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "Content-Length must be decimal digits only "
                                "(no sign, space or list)");
    CU_ASSERT_EQUAL(gw_http_parse_content_length(NULL, 0, &out, NULL), -1);
    CU_ASSERT_EQUAL(gw_http_parse_content_length("12\r\n", 2, &out, NULL), 0);
    CU_ASSERT_EQUAL(out, 12);
    CU_ASSERT_EQUAL(gw_http_parse_content_length("7", 1, NULL, NULL), 0);
}

static void test_status_has_no_body(void)
{
    static const int yes[] = {100, 101, 102, 103, 150, 199, 204, 304};
    static const int no[] = {-1,  0,   99,  200, 201, 202, 203, 205,
                             206, 299, 300, 301, 302, 303, 305, 307,
                             400, 404, 500, 503, 599, 600, 1204};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        CHECKF(gw_http_status_has_no_body(yes[i]) == 1, "%d has a body",
               yes[i]);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        CHECKF(gw_http_status_has_no_body(no[i]) == 0, "%d has no body", no[i]);
    }
}

static CU_TestInfo tests[] = {
    {"status: table", test_status_table},
    {"status: every code 000-999", test_status_every_code},
    {"status: every byte in the reason", test_status_control_chars},
    {"status: length cap", test_status_lengths},
    {"name: every byte", test_name_every_byte},
    {"name: table", test_name_table},
    {"name: length cap", test_name_lengths},
    {"value: every byte", test_value_every_byte},
    {"value: table", test_value_table},
    {"value: length cap", test_value_lengths},
    {"hop-by-hop", test_hop_by_hop},
    {"name_eq", test_name_eq},
    {"content-length: table", test_content_length_table},
    {"content-length: errors", test_content_length_errors},
    {"status_has_no_body", test_status_has_no_body},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "http"
#include "unit.h"
