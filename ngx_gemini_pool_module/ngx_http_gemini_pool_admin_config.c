
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin configuration export and import (this module's export, or the
 * reference's JSON file or SQLite database).
 */


#include "ngx_http_gemini_pool_module.h"


/*
 * GET /api/config/export[?secrets=1]: a download of the configuration;
 * secrets only when asked for, and the document says whether it has them.
 */

ngx_int_t
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

ngx_int_t
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

    if (rc == NGX_ABORT) {
        return ngx_gp_admin_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                  "zone_full", "%s; nothing was changed",
                                  err);
    }

    if (rc != NGX_OK) {
        rc = ngx_gp_admin_busy(r, NGX_HTTP_INTERNAL_SERVER_ERROR);

        if (rc < NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

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
