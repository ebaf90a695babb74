/*
 * gw_keeper.c -- the keeper process of a daemon.
 *
 * Runs only in keeper processes (root, like the Apache parent; it never
 * runs Python or tenant code). The Apache parent's MPM reaps its children
 * itself and reads their exit codes: httpd stops entirely when a child
 * exits with APEXIT_CHILDFATAL (15), and apr_proc_other_child only learns a
 * number that may be an exit code or a signal. A daemon runs tenant code,
 * which can _exit(15); so the parent's child is this keeper instead. It
 * lives in its own process group (prefork signals its whole group at
 * restart), forwards stop signals to the daemon, and reports the daemon's
 * end in codes the MPM cannot misread: 0, GW_DAEMON_EXIT_*, or
 * GW_KEEPER_EXIT_*.
 */
#include "gw_keeper.h"
#include "gw_daemon.h"
#include "gw_log.h"

#include "ap_listen.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int keeper_code(gw_group_t *g, server_rec *s, pid_t pid, int st)
{
    if (WIFSIGNALED(st)) {
        GW_LOG_S(APLOG_ERR, 0, s, "GW0404", "daemon group '%s' process %"
                 APR_PID_T_FMT " was killed by signal %d%s", g->name, pid,
                 WTERMSIG(st), WCOREDUMP(st) ? " (core dumped)" : "");
        return GW_KEEPER_EXIT_SIGNAL + (WTERMSIG(st) & 0x3f);
    }
    switch (WEXITSTATUS(st)) {
        case GW_DAEMON_EXIT_RECYCLE:
        case GW_DAEMON_EXIT_FATAL:
        case GW_DAEMON_EXIT_ABORT:
            return WEXITSTATUS(st);
        default:
            GW_LOG_S(APLOG_ERR, 0, s, "GW0404", "daemon group '%s' process %"
                     APR_PID_T_FMT " exited with code %d (the application "
                     "ended the process)", g->name, pid, WEXITSTATUS(st));
            return GW_KEEPER_EXIT_CODE;
    }
}

void gw_keeper_main(gw_group_t *g, int slot, apr_pool_t *pconf,
                    server_rec *s, apr_interval_time_t delay,
                    pid_t apache_pid)
{
    struct timespec tick = { 1, 0 };
    sigset_t wait_for;
    siginfo_t info;
    pid_t pid;
    int st, sig, told = 0;

    setpgid(0, 0);
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGCHLD);
    gw_add_stop_signals(&wait_for);
    sigprocmask(SIG_BLOCK, &wait_for, NULL);
    pid = fork();
    if (pid == 0) {
        gw_daemon_main(g, slot, pconf, s, delay, getppid());
    }
    if (pid < 0) {
        GW_LOG_S(APLOG_CRIT, errno, s, "GW0403", "cannot fork a process "
                 "for daemon group '%s'", g->name);
        _exit(GW_DAEMON_EXIT_FATAL);
    }
    ap_close_listeners();
    for (;;) {
        sig = sigtimedwait(&wait_for, &info, &tick);
        if (sig == SIGCHLD || (sig < 0 && errno == EAGAIN)) {
            if (waitpid(pid, &st, WNOHANG) == pid) {
                _exit(keeper_code(g, s, pid, st));
            }
        }
        else if (sig > 0) {
            kill(pid, SIGTERM);
        }
        /* The Apache parent is gone (kill -9): stop the daemon too. */
        if (!told && getppid() != apache_pid) {
            told = 1;
            kill(pid, SIGTERM);
        }
    }
}
