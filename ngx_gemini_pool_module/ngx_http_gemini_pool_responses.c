
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * OpenAI's Responses API: the request into a chat request, the response
 * object and the streamed events.  See the header.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_gemini_pool_responses.h"


#define GP_RESP_PARAM_LEN  96


static int resp_tools(json_t *root, json_t *chat, ngx_gp_oai_error_t *err);
static int resp_input(json_t *input, json_t *messages, int *map, int *calls,
    ngx_gp_oai_error_t *err);
static int resp_call(json_t *item, size_t i, json_t *messages, int *map,
    int *calls, int fold, ngx_gp_oai_error_t *err);
static int resp_message(json_t *item, size_t i, json_t *messages,
    ngx_gp_oai_error_t *err);
static json_t *resp_part(json_t *part, const char *param,
    ngx_gp_oai_error_t *err);
static int resp_bad_type(ngx_gp_oai_error_t *err, const char *param,
    const char *want, json_t *v);
static void resp_param(ngx_gp_oai_error_t *err, const int *map,
    const int *calls, size_t n);
static int resp_nomem(ngx_gp_oai_error_t *err);
static const char *resp_type_name(json_t *v);
static void resp_item(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, int item,
    int done);
static void resp_head(ngx_gp_buf_t *b, uint64_t *seq, const char *type);
static void resp_item_id(ngx_gp_buf_t *b, const ngx_gp_resp_t *r,
    int item);
static void resp_call_item(ngx_gp_buf_t *b, const ngx_gp_resp_t *r,
    size_t i, int done);


/* request parsing */

int
ngx_gp_resp_parse(const char *body, size_t len, ngx_gp_resp_req_t *rr,
    ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    int            rc, *map, *calls;
    char          *s;
    size_t         n, slen;
    json_t        *root, *chat, *messages, *v;
    json_error_t   jerr;

    memset(rr, 0, sizeof(ngx_gp_resp_req_t));
    memset(req, 0, sizeof(ngx_gp_chat_req_t));
    memset(err, 0, sizeof(ngx_gp_oai_error_t));

    rr->store = 1;

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

    rc = -1;
    map = NULL;
    calls = NULL;
    chat = NULL;

    if (!json_is_object(root)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_type", NULL,
                             "The request body must be a JSON object, "
                             "but got %s instead.", resp_type_name(root));
        goto done;
    }

    /* what the pool cannot do */

    v = json_object_get(root, "background");

    if (json_is_true(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "unsupported_parameter", "background",
                             "'background' responses are not supported "
                             "by this gateway: use stream instead.");
        goto done;
    }

    if (json_object_get(root, "conversation") != NULL
        && !json_is_null(json_object_get(root, "conversation")))
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "unsupported_parameter", "conversation",
                             "'conversation' is not supported by this "
                             "gateway: use previous_response_id.");
        goto done;
    }

    if (json_object_get(root, "prompt") != NULL
        && !json_is_null(json_object_get(root, "prompt")))
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "unsupported_parameter", "prompt",
                             "Stored prompts ('prompt') are not supported "
                             "by this gateway: send instructions.");
        goto done;
    }

    chat = json_object();
    messages = json_array();

    if (chat == NULL || messages == NULL
        || json_object_set_new(chat, "messages", messages) != 0)
    {
        json_decref(messages);
        resp_nomem(err);
        goto done;
    }

    v = json_object_get(root, "model");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            resp_bad_type(err, "model", "a string", v);
            goto done;
        }

        if (json_object_set(chat, "model", v) != 0) {
            resp_nomem(err);
            goto done;
        }
    }

    v = json_object_get(root, "stream");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            resp_bad_type(err, "stream", "a boolean", v);
            goto done;
        }

        if (json_object_set(chat, "stream", v) != 0) {
            resp_nomem(err);
            goto done;
        }
    }

    v = json_object_get(root, "store");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            resp_bad_type(err, "store", "a boolean", v);
            goto done;
        }

        rr->store = json_is_true(v);
    }

    v = json_object_get(root, "previous_response_id");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            resp_bad_type(err, "previous_response_id", "a non-empty string",
                          v);
            goto done;
        }

        rr->previous_response_id = strdup(json_string_value(v));

        /* the chat request's conversation_id: the turn continues it */
        if (rr->previous_response_id == NULL
            || json_object_set(chat, "conversation_id", v) != 0)
        {
            resp_nomem(err);
            goto done;
        }
    }

    v = json_object_get(root, "metadata");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_object(v)) {
            resp_bad_type(err, "metadata", "an object", v);
            goto done;
        }

        rr->metadata = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

        if (rr->metadata == NULL) {
            resp_nomem(err);
            goto done;
        }
    }

    v = json_object_get(root, "instructions");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            resp_bad_type(err, "instructions", "a string", v);
            goto done;
        }

        rr->instructions = strdup(json_string_value(v));

        if (rr->instructions == NULL
            || json_array_append_new(messages,
                                     json_pack("{s:s, s:O}", "role",
                                               "system", "content", v))
               != 0)
        {
            resp_nomem(err);
            goto done;
        }
    }

    v = json_object_get(root, "input");

    if (v == NULL || json_is_null(v)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", "input",
                             "Missing required parameter: 'input'.");
        goto done;
    }

    /* each message's place in the request, for the errors: -1
       instructions, -2 a string input, else the index in input */

    n = json_is_array(v) ? json_array_size(v) : 1;

    map = malloc((n + 1) * sizeof(int));
    calls = malloc((n + 1) * sizeof(int));

    if (map == NULL || calls == NULL) {
        resp_nomem(err);
        goto done;
    }

    map[0] = -1;
    calls[0] = -1;

    if (resp_input(v, messages, map, calls, err) != 0
        || resp_tools(root, chat, err) != 0)
    {
        goto done;
    }

    s = json_dumps(chat, JSON_COMPACT);
    if (s == NULL) {
        resp_nomem(err);
        goto done;
    }

    slen = strlen(s);
    n = json_array_size(messages);

    if (ngx_gp_chat_req_parse(s, slen, req, err) != 0) {
        free(s);
        resp_param(err, map, calls, n);
        goto done;
    }

    free(s);

    if (rr->previous_response_id) {
        req->conversation_param = "previous_response_id";
    }

    rc = 0;

