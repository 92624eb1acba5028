
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's record of re-login attempts: the helper adds one row per
 * attempt (and keeps the newest NGX_GP_RELOGIN_HISTORY), the admin API
 * reads them.
 */


#include "ngx_http_gemini_pool_module.h"


ngx_int_t
ngx_gp_store_relogin_add(ngx_gp_store_relogin_t *h, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO relogin_history "
                                "(account_id, account, started, finished, "
                                "status, reason, step, manual) VALUES "
                                "(?, ?, ?, ?, ?, ?, ?, ?)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, h->account_id);
    sqlite3_bind_text(st, 2, h->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64) h->started);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) h->finished);
    sqlite3_bind_text(st, 5, h->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, h->reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, h->step, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 8, h->manual ? 1 : 0);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the newest rows only */

    if (ngx_gp_store_prepare(db, "DELETE FROM relogin_history WHERE id <= "
                             "(SELECT max(id) FROM relogin_history) - ?",
                             &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int(st, 1, NGX_GP_RELOGIN_HISTORY);

    return ngx_gp_store_run(st, NULL, log);
}


static json_t *
ngx_gp_store_relogin_row(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:I,s:s,s:I,s:I,s:s,s:s,s:s,s:b}",
                     "id", (json_int_t) sqlite3_column_int64(st, 0),
                     "account_id", (json_int_t) sqlite3_column_int64(st, 1),
                     "account", (char *) sqlite3_column_text(st, 2),
                     "started", (json_int_t) sqlite3_column_int64(st, 3),
                     "finished", (json_int_t) sqlite3_column_int64(st, 4),
                     "status", (char *) sqlite3_column_text(st, 5),
                     "reason", (char *) sqlite3_column_text(st, 6),
                     "step", (char *) sqlite3_column_text(st, 7),
                     "manual", sqlite3_column_int(st, 8));
}


/* the newest first; account 0: every account */

json_t *
ngx_gp_store_relogin_list(int64_t account, int64_t limit, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, account_id, account, "
                                "started, finished, status, reason, step, "
                                "manual FROM relogin_history "
                                "WHERE (?1 = 0 OR account_id = ?1) "
                                "ORDER BY id DESC LIMIT ?2", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_int64(st, 2, limit);

    return ngx_gp_store_rows(st, ngx_gp_store_relogin_row);
}
