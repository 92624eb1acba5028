
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The connection to Redis: the gemini_pool_cluster directive, and
 * hiredis's asynchronous API on nginx's event loop (docs/cluster.md).
 *
 * The adapter: hiredis asks for read and write interest through the
 * ev.addRead/delRead/addWrite/delWrite hooks of its redisAsyncContext and
 * is told to read or write with redisAsyncHandleRead/Write.  Its socket
 * gets an ngx_connection_t of its own (ngx_get_connection), whose read
 * and write events are added level-triggered: hiredis reads at most one
 * buffer per call and stops asking for writes once its output is out.
 * hiredis closes the socket itself when it frees the context; the
 * cleanup hook removes the events and gives the connection back without
 * closing it.  After the disconnect callback hiredis frees the context:
 * nothing touches it after.
 */


#include "ngx_http_gemini_pool_module.h"


/* back-off of the reconnection: doubling from the first to the last */
#define NGX_GP_CLUSTER_RETRY_MIN     200
#define NGX_GP_CLUSTER_RETRY_MAX     5000
/* a connection (TCP and AUTH) not up within this is dropped */
#define NGX_GP_CLUSTER_CONNECT_TIME  2000
/* the command connection's health check: a PING each interval; no
   answer within the timeout, the connections are dropped */
#define NGX_GP_CLUSTER_PING_EVERY    1000
#define NGX_GP_CLUSTER_PING_TIMEOUT  3000


typedef struct {
    redisAsyncContext       *ac;
    ngx_connection_t        *c;
    ngx_event_t              retry;      /* reconnect; connect timeout */
    ngx_event_t              ping;       /* command connection only */
    ngx_connection_t         dummy;
    ngx_msec_t               backoff;
    ngx_uint_t               subscriber;
    ngx_uint_t               up;
    ngx_uint_t               ping_out;   /* a PING awaits its answer */
    ngx_msec_t               ping_sent;
} ngx_gp_cluster_link_t;


struct ngx_gp_cluster_cmd_s {
    ngx_gp_cluster_pt        handler;    /* NULL: cancelled or answered */
    void                    *data;
    ngx_event_t              timer;
    ngx_connection_t         dummy;
};


typedef struct {
    u_char                   channel[NGX_GP_CLUSTER_TOPIC_LEN + 64];
    ngx_gp_cluster_msg_pt    handler;
} ngx_gp_cluster_topic_t;


static ngx_int_t ngx_gp_cluster_password(ngx_conf_t *cf,
    ngx_gp_cluster_conf_t *cc, ngx_str_t *file, ngx_str_t *env);
