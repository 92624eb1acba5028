
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Anthropic's Messages API: the request into a chat request.  See the
 * header.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_anthropic.h"


static int ant_root(json_t *root, int count, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int ant_tools(ngx_gp_chat_req_t *req, json_t *root,
    ngx_gp_oai_error_t *err);
static int ant_results(ngx_gp_chat_req_t *req, json_t *content,
    const char *at, ngx_gp_oai_error_t *err);
static int ant_content(json_t *c, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err);
static int ant_image(json_t *src, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err);


int
ngx_gp_anthropic_req_parse(const char *body, size_t len, int count,
    ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err)
{
    int      rc;
    json_t  *root;

    root = ngx_gp_chat_body_object(body, len,
                                   "The request body is not valid JSON:",
                                   err);
    if (root == NULL) {
        return -1;
    }

    rc = ant_root(root, count, req, err);

    json_decref(root);

    return rc;
}


static int
ant_root(json_t *root, int count, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    int                user;
    size_t             i, n, results;
    json_t            *v, *msgs, *sys, *msg;
    const char        *role;
    ngx_gp_message_t  *m;
    char               at[64];

    v = json_object_get(root, "model");

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return ngx_gp_chat_bad(err, "model: Field required");
    }

    req->model = strdup(json_string_value(v));
    if (req->model == NULL) {
        return ngx_gp_chat_nomem(err);
    }

    v = json_object_get(root, "max_tokens");

    if (!count && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        return ngx_gp_chat_bad(err, "%s",
                               v ? "max_tokens: must be an integer of at "
                                   "least 1"
                                 : "max_tokens: Field required");
    }

    v = json_object_get(root, "stream");

    if (v && !json_is_boolean(v) && !json_is_null(v)) {
        return ngx_gp_chat_bad(err, "stream: must be a boolean");
    }

    req->stream = json_is_true(v);

    msgs = json_object_get(root, "messages");

    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        return ngx_gp_chat_bad(err,
                               "messages: a non-empty array is required");
    }

    if (ant_tools(req, root, err) != 0
        || ngx_gp_chat_messages_alloc(req, msgs, "content", err) != 0)
    {
        return -1;
    }

    sys = json_object_get(root, "system");

    if (sys && !json_is_null(sys)) {
        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_SYSTEM;

        if (ant_content(sys, m, "system", err) != 0) {
            return -1;
        }
    }

    user = 0;
    n = json_array_size(msgs);

    for (i = 0; i < n; i++) {
        msg = json_array_get(msgs, i);
        role = json_string_value(json_object_get(msg, "role"));

        results = req->nmessages;

        if (role && strcmp(role, "user") == 0) {
            snprintf(at, sizeof(at), "messages.%zu.content", i);

            if (ant_results(req, json_object_get(msg, "content"), at, err)
                != 0)
            {
                return -1;
            }
        }

        results = req->nmessages - results;

        snprintf(at, sizeof(at), "messages.%zu", i);

        m = ngx_gp_chat_turn_add(req,
                                 role == NULL ? -1
                                 : strcmp(role, "user") == 0
                                 ? NGX_GP_ROLE_USER
                                 : strcmp(role, "assistant") == 0
                                 ? NGX_GP_ROLE_ASSISTANT : -1,
                                 &user, at, "assistant", err);
        if (m == NULL) {
            return -1;
        }

        snprintf(at, sizeof(at), "messages.%zu.content", i);

        if (ant_content(json_object_get(msg, "content"), m, at, err) != 0
            || ngx_gp_chat_turn_end(req, m, results, err) != 0)
        {
            return -1;
        }
    }

    return ngx_gp_chat_no_user(user, "messages", "message", err);
}


/* "tools" ({name, description, input_schema}) and "tool_choice" */

