
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The bottom layer of the responses (ngx_http_gemini_pool_http.c).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_HTTP_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_HTTP_H_INCLUDED_


ngx_table_elt_t *ngx_gp_header_in(ngx_http_request_t *r, const char *name);
void ngx_gp_retry_after(ngx_http_request_t *r, time_t delay);
ngx_int_t ngx_gp_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *p, size_t len);
ngx_int_t ngx_gp_send_json_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b);
/* an OpenAI error object with its status */
ngx_int_t ngx_gp_send_error(ngx_http_request_t *r, ngx_gp_oai_error_t *err);
ngx_int_t ngx_gp_read_body(ngx_http_request_t *r, ngx_str_t *body);
/* a request of the module runs: the worker stays through a graceful
   shutdown until the last one ends */
void ngx_gp_hold_worker(void);
void ngx_gp_release_worker(void);


#endif /* _NGX_HTTP_GEMINI_POOL_HTTP_H_INCLUDED_ */
