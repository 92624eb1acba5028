
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Input media, as pure functions (see the header).
 */


#include <string.h>

#include "ngx_http_gemini_pool_input.h"
#include "ngx_http_gemini_pool_text.h"


typedef struct {
    unsigned char    net[4];
    int              bits;
    const char      *why;
} ngx_gp_net4_t;


/* first match wins: the metadata address before its link-local net */

static const ngx_gp_net4_t  ngx_gp_refused4[] = {
    { { 169, 254, 169, 254 }, 32, "metadata" },
    { { 0, 0, 0, 0 }, 8, "unspecified" },
    { { 10, 0, 0, 0 }, 8, "private" },
    { { 100, 64, 0, 0 }, 10, "carrier-grade NAT" },
    { { 127, 0, 0, 0 }, 8, "loopback" },
    { { 169, 254, 0, 0 }, 16, "link-local" },
    { { 172, 16, 0, 0 }, 12, "private" },
    { { 192, 0, 0, 0 }, 24, "reserved" },
    { { 192, 0, 2, 0 }, 24, "documentation" },
    { { 192, 88, 99, 0 }, 24, "reserved" },
    { { 192, 168, 0, 0 }, 16, "private" },
    { { 198, 18, 0, 0 }, 15, "benchmarking" },
    { { 198, 51, 100, 0 }, 24, "documentation" },
    { { 203, 0, 113, 0 }, 24, "documentation" },
    { { 224, 0, 0, 0 }, 4, "multicast" },
    { { 240, 0, 0, 0 }, 4, "reserved" },
    { { 0, 0, 0, 0 }, 0, NULL }
};


static int
ngx_gp_prefix_match(const unsigned char *a, const unsigned char *net,
    int bits)
{
    int  n, rest;

    n = bits / 8;
    rest = bits % 8;

    if (n && memcmp(a, net, (size_t) n) != 0) {
        return 0;
    }

    if (rest) {
        unsigned char  mask = (unsigned char) (0xff << (8 - rest));

        if ((a[n] & mask) != (net[n] & mask)) {
            return 0;
        }
    }

    return 1;
}


const char *
ngx_gp_addr_refused(int family, const unsigned char *a)
{
    int                   i, zero;
    const ngx_gp_net4_t  *n;

    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    static const unsigned char  nat64[12] = {
        0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
    };
    static const unsigned char  ec2[16] = {
        0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54
    };
    static const unsigned char  doc6[4] = { 0x20, 0x01, 0x0d, 0xb8 };
    static const unsigned char  discard6[8] = { 0x01, 0, 0, 0, 0, 0, 0, 0 };

    if (family == 4) {
        for (n = ngx_gp_refused4; n->why; n++) {
            if (ngx_gp_prefix_match(a, n->net, n->bits)) {
                return n->why;
            }
        }

        return NULL;
    }

    if (family != 6) {
        return "unspecified";
    }

    for (zero = 1, i = 0; i < 15; i++) {
        if (a[i]) {
            zero = 0;
            break;
        }
    }

    if (zero && a[15] == 0) {
        return "unspecified";
    }

    if (zero && a[15] == 1) {
        return "loopback";
    }

    /* ::a.b.c.d, ::ffff:a.b.c.d and 64:ff9b::a.b.c.d carry IPv4 */

    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0
        || (memcmp(a, mapped, 10) == 0 && a[10] == 0 && a[11] == 0))
    {
        return ngx_gp_addr_refused(4, a + 12);
    }

    /* 6to4: 2002:a.b.c.d::/48 */
    if (a[0] == 0x20 && a[1] == 0x02) {
        return ngx_gp_addr_refused(4, a + 2);
    }

    if (memcmp(a, ec2, 16) == 0) {
        return "metadata";
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return "link-local";
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
        return "private";               /* site-local, deprecated */
    }

    if ((a[0] & 0xfe) == 0xfc) {
        return "unique local";
    }

    if (a[0] == 0xff) {
        return "multicast";
    }

    if (memcmp(a, doc6, 4) == 0) {
        return "documentation";
    }

    if (memcmp(a, discard6, 8) == 0) {
        return "reserved";
    }

    return NULL;
}


/* multipart/form-data */

/*
 * A parameter of a header value: name="value" or name=value; the value
 * is returned without quotes (backslash escapes are kept as they are).
 */

static int
ngx_gp_param(const char *p, size_t len, const char *name, const char **v,
    size_t *vlen)
{
    size_t       n;
    const char  *end, *s;

    n = strlen(name);
    end = p + len;

    while (p < end) {
        /* the next ';'-separated parameter, outside quotes */
        while (p < end && *p != ';') {
            if (*p == '"') {
                for (p++; p < end && *p != '"'; p++) {
                    if (*p == '\\' && p + 1 < end) {
                        p++;
                    }
                }
            }

            if (p < end) {
                p++;
            }
        }

        if (p == end) {
            return 0;
        }

        p++;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((size_t) (end - p) <= n || !ngx_gp_prefix_ci(p, end - p, name)
            || p[n] != '=')
        {
            continue;
        }

        p += n + 1;

        if (p < end && *p == '"') {
            s = ++p;

            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end) {
                    p++;
                }

                p++;
            }

            *v = s;
            *vlen = (size_t) (p - s);
            return 1;
        }

        s = p;

        while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }

        *v = s;
        *vlen = (size_t) (p - s);
        return 1;
    }

    return 0;
}


