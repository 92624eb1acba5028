
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the temp-mail data: the mailbox of a URL, the worker
 * API's answers, the text of a mail and the login code (spec 13.4, 13.6).
 */


#include "unit.h"

#include "ngx_http_gemini_pool_mail.h"
#include "ngx_http_gemini_pool_text.h"


/* a multipart mail, both parts quoted-printable; the HTML part wins */

static const char  raw_zh_qp[] =
    "From: noreply-googlecloud@google.com\r\n"
    "To: abc@mail.test\r\n"
    "Subject: =?UTF-8?B?5Li0?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative;\r\n"
    " boundary=\"b1\"\r\n"
    "\r\n"
    "This is multipart.\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "=E6=82=A8=E7=9A=84=E4=B8=80=E6=AC=A1=E6=80=A7=E9=AA=8C=E8=AF=81=E7"
    "=A0=81=E4=\r\n"
    "=B8=BA=EF=BC=9APLN0X1\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><head><style>/* =E9=AA=8C=E8=AF=81=E7=A0=81=E4=B8=BA ZZZZZ9 "
    "*/</style=\r\n"
    "></head><body><p>=E6=82=A8=E7=9A=84=E4=B8=80=E6=AC=A1=E6=80=A7=E9="
    "AA=8C=E8=\r\n"
    "=AF=81=E7=A0=81=E4=B8=BA=EF=BC=9A</p><p><span style=3D\"font-size:"
    "24px\">RP9J=\r\n"
    "4H</span></p><p>=E6=AD=A4=E9=AA=8C=E8=AF=81=E7=A0=81=E5=B0=86=E5=9"
    "C=A8 10 =\r\n"
    "=E5=88=86=E9=92=9F=E5=90=8E=E5=A4=B1=E6=95=88=E3=80=82</p></body><"
    "/html>\r\n"
    "--b1--\r\n"
    "";


/* a text/plain mail in base64 */

static const char  raw_en_b64[] =
    "From: x@google.com\r\n"
    "Subject: code\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "WW91ciBvbmUtdGltZSB2ZXJpZmljYXRpb24gY29kZSBpczogVEpFNVI4ClRoaXMgY2"
    "9kZSBleHBp\r\n"
    "cmVzIGluIDEwIG1pbnV0ZXMu\r\n"
    "";


static char *
jwt_of(const char *payload)
{
    char    *p, *jwt;
    size_t   n;

    p = ngx_gp_base64_encode((const unsigned char *) payload,
                             strlen(payload), NGX_GP_BASE64_URL, &n);
    jwt = malloc(n + 64);
    sprintf(jwt, "eyJhbGciOiJIUzI1NiJ9.%s.c2lnbmF0dXJl", p);
    free(p);

    return jwt;
}


/* the mailbox */

