
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the Responses API's pure part: the request into a chat
 * request (items, parts, errors naming the Responses field) and the
 * response object and streamed events as rendered.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_responses.h"


static int
parse(const char *body, ngx_gp_resp_req_t *rr, ngx_gp_chat_req_t *req,
    ngx_gp_oai_error_t *err)
{
    return ngx_gp_resp_parse(body, strlen(body), rr, req, err);
}


static void
done(ngx_gp_resp_req_t *rr, ngx_gp_chat_req_t *req)
{
    ngx_gp_resp_req_free(rr);
    ngx_gp_chat_req_free(req);
}


static void
test_input(void **state)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_resp_req_t   rr;
    ngx_gp_oai_error_t  err;

    /* a string: one user message; the defaults */
    assert_int_equal(parse("{\"input\":\"hi\"}", &rr, &req, &err), 0);
    assert_int_equal(req.nmessages, 1);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[0].text, "hi");
    assert_null(req.model);
    assert_int_equal(req.stream, 0);
    assert_int_equal(rr.store, 1);
    assert_null(rr.previous_response_id);
    assert_null(req.conversation_id);
    assert_null(req.conversation_param);
    assert_null(rr.metadata);
    done(&rr, &req);

    /* items: instructions first, roles, parts, images, tool output */
    assert_int_equal(parse("{\"model\":\"m\",\"stream\":true,\"store\":false,"
        "\"instructions\":\"sys\",\"metadata\":{\"a\":\"b\"},"
        "\"previous_response_id\":\"resp_1\",\"temperature\":0.2,"
        "\"input\":[{\"role\":\"developer\",\"content\":\"dev\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":["
        "{\"type\":\"input_text\",\"text\":\"a\"},"
        "{\"type\":\"input_image\",\"image_url\":"
        "\"data:image/png;base64,QUJD\"},"
        "{\"type\":\"input_image\",\"file_id\":\"file-1\"}]},"
        "{\"type\":\"reasoning\",\"summary\":[]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"b\"},{\"type\":\"refusal\",\"refusal\":\"c\"}]},"
        "{\"type\":\"function_call_output\",\"call_id\":\"x\","
        "\"output\":\"42\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
        "\"file_id\":\"file-2\"},{\"type\":\"input_text\",\"text\":\"d\"}]}"
        "]}", &rr, &req, &err), 0);
    assert_string_equal(req.model, "m");
    assert_int_equal(req.stream, 1);
    assert_int_equal(rr.store, 0);
    assert_string_equal(rr.instructions, "sys");
    assert_string_equal(rr.metadata, "{\"a\":\"b\"}");
    assert_string_equal(rr.previous_response_id, "resp_1");
    assert_string_equal(req.conversation_id, "resp_1");
    assert_string_equal(req.conversation_param, "previous_response_id");
    assert_int_equal(req.nmessages, 6);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[0].text, "sys");
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_SYSTEM);
    assert_string_equal(req.messages[1].text, "dev");
    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_USER);
    assert_string_equal(req.messages[2].text, "a");
    assert_int_equal(req.messages[2].nimages, 2);
    assert_int_equal(req.messages[2].images[0].kind, NGX_GP_IMAGE_DATA);
    assert_string_equal(req.messages[2].images[0].mime, "image/png");
    assert_int_equal(req.messages[2].images[1].kind, NGX_GP_IMAGE_FILE);
    assert_string_equal(req.messages[2].images[1].file_id, "file-1");
    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[3].text, "b\nc");
    assert_int_equal(req.messages[4].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[4].text, "42");
    assert_int_equal(req.messages[5].nimages, 1);
    assert_string_equal(req.messages[5].images[0].file_id, "file-2");
    assert_string_equal(req.messages[5].text, "d");
    done(&rr, &req);

    /* null counts as absent */
    assert_int_equal(parse("{\"input\":\"x\",\"model\":null,\"store\":null,"
                           "\"previous_response_id\":null,"
                           "\"instructions\":null,\"metadata\":null,"
                           "\"conversation\":null,\"prompt\":null,"
                           "\"background\":false}", &rr, &req, &err), 0);
    assert_int_equal(rr.store, 1);
    assert_null(rr.instructions);
    done(&rr, &req);
}


