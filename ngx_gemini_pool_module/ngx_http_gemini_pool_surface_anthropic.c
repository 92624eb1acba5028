
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Anthropic Messages surface: POST /v1/messages (the body parsed by
 * anthropic.c), its answer as a "message" object or Anthropic's event
 * sequence (message_start, content_block_start, ping, content_block_delta,
 * content_block_stop, message_delta, message_stop), thinking blocks for
 * the thoughts, errors as {"type":"error","error":{"type","message"}}; and
 * POST /v1/messages/count_tokens, the estimate our usage counts.
 */


#include "ngx_http_gemini_pool_module.h"


/* o->data: the open content block, a ping sent, the blocks started */
#define NGX_GP_ANT_NONE        0
#define NGX_GP_ANT_THINKING    1
#define NGX_GP_ANT_TEXT        2
#define NGX_GP_ANT_OPEN        3
#define NGX_GP_ANT_PING        4
#define NGX_GP_ANT_COUNT       8        /* parse: count_tokens, no answer */
#define NGX_GP_ANT_INDEX       16       /* the blocks started, times this */


static void ngx_gp_anthropic_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_anthropic_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_anthropic_model(ngx_gp_reply_t *o,
    ngx_gp_model_t *m, ngx_str_t *name, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_anthropic_begin(ngx_gp_reply_t *o);
static ngx_int_t ngx_gp_anthropic_delta(ngx_gp_reply_t *o, const char *p,
    size_t len, ngx_uint_t thought);
static ngx_int_t ngx_gp_anthropic_media(ngx_gp_reply_t *o,
    ngx_gp_media_t *m);
static ngx_int_t ngx_gp_anthropic_finish(ngx_gp_reply_t *o,
    ngx_gp_answer_t *a);
static ngx_int_t ngx_gp_anthropic_error(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_anthropic_stop(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static void ngx_gp_anthropic_count_body(ngx_http_request_t *r);
static char *ngx_gp_anthropic_render_error(ngx_gp_oai_error_t *err,
    size_t *len);


const ngx_gp_surface_t  ngx_gp_surface_anthropic = {
    "/v1/messages",
    ngx_gp_anthropic_body,
    ngx_string("text/event-stream"),
    ngx_gp_anthropic_parse,
    ngx_gp_anthropic_model,
    ngx_gp_anthropic_begin,
    ngx_gp_anthropic_delta,
    ngx_gp_anthropic_media,
    ngx_gp_anthropic_finish,
    ngx_gp_anthropic_error,
    ngx_gp_anthropic_stop,
    ngx_gp_anthropic_render_error
};


static void
ngx_gp_anthropic_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_anthropic);
}


/* the error types of Anthropic's API, by status */

static const char *
ngx_gp_anthropic_error_type(int status)
{
    switch (status) {
    case NGX_HTTP_UNAUTHORIZED:
        return "authentication_error";
    case NGX_HTTP_FORBIDDEN:
        return "permission_error";
    case NGX_HTTP_NOT_FOUND:
        return "not_found_error";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "request_too_large";
    case NGX_HTTP_TOO_MANY_REQUESTS:
        return "rate_limit_error";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
    case 529:
        return "overloaded_error";
    }

    return status < 500 ? "invalid_request_error" : "api_error";
}


/* {"type":"error","error":{"type","message"}}, malloc'ed */

static char *
ngx_gp_anthropic_render_error(ngx_gp_oai_error_t *err, size_t *len)
{
    return ngx_gp_json_dump(json_pack("{s:s, s:{s:s, s:s}}",
                                      "type", "error",
                                      "error",
                                      "type",
                                      ngx_gp_anthropic_error_type(
                                          err->status),
                                      "message", err->message),
                            len);
}


static ngx_int_t
ngx_gp_anthropic_error(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    p = ngx_gp_anthropic_render_error(err, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(o->r, err->status, (u_char *) p, len);
    free(p);

    return rc;
}


/* the body into the request (anthropic.c), and the message's id */

static ngx_int_t
ngx_gp_anthropic_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    int  rc;

    rc = ngx_gp_anthropic_req_parse((char *) body->data, body->len,
                                    (o->data & NGX_GP_ANT_COUNT) != 0,
                                    o->req, err);

    ngx_sprintf(o->id, "msg_%08xD%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random());

    return rc == 0 ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_gp_anthropic_model(ngx_gp_reply_t *o, ngx_gp_model_t *m,
    ngx_str_t *name, ngx_gp_oai_error_t *err)
{
    /* every kind: generated media come as links in the text */
    return NGX_OK;
}


/* one event whose data is fixed text */

static ngx_int_t
ngx_gp_anthropic_event(ngx_gp_reply_t *o, const char *event, u_char *p,
    u_char *last)
{
    return ngx_gp_sse_event(&o->sse, event, p, last - p, 0);
}


static ngx_int_t
ngx_gp_anthropic_begin(ngx_gp_reply_t *o)
{
    u_char  *p, buf[256];

    if (ngx_gp_sse_header(&o->sse, (char *) o->surface->stream_type.data,
                          o->surface->stream_type.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "event: message_start\ndata: {\"type\":"
                    "\"message_start\",\"message\":{\"id\":\"%s\","
                    "\"type\":\"message\",\"role\":\"assistant\","
                    "\"model\":\"", o->id);

    if (ngx_gp_sse_append(&o->sse, buf, p - buf, 0) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) o->model,
                             ngx_strlen(o->model), 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "\",\"content\":[],\"stop_reason\":null,"
                    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
                    "%uL,\"output_tokens\":0}}}\n\n",
                    o->usage ? o->usage->prompt_tokens : 0);

    return ngx_gp_sse_send(&o->sse, buf, p - buf, 0) == NGX_ERROR
           ? NGX_ERROR : NGX_OK;
}


/* the open content block ends */

static ngx_int_t
ngx_gp_anthropic_close(ngx_gp_reply_t *o)
{
    u_char  *p, buf[128];

    if ((o->data & NGX_GP_ANT_OPEN) == NGX_GP_ANT_NONE) {
        return NGX_OK;
    }

    o->data &= ~(ngx_uint_t) NGX_GP_ANT_OPEN;

    p = ngx_sprintf(buf, "{\"type\":\"content_block_stop\",\"index\":%ui}",
                    o->data / NGX_GP_ANT_INDEX - 1);

    return ngx_gp_anthropic_event(o, "content_block_stop", buf, p);
}


/* a content block of this kind is open (the first followed by a ping) */

static ngx_int_t
ngx_gp_anthropic_open(ngx_gp_reply_t *o, ngx_uint_t kind)
{
    u_char  *p, buf[160];

    if ((o->data & NGX_GP_ANT_OPEN) == kind) {
        return NGX_OK;
    }

    if (ngx_gp_anthropic_close(o) == NGX_ERROR) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "{\"type\":\"content_block_start\",\"index\":%ui,"
                    "\"content_block\":%s}",
                    o->data / NGX_GP_ANT_INDEX,
                    kind == NGX_GP_ANT_THINKING
                    ? "{\"type\":\"thinking\",\"thinking\":\"\","
                      "\"signature\":\"\"}"
                    : "{\"type\":\"text\",\"text\":\"\"}");

    o->data += NGX_GP_ANT_INDEX;
    o->data |= kind;

    if (ngx_gp_anthropic_event(o, "content_block_start", buf, p)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (o->data & NGX_GP_ANT_PING) {
        return NGX_OK;
    }

    o->data |= NGX_GP_ANT_PING;

    return ngx_gp_anthropic_event(o, "ping", (u_char *) "{\"type\":\"ping\"}",
                                  (u_char *) "{\"type\":\"ping\"}"
                                  + sizeof("{\"type\":\"ping\"}") - 1);
}


static ngx_int_t
ngx_gp_anthropic_delta(ngx_gp_reply_t *o, const char *p, size_t len,
    ngx_uint_t thought)
{
    u_char  *last, buf[160];

    if (!o->sse.header_sent && ngx_gp_anthropic_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_gp_anthropic_open(o, thought ? NGX_GP_ANT_THINKING
                                         : NGX_GP_ANT_TEXT)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    last = ngx_sprintf(buf, "event: content_block_delta\ndata: {\"type\":"
                       "\"content_block_delta\",\"index\":%ui,\"delta\":"
                       "{\"type\":\"%s\",\"%s\":\"",
                       o->data / NGX_GP_ANT_INDEX - 1,
                       thought ? "thinking_delta" : "text_delta",
                       thought ? "thinking" : "text");

    if (ngx_gp_sse_append(&o->sse, buf, last - buf, 0) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) p, len, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_sse_send(&o->sse, (u_char *) "\"}}\n\n", 5, 0);
}


static ngx_int_t
ngx_gp_anthropic_media(ngx_gp_reply_t *o, ngx_gp_media_t *m)
{
    /* no image output in Messages: links in the text */
    return NGX_DECLINED;
}


static const char *
ngx_gp_anthropic_stop_reason(const char *finish_reason)
{
    if (finish_reason == NULL || ngx_strcmp(finish_reason, "stop") == 0) {
        return "end_turn";
    }

    if (ngx_strcmp(finish_reason, "length") == 0) {
        return "max_tokens";
    }

    if (ngx_strcmp(finish_reason, "content_filter") == 0) {
        return "refusal";
    }

    if (ngx_strcmp(finish_reason, "tool_calls") == 0) {
        return "tool_use";
    }

    return "end_turn";
}


/*
 * The answer was cut after it started: an "error" event, and no
 * message_delta or message_stop; the SDKs raise it as an APIError.
 */

static ngx_int_t
ngx_gp_anthropic_stop(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    o->error_sent = 1;

    /* held for finish(), which follows at once and ends the stream */
    o->sse.defer = 1;

    if (!o->sse.header_sent && ngx_gp_anthropic_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_gp_anthropic_render_error(err, &len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_gp_sse_event(&o->sse, "error", (u_char *) p, len, 0);
    free(p);

    return rc;
}


/*
 * A tool call as a tool_use block: its start (the input empty), the
 * input as one input_json_delta, its stop.
 */

static ngx_int_t
ngx_gp_anthropic_tool_use(ngx_gp_reply_t *o, ngx_gp_tool_call_t *call)
{
    u_char      *p, buf[160];
    ngx_uint_t   index;

    index = o->data / NGX_GP_ANT_INDEX;

    p = ngx_sprintf(buf, "event: content_block_start\ndata: {\"type\":"
                    "\"content_block_start\",\"index\":%ui,"
                    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"",
                    index);

    if (ngx_gp_sse_append(&o->sse, buf, p - buf, 0) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) call->id,
                             ngx_strlen(call->id), 1) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) "\",\"name\":\"", 10, 0)
           != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) call->name,
                             ngx_strlen(call->name), 1) != NGX_OK
        || ngx_gp_sse_send(&o->sse, (u_char *) "\",\"input\":{}}}\n\n",
                           sizeof("\",\"input\":{}}}\n\n") - 1, 0)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "event: content_block_delta\ndata: {\"type\":"
                    "\"content_block_delta\",\"index\":%ui,\"delta\":"
                    "{\"type\":\"input_json_delta\",\"partial_json\":\"",
                    index);

    if (ngx_gp_sse_append(&o->sse, buf, p - buf, 0) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) call->arguments,
                             ngx_strlen(call->arguments), 1) != NGX_OK
        || ngx_gp_sse_send(&o->sse, (u_char *) "\"}}\n\n", 5, 0)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    o->data += NGX_GP_ANT_INDEX;

    p = ngx_sprintf(buf, "{\"type\":\"content_block_stop\",\"index\":%ui}",
                    index);

    return ngx_gp_anthropic_event(o, "content_block_stop", buf, p);
}


