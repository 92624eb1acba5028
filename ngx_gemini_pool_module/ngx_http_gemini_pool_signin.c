
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * One e-mail-code login (see the header).  The browser flow is being
 * built (issue #13); until it lands a login cannot start and says why.
 */


#include "ngx_http_gemini_pool_module.h"


static const char  *ngx_gp_signin_names[] = {
    "ok",
    "no_mailbox",
    "no_browser",
    "mailbox",
    "no_code",
    "code_error",
    "limit_exceeded",
    "page_error",
    "challenge",
    "no_cookies",
    "timeout",
    "aborted",
    "error"
};


ngx_gp_signin_t *
ngx_gp_signin_start(ngx_gp_signin_input_t *in, ngx_log_t *log,
    ngx_gp_signin_step_pt step, ngx_gp_signin_done_pt done, void *data,
    ngx_gp_signin_result_t *r)
{
    ngx_memzero(r, sizeof(ngx_gp_signin_result_t));

    if (in->tempmail_url == NULL || in->tempmail_url[0] == '\0') {
        r->status = NGX_GP_SIGNIN_NO_MAILBOX;
        (void) ngx_cpystrn(r->reason, (u_char *) "the account has no mailbox "
                           "(tempmail_url)", NGX_GP_SIGNIN_REASON_LEN);
        return NULL;
    }

    r->status = NGX_GP_SIGNIN_NO_BROWSER;
    (void) ngx_cpystrn(r->reason, (u_char *) "the browser login is not "
                       "built in this version", NGX_GP_SIGNIN_REASON_LEN);

    return NULL;
}


void
ngx_gp_signin_cancel(ngx_gp_signin_t *l)
{
}


const char *
ngx_gp_signin_status_name(ngx_gp_signin_status_e status)
{
    if ((ngx_uint_t) status
        >= sizeof(ngx_gp_signin_names) / sizeof(ngx_gp_signin_names[0]))
    {
        return "error";
    }

    return ngx_gp_signin_names[status];
}
