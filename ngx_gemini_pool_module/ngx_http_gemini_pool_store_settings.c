
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store's settings: one value written (sealed when the table says
 * secret), and the stored values read back for the export.
 */


#include "ngx_http_gemini_pool_module.h"


/*
 * Writes one setting's value as text (the caller checked it with
 * ngx_gp_setting_check()); inside the caller's transaction if one is open.
 */

ngx_int_t
ngx_gp_store_setting_put(ngx_uint_t i, const char *value, ngx_log_t *log)
{
    char          *enc;
    sqlite3       *db;
    ngx_int_t      rc;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    enc = NULL;

    if (ngx_gp_setting_secret(i) && value[0]) {
        enc = ngx_gp_store_seal_text("settings.value", value);
        if (enc == NULL) {
            return NGX_ERROR;
        }

        value = enc;
    }

    if (ngx_gp_store_prepare(db, "UPDATE settings SET value = ?, "
                             "updated_at = strftime('%s','now') "
                             "WHERE key = ?", &st, log)
        != NGX_OK)
    {
        free(enc);
        return NGX_ERROR;
    }

    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, ngx_gp_settings_table[i].key, -1,
                      SQLITE_STATIC);

    rc = ngx_gp_store_run(st, NULL, log);

    free(enc);

    return rc;
}


/*
 * The stored values as text, secrets opened, unchecked: s[i].value for
 * every setting of the table found in SQLite (present[i] = 1).
 */

ngx_int_t
ngx_gp_store_settings_read(ngx_gp_setting_t *s, u_char *present,
    ngx_log_t *log)
{
    int            rc;
    sqlite3       *db;
    ngx_int_t      i;
    const char    *key;
    sqlite3_stmt  *st;

    db = ngx_gp_store_db(log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(present, NGX_GP_SET_N);

    if (ngx_gp_store_prepare(db, "SELECT key, value FROM settings", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        key = (const char *) sqlite3_column_text(st, 0);
        i = key ? ngx_gp_setting_index(key) : NGX_ERROR;

        if (i == NGX_ERROR) {
            continue;
        }

        s[i].number = 0;

        if (ngx_gp_setting_secret(i)) {
            if (ngx_gp_store_secret(st, 1, s[i].value,
                                    NGX_GP_SETTING_VALUE_LEN,
                                    "settings.value", 0, ngx_gp_zone(), log)
                != NGX_OK)
            {
                sqlite3_finalize(st);
                return NGX_ERROR;
            }

        } else {
            ngx_gp_store_text(st, 1, s[i].value, NGX_GP_SETTING_VALUE_LEN,
                              "setting value", 0, log);
        }

        present[i] = 1;
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "gemini pool: sqlite: %s",
                      sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    return NGX_OK;
}
