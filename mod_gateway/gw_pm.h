/*
 * gw_pm.h -- the process manager: daemon sockets and processes.
 *
 * Runs only in the Apache parent (and never runs Python). Listening sockets
 * live in the process pool, keyed by group name, so they outlive a
 * restart: the old generation of daemons stops accepting while the new one
 * accepts on the same socket, and no connection is lost in between.
 */
#ifndef GW_PM_H
#define GW_PM_H

#include "gw_group.h"

/* post_config: creates or reuses each group's socket and forks its
 * processes (not in the dry-run pass or a config test). */
int gw_pm_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* The uid of the Apache children: Apache's User when httpd started as
 * root, else httpd's own uid. Only it may connect to a daemon. */
uid_t gw_pm_children_uid(void);

/* child_init: an Apache child does not keep the daemons' listening fds. */
void gw_pm_child_init(void);

#endif /* GW_PM_H */
