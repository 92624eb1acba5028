
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * One record of the shared configuration (docs/cluster.md) as it is kept
 * in Redis: an account, a model, a setting or an API key, its secrets
 * still sealed ("enc:v1:...", never plaintext), or its tombstone.
 *
 * The value of the record's field in the kind's hash is
 * "<version> <json>", the version given by Redis when it was written;
 * the JSON is {"kind","key","origin","fp","bulk","data"}: origin the
 * writing gateway's id, fp the fingerprint of the secret key that sealed
 * it, bulk true for a copy published again in a new epoch (not a change:
 * it never overwrites a record, nor a change waiting on a gateway), data
 * the record's fields (null: deleted).
 *
 * Pure C over jansson: no nginx, no I/O.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_CONFREC_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_CONFREC_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


#define NGX_GP_CONFREC_ACCOUNT   0     /* key: the account's uid */
#define NGX_GP_CONFREC_MODEL     1     /* key: the model's name */
#define NGX_GP_CONFREC_SETTING   2     /* key: the setting's name */
#define NGX_GP_CONFREC_KEY       3     /* key: the API key's SHA-256 */
#define NGX_GP_CONFREC_N         4

#define NGX_GP_CONFREC_KEY_LEN   128   /* the longest key */
#define NGX_GP_CONFREC_ID_LEN    32    /* a gateway's id, hex */
#define NGX_GP_CONFREC_FP_LEN    16    /* a key's fingerprint, hex */
#define NGX_GP_CONFREC_MAX       65536 /* the longest record */


typedef struct {
    int64_t          version;     /* 0 when not from Redis */
    int              kind;
    const char      *key;
    const char      *origin;
    const char      *fp;
    int              bulk;
    json_t          *data;        /* NULL: a tombstone */
    json_t          *doc;         /* owns the strings above */
} ngx_gp_confrec_t;


/* "account", "model", "setting", "key"; the number of a name, or -1 */
const char *ngx_gp_confrec_kind_name(int kind);
int ngx_gp_confrec_kind(const char *name);

/*
 * The JSON of a record (malloc'ed, free() it), its data checked as
 * ngx_gp_confrec_parse() checks it (data NULL: a tombstone); NULL with
 * a reason in err.
 */
char *ngx_gp_confrec_encode(int kind, const char *key, const char *origin,
    const char *fp, int bulk, json_t *data, char *err, size_t errlen);

/*
 * A record as Redis keeps it, "<version> <json>" (or the JSON alone:
 * version 0), checked: the kind, the key, the fields of its kind with
 * their types, secrets sealed or empty.  0, or -1 with a reason in err;
 * ngx_gp_confrec_free() after 0.
 */
int ngx_gp_confrec_parse(const char *p, size_t len, ngx_gp_confrec_t *r,
    char *err, size_t errlen);
void ngx_gp_confrec_free(ngx_gp_confrec_t *r);


#endif /* _NGX_HTTP_GEMINI_POOL_CONFREC_H_INCLUDED_ */
