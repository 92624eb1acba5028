
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The settings table and its one check, used by the store's load, the
 * admin API's PUT /api/settings and the configuration import alike; and
 * the typed getters the request paths read the zone's slots with.
 */


#include "ngx_http_gemini_pool_module.h"


static const char *ngx_gp_setting_url(const u_char *value,
    ngx_int_t *number);
static const char *ngx_gp_setting_proxy(const u_char *value,
    ngx_int_t *number);
static const char *ngx_gp_setting_traffic(const u_char *value,
    ngx_int_t *number);
static const char *ngx_gp_setting_logins(const u_char *value,
    ngx_int_t *number);


/* the order of NGX_GP_PICK_* and NGX_GP_FMT_* */

static const char *const  ngx_gp_strategies[] = {
    "round_robin", "least_in_flight", NULL
};

static const char *const  ngx_gp_image_formats[] = {
    "markdown", "url", "array", "b64_json", NULL
};

/* the traffic proxy_for lists: NGX_GP_TRAFFIC_* is 1 << its index */

static const char *const  ngx_gp_traffic[] = {
    "google", "images", "tempmail", "sync", NULL
};


/*
 * The settings known to this version.  The store inserts every row's
 * default into SQLite on start without touching values an operator
 * changed; a stored value its check refuses is logged and the default
 * applies.  Every row names its group (the console's sections); a row
 * without one stops nginx at start (ngx_gp_settings_init).
 *
 * S: a string, bool or secret; C: a choice; F: with a check; I: an
 * integer with its unit and bounds (max -1: none).
 */

