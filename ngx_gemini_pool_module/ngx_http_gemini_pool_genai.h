
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini API (Google's generativelanguage v1beta, the "genai" SDKs'
 * generateContent), as a pure function: a generateContent or
 * countTokens body into the neutral chat request.  The URI's model and
 * method, the answers and Google's errors are surface_gemini.c's.
 *
 * Pure C over jansson, tools.c and openai.c: no nginx.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_GENAI_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_GENAI_H_INCLUDED_


#include <stddef.h>

#include "ngx_http_gemini_pool_openai.h"


/*
 * Parses and validates a generateContent body into req (zeroed by the
 * caller, who may have set model and stream from the URI): "contents"
 * (required; role "user", "function", "" or none: a USER turn, "model":
 * an ASSISTANT turn; parts: "text", "inlineData" images (base64 or
 * base64url), "fileData" with an http(s) fileUri, "functionCall" in model
 * turns, "functionResponse" in user turns, each a TOOL message of its own
 * before the turn's text; "thought" parts skipped),
 * "systemInstruction" (a string or {"parts"}), "tools"
 * (functionDeclarations only), "toolConfig", and
 * generationConfig.thinkingConfig.includeThoughts (false: *no_thoughts
 * is set to 1).  count: countTokens, whose body may wrap the request as
 * "generateContentRequest".  snake_case names are taken as well.  A user
 * turn of function responses only adds no USER message; every other
 * message's text is non-NULL.  Returns 0, or -1 with err filled: a 400
 * whose message names the field ("contents[1].parts[0].inlineData: ..."),
 * a 500 for memory.  Release req with ngx_gp_chat_req_free() in both
 * cases.
 */
int ngx_gp_genai_req_parse(const char *body, size_t len, int count,
    ngx_gp_chat_req_t *req, int *no_thoughts, ngx_gp_oai_error_t *err);


#endif /* _NGX_HTTP_GEMINI_POOL_GENAI_H_INCLUDED_ */
