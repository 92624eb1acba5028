
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The admin JSON API under /api/: authentication, accounts (also the
 * remote-sync receiver), settings, API keys and status.  Writes go to
 * SQLite and the zone is loaded again from it, so every worker sees a
 * change at once.  Admin requests are rare: their SQLite calls run in the
 * worker; the chat path never touches SQLite.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SESSION_TTL     43200      /* 12 h */
#define NGX_GP_LOGIN_WINDOW    900        /* 15 min */
#define NGX_GP_LOGIN_FAILURES  5
#define NGX_GP_COOKIE          "gp_admin"


typedef struct {
    ngx_http_request_t  *r;
    json_t              *body;          /* request JSON or NULL */
    ngx_str_t            path;          /* after "/api/" */
    ngx_str_t            seg[4];        /* path segments */
    ngx_uint_t           nseg;
    unsigned             by_cookie:1;
} ngx_gp_admin_t;


typedef ngx_int_t (*ngx_gp_admin_pt)(ngx_gp_admin_t *a);

typedef struct {
    ngx_uint_t           method;
    const char          *route;        /* segments, "*" matches one */
    ngx_gp_admin_pt      handler;
    ngx_uint_t           open;          /* no authentication needed */
} ngx_gp_admin_route_t;


static void ngx_gp_admin_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_admin_dispatch(ngx_http_request_t *r,
    json_t *body);
