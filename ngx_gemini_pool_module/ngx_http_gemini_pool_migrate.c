
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Configuration export and import, and migration from the reference
 * ("Business Gemini Pool"): its business_gemini_session.json and its
 * geminibusiness.db.  An import runs in one SQLite transaction: the first
 * bad value rolls everything back and names the field; the caller loads
 * the zone again after a commit.
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
    ngx_uint_t           ref;         /* the reference's lenient types */
    char                *err;
    size_t               errlen;
} ngx_gp_imp_t;


typedef ngx_gp_store_import_account_t  ngx_gp_imp_account_t;
typedef ngx_gp_store_import_model_t    ngx_gp_imp_model_t;
typedef ngx_gp_store_import_key_t      ngx_gp_imp_key_t;



/* how each top-level key of the reference's configuration is imported */

typedef struct {
    const char          *key;
    const char          *setting;       /* ours; NULL: not imported */
    const char          *why;           /* when not imported */
} ngx_gp_ref_key_t;


static ngx_gp_ref_key_t  ngx_gp_ref_keys[] = {
    { "proxy", "proxy", NULL },
    { "proxy_enabled", "proxy_enabled", NULL },
    { "image_base_url", "image_base_url", NULL },
    { "tempmail_worker_url", "tempmail_worker_url", NULL },
    { "auto_refresh_cookie", "auto_refresh_cookies", NULL },
    { "remote_sync_url", "remote_sync_url", NULL },
    { "remote_sync_api_key", "remote_sync_api_key", NULL },
    { "sync_only_mode", "sync_only_mode", NULL },
    { "upload_endpoint", "upload_endpoint", NULL },
    { "upload_api_token", "upload_api_token", NULL },
    { "admin_password_hash", NULL,
      "a Werkzeug password hash is not imported; set the admin password "
      "with PUT /api/auth/password" },
    { "admin_secret_key", NULL,
      "not imported: this server keeps its own admin secret "
      "(ADMIN_SECRET_KEY or <database>.admin-secret); give it to remote "
      "sync peers" },
    { "api_tokens", NULL,
      "legacy plain-text tokens, no longer accepted by the reference "
      "either; not imported (create API keys)" },
    { "log_level", NULL,
      "not imported: nginx's error_log level applies" },
    { NULL, NULL, NULL }
};


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


/* JSON field helpers: NGX_OK, or NGX_DECLINED with the field named */

static ngx_int_t
ngx_gp_imp_str(ngx_gp_imp_t *imp, json_t *o, const char *label,
    const char *key, size_t max, const char **out)
{
    json_t  *v;

    *out = NULL;
    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        return ngx_gp_imp_fail(imp, "%s.%s: must be a string", label, key);
    }

    if (ngx_strlen(json_string_value(v)) != json_string_length(v)) {
        return ngx_gp_imp_fail(imp, "%s.%s: contains NUL", label, key);
    }

    if (max && json_string_length(v) > max) {
        return ngx_gp_imp_fail(imp, "%s.%s: longer than %zu bytes", label,
                               key, max);
    }

    *out = json_string_value(v);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_imp_bool(ngx_gp_imp_t *imp, json_t *o, const char *label,
    const char *key, int *out)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return NGX_OK;
    }

    /* the reference's database keeps booleans as 0 and 1 */

    if (imp->ref && json_is_integer(v)
        && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
    {
        *out = (int) json_integer_value(v);
        return NGX_OK;
    }

    if (imp->ref && json_is_string(v)) {
        s = json_string_value(v);

        if (ngx_strcasecmp((u_char *) s, (u_char *) "true") == 0
            || ngx_strcmp(s, "1") == 0)
        {
            *out = 1;
            return NGX_OK;
        }

        if (ngx_strcasecmp((u_char *) s, (u_char *) "false") == 0
            || ngx_strcmp(s, "0") == 0)
        {
            *out = 0;
            return NGX_OK;
        }
    }

    return ngx_gp_imp_fail(imp, "%s.%s: must be true or false", label, key);
}


