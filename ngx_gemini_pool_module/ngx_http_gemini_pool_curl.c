
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * libcurl's multi-socket API driven by nginx's event loop: one multi
 * handle per process, or eight ("shards") when upstream calls go over
 * HTTP/1.1.  With HTTP/1.1 every call in flight holds a connection of
 * its own, and libcurl 7.88 walks its connection list twice per call
 * (looking for an idle one to reuse, and again when the call is
 * removed): at 256 calls in flight those walks cost 4-5 % of a worker.
 * A transfer goes to the shard with the fewest transfers, so a quiet
 * process keeps using one connection pool and each shard's list stays
 * an eighth as long.  Over HTTP/2 one multi handle is kept: all calls to
 * a host share one connection there.
 *
 * - Sockets are ours: curl opens and closes them through our callbacks,
 *   so the nginx connection that wraps a socket goes away exactly when
 *   the descriptor is closed.  Descriptors curl makes by itself (the
 *   threaded resolver's socket pair) are watched through a dup() that we
 *   own, so a late or missing removal cannot touch a reused descriptor.
 * - Events are level-triggered (curl expects that).  A pooled
 *   connection's read event stays registered between transfers (the next
 *   transfer on it wants it again): curl's removal only marks the socket
 *   idle, and the first event on an idle socket removes the event then
 *   (so a paused transfer or a connection closed by its peer while in the
 *   pool costs at most one wake-up, never a spin).
 * - Easy handles are reset and kept on a free list for the next transfer,
 *   as many as there were transfers in flight lately.
 * - One timer; curl is never called from inside its own callbacks, and
 *   completion handlers run after curl_multi_socket_action() returns.
 * - After a peak the process gives its memory back (ngx_gp_curl_trim()).
 */


#include "ngx_http_gemini_pool_module.h"

#if (NGX_LINUX) && defined(__GLIBC__)
#include <malloc.h>
#define NGX_GP_MALLOC_TRIM  1
#endif


typedef struct {
    CURLM                   *multi;
    ngx_event_t              timer;
    ngx_uint_t               active;   /* transfers in this multi handle */
} ngx_gp_shard_t;


#define NGX_GP_CURL_SHARDS  8


typedef struct {
    ngx_connection_t        *c;
    ngx_gp_shard_t          *shard;    /* whose connection it is */
    curl_socket_t            s;        /* curl's descriptor */
    unsigned                 foreign:1;
    unsigned                 idle:1;   /* curl does not watch it now */
    unsigned                 counted:1;  /* in ngx_gp_curl.nconns */
} ngx_gp_sock_t;


/* reset easy handles kept: about 25 KiB each (libcurl's buffers) */
#define NGX_GP_XFER_FREE_MIN  64
#define NGX_GP_XFER_FREE_MAX  512

/*
 * Memory after a peak: a peak of NGX_GP_TRIM_FROM transfers or more arms
 * a timer; every NGX_GP_TRIM_EVERY ms it looks whether the load is gone
 * (a quarter of the peak or less in flight), and then gives back what the
 * peak left: handles of the free list beyond NGX_GP_XFER_FREE_MIN, the
 * idle connections of shards with nothing in flight when there are more
 * than NGX_GP_TRIM_CONNS of them, and glibc's free memory (malloc_trim);
 * again while NGX_GP_TRIM_TAIL or more of the peak's transfers run on.
 */
#define NGX_GP_TRIM_FROM      64
#define NGX_GP_TRIM_EVERY     2000
#define NGX_GP_TRIM_CONNS     16
#define NGX_GP_TRIM_TAIL      8


typedef struct {
    ngx_gp_shard_t           shard[NGX_GP_CURL_SHARDS];
    ngx_uint_t               nshards;  /* 0: not initialised */
    ngx_log_t               *log;
    ngx_connection_t         dummy;    /* the timers' data, for debug logs */
    ngx_gp_sock_t          **socks;    /* indexed by curl's descriptor; the
                                          entries never move, the index
                                          grows */
    ngx_uint_t               nsocks;
    ngx_uint_t               active;   /* transfers in the multi handles */
    ngx_uint_t               running;  /* inside socket_action */
    ngx_gp_xfer_t           *free;     /* transfers with a reset easy
                                          handle, for reuse */
    ngx_uint_t               nfree;
    ngx_uint_t               peak;     /* most transfers in flight lately */
    ngx_msec_t               peak_time;
    ngx_uint_t               high;     /* most in flight since a trim */
    ngx_uint_t               nconns;   /* upstream sockets open */
    ngx_event_t              trim;     /* ngx_gp_curl_trim() */
    ngx_uint_t               total;    /* a shard's connection limits */
    ngx_uint_t               host;
    ngx_flag_t               http2;
} ngx_gp_curl_t;


