
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A chat turn, the request state machine behind every client surface
 * (surface.h: OpenAI chat completions, the images API, ...).
 *
 *   body -> surface parse -> upstream (account, JWT, session: upstream.c)
 *        -> addContextFile -> streamAssist -> split -> decode
 *        -> surface delta / media / finish -> SSE writer or JSON
 *
 * The response header is committed only when the upstream produced its
 * first useful element (or when a keep-alive must be sent), so errors at
 * the start of a turn still move to the next account.  Output buffers are
 * recycled (sse.c), and the upstream transfer is paused while the client
 * has not taken what was sent: memory per request does not grow with the
 * answer.  This file renders nothing itself: errors are the neutral
 * ngx_gp_oai_error_t, sent in the surface's shape.
 */


#include "ngx_http_gemini_pool_module.h"



typedef struct {
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    ngx_http_gemini_pool_loc_conf_t   *glcf;
    ngx_gp_zone_t                     *zone;

    ngx_gp_chat_req_t                  req;
    ngx_gp_model_t                     model;
    char                              *prompt;
    size_t                             prompt_len;

    ngx_gp_upstream_t                  u;           /* account, JWT */
    ngx_gp_account_copy_t             *acct;
    ngx_uint_t                         max_attempts;
    ngx_uint_t                         quota;

    /* the conversation: the key it is bound under, the key of its next
       turn (the history so far, then this turn's answer, hashed) */
    u_char                             conv_key[NGX_GP_KEY_LEN];
    ngx_md5_t                          next_md5;
    ngx_md5_t                          answer_md5;  /* before the answer */
    ngx_uint_t                         earlier_turns;
    time_t                             session_created;

    ngx_gp_key_t                       key;         /* id 0: none */
    ngx_gp_cluster_cmd_t              *key_count;   /* Redis: in flight */
    ngx_gp_cluster_cmd_t              *binding_get; /* Redis: in flight */

    /* for the variables and the call log */
    u_char                             account_name[NGX_GP_NAME_LEN];
    int64_t                            account_id;
    ngx_uint_t                         last_fail;
    u_char                             last_error[128];
    long                               upstream_status;
    ngx_msec_int_t                     ttfb;        /* -1: none yet */

    char                              *session;
    ngx_gp_xfer_t                     *xfer;
    ngx_gp_jsonstream_t                js;

    ngx_gp_input_t                    *in;          /* images, files */

    /* output: the surface, its stream */
    ngx_gp_reply_t                     out;

    u_char                            *text;        /* non-stream answer,
                                                       or the history's */
    size_t                             history_max; /* 0: no history */
    size_t                             text_len;
    size_t                             text_cap;
    u_char                            *reasoning;
    size_t                             reasoning_len;
    size_t                             reasoning_cap;

    ngx_gp_usage_t                     usage;
    const char                        *finish_reason;

    /* the failure of the current attempt */
    ngx_uint_t                         fail;
    long                               fail_status;
    char                               fail_msg[256];

    ngx_event_t                        timer;       /* waits, timeouts */
    ngx_event_t                        keepalive;

    unsigned                           stream:1;
    unsigned                           show_thoughts:1;
    unsigned                           useful:1;     /* answer started */
    unsigned                           got_text:1;
    unsigned                           got_thought:1;
    unsigned                           stream_error:1;
    unsigned                           complete:1;   /* SUCCEEDED seen */
    unsigned                           finished:1;
    unsigned                           timed_out:1;
    unsigned                           overflow:1;
    unsigned                           client_error:1;
    unsigned                           has_conv_key:1;
    unsigned                           by_id:1;      /* conversation_id */
    unsigned                           bound:1;      /* bound session */
    unsigned                           omit_model:1;

    /* tool calls (o->tools): the streamed text held from a possible call
       on, and the calls parsed at the end */
    ngx_gp_tools_hold_t                hold;
    ngx_gp_tools_answer_t              calls;
    size_t                             calls_from;  /* text parsed */

    /* generated media, and the artefact lines of image turns */
    unsigned                           flushing:1;
    ngx_gp_media_t                    *media;
    ngx_gp_artefact_t                  artefact;
    u_char                            *filtered;
    size_t                             filtered_cap;
} ngx_gp_chat_ctx_t;


