/*
 * gw_privs.c -- L0: dropping root in a daemon process before Python runs.
 *
 * Pure C (libc and Linux system calls): no APR, no httpd, no Python, no
 * logging. Runs in a daemon process right after fork(), single-threaded.
 * Every call is checked and the result verified afterwards, because an
 * unchecked setuid() left mod_wsgi daemons running as root when the call
 * failed (CVE-2014-0240 with RLIMIT_NPROC, CVE-2014-8583 for supplementary
 * groups). Any -1 from here means "exit now, do not start Python".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gw_privs.h"

/* Formats "step: detail[: strerror(errnum)]" into err; returns -1. */
static int fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL || errlen == 0) {
        return -1;
    }
    va_start(ap, fmt);
    n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (errnum != 0 && n >= 0 && (size_t)n < errlen) {
        snprintf(err + n, errlen - (size_t)n, ": %s", strerror(errnum));
    }
    return -1;
}

/* ---- what may be asked for ------------------------------------------ */

static int check_request(const gw_privs_t *p, char *err, size_t errlen)
{
    long max_groups = sysconf(_SC_NGROUPS_MAX);
    size_t i;

    if (p->uid == 0 || p->uid == (uid_t)-1) {
        return fail(err, errlen, 0, "refusing to run as uid %ld: Python "
                    "application code must never run as root",
                    (long)(int)p->uid);
    }
    if (p->gid == 0 || p->gid == (gid_t)-1) {
        return fail(err, errlen, 0, "refusing to run as gid %ld: the root "
                    "group is never allowed", (long)(int)p->gid);
    }
    if (p->ngroups > 0 && p->groups == NULL) {
        return fail(err, errlen, 0, "supplementary groups: %zu given "
                    "without a list", p->ngroups);
    }
    if (max_groups > 0 && p->ngroups > (size_t)max_groups) {
        return fail(err, errlen, 0, "supplementary groups: %zu given, the "
                    "system allows %ld", p->ngroups, max_groups);
    }
    for (i = 0; i < p->ngroups; i++) {
        if (p->groups[i] == 0 || p->groups[i] == (gid_t)-1) {
            return fail(err, errlen, 0, "refusing supplementary gid %ld: "
                        "the root group is never allowed",
                        (long)(int)p->groups[i]);
        }
    }
    if (p->umask > 0777) {
        return fail(err, errlen, 0, "umask %o is out of range", p->umask);
    }
    if (p->cpu_priority < -20 || p->cpu_priority > 19) {
        return fail(err, errlen, 0, "cpu priority %d is not in -20..19",
                    p->cpu_priority);
    }
    return 0;
}

/* ---- limits, while still privileged --------------------------------- */

static int set_limit(int resource, const char *name, long long soft,
                     long long hard, char *err, size_t errlen)
{
    struct rlimit rl;

    if (soft < 0 || hard < soft) {
        return fail(err, errlen, 0, "setrlimit(%s): bad limit %lld", name,
                    soft);
    }
    rl.rlim_cur = (rlim_t)soft;
    rl.rlim_max = (rlim_t)hard;
    if (setrlimit(resource, &rl) != 0) {
        return fail(err, errlen, errno, "setrlimit(%s, %lld)", name, soft);
    }
    return 0;
}

static int apply_limits(const gw_privs_t *p, char *err, size_t errlen)
{
    if (p->memory_limit != 0
        && set_limit(RLIMIT_DATA, "RLIMIT_DATA", p->memory_limit,
                     p->memory_limit, err, errlen) != 0) {
        return -1;
    }
    if (p->virtual_memory_limit != 0
        && set_limit(RLIMIT_AS, "RLIMIT_AS", p->virtual_memory_limit,
                     p->virtual_memory_limit, err, errlen) != 0) {
        return -1;
    }
    /* The hard limit one second above the soft one: SIGXCPU at the soft
     * limit lets the daemon shut down cleanly before SIGKILL (as mod_wsgi
     * does). */
    if (p->cpu_time_limit != 0
        && set_limit(RLIMIT_CPU, "RLIMIT_CPU", p->cpu_time_limit,
                     p->cpu_time_limit < LLONG_MAX ? p->cpu_time_limit + 1
                                                   : LLONG_MAX,
                     err, errlen) != 0) {
        return -1;
    }
    if (p->cpu_priority != 0
        && setpriority(PRIO_PROCESS, 0, p->cpu_priority) != 0) {
        return fail(err, errlen, errno, "setpriority(%d)", p->cpu_priority);
    }
    return 0;
}

