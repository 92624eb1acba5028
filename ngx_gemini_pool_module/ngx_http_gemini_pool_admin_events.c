
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * GET /api/events: the console's live state as server-sent events.  The
 * hot path pays nothing: each open stream has a timer (one second) that
 * compares the zone's accounts_gen (bumped with each account's state
 * change and each load) and the operation's gen with what it sent, and
 * only then walks the accounts for the rows whose state changed (a
 * signature per row); a cooldown that ends is found by its time, and
 * while a re-login is queued or runs its steps are looked at each tick.  A
 * stream is a long request: its connection is marked idle, so a worker
 * that exits (a reload, a stop) closes it at once, and its timer is
 * cancelable; a worker keeps at most NGX_GP_EVENTS_MAX streams.
 *
 *   event: hello      {"time", "tick", "heartbeat"}
 *   event: accounts   {"time", "accounts": [rows with "relogin"],
 *                     "removed": [ids]} or
 *                     {"time", "reload": true} when many changed
 *   event: counters   {"time", "requests", "errors", "accounts":
 *                     {"total", "available", "cooling", "expired",
 *                     "disabled"}}
 *   event: progress   {"id", "kind", "total", "done", "ok", "failed",
 *                     "started", "finished"}
 *   : heartbeat       a comment every NGX_GP_EVENTS_HEARTBEAT ms
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_EVENTS_TICK        1000     /* ms */
#define NGX_GP_EVENTS_HEARTBEAT   5000     /* ms */
#define NGX_GP_EVENTS_MAX         16       /* streams per worker */
#define NGX_GP_EVENTS_ROWS        100      /* more changed: "reload" */


typedef struct {
    int64_t                  id;
    uint64_t                 sig;
} ngx_gp_events_row_t;

typedef struct {
    ngx_http_request_t      *r;
    ngx_gp_sse_t             sse;
    ngx_event_t              tick;

    ngx_atomic_uint_t        gen;         /* accounts_gen looked at */
    ngx_uint_t               op_gen;
    time_t                   next_end;    /* a cooldown ends; 0: none */

    uint64_t                 requests;
    uint64_t                 errors;
    ngx_uint_t               states[4];
    ngx_uint_t               total;
    ngx_uint_t               counted;     /* counters sent once */
    ngx_uint_t               relogin;     /* a re-login queued or running:
                                             its steps are looked at */

    ngx_gp_events_row_t     *rows;        /* ngx_alloc()ed, by id */
    ngx_uint_t               nrows;
    ngx_uint_t               cap;
} ngx_gp_events_t;


static void ngx_gp_events_tick(ngx_event_t *ev);
static void ngx_gp_events_write(ngx_http_request_t *r);
static void ngx_gp_events_cleanup(void *data);
static ngx_int_t ngx_gp_events_look(ngx_gp_events_t *es, ngx_uint_t send);
static ngx_int_t ngx_gp_events_send(ngx_gp_events_t *es, const char *event,
    json_t *j);


static ngx_uint_t  ngx_gp_events_open;


