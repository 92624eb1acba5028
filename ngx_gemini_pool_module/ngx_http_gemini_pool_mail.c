
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The temp-mail worker's data, as pure functions (see the header).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_mail.h"
#include "ngx_http_gemini_pool_text.h"


#define NGX_GP_MAIL_MIME_DEPTH  5


typedef struct {
    const char    *body;
    size_t         len;
    int            html;
    int            cte;      /* 0 none/7bit/8bit, 1 qp, 2 base64 */
} ngx_gp_mime_part_t;


static int ngx_gp_mail_alnum(unsigned char c);
static int ngx_gp_mail_hex(unsigned char c);
static char *ngx_gp_mail_param(const char *url, const char *name);
static size_t ngx_gp_mail_url_decode(char *p, size_t len, int plus);
static int ngx_gp_mail_base_of(const char *url, char **base);
static void ngx_gp_mail_object(json_t *o, ngx_gp_mail_t *m);
static char *ngx_gp_mail_object_text(json_t *o);
static const char *ngx_gp_mail_header(const char *h, size_t hlen,
    const char *name, size_t *vlen);
static int ngx_gp_mime_pick(const char *p, size_t len, int depth,
    ngx_gp_mime_part_t *out);
static size_t ngx_gp_mail_qp_decode(char *p, size_t len);
static size_t ngx_gp_mail_strip_tags(char *p, size_t len);
static size_t ngx_gp_mail_entities(char *p, size_t len);
static size_t ngx_gp_mail_spaces(char *p, size_t len);
static const char *ngx_gp_mail_find_ci(const char *p, size_t len,
    const char *s);
static int ngx_gp_mail_code_at(const char *p, size_t len, int skip,
    char *code);


static const char  *ngx_gp_mail_phrases[] = {
    "\xe4\xb8\x80\xe6\xac\xa1\xe6\x80\xa7\xe9\xaa\x8c\xe8\xaf\x81"
    "\xe7\xa0\x81\xe4\xb8\xba",                   /* 一次性验证码为 */
    "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8\xba",  /* 验证码为 */
    "\xe6\x82\xa8\xe7\x9a\x84\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81"
    "\xe6\x98\xaf",                               /* 您的验证码是 */
    "\xe4\xb8\x80\xe6\xac\xa1\xe6\x80\xa7\xe9\xaa\x8c\xe8\xaf\x81"
    "\xe4\xb8\xba",                               /* 一次性验证为 */
    "\xe9\xaa\x8c\xe8\xaf\x81\xe4\xb8\xba",       /* 验证为 */
    "your one-time verification code is",
    "one-time verification code is",
    "verification code is",
    NULL
};


/* fallbacks: the code right after these, separated by a colon */

static const char  *ngx_gp_mail_fallbacks[] = {
    "code is",
    "code",
    "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81",       /* 验证码 */
    NULL
};


/* tags that sit inside a word: removed without a space */

static const char  *ngx_gp_mail_inline_tags[] = {
    "span", "b", "strong", "i", "em", "a", "font", "u", "small", "big",
    "sup", "sub", "code", "mark", "s", "tt", NULL
};


