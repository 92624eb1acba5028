
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The common header of the nginx side of the module: the pure parts'
 * headers first, then one section per nginx-side file in the order of the
 * layers, bottom up (docs/architecture.md): the zone, the configuration,
 * curl and the fetch guard, the response layer, the upstream's calls, the
 * upstream client, input and generated media, the surfaces, chat,
 * migration, the admin API, the helper, dispatch.  A file with a header
 * of its own is named here by its #include.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_MODULE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_md5.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "ngx_http_gemini_pool_text.h"
#include "ngx_http_gemini_pool_jsonstream.h"
#include "ngx_http_gemini_pool_wire.h"
#include "ngx_http_gemini_pool_tools.h"
#include "ngx_http_gemini_pool_openai.h"
#include "ngx_http_gemini_pool_rules.h"
#include "ngx_http_gemini_pool_crypto.h"
#include "ngx_http_gemini_pool_artefact.h"
#include "ngx_http_gemini_pool_input.h"
#include "ngx_http_gemini_pool_images.h"
#include "ngx_http_gemini_pool_cfbed.h"
#include "ngx_http_gemini_pool_confrec.h"
#include "ngx_http_gemini_pool_responses.h"
#include "ngx_http_gemini_pool_anthropic.h"
#include "ngx_http_gemini_pool_genai.h"
#include "ngx_http_gemini_pool_mail.h"
#include "ngx_http_gemini_pool_bodies.h"
#include "ngx_http_gemini_pool_stats.h"
#include "ngx_http_gemini_pool_settings.h"
#include "ngx_http_gemini_pool_store.h"
#include "ngx_http_gemini_pool_filemap.h"
#include "ngx_http_gemini_pool_recipe.h"
#include "ngx_http_gemini_pool_relogin.h"


#define NGX_GP_VERSION               "0.1.0"
#define NGX_GP_SCHEMA_VERSION        1

/* sizes of the fixed fields of an account in the zone (and bodies.h) */
#define NGX_GP_JWT_LEN               1024


/* a build may set it (-DNGX_GP_MAX_MODELS=N): the zone's layout changes */
#ifndef NGX_GP_MAX_MODELS
#define NGX_GP_MAX_MODELS            64
#endif

/* a getoxsrf in flight is trusted for this long before another starts */
#define NGX_GP_JWT_REFRESH_LOCK      30

/* conversation bindings */
#define NGX_GP_SESSION_LEN           160
#define NGX_GP_KEY_LEN               16       /* MD5 */

/*
 * spare sessions: at most this many per account (the setting
 * spare_sessions, 0-4), each a session name of at most
 * NGX_GP_SPARE_LEN - 1 bytes (Google's are 67 and a decimal id of up to
 * 20 digits); a longer one is not kept
 */
#define NGX_GP_SPARES_MAX            4
#define NGX_GP_SPARE_LEN             96
#define NGX_GP_SPARES_RING           64

/* location handlers */
#define NGX_GP_HANDLER_NONE          0
#define NGX_GP_HANDLER_API           1
#define NGX_GP_HANDLER_HEALTH        2
#define NGX_GP_HANDLER_ADMIN         3
#define NGX_GP_HANDLER_METRICS       4
#define NGX_GP_HANDLER_MEDIA         5

/* API keys and admin sessions */
#define NGX_GP_MAX_KEYS              256
#define NGX_GP_LOGIN_SLOTS           128


/* ngx_http_gemini_pool_sync.c: remote sync, and its state in the zone */

#include "ngx_http_gemini_pool_sync.h"


/* ngx_http_gemini_pool_cluster.c: Redis, and its state in the zone */

#include "ngx_http_gemini_pool_cluster.h"
#include "ngx_http_gemini_pool_cluster_config.h"


/* ngx_http_gemini_pool_zone.c: the shared zone's layout */

/* a ready upstream session no conversation has used yet */
typedef struct {
    time_t                   created;     /* 0: none */
    u_char                   session[NGX_GP_SPARE_LEN];
} ngx_gp_spare_t;

