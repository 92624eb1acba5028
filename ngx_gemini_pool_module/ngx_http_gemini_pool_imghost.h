
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The image host (spec §9.5, ngx_http_gemini_pool_imghost.c): uploads of
 * generated media as libcurl transfers on nginx's event loop, for the
 * media cache and the console's test upload.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_IMGHOST_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_IMGHOST_H_INCLUDED_


/* both upload_endpoint and upload_api_token are set */
ngx_uint_t ngx_gp_imghost_on(void);

/*
 * A transfer, not started, that posts the file at path (or, with path
 * NULL, the len bytes at data, copied) as the multipart field "file"
 * (name and type as given) to the upload endpoint, through the global
 * proxy when proxy_for names "images", within upload_timeout.  NULL: err
 * says why.
 */
ngx_gp_xfer_t *ngx_gp_imghost_upload(const char *path, const u_char *data,
    size_t len, const char *name, const char *type, ngx_log_t *log,
    u_char *err, size_t errlen);

/*
 * After the transfer ended: NGX_OK and the public URL (NUL-terminated),
 * or NGX_ERROR and the reason; neither ever holds the token.
 */
ngx_int_t ngx_gp_imghost_result(ngx_gp_xfer_t *x, u_char *url, size_t size,
    u_char *err, size_t errlen);


#endif /* _NGX_HTTP_GEMINI_POOL_IMGHOST_H_INCLUDED_ */
