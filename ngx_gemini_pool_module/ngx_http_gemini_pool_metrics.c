
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * GET on a gemini_pool_metrics location: the zone's counters in the
 * Prometheus text exposition format.
 */


#include "ngx_http_gemini_pool_module.h"


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
    uint64_t           in_flight, given_back, spares;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_uint_t         i, usable, cooling, expired, disabled;
    ngx_chain_t        out;
    ngx_gp_zone_t     *z;
    ngx_gp_shctx_t    *sh;
    ngx_gp_account_t  *a;
    ngx_gp_metrics_t   m;

    ngx_gp_cluster_state_t  cl;

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

    in_flight = 0;
    spares = 0;
    given_back = sh->given_back;

    for (i = 0; i < sh->naccounts; i++) {
        a = &sh->accounts[i];
        in_flight += a->in_flight;
        spares += a->nspares;

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

    start = ngx_pnalloc(r->pool, 8192 + 1024);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = start;
    last = start + 8192 + 1024;

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
                     "gemini_pool_history_text_dropped_total %uL\n"
                     "# HELP gemini_pool_in_flight Requests holding an "
                     "account now.\n"
                     "# TYPE gemini_pool_in_flight gauge\n"
                     "gemini_pool_in_flight %uL\n"
                     "# HELP gemini_pool_in_flight_given_back_total "
                     "Requests in flight of processes that died, given "
                     "back.\n"
                     "# TYPE gemini_pool_in_flight_given_back_total "
                     "counter\n"
                     "gemini_pool_in_flight_given_back_total %uL\n",
                     m.prompt_tokens, m.completion_tokens, usable, cooling,
                     expired, disabled, size, used, m.events_dropped,
                     m.history_dropped, in_flight, given_back);

    p = ngx_slprintf(p, last,
                     "# HELP gemini_pool_spare_sessions_total Spare "
                     "upstream sessions: created ahead of need, used by a "
                     "request, dropped unused.\n"
                     "# TYPE gemini_pool_spare_sessions_total counter\n"
                     "gemini_pool_spare_sessions_total{event=\"created\"} "
                     "%uL\n"
                     "gemini_pool_spare_sessions_total{event=\"used\"} "
                     "%uL\n"
                     "gemini_pool_spare_sessions_total{event=\"dropped\"} "
                     "%uL\n"
                     "# HELP gemini_pool_spare_sessions Spare upstream "
                     "sessions ready now.\n"
                     "# TYPE gemini_pool_spare_sessions gauge\n"
                     "gemini_pool_spare_sessions %uL\n",
                     m.spares_created, m.spares_used, m.spares_dropped,
                     spares);

    ngx_gp_cluster_state(&cl);

    if (cl.configured) {
        p = ngx_slprintf(p, last,
                         "# HELP gemini_pool_cluster_up Redis "
                         "(gemini_pool_cluster) is reachable.\n"
                         "# TYPE gemini_pool_cluster_up gauge\n"
                         "gemini_pool_cluster_up %ui\n"
                         "# HELP gemini_pool_cluster_transitions_total "
                         "Redis went up or down.\n"
                         "# TYPE gemini_pool_cluster_transitions_total "
                         "counter\n"
                         "gemini_pool_cluster_transitions_total %uL\n"
                         "# HELP gemini_pool_cluster_total Redis commands "
                         "sent, without an answer, pub/sub messages "
                         "received, decisions taken locally because Redis "
                         "was down.\n"
                         "# TYPE gemini_pool_cluster_total counter\n"
                         "gemini_pool_cluster_total{event=\"command\"} %uL\n"
                         "gemini_pool_cluster_total{event=\"failure\"} %uL\n"
                         "gemini_pool_cluster_total{event=\"message\"} %uL\n"
                         "gemini_pool_cluster_total{event=\"local\"} %uL\n",
                         cl.up, cl.transitions, cl.commands, cl.failures,
                         cl.messages, cl.local_fallbacks);
    }

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
