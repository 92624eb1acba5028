
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's chats: the console chat page's conversations (per owner:
 * key_id 0 is the admin) and their messages, and the console's chat
 * credentials (API key rows tied to an admin session: one per session,
 * gone with it).
 */


#include "ngx_http_gemini_pool_module.h"


static json_t *
ngx_gp_store_chat_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I}",
                     "id", (json_int_t) sqlite3_column_int64(st, 0),
                     "title", (char *) sqlite3_column_text(st, 1),
                     "model", (char *) sqlite3_column_text(st, 2),
                     "created_at", (json_int_t) sqlite3_column_int64(st, 3),
                     "updated_at", (json_int_t) sqlite3_column_int64(st, 4),
                     "messages", (json_int_t) sqlite3_column_int64(st, 5));
}


/* newest first; q (or NULL) searched in the titles and the messages */

json_t *
ngx_gp_store_chats_list(int64_t owner, const char *q, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT c.id, c.title, c.model, "
                                "c.created_at, c.updated_at, (SELECT "
                                "count(*) FROM chat_messages m WHERE "
                                "m.chat_id = c.id) FROM chats c WHERE "
                                "c.key_id = ?1 AND (?2 IS NULL OR "
                                "instr(lower(c.title), lower(?2)) > 0 OR "
                                "EXISTS (SELECT 1 FROM chat_messages m "
                                "WHERE m.chat_id = c.id AND "
                                "instr(lower(m.content), lower(?2)) > 0)) "
                                "ORDER BY c.updated_at DESC, c.id DESC "
                                "LIMIT 500", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, owner);

    if (q && *q) {
        sqlite3_bind_text(st, 2, q, -1, SQLITE_TRANSIENT);
    }

    return ngx_gp_store_rows(st, ngx_gp_store_chat_row);
}


static json_t *
ngx_gp_store_chat_message_row(sqlite3_stmt *st)
{
    json_t      *m, *att;
    const char  *text;

    m = json_pack("{s:I,s:s,s:s,s:I}",
                  "id", (json_int_t) sqlite3_column_int64(st, 0),
                  "role", (char *) sqlite3_column_text(st, 1),
                  "content", (char *) sqlite3_column_text(st, 2),
                  "created_at", (json_int_t) sqlite3_column_int64(st, 5));
    if (m == NULL) {
        return NULL;
    }

    text = (const char *) sqlite3_column_text(st, 3);

    if (text && *text
        && json_object_set_new(m, "reasoning", json_string(text)) != 0)
    {
        json_decref(m);
        return NULL;
    }

    text = (const char *) sqlite3_column_text(st, 4);

    if (text && *text) {
        att = json_loads(text, 0, NULL);

        if (att && json_object_set_new(m, "attachments", att) != 0) {
            json_decref(m);
            return NULL;
        }
    }

    return m;
}


/* NGX_OK with *out, NGX_DECLINED: no such chat of this owner */

ngx_int_t
ngx_gp_store_chat_get(int64_t owner, int64_t id, json_t **out,
    ngx_log_t *log)
{
    int            rc;
    json_t        *chat, *msgs;
    sqlite3       *db;
    sqlite3_stmt  *st;

    *out = NULL;
    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT c.id, c.title, c.model, "
                                "c.created_at, c.updated_at, (SELECT "
                                "count(*) FROM chat_messages m WHERE "
                                "m.chat_id = c.id) FROM chats c WHERE "
                                "c.key_id = ? AND c.id = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, id);

    rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR;
    }

    chat = ngx_gp_store_chat_row(st);
    sqlite3_finalize(st);

    if (chat == NULL) {
        return NGX_ERROR;
    }

    if (ngx_gp_store_prepare(db, "SELECT id, role, content, reasoning, "
                             "attachments, created_at FROM chat_messages "
                             "WHERE chat_id = ? ORDER BY id", &st, log)
        != NGX_OK)
    {
        json_decref(chat);
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    msgs = ngx_gp_store_rows(st, ngx_gp_store_chat_message_row);

    if (msgs == NULL || json_object_set_new(chat, "messages", msgs) != 0) {
        json_decref(chat);
        return NGX_ERROR;
    }

    *out = chat;

    return NGX_OK;
}


/* the messages (checked by the caller) appended; in a transaction */