static void ngx_gp_chat_cleanup(void *data);
static void ngx_gp_chat_key_counted(void *data, time_t retry);
static void ngx_gp_chat_prepare(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_remote(void *data, ngx_uint_t found);
static void ngx_gp_chat_not_found(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_go(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_hash_call(ngx_md5_t *md5, ngx_gp_tool_call_t *c);
static ngx_int_t ngx_gp_chat_tools_end(ngx_gp_chat_ctx_t *ctx);
static ngx_int_t ngx_gp_chat_tools_links(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_history(ngx_gp_chat_ctx_t *ctx, ngx_gp_event_t *e);
static void ngx_gp_chat_keys(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_id_key(ngx_gp_chat_ctx_t *ctx, const char *id,
    u_char *key);
static ngx_uint_t ngx_gp_chat_lost(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_ttfb(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_attempt(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_ready(ngx_gp_upstream_t *u);
static void ngx_gp_chat_no_upstream(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static void ngx_gp_chat_inputs_ready(void *data, ngx_gp_oai_error_t *err);
static void ngx_gp_chat_begin(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_upload(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_upload_done(ngx_gp_xfer_t *x);
static void ngx_gp_chat_stream(ngx_gp_chat_ctx_t *ctx);
static size_t ngx_gp_chat_data(ngx_gp_xfer_t *x, char *p, size_t len);
static int ngx_gp_chat_element(void *data, const char *p, size_t len);
static void ngx_gp_chat_stream_done(ngx_gp_xfer_t *x);
static void ngx_gp_chat_fail(ngx_gp_chat_ctx_t *ctx, ngx_uint_t kind,
    long status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void ngx_gp_chat_upstream_error(ngx_gp_chat_ctx_t *ctx,
    ngx_gp_xfer_t *x);
static void ngx_gp_chat_reset(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_start(ngx_http_request_t *r, ngx_str_t *body,
    const ngx_gp_surface_t *surface);
static void ngx_gp_chat_error(ngx_gp_chat_ctx_t *ctx,
    ngx_gp_oai_error_t *err);
static void ngx_gp_chat_finish(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_writer(ngx_http_request_t *r);
static void ngx_gp_chat_timer_handler(ngx_event_t *ev);
static void ngx_gp_chat_keepalive_handler(ngx_event_t *ev);
static void ngx_gp_chat_flush_handler(ngx_event_t *ev);
static void ngx_gp_chat_drop_xfer(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_release(ngx_gp_chat_ctx_t *ctx, ngx_uint_t ok,
    const char *error);
static ngx_int_t ngx_gp_chat_media_part(ngx_gp_chat_ctx_t *ctx,
    ngx_gp_part_t *part);
static void ngx_gp_chat_media_fetch(ngx_gp_chat_ctx_t *ctx);
static void ngx_gp_chat_media_done(void *data);
static ngx_int_t ngx_gp_chat_media_out(ngx_gp_chat_ctx_t *ctx);


/*
 * A chat turn behind a client surface (surface.h): the surface's body
 * handler calls ngx_gp_chat_body() with it.
 */

ngx_int_t
ngx_gp_chat_handler(ngx_http_request_t *r, const ngx_gp_surface_t *surface)
{
    ngx_int_t       rc;
    ngx_gp_reply_t  o;

    if (r->method != NGX_HTTP_POST) {
        ngx_gp_oai_error_t  err;

        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                             "invalid_request_error", "method_not_allowed",
                             NULL, "use POST for %s", surface->path);

        ngx_memzero(&o, sizeof(ngx_gp_reply_t));
        o.r = r;
        o.surface = surface;

        return surface->error(&o, &err);
    }

    rc = ngx_http_read_client_request_body(r, surface->body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


void
ngx_gp_chat_body(ngx_http_request_t *r, const ngx_gp_surface_t *surface)
{
    ngx_str_t  body;

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_gp_chat_start(r, &body, surface);
}


static void
ngx_gp_chat_start(ngx_http_request_t *r, ngx_str_t *body,
    const ngx_gp_surface_t *surface)
{
    ngx_int_t               rc;
    ngx_str_t               name;
    ngx_gp_chat_ctx_t      *ctx;
    ngx_pool_cleanup_t     *cln;
    ngx_gp_oai_error_t      err;
    u_char                  buf[NGX_GP_MODEL_LEN];

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_gp_chat_ctx_t));
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_gp_chat_cleanup;
    cln->data = ctx;

    /* a reload waits for this turn (released by the cleanup) */
    ngx_gp_hold_worker();

    ctx->r = r;
    ctx->gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    ctx->glcf = ngx_http_get_module_loc_conf(r, ngx_http_gemini_pool_module);
    ctx->zone = ngx_gp_zone();
    ctx->out.r = r;
    ctx->out.surface = surface;
    ctx->out.req = &ctx->req;
    ctx->out.usage = &ctx->usage;
    ctx->out.created = ngx_time();
    ctx->finish_reason = "stop";
    ctx->ttfb = -1;

    ngx_http_set_ctx(r, ctx, ngx_http_gemini_pool_module);

    ctx->timer.handler = ngx_gp_chat_timer_handler;
    ctx->timer.data = r->connection;
    ctx->timer.log = r->connection->log;
    ctx->keepalive.handler = ngx_gp_chat_keepalive_handler;
    ctx->keepalive.data = r->connection;
    ctx->keepalive.log = r->connection->log;

    ngx_gp_sse_init(&ctx->out.sse, r);
    ctx->out.sse.flush.handler = ngx_gp_chat_flush_handler;

    if (surface->parse(&ctx->out, body, &err) != NGX_OK) {
        ngx_gp_chat_error(ctx, &err);
        return;
    }

    if (ctx->req.ntools) {
        /* tool calls are emulated (tools.c) unless the setting is off */
        if (!ngx_gp_setting_int(ctx->zone, NGX_GP_SET_TOOL_CALLS)) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "tools_disabled",
                                 "tools", "Tool calls are turned off on "
                                 "this gateway (the setting tool_calls); "
                                 "send the request without 'tools'");
            ngx_gp_chat_error(ctx, &err);
            return;
        }

        ctx->out.tools = (ctx->req.tool_choice != NGX_GP_TOOL_NONE);
    }

    if (ctx->req.model) {
        name.data = (u_char *) ctx->req.model;
        name.len = ngx_strlen(ctx->req.model);

    } else {
        ngx_gp_setting_str(ctx->zone, NGX_GP_SET_DEFAULT_MODEL, buf,
                           sizeof(buf));

        name.data = buf;
        name.len = ngx_strlen(buf);
    }

    if (name.len == 4 && ngx_strncmp(name.data, "auto", 4) == 0) {
        ngx_str_set(&name, "gemini-auto");
    }

    if (ngx_gp_zone_model(ctx->zone, &name, &ctx->model) != NGX_OK) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                             "invalid_request_error", "model_not_found",
                             "model", "The model `%.*s` does not exist; "
                             "GET /v1/models lists the models",
                             (int) ngx_min(name.len, 100), name.data);
        ngx_gp_chat_error(ctx, &err);
        return;
    }

    if (surface->model(&ctx->out, &ctx->model, &name, &err) != NGX_OK) {
        ngx_gp_chat_error(ctx, &err);
        return;
    }

    /* an alias is allowed by what it serves: a key's list names models */
    name.data = ctx->model.name;
    name.len = ngx_strlen(ctx->model.name);

    rc = ngx_gp_api_key_check(r, &name, &ctx->key, &err);

    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ngx_gp_chat_error(ctx, &err);

        } else {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    /* several gateways: a key's limits are counted across them */
    ctx->key_count = ngx_gp_cluster_key_count(ctx->key.hash, ctx->key.rpm,
                                              ctx->key.rpd,
                                              ngx_gp_chat_key_counted, ctx);
    if (ctx->key_count) {
        return;
    }

    ngx_gp_chat_prepare(ctx);
}


/* Redis's count of a limited key (retry > 0: over a limit, refused) */

static void
ngx_gp_chat_key_counted(void *data, time_t retry)
{
    ngx_gp_chat_ctx_t  *ctx = data;

    ngx_connection_t    *c;
    ngx_gp_oai_error_t   err;

    ctx->key_count = NULL;
    c = ctx->r->connection;

    if (retry > 0) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_TOO_MANY_REQUESTS,
                             "rate_limit_error", "rate_limit_exceeded", NULL,
                             "Rate limit of this API key reached; try again "
                             "in %d s", (int) retry);
        ngx_gp_retry_after(ctx->r, retry);
        ngx_gp_chat_error(ctx, &err);

    } else {
        ngx_gp_chat_prepare(ctx);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_gp_chat_prepare(ngx_gp_chat_ctx_t *ctx)
{
    ngx_int_t             fmt;
    ngx_http_request_t   *r;
    ngx_gp_oai_error_t    err;

    r = ctx->r;

    fmt = ngx_gp_media_choose_format(r, ctx->req.image_format, &ctx->key);

    if (fmt == NGX_ERROR) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_value",
                             "image_format", "'image_format' must be "
                             "\"markdown\", \"url\", \"array\" or "
                             "\"b64_json\"");
        ngx_gp_chat_error(ctx, &err);
        return;
    }

    ctx->out.image_format = fmt;
    ctx->out.model = ctx->req.model ? ctx->req.model
                                    : (char *) ctx->model.name;

    ctx->stream = ctx->req.stream ? 1 : 0;
    ctx->out.stream = ctx->stream;
    ctx->show_thoughts = ngx_gp_setting_int(ctx->zone,
                                            NGX_GP_SET_SHOW_THOUGHTS);

    if (ngx_gp_setting_int(ctx->zone, NGX_GP_SET_HISTORY_ENABLED)) {
        ctx->history_max = (size_t) ngx_max(ngx_gp_setting_int(ctx->zone,
                               NGX_GP_SET_HISTORY_MAX_CHARS), 1);
    }
    ctx->quota = ctx->model.kind == NGX_GP_MODEL_IMAGE ? NGX_GP_QUOTA_IMAGES
                 : ctx->model.kind == NGX_GP_MODEL_VIDEO ? NGX_GP_QUOTA_VIDEOS
                 : NGX_GP_QUOTA_TEXT;

    ngx_gp_chat_keys(ctx);

    if (ctx->req.conversation_param && ngx_gp_chat_lost(ctx)) {
        /* several gateways: it may have started on another (one GET) */
        ctx->binding_get = ngx_gp_cluster_binding_get(ctx->conv_key,
                                                      ngx_gp_chat_remote,
                                                      ctx);
        if (ctx->binding_get == NULL) {
            ngx_gp_chat_not_found(ctx);
        }

        return;
    }

    ngx_gp_chat_go(ctx);
}


/* the conversation another gateway bound (found: now in the zone) */

static void
ngx_gp_chat_remote(void *data, ngx_uint_t found)
{
    ngx_gp_chat_ctx_t  *ctx = data;

    ngx_connection_t  *c;

    ctx->binding_get = NULL;
    c = ctx->r->connection;

    if (found && !ngx_gp_chat_lost(ctx)) {
        ngx_gp_chat_go(ctx);

    } else {
        ngx_gp_chat_not_found(ctx);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_gp_chat_not_found(ngx_gp_chat_ctx_t *ctx)
{
    ngx_gp_oai_error_t  err;

    ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                         "invalid_request_error", "conversation_not_found",
                         ctx->req.conversation_param,
                         "'%s' names no conversation this API key can "
                         "continue: unknown, expired or evicted",
                         ctx->req.conversation_param);
    ngx_gp_chat_error(ctx, &err);
}


static void
ngx_gp_chat_go(ngx_gp_chat_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_http_request_t   *r;
    ngx_gp_oai_error_t    err;

    r = ctx->r;

    ctx->acct = ngx_palloc(r->pool, sizeof(ngx_gp_account_copy_t));
    if (ctx->acct == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->acct->id = 0;

    ctx->max_attempts = ngx_gp_setting_int(ctx->zone,
                                           NGX_GP_SET_MAX_ATTEMPTS);

    ngx_shmtx_lock(&ctx->zone->shpool->mutex);
    ctx->max_attempts = ngx_min(ctx->max_attempts, ctx->zone->sh->naccounts);
    ctx->zone->sh->requests++;
    ngx_shmtx_unlock(&ctx->zone->shpool->mutex);

    if (ctx->max_attempts == 0) {
        ctx->max_attempts = 1;
    }

    /* a client that goes away cancels the upstream transfer */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_gp_chat_writer;

    /* images and files: decoded, fetched, looked up before any account */
    rc = ngx_gp_input_prepare(r, &ctx->req, ctx->key.id, &ctx->in,
                              ngx_gp_chat_inputs_ready, ctx, &err);

    if (rc == NGX_ERROR) {
        ngx_gp_chat_error(ctx, &err);
        return;
    }

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_gp_chat_begin(ctx);
}


/*
 * An error before the answer, in the surface's shape.  A stream that
 * SSE keep-alives have already committed (a retry waiting for its
 * account) gets it as the surface's in-stream error instead: a JSON
 * error body after the event-stream header would be garbage.
 */

static void
ngx_gp_chat_error(ngx_gp_chat_ctx_t *ctx, ngx_gp_oai_error_t *err)
{
    if (ctx->out.sse.header_sent) {
        (void) ctx->out.surface->stop(&ctx->out, err);
        ngx_gp_chat_finish(ctx);
        return;
    }

    ngx_http_finalize_request(ctx->r,
                              ctx->out.surface->error(&ctx->out, err));
}


static void
ngx_gp_chat_inputs_ready(void *data, ngx_gp_oai_error_t *err)
{
    ngx_gp_chat_ctx_t  *ctx = data;

    if (err) {
        ngx_gp_chat_error(ctx, err);
        return;
    }

    ngx_gp_chat_begin(ctx);
}


/*
 * A turn that names an uploaded file runs on the account and in the
 * session the file lives in, without failover: no other account holds
 * the file.
 */

static void
ngx_gp_chat_begin(ngx_gp_chat_ctx_t *ctx)
{
    u_char              *session;
    int64_t              account;
    ngx_gp_oai_error_t   err;

    account = ngx_gp_input_account(ctx->in, &session);

    if (account) {
        if (ctx->model.account >= 0 && ctx->model.account != account) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "file_conflict",
                                 "model", "The model `%s` is pinned to "
                                 "another account than the one holding "
                                 "the file", ctx->model.name);
            ngx_gp_chat_error(ctx, &err);
            return;
        }

        ctx->max_attempts = 1;
        ctx->u.pin_account = account;
        ctx->u.pin_session = session;
    }

    /* the upstream: what the turn needs from the pool */
    ctx->u.data = ctx;
    ctx->u.ready = ngx_gp_chat_ready;
    ctx->u.fail = ngx_gp_chat_no_upstream;
    ctx->u.log = ctx->r->connection->log;
    ctx->u.zone = ctx->zone;
    ctx->u.mode = NGX_GP_UPSTREAM_SESSION;
    ctx->u.quota = ctx->quota;
    ctx->u.only = ctx->model.account;
    ctx->u.max_attempts = ctx->max_attempts;
    ctx->u.conv_key = ctx->has_conv_key ? ctx->conv_key : NULL;
    ctx->u.acct = ctx->acct;

    ngx_gp_chat_attempt(ctx);
}


/* the request's line in the call log, and its share of the metrics */

static void
ngx_gp_chat_record(ngx_gp_chat_ctx_t *ctx)
{
    u_char              *p;
    ngx_time_t          *tp;
    ngx_msec_int_t       ms;
    ngx_gp_event_t       e;
    ngx_http_request_t  *r;

    r = ctx->r;

    if (ctx->zone == NULL) {
        return;
    }

    ngx_memzero(&e, sizeof(ngx_gp_event_t));

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    e.time = tp->sec;
    e.key_id = ctx->key.id;
    e.account_id = ctx->account_id;
    ngx_memcpy(e.model, ctx->model.name, NGX_GP_MODEL_LEN);
    ngx_memcpy(e.account, ctx->account_name, NGX_GP_NAME_LEN);
    e.status = (uint16_t) (r->connection->error && !ctx->finished
                           ? NGX_HTTP_CLIENT_CLOSED_REQUEST
                           : r->headers_out.status);
    e.stream = ctx->stream;
    e.attempts = (uint8_t) ngx_min(ctx->u.attempts, 255);
    e.latency_ms = (uint32_t) ngx_max(ms, 0);
    e.ttfb_ms = (int32_t) ctx->ttfb;
    e.prompt_tokens = (uint32_t) ctx->usage.prompt_tokens;
    e.completion_tokens = (uint32_t) ctx->usage.completion_tokens;

    if (e.status >= 400 || ctx->out.error_sent) {
        ngx_memcpy(e.error, ctx->last_error, sizeof(e.error));
    }

    if (ctx->session) {
        p = (u_char *) strrchr(ctx->session, '/');
        p = p ? p + 1 : (u_char *) ctx->session;
        ngx_cpystrn(e.session, p, sizeof(e.session));
    }

    p = NULL;

    if (ctx->history_max) {
        ngx_gp_chat_history(ctx, &e);
        p = e.text;
    }

    ngx_gp_zone_event(ctx->zone, &e);

    if (p) {
        ngx_free(p);
    }
}


/* the history text: the last user message, then the answer's text */

static void
ngx_gp_chat_history(ngx_gp_chat_ctx_t *ctx, ngx_gp_event_t *e)
{
    size_t             plen, alen;
    u_char            *t;
    ngx_uint_t         i;
    ngx_gp_message_t  *m;

    m = NULL;

    for (i = ctx->req.nmessages; i > 0; i--) {
        if (ctx->req.messages[i - 1].role == NGX_GP_ROLE_USER) {
            m = &ctx->req.messages[i - 1];
            break;
        }
    }

    plen = m ? ngx_gp_utf8_cut(m->text, m->len, ctx->history_max) : 0;
    alen = ngx_gp_utf8_cut((char *) ctx->text, ctx->text_len,
                           ctx->history_max);

    /* the request's pool is being destroyed: the zone copies this */
    t = ngx_alloc(plen + alen + 1, ctx->r->connection->log);
    if (t == NULL) {
        return;
    }

    if (plen) {
        ngx_memcpy(t, m->text, plen);
    }

    if (alen) {
        ngx_memcpy(t + plen, ctx->text, alen);
    }

    e->text = t;
    e->prompt_len = (uint32_t) plen;
    e->answer_len = (uint32_t) alen;
}


static void
ngx_gp_chat_cleanup(void *data)
{
    ngx_gp_chat_ctx_t  *ctx = data;

    ngx_gp_chat_record(ctx);

    if (ctx->key_count) {
        ngx_gp_cluster_key_cancel(ctx->key_count);
        ctx->key_count = NULL;
    }

    if (ctx->binding_get) {
        ngx_gp_cluster_binding_cancel(ctx->binding_get);
        ctx->binding_get = NULL;
    }

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->out.sse.flush.posted) {
        ngx_delete_posted_event(&ctx->out.sse.flush);
    }

    if (ctx->keepalive.timer_set) {
        ngx_del_timer(&ctx->keepalive);
    }

    if (ctx->xfer && ctx->xfer->added && !ctx->finished) {
        ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                      "gemini pool: upstream transfer cancelled");
    }

    ngx_gp_chat_drop_xfer(ctx);

    /* the account, a getoxsrf or a wait in progress */
    ngx_gp_upstream_finalize(&ctx->u);

    ngx_gp_jsonstream_free(&ctx->js);
    ngx_gp_chat_req_free(&ctx->req);
    free(ctx->prompt);
    free(ctx->session);
    free(ctx->text);
    free(ctx->reasoning);
    free(ctx->filtered);
    ngx_gp_tools_hold_free(&ctx->hold);
    ngx_gp_tools_answer_free(&ctx->calls);

    ngx_gp_release_worker();
}


static void
ngx_gp_chat_drop_xfer(ngx_gp_chat_ctx_t *ctx)
{
    if (ctx->xfer) {
        ngx_gp_xfer_destroy(ctx->xfer);
        ctx->xfer = NULL;
    }
}


static void
ngx_gp_chat_release(ngx_gp_chat_ctx_t *ctx, ngx_uint_t ok,
    const char *error)
{
    ngx_gp_upstream_release(&ctx->u, ok, error);
}


/* hashes a message as the conversation key sees it: role, then the
   text without white space (clients re-indent and trim), images counted */

static void
ngx_gp_chat_hash_text(ngx_md5_t *md5, const char *p, size_t len)
{
    size_t       i, k;
    u_char       c;
    u_char       buf[256];

    for (i = 0, k = 0; i < len; i++) {
        c = (u_char) p[i];

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        }

        buf[k++] = c;

        if (k == sizeof(buf)) {
            ngx_md5_update(md5, buf, k);
            k = 0;
        }
    }

    ngx_md5_update(md5, buf, k);
}


static void
ngx_gp_chat_hash_message(ngx_md5_t *md5, ngx_gp_message_t *m)
{
    size_t   i;
    u_char   head[32], *p;

    p = ngx_sprintf(head, "\x1e%ui:%uz:", (ngx_uint_t) m->role, m->nimages);
    ngx_md5_update(md5, head, p - head);
    ngx_gp_chat_hash_text(md5, m->text ? m->text : "", m->len);

    for (i = 0; i < m->ncalls; i++) {
        ngx_gp_chat_hash_call(md5, &m->calls[i]);
    }
}


/* an assistant's tool call: its id, name and arguments */

static void
ngx_gp_chat_hash_call(ngx_md5_t *md5, ngx_gp_tool_call_t *c)
{
    ngx_md5_update(md5, "\x1f", 1);
    ngx_md5_update(md5, c->id, ngx_strlen(c->id));
    ngx_md5_update(md5, "\x1f", 1);
    ngx_md5_update(md5, c->name, ngx_strlen(c->name));
    ngx_md5_update(md5, "\x1f", 1);
    ngx_gp_chat_hash_text(md5, c->arguments, ngx_strlen(c->arguments));
}


/*
 * The start of every conversation key: conversations of different API
 * keys never meet.  The key is named by its SHA-256, not its row id:
 * with several gateways (docs/cluster.md) the same key has a different
 * id on each, and a follow-up turn must find its binding on any of them.
 */

static void
ngx_gp_chat_key_head(ngx_gp_chat_ctx_t *ctx, ngx_md5_t *md5)
{
    ngx_md5_init(md5);
    ngx_md5_update(md5, "gemini-pool\x1f", sizeof("gemini-pool\x1f") - 1);

    if (ctx->key.id) {
        ngx_md5_update(md5, ctx->key.hash, sizeof(ctx->key.hash));
    }

    ngx_md5_update(md5, "\x1f", 1);
}


/*
 * A follow-up turn is recognised by its history: the key of a turn hashes
 * the API key and every message before the last user message; after the
 * answer, the binding moves to the key the next turn will have (the same
 * messages, the last user message and the answer).  An explicit
 * conversation_id is a key of its own.  Different API keys never share a
 * key.
 */

static void
ngx_gp_chat_keys(ngx_gp_chat_ctx_t *ctx)
{
    size_t               i, last;
    ngx_md5_t            md5;
    ngx_gp_chat_req_t   *req;

    req = &ctx->req;

    /* the turn's input: the last user message, or the tool results */
    last = ngx_gp_chat_input(req);

    if (last == req->nmessages) {
        return;
    }

    for (i = 0; i < last; i++) {
        if (req->messages[i].role != NGX_GP_ROLE_SYSTEM) {
            ctx->earlier_turns++;
        }
    }

    if (req->conversation_id) {
        ngx_gp_chat_id_key(ctx, req->conversation_id, ctx->conv_key);

        ctx->has_conv_key = 1;
        ctx->by_id = 1;
        return;
    }

    ngx_gp_chat_key_head(ctx, &md5);

    for (i = 0; i < last; i++) {
        ngx_gp_chat_hash_message(&md5, &req->messages[i]);
    }

    if (ctx->earlier_turns) {
        ctx->next_md5 = md5;
        ngx_md5_final(ctx->conv_key, &ctx->next_md5);
        ctx->has_conv_key = 1;
    }

    ngx_gp_chat_hash_message(&md5, &req->messages[last]);

    /* tool results: the whole input, as the next turn will hash it */
    if (req->messages[last].role == NGX_GP_ROLE_TOOL) {
        for (i = last + 1; i < req->nmessages; i++) {
            ngx_gp_chat_hash_message(&md5, &req->messages[i]);
        }
    }

    ngx_md5_update(&md5, "\x1e", 1);
    ngx_md5_update(&md5, "2:0:", 4);     /* the answer: an assistant turn */

    ctx->next_md5 = md5;
    ctx->answer_md5 = md5;
}


/* the key of a conversation named by an id (of this API key) */

static void
ngx_gp_chat_id_key(ngx_gp_chat_ctx_t *ctx, const char *id, u_char *key)
{
    ngx_md5_t   md5;

    ngx_gp_chat_key_head(ctx, &md5);
    ngx_md5_update(&md5, "id\x1f", 3);
    ngx_md5_update(&md5, id, ngx_strlen(id));
    ngx_md5_final(key, &md5);
}


/* a conversation that must exist is no longer bound (or too old) */

static ngx_uint_t
ngx_gp_chat_lost(ngx_gp_chat_ctx_t *ctx)
{
    time_t   created, max_age;
    int64_t  account_id;
    u_char   session[NGX_GP_SESSION_LEN];

    if (!ctx->by_id
        || ngx_gp_zone_binding_get(ctx->zone, ctx->conv_key, &account_id,
                                   &created, session)
           != NGX_OK)
    {
        return 1;
    }

    max_age = ngx_gp_setting_int(ctx->zone, NGX_GP_SET_SESSION_MAX_AGE);

    return max_age && ngx_time() - created >= max_age;
}


static ngx_int_t
ngx_gp_chat_set_prompt(ngx_gp_chat_ctx_t *ctx, ngx_uint_t replay)
{
    free(ctx->prompt);

    ctx->prompt = ngx_gp_chat_prompt(&ctx->req, replay ? 1 : 0,
                                     &ctx->prompt_len);
    if (ctx->prompt == NULL) {
        return NGX_ERROR;
    }

    ctx->usage.prompt_tokens = ngx_gp_estimate_tokens(ctx->prompt,
                                                      ctx->prompt_len);
    return NGX_OK;
}


static void
ngx_gp_chat_attempt(ngx_gp_chat_ctx_t *ctx)
{
    ctx->fail = 0;
    ctx->bound = 0;

    /* a new session: the turn's files are uploaded into it again */
    ngx_gp_input_restart(ctx->in);

    ngx_gp_upstream_start(&ctx->u);
}


/* an account, its JWT and a session: the turn's own calls follow */

static void
ngx_gp_chat_ready(ngx_gp_upstream_t *u)
{
    ngx_gp_chat_ctx_t  *ctx = u->data;

    free(ctx->session);
    ctx->session = u->session;
    u->session = NULL;

    ctx->session_created = u->session_created;
    ctx->bound = u->bound;
    ngx_memcpy(ctx->account_name, ctx->acct->name, NGX_GP_NAME_LEN);
    ctx->account_id = ctx->acct->id;

    /* a new session must learn the earlier turns: replay them */
    if (ngx_gp_chat_set_prompt(ctx, ctx->earlier_turns > 0 && !u->resumed)
        != NGX_OK)
    {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0, "out of memory");
        return;
    }

    ngx_gp_chat_upload(ctx);
}


/* no account, or no JWT or session on the account chosen */

static void
ngx_gp_chat_no_upstream(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_chat_ctx_t   *ctx = u->data;
    ngx_gp_oai_error_t   err;

    if (f->kind == NGX_GP_FAIL_NONE) {
        ngx_gp_upstream_action(u, NULL);
        ngx_gp_upstream_error(f, NULL, &err);

        if (f->retry_after) {
            ngx_gp_retry_after(ctx->r, f->retry_after);
        }

        ngx_gp_chat_error(ctx, &err);
        return;
    }

    if (f->status) {
        ctx->upstream_status = f->status;
    }

    if (ctx->acct->id) {
        ngx_memcpy(ctx->account_name, ctx->acct->name, NGX_GP_NAME_LEN);
        ctx->account_id = ctx->acct->id;
    }

    /* a bound session's account that fails loses the binding */
    ctx->bound = u->bound;

    if (u->session) {
        /* the call log names the session */
        free(ctx->session);
        ctx->session = u->session;
        u->session = NULL;
    }

    ngx_gp_chat_fail(ctx, f->kind, f->status, "%s", f->msg);
}


/* the turn's images and files go into the session, one at a time */

static void
ngx_gp_chat_upload(ngx_gp_chat_ctx_t *ctx)
{
    ngx_gp_xfer_t  *x;

    if (!ngx_gp_input_pending(ctx->in)) {
        ngx_gp_chat_stream(ctx);
        return;
    }

    ngx_gp_upstream_action(&ctx->u, "uploading a file");

    x = ngx_gp_input_upload(ctx->in, ctx->acct, ctx->session,
                            ctx->r->connection->log);
    if (x == NULL) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start widgetAddContextFile");
        return;
    }

    x->on_done = ngx_gp_chat_upload_done;
    x->data = ctx;
    ctx->xfer = x;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start widgetAddContextFile");
    }
}


static void
ngx_gp_chat_upload_done(ngx_gp_xfer_t *x)
{
    ngx_gp_chat_ctx_t  *ctx = x->data;

    if (x->result != CURLE_OK || x->status != 200) {
        ngx_gp_chat_upstream_error(ctx, x);
        return;
    }

    if (ngx_gp_input_uploaded(ctx->in, x) != NGX_OK) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_SERVER, 200,
                         "widgetAddContextFile answered without a fileId");
        return;
    }

    ngx_gp_chat_drop_xfer(ctx);
    ngx_gp_chat_upload(ctx);
}


