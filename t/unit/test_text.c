
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the text helpers: UTF-8, memory, base64, the buffer.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_text.h"


/* UTF-8 */

static void
test_utf8_seq(void **state)
{
    size_t  i;

    static const struct {
        const char  *in;
        size_t       len;
        size_t       seq;
        uint32_t     cp;
    } t[] = {
        { "a", 1, 1, 0x61 },
        { "\xc3\xa9", 2, 2, 0xe9 },
        { "\xe4\xb8\xad", 3, 3, 0x4e2d },
        { "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
        { "\xc0\xaf", 2, 0, 0 },               /* overlong */
        { "\xe0\x80\xaf", 3, 0, 0 },           /* overlong */
        { "\xed\xa0\x80", 3, 0, 0 },           /* surrogate */
        { "\xf4\x90\x80\x80", 4, 0, 0 },       /* above U+10FFFF */
        { "\xe4\xb8", 2, 0, 0 },               /* cut */
        { "\x80", 1, 0, 0 },
        { "\xff", 1, 0, 0 },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(ngx_gp_utf8_seq((const unsigned char *) t[i].in,
                                         t[i].len),
                         t[i].seq);

        if (t[i].seq) {
            assert_int_equal(ngx_gp_utf8_cp((const unsigned char *) t[i].in,
                                            t[i].seq),
                             t[i].cp);
        }
    }
}


static void
test_utf8_cut(void **state)
{
    /* "a" U+00E9 U+4E2D U+1F600: 1 + 2 + 3 + 4 bytes */
    static const char  s[] = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";

    size_t  len = sizeof(s) - 1;

    assert_int_equal(ngx_gp_utf8_cut(s, len, 100), len);
    assert_int_equal(ngx_gp_utf8_cut(s, len, len), len);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 9), 6);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 8), 6);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 7), 6);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 6), 6);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 5), 3);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 4), 3);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 2), 1);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 1), 1);
    assert_int_equal(ngx_gp_utf8_cut(s, len, 0), 0);

    /* only the bytes below max are read: what follows may be anything */
    assert_int_equal(ngx_gp_utf8_cut("ab\xc3", 4, 3), 2);
    assert_int_equal(ngx_gp_utf8_cut("abc\x80", 4, 3), 3);
}


static void
test_utf8_sanitize(void **state)
{
    char    *s;
    size_t   n;

    s = ngx_gp_utf8_sanitize("a\xc3\xa9" "b\xff" "c\0d\xe4\xb8", 10, &n);
    assert_non_null(s);
    assert_int_equal(n, 18);
    assert_string_equal(s, "a\xc3\xa9" "b\xef\xbf\xbd" "c\xef\xbf\xbd"
                           "d\xef\xbf\xbd\xef\xbf\xbd");
    free(s);

    s = ngx_gp_utf8_sanitize("", 0, NULL);
    assert_string_equal(s, "");
    free(s);
}


/* memory */

static void
test_mem(void **state)
{
    char        *s;
    const char  *hay = "abcabd\0abe";

    s = ngx_gp_mem_dup("ab\0c", 4);
    assert_memory_equal(s, "ab\0c", 5);
    free(s);

    s = ngx_gp_str_dup("xyz");
    assert_string_equal(s, "xyz");
    free(s);

    assert_null(ngx_gp_str_dup(NULL));

    assert_ptr_equal(ngx_gp_mem_find(hay, 10, "abd", 3), hay + 3);
    assert_ptr_equal(ngx_gp_mem_find(hay, 10, "abe", 3), hay + 7);
    assert_ptr_equal(ngx_gp_mem_find(hay, 10, "\0a", 2), hay + 6);
    assert_null(ngx_gp_mem_find(hay, 9, "abe", 3));
    assert_null(ngx_gp_mem_find(hay, 10, "abf", 3));
    assert_null(ngx_gp_mem_find(hay, 10, "", 0));
    assert_null(ngx_gp_mem_find(hay, 2, "abc", 3));

    assert_true(ngx_gp_prefix_ci("Multipart/Form-Data; b=1", 24,
                                 "multipart/form-data"));
    assert_true(ngx_gp_prefix_ci("DATA:", 5, "data:"));
    assert_false(ngx_gp_prefix_ci("DAT", 3, "data:"));
    assert_false(ngx_gp_prefix_ci("datx:", 5, "data:"));
    assert_true(ngx_gp_prefix_ci("x", 1, ""));
}


/* base64 */

