
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The upstream client: the one owner of the sequence every upstream call
 * starts with,
 *
 *   choose an account (a file's, the conversation's bound session, or
 *   the pool's pick, with one of its spare sessions) -> JWT (the zone's,
 *   another process's fetch waited for, or getoxsrf) ->
 *   widgetCreateSession (unless a session is known) -> ready(u)
 *
 * and of what a failure does: its kind from the transfer (classify),
 * the pool's rules on the account (cooldown, expiry, release), failover,
 * and the error a request that ends with it gets.  Chat turns, /v1/files
 * uploads, media downloads, the helper's JWT refresh and the admin's
 * account test use it; gemini.c builds the wire calls, zone.c keeps the
 * accounts and curl.c runs the transfers.
 */


#include "ngx_http_gemini_pool_module.h"


/* how often a request looks for another process's getoxsrf result */
#define NGX_GP_JWT_POLL        50


static void ngx_gp_upstream_pinned(ngx_gp_upstream_t *u);
static ngx_int_t ngx_gp_upstream_binding(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_remote(void *data, ngx_uint_t found);
static void ngx_gp_upstream_pick(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_jwt(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_jwt_timer(ngx_event_t *ev);
static void ngx_gp_upstream_xsrf(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_xsrf_done(ngx_gp_xfer_t *x);
static void ngx_gp_upstream_session(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_session_done(ngx_gp_xfer_t *x);
static void ngx_gp_upstream_ready(ngx_gp_upstream_t *u);
static void ngx_gp_upstream_failed(ngx_gp_upstream_t *u, ngx_gp_xfer_t *x);
static void ngx_gp_upstream_fail(ngx_gp_upstream_t *u, ngx_uint_t kind,
    long status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void ngx_gp_upstream_no_account(ngx_gp_upstream_t *u, ngx_int_t rc,
    time_t retry);
static void ngx_gp_upstream_abort(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static ngx_int_t ngx_gp_upstream_refused(ngx_gp_failure_t *f,
    ngx_gp_oai_error_t *err);


/*
 * Starts the sequence (again, after ngx_gp_upstream_next() allowed it);
 * ready(u) or fail(u, f) follows, possibly from inside this call.
 */

void
ngx_gp_upstream_start(ngx_gp_upstream_t *u)
{
    u->ident = -1;
    u->timer.handler = ngx_gp_upstream_jwt_timer;
    u->timer.data = u;
    u->timer.log = u->log;
    u->jwt_wait = 0;

    if (u->mode != NGX_GP_UPSTREAM_SESSION) {
        ngx_gp_upstream_action(u, "getting a JWT");

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "gemini pool: %s JWT of account \"%s\"",
                       u->mode == NGX_GP_UPSTREAM_JWT ? "the" : "a new",
                       u->acct->name);

        if (u->mode == NGX_GP_UPSTREAM_JWT
            || u->mode == NGX_GP_UPSTREAM_SPARE)
        {
            ngx_gp_upstream_jwt(u);
            return;
        }

        u->fetching = (u->mode == NGX_GP_UPSTREAM_REFRESH);
        ngx_gp_upstream_xsrf(u);
        return;
    }

    u->attempts++;
    u->bound = 0;
    u->resumed = 0;
    u->spare = 0;

    free(u->session);
    u->session = NULL;

    ngx_gp_upstream_action(u, "choosing an account");

    if (u->pin_account) {
        ngx_gp_upstream_pinned(u);
        return;
    }

    /* a follow-up turn goes to its account and session when it can */

    if (u->conv_key && !u->tried_binding) {
        u->tried_binding = 1;

        if (ngx_gp_upstream_binding(u) == NGX_OK) {
            ngx_gp_upstream_jwt(u);
            return;
        }

        /*
         * several gateways: the turn before may have been served by
         * another; one GET (at most NGX_GP_CLUSTER_WAIT ms) before a
         * new session is chosen
         */

        if (!u->tried_cluster) {
            u->tried_cluster = 1;
            u->binding_get = ngx_gp_cluster_binding_get(u->conv_key,
                                                ngx_gp_upstream_remote, u);
            if (u->binding_get) {
                return;
            }
        }
    }

    ngx_gp_upstream_pick(u);
}


/* the binding another gateway wrote (found: now in the zone), or none */

static void
ngx_gp_upstream_remote(void *data, ngx_uint_t found)
{
    ngx_gp_upstream_t  *u = data;

    u->binding_get = NULL;

    if (found && ngx_gp_upstream_binding(u) == NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "gemini pool: the conversation's binding from "
                       "Redis");
        ngx_gp_upstream_jwt(u);
        return;
    }

    ngx_gp_upstream_pick(u);
}


static void
ngx_gp_upstream_pick(ngx_gp_upstream_t *u)
{
    time_t          retry;
    ngx_int_t       rc;
    ngx_gp_spare_t  spare;

    /* a new session: one of the account's spares when it has one */

    rc = ngx_gp_zone_pick(u->zone, u->acct, u->quota, u->only, &retry,
                          &spare);

    if (rc == NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "gemini pool: attempt %ui on account \"%s\"",
                       u->attempts, u->acct->name);

        if (spare.created) {
            u->session = strdup((char *) spare.session);

            if (u->session) {
                u->spare = 1;
                u->session_created = spare.created;

                ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                               "gemini pool: spare session \"%s\" of "
                               "account \"%s\"", u->session,
                               u->acct->name);
            }
        }

        ngx_gp_upstream_jwt(u);
        return;
    }

    ngx_gp_upstream_no_account(u, rc, retry);
}


/*
 * A call in a spare session failed (f): when the answer says the session
 * is not the account's or no longer exists, the account's spares are
 * forgotten and 1 is returned: the caller goes on with
 * ngx_gp_upstream_renew(), a new session on the same account, and the
 * failure counts against neither the account nor the request.
 */

ngx_uint_t
ngx_gp_upstream_spare_refused(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    if (!u->spare || u->acct->id == 0
        || !ngx_gp_rules_session_gone((int) f->kind, f->status, f->msg))
    {
        return 0;
    }

    ngx_log_error(NGX_LOG_INFO, u->log, 0,
                  "gemini pool: spare session of account \"%s\" refused: "
                  "%s; its spares are dropped, creating a session",
                  u->acct->name, f->msg);

    ngx_gp_zone_spares_drop(u->zone, u->acct, 1, 0);

    u->spare = 0;

    return 1;
}


/* a new session on the account the request holds, then ready(u) */

void
ngx_gp_upstream_renew(ngx_gp_upstream_t *u)
{
    free(u->session);
    u->session = NULL;
    u->spare = 0;
    u->resumed = 0;
    u->bound = 0;

    ngx_gp_upstream_jwt(u);
}


/* the account and session a file lives in */

static void
ngx_gp_upstream_pinned(ngx_gp_upstream_t *u)
{
    time_t     retry, created;
    int64_t    bound_id;
    ngx_int_t  rc;
    u_char     bound[NGX_GP_SESSION_LEN];

    rc = ngx_gp_zone_pick(u->zone, u->acct, u->quota,
                          (ngx_int_t) u->pin_account, &retry, NULL);

    if (rc != NGX_OK) {
        ngx_gp_upstream_no_account(u, rc, retry);
        return;
    }

    /* the conversation may already live in that session */

    u->session_created = ngx_time();

    if (u->conv_key
        && ngx_gp_zone_binding_get(u->zone, u->conv_key, &bound_id,
                                   &created, bound)
           == NGX_OK
        && bound_id == u->pin_account
        && ngx_strcmp(bound, u->pin_session) == 0)
    {
        u->resumed = 1;
        u->session_created = created;
    }

    free(u->session);
    u->session = strdup((char *) u->pin_session);

    if (u->session == NULL) {
        ngx_gp_upstream_fail(u, NGX_GP_FAIL_INTERNAL, 0, "out of memory");
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: turn with a file on account \"%s\" "
                   "session \"%s\"", u->acct->name, u->session);

    ngx_gp_upstream_jwt(u);
}


/* NGX_OK: the conversation's account is taken, its session in u */

static ngx_int_t
ngx_gp_upstream_binding(ngx_gp_upstream_t *u)
{
    time_t   created, max_age;
    int64_t  account_id;
    u_char   session[NGX_GP_SESSION_LEN];

    max_age = ngx_gp_setting_int(u->zone, NGX_GP_SET_SESSION_MAX_AGE);

    if (ngx_gp_zone_binding_get(u->zone, u->conv_key, &account_id,
                                &created, session)
        != NGX_OK
        || (max_age && ngx_time() - created >= max_age)
        || ngx_gp_zone_take(u->zone, u->acct, account_id, u->quota)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    free(u->session);
    u->session = strdup((char *) session);

    if (u->session == NULL) {
        /* the pick that follows fails the same way, with the account */
        ngx_gp_upstream_release(u, 1, NULL);
        return NGX_DECLINED;
    }

    u->bound = 1;
    u->resumed = 1;
    u->session_created = created;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: follow-up turn on account \"%s\" "
                   "session \"%s\"", u->acct->name, session);

    return NGX_OK;
}


/* the zone's JWT, another process's getoxsrf, or one of ours */

static void
ngx_gp_upstream_jwt(ngx_gp_upstream_t *u)
{
    ngx_int_t  rc;

    ngx_gp_upstream_action(u, "getting a JWT");

    rc = ngx_gp_zone_jwt(u->zone, u->acct);

    switch (rc) {

    case NGX_GP_JWT_FRESH:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "gemini pool: JWT of account \"%s\" from the zone",
                       u->acct->name);

        if ((u->mode == NGX_GP_UPSTREAM_SESSION
             || u->mode == NGX_GP_UPSTREAM_SPARE)
            && u->session == NULL)
        {
            ngx_gp_upstream_session(u);
            return;
        }

        ngx_gp_upstream_ready(u);
        return;

    case NGX_GP_JWT_FETCH:
        u->fetching = 1;
        ngx_gp_upstream_xsrf(u);
        return;

    case NGX_GP_JWT_WAIT:
        if (u->mode == NGX_GP_UPSTREAM_SESSION
            || u->mode == NGX_GP_UPSTREAM_SPARE)
        {
            break;
        }

        /* fall through */

    default:
        if (u->mode == NGX_GP_UPSTREAM_JWT) {
            /* the caller's JWT is still good for a while */
            ngx_gp_upstream_ready(u);
            return;
        }

        /* the account vanished in a reload */
        ngx_gp_upstream_fail(u, NGX_GP_FAIL_INTERNAL, 0,
                             "account removed from the pool");
        return;
    }

    if (u->jwt_wait >= u->zone->gmcf->xsrf_timeout) {
        ngx_gp_upstream_fail(u, NGX_GP_FAIL_TIMEOUT, 0,
                             "timed out waiting for another process's "
                             "getoxsrf");
        return;
    }

    if (u->jwt_wait == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "gemini pool: waiting for another process's JWT "
                       "of account \"%s\"", u->acct->name);
    }

    u->jwt_wait += NGX_GP_JWT_POLL;
    ngx_add_timer(&u->timer, NGX_GP_JWT_POLL);
}


static void
ngx_gp_upstream_jwt_timer(ngx_event_t *ev)
{
    ngx_gp_upstream_jwt(ev->data);
}


static void
ngx_gp_upstream_xsrf(ngx_gp_upstream_t *u)
{
    ngx_gp_xfer_t  *x;

    x = ngx_gp_gemini_getoxsrf(u->zone->gmcf, u->acct, u->log);

    if (x) {
        x->on_done = ngx_gp_upstream_xsrf_done;
        x->data = u;
        u->xfer = x;

        if (ngx_gp_xfer_start(x) == NGX_OK) {
            return;
        }
    }

    ngx_gp_upstream_fail(u, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start getoxsrf");
}


static void
ngx_gp_upstream_xsrf_done(ngx_gp_xfer_t *x)
{
    int                 rc;
    char               *jwt;
    const char         *err;
    ngx_uint_t          kind;
    ngx_gp_upstream_t  *u = x->data;

    if (x->result != CURLE_OK || x->status != 200) {
        ngx_gp_upstream_failed(u, x);
        return;
    }

    jwt = ngx_gp_gemini_jwt_from_xsrf(x, u->acct, &err, &rc);

    if (jwt == NULL) {
        /*
         * only a JSON answer without keyId refuses the cookies (spec
         * §3); bytes that are no JSON object (cut short, garbage, an
         * intercepting proxy's page) are the way there failing, as a
         * broken stream is: a cooldown, the account is not expired
         */
        kind = (rc == NGX_GP_XSRF_REFUSED) ? NGX_GP_FAIL_AUTH
               : (rc == NGX_GP_XSRF_NOMEM) ? NGX_GP_FAIL_INTERNAL
               : NGX_GP_FAIL_NETWORK;

        ngx_gp_upstream_fail(u, kind, 200, "getoxsrf answer unusable: %s",
                             err);
        return;
    }

    if (u->mode != NGX_GP_UPSTREAM_PROBE) {
        ngx_gp_zone_jwt_store(u->zone, u->acct, jwt, ngx_time());
        u->fetching = 0;
    }

    ngx_cpystrn(u->acct->jwt, (u_char *) jwt, NGX_GP_JWT_LEN);
    free(jwt);

    ngx_gp_xfer_destroy(x);
    u->xfer = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: JWT of account \"%s\" from getoxsrf",
                   u->acct->name);

    if ((u->mode == NGX_GP_UPSTREAM_SESSION
         || u->mode == NGX_GP_UPSTREAM_SPARE)
        && u->session == NULL)
    {
        ngx_gp_upstream_session(u);
        return;
    }

    ngx_gp_upstream_ready(u);
}


static void
ngx_gp_upstream_session(ngx_gp_upstream_t *u)
{
    char           *body;
    size_t          len;
    ngx_gp_xfer_t  *x;
    u_char          name[16];

    ngx_gp_upstream_action(u, "creating a session");

    ngx_sprintf(name, "%06xD%06xD%Z", (uint32_t) ngx_random() & 0xffffff,
                (uint32_t) ngx_random() & 0xffffff);

    body = ngx_gp_body_create_session((char *) u->acct->team_id,
                                      (char *) name, &len);
    if (body == NULL) {
        ngx_gp_upstream_fail(u, NGX_GP_FAIL_INTERNAL, 0, "out of memory");
        return;
    }

    x = ngx_gp_gemini_widget(u->zone->gmcf, u->acct, "widgetCreateSession",
                             body, len, u->zone->gmcf->session_timeout,
                             u->log);
    if (x) {
        x->on_done = ngx_gp_upstream_session_done;
        x->data = u;
        x->max = 256 * 1024;
        u->xfer = x;

        if (ngx_gp_xfer_start(x) == NGX_OK) {
            return;
        }
    }

    ngx_gp_upstream_fail(u, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start widgetCreateSession");
}


static void
ngx_gp_upstream_session_done(ngx_gp_xfer_t *x)
{
    ngx_gp_upstream_t  *u = x->data;

    if (x->result != CURLE_OK || x->status != 200) {
        ngx_gp_upstream_failed(u, x);
        return;
    }

    u->session = ngx_gp_session_parse((char *) x->buf, x->len);

    if (u->session == NULL) {
        ngx_gp_upstream_fail(u, NGX_GP_FAIL_SERVER, 200,
                             "widgetCreateSession answered without a "
                             "session");
        return;
    }

    u->session_created = ngx_time();

    ngx_gp_xfer_destroy(x);
    u->xfer = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: new session \"%s\" on account \"%s\"",
                   u->session, u->acct->name);

    ngx_gp_upstream_ready(u);
}


static void
ngx_gp_upstream_ready(ngx_gp_upstream_t *u)
{
    ngx_gp_upstream_action(u, NULL);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: account \"%s\" ready", u->acct->name);

    u->ready(u);
}


/* a transfer of the sequence failed: its kind, then the caller's fail */

static void
ngx_gp_upstream_failed(ngx_gp_upstream_t *u, ngx_gp_xfer_t *x)
{
    ngx_gp_failure_t  f;

    (void) ngx_gp_upstream_classify(x, &f);

    ngx_gp_upstream_abort(u, &f);
}


static void
ngx_gp_upstream_fail(ngx_gp_upstream_t *u, ngx_uint_t kind, long status,
    const char *fmt, ...)
{
    va_list           args;
    ngx_gp_failure_t  f;

    f.kind = kind;
    f.status = status;
    f.retry_after = 0;

    va_start(args, fmt);
    (void) vsnprintf(f.msg, sizeof(f.msg), fmt, args);
    va_end(args);

    ngx_gp_upstream_abort(u, &f);
}


/* rc of the pick: NGX_AGAIN, every candidate cools down until retry */

static void
ngx_gp_upstream_no_account(ngx_gp_upstream_t *u, ngx_int_t rc,
    time_t retry)
{
    ngx_gp_failure_t  f;

    u->acct->id = 0;

    f.kind = NGX_GP_FAIL_NONE;
    f.status = 0;
    f.retry_after = (rc == NGX_AGAIN) ? ngx_max(retry - ngx_time(), 1) : 0;

    if (f.retry_after && u->pin_account) {
        (void) snprintf(f.msg, sizeof(f.msg), "The account holding the "
                        "file is cooling down; it is usable again in %d s",
                        (int) f.retry_after);

    } else if (f.retry_after) {
        (void) snprintf(f.msg, sizeof(f.msg), "All accounts are cooling "
                        "down; the earliest is usable again in %d s",
                        (int) f.retry_after);

    } else if (u->pin_account) {
        (void) snprintf(f.msg, sizeof(f.msg), "The account holding the "
                        "file is disabled, expired or removed; upload the "
                        "file again");

    } else {
        (void) snprintf(f.msg, sizeof(f.msg), "No account is enabled in "
                        "the pool");
    }

    ngx_gp_upstream_abort(u, &f);
}


static void
ngx_gp_upstream_abort(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    if (u->xfer) {
        ngx_gp_xfer_destroy(u->xfer);
        u->xfer = NULL;
    }

    if (u->timer.timer_set) {
        ngx_del_timer(&u->timer);
    }

    if (u->fetching) {
        /* releases the zone's refresh lock this process took */
        ngx_gp_zone_jwt_store(u->zone, u->acct, NULL, 0);
        u->fetching = 0;
    }

    if (u->mode != NGX_GP_UPSTREAM_SESSION) {
        ngx_gp_upstream_action(u, NULL);
    }

    /* SESSION: the log's action stays until ngx_gp_upstream_next() */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "gemini pool: upstream failure \"%s\": %s",
                   ngx_gp_fail_kinds[f->kind].name, f->msg);

    u->fail(u, f);
}


