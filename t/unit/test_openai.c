
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the OpenAI side: parsing, prompt, rendering.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_openai.h"


#define HEAD                                                                  \
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","      \
    "\"created\":1795677599,\"model\":\"gemini-2.5-flash\","


static ngx_gp_chunk_t
chunk(void)
{
    ngx_gp_chunk_t  c;

    memset(&c, 0, sizeof(ngx_gp_chunk_t));

    c.id = "chatcmpl-1";
    c.model = "gemini-2.5-flash";
    c.created = 1795677599;

    return c;
}


static void assert_chunk_into(const ngx_gp_chunk_t *c, const char *exp,
    size_t n);


/* a malloc'ed chunk: the storage given is too small to hold any */

static char *
render_chunk(const ngx_gp_chunk_t *c, size_t *n)
{
    char  tiny[1];

    return ngx_gp_render_chunk_into(c, tiny, sizeof(tiny), n);
}


static void
assert_chunk(const ngx_gp_chunk_t *c, const char *exp)
{
    char    *s;
    size_t   n;

    s = render_chunk(c, &n);

    assert_non_null(s);
    assert_string_equal(s, exp);
    assert_int_equal(n, strlen(exp));

    /* "data: " + JSON + "\n\n" */
    assert_true(n > 8);
    assert_memory_equal(s, "data: ", 6);
    assert_memory_equal(s + n - 2, "\n\n", 2);
    assert_true(unit_json_valid(s + 6, n - 8));

    assert_chunk_into(c, s, n);

    free(s);
}


/*
 * ngx_gp_render_chunk_into() gives the same bytes in every size of the
 * caller's buffer: in place when it fits with room to spare, else in a
 * malloc'ed copy, and never writes past the size it was given.
 */

static void
assert_chunk_into(const ngx_gp_chunk_t *c, const char *exp, size_t n)
{
    char    *buf, *p;
    size_t   size, m;

    buf = malloc(n + n / 8 + 64);
    assert_non_null(buf);

    for (size = 0; size < n + n / 8 + 64; size++) {
        memset(buf, '#', n + n / 8 + 64);

        p = ngx_gp_render_chunk_into(c, buf, size, &m);

        assert_non_null(p);
        assert_int_equal(m, n);
        assert_memory_equal(p, exp, n);
        assert_int_equal(p[n], '\0');

        if (size < n + 1) {
            assert_ptr_not_equal(p, buf);

        } else if (size >= n + n / 8 + 16) {
            assert_ptr_equal(p, buf);
        }

        if (p != buf) {
            free(p);
        }

        if (size + 1 < n + n / 8 + 64) {
            assert_int_equal(buf[size], '#');
        }
    }

    free(buf);
}


/* parses body that must be valid */

static void
parse_ok(const char *body, ngx_gp_chat_req_t *req)
{
    int                 rc;
    ngx_gp_oai_error_t  err;

    rc = ngx_gp_chat_req_parse(body, strlen(body), req, &err);

    if (rc != 0) {
        fail_msg("parse failed: %s (%s)", err.message,
                 err.param ? err.param : "-");
    }
}


static char *
prompt_of(const char *body, int replay)
{
    char               *p;
    size_t              n;
    ngx_gp_chat_req_t   req;

    parse_ok(body, &req);

    p = ngx_gp_chat_prompt(&req, replay, &n);
    assert_non_null(p);
    assert_int_equal(n, strlen(p));

    ngx_gp_chat_req_free(&req);

    return p;
}


static void
assert_prompt(const char *body, int replay, const char *exp)
{
    char  *p;

    p = prompt_of(body, replay);
    assert_string_equal(p, exp);
    free(p);
}


/* parsing */

static void
test_parse_full(void **state)
{
    ngx_gp_message_t    *m;
    ngx_gp_chat_req_t    req;
    ngx_gp_image_ref_t  *img;

    parse_ok("{\"model\":\"gemini-2.5-pro\",\"stream\":true,"
             "\"stream_options\":{\"include_usage\":true},"
             "\"conversation_id\":\"conv-1\",\"image_format\":\"markdown\","
             "\"temperature\":0.2,\"messages\":["
             "{\"role\":\"developer\",\"content\":\"Be brief.\"},"
             "{\"role\":\"system\",\"content\":[{\"type\":\"text\","
             "\"text\":\"Sys2\"}]},"
             "{\"role\":\"user\",\"content\":["
             "{\"type\":\"text\",\"text\":\"Look\"},"
             "{\"type\":\"image_url\",\"image_url\":{\"url\":"
             "\"data:image/PNG;base64,iVBO\\nRw0K\"}},"
             "{\"type\":\"image_url\",\"image_url\":"
             "\"https://example.com/a.png\"},"
             "{\"type\":\"input_audio\",\"input_audio\":{}},"
             "{\"type\":\"text\",\"text\":\"and this\"},"
             "{\"type\":\"image\",\"data\":"
             "\"data:image/jpeg;charset=x;base64,/9j/\"},"
             "{\"type\":\"file\",\"file_id\":\"file-abc\"},"
             "{\"type\":\"file\",\"file\":{\"id\":\"123\"}},"
             "{\"type\":\"file\",\"file\":{\"file_id\":\"456\"}},"
             "\"tail\",7,{\"no\":\"type\"}]},"
             "{\"role\":\"assistant\",\"content\":null},"
             "{\"role\":\"tool\",\"content\":\"result\","
             "\"tool_call_id\":\"x\"},"
             "{\"role\":\"user\",\"content\":\"last\"}]}", &req);

    assert_string_equal(req.model, "gemini-2.5-pro");
    assert_int_equal(req.stream, 1);
    assert_int_equal(req.include_usage, 1);
    assert_string_equal(req.conversation_id, "conv-1");
    assert_string_equal(req.image_format, "markdown");
    assert_int_equal(req.nmessages, 6);

    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[0].text, "Be brief.");
    assert_int_equal(req.messages[0].len, 9);
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[1].text, "Sys2");

    m = &req.messages[2];
    assert_int_equal(m->role, NGX_GP_ROLE_USER);
    assert_string_equal(m->text, "Look\nand this\ntail");
    assert_int_equal(m->len, strlen("Look\nand this\ntail"));
    assert_int_equal(m->nimages, 6);

    img = &m->images[0];
    assert_int_equal(img->kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(img->mime, "image/png");
    assert_string_equal(img->data, "iVBORw0K");
    assert_int_equal(img->data_len, 8);
    assert_null(img->url);
    assert_null(img->file_id);

    img = &m->images[1];
    assert_int_equal(img->kind, NGX_GP_IMAGE_URL);
    assert_string_equal(img->url, "https://example.com/a.png");
    assert_null(img->data);

    img = &m->images[2];
    assert_int_equal(img->kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(img->mime, "image/jpeg");
    assert_string_equal(img->data, "/9j/");

    assert_int_equal(m->images[3].kind, NGX_GP_IMAGE_FILE);
    assert_string_equal(m->images[3].file_id, "file-abc");
    assert_int_equal(m->images[4].kind, NGX_GP_IMAGE_FILE);
    assert_string_equal(m->images[4].file_id, "123");
    assert_string_equal(m->images[5].file_id, "456");

    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[3].text, "");
    assert_int_equal(req.messages[3].len, 0);
    assert_int_equal(req.messages[4].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[4].text, "result");
    assert_int_equal(req.messages[5].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[5].text, "last");

    ngx_gp_chat_req_free(&req);
    assert_null(req.messages);
    assert_int_equal(req.nmessages, 0);
}


