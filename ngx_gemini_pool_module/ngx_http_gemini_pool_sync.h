
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Remote sync, the push side (protocol section 15): an account's
 * credentials go to the peer in remote_sync_url as the reference sends
 * them, PUT <url>/api/accounts/<list position> with X-Admin-Token and
 * {"team_id","secure_c_ses","host_c_oses","csesidx","user_agent"}, 30 s,
 * success iff 200.  Between two of our gateways the account is named by
 * X-Gemini-Pool-Account: <its name, percent-encoded>, which our receiver
 * prefers to the position (a reference peer ignores the header).
 *
 * A failed push is kept in the account's zone slot (ngx_gp_sync_state_t)
 * and retried by the helper's tick with back-off (remote_sync_retry, 30 s,
 * doubling, at most an hour) until a push succeeds, which clears it.  The
 * state lives in the zone: it survives a reload, not a restart.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_SYNC_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_SYNC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_GP_SYNC_HEADER        "X-Gemini-Pool-Account"
#define NGX_GP_SYNC_ERROR_LEN     128


/* one member of ngx_gp_account_t; changed under the zone's mutex */
typedef struct {
    unsigned                 pending:1;     /* a push is owed */
    ngx_uint_t               attempts;      /* failed pushes since */
    time_t                   next_try;
    time_t                   busy_until;    /* a push in flight */
    time_t                   last_try;
    time_t                   last_success;
    long                     last_status;   /* 0: no answer */
    u_char                   last_error[NGX_GP_SYNC_ERROR_LEN];
} ngx_gp_sync_state_t;


typedef struct ngx_gp_sync_push_s  ngx_gp_sync_push_t;

/* ok: the peer answered 200 (or no peer is set: skipped) */
typedef void (*ngx_gp_sync_pt)(void *data, ngx_uint_t ok, long status,
    const char *error);


/*
 * After a successful refresh (helper process): push the account; a
 * failure is kept and retried by ngx_gp_sync_tick(); no-op when
 * remote_sync_url is empty.
 */
void ngx_gp_sync_account(int64_t account_id);

/* called from helper.c's tick: retries what is owed and due */
void ngx_gp_sync_tick(void);

/* the helper's exit: ends its pushes in flight */
void ngx_gp_sync_exit(void);

/*
 * One push of the account with that id; handler (may be NULL) is called
 * once from the event loop, unless ngx_gp_sync_cancel() comes first.
 * NULL when it did not start: *skipped says whether because no peer is
 * set (a success, as the reference counts it), else err says why (and
 * the failure is recorded like a failed push).
 */
ngx_gp_sync_push_t *ngx_gp_sync_push(int64_t account_id, ngx_log_t *log,
    ngx_gp_sync_pt handler, void *data, ngx_uint_t *skipped,
    char *err, size_t errlen);
void ngx_gp_sync_cancel(ngx_gp_sync_push_t *p);

/*
 * The connection test: GET <url>/api/accounts with X-Admin-Token (url and
 * key: the settings when NULL); ok iff 200.  NULL with err when it did
 * not start.
 */
ngx_gp_sync_push_t *ngx_gp_sync_test(const char *url, const char *key,
    ngx_log_t *log, ngx_gp_sync_pt handler, void *data, char *err,
    size_t errlen);

/* the back-off after n failed pushes, in seconds (first: the setting
   remote_sync_retry), doubling up to an hour */
time_t ngx_gp_sync_backoff(time_t first, ngx_uint_t n);


#endif /* _NGX_HTTP_GEMINI_POOL_SYNC_H_INCLUDED_ */