static void
expect_error(const char *body, int status, const char *code,
    const char *param, const char *message)
{
    ngx_gp_chat_req_t   req;
    ngx_gp_resp_req_t   rr;
    ngx_gp_oai_error_t  err;

    assert_int_equal(parse(body, &rr, &req, &err), -1);
    assert_int_equal(err.status, status);

    if (code) {
        assert_string_equal(err.code, code);
    }

    if (param) {
        assert_non_null(err.param);
        assert_string_equal(err.param, param);

    } else {
        assert_null(err.param);
    }

    if (message) {
        assert_non_null(strstr(err.message, message));
    }

    done(&rr, &req);
}


static void
test_errors(void **state)
{
    expect_error("{\"input\":", 400, "invalid_json", NULL, NULL);
    expect_error("[]", 400, "invalid_type", NULL, "JSON object");
    expect_error("{}", 400, "missing_required_parameter", "input", NULL);
    expect_error("{\"input\":[]}", 400, "invalid_value", "input", "empty");
    expect_error("{\"input\":5}", 400, "invalid_type", "input",
                 "a string or an array of items");
    expect_error("{\"input\":\"x\",\"model\":1}", 400, "invalid_type",
                 "model", NULL);
    expect_error("{\"input\":\"x\",\"stream\":\"yes\"}", 400,
                 "invalid_type", "stream", NULL);
    expect_error("{\"input\":\"x\",\"previous_response_id\":\"\"}", 400,
                 "invalid_type", "previous_response_id", NULL);
    expect_error("{\"input\":\"x\",\"metadata\":[]}", 400, "invalid_type",
                 "metadata", NULL);
    expect_error("{\"input\":\"x\",\"instructions\":{}}", 400,
                 "invalid_type", "instructions", NULL);
    expect_error("{\"input\":\"x\",\"background\":true}", 400,
                 "unsupported_parameter", "background", NULL);
    expect_error("{\"input\":\"x\",\"conversation\":\"c\"}", 400,
                 "unsupported_parameter", "conversation", NULL);
    expect_error("{\"input\":\"x\",\"prompt\":{\"id\":\"p\"}}", 400,
                 "unsupported_parameter", "prompt", NULL);
    expect_error("{\"input\":[1]}", 400, "invalid_type", "input[0]", NULL);
    expect_error("{\"input\":[{\"type\":3}]}", 400, "invalid_type",
                 "input[0].type", NULL);
    expect_error("{\"input\":[{\"content\":\"x\"}]}", 400,
                 "missing_required_parameter", "input[0].role", NULL);
    expect_error("{\"input\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
                 400, "invalid_value", "input[0].role", "'tool'");
    expect_error("{\"input\":[{\"role\":\"user\"}]}", 400,
                 "missing_required_parameter", "input[0].content", NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[7]}]}", 400,
                 "invalid_type", "input[0].content[0]", NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{}]}]}", 400,
                 "missing_required_parameter", "input[0].content[0].type",
                 NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_text\"}]}]}", 400, "invalid_type",
                 "input[0].content[0].text", NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_image\"}]}]}", 400, "missing_required_parameter",
                 "input[0].content[0].image_url", NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_file\"}]}]}", 400, "missing_required_parameter",
                 "input[0].content[0].file_id", NULL);
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"input_audio\"}]}]}", 400, "unsupported_value",
                 "input[0].content[0].type", "input_audio");
    expect_error("{\"input\":[{\"type\":\"item_reference\",\"id\":\"x\"}]}",
                 400, "unsupported_value", "input[0].type",
                 "item_reference");
    expect_error("{\"input\":[{\"type\":\"function_call_output\"}]}", 400,
                 "invalid_type", "input[0].output", NULL);

    /* the chat parser's errors, named as the Responses fields */
    expect_error("{\"instructions\":\"s\",\"input\":[{\"role\":\"user\","
                 "\"content\":\"a\"},{\"type\":\"reasoning\"},"
                 "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
                 "\"text\":\"b\"},{\"type\":\"input_image\",\"image_url\":"
                 "\"data:image/png;base64,@@\"}]}]}", 400, "invalid_value",
                 "input[2].content[1].image_url", "input[2].content[1]");
    expect_error("{\"input\":[{\"role\":\"system\",\"content\":\"s\"}]}",
                 400, "invalid_value", "input", "'input'");
}


