
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The OpenAI side, as pure functions: parsing a chat completion request
 * into plain structs, building the upstream prompt from it (spec §10), and
 * rendering chat.completion objects, chat.completion.chunk SSE events,
 * model lists and error objects.
 *
 * Pure C over jansson, text.c and the scanner of wire.c: no nginx.  Every
 * char * returned or stored in a result struct is malloc'ed; release
 * results with the matching free function, rendered text with free().
 */


#ifndef _NGX_HTTP_GEMINI_POOL_OPENAI_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_OPENAI_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_text.h"
#include "ngx_http_gemini_pool_tools.h"


/*
 * An OpenAI error to send: HTTP status and the error object's fields.
 * ngx_gp_oai_error_set() copies param into param_buf and points param
 * there (validation errors name fields like "messages[2].role"), so
 * param may point into the struct itself: after copying the struct by
 * value, re-point it (dst.param = dst.param_buf) when it was set that
 * way.
 */
typedef struct {
    int            status;     /* 400, 404, 413, 429, 500, 502, 503 ... */
    const char    *type;       /* "invalid_request_error", ... (static) */
    const char    *code;       /* static or NULL */
    const char    *param;      /* static, param_buf or NULL */
    char           message[512];
    char           param_buf[96];
} ngx_gp_oai_error_t;


#define NGX_GP_ROLE_SYSTEM     0   /* "system" and "developer" */
#define NGX_GP_ROLE_USER       1
#define NGX_GP_ROLE_ASSISTANT  2
#define NGX_GP_ROLE_TOOL       3

#define NGX_GP_IMAGE_DATA      0   /* data: URL or {"type":"image","data"} */
#define NGX_GP_IMAGE_URL       1   /* http(s) URL to fetch */
#define NGX_GP_IMAGE_FILE      2   /* {"type":"file"} naming an upload */

typedef struct {
    int            kind;       /* NGX_GP_IMAGE_* */
    char          *mime;       /* DATA: from the data: URL */
    char          *data;       /* DATA: base64 text, not decoded */
    size_t         data_len;
    char          *url;        /* URL */
    char          *file_id;    /* FILE */
} ngx_gp_image_ref_t;

typedef struct {
    int                  role;       /* NGX_GP_ROLE_* */
    char                *text;       /* text parts joined with "\n" */
    size_t               len;
    ngx_gp_image_ref_t  *images;
    size_t               nimages;

    /* tools.h: an ASSISTANT message's calls; a TOOL message's answer to
       call_id (NULL: not given) of the function name (NULL: unknown) */
    ngx_gp_tool_call_t  *calls;
    size_t               ncalls;
    char                *call_id;
    char                *name;
} ngx_gp_message_t;

typedef struct {
    char               *model;
    int                 stream;          /* "stream": true */
    int                 include_usage;   /* stream_options.include_usage */
    char               *conversation_id; /* explicit, or NULL */
    /* set by a surface that names its turns (the Responses API): the
       session is also bound under this id after the answer, for a next
       turn whose conversation_id it is; NULL: none */
    char               *conversation_next;
    /* static; set: conversation_id must name a conversation still bound,
       else a 400 "conversation_not_found" naming this parameter */
    const char         *conversation_param;
    char               *image_format;    /* explicit, or NULL */
    ngx_gp_message_t   *messages;
    size_t              nmessages;

    /* tools.h: the functions offered (ntools 0: none, the usual case),
       tool_choice (NGX_GP_TOOL_*) and its function's name, and
       parallel_tool_calls: false */
    ngx_gp_tool_t      *tools;
    size_t              ntools;
    int                 tool_choice;
    char               *tool_name;
    int                 no_parallel;
} ngx_gp_chat_req_t;

/*
 * Parses and validates a /v1/chat/completions body.  Returns 0, or -1 with
 * err filled (400 for malformed JSON, missing or empty "messages", a
 * message without a valid role, no user message (tool results alone do
 * when a conversation_id continues a conversation), wrong field types; the
 * message names the field).  Release with ngx_gp_chat_req_free() in both
 * cases.  The "prompts" alternative input of spec §10 is accepted too
 * (only when "messages" is absent or null; a prompt's role defaults to
 * "user").
 *
 * Details: "model":"" and "model":null count as absent (model NULL);
 * null "stream", "stream_options", "conversation_id", "image_format" count
 * as absent; every message's text is non-NULL (content null or missing:
 * ""); texts may hold NUL bytes, use len.  Roles "developer" -> SYSTEM,
 * "function" -> TOOL.  Content parts: "text" (and "input_text"), bare
 * strings, "image_url" (object or string), "image" {"data"}, "file"
 * {"file_id"} / {"file":{"id"|"file_id"|"file_data"}}; other types are
 * ignored.  data: URLs must be ";base64,": blanks are removed from the
 * payload, the alphabet is checked, the media type is lower-cased and
 * defaults to image/png.  Memory exhaustion gives status 500.
 */
