
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


#define GP_PARAM_LEN  96

#define buf_lit(b, s)  buf_add(b, s, sizeof(s) - 1)


typedef ngx_gp_buf_t  gp_buf_t;


static int parse_root(json_t *root, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static void render_chunk(gp_buf_t *b, const ngx_gp_chunk_t *c);
static int parse_messages(json_t *list, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_prompts(json_t *list, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err);
static int parse_role(json_t *v, const char *param, int dflt, int *role,
    ngx_gp_oai_error_t *err);
static int parse_content(json_t *content, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err);
static int parse_part(json_t *part, const char *param, gp_buf_t *text,
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
static void user_query(const char *p, size_t len, const char **out,
    size_t *out_len);
static void paragraph(gp_buf_t *b, const ngx_gp_message_t *m);
static void render_usage(gp_buf_t *b, const ngx_gp_usage_t *u);
static void render_model(gp_buf_t *b, const char *id, time_t created,
    const char *owned_by);

static void buf_reserve(gp_buf_t *b, size_t n);
static void buf_add(gp_buf_t *b, const char *p, size_t n);
static void buf_str(gp_buf_t *b, const char *p, size_t n);
static void buf_cstr(gp_buf_t *b, const char *s);
static void buf_int(gp_buf_t *b, int64_t v);
static void buf_uint(gp_buf_t *b, uint64_t v);
static char *buf_finish(gp_buf_t *b, size_t *len);

static size_t utf8_seq(const unsigned char *p, size_t n);
static char *mem_dup(const char *p, size_t len);
static const char *mem_find(const char *p, size_t len, const char *s,
    size_t n);
static int has_prefix_ci(const char *p, size_t len, const char *prefix);


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
    }

    free(req->messages);
    free(req->model);
    free(req->conversation_id);
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
            req->model = mem_dup(json_string_value(v),
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

    for (i = 0; i < req->nmessages; i++) {
        if (req->messages[i].role == NGX_GP_ROLE_USER) {
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
    }

    return 0;
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
            m->text = mem_dup(json_string_value(v), json_string_length(v));
            m->len = json_string_length(v);

        } else {
            m->text = mem_dup("", 0);
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
    char      sub[GP_PARAM_LEN], idx[24];
    size_t    i, ntext;
    gp_buf_t  text;

    if (content == NULL || json_is_null(content)) {
        m->text = mem_dup("", 0);
        return m->text ? 0 : nomem(err);
    }

    if (json_is_string(content)) {
        m->len = json_string_length(content);
        m->text = mem_dup(json_string_value(content), m->len);
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

    memset(&text, 0, sizeof(gp_buf_t));
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

    m->text = buf_finish(&text, &m->len);

    return m->text ? 0 : nomem(err);
}


static int
parse_part(json_t *part, const char *param, gp_buf_t *text, size_t *ntext,
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
        buf_lit(text, "\n");
    }

    buf_add(text, json_string_value(v), json_string_length(v));

    return text->failed ? nomem(err) : 0;
}


static int
parse_url(const char *url, size_t len, const char *param,
    ngx_gp_message_t *m, ngx_gp_oai_error_t *err)
{
    size_t               i, n;
    ngx_gp_image_ref_t  *img;

    if (has_prefix_ci(url, len, "data:")) {
        return parse_data_url(url, len, param, m, err);
    }

    if (has_prefix_ci(url, len, "http://")) {
        n = sizeof("http://") - 1;

    } else if (has_prefix_ci(url, len, "https://")) {
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
    img->url = mem_dup(url, len);

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
            && has_prefix_ci(seg, 6, "base64"))
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
        img->mime = mem_dup("image/png", sizeof("image/png") - 1);

    } else {
        img->mime = mem_dup(p, n);

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
    img->file_id = mem_dup(id, len);

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

    *dst = mem_dup(json_string_value(v), json_string_length(v));

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


/* the upstream prompt */

char *
ngx_gp_chat_prompt(const ngx_gp_chat_req_t *req, int replay, size_t *len)
{
    size_t                   i, last, nsys, n;
    gp_buf_t                 b;
    const char              *p;
    const ngx_gp_message_t  *m;

    memset(&b, 0, sizeof(gp_buf_t));

    last = req->nmessages;

    for (i = 0; i < req->nmessages; i++) {
        if (req->messages[i].role == NGX_GP_ROLE_USER) {
            last = i;
        }
    }

    if (last == req->nmessages) {
        return NULL;
    }

    /* every system (and developer) message, in order, joined by "\n\n" */

    nsys = 0;

    for (i = 0; i < req->nmessages; i++) {
        m = &req->messages[i];

        if (m->role != NGX_GP_ROLE_SYSTEM || m->len == 0) {
            continue;
        }

        if (nsys++) {
            buf_lit(&b, "\n\n");

        } else {
            buf_lit(&b, "[System Instruction]\n");
        }

        buf_add(&b, m->text, m->len);
    }

    if (nsys) {
        buf_lit(&b, "\n\n[User Message]\n");
    }

    n = 0;

    if (replay) {
        for (i = 0; i < last; i++) {
            m = &req->messages[i];

            if (m->role != NGX_GP_ROLE_SYSTEM && (m->len || m->nimages)) {
                n++;
            }
        }
    }

    if (n == 0) {
        m = &req->messages[last];

        user_query(m->text, m->len, &p, &n);
        buf_add(&b, p, n);

        return buf_finish(&b, len);
    }

    /* a transcript of the earlier turns, then the last user message */

    n = 0;

    for (i = 0; i <= last; i++) {
        m = &req->messages[i];

        if (m->role == NGX_GP_ROLE_SYSTEM
            || (m->len == 0 && m->nimages == 0 && i != last))
        {
            continue;
        }

        if (n++) {
            buf_lit(&b, "\n\n");
        }

        paragraph(&b, m);
    }

    return buf_finish(&b, len);
}


static void
paragraph(gp_buf_t *b, const ngx_gp_message_t *m)
{
    size_t       i, n;
    const char  *p;

    switch (m->role) {

    case NGX_GP_ROLE_USER:
        buf_lit(b, "User:");
        user_query(m->text, m->len, &p, &n);
        break;

    case NGX_GP_ROLE_ASSISTANT:
        buf_lit(b, "Assistant:");
        p = m->text;
        n = m->len;
        break;

    default:
        buf_lit(b, "Tool:");
        p = m->text;
        n = m->len;
        break;
    }

    if (n) {
        buf_lit(b, " ");
        buf_add(b, p, n);
    }

    for (i = 0; i < m->nimages; i++) {
        buf_lit(b, " [image]");
    }
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

    open = mem_find(p, len, "<user_query>", sizeof("<user_query>") - 1);
    if (open == NULL) {
        return;
    }

    s = open + sizeof("<user_query>") - 1;

    close = mem_find(s, (size_t) (p + len - s), "</user_query>",
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

        n = utf8_seq(s, (size_t) (end - s));

        if (n == 0) {
            run++;
            s++;
            continue;
        }

        if (n == 2) {
            cp = ((uint32_t) (s[0] & 0x1f) << 6) | (s[1] & 0x3f);

        } else if (n == 3) {
            cp = ((uint32_t) (s[0] & 0x0f) << 12)
                 | ((uint32_t) (s[1] & 0x3f) << 6) | (s[2] & 0x3f);

        } else {
            cp = 0x10000;
        }

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
ngx_gp_render_chunk(const ngx_gp_chunk_t *c, size_t *len)
{
    gp_buf_t  b;

    memset(&b, 0, sizeof(gp_buf_t));

    render_chunk(&b, c);

    return buf_finish(&b, len);
}


char *
ngx_gp_render_chunk_into(const ngx_gp_chunk_t *c, char *buf, size_t size,
    size_t *len)
{
    gp_buf_t  b;

    memset(&b, 0, sizeof(gp_buf_t));

    if (size) {
        b.p = buf;
        b.cap = size;
        b.ext = 1;
    }

    render_chunk(&b, c);

    return buf_finish(&b, len);
}


static void
render_chunk(gp_buf_t *b, const ngx_gp_chunk_t *c)
{
    int          comma;
    const char  *fr;

    buf_lit(b, "data: {\"id\":");
    buf_cstr(b, c->id);
    buf_lit(b, ",\"object\":\"chat.completion.chunk\",\"created\":");
    buf_int(b, (int64_t) c->created);
    buf_lit(b, ",\"model\":");
    buf_cstr(b, c->model);

    if (c->usage && c->error == NULL) {
        buf_lit(b, ",\"choices\":[],\"usage\":");
        render_usage(b, c->usage);
        buf_lit(b, "}\n\n");

        return;
    }

    buf_lit(b, ",\"choices\":[{\"index\":0,\"delta\":{");

    comma = 0;

    if (c->role) {
        buf_lit(b, "\"role\":");
        buf_cstr(b, c->role);
        comma = 1;
    }

    if (c->content) {
        if (comma) {
            buf_lit(b, ",");
        }

        buf_lit(b, "\"content\":");
        buf_str(b, c->content, c->content_len);
        comma = 1;
    }

    if (c->reasoning) {
        if (comma) {
            buf_lit(b, ",");
        }

        buf_lit(b, "\"reasoning_content\":");
        buf_str(b, c->reasoning, c->reasoning_len);
    }

    buf_lit(b, "},\"finish_reason\":");

    fr = c->finish_reason;

    if (fr == NULL && c->error) {
        fr = "stop";
    }

    buf_cstr(b, fr);
    buf_lit(b, "}]");

    if (c->error) {
        buf_lit(b, ",\"error\":{\"message\":");
        buf_cstr(b, c->error);
        buf_lit(b, ",\"type\":\"upstream_error\",\"param\":null,"
                   "\"code\":null}");

        if (c->usage) {
            buf_lit(b, ",\"usage\":");
            render_usage(b, c->usage);
        }
    }

    buf_lit(b, "}\n\n");
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
    gp_buf_t  b;

    memset(&b, 0, sizeof(gp_buf_t));

    if (size) {
        b.p = buf;
        b.cap = size;
        b.ext = 1;
    }

    buf_lit(&b, "{\"id\":");
    buf_cstr(&b, c->id);
    buf_lit(&b, ",\"object\":\"chat.completion\",\"created\":");
    buf_int(&b, (int64_t) c->created);
    buf_lit(&b, ",\"model\":");
    buf_cstr(&b, c->model);
    buf_lit(&b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                "\"assistant\",\"content\":");
    buf_str(&b, c->content, c->content_len);

    if (c->reasoning) {
        buf_lit(&b, ",\"reasoning_content\":");
        buf_str(&b, c->reasoning, c->reasoning_len);
    }

    buf_lit(&b, "},\"finish_reason\":");
    buf_cstr(&b, c->finish_reason);
    buf_lit(&b, "}],\"usage\":");
    render_usage(&b, &c->usage);
    buf_lit(&b, "}");

    return buf_finish(&b, len);
}


char *
ngx_gp_render_error(const ngx_gp_oai_error_t *err, size_t *len)
{
    gp_buf_t     b;
    const char  *p;

    memset(&b, 0, sizeof(gp_buf_t));

    buf_lit(&b, "{\"error\":{\"message\":");
    p = memchr(err->message, '\0', sizeof(err->message));
    buf_str(&b, err->message,
            p ? (size_t) (p - err->message) : sizeof(err->message));
    buf_lit(&b, ",\"type\":");
    buf_cstr(&b, err->type ? err->type : "api_error");
    buf_lit(&b, ",\"param\":");
    buf_cstr(&b, err->param);
    buf_lit(&b, ",\"code\":");
    buf_cstr(&b, err->code);
    buf_lit(&b, "}}");

    return buf_finish(&b, len);
}


char *
ngx_gp_render_models(const char *const *ids, size_t n, time_t created,
    const char *owned_by, size_t *len)
{
    size_t    i;
    gp_buf_t  b;

    memset(&b, 0, sizeof(gp_buf_t));

    buf_lit(&b, "{\"object\":\"list\",\"data\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            buf_lit(&b, ",");
        }

        render_model(&b, ids[i], created, owned_by);
    }

    buf_lit(&b, "]}");

    return buf_finish(&b, len);
}


char *
ngx_gp_render_model(const char *id, time_t created, const char *owned_by,
    size_t *len)
{
    gp_buf_t  b;

    memset(&b, 0, sizeof(gp_buf_t));

    render_model(&b, id, created, owned_by);

    return buf_finish(&b, len);
}


void
ngx_gp_oai_error_set(ngx_gp_oai_error_t *err, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
{
    int                   n;
    size_t                len, i, k;
    va_list               args;
    const unsigned char  *s;

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

    va_start(args, fmt);
    n = vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    if (n < 0) {
        err->message[0] = '\0';
        return;
    }

    if ((size_t) n < sizeof(err->message)) {
        return;
    }

    /* truncated: do not leave half a UTF-8 character at the end */

    len = sizeof(err->message) - 1;
    s = (const unsigned char *) err->message;

    for (k = 0; k < 4 && k < len; k++) {
        i = len - 1 - k;

        if ((s[i] & 0xc0) != 0x80) {
            if (s[i] >= 0xc0 && utf8_seq(&s[i], len - i) == 0) {
                err->message[i] = '\0';
            }

            break;
        }
    }
}


static void
render_usage(gp_buf_t *b, const ngx_gp_usage_t *u)
{
    buf_lit(b, "{\"prompt_tokens\":");
    buf_uint(b, u->prompt_tokens);
    buf_lit(b, ",\"completion_tokens\":");
    buf_uint(b, u->completion_tokens);
    buf_lit(b, ",\"total_tokens\":");
    buf_uint(b, u->prompt_tokens + u->completion_tokens);
    buf_lit(b, "}");
}


static void
render_model(gp_buf_t *b, const char *id, time_t created,
    const char *owned_by)
{
    buf_lit(b, "{\"id\":");
    buf_cstr(b, id);
    buf_lit(b, ",\"object\":\"model\",\"created\":");
    buf_int(b, (int64_t) created);
    buf_lit(b, ",\"owned_by\":");
    buf_cstr(b, owned_by);
    buf_lit(b, "}");
}


/* the output buffer and the JSON string escaper */

/* makes room for n more bytes and the terminating NUL */

static void
buf_reserve(gp_buf_t *b, size_t n)
{
    char    *np;
    size_t   cap;

    if (b->failed || (b->p != NULL && n < b->cap - b->len)) {
        return;
    }

    if (n > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return;
    }

    cap = b->cap ? b->cap : 256;

    while (cap <= b->len + n) {
        cap *= 2;
    }

    if (b->ext) {
        /* the caller's storage is too small: the text moves out */
        np = malloc(cap);
        if (np != NULL) {
            memcpy(np, b->p, b->len);
            b->ext = 0;
        }

    } else {
        np = realloc(b->p, cap);
    }

    if (np == NULL) {
        b->failed = 1;
        return;
    }

    b->p = np;
    b->cap = cap;
}


static void
buf_add(gp_buf_t *b, const char *p, size_t n)
{
    buf_reserve(b, n);

    if (b->failed) {
        return;
    }

    if (n) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}


/*
 * A JSON string: '"', '\' and control characters escaped, other text
 * copied as UTF-8, every byte of an invalid sequence replaced by U+FFFD.
 * NULL renders as null.
 */

static void
buf_str(gp_buf_t *b, const char *p, size_t n)
{
    char                  esc[8];
    size_t                k;
    const unsigned char  *s, *end, *run;

    static const char  hex[] = "0123456789abcdef";

    if (p == NULL) {
        buf_lit(b, "null");
        return;
    }

    buf_add(b, "\"", 1);

    /* room for the usual case in one go */

    if (n < SIZE_MAX / 4) {
        buf_reserve(b, n + n / 8 + 2);
    }

    s = (const unsigned char *) p;
    end = s + n;

    while (s < end) {
        run = s;

        while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
        {
            s++;
        }

        if (s > run) {
            buf_add(b, (const char *) run, (size_t) (s - run));
        }

        if (s == end) {
            break;
        }

        if (*s >= 0x80) {
            k = utf8_seq(s, (size_t) (end - s));

            if (k == 0) {
                buf_lit(b, "\xef\xbf\xbd");
                s++;

            } else {
                buf_add(b, (const char *) s, k);
                s += k;
            }

            continue;
        }

        esc[0] = '\\';

        switch (*s) {

        case '"':
        case '\\':
            esc[1] = (char) *s;
            k = 2;
            break;

        case '\n':
            esc[1] = 'n';
            k = 2;
            break;

        case '\r':
            esc[1] = 'r';
            k = 2;
            break;

        case '\t':
            esc[1] = 't';
            k = 2;
            break;

        case '\b':
            esc[1] = 'b';
            k = 2;
            break;

        case '\f':
            esc[1] = 'f';
            k = 2;
            break;

        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 0xf];
            k = 6;
            break;
        }

        buf_add(b, esc, k);
        s++;
    }

    buf_add(b, "\"", 1);
}


static void
buf_cstr(gp_buf_t *b, const char *s)
{
    buf_str(b, s, s ? strlen(s) : 0);
}


static void
buf_int(gp_buf_t *b, int64_t v)
{
    uint64_t  u;

    if (v < 0) {
        buf_lit(b, "-");
        u = (uint64_t) 0 - (uint64_t) v;

    } else {
        u = (uint64_t) v;
    }

    buf_uint(b, u);
}


static void
buf_uint(gp_buf_t *b, uint64_t v)
{
    char   tmp[24], *p;

    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    buf_add(b, p, (size_t) (tmp + sizeof(tmp) - p));
}


/* NUL-terminates and hands the text over; NULL when anything failed */

static char *
buf_finish(gp_buf_t *b, size_t *len)
{
    char  *p;

    buf_add(b, "", 0);

    if (b->failed) {
        if (!b->ext) {
            free(b->p);
        }

        memset(b, 0, sizeof(gp_buf_t));
        return NULL;
    }

    p = b->p;
    p[b->len] = '\0';

    if (len) {
        *len = b->len;
    }

    memset(b, 0, sizeof(gp_buf_t));

    return p;
}


/* the buffer and the escaper for the other pure parts */

void
ngx_gp_buf_add(ngx_gp_buf_t *b, const char *p, size_t n)
{
    buf_add(b, p, n);
}


void
ngx_gp_buf_reserve(ngx_gp_buf_t *b, size_t n)
{
    buf_reserve(b, n);
}


void
ngx_gp_buf_str(ngx_gp_buf_t *b, const char *p, size_t n)
{
    buf_str(b, p, n);
}


char *
ngx_gp_buf_finish(ngx_gp_buf_t *b, size_t *len)
{
    return buf_finish(b, len);
}


/* helpers */

/* length of the valid UTF-8 sequence at p, or 0 */

static size_t
utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char  c, lo, hi;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    if (c < 0xc2 || c > 0xf4) {
        return 0;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c < 0xe0) {
        return (n >= 2 && p[1] >= lo && p[1] <= hi) ? 2 : 0;
    }

    if (c == 0xe0) {
        lo = 0xa0;

    } else if (c == 0xed) {
        hi = 0x9f;

    } else if (c == 0xf0) {
        lo = 0x90;

    } else if (c == 0xf4) {
        hi = 0x8f;
    }

    if (n < 2 || p[1] < lo || p[1] > hi) {
        return 0;
    }

    if (c < 0xf0) {
        return (n >= 3 && (p[2] & 0xc0) == 0x80) ? 3 : 0;
    }

    return (n >= 4 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80)
           ? 4 : 0;
}


static char *
mem_dup(const char *p, size_t len)
{
    char  *s;

    if (len == SIZE_MAX) {
        return NULL;
    }

    s = malloc(len + 1);
    if (s == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(s, p, len);
    }

    s[len] = '\0';

    return s;
}


static const char *
mem_find(const char *p, size_t len, const char *s, size_t n)
{
    const char  *end;

    if (n == 0 || n > len) {
        return NULL;
    }

    end = p + len - n;

    for ( /* void */ ; p <= end; p++) {
        p = memchr(p, s[0], (size_t) (end - p) + 1);

        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }

    return NULL;
}


static int
has_prefix_ci(const char *p, size_t len, const char *prefix)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; prefix[i]; i++) {
        if (i >= len) {
            return 0;
        }

        c = (unsigned char) p[i];

        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char) (c - 'A' + 'a');
        }

        if (c != (unsigned char) prefix[i]) {
            return 0;
        }
    }

    return 1;
}
