
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI side, as pure functions: request parsing, the upstream
 * prompt, and rendering of completions, chunks, model lists and errors.
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_openai.h"
#include "ngx_http_gemini_pool_wire.h"


#define GP_PARAM_LEN  96


static int parse_root(json_t *root, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static void render_chunk(ngx_gp_buf_t *b, const ngx_gp_chunk_t *c);
static int parse_messages(json_t *list, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_prompts(json_t *list, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_tools(json_t *root, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_tool_choice(json_t *v, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_message_tools(json_t *msg, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int parse_role(json_t *v, const char *param, int dflt, int *role,
    ngx_gp_oai_error_t *err);
static int parse_content(json_t *content, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int parse_part(json_t *part, const char *param, ngx_gp_buf_t *text,
    size_t *ntext, ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int parse_url(const char *url, size_t len, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int parse_data_url(const char *url, size_t len, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int add_file(ngx_gp_message_t *m, const char *id, size_t len,
    ngx_gp_oai_error_t *err);
static ngx_gp_image_ref_t *new_image(ngx_gp_message_t *m);
static int opt_string(json_t *root, const char *key, char **dst,
    ngx_gp_oai_error_t *err);
static int opt_bool(json_t *obj, const char *key, const char *param,
    int *dst, ngx_gp_oai_error_t *err);
static void param_cat(char *dst, const char *a, const char *b,
    const char *c);
static const char *type_name(json_t *v);
static int nomem(ngx_gp_oai_error_t *err);
static void error_vset(ngx_gp_oai_error_t *err, int status,
    const char *type, const char *code, const char *param, const char *fmt,
    va_list args);
static void user_query(const char *p, size_t len, const char **out,
    size_t *out_len);
static void paragraph(ngx_gp_buf_t *b, const ngx_gp_chat_req_t *req,
    const ngx_gp_message_t *m);
static void result(ngx_gp_buf_t *b, const ngx_gp_chat_req_t *req,
    const ngx_gp_message_t *m);
static void render_usage(ngx_gp_buf_t *b, const ngx_gp_usage_t *u);
static void render_call(ngx_gp_buf_t *b, const ngx_gp_tool_call_t *call,
    size_t index, int part);
static void render_model(ngx_gp_buf_t *b, const char *id, time_t created,
    const char *owned_by);




/* request parsing */

int
ngx_gp_chat_req_parse(const char *body, size_t len, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    int            rc;
    json_t        *root;
    json_error_t   jerr;

    memset(req, 0, sizeof(ngx_gp_chat_req_t));
    memset(err, 0, sizeof(ngx_gp_oai_error_t));

    /* the common shapes in one pass; anything else through jansson */

    if (ngx_gp_chat_req_fast(body, len, req) == 0) {
        return 0;
    }

    ngx_gp_chat_req_free(req);

    root = json_loadb(body ? body : "", body ? len : 0,
                      JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_json", NULL,
                             "We could not parse the JSON body of your "
                             "request: %s (line %d, column %d)",
                             jerr.text, jerr.line, jerr.column);
        return -1;
    }

    if (!json_is_object(root)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", NULL,
                             "The request body must be a JSON object, "
                             "but got %s instead.", type_name(root));
        json_decref(root);
        return -1;
    }

    rc = parse_root(root, req, err);

    json_decref(root);

    return rc;
}


void
ngx_gp_chat_req_free(ngx_gp_chat_req_t *req)
{
    size_t               i, j;
    ngx_gp_message_t    *m;
    ngx_gp_image_ref_t  *img;

    for (i = 0; i < req->nmessages; i++) {
        m = &req->messages[i];

        for (j = 0; j < m->nimages; j++) {
            img = &m->images[j];

            free(img->mime);
            free(img->data);
            free(img->url);
            free(img->file_id);
        }

        free(m->images);
        free(m->text);
        ngx_gp_tool_calls_free(m->calls, m->ncalls);
        free(m->call_id);
        free(m->name);
    }

    free(req->messages);
    ngx_gp_tool_free(req->tools, req->ntools);
    free(req->tool_name);
    free(req->model);
    free(req->conversation_id);
    free(req->conversation_next);
    free(req->image_format);

    memset(req, 0, sizeof(ngx_gp_chat_req_t));
}


static int
parse_root(json_t *root, ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    size_t   i;
    json_t  *v;

    v = json_object_get(root, "model");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", "model",
                                 "Invalid type for 'model': expected a "
                                 "string, but got %s instead.",
                                 type_name(v));
            return -1;
        }

        /* "" is treated as absent: the caller applies its default */

        if (json_string_length(v) > 0) {
            req->model = ngx_gp_mem_dup(json_string_value(v),
                                 json_string_length(v));
            if (req->model == NULL) {
                return nomem(err);
            }
        }
    }

    if (opt_bool(root, "stream", "stream", &req->stream, err) != 0) {
        return -1;
    }

    v = json_object_get(root, "stream_options");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_object(v)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", "stream_options",
                                 "Invalid type for 'stream_options': "
                                 "expected an object, but got %s instead.",
                                 type_name(v));
            return -1;
        }

        if (opt_bool(v, "include_usage", "stream_options.include_usage",
                     &req->include_usage, err)
            != 0)
        {
            return -1;
        }
    }

    if (opt_string(root, "conversation_id", &req->conversation_id, err)
        != 0
        || opt_string(root, "image_format", &req->image_format, err) != 0)
    {
        return -1;
    }

    v = json_object_get(root, "messages");

    if (v == NULL || json_is_null(v)) {
        v = json_object_get(root, "prompts");

        if (v == NULL || json_is_null(v)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "missing_required_parameter", "messages",
                                 "Missing required parameter: "
                                 "'messages'.");
            return -1;
        }

        if (parse_prompts(v, req, err) != 0) {
            return -1;
        }

    } else if (parse_messages(v, req, err) != 0) {
        return -1;
    }

    if (parse_tools(root, req, err) != 0) {
        return -1;
    }

    for (i = 0; i < req->nmessages; i++) {
        if (req->messages[i].role == NGX_GP_ROLE_USER
            || (req->messages[i].role == NGX_GP_ROLE_TOOL
                && req->conversation_id))
        {
            /* a conversation continued by its id may bring only the
               results of the calls its last answer made */
            return 0;
        }
    }

    ngx_gp_oai_error_set(err, 400, "invalid_request_error", "invalid_value",
                         "messages",
                         "Invalid 'messages': at least one message with "
                         "role 'user' is required.");
    return -1;
}


static int
parse_messages(json_t *list, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    int                role;
    char               param[GP_PARAM_LEN], sub[GP_PARAM_LEN];
    size_t             i, n;
    json_t            *msg;
    ngx_gp_message_t  *m;

    if (!json_is_array(list)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", "messages",
                             "Invalid type for 'messages': expected an "
                             "array of messages, but got %s instead.",
                             type_name(list));
        return -1;
    }

    n = json_array_size(list);

    if (n == 0) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", "messages",
                             "Invalid 'messages': empty array. Expected an "
                             "array with minimum length 1, but got an "
                             "empty array instead.");
        return -1;
    }

    req->messages = calloc(n, sizeof(ngx_gp_message_t));
    if (req->messages == NULL) {
        return nomem(err);
    }

    req->nmessages = n;

    for (i = 0; i < n; i++) {
        msg = json_array_get(list, i);
        m = &req->messages[i];

        snprintf(param, sizeof(param), "messages[%zu]", i);

        if (!json_is_object(msg)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", param,
                                 "Invalid type for '%s': expected an "
                                 "object, but got %s instead.",
                                 param, type_name(msg));
            return -1;
        }

        snprintf(sub, sizeof(sub), "messages[%zu].role", i);

        if (parse_role(json_object_get(msg, "role"), sub, -1, &role, err)
            != 0)
        {
            return -1;
        }

        m->role = role;

        snprintf(sub, sizeof(sub), "messages[%zu].content", i);

        if (parse_content(json_object_get(msg, "content"), sub, m, err)
            != 0)
        {
            return -1;
        }

        if ((role == NGX_GP_ROLE_ASSISTANT || role == NGX_GP_ROLE_TOOL)
            && parse_message_tools(msg, param, m, err) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * "tools":[{"type":"function","function":{"name","description",
 * "parameters"}}], "tool_choice", "parallel_tool_calls"; the deprecated
 * "functions" and "function_call" are refused with a pointer to "tools".
 */

static int
parse_tools(json_t *root, ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    int          parallel;
    char         param[GP_PARAM_LEN];
    size_t       i, n;
    json_t      *list, *tool, *fn, *type;
    const char  *old;

    old = json_object_get(root, "functions") ? "functions"
          : json_object_get(root, "function_call") ? "function_call" : NULL;

    if (old) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "unsupported_parameter", old,
                             "Unsupported parameter: '%s' (deprecated by "
                             "OpenAI) is not supported; use 'tools' and "
                             "'tool_choice' instead.", old);
        return -1;
    }

    list = json_object_get(root, "tools");

    if (list != NULL && !json_is_null(list)) {
        if (!json_is_array(list)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", "tools",
                                 "Invalid type for 'tools': expected an "
                                 "array of tools, but got %s instead.",
                                 type_name(list));
            return -1;
        }

        n = json_array_size(list);

        if (n) {
            req->tools = calloc(n, sizeof(ngx_gp_tool_t));
            if (req->tools == NULL) {
                return nomem(err);
            }
        }

        for (i = 0; i < n; i++) {
            tool = json_array_get(list, i);

            snprintf(param, sizeof(param), "tools[%zu]", i);

            if (!json_is_object(tool)) {
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     "invalid_type", param,
                                     "Invalid type for '%s': expected an "
                                     "object, but got %s instead.",
                                     param, type_name(tool));
                return -1;
            }

            type = json_object_get(tool, "type");

            if (!json_is_string(type)
                || strcmp(json_string_value(type), "function") != 0)
            {
                snprintf(param, sizeof(param), "tools[%zu].type", i);
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     "invalid_value", param,
                                     "Invalid value for '%s': only tools "
                                     "of type 'function' are supported.",
                                     param);
                return -1;
            }

            fn = json_object_get(tool, "function");
            snprintf(param, sizeof(param), "tools[%zu].function", i);

            if (!json_is_object(fn)) {
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     fn ? "invalid_type"
                                        : "missing_required_parameter",
                                     param,
                                     "Invalid '%s': expected an object "
                                     "with the function's 'name', "
                                     "'description' and 'parameters'.",
                                     param);
                return -1;
            }

            /* counted first: what a failure leaves is freed */
            req->ntools++;

            if (ngx_gp_tool_from_json(&req->tools[i],
                                      json_object_get(fn, "name"),
                                      json_object_get(fn, "description"),
                                      json_object_get(fn, "parameters"),
                                      param, err)
                != 0)
            {
                return -1;
            }
        }
    }

    if (parse_tool_choice(json_object_get(root, "tool_choice"), req, err)
        != 0)
    {
        return -1;
    }

    parallel = 1;

    if (opt_bool(root, "parallel_tool_calls", "parallel_tool_calls",
                 &parallel, err)
        != 0)
    {
        return -1;
    }

    req->no_parallel = !parallel;

    return ngx_gp_tool_choice_check(req, "tool_choice", err);
}


