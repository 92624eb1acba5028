
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the streamed JSON array splitter.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_jsonstream.h"


#define SEP  '\x1e'     /* between collected elements; never in bodies */


typedef struct {
    char      *all;     /* elements joined by SEP */
    size_t     len;
    size_t     cap;
    size_t     n;
    size_t     stop_at; /* ask to stop after this many; 0: never */
} coll_t;


typedef struct {
    int        rc;       /* first non-OK feed result, or OK */
    int        complete;
    size_t     elements;
    size_t     calls;    /* feed calls made before rc */
} run_t;


static void
coll_add(coll_t *c, const char *p, size_t len)
{
    if (c->len + len + 2 > c->cap) {
        c->cap = (c->len + len + 2) * 2;
        c->all = realloc(c->all, c->cap);
        assert_non_null(c->all);
    }

    if (c->n) {
        c->all[c->len++] = SEP;
    }

    memcpy(c->all + c->len, p, len);
    c->len += len;
    c->all[c->len] = '\0';
    c->n++;
}


static int
coll_cb(void *data, const char *p, size_t len)
{
    coll_t  *c = data;

    coll_add(c, p, len);

    return (c->stop_at && c->n >= c->stop_at) ? 1 : 0;
}


static void
coll_free(coll_t *c)
{
    free(c->all);
    memset(c, 0, sizeof(coll_t));
}


static const char *
coll_str(coll_t *c)
{
    return c->all ? c->all : "";
}


/* feeds body cut at the sorted offsets in cuts[] */

static run_t
feed_cuts(const char *body, size_t len, const size_t *cuts, size_t ncuts,
    size_t max, coll_t *c)
{
    int                  rc;
    size_t               i, from, to;
    run_t                r;
    ngx_gp_jsonstream_t  js;

    memset(&r, 0, sizeof(run_t));

    ngx_gp_jsonstream_init(&js, max);

    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (i < ncuts) ? cuts[i] : len;

        rc = ngx_gp_jsonstream_feed(&js, body + from, to - from, coll_cb, c);
        r.calls++;
        from = to;

        if (rc != NGX_GP_JS_OK) {
            r.rc = rc;
            break;
        }
    }

    if (r.rc == NGX_GP_JS_ERROR) {
        assert_non_null(js.error);
    }

    r.complete = ngx_gp_jsonstream_complete(&js);
    r.elements = js.elements;

    ngx_gp_jsonstream_free(&js);

    return r;
}


static run_t
feed_all(const char *body, size_t max, coll_t *c)
{
    return feed_cuts(body, strlen(body), NULL, 0, max, c);
}


static run_t
feed_bytes(const char *body, size_t len, coll_t *c)
{
    int                  rc;
    size_t               i;
    run_t                r;
    ngx_gp_jsonstream_t  js;

    memset(&r, 0, sizeof(run_t));

    ngx_gp_jsonstream_init(&js, 0);

    for (i = 0; i < len; i++) {
        rc = ngx_gp_jsonstream_feed(&js, body + i, 1, coll_cb, c);
        r.calls++;

        if (rc != NGX_GP_JS_OK) {
            r.rc = rc;
            break;
        }
    }

    r.complete = ngx_gp_jsonstream_complete(&js);
    r.elements = js.elements;

    ngx_gp_jsonstream_free(&js);

    return r;
}


/* a body with every trap the upstream can set */

static const char  tricky_body[] =
    "  \r\n[{\n"
    "  \"streamAssistResponse\": {\n"
    "    \"answer\": {\"state\": \"IN_PROGRESS\", \"replies\": [\n"
    "      {\"groundedContent\": {\"content\": {\"text\":"
    " \"-- mock tail: \\\"quoted\\\" {brace} [bracket] ]} back\\\\slash"
    " \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80"
    " \xe2\x9c\x93 end.\"}}}\n"
    "    ]}\n"
    "  }\n"
    "}\n"
    ",\n"
    "{\"a\": \"\\\\\", \"b\": \"\\\\\\\"}\", \"c\": [1, {\"d\": []}]}"
    " , {\"e\":\"[[[{{{\\\"\\\\\\\\\"}\n"
    "]\n  \n";

