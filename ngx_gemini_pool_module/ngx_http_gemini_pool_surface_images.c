
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI images API surface: POST /v1/images/generations and
 * /v1/images/edits run as a chat turn of an image model (the prompt,
 * with the count and size as hints; the input images of an edit as
 * image parts), and answer {"created":T,"data":[{"url"}|{"b64_json"}]}
 * once the images are in the media cache.  The requests are parsed by
 * the pure functions of images.c.
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_images_body(ngx_http_request_t *r);
static void ngx_gp_images_edits_body(ngx_http_request_t *r);
static ngx_int_t ngx_gp_images_parse_generations(ngx_gp_reply_t *o,
    ngx_str_t *body, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_images_parse_edits(ngx_gp_reply_t *o,
    ngx_str_t *body, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_images_model(ngx_gp_reply_t *o, ngx_gp_model_t *m,
    ngx_str_t *name, ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_images_begin(ngx_gp_reply_t *o);
static ngx_int_t ngx_gp_images_delta(ngx_gp_reply_t *o, const char *p,
    size_t len, ngx_uint_t thought);
static ngx_int_t ngx_gp_images_media(ngx_gp_reply_t *o, ngx_gp_media_t *m);
static ngx_int_t ngx_gp_images_finish(ngx_gp_reply_t *o,
    ngx_gp_answer_t *a);
static ngx_int_t ngx_gp_images_error(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_images_stop(ngx_gp_reply_t *o,
    ngx_gp_oai_error_t *err);


const ngx_gp_surface_t  ngx_gp_surface_images = {
    "/v1/images/generations",
    ngx_gp_images_body,
    ngx_null_string,
    ngx_gp_images_parse_generations,
    ngx_gp_images_model,
    ngx_gp_images_begin,
    ngx_gp_images_delta,
    ngx_gp_images_media,
    ngx_gp_images_finish,
    ngx_gp_images_error,
    ngx_gp_images_stop,
    NULL
};


const ngx_gp_surface_t  ngx_gp_surface_images_edits = {
    "/v1/images/edits",
    ngx_gp_images_edits_body,
    ngx_null_string,
    ngx_gp_images_parse_edits,
    ngx_gp_images_model,
    ngx_gp_images_begin,
    ngx_gp_images_delta,
    ngx_gp_images_media,
    ngx_gp_images_finish,
    ngx_gp_images_error,
    ngx_gp_images_stop,
    NULL
};


static void
ngx_gp_images_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_images);
}


static void
ngx_gp_images_edits_body(ngx_http_request_t *r)
{
    ngx_gp_chat_body(r, &ngx_gp_surface_images_edits);
}


/* the image request as a chat request of an image model; frees ir */

static ngx_int_t
ngx_gp_images_turn(ngx_gp_reply_t *o, ngx_gp_images_req_t *ir,
    ngx_gp_oai_error_t *err)
{
    char           *s;
    size_t          len;
    ngx_uint_t      k;
    ngx_gp_zone_t  *z;
    const char     *model;
    u_char          name[NGX_GP_MODEL_LEN];

    z = ngx_gp_zone();
    model = ir->model;

    if (model == NULL || ngx_strncmp(model, "dall-e", 6) == 0
        || ngx_strncmp(model, "gpt-image", 9) == 0)
    {
        /* OpenAI's names, and none: the first image model */
        ngx_cpystrn(name, (u_char *) "gemini-image", sizeof(name));

        ngx_shmtx_lock(&z->shpool->mutex);

        for (k = 0; k < z->sh->nmodels; k++) {
            if (z->sh->models[k].kind == NGX_GP_MODEL_IMAGE) {
                ngx_cpystrn(name, z->sh->models[k].name, sizeof(name));
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        model = (char *) name;
    }

    o->data = ir->b64;
    o->inline_images = ir->b64 ? 1 : 0;

    s = ngx_gp_images_chat_body(ir, model, &len);
    ngx_gp_images_req_free(ir);

    if (s == NULL) {
        ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                             "server_error", "internal_error", NULL,
                             "out of memory");
        return NGX_ERROR;
    }

    if (ngx_gp_chat_req_parse(s, len, o->req, err) != 0) {
        free(s);
        return NGX_ERROR;
    }

    free(s);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_images_parse_generations(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    ngx_gp_images_req_t  ir;

    if (ngx_gp_images_parse((char *) body->data, body->len, &ir, err) != 0) {
        ngx_gp_images_req_free(&ir);
        return NGX_ERROR;
    }

    return ngx_gp_images_turn(o, &ir, err);
}


static ngx_int_t
ngx_gp_images_parse_edits(ngx_gp_reply_t *o, ngx_str_t *body,
    ngx_gp_oai_error_t *err)
{
    size_t                  i, nin;
    ngx_str_t               src, dst;
    ngx_table_elt_t        *ct;
    ngx_gp_image_ref_t     *img;
    ngx_gp_images_req_t     ir;
    ngx_gp_images_input_t   in[NGX_GP_IMAGES_INPUTS];

    ct = o->r->headers_in.content_type;

    if (ngx_gp_images_edits_parse(ct ? (char *) ct->value.data : NULL,
                                  ct ? ct->value.len : 0,
                                  (char *) body->data, body->len, &ir, in,
                                  &nin, err)
        != 0)
    {
        ngx_gp_images_req_free(&ir);
        return NGX_ERROR;
    }

    /* the images as base64 data parts */

    ir.images = calloc(nin, sizeof(ngx_gp_image_ref_t));
    if (ir.images == NULL) {
        goto nomem;
    }

    for (i = 0; i < nin; i++) {
        img = &ir.images[ir.nimages++];
        img->kind = NGX_GP_IMAGE_DATA;
        img->mime = strdup(in[i].mime);
        img->data = malloc(ngx_base64_encoded_length(in[i].len) + 1);

        if (img->mime == NULL || img->data == NULL) {
            goto nomem;
        }

        src.data = (u_char *) in[i].data;
        src.len = in[i].len;
        dst.data = (u_char *) img->data;

        ngx_encode_base64(&dst, &src);

        img->data[dst.len] = '\0';
        img->data_len = dst.len;
    }

    return ngx_gp_images_turn(o, &ir, err);

nomem:

    ngx_gp_images_req_free(&ir);

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "server_error", "internal_error", NULL,
                         "out of memory");
    return NGX_ERROR;
}


static ngx_int_t
ngx_gp_images_model(ngx_gp_reply_t *o, ngx_gp_model_t *m, ngx_str_t *name,
    ngx_gp_oai_error_t *err)
{
    if (m->kind == NGX_GP_MODEL_IMAGE) {
        return NGX_OK;
    }

    ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                         "invalid_value", "model", "The model `%.*s` does "
                         "not generate images", (int) ngx_min(name->len, 100),
                         name->data);

    return NGX_DECLINED;
}


/* the images API answers in one piece: nothing streams */

static ngx_int_t
ngx_gp_images_begin(ngx_gp_reply_t *o)
{
    return NGX_ERROR;
}


static ngx_int_t
ngx_gp_images_delta(ngx_gp_reply_t *o, const char *p, size_t len,
    ngx_uint_t thought)
{
    return NGX_OK;
}


static ngx_int_t
ngx_gp_images_media(ngx_gp_reply_t *o, ngx_gp_media_t *m)
{
    return NGX_OK;
}


static ngx_int_t
ngx_gp_images_stop(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    o->error_sent = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_gp_images_error(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err)
{
    return ngx_gp_send_error(o->r, err);
}


/* {"created":T,"data":[{"url"} | {"b64_json"}]}, malloc'ed */

static char *
ngx_gp_images_response(ngx_gp_reply_t *o, ngx_gp_media_t *m, size_t *len)
{
    char                 *data, *comma;
    json_t               *root, *list, *item;
    ngx_uint_t            i, n;
    ngx_gp_media_info_t   info;
    u_char                buf[1024];

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    n = ngx_gp_media_count(m);

    for (i = 0; i < n; i++) {
        ngx_gp_media_info(m, i, &info);

        if (!info.ok) {
            continue;
        }

        if (o->data && (data = ngx_gp_media_data_url(m, i)) != NULL) {
            comma = ngx_strchr(data, ',');
            item = json_pack("{s:s}", "b64_json", comma ? comma + 1 : data);
            free(data);

        } else {
            (void) ngx_gp_media_link(m, i, buf, sizeof(buf));
            item = json_pack("{s:s}", "url", (char *) buf);
        }

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    root = json_pack("{s:I, s:o}", "created", (json_int_t) o->created,
                     "data", list);
    if (root == NULL) {
        return NULL;
    }

    return ngx_gp_json_dump(root, len);
}


/* the images, or an error naming why none */

static ngx_int_t
ngx_gp_images_finish(ngx_gp_reply_t *o, ngx_gp_answer_t *a)
{
    char                *p;
    size_t               len;
    ngx_int_t            rc;
    ngx_gp_oai_error_t   err;

    if (ngx_gp_media_ok(a->media) == 0) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_GATEWAY, "upstream_error",
                             "no_image", NULL, "The upstream produced no "
                             "image%s%.*s",
                             a->text_len ? ": " : "",
                             (int) ngx_min(a->text_len, 300),
                             a->text ? (char *) a->text : "");
        return ngx_gp_send_error(o->r, &err);
    }

    p = ngx_gp_images_response(o, a->media, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(o->r, NGX_HTTP_OK, (u_char *) p, len);
    free(p);

    return rc;
}