/*
 * The failure of a finished transfer (status, curl's result, the body):
 * its kind and a message; the kind, NGX_GP_FAIL_NONE when it did not
 * fail.
 */

ngx_uint_t
ngx_gp_upstream_classify(ngx_gp_xfer_t *x, ngx_gp_failure_t *f)
{
    ngx_gp_gerror_t  ge;
    u_char           reason[256];

    f->kind = ngx_gp_rules_classify(x->status, x->result, x->proxied,
                                    (char *) x->buf, x->buf ? x->len : 0);
    f->status = x->status;
    f->retry_after = 0;

    switch (f->kind) {

    case NGX_GP_FAIL_NONE:
        f->msg[0] = '\0';
        break;

    case NGX_GP_FAIL_TIMEOUT:
        (void) snprintf(f->msg, sizeof(f->msg), "%s timed out", x->what);
        break;

    case NGX_GP_FAIL_NETWORK:
        (void) snprintf(f->msg, sizeof(f->msg), "%s %s: %s", x->what,
                        x->status ? "broken" : "failed",
                        ngx_gp_xfer_describe(x, reason, sizeof(reason)));
        break;

    default:
        (void) ngx_gp_gerror_parse((char *) x->buf, x->len, &ge);

        if (f->kind == NGX_GP_FAIL_RATE) {
            /* overload, a used-up quota, or it does not say */
            f->kind = ngx_gp_rules_rate_kind(ge.reason, ge.message);
        }

        (void) snprintf(f->msg, sizeof(f->msg), "%s answered %ld: %s",
                        x->what, x->status, ge.message ? ge.message : "");
        ngx_gp_gerror_free(&ge);
        break;
    }

    return f->kind;
}