int ngx_gp_chat_req_parse(const char *body, size_t len,
    ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err);
void ngx_gp_chat_req_free(ngx_gp_chat_req_t *req);

/*
 * Tool definitions and calls out of JSON, for every surface (a surface
 * maps the error to its own shape).  ngx_gp_tool_from_json(): name a
 * valid function name, description absent, null or a string, parameters
 * absent, null or an object (kept as compact JSON text).
 * ngx_gp_tool_call_from_json(): id a string (absent or null: "call_"
 * and index), name a valid function name, arguments absent or null
 * ("{}"), an object, or a string holding JSON text (kept as given when
 * it is not JSON: the model sees what the client sent).
 * ngx_gp_tool_choice_check(): a named tool_choice names one of the
 * tools.  param names the field in messages ("tools[2]").  0, or -1
 * with err filled (400; 500 for memory).
 */
int ngx_gp_tool_from_json(ngx_gp_tool_t *t, json_t *name,
    json_t *description, json_t *parameters, const char *param,
    ngx_gp_oai_error_t *err);
int ngx_gp_tool_call_from_json(ngx_gp_tool_call_t *c, json_t *id,
    json_t *name, json_t *arguments, size_t index, const char *param,
    ngx_gp_oai_error_t *err);
int ngx_gp_tool_choice_check(const ngx_gp_chat_req_t *req,
    const char *param, ngx_gp_oai_error_t *err);

/*
 * The first message of the turn's input: the last user message, or, when
 * the messages after the last assistant message hold a tool result, the
 * first of those messages.  nmessages when there is no user message.
 */
size_t ngx_gp_chat_input(const ngx_gp_chat_req_t *req);

/*
 * The neutral message building of the other surfaces' parsers (the
 * Anthropic Messages and the Gemini API bodies): each piece once, with
 * the error texts those surfaces send.
 *
 * ngx_gp_chat_body_object(): the body as a JSON object (release it with
 * json_decref()), or NULL with a 400: "<invalid> <jansson's text> (line
 * L, column C)", or "The request body must be a JSON object".
 * ngx_gp_chat_bad(): a 400 "invalid_request_error" with this message;
 * ngx_gp_chat_nomem(): the 500 "out of memory"; both return -1.
 * ngx_gp_chat_messages_alloc(): req->messages for a list of turns whose
 * parts are the array under key: a system message, the turns, and a
 * message per part (each may be a tool result of its own).
 * ngx_gp_chat_turn_add(): the next message of req as a USER or
 * ASSISTANT turn (role -1: neither: a 400 "<at>.role: must be \"user\"
 * or \"<assistant>\""); *user set for a USER turn.
 * ngx_gp_chat_parts_alloc(): a message's arrays for n parts (images; an
 * ASSISTANT's calls).  ngx_gp_chat_text_add(): text appended to the
 * message's, "\n" between texts.  ngx_gp_chat_image_data(): a base64
 * image into the message (url 1: the base64url alphabet taken too, and
 * made the standard one); 1: not base64.
 * ngx_gp_chat_turn_end(): the end of turn m, which came after results
 * TOOL messages of its own tool results: with results, a turn left with
 * no text and no image is dropped; else a turn without text gets "".
 * ngx_gp_chat_no_user(): the 400 "<field>: at least one \"user\" <what>
 * is required" (user 0), else 0.
 * All return 0, or -1 with err filled (those without err: -1 is out of
 * memory), unless said otherwise.
 */
json_t *ngx_gp_chat_body_object(const char *body, size_t len,
    const char *invalid, ngx_gp_oai_error_t *err);
