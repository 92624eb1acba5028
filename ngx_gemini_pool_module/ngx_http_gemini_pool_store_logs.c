
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's call log and chat history, as the admin API reads them
 * (the helper process writes them: ngx_gp_store_save_events()).  History
 * is the call log's rows that carry text; erasing it keeps the row.
 */


#include "ngx_http_gemini_pool_module.h"


static json_t *
ngx_gp_store_log_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:I,s:I,s:s,s:s,s:i,s:b,s:i,s:I,s:o,s:I,s:I,s:s}",
                     "id", (json_int_t) sqlite3_column_int64(st, 0),
                     "time", (json_int_t) sqlite3_column_int64(st, 1),
                     "key_id", (json_int_t) sqlite3_column_int64(st, 2),
                     "account", (char *) sqlite3_column_text(st, 3),
                     "model", (char *) sqlite3_column_text(st, 4),
                     "status", sqlite3_column_int(st, 5),
                     "stream", sqlite3_column_int(st, 6),
                     "attempts", sqlite3_column_int(st, 7),
                     "latency_ms",
                     (json_int_t) sqlite3_column_int64(st, 8),
                     "ttfb_ms",
                     sqlite3_column_type(st, 9) == SQLITE_NULL
                     ? json_null()
                     : json_integer(sqlite3_column_int64(st, 9)),
                     "prompt_tokens",
                     (json_int_t) sqlite3_column_int64(st, 10),
                     "completion_tokens",
                     (json_int_t) sqlite3_column_int64(st, 11),
                     "error", (char *) sqlite3_column_text(st, 12));
}


/* key < 0: every key; before 0: the newest */

json_t *
ngx_gp_store_logs_list(int64_t key, int64_t before, int64_t limit,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, time, key_id, account, "
                                "model, status, stream, attempts, "
                                "latency_ms, ttfb_ms, prompt_tokens, "
                                "completion_tokens, error FROM call_logs "
                                "WHERE (?1 < 0 OR key_id = ?1) AND "
                                "(?2 = 0 OR id < ?2) "
                                "ORDER BY id DESC LIMIT ?3", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, before);
    sqlite3_bind_int64(st, 3, limit);

    return ngx_gp_store_rows(st, ngx_gp_store_log_row);
}


static json_t *
ngx_gp_store_column_text(sqlite3_stmt *st, int col)
{
    json_t  *j;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        return json_null();
    }

    j = json_stringn((const char *) sqlite3_column_text(st, col),
                     sqlite3_column_bytes(st, col));

    return j ? j : json_string("");
}


#define NGX_GP_HISTORY_COLUMNS                                               \
    "c.id, c.time, c.key_id, coalesce(k.name, ''), c.model, c.account, "    \
    "c.status, c.stream, c.latency_ms, c.session, c.prompt_tokens, "         \
    "c.completion_tokens, c.error, "

#define NGX_GP_HISTORY_FROM                                                  \
    " FROM call_logs c LEFT JOIN api_keys k ON k.id = c.key_id "

static json_t *
ngx_gp_store_history_row(sqlite3_stmt *st, ngx_uint_t full)
{
    json_t  *j;

    j = json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:i,s:b,s:I,s:s,s:I,s:I,s:s}",
                  "id", (json_int_t) sqlite3_column_int64(st, 0),
                  "time", (json_int_t) sqlite3_column_int64(st, 1),
                  "key_id", (json_int_t) sqlite3_column_int64(st, 2),
                  "key_name", (char *) sqlite3_column_text(st, 3),
                  "model", (char *) sqlite3_column_text(st, 4),
                  "account", (char *) sqlite3_column_text(st, 5),
                  "status", sqlite3_column_int(st, 6),
                  "stream", sqlite3_column_int(st, 7),
                  "latency_ms", (json_int_t) sqlite3_column_int64(st, 8),
                  "session", (char *) sqlite3_column_text(st, 9),
                  "prompt_tokens",
                  (json_int_t) sqlite3_column_int64(st, 10),
                  "completion_tokens",
                  (json_int_t) sqlite3_column_int64(st, 11),
                  "error", (char *) sqlite3_column_text(st, 12));
    if (j == NULL) {
        return NULL;
    }

    if (json_object_set_new(j, full ? "prompt" : "prompt_preview",
                            ngx_gp_store_column_text(st, 13)) != 0
        || json_object_set_new(j, full ? "answer" : "answer_preview",
                               ngx_gp_store_column_text(st, 14)) != 0)
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