/*
 * An attempt failed (more: the request could still go to another
 * account): the failure is counted, the pool's rules are applied to the
 * account (cooldown, expiry), the account is released, the failure is
 * logged "while" the state the request was in, and the log's action is
 * put back.  1: the caller may start the sequence again on another
 * account.
 */

ngx_uint_t
ngx_gp_upstream_next(ngx_gp_upstream_t *u, ngx_gp_failure_t *f,
    ngx_uint_t more, ngx_gp_verdict_t *v)
{
    ngx_uint_t      retry;
    ngx_gp_zone_t  *z;

    z = u->zone;

    ngx_gp_zone_verdict(z, u->acct, f->kind, u->quota, v);

    /* every upstream failure counts, also those a failover hides */
    ngx_shmtx_lock(&z->shpool->mutex);
    z->sh->metrics.failures[f->kind < NGX_GP_FAIL_N ? f->kind : 0]++;
    ngx_shmtx_unlock(&z->shpool->mutex);

    retry = v->retry && more && u->attempts < u->max_attempts;

    if (u->acct->id) {
        /* one line per failover: the account, the reason, what next */
        ngx_log_error(NGX_LOG_WARN, u->log, 0,
                      "gemini pool: account \"%s\" failed: %s; %s "
                      "(%s%sattempt %ui of %ui)", u->acct->name, f->msg,
                      retry ? "trying the next account" : "giving up",
                      u->what ? u->what : "", u->what ? ", " : "",
                      u->attempts, u->max_attempts);

        if (v->until || v->expired) {
            ngx_gp_zone_cooldown(z, u->acct, v->quota, v->until,
                                 v->expired, f->msg);
            ngx_gp_cluster_cooldown(u->acct->name, v->quota, v->until,
                                    v->expired);
        }

        if (v->drop_spares) {
            ngx_gp_zone_spares_drop(z, u->acct, 1, 0);
        }

        ngx_gp_upstream_release(u, 0, f->msg);
    }

    ngx_gp_upstream_action(u, NULL);

    return retry;
}


