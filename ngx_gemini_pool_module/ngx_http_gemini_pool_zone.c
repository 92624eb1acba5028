
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The shared zone: the pool's hot state for all processes.  Every
 * mutation is complete under shpool->mutex; callers get copies, never
 * pointers into the zone.
 */


#include "ngx_http_gemini_pool_module.h"


/*
 * The zone of the running cycle.  Looked up through ngx_cycle rather than
 * kept in a global: after a failed reload the master still runs the old
 * cycle, and a helper it respawns must not inherit the failed one's zone.
 */

ngx_gp_zone_t *
ngx_gp_zone(void)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    if (gmcf == NULL || gmcf->shm_zone == NULL) {
        return NULL;
    }

    return gmcf->shm_zone->data;
}


ngx_int_t
ngx_gp_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_gp_zone_t  *octx = data;

    size_t                             len;
    ngx_gp_zone_t                     *ctx;
    ngx_slab_pool_t                   *shpool;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    ctx = shm_zone->data;
    gmcf = ctx->gmcf;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

    } else {
        shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            ctx->shpool = shpool;
            ctx->sh = shpool->data;
            return NGX_OK;
        }

        ctx->shpool = shpool;

        ctx->sh = ngx_slab_calloc(shpool, sizeof(ngx_gp_shctx_t));
        if (ctx->sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = ctx->sh;

        len = sizeof(" in gemini_pool_zone \"\"") + shm_zone->shm.name.len;

        shpool->log_ctx = ngx_slab_alloc(shpool, len);
        if (shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(shpool->log_ctx, " in gemini_pool_zone \"%V\"%Z",
                    &shm_zone->shm.name);
    }

    if (ngx_gp_store_load(ctx->cycle, &gmcf->database, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_gp_account_t *
ngx_gp_zone_find(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a)
{
    ngx_gp_account_t  *acc;

    if (a->index >= z->sh->naccounts) {
        return NULL;
    }

    acc = &z->sh->accounts[a->index];

    return (acc->id == a->id) ? acc : NULL;
}


static ngx_uint_t
ngx_gp_account_usable(ngx_gp_account_t *acc, ngx_uint_t quota, time_t now)
{
    if (acc->id == 0 || !acc->enabled || acc->cookie_expired) {
        return 0;
    }

    if (acc->cooldown_until[NGX_GP_QUOTA_TEXT] > now) {
        return 0;
    }

    return acc->cooldown_until[quota] <= now;
}


static void
ngx_gp_account_copy(ngx_gp_account_t *acc, ngx_uint_t i,
    ngx_gp_account_copy_t *a)
{
    a->id = acc->id;
    a->index = i;
    ngx_memcpy(a->name, acc->name, NGX_GP_NAME_LEN);
    ngx_memcpy(a->team_id, acc->team_id, NGX_GP_TEAM_LEN);
    ngx_memcpy(a->csesidx, acc->csesidx, NGX_GP_CSESIDX_LEN);
    ngx_memcpy(a->secure_c_ses, acc->secure_c_ses, NGX_GP_COOKIE_LEN);
    ngx_memcpy(a->host_c_oses, acc->host_c_oses, NGX_GP_COOKIE_LEN);
    ngx_memcpy(a->user_agent, acc->user_agent, NGX_GP_UA_LEN);
    a->jwt[0] = '\0';
}


/*
 * Round robin over usable accounts: one cursor in the zone shared by all
 * workers.  Returns NGX_OK with a copy, NGX_AGAIN when every enabled
 * account is cooling down (*retry_at: the earliest return), NGX_DECLINED
 * when no account is enabled at all.
 */

ngx_int_t
ngx_gp_zone_pick(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, time_t *retry_at)
{
    time_t              now, back;
    ngx_uint_t          i, n, k, enabled;
    ngx_gp_shctx_t     *sh;
    ngx_gp_account_t   *acc;

    now = ngx_time();
    sh = z->sh;
    *retry_at = 0;
    enabled = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    n = sh->naccounts;

    for (k = 0; k < n; k++) {
        i = (sh->rr_cursor + k) % n;
        acc = &sh->accounts[i];

        if (ngx_gp_account_usable(acc, quota, now)) {
            sh->rr_cursor = (i + 1) % n;
            acc->in_flight++;
            acc->requests++;
            acc->last_used = now;
            ngx_gp_account_copy(acc, i, a);
            ngx_shmtx_unlock(&z->shpool->mutex);
            return NGX_OK;
        }

        if (acc->id == 0 || !acc->enabled || acc->cookie_expired) {
            continue;
        }

        enabled++;

        back = ngx_max(acc->cooldown_until[NGX_GP_QUOTA_TEXT],
                       acc->cooldown_until[quota]);

        if (*retry_at == 0 || back < *retry_at) {
            *retry_at = back;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return enabled ? NGX_AGAIN : NGX_DECLINED;
}


void
ngx_gp_zone_release(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t ok, const char *error)
{
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (acc->in_flight) {
            acc->in_flight--;
        }

        if (!ok) {
            acc->failures++;
        }

        if (error) {
            ngx_cpystrn(acc->last_error, (u_char *) error,
                        sizeof(acc->last_error));
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * One getoxsrf in flight per account across all processes: the first
 * process that finds the token stale fetches it, the others keep using
 * the still valid token or wait for the new one.
 */

ngx_int_t
ngx_gp_zone_jwt(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a)
{
    time_t             now, age;
    ngx_int_t          rc;
    ngx_gp_account_t  *acc;

    now = ngx_time();

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_ERROR;
    }

    age = now - acc->jwt_iat;

    if (acc->jwt[0] && age >= 0 && age < z->gmcf->jwt_refresh) {
        ngx_memcpy(a->jwt, acc->jwt, NGX_GP_JWT_LEN);
        rc = NGX_GP_JWT_FRESH;

    } else if (acc->jwt_refresh_pid
               && now - acc->jwt_refresh_started < NGX_GP_JWT_REFRESH_LOCK)
    {
        if (acc->jwt[0] && age >= 0 && age < NGX_GP_JWT_LIFETIME - 10) {
            ngx_memcpy(a->jwt, acc->jwt, NGX_GP_JWT_LEN);
            rc = NGX_GP_JWT_FRESH;

        } else {
            rc = NGX_GP_JWT_WAIT;
        }

    } else {
        acc->jwt_refresh_pid = ngx_pid;
        acc->jwt_refresh_started = now;
        acc->xsrf_calls++;
        rc = NGX_GP_JWT_FETCH;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


void
ngx_gp_zone_jwt_store(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    const char *jwt, time_t iat)
{
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (jwt && ngx_strlen(jwt) < NGX_GP_JWT_LEN) {
            ngx_cpystrn(acc->jwt, (u_char *) jwt, NGX_GP_JWT_LEN);
            acc->jwt_iat = iat;
        }

        if (acc->jwt_refresh_pid == ngx_pid) {
            acc->jwt_refresh_pid = 0;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


void
ngx_gp_zone_cooldown(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, time_t until, ngx_uint_t expired, const char *error)
{
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (until > acc->cooldown_until[quota]) {
            acc->cooldown_until[quota] = until;
        }

        if (expired) {
            acc->cookie_expired = 1;
            acc->jwt[0] = '\0';
        }

        if (error) {
            ngx_cpystrn(acc->last_error, (u_char *) error,
                        sizeof(acc->last_error));
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


ngx_int_t
ngx_gp_zone_setting(ngx_gp_zone_t *z, const char *key, u_char *buf,
    size_t size)
{
    ngx_uint_t         i;
    ngx_int_t          rc;
    ngx_gp_shctx_t    *sh;

    rc = NGX_DECLINED;
    sh = z->sh;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < sh->nsettings; i++) {
        if (ngx_strcmp(sh->settings[i].key, key) == 0) {
            ngx_cpystrn(buf, sh->settings[i].value, size);
            rc = NGX_OK;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


ngx_flag_t
ngx_gp_zone_setting_flag(ngx_gp_zone_t *z, const char *key)
{
    u_char  buf[16];

    if (ngx_gp_zone_setting(z, key, buf, sizeof(buf)) != NGX_OK) {
        return 0;
    }

    return ngx_strcmp(buf, "true") == 0 || ngx_strcmp(buf, "1") == 0;
}


ngx_int_t
ngx_gp_zone_model(ngx_gp_zone_t *z, ngx_str_t *name, ngx_gp_model_t *m)
{
    ngx_uint_t         i;
    ngx_int_t          rc;
    ngx_gp_shctx_t    *sh;

    rc = NGX_DECLINED;
    sh = z->sh;

    if (name->len >= NGX_GP_MODEL_LEN) {
        return rc;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < sh->nmodels; i++) {
        if (ngx_strlen(sh->models[i].name) == name->len
            && ngx_strncmp(sh->models[i].name, name->data, name->len) == 0)
        {
            *m = sh->models[i];
            rc = NGX_OK;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}
