/*
 * gw_privs.h -- L0: a daemon process gives up root before Python starts.
 *
 * Pure C (libc and Linux system calls): no APR, no httpd, no Python, no
 * logging. Runs in a freshly forked daemon process, single-threaded, after
 * it closed other groups' sockets and before the interpreter exists.
 * Returns 0, or -1 with a message naming the failed step (and strerror)
 * in the caller's buffer; the caller logs it once and exits.
 */
#ifndef GW_PRIVS_H
#define GW_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    uid_t uid;                 /* never 0 */
    gid_t gid;                 /* never 0 */
    const gid_t *groups;       /* the exact supplementary set; none is 0 */
    size_t ngroups;            /* 0: no supplementary groups at all */
    int umask;                 /* -1: keep */
    const char *home;          /* chdir() target; NULL: "/" */
    const char *lang;          /* NULL: keep; else sets LANG */
    const char *locale;        /* NULL: keep; else LC_ALL + setlocale() */
    int cpu_priority;          /* setpriority(), -20..19; 0: keep */
    long long memory_limit;          /* RLIMIT_DATA, bytes; 0: keep */
    long long virtual_memory_limit;  /* RLIMIT_AS, bytes; 0: keep */
    long long cpu_time_limit;        /* RLIMIT_CPU, seconds; 0: keep */
} gw_privs_t;

/* Applies p to the calling process, in this order: resource limits and
 * priority (while still privileged), umask, then -- if running as root --
 * setgid, setgroups, setuid, each checked and then verified with
 * getresuid/getresgid/getgroups and by a setuid(0) that must fail; if not
 * root, succeeds only when the process already is uid/gid. Then
 * PR_SET_NO_NEW_PRIVS, chdir(home or "/"), LANG and LC_ALL. uid 0, gid 0
 * and a supplementary gid 0 are refused (defence in depth: the
 * configuration refuses them first). On failure the process is in an
 * unknown state and must exit. */
int gw_privs_apply(const gw_privs_t *p, char *err, size_t errlen);

/* Shows title in `ps` (display-name=): sets the thread name (first 15
 * bytes, /proc/self/comm) and overwrites the contiguous argv strings, as
 * setproctitle() does, truncating the title to their total length.
 * argv[1] is set to NULL (the strings it pointed to are gone).
 * Returns 0, or -1 with errno set. */
int gw_privs_set_title(char **argv, int argc, const char *title);

#endif /* GW_PRIVS_H */
