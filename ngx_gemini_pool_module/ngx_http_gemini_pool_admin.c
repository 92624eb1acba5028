
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


typedef json_t *(*ngx_gp_admin_row_pt)(sqlite3_stmt *st);


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
    int            rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(r->connection->log);
    if (db == NULL) {
        return 0;
    }

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM admin_sessions WHERE id = ? "
                           "AND revoked = 0 AND expires_at > ?", -1, &st,
                           NULL)
        != SQLITE_OK)
    {
        return 0;
    }

    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ngx_time());
    rc = sqlite3_step(st);
    sqlite3_finalize(st);

    return rc == SQLITE_ROW;
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


static char *
ngx_pstrdup_gp(ngx_pool_t *pool, const char *s)
{
    size_t   len;
    char    *p;

    if (s == NULL) {
        return NULL;
    }

    len = ngx_strlen(s);

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len + 1);

    return p;
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


static int
ngx_gp_admin_exec(ngx_http_request_t *r, sqlite3_stmt *st)
{
    int  rc;

    rc = sqlite3_step(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "gemini pool: admin: sqlite: %s",
                      sqlite3_errmsg(sqlite3_db_handle(st)));
    }

    sqlite3_finalize(st);

    return rc;
}


static sqlite3_stmt *
ngx_gp_admin_prepare(ngx_http_request_t *r, const char *sql)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(r->connection->log);
    if (db == NULL) {
        return NULL;
    }

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "gemini pool: admin: sqlite: %s", sqlite3_errmsg(db));
        return NULL;
    }

    return st;
}


/*
 * Every row of a prepared statement as an array of what row() builds;
 * the statement is finalized.  NULL when anything failed.
 */

static json_t *
ngx_gp_admin_rows(sqlite3_stmt *st, ngx_gp_admin_row_pt row)
{
    json_t  *list, *j;

    list = json_array();

    while (list && sqlite3_step(st) == SQLITE_ROW) {
        j = row(st);

        if (j == NULL || json_array_append_new(list, j) != 0) {
            json_decref(list);
            list = NULL;
        }
    }

    sqlite3_finalize(st);

    return list;
}


/* a list route's answer: {"<name>": [rows]}; st NULL: it failed */

