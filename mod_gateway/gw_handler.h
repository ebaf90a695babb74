/*
 * gw_handler.h -- the gateway-script handler. L1, Apache children only.
 */
#ifndef GW_HANDLER_H
#define GW_HANDLER_H

#include "gw_config.h"

int gw_handler(request_rec *r);

/* The options that apply to r: alias option > directory > vhost > server
 * > built-in default. application_group is still the unresolved spec. */
void gw_handler_effective(request_rec *r, gw_effective_t *eff);

#endif /* GW_HANDLER_H */
