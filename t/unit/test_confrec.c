
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of a shared configuration record (docs/cluster.md): its
 * JSON written and read back, secrets sealed, every malformed record
 * refused with a reason.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_confrec.h"
#include "ngx_http_gemini_pool_crypto.h"


#define UID    "0123456789abcdef0123456789abcdef"
#define HASH   UID UID
#define FP     "00112233aabbccdd"


static json_t *
account(const char *ses)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s}",
                     "name", "a1", "team_id", "t", "csesidx", "1",
                     "secure_c_ses", ses, "host_c_oses", "",
                     "user_agent", "UA", "proxy", "", "enabled", 1,
                     "tempmail_url", "", "tempmail_name", "");
}


static void
test_roundtrip(void **state)
{
    char              *p, *sealed, err[128], buf[70000];
    json_t            *data;
    unsigned char      key[32];
    ngx_gp_confrec_t   r;

    memset(key, 7, sizeof(key));
    sealed = ngx_gp_secret_encrypt(key, "accounts.secure_c_ses", "COOKIE",
                                   6);
    assert_non_null(sealed);

    data = account(sealed);
    p = ngx_gp_confrec_encode(NGX_GP_CONFREC_ACCOUNT, UID, "ab12", FP, 0,
                              data, err, sizeof(err));
    assert_non_null(p);

    /* as Redis keeps it: the version first */
    snprintf(buf, sizeof(buf), "42 %s", p);
    assert_int_equal(ngx_gp_confrec_parse(buf, strlen(buf), &r, err,
                                          sizeof(err)), 0);
    assert_int_equal(r.version, 42);
    assert_int_equal(r.kind, NGX_GP_CONFREC_ACCOUNT);
    assert_string_equal(r.key, UID);
    assert_string_equal(r.origin, "ab12");
    assert_string_equal(r.fp, FP);
    assert_int_equal(r.bulk, 0);
    assert_non_null(r.data);
    assert_true(json_equal(r.data, data));

    /* the secret is the sealed text; the plaintext is nowhere */
    assert_string_equal(json_string_value(json_object_get(r.data,
                                                          "secure_c_ses")),
                        sealed);
    assert_null(strstr(buf, "COOKIE"));
    ngx_gp_confrec_free(&r);

    /* without a version */
    assert_int_equal(ngx_gp_confrec_parse(p, strlen(p), &r, err,
                                          sizeof(err)), 0);
    assert_int_equal(r.version, 0);
    ngx_gp_confrec_free(&r);

    free(p);
    json_decref(data);
    free(sealed);
}


