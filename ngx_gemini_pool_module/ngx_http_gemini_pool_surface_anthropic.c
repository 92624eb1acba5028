
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Anthropic Messages surface: POST /v1/messages (system, messages
 * with text and image blocks, max_tokens, stream), its answer as a
 * "message" object or Anthropic's event sequence (message_start,
 * content_block_start, ping, content_block_delta, content_block_stop,
 * message_delta, message_stop), thinking blocks for the thoughts, errors
 * as {"type":"error","error":{"type","message"}}; and
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


/* a base64 image block: {"type":"base64","media_type","data"} */

static ngx_int_t
ngx_gp_anthropic_image(json_t *src, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    size_t               i, len;
    json_t              *type, *mt, *data;
    const char          *s, *t;
    ngx_gp_image_ref_t  *img;

    type = json_object_get(src, "type");
    t = json_string_value(type);

    img = &m->images[m->nimages];

    if (t && ngx_strcmp(t, "url") == 0
        && json_is_string(json_object_get(src, "url")))
    {
        img->kind = NGX_GP_IMAGE_URL;
        img->url = strdup(json_string_value(json_object_get(src, "url")));
        if (img->url == NULL) {
            goto nomem;
        }

        m->nimages++;
        return NGX_OK;
    }

    mt = json_object_get(src, "media_type");
    data = json_object_get(src, "data");

    if (t == NULL || ngx_strcmp(t, "base64") != 0 || !json_is_string(mt)
        || ngx_strncmp(json_string_value(mt), "image/", 6) != 0
        || !json_is_string(data) || json_string_length(data) == 0)
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "%s.source: an image needs {\"type\":"
                             "\"base64\",\"media_type\":\"image/...\","
                             "\"data\"} or {\"type\":\"url\",\"url\"}", at);
        return NGX_ERROR;
    }

    s = json_string_value(data);
    len = json_string_length(data);

    for (i = 0; i < len; i++) {
        if (!(isalnum((u_char) s[i]) || s[i] == '+' || s[i] == '/'
              || s[i] == '='))
        {
            ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", NULL, NULL,
                                 "%s.source.data: not valid base64", at);
            return NGX_ERROR;
        }
    }

    img->kind = NGX_GP_IMAGE_DATA;
    img->mime = strdup(json_string_value(mt));
    img->data = malloc(len + 1);

    m->nimages++;

    if (img->mime == NULL || img->data == NULL) {
        goto nomem;
    }

    ngx_memcpy(img->data, s, len + 1);
    img->data_len = len;

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                         NULL, NULL, "out of memory");
    return NGX_ERROR;
}


/* text appended to a message's, "\n" between texts */

static ngx_int_t
ngx_gp_anthropic_text(ngx_gp_message_t *m, const char *s, size_t len)
{
    char  *p;

    p = realloc(m->text, m->len + len + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    m->text = p;

    if (m->len) {
        p[m->len++] = '\n';
    }

    ngx_memcpy(p + m->len, s, len);
    m->len += len;
    p[m->len] = '\0';

    return NGX_OK;
}


/* "content" (or "system"): a string or an array of blocks */

static ngx_int_t
ngx_gp_anthropic_content(json_t *c, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    size_t       i, k, n;
    json_t      *b, *v;
    const char  *t;
    char         bat[64];

    if (json_is_string(c)) {
        if (ngx_gp_anthropic_text(m, json_string_value(c),
                                  json_string_length(c))
            != NGX_OK)
        {
            goto nomem;
        }

        return NGX_OK;
    }

    if (!json_is_array(c)) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "%s: a string or an array of content blocks "
                             "is required", at);
        return NGX_ERROR;
    }

    n = json_array_size(c);

    m->images = calloc(n ? n : 1, sizeof(ngx_gp_image_ref_t));
    if (m->images == NULL) {
        goto nomem;
    }

    if (m->role == NGX_GP_ROLE_ASSISTANT) {
        m->calls = calloc(n ? n : 1, sizeof(ngx_gp_tool_call_t));
        if (m->calls == NULL) {
            goto nomem;
        }
    }

    for (i = 0; i < n; i++) {
        b = json_array_get(c, i);
        t = json_string_value(json_object_get(b, "type"));

        ngx_snprintf((u_char *) bat, sizeof(bat), "%s.%uz%Z", at, i);

        if (t == NULL) {
            ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", NULL, NULL,
                                 "%s.type: Field required", bat);
            return NGX_ERROR;
        }

        if (ngx_strcmp(t, "text") == 0) {
            v = json_object_get(b, "text");

            if (!json_is_string(v)) {
                ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_request_error", NULL, NULL,
                                     "%s.text: Field required", bat);
                return NGX_ERROR;
            }

            if (ngx_gp_anthropic_text(m, json_string_value(v),
                                      json_string_length(v))
                != NGX_OK)
            {
                goto nomem;
            }

            continue;
        }

        if (ngx_strcmp(t, "image") == 0 && m->role == NGX_GP_ROLE_USER) {
            if (ngx_gp_anthropic_image(json_object_get(b, "source"), m, bat,
                                       err)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(t, "tool_use") == 0
            && m->role == NGX_GP_ROLE_ASSISTANT)
        {
            /* counted first: what a failed check filled is freed too */
            k = m->ncalls++;

            if (ngx_gp_tool_call_from_json(&m->calls[k],
                                           json_object_get(b, "id"),
                                           json_object_get(b, "name"),
                                           json_object_get(b, "input"),
                                           k, bat, err)
                != 0)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(t, "tool_result") == 0
            && m->role == NGX_GP_ROLE_USER)
        {
            /* a message of its own (ngx_gp_anthropic_results) */
            continue;
        }

        if (ngx_strcmp(t, "thinking") == 0
            || ngx_strcmp(t, "redacted_thinking") == 0)
        {
            /* earlier thoughts: the upstream does not take them back */
            continue;
        }

        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "%s: content blocks of type \"%.32s\" are not "
                             "supported here", bat, t);
        return NGX_ERROR;
    }

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                         NULL, NULL, "out of memory");
    return NGX_ERROR;
}


