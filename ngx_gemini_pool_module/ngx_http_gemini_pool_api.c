
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI API location (dispatch by URI, the surface of a URI, models)
 * and /health.
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_int_t ngx_gp_models_handler(ngx_http_request_t *r,
    ngx_str_t *id);


static ngx_uint_t
ngx_gp_uri_ends(ngx_http_request_t *r, const char *tail, ngx_str_t *rest)
{
    size_t   n;
    u_char  *p, *last;

    /* ".../v1/<tail>" or ".../v1/<tail>/<rest>" */

    n = ngx_strlen(tail);
    last = r->uri.data + r->uri.len;

    while (last > r->uri.data && last[-1] == '/') {
        last--;
    }

    for (p = r->uri.data; p + n <= last; p++) {
        if (ngx_strncmp(p, tail, n) != 0) {
            continue;
        }

        if (p + n == last) {
            if (rest) {
                rest->len = 0;
                rest->data = NULL;
            }

            return 1;
        }

        if (rest && p[n] == '/' && p + n + 1 < last) {
            rest->data = p + n + 1;
            rest->len = last - rest->data;

            if (ngx_strlchr(rest->data, last, '/') == NULL) {
                return 1;
            }
        }
    }

    return 0;
}


ngx_int_t
ngx_gp_api_handler(ngx_http_request_t *r)
{
    ngx_str_t            id;
    ngx_gp_oai_error_t   err;

    if (ngx_gp_zone() == NULL) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                             "server_error", "not_configured", NULL,
                             "gemini_pool_zone is not configured");
        return ngx_gp_send_error(r, &err);
    }

    if (ngx_strlcasestrn(r->uri.data, r->uri.data + r->uri.len,
                         (u_char *) "/v1beta/", 8 - 1))
    {
        return ngx_gp_gemini_handler(r);
    }

    if (ngx_gp_uri_ends(r, "/messages/count_tokens", NULL)) {
        return ngx_gp_anthropic_count_handler(r);
    }

    if (ngx_gp_uri_ends(r, "/messages", NULL)) {
        return ngx_gp_chat_handler(r, &ngx_gp_surface_anthropic);
    }

    if (ngx_gp_uri_ends(r, "/chat/completions", NULL)) {
        return ngx_gp_chat_handler(r, &ngx_gp_surface_openai);
    }

    if (ngx_gp_uri_ends(r, "/models", &id)) {
        return ngx_gp_models_handler(r, &id);
    }

    if (ngx_gp_uri_ends(r, "/images/generations", NULL)) {
        return ngx_gp_chat_handler(r, &ngx_gp_surface_images);
    }

    if (ngx_gp_uri_ends(r, "/images/edits", NULL)) {
        return ngx_gp_chat_handler(r, &ngx_gp_surface_images_edits);
    }

    if (ngx_gp_uri_ends(r, "/responses", &id)) {
        if (id.len == 0) {
            return ngx_gp_chat_handler(r, &ngx_gp_surface_responses);
        }

        /* responses are not kept: only their upstream sessions are */
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                             "invalid_request_error", "not_found", NULL,
                             "Response with id '%.*s' not found: this "
                             "gateway does not store responses (store: "
                             "true keeps the upstream session for "
                             "previous_response_id only)",
                             (int) ngx_min(id.len, 64), id.data);
        return ngx_gp_send_error(r, &err);
    }

    if (ngx_gp_uri_ends(r, "/files", &id)) {
        return ngx_gp_files_handler(r, &id);
    }

    ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND, "invalid_request_error",
                         "unknown_url", NULL, "Unknown request URL: %s %.*s",
                         r->method == NGX_HTTP_POST ? "POST"
                         : r->method == NGX_HTTP_DELETE ? "DELETE" : "GET",
                         (int) ngx_min(r->uri.len, 200), r->uri.data);

    return ngx_gp_send_error(r, &err);
}


/*
 * The surface of the request's URI, as the dispatch above finds it, for
 * the responses nginx makes itself (module.c's filter of the 413 page);
 * NULL: a route of no surface (models, files), whose errors are OpenAI's.
 */

