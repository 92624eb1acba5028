
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Tool calls, emulated: the calling convention put into the turn and the
 * parser of the model's answer (tools.h).  Pure C: no nginx.
 */


#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_http_gemini_pool_tools.h"


#define GP_TAG_OPEN     "<tool_call"
#define GP_TAG_CLOSE    "</tool_call>"
#define GP_FENCE        "```"

/* the most calls one answer may carry */
#define GP_CALLS_MAX    64

/* the most places one answer is tried at as a call */
#define GP_TRIES        256


typedef struct {
    const ngx_gp_tool_t   *tools;
    size_t                 ntools;
    const char            *id_base;
    size_t                 tries;
    ngx_gp_tool_call_t    *calls;
    size_t                 ncalls;
    int                    nomem;
} gp_parse_t;


static void gp_calls_clear(ngx_gp_tool_call_t *calls, size_t n);
static void gp_scan(gp_parse_t *ps, ngx_gp_buf_t *b, const char *p,
    const char *end);
static const char *gp_next(const char *p, const char *end);
static const char *gp_skip_blank_line(const char *line, const char *p);
static const char *gp_find(const char *p, const char *end, const char *s,
    size_t n);
static const char *gp_skip_blank(const char *p, const char *end);
static const char *gp_json_end(const char *p, const char *end);
static int gp_take_json(gp_parse_t *ps, const char *p, const char *end,
    int all);
static int gp_take_value(gp_parse_t *ps, json_t *v, int strict);
static int gp_take_call(gp_parse_t *ps, json_t *v, int take, int strict);
static int gp_known(gp_parse_t *ps, const char *name);
static void gp_blanks(ngx_gp_buf_t *b);


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
    gp_calls_clear(calls, n);
    free(calls);
}


/* the strings of n calls, not the array */

static void
gp_calls_clear(ngx_gp_tool_call_t *calls, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(calls[i].id);
        free(calls[i].name);
        free(calls[i].arguments);
    }
}


/* the calling convention */

void
ngx_gp_tools_prompt(ngx_gp_buf_t *b, const ngx_gp_tool_t *tools, size_t n,
    int choice, const char *name, int parallel)
{
    size_t  i;

    if (choice == NGX_GP_TOOL_NONE || n == 0) {
        return;
    }

    ngx_gp_buf_lit(b, "[Tools]\n"
        "You can call functions (tools) that the user's application runs "
        "for you. The functions, one JSON object each:\n");

    for (i = 0; i < n; i++) {
        ngx_gp_buf_lit(b, "{\"name\":");
        ngx_gp_buf_cstr(b, tools[i].name);

        if (tools[i].description) {
            ngx_gp_buf_lit(b, ",\"description\":");
            ngx_gp_buf_cstr(b, tools[i].description);
        }

        ngx_gp_buf_lit(b, ",\"parameters\":");

        if (tools[i].parameters) {
            ngx_gp_buf_add(b, tools[i].parameters,
                           strlen(tools[i].parameters));

        } else {
            ngx_gp_buf_lit(b, "{\"type\":\"object\",\"properties\":{}}");
        }

        ngx_gp_buf_lit(b, "}\n");
    }

    ngx_gp_buf_lit(b, "\n"
        "To call a function, write a block in exactly this form, the "
        "arguments as one JSON object that matches the function's "
        "parameters:\n"
        "<tool_call>\n"
        "{\"name\": \"function_name\", \"arguments\": {\"key\": \"value\"}}\n"
        "</tool_call>\n");

    if (parallel) {
        ngx_gp_buf_lit(b, "To call several functions at once, write one "
                       "block per call.\n");

    } else {
        ngx_gp_buf_lit(b, "Call one function at most.\n");
    }

    ngx_gp_buf_lit(b, "After your call blocks write nothing more: the "
                   "results come back in the next message as "
                   "<tool_result> blocks. Never write a <tool_result> "
                   "block yourself and never invent a result.\n");

    switch (choice) {

    case NGX_GP_TOOL_REQUIRED:
        ngx_gp_buf_lit(b, "You must call at least one function in this "
                       "answer.");
        break;

    case NGX_GP_TOOL_FUNCTION:
        ngx_gp_buf_lit(b, "You must call the function ");
        ngx_gp_buf_cstr(b, name ? name : "");
        ngx_gp_buf_lit(b, " in this answer.");
        break;

    default:
        ngx_gp_buf_lit(b, "Call a function only when it helps to answer; "
                       "otherwise answer in plain text, without any "
                       "<tool_call> block.");
        break;
    }
}


