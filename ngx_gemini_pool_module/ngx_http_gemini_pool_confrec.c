
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * One record of the shared configuration (see the header): its JSON,
 * written and checked.  Pure.
 */


#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>

#include "ngx_http_gemini_pool_confrec.h"
#include "ngx_http_gemini_pool_crypto.h"


/* a field's type: a string, a sealed string, an integer, a boolean */
#define NGX_GP_CR_STR      's'
#define NGX_GP_CR_SEALED   'S'
#define NGX_GP_CR_INT      'i'
#define NGX_GP_CR_BOOL     'b'

#define NGX_GP_CR_STR_MAX  16384   /* the longest string */


typedef struct {
    const char      *name;
    char             type;
} ngx_gp_confrec_field_t;


static const ngx_gp_confrec_field_t  ngx_gp_confrec_account[] = {
    { "name", NGX_GP_CR_STR },
    { "team_id", NGX_GP_CR_STR },
    { "csesidx", NGX_GP_CR_STR },
    { "secure_c_ses", NGX_GP_CR_SEALED },
    { "host_c_oses", NGX_GP_CR_SEALED },
    { "user_agent", NGX_GP_CR_STR },
    { "proxy", NGX_GP_CR_SEALED },
    { "enabled", NGX_GP_CR_BOOL },
    { "tempmail_url", NGX_GP_CR_SEALED },
    { "tempmail_name", NGX_GP_CR_STR },
    { NULL, 0 }
};


static const ngx_gp_confrec_field_t  ngx_gp_confrec_model[] = {
    { "model_id", NGX_GP_CR_STR },
    { "kind", NGX_GP_CR_STR },
    { "account", NGX_GP_CR_STR },      /* the pinned account's uid, "" */
    { "enabled", NGX_GP_CR_BOOL },
    { "position", NGX_GP_CR_INT },
    { "description", NGX_GP_CR_STR },
    { "aliases", NGX_GP_CR_STR },
    { NULL, 0 }
};


/* a secret setting's value is sealed: "secret" says which it is */
static const ngx_gp_confrec_field_t  ngx_gp_confrec_setting[] = {
    { "value", NGX_GP_CR_STR },
    { "secret", NGX_GP_CR_BOOL },
    { NULL, 0 }
};


static const ngx_gp_confrec_field_t  ngx_gp_confrec_key[] = {
    { "name", NGX_GP_CR_STR },
    { "prefix", NGX_GP_CR_STR },
    { "enabled", NGX_GP_CR_BOOL },
    { "expires_at", NGX_GP_CR_INT },
    { "models", NGX_GP_CR_STR },
    { "rpm", NGX_GP_CR_INT },
    { "rpd", NGX_GP_CR_INT },
    { "image_format", NGX_GP_CR_STR },
    { "created_at", NGX_GP_CR_INT },
    { NULL, 0 }
};


static const char  *ngx_gp_confrec_kinds[NGX_GP_CONFREC_N] = {
    "account", "model", "setting", "key"
};


static const ngx_gp_confrec_field_t  *ngx_gp_confrec_fields[NGX_GP_CONFREC_N]
= {
    ngx_gp_confrec_account, ngx_gp_confrec_model, ngx_gp_confrec_setting,
    ngx_gp_confrec_key
};


static int ngx_gp_confrec_error(char *err, size_t errlen, const char *fmt,
    const char *arg);
static int ngx_gp_confrec_hex(const char *s, size_t min, size_t max);
static int ngx_gp_confrec_check(int kind, const char *key, json_t *data,
    char *err, size_t errlen);


const char *
ngx_gp_confrec_kind_name(int kind)
{
    if (kind < 0 || kind >= NGX_GP_CONFREC_N) {
        return NULL;
    }

    return ngx_gp_confrec_kinds[kind];
}


int
ngx_gp_confrec_kind(const char *name)
{
    int  k;

    for (k = 0; name && k < NGX_GP_CONFREC_N; k++) {
        if (strcmp(name, ngx_gp_confrec_kinds[k]) == 0) {
            return k;
        }
    }

    return -1;
}


static int
ngx_gp_confrec_error(char *err, size_t errlen, const char *fmt,
    const char *arg)
{
    if (errlen) {
        (void) snprintf(err, errlen, fmt, arg ? arg : "");
    }

    return -1;
}


/* lower-case hex digits, between min and max of them */

