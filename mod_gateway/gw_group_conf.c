/*
 * gw_group_conf.c -- GatewayDaemonProcess and GatewayImportScript: parsing
 * and validation of every option, and the process-wide list of groups.
 *
 * L1, Apache parent only, while the configuration is read (and once more
 * in gw_group_finish). No Python here. Every setter error names the
 * directive, the group, the option and the value, so `apachectl -t` shows
 * it; numbers go through the strict L0 parsers of gw_opts.c.
 *
 * Users and groups are resolved here, in the parent, with the passwd and
 * group databases, so a daemon never needs NSS after fork; uid 0 and gid 0
 * are refused here first and again in gw_privs_apply().
 */
#include "gw_group.h"
#include "gw_config.h"
#include "gw_opts.h"

#include "apr_lib.h"
#include "unixd.h"

#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* The process-wide lists, allocated in pconf and forgotten when pconf is
 * cleared (the next configuration pass builds them again). */
static apr_pool_t *list_pool;
static apr_array_header_t *groups;           /* gw_group_t * */
static apr_array_header_t *pending_imports;  /* pending_import_t */
static apr_array_header_t *embedded_imports; /* gw_import_t */

typedef struct {
    gw_import_t imp;
    const char *process_group;  /* NULL: embedded (%{GLOBAL}) */
} pending_import_t;

#define GW_GROUP_MAX_TIMEOUT (365LL * 24 * 3600 * APR_USEC_PER_SEC)
#define GW_MIB (1024LL * 1024)
/* httpd's AP_MAX_ARGC (server/config.c, not exported): a TAKE_ARGV
 * directive gets at most this many words and the rest are dropped without
 * a word, so reaching it is treated as an error. */
#define GW_HTTPD_MAX_ARGC 64
/* Largest uid/gid for "#N": (uid_t)-1 means "unset" to the kernel. */
#define GW_ID_MAX ((long)((unsigned long)(uid_t)-2 > (unsigned long)LONG_MAX \
                          ? LONG_MAX : (long)(uid_t)-2))

static apr_status_t lists_forget(void *unused)
{
    list_pool = NULL;
    groups = NULL;
    pending_imports = NULL;
    embedded_imports = NULL;
    return APR_SUCCESS;
}

static void lists_init(apr_pool_t *p)
{
    list_pool = p;
    groups = apr_array_make(p, 4, sizeof(gw_group_t *));
    pending_imports = apr_array_make(p, 2, sizeof(pending_import_t));
    embedded_imports = apr_array_make(p, 2, sizeof(gw_import_t));
    apr_pool_cleanup_register(p, NULL, lists_forget, apr_pool_cleanup_null);
}

void gw_group_reset(apr_pool_t *pconf)
{
    if (list_pool != pconf) {
        lists_init(pconf);
    }
    else {
        apr_array_clear(groups);
        apr_array_clear(pending_imports);
        apr_array_clear(embedded_imports);
    }
}

/* Before any configuration exists both lists read as empty (never NULL);
 * apr_array_header_t is { pool, elt_size, nelts, nalloc, elts }. */
apr_array_header_t *gw_group_list(void)
{
    static apr_array_header_t none = { NULL, sizeof(gw_group_t *), 0, 0,
                                       NULL };

    return groups ? groups : &none;
}

apr_array_header_t *gw_group_embedded_imports(void)
{
    static apr_array_header_t none = { NULL, sizeof(gw_import_t), 0, 0,
                                       NULL };

    return embedded_imports ? embedded_imports : &none;
}

gw_group_t *gw_group_find(const char *name)
{
    int i;

    for (i = 0; groups && name && i < groups->nelts; i++) {
        gw_group_t *g = APR_ARRAY_IDX(groups, i, gw_group_t *);

        if (strcmp(g->name, name) == 0) {
            return g;
        }
    }
    return NULL;
}

/* As mod_wsgi: a vhost's group also serves the vhosts of the same
 * ServerName (a site's :80 and :443 halves), never another site. */
int gw_group_visible(const gw_group_t *g, const server_rec *s)
{
    if (g == NULL || g->server == NULL) {
        return 0;
    }
    if (!g->server->is_virtual || g->server == s) {
        return 1;
    }
    return s->server_hostname && g->server->server_hostname
           && strcasecmp(s->server_hostname,
                         g->server->server_hostname) == 0;
}

