
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The admin API's JSON bodies (bodies.c): the body as an object, then an
 * account's fields (add and update), a model's (POST and PUT) and a new
 * key's, read from it.  Properties:
 *
 * - the body is an object, or refused with a NUL-terminated message;
 * - an account read has only strings under their limits without NUL, a
 *   csesidx of digits, a proxy "direct" or of the four schemes, a mailbox
 *   URL with a jwt, enabled -1, 0 or 1; an add has team_id, csesidx and
 *   secure_c_ses, and what an add takes an update takes;
 * - a model read has a name under 64 bytes, a kind of text, image, video
 *   or none, an account id above 0 or -1;
 * - a key read has non-negative limits, its models a string under 256
 *   bytes, an image format of the four or none;
 * - every refusal leaves a NUL-terminated message.
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_bodies.h"


static void
msg_ok(const char *msg, size_t size)
{
    FUZZ_CHECK(memchr(msg, '\0', size) != NULL);
    FUZZ_CHECK(msg[0] != '\0');
}


static void
str_ok(const char *s, size_t max)
{
    if (s) {
        FUZZ_CHECK(strlen(s) <= max);
    }
}


static void
account(json_t *body)
{
    int                     rc, rc_update;
    char                    msg[NGX_GP_BODY_ERR_LEN];
    const char             *p;
    ngx_gp_body_account_t   a;

    memset(msg, 0x5a, sizeof(msg));
    rc_update = ngx_gp_body_account(body, 0, &a, msg, sizeof(msg));

    if (rc_update != 0) {
        FUZZ_CHECK(rc_update == NGX_GP_BODY_INVALID);
        msg_ok(msg, sizeof(msg));

    } else {
        str_ok(a.name, NGX_GP_NAME_LEN - 1);
        str_ok(a.team_id, NGX_GP_TEAM_LEN - 1);
        str_ok(a.csesidx, NGX_GP_CSESIDX_LEN - 1);
        str_ok(a.secure_c_ses, NGX_GP_COOKIE_LEN - 1);
        str_ok(a.host_c_oses, NGX_GP_COOKIE_LEN - 1);
        str_ok(a.user_agent, NGX_GP_UA_LEN - 1);
        str_ok(a.proxy, NGX_GP_PROXY_LEN - 1);
        str_ok(a.tempmail_url, NGX_GP_MAILBOX_URL_LEN - 1);
        str_ok(a.tempmail_name, NGX_GP_NAME_LEN - 1);

        for (p = a.csesidx; p && *p; p++) {
            FUZZ_CHECK(*p >= '0' && *p <= '9');
        }

        FUZZ_CHECK(a.proxy == NULL || a.proxy[0] == '\0'
                   || strcmp(a.proxy, "direct") == 0
                   || ngx_gp_body_proxy_valid(a.proxy)
                   || strcmp(a.proxy, "http://") == 0
                   || strcmp(a.proxy, "https://") == 0
                   || strcmp(a.proxy, "socks5://") == 0
                   || strcmp(a.proxy, "socks5h://") == 0);
        FUZZ_CHECK(a.tempmail_url == NULL || a.tempmail_url[0] == '\0'
                   || ngx_gp_body_mailbox_url(a.tempmail_url));
        FUZZ_CHECK(a.enabled >= -1 && a.enabled <= 1);
    }

    memset(msg, 0x5a, sizeof(msg));
    rc = ngx_gp_body_account(body, 1, &a, msg, sizeof(msg));

    if (rc == 0) {
        FUZZ_CHECK(rc_update == 0);
        FUZZ_CHECK(a.team_id && a.team_id[0]);
        FUZZ_CHECK(a.csesidx && a.csesidx[0]);
        FUZZ_CHECK(a.secure_c_ses && a.secure_c_ses[0]);

    } else {
        /* a refused update is refused as an add with the same message */
        FUZZ_CHECK(rc == NGX_GP_BODY_INVALID || rc == NGX_GP_BODY_MISSING);
        FUZZ_CHECK(rc_update == 0 || rc == NGX_GP_BODY_INVALID);
        msg_ok(msg, sizeof(msg));
    }
}


static void
model(json_t *body, const char *name)
{
    char                  msg[NGX_GP_BODY_ERR_LEN];
    ngx_gp_body_model_t   m;

    memset(msg, 0x5a, sizeof(msg));

    if (ngx_gp_body_model(body, name, &m, msg, sizeof(msg)) != 0) {
        msg_ok(msg, sizeof(msg));
        return;
    }

    FUZZ_CHECK(m.name && m.name[0] && strlen(m.name) < NGX_GP_MODEL_LEN);
    FUZZ_CHECK(name == NULL || m.name == name);
    FUZZ_CHECK(m.model_id == NULL || strlen(m.model_id) < NGX_GP_MODEL_LEN);
    FUZZ_CHECK(m.kind == NULL || strcmp(m.kind, "text") == 0
               || strcmp(m.kind, "image") == 0
               || strcmp(m.kind, "video") == 0);
    FUZZ_CHECK(m.account == -1 || m.account > 0);
    FUZZ_CHECK(m.account == -1 || m.has_account);
    FUZZ_CHECK(m.enabled >= -1 && m.enabled <= 1);
}


static void
key(json_t *body)
{
    char                msg[NGX_GP_BODY_ERR_LEN];
    const char         *f;
    ngx_gp_body_key_t   k;

    memset(msg, 0x5a, sizeof(msg));

    if (ngx_gp_body_key(body, &k, msg, sizeof(msg)) != 0) {
        msg_ok(msg, sizeof(msg));
        return;
    }

    FUZZ_CHECK(k.expires >= 0 && k.rpm >= 0 && k.rpd >= 0);
    FUZZ_CHECK(memchr(k.models, '\0', sizeof(k.models)) != NULL);
    FUZZ_CHECK(k.name == NULL || strlen(k.name) < NGX_GP_NAME_LEN);

    f = k.image_format;
    FUZZ_CHECK(f == NULL || f[0] == '\0' || strcmp(f, "markdown") == 0
               || strcmp(f, "url") == 0 || strcmp(f, "array") == 0
               || strcmp(f, "b64_json") == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char     msg[NGX_GP_BODY_ERR_LEN];
    json_t  *body;

    memset(msg, 0x5a, sizeof(msg));
    body = ngx_gp_body_object((const char *) data, size, msg, sizeof(msg));

    if (body == NULL) {
        msg_ok(msg, sizeof(msg));
        return 0;
    }

    FUZZ_CHECK(json_is_object(body));

    account(body);
    model(body, NULL);
    model(body, "from-the-path");
    key(body);
    key(NULL);

    json_decref(body);

    return 0;
}
