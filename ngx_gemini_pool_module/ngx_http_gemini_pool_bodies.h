
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The JSON bodies the admin API reads, as pure functions: the body as an
 * object, an account's fields (POST and PUT /api/accounts), a model's
 * (POST and PUT /api/models), a new API key's (POST /api/keys), and the
 * documents of POST /api/config/import (our export, the reference's
 * business_gemini_session.json, the reference's database read as JSON):
 * each read and checked into a plain struct, or refused with a message
 * that names the field.  The feature files (admin_*.c, migrate.c) then
 * write what was read.
 *
 * Pure C: no nginx.  Strings of a result point into the JSON it was read
 * from (keep it while the result is used).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_BODIES_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_BODIES_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


/* sizes of the fixed fields of an account, a model, a key (with NUL) */
#define NGX_GP_NAME_LEN              64
#define NGX_GP_TEAM_LEN              80
#define NGX_GP_CSESIDX_LEN           32
#define NGX_GP_COOKIE_LEN            2048
#define NGX_GP_UA_LEN                256
#define NGX_GP_PROXY_LEN             512
#define NGX_GP_MODEL_LEN             64
/* a model's aliases, comma-separated names and prefixes ("gpt-4o,o3-*") */
#define NGX_GP_ALIASES_LEN           512
#define NGX_GP_KEY_MODELS_LEN        256

/* an account's mailbox link (tempmail_url), with its JWT */
#define NGX_GP_MAILBOX_URL_LEN       2048

/* a setting's value */
#define NGX_GP_SETTING_VALUE_LEN     512

/* the room for a refusal */
#define NGX_GP_BODY_ERR_LEN          320


/*
 * The body as a JSON object, or NULL with msg saying why ("the body must
 * be a JSON object: ..."); json_decref() it.
 */
json_t *ngx_gp_body_object(const char *p, size_t len, char *msg,
    size_t size);

/* 1 for the proxy URLs the module accepts (any case; not just a scheme) */
int ngx_gp_body_proxy_valid(const char *url);

/* 1 for an http(s) URL with a non-empty "jwt" query parameter */
int ngx_gp_body_mailbox_url(const char *s);


/* an account's fields; NULL: not given (unchanged) */
typedef struct {
    const char          *name;
    const char          *team_id;
    const char          *csesidx;
    const char          *secure_c_ses;
    const char          *host_c_oses;
    const char          *user_agent;
    const char          *proxy;
    const char          *tempmail_url;
    const char          *tempmail_name;
    int                  enabled;       /* -1: not given */
    const char          *missing[4];    /* required, not given (an add);
                                           NULL-ended */
    const char          *invalid[11];   /* refused; NULL-ended */
} ngx_gp_body_account_t;

#define NGX_GP_BODY_INVALID    -1      /* "invalid_value" */
#define NGX_GP_BODY_MISSING    -2      /* "missing_field" */

/*
 * The account of a body; add: team_id, csesidx and secure_c_ses are
 * required.  0, or NGX_GP_BODY_INVALID (some field refused) or
 * NGX_GP_BODY_MISSING (only required fields missing), with msg naming
 * every problem and acc->invalid, acc->missing the fields.
 */
int ngx_gp_body_account(json_t *body, int add, ngx_gp_body_account_t *acc,
    char *msg, size_t size);


/* a model's fields (POST: all; PUT: those given) */
typedef struct {
    const char          *name;
    const char          *model_id;
    const char          *kind;          /* NULL: not given */
    const char          *description;
    int64_t              account;       /* -1: none */
    int                  has_account;
    int                  enabled;       /* -1: not given */
    int                  has_position;
    int64_t              position;
} ngx_gp_body_model_t;

/*
 * The model of a body; name: the one of the path (PUT), or NULL to take
 * "name" from the body.  0, or -1 with msg.
 */
int ngx_gp_body_model(json_t *body, const char *name,
    ngx_gp_body_model_t *m, char *msg, size_t size);


/* a new API key's fields */
typedef struct {
    const char          *name;          /* NULL: not given */
    const char          *image_format;  /* NULL: not given */
    int64_t              expires;
    int64_t              rpm;
    int64_t              rpd;
    char                 models[NGX_GP_KEY_MODELS_LEN];  /* "a,b"; "": all */
} ngx_gp_body_key_t;

/* the key of a body (NULL: an empty one); 0, or -1 with msg */
int ngx_gp_body_key(json_t *body, ngx_gp_body_key_t *k, char *msg,
    size_t size);


/* an import: what a document holds, each item checked */

typedef struct {
    const char          *name;
    const char          *team_id;
    const char          *csesidx;
    const char          *secure_c_ses;
    const char          *host_c_oses;
    const char          *user_agent;
    const char          *proxy;
    const char          *tempmail_url;
    const char          *tempmail_name;
    int                  enabled;       /* -1: not given */
    int                  expired;       /* -1: not given */
    int                  placeholder;   /* no credentials (remote sync) */
    char                 cses[24];
} ngx_gp_import_account_t;

typedef struct {
    const char          *name;
    const char          *model_id;
    const char          *kind;          /* text, image or video */
    const char          *description;
    int64_t              pin;           /* index in the file; -1: none */
    int                  enabled;
    int64_t              position;      /* -1: after the others */
    const char          *aliases;       /* "a,b*"; NULL: none */
    char                 label[32];     /* "models[i]" */
} ngx_gp_import_model_t;

typedef struct {
    const char          *key;           /* ours */
    const char          *text;          /* the value as PUT /api/settings
                                           takes it */
    char                 label[64];     /* the document's name */
    char                 buf[32];
} ngx_gp_import_setting_t;

typedef struct {
    const char          *name;
    const char          *hash;          /* 64 hex digits, lower case */
    const char          *prefix;
    const char          *models;
    const char          *image_format;
    int                  enabled;
    int64_t              expires;
    int64_t              rpm;
    int64_t              rpd;
    int64_t              requests;
    int64_t              last_used;
    int64_t              created;       /* 0: now */
    char                 label[32];     /* "api_keys[i]" */
    char                 lower[65];
} ngx_gp_import_key_t;


/*
 * A setting's type by our name: 'b' (bool), 'i' (integer), 's' (string),
 * or 0 when this version has no such setting.  The caller's settings
 * table answers (settings.c in nginx).
 */
typedef int (*ngx_gp_import_type_pt)(const char *key);

typedef struct {
    const char              *format;    /* "ngx_gemini_pool",
                                           "reference-json",
                                           "reference-db" */
    int                      ref;       /* the reference's lenient types */

    ngx_gp_import_account_t *accounts;
    size_t                   naccounts;
    ngx_gp_import_model_t   *models;
    size_t                   nmodels;
    ngx_gp_import_setting_t *settings;
    size_t                   nsettings;
    ngx_gp_import_key_t     *keys;
    size_t                   nkeys;

    json_t                  *skipped;   /* the caller's array: what was
                                           left out, and why */
    ngx_gp_import_type_pt    type;

    char                    *err;
    size_t                   errlen;
} ngx_gp_import_t;

/* our export's "format" and the newest "version" read */
#define NGX_GP_EXPORT_FORMAT   "ngx_gemini_pool"
#define NGX_GP_EXPORT_VERSION  1

/*
 * A JSON document (our export or business_gemini_session.json): the
 * format is told by its "format" member.  *doc is the parsed document
 * (json_decref() it after the result is used, also on failure).
 * 0; -1: refused (imp->err says why); -2: out of memory.
 */
int ngx_gp_import_parse(const char *p, size_t len, ngx_gp_import_t *imp,
    json_t **doc);

/* a document already parsed; ref: the reference's (its database's) */
int ngx_gp_import_read(json_t *doc, int ref, ngx_gp_import_t *imp);

void ngx_gp_import_free(ngx_gp_import_t *imp);


#endif /* _NGX_HTTP_GEMINI_POOL_BODIES_H_INCLUDED_ */
