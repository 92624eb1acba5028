
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the tool-call emulation (tools.c) and of the tool parts
 * of the OpenAI request reader and prompt (openai.c): hostile answers,
 * every cut of a streamed answer, the convention's own text read back,
 * and the request fields and errors.
 */


#define _GNU_SOURCE
#include "unit.h"
#include "ngx_http_gemini_pool_openai.h"


static ngx_gp_tool_t  tools[] = {
    { "get_weather", "The weather of a city",
      "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
      "\"string\"}}}" },
    { "search", NULL, NULL },
    { "fs.read-file", "Reads a file", "{\"type\":\"object\"}" },
};

#define NTOOLS  (sizeof(tools) / sizeof(tools[0]))


typedef struct {
    const char  *in;
    size_t       ncalls;
    const char  *call1;     /* "name args" of the first call, or NULL */
    const char  *call2;     /* of the second */
    const char  *text;      /* the text left; NULL: the input as it was */
} tools_case_t;


static const tools_case_t  cases[] = {
    /* plain answers stay as they are */
    { "Paris is sunny today.", 0, NULL, NULL, NULL },
    { "", 0, NULL, NULL, NULL },
    { "{\"answer\":42}", 0, NULL, NULL, NULL },
    { "Use it like this:\n```python\nprint('<tool_call>')\n```\nDone.",
      0, NULL, NULL, NULL },
    { "the <tool_call tag is how I call", 0, NULL, NULL, NULL },

    /* the convention */
    { "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":"
      "\"Paris\"}}\n</tool_call>", 1,
      "get_weather {\"city\":\"Paris\"}", NULL, "" },
    { "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", "
      "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\nOne moment.", 1,
      "get_weather {\"city\":\"Paris\"}", NULL,
      "Let me check.\n\nOne moment." },

    /* two calls (parallel), and two in one block */
    { "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"A\"}}"
      "</tool_call>\n<tool_call>{\"name\":\"search\",\"arguments\":{\"q\":"
      "\"b\"}}</tool_call>", 2,
      "get_weather {\"city\":\"A\"}", "search {\"q\":\"b\"}", "" },
    { "<tool_call>\n{\"name\":\"search\",\"arguments\":{}}\n{\"name\":"
      "\"search\",\"arguments\":{\"q\":1}}\n</tool_call>", 2,
      "search {}", "search {\"q\":1}", "" },

    /* fenced */
    { "Sure:\n```json\n{\"name\":\"search\",\"arguments\":{\"q\":\"x\"}}\n"
      "```\n", 1, "search {\"q\":\"x\"}", NULL, "Sure:" },
    { "```\n<tool_call>\n{\"name\":\"search\",\"arguments\":{\"q\":\"y\"}}"
      "\n</tool_call>\n```", 1, "search {\"q\":\"y\"}", NULL, "" },
    { "```tool_call\n[{\"name\":\"search\",\"arguments\":{}},{\"name\":"
      "\"get_weather\",\"arguments\":{\"city\":\"B\"}}]\n```", 2,
      "search {}", "get_weather {\"city\":\"B\"}", "" },

    /* prose and a bare call on its own line */
    { "I will search.\n{\"name\":\"search\",\"arguments\":{\"q\":\"z\"}}\n"
      "Then answer.", 1, "search {\"q\":\"z\"}", NULL,
      "I will search.\n\nThen answer." },
    { "  {\"name\":\"search\",\"arguments\":{}}  ", 1, "search {}", NULL,
      "" },
    { "[{\"name\":\"search\",\"arguments\":{}}]", 1, "search {}", NULL, "" },

    /* other shapes of a call */
    { "<tool_call>{\"name\":\"search\",\"arguments\":\"{\\\"q\\\":2}\"}"
      "</tool_call>", 1, "search {\"q\":2}", NULL, "" },
    { "<tool_call>{\"type\":\"function\",\"function\":{\"name\":\"search\","
      "\"parameters\":{\"q\":3}}}</tool_call>", 1, "search {\"q\":3}", NULL,
      "" },
    { "<tool_call>{\"name\":\"search\"}</tool_call>", 1, "search {}", NULL,
      "" },
    { "<tool_call name=\"x\">\n{\"name\":\"fs.read-file\",\"args\":{\"p\":"
      "\"/a } b { \\\" c\"}}\n</tool_call>", 1,
      "fs.read-file {\"p\":\"/a } b { \\\" c\"}", NULL, "" },

    /* a closing tag inside a string of the arguments */
    { "<tool_call>{\"name\":\"search\",\"arguments\":{\"q\":"
      "\"</tool_call>\"}}</tool_call> after", 1,
      "search {\"q\":\"</tool_call>\"}", NULL, "after" },

    /* the closing tag missing */
    { "<tool_call>\n{\"name\":\"search\",\"arguments\":{\"q\":\"open\"}}",
      1, "search {\"q\":\"open\"}", NULL, "" },
    { "<tool_call>{\"name\":\"search\",\"arguments\":{}}\n<tool_call>"
      "{\"name\":\"get_weather\",\"arguments\":{}}</tool_call>", 2,
      "search {}", "get_weather {}", "" },

    /* not calls: they stay text */
    { "<tool_call>\n{\"name\":\"search\",\"arguments\":{\"q\":}\n"
      "</tool_call>", 0, NULL, NULL, NULL },
    { "<tool_call>{\"name\":\"rm_rf\",\"arguments\":{}}</tool_call>", 0,
      NULL, NULL, NULL },
    { "<tool_call>{\"name\":\"search\",\"arguments\":5}</tool_call>", 0,
      NULL, NULL, NULL },
    { "<tool_call>{\"name\":\"search\",\"arguments\":\"nope\"}</tool_call>",
      0, NULL, NULL, NULL },
    { "<tool_call>{\"name\":\"search\"} trailing</tool_call>", 0, NULL,
      NULL, NULL },
    { "<tool_call>[{\"name\":\"search\"},{\"name\":\"nope\"}]</tool_call>",
      0, NULL, NULL, NULL },
    { "<tool_call>{\"name\":\"search\",\"arguments\":{\"a\":[1,2}}"
      "</tool_call>", 0, NULL, NULL, NULL },
    { "```json\n{\"name\":\"search\",\"arguments\":{\n```", 0, NULL, NULL,
      NULL },
    { "text {\"name\":\"search\",\"arguments\":{}} inline", 0, NULL, NULL,
      NULL },

    /* tool definitions quoted back are not calls (outside a block) */
    { "The tools:\n{\"name\":\"search\",\"parameters\":{\"type\":"
      "\"object\",\"properties\":{}}}\n{\"name\":\"get_weather\","
      "\"description\":\"x\",\"parameters\":{}}", 0, NULL, NULL, NULL },
    { "```json\n{\"name\":\"search\",\"parameters\":{}}\n```", 0, NULL,
      NULL, NULL },
    { "[{\"name\":\"search\",\"input\":{}}]", 0, NULL, NULL, NULL },

    /* a broken call beside a good one: the broken one stays text */
    { "<tool_call>{\"name\":\"search\",</tool_call>\n<tool_call>{\"name\":"
      "\"search\",\"arguments\":{\"ok\":true}}</tool_call>", 1,
      "search {\"ok\":true}", NULL,
      "<tool_call>{\"name\":\"search\",</tool_call>" },
};


