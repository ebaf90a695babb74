/*
 * gw_daemon.h -- the main function of a daemon process.
 *
 * Runs only in daemon processes: forked by the Apache parent (gw_pm.c),
 * it drops privileges, THEN starts Python, and serves its group's socket
 * until it is told to stop or recycles itself.
 */
#ifndef GW_DAEMON_H
#define GW_DAEMON_H

#include "gw_group.h"

/* Never returns. pconf is the configuration pool the parent forked with;
 * delay is a start-up backoff after a crash loop (slept before anything
 * else). */
void gw_daemon_main(gw_group_t *g, int slot, apr_pool_t *pconf,
                    server_rec *main_server, apr_interval_time_t delay,
                    pid_t parent) __attribute__((noreturn));

/* Exit codes the process manager understands. The MPM reports a child's
 * end to apr_proc_other_child as one number, an exit code or a signal
 * number alike, so these stay clear of signal numbers (1..64); anything
 * else is a crash. */
#define GW_DAEMON_EXIT_RECYCLE 0    /* recycled or stopped: respawn at once */
#define GW_DAEMON_EXIT_FATAL   100  /* cannot start: respawn with backoff */
#define GW_DAEMON_EXIT_ABORT   101  /* the watchdog ended a stuck process */

#endif /* GW_DAEMON_H */