int
ngx_gp_mailbox_parse(const char *url, const char *worker_url,
    ngx_gp_mailbox_t *mb, char *err, size_t errlen)
{
    int             rc;
    char           *dot, *dot2;
    size_t          plen;
    json_t         *root, *addr;
    unsigned char  *payload;

    memset(mb, 0, sizeof(ngx_gp_mailbox_t));

    if (url == NULL || *url == '\0') {
        snprintf(err, errlen, "the mailbox URL is empty");
        return -1;
    }

    if (!ngx_gp_prefix_ci(url, strlen(url), "http://")
        && !ngx_gp_prefix_ci(url, strlen(url), "https://"))
    {
        snprintf(err, errlen, "the mailbox URL is not an http(s) URL");
        return -1;
    }

    mb->jwt = ngx_gp_mail_param(url, "jwt");

    if (mb->jwt == NULL || mb->jwt[0] == '\0') {
        snprintf(err, errlen, "the mailbox URL has no jwt parameter");
        goto failed;
    }

    dot = strchr(mb->jwt, '.');
    dot2 = dot ? strchr(dot + 1, '.') : NULL;

    if (dot == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL) {
        snprintf(err, errlen, "the mailbox jwt is not a JWT");
        goto failed;
    }

    payload = ngx_gp_base64_decode_any(dot + 1, dot2 - dot - 1, &plen);

    if (payload == NULL) {
        snprintf(err, errlen, "the mailbox jwt's payload is not base64url");
        goto failed;
    }

    root = json_loadb((const char *) payload, plen, 0, NULL);
    free(payload);

    addr = json_is_object(root) ? json_object_get(root, "address") : NULL;

    if (!json_is_string(addr) || strchr(json_string_value(addr), '@') == NULL)
    {
        json_decref(root);
        snprintf(err, errlen, "the mailbox jwt's payload has no address");
        goto failed;
    }

    mb->address = ngx_gp_str_dup(json_string_value(addr));
    json_decref(root);

    if (mb->address == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    if (worker_url != NULL && *worker_url != '\0') {
        if (!ngx_gp_prefix_ci(worker_url, strlen(worker_url), "http://")
            && !ngx_gp_prefix_ci(worker_url, strlen(worker_url), "https://"))
        {
            snprintf(err, errlen, "tempmail_worker_url is not an http(s) URL");
            goto failed;
        }

        mb->base = ngx_gp_str_dup(worker_url);

        if (mb->base != NULL) {
            plen = strlen(mb->base);

            while (plen > 0 && mb->base[plen - 1] == '/') {
                mb->base[--plen] = '\0';
            }
        }

        rc = (mb->base == NULL) ? -1 : 0;

    } else {
        rc = ngx_gp_mail_base_of(url, &mb->base);
    }

    if (rc != 0) {
        snprintf(err, errlen, "the mailbox URL has no host");
        goto failed;
    }

    return 0;

failed:

    ngx_gp_mailbox_free(mb);

    return -1;
}


void
ngx_gp_mailbox_free(ngx_gp_mailbox_t *mb)
{
    free(mb->jwt);
    free(mb->address);
    free(mb->base);
    memset(mb, 0, sizeof(ngx_gp_mailbox_t));
}


/* the value of a query (or fragment) parameter, URL-decoded */

static char *
ngx_gp_mail_param(const char *url, const char *name)
{
    char        *v;
    size_t       nlen, vlen;
    const char  *p, *e;

    nlen = strlen(name);
    p = strpbrk(url, "?#");

    while (p != NULL && *p != '\0') {
        p++;
        e = p + strcspn(p, "&?#");

        if ((size_t) (e - p) > nlen && memcmp(p, name, nlen) == 0
            && p[nlen] == '=')
        {
            vlen = e - p - nlen - 1;
            v = ngx_gp_mem_dup(p + nlen + 1, vlen);

            if (v == NULL) {
                return NULL;
            }

            v[ngx_gp_mail_url_decode(v, vlen, 1)] = '\0';

            return v;
        }

        p = (*e == '\0') ? NULL : e;
    }

    return NULL;
}


static int
ngx_gp_mail_base_of(const char *url, char **base)
{
    size_t       n;
    const char  *host;

    host = strstr(url, "://") + 3;
    n = strcspn(host, "/?#");

    if (n == 0) {
        return -1;
    }

    *base = ngx_gp_mem_dup(url, host - url + n);

    return *base ? 0 : -1;
}


static int
ngx_gp_mail_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
ngx_gp_mail_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
           || (c >= 'a' && c <= 'z');
}


/* %XX in place (and '+' as a space with plus set); the new length */

static size_t
ngx_gp_mail_url_decode(char *p, size_t len, int plus)
{
    int     h, l;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++) {
        if (p[i] == '%' && i + 2 < len
            && (h = ngx_gp_mail_hex(p[i + 1])) >= 0
            && (l = ngx_gp_mail_hex(p[i + 2])) >= 0)
        {
            p[o++] = (char) (h << 4 | l);
            i += 2;
            continue;
        }

        p[o++] = (plus && p[i] == '+') ? ' ' : p[i];
    }

    return o;
}


/* list and detail answers */