/*
 * The tool_result blocks of a user message: one TOOL message each, before
 * the message's own text; the function's name from the earlier call.
 */

static ngx_int_t
ngx_gp_anthropic_results(ngx_gp_chat_req_t *req, json_t *content,
    const char *at, ngx_gp_oai_error_t *err)
{
    size_t              i, j, k;
    json_t             *b, *id, *c;
    const char         *t;
    ngx_gp_message_t   *m, *prev;
    char                bat[64];

    for (i = 0; i < json_array_size(content); i++) {
        b = json_array_get(content, i);
        t = json_string_value(json_object_get(b, "type"));

        if (t == NULL || ngx_strcmp(t, "tool_result") != 0) {
            continue;
        }

        ngx_snprintf((u_char *) bat, sizeof(bat), "%s.%uz%Z", at, i);

        id = json_object_get(b, "tool_use_id");

        if (!json_is_string(id)) {
            ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", NULL, NULL,
                                 "%s.tool_use_id: Field required", bat);
            return NGX_ERROR;
        }

        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_TOOL;

        m->call_id = strdup(json_string_value(id));
        if (m->call_id == NULL) {
            goto nomem;
        }

        for (j = 0; j + 1 < req->nmessages && m->name == NULL; j++) {
            prev = &req->messages[j];

            for (k = 0; k < prev->ncalls; k++) {
                if (ngx_strcmp(prev->calls[k].id, m->call_id) == 0) {
                    m->name = strdup(prev->calls[k].name);
                    break;
                }
            }
        }

        if (json_is_true(json_object_get(b, "is_error"))
            && ngx_gp_anthropic_text(m, "Error:", 6) != NGX_OK)
        {
            goto nomem;
        }

        c = json_object_get(b, "content");

        if (c && !json_is_null(c)) {
            ngx_snprintf((u_char *) bat, sizeof(bat), "%s.%uz.content%Z", at,
                         i);

            if (ngx_gp_anthropic_content(c, m, bat, err) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (m->text == NULL) {
            m->text = strdup("");
            if (m->text == NULL) {
                goto nomem;
            }
        }
    }

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                         NULL, NULL, "out of memory");
    return NGX_ERROR;
}


/* "tools" ({name, description, input_schema}) and "tool_choice" */

