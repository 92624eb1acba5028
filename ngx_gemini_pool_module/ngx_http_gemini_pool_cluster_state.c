
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The shared hot state on Redis, with the zone as its local cache
 * (docs/cluster.md): what one gateway learns, the others apply to their
 * zone, so that no chat turn waits for Redis where it can be avoided.
 *
 *   cooldowns and the expired flag   HSET <prefix>cooldowns
 *                                    "<name>/<quota>" <until>,
 *                                    "<name>/expired" <since>,
 *                                    PUBLISH <prefix>cooldown
 *                                    "<quota> <until> <expired> <name>";
 *                                    re-read whole (HGETALL) after each
 *                                    (re)connection
 *   conversation bindings            SET <prefix>b:<key in hex>
 *                                    "<created>\x1f<name>\x1f<session>"
 *                                    EX session_max_age (a day when 0);
 *                                    GET on a local miss
 *   API-key counts                   <prefix>k:<sha256 hex>:m:<minute>
 *                                    and :d:<day>, checked and counted
 *                                    by one Lua script (EVALSHA, loaded
 *                                    after each connection)
 *   re-login leases                  SET <prefix>lease:<name> <token>
 *                                    NX PX, renewed while held
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_cluster_cooldown_msg(const u_char *msg, size_t len);
static void ngx_gp_cluster_cooldowns_read(void);
static void ngx_gp_cluster_cooldowns_done(void *data, redisReply *reply);
static u_char *ngx_gp_cluster_binding_key(u_char *buf, const u_char *key);
static void ngx_gp_cluster_binding_done(void *data, redisReply *reply);


/* a binding's GET in flight: the caller and the key */
typedef struct {
    ngx_gp_cluster_found_pt   handler;
    void                     *data;
    u_char                    key[NGX_GP_KEY_LEN];
} ngx_gp_cluster_lookup_t;

#define NGX_GP_CLUSTER_BINDING_TTL  86400


/* a key's count in flight */
typedef struct {
    ngx_gp_cluster_count_pt   handler;
    void                     *data;
    time_t                    minute;
    time_t                    day;
} ngx_gp_cluster_counting_t;


/*
 * KEYS: the minute's and the day's counter; ARGV: rpm, rpd (0: none), the
 * counters' lives.  0: counted; 1: the minute's limit; 2: the day's.
 */
static const char  ngx_gp_cluster_count_lua[] =
    "local m = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "local d = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "local rpm = tonumber(ARGV[1]) local rpd = tonumber(ARGV[2]) "
    "if rpm > 0 and m >= rpm then return 1 end "
    "if rpd > 0 and d >= rpd then return 2 end "
    "redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[3]) "
    "redis.call('INCR', KEYS[2]) redis.call('EXPIRE', KEYS[2], ARGV[4]) "
    "return 0";

/* its SHA-1, from SCRIPT LOAD ("": not loaded, EVAL it) */
static u_char  ngx_gp_cluster_count_sha[41];

/* a lease asked for, and the leases this process holds */
typedef struct {
    ngx_gp_cluster_lease_pt   handler;
    void                     *data;
    u_char                    name[NGX_GP_NAME_LEN];
} ngx_gp_cluster_asking_t;

static u_char       ngx_gp_cluster_leases[NGX_GP_CLUSTER_LEASES]
                                         [NGX_GP_NAME_LEN];
static u_char       ngx_gp_cluster_token[128];
static size_t       ngx_gp_cluster_token_len;
static ngx_event_t  ngx_gp_cluster_renew_ev;
static ngx_connection_t  ngx_gp_cluster_renew_dummy;

/* KEYS[1]: the lease; ARGV: the token, its new life in ms */
static const char  ngx_gp_cluster_lease_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

static void ngx_gp_cluster_lease_done(void *data, redisReply *reply);
static void ngx_gp_cluster_lease_renew(ngx_event_t *ev);
static void ngx_gp_cluster_lease_expire(const u_char *name, ngx_msec_t ms);
static void ngx_gp_cluster_script_load(void);
static void ngx_gp_cluster_script_loaded(void *data, redisReply *reply);
static void ngx_gp_cluster_key_counted(void *data, redisReply *reply);


