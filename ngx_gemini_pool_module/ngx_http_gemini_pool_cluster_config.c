
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The shared configuration (see the header and docs/cluster.md).
 *
 * Redis holds, under the directive's prefix:
 *
 *   config:epoch     a random id, made by the first gateway that finds
 *                    none: a new one means Redis lost what it held
 *   config:version   the counter that orders every write
 *   config:<kind>    a hash per kind (account, model, setting, key):
 *                    record key -> "<version> <record JSON>"
 *                    (ngx_http_gemini_pool_confrec.h), tombstones too
 *   config           the channel: the version of each write
 *
 * A round, in the helper process, on each tick, on each message and when
 * the connection comes up: MGET the epoch and the counter; a new epoch
 * (Redis restarted empty, or this database's first contact) puts every
 * local record in the change feed again; when the counter is past what
 * this gateway applied, HGETALL each kind and apply the newer records
 * (oldest first, accounts before the models pinned to them); then publish
 * the local changes, each with one EVAL that increments the counter,
 * writes the record and publishes its version.  Redis orders the writes,
 * the last one wins; a local change waiting for Redis loses to a newer
 * write of the same record found there.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_CCF_TIMEOUT     5000    /* ms, each command */
#define NGX_GP_CCF_BATCH       64      /* records published per step */
#define NGX_GP_CCF_TOPIC       "config"


/*
 * A write: the next version, the record under it, its version on the
 * channel.  ARGV[3] "1": a bulk copy of a new epoch, written only where
 * Redis has no record of that key (0 then).
 */
static const char  ngx_gp_ccf_script[] =
    "if ARGV[3] == '1' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 "
    "then return 0 end "
    "local v = redis.call('INCR', KEYS[1]) "
    "redis.call('HSET', KEYS[2], ARGV[1], v .. ' ' .. ARGV[2]) "
    "redis.call('PUBLISH', KEYS[3], v) "
    "return v";


typedef struct {
    ngx_uint_t               started;
    ngx_uint_t               running;      /* a round in flight */
    ngx_uint_t               again;        /* asked for during it */
    ngx_uint_t               mismatch;     /* records under another key */
    ngx_uint_t               kind;         /* the hash being read */
    ngx_uint_t               changed;      /* applied: reload the zone */
    ngx_uint_t               sent;         /* publishes in flight */
    ngx_uint_t               failed;
    ngx_uint_t               full;         /* a full batch was sent */
    int64_t                  counter;      /* Redis's, this round */
    int64_t                  applied;      /* the newest version applied */
    int64_t                  newest;       /* seen in this round's pull */
    int64_t                  last;         /* the batch's last change */
    ngx_gp_cluster_cmd_t    *cmd;          /* the read in flight */
    char                     node[NGX_GP_CONFREC_ID_LEN + 1];
    char                     epoch[NGX_GP_CONFREC_ID_LEN + 1];
    char                     fp[NGX_GP_CONFREC_FP_LEN + 1];
} ngx_gp_ccf_t;


static ngx_gp_ccf_t  ngx_gp_ccf;


static void ngx_gp_ccf_start(void);
static void ngx_gp_ccf_end(void);
static void ngx_gp_ccf_message(const u_char *msg, size_t len);
static void ngx_gp_ccf_up(void);
static ngx_int_t ngx_gp_ccf_send(int argc, const char **argv,
    ngx_gp_cluster_pt handler);
static void ngx_gp_ccf_heads(void *data, redisReply *reply);
static void ngx_gp_ccf_epoch_set(void *data, redisReply *reply);
static ngx_int_t ngx_gp_ccf_renew(const char *epoch);
static void ngx_gp_ccf_pull(void);
static void ngx_gp_ccf_pulled(void *data, redisReply *reply);
static ngx_int_t ngx_gp_ccf_apply_all(redisReply *reply);
static ngx_int_t ngx_gp_ccf_apply(ngx_gp_confrec_t *r, ngx_log_t *log);
static ngx_int_t ngx_gp_ccf_account(ngx_gp_confrec_t *r, ngx_log_t *log);
static ngx_int_t ngx_gp_ccf_model(ngx_gp_confrec_t *r, ngx_log_t *log);
static ngx_int_t ngx_gp_ccf_setting(ngx_gp_confrec_t *r, ngx_log_t *log);
static ngx_int_t ngx_gp_ccf_key(ngx_gp_confrec_t *r, ngx_log_t *log);
static void ngx_gp_ccf_publish(void);
static void ngx_gp_ccf_published(void *data, redisReply *reply);


static const char *
ngx_gp_ccf_name(const char *suffix, char *buf, size_t size)
{
    ngx_str_t  *prefix;

    prefix = ngx_gp_cluster_prefix();

    (void) ngx_snprintf((u_char *) buf, size - 1, "%V%s%Z", prefix, suffix);
    buf[size - 1] = '\0';

    return buf;
}


/*
 * The helper's identity in the cluster (a random id kept in SQLite), the
 * fingerprint of its secret key, and the subscription.
 */

ngx_int_t
ngx_gp_cluster_config_init_process(ngx_cycle_t *cycle)
{
    if (!ngx_gp_cluster_enabled()
        || (ngx_process != NGX_PROCESS_HELPER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_memzero(&ngx_gp_ccf, sizeof(ngx_gp_ccf_t));

    if (ngx_gp_cluster_subscribe(NGX_GP_CCF_TOPIC, ngx_gp_ccf_message)
        != NGX_OK
        || ngx_gp_cluster_on_up(ngx_gp_ccf_up) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "gemini pool: cluster: the shared configuration "
                      "cannot subscribe");
        return NGX_OK;
    }

    ngx_gp_ccf.started = 1;

    return NGX_OK;
}


/* what the round needs from SQLite, read once, when SQLite is there */

static ngx_int_t
ngx_gp_ccf_identity(ngx_log_t *log)
{
    char                              *p;
    u_char                             buf[64];
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (ngx_gp_ccf.node[0]) {
        return NGX_OK;
    }

    if (ngx_gp_store_cluster_meta("node", ngx_gp_ccf.node,
                                  sizeof(ngx_gp_ccf.node), log) != NGX_OK
        || ngx_gp_store_cluster_meta("epoch", ngx_gp_ccf.epoch,
                                     sizeof(ngx_gp_ccf.epoch), log)
           != NGX_OK
        || ngx_gp_store_cluster_meta("applied", (char *) buf, sizeof(buf),
                                     log) != NGX_OK)
    {
        ngx_gp_ccf.node[0] = '\0';
        return NGX_ERROR;
    }

    ngx_gp_ccf.applied = ngx_atoof(buf, ngx_strlen(buf));
    if (ngx_gp_ccf.applied < 0) {
        ngx_gp_ccf.applied = 0;
    }

    /* the secret key's fingerprint: which key sealed a record */
    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    p = (char *) ngx_cpymem(buf, "ngx_gemini_pool cluster key ", 28);
    ngx_memcpy(p, gmcf->secret_key, 32);

    p = ngx_gp_sha256_hex(buf, 28 + 32);
    ngx_explicit_memzero(buf, sizeof(buf));

    if (p == NULL) {
        ngx_gp_ccf.node[0] = '\0';
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_gp_ccf.fp, p, NGX_GP_CONFREC_FP_LEN);
    ngx_gp_ccf.fp[NGX_GP_CONFREC_FP_LEN] = '\0';
    free(p);

    if (ngx_gp_ccf.node[0]) {
        return NGX_OK;
    }

    p = ngx_gp_random_hex(NGX_GP_CONFREC_ID_LEN / 2);

    if (p == NULL
        || ngx_gp_store_cluster_meta_set("node", p, log) != NGX_OK)
    {
        free(p);
        return NGX_ERROR;
    }

    (void) ngx_cpystrn((u_char *) ngx_gp_ccf.node, (u_char *) p,
                       sizeof(ngx_gp_ccf.node));
    free(p);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "gemini pool: cluster: this gateway's id is %s",
                  ngx_gp_ccf.node);

    return NGX_OK;
}


void
ngx_gp_cluster_config_tick(void)
{
    if (ngx_gp_ccf.started) {
        ngx_gp_ccf_start();
    }
}


static void
ngx_gp_ccf_message(const u_char *msg, size_t len)
{
    ngx_gp_ccf_start();
}


static void
ngx_gp_ccf_up(void)
{
    ngx_gp_ccf_start();
}


void
ngx_gp_cluster_config_exit(void)
{
    if (ngx_gp_ccf.cmd) {
        ngx_gp_cluster_cancel(ngx_gp_ccf.cmd);
        ngx_gp_ccf.cmd = NULL;
    }

    ngx_gp_ccf.started = 0;
    ngx_gp_ccf.running = 0;
}


static void
ngx_gp_ccf_start(void)
{
    char         version[128], epoch[128];
    const char  *argv[3];

    if (!ngx_gp_ccf.started || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (ngx_gp_ccf.running) {
        ngx_gp_ccf.again = 1;
        return;
    }

    if (!ngx_gp_cluster_up()
        || ngx_gp_ccf_identity(ngx_cycle->log) != NGX_OK)
    {
        return;
    }

    ngx_gp_ccf.running = 1;
    ngx_gp_ccf.again = 0;

    argv[0] = "MGET";
    argv[1] = ngx_gp_ccf_name("config:epoch", epoch, sizeof(epoch));
    argv[2] = ngx_gp_ccf_name("config:version", version, sizeof(version));

    if (ngx_gp_ccf_send(3, argv, ngx_gp_ccf_heads) != NGX_OK) {
        ngx_gp_ccf_end();
    }
}


static void
ngx_gp_ccf_end(void)
{
    ngx_gp_ccf.running = 0;
    ngx_gp_ccf.cmd = NULL;

    if (ngx_gp_ccf.again) {
        ngx_gp_ccf_start();
    }
}


static ngx_int_t
ngx_gp_ccf_send(int argc, const char **argv, ngx_gp_cluster_pt handler)
{
    int      i;
    size_t   len[8];

    for (i = 0; i < argc; i++) {
        len[i] = ngx_strlen(argv[i]);
    }

    ngx_gp_ccf.cmd = ngx_gp_cluster_command(argc, argv, len,
                                            NGX_GP_CCF_TIMEOUT, handler,
                                            NULL);

    return ngx_gp_ccf.cmd ? NGX_OK : NGX_ERROR;
}


/* MGET epoch version */

static void
ngx_gp_ccf_heads(void *data, redisReply *reply)
{
    char          key[128];
    char         *epoch;
    redisReply   *e, *v;
    const char   *argv[5];

    ngx_gp_ccf.cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2)
    {
        ngx_gp_ccf_end();
        return;
    }

    e = reply->element[0];
    v = reply->element[1];

    ngx_gp_ccf.counter = (v->type == REDIS_REPLY_STRING)
                         ? ngx_atoof((u_char *) v->str, v->len) : 0;

    if (e->type != REDIS_REPLY_STRING) {

        /* Redis holds no configuration: the first to find that says so */
        epoch = ngx_gp_random_hex(NGX_GP_CONFREC_ID_LEN / 2);
        if (epoch == NULL) {
            ngx_gp_ccf_end();
            return;
        }

        argv[0] = "SET";
        argv[1] = ngx_gp_ccf_name("config:epoch", key, sizeof(key));
        argv[2] = epoch;
        argv[3] = "NX";

        if (ngx_gp_ccf_send(4, argv, ngx_gp_ccf_epoch_set) != NGX_OK) {
            ngx_gp_ccf_end();
        }

        free(epoch);
        return;
    }

    if (e->len == 0 || e->len > NGX_GP_CONFREC_ID_LEN
        || ngx_strncmp(e->str, ngx_gp_ccf.epoch, e->len) != 0
        || ngx_gp_ccf.epoch[e->len] != '\0')
    {
        (void) ngx_cpystrn((u_char *) key, (u_char *) e->str,
                           ngx_min(e->len + 1, sizeof(key)));

        if (ngx_gp_ccf_renew(key) != NGX_OK) {
            ngx_gp_ccf_end();
            return;
        }
    }

    if (ngx_gp_ccf.counter > ngx_gp_ccf.applied) {
        ngx_gp_ccf.kind = 0;
        ngx_gp_ccf.changed = 0;
        ngx_gp_ccf.newest = ngx_gp_ccf.applied;
        ngx_gp_ccf_pull();
        return;
    }

    ngx_gp_ccf_publish();
}


/* SET epoch NX answered: a new round reads what is there now */

static void
ngx_gp_ccf_epoch_set(void *data, redisReply *reply)
{
    ngx_gp_ccf.cmd = NULL;
    ngx_gp_ccf.again = (reply != NULL);
    ngx_gp_ccf_end();
}


/*
 * Redis's configuration is not the one this gateway last saw (Redis
 * restarted empty, or this database meets the cluster for the first
 * time): every local record is published again, after the records
 * already in Redis are read (those win over the same local ones).
 */

static ngx_int_t
ngx_gp_ccf_renew(const char *epoch)
{
    ngx_log_t  *log;

    log = ngx_cycle->log;

    if (ngx_gp_store_begin(log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_gp_store_cluster_mark_all(log) != NGX_OK
        || ngx_gp_store_cluster_meta_set("epoch", epoch, log) != NGX_OK
        || ngx_gp_store_cluster_meta_set("applied", "0", log) != NGX_OK)
    {
        ngx_gp_store_rollback(log);
        return NGX_ERROR;
    }

    if (ngx_gp_store_commit(log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "gemini pool: cluster: %s shared configuration in Redis "
                  "(epoch %s): this gateway reads it and publishes its own "
                  "records again",
                  ngx_gp_ccf.epoch[0] ? "a new" : "joining the", epoch);

    (void) ngx_cpystrn((u_char *) ngx_gp_ccf.epoch, (u_char *) epoch,
                       sizeof(ngx_gp_ccf.epoch));
    ngx_gp_ccf.applied = 0;

    return NGX_OK;
}


static void
ngx_gp_ccf_pull(void)
{
    char         key[128], suffix[32];
    const char  *argv[2];

    if (ngx_gp_ccf.kind == NGX_GP_CONFREC_N) {
        u_char  buf[NGX_INT64_LEN + 1];

        if (ngx_gp_ccf.changed
            && ngx_gp_store_reload(ngx_cycle->log) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "gemini pool: cluster: the configuration read "
                          "from Redis was saved but could not be loaded "
                          "into the zone");
        }

        ngx_gp_ccf.applied = ngx_max(ngx_gp_ccf.newest, ngx_gp_ccf.applied);

        (void) ngx_sprintf(buf, "%L%Z", ngx_gp_ccf.applied);
        (void) ngx_gp_store_cluster_meta_set("applied", (char *) buf,
                                             ngx_cycle->log);

        ngx_gp_ccf_publish();
        return;
    }

    (void) ngx_sprintf((u_char *) suffix, "config:%s%Z",
                       ngx_gp_confrec_kind_name(ngx_gp_ccf.kind));

    argv[0] = "HGETALL";
    argv[1] = ngx_gp_ccf_name(suffix, key, sizeof(key));

    if (ngx_gp_ccf_send(2, argv, ngx_gp_ccf_pulled) != NGX_OK) {
        ngx_gp_ccf_end();
    }
}


static void
ngx_gp_ccf_pulled(void *data, redisReply *reply)
{
    ngx_gp_ccf.cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || ngx_gp_ccf_apply_all(reply) != NGX_OK)
    {
        /* the next round reads again from what was applied */
        if (ngx_gp_ccf.changed) {
            (void) ngx_gp_store_reload(ngx_cycle->log);
        }

        ngx_gp_ccf_end();
        return;
    }

    ngx_gp_ccf.kind++;
    ngx_gp_ccf_pull();
}


static int
ngx_gp_ccf_cmp(const void *a, const void *b)
{
    const ngx_gp_confrec_t  *x = a, *y = b;

    return (x->version > y->version) - (x->version < y->version);
}


/*
 * One kind's hash: the records newer than what was applied, oldest
 * first, in one transaction.  A bulk copy (a new epoch's) does not
 * undo a change made here that waits to be published: that change is
 * newer, and it goes to Redis after this pull.
 */

static ngx_int_t
ngx_gp_ccf_apply_all(redisReply *reply)
{
    char               err[128];
    int64_t            seq;
    ngx_int_t          rc;
    ngx_uint_t         i, n, pending;
    ngx_log_t         *log;
    redisReply        *v;
    ngx_gp_confrec_t  *recs, *r;

    log = ngx_cycle->log;

    if (reply->elements < 2) {
        return NGX_OK;
    }

    recs = ngx_alloc(reply->elements / 2 * sizeof(ngx_gp_confrec_t), log);
    if (recs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 1; i < reply->elements; i += 2) {
        v = reply->element[i];

        if (v->type != REDIS_REPLY_STRING) {
            continue;
        }

        r = &recs[n];

        if (ngx_gp_confrec_parse(v->str, v->len, r, err, sizeof(err)) != 0) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: cluster: a bad %s record in Redis "
                          "ignored: %s",
                          ngx_gp_confrec_kind_name(ngx_gp_ccf.kind), err);
            continue;
        }

        if (r->version <= ngx_gp_ccf.applied
            || r->kind != (int) ngx_gp_ccf.kind)
        {
            ngx_gp_confrec_free(r);
            continue;
        }

        ngx_gp_ccf.newest = ngx_max(ngx_gp_ccf.newest, r->version);

        if (ngx_strcmp(r->origin, ngx_gp_ccf.node) == 0) {
            /* this gateway's own write */
            ngx_gp_confrec_free(r);
            continue;
        }

        if (ngx_strcmp(r->fp, ngx_gp_ccf.fp) != 0) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: cluster: the %s \"%s\" in Redis, "
                          "from gateway %s, is sealed with another secret "
                          "key (fingerprint %s, this gateway's is %s): "
                          "every gateway of a cluster needs the same key "
                          "(API_KEY_ENCRYPTION_KEY or the database's .key "
                          "file); not applied, and this gateway publishes "
                          "nothing until it has the same key",
                          ngx_gp_confrec_kind_name(r->kind), r->key,
                          r->origin, r->fp, ngx_gp_ccf.fp);
            ngx_gp_ccf.mismatch = 1;
            ngx_gp_confrec_free(r);
            continue;
        }

        n++;
    }

    rc = NGX_OK;

    if (n) {
        ngx_qsort(recs, n, sizeof(ngx_gp_confrec_t), ngx_gp_ccf_cmp);

        if (ngx_gp_store_begin(log) != NGX_OK) {
            rc = NGX_ERROR;
        }
    }

    for (i = 0; rc == NGX_OK && i < n; i++) {
        r = &recs[i];

        if (ngx_gp_store_cluster_pending(r->kind, r->key, &pending, log)
            != NGX_OK)
        {
            rc = NGX_ERROR;
            break;
        }

        if (pending && r->bulk) {
            continue;
        }

        if (pending) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "gemini pool: cluster: a change of the %s \"%s\" "
                          "made here and not yet in Redis gives way to a "
                          "newer one there, from gateway %s",
                          ngx_gp_confrec_kind_name(r->kind), r->key,
                          r->origin);
        }

        if (ngx_gp_store_cluster_seq(&seq, log) != NGX_OK) {
            rc = NGX_ERROR;
            break;
        }

        switch (ngx_gp_ccf_apply(r, log)) {

        case NGX_OK:
            if (ngx_gp_store_cluster_applied(seq, r->kind, r->key, log)
                != NGX_OK)
            {
                rc = NGX_ERROR;
            }

            ngx_gp_ccf.changed = 1;
            break;

        case NGX_DECLINED:
            break;

        default:
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: cluster: applying the %s \"%s\" "
                          "failed: %s", ngx_gp_confrec_kind_name(r->kind),
                          r->key, ngx_gp_store_errmsg());
            rc = NGX_ERROR;
            break;
        }
    }

    if (n) {
        if (rc == NGX_OK) {
            rc = ngx_gp_store_commit(log);

        } else {
            ngx_gp_store_rollback(log);
            ngx_gp_ccf.changed = 0;
        }
    }

    for (i = 0; i < n; i++) {
        ngx_gp_confrec_free(&recs[i]);
    }

    ngx_free(recs);

    return rc;
}