static json_t *
ngx_gp_store_history_preview(sqlite3_stmt *st)
{
    return ngx_gp_store_history_row(st, 0);
}


/*
 * The entries that match: q anywhere in the prompt or the answer,
 * literally; key < 0, model "" and session "" for any.  *total: how many
 * match, past limit and offset too.
 */

json_t *
ngx_gp_store_history_list(ngx_gp_store_history_q_t *h, int64_t *total,
    ngx_pool_t *pool, ngx_log_t *log)
{
    u_char        *like, *p;
    json_t        *list;
    sqlite3       *db;
    ngx_uint_t     i, pass;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NULL;
    }

    like = ngx_pnalloc(pool, h->q.len * 2 + 3);
    if (like == NULL) {
        return NULL;
    }

    p = like;
    *p++ = '%';

    for (i = 0; i < h->q.len; i++) {
        if (h->q.data[i] == '%' || h->q.data[i] == '_'
            || h->q.data[i] == '\\')
        {
            *p++ = '\\';
        }

        *p++ = h->q.data[i];
    }

    *p++ = '%';

    *total = 0;
    list = NULL;

    for (pass = 0; pass < 2; pass++) {
        if (ngx_gp_store_prepare(db, pass == 0
                 ? "SELECT count(*)" NGX_GP_HISTORY_FROM
                   "WHERE c.prompt IS NOT NULL AND (?1 = 0 OR c.prompt "
                   "LIKE ?2 ESCAPE '\\' OR c.answer LIKE ?2 ESCAPE '\\') "
                   "AND (?3 < 0 OR c.key_id = ?3) AND (?4 = '' OR "
                   "c.model = ?4) AND (?5 = '' OR c.session = ?5)"
                 : "SELECT " NGX_GP_HISTORY_COLUMNS
                   "substr(c.prompt, 1, 200), substr(c.answer, 1, 200)"
                   NGX_GP_HISTORY_FROM
                   "WHERE c.prompt IS NOT NULL AND (?1 = 0 OR c.prompt "
                   "LIKE ?2 ESCAPE '\\' OR c.answer LIKE ?2 ESCAPE '\\') "
                   "AND (?3 < 0 OR c.key_id = ?3) AND (?4 = '' OR "
                   "c.model = ?4) AND (?5 = '' OR c.session = ?5) "
                   "ORDER BY c.id DESC LIMIT ?6 OFFSET ?7", &st, log)
            != NGX_OK)
        {
            json_decref(list);
            return NULL;
        }

        sqlite3_bind_int(st, 1, h->q.len > 0);
        sqlite3_bind_text(st, 2, (char *) like, p - like, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, h->key);
        sqlite3_bind_text(st, 4, h->model.len ? (char *) h->model.data : "",
                          h->model.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 5,
                          h->session.len ? (char *) h->session.data : "",
                          h->session.len, SQLITE_STATIC);

        if (pass == 0) {
            if (sqlite3_step(st) == SQLITE_ROW) {
                *total = sqlite3_column_int64(st, 0);
            }

            sqlite3_finalize(st);
            continue;
        }

        sqlite3_bind_int64(st, 6, h->limit);
        sqlite3_bind_int64(st, 7, h->offset);

        list = ngx_gp_store_rows(st, ngx_gp_store_history_preview);
    }

    return list;
}


/* one entry with its whole text; NGX_DECLINED: none */

