
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A client's POST /v1/messages body (Anthropic's Messages API): the input
 * is the body.  Properties:
 *
 * - the reader answers 0 with a model and at least one user turn (a USER
 *   message, or the TOOL messages of a user turn of tool results), every
 *   message's text non-NULL and NUL-terminated at its length, images of
 *   a media type image/... in the standard base64 alphabet, calls with an
 *   id, a valid name and arguments; or -1 with a 400 or 500 whose message
 *   is non-empty NUL-terminated text;
 * - count_tokens (no max_tokens needed) takes every body /v1/messages
 *   takes, read into as many messages;
 * - a request read makes a NUL-terminated prompt of its stated length.
 */


#include "fuzz.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_anthropic.h"


/* what every read request holds, whichever surface read it */

static void
request_ok(ngx_gp_chat_req_t *req)
{
    char                *p;
    size_t               i, j, k, len, turns;
    ngx_gp_message_t    *m;
    ngx_gp_image_ref_t  *img;

    FUZZ_CHECK(req->nmessages > 0 && req->messages != NULL);
    FUZZ_CHECK(req->model == NULL || req->model[0] != '\0');

    turns = 0;

    for (i = 0; i < req->nmessages; i++) {
        m = &req->messages[i];

        FUZZ_CHECK(m->role >= NGX_GP_ROLE_SYSTEM
                   && m->role <= NGX_GP_ROLE_TOOL);
        FUZZ_CHECK(m->text != NULL && m->text[m->len] == '\0');
        FUZZ_CHECK(m->role == NGX_GP_ROLE_SYSTEM ? i == 0 : 1);
        FUZZ_CHECK(m->ncalls == 0 || m->role == NGX_GP_ROLE_ASSISTANT);

        if (m->role == NGX_GP_ROLE_USER || m->role == NGX_GP_ROLE_TOOL) {
            turns++;
        }

        for (j = 0; j < m->nimages; j++) {
            img = &m->images[j];

            if (img->kind == NGX_GP_IMAGE_URL) {
                FUZZ_CHECK(img->url != NULL);
                continue;
            }

            FUZZ_CHECK(img->kind == NGX_GP_IMAGE_DATA);
            FUZZ_CHECK(img->mime != NULL
                       && strncmp(img->mime, "image/", 6) == 0);
            FUZZ_CHECK(img->data != NULL && img->data_len > 0
                       && img->data[img->data_len] == '\0');

            /* the standard base64 alphabet only */
            for (k = 0; k < img->data_len; k++) {
                FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "abcdefghijklmnopqrstuvwxyz0123456789+/=",
                                  img->data[k]) != NULL);
            }
        }

        for (j = 0; j < m->ncalls; j++) {
            FUZZ_CHECK(m->calls[j].id != NULL && m->calls[j].name != NULL
                       && m->calls[j].arguments != NULL);
            FUZZ_CHECK(ngx_gp_tool_name_ok(m->calls[j].name,
                                           strlen(m->calls[j].name)));
        }
    }

    /* a user turn was there: its text, or the tool results it held */
    FUZZ_CHECK(turns > 0);

    for (i = 0; i < req->ntools; i++) {
        FUZZ_CHECK(ngx_gp_tool_name_ok(req->tools[i].name,
                                       strlen(req->tools[i].name)));
    }

    FUZZ_CHECK(req->tool_choice != NGX_GP_TOOL_FUNCTION
               || req->tool_name != NULL);

    p = ngx_gp_chat_prompt(req, 1, &len);
    if (p) {
        FUZZ_CHECK(p[len] == '\0');
        free(p);
    }
}


/* a refusal: a 400 or 500 with a message */

static void
error_ok(ngx_gp_oai_error_t *err)
{
    FUZZ_CHECK(err->status == 400 || err->status == 500);
    FUZZ_CHECK(err->type != NULL);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
    FUZZ_CHECK(err->message[0] != '\0');
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc, rc_count;
    size_t               n;
    ngx_gp_chat_req_t    req;
    ngx_gp_oai_error_t   err;

    memset(&req, 0, sizeof(req));

    rc = ngx_gp_anthropic_req_parse((const char *) data, size, 0, &req,
                                    &err);
    n = req.nmessages;

    if (rc == 0) {
        FUZZ_CHECK(req.model != NULL);
        request_ok(&req);

    } else {
        FUZZ_CHECK(rc == -1);
        error_ok(&err);
    }

    ngx_gp_chat_req_free(&req);

    rc_count = ngx_gp_anthropic_req_parse((const char *) data, size, 1, &req,
                                          &err);

    if (rc_count == 0) {
        request_ok(&req);

    } else {
        error_ok(&err);
    }

    if (rc == 0) {
        FUZZ_CHECK(rc_count == 0 && req.nmessages == n);
    }

    ngx_gp_chat_req_free(&req);

    return 0;
}