static int
ngx_gp_confrec_hex(const char *s, size_t min, size_t max)
{
    size_t  n;

    for (n = 0; s[n]; n++) {
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) {
            return 0;
        }
    }

    return n >= min && n <= max;
}


/* the key of its kind, and data's fields: all there, typed, no others */

static int
ngx_gp_confrec_check(int kind, const char *key, json_t *data, char *err,
    size_t errlen)
{
    size_t                         n, len;
    json_t                        *v;
    const char                    *name, *s;
    const ngx_gp_confrec_field_t  *f;

    len = strlen(key);

    if (len == 0 || len > NGX_GP_CONFREC_KEY_LEN) {
        return ngx_gp_confrec_error(err, errlen, "bad key%s", NULL);
    }

    if ((kind == NGX_GP_CONFREC_ACCOUNT
         && !ngx_gp_confrec_hex(key, 32, 32))
        || (kind == NGX_GP_CONFREC_KEY && !ngx_gp_confrec_hex(key, 64, 64)))
    {
        return ngx_gp_confrec_error(err, errlen, "bad %s key",
                                    ngx_gp_confrec_kinds[kind]);
    }

    if (data == NULL) {
        return 0;
    }

    if (!json_is_object(data)) {
        return ngx_gp_confrec_error(err, errlen, "\"data\" is not an "
                                    "object%s", NULL);
    }

    n = 0;

    for (f = ngx_gp_confrec_fields[kind]; f->name; f++, n++) {
        v = json_object_get(data, f->name);

        if (v == NULL) {
            return ngx_gp_confrec_error(err, errlen, "no \"%s\"", f->name);
        }

        switch (f->type) {

        case NGX_GP_CR_INT:
            if (!json_is_integer(v)) {
                return ngx_gp_confrec_error(err, errlen, "\"%s\" is not an "
                                            "integer", f->name);
            }

            break;

        case NGX_GP_CR_BOOL:
            if (!json_is_boolean(v)) {
                return ngx_gp_confrec_error(err, errlen, "\"%s\" is not a "
                                            "boolean", f->name);
            }

            break;

        default:
            if (!json_is_string(v)) {
                return ngx_gp_confrec_error(err, errlen, "\"%s\" is not a "
                                            "string", f->name);
            }

            s = json_string_value(v);
            len = json_string_length(v);

            if (len > NGX_GP_CR_STR_MAX) {
                return ngx_gp_confrec_error(err, errlen, "bad \"%s\"",
                                            f->name);
            }

            if (f->type == NGX_GP_CR_SEALED && len
                && !ngx_gp_secret_is_encrypted(s, len))
            {
                return ngx_gp_confrec_error(err, errlen, "\"%s\" is not "
                                            "sealed", f->name);
            }

            break;
        }
    }

    if (json_object_size(data) != n) {
        json_object_foreach(data, name, v) {
            for (f = ngx_gp_confrec_fields[kind]; f->name; f++) {
                if (strcmp(f->name, name) == 0) {
                    break;
                }
            }

            if (f->name == NULL) {
                return ngx_gp_confrec_error(err, errlen, "unknown field "
                                            "\"%.64s\"", name);
            }
        }
    }

    /* a secret setting's value is sealed as well */
    if (kind == NGX_GP_CONFREC_SETTING
        && json_is_true(json_object_get(data, "secret")))
    {
        v = json_object_get(data, "value");
        s = json_string_value(v);
        len = json_string_length(v);

        if (len && !ngx_gp_secret_is_encrypted(s, len)) {
            return ngx_gp_confrec_error(err, errlen, "\"value\" is not "
                                        "sealed%s", NULL);
        }
    }

    return 0;
}


