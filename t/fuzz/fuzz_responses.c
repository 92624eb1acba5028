
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A client's POST /v1/responses body: the input is the body.
 * Properties:
 *
 * - the reader answers 0 with at least one message, or -1 with a 400 or
 *   500 error whose message is NUL-terminated text and whose param, when
 *   set, is too;
 * - a request read makes a NUL-terminated prompt of its stated length;
 * - the response object rendered with what was read (the last message's
 *   text as the answer, the instructions and metadata echoed) is JSON,
 *   and so is every streamed event's data line.
 */


#include "fuzz.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_responses.h"


static void
json_ok(const char *p, size_t len)
{
    json_t  *j;

    j = json_loadb(p, len, 0, NULL);
    FUZZ_CHECK(j != NULL);
    json_decref(j);
}


/* every "data: " line of the events is one JSON object */

static void
events_ok(char *p, size_t len)
{
    char  *line, *end;

    FUZZ_CHECK(p[len] == '\0');

    for (line = p; (line = strstr(line, "data: ")) != NULL; line = end) {
        line += 6;
        end = strchr(line, '\n');
        FUZZ_CHECK(end != NULL);
        json_ok(line, end - line);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                *p;
    size_t               len;
    uint64_t             seq;
    ngx_gp_buf_t         b;
    ngx_gp_resp_t        r;
    ngx_gp_usage_t       u;
    ngx_gp_chat_req_t    req;
    ngx_gp_resp_req_t    rr;
    ngx_gp_message_t    *m;
    ngx_gp_oai_error_t   err;

    if (ngx_gp_resp_parse((const char *) data, size, &rr, &req, &err) != 0) {
        FUZZ_CHECK(err.status == 400 || err.status == 500);
        FUZZ_CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
        FUZZ_CHECK(err.param == NULL
                   || memchr(err.param, '\0', 96) != NULL);
        goto done;
    }

    FUZZ_CHECK(req.nmessages > 0);

    p = ngx_gp_chat_prompt(&req, 0, &len);
    if (p) {
        FUZZ_CHECK(p[len] == '\0');
        free(p);
    }

    p = ngx_gp_chat_prompt(&req, 1, &len);
    if (p) {
        FUZZ_CHECK(p[len] == '\0');
        free(p);
    }

    m = &req.messages[req.nmessages - 1];

    memset(&r, 0, sizeof(r));
    r.id = "resp_0123";
    r.model = req.model ? req.model : "m";
    r.created = 1;
    r.req = &rr;
    r.status = "completed";
    r.text = m->text;
    r.text_len = m->len;
    r.reasoning = m->text;
    r.reasoning_len = m->len;
    r.calls = m->calls;
    r.ncalls = m->ncalls;
    u.prompt_tokens = 1;
    u.completion_tokens = 2;
    r.usage = &u;

    p = ngx_gp_resp_render(&r, &len);
    FUZZ_CHECK(p != NULL);
    json_ok(p, len);
    free(p);

    memset(&b, 0, sizeof(b));
    seq = 0;

    ngx_gp_resp_ev_response(&b, &seq, "response.created", &r);
    ngx_gp_resp_ev_open(&b, &seq, &r, NGX_GP_RESP_REASONING, 0);
    ngx_gp_resp_ev_delta(&b, &seq, &r, NGX_GP_RESP_REASONING, 0, m->text,
                         m->len);
    ngx_gp_resp_ev_close(&b, &seq, &r, NGX_GP_RESP_REASONING, 0);
    ngx_gp_resp_ev_open(&b, &seq, &r, NGX_GP_RESP_MESSAGE, 1);
    ngx_gp_resp_ev_delta(&b, &seq, &r, NGX_GP_RESP_MESSAGE, 1, m->text,
                         m->len);
    ngx_gp_resp_ev_close(&b, &seq, &r, NGX_GP_RESP_MESSAGE, 1);

    for (len = 0; len < m->ncalls; len++) {
        ngx_gp_resp_ev_call(&b, &seq, &r, len, 2 + (unsigned) len);
    }

    ngx_gp_resp_ev_response(&b, &seq, "response.completed", &r);

    p = ngx_gp_buf_finish(&b, &len);
    FUZZ_CHECK(p != NULL);
    events_ok(p, len);
    free(p);

done:

    ngx_gp_resp_req_free(&rr);
    ngx_gp_chat_req_free(&req);

    return 0;
}