ngx_int_t
ngx_gp_cluster_state_init_process(ngx_cycle_t *cycle)
{
    u_char  *p;

    if (!ngx_gp_cluster_enabled()) {
        return NGX_OK;
    }

    /* whose lease: this host and process, and a random part */
    p = ngx_snprintf(ngx_gp_cluster_token, sizeof(ngx_gp_cluster_token),
                     "%V/%P/%08xD%08xD", &cycle->hostname, ngx_pid,
                     (uint32_t) ngx_random(), (uint32_t) ngx_random());
    ngx_gp_cluster_token_len = p - ngx_gp_cluster_token;

    ngx_gp_cluster_renew_dummy.fd = (ngx_socket_t) -1;
    ngx_gp_cluster_renew_ev.handler = ngx_gp_cluster_lease_renew;
    ngx_gp_cluster_renew_ev.data = &ngx_gp_cluster_renew_dummy;
    ngx_gp_cluster_renew_ev.log = cycle->log;
    ngx_gp_cluster_renew_ev.cancelable = 1;

    if (ngx_gp_cluster_subscribe("cooldown", ngx_gp_cluster_cooldown_msg)
        != NGX_OK
        || ngx_gp_cluster_on_up(ngx_gp_cluster_cooldowns_read) != NGX_OK
        || ngx_gp_cluster_on_up(ngx_gp_cluster_script_load) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_cluster_init_process(cycle);
}


/*
 * After the zone took a cooldown or the expired flag (upstream.c,
 * relogin.c): tell the others.  Redis down: the cooldown stays local.
 */

void
ngx_gp_cluster_cooldown(const u_char *name, ngx_uint_t quota, time_t until,
    ngx_uint_t expired)
{
    size_t       n;
    ngx_str_t   *prefix;
    const char  *argv[6];
    size_t       argvlen[6];
    u_char       key[128], field[NGX_GP_NAME_LEN + 16];
    u_char       field2[NGX_GP_NAME_LEN + 16], val[NGX_INT_T_LEN];
    u_char       val2[NGX_INT_T_LEN], msg[NGX_GP_NAME_LEN + 64], *p;

    if (!ngx_gp_cluster_up()) {
        if (ngx_gp_cluster_enabled()) {
            ngx_gp_cluster_fallback();
        }

        return;
    }

    n = ngx_strlen(name);
    prefix = ngx_gp_cluster_prefix();

    argv[0] = "HSET";
    argvlen[0] = 4;

    p = ngx_snprintf(key, sizeof(key), "%Vcooldowns", prefix);
    argv[1] = (char *) key;
    argvlen[1] = p - key;

    p = ngx_snprintf(field, sizeof(field), "%*s/%ui", n, name, quota);
    argv[2] = (char *) field;
    argvlen[2] = p - field;

    p = ngx_snprintf(val, sizeof(val), "%T", until);
    argv[3] = (char *) val;
    argvlen[3] = p - val;

    if (expired) {
        p = ngx_snprintf(field2, sizeof(field2), "%*s/expired", n, name);
        argv[4] = (char *) field2;
        argvlen[4] = p - field2;

        p = ngx_snprintf(val2, sizeof(val2), "%T", ngx_time());
        argv[5] = (char *) val2;
        argvlen[5] = p - val2;
    }

    (void) ngx_gp_cluster_command(expired ? 6 : 4, argv, argvlen, 0, NULL,
                                  NULL);

    p = ngx_snprintf(msg, sizeof(msg), "%ui %T %ui %*s", quota, until,
                     expired ? 1 : 0, n, name);

    (void) ngx_gp_cluster_publish("cooldown", msg, p - msg);
}


void
ngx_gp_cluster_expired_clear(const u_char *name)
{
    const char  *argv[3];
    size_t       argvlen[3];
    u_char       key[128], field[NGX_GP_NAME_LEN + 16], *p;

    if (!ngx_gp_cluster_up()) {
        return;
    }

    argv[0] = "HDEL";
    argvlen[0] = 4;

    p = ngx_snprintf(key, sizeof(key), "%Vcooldowns",
                     ngx_gp_cluster_prefix());
    argv[1] = (char *) key;
    argvlen[1] = p - key;

    p = ngx_snprintf(field, sizeof(field), "%s/expired", name);
    argv[2] = (char *) field;
    argvlen[2] = p - field;

    (void) ngx_gp_cluster_command(3, argv, argvlen, 0, NULL, NULL);
}


/* "<quota> <until> <expired> <name>" */

static void
ngx_gp_cluster_cooldown_msg(const u_char *msg, size_t len)
{
    ngx_int_t       quota, until, expired;
    const u_char   *p, *last, *s;
    ngx_gp_zone_t  *z;

    p = msg;
    last = msg + len;

    s = ngx_strlchr((u_char *) p, (u_char *) last, ' ');
    if (s == NULL || (quota = ngx_atoi((u_char *) p, s - p)) == NGX_ERROR) {
        return;
    }

    p = s + 1;
    s = ngx_strlchr((u_char *) p, (u_char *) last, ' ');
    if (s == NULL || (until = ngx_atoi((u_char *) p, s - p)) == NGX_ERROR) {
        return;
    }

    p = s + 1;
    s = ngx_strlchr((u_char *) p, (u_char *) last, ' ');
    if (s == NULL || (expired = ngx_atoi((u_char *) p, s - p)) == NGX_ERROR)
    {
        return;
    }

    p = s + 1;

    z = ngx_gp_zone();

    if (z && ngx_gp_zone_cooldown_remote(z, p, last - p, quota, until,
                                         expired)
             == NGX_OK)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "gemini pool: cluster cooldown of \"%*s\"",
                       last - p, p);
    }
}


