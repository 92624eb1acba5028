
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Tool calls, emulated (the upstream widget API has no function calling):
 * the neutral tool definitions, calls and results every client surface
 * fills and renders, the calling convention put into the turn, and the
 * parser that takes the model's calls out of its answer.  See
 * docs/tools.md for the convention and TOOLS-API.md for the surfaces.
 *
 * Pure C over jansson and text.c: no nginx.  Every char * in a struct
 * here is malloc'ed (NUL-ended) and released by the matching free
 * function.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_TOOLS_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_TOOLS_H_INCLUDED_


#include <stddef.h>

#include "ngx_http_gemini_pool_text.h"


/* a function the client offers ("tools":[{"type":"function",...}]) */
typedef struct {
    char          *name;         /* [A-Za-z0-9_.-]{1,64}, checked */
    char          *description;  /* NULL: none */
    char          *parameters;   /* the JSON schema as compact JSON text,
                                    NULL: none (no arguments) */
} ngx_gp_tool_t;

/* a call: made by the model (an answer), or an earlier one (a request) */
typedef struct {
    char          *id;           /* "call_..." (ours), or the client's */
    char          *name;
    char          *arguments;    /* a JSON object as compact text: "{}" */
} ngx_gp_tool_call_t;

/* the request's tool_choice */
#define NGX_GP_TOOL_AUTO       0   /* absent or "auto" */
#define NGX_GP_TOOL_NONE       1   /* "none": no calls, no parsing */
#define NGX_GP_TOOL_REQUIRED   2   /* "required" (Anthropic "any") */
#define NGX_GP_TOOL_FUNCTION   3   /* one named function: tool_name */


/* the longest function name the convention accepts */
#define NGX_GP_TOOL_NAME_MAX   64


/* 1 when name is a valid function name ([A-Za-z0-9_.-]{1,64}), else 0 */
int ngx_gp_tool_name_ok(const char *name, size_t len);

void ngx_gp_tool_free(ngx_gp_tool_t *tools, size_t n);
void ngx_gp_tool_calls_free(ngx_gp_tool_call_t *calls, size_t n);


/*
 * The calling convention, appended to b: the tool definitions and how to
 * call them, as the turn's "[Tools]" block (docs/tools.md).  choice is
 * NGX_GP_TOOL_*, name the function of NGX_GP_TOOL_FUNCTION, parallel 0
 * asks for one call at most.  NGX_GP_TOOL_NONE appends nothing.
 */
void ngx_gp_tools_prompt(ngx_gp_buf_t *b, const ngx_gp_tool_t *tools,
    size_t n, int choice, const char *name, int parallel);

/* an assistant's earlier calls in the convention's own form, appended */
void ngx_gp_tools_render_calls(ngx_gp_buf_t *b,
    const ngx_gp_tool_call_t *calls, size_t n);

/* a tool result of an earlier call, appended (id, name: NULL: unknown) */
void ngx_gp_tools_render_result(ngx_gp_buf_t *b, const char *id,
    const char *name, const char *text, size_t len);


/*
 * The model's answer into calls and text.  Calls are taken from
 * <tool_call>{...}</tool_call> blocks (the convention; the closing tag
 * may be missing), from code fences holding such blocks or a bare call
 * object or array, from a call object alone at the start of a line, and
 * from an answer that is only an array of calls; a call is
 * {"name":"<a defined tool>","arguments":{...}} (a JSON string holding an
 * object accepted too; inside a <tool_call> block "parameters", "args"
 * or "input" for "arguments", and no arguments at all, are accepted).
 * Whatever is not a valid call (malformed JSON, an unknown name, no
 * closing tag) stays in the text, as written.  parallel 0 keeps the
 * first call only.  Ids are "call_<id_base><index>".
 *
 * Returns 0 with out filled (out->calls NULL when there is none; the
 * text is the answer without the calls, trimmed of the blank lines they
 * leave), -1 when out of memory.  Release with ngx_gp_tools_answer_free().
 */
typedef struct {
    ngx_gp_tool_call_t  *calls;
    size_t               ncalls;
    char                *text;       /* NUL-ended, never NULL on success */
    size_t               text_len;
} ngx_gp_tools_answer_t;

int ngx_gp_tools_parse(const char *text, size_t len,
    const ngx_gp_tool_t *tools, size_t ntools, int parallel,
    const char *id_base, ngx_gp_tools_answer_t *out);
void ngx_gp_tools_answer_free(ngx_gp_tools_answer_t *a);


/*
 * A streamed answer when tools are offered: text goes to the client as it
 * comes until something that may start a call shows ("<tool_call", a
 * code fence "```", "{" as the first non-blank character of a line, or
 * "[" as the answer's first non-blank character); from there on the text
 * is held until the end and goes to ngx_gp_tools_parse().  A possible
 * start cut between two pieces is held until the next piece shows what
 * it is.
 *
 * ngx_gp_tools_feed() takes a piece and points *out at the text that may
 * go now (*out_len bytes, valid until the next call on h); -1: out of
 * memory, or more than max bytes held.  ngx_gp_tools_held() gives the
 * held text at the end (the whole rest of the answer).  Zero h before
 * use, release it with ngx_gp_tools_hold_free().
 */
typedef struct {
    char          *p;
    size_t         len;
    size_t         cap;
    size_t         sent;          /* the prefix handed out last time */
    unsigned       holding:1;     /* a possible call started */
    unsigned       seen_text:1;   /* a non-blank character went */
    unsigned       midline:1;     /* not only blanks since a line break */
} ngx_gp_tools_hold_t;

int ngx_gp_tools_feed(ngx_gp_tools_hold_t *h, const char *p, size_t len,
    size_t max, const char **out, size_t *out_len);
const char *ngx_gp_tools_held(ngx_gp_tools_hold_t *h, size_t *len);
void ngx_gp_tools_hold_free(ngx_gp_tools_hold_t *h);


#endif /* _NGX_HTTP_GEMINI_POOL_TOOLS_H_INCLUDED_ */
