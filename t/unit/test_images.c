
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the images API's requests: generations, edits, and the
 * chat body of an image turn.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_images.h"


#define CT  "multipart/form-data; boundary=B"


static int
gen(const char *body, ngx_gp_images_req_t *ir, ngx_gp_oai_error_t *err)
{
    return ngx_gp_images_parse(body, strlen(body), ir, err);
}


static void
test_generations(void **state)
{
    ngx_gp_images_req_t  ir;
    ngx_gp_oai_error_t   err;

    assert_int_equal(gen("{\"prompt\":\"a cat\",\"n\":2,\"size\":\"512x512\","
                         "\"response_format\":\"b64_json\","
                         "\"model\":\"dall-e-3\"}", &ir, &err), 0);
    assert_string_equal(ir.prompt, "a cat");
    assert_int_equal(ir.prompt_len, 5);
    assert_int_equal(ir.n, 2);
    assert_string_equal(ir.size, "512x512");
    assert_int_equal(ir.b64, 1);
    assert_string_equal(ir.model, "dall-e-3");
    ngx_gp_images_req_free(&ir);

    /* defaults; "auto", null and "" count as absent */
    assert_int_equal(gen("{\"prompt\":\"x\",\"size\":\"auto\",\"n\":null,"
                         "\"model\":\"\",\"response_format\":\"url\"}",
                         &ir, &err), 0);
    assert_int_equal(ir.n, 1);
    assert_null(ir.size);
    assert_null(ir.model);
    assert_int_equal(ir.b64, 0);
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("[1]", &ir, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "invalid_json");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{}", &ir, &err), -1);
    assert_string_equal(err.code, "missing_required_parameter");
    assert_string_equal(err.param, "prompt");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{\"prompt\":3}", &ir, &err), -1);
    assert_string_equal(err.code, "invalid_type");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{\"prompt\":\"x\",\"n\":11}", &ir, &err), -1);
    assert_string_equal(err.param, "n");
    assert_string_equal(err.message, "'n' must be an integer from 1 to 10");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{\"prompt\":\"x\",\"size\":\"123456x1\"}", &ir,
                         &err), -1);
    assert_string_equal(err.param, "size");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{\"prompt\":\"x\",\"response_format\":\"png\"}",
                         &ir, &err), -1);
    assert_string_equal(err.param, "response_format");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(gen("{\"prompt\":\"x\",\"model\":1}", &ir, &err), -1);
    assert_string_equal(err.param, "model");
    ngx_gp_images_req_free(&ir);
}


static int
edit(const char *ct, const char *body, ngx_gp_images_req_t *ir,
    ngx_gp_images_input_t *in, size_t *nin, ngx_gp_oai_error_t *err)
{
    return ngx_gp_images_edits_parse(ct, ct ? strlen(ct) : 0, body,
                                     strlen(body), ir, in, nin, err);
}


#define PART(name, value)                                                     \
    "--B\r\nContent-Disposition: form-data; name=\"" name "\"\r\n\r\n"         \
    value "\r\n"

#define PNG_PART(name)                                                        \
    "--B\r\nContent-Disposition: form-data; name=\"" name "\"; "              \
    "filename=\"a\"\r\nContent-Type: application/octet-stream\r\n\r\n"        \
    "\x89PNG\r\n\x1a\n....\r\n"


