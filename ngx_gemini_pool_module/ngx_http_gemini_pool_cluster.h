
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Several gateways, one pool: the connection to Redis (docs/cluster.md).
 *
 * ngx_http_gemini_pool_cluster.c owns the directive's configuration and,
 * in each process that needs it (the workers, the helper, the single
 * process), two connections made with hiredis's asynchronous API attached
 * to nginx's event loop: one for commands and one for SUBSCRIBE.  Each
 * reconnects with back-off; the state (up, down since, last error) is in
 * the zone for /health, /api/status and the metrics.  Nothing in it
 * blocks: the address is resolved at configuration time.
 *
 * ngx_http_gemini_pool_cluster_state.c, above it, keeps the shared hot
 * state (cooldowns and the expired flag, API-key counts, conversation
 * bindings, the round-robin cursor, the re-login lease) with the zone as
 * the local cache.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_CLUSTER_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_GP_CLUSTER_ERROR_LEN   128
#define NGX_GP_CLUSTER_PREFIX      "gp:"

/* channels are "<prefix><topic>"; a topic is at most this long */
#define NGX_GP_CLUSTER_TOPIC_LEN   32
#define NGX_GP_CLUSTER_TOPICS      8
#define NGX_GP_CLUSTER_UP_HOOKS    8


/* the directive's configuration (NULL in the main conf: no cluster) */
typedef struct {
    ngx_str_t                host;       /* numeric, NUL-terminated */
    int                      port;
    ngx_str_t                unix_path;  /* NUL-terminated; len 0: TCP */
    ngx_str_t                user;       /* NUL-terminated; len 0: none */
    ngx_str_t                password;   /* NUL-terminated; never logged */
    ngx_uint_t               db;
    ngx_str_t                prefix;     /* "gp:" by default */
    ngx_str_t                where;      /* host:port or the path, for
                                            logs: no credentials */
} ngx_gp_cluster_conf_t;


/* a member of the zone's shared context; changed under its mutex */
typedef struct {
    ngx_uint_t               configured;   /* the directive is there */
    ngx_uint_t               up;           /* last seen by any process */
    time_t                   since;        /* of the current state */
    time_t                   last_change;
    uint64_t                 transitions;
    uint64_t                 commands;     /* sent */
    uint64_t                 failures;     /* no reply: down, timeout */
    uint64_t                 messages;     /* pub/sub received */
    uint64_t                 local_fallbacks;  /* decided locally */
    u_char                   last_error[NGX_GP_CLUSTER_ERROR_LEN];
} ngx_gp_cluster_state_t;


/*
 * A command's handler: called exactly once, from the event loop, with
 * the reply, or with NULL when there is none (Redis down or not
 * configured, the timeout passed, the connection was lost).  The reply
 * belongs to hiredis: copy what is kept.
 */
typedef void (*ngx_gp_cluster_pt)(void *data, redisReply *reply);

/* a subscribed topic's handler: the message's payload */
typedef void (*ngx_gp_cluster_msg_pt)(const u_char *msg, size_t len);

/* called each time the command connection (re)connects */
typedef void (*ngx_gp_cluster_up_pt)(void);

typedef struct ngx_gp_cluster_cmd_s  ngx_gp_cluster_cmd_t;


/* the directive (module.c's command table) */
char *ngx_gp_cluster_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* process hooks (module.c): connect, and close at exit */
ngx_int_t ngx_gp_cluster_init_process(ngx_cycle_t *cycle);
void ngx_gp_cluster_exit_process(ngx_cycle_t *cycle);

/* the directive is there (in any process, after configuration) */
ngx_uint_t ngx_gp_cluster_enabled(void);

/* this process's command connection is up */
ngx_uint_t ngx_gp_cluster_up(void);

/* "<prefix>" of every key and channel */
ngx_str_t *ngx_gp_cluster_prefix(void);

/*
 * A command as arguments (binary safe); timeout in ms (0: none beyond
 * the connection's health check).  NULL when it was not sent (Redis down
 * or not configured): handler is then not called.  ngx_gp_cluster_cancel()
 * makes sure it is not called later (and returns data, for the caller to
 * free what it holds).  handler NULL: fire and forget.
 */
ngx_gp_cluster_cmd_t *ngx_gp_cluster_command(int argc, const char **argv,
    const size_t *argvlen, ngx_msec_t timeout, ngx_gp_cluster_pt handler,
    void *data);
void *ngx_gp_cluster_cancel(ngx_gp_cluster_cmd_t *cmd);

