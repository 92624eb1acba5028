
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's side of the configuration import: accounts, models and API
 * keys written inside the caller's transaction (ngx_gp_store_begin()),
 * cookies and proxies sealed as they are written.  The caller checked
 * every value; NGX_ERROR here is a database error
 * (ngx_gp_store_errmsg()).
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_int_t
ngx_gp_store_imp_bind_secret(sqlite3_stmt *st, int col, const char *aad,
    const char *plain)
{
    char  *enc;

    if (plain == NULL) {
        sqlite3_bind_null(st, col);
        return NGX_OK;
    }

    if (plain[0] == '\0') {
        sqlite3_bind_text(st, col, "", 0, SQLITE_STATIC);
        return NGX_OK;
    }

    enc = ngx_gp_store_seal_text(aad, plain);
    if (enc == NULL) {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, col, enc, -1, SQLITE_TRANSIENT);
    free(enc);

    return NGX_OK;
}


/* a mailbox link is sealed; one sealed already is kept as it is */

static ngx_int_t
ngx_gp_store_imp_bind_mailbox(sqlite3_stmt *st, int col, const char *url)
{
    if (url && ngx_gp_secret_is_encrypted(url, ngx_strlen(url))) {
        sqlite3_bind_text(st, col, url, -1, SQLITE_TRANSIENT);
        return NGX_OK;
    }

    return ngx_gp_store_imp_bind_secret(st, col, "accounts.tempmail_url",
                                        url);
}


static void
ngx_gp_store_imp_bind_str(sqlite3_stmt *st, int col, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, col);

    } else {
        sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
    }
}


/*
 * The account with the same team_id and csesidx, else the same name,
 * is updated (new cookies renew it); otherwise a new one is added.
 * NGX_DECLINED: it is new and has no cookies.
 */

