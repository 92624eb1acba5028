
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Spare sessions, the helper's side: a new conversation waits for one
 * Google call (widgetStreamAssist), not two, when its account has a
 * session ready.  The helper keeps spare_sessions of them (a setting,
 * 0-4) for every account in use, off the requests' path: on its tick it
 * drops the spares that are too old and starts a widgetCreateSession
 * (upstream.c, mode SPARE) for each one missing, and within
 * NGX_GP_SPARES_POLL of a spare being used or dropped (the zone's
 * spares_gen moved) it does the same for the accounts concerned.
 * The spares themselves live in the zone (zone.c); a request takes one
 * with its account (ngx_gp_zone_pick()).
 *
 * Why the helper and not the worker after its request: one process for
 * all workers needs no claim in the zone against two workers replacing
 * the same spare, survives no request, and is ended as one when it exits
 * (reload, stop); the workers' hot path gains nothing but the copy of a
 * spare under the lock the pick already holds.
 */


#include "ngx_http_gemini_pool_module.h"


/* at most this many widgetCreateSession calls of the helper in flight */
#define NGX_GP_SPARES_FILLS   8

/* how often the helper looks whether a spare was used or dropped (ms) */
#define NGX_GP_SPARES_POLL    100

/* an account used within this many seconds gets spares (as a fresh JWT) */
#define NGX_GP_SPARES_ACTIVE  600

/* after a creation failed, none for the account for this many seconds */
#define NGX_GP_SPARES_RETRY   30


typedef struct {
    ngx_gp_upstream_t      u;
    ngx_gp_account_copy_t  acct;
    ngx_log_t              log;
    ngx_uint_t             want;
} ngx_gp_spare_fill_t;


static void ngx_gp_spares_fill(ngx_gp_zone_t *z, ngx_uint_t all);
static ngx_uint_t ngx_gp_spares_filling(int64_t id,
    ngx_gp_spare_fill_t **list, ngx_uint_t n);
static void ngx_gp_spares_timer(ngx_event_t *ev);
static void ngx_gp_spares_ready(ngx_gp_upstream_t *u);
static void ngx_gp_spares_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f);
static void ngx_gp_spares_done(ngx_gp_spare_fill_t *f);


/* the helper's creations in flight, ended at exit */
static ngx_gp_spare_fill_t  *ngx_gp_spares_fills[NGX_GP_SPARES_FILLS];
static ngx_uint_t            ngx_gp_spares_nfills;

static ngx_event_t           ngx_gp_spares_ev;
static ngx_connection_t      ngx_gp_spares_dummy;
static ngx_atomic_uint_t     ngx_gp_spares_seen;


/* the helper's tick: spares expire and are made; the poll is started */

void
ngx_gp_spares_tick(ngx_gp_zone_t *z)
{
    if (!ngx_gp_spares_ev.timer_set) {
        ngx_gp_spares_dummy.fd = (ngx_socket_t) -1;

        ngx_gp_spares_ev.handler = ngx_gp_spares_timer;
        ngx_gp_spares_ev.data = &ngx_gp_spares_dummy;
        ngx_gp_spares_ev.log = ngx_cycle->log;
        ngx_gp_spares_ev.cancelable = 1;

        ngx_add_timer(&ngx_gp_spares_ev, NGX_GP_SPARES_POLL);
    }

    ngx_gp_spares_fill(z, 1);
}


static void
ngx_gp_spares_timer(ngx_event_t *ev)
{
    ngx_gp_zone_t  *z;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    z = ngx_gp_zone();

    /* one read of the zone, no lock, while nothing happens */

    if (z && z->sh->spares_gen != ngx_gp_spares_seen) {
        ngx_gp_spares_fill(z, 0);
    }

    ngx_add_timer(ev, NGX_GP_SPARES_POLL);
}


/*
 * Under the zone's lock: on the tick (all), every account's spares that
 * are too old (or beyond the setting) go, and every account in use that
 * has fewer than the setting gets a creation; on the poll, only the
 * accounts whose spare was used or dropped since the last look (the
 * zone's ring of them), so that a pool of thousands is not scanned ten
 * times a second.  At most NGX_GP_SPARES_FILLS creations in flight.
 */

