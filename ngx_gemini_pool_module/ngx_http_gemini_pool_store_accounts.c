
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's accounts: added, updated, renewed, toggled and deleted by
 * the admin API.  The cookies and the proxy are sealed as they are
 * written ("enc:v1:...", the column's name as associated data).
 */


#include "ngx_http_gemini_pool_module.h"


static const char  *ngx_gp_store_account_cols[] = {
    "name", "team_id", "csesidx", "secure_c_ses", "host_c_oses",
    "user_agent", "proxy", "tempmail_url", "tempmail_name", NULL
};


/* the sealed columns, as ngx_gp_store_account_cols[] numbers them */
#define ngx_gp_store_account_secret(i)                                       \
    ((i) == 3 || (i) == 4 || (i) == 6 || (i) == 7)


static const char *
ngx_gp_store_account_field(ngx_gp_store_account_t *a, ngx_uint_t i)
{
    switch (i) {
    case 0: return a->name;
    case 1: return a->team_id;
    case 2: return a->csesidx;
    case 3: return a->secure_c_ses;
    case 4: return a->host_c_oses;
    case 5: return a->user_agent;
    case 6: return a->proxy;
    case 7: return a->tempmail_url;
    default: return a->tempmail_name;
    }
}


/* binds a value, sealed when its column is secret; enc keeps the copy */

static ngx_int_t
ngx_gp_store_account_bind(sqlite3_stmt *st, int col, ngx_uint_t i,
    const char *value, char **enc)
{
    char  aad[32];

    *enc = NULL;

    if (ngx_gp_store_account_secret(i) && value[0]) {
        (void) ngx_sprintf((u_char *) aad, "accounts.%s%Z",
                           ngx_gp_store_account_cols[i]);

        *enc = ngx_gp_store_seal_text(aad, value);
        if (*enc == NULL) {
            return NGX_ERROR;
        }

        value = *enc;
    }

    sqlite3_bind_text(st, col, value, -1, SQLITE_TRANSIENT);

    return NGX_OK;
}


/* a new account: NULL fields are stored empty; *id its id */

ngx_int_t
ngx_gp_store_account_add(ngx_gp_store_account_t *a, int64_t *id,
    ngx_log_t *log)
{
    char          *enc;
    sqlite3       *db;
    ngx_uint_t     i;
    const char    *v;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "INSERT INTO accounts (name, team_id, "
                                "csesidx, secure_c_ses, host_c_oses, "
                                "user_agent, proxy, tempmail_url, "
                                "tempmail_name, enabled) VALUES "
                                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; ngx_gp_store_account_cols[i]; i++) {
        v = ngx_gp_store_account_field(a, i);

        if (ngx_gp_store_account_bind(st, (int) i + 1, i, v ? v : "", &enc)
            != NGX_OK)
        {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        free(enc);
    }

    sqlite3_bind_int(st, (int) i + 1, a->enabled == 0 ? 0 : 1);

    if (ngx_gp_store_run(st, NULL, log) != NGX_OK) {
        return NGX_ERROR;
    }

    *id = sqlite3_last_insert_rowid(db);

    return NGX_OK;
}


/* n disabled, expired placeholders (the remote sync's positions) */

ngx_int_t
ngx_gp_store_account_placeholders(ngx_uint_t n, int64_t *last,
    ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     i;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_gp_store_prepare(db, "INSERT INTO accounts "
                                 "(team_id, csesidx, secure_c_ses, "
                                 "enabled, cookie_expired) VALUES "
                                 "('', '', '', 0, 1)", &st, log)
            != NGX_OK
            || ngx_gp_store_run(st, NULL, log) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    *last = sqlite3_last_insert_rowid(db);

    return NGX_OK;
}


/* the non-NULL fields (enabled: -1 leaves it) */

ngx_int_t
ngx_gp_store_account_update(int64_t id, ngx_gp_store_account_t *a,
    ngx_log_t *log)
{
    int            col;
    char          *enc, *p, sql[512];
    sqlite3       *db;
    ngx_uint_t     i;
    const char    *v;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    p = (char *) ngx_sprintf((u_char *) sql, "UPDATE accounts SET "
                             "updated_at = strftime('%%s','now')");

    for (i = 0; ngx_gp_store_account_cols[i]; i++) {
        if (ngx_gp_store_account_field(a, i)) {
            p = (char *) ngx_sprintf((u_char *) p, ", %s = ?%ui",
                                     ngx_gp_store_account_cols[i], i + 1);
        }
    }

    if (a->enabled >= 0) {
        p = (char *) ngx_sprintf((u_char *) p, ", enabled = %d",
                                 a->enabled ? 1 : 0);
    }

    (void) ngx_sprintf((u_char *) p, " WHERE id = %L%Z", id);

    if (ngx_gp_store_prepare(db, sql, &st, log) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; ngx_gp_store_account_cols[i]; i++) {
        v = ngx_gp_store_account_field(a, i);

        if (v == NULL) {
            continue;
        }

        col = (int) i + 1;

        if (ngx_gp_store_account_bind(st, col, i, v, &enc) != NGX_OK) {
            sqlite3_finalize(st);
            return NGX_ERROR;
        }

        free(enc);
    }

    return ngx_gp_store_run(st, NULL, log);
}


/*
 * Complete credentials bring an expired account back (expired in the
 * database, or only in the zone so far: zone_expired), its saved
 * cooldowns gone.  *renewed: whether it was.
 */

ngx_int_t
ngx_gp_store_account_renew(int64_t id, ngx_uint_t zone_expired,
    ngx_uint_t *renewed, ngx_log_t *log)
{
    sqlite3       *db;
    ngx_uint_t     changes;
    sqlite3_stmt  *st;

    *renewed = 0;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE accounts SET cookie_expired = 0, "
                                "enabled = 1 WHERE id = ?1 AND "
                                "(cookie_expired OR ?2) "
                                "AND secure_c_ses != '' AND csesidx != ''",
                                &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int) zone_expired);

    if (ngx_gp_store_run(st, &changes, log) != NGX_OK) {
        return NGX_ERROR;
    }

    if (changes == 0) {
        return NGX_OK;
    }

    *renewed = 1;

    if (ngx_gp_store_prepare(db, "DELETE FROM account_state WHERE "
                             "account_id = ?", &st, log)
        == NGX_OK)
    {
        sqlite3_bind_int64(st, 1, id);
        (void) ngx_gp_store_run(st, NULL, log);
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_store_account_delete(int64_t id, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "DELETE FROM accounts WHERE id = ?", &st,
                                log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    return ngx_gp_store_run(st, NULL, log);
}


ngx_int_t
ngx_gp_store_account_toggle(int64_t id, ngx_log_t *log)
{
    sqlite3       *db;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "UPDATE accounts SET enabled = "
                                "NOT enabled, updated_at = "
                                "strftime('%s','now') WHERE id = ?", &st,
                                log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    return ngx_gp_store_run(st, NULL, log);
}


/*
 * The account's mailbox: its tempmail_url (decrypted; "" when none) and
 * tempmail_name.  NGX_DECLINED: no such account.
 */

ngx_int_t
ngx_gp_store_account_mailbox(int64_t id, u_char *url, size_t url_size,
    u_char *name, size_t name_size, ngx_log_t *log)
{
    int            rc;
    sqlite3       *db;
    ngx_int_t      ok;
    sqlite3_stmt  *st;

    url[0] = '\0';
    name[0] = '\0';

    db = ngx_gp_store_db(log);

    if (db == NULL
        || ngx_gp_store_prepare(db, "SELECT tempmail_url, tempmail_name "
                                "FROM accounts WHERE id = ?", &st, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sqlite3_bind_int64(st, 1, id);

    rc = sqlite3_step(st);

    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? NGX_DECLINED : NGX_ERROR;
    }

    ok = ngx_gp_store_secret(st, 0, url, url_size, "accounts.tempmail_url",
                             id, ngx_gp_zone(), log);

    ngx_gp_store_text(st, 1, name, name_size, "tempmail_name", id, log);

    sqlite3_finalize(st);

    return ok;
}