static void
ngx_gp_chat_stream(ngx_gp_chat_ctx_t *ctx)
{
    char             *body;
    size_t            len;
    ngx_gp_xfer_t    *x;
    ngx_gp_assist_t   a;

    ngx_gp_upstream_action(&ctx->u, "reading the answer stream");

    ngx_memzero(&a, sizeof(ngx_gp_assist_t));

    a.team_id = (char *) ctx->acct->team_id;
    a.session = ctx->session;
    a.text = ctx->prompt;
    a.text_len = ctx->prompt_len;
    a.file_ids = ngx_gp_input_ids(ctx->in, &a.nfile_ids);
    a.model_id = ctx->omit_model ? NULL : (char *) ctx->model.model_id;
    a.tools = ctx->model.kind == NGX_GP_MODEL_IMAGE ? NGX_GP_TOOLS_IMAGE
              : ctx->model.kind == NGX_GP_MODEL_VIDEO ? NGX_GP_TOOLS_VIDEO
              : NGX_GP_TOOLS_DEFAULT;

    body = ngx_gp_body_stream_assist(&a, &len);
    if (body == NULL) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0, "out of memory");
        return;
    }

    x = ngx_gp_gemini_widget(ctx->gmcf, ctx->acct, "widgetStreamAssist",
                             body, len, 0, ctx->r->connection->log);
    if (x == NULL) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start widgetStreamAssist");
        return;
    }

    x->on_data = ngx_gp_chat_data;
    x->on_done = ngx_gp_chat_stream_done;
    x->data = ctx;
    x->max = 64 * 1024;
    ctx->xfer = x;

    ngx_gp_jsonstream_free(&ctx->js);
    ngx_gp_jsonstream_init(&ctx->js, 0);

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                         "cannot start widgetStreamAssist");
        return;
    }

    /* the first byte must come within stream_timeout */
    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_add_timer(&ctx->timer, ctx->gmcf->stream_timeout);

    if (ctx->stream && ctx->glcf->keepalive && !ctx->keepalive.timer_set) {
        ngx_add_timer(&ctx->keepalive, ctx->glcf->keepalive);
    }
}