static ngx_int_t ngx_gp_admin_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static ngx_int_t ngx_gp_admin_login(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_logout(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_password(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_whoami(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_accounts(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_add(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_update(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_delete(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_toggle(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_settings(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_settings_update(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_keys(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_key_add(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_key_revoke(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_key_delete(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_status(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_proxy_test(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_logs(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_test(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_account_quota(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_models(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_model_put(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_model_delete(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_key_stats(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_history(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_history_item(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_history_delete(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_export(ngx_gp_admin_t *a);
static ngx_int_t ngx_gp_admin_import(ngx_gp_admin_t *a);
static ngx_uint_t ngx_gp_admin_zone_expired(int64_t id);


static ngx_gp_admin_route_t  ngx_gp_admin_routes[] = {
    { NGX_HTTP_POST,   "auth/login",        ngx_gp_admin_login, 1 },
    { NGX_HTTP_POST,   "auth/logout",       ngx_gp_admin_logout, 0 },
    { NGX_HTTP_PUT,    "auth/password",     ngx_gp_admin_password, 0 },
    { NGX_HTTP_GET,    "auth/status",       ngx_gp_admin_whoami, 0 },
    { NGX_HTTP_GET,    "accounts",          ngx_gp_admin_accounts, 0 },
    { NGX_HTTP_POST,   "accounts",          ngx_gp_admin_account_add, 0 },
    { NGX_HTTP_PUT,    "accounts/*",        ngx_gp_admin_account_update, 0 },
    { NGX_HTTP_PATCH,  "accounts/*",        ngx_gp_admin_account_update, 0 },
    { NGX_HTTP_DELETE, "accounts/*",        ngx_gp_admin_account_delete, 0 },
    { NGX_HTTP_POST,   "accounts/*/toggle", ngx_gp_admin_account_toggle, 0 },
    { NGX_HTTP_POST,   "accounts/*/test",   ngx_gp_admin_account_test, 0 },
    { NGX_HTTP_GET,    "accounts/*/quota",  ngx_gp_admin_account_quota, 0 },
    { NGX_HTTP_GET,    "models",            ngx_gp_admin_models, 0 },
    { NGX_HTTP_POST,   "models",            ngx_gp_admin_model_put, 0 },
    { NGX_HTTP_PUT,    "models/*",          ngx_gp_admin_model_put, 0 },
    { NGX_HTTP_DELETE, "models/*",          ngx_gp_admin_model_delete, 0 },
    { NGX_HTTP_GET,    "settings",          ngx_gp_admin_settings, 0 },
    { NGX_HTTP_PUT,    "settings",          ngx_gp_admin_settings_update, 0 },
    { NGX_HTTP_POST,   "settings",          ngx_gp_admin_settings_update, 0 },
    { NGX_HTTP_GET,    "keys",              ngx_gp_admin_keys, 0 },
    { NGX_HTTP_POST,   "keys",              ngx_gp_admin_key_add, 0 },
    { NGX_HTTP_POST,   "keys/*/revoke",     ngx_gp_admin_key_revoke, 0 },
    { NGX_HTTP_DELETE, "keys/*",            ngx_gp_admin_key_delete, 0 },
    { NGX_HTTP_GET,    "status",            ngx_gp_admin_status, 0 },
    { NGX_HTTP_POST,   "proxy/test",        ngx_gp_admin_proxy_test, 0 },
    { NGX_HTTP_GET,    "logs",              ngx_gp_admin_logs, 0 },
    { NGX_HTTP_GET,    "keys/*/logs",       ngx_gp_admin_logs, 0 },
    { NGX_HTTP_GET,    "keys/*/stats",      ngx_gp_admin_key_stats, 0 },
    { NGX_HTTP_GET,    "history",           ngx_gp_admin_history, 0 },
    { NGX_HTTP_GET,    "history/*",         ngx_gp_admin_history_item, 0 },
    { NGX_HTTP_DELETE, "history",           ngx_gp_admin_history_delete, 0 },
    { NGX_HTTP_DELETE, "history/*",         ngx_gp_admin_history_delete, 0 },
    { NGX_HTTP_GET,    "config/export",     ngx_gp_admin_export, 0 },
    { NGX_HTTP_POST,   "config/import",     ngx_gp_admin_import, 0 },
    { 0, NULL, NULL, 0 }
};


ngx_int_t
ngx_gp_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (ngx_gp_zone() == NULL) {
        return ngx_gp_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "not_configured",
                                  "gemini_pool_zone is not configured");
    }

    if (r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_gp_admin_dispatch(r, NULL);
    }

    rc = ngx_http_read_client_request_body(r, ngx_gp_admin_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_json_cleanup(void *data)
{
    json_decref(data);
}


static void
ngx_gp_admin_body(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    json_t              *body;
    ngx_str_t            text;
    json_error_t         err;
    ngx_pool_cleanup_t  *cln;

    body = NULL;
    text.len = 0;

    /* an import reads its body itself: it may be an SQLite file */

    if (!(r->uri.len >= sizeof("/config/import") - 1
          && ngx_strncmp(r->uri.data + r->uri.len
                         - (sizeof("/config/import") - 1), "/config/import",
                         sizeof("/config/import") - 1) == 0)
        && ngx_gp_read_body(r, &text) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (text.len) {
        body = json_loadb((char *) text.data, text.len, 0, &err);

        if (body == NULL || !json_is_object(body)) {
            json_decref(body);
            ngx_http_finalize_request(r,
                ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                   "the body must be a JSON object%s%s",
                                   body ? "" : ": ", body ? "" : err.text));
            return;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            json_decref(body);
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        cln->handler = ngx_json_cleanup;
        cln->data = body;
    }

    rc = ngx_gp_admin_dispatch(r, body);

    if (rc == NGX_DONE) {
        /* an upstream call is under way; it finalizes the request */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/* JSON out: takes the reference of j */

static ngx_int_t
ngx_gp_admin_json(ngx_http_request_t *r, ngx_uint_t status, json_t *j)
{
    char       *p;
    ngx_int_t   rc;

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, status, (u_char *) p, ngx_strlen(p));
    free(p);

    return rc;
}


static ngx_int_t
ngx_gp_admin_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *fmt, ...)
{
    va_list  args;
    char     msg[256];

    va_start(args, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    return ngx_gp_admin_json(r, status,
                             json_pack("{s:{s:s,s:s}}", "error", "message",
                                       msg, "code", code));
}


static ngx_int_t
ngx_gp_admin_ok(ngx_http_request_t *r)
{
    return ngx_gp_admin_json(r, NGX_HTTP_OK, json_pack("{s:b}", "success",
                                                        1));
}


/* the database changed: every worker's view follows through the zone */

static ngx_int_t
ngx_gp_admin_changed(ngx_http_request_t *r)
{
    if (ngx_gp_store_reload(r->connection->log) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "gemini pool: admin: the change was saved but could "
                      "not be loaded into the zone");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* authentication */

static ngx_int_t
ngx_gp_admin_session_live(ngx_http_request_t *r, const char *id)
{
    return ngx_gp_store_session_live(id, ngx_time(), r->connection->log);
}


static ngx_int_t
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


static ngx_table_elt_t *
ngx_gp_admin_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* the host part of an Origin or Referer value: "scheme://host[:port]" */

static ngx_uint_t
ngx_gp_admin_same_host(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char  *p, *last, *host;

    if (r->headers_in.host == NULL) {
        return 0;
    }

    p = url->data;
    last = p + url->len;
    host = ngx_strlcasestrn(p, last, (u_char *) "://", 3 - 1);

    if (host == NULL) {
        return 0;
    }

    host += 3;
    p = host;

    while (p < last && *p != '/') {
        p++;
    }

    return (size_t) (p - host) == r->headers_in.host->value.len
           && ngx_strncasecmp(host, r->headers_in.host->value.data,
                              p - host) == 0;
}


/*
 * X-Admin-Token: the admin secret itself (remote sync, scripts) or a
 * session token; or the session cookie, which for a state-changing
 * request needs an Origin (or Referer) of this very host.
 */

static ngx_int_t
ngx_gp_admin_authenticate(ngx_gp_admin_t *a, ngx_int_t *sent)
{
    char                               id[40];
    ngx_str_t                          cookie, name;
    ngx_table_elt_t                   *h;
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    r = a->r;
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);

    h = ngx_gp_admin_header(r, "X-Admin-Token");

    if (h) {
        if (ngx_gp_ct_equal(h->value.data, h->value.len, gmcf->admin_secret,
                            gmcf->admin_secret_len)
            || ngx_gp_admin_token_ok(r, &h->value, id))
        {
            return NGX_OK;
        }

        *sent = ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  "invalid X-Admin-Token");
        return NGX_DECLINED;
    }

    ngx_str_set(&name, NGX_GP_COOKIE);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &cookie)
        == NGX_DECLINED)
    {
        *sent = ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  "log in first, or send X-Admin-Token");
        return NGX_DECLINED;
    }

    if (!ngx_gp_admin_token_ok(r, &cookie, id)) {
        *sent = ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  "the session has expired or was ended");
        return NGX_DECLINED;
    }

    a->by_cookie = 1;

    if (r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD)) {
        return NGX_OK;
    }

    h = ngx_gp_admin_header(r, "Origin");

    if (h == NULL) {
        h = r->headers_in.referer;
    }

    if (h == NULL || !ngx_gp_admin_same_host(r, &h->value)) {
        *sent = ngx_gp_admin_error(r, NGX_HTTP_FORBIDDEN, "cross_origin",
                                  "a state-changing request with the "
                                  "session cookie needs an Origin of this "
                                  "host");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_gp_admin_dispatch(ngx_http_request_t *r, json_t *body)
{
    u_char                *p, *last, *s;
    ngx_int_t              rc;
    ngx_uint_t             n, allowed;
    const char            *q;
    ngx_gp_admin_t        *a;
    ngx_gp_admin_route_t  *rt;

    a = ngx_pcalloc(r->pool, sizeof(ngx_gp_admin_t));
    if (a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a->r = r;
    a->body = body;

    /* the part after ".../api/" */

    p = ngx_strlcasestrn(r->uri.data, r->uri.data + r->uri.len,
                         (u_char *) "/api/", 5 - 1);
    if (p == NULL) {
        return ngx_gp_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "unknown admin path");
    }

    p += 5;
    last = r->uri.data + r->uri.len;

    while (last > p && last[-1] == '/') {
        last--;
    }

    a->path.data = p;
    a->path.len = last - p;

    while (p < last && a->nseg < 4) {
        s = ngx_strlchr(p, last, '/');
        if (s == NULL) {
            s = last;
        }

        a->seg[a->nseg].data = p;
        a->seg[a->nseg].len = s - p;
        a->nseg++;
        p = s + 1;
    }

    if (p < last) {
        return ngx_gp_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "unknown admin path");
    }

    allowed = 0;

    for (rt = ngx_gp_admin_routes; rt->route; rt++) {

        /* match segment by segment */
        q = rt->route;

        for (n = 0; n < a->nseg && *q; n++) {
            size_t  len;

            len = ngx_strchr(q, '/') ? (size_t) (ngx_strchr(q, '/') - q)
                                     : ngx_strlen(q);

            if (!(len == 1 && q[0] == '*')
                && (len != a->seg[n].len
                    || ngx_strncmp(q, a->seg[n].data, len) != 0))
            {
                break;
            }

            q += len;

            if (*q == '/') {
                q++;
            }
        }

        if (n != a->nseg || *q) {
            continue;
        }

        allowed = 1;

        if (!(rt->method & r->method)) {
            continue;
        }

        if (!rt->open && ngx_gp_admin_authenticate(a, &rc) != NGX_OK) {
            return rc;
        }

        rc = rt->handler(a);

        /* a handler's plain status becomes a JSON error too */
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            if (r->header_sent) {
                return NGX_ERROR;
            }

            return ngx_gp_admin_error(r, rc, "internal_error",
                                      "the request failed (%d); see the "
                                      "error log", (int) rc);
        }

        return rc;
    }

    if (allowed) {
        return ngx_gp_admin_error(r, NGX_HTTP_NOT_ALLOWED,
                                  "method_not_allowed",
                                  "method not allowed for /api/%.*s",
                                  (int) ngx_min(a->path.len, 100),
                                  a->path.data);
    }

    return ngx_gp_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                              "unknown admin path /api/%.*s",
                              (int) ngx_min(a->path.len, 100), a->path.data);
}


/* helpers for JSON fields */

static const char *
ngx_gp_admin_str(ngx_gp_admin_t *a, const char *key, ngx_int_t *bad)
{
    json_t  *v;

    v = a->body ? json_object_get(a->body, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }

    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }

    return json_string_value(v);
}


static ngx_int_t
ngx_gp_admin_int(ngx_gp_admin_t *a, const char *key, int64_t *out,
    ngx_int_t *bad)
{
    json_t  *v;

    v = a->body ? json_object_get(a->body, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *bad = 1;
        return NGX_DECLINED;
    }

    *out = json_integer_value(v);

    return NGX_OK;
}


/* a list route's answer: {"<name>": [rows]}; list NULL: it failed */

static ngx_int_t
ngx_gp_admin_list(ngx_gp_admin_t *a, json_t *list, const char *name)
{
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o}", name, list));
}


/* 404 for the path's second segment: "no <what> \"<segment>\"" */

static ngx_int_t
ngx_gp_admin_not_found(ngx_gp_admin_t *a, const char *what)
{
    return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                              "no %s \"%.*s\"", what,
                              (int) ngx_min(a->seg[1].len, 40),
                              a->seg[1].data);
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


static ngx_int_t
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


static ngx_int_t
ngx_gp_admin_logout(ngx_gp_admin_t *a)
{
    char                 id[40];
    ngx_str_t            token, name;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = a->r;

    h = ngx_gp_admin_header(r, "X-Admin-Token");

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


static ngx_int_t
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


static ngx_int_t
ngx_gp_admin_whoami(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:s}", "authenticated", 1,
                                       "method", a->by_cookie ? "session"
                                                              : "token"));
}


/* accounts */

static json_t *
ngx_gp_admin_account_json(ngx_gp_account_t *acc, ngx_uint_t index,
    time_t now)
{
    u_char   proxy[NGX_GP_PROXY_LEN];

    (void) ngx_gp_mask_url((char *) acc->proxy, proxy, sizeof(proxy));

    return json_pack("{s:i,s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:s,"
                     "s:{s:I,s:I,s:I},s:b,s:I,s:I,s:s}",
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
                     "requests", (json_int_t) acc->requests,
                     "failures", (json_int_t) acc->failures,
                     "last_error", (char *) acc->last_error);
}


static ngx_int_t
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

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:i}", "accounts", list,
                                       "total", (int) json_array_size(list)));
}


typedef struct {
    const char   *column;
    size_t        max;
    ngx_uint_t    digits;     /* only 0-9 */
    ngx_uint_t    url;        /* a proxy URL or "direct" */
} ngx_gp_admin_field_t;


static ngx_gp_admin_field_t  ngx_gp_admin_account_fields[] = {
    { "name", NGX_GP_NAME_LEN - 1, 0, 0 },
    { "team_id", NGX_GP_TEAM_LEN - 1, 0, 0 },
    { "csesidx", NGX_GP_CSESIDX_LEN - 1, 1, 0 },
    { "secure_c_ses", NGX_GP_COOKIE_LEN - 1, 0, 0 },
    { "host_c_oses", NGX_GP_COOKIE_LEN - 1, 0, 0 },
    { "user_agent", NGX_GP_UA_LEN - 1, 0, 0 },
    { "proxy", NGX_GP_PROXY_LEN - 1, 0, 1 },
    { NULL, 0, 0, 0 }
};


/* checks the string fields present in the body; NULL or a message */

static const char *
ngx_gp_admin_check_fields(ngx_gp_admin_t *a, char *msg, size_t size)
{
    size_t                  len, i;
    json_t                 *v;
    const char             *s;
    ngx_gp_admin_field_t   *f;

    for (f = ngx_gp_admin_account_fields; f->column; f++) {
        v = json_object_get(a->body, f->column);

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        if (!json_is_string(v)) {
            (void) snprintf(msg, size, "\"%s\" must be a string", f->column);
            return msg;
        }

        s = json_string_value(v);
        len = json_string_length(v);

        if (len > f->max || ngx_strlen(s) != len) {
            (void) snprintf(msg, size, "\"%s\" is longer than %zu bytes "
                            "or contains NUL", f->column, f->max);
            return msg;
        }

        for (i = 0; f->digits && i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                (void) snprintf(msg, size, "\"%s\" must be digits",
                                f->column);
                return msg;
            }
        }

        if (f->url && len && ngx_strcmp(s, "direct") != 0
            && ngx_strncmp(s, "http://", 7) != 0
            && ngx_strncmp(s, "https://", 8) != 0
            && ngx_strncmp(s, "socks5://", 9) != 0
            && ngx_strncmp(s, "socks5h://", 10) != 0)
        {
            (void) snprintf(msg, size, "\"%s\" must be \"direct\" or an "
                            "http://, https://, socks5:// or socks5h:// "
                            "URL", f->column);
            return msg;
        }
    }

    v = json_object_get(a->body, "enabled");

    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        (void) snprintf(msg, size, "\"enabled\" must be true or false");
        return msg;
    }

    return NULL;
}


/* the body's string fields; others NULL (unchanged) */

static void
ngx_gp_admin_account_body(ngx_gp_admin_t *a, ngx_gp_store_account_t *acc)
{
    json_t  *v;

#define ngx_gp_admin_body_str(key)                                           \
    (json_is_string(json_object_get(a->body, key))                           \
     ? json_string_value(json_object_get(a->body, key)) : NULL)

    acc->name = ngx_gp_admin_body_str("name");
    acc->team_id = ngx_gp_admin_body_str("team_id");
    acc->csesidx = ngx_gp_admin_body_str("csesidx");
    acc->secure_c_ses = ngx_gp_admin_body_str("secure_c_ses");
    acc->host_c_oses = ngx_gp_admin_body_str("host_c_oses");
    acc->user_agent = ngx_gp_admin_body_str("user_agent");
    acc->proxy = ngx_gp_admin_body_str("proxy");

#undef ngx_gp_admin_body_str

    v = json_object_get(a->body, "enabled");
    acc->enabled = json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : -1;
}


static ngx_int_t
ngx_gp_admin_account_add(ngx_gp_admin_t *a)
{
    int64_t                  id;
    json_t                  *v;
    ngx_uint_t               i;
    const char              *err;
    ngx_gp_admin_field_t    *f;
    ngx_gp_store_account_t   acc;
    char                     msg[160];

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object is required");
    }

    err = ngx_gp_admin_check_fields(a, msg, sizeof(msg));
    if (err) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "%s", err);
    }

    for (i = 1; i < 4; i++) {
        f = &ngx_gp_admin_account_fields[i];
        v = json_object_get(a->body, f->column);

        if (i != 2 && (v == NULL || json_string_length(v) == 0)) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "missing_field", "\"%s\" is required",
                                      f->column);
        }

        if (i == 2 && (v == NULL || json_string_length(v) == 0)) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "missing_field",
                                      "\"csesidx\" is required");
        }
    }

    /* the cookies and the proxy are sealed as they are written */

    ngx_gp_admin_account_body(a, &acc);

    if (ngx_gp_store_account_add(&acc, &id, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                             json_pack("{s:b,s:I}", "success", 1, "id",
                                       (json_int_t) id));
}


/*
 * <ref>: a list position (as the reference and its remote sync use) or
 * "id:<N>" (a stable identity).  Returns the id, 0 when the position is
 * past the end (*count: the number of accounts), -1 when malformed or
 * unknown.
 */

static int64_t
ngx_gp_admin_account_ref(ngx_gp_admin_t *a, ngx_str_t *ref,
    ngx_uint_t *index, ngx_uint_t *count)
{
    int64_t         id;
    ngx_int_t       n;
    ngx_uint_t      i;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();
    id = -1;

    if (ref->len > 3 && ngx_strncmp(ref->data, "id:", 3) == 0) {
        n = ngx_atoi(ref->data + 3, ref->len - 3);
        if (n == NGX_ERROR) {
            return -1;
        }

        ngx_shmtx_lock(&z->shpool->mutex);

        *count = z->sh->naccounts;

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == n) {
                *index = i;
                id = n;
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        return id;
    }

    n = ngx_atoi(ref->data, ref->len);
    if (n == NGX_ERROR) {
        return -1;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    *count = z->sh->naccounts;
    *index = (ngx_uint_t) n;

    id = ((ngx_uint_t) n < z->sh->naccounts)
         ? z->sh->accounts[n].id : 0;

    ngx_shmtx_unlock(&z->shpool->mutex);

    return id;
}


/*
 * Partial update.  Also the remote-sync receiver (spec §15): a position
 * past the end appends placeholder accounts up to it, and an account that
 * gets complete credentials leaves the cookie-expired state and its
 * cooldowns behind.
 */

static ngx_int_t
ngx_gp_admin_account_update(ngx_gp_admin_t *a)
{
    int64_t                  id;
    ngx_uint_t               index, count, i, renew;
    const char              *err;
    ngx_gp_zone_t           *z;
    ngx_gp_store_account_t   acc;
    char                     msg[160];

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object is required");
    }

    err = ngx_gp_admin_check_fields(a, msg, sizeof(msg));
    if (err) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "%s", err);
    }

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id < 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (id == 0) {
        if (index > count + 100) {
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
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* the cookies and the proxy are sealed as they are written */

    ngx_gp_admin_account_body(a, &acc);

    if (ngx_gp_store_account_update(id, &acc, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* complete credentials bring an expired account back */

    renew = 0;

    if ((acc.secure_c_ses || acc.csesidx)
        && ngx_gp_store_account_renew(id, ngx_gp_admin_zone_expired(id),
                                      &renew, a->r->connection->log)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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


static ngx_int_t
ngx_gp_admin_account_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_delete);
}


static ngx_int_t
ngx_gp_admin_account_toggle(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_toggle);
}


/* settings */

/*
 * {"settings": {key: {"type", "value" | "set", "default", ["allowed"],
 * ["min", "max"]}}}: every setting of the table with its effective
 * value, secrets only as whether they are set.
 */

static json_t *
ngx_gp_admin_setting_json(ngx_uint_t i, ngx_gp_setting_t *s)
{
    json_t                      *v, *allowed;
    const char *const           *c;
    const ngx_gp_setting_def_t  *d;

    d = ngx_gp_setting_def(i);

    switch (d->type) {

    case NGX_GP_SETTING_SECRET:
        /* never the secret itself: whether it is set */
        v = json_pack("{s:s,s:n,s:b,s:s}", "type", "secret", "value",
                      "set", s->value[0] != '\0', "default", d->dflt);
        break;

    case NGX_GP_SETTING_INT:
        v = json_pack("{s:s,s:I,s:I,s:I}", "type", "int", "value",
                      (json_int_t) s->number, "default",
                      (json_int_t) ngx_atoi((u_char *) d->dflt,
                                            ngx_strlen(d->dflt)),
                      "min", (json_int_t) d->min);

        if (v && d->max >= 0
            && json_object_set_new(v, "max", json_integer(d->max)) != 0)
        {
            json_decref(v);
            v = NULL;
        }

        break;

    case NGX_GP_SETTING_BOOL:
        v = json_pack("{s:s,s:b,s:b}", "type", "bool", "value",
                      (int) s->number, "default",
                      ngx_strcmp(d->dflt, "true") == 0);
        break;

    default:
        v = json_pack("{s:s,s:s,s:s}", "type", "string", "value",
                      (char *) s->value, "default", d->dflt);
        break;
    }

    if (v && d->allowed) {
        allowed = json_array();

        for (c = d->allowed; allowed && *c; c++) {
            if (json_array_append_new(allowed, json_string(*c)) != 0) {
                json_decref(allowed);
                allowed = NULL;
            }
        }

        if (allowed == NULL
            || json_object_set_new(v, "allowed", allowed) != 0)
        {
            json_decref(v);
            v = NULL;
        }
    }

    return v;
}


static ngx_int_t
ngx_gp_admin_settings(ngx_gp_admin_t *a)
{
    json_t            *obj, *v;
    ngx_uint_t         i, k, j, order[NGX_GP_SET_N];
    ngx_gp_zone_t     *z;
    ngx_gp_setting_t  *s;

    z = ngx_gp_zone();

    /* by key, as the settings table of SQLite lists them */

    for (i = 0; i < NGX_GP_SET_N; i++) {
        for (j = i; j > 0; j--) {
            k = order[j - 1];

            if (ngx_strcmp(ngx_gp_setting_def(k)->key,
                           ngx_gp_setting_def(i)->key) < 0)
            {
                break;
            }

            order[j] = k;
        }

        order[j] = i;
    }

    s = ngx_palloc(a->r->pool, sizeof(z->sh->settings));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_memcpy(s, z->sh->settings, sizeof(z->sh->settings));
    ngx_shmtx_unlock(&z->shpool->mutex);

    obj = json_object();

    for (i = 0; obj && i < NGX_GP_SET_N; i++) {
        k = order[i];
        v = ngx_gp_admin_setting_json(k, &s[k]);

        if (v == NULL
            || json_object_set_new(obj, ngx_gp_setting_def(k)->key, v) != 0)
        {
            json_decref(obj);
            obj = NULL;
        }
    }

    ngx_explicit_memzero(s, sizeof(z->sh->settings));

    if (obj == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o}", "settings", obj));
}


/*
 * {"key": value, ...}: every key must be a setting of the table and every
 * value of its type and pass the table's check (the one the import uses);
 * one transaction, so one bad value changes nothing.  Secrets are sealed
 * as they are written.
 */

static ngx_int_t
ngx_gp_admin_settings_update(ngx_gp_admin_t *a)
{
    char         buf[32];
    json_t      *v;
    ngx_int_t    i, n;
    const char  *key, *text, *err;

    if (a->body == NULL || json_object_size(a->body) == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object of settings is required");
    }

    /* all checked before anything is written */

    json_object_foreach(a->body, key, v) {

        i = ngx_gp_setting_index(key);

        if (i == NGX_ERROR) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "unknown_setting",
                                      "unknown setting \"%.60s\"", key);
        }

        text = ngx_gp_setting_json_text(i, v, buf, sizeof(buf));

        if (text == NULL) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_type", "\"%.60s\" must be %s",
                                      key,
                                      ngx_gp_setting_def(i)->type
                                      == NGX_GP_SETTING_INT
                                      ? "a non-negative integer"
                                      : ngx_gp_setting_def(i)->type
                                        == NGX_GP_SETTING_BOOL
                                        ? "true or false"
                                        : "a string (under 512 bytes)");
        }

        err = ngx_gp_setting_check(i, (u_char *) text, &n);

        if (err) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "\"%s\": %s", key,
                                      err);
        }
    }

    if (ngx_gp_store_begin(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_foreach(a->body, key, v) {
        i = ngx_gp_setting_index(key);
        text = ngx_gp_setting_json_text(i, v, buf, sizeof(buf));

        if (ngx_gp_store_setting_put(i, text, a->r->connection->log)
            != NGX_OK)
        {
            ngx_gp_store_rollback(a->r->connection->log);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_gp_store_commit(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_settings(a);
}


/* API keys */

static ngx_int_t
ngx_gp_admin_keys(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_list(a, ngx_gp_store_keys_list(a->r->connection->log),
                             "keys");
}


static ngx_int_t
ngx_gp_admin_key_add(ngx_gp_admin_t *a)
{
    char                *key, *hash, models[NGX_GP_KEY_MODELS_LEN], *p;
    json_t              *v, *m;
    size_t               i, len;
    int64_t              expires, rpm, rpd, id;
    ngx_int_t            bad, rc;
    const char          *name, *format;
    ngx_gp_store_key_t   sk;

    bad = 0;
    expires = 0;
    rpm = 0;
    rpd = 0;

    name = ngx_gp_admin_str(a, "name", &bad);
    format = ngx_gp_admin_str(a, "image_format", &bad);
    (void) ngx_gp_admin_int(a, "expires_at", &expires, &bad);
    (void) ngx_gp_admin_int(a, "rpm", &rpm, &bad);
    (void) ngx_gp_admin_int(a, "rpd", &rpd, &bad);

    if (bad || (name && ngx_strlen(name) >= NGX_GP_NAME_LEN)) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"name\" and \"image_format\" are strings, "
                                  "\"expires_at\", \"rpm\" and \"rpd\" "
                                  "non-negative integers");
    }

    if (format && format[0] && ngx_strcmp(format, "markdown") != 0
        && ngx_strcmp(format, "url") != 0 && ngx_strcmp(format, "array") != 0
        && ngx_strcmp(format, "b64_json") != 0)
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"image_format\" must be markdown, url, "
                                  "array or b64_json");
    }

    /* "models": an array of model names (or a comma-separated string) */

    models[0] = '\0';
    v = a->body ? json_object_get(a->body, "models") : NULL;
    p = models;

    if (json_is_string(v)) {
        if (json_string_length(v) >= sizeof(models)) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "\"models\" is too "
                                      "long");
        }

        ngx_cpystrn((u_char *) models, (u_char *) json_string_value(v),
                    sizeof(models));

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            if (!json_is_string(m)) {
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_value", "\"models\" must "
                                          "be an array of strings");
            }

            len = json_string_length(m);

            if ((size_t) (p - models) + len + 2 > sizeof(models)) {
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_value", "\"models\" is "
                                          "too long");
            }

            if (p != models) {
                *p++ = ',';
            }

            p = (char *) ngx_cpymem(p, json_string_value(m), len);
            *p = '\0';
        }

    } else if (v && !json_is_null(v)) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"models\" must be an "
                                  "array of model names");
    }

    key = ngx_gp_api_key_new();
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = ngx_gp_sha256_hex(key, ngx_strlen(key));
    if (hash == NULL) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sk.name = name ? name : "";
    sk.hash = hash;
    sk.prefix = key;
    sk.expires = expires;
    sk.models = models;
    sk.rpm = rpm;
    sk.rpd = rpd;
    sk.image_format = format ? format : "";

    rc = ngx_gp_store_key_add(&sk, &id, a->r->connection->log);

    free(hash);

    if (rc != NGX_OK) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the key itself is shown this once; only its hash is stored */
    rc = ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                           json_pack("{s:b,s:I,s:s,s:s}", "success", 1,
                                     "id", (json_int_t) id, "key", key,
                                     "name", name ? name : ""));

    ngx_explicit_memzero(key, ngx_strlen(key));
    free(key);

    return rc;
}


