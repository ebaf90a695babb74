/*
 * gw_group.h -- daemon process groups: the record of one
 * GatewayDaemonProcess, and the process-wide list of them.
 *
 * L1. Filled while the configuration is read (Apache parent), completed in
 * post_config (socket path, secret, listening fd), then read-only in the
 * Apache children and the daemons, which inherit it across fork().
 */
#ifndef GW_GROUP_H
#define GW_GROUP_H

#include "gw_common.h"
#include <sys/types.h>

#define GW_SECRET_LEN 32

/* The pair a child adds to a REQUEST to name the request's virtual host;
 * the daemon takes it out before the environ is built. */
#define GW_VHOST_KEY "mod_gateway.internal.vhost"

/* The pair (value "1") a child adds to a REQUEST when it sends, right
 * behind it and unasked, the answer to a READ of GW_WIRE_BODY_WINDOW
 * bytes: the body bytes that had already arrived (gw_wire.h, READ). The
 * daemon takes it out too. */
#define GW_BODY_KEY "mod_gateway.internal.body"

/* What each daemon process of a group tells its siblings (shared memory
 * made by the parent, kept with the group's socket across restarts): how
 * many of its threads are free, and when it last said so (milliseconds,
 * wrapping). A saturated process accepts new connections only when no
 * sibling has said, recently, that it has a free thread. */
#define GW_BOARD_SLOTS 256
typedef struct {
    volatile apr_uint32_t free_threads;
    volatile apr_uint32_t stamp_ms;
} gw_board_slot_t;

typedef struct {
    const char *name;
    server_rec *server;      /* where it was defined (main or a vhost) */
    int index;               /* position in the list */
    const char *defined_at;  /* "file:line", for messages */

    /* Processes */
    int processes;           /* default 1 */
    int multiprocess;        /* 1 if processes= was given, even =1: as in
                                mod_wsgi, wsgi.multiprocess is then True */
    int threads;             /* default 15 */
    const char *user;        /* user= or, after gw_group_finish, Apache's
                                User (NULL if Apache is not root) */
    const char *group;       /* group= or, after gw_group_finish, Apache's
                                Group; NULL: the primary group of user= */
    uid_t uid;               /* resolved; (uid_t)-1 until gw_group_finish
                                when user= was not given; never 0 */
    gid_t gid;               /* likewise; never 0 */
    apr_array_header_t *supplementary_groups; /* gid_t, the exact set;
                                NULL until gw_group_finish when
                                supplementary-groups= was not given, then
                                the user's groups (as initgroups()), or
                                empty when Apache is not root */
    const char *home;        /* chdir() here; NULL: "/" (mod_wsgi would use
                                the user's home; we never guess) */
    const char *python_home;
    apr_array_header_t *python_path;  /* const char * */
    const char *display_name;         /* "%{GROUP}" -> "(gateway:NAME)" */
    const char *lang;
    const char *locale;
    int umask;               /* -1: inherit */
    int cpu_priority;        /* nice value, 0 default */
    int python_optimize;     /* -1: default */
    const char *socket_user; /* socket-user=: may connect instead of
                                Apache's User; NULL: Apache's User (not
                                acted on yet by the socket code) */
    uid_t socket_uid;        /* (uid_t)-1 when socket_user is NULL */

    /* Parsed and validated; not acted on yet */
    const char *python_eggs; /* absolute path */
    const char *chroot;      /* an existing directory */
    const char *script_user; /* resolved user name; excludes script_group */
    const char *script_group;/* resolved group name */
    int socket_rotation;     /* flag, default 1 (mod_wsgi's default) */
    int server_metrics;      /* flag, default 0 */

    /* Recycling and timeouts (microseconds; 0 = disabled) */
    apr_int64_t maximum_requests;
    apr_interval_time_t restart_interval;
    apr_interval_time_t inactivity_timeout;
    apr_interval_time_t request_timeout;
    apr_interval_time_t graceful_timeout;   /* default 15 s */
    apr_interval_time_t shutdown_timeout;   /* default 5 s */
    apr_interval_time_t deadlock_timeout;   /* default 300 s */
    apr_interval_time_t startup_timeout;    /* not acted on yet */
    apr_interval_time_t socket_timeout;     /* 0: Apache's Timeout */
    apr_interval_time_t connect_timeout;    /* default 15 s */
    apr_interval_time_t queue_timeout;
    apr_interval_time_t response_socket_timeout; /* 0: socket_timeout */
    apr_interval_time_t eviction_timeout;   /* not acted on yet */
    int listen_backlog;      /* default 100 */

    /* Resource limits (0 = unlimited) */
    apr_int64_t memory_limit;          /* bytes, RLIMIT_DATA */
    apr_int64_t virtual_memory_limit;  /* bytes, RLIMIT_AS */
    apr_int64_t cpu_time_limit;        /* seconds, RLIMIT_CPU */
    apr_int64_t stack_size;            /* bytes, worker thread stacks */
    apr_int64_t receive_buffer_size;   /* SO_RCVBUF of the socket, 0 default */
    apr_int64_t send_buffer_size;      /* SO_SNDBUF */
    apr_int64_t header_buffer_size;    /* cap of a REQUEST frame */
    apr_int64_t response_buffer_size;  /* DATA coalescing in the daemon */

    /* Preloaded scripts (GatewayImportScript): gw_import_t */
    apr_array_header_t *imports;

    /* Runtime, set in the parent's post_config */
    const char *socket_path;
    int listen_fd;           /* -1 until created */
    unsigned char secret[GW_SECRET_LEN];
    gw_board_slot_t *board;  /* GW_BOARD_SLOTS, shared by the group's
                                processes; NULL if it could not be mapped */
} gw_group_t;

