
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A client's request body (POST /v1/chat/completions and
 * /v1/images/generations): the input is the body.  Properties:
 *
 * - the reader's answer (one-pass fast path, else jansson) is the
 *   jansson path's answer for the copy with an escaped key first: the
 *   same fields (model, stream, usage, conversation, format, every
 *   message's role, text and images), or the same error (status, type,
 *   code, param);
 * - whatever the fast path alone takes, the reader takes with the same
 *   fields;
 * - the prompt built from a read request is NUL-terminated text of its
 *   stated length; a generations request read makes a chat body.
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_openai.h"
#include "ngx_http_gemini_pool_images.h"


static void
same_image(const ngx_gp_image_ref_t *a, const ngx_gp_image_ref_t *b)
{
    FUZZ_CHECK(a->kind == b->kind);
    FUZZ_SAME_STR(a->mime, b->mime);
    FUZZ_SAME_MEM(a->data, a->data_len, b->data, b->data_len);
    FUZZ_SAME_STR(a->url, b->url);
    FUZZ_SAME_STR(a->file_id, b->file_id);
}


static void
same_req(const ngx_gp_chat_req_t *a, const ngx_gp_chat_req_t *b)
{
    size_t  i, k;

    FUZZ_SAME_STR(a->model, b->model);
    FUZZ_CHECK(a->stream == b->stream);
    FUZZ_CHECK(a->include_usage == b->include_usage);
    FUZZ_SAME_STR(a->conversation_id, b->conversation_id);
    FUZZ_SAME_STR(a->image_format, b->image_format);
    FUZZ_CHECK(a->nmessages == b->nmessages);

    for (i = 0; i < a->nmessages; i++) {
        FUZZ_CHECK(a->messages[i].role == b->messages[i].role);
        FUZZ_CHECK(a->messages[i].text != NULL);
        FUZZ_CHECK(b->messages[i].text != NULL);
        FUZZ_CHECK(a->messages[i].text[a->messages[i].len] == '\0');
        FUZZ_SAME_MEM(a->messages[i].text, a->messages[i].len,
                      b->messages[i].text, b->messages[i].len);
        FUZZ_CHECK(a->messages[i].nimages == b->messages[i].nimages);

        for (k = 0; k < a->messages[i].nimages; k++) {
            same_image(&a->messages[i].images[k],
                       &b->messages[i].images[k]);
        }
    }
}


static void
prompt(const ngx_gp_chat_req_t *req, int replay)
{
    char    *p;
    size_t   len;

    len = 0;
    p = ngx_gp_chat_prompt(req, replay, &len);

    if (p != NULL) {
        FUZZ_CHECK(p[len] == '\0');
        (void) ngx_gp_estimate_tokens(p, len);
        free(p);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc, rc2, rcf;
    char                *alt, *s;
    size_t               alen;
    const char          *body = (const char *) data;
    ngx_gp_chat_req_t    r, r2, rf;
    ngx_gp_oai_error_t   e, e2;
    ngx_gp_images_req_t  ir;

    rc = ngx_gp_chat_req_parse(body, size, &r, &e);

    if (rc != 0) {
        FUZZ_CHECK(e.status >= 400 && e.type != NULL);
        FUZZ_CHECK(memchr(e.message, '\0', sizeof(e.message)) != NULL);
    }

    memset(&rf, 0, sizeof(ngx_gp_chat_req_t));
    rcf = ngx_gp_chat_req_fast(body, size, &rf);

    if (rcf == 0) {
        FUZZ_CHECK(rc == 0);
        same_req(&rf, &r);
    }

    ngx_gp_chat_req_free(&rf);

    alt = fuzz_jansson_copy(body, size, &alen);

    if (alt != NULL) {
        memset(&rf, 0, sizeof(ngx_gp_chat_req_t));
        FUZZ_CHECK(ngx_gp_chat_req_fast(alt, alen, &rf) != 0);
        ngx_gp_chat_req_free(&rf);

        rc2 = ngx_gp_chat_req_parse(alt, alen, &r2, &e2);
        FUZZ_CHECK(rc == rc2);

        if (rc == 0) {
            same_req(&r, &r2);

        } else {
            FUZZ_CHECK(e.status == e2.status);
            FUZZ_SAME_STR(e.type, e2.type);
            FUZZ_SAME_STR(e.code, e2.code);
            FUZZ_SAME_STR(e.param, e2.param);
        }

        ngx_gp_chat_req_free(&r2);
        free(alt);
    }

    if (rc == 0) {
        prompt(&r, 0);
        prompt(&r, 1);
    }

    ngx_gp_chat_req_free(&r);

    memset(&ir, 0, sizeof(ngx_gp_images_req_t));

    if (ngx_gp_images_parse(body, size, &ir, &e) == 0) {
        FUZZ_CHECK(ir.prompt != NULL && ir.n >= 1 && ir.n <= 10);

        /* what the reader takes makes a chat body (else: a 500) */
        s = ngx_gp_images_chat_body(&ir, "gemini-image", &alen);
        FUZZ_CHECK(s != NULL && strlen(s) == alen);
        free(s);

    } else {
        FUZZ_CHECK(e.status >= 400 && e.type != NULL);
    }

    ngx_gp_images_req_free(&ir);

    return 0;
}