static size_t
ngx_gp_chat_data(ngx_gp_xfer_t *x, char *p, size_t len)
{
    int                 rc;
    u_char             *nb;
    ngx_gp_chat_ctx_t  *ctx = x->data;

    if (x->status == 0) {
        (void) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
                                 &x->status);
        ctx->upstream_status = x->status;
    }

    if (x->status != 200) {
        /* an error body: keep its start for the message */
        len = ngx_min(len, x->max - x->len);

        if (len) {
            nb = realloc(x->buf, x->len + len + 1);
            if (nb == NULL) {
                return 0;
            }

            x->buf = nb;
            ngx_memcpy(x->buf + x->len, p, len);
            x->len += len;
            x->buf[x->len] = '\0';
        }

        return len ? len : 1;
    }

    if (ctx->stream
        && (ctx->out.sse.busy || ctx->out.sse.pending_size >= 16384))
    {
        /* the client has not taken what we sent: hold the upstream */
        x->paused = 1;

        if (ctx->timer.timer_set) {
            ngx_del_timer(&ctx->timer);
        }

        return CURL_WRITEFUNC_PAUSE;
    }

    /* data: from now on, the idle limit */
    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_add_timer(&ctx->timer, ctx->gmcf->idle_timeout);

    ctx->out.sse.defer = ctx->stream;
    rc = ngx_gp_jsonstream_feed(&ctx->js, p, len, ngx_gp_chat_element, ctx);
    ctx->out.sse.defer = 0;

    if (rc == NGX_GP_JS_ERROR) {
        ctx->fail = NGX_GP_FAIL_NETWORK;
        ngx_snprintf((u_char *) ctx->fail_msg, sizeof(ctx->fail_msg) - 1,
                     "malformed upstream stream: %s%Z",
                     ctx->js.error ? ctx->js.error : "syntax error");
        return 0;
    }

    if (rc == NGX_GP_JS_STOPPED) {
        return 0;
    }

    return len;
}