void
ngx_gp_upstream_release(ngx_gp_upstream_t *u, ngx_uint_t ok,
    const char *error)
{
    ngx_gp_zone_release(u->zone, u->acct, ok, error);
    u->acct->id = 0;
}


/* the request ends: transfers, timers, the account and the lock go */

void
ngx_gp_upstream_finalize(ngx_gp_upstream_t *u)
{
    if (u->timer.timer_set) {
        ngx_del_timer(&u->timer);
    }

    if (u->xfer) {
        ngx_gp_xfer_destroy(u->xfer);
        u->xfer = NULL;
    }

    if (u->binding_get) {
        ngx_gp_cluster_binding_cancel(u->binding_get);
        u->binding_get = NULL;
    }

    if (u->fetching) {
        ngx_gp_zone_jwt_store(u->zone, u->acct, NULL, 0);
        u->fetching = 0;
    }

    if (u->acct && u->acct->id && u->mode == NGX_GP_UPSTREAM_SESSION) {
        ngx_gp_upstream_release(u, 0, NULL);
    }

    ngx_gp_upstream_action(u, NULL);

    free(u->session);
    u->session = NULL;
}


/*
 * The log's action (what "while ..." says in error messages) for a state
 * of the request; NULL puts back the action the log had before.
 */

void
ngx_gp_upstream_action(ngx_gp_upstream_t *u, const char *action)
{
    if (action == NULL) {
        if (u->action_set) {
            u->log->action = (char *) u->action;
            u->action_set = 0;
        }

        return;
    }

    if (!u->action_set) {
        u->action = u->log->action;
        u->action_set = 1;
    }

    u->log->action = (char *) action;
}


