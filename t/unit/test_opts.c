/*
 * test_opts.c -- CUnit suite for mod_gateway/gw_opts.c (L0, no stubs).
 *
 * Arguments are heap copies (strdup), so an ASan build catches any read
 * past the terminating NUL.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "../../mod_gateway/gw_opts.h"

/* An assertion whose failure message says which table row failed. */
#define CHECKF(cond, ...)                                                      \
    do {                                                                       \
        int ok_ = !!(cond);                                                    \
        char m_[256] = #cond;                                                  \
        if (!ok_) {                                                            \
            snprintf(m_, sizeof(m_), __VA_ARGS__);                             \
        }                                                                      \
        CU_assertImplementation(ok_, __LINE__, m_, __FILE__, "", CU_FALSE);    \
    } while (0)

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* ---- split --------------------------------------------------------- */

struct split_case {
    const char *arg;
    const char *key; /* NULL when refused */
    const char *val;
};

static const struct split_case split_cases[] = {
    {"processes=2", "processes", "2"},
    {"python-home=/srv/venv", "python-home", "/srv/venv"},
    {"user=", "user", ""},
    {"a=b=c", "a", "b=c"},
    {"x1=", "x1", ""},
    {"-=v", "-", "v"},
    {"display-name=%{GROUP} x", "display-name", "%{GROUP} x"},
    {"", NULL, NULL},
    {"processes", NULL, NULL},
    {"=2", NULL, NULL},
    {"Processes=2", NULL, NULL},
    {"process_group=x", NULL, NULL},
    {" processes=2", NULL, NULL},
    {"processes =2", NULL, NULL},
    {"pro cesses=2", NULL, NULL},
    {"caf\xc3\xa9=1", NULL, NULL},
    {"a.b=1", NULL, NULL},
};

static void test_split(void)
{
    size_t i;

    for (i = 0; i < NROWS(split_cases); i++) {
        const struct split_case *c = &split_cases[i];
        char *arg = strdup(c->arg);
        const char *key = NULL, *val = NULL, *err = NULL;
        size_t keylen = 12345;
        int rv = gw_opts_split(arg, &key, &keylen, &val, &err);

        if (c->key) {
            CHECKF(rv == 0, "row %zu: refused: %s", i, err ? err : "?");
            CHECKF(key == arg && keylen == strlen(c->key) &&
                       strncmp(key, c->key, keylen) == 0,
                   "row %zu: key length %zu", i, keylen);
            CHECKF(val && strcmp(val, c->val) == 0, "row %zu: val", i);
        }
        else {
            CHECKF(rv == -1, "row %zu: accepted", i);
            CHECKF(err != NULL, "row %zu: no error", i);
            CHECKF(key == NULL && val == NULL && keylen == 12345,
                   "row %zu: outputs written on failure", i);
        }
        free(arg);
    }
}

