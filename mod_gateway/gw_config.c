/*
 * gw_config.c -- configuration records, merging and directive setters.
 *
 * L1, Apache parent only (configuration time). Every setter validates its
 * arguments and returns an error that names the directive and the bad
 * value, so `apachectl -t` shows it. Parsing of numbers and flags is L0
 * (gw_opts.c); this file turns its errors into directive errors.
 */
#include "gw_config.h"
#include "gw_group.h"
#include "gw_opts.h"

#include "apr_lib.h"

/* ---- records -------------------------------------------------------- */

static void options_init(gw_options_t *o)
{
    o->process_group = NULL;
    o->application_group = NULL;
    o->callable_object = NULL;
    o->pass_authorization = GW_UNSET;
    o->script_reloading = GW_UNSET;
}

/* Field by field: a field set in `add` wins, else `base`'s. (mod_cgid's
 * whole-struct merge silently dropped fields; this one cannot.) */
static void options_merge(gw_options_t *out, const gw_options_t *base,
                          const gw_options_t *add)
{
#define GW_MERGE_PTR(f) out->f = add->f ? add->f : base->f
#define GW_MERGE_INT(f) out->f = add->f != GW_UNSET ? add->f : base->f
    GW_MERGE_PTR(process_group);
    GW_MERGE_PTR(application_group);
    GW_MERGE_PTR(callable_object);
    GW_MERGE_INT(pass_authorization);
    GW_MERGE_INT(script_reloading);
#undef GW_MERGE_PTR
#undef GW_MERGE_INT
}

void *gw_config_create_server(apr_pool_t *p, server_rec *s)
{
    gw_server_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->aliases = apr_array_make(p, 4, sizeof(gw_alias_t));
    c->python_path = apr_array_make(p, 2, sizeof(const char *));
    c->restrict_embedded = GW_UNSET;
    return c;
}

void *gw_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    gw_server_conf_t *base = basev, *add = addv;
    gw_server_conf_t *c = apr_pcalloc(p, sizeof(*c));

    /* A vhost's aliases are tried before the main server's, as mod_alias
     * does. */
    c->aliases = apr_array_append(p, add->aliases, base->aliases);
    /* The GLOBAL_ONLY fields are only ever set on the main server. */
    c->python_home = base->python_home;
    c->python_path = base->python_path;
    c->restrict_embedded = base->restrict_embedded;
    c->socket_prefix = base->socket_prefix;
    return c;
}

void *gw_config_create_dir(apr_pool_t *p, char *dir)
{
    gw_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    options_init(&c->opts);
    return c;
}

void *gw_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    gw_dir_conf_t *base = basev, *add = addv;
    gw_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    options_merge(&c->opts, &base->opts, &add->opts);
    return c;
}

/* ---- value checks shared by directives and alias options ------------ */

static const char *check_group_spec(cmd_parms *cmd, const char *what,
                                    const char *v)
{
    if (!*v) {
        return apr_psprintf(cmd->pool, "%s: an empty %s is not allowed",
                            cmd->cmd->name, what);
    }
    if (strstr(v, "%{") && strcmp(v, "%{GLOBAL}") != 0
        && strcmp(v, "%{SERVER}") != 0 && strcmp(v, "%{RESOURCE}") != 0) {
        return apr_psprintf(cmd->pool,
                            "%s: unknown %s '%s' (expected %%{GLOBAL}, "
                            "%%{SERVER}, %%{RESOURCE} or a literal name)",
                            cmd->cmd->name, what, v);
    }
    return NULL;
}

static const char *check_process_group(cmd_parms *cmd, const char *v)
{
    if (strstr(v, "%{") && strcmp(v, "%{GLOBAL}") != 0) {
        return apr_psprintf(cmd->pool,
                            "%s: unknown process group '%s' (expected a "
                            "GatewayDaemonProcess name or %%{GLOBAL})",
                            cmd->cmd->name, v);
    }
    if (!*v) {
        return apr_psprintf(cmd->pool, "%s: an empty process group is not "
                            "allowed", cmd->cmd->name);
    }
    return NULL;
}

/* A Python identifier, so a typo cannot become a confusing lookup. */
static const char *check_callable(cmd_parms *cmd, const char *v)
{
    const char *c = v;

    if (!apr_isalpha(*c) && *c != '_') {
        goto bad;
    }
    for (c++; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_') {
            goto bad;
        }
    }
    return NULL;
bad:
    return apr_psprintf(cmd->pool, "%s: '%s' is not a valid Python name for "
                        "the callable object", cmd->cmd->name, v);
}