static ngx_gp_cluster_conf_t *ngx_gp_cluster_conf(void);
static void ngx_gp_cluster_connect(ngx_gp_cluster_link_t *l);
static void ngx_gp_cluster_drop(ngx_gp_cluster_link_t *l, const char *why);
static void ngx_gp_cluster_schedule(ngx_gp_cluster_link_t *l);
static void ngx_gp_cluster_retry(ngx_event_t *ev);
static void ngx_gp_cluster_ping(ngx_event_t *ev);
static void ngx_gp_cluster_ping_done(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_gp_cluster_setup_done(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_gp_cluster_connected(const redisAsyncContext *ac,
    int status);
static void ngx_gp_cluster_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_gp_cluster_message(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_gp_cluster_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_gp_cluster_timeout(ngx_event_t *ev);
static void ngx_gp_cluster_mark(ngx_uint_t up, const char *error);
static void ngx_gp_cluster_count(ngx_uint_t commands, ngx_uint_t failures,
    ngx_uint_t messages);

static ngx_int_t ngx_gp_cluster_attach(ngx_gp_cluster_link_t *l);
static void ngx_gp_cluster_read(ngx_event_t *ev);
static void ngx_gp_cluster_write(ngx_event_t *ev);
static void ngx_gp_cluster_add_read(void *privdata);
static void ngx_gp_cluster_del_read(void *privdata);
static void ngx_gp_cluster_add_write(void *privdata);
static void ngx_gp_cluster_del_write(void *privdata);
static void ngx_gp_cluster_cleanup(void *privdata);


static ngx_gp_cluster_link_t   ngx_gp_cluster_cmd_link;
static ngx_gp_cluster_link_t   ngx_gp_cluster_sub_link;
static ngx_uint_t              ngx_gp_cluster_running;
static ngx_uint_t              ngx_gp_cluster_exiting;
static ngx_log_t              *ngx_gp_cluster_log;

static ngx_gp_cluster_topic_t  ngx_gp_cluster_topics[NGX_GP_CLUSTER_TOPICS];
static ngx_uint_t              ngx_gp_cluster_ntopics;
static ngx_gp_cluster_up_pt    ngx_gp_cluster_up_hooks[NGX_GP_CLUSTER_UP_HOOKS];
static ngx_uint_t              ngx_gp_cluster_nup;


/*
 * gemini_pool_cluster redis://[user:password@]host:port[/db] | unix:/path
 *     [prefix=...] [password_file=...] [password_env=...] [db=N]
 */

char *
ngx_gp_cluster_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    u_char                 *p, *last, *at, *colon, *slash, *s;
    ngx_int_t               n;
    ngx_str_t              *value, file, env, hostport;
    ngx_url_t               u;
    ngx_uint_t              i;
    ngx_gp_cluster_conf_t  *cc;
    u_char                  text[NGX_SOCKADDR_STRLEN];

    if (gmcf->cluster) {
        return "is duplicate";
    }

    cc = ngx_pcalloc(cf->pool, sizeof(ngx_gp_cluster_conf_t));
    if (cc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    ngx_str_set(&cc->prefix, NGX_GP_CLUSTER_PREFIX);
    ngx_str_null(&file);
    ngx_str_null(&env);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            cc->prefix.data = value[i].data + 7;
            cc->prefix.len = value[i].len - 7;

            if (cc->prefix.len == 0 || cc->prefix.len > 64) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gemini_pool_cluster: the prefix must "
                                   "be 1 to 64 characters");
                return NGX_CONF_ERROR;
            }

            for (s = cc->prefix.data; s < cc->prefix.data + cc->prefix.len;
                 s++)
            {
                if (*s <= ' ' || *s >= 0x7f) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "gemini_pool_cluster: the prefix "
                                       "must be printable ASCII without "
                                       "spaces");
                    return NGX_CONF_ERROR;
                }
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            file.data = value[i].data + 14;
            file.len = value[i].len - 14;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_env=", 13) == 0) {
            env.data = value[i].data + 13;
            env.len = value[i].len - 13;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gemini_pool_cluster: db= must be a "
                                   "database number");
                return NGX_CONF_ERROR;
            }

            cc->db = n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: unknown parameter \"%V\" "
                           "(prefix=, password_file=, password_env=, db=)",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    p = value[1].data;
    last = p + value[1].len;

    if (value[1].len > 5 && ngx_strncmp(p, "unix:", 5) == 0) {
        if (p[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gemini_pool_cluster: a Unix socket's path "
                               "must be absolute (unix:/path)");
            return NGX_CONF_ERROR;
        }

        cc->unix_path.len = value[1].len - 5;
        cc->unix_path.data = ngx_pnalloc(cf->pool, cc->unix_path.len + 1);
        if (cc->unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(cc->unix_path.data, p + 5, cc->unix_path.len);
        cc->unix_path.data[cc->unix_path.len] = '\0';
        cc->where = value[1];
        goto password;
    }

    if (value[1].len < 8 || ngx_strncmp(p, "redis://", 8) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: the address must be "
                           "redis://host:port[/db] (credentials as "
                           "[user:password@] before the host) or "
                           "unix:/path (rediss:// is not supported)");
        return NGX_CONF_ERROR;
    }

    p += 8;

    /* the last '@' ends the credentials: a password may hold '@' */
    at = NULL;
    for (s = p; s < last; s++) {
        if (*s == '@') {
            at = s;
        }
    }

    if (at) {
        colon = ngx_strlchr(p, at, ':');

        if (colon == NULL) {
            /* redis://password@host: a password alone */
            colon = p - 1;
        }

        cc->user.len = colon - p > 0 ? colon - p : 0;
        cc->user.data = ngx_pnalloc(cf->pool, cc->user.len + 1);
        cc->password.len = at - colon - 1;
        cc->password.data = ngx_pnalloc(cf->pool, cc->password.len + 1);
        if (cc->user.data == NULL || cc->password.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(cc->user.data, p, cc->user.len);
        cc->user.data[cc->user.len] = '\0';
        ngx_memcpy(cc->password.data, colon + 1, cc->password.len);
        cc->password.data[cc->password.len] = '\0';

        p = at + 1;
    }

    slash = ngx_strlchr(p, last, '/');

    if (slash) {
        if (slash + 1 < last) {
            n = ngx_atoi(slash + 1, last - slash - 1);
            if (n == NGX_ERROR || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gemini_pool_cluster: the path of the "
                                   "address must be a database number "
                                   "(/0)");
                return NGX_CONF_ERROR;
            }

            cc->db = n;
        }

        last = slash;
    }

    hostport.data = p;
    hostport.len = last - p;

    if (hostport.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: the address has no host");
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = hostport;
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: the address \"%V\": %s",
                           &hostport,
                           u.err ? u.err : "host not found");
        return NGX_CONF_ERROR;
    }

    if (u.addrs[0].sockaddr->sa_family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: write a Unix socket as "
                           "unix:/path");
        return NGX_CONF_ERROR;
    }

    /* resolved now, by the master: a worker never waits for DNS */
    n = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                      sizeof(text), 0);

    cc->host.data = ngx_pnalloc(cf->pool, n + 1);
    if (cc->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(cc->host.data, text, n);
    cc->host.data[n] = '\0';
    cc->host.len = n;
    cc->port = ngx_inet_get_port(u.addrs[0].sockaddr);
    cc->where = hostport;

password:

    if (ngx_gp_cluster_password(cf, cc, &file, &env) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    gmcf->cluster = cc;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_gp_cluster_password(ngx_conf_t *cf, ngx_gp_cluster_conf_t *cc,
    ngx_str_t *file, ngx_str_t *env)
{
    char       *v;
    size_t      len;
    ssize_t     n;
    ngx_fd_t    fd;
    u_char      buf[512];

    if ((file->len != 0) + (env->len != 0) + (cc->password.len != 0) > 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: give the password once: "
                           "in the address, password_file= or "
                           "password_env=");
        return NGX_ERROR;
    }

    if (env->len) {
        if (env->len >= sizeof(buf)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gemini_pool_cluster: password_env= is too "
                               "long");
            return NGX_ERROR;
        }

        ngx_memcpy(buf, env->data, env->len);
        buf[env->len] = '\0';

        v = getenv((char *) buf);

        if (v == NULL || v[0] == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gemini_pool_cluster: the environment "
                               "variable \"%V\" is not set", env);
            return NGX_ERROR;
        }

        len = ngx_strlen(v);
        cc->password.data = ngx_pnalloc(cf->pool, len + 1);
        if (cc->password.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(cc->password.data, v, len + 1);
        cc->password.len = len;
        return NGX_OK;
    }

    if (file->len == 0) {
        return NGX_OK;
    }

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "gemini_pool_cluster: cannot read the "
                           "password_file \"%V\"", file);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    if (n <= 0 || n >= (ssize_t) sizeof(buf)) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_cluster: the password_file \"%V\" "
                           "is empty or longer than %uz bytes", file,
                           sizeof(buf) - 1);
        return NGX_ERROR;
    }

    cc->password.data = ngx_pnalloc(cf->pool, n + 1);
    if (cc->password.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(cc->password.data, buf, n);
    cc->password.data[n] = '\0';
    cc->password.len = n;
    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


static ngx_gp_cluster_conf_t *
ngx_gp_cluster_conf(void)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (ngx_cycle == NULL || ngx_cycle->conf_ctx == NULL) {
        return NULL;
    }

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    return (gmcf && gmcf->shm_zone) ? gmcf->cluster : NULL;
}