void
ngx_gp_tools_render_calls(ngx_gp_buf_t *b, const ngx_gp_tool_call_t *calls,
    size_t n)
{
    size_t   i;
    json_t  *args;

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_gp_buf_lit(b, "\n");
        }

        ngx_gp_buf_lit(b, "<tool_call>\n{\"id\":");
        ngx_gp_buf_cstr(b, calls[i].id ? calls[i].id : "");
        ngx_gp_buf_lit(b, ",\"name\":");
        ngx_gp_buf_cstr(b, calls[i].name ? calls[i].name : "");
        ngx_gp_buf_lit(b, ",\"arguments\":");

        /* the client's text when it is a JSON object, else a string */
        args = calls[i].arguments ? json_loads(calls[i].arguments, 0, NULL)
                                  : NULL;

        if (json_is_object(args)) {
            ngx_gp_buf_add(b, calls[i].arguments,
                           strlen(calls[i].arguments));

        } else {
            ngx_gp_buf_cstr(b, calls[i].arguments ? calls[i].arguments
                                                  : "");
        }

        json_decref(args);

        ngx_gp_buf_lit(b, "}\n</tool_call>");
    }
}


void
ngx_gp_tools_render_result(ngx_gp_buf_t *b, const char *id, const char *name,
    const char *text, size_t len)
{
    ngx_gp_buf_lit(b, "<tool_result");

    if (id) {
        ngx_gp_buf_lit(b, " id=");
        ngx_gp_buf_cstr(b, id);
    }

    if (name) {
        ngx_gp_buf_lit(b, " name=");
        ngx_gp_buf_cstr(b, name);
    }

    ngx_gp_buf_lit(b, ">\n");

    if (text && len) {
        ngx_gp_buf_add(b, text, len);
        ngx_gp_buf_lit(b, "\n");
    }

    ngx_gp_buf_lit(b, "</tool_result>");
}


/*
 * The parser.  The text is scanned once for "<tool_call" and "```"; what
 * such a block holds is taken as calls only when all of it is valid, and
 * the block then leaves the text; anything else is copied as it is.
 */

int
ngx_gp_tools_parse(const char *text, size_t len, const ngx_gp_tool_t *tools,
    size_t ntools, int parallel, const char *id_base,
    ngx_gp_tools_answer_t *out)
{
    size_t         n;
    const char    *end, *s, *e;
    gp_parse_t     ps;
    ngx_gp_buf_t   b;

    memset(out, 0, sizeof(ngx_gp_tools_answer_t));
    memset(&ps, 0, sizeof(gp_parse_t));
    memset(&b, 0, sizeof(ngx_gp_buf_t));

    ps.tools = tools;
    ps.ntools = ntools;
    ps.id_base = id_base ? id_base : "";
    ps.tries = GP_TRIES;

    if (text == NULL) {
        text = "";
        len = 0;
    }

    end = text + len;

    /* an answer that is only a call, or an array of calls */

    s = gp_skip_blank(text, end);
    e = (s < end && *s == '[') ? gp_json_end(s, end) : NULL;

    if (e == NULL || gp_skip_blank(e, end) != end
        || gp_take_json(&ps, s, e, 1) <= 0)
    {
        gp_scan(&ps, &b, text, end);
    }

    if (ps.nomem) {
        ngx_gp_tool_calls_free(ps.calls, ps.ncalls);
        free(ngx_gp_buf_finish(&b, &n));
        return -1;
    }

    if (ps.ncalls == 0) {
        /* the text as it was written */
        free(ngx_gp_buf_finish(&b, &n));
        memset(&b, 0, sizeof(ngx_gp_buf_t));
        ngx_gp_buf_add(&b, text, len);

    } else {
        gp_blanks(&b);
    }

    out->text = ngx_gp_buf_finish(&b, &out->text_len);

    if (out->text == NULL) {
        ngx_gp_tool_calls_free(ps.calls, ps.ncalls);
        return -1;
    }

    if (!parallel && ps.ncalls > 1) {
        gp_calls_clear(ps.calls + 1, ps.ncalls - 1);
        ps.ncalls = 1;
    }

    if (ps.ncalls == 0) {
        free(ps.calls);
        ps.calls = NULL;
    }

    out->calls = ps.calls;
    out->ncalls = ps.ncalls;

    return 0;
}


