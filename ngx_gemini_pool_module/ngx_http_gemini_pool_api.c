
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI API location (dispatch by URI, models) and /health, with the
 * small response helpers the handlers share.
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

    if (ngx_gp_uri_ends(r, "/chat/completions", NULL)) {
        return ngx_gp_chat_handler(r);
    }

    if (ngx_gp_uri_ends(r, "/models", &id)) {
        return ngx_gp_models_handler(r, &id);
    }

    if (ngx_gp_uri_ends(r, "/images/generations", NULL)) {
        return ngx_gp_images_handler(r);
    }

    if (ngx_gp_uri_ends(r, "/images/edits", NULL)) {
        return ngx_gp_edits_handler(r);
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

        p = ngx_gp_render_model((char *) m.name, ngx_time(), "google",
                                &len);

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
    len = 512 + (detail ? total * (400 + 6 * (NGX_GP_NAME_LEN + 128)) : 0);

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
                                "\"last_error\":\"",
                                a->enabled ? "true" : "false",
                                a->cookie_expired ? "true" : "false",
                                a->cooldown_until[NGX_GP_QUOTA_TEXT],
                                a->cooldown_until[NGX_GP_QUOTA_IMAGES],
                                a->cooldown_until[NGX_GP_QUOTA_VIDEOS],
                                a->in_flight, a->requests, a->failures,
                                a->jwt[0] ? now - a->jwt_iat : (time_t) -1);
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


/*
 * API keys on /v1: "Authorization: Bearer <key>", "X-API-Key" or
 * "X-API-Token".  Returns NGX_OK with the key copied into k (k->id 0 when
 * keys are off here), or NGX_DECLINED after sending the error (its rc in
 * *sent).
 */

ngx_int_t
ngx_gp_api_key(ngx_http_request_t *r, ngx_str_t *model, ngx_gp_key_t *k,
    ngx_int_t *sent)
{
    char                             *hex;
    time_t                            retry;
    ngx_int_t                         rc;
    ngx_str_t                         key;
    ngx_uint_t                        i;
    ngx_list_part_t                  *part;
    ngx_table_elt_t                  *h;
    ngx_gp_oai_error_t                err;
    u_char                            hash[32];
    ngx_http_gemini_pool_loc_conf_t  *glcf;

    glcf = ngx_http_get_module_loc_conf(r, ngx_http_gemini_pool_module);

    ngx_memzero(k, sizeof(ngx_gp_key_t));

    if (!glcf->api_keys) {
        return NGX_OK;
    }

    key.len = 0;
    key.data = NULL;

    h = r->headers_in.authorization;

    if (h && h->value.len > 7
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) == 0)
    {
        key.data = h->value.data + 7;
        key.len = h->value.len - 7;

    } else {
        part = &r->headers_in.headers.part;
        h = part->elts;

        for (i = 0; /* void */; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if ((h[i].key.len == 9
                 && ngx_strncasecmp(h[i].key.data, (u_char *) "X-API-Key", 9)
                    == 0)
                || (h[i].key.len == 11
                    && ngx_strncasecmp(h[i].key.data,
                                       (u_char *) "X-API-Token", 11) == 0))
            {
                key = h[i].value;
                break;
            }
        }
    }

    while (key.len && key.data[key.len - 1] == ' ') {
        key.len--;
    }

    if (key.len == 0) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_UNAUTHORIZED,
                             "invalid_request_error", "invalid_api_key",
                             NULL, "You didn't provide an API key: send "
                             "\"Authorization: Bearer <key>\" (or X-API-Key)");
        *sent = ngx_gp_send_error(r, &err);
        return NGX_DECLINED;
    }

    hex = ngx_gp_sha256_hex(key.data, key.len);
    if (hex == NULL) {
        *sent = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    for (i = 0; i < 32; i++) {
        hash[i] = (u_char) ((ngx_hextoi((u_char *) hex + 2 * i, 2)) & 0xff);
    }

    free(hex);

    rc = ngx_gp_zone_key_check(ngx_gp_zone(), hash, model, k, &retry);

    switch (rc) {

    case NGX_GP_KEY_OK:
        return NGX_OK;

    case NGX_GP_KEY_MODEL:
        ngx_gp_oai_error_set(&err, NGX_HTTP_FORBIDDEN, "permission_error",
                             "model_not_allowed", "model",
                             "This API key may not use the model `%.*s`",
                             (int) ngx_min(model->len, 64), model->data);
        break;

    case NGX_GP_KEY_LIMITED:
        ngx_gp_oai_error_set(&err, NGX_HTTP_TOO_MANY_REQUESTS,
                             "rate_limit_error", "rate_limit_exceeded", NULL,
                             "Rate limit of this API key reached; try again "
                             "in %d s", (int) ngx_max(retry, 1));

        ngx_gp_retry_after(r, ngx_max(retry, 1));

        break;

    default:
        ngx_gp_oai_error_set(&err, NGX_HTTP_UNAUTHORIZED,
                             "invalid_request_error", "invalid_api_key",
                             NULL, "Incorrect API key provided");
        break;
    }

    *sent = ngx_gp_send_error(r, &err);

    return NGX_DECLINED;
}


void
ngx_gp_retry_after(ngx_http_request_t *r, time_t delay)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        h->hash = 0;
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%T", delay) - h->value.data;
}


ngx_int_t
ngx_gp_send_json(ngx_http_request_t *r, ngx_uint_t status, u_char *p,
    size_t len)
{
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, p, len);

    return ngx_gp_send_json_buf(r, status, b);
}


/* the same with the body already in a buffer of the request's pool */

