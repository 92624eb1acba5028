
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A client's multipart/form-data body (POST /v1/files, files.c, and
 * POST /v1/images/edits, images.c): the input is the request's
 * Content-Type, a newline, and the body.  Properties:
 *
 * - every part's name, filename, type and data lie inside the body (or
 *   the type inside the Content-Type), and the parts do not overlap and
 *   come in order;
 * - the edits reader's input images lie inside the body too, and its
 *   answer is a request or an error with a status; a request it takes
 *   makes a chat body (its text fields are UTF-8: a prompt of other bytes
 *   was once a 500 when the body was made);
 * - the media type readers (by content, of a Content-Type) stay in their
 *   buffers; a bare type read is NUL-terminated (0 means none: the
 *   callers then say application/octet-stream).
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_openai.h"
#include "ngx_http_gemini_pool_images.h"
#include "ngx_http_gemini_pool_input.h"


#define PARTS_MAX  32


#define INSIDE(p, n, base, len)                                               \
    ((p) == NULL                                                              \
     || ((const char *) (p) >= (base)                                         \
         && (size_t) ((const char *) (p) - (base)) <= (len)                   \
         && (n) <= (len) - (size_t) ((const char *) (p) - (base))))


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                   bare[64], *s;
    size_t                 clen, blen, n, nin, i, k;
    const char            *ctype, *body, *nl, *err, *last;
    ngx_gp_mpart_t         parts[PARTS_MAX];
    ngx_gp_oai_error_t     e;
    ngx_gp_images_req_t    ir;
    ngx_gp_images_input_t  in[NGX_GP_IMAGES_INPUTS];

    ctype = (const char *) data;
    nl = memchr(data, '\n', size);

    if (nl == NULL) {
        return 0;
    }

    clen = (size_t) (nl - ctype);
    body = nl + 1;
    blen = size - clen - 1;

    n = 0;
    err = NULL;

    if (ngx_gp_multipart_parse(ctype, clen, body, blen, parts, PARTS_MAX,
                               &n, &err)
        == 0)
    {
        FUZZ_CHECK(n <= PARTS_MAX);
        last = body;

        for (i = 0; i < n; i++) {
            FUZZ_CHECK(INSIDE(parts[i].name, parts[i].name_len, body, blen));
            FUZZ_CHECK(INSIDE(parts[i].filename, parts[i].filename_len,
                              body, blen));
            FUZZ_CHECK(INSIDE(parts[i].type, parts[i].type_len, body, blen));
            FUZZ_CHECK(INSIDE(parts[i].data, parts[i].len, body, blen));
            FUZZ_CHECK(parts[i].data != NULL && parts[i].data >= last);
            last = parts[i].data + parts[i].len;

            (void) ngx_gp_mime_sniff((const unsigned char *) parts[i].data,
                                     parts[i].len);

            if (parts[i].type) {
                k = ngx_gp_mime_bare(parts[i].type, parts[i].type_len, bare,
                                     sizeof(bare));
                FUZZ_CHECK(k < sizeof(bare) && (k == 0 || bare[k] == '\0'));
            }
        }

        (void) ngx_gp_multipart_get(parts, n, "file");

    } else {
        FUZZ_CHECK(err != NULL);
    }

    k = ngx_gp_mime_bare(ctype, clen, bare, sizeof(bare));
    FUZZ_CHECK(k < sizeof(bare) && (k == 0 || bare[k] == '\0'));

    memset(&ir, 0, sizeof(ngx_gp_images_req_t));
    nin = 0;

    if (ngx_gp_images_edits_parse(ctype, clen, body, blen, &ir, in, &nin, &e)
        == 0)
    {
        FUZZ_CHECK(ir.prompt != NULL && nin <= NGX_GP_IMAGES_INPUTS);

        for (i = 0; i < nin; i++) {
            FUZZ_CHECK(INSIDE(in[i].data, in[i].len, body, blen));
            FUZZ_CHECK(memchr(in[i].mime, '\0', sizeof(in[i].mime)) != NULL);
        }

        /* what the reader takes makes a chat body (else: a 500) */
        s = ngx_gp_images_chat_body(&ir, "gemini-image", &k);
        FUZZ_CHECK(s != NULL && strlen(s) == k);
        free(s);

    } else {
        FUZZ_CHECK(e.status >= 400 && e.type != NULL);
    }

    ngx_gp_images_req_free(&ir);

    return 0;
}