#define S(name, k, t, d, g)                                                 \
    [NGX_GP_SET_ ## name] = { .key = k, .type = t, .dflt = d, .max = -1,   \
                              .group = NGX_GP_GROUP_ ## g }
#define C(name, k, d, a, g)                                                 \
    [NGX_GP_SET_ ## name] = { .key = k, .type = NGX_GP_SETTING_CHOICE,     \
                              .dflt = d, .allowed = a, .max = -1,          \
                              .group = NGX_GP_GROUP_ ## g }
#define F(name, k, t, d, c, g)                                              \
    [NGX_GP_SET_ ## name] = { .key = k, .type = t, .dflt = d, .max = -1,   \
                              .check = c, .group = NGX_GP_GROUP_ ## g }
#define I(name, k, d, g, u, lo, hi)                                         \
    [NGX_GP_SET_ ## name] = { .key = k, .type = NGX_GP_SETTING_INT,        \
                              .dflt = d, .min = lo, .max = hi,             \
                              .group = NGX_GP_GROUP_ ## g, .unit = u }

/* indexed by name: a row out of the enum's order still lands in its slot */

const ngx_gp_setting_def_t  ngx_gp_settings_table[NGX_GP_SET_N] = {
    S(DEFAULT_MODEL, "default_model", NGX_GP_SETTING_STRING, "gemini-auto",
      POOL),
    S(SHOW_THOUGHTS, "show_thoughts", NGX_GP_SETTING_BOOL, "false", POOL),
    C(SELECTION_STRATEGY, "selection_strategy",
      "round_robin", ngx_gp_strategies, POOL),
    I(MAX_ATTEMPTS, "max_attempts", "3", POOL, "accounts", 0, -1),
    I(COOLDOWN_TEXT_429, "cooldown_text_429", "0", POOL, "s", 0, -1),
    I(COOLDOWN_SERVER_ERROR, "cooldown_server_error", "30", POOL, "s", 0, -1),
    I(COOLDOWN_NETWORK, "cooldown_network", "120", POOL, "s", 0, -1),
    I(COOLDOWN_RATE_LIMIT, "cooldown_rate_limit", "60", POOL, "s", 0, -1),
    I(RATE_LIMIT_WINDOW, "rate_limit_window", "600", POOL, "s", 0, -1),
    I(SESSION_MAX_AGE, "session_max_age", "21600", POOL, "s", 0, -1),
    F(PROXY, "proxy", NGX_GP_SETTING_SECRET, "", ngx_gp_setting_proxy,
      NETWORK),
    S(PROXY_ENABLED, "proxy_enabled", NGX_GP_SETTING_BOOL, "true", NETWORK),
    [NGX_GP_SET_PROXY_FOR] = { .key = "proxy_for",
        .type = NGX_GP_SETTING_STRING, .dflt = "google,images",
        .allowed = ngx_gp_traffic, .many = 1, .max = -1,
        .check = ngx_gp_setting_traffic, .group = NGX_GP_GROUP_NETWORK },
    I(HISTORY_RETENTION_DAYS, "history_retention_days", "30", HISTORY,
      "days", 0, -1),
    I(HISTORY_MAX_ROWS, "history_max_rows", "100000", HISTORY, "rows", 0, -1),
    F(IMAGE_BASE_URL, "image_base_url",
      NGX_GP_SETTING_STRING, "", ngx_gp_setting_url, MEDIA),
    C(IMAGE_FORMAT, "image_format", "markdown", ngx_gp_image_formats, MEDIA),
    S(HISTORY_ENABLED, "history_enabled", NGX_GP_SETTING_BOOL, "false",
      HISTORY),
    S(AUTO_REFRESH_COOKIES, "auto_refresh_cookies",
      NGX_GP_SETTING_BOOL, "false", RELOGIN),
    F(TEMPMAIL_WORKER_URL, "tempmail_worker_url",
      NGX_GP_SETTING_STRING, "", ngx_gp_setting_url, RELOGIN),
    /* seconds: spec 13.4's polling of the worker API, 1-60 and 10-600 */
    I(TEMPMAIL_POLL_INTERVAL, "tempmail_poll_interval", "5", RELOGIN, "s",
      1, 60),
    I(TEMPMAIL_TIMEOUT, "tempmail_timeout", "120", RELOGIN, "s", 10, 600),
    F(REMOTE_SYNC_URL, "remote_sync_url",
      NGX_GP_SETTING_STRING, "", ngx_gp_setting_url, RELOGIN),
    S(REMOTE_SYNC_API_KEY, "remote_sync_api_key", NGX_GP_SETTING_SECRET, "",
      RELOGIN),
    /* seconds before the first retry of a failed push, doubling */
    I(REMOTE_SYNC_RETRY, "remote_sync_retry", "30", RELOGIN, "s", 1, 3600),
    S(SYNC_ONLY_MODE, "sync_only_mode", NGX_GP_SETTING_BOOL, "false",
      RELOGIN),
    I(HISTORY_MAX_CHARS, "history_max_chars", "65536", HISTORY, "bytes",
      0, -1),

    /* failed admin logins per address and window (seconds): at least 1 */
    I(LOGIN_ATTEMPTS, "login_attempts", "5", SECURITY, "attempts", 1, 1000),
    I(LOGIN_WINDOW, "login_window", "900", SECURITY, "s", 1, 86400),
    I(COOKIE_CHECK_INTERVAL, "cookie_check_interval", "1800", RELOGIN, "s",
      0, -1),
    I(COOKIE_RETRY_INTERVAL, "cookie_retry_interval", "1800", RELOGIN, "s",
      0, -1),
    /* logins at once: each runs a browser (its check words the range) */
    [NGX_GP_SET_COOKIE_REFRESH_CONCURRENCY] = {
        .key = "cookie_refresh_concurrency", .type = NGX_GP_SETTING_INT,
        .dflt = "1", .min = 1, .max = 8, .check = ngx_gp_setting_logins,
        .group = NGX_GP_GROUP_RELOGIN, .unit = "logins" },

    /* ready upstream sessions kept per account (zone.c's spares) */
    I(SPARE_SESSIONS, "spare_sessions", "1", POOL, "sessions",
      0, NGX_GP_SPARES_MAX),
    /* tool calls emulated in the turn (docs/tools.md); off: 400 */
    S(TOOL_CALLS, "tool_calls", NGX_GP_SETTING_BOOL, "true", POOL),
    /*
     * The image host (spec §9.5): generated media are uploaded there when
     * both are set; seconds an upload may take (the reference's 300)
     * before the local link is given instead.
     */
    F(UPLOAD_ENDPOINT, "upload_endpoint",
      NGX_GP_SETTING_STRING, "", ngx_gp_setting_url, MEDIA),
    S(UPLOAD_API_TOKEN, "upload_api_token", NGX_GP_SETTING_SECRET, "",
      MEDIA),
    I(UPLOAD_TIMEOUT, "upload_timeout", "300", MEDIA, "s", 1, 3600),
};

#undef S
#undef C
#undef F
#undef I


/* every row has a key, a default and a group: else nginx does not start */

ngx_int_t
ngx_gp_settings_init(ngx_log_t *log)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_SET_N; i++) {
        if (ngx_gp_settings_table[i].key == NULL
            || ngx_gp_settings_table[i].dflt == NULL
            || ngx_gp_setting_group_name(ngx_gp_settings_table[i].group)
               == NULL)
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "gemini_pool: setting #%ui (\"%s\") has no %s",
                          i, ngx_gp_settings_table[i].key
                             ? ngx_gp_settings_table[i].key : "",
                          ngx_gp_settings_table[i].key == NULL ? "key"
                          : ngx_gp_settings_table[i].dflt == NULL ? "default"
                          : "group");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_setting_index(const char *key)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_SET_N; i++) {
        if (ngx_strcmp(ngx_gp_settings_table[i].key, key) == 0) {
            return i;
        }
    }

    return NGX_ERROR;
}


/* the type as SQLite's settings.type and the JSON value have it */

const char *
ngx_gp_setting_type_name(ngx_uint_t i)
{
    switch (ngx_gp_settings_table[i].type) {

    case NGX_GP_SETTING_INT:
        return "int";

    case NGX_GP_SETTING_BOOL:
        return "bool";

    default:
        return "string";
    }
}


/* a group's name in GET /api/settings and the console; NULL: none */

const char *
ngx_gp_setting_group_name(ngx_uint_t group)
{
    static const char *const  names[NGX_GP_GROUP_N] = {
        NULL, "pool", "media", "history", "network", "relogin", "security"
    };

    return group < NGX_GP_GROUP_N ? names[group] : NULL;
}


/*
 * The one check: NULL and the value's number, or a phrase saying what is
 * wrong (it follows "<key>: " in the caller's message).
 */

const char *
ngx_gp_setting_check(ngx_uint_t i, const u_char *value, ngx_int_t *number)
{
    size_t                       len;
    ngx_int_t                    n;
    const char *const           *a;
    const ngx_gp_setting_def_t  *d;

    static u_char                bounds[64];

    d = &ngx_gp_settings_table[i];
    len = ngx_strlen(value);
    *number = 0;

    if (len >= NGX_GP_SETTING_VALUE_LEN) {
        return "must be shorter than 512 bytes";
    }

    switch (d->type) {

    case NGX_GP_SETTING_INT:
        n = (len && value[0] == '-') ? NGX_ERROR
                                     : ngx_atoi((u_char *) value, len);
        if (n == NGX_ERROR || n < d->min || (d->max >= 0 && n > d->max)) {
            if (n != NGX_ERROR && d->check) {
                *number = n;
                return d->check(value, number);
            }

            if (d->min == 0 && d->max < 0) {
                return "must be a non-negative integer";
            }

            /* a row with bounds names them (one process, one buffer) */
            (void) ngx_snprintf(bounds, sizeof(bounds),
                                "must be an integer from %L to %L%Z",
                                d->min, d->max);
            return (const char *) bounds;
        }

        *number = n;
        return d->check ? d->check(value, number) : NULL;

    case NGX_GP_SETTING_BOOL:
        if (ngx_strcmp(value, "true") == 0 || ngx_strcmp(value, "1") == 0) {
            *number = 1;
            return NULL;
        }

        if (ngx_strcmp(value, "false") == 0 || ngx_strcmp(value, "0") == 0) {
            return NULL;
        }

        return "must be true or false";

    case NGX_GP_SETTING_CHOICE:
        for (a = d->allowed; *a; a++) {
            if (ngx_strcmp(value, *a) == 0) {
                *number = a - d->allowed;
                return NULL;
            }
        }

        return (i == NGX_GP_SET_IMAGE_FORMAT)
               ? "must be markdown, url, array or b64_json"
               : "must be round_robin or least_in_flight";

    default:
        return d->check ? d->check(value, number) : NULL;
    }
}


/*
 * A JSON value as the text to store: an integer of an INT, true or false
 * of a BOOL, a string of the others; NULL when the type is wrong.
 */

const char *
ngx_gp_setting_json_text(ngx_uint_t i, json_t *v, char *buf, size_t size)
{
    switch (ngx_gp_settings_table[i].type) {

    case NGX_GP_SETTING_INT:
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return NULL;
        }

        (void) snprintf(buf, size, "%lld", (long long) json_integer_value(v));
        return buf;

    case NGX_GP_SETTING_BOOL:
        return json_is_boolean(v) ? (json_is_true(v) ? "true" : "false")
                                  : NULL;

    default:
        if (!json_is_string(v)
            || json_string_length(v) >= NGX_GP_SETTING_VALUE_LEN)
        {
            return NULL;
        }

        return json_string_value(v);
    }
}


