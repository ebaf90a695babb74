/*
 * fuzz_http.c -- libFuzzer target: gw_http's validators (status line,
 * header name, header value, hop-by-hop, name_eq) and Content-Length
 * parser, which the Apache child runs on what a daemon (tenant code) sends.
 *
 * Input: byte 0 = control, the rest = the string s. Bits 0-1 of the
 * control byte stretch s (repeated) to a length around a cap, so the caps
 * are reached without 64 KiB inputs: 1 = GW_HTTP_NAME_MAX, 2 =
 * GW_HTTP_STATUS_MAX, 3 = GW_HTTP_VALUE_MAX, each plus (bits 2-3) - 1,
 * i.e. cap-1 .. cap+2, and the stretched copy goes to the check with that
 * cap. Every function sees the plain input, each time in an exact-size
 * heap copy, so ASan catches a read past len.
 *
 * Oracles: each result is compared with a reference written from
 * RELIABILITY.md and gw_http.h, not from gw_http.c:
 *  - status: accepted iff 4..516 bytes, 3 digits 200..599, one SP, reason
 *    of HTAB, 0x20-0x7E or 0x80-0xFF; *code is the number;
 *  - header name: accepted iff 1..256 RFC 9110 tchars;
 *  - header value: accepted iff 0..65536 bytes of HTAB, 0x20-0x7E,
 *    0x80-0xFF (no CR, LF, NUL, other CTL or DEL);
 *  - Content-Length: accepted iff 1..19 digits and <= INT64_MAX; the value
 *    printed with %lld is the input without its leading zeros;
 *  - failures set *err; hop-by-hop and name_eq match a strncasecmp-free
 *    reference; status_has_no_body agrees with the code.
 *
 * Sources: mod_gateway/gw_http.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_http oracle failed: %s:%d: %s\n", __FILE__,  \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* ---- reference ------------------------------------------------------- */

static int ref_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int ref_text(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
}

static int ref_tchar(unsigned char c)
{
    static const char specials[] = "!#$%&'*+-.^_`|~";
    size_t i;

    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ref_digit(c)) {
        return 1;
    }
    for (i = 0; i < sizeof(specials) - 1; i++) {
        if ((unsigned char)specials[i] == c) {
            return 1;
        }
    }
    return 0;
}

static int ref_status(const unsigned char *s, size_t len, int *code)
{
    size_t i;
    int n;

    if (len < 4 || len > 516 || !ref_digit(s[0]) || !ref_digit(s[1]) ||
        !ref_digit(s[2]) || s[3] != ' ') {
        return -1;
    }
    n = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (n < 200 || n > 599) {
        return -1;
    }
    for (i = 4; i < len; i++) {
        if (!ref_text(s[i])) {
            return -1;
        }
    }
    *code = n;
    return 0;
}

static int ref_name(const unsigned char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 256) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!ref_tchar(s[i])) {
            return -1;
        }
    }
    return 0;
}

static int ref_value(const unsigned char *s, size_t len)
{
    size_t i;

    if (len > 65536) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!ref_text(s[i])) {
            return -1;
        }
    }
    return 0;
}

