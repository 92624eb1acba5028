
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini API surface (Google's generativelanguage v1beta):
 * POST /v1beta/models/{model}:generateContent and :streamGenerateContent
 * (SSE with alt=sse, else one JSON array streamed element by element),
 * the body parsed by genai.c, GenerateContentResponse
 * answers with thought parts, usageMetadata and finishReason; GET
 * /v1beta/models and /v1beta/models/{model}; errors as Google's
 * {"error":{"code","message","status"}}.
 */


#include "ngx_http_gemini_pool_module.h"


/* o->data */
#define NGX_GP_GEM_SSE         1        /* alt=sse */
#define NGX_GP_GEM_ELEMENT     2        /* an array element went */
#define NGX_GP_GEM_NO_THOUGHTS 4        /* includeThoughts: false */
#define NGX_GP_GEM_COUNT       8        /* parse: countTokens */


static void ngx_gp_gemini_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_gemini_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_gemini_model(ngx_gp_reply_t *o, ngx_gp_model_t *m,
    ngx_str_t *name, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_gemini_begin(ngx_gp_reply_t *o);
static ngx_int_t ngx_gp_gemini_delta(ngx_gp_reply_t *o, const char *p,
    size_t len, ngx_uint_t thought);
static ngx_int_t ngx_gp_gemini_media(ngx_gp_reply_t *o, ngx_gp_media_t *m);
static ngx_int_t ngx_gp_gemini_finish(ngx_gp_reply_t *o,
    ngx_gp_answer_t *a);
static ngx_int_t ngx_gp_gemini_error(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_gemini_stop(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static void ngx_gp_gemini_count_body(ngx_http_request_t *r);
static char *ngx_gp_gemini_render_error(ngx_gp_oai_error_t *err,
    size_t *len);


const ngx_gp_surface_t  ngx_gp_surface_gemini = {
    "/v1beta/models/{model}:generateContent",
    ngx_gp_gemini_body,
    ngx_string("text/event-stream"),
    ngx_gp_gemini_parse,
    ngx_gp_gemini_model,
    ngx_gp_gemini_begin,
    ngx_gp_gemini_delta,
    ngx_gp_gemini_media,
    ngx_gp_gemini_finish,
    ngx_gp_gemini_error,
    ngx_gp_gemini_stop,
    ngx_gp_gemini_render_error
};


/* what a silence sends in a JSON array stream: blank space */
static ngx_str_t  ngx_gp_gemini_filler = ngx_string("\n");


static void
ngx_gp_gemini_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_gemini);
}


/* google.rpc.Code names, by HTTP status */

static const char *
ngx_gp_gemini_status(int status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return "INVALID_ARGUMENT";
    case NGX_HTTP_UNAUTHORIZED:
        return "UNAUTHENTICATED";
    case NGX_HTTP_FORBIDDEN:
        return "PERMISSION_DENIED";
    case NGX_HTTP_NOT_FOUND:
        return "NOT_FOUND";
    case NGX_HTTP_NOT_ALLOWED:
        return "UNIMPLEMENTED";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "INVALID_ARGUMENT";
    case NGX_HTTP_TOO_MANY_REQUESTS:
        return "RESOURCE_EXHAUSTED";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "UNAVAILABLE";
    case NGX_HTTP_GATEWAY_TIME_OUT:
        return "DEADLINE_EXCEEDED";
    }

    return status < 500 ? "FAILED_PRECONDITION" : "INTERNAL";
}


/* {"error":{"code","message","status"}}, malloc'ed */

static char *
ngx_gp_gemini_render_error(ngx_gp_oai_error_t *err, size_t *len)
{
    return ngx_gp_json_dump(json_pack("{s:{s:i, s:s, s:s}}", "error",
                                      "code", err->status,
                                      "message", err->message,
                                      "status",
                                      ngx_gp_gemini_status(err->status)),
                            len);
}


static ngx_int_t
ngx_gp_gemini_send_error(ngx_http_request_t *r, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    p = ngx_gp_gemini_render_error(err, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, err->status, (u_char *) p, len);
    free(p);

    return rc;
}


static ngx_int_t
ngx_gp_gemini_error(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    return ngx_gp_gemini_send_error(o->r, err);
}


/*
 * The URI's parts: ".../models" (list), ".../models/<model>" (get) or
 * ".../models/<model>:<method>".  NGX_OK, or NGX_DECLINED: no "/models".
 */

static ngx_int_t
ngx_gp_gemini_uri(ngx_http_request_t *r, ngx_str_t *model, ngx_str_t *method)
{
    u_char  *p, *last, *colon;

    last = r->uri.data + r->uri.len;

    p = ngx_strlcasestrn(r->uri.data, last, (u_char *) "/models", 7 - 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p += 7;

    model->len = 0;
    method->len = 0;

    if (p == last || (*p == '/' && p + 1 == last)) {
        return NGX_OK;
    }

    if (*p != '/') {
        return NGX_DECLINED;
    }

    p++;

    colon = ngx_strlchr(p, last, ':');

    model->data = p;
    model->len = (colon ? colon : last) - p;

    if (colon) {
        method->data = colon + 1;
        method->len = last - method->data;
    }

    return ngx_strlchr(p, last, '/') ? NGX_DECLINED : NGX_OK;
}


static ngx_int_t
ngx_gp_gemini_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    int         rc, no_thoughts;
    ngx_str_t   model, method, alt;

    if (ngx_gp_gemini_uri(o->r, &model, &method) != NGX_OK
        || model.len == 0 || model.len >= NGX_GP_MODEL_LEN)
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_NOT_FOUND, "invalid_request_error",
                             NULL, NULL, "Unknown model in %.*s",
                             (int) ngx_min(o->r->uri.len, 200),
                             o->r->uri.data);
        return NGX_ERROR;
    }

    o->req->model = malloc(model.len + 1);
    if (o->req->model == NULL) {
        ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                             "server_error", NULL, NULL, "out of memory");
        return NGX_ERROR;
    }

    ngx_cpystrn((u_char *) o->req->model, model.data, model.len + 1);

    if (method.len == sizeof("streamGenerateContent") - 1
        && ngx_strncmp(method.data, "streamGenerateContent", method.len)
           == 0)
    {
        o->req->stream = 1;

        if (ngx_http_arg(o->r, (u_char *) "alt", 3, &alt) == NGX_OK
            && alt.len == 3 && ngx_strncmp(alt.data, "sse", 3) == 0)
        {
            o->data |= NGX_GP_GEM_SSE;

        } else {
            o->sse.keepalive = &ngx_gp_gemini_filler;
        }
    }

    no_thoughts = 0;

    rc = ngx_gp_genai_req_parse((char *) body->data, body->len,
                                (o->data & NGX_GP_GEM_COUNT) != 0, o->req,
                                &no_thoughts, err);

    if (no_thoughts) {
        o->data |= NGX_GP_GEM_NO_THOUGHTS;
    }

    ngx_sprintf(o->id, "%08xD%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random());

    return rc == 0 ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_gp_gemini_model(ngx_gp_reply_t *o, ngx_gp_model_t *m, ngx_str_t *name,
    ngx_gp_oai_error_t *err)
{
    /* every kind: generated media come as inlineData parts or links */
    return NGX_OK;
}


static ngx_int_t
ngx_gp_gemini_begin(ngx_gp_reply_t *o)
{
    if (o->data & NGX_GP_GEM_SSE) {
        return ngx_gp_sse_header(&o->sse, "text/event-stream",
                                 sizeof("text/event-stream") - 1);
    }

    if (ngx_gp_sse_header(&o->sse, "application/json",
                          sizeof("application/json") - 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_sse_send(&o->sse, (u_char *) "[", 1, 0) == NGX_ERROR
           ? NGX_ERROR : NGX_OK;
}


/* the framing before an element: "data: " or the array's comma */

static ngx_int_t
ngx_gp_gemini_open(ngx_gp_reply_t *o)
{
    if (!o->sse.header_sent && ngx_gp_gemini_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    if (o->data & NGX_GP_GEM_SSE) {
        return ngx_gp_sse_append(&o->sse, (u_char *) "data: ", 6, 0);
    }

    if (o->data & NGX_GP_GEM_ELEMENT) {
        return ngx_gp_sse_append(&o->sse, (u_char *) ",\r\n", 3, 0);
    }

    o->data |= NGX_GP_GEM_ELEMENT;

    return NGX_OK;
}


/* the framing after an element, and the element queued */

static ngx_int_t
ngx_gp_gemini_close(ngx_gp_reply_t *o, ngx_uint_t last)
{
    if (o->data & NGX_GP_GEM_SSE) {
        return ngx_gp_sse_send(&o->sse, (u_char *) "\r\n\r\n", 4, last);
    }

    return last ? ngx_gp_sse_send(&o->sse, (u_char *) "]", 1, 1)
                : ngx_gp_sse_send(&o->sse, (u_char *) "", 0, 0);
}


/* ","modelVersion":"<model>","responseId":"<id>"}" */

static ngx_int_t
ngx_gp_gemini_tail(ngx_gp_reply_t *o)
{
    u_char  *p, buf[80];

    if (ngx_gp_sse_append(&o->sse, (u_char *) "\"modelVersion\":\"", 16, 0)
        != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) o->model,
                             ngx_strlen(o->model), 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "\",\"responseId\":\"%s\"}", o->id);

    return ngx_gp_sse_append(&o->sse, buf, p - buf, 0);
}


static ngx_int_t
ngx_gp_gemini_delta(ngx_gp_reply_t *o, const char *p, size_t len,
    ngx_uint_t thought)
{
    static u_char  head[] = "{\"candidates\":[{\"content\":{\"parts\":"
                            "[{\"text\":\"";
    static u_char  text[] = "\"}],\"role\":\"model\"},\"index\":0}],";
    static u_char  thgt[] = "\",\"thought\":true}],\"role\":\"model\"},"
                            "\"index\":0}],";

    if (thought && (o->data & NGX_GP_GEM_NO_THOUGHTS)) {
        return NGX_OK;
    }

    if (ngx_gp_gemini_open(o) != NGX_OK
        || ngx_gp_sse_append(&o->sse, head, sizeof(head) - 1, 0) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) p, len, 1) != NGX_OK
        || (thought ? ngx_gp_sse_append(&o->sse, thgt, sizeof(thgt) - 1, 0)
                    : ngx_gp_sse_append(&o->sse, text, sizeof(text) - 1, 0))
           != NGX_OK
        || ngx_gp_gemini_tail(o) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_gemini_close(o, 0);
}


static ngx_int_t
ngx_gp_gemini_media(ngx_gp_reply_t *o, ngx_gp_media_t *m)
{
    /* generated media as links in the text */
    return NGX_DECLINED;
}


static const char *
ngx_gp_gemini_finish_reason(const char *finish_reason)
{
    if (finish_reason == NULL || ngx_strcmp(finish_reason, "stop") == 0
        || ngx_strcmp(finish_reason, "tool_calls") == 0)
    {
        return "STOP";
    }

    if (ngx_strcmp(finish_reason, "length") == 0) {
        return "MAX_TOKENS";
    }

    if (ngx_strcmp(finish_reason, "content_filter") == 0) {
        return "SAFETY";
    }

    return "OTHER";
}


/*
 * The answer was cut after it started: an element that is Google's error
 * object (the SDKs raise it), never a finishReason; finish() then ends
 * the array.
 */

static ngx_int_t
ngx_gp_gemini_stop(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    o->error_sent = 1;

    /* held for finish(), which follows at once and ends the stream */
    o->sse.defer = 1;

    p = ngx_gp_gemini_render_error(err, &len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_gp_gemini_open(o) != NGX_OK
        || ngx_gp_sse_append(&o->sse, (u_char *) p, len, 0) != NGX_OK)
    {
        free(p);
        return NGX_ERROR;
    }

    free(p);

    rc = ngx_gp_gemini_close(o, 0);

    return rc;
}


/* the calls as functionCall parts, appended to parts: 0, -1 */

static int
ngx_gp_gemini_calls(ngx_gp_answer_t *a, json_t *parts)
{
    size_t   i;
    json_t  *args, *part;

    for (i = 0; i < a->ncalls; i++) {
        args = json_loads(a->calls[i].arguments, 0, NULL);

        if (!json_is_object(args)) {
            json_decref(args);
            args = json_object();
        }

        part = json_pack("{s:{s:s, s:s, s:o}}", "functionCall",
                         "id", a->calls[i].id, "name", a->calls[i].name,
                         "args", args);

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            return -1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_gp_gemini_stream_end(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char    *calls;
    size_t   len;
    json_t  *parts;
    u_char  *p, buf[320];

    if (!o->sse.header_sent && ngx_gp_gemini_begin(o) != NGX_OK) {
        return NGX_ERROR;
    }

    o->sse.defer = 1;

    if (o->error_sent) {
        return (o->data & NGX_GP_GEM_SSE)
               ? ngx_gp_sse_send(&o->sse, (u_char *) "", 0, 1)
               : ngx_gp_sse_send(&o->sse, (u_char *) "]", 1, 1);
    }

    /* the calls (when any) as the parts of the last element */
    calls = NULL;
    len = 0;

    if (a->ncalls) {
        parts = json_array();

        if (parts == NULL || ngx_gp_gemini_calls(a, parts) != 0) {
            json_decref(parts);
            return NGX_ERROR;
        }

        calls = ngx_gp_json_dump(parts, &len);
        if (calls == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_gp_gemini_open(o) != NGX_OK
        || ngx_gp_sse_append(&o->sse,
                             (u_char *) "{\"candidates\":[{\"content\":"
                             "{\"parts\":",
                             sizeof("{\"candidates\":[{\"content\":"
                                    "{\"parts\":") - 1, 0) != NGX_OK
        || (calls ? ngx_gp_sse_append(&o->sse, (u_char *) calls, len, 0)
                  : ngx_gp_sse_append(&o->sse, (u_char *) "[{\"text\":\"\"}]",
                                      sizeof("[{\"text\":\"\"}]") - 1, 0))
           != NGX_OK)
    {
        free(calls);
        return NGX_ERROR;
    }

    free(calls);

    p = ngx_sprintf(buf, ",\"role\":\"model\"},"
                    "\"finishReason\":\"%s\",\"index\":0}],"
                    "\"usageMetadata\":{\"promptTokenCount\":%uL,"
                    "\"candidatesTokenCount\":%uL,"
                    "\"totalTokenCount\":%uL},",
                    ngx_gp_gemini_finish_reason(a->finish_reason),
                    a->usage.prompt_tokens, a->usage.completion_tokens,
                    a->usage.prompt_tokens + a->usage.completion_tokens);

    if (ngx_gp_sse_append(&o->sse, buf, p - buf, 0) != NGX_OK
        || ngx_gp_gemini_tail(o) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_gemini_close(o, 1);
}


static ngx_int_t
ngx_gp_gemini_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char       *p;
    size_t      len;
    json_t     *root, *parts, *part;
    ngx_int_t   rc;

    if (o->stream) {
        return ngx_gp_gemini_stream_end(o, a);
    }

    parts = json_array();
    if (parts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (a->reasoning && a->reasoning_len
        && !(o->data & NGX_GP_GEM_NO_THOUGHTS))
    {
        part = json_pack("{s:s%, s:b}", "text", (char *) a->reasoning,
                         a->reasoning_len, "thought", 1);

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            json_decref(parts);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (a->text_len || a->ncalls == 0) {
        part = json_pack("{s:s%}", "text", a->text ? (char *) a->text : "",
                         a->text_len);

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            json_decref(parts);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_gp_gemini_calls(a, parts) != 0) {
        json_decref(parts);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    root = json_pack("{s:[{s:{s:o, s:s}, s:s, s:i}],"
                     " s:{s:I, s:I, s:I}, s:s, s:s}",
                     "candidates",
                     "content", "parts", parts, "role", "model",
                     "finishReason",
                     ngx_gp_gemini_finish_reason(a->finish_reason),
                     "index", 0,
                     "usageMetadata",
                     "promptTokenCount", (json_int_t) a->usage.prompt_tokens,
                     "candidatesTokenCount",
                     (json_int_t) a->usage.completion_tokens,
                     "totalTokenCount",
                     (json_int_t) (a->usage.prompt_tokens
                                   + a->usage.completion_tokens),
                     "modelVersion", o->model,
                     "responseId", (char *) o->id);

    p = ngx_gp_json_dump(root, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(o->r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}


/* one Model resource */

static json_t *
ngx_gp_gemini_model_json(ngx_gp_model_t *m)
{
    u_char  name[NGX_GP_MODEL_LEN + 8];

    ngx_sprintf(name, "models/%s%Z", m->name);

    return json_pack("{s:s, s:s, s:s, s:[s, s, s]}",
                     "name", (char *) name,
                     "version", "001",
                     "displayName", (char *) m->name,
                     "supportedGenerationMethods",
                     "generateContent", "streamGenerateContent",
                     "countTokens");
}


static ngx_int_t
ngx_gp_gemini_models(ngx_http_request_t *r, ngx_str_t *id)
{
    char                *p;
    size_t               len;
    json_t              *list, *root;
    ngx_int_t            rc;
    ngx_uint_t           i, n;
    ngx_gp_zone_t       *z;
    ngx_gp_key_t         key;
    ngx_gp_model_t      *models, m;
    ngx_gp_oai_error_t   err;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_gp_api_key_check(r, NULL, &key, &err);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_gp_gemini_send_error(r, &err);
    }

    z = ngx_gp_zone();

    if (id->len) {
        if (ngx_gp_zone_model(z, id, &m) != NGX_OK) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                                 "invalid_request_error", NULL, NULL,
                                 "models/%.*s is not found for API version "
                                 "v1beta", (int) ngx_min(id->len, 100),
                                 id->data);
            return ngx_gp_gemini_send_error(r, &err);
        }

        root = ngx_gp_gemini_model_json(&m);

    } else {
        models = ngx_palloc(r->pool, sizeof(ngx_gp_model_t)
                                     * NGX_GP_MAX_MODELS);
        if (models == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_shmtx_lock(&z->shpool->mutex);
        n = z->sh->nmodels;
        ngx_memcpy(models, z->sh->models, n * sizeof(ngx_gp_model_t));
        ngx_shmtx_unlock(&z->shpool->mutex);

        list = json_array();

        for (i = 0; list && i < n; i++) {
            if (json_array_append_new(list,
                                      ngx_gp_gemini_model_json(&models[i]))
                != 0)
            {
                json_decref(list);
                list = NULL;
            }
        }

        root = list ? json_pack("{s:o}", "models", list) : NULL;
    }

    p = ngx_gp_json_dump(root, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}


/*
 * The /v1beta/ location: models.list, models.get, generateContent,
 * streamGenerateContent and countTokens; anything else is Google's
 * NOT_FOUND.
 */

ngx_int_t
ngx_gp_gemini_handler(ngx_http_request_t *r)
{
    ngx_int_t           rc;
    ngx_str_t           model, method;
    ngx_gp_oai_error_t  err;

    if (ngx_gp_gemini_uri(r, &model, &method) == NGX_OK) {

        if (method.len == 0 && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_gp_gemini_models(r, &model);
        }

        if ((method.len == sizeof("generateContent") - 1
             && ngx_strncmp(method.data, "generateContent", method.len)
                == 0)
            || (method.len == sizeof("streamGenerateContent") - 1
                && ngx_strncmp(method.data, "streamGenerateContent",
                               method.len)
                   == 0))
        {
            return ngx_gp_chat_handler(r, &ngx_gp_surface_gemini);
        }

        if (method.len == sizeof("countTokens") - 1
            && ngx_strncmp(method.data, "countTokens", method.len) == 0)
        {
            if (r->method != NGX_HTTP_POST) {
                ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                                     "invalid_request_error", NULL, NULL,
                                     "use POST for %.*s",
                                     (int) ngx_min(r->uri.len, 200),
                                     r->uri.data);
                return ngx_gp_gemini_send_error(r, &err);
            }

            rc = ngx_http_read_client_request_body(r,
                                               ngx_gp_gemini_count_body);

            return rc >= NGX_HTTP_SPECIAL_RESPONSE ? rc : NGX_DONE;
        }

        if (method.len == 0) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                                 "invalid_request_error", NULL, NULL,
                                 "use GET for %.*s",
                                 (int) ngx_min(r->uri.len, 200),
                                 r->uri.data);
            return ngx_gp_gemini_send_error(r, &err);
        }
    }

    ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND, "invalid_request_error",
                         NULL, NULL, "Unknown request URL: %.*s",
                         (int) ngx_min(r->uri.len, 200), r->uri.data);

    return ngx_gp_gemini_send_error(r, &err);
}


/*
 * POST /v1beta/models/{model}:countTokens: {"contents", ...} or
 * {"generateContentRequest": {...}}; {"totalTokens": N}, the estimate a
 * turn counts as its prompt when it replays the whole conversation into a
 * new session (for a first turn, exactly its promptTokenCount).
 */

static void
ngx_gp_gemini_count_body(ngx_http_request_t *r)
{
    ngx_gp_chat_count(r, &ngx_gp_surface_gemini, NGX_GP_GEM_COUNT,
                      "models/", " is not found for API version v1beta",
                      "totalTokens");
}