static void
test_mailbox(void **state)
{
    char              *jwt, url[512], err[128];
    ngx_gp_mailbox_t   mb;

    jwt = jwt_of("{\"address\":\"tmp8xk2@mail.example.org\","
                 "\"address_id\":7}");

    snprintf(url, sizeof(url), "https://mail.example.org:8443/?jwt=%s",
             jwt);
    assert_int_equal(ngx_gp_mailbox_parse(url, NULL, &mb, err, sizeof(err)),
                     0);
    assert_string_equal(mb.address, "tmp8xk2@mail.example.org");
    assert_string_equal(mb.jwt, jwt);
    assert_string_equal(mb.base, "https://mail.example.org:8443");
    ngx_gp_mailbox_free(&mb);

    /* the worker elsewhere; a hash route; other parameters */
    snprintf(url, sizeof(url), "http://mail.example.org/#/?lang=zh&jwt=%s"
             "&x=1", jwt);
    assert_int_equal(ngx_gp_mailbox_parse(url, "https://api.example.org/",
                                          &mb, err, sizeof(err)), 0);
    assert_string_equal(mb.base, "https://api.example.org");
    assert_string_equal(mb.jwt, jwt);
    ngx_gp_mailbox_free(&mb);

    /* an empty worker URL is no worker URL */
    snprintf(url, sizeof(url), "http://127.0.0.1:9000?jwt=%s", jwt);
    assert_int_equal(ngx_gp_mailbox_parse(url, "", &mb, err, sizeof(err)),
                     0);
    assert_string_equal(mb.base, "http://127.0.0.1:9000");
    ngx_gp_mailbox_free(&mb);

    assert_int_equal(ngx_gp_mailbox_parse("https://mail.example.org/",
                                          NULL, &mb, err, sizeof(err)), -1);
    assert_string_equal(err, "the mailbox URL has no jwt parameter");
    assert_null(mb.jwt);

    assert_int_equal(ngx_gp_mailbox_parse("ftp://x/?jwt=a.b.c", NULL, &mb,
                                          err, sizeof(err)), -1);
    assert_string_equal(err, "the mailbox URL is not an http(s) URL");

    assert_int_equal(ngx_gp_mailbox_parse("https://x/?jwt=abc", NULL, &mb,
                                          err, sizeof(err)), -1);
    assert_string_equal(err, "the mailbox jwt is not a JWT");

    assert_int_equal(ngx_gp_mailbox_parse("https://x/?jwt=a.%21%21.c", NULL,
                                          &mb, err, sizeof(err)), -1);
    assert_string_equal(err, "the mailbox jwt's payload is not base64url");

    free(jwt);
    jwt = jwt_of("{\"name\":\"no address\"}");
    snprintf(url, sizeof(url), "https://x/?jwt=%s", jwt);
    assert_int_equal(ngx_gp_mailbox_parse(url, NULL, &mb, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "the mailbox jwt's payload has no address");

    snprintf(url, sizeof(url), "https://x/?jwt=%s", jwt);
    free(jwt);
    jwt = jwt_of("{\"address\":\"a@b\"}");
    snprintf(url, sizeof(url), "https://x/?jwt=%s", jwt);
    assert_int_equal(ngx_gp_mailbox_parse(url, "mail.example.org", &mb, err,
                                          sizeof(err)), -1);
    assert_string_equal(err, "tempmail_worker_url is not an http(s) URL");

    free(jwt);
}


/* list answers */

static void
test_list_shapes(void **state)
{
    char                 body[512];
    size_t               i;
    const char          *reason;
    ngx_gp_mail_list_t   l;

    static const char  *keys[] = { "results", "mails", "data", "result" };

    static const char   items[] =
        "[{\"id\":3,\"subject\":\"old\",\"text\":\"x\"},"
        "{\"id\":\"12\",\"subject\":\"Gemini\",\"text\":"
        "\"Your one-time verification code is: TJE5R8\"},"
        "{\"subject\":\"no id\",\"text\":\"y\"},"
        "{\"id\":\"7a\",\"text\":\"bad id\"},"
        "{\"id\":5}]";

    assert_int_equal(ngx_gp_mail_list_parse(items, sizeof(items) - 1, &l,
                                            &reason), 0);
    assert_null(reason);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.newest, 12);
    assert_int_equal(l.mails[1].id, 12);
    assert_string_equal(l.mails[1].subject, "Gemini");
    assert_string_equal(l.mails[1].text,
                        "Your one-time verification code is: TJE5R8");
    assert_string_equal(l.mails[2].subject, "");
    assert_null(l.mails[2].text);   /* no text: the detail API's turn */
    ngx_gp_mail_list_free(&l);

    for (i = 0; i < 4; i++) {
        snprintf(body, sizeof(body), "{\"%s\":%s,\"count\":3}", keys[i],
                 items);
        assert_int_equal(ngx_gp_mail_list_parse(body, strlen(body), &l,
                                                &reason), 0);
        assert_null(reason);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.newest, 12);
        ngx_gp_mail_list_free(&l);
    }

    /* empty, HTML, not JSON, another shape: empty with a reason */

    snprintf(body, sizeof(body), "{\"results\":[],\"count\":0}");
    assert_int_equal(ngx_gp_mail_list_parse(body, strlen(body), &l,
                                            &reason), 0);
    assert_null(reason);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.newest, 0);

    assert_int_equal(ngx_gp_mail_list_parse("\n <!DOCTYPE html><html>", 23,
                                            &l, &reason), 0);
    assert_int_equal(l.n, 0);
    assert_non_null(strstr(reason, "HTML"));

    assert_int_equal(ngx_gp_mail_list_parse("Your token is invalid", 21, &l,
                                            &reason), 0);
    assert_string_equal(reason, "the answer is not JSON");

    snprintf(body, sizeof(body), "{\"items\":%s,\"total\":3}", items);
    assert_int_equal(ngx_gp_mail_list_parse(body, strlen(body), &l,
                                            &reason), 0);
    assert_int_equal(l.n, 0);
    assert_string_equal(reason, "the answer is JSON of an unknown shape");
}


