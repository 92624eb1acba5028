
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the Anthropic Messages parser (anthropic.c): bodies into
 * the neutral chat request, and the refused ones with the field named.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_anthropic.h"


static int
parse(const char *body, int count, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    memset(req, 0, sizeof(ngx_gp_chat_req_t));
    memset(err, 0, sizeof(ngx_gp_oai_error_t));

    return ngx_gp_anthropic_req_parse(body, strlen(body), count, req, err);
}


/* the body is refused with status 400 and this message */

static void
refused(const char *body, const char *message)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    if (parse(body, 0, &req, &err) != -1) {
        print_message("accepted: %s\n", body);
        fail();
    }

    assert_int_equal(err.status, 400);
    assert_string_equal(err.type, "invalid_request_error");
    assert_string_equal(err.message, message);
    ngx_gp_chat_req_free(&req);
}


static void
test_system_string(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":5,"
        "\"system\":\"be brief\",\"stream\":true,"
        "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
        "{\"role\":\"assistant\",\"content\":\"hello\"},"
        "{\"role\":\"user\",\"content\":\"again\"}]}", 0, &req, &err), 0);

    assert_string_equal(req.model, "m");
    assert_int_equal(req.stream, 1);
    assert_int_equal(req.nmessages, 4);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[0].text, "be brief");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[1].text, "hi");
    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[2].text, "hello");
    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[3].text, "again");
    assert_int_equal(req.ntools, 0);
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_AUTO);
    ngx_gp_chat_req_free(&req);
}


static void
test_blocks(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    /* system as blocks, texts joined by "\n", images, thoughts skipped */
    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":1,"
        "\"system\":[{\"type\":\"text\",\"text\":\"a\"},"
        "{\"type\":\"text\",\"text\":\"b\"}],"
        "\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"text\",\"text\":\"look\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"image/png\",\"data\":\"QUJD\"}},"
        "{\"type\":\"image\",\"source\":{\"type\":\"url\","
        "\"url\":\"https://x/y.png\"}},"
        "{\"type\":\"text\",\"text\":\"here\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\","
        "\"thinking\":\"hm\",\"signature\":\"\"},"
        "{\"type\":\"redacted_thinking\",\"data\":\"x\"}]},"
        "{\"role\":\"user\",\"content\":[]}]}", 0, &req, &err), 0);

    assert_int_equal(req.stream, 0);
    assert_int_equal(req.nmessages, 4);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[0].text, "a\nb");
    assert_int_equal(req.messages[0].len, 3);

    assert_string_equal(req.messages[1].text, "look\nhere");
    assert_int_equal(req.messages[1].nimages, 2);
    assert_int_equal(req.messages[1].images[0].kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(req.messages[1].images[0].mime, "image/png");
    assert_string_equal(req.messages[1].images[0].data, "QUJD");
    assert_int_equal(req.messages[1].images[0].data_len, 4);
    assert_int_equal(req.messages[1].images[1].kind, NGX_GP_IMAGE_URL);
    assert_string_equal(req.messages[1].images[1].url, "https://x/y.png");

    /* no text: "" (never NULL) */
    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[2].text, "");
    assert_int_equal(req.messages[2].ncalls, 0);
    assert_string_equal(req.messages[3].text, "");
    ngx_gp_chat_req_free(&req);
}


static void
test_tools(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":9,"
        "\"tools\":[{\"name\":\"get_weather\",\"description\":\"d\","
        "\"input_schema\":{\"type\":\"object\"}},"
        "{\"type\":\"custom\",\"name\":\"two\"}],"
        "\"tool_choice\":{\"type\":\"tool\",\"name\":\"get_weather\","
        "\"disable_parallel_tool_use\":true},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
        "\"text\":\"checking\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
        "\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
        "\"tool_use_id\":\"toolu_1\",\"content\":\"sunny\"},"
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_9\","
        "\"is_error\":true,\"content\":[{\"type\":\"text\","
        "\"text\":\"boom\"}]},"
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\"}]}]}",
        0, &req, &err), 0);

    assert_int_equal(req.ntools, 2);
    assert_string_equal(req.tools[0].name, "get_weather");
    assert_string_equal(req.tools[0].description, "d");
    assert_string_equal(req.tools[0].parameters, "{\"type\":\"object\"}");
    assert_string_equal(req.tools[1].name, "two");
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_FUNCTION);
    assert_string_equal(req.tool_name, "get_weather");
    assert_int_equal(req.no_parallel, 1);

    /* the user turn of results only: three TOOL messages, no USER one */
    assert_int_equal(req.nmessages, 5);
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[1].text, "checking");
    assert_int_equal(req.messages[1].ncalls, 1);
    assert_string_equal(req.messages[1].calls[0].id, "toolu_1");
    assert_string_equal(req.messages[1].calls[0].name, "get_weather");
    assert_string_equal(req.messages[1].calls[0].arguments,
                        "{\"city\":\"Paris\"}");

    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[2].call_id, "toolu_1");
    assert_string_equal(req.messages[2].name, "get_weather");
    assert_string_equal(req.messages[2].text, "sunny");
    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[3].call_id, "toolu_9");
    assert_null(req.messages[3].name);
    assert_string_equal(req.messages[3].text, "Error:\nboom");
    assert_string_equal(req.messages[4].text, "");
    ngx_gp_chat_req_free(&req);

    /* results then text: the TOOL message before the USER one */
    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":9,"
        "\"tool_choice\":{\"type\":\"any\"},"
        "\"tools\":[{\"name\":\"f\"}],"
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"and?\"},{\"type\":\"tool_result\","
        "\"tool_use_id\":\"x\",\"content\":\"1\"}]}]}", 0, &req, &err), 0);
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_REQUIRED);
    assert_int_equal(req.nmessages, 2);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[0].text, "1");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[1].text, "and?");
    ngx_gp_chat_req_free(&req);
}


