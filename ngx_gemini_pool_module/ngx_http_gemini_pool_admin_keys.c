
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin API keys: the list, a new key (shown once, stored as a hash),
 * revoke, delete and a key's usage stats.
 */


#include "ngx_http_gemini_pool_module.h"


/* only spaces or nothing */

static ngx_int_t
ngx_gp_admin_blank(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
            return 0;
        }
    }

    return 1;
}


/* GET /api/keys */

ngx_int_t
ngx_gp_admin_keys(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_list(a, ngx_gp_store_keys_list(a->r->connection->log),
                             "keys");
}


ngx_int_t
ngx_gp_admin_key_add(ngx_gp_admin_t *a)
{
    char                *key, *hash;
    int64_t              id;
    ngx_int_t            rc;
    ngx_gp_store_key_t   sk;
    ngx_gp_body_key_t    bk;
    char                 msg[NGX_GP_BODY_ERR_LEN];

    if (ngx_gp_body_key(a->body, &bk, msg, sizeof(msg)) != 0) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "%s", msg);
    }

    /* a key is told apart by its name in the console's lists */

    if (bk.name == NULL || ngx_gp_admin_blank(bk.name)) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "missing_field", "\"name\" is required: "
                                  "a key needs a name");
    }

    key = ngx_gp_api_key_new();
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = ngx_gp_sha256_hex(key, ngx_strlen(key));
    if (hash == NULL) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sk.name = bk.name ? bk.name : "";
    sk.hash = hash;
    sk.prefix = key;
    sk.expires = bk.expires;
    sk.models = bk.models;
    sk.rpm = bk.rpm;
    sk.rpd = bk.rpd;
    sk.image_format = bk.image_format ? bk.image_format : "";

    rc = ngx_gp_store_key_add(&sk, &id, a->r->connection->log);

    free(hash);

    if (rc != NGX_OK) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_changed(a->r) != NGX_OK) {
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the key itself is shown this once; only its hash is stored */
    rc = ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                           json_pack("{s:b,s:I,s:s,s:s}", "success", 1,
                                     "id", (json_int_t) id, "key", key,
                                     "name", sk.name));

    ngx_explicit_memzero(key, ngx_strlen(key));
    free(key);

    return rc;
}


static ngx_int_t
ngx_gp_admin_key_simple(ngx_gp_admin_t *a,
    ngx_int_t (*op)(int64_t id, ngx_log_t *log))
{
    ngx_int_t  id, rc;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    if (id == NGX_ERROR) {
        return ngx_gp_admin_not_found(a, "API key");
    }

    rc = op(id, a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no API key %d", (int) id);
    }

    if (rc != NGX_OK || ngx_gp_admin_changed(a->r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


ngx_int_t
ngx_gp_admin_key_revoke(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, ngx_gp_store_key_revoke);
}


ngx_int_t
ngx_gp_admin_key_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_key_simple(a, ngx_gp_store_key_delete);
}


/* GET /api/keys/<id>/stats: usage of one key from the zone and the log */

ngx_int_t
ngx_gp_admin_key_stats(ngx_gp_admin_t *a)
{
    int64_t         logged[4];
    ngx_int_t       id;
    ngx_uint_t      i, found;
    ngx_gp_zone_t  *z;
    ngx_gp_key_t    k;
    json_int_t      calls, errors, prompt, completion;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);
    z = ngx_gp_zone();
    found = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; id != NGX_ERROR && i < z->sh->nkeys; i++) {
        if (z->sh->keys[i].id == id) {
            k = z->sh->keys[i];
            found = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (!found) {
        return ngx_gp_admin_not_found(a, "API key");
    }

    if (ngx_gp_store_key_log_stats(id, logged, a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    calls = logged[0];
    errors = logged[1];
    prompt = logged[2];
    completion = logged[3];

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,"
                                       "s:I,s:I}",
                                       "id", (json_int_t) k.id,
                                       "name", (char *) k.name,
                                       "requests", (json_int_t) k.requests,
                                       "last_used_at",
                                       (json_int_t) k.last_used,
                                       "requests_this_minute",
                                       (json_int_t) k.minute_count,
                                       "requests_today",
                                       (json_int_t) k.day_count,
                                       "logged_calls", calls,
                                       "logged_errors", errors,
                                       "prompt_tokens", prompt,
                                       "completion_tokens", completion));
}