static const char  tricky_e1[] =
    "{\n"
    "  \"streamAssistResponse\": {\n"
    "    \"answer\": {\"state\": \"IN_PROGRESS\", \"replies\": [\n"
    "      {\"groundedContent\": {\"content\": {\"text\":"
    " \"-- mock tail: \\\"quoted\\\" {brace} [bracket] ]} back\\\\slash"
    " \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80"
    " \xe2\x9c\x93 end.\"}}}\n"
    "    ]}\n"
    "  }\n"
    "}";

static const char  tricky_e2[] =
    "{\"a\": \"\\\\\", \"b\": \"\\\\\\\"}\", \"c\": [1, {\"d\": []}]}";

static const char  tricky_e3[] =
    "{\"e\":\"[[[{{{\\\"\\\\\\\\\"}";


static char *
expected_tricky(void)
{
    char    *s;
    size_t   n1, n2, n3;

    n1 = strlen(tricky_e1);
    n2 = strlen(tricky_e2);
    n3 = strlen(tricky_e3);

    s = malloc(n1 + n2 + n3 + 3);
    assert_non_null(s);

    memcpy(s, tricky_e1, n1);
    s[n1] = SEP;
    memcpy(s + n1 + 1, tricky_e2, n2);
    s[n1 + 1 + n2] = SEP;
    memcpy(s + n1 + n2 + 2, tricky_e3, n3 + 1);

    return s;
}


static void
test_simple_array(void **state)
{
    run_t   r;
    coll_t  c = { 0 };

    r = feed_all("[{\"a\":1},{\"b\":[2,3]},{}]", 0, &c);

    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.elements, 3);
    assert_int_equal(c.n, 3);
    assert_string_equal(coll_str(&c), "{\"a\":1}\x1e{\"b\":[2,3]}\x1e{}");

    coll_free(&c);
}


static void
test_tricky_one_chunk(void **state)
{
    char    *exp;
    run_t    r;
    coll_t   c = { 0 };

    exp = expected_tricky();

    r = feed_all(tricky_body, 0, &c);

    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.elements, 3);
    assert_string_equal(coll_str(&c), exp);

    free(exp);
    coll_free(&c);
}


static void
test_tricky_byte_by_byte(void **state)
{
    char    *exp;
    run_t    r;
    coll_t   c = { 0 };

    exp = expected_tricky();

    r = feed_bytes(tricky_body, strlen(tricky_body), &c);

    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.elements, 3);
    assert_int_equal(r.calls, strlen(tricky_body));
    assert_string_equal(coll_str(&c), exp);

    free(exp);
    coll_free(&c);
}


static void
test_tricky_all_two_way_splits(void **state)
{
    char    *exp;
    size_t   i, len;
    run_t    r;
    coll_t   c;

    exp = expected_tricky();
    len = strlen(tricky_body);

    for (i = 0; i <= len; i++) {
        memset(&c, 0, sizeof(coll_t));

        r = feed_cuts(tricky_body, len, &i, 1, 0, &c);

        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(r.complete, 1);
        assert_int_equal(c.n, 3);
        assert_string_equal(coll_str(&c), exp);

        coll_free(&c);
    }

    free(exp);
}


static void
test_all_three_way_splits(void **state)
{
    size_t       i, j, len, cuts[2];
    run_t        r;
    coll_t       c;
    const char  *body;

    body = " [ {\"x\":\"}\\\"]\xe4\xb8\xad\"} ,{\"y\":[{}]}\n]";
    len = strlen(body);

    for (i = 0; i <= len; i++) {
        for (j = i; j <= len; j++) {
            memset(&c, 0, sizeof(coll_t));

            cuts[0] = i;
            cuts[1] = j;

            r = feed_cuts(body, len, cuts, 2, 0, &c);

            assert_int_equal(r.rc, NGX_GP_JS_OK);
            assert_int_equal(r.complete, 1);
            assert_string_equal(coll_str(&c),
                                "{\"x\":\"}\\\"]\xe4\xb8\xad\"}\x1e"
                                "{\"y\":[{}]}");

            coll_free(&c);
        }
    }
}


