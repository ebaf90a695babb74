/*
 * gw_alias.h -- GatewayScriptAlias / GatewayScriptAliasMatch at request
 * time (the translate_name hook). L1, Apache children only.
 */
#ifndef GW_ALIAS_H
#define GW_ALIAS_H

#include "gw_config.h"

/* translate_name hook: maps a URL under a mount to the script file plus
 * the rest of the path, and sets the handler to gateway-script. */
int gw_alias_translate(request_rec *r);

/* The alias that mounted r, or NULL when r reached the handler through
 * SetHandler/AddHandler. */
const gw_alias_t *gw_alias_of(request_rec *r);

#endif /* GW_ALIAS_H */