char *
ngx_gp_confrec_encode(int kind, const char *key, const char *origin,
    const char *fp, int bulk, json_t *data, char *err, size_t errlen)
{
    char    *p;
    json_t  *o;

    if (ngx_gp_confrec_kind_name(kind) == NULL || key == NULL
        || origin == NULL || fp == NULL)
    {
        (void) ngx_gp_confrec_error(err, errlen, "bad record%s", NULL);
        return NULL;
    }

    if (!ngx_gp_confrec_hex(origin, 1, NGX_GP_CONFREC_ID_LEN)
        || !ngx_gp_confrec_hex(fp, NGX_GP_CONFREC_FP_LEN,
                               NGX_GP_CONFREC_FP_LEN))
    {
        (void) ngx_gp_confrec_error(err, errlen, "bad origin or "
                                    "fingerprint%s", NULL);
        return NULL;
    }

    if (ngx_gp_confrec_check(kind, key, data, err, errlen) != 0) {
        return NULL;
    }

    o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:O}",
                  "kind", ngx_gp_confrec_kinds[kind], "key", key,
                  "origin", origin, "fp", fp, "bulk", bulk ? 1 : 0,
                  "data", data ? data : json_null());
    if (o == NULL) {
        (void) ngx_gp_confrec_error(err, errlen, "bad record%s", NULL);
        return NULL;
    }

    p = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    if (p && strlen(p) > NGX_GP_CONFREC_MAX) {
        free(p);
        (void) ngx_gp_confrec_error(err, errlen, "too long%s", NULL);
        return NULL;
    }

    if (p == NULL) {
        (void) ngx_gp_confrec_error(err, errlen, "out of memory%s", NULL);
    }

    return p;
}


int
ngx_gp_confrec_parse(const char *p, size_t len, ngx_gp_confrec_t *r,
    char *err, size_t errlen)
{
    size_t        i;
    json_t       *doc, *v, *data, *bulk;
    int64_t       version;
    const char   *key, *origin, *fp, *kind;
    json_error_t  e;

    memset(r, 0, sizeof(ngx_gp_confrec_t));

    if (len > NGX_GP_CONFREC_MAX + 24) {
        return ngx_gp_confrec_error(err, errlen, "too long%s", NULL);
    }

    /* "<version> ": 1 to 18 digits, no leading zero */
    version = 0;

    if (len && p[0] >= '0' && p[0] <= '9') {
        for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            if (i == 18) {
                return ngx_gp_confrec_error(err, errlen, "bad version%s",
                                            NULL);
            }

            version = version * 10 + (p[i] - '0');
        }

        if (i == len || p[i] != ' ' || p[0] == '0') {
            return ngx_gp_confrec_error(err, errlen, "bad version%s", NULL);
        }

        p += i + 1;
        len -= i + 1;
    }

    doc = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
    if (doc == NULL) {
        return ngx_gp_confrec_error(err, errlen, "not JSON: %s", e.text);
    }

    if (!json_is_object(doc)) {
        json_decref(doc);
        return ngx_gp_confrec_error(err, errlen, "not an object%s", NULL);
    }

    kind = json_string_value(json_object_get(doc, "kind"));
    key = json_string_value(json_object_get(doc, "key"));
    origin = json_string_value(json_object_get(doc, "origin"));
    fp = json_string_value(json_object_get(doc, "fp"));
    bulk = json_object_get(doc, "bulk");
    v = json_object_get(doc, "data");

    if (kind == NULL || key == NULL || origin == NULL || fp == NULL
        || !json_is_boolean(bulk) || v == NULL)
    {
        json_decref(doc);
        return ngx_gp_confrec_error(err, errlen, "\"kind\", \"key\", "
                                    "\"origin\", \"fp\", \"bulk\" and "
                                    "\"data\" are needed%s", NULL);
    }

    r->kind = ngx_gp_confrec_kind(kind);

    if (r->kind < 0) {
        json_decref(doc);
        return ngx_gp_confrec_error(err, errlen, "unknown kind%s", NULL);
    }

    if (!ngx_gp_confrec_hex(origin, 1, NGX_GP_CONFREC_ID_LEN)
        || !ngx_gp_confrec_hex(fp, NGX_GP_CONFREC_FP_LEN,
                               NGX_GP_CONFREC_FP_LEN))
    {
        json_decref(doc);
        return ngx_gp_confrec_error(err, errlen, "bad origin or "
                                    "fingerprint%s", NULL);
    }

    data = json_is_null(v) ? NULL : v;

    /* jansson refuses a NUL in a string: a key is a C string */
    if (ngx_gp_confrec_check(r->kind, key, data, err, errlen) != 0) {
        json_decref(doc);
        return -1;
    }

    r->version = version;
    r->key = key;
    r->origin = origin;
    r->fp = fp;
    r->bulk = json_is_true(bulk);
    r->data = data;
    r->doc = doc;

    return 0;
}


void
ngx_gp_confrec_free(ngx_gp_confrec_t *r)
{
    if (r->doc) {
        json_decref(r->doc);
        r->doc = NULL;
    }
}
