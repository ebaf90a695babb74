/*
 * gw_opts.h -- L0: parsing of directive arguments.
 *
 * Pure C: no APR, no httpd, no Python. Directive setters in gw_config.c
 * wrap these and turn *err into a message that names the directive.
 * Returns 0 on success, -1 with *err (a static string) on failure.
 */
#ifndef GW_OPTS_H
#define GW_OPTS_H

#include <stddef.h>

/* "key=value": *key and *keylen get the key (non-empty, [a-z0-9-]), *val the
 * text after the first '=' (may be empty). */
int gw_opts_split(const char *arg, const char **key, size_t *keylen,
                  const char **val, const char **err);

/* A decimal integer, optional leading '-', no spaces, no trailing junk, no
 * overflow, within [min, max]. */
int gw_opts_parse_long(const char *s, long min, long max, long *out,
                       const char **err);

/* "On"/"Off" (also "1"/"0", "yes"/"no", "true"/"false"), case-insensitive. */
int gw_opts_parse_flag(const char *s, int *out, const char **err);

/* A duration in seconds, with an optional fraction ("2.5") and optional
 * unit suffix "ms" or "s"; result in microseconds, within
 * [0, max_usec]. */
int gw_opts_parse_duration(const char *s, long long max_usec,
                           long long *out_usec, const char **err);

/* A size in bytes with optional suffix k, K, m, M, g, G (binary units),
 * within [0, max]. */
int gw_opts_parse_size(const char *s, long long max, long long *out,
                       const char **err);

/* Octal umask "0022" / "022" / "0": 0..0777. */
int gw_opts_parse_umask(const char *s, unsigned *out, const char **err);

#endif /* GW_OPTS_H */