/* after each (re)connection: what pub/sub may have missed */

static void
ngx_gp_cluster_cooldowns_read(void)
{
    ngx_str_t   *prefix;
    const char  *argv[2];
    size_t       argvlen[2];
    u_char       key[128], *p;

    prefix = ngx_gp_cluster_prefix();
    p = ngx_snprintf(key, sizeof(key), "%Vcooldowns", prefix);

    argv[0] = "HGETALL";
    argvlen[0] = 7;
    argv[1] = (char *) key;
    argvlen[1] = p - key;

    (void) ngx_gp_cluster_command(2, argv, argvlen, 0,
                                  ngx_gp_cluster_cooldowns_done, NULL);
}


static void
ngx_gp_cluster_cooldowns_done(void *data, redisReply *reply)
{
    size_t          i;
    time_t          now;
    ngx_int_t       quota, v;
    redisReply     *f, *val;
    ngx_gp_zone_t  *z;
    u_char         *slash, *last;

    z = ngx_gp_zone();

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || z == NULL) {
        return;
    }

    now = ngx_time();

    for (i = 0; i + 1 < reply->elements; i += 2) {
        f = reply->element[i];
        val = reply->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        last = (u_char *) f->str + f->len;
        slash = NULL;

        for (slash = last; slash > (u_char *) f->str; slash--) {
            if (slash[-1] == '/') {
                break;
            }
        }

        if (slash == (u_char *) f->str) {
            continue;
        }

        v = ngx_atoi((u_char *) val->str, val->len);
        if (v == NGX_ERROR) {
            continue;
        }

        if (last - slash == 7 && ngx_strncmp(slash, "expired", 7) == 0) {
            (void) ngx_gp_zone_cooldown_remote(z, (u_char *) f->str,
                                               slash - 1 - (u_char *) f->str,
                                               NGX_GP_QUOTA_TEXT, 0, 1);
            continue;
        }

        quota = ngx_atoi(slash, last - slash);

        if (quota == NGX_ERROR || v <= now) {
            continue;
        }

        (void) ngx_gp_zone_cooldown_remote(z, (u_char *) f->str,
                                           slash - 1 - (u_char *) f->str,
                                           quota, v, 0);
    }
}


