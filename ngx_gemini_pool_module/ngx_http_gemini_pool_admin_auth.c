
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin authentication: session tokens signed with the admin secret,
 * the console's login (by password or by the admin secret) with its
 * per-address rate limit, logout, the password and "who am I".
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SESSION_TTL     43200      /* 12 h */


/* a session token: what the gate of admin_routes.c checks */

static ngx_int_t
ngx_gp_admin_session_live(ngx_http_request_t *r, const char *id)
{
    return ngx_gp_store_session_live(id, ngx_time(), r->connection->log);
}


ngx_int_t
ngx_gp_admin_token_ok(ngx_http_request_t *r, ngx_str_t *token, char *id)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);

    if (!ngx_gp_token_verify((char *) token->data, token->len,
                             (char *) gmcf->admin_secret,
                             gmcf->admin_secret_len, ngx_time(), id))
    {
        return 0;
    }

    return ngx_gp_admin_session_live(r, id);
}


/*
 * Login.  Failed attempts are counted per client address in the zone's
 * slots (shared by the workers): login_attempts failures within
 * login_window seconds of the first lock the address out until the
 * window ends (429 with Retry-After).  The count is atomic: an attempt
 * reserves its place under the zone lock before the check starts (a
 * failure counted in advance), so that parallel attempts, in one worker
 * or several, get exactly login_attempts checks.  After the check a wrong
 * password or secret keeps the failure, a right one clears the address; an
 * attempt that was not checked (no password set, a store error, a full
 * thread queue) gives its place back.
 *
 * The password check (PBKDF2, about half a second of CPU) runs in the
 * thread pool of gemini_pool_admin_thread_pool, so that the worker serves
 * chats and /health meanwhile; without one it runs in the event loop.
 */

/*
 * A key derivation in a thread: the login's check of a password against
 * the stored hash, or the new hash of PUT /api/auth/password
 */

typedef struct {
    ngx_http_request_t  *r;
    char                *password;     /* a copy, wiped after the check */
    size_t               password_len;
    char                *hash;         /* check: the stored hash; derive:
                                          the new one (malloc'ed) */
    uint32_t             addr;
    time_t               window;       /* of the reserved place */
    ngx_int_t            ok;
    ngx_uint_t           derive;       /* a new hash, not a check */
    ngx_event_t          guard;        /* keeps a graceful exit waiting */
} ngx_gp_login_check_t;


static ngx_int_t ngx_gp_admin_login_done(ngx_http_request_t *r,
    uint32_t addr, time_t window, ngx_int_t ok, ngx_uint_t by_secret);
static ngx_int_t ngx_gp_admin_password_done(ngx_http_request_t *r,
    char *hash);
#if (NGX_THREADS)
static ngx_int_t ngx_gp_admin_pbkdf_post(ngx_gp_admin_t *a,
    ngx_thread_pool_t *tp, const char *password, char *hash, uint32_t addr,
    time_t window);
#endif


static ngx_gp_login_t *
ngx_gp_admin_login_slot(ngx_gp_zone_t *z, uint32_t addr, time_t now,
    time_t period)
{
    ngx_uint_t       i, oldest;
    ngx_gp_login_t  *l;

    oldest = 0;

    for (i = 0; i < NGX_GP_LOGIN_SLOTS; i++) {
        l = &z->sh->logins[i];

        if (l->addr == addr && now - l->window < period) {
            return l;
        }

        if (l->window < z->sh->logins[oldest].window) {
            oldest = i;
        }
    }

    l = &z->sh->logins[oldest];
    l->addr = addr;
    l->window = now;
    l->failures = 0;

    return l;
}


/* the slot that holds a reserved place, if it still does */

static ngx_gp_login_t *
ngx_gp_admin_login_find(ngx_gp_zone_t *z, uint32_t addr, time_t window)
{
    ngx_uint_t       i;
    ngx_gp_login_t  *l;

    for (i = 0; i < NGX_GP_LOGIN_SLOTS; i++) {
        l = &z->sh->logins[i];

        if (l->addr == addr && l->window == window) {
            return l;
        }
    }

    return NULL;
}