static ngx_int_t
ngx_gp_ccf_apply(ngx_gp_confrec_t *r, ngx_log_t *log)
{
    ngx_log_debug3(NGX_LOG_DEBUG_CORE, log, 0,
                   "gemini pool: cluster: applying %s \"%s\" v%L",
                   ngx_gp_confrec_kind_name(r->kind), r->key, r->version);

    switch (r->kind) {

    case NGX_GP_CONFREC_ACCOUNT:
        return ngx_gp_ccf_account(r, log);

    case NGX_GP_CONFREC_MODEL:
        return ngx_gp_ccf_model(r, log);

    case NGX_GP_CONFREC_SETTING:
        return ngx_gp_ccf_setting(r, log);

    default:
        return ngx_gp_ccf_key(r, log);
    }
}


static const char *
ngx_gp_ccf_str(ngx_gp_confrec_t *r, const char *name)
{
    const char  *s;

    s = json_string_value(json_object_get(r->data, name));

    return s ? s : "";
}


static int64_t
ngx_gp_ccf_int(ngx_gp_confrec_t *r, const char *name)
{
    return (int64_t) json_integer_value(json_object_get(r->data, name));
}


/*
 * A sealed field opened with this gateway's key (malloc'ed, "" when
 * empty); NULL when it does not open: another key sealed it.
 */

