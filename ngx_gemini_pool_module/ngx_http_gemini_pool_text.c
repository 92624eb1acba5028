
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Text helpers of the pure parts (see the header).
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_gemini_pool_text.h"


static const char  b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int b64_value(unsigned char c);


/* UTF-8 */

size_t
ngx_gp_utf8_cut(const char *p, size_t len, size_t max)
{
    size_t                i, k;
    const unsigned char  *s;

    if (len <= max) {
        return len;
    }

    s = (const unsigned char *) p;

    /* the last character's lead byte is at most 3 bytes back */

    for (k = 0; k < 4 && k < max; k++) {
        i = max - 1 - k;

        if ((s[i] & 0xc0) != 0x80) {
            if (s[i] >= 0xc0 && ngx_gp_utf8_seq(&s[i], max - i) == 0) {
                return i;
            }

            break;
        }
    }

    return max;
}


char *
ngx_gp_utf8_sanitize(const char *p, size_t len, size_t *out_len)
{
    char                 *out, *o;
    size_t                n;
    const unsigned char  *s, *end;

    if (len > (SIZE_MAX - 1) / 3) {
        return NULL;
    }

    out = malloc(len * 3 + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;
    s = (const unsigned char *) p;
    end = s + len;

    while (s < end) {
        n = (*s == '\0') ? 0 : ngx_gp_utf8_seq(s, (size_t) (end - s));

        if (n == 0) {
            *o++ = (char) 0xef;
            *o++ = (char) 0xbf;
            *o++ = (char) 0xbd;
            s++;
            continue;
        }

        memcpy(o, s, n);
        o += n;
        s += n;
    }

    *o = '\0';

    if (out_len) {
        *out_len = (size_t) (o - out);
    }

    return out;
}


/* memory */

char *
ngx_gp_mem_dup(const char *p, size_t len)
{
    char  *s;

    if (len == SIZE_MAX) {
        return NULL;
    }

    s = malloc(len + 1);
    if (s == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(s, p, len);
    }

    s[len] = '\0';

    return s;
}


char *
ngx_gp_str_dup(const char *s)
{
    return s ? ngx_gp_mem_dup(s, strlen(s)) : NULL;
}


const char *
ngx_gp_mem_find(const char *p, size_t len, const char *s, size_t n)
{
    const char  *end;

    if (n == 0 || n > len) {
        return NULL;
    }

    end = p + len - n;

    for ( /* void */ ; p <= end; p++) {
        p = memchr(p, s[0], (size_t) (end - p) + 1);

        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }

    return NULL;
}


int
ngx_gp_prefix_ci(const char *p, size_t len, const char *prefix)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; prefix[i]; i++) {
        if (i >= len) {
            return 0;
        }

        c = (unsigned char) p[i];

        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char) (c - 'A' + 'a');
        }

        if (c != (unsigned char) prefix[i]) {
            return 0;
        }
    }

    return 1;
}


/* base64 */

size_t
ngx_gp_base64_len(size_t len, int url)
{
    if (url) {
        return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    }

    return (len + 2) / 3 * 4;
}


size_t
ngx_gp_base64_encode_to(const unsigned char *p, size_t len, int url,
    char *out)
{
    char         *o;
    size_t        i, rest;
    uint32_t      v;
    const char   *alphabet;

    alphabet = url ? b64_url : b64_std;
    o = out;

    for (i = 0; i + 2 < len; i += 3) {
        v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8) | p[i + 2];

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];
        *o++ = alphabet[(v >> 6) & 0x3f];
        *o++ = alphabet[v & 0x3f];
    }

    rest = len - i;

    if (rest == 1) {
        v = (uint32_t) p[i] << 16;

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];

        if (!url) {
            *o++ = '=';
            *o++ = '=';
        }

    } else if (rest == 2) {
        v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8);

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];
        *o++ = alphabet[(v >> 6) & 0x3f];

        if (!url) {
            *o++ = '=';
        }
    }

    *o = '\0';

    return (size_t) (o - out);
}