/* an attempt that was not checked gives its place back */

static void
ngx_gp_admin_login_unreserve(uint32_t addr, time_t window)
{
    ngx_gp_zone_t   *z;
    ngx_gp_login_t  *l;

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    l = ngx_gp_admin_login_find(z, addr, window);
    if (l && l->failures) {
        l->failures--;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


ngx_int_t
ngx_gp_admin_login(ngx_gp_admin_t *a)
{
    char                              *hash;
    time_t                             now, retry, window, period;
    uint32_t                           addr;
    ngx_int_t                          bad, ok, max;
    const char                        *password, *secret;
    ngx_gp_zone_t                     *z;
    ngx_gp_login_t                    *l;
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    r = a->r;
    z = ngx_gp_zone();
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    now = ngx_time();
    bad = 0;

    password = ngx_gp_admin_str(a, "password", &bad);

    /*
     * {"secret"}: the admin secret buys a session too, so that the
     * console never keeps the secret itself in the browser
     */
    secret = ngx_gp_admin_str(a, "secret", &bad);

    if (bad || (password == NULL && secret == NULL)) {
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"password\" or \"secret\" (a string) "
                                  "is required");
    }

    addr = ngx_crc32_short(r->connection->addr_text.data,
                           r->connection->addr_text.len);

    /* the settings first: a stale copy takes the zone lock to refresh */
    max = ngx_gp_setting_int(z, NGX_GP_SET_LOGIN_ATTEMPTS);
    period = ngx_gp_setting_int(z, NGX_GP_SET_LOGIN_WINDOW);

    /* reserve the attempt's place, or refuse */

    ngx_shmtx_lock(&z->shpool->mutex);

    l = ngx_gp_admin_login_slot(z, addr, now, period);
    window = l->window;

    if (l->failures >= (ngx_uint_t) max) {
        retry = ngx_max(l->window + period - now, 1);

    } else {
        l->failures++;
        retry = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (retry > 0) {
        ngx_gp_retry_after(r, retry);

        return ngx_gp_admin_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                  "too_many_attempts", "too many failed "
                                  "logins from this address; try again in "
                                  "%d s", (int) retry);
    }

    if (secret) {
        ok = ngx_gp_ct_equal(secret, ngx_strlen(secret), gmcf->admin_secret,
                             gmcf->admin_secret_len);

        return ngx_gp_admin_login_done(r, addr, window, ok, 1);
    }

    if (ngx_gp_store_password_get(r->pool, &hash, r->connection->log)
        != NGX_OK)
    {
        ngx_gp_admin_login_unreserve(addr, window);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (hash == NULL) {
        ngx_gp_admin_login_unreserve(addr, window);
        return ngx_gp_admin_error(r, NGX_HTTP_FORBIDDEN, "no_password",
                                  "no admin password is set yet: log in "
                                  "with the admin secret, then set one "
                                  "with PUT /api/auth/password");
    }

#if (NGX_THREADS)

    if (gmcf->admin_tp) {
        return ngx_gp_admin_pbkdf_post(a, gmcf->admin_tp, password, hash,
                                       addr, window);
    }

#endif

    ok = ngx_gp_password_verify(password, hash);

    return ngx_gp_admin_login_done(r, addr, window, ok, 0);
}


#if (NGX_THREADS)

/* in a thread of the pool */

static void
ngx_gp_admin_pbkdf(void *data, ngx_log_t *log)
{
    ngx_gp_login_check_t  *lc = data;

    if (lc->derive) {
        lc->hash = ngx_gp_password_hash(lc->password, 0);

    } else {
        lc->ok = ngx_gp_password_verify(lc->password, lc->hash);
    }
}


/*
 * nginx's graceful exit (reload, quit) waits only for non-cancelable
 * timers: this one keeps the worker until the check is answered
 */

static void
ngx_gp_admin_pbkdf_guard(ngx_event_t *ev)
{
    ngx_add_timer(ev, 60000);
}


/* back in the event loop: answer (a login: and count the attempt) */

static void
ngx_gp_admin_pbkdf_done(ngx_event_t *ev)
{
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_gp_login_check_t  *lc;

    lc = ev->data;
    r = lc->r;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (lc->guard.timer_set) {
        ngx_del_timer(&lc->guard);
    }

    r->main->blocked--;

    ngx_explicit_memzero(lc->password, lc->password_len);

    rc = lc->derive ? ngx_gp_admin_password_done(r, lc->hash)
                    : ngx_gp_admin_login_done(r, lc->addr, lc->window,
                                              lc->ok, 0);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        rc = ngx_gp_admin_error(r, rc, "internal_error", "the request "
                                "failed (%d); see the error log", (int) rc);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* hash NULL: derive a new hash of the password */

static ngx_int_t
ngx_gp_admin_pbkdf_post(ngx_gp_admin_t *a, ngx_thread_pool_t *tp,
    const char *password, char *hash, uint32_t addr, time_t window)
{
    ngx_thread_task_t     *task;
    ngx_http_request_t    *r;
    ngx_gp_login_check_t  *lc;

    r = a->r;

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_gp_login_check_t));
    lc = task ? task->ctx : NULL;

    if (lc) {
        lc->password_len = ngx_strlen(password);
        lc->password = ngx_pnalloc(r->pool, lc->password_len + 1);
    }

    if (lc == NULL || lc->password == NULL) {
        if (hash) {
            ngx_gp_admin_login_unreserve(addr, window);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lc->r = r;

    ngx_memcpy(lc->password, password, lc->password_len + 1);
    lc->hash = hash;
    lc->derive = (hash == NULL);
    lc->addr = addr;
    lc->window = window;

    task->handler = ngx_gp_admin_pbkdf;
    task->event.handler = ngx_gp_admin_pbkdf_done;
    task->event.data = lc;

    if (ngx_thread_task_post(tp, task) != NGX_OK) {
        ngx_explicit_memzero(lc->password, lc->password_len);

        if (!lc->derive) {
            ngx_gp_admin_login_unreserve(addr, window);
        }

        ngx_gp_retry_after(r, 1);

        return ngx_gp_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "busy", "the password checks' queue is "
                                  "full; try again");
    }

    /* the request lives until the check is answered */
    r->main->blocked++;

    lc->guard.handler = ngx_gp_admin_pbkdf_guard;
    lc->guard.data = lc;
    lc->guard.log = r->connection->log;
    lc->guard.cancelable = 0;
    ngx_add_timer(&lc->guard, 60000);

    return NGX_DONE;
}

#endif


/* the checked attempt: 401 (the failure stays counted) or a session */

static ngx_int_t
ngx_gp_admin_login_done(ngx_http_request_t *r, uint32_t addr, time_t window,
    ngx_int_t ok, ngx_uint_t by_secret)
{
    char                              *token, id[40];
    time_t                             expires;
    ngx_int_t                          rc;
    ngx_str_t                          t;
    ngx_gp_zone_t                     *z;
    ngx_gp_login_t                    *l;
    ngx_table_elt_t                   *h;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    z = ngx_gp_zone();
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);

    if (!ok) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "gemini pool: failed admin login from %V",
                      &r->connection->addr_text);

        return ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  by_secret ? "wrong admin secret"
                                            : "wrong password");
    }

    expires = ngx_time() + NGX_GP_SESSION_TTL;
    token = ngx_gp_token_new((char *) gmcf->admin_secret,
                             gmcf->admin_secret_len, expires);
    if (token == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t.data = (u_char *) token;
    t.len = ngx_strlen(token);

    /* the id is the first field of the token */
    ngx_cpystrn((u_char *) id, (u_char *) token, 33);

    if (ngx_gp_store_session_add(id, expires, &r->connection->addr_text,
                                 r->connection->log)
        != NGX_OK)
    {
        free(token);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the cookie: HttpOnly, SameSite=Strict, Secure over TLS */

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        free(token);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = ngx_pnalloc(r->pool, t.len + 128);
    if (h->value.data == NULL) {
        free(token);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, NGX_GP_COOKIE "=%V; Path=/; "
                               "Max-Age=%d; HttpOnly; SameSite=Strict%s",
                               &t, NGX_GP_SESSION_TTL,
#if (NGX_HTTP_SSL)
                               r->connection->ssl ? "; Secure" : ""
#else
                               ""
#endif
                               ) - h->value.data;

    /* the address starts afresh */

    ngx_shmtx_lock(&z->shpool->mutex);

    l = ngx_gp_admin_login_find(z, addr, window);
    if (l) {
        l->failures = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                           json_pack("{s:b,s:s,s:I}", "success", 1, "token",
                                     token, "expires_at",
                                     (json_int_t) expires));
    free(token);

    return rc;
}


ngx_int_t
ngx_gp_admin_logout(ngx_gp_admin_t *a)
{
    char                 id[40];
    ngx_str_t            token, name;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = a->r;

    h = ngx_gp_header_in(r, "X-Admin-Token");

    if (h) {
        token = h->value;

    } else {
        ngx_str_set(&name, NGX_GP_COOKIE);

        if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                              &token)
            == NGX_DECLINED)
        {
            return ngx_gp_admin_ok(r);
        }
    }

    if (token.len >= 32 && token.data[32] == '.') {
        ngx_cpystrn((u_char *) id, token.data, 33);

        if (ngx_gp_store_session_revoke(id, r->connection->log) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the session's chat credential ends with it */
        if (ngx_gp_store_chat_token_drop(id, r->connection->log) == NGX_OK
            && ngx_gp_admin_changed(r) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h) {
        h->hash = 1;
        ngx_str_set(&h->key, "Set-Cookie");
        ngx_str_set(&h->value, NGX_GP_COOKIE "=; Path=/; Max-Age=0; "
                    "HttpOnly; SameSite=Strict");
    }

    return ngx_gp_admin_ok(r);
}


ngx_int_t
ngx_gp_admin_password(ngx_gp_admin_t *a)
{
    ngx_int_t                          bad;
    const char                        *password;
#if (NGX_THREADS)
    ngx_http_gemini_pool_main_conf_t  *gmcf;
#endif

    bad = 0;
    password = ngx_gp_admin_str(a, "password", &bad);

    if (password == NULL || ngx_strlen(password) < 8) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"password\" must be a "
                                  "string of at least 8 characters");
    }

    /* the new hash is derived in the thread pool too, when there is one */

