
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin accounts: the list, add, partial update (also the remote-sync
 * receiver), delete, enable/disable, the quota cooldowns, the pool's
 * status, the proxy test and the live account test.
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_uint_t ngx_gp_admin_zone_expired(int64_t id);


/* GET /api/accounts */

static json_t *
ngx_gp_admin_account_json(ngx_gp_account_t *acc, ngx_uint_t index,
    time_t now)
{
    u_char   proxy[NGX_GP_PROXY_LEN];

    (void) ngx_gp_mask_url((char *) acc->proxy, proxy, sizeof(proxy));

    return json_pack("{s:i,s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:s,"
                     "s:{s:I,s:I,s:I},s:b,s:I,s:I,s:I,s:s,s:I}",
                     "index", (int) index,
                     "id", (json_int_t) acc->id,
                     "name", (char *) acc->name,
                     "team_id", (char *) acc->team_id,
                     "csesidx", (char *) acc->csesidx,
                     "secure_c_ses_set", acc->secure_c_ses[0] != '\0',
                     "host_c_oses_set", acc->host_c_oses[0] != '\0',
                     "enabled", (int) acc->enabled,
                     "cookie_expired", (int) acc->cookie_expired,
                     "user_agent", (char *) acc->user_agent,
                     "proxy", (char *) proxy,
                     "cooldown_until",
                     "text", (json_int_t) acc->cooldown_until[0],
                     "images", (json_int_t) acc->cooldown_until[1],
                     "videos", (json_int_t) acc->cooldown_until[2],
                     "available", acc->enabled && !acc->cookie_expired
                                  && acc->cooldown_until[0] <= now,
                     "in_flight", (json_int_t) acc->in_flight,
                     "requests", (json_int_t) acc->requests,
                     "failures", (json_int_t) acc->failures,
                     "last_error", (char *) acc->last_error,
                     "spare_sessions", (json_int_t) acc->nspares);
}


ngx_int_t
ngx_gp_admin_accounts(ngx_gp_admin_t *a)
{
    json_t            *list, *j;
    time_t             now;
    ngx_uint_t         i;
    ngx_gp_zone_t     *z;

    z = ngx_gp_zone();
    now = ngx_time();

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        j = ngx_gp_admin_account_json(&z->sh->accounts[i], i, now);

        if (j == NULL || json_array_append_new(list, j) != 0) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_gp_admin_relogin_rows(list, a->r->connection->log);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:i}", "accounts", list,
                                       "total", (int) json_array_size(list)));
}


/* a NULL-ended list of names as a JSON array (NULL: out of memory) */

