/*
 * test_privs.c -- CUnit suite for mod_gateway/gw_privs.c (L0, no stubs).
 *
 * A privilege drop cannot be undone, so every case that changes the
 * process runs in a forked child, which checks the result itself and
 * reports through a pipe (a message) and its exit status. Cases that need
 * root pass with a printed note when the suite is not run as root; CI runs
 * it as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CUnit/CUnit.h>

#include "../../mod_gateway/gw_privs.h"

/* An assertion whose failure message carries the child's report. */
#define CHECKF(cond, ...)                                                      \
    do {                                                                       \
        int ok_ = !!(cond);                                                    \
        char m_[600] = #cond;                                                  \
        if (!ok_) {                                                            \
            snprintf(m_, sizeof(m_), __VA_ARGS__);                             \
        }                                                                      \
        CU_assertImplementation(ok_, __LINE__, m_, __FILE__, "", CU_FALSE);    \
    } while (0)

#define GIB (1024LL * 1024 * 1024)

/* ---- running a case in a child -------------------------------------- */

/* A child case: returns 0, or -1 after writing why into msg. */
typedef int (*child_fn)(const void *arg, char *msg, size_t len);

static int child_fail(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int child_fail(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Runs fn(arg) in a child; 0 if it returned 0, else -1 with its message
 * (or how it died) in msg. */
static int in_child(child_fn fn, const void *arg, char *msg, size_t len)
{
    int fds[2], status;
    ssize_t n;
    size_t got = 0;
    pid_t pid;

    msg[0] = '\0';
    if (pipe(fds) != 0) {
        snprintf(msg, len, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    if ((pid = fork()) < 0) {
        snprintf(msg, len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        char buf[512] = "";
        int rc;

        close(fds[0]);
        rc = fn(arg, buf, sizeof(buf));
        if (rc != 0 && write(fds[1], buf, strlen(buf)) < 0) {
            _exit(3);
        }
        _exit(rc == 0 ? 0 : 1);
    }
    close(fds[1]);
    while (got + 1 < len
           && (n = read(fds[0], msg + got, len - 1 - got)) > 0) {
        got += (size_t)n;
    }
    msg[got] = '\0';
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid) {
        snprintf(msg, len, "waitpid: %s", strerror(errno));
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (got == 0) {
        snprintf(msg, len, "child %s %d", WIFSIGNALED(status) ? "killed by "
                 "signal" : "exited with", WIFSIGNALED(status)
                 ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    return -1;
}

#define RUN_IN_CHILD(fn, arg)                                                  \
    do {                                                                       \
        char msg_[520];                                                        \
        int rc_ = in_child(fn, arg, msg_, sizeof(msg_));                       \
        CHECKF(rc_ == 0, "%s: %.512s", #fn, msg_);                             \
    } while (0)

static int is_root(const char *what)
{
    if (geteuid() != 0) {
        printf("\n    note: %s needs root; passing without running it ",
               what);
        return 0;
    }
    return 1;
}

/* nobody and its primary group: the identity the root cases drop to. */
static void nobody_privs(gw_privs_t *p)
{
    struct passwd *pw = getpwnam("nobody");

    memset(p, 0, sizeof(*p));
    p->umask = -1;
    CU_ASSERT_FATAL(pw != NULL);
    CU_ASSERT_FATAL(pw->pw_uid != 0 && pw->pw_gid != 0);
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
}

/* The identity a case drops to: nobody as root, else the current ids
 * (a non-root process may only "switch" to itself). */
static void target_privs(gw_privs_t *p)
{
    if (geteuid() == 0) {
        nobody_privs(p);
        return;
    }
    memset(p, 0, sizeof(*p));
    p->umask = -1;
    p->uid = getuid();
    p->gid = getgid();
}

/* ---- checks the children run ----------------------------------------- */

static int check_ids(const gw_privs_t *p, char *msg, size_t len)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
        return child_fail(msg, len, "getresuid: %s", strerror(errno));
    }
    if (ru != p->uid || eu != p->uid || su != p->uid) {
        return child_fail(msg, len, "uids %d/%d/%d, want %d", (int)ru,
                          (int)eu, (int)su, (int)p->uid);
    }
    if (rg != p->gid || eg != p->gid || sg != p->gid) {
        return child_fail(msg, len, "gids %d/%d/%d, want %d", (int)rg,
                          (int)eg, (int)sg, (int)p->gid);
    }
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
        return child_fail(msg, len, "root could be regained");
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
        return child_fail(msg, len, "PR_GET_NO_NEW_PRIVS is not 1");
    }
    return 0;
}

/* getgroups() must be exactly p's set (order free). */
static int check_groups(const gw_privs_t *p, char *msg, size_t len)
{
    gid_t have[64];
    int n = getgroups(64, have), i;
    size_t j;

    if (n < 0) {
        return child_fail(msg, len, "getgroups: %s", strerror(errno));
    }
    if ((size_t)n != p->ngroups) {
        return child_fail(msg, len, "%d supplementary groups, want %zu", n,
                          p->ngroups);
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < p->ngroups && p->groups[j] != have[i]; j++) {
        }
        if (j == p->ngroups || have[i] == 0) {
            return child_fail(msg, len, "unexpected group %d", (int)have[i]);
        }
    }
    return 0;
}

/* CapEff and CapPrm in /proc/self/status must be all zero. */
static int check_no_caps(char *msg, size_t len)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    int seen = 0;

    if (f == NULL) {
        return child_fail(msg, len, "/proc/self/status: %s", strerror(errno));
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "CapEff:", 7) == 0
            || strncmp(line, "CapPrm:", 7) == 0) {
            seen++;
            if (strtoull(line + 7, NULL, 16) != 0) {
                fclose(f);
                return child_fail(msg, len, "capabilities left: %s", line);
            }
        }
    }
    fclose(f);
    return seen == 2 ? 0 : child_fail(msg, len, "no Cap lines in status");
}

static int check_cwd(const char *want, char *msg, size_t len)
{
    char cwd[PATH_MAX];

    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        return child_fail(msg, len, "getcwd: %s", strerror(errno));
    }
    if (strcmp(cwd, want) != 0) {
        return child_fail(msg, len, "cwd is %s, want %s", cwd, want);
    }
    return 0;
}