static void
test_parse_defaults(void **state)
{
    ngx_gp_chat_req_t  req;

    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &req);

    assert_null(req.model);
    assert_int_equal(req.stream, 0);
    assert_int_equal(req.include_usage, 0);
    assert_null(req.conversation_id);
    assert_null(req.image_format);
    assert_int_equal(req.nmessages, 1);
    assert_int_equal(req.messages[0].nimages, 0);
    assert_null(req.messages[0].images);

    ngx_gp_chat_req_free(&req);

    parse_ok("{\"model\":\"\",\"stream\":null,\"stream_options\":null,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
             "\"prompts\":\"ignored when messages exist\"}", &req);
    assert_null(req.model);
    assert_int_equal(req.stream, 0);
    ngx_gp_chat_req_free(&req);

    parse_ok("{\"model\":null,\"stream\":false,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}",
             &req);
    assert_null(req.model);
    assert_int_equal(req.messages[0].len, 3);
    assert_memory_equal(req.messages[0].text, "a\0b", 4);
    ngx_gp_chat_req_free(&req);
}


static void
test_parse_prompts(void **state)
{
    ngx_gp_chat_req_t  req;

    parse_ok("{\"model\":\"m\",\"prompts\":[{\"role\":\"user\",\"text\":"
             "\"hello\",\"files\":[{\"type\":\"image\",\"data\":"
             "\"data:image/png;base64,QUJD\"},{\"type\":\"doc\","
             "\"data\":\"x\"}]},{\"text\":\"again\"}]}", &req);

    assert_string_equal(req.model, "m");
    assert_int_equal(req.nmessages, 2);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[0].text, "hello");
    assert_int_equal(req.messages[0].nimages, 1);
    assert_int_equal(req.messages[0].images[0].kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(req.messages[0].images[0].mime, "image/png");
    assert_string_equal(req.messages[0].images[0].data, "QUJD");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[1].text, "again");

    ngx_gp_chat_req_free(&req);
}


typedef struct {
    const char  *body;
    const char  *code;
    const char  *param;    /* "*": not checked */
    const char  *msg;      /* a substring of the message */
} bad_case_t;


static void
test_parse_errors(void **state)
{
    int                 rc;
    size_t              i;
    ngx_gp_oai_error_t  err;
    ngx_gp_chat_req_t   req;

#define U  "{\"role\":\"user\",\"content\":\"hi\"}"
#define C(x)  "{\"messages\":[{\"role\":\"user\",\"content\":[" x "]}]}"

    static const bad_case_t  bad[] = {
        { "{", "invalid_json", NULL,
          "We could not parse the JSON body of your request: " },
        { "", "invalid_json", NULL, "(line " },
        { "{\"messages\":[" U "]} x", "invalid_json", NULL, "line 1" },
        { "[]", "invalid_type", NULL, "must be a JSON object" },
        { "42", "invalid_type", NULL, "but got an integer" },
        { "{}", "missing_required_parameter", "messages",
          "Missing required parameter: 'messages'." },
        { "{\"messages\":{}}", "invalid_type", "messages",
          "expected an array" },
        { "{\"messages\":[]}", "invalid_value", "messages", "empty array" },
        { "{\"messages\":[1]}", "invalid_type", "messages[0]",
          "expected an object" },
        { "{\"messages\":[{\"content\":\"x\"}]}",
          "missing_required_parameter", "messages[0].role",
          "'messages[0].role'" },
        { "{\"messages\":[" U "," U ",{\"content\":\"x\"}]}",
          "missing_required_parameter", "messages[2].role",
          "Missing required parameter: 'messages[2].role'." },
        { "{\"messages\":[" U ",{\"role\":\"wizard\",\"content\":\"x\"}]}",
          "invalid_value", "messages[1].role", "'wizard'" },
        { "{\"messages\":[{\"role\":5,\"content\":\"x\"}]}", "invalid_type",
          "messages[0].role", "expected a string" },
        { "{\"messages\":[{\"role\":\"user\",\"content\":5}]}",
          "invalid_type", "messages[0].content", "but got an integer" },
        { "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}",
          "invalid_type", "messages[0].content", "but got an object" },
        { "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"},"
          "{\"role\":\"assistant\",\"content\":\"y\"}]}",
          "invalid_value", "messages", "role 'user'" },
        { "{\"model\":5,\"messages\":[" U "]}", "invalid_type", "model",
          "Invalid type for 'model'" },
        { "{\"stream\":\"yes\",\"messages\":[" U "]}", "invalid_type",
          "stream", "expected a boolean" },
        { "{\"stream_options\":[],\"messages\":[" U "]}", "invalid_type",
          "stream_options", "expected an object" },
        { "{\"stream_options\":{\"include_usage\":1},\"messages\":[" U "]}",
          "invalid_type", "stream_options.include_usage",
          "expected a boolean" },
        { "{\"conversation_id\":5,\"messages\":[" U "]}", "invalid_type",
          "conversation_id", "expected a string" },
        { "{\"image_format\":[],\"messages\":[" U "]}", "invalid_type",
          "image_format", "expected a string" },
        { C("{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image_url\","
            "\"image_url\":{\"url\":\"ftp://x/y.png\"}}"),
          "invalid_value", "messages[0].content[1].image_url.url",
          "http(s)" },
        { C("{\"type\":\"image_url\",\"image_url\":\"file:///etc/passwd\"}"),
          "invalid_value", "messages[0].content[0].image_url", "data:" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://\"}}"),
          "invalid_value", "messages[0].content[0].image_url.url", NULL },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"http://a/b\\r\\nHost: x\"}}"),
          "invalid_value", "messages[0].content[0].image_url.url", NULL },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"https://a/\\u0000\"}}"),
          "invalid_value", "messages[0].content[0].image_url.url", NULL },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png,abc\"}}"),
          "invalid_value", "messages[0].content[0].image_url.url",
          "only base64" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,ab$c\"}}"),
          "invalid_value", "messages[0].content[0].image_url.url",
          "not valid base64" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,\"}}"),
          "invalid_value", "*", "not valid base64" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,QUJDR\"}}"),
          "invalid_value", "*", "not valid base64" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,QQ==QQ==\"}}"),
          "invalid_value", "*", "not valid base64" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/p\\\"ng;base64,QUJD\"}}"),
          "invalid_value", "*", "bad media type" },
        { C("{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64QUJD\"}}"),
          "invalid_value", "*", "no ','" },
        { C("{\"type\":\"image_url\"}"), "missing_required_parameter",
          "messages[0].content[0].image_url", NULL },
        { C("{\"type\":\"image_url\",\"image_url\":{}}"),
          "missing_required_parameter",
          "messages[0].content[0].image_url.url", NULL },
        { C("{\"type\":\"image\"}"), "missing_required_parameter",
          "messages[0].content[0].data", NULL },
        { C("{\"type\":\"text\",\"text\":5}"), "invalid_type",
          "messages[0].content[0].text", "expected a string" },
        { C("{\"type\":\"text\"}"), "missing_required_parameter",
          "messages[0].content[0].text", NULL },
        { C("{\"type\":\"file\",\"file\":{}}"), "missing_required_parameter",
          "messages[0].content[0].file_id", NULL },
        { "{\"prompts\":{}}", "invalid_type", "prompts", NULL },
        { "{\"prompts\":[]}", "invalid_value", "prompts", "empty array" },
        { "{\"prompts\":[5]}", "invalid_type", "prompts[0]", NULL },
        { "{\"prompts\":[{\"role\":\"bot\"}]}", "invalid_value",
          "prompts[0].role", NULL },
        { "{\"prompts\":[{\"text\":5}]}", "invalid_type", "prompts[0].text",
          NULL },
        { "{\"prompts\":[{\"text\":\"a\",\"files\":{}}]}", "invalid_type",
          "prompts[0].files", NULL },
        { "{\"prompts\":[{\"text\":\"a\",\"files\":[{\"type\":\"image\"}]}]}",
          "missing_required_parameter", "prompts[0].files[0].data", NULL },
        { "{\"prompts\":[{\"text\":\"a\",\"files\":[{\"type\":\"image\","
          "\"data\":\"gopher://x\"}]}]}",
          "invalid_value", "prompts[0].files[0].data", NULL },
        { "{\"prompts\":[{\"role\":\"assistant\",\"text\":\"a\"}]}",
          "invalid_value", "messages", "role 'user'" },
    };

