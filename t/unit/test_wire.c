
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the Gemini Enterprise wire format.
 */


#include "unit.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_gemini_pool_wire.h"


#define SPEC_XSRF  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

/* spec §4 test vector */
#define SPEC_JWT                                                              \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InRlc3Qta2lkLTEifQ"          \
    ".eyJpc3MiOiJodHRwczovL2J1c2luZXNzLmdlbWluaS5nb29nbGUiLCJhdWQiOiJo"       \
    "dHRwczovL2Jpei1kaXNjb3ZlcnllbmdpbmUuZ29vZ2xlYXBpcy5jb20iLCJzdWIiOi"      \
    "Jjc2VzaWR4LzEyMzQ1Njc4OTAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAw"      \
    "MDMwMCwibmJmIjoxNzAwMDAwMDAwfQ"                                          \
    ".vBt_ZuC-tSgymqQkd1jVayk36xWiy29Sa-frY3FUg18"

/* key fb ff fe 00..1c, kid "k2", csesidx 42, now 1 (Python reference) */
#define K2_URL  "-__-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw"
#define K2_STD  "+//+AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw="
#define K2_PAYLOAD                                                            \
    ".eyJpc3MiOiJodHRwczovL2J1c2luZXNzLmdlbWluaS5nb29nbGUiLCJhdWQiOiJo"       \
    "dHRwczovL2Jpei1kaXNjb3ZlcnllbmdpbmUuZ29vZ2xlYXBpcy5jb20iLCJzdWIiOi"      \
    "Jjc2VzaWR4LzQyIiwiaWF0IjoxLCJleHAiOjMwMSwibmJmIjoxfQ"
#define K2_JWT                                                                \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsyIn0" K2_PAYLOAD          \
    ".9abPGhnLYeEInZXcgkplKLB4drjjn0QLc4753U42AFI"
/* the same with kid "k\u00e9\"y": Python escapes to ASCII */
#define K3_JWT                                                                \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtcdTAwZTlcInkifQ"          \
    K2_PAYLOAD ".14X0ItQRmVulVOmzqlwodj5veqk-28ISzzygcTbfUAk"

#define TEAM1  "3aa9ac4c-580d-489d-8ec0-6c686834b118"
#define TEAM2  "93ad9478-4b81-4b9b-8a52-b563f96c1904"
#define SESS1                                                                 \
    "collections/default_collection/engines/agentspace-engine/sessions/"      \
    "6249979066121302517"
#define SESS2                                                                 \
    "collections/default_collection/engines/agentspace-engine/sessions/"      \
    "2087608058291172412"

#define TOOLS_DEFAULT                                                         \
    "\"toolsSpec\":{\"webGroundingSpec\":{},\"toolRegistry\":"                \
    "\"default_tool_registry\",\"imageGenerationSpec\":{},"                   \
    "\"videoGenerationSpec\":{}}"


/* getoxsrf and the JWT */

static void
test_xsrf_parse(void **state)
{
    int          rc;
    char        *kid, *token;
    const char  *err, *body;

    body = ")]}'\n{\"xsrfToken\":\"" SPEC_XSRF "\",\"keyId\":\"test-kid-1\","
           "\"other\":1}";

    err = NULL;
    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);

    assert_int_equal(rc, 0);
    assert_string_equal(kid, "test-kid-1");
    assert_string_equal(token, SPEC_XSRF);
    free(kid);
    free(token);

    /* no prefix, blanks around */

    body = "  {\"keyId\":\"k\",\"xsrfToken\":\"QUJD\"}\n";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(kid, "k");
    assert_string_equal(token, "QUJD");
    free(kid);
    free(token);

    /* the expired-cookie answer */

    body = ")]}'\n{\"message\":\"Session has expired.\","
           "\"status\":\"EXPIRED_SIGN_IN\"}";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_REFUSED);
    assert_null(kid);
    assert_null(token);
    assert_string_equal(err, "getoxsrf answer has no keyId");

    body = "{\"keyId\":\"k\",\"xsrfToken\":\"\"}";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_REFUSED);
    assert_null(kid);
    assert_string_equal(err, "getoxsrf answer has no xsrfToken");

    body = ")]}'\n<html>";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_GARBAGE);
    assert_string_equal(err, "getoxsrf answer is not a JSON object");

    body = "[\"keyId\"]";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_GARBAGE);
    assert_null(kid);
    assert_null(token);

    /* the mock's "malformed": an answer cut short is no refusal */
    body = ")]}'\n{\"xsrfToken\": \"AAAA\", \"keyId\": ";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_GARBAGE);
    assert_null(kid);
    assert_null(token);

    /* an intercepting proxy's page */
    body = "<!DOCTYPE html><html><body>Access denied</body></html>";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_GARBAGE);

    /* a well-formed answer that lacks keyId refuses the cookies */
    body = ")]}'\n{\"xsrfToken\":\"QUJD\"}";

    rc = ngx_gp_xsrf_parse(body, strlen(body), &kid, &token, &err);
    assert_int_equal(rc, NGX_GP_XSRF_REFUSED);
    assert_null(kid);
    assert_null(token);
}


static void
test_jwt_spec_vector(void **state)
{
    char  *jwt;

    jwt = ngx_gp_jwt_build("test-kid-1", SPEC_XSRF, "1234567890",
                           (time_t) 1700000000);

    assert_non_null(jwt);
    assert_string_equal(jwt, SPEC_JWT);

    free(jwt);

    /* the same key bytes in padded standard base64 */

    jwt = ngx_gp_jwt_build("test-kid-1", SPEC_XSRF "=", "1234567890",
                           (time_t) 1700000000);
    assert_string_equal(jwt, SPEC_JWT);
    free(jwt);
}