void
ngx_gp_setting_default(ngx_uint_t i, ngx_gp_setting_t *s)
{
    ngx_cpystrn(s->value, (u_char *) ngx_gp_settings_table[i].dflt,
                NGX_GP_SETTING_VALUE_LEN);
    (void) ngx_gp_setting_check(i, s->value, &s->number);
}


static const char *
ngx_gp_setting_url(const u_char *value, ngx_int_t *number)
{
    if (value[0] && ngx_strncmp(value, "http://", 7) != 0
        && ngx_strncmp(value, "https://", 8) != 0)
    {
        return "must be empty or an http:// or https:// URL";
    }

    return NULL;
}


static const char *
ngx_gp_setting_proxy(const u_char *value, ngx_int_t *number)
{
    if (value[0] && !ngx_gp_proxy_valid(value)) {
        return "not a proxy URL (http://, https://, socks5:// or "
               "socks5h://)";
    }

    return NULL;
}


/* logins at once: each runs a browser */

static const char *
ngx_gp_setting_logins(const u_char *value, ngx_int_t *number)
{
    if (*number < 1 || *number > 8) {
        return "must be from 1 to 8";
    }

    return NULL;
}


/* "google,images" -> NGX_GP_TRAFFIC_GOOGLE|NGX_GP_TRAFFIC_IMAGES */