typedef struct {
    int64_t                  id;          /* SQLite rowid; 0: free slot */
    u_char                   name[NGX_GP_NAME_LEN];
    u_char                   team_id[NGX_GP_TEAM_LEN];
    u_char                   csesidx[NGX_GP_CSESIDX_LEN];

    /*
     * the long strings, NUL-terminated, at most their NGX_GP_*_LEN - 1
     * bytes, in one slab allocation of their own length that starts at
     * secure_c_ses (ngx_gp_zone_strings_locked()): an account costs the
     * zone this struct (about 1.6 KB) and its strings, not 4.8 KB of
     * fixed buffers
     */
    u_char                  *secure_c_ses;
    u_char                  *host_c_oses;
    u_char                  *user_agent;
    u_char                  *proxy;       /* "": global */
    unsigned                 enabled:1;
    unsigned                 cookie_expired:1;

    /* runtime, kept across reloads */
    u_char                   jwt[NGX_GP_JWT_LEN];
    time_t                   jwt_iat;
    time_t                   jwt_refresh_started;
    ngx_pid_t                jwt_refresh_pid;
    time_t                   cooldown_until[NGX_GP_QUOTA_N];
    time_t                   rate_limited[NGX_GP_QUOTA_N];  /* last 429
                                          that did not say why */
    ngx_uint_t               in_flight;
    uint64_t                 requests;
    uint64_t                 failures;
    uint64_t                 xsrf_calls;
    time_t                   last_used;
    u_char                   last_error[128];
    time_t                   last_error_at;  /* 0: none */
    time_t                   tested_at;      /* a live test; 0: none */
    ngx_uint_t               tested_status;  /* its HTTP status */
    ngx_uint_t               tested_ok;
    ngx_uint_t               state_gen;   /* cooldowns or expiry changed */
    ngx_uint_t               saved_gen;   /* persisted by the helper */
    ngx_gp_relogin_state_t   relogin;     /* relogin.h */
    ngx_gp_sync_state_t      sync;        /* remote-sync pushes owed */

    /* spare sessions, oldest first; the helper makes them (spares.c) */
    ngx_uint_t               nspares;
    time_t                   spare_retry; /* a creation failed: not before */
    ngx_gp_spare_t           spares[NGX_GP_SPARES_MAX];
} ngx_gp_account_t;

/*
 * The requests in flight one process holds on each account, by account
 * index: the zone keeps one per nginx process slot, so that the share of
 * a process that is gone (kill -9, a crash, an old worker) is given back
 * (docs/architecture.md, "Who owns a request in flight").
 */
typedef struct {
    ngx_pid_t                pid;         /* 0: free */
    ngx_uint_t               nheld;       /* entries of held */
    uint32_t                *held;        /* in the slab; NULL: none yet */
} ngx_gp_holder_t;

#define NGX_GP_HOLDERS               NGX_MAX_PROCESSES

/* a conversation bound to an account and an upstream session */
typedef struct {
    ngx_rbtree_node_t        node;        /* key: first bytes of key */
    ngx_queue_t              queue;       /* LRU */
    u_char                   key[NGX_GP_KEY_LEN];
    int64_t                  account_id;
    time_t                   created;
    time_t                   used;
    u_char                   session[NGX_GP_SESSION_LEN];
} ngx_gp_binding_t;

#define NGX_GP_MODEL_TEXT            0
#define NGX_GP_MODEL_IMAGE           1
#define NGX_GP_MODEL_VIDEO           2

typedef struct {
    u_char                   name[NGX_GP_MODEL_LEN];     /* OpenAI id */
    u_char                   model_id[NGX_GP_MODEL_LEN]; /* upstream; "" */
    ngx_uint_t               kind;                       /* NGX_GP_MODEL_ */
    ngx_int_t                account;    /* pinned account id; -1: none */
} ngx_gp_model_t;

typedef struct {
    int64_t                  id;
    u_char                   hash[32];    /* SHA-256 of the key */
    u_char                   name[NGX_GP_NAME_LEN];
    unsigned                 enabled:1;
    time_t                   expires;     /* 0: never */
    u_char                   models[NGX_GP_KEY_MODELS_LEN]; /* "": all */
    ngx_uint_t               rpm;         /* 0: no limit */
    ngx_uint_t               rpd;
    u_char                   image_format[16];

    /* runtime, kept across reloads */
    time_t                   minute;
    ngx_uint_t               minute_count;
    time_t                   day;
    ngx_uint_t               day_count;
    uint64_t                 requests;
    time_t                   last_used;
} ngx_gp_key_t;

