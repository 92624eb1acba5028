
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The helper role: the duties that keep the pool alive, on a periodic
 * tick.  With a master process it runs in nginx's helper ("cache
 * manager") process, which nginx spawns, respawns after a crash and
 * replaces on reload because the module registers a path with a manager
 * callback.  With "master_process off" it runs in the single process on
 * a timer.  Later duties (history drain, media eviction, cookie checks)
 * hang on ngx_gp_helper_tick().
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_helper_tick(void);
static void ngx_gp_helper_timer(ngx_event_t *ev);


static ngx_event_t       ngx_gp_helper_ev;
static ngx_connection_t  ngx_gp_helper_dummy;
static ngx_uint_t        ngx_gp_helper_started;


static void
ngx_gp_helper_start(void)
{
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    ngx_gp_helper_started = 1;

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

    /* cooldowns and expiry flags survive a restart */
    (void) ngx_gp_store_save_state((ngx_cycle_t *) ngx_cycle, z);
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