ngx_uint_t
ngx_gp_cluster_enabled(void)
{
    return ngx_gp_cluster_conf() != NULL;
}


ngx_uint_t
ngx_gp_cluster_up(void)
{
    return ngx_gp_cluster_running && ngx_gp_cluster_cmd_link.up;
}


ngx_str_t *
ngx_gp_cluster_prefix(void)
{
    static ngx_str_t        none = ngx_string(NGX_GP_CLUSTER_PREFIX);
    ngx_gp_cluster_conf_t  *cc;

    cc = ngx_gp_cluster_conf();

    return cc ? &cc->prefix : &none;
}


ngx_int_t
ngx_gp_cluster_subscribe(const char *topic, ngx_gp_cluster_msg_pt handler)
{
    size_t                   len;
    ngx_str_t               *prefix;
    ngx_gp_cluster_topic_t  *t;

    len = ngx_strlen(topic);

    if (ngx_gp_cluster_ntopics == NGX_GP_CLUSTER_TOPICS
        || len > NGX_GP_CLUSTER_TOPIC_LEN)
    {
        return NGX_ERROR;
    }

    prefix = ngx_gp_cluster_prefix();
    t = &ngx_gp_cluster_topics[ngx_gp_cluster_ntopics++];

    ngx_snprintf(t->channel, sizeof(t->channel) - 1, "%V%s%Z", prefix,
                 topic);
    t->handler = handler;

    if (ngx_gp_cluster_sub_link.up) {
        redisAsyncCommand(ngx_gp_cluster_sub_link.ac,
                          ngx_gp_cluster_message, NULL, "SUBSCRIBE %s",
                          t->channel);
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_cluster_on_up(ngx_gp_cluster_up_pt handler)
{
    if (ngx_gp_cluster_nup == NGX_GP_CLUSTER_UP_HOOKS) {
        return NGX_ERROR;
    }

    ngx_gp_cluster_up_hooks[ngx_gp_cluster_nup++] = handler;

    return NGX_OK;
}


ngx_int_t
ngx_gp_cluster_init_process(ngx_cycle_t *cycle)
{
    ngx_gp_zone_t          *z;
    ngx_gp_cluster_conf_t  *cc;

    cc = ngx_gp_cluster_conf();
    z = ngx_gp_zone();

    if (cc == NULL) {
        return NGX_OK;
    }

    if (z) {
        ngx_shmtx_lock(&z->shpool->mutex);
        if (!z->sh->cluster.configured) {
            z->sh->cluster.configured = 1;
            z->sh->cluster.since = ngx_time();

            /*
             * round robin across gateways: each keeps its own cursor
             * (no Redis round trip per pick), started at a random
             * account so that gateways started together do not all
             * begin with the first (docs/cluster.md, the measured spread)
             */
            z->sh->rr_cursor = (ngx_uint_t) ngx_random();
        }
        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    ngx_gp_cluster_log = cycle->log;
    ngx_gp_cluster_running = 1;
    ngx_gp_cluster_exiting = 0;

    ngx_gp_cluster_sub_link.subscriber = 1;

    ngx_gp_cluster_connect(&ngx_gp_cluster_cmd_link);
    ngx_gp_cluster_connect(&ngx_gp_cluster_sub_link);

    return NGX_OK;
}


void
ngx_gp_cluster_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t              i;
    redisAsyncContext      *ac;
    ngx_gp_cluster_link_t  *l;

    if (!ngx_gp_cluster_running) {
        return;
    }

    ngx_gp_cluster_exiting = 1;

    for (i = 0; i < 2; i++) {
        l = i ? &ngx_gp_cluster_sub_link : &ngx_gp_cluster_cmd_link;

        if (l->retry.timer_set) {
            ngx_del_timer(&l->retry);
        }

        if (l->ping.timer_set) {
            ngx_del_timer(&l->ping);
        }

        l->up = 0;

        if (l->ac) {
            ac = l->ac;
            l->ac = NULL;
            redisAsyncFree(ac);
        }
    }

    ngx_gp_cluster_running = 0;
}


static void
ngx_gp_cluster_connect(ngx_gp_cluster_link_t *l)
{
    redisAsyncContext      *ac;
    ngx_gp_cluster_conf_t  *cc;

    cc = ngx_gp_cluster_conf();

    if (l->retry.handler == NULL) {
        l->dummy.fd = (ngx_socket_t) -1;
        l->retry.handler = ngx_gp_cluster_retry;
        l->retry.data = &l->dummy;
        l->retry.log = ngx_gp_cluster_log;
        l->retry.cancelable = 1;
        l->ping.handler = ngx_gp_cluster_ping;
        l->ping.data = &l->dummy;
        l->ping.log = ngx_gp_cluster_log;
        l->ping.cancelable = 1;
        l->dummy.data = l;
    }

    l->up = 0;
    l->ping_out = 0;

    if (cc->unix_path.len) {
        l->ac = redisAsyncConnectUnix((char *) cc->unix_path.data);

    } else {
        l->ac = redisAsyncConnect((char *) cc->host.data, cc->port);
    }

    if (l->ac == NULL) {
        ngx_gp_cluster_mark(0, "out of memory");
        ngx_gp_cluster_schedule(l);
        return;
    }

    if (l->ac->err) {
        ac = l->ac;
        l->ac = NULL;
        ngx_gp_cluster_mark(0, ac->errstr);
        redisAsyncFree(ac);
        ngx_gp_cluster_schedule(l);
        return;
    }

    l->ac->data = l;

    if (ngx_gp_cluster_attach(l) != NGX_OK) {
        ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac);
        ngx_gp_cluster_mark(0, "no free connection for Redis");
        ngx_gp_cluster_schedule(l);
        return;
    }

    redisAsyncSetConnectCallback(l->ac, ngx_gp_cluster_connected);
    redisAsyncSetDisconnectCallback(l->ac, ngx_gp_cluster_disconnected);

    /* queued until the socket is connected, answered in order */
    if (cc->password.len) {
        if (cc->user.len) {
            redisAsyncCommand(l->ac, ngx_gp_cluster_setup_done, "AUTH",
                              "AUTH %s %s", cc->user.data,
                              cc->password.data);

        } else {
            redisAsyncCommand(l->ac, ngx_gp_cluster_setup_done, "AUTH",
                              "AUTH %s", cc->password.data);
        }
    }

    if (cc->db) {
        redisAsyncCommand(l->ac, ngx_gp_cluster_setup_done, "SELECT",
                          "SELECT %d", (int) cc->db);
    }

    redisAsyncCommand(l->ac, ngx_gp_cluster_setup_done, NULL, "PING");

    /* TCP and the setup answered in time, else dropped and retried */
    ngx_add_timer(&l->retry, NGX_GP_CLUSTER_CONNECT_TIME);
}


/* the setup's replies: AUTH and SELECT must succeed; PING: up */

static void
ngx_gp_cluster_setup_done(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply             *reply = r;
    ngx_uint_t              i;
    ngx_gp_cluster_link_t  *l;
    u_char                  err[NGX_GP_CLUSTER_ERROR_LEN];

    l = ac->data;

    /* a context being freed (dropped) is no longer the link's */
    if (reply == NULL || l == NULL || l->ac != ac) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* the error text of AUTH never holds the password */
        ngx_snprintf(err, sizeof(err) - 1, "%s: %*s%Z",
                     privdata ? (char *) privdata : "PING",
                     (size_t) ngx_min(reply->len, 80), reply->str);
        ngx_gp_cluster_drop(l, (char *) err);
        return;
    }

    if (privdata != NULL) {
        return;
    }

    if (l->retry.timer_set) {
        ngx_del_timer(&l->retry);
    }

    l->up = 1;
    l->backoff = 0;
    ngx_gp_cluster_mark(1, NULL);

    if (l->subscriber) {
        for (i = 0; i < ngx_gp_cluster_ntopics; i++) {
            redisAsyncCommand(ac, ngx_gp_cluster_message, NULL,
                              "SUBSCRIBE %s",
                              ngx_gp_cluster_topics[i].channel);
        }

        return;
    }

    ngx_add_timer(&l->ping, NGX_GP_CLUSTER_PING_EVERY);

    for (i = 0; i < ngx_gp_cluster_nup; i++) {
        ngx_gp_cluster_up_hooks[i]();
    }
}