typedef struct {
    const char *script;            /* absolute path */
    const char *application_group; /* literal name, "" for %{GLOBAL} */
    server_rec *server;            /* where GatewayImportScript appeared */
    const char *defined_at;        /* "file:line" */
} gw_import_t;

/* The directive setter of GatewayDaemonProcess (gw_group_conf.c). */
const char *gw_group_cmd(cmd_parms *cmd, void *dummy, int argc,
                         char *const argv[]);

/* The directive setter of GatewayImportScript (gw_group_conf.c). */
const char *gw_group_import_cmd(cmd_parms *cmd, void *dummy, int argc,
                                char *const argv[]);

/* Forget the previous configuration's groups (pre_config). */
void gw_group_reset(apr_pool_t *pconf);

/* All groups, gw_group_t * elements; never NULL (empty before any
 * configuration is read). */
apr_array_header_t *gw_group_list(void);

/* GatewayImportScript ... process-group=%{GLOBAL}: gw_import_t elements,
 * filled by gw_group_finish; never NULL (empty before). */
apr_array_header_t *gw_group_embedded_imports(void);

/* What a process of the group named `group` ("" for an Apache child)
 * loads when it starts: its GatewayImportScript scripts, then every
 * GatewayScriptAlias (not ...Match) whose process-group= and
 * application-group= are both given and fixed (not %{SERVER} or
 * %{RESOURCE}), as mod_wsgi does. gw_import_t elements, in p. */
apr_array_header_t *gw_group_preloads(apr_pool_t *p, server_rec *main_server,
                                      const char *group);

/* The group called name, or NULL. */
gw_group_t *gw_group_find(const char *name);

/* 1 if a request served by server s may use g: groups defined in the main
 * server are visible everywhere, a vhost's only in the vhosts with its
 * ServerName (so one tenant cannot route requests into another tenant's
 * processes). */
int gw_group_visible(const gw_group_t *g, const server_rec *s);

/* After the configuration is read (check_config, so `apachectl -t` shows
 * its errors; post_config works too): fills uid/gid from Apache's
 * User/Group (refusing root), the default supplementary groups, and
 * attaches each GatewayImportScript to its group (or to the embedded
 * list). Safe to call more than once. Returns an error message or NULL.
 * socket_timeout 0 is left 0: the caller applies Apache's Timeout. */
const char *gw_group_finish(apr_pool_t *p, server_rec *s);

#endif /* GW_GROUP_H */
