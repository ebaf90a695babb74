/*
 * gw_cpool.h -- an Apache child's pools of idle daemon connections, one
 * per group. Runs only in Apache children.
 */
#ifndef GW_CPOOL_H
#define GW_CPOOL_H

#include "gw_conn.h"
#include "gw_group.h"

/* A connection idle in a pool through a whole GW_CPOOL_IDLE window (no
 * exchange needed it: the pool never held fewer) is closed, so that after
 * a burst the child and the daemons give back its memory and descriptors;
 * a steady load keeps all it uses. */
#define GW_CPOOL_IDLE apr_time_from_sec(2)

/* child_init: the pools, and the thread that closes idle connections and
 * unmaps spare big buffers once per GW_CPOOL_IDLE (it ends with pchild). */
void gw_cpool_child_init(apr_pool_t *pchild, server_rec *s);

/* The most recently used idle connection to g that is still good, or
 * NULL. */
gw_conn_t *gw_cpool_get(gw_group_t *g);

/* c's exchange ended cleanly: it waits in g's pool for the next one. */
void gw_cpool_put(gw_group_t *g, gw_conn_t *c);

#endif /* GW_CPOOL_H */
