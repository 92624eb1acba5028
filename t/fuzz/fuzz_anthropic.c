
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


#include "chat.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_anthropic.h"


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
        fuzz_request_ok(&req);

    } else {
        FUZZ_CHECK(rc == -1);
        fuzz_error_ok(&err);
    }

    ngx_gp_chat_req_free(&req);

    rc_count = ngx_gp_anthropic_req_parse((const char *) data, size, 1, &req,
                                          &err);

    if (rc_count == 0) {
        fuzz_request_ok(&req);

    } else {
        fuzz_error_ok(&err);
    }

    if (rc == 0) {
        FUZZ_CHECK(rc_count == 0 && req.nmessages == n);
    }

    ngx_gp_chat_req_free(&req);

    return 0;
}