/* Applies p and runs the identity checks. */
static int child_drop(const void *arg, char *msg, size_t len)
{
    static const gid_t root_groups[] = {0, 4, 27};
    const gw_privs_t *p = arg;
    char err[256];

    /* Start from what root usually holds, so a missing setgroups() shows. */
    if (setgroups(3, root_groups) != 0) {
        return child_fail(msg, len, "setgroups: %s", strerror(errno));
    }
    if (gw_privs_apply(p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "gw_privs_apply: %s", err);
    }
    if (check_ids(p, msg, len) != 0 || check_groups(p, msg, len) != 0
        || check_no_caps(msg, len) != 0
        || check_cwd(p->home ? p->home : "/", msg, len) != 0) {
        return -1;
    }
    return 0;
}

/* ---- refusals (nothing is changed before them: no fork) ------------- */

static void expect_refused(const gw_privs_t *p, const char *word)
{
    char err[256] = "";

    CHECKF(gw_privs_apply(p, err, sizeof(err)) == -1, "accepted (%s)", word);
    CHECKF(strstr(err, word) != NULL, "error '%s' lacks '%s'", err, word);
}

static void test_refuse_root_ids(void)
{
    static const gid_t with_root[] = {100, 0};
    gw_privs_t p;
    char err[64];

    nobody_privs(&p);
    p.uid = 0;
    expect_refused(&p, "root");
    nobody_privs(&p);
    p.gid = 0;
    expect_refused(&p, "root group");
    nobody_privs(&p);
    p.uid = (uid_t)-1;
    expect_refused(&p, "uid -1");
    nobody_privs(&p);
    p.gid = (gid_t)-1;
    expect_refused(&p, "gid -1");
    nobody_privs(&p);
    p.groups = with_root;
    p.ngroups = 2;
    expect_refused(&p, "supplementary gid 0");
    nobody_privs(&p);
    p.ngroups = 1;
    expect_refused(&p, "without a list");
    CU_ASSERT_EQUAL(gw_privs_apply(NULL, err, sizeof(err)), -1);
}

static void test_refuse_bad_values(void)
{
    gw_privs_t p;

    nobody_privs(&p);
    p.cpu_priority = -21;
    expect_refused(&p, "priority");
    nobody_privs(&p);
    p.cpu_priority = 20;
    expect_refused(&p, "priority");
    nobody_privs(&p);
    p.umask = 01000;
    expect_refused(&p, "umask");
}

/* ---- the switch itself (root) --------------------------------------- */

static void test_drop_to_nobody(void)
{
    gw_privs_t p;

    if (!is_root("dropping to nobody")) {
        return;
    }
    nobody_privs(&p);
    RUN_IN_CHILD(child_drop, &p);
}