static ngx_int_t
ngx_gp_store_chat_insert(sqlite3 *db, int64_t id, json_t *messages,
    time_t now, ngx_log_t *log)
{
    char          *att;
    size_t         i;
    json_t        *m, *v;
    ngx_int_t      rc;
    const char    *first;
    sqlite3_stmt  *st;

    first = NULL;

    json_array_foreach(messages, i, m) {

        if (ngx_gp_store_prepare(db, "INSERT INTO chat_messages (chat_id, "
                                 "role, content, reasoning, attachments, "
                                 "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                 &st, log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        v = json_object_get(m, "attachments");
        att = (v && json_array_size(v)) ? json_dumps(v, JSON_COMPACT)
                                        : NULL;

        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(m,
                          "role")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(m,
                          "content")), -1, SQLITE_TRANSIENT);
        v = json_object_get(m, "reasoning");
        sqlite3_bind_text(st, 4, json_is_string(v) ? json_string_value(v)
                                                   : "", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, att ? att : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, now);

        rc = ngx_gp_store_run(st, NULL, log);

        free(att);

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        if (first == NULL
            && ngx_strcmp(json_string_value(json_object_get(m, "role")),
                          "user") == 0)
        {
            first = json_string_value(json_object_get(m, "content"));
        }
    }

    /* an untitled chat is named after its first question */

    if (ngx_gp_store_prepare(db, "UPDATE chats SET updated_at = ?1, "
                             "title = CASE WHEN title = '' AND ?2 IS NOT "
                             "NULL THEN trim(substr(replace(?2, char(10), "
                             "' '), 1, 60)) ELSE title END WHERE id = ?3",
                             &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, now);

    if (first) {
        sqlite3_bind_text(st, 2, first, -1, SQLITE_TRANSIENT);
    }

    sqlite3_bind_int64(st, 3, id);

    return ngx_gp_store_run(st, NULL, log);
}


ngx_int_t
ngx_gp_store_chat_add(int64_t owner, const char *title, const char *model,
    json_t *messages, int64_t *id, ngx_log_t *log)
{
    time_t         now;
    sqlite3       *db;
    sqlite3_stmt  *st;

    now = ngx_time();

    if (ngx_gp_store_begin(log) != NGX_OK) {
        return NGX_ERROR;
    }

    db = ngx_gp_store_db(log);

    if (ngx_gp_store_prepare(db, "INSERT INTO chats (key_id, title, model, "
                             "created_at, updated_at) VALUES (?, ?, ?, ?, "
                             "?)", &st, log)
        != NGX_OK)
    {
        goto failed;
    }

    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_text(st, 2, title ? title : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, model ? model : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, now);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        goto failed;
    }

    *id = sqlite3_last_insert_rowid(db);

    if (messages && json_array_size(messages)
        && ngx_gp_store_chat_insert(db, *id, messages, now, log) != NGX_OK)
    {
        goto failed;
    }

    return ngx_gp_store_commit(log);

failed:

    ngx_gp_store_rollback(log);

    return NGX_ERROR;
}


/* NGX_DECLINED: no such chat of this owner */

