
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
        ngx_log_error(ngx_gp_store_busy_level(db), log, 0,
                      "gemini pool: reading files failed: %s",
                      sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    return n ? NGX_OK : NGX_DECLINED;
}


/*
 * The /v1 path never waits for a lock another process holds: each call
 * below runs with NGX_GP_STORE_WAIT_NONE, and when SQLite is busy the
 * zone's ring answers (the newest NGX_GP_FILEMAP_SLOTS uploads) or keeps
 * the upload for the helper to write.
 */

static ngx_int_t
ngx_gp_store_files_ring(ngx_gp_filemap_entry_t *e, ngx_uint_t n,
    ngx_str_t *purpose, ngx_gp_store_file_pt each, void *data)
{
    ngx_uint_t           i;
    ngx_gp_store_file_t  f;

    for (i = 0; i < n; i++) {
        if (purpose && purpose->len
            && (ngx_strlen(e[i].purpose) != purpose->len
                || ngx_strncmp(e[i].purpose, purpose->data, purpose->len)
                   != 0))
        {
            continue;
        }

        f.id = (const char *) e[i].id;
        f.filename = (const char *) e[i].filename;
        f.purpose = (const char *) e[i].purpose;
        f.bytes = e[i].bytes;
        f.created_at = e[i].created_at;

        if (each(data, &f) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the key's uploads in the ring (only the pending ones), newest first */

static ngx_gp_filemap_entry_t *
ngx_gp_store_files_zone(int64_t key_id, ngx_uint_t pending, ngx_uint_t *n,
    ngx_log_t *log)
{
    ngx_gp_zone_t           *z;
    ngx_gp_filemap_entry_t  *e;

    z = ngx_gp_zone();
    *n = z ? ngx_gp_filemap_list(z, key_id, pending, NULL, 0) : 0;

    if (*n == 0) {
        return NULL;
    }

    e = ngx_alloc(*n * sizeof(ngx_gp_filemap_entry_t), log);
    if (e == NULL) {
        *n = 0;
        return NULL;
    }

    *n = ngx_gp_filemap_list(z, key_id, pending, e, *n);

    return e;
}


typedef struct {
    ngx_gp_filemap_entry_t  *pending;
    ngx_uint_t               npending;
    ngx_gp_store_file_pt     each;
    void                    *data;
} ngx_gp_store_files_merge_t;


/* a row of SQLite that is not one of the pending uploads already sent */

static ngx_int_t
ngx_gp_store_files_merge(void *data, ngx_gp_store_file_t *f)
{
    ngx_uint_t                   i;
    ngx_gp_store_files_merge_t  *m = data;

    for (i = 0; i < m->npending; i++) {
        if (ngx_strcmp(m->pending[i].id, f->id) == 0) {
            return NGX_OK;
        }
    }

    return m->each(m->data, f);
}


/* newest first; purpose "" for all */

ngx_int_t
ngx_gp_store_files_list(int64_t key_id, ngx_str_t *purpose,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    ngx_int_t                    rc;
    ngx_msec_t                   wait;
    sqlite3                     *db;
    sqlite3_stmt                *st;
    ngx_gp_store_files_merge_t   m;

    /* uploads made while the database was locked come first */

    m.pending = ngx_gp_store_files_zone(key_id, 1, &m.npending, log);
    m.each = each;
    m.data = data;

    wait = ngx_gp_store_wait(NGX_GP_STORE_WAIT_NONE);
    (void) ngx_gp_store_busy(1);

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, filename, bytes, purpose, "
                                "created_at FROM files WHERE key_id = ?1 "
                                "AND (?2 = '' OR purpose = ?2) "
                                "ORDER BY created_at DESC, rowid DESC",
                                &st, log)
           != NGX_OK)
    {
        rc = NGX_ERROR;

    } else {
        sqlite3_bind_int64(st, 1, key_id);
        sqlite3_bind_text(st, 2, (char *) purpose->data, (int) purpose->len,
                          SQLITE_STATIC);

        rc = ngx_gp_store_files_ring(m.pending, m.npending, purpose, each,
                                     data);

        if (rc == NGX_OK) {
            rc = ngx_gp_store_files_each(db, st, ngx_gp_store_files_merge,
                                         &m, log);
        } else {
            sqlite3_finalize(st);
        }
    }

    (void) ngx_gp_store_wait(wait);

    if (m.pending) {
        ngx_free(m.pending);
    }

    if (rc == NGX_ERROR && ngx_gp_store_busy(1)) {

        /*
         * locked: the ring's uploads of the key; what was sent before
         * the lock was met is sent again, so it starts over
         */

        return NGX_BUSY;
    }

    return rc == NGX_DECLINED ? NGX_OK : rc;
}


/* the list from the zone's ring alone (the database is locked) */

ngx_int_t
ngx_gp_store_files_list_zone(int64_t key_id, ngx_str_t *purpose,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    ngx_int_t                rc;
    ngx_uint_t               n;
    ngx_gp_filemap_entry_t  *e;

    e = ngx_gp_store_files_zone(key_id, 0, &n, log);

    rc = ngx_gp_store_files_ring(e, n, purpose, each, data);

    if (e) {
        ngx_free(e);
    }

    return rc;
}


/*
 * NGX_DECLINED: no such file of this key; NGX_BUSY: locked (and, with
 * zone set, not in the zone's ring either)
 */

ngx_int_t
ngx_gp_store_file_get(int64_t key_id, ngx_str_t *id, ngx_uint_t zone,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log)
{
    ngx_int_t                rc;
    ngx_msec_t               wait;
    ngx_uint_t               busy;
    sqlite3                 *db;
    sqlite3_stmt            *st;
    ngx_gp_zone_t           *z;
    ngx_gp_filemap_entry_t   e;
    u_char                   name[NGX_GP_FILEMAP_ID_LEN];

    wait = ngx_gp_store_wait(NGX_GP_STORE_WAIT_NONE);
    (void) ngx_gp_store_busy(1);

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, filename, bytes, purpose, "
                                "created_at FROM files WHERE id = ?1 "
                                "AND key_id = ?2", &st, log)
           != NGX_OK)
    {
        rc = NGX_ERROR;

    } else {
        sqlite3_bind_text(st, 1, (char *) id->data, (int) id->len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, key_id);

        rc = ngx_gp_store_files_each(db, st, each, data, log);
    }

    (void) ngx_gp_store_wait(wait);

    busy = (rc == NGX_ERROR && ngx_gp_store_busy(1));

    if (rc != NGX_DECLINED && !busy) {
        return rc;
    }

    if (busy && !zone) {
        return NGX_BUSY;
    }

    /* not in SQLite (yet), or SQLite is locked: the zone's ring */

    z = ngx_gp_zone();

    if (z == NULL || id->len >= NGX_GP_FILEMAP_ID_LEN) {
        return busy ? NGX_BUSY : rc;
    }

    ngx_memcpy(name, id->data, id->len);
    name[id->len] = '\0';

    if (ngx_gp_filemap_get(z, (char *) name, key_id, &e) != NGX_OK
        || !(busy || e.pending))
    {
        return busy ? NGX_BUSY : rc;
    }

    return ngx_gp_store_files_ring(&e, 1, NULL, each, data);
}