static ngx_int_t
ngx_gp_admin_list(ngx_gp_admin_t *a, sqlite3_stmt *st,
    ngx_gp_admin_row_pt row, const char *name)
{
    json_t  *list;

    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list = ngx_gp_admin_rows(st, row);

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
    sqlite3_stmt                      *st;
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

    st = ngx_gp_admin_prepare(r, "SELECT value FROM admin "
                                 "WHERE key = 'password_hash'");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = NULL;

    if (sqlite3_step(st) == SQLITE_ROW) {
        hash = ngx_pstrdup_gp(r->pool,
                              (char *) sqlite3_column_text(st, 0));
    }

    sqlite3_finalize(st);

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

    st = ngx_gp_admin_prepare(r, "INSERT INTO admin_sessions "
                                 "(id, expires_at, client) VALUES (?, ?, ?)");
    if (st == NULL) {
        free(token);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, expires);
    sqlite3_bind_text(st, 3, (char *) r->connection->addr_text.data,
                      (int) r->connection->addr_text.len, SQLITE_TRANSIENT);

    if (ngx_gp_admin_exec(r, st) != SQLITE_DONE) {
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
    sqlite3_stmt        *st;
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

        st = ngx_gp_admin_prepare(r, "UPDATE admin_sessions SET revoked = 1 "
                                     "WHERE id = ?");
        if (st == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);

        if (ngx_gp_admin_exec(r, st) != SQLITE_DONE) {
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
    ngx_int_t       bad;
    const char     *password;
    sqlite3_stmt   *st;

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

    st = ngx_gp_admin_prepare(a->r, "INSERT OR REPLACE INTO admin "
                                    "(key, value) VALUES "
                                    "('password_hash', ?)");
    if (st == NULL) {
        free(hash);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    free(hash);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a new password ends every session */

    st = ngx_gp_admin_prepare(a->r, "UPDATE admin_sessions SET revoked = 1");
    if (st == NULL || ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
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


static ngx_int_t
ngx_gp_admin_account_add(ngx_gp_admin_t *a)
{
    int64_t                 id;
    json_t                 *v;
    ngx_uint_t              i;
    const char             *err;
    sqlite3_stmt           *st;
    ngx_gp_admin_field_t   *f;
    char                    msg[160];

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

    st = ngx_gp_admin_prepare(a->r, "INSERT INTO accounts (name, team_id, "
                              "csesidx, secure_c_ses, host_c_oses, "
                              "user_agent, proxy, enabled) VALUES "
                              "(?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0, f = ngx_gp_admin_account_fields; f->column; f++, i++) {
        v = json_object_get(a->body, f->column);
        sqlite3_bind_text(st, (int) i + 1,
                          json_is_string(v) ? json_string_value(v) : "", -1,
                          SQLITE_TRANSIENT);
    }

    v = json_object_get(a->body, "enabled");
    sqlite3_bind_int(st, 8, v && json_is_false(v) ? 0 : 1);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id = sqlite3_last_insert_rowid(ngx_gp_store_db(a->r->connection->log));

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
    int64_t                 id;
    json_t                 *v;
    ngx_int_t               renew;
    ngx_uint_t              index, count, i;
    const char             *err;
    sqlite3                *db;
    sqlite3_stmt           *st;
    ngx_gp_zone_t          *z;
    ngx_gp_admin_field_t   *f;
    char                    msg[160];
    char                    sql[512], *p;

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

    db = ngx_gp_store_db(a->r->connection->log);
    if (db == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
        for (i = count; i <= index; i++) {
            st = ngx_gp_admin_prepare(a->r, "INSERT INTO accounts "
                                      "(team_id, csesidx, secure_c_ses, "
                                      "enabled, cookie_expired) VALUES "
                                      "('', '', '', 0, 1)");
            if (st == NULL || ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        id = sqlite3_last_insert_rowid(db);
    }

    p = sql;
    p = (char *) ngx_cpymem(p, "UPDATE accounts SET updated_at = "
                            "strftime('%s','now')",
                            sizeof("UPDATE accounts SET updated_at = "
                                   "strftime('%s','now')") - 1);

    for (f = ngx_gp_admin_account_fields; f->column; f++) {
        v = json_object_get(a->body, f->column);

        if (json_is_string(v)) {
            p = (char *) ngx_sprintf((u_char *) p, ", %s = :%s", f->column,
                                     f->column);
        }
    }

    v = json_object_get(a->body, "enabled");

    if (json_is_boolean(v)) {
        p = (char *) ngx_sprintf((u_char *) p, ", enabled = %d",
                                 json_is_true(v) ? 1 : 0);
    }

    p = (char *) ngx_sprintf((u_char *) p, " WHERE id = %L%Z", id);

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (f = ngx_gp_admin_account_fields; f->column; f++) {
        v = json_object_get(a->body, f->column);

        if (json_is_string(v)) {
            p = (char *) ngx_sprintf((u_char *) msg, ":%s%Z", f->column);
            sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, msg),
                              json_string_value(v), -1, SQLITE_TRANSIENT);
        }
    }

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* complete credentials bring an expired account back */

    renew = json_is_string(json_object_get(a->body, "secure_c_ses"))
            || json_is_string(json_object_get(a->body, "csesidx"));

    if (renew) {
        /* expired in the database, or only in the zone so far */
        if (sqlite3_prepare_v2(db, "UPDATE accounts SET cookie_expired = 0, "
                               "enabled = 1 WHERE id = ?1 AND "
                               "(cookie_expired OR ?2) "
                               "AND secure_c_ses != '' AND csesidx != ''",
                               -1, &st, NULL)
            != SQLITE_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, (int) ngx_gp_admin_zone_expired(id));

        if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        renew = sqlite3_changes(db) > 0;

        if (renew) {
            if (sqlite3_prepare_v2(db, "DELETE FROM account_state WHERE "
                                   "account_id = ?", -1, &st, NULL)
                != SQLITE_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            sqlite3_bind_int64(st, 1, id);
            (void) ngx_gp_admin_exec(a->r, st);
        }
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
ngx_gp_admin_account_simple(ngx_gp_admin_t *a, const char *sql)
{
    int64_t         id;
    ngx_uint_t      index, count;
    sqlite3_stmt   *st;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    st = ngx_gp_admin_prepare(a->r, sql);
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE
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
    return ngx_gp_admin_account_simple(a, "DELETE FROM accounts "
                                          "WHERE id = ?");
}


static ngx_int_t
ngx_gp_admin_account_toggle(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, "UPDATE accounts SET enabled = "
                                          "NOT enabled, updated_at = "
                                          "strftime('%s','now') "
                                          "WHERE id = ?");
}


/* settings */

static ngx_int_t
ngx_gp_admin_settings(ngx_gp_admin_t *a)
{
    json_t            *obj, *v;
    ngx_uint_t         i;
    ngx_gp_zone_t     *z;
    ngx_gp_setting_t  *s;

    z = ngx_gp_zone();

    obj = json_object();
    if (obj == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->nsettings; i++) {
        s = &z->sh->settings[i];

        if (ngx_gp_store_secret_setting((char *) s->key)) {
            /* never the secret itself: whether it is set */
            v = json_pack("{s:s,s:n,s:b}", "type", "secret", "value", "set",
                          s->value[0] != '\0');

        } else if (s->type == NGX_GP_SETTING_INT) {
            v = json_pack("{s:s,s:I}", "type", "int", "value",
                          (json_int_t) s->number);

        } else if (s->type == NGX_GP_SETTING_BOOL) {
            v = json_pack("{s:s,s:b}", "type", "bool", "value",
                          (int) s->number);

        } else {
            v = json_pack("{s:s,s:s}", "type", "string", "value",
                          (char *) s->value);
        }

        if (v == NULL || json_object_set_new(obj, (char *) s->key, v) != 0) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            json_decref(obj);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o}", "settings", obj));
}


/*
 * {"key": value, ...}: every key must be a known setting and every value
 * of its type; one transaction, so one bad value changes nothing.
 */

static ngx_int_t
ngx_gp_admin_settings_update(ngx_gp_admin_t *a)
{
    int               rc;
    char              buf[32];
    json_t           *v;
    sqlite3          *db;
    ngx_uint_t        i, found;
    const char       *key, *type, *text;
    sqlite3_stmt     *st;
    ngx_gp_zone_t    *z;
    ngx_gp_setting_t  settings[NGX_GP_MAX_SETTINGS];
    ngx_uint_t        n;

    if (a->body == NULL || json_object_size(a->body) == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object of settings is required");
    }

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);
    n = z->sh->nsettings;
    ngx_memcpy(settings, z->sh->settings, n * sizeof(ngx_gp_setting_t));
    ngx_shmtx_unlock(&z->shpool->mutex);

    db = ngx_gp_store_db(a->r->connection->log);
    if (db == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_foreach(a->body, key, v) {

        found = 0;
        type = NULL;

        for (i = 0; i < n; i++) {
            if (ngx_strcmp(settings[i].key, key) == 0) {
                found = 1;
                type = settings[i].type == NGX_GP_SETTING_INT ? "int"
                       : settings[i].type == NGX_GP_SETTING_BOOL ? "bool"
                       : "string";
                break;
            }
        }

        if (!found) {
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "unknown_setting",
                                      "unknown setting \"%.60s\"", key);
        }

        if (type[0] == 'i' && json_is_integer(v)
            && json_integer_value(v) >= 0)
        {
            (void) snprintf(buf, sizeof(buf), "%lld",
                            (long long) json_integer_value(v));
            text = buf;

        } else if (type[0] == 'b' && json_is_boolean(v)) {
            text = json_is_true(v) ? "true" : "false";

        } else if (type[0] == 's' && json_is_string(v)
                   && json_string_length(v) < NGX_GP_SETTING_VALUE_LEN)
        {
            text = json_string_value(v);

            if (ngx_strcmp(key, "selection_strategy") == 0
                && ngx_strcmp(text, "round_robin") != 0
                && ngx_strcmp(text, "least_in_flight") != 0)
            {
                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_value", "\"%s\" must be "
                                          "round_robin or least_in_flight",
                                          key);
            }

            if (ngx_strcmp(key, "image_format") == 0
                && ngx_gp_media_format(text) < 0)
            {
                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_value", "\"%s\" must be "
                                          "markdown, url, array or b64_json",
                                          key);
            }

            if ((ngx_strcmp(key, "tempmail_worker_url") == 0
                 || ngx_strcmp(key, "remote_sync_url") == 0
                 || ngx_strcmp(key, "image_base_url") == 0)
                && text[0] && ngx_strncmp(text, "http://", 7) != 0
                && ngx_strncmp(text, "https://", 8) != 0)
            {
                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_value", "\"%s\" must be "
                                          "empty or an http:// or https:// "
                                          "URL", key);
            }

        } else {
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_type", "\"%.60s\" must be %s",
                                      key,
                                      type[0] == 'i' ? "a non-negative integer"
                                      : type[0] == 'b' ? "true or false"
                                      : "a string (under 512 bytes)");
        }

        if (sqlite3_prepare_v2(db, "UPDATE settings SET value = ?, "
                               "updated_at = strftime('%s','now') "
                               "WHERE key = ?", -1, &st, NULL)
            != SQLITE_OK)
        {
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);

        rc = ngx_gp_admin_exec(a->r, st);

        if (rc != SQLITE_DONE) {
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_settings(a);
}


/* API keys */

static json_t *
ngx_gp_admin_key_row(sqlite3_stmt *st)
{
    int64_t         id;
    uint64_t        requests;
    ngx_uint_t      k;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    id = sqlite3_column_int64(st, 0);
    requests = (uint64_t) sqlite3_column_int64(st, 9);

    /* the zone's counters are ahead of the database's */
    ngx_shmtx_lock(&z->shpool->mutex);

    for (k = 0; k < z->sh->nkeys; k++) {
        if (z->sh->keys[k].id == id) {
            requests = ngx_max(requests, z->sh->keys[k].requests);
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return json_pack("{s:I,s:s,s:s,s:b,s:I,s:s,s:I,s:I,s:s,s:I,s:I,s:I}",
                     "id", (json_int_t) id,
                     "name", (char *) sqlite3_column_text(st, 1),
                     "prefix", (char *) sqlite3_column_text(st, 2),
                     "enabled", sqlite3_column_int(st, 3),
                     "expires_at", (json_int_t) sqlite3_column_int64(st, 4),
                     "models", (char *) sqlite3_column_text(st, 5),
                     "rpm", (json_int_t) sqlite3_column_int64(st, 6),
                     "rpd", (json_int_t) sqlite3_column_int64(st, 7),
                     "image_format", (char *) sqlite3_column_text(st, 8),
                     "requests", (json_int_t) requests,
                     "last_used_at",
                     (json_int_t) sqlite3_column_int64(st, 10),
                     "created_at",
                     (json_int_t) sqlite3_column_int64(st, 11));
}


static ngx_int_t
ngx_gp_admin_keys(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_list(a, ngx_gp_admin_prepare(a->r,
                                    "SELECT id, name, prefix, enabled, "
                                    "expires_at, models, rpm, rpd, "
                                    "image_format, requests, last_used_at, "
                                    "created_at FROM api_keys ORDER BY id"),
                             ngx_gp_admin_key_row, "keys");
}


static ngx_int_t
ngx_gp_admin_key_add(ngx_gp_admin_t *a)
{
    char          *key, *hash, models[NGX_GP_KEY_MODELS_LEN], *p;
    json_t        *v, *m;
    size_t         i, len;
    int64_t        expires, rpm, rpd, id;
    ngx_int_t      bad, rc;
    const char    *name, *format;
    sqlite3_stmt  *st;

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

    st = ngx_gp_admin_prepare(a->r, "INSERT INTO api_keys (name, key_hash, "
                              "prefix, expires_at, models, rpm, rpd, "
                              "image_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        free(key);
        free(hash);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, 10, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, expires);
    sqlite3_bind_text(st, 5, models, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, rpm);
    sqlite3_bind_int64(st, 7, rpd);
    sqlite3_bind_text(st, 8, format ? format : "", -1, SQLITE_TRANSIENT);

    free(hash);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id = sqlite3_last_insert_rowid(ngx_gp_store_db(a->r->connection->log));

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
ngx_gp_admin_key_simple(ngx_gp_admin_t *a, const char *sql)
{
    ngx_int_t       id;
    sqlite3        *db;
    sqlite3_stmt   *st;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    db = ngx_gp_store_db(a->r->connection->log);

    if (id == NGX_ERROR || db == NULL) {
        return ngx_gp_admin_not_found(a, "API key");
    }

    st = ngx_gp_admin_prepare(a->r, sql);
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (sqlite3_changes(db) == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no API key %d", (int) id);
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


static ngx_int_t
ngx_gp_admin_key_revoke(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, "UPDATE api_keys SET enabled = 0 "
                                      "WHERE id = ?");
}


static ngx_int_t
ngx_gp_admin_key_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, "DELETE FROM api_keys WHERE id = ?");
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

    if (ngx_gp_zone_setting(z, "proxy", proxy, sizeof(proxy)) != NGX_OK) {
        proxy[0] = '\0';
    }

    (void) ngx_gp_mask_url((char *) proxy, masked, sizeof(masked));

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:s,s:{s:i,s:i},s:{s:b,s:s}}",
                                       "version", NGX_GP_VERSION,
                                       "accounts", "total", (int) total,
                                       "usable", (int) usable,
                                       "proxy", "enabled",
                                       (int) ngx_gp_zone_setting_number(z,
                                                      "proxy_enabled", 1),
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

static json_t *
ngx_gp_admin_log_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:I,s:I,s:s,s:s,s:i,s:b,s:i,s:I,s:o,s:I,s:I,s:s}",
                     "id", (json_int_t) sqlite3_column_int64(st, 0),
                     "time", (json_int_t) sqlite3_column_int64(st, 1),
                     "key_id", (json_int_t) sqlite3_column_int64(st, 2),
                     "account", (char *) sqlite3_column_text(st, 3),
                     "model", (char *) sqlite3_column_text(st, 4),
                     "status", sqlite3_column_int(st, 5),
                     "stream", sqlite3_column_int(st, 6),
                     "attempts", sqlite3_column_int(st, 7),
                     "latency_ms",
                     (json_int_t) sqlite3_column_int64(st, 8),
                     "ttfb_ms",
                     sqlite3_column_type(st, 9) == SQLITE_NULL
                     ? json_null()
                     : json_integer(sqlite3_column_int64(st, 9)),
                     "prompt_tokens",
                     (json_int_t) sqlite3_column_int64(st, 10),
                     "completion_tokens",
                     (json_int_t) sqlite3_column_int64(st, 11),
                     "error", (char *) sqlite3_column_text(st, 12));
}


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
    sqlite3_stmt   *st;

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

    st = ngx_gp_admin_prepare(a->r, "SELECT id, time, key_id, account, "
                              "model, status, stream, attempts, latency_ms, "
                              "ttfb_ms, prompt_tokens, completion_tokens, "
                              "error FROM call_logs WHERE (?1 < 0 OR "
                              "key_id = ?1) AND (?2 = 0 OR id < ?2) "
                              "ORDER BY id DESC LIMIT ?3");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit);

    return ngx_gp_admin_list(a, st, ngx_gp_admin_log_row, "logs");
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


static json_t *
ngx_gp_admin_column_text(sqlite3_stmt *st, int col)
{
    json_t  *j;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return json_null();
    }

    j = json_stringn((const char *) sqlite3_column_text(st, col),
                     sqlite3_column_bytes(st, col));

    return j ? j : json_string("");
}


#define NGX_GP_HISTORY_COLUMNS                                               \
    "c.id, c.time, c.key_id, coalesce(k.name, ''), c.model, c.account, "    \
    "c.status, c.stream, c.latency_ms, c.session, c.prompt_tokens, "         \
    "c.completion_tokens, c.error, "

#define NGX_GP_HISTORY_FROM                                                  \
    " FROM call_logs c LEFT JOIN api_keys k ON k.id = c.key_id "

static json_t *
ngx_gp_admin_history_row(sqlite3_stmt *st, ngx_uint_t full)
{
    json_t  *j;

    j = json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:i,s:b,s:I,s:s,s:I,s:I,s:s}",
                  "id", (json_int_t) sqlite3_column_int64(st, 0),
                  "time", (json_int_t) sqlite3_column_int64(st, 1),
                  "key_id", (json_int_t) sqlite3_column_int64(st, 2),
                  "key_name", (char *) sqlite3_column_text(st, 3),
                  "model", (char *) sqlite3_column_text(st, 4),
                  "account", (char *) sqlite3_column_text(st, 5),
                  "status", sqlite3_column_int(st, 6),
                  "stream", sqlite3_column_int(st, 7),
                  "latency_ms", (json_int_t) sqlite3_column_int64(st, 8),
                  "session", (char *) sqlite3_column_text(st, 9),
                  "prompt_tokens",
                  (json_int_t) sqlite3_column_int64(st, 10),
                  "completion_tokens",
                  (json_int_t) sqlite3_column_int64(st, 11),
                  "error", (char *) sqlite3_column_text(st, 12));
    if (j == NULL) {
        return NULL;
    }

    if (json_object_set_new(j, full ? "prompt" : "prompt_preview",
                            ngx_gp_admin_column_text(st, 13)) != 0
        || json_object_set_new(j, full ? "answer" : "answer_preview",
                               ngx_gp_admin_column_text(st, 14)) != 0)
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* GET /api/history?q=&key_id=&model=&session=&limit=&offset= */

