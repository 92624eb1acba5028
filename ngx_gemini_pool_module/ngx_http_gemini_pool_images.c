
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI images API's requests, as pure functions (see the header).
 */


#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_images.h"


static int
ngx_gp_images_size_valid(const char *s)
{
    const char  *p;

    if (strcmp(s, "auto") == 0) {
        return 1;
    }

    p = s;

    while (*p >= '0' && *p <= '9') {
        p++;
    }

    if (p == s || p - s > 5 || *p != 'x') {
        return 0;
    }

    s = ++p;

    while (*p >= '0' && *p <= '9') {
        p++;
    }

    return p > s && p - s <= 5 && *p == '\0';
}


int
ngx_gp_images_parse(const char *body, size_t len, ngx_gp_images_req_t *ir,
    ngx_gp_oai_error_t *err)
{
    json_t        *root, *v;
    const char    *s;
    json_error_t   jerr;

    memset(ir, 0, sizeof(ngx_gp_images_req_t));
    ir->n = 1;

    root = json_loadb(body, len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_json", NULL,
                             "The body is not a JSON object");
        goto failed;
    }

    v = json_object_get(root, "prompt");
    s = json_string_value(v);

    if (s == NULL || s[0] == '\0') {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             v ? "invalid_type" : "missing_required_parameter",
                             "prompt", "'prompt' must be a non-empty string");
        goto failed;
    }

    ir->prompt_len = json_string_length(v);

    v = json_object_get(root, "n");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > 10)
        {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_value", "n",
                                 "'n' must be an integer from 1 to 10");
            goto failed;
        }

        ir->n = (unsigned) json_integer_value(v);
    }

    v = json_object_get(root, "size");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)
            || !ngx_gp_images_size_valid(json_string_value(v)))
        {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_value", "size",
                                 "'size' must be \"auto\" or "
                                 "\"<width>x<height>\", like \"1024x1024\"");
            goto failed;
        }

        if (strcmp(json_string_value(v), "auto") != 0) {
            ir->size = strdup(json_string_value(v));
            if (ir->size == NULL) {
                goto oom;
            }
        }
    }

    v = json_object_get(root, "response_format");

    if (v && !json_is_null(v)) {
        s = json_string_value(v);

        if (s == NULL
            || (strcmp(s, "url") != 0 && strcmp(s, "b64_json") != 0))
        {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_value", "response_format",
                                 "'response_format' must be \"url\" or "
                                 "\"b64_json\"");
            goto failed;
        }

        ir->b64 = (s[0] == 'b');
    }

    v = json_object_get(root, "model");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "invalid_type", "model",
                                 "'model' must be a string");
            goto failed;
        }

        if (json_string_length(v)) {
            ir->model = strdup(json_string_value(v));
            if (ir->model == NULL) {
                goto oom;
            }
        }
    }

    ir->prompt = malloc(ir->prompt_len + 1);
    if (ir->prompt == NULL) {
        goto oom;
    }

    memcpy(ir->prompt, json_string_value(json_object_get(root, "prompt")),
           ir->prompt_len + 1);

    json_decref(root);

    return 0;

oom:

    ngx_gp_oai_error_set(err, 500, "server_error", "internal_error", NULL,
                         "out of memory");

failed:

    json_decref(root);

    return -1;
}


/* a text field of a multipart body, malloc'ed; NULL: absent */

static int
ngx_gp_images_field(const ngx_gp_mpart_t *parts, size_t n, const char *name,
    size_t max, char **out)
{
    size_t                 i, k;
    const ngx_gp_mpart_t  *f;

    *out = NULL;

    f = ngx_gp_multipart_get(parts, n, name);

    if (f == NULL || f->len == 0) {
        return 0;
    }

    if (f->len > max || memchr(f->data, '\0', f->len) != NULL) {
        return -1;
    }

    /* text only: the field goes into the JSON of the chat body */

    for (i = 0; i < f->len; i += k) {
        k = ngx_gp_utf8_seq((const unsigned char *) f->data + i,
                            f->len - i);
        if (k == 0) {
            return -1;
        }
    }

    *out = malloc(f->len + 1);
    if (*out == NULL) {
        return -1;
    }

    memcpy(*out, f->data, f->len);
    (*out)[f->len] = '\0';

    return 0;
}


