/*
 * mod_gateway.c -- the module record, the command table and the hooks.
 * Everything else lives in gw_*.c, one subsystem per file.
 */
#define GW_MODULE_RECORD
#include "gw_common.h"
#include "gw_config.h"
#include "gw_alias.h"
#include "gw_handler.h"
#include "gw_pyapi.h"
#include "gw_log.h"
#include "gw_group.h"
#include "gw_pm.h"
#include "gw_cpool.h"
#include "mpm_common.h"

#include <pthread.h>
#include <signal.h>

#include <Python.h>

static int gw_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    gw_group_reset(pconf);
    return OK;
}

/* check_config runs for `apachectl -t` too, so every cross-directive check
 * (imports naming unknown or foreign groups, root daemons) shows there. */
static int gw_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    const char *err = gw_group_finish(pconf, s);

    if (err) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     "GW0003: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int gw_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    server_rec *v;
    int i = 0;

    for (v = s; v; v = v->next) {
        gw_config_server(v)->vhost_index = i++;
    }
    ap_add_version_component(pconf, "mod_gateway/" GW_VERSION_STRING);
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        GW_LOG_S(APLOG_INFO, 0, s, "GW0001", "mod_gateway %s, built for "
                 "Python %s", GW_VERSION_STRING, PY_VERSION);
    }
    return gw_pm_post_config(pconf, ptemp, s);
}

/* The stop signals are held while Python loads and while it starts: the
 * MPM's handler for them (just_die) exits on the spot, and an exit in the
 * middle of dlopen() or Py_Initialize() would run the exit handlers over
 * half-built state. Each hook gives back the mask it found (the MPMs
 * change it between the hooks), so a signal that came meanwhile is
 * delivered as the hook returns. */
static void hold_stop_signals(sigset_t *old)
{
    sigset_t stops;

    sigemptyset(&stops);
    gw_add_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, old);
}

/* Runs in every Apache child before it gives up root: the Python half is
 * loaded while the module's directory is surely readable. */
static int gw_drop_privileges(apr_pool_t *pchild, server_rec *s)
{
    sigset_t old;

    if (gw_config_server(s)->restrict_embedded != 1) {
        hold_stop_signals(&old);
        gw_pyapi_load(s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return DECLINED;
}

static void gw_child_init(apr_pool_t *pchild, server_rec *s)
{
    sigset_t old;

    gw_pm_child_init();
    gw_cpool_child_init(pchild, s);
    if (gw_pyapi != NULL) {
        hold_stop_signals(&old);
        gw_pyapi->embed_child_init(pchild, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
}

static void gw_register_hooks(apr_pool_t *p)
{
    /* After mod_alias, so `Alias /static ...` beats `GatewayScriptAlias /`,
     * and before the modules that map URLs to user directories. */
    static const char *const after[] = { "mod_alias.c", NULL };
    static const char *const before[] = { "mod_userdir.c",
                                          "mod_vhost_alias.c", NULL };

    ap_hook_pre_config(gw_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(gw_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(gw_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_drop_privileges(gw_drop_privileges, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
    ap_hook_child_init(gw_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(gw_alias_translate, after, before,
                           APR_HOOK_MIDDLE);
    ap_hook_handler(gw_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(gateway) = {
    STANDARD20_MODULE_STUFF,
    gw_config_create_dir,
    gw_config_merge_dir,
    gw_config_create_server,
    gw_config_merge_server,
    gw_config_cmds,
    gw_register_hooks,
    AP_MODULE_FLAG_NONE,
};
