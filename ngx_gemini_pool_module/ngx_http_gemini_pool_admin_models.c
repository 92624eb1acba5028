
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin models: the list, create or update, delete.
 */


#include "ngx_http_gemini_pool_module.h"


/* GET /api/models */

ngx_int_t
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

ngx_int_t
ngx_gp_admin_model_put(ngx_gp_admin_t *a)
{
    const char            *name;
    ngx_gp_store_model_t   m;
    ngx_gp_body_model_t    bm;
    u_char                 buf[NGX_GP_MODEL_LEN];
    char                   msg[NGX_GP_BODY_ERR_LEN];

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object is required");
    }

    name = NULL;

    if (a->nseg == 2) {
        if (a->seg[1].len == 0 || a->seg[1].len >= NGX_GP_MODEL_LEN) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "bad model name");
        }

        ngx_memcpy(buf, a->seg[1].data, a->seg[1].len);
        buf[a->seg[1].len] = '\0';
        name = (char *) buf;
    }

    if (ngx_gp_body_model(a->body, name, &bm, msg, sizeof(msg)) != 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "%s", msg);
    }

    ngx_memzero(&m, sizeof(ngx_gp_store_model_t));

    m.name = bm.name;
    m.model_id = bm.model_id;
    m.kind = bm.kind;
    m.description = bm.description;
    m.account = bm.account;
    m.has_account = bm.has_account;
    m.enabled = bm.enabled;
    m.has_position = bm.has_position;
    m.position = bm.position;

    if (ngx_gp_store_model_put(&m, a->r->connection->log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


ngx_int_t
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