static void
test_jwt_parts(void **state)
{
    char           *jwt, *dot1, *dot2;
    size_t          n;
    unsigned int    mac_len;
    unsigned char  *h, *p, *sig, *key, mac[EVP_MAX_MD_SIZE];

    jwt = ngx_gp_jwt_build("test-kid-1", SPEC_XSRF, "1234567890",
                           (time_t) 1700000000);
    assert_non_null(jwt);

    dot1 = strchr(jwt, '.');
    assert_non_null(dot1);
    dot2 = strchr(dot1 + 1, '.');
    assert_non_null(dot2);
    assert_null(strchr(dot2 + 1, '.'));
    assert_null(strchr(jwt, '='));

    h = ngx_gp_base64_decode_any(jwt, (size_t) (dot1 - jwt), &n);
    assert_non_null(h);
    assert_string_equal((char *) h,
                        "{\"alg\":\"HS256\",\"typ\":\"JWT\","
                        "\"kid\":\"test-kid-1\"}");

    p = ngx_gp_base64_decode_any(dot1 + 1, (size_t) (dot2 - dot1 - 1), &n);
    assert_non_null(p);
    assert_string_equal((char *) p,
                        "{\"iss\":\"https://business.gemini.google\","
                        "\"aud\":\"https://biz-discoveryengine.googleapis"
                        ".com\",\"sub\":\"csesidx/1234567890\","
                        "\"iat\":1700000000,\"exp\":1700000300,"
                        "\"nbf\":1700000000}");

    /* the signature, checked independently */

    key = ngx_gp_base64_decode_any(SPEC_XSRF, strlen(SPEC_XSRF), &n);
    assert_int_equal(n, 32);

    assert_non_null(HMAC(EVP_sha256(), key, (int) n, (unsigned char *) jwt,
                         (size_t) (dot2 - jwt), mac, &mac_len));

    sig = ngx_gp_base64_decode_any(dot2 + 1, strlen(dot2 + 1), &n);
    assert_int_equal(n, 32);
    assert_int_equal(mac_len, 32);
    assert_memory_equal(sig, mac, 32);

    free(h);
    free(p);
    free(key);
    free(sig);
    free(jwt);
}


static void
test_jwt_alphabets(void **state)
{
    char  *jwt;

    jwt = ngx_gp_jwt_build("k2", K2_URL, "42", (time_t) 1);
    assert_string_equal(jwt, K2_JWT);
    free(jwt);

    jwt = ngx_gp_jwt_build("k2", K2_STD, "42", (time_t) 1);
    assert_string_equal(jwt, K2_JWT);
    free(jwt);

    jwt = ngx_gp_jwt_build("k2", K2_URL "=", "42", (time_t) 1);
    assert_string_equal(jwt, K2_JWT);
    free(jwt);

    /* a non-ASCII kid is escaped like Python's json.dumps() */

    jwt = ngx_gp_jwt_build("k\xc3\xa9\"y", K2_STD, "42", (time_t) 1);
    assert_string_equal(jwt, K3_JWT);
    free(jwt);

    /* controls, a surrogate pair, '/', '\\', a quote in sub, now < 0 */

    jwt = ngx_gp_jwt_build("a\x01\xf0\x9f\x9a\x80/\\", K2_STD, "4\"2",
                           (time_t) -5);
    assert_string_equal(jwt,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImFcdTAwMDFcdWQ4M2Rc"
        "dWRlODAvXFwifQ.eyJpc3MiOiJodHRwczovL2J1c2luZXNzLmdlbWluaS5nb29nbG"
        "UiLCJhdWQiOiJodHRwczovL2Jpei1kaXNjb3ZlcnllbmdpbmUuZ29vZ2xlYXBpcy5j"
        "b20iLCJzdWIiOiJjc2VzaWR4LzRcIjIiLCJpYXQiOi01LCJleHAiOjI5NSwibmJm"
        "IjotNX0.RIWS9yJijG5Q2ms2339bLzzV_zNkj1ofTBfkUU913U8");
    free(jwt);
}


static void
test_jwt_bad_input(void **state)
{
    assert_null(ngx_gp_jwt_build("k", "not base64!", "1", 1));
    assert_null(ngx_gp_jwt_build("k", "", "1", 1));
    assert_null(ngx_gp_jwt_build("k", "A", "1", 1));
    assert_null(ngx_gp_jwt_build(NULL, SPEC_XSRF, "1", 1));
    assert_null(ngx_gp_jwt_build("k", NULL, "1", 1));
    assert_null(ngx_gp_jwt_build("k", SPEC_XSRF, NULL, 1));

    /* invalid UTF-8 in the kid cannot be put into JSON */
    assert_null(ngx_gp_jwt_build("k\xff", SPEC_XSRF, "1", 1));
}


/* request bodies */

static void
test_body_create_session(void **state)
{
    char    *s;
    size_t   n;

    s = ngx_gp_body_create_session(TEAM1, "1aae1a1926ee", &n);

    assert_non_null(s);
    assert_string_equal(s,
        "{\"configId\":\"" TEAM1 "\",\"additionalParams\":{\"token\":\"-\"},"
        "\"createSessionRequest\":{\"session\":{\"name\":\"1aae1a1926ee\","
        "\"displayName\":\"1aae1a1926ee\"}}}");
    assert_int_equal(n, strlen(s));

    free(s);

    s = ngx_gp_body_create_session("t", NULL, NULL);
    assert_string_equal(s,
        "{\"configId\":\"t\",\"additionalParams\":{\"token\":\"-\"},"
        "\"createSessionRequest\":{\"session\":{\"name\":\"\","
        "\"displayName\":\"\"}}}");
    free(s);

    assert_null(ngx_gp_body_create_session(NULL, "x", NULL));
}