int
ngx_gp_mail_list_parse(const char *body, size_t len,
    ngx_gp_mail_list_t *list, const char **reason)
{
    size_t        i, n;
    json_t       *root, *arr, *item;
    const char  **k;

    static const char  *keys[] = { "results", "mails", "data", "result",
                                   NULL };

    memset(list, 0, sizeof(ngx_gp_mail_list_t));
    *reason = NULL;

    for (i = 0; i < len && (body[i] == ' ' || body[i] == '\t'
                            || body[i] == '\r' || body[i] == '\n'); i++)
    {
        /* void */
    }

    if (i < len && body[i] == '<') {
        *reason = "the answer is an HTML page (the frontend, not the "
                  "worker API?)";
        return 0;
    }

    root = json_loadb(body, len, 0, NULL);

    if (root == NULL) {
        *reason = "the answer is not JSON";
        return 0;
    }

    arr = NULL;

    if (json_is_array(root)) {
        arr = root;

    } else if (json_is_object(root)) {
        for (k = keys; *k; k++) {
            arr = json_object_get(root, *k);

            if (json_is_array(arr)) {
                break;
            }

            arr = NULL;
        }
    }

    if (arr == NULL) {
        json_decref(root);
        *reason = "the answer is JSON of an unknown shape";
        return 0;
    }

    n = json_array_size(arr);

    if (n) {
        list->mails = calloc(n, sizeof(ngx_gp_mail_t));

        if (list->mails == NULL) {
            json_decref(root);
            return -1;
        }
    }

    json_array_foreach(arr, i, item) {
        ngx_gp_mail_object(item, &list->mails[list->n]);

        if (list->mails[list->n].id <= 0) {
            continue;
        }

        if (list->mails[list->n].subject == NULL) {
            ngx_gp_mail_free(&list->mails[list->n]);
            json_decref(root);
            ngx_gp_mail_list_free(list);
            return -1;
        }

        if (list->mails[list->n].id > list->newest) {
            list->newest = list->mails[list->n].id;
        }

        list->n++;
    }

    json_decref(root);

    return 0;
}


void
ngx_gp_mail_list_free(ngx_gp_mail_list_t *list)
{
    size_t  i;

    for (i = 0; i < list->n; i++) {
        ngx_gp_mail_free(&list->mails[i]);
    }

    free(list->mails);
    memset(list, 0, sizeof(ngx_gp_mail_list_t));
}


int
ngx_gp_mail_detail_parse(const char *body, size_t len, ngx_gp_mail_t *m,
    const char **reason)
{
    json_t  *root, *o;

    memset(m, 0, sizeof(ngx_gp_mail_t));

    if (len && body[0] == '<') {
        *reason = "the answer is an HTML page";
        return -1;
    }

    root = json_loadb(body, len, 0, NULL);

    if (!json_is_object(root)) {
        json_decref(root);
        *reason = "the answer is not a JSON object";
        return -1;
    }

    o = root;

    if (json_object_get(o, "id") == NULL) {
        o = json_object_get(root, "result");

        if (!json_is_object(o)) {
            o = json_object_get(root, "data");
        }
    }

    ngx_gp_mail_object(o, m);
    json_decref(root);

    if (m->id <= 0) {
        *reason = "the answer has no mail id";
        ngx_gp_mail_free(m);
        return -1;
    }

    if (m->subject == NULL) {
        *reason = "out of memory";
        ngx_gp_mail_free(m);
        return -1;
    }

    return 0;
}


void
ngx_gp_mail_free(ngx_gp_mail_t *m)
{
    free(m->subject);
    free(m->text);
    memset(m, 0, sizeof(ngx_gp_mail_t));
}


/* id, subject and text of a mail object; id 0 when it has no id */

static void
ngx_gp_mail_object(json_t *o, ngx_gp_mail_t *m)
{
    char        *end;
    json_t      *v;
    long long    id;
    const char  *s;

    memset(m, 0, sizeof(ngx_gp_mail_t));

    if (!json_is_object(o)) {
        return;
    }

    v = json_object_get(o, "id");
    id = 0;

    if (json_is_integer(v)) {
        id = json_integer_value(v);

    } else if (json_is_string(v)) {
        s = json_string_value(v);

        if (*s >= '0' && *s <= '9') {
            id = strtoll(s, &end, 10);

            if (*end != '\0') {
                id = 0;
            }
        }
    }

    if (id <= 0) {
        return;
    }

    m->id = id;

    v = json_object_get(o, "subject");
    m->subject = ngx_gp_str_dup(json_is_string(v) ? json_string_value(v) : "");
    m->text = ngx_gp_mail_object_text(o);
}


/*
 * spec 13.4's order: "text", then "raw", then "html", "content", "body";
 * NULL when none gives any text (the caller then asks the detail API)
 */

