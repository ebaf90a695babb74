/*
 * gw_log.h -- logging conventions of mod_gateway.
 *
 * Every message starts with a stable tag "GWnnnn: " listed in
 * docs/log-tags.md. Ranges: GW00xx configuration and start-up, GW01xx
 * Python and interpreters, GW02xx the request path, GW03xx daemon side,
 * GW04xx the process manager.
 *
 * These macros wrap ap_log_*error so that the tag is part of the format
 * string and the level check happens first (APLOG_R_IS_LEVEL is done by the
 * ap_log_* macros themselves). Callers that hold the GIL must release it
 * first: see gw_python.h, GW_PY_BLOCKING.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include "gw_common.h"

#define GW_LOG_S(level, rv, s, tag, ...) \
    ap_log_error(APLOG_MARK, (level), (rv), (s), tag ": " __VA_ARGS__)
#define GW_LOG_R(level, rv, r, tag, ...) \
    ap_log_rerror(APLOG_MARK, (level), (rv), (r), tag ": " __VA_ARGS__)

#endif /* GW_LOG_H */