static void
test_detail(void **state)
{
    char            body[2048];
    const char     *reason;
    ngx_gp_mail_t   m;

    snprintf(body, sizeof(body), "{\"id\":9,\"subject\":\"s\",\"raw\":\"%s\"}",
             "Subject: s\\r\\n\\r\\n\\u60a8\\u7684\\u9a8c\\u8bc1\\u7801"
             "\\u662f VACBHW");
    assert_int_equal(ngx_gp_mail_detail_parse(body, strlen(body), &m,
                                              &reason), 0);
    assert_int_equal(m.id, 9);
    assert_string_equal(m.text, "\xe6\x82\xa8\xe7\x9a\x84\xe9\xaa\x8c\xe8"
                        "\xaf\x81\xe7\xa0\x81\xe6\x98\xaf VACBHW");
    ngx_gp_mail_free(&m);

    /* wrapped in "result"; the text in "html" */
    snprintf(body, sizeof(body), "{\"result\":{\"id\":\"10\",\"html\":"
             "\"<div>verification code is <b>RP9J4H</b></div>\"}}");
    assert_int_equal(ngx_gp_mail_detail_parse(body, strlen(body), &m,
                                              &reason), 0);
    assert_int_equal(m.id, 10);
    assert_string_equal(m.text, "verification code is RP9J4H");
    ngx_gp_mail_free(&m);

    assert_int_equal(ngx_gp_mail_detail_parse("<html>", 6, &m, &reason), -1);
    assert_int_equal(ngx_gp_mail_detail_parse("[1]", 3, &m, &reason), -1);
    assert_int_equal(ngx_gp_mail_detail_parse("{\"x\":1}", 7, &m, &reason),
                     -1);
    assert_string_equal(reason, "the answer has no mail id");
}


/* the text of raw sources */

static char *
raw_of(const char *s)
{
    return ngx_gp_mail_raw_text(s, strlen(s));
}


static void
test_raw_text(void **state)
{
    char  *t, code[7];

    t = ngx_gp_mail_raw_text(raw_zh_qp, sizeof(raw_zh_qp) - 1);
    assert_non_null(t);
    /* the HTML part, decoded, style and tags gone */
    assert_null(strstr(t, "ZZZZZ9"));
    assert_null(strstr(t, "PLN0X1"));
    assert_null(strstr(t, "<"));
    assert_non_null(strstr(t, "\xe4\xb8\x80\xe6\xac\xa1\xe6\x80\xa7\xe9\xaa"
                              "\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8\xba"
                              "\xef\xbc\x9a RP9J4H"));
    assert_int_equal(ngx_gp_mail_code(t, strlen(t), code), 1);
    assert_string_equal(code, "RP9J4H");
    free(t);

    t = ngx_gp_mail_raw_text(raw_en_b64, sizeof(raw_en_b64) - 1);
    assert_string_equal(t, "Your one-time verification code is: TJE5R8 "
                        "This code expires in 10 minutes.");
    free(t);

    /* no headers declared: body after the blank line, qp and %XX read */
    t = raw_of("Subject: x\n\nverification code=\n is=3A %56ACBHW");
    assert_string_equal(t, "verification code is: VACBHW");
    free(t);

    /* HTML without a content type, entities */
    t = raw_of("X: y\r\n\r\n<div>&lt;code&gt;&nbsp;is "
               "&#x41;&#66;C<!-- no -->DEF</div>");
    assert_string_equal(t, "<code> is ABC DEF");
    free(t);
}


/* the code (spec 13.6) */