static json_t *
ngx_gp_admin_history_preview(sqlite3_stmt *st)
{
    return ngx_gp_admin_history_row(st, 0);
}


static ngx_int_t
ngx_gp_admin_history(ngx_gp_admin_t *a)
{
    u_char        *like, *p;
    json_t        *list;
    int64_t        total;
    ngx_int_t      limit, offset, key, sent;
    ngx_str_t      q, model, session;
    ngx_uint_t     i, pass;
    sqlite3_stmt  *st;

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

    if (ngx_gp_admin_arg_text(a, "q", &q) != NGX_OK
        || ngx_gp_admin_arg_text(a, "model", &model) != NGX_OK
        || ngx_gp_admin_arg_text(a, "session", &session) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* q matches anywhere in the prompt or the answer, literally */
    like = ngx_pnalloc(a->r->pool, q.len * 2 + 3);
    if (like == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = like;
    *p++ = '%';

    for (i = 0; i < q.len; i++) {
        if (q.data[i] == '%' || q.data[i] == '_' || q.data[i] == '\\') {
            *p++ = '\\';
        }

        *p++ = q.data[i];
    }

    *p++ = '%';

    total = 0;
    list = NULL;

    for (pass = 0; pass < 2; pass++) {
        st = ngx_gp_admin_prepare(a->r, pass == 0
                 ? "SELECT count(*)" NGX_GP_HISTORY_FROM
                   "WHERE c.prompt IS NOT NULL AND (?1 = 0 OR c.prompt "
                   "LIKE ?2 ESCAPE '\\' OR c.answer LIKE ?2 ESCAPE '\\') "
                   "AND (?3 < 0 OR c.key_id = ?3) AND (?4 = '' OR "
                   "c.model = ?4) AND (?5 = '' OR c.session = ?5)"
                 : "SELECT " NGX_GP_HISTORY_COLUMNS
                   "substr(c.prompt, 1, 200), substr(c.answer, 1, 200)"
                   NGX_GP_HISTORY_FROM
                   "WHERE c.prompt IS NOT NULL AND (?1 = 0 OR c.prompt "
                   "LIKE ?2 ESCAPE '\\' OR c.answer LIKE ?2 ESCAPE '\\') "
                   "AND (?3 < 0 OR c.key_id = ?3) AND (?4 = '' OR "
                   "c.model = ?4) AND (?5 = '' OR c.session = ?5) "
                   "ORDER BY c.id DESC LIMIT ?6 OFFSET ?7");
        if (st == NULL) {
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        sqlite3_bind_int(st, 1, q.len > 0);
        sqlite3_bind_text(st, 2, (char *) like, p - like, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, key);
        sqlite3_bind_text(st, 4, model.len ? (char *) model.data : "",
                          model.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, session.len ? (char *) session.data : "",
                          session.len, SQLITE_STATIC);

        if (pass == 0) {
            if (sqlite3_step(st) == SQLITE_ROW) {
                total = sqlite3_column_int64(st, 0);
            }

            sqlite3_finalize(st);
            continue;
        }

        sqlite3_bind_int64(st, 6, limit);
        sqlite3_bind_int64(st, 7, offset);

        list = ngx_gp_admin_rows(st, ngx_gp_admin_history_preview);
    }

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
    json_t        *j;
    ngx_int_t      id;
    sqlite3_stmt  *st;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    st = ngx_gp_admin_prepare(a->r, "SELECT " NGX_GP_HISTORY_COLUMNS
                              "c.prompt, c.answer" NGX_GP_HISTORY_FROM
                              "WHERE c.id = ? AND c.prompt IS NOT NULL");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (id == NGX_ERROR || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ngx_gp_admin_not_found(a, "history entry");
    }

    j = ngx_gp_admin_history_row(st, 1);
    sqlite3_finalize(st);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/*
 * DELETE /api/history/<id>: one entry; DELETE /api/history: all of them,
 * or those before ?before=<unix time>
 */

static ngx_int_t
ngx_gp_admin_history_delete(ngx_gp_admin_t *a)
{
    int            rc;
    ngx_int_t      id, before, sent;
    sqlite3_stmt  *st;

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

    st = ngx_gp_admin_prepare(a->r, "UPDATE call_logs SET prompt = NULL, "
                              "answer = NULL WHERE prompt IS NOT NULL AND "
                              "(?1 < 0 OR id = ?1) AND (?2 = 0 OR "
                              "time < ?2)");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, before);

    rc = sqlite3_step(st);
    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = sqlite3_changes(ngx_gp_store_db(a->r->connection->log));

    if (id >= 0 && rc == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no history entry %d", (int) id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:i}", "ok", 1, "deleted", rc));
}


/* GET /api/keys/<id>/stats: usage of one key from the zone and the log */

static ngx_int_t
ngx_gp_admin_key_stats(ngx_gp_admin_t *a)
{
    ngx_int_t       id;
    ngx_uint_t      i, found;
    sqlite3_stmt   *st;
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

    st = ngx_gp_admin_prepare(a->r, "SELECT count(*), "
                              "ifnull(sum(status >= 400), 0), "
                              "ifnull(sum(prompt_tokens), 0), "
                              "ifnull(sum(completion_tokens), 0) "
                              "FROM call_logs WHERE key_id = ?");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);
    calls = errors = prompt = completion = 0;

    if (sqlite3_step(st) == SQLITE_ROW) {
        calls = sqlite3_column_int64(st, 0);
        errors = sqlite3_column_int64(st, 1);
        prompt = sqlite3_column_int64(st, 2);
        completion = sqlite3_column_int64(st, 3);
    }

    sqlite3_finalize(st);

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
}


static ngx_int_t
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

    a->r->read_event_handler = ngx_http_test_reading;

    ngx_gp_upstream_start(u);

    return NGX_DONE;
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

static json_t *
ngx_gp_admin_model_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:b,s:i,s:s}",
                     "name", (char *) sqlite3_column_text(st, 0),
                     "model_id", (char *) sqlite3_column_text(st, 1),
                     "kind", (char *) sqlite3_column_text(st, 2),
                     "account_id",
                     sqlite3_column_type(st, 3) == SQLITE_NULL
                     ? json_null()
                     : json_integer(sqlite3_column_int64(st, 3)),
                     "enabled", sqlite3_column_int(st, 4),
                     "position", sqlite3_column_int(st, 5),
                     "description", (char *) sqlite3_column_text(st, 6));
}