static int
parse_tool_choice(json_t *v, ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    json_t      *fn, *name;
    const char  *s;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (json_is_string(v)) {
        s = json_string_value(v);

        if (strcmp(s, "auto") == 0) {
            req->tool_choice = NGX_GP_TOOL_AUTO;

        } else if (strcmp(s, "none") == 0) {
            req->tool_choice = NGX_GP_TOOL_NONE;

        } else if (strcmp(s, "required") == 0) {
            req->tool_choice = NGX_GP_TOOL_REQUIRED;

        } else {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_value", "tool_choice",
                                 "Invalid value for 'tool_choice': '%.64s'; "
                                 "supported values are 'none', 'auto', "
                                 "'required' and an object naming a "
                                 "function.", s);
            return -1;
        }

        return 0;
    }

    fn = json_is_object(v) ? json_object_get(v, "function") : NULL;
    name = json_is_object(fn) ? json_object_get(fn, "name") : NULL;

    if (!json_is_string(name)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", "tool_choice",
                             "Invalid 'tool_choice': expected 'none', "
                             "'auto', 'required' or {\"type\": "
                             "\"function\", \"function\": {\"name\": "
                             "...}}, but got %s.", type_name(v));
        return -1;
    }

    req->tool_choice = NGX_GP_TOOL_FUNCTION;
    req->tool_name = ngx_gp_mem_dup(json_string_value(name),
                                    json_string_length(name));

    return req->tool_name ? 0 : nomem(err);
}


/* an assistant's "tool_calls" (or "function_call"); a tool's call id */

static int
parse_message_tools(json_t *msg, const char *param, ngx_gp_message_t *m,
    ngx_gp_oai_error_t *err)
{
    char     sub[GP_PARAM_LEN], idx[32];
    size_t   i, n;
    json_t  *v, *call, *fn;

    if (m->role == NGX_GP_ROLE_TOOL) {
        v = json_object_get(msg, "tool_call_id");

        if (v != NULL && !json_is_null(v)) {
            if (!json_is_string(v)) {
                param_cat(sub, param, ".tool_call_id", NULL);
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     "invalid_type", sub,
                                     "Invalid type for '%s': expected a "
                                     "string, but got %s instead.",
                                     sub, type_name(v));
                return -1;
            }

            m->call_id = ngx_gp_mem_dup(json_string_value(v),
                                        json_string_length(v));
            if (m->call_id == NULL) {
                return nomem(err);
            }
        }

        v = json_object_get(msg, "name");

        if (json_is_string(v)) {
            m->name = ngx_gp_mem_dup(json_string_value(v),
                                     json_string_length(v));
            if (m->name == NULL) {
                return nomem(err);
            }
        }

        return 0;
    }

    v = json_object_get(msg, "tool_calls");

    if (v == NULL || json_is_null(v)) {
        fn = json_object_get(msg, "function_call");

        if (!json_is_object(fn)) {
            return 0;
        }

        m->calls = calloc(1, sizeof(ngx_gp_tool_call_t));
        if (m->calls == NULL) {
            return nomem(err);
        }

        m->ncalls = 1;
        param_cat(sub, param, ".function_call", NULL);

        return ngx_gp_tool_call_from_json(m->calls, NULL,
                                          json_object_get(fn, "name"),
                                          json_object_get(fn, "arguments"),
                                          0, sub, err);
    }

    param_cat(sub, param, ".tool_calls", NULL);

    if (!json_is_array(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", sub,
                             "Invalid type for '%s': expected an array, "
                             "but got %s instead.", sub, type_name(v));
        return -1;
    }

    n = json_array_size(v);

    if (n == 0) {
        return 0;
    }

    m->calls = calloc(n, sizeof(ngx_gp_tool_call_t));
    if (m->calls == NULL) {
        return nomem(err);
    }

    for (i = 0; i < n; i++) {
        call = json_array_get(v, i);
        fn = json_object_get(call, "function");

        snprintf(idx, sizeof(idx), "[%zu]", i);
        param_cat(sub, param, ".tool_calls", idx);

        if (!json_is_object(fn)) {
            param_cat(sub, sub, ".function", NULL);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid '%s': expected an object with "
                                 "the function's 'name' and 'arguments'.",
                                 sub);
            return -1;
        }

        m->ncalls++;

        if (ngx_gp_tool_call_from_json(&m->calls[i],
                                       json_object_get(call, "id"),
                                       json_object_get(fn, "name"),
                                       json_object_get(fn, "arguments"),
                                       i, sub, err)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* the tool helpers every surface uses (openai.h) */

int
ngx_gp_tool_from_json(ngx_gp_tool_t *t, json_t *name, json_t *description,
    json_t *parameters, const char *param, ngx_gp_oai_error_t *err)
{
    char  sub[GP_PARAM_LEN];

    param_cat(sub, param, ".name", NULL);

    if (!json_is_string(name)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             name ? "invalid_type"
                                  : "missing_required_parameter",
                             sub,
                             "Invalid '%s': a function needs a name "
                             "(a string), but got %s.", sub,
                             name ? type_name(name) : "none");
        return -1;
    }

    if (!ngx_gp_tool_name_ok(json_string_value(name),
                             json_string_length(name)))
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", sub,
                             "Invalid '%s': '%.64s' is not a valid function "
                             "name; use 1 to 64 letters, digits, '_', '-' "
                             "or '.'.", sub, json_string_value(name));
        return -1;
    }

    t->name = ngx_gp_mem_dup(json_string_value(name),
                             json_string_length(name));
    if (t->name == NULL) {
        return nomem(err);
    }

    if (description != NULL && !json_is_null(description)) {
        if (!json_is_string(description)) {
            param_cat(sub, param, ".description", NULL);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid type for '%s': expected a "
                                 "string, but got %s instead.", sub,
                                 type_name(description));
            return -1;
        }

        t->description = ngx_gp_mem_dup(json_string_value(description),
                                        json_string_length(description));
        if (t->description == NULL) {
            return nomem(err);
        }
    }

    if (parameters != NULL && !json_is_null(parameters)) {
        if (!json_is_object(parameters)) {
            param_cat(sub, param, ".parameters", NULL);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid type for '%s': expected a JSON "
                                 "Schema object, but got %s instead.", sub,
                                 type_name(parameters));
            return -1;
        }

        t->parameters = json_dumps(parameters, JSON_COMPACT);
        if (t->parameters == NULL) {
            return nomem(err);
        }
    }

    return 0;
}