/* one finished request, queued for the helper to write to SQLite */
typedef struct {
    time_t                   time;
    int64_t                  key_id;
    int64_t                  account_id;
    u_char                   model[NGX_GP_MODEL_LEN];
    u_char                   account[NGX_GP_NAME_LEN];
    uint16_t                 status;
    uint8_t                  stream;
    uint8_t                  attempts;
    uint32_t                 latency_ms;
    int32_t                  ttfb_ms;     /* -1: none */
    uint32_t                 prompt_tokens;
    uint32_t                 completion_tokens;
    u_char                   error[128];
    u_char                   session[32]; /* the upstream session's id */

    /* chat history (setting history_enabled): the prompt, then the
       answer; in process memory on the way in, in the zone's slab while
       queued (ngx_gp_zone_events_release frees it) */
    u_char                  *text;
    uint32_t                 prompt_len;
    uint32_t                 answer_len;
} ngx_gp_event_t;

#define NGX_GP_EVENTS                1024
#define NGX_GP_BUCKETS               10   /* latency histogram buckets */

typedef struct {
    uint64_t                 requests[6];       /* by status class 1xx.. */
    uint64_t                 failures[NGX_GP_FAIL_N];  /* by kind */
    uint64_t                 latency[NGX_GP_BUCKETS + 1];
    double                   latency_sum;
    uint64_t                 ttfb[NGX_GP_BUCKETS + 1];
    double                   ttfb_sum;
    uint64_t                 ttfb_count;
    uint64_t                 prompt_tokens;
    uint64_t                 completion_tokens;
    uint64_t                 events_dropped;
    uint64_t                 history_dropped;  /* text not kept */
    uint64_t                 spares_used;      /* spare sessions */
    uint64_t                 spares_created;
    uint64_t                 spares_dropped;
} ngx_gp_metrics_t;

/* a long admin operation (a bulk test): its progress, for the events */
typedef struct {
    ngx_uint_t               gen;         /* bumped at each step */
    ngx_uint_t               id;          /* one per operation */
    u_char                   kind[16];    /* "test" */
    ngx_uint_t               total;
    ngx_uint_t               done;
    ngx_uint_t               ok;
    ngx_uint_t               failed;
    time_t                   started;
    time_t                   finished;    /* 0: running */
} ngx_gp_operation_t;

typedef struct {
    uint32_t                 addr;        /* hash of the client address */
    time_t                   window;
    ngx_uint_t               failures;
} ngx_gp_login_t;

typedef struct {
    uint64_t                 layout;      /* NGX_GP_ZONE_LAYOUT */
    ngx_uint_t               naccounts;   /* slots in use at the front */
    ngx_uint_t               capacity;
    ngx_gp_account_t        *accounts;
    ngx_uint_t               rr_cursor;

    ngx_gp_setting_t         settings[NGX_GP_SET_N];  /* by NGX_GP_SET_* */

    ngx_uint_t               nmodels;
    ngx_gp_model_t           models[NGX_GP_MAX_MODELS];
    /* each model's aliases, read only when a name is not a model's */
    u_char                   aliases[NGX_GP_MAX_MODELS][NGX_GP_ALIASES_LEN];

    ngx_uint_t               nkeys;
    ngx_gp_key_t             keys[NGX_GP_MAX_KEYS];
    ngx_gp_login_t           logins[NGX_GP_LOGIN_SLOTS];

    ngx_gp_metrics_t         metrics;
    ngx_gp_event_t          *events;      /* ring of NGX_GP_EVENTS */
    ngx_uint_t               event_head;  /* next to write */
    ngx_uint_t               event_tail;  /* next to drain */
    size_t                   event_text;  /* history bytes queued */

    ngx_rbtree_t             bindings;
    ngx_rbtree_node_t        sentinel;
    ngx_queue_t              lru;
    ngx_uint_t               nbindings;
    uint64_t                 evictions;

    ngx_gp_filemap_slot_t   *files;       /* NGX_GP_FILEMAP_SLOTS */
    ngx_uint_t               files_next;

    time_t                   loaded;      /* last load from SQLite */
    ngx_uint_t               loads;
    ngx_uint_t               db_ok;

    ngx_pid_t                helper_pid;
    time_t                   helper_started;
    time_t                   helper_tick;
    uint64_t                 helper_ticks;

    uint64_t                 requests;
    uint64_t                 errors;

    uint64_t                 media_written;  /* bytes put in the cache */

    ngx_atomic_t             settings_gen;   /* bumped by each load */

    /* the accounts (indexes) whose spare was used or dropped, newest at
       spares_gen - 1: the helper looks at them within 0.1 s */
    ngx_atomic_t             spares_gen;
    uint32_t                 spares_used[NGX_GP_SPARES_RING];

    /* by ngx_process_slot: who holds the accounts' in_flight */
    ngx_gp_holder_t          holders[NGX_GP_HOLDERS];
    uint64_t                 given_back;     /* requests of dead processes */
    ngx_gp_relogin_pool_t    relogin;        /* relogin.h */

    /* bumped on any account's state change (cooldown, expiry, error,
       test, a load): the admin event streams look at the rows again */
    ngx_atomic_t             accounts_gen;
    ngx_gp_operation_t       operation;      /* the last bulk test */
    ngx_gp_cluster_state_t   cluster;        /* cluster.h */
} ngx_gp_shctx_t;

