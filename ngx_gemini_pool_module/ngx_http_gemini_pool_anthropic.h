
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Anthropic's Messages API, as a pure function: a /v1/messages (or
 * /v1/messages/count_tokens) body into the neutral chat request.  The
 * answers and errors in Anthropic's shape are surface_anthropic.c's.
 *
 * Pure C over jansson and openai.c: no nginx.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_ANTHROPIC_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_ANTHROPIC_H_INCLUDED_


#include <stddef.h>

#include "ngx_http_gemini_pool_openai.h"


/*
 * Parses and validates a Messages body into req (zeroed by the caller):
 * "model" (required), "max_tokens" (an integer of at least 1, required
 * unless count is set: count_tokens), "stream", "system" (a string or
 * text blocks), "messages" (roles "user" and "assistant"; content a
 * string or blocks: "text", "image" (base64 or url) in user messages,
 * "tool_use" in assistant messages, "tool_result" in user messages, each
 * a TOOL message of its own before the message's text, the function's
 * name taken from the earlier call; "thinking" and "redacted_thinking"
 * skipped), "tools" (client tools) and "tool_choice".  A user message of
 * tool results only adds no USER message; every other message's text is
 * non-NULL.  Returns 0, or -1 with err filled: a 400 whose message names
 * the field ("messages.1.content.0.source: ..."), a 500 for memory.
 * Release req with ngx_gp_chat_req_free() in both cases.
 */
int ngx_gp_anthropic_req_parse(const char *body, size_t len, int count,
    ngx_gp_chat_req_t *req, ngx_gp_oai_error_t *err);


#endif /* _NGX_HTTP_GEMINI_POOL_ANTHROPIC_H_INCLUDED_ */
