
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the admin API's JSON bodies (bodies.c): the body as an
 * object, an account's, a model's and a new key's fields, and the import
 * documents (our export, business_gemini_session.json, the reference's
 * database read as JSON).
 */


#include "unit.h"

#include "ngx_http_gemini_pool_bodies.h"


static json_t *
obj(const char *text)
{
    json_t  *j;

    j = json_loads(text, 0, NULL);
    assert_non_null(j);

    return j;
}


/* a settings table of four, as settings.c's would answer */

static int
type_of(const char *key)
{
    if (strcmp(key, "proxy") == 0 || strcmp(key, "image_base_url") == 0
        || strcmp(key, "tempmail_worker_url") == 0)
    {
        return 's';
    }

    if (strcmp(key, "proxy_enabled") == 0
        || strcmp(key, "auto_refresh_cookies") == 0)
    {
        return 'b';
    }

    if (strcmp(key, "retry_count") == 0) {
        return 'i';
    }

    return 0;
}


typedef struct {
    ngx_gp_import_t   imp;
    json_t           *doc;
    json_t           *skipped;
    char              err[NGX_GP_BODY_ERR_LEN];
} imp_t;


static void
imp_init(imp_t *t)
{
    memset(t, 0, sizeof(imp_t));
    t->skipped = json_array();
    t->imp.skipped = t->skipped;
    t->imp.type = type_of;
    t->imp.err = t->err;
    t->imp.errlen = sizeof(t->err);
}


static int
imp_parse(imp_t *t, const char *text)
{
    imp_init(t);

    return ngx_gp_import_parse(text, strlen(text), &t->imp, &t->doc);
}


static void
imp_done(imp_t *t)
{
    ngx_gp_import_free(&t->imp);
    json_decref(t->doc);
    json_decref(t->skipped);
}


/* "s" is one of the skipped notes (a prefix of it) */

