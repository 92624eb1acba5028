
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Re-login, the helper's side (issue #13): the expiry checks (a getoxsrf
 * per account, first soon after the helper starts, then every
 * cookie_check_interval, and at once when a request finds an account
 * expired), the queue of e-mail-code logins (signin.c does one), the
 * check of the harvested cookies before they are saved, and the record
 * of attempts.  The account's state lives in the zone as one member of
 * ngx_gp_account_t, the pool's as one member of ngx_gp_shctx_t; the
 * admin API (admin_relogin.c) reads them and queues logins there.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_RELOGIN_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_RELOGIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_gemini_pool_bodies.h"


#define NGX_GP_RELOGIN_STEP_LEN      64
#define NGX_GP_RELOGIN_STATUS_LEN    24
#define NGX_GP_RELOGIN_REASON_LEN    192

/* NGX_GP_MAILBOX_URL_LEN: bodies.h */

/* the first expiry check, this many seconds after the helper starts */
#define NGX_GP_RELOGIN_FIRST_CHECK   5

/* getoxsrf calls of a check at once */
#define NGX_GP_RELOGIN_PROBES        4

/* logins at once at most (cookie_refresh_concurrency's bound) */
#define NGX_GP_RELOGIN_MAX           8

/* attempts the history keeps */
#define NGX_GP_RELOGIN_HISTORY       1000


/* the account's re-login state: one member of ngx_gp_account_t */
typedef struct {
    time_t                   expired_since;   /* 0: not expired */
    time_t                   queued;          /* 0: not waiting */
    time_t                   started;         /* the login's; 0: none */
    ngx_pid_t                pid;             /* the helper running it */
    time_t                   failed;          /* last failure; 0: none */
    time_t                   next_try;        /* no automatic one before */
    ngx_uint_t               mailbox_gen;     /* settings_gen of the last
                                                 "no mailbox" */
    unsigned                 manual:1;        /* queued by an operator */
    unsigned                 no_mailbox:1;
    u_char                   step[NGX_GP_RELOGIN_STEP_LEN];
    u_char                   status[NGX_GP_RELOGIN_STATUS_LEN];
    u_char                   reason[NGX_GP_RELOGIN_REASON_LEN];
} ngx_gp_relogin_state_t;

/* the pool's: one member of ngx_gp_shctx_t */
typedef struct {
    ngx_uint_t               expired_gen;     /* a request found an account
                                                 expired (zone.c) */
    time_t                   next_check;      /* 0: none planned */
    time_t                   last_check;
    ngx_uint_t               checks;
    ngx_uint_t               checking;        /* getoxsrf calls in flight */
    time_t                   browser_checked; /* last login's start */
    u_char                   browser_error[NGX_GP_RELOGIN_REASON_LEN];
} ngx_gp_relogin_pool_t;


struct ngx_gp_zone_s;

void ngx_gp_relogin_tick(struct ngx_gp_zone_s *z);
void ngx_gp_relogin_exit(void);

/*
 * New cookies for an account, checked with a getoxsrf before they are
 * saved (a login's harvest, or cookies an operator pastes); saved, they
 * reach SQLite (sealed) and the zone, and the account's cooldowns, JWT,
 * expiry and last re-login failure go.  The handler follows once, later
 * (never inside the call): rc NGX_OK (saved), NGX_DECLINED (the getoxsrf
 * refused them: an authentication answer), NGX_ERROR (they could not be
 * checked, or saved), with the reason; the check is freed after it
 * returns.  NULL: it could not start (reason in err).  Cancelling frees
 * it without the handler.
 */
typedef struct ngx_gp_relogin_verify_s  ngx_gp_relogin_verify_t;

typedef void (*ngx_gp_relogin_saved_pt)(void *data, ngx_int_t rc,
    const char *reason);

typedef struct {
    int64_t                  account_id;
    const u_char            *secure_c_ses;
    const u_char            *host_c_oses;    /* "": none */
    const u_char            *csesidx;
    const u_char            *team_id;        /* "": the account's */
} ngx_gp_relogin_cookies_t;

ngx_gp_relogin_verify_t *ngx_gp_relogin_verify(ngx_gp_relogin_cookies_t *c,
    ngx_log_t *log, ngx_gp_relogin_saved_pt handler, void *data,
    const char **err);
void ngx_gp_relogin_verify_cancel(ngx_gp_relogin_verify_t *v);


#endif /* _NGX_HTTP_GEMINI_POOL_RELOGIN_H_INCLUDED_ */