char *
ngx_gp_base64_encode(const unsigned char *p, size_t len, int url,
    size_t *out_len)
{
    char    *out;
    size_t   n;

    if (len > (SIZE_MAX - 8) / 4 * 3) {
        return NULL;
    }

    out = malloc(ngx_gp_base64_len(len, url) + 1);
    if (out == NULL) {
        return NULL;
    }

    n = ngx_gp_base64_encode_to(p, len, url, out);

    if (out_len) {
        *out_len = n;
    }

    return out;
}


unsigned char *
ngx_gp_base64_decode_any(const char *p, size_t len, size_t *out_len)
{
    int             v, pad;
    size_t          i, n, o;
    uint32_t        acc;
    unsigned char  *out, c;

    if (len > SIZE_MAX - 4) {
        return NULL;
    }

    out = malloc(len / 4 * 3 + 4);
    if (out == NULL) {
        return NULL;
    }

    acc = 0;
    n = 0;
    o = 0;
    pad = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) p[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }

        if (c == '=') {
            pad++;
            continue;
        }

        v = b64_value(c);

        if (v < 0 || pad) {
            /* a foreign byte, or data after the padding */
            goto invalid;
        }

        acc = (acc << 6) | (uint32_t) v;
        n++;

        if (n % 4 == 0) {
            out[o++] = (unsigned char) (acc >> 16);
            out[o++] = (unsigned char) (acc >> 8);
            out[o++] = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (n % 4) {

    case 1:
        goto invalid;

    case 2:
        out[o++] = (unsigned char) (acc >> 4);
        break;

    case 3:
        out[o++] = (unsigned char) (acc >> 10);
        out[o++] = (unsigned char) (acc >> 2);
        break;
    }

    /*
     * like Python's decoder after re-padding: partial padding is fine,
     * padding where nothing is missing is not
     */

    if (pad > 2 || (pad && n % 4 == 0)) {
        goto invalid;
    }

    out[o] = '\0';

    if (out_len) {
        *out_len = o;
    }

    return out;

invalid:

    free(out);

    return NULL;
}


int
ngx_gp_base64_decode_strict(const char *p, size_t len, int any,
    unsigned char *out, size_t *out_len)
{
    int       v;
    size_t    i, o, pad;
    uint32_t  acc;

    pad = 0;

    if (any && len % 4 == 0) {
        while (pad < 2 && len > pad && p[len - pad - 1] == '=') {
            pad++;
        }
    }

    len -= pad;

    if (len % 4 == 1 || (pad && len % 4 != 4 - pad)) {
        return -1;
    }

    acc = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        v = b64_value((unsigned char) p[i]);

        if (v < 0 || (!any && (p[i] == '+' || p[i] == '/'))) {
            return -1;
        }

        acc = acc << 6 | (uint32_t) v;

        if (i % 4 == 3) {
            out[o++] = (unsigned char) (acc >> 16);
            out[o++] = (unsigned char) (acc >> 8);
            out[o++] = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (len % 4) {

    case 2:
        if (acc & 0x0f) {
            return -1;
        }

        out[o++] = (unsigned char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return -1;
        }

        out[o++] = (unsigned char) (acc >> 10);
        out[o++] = (unsigned char) (acc >> 2);
        break;
    }

    *out_len = o;

    return 0;
}


/* both alphabets */

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+' || c == '-') {
        return 62;
    }

    if (c == '/' || c == '_') {
        return 63;
    }

    return -1;
}


/* the buffer and its JSON writers */

void
ngx_gp_buf_reserve(ngx_gp_buf_t *b, size_t n)
{
    char    *np;
    size_t   cap;

    if (b->failed || (b->p != NULL && n < b->cap - b->len)) {
        return;
    }

    if (n > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return;
    }

    cap = b->cap ? b->cap : 256;

    while (cap <= b->len + n) {
        cap *= 2;
    }

    if (b->ext) {
        /* the caller's storage is too small: the text moves out */
        np = malloc(cap);
        if (np != NULL) {
            memcpy(np, b->p, b->len);
            b->ext = 0;
        }

    } else {
        np = realloc(b->p, cap);
    }

    if (np == NULL) {
        b->failed = 1;
        return;
    }

    b->p = np;
    b->cap = cap;
}