static ngx_gp_curl_t  ngx_gp_curl;


static void ngx_gp_curl_process(void);
static void ngx_gp_curl_process_shard(ngx_gp_shard_t *shard);
static CURLM *ngx_gp_curl_multi(ngx_gp_shard_t *shard);
static void ngx_gp_curl_trim(ngx_event_t *ev);


/* the entry of a descriptor; create: allocate one when there is none */

static ngx_gp_sock_t *
ngx_gp_curl_sock(curl_socket_t s, ngx_uint_t create)
{
    ngx_uint_t       n;
    ngx_gp_sock_t  **socks, *gs;

    if (s < 0) {
        return NULL;
    }

    if ((ngx_uint_t) s >= ngx_gp_curl.nsocks) {
        if (!create) {
            return NULL;
        }

        n = ngx_max((ngx_uint_t) s + 1, ngx_gp_curl.nsocks * 2);
        n = ngx_max(n, 64);

        socks = ngx_calloc(n * sizeof(ngx_gp_sock_t *), ngx_gp_curl.log);
        if (socks == NULL) {
            return NULL;
        }

        if (ngx_gp_curl.socks) {
            ngx_memcpy(socks, ngx_gp_curl.socks,
                       ngx_gp_curl.nsocks * sizeof(ngx_gp_sock_t *));
            ngx_free(ngx_gp_curl.socks);
        }

        ngx_gp_curl.socks = socks;
        ngx_gp_curl.nsocks = n;
    }

    gs = ngx_gp_curl.socks[s];

    if (gs == NULL && create) {
        gs = ngx_calloc(sizeof(ngx_gp_sock_t), ngx_gp_curl.log);
        if (gs == NULL) {
            return NULL;
        }

        gs->s = s;
        ngx_gp_curl.socks[s] = gs;
    }

    return gs;
}


static void
ngx_gp_curl_event_handler(ngx_event_t *ev)
{
    int                 mask, running;
    curl_socket_t       s;
    ngx_connection_t   *c;
    ngx_gp_sock_t      *gs;

    c = ev->data;
    gs = c->data;
    s = gs->s;

    if (gs->idle) {
        /*
         * a pooled connection (its peer closed it or sent something) or
         * a paused transfer: stop watching until curl asks again; curl
         * checks a pooled connection before it reuses it
         */

        if (ev->active) {
            ngx_del_event(ev, ev->write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                          0);
        }

        return;
    }

    mask = ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN;

    if (ev->eof || ev->error) {
        mask |= CURL_CSELECT_ERR;
    }

    ngx_gp_curl.running++;
    (void) curl_multi_socket_action(gs->shard->multi, s, mask, &running);
    ngx_gp_curl.running--;

    ngx_gp_curl_process();
}


static ngx_connection_t *
ngx_gp_curl_wrap(curl_socket_t s, ngx_socket_t fd, ngx_uint_t foreign)
{
    ngx_gp_sock_t     *gs;
    ngx_connection_t  *c;

    gs = ngx_gp_curl_sock(s, 1);
    if (gs == NULL) {
        return NULL;
    }

    c = ngx_get_connection(fd, ngx_gp_curl.log);
    if (c == NULL) {
        ngx_gp_curl.socks[s] = NULL;
        ngx_free(gs);
        return NULL;
    }

    gs->c = c;
    gs->s = s;
    gs->foreign = foreign;

    c->data = gs;
    c->log = ngx_gp_curl.log;
    c->read->log = ngx_gp_curl.log;
    c->write->log = ngx_gp_curl.log;
    c->read->handler = ngx_gp_curl_event_handler;
    c->write->handler = ngx_gp_curl_event_handler;

    return c;
}


static void
ngx_gp_curl_unwrap(ngx_gp_sock_t *gs)
{
    ngx_connection_t  *c;

    c = gs->c;

    if (gs->counted) {
        ngx_gp_curl.nconns--;
    }

    if ((ngx_uint_t) gs->s < ngx_gp_curl.nsocks
        && ngx_gp_curl.socks[gs->s] == gs)
    {
        ngx_gp_curl.socks[gs->s] = NULL;
    }

    ngx_free(gs);

    if (c == NULL) {
        return;
    }

    /* ngx_close_connection() removes events, timers and the descriptor */
    ngx_close_connection(c);
}