const ngx_gp_surface_t *
ngx_gp_api_surface(ngx_http_request_t *r)
{
    ngx_str_t  id;

    if (ngx_strlcasestrn(r->uri.data, r->uri.data + r->uri.len,
                         (u_char *) "/v1beta/", 8 - 1))
    {
        return &ngx_gp_surface_gemini;
    }

    if (ngx_gp_uri_ends(r, "/messages/count_tokens", NULL)
        || ngx_gp_uri_ends(r, "/messages", NULL))
    {
        return &ngx_gp_surface_anthropic;
    }

    if (ngx_gp_uri_ends(r, "/chat/completions", NULL)) {
        return &ngx_gp_surface_openai;
    }

    if (ngx_gp_uri_ends(r, "/images/generations", NULL)) {
        return &ngx_gp_surface_images;
    }

    if (ngx_gp_uri_ends(r, "/images/edits", NULL)) {
        return &ngx_gp_surface_images_edits;
    }

    if (ngx_gp_uri_ends(r, "/responses", &id)) {
        return &ngx_gp_surface_responses;
    }

    return NULL;
}


static ngx_int_t
ngx_gp_models_handler(ngx_http_request_t *r, ngx_str_t *id)
{
    char                *p;
    size_t               len;
    ngx_int_t            rc;
    ngx_uint_t           i, n;
    ngx_gp_zone_t       *z;
    ngx_gp_key_t         key;
    ngx_gp_model_t      *models, m;
    ngx_gp_oai_error_t   err;
    const char          *ids[NGX_GP_MAX_MODELS];
    u_char               name[NGX_GP_MODEL_LEN];

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                             "invalid_request_error", "method_not_allowed",
                             NULL, "use GET for /v1/models");
        return ngx_gp_send_error(r, &err);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_gp_api_key(r, NULL, &key, &rc) != NGX_OK) {
        return rc;
    }

    z = ngx_gp_zone();

    if (id->len) {
        if (ngx_gp_zone_model(z, id, &m) != NGX_OK) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                                 "invalid_request_error", "model_not_found",
                                 "model", "The model `%.*s` does not exist",
                                 (int) ngx_min(id->len, 100), id->data);
            return ngx_gp_send_error(r, &err);
        }

        /* the name asked for: a model's, or an alias of one */
        ngx_cpystrn(name, id->data, id->len + 1);

        p = ngx_gp_render_model((char *) name, ngx_time(), "google", &len);

    } else {
        models = ngx_palloc(r->pool, sizeof(ngx_gp_model_t)
                                     * NGX_GP_MAX_MODELS);
        if (models == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_shmtx_lock(&z->shpool->mutex);
        n = z->sh->nmodels;
        ngx_memcpy(models, z->sh->models, n * sizeof(ngx_gp_model_t));
        ngx_shmtx_unlock(&z->shpool->mutex);

        for (i = 0; i < n; i++) {
            ids[i] = (char *) models[i].name;
        }

        p = ngx_gp_render_models(ids, n, ngx_time(), "google", &len);
    }

    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}


/*
 * GET /health: database, accounts, zone, helper.  With ?detail=1 also the
 * state of every account (no credentials).
 */

