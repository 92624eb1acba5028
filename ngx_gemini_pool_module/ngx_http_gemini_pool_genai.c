
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini API: a generateContent body into a chat request.  See the
 * header.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_genai.h"


static int genai_root(json_t *root, int count, ngx_gp_chat_req_t *req,
    int *no_thoughts, ngx_gp_oai_error_t *err);
static int genai_tools(ngx_gp_chat_req_t *req, json_t *root,
    ngx_gp_oai_error_t *err);
static int genai_responses(ngx_gp_chat_req_t *req, json_t *parts,
    size_t turn, ngx_gp_oai_error_t *err);
static int genai_parts(json_t *parts, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err);
static int genai_part(json_t *part, size_t i, ngx_gp_message_t *m,
    const char *at, ngx_gp_oai_error_t *err);
static json_t *genai_get(json_t *obj, const char *key, const char *snake);


int
ngx_gp_genai_req_parse(const char *body, size_t len, int count,
    ngx_gp_chat_req_t *req, int *no_thoughts, ngx_gp_oai_error_t *err)
{
    int      rc;
    json_t  *root;

    root = ngx_gp_chat_body_object(body, len,
                                   "Invalid JSON payload received.", err);
    if (root == NULL) {
        return -1;
    }

    rc = genai_root(root, count, req, no_thoughts, err);

    json_decref(root);

    return rc;
}


static int
genai_root(json_t *root, int count, ngx_gp_chat_req_t *req,
    int *no_thoughts, ngx_gp_oai_error_t *err)
{
    int                user;
    size_t             i, n, results;
    json_t            *contents, *sys, *c, *v;
    const char        *role;
    ngx_gp_message_t  *m;
    char               at[48];

    v = json_object_get(root, "generateContentRequest");

    if (count && json_is_object(v)) {
        /* countTokens of a whole request */
        root = v;
    }

    contents = json_object_get(root, "contents");

    if (!json_is_array(contents) || json_array_size(contents) == 0) {
        return ngx_gp_chat_bad(err, "* GenerateContentRequest.contents: "
                               "contents is not specified");
    }

    v = genai_get(root, "generationConfig", "generation_config");
    v = json_object_get(v, "thinkingConfig");

    if (json_is_false(json_object_get(v, "includeThoughts"))) {
        *no_thoughts = 1;
    }

    if (genai_tools(req, root, err) != 0
        || ngx_gp_chat_messages_alloc(req, contents, "parts", err) != 0)
    {
        return -1;
    }

    sys = genai_get(root, "systemInstruction", "system_instruction");

    if (sys && !json_is_null(sys)) {
        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_SYSTEM;

        if (json_is_string(sys)) {
            if (ngx_gp_chat_text_add(m, json_string_value(sys),
                                     json_string_length(sys))
                != 0)
            {
                return ngx_gp_chat_nomem(err);
            }

        } else if (genai_parts(json_object_get(sys, "parts"), m,
                               "systemInstruction", err)
                   != 0)
        {
            return -1;
        }
    }

    user = 0;
    n = json_array_size(contents);

    for (i = 0; i < n; i++) {
        c = json_array_get(contents, i);
        role = json_string_value(json_object_get(c, "role"));

        if (role == NULL || role[0] == '\0' || strcmp(role, "function") == 0)
        {
            role = "user";
        }

        results = req->nmessages;

        if (strcmp(role, "user") == 0
            && genai_responses(req, json_object_get(c, "parts"), i, err)
               != 0)
        {
            return -1;
        }

        results = req->nmessages - results;

        snprintf(at, sizeof(at), "contents[%zu]", i);

        m = ngx_gp_chat_turn_add(req,
                                 strcmp(role, "user") == 0
                                 ? NGX_GP_ROLE_USER
                                 : strcmp(role, "model") == 0
                                 ? NGX_GP_ROLE_ASSISTANT : -1,
                                 &user, at, "model", err);
        if (m == NULL) {
            return -1;
        }

        if (genai_parts(json_object_get(c, "parts"), m, at, err) != 0
            || ngx_gp_chat_turn_end(req, m, results, err) != 0)
        {
            return -1;
        }
    }

    return ngx_gp_chat_no_user(user, "contents", "turn", err);
}