static ngx_int_t
ngx_gp_imp_int(ngx_gp_imp_t *imp, json_t *o, const char *label,
    const char *key, int64_t min, int64_t *out)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_integer(v) || json_integer_value(v) < min) {
        return ngx_gp_imp_fail(imp, "%s.%s: must be an integer of at least "
                               "%lld", label, key, (long long) min);
    }

    *out = json_integer_value(v);

    return NGX_OK;
}


/*
 * A time: a Unix time, or the reference's UTC date and time
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" (also with "T").  null: 0.
 */

static ngx_int_t
ngx_gp_imp_time(ngx_gp_imp_t *imp, json_t *o, const char *label,
    const char *key, int64_t *out)
{
    int          y, mo, d, h, mi, s, n;
    json_t      *v;
    struct tm    tm;
    const char  *p;

    v = json_object_get(o, key);
    *out = 0;

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return NGX_OK;
    }

    if (json_is_string(v)) {
        p = json_string_value(v);
        n = 0;

        if (p[0] == '\0' || ngx_strcmp(p, "None") == 0) {
            return NGX_OK;
        }

        if (sscanf(p, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h,
                   &mi, &s, &n) == 6
            && n >= 19 && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1
            && d <= 31 && h <= 23 && mi <= 59 && s <= 60
            && (p[n] == '\0' || p[n] == '.' || p[n] == 'Z' || p[n] == '+'))
        {
            ngx_memzero(&tm, sizeof(struct tm));
            tm.tm_year = y - 1900;
            tm.tm_mon = mo - 1;
            tm.tm_mday = d;
            tm.tm_hour = h;
            tm.tm_min = mi;
            tm.tm_sec = s;

            *out = (int64_t) timegm(&tm);
            return NGX_OK;
        }
    }

    return ngx_gp_imp_fail(imp, "%s.%s: must be a Unix time or a date "
                           "\"YYYY-MM-DD HH:MM:SS\"", label, key);
}


/* accounts */

static ngx_int_t
ngx_gp_imp_check_account(ngx_gp_imp_t *imp, const char *label,
    ngx_gp_imp_account_t *a)
{
    const char  *p;

    if (a->placeholder) {
        return NGX_OK;
    }

    if (a->team_id == NULL || a->team_id[0] == '\0') {
        return ngx_gp_imp_fail(imp, "%s.team_id: missing", label);
    }

    if (a->csesidx == NULL || a->csesidx[0] == '\0') {
        return ngx_gp_imp_fail(imp, "%s.csesidx: missing", label);
    }

    for (p = a->csesidx; *p; p++) {
        if (*p < '0' || *p > '9') {
            return ngx_gp_imp_fail(imp, "%s.csesidx: must be digits",
                                   label);
        }
    }

    if (a->proxy && a->proxy[0] && ngx_strcmp(a->proxy, "direct") != 0
        && !ngx_gp_proxy_valid((u_char *) a->proxy))
    {
        return ngx_gp_imp_fail(imp, "%s.proxy: must be \"direct\" or an "
                               "http://, https://, socks5:// or socks5h:// "
                               "URL", label);
    }

    return NGX_OK;
}


/*
 * An account of the file: added, or, when one with the same team_id and
 * csesidx (or the same name) exists, updated with the fields given.  New
 * credentials renew the account (cookie-expired flag and cooldowns go).
 */