int
ngx_gp_tool_call_from_json(ngx_gp_tool_call_t *c, json_t *id, json_t *name,
    json_t *arguments, size_t index, const char *param,
    ngx_gp_oai_error_t *err)
{
    char  sub[GP_PARAM_LEN], buf[32];

    if (id != NULL && !json_is_null(id)) {
        if (!json_is_string(id)) {
            param_cat(sub, param, ".id", NULL);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid type for '%s': expected a "
                                 "string, but got %s instead.", sub,
                                 type_name(id));
            return -1;
        }

        c->id = ngx_gp_mem_dup(json_string_value(id),
                               json_string_length(id));

    } else {
        snprintf(buf, sizeof(buf), "call_%zu", index);
        c->id = ngx_gp_str_dup(buf);
    }

    if (c->id == NULL) {
        return nomem(err);
    }

    param_cat(sub, param, ".function.name", NULL);

    if (!json_is_string(name)
        || !ngx_gp_tool_name_ok(json_string_value(name),
                                json_string_length(name)))
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", sub,
                             "Invalid '%s': expected a function name "
                             "(1 to 64 letters, digits, '_', '-' or '.').",
                             sub);
        return -1;
    }

    c->name = ngx_gp_mem_dup(json_string_value(name),
                             json_string_length(name));
    if (c->name == NULL) {
        return nomem(err);
    }

    if (arguments == NULL || json_is_null(arguments)) {
        c->arguments = ngx_gp_str_dup("{}");

    } else if (json_is_string(arguments)) {
        c->arguments = ngx_gp_mem_dup(json_string_value(arguments),
                                      json_string_length(arguments));

    } else if (json_is_object(arguments)) {
        c->arguments = json_dumps(arguments, JSON_COMPACT);

    } else {
        param_cat(sub, param, ".function.arguments", NULL);
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", sub,
                             "Invalid type for '%s': expected a string of "
                             "JSON, but got %s instead.", sub,
                             type_name(arguments));
        return -1;
    }

    return c->arguments ? 0 : nomem(err);
}


int
ngx_gp_tool_choice_check(const ngx_gp_chat_req_t *req, const char *param,
    ngx_gp_oai_error_t *err)
{
    size_t  i;

    if (req->tool_choice == NGX_GP_TOOL_AUTO
        || req->tool_choice == NGX_GP_TOOL_NONE)
    {
        return 0;
    }

    if (req->ntools == 0) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid value for '%s': a tool choice other "
                             "than 'auto' or 'none' needs 'tools'.", param);
        return -1;
    }

    if (req->tool_choice != NGX_GP_TOOL_FUNCTION) {
        return 0;
    }

    for (i = 0; i < req->ntools; i++) {
        if (req->tool_name && strcmp(req->tools[i].name, req->tool_name) == 0)
        {
            return 0;
        }
    }

    ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                         "invalid_value", param,
                         "Invalid value for '%s': no function named "
                         "'%.64s' in 'tools'.", param,
                         req->tool_name ? req->tool_name : "");
    return -1;
}


size_t
ngx_gp_chat_input(const ngx_gp_chat_req_t *req)
{
    size_t  i, first, last;
    int     role, tool;

    tool = 0;
    first = req->nmessages;

    for (i = req->nmessages; i > 0; i--) {
        role = req->messages[i - 1].role;

        if (role == NGX_GP_ROLE_ASSISTANT) {
            break;
        }

        if (role == NGX_GP_ROLE_TOOL) {
            tool = 1;
        }

        if (role != NGX_GP_ROLE_SYSTEM) {
            first = i - 1;
        }
    }

    if (tool) {
        return first;
    }

    last = req->nmessages;

    for (i = req->nmessages; i > 0; i--) {
        if (req->messages[i - 1].role == NGX_GP_ROLE_USER) {
            last = i - 1;
            break;
        }
    }

    return last;
}


/* the neutral message building of the other surfaces: see the header */

json_t *
ngx_gp_chat_body_object(const char *body, size_t len, const char *invalid,
    ngx_gp_oai_error_t *err)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {
        ngx_gp_chat_bad(err, "%s %s (line %d, column %d)", invalid,
                        jerr.text, jerr.line, jerr.column);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        ngx_gp_chat_bad(err, "The request body must be a JSON object");
        return NULL;
    }

    return root;
}


int
ngx_gp_chat_bad(ngx_gp_oai_error_t *err, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    error_vset(err, 400, "invalid_request_error", NULL, NULL, fmt, args);
    va_end(args);

    return -1;
}


int
ngx_gp_chat_nomem(ngx_gp_oai_error_t *err)
{
    ngx_gp_oai_error_set(err, 500, "server_error", NULL, NULL,
                         "out of memory");
    return -1;
}


int
ngx_gp_chat_messages_alloc(ngx_gp_chat_req_t *req, json_t *turns,
    const char *key, ngx_gp_oai_error_t *err)
{
    size_t  i, n, total;

    n = json_array_size(turns);

    /* the system, the turns, and a message per part (a tool result) */
    total = n + 1;

    for (i = 0; i < n; i++) {
        total += json_array_size(json_object_get(json_array_get(turns, i),
                                                 key));
    }

    req->messages = calloc(total, sizeof(ngx_gp_message_t));

    return req->messages ? 0 : ngx_gp_chat_nomem(err);
}


ngx_gp_message_t *
ngx_gp_chat_turn_add(ngx_gp_chat_req_t *req, int role, int *user,
    const char *at, const char *assistant, ngx_gp_oai_error_t *err)
{
    ngx_gp_message_t  *m;

    if (role != NGX_GP_ROLE_USER && role != NGX_GP_ROLE_ASSISTANT) {
        ngx_gp_chat_bad(err, "%s.role: must be \"user\" or \"%s\"", at,
                        assistant);
        return NULL;
    }

    m = &req->messages[req->nmessages++];
    m->role = role;

    if (role == NGX_GP_ROLE_USER) {
        *user = 1;
    }

    return m;
}


int
ngx_gp_chat_parts_alloc(ngx_gp_message_t *m, size_t n)
{
    m->images = calloc(n ? n : 1, sizeof(ngx_gp_image_ref_t));
    if (m->images == NULL) {
        return -1;
    }

    if (m->role == NGX_GP_ROLE_ASSISTANT) {
        m->calls = calloc(n ? n : 1, sizeof(ngx_gp_tool_call_t));
        if (m->calls == NULL) {
            return -1;
        }
    }

    return 0;
}


int
ngx_gp_chat_text_add(ngx_gp_message_t *m, const char *s, size_t len)
{
    char  *p;

    p = realloc(m->text, m->len + len + 2);
    if (p == NULL) {
        return -1;
    }

    m->text = p;

    if (m->len) {
        p[m->len++] = '\n';
    }

    memcpy(p + m->len, s, len);
    m->len += len;
    p[m->len] = '\0';

    return 0;
}


int
ngx_gp_chat_image_data(ngx_gp_message_t *m, const char *mime,
    const char *data, size_t len, int url)
{
    char                 c;
    size_t               i;
    ngx_gp_image_ref_t  *img;

    for (i = 0; i < len; i++) {
        c = data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='
              || (url && (c == '-' || c == '_'))))
        {
            return 1;
        }
    }

    /* counted first: what a failed allocation left is freed too */
    img = &m->images[m->nimages++];
    img->kind = NGX_GP_IMAGE_DATA;
    img->mime = strdup(mime);
    img->data = malloc(len + 1);

    if (img->mime == NULL || img->data == NULL) {
        return -1;
    }

    /* base64url as Google's clients may send it: the standard alphabet */
    for (i = 0; i < len; i++) {
        c = data[i];
        img->data[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }

    img->data[len] = '\0';
    img->data_len = len;

    return 0;
}


