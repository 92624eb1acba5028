
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI chat completions surface: POST /v1/chat/completions, its
 * answer as a chat.completion object or chat.completion.chunk events
 * (SSE, "data: [DONE]" at the end), generated media as content parts
 * when the format asks for them, errors as OpenAI error objects.
 */


#include "ngx_http_gemini_pool_module.h"


/* a chunk is rendered into the last buffer when it has this much room */
#define NGX_GP_CHUNK_ROOM      1024


static void ngx_gp_openai_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_openai_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_openai_model(ngx_gp_reply_t *o, ngx_gp_model_t *m,
    ngx_str_t *name, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_openai_begin(ngx_gp_reply_t *o);
static ngx_int_t ngx_gp_openai_delta(ngx_gp_reply_t *o, const char *p,
    size_t len, ngx_uint_t thought);
static ngx_int_t ngx_gp_openai_media(ngx_gp_reply_t *o, ngx_gp_media_t *m);
static ngx_int_t ngx_gp_openai_finish(ngx_gp_reply_t *o,
    ngx_gp_answer_t *a);
static ngx_int_t ngx_gp_openai_error(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_openai_stop(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_openai_chunk(ngx_gp_reply_t *o, const char *content,
    size_t content_len, const char *reasoning, size_t reasoning_len,
    const char *finish_reason);
static ngx_int_t ngx_gp_openai_render(ngx_gp_reply_t *o,
    const ngx_gp_chunk_t *c);
static ngx_int_t ngx_gp_openai_call(ngx_gp_reply_t *o,
    const ngx_gp_tool_call_t *calls, size_t i, ngx_uint_t args);


const ngx_gp_surface_t  ngx_gp_surface_openai = {
    "/v1/chat/completions",
    ngx_gp_openai_body,
    ngx_string("text/event-stream"),
    ngx_gp_openai_parse,
    ngx_gp_openai_model,
    ngx_gp_openai_begin,
    ngx_gp_openai_delta,
    ngx_gp_openai_media,
    ngx_gp_openai_finish,
    ngx_gp_openai_error,
    ngx_gp_openai_stop,
    NULL
};


static void
ngx_gp_openai_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_openai);
}


static ngx_int_t
ngx_gp_openai_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    if (ngx_gp_chat_req_parse((char *) body->data, body->len, o->req, err)
        != 0)
    {
        return NGX_ERROR;
    }

    ngx_sprintf(o->id, "chatcmpl-%08xD%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random());

    return NGX_OK;
}


static ngx_int_t
ngx_gp_openai_model(ngx_gp_reply_t *o, ngx_gp_model_t *m, ngx_str_t *name,
    ngx_gp_oai_error_t *err)
{
    return NGX_OK;
}


static ngx_int_t
ngx_gp_openai_begin(ngx_gp_reply_t *o)
{
    return ngx_gp_sse_header(&o->sse,
                             (char *) o->surface->stream_type.data,
                             o->surface->stream_type.len);
}


static ngx_int_t
ngx_gp_openai_delta(ngx_gp_reply_t *o, const char *p, size_t len,
    ngx_uint_t thought)
{
    return thought ? ngx_gp_openai_chunk(o, NULL, 0, p, len, NULL)
                   : ngx_gp_openai_chunk(o, p, len, NULL, 0, NULL);
}


/*
 * The answer was cut after it started: the error goes as an event of its
 * own, data: {"error":{...}}, the shape of an error response, and no chunk
 * carries a finish_reason; finish() then sends [DONE].  The openai SDKs
 * raise an APIError on an event with an "error" key, after the chunks
 * they have yielded; a client reading finish_reason never sees "stop".
 */

static ngx_int_t
ngx_gp_openai_stop(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    o->error_sent = 1;

    if (!o->sse.header_sent && ngx_gp_openai_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_gp_render_error(err, &len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_gp_sse_event(&o->sse, NULL, (u_char *) p, len, 0);
    free(p);

    return rc;
}


static ngx_int_t
ngx_gp_openai_error(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    return ngx_gp_send_error(o->r, err);
}


static ngx_int_t
ngx_gp_openai_chunk(ngx_gp_reply_t *o, const char *content,
    size_t content_len, const char *reasoning, size_t reasoning_len,
    const char *finish_reason)
{
    ngx_gp_chunk_t  c;

    if (!o->sse.header_sent && ngx_gp_openai_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&c, sizeof(ngx_gp_chunk_t));
    c.id = (char *) o->id;
    c.model = o->model;
    c.created = o->created;
    c.content = content;
    c.content_len = content_len;
    c.reasoning = reasoning;
    c.reasoning_len = reasoning_len;
    c.finish_reason = finish_reason;

    if (!o->role_sent) {
        c.role = "assistant";
        o->role_sent = 1;

        if (content == NULL && reasoning == NULL) {
            c.content = "";
        }
    }

    return ngx_gp_openai_render(o, &c);
}


/* one chunk of a streamed tool call: its head, or (args) its arguments */

static ngx_int_t
ngx_gp_openai_call(ngx_gp_reply_t *o, const ngx_gp_tool_call_t *calls,
    size_t i, ngx_uint_t args)
{
    ngx_gp_chunk_t  c;

    ngx_memzero(&c, sizeof(ngx_gp_chunk_t));
    c.id = (char *) o->id;
    c.model = o->model;
    c.created = o->created;
    c.call = &calls[i];
    c.call_index = i;
    c.call_args = args ? 1 : 0;

    if (!o->role_sent) {
        c.role = "assistant";
        o->role_sent = 1;
    }

    return ngx_gp_openai_render(o, &c);
}


/*
 * Renders a chunk straight into the last queued buffer (or a new one);
 * one that does not fit goes through a malloc'ed copy.
 */

static ngx_int_t
ngx_gp_openai_render(ngx_gp_reply_t *o, const ngx_gp_chunk_t *c)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;
    ngx_buf_t  *b;

    b = ngx_gp_sse_room(&o->sse, NGX_GP_CHUNK_ROOM);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = ngx_gp_render_chunk_into(c, (char *) b->last,
                                 (size_t) (b->end - b->last), &len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (p != (char *) b->last) {
        rc = ngx_gp_sse_send(&o->sse, (u_char *) p, len, 0);
        free(p);
        return rc;
    }

    return ngx_gp_sse_commit(&o->sse, b, len);
}


/* the media as OpenAI content parts; text parts note the failures */

static json_t *
ngx_gp_openai_parts(ngx_gp_reply_t *o, ngx_gp_media_t *m, json_t *parts)
{
    char                 *data;
    json_t               *part, *url;
    ngx_uint_t            i, n;
    ngx_gp_media_info_t   info;
    u_char                buf[1024];

    n = ngx_gp_media_count(m);

    for (i = 0; i < n; i++) {
        ngx_gp_media_info(m, i, &info);

        if (!info.ok) {
            (void) ngx_gp_media_failure(m, i, buf, sizeof(buf));
            part = json_pack("{s:s, s:s}", "type", "text", "text",
                             (char *) buf);

        } else {
            data = NULL;

            if (o->image_format == NGX_GP_FMT_B64 && !info.video) {
                data = ngx_gp_media_data_url(m, i);
            }

            if (data == NULL) {
                (void) ngx_gp_media_link(m, i, buf, sizeof(buf));
            }

            url = json_string(data ? data : (char *) buf);
            free(data);

            part = json_pack("{s:s, s:{s:o}}", "type", "image_url",
                             "image_url", "url", url);
        }

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            return NULL;
        }
    }

    return parts;
}


/*
 * A rendered chat.completion whose message.content becomes an array of
 * parts: the text (when any), then the media.  malloc'ed.
 */

static char *
ngx_gp_openai_completion_parts(ngx_gp_reply_t *o, ngx_gp_media_t *m,
    const char *rendered, size_t rlen, size_t *len)
{
    json_t      *root, *msg, *parts, *text;
    const char  *t;

    root = json_loadb(rendered, rlen, 0, NULL);
    if (root == NULL) {
        return NULL;
    }

    msg = json_object_get(json_array_get(json_object_get(root, "choices"),
                                         0),
                          "message");
    text = json_object_get(msg, "content");
    t = json_string_value(text);

    parts = json_array();

    if (parts && t && t[0]) {
        (void) json_array_append_new(parts,
                                     json_pack("{s:s, s:O}", "type", "text",
                                               "text", text));
    }

    if (msg == NULL || parts == NULL
        || ngx_gp_openai_parts(o, m, parts) == NULL
        || json_object_set_new(msg, "content", parts) != 0)
    {
        json_decref(parts);
        json_decref(root);
        return NULL;
    }

    return ngx_gp_json_dump(root, len);
}


/* a chat.completion.chunk whose delta.content is the media as parts */

static char *
ngx_gp_openai_media_chunk(ngx_gp_reply_t *o, ngx_gp_media_t *m,
    size_t *len)
{
    json_t  *root, *delta, *parts;

    parts = json_array();
    if (parts == NULL || ngx_gp_openai_parts(o, m, parts) == NULL) {
        json_decref(parts);
        return NULL;
    }

    delta = !o->role_sent ? json_pack("{s:s, s:o}", "role", "assistant",
                                      "content", parts)
                          : json_pack("{s:o}", "content", parts);

    root = delta ? json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n}]}",
                             "id", (char *) o->id,
                             "object", "chat.completion.chunk",
                             "created", (json_int_t) o->created,
                             "model", o->model,
                             "choices", "index", 0, "delta", delta,
                             "finish_reason")
                 : NULL;

    if (root == NULL) {
        return NULL;
    }

    return ngx_gp_json_dump(root, len);
}