done:

    free(map);
    free(calls);
    json_decref(chat);
    json_decref(root);

    return rc;
}


void
ngx_gp_resp_req_free(ngx_gp_resp_req_t *rr)
{
    free(rr->previous_response_id);
    free(rr->instructions);
    free(rr->metadata);

    memset(rr, 0, sizeof(ngx_gp_resp_req_t));
}


/*
 * "input": a string (one user message) or items; map[k]: the place of
 * messages[k] in the request
 */

static int
resp_input(json_t *input, json_t *messages, int *map, int *calls,
    ngx_gp_oai_error_t *err)
{
    int          fold;
    char         param[GP_RESP_PARAM_LEN];
    size_t       i, n, before;
    json_t      *item, *v, *msg;
    const char  *type;

    if (json_is_string(input)) {
        map[json_array_size(messages)] = -2;
        calls[json_array_size(messages)] = -1;

        return json_array_append_new(messages,
                                     json_pack("{s:s, s:O}", "role", "user",
                                               "content", input))
               != 0 ? resp_nomem(err) : 0;
    }

    if (!json_is_array(input)) {
        return resp_bad_type(err, "input", "a string or an array of items",
                             input);
    }

    n = json_array_size(input);

    if (n == 0) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", "input",
                             "Invalid 'input': empty array. Expected an "
                             "array with minimum length 1.");
        return -1;
    }

    /* function calls right after an assistant message (or after each
       other) fold into it: one assistant turn */
    fold = 0;

    for (i = 0; i < n; i++) {
        item = json_array_get(input, i);

        snprintf(param, sizeof(param), "input[%zu]", i);

        if (!json_is_object(item)) {
            return resp_bad_type(err, param, "an object", item);
        }

        v = json_object_get(item, "type");
        type = json_string_value(v);

        if (v != NULL && type == NULL) {
            snprintf(param, sizeof(param), "input[%zu].type", i);
            return resp_bad_type(err, param, "a string", v);
        }

        before = json_array_size(messages);

        if (type == NULL || strcmp(type, "message") == 0) {
            if (resp_message(item, i, messages, err) != 0) {
                return -1;
            }

            fold = strcmp(json_string_value(json_object_get(item, "role")),
                          "assistant") == 0;

        } else if (strcmp(type, "function_call") == 0) {
            if (resp_call(item, i, messages, map, calls, fold, err) != 0) {
                return -1;
            }

            fold = 1;
            continue;

        } else if (strcmp(type, "function_call_output") == 0) {
            v = json_object_get(item, "output");

            if (!json_is_string(v)) {
                snprintf(param, sizeof(param), "input[%zu].output", i);
                return resp_bad_type(err, param, "a string", v);
            }

            msg = json_pack("{s:s, s:O, s:O*}", "role", "tool",
                            "content", v, "tool_call_id",
                            json_object_get(item, "call_id"));

            if (json_array_append_new(messages, msg) != 0) {
                return resp_nomem(err);
            }

            fold = 0;

        } else if (strcmp(type, "reasoning") == 0) {
            /* our own summaries, sent back: the session has them */
            continue;

        } else {
            snprintf(param, sizeof(param), "input[%zu].type", i);
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "unsupported_value", param,
                                 "Input items of type '%.64s' are not "
                                 "supported by this gateway.", type);
            return -1;
        }

        if (json_array_size(messages) > before) {
            map[json_array_size(messages) - 1] = (int) i;
            calls[json_array_size(messages) - 1] = -1;
        }
    }

    return 0;
}


