
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin settings: every setting of the table with its value, and a
 * checked update of several at once.
 */


#include "ngx_http_gemini_pool_module.h"


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


ngx_int_t
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

ngx_int_t
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