static json_t *
ngx_gp_admin_names(const char **names)
{
    json_t  *list;

    list = json_array();

    while (list && *names) {
        if (json_array_append_new(list, json_string(*names++)) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/*
 * The body's account (bodies.c reads it); others NULL (unchanged).  A bad
 * body is answered with every problem at once: the message names them,
 * "missing" and "invalid" list the fields.
 */

static ngx_int_t
ngx_gp_admin_account_body(ngx_gp_admin_t *a, ngx_uint_t add,
    ngx_gp_store_account_t *acc, ngx_int_t *status)
{
    int                     rc;
    char                    msg[NGX_GP_BODY_ERR_LEN];
    ngx_gp_body_account_t   b;

    if (a->body == NULL) {
        *status = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                     "invalid_json",
                                     "a JSON object is required");
        return NGX_ERROR;
    }

    rc = ngx_gp_body_account(a->body, (int) add, &b, msg, sizeof(msg));

    if (rc != 0) {
        *status = ngx_gp_admin_json(a->r, NGX_HTTP_BAD_REQUEST,
                                    json_pack("{s:{s:s,s:s,s:o,s:o}}",
                                        "error", "message", msg, "code",
                                        rc == NGX_GP_BODY_MISSING
                                        ? "missing_field" : "invalid_value",
                                        "missing",
                                        ngx_gp_admin_names(b.missing),
                                        "invalid",
                                        ngx_gp_admin_names(b.invalid)));
        return NGX_ERROR;
    }

    ngx_memzero(acc, sizeof(ngx_gp_store_account_t));

    acc->name = b.name;
    acc->team_id = b.team_id;
    acc->csesidx = b.csesidx;
    acc->secure_c_ses = b.secure_c_ses;
    acc->host_c_oses = b.host_c_oses;
    acc->user_agent = b.user_agent;
    acc->proxy = b.proxy;
    acc->tempmail_url = b.tempmail_url;
    acc->tempmail_name = b.tempmail_name;
    acc->enabled = b.enabled;

    return NGX_OK;
}


/*
 * The end of a change to the accounts, inside its transaction: it is
 * committed only when the zone has room for every account it leaves
 * (else 507 naming gemini_pool_zone and the size it needs, and nothing is
 * changed: the database and the zone never disagree), then the zone
 * follows.  *rc: what to answer when it returns NGX_ERROR.
 */

static ngx_int_t
ngx_gp_admin_accounts_commit(ngx_gp_admin_t *a, ngx_int_t *rc)
{
    ngx_int_t             room_rc;
    ngx_log_t            *log;
    ngx_gp_zone_t        *z;
    ngx_gp_store_room_t   room;

    log = a->r->connection->log;

    room_rc = ngx_gp_store_zone_room(log, &room);

    if (room_rc != NGX_OK) {
        ngx_gp_store_rollback(log);

        if (room_rc != NGX_DECLINED) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        z = ngx_gp_zone();

        *rc = ngx_gp_admin_error(a->r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                 "zone_full", "gemini_pool_zone \"%.*s\" "
                                 "(%luk) has no room for %lu accounts: "
                                 "raise it to at least %luk (docs/"
                                 "directives.md); nothing was changed",
                                 (int) z->gmcf->zone_name.len,
                                 z->gmcf->zone_name.data,
                                 (unsigned long) room.size / 1024,
                                 (unsigned long) room.accounts,
                                 (unsigned long) room.needed / 1024);
        return NGX_ERROR;
    }

    if (ngx_gp_store_commit(log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_admin_account_add(ngx_gp_admin_t *a)
{
    int64_t                  id;
    ngx_int_t                rc;
    ngx_gp_store_account_t   acc;

    /* the cookies and the proxy are sealed as they are written */

    if (ngx_gp_admin_account_body(a, 1, &acc, &rc) != NGX_OK) {
        return rc;
    }

    if (ngx_gp_store_begin(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_store_account_add(&acc, &id, a->r->connection->log)
        != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_accounts_commit(a, &rc) != NGX_OK) {
        return rc;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                             json_pack("{s:b,s:I}", "success", 1, "id",
                                       (json_int_t) id));
}


/*
 * Partial update.  Also the remote-sync receiver (spec §15): a position
 * past the end appends placeholder accounts up to it, and an account that
 * gets complete credentials leaves the cookie-expired state and its
 * cooldowns behind.
 */

ngx_int_t
ngx_gp_admin_account_update(ngx_gp_admin_t *a)
{
    int64_t                  id;
    ngx_int_t                rc;
    ngx_uint_t               index, count, i, renew;
    ngx_gp_zone_t           *z;
    ngx_gp_store_account_t   acc;

    /* the cookies and the proxy are sealed as they are written */

    if (ngx_gp_admin_account_body(a, 0, &acc, &rc) != NGX_OK) {
        return rc;
    }

    /* a peer of ours names the account; a reference peer its position */
    id = ngx_gp_admin_sync_target(a, &index, &count);

    if (id == NGX_DECLINED) {
        id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);
    }

    if (id < 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (ngx_gp_store_begin(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (id == 0) {
        if (index > count + 100) {
            ngx_gp_store_rollback(a->r->connection->log);
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "account position "
                                      "%lu is too far past the end (%lu)",
                                      (unsigned long) index,
                                      (unsigned long) count);
        }

        /* placeholders up to the position, as the reference does */
        if (ngx_gp_store_account_placeholders(index + 1 - count, &id,
                                              a->r->connection->log)
            != NGX_OK)
        {
            ngx_gp_store_rollback(a->r->connection->log);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* again: a sync peer's new account got its name in the body */

    if (ngx_gp_admin_account_body(a, 0, &acc, &rc) != NGX_OK) {
        ngx_gp_store_rollback(a->r->connection->log);
        return rc;
    }

    if (ngx_gp_store_account_update(id, &acc, a->r->connection->log)
        != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* complete credentials bring an expired account back */

    renew = 0;

    if ((acc.secure_c_ses || acc.csesidx)
        && ngx_gp_store_account_renew(id, ngx_gp_admin_zone_expired(id),
                                      &renew, a->r->connection->log)
           != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_accounts_commit(a, &rc) != NGX_OK) {
        return rc;
    }

    if (renew) {
        z = ngx_gp_zone();

        ngx_shmtx_lock(&z->shpool->mutex);

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == id) {
                z->sh->accounts[i].cookie_expired = 0;
                z->sh->accounts[i].jwt[0] = '\0';
                ngx_memzero(z->sh->accounts[i].cooldown_until,
                            sizeof(z->sh->accounts[i].cooldown_until));
                ngx_memzero(z->sh->accounts[i].rate_limited,
                            sizeof(z->sh->accounts[i].rate_limited));
                z->sh->accounts[i].state_gen++;
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                      "gemini pool: account %L has new credentials and is "
                      "back in rotation", id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:I,s:b}", "success", 1, "id",
                                       (json_int_t) id, "renewed",
                                       (int) renew));
}


static ngx_uint_t
ngx_gp_admin_zone_expired(int64_t id)
{
    ngx_uint_t      i, expired;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();
    expired = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == id) {
            expired = z->sh->accounts[i].cookie_expired;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return expired;
}


static ngx_int_t
ngx_gp_admin_account_simple(ngx_gp_admin_t *a,
    ngx_int_t (*op)(int64_t id, ngx_log_t *log))
{
    int64_t         id;
    ngx_uint_t      index, count;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (op(id, a->r->connection->log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:I}", "success", 1, "id",
                                       (json_int_t) id));
}


ngx_int_t
ngx_gp_admin_account_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_delete);
}


ngx_int_t
ngx_gp_admin_account_toggle(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_toggle);
}


/* GET /api/accounts/<i>/quota: the cooldowns, absolute and remaining */

ngx_int_t
ngx_gp_admin_account_quota(ngx_gp_admin_t *a)
{
    time_t          now, t[NGX_GP_QUOTA_N];
    int64_t         id;
    ngx_uint_t      index, count, i, expired;
    ngx_gp_zone_t  *z;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    z = ngx_gp_zone();
    now = ngx_time();
    expired = 0;
    ngx_memzero(t, sizeof(t));

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == id) {
            ngx_memcpy(t, z->sh->accounts[i].cooldown_until, sizeof(t));
            expired = z->sh->accounts[i].cookie_expired;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
        json_pack("{s:I,s:b,s:{s:{s:I,s:I},s:{s:I,s:I},s:{s:I,s:I}}}",
                  "id", (json_int_t) id, "cookie_expired", (int) expired,
                  "quota",
                  "text", "until", (json_int_t) t[0], "seconds",
                  (json_int_t) ngx_max(t[0] - now, 0),
                  "images", "until", (json_int_t) t[1], "seconds",
                  (json_int_t) ngx_max(t[1] - now, 0),
                  "videos", "until", (json_int_t) t[2], "seconds",
                  (json_int_t) ngx_max(t[2] - now, 0)));
}


/* GET /api/status: the version, the accounts, the global proxy */

ngx_int_t
ngx_gp_admin_status(ngx_gp_admin_t *a)
{
    time_t            now;
    ngx_uint_t        i, usable, total;
    ngx_gp_zone_t    *z;
    ngx_gp_account_t *acc;
    u_char            proxy[NGX_GP_PROXY_LEN], masked[NGX_GP_PROXY_LEN];

    ngx_gp_cluster_state_t             cl;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(a->r, ngx_http_gemini_pool_module);
    z = ngx_gp_zone();
    now = ngx_time();
    usable = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    total = z->sh->naccounts;

    for (i = 0; i < total; i++) {
        acc = &z->sh->accounts[i];
        usable += acc->enabled && !acc->cookie_expired
                  && acc->cooldown_until[NGX_GP_QUOTA_TEXT] <= now;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_gp_setting_str(z, NGX_GP_SET_PROXY, proxy, sizeof(proxy));

    (void) ngx_gp_mask_url((char *) proxy, masked, sizeof(masked));

    ngx_gp_cluster_state(&cl);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:s,s:b,s:{s:i,s:i},s:{s:b,s:s},"
                                       "s:{s:b,s:b,s:I,s:s}}",
                                       "version", NGX_GP_VERSION,
                                       "demo", (int) gmcf->demo,
                                       "accounts", "total", (int) total,
                                       "usable", (int) usable,
                                       "proxy", "enabled",
                                       (int) ngx_gp_setting_int(z,
                                                NGX_GP_SET_PROXY_ENABLED),
                                       "url", (char *) masked,
                                       "cluster",
                                       "configured", (int) cl.configured,
                                       "up", (int) (cl.configured && cl.up),
                                       "since", (json_int_t) cl.since,
                                       "last_error",
                                       (char *) cl.last_error));
}


/*
 * POST /api/proxy/test [{"proxy": URL}]: can the upstream be reached
 * through that proxy (or the configured global one)?  The answer comes
 * from a real getoxsrf-host request made with libcurl, asynchronously.
 */

static void
ngx_gp_admin_proxy_cleanup(void *data)
{
    ngx_gp_xfer_t  **xp = data;

    if (*xp) {
        ngx_gp_xfer_destroy(*xp);
        *xp = NULL;
    }

    ngx_gp_release_worker();
}


/*
 * Runs x for the request: x->data becomes {x, r, extra}; the request's
 * pool cleanup ends a transfer whose client went away, and done()
 * finalizes the request.
 */

static ngx_int_t
ngx_gp_admin_async(ngx_http_request_t *r, ngx_gp_xfer_t *x,
    ngx_gp_xfer_done_pt done, void *extra)
{
    ngx_gp_xfer_t       **xp;
    ngx_pool_cleanup_t   *cln;

    xp = ngx_palloc(r->pool, 3 * sizeof(void *));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (xp == NULL || cln == NULL) {
        ngx_gp_xfer_destroy(x);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    xp[0] = x;
    xp[1] = (ngx_gp_xfer_t *) r;
    xp[2] = extra;
    cln->handler = ngx_gp_admin_proxy_cleanup;
    cln->data = xp;

    /* a reload waits for the test (released by the cleanup) */
    ngx_gp_hold_worker();

    x->on_done = done;
    x->data = xp;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


static void
ngx_gp_admin_proxy_done(ngx_gp_xfer_t *x)
{
    double               total;
    ngx_int_t            rc;
    ngx_gp_xfer_t      **xp;
    ngx_http_request_t  *r;
    u_char               reason[256], proxy[NGX_GP_PROXY_LEN];

    xp = x->data;
    r = (ngx_http_request_t *) xp[1];

    total = 0;
    (void) curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    (void) ngx_gp_mask_url((char *) x->proxy, proxy, sizeof(proxy));

    if (x->result == CURLE_OK) {
        rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                               json_pack("{s:b,s:s,s:i,s:i}", "ok", 1,
                                         "proxy", (char *) proxy,
                                         "status", (int) x->status,
                                         "elapsed_ms",
                                         (int) (total * 1000)));

    } else {
        rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                               json_pack("{s:b,s:s,s:s,s:i}", "ok", 0,
                                         "proxy", (char *) proxy,
                                         "error",
                                         ngx_gp_xfer_describe(x, reason,
                                                              sizeof(reason)),
                                         "elapsed_ms",
                                         (int) (total * 1000)));
    }

    ngx_gp_xfer_destroy(x);
    xp[0] = NULL;

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_gp_admin_proxy_test(ngx_gp_admin_t *a)
{
    u_char                            *p;
    ngx_int_t                          bad;
    const char                        *url;
    ngx_gp_xfer_t                     *x;
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             target[1024];

    r = a->r;
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    bad = 0;

    url = ngx_gp_admin_str(a, "proxy", &bad);

    if (bad || (url && url[0] && !ngx_gp_proxy_valid((u_char *) url))
        || (url && ngx_strlen(url) >= NGX_GP_PROXY_LEN))
    {
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"proxy\" must be an http://, https://, "
                                  "socks5:// or socks5h:// URL");
    }

    x = ngx_gp_xfer_create(r->connection->log, "proxy test");
    if (x == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (url && url[0]) {
        ngx_cpystrn(x->proxy, (u_char *) url, NGX_GP_PROXY_LEN);
        curl_easy_setopt(x->easy, CURLOPT_PROXY, (char *) x->proxy);
        x->proxied = 1;

    } else {
        ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_GOOGLE, NULL);
    }

    if (!x->proxied) {
        ngx_gp_xfer_destroy(x);
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "no_proxy",
                                  "no proxy given and none configured");
    }

    p = ngx_snprintf(target, sizeof(target) - 1, "%V/", &gmcf->auth_url);
    *p = '\0';

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) target);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 10000L);
    x->max = 64 * 1024;

    return ngx_gp_admin_async(r, x, ngx_gp_admin_proxy_done, NULL);
}


