
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The writer of streamed answers: server-sent events through the output
 * filter chain in recycled buffers, flush set on each write, the events
 * of one moment written together, keep-alive comments.  The surfaces
 * frame their events; this file only carries them.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_BUF_SIZE        4096


static ngx_int_t ngx_gp_sse_copy(ngx_gp_sse_t *sse, const u_char *p,
    size_t len);
static ngx_buf_t *ngx_gp_sse_tail(ngx_gp_sse_t *sse);
static ngx_buf_t *ngx_gp_sse_buf(ngx_gp_sse_t *sse);
static ngx_int_t ngx_gp_sse_queued(ngx_gp_sse_t *sse, ngx_uint_t last);
static ngx_int_t ngx_gp_sse_output(ngx_gp_sse_t *sse, ngx_chain_t *out,
    ngx_uint_t last);


void
ngx_gp_sse_init(ngx_gp_sse_t *sse, ngx_http_request_t *r)
{
    sse->r = r;
    sse->pending_ll = &sse->pending;
    sse->flush.data = r->connection;
    sse->flush.log = r->connection->log;
}


ngx_int_t
ngx_gp_sse_header(ngx_gp_sse_t *sse, const char *content_type, size_t len)
{
    ngx_int_t            rc;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = sse->r;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type.data = (u_char *) content_type;
    r->headers_out.content_type.len = len;
    r->headers_out.content_type_len = len;
    r->headers_out.content_length_n = -1;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-cache");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Accel-Buffering");
    ngx_str_set(&h->value, "no");

    sse->header_sent = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Copies one event, framed by the caller, into recycled buffers and
 * queues it; NGX_AGAIN when the client has not taken it all.
 */

