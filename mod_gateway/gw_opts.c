/*
 * gw_opts.c -- L0: parsing of directive arguments ("key=value", integers,
 * flags, durations, sizes, umasks).
 *
 * Pure C: no APR, no httpd, no Python, no allocation, no logging. Runs in
 * the Apache parent while the configuration is read; gw_config.c turns
 * *err into a message naming the directive, so `apachectl -t` shows it.
 * Strict on purpose: atoi("10x") is 10 and atoi("") is 0, and mod_cgid and
 * mod_fcgid have shipped that kind of silent guess; here any junk is an
 * error.
 */
#include <limits.h>
#include <string.h>

#include "gw_opts.h"

#define USEC_PER_SEC 1000000LL
#define USEC_PER_MSEC 1000LL

static int fail(const char **err, const char *msg)
{
    if (err) {
        *err = msg;
    }
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Reads a run of decimal digits at *sp into *out, advancing *sp. Fails on
 * no digits or a value above limit; no locale, no errno, no sign. */
static int scan_digits(const char **sp, unsigned long long limit,
                       unsigned long long *out)
{
    const char *s = *sp;
    unsigned long long v = 0;

    if (!is_digit(*s)) {
        return -1;
    }
    for (; is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v > (limit - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    *sp = s;
    *out = v;
    return 0;
}

int gw_opts_split(const char *arg, const char **key, size_t *keylen,
                  const char **val, const char **err)
{
    const char *eq;
    const char *p;

    if (arg == NULL || (eq = strchr(arg, '=')) == NULL) {
        return fail(err, "expected key=value");
    }
    if (eq == arg) {
        return fail(err, "option name before '=' is empty");
    }
    for (p = arg; p < eq; p++) {
        if (!((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '-')) {
            return fail(err, "option name may only contain lower-case "
                             "letters, digits and '-'");
        }
    }
    *key = arg;
    *keylen = (size_t)(eq - arg);
    *val = eq + 1;
    return 0;
}

int gw_opts_parse_long(const char *s, long min, long max, long *out,
                       const char **err)
{
    unsigned long long mag, limit;
    long v;
    int neg;

    if (s == NULL || *s == '\0') {
        return fail(err, "expected a number, got an empty string");
    }
    neg = (*s == '-');
    s += neg;
    /* |LONG_MIN| is LONG_MAX + 1. */
    limit = (unsigned long long)LONG_MAX + (neg ? 1 : 0);
    if (scan_digits(&s, limit, &mag) != 0) {
        return fail(err, is_digit(*s) ? "number is out of range"
                                      : "expected a decimal integer");
    }
    if (*s != '\0') {
        return fail(err, "trailing characters after the number");
    }
    if (neg) {
        v = mag == 0 ? 0 : -(long)(mag - 1) - 1;
    }
    else {
        v = (long)mag;
    }
    if (v < min) {
        return fail(err, "number is below the minimum allowed");
    }
    if (v > max) {
        return fail(err, "number is above the maximum allowed");
    }
    *out = v;
    return 0;
}

/* ASCII case-insensitive equality of two NUL-terminated strings. */
static int word_eq(const char *a, const char *b)
{
    while (*a && ascii_lower(*a) == *b) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

int gw_opts_parse_flag(const char *s, int *out, const char **err)
{
    static const char *const on[] = {"on", "1", "yes", "true"};
    static const char *const off[] = {"off", "0", "no", "false"};
    size_t i;

    for (i = 0; s != NULL && i < sizeof(on) / sizeof(on[0]); i++) {
        if (word_eq(s, on[i]) || word_eq(s, off[i])) {
            *out = word_eq(s, on[i]);
            return 0;
        }
    }
    return fail(err, "expected On or Off");
}

/* The fraction after '.', as a count of units of 1/scale: "5" with scale
 * 1000000 is 500000. Digits beyond the scale are truncated, so "0.0000009"
 * seconds is 0 us, but they must still be digits. */
static int scan_fraction(const char **sp, long long scale, long long *out)
{
    const char *s = *sp;
    long long v = 0;

    if (!is_digit(*s)) {
        return -1;
    }
    for (; is_digit(*s); s++) {
        if (scale > 1) {
            scale /= 10;
            v += (*s - '0') * scale;
        }
    }
    *sp = s;
    *out = v;
    return 0;
}

static const char duration_syntax[] =
    "expected a duration such as 30, 2.5, 2.5s or 500ms";

int gw_opts_parse_duration(const char *s, long long max_usec,
                           long long *out_usec, const char **err)
{
    unsigned long long whole;
    long long frac = 0, unit = USEC_PER_SEC;
    const char *p = s, *end;

    if (s == NULL || *s == '\0') {
        return fail(err, "expected a duration, got an empty string");
    }
    if (*s == '-') {
        return fail(err, "duration cannot be negative");
    }
    if (scan_digits(&p, LLONG_MAX, &whole) != 0) {
        return fail(err,
                    is_digit(*p) ? "duration is too long" : duration_syntax);
    }
    /* The unit decides the scale of the fraction, so find it first. */
    end = p + strspn(p, ".0123456789");
    if (strcmp(end, "ms") == 0) {
        unit = USEC_PER_MSEC;
    }
    else if (*end != '\0' && strcmp(end, "s") != 0) {
        return fail(err, duration_syntax);
    }
    if (*p == '.') {
        p++;
        if (scan_fraction(&p, unit, &frac) != 0) {
            return fail(err, duration_syntax);
        }
    }
    if (p != end) {
        return fail(err, duration_syntax);
    }
    if (whole > (unsigned long long)((LLONG_MAX - frac) / unit) ||
        (long long)whole * unit + frac > max_usec) {
        return fail(err, "duration is too long");
    }
    *out_usec = (long long)whole * unit + frac;
    return 0;
}

/* Binary units: 1k is 1024. 0 for anything else. */
static unsigned long long size_unit(char c)
{
    switch (ascii_lower(c)) {
        case 'k':
            return 1ULL << 10;
        case 'm':
            return 1ULL << 20;
        case 'g':
            return 1ULL << 30;
        default:
            return 0;
    }
}

int gw_opts_parse_size(const char *s, long long max, long long *out,
                       const char **err)
{
    unsigned long long v, mult = 1;
    const char *p = s;

    if (s == NULL || *s == '\0') {
        return fail(err, "expected a size, got an empty string");
    }
    if (*s == '-') {
        return fail(err, "size cannot be negative");
    }
    if (scan_digits(&p, LLONG_MAX, &v) != 0) {
        return fail(err, is_digit(*p) ? "size is too large"
                                      : "expected a size such as 4096, 64k "
                                        "or 10M");
    }
    if (*p != '\0') {
        mult = size_unit(*p++);
    }
    if (mult == 0 || *p != '\0') {
        return fail(err, "size must be a whole number with an optional "
                         "suffix k, M or G");
    }
    if (v > (unsigned long long)LLONG_MAX / mult ||
        (long long)(v * mult) > max) {
        return fail(err, "size is too large");
    }
    *out = (long long)(v * mult);
    return 0;
}

int gw_opts_parse_umask(const char *s, unsigned *out, const char **err)
{
    unsigned v = 0;

    if (s == NULL || *s == '\0') {
        return fail(err, "expected an octal umask, got an empty string");
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '7') {
            return fail(err, "umask must be octal digits 0-7, such as 0022");
        }
        v = v * 8 + (unsigned)(*s - '0');
        /* Checked per digit, so a long string cannot wrap v. */
        if (v > 0777) {
            return fail(err, "umask must be between 0 and 0777");
        }
    }
    *out = v;
    return 0;
}
