
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * One e-mail-code login of one account (protocol section 13): the browser
 * flow that the recipe describes, the code from the account's mailbox,
 * the cookies, csesidx and team_id harvested at the end.  The caller (the
 * re-login controller in relogin.c) verifies and saves what it returns.
 * Runs on the helper's event loop; never blocks.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_SIGNIN_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_SIGNIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* how one login ended */
typedef enum {
    NGX_GP_SIGNIN_OK = 0,
    NGX_GP_SIGNIN_NO_MAILBOX,     /* the account has no tempmail_url */
    NGX_GP_SIGNIN_NO_BROWSER,     /* Chromium missing or not configured */
    NGX_GP_SIGNIN_MAILBOX,        /* the mailbox could not be read */
    NGX_GP_SIGNIN_NO_CODE,        /* no code arrived in time */
    NGX_GP_SIGNIN_CODE_ERROR,     /* every code was refused */
    NGX_GP_SIGNIN_LIMIT,          /* "limit exceeded" after the retries */
    NGX_GP_SIGNIN_PAGE_ERROR,     /* an error page, or an unknown page */
    NGX_GP_SIGNIN_CHALLENGE,      /* a challenge that needs a person */
    NGX_GP_SIGNIN_NO_COOKIES,     /* signed in, but no cookies/csesidx */
    NGX_GP_SIGNIN_TIMEOUT,        /* the whole login ran out of time */
    NGX_GP_SIGNIN_ABORTED,        /* cancelled (helper exit, operator) */
    NGX_GP_SIGNIN_ERROR           /* our own failure (memory, pipe, ...) */
} ngx_gp_signin_status_e;


#define NGX_GP_SIGNIN_REASON_LEN  192
#define NGX_GP_SIGNIN_STEP_LEN    64


typedef struct {
    ngx_gp_signin_status_e    status;
    u_char                   reason[NGX_GP_SIGNIN_REASON_LEN];  /* text */

    /* on NGX_GP_SIGNIN_OK; NUL-terminated, team_id may be empty */
    u_char                   secure_c_ses[NGX_GP_COOKIE_LEN];
    u_char                   host_c_oses[NGX_GP_COOKIE_LEN];
    u_char                   csesidx[NGX_GP_CSESIDX_LEN];
    u_char                   team_id[NGX_GP_TEAM_LEN];
} ngx_gp_signin_result_t;


/* what a login needs of its account (NUL-terminated strings) */
typedef struct {
    int64_t                  account_id;
    const char              *name;
    const char              *tempmail_url;   /* the mailbox, with ?jwt= */
    const char              *tempmail_worker_url;   /* setting, or "" */
    const char              *proxy;          /* tempmail traffic, or "" */
} ngx_gp_signin_input_t;


typedef struct ngx_gp_signin_s  ngx_gp_signin_t;

/* the login reached a step ("open login page", "wait for code", ...) */
typedef void (*ngx_gp_signin_step_pt)(void *data, const char *step);

/* the login ended; r is valid during the call only; the login is freed
   after the handler returns */
typedef void (*ngx_gp_signin_done_pt)(void *data, ngx_gp_signin_result_t *r);


/*
 * Starts a login.  Returns NULL when it cannot start, after filling *r
 * with the reason (done is then not called); else done is called exactly
 * once, later, from the event loop.
 */
ngx_gp_signin_t *ngx_gp_signin_start(ngx_gp_signin_input_t *in, ngx_log_t *log,
    ngx_gp_signin_step_pt step, ngx_gp_signin_done_pt done, void *data,
    ngx_gp_signin_result_t *r);

/* ends a running login at once: done is called with NGX_GP_SIGNIN_ABORTED,
   the browser and its profile are gone when this returns */
void ngx_gp_signin_cancel(ngx_gp_signin_t *l);

/* the status as a word for logs, the API and the console ("code_error") */
const char *ngx_gp_signin_status_name(ngx_gp_signin_status_e status);


#endif /* _NGX_HTTP_GEMINI_POOL_SIGNIN_H_INCLUDED_ */