/* the media type of a part: its Content-Type, else by its first bytes */

static void
ngx_gp_images_type(const ngx_gp_mpart_t *part, char *mime, size_t size)
{
    const char  *sniffed;

    if (part->type == NULL
        || ngx_gp_mime_bare(part->type, part->type_len, mime, size) == 0)
    {
        snprintf(mime, size, "application/octet-stream");
    }

    if (strcmp(mime, "application/octet-stream") != 0) {
        return;
    }

    sniffed = ngx_gp_mime_sniff((const unsigned char *) part->data,
                                part->len);

    if (sniffed) {
        snprintf(mime, size, "%s", sniffed);
    }
}


int
ngx_gp_images_edits_parse(const char *ctype, size_t ctype_len,
    const char *body, size_t len, ngx_gp_images_req_t *ir,
    ngx_gp_images_input_t *in, size_t *nin, ngx_gp_oai_error_t *err)
{
    size_t                  i, n;
    char                   *s, *p;
    unsigned                k, bad;
    const char             *reason, *field;
    ngx_gp_images_input_t  *img;
    ngx_gp_mpart_t          parts[NGX_GP_IMAGES_PARTS];

    memset(ir, 0, sizeof(ngx_gp_images_req_t));
    ir->n = 1;
    *nin = 0;
    s = NULL;

    if (ctype == NULL
        || ngx_gp_multipart_parse(ctype, ctype_len, body, len, parts,
                                  NGX_GP_IMAGES_PARTS, &n, &reason)
           != 0)
    {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "invalid_value", NULL, "POST /v1/images/edits "
                             "takes a multipart/form-data body with "
                             "\"image\" and \"prompt\": %s",
                             ctype ? reason : "no Content-Type");
        return -1;
    }

    if (ngx_gp_multipart_get(parts, n, "mask")) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "unsupported_parameter", "mask",
                             "Masks are not supported: the upstream edits "
                             "the whole image; describe the area in the "
                             "prompt");
        return -1;
    }

    field = "prompt";

    if (ngx_gp_images_field(parts, n, "prompt", 32000, &ir->prompt) != 0
        || ir->prompt == NULL)
    {
        goto invalid;
    }

    ir->prompt_len = strlen(ir->prompt);

    field = "n";

    if (ngx_gp_images_field(parts, n, "n", 8, &s) != 0) {
        goto invalid;
    }

    if (s) {
        k = 0;
        bad = 0;

        for (p = s; *p; p++) {
            if (*p < '0' || *p > '9') {
                bad = 1;
                break;
            }

            k = k * 10 + (*p - '0');
        }

        free(s);
        s = NULL;

        if (bad || k < 1 || k > 10) {
            goto invalid;
        }

        ir->n = k;
    }

    field = "size";

    if (ngx_gp_images_field(parts, n, "size", 16, &ir->size) != 0) {
        goto invalid;
    }

    if (ir->size) {
        p = ir->size;

        while (*p >= '0' && *p <= '9') {
            p++;
        }

        if (strcmp(ir->size, "auto") == 0) {
            free(ir->size);
            ir->size = NULL;

        } else if (p == ir->size || *p != 'x' || p[1] < '0' || p[1] > '9') {
            goto invalid;
        }
    }

    field = "response_format";

    if (ngx_gp_images_field(parts, n, "response_format", 16, &s) != 0) {
        goto invalid;
    }

    if (s) {
        if (strcmp(s, "b64_json") == 0) {
            ir->b64 = 1;

        } else if (strcmp(s, "url") != 0) {
            goto invalid;
        }

        free(s);
        s = NULL;
    }

    field = "model";

    if (ngx_gp_images_field(parts, n, "model", 63, &ir->model) != 0) {
        goto invalid;
    }

    /* the images: "image", or "image[]" several times */

    for (i = 0; i < n; i++) {
        if (!((parts[i].name_len == 5
               && strncmp(parts[i].name, "image", 5) == 0)
              || (parts[i].name_len == 7
                  && strncmp(parts[i].name, "image[]", 7) == 0)))
        {
            continue;
        }

        if (parts[i].len == 0) {
            field = "image";
            goto invalid;
        }

        if (*nin == NGX_GP_IMAGES_INPUTS) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "too_many_files", "image",
                                 "At most %d images", NGX_GP_IMAGES_INPUTS);
            return -1;
        }

        img = &in[(*nin)++];
        img->data = parts[i].data;
        img->len = parts[i].len;

        ngx_gp_images_type(&parts[i], img->mime, sizeof(img->mime));

        if (strncmp(img->mime, "image/", 6) != 0) {
            ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                                 "unsupported_file_type", "image",
                                 "Unsupported file type %s: send PNG, "
                                 "JPEG, GIF or WebP images", img->mime);
            return -1;
        }
    }

    if (*nin == 0) {
        ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                             "missing_required_parameter", "image",
                             "Missing required parameter: 'image'.");
        return -1;
    }

    return 0;

