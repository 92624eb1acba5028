
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's side of the configuration export: accounts, models,
 * settings (typed by the settings table) and API key metadata read in one
 * transaction, secrets opened only when asked for.
 */


#include "ngx_http_gemini_pool_module.h"


/* GET /api/config/export */

static ngx_int_t
ngx_gp_exp_add(json_t *list, json_t *o)
{
    if (o == NULL || json_array_append_new(list, o) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const char *
ngx_gp_exp_text(sqlite3_stmt *st, int col)
{
    const char  *p;

    p = (const char *) sqlite3_column_text(st, col);

    return p ? p : "";
}


typedef struct {
    const u_char  *key;
    ngx_uint_t     secrets;
    json_t        *ids;
} ngx_gp_exp_t;


static ngx_int_t
ngx_gp_exp_account(ngx_gp_exp_t *ex, sqlite3_stmt *st, json_t *list)
{
    char       *ses, *oses, *proxy, *mail;
    json_t     *o;
    ngx_int_t   rc;

    o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s}",
                  "name", ngx_gp_exp_text(st, 1),
                  "team_id", ngx_gp_exp_text(st, 2),
                  "csesidx", ngx_gp_exp_text(st, 3),
                  "user_agent", ngx_gp_exp_text(st, 7),
                  "enabled", sqlite3_column_int(st, 8),
                  "cookie_expired", sqlite3_column_int(st, 9),
                  "tempmail_name", ngx_gp_exp_text(st, 11));

    if (ngx_gp_exp_add(list, o) != NGX_OK
        || json_array_append_new(ex->ids,
                                 json_integer(sqlite3_column_int64(st, 0)))
           != 0)
    {
        return NGX_ERROR;
    }

    if (!ex->secrets) {
        /* whether they are set, never what they are */
        if (json_object_set_new(o, "secure_c_ses_set",
                                json_boolean(sqlite3_column_bytes(st, 4)))
            || json_object_set_new(o, "host_c_oses_set",
                                   json_boolean(sqlite3_column_bytes(st, 5)))
            || json_object_set_new(o, "proxy_set",
                                   json_boolean(sqlite3_column_bytes(st, 6)))
            || json_object_set_new(o, "tempmail_url_set",
                                   json_boolean(sqlite3_column_bytes(st,
                                                                     10))))
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    ses = ngx_gp_store_open_secret(ex->key, "accounts.secure_c_ses", st, 4);
    oses = ngx_gp_store_open_secret(ex->key, "accounts.host_c_oses", st, 5);
    proxy = ngx_gp_store_open_secret(ex->key, "accounts.proxy", st, 6);
    mail = ngx_gp_store_open_secret(ex->key, "accounts.tempmail_url", st,
                                    10);

    rc = NGX_OK;

    if (ses == NULL || oses == NULL || proxy == NULL || mail == NULL
        || json_object_set_new(o, "secure_c_ses", json_string(ses))
        || json_object_set_new(o, "host_c_oses", json_string(oses))
        || json_object_set_new(o, "proxy", json_string(proxy))
        || json_object_set_new(o, "tempmail_url", json_string(mail)))
    {
        rc = NGX_ERROR;
    }

    ngx_gp_store_free_secret(ses);
    ngx_gp_store_free_secret(oses);
    ngx_gp_store_free_secret(proxy);
    ngx_gp_store_free_secret(mail);

    return rc;
}


static ngx_int_t
ngx_gp_exp_model(ngx_gp_exp_t *ex, sqlite3_stmt *st, json_t *list)
{
    size_t    i;
    json_t   *o, *pin;
    int64_t   id;

    /* a pin refers to the account's position in "accounts" */
    pin = json_null();

    if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
        id = sqlite3_column_int64(st, 3);

        for (i = 0; i < json_array_size(ex->ids); i++) {
            if (json_integer_value(json_array_get(ex->ids, i)) == id) {
                json_decref(pin);
                pin = json_integer((json_int_t) i);
                break;
            }
        }
    }

    o = json_pack("{s:s,s:s,s:s,s:o,s:b,s:I,s:s,s:s}",
                  "name", ngx_gp_exp_text(st, 0),
                  "model_id", ngx_gp_exp_text(st, 1),
                  "kind", ngx_gp_exp_text(st, 2),
                  "account", pin,
                  "enabled", sqlite3_column_int(st, 4),
                  "position", (json_int_t) sqlite3_column_int64(st, 5),
                  "description", ngx_gp_exp_text(st, 6),
                  "aliases", ngx_gp_exp_text(st, 7));

    return ngx_gp_exp_add(list, o);
}


