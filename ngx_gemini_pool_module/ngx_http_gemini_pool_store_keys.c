
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's API keys: their rows (only the key's SHA-256 is stored),
 * and what the call log says about one key.
 */


#include "ngx_http_gemini_pool_module.h"


static json_t *
ngx_gp_store_key_row(sqlite3_stmt *st)
{
    int64_t         id;
    uint64_t        requests;
    ngx_uint_t      k;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    id = sqlite3_column_int64(st, 0);
    requests = (uint64_t) sqlite3_column_int64(st, 9);

    /* the zone's counters are ahead of the database's */
    ngx_shmtx_lock(&z->shpool->mutex);

    for (k = 0; k < z->sh->nkeys; k++) {
        if (z->sh->keys[k].id == id) {
            requests = ngx_max(requests, z->sh->keys[k].requests);
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return json_pack("{s:I,s:s,s:s,s:b,s:I,s:s,s:I,s:I,s:s,s:I,s:I,s:I}",
                     "id", (json_int_t) id,
                     "name", (char *) sqlite3_column_text(st, 1),
                     "prefix", (char *) sqlite3_column_text(st, 2),
                     "enabled", sqlite3_column_int(st, 3),
                     "expires_at", (json_int_t) sqlite3_column_int64(st, 4),
                     "models", (char *) sqlite3_column_text(st, 5),
                     "rpm", (json_int_t) sqlite3_column_int64(st, 6),
                     "rpd", (json_int_t) sqlite3_column_int64(st, 7),
                     "image_format", (char *) sqlite3_column_text(st, 8),
                     "requests", (json_int_t) requests,
                     "last_used_at",
                     (json_int_t) sqlite3_column_int64(st, 10),
                     "created_at",
                     (json_int_t) sqlite3_column_int64(st, 11));
}


json_t *
ngx_gp_store_keys_list(ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, name, prefix, enabled, "
                                "expires_at, models, rpm, rpd, "
                                "image_format, requests, last_used_at, "
                                "created_at FROM api_keys ORDER BY id",
                                &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    return ngx_gp_store_rows(st, ngx_gp_store_key_row);
}


ngx_int_t
ngx_gp_store_key_add(ngx_gp_store_key_t *k, int64_t *id, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO api_keys (name, key_hash, "
                                "prefix, expires_at, models, rpm, rpd, "
                                "image_format) VALUES (?, ?, ?, ?, ?, ?, ?, "
                                "?)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, k->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, k->prefix, 10, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, k->expires);
    sqlite3_bind_text(st, 5, k->models, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, k->rpm);
    sqlite3_bind_int64(st, 7, k->rpd);
    sqlite3_bind_text(st, 8, k->image_format, -1, SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    *id = sqlite3_last_insert_rowid(db);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_store_key_by_id(const char *sql, int64_t id, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL || ngx_gp_store_prepare(db, sql, &st, log) != NGX_OK) {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return changes ? NGX_OK : NGX_DECLINED;
}


/* NGX_DECLINED: no such key */

ngx_int_t
ngx_gp_store_key_revoke(int64_t id, ngx_log_t *log)
{
    return ngx_gp_store_key_by_id("UPDATE api_keys SET enabled = 0 "
                                  "WHERE id = ?", id, log);
}


ngx_int_t
ngx_gp_store_key_delete(int64_t id, ngx_log_t *log)
{
    return ngx_gp_store_key_by_id("DELETE FROM api_keys WHERE id = ?", id,
                                  log);
}


/* from the call log: calls, errors, prompt and completion tokens */

ngx_int_t
ngx_gp_store_key_log_stats(int64_t id, int64_t *out, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    out[0] = out[1] = out[2] = out[3] = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT count(*), "
                                "ifnull(sum(status >= 400), 0), "
                                "ifnull(sum(prompt_tokens), 0), "
                                "ifnull(sum(completion_tokens), 0) "
                                "FROM call_logs WHERE key_id = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    if (sqlite3_step(st) == SQLITE_ROW) {
        out[0] = sqlite3_column_int64(st, 0);
        out[1] = sqlite3_column_int64(st, 1);
        out[2] = sqlite3_column_int64(st, 2);
        out[3] = sqlite3_column_int64(st, 3);
    }

    sqlite3_finalize(st);

    return NGX_OK;
}