static char *
ngx_gp_mail_object_text(json_t *o)
{
    char         *t;
    json_t       *v;
    const char  **k;

    static const char  *html_keys[] = { "html", "content", "body", NULL };

    t = NULL;
    v = json_object_get(o, "text");

    if (json_is_string(v) && json_string_length(v)) {
        t = ngx_gp_mail_clean(json_string_value(v), json_string_length(v), 0);
    }

    if (t == NULL || t[0] == '\0') {
        free(t);
        t = NULL;
        v = json_object_get(o, "raw");

        if (json_is_string(v) && json_string_length(v)) {
            t = ngx_gp_mail_raw_text(json_string_value(v),
                                     json_string_length(v));
        }
    }

    for (k = html_keys; *k && (t == NULL || t[0] == '\0'); k++) {
        free(t);
        t = NULL;
        v = json_object_get(o, *k);

        if (json_is_string(v) && json_string_length(v)) {
            t = ngx_gp_mail_clean(json_string_value(v),
                                  json_string_length(v), 1);
        }
    }

    if (t != NULL && t[0] == '\0') {
        free(t);
        t = NULL;
    }

    return t;
}


/* RFC 822 sources */

/*
 * The value of a header in the header block h (folded lines allowed);
 * NULL when absent.  The value runs to the end of its (unfolded) field.
 */

static const char *
ngx_gp_mail_header(const char *h, size_t hlen, const char *name,
    size_t *vlen)
{
    size_t       n;
    const char  *p, *e, *v;

    n = strlen(name);
    p = h;
    e = h + hlen;

    while (p < e) {
        if ((size_t) (e - p) > n && ngx_gp_prefix_ci(p, e - p, name)
            && p[n] == ':')
        {
            v = p + n + 1;

            while (v < e && (*v == ' ' || *v == '\t')) {
                v++;
            }

            p = v;

            for ( ;; ) {
                p = memchr(p, '\n', e - p);

                if (p == NULL) {
                    p = e;
                    break;
                }

                if (p + 1 < e && (p[1] == ' ' || p[1] == '\t')) {
                    p++;
                    continue;
                }

                break;
            }

            *vlen = p - v;

            return v;
        }

        p = memchr(p, '\n', e - p);

        if (p == NULL) {
            break;
        }

        p++;
    }

    return NULL;
}


/* where the body starts: after the first blank line; 0 when none */

static size_t
ngx_gp_mail_body_at(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i + 1 < len; i++) {
        if (p[i] != '\n') {
            continue;
        }

        if (p[i + 1] == '\n') {
            return i + 2;
        }

        if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n') {
            return i + 3;
        }
    }

    return 0;
}


/*
 * The part to read in an entity: a text/html part first, else text/plain
 * (multipart entities searched in depth).  Returns 2 for HTML, 1 for a
 * text part, 0 when the entity has none.
 */

