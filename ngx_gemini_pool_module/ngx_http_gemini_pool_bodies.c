
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The JSON bodies the admin API reads: see the header.
 */


#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ngx_http_gemini_pool_bodies.h"
#include "ngx_http_gemini_pool_text.h"
#include "ngx_http_gemini_pool_openai.h"


static int ngx_gp_body_fail(char *msg, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;


static int
ngx_gp_body_fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(msg, size, fmt, args);
    va_end(args);

    return -1;
}


/* "video" anywhere in s, in any case */

static int
ngx_gp_body_has_video(const char *s)
{
    size_t  i, n;

    if (s == NULL) {
        return 0;
    }

    n = strlen(s);

    for (i = 0; i + 5 <= n; i++) {
        if (strncasecmp(s + i, "video", 5) == 0) {
            return 1;
        }
    }

    return 0;
}


json_t *
ngx_gp_body_object(const char *p, size_t len, char *msg, size_t size)
{
    json_t        *body;
    json_error_t   err;

    body = json_loadb(p, len, 0, &err);

    if (body == NULL || !json_is_object(body)) {
        (void) snprintf(msg, size, "the body must be a JSON object%s%s",
                        body ? "" : ": ", body ? "" : err.text);
        json_decref(body);
        return NULL;
    }

    return body;
}


int
ngx_gp_body_proxy_valid(const char *url)
{
    static const char  *schemes[] = {
        "http://", "https://", "socks5://", "socks5h://", "socks4://",
        "socks4a://", NULL
    };

    size_t        n;
    const char  **s;

    for (s = schemes; *s; s++) {
        n = strlen(*s);

        if (strncasecmp(url, *s, n) == 0 && url[n] != '\0') {
            return 1;
        }
    }

    return 0;
}


int
ngx_gp_body_mailbox_url(const char *s)
{
    const char  *q, *p;

    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
        return 0;
    }

    q = strchr(s, '?');

    for (p = q; p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, "jwt=", 4) == 0 && p[5] != '\0'
            && p[5] != '&' && p[5] != '#')
        {
            return 1;
        }
    }

    return 0;
}


/* accounts of the admin API */

typedef struct {
    const char          *column;
    size_t               max;
    int                  digits;
    int                  url;        /* 1: a proxy URL or "direct"; 2: a
                                        mailbox's URL */
    size_t               offset;
} ngx_gp_body_field_t;


#define ngx_gp_body_off(f)  offsetof(ngx_gp_body_account_t, f)

static ngx_gp_body_field_t  ngx_gp_body_account_fields[] = {
    { "name", NGX_GP_NAME_LEN - 1, 0, 0, ngx_gp_body_off(name) },
    { "team_id", NGX_GP_TEAM_LEN - 1, 0, 0, ngx_gp_body_off(team_id) },
    { "csesidx", NGX_GP_CSESIDX_LEN - 1, 1, 0, ngx_gp_body_off(csesidx) },
    { "secure_c_ses", NGX_GP_COOKIE_LEN - 1, 0, 0,
      ngx_gp_body_off(secure_c_ses) },
    { "host_c_oses", NGX_GP_COOKIE_LEN - 1, 0, 0,
      ngx_gp_body_off(host_c_oses) },
    { "user_agent", NGX_GP_UA_LEN - 1, 0, 0, ngx_gp_body_off(user_agent) },
    { "proxy", NGX_GP_PROXY_LEN - 1, 0, 1, ngx_gp_body_off(proxy) },
    { "tempmail_url", NGX_GP_MAILBOX_URL_LEN - 1, 0, 2,
      ngx_gp_body_off(tempmail_url) },
    { "tempmail_name", NGX_GP_NAME_LEN - 1, 0, 0,
      ngx_gp_body_off(tempmail_name) },
    { NULL, 0, 0, 0, 0 }
};


/* appends to a message of ngx_gp_body_account() ("; " between parts) */

static void ngx_gp_body_cat(char *msg, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;


static void
ngx_gp_body_cat(char *msg, size_t size, const char *fmt, ...)
{
    size_t   len;
    va_list  args;

    len = strlen(msg);

    if (len && len + 2 < size) {
        memcpy(msg + len, "; ", 3);
        len += 2;
    }

    if (len + 1 >= size) {
        return;
    }

    va_start(args, fmt);
    (void) vsnprintf(msg + len, size - len, fmt, args);
    va_end(args);
}


/* what is wrong with one field's string, or NULL */

static const char *
ngx_gp_body_account_check(ngx_gp_body_field_t *f, json_t *v, char *msg,
    size_t size)
{
    size_t       len, i;
    const char  *s;

    if (!json_is_string(v)) {
        ngx_gp_body_cat(msg, size, "\"%s\" must be a string", f->column);
        return NULL;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len > f->max || strlen(s) != len) {
        ngx_gp_body_cat(msg, size, "\"%s\" is longer than %zu bytes or "
                        "contains NUL", f->column, f->max);
        return NULL;
    }

    for (i = 0; f->digits && i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            ngx_gp_body_cat(msg, size, "\"%s\" must be digits", f->column);
            return NULL;
        }
    }

    if (f->url == 2 && len && !ngx_gp_body_mailbox_url(s)) {
        ngx_gp_body_cat(msg, size, "\"%s\" must be an http:// or https:// "
                        "URL with a \"jwt\" parameter (the mailbox's link)",
                        f->column);
        return NULL;
    }

    if (f->url == 1 && len && strcmp(s, "direct") != 0
        && strncmp(s, "http://", 7) != 0
        && strncmp(s, "https://", 8) != 0
        && strncmp(s, "socks5://", 9) != 0
        && strncmp(s, "socks5h://", 10) != 0)
    {
        ngx_gp_body_cat(msg, size, "\"%s\" must be \"direct\" or an "
                        "http://, https://, socks5:// or socks5h:// URL",
                        f->column);
        return NULL;
    }

    return s;
}