static void
ngx_gp_cluster_connected(const redisAsyncContext *ac, int status)
{
    ngx_gp_cluster_link_t  *l;

    l = ac->data;

    if (status == REDIS_OK || l == NULL || l->ac != ac) {
        return;
    }

    /* hiredis frees the context after this callback */
    ngx_gp_cluster_mark(0, ac->errstr);

    l->ac = NULL;
    l->up = 0;

    if (!ngx_gp_cluster_exiting) {
        ngx_gp_cluster_schedule(l);
    }
}


static void
ngx_gp_cluster_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_gp_cluster_link_t  *l;

    l = ac->data;

    /* a context we dropped ourselves: already dealt with */
    if (l == NULL || l->ac != ac) {
        return;
    }

    l->ac = NULL;
    l->up = 0;

    if (ngx_gp_cluster_exiting) {
        return;
    }

    ngx_gp_cluster_mark(0, status == REDIS_OK
                           ? "the connection was closed"
                           : (ac->errstr[0] ? ac->errstr
                                            : "the connection was lost"));

    ngx_gp_cluster_schedule(l);
}


/* drops the link now (its pending handlers get NULL) and retries */

static void
ngx_gp_cluster_drop(ngx_gp_cluster_link_t *l, const char *why)
{
    redisAsyncContext  *ac;

    ngx_gp_cluster_mark(0, why);

    if (l->ping.timer_set) {
        ngx_del_timer(&l->ping);
    }

    l->up = 0;

    if (l->ac) {
        /* from a callback hiredis frees it when the callback returns */
        ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac);
    }

    if (!ngx_gp_cluster_exiting) {
        ngx_gp_cluster_schedule(l);
    }
}