static const char *where(cmd_parms *cmd)
{
    if (cmd->directive == NULL || cmd->directive->filename == NULL) {
        return "(unknown)";
    }
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

/* ---- the option table ----------------------------------------------- */

typedef enum {
    OPT_INT,        /* int field, gw_opts_parse_long in [min, max] */
    OPT_INT64,      /* apr_int64_t field, same */
    OPT_DURATION,   /* apr_interval_time_t, microseconds */
    OPT_SIZE,       /* apr_int64_t bytes: 0 (default) or in [min, max] */
    OPT_UMASK,      /* int */
    OPT_FLAG,       /* int */
    OPT_PATH,       /* const char *, absolute */
    OPT_DIR,        /* const char *, absolute and an existing directory */
    OPT_TEXT,       /* const char *, non-empty */
    OPT_LOCALE,     /* const char *, a locale this system has */
    OPT_DISPLAY,    /* display-name */
    OPT_PYPATH,     /* python-path, may repeat */
    OPT_USER,       /* user= */
    OPT_GROUP,      /* group= */
    OPT_SUPP,       /* supplementary-groups= */
    OPT_SOCKET_USER,
    OPT_SCRIPT_USER,
    OPT_SCRIPT_GROUP
} opt_kind_t;

typedef struct {
    const char *name;
    opt_kind_t kind;
    apr_size_t off;
    long long min, max;
} opt_def_t;

#define F(field) APR_OFFSETOF(gw_group_t, field)
#define DURATION(name, field) \
    { name, OPT_DURATION, F(field), 0, GW_GROUP_MAX_TIMEOUT }

/* Every option of mod_wsgi 4.9's WSGIDaemonProcess. Parsed; not acted on
 * yet: python-eggs, chroot, script-user, script-group, socket-rotation,
 * server-metrics, eviction-timeout, startup-timeout. Buffer-size minimums
 * are mod_wsgi's ("0 for the default, else at least ..."). */
static const opt_def_t opt_defs[] = {
    { "user", OPT_USER, 0, 0, 0 },
    { "group", OPT_GROUP, 0, 0, 0 },
    { "supplementary-groups", OPT_SUPP, 0, 0, 0 },
    { "processes", OPT_INT, F(processes), 1, 1000 },
    { "threads", OPT_INT, F(threads), 1, 1000 },
    { "umask", OPT_UMASK, F(umask), 0, 0 },
    { "home", OPT_PATH, F(home), 0, 0 },
    { "python-home", OPT_PATH, F(python_home), 0, 0 },
    { "python-path", OPT_PYPATH, 0, 0, 0 },
    { "python-eggs", OPT_PATH, F(python_eggs), 0, 0 },
    { "lang", OPT_TEXT, F(lang), 0, 0 },
    { "locale", OPT_LOCALE, F(locale), 0, 0 },
    { "display-name", OPT_DISPLAY, F(display_name), 0, 0 },
    { "chroot", OPT_DIR, F(chroot), 0, 0 },
    { "script-user", OPT_SCRIPT_USER, F(script_user), 0, 0 },
    { "script-group", OPT_SCRIPT_GROUP, F(script_group), 0, 0 },
    { "socket-user", OPT_SOCKET_USER, 0, 0, 0 },
    { "maximum-requests", OPT_INT64, F(maximum_requests), 0, 1LL << 62 },
    DURATION("restart-interval", restart_interval),
    DURATION("startup-timeout", startup_timeout),
    DURATION("shutdown-timeout", shutdown_timeout),
    DURATION("deadlock-timeout", deadlock_timeout),
    DURATION("inactivity-timeout", inactivity_timeout),
    DURATION("request-timeout", request_timeout),
    DURATION("graceful-timeout", graceful_timeout),
    DURATION("eviction-timeout", eviction_timeout),
    DURATION("connect-timeout", connect_timeout),
    DURATION("socket-timeout", socket_timeout),
    DURATION("queue-timeout", queue_timeout),
    DURATION("response-socket-timeout", response_socket_timeout),
    { "listen-backlog", OPT_INT, F(listen_backlog), 1, 65535 },
    { "socket-rotation", OPT_FLAG, F(socket_rotation), 0, 0 },
    { "receive-buffer-size", OPT_SIZE, F(receive_buffer_size), 512,
      INT_MAX },
    { "send-buffer-size", OPT_SIZE, F(send_buffer_size), 512, INT_MAX },
    { "header-buffer-size", OPT_SIZE, F(header_buffer_size), 8192,
      INT_MAX },
    { "response-buffer-size", OPT_SIZE, F(response_buffer_size), 65536,
      INT_MAX },
    /* Below 1M the daemon could not even start Python: surely a unit
     * was forgotten. */
    { "memory-limit", OPT_SIZE, F(memory_limit), GW_MIB, APR_INT64_MAX },
    { "virtual-memory-limit", OPT_SIZE, F(virtual_memory_limit), GW_MIB,
      APR_INT64_MAX },
    { "cpu-time-limit", OPT_INT64, F(cpu_time_limit), 0, LONG_MAX },
    { "cpu-priority", OPT_INT, F(cpu_priority), -20, 19 },
    { "stack-size", OPT_SIZE, F(stack_size), 65536, 1024 * GW_MIB },
    { "server-metrics", OPT_FLAG, F(server_metrics), 0, 0 },
    { "python-optimize", OPT_INT, F(python_optimize), 0, 2 },
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))
#define FIELD(g, def, type) ((type *)((char *)(g) + (def)->off))

