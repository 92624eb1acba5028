
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin authentication: session tokens signed with the admin secret,
 * the console's login (by password or by the admin secret) with its
 * per-address rate limit, logout, the password and "who am I".
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SESSION_TTL     43200      /* 12 h */
#define NGX_GP_LOGIN_WINDOW    900        /* 15 min */
#define NGX_GP_LOGIN_FAILURES  5


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


/* auth routes */

static ngx_gp_login_t *
ngx_gp_admin_login_slot(ngx_gp_zone_t *z, uint32_t addr, time_t now)
{
    ngx_uint_t       i, oldest;
    ngx_gp_login_t  *l;

    oldest = 0;

    for (i = 0; i < NGX_GP_LOGIN_SLOTS; i++) {
        l = &z->sh->logins[i];

        if (l->addr == addr && now - l->window < NGX_GP_LOGIN_WINDOW) {
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


ngx_int_t
ngx_gp_admin_login(ngx_gp_admin_t *a)
{
    char                              *token, *hash, id[40];
    time_t                             now, expires, retry;
    uint32_t                           addr;
    ngx_int_t                          bad, ok, rc;
    ngx_str_t                          t;
    const char                        *password, *secret;
    ngx_gp_zone_t                     *z;
    ngx_gp_login_t                    *l;
    ngx_table_elt_t                   *h;
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    r = a->r;
    z = ngx_gp_zone();
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    now = ngx_time();
    bad = 0;

    addr = ngx_crc32_short(r->connection->addr_text.data,
                           r->connection->addr_text.len);

    ngx_shmtx_lock(&z->shpool->mutex);
    l = ngx_gp_admin_login_slot(z, addr, now);
    retry = (l->failures >= NGX_GP_LOGIN_FAILURES)
            ? l->window + NGX_GP_LOGIN_WINDOW - now : 0;
    ngx_shmtx_unlock(&z->shpool->mutex);

    if (retry > 0) {
        ngx_gp_retry_after(r, retry);

        return ngx_gp_admin_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                  "too_many_attempts", "too many failed "
                                  "logins from this address; try again in "
                                  "%d s", (int) retry);
    }

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

    if (secret) {
        ok = ngx_gp_ct_equal(secret, ngx_strlen(secret), gmcf->admin_secret,
                             gmcf->admin_secret_len);
        goto verified;
    }

    if (ngx_gp_store_password_get(r->pool, &hash, r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (hash == NULL) {
        return ngx_gp_admin_error(r, NGX_HTTP_FORBIDDEN, "no_password",
                                  "no admin password is set yet: log in "
                                  "with the admin secret, then set one "
                                  "with PUT /api/auth/password");
    }

    ok = ngx_gp_password_verify(password, hash);

verified:

    if (!ok) {
        ngx_shmtx_lock(&z->shpool->mutex);
        l = ngx_gp_admin_login_slot(z, addr, now);
        l->failures++;
        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "gemini pool: failed admin login from %V",
                      &r->connection->addr_text);

        return ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  secret ? "wrong admin secret"
                                         : "wrong password");
    }

    expires = now + NGX_GP_SESSION_TTL;
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

    ngx_shmtx_lock(&z->shpool->mutex);
    l = ngx_gp_admin_login_slot(z, addr, now);
    l->failures = 0;
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
    char           *hash;
    ngx_int_t       bad, rc;
    const char     *password;

    bad = 0;
    password = ngx_gp_admin_str(a, "password", &bad);

    if (password == NULL || ngx_strlen(password) < 8) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"password\" must be a "
                                  "string of at least 8 characters");
    }

    hash = ngx_gp_password_hash(password, 0);
    if (hash == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a new password ends every session */

    rc = ngx_gp_store_password_set(hash, a->r->connection->log);
    free(hash);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


ngx_int_t
ngx_gp_admin_whoami(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:s}", "authenticated", 1,
                                       "method", a->by_cookie ? "session"
                                                              : "token"));
}