/* PUBLISH "<prefix><topic>" msg, fire and forget; NGX_DECLINED: down */
ngx_int_t ngx_gp_cluster_publish(const char *topic, const u_char *msg,
    size_t len);

/*
 * Subscribe to "<prefix><topic>" (before or in init_process; kept across
 * reconnections); on_up hooks run after each (re)connection, for a full
 * re-read of what pub/sub may have missed.
 */
ngx_int_t ngx_gp_cluster_subscribe(const char *topic,
    ngx_gp_cluster_msg_pt handler);
ngx_int_t ngx_gp_cluster_on_up(ngx_gp_cluster_up_pt handler);

/* a copy of the state in the zone (zeros without a zone) */
void ngx_gp_cluster_state(ngx_gp_cluster_state_t *st);
void ngx_gp_cluster_fallback(void);


/* ngx_http_gemini_pool_cluster_state.c: the shared hot state */

ngx_int_t ngx_gp_cluster_state_init_process(ngx_cycle_t *cycle);

/*
 * Conversation bindings: written after the zone's (chat.c), asynchronously;
 * read once on a local miss of a follow-up turn (upstream.c), at most
 * NGX_GP_CLUSTER_WAIT ms, the answer put into the zone before handler
 * (found: 1) is called.  NULL: not asked (handler not called).
 */
#define NGX_GP_CLUSTER_WAIT        250

typedef void (*ngx_gp_cluster_found_pt)(void *data, ngx_uint_t found);

void ngx_gp_cluster_binding_put(const u_char *key, const u_char *name,
    time_t created, const char *session);
void ngx_gp_cluster_binding_delete(const u_char *key);
ngx_gp_cluster_cmd_t *ngx_gp_cluster_binding_get(const u_char *key,
    ngx_gp_cluster_found_pt handler, void *data);
void ngx_gp_cluster_binding_cancel(ngx_gp_cluster_cmd_t *cmd);

/*
 * An API key with a limit (rpm or rpd), after the zone's own check passed:
 * counted in Redis atomically (a Lua script) across the gateways; handler
 * gets retry > 0 (seconds) when a shared limit is reached, 0 when the
 * request may go on, also when Redis did not answer within
 * NGX_GP_CLUSTER_WAIT ms (the local count decided).  NULL: not asked
 * (no limit, no cluster, Redis down), go on now.
 */
typedef void (*ngx_gp_cluster_count_pt)(void *data, time_t retry);

ngx_gp_cluster_cmd_t *ngx_gp_cluster_key_count(const u_char *hash,
    ngx_uint_t rpm, ngx_uint_t rpd, ngx_gp_cluster_count_pt handler,
    void *data);
void ngx_gp_cluster_key_cancel(ngx_gp_cluster_cmd_t *cmd);

/*
 * The re-login lease of an account (relogin.c, in the helper): SET
 * <prefix>lease:<name> <token> NX PX 30 s, renewed every 10 s while held;
 * at the end kept NGX_GP_CLUSTER_LEASE_SETTLE s more (the result reaches
 * the others first), then gone.  handler gets got = 1 when this gateway
 * runs the login (also when Redis did not answer: then each gateway
 * decides alone), 0 when another holds it (this one waits
 * NGX_GP_CLUSTER_LEASE_WAIT s before it looks again).  NULL: not asked
 * (no cluster, Redis down): run it.
 */
#define NGX_GP_CLUSTER_LEASE_TTL     30000
#define NGX_GP_CLUSTER_LEASE_RENEW   10000
#define NGX_GP_CLUSTER_LEASE_SETTLE  15000
#define NGX_GP_CLUSTER_LEASE_WAIT    60
#define NGX_GP_CLUSTER_LEASES        16

typedef void (*ngx_gp_cluster_lease_pt)(void *data, ngx_uint_t got);

ngx_gp_cluster_cmd_t *ngx_gp_cluster_lease_take(const u_char *name,
    ngx_gp_cluster_lease_pt handler, void *data);
void ngx_gp_cluster_lease_cancel(ngx_gp_cluster_cmd_t *cmd);
void ngx_gp_cluster_lease_end(const u_char *name);

/* a re-login succeeded: the expired flag leaves the shared hash */
void ngx_gp_cluster_expired_clear(const u_char *name);

/* after ngx_gp_zone_cooldown(): the other gateways get it */
void ngx_gp_cluster_cooldown(const u_char *name, ngx_uint_t quota,
    time_t until, ngx_uint_t expired);


#endif /* _NGX_HTTP_GEMINI_POOL_CLUSTER_H_INCLUDED_ */