/* State of one GatewayDaemonProcess line. */
typedef struct {
    cmd_parms *cmd;
    gw_group_t *g;
    const opt_def_t *def;   /* the option being parsed */
    const char *val;
    gid_t user_gid;         /* primary group of user= */
    unsigned char seen[N_OPTS];
} parse_t;

static void group_defaults(gw_group_t *g, apr_pool_t *p)
{
    g->processes = 1;
    g->threads = 15;
    g->uid = (uid_t)-1;
    g->gid = (gid_t)-1;
    g->socket_uid = (uid_t)-1;
    g->umask = -1;
    g->python_optimize = -1;
    g->graceful_timeout = apr_time_from_sec(15);
    g->shutdown_timeout = apr_time_from_sec(5);
    g->deadlock_timeout = apr_time_from_sec(300);
    g->connect_timeout = apr_time_from_sec(15);
    g->listen_backlog = 100;
    g->socket_rotation = 1;
    g->python_path = apr_array_make(p, 2, sizeof(const char *));
    g->imports = apr_array_make(p, 1, sizeof(gw_import_t));
    g->listen_fd = -1;
}

static const char *bad_value(parse_t *ps, const char *why)
{
    return apr_psprintf(ps->cmd->pool, "%s %s: bad value '%s' for %s= (%s)",
                        ps->cmd->cmd->name, ps->g->name, ps->val,
                        ps->def->name, why);
}

/* ---- users and groups ----------------------------------------------- */

/* "name" or "#uid"; the entry must exist either way (a uid with no
 * passwd entry has no name to log and no groups to resolve). */
static const char *lookup_user(parse_t *ps, struct passwd **out)
{
    const char *v = ps->val, *err;
    long id;

    if (*v == '#') {
        if (gw_opts_parse_long(v + 1, 0, GW_ID_MAX, &id, &err) != 0) {
            return bad_value(ps, err);
        }
        *out = getpwuid((uid_t)id);
    }
    else {
        *out = *v ? getpwnam(v) : NULL;
    }
    if (*out == NULL) {
        return bad_value(ps, apr_isdigit(*v) ? "no such user; write #N for "
                         "a numeric uid" : "no such user");
    }
    return NULL;
}

static const char *lookup_group(parse_t *ps, const char *v, gid_t *gid,
                                const char **name)
{
    struct group *gr;
    const char *err;
    long id;

    if (*v == '#') {
        if (gw_opts_parse_long(v + 1, 0, GW_ID_MAX, &id, &err) != 0) {
            return bad_value(ps, err);
        }
        /* As Apache's Group #N: a gid needs no entry in the database. */
        if ((gr = getgrgid((gid_t)id)) == NULL) {
            *gid = (gid_t)id;
            *name = v;
            return NULL;
        }
    }
    else {
        gr = *v ? getgrnam(v) : NULL;
    }
    if (gr == NULL) {
        return bad_value(ps, apr_psprintf(ps->cmd->pool, "no such group "
                                          "'%s'%s", v, apr_isdigit(*v)
                                          ? "; write #N for a numeric gid"
                                          : ""));
    }
    *gid = gr->gr_gid;
    *name = apr_pstrdup(ps->cmd->pool, gr->gr_name);
    return NULL;
}

static const char *refuse_root(parse_t *ps, const char *v, int is_uid)
{
    return apr_psprintf(ps->cmd->pool, "%s %s: %s=%s%s is refused: %s",
                        ps->cmd->cmd->name, ps->g->name, ps->def->name, v,
                        strcmp(v, "root") == 0 ? "" : is_uid ? " (uid 0)"
                                                             : " (gid 0)",
                        is_uid ? "Python application code must never run "
                                 "as root"
                               : "a daemon must never run with the root "
                                 "group");
}

static const char *opt_user(parse_t *ps)
{
    struct passwd *pw;
    const char *err = lookup_user(ps, &pw);

    if (err) {
        return err;
    }
    if (pw->pw_uid == 0) {
        return refuse_root(ps, ps->val, 1);
    }
    ps->g->user = apr_pstrdup(ps->cmd->pool, pw->pw_name);
    ps->g->uid = pw->pw_uid;
    ps->user_gid = pw->pw_gid;
    return NULL;
}

static const char *opt_group(parse_t *ps)
{
    const char *err = lookup_group(ps, ps->val, &ps->g->gid, &ps->g->group);

    if (err == NULL && ps->g->gid == 0) {
        return refuse_root(ps, ps->val, 0);
    }
    return err;
}

