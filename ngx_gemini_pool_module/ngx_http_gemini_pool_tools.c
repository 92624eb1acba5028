
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Tool calls, emulated: the calling convention put into the turn and the
 * parser of the model's answer (tools.h).  Pure C: no nginx.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_tools.h"


int
ngx_gp_tool_name_ok(const char *name, size_t len)
{
    size_t  i;
    char    c;

    if (len == 0 || len > NGX_GP_TOOL_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}


void
ngx_gp_tool_free(ngx_gp_tool_t *tools, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(tools[i].name);
        free(tools[i].description);
        free(tools[i].parameters);
    }

    free(tools);
}


void
ngx_gp_tool_calls_free(ngx_gp_tool_call_t *calls, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(calls[i].id);
        free(calls[i].name);
        free(calls[i].arguments);
    }

    free(calls);
}


/* the interface first: the implementation follows */

void
ngx_gp_tools_prompt(ngx_gp_buf_t *b, const ngx_gp_tool_t *tools, size_t n,
    int choice, const char *name, int parallel)
{
}


void
ngx_gp_tools_render_calls(ngx_gp_buf_t *b, const ngx_gp_tool_call_t *calls,
    size_t n)
{
}


void
ngx_gp_tools_render_result(ngx_gp_buf_t *b, const char *id, const char *name,
    const char *text, size_t len)
{
}


int
ngx_gp_tools_parse(const char *text, size_t len, const ngx_gp_tool_t *tools,
    size_t ntools, int parallel, const char *id_base,
    ngx_gp_tools_answer_t *out)
{
    memset(out, 0, sizeof(ngx_gp_tools_answer_t));

    out->text = malloc(len + 1);
    if (out->text == NULL) {
        return -1;
    }

    if (len) {
        memcpy(out->text, text, len);
    }

    out->text[len] = '\0';
    out->text_len = len;

    return 0;
}


void
ngx_gp_tools_answer_free(ngx_gp_tools_answer_t *a)
{
    ngx_gp_tool_calls_free(a->calls, a->ncalls);
    free(a->text);
    memset(a, 0, sizeof(ngx_gp_tools_answer_t));
}


int
ngx_gp_tools_feed(ngx_gp_tools_hold_t *h, const char *p, size_t len,
    size_t max, const char **out, size_t *out_len)
{
    *out = p;
    *out_len = len;
    return 0;
}


const char *
ngx_gp_tools_held(ngx_gp_tools_hold_t *h, size_t *len)
{
    *len = h->len - h->sent;
    return h->p ? h->p + h->sent : "";
}


void
ngx_gp_tools_hold_free(ngx_gp_tools_hold_t *h)
{
    free(h->p);
    memset(h, 0, sizeof(ngx_gp_tools_hold_t));
}