static void
test_body_stream_assist_reference(void **state)
{
    char             *s;
    size_t            n;
    const char       *ids[1];
    ngx_gp_assist_t   a;

    /* scenario nonstream_text of reference-requests.json */

    memset(&a, 0, sizeof(ngx_gp_assist_t));

    a.team_id = TEAM1;
    a.session = SESS1;
    a.text = "Hello reference, please echo this sentence back to me.";
    a.text_len = strlen(a.text);
    a.model_id = "gemini-2.5-flash";

    s = ngx_gp_body_stream_assist(&a, &n);

    assert_non_null(s);
    assert_string_equal(s,
        "{\"configId\":\"" TEAM1 "\",\"additionalParams\":{\"token\":\"-\"},"
        "\"streamAssistRequest\":{\"session\":\"" SESS1 "\",\"query\":"
        "{\"parts\":[{\"text\":\"Hello reference, please echo this "
        "sentence back to me.\"}]},\"filter\":\"\",\"fileIds\":[],"
        "\"answerGenerationMode\":\"NORMAL\"," TOOLS_DEFAULT ","
        "\"languageCode\":\"zh-CN\",\"userMetadata\":{\"timeZone\":"
        "\"Etc/GMT-8\"},\"assistSkippingMode\":\"REQUEST_ASSIST\","
        "\"assistGenerationConfig\":{\"modelId\":\"gemini-2.5-flash\"}}}");
    assert_int_equal(n, strlen(s));

    free(s);

    /* scenario image_input_data_url: one file id */

    ids[0] = "6452427997905692977";
    a.text = "Describe this image";
    a.text_len = strlen(a.text);
    a.file_ids = ids;
    a.nfile_ids = 1;

    s = ngx_gp_body_stream_assist(&a, NULL);

    assert_string_equal(s,
        "{\"configId\":\"" TEAM1 "\",\"additionalParams\":{\"token\":\"-\"},"
        "\"streamAssistRequest\":{\"session\":\"" SESS1 "\",\"query\":"
        "{\"parts\":[{\"text\":\"Describe this image\"}]},\"filter\":\"\","
        "\"fileIds\":[\"6452427997905692977\"],"
        "\"answerGenerationMode\":\"NORMAL\"," TOOLS_DEFAULT ","
        "\"languageCode\":\"zh-CN\",\"userMetadata\":{\"timeZone\":"
        "\"Etc/GMT-8\"},\"assistSkippingMode\":\"REQUEST_ASSIST\","
        "\"assistGenerationConfig\":{\"modelId\":\"gemini-2.5-flash\"}}}");

    free(s);

    /* scenario image_generation_nonstream: image tools, no model id */

    memset(&a, 0, sizeof(ngx_gp_assist_t));

    a.team_id = TEAM2;
    a.session = SESS2;
    a.text = "Draw a red square";
    a.text_len = strlen(a.text);
    a.tools = NGX_GP_TOOLS_IMAGE;
    a.model_id = "";

    s = ngx_gp_body_stream_assist(&a, NULL);

    assert_string_equal(s,
        "{\"configId\":\"" TEAM2 "\",\"additionalParams\":{\"token\":\"-\"},"
        "\"streamAssistRequest\":{\"session\":\"" SESS2 "\",\"query\":"
        "{\"parts\":[{\"text\":\"Draw a red square\"}]},\"filter\":\"\","
        "\"fileIds\":[],\"answerGenerationMode\":\"NORMAL\","
        "\"toolsSpec\":{\"imageGenerationSpec\":{}},"
        "\"languageCode\":\"zh-CN\",\"userMetadata\":{\"timeZone\":"
        "\"Etc/GMT-8\"},\"assistSkippingMode\":\"REQUEST_ASSIST\"}}");

    free(s);
}


static void
test_body_stream_assist_options(void **state)
{
    char             *s;
    const char       *ids[3];
    ngx_gp_assist_t   a;

    memset(&a, 0, sizeof(ngx_gp_assist_t));

    ids[0] = "1";
    ids[1] = NULL;
    ids[2] = "2";

    a.team_id = "t";
    a.session = "s";
    a.text = "say \"hi\"\n\\ \xe4\xb8\xad\xff\x01 and more";
    a.text_len = 16;
    a.file_ids = ids;
    a.nfile_ids = 3;
    a.tools = NGX_GP_TOOLS_VIDEO;
    a.language_code = "en-US";
    a.time_zone = "UTC";

    s = ngx_gp_body_stream_assist(&a, NULL);

    /* text_len is honoured; 0xff becomes U+FFFD; controls escaped */

    assert_string_equal(s,
        "{\"configId\":\"t\",\"additionalParams\":{\"token\":\"-\"},"
        "\"streamAssistRequest\":{\"session\":\"s\",\"query\":"
        "{\"parts\":[{\"text\":\"say \\\"hi\\\"\\n\\\\ \xe4\xb8\xad"
        "\xef\xbf\xbd\\u0001\"}]},\"filter\":\"\","
        "\"fileIds\":[\"1\",\"2\"],\"answerGenerationMode\":\"NORMAL\","
        "\"toolsSpec\":{\"videoGenerationSpec\":{}},"
        "\"languageCode\":\"en-US\",\"userMetadata\":{\"timeZone\":"
        "\"UTC\"},\"assistSkippingMode\":\"REQUEST_ASSIST\"}}");
    assert_true(unit_json_valid(s, strlen(s)));

    free(s);

    /* empty text */

    a.text = NULL;
    a.text_len = 0;
    a.nfile_ids = 0;
    a.file_ids = NULL;

    s = ngx_gp_body_stream_assist(&a, NULL);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"parts\":[{\"text\":\"\"}]"));
    assert_non_null(strstr(s, "\"fileIds\":[]"));
    free(s);

    /* a count without an array is no array */

    a.nfile_ids = 2;
    s = ngx_gp_body_stream_assist(&a, NULL);
    assert_non_null(strstr(s, "\"fileIds\":[]"));
    free(s);

    a.session = NULL;
    assert_null(ngx_gp_body_stream_assist(&a, NULL));
}


/*
 * The directly written body against jansson: random texts of ASCII,
 * controls, quotes, NUL, valid multi-byte sequences and bytes that are
 * never valid UTF-8 parse back to the text with U+FFFD for each invalid
 * byte.
 */