/* the settings of the table, typed by it; secrets only with secrets */

static ngx_int_t
ngx_gp_exp_settings(ngx_gp_exp_t *ex, json_t *obj, ngx_log_t *log)
{
    json_t            *v;
    ngx_int_t          n, rc;
    ngx_uint_t         i;
    const char        *value;
    u_char             present[NGX_GP_SET_N];
    ngx_gp_setting_t  *s;

    s = ngx_alloc(NGX_GP_SET_N * sizeof(ngx_gp_setting_t), log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_gp_store_settings_read(s, present, log);

    for (i = 0; rc == NGX_OK && i < NGX_GP_SET_N; i++) {

        if (!present[i]
            || (ngx_gp_setting_secret(i) && !ex->secrets))
        {
            continue;
        }

        value = (const char *) s[i].value;

        switch (ngx_gp_setting_def(i)->type) {

        case NGX_GP_SETTING_INT:
            n = ngx_atoi((u_char *) value, ngx_strlen(value));
            v = (n == NGX_ERROR) ? json_string(value) : json_integer(n);
            break;

        case NGX_GP_SETTING_BOOL:
            v = json_boolean(ngx_strcmp(value, "true") == 0
                             || ngx_strcmp(value, "1") == 0);
            break;

        default:
            v = json_string(value);
            break;
        }

        if (v == NULL
            || json_object_set_new(obj, ngx_gp_setting_def(i)->key, v) != 0)
        {
            rc = NGX_ERROR;
        }
    }

    ngx_explicit_memzero(s, NGX_GP_SET_N * sizeof(ngx_gp_setting_t));
    ngx_free(s);

    return rc;
}


static ngx_int_t
ngx_gp_exp_key(ngx_gp_exp_t *ex, sqlite3_stmt *st, json_t *list)
{
    json_t  *o;

    o = json_pack("{s:s,s:s,s:b,s:I,s:s,s:I,s:I,s:s,s:I,s:I,s:I}",
                  "name", ngx_gp_exp_text(st, 0),
                  "prefix", ngx_gp_exp_text(st, 1),
                  "enabled", sqlite3_column_int(st, 2),
                  "expires_at", (json_int_t) sqlite3_column_int64(st, 3),
                  "models", ngx_gp_exp_text(st, 4),
                  "rpm", (json_int_t) sqlite3_column_int64(st, 5),
                  "rpd", (json_int_t) sqlite3_column_int64(st, 6),
                  "image_format", ngx_gp_exp_text(st, 7),
                  "requests", (json_int_t) sqlite3_column_int64(st, 8),
                  "last_used_at", (json_int_t) sqlite3_column_int64(st, 9),
                  "created_at", (json_int_t) sqlite3_column_int64(st, 10));

    if (ngx_gp_exp_add(list, o) != NGX_OK
        || (ex->secrets
            && json_object_set_new(o, "key_hash",
                                   json_string(ngx_gp_exp_text(st, 11)))
               != 0))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The document's parts, in this order: "models" refers to accounts by
 * their position in "accounts".  row() adds one row of sql to the part.
 */

typedef struct {
    const char    *name;
    ngx_uint_t     object;
    const char    *sql;
    ngx_int_t    (*row)(ngx_gp_exp_t *ex, sqlite3_stmt *st, json_t *part);
} ngx_gp_exp_part_t;


static ngx_gp_exp_part_t  ngx_gp_exp_parts[] = {

    { "accounts", 0,
      "SELECT id, name, team_id, csesidx, secure_c_ses, host_c_oses, proxy, "
      "user_agent, enabled, cookie_expired, tempmail_url, tempmail_name "
      "FROM accounts ORDER BY id",
      ngx_gp_exp_account },

    { "models", 0,
      "SELECT name, model_id, kind, account_id, enabled, position, "
      "description, aliases FROM models ORDER BY position, name",
      ngx_gp_exp_model },

    { "settings", 1, NULL, NULL },      /* ngx_gp_exp_settings() */

    /* a console's chat credential lives and dies with its session */
    { "api_keys", 0,
      "SELECT name, prefix, enabled, expires_at, models, rpm, rpd, "
      "image_format, requests, last_used_at, created_at, key_hash "
      "FROM api_keys WHERE session = '' ORDER BY id",
      ngx_gp_exp_key },

    { NULL, 0, NULL, NULL }
};


static ngx_int_t
ngx_gp_exp_part(sqlite3 *db, json_t *doc, ngx_gp_exp_part_t *p,
    ngx_gp_exp_t *ex, ngx_log_t *log)
{
    json_t        *part;
    ngx_int_t      rc;
    sqlite3_stmt  *st;

    part = p->object ? json_object() : json_array();

    if (part == NULL || json_object_set_new(doc, p->name, part) != 0) {
        return NGX_ERROR;
    }

    if (p->sql == NULL) {
        return ngx_gp_exp_settings(ex, part, log);
    }

    if (sqlite3_prepare_v2(db, p->sql, -1, &st, NULL) != SQLITE_OK) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    while (rc == NGX_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = p->row(ex, st, part);
    }

    sqlite3_finalize(st);

    return rc;
}


static int
ngx_gp_exp_schema(sqlite3 *db)
{
    int            v;
    sqlite3_stmt  *st;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL)
        != SQLITE_OK)
    {
        return 0;
    }

    v = (sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);

    return v;
}