static ngx_int_t
ngx_gp_store_chat_owned(sqlite3 *db, int64_t owner, int64_t id,
    ngx_log_t *log)
{
    int            rc;
    sqlite3_stmt  *st;

    if (ngx_gp_store_prepare(db, "SELECT 1 FROM chats WHERE key_id = ? "
                             "AND id = ?", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, id);

    rc = sqlite3_step(st);
    sqlite3_finalize(st);

    return rc == SQLITE_ROW ? NGX_OK
                            : (rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR);
}


ngx_int_t
ngx_gp_store_chat_append(int64_t owner, int64_t id, json_t *messages,
    ngx_log_t *log)
{
    sqlite3    *db;
    ngx_int_t   rc;

    if (ngx_gp_store_begin(log) != NGX_OK) {
        return NGX_ERROR;
    }

    db = ngx_gp_store_db(log);

    rc = ngx_gp_store_chat_owned(db, owner, id, log);

    if (rc == NGX_OK) {
        rc = ngx_gp_store_chat_insert(db, id, messages, ngx_time(), log);
    }

    if (rc != NGX_OK) {
        ngx_gp_store_rollback(log);
        return rc;
    }

    return ngx_gp_store_commit(log);
}


/* title or model (either may be NULL); NGX_DECLINED: no such chat */

ngx_int_t
ngx_gp_store_chat_update(int64_t owner, int64_t id, const char *title,
    const char *model, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE chats SET title = "
                                "coalesce(?1, title), model = "
                                "coalesce(?2, model), updated_at = ?3 "
                                "WHERE key_id = ?4 AND id = ?5", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (title) {
        sqlite3_bind_text(st, 1, title, -1, SQLITE_TRANSIENT);
    }

    if (model) {
        sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
    }

    sqlite3_bind_int64(st, 3, ngx_time());
    sqlite3_bind_int64(st, 4, owner);
    sqlite3_bind_int64(st, 5, id);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return changes ? NGX_OK : NGX_DECLINED;
}


/* its messages go with it (ON DELETE CASCADE) */

ngx_int_t
ngx_gp_store_chat_delete(int64_t owner, int64_t id, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM chats WHERE key_id = ? "
                                "AND id = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, id);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return changes ? NGX_OK : NGX_DECLINED;
}


/*
 * The chat credential of an admin session (its first 32 bytes): the
 * session's row of api_keys gets the new hash and an expiry no later
 * than the session's (*expires, lowered to it); expired credentials of
 * any session are dropped.
 * NGX_DECLINED: the session is not live.
 */

ngx_int_t
ngx_gp_store_chat_token_put(const char *session, const char *hash,
    const char *prefix, time_t *expires, int64_t *id, ngx_log_t *log)
{
    int            rc;
    time_t         now, ends;
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    now = ngx_time();

    if (ngx_gp_store_begin(log) != NGX_OK) {
        return NGX_ERROR;
    }

    db = ngx_gp_store_db(log);

    if (ngx_gp_store_prepare(db, "DELETE FROM api_keys WHERE session <> '' "
                             "AND expires_at <= ?", &st, log)
        != NGX_OK)
    {
        goto failed;
    }

    sqlite3_bind_int64(st, 1, now);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK
        || ngx_gp_store_prepare(db, "SELECT expires_at FROM admin_sessions "
                                "WHERE id = ? AND revoked = 0 AND "
                                "expires_at > ?", &st, log)
           != NGX_OK)
    {
        goto failed;
    }

    sqlite3_bind_text(st, 1, session, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);

    rc = sqlite3_step(st);
    ends = (rc == SQLITE_ROW) ? (time_t) sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    if (rc != SQLITE_ROW) {
        ngx_gp_store_rollback(log);
        return rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR;
    }

    *expires = ngx_min(*expires, ends);

    if (ngx_gp_store_prepare(db, "UPDATE api_keys SET key_hash = ?, "
                             "prefix = ?, expires_at = ?, enabled = 1 "
                             "WHERE session = ?", &st, log)
        != NGX_OK)
    {
        goto failed;
    }

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, prefix, 10, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, *expires);
    sqlite3_bind_text(st, 4, session, 32, SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        goto failed;
    }

    if (changes == 0) {
        if (ngx_gp_store_prepare(db, "INSERT INTO api_keys (name, key_hash, "
                                 "prefix, expires_at, session) VALUES "
                                 "('console', ?, ?, ?, ?)", &st, log)
            != NGX_OK)
        {
            goto failed;
        }

        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, prefix, 10, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, *expires);
        sqlite3_bind_text(st, 4, session, 32, SQLITE_TRANSIENT);

        if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
            goto failed;
        }
    }

    if (ngx_gp_store_prepare(db, "SELECT id FROM api_keys WHERE session = ?",
                             &st, log)
        != NGX_OK)
    {
        goto failed;
    }

    sqlite3_bind_text(st, 1, session, 32, SQLITE_TRANSIENT);

    rc = sqlite3_step(st);
    *id = (rc == SQLITE_ROW) ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    if (rc != SQLITE_ROW) {
        goto failed;
    }

    return ngx_gp_store_commit(log);

failed:

    ngx_gp_store_rollback(log);

    return NGX_ERROR;
}


/* the session's credential dropped (logout); NGX_DECLINED: it had none */

ngx_int_t
ngx_gp_store_chat_token_drop(const char *session, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM api_keys WHERE session = ?",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, session, 32, SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return changes ? NGX_OK : NGX_DECLINED;
}