static u_char *
ngx_gp_cluster_binding_key(u_char *buf, const u_char *key)
{
    u_char  *p;

    p = ngx_sprintf(buf, "%Vb:", ngx_gp_cluster_prefix());

    return ngx_hex_dump(p, (u_char *) key, NGX_GP_KEY_LEN);
}


void
ngx_gp_cluster_binding_put(const u_char *key, const u_char *name,
    time_t created, const char *session)
{
    time_t          ttl;
    ngx_gp_zone_t  *z;
    const char     *argv[5];
    size_t          argvlen[5];
    u_char          k[64 + 2 * NGX_GP_KEY_LEN + 8];
    u_char          v[NGX_INT_T_LEN + NGX_GP_NAME_LEN + NGX_GP_SESSION_LEN];
    u_char          t[NGX_INT_T_LEN], *p;

    if (!ngx_gp_cluster_up()) {
        return;
    }

    z = ngx_gp_zone();
    ttl = z ? ngx_gp_setting_int(z, NGX_GP_SET_SESSION_MAX_AGE) : 0;

    if (ttl <= 0) {
        ttl = NGX_GP_CLUSTER_BINDING_TTL;
    }

    argv[0] = "SET";
    argvlen[0] = 3;

    p = ngx_gp_cluster_binding_key(k, key);
    argv[1] = (char *) k;
    argvlen[1] = p - k;

    p = ngx_snprintf(v, sizeof(v), "%T\x1f%s\x1f%s", created, name,
                     session);
    argv[2] = (char *) v;
    argvlen[2] = p - v;

    argv[3] = "EX";
    argvlen[3] = 2;

    p = ngx_snprintf(t, sizeof(t), "%T", ttl);
    argv[4] = (char *) t;
    argvlen[4] = p - t;

    (void) ngx_gp_cluster_command(5, argv, argvlen, 0, NULL, NULL);
}


void
ngx_gp_cluster_binding_delete(const u_char *key)
{
    const char  *argv[2];
    size_t       argvlen[2];
    u_char       k[64 + 2 * NGX_GP_KEY_LEN + 8], *p;

    if (!ngx_gp_cluster_up()) {
        return;
    }

    argv[0] = "DEL";
    argvlen[0] = 3;

    p = ngx_gp_cluster_binding_key(k, key);
    argv[1] = (char *) k;
    argvlen[1] = p - k;

    (void) ngx_gp_cluster_command(2, argv, argvlen, 0, NULL, NULL);
}


ngx_gp_cluster_cmd_t *
ngx_gp_cluster_binding_get(const u_char *key, ngx_gp_cluster_found_pt handler,
    void *data)
{
    const char               *argv[2];
    size_t                    argvlen[2];
    ngx_gp_cluster_cmd_t     *cmd;
    ngx_gp_cluster_lookup_t  *lk;
    u_char                    k[64 + 2 * NGX_GP_KEY_LEN + 8], *p;

    if (!ngx_gp_cluster_up()) {
        return NULL;
    }

    lk = ngx_alloc(sizeof(ngx_gp_cluster_lookup_t), ngx_cycle->log);
    if (lk == NULL) {
        return NULL;
    }

    lk->handler = handler;
    lk->data = data;
    ngx_memcpy(lk->key, key, NGX_GP_KEY_LEN);

    argv[0] = "GET";
    argvlen[0] = 3;

    p = ngx_gp_cluster_binding_key(k, key);
    argv[1] = (char *) k;
    argvlen[1] = p - k;

    cmd = ngx_gp_cluster_command(2, argv, argvlen, NGX_GP_CLUSTER_WAIT,
                                 ngx_gp_cluster_binding_done, lk);
    if (cmd == NULL) {
        ngx_free(lk);
    }

    return cmd;
}


void
ngx_gp_cluster_binding_cancel(ngx_gp_cluster_cmd_t *cmd)
{
    ngx_free(ngx_gp_cluster_cancel(cmd));
}


