
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's side of the shared configuration (docs/cluster.md): the
 * change feed that the triggers of migration 14 fill (config_changes),
 * one record read as it is stored (secrets sealed), the account's uid,
 * and the cluster's bookkeeping (config_meta).  The records themselves
 * are written by the store functions the admin API and the import use.
 */


#include "ngx_http_gemini_pool_module.h"


static const char *
ngx_gp_store_cl_text(sqlite3_stmt *st, int col)
{
    const char  *p;

    p = (const char *) sqlite3_column_text(st, col);

    return p ? p : "";
}


/* a value of config_meta; "" when there is none */

ngx_int_t
ngx_gp_store_cluster_meta(const char *key, char *buf, size_t size,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    buf[0] = '\0';

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT value FROM config_meta "
                                "WHERE key = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);

    if (sqlite3_step(st) == SQLITE_ROW) {
        (void) ngx_cpystrn((u_char *) buf,
                           (u_char *) ngx_gp_store_cl_text(st, 0), size);
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


ngx_int_t
ngx_gp_store_cluster_meta_set(const char *key, const char *value,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO config_meta (key, value) "
                                "VALUES (?1, ?2) ON CONFLICT (key) DO "
                                "UPDATE SET value = excluded.value", &st,
                                log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);

    return ngx_gp_store_run(st, NULL, log);
}


/* a stored secret as the record carries it: sealed (sealed now if not) */

static ngx_int_t
ngx_gp_store_cl_sealed(json_t *o, const char *name, const char *aad,
    sqlite3_stmt *st, int col)
{
    char        *enc;
    size_t       len;
    ngx_int_t    rc;
    const char  *v;

    v = ngx_gp_store_cl_text(st, col);
    len = ngx_strlen(v);

    if (len == 0 || ngx_gp_secret_is_encrypted(v, len)) {
        return json_object_set_new(o, name, json_string(v)) ? NGX_ERROR
                                                            : NGX_OK;
    }

    enc = ngx_gp_store_seal_text(aad, v);
    if (enc == NULL) {
        return NGX_ERROR;
    }

    rc = json_object_set_new(o, name, json_string(enc)) ? NGX_ERROR
                                                        : NGX_OK;
    free(enc);

    return rc;
}


static json_t *
ngx_gp_store_cl_account(sqlite3_stmt *st)
{
    json_t  *o;

    o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}",
                  "name", ngx_gp_store_cl_text(st, 0),
                  "team_id", ngx_gp_store_cl_text(st, 1),
                  "csesidx", ngx_gp_store_cl_text(st, 2),
                  "user_agent", ngx_gp_store_cl_text(st, 5),
                  "enabled", sqlite3_column_int(st, 7),
                  "tempmail_name", ngx_gp_store_cl_text(st, 9));

    if (o == NULL
        || ngx_gp_store_cl_sealed(o, "secure_c_ses", "accounts.secure_c_ses",
                                  st, 3) != NGX_OK
        || ngx_gp_store_cl_sealed(o, "host_c_oses", "accounts.host_c_oses",
                                  st, 4) != NGX_OK
        || ngx_gp_store_cl_sealed(o, "proxy", "accounts.proxy", st, 6)
           != NGX_OK
        || ngx_gp_store_cl_sealed(o, "tempmail_url", "accounts.tempmail_url",
                                  st, 8) != NGX_OK)
    {
        json_decref(o);
        return NULL;
    }

    return o;
}


static json_t *
ngx_gp_store_cl_model(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:I,s:s,s:s}",
                     "model_id", ngx_gp_store_cl_text(st, 0),
                     "kind", ngx_gp_store_cl_text(st, 1),
                     "account", ngx_gp_store_cl_text(st, 2),
                     "enabled", sqlite3_column_int(st, 3),
                     "position", (json_int_t) sqlite3_column_int64(st, 4),
                     "description", ngx_gp_store_cl_text(st, 5),
                     "aliases", ngx_gp_store_cl_text(st, 6));
}