/* a reload reuses a zone only when this build laid it out */
#define NGX_GP_ZONE_LAYOUT                                                   \
    ((uint64_t) 0x4750000000000000 + sizeof(ngx_gp_shctx_t)                  \
     + ((uint64_t) sizeof(ngx_gp_account_t) << 24)                           \
     + ((uint64_t) sizeof(ngx_gp_event_t) << 40))

typedef struct ngx_http_gemini_pool_main_conf_s
    ngx_http_gemini_pool_main_conf_t;

typedef struct ngx_gp_zone_s {
    ngx_gp_shctx_t                    *sh;
    ngx_slab_pool_t                   *shpool;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    ngx_cycle_t                       *cycle;   /* the one being built */
} ngx_gp_zone_t;


/* ngx_http_gemini_pool_zone.c: what a caller gets of an account, and the
   zone's functions */

typedef struct {
    int64_t                  id;
    ngx_uint_t               index;
    u_char                   name[NGX_GP_NAME_LEN];
    u_char                   team_id[NGX_GP_TEAM_LEN];
    u_char                   csesidx[NGX_GP_CSESIDX_LEN];
    u_char                   secure_c_ses[NGX_GP_COOKIE_LEN];
    u_char                   host_c_oses[NGX_GP_COOKIE_LEN];
    u_char                   user_agent[NGX_GP_UA_LEN];
    u_char                   proxy[NGX_GP_PROXY_LEN];
    u_char                   jwt[NGX_GP_JWT_LEN];
} ngx_gp_account_copy_t;

ngx_int_t ngx_gp_zone_init(ngx_shm_zone_t *shm_zone, void *data);
void *ngx_gp_zone_alloc_locked(ngx_gp_zone_t *z, size_t size);
size_t ngx_gp_zone_slab_size(size_t size);
size_t ngx_gp_zone_minimum(void);
ngx_uint_t ngx_gp_zone_capacity(ngx_uint_t n);
void ngx_gp_account_copy(ngx_gp_account_t *acc, ngx_uint_t i,
    ngx_gp_account_copy_t *a);
ngx_gp_zone_t *ngx_gp_zone(void);
#define NGX_GP_PICK_ROUND_ROBIN    0
#define NGX_GP_PICK_LEAST_IN_FLIGHT 1
ngx_int_t ngx_gp_zone_pick(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, ngx_int_t only, time_t *retry_at, ngx_gp_spare_t *spare);

/* a spare's life when session_max_age is 0 (no limit): 3 h */
#define NGX_GP_SPARE_MAX_AGE  10800
time_t ngx_gp_zone_spare_max_age(ngx_gp_zone_t *z);
void ngx_gp_zone_spare_take_locked(ngx_gp_zone_t *z, ngx_gp_account_t *acc,
    ngx_gp_spare_t *spare, time_t now, time_t max_age);
void ngx_gp_zone_spares_want_locked(ngx_gp_zone_t *z, ngx_gp_account_t *acc);
ngx_uint_t ngx_gp_zone_spares_expire_locked(ngx_gp_zone_t *z,
    ngx_gp_account_t *acc, time_t now, time_t max_age, ngx_uint_t keep);
