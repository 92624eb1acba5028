
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin models: the list, create or update (with the aliases), delete.
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
 * "aliases": null (none) or a list of names a client may ask for
 * ("gpt-4o") and prefixes ("claude-*", "*": any name); none may be a
 * model's name or another model's alias.  Joined with commas into buf;
 * NULL with the error sent (*rc), or buf.
 */

static const char *
ngx_gp_admin_model_aliases(ngx_gp_admin_t *a, const char *name, json_t *v,
    u_char *buf, ngx_int_t *rc)
{
    size_t        i, j, k, n, len;
    json_t       *models, *m, *other;
    u_char       *p;
    const char   *s, *t;

    p = buf;

    if (json_is_null(v)) {
        *p = '\0';
        return (char *) buf;
    }

    if (!json_is_array(v)) {
        goto invalid;
    }

    models = ngx_gp_store_models_list(a->r->connection->log);
    if (models == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    n = json_array_size(v);

    for (i = 0; i < n; i++) {
        s = json_string_value(json_array_get(v, i));
        len = s ? ngx_strlen(s) : 0;

        if (len == 0 || len >= NGX_GP_MODEL_LEN
            || (size_t) (p - buf) + len + 2 > NGX_GP_ALIASES_LEN)
        {
            json_decref(models);
            goto invalid;
        }

        for (k = 0; k < len; k++) {
            if (s[k] <= ' ' || s[k] > '~' || s[k] == ','
                || (s[k] == '*' && k != len - 1))
            {
                json_decref(models);
                goto invalid;
            }
        }

        /* a model's name, or another model's alias */

        for (j = 0; j < json_array_size(models); j++) {
            m = json_array_get(models, j);
            t = json_string_value(json_object_get(m, "name"));

            if (t && ngx_strcmp(t, s) == 0) {
                json_decref(models);
                *rc = ngx_gp_admin_error(a->r, NGX_HTTP_CONFLICT,
                                         "alias_conflict", "\"%s\" is the "
                                         "name of a model", s);
                return NULL;
            }

            if (t && ngx_strcmp(t, name) == 0) {
                continue;
            }

            other = json_object_get(m, "aliases");

            for (k = 0; k < json_array_size(other); k++) {
                if (ngx_strcmp(json_string_value(json_array_get(other, k)),
                               s)
                    == 0)
                {
                    *rc = ngx_gp_admin_error(a->r, NGX_HTTP_CONFLICT,
                                             "alias_conflict", "\"%s\" is "
                                             "an alias of model \"%s\"", s,
                                             t);
                    json_decref(models);
                    return NULL;
                }
            }
        }

        if (p != buf) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, s, len);
    }

    json_decref(models);

    *p = '\0';

    return (char *) buf;

invalid:

    *rc = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                             "\"aliases\" is null or a list of names "
                             "(under 64 bytes, no blanks or commas; a "
                             "final \"*\" makes a prefix), %d bytes in "
                             "all at most", NGX_GP_ALIASES_LEN - 1);
    return NULL;
}


/*
 * POST /api/models {"name", ...} creates or replaces; PUT /api/models/<name>
 * updates the fields given.  account_id: an account id to pin the model to,
 * or null for none.
 */

ngx_int_t
ngx_gp_admin_model_put(ngx_gp_admin_t *a)
{
    json_t                *v;
    ngx_int_t              rc;
    const char            *name, *aliases;
    ngx_gp_store_model_t   m;
    ngx_gp_body_model_t    bm;
    u_char                 buf[NGX_GP_MODEL_LEN];
    u_char                 abuf[NGX_GP_ALIASES_LEN];
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

    aliases = NULL;
    v = json_object_get(a->body, "aliases");

    if (v) {
        aliases = ngx_gp_admin_model_aliases(a, bm.name, v, abuf, &rc);

        if (aliases == NULL) {
            return rc;
        }
    }

    ngx_memzero(&m, sizeof(ngx_gp_store_model_t));

    m.name = bm.name;
    m.model_id = bm.model_id;
    m.kind = bm.kind;
    m.description = bm.description;
    m.aliases = aliases;
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
