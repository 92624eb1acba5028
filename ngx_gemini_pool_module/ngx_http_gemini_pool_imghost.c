
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The image host (spec §9.5): an upload is a multipart POST of the file
 * as "file" to <upload_endpoint>?authCode=<upload_api_token>&... (the
 * query the reference sends, ngx_http_gemini_pool_cfbed.c), streamed from
 * the media cache by libcurl on nginx's event loop; the answer is a JSON
 * array whose first item's "src" makes the public URL.  The token is
 * read from the settings for each upload and wiped after use; it is in
 * no log line and no error text.
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_imghost_mask(u_char *text, const u_char *token);


ngx_uint_t
ngx_gp_imghost_on(void)
{
    ngx_uint_t      on;
    ngx_gp_zone_t  *z;
    u_char          buf[NGX_GP_SETTING_VALUE_LEN];

    z = ngx_gp_zone();

    if (z == NULL) {
        return 0;
    }

    ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_ENDPOINT, buf, sizeof(buf));

    if (buf[0] == '\0') {
        return 0;
    }

    ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_API_TOKEN, buf, sizeof(buf));
    on = (buf[0] != '\0');
    ngx_explicit_memzero(buf, sizeof(buf));

    return on;
}


ngx_gp_xfer_t *
ngx_gp_imghost_upload(const char *path, const u_char *data, size_t len,
    const char *name, const char *type, ngx_log_t *log, u_char *err,
    size_t errlen)
{
    size_t           n;
    curl_mimepart   *part;
    ngx_gp_zone_t   *z;
    ngx_gp_xfer_t   *x;
    u_char           endpoint[NGX_GP_SETTING_VALUE_LEN];
    u_char           token[NGX_GP_SETTING_VALUE_LEN];
    char             url[NGX_GP_SETTING_VALUE_LEN * 4 + 256];

    z = ngx_gp_zone();

    if (z == NULL) {
        ngx_cpystrn(err, (u_char *) "no shared zone", errlen);
        return NULL;
    }

    ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_ENDPOINT, endpoint,
                       sizeof(endpoint));
    ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_API_TOKEN, token, sizeof(token));

    if (endpoint[0] == '\0' || token[0] == '\0') {
        ngx_explicit_memzero(token, sizeof(token));
        ngx_cpystrn(err, (u_char *) "upload_endpoint and upload_api_token "
                    "are not both set", errlen);
        return NULL;
    }

    n = ngx_gp_cfbed_upload_url((char *) endpoint, (char *) token, url,
                                sizeof(url));
    ngx_explicit_memzero(token, sizeof(token));

    if (n == 0) {
        ngx_cpystrn(err, (u_char *) "the upload URL is too long", errlen);
        return NULL;
    }

    x = ngx_gp_xfer_create(log, "image host upload");
    if (x == NULL) {
        ngx_explicit_memzero(url, sizeof(url));
        ngx_cpystrn(err, (u_char *) "out of memory", errlen);
        return NULL;
    }

    /* libcurl keeps its own copy */
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    ngx_explicit_memzero(url, sizeof(url));

    x->mime = curl_mime_init(x->easy);
    part = x->mime ? curl_mime_addpart(x->mime) : NULL;

    if (part == NULL
        || curl_mime_name(part, "file") != CURLE_OK
        || (path ? curl_mime_filedata(part, path)
                 : curl_mime_data(part, (const char *) data, len))
           != CURLE_OK
        || curl_mime_filename(part, name) != CURLE_OK
        || curl_mime_type(part, type) != CURLE_OK
        || curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime) != CURLE_OK
        /* no wait for "100 Continue" before the file */
        || ngx_gp_xfer_header(x, "Expect:") != NGX_OK
        || ngx_gp_xfer_header(x, "Accept: application/json") != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        ngx_cpystrn(err, (u_char *) "cannot prepare the upload", errlen);
        return NULL;
    }

    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                     (long) ngx_gp_setting_int(z, NGX_GP_SET_UPLOAD_TIMEOUT)
                     * 1000);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);

    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_IMAGES, NULL);

    x->max = 64 * 1024;

    return x;
}


ngx_int_t
ngx_gp_imghost_result(ngx_gp_xfer_t *x, u_char *url, size_t size,
    u_char *err, size_t errlen)
{
    int             rc;
    u_char         *p;
    json_t         *root, *v;
    const char     *msg;
    ngx_gp_zone_t  *z;
    u_char          base[NGX_GP_SETTING_VALUE_LEN];
    u_char          endpoint[NGX_GP_SETTING_VALUE_LEN];
    u_char          token[NGX_GP_SETTING_VALUE_LEN];
    u_char          reason[256];

    z = ngx_gp_zone();
    url[0] = '\0';
    rc = -1;

    if (x->result != CURLE_OK) {
        p = ngx_snprintf(err, errlen - 1, "%s",
                         ngx_gp_xfer_describe(x, reason, sizeof(reason)));
        *p = '\0';

    } else if (x->status != 200) {
        msg = NULL;
        root = json_loadb((char *) x->buf, x->len, 0, NULL);
        v = json_object_get(root, "error");

        if (json_is_string(v)) {
            msg = json_string_value(v);

        } else if (json_is_string(json_object_get(root, "message"))) {
            msg = json_string_value(json_object_get(root, "message"));
        }

        p = ngx_snprintf(err, errlen - 1, "the image host answered HTTP "
                         "%l%s%*s", x->status, msg ? ": " : "",
                         msg ? ngx_min(ngx_strlen(msg), 120) : 0,
                         msg ? msg : "");
        *p = '\0';
        json_decref(root);

        for (p = err; *p; p++) {
            if (*p < 0x20 || *p > 0x7e) {
                *p = '?';
            }
        }

    } else if (x->overflow) {
        ngx_cpystrn(err, (u_char *) "the image host's answer is too long",
                    errlen);

    } else {
        ngx_gp_setting_str(z, NGX_GP_SET_IMAGE_BASE_URL, base, sizeof(base));
        ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_ENDPOINT, endpoint,
                           sizeof(endpoint));

        rc = ngx_gp_cfbed_answer((char *) x->buf, x->len, (char *) base,
                                 (char *) endpoint, (char *) url, size,
                                 (char *) err, errlen);
    }

    if (rc == 0) {
        return NGX_OK;
    }

    /* a host or a message that repeats the token does not reach a log */
    ngx_gp_setting_str(z, NGX_GP_SET_UPLOAD_API_TOKEN, token, sizeof(token));
    ngx_gp_imghost_mask(err, token);
    ngx_explicit_memzero(token, sizeof(token));

    return NGX_ERROR;
}


static void
ngx_gp_imghost_mask(u_char *text, const u_char *token)
{
    size_t   n;
    u_char  *p;

    n = ngx_strlen(token);

    if (n == 0) {
        return;
    }

    while ((p = (u_char *) ngx_strstr(text, token)) != NULL) {
        ngx_memset(p, '*', n);
    }
}