#undef U
#undef C

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0x5a, sizeof(err));

        rc = ngx_gp_chat_req_parse(bad[i].body, strlen(bad[i].body), &req,
                                   &err);

        if (rc != -1) {
            fail_msg("case %zu accepted: %s", i, bad[i].body);
        }

        assert_int_equal(err.status, 400);
        assert_string_equal(err.type, "invalid_request_error");

        if (strcmp(err.code, bad[i].code) != 0) {
            fail_msg("case %zu: code %s, expected %s (%s)", i, err.code,
                     bad[i].code, err.message);
        }

        if (bad[i].param == NULL) {
            assert_null(err.param);

        } else if (strcmp(bad[i].param, "*") != 0) {
            assert_non_null(err.param);
            assert_string_equal(err.param, bad[i].param);
        }

        if (bad[i].msg && strstr(err.message, bad[i].msg) == NULL) {
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i,
                     err.message, bad[i].msg);
        }

        ngx_gp_chat_req_free(&req);
    }
}


static void
test_parse_error_renders(void **state)
{
    int                 rc;
    char               *s;
    size_t              n;
    const char         *body;
    ngx_gp_oai_error_t  err;
    ngx_gp_chat_req_t   req;

    body = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
           "{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"r\\\"x\"}]}";

    rc = ngx_gp_chat_req_parse(body, strlen(body), &req, &err);
    assert_int_equal(rc, -1);

    s = ngx_gp_render_error(&err, &n);

    assert_string_equal(s,
        "{\"error\":{\"message\":\"Invalid value: 'r\\\"x'. Supported values "
        "are: 'system', 'developer', 'user', 'assistant' and 'tool'.\","
        "\"type\":\"invalid_request_error\",\"param\":\"messages[2].role\","
        "\"code\":\"invalid_value\"}}");
    assert_int_equal(n, strlen(s));

    free(s);
    ngx_gp_chat_req_free(&req);
}


/* the prompt */

static void
test_prompt_reference(void **state)
{
    /* reference-requests.json: nonstream_text, system_prompt, history */

    assert_prompt("{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":"
                  "\"user\",\"content\":\"Hello reference, please echo this "
                  "sentence back to me.\"}]}", 0,
                  "Hello reference, please echo this sentence back to me.");

    assert_prompt("{\"messages\":[{\"role\":\"system\",\"content\":"
                  "\"You are terse.\"},{\"role\":\"user\",\"content\":"
                  "\"What is two plus two?\"}]}", 0,
                  "[System Instruction]\nYou are terse.\n\n"
                  "[User Message]\nWhat is two plus two?");

    assert_prompt("{\"messages\":[{\"role\":\"user\",\"content\":\"first "
                  "question\"},{\"role\":\"assistant\",\"content\":\"first "
                  "answer\"},{\"role\":\"user\",\"content\":\"second "
                  "question\"}]}", 0,
                  "second question");
}


static void
test_prompt_system_join(void **state)
{
    assert_prompt("{\"messages\":[{\"role\":\"developer\",\"content\":\"A\"},"
                  "{\"role\":\"user\",\"content\":\"q\"},"
                  "{\"role\":\"system\",\"content\":[{\"type\":\"text\","
                  "\"text\":\"B\"}]},{\"role\":\"system\",\"content\":\"\"}]}",
                  0,
                  "[System Instruction]\nA\n\nB\n\n[User Message]\nq");

    /* an empty system message adds no block */

    assert_prompt("{\"messages\":[{\"role\":\"system\",\"content\":\"\"},"
                  "{\"role\":\"user\",\"content\":\"q\"}]}", 0, "q");
}


static void
test_prompt_user_query(void **state)
{
    assert_prompt("{\"messages\":[{\"role\":\"user\",\"content\":"
                  "\"<context>x</context>\\n<user_query>\\n  What now?\\n"
                  "</user_query>\\n<extra/>\"}]}", 0, "What now?");

    /* no closing tag: the text is kept */

    assert_prompt("{\"messages\":[{\"role\":\"user\",\"content\":"
                  "\"<user_query>open\"}]}", 0, "<user_query>open");

    /* multi-part text joined with \n, then the tag */

    assert_prompt("{\"messages\":[{\"role\":\"user\",\"content\":["
                  "{\"type\":\"text\",\"text\":\"<user_query>a\"},"
                  "{\"type\":\"text\",\"text\":\"b</user_query>\"}]}]}", 0,
                  "a\nb");
}