void
ngx_gp_buf_str(ngx_gp_buf_t *b, const char *p, size_t n)
{
    char                  esc[8];
    size_t                k;
    const unsigned char  *s, *end, *run;

    static const char  hex[] = "0123456789abcdef";

    if (p == NULL) {
        ngx_gp_buf_lit(b, "null");
        return;
    }

    ngx_gp_buf_add(b, "\"", 1);

    /* room for the usual case in one go */

    if (n < SIZE_MAX / 4) {
        ngx_gp_buf_reserve(b, n + n / 8 + 2);
    }

    s = (const unsigned char *) p;
    end = s + n;

    while (s < end) {
        run = s;

        while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
        {
            s++;
        }

        if (s > run) {
            ngx_gp_buf_add(b, (const char *) run, (size_t) (s - run));
        }

        if (s == end) {
            break;
        }

        if (*s >= 0x80) {
            k = ngx_gp_utf8_seq(s, (size_t) (end - s));

            if (k == 0) {
                ngx_gp_buf_lit(b, "\xef\xbf\xbd");
                s++;

            } else {
                ngx_gp_buf_add(b, (const char *) s, k);
                s += k;
            }

            continue;
        }

        esc[0] = '\\';

        switch (*s) {

        case '"':
        case '\\':
            esc[1] = (char) *s;
            k = 2;
            break;

        case '\n':
            esc[1] = 'n';
            k = 2;
            break;

        case '\r':
            esc[1] = 'r';
            k = 2;
            break;

        case '\t':
            esc[1] = 't';
            k = 2;
            break;

        case '\b':
            esc[1] = 'b';
            k = 2;
            break;

        case '\f':
            esc[1] = 'f';
            k = 2;
            break;

        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 0xf];
            k = 6;
            break;
        }

        ngx_gp_buf_add(b, esc, k);
        s++;
    }

    ngx_gp_buf_add(b, "\"", 1);
}


void
ngx_gp_buf_cstr(ngx_gp_buf_t *b, const char *s)
{
    ngx_gp_buf_str(b, s, s ? strlen(s) : 0);
}


void
ngx_gp_buf_int(ngx_gp_buf_t *b, int64_t v)
{
    uint64_t  u;

    if (v < 0) {
        ngx_gp_buf_lit(b, "-");
        u = (uint64_t) 0 - (uint64_t) v;

    } else {
        u = (uint64_t) v;
    }

    ngx_gp_buf_uint(b, u);
}


void
ngx_gp_buf_uint(ngx_gp_buf_t *b, uint64_t v)
{
    char   tmp[24], *p;

    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    ngx_gp_buf_add(b, p, (size_t) (tmp + sizeof(tmp) - p));
}


char *
ngx_gp_buf_finish(ngx_gp_buf_t *b, size_t *len)
{
    char  *p;

    ngx_gp_buf_add(b, "", 0);

    if (b->failed) {
        if (!b->ext) {
            free(b->p);
        }

        memset(b, 0, sizeof(ngx_gp_buf_t));
        return NULL;
    }

    p = b->p;
    p[b->len] = '\0';

    if (len) {
        *len = b->len;
    }

    memset(b, 0, sizeof(ngx_gp_buf_t));

    return p;
}


size_t
ngx_gp_url_escape(char *dst, size_t size, const char *s)
{
    size_t          n;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    if (size == 0) {
        return 0;
    }

    for (n = 0; *s; s++) {
        c = (unsigned char) *s;

        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
            || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            if (n + 1 >= size) {
                break;
            }

            dst[n++] = (char) c;
            continue;
        }

        if (n + 3 >= size) {
            break;
        }

        dst[n++] = '%';
        dst[n++] = hex[c >> 4];
        dst[n++] = hex[c & 0xf];
    }

    dst[n] = '\0';

    return n;
}