/*
 * One document with everything durable an operator configures: accounts,
 * models, settings and API key metadata.  secrets: with the cookies,
 * proxies, secret settings and key hashes (decrypted); without, they are
 * left out and "..._set" says whether they exist.  Read in one
 * transaction, so the parts agree.
 */

json_t *
ngx_gp_store_export(ngx_uint_t secrets, ngx_log_t *log)
{
    json_t                            *doc, *ids;
    sqlite3                           *db;
    ngx_int_t                          rc;
    ngx_gp_exp_t                       ex;
    ngx_gp_exp_part_t                 *p;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NULL;
    }

    doc = json_pack("{s:s,s:i,s:i,s:I,s:b}",
                    "format", NGX_GP_EXPORT_FORMAT,
                    "version", NGX_GP_EXPORT_VERSION,
                    "schema", ngx_gp_exp_schema(db),
                    "exported_at", (json_int_t) ngx_time(),
                    "secrets", (int) secrets);
    ids = json_array();

    if (doc == NULL || ids == NULL
        || sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    {
        json_decref(doc);
        json_decref(ids);
        return NULL;
    }

    ex.key = gmcf->secret_key;
    ex.secrets = secrets;
    ex.ids = ids;

    rc = NGX_OK;

    for (p = ngx_gp_exp_parts; rc == NGX_OK && p->name; p++) {
        rc = ngx_gp_exp_part(db, doc, p, &ex, log);
    }

    (void) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

    json_decref(ids);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: export failed: %s", sqlite3_errmsg(db));
        json_decref(doc);
        return NULL;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "gemini pool: configuration exported%s",
                  secrets ? " with secrets" : "");

    return doc;
}