static ngx_int_t
ngx_gp_admin_key_simple(ngx_gp_admin_t *a,
    ngx_int_t (*op)(int64_t id, ngx_log_t *log))
{
    ngx_int_t  id, rc;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_not_found(a, "API key");
    }

    rc = op(id, a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no API key %d", (int) id);
    }

    if (rc != NGX_OK || ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


static ngx_int_t
ngx_gp_admin_key_revoke(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, ngx_gp_store_key_revoke);
}


static ngx_int_t
ngx_gp_admin_key_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, ngx_gp_store_key_delete);
}


static ngx_int_t
ngx_gp_admin_status(ngx_gp_admin_t *a)
{
    time_t            now;
    ngx_uint_t        i, usable, total;
    ngx_gp_zone_t    *z;
    ngx_gp_account_t *acc;
    u_char            proxy[NGX_GP_PROXY_LEN], masked[NGX_GP_PROXY_LEN];

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

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:s,s:{s:i,s:i},s:{s:b,s:s}}",
                                       "version", NGX_GP_VERSION,
                                       "accounts", "total", (int) total,
                                       "usable", (int) usable,
                                       "proxy", "enabled",
                                       (int) ngx_gp_setting_int(z,
                                                NGX_GP_SET_PROXY_ENABLED),
                                       "url", (char *) masked));
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