ngx_int_t ngx_gp_zone_spare_put(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    const char *session, time_t created, ngx_uint_t want);
void ngx_gp_zone_spares_drop(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t drop, time_t retry);
ngx_int_t ngx_gp_zone_take(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    int64_t id, ngx_uint_t quota);
void ngx_gp_zone_release(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t ok, const char *error);
void ngx_gp_zone_holder_start(ngx_gp_zone_t *z);
void ngx_gp_zone_holders_check(ngx_gp_zone_t *z);
void ngx_gp_zone_holders_move_locked(ngx_gp_zone_t *z, ngx_int_t *from,
    ngx_uint_t n);

#define NGX_GP_JWT_FRESH      0   /* a->jwt holds a usable token */
#define NGX_GP_JWT_FETCH      1   /* the caller must run getoxsrf */
#define NGX_GP_JWT_WAIT       2   /* another process is fetching it */
ngx_int_t ngx_gp_zone_jwt(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a);
void ngx_gp_zone_jwt_store(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    const char *jwt, time_t iat);
void ngx_gp_zone_cooldown(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, time_t until, ngx_uint_t expired, const char *error);
int64_t ngx_gp_zone_account_id(ngx_gp_zone_t *z, const u_char *name,
    size_t len);
ngx_int_t ngx_gp_zone_cooldown_remote(ngx_gp_zone_t *z, const u_char *name,
    size_t len, ngx_uint_t quota, time_t until, ngx_uint_t expired);
ngx_int_t ngx_gp_zone_binding_get(ngx_gp_zone_t *z, u_char *key,
    int64_t *account_id, time_t *created, u_char *session);
void ngx_gp_zone_binding_set(ngx_gp_zone_t *z, u_char *key,
    int64_t account_id, time_t created, const char *session);
void ngx_gp_zone_binding_delete(ngx_gp_zone_t *z, u_char *key);
ngx_int_t ngx_gp_zone_model(ngx_gp_zone_t *z, ngx_str_t *name,
    ngx_gp_model_t *m);
void ngx_gp_zone_event(ngx_gp_zone_t *z, ngx_gp_event_t *e);
void ngx_gp_zone_verdict(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t kind, ngx_uint_t quota, ngx_gp_verdict_t *v);
double ngx_gp_bucket(ngx_uint_t i);
void ngx_gp_zone_events_release(ngx_gp_zone_t *z, ngx_gp_event_t *ev,
    ngx_uint_t n);
ngx_uint_t ngx_gp_zone_events_take(ngx_gp_zone_t *z, ngx_gp_event_t *out,
    ngx_uint_t max);
void ngx_gp_zone_events_requeue(ngx_gp_zone_t *z, ngx_gp_event_t *ev,
    ngx_uint_t n);

/* ngx_gp_zone_key_check() */
#define NGX_GP_KEY_OK         0
#define NGX_GP_KEY_MISSING    1
#define NGX_GP_KEY_INVALID    2
#define NGX_GP_KEY_LIMITED    3
#define NGX_GP_KEY_MODEL      4
ngx_int_t ngx_gp_zone_key_check(ngx_gp_zone_t *z, const u_char *hash,
    ngx_str_t *model, ngx_gp_key_t *k, time_t *retry);


/* ngx_http_gemini_pool_browser.c: Chromium over the DevTools pipe (its
   directive's configuration is a member of the main configuration) */

#include "ngx_http_gemini_pool_browser.h"


/* ngx_http_gemini_pool_module.c: the configuration */

struct ngx_http_gemini_pool_main_conf_s {
    ngx_shm_zone_t          *shm_zone;
    ngx_str_t                zone_name;
    ngx_str_t                database;

    ngx_str_t                auth_url;     /* business.gemini.google */
    ngx_str_t                api_url;      /* biz-discoveryengine */
    ngx_str_t                login_url;    /* auth.business.gemini.google */

    ngx_str_t                ssl_trusted_certificate;
    ngx_flag_t               ssl_verify;

    ngx_msec_t               connect_timeout;
    ngx_msec_t               xsrf_timeout;
    ngx_msec_t               session_timeout;
    ngx_msec_t               stream_timeout;   /* first byte */
    ngx_msec_t               idle_timeout;     /* between bytes */
    ngx_msec_t               upload_timeout;
    ngx_msec_t               download_timeout;
    ngx_str_t                proxy;            /* default outbound proxy */
    ngx_uint_t               max_host_connections;
    ngx_flag_t               http2;
    ngx_flag_t               demo;             /* gemini_pool_demo */