int
ngx_gp_chat_turn_end(ngx_gp_chat_req_t *req, ngx_gp_message_t *m,
    size_t results, ngx_gp_oai_error_t *err)
{
    if (results && m->text == NULL && m->nimages == 0) {
        /* tool results only: no text of the turn after them */
        free(m->images);
        ngx_gp_tool_calls_free(m->calls, m->ncalls);
        memset(m, 0, sizeof(ngx_gp_message_t));
        req->nmessages--;
        return 0;
    }

    if (m->text == NULL) {
        m->text = strdup("");
        if (m->text == NULL) {
            return ngx_gp_chat_nomem(err);
        }
    }

    return 0;
}


int
ngx_gp_chat_no_user(int user, const char *field, const char *what,
    ngx_gp_oai_error_t *err)
{
    if (user) {
        return 0;
    }

    return ngx_gp_chat_bad(err, "%s: at least one \"user\" %s is required",
                           field, what);
}


/*
 * The alternative input of spec §10:
 * "prompts":[{"role":"user","text":"...","files":[{"type":"image",
 * "data":"data:<mime>;base64,..."}]}]
 */

static int
parse_prompts(json_t *list, ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    int                role;
    char               param[GP_PARAM_LEN], sub[GP_PARAM_LEN];
    size_t             i, j, n;
    json_t            *msg, *v, *files, *f;
    const char        *type;
    ngx_gp_message_t  *m;

    if (!json_is_array(list)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", "prompts",
                             "Invalid type for 'prompts': expected an "
                             "array, but got %s instead.",
                             type_name(list));
        return -1;
    }

    n = json_array_size(list);

    if (n == 0) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", "prompts",
                             "Invalid 'prompts': empty array. Expected an "
                             "array with minimum length 1, but got an "
                             "empty array instead.");
        return -1;
    }

    req->messages = calloc(n, sizeof(ngx_gp_message_t));
    if (req->messages == NULL) {
        return nomem(err);
    }

    req->nmessages = n;

    for (i = 0; i < n; i++) {
        msg = json_array_get(list, i);
        m = &req->messages[i];

        snprintf(param, sizeof(param), "prompts[%zu]", i);

        if (!json_is_object(msg)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", param,
                                 "Invalid type for '%s': expected an "
                                 "object, but got %s instead.",
                                 param, type_name(msg));
            return -1;
        }

        snprintf(sub, sizeof(sub), "prompts[%zu].role", i);

        if (parse_role(json_object_get(msg, "role"), sub, NGX_GP_ROLE_USER,
                       &role, err)
            != 0)
        {
            return -1;
        }

        m->role = role;

        v = json_object_get(msg, "text");

        if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
            snprintf(sub, sizeof(sub), "prompts[%zu].text", i);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid type for '%s': expected a "
                                 "string, but got %s instead.",
                                 sub, type_name(v));
            return -1;
        }

        if (json_is_string(v)) {
            m->text = ngx_gp_mem_dup(json_string_value(v),
                                     json_string_length(v));
            m->len = json_string_length(v);

        } else {
            m->text = ngx_gp_mem_dup("", 0);
        }

        if (m->text == NULL) {
            return nomem(err);
        }

        files = json_object_get(msg, "files");

        if (files == NULL || json_is_null(files)) {
            continue;
        }

        if (!json_is_array(files)) {
            snprintf(sub, sizeof(sub), "prompts[%zu].files", i);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", sub,
                                 "Invalid type for '%s': expected an "
                                 "array, but got %s instead.",
                                 sub, type_name(files));
            return -1;
        }

        for (j = 0; j < json_array_size(files); j++) {
            f = json_array_get(files, j);
            type = json_string_value(json_object_get(f, "type"));

            if (!json_is_object(f) || (type && strcmp(type, "image") != 0)) {
                continue;
            }

            snprintf(sub, sizeof(sub), "prompts[%zu].files[%zu].data", i, j);

            v = json_object_get(f, "data");

            if (!json_is_string(v)) {
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     "missing_required_parameter", sub,
                                     "Missing required parameter: '%s'.",
                                     sub);
                return -1;
            }

            if (parse_url(json_string_value(v), json_string_length(v), sub,
                          m, err)
                != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


static int
parse_role(json_t *v, const char *param, int dflt, int *role,
    ngx_gp_oai_error_t *err)
{
    const char  *s;

    if (v == NULL || json_is_null(v)) {
        if (dflt >= 0) {
            *role = dflt;
            return 0;
        }

        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", param,
                             "Missing required parameter: '%s'.", param);
        return -1;
    }

    if (!json_is_string(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", param,
                             "Invalid type for '%s': expected a string, "
                             "but got %s instead.", param, type_name(v));
        return -1;
    }

    s = json_string_value(v);

    if (strcmp(s, "user") == 0) {
        *role = NGX_GP_ROLE_USER;

    } else if (strcmp(s, "assistant") == 0) {
        *role = NGX_GP_ROLE_ASSISTANT;

    } else if (strcmp(s, "system") == 0 || strcmp(s, "developer") == 0) {
        *role = NGX_GP_ROLE_SYSTEM;

    } else if (strcmp(s, "tool") == 0 || strcmp(s, "function") == 0) {
        *role = NGX_GP_ROLE_TOOL;

    } else {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid value: '%.64s'. Supported values are: "
                             "'system', 'developer', 'user', 'assistant' "
                             "and 'tool'.", s);
        return -1;
    }

    return 0;
}


static int
parse_content(json_t *content, const char *param, ngx_gp_message_t *m,
    ngx_gp_oai_error_t *err)
{
    char          sub[GP_PARAM_LEN], idx[24];
    size_t        i, ntext;
    ngx_gp_buf_t  text;

    if (content == NULL || json_is_null(content)) {
        m->text = ngx_gp_mem_dup("", 0);
        return m->text ? 0 : nomem(err);
    }

    if (json_is_string(content)) {
        m->len = json_string_length(content);
        m->text = ngx_gp_mem_dup(json_string_value(content), m->len);
        return m->text ? 0 : nomem(err);
    }

    if (!json_is_array(content)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", param,
                             "Invalid type for '%s': expected a string, "
                             "an array of content parts or null, but got "
                             "%s instead.", param, type_name(content));
        return -1;
    }

    memset(&text, 0, sizeof(ngx_gp_buf_t));
    ntext = 0;

    for (i = 0; i < json_array_size(content); i++) {
        snprintf(idx, sizeof(idx), "[%zu]", i);
        param_cat(sub, param, idx, NULL);

        if (parse_part(json_array_get(content, i), sub, &text, &ntext, m,
                       err)
            != 0)
        {
            free(text.p);
            return -1;
        }
    }

    m->text = ngx_gp_buf_finish(&text, &m->len);

    return m->text ? 0 : nomem(err);
}


static int
parse_part(json_t *part, const char *param, ngx_gp_buf_t *text, size_t *ntext,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err)
{
    char         sub[GP_PARAM_LEN];
    json_t      *v, *f;
    const char  *type, *field;

    if (json_is_string(part)) {
        /* a bare string among the parts: text */
        v = part;
        goto text;
    }

    if (!json_is_object(part)) {
        return 0;
    }

    type = json_string_value(json_object_get(part, "type"));

    if (type == NULL) {
        return 0;
    }

    if (strcmp(type, "text") == 0 || strcmp(type, "input_text") == 0) {
        v = json_object_get(part, "text");

        if (!json_is_string(v)) {
            param_cat(sub, param, ".text", NULL);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 v ? "invalid_type"
                                   : "missing_required_parameter",
                                 sub,
                                 v ? "Invalid type for '%s': expected a "
                                     "string."
                                   : "Missing required parameter: '%s'.",
                                 sub);
            return -1;
        }

        goto text;
    }

    if (strcmp(type, "image_url") == 0 || strcmp(type, "image") == 0) {
        field = (strcmp(type, "image") == 0) ? ".data" : ".image_url";

        v = json_object_get(part, field + 1);

        if (json_is_object(v)) {
            param_cat(sub, param, field, ".url");
            v = json_object_get(v, "url");

        } else {
            param_cat(sub, param, field, NULL);
        }

        if (!json_is_string(v)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "missing_required_parameter", sub,
                                 "Missing required parameter: '%s'.", sub);
            return -1;
        }

        return parse_url(json_string_value(v), json_string_length(v), sub,
                         m, err);
    }

    if (strcmp(type, "file") == 0) {
        v = json_object_get(part, "file_id");

        if (json_is_string(v) && json_string_length(v) > 0) {
            return add_file(m, json_string_value(v), json_string_length(v),
                            err);
        }

        f = json_object_get(part, "file");

        v = json_object_get(f, "id");

        if (!json_is_string(v) || json_string_length(v) == 0) {
            v = json_object_get(f, "file_id");
        }

        if (json_is_string(v) && json_string_length(v) > 0) {
            return add_file(m, json_string_value(v), json_string_length(v),
                            err);
        }

        v = json_object_get(f, "file_data");

        if (json_is_string(v)) {
            param_cat(sub, param, ".file.file_data", NULL);
            return parse_url(json_string_value(v), json_string_length(v),
                             sub, m, err);
        }

        param_cat(sub, param, ".file_id", NULL);
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", sub,
                             "Missing required parameter: '%s'.", sub);
        return -1;
    }

    /* unknown part types are ignored */

    return 0;