invalid:

    free(s);

    ngx_gp_oai_error_set(err, 400, "invalid_request_error",
                         strcmp(field, "prompt") == 0 && ir->prompt == NULL
                         ? "missing_required_parameter" : "invalid_value",
                         field, "Invalid or missing '%s'%s", field,
                         strcmp(field, "n") == 0
                         ? ": an integer from 1 to 10"
                         : strcmp(field, "size") == 0
                           ? ": \"auto\" or \"<width>x<height>\""
                         : strcmp(field, "response_format") == 0
                           ? ": \"url\" or \"b64_json\"" : "");
    return -1;
}


char *
ngx_gp_images_chat_body(const ngx_gp_images_req_t *ir, const char *model,
    size_t *len)
{
    char                      *text, *s, *p;
    size_t                     i;
    json_t                    *root, *content, *part;
    const char                *mime;
    const ngx_gp_image_ref_t  *img;

    root = NULL;
    s = NULL;

    text = malloc(ir->prompt_len + 128);
    if (text == NULL) {
        return NULL;
    }

    memcpy(text, ir->prompt, ir->prompt_len);
    p = text + ir->prompt_len;

    if (ir->n > 1) {
        p += sprintf(p, "\n\n(Generate %u separate images.)", ir->n);
    }

    if (ir->size) {
        p += snprintf(p, 64, "%s(Size: %s.)", ir->n > 1 ? "\n" : "\n\n",
                      ir->size);
    }

    *p = '\0';

    content = json_array();
    root = json_pack("{s:s, s:[{s:s, s:o}]}", "model", model, "messages",
                     "role", "user", "content", content);
    part = json_pack("{s:s, s:s%}", "type", "text", "text", text,
                     (size_t) (p - text));

    if (root == NULL || part == NULL
        || json_array_append_new(content, part) != 0)
    {
        goto failed;
    }

    for (i = 0; i < ir->nimages; i++) {
        img = &ir->images[i];

        if (img->kind == NGX_GP_IMAGE_FILE && img->file_id) {
            part = json_pack("{s:s, s:s}", "type", "file", "file_id",
                             img->file_id);

        } else if (img->kind == NGX_GP_IMAGE_URL && img->url) {
            part = json_pack("{s:s, s:{s:s}}", "type", "image_url",
                             "image_url", "url", img->url);

        } else if (img->data) {
            mime = img->mime ? img->mime : "image/png";

            s = malloc(img->data_len + strlen(mime) + 16);
            if (s == NULL) {
                goto failed;
            }

            p = s + sprintf(s, "data:%s;base64,", mime);
            memcpy(p, img->data, img->data_len);
            p[img->data_len] = '\0';

            part = json_pack("{s:s, s:{s:s}}", "type", "image_url",
                             "image_url", "url", s);
            free(s);
            s = NULL;

        } else {
            continue;
        }

        if (part == NULL || json_array_append_new(content, part) != 0) {
            goto failed;
        }
    }

    s = json_dumps(root, JSON_COMPACT);

    if (s) {
        *len = strlen(s);
    }

failed:

    json_decref(root);
    free(text);

    return s;
}


void
ngx_gp_images_req_free(ngx_gp_images_req_t *ir)
{
    size_t  i;

    for (i = 0; i < ir->nimages; i++) {
        free(ir->images[i].mime);
        free(ir->images[i].data);
        free(ir->images[i].url);
        free(ir->images[i].file_id);
    }

    free(ir->images);
    free(ir->model);
    free(ir->prompt);
    free(ir->size);

    memset(ir, 0, sizeof(ngx_gp_images_req_t));
}