static char *
ngx_gp_ccf_open(ngx_gp_confrec_t *r, const char *name, const char *aad)
{
    char                              *p;
    size_t                             len, plen;
    const char                        *s;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    s = ngx_gp_ccf_str(r, name);
    len = ngx_strlen(s);

    if (len == 0) {
        p = malloc(1);
        if (p) {
            p[0] = '\0';
        }

        return p;
    }

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    p = ngx_gp_secret_decrypt(gmcf->secret_key, aad, s, len, &plen);

    if (p == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "gemini pool: cluster: the \"%s\" of %s \"%s\" from "
                      "gateway %s does not open with this gateway's secret "
                      "key: every gateway of a cluster needs the same key; "
                      "not applied", name, ngx_gp_confrec_kind_name(r->kind),
                      r->key, r->origin);
        ngx_gp_ccf.mismatch = 1;
    }

    return p;
}


static void
ngx_gp_ccf_close(char *p)
{
    if (p) {
        ngx_explicit_memzero(p, ngx_strlen(p));
        free(p);
    }
}


/* an account: by its uid; new ones are added as the admin API adds them */

static ngx_int_t
ngx_gp_ccf_account(ngx_gp_confrec_t *r, ngx_log_t *log)
{
    char                    *ses, *oses, *proxy, *mail;
    int64_t                  id;
    ngx_int_t                rc;
    ngx_uint_t               same, renewed;
    ngx_gp_store_account_t   a;

    if (r->data == NULL) {
        rc = ngx_gp_store_cluster_account(r->key, NULL, &id, NULL, log);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_gp_store_account_delete(id, log);
    }

    ses = ngx_gp_ccf_open(r, "secure_c_ses", "accounts.secure_c_ses");
    oses = ngx_gp_ccf_open(r, "host_c_oses", "accounts.host_c_oses");
    proxy = ngx_gp_ccf_open(r, "proxy", "accounts.proxy");
    mail = ngx_gp_ccf_open(r, "tempmail_url", "accounts.tempmail_url");

    rc = NGX_DECLINED;

    if (ses == NULL || oses == NULL || proxy == NULL || mail == NULL) {
        goto done;
    }

    ngx_memzero(&a, sizeof(ngx_gp_store_account_t));

    a.name = ngx_gp_ccf_str(r, "name");
    a.team_id = ngx_gp_ccf_str(r, "team_id");
    a.csesidx = ngx_gp_ccf_str(r, "csesidx");
    a.secure_c_ses = ses;
    a.host_c_oses = oses;
    a.user_agent = ngx_gp_ccf_str(r, "user_agent");
    a.proxy = proxy;
    a.tempmail_url = mail;
    a.tempmail_name = ngx_gp_ccf_str(r, "tempmail_name");
    a.enabled = json_is_true(json_object_get(r->data, "enabled"));

    rc = ngx_gp_store_cluster_account(r->key, ses, &id, &same, log);

    if (rc == NGX_DECLINED) {
        rc = ngx_gp_store_account_add(&a, &id, log);

        if (rc == NGX_OK) {
            rc = ngx_gp_store_cluster_set_uid(id, r->key, log);
        }

        goto done;
    }

    if (rc != NGX_OK) {
        goto done;
    }

    /* new cookies bring an expired account back, as an admin's do */
    if (!same
        && ngx_gp_store_account_renew(id, 1, &renewed, log) != NGX_OK)
    {
        rc = NGX_ERROR;
        goto done;
    }

    rc = ngx_gp_store_account_update(id, &a, log);

done:

    ngx_gp_ccf_close(ses);
    ngx_gp_ccf_close(oses);
    ngx_gp_ccf_close(proxy);
    ngx_gp_ccf_close(mail);

    return rc;
}