/*
 * A function_call item: a tool call of the assistant message before it
 * (fold), or of a new one without text.  Checked by the chat parser.
 */

static int
resp_call(json_t *item, size_t i, json_t *messages, int *map, int *calls,
    int fold, ngx_gp_oai_error_t *err)
{
    size_t   k;
    json_t  *msg, *list, *call;

    call = json_pack("{s:O*, s:s, s:{s:O*, s:O*}}",
                     "id", json_object_get(item, "call_id"),
                     "type", "function", "function",
                     "name", json_object_get(item, "name"),
                     "arguments", json_object_get(item, "arguments"));
    if (call == NULL) {
        return resp_nomem(err);
    }

    k = json_array_size(messages);
    msg = fold && k ? json_array_get(messages, k - 1) : NULL;

    if (msg == NULL) {
        msg = json_pack("{s:s, s:s, s:[]}", "role", "assistant",
                        "content", "", "tool_calls");

        if (msg == NULL || json_array_append_new(messages, msg) != 0) {
            json_decref(call);
            return resp_nomem(err);
        }

        map[k] = (int) i;
        calls[k] = (int) i;
        k++;
    }

    list = json_object_get(msg, "tool_calls");

    if (list == NULL) {
        list = json_array();

        if (list == NULL || json_object_set_new(msg, "tool_calls", list) != 0)
        {
            json_decref(call);
            return resp_nomem(err);
        }

        calls[k - 1] = (int) i;
    }

    return json_array_append_new(list, call) != 0 ? resp_nomem(err) : 0;
}


/*
 * "tools" (functions only), "tool_choice" and "parallel_tool_calls" in
 * the chat request's shape
 */

static int
resp_tools(json_t *root, json_t *chat, ngx_gp_oai_error_t *err)
{
    char         param[GP_RESP_PARAM_LEN];
    size_t       i, n;
    json_t      *list, *tool, *tools, *v, *c;
    const char  *type;

    list = json_object_get(root, "tools");

    if (list != NULL && !json_is_null(list)) {
        if (!json_is_array(list)) {
            return resp_bad_type(err, "tools", "an array of tools", list);
        }

        tools = json_array();
        if (tools == NULL || json_object_set_new(chat, "tools", tools) != 0) {
            return resp_nomem(err);
        }

        n = json_array_size(list);

        for (i = 0; i < n; i++) {
            tool = json_array_get(list, i);

            snprintf(param, sizeof(param), "tools[%zu]", i);

            if (!json_is_object(tool)) {
                return resp_bad_type(err, param, "an object", tool);
            }

            type = json_string_value(json_object_get(tool, "type"));

            if (type == NULL || strcmp(type, "function") != 0) {
                snprintf(param, sizeof(param), "tools[%zu].type", i);
                ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                     "unsupported_value", param,
                                     "Tools of type '%.64s' are not "
                                     "supported by this gateway: only "
                                     "'function'.", type ? type : "");
                return -1;
            }

            v = json_pack("{s:s, s:{s:O*, s:O*, s:O*}}", "type", "function",
                          "function",
                          "name", json_object_get(tool, "name"),
                          "description", json_object_get(tool,
                                                         "description"),
                          "parameters", json_object_get(tool, "parameters"));

            if (v == NULL || json_array_append_new(tools, v) != 0) {
                return resp_nomem(err);
            }
        }
    }

    v = json_object_get(root, "tool_choice");

    if (json_is_object(v)) {
        type = json_string_value(json_object_get(v, "type"));

        if (type == NULL || strcmp(type, "function") != 0) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "unsupported_value", "tool_choice",
                                 "'tool_choice' of type '%.64s' is not "
                                 "supported by this gateway: 'auto', "
                                 "'none', 'required' or a function.",
                                 type ? type : "");
            return -1;
        }

        c = json_pack("{s:s, s:{s:O*}}", "type", "function", "function",
                      "name", json_object_get(v, "name"));

        if (c == NULL || json_object_set_new(chat, "tool_choice", c) != 0) {
            return resp_nomem(err);
        }

    } else if (v != NULL && json_object_set(chat, "tool_choice", v) != 0) {
        return resp_nomem(err);
    }

    v = json_object_get(root, "parallel_tool_calls");

    if (v != NULL && json_object_set(chat, "parallel_tool_calls", v) != 0) {
        return resp_nomem(err);
    }

    return 0;
}


