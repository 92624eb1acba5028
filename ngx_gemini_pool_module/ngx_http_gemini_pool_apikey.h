
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * API keys on /v1 (ngx_http_gemini_pool_apikey.c).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_APIKEY_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_APIKEY_H_INCLUDED_


/* NGX_OK (key copied to k), NGX_DECLINED (the refusal in err), NGX_ERROR */
ngx_int_t ngx_gp_api_key_check(ngx_http_request_t *r, ngx_str_t *model,
    ngx_gp_key_t *k, ngx_gp_oai_error_t *err);
/* NGX_OK, or NGX_DECLINED with the refusal sent (its rc in *sent) */
ngx_int_t ngx_gp_api_key(ngx_http_request_t *r, ngx_str_t *model,
    ngx_gp_key_t *k, ngx_int_t *sent);


#endif /* _NGX_HTTP_GEMINI_POOL_APIKEY_H_INCLUDED_ */