static ngx_int_t
ngx_gp_chat_append(u_char **buf, size_t *len, size_t *cap, size_t max,
    const char *p, size_t n)
{
    size_t   want;
    u_char  *nb;

    if (*len + n > max) {
        return NGX_DECLINED;
    }

    if (*len + n + 1 > *cap) {
        want = ngx_max(*cap * 2, *len + n + 1);
        want = ngx_max(want, 1024);

        nb = realloc(*buf, want);
        if (nb == NULL) {
            return NGX_ERROR;
        }

        *buf = nb;
        *cap = want;
    }

    ngx_memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_gp_chat_emit(ngx_gp_chat_ctx_t *ctx, ngx_uint_t thought, const char *p,
    size_t len)
{
    size_t      want;
    u_char     *nb;
    ngx_int_t   rc;

    if (len == 0) {
        return NGX_OK;
    }

    if (!thought && !ctx->flushing) {
        /* the artefact lines of image turns go, wherever they are cut */
        if (len + sizeof(ctx->artefact.held) > ctx->filtered_cap) {
            /* grown in steps: fragments come in all lengths */
            want = ngx_max(len + sizeof(ctx->artefact.held),
                           ngx_max(ctx->filtered_cap * 2, 512));

            nb = realloc(ctx->filtered, want);
            if (nb == NULL) {
                return NGX_ERROR;
            }

            ctx->filtered = nb;
            ctx->filtered_cap = want;
        }

        len = ngx_gp_artefact_filter(&ctx->artefact, (u_char *) p, len,
                                     ctx->filtered);
        p = (char *) ctx->filtered;

        if (len == 0) {
            return NGX_OK;
        }
    }

    if (thought) {
        ctx->got_thought = 1;

        if (!ctx->show_thoughts) {
            return NGX_OK;
        }

    } else {
        ctx->got_text = 1;
        ctx->usage.completion_tokens += ngx_gp_estimate_tokens(p, len);

        if (!ctx->by_id && !ctx->out.tools) {
            /* the next turn's key; a conversation_id is a key itself */
            ngx_gp_chat_hash_text(&ctx->next_md5, p, len);
        }
    }

    ctx->useful = 1;

    if (ctx->stream) {
        if (!thought && ctx->history_max && ctx->text_len < ctx->history_max
            && ngx_gp_chat_append(&ctx->text, &ctx->text_len, &ctx->text_cap,
                                  ctx->history_max + 4, p,
                                  ngx_min(len, ctx->history_max + 4
                                               - ctx->text_len))
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        if (ctx->out.tools && !thought) {
            /* the text from a possible call on waits for the end */
            if (ngx_gp_tools_feed(&ctx->hold, p, len, ctx->glcf->max_answer,
                                  &p, &len)
                != 0)
            {
                ctx->overflow = 1;
                return NGX_ERROR;
            }

            if (len == 0) {
                return NGX_OK;
            }

            if (!ctx->by_id) {
                ngx_gp_chat_hash_text(&ctx->next_md5, p, len);
            }
        }

        if (!ctx->out.sse.header_sent) {
            ngx_gp_chat_ttfb(ctx);
        }

        rc = ctx->out.surface->delta(&ctx->out, p, len, thought);

        if (rc == NGX_DECLINED) {
            /* a surface that keeps the answer has kept the most it may */
            ctx->overflow = 1;
            return NGX_ERROR;
        }

        if (rc == NGX_ERROR) {
            ctx->client_error = 1;
            return NGX_ERROR;
        }

        /* NGX_AGAIN: the next data waits for the client (back-pressure) */
        return NGX_OK;
    }

    rc = thought
         ? ngx_gp_chat_append(&ctx->reasoning, &ctx->reasoning_len,
                              &ctx->reasoning_cap, ctx->glcf->max_answer,
                              p, len)
         : ngx_gp_chat_append(&ctx->text, &ctx->text_len, &ctx->text_cap,
                              ctx->glcf->max_answer, p, len);

    if (rc == NGX_DECLINED) {
        ctx->overflow = 1;
        return NGX_ERROR;
    }

    return rc;
}


/* one complete element of the upstream array */

static int
ngx_gp_chat_element(void *data, const char *p, size_t len)
{
    size_t               i;
    ngx_gp_part_t       *part;
    const char          *err;
    ngx_gp_element_t     e;
    ngx_gp_chat_ctx_t   *ctx = data;
    u_char               msg[256];

    if (ngx_gp_element_decode(p, len, &e, &err) != 0) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "gemini pool: undecodable upstream element "
                      "ignored: %s", err);
        ngx_gp_element_free(&e);
        return 0;
    }

    if (e.is_error) {
        ctx->fail = ngx_gp_rules_stream_error(e.error.code, e.error.reason,
                                              e.error.message);
        ctx->fail_status = e.error.code;
        ctx->stream_error = 1;
        ngx_snprintf((u_char *) ctx->fail_msg, sizeof(ctx->fail_msg) - 1,
                     "upstream error in stream: %d %s%Z", e.error.code,
                     e.error.message ? e.error.message : "");
        ngx_gp_element_free(&e);
        return 1;
    }

    if (e.session && (ctx->session == NULL
                      || ngx_strcmp(ctx->session, e.session) != 0))
    {
        free(ctx->session);
        ctx->session = e.session;
        e.session = NULL;
    }

    for (i = 0; i < e.nparts; i++) {
        part = &e.parts[i];

        if (part->kind == NGX_GP_PART_FILE
            || part->kind == NGX_GP_PART_INLINE)
        {
            if (ngx_gp_chat_media_part(ctx, part) != NGX_OK) {
                ngx_gp_element_free(&e);
                return 1;
            }

            continue;
        }

        if (ngx_gp_chat_emit(ctx, part->kind == NGX_GP_PART_THOUGHT,
                             part->text, part->len)
            != NGX_OK)
        {
            ngx_gp_element_free(&e);
            return 1;
        }
    }

    if (e.state == NGX_GP_STATE_SUCCEEDED) {
        ctx->complete = 1;
    }

    if (e.state == NGX_GP_STATE_SKIPPED) {
        ctx->complete = 1;
        ctx->finish_reason = "content_filter";

        ngx_snprintf(msg, sizeof(msg) - 1,
                     "The upstream declined to answer this request "
                     "(%s).%Z", e.skipped ? e.skipped : "policy");

        if (ngx_gp_chat_emit(ctx, 0, (char *) msg, ngx_strlen(msg))
            != NGX_OK)
        {
            ngx_gp_element_free(&e);
            return 1;
        }
    }

    ngx_gp_element_free(&e);

    return 0;
}