/*
 * Every field is read, and every problem named at once: the invalid
 * fields (their messages in msg, their names in acc->invalid) before the
 * missing ones (acc->missing, one sentence naming them all).
 */

int
ngx_gp_body_account(json_t *body, int add, ngx_gp_body_account_t *acc,
    char *msg, size_t size)
{
    size_t                 ni, nm, i;
    json_t                *v;
    const char            *s;
    ngx_gp_body_field_t   *f;

    memset(acc, 0, sizeof(ngx_gp_body_account_t));
    acc->enabled = -1;
    msg[0] = '\0';
    ni = 0;
    nm = 0;

    for (f = ngx_gp_body_account_fields; f->column; f++) {
        v = json_object_get(body, f->column);

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        s = ngx_gp_body_account_check(f, v, msg, size);

        if (s == NULL) {
            acc->invalid[ni++] = f->column;
            continue;
        }

        *(const char **) ((char *) acc + f->offset) = s;
    }

    v = json_object_get(body, "enabled");

    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        ngx_gp_body_cat(msg, size, "\"enabled\" must be true or false");
        acc->invalid[ni++] = "enabled";

    } else {
        acc->enabled = json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : -1;
    }

    /* an add: team_id, csesidx, secure_c_ses (the table's 2nd to 4th) */

    for (f = &ngx_gp_body_account_fields[1];
         add && f <= &ngx_gp_body_account_fields[3];
         f++)
    {
        s = *(const char **) ((char *) acc + f->offset);

        for (i = 0; i < ni; i++) {
            if (acc->invalid[i] == f->column) {
                break;
            }
        }

        if (i == ni && (s == NULL || s[0] == '\0')) {
            acc->missing[nm++] = f->column;
        }
    }

    if (nm == 1) {
        ngx_gp_body_cat(msg, size, "\"%s\" is required", acc->missing[0]);

    } else if (nm == 2) {
        ngx_gp_body_cat(msg, size, "\"%s\" and \"%s\" are required",
                        acc->missing[0], acc->missing[1]);

    } else if (nm == 3) {
        ngx_gp_body_cat(msg, size, "\"%s\", \"%s\" and \"%s\" are "
                        "required", acc->missing[0], acc->missing[1],
                        acc->missing[2]);
    }

    if (ni) {
        return NGX_GP_BODY_INVALID;
    }

    return nm ? NGX_GP_BODY_MISSING : 0;
}


/* a string member or NULL; bad set for another type */

static const char *
ngx_gp_body_str(json_t *body, const char *key, int *bad)
{
    json_t  *v;

    v = body ? json_object_get(body, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }

    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }

    return json_string_value(v);
}


/* a non-negative integer member; bad set for another value */

static void
ngx_gp_body_uint(json_t *body, const char *key, int64_t *out, int *bad)
{
    json_t  *v;

    v = body ? json_object_get(body, key) : NULL;

    if (v == NULL || json_is_null(v)) {
        return;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *bad = 1;
        return;
    }

    *out = json_integer_value(v);
}


int
ngx_gp_body_model(json_t *body, const char *name, ngx_gp_body_model_t *m,
    char *msg, size_t size)
{
    int      bad;
    json_t  *v;

    memset(m, 0, sizeof(ngx_gp_body_model_t));
    bad = 0;

    m->name = name ? name : ngx_gp_body_str(body, "name", &bad);
    m->model_id = ngx_gp_body_str(body, "model_id", &bad);
    m->kind = ngx_gp_body_str(body, "kind", &bad);
    m->description = ngx_gp_body_str(body, "description", &bad);

    v = json_object_get(body, "account_id");
    m->account = -1;
    m->has_account = (v != NULL);

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        m->account = json_integer_value(v);

    } else if (v && !json_is_null(v)) {
        bad = 1;
    }

    v = json_object_get(body, "enabled");
    m->enabled = v ? (json_is_true(v) ? 1 : 0) : -1;

    if (v && !json_is_boolean(v)) {
        bad = 1;
    }

    v = json_object_get(body, "position");
    m->has_position = (v != NULL);
    m->position = json_is_integer(v) ? json_integer_value(v) : 0;

    if (v && !json_is_integer(v)) {
        bad = 1;
    }

    if (bad || m->name == NULL || m->name[0] == '\0'
        || strlen(m->name) >= NGX_GP_MODEL_LEN
        || (m->model_id && strlen(m->model_id) >= NGX_GP_MODEL_LEN)
        || (m->kind && strcmp(m->kind, "text") != 0
            && strcmp(m->kind, "image") != 0
            && strcmp(m->kind, "video") != 0))
    {
        return ngx_gp_body_fail(msg, size, "a model has \"name\" and "
                                "optional \"model_id\" (strings under 64 "
                                "bytes), \"kind\" (text, image or video), "
                                "\"account_id\" (an id or null), "
                                "\"enabled\" (bool), \"position\" (int), "
                                "\"description\"");
    }

    return 0;
}