static void
test_render(void **state)
{
    char                *s;
    size_t               len;
    uint64_t             seq;
    ngx_gp_buf_t         b;
    ngx_gp_usage_t       u;
    ngx_gp_resp_t        r;
    ngx_gp_resp_req_t    q;
    ngx_gp_oai_error_t   err;

    memset(&q, 0, sizeof(q));
    q.store = 1;
    q.instructions = "be \"brief\"";
    q.previous_response_id = "resp_0";
    q.metadata = "{\"k\":1}";

    memset(&r, 0, sizeof(r));
    r.id = "resp_abc";
    r.model = "gpt-4o";
    r.created = 1700000000;
    r.req = &q;
    r.status = "completed";
    r.reasoning = "hmm";
    r.reasoning_len = 3;
    r.text = "a\nb";
    r.text_len = 3;
    u.prompt_tokens = 2;
    u.completion_tokens = 5;
    r.usage = &u;

    s = ngx_gp_resp_render(&r, &len);
    assert_non_null(s);
    assert_string_equal(s,
        "{\"id\":\"resp_abc\",\"object\":\"response\","
        "\"created_at\":1700000000,\"status\":\"completed\","
        "\"error\":null,\"incomplete_details\":null,"
        "\"instructions\":\"be \\\"brief\\\"\",\"model\":\"gpt-4o\","
        "\"output\":[{\"id\":\"rs_abc\",\"type\":\"reasoning\","
        "\"summary\":[{\"type\":\"summary_text\",\"text\":\"hmm\"}]},"
        "{\"id\":\"msg_abc\",\"type\":\"message\",\"status\":\"completed\","
        "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"a\\nb\",\"annotations\":[],\"logprobs\":[]}]}],"
        "\"parallel_tool_calls\":true,\"previous_response_id\":\"resp_0\","
        "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":true,"
        "\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\","
        "\"tools\":[],\"truncation\":\"disabled\",\"usage\":{"
        "\"input_tokens\":2,\"input_tokens_details\":{\"cached_tokens\":0},"
        "\"output_tokens\":5,\"output_tokens_details\":{"
        "\"reasoning_tokens\":0},\"total_tokens\":7},"
        "\"metadata\":{\"k\":1}}");
    assert_int_equal(len, strlen(s));
    free(s);

    /* failed: the error, the message incomplete */
    memset(&err, 0, sizeof(err));
    err.type = "server_error";
    err.code = NULL;
    strcpy(err.message, "cut");
    r.status = "failed";
    r.error = &err;
    r.reasoning = NULL;
    r.usage = NULL;
    r.item_status = "incomplete";
    q.store = 0;

    s = ngx_gp_resp_render(&r, &len);
    assert_non_null(strstr(s, "\"status\":\"failed\",\"error\":{\"code\":"
                              "\"server_error\",\"message\":\"cut\"}"));
    assert_non_null(strstr(s, "\"type\":\"message\",\"status\":"
                              "\"incomplete\""));
    assert_non_null(strstr(s, "\"store\":false"));
    assert_non_null(strstr(s, "\"usage\":null"));
    assert_null(strstr(s, "reasoning\",\"summary"));
    free(s);

    /* the events: names, sequence numbers, item ids */
    memset(&b, 0, sizeof(b));
    seq = 7;
    r.text = "";
    r.text_len = 0;
    r.status = "in_progress";
    r.error = NULL;
    r.item_status = NULL;

    ngx_gp_resp_ev_open(&b, &seq, &r, NGX_GP_RESP_MESSAGE, 1);
    ngx_gp_resp_ev_delta(&b, &seq, &r, NGX_GP_RESP_MESSAGE, 1, "x\"", 2);
    ngx_gp_resp_ev_delta(&b, &seq, &r, NGX_GP_RESP_REASONING, 0, "t", 1);
    s = ngx_gp_buf_finish(&b, &len);
    assert_string_equal(s,
        "event: response.output_item.added\n"
        "data: {\"type\":\"response.output_item.added\","
        "\"sequence_number\":7,\"output_index\":1,\"item\":{"
        "\"id\":\"msg_abc\",\"type\":\"message\",\"status\":\"in_progress\","
        "\"role\":\"assistant\",\"content\":[]}}\n\n"
        "event: response.content_part.added\n"
        "data: {\"type\":\"response.content_part.added\","
        "\"sequence_number\":8,\"item_id\":\"msg_abc\",\"output_index\":1,"
        "\"content_index\":0,\"part\":{\"type\":\"output_text\","
        "\"text\":\"\",\"annotations\":[],\"logprobs\":[]}}\n\n"
        "event: response.output_text.delta\n"
        "data: {\"type\":\"response.output_text.delta\","
        "\"sequence_number\":9,\"item_id\":\"msg_abc\",\"output_index\":1,"
        "\"content_index\":0,\"delta\":\"x\\\"\",\"logprobs\":[]}\n\n"
        "event: response.reasoning_summary_text.delta\n"
        "data: {\"type\":\"response.reasoning_summary_text.delta\","
        "\"sequence_number\":10,\"item_id\":\"rs_abc\",\"output_index\":0,"
        "\"summary_index\":0,\"delta\":\"t\"}\n\n");
    assert_int_equal(seq, 11);
    free(s);

    memset(&b, 0, sizeof(b));
    r.reasoning = "t";
    r.reasoning_len = 1;
    ngx_gp_resp_ev_close(&b, &seq, &r, NGX_GP_RESP_REASONING, 0);
    s = ngx_gp_buf_finish(&b, &len);
    assert_non_null(strstr(s, "event: response.reasoning_summary_text.done\n"
                              "data: {\"type\":\"response.reasoning_summary_"
                              "text.done\",\"sequence_number\":11,"));
    assert_non_null(strstr(s, "event: response.reasoning_summary_part.done"
                              "\n"));
    assert_non_null(strstr(s, "\"sequence_number\":13,\"output_index\":0,"
                              "\"item\":{\"id\":\"rs_abc\",\"type\":"
                              "\"reasoning\",\"summary\":[{\"type\":"
                              "\"summary_text\",\"text\":\"t\"}]}}\n\n"));
    assert_int_equal(seq, 14);
    free(s);
}