ngx_int_t
ngx_gp_store_import_account(ngx_gp_store_import_account_t *a,
    ngx_gp_store_import_result_t *res, ngx_log_t *log)
{
    char                              *old;
    sqlite3                           *db;
    sqlite3_stmt                      *st;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    ngx_memzero(res, sizeof(ngx_gp_store_import_result_t));

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    if (!a->placeholder) {
        if (ngx_gp_store_prepare(db, "SELECT id, team_id = ?1 AND "
                                 "csesidx = ?2, secure_c_ses FROM accounts "
                                 "WHERE (team_id = ?1 AND csesidx = ?2) OR "
                                 "(?3 != '' AND name = ?3) "
                                 "ORDER BY 2 DESC, id LIMIT 1", &st, log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        sqlite3_bind_text(st, 1, a->team_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, a->csesidx, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, a->name ? a->name : "", -1,
                          SQLITE_TRANSIENT);

        switch (sqlite3_step(st)) {

        case SQLITE_ROW:
            res->id = sqlite3_column_int64(st, 0);
            res->same_ids = sqlite3_column_int(st, 1);

            if (a->secure_c_ses) {
                old = ngx_gp_store_open_secret(gmcf->secret_key,
                                               "accounts.secure_c_ses", st,
                                               2);
                res->renewed = (old == NULL || !res->same_ids
                                || ngx_strcmp(old, a->secure_c_ses) != 0);
                ngx_gp_store_free_secret(old);
            }

            break;

        case SQLITE_DONE:
            break;

        default:
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        sqlite3_finalize(st);
    }

    if (res->id == 0 && !a->placeholder && a->secure_c_ses == NULL) {
        return NGX_DECLINED;
    }

    if (res->id == 0) {
        if (ngx_gp_store_prepare(db, "INSERT INTO accounts (name, team_id, "
                                 "csesidx, secure_c_ses, host_c_oses, "
                                 "user_agent, proxy, enabled, "
                                 "cookie_expired, tempmail_url, "
                                 "tempmail_name) VALUES (?1, ?2, ?3, ?4, "
                                 "ifnull(?5, ''), ifnull(?6, ''), "
                                 "ifnull(?7, ''), ?8, ?9, ifnull(?10, ''), "
                                 "ifnull(?11, ''))", &st, log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        sqlite3_bind_text(st, 1, a->name ? a->name : "", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, a->placeholder ? "" : a->team_id, -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, a->placeholder ? "" : a->csesidx, -1,
                          SQLITE_TRANSIENT);

        if (ngx_gp_store_imp_bind_secret(st, 4, "accounts.secure_c_ses",
                                         a->placeholder ? ""
                                                        : a->secure_c_ses)
            != NGX_OK
            || ngx_gp_store_imp_bind_secret(st, 5, "accounts.host_c_oses",
                                            a->host_c_oses) != NGX_OK
            || ngx_gp_store_imp_bind_secret(st, 7, "accounts.proxy",
                                            a->proxy) != NGX_OK)
        {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        ngx_gp_store_imp_bind_str(st, 6, a->user_agent);
        sqlite3_bind_int(st, 8, a->placeholder ? 0 : (a->enabled != 0));
        sqlite3_bind_int(st, 9, a->placeholder ? 1 : (a->expired == 1));
        if (ngx_gp_store_imp_bind_mailbox(st, 10, a->tempmail_url)
            != NGX_OK)
        {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        ngx_gp_store_imp_bind_str(st, 11, a->tempmail_name);

        if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
            return NGX_ERROR;
        }

        res->id = sqlite3_last_insert_rowid(db);

        return NGX_OK;
    }

    res->updated = 1;

    if (ngx_gp_store_prepare(db, "UPDATE accounts SET "
                             "name = coalesce(nullif(?2, ''), name), "
                             "team_id = ?3, csesidx = ?4, "
                             "secure_c_ses = coalesce(?5, secure_c_ses), "
                             "host_c_oses = coalesce(?6, host_c_oses), "
                             "user_agent = coalesce(?7, user_agent), "
                             "proxy = coalesce(?8, proxy), "
                             "enabled = coalesce(?9, enabled), "
                             "cookie_expired = coalesce(?10, CASE WHEN ?12 "
                             "THEN 0 ELSE cookie_expired END), "
                             "tempmail_url = coalesce(?11, tempmail_url), "
                             "tempmail_name = coalesce(?13, tempmail_name),"
                             " updated_at = strftime('%s','now') "
                             "WHERE id = ?1", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, res->id);
    ngx_gp_store_imp_bind_str(st, 2, a->name);
    sqlite3_bind_text(st, 3, a->team_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, a->csesidx, -1, SQLITE_TRANSIENT);

    if (ngx_gp_store_imp_bind_secret(st, 5, "accounts.secure_c_ses",
                                     a->secure_c_ses) != NGX_OK
        || ngx_gp_store_imp_bind_secret(st, 6, "accounts.host_c_oses",
                                        a->host_c_oses) != NGX_OK
        || ngx_gp_store_imp_bind_secret(st, 8, "accounts.proxy",
                                        a->proxy) != NGX_OK)
    {
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    ngx_gp_store_imp_bind_str(st, 7, a->user_agent);

    if (a->enabled >= 0) {
        sqlite3_bind_int(st, 9, a->enabled);
    }

    if (a->expired >= 0) {
        sqlite3_bind_int(st, 10, a->expired);
    }

    if (ngx_gp_store_imp_bind_mailbox(st, 11, a->tempmail_url) != NGX_OK) {
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    sqlite3_bind_int(st, 12, (int) res->renewed);
    ngx_gp_store_imp_bind_str(st, 13, a->tempmail_name);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (res->renewed) {
        if (ngx_gp_store_prepare(db, "DELETE FROM account_state "
                                 "WHERE account_id = ?", &st, log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        sqlite3_bind_int64(st, 1, res->id);

        if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* account: the id to pin it to, 0 for none; *replaced: it existed */

ngx_int_t
ngx_gp_store_import_model(ngx_gp_store_import_model_t *m, int64_t account,
    ngx_uint_t *replaced, ngx_log_t *log)
{
    ngx_int_t      exists;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT 1 FROM models WHERE name = ?",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_TRANSIENT);
    exists = (sqlite3_step(st) == SQLITE_ROW);
    sqlite3_finalize(st);

    if (ngx_gp_store_prepare(db, exists
                             ? "UPDATE models SET model_id = ?2, kind = ?3, "
                               "account_id = ?4, enabled = ?5, "
                               "position = coalesce(?6, position), "
                               "description = ?7, aliases = ?8 "
                               "WHERE name = ?1"
                             : "INSERT INTO models (name, model_id, kind, "
                               "account_id, enabled, position, description, "
                               "aliases) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, "
                               "(SELECT ifnull(max(position), -1) + 1 "
                               "FROM models)), ?7, ?8)", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, m->model_id ? m->model_id : "", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, m->kind, -1, SQLITE_TRANSIENT);

    if (account > 0) {
        sqlite3_bind_int64(st, 4, account);
    }

    sqlite3_bind_int(st, 5, m->enabled != 0);

    if (m->position >= 0) {
        sqlite3_bind_int64(st, 6, m->position);
    }

    sqlite3_bind_text(st, 7, m->description ? m->description : "", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, m->aliases ? m->aliases : "", -1,
                      SQLITE_TRANSIENT);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    *replaced = exists;

    return NGX_OK;
}


/* by its hash (64 hex digits, lower case); *updated: the id it had */

ngx_int_t
ngx_gp_store_import_key(ngx_gp_store_import_key_t *k, const char *hash,
    int64_t *updated, ngx_log_t *log)
{
    int64_t        id;
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT id FROM api_keys WHERE "
                                "key_hash = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, hash, 64, SQLITE_TRANSIENT);
    id = (sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    if (ngx_gp_store_prepare(db, id
                             ? "UPDATE api_keys SET name = ?2, prefix = "
                               "coalesce(nullif(?3, ''), prefix), "
                               "enabled = ?4, expires_at = ?5, models = ?6, "
                               "rpm = ?7, rpd = ?8, image_format = ?9, "
                               "requests = max(requests, ?10), "
                               "last_used_at = max(last_used_at, ?11) "
                               "WHERE id = ?12"
                             : "INSERT INTO api_keys (key_hash, name, "
                               "prefix, enabled, expires_at, models, rpm, "
                               "rpd, image_format, requests, last_used_at, "
                               "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                               "?7, ?8, ?9, ?10, ?11, CASE WHEN ?13 > 0 "
                               "THEN ?13 ELSE strftime('%s','now') END)",
                             &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!id) {
        sqlite3_bind_text(st, 1, hash, 64, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 13, k->created);

    } else {
        sqlite3_bind_int64(st, 12, id);
    }

    sqlite3_bind_text(st, 2, k->name ? k->name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, k->prefix ? k->prefix : "", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, k->enabled != 0);
    sqlite3_bind_int64(st, 5, k->expires);
    sqlite3_bind_text(st, 6, k->models ? k->models : "", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, k->rpm);
    sqlite3_bind_int64(st, 8, k->rpd);
    sqlite3_bind_text(st, 9, k->image_format ? k->image_format : "", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, k->requests);
    sqlite3_bind_int64(st, 11, k->last_used);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    *updated = id;

    return NGX_OK;
}


/* after the import: enabled models and API keys, against the zone's room */

ngx_int_t
ngx_gp_store_import_counts(int64_t *models, int64_t *keys, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT (SELECT count(*) FROM models "
                                "WHERE enabled), (SELECT count(*) FROM "
                                "api_keys)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    *models = sqlite3_column_int64(st, 0);
    *keys = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);

    return NGX_OK;
}
