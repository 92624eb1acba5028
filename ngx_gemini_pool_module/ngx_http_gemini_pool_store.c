
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * SQLite, the durable store: schema and migrations, loading the zone (its
 * init callback: zone.c lays it out, this file fills it), the process's
 * connection and its transactions, the helper's writes of state and
 * events, and the helpers the store_<topic>.c files share.  The schema
 * version is SQLite's user_version; every migration step runs in one
 * transaction, so a failed step changes nothing.
 */


#include "ngx_http_gemini_pool_module.h"


static const char  *ngx_gp_migrations[] = {

    /* version 1 */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  team_id TEXT NOT NULL,"
    "  csesidx TEXT NOT NULL,"
    "  secure_c_ses TEXT NOT NULL,"
    "  host_c_oses TEXT NOT NULL DEFAULT '',"
    "  user_agent TEXT NOT NULL DEFAULT '',"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  cookie_expired INTEGER NOT NULL DEFAULT 0,"
    "  tempmail_url TEXT NOT NULL DEFAULT '',"
    "  tempmail_name TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    "  updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))"
    ");"
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  type TEXT NOT NULL CHECK (type IN ('string','int','bool')),"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))"
    ");"
    "CREATE TABLE models ("
    "  name TEXT PRIMARY KEY,"
    "  model_id TEXT NOT NULL DEFAULT '',"
    "  kind TEXT NOT NULL DEFAULT 'text'"
    "    CHECK (kind IN ('text','image','video')),"
    "  account_id INTEGER,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  position INTEGER NOT NULL DEFAULT 0,"
    "  description TEXT NOT NULL DEFAULT ''"
    ");"
    "INSERT INTO models (name, model_id, kind, position, description) VALUES"
    "  ('gemini-auto', '', 'text', 0, 'upstream default model'),"
    "  ('gemini-2.5-flash', 'gemini-2.5-flash', 'text', 1, ''),"
    "  ('gemini-2.5-pro', 'gemini-2.5-pro', 'text', 2, ''),"
    "  ('gemini-3-flash-preview', 'gemini-3-flash-preview', 'text', 3, ''),"
    "  ('gemini-3-pro-preview', 'gemini-3-pro-preview', 'text', 4, ''),"
    "  ('gemini-3.1-pro-preview', 'gemini-3.1-pro-preview', 'text', 5, ''),"
    "  ('gemini-image', '', 'image', 6, 'image generation'),"
    "  ('gemini-video', '', 'video', 7, 'video generation');",

    /* version 2: runtime state that survives a restart */
    "CREATE TABLE account_state ("
    "  account_id INTEGER PRIMARY KEY"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  cooldown_text INTEGER NOT NULL DEFAULT 0,"
    "  cooldown_images INTEGER NOT NULL DEFAULT 0,"
    "  cooldown_videos INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))"
    ");",

    /* version 3: per-account outbound proxy ("": global, "direct") */
    "ALTER TABLE accounts ADD COLUMN proxy TEXT NOT NULL DEFAULT '';",

    /* version 4: API keys, admin password and sessions */
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  key_hash TEXT NOT NULL UNIQUE,"
    "  prefix TEXT NOT NULL DEFAULT '',"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  expires_at INTEGER NOT NULL DEFAULT 0,"
    "  models TEXT NOT NULL DEFAULT '',"
    "  rpm INTEGER NOT NULL DEFAULT 0,"
    "  rpd INTEGER NOT NULL DEFAULT 0,"
    "  image_format TEXT NOT NULL DEFAULT '',"
    "  requests INTEGER NOT NULL DEFAULT 0,"
    "  last_used_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))"
    ");"
    "CREATE TABLE admin ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TABLE admin_sessions ("
    "  id TEXT PRIMARY KEY,"
    "  expires_at INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  client TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now'))"
    ");",

    /* version 5: the call log, written by the helper from the zone */
    "CREATE TABLE call_logs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL DEFAULT 0,"
    "  account_id INTEGER NOT NULL DEFAULT 0,"
    "  account TEXT NOT NULL DEFAULT '',"
    "  model TEXT NOT NULL DEFAULT '',"
    "  status INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  latency_ms INTEGER NOT NULL DEFAULT 0,"
    "  ttfb_ms INTEGER,"
    "  prompt_tokens INTEGER NOT NULL DEFAULT 0,"
    "  completion_tokens INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX call_logs_time ON call_logs (time);"
    "CREATE INDEX call_logs_key ON call_logs (key_id, id);",

    /* version 6: chat history text (NULL: not recorded) */
    "ALTER TABLE call_logs ADD COLUMN session TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE call_logs ADD COLUMN prompt TEXT;"
    "ALTER TABLE call_logs ADD COLUMN answer TEXT;",

    /* version 7: /v1/files, our id -> upstream file, session, account */
    "CREATE TABLE files ("
    "  id TEXT PRIMARY KEY,"
    "  upstream_id TEXT NOT NULL,"
    "  account_id INTEGER NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  session TEXT NOT NULL,"
    "  filename TEXT NOT NULL DEFAULT '',"
    "  mime TEXT NOT NULL DEFAULT '',"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  purpose TEXT NOT NULL DEFAULT '',"
    "  key_id INTEGER NOT NULL DEFAULT 0,"
    "  sha256 TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX files_key ON files (key_id, created_at);",

    /* version 8: the re-login's attempts */
    "CREATE TABLE relogin_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account_id INTEGER NOT NULL,"
    "  account TEXT NOT NULL DEFAULT '',"
    "  started INTEGER NOT NULL,"
    "  finished INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  step TEXT NOT NULL DEFAULT '',"
    "  manual INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX relogin_history_account ON relogin_history "
    "(account_id, id);",

    /* version 9: other names a model answers to ("gpt-4o,claude-*") */
    "ALTER TABLE models ADD COLUMN aliases TEXT NOT NULL DEFAULT '';",

    /* version 10: when an account's last error was set (the accounts
       migration, number 12 in the session's plan: renumbered at merge) */
    "ALTER TABLE account_state ADD COLUMN last_error_at INTEGER NOT NULL "
    "DEFAULT 0;",

    /* version 11: the chat page's conversations and messages */

    /*
     * (per owner: key_id 0 is the admin; an API key row with a session is
     * a console chat credential, tied to that admin session)
     */
    "CREATE TABLE chats ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key_id INTEGER NOT NULL DEFAULT 0,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  model TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX chats_key ON chats (key_id, updated_at);"
    "CREATE TABLE chat_messages ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('user','assistant')),"
    "  content TEXT NOT NULL DEFAULT '',"
    "  reasoning TEXT NOT NULL DEFAULT '',"
    "  attachments TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX chat_messages_chat ON chat_messages (chat_id, id);"
    "ALTER TABLE api_keys ADD COLUMN session TEXT NOT NULL DEFAULT '';",

    /* version 12: the history's conversations (an API key's session) */
    "CREATE INDEX call_logs_session ON call_logs (key_id, session);",

    /* version 13: the shared configuration (docs/cluster.md): an id of
       each account that is the same on every gateway, and the change
       feed, filled by triggers on every path that writes a record (the
       admin API, the console, the import, the re-login), which the
       helper publishes to Redis */
    "ALTER TABLE accounts ADD COLUMN uid TEXT NOT NULL DEFAULT '';"
    "UPDATE accounts SET uid = lower(hex(randomblob(16)));"
    "CREATE UNIQUE INDEX accounts_uid ON accounts (uid) WHERE uid != '';"
    "CREATE TABLE config_changes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  bulk INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE config_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TRIGGER config_account_add AFTER INSERT ON accounts BEGIN"
    "  UPDATE accounts SET uid = lower(hex(randomblob(16)))"
    "    WHERE id = NEW.id AND uid = '';"
    "  INSERT INTO config_changes (kind, key)"
    "    SELECT 'account', uid FROM accounts WHERE id = NEW.id;"
    "END;"
    "CREATE TRIGGER config_account_set AFTER UPDATE OF name, team_id,"
    "  csesidx, secure_c_ses, host_c_oses, user_agent, proxy, enabled,"
    "  tempmail_url, tempmail_name ON accounts"
    "  WHEN OLD.name IS NOT NEW.name OR OLD.team_id IS NOT NEW.team_id"
    "  OR OLD.csesidx IS NOT NEW.csesidx"
    "  OR OLD.secure_c_ses IS NOT NEW.secure_c_ses"
    "  OR OLD.host_c_oses IS NOT NEW.host_c_oses"
    "  OR OLD.user_agent IS NOT NEW.user_agent OR OLD.proxy IS NOT NEW.proxy"
    "  OR OLD.enabled IS NOT NEW.enabled"
    "  OR OLD.tempmail_url IS NOT NEW.tempmail_url"
    "  OR OLD.tempmail_name IS NOT NEW.tempmail_name BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('account', NEW.uid);"
    "END;"
    "CREATE TRIGGER config_account_del AFTER DELETE ON accounts BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('account', OLD.uid);"
    "END;"
    "CREATE TRIGGER config_model_add AFTER INSERT ON models BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('model', NEW.name);"
    "END;"
    "CREATE TRIGGER config_model_set AFTER UPDATE ON models BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('model', NEW.name);"
    "  INSERT INTO config_changes (kind, key)"
    "    SELECT 'model', OLD.name WHERE OLD.name != NEW.name;"
    "END;"
    "CREATE TRIGGER config_model_del AFTER DELETE ON models BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('model', OLD.name);"
    "END;"
    "CREATE TRIGGER config_setting_set AFTER UPDATE OF value ON settings"
    "  WHEN OLD.value IS NOT NEW.value BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('setting', NEW.key);"
    "END;"
    "CREATE TRIGGER config_key_add AFTER INSERT ON api_keys BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('key', NEW.key_hash);"
    "END;"
    "CREATE TRIGGER config_key_set AFTER UPDATE OF name, prefix, enabled,"
    "  expires_at, models, rpm, rpd, image_format ON api_keys"
    "  WHEN OLD.name IS NOT NEW.name OR OLD.prefix IS NOT NEW.prefix"
    "  OR OLD.enabled IS NOT NEW.enabled"
    "  OR OLD.expires_at IS NOT NEW.expires_at"
    "  OR OLD.models IS NOT NEW.models OR OLD.rpm IS NOT NEW.rpm"
    "  OR OLD.rpd IS NOT NEW.rpd"
    "  OR OLD.image_format IS NOT NEW.image_format"
    "  BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('key', NEW.key_hash);"
    "END;"
    "CREATE TRIGGER config_key_del AFTER DELETE ON api_keys BEGIN"
    "  INSERT INTO config_changes (kind, key) VALUES ('key', OLD.key_hash);"
    "END;"
    "INSERT INTO config_changes (kind, key, bulk)"
    "  SELECT 'account', uid, 1 FROM accounts;"
    "INSERT INTO config_changes (kind, key, bulk)"
    "  SELECT 'model', name, 1 FROM models;"
    "INSERT INTO config_changes (kind, key, bulk)"
    "  SELECT 'setting', key, 1 FROM settings;"
    "INSERT INTO config_changes (kind, key, bulk)"
    "  SELECT 'key', key_hash, 1 FROM api_keys;",

    NULL
};