static void
test_prompt_replay(void **state)
{
    const char  *history;

    history = "{\"messages\":[{\"role\":\"user\",\"content\":\"first "
              "question\"},{\"role\":\"assistant\",\"content\":\"first "
              "answer\"},{\"role\":\"user\",\"content\":\"second "
              "question\"}]}";

    assert_prompt(history, 1,
                  "User: first question\n\nAssistant: first answer\n\n"
                  "User: second question");

    /* a single message replays as itself */

    assert_prompt("{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                  "{\"role\":\"user\",\"content\":\"only\"}]}", 1,
                  "[System Instruction]\nS\n\n[User Message]\nonly");

    /* system block, images, tools, user_query, trailing assistant */

    assert_prompt("{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                  "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                  "\"text\":\"q1\"},{\"type\":\"image_url\",\"image_url\":"
                  "\"https://x/y.png\"}]},"
                  "{\"role\":\"assistant\",\"content\":\"a1\"},"
                  "{\"role\":\"assistant\",\"content\":null},"
                  "{\"role\":\"tool\",\"content\":\"t\"},"
                  "{\"role\":\"user\",\"content\":\"<user_query>q2"
                  "</user_query>\"},"
                  "{\"role\":\"user\",\"content\":[{\"type\":\"image\","
                  "\"data\":\"data:image/png;base64,QUJD\"}]},"
                  "{\"role\":\"assistant\",\"content\":\"prefill\"}]}", 1,
                  "[System Instruction]\nS\n\n[User Message]\n"
                  "User: q1 [image]\n\nAssistant: a1\n\nTool: t\n\n"
                  "User: q2\n\nUser: [image]");

    /* earlier turns without content do not make a transcript */

    assert_prompt("{\"messages\":[{\"role\":\"assistant\",\"content\":null},"
                  "{\"role\":\"user\",\"content\":\"q\"}]}", 1, "q");
}


static void
test_prompt_no_user(void **state)
{
    size_t              n;
    ngx_gp_message_t    m;
    ngx_gp_chat_req_t   req;

    memset(&m, 0, sizeof(ngx_gp_message_t));
    memset(&req, 0, sizeof(ngx_gp_chat_req_t));

    m.role = NGX_GP_ROLE_ASSISTANT;
    m.text = "x";
    m.len = 1;

    req.messages = &m;
    req.nmessages = 1;

    assert_null(ngx_gp_chat_prompt(&req, 0, &n));
    assert_null(ngx_gp_chat_prompt(&req, 1, &n));

    req.nmessages = 0;
    assert_null(ngx_gp_chat_prompt(&req, 0, &n));
}


/* rendering */

static void
test_estimate_tokens(void **state)
{
    assert_int_equal(ngx_gp_estimate_tokens("", 0), 0);
    assert_int_equal(ngx_gp_estimate_tokens("abcd", 4), 1);
    assert_int_equal(ngx_gp_estimate_tokens("abcde", 5), 2);
    assert_int_equal(ngx_gp_estimate_tokens("hello world, this is a test",
                                            27), 7);
    assert_int_equal(ngx_gp_estimate_tokens("\xe4\xb8\xad\xe6\x96\x87", 6),
                     2);
    assert_int_equal(ngx_gp_estimate_tokens("ab\xe4\xb8\xad" "cd", 7), 3);
    assert_int_equal(ngx_gp_estimate_tokens("\xc3\xa9", 2), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xc3\xa9\xc3\xa9\xc3\xa9", 6),
                     2);
    assert_int_equal(ngx_gp_estimate_tokens("\xf0\x9f\x9a\x80", 4), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xe3\x81\x82", 3), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xed\x95\x9c", 3), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xe1\x84\x80", 3), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xff\xff\xff\xff\xff", 5), 2);

    /* U+2E7F is below the line, U+2E80 is on it */
    assert_int_equal(ngx_gp_estimate_tokens("\xe2\xb9\xbf", 3), 1);
    assert_int_equal(ngx_gp_estimate_tokens("\xe2\xb9\xbf\xe2\xb9\xbf", 6),
                     2);
    assert_int_equal(ngx_gp_estimate_tokens("\xe2\xba\x80\xe2\xba\x80", 6),
                     2);
}


static void
test_render_chunks(void **state)
{
    ngx_gp_chunk_t  c;

    c = chunk();
    c.role = "assistant";
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                 "\"assistant\"},\"finish_reason\":null}]}\n\n");

    c = chunk();
    c.content = "he said \"hi\"\n\ttab \\ \xc3\xa9 \xe4\xb8\xad "
                "\xf0\x9f\x9a\x80 \x01\x1f\x7f/";
    c.content_len = strlen(c.content);
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                 "\"he said \\\"hi\\\"\\n\\ttab \\\\ \xc3\xa9 \xe4\xb8\xad "
                 "\xf0\x9f\x9a\x80 \\u0001\\u001f\x7f/\"},"
                 "\"finish_reason\":null}]}\n\n");

    c = chunk();
    c.reasoning = "hmm\r\b\f";
    c.reasoning_len = 6;
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":"
                 "{\"reasoning_content\":\"hmm\\r\\b\\f\"},"
                 "\"finish_reason\":null}]}\n\n");

    c = chunk();
    c.role = "assistant";
    c.content = "abcdef";
    c.content_len = 3;
    c.reasoning = "";
    c.reasoning_len = 0;
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                 "\"assistant\",\"content\":\"abc\",\"reasoning_content\":"
                 "\"\"},\"finish_reason\":null}]}\n\n");

    c = chunk();
    c.finish_reason = "stop";
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{},"
                 "\"finish_reason\":\"stop\"}]}\n\n");

    c = chunk();
    c.content = "a\0b";
    c.content_len = 3;
    c.finish_reason = "length";
    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                 "\"a\\u0000b\"},\"finish_reason\":\"length\"}]}\n\n");
}


static void
test_render_usage_chunks(void **state)
{
    ngx_gp_usage_t  u;
    ngx_gp_chunk_t  c;

    u.prompt_tokens = 54;
    u.completion_tokens = 129;

    c = chunk();
    c.usage = &u;
    assert_chunk(&c, HEAD "\"choices\":[],\"usage\":{\"prompt_tokens\":54,"
                 "\"completion_tokens\":129,\"total_tokens\":183}}\n\n");

    /* huge counts */

    u.prompt_tokens = UINT64_C(9223372036854775806);
    u.completion_tokens = 1;
    c = chunk();
    c.usage = &u;
    c.created = -1;
    c.id = NULL;
    c.model = "m";
    assert_chunk(&c, "data: {\"id\":null,\"object\":\"chat.completion.chunk\","
                 "\"created\":-1,\"model\":\"m\",\"choices\":[],\"usage\":"
                 "{\"prompt_tokens\":9223372036854775806,"
                 "\"completion_tokens\":1,"
                 "\"total_tokens\":9223372036854775807}}\n\n");
}