static void
test_body_stream_assist_escaping(void **state)
{
    char            *s, text[512], want[1024];
    size_t           i, k, n, tl, wl, len;
    json_t          *j, *v;
    uint64_t         rs;
    ngx_gp_assist_t  a;

    static const char  *tokens[] = {
        "a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f",
        "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe4\xb8\xad",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xff", "\xfe", "\x80"
    };

    rs = 11;

    for (i = 0; i < 3000; i++) {
        memset(&a, 0, sizeof(ngx_gp_assist_t));

        tl = 0;
        wl = 0;
        n = unit_rand_n(&rs, 60);

        for (k = 0; k < n; k++) {
            const char  *t;
            size_t       m;

            if (unit_rand_n(&rs, 20) == 0) {
                /* NUL goes through as \u0000 */
                text[tl++] = '\0';
                want[wl++] = '\0';
                continue;
            }

            t = tokens[unit_rand_n(&rs, sizeof(tokens) / sizeof(tokens[0]))];
            m = strlen(t);

            memcpy(text + tl, t, m);
            tl += m;

            if (m == 1 && (unsigned char) t[0] >= 0x80) {
                memcpy(want + wl, "\xef\xbf\xbd", 3);
                wl += 3;

            } else {
                memcpy(want + wl, t, m);
                wl += m;
            }
        }

        a.team_id = (i & 1) ? "team \"x\"" : "t";
        a.session = "collections/default_collection/engines/e/sessions/1";
        a.text = text;
        a.text_len = tl;
        a.model_id = (i & 2) ? "gemini-2.5-pro" : NULL;

        s = ngx_gp_body_stream_assist(&a, &len);
        assert_non_null(s);
        assert_int_equal(len, strlen(s));

        j = json_loadb(s, len, JSON_ALLOW_NUL, NULL);
        assert_non_null(j);

        v = json_object_get(j, "streamAssistRequest");
        v = json_object_get(v, "query");
        v = json_array_get(json_object_get(v, "parts"), 0);
        v = json_object_get(v, "text");

        assert_true(json_is_string(v));
        assert_int_equal(json_string_length(v), wl);
        assert_memory_equal(json_string_value(v), want, wl);

        assert_string_equal(json_string_value(json_object_get(j,
                                                              "configId")),
                            a.team_id);

        json_decref(j);
        free(s);
    }
}


/*
 * Text of streamed elements against jansson: strings of random runs
 * (long plain runs, escapes, \u and surrogate pairs, UTF-8, raw controls,
 * invalid bytes) at every alignment decode to what jansson reads, and
 * fail where jansson fails.
 */

static void
test_element_text_differential(void **state)
{
    int                rc;
    char               elt[2048];
    size_t             i, k, n, len, tl;
    json_t            *j, *v;
    uint64_t           rs;
    const char        *err;
    ngx_gp_element_t   e;

    static const char  *tokens[] = {
        "a", "Hello, world. ", "0123456789abcdefghijklmnop", " ", "/",
        "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u0041", "\\u00e9",
        "\\u4e2d", "\\ud83d\\ude00", "\\u0000", "\xc3\xa9", "\xe4\xb8\xad",
        "\xf0\x9f\x98\x80", "**bold** ", "\x01", "\xff", "\\x", "\\ud800",
        "\x7f", "~"
    };

    rs = 23;

    for (i = 0; i < 20000; i++) {
        len = (size_t) sprintf(elt, "%*s{\"streamAssistResponse\":{"
                               "\"answer\":{\"replies\":[{\"groundedContent\":"
                               "{\"content\":{\"text\":\"",
                               (int) unit_rand_n(&rs, 8), "");
        n = unit_rand_n(&rs, 24);

        for (k = 0; k < n; k++) {
            const char  *t;

            /* the invalid ones (the last six) rarely */
            t = tokens[unit_rand_n(&rs, sizeof(tokens) / sizeof(tokens[0])
                                        - (unit_rand_n(&rs, 8) ? 6 : 0))];
            len += (size_t) sprintf(elt + len, "%s", t);
        }

        len += (size_t) sprintf(elt + len, "\"}}}]}}}");

        memset(&e, 0, sizeof(ngx_gp_element_t));
        rc = ngx_gp_element_decode(elt, len, &e, &err);

        j = json_loadb(elt, len, JSON_ALLOW_NUL, NULL);

        if (j == NULL) {
            assert_int_equal(rc, -1);
            ngx_gp_element_free(&e);
            continue;
        }

        assert_int_equal(rc, 0);

        v = json_array_get(json_object_get(json_object_get(
                json_object_get(j, "streamAssistResponse"), "answer"),
                "replies"), 0);
        v = json_object_get(json_object_get(json_object_get(v,
                "groundedContent"), "content"), "text");
        tl = json_string_length(v);

        if (tl == 0) {
            assert_int_equal(e.nparts, 0);

        } else {
            assert_int_equal(e.nparts, 1);
            assert_int_equal(e.parts[0].kind, NGX_GP_PART_TEXT);
            assert_int_equal(e.parts[0].len, tl);
            assert_memory_equal(e.parts[0].text, json_string_value(v), tl);
        }

        json_decref(j);
        ngx_gp_element_free(&e);
    }
}


/* the createSession answer: the one-pass reader against jansson */

static void
test_session_parse_cases(void **state)
{
    char        *s;
    size_t       i;
    json_t      *j;
    const char  *want;

    static const char  *bodies[] = {
        "{\"session\":{\"name\":\"a/b/sessions/1\",\"displayName\":\"x\"}}",
        " {\"session\" : { \"displayName\":\"x\", \"name\" : \"s\\/1\\u00e9\","
        "\"startTime\":\"2026\",\"n\":[1,{\"a\":null}],\"t\":true}} \n",
        "{\"session\":{\"name\":\"\"}}",
        "{\"session\":{\"name\":7}}",
        "{\"session\":{\"name\":null}}",
        "{\"session\":{\"name\":\"a\",\"name\":\"b\"}}",
        "{\"session\":{\"name\":\"a\"},\"session\":{\"name\":\"b\"}}",
        "{\"session\":{\"name\":\"a\\u0000b\"}}",
        "{\"session\":\"x\"}",
        "{\"other\":{\"name\":\"a\"}}",
        "{\"session\":{\"name\":\"a\"}} x",
        ")]}'{\"session\":{\"name\":\"a\"}}",
        "{\"session\":{\"name\":\"a\",\"n\":1.5e3}}",
        "{\"session\":{\"name\":\"a\xff\"}}",
        "[1]",
        ""
    };

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        s = ngx_gp_session_parse(bodies[i], strlen(bodies[i]));

        /* what the jansson-only code gave */
        j = json_loadb(bodies[i], strlen(bodies[i]),
                       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        want = json_string_value(json_object_get(json_object_get(j,
                                                 "session"), "name"));
        if (want && want[0] == '\0') {
            want = NULL;
        }

        if (want == NULL) {
            assert_null(s);

        } else {
            assert_non_null(s);
            assert_string_equal(s, want);
        }

        free(s);
        json_decref(j);
    }
}