static int
resp_message(json_t *item, size_t i, json_t *messages,
    ngx_gp_oai_error_t *err)
{
    char         param[GP_RESP_PARAM_LEN];
    size_t       j, n;
    json_t      *role, *content, *parts, *part, *msg;
    const char  *r;

    role = json_object_get(item, "role");
    r = json_string_value(role);

    snprintf(param, sizeof(param), "input[%zu].role", i);

    if (r == NULL) {
        if (role == NULL) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "missing_required_parameter", param,
                                 "Missing required parameter: '%s'.",
                                 param);
            return -1;
        }

        return resp_bad_type(err, param, "a string", role);
    }

    if (strcmp(r, "user") != 0 && strcmp(r, "assistant") != 0
        && strcmp(r, "system") != 0 && strcmp(r, "developer") != 0)
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", param,
                             "Invalid value: '%.32s'. Supported values "
                             "are: 'user', 'assistant', 'system' and "
                             "'developer'.", r);
        return -1;
    }

    content = json_object_get(item, "content");

    snprintf(param, sizeof(param), "input[%zu].content", i);

    if (json_is_string(content)) {
        msg = json_pack("{s:s, s:O}", "role", r, "content", content);
        return json_array_append_new(messages, msg) != 0
               ? resp_nomem(err) : 0;
    }

    if (!json_is_array(content)) {
        if (content == NULL) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "missing_required_parameter", param,
                                 "Missing required parameter: '%s'.",
                                 param);
            return -1;
        }

        return resp_bad_type(err, param, "a string or an array of parts",
                             content);
    }

    parts = json_array();
    if (parts == NULL) {
        return resp_nomem(err);
    }

    n = json_array_size(content);

    for (j = 0; j < n; j++) {
        snprintf(param, sizeof(param), "input[%zu].content[%zu]", i, j);

        part = resp_part(json_array_get(content, j), param, err);

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            json_decref(parts);
            return part ? resp_nomem(err) : -1;
        }
    }

    msg = json_pack("{s:s, s:o}", "role", r, "content", parts);

    return json_array_append_new(messages, msg) != 0 ? resp_nomem(err) : 0;
}


/* a Responses content part as a chat content part */

static json_t *
resp_part(json_t *part, const char *param, ngx_gp_oai_error_t *err)
{
    char         sub[GP_RESP_PARAM_LEN + 16];
    json_t      *v, *p;
    const char  *type, *field;

    if (!json_is_object(part)) {
        resp_bad_type(err, param, "an object", part);
        return NULL;
    }

    type = json_string_value(json_object_get(part, "type"));

    if (type == NULL) {
        snprintf(sub, sizeof(sub), "%s.type", param);
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", sub,
                             "Missing required parameter: '%s'.", sub);
        return NULL;
    }

    field = NULL;

    if (strcmp(type, "input_text") == 0 || strcmp(type, "output_text") == 0
        || strcmp(type, "text") == 0)
    {
        field = "text";

    } else if (strcmp(type, "refusal") == 0) {
        field = "refusal";
    }

    if (field) {
        v = json_object_get(part, field);

        if (!json_is_string(v)) {
            snprintf(sub, sizeof(sub), "%s.%s", param, field);
            resp_bad_type(err, sub, "a string", v);
            return NULL;
        }

        p = json_pack("{s:s, s:O}", "type", "text", "text", v);
        goto made;
    }

    if (strcmp(type, "input_image") == 0) {
        v = json_object_get(part, "image_url");

        if (json_is_string(v)) {
            p = json_pack("{s:s, s:O}", "type", "image_url", "image_url",
                          v);
            goto made;
        }

        v = json_object_get(part, "file_id");

        if (json_is_string(v)) {
            p = json_pack("{s:s, s:O}", "type", "file", "file_id", v);
            goto made;
        }

        snprintf(sub, sizeof(sub), "%s.image_url", param);
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", sub,
                             "Missing required parameter: '%s' (or "
                             "file_id).", sub);
        return NULL;
    }

    if (strcmp(type, "input_file") == 0) {
        v = json_object_get(part, "file_id");

        if (json_is_string(v)) {
            p = json_pack("{s:s, s:O}", "type", "file", "file_id", v);
            goto made;
        }

        v = json_object_get(part, "file_data");

        if (!json_is_string(v)) {
            v = json_object_get(part, "file_url");
        }

        if (json_is_string(v)) {
            p = json_pack("{s:s, s:{s:O}}", "type", "file", "file",
                          "file_data", v);
            goto made;
        }

        snprintf(sub, sizeof(sub), "%s.file_id", param);
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", sub,
                             "Missing required parameter: '%s' (or "
                             "file_data, file_url).", sub);
        return NULL;
    }

    snprintf(sub, sizeof(sub), "%s.type", param);
    ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                         "unsupported_value", sub,
                         "Content parts of type '%.64s' are not supported "
                         "by this gateway.", type);
    return NULL;

