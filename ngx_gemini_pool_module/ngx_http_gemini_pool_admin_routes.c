
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The admin JSON API under /api/: the route table, the dispatch and the
 * gate in front of it (the admin secret, a session token or the session
 * cookie, and for the cookie the same-origin check).  The handlers live
 * in the topic files below: admin_auth, admin_accounts, admin_keys,
 * admin_logs, admin_settings, admin_models and admin_config; they share
 * admin_io.  Writes go to SQLite and the zone is loaded again from it,
 * so every worker sees a change at once.  Admin requests are rare: their
 * SQLite calls run in the worker; the chat path never touches SQLite.
 */


#include "ngx_http_gemini_pool_module.h"


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


static ngx_gp_admin_route_t  ngx_gp_admin_routes[] = {
    { NGX_HTTP_POST,   "auth/login",        ngx_gp_admin_login, 1 },
    { NGX_HTTP_GET,    "auth/login",        ngx_gp_admin_login_info, 1 },
    { NGX_HTTP_POST,   "auth/logout",       ngx_gp_admin_logout, 0 },
    { NGX_HTTP_PUT,    "auth/password",     ngx_gp_admin_password, 0 },
    { NGX_HTTP_GET,    "auth/status",       ngx_gp_admin_whoami, 0 },
    { NGX_HTTP_GET,    "accounts",          ngx_gp_admin_accounts, 0 },
    { NGX_HTTP_POST,   "accounts",          ngx_gp_admin_account_add, 0 },
    { NGX_HTTP_POST,   "accounts/bulk",     ngx_gp_admin_accounts_bulk, 0 },
    { NGX_HTTP_PUT,    "accounts/*",        ngx_gp_admin_account_update, 0 },
    { NGX_HTTP_PATCH,  "accounts/*",        ngx_gp_admin_account_update, 0 },
    { NGX_HTTP_DELETE, "accounts/*",        ngx_gp_admin_account_delete, 0 },
    { NGX_HTTP_POST,   "accounts/*/toggle", ngx_gp_admin_account_toggle, 0 },
    { NGX_HTTP_POST,   "accounts/*/test",   ngx_gp_admin_account_test, 0 },
    { NGX_HTTP_GET,    "accounts/*/quota",  ngx_gp_admin_account_quota, 0 },
    { NGX_HTTP_POST,   "accounts/*/refresh-cookie",
                                            ngx_gp_admin_refresh_cookie, 0 },
    { NGX_HTTP_POST,   "accounts/*/cookies",
                                            ngx_gp_admin_account_cookies, 0 },
    { NGX_HTTP_POST,   "accounts/auto-refresh-all",
                                            ngx_gp_admin_refresh_all, 0 },
    { NGX_HTTP_GET,    "relogin",           ngx_gp_admin_relogin, 0 },
    { NGX_HTTP_GET,    "relogin/history",   ngx_gp_admin_relogin_history, 0 },
    { NGX_HTTP_GET,    "models",            ngx_gp_admin_models, 0 },
    { NGX_HTTP_POST,   "models",            ngx_gp_admin_model_put, 0 },
    { NGX_HTTP_PUT,    "models/*",          ngx_gp_admin_model_put, 0 },
    { NGX_HTTP_DELETE, "models/*",          ngx_gp_admin_model_delete, 0 },
    { NGX_HTTP_GET,    "settings",          ngx_gp_admin_settings, 0 },
    { NGX_HTTP_PUT,    "settings",          ngx_gp_admin_settings_update, 0 },
    { NGX_HTTP_POST,   "settings",          ngx_gp_admin_settings_update, 0 },
    { NGX_HTTP_POST,   "settings/upload-test",
                                            ngx_gp_admin_upload_test, 0 },
    { NGX_HTTP_GET,    "keys",              ngx_gp_admin_keys, 0 },
    { NGX_HTTP_POST,   "keys",              ngx_gp_admin_key_add, 0 },
    { NGX_HTTP_POST,   "keys/*/revoke",     ngx_gp_admin_key_revoke, 0 },
    { NGX_HTTP_DELETE, "keys/*",            ngx_gp_admin_key_delete, 0 },
    { NGX_HTTP_GET,    "status",            ngx_gp_admin_status, 0 },
    { NGX_HTTP_GET,    "stats",             ngx_gp_admin_stats, 0 },
    { NGX_HTTP_GET,    "events",            ngx_gp_admin_events, 0 },
    { NGX_HTTP_POST,   "proxy/test",        ngx_gp_admin_proxy_test, 0 },
    { NGX_HTTP_POST,   "mailbox/check",     ngx_gp_admin_mailbox_check, 0 },
    { NGX_HTTP_POST,   "sync-all-to-remote", ngx_gp_admin_sync_all, 0 },
    { NGX_HTTP_POST,   "remote-sync/test",  ngx_gp_admin_sync_test, 0 },
    { NGX_HTTP_GET,    "remote-sync",       ngx_gp_admin_sync_state, 0 },
    { NGX_HTTP_GET,    "logs",              ngx_gp_admin_logs, 0 },
    { NGX_HTTP_GET,    "keys/*/logs",       ngx_gp_admin_logs, 0 },
    { NGX_HTTP_GET,    "keys/*/stats",      ngx_gp_admin_key_stats, 0 },
    { NGX_HTTP_GET,    "history/conversations",
      ngx_gp_admin_conversations, 0 },
    { NGX_HTTP_GET,    "history/conversations/*",
      ngx_gp_admin_conversation, 0 },
    { NGX_HTTP_DELETE, "history/conversations/*",
      ngx_gp_admin_conversation_delete, 0 },
    { NGX_HTTP_GET,    "history/filters",   ngx_gp_admin_history_filters, 0 },
    { NGX_HTTP_GET,    "history",           ngx_gp_admin_history, 0 },
    { NGX_HTTP_GET,    "history/*",         ngx_gp_admin_history_item, 0 },
    { NGX_HTTP_DELETE, "history",           ngx_gp_admin_history_delete, 0 },
    { NGX_HTTP_DELETE, "history/*",         ngx_gp_admin_history_delete, 0 },
    { NGX_HTTP_GET,    "chats",             ngx_gp_admin_chats, 0 },
    { NGX_HTTP_POST,   "chats",             ngx_gp_admin_chat_add, 0 },
    { NGX_HTTP_POST,   "chats/token",       ngx_gp_admin_chat_token, 0 },
    { NGX_HTTP_GET,    "chats/*",           ngx_gp_admin_chat_item, 0 },
    { NGX_HTTP_PATCH,  "chats/*",           ngx_gp_admin_chat_update, 0 },
    { NGX_HTTP_DELETE, "chats/*",           ngx_gp_admin_chat_delete, 0 },
    { NGX_HTTP_POST,   "chats/*/messages",  ngx_gp_admin_chat_append, 0 },
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
    ngx_pool_cleanup_t  *cln;
    char                 msg[NGX_GP_BODY_ERR_LEN];

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
        body = ngx_gp_body_object((char *) text.data, text.len, msg,
                                  sizeof(msg));

        if (body == NULL) {
            ngx_http_finalize_request(r,
                ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                   "%s", msg));
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
 * A session token that could not be looked up because the database is
 * locked (a backup, the account command) is not an ended session: the
 * request is answered 503 database_busy (sent set), so that the console
 * keeps its session and tries again, rather than 401 and a log-out.
 */

static ngx_uint_t
ngx_gp_admin_session_busy(ngx_http_request_t *r, ngx_int_t *sent)
{
    ngx_int_t  rc;

    rc = ngx_gp_admin_busy(r, NGX_ERROR);

    if (rc == NGX_ERROR) {
        return 0;
    }

    *sent = rc;

    return 1;
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

    h = ngx_gp_header_in(r, "X-Admin-Token");

    if (h) {
        if (ngx_gp_ct_equal(h->value.data, h->value.len, gmcf->admin_secret,
                            gmcf->admin_secret_len)
            || ngx_gp_admin_token_ok(r, &h->value, id))
        {
            return NGX_OK;
        }

        if (ngx_gp_admin_session_busy(r, sent)) {
            return NGX_DECLINED;
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
        if (ngx_gp_admin_session_busy(r, sent)) {
            return NGX_DECLINED;
        }

        *sent = ngx_gp_admin_error(r, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  "the session has expired or was ended");
        return NGX_DECLINED;
    }

    a->by_cookie = 1;

    if (r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD)) {
        return NGX_OK;
    }

    h = ngx_gp_header_in(r, "Origin");

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

        ngx_gp_admin_busy_clear();

        if (!rt->open && ngx_gp_admin_authenticate(a, &rc) != NGX_OK) {
            return ngx_gp_admin_busy(r, rc);
        }

        rc = rt->handler(a);

        /* a handler's plain status becomes a JSON error too */
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            if (r->header_sent) {
                return NGX_ERROR;
            }

            rc = ngx_gp_admin_busy(r, rc);

            if (rc < NGX_HTTP_SPECIAL_RESPONSE) {
                return rc;
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