static void
test_tombstone(void **state)
{
    char              *p, err[128];
    ngx_gp_confrec_t   r;

    p = ngx_gp_confrec_encode(NGX_GP_CONFREC_KEY, HASH, "ab", FP, 1, NULL,
                              err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(ngx_gp_confrec_parse(p, strlen(p), &r, err,
                                          sizeof(err)), 0);
    assert_int_equal(r.kind, NGX_GP_CONFREC_KEY);
    assert_int_equal(r.bulk, 1);
    assert_null(r.data);
    ngx_gp_confrec_free(&r);
    free(p);

    assert_int_equal(ngx_gp_confrec_kind("model"), NGX_GP_CONFREC_MODEL);
    assert_int_equal(ngx_gp_confrec_kind("models"), -1);
    assert_string_equal(ngx_gp_confrec_kind_name(NGX_GP_CONFREC_SETTING),
                        "setting");
    assert_null(ngx_gp_confrec_kind_name(9));
}


static void
test_plaintext_refused(void **state)
{
    char      *p, err[128];
    json_t    *data;

    /* a cookie in clear is never written to Redis */
    data = account("COOKIE");
    p = ngx_gp_confrec_encode(NGX_GP_CONFREC_ACCOUNT, UID, "ab", FP, 0,
                              data, err, sizeof(err));
    assert_null(p);
    assert_string_equal(err, "\"secure_c_ses\" is not sealed");
    json_decref(data);

    /* nor a secret setting */
    data = json_pack("{s:s,s:b}", "value", "sk-123", "secret", 1);
    p = ngx_gp_confrec_encode(NGX_GP_CONFREC_SETTING, "image_host_token",
                              "ab", FP, 0, data, err, sizeof(err));
    assert_null(p);
    assert_string_equal(err, "\"value\" is not sealed");
    json_decref(data);

    /* a plain one is fine */
    data = json_pack("{s:s,s:b}", "value", "30", "secret", 0);
    p = ngx_gp_confrec_encode(NGX_GP_CONFREC_SETTING, "cooldown_text",
                              "ab", FP, 0, data, err, sizeof(err));
    assert_non_null(p);
    free(p);
    json_decref(data);
}


static void
bad(const char *text, const char *reason)
{
    char              err[128];
    ngx_gp_confrec_t  r;

    err[0] = '\0';
    assert_int_equal(ngx_gp_confrec_parse(text, strlen(text), &r, err,
                                          sizeof(err)), -1);
    assert_null(r.doc);

    if (strstr(err, reason) == NULL) {
        fail_msg("\"%s\": \"%s\", not \"%s\"", text, err, reason);
    }
}


#define REC(kind, key, data)                                                 \
    "{\"kind\":\"" kind "\",\"key\":\"" key "\",\"origin\":\"ab\","          \
    "\"fp\":\"" FP "\",\"bulk\":false,\"data\":" data "}"

#define MODEL                                                                \
    "{\"model_id\":\"m\",\"kind\":\"text\",\"account\":\"\","                \
    "\"enabled\":true,\"position\":3,\"description\":\"\","                  \
    "\"aliases\":\"gpt-*\"}"


static void
test_malformed(void **state)
{
    char              err[128];
    const char       *ok;
    ngx_gp_confrec_t  r;

    ok = "7 " REC("model", "m1", MODEL);
    assert_int_equal(ngx_gp_confrec_parse(ok, strlen(ok), &r, err,
                                          sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(r.data,
                                                        "position")), 3);
    ngx_gp_confrec_free(&r);

    bad("", "not JSON");
    bad("7", "bad version");
    bad("07 {}", "bad version");
    bad("1234567890123456789 {}", "bad version");
    bad("7 [1]", "not an object");
    bad("7 {\"kind\":\"model\"}", "are needed");
    bad("{\"kind\":\"model\",\"key\":\"m\",\"origin\":\"ab\",\"fp\":\"" FP
        "\",\"bulk\":1,\"data\":null}", "are needed");
    bad(REC("models", "m1", MODEL), "unknown kind");
    bad(REC("model", "", MODEL), "bad key");
    bad(REC("account", "xyz", "null"), "bad account key");
    bad(REC("key", UID, "null"), "bad key key");
    bad(REC("model", "m1", "[]"), "not an object");
    bad(REC("model", "m1", "{\"model_id\":\"m\"}"), "no \"kind\"");
    bad(REC("model", "m1",
            "{\"model_id\":\"m\",\"kind\":\"text\",\"account\":\"\","
            "\"enabled\":1,\"position\":3,\"description\":\"\","
            "\"aliases\":\"\"}"), "\"enabled\" is not a boolean");
    bad(REC("model", "m1",
            "{\"model_id\":\"m\",\"kind\":\"text\",\"account\":\"\","
            "\"enabled\":true,\"position\":\"3\",\"description\":\"\","
            "\"aliases\":\"\"}"), "\"position\" is not an integer");
    bad(REC("model", "m1",
            "{\"model_id\":\"m\",\"kind\":\"text\",\"account\":\"\","
            "\"enabled\":true,\"position\":3,\"description\":\"\","
            "\"aliases\":\"\",\"extra\":1}"), "unknown field \"extra\"");
    bad(REC("model", "m\\u0000x", MODEL), "not JSON");
    bad("{\"kind\":\"model\",\"key\":\"m\",\"origin\":\"AB\",\"fp\":\"" FP
        "\",\"bulk\":false,\"data\":null}", "bad origin");
    bad("{\"kind\":\"model\",\"key\":\"m\",\"origin\":\"ab\",\"fp\":\"1\","
        "\"bulk\":false,\"data\":null}", "bad origin or fingerprint");
    bad("{\"kind\":\"model\",\"kind\":\"model\"}", "not JSON");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_tombstone),
        cmocka_unit_test(test_plaintext_refused),
        cmocka_unit_test(test_malformed),
    };

    UNIT_RUN("confrec", tests);
}