static curl_socket_t
ngx_gp_curl_open(void *data, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
    ngx_socket_t       s;
    ngx_gp_xfer_t     *x = data;
    ngx_connection_t  *c;

    /* remote input media: only the addresses the fetch guard allows */
    if (x && x->guard && ngx_gp_fetch_guard(x, &addr->addr) != NGX_OK) {
        return CURL_SOCKET_BAD;
    }

    s = ngx_socket(addr->family, addr->socktype, addr->protocol);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ERR, ngx_gp_curl.log, ngx_socket_errno,
                      "gemini pool: socket() failed");
        return CURL_SOCKET_BAD;
    }

    c = ngx_gp_curl_wrap(s, s, 0);

    if (c) {
        ngx_gp_curl.nconns++;
        ((ngx_gp_sock_t *) c->data)->counted = 1;
    }

    if (c == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_gp_curl.log, 0,
                      "gemini pool: no free connection for an upstream "
                      "socket; raise worker_connections");
        ngx_close_socket(s);
        return CURL_SOCKET_BAD;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_gp_curl.log, 0,
                   "gemini pool: upstream socket %d opened", s);

    return s;
}


static int
ngx_gp_curl_close(void *data, curl_socket_t s)
{
    ngx_gp_sock_t  *gs;

    gs = ngx_gp_curl_sock(s, 0);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_gp_curl.log, 0,
                   "gemini pool: upstream socket %d closed", s);

    if (gs && gs->c && !gs->foreign) {
        ngx_gp_curl_unwrap(gs);
        return 0;
    }

    return close(s);
}


static int
ngx_gp_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
    ngx_socket_t       fd;
    ngx_gp_sock_t     *gs;
    ngx_connection_t  *c;

    gs = ngx_gp_curl_sock(s, 0);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_gp_curl.log, 0,
                   "gemini pool: upstream socket %d %s", s,
                   what == CURL_POLL_REMOVE ? "removed"
                   : what == CURL_POLL_IN ? "waits to read"
                   : what == CURL_POLL_OUT ? "waits to write"
                   : "waits to read and write");

    if (what == CURL_POLL_REMOVE) {
        if (gs && gs->c) {
            if (gs->foreign) {
                ngx_gp_curl_unwrap(gs);

            } else {
                /* the read event stays until it fires (see the top) */

                c = gs->c;
                gs->idle = 1;

                if (c->write->active) {
                    ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
                }
            }
        }

        return 0;
    }

    c = gs ? gs->c : NULL;

    if (c == NULL) {
        /* a descriptor curl made itself: watch a duplicate we own */

        fd = dup(s);
        if (fd == -1) {
            ngx_log_error(NGX_LOG_ERR, ngx_gp_curl.log, ngx_errno,
                          "gemini pool: dup() failed");
            return -1;
        }

        c = ngx_gp_curl_wrap(s, fd, 1);
        if (c == NULL) {
            close(fd);
            return -1;
        }

        gs = c->data;
    }

    gs->shard = userp;
    gs->idle = 0;

    if (what & CURL_POLL_IN) {
        if (!c->read->active
            && ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK)
        {
            return -1;
        }

    } else if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (what & CURL_POLL_OUT) {
        if (!c->write->active
            && ngx_add_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK)
        {
            return -1;
        }

    } else if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


static void
ngx_gp_curl_timer_handler(ngx_event_t *ev)
{
    int              running;
    ngx_gp_shard_t  *shard;

    shard = (ngx_gp_shard_t *) ((u_char *) ev
                                - offsetof(ngx_gp_shard_t, timer));

    ngx_gp_curl.running++;
    (void) curl_multi_socket_action(shard->multi, CURL_SOCKET_TIMEOUT, 0,
                                    &running);
    ngx_gp_curl.running--;

    ngx_gp_curl_process();
}


