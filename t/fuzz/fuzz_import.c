
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The migration readers (bodies.c): a document of POST /api/config/import
 * (our export or the reference's business_gemini_session.json, told by
 * its "format"), and the same object read as the reference's database
 * hands it (the lenient types: 0/1 and "true" booleans, numbers in
 * strings, "None").  The settings table is a small one of each type.
 * Properties:
 *
 * - read, or refused with a NUL-terminated message (never out of memory
 *   here);
 * - every account has strings under their limits without NUL; one that
 *   is not a placeholder has a team_id, a csesidx of digits, a cookie
 *   (the reference's and ours when given), a proxy "direct" or a valid
 *   URL; enabled and expired are -1, 0 or 1;
 * - every model has a name under 64 bytes and a kind of text, image or
 *   video; a pin is -1 or an index at least 0 (ours) or -1 (reference);
 * - every key has a hash of 64 lower-case hex digits;
 * - every setting is one the table knows, its text of its type;
 * - no more items than the document has.
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_bodies.h"


static int
type_of(const char *key)
{
    static const struct {
        const char  *key;
        int          type;
    } table[] = {
        { "proxy", 's' }, { "image_base_url", 's' },
        { "tempmail_worker_url", 's' }, { "upload_endpoint", 's' },
        { "proxy_enabled", 'b' }, { "auto_refresh_cookies", 'b' },
        { "sync_only_mode", 'b' }, { "retry_count", 'i' },
        { "stream_timeout", 'i' }, { NULL, 0 }
    };

    int  i;

    for (i = 0; table[i].key; i++) {
        if (strcmp(table[i].key, key) == 0) {
            return table[i].type;
        }
    }

    return 0;
}


static void
str_ok(const char *s, size_t max)
{
    if (s) {
        FUZZ_CHECK(max == 0 || strlen(s) <= max);
    }
}


static size_t
array_size(json_t *doc, const char *key)
{
    json_t  *v;

    v = json_object_get(doc, key);

    return json_is_array(v) ? json_array_size(v) : 0;
}


static void
check(ngx_gp_import_t *imp, json_t *doc, int rc)
{
    size_t                    i;
    const char               *p, *t;
    ngx_gp_import_key_t      *k;
    ngx_gp_import_model_t    *m;
    ngx_gp_import_setting_t  *s;
    ngx_gp_import_account_t  *a;

    if (rc != 0) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(memchr(imp->err, '\0', imp->errlen) != NULL);
        FUZZ_CHECK(imp->err[0] != '\0');
        return;
    }

    FUZZ_CHECK(imp->naccounts <= array_size(doc, "accounts"));
    FUZZ_CHECK(imp->nmodels <= array_size(doc, "models"));
    FUZZ_CHECK(imp->nkeys <= array_size(doc, "api_keys"));

    for (i = 0; i < imp->naccounts; i++) {
        a = &imp->accounts[i];

        str_ok(a->name, NGX_GP_NAME_LEN - 1);
        str_ok(a->team_id, NGX_GP_TEAM_LEN - 1);
        str_ok(a->csesidx, NGX_GP_CSESIDX_LEN - 1);
        str_ok(a->secure_c_ses, NGX_GP_COOKIE_LEN - 1);
        str_ok(a->host_c_oses, NGX_GP_COOKIE_LEN - 1);
        str_ok(a->user_agent, NGX_GP_UA_LEN - 1);
        str_ok(a->proxy, NGX_GP_PROXY_LEN - 1);
        FUZZ_CHECK(a->enabled >= -1 && a->enabled <= 1);
        FUZZ_CHECK(a->expired >= -1 && a->expired <= 1);

        if (a->placeholder) {
            continue;
        }

        FUZZ_CHECK(a->team_id && a->team_id[0]);
        FUZZ_CHECK(a->csesidx && a->csesidx[0]);

        for (p = a->csesidx; *p; p++) {
            FUZZ_CHECK(*p >= '0' && *p <= '9');
        }

        FUZZ_CHECK(!imp->ref || (a->secure_c_ses && a->secure_c_ses[0]));
        FUZZ_CHECK(a->secure_c_ses == NULL || a->secure_c_ses[0]);
        FUZZ_CHECK(a->proxy == NULL || a->proxy[0] == '\0'
                   || strcmp(a->proxy, "direct") == 0
                   || ngx_gp_body_proxy_valid(a->proxy));
    }

    for (i = 0; i < imp->nmodels; i++) {
        m = &imp->models[i];

        FUZZ_CHECK(m->name && m->name[0]
                   && strlen(m->name) < NGX_GP_MODEL_LEN);
        str_ok(m->model_id, NGX_GP_MODEL_LEN - 1);
        FUZZ_CHECK(strcmp(m->kind, "text") == 0
                   || strcmp(m->kind, "image") == 0
                   || strcmp(m->kind, "video") == 0);
        FUZZ_CHECK(m->pin >= -1);
        FUZZ_CHECK(imp->ref || m->position >= -1);
    }

    for (i = 0; i < imp->nkeys; i++) {
        k = &imp->keys[i];

        FUZZ_CHECK(strlen(k->hash) == 64);

        for (p = k->hash; *p; p++) {
            FUZZ_CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
        }

        FUZZ_CHECK(k->enabled == 0 || k->enabled == 1);
        FUZZ_CHECK(k->expires >= 0 && k->created >= 0
                   && k->last_used >= 0 && k->requests >= 0);
    }

    for (i = 0; i < imp->nsettings; i++) {
        s = &imp->settings[i];
        t = s->text;

        FUZZ_CHECK(t != NULL);
        FUZZ_CHECK(memchr(s->label, '\0', sizeof(s->label)) != NULL);

        switch (type_of(s->key)) {

        case 'b':
            FUZZ_CHECK(strcmp(t, "true") == 0 || strcmp(t, "false") == 0);
            break;

        case 'i':
            FUZZ_CHECK(t[0] != '\0');

            for (p = t; *p; p++) {
                FUZZ_CHECK(*p >= '0' && *p <= '9');
            }

            break;

        case 's':
            FUZZ_CHECK(strlen(t) < NGX_GP_SETTING_VALUE_LEN);
            break;

        default:
            FUZZ_CHECK(0);
        }
    }
}


static void
init(ngx_gp_import_t *imp, json_t *skipped, char *err, size_t size)
{
    memset(imp, 0, sizeof(ngx_gp_import_t));
    memset(err, 0x5a, size);

    imp->skipped = skipped;
    imp->type = type_of;
    imp->err = err;
    imp->errlen = size;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc;
    char              err[NGX_GP_BODY_ERR_LEN];
    json_t           *doc, *skipped;
    ngx_gp_import_t   imp;

    skipped = json_array();
    FUZZ_CHECK(skipped != NULL);

    /* a JSON document, its format by its "format" */

    init(&imp, skipped, err, sizeof(err));
    doc = NULL;
    rc = ngx_gp_import_parse((const char *) data, size, &imp, &doc);
    check(&imp, doc, rc);
    FUZZ_CHECK(rc != 0 || imp.format[0] != '\0');
    ngx_gp_import_free(&imp);

    /* the same object as the reference's database hands it */

    if (json_is_object(doc)) {
        init(&imp, skipped, err, sizeof(err));
        rc = ngx_gp_import_read(doc, 1, &imp);
        check(&imp, doc, rc);
        ngx_gp_import_free(&imp);
    }

    json_decref(doc);
    json_decref(skipped);

    return 0;
}
