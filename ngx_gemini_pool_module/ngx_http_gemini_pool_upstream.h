
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The upstream client: an account, its JWT and a session for a request,
 * in the manner of ngx_http_upstream_t.  The caller fills in what the
 * request needs (and where the account copy goes: u->acct) and gets
 * ready(u) with the account, its JWT in u->acct->jwt and the session in
 * u->session, or fail(u, f) with the failure; it reports the failures
 * of its own calls with ngx_gp_upstream_next(), which applies the pool's
 * rules to the account and says whether another account may be tried.
 * The upstream lives in the caller's context: nothing is allocated.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_UPSTREAM_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_UPSTREAM_H_INCLUDED_


/* what the request needs */
#define NGX_GP_UPSTREAM_SESSION   0   /* account, JWT, session */
#define NGX_GP_UPSTREAM_JWT       1   /* the JWT of u->acct: reuse or fetch;
                                         another process's fetch: go on */
#define NGX_GP_UPSTREAM_REFRESH   2   /* getoxsrf for u->acct now, stored;
                                         the caller holds the refresh lock
                                         or none is needed */
#define NGX_GP_UPSTREAM_PROBE     3   /* getoxsrf for u->acct, the pool
                                         untouched (a live test) */
#define NGX_GP_UPSTREAM_SPARE     4   /* a new session for u->acct: its
                                         JWT, widgetCreateSession; the
                                         account is not taken (the
                                         helper's spare sessions) */


typedef struct ngx_gp_upstream_s  ngx_gp_upstream_t;

/*
 * A failure: its kind (NGX_GP_FAIL_*), the upstream's HTTP status and a
 * message for logs and clients.  Kind NGX_GP_FAIL_NONE is "no account
 * could be chosen": retry_after > 0 when every candidate is cooling
 * down, the seconds until the first is usable again.
 */
typedef struct {
    ngx_uint_t                         kind;
    long                               status;      /* 0: none */
    time_t                             retry_after;
    char                               msg[256];
} ngx_gp_failure_t;

typedef void (*ngx_gp_upstream_ready_pt)(ngx_gp_upstream_t *u);
typedef void (*ngx_gp_upstream_fail_pt)(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);

struct ngx_gp_upstream_s {
    void                              *data;        /* the caller's */
    ngx_gp_upstream_ready_pt           ready;
    ngx_gp_upstream_fail_pt            fail;

    /* event ident must be after 3 words (void *) as in ngx_connection_t */
    ngx_int_t                          ident;

    /* filled by the caller (and acct below) */
    ngx_log_t                         *log;
    ngx_gp_zone_t                     *zone;
    ngx_uint_t                         mode;        /* NGX_GP_UPSTREAM_ */
    ngx_uint_t                         quota;       /* NGX_GP_QUOTA_ */
    ngx_int_t                          only;        /* account id; -1 */
    ngx_uint_t                         max_attempts;
    const char                        *what;        /* for logs; NULL */

    /* a file's account and session: that one, no failover */
    int64_t                            pin_account;
    u_char                            *pin_session;

    /* a conversation's key: its bound session is tried first */
    u_char                            *conv_key;
    time_t                             session_max_age;

    /* what the upstream found: the caller's storage, acct->id 0: none */
    ngx_gp_account_copy_t             *acct;
    char                              *session;     /* malloc'ed */
    time_t                             session_created;
    ngx_uint_t                         attempts;
    unsigned                           bound:1;     /* the conversation's */
    unsigned                           resumed:1;   /* session knows it */
    unsigned                           spare:1;     /* a spare session */

    /* state */
    unsigned                           tried_binding:1;
    unsigned                           tried_cluster:1;
    unsigned                           fetching:1;  /* the refresh lock */
    unsigned                           action_set:1;
    ngx_gp_xfer_t                     *xfer;
    ngx_gp_cluster_cmd_t              *binding_get; /* Redis: in flight */
    ngx_event_t                        timer;       /* JWT waits */
    ngx_msec_t                         jwt_wait;
    const char                        *action;      /* the log's own */
};


void ngx_gp_upstream_start(ngx_gp_upstream_t *u);
ngx_uint_t ngx_gp_upstream_spare_refused(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
void ngx_gp_upstream_renew(ngx_gp_upstream_t *u);
ngx_uint_t ngx_gp_upstream_next(ngx_gp_upstream_t *u, ngx_gp_failure_t *f,
    ngx_uint_t more, ngx_gp_verdict_t *v);
ngx_uint_t ngx_gp_upstream_classify(ngx_gp_xfer_t *x, ngx_gp_failure_t *f);
void ngx_gp_upstream_release(ngx_gp_upstream_t *u, ngx_uint_t ok,
    const char *error);
void ngx_gp_upstream_finalize(ngx_gp_upstream_t *u);
void ngx_gp_upstream_action(ngx_gp_upstream_t *u, const char *action);
void ngx_gp_upstream_error(ngx_gp_failure_t *f, const char *param,
    ngx_gp_oai_error_t *err);


#endif /* _NGX_HTTP_GEMINI_POOL_UPSTREAM_H_INCLUDED_ */
