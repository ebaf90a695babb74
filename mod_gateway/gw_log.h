/*
 * gw_log.h -- logging conventions of mod_gateway.
 *
 * Every message starts with a stable tag "GWnnnn: " listed in
 * docs/log-tags.md (t/integration/test_docs.py fails when a tag emitted
 * in a .c file of mod_gateway/ has no row there, or the page names a tag
 * that is no longer emitted). Ranges:
 *   GW00xx         configuration and start-up
 *   GW01xx         Python and interpreters (Apache children and daemons)
 *   GW02xx         the request path in Apache children, and the
 *                  application's own output (also written by daemons)
 *   GW03xx         the daemon process side
 *   GW0400-GW0409  the process manager (Apache parent)
 *   GW0410-GW0429  the Apache child's side of daemon mode
 * A new message takes the next free number of its range; a tag keeps its
 * meaning once released, and a retired tag is not reused.
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