/* Comma-separated names or #gids: the exact supplementary set. */
static const char *opt_supplementary(parse_t *ps)
{
    long max = sysconf(_SC_NGROUPS_MAX);
    char *copy = apr_pstrdup(ps->cmd->pool, ps->val), *item, *end;
    apr_array_header_t *set = apr_array_make(ps->cmd->pool, 4,
                                             sizeof(gid_t));
    const char *err, *name;
    gid_t gid;

    for (item = copy; item; item = end) {
        if ((end = strchr(item, ',')) != NULL) {
            *end++ = '\0';
        }
        if (*item == '\0') {
            return bad_value(ps, "empty group name in the list");
        }
        if ((err = lookup_group(ps, item, &gid, &name)) != NULL) {
            return err;
        }
        if (gid == 0) {
            return refuse_root(ps, item, 0);
        }
        APR_ARRAY_PUSH(set, gid_t) = gid;
    }
    if (max > 0 && set->nelts > max) {
        return bad_value(ps, apr_psprintf(ps->cmd->pool, "%d groups, the "
                                          "system allows %ld", set->nelts,
                                          max));
    }
    ps->g->supplementary_groups = set;
    return NULL;
}

static const char *opt_socket_user(parse_t *ps)
{
    struct passwd *pw;
    const char *err = lookup_user(ps, &pw);

    if (err == NULL) {
        ps->g->socket_user = apr_pstrdup(ps->cmd->pool, pw->pw_name);
        ps->g->socket_uid = pw->pw_uid;
    }
    return err;
}

/* script-user / script-group: the required owner of the script files. */
static const char *opt_script_owner(parse_t *ps)
{
    const char **field = FIELD(ps->g, ps->def, const char *);
    struct passwd *pw;
    const char *err;
    gid_t gid;

    /* mod_wsgi allows one or the other, not both. */
    if (ps->g->script_user || ps->g->script_group) {
        return apr_psprintf(ps->cmd->pool, "%s %s: only one of script-user= "
                            "and script-group= may be given",
                            ps->cmd->cmd->name, ps->g->name);
    }
    if (ps->def->kind == OPT_SCRIPT_GROUP) {
        return lookup_group(ps, ps->val, &gid, field);
    }
    if ((err = lookup_user(ps, &pw)) == NULL) {
        *field = apr_pstrdup(ps->cmd->pool, pw->pw_name);
    }
    return err;
}

/* ---- paths and text ------------------------------------------------- */

static const char *opt_path(parse_t *ps)
{
    struct stat st;

    if (ps->val[0] != '/') {
        return bad_value(ps, "must be an absolute path");
    }
    if (ps->def->kind == OPT_DIR
        && (stat(ps->val, &st) != 0 || !S_ISDIR(st.st_mode))) {
        return bad_value(ps, "not an existing directory");
    }
    *FIELD(ps->g, ps->def, const char *) = ps->val;
    return NULL;
}

static const char *opt_python_path(parse_t *ps)
{
    char *copy = apr_pstrdup(ps->cmd->pool, ps->val), *dir, *state;

    if (*ps->val == '\0') {
        return bad_value(ps, "empty");
    }
    for (dir = apr_strtok(copy, ":", &state); dir;
         dir = apr_strtok(NULL, ":", &state)) {
        if (dir[0] != '/') {
            return bad_value(ps, apr_psprintf(ps->cmd->pool, "'%s' must be "
                                              "an absolute path", dir));
        }
        APR_ARRAY_PUSH(ps->g->python_path, const char *) = dir;
    }
    return NULL;
}

static const char *opt_text(parse_t *ps)
{
    const char **field = FIELD(ps->g, ps->def, const char *);
    locale_t loc;

    if (*ps->val == '\0') {
        return bad_value(ps, "empty");
    }
    if (ps->def->kind == OPT_LOCALE) {
        /* Tried without touching this process's own locale. */
        if ((loc = newlocale(LC_ALL_MASK, ps->val, (locale_t)0)) == 0) {
            return bad_value(ps, "this system has no such locale; see "
                             "locale -a");
        }
        freelocale(loc);
    }
    if (ps->def->kind == OPT_DISPLAY && strcmp(ps->val, "%{GROUP}") == 0) {
        *field = apr_psprintf(ps->cmd->pool, "(gateway:%s)", ps->g->name);
    }
    else {
        *field = ps->val;
    }
    return NULL;
}

/* ---- numbers -------------------------------------------------------- */