text:

    if ((*ntext)++) {
        ngx_gp_buf_lit(text, "\n");
    }

    ngx_gp_buf_add(text, json_string_value(v), json_string_length(v));

    return text->failed ? nomem(err) : 0;
}


static int
parse_url(const char *url, size_t len, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err)
{
    size_t               i, n;
    ngx_gp_image_ref_t  *img;

    if (ngx_gp_prefix_ci(url, len, "data:")) {
        return parse_data_url(url, len, param, m, err);
    }

    if (ngx_gp_prefix_ci(url, len, "http://")) {
        n = sizeof("http://") - 1;

    } else if (ngx_gp_prefix_ci(url, len, "https://")) {
        n = sizeof("https://") - 1;

    } else {
        n = 0;
    }

    for (i = n; n && i < len; i++) {
        if ((unsigned char) url[i] < 0x20 || url[i] == 0x7f) {
            /* no controls (CR, LF, NUL) towards the fetcher */
            n = 0;
        }
    }

    if (n == 0 || len == n) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid image URL in '%s': expected a "
                             "base64 data: URL or an http(s) URL.", param);
        return -1;
    }

    img = new_image(m);
    if (img == NULL) {
        return nomem(err);
    }

    img->kind = NGX_GP_IMAGE_URL;
    img->url = ngx_gp_mem_dup(url, len);

    return img->url ? 0 : nomem(err);
}


/* data:<mime>[;param]...;base64,<payload> */

static int
parse_data_url(const char *url, size_t len, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err)
{
    int                  b64, pad;
    char                *o;
    size_t               i, n;
    const char          *p, *end, *comma, *semi, *seg;
    unsigned char        c;
    ngx_gp_image_ref_t  *img;

    p = url + sizeof("data:") - 1;
    end = url + len;

    comma = memchr(p, ',', (size_t) (end - p));

    if (comma == NULL) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid data URL in '%s': no ',' before "
                             "the data.", param);
        return -1;
    }

    semi = memchr(p, ';', (size_t) (comma - p));
    n = (size_t) ((semi ? semi : comma) - p);

    /* the media type must be a plain token such as image/png */

    for (i = 0; i < n; i++) {
        c = (unsigned char) p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || strchr("/+-.!#$&^_", c) != NULL)
            || c == '\0')
        {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_value", param,
                                 "Invalid data URL in '%s': bad media "
                                 "type.", param);
            return -1;
        }
    }

    b64 = 0;

    for (seg = semi; seg != NULL && seg < comma; /* void */) {
        seg++;
        semi = memchr(seg, ';', (size_t) (comma - seg));

        if (((semi ? semi : comma) - seg) == 6
            && ngx_gp_prefix_ci(seg, 6, "base64"))
        {
            b64 = 1;
        }

        seg = semi;
    }

    if (!b64) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid data URL in '%s': only base64 "
                             "data: URLs are supported.", param);
        return -1;
    }

    img = new_image(m);
    if (img == NULL) {
        return nomem(err);
    }

    img->kind = NGX_GP_IMAGE_DATA;

    if (n == 0) {
        img->mime = ngx_gp_mem_dup("image/png", sizeof("image/png") - 1);

    } else {
        img->mime = ngx_gp_mem_dup(p, n);

        for (o = img->mime; o && *o; o++) {
            if (*o >= 'A' && *o <= 'Z') {
                *o = (char) (*o - 'A' + 'a');
            }
        }
    }

    img->data = malloc((size_t) (end - comma));

    if (img->mime == NULL || img->data == NULL) {
        return nomem(err);
    }

    /* copy the payload without blanks, checking the alphabet */

    o = img->data;
    pad = 0;

    for (p = comma + 1; p < end; p++) {
        c = (unsigned char) *p;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }

        if (c == '=') {
            pad++;

        } else if (!pad
                   && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                       || (c >= '0' && c <= '9') || c == '+' || c == '/'
                       || c == '-' || c == '_'))
        {
            /* void */

        } else {
            goto invalid;
        }

        *o++ = (char) c;
    }

    *o = '\0';
    img->data_len = (size_t) (o - img->data);

    if (img->data_len == (size_t) pad || pad > 2
        || (img->data_len - (size_t) pad) % 4 == 1)
    {
        goto invalid;
    }

    return 0;

invalid:

    ngx_gp_oai_error_set(err, 400, "invalid_request_error", "invalid_value",
                         param,
                         "Invalid data URL in '%s': the data is not valid "
                         "base64.", param);
    return -1;
}


static int
add_file(ngx_gp_message_t *m, const char *id, size_t len,
    ngx_gp_oai_error_t *err)
{
    ngx_gp_image_ref_t  *img;

    img = new_image(m);
    if (img == NULL) {
        return nomem(err);
    }

    img->kind = NGX_GP_IMAGE_FILE;
    img->file_id = ngx_gp_mem_dup(id, len);

    return img->file_id ? 0 : nomem(err);
}


static ngx_gp_image_ref_t *
new_image(ngx_gp_message_t *m)
{
    ngx_gp_image_ref_t  *images;

    images = realloc(m->images, (m->nimages + 1) * sizeof(ngx_gp_image_ref_t));
    if (images == NULL) {
        return NULL;
    }

    m->images = images;
    memset(&images[m->nimages], 0, sizeof(ngx_gp_image_ref_t));

    return &images[m->nimages++];
}


static int
opt_string(json_t *root, const char *key, char **dst,
    ngx_gp_oai_error_t *err)
{
    json_t  *v;

    v = json_object_get(root, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", key,
                             "Invalid type for '%s': expected a string, "
                             "but got %s instead.", key, type_name(v));
        return -1;
    }

    *dst = ngx_gp_mem_dup(json_string_value(v), json_string_length(v));

    return *dst ? 0 : nomem(err);
}


static int
opt_bool(json_t *obj, const char *key, const char *param, int *dst,
    ngx_gp_oai_error_t *err)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_boolean(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", param,
                             "Invalid type for '%s': expected a boolean, "
                             "but got %s instead.", param, type_name(v));
        return -1;
    }

    *dst = json_is_true(v);

    return 0;
}


/* dst = a b c, truncated to GP_PARAM_LEN - 1 bytes; b and c may be NULL */

static void
param_cat(char *dst, const char *a, const char *b, const char *c)
{
    size_t       i, n, len;
    const char  *s[3];

    s[0] = a;
    s[1] = b;
    s[2] = c;

    len = 0;

    for (i = 0; i < 3; i++) {
        if (s[i] == NULL) {
            continue;
        }

        n = strlen(s[i]);

        if (n > GP_PARAM_LEN - 1 - len) {
            n = GP_PARAM_LEN - 1 - len;
        }

        memmove(dst + len, s[i], n);
        len += n;
    }

    dst[len] = '\0';
}


static const char *
type_name(json_t *v)
{
    switch (json_typeof(v)) {

    case JSON_OBJECT:
        return "an object";

    case JSON_ARRAY:
        return "an array";

    case JSON_STRING:
        return "a string";

    case JSON_INTEGER:
        return "an integer";

    case JSON_REAL:
        return "a decimal";

    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";

    default:
        return "null";
    }
}


static int
nomem(ngx_gp_oai_error_t *err)
{
    ngx_gp_oai_error_set(err, 500, "server_error", NULL, NULL,
                         "The server ran out of memory.");
    return -1;
}


/*
 * The fast path of ngx_gp_chat_req_parse() for the common bodies, over
 * the scanner of wire.c: "model", "stream", "stream_options",
 * "conversation_id", "image_format" and "messages" whose contents are
 * strings or null; other members are skipped as jansson's reading ignores
 * them.  Content parts, "prompts", duplicate members, unknown roles, a
 * missing user message and every error go to jansson, which gives the
 * same result or the error.
 */

typedef struct {
    ngx_gp_chat_req_t  *req;
    size_t              nalloc;      /* messages allocated */
    unsigned            req_model:1;
    unsigned            req_stream:1;
    unsigned            req_options:1;
    unsigned            req_usage:1;
    unsigned            req_conv:1;
    unsigned            req_format:1;
    unsigned            req_messages:1;
    unsigned            msg_role:1;
    unsigned            msg_content:1;
} gp_req_fast_t;


