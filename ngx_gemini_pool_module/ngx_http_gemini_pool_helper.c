
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The helper role: the duties that keep the pool alive, on a periodic
 * tick.  With a master process it runs in nginx's helper ("cache
 * manager") process, which nginx spawns, respawns after a crash and
 * replaces on reload because the module registers a path with a manager
 * callback.  With "master_process off" it runs in the single process on
 * a timer.  Later duties (history drain, media eviction, cookie checks,
 * spare sessions) hang on ngx_gp_helper_tick().
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_helper_tick(void);
static void ngx_gp_helper_timer(ngx_event_t *ev);
static void ngx_gp_helper_jwt(ngx_gp_zone_t *z);
static void ngx_gp_helper_jwt_ready(ngx_gp_upstream_t *u);
static void ngx_gp_helper_jwt_failed(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static void ngx_gp_helper_track(ngx_gp_upstream_t *u, ngx_uint_t add);


/* at most this many getoxsrf calls of the helper in flight */
#define NGX_GP_HELPER_XSRF   8

/* an account used within this many seconds keeps a fresh JWT */
#define NGX_GP_HELPER_ACTIVE 600


/* a JWT refresh: the upstream, its own log (for the log's action) */
typedef struct {
    ngx_gp_upstream_t      u;
    ngx_gp_account_copy_t  acct;
    ngx_log_t              log;
} ngx_gp_helper_refresh_t;


/* the helper's JWT refreshes in flight, ended at exit */
static ngx_gp_upstream_t  *ngx_gp_helper_refreshes[NGX_GP_HELPER_XSRF];
static ngx_uint_t          ngx_gp_helper_xsrf;


static ngx_event_t       ngx_gp_helper_ev;
static ngx_connection_t  ngx_gp_helper_dummy;
static ngx_uint_t        ngx_gp_helper_started;


static void
ngx_gp_helper_start(void)
{
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    ngx_gp_helper_started = 1;

    /* the browsers of a helper that was killed, and their profiles */
    ngx_gp_browser_reap(ngx_cycle->log);

    if (z == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    z->sh->helper_pid = ngx_pid;
    z->sh->helper_started = ngx_time();
    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "gemini pool helper started, pid %P (%s)", ngx_pid,
                  ngx_process == NGX_PROCESS_HELPER ? "helper process"
                                                    : "single process");
}


static void
ngx_gp_helper_tick(void)
{
    ngx_msec_t      wait;
    ngx_gp_zone_t  *z;

    if (!ngx_gp_helper_started) {
        ngx_gp_helper_start();
    }

    z = ngx_gp_zone();

    if (z == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    z->sh->helper_pid = ngx_pid;
    z->sh->helper_tick = ngx_time();
    z->sh->helper_ticks++;
    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_log_debug1(NGX_LOG_DEBUG_CORE, ngx_cycle->log, 0,
                   "gemini pool helper tick %P", ngx_pid);

    /* the requests in flight of processes that are gone */
    ngx_gp_zone_holders_check(z);

    /*
     * A database locked by another process delays these writes to a later
     * tick; the helper process waits a little for the lock, the single
     * process (which serves requests too) does not wait.
     */

    wait = ngx_gp_store_wait(ngx_process == NGX_PROCESS_HELPER
                             ? NGX_GP_STORE_WAIT_HELPER
                             : NGX_GP_STORE_WAIT_NONE);
    (void) ngx_gp_store_busy(1);

    /* cooldowns and expiry flags survive a restart */
    (void) ngx_gp_store_save_state((ngx_cycle_t *) ngx_cycle, z);

    /* the call log: from the zone's event ring to SQLite */
    (void) ngx_gp_store_save_events((ngx_cycle_t *) ngx_cycle, z);

    /* uploads of /v1/files stored while the database was locked */
    (void) ngx_gp_store_files_flush((ngx_cycle_t *) ngx_cycle, z);

    (void) ngx_gp_store_wait(wait);

    /* requests should never wait for a JWT */
    ngx_gp_helper_jwt(z);

    /* nor a new conversation for its session */
    ngx_gp_spares_tick(z);

    /* generated media: inactive=, then max_size= */
    ngx_gp_media_evict((ngx_cycle_t *) ngx_cycle);

    /* expiry checks and the queue of logins */
    ngx_gp_relogin_tick(z);

    /* remote-sync pushes that failed, when due */
    ngx_gp_sync_tick();

    /* the shared configuration: publish local changes, apply others' */
    ngx_gp_cluster_config_tick();
}


/*
 * Refreshes ahead of time the JWTs of accounts in use: when a token is
 * three quarters through gemini_pool_jwt_refresh, the helper fetches the
 * next one, so a request finds a fresh token in the zone.  The zone's
 * per-account refresh lock keeps it to one getoxsrf per account across
 * all processes.
 */

static void
ngx_gp_helper_jwt(ngx_gp_zone_t *z)
{
    time_t                    now, age, ahead;
    ngx_uint_t                i, n;
    ngx_gp_account_t         *acc;
    ngx_gp_helper_refresh_t  *h, *list[NGX_GP_HELPER_XSRF];

    now = ngx_time();
    ahead = z->gmcf->jwt_refresh - z->gmcf->jwt_refresh / 4;
    n = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {

        if (ngx_gp_helper_xsrf + n >= NGX_GP_HELPER_XSRF) {
            break;
        }

        acc = &z->sh->accounts[i];
        age = now - acc->jwt_iat;

        if (acc->id == 0 || !acc->enabled || acc->cookie_expired
            || acc->jwt[0] == '\0' || age < ahead
            || now - acc->last_used > NGX_GP_HELPER_ACTIVE
            || (acc->jwt_refresh_pid
                && now - acc->jwt_refresh_started < NGX_GP_JWT_REFRESH_LOCK))
        {
            continue;
        }

        h = ngx_calloc(sizeof(ngx_gp_helper_refresh_t), ngx_cycle->log);
        if (h == NULL) {
            break;
        }

        /* the refresh lock: the upstream releases it */
        acc->jwt_refresh_pid = ngx_pid;
        acc->jwt_refresh_started = now;
        acc->xsrf_calls++;

        ngx_gp_account_copy(acc, i, &h->acct);

        list[n++] = h;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    for (i = 0; i < n; i++) {
        h = list[i];

        h->log = *ngx_cycle->log;
        h->u.acct = &h->acct;
        h->u.log = &h->log;
        h->u.zone = z;
        h->u.mode = NGX_GP_UPSTREAM_REFRESH;
        h->u.ready = ngx_gp_helper_jwt_ready;
        h->u.fail = ngx_gp_helper_jwt_failed;
        h->u.data = h;

        ngx_log_debug1(NGX_LOG_DEBUG_CORE, ngx_cycle->log, 0,
                       "gemini pool helper: refreshing the JWT of \"%s\"",
                       h->acct.name);

        ngx_gp_helper_track(&h->u, 1);
        ngx_gp_upstream_start(&h->u);
    }
}


static void
ngx_gp_helper_track(ngx_gp_upstream_t *u, ngx_uint_t add)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_HELPER_XSRF; i++) {
        if (ngx_gp_helper_refreshes[i] == (add ? NULL : u)) {
            ngx_gp_helper_refreshes[i] = add ? u : NULL;

            if (add) {
                ngx_gp_helper_xsrf++;

            } else {
                ngx_gp_helper_xsrf--;
            }

            return;
        }
    }
}


/* a helper that exits (reload, stop) ends its transfers */

void
ngx_gp_helper_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_HELPER_XSRF; i++) {
        if (ngx_gp_helper_refreshes[i]) {
            ngx_gp_upstream_finalize(ngx_gp_helper_refreshes[i]);
            ngx_free(ngx_gp_helper_refreshes[i]->data);
            ngx_gp_helper_refreshes[i] = NULL;
        }
    }

    ngx_gp_helper_xsrf = 0;

    ngx_gp_spares_exit();

    ngx_gp_sync_exit();

    ngx_gp_cluster_config_exit();

    ngx_gp_relogin_exit();

    /* call log entries a locked database kept back go to the next helper */
    ngx_gp_store_save_events_exit(ngx_gp_zone());

    ngx_gp_browser_exit_process();
}