static void
test_body_add_context_file(void **state)
{
    char            *s;
    size_t           n, i, m;
    json_t          *j;
    uint64_t         rs;
    const char      *b64;
    unsigned char    data[1000], *back;

    s = ngx_gp_body_add_context_file("t", SESS1, "inline_1.png", "image/png",
                                     (const unsigned char *) "hello", 5, &n);

    assert_string_equal(s,
        "{\"configId\":\"t\",\"additionalParams\":{\"token\":\"-\"},"
        "\"addContextFileRequest\":{\"name\":\"" SESS1 "\","
        "\"fileName\":\"inline_1.png\",\"mimeType\":\"image/png\","
        "\"fileContents\":\"aGVsbG8=\"}}");
    assert_int_equal(n, strlen(s));

    free(s);

    /* binary data survives: standard base64 with padding */

    rs = 7;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char) unit_rand(&rs);
    }

    s = ngx_gp_body_add_context_file("t", "s", "f.bin", "image/png", data,
                                     sizeof(data) - 1, &n);
    assert_non_null(s);

    j = json_loadb(s, n, 0, NULL);
    assert_non_null(j);

    b64 = json_string_value(json_object_get(json_object_get(j,
                                    "addContextFileRequest"),
                                    "fileContents"));
    assert_non_null(b64);
    assert_int_equal(strlen(b64), (sizeof(data) - 1 + 2) / 3 * 4);
    assert_null(strpbrk(b64, "-_"));

    back = ngx_gp_base64_decode_any(b64, strlen(b64), &m);
    assert_int_equal(m, sizeof(data) - 1);
    assert_memory_equal(back, data, m);

    free(back);
    json_decref(j);
    free(s);

    s = ngx_gp_body_add_context_file("t", "s", "empty.png", "image/png",
                                     NULL, 0, NULL);
    assert_non_null(strstr(s, "\"fileContents\":\"\""));
    free(s);

    assert_null(ngx_gp_body_add_context_file("t", "s", NULL, "image/png",
                                             data, 1, NULL));
}


static void
test_body_list_files(void **state)
{
    char    *s;
    size_t   n;

    s = ngx_gp_body_list_files(TEAM2, SESS2, &n);

    assert_string_equal(s,
        "{\"configId\":\"" TEAM2 "\",\"additionalParams\":{\"token\":\"-\"},"
        "\"listSessionFileMetadataRequest\":{\"name\":\"" SESS2 "\","
        "\"filter\":\"file_origin_type = AI_GENERATED\"}}");
    assert_int_equal(n, strlen(s));

    free(s);

    assert_null(ngx_gp_body_list_files("t", NULL, NULL));
}


/* answers */

static void
test_session_and_file_id_parse(void **state)
{
    char        *s;
    const char  *b;

    b = "{\"session\":{\"name\":\"" SESS1 "\",\"displayName\":\"x\"}}";
    s = ngx_gp_session_parse(b, strlen(b));
    assert_string_equal(s, SESS1);
    free(s);

    b = "{\"session\":{\"name\":\"\"}}";
    assert_null(ngx_gp_session_parse(b, strlen(b)));

    b = "{\"name\":\"x\"}";
    assert_null(ngx_gp_session_parse(b, strlen(b)));

    b = "{\"session\":";
    assert_null(ngx_gp_session_parse(b, strlen(b)));

    b = "{\"addContextFileResponse\":{\"fileId\":\"7417925426618434982\"}}";
    s = ngx_gp_file_id_parse(b, strlen(b));
    assert_string_equal(s, "7417925426618434982");
    free(s);

    b = "{\"addContextFileResponse\":{\"fileId\":12}}";
    s = ngx_gp_file_id_parse(b, strlen(b));
    assert_string_equal(s, "12");
    free(s);

    b = "{\"addContextFileResponse\":{}}";
    assert_null(ngx_gp_file_id_parse(b, strlen(b)));

    b = "{\"addContextFileResponse\":{\"fileId\":\"\"}}";
    assert_null(ngx_gp_file_id_parse(b, strlen(b)));

    b = "not json";
    assert_null(ngx_gp_file_id_parse(b, strlen(b)));
}


static void
test_gerror_google(void **state)
{
    int              rc;
    const char      *b;
    ngx_gp_gerror_t  e;

    b = "{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted "
        "(e.g. check quota).\",\"status\":\"RESOURCE_EXHAUSTED\","
        "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.Help\"},"
        "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
        "\"reason\":\"LLM_OVERLOADED\"}]}}";

    rc = ngx_gp_gerror_parse(b, strlen(b), &e);

    assert_int_equal(rc, 0);
    assert_int_equal(e.code, 429);
    assert_string_equal(e.status, "RESOURCE_EXHAUSTED");
    assert_string_equal(e.message,
                        "Resource has been exhausted (e.g. check quota).");
    assert_string_equal(e.reason, "LLM_OVERLOADED");

    ngx_gp_gerror_free(&e);
    assert_null(e.message);

    b = ")]}'\n{\"message\":\"Session has expired.\","
        "\"status\":\"EXPIRED_SIGN_IN\"}";

    rc = ngx_gp_gerror_parse(b, strlen(b), &e);

    assert_int_equal(rc, 0);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.status, "EXPIRED_SIGN_IN");
    assert_string_equal(e.message, "Session has expired.");
    assert_null(e.reason);

    ngx_gp_gerror_free(&e);

    b = "{\"error\":{\"code\":500}}";

    rc = ngx_gp_gerror_parse(b, strlen(b), &e);
    assert_int_equal(rc, 0);
    assert_int_equal(e.code, 500);
    assert_null(e.status);
    assert_string_equal(e.message, "unknown error");
    ngx_gp_gerror_free(&e);

    b = "{\"error\":{\"code\":404,\"status\":\"NOT_FOUND\"}}";

    rc = ngx_gp_gerror_parse(b, strlen(b), &e);
    assert_int_equal(rc, 0);
    assert_string_equal(e.message, "NOT_FOUND");
    ngx_gp_gerror_free(&e);

    b = "{\"error\":\"quota\"}";

    rc = ngx_gp_gerror_parse(b, strlen(b), &e);
    assert_int_equal(rc, 0);
    assert_string_equal(e.message, "quota");
    ngx_gp_gerror_free(&e);
}