static json_t *
ngx_gp_store_cl_setting(sqlite3_stmt *st)
{
    json_t      *o;
    ngx_int_t    i;
    ngx_uint_t   secret;

    i = ngx_gp_setting_index(ngx_gp_store_cl_text(st, 1));
    secret = (i != NGX_ERROR && ngx_gp_setting_secret(i));

    o = json_pack("{s:b}", "secret", (int) secret);

    if (o == NULL) {
        return NULL;
    }

    if ((secret
         && ngx_gp_store_cl_sealed(o, "value", "settings.value", st, 0)
            != NGX_OK)
        || (!secret
            && json_object_set_new(o, "value",
                                   json_string(ngx_gp_store_cl_text(st, 0)))
               != 0))
    {
        json_decref(o);
        return NULL;
    }

    return o;
}


static json_t *
ngx_gp_store_cl_key(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:b,s:I,s:s,s:I,s:I,s:s,s:I}",
                     "name", ngx_gp_store_cl_text(st, 0),
                     "prefix", ngx_gp_store_cl_text(st, 1),
                     "enabled", sqlite3_column_int(st, 2),
                     "expires_at", (json_int_t) sqlite3_column_int64(st, 3),
                     "models", ngx_gp_store_cl_text(st, 4),
                     "rpm", (json_int_t) sqlite3_column_int64(st, 5),
                     "rpd", (json_int_t) sqlite3_column_int64(st, 6),
                     "image_format", ngx_gp_store_cl_text(st, 7),
                     "created_at", (json_int_t) sqlite3_column_int64(st, 8));
}


/* by ngx_gp_confrec's kinds */

static struct {
    const char    *sql;
    json_t      *(*row)(sqlite3_stmt *st);
} ngx_gp_store_cl_kinds[NGX_GP_CONFREC_N] = {

    { "SELECT name, team_id, csesidx, secure_c_ses, host_c_oses, "
      "user_agent, proxy, enabled, tempmail_url, tempmail_name "
      "FROM accounts WHERE uid = ?1", ngx_gp_store_cl_account },

    { "SELECT model_id, kind, ifnull((SELECT uid FROM accounts "
      "WHERE id = models.account_id), ''), enabled, position, description, "
      "aliases FROM models WHERE name = ?1", ngx_gp_store_cl_model },

    { "SELECT value, key FROM settings WHERE key = ?1",
      ngx_gp_store_cl_setting },

    { "SELECT name, prefix, enabled, expires_at, models, rpm, rpd, "
      "image_format, created_at FROM api_keys WHERE key_hash = ?1",
      ngx_gp_store_cl_key }
};


/*
 * One record's fields as ngx_gp_confrec_encode() takes them, secrets
 * sealed: *data (NULL: there is no such record, it was deleted).
 */

ngx_int_t
ngx_gp_store_cluster_record(int kind, const char *key, json_t **data,
    ngx_log_t *log)
{
    int            rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    *data = NULL;

    if (kind < 0 || kind >= NGX_GP_CONFREC_N) {
        return NGX_ERROR;
    }

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, ngx_gp_store_cl_kinds[kind].sql, &st,
                                log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        *data = ngx_gp_store_cl_kinds[kind].row(st);
    }

    sqlite3_finalize(st);

    if (rc == SQLITE_DONE) {
        return NGX_OK;
    }

    return (rc == SQLITE_ROW && *data) ? NGX_OK : NGX_ERROR;
}


/*
 * The records changed here and not yet published, oldest first, at most
 * n: [{"kind","key","bulk"}], one per record (bulk: only copies of a
 * new epoch, no change made here); *last: the newest change among
 * them (ngx_gp_store_cluster_published() after they are in Redis).
 */

json_t *
ngx_gp_store_cluster_changes(ngx_uint_t n, int64_t *last, ngx_log_t *log)
{
    json_t        *list, *o;
    sqlite3       *db;
    sqlite3_stmt  *st;

    *last = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT kind, key, max(seq) AS s, "
                                "min(bulk) FROM config_changes "
                                "GROUP BY kind, key ORDER BY s LIMIT ?", &st,
                                log)
           != NGX_OK)
    {
        return NULL;
    }

    sqlite3_bind_int64(st, 1, (sqlite3_int64) n);

    list = json_array();

    while (list && sqlite3_step(st) == SQLITE_ROW) {
        o = json_pack("{s:s,s:s,s:b}", "kind", ngx_gp_store_cl_text(st, 0),
                      "key", ngx_gp_store_cl_text(st, 1),
                      "bulk", sqlite3_column_int(st, 3));

        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
            break;
        }

        *last = sqlite3_column_int64(st, 2);
    }

    sqlite3_finalize(st);

    return list;
}


