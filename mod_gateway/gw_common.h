/*
 * gw_common.h -- the private header every L1/L2 file of mod_gateway
 * includes: httpd/APR headers, the module declaration for APLOG_USE_MODULE,
 * and version constants. L0 files (gw_http, gw_envname, gw_path, gw_opts,
 * gw_wire) must not include it.
 */
#ifndef GW_COMMON_H
#define GW_COMMON_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include "gw_version.h"
#include <signal.h>

#define GW_HANDLER_NAME   "gateway-script"

/* httpd's stop and restart signals: what the MPMs send their children and
 * what mod_gateway's keepers and daemons answer to. */
#define GW_STOP_SIGNALS { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGWINCH }

/* Adds GW_STOP_SIGNALS to set. */
static inline void gw_add_stop_signals(sigset_t *set)
{
    static const int stops[] = GW_STOP_SIGNALS;
    size_t i;

    for (i = 0; i < sizeof(stops) / sizeof(*stops); i++) {
        sigaddset(set, stops[i]);
    }
}

extern module AP_MODULE_DECLARE_DATA gateway_module;

/* mod_gateway.c defines the module record, which declares the log index
 * itself. */
#ifndef GW_MODULE_RECORD
APLOG_USE_MODULE(gateway);
#endif

#endif /* GW_COMMON_H */