static void
test_gerror_unrecognised(void **state)
{
    int              rc;
    char             body[300];
    const char      *b;
    ngx_gp_gerror_t  e;

    memset(body, 'x', sizeof(body));

    rc = ngx_gp_gerror_parse(body, sizeof(body), &e);

    assert_int_equal(rc, -1);
    assert_int_equal(strlen(e.message), 200);
    assert_memory_equal(e.message, body, 200);
    assert_null(e.status);
    ngx_gp_gerror_free(&e);

    /* a two-byte character across the 200-byte cut is left out */

    memset(body, 'a', 199);
    memcpy(body + 199, "\xc3\xa9zzz", 5);

    rc = ngx_gp_gerror_parse(body, 204, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(strlen(e.message), 199);
    ngx_gp_gerror_free(&e);

    /* and kept when it fits */

    memset(body, 'a', 198);
    memcpy(body + 198, "\xc3\xa9zzz", 5);

    rc = ngx_gp_gerror_parse(body, 203, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(strlen(e.message), 200);
    assert_memory_equal(e.message + 198, "\xc3\xa9", 2);
    ngx_gp_gerror_free(&e);

    /* bad bytes are replaced */

    rc = ngx_gp_gerror_parse("\xff\xfe<p>\x00!", 7, &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.message,
                        "\xef\xbf\xbd\xef\xbf\xbd<p>\xef\xbf\xbd!");
    assert_true(unit_utf8_valid(e.message, strlen(e.message)));
    ngx_gp_gerror_free(&e);

    rc = ngx_gp_gerror_parse("", 0, &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.message, "");
    ngx_gp_gerror_free(&e);

    rc = ngx_gp_gerror_parse(NULL, 0, &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.message, "");
    ngx_gp_gerror_free(&e);

    b = "{\"ok\":true}";
    rc = ngx_gp_gerror_parse(b, strlen(b), &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.message, b);
    ngx_gp_gerror_free(&e);
}


/* streamed elements */

static const char  media_element[] =
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\","
    "\"replies\":["
    "{\"groundedContent\":{\"content\":{\"role\":\"model\","
    "\"text\":\"think\",\"thought\":true}}},"
    "{\"thought\":true,\"groundedContent\":{\"content\":"
    "{\"text\":\"also think\"}}},"
    "{\"groundedContent\":{\"content\":{\"text\":\"Hello \\\"x\\\"\"}}},"
    "{\"groundedContent\":{\"content\":{\"text\":\"\"}}},"
    "{\"groundedContent\":{\"content\":{\"file\":{\"fileId\":\"123\","
    "\"mimeType\":\"video/mp4\",\"name\":\"v.mp4\"}}}},"
    "{\"groundedContent\":{\"content\":{\"file\":{\"fileId\":\"456\"}}}},"
    "{\"groundedContent\":{\"content\":{\"inlineData\":{\"data\":\"QUJD\","
    "\"mimeType\":\"image/jpeg\"}},\"inlineData\":{\"data\":\"REVG\"}}},"
    "{\"groundedContent\":{\"content\":{\"imageBytes\":\"SUpL\","
    "\"mimeType\":\"image/webp\"}}},"
    "{\"attachments\":[{\"mimeType\":\"image/gif\",\"data\":\"R0lG\","
    "\"name\":\"a.gif\"},{\"mimeType\":\"text/plain\",\"data\":\"eA==\"},"
    "{\"mimeType\":\"video/webm\",\"bytesBase64Encoded\":\"V0VC\"},"
    "{\"mimeType\":\"image/png\"}],"
    "\"groundedContent\":{\"attachments\":[{\"mimeType\":\"image/png\","
    "\"data\":\"Z2M=\"}],\"content\":{\"attachments\":[{\"mimeType\":"
    "\"image/png\",\"data\":\"Y29u\"}]}},"
    "\"generatedImages\":[{\"image\":{\"bytesBase64Encoded\":\"cmVw\","
    "\"mimeType\":\"image/png\"}}]}"
    "],"
    "\"generatedImages\":[{\"bytesBase64Encoded\":\"YW5z\","
    "\"mimeType\":\"image/jpeg\"}]},"
    "\"generatedImages\":[{\"image\":{\"bytesBase64Encoded\":\"c2Fy\"}}],"
    "\"sessionInfo\":{\"session\":\"" SESS1 "\"}},"
    "\"uToken\":\"u\"}";


static void
test_element_media(void **state)
{
    int                rc;
    size_t             i;
    const char        *err;
    ngx_gp_part_t     *p;
    ngx_gp_element_t   e;

    static const struct {
        int          kind;
        const char  *text;
        const char  *mime;
        const char  *file_id;
        const char  *name;
    } exp[] = {
        { NGX_GP_PART_THOUGHT, "think", NULL, NULL, NULL },
        { NGX_GP_PART_THOUGHT, "also think", NULL, NULL, NULL },
        { NGX_GP_PART_TEXT, "Hello \"x\"", NULL, NULL, NULL },
        { NGX_GP_PART_FILE, NULL, "video/mp4", "123", "v.mp4" },
        { NGX_GP_PART_FILE, NULL, "image/png", "456", NULL },
        { NGX_GP_PART_INLINE, "QUJD", "image/jpeg", NULL, NULL },
        { NGX_GP_PART_INLINE, "REVG", "image/png", NULL, NULL },
        { NGX_GP_PART_INLINE, "SUpL", "image/webp", NULL, NULL },
        { NGX_GP_PART_INLINE, "Y29u", "image/png", NULL, NULL },
        { NGX_GP_PART_INLINE, "Z2M=", "image/png", NULL, NULL },
        { NGX_GP_PART_INLINE, "R0lG", "image/gif", NULL, "a.gif" },
        { NGX_GP_PART_INLINE, "V0VC", "video/webm", NULL, NULL },
        { NGX_GP_PART_INLINE, "cmVw", "image/png", NULL, NULL },
        { NGX_GP_PART_INLINE, "YW5z", "image/jpeg", NULL, NULL },
        { NGX_GP_PART_INLINE, "c2Fy", "image/png", NULL, NULL },
    };

    err = NULL;
    rc = ngx_gp_element_decode(media_element, strlen(media_element), &e,
                               &err);

    assert_int_equal(rc, 0);
    assert_int_equal(e.is_error, 0);
    assert_int_equal(e.state, NGX_GP_STATE_IN_PROGRESS);
    assert_string_equal(e.session, SESS1);
    assert_null(e.skipped);
    assert_null(e.policy);
    assert_int_equal(e.nparts, sizeof(exp) / sizeof(exp[0]));

    for (i = 0; i < e.nparts; i++) {
        p = &e.parts[i];

        if (p->kind != exp[i].kind) {
            fail_msg("part %zu: kind %d, expected %d", i, p->kind,
                     exp[i].kind);
        }

        if (exp[i].text) {
            assert_non_null(p->text);
            assert_int_equal(p->len, strlen(exp[i].text));
            assert_string_equal(p->text, exp[i].text);

        } else {
            assert_null(p->text);
        }

        if (exp[i].mime) {
            assert_string_equal(p->mime, exp[i].mime);

        } else {
            assert_null(p->mime);
        }

        if (exp[i].file_id) {
            assert_string_equal(p->file_id, exp[i].file_id);

        } else {
            assert_null(p->file_id);
        }

        if (exp[i].name) {
            assert_string_equal(p->name, exp[i].name);

        } else {
            assert_null(p->name);
        }
    }

    ngx_gp_element_free(&e);
    assert_null(e.parts);
    assert_int_equal(e.nparts, 0);
}


static void
test_element_states(void **state)
{
    size_t             i;
    char               buf[256];
    const char        *err;
    ngx_gp_element_t   e;

    static const struct {
        const char  *state;
        int          value;
    } st[] = {
        { "\"IN_PROGRESS\"", NGX_GP_STATE_IN_PROGRESS },
        { "\"SUCCEEDED\"", NGX_GP_STATE_SUCCEEDED },
        { "\"SKIPPED\"", NGX_GP_STATE_SKIPPED },
        { "\"FAILED\"", NGX_GP_STATE_FAILED },
        { "\"STATE_UNSPECIFIED\"", NGX_GP_STATE_OTHER },
        { "7", NGX_GP_STATE_NONE },
    };

    for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        snprintf(buf, sizeof(buf),
                 "{\"streamAssistResponse\":{\"answer\":{\"state\":%s},"
                 "\"sessionInfo\":{\"session\":\"\"}}}", st[i].state);

        assert_int_equal(ngx_gp_element_decode(buf, strlen(buf), &e, &err),
                         0);
        assert_int_equal(e.state, st[i].value);
        assert_null(e.session);
        assert_int_equal(e.nparts, 0);

        ngx_gp_element_free(&e);
    }

    /* no answer at all: the first element of a stream */

    snprintf(buf, sizeof(buf),
             "{\"streamAssistResponse\":{\"sessionInfo\":{}}}");
    assert_int_equal(ngx_gp_element_decode(buf, strlen(buf), &e, &err), 0);
    assert_int_equal(e.state, NGX_GP_STATE_NONE);
    assert_null(e.session);
    ngx_gp_element_free(&e);
}


static void
test_element_skipped_policy(void **state)
{
    const char        *b, *err;
    ngx_gp_element_t   e;

    b = "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SKIPPED\","
        "\"assistSkippedReasons\":[\"CUSTOMER_POLICY_VIOLATION\",3,"
        "\"OTHER\"],\"customerPolicyEnforcementResult\":{\"policyResults\":"
        "[{\"modelArmorEnforcementResult\":{\"modelArmorViolation\":"
        "{\"a\": 1, \"b\": [\"x\"]}}},{\"other\":{}},"
        "{\"modelArmorEnforcementResult\":{\"modelArmorViolation\":"
        "\"plain\"}}]}}}}";

    assert_int_equal(ngx_gp_element_decode(b, strlen(b), &e, &err), 0);

    assert_int_equal(e.state, NGX_GP_STATE_SKIPPED);
    assert_string_equal(e.skipped, "CUSTOMER_POLICY_VIOLATION,OTHER");
    assert_string_equal(e.policy, "{\"a\":1,\"b\":[\"x\"]},plain");

    ngx_gp_element_free(&e);
}


static void
test_element_error(void **state)
{
    const char        *b, *err;
    ngx_gp_element_t   e;

    b = "{\"error\":{\"code\":429,\"message\":\"Resource has been "
        "exhausted (e.g. check quota).\",\"status\":\"RESOURCE_EXHAUSTED\","
        "\"details\":[{\"reason\":\"LLM_OVERLOADED\"}]}}";

    assert_int_equal(ngx_gp_element_decode(b, strlen(b), &e, &err), 0);

    assert_int_equal(e.is_error, 1);
    assert_int_equal(e.error.code, 429);
    assert_string_equal(e.error.status, "RESOURCE_EXHAUSTED");
    assert_string_equal(e.error.message,
                        "Resource has been exhausted (e.g. check quota).");
    assert_string_equal(e.error.reason, "LLM_OVERLOADED");
    assert_int_equal(e.nparts, 0);

    ngx_gp_element_free(&e);
    assert_null(e.error.message);
}


static void
test_element_not_object(void **state)
{
    size_t             i;
    const char        *err, *b;
    ngx_gp_element_t   e;

    static const char  *bad[] = { "[1]", "{\"a\":", "", "\"s\"", "1" };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;

        assert_int_equal(ngx_gp_element_decode(bad[i], strlen(bad[i]), &e,
                                               &err),
                         -1);
        assert_non_null(err);
        assert_int_equal(e.nparts, 0);

        ngx_gp_element_free(&e);
    }

    /* a NUL inside a text is kept, with the length */

    b = "{\"streamAssistResponse\":{\"answer\":{\"replies\":["
        "{\"groundedContent\":{\"content\":{\"text\":\"a\\u0000b\"}}}"
        "]}}}";

    assert_int_equal(ngx_gp_element_decode(b, strlen(b), &e, &err), 0);
    assert_int_equal(e.nparts, 1);
    assert_int_equal(e.parts[0].len, 3);
    assert_memory_equal(e.parts[0].text, "a\0b", 4);
    ngx_gp_element_free(&e);

    /* an object without anything known is fine and empty */

    assert_int_equal(ngx_gp_element_decode("{\"uToken\":\"x\"}", 14, &e,
                                           &err),
                     0);
    assert_int_equal(e.nparts, 0);
    assert_int_equal(e.is_error, 0);
    ngx_gp_element_free(&e);
}