/* POST /api/accounts/<i>/test: a live getoxsrf with its cookies */

static void
ngx_gp_admin_test_ready(ngx_gp_upstream_t *u)
{
    ngx_http_request_t  *r = u->data;

    ngx_http_finalize_request(r, ngx_gp_admin_json(r, NGX_HTTP_OK,
                                 json_pack("{s:b,s:i}", "ok", 1, "status",
                                           200)));
}


static void
ngx_gp_admin_test_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_http_request_t  *r = u->data;

    ngx_http_finalize_request(r, ngx_gp_admin_json(r, NGX_HTTP_OK,
                                 json_pack("{s:b,s:i,s:s}", "ok", 0,
                                           "status", (int) f->status,
                                           "error", f->msg)));
}


static void
ngx_gp_admin_test_cleanup(void *data)
{
    ngx_gp_upstream_finalize(data);
    ngx_gp_release_worker();
}


ngx_int_t
ngx_gp_admin_account_test(ngx_gp_admin_t *a)
{
    int64_t                 id;
    ngx_uint_t              index, count, i;
    ngx_gp_zone_t          *z;
    ngx_gp_account_t       *acc;
    ngx_gp_upstream_t      *u;
    ngx_pool_cleanup_t     *cln;
    ngx_gp_account_copy_t  *copy;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    u = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_upstream_t));
    copy = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_account_copy_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (u == NULL || copy == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id == id) {
            ngx_gp_account_copy(acc, i, copy);
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    /* the pool is left as it is: no JWT stored, no cooldown */
    u->mode = NGX_GP_UPSTREAM_PROBE;
    u->acct = copy;
    u->zone = z;
    u->log = a->r->connection->log;
    u->ready = ngx_gp_admin_test_ready;
    u->fail = ngx_gp_admin_test_failed;
    u->data = a->r;

    cln->handler = ngx_gp_admin_test_cleanup;
    cln->data = u;
    ngx_gp_hold_worker();

    a->r->read_event_handler = ngx_http_test_reading;

    ngx_gp_upstream_start(u);

    return NGX_DONE;
}
