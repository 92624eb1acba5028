
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Generated media of a turn, for the surfaces that render them
 * (ngx_http_gemini_pool_media.c).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_MEDIA_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_MEDIA_H_INCLUDED_


typedef struct {
    ngx_uint_t               ok;          /* fetched into the cache */
    ngx_uint_t               video;
    ngx_uint_t               index;       /* 1-based, for messages */
} ngx_gp_media_info_t;

/* i < ngx_gp_media_count(m) */
void ngx_gp_media_info(ngx_gp_media_t *m, ngx_uint_t i,
    ngx_gp_media_info_t *info);
/* its public URL (/image/... or /video/...), NUL-terminated */
size_t ngx_gp_media_link(ngx_gp_media_t *m, ngx_uint_t i, u_char *buf,
    size_t size);
/* "(image 2 could not be retrieved: ...)", NUL-terminated */
size_t ngx_gp_media_failure(ngx_gp_media_t *m, ngx_uint_t i, u_char *buf,
    size_t size);
/* the cached file as a data: URL, malloc'ed; NULL: not available */
char *ngx_gp_media_data_url(ngx_gp_media_t *m, ngx_uint_t i);


#endif /* _NGX_HTTP_GEMINI_POOL_MEDIA_H_INCLUDED_ */
