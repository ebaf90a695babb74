/*
 * gw_embed.h -- embedded mode: Python in the Apache child, the transport
 * over request_rec and brigades. L1+L2 glue, Apache children only.
 */
#ifndef GW_EMBED_H
#define GW_EMBED_H

#include "gw_config.h"

/* child_init: starts Python unless GatewayRestrictEmbedded On. */
void gw_embed_child_init(apr_pool_t *pchild, server_rec *s);

/* Runs r in this child. env is from gw_environ_build. Returns OK or an
 * HTTP status for Apache's error page. */
int gw_embed_handle(request_rec *r, const gw_effective_t *eff,
                    apr_array_header_t *env, const char *request_id);

#endif /* GW_EMBED_H */