static const char *
ngx_gp_setting_traffic(const u_char *value, ngx_int_t *number)
{
    size_t        len;
    ngx_uint_t    i, found;
    const u_char  *p, *q, *last;

    p = value;
    last = p + ngx_strlen(p);

    while (p < last) {
        q = ngx_strlchr((u_char *) p, (u_char *) last, ',');
        if (q == NULL) {
            q = last;
        }

        while (p < q && *p == ' ') {
            p++;
        }

        len = q - p;

        while (len && p[len - 1] == ' ') {
            len--;
        }

        found = (len == 0);

        for (i = 0; !found && ngx_gp_traffic[i]; i++) {
            if (len == ngx_strlen(ngx_gp_traffic[i])
                && ngx_strncmp(p, ngx_gp_traffic[i], len) == 0)
            {
                *number |= (ngx_int_t) 1 << i;
                found = 1;
            }
        }

        if (!found) {
            return "must list google, images, tempmail or sync, "
                   "comma-separated";
        }

        p = q + 1;
    }

    return NULL;
}


/* 1 for the proxy URLs the module accepts */

ngx_uint_t
ngx_gp_proxy_valid(const u_char *url)
{
    return ngx_gp_body_proxy_valid((const char *) url);
}


/*
 * A per-process copy of the zone's slots.  Every request reads several
 * settings, and the slots change only when the store loads them (admin
 * changes, imports, remote sync), which bumps sh->settings_gen under the
 * zone lock; a reader takes the lock and copies the slots again only when
 * the counter moved (or the zone is another one), so a request reads its
 * settings without the lock.  A change made in one worker is seen by the
 * others at their next lookup.  Before the first load the defaults apply.
 */

static ngx_gp_shctx_t    *ngx_gp_settings_sh;
static ngx_atomic_uint_t  ngx_gp_settings_gen;
static ngx_gp_setting_t   ngx_gp_settings[NGX_GP_SET_N];


static ngx_gp_setting_t *
ngx_gp_setting_slot(ngx_gp_zone_t *z, ngx_uint_t i)
{
    ngx_uint_t       k;
    ngx_gp_shctx_t  *sh;

    sh = z->sh;

    if (sh != ngx_gp_settings_sh || sh->settings_gen != ngx_gp_settings_gen)
    {
        ngx_shmtx_lock(&z->shpool->mutex);

        if (sh->settings_gen == 0) {
            for (k = 0; k < NGX_GP_SET_N; k++) {
                ngx_gp_setting_default(k, &ngx_gp_settings[k]);
            }

        } else {
            ngx_memcpy(ngx_gp_settings, sh->settings,
                       sizeof(ngx_gp_settings));
        }

        ngx_gp_settings_gen = sh->settings_gen;
        ngx_gp_settings_sh = sh;

        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    return &ngx_gp_settings[i];
}


/* ints, bools (1/0), choices (the index in allowed), proxy_for (bits) */

ngx_int_t
ngx_gp_setting_int(ngx_gp_zone_t *z, ngx_uint_t i)
{
    return ngx_gp_setting_slot(z, i)->number;
}


void
ngx_gp_setting_str(ngx_gp_zone_t *z, ngx_uint_t i, u_char *buf, size_t size)
{
    ngx_cpystrn(buf, ngx_gp_setting_slot(z, i)->value, size);
}