static void
ngx_gp_chat_stream_done(ngx_gp_xfer_t *x)
{
    ngx_int_t           rc;
    ngx_gp_chat_ctx_t  *ctx = x->data;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->client_error) {
        /* the client went away: not the account's fault */
        ngx_gp_upstream_action(&ctx->u, NULL);
        ngx_gp_chat_drop_xfer(ctx);
        ngx_gp_chat_release(ctx, 1, NULL);
        ngx_http_finalize_request(ctx->r, NGX_ERROR);
        return;
    }

    if (ctx->overflow) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                         "the answer exceeds gemini_pool_max_answer_size "
                         "(%zu bytes); raise it%s",
                         ctx->glcf->max_answer,
                         ctx->stream ? "" : " or use \"stream\": true");
        return;
    }

    if (ctx->fail) {
        /* set by the element callback: in-stream error or bad stream */
        ngx_gp_chat_fail(ctx, ctx->fail, ctx->fail_status, "%s",
                         ctx->fail_msg);
        return;
    }

    if (x->result != CURLE_OK || x->status != 200) {
        ngx_gp_chat_upstream_error(ctx, x);
        return;
    }

    if (!ngx_gp_jsonstream_complete(&ctx->js) && !ctx->complete) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_NETWORK, 200,
                         "the upstream stream ended prematurely");
        return;
    }

    if (ctx->artefact.nheld) {
        /* held back as a possible artefact: it was not one */
        ctx->flushing = 1;
        rc = ngx_gp_chat_emit(ctx, 0, (char *) ctx->artefact.held,
                              ctx->artefact.nheld);
        ctx->artefact.nheld = 0;
        ctx->artefact.midline = 1;
        ctx->flushing = 0;

        if (rc != NGX_OK) {
            ngx_gp_chat_fail(ctx, NGX_GP_FAIL_INTERNAL, 0,
                             "cannot send the answer");
            return;
        }
    }

    if (!ctx->got_text && ngx_gp_media_count(ctx->media) == 0
        && ngx_strcmp(ctx->finish_reason, "content_filter") != 0)
    {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_EMPTY, 200,
                         "the upstream answered with %s",
                         ctx->got_thought ? "thoughts only" : "no text");
        return;
    }

    ngx_gp_upstream_action(&ctx->u, NULL);

    ngx_gp_chat_media_fetch(ctx);
}


/* classify a finished transfer that failed */

static void
ngx_gp_chat_upstream_error(ngx_gp_chat_ctx_t *ctx, ngx_gp_xfer_t *x)
{
    ngx_gp_failure_t  f;

    if (x->status) {
        ctx->upstream_status = x->status;
    }

    if (ctx->timed_out) {
        ngx_gp_chat_fail(ctx, NGX_GP_FAIL_TIMEOUT, 0, "%s timed out",
                         x->what);
        return;
    }

    (void) ngx_gp_upstream_classify(x, &f);

    ngx_gp_chat_fail(ctx, f.kind, f.status, "%s", f.msg);
}


static void
ngx_gp_chat_fail(ngx_gp_chat_ctx_t *ctx, ngx_uint_t kind, long status,
    const char *fmt, ...)
{
    char                *msg;
    va_list              args;
    ngx_uint_t           retry;
    ngx_gp_verdict_t     v;
    ngx_gp_failure_t     f;
    ngx_gp_oai_error_t   err;

    f.kind = kind;
    f.status = status;
    f.retry_after = 0;
    msg = f.msg;

    va_start(args, fmt);
    (void) vsnprintf(msg, sizeof(f.msg), fmt, args);
    va_end(args);

    ctx->last_fail = kind;
    ngx_cpystrn(ctx->last_error, (u_char *) msg, sizeof(ctx->last_error));

    ngx_gp_chat_drop_xfer(ctx);

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (!ctx->out.sse.header_sent
        && ngx_gp_upstream_spare_refused(&ctx->u, &f))
    {
        /* a spare session gone upstream: a new one, same account */
        ctx->fail = 0;
        ctx->bound = 0;
        ngx_gp_chat_reset(ctx);
        ngx_gp_input_restart(ctx->in);
        ngx_gp_upstream_renew(&ctx->u);
        return;
    }

    /* counted, the account cooled down and released, one line logged */
    retry = ngx_gp_upstream_next(&ctx->u, &f, !ctx->out.sse.header_sent,
                                 &v);

    if (v.drop_session && ctx->bound && ctx->has_conv_key) {
        ngx_gp_zone_binding_delete(ctx->zone, ctx->conv_key);
        ngx_gp_cluster_binding_delete(ctx->conv_key);
    }

    if (v.omit_model) {
        ctx->omit_model = 1;
    }

    if (ctx->out.sse.header_sent) {
        /* the answer has started: the surface sends the error */
        ngx_gp_upstream_error(&f, NULL, &err);
        (void) ctx->out.surface->stop(&ctx->out, &err);
        ngx_gp_chat_finish(ctx);
        return;
    }

    if (retry) {
        ngx_gp_chat_reset(ctx);
        ngx_gp_chat_attempt(ctx);
        return;
    }

    /* an unsupported file type, a file the session lacks, ... */
    ngx_gp_upstream_error(&f, NULL, &err);

    ngx_shmtx_lock(&ctx->zone->shpool->mutex);
    ctx->zone->sh->errors++;
    ngx_shmtx_unlock(&ctx->zone->shpool->mutex);

    ngx_gp_chat_error(ctx, &err);
}


