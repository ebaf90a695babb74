/*
 * gw_pm.c -- daemon sockets and processes, supervised by the Apache parent.
 *
 * Runs only in the Apache parent. The model is mod_cgid's: fork in
 * post_config, apr_proc_other_child to learn of a death, umask(0077) +
 * explicit chmod + chown of the socket. Differences: the socket and its
 * secret persist across restarts (see gw_pm.h), a daemon that dies young is
 * respawned with exponential backoff (so a crash loop is not a fork storm),
 * and on restart the old generation is told to stop gracefully instead of
 * being killed mid-request.
 */
#include "gw_pm.h"
#include "gw_daemon.h"
#include "gw_keeper.h"
#include "gw_log.h"
#include "gw_config.h"

#include "unixd.h"
#include "apr_hash.h"
#include "apr_thread_proc.h"
#include "apr_portable.h"

#include <errno.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A daemon that dies within this long of starting counts as a failed
 * start; each one doubles the delay before the next start, up to 60 s. */
#define GW_YOUNG_DEATH apr_time_from_sec(10)
#define GW_BACKOFF_MIN apr_time_from_msec(250)
#define GW_BACKOFF_MAX apr_time_from_sec(60)

typedef struct {
    const char *path;
    int fd;
    unsigned char secret[GW_SECRET_LEN];
    gw_board_slot_t *board;  /* shared with the group's daemons */
    int generation;          /* last generation that claimed it */
} gw_sock_t;

typedef struct gw_gen gw_gen_t;

typedef struct {
    gw_gen_t *gen;
    gw_group_t *group;
    int slot;
    apr_proc_t proc;
    apr_time_t started;
    int fails;               /* consecutive young deaths */
    int alive;
} gw_slot_t;

struct gw_gen {
    apr_pool_t *pconf;
    server_rec *server;
    int stopping;            /* pconf is going away: no respawns */
    apr_array_header_t *slots; /* gw_slot_t * */
};

static pid_t parent_pid;
static uid_t children_uid = (uid_t)-1;

uid_t gw_pm_children_uid(void)
{
    if (children_uid == (uid_t)-1) {
        children_uid = geteuid() == 0 ? ap_unixd_config.user_id : geteuid();
    }
    return children_uid;
}

/* ---- sockets ------------------------------------------------------- */

static apr_hash_t *socket_registry(server_rec *s, int *generation)
{
    apr_pool_t *pp = s->process->pool;
    void *data = NULL;
    apr_hash_t *h;
    int *gen;

    apr_pool_userdata_get(&data, "gw_pm_sockets", pp);
    if (data) {
        h = data;
        apr_pool_userdata_get(&data, "gw_pm_generation", pp);
        gen = data;
    }
    else {
        h = apr_hash_make(pp);
        gen = apr_pcalloc(pp, sizeof(*gen));
        apr_pool_userdata_set(h, "gw_pm_sockets", apr_pool_cleanup_null, pp);
        apr_pool_userdata_set(gen, "gw_pm_generation", apr_pool_cleanup_null,
                              pp);
    }
    *generation = ++*gen;
    return h;
}

static void unlink_socket(gw_sock_t *sk)
{
    if (getpid() == parent_pid && sk->fd >= 0) {
        close(sk->fd);
        unlink(sk->path);
        sk->fd = -1;
    }
}

/* The socket directory must not be writable by others, or another user
 * could plant a symlink where bind() creates the socket. */
static const char *check_socket_dir(apr_pool_t *p, const char *path)
{
    char *dir = apr_pstrdup(p, path), *slash = strrchr(dir, '/');
    struct stat st;

    if (slash == NULL || slash == dir) {
        return NULL;
    }
    *slash = '\0';
    if (stat(dir, &st) != 0) {
        return apr_psprintf(p, "socket directory %s: %s", dir,
                            strerror(errno));
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        return apr_psprintf(p, "socket directory %s is writable by group "
                            "or others; set GatewaySocketPrefix to a "
                            "directory only root can write", dir);
    }
    return NULL;
}

