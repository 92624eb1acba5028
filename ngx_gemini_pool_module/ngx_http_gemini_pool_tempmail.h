
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The temp-mail worker API client (protocol section 13.4): reads an
 * account's mailbox (cloudflare_temp_email) with libcurl on the event
 * loop, in a worker or in the helper.  mail.c parses what it answers.
 *
 * Baseline and waiting: ngx_gp_tempmail_baseline() records the newest
 * mail id before the code is asked for; ngx_gp_tempmail_wait() then
 * polls until a mail above it carries a code.  A code taken moves the
 * baseline to its mail, so the next wait of the same object never takes
 * it again.  When wait() is called without a fresh baseline, it reads
 * the newest id itself at its start; after 10 s without a newer mail it
 * also accepts mails between the last known baseline and that newest id
 * (a code that arrived before the wait started), but never a mail at or
 * below the last known baseline; with no baseline ever known it accepts
 * only mails newer than its start.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_TEMPMAIL_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_TEMPMAIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_gp_tempmail_s  ngx_gp_tempmail_t;

/*
 * rc: NGX_OK (wait: code = 6 chars, NUL-terminated; baseline: code is
 * NULL), NGX_DECLINED (no code in time), NGX_ERROR (reason says why).
 * Called from the event loop, never from inside the call that started
 * the operation; the handler may close t or start another operation.
 */
typedef void (*ngx_gp_tempmail_pt)(void *data, ngx_int_t rc,
    const u_char *code, const char *reason);


/*
 * NULL: bad URL, err says why.  worker_url: the tempmail_worker_url
 * setting (NULL or "": the URL's scheme and host).  proxy: a proxy URL
 * for this mailbox's calls ("direct": none), or NULL or "": the global
 * proxy when proxy_for names tempmail.  The caller takes poll and
 * timeout of wait() from the settings tempmail_poll_interval and
 * tempmail_timeout (seconds).
 */
ngx_gp_tempmail_t *ngx_gp_tempmail_open(const char *tempmail_url,
    const char *worker_url, const char *proxy, ngx_log_t *log,
    char *err, size_t errlen);

/* newest id -> baseline; NGX_ERROR when it cannot start (or is busy) */
ngx_int_t ngx_gp_tempmail_baseline(ngx_gp_tempmail_t *t,
    ngx_gp_tempmail_pt handler, void *data);

ngx_int_t ngx_gp_tempmail_wait(ngx_gp_tempmail_t *t, ngx_msec_t poll,
    ngx_msec_t timeout, ngx_gp_tempmail_pt handler, void *data);

/*
 * A baseline known from before (the id of the last mail read, kept by
 * the caller across logins): the next wait() reads the newest id at its
 * start, and after 10 s without a newer mail also accepts the mails above
 * id (never one at or below it).
 */
void ngx_gp_tempmail_set_baseline(ngx_gp_tempmail_t *t, int64_t id);

const char *ngx_gp_tempmail_address(ngx_gp_tempmail_t *t);

/* cancels what runs (its handler is not called) and frees t */
void ngx_gp_tempmail_close(ngx_gp_tempmail_t *t);


/*
 * After a baseline: the API base, the newest mail (id 0: the mailbox is
 * empty), its subject, the code in it ("" if none; for display only, it
 * is below the baseline and must never be typed), the HTTP status of the
 * last call (0: none or no answer).
 */
const char *ngx_gp_tempmail_base(ngx_gp_tempmail_t *t);
int64_t ngx_gp_tempmail_newest(ngx_gp_tempmail_t *t, const char **subject,
    const u_char **code);
long ngx_gp_tempmail_status(ngx_gp_tempmail_t *t);


#endif /* _NGX_HTTP_GEMINI_POOL_TEMPMAIL_H_INCLUDED_ */