static int
skipped_has(imp_t *t, const char *s)
{
    size_t   i;
    json_t  *v;

    json_array_foreach(t->skipped, i, v) {
        if (strncmp(json_string_value(v), s, strlen(s)) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
test_object(void **state)
{
    char     msg[NGX_GP_BODY_ERR_LEN];
    json_t  *j;

    (void) state;

    j = ngx_gp_body_object("{\"a\":1}", 7, msg, sizeof(msg));
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);

    assert_null(ngx_gp_body_object("[1]", 3, msg, sizeof(msg)));
    assert_string_equal(msg, "the body must be a JSON object");

    assert_null(ngx_gp_body_object("{\"a\":", 5, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "the body must be a JSON object: "));

    /* a NUL inside the text is refused by jansson, as it was */
    assert_null(ngx_gp_body_object("{\"a\":\"\0\"}", 9, msg, sizeof(msg)));
}


static void
test_urls(void **state)
{
    (void) state;

    assert_true(ngx_gp_body_proxy_valid("http://p:1"));
    assert_true(ngx_gp_body_proxy_valid("SOCKS5H://p:1"));
    assert_true(ngx_gp_body_proxy_valid("socks4a://p"));
    assert_false(ngx_gp_body_proxy_valid("http://"));
    assert_false(ngx_gp_body_proxy_valid("ftp://p"));
    assert_false(ngx_gp_body_proxy_valid(""));

    assert_true(ngx_gp_body_mailbox_url("https://m.test/?jwt=x"));
    assert_true(ngx_gp_body_mailbox_url("http://m.test/?a=1&jwt=x"));
    assert_false(ngx_gp_body_mailbox_url("https://m.test/?jwt="));
    assert_false(ngx_gp_body_mailbox_url("https://m.test/?ajwt=x"));
    assert_false(ngx_gp_body_mailbox_url("ftp://m.test/?jwt=x"));
}


static void
test_account(void **state)
{
    char                    msg[NGX_GP_BODY_ERR_LEN];
    json_t                 *j;
    ngx_gp_body_account_t   a;

    (void) state;

    j = obj("{\"name\":\"n\",\"team_id\":\"t\",\"csesidx\":\"12\","
            "\"secure_c_ses\":\"c\",\"proxy\":\"direct\",\"enabled\":false,"
            "\"user_agent\":null}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)), 0);
    assert_string_equal(a.name, "n");
    assert_string_equal(a.csesidx, "12");
    assert_string_equal(a.proxy, "direct");
    assert_null(a.user_agent);
    assert_null(a.host_c_oses);
    assert_int_equal(a.enabled, 0);
    json_decref(j);

    /* an update needs nothing */
    j = obj("{}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)), 0);
    assert_int_equal(a.enabled, -1);
    assert_null(a.team_id);

    /* an add needs team_id, csesidx and secure_c_ses: all named at once */
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_MISSING);
    assert_string_equal(msg, "\"team_id\", \"csesidx\" and "
                        "\"secure_c_ses\" are required");
    assert_string_equal(a.missing[0], "team_id");
    assert_string_equal(a.missing[1], "csesidx");
    assert_string_equal(a.missing[2], "secure_c_ses");
    assert_null(a.missing[3]);
    assert_null(a.invalid[0]);
    json_decref(j);

    j = obj("{\"csesidx\":\"5\"}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_MISSING);
    assert_string_equal(msg, "\"team_id\" and \"secure_c_ses\" are "
                        "required");
    assert_string_equal(a.missing[1], "secure_c_ses");
    assert_null(a.missing[2]);
    json_decref(j);

    j = obj("{\"team_id\":\"t\",\"csesidx\":\"\",\"secure_c_ses\":\"c\"}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_MISSING);
    assert_string_equal(msg, "\"csesidx\" is required");
    json_decref(j);

    j = obj("{\"team_id\":\"t\",\"csesidx\":\"1\",\"secure_c_ses\":null}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_MISSING);
    assert_string_equal(msg, "\"secure_c_ses\" is required");
    json_decref(j);

    /* bad values are refused before missing ones, and named with them */
    j = obj("{\"csesidx\":\"1a\"}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_string_equal(msg, "\"csesidx\" must be digits; \"team_id\" and "
                        "\"secure_c_ses\" are required");
    assert_string_equal(a.invalid[0], "csesidx");
    assert_null(a.invalid[1]);
    assert_string_equal(a.missing[0], "team_id");
    assert_null(a.csesidx);
    json_decref(j);

    j = obj("{\"csesidx\":\"1a\"}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_string_equal(msg, "\"csesidx\" must be digits");
    assert_null(a.missing[0]);
    json_decref(j);

    /* every bad value at once, in the table's order */
    j = obj("{\"team_id\":\"t\",\"csesidx\":\"x\",\"secure_c_ses\":3,"
            "\"proxy\":\"ftp://p\",\"enabled\":\"yes\"}");
    assert_int_equal(ngx_gp_body_account(j, 1, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_string_equal(a.invalid[0], "csesidx");
    assert_string_equal(a.invalid[1], "secure_c_ses");
    assert_string_equal(a.invalid[2], "proxy");
    assert_string_equal(a.invalid[3], "enabled");
    assert_null(a.invalid[4]);
    assert_null(a.missing[0]);
    assert_non_null(strstr(msg, "\"secure_c_ses\" must be a string; "));
    assert_non_null(strstr(msg, "; \"enabled\" must be true or false"));
    json_decref(j);

    j = obj("{\"name\":7}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_string_equal(msg, "\"name\" must be a string");
    json_decref(j);

    /* jansson refuses \u0000 in a body; a caller's object may have it */
    j = json_pack("{s:s%}", "name", "a\0b", (size_t) 3);
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_non_null(strstr(msg, "contains NUL"));
    json_decref(j);

    j = obj("{\"proxy\":\"socks4://p:1\"}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_non_null(strstr(msg, "\"proxy\" must be \"direct\""));
    json_decref(j);

    j = obj("{\"tempmail_url\":\"https://m.test/\"}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_non_null(strstr(msg, "\"jwt\" parameter"));
    json_decref(j);

    j = obj("{\"enabled\":1}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_string_equal(msg, "\"enabled\" must be true or false");
    json_decref(j);

    /* 65 bytes of name */
    j = obj("{\"name\":\"0123456789012345678901234567890123456789"
            "0123456789012345678901234\"}");
    assert_int_equal(ngx_gp_body_account(j, 0, &a, msg, sizeof(msg)),
                     NGX_GP_BODY_INVALID);
    assert_non_null(strstr(msg, "longer than 63 bytes"));
    json_decref(j);
}


static void
test_model(void **state)
{
    char                  msg[NGX_GP_BODY_ERR_LEN];
    json_t               *j;
    ngx_gp_body_model_t   m;

    (void) state;

    j = obj("{\"name\":\"m\",\"kind\":\"image\",\"account_id\":3,"
            "\"enabled\":true,\"position\":2}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), 0);
    assert_string_equal(m.name, "m");
    assert_string_equal(m.kind, "image");
    assert_int_equal(m.account, 3);
    assert_true(m.has_account);
    assert_int_equal(m.enabled, 1);
    assert_true(m.has_position);
    assert_int_equal(m.position, 2);
    json_decref(j);

    /* PUT: the name of the path; null unpins */
    j = obj("{\"account_id\":null}");
    assert_int_equal(ngx_gp_body_model(j, "p", &m, msg, sizeof(msg)), 0);
    assert_string_equal(m.name, "p");
    assert_int_equal(m.account, -1);
    assert_true(m.has_account);
    assert_int_equal(m.enabled, -1);
    assert_false(m.has_position);
    assert_null(m.kind);
    json_decref(j);

    j = obj("{}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "a model has \"name\""));
    json_decref(j);

    j = obj("{\"name\":\"m\",\"kind\":\"audio\"}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), -1);
    json_decref(j);

    j = obj("{\"name\":\"m\",\"account_id\":0}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), -1);
    json_decref(j);

    j = obj("{\"name\":\"m\",\"position\":\"1\"}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), -1);
    json_decref(j);

    j = obj("{\"name\":\"m\",\"enabled\":null}");
    assert_int_equal(ngx_gp_body_model(j, NULL, &m, msg, sizeof(msg)), -1);
    json_decref(j);
}


static void
test_key(void **state)
{
    char                msg[NGX_GP_BODY_ERR_LEN];
    json_t             *j;
    ngx_gp_body_key_t   k;

    (void) state;

    /* no body: a key with nothing set */
    assert_int_equal(ngx_gp_body_key(NULL, &k, msg, sizeof(msg)), 0);
    assert_null(k.name);
    assert_string_equal(k.models, "");

    j = obj("{\"name\":\"k\",\"models\":[\"a\",\"b\"],\"rpm\":5,"
            "\"image_format\":\"url\",\"expires_at\":9}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), 0);
    assert_string_equal(k.name, "k");
    assert_string_equal(k.models, "a,b");
    assert_int_equal(k.rpm, 5);
    assert_int_equal(k.rpd, 0);
    assert_int_equal(k.expires, 9);
    assert_string_equal(k.image_format, "url");
    json_decref(j);

    j = obj("{\"models\":\"x,y\"}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), 0);
    assert_string_equal(k.models, "x,y");
    json_decref(j);

    j = obj("{\"rpd\":-1}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "non-negative integers"));
    json_decref(j);

    j = obj("{\"image_format\":\"gif\"}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "markdown, url, array or b64_json"));
    json_decref(j);

    j = obj("{\"models\":[\"a\",1]}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "\"models\" must be an array of strings");
    json_decref(j);

    j = obj("{\"models\":{}}");
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), -1);
    json_decref(j);
}


static void
test_key_models_long(void **state)
{
    int                 i;
    char                msg[NGX_GP_BODY_ERR_LEN];
    json_t             *j, *list;
    ngx_gp_body_key_t   k;

    (void) state;

    /* 31 names of 7 bytes and commas fill 247 bytes; 33 do not fit */

    list = json_array();

    for (i = 0; i < 33; i++) {
        json_array_append_new(list, json_string("model-x"));
    }

    j = json_pack("{s:o}", "models", list);
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "\"models\" is too long");
    json_decref(j);

    list = json_array();

    for (i = 0; i < 31; i++) {
        json_array_append_new(list, json_string("model-x"));
    }

    j = json_pack("{s:o}", "models", list);
    assert_int_equal(ngx_gp_body_key(j, &k, msg, sizeof(msg)), 0);
    assert_int_equal(strlen(k.models), 31 * 8 - 1);
    json_decref(j);
}


static const char  reference_json[] =
    "{\"proxy\":\"\",\"proxy_enabled\":false,"
    "\"image_base_url\":\"https://img.test/\",\"log_level\":\"INFO\","
    "\"admin_secret_key\":\"s\",\"auto_refresh_cookie\":\"true\","
    "\"tempmail_worker_url\":null,\"extra\":1,"
    "\"accounts\":[{\"team_id\":\"t1\",\"secure_c_ses\":\"c1\","
    "\"csesidx\":\"11\",\"available\":true,"
    "\"tempmail_name\":\"a@m.test\","
    "\"tempmail_worker_url\":\"https://w.test\"},"
    "{\"team_id\":\"t2\",\"secure_c_ses\":\"c2\",\"csesidx\":22,"
    "\"available\":\"0\",\"cookie_expired\":1},"
    "{}],"
    "\"models\":[{\"id\":\"gemini-enterprise\",\"api_model_id\":null,"
    "\"name\":\"Gemini\",\"account_index\":-1},"
    "{\"id\":\"gemini-image\",\"account_index\":1},"
    "{\"id\":\"v\",\"name\":\"Veo Video\",\"api_model_id\":\"None\"}],"
    "\"api_keys\":[{\"key_hash\":\"ABCDEF0123456789abcdef0123456789"
    "ABCDEF0123456789abcdef0123456789\",\"is_active\":1,"
    "\"created_at\":\"2025-01-02 03:04:05.123\",\"expires_at\":\"None\","
    "\"usage_count\":4}]}";


static void
test_import_reference(void **state)
{
    imp_t                     t;
    ngx_gp_import_key_t      *k;
    ngx_gp_import_model_t    *m;
    ngx_gp_import_account_t  *a;

    (void) state;

    assert_int_equal(imp_parse(&t, reference_json), 0);
    assert_string_equal(t.imp.format, "reference-json");
    assert_true(t.imp.ref);

    assert_int_equal(t.imp.naccounts, 3);
    a = t.imp.accounts;
    assert_string_equal(a[0].name, "a@m.test");
    assert_int_equal(a[0].enabled, 1);
    assert_int_equal(a[0].expired, -1);
    assert_false(a[0].placeholder);
    assert_string_equal(a[1].csesidx, "22");
    assert_int_equal(a[1].enabled, 0);
    assert_int_equal(a[1].expired, 1);
    assert_true(a[2].placeholder);

    assert_int_equal(t.imp.nmodels, 3);
    m = t.imp.models;
    assert_string_equal(m[0].kind, "text");
    assert_null(m[0].model_id);
    assert_string_equal(m[0].description, "Gemini");
    assert_int_equal(m[0].pin, -1);
    assert_string_equal(m[1].kind, "image");
    assert_int_equal(m[1].pin, 1);
    assert_string_equal(m[1].label, "models[1]");
    assert_string_equal(m[2].kind, "video");
    assert_null(m[2].model_id);

    assert_int_equal(t.imp.nkeys, 1);
    k = t.imp.keys;
    assert_string_equal(k->hash, "abcdef0123456789abcdef0123456789"
                        "abcdef0123456789abcdef0123456789");
    assert_int_equal(k->enabled, 1);
    assert_int_equal(k->created, 1735787045);
    assert_int_equal(k->expires, 0);
    assert_int_equal(k->requests, 4);

    /* proxy, proxy_enabled, image_base_url, auto_refresh_cookie */
    assert_int_equal(t.imp.nsettings, 4);
    assert_string_equal(t.imp.settings[1].key, "proxy_enabled");
    assert_string_equal(t.imp.settings[1].text, "false");
    assert_string_equal(t.imp.settings[3].key, "auto_refresh_cookies");
    assert_string_equal(t.imp.settings[3].label, "auto_refresh_cookie");
    assert_string_equal(t.imp.settings[3].text, "true");

    assert_true(skipped_has(&t, "log_level: not imported"));
    assert_true(skipped_has(&t, "admin_secret_key: not imported"));
    assert_true(skipped_has(&t, "tempmail_worker_url: unset (null)"));
    assert_true(skipped_has(&t, "extra: unknown to this version"));
    assert_true(skipped_has(&t, "accounts[0].tempmail_worker_url: no "
                            "per-account worker URL"));

    imp_done(&t);
}


/* one document, the message it is refused with */

typedef struct {
    const char  *doc;
    const char  *err;
} refused_t;


static const refused_t  refused[] = {
    { "", "the body is not JSON" },
    { "[]", "the body must be a JSON object" },
    { "{\"x\":1}", "accounts: missing (neither" },
    { "{\"format\":\"other\"}", "format: must be \"ngx_gemini_pool\"" },
    { "{\"format\":\"ngx_gemini_pool\"}",
      "version: must be a positive integer" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":2}",
      "version: 2 is newer than this module's 1" },
    { "{\"accounts\":{}}", "accounts: must be an array" },
    { "{\"accounts\":[1]}", "accounts[0]: must be an object" },
    { "{\"accounts\":[{\"team_id\":\"t\",\"csesidx\":\"1\"}]}",
      "accounts[0].secure_c_ses: missing" },
    { "{\"accounts\":[{\"team_id\":\"t\",\"csesidx\":\"x\","
      "\"secure_c_ses\":\"c\"}]}", "accounts[0].csesidx: must be digits" },
    { "{\"accounts\":[{\"team_id\":\"t\",\"csesidx\":\"1\","
      "\"secure_c_ses\":\"c\",\"available\":\"maybe\"}]}",
      "accounts[0].available: must be true or false" },
    { "{\"models\":[{\"name\":\"x\"}]}", "models[0].id: missing" },
    { "{\"models\":[],\"api_keys\":[{\"name\":\"k\"}]}",
      "api_keys[0].key_hash: missing" },
    { "{\"models\":[],\"api_keys\":[{\"key_hash\":\"ab\"}]}",
      "api_keys[0].key_hash: must be a SHA-256" },
    { "{\"models\":[],\"api_keys\":[{\"key_hash\":\"" "0123456789abcdef"
      "0123456789abcdef0123456789abcdef0123456789abcdef\","
      "\"created_at\":\"yesterday\"}]}",
      "api_keys[0].created_at: must be a Unix time" },
    { "{\"models\":[],\"proxy_enabled\":\"perhaps\"}",
      "proxy_enabled: must be true or false" },
    { "{\"models\":[],\"proxy\":5}",
      "proxy: must be a string of at most 511 bytes" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"accounts\":[{"
      "\"team_id\":\"t\",\"csesidx\":\"1\",\"secure_c_ses\":\"\"}]}",
      "accounts[0].secure_c_ses: empty" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"accounts\":[{"
      "\"team_id\":\"t\",\"csesidx\":\"1\",\"secure_c_ses_set\":true,"
      "\"proxy\":\"ftp://p\"}]}",
      "accounts[0].proxy: must be \"direct\" or" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"accounts\":[{"
      "\"team_id\":\"t\",\"csesidx\":\"1\",\"secure_c_ses_set\":true,"
      "\"enabled\":1}]}",
      "accounts[0].enabled: must be true or false" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"models\":[{"
      "\"name\":\"m\",\"kind\":\"audio\"}]}",
      "models[0].kind: must be text, image or video" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"models\":[{"
      "\"name\":\"m\",\"position\":-1}]}",
      "models[0].position: must be an integer of at least 0" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"settings\":[]}",
      "settings: must be an object" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"settings\":{"
      "\"retry_count\":null}}", "settings.retry_count: must not be null" },
    { "{\"format\":\"ngx_gemini_pool\",\"version\":1,\"settings\":{"
      "\"retry_count\":\"3\"}}",
      "settings.retry_count: must be a non-negative integer" },
    { NULL, NULL }
};


static void
test_import_refused(void **state)
{
    imp_t             t;
    const refused_t  *r;

    (void) state;

    for (r = refused; r->doc; r++) {
        assert_int_equal(imp_parse(&t, r->doc), -1);

        if (strncmp(t.err, r->err, strlen(r->err)) != 0) {
            fail_msg("%s: \"%s\", not \"%s\"", r->doc, t.err, r->err);
        }

        imp_done(&t);
    }
}


static void
test_import_ours(void **state)
{
    imp_t  t;

    (void) state;

    assert_int_equal(imp_parse(&t,
        "{\"format\":\"ngx_gemini_pool\",\"version\":1,"
        "\"accounts\":[{\"name\":\"a\",\"team_id\":\"t\",\"csesidx\":\"1\","
        "\"secure_c_ses_set\":true,\"enabled\":false},"
        "{\"name\":\"p\",\"secure_c_ses_set\":false}],"
        "\"models\":[{\"name\":\"m\",\"kind\":null,\"account\":0,"
        "\"position\":3}],"
        "\"settings\":{\"retry_count\":2,\"proxy_enabled\":true,"
        "\"gone\":1},"
        "\"api_keys\":[{\"name\":\"no hash\"},{\"key_hash\":"
        "\"0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef\",\"enabled\":false,"
        "\"rpm\":7,\"models\":\"a,b\",\"created_at\":5}]}"), 0);

    assert_string_equal(t.imp.format, "ngx_gemini_pool");
    assert_false(t.imp.ref);

    assert_int_equal(t.imp.naccounts, 2);
    assert_int_equal(t.imp.accounts[0].enabled, 0);
    assert_null(t.imp.accounts[0].secure_c_ses);
    assert_false(t.imp.accounts[0].placeholder);
    assert_true(t.imp.accounts[1].placeholder);

    assert_int_equal(t.imp.nmodels, 1);
    assert_string_equal(t.imp.models[0].kind, "text");
    assert_int_equal(t.imp.models[0].pin, 0);
    assert_int_equal(t.imp.models[0].position, 3);

    assert_int_equal(t.imp.nsettings, 2);
    assert_string_equal(t.imp.settings[0].text, "2");
    assert_string_equal(t.imp.settings[0].label, "settings.retry_count");
    assert_string_equal(t.imp.settings[1].text, "true");
    assert_true(skipped_has(&t, "settings.gone: no such setting"));

    /* the key without a hash is left out and said so */
    assert_int_equal(t.imp.nkeys, 1);
    assert_true(skipped_has(&t, "api_keys[0]: no key_hash"));
    assert_string_equal(t.imp.keys[0].label, "api_keys[1]");
    assert_int_equal(t.imp.keys[0].enabled, 0);
    assert_int_equal(t.imp.keys[0].rpm, 7);
    assert_string_equal(t.imp.keys[0].models, "a,b");
    assert_int_equal(t.imp.keys[0].created, 5);

    imp_done(&t);
}


/* the database's rows, as store_ref.c hands them: the lenient types */

static void
test_import_db(void **state)
{
    imp_t  t;

    (void) state;

    imp_init(&t);
    t.doc = obj("{\"accounts\":[{\"team_id\":\"t\",\"csesidx\":5,"
                "\"secure_c_ses\":\"c\",\"available\":0}],"
                "\"retry_count\":\"None\",\"proxy_enabled\":\"1\","
                "\"api_keys\":[{\"key_hash\":"
                "\"0123456789abcdef0123456789abcdef"
                "0123456789abcdef0123456789abcdef\",\"is_active\":\"false\","
                "\"last_used_at\":\"2025-01-02T03:04:05Z\"}]}");

    assert_int_equal(ngx_gp_import_read(t.doc, 1, &t.imp), 0);
    assert_int_equal(t.imp.naccounts, 1);
    assert_int_equal(t.imp.accounts[0].enabled, 0);
    assert_string_equal(t.imp.accounts[0].csesidx, "5");
    assert_int_equal(t.imp.keys[0].enabled, 0);
    assert_int_equal(t.imp.keys[0].last_used, 1735787045);
    assert_int_equal(t.imp.nsettings, 1);
    assert_string_equal(t.imp.settings[0].text, "true");

    imp_done(&t);

    /* not an object */
    imp_init(&t);
    t.doc = obj("[]");
    assert_int_equal(ngx_gp_import_read(t.doc, 1, &t.imp), -1);
    imp_done(&t);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_object),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_account),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_key_models_long),
        cmocka_unit_test(test_import_reference),
        cmocka_unit_test(test_import_refused),
        cmocka_unit_test(test_import_ours),
        cmocka_unit_test(test_import_db),
    };

    UNIT_RUN("bodies", tests);
}