static const char *socket_path(apr_pool_t *pp, server_rec *s, int serial)
{
    gw_server_conf_t *sc = gw_config_server(s);
    const char *prefix = sc->socket_prefix
        ? sc->socket_prefix : ap_runtime_dir_relative(pp, "gateway");

    return apr_psprintf(pp, "%s.%" APR_PID_T_FMT ".%d.sock", prefix,
                        getpid(), serial);
}

static const char *bind_socket(apr_pool_t *pp, gw_group_t *g, gw_sock_t *sk)
{
    struct sockaddr_un sa;
    mode_t old;
    int fd, rc;

    if (strlen(sk->path) >= sizeof(sa.sun_path)) {
        return apr_psprintf(pp, "socket path %s is longer than %d bytes; "
                            "use a shorter GatewaySocketPrefix", sk->path,
                            (int)sizeof(sa.sun_path) - 1);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sk->path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return apr_psprintf(pp, "socket(): %s", strerror(errno));
    }
    unlink(sk->path);
    old = umask(0077);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    /* Only Apache's children may connect: 0600, owned by their user. */
    if (rc != 0 || chmod(sk->path, 0600) != 0
        || (geteuid() == 0
            && chown(sk->path, gw_pm_children_uid(), -1) != 0)
        || listen(fd, g->listen_backlog) != 0) {
        const char *err = apr_psprintf(pp, "%s: %s", sk->path,
                                       strerror(errno));
        close(fd);
        unlink(sk->path);
        return err;
    }
    sk->fd = fd;
    return NULL;
}

/* The group's socket: the one from before a restart, or a new one. */
static const char *claim_socket(server_rec *s, apr_hash_t *reg,
                                gw_group_t *g, int generation)
{
    apr_pool_t *pp = s->process->pool;
    gw_sock_t *sk = apr_hash_get(reg, g->name, APR_HASH_KEY_STRING);
    const char *err;

    if (sk == NULL) {
        sk = apr_pcalloc(pp, sizeof(*sk));
        sk->path = socket_path(pp, s, (int)apr_hash_count(reg) + generation);
        if ((err = check_socket_dir(pp, sk->path)) != NULL
            || (err = bind_socket(pp, g, sk)) != NULL) {
            return err;
        }
        if (apr_generate_random_bytes(sk->secret, GW_SECRET_LEN)
            != APR_SUCCESS) {
            return "cannot read random bytes for the group secret";
        }
        /* Without it the daemons only lose the sibling check. */
        sk->board = mmap(NULL, sizeof(gw_board_slot_t) * GW_BOARD_SLOTS,
                         PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                         -1, 0);
        if (sk->board == MAP_FAILED) {
            sk->board = NULL;
        }
        apr_hash_set(reg, apr_pstrdup(pp, g->name), APR_HASH_KEY_STRING, sk);
    }
    else {
        listen(sk->fd, g->listen_backlog);
    }
    sk->generation = generation;
    g->socket_path = sk->path;
    g->listen_fd = sk->fd;
    memcpy(g->secret, sk->secret, GW_SECRET_LEN);
    g->board = sk->board;
    return NULL;
}

/* Sockets of groups gone from the configuration. */
static void release_unclaimed(server_rec *s, apr_hash_t *reg, int generation)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, reg); hi; hi = apr_hash_next(hi)) {
        const void *key;
        gw_sock_t *sk;

        apr_hash_this(hi, &key, NULL, (void **)&sk);
        if (sk->generation != generation) {
            unlink_socket(sk);
            if (sk->board) {
                munmap(sk->board, sizeof(gw_board_slot_t) * GW_BOARD_SLOTS);
            }
            apr_hash_set(reg, key, APR_HASH_KEY_STRING, NULL);
        }
    }
}

/* ---- processes ----------------------------------------------------- */

static void maintenance(int reason, void *data, int status);