/*
 * The mapping goes, from SQLite and the zone's ring; NGX_BUSY: SQLite is
 * locked, nothing changed.  A pending upload the helper writes meanwhile
 * is deleted by the helper (ngx_gp_store_files_flush()).
 */

ngx_int_t
ngx_gp_store_file_delete(int64_t key_id, ngx_str_t *id, ngx_log_t *log)
{
    ngx_int_t       rc;
    ngx_msec_t      wait;
    sqlite3        *db;
    sqlite3_stmt   *st;

    wait = ngx_gp_store_wait(NGX_GP_STORE_WAIT_NONE);
    (void) ngx_gp_store_busy(1);

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM files WHERE id = ?1 "
                                "AND key_id = ?2", &st, log)
           != NGX_OK)
    {
        rc = NGX_ERROR;

    } else {
        sqlite3_bind_text(st, 1, (char *) id->data, (int) id->len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, key_id);

        rc = ngx_gp_store_run(st, NULL, log);
    }

    (void) ngx_gp_store_wait(wait);

    if (rc != NGX_OK) {
        return ngx_gp_store_busy(1) ? NGX_BUSY : NGX_ERROR;
    }

    (void) ngx_gp_filemap_delete(ngx_gp_zone(), id->data, id->len, key_id);

    return NGX_OK;
}


/*
 * An upload: its row, and its place in the zone's ring; when SQLite is
 * locked, only the ring, pending, and the helper writes the row later.
 */

