/*
 * gw_http.h -- L0: validation of what an application (or a daemon) says
 * about a response: the status line, header names and values, hop-by-hop
 * headers, Content-Length.
 *
 * Pure C: no APR, no httpd, no Python. Every function takes (ptr, len) so an
 * embedded NUL is a validation failure, never a silent truncation (mod_wsgi
 * CVE-2014-0242 class). Functions return 0 on success, -1 on failure with
 * *err set to a static, human-readable reason (err may be NULL).
 * Used in both the Apache children and the daemons.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>

/* Caps: a header name longer than 256 bytes or a value longer than 64 KiB
 * is refused; httpd's own LimitRequestFieldSize default is 8190. */
#define GW_HTTP_NAME_MAX   256
#define GW_HTTP_VALUE_MAX  65536
/* Longest status line accepted: "NNN " plus a 512-byte reason. */
#define GW_HTTP_STATUS_MAX 516

/* "NNN reason": three digits 200..599 (1xx and anything outside refused),
 * one SP, then a reason of visible ASCII, SP, HTAB or obs-text (0x80-0xFF);
 * the reason may be empty ("204 " is valid; "204" alone is not). On success
 * *code (may be NULL) gets the number. */
int gw_http_check_status(const char *s, size_t len, int *code,
                         const char **err);

/* An RFC 9110 token: 1..GW_HTTP_NAME_MAX of
 * !#$%&'*+-.^_`|~ DIGIT ALPHA. */
int gw_http_check_header_name(const char *s, size_t len, const char **err);

/* 0..GW_HTTP_VALUE_MAX bytes of VCHAR, SP, HTAB or obs-text: no CR, LF, NUL,
 * other C0 controls or DEL. */
int gw_http_check_header_value(const char *s, size_t len, const char **err);

/* 1 if the header must never be forwarded by a gateway (case-insensitive):
 * Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization,
 * Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade. Else 0. */
int gw_http_is_hop_by_hop(const char *name, size_t len);

/* Case-insensitive ASCII equality of (a, alen) and the NUL-terminated b. */
int gw_http_name_eq(const char *a, size_t alen, const char *b);

/* Content-Length: 1..19 ASCII digits, no sign, no spaces, no list, value
 * <= INT64_MAX. Leading zeros accepted. On success *out gets the value. */
int gw_http_parse_content_length(const char *s, size_t len, long long *out,
                                 const char **err);

/* 1 if a response with this status never has a body (1xx, 204, 304). */
int gw_http_status_has_no_body(int code);

#endif /* GW_HTTP_H */
