
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The image host's wire format, as pure functions (see the header).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_cfbed.h"


/* the parameters the reference sends with every upload (spec §9.5) */
#define NGX_GP_CFBED_PARAMS                                                  \
    "&uploadChannel=telegram&serverCompress=true&autoRetry=true"             \
    "&uploadNameType=default&returnFormat=default"


static int
ngx_gp_cfbed_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


size_t
ngx_gp_cfbed_upload_url(const char *endpoint, const char *token, char *buf,
    size_t size)
{
    char                 *p, *last;
    size_t                n;
    const unsigned char  *t;

    static const char     hex[] = "0123456789ABCDEF";

    n = strlen(endpoint);

    if (n + sizeof("?authCode=") + sizeof(NGX_GP_CFBED_PARAMS) >= size) {
        return 0;
    }

    p = buf;
    last = buf + size - sizeof(NGX_GP_CFBED_PARAMS) - 1;

    memcpy(p, endpoint, n);
    p += n;

    n = strchr(endpoint, '?') ? sizeof("&authCode=") - 1
                              : sizeof("?authCode=") - 1;
    memcpy(p, strchr(endpoint, '?') ? "&authCode=" : "?authCode=", n);
    p += n;

    for (t = (const unsigned char *) token; *t; t++) {
        if (p + 3 > last) {
            return 0;
        }

        if (ngx_gp_cfbed_unreserved(*t)) {
            *p++ = (char) *t;
            continue;
        }

        *p++ = '%';
        *p++ = hex[*t >> 4];
        *p++ = hex[*t & 0x0f];
    }

    memcpy(p, NGX_GP_CFBED_PARAMS, sizeof(NGX_GP_CFBED_PARAMS));
    p += sizeof(NGX_GP_CFBED_PARAMS) - 1;

    return p - buf;
}


/*
 * The characters a link may carry as it is in every delivery format (a
 * Markdown image ends at ")", a URL list at white space): others make
 * the answer refused.
 */

static int
ngx_gp_cfbed_link_char(unsigned char c)
{
    return ngx_gp_cfbed_unreserved(c) || (c != '\0'
                                          && strchr(":/?#@!$&*+,;=%", c));
}


static void
ngx_gp_cfbed_err(char *err, size_t errlen, const char *what,
    const char *detail)
{
    size_t  i;
    char   *p;

    if (detail == NULL) {
        (void) snprintf(err, errlen, "%s", what);
        return;
    }

    (void) snprintf(err, errlen, "%s: %.120s", what, detail);

    /* the host's text in a log line: printable ASCII only */
    for (i = 0, p = err; p[i]; i++) {
        if ((unsigned char) p[i] < 0x20 || (unsigned char) p[i] > 0x7e) {
            p[i] = '?';
        }
    }
}


int
ngx_gp_cfbed_answer(const char *body, size_t len, const char *base,
    const char *endpoint, char *url, size_t size, char *err, size_t errlen)
{
    int          rc;
    size_t       n, blen, slen;
    json_t      *root, *first, *v;
    const char  *src, *msg, *q;

    rc = -1;
    root = json_loadb(body, len, 0, NULL);

    if (root == NULL) {
        ngx_gp_cfbed_err(err, errlen, "the answer is not JSON", NULL);
        return -1;
    }

    if (!json_is_array(root)) {
        msg = NULL;
        v = json_object_get(root, "error");

        if (json_is_string(v)) {
            msg = json_string_value(v);

        } else if (json_is_string(json_object_get(root, "message"))) {
            msg = json_string_value(json_object_get(root, "message"));
        }

        ngx_gp_cfbed_err(err, errlen, "the answer is not a JSON array",
                         msg);
        goto done;
    }

    first = json_array_get(root, 0);
    src = json_string_value(json_object_get(first, "src"));

    if (src == NULL || src[0] == '\0') {
        ngx_gp_cfbed_err(err, errlen, "the answer has no \"src\"", NULL);
        goto done;
    }

    slen = strlen(src);

    for (n = 0; n < slen; n++) {
        if (!ngx_gp_cfbed_link_char((unsigned char) src[n])) {
            ngx_gp_cfbed_err(err, errlen, "the answer's \"src\" has "
                             "characters a link cannot carry", NULL);
            goto done;
        }
    }

    if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0)
    {
        if (slen >= size) {
            ngx_gp_cfbed_err(err, errlen, "the answer's \"src\" is too long",
                             NULL);
            goto done;
        }

        memcpy(url, src, slen + 1);
        rc = 0;
        goto done;
    }

    /* the base: image_base_url, else the endpoint without "/upload" */

    if (base && base[0]) {
        blen = strlen(base);

    } else {
        base = endpoint;
        q = strpbrk(endpoint, "?#");
        blen = q ? (size_t) (q - endpoint) : strlen(endpoint);

        while (blen && base[blen - 1] == '/') {
            blen--;
        }

        if (blen >= 7 && strncmp(base + blen - 7, "/upload", 7) == 0) {
            blen -= 7;
        }
    }

    while (blen && base[blen - 1] == '/') {
        blen--;
    }

    if (blen + 1 + slen >= size) {
        ngx_gp_cfbed_err(err, errlen, "the answer's \"src\" is too long",
                         NULL);
        goto done;
    }

    memcpy(url, base, blen);
    n = blen;

    if (src[0] != '/') {
        url[n++] = '/';
    }

    memcpy(url + n, src, slen + 1);
    rc = 0;

done:

    json_decref(root);

    return rc;
}