static int
ngx_gp_mime_pick(const char *p, size_t len, int depth,
    ngx_gp_mime_part_t *out)
{
    int                  best, rc;
    char                 bnd[204];
    size_t               at, tlen, clen, blen, dlen;
    const char          *ct, *cte, *b, *q, *e, *next, *part;
    ngx_gp_mime_part_t   cand;

    at = ngx_gp_mail_body_at(p, len);
    ct = (at > 0) ? ngx_gp_mail_header(p, at, "content-type", &tlen) : NULL;

    if (ct != NULL && ngx_gp_prefix_ci(ct, tlen, "multipart/")
        && depth < NGX_GP_MAIL_MIME_DEPTH)
    {
        b = ngx_gp_mail_find_ci(ct, tlen, "boundary=");

        if (b == NULL) {
            return 0;
        }

        b += sizeof("boundary=") - 1;
        e = ct + tlen;

        if (b < e && *b == '"') {
            b++;
            q = memchr(b, '"', e - b);
            blen = q ? (size_t) (q - b) : 0;

        } else {
            blen = strcspn(b, ";\r\n \t");
            blen = (blen > (size_t) (e - b)) ? (size_t) (e - b) : blen;
        }

        if (blen == 0 || blen > 200) {
            return 0;
        }

        bnd[0] = '-';
        bnd[1] = '-';
        memcpy(bnd + 2, b, blen);
        dlen = blen + 2;

        best = 0;
        q = p + at;
        e = p + len;
        part = NULL;

        /* every line that starts with the delimiter opens a part */

        while (q < e) {
            next = memchr(q, '\n', e - q);
            next = next ? next + 1 : e;

            if ((size_t) (e - q) >= dlen && memcmp(q, bnd, dlen) == 0) {
                if (part != NULL) {
                    clen = q - part;
                    rc = ngx_gp_mime_pick(part, clen, depth + 1, &cand);

                    if (rc > best) {
                        best = rc;
                        *out = cand;
                    }
                }

                if ((size_t) (e - q) >= dlen + 2 && q[dlen] == '-'
                    && q[dlen + 1] == '-')
                {
                    part = NULL;
                    break;
                }

                part = next;
            }

            q = next;
        }

        if (part != NULL && part < e) {
            rc = ngx_gp_mime_pick(part, e - part, depth + 1, &cand);

            if (rc > best) {
                best = rc;
                *out = cand;
            }
        }

        return best;
    }

    out->body = p + at;
    out->len = len - at;
    out->html = 0;
    out->cte = 0;

    if (ct != NULL) {
        if (ngx_gp_prefix_ci(ct, tlen, "text/html")) {
            out->html = 1;

        } else if (!ngx_gp_prefix_ci(ct, tlen, "text/")) {
            return 0;
        }

    } else if (ngx_gp_mail_find_ci(out->body, out->len, "<html") != NULL
               || ngx_gp_mail_find_ci(out->body, out->len, "<body") != NULL
               || ngx_gp_mail_find_ci(out->body, out->len, "<div") != NULL
               || ngx_gp_mail_find_ci(out->body, out->len, "<p>") != NULL)
    {
        out->html = 1;
    }

    cte = (at > 0) ? ngx_gp_mail_header(p, at, "content-transfer-encoding",
                                        &clen)
                   : NULL;

    if (cte != NULL) {
        if (ngx_gp_prefix_ci(cte, clen, "quoted-printable")) {
            out->cte = 1;

        } else if (ngx_gp_prefix_ci(cte, clen, "base64")) {
            out->cte = 2;
        }
    }

    return out->html ? 2 : 1;
}


char *
ngx_gp_mail_raw_text(const char *raw, size_t len)
{
    int                  rc;
    char                *t, *r;
    size_t               n;
    unsigned char       *d;
    ngx_gp_mime_part_t   part;

    rc = ngx_gp_mime_pick(raw, len, 0, &part);

    if (rc == 0) {
        /* no text part: the body after the first blank line */
        n = ngx_gp_mail_body_at(raw, len);
        part.body = raw + n;
        part.len = len - n;
        part.html = 1;
        part.cte = 0;
    }

    if (part.cte == 2) {
        d = ngx_gp_base64_decode_any(part.body, part.len, &n);

        if (d != NULL) {
            r = ngx_gp_mail_clean((char *) d, n, part.html);
            free(d);
            return r;
        }
    }

    t = ngx_gp_mem_dup(part.body, part.len);

    if (t == NULL) {
        return NULL;
    }

    /* quoted-printable: declared, or undeclared as the reference reads it */
    n = ngx_gp_mail_qp_decode(t, part.len);
    n = ngx_gp_mail_url_decode(t, n, 0);

    r = ngx_gp_mail_clean(t, n, part.html);
    free(t);

    return r;
}


/* quoted-printable in place: soft breaks and =XX; the new length */

static size_t
ngx_gp_mail_qp_decode(char *p, size_t len)
{
    int     h, l;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++) {
        if (p[i] != '=') {
            p[o++] = p[i];
            continue;
        }

        if (i + 1 < len && p[i + 1] == '\n') {
            i += 1;
            continue;
        }

        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
            i += 2;
            continue;
        }

        if (i + 2 < len && (h = ngx_gp_mail_hex(p[i + 1])) >= 0
            && (l = ngx_gp_mail_hex(p[i + 2])) >= 0)
        {
            p[o++] = (char) (h << 4 | l);
            i += 2;
            continue;
        }

        p[o++] = p[i];
    }

    return o;
}


char *
ngx_gp_mail_clean(const char *p, size_t len, int html)
{
    char    *t;
    size_t   n;

    t = ngx_gp_mem_dup(p, len);

    if (t == NULL) {
        return NULL;
    }

    n = len;

    if (html) {
        n = ngx_gp_mail_strip_tags(t, n);
        n = ngx_gp_mail_entities(t, n);
    }

    n = ngx_gp_mail_spaces(t, n);
    t[n] = '\0';

    return t;
}