/* a model: by its name, through the import's writer */

static ngx_int_t
ngx_gp_ccf_model(ngx_gp_confrec_t *r, ngx_log_t *log)
{
    int64_t                       account;
    ngx_str_t                     name;
    ngx_int_t                     rc;
    ngx_uint_t                    replaced;
    const char                   *kind, *uid;
    ngx_gp_store_import_model_t   m;

    if (r->data == NULL) {
        name.data = (u_char *) r->key;
        name.len = ngx_strlen(r->key);

        rc = ngx_gp_store_model_delete(&name, log);

        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }

    kind = ngx_gp_ccf_str(r, "kind");

    if (ngx_strcmp(kind, "text") != 0 && ngx_strcmp(kind, "image") != 0
        && ngx_strcmp(kind, "video") != 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: cluster: the model \"%s\" in Redis has "
                      "the unknown kind \"%s\"; not applied", r->key, kind);
        return NGX_DECLINED;
    }

    account = 0;
    uid = ngx_gp_ccf_str(r, "account");

    if (uid[0]) {
        rc = ngx_gp_store_cluster_account(uid, NULL, &account, NULL, log);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "gemini pool: cluster: the model \"%s\" is pinned "
                          "to an account this gateway does not have; "
                          "applied unpinned", r->key);
        }
    }

    ngx_memzero(&m, sizeof(ngx_gp_store_import_model_t));

    m.name = r->key;
    m.model_id = ngx_gp_ccf_str(r, "model_id");
    m.kind = kind;
    m.description = ngx_gp_ccf_str(r, "description");
    m.enabled = json_is_true(json_object_get(r->data, "enabled"));
    m.position = ngx_max(ngx_gp_ccf_int(r, "position"), 0);
    m.aliases = ngx_gp_ccf_str(r, "aliases");
    m.pin = -1;

    return ngx_gp_store_import_model(&m, account, &replaced, log);
}