/* before another attempt: nothing of the failed one's answer is kept */

static void
ngx_gp_chat_reset(ngx_gp_chat_ctx_t *ctx)
{
    ngx_gp_jsonstream_free(&ctx->js);
    ctx->useful = 0;
    ctx->got_text = 0;
    ctx->got_thought = 0;
    ctx->complete = 0;
    ctx->stream_error = 0;
    ctx->text_len = 0;
    ctx->reasoning_len = 0;
    ctx->usage.completion_tokens = 0;
    ctx->finish_reason = "stop";
    ctx->timed_out = 0;
    ctx->next_md5 = ctx->answer_md5;
    ngx_gp_tools_hold_free(&ctx->hold);
    ngx_gp_media_reset(ctx->media);
    ngx_memzero(&ctx->artefact, sizeof(ngx_gp_artefact_t));
}


static void
ngx_gp_chat_ttfb(ngx_gp_chat_ctx_t *ctx)
{
    ngx_time_t  *tp;

    if (ctx->ttfb >= 0) {
        return;
    }

    tp = ngx_timeofday();

    ctx->ttfb = (ngx_msec_int_t) ((tp->sec - ctx->r->start_sec) * 1000
                                  + (tp->msec - ctx->r->start_msec));
    ctx->ttfb = ngx_max(ctx->ttfb, 0);
}


/* after a successful turn the conversation's next turn finds its session */

static void
ngx_gp_chat_bind(ngx_gp_chat_ctx_t *ctx)
{
    u_char  key[NGX_GP_KEY_LEN];

    if (ctx->session == NULL || ctx->acct->id == 0) {
        return;
    }

    if (ctx->req.conversation_next) {
        /* the id a next turn names (the Responses API's response id) */
        ngx_gp_chat_id_key(ctx, ctx->req.conversation_next, key);
        ngx_gp_zone_binding_set(ctx->zone, key, ctx->acct->id,
                                ctx->session_created, ctx->session);
        ngx_gp_cluster_binding_put(key, ctx->acct->name,
                                   ctx->session_created, ctx->session);
    }

    if (ctx->by_id) {
        ngx_gp_zone_binding_set(ctx->zone, ctx->conv_key, ctx->acct->id,
                                ctx->session_created, ctx->session);
        ngx_gp_cluster_binding_put(ctx->conv_key, ctx->acct->name,
                                   ctx->session_created, ctx->session);
        return;
    }

    ngx_md5_final(key, &ctx->next_md5);

    ngx_gp_zone_binding_set(ctx->zone, key, ctx->acct->id,
                            ctx->session_created, ctx->session);
    ngx_gp_cluster_binding_put(key, ctx->acct->name, ctx->session_created,
                               ctx->session);

    if (ctx->has_conv_key) {
        ngx_gp_zone_binding_delete(ctx->zone, ctx->conv_key);
        ngx_gp_cluster_binding_delete(ctx->conv_key);
    }
}


