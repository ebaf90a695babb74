/*
 * gw_environ.c -- the environ of a request as string pairs, built from
 * request_rec. L1, Apache children only; header-name rules are L0
 * (gw_envname.c).
 */
#include "gw_environ.h"
#include "gw_envname.h"

#include "http_core.h"
#include "util_script.h"
#include "apr_atomic.h"

/* Keys the server computes. SetEnv and other modules cannot override them:
 * they are skipped from subprocess_env and set last. Sorted for bsearch. */
static const char *const server_keys[] = {
    "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "CONTEXT_DOCUMENT_ROOT",
    "CONTEXT_PREFIX", "DOCUMENT_ROOT", "GATEWAY_INTERFACE", "PATH_INFO",
    "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT",
    "REMOTE_USER", "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI",
    "SCRIPT_FILENAME", "SCRIPT_NAME", "SERVER_ADDR", "SERVER_ADMIN",
    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
};

static int cmp_key(const void *a, const void *b)
{
    return strcmp((const char *)a, *(const char *const *)b);
}

static int is_server_key(const char *key)
{
    return bsearch(key, server_keys, sizeof(server_keys) / sizeof(*server_keys),
                   sizeof(*server_keys), cmp_key) != NULL;
}

static void add(apr_array_header_t *env, const char *key, const char *val)
{
    gw_pair_t *p = apr_array_push(env);

    p->name = key;
    p->name_len = strlen(key);
    p->value = val ? val : "";
    p->value_len = strlen(p->value);
}

const char *gw_environ_script_name(request_rec *r)
{
    size_t ulen = strlen(r->uri), plen = 0, n;

    if (r->path_info && *r->path_info) {
        plen = strlen(r->path_info);
        if (plen > ulen || strcmp(r->uri + ulen - plen, r->path_info) != 0) {
            plen = 0;
        }
    }
    n = ulen - plen;
    while (n > 0 && r->uri[n - 1] == '/') {
        n--;
    }
    return apr_pstrmemdup(r->pool, r->uri, n);
}

const char *gw_environ_request_id(request_rec *r)
{
    static apr_uint32_t counter;

    if (r->log_id == NULL) {
        const char *id = NULL;

        if (ap_run_generate_log_id(r->connection, r, &id) == OK && id) {
            r->log_id = id;
        }
        else {
            r->log_id = apr_psprintf(r->pool, "%" APR_PID_T_FMT "-%u",
                                     getpid(), apr_atomic_inc32(&counter));
        }
    }
    return r->log_id;
}

/* Host and port of the virtual host, for %{SERVER}/%{RESOURCE}. The port
 * is the one the connection arrived on, never the client's Host header:
 * with UseCanonicalName Off a client could otherwise mint a new
 * interpreter per made-up port and exhaust memory. */
static const char *server_host(request_rec *r)
{
    apr_port_t port = r->connection->local_addr->port;
    const char *host = r->server->server_hostname;

    if (port == 80 || port == 443) {
        return host;
    }
    return apr_psprintf(r->pool, "%s:%u", host, (unsigned)port);
}

const char *gw_environ_app_group(request_rec *r, const char *spec,
                                 const char *script_name)
{
    if (spec == NULL || strcmp(spec, "%{RESOURCE}") == 0) {
        return apr_pstrcat(r->pool, server_host(r), "|", script_name, NULL);
    }
    if (strcmp(spec, "%{GLOBAL}") == 0) {
        return "";
    }
    if (strcmp(spec, "%{SERVER}") == 0) {
        return server_host(r);
    }
    return spec;
}

/* SetEnv, mod_rewrite E=, mod_ssl variables: everything but the header
 * namespace and the server-computed keys. */
static void add_subprocess_env(request_rec *r, apr_array_header_t *env)
{
    const apr_array_header_t *arr = apr_table_elts(r->subprocess_env);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && !gw_envname_is_header_key(e[i].key)
            && !is_server_key(e[i].key)) {
            add(env, e[i].key, e[i].val);
        }
    }
}