static const char *opt_number(parse_t *ps)
{
    const opt_def_t *d = ps->def;
    const char *err = NULL;
    long long ll;
    unsigned um;
    long l;
    int flag;

    switch (d->kind) {
    case OPT_INT:
    case OPT_INT64:
        if (gw_opts_parse_long(ps->val, (long)d->min, (long)d->max, &l,
                               &err) != 0) {
            return bad_value(ps, apr_psprintf(ps->cmd->pool, "%s; allowed: "
                                              "%" APR_INT64_T_FMT "..%"
                                              APR_INT64_T_FMT, err,
                                              (apr_int64_t)d->min,
                                              (apr_int64_t)d->max));
        }
        if (d->kind == OPT_INT) {
            *FIELD(ps->g, d, int) = (int)l;
        }
        else {
            *FIELD(ps->g, d, apr_int64_t) = l;
        }
        return NULL;
    case OPT_DURATION:
        if (gw_opts_parse_duration(ps->val, d->max, &ll, &err) != 0) {
            return bad_value(ps, err);
        }
        *FIELD(ps->g, d, apr_interval_time_t) = ll;
        return NULL;
    case OPT_SIZE:
        if (gw_opts_parse_size(ps->val, d->max, &ll, &err) != 0) {
            return bad_value(ps, err);
        }
        if (ll != 0 && ll < d->min) {
            return bad_value(ps, apr_psprintf(ps->cmd->pool, "must be 0 for "
                                              "the default, or at least %"
                                              APR_INT64_T_FMT " bytes",
                                              (apr_int64_t)d->min));
        }
        *FIELD(ps->g, d, apr_int64_t) = ll;
        return NULL;
    case OPT_UMASK:
        if (gw_opts_parse_umask(ps->val, &um, &err) != 0) {
            return bad_value(ps, err);
        }
        *FIELD(ps->g, d, int) = (int)um;
        return NULL;
    case OPT_FLAG:
        if (gw_opts_parse_flag(ps->val, &flag, &err) != 0) {
            return bad_value(ps, err);
        }
        *FIELD(ps->g, d, int) = flag;
        return NULL;
    default:
        return bad_value(ps, "internal error: not a number option");
    }
}

static const char *parse_value(parse_t *ps)
{
    switch (ps->def->kind) {
    case OPT_USER:
        return opt_user(ps);
    case OPT_GROUP:
        return opt_group(ps);
    case OPT_SUPP:
        return opt_supplementary(ps);
    case OPT_SOCKET_USER:
        return opt_socket_user(ps);
    case OPT_SCRIPT_USER:
    case OPT_SCRIPT_GROUP:
        return opt_script_owner(ps);
    case OPT_PATH:
    case OPT_DIR:
        return opt_path(ps);
    case OPT_PYPATH:
        return opt_python_path(ps);
    case OPT_TEXT:
    case OPT_LOCALE:
    case OPT_DISPLAY:
        return opt_text(ps);
    default:
        return opt_number(ps);
    }
}

/* ---- GatewayDaemonProcess ------------------------------------------- */

/* Edit distance capped at 3, for "did you mean" on a misspelt option. */
static int distance(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), i, j;
    int row[48], prev, tmp;

    if (alen >= 40 || blen >= 40) {
        return 3;
    }
    for (j = 0; j <= blen; j++) {
        row[j] = (int)j;
    }
    for (i = 1; i <= alen; i++) {
        prev = row[0];
        row[0] = (int)i;
        for (j = 1; j <= blen; j++) {
            tmp = row[j];
            row[j] = 1 + (row[j] < row[j - 1] ? row[j] : row[j - 1]);
            if (prev + (a[i - 1] != b[j - 1]) < row[j]) {
                row[j] = prev + (a[i - 1] != b[j - 1]);
            }
            prev = tmp;
        }
    }
    return row[blen] < 3 ? row[blen] : 3;
}

static const char *unknown_option(parse_t *ps, const char *arg,
                                  const char *key, size_t klen)
{
    const char *hint = "";
    size_t i;

    for (i = 0; i < N_OPTS; i++) {
        if (distance(key, klen, opt_defs[i].name) <= 2) {
            hint = apr_psprintf(ps->cmd->pool, " (did you mean '%s='?)",
                                opt_defs[i].name);
            break;
        }
    }
    return apr_psprintf(ps->cmd->pool, "%s %s: unknown option '%s'%s",
                        ps->cmd->cmd->name, ps->g->name, arg, hint);
}