static void
ngx_gp_chat_finish(ngx_gp_chat_ctx_t *ctx)
{
    ngx_gp_answer_t      a;
    ngx_http_request_t  *r;

    r = ctx->r;
    ctx->finished = 1;

    if (ctx->keepalive.timer_set) {
        ngx_del_timer(&ctx->keepalive);
    }

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_gp_chat_drop_xfer(ctx);

    if (ctx->out.tools && !ctx->out.error_sent
        && ngx_gp_chat_tools_end(ctx) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (!ctx->out.error_sent && ngx_gp_media_count(ctx->media)
        && ngx_gp_chat_media_out(ctx) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (ctx->acct->id) {
        if (!ctx->out.error_sent) {
            ngx_gp_chat_bind(ctx);
        }

        ngx_gp_chat_release(ctx, 1, NULL);
    }

    ngx_gp_chat_ttfb(ctx);

    a.text = ctx->text;
    a.text_len = ctx->text_len;
    a.reasoning = ctx->reasoning;
    a.reasoning_len = ctx->reasoning_len;
    a.finish_reason = ctx->finish_reason;
    a.usage = ctx->usage;
    a.media = ctx->media;
    a.calls = NULL;
    a.ncalls = 0;

    if (ctx->out.tools && !ctx->out.error_sent) {
        a.calls = ctx->calls.calls;
        a.ncalls = ctx->calls.ncalls;

        if (!ctx->stream) {
            /* the text without the calls, and the media links after it */
            if (ctx->text_len > ctx->calls_from
                && ngx_gp_chat_tools_links(ctx) != NGX_OK)
            {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            a.text = (u_char *) ctx->calls.text;
            a.text_len = ctx->calls.text_len;
        }
    }

    ngx_http_finalize_request(r, ctx->out.surface->finish(&ctx->out, &a));
}


/*
 * The end of an answer to a turn with tools: the calls out of the text
 * (the held text of a streamed answer), the rest of the text sent, the
 * next turn's key hashed as the client will send this answer back.
 */

static ngx_int_t
ngx_gp_chat_tools_end(ngx_gp_chat_ctx_t *ctx)
{
    size_t               i, len;
    ngx_int_t            rc;
    const char          *p;
    ngx_gp_tool_call_t  *c;
    u_char               base[32];

    if (ctx->stream) {
        p = ngx_gp_tools_held(&ctx->hold, &len);

    } else {
        p = (char *) ctx->text;
        len = ctx->text_len;
        ctx->calls_from = len;
    }

    ngx_sprintf(base, "%08xD%08xD%08xD%Z", (uint32_t) ngx_random(),
                (uint32_t) ngx_random(), (uint32_t) ngx_random());

    if (ngx_gp_tools_parse(p, len, ctx->req.tools, ctx->req.ntools,
                           !ctx->req.no_parallel, (char *) base, &ctx->calls)
        != 0)
    {
        return NGX_ERROR;
    }

    if (ctx->calls.ncalls) {
        ctx->finish_reason = "tool_calls";
    }

    if (!ctx->by_id) {
        ngx_gp_chat_hash_text(&ctx->next_md5, ctx->calls.text,
                              ctx->calls.text_len);

        for (i = 0; i < ctx->calls.ncalls; i++) {
            c = &ctx->calls.calls[i];
            ngx_gp_chat_hash_call(&ctx->next_md5, c);
        }
    }

    if (!ctx->stream || ctx->calls.text_len == 0) {
        return NGX_OK;
    }

    /* what was held and is not a call goes as text */

    if (!ctx->out.sse.header_sent) {
        ngx_gp_chat_ttfb(ctx);
    }

    rc = ctx->out.surface->delta(&ctx->out, ctx->calls.text,
                                 ctx->calls.text_len, 0);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


/* the media links added to a non-stream answer after its calls parsed */

static ngx_int_t
ngx_gp_chat_tools_links(ngx_gp_chat_ctx_t *ctx)
{
    char    *p;
    size_t   n;

    n = ctx->text_len - ctx->calls_from;

    p = realloc(ctx->calls.text, ctx->calls.text_len + n + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p + ctx->calls.text_len, ctx->text + ctx->calls_from, n);
    ctx->calls.text = p;
    ctx->calls.text_len += n;
    p[ctx->calls.text_len] = '\0';
    ctx->calls_from = ctx->text_len;

    return NGX_OK;
}


/* a media part of a streamed element: kept for after the text */

static ngx_int_t
ngx_gp_chat_media_part(ngx_gp_chat_ctx_t *ctx, ngx_gp_part_t *part)
{
    if (ctx->media == NULL) {
        ctx->media = ngx_gp_media_create(ctx->r);
    }

    if (ctx->media == NULL || ngx_gp_media_add(ctx->media, part) != NGX_OK) {
        ctx->fail = NGX_GP_FAIL_INTERNAL;
        ngx_cpystrn((u_char *) ctx->fail_msg,
                    (u_char *) "cannot keep a generated file",
                    sizeof(ctx->fail_msg));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The text has ended: the turn's files are fetched into the media cache
 * before the answer ends (SSE keep-alives go on meanwhile).
 */

static void
ngx_gp_chat_media_fetch(ngx_gp_chat_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ngx_gp_media_count(ctx->media) == 0) {
        ngx_gp_chat_finish(ctx);
        return;
    }

    ngx_gp_chat_drop_xfer(ctx);

    rc = ngx_gp_media_fetch(ctx->media, ctx->acct, ctx->session,
                            ctx->out.inline_images, ngx_gp_chat_media_done,
                            ctx);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_gp_chat_finish(ctx);
}


static void
ngx_gp_chat_media_done(void *data)
{
    ngx_gp_chat_ctx_t  *ctx = data;

    ngx_gp_chat_finish(ctx);
}


/*
 * The media after the text, as the surface delivers them; or as text
 * (the markdown and url formats): appended to the answer, or one more
 * delta.
 */

static ngx_int_t
ngx_gp_chat_media_out(ngx_gp_chat_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  text;

    rc = ctx->out.surface->media(&ctx->out, ctx->media);

    if (rc != NGX_DECLINED) {
        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }

    if (ngx_gp_media_text(ctx->media, ctx->out.image_format,
                          ctx->got_text ? (ctx->artefact.midline ? 1 : 2) : 0,
                          &text)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the next turn sends the links back as part of this answer */
    ngx_gp_chat_hash_text(&ctx->next_md5, (char *) text.data, text.len);

    if (ctx->stream) {
        /* the history keeps the links too */
        if (ctx->history_max && ctx->text_len < ctx->history_max
            && ngx_gp_chat_append(&ctx->text, &ctx->text_len,
                                  &ctx->text_cap, ctx->history_max + 4,
                                  (char *) text.data,
                                  ngx_min(text.len, ctx->history_max + 4
                                                    - ctx->text_len))
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        if (!ctx->out.sse.header_sent) {
            ngx_gp_chat_ttfb(ctx);
        }

        rc = ctx->out.surface->delta(&ctx->out, (char *) text.data, text.len,
                                     0);

        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }

    rc = ngx_gp_chat_append(&ctx->text, &ctx->text_len, &ctx->text_cap,
                            ctx->glcf->max_answer + text.len,
                            (char *) text.data, text.len);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


/* the events of one upstream read leave together */

static void
ngx_gp_chat_flush_handler(ngx_event_t *ev)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_gp_chat_ctx_t   *ctx;

    c = ev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    if (ctx == NULL || ctx->out.sse.pending == NULL) {
        return;
    }

    rc = ngx_gp_sse_flush(&ctx->out.sse);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (!ctx->out.sse.busy && ctx->xfer && ctx->xfer->paused) {
        ngx_add_timer(&ctx->timer, ctx->gmcf->idle_timeout);

        /* may run completion handlers: r may be gone afterwards */
        ngx_gp_xfer_resume(ctx->xfer);
    }
}


/* the client can take more: flush, then let the upstream go on */

static void
ngx_gp_chat_writer(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_event_t         *wev;
    ngx_gp_chat_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);
    wev = r->connection->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "gemini pool: client timed out");
        r->connection->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ctx == NULL || !ctx->out.sse.header_sent) {
        return;
    }

    rc = ngx_gp_sse_writer(&ctx->out.sse);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (rc == NGX_AGAIN) {
        return;
    }

    if (ctx->xfer && ctx->xfer->paused) {
        ngx_add_timer(&ctx->timer, ctx->gmcf->idle_timeout);

        /* may run completion handlers: r may be gone afterwards */
        ngx_gp_xfer_resume(ctx->xfer);
    }
}


static void
ngx_gp_chat_timer_handler(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_gp_chat_ctx_t   *ctx;

    c = ev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    if (ctx->xfer == NULL) {
        return;
    }

    ctx->timed_out = 1;
    ngx_gp_chat_fail(ctx, NGX_GP_FAIL_TIMEOUT, 0, "%s timed out (%s)",
                     ctx->xfer->what,
                     ctx->js.elements || ctx->js.len ? "idle"
                                                     : "first byte");
}


static void
ngx_gp_chat_keepalive_handler(ngx_event_t *ev)
{
    ngx_msec_t           idle;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_gp_chat_ctx_t   *ctx;

    c = ev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    idle = ngx_current_msec - ctx->out.sse.last_output;

    if (!ctx->out.sse.header_sent || idle >= ctx->glcf->keepalive) {

        if (!ctx->out.sse.busy) {
            /* a silence this long commits the response */
            if (!ctx->out.sse.header_sent) {
                ngx_gp_chat_ttfb(ctx);

                if (ctx->out.surface->begin(&ctx->out) != NGX_OK) {
                    ngx_http_finalize_request(r, NGX_ERROR);
                    return;
                }
            }

            if (ngx_gp_sse_keepalive(&ctx->out.sse) == NGX_ERROR) {
                ngx_http_finalize_request(r, NGX_ERROR);
                return;
            }
        }

        idle = 0;
    }

    ngx_add_timer(ev, ctx->glcf->keepalive - idle);
}


/* the variables of this request, for log_format */

ngx_int_t
ngx_gp_chat_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char             *p;
    ngx_gp_chat_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    /* the 413 filter keeps a string there, not a chat context */
    if (ctx == NULL || ctx->r != r) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + NGX_GP_MODEL_LEN + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    switch (data) {

    case NGX_GP_VAR_ACCOUNT:
        p = ngx_sprintf(p, "%s", ctx->account_name);
        break;

    case NGX_GP_VAR_ATTEMPTS:
        p = ngx_sprintf(p, "%ui", ctx->u.attempts);
        break;

    case NGX_GP_VAR_UPSTREAM_STATUS:
        if (ctx->upstream_status == 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_sprintf(p, "%l", ctx->upstream_status);
        break;

    case NGX_GP_VAR_MODEL:
        p = ngx_sprintf(p, "%s", ctx->model.name);
        break;

    case NGX_GP_VAR_TTFB:
        if (ctx->ttfb < 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_sprintf(p, "%T.%03M", (time_t) ctx->ttfb / 1000,
                        (ngx_msec_t) ctx->ttfb % 1000);
        break;

    case NGX_GP_VAR_CONVERSATION:
        p = ngx_sprintf(p, "%s", ctx->bound ? "follow-up"
                                 : ctx->earlier_turns ? "replay" : "new");
        break;

    case NGX_GP_VAR_API_KEY:
        if (ctx->key.id == 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_sprintf(p, "%s", ctx->key.name);
        break;

    default:
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


void
ngx_gp_chat_count(ngx_http_request_t *r, const ngx_gp_surface_t *surface,
    ngx_uint_t data, const char *unknown, const char *unknown_end,
    const char *key)
{
    char                *prompt;
    size_t               len;
    u_char              *p, buf[96];
    ngx_int_t            rc;
    ngx_str_t            body, name;
    ngx_gp_key_t         k;
    ngx_gp_model_t       m;
    ngx_gp_reply_t       o;
    ngx_gp_chat_req_t    req;
    ngx_gp_oai_error_t   err;

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&o, sizeof(ngx_gp_reply_t));
    ngx_memzero(&req, sizeof(ngx_gp_chat_req_t));
    o.r = r;
    o.surface = surface;
    o.req = &req;
    o.data = data;

    if (surface->parse(&o, &body, &err) != NGX_OK) {
        goto error;
    }

    name.data = (u_char *) req.model;
    name.len = ngx_strlen(req.model);

    if (ngx_gp_zone_model(ngx_gp_zone(), &name, &m) != NGX_OK) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                             "invalid_request_error", NULL, NULL,
                             "%s%.*s%s", unknown,
                             (int) ngx_min(name.len, 100), name.data,
                             unknown_end);
        goto error;
    }

    rc = ngx_gp_api_key_check(r, &name, &k, &err);

    if (rc == NGX_ERROR) {
        ngx_gp_chat_req_free(&req);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK) {
        goto error;
    }

    prompt = ngx_gp_chat_prompt(&req, 1, &len);
    ngx_gp_chat_req_free(&req);

    if (prompt == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_snprintf(buf, sizeof(buf), "{\"%s\":%uL}", key,
                     ngx_gp_estimate_tokens(prompt, len));
    free(prompt);

    ngx_http_finalize_request(r, ngx_gp_send_json(r, NGX_HTTP_OK, buf,
                                                  p - buf));
    return;

error:

    ngx_gp_chat_req_free(&req);
    ngx_http_finalize_request(r, surface->error(&o, &err));
}