static ngx_int_t
ngx_gp_anthropic_tools(ngx_gp_chat_req_t *req, json_t *root,
    ngx_gp_oai_error_t *err)
{
    size_t       i, n;
    json_t      *tools, *tool, *choice, *v;
    const char  *t;
    char         at[32];

    tools = json_object_get(root, "tools");

    if (tools && !json_is_null(tools) && !json_is_array(tools)) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "tools: an array is required");
        return NGX_ERROR;
    }

    n = json_array_size(tools);

    if (n) {
        req->tools = calloc(n, sizeof(ngx_gp_tool_t));
        if (req->tools == NULL) {
            goto nomem;
        }
    }

    for (i = 0; i < n; i++) {
        tool = json_array_get(tools, i);
        t = json_string_value(json_object_get(tool, "type"));

        ngx_snprintf((u_char *) at, sizeof(at), "tools.%uz%Z", i);

        if (t && ngx_strcmp(t, "custom") != 0) {
            ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", NULL, NULL,
                                 "%s: tools of type \"%.32s\" are not "
                                 "supported here (client tools only)", at, t);
            return NGX_ERROR;
        }

        /* counted first: what a failed check filled is freed too */
        req->ntools++;

        if (ngx_gp_tool_from_json(&req->tools[i],
                                  json_object_get(tool, "name"),
                                  json_object_get(tool, "description"),
                                  json_object_get(tool, "input_schema"),
                                  at, err)
            != 0)
        {
            return NGX_ERROR;
        }
    }

    choice = json_object_get(root, "tool_choice");

    if (choice == NULL || json_is_null(choice)) {
        return NGX_OK;
    }

    t = json_string_value(json_object_get(choice, "type"));

    if (t && ngx_strcmp(t, "auto") == 0) {
        req->tool_choice = NGX_GP_TOOL_AUTO;

    } else if (t && ngx_strcmp(t, "none") == 0) {
        req->tool_choice = NGX_GP_TOOL_NONE;

    } else if (t && ngx_strcmp(t, "any") == 0) {
        req->tool_choice = NGX_GP_TOOL_REQUIRED;

    } else if (t && ngx_strcmp(t, "tool") == 0
               && json_is_string(json_object_get(choice, "name")))
    {
        req->tool_choice = NGX_GP_TOOL_FUNCTION;
        req->tool_name = strdup(json_string_value(json_object_get(choice,
                                                                  "name")));
        if (req->tool_name == NULL) {
            goto nomem;
        }

    } else {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "tool_choice: {\"type\":\"auto\"}, "
                             "{\"type\":\"any\"}, {\"type\":\"none\"} "
                             "or {\"type\":\"tool\",\"name\"} is "
                             "required");
        return NGX_ERROR;
    }

    v = json_object_get(choice, "disable_parallel_tool_use");
    req->no_parallel = json_is_true(v);

    if (ngx_gp_tool_choice_check(req, "tool_choice", err) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                         NULL, NULL, "out of memory");
    return NGX_ERROR;
}