    u_char                   admin_secret[128];  /* NUL-terminated */
    size_t                   admin_secret_len;

    /* secrets at rest: AES-256-GCM keys */
    u_char                   secret_key[32];
    u_char                   secret_key_old[32];
    ngx_uint_t               has_old_key;
    time_t                   jwt_refresh;      /* JWT reuse period */

    ngx_uint_t               max_connections;  /* curl, per process */

    /* remote input media: the fetch guard's exceptions, limits */
    ngx_array_t             *fetch_allow;      /* ngx_cidr_t */
    ngx_array_t             *fetch_allow_hosts; /* ngx_str_t, lower case */
    size_t                   fetch_max_size;
    ngx_msec_t               fetch_timeout;
    ngx_path_t              *helper_path;
    ngx_msec_t               helper_interval;

    /* the media cache (helper_path): eviction */
    time_t                   media_inactive;
    off_t                    media_max_size;   /* 0: no limit */
    ngx_array_t             *trusted_proxies;  /* ngx_cidr_t */

    /* the admin password check: a thread pool's name, or "off" */
    ngx_str_t                admin_thread_pool;
    ngx_uint_t               admin_used;       /* a gemini_pool_admin */
#if (NGX_THREADS)
    ngx_thread_pool_t       *admin_tp;         /* NULL: in the loop */
#endif

    /* re-login: the browser, the sign-in recipe (read at start, reload) */
    ngx_gp_browser_conf_t    browser;
    ngx_str_t                signin_recipe;
    ngx_gp_recipe_t         *recipe;           /* NULL: none */

    /* gemini_pool_cluster: NULL, no Redis */
    ngx_gp_cluster_conf_t   *cluster;
};

typedef struct {
    ngx_uint_t               handler;
    ngx_msec_t               keepalive;        /* SSE comment interval */
    size_t                   max_answer;       /* non-stream answer cap */
    ngx_flag_t               api_keys;         /* /v1 needs an API key */
} ngx_http_gemini_pool_loc_conf_t;


/* ngx_http_gemini_pool_curl.c: libcurl on nginx's event loop */

typedef struct ngx_gp_xfer_s  ngx_gp_xfer_t;

#define NGX_GP_XFER_LINE_LEN         (NGX_GP_JWT_LEN + 64)

typedef size_t (*ngx_gp_xfer_data_pt)(ngx_gp_xfer_t *x, char *p,
    size_t len);
typedef void (*ngx_gp_xfer_done_pt)(ngx_gp_xfer_t *x);

struct ngx_gp_xfer_s {
    CURL                    *easy;
    struct curl_slist       *headers;
    char                    *body;        /* request body, malloc'ed */
    curl_mime               *mime;        /* multipart body, or NULL */

    /* NULL: the response body is collected into buf (up to max) */
    ngx_gp_xfer_data_pt      on_data;
    ngx_gp_xfer_done_pt      on_done;     /* never called inside curl */
    void                    *data;

    u_char                  *buf;         /* collected body, malloc'ed */
    size_t                   len;
    size_t                   max;

    long                     status;      /* HTTP status, 0: none */
    CURLcode                 result;
    char                     error[CURL_ERROR_SIZE];

    ngx_log_t               *log;
    const char              *what;        /* "getoxsrf", ... for logs */

    unsigned                 added:1;     /* in the multi handle */
    unsigned                 done:1;
    unsigned                 paused:1;
    unsigned                 overflow:1;  /* buf would exceed max */
    unsigned                 proxied:1;
    unsigned                 guard:1;     /* check connected addresses */
    unsigned                 guard_off:1; /* the host is allowed by name */
    unsigned                 widget:1;    /* ngx_gp_xfer_create_widget() */
    unsigned                 sticky:1;    /* free, options of a widget call */

    u_char                   proxy[NGX_GP_PROXY_LEN];  /* the one used */
    char                    *refused;     /* the guard's reason, malloc'ed */

    /* ngx_gp_xfer_headers_fixed(): a line here, then a constant list */
    struct curl_slist        fixed;
    struct curl_slist       *headers_last;  /* linked to fixed */
    u_char                   line[NGX_GP_XFER_LINE_LEN];

