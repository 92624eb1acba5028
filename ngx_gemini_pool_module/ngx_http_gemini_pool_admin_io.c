
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * What the admin topic files share: JSON replies and JSON errors, the
 * fields of the request's JSON body and its query arguments, and the
 * reload of the zone after a change.  It calls nothing of the admin
 * files above it.
 */


#include "ngx_http_gemini_pool_module.h"


/* JSON out: takes the reference of j */

ngx_int_t
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


ngx_int_t
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


ngx_int_t
ngx_gp_admin_ok(ngx_http_request_t *r)
{
    return ngx_gp_admin_json(r, NGX_HTTP_OK, json_pack("{s:b}", "success",
                                                        1));
}


/* the database changed: every worker's view follows through the zone */

ngx_int_t
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


/*
 * Another process holds a lock on the database (the account command, a
 * backup, an operator's sqlite3): the worker waited NGX_GP_STORE_WAIT_ADMIN
 * ms, not SQLite's usual seconds, and the request is answered 503 with
 * Retry-After (a write met the lock before it began: nothing was written;
 * the zone's reload after a write met it: the write stays, the next
 * reload brings it into the zone).  ngx_gp_admin_busy() turns a failed
 * route's status into that answer when a statement met the lock.
 */

void
ngx_gp_admin_busy_clear(void)
{
    (void) ngx_gp_store_busy(1);
}


ngx_int_t
ngx_gp_admin_busy(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc < NGX_HTTP_SPECIAL_RESPONSE && rc != NGX_ERROR) {
        return rc;
    }

    if (r->header_sent || !ngx_gp_store_busy(1)) {
        return rc;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "gemini pool: admin: the database is locked by another "
                  "process; answered 503");

    ngx_gp_retry_after(r, 1);

    return ngx_gp_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                              "database_busy", "the database is locked by "
                              "another process (a backup, the account "
                              "command, sqlite3); try again shortly");
}


/* helpers for JSON fields */

const char *
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


ngx_int_t
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

ngx_int_t
ngx_gp_admin_list(ngx_gp_admin_t *a, json_t *list, const char *name)
{
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o}", name, list));
}


/* 404 for the path's second segment: "no <what> \"<segment>\"" */

ngx_int_t
ngx_gp_admin_not_found(ngx_gp_admin_t *a, const char *what)
{
    return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                              "no %s \"%.*s\"", what,
                              (int) ngx_min(a->seg[1].len, 40),
                              a->seg[1].data);
}


/*
 * A numeric query argument, kept in *out when absent; a value that is not
 * a number (with max: from 1 to max) is answered with "\"<name>\" must be
 * <must>" in *sent, and NGX_DECLINED.
 */

ngx_int_t
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


/* a text query argument, "+" and %XX decoded; empty: none */

ngx_int_t
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


/*
 * <ref>: a list position (as the reference and its remote sync use) or
 * "id:<N>" (a stable identity).  Returns the id, 0 when the position is
 * past the end (*count: the number of accounts), -1 when malformed or
 * unknown.
 */

int64_t
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
