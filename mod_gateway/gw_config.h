/*
 * gw_config.h -- configuration records and directive setters.
 *
 * L1: runs in the Apache parent while the configuration is read, and is
 * read-only afterwards in children and daemons.
 *
 * Options that mod_wsgi allows in server, vhost and directory context
 * (application group, callable object, ...) live only in the per-directory
 * record: httpd stores a server-level use of such a directive in that
 * server's default per-directory record, so one field-by-field merge gives
 * server < vhost < <Directory>/<Location> precedence. A GatewayScriptAlias
 * option beats all of them.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include "gw_common.h"
#include "ap_regex.h"

#define GW_UNSET (-1)

/* Per-mount options; every field may be unset (NULL / GW_UNSET). */
typedef struct {
    const char *process_group;     /* "" means embedded (%{GLOBAL}) */
    const char *application_group; /* the raw spec: %{GLOBAL}, name, ... */
    const char *callable_object;
    int pass_authorization;
    int script_reloading;
} gw_options_t;

typedef struct {
    const char *location; /* URL prefix, or the regex source */
    ap_regex_t *regex;    /* GatewayScriptAliasMatch only */
    const char *target;   /* file or directory; may hold $N for regexes */
    gw_options_t opts;
} gw_alias_t;

typedef struct {
    apr_array_header_t *aliases; /* gw_alias_t: this vhost's, then base's */
    /* Main server only (GLOBAL_ONLY directives). */
    const char *python_home;
    apr_array_header_t *python_path; /* const char * directories */
    int restrict_embedded;
    const char *socket_prefix;
    /* Position in the server list, set in post_config: how a daemon learns
     * which vhost's ErrorLog a request belongs to. */
    int vhost_index;
} gw_server_conf_t;

typedef struct {
    gw_options_t opts;
} gw_dir_conf_t;

/* The options that apply to one request, every field resolved. */
typedef struct {
    const char *process_group;     /* "" for embedded */
    const char *application_group; /* resolved name; "" is the main one */
    const char *callable_object;
    int pass_authorization;
    int script_reloading;
} gw_effective_t;

void *gw_config_create_server(apr_pool_t *p, server_rec *s);
void *gw_config_merge_server(apr_pool_t *p, void *base, void *add);
void *gw_config_create_dir(apr_pool_t *p, char *dir);
void *gw_config_merge_dir(apr_pool_t *p, void *base, void *add);

extern const command_rec gw_config_cmds[];

#define gw_config_server(s) \
    ((gw_server_conf_t *)ap_get_module_config((s)->module_config, \
                                              &gateway_module))
#define gw_config_dir(r) \
    ((gw_dir_conf_t *)ap_get_module_config((r)->per_dir_config, \
                                           &gateway_module))

#endif /* GW_CONFIG_H */
