
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Re-login, the helper's side (see the header).  Everything here runs in
 * the helper role, on its tick (ngx_gp_relogin_tick()) and on the events
 * of its getoxsrf calls and logins:
 *
 *   expiry check: a getoxsrf (the upstream client's PROBE mode) for each
 *   enabled account not already expired, NGX_GP_RELOGIN_PROBES at once;
 *   only an authentication answer (401/403, EXPIRED_SIGN_IN, an answer
 *   without keyId: NGX_GP_FAIL_AUTH) marks an account expired, never a
 *   network failure, a timeout, a proxy failure, a 429 or a 5xx;
 *
 *   queue: the accounts an operator asked for, then (auto_refresh_cookies
 *   on, sync_only_mode off) the expired ones with a mailbox whose retry
 *   time has come; cookie_refresh_concurrency logins at once;
 *
 *   a login: signin.c harvests cookies; a getoxsrf with them (PROBE)
 *   must succeed before they are saved (SQLite, sealed; the zone is
 *   loaded again, which every worker sees at once, with the account's
 *   cooldowns, JWT and expiry gone); a failure keeps the old cookies and
 *   is recorded (status, reason, time, next try); every attempt is a row
 *   of the history.
 */


#include "ngx_http_gemini_pool_module.h"


typedef struct {
    ngx_gp_upstream_t        u;
    ngx_gp_account_copy_t    acct;
    ngx_log_t                log;
} ngx_gp_relogin_probe_t;


typedef struct {
    int64_t                  id;
    time_t                   started;
    ngx_uint_t               manual;
    ngx_gp_signin_t         *signin;
    ngx_log_t                log;
    u_char                   name[NGX_GP_NAME_LEN];
    u_char                   step[NGX_GP_RELOGIN_STEP_LEN];
    u_char                   url[NGX_GP_MAILBOX_URL_LEN];
    u_char                   worker_url[NGX_GP_SETTING_VALUE_LEN];
    u_char                   proxy[NGX_GP_PROXY_LEN];

    /* the harvest's check */
    ngx_gp_relogin_verify_t *verify;

    /* several gateways: the account's lease in Redis, asked or held */
    ngx_gp_cluster_cmd_t    *lease;
    unsigned                 leased:1;
} ngx_gp_relogin_t;


struct ngx_gp_relogin_verify_s {
    ngx_gp_upstream_t        u;
    ngx_gp_account_copy_t    acct;
    ngx_log_t               *log;
    ngx_gp_relogin_saved_pt  handler;
    void                    *data;
    ngx_event_t              start;       /* posted: never inside */
};


static void ngx_gp_relogin_start_helper(ngx_gp_zone_t *z);
static void ngx_gp_relogin_watch(ngx_gp_zone_t *z, time_t now);
static void ngx_gp_relogin_check(ngx_gp_zone_t *z);
static void ngx_gp_relogin_probe_next(ngx_gp_zone_t *z);
static void ngx_gp_relogin_probe_ready(ngx_gp_upstream_t *u);
static void ngx_gp_relogin_probe_failed(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static void ngx_gp_relogin_probe_end(ngx_gp_relogin_probe_t *p);
static void ngx_gp_relogin_schedule(ngx_gp_zone_t *z, time_t now);
static void ngx_gp_relogin_login(ngx_gp_zone_t *z, int64_t id,
    ngx_uint_t manual);
static void ngx_gp_relogin_leased(void *data, ngx_uint_t got);
static void ngx_gp_relogin_run(ngx_gp_zone_t *z, ngx_gp_relogin_t *l);
static void ngx_gp_relogin_step(void *data, const char *step);
static void ngx_gp_relogin_done(void *data, ngx_gp_signin_result_t *r);
static void ngx_gp_relogin_saved(void *data, ngx_int_t rc,
    const char *reason);
static void ngx_gp_relogin_verify_start(ngx_event_t *ev);
static void ngx_gp_relogin_verified(ngx_gp_upstream_t *u);
static void ngx_gp_relogin_refused(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static void ngx_gp_relogin_end(ngx_gp_relogin_t *l, const char *status,
    const char *reason, ngx_uint_t requeue);
static ngx_gp_account_t *ngx_gp_relogin_account(ngx_gp_zone_t *z,
    int64_t id);
static void ngx_gp_relogin_atexit(void);


static ngx_uint_t               ngx_gp_relogin_started;
static ngx_uint_t               ngx_gp_relogin_exiting;
static ngx_uint_t               ngx_gp_relogin_seen_gen;
static time_t                   ngx_gp_relogin_start;

/* the running check: the ids still to probe, the probes in flight */
static int64_t                 *ngx_gp_relogin_todo;
static ngx_uint_t               ngx_gp_relogin_ntodo;
static ngx_uint_t               ngx_gp_relogin_next;
static ngx_uint_t               ngx_gp_relogin_marked;
static ngx_gp_relogin_probe_t  *ngx_gp_relogin_probes[NGX_GP_RELOGIN_PROBES];

/* the logins under way */
static ngx_gp_relogin_t        *ngx_gp_relogin_logins[NGX_GP_RELOGIN_MAX];


void
ngx_gp_relogin_tick(ngx_gp_zone_t *z)
{
    time_t  now;

    if (ngx_gp_relogin_exiting) {
        return;
    }

    now = ngx_time();

    if (!ngx_gp_relogin_started) {
        ngx_gp_relogin_start_helper(z);
    }

    ngx_gp_relogin_watch(z, now);

    ngx_gp_relogin_schedule(z, now);
}


/* a new helper: its exit handler, the first check planned soon */

static void
ngx_gp_relogin_start_helper(ngx_gp_zone_t *z)
{
    time_t             now;

    ngx_gp_relogin_started = 1;
    now = ngx_time();
    ngx_gp_relogin_start = now;

    if (ngx_process == NGX_PROCESS_HELPER) {
        /* nginx ends a helper with exit(): its logins end with it */
        (void) atexit(ngx_gp_relogin_atexit);
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    /* the first check: NGX_GP_RELOGIN_FIRST_CHECK from now (watch) */
    z->sh->relogin.last_check = 0;
    z->sh->relogin.checking = 0;
    ngx_gp_relogin_seen_gen = z->sh->relogin.expired_gen;

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * Logins of a dead helper back to the queue; expiry as requests see it
 * (zone.c marks, bumps expired_gen): the time it began, and a check of
 * the others at once; then the planned checks.
 */

static void
ngx_gp_relogin_watch(ngx_gp_zone_t *z, time_t now)
{
    time_t             next, interval;
    ngx_uint_t         i, gen, check, running;
    ngx_gp_account_t  *acc;

    interval = ngx_gp_setting_int(z, NGX_GP_SET_COOKIE_CHECK_INTERVAL);
    running = (ngx_gp_relogin_todo != NULL);

    ngx_shmtx_lock(&z->shpool->mutex);

    if (!running) {
        /* the plan follows the setting as it is now */
        z->sh->relogin.next_check =
            interval == 0 ? 0
            : z->sh->relogin.last_check
              ? z->sh->relogin.last_check + interval
              : ngx_gp_relogin_start + NGX_GP_RELOGIN_FIRST_CHECK;
    }

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        /*
         * a login of a helper that is gone (kill -9, a crash) waits for
         * this one; one that is still exiting (a reload) ends it itself
         */
        if (acc->relogin.started && acc->relogin.pid != ngx_pid
            && kill(acc->relogin.pid, 0) == -1 && ngx_errno == NGX_ESRCH)
        {
            acc->relogin.started = 0;
            acc->relogin.pid = 0;
            acc->relogin.queued = now;
            acc->relogin.step[0] = '\0';
        }

        if (acc->cookie_expired && acc->relogin.expired_since == 0) {
            acc->relogin.expired_since = now;

        } else if (!acc->cookie_expired && acc->relogin.expired_since) {
            /* renewed by other means (the sync receiver, an operator):
               an earlier failure no longer applies */
            acc->relogin.expired_since = 0;
            acc->relogin.failed = 0;
            acc->relogin.next_try = 0;
            acc->relogin.status[0] = '\0';
            acc->relogin.reason[0] = '\0';
        }
    }

    gen = z->sh->relogin.expired_gen;
    next = z->sh->relogin.next_check;

    ngx_shmtx_unlock(&z->shpool->mutex);

    check = 0;

    if (gen != ngx_gp_relogin_seen_gen) {
        ngx_gp_relogin_seen_gen = gen;
        check = 1;

        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "gemini pool: a request found an account expired; "
                      "checking the others");
    }

    if (next && now >= next) {
        check = 1;
    }

    if (check && !running) {
        ngx_gp_relogin_check(z);
    }
}


/* the start of a check: the accounts to probe */

static void
ngx_gp_relogin_check(ngx_gp_zone_t *z)
{
    ngx_uint_t         i, n;
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    n = z->sh->naccounts;

    ngx_gp_relogin_todo = ngx_alloc((n + 1) * sizeof(int64_t),
                                    ngx_cycle->log);
    if (ngx_gp_relogin_todo == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return;
    }

    ngx_gp_relogin_ntodo = 0;
    ngx_gp_relogin_next = 0;
    ngx_gp_relogin_marked = 0;

    for (i = 0; i < n; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id && acc->enabled && !acc->cookie_expired
            && !acc->relogin.started && acc->secure_c_ses[0]
            && acc->csesidx[0])
        {
            ngx_gp_relogin_todo[ngx_gp_relogin_ntodo++] = acc->id;
        }
    }

    /* the next one, counted from the start of this one */
    z->sh->relogin.next_check = 0;
    z->sh->relogin.last_check = ngx_time();

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "gemini pool: cookie check of %ui account(s)",
                  ngx_gp_relogin_ntodo);

    ngx_gp_relogin_probe_next(z);
}


/* probes up to NGX_GP_RELOGIN_PROBES at once; the end of the check */

static void
ngx_gp_relogin_probe_next(ngx_gp_zone_t *z)
{
    time_t                   interval;
    int64_t                  id;
    ngx_uint_t               i, k, busy;
    ngx_gp_account_t        *acc;
    ngx_gp_relogin_probe_t  *p;

    busy = 0;

    for (k = 0; k < NGX_GP_RELOGIN_PROBES; k++) {
        busy += (ngx_gp_relogin_probes[k] != NULL);
    }

    for (k = 0; k < NGX_GP_RELOGIN_PROBES; k++) {

        if (ngx_gp_relogin_probes[k]
            || ngx_gp_relogin_next >= ngx_gp_relogin_ntodo)
        {
            continue;
        }

        id = ngx_gp_relogin_todo[ngx_gp_relogin_next++];

        p = ngx_calloc(sizeof(ngx_gp_relogin_probe_t), ngx_cycle->log);
        if (p == NULL) {
            break;
        }

        ngx_shmtx_lock(&z->shpool->mutex);

        acc = NULL;

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == id) {
                acc = &z->sh->accounts[i];
                ngx_gp_account_copy(acc, i, &p->acct);
                acc->xsrf_calls++;
                break;
            }
        }

        if (acc) {
            z->sh->relogin.checking++;
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        if (acc == NULL) {
            /* removed meanwhile */
            ngx_free(p);
            k--;
            continue;
        }

        p->log = *ngx_cycle->log;
        p->u.acct = &p->acct;
        p->u.log = &p->log;
        p->u.zone = z;
        p->u.mode = NGX_GP_UPSTREAM_PROBE;
        p->u.what = "cookie check";
        p->u.ready = ngx_gp_relogin_probe_ready;
        p->u.fail = ngx_gp_relogin_probe_failed;
        p->u.data = p;

        ngx_gp_relogin_probes[k] = p;
        busy++;

        ngx_gp_upstream_start(&p->u);

        /* it may have ended inside the call and started the next one */
        if (ngx_gp_relogin_todo == NULL) {
            return;
        }
    }

    if (busy || ngx_gp_relogin_todo == NULL
        || ngx_gp_relogin_next < ngx_gp_relogin_ntodo)
    {
        return;
    }

    /* every account answered: the check is over */

    interval = ngx_gp_setting_int(z, NGX_GP_SET_COOKIE_CHECK_INTERVAL);

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "gemini pool: cookie check done: %ui account(s) checked, "
                  "%ui expired", ngx_gp_relogin_ntodo,
                  ngx_gp_relogin_marked);

    ngx_free(ngx_gp_relogin_todo);
    ngx_gp_relogin_todo = NULL;

    ngx_shmtx_lock(&z->shpool->mutex);

    z->sh->relogin.checks++;
    z->sh->relogin.next_check = interval
                                ? z->sh->relogin.last_check + interval : 0;

    /* what this check marked itself is no news */
    ngx_gp_relogin_seen_gen = z->sh->relogin.expired_gen;

    ngx_shmtx_unlock(&z->shpool->mutex);
}