static void test_drop_with_supplementary_groups(void)
{
    static const gid_t groups[] = {100, 4242, 65533};
    gw_privs_t p;

    if (!is_root("supplementary groups")) {
        return;
    }
    nobody_privs(&p);
    p.groups = groups;
    p.ngroups = 3;
    RUN_IN_CHILD(child_drop, &p);
}

static void test_drop_with_home(void)
{
    gw_privs_t p;

    if (!is_root("home=")) {
        return;
    }
    nobody_privs(&p);
    p.home = "/tmp";
    RUN_IN_CHILD(child_drop, &p);
}

/* The chdir happens as the target user: a home it cannot enter fails. */
static int child_home_denied(const void *arg, char *msg, size_t len)
{
    gw_privs_t p;
    char err[256];

    nobody_privs(&p);
    p.home = arg;
    if (gw_privs_apply(&p, err, sizeof(err)) == 0) {
        return child_fail(msg, len, "chdir into a 0700 root dir succeeded");
    }
    if (strstr(err, "chdir") == NULL || strstr(err, "denied") == NULL) {
        return child_fail(msg, len, "error lacks chdir/denied: %s", err);
    }
    return 0;
}

static void test_home_denied(void)
{
    char dir[] = "/tmp/gw-privs-XXXXXX", sub[64];

    if (!is_root("home= denied")) {
        return;
    }
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(sub, sizeof(sub), "%s/home", dir);
    CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
    CU_ASSERT_FATAL(chmod(dir, 0700) == 0);
    RUN_IN_CHILD(child_home_denied, sub);
    rmdir(sub);
    rmdir(dir);
}

/* ---- limits, priority, umask, locale -------------------------------- */

static int child_limits(const void *arg, char *msg, size_t len)
{
    gw_privs_t p;
    struct rlimit rl;
    char err[256];

    (void)arg;
    target_privs(&p);
    p.memory_limit = 1 * GIB;
    p.virtual_memory_limit = 4 * GIB;
    p.cpu_time_limit = 100;
    p.cpu_priority = 5;
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "gw_privs_apply: %s", err);
    }
    if (getrlimit(RLIMIT_DATA, &rl) != 0 || rl.rlim_cur != (rlim_t)GIB
        || rl.rlim_max != (rlim_t)GIB) {
        return child_fail(msg, len, "RLIMIT_DATA not 1 GiB");
    }
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur != (rlim_t)(4 * GIB)
        || rl.rlim_max != (rlim_t)(4 * GIB)) {
        return child_fail(msg, len, "RLIMIT_AS not 4 GiB");
    }
    if (getrlimit(RLIMIT_CPU, &rl) != 0 || rl.rlim_cur != 100
        || rl.rlim_max != 101) {
        return child_fail(msg, len, "RLIMIT_CPU not 100/101");
    }
    errno = 0;
    if (getpriority(PRIO_PROCESS, 0) != 5 || errno != 0) {
        return child_fail(msg, len, "priority not 5");
    }
    return 0;
}

static void test_limits(void)
{
    RUN_IN_CHILD(child_limits, NULL);
}

static int child_umask(const void *arg, char *msg, size_t len)
{
    gw_privs_t p;
    char err[256];
    mode_t got;

    (void)arg;
    target_privs(&p);
    p.umask = 027;
    umask(0);
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "gw_privs_apply: %s", err);
    }
    got = umask(0);
    return got == 027 ? 0 : child_fail(msg, len, "umask %o", (unsigned)got);
}

static void test_umask(void)
{
    RUN_IN_CHILD(child_umask, NULL);
}

static int child_locale(const void *arg, char *msg, size_t len)
{
    gw_privs_t p;
    char err[256];
    const char *v;

    (void)arg;
    target_privs(&p);
    p.lang = "C.UTF-8";
    p.locale = "C.UTF-8";
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "gw_privs_apply: %s", err);
    }
    if ((v = getenv("LANG")) == NULL || strcmp(v, "C.UTF-8") != 0
        || (v = getenv("LC_ALL")) == NULL || strcmp(v, "C.UTF-8") != 0) {
        return child_fail(msg, len, "LANG/LC_ALL not set");
    }
    target_privs(&p);
    p.locale = "xx_YY.no-such-charset";
    if (gw_privs_apply(&p, err, sizeof(err)) == 0
        || strstr(err, "setlocale") == NULL) {
        return child_fail(msg, len, "a missing locale was accepted (%s)",
                          err);
    }
    return 0;
}

