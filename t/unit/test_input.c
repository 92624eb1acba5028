
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the input media helpers: the fetch guard's address
 * classes, multipart/form-data, media types.
 */


#include <arpa/inet.h>

#include "unit.h"
#include "ngx_http_gemini_pool_input.h"


static const char *
refused(const char *text)
{
    unsigned char  a[16];

    if (inet_pton(AF_INET, text, a) == 1) {
        return ngx_gp_addr_refused(4, a);
    }

    assert_int_equal(inet_pton(AF_INET6, text, a), 1);

    return ngx_gp_addr_refused(6, a);
}


static void
test_addresses(void **state)
{
    static const char  *cases[][2] = {
        { "127.0.0.1", "loopback" },
        { "127.255.1.2", "loopback" },
        { "10.0.0.1", "private" },
        { "172.16.0.1", "private" },
        { "172.31.255.255", "private" },
        { "192.168.1.1", "private" },
        { "169.254.169.254", "metadata" },
        { "169.254.1.1", "link-local" },
        { "100.64.0.1", "carrier-grade NAT" },
        { "100.100.100.200", "carrier-grade NAT" },
        { "0.0.0.0", "unspecified" },
        { "224.0.0.1", "multicast" },
        { "255.255.255.255", "reserved" },
        { "198.18.0.1", "benchmarking" },
        { "::", "unspecified" },
        { "::1", "loopback" },
        { "::ffff:127.0.0.1", "loopback" },
        { "::ffff:10.1.2.3", "private" },
        { "::127.0.0.1", "loopback" },
        { "64:ff9b::a9fe:a9fe", "metadata" },
        { "2002:7f00:1::", "loopback" },
        { "fe80::1", "link-local" },
        { "fc00::1", "unique local" },
        { "fd00:ec2::254", "metadata" },
        { "ff02::1", "multicast" },
        { "2001:db8::1", "documentation" },
        { "8.8.8.8", NULL },
        { "172.32.0.1", NULL },
        { "100.128.0.1", NULL },
        { "142.250.74.78", NULL },
        { "2a00:1450:4001:80b::200e", NULL },
        { "::ffff:8.8.8.8", NULL },
    };

    size_t       i;
    const char  *why;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = refused(cases[i][0]);

        if (cases[i][1] == NULL) {
            if (why != NULL) {
                fail_msg("%s: refused as %s", cases[i][0], why);
            }

        } else if (why == NULL || strcmp(why, cases[i][1]) != 0) {
            fail_msg("%s: %s, expected %s", cases[i][0],
                     why ? why : "allowed", cases[i][1]);
        }
    }
}


static void
test_multipart(void **state)
{
    size_t                 n;
    const char            *err, *body;
    ngx_gp_mpart_t         parts[4];
    const ngx_gp_mpart_t  *f;

    body = "--XyZ\r\n"
           "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
           "vision\r\n"
           "--XyZ\r\n"
           "content-disposition: form-data; name=\"file\"; "
           "filename=\"a;b.png\"\r\n"
           "Content-Type: image/png\r\n\r\n"
           "\x89PNG\r\n--X\r\n"
           "--XyZ--\r\n";

    assert_int_equal(ngx_gp_multipart_parse(
        "multipart/form-data; boundary=\"XyZ\"", 35, body, strlen(body),
        parts, 4, &n, &err), 0);
    assert_int_equal(n, 2);

    f = ngx_gp_multipart_get(parts, n, "purpose");
    assert_non_null(f);
    assert_int_equal(f->len, 6);
    assert_memory_equal(f->data, "vision", 6);
    assert_null(f->filename);

    f = ngx_gp_multipart_get(parts, n, "file");
    assert_non_null(f);
    assert_int_equal(f->filename_len, 7);
    assert_memory_equal(f->filename, "a;b.png", 7);
    assert_int_equal(f->type_len, 9);
    assert_int_equal(f->len, 9);
    assert_memory_equal(f->data, "\x89PNG\r\n--X", 9);

    assert_null(ngx_gp_multipart_get(parts, n, "other"));

    /* broken bodies */

    assert_int_equal(ngx_gp_multipart_parse("application/json", 16, body,
                                            strlen(body), parts, 4, &n,
                                            &err), -1);
    assert_int_equal(ngx_gp_multipart_parse("multipart/form-data", 19, body,
                                            strlen(body), parts, 4, &n,
                                            &err), -1);
    assert_int_equal(ngx_gp_multipart_parse(
        "multipart/form-data; boundary=XyZ", 33, body, strlen(body) - 9,
        parts, 4, &n, &err), -1);
    assert_int_equal(ngx_gp_multipart_parse(
        "multipart/form-data; boundary=XyZ", 33, body, strlen(body),
        parts, 1, &n, &err), -1);
    assert_string_equal(err, "too many parts");
}


static void
test_mime(void **state)
{
    char  buf[64];

    assert_string_equal(ngx_gp_mime_sniff((unsigned char *)
                                          "\x89PNG\r\n\x1a\nxx", 10),
                        "image/png");
    assert_string_equal(ngx_gp_mime_sniff((unsigned char *) "\xff\xd8\xff",
                                          3), "image/jpeg");
    assert_string_equal(ngx_gp_mime_sniff((unsigned char *) "GIF89a", 6),
                        "image/gif");
    assert_string_equal(ngx_gp_mime_sniff((unsigned char *)
                                          "RIFF\0\0\0\0WEBPVP8 ", 16),
                        "image/webp");
    assert_string_equal(ngx_gp_mime_sniff((unsigned char *) "%PDF-1.7", 8),
                        "application/pdf");
    assert_null(ngx_gp_mime_sniff((unsigned char *) "<html>", 6));

    assert_string_equal(ngx_gp_mime_ext("image/jpeg"), "jpg");
    assert_string_equal(ngx_gp_mime_ext("video/x-unknown"), "bin");

    assert_int_equal(ngx_gp_mime_bare(" Image/PNG; charset=x", 21, buf,
                                      sizeof(buf)), 9);
    assert_string_equal(buf, "image/png");
    assert_int_equal(ngx_gp_mime_bare("image", 5, buf, sizeof(buf)), 0);
    assert_int_equal(ngx_gp_mime_bare("image/", 6, buf, sizeof(buf)), 0);
    assert_int_equal(ngx_gp_mime_bare("a/b/c", 5, buf, sizeof(buf)), 0);
    assert_int_equal(ngx_gp_mime_bare("image/png", 9, buf, 4), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_mime),
    };

    UNIT_RUN("input", tests);
}