static void
ngx_gp_relogin_probe_ready(ngx_gp_upstream_t *u)
{
    ngx_log_debug1(NGX_LOG_DEBUG_CORE, ngx_cycle->log, 0,
                   "gemini pool: cookie check: account \"%s\" is valid",
                   u->acct->name);

    ngx_gp_relogin_probe_end(u->data);
}


static void
ngx_gp_relogin_probe_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_relogin_probe_t  *p = u->data;

    if (f->kind != NGX_GP_FAIL_AUTH) {
        /* an outage, a proxy, a 429 or a 5xx says nothing of cookies */
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "gemini pool: cookie check of account \"%s\" "
                      "inconclusive (%s): %s; not marked",
                      p->acct.name, ngx_gp_fail_kinds[f->kind].name,
                      f->msg);

        ngx_gp_relogin_probe_end(p);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "gemini pool: cookie check: account \"%s\" has expired: "
                  "%s", p->acct.name, f->msg);

    ngx_gp_zone_cooldown(u->zone, &p->acct, NGX_GP_QUOTA_TEXT, 0, 1,
                         f->msg);
    ngx_gp_cluster_cooldown(p->acct.name, NGX_GP_QUOTA_TEXT, 0, 1);
    ngx_gp_relogin_marked++;

    ngx_gp_relogin_probe_end(p);
}