static ngx_int_t
ngx_gp_anthropic_stream_end(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    u_char  *p, buf[256];
    size_t   i;

    if (!o->sse.header_sent && ngx_gp_anthropic_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the end's events: one write */
    o->sse.defer = 1;

    if (o->error_sent) {
        return ngx_gp_sse_send(&o->sse, (u_char *) "", 0, 1);
    }

    if (ngx_gp_anthropic_close(o) == NGX_ERROR) {
        return NGX_ERROR;
    }

    for (i = 0; i < a->ncalls; i++) {
        if (ngx_gp_anthropic_tool_use(o, &a->calls[i]) == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    if (!(o->data & NGX_GP_ANT_PING)
        && ngx_gp_anthropic_event(o, "ping",
                                  (u_char *) "{\"type\":\"ping\"}",
                                  (u_char *) "{\"type\":\"ping\"}"
                                  + sizeof("{\"type\":\"ping\"}") - 1)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "{\"type\":\"message_delta\",\"delta\":"
                    "{\"stop_reason\":\"%s\",\"stop_sequence\":null},"
                    "\"usage\":{\"input_tokens\":%uL,"
                    "\"output_tokens\":%uL}}",
                    ngx_gp_anthropic_stop_reason(a->finish_reason),
                    a->usage.prompt_tokens, a->usage.completion_tokens);

    if (ngx_gp_anthropic_event(o, "message_delta", buf, p) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return ngx_gp_sse_event(&o->sse, "message_stop",
                            (u_char *) "{\"type\":\"message_stop\"}",
                            sizeof("{\"type\":\"message_stop\"}") - 1, 1);
}


static ngx_int_t
ngx_gp_anthropic_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char       *p;
    size_t      i, len;
    json_t     *root, *content, *b, *input;
    ngx_int_t   rc;

    if (o->stream) {
        return ngx_gp_anthropic_stream_end(o, a);
    }

    content = json_array();
    if (content == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->reasoning && a->reasoning_len) {
        b = json_pack("{s:s, s:s%, s:s}", "type", "thinking",
                      "thinking", (char *) a->reasoning, a->reasoning_len,
                      "signature", "");

        if (b == NULL || json_array_append_new(content, b) != 0) {
            json_decref(content);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (a->text_len || a->ncalls == 0) {
        b = json_pack("{s:s, s:s%}", "type", "text",
                      "text", a->text ? (char *) a->text : "", a->text_len);

        if (b == NULL || json_array_append_new(content, b) != 0) {
            json_decref(content);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (i = 0; i < a->ncalls; i++) {
        input = json_loads(a->calls[i].arguments, 0, NULL);

        b = json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use",
                      "id", a->calls[i].id, "name", a->calls[i].name,
                      "input", json_is_object(input) ? input : json_object());

        if (input && !json_is_object(input)) {
            json_decref(input);
        }

        if (b == NULL || json_array_append_new(content, b) != 0) {
            json_decref(content);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    root = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:n, s:{s:I, s:I}}",
                     "id", (char *) o->id,
                     "type", "message",
                     "role", "assistant",
                     "model", o->model,
                     "content", content,
                     "stop_reason",
                     ngx_gp_anthropic_stop_reason(a->finish_reason),
                     "stop_sequence",
                     "usage",
                     "input_tokens", (json_int_t) a->usage.prompt_tokens,
                     "output_tokens",
                     (json_int_t) a->usage.completion_tokens);

    p = ngx_gp_json_dump(root, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(o->r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}


/*
 * POST /v1/messages/count_tokens: the body of a message request (no
 * max_tokens needed), {"input_tokens": N}: the estimate a turn counts as
 * its prompt when it replays the whole conversation into a new session
 * (for a first turn, exactly its usage).
 */

ngx_int_t
ngx_gp_anthropic_count_handler(ngx_http_request_t *r)
{
    ngx_int_t           rc;
    ngx_gp_reply_t      o;
    ngx_gp_oai_error_t  err;

    if (r->method != NGX_HTTP_POST) {
        ngx_memzero(&o, sizeof(ngx_gp_reply_t));
        o.r = r;

        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                             "invalid_request_error", NULL, NULL,
                             "use POST for /v1/messages/count_tokens");
        return ngx_gp_anthropic_error(&o, &err);
    }

    rc = ngx_http_read_client_request_body(r, ngx_gp_anthropic_count_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_gp_anthropic_count_body(ngx_http_request_t *r)
{
    ngx_gp_chat_count(r, &ngx_gp_surface_anthropic, NGX_GP_ANT_COUNT,
                      "model: ", "", "input_tokens");
}
