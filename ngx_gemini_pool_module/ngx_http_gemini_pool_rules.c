
/*
 * Copyright (C) ngx_gemini_pool developers
 */


#include <string.h>
#include <strings.h>

#include "ngx_http_gemini_pool_rules.h"


const ngx_gp_fail_kind_t  ngx_gp_fail_kinds[NGX_GP_FAIL_N] = {
    { "none", 502, "upstream_error", "upstream_failed" },
    { "auth", 502, "upstream_error", "upstream_failed" },
    { "rate_limit", 429, "rate_limit_error", "upstream_rate_limited" },
    { "server", 502, "upstream_error", "upstream_failed" },
    { "network", 502, "upstream_error", "upstream_failed" },
    { "timeout", 504, "upstream_error", "upstream_timeout" },
    { "request", 400, "invalid_request_error", "upstream_rejected" },
    { "empty", 502, "upstream_error", "upstream_failed" },
    { "internal", 500, "server_error", "internal_error" },
    { "not_owned", 502, "upstream_error", "upstream_failed" },
    { "overloaded", 429, "rate_limit_error", "upstream_rate_limited" },
    { "quota", 429, "rate_limit_error", "upstream_rate_limited" }
};


static int ngx_gp_rules_has(const char *text, size_t len, const char *needle);
static int ngx_gp_rules_says(const char *text, const char *const *words);
static time_t ngx_gp_rules_quota_reset(int quota, time_t now,
    const ngx_gp_cooldowns_t *cd);


/*
 * The words by which a 429 says why (case does not matter): in its
 * reason first, then in its message.  "Resource has been exhausted (e.g.
 * check quota)." is Google's text for every RESOURCE_EXHAUSTED and says
 * nothing.
 */

static const char *const  ngx_gp_reason_overload[] = {
    "OVERLOAD", NULL                    /* LLM_OVERLOADED, MODEL_OVERLOADED */
};

static const char *const  ngx_gp_reason_quota[] = {
    "DAILY", "PER_DAY", NULL            /* DAILY_LIMIT_EXCEEDED */
};

static const char *const  ngx_gp_message_quota[] = {
    "per day", "daily", NULL
};

static const char *const  ngx_gp_message_overload[] = {
    "overload", "per minute", "try again later", "temporarily", NULL
};


/* days since 1970-01-01 of a civil date (proleptic Gregorian) */

static long
days_from_civil(long y, int m, int d)
{
    long      era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (long) doe - 719468;
}


static void
civil_from_days(long z, long *y, int *m, int *d)
{
    long      era;
    unsigned  doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (long) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y += *m <= 2;
}


/* the day (1..31) of the n-th Sunday of a month */

static int
nth_sunday(long y, int m, int n)
{
    long  days;
    int   wday;

    days = days_from_civil(y, m, 1);
    wday = (int) ((days % 7 + 11) % 7);      /* 1970-01-01 was a Thursday */

    return 1 + (7 - wday) % 7 + 7 * (n - 1);
}


/*
 * US daylight saving time since 2007: from the second Sunday of March,
 * 02:00 PST (10:00 UTC), to the first Sunday of November, 02:00 PDT
 * (09:00 UTC).
 */

static long
pt_offset(time_t t)
{
    long    y, days;
    int     m, d;
    time_t  start, end;

    days = (long) (t >= 0 ? t / 86400 : (t - 86399) / 86400);
    civil_from_days(days, &y, &m, &d);

    start = (time_t) days_from_civil(y, 3, nth_sunday(y, 3, 2)) * 86400
            + 10 * 3600;
    end = (time_t) days_from_civil(y, 11, nth_sunday(y, 11, 1)) * 86400
          + 9 * 3600;

    return (t >= start && t < end) ? -7 * 3600 : -8 * 3600;
}


time_t
ngx_gp_next_pt_midnight(time_t now)
{
    long    off, days, y;
    int     m, d;
    time_t  local, midnight;

    off = pt_offset(now);
    local = now + off;
    days = (long) (local >= 0 ? local / 86400 : (local - 86399) / 86400);

    civil_from_days(days + 1, &y, &m, &d);

    midnight = (time_t) days_from_civil(y, m, d) * 86400;

    /* the offset in force at that midnight (DST changes at 02:00) */
    return midnight - pt_offset(midnight - off);
}


/* the rest of a used-up quota: text_429 for text, else PT midnight */

static time_t
ngx_gp_rules_quota_reset(int quota, time_t now, const ngx_gp_cooldowns_t *cd)
{
    if (quota == NGX_GP_QUOTA_TEXT && cd->text_429 > 0) {
        return now + cd->text_429;
    }

    return ngx_gp_next_pt_midnight(now);
}


