
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
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_cluster_cooldown_msg(const u_char *msg, size_t len);
static void ngx_gp_cluster_cooldowns_read(void);
static void ngx_gp_cluster_cooldowns_done(void *data, redisReply *reply);


ngx_int_t
ngx_gp_cluster_state_init_process(ngx_cycle_t *cycle)
{
    if (!ngx_gp_cluster_enabled()) {
        return NGX_OK;
    }

    if (ngx_gp_cluster_subscribe("cooldown", ngx_gp_cluster_cooldown_msg)
        != NGX_OK
        || ngx_gp_cluster_on_up(ngx_gp_cluster_cooldowns_read) != NGX_OK)
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