static void
test_render_invalid_utf8(void **state)
{
    ngx_gp_chunk_t  c;

    c = chunk();

    /* stray byte, truncated sequence, overlong, surrogate, > U+10FFFF */

    c.content = "a\xff" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf4\x90\x80"
                "\x80" "f\xe4\xb8";
    c.content_len = strlen(c.content);

    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                 "\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
                 "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                 "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                 "f\xef\xbf\xbd\xef\xbf\xbd\"},"
                 "\"finish_reason\":null}]}\n\n");

    /* U+10FFFF and U+FFFF themselves are fine */

    c.content = "\xf4\x8f\xbf\xbf\xef\xbf\xbf";
    c.content_len = 7;

    assert_chunk(&c, HEAD "\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                 "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"},"
                 "\"finish_reason\":null}]}\n\n");
}


static void
test_render_random_round_trip(void **state)
{
    int              i;
    char            *s, in[128], *q;
    size_t           n, len, k;
    json_t          *j, *v;
    uint64_t         rs;
    uint32_t         cp;
    ngx_gp_chunk_t   c;

    rs = 20240601;

    for (i = 0; i < 3000; i++) {
        len = unit_rand_n(&rs, 64);

        if (i % 2) {
            /* arbitrary bytes: the output must still be valid JSON */

            for (k = 0; k < len; k++) {
                in[k] = (char) unit_rand(&rs);
            }

        } else {
            /* valid UTF-8: must come back unchanged */

            q = in;

            while ((size_t) (q - in) + 4 < len + 4 && q - in < 100) {
                switch (unit_rand_n(&rs, 4)) {
                case 0:
                    cp = (uint32_t) unit_rand_n(&rs, 0x80);
                    break;
                case 1:
                    cp = 0x80 + (uint32_t) unit_rand_n(&rs, 0x780);
                    break;
                case 2:
                    cp = 0x800 + (uint32_t) unit_rand_n(&rs, 0xf800);
                    if (cp >= 0xd800 && cp < 0xe000) {
                        cp = 0x4e2d;
                    }
                    break;
                default:
                    cp = 0x10000 + (uint32_t) unit_rand_n(&rs, 0x100000);
                    break;
                }

                if (cp < 0x80) {
                    *q++ = (char) cp;

                } else if (cp < 0x800) {
                    *q++ = (char) (0xc0 | (cp >> 6));
                    *q++ = (char) (0x80 | (cp & 0x3f));

                } else if (cp < 0x10000) {
                    *q++ = (char) (0xe0 | (cp >> 12));
                    *q++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *q++ = (char) (0x80 | (cp & 0x3f));

                } else {
                    *q++ = (char) (0xf0 | (cp >> 18));
                    *q++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                    *q++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *q++ = (char) (0x80 | (cp & 0x3f));
                }
            }

            len = (size_t) (q - in);
        }

        c = chunk();
        c.content = in;
        c.content_len = len;

        s = render_chunk(&c, &n);
        assert_non_null(s);
        assert_int_equal(n, strlen(s));

        j = json_loadb(s + 6, n - 8, JSON_ALLOW_NUL, NULL);
        if (j == NULL) {
            fail_msg("iteration %d: invalid JSON %s", i, s);
        }

        v = json_object_get(json_object_get(json_array_get(
                json_object_get(j, "choices"), 0), "delta"), "content");
        assert_true(json_is_string(v));

        if (i % 2 == 0) {
            assert_int_equal(json_string_length(v), len);
            assert_memory_equal(json_string_value(v), in, len);
        }

        json_decref(j);
        free(s);
    }
}


static void
test_render_completion(void **state)
{
    char                 *s;
    size_t                n;
    ngx_gp_completion_t   c;

    memset(&c, 0, sizeof(ngx_gp_completion_t));

    c.id = "chatcmpl-7ee5b4d9";
    c.model = "gemini-2.5-flash";
    c.created = 1795677593;
    c.content = "echo: \"quoted\" {brace} [bracket] ]} back\\slash "
                "\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 end.\n";
    c.content_len = strlen(c.content);
    c.finish_reason = "stop";
    c.usage.prompt_tokens = 54;
    c.usage.completion_tokens = 129;

    s = ngx_gp_render_completion(&c, &n);

    assert_string_equal(s,
        "{\"id\":\"chatcmpl-7ee5b4d9\",\"object\":\"chat.completion\","
        "\"created\":1795677593,\"model\":\"gemini-2.5-flash\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"echo: \\\"quoted\\\" {brace} [bracket] ]} "
        "back\\\\slash \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 "
        "end.\\n\"},\"finish_reason\":\"stop\"}],\"usage\":"
        "{\"prompt_tokens\":54,\"completion_tokens\":129,"
        "\"total_tokens\":183}}");
    assert_int_equal(n, strlen(s));
    assert_true(unit_json_valid(s, n));

    free(s);

    c.reasoning = "why";
    c.reasoning_len = 3;
    c.content = NULL;
    c.finish_reason = NULL;
    c.usage.prompt_tokens = 0;
    c.usage.completion_tokens = 0;

    s = ngx_gp_render_completion(&c, &n);

    assert_string_equal(s,
        "{\"id\":\"chatcmpl-7ee5b4d9\",\"object\":\"chat.completion\","
        "\"created\":1795677593,\"model\":\"gemini-2.5-flash\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":null,\"reasoning_content\":\"why\"},"
        "\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":0,"
        "\"completion_tokens\":0,\"total_tokens\":0}}");

    free(s);
}