/* "<created>\x1f<name>\x1f<session>": into the zone by the local id */

static void
ngx_gp_cluster_binding_done(void *data, redisReply *reply)
{
    ngx_gp_cluster_lookup_t  *lk = data;

    u_char          *p, *last, *s1, *s2;
    int64_t          id;
    ngx_int_t        created;
    ngx_uint_t       found;
    ngx_gp_zone_t   *z;
    u_char           session[NGX_GP_SESSION_LEN];

    found = 0;
    z = ngx_gp_zone();

    if (reply == NULL) {
        ngx_gp_cluster_fallback();
    }

    if (z && reply && reply->type == REDIS_REPLY_STRING) {
        p = (u_char *) reply->str;
        last = p + reply->len;

        s1 = ngx_strlchr(p, last, 0x1f);
        s2 = s1 ? ngx_strlchr(s1 + 1, last, 0x1f) : NULL;

        if (s2 && (size_t) (last - s2 - 1) < sizeof(session)
            && (created = ngx_atoi(p, s1 - p)) != NGX_ERROR)
        {
            id = ngx_gp_zone_account_id(z, s1 + 1, s2 - s1 - 1);

            if (id) {
                ngx_memcpy(session, s2 + 1, last - s2 - 1);
                session[last - s2 - 1] = '\0';

                ngx_gp_zone_binding_set(z, lk->key, id, created,
                                        (char *) session);
                found = 1;
            }
        }
    }

    lk->handler(lk->data, found);

    ngx_free(lk);
}


static void
ngx_gp_cluster_script_load(void)
{
    const char  *argv[3];
    size_t       argvlen[3];

    ngx_gp_cluster_count_sha[0] = '\0';

    argv[0] = "SCRIPT";
    argvlen[0] = 6;
    argv[1] = "LOAD";
    argvlen[1] = 4;
    argv[2] = ngx_gp_cluster_count_lua;
    argvlen[2] = sizeof(ngx_gp_cluster_count_lua) - 1;

    (void) ngx_gp_cluster_command(3, argv, argvlen, 0,
                                  ngx_gp_cluster_script_loaded, NULL);
}


static void
ngx_gp_cluster_script_loaded(void *data, redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        ngx_memcpy(ngx_gp_cluster_count_sha, reply->str, 40);
        ngx_gp_cluster_count_sha[40] = '\0';
    }
}


ngx_gp_cluster_cmd_t *
ngx_gp_cluster_key_count(const u_char *hash, ngx_uint_t rpm, ngx_uint_t rpd,
    ngx_gp_cluster_count_pt handler, void *data)
{
    time_t                      now;
    ngx_str_t                  *prefix;
    const char                 *argv[9];
    size_t                      argvlen[9];
    ngx_gp_cluster_cmd_t       *cmd;
    ngx_gp_cluster_counting_t  *ct;
    u_char                      km[160], kd[160], a1[NGX_INT_T_LEN];
    u_char                      a2[NGX_INT_T_LEN], hex[65], *p;

    if (rpm == 0 && rpd == 0) {
        return NULL;
    }

    if (!ngx_gp_cluster_up()) {
        if (ngx_gp_cluster_enabled()) {
            /* the zone's count decided alone */
            ngx_gp_cluster_fallback();
        }

        return NULL;
    }

    ct = ngx_alloc(sizeof(ngx_gp_cluster_counting_t), ngx_cycle->log);
    if (ct == NULL) {
        return NULL;
    }

    now = ngx_time();
    ct->handler = handler;
    ct->data = data;
    ct->minute = now - now % 60;
    ct->day = now - now % 86400;

    prefix = ngx_gp_cluster_prefix();
    *ngx_hex_dump(hex, (u_char *) hash, 32) = '\0';

    if (ngx_gp_cluster_count_sha[0]) {
        argv[0] = "EVALSHA";
        argvlen[0] = 7;
        argv[1] = (char *) ngx_gp_cluster_count_sha;
        argvlen[1] = 40;

    } else {
        argv[0] = "EVAL";
        argvlen[0] = 4;
        argv[1] = ngx_gp_cluster_count_lua;
        argvlen[1] = sizeof(ngx_gp_cluster_count_lua) - 1;
    }

    argv[2] = "2";
    argvlen[2] = 1;

    p = ngx_snprintf(km, sizeof(km), "%Vk:%s:m:%T", prefix, hex,
                     ct->minute);
    argv[3] = (char *) km;
    argvlen[3] = p - km;

    p = ngx_snprintf(kd, sizeof(kd), "%Vk:%s:d:%T", prefix, hex, ct->day);
    argv[4] = (char *) kd;
    argvlen[4] = p - kd;

    p = ngx_snprintf(a1, sizeof(a1), "%ui", rpm);
    argv[5] = (char *) a1;
    argvlen[5] = p - a1;

    p = ngx_snprintf(a2, sizeof(a2), "%ui", rpd);
    argv[6] = (char *) a2;
    argvlen[6] = p - a2;

    /* ARGV[3], ARGV[4]: a minute and a day, and a margin for the clocks */
    argv[7] = "120";
    argvlen[7] = 3;
    argv[8] = "90000";
    argvlen[8] = 5;

    cmd = ngx_gp_cluster_command(9, argv, argvlen, NGX_GP_CLUSTER_WAIT,
                                 ngx_gp_cluster_key_counted, ct);

    if (cmd == NULL) {
        ngx_free(ct);
        ngx_gp_cluster_fallback();
    }

    return cmd;
}


