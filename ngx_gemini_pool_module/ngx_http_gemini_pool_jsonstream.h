
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Incremental splitter of the upstream's streamed JSON array.
 *
 * widgetStreamAssist answers with one JSON array whose elements arrive in
 * arbitrary chunks: a chunk may end anywhere, inside a string, inside an
 * escape sequence or inside a multi-byte UTF-8 character.  The splitter
 * tracks only string/escape state and brace/bracket depth; it hands every
 * complete top-level element to a callback as one contiguous byte range.
 *
 * A body that is a single top-level object (an error answer such as
 * {"error":{...}}) is delivered as one element too.
 *
 * Pure C: no nginx, no jansson.  Memory: one growing buffer that holds at
 * most the element under construction (never the whole body).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_JSONSTREAM_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_JSONSTREAM_H_INCLUDED_


#include <stddef.h>


#define NGX_GP_JS_OK         0
#define NGX_GP_JS_ERROR     -1    /* syntax error or element over max */
#define NGX_GP_JS_STOPPED   -2    /* the callback asked to stop */


/* return 0 to continue, non-zero to stop feeding */
typedef int (*ngx_gp_js_element_pt)(void *data, const char *p, size_t len);


typedef struct {
    int            state;      /* private */
    int            depth;      /* private */
    unsigned       in_string:1;
    unsigned       escape:1;
    char          *buf;        /* malloc'ed; element under construction */
    size_t         len;
    size_t         cap;
    size_t         max;        /* largest element accepted; 0: 64 MiB */
    size_t         elements;   /* elements delivered so far */
    const char    *error;      /* static text after NGX_GP_JS_ERROR */
} ngx_gp_jsonstream_t;


void ngx_gp_jsonstream_init(ngx_gp_jsonstream_t *js, size_t max);

/*
 * Feed bytes; calls cb for every complete element.  Returns NGX_GP_JS_OK,
 * NGX_GP_JS_ERROR (js->error says why) or NGX_GP_JS_STOPPED.
 */
int ngx_gp_jsonstream_feed(ngx_gp_jsonstream_t *js, const char *p,
    size_t len, ngx_gp_js_element_pt cb, void *data);

/*
 * 1 when the body ended cleanly: the closing ']' of the array was seen (or
 * the single top-level object was complete); 0 when the stream was
 * truncated.
 */
int ngx_gp_jsonstream_complete(ngx_gp_jsonstream_t *js);

/* releases the buffer; the struct may be initialised again */
void ngx_gp_jsonstream_free(ngx_gp_jsonstream_t *js);


#endif /* _NGX_HTTP_GEMINI_POOL_JSONSTREAM_H_INCLUDED_ */