static int
ngx_gp_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_event_t  *ev;

    ev = &((ngx_gp_shard_t *) userp)->timer;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (timeout_ms >= 0) {
        /* 0 ms: runs from the event loop, not from inside curl */
        ngx_add_timer(ev, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static void
ngx_gp_curl_process(void)
{
    ngx_uint_t  i;

    if (ngx_gp_curl.running) {
        return;
    }

    for (i = 0; i < ngx_gp_curl.nshards; i++) {
        ngx_gp_curl_process_shard(&ngx_gp_curl.shard[i]);
    }
}


static void
ngx_gp_curl_process_shard(ngx_gp_shard_t *shard)
{
    int             pending;
    CURLMsg        *msg;
    ngx_gp_xfer_t  *x;

    while ((msg = curl_multi_info_read(shard->multi, &pending))) {

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        x = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                 (char **) &x);
        if (x == NULL) {
            continue;
        }

        x->result = msg->data.result;
        (void) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
                                 &x->status);

        curl_multi_remove_handle(shard->multi, x->easy);
        x->added = 0;
        x->done = 1;
        shard->active--;
        ngx_gp_curl.active--;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, x->log, 0,
                       "gemini pool: %s done: curl %d, status %l, %uz bytes",
                       x->what, (int) x->result, x->status, x->len);

        if (x->on_done) {
            x->on_done(x);
        }
    }
}


ngx_int_t
ngx_gp_curl_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i, n;
    ngx_gp_shard_t                    *shard;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gemini_pool_module);

    ngx_gp_curl.log = cycle->log;
    ngx_gp_curl.dummy.fd = (ngx_socket_t) -1;

    /* HTTP/2 to the API host: one connection carries every call */
    n = (gmcf->http2 && gmcf->api_url.len > 8
         && ngx_strncasecmp(gmcf->api_url.data, (u_char *) "https://", 8)
            == 0)
        ? 1 : NGX_GP_CURL_SHARDS;

    /* the limits are shared out; each shard gets at least one */
    ngx_gp_curl.total = (gmcf->max_connections + n - 1) / n;
    ngx_gp_curl.host = (gmcf->max_host_connections + n - 1) / n;
    ngx_gp_curl.http2 = gmcf->http2;

    for (i = 0; i < n; i++) {
        shard = &ngx_gp_curl.shard[i];

        shard->multi = ngx_gp_curl_multi(shard);
        if (shard->multi == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "gemini pool: curl_multi_init() failed");
            return NGX_ERROR;
        }

        ngx_gp_curl.nshards = i + 1;

        shard->timer.handler = ngx_gp_curl_timer_handler;
        shard->timer.log = cycle->log;
        shard->timer.data = &ngx_gp_curl.dummy;
        shard->timer.cancelable = 1;
    }

    ngx_gp_curl.trim.handler = ngx_gp_curl_trim;
    ngx_gp_curl.trim.log = cycle->log;
    ngx_gp_curl.trim.data = &ngx_gp_curl.dummy;
    ngx_gp_curl.trim.cancelable = 1;

    return NGX_OK;
}


static CURLM *
ngx_gp_curl_multi(ngx_gp_shard_t *shard)
{
    CURLM  *multi;

    multi = curl_multi_init();
    if (multi == NULL) {
        return NULL;
    }

    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, ngx_gp_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, shard);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, ngx_gp_curl_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, shard);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long) ngx_gp_curl.total);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) ngx_gp_curl.total);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long) ngx_gp_curl.host);

    /* streams of one host share an HTTP/2 connection when offered */
    curl_multi_setopt(multi, CURLMOPT_PIPELINING,
                      ngx_gp_curl.http2 ? CURLPIPE_MULTIPLEX
                                        : CURLPIPE_NOTHING);

    return multi;
}


/*
 * The idle timer after a peak (see NGX_GP_TRIM_FROM).  Nothing of it runs
 * per request: the transfer that sets a new peak arms it.
 */

