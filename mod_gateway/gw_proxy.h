/*
 * gw_proxy.h -- the Apache child's side of daemon mode: a request handed
 * to a daemon process group. Runs only in Apache children.
 */
#ifndef GW_PROXY_H
#define GW_PROXY_H

#include "gw_config.h"
#include "gw_group.h"

/* Runs r in group g. Returns OK or an HTTP status for Apache's error
 * page. */
int gw_proxy_handle(request_rec *r, gw_group_t *g, apr_array_header_t *env,
                    const char *request_id);

#endif /* GW_PROXY_H */