static void add_headers(request_rec *r, apr_array_header_t *env,
                        int pass_auth)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    unsigned flags = pass_auth ? GW_ENVNAME_PASS_AUTH : 0;
    char name[GW_ENVNAME_MAX];
    int i;

    for (i = 0; i < arr->nelts; i++) {
        size_t n;

        if (e[i].key == NULL) {
            continue;
        }
        n = gw_envname_from_header(e[i].key, strlen(e[i].key), name,
                                   sizeof(name), flags);
        if (n > 0) {
            add(env, apr_pstrmemdup(r->pool, name, n), e[i].val);
        }
    }
}

static const char *original_uri(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    return r->unparsed_uri ? r->unparsed_uri : r->uri;
}

static void add_server_vars(request_rec *r, apr_array_header_t *env,
                            const char *script_name)
{
    conn_rec *c = r->connection;
    const char *host = ap_get_useragent_host(r, REMOTE_HOST, NULL);

    add(env, "SERVER_SOFTWARE", ap_get_server_banner());
    add(env, "SERVER_NAME", ap_get_server_name_for_url(r));
    add(env, "SERVER_ADDR", c->local_ip);
    add(env, "SERVER_PORT",
        apr_psprintf(r->pool, "%u", (unsigned)ap_get_server_port(r)));
    add(env, "SERVER_ADMIN", r->server->server_admin);
    add(env, "SERVER_PROTOCOL", r->protocol);
    add(env, "GATEWAY_INTERFACE", "CGI/1.1");
    add(env, "REMOTE_ADDR", r->useragent_ip);
    add(env, "REMOTE_PORT", apr_psprintf(r->pool, "%u",
        r->useragent_addr ? (unsigned)r->useragent_addr->port : 0u));
    if (host && strcmp(host, r->useragent_ip) != 0) {
        add(env, "REMOTE_HOST", host);
    }
    if (r->user) {
        add(env, "REMOTE_USER", r->user);
    }
    if (r->ap_auth_type) {
        add(env, "AUTH_TYPE", r->ap_auth_type);
    }
    add(env, "DOCUMENT_ROOT", ap_document_root(r));
    add(env, "CONTEXT_PREFIX", ap_context_prefix(r));
    add(env, "CONTEXT_DOCUMENT_ROOT", ap_context_document_root(r));
    add(env, "REQUEST_SCHEME", ap_http_scheme(r));
    add(env, "REQUEST_METHOD", r->method);
    add(env, "REQUEST_URI", original_uri(r));
    add(env, "QUERY_STRING", r->args ? r->args : "");
    add(env, "SCRIPT_FILENAME", r->filename);
    add(env, "SCRIPT_NAME", script_name);
    add(env, "PATH_INFO", r->path_info ? r->path_info : "");
}

/* https when Apache says so (mod_ssl), or when the admin says so with
 * `SetEnv HTTPS on` behind a TLS-terminating proxy: both are config. */
static int is_https(request_rec *r)
{
    const char *v = apr_table_get(r->subprocess_env, "HTTPS");

    if (v && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)) {
        return 1;
    }
    return strcmp(ap_http_scheme(r), "https") == 0;
}

apr_array_header_t *gw_environ_build(request_rec *r,
                                     const gw_effective_t *eff,
                                     const char *script_name,
                                     const char *request_id)
{
    apr_array_header_t *env = apr_array_make(r->pool, 48, sizeof(gw_pair_t));
    int https = is_https(r);

    add_subprocess_env(r, env);
    add_headers(r, env, eff->pass_authorization);
    add_server_vars(r, env, script_name);
    if (https && !apr_table_get(r->subprocess_env, "HTTPS")) {
        add(env, "HTTPS", "on");
    }
    add(env, "wsgi.url_scheme", https ? "https" : "http");
    add(env, "mod_gateway.process_group", eff->process_group);
    add(env, "mod_gateway.application_group", eff->application_group);
    add(env, "mod_gateway.callable_object", eff->callable_object);
    add(env, "mod_gateway.script_reloading",
        eff->script_reloading ? "1" : "0");
    add(env, "mod_gateway.version", GW_VERSION_STRING);
    add(env, "mod_gateway.request_id", request_id);
    return env;
}