static void
ngx_gp_curl_trim(ngx_event_t *ev)
{
    CURLM           *multi;
    ngx_uint_t       i, handles, conns, before;
    ngx_gp_xfer_t   *f;
    ngx_gp_shard_t  *shard;

    if (ngx_gp_curl.active * 4 > ngx_gp_curl.high) {
        /* still busy */
        ngx_add_timer(ev, NGX_GP_TRIM_EVERY);
        return;
    }

    /* the free list: back to its floor */

    handles = 0;

    while (ngx_gp_curl.nfree > NGX_GP_XFER_FREE_MIN) {
        f = ngx_gp_curl.free;
        ngx_gp_curl.free = f->next_free;
        ngx_gp_curl.nfree--;
        curl_easy_cleanup(f->easy);
        ngx_free(f);
        handles++;
    }

    /*
     * Idle connections: libcurl closes a cached connection only when it
     * looks for one, so a quiet process would keep thousands open.  A
     * shard with nothing in flight gets a new multi handle and the old
     * one closes its connections (through ngx_gp_curl_close()).
     */

    before = ngx_gp_curl.nconns;

    if (ngx_gp_curl.nconns > ngx_gp_curl.active + NGX_GP_TRIM_CONNS) {

        for (i = 0; i < ngx_gp_curl.nshards; i++) {
            shard = &ngx_gp_curl.shard[i];

            if (shard->active) {
                continue;
            }

            multi = ngx_gp_curl_multi(shard);
            if (multi == NULL) {
                break;
            }

            ngx_gp_curl.running++;
            curl_multi_cleanup(shard->multi);
            ngx_gp_curl.running--;

            shard->multi = multi;

            if (shard->timer.timer_set) {
                ngx_del_timer(&shard->timer);
            }
        }
    }

    conns = before - ngx_gp_curl.nconns;

#if (NGX_GP_MALLOC_TRIM)
    (void) malloc_trim(0);
#endif

    ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                  "gemini pool: memory given back after a peak of %ui "
                  "transfers: %ui curl handles, %ui idle connections%s",
                  ngx_gp_curl.high, handles, conns,
#if (NGX_GP_MALLOC_TRIM)
                  ", the heap trimmed"
#else
                  ""
#endif
                  );

    ngx_gp_curl.high = ngx_gp_curl.active;
    ngx_gp_curl.peak = ngx_gp_curl.active;

    /*
     * the tail of the peak is still running: once it has shrunk to a
     * quarter again, what it held is given back too
     */

    if (ngx_gp_curl.active >= NGX_GP_TRIM_TAIL) {
        ngx_add_timer(ev, NGX_GP_TRIM_EVERY);
    }
}


void
ngx_gp_curl_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t      i;
    ngx_gp_xfer_t  *x;

    if (ngx_gp_curl.nshards == 0) {
        return;
    }

    if (ngx_gp_curl.trim.timer_set) {
        ngx_del_timer(&ngx_gp_curl.trim);
    }

    for (i = 0; i < ngx_gp_curl.nshards; i++) {
        if (ngx_gp_curl.shard[i].timer.timer_set) {
            ngx_del_timer(&ngx_gp_curl.shard[i].timer);
        }
    }

    while (ngx_gp_curl.free) {
        x = ngx_gp_curl.free;
        ngx_gp_curl.free = x->next_free;
        curl_easy_cleanup(x->easy);
        ngx_free(x);
    }

    ngx_gp_curl.nfree = 0;

    /* closes pooled connections through ngx_gp_curl_close() */
    for (i = 0; i < ngx_gp_curl.nshards; i++) {
        curl_multi_cleanup(ngx_gp_curl.shard[i].multi);
        ngx_gp_curl.shard[i].multi = NULL;
    }

    ngx_gp_curl.nshards = 0;

    for (i = 0; i < ngx_gp_curl.nsocks; i++) {
        if (ngx_gp_curl.socks[i]) {
            ngx_gp_curl_unwrap(ngx_gp_curl.socks[i]);
        }
    }

    ngx_free(ngx_gp_curl.socks);
    ngx_gp_curl.socks = NULL;
    ngx_gp_curl.nsocks = 0;
}


ngx_uint_t
ngx_gp_curl_active(void)
{
    return ngx_gp_curl.active;
}


static size_t
ngx_gp_xfer_write(char *p, size_t size, size_t nmemb, void *data)
{
    size_t          len, n;
    u_char         *nb;
    ngx_gp_xfer_t  *x = data;

    len = size * nmemb;

    if (x->on_data) {
        n = x->on_data(x, p, len);

        if (n == CURL_WRITEFUNC_PAUSE) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, x->log, 0,
                           "gemini pool: %s paused", x->what);
        }

        return n;
    }

    if (x->len + len > x->max) {
        x->overflow = 1;
        return 0;
    }

    if (x->buf == NULL || x->len + len + 1 > ngx_align(x->len + 1, 4096)) {
        n = ngx_align(x->len + len + 1, 4096);
        nb = realloc(x->buf, n);
        if (nb == NULL) {
            return 0;
        }

        x->buf = nb;
    }

    ngx_memcpy(x->buf + x->len, p, len);
    x->len += len;
    x->buf[x->len] = '\0';

    return len;
}


static ngx_gp_xfer_t *ngx_gp_xfer_get(ngx_log_t *log, const char *what,
    ngx_uint_t widget);


ngx_gp_xfer_t *
ngx_gp_xfer_create(ngx_log_t *log, const char *what)
{
    return ngx_gp_xfer_get(log, what, 0);
}


/*
 * A transfer for a widget POST (ngx_gp_gemini_widget()): a free handle
 * that last served one keeps its options, and the caller sets only what
 * differs between such calls (URL, body, timeout, headers at the start).
 * curl_easy_reset() and setting some twenty options again cost about 3 %
 * of a worker's CPU per upstream call (strdup and free of each string
 * option included).
 */