static void
ngx_gp_spares_fill(ngx_gp_zone_t *z, ngx_uint_t all)
{
    time_t                now, max_age;
    ngx_uint_t            i, k, n, want, count;
    ngx_atomic_uint_t     gen;
    ngx_gp_shctx_t       *sh;
    ngx_gp_account_t     *acc;
    ngx_gp_spare_fill_t  *f, *list[NGX_GP_SPARES_FILLS];

    want = (ngx_uint_t) ngx_gp_setting_int(z, NGX_GP_SET_SPARE_SESSIONS);
    max_age = ngx_gp_zone_spare_max_age(z);
    now = ngx_time();
    sh = z->sh;
    n = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    gen = sh->spares_gen;

    if (all) {
        count = sh->naccounts;

    } else {
        /* more than the ring holds: the tick finds the others */
        count = ngx_min(gen - ngx_gp_spares_seen, NGX_GP_SPARES_RING);
    }

    ngx_gp_spares_seen = gen;

    for (k = 0; k < count; k++) {
        i = all ? k : sh->spares_used[(gen - 1 - k) % NGX_GP_SPARES_RING];

        if (i >= sh->naccounts) {
            continue;
        }

        acc = &sh->accounts[i];

        if (all && acc->nspares) {
            (void) ngx_gp_zone_spares_expire_locked(z, acc, now, max_age,
                                                    want);
        }

        if (want == 0 || ngx_gp_spares_nfills + n >= NGX_GP_SPARES_FILLS) {
            continue;
        }

        if (acc->id == 0 || !acc->enabled || acc->cookie_expired
            || acc->cooldown_until[NGX_GP_QUOTA_TEXT] > now
            || now - acc->last_used > NGX_GP_SPARES_ACTIVE
            || acc->spare_retry > now
            || acc->nspares + ngx_gp_spares_filling(acc->id, list, n)
               >= want)
        {
            continue;
        }

        f = ngx_calloc(sizeof(ngx_gp_spare_fill_t), ngx_cycle->log);
        if (f == NULL) {
            break;
        }

        ngx_gp_account_copy(acc, i, &f->acct);
        f->want = want;

        list[n++] = f;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    for (i = 0; i < n; i++) {
        f = list[i];

        f->log = *ngx_cycle->log;
        f->u.acct = &f->acct;
        f->u.log = &f->log;
        f->u.zone = z;
        f->u.mode = NGX_GP_UPSTREAM_SPARE;
        f->u.ready = ngx_gp_spares_ready;
        f->u.fail = ngx_gp_spares_failed;
        f->u.data = f;

        ngx_log_debug1(NGX_LOG_DEBUG_CORE, ngx_cycle->log, 0,
                       "gemini pool helper: a spare session for \"%s\"",
                       f->acct.name);

        /* tracked first: the end may come from inside the start */

        for (k = 0; k < NGX_GP_SPARES_FILLS; k++) {
            if (ngx_gp_spares_fills[k] == NULL) {
                ngx_gp_spares_fills[k] = f;
                ngx_gp_spares_nfills++;
                break;
            }
        }

        ngx_gp_upstream_start(&f->u);
    }
}


/* creations for account id in flight, and in the list about to start */

static ngx_uint_t
ngx_gp_spares_filling(int64_t id, ngx_gp_spare_fill_t **list, ngx_uint_t n)
{
    ngx_uint_t  i, k;

    k = 0;

    for (i = 0; i < NGX_GP_SPARES_FILLS; i++) {
        if (ngx_gp_spares_fills[i] && ngx_gp_spares_fills[i]->acct.id == id)
        {
            k++;
        }
    }

    for (i = 0; i < n; i++) {
        if (list[i]->acct.id == id) {
            k++;
        }
    }

    return k;
}


static void
ngx_gp_spares_ready(ngx_gp_upstream_t *u)
{
    ngx_int_t             rc;
    ngx_gp_spare_fill_t  *f = u->data;

    rc = ngx_gp_zone_spare_put(u->zone, u->acct, u->session,
                               u->session_created, f->want);

    if (rc == NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_CORE, ngx_cycle->log, 0,
                       "gemini pool helper: spare session \"%s\" of \"%s\"",
                       u->session, u->acct->name);

    } else if (rc == NGX_ABORT) {
        /* a format the zone has no room for: not again for an hour */
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "gemini pool helper: session name \"%s\" of account "
                      "\"%s\" is too long to keep as a spare (%d bytes "
                      "at most)", u->session, u->acct->name,
                      NGX_GP_SPARE_LEN - 1);

        ngx_gp_zone_spares_drop(u->zone, u->acct, 0, ngx_time() + 3600);

    } else {
        /* renewed, expired or full meanwhile: the session stays unused */
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "gemini pool helper: spare session \"%s\" of "
                      "account \"%s\" not kept: the account changed "
                      "meanwhile", u->session, u->acct->name);
    }

    ngx_gp_spares_done(f);
}


/*
 * A creation failed: the account gets none for NGX_GP_SPARES_RETRY
 * seconds; an authentication answer also drops its spares.  The account
 * itself is judged by the requests, on their own path.
 */

static void
ngx_gp_spares_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_verdict_t      v;
    ngx_gp_cooldowns_t    cd;
    ngx_gp_spare_fill_t  *fill = u->data;

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "gemini pool helper: no spare session for account "
                  "\"%s\": %s", u->acct->name, f->msg);

    ngx_memzero(&cd, sizeof(ngx_gp_cooldowns_t));
    ngx_gp_rules_verdict((int) f->kind, NGX_GP_QUOTA_TEXT, ngx_time(), 0,
                         &cd, &v);

    ngx_gp_zone_spares_drop(u->zone, u->acct, v.drop_spares,
                            ngx_time() + NGX_GP_SPARES_RETRY);

    ngx_gp_spares_done(fill);
}


static void
ngx_gp_spares_done(ngx_gp_spare_fill_t *f)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_SPARES_FILLS; i++) {
        if (ngx_gp_spares_fills[i] == f) {
            ngx_gp_spares_fills[i] = NULL;
            ngx_gp_spares_nfills--;
            break;
        }
    }

    ngx_gp_upstream_finalize(&f->u);
    ngx_free(f);
}


/* a helper that exits (reload, stop) ends its creations and its poll */

void
ngx_gp_spares_exit(void)
{
    ngx_uint_t            i;
    ngx_gp_spare_fill_t  *f;

    for (i = 0; i < NGX_GP_SPARES_FILLS; i++) {
        f = ngx_gp_spares_fills[i];

        if (f) {
            ngx_gp_spares_fills[i] = NULL;
            ngx_gp_upstream_finalize(&f->u);
            ngx_free(f);
        }
    }

    ngx_gp_spares_nfills = 0;

    if (ngx_gp_spares_ev.timer_set) {
        ngx_del_timer(&ngx_gp_spares_ev);
    }
}