ngx_int_t
ngx_gp_store_history_item(int64_t id, json_t **j, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    *j = NULL;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT " NGX_GP_HISTORY_COLUMNS
                                "c.prompt, c.answer" NGX_GP_HISTORY_FROM
                                "WHERE c.id = ? AND c.prompt IS NOT NULL",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return NGX_DECLINED;
    }

    *j = ngx_gp_store_history_row(st, 1);
    sqlite3_finalize(st);

    return NGX_OK;
}


/* the text of entry id (or of all, id < 0; before: older ones) erased */

ngx_int_t
ngx_gp_store_history_erase(int64_t id, int64_t before, ngx_uint_t *erased,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE call_logs SET prompt = NULL, "
                                "answer = NULL WHERE prompt IS NOT NULL AND "
                                "(?1 < 0 OR id = ?1) AND (?2 = 0 OR "
                                "time < ?2)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, before);

    return ngx_gp_store_run(st, erased, log);
}



/*
 * The calls of the dashboard's figures (ngx_http_gemini_pool_stats.c):
 * those with from <= time < to, by their model (by 1) or account name
 * (by 2) then in time order (by 0: in time order), with the index of
 * their name in *names.  An array of *n calls to ngx_free(), or NULL
 * (*n 0 and no error: none).  The call_logs_time index finds the range;
 * the rows are counted first, and rows the helper writes meanwhile are
 * left for the next time.
 */

ngx_gp_stats_call_t *
ngx_gp_store_stats_calls(int64_t from, int64_t to, ngx_uint_t by,
    size_t *n, json_t **names, ngx_log_t *log)
{
    size_t                max, i;
    sqlite3              *db;
    const char           *g, *last;
    sqlite3_stmt         *st;
    ngx_gp_stats_call_t  *c;

    *n = 0;
    *names = NULL;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT count(*) FROM call_logs "
                                "WHERE time >= ?1 AND time < ?2", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);

    max = (sqlite3_step(st) == SQLITE_ROW)
          ? (size_t) sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    *names = json_array();
    if (*names == NULL) {
        return NULL;
    }

    if (max == 0) {
        return NULL;
    }

    c = ngx_alloc(max * sizeof(ngx_gp_stats_call_t), log);
    if (c == NULL) {
        goto failed;
    }

    if (ngx_gp_store_prepare(db, by == 1
                ? "SELECT time, model, status, latency_ms, ttfb_ms "
                  "FROM call_logs WHERE time >= ?1 AND time < ?2 "
                  "ORDER BY model, time"
                : by == 2
                ? "SELECT time, account, status, latency_ms, ttfb_ms "
                  "FROM call_logs WHERE time >= ?1 AND time < ?2 "
                  "ORDER BY account, time"
                : "SELECT time, '', status, latency_ms, ttfb_ms "
                  "FROM call_logs WHERE time >= ?1 AND time < ?2 "
                  "ORDER BY time", &st, log)
        != NGX_OK)
    {
        ngx_free(c);
        goto failed;
    }

    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);

    last = NULL;
    i = 0;

    while (i < max && sqlite3_step(st) == SQLITE_ROW) {
        g = (const char *) sqlite3_column_text(st, 1);
        g = g ? g : "";

        if (last == NULL
            || ngx_strcmp(g, json_string_value(json_array_get(
                                 *names, json_array_size(*names) - 1))) != 0)
        {
            if (json_array_append_new(*names, json_string(g)) != 0) {
                sqlite3_finalize(st);
                ngx_free(c);
                goto failed;
            }

            last = g;
        }

        c[i].time = sqlite3_column_int64(st, 0);
        c[i].error = sqlite3_column_int(st, 2) >= 400;
        c[i].latency_ms = sqlite3_column_int64(st, 3);
        c[i].ttfb_ms = sqlite3_column_type(st, 4) == SQLITE_NULL
                       ? -1 : sqlite3_column_int64(st, 4);
        c[i].group = (uint32_t) (json_array_size(*names) - 1);
        i++;
    }

    sqlite3_finalize(st);

    *n = i;

    return c;

failed:

    json_decref(*names);
    *names = NULL;

    return NULL;
}
