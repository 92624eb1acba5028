
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Configuration export and import, and migration from the reference
 * ("Business Gemini Pool"): its business_gemini_session.json and its
 * geminibusiness.db.  The document is read and checked whole by the pure
 * reader (bodies.c: the fuzzed one), then written in one SQLite
 * transaction: the first bad value rolls everything back and names the
 * field; the caller loads the zone again after a commit.
 */


#include "ngx_http_gemini_pool_module.h"



typedef struct {
    ngx_log_t           *log;
    json_t              *skipped;     /* strings */
    json_t              *updated;     /* strings */
    json_t              *notes;       /* strings */
    ngx_uint_t           accounts;
    ngx_uint_t           models;
    ngx_uint_t           settings;
    ngx_uint_t           keys;
    int64_t             *ids;         /* account id by index in the file */
    ngx_uint_t           nids;
    char                *err;
    size_t               errlen;
} ngx_gp_imp_t;


static ngx_int_t ngx_gp_imp_fail(ngx_gp_imp_t *imp, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


static ngx_int_t
ngx_gp_imp_fail(ngx_gp_imp_t *imp, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(imp->err, imp->errlen, fmt, args);
    va_end(args);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_gp_imp_sql_error(ngx_gp_imp_t *imp)
{
    ngx_log_error(NGX_LOG_ERR, imp->log, 0,
                  "gemini pool: import: sqlite: %s", ngx_gp_store_errmsg());

    (void) snprintf(imp->err, imp->errlen, "database error: %s",
                    ngx_gp_store_errmsg());

    return NGX_ERROR;
}


/* the reader's question: a setting's type by name, from the table */

static int
ngx_gp_imp_type(const char *key)
{
    ngx_int_t    i;
    const char  *type;

    i = ngx_gp_setting_index(key);

    if (i == NGX_ERROR) {
        return 0;
    }

    type = ngx_gp_setting_type_name(i);

    return type[0] == 'b' ? 'b' : type[0] == 'i' ? 'i' : 's';
}


/*
 * An account of the file: added, or, when one with the same team_id and
 * csesidx (or the same name) exists, updated with the fields given.  New
 * credentials renew the account (cookie-expired flag and cooldowns go).
 */

static ngx_int_t
ngx_gp_imp_account(ngx_gp_imp_t *imp, ngx_uint_t index,
    ngx_gp_import_account_t *a)
{
    char                           label[48];
    int64_t                        id;
    ngx_int_t                      rc;
    const char                    *why;
    ngx_gp_store_import_result_t   res;

    (void) snprintf(label, sizeof(label), "accounts[%u]", (unsigned) index);

    rc = ngx_gp_store_import_account(a, &res, imp->log);

    if (rc == NGX_ERROR) {
        return ngx_gp_imp_sql_error(imp);
    }

    if (rc == NGX_DECLINED) {
        return ngx_gp_imp_fail(imp, "%s.secure_c_ses: missing (a new "
                               "account needs its cookies: export with "
                               "?secrets=1)", label);
    }

    id = res.id;

    if (!res.updated) {
        if (a->placeholder
            && ngx_gp_json_note(imp->notes, "%s: no credentials (a remote "
                               "sync placeholder); added disabled and "
                               "cookie-expired to keep the list positions",
                               label) != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        why = res.same_ids ? "same team_id and csesidx" : "same name";

        if (ngx_gp_json_note(imp->updated, "%s: updated account %lld (%s)%s",
                            label, (long long) id, why,
                            res.renewed ? "; new credentials renew it" : "")
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    imp->ids[index] = id;
    imp->accounts++;

    return NGX_OK;
}


static ngx_int_t
ngx_gp_imp_model(ngx_gp_imp_t *imp, ngx_gp_import_model_t *m)
{
    ngx_uint_t  exists;

    if (m->pin >= 0 && (ngx_uint_t) m->pin >= imp->nids) {
        if (ngx_gp_json_note(imp->notes, "%s: its account %d is not in "
                            "the file; imported without a pin", m->label,
                            (int) m->pin) != NGX_OK)
        {
            return NGX_ERROR;
        }

        m->pin = -1;
    }

    if (ngx_gp_store_import_model(m, m->pin >= 0 ? imp->ids[m->pin] : 0,
                                  &exists, imp->log)
        != NGX_OK)
    {
        return ngx_gp_imp_sql_error(imp);
    }

    if (exists
        && ngx_gp_json_note(imp->updated, "%s: replaced model \"%s\"",
                           m->label, m->name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    imp->models++;

    return NGX_OK;
}


/* a setting, typed by the reader: the table's check, PUT /api/settings' */

static ngx_int_t
ngx_gp_imp_setting(ngx_gp_imp_t *imp, ngx_gp_import_setting_t *s)
{
    ngx_int_t    i, number;
    const char  *err;

    i = ngx_gp_setting_index(s->key);

    if (i == NGX_ERROR) {
        return ngx_gp_imp_fail(imp, "%s: no such setting", s->label);
    }

    err = ngx_gp_setting_check(i, (u_char *) s->text, &number);

    if (err) {
        return ngx_gp_imp_fail(imp, "%s: %s", s->label, err);
    }

    if (ngx_gp_store_setting_put(i, s->text, imp->log) != NGX_OK) {
        return ngx_gp_imp_sql_error(imp);
    }

    imp->settings++;

    return NGX_OK;
}


/* an API key: by its SHA-256, the only form either side stores */

static ngx_int_t
ngx_gp_imp_key(ngx_gp_imp_t *imp, ngx_gp_import_key_t *k)
{
    int64_t  id;

    if (ngx_gp_store_import_key(k, k->hash, &id, imp->log) != NGX_OK) {
        return ngx_gp_imp_sql_error(imp);
    }

    if (id
        && ngx_gp_json_note(imp->updated, "%s: updated API key %lld (same "
                           "key)", k->label, (long long) id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    imp->keys++;

    return NGX_OK;
}


/* what the reader read, written (inside the caller's transaction) */

static ngx_int_t
ngx_gp_imp_write(ngx_gp_imp_t *imp, ngx_gp_import_t *rd)
{
    size_t     i;
    ngx_int_t  rc;

    imp->nids = rd->naccounts;
    imp->ids = ngx_calloc((imp->nids + 1) * sizeof(int64_t), imp->log);

    if (imp->ids == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < rd->naccounts; i++) {
        rc = ngx_gp_imp_account(imp, i, &rd->accounts[i]);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (i = 0; i < rd->nmodels; i++) {
        rc = ngx_gp_imp_model(imp, &rd->models[i]);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (i = 0; i < rd->nsettings; i++) {
        rc = ngx_gp_imp_setting(imp, &rd->settings[i]);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (i = 0; i < rd->nkeys; i++) {
        rc = ngx_gp_imp_key(imp, &rd->keys[i]);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/* at most what the zone holds: more would be dropped on load */

static ngx_int_t
ngx_gp_imp_limits(ngx_gp_imp_t *imp)
{
    int64_t  models, keys;

    if (ngx_gp_store_import_counts(&models, &keys, imp->log) != NGX_OK) {
        return ngx_gp_imp_sql_error(imp);
    }

    if (models > NGX_GP_MAX_MODELS) {
        return ngx_gp_imp_fail(imp, "models: %lld enabled models after the "
                               "import, at most %d are served",
                               (long long) models, NGX_GP_MAX_MODELS);
    }

    if (keys > NGX_GP_MAX_KEYS) {
        return ngx_gp_imp_fail(imp, "api_keys: %lld API keys after the "
                               "import, at most %d are served",
                               (long long) keys, NGX_GP_MAX_KEYS);
    }

    return NGX_OK;
}


/*
 * The zone must hold every account after the import, or nothing is
 * imported (NGX_ABORT: err names gemini_pool_zone and the size it needs).
 */

static ngx_int_t
ngx_gp_imp_room(ngx_gp_imp_t *imp)
{
    ngx_int_t            rc;
    ngx_gp_store_room_t  room;

    rc = ngx_gp_store_zone_room(imp->log, &room);

    if (rc == NGX_DECLINED) {
        (void) snprintf(imp->err, imp->errlen, "gemini_pool_zone has no "
                        "room for the %lu accounts the import leaves: it "
                        "is %luk, raise it to at least %luk "
                        "(docs/directives.md)",
                        (unsigned long) room.accounts,
                        (unsigned long) room.size / 1024,
                        (unsigned long) room.needed / 1024);
        return NGX_ABORT;
    }

    return rc == NGX_OK ? NGX_OK : ngx_gp_imp_sql_error(imp);
}


/*
 * POST /api/config/import.  sqlite: the body is a database file (the
 * reference's).  Returns NGX_OK with *result, NGX_DECLINED for a bad
 * file (err says what is wrong), NGX_ABORT when the zone has no room for
 * the accounts (err says how big it must be), NGX_ERROR otherwise;
 * nothing is changed unless NGX_OK (and not dry_run).
 */

ngx_int_t
ngx_gp_config_import(ngx_http_request_t *r, ngx_str_t *body,
    ngx_uint_t sqlite, ngx_uint_t dry_run, json_t **result, char *err,
    size_t errlen)
{
    int                  rrc;
    json_t              *doc;
    ngx_int_t            rc;
    const char          *format;
    ngx_gp_imp_t         imp;
    ngx_gp_import_t      rd;
    ngx_gp_store_ref_t   ref;

    ngx_memzero(&imp, sizeof(ngx_gp_imp_t));
    imp.log = r->connection->log;
    imp.err = err;
    imp.errlen = errlen;
    err[0] = '\0';

    *result = NULL;

    if (body->len == 0) {
        (void) ngx_gp_imp_fail(&imp, "the body is empty: send an export, "
                               "business_gemini_session.json or "
                               "geminibusiness.db");
        return NGX_DECLINED;
    }

    if (!sqlite && body->len >= sizeof(NGX_GP_SQLITE_MAGIC)
        && ngx_memcmp(body->data, NGX_GP_SQLITE_MAGIC,
                      sizeof(NGX_GP_SQLITE_MAGIC)) == 0)
    {
        sqlite = 1;
    }

    imp.skipped = json_array();
    imp.updated = json_array();
    imp.notes = json_array();

    if (imp.skipped == NULL || imp.updated == NULL || imp.notes == NULL) {
        json_decref(imp.skipped);
        json_decref(imp.updated);
        json_decref(imp.notes);
        return NGX_ERROR;
    }

    ngx_memzero(&rd, sizeof(ngx_gp_import_t));
    rd.skipped = imp.skipped;
    rd.type = ngx_gp_imp_type;
    rd.err = err;
    rd.errlen = errlen;

    doc = NULL;

    if (sqlite) {
        doc = json_object();

        ref.log = imp.log;
        ref.skipped = imp.skipped;
        ref.err = imp.err;
        ref.errlen = imp.errlen;

        rc = doc ? ngx_gp_store_ref_read(&ref, body, doc) : NGX_ERROR;

        if (rc == NGX_OK) {
            rrc = ngx_gp_import_read(doc, 1, &rd);
            rc = (rrc == 0) ? NGX_OK : (rrc == -1) ? NGX_DECLINED : NGX_ERROR;
        }

        format = "reference-db";

    } else {
        rrc = ngx_gp_import_parse((char *) body->data, body->len, &rd, &doc);
        rc = (rrc == 0) ? NGX_OK : (rrc == -1) ? NGX_DECLINED : NGX_ERROR;
        format = rd.format;
    }

    if (rc == NGX_OK) {
        if (ngx_gp_store_db(imp.log) == NULL) {
            (void) snprintf(err, errlen, "the database is not available");
            rc = NGX_ERROR;

        } else if (ngx_gp_store_begin(imp.log) != NGX_OK) {
            rc = ngx_gp_imp_sql_error(&imp);

        } else {
            rc = ngx_gp_imp_write(&imp, &rd);

            if (rc == NGX_OK) {
                rc = ngx_gp_imp_limits(&imp);
            }

            if (rc == NGX_OK) {
                rc = ngx_gp_imp_room(&imp);
            }

            if (rc == NGX_OK && !dry_run
                && ngx_gp_store_commit(imp.log) != NGX_OK)
            {
                rc = ngx_gp_imp_sql_error(&imp);
            }

            if (rc != NGX_OK || dry_run) {
                ngx_gp_store_rollback(imp.log);
            }
        }
    }

    ngx_gp_import_free(&rd);
    json_decref(doc);
    ngx_free(imp.ids);

    if (rc == NGX_OK) {
        *result = json_pack("{s:s,s:b,s:{s:I,s:I,s:I,s:I},s:o,s:o,s:o}",
                            "format", format,
                            "dry_run", (int) dry_run,
                            "imported",
                            "accounts", (json_int_t) imp.accounts,
                            "models", (json_int_t) imp.models,
                            "settings", (json_int_t) imp.settings,
                            "api_keys", (json_int_t) imp.keys,
                            "updated", imp.updated,
                            "skipped", imp.skipped,
                            "notes", imp.notes);

        if (*result == NULL) {
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "gemini pool: %s imported%s: %ui account(s), "
                      "%ui model(s), %ui setting(s), %ui API key(s)",
                      format, dry_run ? " (dry run, rolled back)" : "",
                      imp.accounts, imp.models, imp.settings, imp.keys);

        return NGX_OK;
    }

    json_decref(imp.skipped);
    json_decref(imp.updated);
    json_decref(imp.notes);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "gemini pool: import refused, nothing changed: %s",
                      err);
    }

    return rc;
}


/*
 * One document with everything durable an operator configures: accounts,
 * models, settings and API key metadata.  secrets: with the cookies,
 * proxies, secret settings and key hashes (decrypted); without, they are
 * left out and "..._set" says whether they exist.
 */

json_t *
ngx_gp_config_export(ngx_http_request_t *r, ngx_uint_t secrets)
{
    return ngx_gp_store_export(secrets, r->connection->log);
}