made:

    if (p == NULL) {
        resp_nomem(err);
    }

    return p;
}


/*
 * An error of the chat parser names "messages[k]...": the Responses
 * field instead.
 */

static void
resp_param(ngx_gp_oai_error_t *err, const int *map, const int *calls,
    size_t n)
{
    int          at;
    size_t       j;
    char         from[64], to[GP_RESP_PARAM_LEN], msg[sizeof(err->message)];
    char         whole[GP_RESP_PARAM_LEN + sizeof(err->param_buf)];
    char        *p;
    size_t       k, flen, tlen, mlen;
    const char  *rest, *param;

    param = err->param;

    if (param == NULL) {
        return;
    }

    if (strcmp(param, "messages") == 0) {
        snprintf(to, sizeof(to), "input");
        snprintf(from, sizeof(from), "messages");
        rest = "";

    } else if (strncmp(param, "messages[", 9) == 0) {
        k = strtoul(param + 9, &p, 10);

        if (*p != ']' || k >= n) {
            return;
        }

        rest = p + 1;
        snprintf(from, sizeof(from), "messages[%zu]", k);

        at = map[k];

        if (calls[k] >= 0 && strncmp(rest, ".tool_calls[", 12) == 0) {
            /* the function_call item */
            j = strtoul(rest + 12, &p, 10);
            rest = (*p == ']') ? p + 1 : "";
            rest = strncmp(rest, ".function", 9) == 0 ? rest + 9 : rest;
            snprintf(from, sizeof(from), "messages[%zu].tool_calls[%zu]",
                     k, j);
            at = calls[k] + (int) j;
        }

        if (at == -1) {
            snprintf(to, sizeof(to), "instructions");

        } else if (at == -2) {
            snprintf(to, sizeof(to), "input");

        } else {
            snprintf(to, sizeof(to), "input[%d]", at);
        }

    } else if (strncmp(param, "tools[", 6) == 0
               && (p = strstr(param, "].function")) != NULL)
    {
        /* "tools[i].function.name": "tools[i].name" */
        rest = p + 10;
        snprintf(from, sizeof(from), "%.*s.function",
                 (int) (p + 1 - param), param);
        snprintf(to, sizeof(to), "%.*s", (int) (p + 1 - param), param);

    } else {
        return;
    }

    /* the message names the parameter too */

    flen = strlen(from);
    tlen = strlen(to);
    mlen = 0;

    for (p = err->message; *p && mlen + tlen + 1 < sizeof(msg); /* void */) {
        if (strncmp(p, from, flen) == 0) {
            memcpy(msg + mlen, to, tlen);
            mlen += tlen;
            p += flen;
            continue;
        }

        msg[mlen++] = *p++;
    }

    msg[mlen] = '\0';
    memcpy(err->message, msg, mlen + 1);

    /* rest may be in param_buf itself: joined aside, then cut to fit */
    snprintf(whole, sizeof(whole), "%s%s", to, rest);

    mlen = strlen(whole);
    mlen = mlen < sizeof(err->param_buf) ? mlen
                                         : sizeof(err->param_buf) - 1;

    memcpy(err->param_buf, whole, mlen);
    err->param_buf[mlen] = '\0';
    err->param = err->param_buf;
}


static int
resp_bad_type(ngx_gp_oai_error_t *err, const char *param, const char *want,
    json_t *v)
{
    ngx_gp_oai_error_set(err, 400, "invalid_request_error", "invalid_type",
                         param, "Invalid type for '%s': expected %s, but "
                         "got %s instead.", param, want, resp_type_name(v));
    return -1;
}


static int
resp_nomem(ngx_gp_oai_error_t *err)
{
    ngx_gp_oai_error_set(err, 500, "server_error", "internal_error", NULL,
                         "out of memory");
    return -1;
}