/* a setting: checked by the settings table as PUT /api/settings does */

static ngx_int_t
ngx_gp_ccf_setting(ngx_gp_confrec_t *r, ngx_log_t *log)
{
    char         *value;
    ngx_int_t     i, n, rc;
    const char   *err;
    ngx_uint_t    secret;

    if (r->data == NULL) {
        return NGX_DECLINED;
    }

    i = ngx_gp_setting_index(r->key);
    secret = json_is_true(json_object_get(r->data, "secret"));

    if (i == NGX_ERROR || (ngx_uint_t) ngx_gp_setting_secret(i) != secret) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "gemini pool: cluster: the setting \"%s\" in Redis is "
                      "not one of this gateway's (another version?); "
                      "ignored", r->key);
        return NGX_DECLINED;
    }

    value = secret ? ngx_gp_ccf_open(r, "value", "settings.value")
                   : strdup(ngx_gp_ccf_str(r, "value"));

    if (value == NULL) {
        return NGX_DECLINED;
    }

    err = ngx_gp_setting_check(i, (u_char *) value, &n);

    if (err) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: cluster: the setting \"%s\" in Redis is "
                      "refused: %s", r->key, err);
        rc = NGX_DECLINED;

    } else {
        rc = ngx_gp_store_setting_put(i, value, log);
    }

    ngx_gp_ccf_close(value);

    return rc;
}