static void
check_call(const ngx_gp_tool_call_t *c, const char *want)
{
    char  got[512];

    snprintf(got, sizeof(got), "%s %s", c->name, c->arguments);
    assert_string_equal(got, want);
}


static void
check_case(const tools_case_t *tc, ngx_gp_tools_answer_t *a)
{
    if (a->ncalls != tc->ncalls) {
        print_error("case: %s\n", tc->in);
    }

    assert_int_equal(a->ncalls, tc->ncalls);

    if (tc->call1) {
        check_call(&a->calls[0], tc->call1);
    }

    if (tc->call2) {
        check_call(&a->calls[1], tc->call2);
    }

    if (tc->ncalls == 0) {
        assert_null(a->calls);
    }

    assert_string_equal(a->text, tc->text ? tc->text : tc->in);
    assert_int_equal(a->text_len, strlen(a->text));
}


static void
test_parse_cases(void **state)
{
    size_t                 i;
    ngx_gp_tools_answer_t  a;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ngx_gp_tools_parse(cases[i].in, strlen(cases[i].in),
                                            tools, NTOOLS, 1, "T", &a),
                         0);
        check_case(&cases[i], &a);
        ngx_gp_tools_answer_free(&a);
    }
}


static void
test_parse_ids_parallel(void **state)
{
    const char             *in;
    ngx_gp_tools_answer_t   a;

    in = cases[7].in;

    assert_int_equal(ngx_gp_tools_parse(in, strlen(in), tools, NTOOLS, 1,
                                        "abc", &a), 0);
    assert_int_equal(a.ncalls, 2);
    assert_string_equal(a.calls[0].id, "call_abc0");
    assert_string_equal(a.calls[1].id, "call_abc1");
    ngx_gp_tools_answer_free(&a);

    /* parallel_tool_calls false: the first call only */
    assert_int_equal(ngx_gp_tools_parse(in, strlen(in), tools, NTOOLS, 0,
                                        "abc", &a), 0);
    assert_int_equal(a.ncalls, 1);
    check_call(&a.calls[0], "get_weather {\"city\":\"A\"}");
    ngx_gp_tools_answer_free(&a);

    /* no tools defined: nothing is a call */
    assert_int_equal(ngx_gp_tools_parse(in, strlen(in), NULL, 0, 1, NULL,
                                        &a), 0);
    assert_int_equal(a.ncalls, 0);
    assert_string_equal(a.text, in);
    ngx_gp_tools_answer_free(&a);

    assert_int_equal(ngx_gp_tools_parse(NULL, 0, tools, NTOOLS, 1, NULL,
                                        &a), 0);
    assert_string_equal(a.text, "");
    ngx_gp_tools_answer_free(&a);
}