static void
test_tools(void **state)
{
    char                *s;
    size_t               len;
    uint64_t             seq;
    ngx_gp_buf_t         b;
    ngx_gp_resp_t        r;
    ngx_gp_chat_req_t    req;
    ngx_gp_resp_req_t    rr;
    ngx_gp_oai_error_t   err;
    ngx_gp_tool_call_t   call;

    /* tools, tool_choice; calls folded into the assistant message */
    assert_int_equal(parse("{\"tools\":[{\"type\":\"function\","
        "\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}],"
        "\"tool_choice\":{\"type\":\"function\",\"name\":\"f\"},"
        "\"parallel_tool_calls\":false,\"input\":["
        "{\"role\":\"user\",\"content\":\"q\"},"
        "{\"role\":\"assistant\",\"content\":\"let me\"},"
        "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\","
        "\"arguments\":\"{\\\"a\\\":1}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"c2\",\"name\":\"f\","
        "\"arguments\":\"{}\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"c1\","
        "\"output\":\"r1\"},"
        "{\"type\":\"function_call\",\"call_id\":\"c3\",\"name\":\"f\","
        "\"arguments\":\"{}\"}]}", &rr, &req, &err), 0);
    assert_int_equal(req.ntools, 1);
    assert_string_equal(req.tools[0].name, "f");
    assert_int_equal(req.tool_choice, NGX_GP_TOOL_FUNCTION);
    assert_string_equal(req.tool_name, "f");
    assert_int_equal(req.no_parallel, 1);
    assert_int_equal(req.nmessages, 4);
    assert_int_equal(req.messages[1].role, NGX_GP_ROLE_ASSISTANT);
    assert_string_equal(req.messages[1].text, "let me");
    assert_int_equal(req.messages[1].ncalls, 2);
    assert_string_equal(req.messages[1].calls[0].id, "c1");
    assert_string_equal(req.messages[1].calls[0].arguments, "{\"a\":1}");
    assert_string_equal(req.messages[1].calls[1].id, "c2");
    assert_int_equal(req.messages[2].role, NGX_GP_ROLE_TOOL);
    assert_string_equal(req.messages[2].call_id, "c1");
    assert_int_equal(req.messages[3].role, NGX_GP_ROLE_ASSISTANT);
    assert_int_equal(req.messages[3].ncalls, 1);
    assert_string_equal(req.messages[3].text, "");
    done(&rr, &req);

    /* tool results alone: only when continuing a response */
    assert_int_equal(parse("{\"previous_response_id\":\"resp_1\","
                           "\"input\":[{\"type\":\"function_call_output\","
                           "\"call_id\":\"c1\",\"output\":\"r\"}]}",
                           &rr, &req, &err), 0);
    assert_int_equal(req.nmessages, 1);
    assert_int_equal(req.messages[0].role, NGX_GP_ROLE_TOOL);
    done(&rr, &req);

    expect_error("{\"input\":[{\"type\":\"function_call_output\","
                 "\"call_id\":\"c1\",\"output\":\"r\"}]}", 400,
                 "invalid_value", "input", NULL);

    /* the errors of a call and a tool, named as Responses fields */
    expect_error("{\"input\":[{\"role\":\"user\",\"content\":\"q\"},"
                 "{\"role\":\"assistant\",\"content\":\"x\"},"
                 "{\"type\":\"function_call\",\"call_id\":\"c1\","
                 "\"name\":\"f\",\"arguments\":\"{}\"},"
                 "{\"type\":\"function_call\",\"call_id\":\"c2\","
                 "\"arguments\":\"{}\"}]}", 400, NULL, "input[3].name",
                 "input[3]");
    expect_error("{\"input\":\"q\",\"tools\":[{\"type\":\"function\","
                 "\"name\":\"a b\"}]}", 400, NULL, "tools[0].name", NULL);
    expect_error("{\"input\":\"q\",\"tools\":[{\"type\":\"mcp\"}]}",
                 400, "unsupported_value", "tools[0].type", "'mcp'");
    expect_error("{\"input\":\"q\",\"tool_choice\":{\"type\":"
                 "\"web_search\"}}", 400, "unsupported_value", "tool_choice",
                 NULL);

    /* a function_call item, whole in an object, as events */
    call.id = "call_1";
    call.name = "f";
    call.arguments = "{\"a\":1}";

    memset(&r, 0, sizeof(r));
    r.id = "resp_abc";
    r.model = "m";
    r.status = "completed";
    r.calls = &call;
    r.ncalls = 1;

    s = ngx_gp_resp_render(&r, &len);
    assert_non_null(strstr(s, "\"output\":[{\"id\":\"fc_abc0\",\"type\":"
                              "\"function_call\",\"status\":\"completed\","
                              "\"arguments\":\"{\\\"a\\\":1}\","
                              "\"call_id\":\"call_1\",\"name\":\"f\"}],"));
    free(s);

    memset(&b, 0, sizeof(b));
    seq = 4;
    ngx_gp_resp_ev_call(&b, &seq, &r, 0, 2);
    s = ngx_gp_buf_finish(&b, &len);
    assert_string_equal(s,
        "event: response.output_item.added\n"
        "data: {\"type\":\"response.output_item.added\","
        "\"sequence_number\":4,\"output_index\":2,\"item\":{"
        "\"id\":\"fc_abc0\",\"type\":\"function_call\","
        "\"status\":\"in_progress\",\"arguments\":\"\","
        "\"call_id\":\"call_1\",\"name\":\"f\"}}\n\n"
        "event: response.function_call_arguments.delta\n"
        "data: {\"type\":\"response.function_call_arguments.delta\","
        "\"sequence_number\":5,\"item_id\":\"fc_abc0\",\"output_index\":2,"
        "\"delta\":\"{\\\"a\\\":1}\"}\n\n"
        "event: response.function_call_arguments.done\n"
        "data: {\"type\":\"response.function_call_arguments.done\","
        "\"sequence_number\":6,\"item_id\":\"fc_abc0\",\"output_index\":2,"
        "\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}\n\n"
        "event: response.output_item.done\n"
        "data: {\"type\":\"response.output_item.done\","
        "\"sequence_number\":7,\"output_index\":2,\"item\":{"
        "\"id\":\"fc_abc0\",\"type\":\"function_call\","
        "\"status\":\"completed\",\"arguments\":\"{\\\"a\\\":1}\","
        "\"call_id\":\"call_1\",\"name\":\"f\"}}\n\n");
    free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_input),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_tools),
    };

    UNIT_RUN("responses", tests);
}
