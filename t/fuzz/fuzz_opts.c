/*
 * fuzz_opts.c -- libFuzzer target: gw_opts, the parsers of directive
 * arguments (key=value, integers, flags, durations, sizes, umasks).
 *
 * Input: byte 0 picks the [min, max] of gw_opts_parse_long (low 3 bits:
 * min, next 3: max, from a table of edge values), byte 1 the max of
 * gw_opts_parse_duration and gw_opts_parse_size (same way), the rest is
 * the argument (up to the first NUL, since directive arguments are C
 * strings), copied into an exact-size heap string. Every parser sees
 * every input.
 *
 * Oracles: each parser agrees with a reference written from gw_opts.h (a
 * grammar check plus arithmetic in a wider type, or libc's strtol), so
 * "accepted" means "well-formed and in range" and the value is the right
 * one; accepted values are within the requested ranges; failures set *err
 * and leave *out alone; gw_opts_split's key is a non-empty [a-z0-9-] run
 * ending at the first '=', its value everything after it.
 *
 * Sources: mod_gateway/gw_opts.c
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_opts oracle failed: %s:%d: %s\n", __FILE__,  \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static const long long_edges[8] = {LONG_MIN, LONG_MIN + 1, -1,      0, 1,
                                   100,      LONG_MAX - 1, LONG_MAX};
static const long long ll_edges[8] = {
    -1, 0, 1, 999, 1000000LL, 86400000000LL, LLONG_MAX - 1, LLONG_MAX};

typedef unsigned __int128 u128;

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t digits(const char *s)
{
    size_t n = 0;

    while (digit(s[n])) {
        n++;
    }
    return n;
}

/* Value of n decimal digits, saturated at 2^64 (above any accepted value)
 * so that times a unit of up to 2^30 it still cannot wrap. */
static u128 value(const char *s, size_t n)
{
    u128 v = 0, limit = (u128)1 << 64;
    size_t i;

    for (i = 0; i < n; i++) {
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > limit) {
            v = limit;
        }
    }
    return v;
}

static int ascii_case_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;

        if (x != *b) {
            return 0;
        }
    }
    return *a == '\0' && *b == '\0';
}

static void check_long(const char *s, long min, long max)
{
    const char *err = NULL, *p = s + (s[0] == '-');
    long v = 12345, ref = 0;
    int rc, ok;
    char *end;

    rc = gw_opts_parse_long(s, min, max, &v, &err);
    ok = digits(p) > 0 && p[digits(p)] == '\0';
    if (ok) {
        errno = 0;
        ref = strtol(s, &end, 10);
        ok = errno == 0 && *end == '\0' && ref >= min && ref <= max;
    }
    CHECK(rc == (ok ? 0 : -1));
    if (rc == 0) {
        CHECK(v == ref && v >= min && v <= max);
    }
    else {
        CHECK(err != NULL && v == 12345);
    }
}

static void check_flag(const char *s)
{
    static const char *const on[] = {"on", "1", "yes", "true"};
    static const char *const off[] = {"off", "0", "no", "false"};
    const char *err = NULL;
    int v = 7, ref = -1, rc;
    size_t i;

    for (i = 0; i < 4; i++) {
        if (ascii_case_eq(s, on[i])) {
            ref = 1;
        }
        if (ascii_case_eq(s, off[i])) {
            ref = 0;
        }
    }
    rc = gw_opts_parse_flag(s, &v, &err);
    CHECK(rc == (ref >= 0 ? 0 : -1));
    if (rc == 0) {
        CHECK(v == ref);
    }
    else {
        CHECK(err != NULL && v == 7);
    }
}

/* DIGITS [ "." DIGITS ] [ "ms" | "s" ], the fraction truncated to the
 * unit's microseconds. */
static int ref_duration(const char *s, long long max, long long *out)
{
    size_t w = digits(s), f = 0, i;
    const char *p = s + w, *frac = NULL;
    u128 unit = 1000000, fv = 0, scale, v;

    if (w == 0) {
        return -1;
    }
    if (*p == '.') {
        frac = p + 1;
        f = digits(frac);
        if (f == 0) {
            return -1;
        }
        p = frac + f;
    }
    if (strcmp(p, "ms") == 0) {
        unit = 1000;
    }
    else if (*p != '\0' && strcmp(p, "s") != 0) {
        return -1;
    }
    for (i = 0, scale = unit / 10; i < f && scale > 0; i++, scale /= 10) {
        fv += (unsigned)(frac[i] - '0') * scale;
    }
    v = value(s, w) * unit + fv;
    if (max < 0 || v > (u128)max) {
        return -1;
    }
    *out = (long long)v;
    return 0;
}