/* A Paste Deploy app section name ("config.ini#my-app"). */
static const char *check_section(cmd_parms *cmd, const char *v)
{
    const char *c = v;

    for (; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("_.-", *c)) {
            break;
        }
    }
    if (*v && !*c) {
        return NULL;
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not a valid Paste Deploy "
                        "section name (letters, digits, '_', '.', '-')",
                        cmd->cmd->name, v);
}

static const char *parse_flag(cmd_parms *cmd, const char *what,
                              const char *v, int *out)
{
    const char *err;

    if (gw_opts_parse_flag(v, out, &err) != 0) {
        return apr_psprintf(cmd->pool, "%s: bad value '%s'%s%s (%s)",
                            cmd->cmd->name, v, what ? " for " : "",
                            what ? what : "", err);
    }
    return NULL;
}

/* "%{GLOBAL}" process group means embedded: stored as "". */
static const char *process_group_value(const char *v)
{
    return strcmp(v, "%{GLOBAL}") == 0 ? "" : v;
}

/* ---- GatewayScriptAlias / GatewayScriptAliasMatch ------------------ */

static const char *alias_option(cmd_parms *cmd, gw_alias_t *a,
                                const char *arg)
{
    const char *key, *val, *err;
    size_t klen;

    if (gw_opts_split(arg, &key, &klen, &val, &err) != 0) {
        return apr_psprintf(cmd->pool, "%s: bad option '%s' (%s)",
                            cmd->cmd->name, arg, err);
    }
#define GW_KEY_IS(k) (klen == sizeof(k) - 1 && strncmp(key, k, klen) == 0)
    if (GW_KEY_IS("process-group")) {
        a->opts.process_group = process_group_value(val);
        return check_process_group(cmd, val);
    }
    if (GW_KEY_IS("application-group")) {
        a->opts.application_group = val;
        return check_group_spec(cmd, "application group", val);
    }
    if (GW_KEY_IS("callable-object")) {
        a->opts.callable_object = val;
        return check_callable(cmd, val);
    }
    if (GW_KEY_IS("pass-authorization")) {
        return parse_flag(cmd, "pass-authorization", val,
                          &a->opts.pass_authorization);
    }
#undef GW_KEY_IS
    return apr_psprintf(cmd->pool, "%s: unknown option '%s' (known: "
                        "process-group=, application-group=, "
                        "callable-object=, pass-authorization=)",
                        cmd->cmd->name, arg);
}

static const char *set_script_alias(cmd_parms *cmd, void *dummy, int argc,
                                    char *const argv[])
{
    gw_server_conf_t *sc = gw_config_server(cmd->server);
    int is_match = cmd->info != NULL;
    gw_alias_t *a;
    const char *err;
    int i;

    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT)) != NULL) {
        return err;
    }
    if (argc < 2) {
        return apr_psprintf(cmd->pool, "%s: needs a URL%s and a file or "
                            "directory path", cmd->cmd->name,
                            is_match ? " pattern" : "");
    }
    a = apr_array_push(sc->aliases);
    memset(a, 0, sizeof(*a));
    options_init(&a->opts);
    a->location = argv[0];
    a->target = argv[1];
    /* "config.ini#name": the app section of a Paste Deploy file, carried
     * as the callable name (the loader reads "main" by default). */
    if (strchr(a->target, '#')) {
        char *hash = strchr(a->target = apr_pstrdup(cmd->pool, argv[1]), '#');

        *hash = '\0';
        a->opts.callable_object = hash + 1;
        if ((err = check_section(cmd, hash + 1)) != NULL) {
            return err;
        }
    }
    if (is_match) {
        a->regex = ap_pregcomp(cmd->pool, argv[0], AP_REG_EXTENDED);
        if (a->regex == NULL) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid regular "
                                "expression", cmd->cmd->name, argv[0]);
        }
    }
    else if (argv[0][0] != '/') {
        return apr_psprintf(cmd->pool, "%s: URL '%s' must start with '/'",
                            cmd->cmd->name, argv[0]);
    }
    if (argv[1][0] != '/') {
        return apr_psprintf(cmd->pool, "%s: path '%s' must be absolute",
                            cmd->cmd->name, argv[1]);
    }
    for (i = 2; i < argc; i++) {
        if ((err = alias_option(cmd, a, argv[i])) != NULL) {
            return err;
        }
    }
    return NULL;
}

/* ---- per-directory options ----------------------------------------- */

static const char *set_process_group(cmd_parms *cmd, void *dv, const char *v)
{
    gw_dir_conf_t *d = dv;

    d->opts.process_group = process_group_value(v);
    return check_process_group(cmd, v);
}

static const char *set_application_group(cmd_parms *cmd, void *dv,
                                         const char *v)
{
    gw_dir_conf_t *d = dv;

    d->opts.application_group = v;
    return check_group_spec(cmd, "application group", v);
}