/* tools[].functionDeclarations[] and toolConfig.functionCallingConfig */

static int
genai_tools(ngx_gp_chat_req_t *req, json_t *root, ngx_gp_oai_error_t *err)
{
    size_t       i, j, n;
    json_t      *tools, *decls, *d, *cfg, *names, *params;
    const char  *mode;
    char         at[80];

    tools = json_object_get(root, "tools");

    if (tools && !json_is_null(tools) && !json_is_array(tools)) {
        return ngx_gp_chat_bad(err, "tools: an array is required");
    }

    n = 0;

    for (i = 0; i < json_array_size(tools); i++) {
        decls = genai_get(json_array_get(tools, i), "functionDeclarations",
                          "function_declarations");

        if (!json_is_array(decls)) {
            return ngx_gp_chat_bad(err, "tools[%zu]: only "
                                   "functionDeclarations are supported "
                                   "here", i);
        }

        n += json_array_size(decls);
    }

    if (n) {
        req->tools = calloc(n, sizeof(ngx_gp_tool_t));
        if (req->tools == NULL) {
            return ngx_gp_chat_nomem(err);
        }
    }

    for (i = 0; i < json_array_size(tools); i++) {
        decls = genai_get(json_array_get(tools, i), "functionDeclarations",
                          "function_declarations");

        for (j = 0; j < json_array_size(decls); j++) {
            d = json_array_get(decls, j);

            params = genai_get(d, "parameters", "parametersJsonSchema");

            snprintf(at, sizeof(at), "tools[%zu].functionDeclarations[%zu]",
                     i, j);

            /* counted first: what a failed check filled is freed too */
            req->ntools++;

            if (ngx_gp_tool_from_json(&req->tools[req->ntools - 1],
                                      json_object_get(d, "name"),
                                      json_object_get(d, "description"),
                                      params, at, err)
                != 0)
            {
                return -1;
            }
        }
    }

    cfg = genai_get(root, "toolConfig", "tool_config");
    cfg = json_object_get(cfg, "functionCallingConfig");
    mode = json_string_value(json_object_get(cfg, "mode"));
    names = json_object_get(cfg, "allowedFunctionNames");

    if (mode == NULL || strcmp(mode, "AUTO") == 0
        || strcmp(mode, "MODE_UNSPECIFIED") == 0)
    {
        return 0;
    }

    if (strcmp(mode, "NONE") == 0) {
        req->tool_choice = NGX_GP_TOOL_NONE;
        return 0;
    }

    if (strcmp(mode, "ANY") != 0 && strcmp(mode, "VALIDATED") != 0) {
        return ngx_gp_chat_bad(err, "toolConfig.functionCallingConfig.mode: "
                               "AUTO, ANY, NONE or VALIDATED is required");
    }

    req->tool_choice = NGX_GP_TOOL_REQUIRED;

    if (json_array_size(names) == 1
        && json_is_string(json_array_get(names, 0)))
    {
        req->tool_choice = NGX_GP_TOOL_FUNCTION;
        req->tool_name = strdup(json_string_value(json_array_get(names, 0)));
        if (req->tool_name == NULL) {
            return ngx_gp_chat_nomem(err);
        }
    }

    return ngx_gp_tool_choice_check(req, "toolConfig", err);
}


/*
 * The functionResponse parts of a user turn: one TOOL message each, before
 * the turn's own parts; the call's id when given, else paired by name.
 */

static int
genai_responses(ngx_gp_chat_req_t *req, json_t *parts, size_t turn,
    ngx_gp_oai_error_t *err)
{
    char              *text;
    size_t             i;
    json_t            *v, *name, *id, *resp;
    ngx_gp_message_t  *m;

    for (i = 0; i < json_array_size(parts); i++) {
        v = genai_get(json_array_get(parts, i), "functionResponse",
                      "function_response");

        if (v == NULL) {
            continue;
        }

        name = json_object_get(v, "name");
        id = json_object_get(v, "id");

        if (!json_is_string(name)
            || !ngx_gp_tool_name_ok(json_string_value(name),
                                    json_string_length(name)))
        {
            return ngx_gp_chat_bad(err, "contents[%zu].parts[%zu]."
                                   "functionResponse.name: a function name "
                                   "is required", turn, i);
        }

        m = &req->messages[req->nmessages++];
        m->role = NGX_GP_ROLE_TOOL;

        m->name = strdup(json_string_value(name));
        if (m->name == NULL) {
            return ngx_gp_chat_nomem(err);
        }

        if (json_is_string(id)) {
            m->call_id = strdup(json_string_value(id));
            if (m->call_id == NULL) {
                return ngx_gp_chat_nomem(err);
            }
        }

        resp = json_object_get(v, "response");

        text = resp ? json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY)
                    : strdup("");
        if (text == NULL) {
            return ngx_gp_chat_nomem(err);
        }

        m->text = text;
        m->len = strlen(text);
    }

    return 0;
}