static void
test_render_error(void **state)
{
    char                *s;
    size_t               n;
    ngx_gp_oai_error_t   err, copy;

    ngx_gp_oai_error_set(&err, 429, "rate_limit_error", NULL, NULL,
                         "All %d accounts are cooling down", 3);

    assert_int_equal(err.status, 429);
    assert_null(err.param);
    assert_null(err.code);

    s = ngx_gp_render_error(&err, &n);
    assert_string_equal(s,
        "{\"error\":{\"message\":\"All 3 accounts are cooling down\","
        "\"type\":\"rate_limit_error\",\"param\":null,\"code\":null}}");
    assert_int_equal(n, strlen(s));
    free(s);

    ngx_gp_oai_error_set(&err, 404, "invalid_request_error",
                         "model_not_found", "model",
                         "The model `%s` does not exist", "x\"\n");

    s = ngx_gp_render_error(&err, NULL);
    assert_string_equal(s,
        "{\"error\":{\"message\":\"The model `x\\\"\\n` does not exist\","
        "\"type\":\"invalid_request_error\",\"param\":\"model\","
        "\"code\":\"model_not_found\"}}");
    free(s);

    /* a copy re-pointed at its own buffer renders the same */

    copy = err;
    copy.param = copy.param_buf;
    memset(&err, 0, sizeof(err));

    s = ngx_gp_render_error(&copy, NULL);
    assert_non_null(strstr(s, "\"param\":\"model\""));
    free(s);

    /* NULL type: a generic one */

    memset(&err, 0, sizeof(err));
    s = ngx_gp_render_error(&err, NULL);
    assert_string_equal(s,
        "{\"error\":{\"message\":\"\",\"type\":\"api_error\","
        "\"param\":null,\"code\":null}}");
    free(s);
}


static void
test_error_set_truncation(void **state)
{
    int                  i;
    char                 text[1300], param[200];
    ngx_gp_oai_error_t   err;

    for (i = 0; i < 600; i++) {
        text[2 * i] = (char) 0xc3;
        text[2 * i + 1] = (char) 0xa9;
    }

    text[1200] = '\0';

    memset(param, 'p', sizeof(param) - 1);
    param[sizeof(param) - 1] = '\0';

    ngx_gp_oai_error_set(&err, 500, "server_error", NULL, param, "%s", text);

    /* 511 bytes would cut the 256th character: it is dropped */

    assert_int_equal(strlen(err.message), 510);
    assert_true(unit_utf8_valid(err.message, strlen(err.message)));
    assert_int_equal(strlen(err.param), sizeof(err.param_buf) - 1);

    memset(text, 'a', 1000);
    text[1000] = '\0';

    ngx_gp_oai_error_set(&err, 500, "server_error", NULL, NULL, "x%s", text);
    assert_int_equal(strlen(err.message), 511);
    assert_int_equal(err.message[0], 'x');

    /* re-setting with param already in param_buf keeps it */

    ngx_gp_oai_error_set(&err, 400, "t", "c", "messages[3]", "m");
    ngx_gp_oai_error_set(&err, 400, "t", "c", err.param, "m2");
    assert_string_equal(err.param, "messages[3]");
    assert_ptr_equal(err.param, err.param_buf);
}


static void
test_render_models(void **state)
{
    char        *s;
    size_t       n;
    const char  *ids[] = { "gemini-auto", "gemini-2.5-flash" };

    s = ngx_gp_render_models(ids, 2, 1700000000, "google", &n);
    assert_string_equal(s,
        "{\"object\":\"list\",\"data\":[{\"id\":\"gemini-auto\","
        "\"object\":\"model\",\"created\":1700000000,\"owned_by\":"
        "\"google\"},{\"id\":\"gemini-2.5-flash\",\"object\":\"model\","
        "\"created\":1700000000,\"owned_by\":\"google\"}]}");
    assert_int_equal(n, strlen(s));
    free(s);

    s = ngx_gp_render_models(NULL, 0, 1, "google", &n);
    assert_string_equal(s, "{\"object\":\"list\",\"data\":[]}");
    free(s);

    s = ngx_gp_render_model("m\"1", 5, "o", &n);
    assert_string_equal(s,
        "{\"id\":\"m\\\"1\",\"object\":\"model\",\"created\":5,"
        "\"owned_by\":\"o\"}");
    free(s);
}


static void
test_render_large(void **state)
{
    char            *in, *s;
    size_t           i, n, len;
    ngx_gp_chunk_t   c;

    /* 1 MiB with quotes every 7 bytes: the buffer must grow correctly */

    len = 1024 * 1024;

    in = malloc(len);
    assert_non_null(in);

    for (i = 0; i < len; i++) {
        in[i] = (i % 7 == 0) ? '"' : 'x';
    }

    c = chunk();
    c.content = in;
    c.content_len = len;

    s = render_chunk(&c, &n);
    assert_non_null(s);
    assert_int_equal(n, strlen(HEAD) + strlen("\"choices\":[{\"index\":0,"
                     "\"delta\":{\"content\":\"\"},\"finish_reason\":null}]}"
                     "\n\n") + len + (len + 6) / 7);
    assert_true(unit_json_valid(s + 6, n - 8));

    free(s);
    free(in);
}


/*
 * The one-pass reader of request bodies against jansson: random bodies of
 * the common shapes and of the ones it must leave to jansson.  Each is
 * parsed as it is and with a leading member whose key holds an escape
 * (ignored by jansson, refused by the fast path, so that copy always goes
 * through jansson): both must agree, field by field.
 */

static const char  *rnd_text[] = {
    "hello", " ", "x", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9",
    "\\ud83d\\ude00", "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\\u0000",
    "\\b\\f\\r", "0123456789abcdef0123", "\\u4e2d",
    /* what jansson refuses */
    "\t", "\\x", "\\ud800", "\xff", "\\udc00"
};

static const char  *rnd_role[] = {
    "\"user\"", "\"user\"", "\"assistant\"", "\"system\"", "\"developer\"",
    "\"tool\"", "\"function\"", "\"robot\"", "null", "1", "\"\\u0075ser\""
};

static const char  *rnd_extra[] = {
    "\"temperature\":0.7", "\"temperature\":1", "\"max_tokens\":100",
    "\"top_p\":-0.25", "\"user\":\"abc\"", "\"n\":null",
    "\"response_format\":[{\"type\":\"function\",\"f\":[1,2,{\"a\":"
    "true}]}]",
    "\"x\":1e5", "\"x\":1.", "\"logit_bias\":{}", "\"seed\":12345678901234567",
    /* jansson refuses NUL in a key, wherever it is */
    "\"logit_bias\":{\"a\\u0000b\":1}", "\"metadata\":[{\"\\u0000\":null}]"
};


static void
rnd_cat(char *buf, size_t *n, size_t cap, const char *s)
{
    size_t  l;

    l = strlen(s);
    assert_true(*n + l < cap);
    memcpy(buf + *n, s, l);
    *n += l;
    buf[*n] = '\0';
}


static void
rnd_string(uint64_t *rs, char *buf, size_t *n, size_t cap, int invalid)
{
    size_t  i, k, len;

    rnd_cat(buf, n, cap, "\"");

    len = unit_rand_n(rs, 6);

    for (i = 0; i < len; i++) {
        k = unit_rand_n(rs, invalid ? 21 : 16);
        rnd_cat(buf, n, cap, rnd_text[k]);
    }

    rnd_cat(buf, n, cap, "\"");
}


