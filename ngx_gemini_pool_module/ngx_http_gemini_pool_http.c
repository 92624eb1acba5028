
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The bottom layer of the responses: JSON bodies and OpenAI error
 * objects sent in one go, the request body as one string, Retry-After,
 * the lookup of a request header by name, and the hold that keeps a
 * worker alive through a graceful shutdown while a request runs.  Every
 * handler above uses these; this file calls nothing above it.
 */


#include "ngx_http_gemini_pool_module.h"


/* the timer of the hold fires this often to stay in the tree */
#define NGX_GP_HOLD_INTERVAL  3600000


static void ngx_gp_hold_handler(ngx_event_t *ev);


static ngx_event_t       ngx_gp_hold_ev;
static ngx_connection_t  ngx_gp_hold_dummy;
static ngx_uint_t        ngx_gp_holds;


/* the first request header of this name (case-insensitive), or NULL */

ngx_table_elt_t *
ngx_gp_header_in(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


void
ngx_gp_retry_after(ngx_http_request_t *r, time_t delay)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        h->hash = 0;
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%T", delay) - h->value.data;
}


ngx_int_t
ngx_gp_send_json(ngx_http_request_t *r, ngx_uint_t status, u_char *p,
    size_t len)
{
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, p, len);

    return ngx_gp_send_json_buf(r, status, b);
}


/* the same with the body already in a buffer of the request's pool */

ngx_int_t
ngx_gp_send_json_buf(ngx_http_request_t *r, ngx_uint_t status, ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_gp_send_error(ngx_http_request_t *r, ngx_gp_oai_error_t *err)
{
    char       *p;
    size_t      len;
    ngx_int_t   rc;

    p = ngx_gp_render_error(err, &len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_send_json(r, err->status, (u_char *) p, len);
    free(p);

    return rc;
}


/* the request body as one contiguous string (NUL-terminated) */

ngx_int_t
ngx_gp_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    p = ngx_pnalloc(r->pool, size + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* a body over client_body_buffer_size, just written */
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        if (b->last > b->pos) {
            /* a buffer without memory (an empty last one) has no pos */
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


/*
 * A worker told to quit (nginx -s reload, -s quit) exits as soon as only
 * cancelable timers are left (ngx_event_no_timers_left()); the upstream
 * calls of a request run on libcurl's timer, which is cancelable so that
 * idle pooled connections do not keep a worker, and a request between
 * two calls may have no timer at all.  Every request of the module holds
 * the worker from its start to its pool's cleanup: one timer per process,
 * non-cancelable while a request runs, cancelable when none does.  A
 * count and a flag per request: no allocation, no system call.
 */

void
ngx_gp_hold_worker(void)
{
    if (ngx_gp_holds++) {
        return;
    }

    /* the running cycle's log: a single process reloads its cycle */
    ngx_gp_hold_ev.log = ngx_cycle->log;
    ngx_gp_hold_ev.cancelable = 0;

    if (!ngx_gp_hold_ev.timer_set) {
        ngx_gp_hold_dummy.fd = (ngx_socket_t) -1;
        ngx_gp_hold_ev.handler = ngx_gp_hold_handler;
        ngx_gp_hold_ev.data = &ngx_gp_hold_dummy;

        ngx_add_timer(&ngx_gp_hold_ev, NGX_GP_HOLD_INTERVAL);
    }
}


void
ngx_gp_release_worker(void)
{
    if (ngx_gp_holds == 0) {
        return;
    }

    if (--ngx_gp_holds == 0) {
        ngx_gp_hold_ev.cancelable = 1;
    }
}


static void
ngx_gp_hold_handler(ngx_event_t *ev)
{
    if (ngx_gp_holds) {
        ev->log = ngx_cycle->log;
        ngx_add_timer(ev, NGX_GP_HOLD_INTERVAL);
    }
}
