
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's models: the OpenAI model names the pool serves, their
 * upstream ids, kinds and pinned accounts.
 */


#include "ngx_http_gemini_pool_module.h"


/* "a,b*" as ["a","b*"] */

static json_t *
ngx_gp_store_model_aliases(const char *s)
{
    json_t      *list;
    const char  *p, *q;

    list = json_array();

    for (p = s ? s : ""; list && *p; p = *q ? q + 1 : q) {
        q = strchr(p, ',');
        if (q == NULL) {
            q = p + strlen(p);
        }

        if (q > p
            && json_array_append_new(list, json_stringn(p, q - p)) != 0)
        {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


static json_t *
ngx_gp_store_model_row(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:b,s:i,s:s,s:o}",
                     "name", (char *) sqlite3_column_text(st, 0),
                     "model_id", (char *) sqlite3_column_text(st, 1),
                     "kind", (char *) sqlite3_column_text(st, 2),
                     "account_id",
                     sqlite3_column_type(st, 3) == SQLITE_NULL
                     ? json_null()
                     : json_integer(sqlite3_column_int64(st, 3)),
                     "enabled", sqlite3_column_int(st, 4),
                     "position", sqlite3_column_int(st, 5),
                     "description", (char *) sqlite3_column_text(st, 6),
                     "aliases", ngx_gp_store_model_aliases(
                                    (char *) sqlite3_column_text(st, 7)));
}


json_t *
ngx_gp_store_models_list(ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT name, model_id, kind, "
                                "account_id, enabled, position, "
                                "description, aliases FROM models "
                                "ORDER BY position, name", &st, log)
           != NGX_OK)
    {
        return NULL;
    }

    return ngx_gp_store_rows(st, ngx_gp_store_model_row);
}


/* created, or the given fields (NULL, -1: not given) of m->name updated */

ngx_int_t
ngx_gp_store_model_put(ngx_gp_store_model_t *m, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db,
        "INSERT INTO models (name, model_id, kind, account_id, enabled, "
        "position, description, aliases) VALUES (?1, ifnull(?2, ''), "
        "ifnull(?3, 'text'), ?4, ifnull(?5, 1), ifnull(?6, 0), "
        "ifnull(?7, ''), ifnull(?9, '')) ON CONFLICT (name) DO UPDATE SET "
        "model_id = ifnull(?2, model_id), kind = ifnull(?3, kind), "
        "account_id = CASE WHEN ?8 THEN ?4 ELSE account_id END, "
        "enabled = ifnull(?5, enabled), position = ifnull(?6, position), "
        "description = ifnull(?7, description), "
        "aliases = ifnull(?9, aliases)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_TRANSIENT);

    if (m->model_id) {
        sqlite3_bind_text(st, 2, m->model_id, -1, SQLITE_TRANSIENT);
    }

    if (m->kind) {
        sqlite3_bind_text(st, 3, m->kind, -1, SQLITE_TRANSIENT);
    }

    if (m->account > 0) {
        sqlite3_bind_int64(st, 4, m->account);
    }

    if (m->enabled >= 0) {
        sqlite3_bind_int(st, 5, m->enabled ? 1 : 0);
    }

    if (m->has_position) {
        sqlite3_bind_int64(st, 6, m->position);
    }

    if (m->description) {
        sqlite3_bind_text(st, 7, m->description, -1, SQLITE_TRANSIENT);
    }

    sqlite3_bind_int(st, 8, (int) m->has_account);

    if (m->aliases) {
        sqlite3_bind_text(st, 9, m->aliases, -1, SQLITE_TRANSIENT);
    }

    return ngx_gp_store_run(st, NULL, log);
}


/* NGX_DECLINED: no such model */

ngx_int_t
ngx_gp_store_model_delete(ngx_str_t *name, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM models WHERE name = ?", &st,
                                log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, (char *) name->data, (int) name->len,
                      SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return changes ? NGX_OK : NGX_DECLINED;
}