ngx_int_t
ngx_gp_store_file_add(const char *id, const char *upstream,
    int64_t account_id, const char *session, const char *filename,
    const char *mime, size_t bytes, const char *purpose, int64_t key_id,
    const char *sha256, time_t now, ngx_log_t *log)
{
    ngx_int_t               rc, fits;
    ngx_msec_t              wait;
    sqlite3                *db;
    sqlite3_stmt           *st;
    ngx_gp_filemap_entry_t  e;

    fits = (ngx_gp_filemap_entry(&e, id, key_id, upstream, account_id,
                                 session) == NGX_OK
            && ngx_gp_filemap_meta(&e, filename, purpose, (int64_t) bytes,
                                   (int64_t) now, mime, sha256) == NGX_OK);

    wait = ngx_gp_store_wait(NGX_GP_STORE_WAIT_NONE);
    (void) ngx_gp_store_busy(1);

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO files (id, upstream_id, "
                                "account_id, session, filename, mime, "
                                "bytes, purpose, key_id, sha256, "
                                "created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                                "?6, ?7, ?8, ?9, ?10, ?11)", &st, log)
           != NGX_OK)
    {
        rc = NGX_ERROR;

    } else {
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

        rc = ngx_gp_store_run(st, NULL, log);
    }

    (void) ngx_gp_store_wait(wait);

    if (rc != NGX_OK) {
        if (!fits || !ngx_gp_store_busy(1) || ngx_gp_zone() == NULL) {
            return NGX_ERROR;
        }

        e.pending = 1;

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "gemini pool: the database is locked by another "
                      "process: the helper will store the file %s", id);
    }

    if (fits && ngx_gp_filemap_put(ngx_gp_zone(), &e) != NGX_OK
        && e.pending)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: the zone has no room to keep the file "
                      "%s; raise gemini_pool_zone", id);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The helper's tick: the uploads kept pending in the ring while the
 * database was locked get their rows.  One that was deleted meanwhile
 * (no longer in the ring) is deleted again inside the transaction, so a
 * DELETE /v1/files that raced the write does not leave a row behind.
 */

ngx_int_t
ngx_gp_store_files_flush(ngx_cycle_t *cycle, ngx_gp_zone_t *z)
{
    int                      rc;
    ngx_uint_t               i, n;
    sqlite3                 *db;
    sqlite3_stmt            *st, *dt;
    ngx_gp_filemap_entry_t  *e;

    e = ngx_gp_store_files_zone(-1, 1, &n, cycle->log);

    if (e == NULL) {
        return NGX_OK;
    }

    db = ngx_gp_store_db(cycle->log);

    if (db == NULL) {
        ngx_free(e);
        return NGX_ERROR;
    }

    st = NULL;
    dt = NULL;
    rc = SQLITE_OK;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO files (id, "
                              "upstream_id, account_id, session, filename, "
                              "mime, bytes, purpose, key_id, sha256, "
                              "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                              "?7, ?8, ?9, ?10, ?11)", -1, &st, NULL)
           != SQLITE_OK
        || sqlite3_prepare_v2(db, "DELETE FROM files WHERE id = ?1 AND "
                              "key_id = ?2", -1, &dt, NULL) != SQLITE_OK)
    {
        rc = SQLITE_ERROR;
    }

    for (i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, (char *) e[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, (char *) e[i].upstream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, e[i].account_id);
        sqlite3_bind_text(st, 4, (char *) e[i].session, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, (char *) e[i].filename, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, (char *) e[i].mime, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, e[i].bytes);
        sqlite3_bind_text(st, 8, (char *) e[i].purpose, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, e[i].key_id);
        sqlite3_bind_text(st, 10, (char *) e[i].sha256, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, e[i].created_at);

        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
        }

        sqlite3_reset(st);
    }

    /* under the write lock: a DELETE of the file now waits for us */

    for (i = 0; rc == SQLITE_OK && i < n; i++) {
        if (ngx_gp_filemap_has(z, &e[i])) {
            continue;
        }

        sqlite3_bind_text(dt, 1, (char *) e[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(dt, 2, e[i].key_id);

        if (sqlite3_step(dt) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
        }

        sqlite3_reset(dt);
    }

    sqlite3_finalize(st);
    sqlite3_finalize(dt);

    if (rc == SQLITE_OK
        && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    {
        for (i = 0; i < n; i++) {
            ngx_gp_filemap_saved(z, &e[i]);
        }

        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "gemini pool: %ui file(s) uploaded while the database "
                      "was locked are stored", n);

        ngx_free(e);
        return NGX_OK;
    }

    (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    ngx_free(e);

    if (ngx_gp_store_busy(1)) {
        return NGX_AGAIN;
    }

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "gemini pool: storing pending files failed: %s",
                  sqlite3_errmsg(db));

    return NGX_ERROR;
}