ngx_int_t
ngx_gp_health_handler(ngx_http_request_t *r)
{
    u_char            *p, *last;
    size_t             size, used, len;
    time_t             now;
    ngx_int_t          rc;
    ngx_str_t          arg;
    ngx_uint_t         i, usable, total, ok, detail;
    ngx_gp_zone_t     *z;
    ngx_gp_shctx_t    *sh;
    ngx_gp_account_t  *a;

    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    z = ngx_gp_zone();

    if (z == NULL) {
        return ngx_gp_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                (u_char *) "{\"status\":\"unconfigured\"}",
                                sizeof("{\"status\":\"unconfigured\"}") - 1);
    }

    detail = ngx_http_arg(r, (u_char *) "detail", 6, &arg) == NGX_OK
             && arg.len == 1 && arg.data[0] == '1';

    now = ngx_time();
    sh = z->sh;
    usable = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    total = sh->naccounts;

    /* each account: at most ~400 bytes of JSON, names escaped as \uXXXX */
    len = 512 + 512 + 6 * NGX_GP_CLUSTER_ERROR_LEN
          + (detail ? total * (400 + 6 * (NGX_GP_NAME_LEN + 128)) : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = p + len;

    for (i = 0; i < total; i++) {
        a = &sh->accounts[i];

        if (a->enabled && !a->cookie_expired
            && a->cooldown_until[NGX_GP_QUOTA_TEXT] <= now)
        {
            usable++;
        }
    }

    size = z->shpool->end - z->shpool->start;
    used = size - z->shpool->pfree * ngx_pagesize;

    ok = sh->db_ok && usable > 0;

    r->headers_out.status = ok ? NGX_HTTP_OK : NGX_HTTP_SERVICE_UNAVAILABLE;

    last = ngx_slprintf(p, last,
                        "{\"status\":\"%s\",\"database\":\"%s\","
                        "\"accounts\":{\"total\":%ui,\"usable\":%ui},"
                        "\"zone\":{\"size\":%uz,\"used\":%uz,"
                        "\"bindings\":%ui,\"evictions\":%uL},"
                        "\"helper\":{\"pid\":%P,\"ticks\":%uL,"
                        "\"last_tick\":%T},"
                        "\"requests\":%uL,\"errors\":%uL,"
                        "\"upstream_transfers\":%ui,\"pid\":%P",
                        ok ? "ok" : "degraded",
                        sh->db_ok ? "ok" : "error", total, usable,
                        size, used, sh->nbindings, sh->evictions,
                        sh->helper_pid, sh->helper_ticks,
                        sh->helper_tick, sh->requests, sh->errors,
                        ngx_gp_curl_active(), ngx_pid);

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);

    if (gmcf->demo) {
        last = ngx_slprintf(last, p + len, ",\"demo\":true");
    }

    if (gmcf->cluster) {
        /* Redis (cluster.c): down does not degrade, local state serves */
        last = ngx_slprintf(last, p + len,
                            ",\"cluster\":{\"up\":%s,\"since\":%T,"
                            "\"transitions\":%uL,\"commands\":%uL,"
                            "\"failures\":%uL,\"messages\":%uL,"
                            "\"local_fallbacks\":%uL,\"last_error\":\"",
                            sh->cluster.up ? "true" : "false",
                            sh->cluster.since, sh->cluster.transitions,
                            sh->cluster.commands, sh->cluster.failures,
                            sh->cluster.messages,
                            sh->cluster.local_fallbacks);
        last = (u_char *) ngx_escape_json(last, sh->cluster.last_error,
                                          ngx_strlen(sh->cluster.last_error));
        last = ngx_slprintf(last, p + len, "\"}");
    }

    if (detail) {
        last = ngx_slprintf(last, p + len, ",\"pool\":[");

        for (i = 0; i < total; i++) {
            a = &sh->accounts[i];

            last = ngx_slprintf(last, p + len,
                                "%s{\"id\":%L,\"name\":\"", i ? "," : "",
                                a->id);
            last = (u_char *) ngx_escape_json(last, a->name,
                                              ngx_strlen(a->name));
            last = ngx_slprintf(last, p + len,
                                "\",\"enabled\":%s,\"cookie_expired\":%s,"
                                "\"cooldown_until\":{\"text\":%T,"
                                "\"images\":%T,\"videos\":%T},"
                                "\"in_flight\":%ui,\"requests\":%uL,"
                                "\"failures\":%uL,\"jwt_age\":%T,"
                                "\"spare_sessions\":%ui,"
                                "\"last_error\":\"",
                                a->enabled ? "true" : "false",
                                a->cookie_expired ? "true" : "false",
                                a->cooldown_until[NGX_GP_QUOTA_TEXT],
                                a->cooldown_until[NGX_GP_QUOTA_IMAGES],
                                a->cooldown_until[NGX_GP_QUOTA_VIDEOS],
                                a->in_flight, a->requests, a->failures,
                                a->jwt[0] ? now - a->jwt_iat : (time_t) -1,
                                a->nspares);
            last = (u_char *) ngx_escape_json(last, a->last_error,
                                              ngx_strlen(a->last_error));
            last = ngx_slprintf(last, p + len, "\"}");
        }

        last = ngx_slprintf(last, p + len, "]");
    }

    last = ngx_slprintf(last, p + len, "}");

    ngx_shmtx_unlock(&z->shpool->mutex);

    return ngx_gp_send_json(r, r->headers_out.status, p, last - p);
}