/* "parts" into a message: text, inlineData, fileData; thoughts skipped */

static int
genai_parts(json_t *parts, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    size_t  i, n;

    if (!json_is_array(parts)) {
        return ngx_gp_chat_bad(err, "%s.parts: an array of parts is "
                               "required", at);
    }

    n = json_array_size(parts);

    if (ngx_gp_chat_parts_alloc(m, n) != 0) {
        return ngx_gp_chat_nomem(err);
    }

    for (i = 0; i < n; i++) {
        if (genai_part(json_array_get(parts, i), i, m, at, err) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
genai_part(json_t *part, size_t i, ngx_gp_message_t *m, const char *at,
    ngx_gp_oai_error_t *err)
{
    int                  rc;
    size_t               j, len;
    json_t              *v, *d, *mt;
    const char          *s;
    ngx_gp_image_ref_t  *img;
    char                 pat[128];

    if (json_is_true(json_object_get(part, "thought"))) {
        return 0;
    }

    v = genai_get(part, "functionCall", "function_call");

    if (v && m->role == NGX_GP_ROLE_ASSISTANT) {
        snprintf(pat, sizeof(pat), "%s.parts[%zu].functionCall", at, i);

        /* counted first: what a failed check filled is freed too */
        j = m->ncalls++;

        return ngx_gp_tool_call_from_json(&m->calls[j],
                                          json_object_get(v, "id"),
                                          json_object_get(v, "name"),
                                          json_object_get(v, "args"),
                                          j, pat, err);
    }

    if (m->role == NGX_GP_ROLE_USER
        && genai_get(part, "functionResponse", "function_response"))
    {
        /* a message of its own (genai_responses) */
        return 0;
    }

    v = json_object_get(part, "text");

    if (json_is_string(v)) {
        if (ngx_gp_chat_text_add(m, json_string_value(v),
                                 json_string_length(v))
            != 0)
        {
            return ngx_gp_chat_nomem(err);
        }

        return 0;
    }

    v = genai_get(part, "inlineData", "inline_data");

    if (v) {
        mt = genai_get(v, "mimeType", "mime_type");
        d = json_object_get(v, "data");
        s = json_string_value(d);
        len = json_string_length(d);

        rc = 1;

        if (s != NULL && len != 0 && json_is_string(mt)
            && strncmp(json_string_value(mt), "image/", 6) == 0)
        {
            rc = ngx_gp_chat_image_data(m, json_string_value(mt), s, len, 1);
        }

        if (rc == 1) {
            return ngx_gp_chat_bad(err, "%s.parts[%zu].inlineData: an image "
                                   "needs \"mimeType\":\"image/...\" and "
                                   "base64 \"data\"", at, i);
        }

        return rc == 0 ? 0 : ngx_gp_chat_nomem(err);
    }

    v = genai_get(part, "fileData", "file_data");
    s = json_string_value(genai_get(v, "fileUri", "file_uri"));

    if (s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0))
    {
        img = &m->images[m->nimages++];
        img->kind = NGX_GP_IMAGE_URL;
        img->url = strdup(s);

        return img->url ? 0 : ngx_gp_chat_nomem(err);
    }

    return ngx_gp_chat_bad(err, "%s.parts[%zu]: only text, inlineData and "
                           "fileData (an http(s) URL) parts are supported",
                           at, i);
}


/* obj[key], else obj[snake] (Google's JSON takes both spellings) */

static json_t *
genai_get(json_t *obj, const char *key, const char *snake)
{
    json_t  *v;

    v = json_object_get(obj, key);

    return v ? v : json_object_get(obj, snake);
}