static const char *parse_option(parse_t *ps, const char *arg)
{
    const char *key, *err;
    size_t klen, i;

    if (gw_opts_split(arg, &key, &klen, &ps->val, &err) != 0) {
        return apr_psprintf(ps->cmd->pool, "%s %s: bad option '%s' (%s)",
                            ps->cmd->cmd->name, ps->g->name, arg, err);
    }
    for (i = 0; i < N_OPTS; i++) {
        if (strlen(opt_defs[i].name) == klen
            && strncmp(opt_defs[i].name, key, klen) == 0) {
            break;
        }
    }
    if (i == N_OPTS) {
        return unknown_option(ps, arg, key, klen);
    }
    ps->def = &opt_defs[i];
    if (ps->seen[i] && ps->def->kind != OPT_PYPATH) {
        return apr_psprintf(ps->cmd->pool, "%s %s: option %s= given more "
                            "than once", ps->cmd->cmd->name, ps->g->name,
                            ps->def->name);
    }
    if ((err = parse_value(ps)) != NULL) {
        return err;
    }
    ps->seen[i] = 1;
    if (ps->def->kind == OPT_INT && ps->def->off == F(processes)) {
        ps->g->multiprocess = 1;
    }
    return NULL;
}

static const char *check_name(cmd_parms *cmd, const char *name)
{
    const char *c;
    gw_group_t *other;

    if (*name == '\0') {
        return apr_psprintf(cmd->pool, "%s: needs a group name",
                            cmd->cmd->name);
    }
    if (strncmp(name, "%{", 2) == 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid group name "
                            "(names starting with %%{ are reserved)",
                            cmd->cmd->name, name);
    }
    for (c = name; *c; c++) {
        if (apr_iscntrl(*c)) {
            return apr_psprintf(cmd->pool, "%s: the group name may not "
                                "contain control characters",
                                cmd->cmd->name);
        }
    }
    if ((other = gw_group_find(name)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: name already used by the "
                            "GatewayDaemonProcess at %s (defined again at "
                            "%s); names must be unique across the whole "
                            "configuration", cmd->cmd->name, name,
                            other->defined_at, where(cmd));
    }
    return NULL;
}

const char *gw_group_cmd(cmd_parms *cmd, void *dummy, int argc,
                         char *const argv[])
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    parse_t ps;
    gw_group_t *g;
    int i;

    if (err) {
        return err;
    }
    if (groups == NULL) {
        lists_init(cmd->pool);
    }
    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: needs a group name",
                            cmd->cmd->name);
    }
    if (argc >= GW_HTTPD_MAX_ARGC) {
        return apr_psprintf(cmd->pool, "%s %s: %d words or more; httpd "
                            "would drop the rest (join python-path= "
                            "entries with ':')", cmd->cmd->name, argv[0],
                            GW_HTTPD_MAX_ARGC);
    }
    if ((err = check_name(cmd, argv[0])) != NULL) {
        return err;
    }
    g = apr_pcalloc(cmd->pool, sizeof(*g));
    group_defaults(g, cmd->pool);
    g->name = argv[0];
    g->server = cmd->server;
    g->defined_at = where(cmd);
    memset(&ps, 0, sizeof(ps));
    ps.cmd = cmd;
    ps.g = g;
    ps.user_gid = (gid_t)-1;
    for (i = 1; i < argc; i++) {
        if ((err = parse_option(&ps, argv[i])) != NULL) {
            return err;
        }
    }
    /* user= without group=: the user's primary group. */
    if (g->uid != (uid_t)-1 && g->gid == (gid_t)-1) {
        if (ps.user_gid == 0) {
            return apr_psprintf(cmd->pool, "%s %s: the primary group of "
                                "user=%s is the root group (gid 0); set "
                                "group= to another group", cmd->cmd->name,
                                g->name, g->user);
        }
        g->gid = ps.user_gid;
    }
    g->index = groups->nelts;
    APR_ARRAY_PUSH(groups, gw_group_t *) = g;
    return NULL;
}

/* ---- GatewayImportScript -------------------------------------------- */

static const char *import_option(cmd_parms *cmd, pending_import_t *pi,
                                 const char *arg, int *seen_pg,
                                 int *seen_ag)
{
    const char *key, *val, *err;
    size_t klen;

    if (gw_opts_split(arg, &key, &klen, &val, &err) != 0) {
        return apr_psprintf(cmd->pool, "%s: bad option '%s' (%s)",
                            cmd->cmd->name, arg, err);
    }
    if (klen == 13 && strncmp(key, "process-group", klen) == 0 && !*seen_pg) {
        *seen_pg = 1;
        if (*val == '\0' || (strncmp(val, "%{", 2) == 0
                             && strcmp(val, "%{GLOBAL}") != 0)) {
            return apr_psprintf(cmd->pool, "%s: bad value '%s' for "
                                "process-group= (a GatewayDaemonProcess "
                                "name, or %%{GLOBAL} for embedded)",
                                cmd->cmd->name, val);
        }
        pi->process_group = strcmp(val, "%{GLOBAL}") == 0 ? NULL : val;
        return NULL;
    }
    if (klen == 17 && strncmp(key, "application-group", klen) == 0
        && !*seen_ag) {
        *seen_ag = 1;
        if (*val == '\0' || (strncmp(val, "%{", 2) == 0
                             && strcmp(val, "%{GLOBAL}") != 0)) {
            return apr_psprintf(cmd->pool, "%s: bad value '%s' for "
                                "application-group= (preloading needs a "
                                "literal name, or %%{GLOBAL})",
                                cmd->cmd->name, val);
        }
        pi->imp.application_group = strcmp(val, "%{GLOBAL}") == 0 ? ""
                                                                  : val;
        return NULL;
    }
    if ((klen == 13 && strncmp(key, "process-group", klen) == 0)
        || (klen == 17 && strncmp(key, "application-group", klen) == 0)) {
        return apr_psprintf(cmd->pool, "%s: option %.*s= given more than "
                            "once", cmd->cmd->name, (int)klen, key);
    }
    return apr_psprintf(cmd->pool, "%s: unknown option '%s' (known: "
                        "process-group=, application-group=)",
                        cmd->cmd->name, arg);
}