    void                    *shard;       /* curl.c: its multi handle */
    ngx_gp_xfer_t           *next_free;
};

ngx_int_t ngx_gp_curl_init_process(ngx_cycle_t *cycle);
void ngx_gp_curl_exit_process(ngx_cycle_t *cycle);
ngx_gp_xfer_t *ngx_gp_xfer_create(ngx_log_t *log, const char *what);
ngx_gp_xfer_t *ngx_gp_xfer_create_widget(ngx_log_t *log, const char *what);
ngx_int_t ngx_gp_xfer_start(ngx_gp_xfer_t *x);
void ngx_gp_xfer_resume(ngx_gp_xfer_t *x);
void ngx_gp_xfer_destroy(ngx_gp_xfer_t *x);
ngx_int_t ngx_gp_xfer_header(ngx_gp_xfer_t *x, const char *fmt, ...);
ngx_int_t ngx_gp_xfer_headers_fixed(ngx_gp_xfer_t *x,
    struct curl_slist *fixed, const char *head, const u_char *value);

/* traffic kinds, for the proxy_for setting */
#define NGX_GP_TRAFFIC_GOOGLE        0x01
#define NGX_GP_TRAFFIC_IMAGES        0x02
#define NGX_GP_TRAFFIC_TEMPMAIL      0x04
#define NGX_GP_TRAFFIC_SYNC          0x08

void ngx_gp_xfer_proxy(ngx_gp_xfer_t *x, ngx_uint_t traffic,
    const u_char *account_proxy);
size_t ngx_gp_mask_url(const char *url, u_char *buf, size_t size);
const char *ngx_gp_xfer_describe(ngx_gp_xfer_t *x, u_char *buf,
    size_t size);
ngx_uint_t ngx_gp_curl_active(void);


/* ngx_http_gemini_pool_guard.c: the fetch guard, for curl's open-socket
   callback */

#include "ngx_http_gemini_pool_guard.h"


/* ngx_http_gemini_pool_http.c, _apikey.c: answering a request */

#include "ngx_http_gemini_pool_http.h"
#include "ngx_http_gemini_pool_apikey.h"


/* ngx_http_gemini_pool_gemini.c: the upstream's calls as transfers */

ngx_gp_xfer_t *ngx_gp_gemini_getoxsrf(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, ngx_log_t *log);
ngx_gp_xfer_t *ngx_gp_gemini_widget(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, const char *method, char *body, size_t len,
    ngx_msec_t timeout, ngx_log_t *log);
char *ngx_gp_gemini_jwt_from_xsrf(ngx_gp_xfer_t *x,
    ngx_gp_account_copy_t *a, const char **err, int *rc);
ngx_gp_xfer_t *ngx_gp_gemini_download(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, const char *session, const char *file_id,
    ngx_log_t *log);


/* ngx_http_gemini_pool_upstream.c: the upstream client */

#include "ngx_http_gemini_pool_upstream.h"


/* ngx_http_gemini_pool_tempmail.c: the temp-mail worker API client */

#include "ngx_http_gemini_pool_tempmail.h"


/* ngx_http_gemini_pool_imghost.c: uploads to the image host */

#include "ngx_http_gemini_pool_imghost.h"


/* ngx_http_gemini_pool_files.c: input media and /v1/files */

typedef struct ngx_gp_input_s  ngx_gp_input_t;

/* err NULL: the inputs are ready */
typedef void (*ngx_gp_input_done_pt)(void *data, ngx_gp_oai_error_t *err);

ngx_int_t ngx_gp_input_prepare(ngx_http_request_t *r,
    ngx_gp_chat_req_t *req, int64_t key_id, ngx_gp_input_t **in,
    ngx_gp_input_done_pt done, void *data, ngx_gp_oai_error_t *err);
int64_t ngx_gp_input_account(ngx_gp_input_t *in, u_char **session);
void ngx_gp_input_restart(ngx_gp_input_t *in);
ngx_uint_t ngx_gp_input_pending(ngx_gp_input_t *in);
ngx_gp_xfer_t *ngx_gp_input_upload(ngx_gp_input_t *in,
    ngx_gp_account_copy_t *a, const char *session, ngx_log_t *log);