static const char *
resp_type_name(json_t *v)
{
    if (v == NULL) {
        return "nothing";
    }

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


/* rendering */

static void
resp_usage(ngx_gp_buf_t *b, const ngx_gp_usage_t *u)
{
    if (u == NULL) {
        ngx_gp_buf_lit(b, "null");
        return;
    }

    ngx_gp_buf_lit(b, "{\"input_tokens\":");
    ngx_gp_buf_uint(b, u->prompt_tokens);
    ngx_gp_buf_lit(b, ",\"input_tokens_details\":{\"cached_tokens\":0},"
                   "\"output_tokens\":");
    ngx_gp_buf_uint(b, u->completion_tokens);
    ngx_gp_buf_lit(b, ",\"output_tokens_details\":{\"reasoning_tokens\":0},"
                   "\"total_tokens\":");
    ngx_gp_buf_uint(b, u->prompt_tokens + u->completion_tokens);
    ngx_gp_buf_lit(b, "}");
}


static void
resp_object(ngx_gp_buf_t *b, const ngx_gp_resp_t *r)
{
    int                        items;
    size_t                     i;
    const ngx_gp_resp_req_t   *q;
    const ngx_gp_oai_error_t  *e;

    q = r->req;
    e = r->error;

    ngx_gp_buf_lit(b, "{\"id\":");
    ngx_gp_buf_cstr(b, r->id);
    ngx_gp_buf_lit(b, ",\"object\":\"response\",\"created_at\":");
    ngx_gp_buf_int(b, (int64_t) r->created);
    ngx_gp_buf_lit(b, ",\"status\":");
    ngx_gp_buf_cstr(b, r->status);

    ngx_gp_buf_lit(b, ",\"error\":");

    if (e) {
        ngx_gp_buf_lit(b, "{\"code\":");
        ngx_gp_buf_cstr(b, e->code ? e->code : e->type);
        ngx_gp_buf_lit(b, ",\"message\":");
        ngx_gp_buf_cstr(b, e->message);
        ngx_gp_buf_lit(b, "}");

    } else {
        ngx_gp_buf_lit(b, "null");
    }

    ngx_gp_buf_lit(b, ",\"incomplete_details\":");

    if (r->incomplete) {
        ngx_gp_buf_lit(b, "{\"reason\":");
        ngx_gp_buf_cstr(b, r->incomplete);
        ngx_gp_buf_lit(b, "}");

    } else {
        ngx_gp_buf_lit(b, "null");
    }

    ngx_gp_buf_lit(b, ",\"instructions\":");
    ngx_gp_buf_cstr(b, q ? q->instructions : NULL);
    ngx_gp_buf_lit(b, ",\"model\":");
    ngx_gp_buf_cstr(b, r->model);

    ngx_gp_buf_lit(b, ",\"output\":[");

    items = 0;

    if (r->reasoning) {
        resp_item(b, r, NGX_GP_RESP_REASONING, 1);
        items++;
    }

    if (r->text) {
        if (items) {
            ngx_gp_buf_lit(b, ",");
        }

        resp_item(b, r, NGX_GP_RESP_MESSAGE, 1);
        items++;
    }

    for (i = 0; i < r->ncalls; i++) {
        if (items++) {
            ngx_gp_buf_lit(b, ",");
        }

        resp_call_item(b, r, i, 1);
    }

    ngx_gp_buf_lit(b, "],\"parallel_tool_calls\":true,"
                   "\"previous_response_id\":");
    ngx_gp_buf_cstr(b, q ? q->previous_response_id : NULL);
    ngx_gp_buf_lit(b, ",\"reasoning\":{\"effort\":null,\"summary\":null},"
                   "\"store\":");

    if (q == NULL || q->store) {
        ngx_gp_buf_lit(b, "true");

    } else {
        ngx_gp_buf_lit(b, "false");
    }

    ngx_gp_buf_lit(b, ",\"text\":{\"format\":{\"type\":\"text\"}},"
                   "\"tool_choice\":\"auto\",\"tools\":[],"
                   "\"truncation\":\"disabled\",\"usage\":");
    resp_usage(b, r->usage);
    ngx_gp_buf_lit(b, ",\"metadata\":");

    if (q && q->metadata) {
        ngx_gp_buf_add(b, q->metadata, strlen(q->metadata));

    } else {
        ngx_gp_buf_lit(b, "{}");
    }

    ngx_gp_buf_lit(b, "}");
}


char *
ngx_gp_resp_render(const ngx_gp_resp_t *r, size_t *len)
{
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    ngx_gp_buf_reserve(&b, 1024 + r->text_len + r->text_len / 8
                           + r->reasoning_len + r->reasoning_len / 8);
    resp_object(&b, r);

    return ngx_gp_buf_finish(&b, len);
}


/* "rs_<hex>" or "msg_<hex>": the response id's hex */

static void
resp_item_id(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, int item)
{
    const char  *hex;

    hex = strchr(r->id, '_');
    hex = hex ? hex + 1 : r->id;

    if (item == NGX_GP_RESP_REASONING) {
        ngx_gp_buf_lit(b, "\"rs_");

    } else {
        ngx_gp_buf_lit(b, "\"msg_");
    }

    ngx_gp_buf_add(b, hex, strlen(hex));
    ngx_gp_buf_lit(b, "\"");
}


/* an output item: open (no text yet) or done (with its text) */

static void
resp_item(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, int item, int done)
{
    const char  *status;

    ngx_gp_buf_lit(b, "{\"id\":");
    resp_item_id(b, r, item);

    if (item == NGX_GP_RESP_REASONING) {
        ngx_gp_buf_lit(b, ",\"type\":\"reasoning\",\"summary\":[");

        if (done) {
            ngx_gp_buf_lit(b, "{\"type\":\"summary_text\",\"text\":");
            ngx_gp_buf_str(b, r->reasoning, r->reasoning_len);
            ngx_gp_buf_lit(b, "}");
        }

        ngx_gp_buf_lit(b, "]}");
        return;
    }

    status = !done ? "in_progress"
             : r->item_status ? r->item_status
             : strcmp(r->status, "completed") == 0 ? "completed"
             : "incomplete";

    ngx_gp_buf_lit(b, ",\"type\":\"message\",\"status\":");
    ngx_gp_buf_cstr(b, status);
    ngx_gp_buf_lit(b, ",\"role\":\"assistant\",\"content\":[");

    if (done) {
        ngx_gp_buf_lit(b, "{\"type\":\"output_text\",\"text\":");
        ngx_gp_buf_str(b, r->text, r->text_len);
        ngx_gp_buf_lit(b, ",\"annotations\":[],\"logprobs\":[]}");
    }

    ngx_gp_buf_lit(b, "]}");
}


/* "fc_<hex><i>" */

static void
resp_call_id(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, size_t i)
{
    const char  *hex;

    hex = strchr(r->id, '_');
    hex = hex ? hex + 1 : r->id;

    ngx_gp_buf_lit(b, "\"fc_");
    ngx_gp_buf_add(b, hex, strlen(hex));
    ngx_gp_buf_uint(b, i);
    ngx_gp_buf_lit(b, "\"");
}


/* a function_call item: added (no arguments yet) or done */

static void
resp_call_item(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, size_t i, int done)
{
    const ngx_gp_tool_call_t  *c;

    c = &r->calls[i];

    ngx_gp_buf_lit(b, "{\"id\":");
    resp_call_id(b, r, i);
    ngx_gp_buf_lit(b, ",\"type\":\"function_call\",\"status\":");

    if (done) {
        ngx_gp_buf_lit(b, "\"completed\",\"arguments\":");
        ngx_gp_buf_cstr(b, c->arguments);

    } else {
        ngx_gp_buf_lit(b, "\"in_progress\",\"arguments\":\"\"");
    }

    ngx_gp_buf_lit(b, ",\"call_id\":");
    ngx_gp_buf_cstr(b, c->id);
    ngx_gp_buf_lit(b, ",\"name\":");
    ngx_gp_buf_cstr(b, c->name);
    ngx_gp_buf_lit(b, "}");
}


/* "event: <type>\ndata: {"type":<type>,"sequence_number":<n>" */

static void
resp_head(ngx_gp_buf_t *b, uint64_t *seq, const char *type)
{
    size_t  n;

    n = strlen(type);

    ngx_gp_buf_lit(b, "event: ");
    ngx_gp_buf_add(b, type, n);
    ngx_gp_buf_lit(b, "\ndata: {\"type\":\"");
    ngx_gp_buf_add(b, type, n);
    ngx_gp_buf_lit(b, "\",\"sequence_number\":");
    ngx_gp_buf_uint(b, (*seq)++);
}


/* ,"item_id":<id>,"output_index":<i>,"content_index":0 (or summary_) */

static void
resp_where(ngx_gp_buf_t *b, const ngx_gp_resp_t *r, int item,
    unsigned index)
{
    ngx_gp_buf_lit(b, ",\"item_id\":");
    resp_item_id(b, r, item);
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);

    if (item == NGX_GP_RESP_REASONING) {
        ngx_gp_buf_lit(b, ",\"summary_index\":0");

    } else {
        ngx_gp_buf_lit(b, ",\"content_index\":0");
    }
}