void
ngx_gp_cluster_key_cancel(ngx_gp_cluster_cmd_t *cmd)
{
    ngx_free(ngx_gp_cluster_cancel(cmd));
}


static void
ngx_gp_cluster_key_counted(void *data, redisReply *reply)
{
    ngx_gp_cluster_counting_t  *ct = data;

    time_t                    now, retry;
    ngx_gp_cluster_count_pt   handler;

    now = ngx_time();
    retry = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        /* no answer in time, or NOSCRIPT: the local count decided */
        ngx_gp_cluster_fallback();

        if (reply && reply->type == REDIS_REPLY_ERROR
            && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
        {
            ngx_gp_cluster_script_load();
        }

    } else if (reply->integer == 1) {
        retry = ngx_max(ct->minute + 60 - now, 1);

    } else if (reply->integer == 2) {
        retry = ngx_max(ct->day + 86400 - now, 1);
    }

    handler = ct->handler;
    data = ct->data;
    ngx_free(ct);

    handler(data, retry);
}


ngx_gp_cluster_cmd_t *
ngx_gp_cluster_lease_take(const u_char *name, ngx_gp_cluster_lease_pt handler,
    void *data)
{
    const char               *argv[6];
    size_t                    argvlen[6];
    ngx_gp_cluster_cmd_t     *cmd;
    ngx_gp_cluster_asking_t  *a;
    u_char                    key[64 + NGX_GP_NAME_LEN + 8], *p;
    u_char                    ttl[NGX_INT_T_LEN];

    if (!ngx_gp_cluster_up()) {
        if (ngx_gp_cluster_enabled()) {
            ngx_gp_cluster_fallback();
        }

        return NULL;
    }

    a = ngx_alloc(sizeof(ngx_gp_cluster_asking_t), ngx_cycle->log);
    if (a == NULL) {
        return NULL;
    }

    a->handler = handler;
    a->data = data;
    ngx_cpystrn(a->name, (u_char *) name, NGX_GP_NAME_LEN);

    argv[0] = "SET";
    argvlen[0] = 3;

    p = ngx_snprintf(key, sizeof(key), "%Vlease:%s", ngx_gp_cluster_prefix(),
                     name);
    argv[1] = (char *) key;
    argvlen[1] = p - key;

    argv[2] = (char *) ngx_gp_cluster_token;
    argvlen[2] = ngx_gp_cluster_token_len;
    argv[3] = "NX";
    argvlen[3] = 2;
    argv[4] = "PX";
    argvlen[4] = 2;

    p = ngx_snprintf(ttl, sizeof(ttl), "%M",
                     (ngx_msec_t) NGX_GP_CLUSTER_LEASE_TTL);
    argv[5] = (char *) ttl;
    argvlen[5] = p - ttl;

    cmd = ngx_gp_cluster_command(6, argv, argvlen, NGX_GP_CLUSTER_WAIT,
                                 ngx_gp_cluster_lease_done, a);
    if (cmd == NULL) {
        ngx_free(a);
    }

    return cmd;
}