static void
ngx_gp_helper_jwt_ready(ngx_gp_upstream_t *u)
{
    ngx_gp_helper_track(u, 0);
    ngx_free(u->data);
}


/* a request retries and classifies the failure on its own path */

static void
ngx_gp_helper_jwt_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "gemini pool helper: JWT refresh of account \"%s\" "
                  "failed: %s", u->acct->name, f->msg);

    ngx_gp_helper_track(u, 0);
    ngx_free(u->data);
}


/* the path manager callback: called by nginx's helper process */

ngx_msec_t
ngx_gp_helper_manager(void *data)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = data;

    ngx_gp_helper_tick();

    return gmcf->helper_interval;
}


static void
ngx_gp_helper_timer(ngx_event_t *ev)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    gmcf = ev->data == &ngx_gp_helper_dummy
           ? ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                 ngx_http_gemini_pool_module)
           : NULL;

    ngx_gp_helper_tick();

    if (gmcf) {
        ngx_add_timer(ev, gmcf->helper_interval);
    }
}


/* with master_process off the single process plays the helper's part */

ngx_int_t
ngx_gp_helper_init_process(ngx_cycle_t *cycle)
{
    if (ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    ngx_gp_helper_dummy.fd = (ngx_socket_t) -1;

    ngx_gp_helper_ev.handler = ngx_gp_helper_timer;
    ngx_gp_helper_ev.data = &ngx_gp_helper_dummy;
    ngx_gp_helper_ev.log = cycle->log;
    ngx_gp_helper_ev.cancelable = 1;

    ngx_add_timer(&ngx_gp_helper_ev, 1);

    return NGX_OK;
}