static ngx_int_t
ngx_gp_imp_account(ngx_gp_imp_t *imp, ngx_uint_t index,
    ngx_gp_imp_account_t *a)
{
    char                           label[48];
    int64_t                        id;
    ngx_int_t                      rc;
    const char                    *why;
    ngx_gp_store_import_result_t   res;

    (void) snprintf(label, sizeof(label), "accounts[%u]", (unsigned) index);

    if (ngx_gp_imp_check_account(imp, label, a) != NGX_OK) {
        return NGX_DECLINED;
    }

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


/* models */

static ngx_int_t
ngx_gp_imp_model(ngx_gp_imp_t *imp, const char *label, ngx_gp_imp_model_t *m)
{
    ngx_uint_t  exists;

    if (m->name == NULL || m->name[0] == '\0') {
        return ngx_gp_imp_fail(imp, "%s.%s: missing", label,
                               imp->ref ? "id" : "name");
    }

    if (ngx_strcmp(m->kind, "text") != 0 && ngx_strcmp(m->kind, "image") != 0
        && ngx_strcmp(m->kind, "video") != 0)
    {
        return ngx_gp_imp_fail(imp, "%s.kind: must be text, image or video",
                               label);
    }

    if (m->pin >= 0 && (ngx_uint_t) m->pin >= imp->nids) {
        if (ngx_gp_json_note(imp->notes, "%s: its account %d is not in "
                            "the file; imported without a pin", label,
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
        && ngx_gp_json_note(imp->updated, "%s: replaced model \"%s\"", label,
                           m->name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    imp->models++;

    return NGX_OK;
}


/* settings: only those this version knows, typed and checked */

static ngx_int_t
ngx_gp_imp_setting(ngx_gp_imp_t *imp, const char *label, const char *key,
    json_t *v)
{
    int           b;
    char          buf[32];
    json_t       *o;
    int64_t       n;
    ngx_int_t     rc, i, number;
    const char   *text, *type, *err;

    i = ngx_gp_setting_index(key);

    if (i == NGX_ERROR) {
        return ngx_gp_json_note(imp->skipped, "%s: no such setting in this "
                               "version; not imported", label);
    }

    type = ngx_gp_setting_type_name(i);

    /* the reference wrote "None" for an unset value */
    if (imp->ref && json_is_string(v)
        && ngx_strcmp(json_string_value(v), "None") == 0)
    {
        return ngx_gp_json_note(imp->skipped, "%s: unset (\"None\"); not "
                               "imported", label);
    }

    if (json_is_null(v)) {
        if (!imp->ref) {
            return ngx_gp_imp_fail(imp, "%s: must not be null", label);
        }

        return ngx_gp_json_note(imp->skipped, "%s: unset (null); not "
                               "imported", label);
    }

    o = json_pack("{s:O}", "v", v);
    if (o == NULL) {
        return NGX_ERROR;
    }

    if (type[0] == 'b') {
        b = 0;
        rc = ngx_gp_imp_bool(imp, o, "settings", "v", &b);
        text = b ? "true" : "false";

    } else if (type[0] == 'i') {
        n = 0;

        if (imp->ref && json_is_string(v)
            && ngx_atoi((u_char *) json_string_value(v),
                        json_string_length(v)) != NGX_ERROR)
        {
            n = ngx_atoi((u_char *) json_string_value(v),
                         json_string_length(v));
            rc = NGX_OK;

        } else {
            rc = ngx_gp_imp_int(imp, o, "settings", "v", 0, &n);
        }

        (void) snprintf(buf, sizeof(buf), "%lld", (long long) n);
        text = buf;

    } else {
        rc = ngx_gp_imp_str(imp, o, "settings", "v",
                            NGX_GP_SETTING_VALUE_LEN - 1, &text);
    }

    json_decref(o);

    if (rc != NGX_OK) {
        /* the message names "settings.v": name the setting instead */
        return ngx_gp_imp_fail(imp, "%s: must be %s", label,
                               type[0] == 'b' ? "true or false"
                               : type[0] == 'i' ? "a non-negative integer"
                               : "a string of at most 511 bytes");
    }

    /* the table's check, the one PUT /api/settings uses */

    err = ngx_gp_setting_check(i, (u_char *) text, &number);

    if (err) {
        return ngx_gp_imp_fail(imp, "%s: %s", label, err);
    }

    if (ngx_gp_store_setting_put(i, text, imp->log) != NGX_OK) {
        return ngx_gp_imp_sql_error(imp);
    }

    imp->settings++;

    return NGX_OK;
}


/* API keys: by their SHA-256, the only form either side stores */

static ngx_int_t
ngx_gp_imp_key(ngx_gp_imp_t *imp, const char *label, ngx_gp_imp_key_t *k)
{
    size_t    i;
    char      hash[65];
    int64_t   id;

    if (k->hash == NULL) {
        return ngx_gp_json_note(imp->skipped, "%s: no key_hash (an export "
                               "made without ?secrets=1); not imported",
                               label);
    }

    for (i = 0; k->hash[i] && i < 64; i++) {
        if (!isxdigit((u_char) k->hash[i])) {
            break;
        }

        hash[i] = (char) ngx_tolower(k->hash[i]);
    }

    if (i != 64 || k->hash[64] != '\0') {
        return ngx_gp_imp_fail(imp, "%s.key_hash: must be a SHA-256 in hex "
                               "(64 characters)", label);
    }

    hash[64] = '\0';

    if (ngx_gp_store_import_key(k, hash, &id, imp->log) != NGX_OK) {
        return ngx_gp_imp_sql_error(imp);
    }

    if (id
        && ngx_gp_json_note(imp->updated, "%s: updated API key %lld (same "
                           "key)", label, (long long) id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    imp->keys++;

    return NGX_OK;
}


/* list[i], an object, labelled "<key>[i]" for messages; NULL: refused */

static json_t *
ngx_gp_imp_item(ngx_gp_imp_t *imp, json_t *list, size_t i, const char *key,
    char *label, size_t size)
{
    json_t  *o;

    o = json_array_get(list, i);
    (void) snprintf(label, size, "%s[%u]", key, (unsigned) i);

    if (!json_is_object(o)) {
        (void) ngx_gp_imp_fail(imp, "%s: must be an object", label);
        return NULL;
    }

    return o;
}


static ngx_int_t
ngx_gp_imp_array(ngx_gp_imp_t *imp, json_t *doc, const char *key,
    json_t **out)
{
    json_t  *v;

    v = json_object_get(doc, key);
    *out = NULL;

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_array(v)) {
        return ngx_gp_imp_fail(imp, "%s: must be an array", key);
    }

    *out = v;

    return NGX_OK;
}


static ngx_int_t
ngx_gp_imp_ids(ngx_gp_imp_t *imp, json_t *accounts)
{
    imp->nids = accounts ? json_array_size(accounts) : 0;

    imp->ids = ngx_calloc((imp->nids + 1) * sizeof(int64_t), imp->log);

    return imp->ids ? NGX_OK : NGX_ERROR;
}


/* the reference: business_gemini_session.json, or its database as such */

static ngx_int_t
ngx_gp_imp_reference(ngx_gp_imp_t *imp, json_t *doc)
{
    int                    b;
    char                   label[64];
    size_t                 i;
    json_t                *list, *o, *v;
    int64_t                n;
    ngx_int_t              rc;
    const char            *key, *s, *api, *worker;
    ngx_gp_ref_key_t      *rk;
    ngx_gp_imp_key_t       k;
    ngx_gp_imp_model_t     m;
    ngx_gp_imp_account_t   a;

    imp->ref = 1;

    if (ngx_gp_imp_array(imp, doc, "accounts", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_gp_imp_ids(imp, list) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "accounts", label, sizeof(label));
        if (o == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(&a, sizeof(ngx_gp_imp_account_t));
        a.enabled = 1;
        a.expired = -1;
        b = 1;

        v = json_object_get(o, "csesidx");

        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            (void) snprintf(a.cses, sizeof(a.cses), "%lld",
                            (long long) json_integer_value(v));
            a.csesidx = a.cses;

        } else if (ngx_gp_imp_str(imp, o, label, "csesidx",
                                  NGX_GP_CSESIDX_LEN - 1, &a.csesidx)
                   != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (ngx_gp_imp_str(imp, o, label, "team_id", NGX_GP_TEAM_LEN - 1,
                           &a.team_id) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "secure_c_ses",
                              NGX_GP_COOKIE_LEN - 1, &a.secure_c_ses)
               != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "host_c_oses",
                              NGX_GP_COOKIE_LEN - 1, &a.host_c_oses)
               != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "user_agent",
                              NGX_GP_UA_LEN - 1, &a.user_agent) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "tempmail_url", 0,
                              &a.tempmail_url) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "tempmail_name", 0,
                              &a.tempmail_name) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "tempmail_worker_url", 0,
                              &worker) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "available", &b) != NGX_OK)
        {
            return NGX_DECLINED;
        }

        a.enabled = b;

        if (json_object_get(o, "cookie_expired")) {
            b = 0;

            if (ngx_gp_imp_bool(imp, o, label, "cookie_expired", &b)
                != NGX_OK)
            {
                return NGX_DECLINED;
            }

            a.expired = b;
        }

        /*
         * the reference names nothing; its mailbox is the best label
         * (when it fits; otherwise the account is shown as "account-<id>")
         */
        if (a.tempmail_name && ngx_strlen(a.tempmail_name) < NGX_GP_NAME_LEN)
        {
            a.name = a.tempmail_name;
        }

        a.placeholder = (a.team_id == NULL || a.team_id[0] == '\0')
                        && (a.csesidx == NULL || a.csesidx[0] == '\0')
                        && (a.secure_c_ses == NULL
                            || a.secure_c_ses[0] == '\0');

        if (!a.placeholder
            && (a.secure_c_ses == NULL || a.secure_c_ses[0] == '\0'))
        {
            return ngx_gp_imp_fail(imp, "%s.secure_c_ses: missing", label);
        }

        rc = ngx_gp_imp_account(imp, i, &a);
        if (rc != NGX_OK) {
            return rc;
        }

        if (worker && worker[0] && ngx_strcmp(worker, "None") != 0
            && ngx_gp_json_note(imp->skipped, "%s.tempmail_worker_url: no "
                               "per-account worker URL here (the "
                               "tempmail_worker_url setting is global); "
                               "not imported", label) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_gp_imp_array(imp, doc, "models", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "models", label, sizeof(label));
        if (o == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(&m, sizeof(ngx_gp_imp_model_t));
        m.enabled = 1;
        m.position = -1;
        n = -1;
        api = NULL;
        s = NULL;

        if (ngx_gp_imp_str(imp, o, label, "id", NGX_GP_MODEL_LEN - 1,
                           &m.name) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "api_model_id",
                              NGX_GP_MODEL_LEN - 1, &api) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "name", 0, &s) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "description", 0,
                              &m.description) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "enabled", &m.enabled)
               != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "account_index", -1, &n)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (api && (ngx_strcmp(api, "null") == 0
                    || ngx_strcmp(api, "None") == 0))
        {
            api = NULL;
        }

        m.model_id = api;
        m.pin = (ngx_int_t) n;

        if (m.description == NULL || m.description[0] == '\0') {
            m.description = s;
        }

        /* as the reference tells the tool: by the model's names */
        m.kind = "text";

        if (m.name && ngx_strcmp(m.name, "gemini-image") == 0) {
            m.kind = "image";

        } else if ((m.name && ngx_strcasestrn((u_char *) m.name, "video",
                                              5 - 1))
                   || (s && ngx_strcasestrn((u_char *) s, "video", 5 - 1))
                   || (api && ngx_strcasestrn((u_char *) api, "video",
                                              5 - 1)))
        {
            m.kind = "video";
        }

        rc = ngx_gp_imp_model(imp, label, &m);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ngx_gp_imp_array(imp, doc, "api_keys", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = json_array_get(list, i);
        (void) snprintf(label, sizeof(label), "api_keys[%u]", (unsigned) i);

        ngx_memzero(&k, sizeof(ngx_gp_imp_key_t));
        k.enabled = 1;

        if (ngx_gp_imp_str(imp, o, label, "key_hash", 0, &k.hash) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "name", NGX_GP_NAME_LEN - 1,
                              &k.name) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "is_active", &k.enabled)
               != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "expires_at", &k.expires)
               != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "last_used_at", &k.last_used)
               != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "created_at", &k.created)
               != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "usage_count", 0, &k.requests)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (k.hash == NULL) {
            return ngx_gp_imp_fail(imp, "%s.key_hash: missing", label);
        }

        rc = ngx_gp_imp_key(imp, label, &k);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* the rest of the top level: settings, or said why not */

    json_object_foreach(doc, key, v) {

        if (ngx_strcmp(key, "accounts") == 0
            || ngx_strcmp(key, "models") == 0
            || ngx_strcmp(key, "api_keys") == 0)
        {
            continue;
        }

        for (rk = ngx_gp_ref_keys; rk->key; rk++) {
            if (ngx_strcmp(rk->key, key) == 0) {
                break;
            }
        }

        if (rk->key == NULL) {
            rc = ngx_gp_json_note(imp->skipped, "%.60s: unknown to this "
                                 "version; not imported", key);

        } else if (rk->setting == NULL) {
            rc = ngx_gp_json_note(imp->skipped, "%s: %s", key, rk->why);

        } else {
            rc = ngx_gp_imp_setting(imp, key, rk->setting, v);
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


/* our own export */

static ngx_int_t
ngx_gp_imp_ours(ngx_gp_imp_t *imp, json_t *doc)
{
    int                    b;
    char                   label[64];
    size_t                 i;
    u_char                *p;
    json_t                *list, *o, *v;
    int64_t                n;
    ngx_int_t              rc;
    const char            *key;
    ngx_gp_imp_key_t       k;
    ngx_gp_imp_model_t     m;
    ngx_gp_imp_account_t   a;

    v = json_object_get(doc, "version");

    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        return ngx_gp_imp_fail(imp, "version: must be a positive integer");
    }

    if (json_integer_value(v) > NGX_GP_EXPORT_VERSION) {
        return ngx_gp_imp_fail(imp, "version: %lld is newer than this "
                               "module's %d; use a newer module",
                               (long long) json_integer_value(v),
                               NGX_GP_EXPORT_VERSION);
    }

    if (ngx_gp_imp_array(imp, doc, "accounts", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_gp_imp_ids(imp, list) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "accounts", label, sizeof(label));
        if (o == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(&a, sizeof(ngx_gp_imp_account_t));
        a.enabled = -1;
        a.expired = -1;

        if (ngx_gp_imp_str(imp, o, label, "name", NGX_GP_NAME_LEN - 1,
                           &a.name) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "team_id", NGX_GP_TEAM_LEN - 1,
                              &a.team_id) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "csesidx",
                              NGX_GP_CSESIDX_LEN - 1, &a.csesidx) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "secure_c_ses",
                              NGX_GP_COOKIE_LEN - 1, &a.secure_c_ses)
               != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "host_c_oses",
                              NGX_GP_COOKIE_LEN - 1, &a.host_c_oses)
               != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "user_agent",
                              NGX_GP_UA_LEN - 1, &a.user_agent) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "proxy", NGX_GP_PROXY_LEN - 1,
                              &a.proxy) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "tempmail_url", 0,
                              &a.tempmail_url) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "tempmail_name", 0,
                              &a.tempmail_name) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "enabled", &a.enabled)
               != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "cookie_expired", &a.expired)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        /* no credentials at all: a placeholder (a remote sync's) */
        b = a.secure_c_ses ? a.secure_c_ses[0] == '\0'
                           : !json_is_true(json_object_get(o,
                                                      "secure_c_ses_set"));

        a.placeholder = b && (a.team_id == NULL || a.team_id[0] == '\0')
                        && (a.csesidx == NULL || a.csesidx[0] == '\0');

        if (a.secure_c_ses && a.secure_c_ses[0] == '\0' && !a.placeholder) {
            return ngx_gp_imp_fail(imp, "%s.secure_c_ses: empty", label);
        }

        rc = ngx_gp_imp_account(imp, i, &a);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ngx_gp_imp_array(imp, doc, "models", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "models", label, sizeof(label));
        if (o == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(&m, sizeof(ngx_gp_imp_model_t));
        m.enabled = 1;
        m.position = -1;
        m.kind = "text";
        n = -1;

        if (ngx_gp_imp_str(imp, o, label, "name", NGX_GP_MODEL_LEN - 1,
                           &m.name) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "model_id",
                              NGX_GP_MODEL_LEN - 1, &m.model_id) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "kind", 0, &m.kind) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "description", 0,
                              &m.description) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "enabled", &m.enabled)
               != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "position", 0, &m.position)
               != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "account", 0, &n) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "aliases",
                              NGX_GP_ALIASES_LEN - 1, &m.aliases) != NGX_OK)
        {
            return NGX_DECLINED;
        }

        if (m.kind == NULL) {
            m.kind = "text";
        }

        for (p = (u_char *) m.aliases; p && *p; p++) {
            if (*p <= ' ' || *p > '~'
                || (*p == '*' && p[1] != ',' && p[1] != '\0'))
            {
                return ngx_gp_imp_fail(imp, "%s.aliases: names and "
                                       "prefixes (\"claude-*\") separated "
                                       "by commas, without blanks", label);
            }
        }

        m.pin = (ngx_int_t) n;

        rc = ngx_gp_imp_model(imp, label, &m);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    v = json_object_get(doc, "settings");

    if (v && !json_is_null(v) && !json_is_object(v)) {
        return ngx_gp_imp_fail(imp, "settings: must be an object");
    }

    if (json_is_object(v)) {
        json_object_foreach(v, key, o) {
            (void) snprintf(label, sizeof(label), "settings.%.48s", key);

            rc = ngx_gp_imp_setting(imp, label, key, o);
            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    if (ngx_gp_imp_array(imp, doc, "api_keys", &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "api_keys", label, sizeof(label));
        if (o == NULL) {
            return NGX_DECLINED;
        }

        ngx_memzero(&k, sizeof(ngx_gp_imp_key_t));
        k.enabled = 1;
        b = 1;

        if (ngx_gp_imp_str(imp, o, label, "key_hash", 0, &k.hash) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "name", NGX_GP_NAME_LEN - 1,
                              &k.name) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "prefix", 15, &k.prefix)
               != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "models",
                              NGX_GP_KEY_MODELS_LEN - 1, &k.models) != NGX_OK
            || ngx_gp_imp_str(imp, o, label, "image_format", 15,
                              &k.image_format) != NGX_OK
            || ngx_gp_imp_bool(imp, o, label, "enabled", &b) != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "expires_at", &k.expires)
               != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "rpm", 0, &k.rpm) != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "rpd", 0, &k.rpd) != NGX_OK
            || ngx_gp_imp_int(imp, o, label, "requests", 0, &k.requests)
               != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "last_used_at", &k.last_used)
               != NGX_OK
            || ngx_gp_imp_time(imp, o, label, "created_at", &k.created)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        k.enabled = b;

        rc = ngx_gp_imp_key(imp, label, &k);
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
    json_t              *doc, *v;
    ngx_int_t            rc;
    const char          *format;
    ngx_gp_imp_t         imp;
    json_error_t         jerr;
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

    doc = NULL;
    rc = NGX_OK;

    if (sqlite) {
        format = "reference-db";
        doc = json_object();

        ref.log = imp.log;
        ref.skipped = imp.skipped;
        ref.err = imp.err;
        ref.errlen = imp.errlen;

        rc = doc ? ngx_gp_store_ref_read(&ref, body, doc) : NGX_ERROR;

    } else {
        doc = json_loadb((char *) body->data, body->len, 0, &jerr);

        if (doc == NULL) {
            rc = ngx_gp_imp_fail(&imp, "the body is not JSON (line %d, "
                                 "column %d: %s) nor an SQLite database",
                                 jerr.line, jerr.column, jerr.text);

        } else if (!json_is_object(doc)) {
            rc = ngx_gp_imp_fail(&imp, "the body must be a JSON object "
                                 "(an export or "
                                 "business_gemini_session.json)");
        }

        v = doc ? json_object_get(doc, "format") : NULL;

        if (rc != NGX_OK) {
            format = "";

        } else if (v == NULL) {
            format = "reference-json";

            if (json_object_get(doc, "accounts") == NULL
                && json_object_get(doc, "models") == NULL)
            {
                rc = ngx_gp_imp_fail(&imp, "accounts: missing (neither an "
                                     "export nor "
                                     "business_gemini_session.json)");
            }

        } else if (json_is_string(v)
                   && ngx_strcmp(json_string_value(v),
                                 NGX_GP_EXPORT_FORMAT) == 0)
        {
            format = NGX_GP_EXPORT_FORMAT;

        } else {
            format = "";
            rc = ngx_gp_imp_fail(&imp, "format: must be \"%s\"",
                                 NGX_GP_EXPORT_FORMAT);
        }
    }

    if (rc == NGX_OK) {
        if (ngx_gp_store_db(imp.log) == NULL) {
            (void) snprintf(err, errlen, "the database is not available");
            rc = NGX_ERROR;

        } else if (ngx_gp_store_begin(imp.log) != NGX_OK) {
            rc = ngx_gp_imp_sql_error(&imp);

        } else {
            rc = (format[0] == 'r') ? ngx_gp_imp_reference(&imp, doc)
                                    : ngx_gp_imp_ours(&imp, doc);

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
