
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the Gemini API parser (genai.c): generateContent bodies
 * into the neutral chat request, and the refused ones with the field
 * named.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_genai.h"


static int  no_thoughts;


static int
parse(const char *body, int count, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    memset(req, 0, sizeof(ngx_gp_chat_req_t));
    memset(err, 0, sizeof(ngx_gp_oai_error_t));
    no_thoughts = 0;

    return ngx_gp_genai_req_parse(body, strlen(body), count, req,
                                  &no_thoughts, err);
}


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
test_contents(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    /* roles: none, "user", "model", "function"; thoughts skipped */
    assert_int_equal(parse("{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]},"
        "{\"role\":\"model\",\"parts\":[{\"text\":\"hm\",\"thought\":true},"
        "{\"text\":\"hello\"}]},"
        "{\"role\":\"user\",\"parts\":[{\"text\":\"a\"},{\"text\":\"b\"}]},"
        "{\"role\":\"model\",\"parts\":[]},"
        "{\"role\":\"\",\"parts\":[{\"text\":\"c\"}]}]}",
        0, &req, &err), 0);

    assert_null(req.model);
    assert_int_equal(no_thoughts, 0);
    assert_int_equal(req.nmessages, 5);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[0].text, "hi");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[1].text, "hello");
    assert_string_equal(req.messages[2].text, "a\nb");
    assert_int_equal(req.messages[2].len, 3);
    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[3].text, "");
    assert_int_equal(req.messages[4].role, NGX_GP_ROLE_USER);
    ngx_gp_chat_req_free(&req);

    /* the caller's model and stream are kept */
    memset(&req, 0, sizeof(ngx_gp_chat_req_t));
    req.model = strdup("gemini-x");
    req.stream = 1;
    assert_int_equal(ngx_gp_genai_req_parse("{\"contents\":[{\"parts\":"
        "[{\"text\":\"x\"}]}]}", 39, 0, &req, &no_thoughts, &err), 0);
    assert_string_equal(req.model, "gemini-x");
    assert_int_equal(req.stream, 1);
    ngx_gp_chat_req_free(&req);
}


static void
test_system(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"systemInstruction\":{\"parts\":[{\"text\":"
        "\"be\"},{\"text\":\"brief\"}]},\"generationConfig\":"
        "{\"thinkingConfig\":{\"includeThoughts\":false}},"
        "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}]}",
        0, &req, &err), 0);
    assert_int_equal(no_thoughts, 1);
    assert_int_equal(req.nmessages, 2);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[0].text, "be\nbrief");
    ngx_gp_chat_req_free(&req);

    /* snake_case, and a string */
    assert_int_equal(parse("{\"system_instruction\":\"sys\","
        "\"generation_config\":{\"thinkingConfig\":{\"includeThoughts\":"
        "true}},\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}",
        0, &req, &err), 0);
    assert_int_equal(no_thoughts, 0);
    assert_string_equal(req.messages[0].text, "sys");
    assert_int_equal(req.messages[0].len, 3);
    ngx_gp_chat_req_free(&req);

    /* a NUL inside the string: the length is the JSON string's */
    assert_int_equal(parse("{\"systemInstruction\":\"a\\u0000bc\","
        "\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", 0, &req, &err), 0);
    assert_int_equal(req.messages[0].len, 4);
    assert_memory_equal(req.messages[0].text, "a\0bc", 5);
    ngx_gp_chat_req_free(&req);
}


