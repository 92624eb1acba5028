
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


/* q as a LIKE pattern: anywhere, literally ("%", "_", "\\" escaped) */

static ngx_int_t
ngx_gp_store_like(ngx_str_t *q, ngx_str_t *like, ngx_pool_t *pool)
{
    u_char      *p;
    ngx_uint_t   i;

    like->data = ngx_pnalloc(pool, q->len * 2 + 3);
    if (like->data == NULL) {
        return NGX_ERROR;
    }

    p = like->data;
    *p++ = '%';

    for (i = 0; i < q->len; i++) {
        if (q->data[i] == '%' || q->data[i] == '_' || q->data[i] == '\\') {
            *p++ = '\\';
        }

        *p++ = q->data[i];
    }

    *p++ = '%';
    like->len = p - like->data;

    return NGX_OK;
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
    json_t        *list;
    sqlite3       *db;
    ngx_str_t      like;
    ngx_uint_t     pass;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NULL;
    }

    if (ngx_gp_store_like(&h->q, &like, pool) != NGX_OK) {
        return NULL;
    }

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
        sqlite3_bind_text(st, 2, (char *) like.data, like.len, SQLITE_STATIC);
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
 * Conversations: the history's entries of one upstream session within an
 * API key; an entry without a session (a call that failed before one
 * existed) is one of its own.  A conversation's id is its first entry's.
 */

#define NGX_GP_CONV_GROUP                                                    \
    " GROUP BY c.key_id, CASE WHEN c.session = '' THEN 'r' || c.id "         \
    "ELSE 's' || c.session END "

/* the entries of the conversation holding entry ?1 */

#define NGX_GP_CONV_OF                                                       \
    " FROM call_logs c, (SELECT key_id AS k0, session AS s0 FROM "           \
    "call_logs WHERE id = ?1 AND prompt IS NOT NULL) o WHERE c.prompt IS "   \
    "NOT NULL AND c.key_id = o.k0 AND (c.id = ?1 OR (o.s0 != '' AND "        \
    "c.session = o.s0))"


static json_t *
ngx_gp_store_conv_row(sqlite3_stmt *st)
{
    json_t  *j, *models, *accounts;

    models = json_loads((const char *) sqlite3_column_text(st, 3), 0, NULL);
    accounts = json_loads((const char *) sqlite3_column_text(st, 4), 0,
                          NULL);

    j = json_pack("{s:I,s:I,s:s,s:s,s:o?,s:o?,s:I,s:I,s:I,s:b,s:I}",
                  "id", (json_int_t) sqlite3_column_int64(st, 0),
                  "key_id", (json_int_t) sqlite3_column_int64(st, 1),
                  "key_name", (char *) sqlite3_column_text(st, 2),
                  "title", (char *) sqlite3_column_text(st, 10),
                  "models", models,
                  "accounts", accounts,
                  "turns", (json_int_t) sqlite3_column_int64(st, 5),
                  "first_time", (json_int_t) sqlite3_column_int64(st, 6),
                  "last_time", (json_int_t) sqlite3_column_int64(st, 7),
                  "failed", sqlite3_column_int(st, 8),
                  "last_id", (json_int_t) sqlite3_column_int64(st, 9));

    return j;
}


/*
 * The conversations that match, newest activity first: those with a
 * turn of the model, of the account, in [from, to], holding q; before:
 * those whose last turn is older than that entry.  *more: a next page.
 */

json_t *
ngx_gp_store_conversations(ngx_gp_store_conv_q_t *c, ngx_uint_t *more,
    ngx_pool_t *pool, ngx_log_t *log)
{
    json_t        *list;
    sqlite3       *db;
    ngx_str_t      like;
    sqlite3_stmt  *st;

    *more = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_like(&c->q, &like, pool) != NGX_OK
        || ngx_gp_store_prepare(db,
               "SELECT g.cid, g.key_id, coalesce(k.name, ''), g.models, "
               "g.accounts, g.turns, g.first, g.last, g.failed, g.last_id, "
               "(SELECT CASE WHEN length(t) > 80 THEN substr(t, 1, 80) || "
               "'\xe2\x80\xa6' ELSE t END FROM (SELECT trim(replace("
               "replace(prompt, char(10), ' '), char(13), ' ')) AS t FROM "
               "call_logs WHERE id = g.cid)) "
               "FROM (SELECT min(c.id) AS cid, c.key_id AS key_id, "
               "json_group_array(DISTINCT c.model) AS models, "
               "json_group_array(DISTINCT c.account) AS accounts, "
               "count(*) AS turns, min(c.time) AS first, max(c.time) AS "
               "last, max(c.status >= 400 OR c.error != '') AS failed, "
               "max(c.id) AS last_id FROM call_logs c WHERE c.prompt IS "
               "NOT NULL AND (?1 < 0 OR c.key_id = ?1)" NGX_GP_CONV_GROUP
               "HAVING (?2 = 0 OR max(c.id) < ?2) "
               "AND (?3 = '' OR sum(c.model = ?3) > 0) "
               "AND (?4 = '' OR sum(c.account = ?4) > 0) "
               "AND (?5 = 0 AND ?6 = 0 OR sum((?5 = 0 OR c.time >= ?5) "
               "AND (?6 = 0 OR c.time <= ?6)) > 0) "
               "AND (?7 = 0 OR sum(c.prompt LIKE ?8 ESCAPE '\\' OR "
               "c.answer LIKE ?8 ESCAPE '\\') > 0) "
               "ORDER BY last_id DESC LIMIT ?9) g "
               "LEFT JOIN api_keys k ON k.id = g.key_id "
               "ORDER BY g.last_id DESC", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, c->key);
    sqlite3_bind_int64(st, 2, c->before);
    sqlite3_bind_text(st, 3, c->model.len ? (char *) c->model.data : "",
                      c->model.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->account.len ? (char *) c->account.data : "",
                      c->account.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, c->from);
    sqlite3_bind_int64(st, 6, c->to);
    sqlite3_bind_int(st, 7, c->q.len > 0);
    sqlite3_bind_text(st, 8, (char *) like.data, like.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, c->limit + 1);

    list = ngx_gp_store_rows(st, ngx_gp_store_conv_row);

    if (list && json_array_size(list) > (size_t) c->limit) {
        json_array_remove(list, c->limit);
        *more = 1;
    }

    return list;
}