static void
rnd_member(uint64_t *rs, char *buf, size_t *n, size_t cap, int which,
    int invalid)
{
    size_t  i, k, nm;

    switch (which) {

    case 0:
        rnd_cat(buf, n, cap, "\"model\":");
        k = unit_rand_n(rs, 4);
        if (k == 0) {
            rnd_cat(buf, n, cap, "null");
        } else if (k == 1) {
            rnd_cat(buf, n, cap, "\"\"");
        } else {
            rnd_string(rs, buf, n, cap, invalid);
        }
        break;

    case 1:
        rnd_cat(buf, n, cap, "\"stream\":");
        rnd_cat(buf, n, cap, (const char *[]) {"true", "false", "null",
                                               "1"}[unit_rand_n(rs, 3
                                                                + invalid)]);
        break;

    case 2:
        rnd_cat(buf, n, cap, "\"stream_options\":");
        rnd_cat(buf, n, cap, (const char *[]) {"null", "{}",
                "{\"include_usage\":true}",
                "{ \"a\" : [ ] , \"include_usage\" : false }",
                "{\"include_usage\":null}", "[]",
                "{\"include_usage\":1}"}[unit_rand_n(rs, 5 + 2 * invalid)]);
        break;

    case 3:
    case 4:
        rnd_cat(buf, n, cap, which == 3 ? "\"conversation_id\":"
                                        : "\"image_format\":");
        if (unit_rand_n(rs, 4) == 0) {
            rnd_cat(buf, n, cap, "null");
        } else {
            rnd_string(rs, buf, n, cap, invalid);
        }
        break;

    case 5:
        rnd_cat(buf, n, cap, "\"messages\":[");
        nm = unit_rand_n(rs, 4) + (invalid ? 0 : 1);

        for (i = 0; i < nm; i++) {
            if (i) {
                rnd_cat(buf, n, cap, ", ");
            }

            rnd_cat(buf, n, cap, "{");

            if (unit_rand_n(rs, 3) == 0) {
                rnd_cat(buf, n, cap, "\"name\":\"n\",");
            }

            if (!invalid || unit_rand_n(rs, 8)) {
                rnd_cat(buf, n, cap, "\"role\":");
                rnd_cat(buf, n, cap, rnd_role[unit_rand_n(rs, invalid ? 11
                                                              : 7)]);
                rnd_cat(buf, n, cap, ",");
            }

            rnd_cat(buf, n, cap, "\"content\":");

            k = unit_rand_n(rs, 8);
            if (k == 0) {
                rnd_cat(buf, n, cap, "null");
            } else if (k == 1) {
                rnd_cat(buf, n, cap, "[{\"type\":\"text\",\"text\":\"hi\"}]");
            } else {
                rnd_string(rs, buf, n, cap, invalid);
            }

            rnd_cat(buf, n, cap, "}");
        }

        rnd_cat(buf, n, cap, "]");
        break;

    default:
        rnd_cat(buf, n, cap, rnd_extra[unit_rand_n(rs, invalid ? 13 : 8)]);
        break;
    }
}


static void
req_equal(const ngx_gp_chat_req_t *a, const ngx_gp_chat_req_t *b)
{
    size_t  i;

    if (a->model == NULL || b->model == NULL) {
        assert_ptr_equal(a->model, b->model);
    } else {
        assert_string_equal(a->model, b->model);
    }

    assert_int_equal(a->stream, b->stream);
    assert_int_equal(a->include_usage, b->include_usage);

    if (a->conversation_id == NULL || b->conversation_id == NULL) {
        assert_ptr_equal(a->conversation_id, b->conversation_id);
    } else {
        assert_string_equal(a->conversation_id, b->conversation_id);
    }

    if (a->image_format == NULL || b->image_format == NULL) {
        assert_ptr_equal(a->image_format, b->image_format);
    } else {
        assert_string_equal(a->image_format, b->image_format);
    }

    assert_int_equal(a->nmessages, b->nmessages);

    for (i = 0; i < a->nmessages; i++) {
        assert_int_equal(a->messages[i].role, b->messages[i].role);
        assert_int_equal(a->messages[i].len, b->messages[i].len);
        assert_non_null(a->messages[i].text);
        assert_non_null(b->messages[i].text);
        assert_memory_equal(a->messages[i].text, b->messages[i].text,
                            a->messages[i].len + 1);
        assert_int_equal(a->messages[i].nimages, b->messages[i].nimages);
    }
}


static void
test_parse_fast_differential(void **state)
{
    int                 i, j, rc1, rc2, rcf, invalid, order[9];
    char                body[8192], alt[8300];
    size_t              n, fast, k, t;
    uint64_t            rs;
    ngx_gp_chat_req_t   r1, r2, rf;
    ngx_gp_oai_error_t  e1, e2;

    rs = 20261126;
    fast = 0;

    for (i = 0; i < 20000; i++) {
        invalid = (unit_rand_n(&rs, 4) == 0);

        for (j = 0; j < 9; j++) {
            order[j] = j;
        }

        for (j = 8; j > 0; j--) {
            k = unit_rand_n(&rs, (size_t) j + 1);
            t = (size_t) order[j];
            order[j] = order[k];
            order[k] = (int) t;
        }

        n = 0;
        body[0] = '\0';
        rnd_cat(body, &n, sizeof(body), unit_rand_n(&rs, 2) ? "{" : " {\n");

        k = 0;

        for (j = 0; j < 9; j++) {
            if (order[j] != 5 && unit_rand_n(&rs, 3) == 0) {
                continue;
            }

            if (order[j] == 5 && invalid && unit_rand_n(&rs, 8) == 0) {
                continue;
            }

            if (k++) {
                rnd_cat(body, &n, sizeof(body),
                        unit_rand_n(&rs, 2) ? "," : " ,\n  ");
            }

            rnd_member(&rs, body, &n, sizeof(body), order[j], invalid);

            if (invalid && unit_rand_n(&rs, 10) == 0) {
                /* a duplicate member */
                rnd_cat(body, &n, sizeof(body), ",");
                rnd_member(&rs, body, &n, sizeof(body), order[j], 0);
            }
        }

        rnd_cat(body, &n, sizeof(body), "}");

        if (invalid && unit_rand_n(&rs, 6) == 0) {
            rnd_cat(body, &n, sizeof(body), " x");
        }

        /* the same with a member only jansson reads */
        strcpy(alt, "{\"\\u0078\":0");
        j = (int) (strchr(body, '{') - body);
        if (body[j + 1] != '}') {
            strcat(alt, ",");
        }
        strcat(alt, body + j + 1);

        memset(&rf, 0, sizeof(ngx_gp_chat_req_t));
        rcf = ngx_gp_chat_req_fast(alt, strlen(alt), &rf);
        assert_int_equal(rcf, 1);
        ngx_gp_chat_req_free(&rf);

        memset(&rf, 0, sizeof(ngx_gp_chat_req_t));
        rcf = ngx_gp_chat_req_fast(body, n, &rf);

        rc1 = ngx_gp_chat_req_parse(body, n, &r1, &e1);
        rc2 = ngx_gp_chat_req_parse(alt, strlen(alt), &r2, &e2);

        if (rc1 != rc2) {
            print_error("body %s: %d against %d (%s)\n", body, rc1, rc2,
                        rc1 ? e1.message : e2.message);
        }

        assert_int_equal(rc1, rc2);

        if (rcf == 0) {
            fast++;
            assert_int_equal(rc1, 0);
            req_equal(&rf, &r2);
        }

        if (rc1 == 0) {
            req_equal(&r1, &r2);

        } else {
            assert_int_equal(e1.status, e2.status);
            assert_string_equal(e1.type, e2.type);
        }

        ngx_gp_chat_req_free(&rf);
        ngx_gp_chat_req_free(&r1);
        ngx_gp_chat_req_free(&r2);
    }

    print_message("fast path: %zu of 20000\n", fast);

    /* the fast path took most of the valid shapes */
    assert_true(fast > 2000);
}