const char *gw_group_import_cmd(cmd_parms *cmd, void *dummy, int argc,
                                char *const argv[])
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    pending_import_t pi;
    int i, seen_pg = 0, seen_ag = 0;

    if (err) {
        return err;
    }
    if (groups == NULL) {
        lists_init(cmd->pool);
    }
    if (argc < 1 || argv[0][0] != '/') {
        return apr_psprintf(cmd->pool, "%s: needs the absolute path of a "
                            "script%s%s%s", cmd->cmd->name,
                            argc ? " (got '" : "", argc ? argv[0] : "",
                            argc ? "')" : "");
    }
    memset(&pi, 0, sizeof(pi));
    pi.imp.script = argv[0];
    pi.imp.server = cmd->server;
    pi.imp.defined_at = where(cmd);
    for (i = 1; i < argc; i++) {
        if ((err = import_option(cmd, &pi, argv[i], &seen_pg, &seen_ag))) {
            return err;
        }
    }
    if (!seen_pg || !seen_ag) {
        return apr_psprintf(cmd->pool, "%s %s: %s= is required (both "
                            "process-group= and application-group= must be "
                            "given)", cmd->cmd->name, argv[0],
                            seen_pg ? "application-group" : "process-group");
    }
    APR_ARRAY_PUSH(pending_imports, pending_import_t) = pi;
    return NULL;
}

/* ---- post-configuration --------------------------------------------- */

/* uid/gid from Apache's User/Group when user=/group= were not given. A
 * non-root Apache cannot switch, so its daemons run as itself. */
static const char *finish_identity(apr_pool_t *p, gw_group_t *g)
{
    int root = geteuid() == 0;

    if (g->uid == (uid_t)-1) {
        g->uid = root ? ap_unixd_config.user_id : geteuid();
        g->user = root ? ap_unixd_config.user_name : NULL;
    }
    if (g->gid == (gid_t)-1) {
        g->gid = root ? ap_unixd_config.group_id : getegid();
        g->group = root ? ap_unixd_config.group_name : NULL;
    }
    if (g->uid == 0 || g->gid == 0) {
        return apr_psprintf(p, "GatewayDaemonProcess %s (%s): no %s= and "
                            "Apache's %s is root: a daemon never runs as "
                            "uid 0 or gid 0; set %s=", g->name, g->defined_at,
                            g->uid == 0 ? "user" : "group",
                            g->uid == 0 ? "User" : "Group",
                            g->uid == 0 ? "user" : "group");
    }
    if (g->uid == (uid_t)-1 || g->gid == (gid_t)-1) {
        return apr_psprintf(p, "GatewayDaemonProcess %s (%s): no %s= and "
                            "Apache's %s is not set; set %s= or %s",
                            g->name, g->defined_at,
                            g->uid == (uid_t)-1 ? "user" : "group",
                            g->uid == (uid_t)-1 ? "User" : "Group",
                            g->uid == (uid_t)-1 ? "user" : "group",
                            g->uid == (uid_t)-1 ? "User" : "Group");
    }
    return NULL;
}

/* No supplementary-groups=: the user's groups from the group database,
 * as initgroups() gives Apache's own children and mod_wsgi's daemons. */