static void
test_count(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    /* count_tokens: no max_tokens needed */
    assert_int_equal(parse("{\"model\":\"m\",\"messages\":[{\"role\":"
        "\"user\",\"content\":\"x\"}]}", 1, &req, &err), 0);
    assert_int_equal(req.nmessages, 1);
    ngx_gp_chat_req_free(&req);

    refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"x\"}]}", "max_tokens: Field required");
}


static void
test_errors(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"model\":", 0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_true(strncmp(err.message, "The request body is not valid JSON: ",
                        36) == 0);
    assert_non_null(strstr(err.message, "(line 1, column "));
    ngx_gp_chat_req_free(&req);

    refused("[1]", "The request body must be a JSON object");
    refused("{\"max_tokens\":1,\"messages\":[]}", "model: Field required");
    refused("{\"model\":\"\",\"max_tokens\":1}", "model: Field required");
    refused("{\"model\":\"m\",\"max_tokens\":0}",
            "max_tokens: must be an integer of at least 1");
    refused("{\"model\":\"m\",\"max_tokens\":\"5\"}",
            "max_tokens: must be an integer of at least 1");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"stream\":\"yes\"}",
            "stream: must be a boolean");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}",
            "messages: a non-empty array is required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"system\",\"content\":\"x\"}]}",
            "messages.0.role: must be \"user\" or \"assistant\"");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":\"x\"},{\"content\":\"y\"}]}",
            "messages.1.role: must be \"user\" or \"assistant\"");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"assistant\",\"content\":\"x\"}]}",
            "messages: at least one \"user\" message is required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":5}]}",
            "messages.0.content: a string or an array of content blocks "
            "is required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"system\":7,"
            "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "system: a string or an array of content blocks is required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"text\":\"x\"}]}]}",
            "messages.0.content.0.type: Field required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"text\"}]}]}",
            "messages.0.content.0.text: Field required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
            "{\"type\":\"document\"}]}]}",
            "messages.0.content.1: content blocks of type \"document\" "
            "are not supported here");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"assistant\",\"content\":[{\"type\":\"image\"}]},"
            "{\"role\":\"user\",\"content\":\"x\"}]}",
            "messages.0.content.0: content blocks of type \"image\" "
            "are not supported here");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"image\",\"source\":"
            "{\"type\":\"base64\",\"media_type\":\"text/plain\","
            "\"data\":\"QUJD\"}}]}]}",
            "messages.0.content.0.source: an image needs {\"type\":"
            "\"base64\",\"media_type\":\"image/...\",\"data\"} or "
            "{\"type\":\"url\",\"url\"}");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"image\",\"source\":"
            "{\"type\":\"base64\",\"media_type\":\"image/png\","
            "\"data\":\"QU-D\"}}]}]}",
            "messages.0.content.0.source.data: not valid base64");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"tool_result\"}]}]}",
            "messages.0.content.0.tool_use_id: Field required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
            "\"user\",\"content\":[{\"type\":\"tool_result\","
            "\"tool_use_id\":\"a\",\"content\":[{\"type\":\"image\"}]}]}]}",
            "messages.0.content.0.content.0: content blocks of type "
            "\"image\" are not supported here");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"tools\":{},"
            "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "tools: an array is required");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"type\":"
            "\"web_search_20250305\",\"name\":\"s\"}],"
            "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "tools.0: tools of type \"web_search_20250305\" are not "
            "supported here (client tools only)");
    refused("{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"name\":\"f\"}],"
            "\"tool_choice\":{\"type\":\"maybe\"},"
            "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "tool_choice: {\"type\":\"auto\"}, {\"type\":\"any\"}, "
            "{\"type\":\"none\"} or {\"type\":\"tool\",\"name\"} is "
            "required");
}


/* refusals that come from tools.c's checks name the Anthropic field */

static void
test_tool_errors(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":5,"
        "\"tools\":[{\"name\":\"bad name\"}],"
        "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
        0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "tools.0"));
    ngx_gp_chat_req_free(&req);

    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":5,"
        "\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
        "\"id\":\"t\",\"name\":\"\"}]}]}", 0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "messages.1.content.0"));
    ngx_gp_chat_req_free(&req);

    assert_int_equal(parse("{\"model\":\"m\",\"max_tokens\":5,"
        "\"tools\":[{\"name\":\"f\"}],"
        "\"tool_choice\":{\"type\":\"tool\",\"name\":\"g\"},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
        0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "tool_choice"));
    ngx_gp_chat_req_free(&req);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_string),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_tools),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tool_errors),
    };

    UNIT_RUN("anthropic", tests);
}