ngx_int_t
ngx_gp_sse_send(ngx_gp_sse_t *sse, const u_char *p, size_t len,
    ngx_uint_t last)
{
    if (ngx_gp_sse_copy(sse, p, len) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_gp_sse_queued(sse, last);
}


/*
 * Bytes added to the event being framed, JSON-escaped when escape is set
 * (the inside of a JSON string: text of any length without a copy); the
 * next ngx_gp_sse_send() or ngx_gp_sse_event() queues them with its own.
 */

ngx_int_t
ngx_gp_sse_append(ngx_gp_sse_t *sse, const u_char *p, size_t len,
    ngx_uint_t escape)
{
    size_t      n;
    u_char     *last;
    ngx_buf_t  *b;

    if (!escape) {
        return ngx_gp_sse_copy(sse, p, len);
    }

    while (len) {
        /* escaping makes at most 6 bytes of one */
        n = ngx_min(len, NGX_GP_BUF_SIZE / 8);

        b = ngx_gp_sse_room(sse, 6 * n);
        if (b == NULL) {
            return NGX_ERROR;
        }

        last = (u_char *) ngx_escape_json(b->last, (u_char *) p, n);
        sse->pending_size += last - b->last;
        b->last = last;

        p += n;
        len -= n;
    }

    return NGX_OK;
}


/* one event: "event: <event>\n" (when event is not NULL), "data: <p>\n\n" */

ngx_int_t
ngx_gp_sse_event(ngx_gp_sse_t *sse, const char *event, const u_char *p,
    size_t len, ngx_uint_t last)
{
    if (event
        && (ngx_gp_sse_copy(sse, (u_char *) "event: ", 7) != NGX_OK
            || ngx_gp_sse_copy(sse, (u_char *) event, ngx_strlen(event))
               != NGX_OK
            || ngx_gp_sse_copy(sse, (u_char *) "\n", 1) != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (ngx_gp_sse_copy(sse, (u_char *) "data: ", 6) != NGX_OK
        || ngx_gp_sse_copy(sse, p, len) != NGX_OK
        || ngx_gp_sse_copy(sse, (u_char *) "\n\n", 2) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_sse_queued(sse, last);
}


/* bytes at the end of the queue, in as few buffers as they fit */

static ngx_int_t
ngx_gp_sse_copy(ngx_gp_sse_t *sse, const u_char *p, size_t len)
{
    size_t      n;
    ngx_buf_t  *b;

    if (sse->pending) {
        /* the last queued buffer first: fewer buffers, one iovec */
        b = ngx_gp_sse_tail(sse);

        n = ngx_min(len, (size_t) (b->end - b->last));
        b->last = ngx_cpymem(b->last, p, n);
        p += n;
        len -= n;
        sse->pending_size += n;
    }

    /* (an empty event still queues a buffer to carry the flags) */

    while (len || sse->pending == NULL) {
        b = ngx_gp_sse_buf(sse);
        if (b == NULL) {
            return NGX_ERROR;
        }

        n = ngx_min(len, (size_t) (b->end - b->start));
        b->last = ngx_cpymem(b->last, p, n);
        p += n;
        len -= n;
        sse->pending_size += n;
    }

    return NGX_OK;
}


/*
 * The last queued buffer when it has room bytes free, or a new one: the
 * caller renders an event straight into it.
 */

ngx_buf_t *
ngx_gp_sse_room(ngx_gp_sse_t *sse, size_t room)
{
    ngx_buf_t  *b;

    b = sse->pending ? ngx_gp_sse_tail(sse) : NULL;

    if (b == NULL || (size_t) (b->end - b->last) < room) {
        b = ngx_gp_sse_buf(sse);
    }

    return b;
}


ngx_int_t
ngx_gp_sse_commit(ngx_gp_sse_t *sse, ngx_buf_t *b, size_t len)
{
    b->last += len;
    sse->pending_size += len;

    return ngx_gp_sse_queued(sse, 0);
}


ngx_int_t
ngx_gp_sse_keepalive(ngx_gp_sse_t *sse)
{
    static u_char  comment[] = ": keep-alive\n\n";

    if (sse->keepalive) {
        /* a stream that is not SSE: its own filler */
        return ngx_gp_sse_send(sse, sse->keepalive->data,
                               sse->keepalive->len, 0);
    }

    return ngx_gp_sse_send(sse, comment, sizeof(comment) - 1, 0);
}


/* the last queued buffer */

static ngx_buf_t *
ngx_gp_sse_tail(ngx_gp_sse_t *sse)
{
    ngx_chain_t  *cl;

    cl = (ngx_chain_t *) ((u_char *) sse->pending_ll
                          - offsetof(ngx_chain_t, next));

    return cl->buf;
}


/* a recycled (or new) empty buffer, queued */

static ngx_buf_t *
ngx_gp_sse_buf(ngx_gp_sse_t *sse)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(sse->r->pool, &sse->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;

    if (b->start == NULL) {
        b->start = ngx_palloc(sse->r->pool, NGX_GP_BUF_SIZE);
        if (b->start == NULL) {
            return NULL;
        }

        b->end = b->start + NGX_GP_BUF_SIZE;
        b->tag = (ngx_buf_tag_t) &ngx_http_gemini_pool_module;
        b->temporary = 1;
    }

    b->pos = b->start;
    b->last = b->start;
    b->flush = 0;
    b->last_buf = 0;
    b->last_in_chain = 0;

    cl->next = NULL;
    *sse->pending_ll = cl;
    sse->pending_ll = &cl->next;

    return b;
}


/* the queued events go now, or with the others of this moment */

static ngx_int_t
ngx_gp_sse_queued(ngx_gp_sse_t *sse, ngx_uint_t last)
{
    ngx_chain_t  *out;

    if (sse->defer && !last) {
        /* more events of the same moment may follow: one write for all */
        if (!sse->flush.posted) {
            ngx_post_event(&sse->flush, &ngx_posted_events);
        }

        return NGX_OK;
    }

    if (sse->flush.posted) {
        ngx_delete_posted_event(&sse->flush);
    }

    out = sse->pending;
    sse->pending = NULL;
    sse->pending_ll = &sse->pending;
    sse->pending_size = 0;

    return ngx_gp_sse_output(sse, out, last);
}


/* the events of one upstream read leave together */

ngx_int_t
ngx_gp_sse_flush(ngx_gp_sse_t *sse)
{
    ngx_chain_t  *out;

    out = sse->pending;
    sse->pending = NULL;
    sse->pending_ll = &sse->pending;
    sse->pending_size = 0;

    return ngx_gp_sse_output(sse, out, 0);
}


/*
 * Passes the events down the filter chain with flush set on the last
 * buffer; NGX_AGAIN when the client has not taken it all.
 */

static ngx_int_t
ngx_gp_sse_output(ngx_gp_sse_t *sse, ngx_chain_t *out, ngx_uint_t last)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_core_loc_conf_t  *clcf;

    r = sse->r;
    c = r->connection;

    if (out == NULL) {
        return NGX_OK;
    }

    for (cl = out; cl->next; cl = cl->next) { /* void */ }

    b = cl->buf;
    b->flush = 1;

    if (last) {
        b->last_buf = (r == r->main) ? 1 : 0;
        b->last_in_chain = 1;
    }

    rc = ngx_http_output_filter(r, out);

    ngx_chain_update_chains(r->pool, &sse->free, &sse->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_gemini_pool_module);

    sse->last_output = ngx_current_msec;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (sse->busy && !last) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (ngx_handle_write_event(c->write, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }

        if (c->write->active && !c->write->ready && !c->write->timer_set) {
            ngx_add_timer(c->write, clcf->send_timeout);
        }
    }

    return rc;
}


/* the client can take more: what the filters hold goes on */

ngx_int_t
ngx_gp_sse_writer(ngx_gp_sse_t *sse)
{
    ngx_int_t                  rc;
    ngx_chain_t               *out;
    ngx_event_t               *wev;
    ngx_http_request_t        *r;
    ngx_http_core_loc_conf_t  *clcf;

    r = sse->r;
    wev = r->connection->write;

    rc = ngx_http_output_filter(r, NULL);

    out = NULL;
    ngx_chain_update_chains(r->pool, &sse->free, &sse->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_gemini_pool_module);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (sse->busy) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }

        if (!wev->timer_set) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        return NGX_AGAIN;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    return NGX_OK;
}