void
ngx_gp_rules_verdict(int kind, int quota, time_t now, time_t last_rate,
    const ngx_gp_cooldowns_t *cd, ngx_gp_verdict_t *v)
{
    memset(v, 0, sizeof(ngx_gp_verdict_t));

    v->quota = NGX_GP_QUOTA_TEXT;
    v->retry = 1;

    switch (kind) {

    case NGX_GP_FAIL_AUTH:
        v->expired = 1;
        v->drop_session = 1;
        v->drop_spares = 1;
        break;

    case NGX_GP_FAIL_QUOTA:
        v->quota = quota;
        v->until = ngx_gp_rules_quota_reset(quota, now, cd);
        break;

    case NGX_GP_FAIL_OVERLOAD:
        v->quota = quota;
        v->until = cd->rate_limit ? now + cd->rate_limit : 0;
        break;

    case NGX_GP_FAIL_RATE:
        v->quota = quota;

        if (cd->rate_window == 0) {
            /* the reference's rule: every 429 is the quota */
            v->until = ngx_gp_rules_quota_reset(quota, now, cd);
            break;
        }

        if (last_rate == 0 || last_rate > now) {
            last_rate = 0;

        } else if (now - last_rate < cd->rate_limit) {
            /* the same moment: other requests in flight met it too */
            v->until = last_rate + cd->rate_limit;
            break;
        }

        v->rate_mark = 1;

        if (last_rate && now - last_rate < cd->rate_window) {
            /* again after the short rest: the quota is used up */
            v->until = ngx_gp_rules_quota_reset(quota, now, cd);

        } else {
            v->until = cd->rate_limit ? now + cd->rate_limit : 0;
        }

        break;

    case NGX_GP_FAIL_SERVER:
        v->until = now + cd->server_error;
        v->drop_session = 1;
        v->omit_model = 1;
        break;

    case NGX_GP_FAIL_NETWORK:
    case NGX_GP_FAIL_TIMEOUT:
        v->until = now + cd->network;
        break;

    case NGX_GP_FAIL_NOT_OWNED:
        v->drop_session = 1;
        v->drop_spares = 1;
        break;

    case NGX_GP_FAIL_EMPTY:
        /* another account, no cooldown */
        break;

    default:  /* NGX_GP_FAIL_REQUEST, NGX_GP_FAIL_INTERNAL */
        v->retry = 0;
        break;
    }
}


int
ngx_gp_rules_classify(long status, CURLcode result, int proxied,
    const char *body, size_t len)
{
    if (result == CURLE_OPERATION_TIMEDOUT && !proxied) {
        return NGX_GP_FAIL_TIMEOUT;
    }

    if (result != CURLE_OK && (status == 0 || status == 200)) {
        return NGX_GP_FAIL_NETWORK;
    }

    if (status == 200) {
        return NGX_GP_FAIL_NONE;
    }

    if (status == 401 || status == 403) {
        /* another user's session: the binding goes, the account is fine */
        if (body && ngx_gp_rules_not_owned(body, len)) {
            return NGX_GP_FAIL_NOT_OWNED;
        }

        return NGX_GP_FAIL_AUTH;
    }

    if (status == 429) {
        return NGX_GP_FAIL_RATE;
    }

    if (status >= 500) {
        return NGX_GP_FAIL_SERVER;
    }

    return NGX_GP_FAIL_REQUEST;
}


int
ngx_gp_rules_rate_kind(const char *reason, const char *message)
{
    if (ngx_gp_rules_says(reason, ngx_gp_reason_overload)) {
        return NGX_GP_FAIL_OVERLOAD;
    }

    if (ngx_gp_rules_says(reason, ngx_gp_reason_quota)) {
        return NGX_GP_FAIL_QUOTA;
    }

    if (ngx_gp_rules_says(message, ngx_gp_message_quota)) {
        return NGX_GP_FAIL_QUOTA;
    }

    if (ngx_gp_rules_says(message, ngx_gp_message_overload)) {
        return NGX_GP_FAIL_OVERLOAD;
    }

    return NGX_GP_FAIL_RATE;
}


int
ngx_gp_rules_stream_error(int code, const char *reason, const char *message)
{
    if (code == 429) {
        return ngx_gp_rules_rate_kind(reason, message);
    }

    if (code == 401 || code == 403) {
        return NGX_GP_FAIL_AUTH;
    }

    return NGX_GP_FAIL_SERVER;
}


int
ngx_gp_rules_not_owned(const char *text, size_t len)
{
    return ngx_gp_rules_has(text, len, "not owned by the provided user");
}


int
ngx_gp_rules_session_gone(int kind, long status, const char *msg)
{
    size_t  len;

    if (kind == NGX_GP_FAIL_NOT_OWNED) {
        return 1;
    }

    if (status != 404 || msg == NULL) {
        return 0;
    }

    /* "Session <name> not found.", not "File with ID ... not found" */

    len = strlen(msg);

    return ngx_gp_rules_has(msg, len, "session")
           && ngx_gp_rules_has(msg, len, "not found")
           && !ngx_gp_rules_has(msg, len, "file with id")
           && !ngx_gp_rules_has(msg, len, "model");
}


/* 1 when text (NULL: none) holds one of words, whatever their case */

static int
ngx_gp_rules_says(const char *text, const char *const *words)
{
    size_t  len;

    if (text == NULL) {
        return 0;
    }

    len = strlen(text);

    for ( /* void */ ; *words; words++) {
        if (ngx_gp_rules_has(text, len, *words)) {
            return 1;
        }
    }

    return 0;
}


static int
ngx_gp_rules_has(const char *text, size_t len, const char *needle)
{
    size_t  n, i;

    n = strlen(needle);

    for (i = 0; i + n <= len; i++) {
        if (strncasecmp(text + i, needle, n) == 0) {
            return 1;
        }
    }

    return 0;
}
