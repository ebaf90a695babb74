/*
 * gw_path.h -- L0: URL-prefix matching for GatewayScriptAlias.
 *
 * Pure C: no APR, no httpd, no Python. Runs in the Apache parent (config
 * checks) and children (translate_name).
 */
#ifndef GW_PATH_H
#define GW_PATH_H

#include <stddef.h>

/* mod_alias semantics: walks alias and uri together; a run of '/' in the
 * alias matches a run of one or more '/' in the uri; other bytes compare
 * exactly; the match must end at a path-segment boundary (the alias ends in
 * '/', or the uri continues with '\0' or '/'). Returns the number of uri
 * bytes consumed (> 0), or 0 when the alias does not match. An empty alias
 * never matches. */
size_t gw_path_alias_match(const char *uri, const char *alias);

/* Given the uri and the count returned by gw_path_alias_match, returns the
 * offset in uri where the remainder (the part after the mount point)
 * begins, so that the remainder is either empty or starts with '/'
 * (when the match consumed a trailing '/', the offset steps back over one
 * of those slashes). */
size_t gw_path_alias_rest(const char *uri, size_t matched);

/* Length of script_name once trailing '/' are dropped ("/app/" -> 4,
 * "/" -> 0): SCRIPT_NAME never ends in '/'. */
size_t gw_path_strip_trailing_slashes(const char *s, size_t len);

#endif /* GW_PATH_H */