static void
test_base64url_encode_vectors(void **state)
{
    char    *s;
    size_t   i, n;

    static const char  *in[] = { "", "f", "fo", "foo", "foob", "fooba",
                                 "foobar" };
    static const char  *out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
                                  "Zm9vYmE", "Zm9vYmFy" };
    static const unsigned char  bin[] = { 0xfb, 0xff, 0xbf };

    for (i = 0; i < 7; i++) {
        s = ngx_gp_base64_encode((const unsigned char *) in[i],
                                    strlen(in[i]), NGX_GP_BASE64_URL, &n);
        assert_non_null(s);
        assert_string_equal(s, out[i]);
        assert_int_equal(n, strlen(out[i]));
        free(s);
    }

    s = ngx_gp_base64_encode(bin, 3, NGX_GP_BASE64_URL, &n);
    assert_string_equal(s, "-_-_");
    free(s);

    s = ngx_gp_base64_encode(bin, 2, NGX_GP_BASE64_URL, NULL);
    assert_string_equal(s, "-_8");
    free(s);
}


static void
test_base64_decode_any(void **state)
{
    size_t          i, n;
    unsigned char  *p;

    static const struct {
        const char  *in;
        const char  *out;
        size_t       len;
    } ok[] = {
        { "", "", 0 },
        { "Zg", "f", 1 },
        { "Zg==", "f", 1 },
        { "Zg=", "f", 1 },
        { "Zm8", "fo", 2 },
        { "Zm8=", "fo", 2 },
        { "Zm9v", "foo", 3 },
        { "Zm9vYmFy", "foobar", 6 },
        { "Zm9v\r\nYmFy\n", "foobar", 6 },
        { "-_-_", "\xfb\xff\xbf", 3 },
        { "+/+/", "\xfb\xff\xbf", 3 },
        { "-/+_", "\xfb\xff\xbf", 3 },
        { "-_8", "\xfb\xff", 2 },
        { "+/8=", "\xfb\xff", 2 },
    };

    static const char  *bad[] = {
        "Z", "Zm9vY", "Zm9v!", "Zg==Zg", "Zg===", "Zm 9v*", "Z\x80g", "=",
    };

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        p = ngx_gp_base64_decode_any(ok[i].in, strlen(ok[i].in), &n);

        if (p == NULL) {
            fail_msg("\"%s\" not decoded", ok[i].in);
        }

        assert_int_equal(n, ok[i].len);
        assert_memory_equal(p, ok[i].out, n);
        assert_int_equal(p[n], '\0');
        free(p);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = ngx_gp_base64_decode_any(bad[i], strlen(bad[i]), &n);

        if (p != NULL) {
            fail_msg("\"%s\" decoded", bad[i]);
        }
    }
}


static void
test_base64_round_trip(void **state)
{
    char           *s;
    size_t          len, i, n, m;
    uint64_t        rs;
    unsigned char   data[300], *p;

    rs = 42;

    for (len = 0; len < 300; len += 1 + len / 8) {
        for (i = 0; i < len; i++) {
            data[i] = (unsigned char) unit_rand(&rs);
        }

        s = ngx_gp_base64_encode(data, len, NGX_GP_BASE64_URL, &n);
        assert_non_null(s);
        assert_int_equal(n, (len * 4 + 2) / 3);
        assert_null(strpbrk(s, "+/="));

        p = ngx_gp_base64_decode_any(s, n, &m);
        assert_non_null(p);
        assert_int_equal(m, len);
        assert_memory_equal(p, data, len);

        free(s);
        free(p);
    }
}


static void
test_base64_std(void **state)
{
    char    *s;
    size_t   i, n;
    char     buf[16];

    static const char  *in[] = { "", "f", "fo", "foo", "foob", "fooba",
                                 "foobar" };
    static const char  *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                                  "Zm9vYmE=", "Zm9vYmFy" };
    static const unsigned char  bin[] = { 0xfb, 0xff, 0xbf };

    for (i = 0; i < 7; i++) {
        s = ngx_gp_base64_encode((const unsigned char *) in[i], strlen(in[i]),
                                 NGX_GP_BASE64_STD, &n);
        assert_non_null(s);
        assert_string_equal(s, out[i]);
        assert_int_equal(n, strlen(out[i]));
        assert_int_equal(n, ngx_gp_base64_len(strlen(in[i]),
                                              NGX_GP_BASE64_STD));
        free(s);
    }

    n = ngx_gp_base64_encode_to(bin, 3, NGX_GP_BASE64_STD, buf);
    assert_int_equal(n, 4);
    assert_string_equal(buf, "+/+/");

    n = ngx_gp_base64_encode_to(bin, 2, NGX_GP_BASE64_URL, buf);
    assert_int_equal(n, 3);
    assert_int_equal(n, ngx_gp_base64_len(2, NGX_GP_BASE64_URL));
    assert_string_equal(buf, "-_8");
}