static const char *set_callable_object(cmd_parms *cmd, void *dv,
                                       const char *v)
{
    gw_dir_conf_t *d = dv;

    d->opts.callable_object = v;
    return check_callable(cmd, v);
}

static const char *set_dir_flag(cmd_parms *cmd, void *dv, const char *v)
{
    gw_dir_conf_t *d = dv;
    int *field = (int *)((char *)&d->opts + (apr_size_t)cmd->info);

    return parse_flag(cmd, NULL, v, field);
}

/* ---- main-server-only settings ------------------------------------- */

static const char *set_python_home(cmd_parms *cmd, void *dummy, const char *v)
{
    gw_server_conf_t *sc = gw_config_server(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (v[0] != '/') {
        return apr_psprintf(cmd->pool, "%s: '%s' must be an absolute path",
                            cmd->cmd->name, v);
    }
    sc->python_home = v;
    return NULL;
}

static const char *set_python_path(cmd_parms *cmd, void *dummy, const char *v)
{
    gw_server_conf_t *sc = gw_config_server(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *copy, *dir, *state;

    if (err) {
        return err;
    }
    copy = apr_pstrdup(cmd->pool, v);
    for (dir = apr_strtok(copy, ":", &state); dir;
         dir = apr_strtok(NULL, ":", &state)) {
        if (dir[0] != '/') {
            return apr_psprintf(cmd->pool, "%s: '%s' must be an absolute "
                                "path", cmd->cmd->name, dir);
        }
        APR_ARRAY_PUSH(sc->python_path, const char *) = dir;
    }
    return NULL;
}

static const char *set_restrict_embedded(cmd_parms *cmd, void *dummy,
                                         const char *v)
{
    gw_server_conf_t *sc = gw_config_server(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : parse_flag(cmd, NULL, v, &sc->restrict_embedded);
}

static const char *set_socket_prefix(cmd_parms *cmd, void *dummy,
                                     const char *v)
{
    gw_server_conf_t *sc = gw_config_server(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    sc->socket_prefix = ap_server_root_relative(cmd->pool, v);
    if (sc->socket_prefix == NULL) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'",
                            cmd->cmd->name, v);
    }
    return NULL;
}

#define GW_DIR_FLAG(name, field, help) \
    AP_INIT_TAKE1(name, set_dir_flag, \
                  (void *)APR_OFFSETOF(gw_options_t, field), OR_FILEINFO, help)

const command_rec gw_config_cmds[] = {
    AP_INIT_TAKE_ARGV("GatewayScriptAlias", set_script_alias, NULL,
                      RSRC_CONF, "URL-path file-or-directory [options]: "
                      "mount a WSGI script"),
    AP_INIT_TAKE_ARGV("GatewayScriptAliasMatch", set_script_alias, "match",
                      RSRC_CONF, "regex file-or-directory [options]: mount "
                      "WSGI scripts by regular expression ($N substituted)"),
    AP_INIT_TAKE1("GatewayProcessGroup", set_process_group, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "daemon process group name, or %{GLOBAL} for embedded"),
    AP_INIT_TAKE1("GatewayApplicationGroup", set_application_group, NULL,
                  RSRC_CONF | ACCESS_CONF, "interpreter name: %{GLOBAL}, "
                  "%{SERVER}, %{RESOURCE} or a literal name"),
    AP_INIT_TAKE1("GatewayCallableObject", set_callable_object, NULL,
                  OR_FILEINFO, "name of the WSGI callable in the script"),
    GW_DIR_FLAG("GatewayPassAuthorization", pass_authorization,
                "On to pass the Authorization header as HTTP_AUTHORIZATION"),
    GW_DIR_FLAG("GatewayScriptReloading", script_reloading,
                "On to re-import a script whose file changed"),
    AP_INIT_TAKE1("GatewayPythonHome", set_python_home, NULL, RSRC_CONF,
                  "Python home or virtualenv directory"),
    AP_INIT_ITERATE("GatewayPythonPath", set_python_path, NULL, RSRC_CONF,
                    "directories (':'-separated) added with site.addsitedir"),
    AP_INIT_TAKE1("GatewayRestrictEmbedded", set_restrict_embedded, NULL,
                  RSRC_CONF, "On to never start Python in Apache children"),
    AP_INIT_TAKE1("GatewaySocketPrefix", set_socket_prefix, NULL, RSRC_CONF,
                  "path prefix of daemon sockets"),
    AP_INIT_TAKE_ARGV("GatewayDaemonProcess", gw_group_cmd, NULL, RSRC_CONF,
                      "name [key=value ...]: define a daemon process group"),
    AP_INIT_TAKE_ARGV("GatewayImportScript", gw_group_import_cmd, NULL,
                      RSRC_CONF, "path process-group=NAME "
                      "application-group=NAME: preload a script"),
    { NULL },
};