static ngx_int_t
ngx_gp_anthropic_root(ngx_gp_reply_t *o, json_t *root,
    ngx_gp_oai_error_t *err)
{
    size_t              i, n, total, results;
    json_t             *v, *msgs, *sys, *msg;
    ngx_uint_t          user;
    const char         *role;
    ngx_gp_message_t   *m;
    ngx_gp_chat_req_t  *req;
    char                at[32];

    req = o->req;

    if (!json_is_object(root)) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "The request body must be a JSON object");
        return NGX_ERROR;
    }

    v = json_object_get(root, "model");

    if (!json_is_string(v) || json_string_length(v) == 0) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "model: Field required");
        return NGX_ERROR;
    }

    req->model = strdup(json_string_value(v));
    if (req->model == NULL) {
        goto nomem;
    }

    v = json_object_get(root, "max_tokens");

    if (!(o->data & NGX_GP_ANT_COUNT)
        && (!json_is_integer(v) || json_integer_value(v) < 1))
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             v ? "max_tokens: must be an integer of at "
                                 "least 1"
                               : "max_tokens: Field required");
        return NGX_ERROR;
    }

    v = json_object_get(root, "stream");

    if (v && !json_is_boolean(v) && !json_is_null(v)) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "stream: must be a boolean");
        return NGX_ERROR;
    }

    req->stream = json_is_true(v);

    msgs = json_object_get(root, "messages");

    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "messages: a non-empty array is required");
        return NGX_ERROR;
    }

    n = json_array_size(msgs);

    /* the system, the messages, and a message per tool result */
    total = n + 1;

    for (i = 0; i < n; i++) {
        v = json_object_get(json_array_get(msgs, i), "content");
        total += json_is_array(v) ? json_array_size(v) : 0;
    }

    if (ngx_gp_anthropic_tools(req, root, err) != NGX_OK) {
        return NGX_ERROR;
    }

    req->messages = calloc(total, sizeof(ngx_gp_message_t));
    if (req->messages == NULL) {
        goto nomem;
    }

    sys = json_object_get(root, "system");

    if (sys && !json_is_null(sys)) {
        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_SYSTEM;

        if (ngx_gp_anthropic_content(sys, m, "system", err) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    user = 0;

    for (i = 0; i < n; i++) {
        msg = json_array_get(msgs, i);
        role = json_string_value(json_object_get(msg, "role"));

        ngx_snprintf((u_char *) at, sizeof(at), "messages.%uz%Z", i);

        results = req->nmessages;

        if (role && ngx_strcmp(role, "user") == 0) {
            ngx_snprintf((u_char *) at, sizeof(at), "messages.%uz.content%Z",
                         i);

            if (ngx_gp_anthropic_results(req, json_object_get(msg,
                                                              "content"),
                                         at, err)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_snprintf((u_char *) at, sizeof(at), "messages.%uz%Z", i);
        }

        results = req->nmessages - results;

        m = &req->messages[req->nmessages++];

        if (role && ngx_strcmp(role, "user") == 0) {
            m->role = NGX_GP_ROLE_USER;
            user = 1;

        } else if (role && ngx_strcmp(role, "assistant") == 0) {
            m->role = NGX_GP_ROLE_ASSISTANT;

        } else {
            ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", NULL, NULL,
                                 "%s.role: must be \"user\" or "
                                 "\"assistant\"", at);
            return NGX_ERROR;
        }

        ngx_snprintf((u_char *) at, sizeof(at), "messages.%uz.content%Z",
                     i);

        if (ngx_gp_anthropic_content(json_object_get(msg, "content"), m, at,
                                     err)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (results && m->text == NULL && m->nimages == 0) {
            /* tool results only: no user text after them */
            free(m->images);
            ngx_memzero(m, sizeof(ngx_gp_message_t));
            req->nmessages--;
            continue;
        }

        if (m->text == NULL) {
            m->text = strdup("");
            if (m->text == NULL) {
                goto nomem;
            }
        }
    }

    if (!user) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "messages: at least one \"user\" message is "
                             "required");
        return NGX_ERROR;
    }

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                         NULL, NULL, "out of memory");
    return NGX_ERROR;
}


static ngx_int_t
ngx_gp_anthropic_parse(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    json_t        *root;
    ngx_int_t      rc;
    json_error_t   jerr;

    root = json_loadb((char *) body->data, body->len, JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", NULL, NULL,
                             "The request body is not valid JSON: %s "
                             "(line %d, column %d)", jerr.text, jerr.line,
                             jerr.column);
        return NGX_ERROR;
    }

    rc = ngx_gp_anthropic_root(o, root, err);

    json_decref(root);

    ngx_sprintf(o->id, "msg_%08xD%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random());

    return rc;
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
    char                *prompt;
    size_t               len;
    u_char              *p, buf[64];
    ngx_int_t            rc;
    ngx_str_t            body, name;
    ngx_gp_key_t         key;
    ngx_gp_model_t       m;
    ngx_gp_reply_t       o;
    ngx_gp_chat_req_t    req;
    ngx_gp_oai_error_t   err;

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&o, sizeof(ngx_gp_reply_t));
    ngx_memzero(&req, sizeof(ngx_gp_chat_req_t));
    o.r = r;
    o.req = &req;
    o.data = NGX_GP_ANT_COUNT;

    if (ngx_gp_anthropic_parse(&o, &body, &err) != NGX_OK) {
        goto error;
    }

    name.data = (u_char *) req.model;
    name.len = ngx_strlen(req.model);

    if (ngx_gp_zone_model(ngx_gp_zone(), &name, &m) != NGX_OK) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                             "invalid_request_error", NULL, NULL,
                             "model: %.*s", (int) ngx_min(name.len, 100),
                             name.data);
        goto error;
    }

    rc = ngx_gp_api_key_check(r, &name, &key, &err);

    if (rc == NGX_ERROR) {
        ngx_gp_chat_req_free(&req);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK) {
        goto error;
    }

    prompt = ngx_gp_chat_prompt(&req, 1, &len);
    ngx_gp_chat_req_free(&req);

    if (prompt == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(buf, "{\"input_tokens\":%uL}",
                    ngx_gp_estimate_tokens(prompt, len));
    free(prompt);

    ngx_http_finalize_request(r, ngx_gp_send_json(r, NGX_HTTP_OK, buf,
                                                  p - buf));
    return;

error:

    ngx_gp_chat_req_free(&req);
    ngx_http_finalize_request(r, ngx_gp_anthropic_error(&o, &err));
}
