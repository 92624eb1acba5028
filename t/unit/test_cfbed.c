
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the image host's wire format (spec §9.5): the upload URL
 * and the public URL from the host's answer.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_cfbed.h"


#define PARAMS  "&uploadChannel=telegram&serverCompress=true" \
                "&autoRetry=true&uploadNameType=default&returnFormat=default"


static void
test_upload_url(void **state)
{
    char    buf[512];
    size_t  n;

    n = ngx_gp_cfbed_upload_url("https://img.example.com/upload", "t0k",
                                buf, sizeof(buf));
    assert_string_equal(buf, "https://img.example.com/upload?authCode=t0k"
                        PARAMS);
    assert_int_equal(n, strlen(buf));

    /* a query already there; the token percent-encoded */
    ngx_gp_cfbed_upload_url("http://h/upload?x=1", "a b&c=/+", buf,
                            sizeof(buf));
    assert_string_equal(buf, "http://h/upload?x=1&authCode=a%20b%26c%3D%2F%2B"
                        PARAMS);

    /* too small: 0, never a cut URL */
    assert_int_equal(ngx_gp_cfbed_upload_url("http://h/upload", "t", buf,
                                             40), 0);
    assert_int_equal(ngx_gp_cfbed_upload_url("http://h/upload",
                                             "0123456789012345678901234567"
                                             "8901234567890123456789", buf,
                                             sizeof("http://h/upload"
                                                    "?authCode=") + 20
                                             + sizeof(PARAMS)), 0);
}


static int
answer(const char *body, const char *base, const char *endpoint, char *url,
    char *err)
{
    return ngx_gp_cfbed_answer(body, strlen(body), base, endpoint, url, 256,
                               err, 128);
}


static void
test_answer(void **state)
{
    char  url[256], err[128];

    /* the endpoint without "/upload", then src */
    assert_int_equal(answer("[{\"src\":\"/file/abc_image.jpg\"}]", "",
                            "https://img.example.com/upload", url, err), 0);
    assert_string_equal(url, "https://img.example.com/file/abc_image.jpg");

    assert_int_equal(answer("[{\"src\":\"/file/a.png\"},{\"src\":\"/x\"}]",
                            NULL, "https://h:8443/api/upload/?k=v", url,
                            err), 0);
    assert_string_equal(url, "https://h:8443/api/file/a.png");

    /* image_base_url first, one slash between */
    assert_int_equal(answer("[{\"src\":\"/file/a.png\"}]",
                            "https://cdn.example.com/m/",
                            "https://img.example.com/upload", url, err), 0);
    assert_string_equal(url, "https://cdn.example.com/m/file/a.png");

    assert_int_equal(answer("[{\"src\":\"file/a.png\"}]", "https://c",
                            "https://img.example.com/upload", url, err), 0);
    assert_string_equal(url, "https://c/file/a.png");

    /* an absolute src as it is */
    assert_int_equal(answer("[{\"src\":\"https://t.me/f/a.png\"}]", "",
                            "https://img.example.com/upload", url, err), 0);
    assert_string_equal(url, "https://t.me/f/a.png");

    /* refused answers */
    assert_int_equal(answer("<html>", "", "http://h/upload", url, err), -1);
    assert_string_equal(err, "the answer is not JSON");

    assert_int_equal(answer("{\"error\":\"bad\\ntoken\"}", "",
                            "http://h/upload", url, err), -1);
    assert_string_equal(err, "the answer is not a JSON array: bad?token");

    assert_int_equal(answer("[]", "", "http://h/upload", url, err), -1);
    assert_string_equal(err, "the answer has no \"src\"");

    assert_int_equal(answer("[{\"src\":\"\"}]", "", "http://h/upload", url,
                            err), -1);
    assert_int_equal(answer("[{\"src\":5}]", "", "http://h/upload", url,
                            err), -1);

    assert_int_equal(answer("[{\"src\":\"/file/a b.png\"}]", "",
                            "http://h/upload", url, err), -1);
    assert_string_equal(err, "the answer's \"src\" has characters a link "
                        "cannot carry");
    assert_int_equal(answer("[{\"src\":\"/file/a).png\"}]", "",
                            "http://h/upload", url, err), -1);
    assert_int_equal(answer("[{\"src\":\"/file/\\u00e9.png\"}]", "",
                            "http://h/upload", url, err), -1);
}


static void
test_answer_size(void **state)
{
    char         url[32], err[128];
    const char  *fits, *long_src;

    fits = "[{\"src\":\"/file/a.png\"}]";
    long_src = "[{\"src\":\"/file/0123456789abcd.png\"}]";

    assert_int_equal(ngx_gp_cfbed_answer(fits, strlen(fits), "",
                                         "http://h/upload", url,
                                         sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://h/file/a.png");

    /* a URL that does not fit is refused, not cut */
    assert_int_equal(ngx_gp_cfbed_answer(long_src, strlen(long_src), "",
                                         "http://h/upload", url, sizeof(url),
                                         err, sizeof(err)), -1);
    assert_string_equal(err, "the answer's \"src\" is too long");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_upload_url),
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_answer_size),
    };

    UNIT_RUN("cfbed", tests);
}