static apr_status_t spawn(gw_slot_t *sl, apr_interval_time_t delay)
{
    gw_gen_t *gen = sl->gen;
    sigset_t stops, old;
    apr_status_t rv;

    /* A stop signal arriving between fork and the daemon's own handlers
     * would hit httpd's inherited ones and be lost: it stays pending
     * until the daemon has installed its handlers. */
    sigemptyset(&stops);
    gw_add_stop_signals(&stops);
    sigprocmask(SIG_BLOCK, &stops, &old);
    rv = apr_proc_fork(&sl->proc, gen->pconf);
    if (rv == APR_INCHILD) {
        gw_keeper_main(sl->group, sl->slot, gen->pconf, gen->server, delay,
                       parent_pid);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (rv != APR_INPARENT) {
        GW_LOG_S(APLOG_ERR, rv, gen->server, "GW0403", "cannot fork a "
                 "process for daemon group '%s'", sl->group->name);
        return rv;
    }
    sl->started = apr_time_now() + delay;
    sl->alive = 1;
    /* Registered in pconf: httpd unloads this module when pconf goes (at
     * every restart), so nothing may point into it from a longer-lived
     * pool. An old generation's process that ends after a graceful restart
     * is then an unknown child to the MPM, which only reaps it. */
    apr_proc_other_child_register(&sl->proc, maintenance, sl, NULL,
                                  gen->pconf);
    return APR_SUCCESS;
}

/* status is the keeper's exit code (gw_keeper.c), which says how its
 * daemon ended without the ambiguity of the MPM's number. */
static const char *describe_exit(apr_pool_t *p, int status)
{
    switch (status) {
        case GW_DAEMON_EXIT_RECYCLE:
            return "recycled";
        case GW_DAEMON_EXIT_FATAL:
            return "could not start";
        case GW_DAEMON_EXIT_ABORT:
            return "ended by its watchdog";
        case GW_KEEPER_EXIT_CODE:
            return "was ended by the application (unexpected exit code, "
                   "GW0404)";
        default:
            if (status > GW_KEEPER_EXIT_SIGNAL
                && status <= GW_KEEPER_EXIT_SIGNAL + 64) {
                return apr_psprintf(p, "died: killed by signal %d",
                                    status - GW_KEEPER_EXIT_SIGNAL);
            }
            return apr_psprintf(p, "died: its keeper ended with signal or "
                                "code %d", status);
    }
}

/* Restart delay: none after a recycle; otherwise doubling from 250 ms to
 * 60 s while the process keeps dying young (a crash loop), so it costs a
 * fork every so often, not a fork storm. */
static apr_interval_time_t backoff(gw_slot_t *sl, int status)
{
    apr_time_t lived = apr_time_now() - sl->started;
    apr_interval_time_t delay = GW_BACKOFF_MIN;
    int i;

    if (status == GW_DAEMON_EXIT_RECYCLE || status == GW_DAEMON_EXIT_ABORT
        || (lived > GW_YOUNG_DEATH && status != GW_DAEMON_EXIT_FATAL)) {
        sl->fails = 0;
        return 0;
    }
    sl->fails++;
    for (i = 1; i < sl->fails && delay < GW_BACKOFF_MAX; i++) {
        delay *= 2;
    }
    return delay < GW_BACKOFF_MAX ? delay : GW_BACKOFF_MAX;
}

static void maintenance(int reason, void *data, int status)
{
    gw_slot_t *sl = data;
    gw_gen_t *gen = sl->gen;
    apr_interval_time_t delay;
    const char *how;

    if (reason != APR_OC_REASON_DEATH && reason != APR_OC_REASON_LOST) {
        return;
    }
    apr_proc_other_child_unregister(sl);
    sl->alive = 0;
    if (gen->stopping) {
        return;
    }
    how = describe_exit(gen->pconf, status);
    delay = backoff(sl, status);
    if (status != GW_DAEMON_EXIT_RECYCLE) {
        GW_LOG_S(APLOG_ERR, 0, gen->server, "GW0401", "daemon group '%s' "
                 "process %" APR_PID_T_FMT " %s; restarting it%s",
                 sl->group->name, sl->proc.pid, how, delay ? apr_psprintf(
                 gen->pconf, " in %" APR_TIME_T_FMT " ms (failures in a "
                 "row: %d)", delay / 1000, sl->fails) : "");
    }
    else {
        GW_LOG_S(APLOG_INFO, 0, gen->server, "GW0402", "daemon group '%s' "
                 "process %" APR_PID_T_FMT " %s; starting a new one",
                 sl->group->name, sl->proc.pid, how);
    }
    spawn(sl, delay);
}

/* The final exit: the sockets go with the server. (A process-pool
 * cleanup cannot do it: that pool is destroyed after this module is
 * unloaded.) */
static void unlink_all(server_rec *s)
{
    int generation;
    apr_hash_t *reg = socket_registry(s, &generation);
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, reg); hi; hi = apr_hash_next(hi)) {
        unlink_socket(apr_hash_this_val(hi));
    }
}