static void
test_images(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    /* inlineData (base64url made standard), inline_data, fileData */
    assert_int_equal(parse("{\"contents\":[{\"role\":\"user\",\"parts\":["
        "{\"text\":\"what\"},"
        "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"a-b_\"}},"
        "{\"inline_data\":{\"mime_type\":\"image/jpeg\",\"data\":\"QUJD\"}},"
        "{\"fileData\":{\"mimeType\":\"image/png\","
        "\"fileUri\":\"https://h/i.png\"}},"
        "{\"file_data\":{\"file_uri\":\"http://h/j.png\"}}]}]}",
        0, &req, &err), 0);
    assert_int_equal(req.nmessages, 1);
    assert_string_equal(req.messages[0].text, "what");
    assert_int_equal(req.messages[0].nimages, 4);
    assert_int_equal(req.messages[0].images[0].kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(req.messages[0].images[0].mime, "image/png");
    assert_string_equal(req.messages[0].images[0].data, "a+b/");
    assert_int_equal(req.messages[0].images[0].data_len, 4);
    assert_string_equal(req.messages[0].images[1].mime, "image/jpeg");
    assert_string_equal(req.messages[0].images[1].data, "QUJD");
    assert_int_equal(req.messages[0].images[2].kind, NGX_GP_IMAGE_URL);
    assert_string_equal(req.messages[0].images[2].url, "https://h/i.png");
    assert_string_equal(req.messages[0].images[3].url, "http://h/j.png");
    ngx_gp_chat_req_free(&req);

    /* an image alone: text "" */
    assert_int_equal(parse("{\"contents\":[{\"parts\":[{\"inlineData\":"
        "{\"mimeType\":\"image/png\",\"data\":\"QUJD\"}}]}]}",
        0, &req, &err), 0);
    assert_string_equal(req.messages[0].text, "");
    assert_int_equal(req.messages[0].nimages, 1);
    ngx_gp_chat_req_free(&req);
}


static void
test_functions(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"tools\":[{\"functionDeclarations\":["
        "{\"name\":\"get_weather\",\"description\":\"d\","
        "\"parameters\":{\"type\":\"object\"}}]},"
        "{\"function_declarations\":[{\"name\":\"two\","
        "\"parametersJsonSchema\":{\"type\":\"object\"}}]}],"
        "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
        "\"allowedFunctionNames\":[\"two\"]}},"
        "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"w?\"}]},"
        "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":"
        "\"get_weather\",\"args\":{\"city\":\"Paris\"}}},"
        "{\"function_call\":{\"id\":\"c2\",\"name\":\"two\"}}]},"
        "{\"role\":\"function\",\"parts\":[{\"functionResponse\":{\"name\":"
        "\"get_weather\",\"response\":{\"t\":20}}},"
        "{\"function_response\":{\"id\":\"c2\",\"name\":\"two\"}}]}]}",
        0, &req, &err), 0);

    assert_int_equal(req.ntools, 2);
    assert_string_equal(req.tools[0].name, "get_weather");
    assert_string_equal(req.tools[0].parameters, "{\"type\":\"object\"}");
    assert_string_equal(req.tools[1].name, "two");
    assert_string_equal(req.tools[1].parameters, "{\"type\":\"object\"}");
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_FUNCTION);
    assert_string_equal(req.tool_name, "two");

    /* the function turn of responses only: two TOOL messages */
    assert_int_equal(req.nmessages, 4);
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[1].text, "");
    assert_int_equal(req.messages[1].ncalls, 2);
    assert_string_equal(req.messages[1].calls[0].name, "get_weather");
    assert_string_equal(req.messages[1].calls[0].arguments,
                        "{\"city\":\"Paris\"}");
    assert_string_equal(req.messages[1].calls[1].id, "c2");
    assert_string_equal(req.messages[1].calls[1].arguments, "{}");
    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[2].name, "get_weather");
    assert_null(req.messages[2].call_id);
    assert_string_equal(req.messages[2].text, "{\"t\":20}");
    assert_string_equal(req.messages[3].call_id, "c2");
    assert_string_equal(req.messages[3].text, "");
    ngx_gp_chat_req_free(&req);

    /* a response and text: the TOOL message first; NONE, AUTO */
    assert_int_equal(parse("{\"toolConfig\":{\"functionCallingConfig\":"
        "{\"mode\":\"NONE\"}},\"contents\":[{\"parts\":["
        "{\"text\":\"so?\"},{\"functionResponse\":{\"name\":\"f\","
        "\"response\":\"ok\"}}]}]}", 0, &req, &err), 0);
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_NONE);
    assert_int_equal(req.nmessages, 2);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[0].text, "\"ok\"");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[1].text, "so?");
    ngx_gp_chat_req_free(&req);
}


static void
test_count(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;
    const char         *body;

    body = "{\"generateContentRequest\":{\"model\":\"models/m\","
           "\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}}";

    /* countTokens takes the wrapped request; generateContent does not */
    assert_int_equal(parse(body, 1, &req, &err), 0);
    assert_int_equal(req.nmessages, 1);
    assert_string_equal(req.messages[0].text, "x");
    ngx_gp_chat_req_free(&req);

    refused(body, "* GenerateContentRequest.contents: contents is not "
            "specified");
}


