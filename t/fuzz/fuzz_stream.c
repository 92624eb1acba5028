
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The upstream's streamed answer (widgetStreamAssist, spec §7.4): the
 * input is the body.  Properties:
 *
 * - the splitter gives the same elements and the same end (ok, error,
 *   complete) fed whole, in random chunks cut from the input's hash, and
 *   byte by byte;
 * - each element decodes exactly when jansson reads it as an object, and
 *   the decoder (its one-pass path) reads what its jansson path reads
 *   from the copy with an escaped key first: every part, the state, the
 *   session, the skipped reasons, the policy, the error;
 * - the createSession, addContextFile, getoxsrf and error readers of the
 *   same bytes do not fault, and the session reader agrees with jansson.
 */


#include "fuzz.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_jsonstream.h"
#include "ngx_http_gemini_pool_wire.h"


#define ELTS_MAX  64
#define ELT_MAX   (64 * 1024)


typedef struct {
    size_t   n;
    size_t   total;
    char    *p[ELTS_MAX];
    size_t   len[ELTS_MAX];
} elts_t;


static int
collect(void *data, const char *p, size_t len)
{
    elts_t  *e = data;

    FUZZ_CHECK(len > 0 && p[0] == '{' && p[len - 1] == '}');
    FUZZ_CHECK(len <= ELT_MAX);

    if (e->n < ELTS_MAX) {
        e->p[e->n] = malloc(len);
        FUZZ_CHECK(e->p[e->n] != NULL);
        memcpy(e->p[e->n], p, len);
        e->len[e->n] = len;
        e->n++;
    }

    e->total++;

    return 0;
}


static void
elts_free(elts_t *e)
{
    size_t  i;

    for (i = 0; i < e->n; i++) {
        free(e->p[i]);
    }
}


/* feeds in pieces of at most step bytes (0: random sizes); the end */

static int
split(const uint8_t *data, size_t size, size_t step, uint64_t *rs,
    elts_t *e, int *complete)
{
    int                  rc;
    size_t               off, n;
    ngx_gp_jsonstream_t  js;

    memset(e, 0, sizeof(elts_t));
    ngx_gp_jsonstream_init(&js, ELT_MAX);

    rc = NGX_GP_JS_OK;

    for (off = 0; off < size; off += n) {
        n = step ? step : 1 + fuzz_rand_n(rs, fuzz_rand_n(rs, 4) ? 16 : 4096);

        if (n > size - off) {
            n = size - off;
        }

        rc = ngx_gp_jsonstream_feed(&js, (const char *) data + off, n,
                                    collect, e);
        if (rc != NGX_GP_JS_OK) {
            break;
        }
    }

    if (rc == NGX_GP_JS_ERROR) {
        FUZZ_CHECK(js.error != NULL);
    }

    *complete = ngx_gp_jsonstream_complete(&js);
    FUZZ_CHECK(js.elements == e->total);
    ngx_gp_jsonstream_free(&js);

    return rc;
}


static void
same_elts(const elts_t *a, const elts_t *b)
{
    size_t  i;

    FUZZ_CHECK(a->total == b->total);

    for (i = 0; i < a->n; i++) {
        FUZZ_SAME_MEM(a->p[i], a->len[i], b->p[i], b->len[i]);
    }
}


