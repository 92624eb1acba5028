
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