/*
 * "\u0000" in a key: jansson refuses the element wherever the key is
 * (a skipped member too), and so does the decoder; in a value it is text.
 */

static void
test_element_nul(void **state)
{
    size_t             i;
    const char        *err, *body;
    ngx_gp_element_t   e;

    static const char  *refused[] = {
        "{\"a\\u0000\":1}",
        "{\"streamAssistResponse\":{\"meta\":{\"\\u0000\":1}}}",
        "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{"
            "\"groundedContent\":{\"content\":{\"text\":\"hi\","
            "\"x\":[{\"a\\u0000b\":null}]}}}]}}}",
        "{\"x\":{\"streamAssistResponse\":{\"answer\\u0000\":{}}}}"
    };

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        memset(&e, 0, sizeof(ngx_gp_element_t));
        err = NULL;
        assert_int_equal(ngx_gp_element_decode(refused[i], strlen(refused[i]),
                                               &e, &err), -1);
        assert_non_null(err);
        ngx_gp_element_free(&e);

        assert_null(ngx_gp_session_parse(refused[i], strlen(refused[i])));
    }

    body = "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{"
           "\"groundedContent\":{\"content\":{\"text\":\"a\\u0000b\"}}}]}}}";

    assert_int_equal(ngx_gp_element_decode(body, strlen(body), &e, &err), 0);
    assert_int_equal(e.nparts, 1);
    assert_int_equal(e.parts[0].len, 3);
    assert_memory_equal(e.parts[0].text, "a\0b", 3);
    ngx_gp_element_free(&e);
}