static int
fast_req_dup(ngx_gp_scan_t *sc, char **dst, size_t *len, int empty_null)
{
    ngx_gp_scan_str_t  str;

    if (ngx_gp_scan_peek(sc) == 'n') {
        return ngx_gp_scan_lit(sc, "null") ? NGX_GP_SCAN_OK
                                           : NGX_GP_SCAN_FALLBACK;
    }

    if (ngx_gp_scan_peek(sc) != '"'
        || ngx_gp_scan_string(sc, &str) != NGX_GP_SCAN_OK)
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    if (len) {
        *len = str.len;
    }

    if (str.len == 0 && empty_null) {
        return NGX_GP_SCAN_OK;
    }

    *dst = malloc(str.len + 1);
    if (*dst == NULL) {
        return NGX_GP_SCAN_NOMEM;
    }

    memcpy(*dst, str.s, str.len);
    (*dst)[str.len] = '\0';

    return NGX_GP_SCAN_OK;
}


static int
fast_req_bool(ngx_gp_scan_t *sc, int *dst)
{
    if (ngx_gp_scan_lit(sc, "true")) {
        *dst = 1;
        return NGX_GP_SCAN_OK;
    }

    if (ngx_gp_scan_lit(sc, "false")) {
        *dst = 0;
        return NGX_GP_SCAN_OK;
    }

    return ngx_gp_scan_lit(sc, "null") ? NGX_GP_SCAN_OK
                                       : NGX_GP_SCAN_FALLBACK;
}


static int
fast_req_options(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    gp_req_fast_t  *f = data;

    if (!ngx_gp_scan_key(k, n, "include_usage")) {
        return NGX_GP_SCAN_SKIP;
    }

    ngx_gp_scan_once(f->req_usage);

    return fast_req_bool(sc, &f->req->include_usage);
}


static int
fast_req_message(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    int                rc;
    gp_req_fast_t     *f = data;
    ngx_gp_message_t  *m;
    ngx_gp_scan_str_t  str;

    m = &f->req->messages[f->req->nmessages - 1];

    if (ngx_gp_scan_key(k, n, "role")) {
        ngx_gp_scan_once(f->msg_role);

        if (ngx_gp_scan_peek(sc) != '"'
            || ngx_gp_scan_string(sc, &str) != NGX_GP_SCAN_OK)
        {
            return NGX_GP_SCAN_FALLBACK;
        }

        if (ngx_gp_scan_key(str.s, str.len, "user")) {
            m->role = NGX_GP_ROLE_USER;

        } else if (ngx_gp_scan_key(str.s, str.len, "assistant")) {
            m->role = NGX_GP_ROLE_ASSISTANT;

        } else if (ngx_gp_scan_key(str.s, str.len, "system")
                   || ngx_gp_scan_key(str.s, str.len, "developer"))
        {
            m->role = NGX_GP_ROLE_SYSTEM;

        } else if (ngx_gp_scan_key(str.s, str.len, "tool")
                   || ngx_gp_scan_key(str.s, str.len, "function"))
        {
            m->role = NGX_GP_ROLE_TOOL;

        } else {
            return NGX_GP_SCAN_FALLBACK;
        }

        return NGX_GP_SCAN_OK;
    }

    /* tool calls and results: jansson (never in the common bodies) */
    if (ngx_gp_scan_key(k, n, "tool_calls")
        || ngx_gp_scan_key(k, n, "tool_call_id")
        || ngx_gp_scan_key(k, n, "function_call"))
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    if (ngx_gp_scan_key(k, n, "content")) {
        ngx_gp_scan_once(f->msg_content);

        rc = fast_req_dup(sc, &m->text, &m->len, 0);
        if (rc == NGX_GP_SCAN_OK && m->text == NULL) {
            m->len = 0;     /* null */
        }

        return rc;
    }

    return NGX_GP_SCAN_SKIP;
}


/* one element of "messages": an object with a role */

static int
fast_req_message_element(ngx_gp_scan_t *sc, void *data, int depth)
{
    int                 rc;
    size_t              cap;
    gp_req_fast_t      *f = data;
    ngx_gp_chat_req_t  *req;
    ngx_gp_message_t   *m;

    req = f->req;

    if (req->nmessages == f->nalloc) {
        cap = f->nalloc ? f->nalloc * 2 : 8;

        m = realloc(req->messages, cap * sizeof(ngx_gp_message_t));
        if (m == NULL) {
            return NGX_GP_SCAN_NOMEM;
        }

        memset(m + f->nalloc, 0, (cap - f->nalloc) * sizeof(ngx_gp_message_t));
        req->messages = m;
        f->nalloc = cap;
    }

    req->nmessages++;
    f->msg_role = 0;
    f->msg_content = 0;

    rc = ngx_gp_scan_object(sc, fast_req_message, f, depth);
    if (rc != NGX_GP_SCAN_OK) {
        return rc;
    }

    m = &req->messages[req->nmessages - 1];

    /* a tool result (its "name", "tool_call_id"): jansson */
    if (!f->msg_role || m->role == NGX_GP_ROLE_TOOL) {
        return NGX_GP_SCAN_FALLBACK;
    }

    if (m->text == NULL) {
        m->text = malloc(1);
        if (m->text == NULL) {
            return NGX_GP_SCAN_NOMEM;
        }

        m->text[0] = '\0';
    }

    return NGX_GP_SCAN_OK;
}


static int
fast_req_root(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    gp_req_fast_t      *f = data;
    ngx_gp_chat_req_t  *req;

    req = f->req;

    switch (n) {

    case 5:
        if (ngx_gp_scan_key(k, n, "model")) {
            ngx_gp_scan_once(f->req_model);
            return fast_req_dup(sc, &req->model, NULL, 1);
        }

        if (ngx_gp_scan_key(k, n, "tools")) {
            return NGX_GP_SCAN_FALLBACK;
        }

        break;

    case 6:
        if (ngx_gp_scan_key(k, n, "stream")) {
            ngx_gp_scan_once(f->req_stream);
            return fast_req_bool(sc, &req->stream);
        }

        break;

    case 7:
        if (ngx_gp_scan_key(k, n, "prompts")) {
            return NGX_GP_SCAN_FALLBACK;
        }

        break;

    /* the tool members: jansson */

    case 9:
    case 11:
    case 13:
    case 19:
        if (ngx_gp_scan_key(k, n, "functions")
            || ngx_gp_scan_key(k, n, "tool_choice")
            || ngx_gp_scan_key(k, n, "function_call")
            || ngx_gp_scan_key(k, n, "parallel_tool_calls"))
        {
            return NGX_GP_SCAN_FALLBACK;
        }

        break;

    case 8:
        if (ngx_gp_scan_key(k, n, "messages")) {
            ngx_gp_scan_once(f->req_messages);
            return ngx_gp_scan_array(sc, fast_req_message_element, f, depth);
        }

        break;

    case 12:
        if (ngx_gp_scan_key(k, n, "image_format")) {
            ngx_gp_scan_once(f->req_format);
            return fast_req_dup(sc, &req->image_format, NULL, 0);
        }

        break;

    case 14:
        if (ngx_gp_scan_key(k, n, "stream_options")) {
            ngx_gp_scan_once(f->req_options);

            if (ngx_gp_scan_peek(sc) == '{') {
                return ngx_gp_scan_object(sc, fast_req_options, f, depth);
            }

            return ngx_gp_scan_lit(sc, "null") ? NGX_GP_SCAN_OK
                                               : NGX_GP_SCAN_FALLBACK;
        }

        break;

    case 15:
        if (ngx_gp_scan_key(k, n, "conversation_id")) {
            ngx_gp_scan_once(f->req_conv);
            return fast_req_dup(sc, &req->conversation_id, NULL, 0);
        }

        break;
    }

    return NGX_GP_SCAN_SKIP;
}


int
ngx_gp_chat_req_fast(const char *body, size_t len, ngx_gp_chat_req_t *req)
{
    int            rc;
    size_t         i;
    gp_req_fast_t  f;

    if (body == NULL) {
        return 1;
    }

    memset(&f, 0, sizeof(gp_req_fast_t));
    f.req = req;

    rc = ngx_gp_scan_json(body, len, fast_req_root, &f);

    if (rc == NGX_GP_SCAN_NOMEM) {
        return -1;
    }

    if (rc != NGX_GP_SCAN_OK) {
        return 1;
    }

    for (i = 0; i < req->nmessages; i++) {
        if (req->messages[i].role == NGX_GP_ROLE_USER) {
            return 0;
        }
    }

    return 1;
}