void
ngx_gp_resp_ev_response(ngx_gp_buf_t *b, uint64_t *seq, const char *type,
    const ngx_gp_resp_t *r)
{
    resp_head(b, seq, type);
    ngx_gp_buf_lit(b, ",\"response\":");
    resp_object(b, r);
    ngx_gp_buf_lit(b, "}\n\n");
}


void
ngx_gp_resp_ev_open(ngx_gp_buf_t *b, uint64_t *seq, const ngx_gp_resp_t *r,
    int item, unsigned index)
{
    resp_head(b, seq, "response.output_item.added");
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"item\":");
    resp_item(b, r, item, 0);
    ngx_gp_buf_lit(b, "}\n\n");

    if (item == NGX_GP_RESP_REASONING) {
        resp_head(b, seq, "response.reasoning_summary_part.added");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"part\":{\"type\":\"summary_text\","
                       "\"text\":\"\"}}\n\n");
        return;
    }

    resp_head(b, seq, "response.content_part.added");
    resp_where(b, r, item, index);
    ngx_gp_buf_lit(b, ",\"part\":{\"type\":\"output_text\",\"text\":\"\","
                   "\"annotations\":[],\"logprobs\":[]}}\n\n");
}


void
ngx_gp_resp_ev_delta(ngx_gp_buf_t *b, uint64_t *seq, const ngx_gp_resp_t *r,
    int item, unsigned index, const char *p, size_t len)
{
    if (item == NGX_GP_RESP_REASONING) {
        resp_head(b, seq, "response.reasoning_summary_text.delta");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"delta\":");
        ngx_gp_buf_str(b, p, len);
        ngx_gp_buf_lit(b, "}\n\n");
        return;
    }

    resp_head(b, seq, "response.output_text.delta");
    resp_where(b, r, item, index);
    ngx_gp_buf_lit(b, ",\"delta\":");
    ngx_gp_buf_str(b, p, len);
    ngx_gp_buf_lit(b, ",\"logprobs\":[]}\n\n");
}