static void check_duration(const char *s, long long max)
{
    const char *err = NULL;
    long long v = 12345, ref = 0;
    int rc = gw_opts_parse_duration(s, max, &v, &err);

    CHECK(rc == ref_duration(s, max, &ref));
    if (rc == 0) {
        CHECK(v == ref && v >= 0 && v <= max);
    }
    else {
        CHECK(err != NULL && v == 12345);
    }
}

/* DIGITS [ k | K | m | M | g | G ] */
static int ref_size(const char *s, long long max, long long *out)
{
    size_t w = digits(s);
    u128 mult = 1, v;

    if (w == 0) {
        return -1;
    }
    switch (s[w]) {
        case '\0':
            break;
        case 'k':
        case 'K':
            mult = 1024;
            break;
        case 'm':
        case 'M':
            mult = 1024 * 1024;
            break;
        case 'g':
        case 'G':
            mult = 1024 * 1024 * 1024;
            break;
        default:
            return -1;
    }
    if (s[w] != '\0' && s[w + 1] != '\0') {
        return -1;
    }
    v = value(s, w) * mult;
    if (max < 0 || v > (u128)max) {
        return -1;
    }
    *out = (long long)v;
    return 0;
}

static void check_size(const char *s, long long max)
{
    const char *err = NULL;
    long long v = 12345, ref = 0;
    int rc = gw_opts_parse_size(s, max, &v, &err);

    CHECK(rc == ref_size(s, max, &ref));
    if (rc == 0) {
        CHECK(v == ref && v >= 0 && v <= max);
    }
    else {
        CHECK(err != NULL && v == 12345);
    }
}

static void check_umask(const char *s)
{
    const char *err = NULL;
    unsigned v = 12345, ref = 0;
    size_t i, n = strlen(s);
    int ok = n > 0, rc;

    for (i = 0; i < n && ok; i++) {
        ok = s[i] >= '0' && s[i] <= '7';
        ref = ref > 0777 ? ref : ref * 8 + (unsigned)(s[i] - '0');
    }
    ok = ok && ref <= 0777;
    rc = gw_opts_parse_umask(s, &v, &err);
    CHECK(rc == (ok ? 0 : -1));
    if (rc == 0) {
        CHECK(v == ref && v <= 0777);
    }
    else {
        CHECK(err != NULL && v == 12345);
    }
}

static void check_split(const char *s)
{
    const char *key = NULL, *val = NULL, *err = NULL;
    const char *eq = strchr(s, '=');
    size_t keylen = 999, i;
    int ok = eq != NULL && eq != s, rc;

    for (i = 0; ok && s + i < eq; i++) {
        ok = (s[i] >= 'a' && s[i] <= 'z') || digit(s[i]) || s[i] == '-';
    }
    rc = gw_opts_split(s, &key, &keylen, &val, &err);
    CHECK(rc == (ok ? 0 : -1));
    if (rc == 0) {
        CHECK(key == s && keylen == (size_t)(eq - s) && keylen > 0);
        CHECK(val == eq + 1);
        CHECK(memchr(key, '=', keylen) == NULL);
    }
    else {
        CHECK(err != NULL && key == NULL && val == NULL && keylen == 999);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char c0 = size > 0 ? data[0] : 0, c1 = size > 1 ? data[1] : 0;
    size_t off = size > 2 ? 2 : size, n = size - off;
    const uint8_t *nul = n ? memchr(data + off, 0, n) : NULL;
    char *s;

    if (nul != NULL) {
        n = (size_t)(nul - (data + off));
    }
    s = malloc(n + 1);
    CHECK(s != NULL);
    if (n > 0) {
        memcpy(s, data + off, n);
    }
    s[n] = '\0';

    check_long(s, long_edges[c0 & 7], long_edges[(c0 >> 3) & 7]);
    check_long(s, LONG_MIN, LONG_MAX);
    check_flag(s);
    check_duration(s, ll_edges[c1 & 7]);
    check_duration(s, LLONG_MAX);
    check_size(s, ll_edges[(c1 >> 3) & 7]);
    check_size(s, LLONG_MAX);
    check_umask(s);
    check_split(s);
    free(s);
    return 0;
}
