/*
 * gw_keeper.h -- the keeper: a small process between the Apache parent and
 * one daemon process. Runs only in keeper processes; never runs Python.
 */
#ifndef GW_KEEPER_H
#define GW_KEEPER_H

#include "gw_group.h"

/* Forks the daemon and waits for it; never returns. Called in the child
 * of the parent's fork, with the stop signals blocked. */
void gw_keeper_main(gw_group_t *g, int slot, apr_pool_t *pconf,
                    server_rec *s, apr_interval_time_t delay,
                    pid_t apache_pid) __attribute__((noreturn));

/* Keeper exit codes past the daemon's own (gw_daemon.h): the daemon
 * exited with an unexpected code, or was killed by signal N. */
#define GW_KEEPER_EXIT_CODE   102
#define GW_KEEPER_EXIT_SIGNAL 110   /* + the signal number */

#endif /* GW_KEEPER_H */
