
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The properties every chat request reader shares (fuzz_anthropic,
 * fuzz_genai): what a read request holds, and what a refusal holds.
 */


#ifndef _FUZZ_CHAT_H_INCLUDED_
#define _FUZZ_CHAT_H_INCLUDED_


#include "fuzz.h"

#include "ngx_http_gemini_pool_openai.h"


/* what every read request holds, whichever surface read it */

static inline void
fuzz_request_ok(ngx_gp_chat_req_t *req)
{
    char                *p;
    size_t               i, j, k, len, turns;
    ngx_gp_message_t    *m;
    ngx_gp_image_ref_t  *img;

    FUZZ_CHECK(req->nmessages > 0 && req->messages != NULL);
    FUZZ_CHECK(req->model == NULL || req->model[0] != '\0');

    turns = 0;

    for (i = 0; i < req->nmessages; i++) {
        m = &req->messages[i];

        FUZZ_CHECK(m->role >= NGX_GP_ROLE_SYSTEM
                   && m->role <= NGX_GP_ROLE_TOOL);
        FUZZ_CHECK(m->text != NULL && m->text[m->len] == '\0');
        FUZZ_CHECK(m->role == NGX_GP_ROLE_SYSTEM ? i == 0 : 1);
        FUZZ_CHECK(m->ncalls == 0 || m->role == NGX_GP_ROLE_ASSISTANT);

        if (m->role == NGX_GP_ROLE_USER || m->role == NGX_GP_ROLE_TOOL) {
            turns++;
        }

        for (j = 0; j < m->nimages; j++) {
            img = &m->images[j];

            if (img->kind == NGX_GP_IMAGE_URL) {
                FUZZ_CHECK(img->url != NULL);
                continue;
            }

            FUZZ_CHECK(img->kind == NGX_GP_IMAGE_DATA);
            FUZZ_CHECK(img->mime != NULL
                       && strncmp(img->mime, "image/", 6) == 0);
            FUZZ_CHECK(img->data != NULL && img->data_len > 0
                       && img->data[img->data_len] == '\0');

            /* the standard base64 alphabet only */
            for (k = 0; k < img->data_len; k++) {
                FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "abcdefghijklmnopqrstuvwxyz0123456789+/=",
                                  img->data[k]) != NULL);
            }
        }

        for (j = 0; j < m->ncalls; j++) {
            FUZZ_CHECK(m->calls[j].id != NULL && m->calls[j].name != NULL
                       && m->calls[j].arguments != NULL);
            FUZZ_CHECK(ngx_gp_tool_name_ok(m->calls[j].name,
                                           strlen(m->calls[j].name)));
        }
    }

    /* a user turn was there: its text, or the tool results it held */
    FUZZ_CHECK(turns > 0);

    for (i = 0; i < req->ntools; i++) {
        FUZZ_CHECK(ngx_gp_tool_name_ok(req->tools[i].name,
                                       strlen(req->tools[i].name)));
    }

    FUZZ_CHECK(req->tool_choice != NGX_GP_TOOL_FUNCTION
               || req->tool_name != NULL);

    p = ngx_gp_chat_prompt(req, 1, &len);
    if (p) {
        FUZZ_CHECK(p[len] == '\0');
        free(p);
    }
}


/* a refusal: a 400 or 500 with a message */

static inline void
fuzz_error_ok(ngx_gp_oai_error_t *err)
{
    FUZZ_CHECK(err->status == 400 || err->status == 500);
    FUZZ_CHECK(err->type != NULL);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
    FUZZ_CHECK(err->message[0] != '\0');
}



#endif /* _FUZZ_CHAT_H_INCLUDED_ */