static void
test_errors(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"contents\":[", 0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_true(strncmp(err.message, "Invalid JSON payload received. ",
                        31) == 0);
    assert_non_null(strstr(err.message, "(line 1, column "));
    ngx_gp_chat_req_free(&req);

    refused("[{\"contents\":[]}]",
            "The request body must be a JSON object");
    refused("{}", "* GenerateContentRequest.contents: contents is not "
            "specified");
    refused("{\"contents\":[]}", "* GenerateContentRequest.contents: "
            "contents is not specified");
    refused("{\"contents\":[{\"role\":\"assistant\",\"parts\":[]}]}",
            "contents[0].role: must be \"user\" or \"model\"");
    refused("{\"contents\":[{\"role\":\"model\",\"parts\":[{\"text\":"
            "\"x\"}]}]}",
            "contents: at least one \"user\" turn is required");
    refused("{\"contents\":[{\"role\":\"user\"}]}",
            "contents[0].parts: an array of parts is required");
    refused("{\"systemInstruction\":{},\"contents\":[{\"parts\":[]}]}",
            "systemInstruction.parts: an array of parts is required");
    refused("{\"contents\":[{\"parts\":[{\"text\":\"a\"},"
            "{\"inlineData\":{\"mimeType\":\"text/plain\","
            "\"data\":\"QUJD\"}}]}]}",
            "contents[0].parts[1].inlineData: an image needs "
            "\"mimeType\":\"image/...\" and base64 \"data\"");
    refused("{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":"
            "\"image/png\",\"data\":\"QU JD\"}}]}]}",
            "contents[0].parts[0].inlineData: an image needs "
            "\"mimeType\":\"image/...\" and base64 \"data\"");
    refused("{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":"
            "\"image/png\",\"data\":\"\"}}]}]}",
            "contents[0].parts[0].inlineData: an image needs "
            "\"mimeType\":\"image/...\" and base64 \"data\"");
    refused("{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":"
            "\"gs://b/o\"}}]}]}",
            "contents[0].parts[0]: only text, inlineData and fileData (an "
            "http(s) URL) parts are supported");
    refused("{\"contents\":[{\"parts\":[{\"functionCall\":{\"name\":"
            "\"f\"}}]}]}",
            "contents[0].parts[0]: only text, inlineData and fileData (an "
            "http(s) URL) parts are supported");
    refused("{\"contents\":[{\"parts\":[{\"functionResponse\":"
            "{\"name\":\"bad name\"}}]}]}",
            "contents[0].parts[0].functionResponse.name: a function name "
            "is required");
    refused("{\"tools\":7,\"contents\":[{\"parts\":[]}]}",
            "tools: an array is required");
    refused("{\"tools\":[{\"googleSearch\":{}}],"
            "\"contents\":[{\"parts\":[]}]}",
            "tools[0]: only functionDeclarations are supported here");
    refused("{\"toolConfig\":{\"functionCallingConfig\":{\"mode\":"
            "\"SOMETIMES\"}},\"contents\":[{\"parts\":[]}]}",
            "toolConfig.functionCallingConfig.mode: AUTO, ANY, NONE or "
            "VALIDATED is required");
}


static void
test_tool_errors(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse("{\"tools\":[{\"functionDeclarations\":["
        "{\"name\":\"ok\"},{\"name\":\"no good\"}]}],"
        "\"contents\":[{\"parts\":[]}]}", 0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message,
                           "tools[0].functionDeclarations[1]"));
    ngx_gp_chat_req_free(&req);

    assert_int_equal(parse("{\"contents\":[{\"parts\":[]},{\"role\":"
        "\"model\",\"parts\":[{\"functionCall\":{\"name\":7}}]}]}",
        0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message,
                           "contents[1].parts[0].functionCall"));
    ngx_gp_chat_req_free(&req);

    assert_int_equal(parse("{\"tools\":[{\"functionDeclarations\":["
        "{\"name\":\"f\"}]}],\"toolConfig\":{\"functionCallingConfig\":"
        "{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"g\"]}},"
        "\"contents\":[{\"parts\":[]}]}", 0, &req, &err), -1);
    assert_int_equal(err.status, 400);
    assert_non_null(strstr(err.message, "toolConfig"));
    ngx_gp_chat_req_free(&req);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contents),
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tool_errors),
    };

    UNIT_RUN("genai", tests);
}