static void test_split_errors(void)
{
    const char *key, *val, *err = NULL;
    size_t keylen;

    CU_ASSERT_EQUAL(gw_opts_split("threads", &key, &keylen, &val, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected key=value");
    CU_ASSERT_EQUAL(gw_opts_split("=1", &key, &keylen, &val, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "option name before '=' is empty");
    CU_ASSERT_EQUAL(gw_opts_split("Threads=1", &key, &keylen, &val, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "option name may only contain lower-case "
                                "letters, digits and '-'");
    CU_ASSERT_EQUAL(gw_opts_split(NULL, &key, &keylen, &val, &err), -1);
    CU_ASSERT_EQUAL(gw_opts_split("x", &key, &keylen, &val, NULL), -1);
}

/* ---- long ---------------------------------------------------------- */

struct long_case {
    const char *s;
    long min, max;
    int ok;
    long want;
};

static const struct long_case long_cases[] = {
    {"0", 0, 10, 1, 0},
    {"10", 0, 10, 1, 10},
    {"007", 0, 10, 1, 7},
    {"-5", -10, 10, 1, -5},
    {"-0", 0, 10, 1, 0},
    {"99999999999999999999", LONG_MIN, LONG_MAX, 0, 0},
    {"18446744073709551616", LONG_MIN, LONG_MAX, 0, 0},
    {"11", 0, 10, 0, 0},
    {"-1", 0, 10, 0, 0},
    {"", 0, 10, 0, 0},
    {"-", 0, 10, 0, 0},
    {"+1", 0, 10, 0, 0},
    {" 1", 0, 10, 0, 0},
    {"1 ", 0, 10, 0, 0},
    {"\t1", 0, 10, 0, 0},
    {"1\n", 0, 10, 0, 0},
    {"--1", -10, 10, 0, 0},
    {"- 1", -10, 10, 0, 0},
    {"1x", 0, 10, 0, 0},
    {"0x1", 0, 10, 0, 0},
    {"1.0", 0, 10, 0, 0},
    {"1e1", 0, 100, 0, 0},
    {"1,000", 0, 10000, 0, 0},
};

static void test_long(void)
{
    size_t i;

    for (i = 0; i < NROWS(long_cases); i++) {
        const struct long_case *c = &long_cases[i];
        char *s = strdup(c->s);
        const char *err = NULL;
        long out = 4242;
        int rv = gw_opts_parse_long(s, c->min, c->max, &out, &err);

        if (c->ok) {
            CHECKF(rv == 0 && out == c->want, "row %zu '%s': rv %d out %ld", i,
                   c->s, rv, out);
        }
        else {
            CHECKF(rv == -1 && out == 4242 && err != NULL,
                   "row %zu '%s': rv %d out %ld", i, c->s, rv, out);
        }
        free(s);
    }
}

/* LONG_MIN/LONG_MAX and one past them, whatever the width of long. */
static void test_long_limits(void)
{
    char buf[64];
    size_t n;
    long out = 0;

    snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
    CU_ASSERT_EQUAL(gw_opts_parse_long(buf, LONG_MIN, LONG_MAX, &out, NULL), 0);
    CU_ASSERT_EQUAL(out, LONG_MAX);
    snprintf(buf, sizeof(buf), "%ld", LONG_MIN);
    CU_ASSERT_EQUAL(gw_opts_parse_long(buf, LONG_MIN, LONG_MAX, &out, NULL), 0);
    CU_ASSERT_EQUAL(out, LONG_MIN);
    /* LONG_MAX and |LONG_MIN| end in 7 and 8 in any two's-complement
     * width, so bumping the last digit cannot carry. */
    snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
    n = strlen(buf);
    buf[n - 1]++;
    out = 4242;
    CU_ASSERT_EQUAL(gw_opts_parse_long(buf, LONG_MIN, LONG_MAX, &out, NULL),
                    -1);
    snprintf(buf, sizeof(buf), "%ld", LONG_MIN);
    n = strlen(buf);
    buf[n - 1]++;
    CU_ASSERT_EQUAL(gw_opts_parse_long(buf, LONG_MIN, LONG_MAX, &out, NULL),
                    -1);
    CU_ASSERT_EQUAL(out, 4242);
}

static void test_long_errors(void)
{
    const char *err = NULL;
    long out;

    CU_ASSERT_EQUAL(gw_opts_parse_long("", 0, 1, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a number, got an empty string");
    CU_ASSERT_EQUAL(gw_opts_parse_long("x", 0, 1, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a decimal integer");
    CU_ASSERT_EQUAL(gw_opts_parse_long("1x", 0, 1, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "trailing characters after the number");
    CU_ASSERT_EQUAL(
        gw_opts_parse_long("99999999999999999999", 0, 1, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "number is out of range");
    CU_ASSERT_EQUAL(gw_opts_parse_long("2", 0, 1, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "number is above the maximum allowed");
    CU_ASSERT_EQUAL(gw_opts_parse_long("0", 1, 2, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "number is below the minimum allowed");
    CU_ASSERT_EQUAL(gw_opts_parse_long(NULL, 0, 1, &out, NULL), -1);
}

/* ---- flag ---------------------------------------------------------- */

static void test_flag(void)
{
    static const char *const on[] = {"On",  "on",  "ON",   "oN",   "1",   "yes",
                                     "Yes", "YES", "true", "True", "TRUE"};
    static const char *const off[] = {"Off", "off", "OFF",   "0",     "no",
                                      "No",  "NO",  "false", "False", "FALSE"};
    static const char *const bad[] = {
        "",       "o",        "onn",   "of", "offf", " on", "on ",
        "2",      "01",       "00",    "y",  "n",    "t",   "f",
        "enable", "disabled", "truee", "-1", "+1",   "On\n"};
    size_t i;

    for (i = 0; i < NROWS(on); i++) {
        char *s = strdup(on[i]);
        int out = 7;

        CHECKF(gw_opts_parse_flag(s, &out, NULL) == 0 && out == 1, "'%s' -> %d",
               on[i], out);
        free(s);
    }
    for (i = 0; i < NROWS(off); i++) {
        char *s = strdup(off[i]);
        int out = 7;

        CHECKF(gw_opts_parse_flag(s, &out, NULL) == 0 && out == 0, "'%s' -> %d",
               off[i], out);
        free(s);
    }
    for (i = 0; i < NROWS(bad); i++) {
        char *s = strdup(bad[i]);
        const char *err = NULL;
        int out = 7;

        CHECKF(gw_opts_parse_flag(s, &out, &err) == -1 && out == 7,
               "'%s' accepted", bad[i]);
        CHECKF(err && strcmp(err, "expected On or Off") == 0, "'%s': err",
               bad[i]);
        free(s);
    }
    {
        int out = 7;

        CU_ASSERT_EQUAL(gw_opts_parse_flag(NULL, &out, NULL), -1);
        CU_ASSERT_EQUAL(out, 7);
    }
}

/* ---- duration ------------------------------------------------------ */

struct duration_case {
    const char *s;
    long long max;
    int ok;
    long long want;
};

#define BIG LLONG_MAX

static const struct duration_case duration_cases[] = {
    {"30", BIG, 1, 30000000LL},
    {"0", BIG, 1, 0},
    {"2.5", BIG, 1, 2500000LL},
    {"2.5s", BIG, 1, 2500000LL},
    {"30s", BIG, 1, 30000000LL},
    {"500ms", BIG, 1, 500000LL},
    {"0ms", BIG, 1, 0},
    {"1.5ms", BIG, 1, 1500LL},
    {"0.000001", BIG, 1, 1},
    {"0.0000019", BIG, 1, 1},
    {"0.001ms", BIG, 1, 1},
    {"0.0001ms", BIG, 1, 0},
    {"2.50000000000000000000000", BIG, 1, 2500000LL},
    {"007", BIG, 1, 7000000LL},
    {"60", 60000000LL, 1, 60000000LL},
    {"61", 60000000LL, 0, 0},
    {"60.000001", 60000000LL, 0, 0},
    {"9223372036854", BIG, 1, 9223372036854000000LL},
    {"9223372036854.775807", BIG, 1, BIG},
    {"9223372036854.775808", BIG, 0, 0},
    {"9223372036855", BIG, 0, 0},
    {"9223372036854775807ms", BIG, 0, 0},
    {"9223372036854775807", BIG, 0, 0},
    {"99999999999999999999", BIG, 0, 0},
    {"", BIG, 0, 0},
    {"-1", BIG, 0, 0},
    {"-0", BIG, 0, 0},
    {"+1", BIG, 0, 0},
    {" 1", BIG, 0, 0},
    {"1 ", BIG, 0, 0},
    {"1 s", BIG, 0, 0},
    {"1sec", BIG, 0, 0},
    {"1S", BIG, 0, 0},
    {"1MS", BIG, 0, 0},
    {"1m", BIG, 0, 0},
    {"1h", BIG, 0, 0},
    {"1us", BIG, 0, 0},
    {"1ss", BIG, 0, 0},
    {"1mss", BIG, 0, 0},
    {"1sms", BIG, 0, 0},
    {"s", BIG, 0, 0},
    {"ms", BIG, 0, 0},
    {".5", BIG, 0, 0},
    {"2.", BIG, 0, 0},
    {"2.s", BIG, 0, 0},
    {"2..5", BIG, 0, 0},
    {"2.5.1", BIG, 0, 0},
    {"1e3", BIG, 0, 0},
    {"0x10", BIG, 0, 0},
    {"1,5", BIG, 0, 0},
    {"1\n", BIG, 0, 0},
    {"1", -1, 0, 0},
};

static void test_duration(void)
{
    size_t i;

    for (i = 0; i < NROWS(duration_cases); i++) {
        const struct duration_case *c = &duration_cases[i];
        char *s = strdup(c->s);
        const char *err = NULL;
        long long out = 4242;
        int rv = gw_opts_parse_duration(s, c->max, &out, &err);

        if (c->ok) {
            CHECKF(rv == 0 && out == c->want, "row %zu '%s': rv %d out %lld", i,
                   c->s, rv, out);
        }
        else {
            CHECKF(rv == -1 && out == 4242 && err != NULL,
                   "row %zu '%s': rv %d out %lld", i, c->s, rv, out);
        }
        free(s);
    }
}

static void test_duration_errors(void)
{
    const char *err = NULL;
    long long out;

    CU_ASSERT_EQUAL(gw_opts_parse_duration("-1", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "duration cannot be negative");
    CU_ASSERT_EQUAL(gw_opts_parse_duration("", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a duration, got an empty string");
    CU_ASSERT_EQUAL(gw_opts_parse_duration("5m", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a duration such as 30, 2.5, 2.5s "
                                "or 500ms");
    CU_ASSERT_EQUAL(gw_opts_parse_duration("61", 60000000LL, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "duration is too long");
    CU_ASSERT_EQUAL(
        gw_opts_parse_duration("99999999999999999999", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "duration is too long");
    CU_ASSERT_EQUAL(gw_opts_parse_duration(NULL, BIG, &out, NULL), -1);
}

/* ---- size ---------------------------------------------------------- */

struct size_case {
    const char *s;
    long long max;
    int ok;
    long long want;
};

static const struct size_case size_cases[] = {
    {"0", BIG, 1, 0},
    {"4096", BIG, 1, 4096},
    {"1k", BIG, 1, 1024},
    {"64K", BIG, 1, 65536},
    {"10M", BIG, 1, 10LL * 1024 * 1024},
    {"10m", BIG, 1, 10LL * 1024 * 1024},
    {"2g", BIG, 1, 2LL * 1024 * 1024 * 1024},
    {"3G", BIG, 1, 3LL * 1024 * 1024 * 1024},
    {"0G", BIG, 1, 0},
    {"0010k", BIG, 1, 10240},
    {"9223372036854775807", BIG, 1, BIG},
    {"9223372036854775808", BIG, 0, 0},
    {"8589934591G", BIG, 1, 8589934591LL << 30},
    {"8589934592G", BIG, 0, 0},
    {"9007199254740991k", BIG, 1, 9007199254740991LL << 10},
    {"9007199254740992k", BIG, 0, 0},
    {"17179869184G", BIG, 0, 0},
    {"99999999999999999999", BIG, 0, 0},
    {"1024", 1024, 1, 1024},
    {"1k", 1024, 1, 1024},
    {"1025", 1024, 0, 0},
    {"2k", 1024, 0, 0},
    {"1", -1, 0, 0},
    {"", BIG, 0, 0},
    {"-1", BIG, 0, 0},
    {"-0", BIG, 0, 0},
    {"+1", BIG, 0, 0},
    {" 1", BIG, 0, 0},
    {"1 ", BIG, 0, 0},
    {"1 M", BIG, 0, 0},
    {"1MB", BIG, 0, 0},
    {"1KiB", BIG, 0, 0},
    {"1kk", BIG, 0, 0},
    {"1T", BIG, 0, 0},
    {"1b", BIG, 0, 0},
    {"1.5M", BIG, 0, 0},
    {"M", BIG, 0, 0},
    {"0x10", BIG, 0, 0},
    {"1e6", BIG, 0, 0},
    {"1\n", BIG, 0, 0},
};

static void test_size(void)
{
    size_t i;

    for (i = 0; i < NROWS(size_cases); i++) {
        const struct size_case *c = &size_cases[i];
        char *s = strdup(c->s);
        const char *err = NULL;
        long long out = 4242;
        int rv = gw_opts_parse_size(s, c->max, &out, &err);

        if (c->ok) {
            CHECKF(rv == 0 && out == c->want, "row %zu '%s': rv %d out %lld", i,
                   c->s, rv, out);
        }
        else {
            CHECKF(rv == -1 && out == 4242 && err != NULL,
                   "row %zu '%s': rv %d out %lld", i, c->s, rv, out);
        }
        free(s);
    }
}

static void test_size_errors(void)
{
    const char *err = NULL;
    long long out;

    CU_ASSERT_EQUAL(gw_opts_parse_size("-1", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "size cannot be negative");
    CU_ASSERT_EQUAL(gw_opts_parse_size("", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a size, got an empty string");
    CU_ASSERT_EQUAL(gw_opts_parse_size("1MB", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "size must be a whole number with an "
                                "optional suffix k, M or G");
    CU_ASSERT_EQUAL(gw_opts_parse_size("8589934592G", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "size is too large");
    CU_ASSERT_EQUAL(gw_opts_parse_size("x", BIG, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected a size such as 4096, 64k or 10M");
    CU_ASSERT_EQUAL(gw_opts_parse_size(NULL, BIG, &out, NULL), -1);
}

/* ---- umask --------------------------------------------------------- */

static void test_umask(void)
{
    static const struct {
        const char *s;
        int ok;
        unsigned want;
    } cases[] = {
        {"0", 1, 0},       {"0022", 1, 022},
        {"022", 1, 022},   {"0077", 1, 077},
        {"0777", 1, 0777}, {"777", 1, 0777},
        {"7", 1, 07},      {"00000000000000000000000022", 1, 022},
        {"1000", 0, 0},    {"01000", 0, 0},
        {"7777", 0, 0},    {"77777777777777777777777", 0, 0},
        {"", 0, 0},        {"8", 0, 0},
        {"0028", 0, 0},    {"0o22", 0, 0},
        {"0x12", 0, 0},    {"-022", 0, 0},
        {"+022", 0, 0},    {" 022", 0, 0},
        {"022 ", 0, 0},    {"u=rwx", 0, 0},
        {"022\n", 0, 0},
    };
    size_t i;

    for (i = 0; i < NROWS(cases); i++) {
        char *s = strdup(cases[i].s);
        const char *err = NULL;
        unsigned out = 4242;
        int rv = gw_opts_parse_umask(s, &out, &err);

        if (cases[i].ok) {
            CHECKF(rv == 0 && out == cases[i].want, "row %zu '%s': %o", i,
                   cases[i].s, out);
        }
        else {
            CHECKF(rv == -1 && out == 4242 && err != NULL,
                   "row %zu '%s': accepted", i, cases[i].s);
        }
        free(s);
    }
}

static void test_umask_every_value(void)
{
    char buf[8];
    unsigned v;

    for (v = 0; v <= 01000; v++) {
        unsigned out = 4242;
        int rv;

        snprintf(buf, sizeof(buf), "%04o", v & 07777);
        rv = gw_opts_parse_umask(buf, &out, NULL);
        if (v <= 0777) {
            CHECKF(rv == 0 && out == v, "'%s' -> %o", buf, out);
        }
        else {
            CHECKF(rv == -1, "'%s' accepted", buf);
        }
    }
}

static void test_umask_errors(void)
{
    const char *err = NULL;
    unsigned out;

    CU_ASSERT_EQUAL(gw_opts_parse_umask("", &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "expected an octal umask, got an empty "
                                "string");
    CU_ASSERT_EQUAL(gw_opts_parse_umask("0029", &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "umask must be octal digits 0-7, such as "
                                "0022");
    CU_ASSERT_EQUAL(gw_opts_parse_umask("1000", &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err, "umask must be between 0 and 0777");
    CU_ASSERT_EQUAL(gw_opts_parse_umask(NULL, &out, NULL), -1);
}

static CU_TestInfo tests[] = {
    {"split", test_split},
    {"split: errors", test_split_errors},
    {"long", test_long},
    {"long: LONG_MIN and LONG_MAX", test_long_limits},
    {"long: errors", test_long_errors},
    {"flag", test_flag},
    {"duration", test_duration},
    {"duration: errors", test_duration_errors},
    {"size", test_size},
    {"size: errors", test_size_errors},
    {"umask", test_umask},
    {"umask: every value 0000-1000", test_umask_every_value},
    {"umask: errors", test_umask_errors},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "opts"
#include "unit.h"