ngx_gp_xfer_t *
ngx_gp_xfer_create_widget(ngx_log_t *log, const char *what)
{
    return ngx_gp_xfer_get(log, what, 1);
}


static ngx_gp_xfer_t *
ngx_gp_xfer_get(ngx_log_t *log, const char *what, ngx_uint_t widget)
{
    CURL                              *easy;
    ngx_uint_t                         sticky;
    ngx_gp_xfer_t                     *x;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    x = ngx_gp_curl.free;

    if (x) {
        /* a reset easy handle keeps its buffers */
        ngx_gp_curl.free = x->next_free;
        ngx_gp_curl.nfree--;

        easy = x->easy;
        sticky = x->sticky;
        ngx_memzero(x, sizeof(ngx_gp_xfer_t));
        x->easy = easy;

    } else {
        sticky = 0;

        x = ngx_calloc(sizeof(ngx_gp_xfer_t), log);
        if (x == NULL) {
            return NULL;
        }

        x->easy = curl_easy_init();
        if (x->easy == NULL) {
            ngx_free(x);
            return NULL;
        }
    }

    x->log = log;
    x->what = what;
    x->max = 4 * 1024 * 1024;
    x->widget = widget;

    if (sticky) {
        if (widget) {
            /* every option as the last widget call left it */
            return x;
        }

        curl_easy_reset(x->easy);
    }

    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, ngx_gp_xfer_write);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, ngx_gp_curl_open);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION,
                     ngx_gp_curl_close);
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) gmcf->connect_timeout);

    /* no proxy unless ngx_gp_xfer_proxy() says so (not even from env) */
    curl_easy_setopt(x->easy, CURLOPT_PROXY, "");

    if (gmcf->http2) {
        curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION,
                         (long) CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, 1L);

    } else {
        curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION,
                         (long) CURL_HTTP_VERSION_1_1);
    }

    if (gmcf->ssl_trusted_certificate.len) {
        curl_easy_setopt(x->easy, CURLOPT_CAINFO,
                         (char *) gmcf->ssl_trusted_certificate.data);
        curl_easy_setopt(x->easy, CURLOPT_PROXY_CAINFO,
                         (char *) gmcf->ssl_trusted_certificate.data);
    }

    if (!gmcf->ssl_verify) {
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(x->easy, CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(x->easy, CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
    }

    return x;
}


ngx_int_t
ngx_gp_xfer_header(ngx_gp_xfer_t *x, const char *fmt, ...)
{
    u_char              *p;
    va_list              args;
    struct curl_slist   *l;
    u_char               line[NGX_GP_COOKIE_LEN * 2 + 256];

    va_start(args, fmt);
    p = ngx_vslprintf(line, line + sizeof(line) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    l = curl_slist_append(x->headers, (char *) line);
    if (l == NULL) {
        return NGX_ERROR;
    }

    x->headers = l;

    return NGX_OK;
}


/*
 * Request headers without allocation: one line kept in the transfer,
 * "head" and "value" (at most NGX_GP_XFER_LINE_LEN - 1 bytes), followed
 * by a constant list that outlives every transfer (a static one); lines
 * added with ngx_gp_xfer_header() go before them.
 */

ngx_int_t
ngx_gp_xfer_headers_fixed(ngx_gp_xfer_t *x, struct curl_slist *fixed,
    const char *head, const u_char *value)
{
    size_t  h, v;

    h = ngx_strlen(head);
    v = ngx_strlen(value);

    if (h + v >= sizeof(x->line)) {
        return NGX_ERROR;
    }

    ngx_memcpy(x->line, head, h);
    ngx_memcpy(x->line + h, value, v + 1);

    x->fixed.data = (char *) x->line;
    x->fixed.next = fixed;

    return NGX_OK;
}


ngx_int_t
ngx_gp_xfer_start(ngx_gp_xfer_t *x)
{
    CURLMcode           rc;
    ngx_uint_t          i;
    ngx_gp_shard_t     *shard;
    struct curl_slist  *l;

    if (x->fixed.data) {
        if (x->headers) {
            /* unlinked again before the list is freed */
            for (l = x->headers; l->next; l = l->next) { /* void */ }
            l->next = &x->fixed;
            x->headers_last = l;

            curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);

        } else {
            curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, &x->fixed);
        }

    } else if (x->headers) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    }

    /* the shard with the fewest transfers; the first one of equals */
    shard = &ngx_gp_curl.shard[0];

    for (i = 1; i < ngx_gp_curl.nshards; i++) {
        if (ngx_gp_curl.shard[i].active < shard->active) {
            shard = &ngx_gp_curl.shard[i];
        }
    }

    rc = curl_multi_add_handle(shard->multi, x->easy);

    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ERR, x->log, 0,
                      "gemini pool: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(rc));
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, x->log, 0,
                   "gemini pool: %s started", x->what);

    x->added = 1;
    x->shard = shard;
    shard->active++;
    ngx_gp_curl.active++;

    if (ngx_gp_curl.active > ngx_gp_curl.peak) {
        ngx_gp_curl.peak = ngx_gp_curl.active;

        if (ngx_gp_curl.active > ngx_gp_curl.high) {
            ngx_gp_curl.high = ngx_gp_curl.active;

            if (ngx_gp_curl.high >= NGX_GP_TRIM_FROM
                && !ngx_gp_curl.trim.timer_set)
            {
                ngx_add_timer(&ngx_gp_curl.trim, NGX_GP_TRIM_EVERY);
            }
        }
    }

    return NGX_OK;
}