static void
test_empty_array(void **state)
{
    run_t   r;
    coll_t  c = { 0 };

    r = feed_all("[]", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(c.n, 0);

    r = feed_all(" \n\t[ \r\n ]\n\n ", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(c.n, 0);

    r = feed_bytes(" [ ] ", 5, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(c.n, 0);

    coll_free(&c);
}


static void
test_nothing_fed(void **state)
{
    run_t   r;
    coll_t  c = { 0 };

    r = feed_all("", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 0);

    r = feed_all("  \n ", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 0);
    assert_int_equal(c.n, 0);

    coll_free(&c);
}


static void
test_single_object(void **state)
{
    size_t       i, len;
    run_t        r;
    coll_t       c = { 0 };
    const char  *body;

    body = "\n{\"error\": {\"code\": 429, \"message\": \"Resource has been "
           "exhausted (e.g. check quota).\", \"status\": "
           "\"RESOURCE_EXHAUSTED\", \"details\": [{\"reason\": "
           "\"LLM_OVERLOADED\"}]}}\n";

    r = feed_all(body, 0, &c);

    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.elements, 1);
    assert_int_equal(c.len, strlen(body) - 2);
    assert_memory_equal(c.all, body + 1, c.len);

    coll_free(&c);

    len = strlen(body);

    for (i = 0; i <= len; i++) {
        r = feed_cuts(body, len, &i, 1, 0, &c);

        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(r.complete, 1);
        assert_int_equal(c.n, 1);
        assert_memory_equal(c.all, body + 1, c.len);

        coll_free(&c);
    }
}


static void
test_single_object_trailing_garbage(void **state)
{
    run_t   r;
    coll_t  c = { 0 };

    r = feed_all("{\"a\":1} {\"b\":2}", 0, &c);

    assert_int_equal(r.rc, NGX_GP_JS_ERROR);
    assert_int_equal(c.n, 1);

    coll_free(&c);

    r = feed_all("{\"a\":1},", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_ERROR);

    coll_free(&c);
}


static void
test_trailing_data(void **state)
{
    run_t   r;
    coll_t  c = { 0 };

    r = feed_all("[{\"a\":1}]  \r\n\t ", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    coll_free(&c);

    r = feed_all("[{\"a\":1}] x", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_ERROR);
    assert_int_equal(c.n, 1);
    coll_free(&c);

    r = feed_all("[{\"a\":1}]]", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_ERROR);
    coll_free(&c);

    r = feed_all("[]{}", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_ERROR);
    assert_int_equal(c.n, 0);
    coll_free(&c);
}


static void
test_truncation(void **state)
{
    size_t       i, len, last;
    run_t        r;
    coll_t       c = { 0 };
    const char  *body;

    body = tricky_body;
    len = strlen(body);
    last = (size_t) (strrchr(body, ']') - body);

    /* every prefix that lacks the closing ']' is incomplete */

    for (i = 0; i <= last; i++) {
        r = feed_cuts(body, i, NULL, 0, 0, &c);

        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(r.complete, 0);

        coll_free(&c);
    }

    for (i = last + 1; i <= len; i++) {
        r = feed_cuts(body, i, NULL, 0, 0, &c);

        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(r.complete, 1);
        assert_int_equal(c.n, 3);

        coll_free(&c);
    }

    /* a truncated top-level object */

    r = feed_all("{\"error\":{\"code\":500", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 0);
    assert_int_equal(c.n, 0);
    coll_free(&c);

    /* elements delivered before the cut still count */

    r = feed_all("[{\"a\":1},{\"b\":\"x", 0, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 0);
    assert_int_equal(r.elements, 1);
    assert_string_equal(coll_str(&c), "{\"a\":1}");
    coll_free(&c);
}


static void
test_max_element(void **state)
{
    size_t       i, len;
    run_t        r;
    coll_t       c = { 0 };
    const char  *body;

    /* {"a":"0123456789"} is 18 bytes */

    body = "[{\"a\":\"0123456789\"},{\"b\":1}]";
    len = strlen(body);

    r = feed_all(body, 18, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(c.n, 2);
    coll_free(&c);

    r = feed_all(body, 17, &c);
    assert_int_equal(r.rc, NGX_GP_JS_ERROR);
    assert_int_equal(r.complete, 0);
    assert_int_equal(c.n, 0);
    coll_free(&c);

    /* the limit holds whatever the chunking */

    for (i = 0; i <= len; i++) {
        r = feed_cuts(body, len, &i, 1, 17, &c);
        assert_int_equal(r.rc, NGX_GP_JS_ERROR);
        assert_int_equal(c.n, 0);
        coll_free(&c);

        r = feed_cuts(body, len, &i, 1, 18, &c);
        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(c.n, 2);
        coll_free(&c);
    }

    r = feed_bytes(body, len, &c);
    assert_int_equal(r.rc, NGX_GP_JS_OK);
    coll_free(&c);
}


static void
test_error_message_and_sticky(void **state)
{
    int                  rc;
    coll_t               c = { 0 };
    ngx_gp_jsonstream_t  js;

    ngx_gp_jsonstream_init(&js, 8);

    rc = ngx_gp_jsonstream_feed(&js, "[{\"abcdefgh", 11, coll_cb, &c);
    assert_int_equal(rc, NGX_GP_JS_ERROR);
    assert_string_equal(js.error, "element too large");

    /* once failed, always failed */

    rc = ngx_gp_jsonstream_feed(&js, "\"}]", 3, coll_cb, &c);
    assert_int_equal(rc, NGX_GP_JS_ERROR);
    assert_int_equal(ngx_gp_jsonstream_complete(&js), 0);

    ngx_gp_jsonstream_free(&js);
    assert_null(js.buf);

    /* the struct can be used again */

    ngx_gp_jsonstream_init(&js, 0);
    assert_int_equal(js.max, 64 * 1024 * 1024);

    rc = ngx_gp_jsonstream_feed(&js, "[{}]", 4, coll_cb, &c);
    assert_int_equal(rc, NGX_GP_JS_OK);
    assert_int_equal(ngx_gp_jsonstream_complete(&js), 1);

    ngx_gp_jsonstream_free(&js);
    coll_free(&c);
}


static void
test_syntax_errors(void **state)
{
    size_t  i;
    run_t   r;
    coll_t  c = { 0 };

    static const char  *bad[] = {
        "x",
        ")]}'\n[{}]",
        "[1]",
        "[\"a\"]",
        "[{\"a\":1},2]",
        "[null]",
        "[[]]",
        "[{},,{}]",
        "[{},]",
        "[,{}]",
        "[{}{}]",
        "[{\"a\":]",
        "[{\"a\":[}]",
        "]",
        "\"str\"",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = feed_all(bad[i], 0, &c);

        if (r.rc != NGX_GP_JS_ERROR) {
            fail_msg("no error for body %s", bad[i]);
        }

        assert_int_equal(r.complete, 0);

        coll_free(&c);

        r = feed_bytes(bad[i], strlen(bad[i]), &c);
        assert_int_equal(r.rc, NGX_GP_JS_ERROR);

        coll_free(&c);
    }
}


static void
test_callback_stop(void **state)
{
    int                  rc;
    coll_t               c = { 0 };
    ngx_gp_jsonstream_t  js;

    c.stop_at = 2;

    ngx_gp_jsonstream_init(&js, 0);

    rc = ngx_gp_jsonstream_feed(&js, "[{\"a\":1},{\"b\":2},{\"c\":3}]", 25,
                                coll_cb, &c);

    assert_int_equal(rc, NGX_GP_JS_STOPPED);
    assert_int_equal(js.elements, 2);
    assert_string_equal(coll_str(&c), "{\"a\":1}\x1e{\"b\":2}");

    rc = ngx_gp_jsonstream_feed(&js, "  ", 2, coll_cb, &c);
    assert_int_equal(rc, NGX_GP_JS_STOPPED);
    assert_int_equal(ngx_gp_jsonstream_complete(&js), 0);
    assert_int_equal(c.n, 2);

    ngx_gp_jsonstream_free(&js);
    coll_free(&c);
}


static void
test_large_element_across_chunks(void **state)
{
    char    *body, *elt;
    size_t   i, n, len, step, cuts[256], nc;
    run_t    r;
    coll_t   c = { 0 };

    /* one 200 KiB element fed in 1000-byte chunks: the buffer grows */

    n = 200 * 1024;

    body = malloc(n + 16);
    assert_non_null(body);

    memcpy(body, "[{\"t\":\"", 7);

    for (i = 7; i < n; i++) {
        body[i] = (char) ('a' + i % 26);
    }

    memcpy(body + n, "\"}]", 4);
    len = n + 3;

    elt = body + 1;

    step = 1000;
    nc = 0;

    for (i = step; i < len && nc < 256; i += step) {
        cuts[nc++] = i;
    }

    r = feed_cuts(body, len, cuts, nc, 0, &c);

    assert_int_equal(r.rc, NGX_GP_JS_OK);
    assert_int_equal(r.complete, 1);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.len, len - 2);
    assert_memory_equal(c.all, elt, len - 2);

    coll_free(&c);
    free(body);
}


/* the randomized split test */

typedef struct {
    char      *p;
    size_t     len;
    size_t     cap;
} sbuf_t;


static void
sb_add(sbuf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}


static void
sb_str(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}


static void
gen_ws(uint64_t *rs, sbuf_t *b)
{
    static const char  *ws[] = { "", "", "", " ", "\n", "\n  ", "\r\n\t",
                                 "  " };

    sb_str(b, ws[unit_rand_n(rs, 8)]);
}


static void
gen_string(uint64_t *rs, sbuf_t *b)
{
    size_t  i, n;

    static const char  *frag[] = {
        "a", "text ", "\\\"", "\\\\", "}", "]", "{", "[", ",", ":",
        "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x9a\x80",
        "\\u00e9", "\\n", "\\\\\\\"", "\\/", " ", "\\\\}", "]}",
    };

    sb_str(b, "\"");

    n = unit_rand_n(rs, 8);

    for (i = 0; i < n; i++) {
        sb_str(b, frag[unit_rand_n(rs, sizeof(frag) / sizeof(frag[0]))]);
    }

    sb_str(b, "\"");
}


static void gen_value(uint64_t *rs, sbuf_t *b, int depth);


static void
gen_object(uint64_t *rs, sbuf_t *b, int depth)
{
    size_t  i, n;

    sb_str(b, "{");

    n = unit_rand_n(rs, depth > 3 ? 2 : 5);

    for (i = 0; i < n; i++) {
        if (i) {
            gen_ws(rs, b);
            sb_str(b, ",");
        }

        gen_ws(rs, b);
        gen_string(rs, b);
        gen_ws(rs, b);
        sb_str(b, ":");
        gen_ws(rs, b);
        gen_value(rs, b, depth + 1);
    }

    gen_ws(rs, b);
    sb_str(b, "}");
}


static void
gen_value(uint64_t *rs, sbuf_t *b, int depth)
{
    size_t  i, n;

    switch (unit_rand_n(rs, depth > 3 ? 3 : 6)) {

    case 0:
        gen_string(rs, b);
        break;

    case 1:
        sb_str(b, unit_rand_n(rs, 2) ? "-12.5e3" : "true");
        break;

    case 2:
        sb_str(b, "null");
        break;

    case 3:
    case 4:
        gen_object(rs, b, depth);
        break;

    default:
        sb_str(b, "[");
        n = unit_rand_n(rs, 4);

        for (i = 0; i < n; i++) {
            if (i) {
                sb_str(b, ",");
            }

            gen_ws(rs, b);
            gen_value(rs, b, depth + 1);
        }

        gen_ws(rs, b);
        sb_str(b, "]");
        break;
    }
}


static void
test_random_splits(void **state)
{
    int       iter;
    size_t    i, n, nc, cuts[64], k, t;
    sbuf_t    body, ref, elt;
    run_t     r;
    coll_t    c;
    uint64_t  rs;

    rs = 0x9e3779b97f4a7c15ULL;

    for (iter = 0; iter < 400; iter++) {
        memset(&body, 0, sizeof(sbuf_t));
        memset(&ref, 0, sizeof(sbuf_t));

        gen_ws(&rs, &body);
        sb_str(&body, "[");

        n = unit_rand_n(&rs, 7);

        for (i = 0; i < n; i++) {
            if (i) {
                gen_ws(&rs, &body);
                sb_str(&body, ",");
                sb_add(&ref, "\x1e", 1);
            }

            gen_ws(&rs, &body);

            memset(&elt, 0, sizeof(sbuf_t));
            gen_object(&rs, &elt, 0);

            sb_add(&body, elt.p, elt.len);
            sb_add(&ref, elt.p, elt.len);
            free(elt.p);
        }

        gen_ws(&rs, &body);
        sb_str(&body, "]");
        gen_ws(&rs, &body);

        if (ref.p == NULL) {
            sb_str(&ref, "");
        }

        /* sorted random cut points; sometimes many tiny chunks */

        nc = 1 + unit_rand_n(&rs, (iter % 5 == 0) ? 64 : 8);

        for (i = 0; i < nc; i++) {
            cuts[i] = unit_rand_n(&rs, body.len + 1);
        }

        for (i = 1; i < nc; i++) {
            for (k = i; k > 0 && cuts[k - 1] > cuts[k]; k--) {
                t = cuts[k];
                cuts[k] = cuts[k - 1];
                cuts[k - 1] = t;
            }
        }

        memset(&c, 0, sizeof(coll_t));

        r = feed_cuts(body.p, body.len, cuts, nc, 0, &c);

        if (r.rc != NGX_GP_JS_OK || !r.complete || c.n != n
            || strcmp(coll_str(&c), ref.p) != 0)
        {
            print_message("iteration %d body: %s\n", iter, body.p);
            fail_msg("rc %d complete %d elements %zu/%zu", r.rc, r.complete,
                     c.n, n);
        }

        coll_free(&c);

        /* and byte by byte */

        r = feed_bytes(body.p, body.len, &c);

        assert_int_equal(r.rc, NGX_GP_JS_OK);
        assert_int_equal(r.complete, 1);
        assert_string_equal(coll_str(&c), ref.p);

        coll_free(&c);
        free(body.p);
        free(ref.p);
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_array),
        cmocka_unit_test(test_tricky_one_chunk),
        cmocka_unit_test(test_tricky_byte_by_byte),
        cmocka_unit_test(test_tricky_all_two_way_splits),
        cmocka_unit_test(test_all_three_way_splits),
        cmocka_unit_test(test_empty_array),
        cmocka_unit_test(test_nothing_fed),
        cmocka_unit_test(test_single_object),
        cmocka_unit_test(test_single_object_trailing_garbage),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_max_element),
        cmocka_unit_test(test_error_message_and_sticky),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_large_element_across_chunks),
        cmocka_unit_test(test_random_splits),
    };

    UNIT_RUN("jsonstream", tests);
}
