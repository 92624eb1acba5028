
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The pool's rules as pure functions: what an upstream failure does to the
 * account and to the request (cooldown, expiry, retry), and the next
 * midnight in America/Los_Angeles, when Gemini Enterprise quotas reset.
 *
 * Pure C: no nginx.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_RULES_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_RULES_H_INCLUDED_


#include <stddef.h>
#include <time.h>

#include <curl/curl.h>


/* why an attempt failed */
#define NGX_GP_FAIL_NONE        0
#define NGX_GP_FAIL_AUTH        1     /* 401/403 */
#define NGX_GP_FAIL_RATE        2     /* 429 that does not say why */
#define NGX_GP_FAIL_SERVER      3     /* 5xx */
#define NGX_GP_FAIL_NETWORK     4     /* connect, reset, truncated */
#define NGX_GP_FAIL_TIMEOUT     5
#define NGX_GP_FAIL_REQUEST     6     /* 400, 404: the request itself */
#define NGX_GP_FAIL_EMPTY       7     /* thoughts only, no answer */
#define NGX_GP_FAIL_INTERNAL    8
#define NGX_GP_FAIL_NOT_OWNED   9     /* session of another user */
#define NGX_GP_FAIL_OVERLOAD    10    /* 429: overloaded, try again soon */
#define NGX_GP_FAIL_QUOTA       11    /* 429: a daily quota is used up */
#define NGX_GP_FAIL_N           12    /* kinds, NGX_GP_FAIL_NONE included */


/*
 * A kind of failure: its name (a metrics label, in logs) and the error a
 * request that ends with it gets: HTTP status, OpenAI error type, code.
 */
typedef struct {
    const char  *name;
    int          status;
    const char  *type;
    const char  *code;
} ngx_gp_fail_kind_t;

extern const ngx_gp_fail_kind_t  ngx_gp_fail_kinds[NGX_GP_FAIL_N];

/* quota types: cooldowns are kept per type */
#define NGX_GP_QUOTA_TEXT       0
#define NGX_GP_QUOTA_IMAGES     1
#define NGX_GP_QUOTA_VIDEOS     2
#define NGX_GP_QUOTA_N          3


/*
 * Durations, from settings.  text_429: a text quota's rest, 0: until PT
 * midnight.  rate_limit: the short rest of an overload or of a first 429
 * that does not say why; rate_window: a second such 429 within it (after
 * the short rest) means the quota, 0: every such 429 means the quota.
 */
typedef struct {
    time_t      text_429;
    time_t      server_error;
    time_t      network;
    time_t      rate_limit;
    time_t      rate_window;
} ngx_gp_cooldowns_t;


typedef struct {
    int         quota;          /* the quota type that cools */
    time_t      until;          /* 0: no cooldown */
    unsigned    expired:1;      /* set the account aside (cookies) */
    unsigned    drop_session:1; /* forget the conversation's binding */
    unsigned    drop_spares:1;  /* forget the account's spare sessions */
    unsigned    retry:1;        /* another account may succeed */
    unsigned    omit_model:1;   /* retry without the model id */
    unsigned    rate_mark:1;    /* now is the account's last 429 that did
                                   not say why, for its quota type */
} ngx_gp_verdict_t;


/*
 * The reaction to a failure of kind on a request of quota type quota;
 * last_rate is the account's last 429 of that quota type that did not
 * say why (the time the verdict marked with rate_mark; 0: none).
 */
void ngx_gp_rules_verdict(int kind, int quota, time_t now, time_t last_rate,
    const ngx_gp_cooldowns_t *cd, ngx_gp_verdict_t *v);

/*
 * What a 429 says of itself, by the Google error's reason (details[].
 * reason) and message, either NULL: NGX_GP_FAIL_OVERLOAD (busy now),
 * NGX_GP_FAIL_QUOTA (used up for the day) or NGX_GP_FAIL_RATE (it does
 * not say).
 */
int ngx_gp_rules_rate_kind(const char *reason, const char *message);

/*
 * The kind of an error element inside a streamed answer (spec §7.4):
 * {"error":{"code","message","status","details"}}.
 */
int ngx_gp_rules_stream_error(int code, const char *reason,
    const char *message);

/*
 * The kind of failure of a finished upstream transfer: its HTTP status (0:
 * none), curl's result, whether it went through a proxy (a proxy that
 * times out is a network failure), and the start of its body;
 * NGX_GP_FAIL_NONE for a 200 that arrived whole.
 */
int ngx_gp_rules_classify(long status, CURLcode result, int proxied,
    const char *body, size_t len);

/* the first midnight in America/Los_Angeles strictly after now */
time_t ngx_gp_next_pt_midnight(time_t now);

/* 1 when text (len bytes) says a session belongs to another user */
int ngx_gp_rules_not_owned(const char *text, size_t len);

/*
 * 1 when a failure (kind, HTTP status, message) says the session the call
 * named is not the caller's or no longer exists: a spare session to drop,
 * not a failure of the account or the request.
 */
int ngx_gp_rules_session_gone(int kind, long status, const char *msg);


#endif /* _NGX_HTTP_GEMINI_POOL_RULES_H_INCLUDED_ */