/*
 * The error a request that ends with failure f gets; param names the
 * field of a request the upstream refused (NULL: none).
 */

void
ngx_gp_upstream_error(ngx_gp_failure_t *f, const char *param,
    ngx_gp_oai_error_t *err)
{
    ngx_uint_t                 kind;
    const ngx_gp_fail_kind_t  *k;

    if (f->kind == NGX_GP_FAIL_NONE) {
        /* no account could be chosen */

        if (f->retry_after) {
            ngx_gp_oai_error_set(err, NGX_HTTP_TOO_MANY_REQUESTS,
                                 "rate_limit_error", "no_account_available",
                                 NULL, "%s", f->msg);
            return;
        }

        ngx_gp_oai_error_set(err, NGX_HTTP_SERVICE_UNAVAILABLE,
                             "server_error", "no_account_available", NULL,
                             "%s", f->msg);
        return;
    }

    if (f->kind == NGX_GP_FAIL_REQUEST
        && ngx_gp_upstream_refused(f, err) == NGX_OK)
    {
        if (param) {
            err->param = param;
        }

        return;
    }

    kind = f->kind < NGX_GP_FAIL_N ? f->kind : NGX_GP_FAIL_NONE;
    k = &ngx_gp_fail_kinds[kind];

    ngx_gp_oai_error_set(err, k->status, k->type, k->code,
                         kind == NGX_GP_FAIL_REQUEST ? param : NULL, "%s",
                         f->msg);
}


/*
 * An upstream refusal that concerns the request's files: an unsupported
 * type, a file the session does not hold, a file too big.
 */

static ngx_int_t
ngx_gp_upstream_refused(ngx_gp_failure_t *f, ngx_gp_oai_error_t *err)
{
    if (ngx_strstr(f->msg, "Unsupported file type") != NULL) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             "unsupported_file_type", "messages", "%s",
                             f->msg);
        return NGX_OK;
    }

    if (ngx_strstr(f->msg, "File with ID") != NULL
        && ngx_strstr(f->msg, "not found") != NULL)
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "file_not_found",
                             "messages", "A file of this message is not "
                             "in the upstream session (it may have "
                             "expired): %s", f->msg);
        return NGX_OK;
    }

    if (f->status == 413
        && ngx_strstr(f->msg, "widgetAddContextFile") != NULL)
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "file_too_large",
                             "messages", "The upstream refused a file as "
                             "too large: %s", f->msg);
        return NGX_OK;
    }

    return NGX_DECLINED;
}