static void
test_base64_strict(void **state)
{
    size_t          i, n;
    unsigned char   out[16];

    static const struct {
        const char  *in;
        int          any;
        const char  *out;
        size_t       len;
    } ok[] = {
        { "", 0, "", 0 },
        { "Zg", 0, "f", 1 },
        { "Zm8", 0, "fo", 2 },
        { "Zm9vYmFy", 0, "foobar", 6 },
        { "-_-_", 0, "\xfb\xff\xbf", 3 },
        { "-_8", 0, "\xfb\xff", 2 },
        { "Zg==", 1, "f", 1 },
        { "Zm8=", 1, "fo", 2 },
        { "Zg", 1, "f", 1 },
        { "+/+/", 1, "\xfb\xff\xbf", 3 },
        { "-/+_", 1, "\xfb\xff\xbf", 3 },
    };

    static const struct {
        const char  *in;
        int          any;
    } bad[] = {
        { "Zg==", 0 },          /* padding */
        { "+/+/", 0 },          /* the standard alphabet */
        { "Zh", 0 },            /* low bits set */
        { "Zm9=", 1 },          /* low bits set */
        { "Zg=", 1 },           /* incomplete padding */
        { "Z", 1 },
        { "Zm9v\n", 1 },        /* whitespace */
        { "Zm9v!", 1 },
    };

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (ngx_gp_base64_decode_strict(ok[i].in, strlen(ok[i].in), ok[i].any,
                                        out, &n)
            != 0)
        {
            fail_msg("\"%s\" not decoded", ok[i].in);
        }

        assert_int_equal(n, ok[i].len);
        assert_memory_equal(out, ok[i].out, n);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ngx_gp_base64_decode_strict(bad[i].in, strlen(bad[i].in),
                                        bad[i].any, out, &n)
            == 0)
        {
            fail_msg("\"%s\" decoded", bad[i].in);
        }
    }
}


/* the buffer */

static void
test_buf(void **state)
{
    char           *s, small[8];
    size_t          n, i;
    ngx_gp_buf_t    b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    ngx_gp_buf_lit(&b, "{\"a\":");
    ngx_gp_buf_str(&b, "q\"\\\n\x01\xc3\xa9\xff", 8);
    ngx_gp_buf_lit(&b, ",\"b\":");
    ngx_gp_buf_cstr(&b, NULL);
    ngx_gp_buf_lit(&b, ",\"c\":");
    ngx_gp_buf_int(&b, -12);
    ngx_gp_buf_lit(&b, ",\"d\":");
    ngx_gp_buf_uint(&b, UINT64_MAX);
    ngx_gp_buf_lit(&b, "}");

    s = ngx_gp_buf_finish(&b, &n);
    assert_non_null(s);
    assert_string_equal(s, "{\"a\":\"q\\\"\\\\\\n\\u0001\xc3\xa9\xef\xbf\xbd\","
                           "\"b\":null,\"c\":-12,"
                           "\"d\":18446744073709551615}");
    assert_int_equal(n, strlen(s));
    free(s);

    /* the caller's storage while the text fits */

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    b.p = small;
    b.cap = sizeof(small);
    b.ext = 1;

    ngx_gp_buf_lit(&b, "abc");
    s = ngx_gp_buf_finish(&b, &n);
    assert_ptr_equal(s, small);
    assert_string_equal(s, "abc");

    /* then a malloc'ed copy */

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    b.p = small;
    b.cap = sizeof(small);
    b.ext = 1;

    for (i = 0; i < 100; i++) {
        ngx_gp_buf_lit(&b, "0123456789");
    }

    s = ngx_gp_buf_finish(&b, &n);
    assert_true(s != small);
    assert_int_equal(n, 1000);
    assert_memory_equal(s + 990, "0123456789", 11);
    free(s);

    /* a failed allocation sticks */

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    ngx_gp_buf_lit(&b, "x");
    ngx_gp_buf_reserve(&b, SIZE_MAX / 2);
    assert_true(b.failed);
    ngx_gp_buf_lit(&b, "y");
    assert_null(ngx_gp_buf_finish(&b, &n));
}


static void
test_url_escape(void **state)
{
    char  buf[16];

    /* unreserved bytes stay, the rest is %XX, "&" and "=" included */
    assert_int_equal(ngx_gp_url_escape(buf, sizeof(buf), "a-z.0_9~"), 8);
    assert_string_equal(buf, "a-z.0_9~");
    assert_int_equal(ngx_gp_url_escape(buf, sizeof(buf), "a&b=c d"), 13);
    assert_string_equal(buf, "a%26b%3Dc%20d");
    assert_int_equal(ngx_gp_url_escape(buf, sizeof(buf), "\xe9@"), 6);
    assert_string_equal(buf, "%E9%40");

    /* it stops before what does not fit, never inside an escape */
    assert_int_equal(ngx_gp_url_escape(buf, 6, "ab cd"), 5);
    assert_string_equal(buf, "ab%20");
    assert_int_equal(ngx_gp_url_escape(buf, 5, "ab cd"), 2);
    assert_string_equal(buf, "ab");
    assert_int_equal(ngx_gp_url_escape(buf, 1, "ab"), 0);
    assert_string_equal(buf, "");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_seq),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_mem),
        cmocka_unit_test(test_base64url_encode_vectors),
        cmocka_unit_test(test_base64_decode_any),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_base64_std),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_url_escape),
    };

    UNIT_RUN("text", tests);
}