int
ngx_gp_body_key(json_t *body, ngx_gp_body_key_t *k, char *msg, size_t size)
{
    int          bad;
    char        *p;
    size_t       i, len;
    json_t      *v, *m;
    const char  *f;

    memset(k, 0, sizeof(ngx_gp_body_key_t));
    bad = 0;

    k->name = ngx_gp_body_str(body, "name", &bad);
    k->image_format = ngx_gp_body_str(body, "image_format", &bad);
    ngx_gp_body_uint(body, "expires_at", &k->expires, &bad);
    ngx_gp_body_uint(body, "rpm", &k->rpm, &bad);
    ngx_gp_body_uint(body, "rpd", &k->rpd, &bad);

    if (bad || (k->name && strlen(k->name) >= NGX_GP_NAME_LEN)) {
        return ngx_gp_body_fail(msg, size, "\"name\" and \"image_format\" "
                                "are strings, \"expires_at\", \"rpm\" and "
                                "\"rpd\" non-negative integers");
    }

    f = k->image_format;

    if (f && f[0] && strcmp(f, "markdown") != 0 && strcmp(f, "url") != 0
        && strcmp(f, "array") != 0 && strcmp(f, "b64_json") != 0)
    {
        return ngx_gp_body_fail(msg, size, "\"image_format\" must be "
                                "markdown, url, array or b64_json");
    }

    /* "models": an array of model names (or a comma-separated string) */

    v = body ? json_object_get(body, "models") : NULL;
    p = k->models;

    if (json_is_string(v)) {
        if (json_string_length(v) >= sizeof(k->models)) {
            return ngx_gp_body_fail(msg, size, "\"models\" is too long");
        }

        /* a NUL inside ends it, as it did */
        (void) snprintf(k->models, sizeof(k->models), "%s",
                        json_string_value(v));

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            if (!json_is_string(m)) {
                return ngx_gp_body_fail(msg, size, "\"models\" must be an "
                                        "array of strings");
            }

            len = json_string_length(m);

            if ((size_t) (p - k->models) + len + 2 > sizeof(k->models)) {
                return ngx_gp_body_fail(msg, size, "\"models\" is too long");
            }

            if (p != k->models) {
                *p++ = ',';
            }

            memcpy(p, json_string_value(m), len);
            p += len;
            *p = '\0';
        }

    } else if (v && !json_is_null(v)) {
        return ngx_gp_body_fail(msg, size, "\"models\" must be an array of "
                                "model names");
    }

    return 0;
}


/* imports */

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


static int ngx_gp_imp_fail(ngx_gp_import_t *imp, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


static int
ngx_gp_imp_fail(ngx_gp_import_t *imp, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    (void) vsnprintf(imp->err, imp->errlen, fmt, args);
    va_end(args);

    return -1;
}


/* JSON field helpers: 0, or -1 with the field named */

static int
ngx_gp_imp_str(ngx_gp_import_t *imp, json_t *o, const char *label,
    const char *key, size_t max, const char **out)
{
    json_t  *v;

    *out = NULL;
    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        return ngx_gp_imp_fail(imp, "%s.%s: must be a string", label, key);
    }

    if (strlen(json_string_value(v)) != json_string_length(v)) {
        return ngx_gp_imp_fail(imp, "%s.%s: contains NUL", label, key);
    }

    if (max && json_string_length(v) > max) {
        return ngx_gp_imp_fail(imp, "%s.%s: longer than %zu bytes", label,
                               key, max);
    }

    *out = json_string_value(v);

    return 0;
}


static int
ngx_gp_imp_bool(ngx_gp_import_t *imp, json_t *o, const char *label,
    const char *key, int *out)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }

    /* the reference's database keeps booleans as 0 and 1 */

    if (imp->ref && json_is_integer(v)
        && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
    {
        *out = (int) json_integer_value(v);
        return 0;
    }

    if (imp->ref && json_is_string(v)) {
        s = json_string_value(v);

        if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
            *out = 1;
            return 0;
        }

        if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
            *out = 0;
            return 0;
        }
    }

    return ngx_gp_imp_fail(imp, "%s.%s: must be true or false", label, key);
}


static int
ngx_gp_imp_int(ngx_gp_import_t *imp, json_t *o, const char *label,
    const char *key, int64_t min, int64_t *out)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_integer(v) || json_integer_value(v) < min) {
        return ngx_gp_imp_fail(imp, "%s.%s: must be an integer of at least "
                               "%lld", label, key, (long long) min);
    }

    *out = json_integer_value(v);

    return 0;
}


/*
 * A time: a Unix time, or the reference's UTC date and time
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" (also with "T").  null: 0.
 */