void
ngx_gp_resp_ev_close(ngx_gp_buf_t *b, uint64_t *seq, const ngx_gp_resp_t *r,
    int item, unsigned index)
{
    if (item == NGX_GP_RESP_REASONING) {
        resp_head(b, seq, "response.reasoning_summary_text.done");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"text\":");
        ngx_gp_buf_str(b, r->reasoning, r->reasoning_len);
        ngx_gp_buf_lit(b, "}\n\n");

        resp_head(b, seq, "response.reasoning_summary_part.done");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"part\":{\"type\":\"summary_text\",\"text\":");
        ngx_gp_buf_str(b, r->reasoning, r->reasoning_len);
        ngx_gp_buf_lit(b, "}}\n\n");

    } else {
        resp_head(b, seq, "response.output_text.done");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"text\":");
        ngx_gp_buf_str(b, r->text, r->text_len);
        ngx_gp_buf_lit(b, ",\"logprobs\":[]}\n\n");

        resp_head(b, seq, "response.content_part.done");
        resp_where(b, r, item, index);
        ngx_gp_buf_lit(b, ",\"part\":{\"type\":\"output_text\",\"text\":");
        ngx_gp_buf_str(b, r->text, r->text_len);
        ngx_gp_buf_lit(b, ",\"annotations\":[],\"logprobs\":[]}}\n\n");
    }

    resp_head(b, seq, "response.output_item.done");
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"item\":");
    resp_item(b, r, item, 1);
    ngx_gp_buf_lit(b, "}\n\n");
}


void
ngx_gp_resp_ev_call(ngx_gp_buf_t *b, uint64_t *seq, const ngx_gp_resp_t *r,
    size_t i, unsigned index)
{
    resp_head(b, seq, "response.output_item.added");
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"item\":");
    resp_call_item(b, r, i, 0);
    ngx_gp_buf_lit(b, "}\n\n");

    resp_head(b, seq, "response.function_call_arguments.delta");
    ngx_gp_buf_lit(b, ",\"item_id\":");
    resp_call_id(b, r, i);
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"delta\":");
    ngx_gp_buf_cstr(b, r->calls[i].arguments);
    ngx_gp_buf_lit(b, "}\n\n");

    resp_head(b, seq, "response.function_call_arguments.done");
    ngx_gp_buf_lit(b, ",\"item_id\":");
    resp_call_id(b, r, i);
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"name\":");
    ngx_gp_buf_cstr(b, r->calls[i].name);
    ngx_gp_buf_lit(b, ",\"arguments\":");
    ngx_gp_buf_cstr(b, r->calls[i].arguments);
    ngx_gp_buf_lit(b, "}\n\n");

    resp_head(b, seq, "response.output_item.done");
    ngx_gp_buf_lit(b, ",\"output_index\":");
    ngx_gp_buf_uint(b, index);
    ngx_gp_buf_lit(b, ",\"item\":");
    resp_call_item(b, r, i, 1);
    ngx_gp_buf_lit(b, "}\n\n");
}
