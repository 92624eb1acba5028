
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * OpenAI's Responses API surface: POST /v1/responses as a chat turn
 * (responses.c parses the body and renders), its answer as a response
 * object or the Responses event sequence (response.created,
 * response.in_progress, output items with their parts and deltas,
 * response.completed; a cut answer ends with response.failed), errors
 * as OpenAI error objects.  A response is kept only as the binding of
 * its upstream session (store): previous_response_id continues it.
 */


#include "ngx_http_gemini_pool_module.h"


/* the surface's state of one response, in o->data */
typedef struct {
    ngx_gp_resp_req_t        rr;
    uint64_t                 seq;
    ngx_gp_buf_t             ev;          /* the events being rendered */
    ngx_gp_buf_t             text;        /* streamed: the answer so far */
    ngx_gp_buf_t             reasoning;
    size_t                   max;         /* gemini_pool_max_answer_size */
    unsigned                 index;       /* the next output item's */
    unsigned                 reasoning_index;
    unsigned                 message_index;
    unsigned                 reasoning_open:1;
    unsigned                 reasoning_done:1;
    unsigned                 message_open:1;
} ngx_gp_resp_state_t;


static void ngx_gp_resp_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_resp_parse_body(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_resp_model(ngx_gp_reply_t *o, ngx_gp_model_t *m,
    ngx_str_t *name, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_resp_begin(ngx_gp_reply_t *o);
static ngx_int_t ngx_gp_resp_delta(ngx_gp_reply_t *o, const char *p,
    size_t len, ngx_uint_t thought);
static ngx_int_t ngx_gp_resp_media(ngx_gp_reply_t *o, ngx_gp_media_t *m);
static ngx_int_t ngx_gp_resp_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a);
static ngx_int_t ngx_gp_resp_error(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_resp_stop(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);


const ngx_gp_surface_t  ngx_gp_surface_responses = {
    "/v1/responses",
    ngx_gp_resp_body,
    ngx_string("text/event-stream"),
    ngx_gp_resp_parse_body,
    ngx_gp_resp_model,
    ngx_gp_resp_begin,
    ngx_gp_resp_delta,
    ngx_gp_resp_media,
    ngx_gp_resp_finish,
    ngx_gp_resp_error,
    ngx_gp_resp_stop,
    NULL
};


static void
ngx_gp_resp_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_responses);
}


static void
ngx_gp_resp_cleanup(void *data)
{
    ngx_gp_resp_state_t  *st = data;

    ngx_gp_resp_req_free(&st->rr);
    free(st->ev.p);
    free(st->text.p);
    free(st->reasoning.p);
}


static ngx_gp_resp_state_t *
ngx_gp_resp_state(ngx_gp_reply_t *o)
{
    return (ngx_gp_resp_state_t *) o->data;
}


