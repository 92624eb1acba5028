
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The reference's geminibusiness.db as an import reads it: the uploaded
 * file opened read-only (its schema trusted for nothing) beside our
 * database, its tables checked and read into the shape of the
 * reference's JSON file.  Errors name what is wrong in ref->err and
 * return NGX_DECLINED.
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_int_t ngx_gp_ref_fail(ngx_gp_store_ref_t *imp,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


static ngx_int_t
ngx_gp_ref_fail(ngx_gp_store_ref_t *imp, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(imp->err, imp->errlen, fmt, args);
    va_end(args);

    return NGX_DECLINED;
}


/*
 * The reference's geminibusiness.db, read-only, into the shape of its
 * JSON file (plus "api_keys"): the same import path serves both.
 */

typedef struct {
    const char   *table;
    const char   *columns[12];        /* required */
    ngx_uint_t    required;
} ngx_gp_ref_table_t;


static ngx_gp_ref_table_t  ngx_gp_ref_tables[] = {
    { "accounts", { "id", "team_id", "secure_c_ses", "host_c_oses",
                    "csesidx", "user_agent", "available", NULL }, 1 },
    { "models", { "id", "model_id", "name", "description", "api_model_id",
                  "enabled", "account_index", NULL }, 0 },
    { "system_config", { "key", "value", "value_type", NULL }, 0 },
    { "api_keys", { "id", "key_hash", "name", "is_active", "expires_at",
                    "usage_count", "last_used_at", "created_at", NULL }, 0 },
    { NULL, { NULL }, 0 }
};


static json_t *
ngx_gp_ref_value(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {

    case SQLITE_NULL:
        return json_null();

    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, col));

    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));

    default:
        return json_stringn((const char *) sqlite3_column_text(st, col),
                            (size_t) sqlite3_column_bytes(st, col));
    }
}


/* every row of a query as objects named by its columns */

