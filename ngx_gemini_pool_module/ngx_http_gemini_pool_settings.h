
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The settings: one typed table (key, type, default, allowed values,
 * check, secret, group, unit), their slots in the zone indexed by name,
 * and the typed getters.  A new setting is one row in settings.c (with
 * its group), one NGX_GP_SET_* name and its label and help in the
 * console's i18n.js (settings.l.<key>, settings.d.<key>).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_SETTINGS_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_SETTINGS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_gemini_pool_bodies.h"


#define NGX_GP_SETTING_KEY_LEN       48
/* NGX_GP_SETTING_VALUE_LEN: bodies.h */

/* types: how a value is written in JSON and what its number is */
#define NGX_GP_SETTING_STRING        0
#define NGX_GP_SETTING_INT           1   /* a non-negative integer */
#define NGX_GP_SETTING_BOOL          2   /* true/false: 1/0 */
#define NGX_GP_SETTING_CHOICE        3   /* one of allowed: its index */
#define NGX_GP_SETTING_SECRET        4   /* a string sealed at rest */

/* groups: where the console shows a setting; 0 is none, refused at start */
#define NGX_GP_GROUP_NONE            0
#define NGX_GP_GROUP_POOL            1   /* pool and cooldowns */
#define NGX_GP_GROUP_MEDIA           2
#define NGX_GP_GROUP_HISTORY         3
#define NGX_GP_GROUP_NETWORK         4   /* network and proxy */
#define NGX_GP_GROUP_RELOGIN         5   /* re-login and sync */
#define NGX_GP_GROUP_SECURITY        6
#define NGX_GP_GROUP_N               7

/* the settings, in the table's order */
typedef enum {
    NGX_GP_SET_DEFAULT_MODEL = 0,
    NGX_GP_SET_SHOW_THOUGHTS,
    NGX_GP_SET_SELECTION_STRATEGY,
    NGX_GP_SET_MAX_ATTEMPTS,
    NGX_GP_SET_COOLDOWN_TEXT_429,
    NGX_GP_SET_COOLDOWN_SERVER_ERROR,
    NGX_GP_SET_COOLDOWN_NETWORK,
    NGX_GP_SET_COOLDOWN_RATE_LIMIT,
    NGX_GP_SET_RATE_LIMIT_WINDOW,
    NGX_GP_SET_SESSION_MAX_AGE,
    NGX_GP_SET_PROXY,
    NGX_GP_SET_PROXY_ENABLED,
    NGX_GP_SET_PROXY_FOR,
    NGX_GP_SET_HISTORY_RETENTION_DAYS,
    NGX_GP_SET_HISTORY_MAX_ROWS,
    NGX_GP_SET_IMAGE_BASE_URL,
    NGX_GP_SET_IMAGE_FORMAT,
    NGX_GP_SET_HISTORY_ENABLED,
    NGX_GP_SET_AUTO_REFRESH_COOKIES,
    NGX_GP_SET_TEMPMAIL_WORKER_URL,
    NGX_GP_SET_TEMPMAIL_POLL_INTERVAL,
    NGX_GP_SET_TEMPMAIL_TIMEOUT,
    NGX_GP_SET_REMOTE_SYNC_URL,
    NGX_GP_SET_REMOTE_SYNC_API_KEY,
    NGX_GP_SET_REMOTE_SYNC_RETRY,
    NGX_GP_SET_SYNC_ONLY_MODE,
    NGX_GP_SET_HISTORY_MAX_CHARS,
    NGX_GP_SET_LOGIN_ATTEMPTS,
    NGX_GP_SET_LOGIN_WINDOW,
    NGX_GP_SET_COOKIE_CHECK_INTERVAL,
    NGX_GP_SET_COOKIE_RETRY_INTERVAL,
    NGX_GP_SET_COOKIE_REFRESH_CONCURRENCY,
    NGX_GP_SET_SPARE_SESSIONS,
    NGX_GP_SET_TOOL_CALLS,
    NGX_GP_SET_UPLOAD_ENDPOINT,
    NGX_GP_SET_UPLOAD_API_TOKEN,
    NGX_GP_SET_UPLOAD_TIMEOUT,
    NGX_GP_SET_N
} ngx_gp_setting_e;

/*
 * A check refuses a value with a phrase that follows "<key>: " ("must be
 * ...", "not a ..."), or sets *number and returns NULL.
 */
typedef const char *(*ngx_gp_setting_check_pt)(const u_char *value,
    ngx_int_t *number);

typedef struct {
    const char                *key;
    ngx_uint_t                 type;
    const char                *dflt;
    const char *const         *allowed;   /* CHOICE: NULL-terminated */
    int64_t                    min;       /* INT */
    int64_t                    max;       /* INT; -1: none */
    ngx_gp_setting_check_pt    check;     /* or NULL; of an INT: after
                                             its range */
    ngx_uint_t                 group;     /* NGX_GP_GROUP_*, never NONE */
    const char                *unit;      /* INT: "s", "days", ... */
    ngx_uint_t                 many;      /* STRING with allowed: a
                                             comma-separated set of them */
} ngx_gp_setting_def_t;

/* a slot in the zone: the value as stored and its number */
typedef struct {
    ngx_int_t                  number;
    u_char                     value[NGX_GP_SETTING_VALUE_LEN];
} ngx_gp_setting_t;


extern const ngx_gp_setting_def_t  ngx_gp_settings_table[NGX_GP_SET_N];

struct ngx_gp_zone_s;

ngx_int_t ngx_gp_settings_init(ngx_log_t *log);
ngx_int_t ngx_gp_setting_index(const char *key);
#define ngx_gp_setting_def(i)        (&ngx_gp_settings_table[i])
#define ngx_gp_setting_secret(i)                                             \
    (ngx_gp_settings_table[i].type == NGX_GP_SETTING_SECRET)
const char *ngx_gp_setting_check(ngx_uint_t i, const u_char *value,
    ngx_int_t *number);
const char *ngx_gp_setting_type_name(ngx_uint_t i);
const char *ngx_gp_setting_group_name(ngx_uint_t group);
const char *ngx_gp_setting_json_text(ngx_uint_t i, json_t *v, char *buf,
    size_t size);
void ngx_gp_setting_default(ngx_uint_t i, ngx_gp_setting_t *s);
ngx_uint_t ngx_gp_proxy_valid(const u_char *url);

ngx_int_t ngx_gp_setting_int(struct ngx_gp_zone_s *z, ngx_uint_t i);
void ngx_gp_setting_str(struct ngx_gp_zone_s *z, ngx_uint_t i, u_char *buf,
    size_t size);


#endif /* _NGX_HTTP_GEMINI_POOL_SETTINGS_H_INCLUDED_ */