static void
same_element(const ngx_gp_element_t *a, const ngx_gp_element_t *b)
{
    size_t                i;
    const ngx_gp_part_t  *pa, *pb;

    FUZZ_CHECK(a->is_error == b->is_error);

    if (a->is_error) {
        FUZZ_CHECK(a->error.code == b->error.code);
        FUZZ_SAME_STR(a->error.status, b->error.status);
        FUZZ_SAME_STR(a->error.message, b->error.message);
        FUZZ_SAME_STR(a->error.reason, b->error.reason);
    }

    FUZZ_CHECK(a->state == b->state);
    FUZZ_SAME_STR(a->session, b->session);
    FUZZ_SAME_STR(a->skipped, b->skipped);
    FUZZ_SAME_STR(a->policy, b->policy);
    FUZZ_CHECK(a->nparts == b->nparts);

    for (i = 0; i < a->nparts; i++) {
        pa = &a->parts[i];
        pb = &b->parts[i];

        FUZZ_CHECK(pa->kind == pb->kind);
        FUZZ_SAME_MEM(pa->text, pa->len, pb->text, pb->len);
        FUZZ_SAME_STR(pa->mime, pb->mime);
        FUZZ_SAME_STR(pa->file_id, pb->file_id);
        FUZZ_SAME_STR(pa->name, pb->name);
    }
}


static void
decode(const char *p, size_t len)
{
    int                rc, rc2;
    char              *alt, *s1, *s2;
    size_t             alen;
    json_t            *j;
    const char        *err;
    ngx_gp_element_t   e, e2;

    memset(&e, 0, sizeof(ngx_gp_element_t));
    err = NULL;
    rc = ngx_gp_element_decode(p, len, &e, &err);

    j = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    FUZZ_CHECK((rc == 0) == (j != NULL && json_is_object(j)));
    json_decref(j);

    if (rc != 0) {
        FUZZ_CHECK(err != NULL);
    }

    alt = fuzz_jansson_copy(p, len, &alen);

    if (alt != NULL) {
        memset(&e2, 0, sizeof(ngx_gp_element_t));
        rc2 = ngx_gp_element_decode(alt, alen, &e2, &err);
        FUZZ_CHECK(rc == rc2);

        if (rc == 0) {
            same_element(&e, &e2);
        }

        ngx_gp_element_free(&e2);

        s1 = ngx_gp_session_parse(p, len);
        s2 = ngx_gp_session_parse(alt, alen);
        FUZZ_SAME_STR(s1, s2);
        free(s1);
        free(s2);

        free(alt);
    }

    ngx_gp_element_free(&e);
}


static void
readers(const char *p, size_t len)
{
    int               rc;
    char             *s, *kid, *xsrf;
    const char       *err;
    ngx_gp_gerror_t   ge;

    s = ngx_gp_file_id_parse(p, len);
    free(s);

    kid = NULL;
    xsrf = NULL;
    err = NULL;
    rc = ngx_gp_xsrf_parse(p, len, &kid, &xsrf, &err);

    if (rc == NGX_GP_XSRF_OK) {
        FUZZ_CHECK(kid != NULL && xsrf != NULL);

    } else {
        FUZZ_CHECK(err != NULL);
    }

    free(kid);
    free(xsrf);

    memset(&ge, 0, sizeof(ngx_gp_gerror_t));
    (void) ngx_gp_gerror_parse(p, len, &ge);
    FUZZ_CHECK(ge.message != NULL);
    ngx_gp_gerror_free(&ge);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       rc1, rc2, rc3, c1, c2, c3;
    size_t    i;
    elts_t    whole, cut, bytes;
    uint64_t  rs;

    rs = fuzz_seed(data, size);

    rc1 = split(data, size, size ? size : 1, &rs, &whole, &c1);
    rc2 = split(data, size, 0, &rs, &cut, &c2);

    FUZZ_CHECK(rc1 == rc2 && c1 == c2);
    same_elts(&whole, &cut);

    if (size <= 4096) {
        rc3 = split(data, size, 1, &rs, &bytes, &c3);
        FUZZ_CHECK(rc1 == rc3 && c1 == c3);
        same_elts(&whole, &bytes);
        elts_free(&bytes);
    }

    for (i = 0; i < whole.n; i++) {
        decode(whole.p[i], whole.len[i]);
    }

    if (whole.n == 0) {
        /* not split: the bytes as one element, as an answer's body */
        decode((const char *) data, size);
    }

    readers((const char *) data, size);

    elts_free(&whole);
    elts_free(&cut);

    return 0;
}