static ngx_int_t
ngx_gp_ref_rows(ngx_gp_store_ref_t *imp, sqlite3 *ref, const char *sql,
    const char *table, json_t *out)
{
    int            i, rc;
    json_t        *o, *v;
    sqlite3_stmt  *st;

    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) != SQLITE_OK) {
        return ngx_gp_ref_fail(imp, "table %s: %s", table,
                               sqlite3_errmsg(ref));
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        o = json_object();

        if (o == NULL || json_array_append_new(out, o) != 0) {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        for (i = 0; i < sqlite3_column_count(st); i++) {
            v = ngx_gp_ref_value(st, i);

            if (v == NULL
                || json_object_set_new(o, sqlite3_column_name(st, i), v)
                   != 0)
            {
                sqlite3_finalize(st);
                return ngx_gp_ref_fail(imp, "table %s: a value is not "
                                       "valid UTF-8", table);
            }
        }
    }

    if (rc != SQLITE_DONE) {
        (void) ngx_gp_ref_fail(imp, "table %s: %s", table,
                               sqlite3_errmsg(ref));
        sqlite3_finalize(st);
        return NGX_DECLINED;
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_ref_check_table(ngx_gp_store_ref_t *imp, sqlite3 *ref,
    ngx_gp_ref_table_t *t, ngx_uint_t *has_worker)
{
    int            rc;
    char           sql[96];
    ngx_uint_t     i, found, any;
    const char    *name;
    sqlite3_stmt  *st;

    (void) snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", t->table);

    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) != SQLITE_OK) {
        return ngx_gp_ref_fail(imp, "the database cannot be read: %s",
                               sqlite3_errmsg(ref));
    }

    for (i = 0; t->columns[i]; i++) {
        sqlite3_reset(st);
        found = 0;
        any = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            any = 1;
            name = (const char *) sqlite3_column_text(st, 1);

            if (name && ngx_strcmp(name, t->columns[i]) == 0) {
                found = 1;
            }

            if (has_worker && name
                && ngx_strcmp(name, "tempmail_worker_url") == 0)
            {
                *has_worker = 1;
            }
        }

        if (rc != SQLITE_DONE) {
            (void) ngx_gp_ref_fail(imp, "the database cannot be read: %s",
                                   sqlite3_errmsg(ref));
            sqlite3_finalize(st);
            return NGX_DECLINED;
        }

        if (!any) {
            sqlite3_finalize(st);

            if (t->required) {
                return ngx_gp_ref_fail(imp, "the database has no table "
                                       "\"%s\": not a reference "
                                       "geminibusiness.db", t->table);
            }

            return NGX_DONE;
        }

        if (!found) {
            sqlite3_finalize(st);
            return ngx_gp_ref_fail(imp, "table %s: column \"%s\" missing: "
                                   "not a reference geminibusiness.db",
                                   t->table, t->columns[i]);
        }
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_ref_db_read(ngx_gp_store_ref_t *imp, sqlite3 *ref, json_t *doc)
{
    int                   rc;
    json_t               *list, *v, *row;
    size_t                i;
    ngx_int_t             ok;
    ngx_uint_t            worker;
    const char           *key, *value, *type;
    sqlite3_stmt         *st;
    ngx_gp_ref_table_t   *t;
    json_error_t          jerr;

    static const char    *queries[] = {
        "SELECT team_id, secure_c_ses, host_c_oses, csesidx, user_agent, "
        "available, tempmail_url, tempmail_name%s FROM accounts ORDER BY id",
        "SELECT model_id AS id, name, description, api_model_id, enabled, "
        "account_index FROM models ORDER BY models.id",
        "SELECT key, value, value_type FROM system_config ORDER BY id",
        "SELECT key_hash, name, is_active, expires_at, usage_count, "
        "last_used_at, created_at FROM api_keys ORDER BY id",
    };

    /* the quick check reads every page: a truncated file fails here */

    if (sqlite3_prepare_v2(ref, "PRAGMA quick_check(1)", -1, &st, NULL)
        != SQLITE_OK)
    {
        return ngx_gp_ref_fail(imp, "the body is not a usable SQLite "
                               "database: %s", sqlite3_errmsg(ref));
    }

    rc = sqlite3_step(st);
    value = (const char *) sqlite3_column_text(st, 0);

    if (rc != SQLITE_ROW || value == NULL || ngx_strcmp(value, "ok") != 0) {
        (void) ngx_gp_ref_fail(imp, "the SQLite database is damaged or "
                               "truncated: %s",
                               rc == SQLITE_ROW && value
                               ? value : sqlite3_errmsg(ref));
        sqlite3_finalize(st);
        return NGX_DECLINED;
    }

    sqlite3_finalize(st);

    for (i = 0, t = ngx_gp_ref_tables; t->table; t++, i++) {
        worker = 0;

        ok = ngx_gp_ref_check_table(imp, ref, t, i == 0 ? &worker : NULL);

        if (ok == NGX_DONE) {
            if (ngx_gp_json_note(imp->skipped, "table %s: not in the "
                                "database", t->table) != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (ok != NGX_OK) {
            return ok;
        }

        list = json_array();

        if (list == NULL || json_object_set_new(doc, i == 2 ? "_config"
                                                : t->table, list) != 0)
        {
            return NGX_ERROR;
        }

        if (i == 0) {
            char  sql[256];

            (void) snprintf(sql, sizeof(sql), queries[0],
                            worker ? ", tempmail_worker_url" : "");

            ok = ngx_gp_ref_rows(imp, ref, sql, t->table, list);

        } else {
            ok = ngx_gp_ref_rows(imp, ref, queries[i], t->table, list);
        }

        if (ok != NGX_OK) {
            return ok;
        }
    }

    /* system_config rows become top-level keys, typed as it types them */

    list = json_object_get(doc, "_config");

    for (i = 0; list && i < json_array_size(list); i++) {
        row = json_array_get(list, i);
        key = json_string_value(json_object_get(row, "key"));
        value = json_string_value(json_object_get(row, "value"));
        type = json_string_value(json_object_get(row, "value_type"));

        if (key == NULL || ngx_strcmp(key, "accounts") == 0
            || ngx_strcmp(key, "models") == 0
            || ngx_strcmp(key, "api_keys") == 0
            || ngx_strcmp(key, "_config") == 0)
        {
            continue;
        }

        if (value == NULL) {
            v = json_null();

        } else if (type && ngx_strcmp(type, "bool") == 0) {
            v = json_boolean(ngx_strcasecmp((u_char *) value,
                                            (u_char *) "true") == 0);

        } else if (type && ngx_strcmp(type, "int") == 0
                   && ngx_atoi((u_char *) value, ngx_strlen(value))
                      != NGX_ERROR)
        {
            v = json_integer(ngx_atoi((u_char *) value, ngx_strlen(value)));

        } else if (type && ngx_strcmp(type, "json") == 0) {
            v = json_loads(value, JSON_DECODE_ANY, &jerr);

            if (v == NULL) {
                v = json_string(value);
            }

        } else {
            v = json_string(value);
        }

        if (v == NULL || json_object_set_new(doc, key, v) != 0) {
            return ngx_gp_ref_fail(imp, "system_config \"%.60s\": a value "
                                   "is not valid UTF-8", key);
        }
    }

    (void) json_object_del(doc, "_config");

    return NGX_OK;
}


ngx_int_t
ngx_gp_store_ref_read(ngx_gp_store_ref_t *imp, ngx_str_t *body, json_t *doc)
{
    int                                fd;
    u_char                            *p;
    sqlite3                           *ref;
    ngx_int_t                          rc;
    ngx_str_t                          path;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (body->len < 100
        || ngx_memcmp(body->data, NGX_GP_SQLITE_MAGIC,
                      sizeof(NGX_GP_SQLITE_MAGIC)) != 0)
    {
        return ngx_gp_ref_fail(imp, "the body is not an SQLite database "
                               "(no \"SQLite format 3\" header)");
    }

    /* a private file beside the database: the worker can write there */

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    path.len = gmcf->database.len + sizeof(".import-XXXXXX");
    path.data = ngx_alloc(path.len, imp->log);
    if (path.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path.data, gmcf->database.data, gmcf->database.len);
    (void) ngx_cpystrn(p, (u_char *) ".import-XXXXXX",
                       sizeof(".import-XXXXXX"));

    fd = mkstemp((char *) path.data);
    if (fd == -1) {
        ngx_log_error(NGX_LOG_ERR, imp->log, ngx_errno,
                      "gemini pool: import: mkstemp(\"%s\") failed",
                      path.data);
        ngx_free(path.data);
        (void) snprintf(imp->err, imp->errlen, "cannot create a temporary "
                        "file beside the database");
        return NGX_ERROR;
    }

    if (ngx_write_fd(fd, body->data, body->len) != (ssize_t) body->len) {
        ngx_log_error(NGX_LOG_ERR, imp->log, ngx_errno,
                      "gemini pool: import: writing \"%s\" failed",
                      path.data);
        (void) ngx_close_file(fd);
        (void) unlink((char *) path.data);
        ngx_free(path.data);
        (void) snprintf(imp->err, imp->errlen, "cannot write a temporary "
                        "file beside the database");
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    ref = NULL;

    if (sqlite3_open_v2((char *) path.data, &ref, SQLITE_OPEN_READONLY
                        | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK)
    {
        rc = ngx_gp_ref_fail(imp, "the body is not a usable SQLite "
                             "database: %s",
                             ref ? sqlite3_errmsg(ref) : "cannot open");

    } else {

        /* an uploaded file: its schema may not run anything */
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
        (void) sqlite3_db_config(ref, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
                                 NULL);
#endif
#ifdef SQLITE_DBCONFIG_DEFENSIVE
        (void) sqlite3_db_config(ref, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#endif

        rc = ngx_gp_ref_db_read(imp, ref, doc);
    }

    sqlite3_close(ref);

    if (unlink((char *) path.data) == -1) {
        ngx_log_error(NGX_LOG_ERR, imp->log, ngx_errno,
                      "gemini pool: import: unlink(\"%s\") failed",
                      path.data);
    }

    ngx_free(path.data);

    return rc;
}