/*
 * "\u0000": jansson takes it in a value (the text keeps its length) and
 * refuses it in a key, at any depth; the fast path does the same.
 */

static void
test_parse_nul(void **state)
{
    int                 rc;
    size_t              i;
    const char         *body;
    ngx_gp_chat_req_t   r;
    ngx_gp_oai_error_t  e;

    static const char  *refused[] = {
        "{\"a\\u0000\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
            "\"logit_bias\":{\"\\u0000\":1}}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
            "\"tools\":[{\"type\":\"function\",\"f\":{\"a\\u0000b\":[]}}]}",
        "{\"messages\":[{\"role\":\"user\",\"x\":{\"\\u0000\":0},"
            "\"content\":\"x\"}]}",
        "{\"stream_options\":{\"k\":{\"\\u0000\":true}},"
            "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"
    };

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        memset(&r, 0, sizeof(ngx_gp_chat_req_t));
        assert_int_equal(ngx_gp_chat_req_fast(refused[i], strlen(refused[i]),
                                              &r), 1);
        ngx_gp_chat_req_free(&r);

        rc = ngx_gp_chat_req_parse(refused[i], strlen(refused[i]), &r, &e);
        assert_int_equal(rc, -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "invalid_json");
        assert_non_null(strstr(e.message, "NUL byte in object key"));
        ngx_gp_chat_req_free(&r);
    }

    /* in values: taken, by both paths, with the length */

    body = "{\"model\":\"m\\u0000\",\"messages\":[{\"role\":\"user\","
           "\"content\":\"a\\u0000b\"}],\"n\":\"\\u0000\"}";

    memset(&r, 0, sizeof(ngx_gp_chat_req_t));
    assert_int_equal(ngx_gp_chat_req_fast(body, strlen(body), &r), 0);
    assert_int_equal(r.messages[0].len, 3);
    ngx_gp_chat_req_free(&r);

    rc = ngx_gp_chat_req_parse(body, strlen(body), &r, &e);
    assert_int_equal(rc, 0);
    assert_int_equal(r.messages[0].len, 3);
    assert_memory_equal(r.messages[0].text, "a\0b", 4);
    assert_string_equal(r.model, "m");
    ngx_gp_chat_req_free(&r);
}


/*
 * Mutated bodies: whatever the fast path takes, jansson takes too, with
 * the same fields (the copy with an escaped key goes through jansson).
 */

static void
test_parse_fast_mutated(void **state)
{
    int                 rc, rcf;
    char                body[1024], alt[1100];
    size_t              i, n, fast;
    uint64_t            rs;
    ngx_gp_chat_req_t   r, rf;
    ngx_gp_oai_error_t  e;

    static const char  *seeds[] = {
        "{\"model\":\"gemini-auto\",\"stream\":true,\"stream_options\":"
        "{\"include_usage\":true},\"messages\":[{\"role\":\"system\","
        "\"content\":\"be\"},{\"role\":\"user\",\"content\":\"hello\"}],"
        "\"response_format\":[{\"type\":\"function\",\"f\":{\"a\":"
        "[1,2]}}],\"logit_bias\":{\"12\":1}}",
        "{\"messages\":[{\"role\":\"user\",\"name\":\"x\",\"content\":"
        "\"hi\"}],\"temperature\":0.7,\"conversation_id\":\"c1\","
        "\"image_format\":\"url\"}"
    };

    rs = 20261206;
    fast = 0;

    for (i = 0; i < 5000; i++) {
        n = unit_mutate(&rs, seeds[i % 2], body);

        memset(&rf, 0, sizeof(ngx_gp_chat_req_t));
        rcf = ngx_gp_chat_req_fast(body, n, &rf);

        if (rcf == 0) {
            fast++;

            strcpy(alt, "{\"\\u0078\":0,");
            strcat(alt, strchr(body, '{') + 1);

            rc = ngx_gp_chat_req_parse(alt, strlen(alt), &r, &e);

            if (rc != 0) {
                print_error("body %s: %s\n", body, e.message);
            }

            assert_int_equal(rc, 0);
            req_equal(&rf, &r);
            ngx_gp_chat_req_free(&r);
        }

        ngx_gp_chat_req_free(&rf);
    }

    print_message("fast path: %zu of 5000 mutated\n", fast);
    assert_true(fast > 500);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_prompts),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_renders),
        cmocka_unit_test(test_prompt_reference),
        cmocka_unit_test(test_prompt_system_join),
        cmocka_unit_test(test_prompt_user_query),
        cmocka_unit_test(test_prompt_replay),
        cmocka_unit_test(test_prompt_no_user),
        cmocka_unit_test(test_estimate_tokens),
        cmocka_unit_test(test_render_chunks),
        cmocka_unit_test(test_render_usage_chunks),
        cmocka_unit_test(test_render_invalid_utf8),
        cmocka_unit_test(test_render_random_round_trip),
        cmocka_unit_test(test_render_completion),
        cmocka_unit_test(test_render_error),
        cmocka_unit_test(test_error_set_truncation),
        cmocka_unit_test(test_render_models),
        cmocka_unit_test(test_render_large),
        cmocka_unit_test(test_parse_nul),
        cmocka_unit_test(test_parse_fast_mutated),
        cmocka_unit_test(test_parse_fast_differential),
    };

    UNIT_RUN("openai", tests);
}