static void
ngx_gp_cluster_schedule(ngx_gp_cluster_link_t *l)
{
    if (l->ping.timer_set) {
        ngx_del_timer(&l->ping);
    }

    l->backoff = l->backoff ? ngx_min(l->backoff * 2, NGX_GP_CLUSTER_RETRY_MAX)
                            : NGX_GP_CLUSTER_RETRY_MIN;

    if (l->retry.timer_set) {
        ngx_del_timer(&l->retry);
    }

    ngx_add_timer(&l->retry, l->backoff);
}


static void
ngx_gp_cluster_retry(ngx_event_t *ev)
{
    ngx_connection_t       *dummy;
    ngx_gp_cluster_link_t  *l;

    dummy = ev->data;
    l = dummy->data;

    if (ngx_gp_cluster_exiting) {
        return;
    }

    if (l->ac) {
        /* not up in time */
        ngx_gp_cluster_drop(l, "no answer from Redis within 2 s");
        return;
    }

    ngx_gp_cluster_connect(l);
}


static void
ngx_gp_cluster_ping(ngx_event_t *ev)
{
    ngx_connection_t       *dummy;
    ngx_gp_cluster_link_t  *l;

    dummy = ev->data;
    l = dummy->data;

    if (ngx_gp_cluster_exiting || l->ac == NULL || !l->up) {
        return;
    }

    if (l->ping_out) {
        if (ngx_current_msec - l->ping_sent >= NGX_GP_CLUSTER_PING_TIMEOUT) {
            /* a Redis that stopped answering: both connections go */
            ngx_gp_cluster_drop(&ngx_gp_cluster_sub_link,
                                "Redis did not answer a PING within 3 s");
            ngx_gp_cluster_drop(l, "Redis did not answer a PING within 3 s");
            return;
        }

    } else {
        l->ping_out = 1;
        l->ping_sent = ngx_current_msec;
        redisAsyncCommand(l->ac, ngx_gp_cluster_ping_done, NULL, "PING");
    }

    ngx_add_timer(&l->ping, NGX_GP_CLUSTER_PING_EVERY);
}


