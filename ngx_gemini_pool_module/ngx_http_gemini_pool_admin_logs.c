
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin logs: the call log and the chat history kept in it.
 */


#include "ngx_http_gemini_pool_module.h"


/* GET /api/logs[?limit=N&before=ID&key_id=K], GET /api/keys/<id>/logs */

ngx_int_t
ngx_gp_admin_logs(ngx_gp_admin_t *a)
{
    ngx_int_t       limit, before, key, n, sent;

    limit = 100;
    before = 0;
    key = -1;

    if (ngx_gp_admin_arg_int(a, "limit", 1000, "1 to 1000", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "before", 0, "a log id", &before, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (a->nseg == 3) {
        n = ngx_atoi(a->seg[1].data, a->seg[1].len);
        if (n == NGX_ERROR) {
            return ngx_gp_admin_not_found(a, "API key");
        }

        key = n;

    } else if (ngx_gp_admin_arg_int(a, "key_id", 0, "a number", &key, &sent)
               != NGX_OK)
    {
        return sent;
    }

    return ngx_gp_admin_list(a, ngx_gp_store_logs_list(key, before, limit,
                                                       a->r->connection->log),
                             "logs");
}


/*
 * Chat history: the call log's rows that carry text (setting
 * history_enabled).  Deleting history erases the text; the row stays in
 * the call log, which keeps the numbers.
 */


/* GET /api/history?q=&key_id=&model=&session=&limit=&offset= */

ngx_int_t
ngx_gp_admin_history(ngx_gp_admin_t *a)
{
    json_t                    *list;
    int64_t                    total;
    ngx_int_t                  limit, offset, key, sent;
    ngx_gp_store_history_q_t   h;

    limit = 50;
    offset = 0;
    key = -1;

    if (ngx_gp_admin_arg_int(a, "limit", 500, "1 to 500", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "offset", 0, "a number, 0 or more",
                                &offset, &sent)
           != NGX_OK
        || ngx_gp_admin_arg_int(a, "key_id", 0, "a number", &key, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (ngx_gp_admin_arg_text(a, "q", &h.q) != NGX_OK
        || ngx_gp_admin_arg_text(a, "model", &h.model) != NGX_OK
        || ngx_gp_admin_arg_text(a, "session", &h.session) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h.key = key;
    h.limit = limit;
    h.offset = offset;

    list = ngx_gp_store_history_list(&h, &total, a->r->pool,
                                     a->r->connection->log);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:I,s:i,s:i}", "items", list,
                                       "total", (json_int_t) total,
                                       "limit", (int) limit,
                                       "offset", (int) offset));
}


/* GET /api/history/<id>: one entry with its whole text */

ngx_int_t
ngx_gp_admin_history_item(ngx_gp_admin_t *a)
{
    json_t     *j;
    ngx_int_t   id, rc;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_not_found(a, "history entry");
    }

    rc = ngx_gp_store_history_item(id, &j, a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "history entry");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/*
 * DELETE /api/history/<id>: one entry; DELETE /api/history: all of them,
 * or those before ?before=<unix time>
 */

ngx_int_t
ngx_gp_admin_history_delete(ngx_gp_admin_t *a)
{
    ngx_int_t   id, before, sent;
    ngx_uint_t  erased;

    id = -1;
    before = 0;

    if (a->nseg == 2) {
        id = ngx_atoi(a->seg[1].data, a->seg[1].len);
        if (id == NGX_ERROR) {
            return ngx_gp_admin_not_found(a, "history entry");
        }

    } else if (ngx_gp_admin_arg_int(a, "before", 0, "a unix time", &before,
                                    &sent)
               != NGX_OK)
    {
        return sent;
    }

    if (ngx_gp_store_history_erase(id, before, &erased,
                                   a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (id >= 0 && erased == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no history entry %d", (int) id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:i}", "ok", 1, "deleted",
                                       (int) erased));
}


/*
 * GET /api/history/conversations?key_id=&model=&account=&from=&to=&q=
 * &limit=&before=: the history grouped by upstream session, newest
 * activity first; before: the "next_before" of the page before.
 */

ngx_int_t
ngx_gp_admin_conversations(ngx_gp_admin_t *a)
{
    json_t                 *list;
    ngx_int_t               limit, before, key, from, to, sent;
    ngx_uint_t              more;
    ngx_gp_store_conv_q_t   c;

    limit = 50;
    before = 0;
    key = -1;
    from = 0;
    to = 0;

    if (ngx_gp_admin_arg_int(a, "limit", 200, "1 to 200", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "before", 0, "a conversation's last_id",
                                &before, &sent)
           != NGX_OK
        || ngx_gp_admin_arg_int(a, "key_id", 0, "a number", &key, &sent)
           != NGX_OK
        || ngx_gp_admin_arg_int(a, "from", 0, "a unix time", &from, &sent)
           != NGX_OK
        || ngx_gp_admin_arg_int(a, "to", 0, "a unix time", &to, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (to && from > to) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value",
                                  "\"from\" must not be after \"to\"");
    }

    if (ngx_gp_admin_arg_text(a, "q", &c.q) != NGX_OK
        || ngx_gp_admin_arg_text(a, "model", &c.model) != NGX_OK
        || ngx_gp_admin_arg_text(a, "account", &c.account) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c.key = key;
    c.from = from;
    c.to = to;
    c.before = before;
    c.limit = limit;

    list = ngx_gp_store_conversations(&c, &more, a->r->pool,
                                      a->r->connection->log);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
               json_pack("{s:o,s:i,s:O?}", "conversations", list,
                         "limit", (int) limit, "next_before",
                         more ? json_object_get(json_array_get(list,
                                    json_array_size(list) - 1), "last_id")
                              : NULL));
}


/* GET /api/history/conversations/<id>: its turns in order */

ngx_int_t
ngx_gp_admin_conversation(ngx_gp_admin_t *a)
{
    json_t     *j;
    ngx_int_t   id, rc;

    id = ngx_atoi(a->seg[2].data, a->seg[2].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no conversation \"%.*s\"",
                                  (int) ngx_min(a->seg[2].len, 40),
                                  a->seg[2].data);
    }

    rc = ngx_gp_store_conversation(id, &j, a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no conversation %d", (int) id);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/* DELETE /api/history/conversations/<id>: the text of all its turns */

ngx_int_t
ngx_gp_admin_conversation_delete(ngx_gp_admin_t *a)
{
    ngx_int_t   id;
    ngx_uint_t  erased;

    id = ngx_atoi(a->seg[2].data, a->seg[2].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no conversation \"%.*s\"",
                                  (int) ngx_min(a->seg[2].len, 40),
                                  a->seg[2].data);
    }

    if (ngx_gp_store_conversation_erase(id, &erased, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (erased == 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no conversation %d", (int) id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:i}", "ok", 1, "deleted",
                                       (int) erased));
}


/* GET /api/history/filters: the models and accounts the history names */

ngx_int_t
ngx_gp_admin_history_filters(ngx_gp_admin_t *a)
{
    json_t  *j;

    j = ngx_gp_store_history_filters(a->r->connection->log);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/*
 * GET /api/stats?range=hour|day[&by=model|account]: the dashboard's
 * figures from the call log.  The hour has 60 buckets of 1 min, the day
 * 48 of 30 min; the last bucket holds the present.  "buckets" and
 * "total" count every call; with by, "series" has the same for the
 * models (or accounts) with the most calls, "others" how many were left
 * out.  The calls of the range are read once, the figures computed by
 * ngx_http_gemini_pool_stats.c (nearest-rank percentiles).
 */

#define NGX_GP_STATS_SERIES  8
#define NGX_GP_STATS_MAX_NB  60


typedef struct {
    ngx_gp_stats_call_t   *calls;       /* the name's run of calls */
    size_t                 n;
    uint32_t               group;
} ngx_gp_admin_run_t;


static json_t *
ngx_gp_admin_stats_value(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}


static json_t *
ngx_gp_admin_stats_fig(ngx_gp_stats_fig_t *f, int64_t time)
{
    json_t  *j;

    j = json_pack("{s:I,s:I,s:o,s:o,s:o,s:o}",
                  "count", (json_int_t) f->count,
                  "errors", (json_int_t) f->errors,
                  "latency_p50", ngx_gp_admin_stats_value(f->latency_p50),
                  "latency_p95", ngx_gp_admin_stats_value(f->latency_p95),
                  "ttfb_p50", ngx_gp_admin_stats_value(f->ttfb_p50),
                  "ttfb_p95", ngx_gp_admin_stats_value(f->ttfb_p95));

    if (j && time >= 0
        && json_object_set_new(j, "time", json_integer(time)) != 0)
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* "total" and "buckets" of n calls in time order, set into j */

static ngx_int_t
ngx_gp_admin_stats_set(json_t *j, ngx_gp_stats_call_t *c, size_t n,
    int64_t from, int64_t bucket, size_t nb, int64_t *scratch)
{
    size_t               b;
    json_t              *list, *o;
    ngx_gp_stats_fig_t   f, fb[NGX_GP_STATS_MAX_NB];

    ngx_gp_stats_figures(c, n, scratch, &f);
    ngx_gp_stats_buckets(c, n, from, bucket, nb, scratch, fb);

    list = json_array();

    if (list == NULL
        || json_object_set_new(j, "buckets", list) != 0
        || json_object_set_new(j, "total", ngx_gp_admin_stats_fig(&f, -1))
           != 0)
    {
        return NGX_ERROR;
    }

    for (b = 0; b < nb; b++) {
        o = ngx_gp_admin_stats_fig(&fb[b], from + (int64_t) b * bucket);

        if (o == NULL || json_array_append_new(list, o) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static int
ngx_gp_admin_stats_cmp(const void *one, const void *two)
{
    const ngx_gp_admin_run_t  *a, *b;

    a = one;
    b = two;

    /* the busiest first; between equals, in the order of the names */
    if (a->n != b->n) {
        return (a->n < b->n) ? 1 : -1;
    }

    return (a->group > b->group) - (a->group < b->group);
}


ngx_int_t
ngx_gp_admin_stats(ngx_gp_admin_t *a)
{
    size_t                 i, n, nruns;
    json_t                *j, *names, *series, *s;
    int64_t                bucket, from, to, *scratch;
    ngx_str_t              range, by;
    ngx_log_t             *log;
    ngx_uint_t             group, nb;
    ngx_gp_admin_run_t    *runs;
    ngx_gp_stats_call_t   *calls;

    log = a->r->connection->log;

    if (ngx_gp_admin_arg_text(a, "range", &range) != NGX_OK
        || ngx_gp_admin_arg_text(a, "by", &by) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (range.len == 0
        || (range.len == 4 && ngx_strncmp(range.data, "hour", 4) == 0))
    {
        ngx_str_set(&range, "hour");
        bucket = 60;
        nb = 60;

    } else if (range.len == 3 && ngx_strncmp(range.data, "day", 3) == 0) {
        bucket = 1800;
        nb = 48;

    } else {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value",
                                  "\"range\" must be hour or day");
    }

    if (by.len == 0) {
        group = 0;

    } else if (by.len == 5 && ngx_strncmp(by.data, "model", 5) == 0) {
        group = 1;

    } else if (by.len == 7 && ngx_strncmp(by.data, "account", 7) == 0) {
        group = 2;

    } else {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value",
                                  "\"by\" must be model or account");
    }

    to = ((int64_t) ngx_time() / bucket + 1) * bucket;
    from = to - (int64_t) nb * bucket;

    calls = ngx_gp_store_stats_calls(from, to, group, &n, &names, log);

    if (names == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = NULL;
    scratch = NULL;

    if (n) {
        scratch = ngx_alloc(n * sizeof(int64_t), log);
        if (scratch == NULL) {
            goto done;
        }
    }

    j = json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:s}",
                  "range", range.len == 3 ? "day" : "hour",
                  "by", group == 1 ? json_string("model")
                        : group == 2 ? json_string("account") : json_null(),
                  "bucket_seconds", (json_int_t) bucket,
                  "from", (json_int_t) from,
                  "to", (json_int_t) to,
                  "now", (json_int_t) ngx_time(),
                  "percentiles", "nearest rank");
    if (j == NULL) {
        goto done;
    }

    if (group) {

        /* the runs of one name each (the calls come by name, in time) */

        nruns = json_array_size(names);
        runs = ngx_pcalloc(a->r->pool, (nruns + 1)
                                       * sizeof(ngx_gp_admin_run_t));
        series = json_array();

        if (runs == NULL || series == NULL
            || json_object_set_new(j, "series", series) != 0
            || json_object_set_new(j, "others",
                                   json_integer(nruns > NGX_GP_STATS_SERIES
                                                ? nruns - NGX_GP_STATS_SERIES
                                                : 0))
               != 0)
        {
            goto failed;
        }

        for (i = 0; i < n; i++) {
            if (runs[calls[i].group].n++ == 0) {
                runs[calls[i].group].calls = &calls[i];
                runs[calls[i].group].group = calls[i].group;
            }
        }

        ngx_qsort(runs, nruns, sizeof(ngx_gp_admin_run_t),
                  ngx_gp_admin_stats_cmp);

        for (i = 0; i < nruns && i < NGX_GP_STATS_SERIES; i++) {
            s = json_pack("{s:s}", "name",
                          json_string_value(json_array_get(names,
                                                           runs[i].group)));

            if (s == NULL || json_array_append_new(series, s) != 0
                || ngx_gp_admin_stats_set(s, runs[i].calls, runs[i].n, from,
                                          bucket, nb, scratch)
                   != NGX_OK)
            {
                goto failed;
            }
        }

        /* and all of them together, in time order */
        ngx_gp_stats_sort_time(calls, n);
    }

    if (ngx_gp_admin_stats_set(j, calls, n, from, bucket, nb, scratch)
        == NGX_OK)
    {
        goto done;
    }

failed:

    json_decref(j);
    j = NULL;

done:

    json_decref(names);

    if (calls) {
        ngx_free(calls);
    }

    if (scratch) {
        ngx_free(scratch);
    }

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}