ngx_int_t ngx_gp_input_uploaded(ngx_gp_input_t *in, ngx_gp_xfer_t *x);
const char **ngx_gp_input_ids(ngx_gp_input_t *in, size_t *n);
ngx_int_t ngx_gp_files_handler(ngx_http_request_t *r, ngx_str_t *id);


/* ngx_http_gemini_pool_media.c: generated media, the cache, /image/ and
   /video/ */

#define NGX_GP_FMT_MARKDOWN          0
#define NGX_GP_FMT_URL               1
#define NGX_GP_FMT_ARRAY             2
#define NGX_GP_FMT_B64               3

typedef struct ngx_gp_media_s  ngx_gp_media_t;
typedef void (*ngx_gp_media_done_pt)(void *data);

ngx_gp_media_t *ngx_gp_media_create(ngx_http_request_t *r);
ngx_int_t ngx_gp_media_add(ngx_gp_media_t *m, ngx_gp_part_t *part);
void ngx_gp_media_reset(ngx_gp_media_t *m);
ngx_uint_t ngx_gp_media_count(ngx_gp_media_t *m);
ngx_uint_t ngx_gp_media_ok(ngx_gp_media_t *m);
ngx_int_t ngx_gp_media_fetch(ngx_gp_media_t *m, ngx_gp_account_copy_t *a,
    const char *session, ngx_uint_t inline_images, ngx_gp_media_done_pt done,
    void *data);
ngx_int_t ngx_gp_media_format(const char *name);
ngx_int_t ngx_gp_media_choose_format(ngx_http_request_t *r,
    const char *req_fmt, ngx_gp_key_t *k);
ngx_int_t ngx_gp_media_text(ngx_gp_media_t *m, ngx_uint_t fmt,
    ngx_uint_t after_text, ngx_str_t *out);
ngx_int_t ngx_gp_media_handler(ngx_http_request_t *r);
void ngx_gp_media_evict(ngx_cycle_t *cycle);

#include "ngx_http_gemini_pool_media.h"


/* ngx_http_gemini_pool_sse.c, _surface_*.c: the client surfaces */

#include "ngx_http_gemini_pool_sse.h"
#include "ngx_http_gemini_pool_surface.h"


/* ngx_http_gemini_pool_chat.c: variables */

#define NGX_GP_VAR_ACCOUNT           0
#define NGX_GP_VAR_ATTEMPTS          1
#define NGX_GP_VAR_UPSTREAM_STATUS   2
#define NGX_GP_VAR_MODEL             3
#define NGX_GP_VAR_API_KEY           4
#define NGX_GP_VAR_TTFB              5
#define NGX_GP_VAR_CONVERSATION      6

ngx_int_t ngx_gp_chat_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* ngx_http_gemini_pool_signin.c: one e-mail-code login (the helper's) */

#include "ngx_http_gemini_pool_signin.h"


/* ngx_http_gemini_pool_migrate.c: export, import, migration from the
   reference */

json_t *ngx_gp_config_export(ngx_http_request_t *r, ngx_uint_t secrets);
ngx_int_t ngx_gp_config_import(ngx_http_request_t *r, ngx_str_t *body,
    ngx_uint_t sqlite, ngx_uint_t dry_run, json_t **result, char *err,
    size_t errlen);


/* ngx_http_gemini_pool_admin_*.c: the admin API */

#include "ngx_http_gemini_pool_admin.h"


/* ngx_http_gemini_pool_spares.c: spare sessions, the helper's side */

void ngx_gp_spares_tick(ngx_gp_zone_t *z);
void ngx_gp_spares_exit(void);


/* ngx_http_gemini_pool_helper.c: the helper role */

ngx_int_t ngx_gp_helper_init_process(ngx_cycle_t *cycle);
ngx_msec_t ngx_gp_helper_manager(void *data);
void ngx_gp_helper_exit_process(ngx_cycle_t *cycle);


/* ngx_http_gemini_pool_api.c, _metrics.c: dispatch, models, health,
   metrics */

ngx_int_t ngx_gp_api_handler(ngx_http_request_t *r);
const ngx_gp_surface_t *ngx_gp_api_surface(ngx_http_request_t *r);
ngx_int_t ngx_gp_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_gp_metrics_handler(ngx_http_request_t *r);


extern ngx_module_t  ngx_http_gemini_pool_module;


#endif /* _NGX_HTTP_GEMINI_POOL_MODULE_H_INCLUDED_ */