static void
ngx_gp_relogin_probe_end(ngx_gp_relogin_probe_t *p)
{
    ngx_uint_t      k;
    ngx_gp_zone_t  *z;

    z = p->u.zone;

    for (k = 0; k < NGX_GP_RELOGIN_PROBES; k++) {
        if (ngx_gp_relogin_probes[k] == p) {
            ngx_gp_relogin_probes[k] = NULL;
        }
    }

    ngx_gp_upstream_finalize(&p->u);
    ngx_free(p);

    ngx_shmtx_lock(&z->shpool->mutex);

    if (z->sh->relogin.checking) {
        z->sh->relogin.checking--;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (!ngx_gp_relogin_exiting) {
        ngx_gp_relogin_probe_next(z);
    }
}


/*
 * The queue: the accounts an operator asked for first, then, with
 * auto_refresh_cookies on and sync_only_mode off, every enabled expired
 * account whose next try has come and that has a mailbox (looked up in
 * SQLite once per load of the zone, before the account joins the
 * queue); cookie_refresh_concurrency at once.
 */

static void
ngx_gp_relogin_schedule(ngx_gp_zone_t *z, time_t now)
{
    int64_t            ids[NGX_GP_RELOGIN_MAX], look[NGX_GP_RELOGIN_MAX];
    ngx_int_t          rc;
    ngx_uint_t         manual[NGX_GP_RELOGIN_MAX];
    ngx_uint_t         i, k, n, nlook, running, slots, pass, autom, gen;
    ngx_gp_account_t  *acc;
    u_char             url[NGX_GP_MAILBOX_URL_LEN], name[NGX_GP_NAME_LEN];

    running = 0;

    for (k = 0; k < NGX_GP_RELOGIN_MAX; k++) {
        running += (ngx_gp_relogin_logins[k] != NULL);
    }

    slots = ngx_gp_setting_int(z, NGX_GP_SET_COOKIE_REFRESH_CONCURRENCY);
    slots = ngx_min(ngx_max(slots, 1), NGX_GP_RELOGIN_MAX);
    slots = (running < slots) ? slots - running : 0;

    autom = ngx_gp_setting_int(z, NGX_GP_SET_AUTO_REFRESH_COOKIES)
            && !ngx_gp_setting_int(z, NGX_GP_SET_SYNC_ONLY_MODE);

    n = 0;
    nlook = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    gen = z->sh->settings_gen;

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < z->sh->naccounts; i++) {
            acc = &z->sh->accounts[i];

            if (acc->id == 0 || acc->relogin.started) {
                continue;
            }

            if (pass == 0) {
                if (!acc->relogin.queued || !acc->relogin.manual) {
                    continue;
                }

            } else if (!autom || !acc->enabled || !acc->cookie_expired
                       || acc->relogin.next_try > now
                       || (acc->relogin.no_mailbox
                           && acc->relogin.mailbox_gen == gen))
            {
                /* an automatic entry the switch turned off leaves */
                if (!acc->relogin.manual) {
                    acc->relogin.queued = 0;
                }

                continue;

            } else if (acc->relogin.mailbox_gen != gen) {
                /* whether it has a mailbox: looked up first */
                if (nlook < NGX_GP_RELOGIN_MAX) {
                    look[nlook++] = acc->id;
                }

                continue;
            }

            if (n == slots) {
                /* waits for a free slot */
                if (acc->relogin.queued == 0) {
                    acc->relogin.queued = now;
                }

                continue;
            }

            acc->relogin.started = now;
            acc->relogin.pid = ngx_pid;
            acc->relogin.queued = 0;
            ngx_cpystrn(acc->relogin.step, (u_char *) "starting",
                        NGX_GP_RELOGIN_STEP_LEN);

            ids[n] = acc->id;
            manual[n] = (pass == 0);
            n++;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    for (i = 0; i < n; i++) {
        ngx_gp_relogin_login(z, ids[i], manual[i]);
    }

    /* expired accounts of unknown mailbox: eligible at the next tick */

    for (i = 0; i < nlook; i++) {
        rc = ngx_gp_store_account_mailbox(look[i], url, sizeof(url), name,
                                          sizeof(name), ngx_cycle->log);
        if (rc == NGX_ERROR) {
            continue;
        }

        ngx_shmtx_lock(&z->shpool->mutex);

        acc = ngx_gp_relogin_account(z, look[i]);

        if (acc) {
            acc->relogin.mailbox_gen = gen;
            acc->relogin.no_mailbox = (rc != NGX_OK || url[0] == '\0');
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    ngx_explicit_memzero(url, sizeof(url));
}


/* one login, its account marked started in the zone */

static void
ngx_gp_relogin_login(ngx_gp_zone_t *z, int64_t id, ngx_uint_t manual)
{
    ngx_uint_t         k;
    ngx_gp_relogin_t  *l;
    ngx_gp_account_t  *acc;

    l = ngx_calloc(sizeof(ngx_gp_relogin_t), ngx_cycle->log);

    for (k = 0; l && k < NGX_GP_RELOGIN_MAX; k++) {
        if (ngx_gp_relogin_logins[k] == NULL) {
            break;
        }
    }

    if (l == NULL || k == NGX_GP_RELOGIN_MAX) {
        ngx_free(l);

        ngx_shmtx_lock(&z->shpool->mutex);
        acc = ngx_gp_relogin_account(z, id);
        if (acc) {
            acc->relogin.started = 0;
            acc->relogin.queued = ngx_time();
        }
        ngx_shmtx_unlock(&z->shpool->mutex);

        return;
    }

    ngx_gp_relogin_logins[k] = l;

    l->id = id;
    l->manual = manual;
    l->started = ngx_time();
    l->log = *ngx_cycle->log;
    ngx_cpystrn(l->step, (u_char *) "starting", NGX_GP_RELOGIN_STEP_LEN);

    ngx_shmtx_lock(&z->shpool->mutex);
    acc = ngx_gp_relogin_account(z, id);
    if (acc) {
        ngx_cpystrn(l->name, acc->name, NGX_GP_NAME_LEN);
    }
    ngx_shmtx_unlock(&z->shpool->mutex);

    /* several gateways: one runs the login, the lease in Redis says who */
    l->lease = ngx_gp_cluster_lease_take(l->name, ngx_gp_relogin_leased, l);

    if (l->lease) {
        return;
    }

    ngx_gp_relogin_run(z, l);
}


static void
ngx_gp_relogin_leased(void *data, ngx_uint_t got)
{
    ngx_gp_relogin_t  *l = data;

    ngx_uint_t         k;
    ngx_gp_zone_t     *z;
    ngx_gp_account_t  *acc;

    l->lease = NULL;
    z = ngx_gp_zone();

    if (got) {
        l->leased = 1;
        ngx_gp_relogin_run(z, l);
        return;
    }

    /* another gateway's login: its result reaches this one */

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "gemini pool: re-login of account \"%s\" runs on "
                  "another gateway (its lease is held); not here", l->name);

    ngx_shmtx_lock(&z->shpool->mutex);
    acc = ngx_gp_relogin_account(z, l->id);
    if (acc) {
        acc->relogin.started = 0;
        acc->relogin.pid = 0;
        acc->relogin.step[0] = '\0';
        acc->relogin.next_try = ngx_time() + NGX_GP_CLUSTER_LEASE_WAIT;
        if (l->manual) {
            acc->relogin.manual = 0;
        }
    }
    ngx_shmtx_unlock(&z->shpool->mutex);

    for (k = 0; k < NGX_GP_RELOGIN_MAX; k++) {
        if (ngx_gp_relogin_logins[k] == l) {
            ngx_gp_relogin_logins[k] = NULL;
        }
    }

    ngx_explicit_memzero(l, sizeof(ngx_gp_relogin_t));
    ngx_free(l);
}


static void
ngx_gp_relogin_run(ngx_gp_zone_t *z, ngx_gp_relogin_t *l)
{
    int64_t                            id;
    ngx_int_t                          rc;
    ngx_uint_t                         k, manual;
    ngx_gp_account_t                  *acc;
    ngx_gp_signin_input_t              in;
    ngx_gp_signin_result_t             r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             name[NGX_GP_NAME_LEN];

    id = l->id;
    manual = l->manual;

    for (k = 0; k < NGX_GP_RELOGIN_MAX; k++) {
        if (ngx_gp_relogin_logins[k] == l) {
            break;
        }
    }

    rc = ngx_gp_store_account_mailbox(id, l->url, sizeof(l->url), name,
                                      sizeof(name), ngx_cycle->log);

    if (rc != NGX_OK || l->url[0] == '\0') {

        if (!manual && rc != NGX_ERROR) {
            /* not an attempt: the account waits for a mailbox */
            ngx_shmtx_lock(&z->shpool->mutex);
            acc = ngx_gp_relogin_account(z, id);
            if (acc) {
                acc->relogin.started = 0;
                acc->relogin.pid = 0;
                acc->relogin.step[0] = '\0';
                acc->relogin.no_mailbox = 1;
                acc->relogin.mailbox_gen = z->sh->settings_gen;
            }
            ngx_shmtx_unlock(&z->shpool->mutex);

            if (k < NGX_GP_RELOGIN_MAX) {
                ngx_gp_relogin_logins[k] = NULL;
            }

            if (l->leased) {
                ngx_gp_cluster_lease_end(l->name);
            }

            ngx_explicit_memzero(l->url, sizeof(l->url));
            ngx_free(l);
            return;
        }

        ngx_gp_relogin_end(l, rc == NGX_ERROR ? "error" : "no_mailbox",
                           rc == NGX_ERROR ? "the mailbox could not be read "
                                             "from the database"
                                           : "the account has no mailbox "
                                             "(tempmail_url)", 0);
        return;
    }

    gmcf = z->gmcf;

    ngx_gp_setting_str(z, NGX_GP_SET_TEMPMAIL_WORKER_URL, l->worker_url,
                       sizeof(l->worker_url));

    /* the global proxy, when it carries the tempmail traffic */
    if (ngx_gp_setting_int(z, NGX_GP_SET_PROXY_ENABLED)
        && (ngx_gp_setting_int(z, NGX_GP_SET_PROXY_FOR)
            & NGX_GP_TRAFFIC_TEMPMAIL))
    {
        ngx_gp_setting_str(z, NGX_GP_SET_PROXY, l->proxy, sizeof(l->proxy));

        if (l->proxy[0] == '\0' && gmcf->proxy.len
            && gmcf->proxy.len < NGX_GP_PROXY_LEN)
        {
            ngx_cpystrn(l->proxy, gmcf->proxy.data, gmcf->proxy.len + 1);
        }
    }

    in.account_id = id;
    in.name = (char *) l->name;
    in.tempmail_url = (char *) l->url;
    in.tempmail_worker_url = (char *) l->worker_url;
    in.proxy = (char *) l->proxy;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "gemini pool: re-login of account \"%s\" (%s)", l->name,
                  manual ? "asked for" : "expired");

    l->signin = ngx_gp_signin_start(&in, &l->log, ngx_gp_relogin_step,
                                    ngx_gp_relogin_done, l, &r);

    ngx_shmtx_lock(&z->shpool->mutex);

    z->sh->relogin.browser_checked = l->started;

    if (l->signin || r.status != NGX_GP_SIGNIN_NO_BROWSER) {
        z->sh->relogin.browser_error[0] = '\0';

    } else {
        ngx_cpystrn(z->sh->relogin.browser_error, r.reason,
                    NGX_GP_RELOGIN_REASON_LEN);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (l->signin == NULL) {
        ngx_gp_relogin_end(l, ngx_gp_signin_status_name(r.status),
                           (char *) r.reason, 0);
    }
}


static void
ngx_gp_relogin_step(void *data, const char *step)
{
    ngx_gp_relogin_t  *l = data;
    ngx_gp_zone_t     *z;
    ngx_gp_account_t  *acc;

    ngx_cpystrn(l->step, (u_char *) step, NGX_GP_RELOGIN_STEP_LEN);

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);
    acc = ngx_gp_relogin_account(z, l->id);
    if (acc) {
        ngx_cpystrn(acc->relogin.step, (u_char *) step,
                    NGX_GP_RELOGIN_STEP_LEN);
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* the login ended: a harvest is checked with a getoxsrf before saving */

static void
ngx_gp_relogin_done(void *data, ngx_gp_signin_result_t *r)
{
    ngx_gp_relogin_t  *l = data;

    const char                *err;
    ngx_gp_relogin_cookies_t   c;

    l->signin = NULL;

    if (r->status != NGX_GP_SIGNIN_OK) {
        ngx_gp_relogin_end(l, ngx_gp_signin_status_name(r->status),
                           (char *) r->reason,
                           r->status == NGX_GP_SIGNIN_ABORTED
                           && ngx_gp_relogin_exiting);
        return;
    }

    if (ngx_gp_relogin_exiting) {
        ngx_gp_relogin_end(l, "aborted", "the helper exited", 1);
        return;
    }

    ngx_gp_relogin_step(l, "verifying the cookies");

    c.account_id = l->id;
    c.secure_c_ses = r->secure_c_ses;
    c.host_c_oses = r->host_c_oses;
    c.csesidx = r->csesidx;
    c.team_id = r->team_id;

    l->verify = ngx_gp_relogin_verify(&c, &l->log, ngx_gp_relogin_saved, l,
                                      &err);

    if (l->verify == NULL) {
        ngx_gp_relogin_end(l, "error", err, 0);
    }
}


static void
ngx_gp_relogin_saved(void *data, ngx_int_t rc, const char *reason)
{
    ngx_gp_relogin_t  *l = data;

    l->verify = NULL;

    /* the new cookies to the remote-sync peer (protocol section 15) */
    if (rc == NGX_OK) {
        ngx_gp_sync_account(l->id);
    }

    ngx_gp_relogin_end(l, rc == NGX_OK ? "ok"
                          : rc == NGX_DECLINED ? "verify_failed"
                          : "verify_error", reason, 0);
}


ngx_gp_relogin_verify_t *
ngx_gp_relogin_verify(ngx_gp_relogin_cookies_t *c, ngx_log_t *log,
    ngx_gp_relogin_saved_pt handler, void *data, const char **err)
{
    ngx_uint_t                i;
    ngx_gp_zone_t            *z;
    ngx_gp_account_t         *acc;
    ngx_gp_relogin_verify_t  *v;

    z = ngx_gp_zone();

    if (z == NULL || c->secure_c_ses[0] == '\0' || c->csesidx[0] == '\0') {
        *err = "the cookies are incomplete (secure_c_ses and csesidx are "
               "needed)";
        return NULL;
    }

    v = ngx_calloc(sizeof(ngx_gp_relogin_verify_t), log);
    if (v == NULL) {
        *err = "out of memory";
        return NULL;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = NULL;

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == c->account_id) {
            acc = &z->sh->accounts[i];
            ngx_gp_account_copy(acc, i, &v->acct);
            acc->xsrf_calls++;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (acc == NULL) {
        ngx_free(v);
        *err = "the account no longer exists";
        return NULL;
    }

    ngx_cpystrn(v->acct.secure_c_ses, (u_char *) c->secure_c_ses,
                NGX_GP_COOKIE_LEN);
    ngx_cpystrn(v->acct.host_c_oses, (u_char *) c->host_c_oses,
                NGX_GP_COOKIE_LEN);
    ngx_cpystrn(v->acct.csesidx, (u_char *) c->csesidx, NGX_GP_CSESIDX_LEN);

    if (c->team_id[0]) {
        ngx_cpystrn(v->acct.team_id, (u_char *) c->team_id,
                    NGX_GP_TEAM_LEN);
    }

    v->log = log;
    v->handler = handler;
    v->data = data;

    v->u.acct = &v->acct;
    v->u.log = log;
    v->u.zone = z;
    v->u.mode = NGX_GP_UPSTREAM_PROBE;
    v->u.what = "new cookies check";
    v->u.ready = ngx_gp_relogin_verified;
    v->u.fail = ngx_gp_relogin_refused;
    v->u.data = v;

    /* the check starts from the event loop: the handler is never called
       from inside this call */
    v->start.handler = ngx_gp_relogin_verify_start;
    v->start.data = v;
    v->start.log = log;

    ngx_post_event(&v->start, &ngx_posted_events);

    return v;
}


static void
ngx_gp_relogin_verify_start(ngx_event_t *ev)
{
    ngx_gp_relogin_verify_t  *v = ev->data;

    ngx_gp_upstream_start(&v->u);
}


void
ngx_gp_relogin_verify_cancel(ngx_gp_relogin_verify_t *v)
{
    if (v->start.posted) {
        ngx_delete_posted_event(&v->start);
    }

    ngx_gp_upstream_finalize(&v->u);
    ngx_explicit_memzero(v, sizeof(ngx_gp_relogin_verify_t));
    ngx_free(v);
}


/* the check passed: saved, loaded into the zone, the state cleared */

static void
ngx_gp_relogin_verified(ngx_gp_upstream_t *u)
{
    ngx_gp_relogin_verify_t  *v = u->data;

    ngx_int_t                rc;
    ngx_uint_t               renewed;
    const char              *reason;
    ngx_gp_zone_t           *z;
    ngx_gp_account_t        *acc;
    ngx_gp_store_account_t   sa;

    ngx_memzero(&sa, sizeof(ngx_gp_store_account_t));

    sa.secure_c_ses = (char *) v->acct.secure_c_ses;
    sa.host_c_oses = (char *) v->acct.host_c_oses;
    sa.csesidx = (char *) v->acct.csesidx;
    sa.team_id = (char *) v->acct.team_id;
    sa.enabled = -1;

    rc = NGX_OK;
    reason = "";

    if (ngx_gp_store_account_update(v->acct.id, &sa, v->log) != NGX_OK
        || ngx_gp_store_account_renew(v->acct.id, 1, &renewed, v->log)
           != NGX_OK
        || ngx_gp_store_reload(v->log) != NGX_OK)
    {
        rc = NGX_ERROR;
        reason = "the new cookies could not be saved (see the error log)";

    } else {
        z = u->zone;

        ngx_shmtx_lock(&z->shpool->mutex);

        acc = ngx_gp_relogin_account(z, v->acct.id);

        if (acc) {
            acc->relogin.failed = 0;
            acc->relogin.next_try = 0;
            acc->relogin.expired_since = 0;
            acc->relogin.status[0] = '\0';
            acc->relogin.reason[0] = '\0';
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_log_error(NGX_LOG_NOTICE, v->log, 0,
                      "gemini pool: account \"%s\" has new cookies, "
                      "checked and saved; it is back in rotation",
                      v->acct.name);
    }

    v->handler(v->data, rc, reason);

    ngx_gp_relogin_verify_cancel(v);
}


static void
ngx_gp_relogin_refused(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_relogin_verify_t  *v = u->data;

    u_char  reason[NGX_GP_RELOGIN_REASON_LEN];

    /* only an authentication answer refuses them; else not checked */

    (void) ngx_snprintf(reason, sizeof(reason) - 1, "the new cookies %s: "
                        "%s%Z", f->kind == NGX_GP_FAIL_AUTH
                                ? "were refused" : "could not be checked",
                        f->msg);
    reason[sizeof(reason) - 1] = '\0';

    ngx_log_error(NGX_LOG_WARN, v->log, 0,
                  "gemini pool: account \"%s\": %s; not saved",
                  v->acct.name, reason);

    v->handler(v->data, f->kind == NGX_GP_FAIL_AUTH ? NGX_DECLINED
                                                    : NGX_ERROR,
               (char *) reason);

    ngx_gp_relogin_verify_cancel(v);
}


/*
 * The end of a login: the account's state (success: the failure and the
 * retry time go; failure: recorded, next try after cookie_retry_interval;
 * requeue: an interrupted login waits for the next helper), the history
 * row, and the login's memory.
 */

static void
ngx_gp_relogin_end(ngx_gp_relogin_t *l, const char *status,
    const char *reason, ngx_uint_t requeue)
{
    time_t                   now, retry;
    ngx_uint_t               k, ok;
    ngx_gp_zone_t           *z;
    ngx_gp_account_t        *acc;
    ngx_gp_store_relogin_t   h;

    z = ngx_gp_zone();
    now = ngx_time();
    ok = (ngx_strcmp(status, "ok") == 0);
    retry = ngx_gp_setting_int(z, NGX_GP_SET_COOKIE_RETRY_INTERVAL);

    if (l->verify) {
        ngx_gp_relogin_verify_cancel(l->verify);
        l->verify = NULL;
    }

    if (l->lease) {
        ngx_gp_cluster_lease_cancel(l->lease);
        l->lease = NULL;
    }

    if (l->leased) {
        /* kept a little longer: the others see the result first */
        ngx_gp_cluster_lease_end(l->name);
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_relogin_account(z, l->id);

    if (acc) {
        acc->relogin.started = 0;
        acc->relogin.pid = 0;
        acc->relogin.step[0] = '\0';

        if (requeue) {
            acc->relogin.queued = now;

        } else if (ok) {
            /* the check cleared the failure when it saved */
            acc->relogin.manual = 0;

        } else {
            acc->relogin.manual = 0;
            acc->relogin.failed = now;
            acc->relogin.next_try = now + retry;
            ngx_cpystrn(acc->relogin.status, (u_char *) status,
                        NGX_GP_RELOGIN_STATUS_LEN);
            ngx_cpystrn(acc->relogin.reason, (u_char *) reason,
                        NGX_GP_RELOGIN_REASON_LEN);
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ok) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "gemini pool: re-login of account \"%s\" succeeded; "
                      "its new cookies are in use", l->name);

        ngx_gp_cluster_expired_clear(l->name);

        /* the remote-sync push (sync.c) follows here at the merge */

    } else {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "gemini pool: re-login of account \"%s\" failed "
                      "(%s): %s%s", l->name, status, reason,
                      requeue ? "; it runs again in the next helper"
                              : "; the old cookies are kept");
    }

    h.account_id = l->id;
    h.account = (char *) l->name;
    h.started = l->started;
    h.finished = now;
    h.status = status;
    h.reason = reason;
    h.step = (char *) l->step;
    h.manual = l->manual;

    (void) ngx_gp_store_relogin_add(&h, ngx_cycle->log);

    for (k = 0; k < NGX_GP_RELOGIN_MAX; k++) {
        if (ngx_gp_relogin_logins[k] == l) {
            ngx_gp_relogin_logins[k] = NULL;
        }
    }

    ngx_explicit_memzero(l, sizeof(ngx_gp_relogin_t));
    ngx_free(l);
}


/* the account's slot (under the lock) */

static ngx_gp_account_t *
ngx_gp_relogin_account(ngx_gp_zone_t *z, int64_t id)
{
    ngx_uint_t  i;

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == id) {
            return &z->sh->accounts[i];
        }
    }

    return NULL;
}


/*
 * The helper exits (reload, stop; nginx's helper process calls exit(),
 * the single process its exit hook): the checks end, and the logins are
 * cancelled (their browsers with them) and wait for the next helper.
 */

void
ngx_gp_relogin_exit(void)
{
    ngx_uint_t  k;

    if (ngx_gp_relogin_exiting || !ngx_gp_relogin_started) {
        return;
    }

    ngx_gp_relogin_exiting = 1;

    for (k = 0; k < NGX_GP_RELOGIN_PROBES; k++) {
        if (ngx_gp_relogin_probes[k]) {
            ngx_gp_relogin_probe_end(ngx_gp_relogin_probes[k]);
        }
    }

    ngx_free(ngx_gp_relogin_todo);
    ngx_gp_relogin_todo = NULL;

    for (k = 0; k < NGX_GP_RELOGIN_MAX; k++) {
        if (ngx_gp_relogin_logins[k] == NULL) {
            continue;
        }

        if (ngx_gp_relogin_logins[k]->signin) {
            /* done() follows inside, with NGX_GP_SIGNIN_ABORTED */
            ngx_gp_signin_cancel(ngx_gp_relogin_logins[k]->signin);
        }

        if (ngx_gp_relogin_logins[k]) {
            ngx_gp_relogin_end(ngx_gp_relogin_logins[k], "aborted",
                               "the helper exited", 1);
        }
    }
}


static void
ngx_gp_relogin_atexit(void)
{
    if (ngx_process == NGX_PROCESS_HELPER && ngx_gp_zone() != NULL) {
        ngx_gp_relogin_exit();
    }
}