static int
ngx_gp_imp_time(ngx_gp_import_t *imp, json_t *o, const char *label,
    const char *key, int64_t *out)
{
    int          y, mo, d, h, mi, s, n;
    json_t      *v;
    struct tm    tm;
    const char  *p;

    v = json_object_get(o, key);
    *out = 0;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return 0;
    }

    if (json_is_string(v)) {
        p = json_string_value(v);
        n = 0;

        if (p[0] == '\0' || strcmp(p, "None") == 0) {
            return 0;
        }

        if (sscanf(p, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h,
                   &mi, &s, &n) == 6
            && n >= 19 && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1
            && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59
            && s >= 0 && s <= 60
            && (p[n] == '\0' || p[n] == '.' || p[n] == 'Z' || p[n] == '+'))
        {
            memset(&tm, 0, sizeof(struct tm));
            tm.tm_year = y - 1900;
            tm.tm_mon = mo - 1;
            tm.tm_mday = d;
            tm.tm_hour = h;
            tm.tm_min = mi;
            tm.tm_sec = s;

            *out = (int64_t) timegm(&tm);
            return 0;
        }
    }

    return ngx_gp_imp_fail(imp, "%s.%s: must be a Unix time or a date "
                           "\"YYYY-MM-DD HH:MM:SS\"", label, key);
}


/* a decimal without a sign that fits: its value, or -1 */

static int64_t
ngx_gp_imp_atoi(const char *p, size_t len)
{
    size_t   i;
    int64_t  n;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9' || n > (INT64_MAX - 9) / 10) {
            return -1;
        }

        n = n * 10 + (p[i] - '0');
    }

    return n;
}


static int
ngx_gp_imp_check_account(ngx_gp_import_t *imp, const char *label,
    ngx_gp_import_account_t *a)
{
    const char  *p;

    if (a->placeholder) {
        return 0;
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

    if (a->proxy && a->proxy[0] && strcmp(a->proxy, "direct") != 0
        && !ngx_gp_body_proxy_valid(a->proxy))
    {
        return ngx_gp_imp_fail(imp, "%s.proxy: must be \"direct\" or an "
                               "http://, https://, socks5:// or socks5h:// "
                               "URL", label);
    }

    return 0;
}


static int
ngx_gp_imp_check_model(ngx_gp_import_t *imp, ngx_gp_import_model_t *m)
{
    if (m->name == NULL || m->name[0] == '\0') {
        return ngx_gp_imp_fail(imp, "%s.%s: missing", m->label,
                               imp->ref ? "id" : "name");
    }

    if (strcmp(m->kind, "text") != 0 && strcmp(m->kind, "image") != 0
        && strcmp(m->kind, "video") != 0)
    {
        return ngx_gp_imp_fail(imp, "%s.kind: must be text, image or video",
                               m->label);
    }

    return 0;
}


/* 0, 1 when it is not imported (a note says why), -1, -2 */

static int
ngx_gp_imp_check_key(ngx_gp_import_t *imp, ngx_gp_import_key_t *k)
{
    size_t  i;

    if (k->hash == NULL) {
        return ngx_gp_json_note(imp->skipped, "%s: no key_hash (an export "
                                "made without ?secrets=1); not imported",
                                k->label) == 0 ? 1 : -2;
    }

    for (i = 0; k->hash[i] && i < 64; i++) {
        if (!isxdigit((unsigned char) k->hash[i])) {
            break;
        }

        k->lower[i] = (char) tolower((unsigned char) k->hash[i]);
    }

    if (i != 64 || k->hash[64] != '\0') {
        return ngx_gp_imp_fail(imp, "%s.key_hash: must be a SHA-256 in hex "
                               "(64 characters)", k->label);
    }

    k->lower[64] = '\0';
    k->hash = k->lower;

    return 0;
}


/* settings: only those this version knows, typed; 0, 1 not imported */

static int
ngx_gp_imp_setting(ngx_gp_import_t *imp, const char *label, const char *key,
    json_t *v)
{
    int                       b, type, rc;
    json_t                   *o;
    int64_t                   n;
    const char               *text;
    ngx_gp_import_setting_t  *s;

    type = imp->type ? imp->type(key) : 0;

    if (type == 0) {
        return ngx_gp_json_note(imp->skipped, "%s: no such setting in this "
                                "version; not imported", label) ? -2 : 1;
    }

    /* the reference wrote "None" for an unset value */
    if (imp->ref && json_is_string(v)
        && strcmp(json_string_value(v), "None") == 0)
    {
        return ngx_gp_json_note(imp->skipped, "%s: unset (\"None\"); not "
                                "imported", label) ? -2 : 1;
    }

    if (json_is_null(v)) {
        if (!imp->ref) {
            return ngx_gp_imp_fail(imp, "%s: must not be null", label);
        }

        return ngx_gp_json_note(imp->skipped, "%s: unset (null); not "
                                "imported", label) ? -2 : 1;
    }

    s = &imp->settings[imp->nsettings];
    memset(s, 0, sizeof(ngx_gp_import_setting_t));

    o = json_pack("{s:O}", "v", v);
    if (o == NULL) {
        return -2;
    }

    if (type == 'b') {
        b = 0;
        rc = ngx_gp_imp_bool(imp, o, "settings", "v", &b);
        text = b ? "true" : "false";

    } else if (type == 'i') {
        n = 0;

        if (imp->ref && json_is_string(v)
            && ngx_gp_imp_atoi(json_string_value(v), json_string_length(v))
               >= 0)
        {
            n = ngx_gp_imp_atoi(json_string_value(v), json_string_length(v));
            rc = 0;

        } else {
            rc = ngx_gp_imp_int(imp, o, "settings", "v", 0, &n);
        }

        (void) snprintf(s->buf, sizeof(s->buf), "%lld", (long long) n);
        text = s->buf;

    } else {
        rc = ngx_gp_imp_str(imp, o, "settings", "v",
                            NGX_GP_SETTING_VALUE_LEN - 1, &text);
    }

    /* the string stays: the document holds it */
    json_decref(o);

    if (rc != 0) {
        /* the message names "settings.v": name the setting instead */
        return ngx_gp_imp_fail(imp, "%s: must be %s", label,
                               type == 'b' ? "true or false"
                               : type == 'i' ? "a non-negative integer"
                               : "a string of at most 511 bytes");
    }

    s->key = key;
    s->text = text;
    (void) snprintf(s->label, sizeof(s->label), "%s", label);
    imp->nsettings++;

    return 0;
}


/* list[i], an object, labelled "<key>[i]" for messages; NULL: refused */

static json_t *
ngx_gp_imp_item(ngx_gp_import_t *imp, json_t *list, size_t i,
    const char *key, char *label, size_t size)
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


static int
ngx_gp_imp_array(ngx_gp_import_t *imp, json_t *doc, const char *key,
    json_t **out)
{
    json_t  *v;

    v = json_object_get(doc, key);
    *out = NULL;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_array(v)) {
        return ngx_gp_imp_fail(imp, "%s: must be an array", key);
    }

    *out = v;

    return 0;
}