static void
ngx_gp_cluster_ping_done(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_gp_cluster_link_t  *l;

    l = ac->data;

    if (r != NULL && l != NULL && l->ac == ac) {
        l->ping_out = 0;
    }
}


/* the subscriber's replies: ["message", channel, payload] */

static void
ngx_gp_cluster_message(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply  *reply = r;
    ngx_uint_t   i;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 7
        || ngx_strncmp(reply->element[0]->str, "message", 7) != 0
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    ngx_gp_cluster_count(0, 0, 1);

    for (i = 0; i < ngx_gp_cluster_ntopics; i++) {
        if (ngx_strcmp(ngx_gp_cluster_topics[i].channel,
                       reply->element[1]->str) == 0)
        {
            ngx_gp_cluster_topics[i].handler(
                (u_char *) reply->element[2]->str, reply->element[2]->len);
            return;
        }
    }
}


ngx_gp_cluster_cmd_t *
ngx_gp_cluster_command(int argc, const char **argv, const size_t *argvlen,
    ngx_msec_t timeout, ngx_gp_cluster_pt handler, void *data)
{
    ngx_gp_cluster_cmd_t   *cmd;
    ngx_gp_cluster_link_t  *l;

    l = &ngx_gp_cluster_cmd_link;

    if (!ngx_gp_cluster_running || !l->up || l->ac == NULL) {
        return NULL;
    }

    if (handler == NULL) {
        if (redisAsyncCommandArgv(l->ac, NULL, NULL, argc, argv, argvlen)
            != REDIS_OK)
        {
            return NULL;
        }

        ngx_gp_cluster_count(1, 0, 0);
        return (ngx_gp_cluster_cmd_t *) l;
    }

    cmd = ngx_alloc(sizeof(ngx_gp_cluster_cmd_t), ngx_gp_cluster_log);
    if (cmd == NULL) {
        return NULL;
    }

    ngx_memzero(cmd, sizeof(ngx_gp_cluster_cmd_t));
    cmd->handler = handler;
    cmd->data = data;

    if (redisAsyncCommandArgv(l->ac, ngx_gp_cluster_reply, cmd, argc, argv,
                              argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NULL;
    }

    ngx_gp_cluster_count(1, 0, 0);

    if (timeout) {
        cmd->dummy.fd = (ngx_socket_t) -1;
        cmd->dummy.data = cmd;
        cmd->timer.handler = ngx_gp_cluster_timeout;
        cmd->timer.data = &cmd->dummy;
        cmd->timer.log = ngx_gp_cluster_log;
        cmd->timer.cancelable = 1;
        ngx_add_timer(&cmd->timer, timeout);
    }

    return cmd;
}


void *
ngx_gp_cluster_cancel(ngx_gp_cluster_cmd_t *cmd)
{
    if (cmd == NULL || cmd == (ngx_gp_cluster_cmd_t *) &ngx_gp_cluster_cmd_link)
    {
        return NULL;
    }

    cmd->handler = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    return cmd->data;
}


static void
ngx_gp_cluster_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_gp_cluster_cmd_t  *cmd = privdata;
    ngx_gp_cluster_pt      handler;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    handler = cmd->handler;
    cmd->handler = NULL;

    if (handler) {
        if (r == NULL) {
            ngx_gp_cluster_count(0, 1, 0);
        }

        handler(cmd->data, r);
    }

    ngx_free(cmd);
}