static ngx_int_t
ngx_gp_store_exec(sqlite3 *db, const char *sql, ngx_log_t *log)
{
    char  *err;

    err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "gemini pool: sqlite: %s", err ? err : "error");
        sqlite3_free(err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_gp_store_error(sqlite3 *db, ngx_log_t *log)
{
    ngx_log_error(NGX_LOG_EMERG, log, 0, "gemini pool: sqlite: %s",
                  sqlite3_errmsg(db));

    return NGX_ERROR;
}


ngx_int_t
ngx_gp_store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
    ngx_log_t *log)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        if (ngx_gp_store_busy_level(db) == NGX_LOG_INFO) {
            ngx_log_error(NGX_LOG_INFO, log, 0, "gemini pool: sqlite: %s",
                          sqlite3_errmsg(db));
            return NGX_ERROR;
        }

        return ngx_gp_store_error(db, log);
    }

    return NGX_OK;
}


/* after a load's loop: rc is what the last sqlite3_step() returned */

static ngx_int_t
ngx_gp_store_done(sqlite3 *db, sqlite3_stmt *st, int rc, ngx_log_t *log)
{
    sqlite3_finalize(st);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return ngx_gp_store_error(db, log);
    }

    return NGX_OK;
}


/* a load's table has more rows than the zone holds */

static ngx_uint_t
ngx_gp_store_full(ngx_uint_t n, ngx_uint_t max, const char *what,
    const char *fate, ngx_log_t *log)
{
    if (n < max) {
        return 0;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "gemini pool: more than %ui %s, the rest are %s", max, what,
                  fate);

    return 1;
}


static ngx_int_t
ngx_gp_store_migrate(sqlite3 *db, ngx_log_t *log)
{
    int            version, target;
    sqlite3_stmt  *st;
    char           sql[64];

    if (ngx_gp_store_prepare(db, "PRAGMA user_version", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    version = (sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int(st, 0)
                                               : 0;
    sqlite3_finalize(st);

    for (target = 0; ngx_gp_migrations[target]; target++) { /* void */ }

    if (version > target) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "gemini pool: the database has schema version %d, "
                      "newer than this module's %d; use a newer module",
                      version, target);
        return NGX_ERROR;
    }

    while (version < target) {

        if (ngx_gp_store_exec(db, "BEGIN IMMEDIATE", log) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_sprintf((u_char *) sql, "PRAGMA user_version = %d%Z",
                    version + 1);

        if (ngx_gp_store_exec(db, ngx_gp_migrations[version], log) != NGX_OK
            || ngx_gp_store_exec(db, sql, log) != NGX_OK
            || ngx_gp_store_exec(db, "COMMIT", log) != NGX_OK)
        {
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return NGX_ERROR;
        }

        version++;

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "gemini pool: database schema migrated to version %d",
                      version);
    }

    return NGX_OK;
}


/*
 * Every setting of the table is inserted with its default on start,
 * without touching values an operator already changed.
 */

static ngx_int_t
ngx_gp_store_defaults(sqlite3 *db, ngx_log_t *log)
{
    ngx_int_t      rc;
    ngx_uint_t     i;
    sqlite3_stmt  *st;

    if (ngx_gp_store_prepare(db, "INSERT OR IGNORE INTO settings "
                             "(key, type, value) VALUES (?, ?, ?)", &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    for (i = 0; i < NGX_GP_SET_N; i++) {
        sqlite3_bind_text(st, 1, ngx_gp_settings_table[i].key, -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ngx_gp_setting_type_name(i), -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ngx_gp_settings_table[i].dflt, -1,
                          SQLITE_STATIC);

        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = ngx_gp_store_error(db, log);
            break;
        }

        sqlite3_reset(st);
    }

    sqlite3_finalize(st);

    return rc;
}


/*
 * The database holds the call logs and the chat history: like the key and
 * secret files it is readable by its owner only.  A new file is created
 * 0600 before SQLite opens it (an empty file is an empty database, and
 * SQLite gives its journal the database's mode); an existing one, or a
 * companion file, with looser bits is tightened with a notice.
 */

static void
ngx_gp_store_file_mode(ngx_str_t *path, ngx_log_t *log)
{
    int           fd;
    char          was[8], now[8];
    u_char        name[NGX_MAX_PATH];
    ngx_uint_t    i;
    struct stat   st;

    static const char  *suffix[] = { "", "-journal", "-wal", "-shm" };

    for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {

        if (path->len + ngx_strlen(suffix[i]) >= sizeof(name)) {
            return;
        }

        ngx_sprintf(name, "%V%s%Z", path, suffix[i]);

        if (stat((char *) name, &st) == -1) {
            if (i == 0 && ngx_errno == NGX_ENOENT) {
                fd = open((char *) name, O_WRONLY | O_CREAT | O_EXCL, 0600);

                /* a failure is SQLite's to report, with its own words */

                if (fd != -1) {
                    (void) close(fd);
                }
            }

            continue;
        }

        if ((st.st_mode & 077) == 0) {
            continue;
        }

        (void) snprintf(was, sizeof(was), "%04o",
                        (unsigned) (st.st_mode & 07777));
        (void) snprintf(now, sizeof(now), "%04o",
                        (unsigned) (st.st_mode & 07700));

        if (chmod((char *) name, st.st_mode & 07700) == -1) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "gemini pool: \"%s\" is mode %s, readable by "
                          "others, and chmod() failed", name, was);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "gemini pool: \"%s\" was mode %s, now %s (readable "
                      "by its owner only)", name, was, now);
    }
}


ngx_int_t
ngx_gp_store_open(ngx_str_t *path, ngx_log_t *log, sqlite3 **db)
{
    int  rc;

    ngx_gp_store_file_mode(path, log);

    rc = sqlite3_open_v2((char *) path->data, db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "gemini pool: cannot open database \"%V\": %s", path,
                      *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return NGX_ERROR;
    }

    sqlite3_busy_timeout(*db, 5000);

    if (ngx_gp_store_exec(*db, "PRAGMA foreign_keys = ON", log) != NGX_OK
        || ngx_gp_store_migrate(*db, log) != NGX_OK
        || ngx_gp_store_defaults(*db, log) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "gemini pool: database \"%V\" is not usable", path);
        sqlite3_close(*db);
        *db = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_gp_store_text(sqlite3_stmt *st, int col, u_char *dst, size_t size,
    const char *what, int64_t id, ngx_log_t *log)
{
    size_t         len;
    const u_char  *p;

    p = sqlite3_column_text(st, col);
    len = (size_t) sqlite3_column_bytes(st, col);

    if (p == NULL) {
        dst[0] = '\0';
        return;
    }

    if (len >= size) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: account %L: %s is %uz bytes, "
                      "longer than %uz; truncated", id, what, len, size - 1);
        len = size - 1;
    }

    ngx_memcpy(dst, p, len);
    dst[len] = '\0';
}