static int
ant_tools(ngx_gp_chat_req_t *req, json_t *root, ngx_gp_oai_error_t *err)
{
    size_t       i, n;
    json_t      *tools, *tool, *choice, *name;
    const char  *t;
    char         at[48];

    tools = json_object_get(root, "tools");

    if (tools && !json_is_null(tools) && !json_is_array(tools)) {
        return ngx_gp_chat_bad(err, "tools: an array is required");
    }

    n = json_array_size(tools);

    if (n) {
        req->tools = calloc(n, sizeof(ngx_gp_tool_t));
        if (req->tools == NULL) {
            return ngx_gp_chat_nomem(err);
        }
    }

    for (i = 0; i < n; i++) {
        tool = json_array_get(tools, i);
        t = json_string_value(json_object_get(tool, "type"));

        snprintf(at, sizeof(at), "tools.%zu", i);

        if (t && strcmp(t, "custom") != 0) {
            return ngx_gp_chat_bad(err, "%s: tools of type \"%.32s\" are not "
                                   "supported here (client tools only)",
                                   at, t);
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
            return -1;
        }
    }

    choice = json_object_get(root, "tool_choice");

    if (choice == NULL || json_is_null(choice)) {
        return 0;
    }

    t = json_string_value(json_object_get(choice, "type"));
    name = json_object_get(choice, "name");

    if (t && strcmp(t, "auto") == 0) {
        req->tool_choice = NGX_GP_TOOL_AUTO;

    } else if (t && strcmp(t, "none") == 0) {
        req->tool_choice = NGX_GP_TOOL_NONE;

    } else if (t && strcmp(t, "any") == 0) {
        req->tool_choice = NGX_GP_TOOL_REQUIRED;

    } else if (t && strcmp(t, "tool") == 0 && json_is_string(name)) {
        req->tool_choice = NGX_GP_TOOL_FUNCTION;
        req->tool_name = strdup(json_string_value(name));
        if (req->tool_name == NULL) {
            return ngx_gp_chat_nomem(err);
        }

    } else {
        return ngx_gp_chat_bad(err, "tool_choice: {\"type\":\"auto\"}, "
                               "{\"type\":\"any\"}, {\"type\":\"none\"} "
                               "or {\"type\":\"tool\",\"name\"} is "
                               "required");
    }

    req->no_parallel = json_is_true(json_object_get(choice,
                                              "disable_parallel_tool_use"));

    return ngx_gp_tool_choice_check(req, "tool_choice", err);
}


/*
 * The tool_result blocks of a user message: one TOOL message each, before
 * the message's own text; the function's name from the earlier call.
 */

static int
ant_results(ngx_gp_chat_req_t *req, json_t *content, const char *at,
    ngx_gp_oai_error_t *err)
{
    size_t             i, j, k;
    json_t            *b, *id, *c;
    const char        *t;
    ngx_gp_message_t  *m, *prev;
    char               bat[96];

    for (i = 0; i < json_array_size(content); i++) {
        b = json_array_get(content, i);
        t = json_string_value(json_object_get(b, "type"));

        if (t == NULL || strcmp(t, "tool_result") != 0) {
            continue;
        }

        id = json_object_get(b, "tool_use_id");

        if (!json_is_string(id)) {
            return ngx_gp_chat_bad(err, "%s.%zu.tool_use_id: Field required",
                                   at, i);
        }

        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_TOOL;

        m->call_id = strdup(json_string_value(id));
        if (m->call_id == NULL) {
            return ngx_gp_chat_nomem(err);
        }

        for (j = 0; j + 1 < req->nmessages && m->name == NULL; j++) {
            prev = &req->messages[j];

            for (k = 0; k < prev->ncalls; k++) {
                if (strcmp(prev->calls[k].id, m->call_id) == 0) {
                    m->name = strdup(prev->calls[k].name);
                    break;
                }
            }
        }

        if (json_is_true(json_object_get(b, "is_error"))
            && ngx_gp_chat_text_add(m, "Error:", 6) != 0)
        {
            return ngx_gp_chat_nomem(err);
        }

        c = json_object_get(b, "content");

        if (c && !json_is_null(c)) {
            snprintf(bat, sizeof(bat), "%s.%zu.content", at, i);

            if (ant_content(c, m, bat, err) != 0) {
                return -1;
            }
        }

        if (m->text == NULL) {
            m->text = strdup("");
            if (m->text == NULL) {
                return ngx_gp_chat_nomem(err);
            }
        }
    }

    return 0;
}


/* "content" (or "system"): a string or an array of blocks */

