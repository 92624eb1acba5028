
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * API keys on /v1: the key of a request, checked against the zone (hash,
 * expiry, models, rate limits).
 */


#include "ngx_http_gemini_pool_module.h"


/*
 * API keys on /v1: "Authorization: Bearer <key>", "X-API-Key" (the
 * Anthropic SDKs' header too), "X-API-Token", "X-Goog-API-Key" (Google's
 * SDKs), or the query argument "key=" (Google's REST examples), in that
 * order.  Returns NGX_OK with the key copied into k (k->id 0 when
 * keys are off here), NGX_DECLINED with the refusal in err (and
 * Retry-After set when it is a limit), or NGX_ERROR.  The caller sends
 * the refusal in the shape of its API.
 */

ngx_int_t
ngx_gp_api_key_check(ngx_http_request_t *r, ngx_str_t *model,
    ngx_gp_key_t *k, ngx_gp_oai_error_t *err)
{
    char                             *hex;
    time_t                            retry;
    ngx_int_t                         rc;
    ngx_str_t                         key;
    ngx_uint_t                        i;
    ngx_table_elt_t                  *h;
    u_char                            hash[32];
    ngx_http_gemini_pool_loc_conf_t  *glcf;

    glcf = ngx_http_get_module_loc_conf(r, ngx_http_gemini_pool_module);

    ngx_memzero(k, sizeof(ngx_gp_key_t));

    if (!glcf->api_keys) {
        return NGX_OK;
    }

    key.len = 0;
    key.data = NULL;

    h = r->headers_in.authorization;

    if (h && h->value.len > 7
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) == 0)
    {
        key.data = h->value.data + 7;
        key.len = h->value.len - 7;

    } else {
        h = ngx_gp_header_in(r, "X-API-Key");

        if (h == NULL) {
            h = ngx_gp_header_in(r, "X-API-Token");
        }

        if (h == NULL) {
            h = ngx_gp_header_in(r, "X-Goog-API-Key");
        }

        if (h) {
            key = h->value;

        } else if (ngx_http_arg(r, (u_char *) "key", 3, &key) != NGX_OK) {
            key.len = 0;
        }
    }

    while (key.len && key.data[key.len - 1] == ' ') {
        key.len--;
    }

    if (key.len == 0) {
        ngx_gp_oai_error_set(err, NGX_HTTP_UNAUTHORIZED,
                             "invalid_request_error", "invalid_api_key",
                             NULL, "You didn't provide an API key: send "
                             "\"Authorization: Bearer <key>\" (or X-API-Key, "
                             "X-Goog-API-Key)");
        return NGX_DECLINED;
    }

    hex = ngx_gp_sha256_hex(key.data, key.len);
    if (hex == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 32; i++) {
        hash[i] = (u_char) ((ngx_hextoi((u_char *) hex + 2 * i, 2)) & 0xff);
    }

    free(hex);

    rc = ngx_gp_zone_key_check(ngx_gp_zone(), hash, model, k, &retry);

    switch (rc) {

    case NGX_GP_KEY_OK:
        return NGX_OK;

    case NGX_GP_KEY_MODEL:
        ngx_gp_oai_error_set(err, NGX_HTTP_FORBIDDEN, "permission_error",
                             "model_not_allowed", "model",
                             "This API key may not use the model `%.*s`",
                             (int) ngx_min(model->len, 64), model->data);
        break;

    case NGX_GP_KEY_LIMITED:
        ngx_gp_oai_error_set(err, NGX_HTTP_TOO_MANY_REQUESTS,
                             "rate_limit_error", "rate_limit_exceeded", NULL,
                             "Rate limit of this API key reached; try again "
                             "in %d s", (int) ngx_max(retry, 1));

        ngx_gp_retry_after(r, ngx_max(retry, 1));

        break;

    default:
        ngx_gp_oai_error_set(err, NGX_HTTP_UNAUTHORIZED,
                             "invalid_request_error", "invalid_api_key",
                             NULL, "Incorrect API key provided");
        break;
    }

    return NGX_DECLINED;
}


/* the same, the refusal sent as an OpenAI error (its rc in *sent) */

ngx_int_t
ngx_gp_api_key(ngx_http_request_t *r, ngx_str_t *model, ngx_gp_key_t *k,
    ngx_int_t *sent)
{
    ngx_int_t           rc;
    ngx_gp_oai_error_t  err;

    rc = ngx_gp_api_key_check(r, model, k, &err);

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    *sent = (rc == NGX_DECLINED) ? ngx_gp_send_error(r, &err)
                                 : NGX_HTTP_INTERNAL_SERVER_ERROR;

    return NGX_DECLINED;
}