/* 1..19 digits, value <= 2^63-1, computed with a wider type */
static int ref_content_length(const unsigned char *s, size_t len,
                              long long *out)
{
    unsigned __int128 v = 0;
    size_t i;

    if (len == 0 || len > 19) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!ref_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > (unsigned __int128)INT64_MAX) {
        return -1;
    }
    *out = (long long)v;
    return 0;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static int ref_name_eq(const unsigned char *a, size_t alen, const char *b)
{
    size_t i;

    if (strlen(b) != alen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        if (lower(a[i]) != lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

static const char *const hop[] = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
};

/* Names that are almost hop-by-hop, for name_eq on near misses. */
static const char *const others[] = {
    "", "Content-Length", "Connection ", "T", "Keep-Alive\x01", "Upgrade",
};

/* ---- the checks ---------------------------------------------------------- */

static char *exact(const unsigned char *s, size_t len)
{
    char *p = malloc(len ? len : 1);

    CHECK(p != NULL);
    if (len > 0) {
        memcpy(p, s, len);
    }
    return p;
}

static void check_status(const unsigned char *s, size_t len)
{
    char *p = exact(s, len);
    const char *err = NULL;
    int code = -7, ref = -7, rc;
    char printed[8];

    rc = gw_http_check_status(p, len, &code, &err);
    CHECK(rc == ref_status(s, len, &ref));
    CHECK(gw_http_check_status(p, len, NULL, NULL) == rc);
    if (rc == 0) {
        CHECK(code == ref && code >= 200 && code <= 599);
        snprintf(printed, sizeof(printed), "%d ", code);
        CHECK(memcmp(printed, p, 4) == 0);
        CHECK(gw_http_status_has_no_body(code) == (code == 204 || code == 304));
        /* no CR/LF/NUL: what is accepted cannot split a response */
        CHECK(memchr(p, '\r', len) == NULL && memchr(p, '\n', len) == NULL &&
              memchr(p, '\0', len) == NULL);
    }
    else {
        CHECK(err != NULL && *err != '\0');
        CHECK(code == -7); /* untouched on failure */
    }
    free(p);
}

static void check_name(const unsigned char *s, size_t len)
{
    char *p = exact(s, len);
    const char *err = NULL;
    size_t i;
    int rc, hbh = 0;

    rc = gw_http_check_header_name(p, len, &err);
    CHECK(rc == ref_name(s, len));
    CHECK(gw_http_check_header_name(p, len, NULL) == rc);
    if (rc != 0) {
        CHECK(err != NULL && *err != '\0');
    }
    for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
        CHECK(gw_http_name_eq(p, len, hop[i]) == ref_name_eq(s, len, hop[i]));
        hbh |= ref_name_eq(s, len, hop[i]);
    }
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        CHECK(gw_http_name_eq(p, len, others[i]) ==
              ref_name_eq(s, len, others[i]));
    }
    CHECK(gw_http_is_hop_by_hop(p, len) == hbh);
    free(p);
}

/* expect: the reference's verdict, or 1 to compute it here */
static void check_value(const unsigned char *s, size_t len, int expect)
{
    char *p = exact(s, len);
    const char *err = NULL;
    int rc;

    rc = gw_http_check_header_value(p, len, &err);
    CHECK(rc == (expect == 1 ? ref_value(s, len) : expect));
    if (rc != 0) {
        CHECK(err != NULL && *err != '\0');
    }
    free(p);
}

static void check_content_length(const unsigned char *s, size_t len)
{
    char *p = exact(s, len);
    const char *err = NULL;
    long long v = -7, ref = -8;
    char printed[32];
    size_t z = 0;
    int rc;

    rc = gw_http_parse_content_length(p, len, &v, &err);
    CHECK(rc == ref_content_length(s, len, &ref));
    CHECK(gw_http_parse_content_length(p, len, NULL, NULL) == rc);
    if (rc == 0) {
        CHECK(v == ref && v >= 0);
        /* round trip modulo leading zeros ("0" stays "0") */
        while (z + 1 < len && p[z] == '0') {
            z++;
        }
        snprintf(printed, sizeof(printed), "%lld", v);
        CHECK(strlen(printed) == len - z &&
              memcmp(printed, p + z, len - z) == 0);
    }
    else {
        CHECK(err != NULL && *err != '\0');
        CHECK(v == -7);
    }
    free(p);
}

static void check_all(const unsigned char *s, size_t len)
{
    check_status(s, len);
    check_name(s, len);
    check_value(s, len, 1);
    check_content_length(s, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {0, GW_HTTP_NAME_MAX, GW_HTTP_STATUS_MAX,
                                  GW_HTTP_VALUE_MAX};
    unsigned char ctl, *big;
    size_t n, have;

    if (size == 0) {
        check_all((const unsigned char *)"", 0);
        return 0;
    }
    ctl = data[0];
    data++;
    size--;
    check_all(data, size);
    if ((ctl & 3) == 0 || size == 0) {
        return 0;
    }
    /* s repeated to cap - 1 .. cap + 2, for the check that has that cap */
    n = caps[ctl & 3] + ((ctl >> 2) & 3) - 1;
    big = malloc(n);
    CHECK(big != NULL);
    have = size < n ? size : n;
    memcpy(big, data, have);
    while (have < n) {
        size_t k = have < n - have ? have : n - have;

        memcpy(big + have, big, k);
        have += k;
    }
    switch (ctl & 3) {
        case 1:
            check_name(big, n);
            break;
        case 2:
            check_status(big, n);
            break;
        default:
            /* when every byte of s is in big: s's verdict plus the length
             * cap, without a second instrumented 64 KiB loop */
            check_value(big, n,
                        size > n                ? 1
                        : n > GW_HTTP_VALUE_MAX ? -1
                                                : ref_value(data, size));
            break;
    }
    free(big);
    return 0;
}