/* the upstream prompt */

char *
ngx_gp_chat_prompt(const ngx_gp_chat_req_t *req, int replay, size_t *len)
{
    size_t                   i, last, end, nsys, n;
    ngx_gp_buf_t             b;
    const char              *p;
    const ngx_gp_message_t  *m;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    /* the turn's input: the last user message, or the tool results */

    last = ngx_gp_chat_input(req);

    if (last == req->nmessages) {
        return NULL;
    }

    end = (req->messages[last].role == NGX_GP_ROLE_TOOL) ? req->nmessages
                                                         : last + 1;

    /* every system (and developer) message, in order, joined by "\n\n" */

    nsys = 0;

    for (i = 0; i < req->nmessages; i++) {
        m = &req->messages[i];

        if (m->role != NGX_GP_ROLE_SYSTEM || m->len == 0) {
            continue;
        }

        if (nsys++) {
            ngx_gp_buf_lit(&b, "\n\n");

        } else {
            ngx_gp_buf_lit(&b, "[System Instruction]\n");
        }

        ngx_gp_buf_add(&b, m->text, m->len);
    }

    /* the tools offered and the calling convention (tools.c) */

    if (req->ntools && req->tool_choice != NGX_GP_TOOL_NONE) {
        if (nsys) {
            ngx_gp_buf_lit(&b, "\n\n");
        }

        ngx_gp_tools_prompt(&b, req->tools, req->ntools, req->tool_choice,
                            req->tool_name, !req->no_parallel);
        nsys++;
    }

    if (nsys) {
        ngx_gp_buf_lit(&b, "\n\n[User Message]\n");
    }

    n = 0;

    if (replay) {
        for (i = 0; i < last; i++) {
            m = &req->messages[i];

            if (m->role != NGX_GP_ROLE_SYSTEM
                && (m->len || m->nimages || m->ncalls))
            {
                n++;
            }
        }
    }

    if (n == 0) {
        m = &req->messages[last];

        if (m->role != NGX_GP_ROLE_TOOL) {
            user_query(m->text, m->len, &p, &n);
            ngx_gp_buf_add(&b, p, n);

            return ngx_gp_buf_finish(&b, len);
        }

        /* tool results, and whatever the client adds to them */

        n = 0;

        for (i = last; i < end; i++) {
            m = &req->messages[i];

            if (m->role == NGX_GP_ROLE_SYSTEM) {
                continue;
            }

            if (n++) {
                ngx_gp_buf_lit(&b, "\n\n");
            }

            if (m->role == NGX_GP_ROLE_TOOL) {
                result(&b, req, m);

            } else {
                user_query(m->text, m->len, &p, &n);
                ngx_gp_buf_add(&b, p, n);
                n = 1;
            }
        }

        return ngx_gp_buf_finish(&b, len);
    }

    /* a transcript of the earlier turns, then the turn's input */

    n = 0;

    for (i = 0; i < end; i++) {
        m = &req->messages[i];

        if (m->role == NGX_GP_ROLE_SYSTEM
            || (m->len == 0 && m->nimages == 0 && m->ncalls == 0
                && i != last && m->role != NGX_GP_ROLE_TOOL))
        {
            continue;
        }

        if (n++) {
            ngx_gp_buf_lit(&b, "\n\n");
        }

        paragraph(&b, req, m);
    }

    return ngx_gp_buf_finish(&b, len);
}


static void
paragraph(ngx_gp_buf_t *b, const ngx_gp_chat_req_t *req,
    const ngx_gp_message_t *m)
{
    size_t       i, n;
    const char  *p;

    switch (m->role) {

    case NGX_GP_ROLE_USER:
        ngx_gp_buf_lit(b, "User:");
        user_query(m->text, m->len, &p, &n);
        break;

    case NGX_GP_ROLE_ASSISTANT:
        ngx_gp_buf_lit(b, "Assistant:");
        p = m->text;
        n = m->len;
        break;

    default:
        if (m->call_id || m->name) {
            result(b, req, m);
            return;
        }

        ngx_gp_buf_lit(b, "Tool:");
        p = m->text;
        n = m->len;
        break;
    }

    if (n) {
        ngx_gp_buf_lit(b, " ");
        ngx_gp_buf_add(b, p, n);
    }

    for (i = 0; i < m->nimages; i++) {
        ngx_gp_buf_lit(b, " [image]");
    }

    if (m->ncalls) {
        ngx_gp_buf_lit(b, "\n");
        ngx_gp_tools_render_calls(b, m->calls, m->ncalls);
    }
}


/* a tool result, named after the call it answers when the name is not */

static void
result(ngx_gp_buf_t *b, const ngx_gp_chat_req_t *req,
    const ngx_gp_message_t *m)
{
    size_t       i, j;
    const char  *name;

    name = m->name;

    for (i = 0; name == NULL && m->call_id && i < req->nmessages; i++) {
        for (j = 0; j < req->messages[i].ncalls; j++) {
            if (req->messages[i].calls[j].id
                && strcmp(req->messages[i].calls[j].id, m->call_id) == 0)
            {
                name = req->messages[i].calls[j].name;
                break;
            }
        }
    }

    ngx_gp_tools_render_result(b, m->call_id, name, m->text, m->len);
}


/* Cursor style <user_query>...</user_query>: the trimmed inner text */

static void
user_query(const char *p, size_t len, const char **out, size_t *out_len)
{
    const char  *open, *close, *s, *e;

    *out = p;
    *out_len = len;

    if (p == NULL) {
        *out = "";
        *out_len = 0;
        return;
    }

    open = ngx_gp_mem_find(p, len, "<user_query>", sizeof("<user_query>") - 1);
    if (open == NULL) {
        return;
    }

    s = open + sizeof("<user_query>") - 1;

    close = ngx_gp_mem_find(s, (size_t) (p + len - s), "</user_query>",
                     sizeof("</user_query>") - 1);
    if (close == NULL) {
        return;
    }

    e = close;

    while (s < e && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
    }

    while (e > s
           && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r'
               || e[-1] == '\t'))
    {
        e--;
    }

    *out = s;
    *out_len = (size_t) (e - s);
}


/* rendering */

uint64_t
ngx_gp_estimate_tokens(const char *p, size_t len)
{
    size_t                n;
    uint32_t              cp;
    uint64_t              tokens, run;
    const unsigned char  *s, *end;

    tokens = 0;
    run = 0;

    s = (const unsigned char *) p;
    end = s + len;

    while (s < end) {

        if (*s < 0x80) {
            run++;
            s++;
            continue;
        }

        n = ngx_gp_utf8_seq(s, (size_t) (end - s));

        if (n == 0) {
            run++;
            s++;
            continue;
        }

        cp = ngx_gp_utf8_cp(s, n);

        if (cp >= 0x2e80 || (cp >= 0x1100 && cp <= 0x11ff)) {
            /* CJK, kana, hangul and everything above: one each */
            tokens += (run + 3) / 4 + 1;
            run = 0;

        } else {
            run += n;
        }

        s += n;
    }

    return tokens + (run + 3) / 4;
}


char *
ngx_gp_render_chunk_into(const ngx_gp_chunk_t *c, char *buf, size_t size,
    size_t *len)
{
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    if (size) {
        b.p = buf;
        b.cap = size;
        b.ext = 1;
    }

    render_chunk(&b, c);

    return ngx_gp_buf_finish(&b, len);
}


static void
render_chunk(ngx_gp_buf_t *b, const ngx_gp_chunk_t *c)
{
    int  comma;

    ngx_gp_buf_lit(b, "data: {\"id\":");
    ngx_gp_buf_cstr(b, c->id);
    ngx_gp_buf_lit(b, ",\"object\":\"chat.completion.chunk\",\"created\":");
    ngx_gp_buf_int(b, (int64_t) c->created);
    ngx_gp_buf_lit(b, ",\"model\":");
    ngx_gp_buf_cstr(b, c->model);

    if (c->usage) {
        ngx_gp_buf_lit(b, ",\"choices\":[],\"usage\":");
        render_usage(b, c->usage);
        ngx_gp_buf_lit(b, "}\n\n");

        return;
    }

    ngx_gp_buf_lit(b, ",\"choices\":[{\"index\":0,\"delta\":{");

    comma = 0;

    if (c->role) {
        ngx_gp_buf_lit(b, "\"role\":");
        ngx_gp_buf_cstr(b, c->role);
        comma = 1;
    }

    if (c->content) {
        if (comma) {
            ngx_gp_buf_lit(b, ",");
        }

        ngx_gp_buf_lit(b, "\"content\":");
        ngx_gp_buf_str(b, c->content, c->content_len);
        comma = 1;
    }

    if (c->reasoning) {
        if (comma) {
            ngx_gp_buf_lit(b, ",");
        }

        ngx_gp_buf_lit(b, "\"reasoning_content\":");
        ngx_gp_buf_str(b, c->reasoning, c->reasoning_len);
        comma = 1;
    }

    if (c->call) {
        if (comma) {
            ngx_gp_buf_lit(b, ",");
        }

        ngx_gp_buf_lit(b, "\"tool_calls\":[");
        render_call(b, c->call, c->call_index, c->call_args ? 2 : 1);
        ngx_gp_buf_lit(b, "]");
    }

    ngx_gp_buf_lit(b, "},\"finish_reason\":");

    ngx_gp_buf_cstr(b, c->finish_reason);
    ngx_gp_buf_lit(b, "}]}\n\n");
}