/*
 * Secrets at rest.  Every value in these columns is kept as "enc:v1:..."
 * (AES-256-GCM, the column's name as associated data).  The store's own
 * writers (the admin API, the import) seal as they write; an outside
 * writer (the account script) may store plain text: loading encrypts it
 * in place, so the database holds no secret in clear past the next load.
 */

typedef struct {
    const char   *table;
    const char   *column;
    const char   *where;
    const char   *aad;
} ngx_gp_secret_col_t;


static ngx_gp_secret_col_t  ngx_gp_secret_cols[] = {
    { "accounts", "secure_c_ses", "1", "accounts.secure_c_ses" },
    { "accounts", "host_c_oses", "1", "accounts.host_c_oses" },
    { "accounts", "proxy", "1", "accounts.proxy" },
    { "accounts", "tempmail_url", "1", "accounts.tempmail_url" },
    { "settings", "value", NULL, "settings.value" },   /* secret ones */
    { NULL, NULL, NULL, NULL }
};


typedef struct {
    int64_t   rowid;
    char     *text;
} ngx_gp_reseal_t;


static ngx_int_t
ngx_gp_store_seal_column(sqlite3 *db, ngx_gp_zone_t *z,
    ngx_gp_secret_col_t *c, ngx_log_t *log)
{
    int                                 rc;
    u_char                             *p;
    char                               *plain, *enc, sql[512];
    size_t                              len, plen, n, cap, i;
    int64_t                             rowid;
    const char                         *text;
    sqlite3_stmt                       *st;
    ngx_gp_reseal_t                    *up, *nu;
    ngx_http_gemini_pool_main_conf_t   *gmcf;

    gmcf = z->gmcf;

    if (c->where) {
        ngx_sprintf((u_char *) sql, "SELECT rowid, %s FROM %s WHERE %s != '' "
                    "AND %s%Z", c->column, c->table, c->column, c->where);

    } else {
        /* the settings whose row of the table says secret */
        p = ngx_sprintf((u_char *) sql, "SELECT rowid, %s FROM %s WHERE "
                        "%s != '' AND key IN (''", c->column, c->table,
                        c->column);

        for (i = 0; i < NGX_GP_SET_N; i++) {
            if (ngx_gp_setting_secret(i)) {
                p = ngx_sprintf(p, ", '%s'", ngx_gp_settings_table[i].key);
            }
        }

        ngx_sprintf(p, ")%Z");
    }

    if (ngx_gp_store_prepare(db, sql, &st, log) != NGX_OK) {
        return NGX_ERROR;
    }

    up = NULL;
    n = 0;
    cap = 0;
    rc = NGX_OK;

    while (sqlite3_step(st) == SQLITE_ROW) {
        rowid = sqlite3_column_int64(st, 0);
        text = (const char *) sqlite3_column_text(st, 1);
        len = (size_t) sqlite3_column_bytes(st, 1);

        if (text == NULL) {
            continue;
        }

        enc = NULL;

        if (!ngx_gp_secret_is_encrypted(text, len)) {
            enc = ngx_gp_secret_encrypt(gmcf->secret_key, c->aad, text, len);

        } else {
            plain = ngx_gp_secret_decrypt(gmcf->secret_key, c->aad, text,
                                          len, &plen);
            if (plain) {
                ngx_explicit_memzero(plain, plen);
                free(plain);
                continue;
            }

            plain = gmcf->has_old_key
                    ? ngx_gp_secret_decrypt(gmcf->secret_key_old, c->aad,
                                            text, len, &plen)
                    : NULL;

            if (plain == NULL) {
                ngx_log_error(NGX_LOG_EMERG, log, 0,
                              "gemini pool: cannot decrypt %s of row %L: "
                              "the encryption key (API_KEY_ENCRYPTION_KEY "
                              "or the database's .key file) is not the one "
                              "the database was written with; to rotate, "
                              "give the old key in "
                              "API_KEY_ENCRYPTION_KEY_OLD", c->aad, rowid);
                rc = NGX_ERROR;
                break;
            }

            enc = ngx_gp_secret_encrypt(gmcf->secret_key, c->aad, plain,
                                        plen);
            ngx_explicit_memzero(plain, plen);
            free(plain);
        }

        if (enc == NULL) {
            rc = NGX_ERROR;
            break;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            nu = realloc(up, cap * sizeof(ngx_gp_reseal_t));
            if (nu == NULL) {
                free(enc);
                rc = NGX_ERROR;
                break;
            }

            up = nu;
        }

        up[n].rowid = rowid;
        up[n].text = enc;
        n++;
    }

    sqlite3_finalize(st);

    if (rc == NGX_OK && n) {
        ngx_sprintf((u_char *) sql, "UPDATE %s SET %s = ? WHERE rowid = ?%Z",
                    c->table, c->column);

        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
            != SQLITE_OK
            || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        {
            rc = NGX_ERROR;

        } else {
            for (i = 0; i < n && rc == NGX_OK; i++) {
                sqlite3_bind_text(st, 1, up[i].text, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, up[i].rowid);

                if (sqlite3_step(st) != SQLITE_DONE) {
                    rc = NGX_ERROR;
                }

                sqlite3_reset(st);
            }

            sqlite3_finalize(st);
        }

        if (rc == NGX_OK
            && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "gemini pool: %uz value(s) of %s encrypted", n,
                          c->aad);

        } else {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "gemini pool: encrypting %s failed: %s", c->aad,
                          sqlite3_errmsg(db));
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            rc = NGX_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        free(up[i].text);
    }

    free(up);

    return rc;
}


static ngx_int_t
ngx_gp_store_seal(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    ngx_gp_secret_col_t  *c;

    for (c = ngx_gp_secret_cols; c->table; c++) {
        if (ngx_gp_store_seal_column(db, z, c, log) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a sealed column into dst, decrypted */

ngx_int_t
ngx_gp_store_secret(sqlite3_stmt *st, int col, u_char *dst, size_t size,
    const char *aad, int64_t id, ngx_gp_zone_t *z, ngx_log_t *log)
{
    char          *plain;
    size_t         len, plen;
    const char    *text;

    text = (const char *) sqlite3_column_text(st, col);
    len = (size_t) sqlite3_column_bytes(st, col);

    dst[0] = '\0';

    if (text == NULL || len == 0) {
        return NGX_OK;
    }

    plain = ngx_gp_secret_decrypt(z->gmcf->secret_key, aad, text, len,
                                  &plen);
    if (plain == NULL) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "gemini pool: cannot decrypt %s of %L", aad, id);
        return NGX_ERROR;
    }

    if (plen >= size) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: %s of %L is %uz bytes, longer than %uz; "
                      "truncated", aad, id, plen, size - 1);
        plen = size - 1;
    }

    ngx_memcpy(dst, plain, plen);
    dst[plen] = '\0';

    ngx_explicit_memzero(plain, plen);
    free(plain);

    return NGX_OK;
}


/* the long strings of an account: their length in one allocation */

static size_t
ngx_gp_store_strings_len(ngx_gp_account_t *acc)
{
    return ngx_strlen(acc->secure_c_ses) + 1 + ngx_strlen(acc->host_c_oses)
           + 1 + ngx_strlen(acc->user_agent) + 1 + ngx_strlen(acc->proxy)
           + 1;
}


/* copies them to dst (one allocation) and points the account there */

static void
ngx_gp_store_strings_put(ngx_gp_account_t *acc, u_char *dst)
{
    u_char  *s;

#define ngx_gp_store_string_put(field)                                       \
    s = acc->field;                                                          \
    acc->field = dst;                                                        \
    dst = ngx_cpymem(dst, s, ngx_strlen(s) + 1)

    ngx_gp_store_string_put(secure_c_ses);
    ngx_gp_store_string_put(host_c_oses);
    ngx_gp_store_string_put(user_agent);
    ngx_gp_store_string_put(proxy);

#undef ngx_gp_store_string_put
}


/* one row's strings, read into process memory */
typedef struct {
    u_char                   secure_c_ses[NGX_GP_COOKIE_LEN];
    u_char                   host_c_oses[NGX_GP_COOKIE_LEN];
    u_char                   user_agent[NGX_GP_UA_LEN];
    u_char                   proxy[NGX_GP_PROXY_LEN];
} ngx_gp_store_strings_t;