static ngx_int_t
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


/* GET /api/logs[?limit=N&before=ID&key_id=K], GET /api/keys/<id>/logs */

/*
 * A numeric query argument, kept in *out when absent; a value that is not
 * a number (with max: from 1 to max) is answered with "\"<name>\" must be
 * <must>" in *sent, and NGX_DECLINED.
 */

static ngx_int_t
ngx_gp_admin_arg_int(ngx_gp_admin_t *a, const char *name, ngx_int_t max,
    const char *must, ngx_int_t *out, ngx_int_t *sent)
{
    ngx_int_t  n;
    ngx_str_t  arg;

    if (ngx_http_arg(a->r, (u_char *) name, ngx_strlen(name), &arg)
        != NGX_OK)
    {
        return NGX_OK;
    }

    n = ngx_atoi(arg.data, arg.len);

    if (n == NGX_ERROR || (max && (n < 1 || n > max))) {
        *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                   "invalid_value", "\"%s\" must be %s",
                                   name, must);
        return NGX_DECLINED;
    }

    *out = n;

    return NGX_OK;
}


static ngx_int_t
ngx_gp_admin_logs(ngx_gp_admin_t *a)
{
    ngx_int_t       limit, before, key, n, sent;

    limit = 100;
    before = 0;
    key = -1;

    if (ngx_gp_admin_arg_int(a, "limit", 1000, "1 to 1000", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "before", 0, "a log id", &before, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (a->nseg == 3) {
        n = ngx_atoi(a->seg[1].data, a->seg[1].len);
        if (n == NGX_ERROR) {
            return ngx_gp_admin_not_found(a, "API key");
        }

        key = n;

    } else if (ngx_gp_admin_arg_int(a, "key_id", 0, "a number", &key, &sent)
               != NGX_OK)
    {
        return sent;
    }

    return ngx_gp_admin_list(a, ngx_gp_store_logs_list(key, before, limit,
                                                       a->r->connection->log),
                             "logs");
}


/*
 * Chat history: the call log's rows that carry text (setting
 * history_enabled).  Deleting history erases the text; the row stays in
 * the call log, which keeps the numbers.
 */

static ngx_int_t
ngx_gp_admin_arg_text(ngx_gp_admin_t *a, const char *name, ngx_str_t *out)
{
    u_char     *d;
    ngx_str_t   arg;
    ngx_uint_t  i;

    ngx_str_null(out);

    if (ngx_http_arg(a->r, (u_char *) name, ngx_strlen(name), &arg)
        != NGX_OK || arg.len == 0)
    {
        return NGX_OK;
    }

    out->data = ngx_pnalloc(a->r->pool, arg.len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < arg.len; i++) {
        out->data[i] = (arg.data[i] == '+') ? ' ' : arg.data[i];
    }

    d = out->data;
    arg.data = out->data;
    ngx_unescape_uri(&d, &arg.data, arg.len, 0);
    out->len = d - out->data;
    out->data[out->len] = '\0';

    return NGX_OK;
}


/* GET /api/history?q=&key_id=&model=&session=&limit=&offset= */

static ngx_int_t
ngx_gp_admin_history(ngx_gp_admin_t *a)
{
    json_t                    *list;
    int64_t                    total;
    ngx_int_t                  limit, offset, key, sent;
    ngx_gp_store_history_q_t   h;

    limit = 50;
    offset = 0;
    key = -1;

    if (ngx_gp_admin_arg_int(a, "limit", 500, "1 to 500", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "offset", 0, "a number, 0 or more",
                                &offset, &sent)
           != NGX_OK
        || ngx_gp_admin_arg_int(a, "key_id", 0, "a number", &key, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (ngx_gp_admin_arg_text(a, "q", &h.q) != NGX_OK
        || ngx_gp_admin_arg_text(a, "model", &h.model) != NGX_OK
        || ngx_gp_admin_arg_text(a, "session", &h.session) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h.key = key;
    h.limit = limit;
    h.offset = offset;

    list = ngx_gp_store_history_list(&h, &total, a->r->pool,
                                     a->r->connection->log);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:I,s:i,s:i}", "items", list,
                                       "total", (json_int_t) total,
                                       "limit", (int) limit,
                                       "offset", (int) offset));
}


/* GET /api/history/<id>: one entry with its whole text */

static ngx_int_t
ngx_gp_admin_history_item(ngx_gp_admin_t *a)
{
    json_t     *j;
    ngx_int_t   id, rc;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_not_found(a, "history entry");
    }

    rc = ngx_gp_store_history_item(id, &j, a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "history entry");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/*
 * DELETE /api/history/<id>: one entry; DELETE /api/history: all of them,
 * or those before ?before=<unix time>
 */

static ngx_int_t
ngx_gp_admin_history_delete(ngx_gp_admin_t *a)
{
    ngx_int_t   id, before, sent;
    ngx_uint_t  erased;

    id = -1;
    before = 0;

    if (a->nseg == 2) {
        id = ngx_atoi(a->seg[1].data, a->seg[1].len);
        if (id == NGX_ERROR) {
            return ngx_gp_admin_not_found(a, "history entry");
        }

    } else if (ngx_gp_admin_arg_int(a, "before", 0, "a unix time", &before,
                                    &sent)
               != NGX_OK)
    {
        return sent;
    }

    if (ngx_gp_store_history_erase(id, before, &erased,
                                   a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (id >= 0 && erased == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no history entry %d", (int) id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:i}", "ok", 1, "deleted",
                                       (int) erased));
}


/* GET /api/keys/<id>/stats: usage of one key from the zone and the log */

static ngx_int_t
ngx_gp_admin_key_stats(ngx_gp_admin_t *a)
{
    int64_t         logged[4];
    ngx_int_t       id;
    ngx_uint_t      i, found;
    ngx_gp_zone_t  *z;
    ngx_gp_key_t    k;
    json_int_t      calls, errors, prompt, completion;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);
    z = ngx_gp_zone();
    found = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; id != NGX_ERROR && i < z->sh->nkeys; i++) {
        if (z->sh->keys[i].id == id) {
            k = z->sh->keys[i];
            found = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (!found) {
        return ngx_gp_admin_not_found(a, "API key");
    }

    if (ngx_gp_store_key_log_stats(id, logged, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    calls = logged[0];
    errors = logged[1];
    prompt = logged[2];
    completion = logged[3];

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,"
                                       "s:I,s:I}",
                                       "id", (json_int_t) k.id,
                                       "name", (char *) k.name,
                                       "requests", (json_int_t) k.requests,
                                       "last_used_at",
                                       (json_int_t) k.last_used,
                                       "requests_this_minute",
                                       (json_int_t) k.minute_count,
                                       "requests_today",
                                       (json_int_t) k.day_count,
                                       "logged_calls", calls,
                                       "logged_errors", errors,
                                       "prompt_tokens", prompt,
                                       "completion_tokens", completion));
}


/* POST /api/accounts/<i>/test: a live getoxsrf with its cookies */

static void
ngx_gp_admin_test_done(ngx_gp_xfer_t *x)
{
    char                *jwt;
    ngx_int_t            rc;
    const char          *err;
    ngx_gp_xfer_t      **xp;
    ngx_gp_gerror_t      ge;
    ngx_http_request_t  *r;
    u_char               reason[256];

    xp = x->data;
    r = (ngx_http_request_t *) xp[1];
    err = NULL;
    jwt = NULL;

    if (x->result != CURLE_OK) {
        err = ngx_gp_xfer_describe(x, reason, sizeof(reason));

    } else if (x->status != 200) {
        (void) ngx_gp_gerror_parse((char *) x->buf, x->len, &ge);
        ngx_snprintf(reason, sizeof(reason) - 1, "getoxsrf answered %l: %s%Z",
                     x->status, ge.message ? ge.message : "");
        ngx_gp_gerror_free(&ge);
        err = (char *) reason;

    } else {
        jwt = ngx_gp_gemini_jwt_from_xsrf(x, (ngx_gp_account_copy_t *) xp[2],
                                          &err);
    }

    rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                           err ? json_pack("{s:b,s:i,s:s}", "ok", 0,
                                           "status", (int) x->status,
                                           "error", err)
                               : json_pack("{s:b,s:i}", "ok", 1, "status",
                                           (int) x->status));
    free(jwt);

    ngx_gp_xfer_destroy(x);
    xp[0] = NULL;

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_gp_admin_account_test(ngx_gp_admin_t *a)
{
    int64_t                            id;
    ngx_uint_t                         index, count, i;
    ngx_gp_xfer_t                     *x;
    ngx_gp_zone_t                     *z;
    ngx_gp_account_t                  *acc;
    ngx_gp_account_copy_t             *copy;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    copy = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_account_copy_t));
    if (copy == NULL) {
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

    gmcf = ngx_http_get_module_main_conf(a->r, ngx_http_gemini_pool_module);

    x = ngx_gp_gemini_getoxsrf(gmcf, copy, a->r->connection->log);
    if (x == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_async(a->r, x, ngx_gp_admin_test_done, copy);
}


/* GET /api/accounts/<i>/quota: the cooldowns, absolute and remaining */

static ngx_int_t
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


/* models */

static ngx_int_t
ngx_gp_admin_models(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_list(a,
                             ngx_gp_store_models_list(a->r->connection->log),
                             "models");
}


/*
 * POST /api/models {"name", ...} creates or replaces; PUT /api/models/<name>
 * updates the fields given.  account_id: an account id to pin the model to,
 * or null for none.
 */

static ngx_int_t
ngx_gp_admin_model_put(ngx_gp_admin_t *a)
{
    json_t                *v;
    int64_t                account;
    ngx_int_t              bad;
    const char            *name, *model_id, *kind, *desc;
    ngx_gp_store_model_t   m;
    u_char                 buf[NGX_GP_MODEL_LEN];

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object is required");
    }

    bad = 0;

    if (a->nseg == 2) {
        if (a->seg[1].len == 0 || a->seg[1].len >= NGX_GP_MODEL_LEN) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "bad model name");
        }

        ngx_memcpy(buf, a->seg[1].data, a->seg[1].len);
        buf[a->seg[1].len] = '\0';
        name = (char *) buf;

    } else {
        name = ngx_gp_admin_str(a, "name", &bad);
    }

    model_id = ngx_gp_admin_str(a, "model_id", &bad);
    kind = ngx_gp_admin_str(a, "kind", &bad);
    desc = ngx_gp_admin_str(a, "description", &bad);

    v = json_object_get(a->body, "account_id");
    account = -1;

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        account = json_integer_value(v);

    } else if (v && !json_is_null(v)) {
        bad = 1;
    }

    v = json_object_get(a->body, "enabled");
    if (v && !json_is_boolean(v)) {
        bad = 1;
    }

    v = json_object_get(a->body, "position");
    if (v && !json_is_integer(v)) {
        bad = 1;
    }

    if (bad || name == NULL || name[0] == '\0'
        || ngx_strlen(name) >= NGX_GP_MODEL_LEN
        || (model_id && ngx_strlen(model_id) >= NGX_GP_MODEL_LEN)
        || (kind && ngx_strcmp(kind, "text") != 0
            && ngx_strcmp(kind, "image") != 0
            && ngx_strcmp(kind, "video") != 0))
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "a model has \"name\" "
                                  "and optional \"model_id\" (strings under "
                                  "64 bytes), \"kind\" (text, image or "
                                  "video), \"account_id\" (an id or null), "
                                  "\"enabled\" (bool), \"position\" (int), "
                                  "\"description\"");
    }

    m.name = name;
    m.model_id = model_id;
    m.kind = kind;
    m.description = desc;
    m.account = account;
    m.has_account = (json_object_get(a->body, "account_id") != NULL);

    v = json_object_get(a->body, "enabled");
    m.enabled = v ? (json_is_true(v) ? 1 : 0) : -1;

    v = json_object_get(a->body, "position");
    m.has_position = (v != NULL);
    m.position = v ? json_integer_value(v) : 0;

    if (ngx_gp_store_model_put(&m, a->r->connection->log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


static ngx_int_t
ngx_gp_admin_model_delete(ngx_gp_admin_t *a)
{
    ngx_int_t  rc;

    rc = ngx_gp_store_model_delete(&a->seg[1], a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no model \"%.*s\"",
                                  (int) ngx_min(a->seg[1].len, 64),
                                  a->seg[1].data);
    }

    if (rc != NGX_OK || ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


/*
 * GET /api/config/export[?secrets=1]: a download of the configuration;
 * secrets only when asked for, and the document says whether it has them.
 */

static ngx_int_t
ngx_gp_admin_export(ngx_gp_admin_t *a)
{
    u_char              *p;
    json_t              *doc;
    ngx_str_t            v;
    ngx_uint_t           secrets;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = a->r;
    secrets = 0;

    if (ngx_http_arg(r, (u_char *) "secrets", 7, &v) == NGX_OK) {
        if (v.len == 1 && (v.data[0] == '1' || v.data[0] == '0')) {
            secrets = (v.data[0] == '1');

        } else {
            return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value",
                                      "\"secrets\" must be 0 or 1");
        }
    }

    doc = ngx_gp_config_export(r, secrets);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    p = ngx_pnalloc(r->pool, sizeof("attachment; filename=\"gemini-pool-"
                                    "config-YYYYmmdd-HHMMSS.json\"") + 16);

    if (h == NULL || p == NULL) {
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    {
        ngx_tm_t  tm;

        ngx_gmtime(ngx_time(), &tm);

        h->hash = 1;
        ngx_str_set(&h->key, "Content-Disposition");
        h->value.data = p;
        h->value.len = ngx_sprintf(p, "attachment; filename=\"gemini-pool-"
                                   "config-%4d%02d%02d-%02d%02d%02d%s.json\"",
                                   tm.ngx_tm_year, tm.ngx_tm_mon,
                                   tm.ngx_tm_mday, tm.ngx_tm_hour,
                                   tm.ngx_tm_min, tm.ngx_tm_sec,
                                   secrets ? "-secrets" : "")
                       - p;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        json_decref(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    return ngx_gp_admin_json(r, NGX_HTTP_OK, doc);
}


/*
 * POST /api/config/import[?dry_run=1]: an export of this module, the
 * reference's business_gemini_session.json, or its geminibusiness.db as
 * the raw body (Content-Type application/x-sqlite3 or
 * application/octet-stream).  One transaction; the zone follows.
 */

static ngx_int_t
ngx_gp_admin_import(ngx_gp_admin_t *a)
{
    json_t              *result;
    ngx_int_t            rc;
    ngx_str_t            body, v, *ct;
    ngx_uint_t           sqlite, dry_run;
    ngx_http_request_t  *r;
    char                 err[384];

    r = a->r;
    sqlite = 0;
    dry_run = 0;

    if (ngx_http_arg(r, (u_char *) "dry_run", 7, &v) == NGX_OK) {
        dry_run = (v.len == 1 && v.data[0] == '1');
    }

    if (r->headers_in.content_type) {
        ct = &r->headers_in.content_type->value;

        if ((ct->len >= sizeof("application/x-sqlite3") - 1
             && ngx_strncasecmp(ct->data, (u_char *) "application/x-sqlite3",
                                sizeof("application/x-sqlite3") - 1) == 0)
            || (ct->len >= sizeof("application/vnd.sqlite3") - 1
                && ngx_strncasecmp(ct->data,
                                   (u_char *) "application/vnd.sqlite3",
                                   sizeof("application/vnd.sqlite3") - 1)
                   == 0)
            || (ct->len >= sizeof("application/octet-stream") - 1
                && ngx_strncasecmp(ct->data,
                                   (u_char *) "application/octet-stream",
                                   sizeof("application/octet-stream") - 1)
                   == 0))
        {
            sqlite = 1;
        }
    }

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_config_import(r, &body, sqlite, dry_run, &result, err,
                              sizeof(err));

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_import",
                                  "%s; nothing was changed", err);
    }

    if (rc != NGX_OK) {
        return ngx_gp_admin_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "import_failed", "%s; nothing was changed",
                                  err[0] ? err : "the import failed");
    }

    if (!dry_run && ngx_gp_admin_changed(r) != NGX_OK) {
        json_decref(result);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(r, NGX_HTTP_OK, result);
}