/* an API key: by its hash, through the import's writer */

static ngx_int_t
ngx_gp_ccf_key(ngx_gp_confrec_t *r, ngx_log_t *log)
{
    int64_t                     id;
    ngx_int_t                   rc;
    ngx_gp_store_import_key_t   k;

    if (r->data == NULL) {
        rc = ngx_gp_store_cluster_key(r->key, &id, log);

        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_gp_store_key_delete(id, log);

        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }

    ngx_memzero(&k, sizeof(ngx_gp_store_import_key_t));

    k.name = ngx_gp_ccf_str(r, "name");
    k.hash = r->key;
    k.prefix = ngx_gp_ccf_str(r, "prefix");
    k.models = ngx_gp_ccf_str(r, "models");
    k.image_format = ngx_gp_ccf_str(r, "image_format");
    k.enabled = json_is_true(json_object_get(r->data, "enabled"));
    k.expires = ngx_gp_ccf_int(r, "expires_at");
    k.rpm = ngx_gp_ccf_int(r, "rpm");
    k.rpd = ngx_gp_ccf_int(r, "rpd");
    k.created = ngx_gp_ccf_int(r, "created_at");

    return ngx_gp_store_import_key(&k, r->key, &id, log);
}


/* the local changes: one EVAL each, a batch at a time */