/* many almost-calls: linear time, the text as it was; 64 calls at most */

static void
test_parse_limits(void **state)
{
    char                   *big, *p;
    size_t                  i, n;
    ngx_gp_tools_answer_t   a;

    static const char  unit[] = "<tool_call>{\"name\":\"search\",";
    static const char  call[] = "<tool_call>{\"name\":\"search\"}</tool_call>";

    n = 40000;
    big = malloc(n * (sizeof(unit) - 1) + 1);
    assert_non_null(big);

    for (p = big, i = 0; i < n; i++) {
        memcpy(p, unit, sizeof(unit) - 1);
        p += sizeof(unit) - 1;
    }

    *p = '\0';

    assert_int_equal(ngx_gp_tools_parse(big, (size_t) (p - big), tools,
                                        NTOOLS, 1, "x", &a), 0);
    assert_int_equal(a.ncalls, 0);
    assert_int_equal(a.text_len, (size_t) (p - big));
    ngx_gp_tools_answer_free(&a);

    /* an unbalanced brace at every line start */
    for (p = big, i = 0; i < n; i++) {
        memcpy(p, "\n{\"a\":[", 7);
        p += 7;
    }

    assert_int_equal(ngx_gp_tools_parse(big, (size_t) (p - big), tools,
                                        NTOOLS, 1, "x", &a), 0);
    assert_int_equal(a.ncalls, 0);
    ngx_gp_tools_answer_free(&a);

    for (p = big, i = 0; i < 100; i++) {
        memcpy(p, call, sizeof(call) - 1);
        p += sizeof(call) - 1;
    }

    assert_int_equal(ngx_gp_tools_parse(big, (size_t) (p - big), tools,
                                        NTOOLS, 1, "x", &a), 0);
    assert_int_equal(a.ncalls, 64);
    ngx_gp_tools_answer_free(&a);

    free(big);
}


/*
 * A streamed answer cut anywhere: what goes out at once and what is held
 * make the answer again, no call text goes out early, and the held text
 * gives the calls of the whole.
 */

static void
feed_cut(const tools_case_t *tc, const size_t *cuts, size_t ncuts)
{
    char                    out[4096];
    size_t                  i, from, to, olen, n, hlen;
    const char             *o, *held;
    ngx_gp_tools_hold_t     h;
    ngx_gp_tools_answer_t   a;

    memset(&h, 0, sizeof(ngx_gp_tools_hold_t));
    olen = 0;
    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = i < ncuts ? cuts[i] : strlen(tc->in);

        assert_int_equal(ngx_gp_tools_feed(&h, tc->in + from, to - from,
                                           1 << 20, &o, &n), 0);
        memcpy(out + olen, o, n);
        olen += n;
        from = to;
    }

    held = ngx_gp_tools_held(&h, &hlen);

    assert_int_equal(olen + hlen, strlen(tc->in));
    assert_memory_equal(out, tc->in, olen);
    assert_memory_equal(held, tc->in + olen, hlen);

    if (tc->ncalls) {
        assert_null(memmem(out, olen, "<tool_call", 10));
    }

    assert_int_equal(ngx_gp_tools_parse(held, hlen, tools, NTOOLS, 1, "T",
                                        &a), 0);
    assert_int_equal(a.ncalls, tc->ncalls);

    if (tc->call1) {
        check_call(&a.calls[0], tc->call1);
    }

    ngx_gp_tools_answer_free(&a);
    ngx_gp_tools_hold_free(&h);
}