/*
 * HTML tags out, in place: script, style and comments with their content;
 * inline tags without a trace, others as a space.
 */

static size_t
ngx_gp_mail_strip_tags(char *p, size_t len)
{
    size_t        i, o, nlen;
    const char   *e, *name, *close, **t;

    for (i = 0, o = 0; i < len; i++) {
        if (p[i] != '<') {
            p[o++] = p[i];
            continue;
        }

        if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            e = ngx_gp_mem_find(p + i + 4, len - i - 4, "-->", 3);
            i = e ? (size_t) (e - p) + 2 : len;
            p[o++] = ' ';
            continue;
        }

        e = memchr(p + i, '>', len - i);

        if (e == NULL) {
            /* not a tag: a lone '<' */
            p[o++] = p[i];
            continue;
        }

        name = p + i + 1;

        if (name < e && *name == '/') {
            name++;
        }

        for (nlen = 0; name + nlen < e && ngx_gp_mail_alnum(name[nlen]);
             nlen++)
        {
            /* void */
        }

        if (nlen == 0) {
            p[o++] = p[i];
            continue;
        }

        close = NULL;

        if (name[-1] != '/') {
            if (nlen == 6 && ngx_gp_prefix_ci(name, 6, "script")) {
                close = "</script";

            } else if (nlen == 5 && ngx_gp_prefix_ci(name, 5, "style")) {
                close = "</style";

            } else if (nlen == 5 && ngx_gp_prefix_ci(name, 5, "title")) {
                close = "</title";
            }
        }

        i = e - p;

        if (close != NULL) {
            e = ngx_gp_mail_find_ci(p + i, len - i, close);
            e = e ? memchr(e, '>', p + len - e) : NULL;
            i = e ? (size_t) (e - p) : len;
            p[o++] = ' ';
            continue;
        }

        for (t = ngx_gp_mail_inline_tags; *t; t++) {
            if (strlen(*t) == nlen && ngx_gp_prefix_ci(name, nlen, *t)) {
                break;
            }
        }

        if (*t == NULL) {
            p[o++] = ' ';
        }
    }

    return o;
}


/* &nbsp; &amp; &lt; &gt; &quot; &#39; &#N; &#xN; in place */

static size_t
ngx_gp_mail_entities(char *p, size_t len)
{
    char           *e;
    size_t          i, o, k;
    unsigned long   cp;

    static const struct {
        const char  *name;
        const char  *text;
    } named[] = {
        { "nbsp;", " " }, { "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" },
        { "quot;", "\"" }, { "apos;", "'" }, { "ensp;", " " },
        { "emsp;", " " }, { "zwnj;", "" }, { "zwj;", "" }, { NULL, NULL }
    };

    for (i = 0, o = 0; i < len; i++) {
        if (p[i] != '&') {
            p[o++] = p[i];
            continue;
        }

        for (k = 0; named[k].name; k++) {
            if (ngx_gp_prefix_ci(p + i + 1, len - i - 1, named[k].name)) {
                break;
            }
        }

        if (named[k].name) {
            memcpy(p + o, named[k].text, strlen(named[k].text));
            o += strlen(named[k].text);
            i += strlen(named[k].name);
            continue;
        }

        if (i + 3 < len && p[i + 1] == '#') {
            e = NULL;

            if ((p[i + 2] | 0x20) == 'x') {
                cp = ngx_gp_mail_hex(p[i + 3]) >= 0
                     ? strtoul(p + i + 3, &e, 16) : 0;

            } else {
                cp = (p[i + 2] >= '0' && p[i + 2] <= '9')
                     ? strtoul(p + i + 2, &e, 10) : 0;
            }

            if (e != NULL && e < p + len && *e == ';' && cp > 0
                && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff))
            {
                i = e - p;

                if (cp < 0x80) {
                    p[o++] = (char) cp;

                } else if (cp < 0x800) {
                    p[o++] = (char) (0xc0 | cp >> 6);
                    p[o++] = (char) (0x80 | (cp & 0x3f));

                } else if (cp < 0x10000) {
                    p[o++] = (char) (0xe0 | cp >> 12);
                    p[o++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                    p[o++] = (char) (0x80 | (cp & 0x3f));

                } else {
                    p[o++] = (char) (0xf0 | cp >> 18);
                    p[o++] = (char) (0x80 | ((cp >> 12) & 0x3f));
                    p[o++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                    p[o++] = (char) (0x80 | (cp & 0x3f));
                }

                continue;
            }
        }

        p[o++] = p[i];
    }

    return o;
}


/* runs of white space (and U+00A0, U+3000) as one space, trimmed */

static size_t
ngx_gp_mail_spaces(char *p, size_t len)
{
    int     sp;
    size_t  i, o, w;

    sp = 1;

    for (i = 0, o = 0; i < len; i++) {
        w = 0;

        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'
            || p[i] == '\f' || p[i] == '\v')
        {
            w = 1;

        } else if (i + 1 < len && (unsigned char) p[i] == 0xc2
                   && (unsigned char) p[i + 1] == 0xa0)
        {
            w = 2;

        } else if (i + 2 < len && (unsigned char) p[i] == 0xe3
                   && (unsigned char) p[i + 1] == 0x80
                   && (unsigned char) p[i + 2] == 0x80)
        {
            w = 3;
        }

        if (w == 0) {
            p[o++] = p[i];
            sp = 0;
            continue;
        }

        i += w - 1;

        if (!sp) {
            p[o++] = ' ';
            sp = 1;
        }
    }

    if (o > 0 && p[o - 1] == ' ') {
        o--;
    }

    return o;
}