/* ---- the switch and its verification -------------------------------- */

static int switch_ids(const gw_privs_t *p, char *err, size_t errlen)
{
    if (setgid(p->gid) != 0) {
        return fail(err, errlen, errno, "setgid(%ld)", (long)p->gid);
    }
    /* Zero groups is an explicit empty set: it drops everything root had,
     * including gid 0. */
    if (setgroups(p->ngroups, p->ngroups ? p->groups : NULL) != 0) {
        return fail(err, errlen, errno, "setgroups(%zu groups)",
                    p->ngroups);
    }
    if (setuid(p->uid) != 0) {
        return fail(err, errlen, errno, "setuid(%ld)", (long)p->uid);
    }
    return 0;
}

static int has_gid(const gid_t *set, size_t n, gid_t g)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (set[i] == g) {
            return 1;
        }
    }
    return 0;
}

/* The kernel's supplementary list must be exactly the configured one. */
static int verify_groups(const gw_privs_t *p, char *err, size_t errlen)
{
    gid_t *have = NULL;
    int n = getgroups(0, NULL), rc = -1;
    size_t i;

    if (n < 0) {
        return fail(err, errlen, errno, "verify: getgroups");
    }
    if ((size_t)n != p->ngroups) {
        return fail(err, errlen, 0, "verify: %d supplementary groups after "
                    "setgroups, expected %zu", n, p->ngroups);
    }
    if (n == 0) {
        return 0;
    }
    if ((have = malloc((size_t)n * sizeof(*have))) == NULL) {
        return fail(err, errlen, ENOMEM, "verify: getgroups");
    }
    if (getgroups(n, have) != n) {
        fail(err, errlen, errno, "verify: getgroups");
        goto done;
    }
    for (i = 0; i < (size_t)n; i++) {
        if (have[i] == 0 || !has_gid(p->groups, p->ngroups, have[i])) {
            fail(err, errlen, 0, "verify: unexpected supplementary group "
                 "%ld", (long)have[i]);
            goto done;
        }
        if (!has_gid(have, (size_t)n, p->groups[i])) {
            fail(err, errlen, 0, "verify: supplementary group %ld missing",
                 (long)p->groups[i]);
            goto done;
        }
    }
    rc = 0;
done:
    free(have);
    return rc;
}

/* After a real switch no capability may remain: a setuid() from root
 * clears them unless securebits said otherwise. */
static int verify_no_caps(char *err, size_t errlen)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) != 0) {
        return fail(err, errlen, errno, "verify: capget");
    }
    if (data[0].effective || data[1].effective || data[0].permitted
        || data[1].permitted) {
        return fail(err, errlen, 0, "verify: capabilities remain after "
                    "setuid (effective %08x%08x)", data[1].effective,
                    data[0].effective);
    }
    return 0;
}

static int verify_ids(const gw_privs_t *p, char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) != 0) {
        return fail(err, errlen, errno, "verify: getresuid");
    }
    if (ru != p->uid || eu != p->uid || su != p->uid) {
        return fail(err, errlen, 0, "verify: uids are %ld/%ld/%ld after "
                    "setuid(%ld)", (long)ru, (long)eu, (long)su,
                    (long)p->uid);
    }
    if (getresgid(&rg, &eg, &sg) != 0) {
        return fail(err, errlen, errno, "verify: getresgid");
    }
    if (rg != p->gid || eg != p->gid || sg != p->gid) {
        return fail(err, errlen, 0, "verify: gids are %ld/%ld/%ld after "
                    "setgid(%ld)", (long)rg, (long)eg, (long)sg,
                    (long)p->gid);
    }
    /* Root must be out of reach now, not merely not current. */
    if (setuid(0) == 0 || setgid(0) == 0) {
        return fail(err, errlen, 0, "verify: root privileges could be "
                    "regained after the switch");
    }
    return 0;
}

/* Not root: nothing can be switched, so the process must already be the
 * requested identity (a non-root Apache runs its daemons as itself). */
