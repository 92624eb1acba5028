
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The tool-call parser and the stream hold (tools.c) over a model's
 * answer: the input is the answer text.  Properties: no call leaves the
 * text as it was; every call names a defined tool and carries a JSON
 * object; the calls rendered back in the convention parse to the same
 * calls; fed in random pieces, what goes out at once and what is held
 * make the answer again, and the held text gives the same calls.
 */


#include "fuzz.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_tools.h"


static ngx_gp_tool_t  tools[] = {
    { "search", NULL, NULL },
    { "get_weather", "The weather", "{\"type\":\"object\"}" },
    { "a", NULL, NULL },
    { "fs.read-file", NULL, NULL },
};

#define NTOOLS  (sizeof(tools) / sizeof(tools[0]))


static void
check_calls(const ngx_gp_tools_answer_t *a)
{
    size_t   i, j;
    json_t  *v;

    FUZZ_CHECK(a->text != NULL);
    FUZZ_CHECK(a->ncalls <= 64);
    FUZZ_CHECK((a->ncalls == 0) == (a->calls == NULL));

    for (i = 0; i < a->ncalls; i++) {
        FUZZ_CHECK(strncmp(a->calls[i].id, "call_", 5) == 0);

        for (j = 0; j < NTOOLS; j++) {
            if (strcmp(a->calls[i].name, tools[j].name) == 0) {
                break;
            }
        }

        FUZZ_CHECK(j < NTOOLS);

        v = json_loads(a->calls[i].arguments, 0, NULL);
        FUZZ_CHECK(json_is_object(v));
        json_decref(v);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     parallel;
    char                   *r;
    size_t                  i, off, n, olen, hlen, rlen;
    uint64_t                rs;
    const char             *o, *held, *text;
    ngx_gp_buf_t            b;
    ngx_gp_tools_hold_t     h;
    ngx_gp_tools_answer_t   a, a2, a3;

    text = (const char *) data;
    rs = fuzz_seed(data, size);
    parallel = (int) (rs & 1);

    if (ngx_gp_tools_parse(text, size, tools, NTOOLS, parallel, "f", &a)
        != 0)
    {
        return 0;
    }

    check_calls(&a);

    if (a.ncalls == 0) {
        FUZZ_SAME_MEM(a.text, a.text_len, text, size);

    } else {
        FUZZ_CHECK(a.text_len < size);
    }

    if (!parallel) {
        FUZZ_CHECK(a.ncalls <= 1);
    }

    /* the calls in the convention read back as the same calls */
    if (a.ncalls) {
        memset(&b, 0, sizeof(ngx_gp_buf_t));
        ngx_gp_tools_render_calls(&b, a.calls, a.ncalls);
        r = ngx_gp_buf_finish(&b, &rlen);

        if (r != NULL
            && ngx_gp_tools_parse(r, rlen, tools, NTOOLS, 1, "g", &a2) == 0)
        {
            FUZZ_CHECK(a2.ncalls == a.ncalls);

            for (i = 0; i < a.ncalls; i++) {
                FUZZ_SAME_STR(a2.calls[i].name, a.calls[i].name);
                FUZZ_SAME_STR(a2.calls[i].arguments, a.calls[i].arguments);
            }

            ngx_gp_tools_answer_free(&a2);
        }

        free(r);
    }

    /* the stream hold at random cuts */
    memset(&h, 0, sizeof(ngx_gp_tools_hold_t));
    olen = 0;

    for (off = 0; off < size; off += n) {
        n = 1 + fuzz_rand_n(&rs, 64);

        if (n > size - off) {
            n = size - off;
        }

        if (ngx_gp_tools_feed(&h, text + off, n, 1 << 20, &o, &hlen) != 0) {
            ngx_gp_tools_hold_free(&h);
            ngx_gp_tools_answer_free(&a);
            return 0;
        }

        FUZZ_CHECK(olen + hlen <= size);
        FUZZ_CHECK(hlen == 0 || memcmp(o, text + olen, hlen) == 0);
        olen += hlen;
    }

    held = ngx_gp_tools_held(&h, &hlen);
    FUZZ_CHECK(olen + hlen == size);
    FUZZ_CHECK(hlen == 0 || memcmp(held, text + olen, hlen) == 0);

    if (ngx_gp_tools_parse(held, hlen, tools, NTOOLS, parallel, "f", &a3)
        == 0)
    {
        check_calls(&a3);
        FUZZ_CHECK(a3.ncalls == a.ncalls);

        for (i = 0; i < a.ncalls; i++) {
            FUZZ_SAME_STR(a3.calls[i].name, a.calls[i].name);
            FUZZ_SAME_STR(a3.calls[i].arguments, a.calls[i].arguments);
        }

        ngx_gp_tools_answer_free(&a3);
    }

    ngx_gp_tools_hold_free(&h);
    ngx_gp_tools_answer_free(&a);

    return 0;
}
