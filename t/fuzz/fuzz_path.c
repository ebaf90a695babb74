/*
 * fuzz_path.c -- libFuzzer target: gw_path_alias_match, gw_path_alias_rest
 * and gw_path_strip_trailing_slashes (GatewayScriptAlias mount points).
 *
 * Input: the alias, a NUL byte, the uri (up to the next NUL). Both are
 * copied into exact-size heap strings, so ASan sees a read past the NUL;
 * with no NUL in the input its first half is the alias and the whole of
 * it the uri, so that inputs of any shape mean something.
 *
 * Oracles:
 *  - alias_match equals a reference written a different way from the
 *    semantics gw_path.h documents (mod_alias's alias_matches): collapse
 *    every run of '/' to one in both strings, remembering where each
 *    collapsed uri byte ends in the original; the alias matches iff its
 *    collapsed form is a prefix of the uri's and the match ends a segment
 *    (collapsed alias ends in '/', or the uri's next byte is NUL or '/');
 *    the count is the original uri length of that prefix;
 *  - the count is 0 or in 1..strlen(uri), and 0 for an empty alias;
 *  - rest <= count, and when the alias matched, uri + rest is "" or starts
 *    with '/', and only steps back over a '/';
 *  - strip_trailing_slashes: the result r <= len, s[r-1] != '/' and
 *    s[r..len) is all '/'; it reads only s[0..len) (exact-size copy).
 *
 * Sources: mod_gateway/gw_path.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_path oracle failed: %s:%d: %s\n", __FILE__,  \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* s with each run of '/' made one; ends[i] = offset in s just past the
 * bytes that collapsed byte i stands for. Returns the collapsed length. */
static size_t collapse(const char *s, char *out, size_t *ends)
{
    size_t i = 0, n = 0;

    while (s[i] != '\0') {
        if (s[i] == '/') {
            while (s[i] == '/') {
                i++;
            }
            out[n] = '/';
        }
        else {
            out[n] = s[i++];
        }
        if (ends != NULL) {
            ends[n] = i;
        }
        n++;
    }
    out[n] = '\0';
    return n;
}

static size_t ref_match(const char *uri, const char *alias)
{
    size_t ulen = strlen(uri), alen = strlen(alias), cu, ca, r = 0;
    char *u = malloc(ulen + 1), *a = malloc(alen + 1);
    size_t *ends = malloc((ulen + 1) * sizeof(size_t));

    CHECK(u != NULL && a != NULL && ends != NULL);
    cu = collapse(uri, u, ends);
    ca = collapse(alias, a, NULL);
    if (ca > 0 && ca <= cu && memcmp(a, u, ca) == 0 &&
        (a[ca - 1] == '/' || u[ca] == '\0' || u[ca] == '/')) {
        r = ends[ca - 1];
    }
    free(ends);
    free(a);
    free(u);
    return r;
}

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    CHECK(s != NULL);
    if (n > 0) {
        memcpy(s, p, n);
    }
    s[n] = '\0';
    return s;
}

static void check_strip(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    size_t r, i;

    CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, s, len);
    }
    r = gw_path_strip_trailing_slashes(copy, len);
    CHECK(r <= len);
    CHECK(r == 0 || copy[r - 1] != '/');
    for (i = r; i < len; i++) {
        CHECK(copy[i] == '/');
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t alen = nul ? (size_t)(nul - data) : size / 2, ulen;
    const uint8_t *u = nul ? nul + 1 : data;
    char *alias, *uri;
    size_t m, rest, ref;

    ulen = nul ? size - alen - 1 : size;
    if (nul != NULL && ulen > 0) {
        const uint8_t *end = memchr(u, 0, ulen);

        if (end != NULL) {
            ulen = (size_t)(end - u);
        }
    }
    alias = cstr(data, alen);
    uri = cstr(u, ulen);

    m = gw_path_alias_match(uri, alias);
    ref = ref_match(uri, alias);
    if (m != ref) {
        fprintf(stderr, "alias \"%s\" uri \"%s\": match %zu, reference %zu\n",
                alias, uri, m, ref);
        abort();
    }
    CHECK(m <= ulen);
    CHECK(alen > 0 || m == 0);
    rest = gw_path_alias_rest(uri, m);
    CHECK(rest <= m);
    if (m > 0) {
        CHECK(uri[rest] == '\0' || uri[rest] == '/');
        CHECK(rest == m || (rest + 1 == m && uri[rest] == '/'));
        /* the script name part never ends in '/' once stripped */
        check_strip(uri, rest);
    }
    check_strip(uri, ulen);
    check_strip(alias, alen);
    free(uri);
    free(alias);
    return 0;
}
