/*
 * gw_pyapi.h -- the boundary between mod_gateway.so and the Python half of
 * the module, mod_gateway_python.so.
 *
 * mod_gateway.so does not link libpython: an Apache child that only
 * forwards requests to daemons (GatewayRestrictEmbedded On) never maps
 * libpython, whose relocated data alone would cost every child more than
 * a megabyte. The processes that run Python (an embedded child, a daemon)
 * load mod_gateway_python.so with gw_pyapi_load() and call it through the
 * one table it exports. That DSO resolves its calls into mod_gateway.so
 * (config, environ, wire, logging) from the global symbol scope: Apache
 * loads modules RTLD_GLOBAL.
 */
#ifndef GW_PYAPI_H
#define GW_PYAPI_H

#include "gw_config.h"
#include "gw_dserve.h"

/* Bumped whenever the table changes: a stale mod_gateway_python.so next
 * to a new mod_gateway.so is refused instead of called wrongly. */
#define GW_PYAPI_VERSION 1

typedef struct {
    int version;
    /* gw_embed.h */
    void (*embed_child_init)(apr_pool_t *pchild, server_rec *s);
    int (*embed_handle)(request_rec *r, const gw_effective_t *eff,
                        apr_array_header_t *env, const char *request_id);
    /* gw_python.h */
    apr_status_t (*python_init)(apr_pool_t *pool,
                                const gw_python_config_t *cfg);
    int (*python_ready)(void);
    gw_interp_t *(*python_acquire)(const char *name, const char **err);
    void (*python_release)(gw_interp_t *interp);
    int (*python_interrupt)(gw_py_request_t *req);
    const char *(*interp_name)(gw_interp_t *interp);
    /* gw_loader.h */
    void (*loader_preload)(const char *script, const char *app_group);
    /* gw_dserve.h */
    gw_dserve_rc_t (*dserve_one)(gw_dserve_ctx_t *ctx, gw_dconn_t *dc,
                                 apr_pool_t *pool, int reject);
    void (*dserve_timeout)(gw_dserve_ctx_t *ctx);
} gw_pyapi_t;

/* The exported table, in mod_gateway_python.so. */
#define GW_PYAPI_SYMBOL "gw_pyapi_table"

/* NULL until gw_pyapi_load() succeeded in this process. */
extern const gw_pyapi_t *gw_pyapi;

/* Loads mod_gateway_python.so (next to mod_gateway.so, else in Apache's
 * module directory) once per process. On failure logs GW0004 and returns
 * an error; Python is then unavailable in this process. */
apr_status_t gw_pyapi_load(server_rec *s);

#endif /* GW_PYAPI_H */
