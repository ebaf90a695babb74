/*
 * gw_http.c -- L0: validation of a response's status line, header names and
 * values, hop-by-hop headers and Content-Length.
 *
 * Pure C: no APR, no httpd, no Python, no allocation, no logging. Runs in
 * the daemons (the WSGI adapter checks what the app passes to
 * start_response) and again in the Apache children, which treat whatever a
 * daemon sends as hostile. Every input is (ptr, len): an embedded NUL is a
 * failure, never a truncation (mod_wsgi CVE-2014-0242 class), and nothing
 * past len is read.
 */
#include <stdint.h>
#include <string.h>

#include "gw_http.h"

/* Headers a gateway must consume rather than forward (RFC 9110 7.6.1);
 * Transfer-Encoding from an app must never reach the client, since httpd
 * does its own framing (CVE-2024-24795 class). */
static const char *const hop_by_hop[] = {
    "Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Connection",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
};

static int fail(const char **err, const char *msg)
{
    if (err) {
        *err = msg;
    }
    return -1;
}

/* ASCII only: the C library's tolower() depends on the locale. */
static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* VCHAR, SP, HTAB or obs-text: what a reason phrase and a field value may
 * hold (RFC 9110 5.5, RFC 9112 4). */
static int is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* For each kind of field, what to say about a byte that is not text: NUL
 * and CR/LF get their own words because they are the truncation and the
 * injection attacks. */
static const char *const reason_errors[] = {
    "status reason contains a NUL byte",
    "status reason contains CR or LF",
    "status reason contains a control character",
};
static const char *const name_errors[] = {
    "header name contains a NUL byte",
    "header name contains CR or LF",
    "header name contains a control character",
};
static const char *const value_errors[] = {
    "header value contains a NUL byte",
    "header value contains CR or LF",
    "header value contains a control character",
};

static const char *text_error(unsigned char c, const char *const msgs[3])
{
    if (c == '\0') {
        return msgs[0];
    }
    if (c == '\r' || c == '\n') {
        return msgs[1];
    }
    return msgs[2];
}

static int check_status_code(const char *s, size_t len, int *code,
                             const char **err)
{
    int n;

    if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) {
        return fail(err, "status code must be three digits");
    }
    if (len == 3) {
        return fail(err, "status code must be followed by a space "
                         "(\"204 \" for an empty reason)");
    }
    if (is_digit(s[3])) {
        return fail(err, "status code must be three digits");
    }
    if (s[3] != ' ') {
        return fail(err, "status code must be followed by a single space");
    }
    n = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (n >= 100 && n <= 199) {
        return fail(err, "1xx status codes cannot be sent by an "
                         "application");
    }
    if (n < 200 || n > 599) {
        return fail(err, "status code must be between 200 and 599");
    }
    *code = n;
    return 0;
}

int gw_http_check_status(const char *s, size_t len, int *code, const char **err)
{
    size_t i;
    int n = 0;

    if (s == NULL || len == 0) {
        return fail(err, "status line is empty");
    }
    if (len > GW_HTTP_STATUS_MAX) {
        return fail(err, "status line is longer than 516 bytes");
    }
    if (check_status_code(s, len, &n, err) != 0) {
        return -1;
    }
    for (i = 4; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!is_text(c)) {
            return fail(err, text_error(c, reason_errors));
        }
    }
    if (code) {
        *code = n;
    }
    return 0;
}

int gw_http_check_header_name(const char *s, size_t len, const char **err)
{
    size_t i;

    if (s == NULL || len == 0) {
        return fail(err, "header name is empty");
    }
    if (len > GW_HTTP_NAME_MAX) {
        return fail(err, "header name is longer than 256 bytes");
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_tchar(c)) {
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            return fail(err, text_error(c, name_errors));
        }
        return fail(err, "header name contains a character not allowed "
                         "in a token (RFC 9110 5.6.2)");
    }
    return 0;
}

int gw_http_check_header_value(const char *s, size_t len, const char **err)
{
    size_t i;

    if (len == 0) {
        return 0;
    }
    if (s == NULL) {
        return fail(err, "header value is missing");
    }
    if (len > GW_HTTP_VALUE_MAX) {
        return fail(err, "header value is longer than 65536 bytes");
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!is_text(c)) {
            return fail(err, text_error(c, value_errors));
        }
    }
    return 0;
}

int gw_http_is_hop_by_hop(const char *name, size_t len)
{
    size_t i;

    if (name == NULL) {
        return 0;
    }
    for (i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++) {
        if (gw_http_name_eq(name, len, hop_by_hop[i])) {
            return 1;
        }
    }
    return 0;
}

int gw_http_name_eq(const char *a, size_t alen, const char *b)
{
    size_t i;

    if (a == NULL || b == NULL) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        /* b ending first also rejects a NUL inside a. */
        if (b[i] == '\0') {
            return 0;
        }
        if (ascii_lower((unsigned char)a[i]) !=
            ascii_lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return b[alen] == '\0';
}

int gw_http_parse_content_length(const char *s, size_t len, long long *out,
                                 const char **err)
{
    uint64_t v = 0;
    size_t i;

    if (s == NULL || len == 0) {
        return fail(err, "Content-Length is empty");
    }
    /* INT64_MAX has 19 digits; a longer string is either an overflow or
     * padding meant to confuse another parser on the path. */
    if (len > 19) {
        return fail(err, "Content-Length has more than 19 digits");
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!is_digit(c)) {
            return fail(err, "Content-Length must be decimal digits only "
                             "(no sign, space or list)");
        }
        /* 19 digits fit in uint64_t, so this cannot wrap. */
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (v > (uint64_t)INT64_MAX) {
        return fail(err, "Content-Length is larger than 2^63-1");
    }
    if (out) {
        *out = (long long)v;
    }
    return 0;
}

int gw_http_status_has_no_body(int code)
{
    return (code >= 100 && code <= 199) || code == 204 || code == 304;
}
