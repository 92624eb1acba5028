
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
 * GET /api/stats?range=hour|day[&by=model|account]: the dashboard's
 * figures from the call log.  The hour has 60 buckets of 1 min, the day
 * 48 of 30 min; the last bucket holds the present.  "buckets" and
 * "total" count every call; with by, "series" has the same for the
 * models (or accounts) with the most calls, "others" how many were left
 * out.  Percentiles: see ngx_gp_store_stats().
 */

#define NGX_GP_STATS_SERIES  8


/* the rows of one name as nb buckets, the empty ones too */

static json_t *
ngx_gp_admin_stats_buckets(json_t *rows, const char *name, int64_t from,
    int64_t bucket, int64_t nb)
{
    size_t       i;
    int64_t      b;
    json_t      *list, *row, *o;
    const char  *g;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (b = 0; b < nb; b++) {
        o = json_pack("{s:I,s:i,s:i,s:n,s:n,s:n,s:n}",
                      "time", (json_int_t) (from + b * bucket),
                      "count", 0, "errors", 0, "latency_p50",
                      "latency_p95", "ttfb_p50", "ttfb_p95");

        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    json_array_foreach(rows, i, row) {
        g = json_string_value(json_object_get(row, "name"));
        b = json_integer_value(json_object_get(row, "bucket"));

        if (g == NULL || ngx_strcmp(g, name) != 0 || b < 0 || b >= nb) {
            continue;
        }

        o = json_array_get(list, b);

        if (json_object_update_existing(o, row) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/* the whole range's row of one name (zeros when it had no call) */

static json_t *
ngx_gp_admin_stats_total(json_t *totals, const char *name)
{
    json_t  *list, *o;

    list = ngx_gp_admin_stats_buckets(totals, name, 0, 0, 1);
    if (list == NULL) {
        return NULL;
    }

    o = json_array_get(list, 0);
    json_incref(o);
    json_decref(list);

    json_object_del(o, "time");

    return o;
}


static int
ngx_gp_admin_stats_cmp(const void *one, const void *two)
{
    json_int_t  a, b;

    a = json_integer_value(json_object_get(*(json_t **) one, "count"));
    b = json_integer_value(json_object_get(*(json_t **) two, "count"));

    return (a < b) ? 1 : (a > b) ? -1 : 0;
}


ngx_int_t
ngx_gp_admin_stats(ngx_gp_admin_t *a)
{
    size_t       i, n;
    json_t      *rows, *totals, *grows, *gtotals, *j, *series, *s;
    json_t     **top;
    int64_t      bucket, nb, from, to;
    ngx_str_t    range, by;
    ngx_uint_t   group;
    ngx_log_t   *log;
    const char  *name;

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
    from = to - nb * bucket;

    rows = ngx_gp_store_stats(from, to, bucket, 0, log);
    totals = ngx_gp_store_stats(from, to, to - from, 0, log);
    grows = group ? ngx_gp_store_stats(from, to, bucket, group, log) : NULL;
    gtotals = group ? ngx_gp_store_stats(from, to, to - from, group, log)
                    : NULL;

    j = NULL;

    if (rows == NULL || totals == NULL
        || (group && (grows == NULL || gtotals == NULL)))
    {
        goto done;
    }

    j = json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:s,s:o,s:o}",
                  "range", range.len == 3 ? "day" : "hour",
                  "by", group == 1 ? json_string("model")
                        : group == 2 ? json_string("account") : json_null(),
                  "bucket_seconds", (json_int_t) bucket,
                  "from", (json_int_t) from,
                  "to", (json_int_t) to,
                  "now", (json_int_t) ngx_time(),
                  "percentiles", "nearest rank",
                  "total", ngx_gp_admin_stats_total(totals, ""),
                  "buckets", ngx_gp_admin_stats_buckets(rows, "", from,
                                                        bucket, nb));
    if (j == NULL || !group) {
        goto done;
    }

    /* the names with the most calls */

    n = json_array_size(gtotals);

    top = ngx_palloc(a->r->pool, (n + 1) * sizeof(json_t *));
    series = json_array();

    if (top == NULL || series == NULL
        || json_object_set_new(j, "series", series) != 0
        || json_object_set_new(j, "others",
                               json_integer(n > NGX_GP_STATS_SERIES
                                            ? n - NGX_GP_STATS_SERIES : 0))
           != 0)
    {
        json_decref(j);
        j = NULL;
        goto done;
    }

    for (i = 0; i < n; i++) {
        top[i] = json_array_get(gtotals, i);
    }

    ngx_qsort(top, n, sizeof(json_t *), ngx_gp_admin_stats_cmp);

    for (i = 0; i < n && i < NGX_GP_STATS_SERIES; i++) {
        name = json_string_value(json_object_get(top[i], "name"));
        if (name == NULL) {
            continue;
        }

        s = json_pack("{s:s,s:o,s:o}", "name", name,
                      "total", ngx_gp_admin_stats_total(gtotals, name),
                      "buckets", ngx_gp_admin_stats_buckets(grows, name, from,
                                                            bucket, nb));

        if (s == NULL || json_array_append_new(series, s) != 0) {
            json_decref(j);
            j = NULL;
            goto done;
        }
    }

done:

    json_decref(rows);
    json_decref(totals);
    json_decref(grows);
    json_decref(gtotals);

    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}