#if (NGX_THREADS)

    gmcf = ngx_http_get_module_main_conf(a->r, ngx_http_gemini_pool_module);

    if (gmcf->admin_tp) {
        return ngx_gp_admin_pbkdf_post(a, gmcf->admin_tp, password, NULL, 0,
                                       0);
    }

#endif

    return ngx_gp_admin_password_done(a->r,
                                      ngx_gp_password_hash(password, 0));
}


/* takes the new hash (malloc'ed, or NULL when it could not be made) */

static ngx_int_t
ngx_gp_admin_password_done(ngx_http_request_t *r, char *hash)
{
    ngx_int_t  rc;

    if (hash == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a new password ends every session */

    rc = ngx_gp_store_password_set(hash, r->connection->log);
    free(hash);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(r);
}


/*
 * GET /api/auth/login (open): how one can log in now, for the login page:
 * the admin secret always, the password once one is set.
 */

ngx_int_t
ngx_gp_admin_login_info(ngx_gp_admin_t *a)
{
    char  *hash;

    if (ngx_gp_store_password_get(a->r->pool, &hash, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b}", "password_set",
                                       hash != NULL));
}


ngx_int_t
ngx_gp_admin_whoami(ngx_gp_admin_t *a)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(a->r, ngx_http_gemini_pool_module);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:s,s:b}", "authenticated", 1,
                                       "method", a->by_cookie ? "session"
                                                              : "token",
                                       "demo", (int) gmcf->demo));
}