/*
 * The media after the text: markdown and url formats as text (chat.c
 * adds them to the answer), array and b64_json as content parts: one
 * more chunk, or the non-stream message rewritten by finish().
 */

static ngx_int_t
ngx_gp_openai_media(ngx_gp_reply_t *o, ngx_gp_media_t *m)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    if (o->image_format == NGX_GP_FMT_MARKDOWN
        || o->image_format == NGX_GP_FMT_URL)
    {
        return NGX_DECLINED;
    }

    if (!o->stream) {
        return NGX_OK;
    }

    p = ngx_gp_openai_media_chunk(o, m, &len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (!o->sse.header_sent && ngx_gp_openai_begin(o) != NGX_OK) {
        free(p);
        return NGX_ERROR;
    }

    o->role_sent = 1;

    rc = ngx_gp_sse_event(&o->sse, NULL, (u_char *) p, len, 0);
    free(p);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static ngx_int_t
ngx_gp_openai_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char                 *p, *q;
    size_t                i, len, size;
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_uint_t            parts;
    ngx_gp_usage_t        usage;
    ngx_gp_chunk_t        chunk;
    ngx_gp_completion_t   c;
    ngx_http_request_t   *r;

    r = o->r;

    if (o->stream) {
        if (!o->sse.header_sent && ngx_gp_openai_begin(o) != NGX_OK) {
            return NGX_ERROR;
        }

        /* the finish chunk, the usage and [DONE]: one write */
        o->sse.defer = 1;

        /* the tool calls, as OpenAI streams them: a head, the arguments */
        for (i = 0; !o->error_sent && i < a->ncalls; i++) {
            if (ngx_gp_openai_call(o, a->calls, i, 0) == NGX_ERROR
                || ngx_gp_openai_call(o, a->calls, i, 1) == NGX_ERROR)
            {
                return NGX_ERROR;
            }
        }

        if (!o->error_sent
            && ngx_gp_openai_chunk(o, NULL, 0, NULL, 0, a->finish_reason)
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        if (o->req->include_usage) {
            usage = a->usage;

            ngx_memzero(&chunk, sizeof(ngx_gp_chunk_t));
            chunk.id = (char *) o->id;
            chunk.model = o->model;
            chunk.created = o->created;
            chunk.usage = &usage;

            if (ngx_gp_openai_render(o, &chunk) == NGX_ERROR) {
                return NGX_ERROR;
            }
        }

        return ngx_gp_sse_event(&o->sse, NULL, (u_char *) "[DONE]",
                                sizeof("[DONE]") - 1, 1);
    }

    ngx_memzero(&c, sizeof(ngx_gp_completion_t));
    c.id = (char *) o->id;
    c.model = o->model;
    c.created = o->created;
    c.content = a->text ? (char *) a->text : "";
    c.content_len = a->text_len;
    c.reasoning = (char *) a->reasoning;
    c.reasoning_len = a->reasoning_len;
    c.finish_reason = a->finish_reason;
    c.usage = a->usage;
    c.calls = a->calls;
    c.ncalls = a->ncalls;

    parts = ngx_gp_media_count(a->media)
            && (o->image_format == NGX_GP_FMT_ARRAY
                || o->image_format == NGX_GP_FMT_B64);

    if (!parts) {
        /*
         * Rendered straight into the response buffer, sized for the usual
         * escaping; only an answer that does not fit goes through a
         * malloc'ed copy (a growing heap buffer cost a realloc a turn).
         */

        size = 1024 + c.content_len + c.content_len / 8
               + ngx_strlen(c.model) + ngx_strlen(c.id);

        if (c.reasoning) {
            size += c.reasoning_len + c.reasoning_len / 8;
        }

        for (i = 0; i < c.ncalls; i++) {
            len = ngx_strlen(c.calls[i].arguments);
            size += 128 + ngx_strlen(c.calls[i].id)
                    + ngx_strlen(c.calls[i].name) + len + len / 4;
        }

        b = ngx_create_temp_buf(r->pool, size);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_gp_render_completion_into(&c, (char *) b->pos, size, &len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (p == (char *) b->pos) {
            b->last = b->pos + len;
            return ngx_gp_send_json_buf(r, NGX_HTTP_OK, b);
        }

    } else {
        p = ngx_gp_render_completion(&c, &len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* message.content: the text and the media as content parts */
        q = ngx_gp_openai_completion_parts(o, a->media, p, len, &len);
        free(p);
        p = q;

        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_gp_send_json(r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}