static void test_locale(void)
{
    RUN_IN_CHILD(child_locale, NULL);
}

/* ---- not root ------------------------------------------------------- */

static int child_not_root(const void *arg, char *msg, size_t len)
{
    gw_privs_t p;
    char err[256];

    (void)arg;
    /* As root, become nobody first; otherwise already not root. */
    target_privs(&p);
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "first drop: %s", err);
    }
    /* Asking for what the process already is succeeds. */
    if (gw_privs_apply(&p, err, sizeof(err)) != 0) {
        return child_fail(msg, len, "same ids refused: %s", err);
    }
    p.uid = p.uid == 12345 ? 12346 : 12345;
    if (gw_privs_apply(&p, err, sizeof(err)) == 0) {
        return child_fail(msg, len, "switched uid without root");
    }
    if (strstr(err, "cannot switch to uid") == NULL
        || strstr(err, "not running as root") == NULL) {
        return child_fail(msg, len, "error lacks root: %s", err);
    }
    target_privs(&p);
    p.uid = getuid();
    p.gid = getgid() == 12345 ? 12346 : 12345;
    if (gw_privs_apply(&p, err, sizeof(err)) == 0
        || strstr(err, "cannot switch to gid") == NULL) {
        return child_fail(msg, len, "gid switch without root: %s", err);
    }
    return 0;
}

static void test_not_root(void)
{
    if (geteuid() != 0 && (getuid() == 0 || getgid() == 0)) {
        printf("\n    note: uid or gid 0 without euid 0; skipped ");
        return;
    }
    RUN_IN_CHILD(child_not_root, NULL);
}

/* ---- display-name --------------------------------------------------- */

/* The process's own argument area, as `ps` reads it. */
static size_t read_cmdline(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/self/cmdline", "r");
    size_t n;

    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int child_title(const void *arg, char *msg, size_t len)
{
    const char *title = arg;
    char before[4096], after[4096], comm[32] = "", want[4096];
    char *argv[2] = {NULL, NULL}, dummy[] = "x";
    size_t area = read_cmdline(before, sizeof(before)), n, i;
    FILE *f;

    argv[0] = dummy;
    if (area == 0) {
        return child_fail(msg, len, "/proc/self/cmdline unreadable");
    }
    if (gw_privs_set_title(argv, 1, title) != 0) {
        return child_fail(msg, len, "set_title: %s", strerror(errno));
    }
    if ((f = fopen("/proc/self/comm", "r")) == NULL
        || fgets(comm, sizeof(comm), f) == NULL) {
        return child_fail(msg, len, "/proc/self/comm unreadable");
    }
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    if (strncmp(comm, title, 15) != 0) {
        return child_fail(msg, len, "comm is '%s'", comm);
    }
    /* ps shows the title, cut to the original argument area, and nothing
     * of the old arguments. */
    snprintf(want, area, "%s", title);
    n = read_cmdline(after, sizeof(after));
    if (n == 0 || strncmp(after, want, strlen(want)) != 0) {
        return child_fail(msg, len, "cmdline is '%.*s', want '%s'", (int)n,
                          after, want);
    }
    for (i = strlen(want); i < n; i++) {
        if (after[i] != '\0') {
            return child_fail(msg, len, "old arguments left at byte %zu", i);
        }
    }
    return 0;
}

static void test_set_title(void)
{
    static const char *const titles[] = {
        "(gateway:site)",
        "(gateway:a-rather-long-group-name) with words that may be longer "
        "than the whole original argument area of this test program",
        "",
    };
    size_t i;

    for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        RUN_IN_CHILD(child_title, titles[i]);
    }
    CU_ASSERT_EQUAL(gw_privs_set_title(NULL, 0, NULL), -1);
}

static CU_TestInfo tests[] = {
    {"refuse uid 0, gid 0, supplementary 0", test_refuse_root_ids},
    {"refuse bad priority and umask", test_refuse_bad_values},
    {"drop to nobody: ids, groups, caps, no_new_privs, cwd",
     test_drop_to_nobody},
    {"supplementary groups are exactly the given set",
     test_drop_with_supplementary_groups},
    {"home is the cwd", test_drop_with_home},
    {"home the user cannot enter fails", test_home_denied},
    {"rlimits and priority", test_limits},
    {"umask", test_umask},
    {"LANG, LC_ALL, missing locale", test_locale},
    {"not root: only the current ids", test_not_root},
    {"set_title: comm and argv area", test_set_title},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "privs"
#include "unit.h"