static int check_current_ids(const gw_privs_t *p, char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
        return fail(err, errlen, errno, "getresuid/getresgid");
    }
    if (ru != p->uid || eu != p->uid || su != p->uid) {
        return fail(err, errlen, 0, "cannot switch to uid %ld: Apache is "
                    "not running as root (running as uid %ld)",
                    (long)p->uid, (long)eu);
    }
    if (rg != p->gid || eg != p->gid || sg != p->gid) {
        return fail(err, errlen, 0, "cannot switch to gid %ld: Apache is "
                    "not running as root (running as gid %ld)",
                    (long)p->gid, (long)eg);
    }
    /* Supplementary groups cannot be dropped either; when some were asked
     * for, they must already be exactly those. */
    if (p->ngroups > 0 && verify_groups(p, err, errlen) != 0) {
        return -1;
    }
    if (setuid(0) == 0) {
        return fail(err, errlen, 0, "verify: setuid(0) succeeded although "
                    "the process is not root");
    }
    return 0;
}

/* ---- after the switch ----------------------------------------------- */

static int apply_environment(const gw_privs_t *p, char *err, size_t errlen)
{
    const char *home = p->home ? p->home : "/";

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return fail(err, errlen, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    }
    /* After setuid, so the target user's permissions decide. */
    if (chdir(home) != 0) {
        return fail(err, errlen, errno, "chdir(%s)", home);
    }
    if (p->lang && setenv("LANG", p->lang, 1) != 0) {
        return fail(err, errlen, errno, "setenv(LANG=%s)", p->lang);
    }
    if (p->locale) {
        if (setenv("LC_ALL", p->locale, 1) != 0) {
            return fail(err, errlen, errno, "setenv(LC_ALL=%s)", p->locale);
        }
        if (setlocale(LC_ALL, p->locale) == NULL) {
            return fail(err, errlen, 0, "setlocale(LC_ALL, %s): locale not "
                        "available", p->locale);
        }
    }
    return 0;
}

int gw_privs_apply(const gw_privs_t *p, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (p == NULL) {
        return fail(err, errlen, 0, "no privileges given");
    }
    if (check_request(p, err, errlen) != 0
        || apply_limits(p, err, errlen) != 0) {
        return -1;
    }
    if (p->umask >= 0) {
        umask((mode_t)p->umask);
    }
    if (geteuid() == 0) {
        if (switch_ids(p, err, errlen) != 0
            || verify_ids(p, err, errlen) != 0
            || verify_groups(p, err, errlen) != 0
            || verify_no_caps(err, errlen) != 0) {
            return -1;
        }
    }
    else if (check_current_ids(p, err, errlen) != 0) {
        return -1;
    }
    return apply_environment(p, err, errlen);
}

/* ---- display-name ---------------------------------------------------- */

/* The argument area as the kernel recorded it (fields 48 and 49 of
 * /proc/self/stat, Linux >= 3.5): the strings `ps` shows, wherever the
 * program's own argv array points now. */
static int arg_area(char **start, char **end)
{
    char buf[2048], *p;
    unsigned long a = 0, b = 0;
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), field;
    ssize_t n;

    if (fd < 0) {
        return -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || (p = strrchr((buf[n] = '\0', buf), ')')) == NULL) {
        return -1;
    }
    /* Step to the space before arg_start (the 47th field, counting the
     * command name as one). */
    for (field = 2; field < 48 && (p = strchr(p + 1, ' ')) != NULL;
         field++) {
    }
    if (p == NULL || sscanf(p + 1, "%lu %lu", &a, &b) != 2 || b <= a) {
        return -1;
    }
    *start = (char *)a;
    *end = (char *)b;
    return 0;
}

int gw_privs_set_title(char **argv, int argc, const char *title)
{
    char name[16];
    char *start, *end;
    size_t area, n;
    int i;

    if (title == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* The kernel keeps 15 bytes and a NUL. */
    snprintf(name, sizeof(name), "%s", title);
    if (prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0) != 0) {
        return -1;
    }
    if (arg_area(&start, &end) != 0) {
        if (argv == NULL || argc < 1 || argv[0] == NULL) {
            return 0;
        }
        /* No /proc: the strings laid out back to back from argv[0]. */
        start = argv[0];
        end = start + strlen(start) + 1;
        for (i = 1; i < argc && argv[i] == end; i++) {
            end += strlen(argv[i]) + 1;
        }
    }
    area = (size_t)(end - start);
    n = strlen(title);
    if (n > area - 1) {
        n = area - 1;
    }
    memcpy(start, title, n);
    memset(start + n, 0, area - n);
    if (argv && argc > 1) {
        argv[1] = NULL;
    }
    return 0;
}