static void
ngx_gp_cluster_timeout(ngx_event_t *ev)
{
    ngx_connection_t      *dummy;
    ngx_gp_cluster_cmd_t  *cmd;
    ngx_gp_cluster_pt      handler;

    dummy = ev->data;
    cmd = dummy->data;

    /* the reply may still come: the struct lives until then */
    handler = cmd->handler;
    cmd->handler = NULL;

    if (handler) {
        ngx_gp_cluster_count(0, 1, 0);
        handler(cmd->data, NULL);
    }
}


ngx_int_t
ngx_gp_cluster_publish(const char *topic, const u_char *msg, size_t len)
{
    ngx_str_t   *prefix;
    const char  *argv[3];
    size_t       argvlen[3];
    u_char       channel[NGX_GP_CLUSTER_TOPIC_LEN + 64], *p;

    prefix = ngx_gp_cluster_prefix();
    p = ngx_snprintf(channel, sizeof(channel), "%V%s", prefix, topic);

    argv[0] = "PUBLISH";
    argvlen[0] = 7;
    argv[1] = (char *) channel;
    argvlen[1] = p - channel;
    argv[2] = (char *) msg;
    argvlen[2] = len;

    if (ngx_gp_cluster_command(3, argv, argvlen, 0, NULL, NULL) == NULL) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The state in the zone; a transition is logged once, by the process
 * that sees it first (the others find the zone already in that state).
 */

static void
ngx_gp_cluster_mark(ngx_uint_t up, const char *error)
{
    ngx_gp_zone_t           *z;
    ngx_uint_t               changed;
    ngx_gp_cluster_state_t  *st;
    ngx_gp_cluster_conf_t   *cc;

    z = ngx_gp_zone();
    cc = ngx_gp_cluster_conf();

    if (z == NULL || cc == NULL || ngx_gp_cluster_exiting) {
        return;
    }

    st = &z->sh->cluster;

    ngx_shmtx_lock(&z->shpool->mutex);

    changed = (st->up != up) || st->transitions == 0;

    if (changed) {
        st->up = up;
        st->since = ngx_time();
        st->last_change = st->since;
        st->transitions++;
    }

    if (error) {
        ngx_cpystrn(st->last_error, (u_char *) error,
                    sizeof(st->last_error));
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (!changed) {
        return;
    }

    if (up) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_gp_cluster_log, 0,
                      "gemini pool: Redis at %V is up", &cc->where);

    } else {
        ngx_log_error(NGX_LOG_WARN, ngx_gp_cluster_log, 0,
                      "gemini pool: Redis at %V is down (%s): serving "
                      "from local state until it returns", &cc->where,
                      error ? error : "no connection");
    }
}