static const char *finish_groups(apr_pool_t *p, gw_group_t *g)
{
    struct passwd *pw = getpwuid(g->uid);
    int n = 64, i;
    gid_t *list;

    if (g->supplementary_groups != NULL) {
        return NULL;
    }
    g->supplementary_groups = apr_array_make(list_pool, 4, sizeof(gid_t));
    if (geteuid() != 0 || pw == NULL) {
        return NULL;    /* cannot be changed / no name to look up */
    }
    list = apr_palloc(p, n * sizeof(gid_t));
    if (getgrouplist(pw->pw_name, g->gid, list, &n) < 0) {
        list = apr_palloc(p, n * sizeof(gid_t));
        if (getgrouplist(pw->pw_name, g->gid, list, &n) < 0) {
            return apr_psprintf(p, "GatewayDaemonProcess %s (%s): cannot "
                                "list the groups of user %s", g->name,
                                g->defined_at, pw->pw_name);
        }
    }
    for (i = 0; i < n; i++) {
        if (list[i] == 0) {
            return apr_psprintf(p, "GatewayDaemonProcess %s (%s): user %s "
                                "is a member of the root group (gid 0); "
                                "refusing: set supplementary-groups= "
                                "explicitly", g->name, g->defined_at,
                                pw->pw_name);
        }
        APR_ARRAY_PUSH(g->supplementary_groups, gid_t) = list[i];
    }
    return NULL;
}

static const char *finish_imports(apr_pool_t *p)
{
    int i;

    for (i = 0; i < pending_imports->nelts; i++) {
        pending_import_t *pi = &APR_ARRAY_IDX(pending_imports, i,
                                              pending_import_t);
        gw_group_t *g;

        if (pi->process_group == NULL) {
            APR_ARRAY_PUSH(embedded_imports, gw_import_t) = pi->imp;
            continue;
        }
        if ((g = gw_group_find(pi->process_group)) == NULL) {
            return apr_psprintf(p, "GatewayImportScript %s (%s): no "
                                "GatewayDaemonProcess named '%s'",
                                pi->imp.script, pi->imp.defined_at,
                                pi->process_group);
        }
        if (!gw_group_visible(g, pi->imp.server)) {
            return apr_psprintf(p, "GatewayImportScript %s (%s): daemon "
                                "process group '%s' (%s) belongs to another "
                                "virtual host", pi->imp.script,
                                pi->imp.defined_at, g->name, g->defined_at);
        }
        APR_ARRAY_PUSH(g->imports, gw_import_t) = pi->imp;
    }
    /* Resolved once: a second call must not attach them twice. */
    apr_array_clear(pending_imports);
    return NULL;
}

const char *gw_group_finish(apr_pool_t *p, server_rec *s)
{
    const char *err;
    int i;

    if (groups == NULL) {
        return NULL;
    }
    for (i = 0; i < groups->nelts; i++) {
        gw_group_t *g = APR_ARRAY_IDX(groups, i, gw_group_t *);

        if ((err = finish_identity(p, g)) != NULL
            || (err = finish_groups(p, g)) != NULL) {
            return err;
        }
        /* socket_timeout 0 stays 0: the caller applies Apache's Timeout;
         * response_socket_timeout 0 means socket_timeout. */
    }
    return finish_imports(p);
}

/* ---- preloading --------------------------------------------------- */

static int fixed_app_group(const char *spec)
{
    return spec && (strcmp(spec, "%{GLOBAL}") == 0 || !strstr(spec, "%{"));
}

static void add_alias_preloads(apr_array_header_t *out, server_rec *s,
                               const char *group)
{
    gw_server_conf_t *sc = gw_config_server(s);
    const gw_alias_t *a = (const gw_alias_t *)sc->aliases->elts;
    int i, j;

    for (i = 0; i < sc->aliases->nelts; i++) {
        gw_import_t *im;

        if (a[i].regex || a[i].opts.process_group == NULL
            || strcmp(a[i].opts.process_group, group) != 0
            || !fixed_app_group(a[i].opts.application_group)) {
            continue;
        }
        /* A vhost's list ends with the main server's: count each (script,
         * application group) once. */
        for (j = 0; j < out->nelts; j++) {
            gw_import_t *seen = &APR_ARRAY_IDX(out, j, gw_import_t);

            if (strcmp(seen->script, a[i].target) == 0
                && strcmp(seen->application_group,
                          strcmp(a[i].opts.application_group, "%{GLOBAL}")
                          == 0 ? "" : a[i].opts.application_group) == 0) {
                break;
            }
        }
        if (j < out->nelts) {
            continue;
        }
        im = apr_array_push(out);
        memset(im, 0, sizeof(*im));
        im->script = a[i].target;
        im->application_group = strcmp(a[i].opts.application_group,
                                       "%{GLOBAL}") == 0
            ? "" : a[i].opts.application_group;
        im->server = s;
    }
}

apr_array_header_t *gw_group_preloads(apr_pool_t *p, server_rec *main_server,
                                      const char *group)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(gw_import_t));
    gw_group_t *g = *group ? gw_group_find(group) : NULL;
    apr_array_header_t *explicit = *group ? (g ? g->imports : NULL)
                                          : gw_group_embedded_imports();
    server_rec *s;

    if (explicit) {
        apr_array_cat(out, explicit);
    }
    for (s = main_server; s; s = s->next) {
        add_alias_preloads(out, s, group);
    }
    return out;
}