static json_t *
ngx_gp_store_turn_row(sqlite3_stmt *st)
{
    json_t  *j;

    j = json_pack("{s:I,s:I,s:s,s:s,s:i,s:s,s:I,s:b,s:I,s:I}",
                  "id", (json_int_t) sqlite3_column_int64(st, 0),
                  "time", (json_int_t) sqlite3_column_int64(st, 1),
                  "model", (char *) sqlite3_column_text(st, 2),
                  "account", (char *) sqlite3_column_text(st, 3),
                  "status", sqlite3_column_int(st, 4),
                  "error", (char *) sqlite3_column_text(st, 5),
                  "latency_ms", (json_int_t) sqlite3_column_int64(st, 6),
                  "stream", sqlite3_column_int(st, 7),
                  "prompt_tokens", (json_int_t) sqlite3_column_int64(st, 10),
                  "completion_tokens",
                  (json_int_t) sqlite3_column_int64(st, 11));
    if (j == NULL) {
        return NULL;
    }

    if (json_object_set_new(j, "prompt", ngx_gp_store_column_text(st, 8))
        != 0
        || json_object_set_new(j, "answer",
                               ngx_gp_store_column_text(st, 9)) != 0)
    {
        json_decref(j);
        return NULL;
    }

    return j;
}


/*
 * The conversation holding entry id, its turns in order:
 * {"id","key_id","key_name","session","turns":[...]}; NGX_DECLINED: none
 */

ngx_int_t
ngx_gp_store_conversation(int64_t id, json_t **j, ngx_log_t *log)
{
    json_t        *turns, *first;
    sqlite3       *db;
    sqlite3_stmt  *st;

    *j = NULL;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT c.id, c.time, c.model, "
                                "c.account, c.status, c.error, "
                                "c.latency_ms, c.stream, c.prompt, "
                                "c.answer, c.prompt_tokens, "
                                "c.completion_tokens" NGX_GP_CONV_OF
                                " ORDER BY c.id", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    turns = ngx_gp_store_rows(st, ngx_gp_store_turn_row);
    if (turns == NULL) {
        return NGX_ERROR;
    }

    first = json_array_get(turns, 0);

    if (first == NULL) {
        json_decref(turns);
        return NGX_DECLINED;
    }

    if (ngx_gp_store_prepare(db, "SELECT c.key_id, coalesce(k.name, ''), "
                             "c.session FROM call_logs c LEFT JOIN "
                             "api_keys k ON k.id = c.key_id WHERE c.id = ?",
                             &st, log)
        != NGX_OK)
    {
        json_decref(turns);
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1,
                       json_integer_value(json_object_get(first, "id")));

    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        json_decref(turns);
        return NGX_DECLINED;
    }

    *j = json_pack("{s:O,s:I,s:s,s:s,s:o}",
                   "id", json_object_get(first, "id"),
                   "key_id", (json_int_t) sqlite3_column_int64(st, 0),
                   "key_name", (char *) sqlite3_column_text(st, 1),
                   "session", (char *) sqlite3_column_text(st, 2),
                   "turns", turns);

    sqlite3_finalize(st);

    return *j ? NGX_OK : NGX_ERROR;
}


/* the text of the conversation holding entry id erased */

ngx_int_t
ngx_gp_store_conversation_erase(int64_t id, ngx_uint_t *erased,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE call_logs SET prompt = NULL, "
                                "answer = NULL WHERE id IN (SELECT c.id"
                                NGX_GP_CONV_OF ")", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    return ngx_gp_store_run(st, erased, log);
}


static json_t *
ngx_gp_store_text_row(sqlite3_stmt *st)
{
    return ngx_gp_store_column_text(st, 0);
}


/* the models and accounts the history names, for the filters */

json_t *
ngx_gp_store_history_filters(ngx_log_t *log)
{
    json_t        *models, *accounts;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT DISTINCT model FROM call_logs "
                                "WHERE prompt IS NOT NULL AND model != '' "
                                "ORDER BY model", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    models = ngx_gp_store_rows(st, ngx_gp_store_text_row);
    if (models == NULL) {
        return NULL;
    }

    if (ngx_gp_store_prepare(db, "SELECT DISTINCT account FROM call_logs "
                             "WHERE prompt IS NOT NULL AND account != '' "
                             "ORDER BY account", &st, log)
        != NGX_OK)
    {
        json_decref(models);
        return NULL;
    }

    accounts = ngx_gp_store_rows(st, ngx_gp_store_text_row);
    if (accounts == NULL) {
        json_decref(models);
        return NULL;
    }

    return json_pack("{s:o,s:o}", "models", models, "accounts", accounts);
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