static int
ant_content(json_t *c, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    size_t       i, k, n;
    json_t      *b, *v;
    const char  *t;
    char         bat[128];

    if (json_is_string(c)) {
        if (ngx_gp_chat_text_add(m, json_string_value(c),
                                 json_string_length(c))
            != 0)
        {
            return ngx_gp_chat_nomem(err);
        }

        return 0;
    }

    if (!json_is_array(c)) {
        return ngx_gp_chat_bad(err, "%s: a string or an array of content "
                               "blocks is required", at);
    }

    n = json_array_size(c);

    if (ngx_gp_chat_parts_alloc(m, n) != 0) {
        return ngx_gp_chat_nomem(err);
    }

    for (i = 0; i < n; i++) {
        b = json_array_get(c, i);
        t = json_string_value(json_object_get(b, "type"));

        snprintf(bat, sizeof(bat), "%s.%zu", at, i);

        if (t == NULL) {
            return ngx_gp_chat_bad(err, "%s.type: Field required", bat);
        }

        if (strcmp(t, "text") == 0) {
            v = json_object_get(b, "text");

            if (!json_is_string(v)) {
                return ngx_gp_chat_bad(err, "%s.text: Field required", bat);
            }

            if (ngx_gp_chat_text_add(m, json_string_value(v),
                                     json_string_length(v))
                != 0)
            {
                return ngx_gp_chat_nomem(err);
            }

            continue;
        }

        if (strcmp(t, "image") == 0 && m->role == NGX_GP_ROLE_USER) {
            if (ant_image(json_object_get(b, "source"), m, bat, err) != 0) {
                return -1;
            }

            continue;
        }

        if (strcmp(t, "tool_use") == 0 && m->role == NGX_GP_ROLE_ASSISTANT) {
            /* counted first: what a failed check filled is freed too */
            k = m->ncalls++;

            if (ngx_gp_tool_call_from_json(&m->calls[k],
                                           json_object_get(b, "id"),
                                           json_object_get(b, "name"),
                                           json_object_get(b, "input"),
                                           k, bat, err)
                != 0)
            {
                return -1;
            }

            continue;
        }

        if (strcmp(t, "tool_result") == 0 && m->role == NGX_GP_ROLE_USER) {
            /* a message of its own (ant_results) */
            continue;
        }

        if (strcmp(t, "thinking") == 0
            || strcmp(t, "redacted_thinking") == 0)
        {
            /* earlier thoughts: the upstream does not take them back */
            continue;
        }

        return ngx_gp_chat_bad(err, "%s: content blocks of type \"%.32s\" "
                               "are not supported here", bat, t);
    }

    return 0;
}


/* an image block's source: {"type":"base64","media_type","data"} or url */

static int
ant_image(json_t *src, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    int                  rc;
    json_t              *mt, *data, *url;
    const char          *t;
    ngx_gp_image_ref_t  *img;

    t = json_string_value(json_object_get(src, "type"));
    url = json_object_get(src, "url");

    if (t && strcmp(t, "url") == 0 && json_is_string(url)) {
        img = &m->images[m->nimages];
        img->kind = NGX_GP_IMAGE_URL;
        img->url = strdup(json_string_value(url));
        if (img->url == NULL) {
            return ngx_gp_chat_nomem(err);
        }

        m->nimages++;
        return 0;
    }

    mt = json_object_get(src, "media_type");
    data = json_object_get(src, "data");

    if (t == NULL || strcmp(t, "base64") != 0 || !json_is_string(mt)
        || strncmp(json_string_value(mt), "image/", 6) != 0
        || !json_is_string(data) || json_string_length(data) == 0)
    {
        return ngx_gp_chat_bad(err, "%s.source: an image needs {\"type\":"
                               "\"base64\",\"media_type\":\"image/...\","
                               "\"data\"} or {\"type\":\"url\",\"url\"}",
                               at);
    }

    rc = ngx_gp_chat_image_data(m, json_string_value(mt),
                                json_string_value(data),
                                json_string_length(data), 0);

    if (rc == 1) {
        return ngx_gp_chat_bad(err, "%s.source.data: not valid base64", at);
    }

    return rc == 0 ? 0 : ngx_gp_chat_nomem(err);
}