static ngx_int_t
ngx_gp_store_read_account(sqlite3_stmt *st, ngx_gp_account_t *acc,
    ngx_gp_store_strings_t *t, ngx_gp_zone_t *z, ngx_log_t *log)
{
    u_char  *blob;

    ngx_memzero(acc, sizeof(ngx_gp_account_t));

    acc->id = sqlite3_column_int64(st, 0);
    ngx_gp_store_text(st, 1, acc->name, NGX_GP_NAME_LEN, "name",
                      acc->id, log);
    ngx_gp_store_text(st, 2, acc->team_id, NGX_GP_TEAM_LEN, "team_id",
                      acc->id, log);
    ngx_gp_store_text(st, 3, acc->csesidx, NGX_GP_CSESIDX_LEN,
                      "csesidx", acc->id, log);
    if (ngx_gp_store_secret(st, 4, t->secure_c_ses, NGX_GP_COOKIE_LEN,
                            "accounts.secure_c_ses", acc->id, z, log)
        != NGX_OK
        || ngx_gp_store_secret(st, 5, t->host_c_oses, NGX_GP_COOKIE_LEN,
                               "accounts.host_c_oses", acc->id, z, log)
           != NGX_OK
        || ngx_gp_store_secret(st, 13, t->proxy, NGX_GP_PROXY_LEN,
                               "accounts.proxy", acc->id, z, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_gp_store_text(st, 6, t->user_agent, NGX_GP_UA_LEN, "user_agent",
                      acc->id, log);
    acc->enabled = sqlite3_column_int(st, 7) ? 1 : 0;
    acc->cookie_expired = sqlite3_column_int(st, 8) ? 1 : 0;
    acc->cooldown_until[NGX_GP_QUOTA_TEXT] = sqlite3_column_int64(st, 9);
    acc->cooldown_until[NGX_GP_QUOTA_IMAGES] = sqlite3_column_int64(st, 10);
    acc->cooldown_until[NGX_GP_QUOTA_VIDEOS] = sqlite3_column_int64(st, 11);
    ngx_gp_store_text(st, 12, acc->last_error, sizeof(acc->last_error),
                      "last_error", acc->id, log);
    acc->last_error_at = sqlite3_column_int64(st, 14);

    if (t->proxy[0] && ngx_strcmp(t->proxy, "direct") != 0
        && !ngx_gp_proxy_valid(t->proxy))
    {
        u_char  masked[NGX_GP_PROXY_LEN];

        (void) ngx_gp_mask_url((char *) t->proxy, masked, sizeof(masked));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: account %L: proxy \"%s\" is not a "
                      "proxy URL; the global proxy applies", acc->id,
                      masked);
        t->proxy[0] = '\0';
    }

    if (acc->name[0] == '\0') {
        ngx_sprintf(acc->name, "account-%L%Z", acc->id);
    }

    /* the strings in process memory until they go into the zone */

    acc->secure_c_ses = t->secure_c_ses;
    acc->host_c_oses = t->host_c_oses;
    acc->user_agent = t->user_agent;
    acc->proxy = t->proxy;

    blob = ngx_alloc(ngx_gp_store_strings_len(acc), log);

    if (blob == NULL) {
        return NGX_ERROR;
    }

    ngx_gp_store_strings_put(acc, blob);

    ngx_explicit_memzero(t, sizeof(ngx_gp_store_strings_t));

    return NGX_OK;
}


static void
ngx_gp_store_free_accounts(ngx_gp_account_t *a, size_t n)
{
    size_t  i, len;

    for (i = 0; i < n; i++) {
        len = ngx_gp_store_strings_len(&a[i]);
        ngx_explicit_memzero(a[i].secure_c_ses, len);
        ngx_free(a[i].secure_c_ses);
    }

    ngx_free(a);
}


/*
 * The accounts of the database into the zone, or (check set) only whether
 * they fit: the array of slots (grown to ngx_gp_zone_capacity(n) when it
 * is short) and each account's strings are allocated first, conversation
 * bindings making room; when something does not fit, nothing in the zone
 * changes and room says how big the zone must be (NGX_DECLINED).
 */

static ngx_int_t
ngx_gp_store_load_accounts(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log,
    ngx_uint_t check, ngx_gp_store_room_t *room)
{
    int                 rc;
    size_t              n, cap, m, need, size;
    u_char            **zb;
    ngx_uint_t          i, k, ok, level;
    sqlite3_stmt       *st;
    ngx_gp_shctx_t     *sh;
    ngx_gp_account_t   *a, *acc, *arr, *o;
    ngx_int_t          *from;
    ngx_gp_store_strings_t  t;

    if (ngx_gp_store_prepare(db, "SELECT a.id, a.name, a.team_id, "
                             "a.csesidx, a.secure_c_ses, a.host_c_oses, "
                             "a.user_agent, a.enabled, a.cookie_expired, "
                             "ifnull(s.cooldown_text, 0), "
                             "ifnull(s.cooldown_images, 0), "
                             "ifnull(s.cooldown_videos, 0), "
                             "ifnull(s.last_error, ''), a.proxy, "
                             "ifnull(s.last_error_at, 0) "
                             "FROM accounts a LEFT JOIN account_state s "
                             "ON s.account_id = a.id ORDER BY a.id",
                             &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = 0;
    cap = 16;
    a = ngx_alloc(cap * sizeof(ngx_gp_account_t), log);
    if (a == NULL) {
        sqlite3_finalize(st);
        return NGX_ERROR;
    }

    for ( ;; ) {
        rc = sqlite3_step(st);

        if (rc == SQLITE_DONE) {
            break;
        }

        if (rc != SQLITE_ROW) {
            (void) ngx_gp_store_error(db, log);
            sqlite3_finalize(st);
            ngx_gp_store_free_accounts(a, n);
            return NGX_ERROR;
        }

        if (n == cap) {
            acc = ngx_alloc(2 * cap * sizeof(ngx_gp_account_t), log);
            if (acc == NULL) {
                sqlite3_finalize(st);
                ngx_gp_store_free_accounts(a, n);
                return NGX_ERROR;
            }

            ngx_memcpy(acc, a, n * sizeof(ngx_gp_account_t));
            ngx_free(a);
            a = acc;
            cap *= 2;
        }

        if (ngx_gp_store_read_account(st, &a[n], &t, z, log) != NGX_OK) {
            ngx_explicit_memzero(&t, sizeof(ngx_gp_store_strings_t));
            sqlite3_finalize(st);
            ngx_gp_store_free_accounts(a, n);
            return NGX_ERROR;
        }

        n++;
    }

    sqlite3_finalize(st);

    zb = ngx_alloc(n * sizeof(u_char *) + 1, log);
    if (zb == NULL) {
        ngx_gp_store_free_accounts(a, n);
        return NGX_ERROR;
    }

    /* where each account was: the holders' counts follow it */

    from = ngx_alloc(n * sizeof(ngx_int_t) + 1, log);
    if (from == NULL) {
        ngx_free(zb);
        ngx_gp_store_free_accounts(a, n);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        from[i] = -1;
    }

    sh = z->sh;

    ngx_shmtx_lock(&z->shpool->mutex);

    /* everything it needs first: a full zone changes nothing */

    ok = 1;
    need = 0;
    arr = NULL;
    cap = sh->capacity;

    if (n > sh->capacity || sh->accounts == NULL) {
        cap = ngx_gp_zone_capacity(n);
        size = cap * sizeof(ngx_gp_account_t);
        need += ngx_gp_zone_slab_size(size);

        arr = ngx_gp_zone_alloc_locked(z, size);
        ok = (arr != NULL);
    }

    for (m = 0, i = 0; i < n; i++) {
        size = ngx_gp_store_strings_len(&a[i]);
        need += ngx_gp_zone_slab_size(size);

        if (ok) {
            zb[i] = ngx_gp_zone_alloc_locked(z, size);
            ok = (zb[i] != NULL);
            m += ok;
        }
    }

    if (!ok || check) {
        for (i = 0; i < m; i++) {
            ngx_slab_free_locked(z->shpool, zb[i]);
        }

        if (arr) {
            ngx_slab_free_locked(z->shpool, arr);
        }

        size = z->shpool->end - (u_char *) z->shpool;

        /*
         * what is used now and what they need, each page with its
         * descriptor, and pages for the small allocations' slots: each
         * of the slab's nine size classes (8 bytes to 2k) may leave a
         * page partly used in the old layout and one in the new
         */

        need = size - z->shpool->pfree * ngx_pagesize + need
               + need / ngx_pagesize * sizeof(ngx_slab_page_t)
               + 16 * ngx_pagesize;
        need = ngx_align(need, 65536);

        if (room) {
            room->accounts = n;
            room->size = size;
            room->needed = need;
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        ngx_free(from);
        ngx_free(zb);
        ngx_gp_store_free_accounts(a, n);

        if (ok) {
            return NGX_OK;
        }

        level = check ? NGX_LOG_WARN : NGX_LOG_EMERG;

        ngx_log_error(level, log, 0,
                      "gemini pool: gemini_pool_zone \"%V\" (%uzk) has no "
                      "room for %uz accounts; raise it to at least %uzk",
                      &z->gmcf->zone_name, size / 1024, n, need / 1024);

        return NGX_DECLINED;
    }

    /*
     * runtime state follows the account by id (both lists are in id
     * order); new credentials drop it
     */

    for (i = 0, k = 0; i < n && k < sh->naccounts; i++) {
        while (k < sh->naccounts && sh->accounts[k].id < a[i].id) {
            k++;
        }

        if (k == sh->naccounts || sh->accounts[k].id != a[i].id) {
            continue;
        }

        o = &sh->accounts[k];
        from[i] = (ngx_int_t) k;

        /*
         * the zone is newer than the database (the helper persists state
         * within a tick): keep its runtime state, unless the credentials
         * changed, which renews the account
         */

        if (o->secure_c_ses
            && ngx_strcmp(o->secure_c_ses, a[i].secure_c_ses) == 0
            && ngx_strcmp(o->csesidx, a[i].csesidx) == 0)
        {
            a[i].cookie_expired |= o->cookie_expired;
            a[i].state_gen = o->state_gen;
            a[i].saved_gen = o->saved_gen;
            ngx_memcpy(a[i].jwt, o->jwt, NGX_GP_JWT_LEN);
            a[i].jwt_iat = o->jwt_iat;
            ngx_memcpy(a[i].cooldown_until, o->cooldown_until,
                       sizeof(a[i].cooldown_until));
            ngx_memcpy(a[i].rate_limited, o->rate_limited,
                       sizeof(a[i].rate_limited));
            ngx_memcpy(a[i].last_error, o->last_error,
                       sizeof(a[i].last_error));
            a[i].last_error_at = o->last_error_at;

            /* spare sessions: of the same user and team only */
            if (ngx_strcmp(o->team_id, a[i].team_id) == 0
                && ngx_strcmp(o->host_c_oses, a[i].host_c_oses) == 0)
            {
                a[i].nspares = o->nspares;
                a[i].spare_retry = o->spare_retry;
                ngx_memcpy(a[i].spares, o->spares, sizeof(a[i].spares));
                o->nspares = 0;
            }
        }

        /* renewed cookies (a login, a save, a reload): spares forgotten,
           new ones at the helper's next tick */
        sh->metrics.spares_dropped += o->nspares;

        /* a login under way or its record outlives a load */
        a[i].relogin = o->relogin;
        a[i].sync = o->sync;
        a[i].requests = o->requests;
        a[i].failures = o->failures;
        a[i].xsrf_calls = o->xsrf_calls;
        a[i].in_flight = o->in_flight;
        a[i].last_used = o->last_used;
        a[i].tested_at = o->tested_at;
        a[i].tested_ok = o->tested_ok;
        a[i].tested_status = o->tested_status;
    }

    /* the old strings go, the new ones move in */

    for (k = 0; k < sh->naccounts; k++) {
        if (sh->accounts[k].secure_c_ses) {
            ngx_slab_free_locked(z->shpool, sh->accounts[k].secure_c_ses);
        }
    }

    if (arr) {
        if (sh->accounts) {
            ngx_slab_free_locked(z->shpool, sh->accounts);
        }

        sh->accounts = arr;
        sh->capacity = cap;
    }

    ngx_memzero(sh->accounts, sh->capacity * sizeof(ngx_gp_account_t));

    for (i = 0; i < n; i++) {
        sh->accounts[i] = a[i];
        ngx_gp_store_strings_put(&sh->accounts[i], zb[i]);
    }

    sh->naccounts = n;
    sh->accounts_gen++;

    ngx_gp_zone_holders_move_locked(z, from, n);
    ngx_free(from);

    if (sh->rr_cursor >= n) {
        sh->rr_cursor = 0;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_free(zb);
    ngx_gp_store_free_accounts(a, n);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "gemini pool: %uz account(s) loaded", n);

    return NGX_OK;
}


/*
 * Whether the accounts of the process's connection (its transaction's
 * writes included) fit the zone: the admin API and the import ask before
 * they commit.  NGX_DECLINED: room says how big the zone must be.
 */

ngx_int_t
ngx_gp_store_zone_room(ngx_log_t *log, ngx_gp_store_room_t *room)
{
    sqlite3        *db;
    ngx_gp_zone_t  *z;

    db = ngx_gp_store_db(log);
    z = ngx_gp_zone();

    if (db == NULL || z == NULL) {
        return NGX_ERROR;
    }

    return ngx_gp_store_load_accounts(db, z, log, 1, room);
}


/*
 * Every slot of the zone gets a value: the stored one when the table's
 * check takes it, else (with a line in the log) the default.  Rows of
 * settings this version does not know are left alone.
 */

static ngx_int_t
ngx_gp_store_load_settings(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    int                rc;
    u_char             masked[NGX_GP_PROXY_LEN];
    ngx_int_t          i;
    ngx_uint_t         k;
    const char        *key, *err;
    sqlite3_stmt      *st;
    ngx_gp_setting_t   s[NGX_GP_SET_N], v;

    for (k = 0; k < NGX_GP_SET_N; k++) {
        ngx_gp_setting_default(k, &s[k]);
    }

    if (ngx_gp_store_prepare(db, "SELECT key, value FROM settings "
                             "ORDER BY key", &st, log)
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

        if (ngx_gp_setting_secret(i)) {
            if (ngx_gp_store_secret(st, 1, v.value, NGX_GP_SETTING_VALUE_LEN,
                                    "settings.value", 0, z, log)
                != NGX_OK)
            {
                sqlite3_finalize(st);
                return NGX_ERROR;
            }

        } else {
            ngx_gp_store_text(st, 1, v.value, NGX_GP_SETTING_VALUE_LEN,
                              "setting value", 0, log);
        }

        err = ngx_gp_setting_check(i, v.value, &v.number);

        if (err == NULL) {
            s[i] = v;
            continue;
        }

        if (i == NGX_GP_SET_PROXY) {
            (void) ngx_gp_mask_url((char *) v.value, masked, sizeof(masked));
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: setting \"proxy\" is not a proxy "
                          "URL (\"%s\"): http://, https://, socks5:// or "
                          "socks5h:// expected; gemini_pool_proxy applies",
                          masked);

        } else {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: setting \"%s\" has an invalid value "
                          "\"%s\" (%s), its default applies", key,
                          v.value, err);
        }

        ngx_explicit_memzero(v.value, NGX_GP_SETTING_VALUE_LEN);
    }

    if (ngx_gp_store_done(db, st, rc, log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_memcpy(z->sh->settings, s, sizeof(s));
    z->sh->settings_gen++;
    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_explicit_memzero(s, sizeof(s));

    return NGX_OK;
}


static ngx_int_t
ngx_gp_store_load_models(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    int                rc;
    ngx_uint_t         n;
    sqlite3_stmt      *st;
    const char        *kind;
    ngx_gp_model_t     m[NGX_GP_MAX_MODELS];
    u_char             aliases[NGX_GP_MAX_MODELS][NGX_GP_ALIASES_LEN];

    if (ngx_gp_store_prepare(db, "SELECT name, model_id, kind, "
                             "ifnull(account_id, -1), aliases FROM models "
                             "WHERE enabled ORDER BY position, name",
                             &st, log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {

        if (ngx_gp_store_full(n, NGX_GP_MAX_MODELS, "models", "ignored",
                              log))
        {
            break;
        }

        ngx_gp_store_text(st, 0, m[n].name, NGX_GP_MODEL_LEN, "model name",
                          0, log);
        ngx_gp_store_text(st, 1, m[n].model_id, NGX_GP_MODEL_LEN,
                          "model id", 0, log);

        kind = (const char *) sqlite3_column_text(st, 2);
        m[n].kind = (kind && ngx_strcmp(kind, "image") == 0)
                    ? NGX_GP_MODEL_IMAGE
                    : (kind && ngx_strcmp(kind, "video") == 0)
                      ? NGX_GP_MODEL_VIDEO : NGX_GP_MODEL_TEXT;
        m[n].account = (ngx_int_t) sqlite3_column_int64(st, 3);
        ngx_gp_store_text(st, 4, aliases[n], NGX_GP_ALIASES_LEN,
                          "model aliases", 0, log);
        n++;
    }

    if (ngx_gp_store_done(db, st, rc, log) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_memcpy(z->sh->models, m, n * sizeof(ngx_gp_model_t));
    ngx_memcpy(z->sh->aliases, aliases, n * NGX_GP_ALIASES_LEN);
    z->sh->nmodels = n;
    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_OK;
}


static ngx_int_t
ngx_hex_decode_gp(u_char *dst, const u_char *src, size_t len)
{
    size_t   i;
    u_char   c, v;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c >= '0' && c <= '9') {
            v = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;

        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;

        } else {
            return NGX_ERROR;
        }

        if (i % 2 == 0) {
            dst[i / 2] = (u_char) (v << 4);

        } else {
            dst[i / 2] |= v;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_gp_store_load_keys(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    int             rc;
    size_t          len;
    ngx_uint_t      n, i, k;
    sqlite3_stmt   *st;
    ngx_gp_key_t   *keys, *key;
    const u_char   *hex;

    keys = ngx_alloc(NGX_GP_MAX_KEYS * sizeof(ngx_gp_key_t), log);
    if (keys == NULL) {
        return NGX_ERROR;
    }

    if (ngx_gp_store_prepare(db, "SELECT id, name, key_hash, enabled, "
                             "expires_at, models, rpm, rpd, image_format, "
                             "requests, last_used_at FROM api_keys "
                             "ORDER BY id", &st, log)
        != NGX_OK)
    {
        ngx_free(keys);
        return NGX_ERROR;
    }

    n = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {

        if (ngx_gp_store_full(n, NGX_GP_MAX_KEYS, "API keys", "not loaded",
                              log))
        {
            break;
        }

        key = &keys[n];
        ngx_memzero(key, sizeof(ngx_gp_key_t));

        key->id = sqlite3_column_int64(st, 0);
        ngx_gp_store_text(st, 1, key->name, NGX_GP_NAME_LEN, "key name",
                          key->id, log);

        hex = sqlite3_column_text(st, 2);
        len = (size_t) sqlite3_column_bytes(st, 2);

        if (hex == NULL || len != 64
            || ngx_hex_decode_gp(key->hash, hex, 64) != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "gemini pool: API key %L has a bad hash, "
                          "skipped", key->id);
            continue;
        }

        key->enabled = sqlite3_column_int(st, 3) ? 1 : 0;
        key->expires = sqlite3_column_int64(st, 4);
        ngx_gp_store_text(st, 5, key->models, NGX_GP_KEY_MODELS_LEN,
                          "key models", key->id, log);
        key->rpm = (ngx_uint_t) ngx_max(sqlite3_column_int64(st, 6), 0);
        key->rpd = (ngx_uint_t) ngx_max(sqlite3_column_int64(st, 7), 0);
        ngx_gp_store_text(st, 8, key->image_format,
                          sizeof(key->image_format), "key image_format",
                          key->id, log);
        key->requests = (uint64_t) sqlite3_column_int64(st, 9);
        key->last_used = sqlite3_column_int64(st, 10);
        n++;
    }

    if (ngx_gp_store_done(db, st, rc, log) != NGX_OK) {
        ngx_free(keys);
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    /* the rate windows and counters follow a key by id */

    for (i = 0; i < n; i++) {
        for (k = 0; k < z->sh->nkeys; k++) {
            if (z->sh->keys[k].id == keys[i].id) {
                keys[i].minute = z->sh->keys[k].minute;
                keys[i].minute_count = z->sh->keys[k].minute_count;
                keys[i].day = z->sh->keys[k].day;
                keys[i].day_count = z->sh->keys[k].day_count;
                keys[i].requests = ngx_max(keys[i].requests,
                                           z->sh->keys[k].requests);
                keys[i].last_used = ngx_max(keys[i].last_used,
                                            z->sh->keys[k].last_used);
                break;
            }
        }
    }

    ngx_memcpy(z->sh->keys, keys, n * sizeof(ngx_gp_key_t));
    z->sh->nkeys = n;

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_free(keys);

    return NGX_OK;
}


/* the zone's load: the newest NGX_GP_FILEMAP_SLOTS uploads into the ring */

static ngx_int_t
ngx_gp_store_load_files(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    int                      rc;
    ngx_uint_t               n;
    sqlite3_stmt            *st;
    ngx_gp_filemap_entry_t  *e;

    e = ngx_alloc(NGX_GP_FILEMAP_SLOTS * sizeof(ngx_gp_filemap_entry_t),
                  log);
    if (e == NULL) {
        return NGX_ERROR;
    }

    if (ngx_gp_store_prepare(db, "SELECT id, key_id, upstream_id, "
                             "account_id, session, filename, purpose, "
                             "bytes, created_at FROM files "
                             "ORDER BY created_at DESC, rowid DESC LIMIT ?1",
                             &st, log)
        != NGX_OK)
    {
        ngx_free(e);
        return NGX_ERROR;
    }

    sqlite3_bind_int(st, 1, NGX_GP_FILEMAP_SLOTS);

    /* newest first from SQLite, oldest first into the ring */

    n = NGX_GP_FILEMAP_SLOTS;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n > 0) {
        if (ngx_gp_filemap_entry(&e[n - 1],
                                 (const char *) sqlite3_column_text(st, 0),
                                 sqlite3_column_int64(st, 1),
                                 (const char *) sqlite3_column_text(st, 2),
                                 sqlite3_column_int64(st, 3),
                                 (const char *) sqlite3_column_text(st, 4))
            == NGX_OK
            && ngx_gp_filemap_meta(&e[n - 1],
                                 (const char *) sqlite3_column_text(st, 5),
                                 (const char *) sqlite3_column_text(st, 6),
                                 sqlite3_column_int64(st, 7),
                                 sqlite3_column_int64(st, 8), NULL, NULL)
               == NGX_OK)
        {
            n--;
        }
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "gemini pool: sqlite: %s",
                      sqlite3_errmsg(db));
        ngx_free(e);
        return NGX_ERROR;
    }

    ngx_gp_filemap_load(z, &e[n], NGX_GP_FILEMAP_SLOTS - n);

    ngx_free(e);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_store_load_all(sqlite3 *db, ngx_gp_zone_t *z, ngx_log_t *log)
{
    if (ngx_gp_store_seal(db, z, log) != NGX_OK
        || ngx_gp_store_load_accounts(db, z, log, 0, NULL) != NGX_OK
        || ngx_gp_store_load_settings(db, z, log) != NGX_OK
        || ngx_gp_store_load_models(db, z, log) != NGX_OK
        || ngx_gp_store_load_keys(db, z, log) != NGX_OK
        || ngx_gp_store_load_files(db, z, log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Runs in the master (and with "nginx -t") when the zone is created or
 * reused on reload: the durable facts replace the zone's copies, runtime
 * state of accounts that still exist is kept.
 */

ngx_int_t
ngx_gp_store_load(ngx_cycle_t *cycle, ngx_str_t *path, ngx_gp_zone_t *z)
{
    ngx_int_t         rc;
    sqlite3          *db;
    ngx_core_conf_t  *ccf;

    if (ngx_gp_store_open(path, cycle->log, &db) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_gp_store_load_all(db, z, cycle->log);

    sqlite3_close(db);

    /* the helper process writes to it later as the worker user */

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (rc == NGX_OK && geteuid() == 0 && ccf
        && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT)
    {
        if (chown((char *) path->data, ccf->user, ccf->group) == -1) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, ngx_errno,
                          "gemini pool: chown(\"%V\") failed", path);
        }
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    z->sh->loaded = ngx_time();
    z->sh->loads++;
    z->sh->db_ok = (rc == NGX_OK);
    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/*
 * The zone's init callback: zone.c lays the zone out, the store fills it
 * from SQLite (on start and on every reload: the database is the truth).
 */

ngx_int_t
ngx_gp_store_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_gp_zone_t  *ctx;

    if (ngx_gp_zone_init(shm_zone, data) != NGX_OK) {
        return NGX_ERROR;
    }

    if (data == NULL && shm_zone->shm.exists) {
        return NGX_OK;
    }

    ctx = shm_zone->data;

    return ngx_gp_store_load(ctx->cycle, &ctx->gmcf->database, ctx);
}


/*
 * A process's own connection, opened on first use and kept: the helper
 * writes state and history, a worker writes what the admin API changes.
 *
 * It never waits long for a lock another process holds (the account
 * command, a backup, an operator's sqlite3): a worker serves streams
 * while it waits, so it waits NGX_GP_STORE_WAIT_ADMIN ms on the admin
 * path and not at all on the /v1 path (ngx_gp_store_wait() sets it); the
 * helper waits NGX_GP_STORE_WAIT_HELPER ms and tries again on its next
 * tick.  ngx_gp_store_busy() says whether a statement gave up on a lock.
 */

/* the call log entries the helper writes in one tick, at most */
#define NGX_GP_STORE_EVENTS  256

static sqlite3     *ngx_gp_process_db;
static ngx_msec_t   ngx_gp_store_wait_ms = NGX_GP_STORE_WAIT_ADMIN;
static ngx_uint_t   ngx_gp_store_busy_hit;


static int
ngx_gp_store_busy_handler(void *data, int count)
{
    if ((ngx_msec_t) count * 10 >= ngx_gp_store_wait_ms) {
        ngx_gp_store_busy_hit = 1;
        return 0;
    }

    sqlite3_sleep(10);

    return 1;
}


/* how to log a failed statement: a lock is expected and handled */

ngx_uint_t
ngx_gp_store_busy_level(sqlite3 *db)
{
    switch (sqlite3_errcode(db) & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        ngx_gp_store_busy_hit = 1;
        return NGX_LOG_INFO;
    }

    return NGX_LOG_ERR;
}


/* the wait for a lock from now on; returns the one it replaces */

ngx_msec_t
ngx_gp_store_wait(ngx_msec_t ms)
{
    ngx_msec_t  old;

    old = ngx_gp_store_wait_ms;
    ngx_gp_store_wait_ms = ms;

    return old;
}


/* a statement gave up on a lock since the last call with clear set */

ngx_uint_t
ngx_gp_store_busy(ngx_uint_t clear)
{
    ngx_uint_t  busy;

    /*
     * set by the busy handler when it gives up and where a failed
     * statement is logged (ngx_gp_store_busy_level()); sqlite3_errcode()
     * alone would not do: it is undefined after a call that succeeded
     */

    busy = ngx_gp_store_busy_hit;

    if (clear) {
        ngx_gp_store_busy_hit = 0;
    }

    return busy;
}


/*
 * The process's connection: the master created and migrated the database
 * when it loaded the zone, so opening it writes nothing (a locked database
 * cannot hold up the open).
 */

static ngx_int_t
ngx_gp_store_connect(ngx_str_t *path, ngx_log_t *log, sqlite3 **db)
{
    int  rc;

    rc = sqlite3_open_v2((char *) path->data, db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool: cannot open database \"%V\": %s", path,
                      *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return NGX_ERROR;
    }

    sqlite3_busy_handler(*db, ngx_gp_store_busy_handler, NULL);

    if (sqlite3_exec(*db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL)
        != SQLITE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "gemini pool: sqlite: %s",
                      sqlite3_errmsg(*db));
        sqlite3_close(*db);
        *db = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_gp_store_close(void)
{
    if (ngx_gp_process_db) {
        sqlite3_close(ngx_gp_process_db);
        ngx_gp_process_db = NULL;
    }
}


sqlite3 *
ngx_gp_store_db(ngx_log_t *log)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (ngx_gp_process_db == NULL) {
        gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                ngx_http_gemini_pool_module);

        if (ngx_gp_store_connect(&gmcf->database, log, &ngx_gp_process_db)
            != NGX_OK)
        {
            return NULL;
        }
    }

    return ngx_gp_process_db;
}


/* after the admin API changed the database: the zone follows */

ngx_int_t
ngx_gp_store_reload(ngx_log_t *log)
{
    sqlite3        *db;
    ngx_gp_zone_t  *z;

    db = ngx_gp_store_db(log);
    z = ngx_gp_zone();

    if (db == NULL || z == NULL) {
        return NGX_ERROR;
    }

    return ngx_gp_store_load_all(db, z, log);
}


typedef struct {
    int64_t      id;
    time_t       cooldown[NGX_GP_QUOTA_N];
    ngx_uint_t   expired;
    ngx_uint_t   gen;
    u_char       error[128];
    time_t       error_at;
} ngx_gp_state_t;


/*
 * Persists the cooldowns and expiry flags that changed since the last
 * call, so that they survive a restart.  Runs in the helper role.
 */

ngx_int_t
ngx_gp_store_save_state(ngx_cycle_t *cycle, ngx_gp_zone_t *z)
{
    int                                rc;
    ngx_uint_t                         i, n, k;
    sqlite3_stmt                      *st, *ex;
    ngx_gp_state_t                    *state;
    ngx_gp_account_t                  *acc;

    /* collect under the lock, write without it */

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0, n = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];
        n += (acc->id && acc->state_gen != acc->saved_gen);
    }

    if (n == 0) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_OK;
    }

    state = ngx_alloc(n * sizeof(ngx_gp_state_t), cycle->log);
    if (state == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_ERROR;
    }

    for (i = 0, k = 0; i < z->sh->naccounts && k < n; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id == 0 || acc->state_gen == acc->saved_gen) {
            continue;
        }

        state[k].id = acc->id;
        ngx_memcpy(state[k].cooldown, acc->cooldown_until,
                   sizeof(state[k].cooldown));
        state[k].expired = acc->cookie_expired;
        state[k].gen = acc->state_gen;
        ngx_memcpy(state[k].error, acc->last_error, sizeof(acc->last_error));
        state[k].error_at = acc->last_error_at;
        k++;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ngx_gp_store_db(cycle->log) == NULL) {
        ngx_free(state);
        return NGX_ERROR;
    }

    st = NULL;
    ex = NULL;
    rc = SQLITE_OK;

    if (sqlite3_exec(ngx_gp_process_db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
        != SQLITE_OK
        || sqlite3_prepare_v2(ngx_gp_process_db,
               "INSERT INTO account_state (account_id, cooldown_text, "
               "cooldown_images, cooldown_videos, last_error, "
               "last_error_at, updated_at) "
               "SELECT ?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now') "
               "WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?1) "
               "ON CONFLICT (account_id) DO UPDATE SET "
               "cooldown_text = excluded.cooldown_text, "
               "cooldown_images = excluded.cooldown_images, "
               "cooldown_videos = excluded.cooldown_videos, "
               "last_error = excluded.last_error, "
               "last_error_at = excluded.last_error_at, "
               "updated_at = excluded.updated_at", -1, &st, NULL)
           != SQLITE_OK
        || sqlite3_prepare_v2(ngx_gp_process_db,
               "UPDATE accounts SET cookie_expired = ?2, "
               "updated_at = strftime('%s','now') "
               "WHERE id = ?1 AND cookie_expired != ?2", -1, &ex, NULL)
           != SQLITE_OK)
    {
        rc = SQLITE_ERROR;
    }

    for (i = 0; rc == SQLITE_OK && i < k; i++) {
        sqlite3_bind_int64(st, 1, state[i].id);
        sqlite3_bind_int64(st, 2, state[i].cooldown[NGX_GP_QUOTA_TEXT]);
        sqlite3_bind_int64(st, 3, state[i].cooldown[NGX_GP_QUOTA_IMAGES]);
        sqlite3_bind_int64(st, 4, state[i].cooldown[NGX_GP_QUOTA_VIDEOS]);
        sqlite3_bind_text(st, 5, (char *) state[i].error, -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, state[i].error_at);

        sqlite3_bind_int64(ex, 1, state[i].id);
        sqlite3_bind_int(ex, 2, state[i].expired ? 1 : 0);

        if (sqlite3_step(st) != SQLITE_DONE
            || sqlite3_step(ex) != SQLITE_DONE)
        {
            rc = SQLITE_ERROR;
        }

        sqlite3_reset(st);
        sqlite3_reset(ex);
    }

    sqlite3_finalize(st);
    sqlite3_finalize(ex);

    if (rc == SQLITE_OK
        && sqlite3_exec(ngx_gp_process_db, "COMMIT", NULL, NULL, NULL)
           == SQLITE_OK)
    {
        ngx_shmtx_lock(&z->shpool->mutex);

        for (i = 0; i < k; i++) {
            for (n = 0; n < z->sh->naccounts; n++) {
                acc = &z->sh->accounts[n];

                if (acc->id == state[i].id) {
                    acc->saved_gen = state[i].gen;
                    break;
                }
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
        ngx_free(state);

        return NGX_OK;
    }

    if (ngx_gp_store_busy(1)) {
        /* saved_gen stays behind: the next tick tries again */
        (void) sqlite3_exec(ngx_gp_process_db, "ROLLBACK", NULL, NULL, NULL);
        ngx_free(state);
        return NGX_AGAIN;
    }

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "gemini pool: saving account state failed: %s",
                  sqlite3_errmsg(ngx_gp_process_db));

    (void) sqlite3_exec(ngx_gp_process_db, "ROLLBACK", NULL, NULL, NULL);
    ngx_free(state);

    /* reopen next time */
    ngx_gp_store_close();

    return NGX_ERROR;
}


/* the helper's events taken from the ring and not written yet */
static ngx_gp_event_t  *kept;
static ngx_uint_t       nkept;


/* the helper exits (a reload, a stop): what it kept goes back to the ring */

void
ngx_gp_store_save_events_exit(ngx_gp_zone_t *z)
{
    if (kept == NULL) {
        return;
    }

    if (z && nkept) {
        ngx_gp_zone_events_requeue(z, kept, nkept);
    }

    ngx_free(kept);
    kept = NULL;
    nkept = 0;
}


/*
 * The helper drains the zone's event ring into the call log, one
 * transaction a tick, counts API key usage, and once a minute applies the
 * retention settings and forgets admin sessions that ended a day ago.
 * Workers never write the call log.
 */

ngx_int_t
ngx_gp_store_save_events(ngx_cycle_t *cycle, ngx_gp_zone_t *z)
{
    int              rc;
    time_t           now;
    sqlite3         *db;
    ngx_int_t        days, rows;
    ngx_uint_t       n, i;
    sqlite3_stmt    *st, *kt;
    ngx_gp_event_t  *ev;

    static time_t           retention;
    static ngx_uint_t       busy;

    /*
     * Events a failed tick could not write (a lock held by another
     * process) stay in this buffer, their text in the slab, and go first
     * next tick: a locked database delays the call log, it loses nothing
     * (while the zone's ring holds what comes meanwhile).
     */

    if (kept == NULL) {
        kept = ngx_alloc(NGX_GP_STORE_EVENTS * sizeof(ngx_gp_event_t),
                         cycle->log);
        if (kept == NULL) {
            return NGX_ERROR;
        }
    }

    ev = kept;
    n = nkept + ngx_gp_zone_events_take(z, ev + nkept,
                                        NGX_GP_STORE_EVENTS - nkept);
    nkept = n;
    now = ngx_time();

    if (n == 0 && now - retention < 60) {
        ngx_free(kept);
        kept = NULL;
        return NGX_OK;
    }

    db = ngx_gp_store_db(cycle->log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    st = NULL;
    kt = NULL;
    rc = SQLITE_OK;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "INSERT INTO call_logs (time, key_id, "
                              "account_id, account, model, status, stream, "
                              "attempts, latency_ms, ttfb_ms, prompt_tokens, "
                              "completion_tokens, error, session, prompt, "
                              "answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "?, ?, ?, ?, ?, ?)",
                              -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "UPDATE api_keys SET requests = "
                              "requests + 1, last_used_at = max("
                              "last_used_at, ?2) WHERE id = ?1",
                              -1, &kt, NULL) != SQLITE_OK)
    {
        rc = SQLITE_ERROR;
    }

    for (i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_int64(st, 1, ev[i].time);
        sqlite3_bind_int64(st, 2, ev[i].key_id);
        sqlite3_bind_int64(st, 3, ev[i].account_id);
        sqlite3_bind_text(st, 4, (char *) ev[i].account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, (char *) ev[i].model, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, ev[i].status);
        sqlite3_bind_int(st, 7, ev[i].stream);
        sqlite3_bind_int(st, 8, ev[i].attempts);
        sqlite3_bind_int64(st, 9, ev[i].latency_ms);

        if (ev[i].ttfb_ms >= 0) {
            sqlite3_bind_int64(st, 10, ev[i].ttfb_ms);

        } else {
            sqlite3_bind_null(st, 10);
        }

        sqlite3_bind_int64(st, 11, ev[i].prompt_tokens);
        sqlite3_bind_int64(st, 12, ev[i].completion_tokens);
        sqlite3_bind_text(st, 13, (char *) ev[i].error, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, (char *) ev[i].session, -1, SQLITE_STATIC);

        if (ev[i].text) {
            sqlite3_bind_text(st, 15, (char *) ev[i].text,
                              (int) ev[i].prompt_len, SQLITE_STATIC);
            sqlite3_bind_text(st, 16,
                              (char *) ev[i].text + ev[i].prompt_len,
                              (int) ev[i].answer_len, SQLITE_STATIC);

        } else {
            sqlite3_bind_null(st, 15);
            sqlite3_bind_null(st, 16);
        }

        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
        }

        sqlite3_reset(st);

        if (rc == SQLITE_OK && ev[i].key_id) {
            sqlite3_bind_int64(kt, 1, ev[i].key_id);
            sqlite3_bind_int64(kt, 2, ev[i].time);

            if (sqlite3_step(kt) != SQLITE_DONE) {
                rc = SQLITE_ERROR;
            }

            sqlite3_reset(kt);
        }
    }

    sqlite3_finalize(st);
    sqlite3_finalize(kt);

    if (rc == SQLITE_OK && now - retention >= 60) {
        retention = now;
        days = ngx_gp_setting_int(z, NGX_GP_SET_HISTORY_RETENTION_DAYS);
        rows = ngx_gp_setting_int(z, NGX_GP_SET_HISTORY_MAX_ROWS);

        if (sqlite3_prepare_v2(db, "DELETE FROM call_logs WHERE "
                               "(?1 > 0 AND time < ?2) OR (?3 > 0 AND id <= "
                               "(SELECT max(id) FROM call_logs) - ?3)",
                               -1, &st, NULL) != SQLITE_OK)
        {
            rc = SQLITE_ERROR;

        } else {
            sqlite3_bind_int64(st, 1, days);
            sqlite3_bind_int64(st, 2, now - days * 86400);
            sqlite3_bind_int64(st, 3, rows);

            if (sqlite3_step(st) != SQLITE_DONE) {
                rc = SQLITE_ERROR;
            }

            sqlite3_finalize(st);
        }

        /* ended admin sessions are kept a day, for the record */
        if (rc == SQLITE_OK
            && sqlite3_prepare_v2(db, "DELETE FROM admin_sessions WHERE "
                                  "expires_at < ?", -1, &st, NULL)
               == SQLITE_OK)
        {
            sqlite3_bind_int64(st, 1, now - 86400);

            if (sqlite3_step(st) != SQLITE_DONE) {
                rc = SQLITE_ERROR;
            }

            sqlite3_finalize(st);
        }
    }

    if (rc == SQLITE_OK
        && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    {
        ngx_gp_zone_events_release(z, ev, n);
        nkept = 0;
        ngx_free(kept);
        kept = NULL;

        if (busy) {
            busy = 0;
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                          "gemini pool: the database is writable again; "
                          "%ui call log entries written", n);
        }

        return NGX_OK;
    }

    if (ngx_gp_store_busy(1)) {
        (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

        if (!busy) {
            busy = 1;
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "gemini pool: the database is locked by another "
                          "process; %ui call log entries wait for the next "
                          "tick", n);
        }

        return NGX_AGAIN;
    }

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "gemini pool: writing the call log failed: %s; %ui "
                  "entries lost", sqlite3_errmsg(db), n);

    (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    ngx_gp_zone_events_release(z, ev, n);
    nkept = 0;
    ngx_free(kept);
    kept = NULL;
    ngx_gp_store_close();

    return NGX_ERROR;
}


/* transactions on the process's connection */

ngx_int_t
ngx_gp_store_begin(ngx_log_t *log)
{
    sqlite3  *db;

    db = ngx_gp_store_db(log);

    if (db == NULL
        || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_store_commit(ngx_log_t *log)
{
    if (ngx_gp_process_db == NULL
        || sqlite3_exec(ngx_gp_process_db, "COMMIT", NULL, NULL, NULL)
           != SQLITE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "gemini pool: commit failed: %s",
                      ngx_gp_store_errmsg());
        ngx_gp_store_rollback(log);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_gp_store_rollback(ngx_log_t *log)
{
    if (ngx_gp_process_db
        && !sqlite3_get_autocommit(ngx_gp_process_db))
    {
        (void) sqlite3_exec(ngx_gp_process_db, "ROLLBACK", NULL, NULL, NULL);
    }
}


const char *
ngx_gp_store_errmsg(void)
{
    return ngx_gp_process_db ? sqlite3_errmsg(ngx_gp_process_db)
                             : "the database is not open";
}


/* sealed with the current key, the column's name as associated data */

char *
ngx_gp_store_seal_text(const char *aad, const char *plain)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    return ngx_gp_secret_encrypt(gmcf->secret_key, aad, plain,
                                 ngx_strlen(plain));
}


/* for the store_<topic>.c files: a statement's rows as a JSON array */

json_t *
ngx_gp_store_rows(sqlite3_stmt *st, ngx_gp_store_row_pt row)
{
    int      rc;
    json_t  *list, *j;

    list = json_array();
    rc = SQLITE_DONE;

    while (list && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        j = row(st);

        if (j == NULL || json_array_append_new(list, j) != 0) {
            json_decref(list);
            list = NULL;
        }
    }

    /* a step that failed (a lock, an I/O error) is not an empty list */

    if (list && rc != SQLITE_DONE) {
        json_decref(list);
        list = NULL;
    }

    sqlite3_finalize(st);

    return list;
}


/*
 * A statement run to its end and finalized: NGX_OK, or NGX_ERROR logged;
 * *changes (when given) the rows it changed.
 */

ngx_int_t
ngx_gp_store_run(sqlite3_stmt *st, ngx_uint_t *changes, ngx_log_t *log)
{
    int       rc;
    sqlite3  *db;

    db = sqlite3_db_handle(st);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ngx_log_error(ngx_gp_store_busy_level(db), log, 0,
                      "gemini pool: sqlite: %s", sqlite3_errmsg(db));
        return NGX_ERROR;
    }

    if (changes) {
        *changes = (ngx_uint_t) sqlite3_changes(db);
    }

    return NGX_OK;
}


/* a stored secret, decrypted (or as stored when written in clear) */

char *
ngx_gp_store_open_secret(const u_char *key, const char *aad, sqlite3_stmt *st,
    int col)
{
    char        *p;
    size_t       len, plen;
    const char  *text;

    text = (const char *) sqlite3_column_text(st, col);
    len = (size_t) sqlite3_column_bytes(st, col);

    if (text == NULL) {
        text = "";
        len = 0;
    }

    if (!ngx_gp_secret_is_encrypted(text, len)) {
        p = malloc(len + 1);
        if (p) {
            ngx_memcpy(p, text, len);
            p[len] = '\0';
        }

        return p;
    }

    return ngx_gp_secret_decrypt(key, aad, text, len, &plen);
}


void
ngx_gp_store_free_secret(char *p)
{
    if (p) {
        ngx_explicit_memzero(p, ngx_strlen(p));
        free(p);
    }
}
