/*
 * fuzz_envname.c -- libFuzzer target: gw_envname_from_header, the environ
 * key a request header becomes (RELIABILITY.md "Environ").
 *
 * Input: byte 0 = control, the rest = the header name (any bytes, NUL
 * included; passed as (ptr, len) in an exact-size heap copy). Control bit 0
 * = GW_ENVNAME_PASS_AUTH; bits 1-7 pick outcap: 0 = GW_ENVNAME_MAX, else
 * the value itself (1..127), so truncation is reached too. The output
 * buffer is an exact-size heap block (ASan sees a write past outcap);
 * outcap 0 with a NULL buffer is tried as well.
 *
 * Oracles, from gw_envname.h, not from gw_envname.c:
 *  - accepted output is "HTTP_" + [A-Z0-9_]+, or exactly CONTENT_TYPE /
 *    CONTENT_LENGTH; never HTTP_PROXY or HTTP_PROXY_AUTHORIZATION; never
 *    HTTP_AUTHORIZATION without the flag; the returned length is strlen of
 *    the output and < outcap;
 *  - refused (returns 0, output "") iff the name is empty or holds a byte
 *    outside [A-Za-z0-9-], or is Proxy / Proxy-Authorization /
 *    Authorization-without-the-flag, or the key does not fit outcap;
 *  - otherwise the key equals the reference mapping (upper case, '-' ->
 *    '_'); gw_envname_is_header_key() agrees with the prefix.
 *
 * Sources: mod_gateway/gw_envname.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_envname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_envname oracle failed: %s:%d: %s\n",         \
                    __FILE__, __LINE__, #cond);                                \
            abort();                                                           \
        }                                                                      \
    } while (0)

static unsigned char upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

static int is_ok_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* Case-insensitive equality with an upper-case literal. */
static int is(const unsigned char *s, size_t len, const char *lit)
{
    size_t i;

    if (strlen(lit) != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (upper(s[i]) != (unsigned char)lit[i]) {
            return 0;
        }
    }
    return 1;
}

/* The reference: writes the expected key to ref (room for 5 + len + 1)
 * and returns its length, or 0 when the header is not exported whatever
 * outcap is. */
static size_t reference(const unsigned char *s, size_t len, unsigned flags,
                        char *ref)
{
    size_t i, at = 0;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_ok_char(s[i])) {
            return 0;
        }
    }
    if (is(s, len, "PROXY") || is(s, len, "PROXY-AUTHORIZATION") ||
        (is(s, len, "AUTHORIZATION") && !(flags & GW_ENVNAME_PASS_AUTH))) {
        return 0;
    }
    if (!is(s, len, "CONTENT-TYPE") && !is(s, len, "CONTENT-LENGTH")) {
        memcpy(ref, "HTTP_", 5);
        at = 5;
    }
    for (i = 0; i < len; i++) {
        ref[at++] = s[i] == '-' ? '_' : (char)upper(s[i]);
    }
    ref[at] = '\0';
    return at;
}

static void check_key(const char *out, size_t n, unsigned flags)
{
    size_t i;

    CHECK(strlen(out) == n);
    if (strcmp(out, "CONTENT_TYPE") == 0 ||
        strcmp(out, "CONTENT_LENGTH") == 0) {
        CHECK(!gw_envname_is_header_key(out));
        return;
    }
    CHECK(n > 5 && memcmp(out, "HTTP_", 5) == 0);
    CHECK(gw_envname_is_header_key(out));
    for (i = 5; i < n; i++) {
        CHECK((out[i] >= 'A' && out[i] <= 'Z') ||
              (out[i] >= '0' && out[i] <= '9') || out[i] == '_');
    }
    CHECK(strcmp(out, "HTTP_PROXY") != 0);
    CHECK(strcmp(out, "HTTP_PROXY_AUTHORIZATION") != 0);
    if (!(flags & GW_ENVNAME_PASS_AUTH)) {
        CHECK(strcmp(out, "HTTP_AUTHORIZATION") != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char ctl = size ? data[0] : 0;
    unsigned flags = ctl & 1;
    size_t outcap = (ctl >> 1) ? (size_t)(ctl >> 1) : GW_ENVNAME_MAX;
    size_t len = size ? size - 1 : 0, n, want;
    char *name, *out, *ref;

    name = malloc(len ? len : 1);
    out = malloc(outcap);
    ref = malloc(len + 6);
    CHECK(name != NULL && out != NULL && ref != NULL);
    if (len > 0) {
        memcpy(name, data + 1, len);
    }

    want = reference((const unsigned char *)name, len, flags, ref);
    memset(out, 'Z', outcap);
    n = gw_envname_from_header(name, len, out, outcap, flags);
    /* 0 = not exported; else the key fits with its NUL */
    CHECK(n == (want + 1 <= outcap ? want : 0));
    CHECK(out[0] == '\0' || n > 0);
    if (n > 0) {
        CHECK(n < outcap);
        CHECK(strcmp(out, ref) == 0);
        check_key(out, n, flags);
    }
    /* the other flag value differs only for Authorization */
    if (!is((const unsigned char *)name, len, "AUTHORIZATION")) {
        CHECK(gw_envname_from_header(name, len, out, outcap, flags ^ 1) == n);
    }
    CHECK(gw_envname_from_header(name, len, NULL, 0, flags) == 0);
    CHECK(gw_envname_from_header(NULL, len, out, outcap, flags) == 0);
    free(ref);
    free(out);
    free(name);
    return 0;
}
