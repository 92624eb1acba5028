
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI images API's requests, as pure functions beside the chat
 * parser: POST /v1/images/generations (a JSON body) and /v1/images/edits
 * (multipart/form-data fields) into one image request, and the chat
 * completion body that runs it as a turn of an image model.
 *
 * Pure C over jansson: no nginx.  Strings in a request are malloc'ed;
 * release it with ngx_gp_images_req_free().
 */


#ifndef _NGX_HTTP_GEMINI_POOL_IMAGES_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_IMAGES_H_INCLUDED_


#include <stddef.h>

#include "ngx_http_gemini_pool_openai.h"
#include "ngx_http_gemini_pool_input.h"


/* input images of an edit, and the multipart parts looked at */
#define NGX_GP_IMAGES_INPUTS   16
#define NGX_GP_IMAGES_PARTS    (NGX_GP_IMAGES_INPUTS + 16)
#define NGX_GP_IMAGES_MIME_LEN 64

/*
 * An image generation: the prompt, the count, the size hint, the
 * answer's shape, and input images for edits (base64 data parts).
 */
typedef struct {
    char                    *model;        /* NULL: the first image model */
    char                    *prompt;
    size_t                   prompt_len;
    unsigned                 n;            /* 1..10 */
    char                    *size;         /* "1024x1024", NULL: auto */
    int                      b64;          /* response_format b64_json */
    ngx_gp_image_ref_t      *images;       /* for edits */
    size_t                   nimages;
} ngx_gp_images_req_t;

/* an edit's input image: a part of the body, not yet encoded */
typedef struct {
    const char              *data;         /* into the body */
    size_t                   len;
    char                     mime[NGX_GP_IMAGES_MIME_LEN];
} ngx_gp_images_input_t;

/*
 * POST /v1/images/generations: "prompt" (required), "n", "size",
 * "response_format", "model".  Returns 0, or -1 with err filled (400,
 * or 500 when memory ran out); free ir in both cases.
 */
int ngx_gp_images_parse(const char *body, size_t len,
    ngx_gp_images_req_t *ir, ngx_gp_oai_error_t *err);

/*
 * POST /v1/images/edits: ctype is the request's Content-Type (NULL when
 * absent); "image" (or "image[]" several times) and "prompt", with the
 * fields of generations; "mask" is refused.  The images are returned in
 * in (NGX_GP_IMAGES_INPUTS of them), *nin set: the caller encodes them
 * into ir->images.  Returns 0, or -1 with err filled; free ir in both
 * cases.
 */
int ngx_gp_images_edits_parse(const char *ctype, size_t ctype_len,
    const char *body, size_t len, ngx_gp_images_req_t *ir,
    ngx_gp_images_input_t *in, size_t *nin, ngx_gp_oai_error_t *err);

/*
 * The chat completion body of the request's turn on model: the prompt
 * with the count and the size as hints (the upstream has no such
 * fields), the input images as image parts.  malloc'ed, NULL: out of
 * memory.
 */
char *ngx_gp_images_chat_body(const ngx_gp_images_req_t *ir,
    const char *model, size_t *len);

void ngx_gp_images_req_free(ngx_gp_images_req_t *ir);


#endif /* _NGX_HTTP_GEMINI_POOL_IMAGES_H_INCLUDED_ */