/*
 * The text from p to end into b, its calls taken: tagged blocks, fences
 * of calls, and call objects alone at the start of a line.  Every try
 * costs one of ps->tries; when they run out, the rest is text (an answer
 * full of almost-calls costs linear time).
 */

static void
gp_scan(gp_parse_t *ps, ngx_gp_buf_t *b, const char *p, const char *end)
{
    const char  *at, *s, *e, *close, *next, *q;

    while (p < end && !ps->nomem && ps->tries > 0) {
        at = gp_next(p, end);

        if (at == NULL) {
            break;
        }

        ngx_gp_buf_add(b, p, (size_t) (at - p));
        ps->tries--;

        if (*at == '{') {
            /* a call object alone on its line */
            e = gp_json_end(at, end);

            for (q = e; q && q < end && (*q == ' ' || *q == '\t'
                                         || *q == '\r'); q++)
            {
                /* void */
            }

            if (e && (q == end || *q == '\n')
                && gp_take_json(ps, at, e, 1) > 0)
            {
                p = e;
                continue;
            }

            ngx_gp_buf_add(b, at, 1);
            p = at + 1;
            continue;
        }

        if (*at == '<') {
            /* <tool_call ...> JSON ... </tool_call> (the close optional) */
            s = gp_find(at, end, ">", 1);
            q = gp_find(at + 1, end, "<", 1);

            if (s == NULL || (q && q < s)) {
                ngx_gp_buf_add(b, at, 1);
                p = at + 1;
                continue;
            }

            s++;

            /* its JSON values as far as they go (a string may hold a
               closing tag), then the closing tag, another block or the
               end of the answer */
            e = NULL;
            q = gp_skip_blank(s, end);

            while ((next = gp_json_end(q, end)) != NULL) {
                e = next;
                q = gp_skip_blank(next, end);
            }

            close = NULL;

            if (e != NULL
                && (size_t) (end - q) >= sizeof(GP_TAG_CLOSE) - 1
                && memcmp(q, GP_TAG_CLOSE, sizeof(GP_TAG_CLOSE) - 1) == 0)
            {
                close = q;

            } else if (e != NULL && q != end
                       && ((size_t) (end - q) < sizeof(GP_TAG_OPEN) - 1
                           || memcmp(q, GP_TAG_OPEN,
                                     sizeof(GP_TAG_OPEN) - 1) != 0))
            {
                e = NULL;
            }

            if (e == NULL || gp_take_json(ps, s, e, 0) <= 0) {
                ngx_gp_buf_add(b, at, 1);
                p = at + 1;
                continue;
            }

            p = close ? close + sizeof(GP_TAG_CLOSE) - 1 : e;
            continue;
        }

        /* ```lang ... ```: a fence of calls leaves the text */
        s = gp_find(at + 3, end, "\n", 1);

        if (s == NULL) {
            ngx_gp_buf_add(b, at, (size_t) (end - at));
            p = end;
            break;
        }

        s++;
        close = gp_find(s, end, GP_FENCE, sizeof(GP_FENCE) - 1);
        e = close ? close : end;
        q = gp_skip_blank(s, e);

        if (q < e && (*q == '{' || *q == '[')) {
            if (gp_take_json(ps, q, e, 1) > 0) {
                p = close ? close + 3 : end;
                continue;
            }

        } else if ((size_t) (e - q) >= sizeof(GP_TAG_OPEN) - 1
                   && memcmp(q, GP_TAG_OPEN, sizeof(GP_TAG_OPEN) - 1) == 0)
        {
            /* tagged calls inside: the inside as text, the fence dropped */
            gp_scan(ps, b, q, e);
            p = close ? close + 3 : end;
            continue;
        }

        /* a fence of something else: copied, its inside not scanned */
        e = close ? close + 3 : end;
        ngx_gp_buf_add(b, at, (size_t) (e - at));
        p = e;
    }

    if (p < end) {
        ngx_gp_buf_add(b, p, (size_t) (end - p));
    }
}


