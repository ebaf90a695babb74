/*
 * gw_environ.h -- the WSGI environ of a request, built from request_rec as
 * a list of string pairs. L1, Apache children only.
 *
 * The same list feeds the embedded adapter (which turns it into a dict with
 * interned keys) and the daemon transport (which puts it in a REQUEST
 * frame), so both modes see the same environ. Order matters: later pairs
 * win, so request headers come after SetEnv values and server-computed
 * values come last (RELIABILITY.md: server-computed variables win).
 */
#ifndef GW_ENVIRON_H
#define GW_ENVIRON_H

#include "gw_config.h"
#include "gw_io.h"

/* SCRIPT_NAME: r->uri without r->path_info, trailing '/' removed. */
const char *gw_environ_script_name(request_rec *r);

/* The request id: mod_unique_id's or core's log id, generated if needed. */
const char *gw_environ_request_id(request_rec *r);

/* Resolves %{GLOBAL} (""), %{SERVER} ("host[:port]"), %{RESOURCE}
 * ("host[:port]|SCRIPT_NAME") or returns a literal name. */
const char *gw_environ_app_group(request_rec *r, const char *spec,
                                 const char *script_name);

/* All string-valued environ entries, as gw_pair_t in r->pool. */
apr_array_header_t *gw_environ_build(request_rec *r,
                                     const gw_effective_t *eff,
                                     const char *script_name,
                                     const char *request_id);

#endif /* GW_ENVIRON_H */
