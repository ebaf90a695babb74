/*
 * gw_alias.c -- the translate_name hook for GatewayScriptAlias(Match).
 *
 * L1, Apache children only. The URL prefix matching itself is L0
 * (gw_path.c). The file/path_info split is left to core's directory walk,
 * which knows where the script file ends.
 */
#include "gw_alias.h"
#include "gw_path.h"

static char *join_target(request_rec *r, const char *target,
                         const char *rest)
{
    size_t tlen = strlen(target);

    /* "/srv/wsgi/" + "/app.wsgi" must not become "//". */
    if (tlen && target[tlen - 1] == '/' && rest[0] == '/') {
        rest++;
    }
    return apr_pstrcat(r->pool, target, rest, NULL);
}

/* The filename for r under alias a, or NULL when a does not match. */
static char *alias_filename(request_rec *r, const gw_alias_t *a)
{
    ap_regmatch_t m[AP_MAX_REG_MATCH];
    size_t n;

    if (a->regex) {
        char *target;

        if (ap_regexec(a->regex, r->uri, AP_MAX_REG_MATCH, m, 0) != 0
            || m[0].rm_so != 0) {
            return NULL;
        }
        target = ap_pregsub(r->pool, a->target, r->uri, AP_MAX_REG_MATCH, m);
        if (target == NULL) {
            return NULL;
        }
        return join_target(r, target, r->uri + m[0].rm_eo);
    }
    n = gw_path_alias_match(r->uri, a->location);
    if (n == 0) {
        return NULL;
    }
    return join_target(r, a->target, r->uri + gw_path_alias_rest(r->uri, n));
}

int gw_alias_translate(request_rec *r)
{
    gw_server_conf_t *sc = gw_config_server(r->server);
    const gw_alias_t *a = (const gw_alias_t *)sc->aliases->elts;
    int i;

    if (r->uri == NULL || r->uri[0] != '/' || r->proxyreq) {
        return DECLINED;
    }
    for (i = 0; i < sc->aliases->nelts; i++) {
        char *filename = alias_filename(r, &a[i]);

        if (filename) {
            r->filename = filename;
            r->handler = GW_HANDLER_NAME;
            ap_set_module_config(r->request_config, &gateway_module,
                                 (void *)&a[i]);
            return OK;
        }
    }
    return DECLINED;
}

const gw_alias_t *gw_alias_of(request_rec *r)
{
    return ap_get_module_config(r->request_config, &gateway_module);
}
