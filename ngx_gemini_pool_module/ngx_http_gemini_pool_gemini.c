
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The upstream client: builds libcurl transfers for getoxsrf and the
 * widget calls with the headers of spec §3 and §5.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_WIDGET_UA                                                     \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "          \
    "(KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"


/*
 * The constant headers of every widget call (spec §5), after the
 * authorization line the transfer keeps itself: libcurl only reads the
 * list, so all transfers share it and none allocates one.
 */

static struct curl_slist  ngx_gp_widget_headers[] = {
    { "accept: */*", &ngx_gp_widget_headers[1] },
    { "accept-language: zh-CN,zh;q=0.9,en;q=0.8", &ngx_gp_widget_headers[2] },
    { "content-type: application/json", &ngx_gp_widget_headers[3] },
    { "origin: https://business.gemini.google", &ngx_gp_widget_headers[4] },
    { "referer: https://business.gemini.google/", &ngx_gp_widget_headers[5] },
    { "user-agent: " NGX_GP_WIDGET_UA, &ngx_gp_widget_headers[6] },
    { "x-server-timeout: 1800", &ngx_gp_widget_headers[7] },
    { "Expect:", NULL }
};


ngx_gp_xfer_t *
ngx_gp_gemini_getoxsrf(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, ngx_log_t *log)
{
    char           *esc;
    u_char         *p;
    ngx_gp_xfer_t  *x;
    u_char          url[1024];

    x = ngx_gp_xfer_create(log, "getoxsrf");
    if (x == NULL) {
        return NULL;
    }

    esc = curl_easy_escape(x->easy, (char *) a->csesidx, 0);
    if (esc == NULL) {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    p = ngx_snprintf(url, sizeof(url) - 1, "%V/auth/getoxsrf?csesidx=%s",
                     &gmcf->auth_url, esc);
    *p = '\0';
    curl_free(esc);

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) url);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long) gmcf->xsrf_timeout);
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_GOOGLE, a->proxy);
    x->max = 64 * 1024;

    if (ngx_gp_xfer_header(x, "accept: */*") != NGX_OK
        || ngx_gp_xfer_header(x, "user-agent: %s",
                              a->user_agent[0] ? (char *) a->user_agent
                                               : "Mozilla/5.0") != NGX_OK
        || ngx_gp_xfer_header(x, "referer: https://business.gemini.google/")
           != NGX_OK
        || (a->host_c_oses[0]
            ? ngx_gp_xfer_header(x, "cookie: __Secure-C_SES=%s; "
                                 "__Host-C_OSES=%s", a->secure_c_ses,
                                 a->host_c_oses)
            : ngx_gp_xfer_header(x, "cookie: __Secure-C_SES=%s",
                                 a->secure_c_ses)) != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    return x;
}


/*
 * A POST to a widget method; takes ownership of body (malloc'ed).
 * timeout 0: no total limit (the caller watches the stream itself).
 */

ngx_gp_xfer_t *
ngx_gp_gemini_widget(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, const char *method, char *body, size_t len,
    ngx_msec_t timeout, ngx_log_t *log)
{
    u_char         *p;
    ngx_gp_xfer_t  *x;
    u_char          url[1024];

    /* only the options below may differ between two widget calls */
    x = ngx_gp_xfer_create_widget(log, method);
    if (x == NULL) {
        free(body);
        return NULL;
    }

    x->body = body;

    p = ngx_snprintf(url, sizeof(url) - 1,
                     "%V/v1alpha/locations/global/%s", &gmcf->api_url,
                     method);
    *p = '\0';

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) url);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_GOOGLE, a->proxy);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t) len);

    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long) timeout);

    if (ngx_gp_xfer_headers_fixed(x, ngx_gp_widget_headers,
                                  "authorization: Bearer ", a->jwt)
        != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    return x;
}


/*
 * The JWT from a finished getoxsrf transfer, malloc'ed; or NULL with a
 * reason in *err and what was wrong in *rc (NGX_GP_XSRF_*: a token that
 * makes no JWT is GARBAGE).
 */

char *
ngx_gp_gemini_jwt_from_xsrf(ngx_gp_xfer_t *x, ngx_gp_account_copy_t *a,
    const char **err, int *rc)
{
    char  *kid, *token, *jwt;

    *rc = ngx_gp_xsrf_parse((char *) x->buf, x->len, &kid, &token, err);

    if (*rc != NGX_GP_XSRF_OK) {
        return NULL;
    }

    jwt = ngx_gp_jwt_build(kid, token, (char *) a->csesidx, ngx_time());

    free(kid);
    free(token);

    if (jwt == NULL) {
        *err = "cannot build a JWT from the getoxsrf answer";
        *rc = NGX_GP_XSRF_GARBAGE;
    }

    return jwt;
}


/*
 * GET <session>:downloadFile?fileId=..&alt=media (spec §9.2), redirects
 * followed; media traffic for the proxy choice.
 */

ngx_gp_xfer_t *
ngx_gp_gemini_download(ngx_http_gemini_pool_main_conf_t *gmcf,
    ngx_gp_account_copy_t *a, const char *session, const char *file_id,
    ngx_log_t *log)
{
    char           *esc;
    u_char         *p;
    ngx_gp_xfer_t  *x;
    u_char          url[2048];

    x = ngx_gp_xfer_create(log, "downloadFile");
    if (x == NULL) {
        return NULL;
    }

    esc = curl_easy_escape(x->easy, file_id, 0);
    if (esc == NULL) {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    p = ngx_snprintf(url, sizeof(url) - 1,
                     "%V/v1alpha/%s:downloadFile?fileId=%s&alt=media",
                     &gmcf->api_url, session, esc);
    *p = '\0';
    curl_free(esc);

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) url);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                     (long) gmcf->download_timeout);
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_IMAGES, a->proxy);

    if (ngx_gp_xfer_header(x, "accept: */*") != NGX_OK
        || ngx_gp_xfer_header(x, "authorization: Bearer %s", a->jwt)
           != NGX_OK
        || ngx_gp_xfer_header(x, "origin: https://business.gemini.google")
           != NGX_OK
        || ngx_gp_xfer_header(x, "referer: https://business.gemini.google/")
           != NGX_OK
        || ngx_gp_xfer_header(x, "user-agent: " NGX_GP_WIDGET_UA) != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    return x;
}