/* pconf cleanup: this generation ends. Its daemons are asked to stop
 * gracefully (SIGTERM): they stop accepting, answer CLOSE on idle
 * connections, finish what runs within graceful-timeout, and exit. */
static apr_status_t stop_generation(void *data)
{
    gw_gen_t *gen = data;
    int i;

    if (getpid() != parent_pid) {
        return APR_SUCCESS;
    }
    gen->stopping = 1;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING) {
        unlink_all(gen->server);
    }
    for (i = 0; i < gen->slots->nelts; i++) {
        gw_slot_t *sl = APR_ARRAY_IDX(gen->slots, i, gw_slot_t *);

        if (sl->alive) {
            kill(sl->proc.pid, SIGTERM);
        }
    }
    return APR_SUCCESS;
}

static int start_group(gw_gen_t *gen, gw_group_t *g)
{
    int i;

    for (i = 0; i < g->processes; i++) {
        gw_slot_t *sl = apr_pcalloc(gen->pconf, sizeof(*sl));

        sl->gen = gen;
        sl->group = g;
        sl->slot = i;
        APR_ARRAY_PUSH(gen->slots, gw_slot_t *) = sl;
        if (spawn(sl, 0) != APR_SUCCESS) {
            return -1;
        }
    }
    return 0;
}

int gw_pm_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *groups = gw_group_list();
    apr_hash_t *reg;
    gw_gen_t *gen;
    int generation, i;

    if (groups->nelts == 0
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL) {
        return OK;
    }
    parent_pid = getpid();
    children_uid = (uid_t)-1;
    gw_pm_children_uid();
    reg = socket_registry(s, &generation);
    for (i = 0; i < groups->nelts; i++) {
        gw_group_t *g = APR_ARRAY_IDX(groups, i, gw_group_t *);
        const char *err = claim_socket(s, reg, g, generation);

        if (err) {
            GW_LOG_S(APLOG_CRIT, 0, s, "GW0400", "daemon group '%s' (%s): %s",
                     g->name, g->defined_at, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    release_unclaimed(s, reg, generation);
    gen = apr_pcalloc(pconf, sizeof(*gen));
    gen->pconf = pconf;
    gen->server = s;
    gen->slots = apr_array_make(pconf, 8, sizeof(gw_slot_t *));
    apr_pool_cleanup_register(pconf, gen, stop_generation,
                              apr_pool_cleanup_null);
    for (i = 0; i < groups->nelts; i++) {
        if (start_group(gen, APR_ARRAY_IDX(groups, i, gw_group_t *)) < 0) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

void gw_pm_child_init(void)
{
    apr_array_header_t *groups = gw_group_list();
    int i;

    for (i = 0; i < groups->nelts; i++) {
        gw_group_t *g = APR_ARRAY_IDX(groups, i, gw_group_t *);

        if (g->listen_fd >= 0) {
            close(g->listen_fd);
            g->listen_fd = -1;
        }
    }
}