/* the next possible call: "<tool_call", "```", or "{" starting a line */

static const char *
gp_next(const char *p, const char *end)
{
    const char  *q, *line;

    line = p;

    for (q = p; q < end; q++) {
        switch (*q) {

        case '\n':
            line = q + 1;
            break;

        case '<':
            if ((size_t) (end - q) >= sizeof(GP_TAG_OPEN) - 1
                && memcmp(q, GP_TAG_OPEN, sizeof(GP_TAG_OPEN) - 1) == 0)
            {
                return q;
            }

            break;

        case '`':
            if ((size_t) (end - q) >= 3 && q[1] == '`' && q[2] == '`') {
                return q;
            }

            break;

        case '{':
            if (gp_skip_blank_line(line, q) == q) {
                return q;
            }

            break;
        }
    }

    return NULL;
}


/* p if only blanks (not line breaks) come from line to p */

static const char *
gp_skip_blank_line(const char *line, const char *p)
{
    while (line < p && (*line == ' ' || *line == '\t' || *line == '\r')) {
        line++;
    }

    return line;
}


void
ngx_gp_tools_answer_free(ngx_gp_tools_answer_t *a)
{
    ngx_gp_tool_calls_free(a->calls, a->ncalls);
    free(a->text);
    memset(a, 0, sizeof(ngx_gp_tools_answer_t));
}


static const char *
gp_find(const char *p, const char *end, const char *s, size_t n)
{
    const char  *q;

    if (p == NULL || end - p < (ptrdiff_t) n) {
        return NULL;
    }

    for (q = p; (size_t) (end - q) >= n; q++) {
        q = memchr(q, s[0], (size_t) (end - q) - n + 1);

        if (q == NULL) {
            return NULL;
        }

        if (memcmp(q, s, n) == 0) {
            return q;
        }
    }

    return NULL;
}


static const char *
gp_skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    return p;
}


/* the end of the JSON object or array at p (after its last byte), or NULL */

