
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Client surfaces: the API a client speaks (OpenAI chat completions, the
 * OpenAI images API, ...) on top of one neutral chat turn.  chat.c runs
 * the turn (accounts, upstream, text, media) and hands every piece of
 * output to the request's surface, which renders it in its own shape:
 * the request body into a ngx_gp_chat_req_t, the answer's streamed
 * pieces, its end, and errors (the neutral ngx_gp_oai_error_t: status,
 * type, code, param, message).
 *
 * A new surface is one file that defines a const ngx_gp_surface_t and one
 * line in api.c's dispatch: ngx_gp_chat_handler(r, &its_surface) (and one
 * in ngx_gp_api_surface() if its errors are not OpenAI's).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_SURFACE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_SURFACE_H_INCLUDED_


typedef struct ngx_gp_surface_s  ngx_gp_surface_t;


/* a turn's response as the surface sees it; in the chat context */
typedef struct {
    ngx_http_request_t        *r;
    const ngx_gp_surface_t    *surface;
    ngx_gp_sse_t               sse;          /* streamed answers */

    ngx_gp_chat_req_t         *req;          /* parse() fills it */
    const char                *model;        /* the name answers carry */
    time_t                     created;
    ngx_uint_t                 image_format; /* NGX_GP_FMT_* */
    u_char                     id[40];       /* the surface's, NUL-ended */
    ngx_uint_t                 data;         /* the surface's own */
    const ngx_gp_usage_t      *usage;        /* the turn's, so far */

    unsigned                   stream:1;
    unsigned                   tools:1;      /* calls are parsed: delta()
                                                gets text only, finish()
                                                the calls */
    unsigned                   role_sent:1;  /* the first delta went */
    unsigned                   error_sent:1; /* stop() ended the stream */
    unsigned                   inline_images:1; /* the answer inlines its
                                                   images (b64_json): they
                                                   go to no image host */
} ngx_gp_reply_t;


/* the whole answer, at its end */
typedef struct {
    const u_char              *text;
    size_t                     text_len;
    const u_char              *reasoning;    /* NULL: none */
    size_t                     reasoning_len;
    const char                *finish_reason; /* "stop", "tool_calls",
                                                 "content_filter" ... */
    ngx_gp_usage_t             usage;
    ngx_gp_media_t            *media;        /* NULL: none */

    /* the model's tool calls (TOOLS-API.md): ncalls 0 when none; then
       finish_reason is "tool_calls" and text the prose around them */
    ngx_gp_tool_call_t        *calls;
    size_t                     ncalls;
} ngx_gp_answer_t;


struct ngx_gp_surface_s {
    /* the endpoint, for messages ("use POST for ...") */
    const char                *path;

    /* the body handler of ngx_http_read_client_request_body() */
    ngx_http_client_body_handler_pt  body;

    /* the content type of a streamed answer */
    ngx_str_t                  stream_type;

    /* the body into o->req (and o->id, o->data): NGX_OK or NGX_ERROR */
    ngx_int_t  (*parse)(ngx_gp_reply_t *o, ngx_str_t *body,
                        ngx_gp_oai_error_t *err);

    /* the model found: NGX_OK, or NGX_DECLINED with err (wrong kind) */
    ngx_int_t  (*model)(ngx_gp_reply_t *o, ngx_gp_model_t *m,
                        ngx_str_t *name, ngx_gp_oai_error_t *err);

    /* commits a streamed answer's header: NGX_OK or NGX_ERROR */
    ngx_int_t  (*begin)(ngx_gp_reply_t *o);

    /* a piece of a streamed answer (thought: reasoning); NGX_AGAIN: the
       client has not taken all, NGX_DECLINED: a surface that keeps the
       answer whole (its end repeats it) would pass
       gemini_pool_max_answer_size (the turn fails as an overflow),
       NGX_ERROR */
    ngx_int_t  (*delta)(ngx_gp_reply_t *o, const char *p, size_t len,
                        ngx_uint_t thought);

    /* the generated media after the text: NGX_OK (sent, or rendered by
       finish()), NGX_DECLINED (chat.c adds them to the text as links),
       NGX_ERROR */
    ngx_int_t  (*media)(ngx_gp_reply_t *o, ngx_gp_media_t *m);

    /* the end of the answer; returns the rc to finalize the request */
    ngx_int_t  (*finish)(ngx_gp_reply_t *o, ngx_gp_answer_t *a);

    /* an error before the answer: the whole response; returns the rc */
    ngx_int_t  (*error)(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err);

    /* an error after the header (the answer is cut): sends the error in
       the surface's own shape, never as a normal end, and sets
       o->error_sent; finish() still follows and then ends the framing
       only (no finish reason) */
    ngx_int_t  (*stop)(ngx_gp_reply_t *o, ngx_gp_oai_error_t *err);

    /* an error as a body in the surface's own shape, malloc'ed (NULL: no
       memory), for a response nginx makes itself (the 413 of a body over
       client_max_body_size); NULL: the OpenAI error object */
    char      *(*render_error)(ngx_gp_oai_error_t *err, size_t *len);
};


extern const ngx_gp_surface_t  ngx_gp_surface_openai;
extern const ngx_gp_surface_t  ngx_gp_surface_images;
extern const ngx_gp_surface_t  ngx_gp_surface_images_edits;
extern const ngx_gp_surface_t  ngx_gp_surface_anthropic;
extern const ngx_gp_surface_t  ngx_gp_surface_gemini;
extern const ngx_gp_surface_t  ngx_gp_surface_responses;


ngx_int_t ngx_gp_chat_handler(ngx_http_request_t *r,
    const ngx_gp_surface_t *surface);
void ngx_gp_chat_body(ngx_http_request_t *r,
    const ngx_gp_surface_t *surface);

/*
 * A surface's count-tokens body (Anthropic's count_tokens, Gemini's
 * countTokens): parse() with o->data = data, the model known (else a 404
 * "<unknown><the model><unknown_end>"), the API key allowed, then
 * {"<key>":N}: the estimate of the prompt the turn would replay into a
 * new session; errors through the surface's error().
 */
void ngx_gp_chat_count(ngx_http_request_t *r, const ngx_gp_surface_t *surface,
    ngx_uint_t data, const char *unknown, const char *unknown_end,
    const char *key);

/* the surfaces' own calls besides the turn (api.c dispatches to them) */
ngx_int_t ngx_gp_anthropic_count_handler(ngx_http_request_t *r);
ngx_int_t ngx_gp_gemini_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_GEMINI_POOL_SURFACE_H_INCLUDED_ */