int ngx_gp_chat_bad(ngx_gp_oai_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int ngx_gp_chat_nomem(ngx_gp_oai_error_t *err);
int ngx_gp_chat_messages_alloc(ngx_gp_chat_req_t *req, json_t *turns,
    const char *key, ngx_gp_oai_error_t *err);
ngx_gp_message_t *ngx_gp_chat_turn_add(ngx_gp_chat_req_t *req, int role,
    int *user, const char *at, const char *assistant,
    ngx_gp_oai_error_t *err);
int ngx_gp_chat_parts_alloc(ngx_gp_message_t *m, size_t n);
int ngx_gp_chat_text_add(ngx_gp_message_t *m, const char *s, size_t len);
int ngx_gp_chat_image_data(ngx_gp_message_t *m, const char *mime,
    const char *data, size_t len, int url);
int ngx_gp_chat_turn_end(ngx_gp_chat_req_t *req, ngx_gp_message_t *m,
    size_t results, ngx_gp_oai_error_t *err);
int ngx_gp_chat_no_user(int user, const char *field, const char *what,
    ngx_gp_oai_error_t *err);

/*
 * The fast path of ngx_gp_chat_req_parse() (over the JSON scanner of
 * wire.c): one pass over the common bodies (string contents, no content
 * parts); req must be zeroed.  0: req is filled exactly as the jansson
 * path fills it; 1: not handled (req may hold a part: free it, parse with
 * jansson); -1: out of memory (the same).
 */
int ngx_gp_chat_req_fast(const char *body, size_t len,
    ngx_gp_chat_req_t *req);

/*
 * The query text for the upstream (spec §10).
 *
 * replay == 0: the last user message only; a Cursor-style
 * <user_query>...</user_query> keeps only the inner text (trimmed); the
 * system block, when there is one, is prepended as
 * "[System Instruction]\n<system>\n\n[User Message]\n<user>".  The
 * system block is the text of every non-empty system (and developer)
 * message in order, joined by "\n\n" (REF uses the first only; joining
 * keeps what clients send as several system messages).
 *
 * replay == 1: the whole conversation as one transcript, for a fresh
 * upstream session that must learn the earlier turns: the system block as
 * above, then each turn up to the last user message as "User: ...",
 * "Assistant: ..." or "Tool: ..." paragraphs separated by "\n\n", the
 * last one being "User: <last user message>"; " [image]" is appended once
 * per image of a turn; turns without text or images are left out.  When
 * there is no earlier turn the result equals replay == 0.
 *
 * Returns malloc'ed text and its length, or NULL (no user message,
 * memory).
 */
char *ngx_gp_chat_prompt(const ngx_gp_chat_req_t *req, int replay,
    size_t *len);


/* rendering */

typedef struct {
    uint64_t       prompt_tokens;
    uint64_t       completion_tokens;
} ngx_gp_usage_t;

/*
 * Token estimate (the upstream reports none): ASCII and other Latin text
 * count one token per four bytes, rounded up, per run; every CJK, kana or
 * hangul character, and every other code point above U+2E80, counts one.
 */
uint64_t ngx_gp_estimate_tokens(const char *p, size_t len);

typedef struct {
    const char            *id;           /* "chatcmpl-..." */
    const char            *model;
    time_t                 created;
    const char            *role;         /* "assistant" in the first, or NULL */
    const char            *content;      /* NULL: no "content" key */
    size_t                 content_len;
    const char            *reasoning;    /* NULL: no "reasoning_content" */
    size_t                 reasoning_len;
    const char            *finish_reason; /* NULL: JSON null */
    const ngx_gp_usage_t  *usage;        /* non-NULL: usage chunk with
                                            "choices":[] */

    /* non-NULL: "tool_calls":[one call] in the delta, its call_index;
       call_args 0: index, id, type, name and "arguments":"", 1: index
       and the arguments (OpenAI's stream of a call) */
    const ngx_gp_tool_call_t  *call;
    size_t                 call_index;
    int                    call_args;
} ngx_gp_chunk_t;

/*
 * "data: {...}\n\n" into buf (size bytes, room for the terminating NUL
 * included): returns buf when it fits, else a malloc'ed copy (free it),
 * or NULL.
 */
char *ngx_gp_render_chunk_into(const ngx_gp_chunk_t *c, char *buf,
    size_t size, size_t *len);

typedef struct {
    const char            *id;
    const char            *model;
    time_t                 created;
    const char            *content;
    size_t                 content_len;
    const char            *reasoning;    /* NULL: omitted */
    size_t                 reasoning_len;
    const char            *finish_reason; /* "stop", "content_filter" ... */
    ngx_gp_usage_t         usage;

    /* message.tool_calls (ncalls 0: none); content "" is then null */
    const ngx_gp_tool_call_t  *calls;
    size_t                 ncalls;
} ngx_gp_completion_t;

/* a chat.completion object */
char *ngx_gp_render_completion(const ngx_gp_completion_t *c, size_t *len);
/* the same into buf, as ngx_gp_render_chunk_into() */
char *ngx_gp_render_completion_into(const ngx_gp_completion_t *c, char *buf,
    size_t size, size_t *len);

/* {"error":{"message","type","param","code"}} */
char *ngx_gp_render_error(const ngx_gp_oai_error_t *err, size_t *len);

/*
 * A JSON document as compact text in insertion order (malloc'ed, its
 * length in *len); root is released whatever happens.  NULL: root was
 * NULL or out of memory.
 */
char *ngx_gp_json_dump(json_t *root, size_t *len);

/* a formatted line (at most 319 bytes) appended to a JSON array: 0, -1 */
int ngx_gp_json_note(json_t *list, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* {"object":"list","data":[{"id","object":"model","created","owned_by"}]} */
char *ngx_gp_render_models(const char *const *ids, size_t n, time_t created,
    const char *owned_by, size_t *len);

/* one {"id","object":"model","created","owned_by"} */
char *ngx_gp_render_model(const char *id, time_t created,
    const char *owned_by, size_t *len);

/* fills err; message is printf-formatted and truncated to fit */
void ngx_gp_oai_error_set(ngx_gp_oai_error_t *err, int status,
    const char *type, const char *code, const char *param,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;


#endif /* _NGX_HTTP_GEMINI_POOL_OPENAI_H_INCLUDED_ */