static const char *
gp_json_end(const char *p, const char *end)
{
    size_t  depth;
    int     str;

    if (p >= end || (*p != '{' && *p != '[')) {
        return NULL;
    }

    depth = 0;
    str = 0;

    for ( /* void */ ; p < end; p++) {
        if (str) {
            if (*p == '\\') {
                p++;

            } else if (*p == '"') {
                str = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            str = 1;
            break;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (--depth == 0) {
                return p + 1;
            }

            break;
        }
    }

    return NULL;
}


/*
 * The JSON values between p and end, blanks around and between them, as
 * calls; all == 1: one value only, and strict (not in a <tool_call>
 * block: "arguments" only).  Takes them only when every one is a
 * valid call: returns how many, 0 when not, -1 when out of memory.
 */

static int
gp_take_json(gp_parse_t *ps, const char *p, const char *end, int all)
{
    int          k;
    size_t       n0, count;
    json_t      *v;
    const char  *e;

    n0 = ps->ncalls;
    count = 0;

    for ( ;; ) {
        p = gp_skip_blank(p, end);

        if (p == end) {
            break;
        }

        e = gp_json_end(p, end);

        if (e == NULL || (all && count)) {
            goto undo;
        }

        v = json_loadb(p, (size_t) (e - p), 0, NULL);
        if (v == NULL) {
            goto undo;
        }

        k = gp_take_value(ps, v, all);
        json_decref(v);

        if (k <= 0) {
            goto undo;
        }

        count += (size_t) k;
        p = e;
    }

    return (int) count;

undo:

    if (ps->ncalls > n0) {
        gp_calls_clear(ps->calls + n0, ps->ncalls - n0);
        ps->ncalls = n0;
    }

    return ps->nomem ? -1 : 0;
}


/* a call object, or an array of them: how many were taken, 0, -1 */

static int
gp_take_value(gp_parse_t *ps, json_t *v, int strict)
{
    size_t   i;
    json_t  *item;

    if (json_is_object(v)) {
        return gp_take_call(ps, v, 1, strict);
    }

    if (!json_is_array(v) || json_array_size(v) == 0) {
        return 0;
    }

    /* all or none: check first, then take */
    json_array_foreach(v, i, item) {
        if (gp_take_call(ps, item, 0, strict) != 1) {
            return 0;
        }
    }

    json_array_foreach(v, i, item) {
        if (gp_take_call(ps, item, 1, strict) != 1) {
            return ps->nomem ? -1 : 0;
        }
    }

    return (int) json_array_size(v);
}


/*
 * {"name","arguments"} (or "parameters", "args", "input"; a string
 * holding a JSON object accepted) or {"function":{...}}: check 0 checks,
 * 1 takes it.  1, 0 (not a call), -1 (memory).
 */

static int
gp_take_call(gp_parse_t *ps, json_t *v, int take, int strict)
{
    char                 idbuf[32];
    json_t              *name, *args, *fn, *parsed;
    const char          *key;
    ngx_gp_tool_call_t  *calls, *c;

    static const char  *arg_keys[] = {
        "arguments", "parameters", "args", "input", NULL
    };

    size_t  i;

    if (!json_is_object(v)) {
        return 0;
    }

    fn = json_object_get(v, "function");

    if (json_is_object(fn)) {
        v = fn;
    }

    name = json_object_get(v, "name");

    if (!json_is_string(name)
        || !ngx_gp_tool_name_ok(json_string_value(name),
                                json_string_length(name))
        || !gp_known(ps, json_string_value(name)))
    {
        return 0;
    }

    args = NULL;

    for (i = 0; arg_keys[i]; i++) {
        args = json_object_get(v, arg_keys[i]);

        if (args) {
            break;
        }
    }

    /*
     * Outside a <tool_call> block only {"name","arguments"} is a call: a
     * tool definition quoted back ({"name","parameters"}) is not.
     */

    if (strict && i != 0) {
        return 0;
    }

    parsed = NULL;

    if (json_is_string(args)) {
        parsed = json_loadb(json_string_value(args), json_string_length(args),
                            0, NULL);
        args = parsed;

        if (!json_is_object(args)) {
            json_decref(parsed);
            return 0;
        }

    } else if (args != NULL && !json_is_null(args) && !json_is_object(args))
    {
        return 0;
    }

    if (!take) {
        json_decref(parsed);
        return 1;
    }

    if (ps->ncalls == GP_CALLS_MAX) {
        json_decref(parsed);
        return 0;
    }

    if (ps->ncalls % 8 == 0) {
        calls = realloc(ps->calls, (ps->ncalls + 8)
                                   * sizeof(ngx_gp_tool_call_t));
        if (calls == NULL) {
            json_decref(parsed);
            ps->nomem = 1;
            return -1;
        }

        ps->calls = calls;
    }

    c = &ps->calls[ps->ncalls];
    memset(c, 0, sizeof(ngx_gp_tool_call_t));

    snprintf(idbuf, sizeof(idbuf), "%zu", ps->ncalls);

    key = json_string_value(name);

    c->name = ngx_gp_str_dup(key);
    c->arguments = json_is_object(args) ? json_dumps(args, JSON_COMPACT)
                                        : ngx_gp_str_dup("{}");
    c->id = malloc(sizeof("call_") - 1 + strlen(ps->id_base)
                   + strlen(idbuf) + 1);

    json_decref(parsed);

    if (c->id) {
        strcpy(c->id, "call_");
        strcat(c->id, ps->id_base);
        strcat(c->id, idbuf);
    }

    ps->ncalls++;

    if (c->name == NULL || c->arguments == NULL || c->id == NULL) {
        ps->nomem = 1;
        return -1;
    }

    return 1;
}


static int
gp_known(gp_parse_t *ps, const char *name)
{
    size_t  i;

    for (i = 0; i < ps->ntools; i++) {
        if (ps->tools[i].name && strcmp(ps->tools[i].name, name) == 0) {
            return 1;
        }
    }

    return 0;
}


/* the text without its calls: no blank lines at the ends, two at most */

static void
gp_blanks(ngx_gp_buf_t *b)
{
    size_t  i, j, nl;
    char   *p;

    if (b->p == NULL || b->failed) {
        return;
    }

    p = b->p;

    /* trailing blanks, then leading ones */
    while (b->len && (p[b->len - 1] == ' ' || p[b->len - 1] == '\n'
                      || p[b->len - 1] == '\r' || p[b->len - 1] == '\t'))
    {
        b->len--;
    }

    for (i = 0; i < b->len && (p[i] == '\n' || p[i] == '\r'
                               || p[i] == ' ' || p[i] == '\t'); i++)
    {
        /* void */
    }

    /* runs of three or more line breaks become two */
    nl = 0;

    for (j = 0; i < b->len; i++) {
        if (p[i] == '\n') {
            if (++nl > 2) {
                continue;
            }

        } else if (p[i] != '\r') {
            nl = 0;
        }

        p[j++] = p[i];
    }

    b->len = j;
}


/* the stream hold */

int
ngx_gp_tools_feed(ngx_gp_tools_hold_t *h, const char *p, size_t len,
    size_t max, const char **out, size_t *out_len)
{
    size_t       i, k, safe;
    char        *np;
    const char  *mark;

    static const char  *marks[] = { GP_TAG_OPEN, GP_FENCE, NULL };

    *out = h->p;
    *out_len = 0;

    /* the text handed out last time has gone */
    if (h->sent) {
        memmove(h->p, h->p + h->sent, h->len - h->sent);
        h->len -= h->sent;
        h->sent = 0;
    }

    if (len > max || h->len > max - len) {
        return -1;
    }

    if (len >= h->cap - h->len || h->p == NULL) {
        k = h->cap ? h->cap : 256;

        while (k <= h->len + len) {
            k *= 2;
        }

        np = realloc(h->p, k);
        if (np == NULL) {
            return -1;
        }

        h->p = np;
        h->cap = k;
    }

    if (len) {
        memcpy(h->p + h->len, p, len);
        h->len += len;
    }

    *out = h->p;

    if (h->holding) {
        return 0;
    }

    safe = h->len;

    for (i = 0; i < h->len; i++) {
        if ((h->p[i] == '{' && !h->midline)
            || (h->p[i] == '[' && !h->seen_text))
        {
            h->holding = 1;
            safe = i;
            break;
        }

        for (k = 0; marks[k]; k++) {
            mark = marks[k];

            if (h->p[i] != mark[0]) {
                continue;
            }

            if (h->len - i >= strlen(mark)) {
                if (memcmp(h->p + i, mark, strlen(mark)) == 0) {
                    h->holding = 1;
                    break;
                }

            } else if (memcmp(h->p + i, mark, h->len - i) == 0) {
                /* a possible start cut off: wait for the next piece */
                break;
            }
        }

        if (marks[k]) {
            safe = i;
            break;
        }

        switch (h->p[i]) {

        case '\n':
            h->midline = 0;
            break;

        case ' ':
        case '\t':
        case '\r':
            break;

        default:
            h->seen_text = 1;
            h->midline = 1;
        }
    }

    h->sent = safe;
    *out_len = safe;

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
