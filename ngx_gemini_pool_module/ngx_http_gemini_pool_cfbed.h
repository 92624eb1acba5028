
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The image host's wire format (spec §9.5, a CloudFlare-ImgBed "cfbed"
 * host), as pure functions: the upload URL with its query parameters,
 * and the public URL of an uploaded file from the host's answer.
 *
 * Pure C over jansson: no nginx, no I/O.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_CFBED_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_CFBED_H_INCLUDED_


#include <stddef.h>


/* the longest public URL the media keep */
#define NGX_GP_CFBED_URL_LEN   1024


/*
 * <endpoint>?authCode=<token>&uploadChannel=telegram&serverCompress=true
 * &autoRetry=true&uploadNameType=default&returnFormat=default ("&" when
 * the endpoint has a query already), the token percent-encoded.  The
 * length, or 0 when it does not fit in size.
 */
size_t ngx_gp_cfbed_upload_url(const char *endpoint, const char *token,
    char *buf, size_t size);

/*
 * The public URL of an upload from the host's answer (a JSON array whose
 * first item has "src", "/file/abc.jpg"): an absolute src as it is, else
 * base (the image_base_url setting; empty: the endpoint without its query
 * and its trailing "/upload") followed by src.  Returns 0, or -1 with a
 * short reason in err.
 */
int ngx_gp_cfbed_answer(const char *body, size_t len, const char *base,
    const char *endpoint, char *url, size_t size, char *err,
    size_t errlen);


#endif /* _NGX_HTTP_GEMINI_POOL_CFBED_H_INCLUDED_ */