/* the changes up to last are in Redis */

ngx_int_t
ngx_gp_store_cluster_published(int64_t last, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM config_changes "
                                "WHERE seq <= ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, last);

    return ngx_gp_store_run(st, NULL, log);
}


/*
 * A new epoch (Redis restarted empty, or this database's first contact):
 * every record is to be published again, as a bulk copy, which fills in
 * what Redis lacks and never overwrites what it has
 */

ngx_int_t
ngx_gp_store_cluster_mark_all(ngx_log_t *log)
{
    sqlite3  *db;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || sqlite3_exec(db, "INSERT INTO config_changes (kind, key, bulk) "
                        "SELECT 'account', uid, 1 FROM accounts;"
                        "INSERT INTO config_changes (kind, key, bulk) "
                        "SELECT 'model', name, 1 FROM models;"
                        "INSERT INTO config_changes (kind, key, bulk) "
                        "SELECT 'setting', key, 1 FROM settings;"
                        "INSERT INTO config_changes (kind, key, bulk) "
                        "SELECT 'key', key_hash, 1 FROM api_keys;",
                        NULL, NULL, NULL)
           != SQLITE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "gemini pool: sqlite: %s",
                      db ? sqlite3_errmsg(db) : "no database");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the newest change (0: none), before a remote record is applied */

ngx_int_t
ngx_gp_store_cluster_seq(int64_t *seq, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    *seq = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT ifnull(max(seq), 0) "
                                "FROM config_changes", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sqlite3_step(st) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


/*
 * A remote record was applied (in the caller's transaction): the changes
 * its writing made after seq are not ours to publish, and a change of
 * the same record still waiting here lost to it (Redis's is newer).
 */

ngx_int_t
ngx_gp_store_cluster_applied(int64_t seq, int kind, const char *key,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM config_changes "
                                "WHERE seq > ?1 OR (kind = ?2 AND key = ?3)",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, ngx_gp_confrec_kind_name(kind), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);

    return ngx_gp_store_run(st, NULL, log);
}


/* a change of the record made here waits (not a new epoch's copy) */

ngx_int_t
ngx_gp_store_cluster_pending(int kind, const char *key, ngx_uint_t *pending,
    ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    *pending = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT 1 FROM config_changes WHERE "
                                "kind = ? AND key = ? AND bulk = 0 LIMIT 1",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, ngx_gp_confrec_kind_name(kind), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);

    *pending = (sqlite3_step(st) == SQLITE_ROW);
    sqlite3_finalize(st);

    return NGX_OK;
}


/*
 * The account with that uid: *id, and whether its secure_c_ses is ses
 * (plaintext; NULL: not asked).  NGX_DECLINED: there is none.
 */

ngx_int_t
ngx_gp_store_cluster_account(const char *uid, const char *ses, int64_t *id,
    ngx_uint_t *same, ngx_log_t *log)
{
    int                                rc;
    char                              *old;
    sqlite3                           *db;
    sqlite3_stmt                      *st;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    *id = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id, secure_c_ses FROM accounts "
                                "WHERE uid = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);

    rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR;
    }

    *id = sqlite3_column_int64(st, 0);

    if (ses && same) {
        gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                ngx_http_gemini_pool_module);

        old = ngx_gp_store_open_secret(gmcf->secret_key,
                                       "accounts.secure_c_ses", st, 1);
        *same = (old && ngx_strcmp(old, ses) == 0);
        ngx_gp_store_free_secret(old);
    }

    sqlite3_finalize(st);

    return NGX_OK;
}


/* the account added by the import takes the cluster's uid */

ngx_int_t
ngx_gp_store_cluster_set_uid(int64_t id, const char *uid, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE accounts SET uid = ?2 "
                                "WHERE id = ?1", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, uid, -1, SQLITE_TRANSIENT);

    return ngx_gp_store_run(st, NULL, log);
}


/* the API key with that hash: *id; NGX_DECLINED: there is none */

ngx_int_t
ngx_gp_store_cluster_key(const char *hash, int64_t *id, ngx_log_t *log)
{
    int            rc;
    sqlite3       *db;
    sqlite3_stmt  *st;

    *id = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id FROM api_keys "
                                "WHERE key_hash = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);

    rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
    }

    sqlite3_finalize(st);

    if (rc == SQLITE_ROW) {
        return NGX_OK;
    }

    return rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR;
}