static ngx_int_t
ngx_gp_admin_models(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_list(a, ngx_gp_admin_prepare(a->r,
                                    "SELECT name, model_id, kind, "
                                    "account_id, enabled, position, "
                                    "description FROM models "
                                    "ORDER BY position, name"),
                             ngx_gp_admin_model_row, "models");
}


/*
 * POST /api/models {"name", ...} creates or replaces; PUT /api/models/<name>
 * updates the fields given.  account_id: an account id to pin the model to,
 * or null for none.
 */

static ngx_int_t
ngx_gp_admin_model_put(ngx_gp_admin_t *a)
{
    json_t         *v;
    int64_t         account;
    ngx_int_t       bad;
    const char     *name, *model_id, *kind, *desc;
    sqlite3_stmt   *st;
    u_char          buf[NGX_GP_MODEL_LEN];

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

    st = ngx_gp_admin_prepare(a->r,
        "INSERT INTO models (name, model_id, kind, account_id, enabled, "
        "position, description) VALUES (?1, ifnull(?2, ''), "
        "ifnull(?3, 'text'), ?4, ifnull(?5, 1), ifnull(?6, 0), "
        "ifnull(?7, '')) ON CONFLICT (name) DO UPDATE SET "
        "model_id = ifnull(?2, model_id), kind = ifnull(?3, kind), "
        "account_id = CASE WHEN ?8 THEN ?4 ELSE account_id END, "
        "enabled = ifnull(?5, enabled), position = ifnull(?6, position), "
        "description = ifnull(?7, description)");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);

    if (model_id) {
        sqlite3_bind_text(st, 2, model_id, -1, SQLITE_TRANSIENT);
    }

    if (kind) {
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
    }

    if (account > 0) {
        sqlite3_bind_int64(st, 4, account);
    }

    v = json_object_get(a->body, "enabled");
    if (v) {
        sqlite3_bind_int(st, 5, json_is_true(v) ? 1 : 0);
    }

    v = json_object_get(a->body, "position");
    if (v) {
        sqlite3_bind_int64(st, 6, json_integer_value(v));
    }

    if (desc) {
        sqlite3_bind_text(st, 7, desc, -1, SQLITE_TRANSIENT);
    }

    sqlite3_bind_int(st, 8, json_object_get(a->body, "account_id") != NULL);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


static ngx_int_t
ngx_gp_admin_model_delete(ngx_gp_admin_t *a)
{
    sqlite3        *db;
    sqlite3_stmt   *st;

    st = ngx_gp_admin_prepare(a->r, "DELETE FROM models WHERE name = ?");
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sqlite3_bind_text(st, 1, (char *) a->seg[1].data, (int) a->seg[1].len,
                      SQLITE_TRANSIENT);

    if (ngx_gp_admin_exec(a->r, st) != SQLITE_DONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    db = ngx_gp_store_db(a->r->connection->log);

    if (sqlite3_changes(db) == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no model \"%.*s\"",
                                  (int) ngx_min(a->seg[1].len, 64),
                                  a->seg[1].data);
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
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
