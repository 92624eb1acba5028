
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's admin state: the console password's hash and the login
 * sessions.
 */


#include "ngx_http_gemini_pool_module.h"


/* 1: a session of this id, not revoked, not expired at now */

ngx_uint_t
ngx_gp_store_session_live(const char *id, time_t now, ngx_log_t *log)
{
    int            rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT 1 FROM admin_sessions WHERE "
                                "id = ? AND revoked = 0 AND expires_at > ?",
                                &st, log)
           != NGX_OK)
    {
        return 0;
    }

    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);

    return rc == SQLITE_ROW;
}


/* id: its first 32 bytes */

ngx_int_t
ngx_gp_store_session_add(const char *id, time_t expires, ngx_str_t *client,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO admin_sessions "
                                "(id, expires_at, client) VALUES (?, ?, ?)",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, expires);
    sqlite3_bind_text(st, 3, (char *) client->data, (int) client->len,
                      SQLITE_TRANSIENT);

    return ngx_gp_store_run(st, NULL, log);
}


/* id: its first 32 bytes; NULL: every session */

ngx_int_t
ngx_gp_store_session_revoke(const char *id, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, id ? "UPDATE admin_sessions SET "
                                         "revoked = 1 WHERE id = ?"
                                       : "UPDATE admin_sessions SET "
                                         "revoked = 1", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (id) {
        sqlite3_bind_text(st, 1, id, 32, SQLITE_TRANSIENT);
    }

    return ngx_gp_store_run(st, NULL, log);
}


/* *hash: a copy in pool, or NULL when no password is set */

ngx_int_t
ngx_gp_store_password_get(ngx_pool_t *pool, char **hash, ngx_log_t *log)
{
    size_t          len;
    sqlite3        *db;
    const u_char   *v;
    sqlite3_stmt   *st;

    *hash = NULL;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT value FROM admin "
                                "WHERE key = 'password_hash'", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sqlite3_step(st) == SQLITE_ROW
        && (v = sqlite3_column_text(st, 0)) != NULL)
    {
        len = ngx_strlen(v);

        *hash = ngx_pnalloc(pool, len + 1);
        if (*hash == NULL) {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        ngx_memcpy(*hash, v, len + 1);
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


/* a new password ends every session */

ngx_int_t
ngx_gp_store_password_set(const char *hash, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT OR REPLACE INTO admin "
                                "(key, value) VALUES ('password_hash', ?)",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_gp_store_session_revoke(NULL, log);
}