static const char *
ngx_gp_mail_find_ci(const char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (ngx_gp_prefix_ci(p + i, len - i, s)) {
            return p + i;
        }
    }

    return NULL;
}


/* the code */

/*
 * The first run of letters and digits in p that is exactly six of
 * [A-Z0-9] (after skip bytes of anything else, -1: no limit): 1 and the
 * code when it has a letter; 0 when it has none or there is no run.
 * With skip >= 0 only that many non-alphanumeric bytes may come first.
 */

static int
ngx_gp_mail_code_at(const char *p, size_t len, int skip, char *code)
{
    int     letter, upper;
    size_t  i, j;

    i = 0;

    while (i < len) {
        if (!ngx_gp_mail_alnum(p[i])) {
            if (skip >= 0 && (int) i >= skip) {
                return 0;
            }

            i++;
            continue;
        }

        if (skip >= 0 && (int) i > skip) {
            return 0;
        }

        letter = 0;
        upper = 1;

        for (j = i; j < len && ngx_gp_mail_alnum(p[j]); j++) {
            if (p[j] >= 'a' && p[j] <= 'z') {
                upper = 0;

            } else if (p[j] >= 'A' && p[j] <= 'Z') {
                letter = 1;
            }
        }

        if (j - i == NGX_GP_MAIL_CODE_LEN && upper) {
            if (!letter) {
                return 0;
            }

            memcpy(code, p + i, NGX_GP_MAIL_CODE_LEN);
            code[NGX_GP_MAIL_CODE_LEN] = '\0';

            return 1;
        }

        if (skip >= 0) {
            return 0;
        }

        i = j;
    }

    return 0;
}


int
ngx_gp_mail_code(const char *text, size_t len, char *code)
{
    char         *t;
    size_t        n, plen;
    const char   *p, **ph;

    /* a collapsed copy: a phrase split over lines is found too */

    t = ngx_gp_mem_dup(text, len);

    if (t == NULL) {
        return 0;
    }

    n = ngx_gp_mail_spaces(t, len);

    for (ph = ngx_gp_mail_phrases; *ph; ph++) {
        plen = strlen(*ph);
        p = t;

        while ((p = ngx_gp_mail_find_ci(p, t + n - p, *ph)) != NULL) {
            p += plen;

            if (ngx_gp_mail_code_at(p, t + n - p, -1, code)) {
                free(t);
                return 1;
            }
        }
    }

    /* fallbacks: "code is: X", "code: X", "验证码：X" */

    for (ph = ngx_gp_mail_fallbacks; *ph; ph++) {
        plen = strlen(*ph);
        p = t;

        while ((p = ngx_gp_mail_find_ci(p, t + n - p, *ph)) != NULL) {
            p += plen;

            if (p < t + n && *p == ' ') {
                p++;
            }

            if (p < t + n && *p == ':') {
                p++;

            } else if (t + n - p >= 3
                       && memcmp(p, "\xef\xbc\x9a", 3) == 0)  /* "：" */
            {
                p += 3;

            } else {
                continue;
            }

            if (ngx_gp_mail_code_at(p, t + n - p, 1, code)) {
                free(t);
                return 1;
            }
        }
    }

    free(t);

    return 0;
}
