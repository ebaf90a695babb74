/*
 * gw_pyload.c -- loads mod_gateway_python.so into the processes that run
 * Python (see gw_pyapi.h for why it is a separate DSO).
 */
#include "gw_pyapi.h"
#include "gw_log.h"

#include <dlfcn.h>
#include <libgen.h>

#define GW_PYAPI_DSO "mod_gateway_python.so"

const gw_pyapi_t *gw_pyapi = NULL;

/* Where mod_gateway.so itself was loaded from: the Python DSO is built and
 * installed next to it. */
static const char *sibling_path(apr_pool_t *p)
{
    Dl_info info;
    char *dir;

    if (dladdr((void *)&gw_pyapi_load, &info) == 0
        || info.dli_fname == NULL || info.dli_fname[0] != '/') {
        return NULL;
    }
    dir = dirname(apr_pstrdup(p, info.dli_fname));
    return apr_pstrcat(p, dir, "/" GW_PYAPI_DSO, NULL);
}

apr_status_t gw_pyapi_load(server_rec *s)
{
    const char *paths[2];
    const char *why = "not found";
    apr_pool_t *p = s->process->pool;
    const gw_pyapi_t *api;
    void *h = NULL;
    int i;

    if (gw_pyapi != NULL) {
        return APR_SUCCESS;
    }
    paths[0] = sibling_path(p);
    paths[1] = GW_MODULE_DIR "/" GW_PYAPI_DSO;
    for (i = 0; i < 2 && h == NULL; i++) {
        if (paths[i] == NULL) {
            continue;
        }
        /* RTLD_GLOBAL: Python's extension modules (numpy, _ssl...) find
         * libpython's symbols in the global scope. Never closed: Python
         * cannot be unloaded. */
        h = dlopen(paths[i], RTLD_NOW | RTLD_GLOBAL);
        if (h == NULL) {
            why = apr_pstrdup(p, dlerror());
        }
    }
    if (h == NULL) {
        GW_LOG_S(APLOG_CRIT, 0, s, "GW0004", "cannot load the Python half "
                 "of mod_gateway (%s); it must be installed next to "
                 "mod_gateway.so (make install puts it there)", why);
        return APR_EGENERAL;
    }
    api = dlsym(h, GW_PYAPI_SYMBOL);
    if (api == NULL || api->version != GW_PYAPI_VERSION) {
        GW_LOG_S(APLOG_CRIT, 0, s, "GW0004", "cannot load the Python half "
                 "of mod_gateway (%s): %s; reinstall both DSOs from the same "
                 "build", paths[i - 1], api == NULL ? "no " GW_PYAPI_SYMBOL
                 : "it is from another version");
        return APR_EGENERAL;
    }
    gw_pyapi = api;
    return APR_SUCCESS;
}