int
ngx_gp_multipart_parse(const char *ctype, size_t ctype_len,
    const char *body, size_t len, ngx_gp_mpart_t *parts, size_t max,
    size_t *n, const char **err)
{
    size_t           blen, dlen, hlen, vlen;
    const char      *b, *p, *end, *next, *hend, *line, *eol, *v;
    ngx_gp_mpart_t  *part;
    char             delim[80];

    *n = 0;

    if (!ngx_gp_prefix_ci(ctype, ctype_len, "multipart/form-data")) {
        *err = "the body is not multipart/form-data";
        return -1;
    }

    if (!ngx_gp_param(ctype, ctype_len, "boundary", &b, &blen)
        || blen == 0 || blen > 70)
    {
        *err = "the Content-Type has no usable boundary";
        return -1;
    }

    /* "\r\n--" boundary: the first delimiter may start the body */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, b, blen);
    dlen = blen + 4;

    end = body + len;

    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;

    } else {
        p = ngx_gp_mem_find(body, len, delim, dlen);

        if (p == NULL) {
            *err = "the body has no boundary";
            return -1;
        }

        p += dlen;
    }

    for ( ;; ) {
        /* after a delimiter: "--" ends the body, else CRLF and a part */

        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            return 0;
        }

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            *err = "a boundary line is malformed";
            return -1;
        }

        p += 2;

        hend = ngx_gp_mem_find(p, (size_t) (end - p), "\r\n\r\n", 4);

        if (hend == NULL && end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p - 2;           /* a part without headers */
        }

        if (hend == NULL) {
            *err = "a part's headers do not end";
            return -1;
        }

        next = ngx_gp_mem_find(hend + 4, (size_t) (end - hend - 4), delim,
                               dlen);

        if (next == NULL) {
            *err = "the body ends without its closing boundary";
            return -1;
        }

        if (*n == max) {
            *err = "too many parts";
            return -1;
        }

        part = &parts[(*n)++];
        memset(part, 0, sizeof(ngx_gp_mpart_t));
        part->data = hend + 4;
        part->len = (size_t) (next - part->data);

        for (line = p; line < hend; line = eol + 2) {
            eol = ngx_gp_mem_find(line, (size_t) (hend + 2 - line), "\r\n",
                                  2);

            if (eol == NULL) {
                break;
            }

            hlen = (size_t) (eol - line);

            if (ngx_gp_prefix_ci(line, hlen, "content-disposition:")) {
                if (ngx_gp_param(line, hlen, "name", &v, &vlen)) {
                    part->name = v;
                    part->name_len = vlen;
                }

                if (ngx_gp_param(line, hlen, "filename", &v, &vlen)) {
                    part->filename = v;
                    part->filename_len = vlen;
                }

            } else if (ngx_gp_prefix_ci(line, hlen, "content-type:")) {
                v = line + sizeof("content-type:") - 1;

                while (v < eol && (*v == ' ' || *v == '\t')) {
                    v++;
                }

                part->type = v;
                part->type_len = (size_t) (eol - v);
            }
        }

        if (part->name == NULL) {
            *err = "a part has no Content-Disposition name";
            return -1;
        }

        p = next + dlen;
    }
}


const ngx_gp_mpart_t *
ngx_gp_multipart_get(const ngx_gp_mpart_t *parts, size_t n,
    const char *name)
{
    size_t  i, len;

    len = strlen(name);

    for (i = 0; i < n; i++) {
        if (parts[i].name_len == len
            && memcmp(parts[i].name, name, len) == 0)
        {
            return &parts[i];
        }
    }

    return NULL;
}


/* media types */

const char *
ngx_gp_mime_sniff(const unsigned char *p, size_t len)
{
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        return "image/png";
    }

    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return "image/jpeg";
    }

    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0
                     || memcmp(p, "GIF89a", 6) == 0))
    {
        return "image/gif";
    }

    if (len >= 12 && memcmp(p, "RIFF", 4) == 0
        && memcmp(p + 8, "WEBP", 4) == 0)
    {
        return "image/webp";
    }

    if (len >= 5 && memcmp(p, "%PDF-", 5) == 0) {
        return "application/pdf";
    }

    if (len >= 12 && memcmp(p + 4, "ftyp", 4) == 0
        && (memcmp(p + 8, "heic", 4) == 0 || memcmp(p + 8, "heix", 4) == 0
            || memcmp(p + 8, "mif1", 4) == 0))
    {
        return memcmp(p + 8, "mif1", 4) == 0 ? "image/heif" : "image/heic";
    }

    return NULL;
}


const char *
ngx_gp_mime_ext(const char *mime)
{
    static const char  *map[] = {
        "image/png", "png",
        "image/jpeg", "jpg",
        "image/jpg", "jpg",
        "image/gif", "gif",
        "image/webp", "webp",
        "image/heic", "heic",
        "image/heif", "heif",
        "application/pdf", "pdf",
        "text/plain", "txt",
        NULL
    };

    const char  **m;

    for (m = map; *m; m += 2) {
        if (strcmp(mime, m[0]) == 0) {
            return m[1];
        }
    }

    return "bin";
}


size_t
ngx_gp_mime_bare(const char *ctype, size_t len, char *buf, size_t size)
{
    size_t   i, slash;
    char     c;

    while (len && (*ctype == ' ' || *ctype == '\t')) {
        ctype++;
        len--;
    }

    slash = 0;

    for (i = 0; i < len && ctype[i] != ';' && ctype[i] != ' '
                && ctype[i] != '\t'; i++)
    {
        c = ctype[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (c == '/') {
            if (slash || i == 0) {
                return 0;
            }

            slash = i;

        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || strchr("+-.!#$&^_", c) != NULL) || c == '\0')
        {
            return 0;
        }

        if (i + 1 >= size) {
            return 0;
        }

        buf[i] = c;
    }

    if (slash == 0 || slash + 1 == i) {
        return 0;
    }

    buf[i] = '\0';

    return i;
}