static void
test_edits(void **state)
{
    size_t                 nin;
    ngx_gp_images_req_t    ir;
    ngx_gp_oai_error_t     err;
    ngx_gp_images_input_t  in[NGX_GP_IMAGES_INPUTS];

    assert_int_equal(edit(CT, PART("prompt", "hat") PART("n", "3")
                          PART("size", "auto") PART("response_format",
                                                    "b64_json")
                          PNG_PART("image[]") PNG_PART("image[]") "--B--\r\n",
                          &ir, in, &nin, &err), 0);
    assert_string_equal(ir.prompt, "hat");
    assert_int_equal(ir.n, 3);
    assert_null(ir.size);
    assert_int_equal(ir.b64, 1);
    assert_int_equal(nin, 2);
    assert_string_equal(in[0].mime, "image/png");
    assert_int_equal(in[0].len, 12);
    assert_memory_equal(in[0].data, "\x89PNG", 4);
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(NULL, "", &ir, in, &nin, &err), -1);
    assert_string_equal(err.message, "POST /v1/images/edits takes a "
                        "multipart/form-data body with \"image\" and "
                        "\"prompt\": no Content-Type");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") PART("mask", "m")
                          "--B--\r\n", &ir, in, &nin, &err), -1);
    assert_string_equal(err.code, "unsupported_parameter");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PNG_PART("image") "--B--\r\n", &ir, in, &nin,
                          &err), -1);
    assert_string_equal(err.code, "missing_required_parameter");
    assert_string_equal(err.param, "prompt");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") PART("n", "1a")
                          PNG_PART("image") "--B--\r\n", &ir, in, &nin,
                          &err), -1);
    assert_string_equal(err.message,
                        "Invalid or missing 'n': an integer from 1 to 10");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") PART("size", "x9")
                          "--B--\r\n", &ir, in, &nin, &err), -1);
    assert_string_equal(err.param, "size");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") PART("image", "text")
                          "--B--\r\n", &ir, in, &nin, &err), -1);
    assert_string_equal(err.code, "unsupported_file_type");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") "--B--\r\n", &ir, in,
                          &nin, &err), -1);
    assert_string_equal(err.message, "Missing required parameter: 'image'.");
    ngx_gp_images_req_free(&ir);

    /*
     * The text fields go into the chat body's JSON: bytes that are no
     * UTF-8 text are the client's 400, not a 500 when the body is made
     * (found by t/099-hostile-bodies.t under ASan)
     */

    assert_int_equal(edit(CT, PART("prompt", "a ha\xd8") PNG_PART("image")
                          "--B--\r\n", &ir, in, &nin, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.param, "prompt");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "x") PART("model", "m\xc0\xaf")
                          PNG_PART("image") "--B--\r\n", &ir, in, &nin,
                          &err), -1);
    assert_string_equal(err.param, "model");
    ngx_gp_images_req_free(&ir);

    assert_int_equal(edit(CT, PART("prompt", "a h\xc3\xa4t \xe4\xb8\xad")
                          PNG_PART("image") "--B--\r\n", &ir, in, &nin,
                          &err), 0);
    assert_string_equal(ir.prompt, "a h\xc3\xa4t \xe4\xb8\xad");
    ngx_gp_images_req_free(&ir);
}


static void
test_chat_body(void **state)
{
    char                 *s;
    size_t                len;
    json_t               *j, *content;
    ngx_gp_image_ref_t   *img;
    ngx_gp_images_req_t   ir;

    memset(&ir, 0, sizeof(ngx_gp_images_req_t));
    ir.prompt = strdup("a cat");
    ir.prompt_len = 5;
    ir.n = 2;
    ir.size = strdup("512x512");

    img = calloc(1, sizeof(ngx_gp_image_ref_t));
    assert_non_null(img);
    img->kind = NGX_GP_IMAGE_DATA;
    img->mime = strdup("image/webp");
    img->data = strdup("QUJD");
    img->data_len = 4;
    ir.images = img;
    ir.nimages = 1;

    s = ngx_gp_images_chat_body(&ir, "gemini-image", &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));

    j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "model")),
                        "gemini-image");

    content = json_object_get(json_array_get(json_object_get(j, "messages"),
                                             0),
                              "content");
    assert_int_equal(json_array_size(content), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(content, 0), "text")),
                        "a cat\n\n(Generate 2 separate images.)\n"
                        "(Size: 512x512.)");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(content, 1), "image_url"), "url")),
                        "data:image/webp;base64,QUJD");

    json_decref(j);
    free(s);
    ngx_gp_images_req_free(&ir);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_generations),
        cmocka_unit_test(test_edits),
        cmocka_unit_test(test_chat_body),
    };

    UNIT_RUN("images", tests);
}
