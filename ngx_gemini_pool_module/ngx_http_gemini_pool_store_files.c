
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's files: the /v1/files bookkeeping of our uploads (the zone's
 * ring of them, for the chat path, is loaded by the store's zone load).
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_int_t
ngx_gp_store_files_each(sqlite3 *db, sqlite3_stmt *st,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    int                  rc;
    ngx_int_t            n;
    ngx_gp_store_file_t  f;

    /* SELECT id, filename, bytes, purpose, created_at */

    n = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        f.id = (const char *) sqlite3_column_text(st, 0);
        f.filename = (const char *) sqlite3_column_text(st, 1);
        f.bytes = sqlite3_column_int64(st, 2);
        f.purpose = (const char *) sqlite3_column_text(st, 3);
        f.created_at = sqlite3_column_int64(st, 4);

        if (f.id == NULL || f.filename == NULL || f.purpose == NULL) {
            continue;
        }

        if (each(data, &f) != NGX_OK) {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        n++;
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: reading files failed: %s",
                      sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    return n ? NGX_OK : NGX_DECLINED;
}


/* newest first; purpose "" for all */

ngx_int_t
ngx_gp_store_files_list(int64_t key_id, ngx_str_t *purpose,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    ngx_int_t      rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, filename, bytes, purpose, "
                                "created_at FROM files WHERE key_id = ?1 "
                                "AND (?2 = '' OR purpose = ?2) "
                                "ORDER BY created_at DESC, rowid DESC",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, key_id);
    sqlite3_bind_text(st, 2, (char *) purpose->data, (int) purpose->len,
                      SQLITE_STATIC);

    rc = ngx_gp_store_files_each(db, st, each, data, log);

    return rc == NGX_DECLINED ? NGX_OK : rc;
}


/* NGX_DECLINED: no such file of this key */

ngx_int_t
ngx_gp_store_file_get(int64_t key_id, ngx_str_t *id,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, filename, bytes, purpose, "
                                "created_at FROM files WHERE id = ?1 "
                                "AND key_id = ?2", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, (char *) id->data, (int) id->len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, key_id);

    return ngx_gp_store_files_each(db, st, each, data, log);
}


/* the mapping goes, from SQLite and the zone's ring */

ngx_int_t
ngx_gp_store_file_delete(int64_t key_id, ngx_str_t *id, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM files WHERE id = ?1 "
                                "AND key_id = ?2", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, (char *) id->data, (int) id->len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, key_id);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_gp_filemap_delete(ngx_gp_zone(), id->data, id->len, key_id);

    return NGX_OK;
}


/* an upload: its row, and its place in the zone's ring */

ngx_int_t
ngx_gp_store_file_add(const char *id, const char *upstream,
    int64_t account_id, const char *session, const char *filename,
    const char *mime, size_t bytes, const char *purpose, int64_t key_id,
    const char *sha256, time_t now, ngx_log_t *log)
{
    sqlite3                *db;
    sqlite3_stmt           *st;
    ngx_gp_filemap_entry_t  e;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO files (id, upstream_id, "
                                "account_id, session, filename, mime, "
                                "bytes, purpose, key_id, sha256, "
                                "created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                                "?6, ?7, ?8, ?9, ?10, ?11)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, upstream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, account_id);
    sqlite3_bind_text(st, 4, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, filename, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, mime, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64) bytes);
    sqlite3_bind_text(st, 8, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, key_id);
    sqlite3_bind_text(st, 10, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, (sqlite3_int64) now);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_gp_filemap_entry(&e, id, key_id, upstream, account_id, session)
        == NGX_OK)
    {
        ngx_gp_filemap_put(ngx_gp_zone(), &e);
    }

    return NGX_OK;
}
