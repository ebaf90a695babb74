/*
 * gw_handler.c -- the gateway-script handler: checks the target, resolves
 * the options of the request and hands it to embedded mode or to a daemon
 * process group.
 *
 * L1, Apache children only.
 */
#include "gw_handler.h"
#include "gw_alias.h"
#include "gw_environ.h"
#include "gw_pyapi.h"
#include "gw_log.h"
#include "gw_python.h"
#include "gw_group.h"
#include "gw_proxy.h"

#define PICK_PTR(f, dflt) \
    (a && a->opts.f ? a->opts.f : d->opts.f ? d->opts.f : (dflt))
#define PICK_INT(f, dflt) \
    (a && a->opts.f != GW_UNSET ? a->opts.f \
     : d->opts.f != GW_UNSET ? d->opts.f : (dflt))

void gw_handler_effective(request_rec *r, gw_effective_t *eff)
{
    const gw_alias_t *a = gw_alias_of(r);
    const gw_dir_conf_t *d = gw_config_dir(r);

    eff->process_group = PICK_PTR(process_group, "");
    eff->application_group = PICK_PTR(application_group, "%{RESOURCE}");
    eff->callable_object = PICK_PTR(callable_object, "application");
    eff->pass_authorization = PICK_INT(pass_authorization, 0);
    eff->script_reloading = PICK_INT(script_reloading, 1);
}

/* The target must be a regular file; a handler mapping (not an alias) also
 * needs Options ExecCGI, as for CGI scripts, so that AddHandler in a
 * writable directory cannot turn uploads into code. */
static int check_target(request_rec *r, const char *id)
{
    if (gw_alias_of(r) == NULL && !(ap_allow_options(r) & OPT_EXECCGI)) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0209", "[%s] Options ExecCGI is off in "
                 "this directory: %s", id, r->filename);
        return HTTP_FORBIDDEN;
    }
    if (r->finfo.filetype == APR_NOFILE) {
        GW_LOG_R(APLOG_INFO, 0, r, "GW0208", "[%s] WSGI script not found or "
                 "unable to stat: %s", id, r->filename);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype != APR_REG) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0213", "[%s] WSGI script is not a "
                 "regular file: %s", id, r->filename);
        return HTTP_FORBIDDEN;
    }
    return OK;
}

/* Which processes run a request is decided by server and vhost
 * configuration only (GatewayProcessGroup is not allowed in .htaccess),
 * and a vhost's group serves only that vhost. */
static int to_daemon(request_rec *r, gw_effective_t *eff,
                     const char *request_id)
{
    gw_group_t *g = gw_group_find(eff->process_group);
    const char *script_name;
    apr_array_header_t *env;
    gw_pair_t *p;

    if (g == NULL) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0210", "[%s] no daemon process group "
                 "'%s' is configured (GatewayDaemonProcess); mounted from %s",
                 request_id, eff->process_group, r->filename);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!gw_group_visible(g, r->server)) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0212", "[%s] daemon process group '%s' "
                 "is defined in another virtual host (%s) and cannot serve "
                 "this one", request_id, g->name, g->defined_at);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    script_name = gw_environ_script_name(r);
    eff->application_group = gw_environ_app_group(r, eff->application_group,
                                                  script_name);
    env = gw_environ_build(r, eff, script_name, request_id);
    p = apr_array_push(env);
    p->name = GW_VHOST_KEY;
    p->name_len = sizeof(GW_VHOST_KEY) - 1;
    p->value = apr_itoa(r->pool, gw_config_server(r->server)->vhost_index);
    p->value_len = strlen(p->value);
    return gw_proxy_handle(r, g, env, request_id);
}

/* A body that Content-Length says is over LimitRequestBody is refused
 * before any application code runs (or any daemon is contacted), as
 * mod_wsgi does; a chunked body over the limit fails when it is read. */
static int check_body_limit(request_rec *r, const char *id)
{
    apr_off_t limit = ap_get_limit_req_body(r);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t len;
    char *end;

    if (limit == 0 || cl == NULL
        || apr_strtoff(&len, cl, &end, 10) != APR_SUCCESS || *end
        || len <= limit) {
        return OK;
    }
    GW_LOG_R(APLOG_INFO, 0, r, "GW0214", "[%s] request body of %"
             APR_OFF_T_FMT " bytes is over LimitRequestBody (%" APR_OFF_T_FMT
             "); answered 413 without running the application", id, len,
             limit);
    return HTTP_REQUEST_ENTITY_TOO_LARGE;
}

int gw_handler(request_rec *r)
{
    gw_effective_t eff;
    const char *script_name, *request_id;
    apr_array_header_t *env;
    int status;

    if (r->handler == NULL || strcmp(r->handler, GW_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    request_id = gw_environ_request_id(r);
    if ((status = check_target(r, request_id)) != OK
        || (status = check_body_limit(r, request_id)) != OK) {
        return status;
    }
    gw_handler_effective(r, &eff);
    if (*eff.process_group) {
        return to_daemon(r, &eff, request_id);
    }
    if (gw_pyapi == NULL || !gw_pyapi->python_ready()) {
        GW_LOG_R(APLOG_ERR, 0, r, "GW0211", "[%s] embedded mode is not "
                 "available in this child (GatewayRestrictEmbedded On, or "
                 "Python failed to start: see GW0101): %s", request_id,
                 r->filename);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    script_name = gw_environ_script_name(r);
    eff.application_group = gw_environ_app_group(r, eff.application_group,
                                                 script_name);
    env = gw_environ_build(r, &eff, script_name, request_id);
    return gw_pyapi->embed_handle(r, &eff, env, request_id);
}
