/*
 * gw_path.c -- L0: URL-prefix matching for GatewayScriptAlias.
 *
 * Pure C: no APR, no httpd, no Python, no allocation, no logging. Runs in
 * the Apache parent (config checks) and in the children (translate_name).
 * The matching is mod_alias's alias_matches() (modules/mappers/mod_alias.c)
 * byte for byte, so a GatewayScriptAlias mounts exactly the URLs an Alias
 * or WSGIScriptAlias with the same prefix would.
 */
#include "gw_path.h"

size_t gw_path_alias_match(const char *uri, const char *alias)
{
    const char *a = alias;
    const char *u = uri;

    if (uri == NULL || alias == NULL || *alias == '\0') {
        return 0;
    }
    while (*a) {
        if (*a == '/') {
            /* A run of '/' in the alias matches a run of one or more in
             * the uri, so "//app//x" is under "/app" as Apache sees it. */
            if (*u != '/') {
                return 0;
            }
            while (*a == '/') {
                a++;
            }
            while (*u == '/') {
                u++;
            }
        }
        else if (*u++ != *a++) {
            /* A '\0' in uri differs from any byte left in alias, so the
             * walk never goes past the end of uri. */
            return 0;
        }
    }
    /* "/app" must not mount "/apple": the alias ends a segment. */
    if (a[-1] != '/' && *u != '\0' && *u != '/') {
        return 0;
    }
    return (size_t)(u - uri);
}

size_t gw_path_alias_rest(const char *uri, size_t matched)
{
    /* An alias ending in '/' consumed the slash that starts PATH_INFO;
     * give one back so the remainder is "" or starts with '/'. */
    if (uri != NULL && matched > 0 && uri[matched - 1] == '/') {
        return matched - 1;
    }
    return matched;
}

size_t gw_path_strip_trailing_slashes(const char *s, size_t len)
{
    if (s == NULL) {
        return 0;
    }
    while (len > 0 && s[len - 1] == '/') {
        len--;
    }
    return len;
}