/*
 * A transfer is paused by its on_data returning CURL_WRITEFUNC_PAUSE with
 * x->paused set; this lets it go on.
 */

void
ngx_gp_xfer_resume(ngx_gp_xfer_t *x)
{
    if (!x->added || !x->paused) {
        return;
    }

    x->paused = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, x->log, 0,
                   "gemini pool: %s resumed", x->what);

    /* may deliver held data right away, through on_data */
    ngx_gp_curl.running++;
    (void) curl_easy_pause(x->easy, CURLPAUSE_CONT);
    ngx_gp_curl.running--;

    /* the transfer may have ended meanwhile */
    ngx_gp_curl_process();
}


void
ngx_gp_xfer_destroy(ngx_gp_xfer_t *x)
{
    ngx_uint_t       cap;
    ngx_gp_xfer_t   *f;
    ngx_gp_shard_t  *shard;

    if (x == NULL) {
        return;
    }

    if (x->added) {
        shard = x->shard;
        curl_multi_remove_handle(shard->multi, x->easy);
        x->added = 0;
        shard->active--;
        ngx_gp_curl.active--;
    }

    if (x->headers_last) {
        x->headers_last->next = NULL;
    }

    curl_slist_free_all(x->headers);

    if (x->mime) {
        curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(x->mime);
        x->mime = NULL;
    }

    free(x->refused);
    free(x->body);
    free(x->buf);

    /*
     * The free list holds as many handles as there were transfers in
     * flight lately (64 to 512): with a fixed cap of 64, a load of more
     * concurrent transfers made and destroyed easy handles all the time.
     * The peak loses an eighth a second, and each transfer that ends
     * frees one more handle until the list fits.
     */

    if (ngx_current_msec - ngx_gp_curl.peak_time >= 1000) {
        ngx_gp_curl.peak -= ngx_gp_curl.peak / 8;
        ngx_gp_curl.peak_time = ngx_current_msec;
    }

    cap = ngx_min(ngx_max(NGX_GP_XFER_FREE_MIN, ngx_gp_curl.peak),
                  NGX_GP_XFER_FREE_MAX);

    if (ngx_gp_curl.nfree > cap) {
        f = ngx_gp_curl.free;
        ngx_gp_curl.free = f->next_free;
        ngx_gp_curl.nfree--;
        curl_easy_cleanup(f->easy);
        ngx_free(f);
    }

    if (ngx_gp_curl.nshards && ngx_gp_curl.nfree < cap
        && !ngx_exiting && !ngx_terminate && !ngx_quit)
    {
        /*
         * A widget call's handle keeps its options for the next one; a
         * proxy would stay set, so a proxied one is reset too.  Reset:
         * options, headers and the body pointer go; buffers stay.
         */

        x->sticky = x->widget && !x->proxied && !x->guard;

        if (!x->sticky) {
            curl_easy_reset(x->easy);
        }

        x->next_free = ngx_gp_curl.free;
        ngx_gp_curl.free = x;
        ngx_gp_curl.nfree++;
        return;
    }

    curl_easy_cleanup(x->easy);
    ngx_free(x);
}


/*
 * Chooses the outbound proxy of a transfer: the account's own ("direct"
 * for none), else the global one (the "proxy" setting, else the
 * gemini_pool_proxy directive) when the "proxy_enabled" switch is on and
 * "proxy_for" names this kind of traffic.
 */

