
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * OpenAI's Responses API, as pure functions beside the chat parser: a
 * POST /v1/responses body into the neutral chat request (its input
 * items as messages), and the response object and the streamed events
 * (response.created ... response.completed) rendered as text.
 *
 * Pure C over jansson and text.c: no nginx.  Strings in a request are
 * malloc'ed; release it with ngx_gp_resp_req_free().
 */


#ifndef _NGX_HTTP_GEMINI_POOL_RESPONSES_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_RESPONSES_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ngx_http_gemini_pool_openai.h"


/* what a response echoes of its request */
typedef struct {
    char                     *previous_response_id;  /* NULL: none */
    char                     *instructions;          /* NULL: none */
    char                     *metadata;    /* the object as JSON; NULL */
    int                       store;       /* default 1 */
} ngx_gp_resp_req_t;

/*
 * Parses and validates a /v1/responses body: "model", "input" (a string,
 * or items: messages with a role and a string or parts "input_text",
 * "output_text", "refusal", "input_image" (image_url or file_id),
 * "input_file" (file_id or file_data); "function_call" items as the
 * calls of an assistant message (folded into the assistant message
 * before them); "function_call_output" as a tool message; "reasoning"
 * items are skipped), "instructions" (a system message first),
 * "stream", "store", "previous_response_id" (into req->conversation_id,
 * with req->conversation_param), "metadata", "tools" of type
 * "function", "tool_choice", "parallel_tool_calls" (as tools.h says:
 * checked by the chat parser).  Sampling fields are accepted and ignored;
 * "background", "conversation", "prompt", other tool types and item
 * types the pool cannot run are refused.  Errors name the Responses
 * field ("input[2].content[0]...").
 * Returns 0, or -1 with err filled; free rr and req in both cases.
 */
int ngx_gp_resp_parse(const char *body, size_t len, ngx_gp_resp_req_t *rr,
    ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err);
void ngx_gp_resp_req_free(ngx_gp_resp_req_t *rr);


/* the response as rendered: an object, or the state of a stream */
typedef struct {
    const char               *id;          /* "resp_<hex>": items reuse
                                              the hex as "msg_", "rs_" */
    const char               *model;
    time_t                    created;
    const ngx_gp_resp_req_t  *req;
    const char               *status;      /* "in_progress", "completed",
                                              "incomplete", "failed" */
    const char               *incomplete;  /* the reason, or NULL */
    const ngx_gp_oai_error_t *error;       /* failed: the error, or NULL */
    const char               *reasoning;   /* NULL: no reasoning item */
    size_t                    reasoning_len;
    const char               *text;        /* NULL: no message item */
    size_t                    text_len;
    const char               *item_status; /* the message's; NULL: as
                                              status */
    const ngx_gp_usage_t     *usage;       /* NULL: null */
    const ngx_gp_tool_call_t *calls;       /* function_call items, after
                                              the message */
    size_t                    ncalls;
} ngx_gp_resp_t;

#define NGX_GP_RESP_REASONING  0
#define NGX_GP_RESP_MESSAGE    1

/* the response object (malloc'ed) */
char *ngx_gp_resp_render(const ngx_gp_resp_t *r, size_t *len);

/*
 * Streamed events, each "event: <type>\ndata: {...}\n\n" appended to b
 * with its sequence number (*seq, then incremented).
 */

/* response.created, .in_progress, .completed, .incomplete, .failed */
void ngx_gp_resp_ev_response(ngx_gp_buf_t *b, uint64_t *seq,
    const char *type, const ngx_gp_resp_t *r);

/*
 * An output item opens: response.output_item.added, then its part
 * (response.reasoning_summary_part.added or response.content_part.added)
 */
void ngx_gp_resp_ev_open(ngx_gp_buf_t *b, uint64_t *seq,
    const ngx_gp_resp_t *r, int item, unsigned index);

/* response.reasoning_summary_text.delta or response.output_text.delta */
void ngx_gp_resp_ev_delta(ngx_gp_buf_t *b, uint64_t *seq,
    const ngx_gp_resp_t *r, int item, unsigned index, const char *p,
    size_t len);

/*
 * An output item closes with its whole text (r->reasoning or r->text):
 * the text's .done, its part's .done, response.output_item.done
 */
void ngx_gp_resp_ev_close(ngx_gp_buf_t *b, uint64_t *seq,
    const ngx_gp_resp_t *r, int item, unsigned index);

/*
 * The function call r->calls[i] as output item index, whole:
 * response.output_item.added, response.function_call_arguments.delta
 * (all the arguments), .done, response.output_item.done
 */
void ngx_gp_resp_ev_call(ngx_gp_buf_t *b, uint64_t *seq,
    const ngx_gp_resp_t *r, size_t i, unsigned index);


#endif /* _NGX_HTTP_GEMINI_POOL_RESPONSES_H_INCLUDED_ */