/*
 * One tool call: part 0 {"id","type","function":{"name","arguments"}}
 * (a message's), 1 the same with "index" first and "arguments":"" (the
 * first chunk of a streamed call), 2 {"index","function":{"arguments"}}.
 */

static void
render_call(ngx_gp_buf_t *b, const ngx_gp_tool_call_t *call, size_t index,
    int part)
{
    ngx_gp_buf_lit(b, "{");

    if (part) {
        ngx_gp_buf_lit(b, "\"index\":");
        ngx_gp_buf_uint(b, (uint64_t) index);

        if (part == 2) {
            ngx_gp_buf_lit(b, ",\"function\":{\"arguments\":");
            ngx_gp_buf_cstr(b, call->arguments);
            ngx_gp_buf_lit(b, "}}");
            return;
        }

        ngx_gp_buf_lit(b, ",");
    }

    ngx_gp_buf_lit(b, "\"id\":");
    ngx_gp_buf_cstr(b, call->id);
    ngx_gp_buf_lit(b, ",\"type\":\"function\",\"function\":{\"name\":");
    ngx_gp_buf_cstr(b, call->name);
    ngx_gp_buf_lit(b, ",\"arguments\":");

    if (part) {
        ngx_gp_buf_lit(b, "\"\"");

    } else {
        ngx_gp_buf_cstr(b, call->arguments);
    }

    ngx_gp_buf_lit(b, "}}");
}


char *
ngx_gp_render_completion(const ngx_gp_completion_t *c, size_t *len)
{
    return ngx_gp_render_completion_into(c, NULL, 0, len);
}


char *
ngx_gp_render_completion_into(const ngx_gp_completion_t *c, char *buf,
    size_t size, size_t *len)
{
    size_t        i;
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    if (size) {
        b.p = buf;
        b.cap = size;
        b.ext = 1;
    }

    ngx_gp_buf_lit(&b, "{\"id\":");
    ngx_gp_buf_cstr(&b, c->id);
    ngx_gp_buf_lit(&b, ",\"object\":\"chat.completion\",\"created\":");
    ngx_gp_buf_int(&b, (int64_t) c->created);
    ngx_gp_buf_lit(&b, ",\"model\":");
    ngx_gp_buf_cstr(&b, c->model);
    ngx_gp_buf_lit(&b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                "\"assistant\",\"content\":");

    if (c->ncalls && c->content_len == 0) {
        ngx_gp_buf_lit(&b, "null");

    } else {
        ngx_gp_buf_str(&b, c->content, c->content_len);
    }

    if (c->reasoning) {
        ngx_gp_buf_lit(&b, ",\"reasoning_content\":");
        ngx_gp_buf_str(&b, c->reasoning, c->reasoning_len);
    }

    if (c->ncalls) {
        ngx_gp_buf_lit(&b, ",\"tool_calls\":[");

        for (i = 0; i < c->ncalls; i++) {
            if (i) {
                ngx_gp_buf_lit(&b, ",");
            }

            render_call(&b, &c->calls[i], i, 0);
        }

        ngx_gp_buf_lit(&b, "]");
    }

    ngx_gp_buf_lit(&b, "},\"finish_reason\":");
    ngx_gp_buf_cstr(&b, c->finish_reason);
    ngx_gp_buf_lit(&b, "}],\"usage\":");
    render_usage(&b, &c->usage);
    ngx_gp_buf_lit(&b, "}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_render_error(const ngx_gp_oai_error_t *err, size_t *len)
{
    ngx_gp_buf_t  b;
    const char   *p;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    ngx_gp_buf_lit(&b, "{\"error\":{\"message\":");
    p = memchr(err->message, '\0', sizeof(err->message));
    ngx_gp_buf_str(&b, err->message,
            p ? (size_t) (p - err->message) : sizeof(err->message));
    ngx_gp_buf_lit(&b, ",\"type\":");
    ngx_gp_buf_cstr(&b, err->type ? err->type : "api_error");
    ngx_gp_buf_lit(&b, ",\"param\":");
    ngx_gp_buf_cstr(&b, err->param);
    ngx_gp_buf_lit(&b, ",\"code\":");
    ngx_gp_buf_cstr(&b, err->code);
    ngx_gp_buf_lit(&b, "}}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_render_models(const char *const *ids, size_t n, time_t created,
    const char *owned_by, size_t *len)
{
    size_t        i;
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    ngx_gp_buf_lit(&b, "{\"object\":\"list\",\"data\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_gp_buf_lit(&b, ",");
        }

        render_model(&b, ids[i], created, owned_by);
    }

    ngx_gp_buf_lit(&b, "]}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_render_model(const char *id, time_t created, const char *owned_by,
    size_t *len)
{
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    render_model(&b, id, created, owned_by);

    return ngx_gp_buf_finish(&b, len);
}


void
ngx_gp_oai_error_set(ngx_gp_oai_error_t *err, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    error_vset(err, status, type, code, param, fmt, args);
    va_end(args);
}


static void
error_vset(ngx_gp_oai_error_t *err, int status, const char *type,
    const char *code, const char *param, const char *fmt, va_list args)
{
    int      n;
    size_t   len;

    err->status = status;
    err->type = type;
    err->code = code;

    if (param == NULL) {
        err->param = NULL;

    } else {
        if (param != err->param_buf) {
            len = strlen(param);

            if (len >= sizeof(err->param_buf)) {
                len = sizeof(err->param_buf) - 1;
            }

            memmove(err->param_buf, param, len);
            err->param_buf[len] = '\0';
        }

        err->param = err->param_buf;
    }

    n = vsnprintf(err->message, sizeof(err->message), fmt, args);

    if (n < 0) {
        err->message[0] = '\0';
        return;
    }

    if ((size_t) n < sizeof(err->message)) {
        return;
    }

    /* truncated: do not leave half a UTF-8 character at the end */

    len = ngx_gp_utf8_cut(err->message, (size_t) n,
                          sizeof(err->message) - 1);
    err->message[len] = '\0';
}


static void
render_usage(ngx_gp_buf_t *b, const ngx_gp_usage_t *u)
{
    ngx_gp_buf_lit(b, "{\"prompt_tokens\":");
    ngx_gp_buf_uint(b, u->prompt_tokens);
    ngx_gp_buf_lit(b, ",\"completion_tokens\":");
    ngx_gp_buf_uint(b, u->completion_tokens);
    ngx_gp_buf_lit(b, ",\"total_tokens\":");
    ngx_gp_buf_uint(b, u->prompt_tokens + u->completion_tokens);
    ngx_gp_buf_lit(b, "}");
}


static void
render_model(ngx_gp_buf_t *b, const char *id, time_t created,
    const char *owned_by)
{
    ngx_gp_buf_lit(b, "{\"id\":");
    ngx_gp_buf_cstr(b, id);
    ngx_gp_buf_lit(b, ",\"object\":\"model\",\"created\":");
    ngx_gp_buf_int(b, (int64_t) created);
    ngx_gp_buf_lit(b, ",\"owned_by\":");
    ngx_gp_buf_cstr(b, owned_by);
    ngx_gp_buf_lit(b, "}");
}


char *
ngx_gp_json_dump(json_t *root, size_t *len)
{
    char  *s;

    if (root == NULL) {
        return NULL;
    }

    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    if (s) {
        *len = strlen(s);
    }

    return s;
}


int
ngx_gp_json_note(json_t *list, const char *fmt, ...)
{
    va_list  args;
    char     msg[320];

    va_start(args, fmt);
    (void) vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    return json_array_append_new(list, json_string(msg)) == 0 ? 0 : -1;
}
