
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin settings: every setting of the table with its value, and a
 * checked update of several at once.
 */


#include "ngx_http_gemini_pool_module.h"


/*
 * {"settings": {key: {"type", "value" | "set", "default", "group",
 * ["allowed", "many"], ["min", "max", "unit"], ["inert"]}}, "groups":
 * [{"name", "keys"}]}: every setting of the table with its effective
 * value, secrets only as whether they are set; the groups in the
 * console's order, their keys in the table's.
 */


/*
 * Why a switch does nothing on this server, or NULL: auto_refresh_cookies
 * logs in with Chromium, which gemini_pool_browser names.
 */

static const char *
ngx_gp_admin_setting_inert(ngx_uint_t i)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (i != NGX_GP_SET_AUTO_REFRESH_COOKIES) {
        return NULL;
    }

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    return (gmcf == NULL || gmcf->browser.path.len == 0) ? "no_browser"
                                                         : NULL;
}


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
        v = json_pack("{s:s,s:s,s:s}", "type",
                      d->type == NGX_GP_SETTING_CHOICE ? "choice" : "string",
                      "value", (char *) s->value, "default", d->dflt);
        break;
    }

    if (v && (json_object_set_new(v, "group", json_string(
                                      ngx_gp_setting_group_name(d->group))) != 0
              || (d->unit && json_object_set_new(v, "unit",
                                                 json_string(d->unit)) != 0)
              || (d->many && json_object_set_new(v, "many", json_true()) != 0)
              || (ngx_gp_admin_setting_inert(i)
                  && json_object_set_new(v, "inert", json_string(
                                         ngx_gp_admin_setting_inert(i)))
                     != 0)))
    {
        json_decref(v);
        v = NULL;
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


/* [{"name", "keys"}]: the groups in their order, keys in the table's */

static json_t *
ngx_gp_admin_settings_groups(void)
{
    json_t      *groups, *keys;
    ngx_uint_t   g, i;

    groups = json_array();

    for (g = NGX_GP_GROUP_NONE + 1; groups && g < NGX_GP_GROUP_N; g++) {
        keys = json_array();

        for (i = 0; keys && i < NGX_GP_SET_N; i++) {
            if (ngx_gp_setting_def(i)->group == g
                && json_array_append_new(keys,
                       json_string(ngx_gp_setting_def(i)->key)) != 0)
            {
                json_decref(keys);
                keys = NULL;
            }
        }

        if (keys == NULL
            || json_array_append_new(groups, json_pack("{s:s,s:o}", "name",
                                     ngx_gp_setting_group_name(g),
                                     "keys", keys)) != 0)
        {
            json_decref(groups);
            groups = NULL;
        }
    }

    return groups;
}


ngx_int_t
ngx_gp_admin_settings(ngx_gp_admin_t *a)
{
    json_t            *obj, *v, *groups;
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

    groups = obj ? ngx_gp_admin_settings_groups() : NULL;

    if (groups == NULL) {
        json_decref(obj);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:o}", "settings", obj,
                                       "groups", groups));
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


/*
 * POST /api/settings/upload-test: a small PNG uploaded to the image host
 * with the saved upload_endpoint and upload_api_token, as a generated
 * file would be; {"ok", "url" | "error", "status", "elapsed_ms"}.
 */

static const u_char  ngx_gp_admin_test_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
    0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82
};


static void
ngx_gp_admin_upload_test_cleanup(void *data)
{
    ngx_gp_xfer_t  **xp = data;

    if (*xp) {
        ngx_gp_xfer_destroy(*xp);
        *xp = NULL;
    }

    ngx_gp_release_worker();
}


static void
ngx_gp_admin_upload_test_done(ngx_gp_xfer_t *x)
{
    double               total;
    json_t              *j;
    ngx_int_t            rc;
    ngx_gp_xfer_t      **xp;
    ngx_http_request_t  *r;
    u_char               url[NGX_GP_CFBED_URL_LEN], err[256];

    xp = x->data;
    r = (ngx_http_request_t *) xp[1];

    total = 0;
    (void) curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);

    if (ngx_gp_imghost_result(x, url, sizeof(url), err, sizeof(err))
        == NGX_OK)
    {
        j = json_pack("{s:b,s:s,s:i,s:b,s:i}", "ok", 1, "url", (char *) url,
                      "status", (int) x->status, "proxied", (int) x->proxied,
                      "elapsed_ms", (int) (total * 1000));

    } else {
        j = json_pack("{s:b,s:s,s:i,s:b,s:i}", "ok", 0, "error",
                      (char *) err, "status", (int) x->status, "proxied",
                      (int) x->proxied, "elapsed_ms", (int) (total * 1000));
    }

    ngx_gp_xfer_destroy(x);
    xp[0] = NULL;

    rc = ngx_gp_admin_json(r, NGX_HTTP_OK, j);

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_gp_admin_upload_test(ngx_gp_admin_t *a)
{
    ngx_gp_xfer_t       *x, **xp;
    ngx_pool_cleanup_t  *cln;
    ngx_http_request_t  *r;
    u_char               err[160];

    r = a->r;

    if (!ngx_gp_imghost_on()) {
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "not_configured",
                                  "set upload_endpoint and upload_api_token "
                                  "first");
    }

    xp = ngx_palloc(r->pool, 2 * sizeof(void *));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (xp == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    x = ngx_gp_imghost_upload(NULL, ngx_gp_admin_test_png,
                              sizeof(ngx_gp_admin_test_png),
                              "gemini-pool-upload-test.png", "image/png",
                              r->connection->log, err, sizeof(err));
    if (x == NULL) {
        return ngx_gp_admin_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "upload_failed", "%s", err);
    }

    xp[0] = x;
    xp[1] = (ngx_gp_xfer_t *) r;
    cln->handler = ngx_gp_admin_upload_test_cleanup;
    cln->data = xp;

    /* a reload waits for the test (released by the cleanup) */
    ngx_gp_hold_worker();

    x->on_done = ngx_gp_admin_upload_test_done;
    x->data = xp;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}