void
ngx_gp_cluster_lease_cancel(ngx_gp_cluster_cmd_t *cmd)
{
    ngx_free(ngx_gp_cluster_cancel(cmd));
}


/* "OK": ours; nil: another gateway's; no answer: run it here */

static void
ngx_gp_cluster_lease_done(void *data, redisReply *reply)
{
    ngx_gp_cluster_asking_t  *a = data;

    ngx_uint_t                i, got;
    ngx_gp_cluster_lease_pt   handler;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_gp_cluster_fallback();
        got = 1;

    } else {
        got = (reply->type == REDIS_REPLY_STATUS);
    }

    if (got && reply && reply->type == REDIS_REPLY_STATUS) {
        for (i = 0; i < NGX_GP_CLUSTER_LEASES; i++) {
            if (ngx_gp_cluster_leases[i][0] == '\0') {
                ngx_cpystrn(ngx_gp_cluster_leases[i], a->name,
                            NGX_GP_NAME_LEN);
                break;
            }
        }

        if (!ngx_gp_cluster_renew_ev.timer_set) {
            ngx_add_timer(&ngx_gp_cluster_renew_ev,
                          NGX_GP_CLUSTER_LEASE_RENEW);
        }
    }

    handler = a->handler;
    data = a->data;
    ngx_free(a);

    handler(data, got);
}


void
ngx_gp_cluster_lease_end(const u_char *name)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_CLUSTER_LEASES; i++) {
        if (ngx_strcmp(ngx_gp_cluster_leases[i], name) == 0) {
            ngx_gp_cluster_leases[i][0] = '\0';
        }
    }

    ngx_gp_cluster_lease_expire(name, NGX_GP_CLUSTER_LEASE_SETTLE);
}


static void
ngx_gp_cluster_lease_renew(ngx_event_t *ev)
{
    ngx_uint_t  i, held;

    held = 0;

    for (i = 0; i < NGX_GP_CLUSTER_LEASES; i++) {
        if (ngx_gp_cluster_leases[i][0]) {
            ngx_gp_cluster_lease_expire(ngx_gp_cluster_leases[i],
                                        NGX_GP_CLUSTER_LEASE_TTL);
            held++;
        }
    }

    if (held) {
        ngx_add_timer(ev, NGX_GP_CLUSTER_LEASE_RENEW);
    }
}


/* the lease's life, when it is still this process's */

static void
ngx_gp_cluster_lease_expire(const u_char *name, ngx_msec_t ms)
{
    const char  *argv[6];
    size_t       argvlen[6];
    u_char       key[64 + NGX_GP_NAME_LEN + 8], t[NGX_INT_T_LEN], *p;

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_gp_cluster_lease_lua;
    argvlen[1] = sizeof(ngx_gp_cluster_lease_lua) - 1;
    argv[2] = "1";
    argvlen[2] = 1;

    p = ngx_snprintf(key, sizeof(key), "%Vlease:%s", ngx_gp_cluster_prefix(),
                     name);
    argv[3] = (char *) key;
    argvlen[3] = p - key;

    argv[4] = (char *) ngx_gp_cluster_token;
    argvlen[4] = ngx_gp_cluster_token_len;

    p = ngx_snprintf(t, sizeof(t), "%M", ms);
    argv[5] = (char *) t;
    argvlen[5] = p - t;

    (void) ngx_gp_cluster_command(6, argv, argvlen, 0, NULL, NULL);
}