static ngx_int_t
ngx_gp_resp_parse_body(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    ngx_pool_cleanup_t               *cln;
    ngx_gp_resp_state_t              *st;
    ngx_http_gemini_pool_loc_conf_t  *glcf;

    st = ngx_pcalloc(o->r->pool, sizeof(ngx_gp_resp_state_t));
    cln = ngx_pool_cleanup_add(o->r->pool, 0);

    if (st == NULL || cln == NULL) {
        ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                             "server_error", "internal_error", NULL,
                             "out of memory");
        return NGX_ERROR;
    }

    cln->handler = ngx_gp_resp_cleanup;
    cln->data = st;
    o->data = (ngx_uint_t) st;

    glcf = ngx_http_get_module_loc_conf(o->r, ngx_http_gemini_pool_module);
    st->max = glcf->max_answer;

    if (ngx_gp_resp_parse((char *) body->data, body->len, &st->rr, o->req,
                          err)
        != 0)
    {
        return NGX_ERROR;
    }

    ngx_sprintf(o->id, "resp_%08xD%08xD%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random(), (uint32_t) ngx_random());

    if (st->rr.store) {
        /* the next turn's previous_response_id finds the session */
        o->req->conversation_next = strdup((char *) o->id);

        if (o->req->conversation_next == NULL) {
            ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "server_error", "internal_error", NULL,
                                 "out of memory");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_gp_resp_model(ngx_gp_reply_t *o, ngx_gp_model_t *m, ngx_str_t *name,
    ngx_gp_oai_error_t *err)
{
    return NGX_OK;
}


/* the response as it stands */

static void
ngx_gp_resp_now(ngx_gp_reply_t *o, ngx_gp_resp_t *r, const char *status)
{
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    ngx_memzero(r, sizeof(ngx_gp_resp_t));

    r->id = (char *) o->id;
    r->model = o->model;
    r->created = o->created;
    r->req = &st->rr;
    r->status = status;

    if (st->reasoning_open) {
        r->reasoning = st->reasoning.p ? st->reasoning.p : "";
        r->reasoning_len = st->reasoning.len;
    }

    if (st->message_open) {
        r->text = st->text.p ? st->text.p : "";
        r->text_len = st->text.len;
    }
}


/* the events rendered into st->ev go to the client */

static ngx_int_t
ngx_gp_resp_send(ngx_gp_reply_t *o, ngx_uint_t last)
{
    size_t                len;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (st->ev.failed) {
        return NGX_ERROR;
    }

    len = st->ev.len;

    if (len == 0 && !last) {
        return NGX_OK;
    }

    st->ev.len = 0;

    return ngx_gp_sse_send(&o->sse, (u_char *) (len ? st->ev.p : ""), len,
                           last);
}


static ngx_int_t
ngx_gp_resp_begin(ngx_gp_reply_t *o)
{
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (ngx_gp_sse_header(&o->sse, (char *) o->surface->stream_type.data,
                          o->surface->stream_type.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_gp_resp_now(o, &r, "in_progress");

    st->ev.len = 0;
    ngx_gp_resp_ev_response(&st->ev, &st->seq, "response.created", &r);
    ngx_gp_resp_ev_response(&st->ev, &st->seq, "response.in_progress", &r);

    return ngx_gp_resp_send(o, 0) == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


/* the reasoning item ends when the text starts (or the answer ends) */

static void
ngx_gp_resp_close_reasoning(ngx_gp_reply_t *o)
{
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (!st->reasoning_open || st->reasoning_done) {
        return;
    }

    st->reasoning_done = 1;

    ngx_gp_resp_now(o, &r, "in_progress");
    ngx_gp_resp_ev_close(&st->ev, &st->seq, &r, NGX_GP_RESP_REASONING,
                         st->reasoning_index);
}


static void
ngx_gp_resp_open_message(ngx_gp_reply_t *o)
{
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (st->message_open) {
        return;
    }

    ngx_gp_resp_close_reasoning(o);

    st->message_open = 1;
    st->message_index = st->index++;

    ngx_gp_resp_now(o, &r, "in_progress");
    ngx_gp_resp_ev_open(&st->ev, &st->seq, &r, NGX_GP_RESP_MESSAGE,
                        st->message_index);
}


/*
 * A piece of the answer: its item opens first; the text is kept, as the
 * end of each item repeats it.
 */

static ngx_int_t
ngx_gp_resp_delta(ngx_gp_reply_t *o, const char *p, size_t len,
    ngx_uint_t thought)
{
    ngx_gp_buf_t         *keep;
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (!o->sse.header_sent && ngx_gp_resp_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    if (thought) {
        if (st->message_open) {
            /* a thought after the text began: its item has ended */
            return NGX_OK;
        }

        if (!st->reasoning_open) {
            st->reasoning_open = 1;
            st->reasoning_index = st->index++;

            ngx_gp_resp_now(o, &r, "in_progress");
            ngx_gp_resp_ev_open(&st->ev, &st->seq, &r,
                                NGX_GP_RESP_REASONING, st->reasoning_index);
        }

        keep = &st->reasoning;

    } else {
        ngx_gp_resp_open_message(o);
        keep = &st->text;
    }

    if (st->text.len + st->reasoning.len + len > st->max) {
        return NGX_DECLINED;
    }

    ngx_gp_buf_add(keep, p, len);

    if (keep->failed) {
        return NGX_ERROR;
    }

    ngx_gp_resp_now(o, &r, "in_progress");
    ngx_gp_resp_ev_delta(&st->ev, &st->seq, &r,
                         thought ? NGX_GP_RESP_REASONING
                                 : NGX_GP_RESP_MESSAGE,
                         thought ? st->reasoning_index : st->message_index,
                         p, len);

    return ngx_gp_resp_send(o, 0);
}


/* media as links in the text (markdown when an array was asked for) */

static ngx_int_t
ngx_gp_resp_media(ngx_gp_reply_t *o, ngx_gp_media_t *m)
{
    if (o->image_format != NGX_GP_FMT_URL) {
        o->image_format = NGX_GP_FMT_MARKDOWN;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_gp_resp_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char                 *p;
    size_t                i, len;
    ngx_int_t             rc;
    const char           *status, *incomplete;
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    incomplete = NULL;
    status = "completed";

    if (ngx_strcmp(a->finish_reason, "content_filter") == 0) {
        incomplete = "content_filter";
        status = "incomplete";
    }

    if (o->stream) {
        if (!o->sse.header_sent && ngx_gp_resp_begin(o) != NGX_OK) {
            return NGX_ERROR;
        }

        o->sse.defer = 1;

        if (o->error_sent) {
            /* response.failed has gone: only the end of the framing */
            return o->sse.pending ? ngx_gp_resp_send(o, 1)
                                  : ngx_http_send_special(o->r,
                                                          NGX_HTTP_LAST);
        }

        ngx_gp_resp_close_reasoning(o);

        if (a->ncalls == 0) {
            /* an answer has a message, if an empty one */
            ngx_gp_resp_open_message(o);
        }

        ngx_gp_resp_now(o, &r, status);
        r.incomplete = incomplete;
        r.usage = &a->usage;
        r.calls = a->calls;
        r.ncalls = a->ncalls;

        if (st->message_open) {
            ngx_gp_resp_ev_close(&st->ev, &st->seq, &r, NGX_GP_RESP_MESSAGE,
                                 st->message_index);
        }

        /* the calls, each whole, after the text */
        for (i = 0; i < a->ncalls; i++) {
            ngx_gp_resp_ev_call(&st->ev, &st->seq, &r, i, st->index++);
        }

        ngx_gp_resp_ev_response(&st->ev, &st->seq,
                                incomplete ? "response.incomplete"
                                           : "response.completed", &r);

        return ngx_gp_resp_send(o, 1);
    }

    ngx_memzero(&r, sizeof(ngx_gp_resp_t));

    r.id = (char *) o->id;
    r.model = o->model;
    r.created = o->created;
    r.req = &st->rr;
    r.status = status;
    r.incomplete = incomplete;
    r.usage = &a->usage;
    r.reasoning = (char *) a->reasoning;
    r.reasoning_len = a->reasoning_len;
    r.calls = a->calls;
    r.ncalls = a->ncalls;

    if (a->ncalls == 0 || a->text_len) {
        /* calls without prose around them: no message */
        r.text = a->text ? (char *) a->text : "";
        r.text_len = a->text_len;
    }

    p = ngx_gp_resp_render(&r, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(o->r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}


/* an error before the answer: an OpenAI error object */

static ngx_int_t
ngx_gp_resp_error(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    if (err->code && ngx_strcmp(err->code, "conversation_not_found") == 0
        && st && st->rr.previous_response_id)
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             "previous_response_not_found",
                             "previous_response_id", "Previous response "
                             "with id '%.64s' not found: it was not "
                             "stored, has expired or was evicted, or "
                             "belongs to another API key.",
                             st->rr.previous_response_id);
    }

    return ngx_gp_send_error(o->r, err);
}


/*
 * The answer was cut after it started: response.failed, with the error
 * and the output so far, never response.completed.
 */

static ngx_int_t
ngx_gp_resp_stop(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    ngx_gp_resp_t         r;
    ngx_gp_resp_state_t  *st;

    st = ngx_gp_resp_state(o);

    o->error_sent = 1;

    if (!o->sse.header_sent && ngx_gp_resp_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_gp_resp_now(o, &r, "failed");
    r.error = err;
    r.item_status = "incomplete";

    ngx_gp_resp_ev_response(&st->ev, &st->seq, "response.failed", &r);

    /* finish() follows: the end of the stream goes in the same write */
    o->sse.defer = 1;

    return ngx_gp_resp_send(o, 0);
}
