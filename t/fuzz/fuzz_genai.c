
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A client's generateContent body (the Gemini API): the input is the
 * body.  Properties:
 *
 * - the reader answers 0 with at least one user turn (a USER message,
 *   or the TOOL messages of a user turn of function responses), every
 *   message's text non-NULL and NUL-terminated at its length, inline
 *   images of a media type image/... in the standard base64 alphabet
 *   (base64url made standard), calls with an id, a valid name and
 *   arguments; or -1 with a 400 or 500 whose message is non-empty
 *   NUL-terminated text;
 * - the model and stream the caller set from the URI are kept;
 * - countTokens takes every body generateContent takes that does not
 *   wrap a generateContentRequest, read into as many messages;
 * - a request read makes a NUL-terminated prompt of its stated length.
 */


#include "chat.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_genai.h"


/* the body wraps a request as countTokens may: "generateContentRequest" */

static int
wrapped(const uint8_t *data, size_t size)
{
    int      rc;
    json_t  *root;

    root = json_loadb((const char *) data, size, JSON_ALLOW_NUL, NULL);
    rc = json_is_object(json_object_get(root, "generateContentRequest"));
    json_decref(root);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc, rc_count, no_thoughts;
    char                *model;
    size_t               n;
    ngx_gp_chat_req_t    req;
    ngx_gp_oai_error_t   err;

    memset(&req, 0, sizeof(req));

    model = strdup("gemini-x");
    FUZZ_CHECK(model != NULL);
    req.model = model;
    req.stream = 1;
    no_thoughts = 0;

    rc = ngx_gp_genai_req_parse((const char *) data, size, 0, &req,
                                &no_thoughts, &err);
    n = req.nmessages;

    FUZZ_CHECK(req.model == model && req.stream == 1);
    FUZZ_CHECK(no_thoughts == 0 || no_thoughts == 1);

    if (rc == 0) {
        fuzz_request_ok(&req);

    } else {
        FUZZ_CHECK(rc == -1);
        fuzz_error_ok(&err);
    }

    ngx_gp_chat_req_free(&req);

    rc_count = ngx_gp_genai_req_parse((const char *) data, size, 1, &req,
                                      &no_thoughts, &err);

    if (rc_count == 0) {
        fuzz_request_ok(&req);

    } else {
        fuzz_error_ok(&err);
    }

    if (rc == 0 && !wrapped(data, size)) {
        FUZZ_CHECK(rc_count == 0 && req.nmessages == n);
    }

    ngx_gp_chat_req_free(&req);

    return 0;
}