ngx_int_t
ngx_gp_send_json_buf(ngx_http_request_t *r, ngx_uint_t status, ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_gp_send_error(ngx_http_request_t *r, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    p = ngx_gp_render_error(err, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, err->status, (u_char *) p, len);
    free(p);

    return rc;
}


/* the request body as one contiguous string (NUL-terminated) */

ngx_int_t
ngx_gp_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    p = ngx_pnalloc(r->pool, size + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* a body over client_body_buffer_size, just written */
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


/* Prometheus text exposition of the zone's counters */

static u_char *
ngx_gp_metrics_histogram(u_char *p, u_char *last, const char *name,
    const char *help, uint64_t *h, double sum)
{
    ngx_uint_t  i;

    p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s histogram\n", name,
                     help, name);

    for (i = 0; i < NGX_GP_BUCKETS; i++) {
        p = ngx_slprintf(p, last, "%s_bucket{le=\"%.3f\"} %uL\n", name,
                         ngx_gp_bucket(i), h[i]);
    }

    return ngx_slprintf(p, last, "%s_bucket{le=\"+Inf\"} %uL\n"
                        "%s_sum %.3f\n%s_count %uL\n", name,
                        h[NGX_GP_BUCKETS], name, sum, name,
                        h[NGX_GP_BUCKETS]);
}


ngx_int_t
ngx_gp_metrics_handler(ngx_http_request_t *r)
{
    u_char            *p, *last, *start;
    time_t             now;
    size_t             size, used;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_uint_t         i, usable, cooling, expired, disabled;
    ngx_chain_t        out;
    ngx_gp_zone_t     *z;
    ngx_gp_shctx_t    *sh;
    ngx_gp_account_t  *a;
    ngx_gp_metrics_t   m;

    static const char  *classes[] = { "0xx", "1xx", "2xx", "3xx", "4xx",
                                      "5xx" };

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    z = ngx_gp_zone();
    if (z == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    sh = z->sh;
    now = ngx_time();
    usable = cooling = expired = disabled = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    m = sh->metrics;

    for (i = 0; i < sh->naccounts; i++) {
        a = &sh->accounts[i];

        if (!a->enabled) {
            disabled++;

        } else if (a->cookie_expired) {
            expired++;

        } else if (a->cooldown_until[NGX_GP_QUOTA_TEXT] > now) {
            cooling++;

        } else {
            usable++;
        }
    }

    size = z->shpool->end - z->shpool->start;
    used = size - z->shpool->pfree * ngx_pagesize;

    ngx_shmtx_unlock(&z->shpool->mutex);

    start = ngx_pnalloc(r->pool, 8192);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = start;
    last = start + 8192;

    p = ngx_slprintf(p, last, "# HELP gemini_pool_requests_total Chat "
                     "completion requests by status class.\n"
                     "# TYPE gemini_pool_requests_total counter\n");

    for (i = 1; i < 6; i++) {
        p = ngx_slprintf(p, last, "gemini_pool_requests_total{status=\"%s\"}"
                         " %uL\n", classes[i], m.requests[i]);
    }

    p = ngx_slprintf(p, last, "# HELP gemini_pool_errors_total Requests "
                     "that ended in an upstream failure, by its kind.\n"
                     "# TYPE gemini_pool_errors_total counter\n");

    for (i = 1; i < NGX_GP_FAIL_N; i++) {
        p = ngx_slprintf(p, last, "gemini_pool_errors_total{kind=\"%s\"} "
                         "%uL\n", ngx_gp_fail_kinds[i].name, m.failures[i]);
    }

    p = ngx_gp_metrics_histogram(p, last,
                                 "gemini_pool_request_duration_seconds",
                                 "Time from the request to its end.",
                                 m.latency, m.latency_sum);
    p = ngx_gp_metrics_histogram(p, last, "gemini_pool_ttfb_seconds",
                                 "Time from the request to the first byte "
                                 "of the answer.", m.ttfb, m.ttfb_sum);

    p = ngx_slprintf(p, last,
                     "# HELP gemini_pool_tokens_total Estimated tokens.\n"
                     "# TYPE gemini_pool_tokens_total counter\n"
                     "gemini_pool_tokens_total{type=\"prompt\"} %uL\n"
                     "gemini_pool_tokens_total{type=\"completion\"} %uL\n"
                     "# HELP gemini_pool_accounts Accounts by state.\n"
                     "# TYPE gemini_pool_accounts gauge\n"
                     "gemini_pool_accounts{state=\"usable\"} %ui\n"
                     "gemini_pool_accounts{state=\"cooling\"} %ui\n"
                     "gemini_pool_accounts{state=\"expired\"} %ui\n"
                     "gemini_pool_accounts{state=\"disabled\"} %ui\n"
                     "# HELP gemini_pool_zone_bytes The shared zone.\n"
                     "# TYPE gemini_pool_zone_bytes gauge\n"
                     "gemini_pool_zone_bytes{kind=\"size\"} %uz\n"
                     "gemini_pool_zone_bytes{kind=\"used\"} %uz\n"
                     "# HELP gemini_pool_call_log_dropped_total Call log "
                     "entries dropped because the ring was full.\n"
                     "# TYPE gemini_pool_call_log_dropped_total counter\n"
                     "gemini_pool_call_log_dropped_total %uL\n"
                     "# HELP gemini_pool_history_text_dropped_total Chat "
                     "history texts not kept because the zone's share for "
                     "queued text was full.\n"
                     "# TYPE gemini_pool_history_text_dropped_total counter\n"
                     "gemini_pool_history_text_dropped_total %uL\n",
                     m.prompt_tokens, m.completion_tokens, usable, cooling,
                     expired, disabled, size, used, m.events_dropped,
                     m.history_dropped);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = p - start;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = start;
    b->last = p;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