ngx_int_t
ngx_gp_admin_events(ngx_gp_admin_t *a)
{
    json_t              *j;
    ngx_http_request_t  *r;
    ngx_gp_events_t     *es;
    ngx_pool_cleanup_t  *cln;

    static u_char  retry[] = "retry: 3000\n\n";

    r = a->r;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return ngx_gp_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "exiting", "this worker is exiting: "
                                  "connect again");
    }

    if (ngx_gp_events_open >= NGX_GP_EVENTS_MAX) {
        return ngx_gp_admin_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "too_many_streams", "this worker has %d "
                                  "event streams open, its most: poll "
                                  "instead", NGX_GP_EVENTS_MAX);
    }

    es = ngx_pcalloc(r->pool, sizeof(ngx_gp_events_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (es == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    es->r = r;
    ngx_gp_sse_init(&es->sse, r);

    es->tick.handler = ngx_gp_events_tick;
    es->tick.data = es;
    es->tick.log = r->connection->log;
    es->tick.cancelable = 1;

    cln->handler = ngx_gp_events_cleanup;
    cln->data = es;

    ngx_gp_events_open++;

    ngx_http_set_ctx(r, es, ngx_http_gemini_pool_module);

    /* what it sees now is what the page loaded: changes from here on */
    if (ngx_gp_events_look(es, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_sse_header(&es->sse, "text/event-stream",
                          sizeof("text/event-stream") - 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    j = json_pack("{s:I,s:i,s:i}", "time", (json_int_t) ngx_time(),
                  "tick", NGX_GP_EVENTS_TICK,
                  "heartbeat", NGX_GP_EVENTS_HEARTBEAT);

    if (ngx_gp_sse_send(&es->sse, retry, sizeof(retry) - 1, 0) == NGX_ERROR
        || ngx_gp_events_send(es, "hello", j) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    /* a worker that exits closes it at once (ngx_close_idle_connections) */
    r->connection->idle = 1;

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_gp_events_write;
    r->main->count++;

    ngx_add_timer(&es->tick, NGX_GP_EVENTS_TICK);

    return NGX_DONE;
}


static void
ngx_gp_events_cleanup(void *data)
{
    ngx_gp_events_t  *es = data;

    if (es->tick.timer_set) {
        ngx_del_timer(&es->tick);
    }

    if (es->sse.flush.posted) {
        ngx_delete_posted_event(&es->sse.flush);
    }

    if (es->rows) {
        ngx_free(es->rows);
        es->rows = NULL;
    }

    ngx_gp_events_open--;
}


static void
ngx_gp_events_write(ngx_http_request_t *r)
{
    ngx_gp_events_t  *es;

    es = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    if (es == NULL || r->connection->write->timedout
        || ngx_gp_sse_writer(&es->sse) == NGX_ERROR)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


/* one event with j as its data (j is released) */

static ngx_int_t
ngx_gp_events_send(ngx_gp_events_t *es, const char *event, json_t *j)
{
    char       *s;
    ngx_int_t   rc;

    if (j == NULL) {
        return NGX_ERROR;
    }

    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (s == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_gp_sse_event(&es->sse, event, (u_char *) s, ngx_strlen(s), 0);
    free(s);

    return rc;
}


static ngx_uint_t
ngx_gp_events_state(ngx_gp_account_t *acc, time_t now)
{
    if (!acc->enabled) {
        return 3;
    }

    if (acc->cookie_expired) {
        return 2;
    }

    return acc->cooldown_until[NGX_GP_QUOTA_TEXT] > now;
}


/* what the console shows of a row's state, as one number */

static uint64_t
ngx_gp_events_sig(ngx_gp_account_t *acc, time_t now)
{
    uint64_t    h;
    ngx_uint_t  i;

#define ngx_gp_events_mix(h, v)                                              \
    h = (h ^ (uint64_t) (v)) * 1099511628211ULL

    h = 14695981039346656037ULL;

    ngx_gp_events_mix(h, acc->state_gen);
    ngx_gp_events_mix(h, acc->enabled | acc->cookie_expired << 1
                         | ngx_gp_events_state(acc, now) << 2);
    ngx_gp_events_mix(h, acc->tested_at);
    ngx_gp_events_mix(h, acc->last_error_at);
    ngx_gp_events_mix(h, acc->last_error[0]);
    ngx_gp_events_mix(h, ngx_hash_key(acc->name, ngx_strlen(acc->name)));
    ngx_gp_events_mix(h, acc->relogin.queued);
    ngx_gp_events_mix(h, acc->relogin.started);
    ngx_gp_events_mix(h, acc->relogin.failed);
    ngx_gp_events_mix(h, ngx_hash_key(acc->relogin.step,
                                      ngx_strlen(acc->relogin.step)));

    for (i = 0; i < NGX_GP_QUOTA_N; i++) {
        ngx_gp_events_mix(h, acc->cooldown_until[i] > now
                             ? acc->cooldown_until[i] : 0);
    }

#undef ngx_gp_events_mix

    return h;
}


/*
 * Walks the accounts (under the lock) against the rows last seen: the
 * changed rows as JSON (send), the new signatures kept, the state counts
 * and the next end of a cooldown.
 */

static ngx_int_t
ngx_gp_events_rows_locked(ngx_gp_events_t *es, ngx_gp_zone_t *z, time_t now,
    json_t *changed, json_t *removed, ngx_uint_t *nchanged)
{
    time_t                t;
    json_t               *j;
    uint64_t              sig;
    ngx_uint_t            i, k, q, n;
    ngx_gp_account_t     *acc;
    ngx_gp_events_row_t  *rows;

    n = z->sh->naccounts;

    rows = ngx_alloc(ngx_max(n, 1) * sizeof(ngx_gp_events_row_t),
                     es->r->connection->log);
    if (rows == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(es->states, sizeof(es->states));
    es->next_end = 0;
    es->relogin = 0;
    k = 0;

    for (i = 0; i < n; i++) {
        acc = &z->sh->accounts[i];
        sig = ngx_gp_events_sig(acc, now);

        rows[i].id = acc->id;
        rows[i].sig = sig;
        es->states[ngx_gp_events_state(acc, now)]++;
        es->relogin |= (acc->relogin.queued || acc->relogin.started);

        for (q = 0; q < NGX_GP_QUOTA_N; q++) {
            t = acc->cooldown_until[q];

            if (t > now && (es->next_end == 0 || t < es->next_end)) {
                es->next_end = t;
            }
        }

        /* both lists are sorted by id */

        while (k < es->nrows && es->rows[k].id < acc->id) {
            if (removed) {
                json_array_append_new(removed,
                                      json_integer(es->rows[k].id));
            }

            k++;
        }

        if (k < es->nrows && es->rows[k].id == acc->id
            && es->rows[k].sig == sig)
        {
            k++;
            continue;
        }

        if (k < es->nrows && es->rows[k].id == acc->id) {
            k++;
        }

        if (changed == NULL) {
            continue;
        }

        if (++*nchanged > NGX_GP_EVENTS_ROWS) {
            continue;
        }

        j = ngx_gp_admin_account_json(acc, i, now);

        if (j && json_object_set_new(j, "relogin",
                                     ngx_gp_admin_relogin_state(acc))
                 != 0)
        {
            json_decref(j);
            j = NULL;
        }

        if (j == NULL || json_array_append_new(changed, j) != 0) {
            ngx_free(rows);
            return NGX_ERROR;
        }
    }

    while (removed && k < es->nrows) {
        json_array_append_new(removed, json_integer(es->rows[k++].id));
    }

    if (es->rows) {
        ngx_free(es->rows);
    }

    es->rows = rows;
    es->nrows = n;
    es->total = n;

    return NGX_OK;
}


/* one look at the zone: what changed goes out when send is set */

static ngx_int_t
ngx_gp_events_look(ngx_gp_events_t *es, ngx_uint_t send)
{
    time_t               now;
    json_t              *changed, *removed, *j, *op;
    uint64_t             requests, errors;
    ngx_int_t            rc;
    ngx_uint_t           nchanged, rows, counters;
    ngx_gp_zone_t       *z;
    ngx_gp_operation_t  *o;

    z = ngx_gp_zone();
    now = ngx_time();
    changed = NULL;
    removed = NULL;
    op = NULL;
    nchanged = 0;
    rc = NGX_OK;

    ngx_shmtx_lock(&z->shpool->mutex);

    rows = es->rows == NULL || z->sh->accounts_gen != es->gen
           || (es->next_end && now >= es->next_end) || es->relogin;

    if (rows) {
        if (send) {
            changed = json_array();
            removed = json_array();
        }

        es->gen = z->sh->accounts_gen;

        if ((send && (changed == NULL || removed == NULL))
            || ngx_gp_events_rows_locked(es, z, now, changed, removed,
                                         &nchanged)
               != NGX_OK)
        {
            rc = NGX_ERROR;
        }
    }

    o = &z->sh->operation;

    if (o->gen != es->op_gen) {
        es->op_gen = o->gen;

        if (send && o->id) {
            op = json_pack("{s:i,s:s,s:i,s:i,s:i,s:i,s:I,s:I}",
                           "id", (int) o->id, "kind", (char *) o->kind,
                           "total", (int) o->total, "done", (int) o->done,
                           "ok", (int) o->ok, "failed", (int) o->failed,
                           "started", (json_int_t) o->started,
                           "finished", (json_int_t) o->finished);
        }
    }

    requests = z->sh->requests;
    errors = z->sh->errors;

    ngx_shmtx_unlock(&z->shpool->mutex);

    counters = rows || requests != es->requests || errors != es->errors
               || !es->counted;

    es->requests = requests;
    es->errors = errors;

    if (rc != NGX_OK || !send) {
        json_decref(changed);
        json_decref(removed);
        json_decref(op);
        return rc;
    }

    if (nchanged > NGX_GP_EVENTS_ROWS) {
        json_decref(changed);
        json_decref(removed);

        j = json_pack("{s:I,s:b,s:i}", "time", (json_int_t) now,
                      "reload", 1, "changed", (int) nchanged);

        rc = ngx_gp_events_send(es, "accounts", j);

    } else if (rows && (json_array_size(changed)
                        || json_array_size(removed)))
    {
        j = json_pack("{s:I,s:o,s:o}", "time", (json_int_t) now,
                      "accounts", changed, "removed", removed);

        rc = ngx_gp_events_send(es, "accounts", j);

    } else {
        json_decref(changed);
        json_decref(removed);
    }

    if (rc == NGX_OK && counters) {
        es->counted = 1;

        j = json_pack("{s:I,s:I,s:I,s:{s:i,s:i,s:i,s:i,s:i}}",
                      "time", (json_int_t) now,
                      "requests", (json_int_t) requests,
                      "errors", (json_int_t) errors,
                      "accounts",
                      "total", (int) es->total,
                      "available", (int) es->states[0],
                      "cooling", (int) es->states[1],
                      "expired", (int) es->states[2],
                      "disabled", (int) es->states[3]);

        rc = ngx_gp_events_send(es, "counters", j);
    }

    if (op) {
        if (rc == NGX_OK) {
            rc = ngx_gp_events_send(es, "progress", op);

        } else {
            json_decref(op);
        }
    }

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static void
ngx_gp_events_tick(ngx_event_t *ev)
{
    ngx_gp_events_t     *es;
    ngx_http_request_t  *r;

    static u_char  beat[] = ": heartbeat\n\n";

    es = ev->data;
    r = es->r;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    /* a client that does not read gets nothing more until it does */

    if (es->sse.busy == NULL) {
        if (ngx_gp_events_look(es, 1) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        if (ngx_current_msec - es->sse.last_output
            >= NGX_GP_EVENTS_HEARTBEAT
            && ngx_gp_sse_send(&es->sse, beat, sizeof(beat) - 1, 0)
               == NGX_ERROR)
        {
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }
    }

    ngx_add_timer(&es->tick, NGX_GP_EVENTS_TICK);
}