static void
ngx_gp_cluster_count(ngx_uint_t commands, ngx_uint_t failures,
    ngx_uint_t messages)
{
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    if (z == NULL) {
        return;
    }

    /* counters for the metrics: no lock (a lost increment is harmless) */
    if (commands) {
        z->sh->cluster.commands += commands;
    }

    if (failures) {
        z->sh->cluster.failures += failures;
    }

    if (messages) {
        z->sh->cluster.messages += messages;
    }
}


void
ngx_gp_cluster_fallback(void)
{
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    if (z) {
        z->sh->cluster.local_fallbacks++;
    }
}


void
ngx_gp_cluster_state(ngx_gp_cluster_state_t *st)
{
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    if (z == NULL) {
        ngx_memzero(st, sizeof(ngx_gp_cluster_state_t));
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    *st = z->sh->cluster;
    ngx_shmtx_unlock(&z->shpool->mutex);

    st->configured = ngx_gp_cluster_enabled();
}


/* the adapter */

static ngx_int_t
ngx_gp_cluster_attach(ngx_gp_cluster_link_t *l)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(l->ac->c.fd, ngx_gp_cluster_log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = l;
    c->read->handler = ngx_gp_cluster_read;
    c->write->handler = ngx_gp_cluster_write;
    c->read->log = ngx_gp_cluster_log;
    c->write->log = ngx_gp_cluster_log;

    l->c = c;

    l->ac->ev.data = l;
    l->ac->ev.addRead = ngx_gp_cluster_add_read;
    l->ac->ev.delRead = ngx_gp_cluster_del_read;
    l->ac->ev.addWrite = ngx_gp_cluster_add_write;
    l->ac->ev.delWrite = ngx_gp_cluster_del_write;
    l->ac->ev.cleanup = ngx_gp_cluster_cleanup;

    return NGX_OK;
}


static void
ngx_gp_cluster_read(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_gp_cluster_link_t  *l;

    c = ev->data;
    l = c->data;

    /* may free the context, and with it this connection */
    redisAsyncHandleRead(l->ac);
}


static void
ngx_gp_cluster_write(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_gp_cluster_link_t  *l;

    c = ev->data;
    l = c->data;

    redisAsyncHandleWrite(l->ac);
}


static void
ngx_gp_cluster_add_read(void *privdata)
{
    ngx_gp_cluster_link_t  *l = privdata;

    if (l->c && !l->c->read->active) {
        (void) ngx_add_event(l->c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_gp_cluster_del_read(void *privdata)
{
    ngx_gp_cluster_link_t  *l = privdata;

    if (l->c && l->c->read->active) {
        (void) ngx_del_event(l->c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_gp_cluster_add_write(void *privdata)
{
    ngx_gp_cluster_link_t  *l = privdata;

    if (l->c && !l->c->write->active) {
        (void) ngx_add_event(l->c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_gp_cluster_del_write(void *privdata)
{
    ngx_gp_cluster_link_t  *l = privdata;

    if (l->c && l->c->write->active) {
        (void) ngx_del_event(l->c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself, after this */

static void
ngx_gp_cluster_cleanup(void *privdata)
{
    ngx_gp_cluster_link_t  *l = privdata;
    ngx_connection_t       *c;

    c = l->c;

    if (c == NULL) {
        return;
    }

    ngx_gp_cluster_del_read(l);
    ngx_gp_cluster_del_write(l);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    l->c = NULL;
}