void
ngx_gp_xfer_proxy(ngx_gp_xfer_t *x, ngx_uint_t traffic,
    const u_char *account_proxy)
{
    ngx_gp_zone_t                     *z;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    x->proxy[0] = '\0';

    if (account_proxy && account_proxy[0]) {

        if (ngx_strcmp(account_proxy, "direct") != 0) {
            ngx_cpystrn(x->proxy, (u_char *) account_proxy,
                        NGX_GP_PROXY_LEN);
        }

    } else {
        z = ngx_gp_zone();
        gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                ngx_http_gemini_pool_module);

        if (z && ngx_gp_setting_int(z, NGX_GP_SET_PROXY_ENABLED)
            && (ngx_gp_setting_int(z, NGX_GP_SET_PROXY_FOR) & traffic))
        {
            ngx_gp_setting_str(z, NGX_GP_SET_PROXY, x->proxy,
                               NGX_GP_PROXY_LEN);

            if (x->proxy[0] == '\0') {
                if (gmcf->proxy.len && gmcf->proxy.len < NGX_GP_PROXY_LEN) {
                    ngx_cpystrn(x->proxy, gmcf->proxy.data,
                                gmcf->proxy.len + 1);
                }
            }
        }
    }

    if (x->proxy[0]) {
        curl_easy_setopt(x->easy, CURLOPT_PROXY, (char *) x->proxy);
        x->proxied = 1;
    }
}


/*
 * Copies text with the credentials of every URL in it ("scheme://user:
 * password@host") replaced by "***", for logs and error messages: libcurl
 * repeats proxy URLs in its messages.
 */

size_t
ngx_gp_mask_url(const char *url, u_char *buf, size_t size)
{
    u_char       *p, *last;
    const char   *s, *q, *at;

    p = buf;
    last = buf + size - 1;
    s = url;

    while (*s && p < last) {
        q = ngx_strstr(s, "://");

        if (q == NULL) {
            p = ngx_slprintf(p, last, "%s", s);
            break;
        }

        q += 3;
        p = ngx_slprintf(p, last, "%*s", (size_t) (q - s), s);

        /* the authority ends at '/', white space, a quote or the end */
        for (at = NULL, s = q; *s && *s != '/' && *s != ' ' && *s != '\''
                                && *s != '"'; s++)
        {
            if (*s == '@') {
                at = s;
            }
        }

        if (at) {
            p = ngx_slprintf(p, last, "***%*s", (size_t) (s - at), at);

        } else {
            p = ngx_slprintf(p, last, "%*s", (size_t) (s - q), q);
        }
    }

    *p = '\0';

    return p - buf;
}


/*
 * A readable reason for a failed transfer: the proxy that failed, the TLS
 * verification that failed (naming the host), or curl's own message.
 */

const char *
ngx_gp_xfer_describe(ngx_gp_xfer_t *x, u_char *buf, size_t size)
{
    char        *url;
    long         verify;
    u_char      *p, *last;
    const char  *err;
    u_char       proxy[NGX_GP_PROXY_LEN], masked[CURL_ERROR_SIZE + 64];

    (void) ngx_gp_mask_url(x->error[0] ? x->error
                                       : curl_easy_strerror(x->result),
                           masked, sizeof(masked));
    err = (char *) masked;
    last = buf + size - 1;

    switch (x->result) {

    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY:
        goto proxy;

    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
        if (x->proxied && x->status == 0) {
            /* no answer through the proxy: the proxy is the suspect */
            goto proxy;
        }

        break;

    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        verify = 0;

        if (x->proxied
            && curl_easy_getinfo(x->easy, CURLINFO_PROXY_SSL_VERIFYRESULT,
                                 &verify) == CURLE_OK
            && verify != 0)
        {
            /* the proxy's own certificate was refused */
            goto proxy;
        }

        url = NULL;
        (void) curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
        p = ngx_slprintf(buf, last, "TLS with %s failed: %s",
                         url ? url : "the upstream", err);
        (void) verify;
        *p = '\0';
        return (char *) buf;

    default:
        break;
    }

    p = ngx_slprintf(buf, last, "%s", err);
    *p = '\0';
    return (char *) buf;

proxy:

    (void) ngx_gp_mask_url((char *) x->proxy, proxy, sizeof(proxy));
    p = ngx_slprintf(buf, last, "proxy %s failed: %s", proxy, err);
    *p = '\0';

    return (char *) buf;
}