static void
test_code(void **state)
{
    char    code[7];
    size_t  i;

    static const struct {
        const char  *text;
        const char  *code;
    } t[] = {
        /* the spec's samples, as the mails say them */
        { "\xe6\x82\xa8\xe7\x9a\x84\xe4\xb8\x80\xe6\xac\xa1\xe6\x80\xa7\xe9"
          "\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8\xba\xef\xbc\x9a\n\n"
          "VACBHW\n\n\xe6\xad\xa4\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81",
          "VACBHW" },
        { "Your one-time verification code is:\n\n  TJE5R8\n\nThis code "
          "will expire in 10 minutes.", "TJE5R8" },
        { "Gemini Enterprise\n\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8"
          "\xba RP9J4H", "RP9J4H" },
        { "\xe6\x82\xa8\xe7\x9a\x84\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe6"
          "\x98\xaf: 4B7Q2Z", "4B7Q2Z" },
        /* truncated phrases */
        { "\xe4\xb8\x80\xe6\xac\xa1\xe6\x80\xa7\xe9\xaa\x8c\xe8\xaf\x81\xe4"
          "\xb8\xba ABC123", "ABC123" },
        { "\xe9\xaa\x8c\xe8\xaf\x81\xe4\xb8\xba ABC124", "ABC124" },
        /* phrase in other case, split over lines */
        { "YOUR ONE-TIME\nVERIFICATION CODE IS\n Q1W2E3", "Q1W2E3" },
        /* lower-case words and longer runs are not codes */
        { "Your verification code is below. Google Workspace ...\nMZX8KQ",
          "MZX8KQ" },
        { "verification code is ABCDEFGH or X9Y8Z7", "X9Y8Z7" },
        /* fallbacks */
        { "Sign-in code is: HJK9L0", "HJK9L0" },
        { "Code\xef\xbc\x9a" "PQ7RST", "PQ7RST" },
        { "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xef\xbc\x9a" "ZX8CV9",
          "ZX8CV9" },
        /* the first phrase with a code wins over later text */
        { "verification code is 123456; verification code is AB12CD",
          "AB12CD" },

        /* rejected */
        { "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8\xba 123456", NULL },
        { "Your one-time verification code is: 987654", NULL },
        { "AB12CD is your verification code", NULL },
        { "VACBHW\n\xe6\x82\xa8\xe7\x9a\x84\xe4\xb8\x80\xe6\xac\xa1\xe6\x80"
          "\xa7\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81\xe4\xb8\xba\xef\xbc\x9a",
          NULL },
        { "verification code is abcdef", NULL },
        { "code is: ABCDEFG", NULL },
        { "Google Cloud GEMINI", NULL },
        { "", NULL },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(code, 0, sizeof(code));

        if (t[i].code) {
            if (ngx_gp_mail_code(t[i].text, strlen(t[i].text), code) != 1) {
                fail_msg("case %zu: no code", i);
            }

            assert_string_equal(code, t[i].code);

        } else if (ngx_gp_mail_code(t[i].text, strlen(t[i].text), code)) {
            fail_msg("case %zu: took \"%s\"", i, code);
        }
    }
}


/* the same mail as text, HTML and quoted-printable raw: one code */

static void
test_code_forms(void **state)
{
    char           body[4096], *enc;
    size_t         i, n;
    const char    *reason;
    ngx_gp_mail_t  m;

    static const char  *forms[] = {
        "{\"id\":1,\"text\":\"Your one-time verification code is:\\n\\n"
        "TJE5R8\\n\"}",
        "{\"id\":1,\"html\":\"<table><tr><td>Your one-time verification "
        "code is:</td></tr><tr><td><span>TJE5R8</span></td></tr></table>\"}",
        "{\"id\":1,\"content\":\"<p>Your one-time verification code is: "
        "<strong>TJE5R8</strong></p>\"}",
        "{\"id\":1,\"raw\":\"Content-Type: text/html\\r\\n"
        "Content-Transfer-Encoding: quoted-printable\\r\\n\\r\\n"
        "<p style=3D\\\"x\\\">Your one-time verification code is:=\\r\\n"
        " <b>TJE5R8</b></p>\"}",
        "{\"id\":1,\"raw\":\"Content-Type: text/html\\r\\n"
        "Content-Transfer-Encoding: quoted-printable\\r\\n\\r\\n"
        "<p>=E6=82=A8=E7=9A=84=E4=B8=80=E6=AC=A1=E6=80=A7=E9=AA=8C=E8=AF=81"
        "=E7=A0=81=E4=B8=BA=EF=BC=9A</p><h2>TJE5R8</h2>\"}",
    };

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(ngx_gp_mail_detail_parse(forms[i], strlen(forms[i]),
                                                  &m, &reason), 0);
        assert_non_null(m.text);
        assert_int_equal(ngx_gp_mail_code(m.text, strlen(m.text), body), 1);
        assert_string_equal(body, "TJE5R8");
        ngx_gp_mail_free(&m);
    }

    /* a whole raw source as the worker answers it, JSON-escaped */
    enc = NULL;
    n = strlen(raw_zh_qp);
    {
        ngx_gp_buf_t  b;

        memset(&b, 0, sizeof(b));
        ngx_gp_buf_lit(&b, "{\"results\":[{\"id\":42,\"raw\":");
        ngx_gp_buf_str(&b, raw_zh_qp, n);
        ngx_gp_buf_lit(&b, "}]}");
        enc = ngx_gp_buf_finish(&b, &n);
    }

    {
        ngx_gp_mail_list_t  l;

        assert_int_equal(ngx_gp_mail_list_parse(enc, n, &l, &reason), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(ngx_gp_mail_code(l.mails[0].text,
                                          strlen(l.mails[0].text), body), 1);
        assert_string_equal(body, "RP9J4H");
        ngx_gp_mail_list_free(&l);
    }

    free(enc);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_mailbox),
        cmocka_unit_test(test_list_shapes),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_raw_text),
        cmocka_unit_test(test_code),
        cmocka_unit_test(test_code_forms),
    };

    UNIT_RUN("mail", tests);
}
