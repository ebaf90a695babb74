/*
 * gw_envname.h -- L0: the environ key a request header becomes.
 *
 * Pure C: no APR, no httpd, no Python. Used by the Apache child only.
 * The rules (RELIABILITY.md, "Environ"):
 *  - only names made of [A-Za-z0-9-] are exported, so "X-Foo_Bar" can never
 *    spoof "HTTP_X_FOO_BAR" (the dash/underscore ambiguity);
 *  - "Proxy" is never exported (httpoxy, CVE-2016-5387);
 *  - "Authorization" only with GW_ENVNAME_PASS_AUTH;
 *    "Proxy-Authorization" never;
 *  - "Content-Type" and "Content-Length" become CONTENT_TYPE and
 *    CONTENT_LENGTH (no HTTP_ prefix), as CGI says;
 *  - everything else becomes "HTTP_" + upper-case name with '-' -> '_'.
 */
#ifndef GW_ENVNAME_H
#define GW_ENVNAME_H

#include <stddef.h>

#define GW_ENVNAME_PASS_AUTH 0x1

/* Longest environ key produced: "HTTP_" + a 256-byte name + NUL. */
#define GW_ENVNAME_MAX (5 + 256 + 1)

/* Writes the environ key for header (name, len) into out (NUL-terminated)
 * and returns its length (excluding the NUL). Returns 0 when the header
 * must not be exported (bad characters, empty, too long for outcap, a
 * refused name). outcap must be >= GW_ENVNAME_MAX to never truncate. */
size_t gw_envname_from_header(const char *name, size_t len, char *out,
                              size_t outcap, unsigned flags);

/* 1 if key (NUL-terminated) is in the namespace only request headers may
 * fill: it starts with "HTTP_". Used to keep SetEnv/module variables out
 * of it. */
int gw_envname_is_header_key(const char *key);

#endif /* GW_ENVNAME_H */