/* room for every item of the document; -2: out of memory */

static int
ngx_gp_imp_alloc(ngx_gp_import_t *imp, json_t *doc)
{
    size_t   na, nm, nk, ns;
    json_t  *v;

    v = json_object_get(doc, "accounts");
    na = json_is_array(v) ? json_array_size(v) : 0;
    v = json_object_get(doc, "models");
    nm = json_is_array(v) ? json_array_size(v) : 0;
    v = json_object_get(doc, "api_keys");
    nk = json_is_array(v) ? json_array_size(v) : 0;

    /* the reference's settings are at the top; ours in "settings" */
    ns = json_object_size(doc);
    v = json_object_get(doc, "settings");
    ns += json_is_object(v) ? json_object_size(v) : 0;

    imp->accounts = calloc(na + 1, sizeof(ngx_gp_import_account_t));
    imp->models = calloc(nm + 1, sizeof(ngx_gp_import_model_t));
    imp->keys = calloc(nk + 1, sizeof(ngx_gp_import_key_t));
    imp->settings = calloc(ns + 1, sizeof(ngx_gp_import_setting_t));

    if (imp->accounts == NULL || imp->models == NULL || imp->keys == NULL
        || imp->settings == NULL)
    {
        return -2;
    }

    return 0;
}


/* the reference: business_gemini_session.json, or its database as such */