static void
element_equal(const ngx_gp_element_t *a, const ngx_gp_element_t *b)
{
    size_t  i;

    assert_int_equal(a->is_error, b->is_error);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->session == NULL, b->session == NULL);

    if (a->session) {
        assert_string_equal(a->session, b->session);
    }

    assert_int_equal(a->nparts, b->nparts);

    for (i = 0; i < a->nparts; i++) {
        assert_int_equal(a->parts[i].kind, b->parts[i].kind);
        assert_int_equal(a->parts[i].len, b->parts[i].len);

        if (a->parts[i].len) {
            assert_memory_equal(a->parts[i].text, b->parts[i].text,
                                a->parts[i].len);
        }
    }
}


/*
 * Mutated elements and createSession answers: the decoder fails exactly
 * where jansson fails, and reads what the jansson path reads (the copy
 * with an escaped key first always goes through jansson).
 */

static void
test_element_mutated(void **state)
{
    int                rc, rc2;
    char               elt[1024], alt[1100], *s1, *s2;
    size_t             i, n;
    json_t            *j;
    uint64_t           rs;
    const char        *err;
    ngx_gp_element_t   e, e2;

    static const char  *seeds[] = {
        "{\"streamAssistResponse\":{\"sessionInfo\":{\"session\":\"s/1\"},"
        "\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{"
        "\"groundedContent\":{\"content\":{\"text\":\"hello\","
        "\"thought\":false},\"x\":{\"k\":[1,{\"a\":null}]}}}]}}}",
        "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SUCCEEDED\","
        "\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"hm\","
        "\"thought\":true}}}]},\"assistToken\":\"t\",\"meta\":{\"a\":"
        "{\"b\":\"c\"}}}}",
        "{\"session\":{\"name\":\"collections/c/engines/e/sessions/1\","
        "\"x\":{\"y\":[true,false]}}}"
    };

    rs = 20261206;

    for (i = 0; i < 6000; i++) {
        n = unit_mutate(&rs, seeds[i % 3], elt);

        memset(&e, 0, sizeof(ngx_gp_element_t));
        rc = ngx_gp_element_decode(elt, n, &e, &err);

        j = json_loadb(elt, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

        if ((rc == 0) != (j != NULL && json_is_object(j))) {
            print_error("element %s: %d\n", elt, rc);
        }

        assert_int_equal(rc == 0, j != NULL && json_is_object(j));
        json_decref(j);

        if (rc == 0) {
            strcpy(alt, "{\"\\u0078\":0,");
            strcat(alt, strchr(elt, '{') + 1);

            memset(&e2, 0, sizeof(ngx_gp_element_t));
            rc2 = ngx_gp_element_decode(alt, strlen(alt), &e2, &err);

            if (rc2 == 0) {
                element_equal(&e, &e2);
            }

            ngx_gp_element_free(&e2);

            s1 = ngx_gp_session_parse(elt, n);
            s2 = ngx_gp_session_parse(alt, strlen(alt));

            if (rc2 == 0) {
                assert_int_equal(s1 == NULL, s2 == NULL);

                if (s1) {
                    assert_string_equal(s1, s2);
                }
            }

            free(s1);
            free(s2);
        }

        ngx_gp_element_free(&e);
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xsrf_parse),
        cmocka_unit_test(test_jwt_spec_vector),
        cmocka_unit_test(test_jwt_parts),
        cmocka_unit_test(test_jwt_alphabets),
        cmocka_unit_test(test_jwt_bad_input),
        cmocka_unit_test(test_body_create_session),
        cmocka_unit_test(test_body_stream_assist_reference),
        cmocka_unit_test(test_body_stream_assist_options),
        cmocka_unit_test(test_body_stream_assist_escaping),
        cmocka_unit_test(test_element_text_differential),
        cmocka_unit_test(test_session_parse_cases),
        cmocka_unit_test(test_body_add_context_file),
        cmocka_unit_test(test_body_list_files),
        cmocka_unit_test(test_session_and_file_id_parse),
        cmocka_unit_test(test_gerror_google),
        cmocka_unit_test(test_gerror_unrecognised),
        cmocka_unit_test(test_element_media),
        cmocka_unit_test(test_element_states),
        cmocka_unit_test(test_element_skipped_policy),
        cmocka_unit_test(test_element_error),
        cmocka_unit_test(test_element_not_object),
        cmocka_unit_test(test_element_nul),
        cmocka_unit_test(test_element_mutated),
    };

    UNIT_RUN("wire", tests);
}
