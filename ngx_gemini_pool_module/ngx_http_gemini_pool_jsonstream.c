
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Incremental splitter of the upstream's streamed JSON array.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_gemini_pool_jsonstream.h"
#include "ngx_http_gemini_pool_text.h"


#define JS_DEFAULT_MAX  (64 * 1024 * 1024)
#define JS_MIN_CAP      4096


enum {
    js_start = 0,       /* nothing but blanks seen yet */
    js_first,           /* after '[': an element or ']' */
    js_next,            /* after ',': an element */
    js_after,           /* after an element: ',' or ']' */
    js_element,         /* inside an array element */
    js_object,          /* inside the single top-level object */
    js_done,            /* the body is complete; only blanks may follow */
    js_error,
    js_stopped
};


static const char *js_string_run(const char *p, const char *end);
static const char *js_plain_run(const char *p, const char *end);
static int js_append(ngx_gp_jsonstream_t *js, const char *p, size_t len);
static int js_fail(ngx_gp_jsonstream_t *js, const char *reason);


void
ngx_gp_jsonstream_init(ngx_gp_jsonstream_t *js, size_t max)
{
    memset(js, 0, sizeof(ngx_gp_jsonstream_t));

    js->state = js_start;
    js->max = max ? max : JS_DEFAULT_MAX;
}


int
ngx_gp_jsonstream_feed(ngx_gp_jsonstream_t *js, const char *p, size_t len,
    ngx_gp_js_element_pt cb, void *data)
{
    int          top;
    size_t       n;
    const char  *end, *start, *elt;
    unsigned     c;

    if (js->state == js_error) {
        return NGX_GP_JS_ERROR;
    }

    if (js->state == js_stopped) {
        return NGX_GP_JS_STOPPED;
    }

    end = p + len;

    while (p < end) {

        if (js->state == js_element || js->state == js_object) {

            start = p;
            c = 0;

            for ( /* void */ ; p < end; p++) {
                c = (unsigned char) *p;

                if (js->in_string) {
                    if (js->escape) {
                        js->escape = 0;
                        continue;
                    }

                    /* the text of a string up to its '"' or '\\' at once */
                    p = js_string_run(p, end);

                    if (p == end) {
                        break;
                    }

                    if (*p == '\\') {
                        js->escape = 1;

                    } else {
                        js->in_string = 0;
                    }

                    continue;
                }

                /* blanks, ':', ',' and scalars at once */
                p = js_plain_run(p, end);

                if (p == end) {
                    break;
                }

                c = (unsigned char) *p;

                if (c == '"') {
                    js->in_string = 1;

                } else if (c == '{' || c == '[') {
                    js->depth++;

                } else if (c == '}' || c == ']') {
                    if (--js->depth == 0) {
                        break;
                    }
                }
            }

            if (p == end) {
                /* the chunk ended inside the element */
                return js_append(js, start, (size_t) (p - start));
            }

            p++;

            if (c != '}') {
                return js_fail(js, "mismatched bracket");
            }

            n = (size_t) (p - start);

            if (js->len == 0) {
                /* the whole element is in this chunk: no copy */
                if (n > js->max) {
                    return js_fail(js, "element too large");
                }

                elt = start;

            } else {
                if (js_append(js, start, n) != NGX_GP_JS_OK) {
                    return NGX_GP_JS_ERROR;
                }

                elt = js->buf;
                n = js->len;
            }

            top = (js->state == js_object);

            js->state = top ? js_done : js_after;
            js->len = 0;
            js->elements++;

            if (cb(data, elt, n) != 0) {
                js->state = js_stopped;
                return NGX_GP_JS_STOPPED;
            }

            continue;
        }

        c = (unsigned char) *p;

        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            p++;
            continue;
        }

        switch (js->state) {

        case js_start:
            if (c == '[') {
                js->state = js_first;
                p++;
                break;
            }

            if (c == '{') {
                /* a single top-level object, e.g. {"error":{...}} */
                js->state = js_object;
                js->depth = 0;
                js->in_string = 0;
                js->escape = 0;
                break;
            }

            return js_fail(js, "body is neither an array nor an object");

        case js_first:
            if (c == ']') {
                js->state = js_done;
                p++;
                break;
            }

            /* fall through */

        case js_next:
            if (c == '{') {
                /* the '{' is consumed by the element scanner */
                js->state = js_element;
                js->depth = 0;
                js->in_string = 0;
                js->escape = 0;
                break;
            }

            return js_fail(js, "array element is not an object");

        case js_after:
            if (c == ',') {
                js->state = js_next;
                p++;
                break;
            }

            if (c == ']') {
                js->state = js_done;
                p++;
                break;
            }

            return js_fail(js, "expected ',' or ']' after an element");

        default: /* js_done */
            return js_fail(js, "unexpected data after the end of the body");
        }
    }

    return NGX_GP_JS_OK;
}


int
ngx_gp_jsonstream_complete(ngx_gp_jsonstream_t *js)
{
    return js->state == js_done;
}


void
ngx_gp_jsonstream_free(ngx_gp_jsonstream_t *js)
{
    free(js->buf);

    js->buf = NULL;
    js->len = 0;
    js->cap = 0;
}


/* the first '"' or '\\' from p on, or end */

static const char *
js_string_run(const char *p, const char *end)
{
    uint64_t  v;

    while (end - p >= 8) {
        memcpy(&v, p, 8);

        if (ngx_gp_swar_zero(v ^ ngx_gp_swar_byte('"'))
            | ngx_gp_swar_zero(v ^ ngx_gp_swar_byte('\\')))
        {
            break;
        }

        p += 8;
    }

    while (p < end && *p != '"' && *p != '\\') {
        p++;
    }

    return p;
}


/*
 * Outside strings: the first byte from p on that may be '"' or a bracket,
 * or end.  "x | 0x26 == 0x7f" holds for '[', ']', '{', '}' (and for 'Y',
 * 'y', '_', DEL, which the caller passes over as the scalars they are).
 */

static const char *
js_plain_run(const char *p, const char *end)
{
    uint64_t  v;

    while (end - p >= 8) {
        memcpy(&v, p, 8);

        if (ngx_gp_swar_zero(v ^ ngx_gp_swar_byte('"'))
            | ngx_gp_swar_zero((v | ngx_gp_swar_byte(0x26))
                               ^ ngx_gp_swar_byte(0x7f)))
        {
            break;
        }

        p += 8;
    }

    while (p < end && *p != '"' && (*p | 0x26) != 0x7f) {
        p++;
    }

    return p;
}


static int
js_append(ngx_gp_jsonstream_t *js, const char *p, size_t len)
{
    char    *buf;
    size_t   cap;

    if (len == 0) {
        return NGX_GP_JS_OK;
    }

    if (len > js->max || js->len > js->max - len) {
        return js_fail(js, "element too large");
    }

    if (js->len + len > js->cap) {
        cap = js->cap ? js->cap : JS_MIN_CAP;

        while (cap < js->len + len) {
            if (cap > js->max / 2) {
                cap = js->max;
                break;
            }

            cap *= 2;
        }

        if (cap > js->max) {
            cap = js->max;
        }

        buf = realloc(js->buf, cap);
        if (buf == NULL) {
            return js_fail(js, "out of memory");
        }

        js->buf = buf;
        js->cap = cap;
    }

    memcpy(js->buf + js->len, p, len);
    js->len += len;

    return NGX_GP_JS_OK;
}


static int
js_fail(ngx_gp_jsonstream_t *js, const char *reason)
{
    js->state = js_error;
    js->error = reason;

    return NGX_GP_JS_ERROR;
}