static void
ngx_gp_ccf_publish(void)
{
    int          kind, bulk;
    char        *rec, err[128], version[128], hash[128], channel[128];
    char         suffix[32];
    size_t       len[9];
    json_t      *list, *item, *data;
    ngx_uint_t   i, n;
    ngx_log_t   *log;
    const char  *key, *argv[9];

    log = ngx_cycle->log;

    if (ngx_gp_ccf.mismatch) {
        ngx_gp_ccf_end();
        return;
    }

    list = ngx_gp_store_cluster_changes(NGX_GP_CCF_BATCH, &ngx_gp_ccf.last,
                                        log);

    if (list == NULL || json_array_size(list) == 0) {
        json_decref(list);
        ngx_gp_ccf_end();
        return;
    }

    ngx_gp_ccf.sent = 0;
    ngx_gp_ccf.failed = 0;
    ngx_gp_ccf.full = (json_array_size(list) == NGX_GP_CCF_BATCH);

    /* one more for the end of the loop: no reply comes before it */
    ngx_gp_ccf.sent++;

    json_array_foreach(list, i, item) {
        kind = ngx_gp_confrec_kind(json_string_value(json_object_get(item,
                                                                "kind")));
        key = json_string_value(json_object_get(item, "key"));
        bulk = json_is_true(json_object_get(item, "bulk"));

        if (kind < 0 || key == NULL || key[0] == '\0') {
            continue;
        }

        if (ngx_gp_store_cluster_record(kind, key, &data, log) != NGX_OK) {
            ngx_gp_ccf.failed = 1;
            break;
        }

        rec = ngx_gp_confrec_encode(kind, key, ngx_gp_ccf.node,
                                    ngx_gp_ccf.fp, bulk, data, err,
                                    sizeof(err));
        json_decref(data);

        if (rec == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: cluster: the %s \"%s\" is not "
                          "published: %s", ngx_gp_confrec_kind_name(kind),
                          key, err);
            continue;
        }

        (void) ngx_sprintf((u_char *) suffix, "config:%s%Z",
                           ngx_gp_confrec_kind_name(kind));

        argv[0] = "EVAL";
        argv[1] = ngx_gp_ccf_script;
        argv[2] = "3";
        argv[3] = ngx_gp_ccf_name("config:version", version,
                                  sizeof(version));
        argv[4] = ngx_gp_ccf_name(suffix, hash, sizeof(hash));
        argv[5] = ngx_gp_ccf_name(NGX_GP_CCF_TOPIC, channel,
                                  sizeof(channel));
        argv[6] = key;
        argv[7] = rec;
        argv[8] = bulk ? "1" : "0";

        for (n = 0; n < 9; n++) {
            len[n] = (n == 1) ? sizeof(ngx_gp_ccf_script) - 1
                              : ngx_strlen(argv[n]);
        }

        if (ngx_gp_cluster_command(9, argv, len, NGX_GP_CCF_TIMEOUT,
                                   ngx_gp_ccf_published, &ngx_gp_ccf)
            == NULL)
        {
            ngx_gp_ccf.failed = 1;
            free(rec);
            break;
        }

        free(rec);
        ngx_gp_ccf.sent++;
    }

    json_decref(list);

    ngx_gp_ccf_published(NULL, NULL);
}


/* one EVAL answered (NULL, NULL: the loop that sent them ended) */

static void
ngx_gp_ccf_published(void *data, redisReply *reply)
{
    if (reply != NULL && reply->type != REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "gemini pool: cluster: publishing a record failed: %s",
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "unexpected reply");
        ngx_gp_ccf.failed = 1;
    }

    if (reply == NULL && data != NULL) {
        ngx_gp_ccf.failed = 1;
    }

    if (--ngx_gp_ccf.sent) {
        return;
    }

    if (ngx_gp_ccf.failed) {
        ngx_gp_ccf_end();
        return;
    }

    if (ngx_gp_store_cluster_published(ngx_gp_ccf.last, ngx_cycle->log)
        != NGX_OK)
    {
        ngx_gp_ccf_end();
        return;
    }

    if (ngx_gp_ccf.full) {
        ngx_gp_ccf_publish();
        return;
    }

    ngx_gp_ccf_end();
}
