/*
 * gw_envname.c -- L0: the environ key a request header becomes.
 *
 * Pure C: no APR, no httpd, no Python, no allocation, no logging. Used by
 * the Apache children when they build a request's environ (embedded mode,
 * and the REQUEST frame sent to a daemon). The rules are in gw_envname.h;
 * the point of each is that a client cannot choose a header whose key
 * collides with one the server computes or with another header's.
 */
#include <string.h>

#include "gw_envname.h"

#define HTTP_PREFIX "HTTP_"
#define HTTP_PREFIX_LEN 5

/* ASCII only: the C library's toupper() depends on the locale. */
static char ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* [A-Za-z0-9-] only. '_' is refused so that "X-Foo_Bar" cannot spoof
 * "X-Foo-Bar" (both would map to HTTP_X_FOO_BAR); httpd's own http2env()
 * in server/util_script.c drops such headers for the same reason. */
static int is_name_ok(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Case-insensitive comparison of the (already validated) name with an
 * upper-case literal. */
static int name_is(const char *name, size_t len, const char *upper)
{
    size_t i;

    if (strlen(upper) != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (ascii_upper(name[i]) != upper[i]) {
            return 0;
        }
    }
    return 1;
}

/* 1 if the header must not be exported at all. "Proxy" would become
 * HTTP_PROXY, which CGI-style clients read as their proxy setting
 * (httpoxy, CVE-2016-5387). Credentials stay with httpd unless the
 * configuration passes them; proxy credentials never leave. */
static int is_refused(const char *name, size_t len, unsigned flags)
{
    if (name_is(name, len, "PROXY") ||
        name_is(name, len, "PROXY-AUTHORIZATION")) {
        return 1;
    }
    if (name_is(name, len, "AUTHORIZATION")) {
        return !(flags & GW_ENVNAME_PASS_AUTH);
    }
    return 0;
}

static size_t copy_key(const char *prefix, const char *name, size_t len,
                       char *out)
{
    size_t plen = strlen(prefix);
    size_t i;

    memcpy(out, prefix, plen);
    for (i = 0; i < len; i++) {
        out[plen + i] = name[i] == '-' ? '_' : ascii_upper(name[i]);
    }
    out[plen + len] = '\0';
    return plen + len;
}

size_t gw_envname_from_header(const char *name, size_t len, char *out,
                              size_t outcap, unsigned flags)
{
    if (out == NULL || outcap == 0) {
        return 0;
    }
    out[0] = '\0';
    if (name == NULL || len == 0 || !is_name_ok(name, len) ||
        is_refused(name, len, flags)) {
        return 0;
    }
    /* CGI 1.1 (RFC 3875 4.1.2, 4.1.3): these two carry no HTTP_ prefix. */
    if (name_is(name, len, "CONTENT-TYPE") ||
        name_is(name, len, "CONTENT-LENGTH")) {
        return len < outcap ? copy_key("", name, len, out) : 0;
    }
    if (len >= outcap || outcap - len <= HTTP_PREFIX_LEN) {
        return 0;
    }
    return copy_key(HTTP_PREFIX, name, len, out);
}

int gw_envname_is_header_key(const char *key)
{
    return key != NULL && strncmp(key, HTTP_PREFIX, HTTP_PREFIX_LEN) == 0;
}