static int
ngx_gp_imp_reference(ngx_gp_import_t *imp, json_t *doc)
{
    int                       b, rc;
    char                      label[64];
    size_t                    i;
    json_t                   *list, *o, *v;
    int64_t                   n;
    const char               *key, *s, *api, *worker;
    ngx_gp_ref_key_t         *rk;
    ngx_gp_import_key_t      *k;
    ngx_gp_import_model_t    *m;
    ngx_gp_import_account_t  *a;

    if (ngx_gp_imp_array(imp, doc, "accounts", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "accounts", label, sizeof(label));
        if (o == NULL) {
            return -1;
        }

        a = &imp->accounts[i];
        a->enabled = 1;
        a->expired = -1;
        b = 1;

        v = json_object_get(o, "csesidx");

        if (json_is_integer(v) && json_integer_value(v) >= 0) {
            (void) snprintf(a->cses, sizeof(a->cses), "%lld",
                            (long long) json_integer_value(v));
            a->csesidx = a->cses;

        } else if (ngx_gp_imp_str(imp, o, label, "csesidx",
                                  NGX_GP_CSESIDX_LEN - 1, &a->csesidx) != 0)
        {
            return -1;
        }

        if (ngx_gp_imp_str(imp, o, label, "team_id", NGX_GP_TEAM_LEN - 1,
                           &a->team_id) != 0
            || ngx_gp_imp_str(imp, o, label, "secure_c_ses",
                              NGX_GP_COOKIE_LEN - 1, &a->secure_c_ses) != 0
            || ngx_gp_imp_str(imp, o, label, "host_c_oses",
                              NGX_GP_COOKIE_LEN - 1, &a->host_c_oses) != 0
            || ngx_gp_imp_str(imp, o, label, "user_agent",
                              NGX_GP_UA_LEN - 1, &a->user_agent) != 0
            || ngx_gp_imp_str(imp, o, label, "tempmail_url", 0,
                              &a->tempmail_url) != 0
            || ngx_gp_imp_str(imp, o, label, "tempmail_name", 0,
                              &a->tempmail_name) != 0
            || ngx_gp_imp_str(imp, o, label, "tempmail_worker_url", 0,
                              &worker) != 0
            || ngx_gp_imp_bool(imp, o, label, "available", &b) != 0)
        {
            return -1;
        }

        a->enabled = b;

        if (json_object_get(o, "cookie_expired")) {
            b = 0;

            if (ngx_gp_imp_bool(imp, o, label, "cookie_expired", &b) != 0) {
                return -1;
            }

            a->expired = b;
        }

        /*
         * the reference names nothing; its mailbox is the best label
         * (when it fits; otherwise the account is shown as "account-<id>")
         */
        if (a->tempmail_name && strlen(a->tempmail_name) < NGX_GP_NAME_LEN) {
            a->name = a->tempmail_name;
        }

        a->placeholder = (a->team_id == NULL || a->team_id[0] == '\0')
                         && (a->csesidx == NULL || a->csesidx[0] == '\0')
                         && (a->secure_c_ses == NULL
                             || a->secure_c_ses[0] == '\0');

        if (!a->placeholder
            && (a->secure_c_ses == NULL || a->secure_c_ses[0] == '\0'))
        {
            return ngx_gp_imp_fail(imp, "%s.secure_c_ses: missing", label);
        }

        if (ngx_gp_imp_check_account(imp, label, a) != 0) {
            return -1;
        }

        imp->naccounts++;

        if (worker && worker[0] && strcmp(worker, "None") != 0
            && ngx_gp_json_note(imp->skipped, "%s.tempmail_worker_url: no "
                                "per-account worker URL here (the "
                                "tempmail_worker_url setting is global); "
                                "not imported", label) != 0)
        {
            return -2;
        }
    }

    if (ngx_gp_imp_array(imp, doc, "models", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        m = &imp->models[imp->nmodels];

        o = ngx_gp_imp_item(imp, list, i, "models", m->label,
                            sizeof(m->label));
        if (o == NULL) {
            return -1;
        }

        m->enabled = 1;
        m->position = -1;
        n = -1;
        api = NULL;
        s = NULL;

        if (ngx_gp_imp_str(imp, o, m->label, "id", NGX_GP_MODEL_LEN - 1,
                           &m->name) != 0
            || ngx_gp_imp_str(imp, o, m->label, "api_model_id",
                              NGX_GP_MODEL_LEN - 1, &api) != 0
            || ngx_gp_imp_str(imp, o, m->label, "name", 0, &s) != 0
            || ngx_gp_imp_str(imp, o, m->label, "description", 0,
                              &m->description) != 0
            || ngx_gp_imp_bool(imp, o, m->label, "enabled", &m->enabled) != 0
            || ngx_gp_imp_int(imp, o, m->label, "account_index", -1, &n)
               != 0)
        {
            return -1;
        }

        if (api && (strcmp(api, "null") == 0 || strcmp(api, "None") == 0)) {
            api = NULL;
        }

        m->model_id = api;
        m->pin = n;

        if (m->description == NULL || m->description[0] == '\0') {
            m->description = s;
        }

        /* as the reference tells the tool: by the model's names */
        m->kind = "text";

        if (m->name && strcmp(m->name, "gemini-image") == 0) {
            m->kind = "image";

        } else if (ngx_gp_body_has_video(m->name) || ngx_gp_body_has_video(s)
                   || ngx_gp_body_has_video(api))
        {
            m->kind = "video";
        }

        if (ngx_gp_imp_check_model(imp, m) != 0) {
            return -1;
        }

        imp->nmodels++;
    }

    if (ngx_gp_imp_array(imp, doc, "api_keys", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        k = &imp->keys[imp->nkeys];
        o = json_array_get(list, i);
        (void) snprintf(k->label, sizeof(k->label), "api_keys[%u]",
                        (unsigned) i);

        k->enabled = 1;

        if (ngx_gp_imp_str(imp, o, k->label, "key_hash", 0, &k->hash) != 0
            || ngx_gp_imp_str(imp, o, k->label, "name", NGX_GP_NAME_LEN - 1,
                              &k->name) != 0
            || ngx_gp_imp_bool(imp, o, k->label, "is_active", &k->enabled)
               != 0
            || ngx_gp_imp_time(imp, o, k->label, "expires_at", &k->expires)
               != 0
            || ngx_gp_imp_time(imp, o, k->label, "last_used_at",
                               &k->last_used) != 0
            || ngx_gp_imp_time(imp, o, k->label, "created_at", &k->created)
               != 0
            || ngx_gp_imp_int(imp, o, k->label, "usage_count", 0,
                              &k->requests) != 0)
        {
            return -1;
        }

        if (k->hash == NULL) {
            return ngx_gp_imp_fail(imp, "%s.key_hash: missing", k->label);
        }

        rc = ngx_gp_imp_check_key(imp, k);

        if (rc < 0) {
            return rc;
        }

        imp->nkeys += (rc == 0);
    }

    /* the rest of the top level: settings, or said why not */

    json_object_foreach(doc, key, v) {

        if (strcmp(key, "accounts") == 0 || strcmp(key, "models") == 0
            || strcmp(key, "api_keys") == 0)
        {
            continue;
        }

        for (rk = ngx_gp_ref_keys; rk->key; rk++) {
            if (strcmp(rk->key, key) == 0) {
                break;
            }
        }

        if (rk->key == NULL) {
            rc = ngx_gp_json_note(imp->skipped, "%.60s: unknown to this "
                                  "version; not imported", key) ? -2 : 0;

        } else if (rk->setting == NULL) {
            rc = ngx_gp_json_note(imp->skipped, "%s: %s", key, rk->why)
                 ? -2 : 0;

        } else {
            rc = ngx_gp_imp_setting(imp, key, rk->setting, v);
        }

        if (rc < 0) {
            return rc;
        }
    }

    return 0;
}


/* our own export */

static int
ngx_gp_imp_ours(ngx_gp_import_t *imp, json_t *doc)
{
    int                       b, rc;
    char                      label[64];
    size_t                    i;
    json_t                   *list, *o, *v;
    int64_t                   n;
    const char               *key;
    const unsigned char      *p;
    ngx_gp_import_key_t      *k;
    ngx_gp_import_model_t    *m;
    ngx_gp_import_account_t  *a;

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

    if (ngx_gp_imp_array(imp, doc, "accounts", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        o = ngx_gp_imp_item(imp, list, i, "accounts", label, sizeof(label));
        if (o == NULL) {
            return -1;
        }

        a = &imp->accounts[i];
        a->enabled = -1;
        a->expired = -1;

        if (ngx_gp_imp_str(imp, o, label, "name", NGX_GP_NAME_LEN - 1,
                           &a->name) != 0
            || ngx_gp_imp_str(imp, o, label, "team_id", NGX_GP_TEAM_LEN - 1,
                              &a->team_id) != 0
            || ngx_gp_imp_str(imp, o, label, "csesidx",
                              NGX_GP_CSESIDX_LEN - 1, &a->csesidx) != 0
            || ngx_gp_imp_str(imp, o, label, "secure_c_ses",
                              NGX_GP_COOKIE_LEN - 1, &a->secure_c_ses) != 0
            || ngx_gp_imp_str(imp, o, label, "host_c_oses",
                              NGX_GP_COOKIE_LEN - 1, &a->host_c_oses) != 0
            || ngx_gp_imp_str(imp, o, label, "user_agent",
                              NGX_GP_UA_LEN - 1, &a->user_agent) != 0
            || ngx_gp_imp_str(imp, o, label, "proxy", NGX_GP_PROXY_LEN - 1,
                              &a->proxy) != 0
            || ngx_gp_imp_str(imp, o, label, "tempmail_url", 0,
                              &a->tempmail_url) != 0
            || ngx_gp_imp_str(imp, o, label, "tempmail_name", 0,
                              &a->tempmail_name) != 0
            || ngx_gp_imp_bool(imp, o, label, "enabled", &a->enabled) != 0
            || ngx_gp_imp_bool(imp, o, label, "cookie_expired", &a->expired)
               != 0)
        {
            return -1;
        }

        /* no credentials at all: a placeholder (a remote sync's) */
        b = a->secure_c_ses ? a->secure_c_ses[0] == '\0'
                            : !json_is_true(json_object_get(o,
                                                       "secure_c_ses_set"));

        a->placeholder = b && (a->team_id == NULL || a->team_id[0] == '\0')
                         && (a->csesidx == NULL || a->csesidx[0] == '\0');

        if (a->secure_c_ses && a->secure_c_ses[0] == '\0'
            && !a->placeholder)
        {
            return ngx_gp_imp_fail(imp, "%s.secure_c_ses: empty", label);
        }

        if (ngx_gp_imp_check_account(imp, label, a) != 0) {
            return -1;
        }

        imp->naccounts++;
    }

    if (ngx_gp_imp_array(imp, doc, "models", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        m = &imp->models[imp->nmodels];

        o = ngx_gp_imp_item(imp, list, i, "models", m->label,
                            sizeof(m->label));
        if (o == NULL) {
            return -1;
        }

        m->enabled = 1;
        m->position = -1;
        m->kind = "text";
        n = -1;

        if (ngx_gp_imp_str(imp, o, m->label, "name", NGX_GP_MODEL_LEN - 1,
                           &m->name) != 0
            || ngx_gp_imp_str(imp, o, m->label, "model_id",
                              NGX_GP_MODEL_LEN - 1, &m->model_id) != 0
            || ngx_gp_imp_str(imp, o, m->label, "kind", 0, &m->kind) != 0
            || ngx_gp_imp_str(imp, o, m->label, "description", 0,
                              &m->description) != 0
            || ngx_gp_imp_bool(imp, o, m->label, "enabled", &m->enabled) != 0
            || ngx_gp_imp_int(imp, o, m->label, "position", 0, &m->position)
               != 0
            || ngx_gp_imp_int(imp, o, m->label, "account", 0, &n) != 0
            || ngx_gp_imp_str(imp, o, m->label, "aliases",
                              NGX_GP_ALIASES_LEN - 1, &m->aliases) != 0)
        {
            return -1;
        }

        if (m->kind == NULL) {
            m->kind = "text";
        }

        for (p = (const unsigned char *) m->aliases; p && *p; p++) {
            if (*p <= ' ' || *p > '~'
                || (*p == '*' && p[1] != ',' && p[1] != '\0'))
            {
                return ngx_gp_imp_fail(imp, "%s.aliases: names and prefixes "
                                       "(\"claude-*\") separated by "
                                       "commas, without blanks", m->label);
            }
        }

        m->pin = n;

        if (ngx_gp_imp_check_model(imp, m) != 0) {
            return -1;
        }

        imp->nmodels++;
    }

    v = json_object_get(doc, "settings");

    if (v && !json_is_null(v) && !json_is_object(v)) {
        return ngx_gp_imp_fail(imp, "settings: must be an object");
    }

    if (json_is_object(v)) {
        json_object_foreach(v, key, o) {
            (void) snprintf(label, sizeof(label), "settings.%.48s", key);

            rc = ngx_gp_imp_setting(imp, label, key, o);
            if (rc < 0) {
                return rc;
            }
        }
    }

    if (ngx_gp_imp_array(imp, doc, "api_keys", &list) != 0) {
        return -1;
    }

    for (i = 0; list && i < json_array_size(list); i++) {
        k = &imp->keys[imp->nkeys];

        o = ngx_gp_imp_item(imp, list, i, "api_keys", k->label,
                            sizeof(k->label));
        if (o == NULL) {
            return -1;
        }

        k->enabled = 1;
        b = 1;

        if (ngx_gp_imp_str(imp, o, k->label, "key_hash", 0, &k->hash) != 0
            || ngx_gp_imp_str(imp, o, k->label, "name", NGX_GP_NAME_LEN - 1,
                              &k->name) != 0
            || ngx_gp_imp_str(imp, o, k->label, "prefix", 15, &k->prefix)
               != 0
            || ngx_gp_imp_str(imp, o, k->label, "models",
                              NGX_GP_KEY_MODELS_LEN - 1, &k->models) != 0
            || ngx_gp_imp_str(imp, o, k->label, "image_format", 15,
                              &k->image_format) != 0
            || ngx_gp_imp_bool(imp, o, k->label, "enabled", &b) != 0
            || ngx_gp_imp_time(imp, o, k->label, "expires_at", &k->expires)
               != 0
            || ngx_gp_imp_int(imp, o, k->label, "rpm", 0, &k->rpm) != 0
            || ngx_gp_imp_int(imp, o, k->label, "rpd", 0, &k->rpd) != 0
            || ngx_gp_imp_int(imp, o, k->label, "requests", 0, &k->requests)
               != 0
            || ngx_gp_imp_time(imp, o, k->label, "last_used_at",
                               &k->last_used) != 0
            || ngx_gp_imp_time(imp, o, k->label, "created_at", &k->created)
               != 0)
        {
            return -1;
        }

        k->enabled = b;

        rc = ngx_gp_imp_check_key(imp, k);

        if (rc < 0) {
            return rc;
        }

        if (rc == 1) {
            memset(k, 0, sizeof(ngx_gp_import_key_t));
            continue;
        }

        imp->nkeys++;
    }

    return 0;
}


int
ngx_gp_import_read(json_t *doc, int ref, ngx_gp_import_t *imp)
{
    int  rc;

    imp->ref = ref;

    if (!json_is_object(doc)) {
        return ngx_gp_imp_fail(imp, "the body must be a JSON object (an "
                               "export or business_gemini_session.json)");
    }

    if (imp->accounts == NULL) {
        rc = ngx_gp_imp_alloc(imp, doc);
        if (rc != 0) {
            return rc;
        }
    }

    return ref ? ngx_gp_imp_reference(imp, doc) : ngx_gp_imp_ours(imp, doc);
}


int
ngx_gp_import_parse(const char *p, size_t len, ngx_gp_import_t *imp,
    json_t **out)
{
    json_t        *doc, *v;
    json_error_t   jerr;

    imp->format = "";

    doc = json_loadb(p, len, 0, &jerr);
    *out = doc;

    if (doc == NULL) {
        return ngx_gp_imp_fail(imp, "the body is not JSON (line %d, column "
                               "%d: %s) nor an SQLite database",
                               jerr.line, jerr.column, jerr.text);
    }

    if (!json_is_object(doc)) {
        return ngx_gp_imp_fail(imp, "the body must be a JSON object (an "
                               "export or business_gemini_session.json)");
    }

    v = json_object_get(doc, "format");

    if (v == NULL) {
        if (json_object_get(doc, "accounts") == NULL
            && json_object_get(doc, "models") == NULL)
        {
            return ngx_gp_imp_fail(imp, "accounts: missing (neither an "
                                   "export nor "
                                   "business_gemini_session.json)");
        }

        imp->format = "reference-json";

        return ngx_gp_import_read(doc, 1, imp);
    }

    if (!json_is_string(v)
        || strcmp(json_string_value(v), NGX_GP_EXPORT_FORMAT) != 0)
    {
        return ngx_gp_imp_fail(imp, "format: must be \"%s\"",
                               NGX_GP_EXPORT_FORMAT);
    }

    imp->format = NGX_GP_EXPORT_FORMAT;

    return ngx_gp_import_read(doc, 0, imp);
}


void
ngx_gp_import_free(ngx_gp_import_t *imp)
{
    free(imp->accounts);
    free(imp->models);
    free(imp->settings);
    free(imp->keys);

    imp->accounts = NULL;
    imp->models = NULL;
    imp->settings = NULL;
    imp->keys = NULL;
}