static void
test_hold_cuts(void **state)
{
    size_t    i, j, k, len, cuts[8], ncuts;
    uint64_t  rs;

    rs = 20261206;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].in);

        /* whole, and cut in two at every place */
        feed_cut(&cases[i], NULL, 0);

        for (j = 0; j <= len; j++) {
            cuts[0] = j;
            feed_cut(&cases[i], cuts, 1);
        }

        /* cut at random places */
        for (k = 0; k < 200; k++) {
            ncuts = unit_rand_n(&rs, 8);

            for (j = 0; j < ncuts; j++) {
                cuts[j] = unit_rand_n(&rs, len + 1);
            }

            /* sorted */
            for (j = 1; j < ncuts; j++) {
                size_t  t, m;

                for (m = j; m > 0 && cuts[m - 1] > cuts[m]; m--) {
                    t = cuts[m];
                    cuts[m] = cuts[m - 1];
                    cuts[m - 1] = t;
                }
            }

            feed_cut(&cases[i], cuts, ncuts);
        }
    }
}


/* plain text streams at once; a possible start waits for the next piece */

static void
test_hold_plain(void **state)
{
    size_t               n;
    const char          *o;
    ngx_gp_tools_hold_t  h;

    memset(&h, 0, sizeof(ngx_gp_tools_hold_t));

    assert_int_equal(ngx_gp_tools_feed(&h, "Hello, ", 7, 100, &o, &n), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(o, "Hello, ", 7);

    assert_int_equal(ngx_gp_tools_feed(&h, "a <tool", 7, 100, &o, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(o, "a ", 2);

    assert_int_equal(ngx_gp_tools_feed(&h, "s> b {x}", 8, 100, &o, &n), 0);
    assert_int_equal(n, 13);
    assert_memory_equal(o, "<tools> b {x}", 13);

    assert_int_equal(ngx_gp_tools_feed(&h, "\n``", 3, 100, &o, &n), 0);
    assert_int_equal(n, 1);

    assert_int_equal(ngx_gp_tools_feed(&h, "`py", 3, 100, &o, &n), 0);
    assert_int_equal(n, 0);
    assert_true(h.holding);

    assert_int_equal(ngx_gp_tools_feed(&h, "x", 1, 100, &o, &n), 0);
    assert_int_equal(n, 0);

    o = ngx_gp_tools_held(&h, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(o, "```pyx", 6);

    /* more than max held */
    assert_int_equal(ngx_gp_tools_feed(&h, "0123456789", 10, 12, &o, &n),
                     -1);

    ngx_gp_tools_hold_free(&h);

    /* "[" first holds, "[" later does not */
    memset(&h, 0, sizeof(ngx_gp_tools_hold_t));
    assert_int_equal(ngx_gp_tools_feed(&h, " \n[1]", 5, 100, &o, &n), 0);
    assert_int_equal(n, 2);
    ngx_gp_tools_hold_free(&h);

    memset(&h, 0, sizeof(ngx_gp_tools_hold_t));
    assert_int_equal(ngx_gp_tools_feed(&h, "a\n[1] b\n  {", 11, 100, &o,
                                       &n), 0);
    assert_int_equal(n, 10);
    ngx_gp_tools_hold_free(&h);
}


static char *
prompt(int choice, const char *name, int parallel)
{
    size_t        n;
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    ngx_gp_buf_lit(&b, "");
    ngx_gp_tools_prompt(&b, tools, NTOOLS, choice, name, parallel);

    return ngx_gp_buf_finish(&b, &n);
}


static void
test_prompt(void **state)
{
    char  *p;

    p = prompt(NGX_GP_TOOL_AUTO, NULL, 1);
    assert_non_null(strstr(p, "[Tools]\n"));
    assert_non_null(strstr(p, "{\"name\":\"get_weather\",\"description\":"
                              "\"The weather of a city\",\"parameters\":"
                              "{\"type\":\"object\",\"properties\":"
                              "{\"city\":{\"type\":\"string\"}}}}\n"));
    assert_non_null(strstr(p, "{\"name\":\"search\",\"parameters\":"
                              "{\"type\":\"object\",\"properties\":{}}}\n"));
    assert_non_null(strstr(p, "<tool_call>\n{\"name\": \"function_name\", "
                              "\"arguments\": {\"key\": \"value\"}}\n"
                              "</tool_call>\n"));
    assert_non_null(strstr(p, "one block per call"));
    assert_non_null(strstr(p, "only when it helps"));
    free(p);

    p = prompt(NGX_GP_TOOL_REQUIRED, NULL, 0);
    assert_non_null(strstr(p, "Call one function at most."));
    assert_non_null(strstr(p, "You must call at least one function"));
    free(p);

    p = prompt(NGX_GP_TOOL_FUNCTION, "search", 1);
    assert_non_null(strstr(p, "You must call the function \"search\""));
    free(p);

    p = prompt(NGX_GP_TOOL_NONE, NULL, 1);
    assert_string_equal(p, "");
    free(p);
}


/* the convention's own rendering of calls reads back as the same calls */

static void
test_render_round_trip(void **state)
{
    char                   *p;
    size_t                  n;
    ngx_gp_buf_t            b;
    ngx_gp_tools_answer_t   a;

    ngx_gp_tool_call_t  calls[] = {
        { "call_1", "search", "{\"q\":\"a \\\"b\\\" </tool_call>\"}" },
        { "call_2", "get_weather", "not json" },
        { "call_3", "fs.read-file", "{}" },
    };

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    ngx_gp_tools_render_calls(&b, calls, 3);
    p = ngx_gp_buf_finish(&b, &n);

    assert_string_equal(p,
        "<tool_call>\n{\"id\":\"call_1\",\"name\":\"search\",\"arguments\":"
        "{\"q\":\"a \\\"b\\\" </tool_call>\"}}\n</tool_call>\n"
        "<tool_call>\n{\"id\":\"call_2\",\"name\":\"get_weather\","
        "\"arguments\":\"not json\"}\n</tool_call>\n"
        "<tool_call>\n{\"id\":\"call_3\",\"name\":\"fs.read-file\","
        "\"arguments\":{}}\n</tool_call>");

    assert_int_equal(ngx_gp_tools_parse(p, n, tools, NTOOLS, 1, "r", &a),
                     0);

    /* the string that is not JSON is not a call: it stays text */
    assert_int_equal(a.ncalls, 2);
    check_call(&a.calls[0], "search {\"q\":\"a \\\"b\\\" </tool_call>\"}");
    check_call(&a.calls[1], "fs.read-file {}");
    assert_string_equal(a.text, "<tool_call>\n{\"id\":\"call_2\",\"name\":"
                        "\"get_weather\",\"arguments\":\"not json\"}\n"
                        "</tool_call>");
    ngx_gp_tools_answer_free(&a);
    free(p);

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    ngx_gp_tools_render_result(&b, "call_1", "search", "18 C", 4);
    ngx_gp_buf_lit(&b, "|");
    ngx_gp_tools_render_result(&b, NULL, NULL, "", 0);
    p = ngx_gp_buf_finish(&b, &n);

    assert_string_equal(p, "<tool_result id=\"call_1\" name=\"search\">\n"
                           "18 C\n</tool_result>|<tool_result>\n"
                           "</tool_result>");
    free(p);
}


static void
test_name_ok(void **state)
{
    assert_true(ngx_gp_tool_name_ok("a", 1));
    assert_true(ngx_gp_tool_name_ok("get_weather-v2.1", 16));
    assert_false(ngx_gp_tool_name_ok("", 0));
    assert_false(ngx_gp_tool_name_ok("a b", 3));
    assert_false(ngx_gp_tool_name_ok("a\"b", 3));
    assert_false(ngx_gp_tool_name_ok("a\0b", 3));
    assert_true(ngx_gp_tool_name_ok(
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
        64));
    assert_false(ngx_gp_tool_name_ok(
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345",
        65));
}


/* the Chat Completions request */

static const char  round_trip[] =
    "{\"model\":\"m\",\"tools\":[{\"type\":\"function\",\"function\":"
    "{\"name\":\"get_weather\",\"description\":\"Weather\",\"parameters\":"
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"search\"}}],"
    "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
    "\"search\"}},\"parallel_tool_calls\":false,"
    "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
    "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
    "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":"
    "\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_a\",\"content\":\"18 C\"}]}";


static void
test_request(void **state)
{
    ngx_gp_chat_req_t   r;
    ngx_gp_oai_error_t  e;

    assert_int_equal(ngx_gp_chat_req_parse(round_trip, strlen(round_trip),
                                           &r, &e), 0);
    assert_int_equal(r.ntools, 2);
    assert_string_equal(r.tools[0].name, "get_weather");
    assert_string_equal(r.tools[0].description, "Weather");
    assert_string_equal(r.tools[0].parameters,
                        "{\"type\":\"object\",\"properties\":{\"city\":"
                        "{\"type\":\"string\"}}}");
    assert_null(r.tools[1].description);
    assert_null(r.tools[1].parameters);
    assert_int_equal(r.tool_choice, NGX_GP_TOOL_FUNCTION);
    assert_string_equal(r.tool_name, "search");
    assert_int_equal(r.no_parallel, 1);

    assert_int_equal(r.nmessages, 4);
    assert_int_equal(r.messages[2].role, NGX_GP_ROLE_ASSISTANT);
    assert_int_equal(r.messages[2].ncalls, 1);
    assert_string_equal(r.messages[2].calls[0].id, "call_a");
    assert_string_equal(r.messages[2].calls[0].name, "get_weather");
    assert_string_equal(r.messages[2].calls[0].arguments,
                        "{\"city\": \"Paris\"}");
    assert_int_equal(r.messages[3].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(r.messages[3].call_id, "call_a");
    assert_string_equal(r.messages[3].text, "18 C");

    assert_int_equal(ngx_gp_chat_input(&r), 3);

    ngx_gp_chat_req_free(&r);
}


static void
test_request_plain(void **state)
{
    ngx_gp_chat_req_t   r;
    ngx_gp_oai_error_t  e;

    static const char  body[] =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"tools\":[],\"tool_choice\":\"none\"}";

    static const char  legacy[] =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
        "{\"role\":\"assistant\",\"function_call\":{\"name\":\"search\","
        "\"arguments\":\"{}\"}},{\"role\":\"function\",\"name\":\"search\","
        "\"content\":\"r\"}]}";

    assert_int_equal(ngx_gp_chat_req_parse(body, strlen(body), &r, &e), 0);
    assert_int_equal(r.ntools, 0);
    assert_int_equal(r.tool_choice, NGX_GP_TOOL_NONE);
    assert_int_equal(r.no_parallel, 0);
    ngx_gp_chat_req_free(&r);

    assert_int_equal(ngx_gp_chat_req_parse(legacy, strlen(legacy), &r, &e),
                     0);
    assert_int_equal(r.messages[1].ncalls, 1);
    assert_string_equal(r.messages[1].calls[0].id, "call_0");
    assert_string_equal(r.messages[2].name, "search");
    assert_null(r.messages[2].call_id);
    ngx_gp_chat_req_free(&r);
}


typedef struct {
    const char  *body;
    const char  *param;
    const char  *code;
} tools_error_t;


static const tools_error_t  errors[] = {
    { "\"tools\":{}", "tools", "invalid_type" },
    { "\"tools\":[1]", "tools[0]", "invalid_type" },
    { "\"tools\":[{\"type\":\"web_search\"}]", "tools[0].type",
      "invalid_value" },
    { "\"tools\":[{\"type\":\"function\"}]", "tools[0].function",
      "missing_required_parameter" },
    { "\"tools\":[{\"type\":\"function\",\"function\":{}}]",
      "tools[0].function.name", "missing_required_parameter" },
    { "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]",
      "tools[0].function.name", "invalid_value" },
    { "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\","
      "\"parameters\":[]}}]", "tools[0].function.parameters",
      "invalid_type" },
    { "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\","
      "\"description\":1}}]", "tools[0].function.description",
      "invalid_type" },
    { "\"tool_choice\":\"sometimes\"", "tool_choice", "invalid_value" },
    { "\"tool_choice\":\"required\"", "tool_choice", "invalid_value" },
    { "\"tool_choice\":{\"type\":\"function\"}", "tool_choice",
      "invalid_type" },
    { "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],"
      "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
      "\"b\"}}", "tool_choice", "invalid_value" },
    { "\"parallel_tool_calls\":1", "parallel_tool_calls", "invalid_type" },
    { "\"functions\":[]", "functions", "unsupported_parameter" },
    { "\"function_call\":\"auto\"", "function_call",
      "unsupported_parameter" },
};


static void
test_request_errors(void **state)
{
    char                body[1024];
    size_t              i;
    ngx_gp_chat_req_t   r;
    ngx_gp_oai_error_t  e;

    static const char  *msgs[][2] = {
        { "{\"role\":\"assistant\",\"tool_calls\":{}}",
          "messages[1].tool_calls" },
        { "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"x\"}]}",
          "messages[1].tool_calls[0].function" },
        { "{\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
          "{\"name\":\"\"}}]}", "messages[1].tool_calls[0].function.name" },
        { "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":1,\"function\":"
          "{\"name\":\"a\"}}]}", "messages[1].tool_calls[0].id" },
        { "{\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
          "{\"name\":\"a\",\"arguments\":[]}}]}",
          "messages[1].tool_calls[0].function.arguments" },
        { "{\"role\":\"tool\",\"tool_call_id\":7,\"content\":\"r\"}",
          "messages[1].tool_call_id" },
    };

    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        snprintf(body, sizeof(body), "{\"messages\":[{\"role\":\"user\","
                 "\"content\":\"hi\"}],%s}", errors[i].body);

        assert_int_equal(ngx_gp_chat_req_parse(body, strlen(body), &r, &e),
                         -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.type, "invalid_request_error");

        if (strcmp(e.param, errors[i].param) != 0
            || strcmp(e.code, errors[i].code) != 0)
        {
            print_error("%s: %s %s: %s\n", body, e.param, e.code,
                        e.message);
        }

        assert_string_equal(e.param, errors[i].param);
        assert_string_equal(e.code, errors[i].code);
        ngx_gp_chat_req_free(&r);
    }

    for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        snprintf(body, sizeof(body), "{\"messages\":[{\"role\":\"user\","
                 "\"content\":\"hi\"},%s]}", msgs[i][0]);

        assert_int_equal(ngx_gp_chat_req_parse(body, strlen(body), &r, &e),
                         -1);
        assert_int_equal(e.status, 400);

        if (strcmp(e.param, msgs[i][1]) != 0) {
            print_error("%s: %s: %s\n", body, e.param, e.message);
        }

        assert_string_equal(e.param, msgs[i][1]);
        ngx_gp_chat_req_free(&r);
    }
}


/* the prompt of a tool round trip, in a bound session and replayed */

static void
test_prompt_round_trip(void **state)
{
    char                *p;
    size_t               n;
    ngx_gp_chat_req_t    r;
    ngx_gp_oai_error_t   e;

    assert_int_equal(ngx_gp_chat_req_parse(round_trip, strlen(round_trip),
                                           &r, &e), 0);

    p = ngx_gp_chat_prompt(&r, 0, &n);
    assert_non_null(p);
    assert_true(strncmp(p, "[System Instruction]\nBe brief.\n\n[Tools]\n",
                        40) == 0);
    assert_non_null(strstr(p, "You must call the function \"search\""));
    assert_non_null(strstr(p, "Call one function at most."));
    assert_non_null(strstr(p, "\n\n[User Message]\n<tool_result "
                              "id=\"call_a\" name=\"get_weather\">\n18 C\n"
                              "</tool_result>"));
    assert_null(strstr(p, "Weather in Paris?"));
    free(p);

    p = ngx_gp_chat_prompt(&r, 1, &n);
    assert_non_null(p);
    assert_non_null(strstr(p, "\n\n[User Message]\nUser: Weather in Paris?"
                              "\n\nAssistant:\n<tool_call>\n{\"id\":"
                              "\"call_a\",\"name\":\"get_weather\","
                              "\"arguments\":{\"city\": \"Paris\"}}\n"
                              "</tool_call>\n\n<tool_result id=\"call_a\" "
                              "name=\"get_weather\">\n18 C\n</tool_result>"));
    free(p);

    /* tool_choice none: no [Tools] block, the results still go */
    r.tool_choice = NGX_GP_TOOL_NONE;
    p = ngx_gp_chat_prompt(&r, 0, &n);
    assert_string_equal(p, "[System Instruction]\nBe brief.\n\n"
                           "[User Message]\n<tool_result id=\"call_a\" "
                           "name=\"get_weather\">\n18 C\n</tool_result>");
    free(p);

    ngx_gp_chat_req_free(&r);
}


static void
test_chat_input(void **state)
{
    size_t              i;
    ngx_gp_chat_req_t   r;
    ngx_gp_message_t    m[6];

    static const struct {
        int     roles[6];
        size_t  n;
        size_t  want;
    } cases_in[] = {
        { { 1 }, 1, 0 },
        { { 0, 1, 2, 1 }, 4, 3 },
        { { 1, 2, 3 }, 3, 2 },
        { { 1, 2, 3, 3, 1 }, 5, 2 },
        { { 1, 2, 3, 0, 3 }, 5, 2 },
        { { 1, 2 }, 2, 0 },
        { { 1, 3, 2 }, 3, 0 },
        { { 1, 2, 1, 3 }, 4, 2 },
        { { 2, 3 }, 2, 1 },
        { { 0 }, 1, 1 },
    };

    for (i = 0; i < sizeof(cases_in) / sizeof(cases_in[0]); i++) {
        size_t  j;

        memset(&r, 0, sizeof(ngx_gp_chat_req_t));
        memset(m, 0, sizeof(m));

        for (j = 0; j < cases_in[i].n; j++) {
            m[j].role = cases_in[i].roles[j];
        }

        r.messages = m;
        r.nmessages = cases_in[i].n;

        if (ngx_gp_chat_input(&r) != cases_in[i].want) {
            print_error("case %zu\n", i);
        }

        assert_int_equal(ngx_gp_chat_input(&r), cases_in[i].want);
    }
}


/* the Chat Completions shapes of calls: a message's, a stream's chunks */

static void
test_render_openai(void **state)
{
    char                 buf[2048], *p;
    size_t               n;
    ngx_gp_chunk_t       c;
    ngx_gp_completion_t  m;

    ngx_gp_tool_call_t  calls[] = {
        { "call_a0", "search", "{\"q\":\"x\"}" },
        { "call_a1", "get_weather", "{}" },
    };

    memset(&m, 0, sizeof(ngx_gp_completion_t));
    m.id = "chatcmpl-1";
    m.model = "m";
    m.created = 5;
    m.content = "";
    m.finish_reason = "tool_calls";
    m.calls = calls;
    m.ncalls = 2;

    p = ngx_gp_render_completion(&m, &n);
    assert_string_equal(p,
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
        "\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[{\"id\":\"call_a0\",\"type\":\"function\","
        "\"function\":{\"name\":\"search\",\"arguments\":"
        "\"{\\\"q\\\":\\\"x\\\"}\"}},{\"id\":\"call_a1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\","
        "\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}],"
        "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
        "\"total_tokens\":0}}");
    free(p);

    /* text beside the calls stays the content */
    m.content = "Let me see.";
    m.content_len = 11;
    m.ncalls = 1;
    p = ngx_gp_render_completion(&m, &n);
    assert_non_null(strstr(p, "\"content\":\"Let me see.\",\"tool_calls\":"
                              "[{\"id\":\"call_a0\""));
    free(p);

    memset(&c, 0, sizeof(ngx_gp_chunk_t));
    c.id = "chatcmpl-1";
    c.model = "m";
    c.created = 5;
    c.role = "assistant";
    c.call = &calls[1];
    c.call_index = 1;

    p = ngx_gp_render_chunk_into(&c, buf, sizeof(buf), &n);
    assert_ptr_equal(p, buf);
    assert_string_equal(buf,
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":1,"
        "\"id\":\"call_a1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}"
        "\n\n");

    c.role = NULL;
    c.call = &calls[0];
    c.call_index = 0;
    c.call_args = 1;

    p = ngx_gp_render_chunk_into(&c, buf, sizeof(buf), &n);
    assert_ptr_equal(p, buf);
    assert_string_equal(buf,
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"{\\\"q\\\":\\\"x\\\"}\"}}]},"
        "\"finish_reason\":null}]}\n\n");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_cases),
        cmocka_unit_test(test_parse_ids_parallel),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_hold_cuts),
        cmocka_unit_test(test_hold_plain),
        cmocka_unit_test(test_prompt),
        cmocka_unit_test(test_render_round_trip),
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_plain),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_prompt_round_trip),
        cmocka_unit_test(test_chat_input),
        cmocka_unit_test(test_render_openai),
    };

    UNIT_RUN("tools", tests);
}
