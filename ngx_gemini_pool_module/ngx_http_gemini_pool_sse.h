
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The writer of streamed answers (ngx_http_gemini_pool_sse.c).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_SSE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_SSE_H_INCLUDED_


/*
 * One response's stream of events: recycled output buffers (free/busy
 * chains), the events queued for the next write, and the posted event
 * that writes the events of one moment together.  Its owner sets
 * flush.handler (which calls ngx_gp_sse_flush() and may then let its
 * upstream go on) before the first event.
 */
typedef struct {
    ngx_http_request_t      *r;
    ngx_chain_t             *free;
    ngx_chain_t             *busy;

    /* events made in one go (one upstream read, the end) leave in one
       write: they wait here until the posted flush event runs */
    ngx_chain_t             *pending;
    ngx_chain_t            **pending_ll;
    size_t                   pending_size;
    ngx_event_t              flush;
    ngx_msec_t               last_output;
    /* NULL: the SSE comment ": keep-alive"; else what a silence sends */
    ngx_str_t               *keepalive;

    unsigned                 defer:1;
    unsigned                 header_sent:1;
} ngx_gp_sse_t;


void ngx_gp_sse_init(ngx_gp_sse_t *sse, ngx_http_request_t *r);
/* 200 with content_type, no length, no caching, no proxy buffering */
ngx_int_t ngx_gp_sse_header(ngx_gp_sse_t *sse, const char *content_type,
    size_t len);
/* bytes framed by the caller, copied into the queue; NGX_AGAIN: busy */
ngx_int_t ngx_gp_sse_send(ngx_gp_sse_t *sse, const u_char *p, size_t len,
    ngx_uint_t last);
/* bytes (JSON-escaped when escape) for the next send or event: NGX_OK */
ngx_int_t ngx_gp_sse_append(ngx_gp_sse_t *sse, const u_char *p, size_t len,
    ngx_uint_t escape);
/* one event, "event: <event>\n" (event not NULL) and "data: <p>\n\n" */
ngx_int_t ngx_gp_sse_event(ngx_gp_sse_t *sse, const char *event,
    const u_char *p, size_t len, ngx_uint_t last);
/* a buffer with at least room bytes free at its end, queued */
ngx_buf_t *ngx_gp_sse_room(ngx_gp_sse_t *sse, size_t room);
/* len bytes written at b->last of the buffer of ngx_gp_sse_room() */
ngx_int_t ngx_gp_sse_commit(ngx_gp_sse_t *sse, ngx_buf_t *b, size_t len);
/* the queued events go now */
ngx_int_t ngx_gp_sse_flush(ngx_gp_sse_t *sse);
/* the client can take more: NGX_OK all sent, NGX_AGAIN, NGX_ERROR */
ngx_int_t ngx_gp_sse_writer(ngx_gp_sse_t *sse);
/* a comment line that keeps the connection alive */
ngx_int_t ngx_gp_sse_keepalive(ngx_gp_sse_t *sse);


#endif /* _NGX_HTTP_GEMINI_POOL_SSE_H_INCLUDED_ */
