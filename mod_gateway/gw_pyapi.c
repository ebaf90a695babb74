/*
 * gw_pyapi.c -- the table mod_gateway_python.so exports (gw_pyapi.h). It
 * is the only visible symbol of that DSO.
 */
#include "gw_pyapi.h"
#include "gw_embed.h"
#include "gw_loader.h"
#include "gw_python.h"

__attribute__((visibility("default")))
extern const gw_pyapi_t gw_pyapi_table;

const gw_pyapi_t gw_pyapi_table = {
    GW_PYAPI_VERSION,
    gw_embed_child_init,
    gw_embed_handle,
    gw_python_init,
    gw_python_ready,
    gw_python_acquire,
    gw_python_release,
    gw_python_interrupt,
    gw_interp_name,
    gw_loader_preload,
    gw_dserve_one,
    gw_dserve_timeout
};
