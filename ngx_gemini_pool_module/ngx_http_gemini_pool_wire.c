
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini Enterprise wire format, as pure functions.
 */


#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_gemini_pool_wire.h"


#define GP_XSSI          ")]}'"
#define GP_ERROR_PREFIX  200

#define GP_ISS  "https://business.gemini.google"
#define GP_AUD  "https://biz-discoveryengine.googleapis.com"


static int fast_skip(ngx_gp_scan_t *sc, int depth);
static int fast_session(const char *p, size_t len, char **name);
static const char *skip_xssi(const char *p, size_t *len);
static json_t *load_object(const char *body, size_t len);
static int dump_cb(const char *buffer, size_t size, void *data);
static int out_ascii_str(ngx_gp_buf_t *b, const char *prefix,
    const char *s);
static char *dump_compact(json_t *json, size_t *len);
static char *dump_and_release(json_t *json, size_t *len);
static const char *obj_str(json_t *obj, const char *key);
static void gerror_fill(json_t *err, ngx_gp_gerror_t *e);
static int add_part(ngx_gp_element_t *e, int kind, const char *text,
    size_t len, const char *mime, const char *file_id, const char *name);
static int add_inline(ngx_gp_element_t *e, json_t *data, json_t *mime,
    json_t *name);
static int decode_generated(ngx_gp_element_t *e, json_t *list);
static int decode_attachments(ngx_gp_element_t *e, json_t *list);
static int decode_reply(ngx_gp_element_t *e, json_t *reply);
static int decode_answer(ngx_gp_element_t *e, json_t *answer);
static int join_skipped(ngx_gp_element_t *e, json_t *list);
static int join_policy(ngx_gp_element_t *e, json_t *result);
static int append_text(char **dst, const char *p, size_t len,
    const char *sep);


/* getoxsrf and the JWT */

int
ngx_gp_xsrf_parse(const char *body, size_t len, char **key_id,
    char **xsrf_token, const char **err)
{
    int          rc;
    json_t      *root;
    const char  *kid, *token;

    *key_id = NULL;
    *xsrf_token = NULL;

    body = skip_xssi(body, &len);

    root = load_object(body, len);
    if (root == NULL) {
        *err = "getoxsrf answer is not a JSON object";
        return NGX_GP_XSRF_GARBAGE;
    }

    kid = obj_str(root, "keyId");
    token = obj_str(root, "xsrfToken");

    rc = NGX_GP_XSRF_REFUSED;

    if (kid == NULL || kid[0] == '\0') {
        *err = "getoxsrf answer has no keyId";
        goto failed;
    }

    if (token == NULL || token[0] == '\0') {
        *err = "getoxsrf answer has no xsrfToken";
        goto failed;
    }

    *key_id = ngx_gp_str_dup(kid);
    *xsrf_token = ngx_gp_str_dup(token);

    if (*key_id == NULL || *xsrf_token == NULL) {
        *err = "out of memory";
        free(*key_id);
        free(*xsrf_token);
        *key_id = NULL;
        *xsrf_token = NULL;
        rc = NGX_GP_XSRF_NOMEM;
        goto failed;
    }

    json_decref(root);

    return NGX_GP_XSRF_OK;

failed:

    json_decref(root);

    return rc;
}


char *
ngx_gp_jwt_build(const char *key_id, const char *xsrf_token,
    const char *csesidx, time_t now)
{
    int             rc;
    char           *hb, *pb, *sb, *token;
    size_t          key_len, hb_len, pb_len, sb_len, n;
    unsigned int    mac_len;
    ngx_gp_buf_t    h, p;
    unsigned char  *key, mac[EVP_MAX_MD_SIZE];

    if (key_id == NULL || xsrf_token == NULL || csesidx == NULL) {
        return NULL;
    }

    token = NULL;
    hb = NULL;
    pb = NULL;
    sb = NULL;

    memset(&h, 0, sizeof(ngx_gp_buf_t));
    memset(&p, 0, sizeof(ngx_gp_buf_t));

    key = ngx_gp_base64_decode_any(xsrf_token, strlen(xsrf_token), &key_len);
    if (key == NULL || key_len == 0 || key_len > INT_MAX) {
        goto done;
    }

    /*
     * The JSON text is written by hand to be byte for byte what Python's
     * json.dumps(separators=(",", ":")) writes, as the reference does:
     * keys in spec order, ASCII only with lowercase \u escapes.
     */

    ngx_gp_buf_lit(&h, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":");
    rc = out_ascii_str(&h, "", key_id);
    ngx_gp_buf_lit(&h, "}");

    ngx_gp_buf_lit(&p, "{\"iss\":\"" GP_ISS "\",\"aud\":\"" GP_AUD "\","
                       "\"sub\":");
    rc |= out_ascii_str(&p, "csesidx/", csesidx);

    ngx_gp_buf_lit(&p, ",\"iat\":");
    ngx_gp_buf_int(&p, (int64_t) now);
    ngx_gp_buf_lit(&p, ",\"exp\":");
    ngx_gp_buf_int(&p, (int64_t) now + NGX_GP_JWT_LIFETIME);
    ngx_gp_buf_lit(&p, ",\"nbf\":");
    ngx_gp_buf_int(&p, (int64_t) now);
    ngx_gp_buf_lit(&p, "}");

    if (rc != 0 || h.failed || p.failed) {
        goto done;
    }

    hb = ngx_gp_base64_encode((unsigned char *) h.p, h.len,
                              NGX_GP_BASE64_URL, &hb_len);
    pb = ngx_gp_base64_encode((unsigned char *) p.p, p.len,
                              NGX_GP_BASE64_URL, &pb_len);

    if (hb == NULL || pb == NULL) {
        goto done;
    }

    /* "<header>.<payload>" and room for ".<signature>" */

    token = malloc(hb_len + pb_len + 2 + 64);
    if (token == NULL) {
        goto done;
    }

    memcpy(token, hb, hb_len);
    token[hb_len] = '.';
    memcpy(token + hb_len + 1, pb, pb_len);
    n = hb_len + 1 + pb_len;

    if (HMAC(EVP_sha256(), key, (int) key_len, (unsigned char *) token, n,
             mac, &mac_len)
        == NULL)
    {
        free(token);
        token = NULL;
        goto done;
    }

    sb = ngx_gp_base64_encode(mac, mac_len, NGX_GP_BASE64_URL, &sb_len);
    if (sb == NULL || sb_len > 63) {
        free(token);
        token = NULL;
        goto done;
    }

    token[n] = '.';
    memcpy(token + n + 1, sb, sb_len + 1);

done:

    free(key);
    free(h.p);
    free(p.p);
    free(hb);
    free(pb);
    free(sb);

    return token;
}


/* request bodies */

/*
 * The two bodies of every chat turn are written directly (no jansson
 * tree): the same compact JSON, keys in the order of spec §6 and §7.1, as
 * json_pack() and a dump gave; strings through ngx_gp_buf_str() of
 * text.c, which writes invalid UTF-8 as U+FFFD.
 */

char *
ngx_gp_body_create_session(const char *team_id, const char *name,
    size_t *len)
{
    ngx_gp_buf_t  b;

    if (team_id == NULL) {
        return NULL;
    }

    if (name == NULL) {
        name = "";
    }

    memset(&b, 0, sizeof(ngx_gp_buf_t));
    ngx_gp_buf_reserve(&b, 256);

    ngx_gp_buf_lit(&b, "{\"configId\":");
    ngx_gp_buf_cstr(&b, team_id);
    ngx_gp_buf_lit(&b, ",\"additionalParams\":{\"token\":\"-\"},"
                "\"createSessionRequest\":{\"session\":{\"name\":");
    ngx_gp_buf_cstr(&b, name);
    ngx_gp_buf_lit(&b, ",\"displayName\":");
    ngx_gp_buf_cstr(&b, name);
    ngx_gp_buf_lit(&b, "}}}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_body_stream_assist(const ngx_gp_assist_t *a, size_t *len)
{
    size_t        i, n;
    ngx_gp_buf_t  b;

    if (a->team_id == NULL || a->session == NULL
        || (a->text == NULL && a->text_len != 0))
    {
        return NULL;
    }

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    /* the fixed part is about 500 bytes */
    ngx_gp_buf_reserve(&b, a->text_len < 65536 ? 1024 + a->text_len : 1024);

    ngx_gp_buf_lit(&b, "{\"configId\":");
    ngx_gp_buf_cstr(&b, a->team_id);
    ngx_gp_buf_lit(&b, ",\"additionalParams\":{\"token\":\"-\"},"
                "\"streamAssistRequest\":{\"session\":");
    ngx_gp_buf_cstr(&b, a->session);
    ngx_gp_buf_lit(&b, ",\"query\":{\"parts\":[{\"text\":");
    ngx_gp_buf_str(&b, a->text ? a->text : "", a->text_len);
    ngx_gp_buf_lit(&b, "}]},\"filter\":\"\",\"fileIds\":[");

    for (i = 0, n = 0; a->file_ids != NULL && i < a->nfile_ids; i++) {
        if (a->file_ids[i] == NULL) {
            continue;
        }

        if (n++) {
            ngx_gp_buf_lit(&b, ",");
        }

        ngx_gp_buf_cstr(&b, a->file_ids[i]);
    }

    ngx_gp_buf_lit(&b, "],\"answerGenerationMode\":\"NORMAL\",\"toolsSpec\":");

    switch (a->tools) {

    case NGX_GP_TOOLS_IMAGE:
        ngx_gp_buf_lit(&b, "{\"imageGenerationSpec\":{}}");
        break;

    case NGX_GP_TOOLS_VIDEO:
        ngx_gp_buf_lit(&b, "{\"videoGenerationSpec\":{}}");
        break;

    default:
        ngx_gp_buf_lit(&b, "{\"webGroundingSpec\":{},"
                    "\"toolRegistry\":\"default_tool_registry\","
                    "\"imageGenerationSpec\":{},"
                    "\"videoGenerationSpec\":{}}");
        break;
    }

    ngx_gp_buf_lit(&b, ",\"languageCode\":");
    ngx_gp_buf_cstr(&b, a->language_code ? a->language_code : "zh-CN");
    ngx_gp_buf_lit(&b, ",\"userMetadata\":{\"timeZone\":");
    ngx_gp_buf_cstr(&b, a->time_zone ? a->time_zone : "Etc/GMT-8");
    ngx_gp_buf_lit(&b, "},\"assistSkippingMode\":\"REQUEST_ASSIST\"");

    if (a->model_id && a->model_id[0]) {
        ngx_gp_buf_lit(&b, ",\"assistGenerationConfig\":{\"modelId\":");
        ngx_gp_buf_cstr(&b, a->model_id);
        ngx_gp_buf_lit(&b, "}");
    }

    ngx_gp_buf_lit(&b, "}}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_body_add_context_file(const char *team_id, const char *session,
    const char *file_name, const char *mime_type, const unsigned char *data,
    size_t data_len, size_t *len)
{
    char    *b64;
    size_t   b64_len;
    json_t  *root;

    if (team_id == NULL || session == NULL || file_name == NULL
        || mime_type == NULL || (data == NULL && data_len != 0))
    {
        return NULL;
    }

    b64 = ngx_gp_base64_encode(data, data_len, NGX_GP_BASE64_STD, &b64_len);
    if (b64 == NULL) {
        return NULL;
    }

    /* field order of spec §8 */

    root = json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:s, s:s%}}",
                     "configId", team_id,
                     "additionalParams", "token", "-",
                     "addContextFileRequest",
                         "name", session,
                         "fileName", file_name,
                         "mimeType", mime_type,
                         "fileContents", b64, b64_len);

    free(b64);

    return dump_and_release(root, len);
}


char *
ngx_gp_body_list_files(const char *team_id, const char *session,
    size_t *len)
{
    json_t  *root;

    if (team_id == NULL || session == NULL) {
        return NULL;
    }

    root = json_pack("{s:s, s:{s:s}, s:{s:s, s:s}}",
                     "configId", team_id,
                     "additionalParams", "token", "-",
                     "listSessionFileMetadataRequest",
                         "name", session,
                         "filter", "file_origin_type = AI_GENERATED");

    return dump_and_release(root, len);
}


/* answers */

char *
ngx_gp_session_parse(const char *body, size_t len)
{
    char        *name;
    json_t      *root;
    const char  *s;

    if (body == NULL) {
        return NULL;
    }

    switch (fast_session(body, len, &name)) {

    case 1:
        return name;

    case -1:
        return NULL;

    default:
        break;
    }

    root = load_object(body, len);
    if (root == NULL) {
        return NULL;
    }

    s = obj_str(json_object_get(root, "session"), "name");

    name = (s && s[0]) ? ngx_gp_str_dup(s) : NULL;

    json_decref(root);

    return name;
}


char *
ngx_gp_file_id_parse(const char *body, size_t len)
{
    char    *id, num[32];
    json_t  *root, *resp, *v;

    root = load_object(body, len);
    if (root == NULL) {
        return NULL;
    }

    resp = json_object_get(root, "addContextFileResponse");
    v = json_object_get(resp ? resp : root, "fileId");

    id = NULL;

    if (json_is_string(v) && json_string_length(v) > 0) {
        id = ngx_gp_str_dup(json_string_value(v));

    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        id = ngx_gp_str_dup(num);
    }

    json_decref(root);

    return id;
}


int
ngx_gp_gerror_parse(const char *body, size_t len, ngx_gp_gerror_t *e)
{
    int          rc;
    size_t       n;
    json_t      *root, *err;
    const char  *p;

    memset(e, 0, sizeof(ngx_gp_gerror_t));

    rc = -1;

    p = body;
    n = len;
    p = skip_xssi(p, &n);

    root = load_object(p, n);

    if (root) {
        err = json_object_get(root, "error");

        if (json_is_object(err)) {
            gerror_fill(err, e);
            rc = 0;

        } else if (json_is_string(err)) {
            /* {"error":"text"}, as some proxies answer */
            e->message = ngx_gp_str_dup(json_string_value(err));
            rc = 0;

        } else if (obj_str(root, "message") || obj_str(root, "status")) {
            /* getoxsrf: {"message":"...","status":"EXPIRED_SIGN_IN"} */
            gerror_fill(root, e);
            rc = 0;
        }

        json_decref(root);
    }

    if (rc == 0 && e->message == NULL) {
        e->message = ngx_gp_str_dup(e->status ? e->status : "unknown error");
    }

    if (rc != 0) {
        free(e->message);
        free(e->status);
        free(e->reason);
        memset(e, 0, sizeof(ngx_gp_gerror_t));

        if (body == NULL) {
            body = "";
            len = 0;
        }

        /* do not cut a multi-byte character in two */
        n = ngx_gp_utf8_cut(body, len, GP_ERROR_PREFIX);

        e->message = ngx_gp_utf8_sanitize(body, n, NULL);
    }

    return rc;
}


void
ngx_gp_gerror_free(ngx_gp_gerror_t *e)
{
    free(e->status);
    free(e->message);
    free(e->reason);

    e->status = NULL;
    e->message = NULL;
    e->reason = NULL;
}


/*
 * The JSON scanner of the fast paths (see the header), and the fast path
 * for the common streamed elements (text, thoughts, state, session): one
 * pass over the bytes, no jansson tree.  It accepts only what it fully
 * understands, as strictly as jansson would parse it; anything else
 * (media, errors, policy results, duplicate keys, a key with an escape
 * at any depth, as jansson refuses "\u0000" in keys, odd numbers, bad
 * escapes, deep nesting) returns NGX_GP_SCAN_FALLBACK and the element
 * goes through the jansson path, so results never differ.
 */


void
ngx_gp_scan_ws(ngx_gp_scan_t *sc)
{
    uint64_t  v;

    for ( ;; ) {
        /* the indentation of pretty-printed JSON, 8 spaces at a time */
        while (sc->end - sc->p >= 8) {
            memcpy(&v, sc->p, 8);

            if (v != 0x2020202020202020ULL) {
                break;
            }

            sc->p += 8;
        }

        if (sc->p < sc->end
            && (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\r'
                || *sc->p == '\t'))
        {
            sc->p++;
            continue;
        }

        return;
    }
}


/*
 * Skips 8 bytes at a time while none is a control, non-ASCII, '"' or
 * '\\' (each test is exact as a yes/no answer for the 8 bytes; the byte
 * loops after it decide).
 */

static const unsigned char *
fast_plain_run(const unsigned char *s, const unsigned char *end)
{
    uint64_t  v;

    while (end - s >= 8) {
        memcpy(&v, s, 8);

        if ((v & NGX_GP_SWAR_HIGHS) | ngx_gp_swar_below(v, 0x20)
            | ngx_gp_swar_zero(v ^ ngx_gp_swar_byte('"'))
            | ngx_gp_swar_zero(v ^ ngx_gp_swar_byte('\\')))
        {
            break;
        }

        s += 8;
    }

    return s;
}


static int
fast_hex4(const char *p, unsigned *v)
{
    int       i;
    unsigned  c, r;

    r = 0;

    for (i = 0; i < 4; i++) {
        c = (unsigned char) p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';
        } else if (c >= 'a' && c <= 'f') {
            c -= 'a' - 10;
        } else if (c >= 'A' && c <= 'F') {
            c -= 'A' - 10;
        } else {
            return -1;
        }

        r = r * 16 + c;
    }

    *v = r;

    return 0;
}


/*
 * A string at sc->p (the opening quote).  out == NULL: validate and skip.
 * Otherwise out gets the decoded bytes: a pointer into the element when
 * there are no escapes, else into sc->tmp (valid until the next call).
 */

int
ngx_gp_scan_string(ngx_gp_scan_t *sc, ngx_gp_scan_str_t *out)
{
    char                 *o;
    size_t                n, need;
    unsigned              cp, lo;
    const unsigned char  *s, *end, *start, *run;

    s = (const unsigned char *) sc->p + 1;
    end = (const unsigned char *) sc->end;
    start = s;

    /* the plain run: no escape */
    for ( ;; ) {
        s = fast_plain_run(s, end);

        while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
        {
            s++;
        }

        if (s >= end || *s < 0x20) {
            return NGX_GP_SCAN_FALLBACK;
        }

        if (*s >= 0x80) {
            n = ngx_gp_utf8_seq(s, (size_t) (end - s));
            if (n == 0) {
                return NGX_GP_SCAN_FALLBACK;
            }

            s += n;
            continue;
        }

        break;
    }

    if (*s == '"') {
        if (out) {
            out->s = (const char *) start;
            out->len = (size_t) (s - start);
            out->nul = 0;
        }

        sc->p = (const char *) s + 1;
        return NGX_GP_SCAN_OK;
    }

    /* escapes: decode the rest into tmp (never longer than the source) */

    o = NULL;

    if (out) {
        need = (size_t) (end - start) + 1;

        if (need > sc->tmp_cap) {
            o = realloc(sc->tmp, need);
            if (o == NULL) {
                return NGX_GP_SCAN_NOMEM;
            }

            sc->tmp = o;
            sc->tmp_cap = need;
        }

        o = sc->tmp;
        memcpy(o, start, (size_t) (s - start));
        o += s - start;
        out->nul = 0;
    }

    while (s < end) {

        run = fast_plain_run(s, end);

        if (run != s) {
            if (o) {
                memcpy(o, s, (size_t) (run - s));
                o += run - s;
            }

            s = run;

            if (s == end) {
                break;
            }
        }

        if (*s == '"') {
            if (out) {
                out->s = sc->tmp;
                out->len = (size_t) (o - sc->tmp);
            }

            sc->p = (const char *) s + 1;
            return NGX_GP_SCAN_OK;
        }

        if (*s < 0x20) {
            return NGX_GP_SCAN_FALLBACK;
        }

        if (*s >= 0x80) {
            n = ngx_gp_utf8_seq(s, (size_t) (end - s));
            if (n == 0) {
                return NGX_GP_SCAN_FALLBACK;
            }

            if (o) {
                memcpy(o, s, n);
                o += n;
            }

            s += n;
            continue;
        }

        if (*s != '\\') {
            if (o) {
                *o++ = (char) *s;
            }

            s++;
            continue;
        }

        if (end - s < 2) {
            return NGX_GP_SCAN_FALLBACK;
        }

        switch (s[1]) {
        case '"': case '\\': case '/':
            cp = s[1];
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            if (end - s < 6 || fast_hex4((const char *) s + 2, &cp) != 0) {
                return NGX_GP_SCAN_FALLBACK;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return NGX_GP_SCAN_FALLBACK;          /* a lone low surrogate */
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - s < 12 || s[6] != '\\' || s[7] != 'u'
                    || fast_hex4((const char *) s + 8, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return NGX_GP_SCAN_FALLBACK;
                }

                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }

            s += 6;

            if (o) {
                if (cp == 0) {
                    out->nul = 1;
                }

                if (cp < 0x80) {
                    *o++ = (char) cp;
                } else if (cp < 0x800) {
                    *o++ = (char) (0xc0 | (cp >> 6));
                    *o++ = (char) (0x80 | (cp & 0x3f));
                } else if (cp < 0x10000) {
                    *o++ = (char) (0xe0 | (cp >> 12));
                    *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *o++ = (char) (0x80 | (cp & 0x3f));
                } else {
                    *o++ = (char) (0xf0 | (cp >> 18));
                    *o++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                    *o++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                    *o++ = (char) (0x80 | (cp & 0x3f));
                }
            }

            continue;
        default:
            return NGX_GP_SCAN_FALLBACK;
        }

        if (o) {
            *o++ = (char) cp;
        }

        s += 2;
    }

    return NGX_GP_SCAN_FALLBACK;
}



/*
 * After a member or an element: GP_SCAN_MORE when another follows (the
 * ',' consumed), NGX_GP_SCAN_OK at the close (consumed), else fallback.
 */

#define GP_SCAN_MORE  3

static int
fast_next(ngx_gp_scan_t *sc, char close)
{
    ngx_gp_scan_ws(sc);

    if (sc->p < sc->end && *sc->p == ',') {
        sc->p++;
        ngx_gp_scan_ws(sc);
        return GP_SCAN_MORE;
    }

    if (sc->p < sc->end && *sc->p == close) {
        sc->p++;
        return NGX_GP_SCAN_OK;
    }

    return NGX_GP_SCAN_FALLBACK;
}


/* skips any value; numbers only in the plain forms jansson never refuses */

static int
fast_skip(ngx_gp_scan_t *sc, int depth)
{
    int          rc;
    char         close;
    const char  *q, *key;

    if (depth > NGX_GP_SCAN_DEPTH) {
        return NGX_GP_SCAN_FALLBACK;
    }

    ngx_gp_scan_ws(sc);

    if (sc->p >= sc->end) {
        return NGX_GP_SCAN_FALLBACK;
    }

    switch (*sc->p) {

    case '"':
        return ngx_gp_scan_string(sc, NULL);

    case '{':
    case '[':
        close = (*sc->p == '{') ? '}' : ']';
        sc->p++;
        ngx_gp_scan_ws(sc);

        if (sc->p < sc->end && *sc->p == close) {
            sc->p++;
            return NGX_GP_SCAN_OK;
        }

        for ( ;; ) {
            if (close == '}') {
                if (sc->p >= sc->end || *sc->p != '"') {
                    return NGX_GP_SCAN_FALLBACK;
                }

                key = sc->p + 1;

                rc = ngx_gp_scan_string(sc, NULL);
                if (rc != NGX_GP_SCAN_OK) {
                    return rc;
                }

                /*
                 * jansson refuses "\u0000" in a key: a key with an escape
                 * is left to it, as ngx_gp_scan_object() does
                 */

                if (memchr(key, '\\', (size_t) (sc->p - 1 - key)) != NULL) {
                    return NGX_GP_SCAN_FALLBACK;
                }

                ngx_gp_scan_ws(sc);

                if (sc->p >= sc->end || *sc->p != ':') {
                    return NGX_GP_SCAN_FALLBACK;
                }

                sc->p++;
            }

            rc = fast_skip(sc, depth + 1);
            if (rc != NGX_GP_SCAN_OK) {
                return rc;
            }

            rc = fast_next(sc, close);

            if (rc != GP_SCAN_MORE) {
                return rc;
            }
        }

    case 't':
        return ngx_gp_scan_lit(sc, "true") ? NGX_GP_SCAN_OK
                                           : NGX_GP_SCAN_FALLBACK;

    case 'f':
        return ngx_gp_scan_lit(sc, "false") ? NGX_GP_SCAN_OK
                                            : NGX_GP_SCAN_FALLBACK;

    case 'n':
        return ngx_gp_scan_lit(sc, "null") ? NGX_GP_SCAN_OK
                                           : NGX_GP_SCAN_FALLBACK;

    default:
        /*
         * -?(0|[1-9][0-9]*)(\.[0-9]+)?, at most 15 characters: jansson
         * takes them
         */
        q = sc->p;

        if (*q == '-') {
            q++;
        }

        if (q >= sc->end || *q < '0' || *q > '9') {
            return NGX_GP_SCAN_FALLBACK;
        }

        if (*q == '0') {
            q++;

        } else {
            while (q < sc->end && *q >= '0' && *q <= '9') {
                q++;
            }
        }

        /* a fraction ("temperature": 0.7): no exponent, cannot overflow */

        if (q < sc->end && *q == '.') {
            q++;

            if (q >= sc->end || *q < '0' || *q > '9') {
                return NGX_GP_SCAN_FALLBACK;
            }

            while (q < sc->end && *q >= '0' && *q <= '9') {
                q++;
            }
        }

        if (q - sc->p > 15
            || (q < sc->end && (*q == '.' || *q == 'e' || *q == 'E'
                                || (*q >= '0' && *q <= '9'))))
        {
            return NGX_GP_SCAN_FALLBACK;
        }

        sc->p = q;
        return NGX_GP_SCAN_OK;
    }
}


typedef struct gp_fast_s  gp_fast_t;


int
ngx_gp_scan_object(ngx_gp_scan_t *sc, ngx_gp_scan_member_pt cb, void *data,
    int depth)
{
    int          rc;
    size_t       klen;
    const char  *key;

    if (depth > NGX_GP_SCAN_DEPTH || sc->p >= sc->end || *sc->p != '{') {
        return NGX_GP_SCAN_FALLBACK;
    }

    sc->p++;
    ngx_gp_scan_ws(sc);

    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return NGX_GP_SCAN_OK;
    }

    for ( ;; ) {
        if (sc->p >= sc->end || *sc->p != '"') {
            return NGX_GP_SCAN_FALLBACK;
        }

        key = sc->p + 1;
        rc = ngx_gp_scan_string(sc, NULL);
        if (rc != NGX_GP_SCAN_OK) {
            return rc;
        }

        klen = (size_t) (sc->p - 1 - key);

        if (memchr(key, '\\', klen) != NULL) {
            return NGX_GP_SCAN_FALLBACK;
        }

        ngx_gp_scan_ws(sc);

        if (sc->p >= sc->end || *sc->p != ':') {
            return NGX_GP_SCAN_FALLBACK;
        }

        sc->p++;
        ngx_gp_scan_ws(sc);

        rc = cb(sc, key, klen, data, depth + 1);

        if (rc == NGX_GP_SCAN_SKIP) {
            rc = fast_skip(sc, depth + 1);
        }

        if (rc != NGX_GP_SCAN_OK) {
            return rc;
        }

        rc = fast_next(sc, '}');

        if (rc != GP_SCAN_MORE) {
            return rc;
        }
    }
}


int
ngx_gp_scan_array(ngx_gp_scan_t *sc, ngx_gp_scan_element_pt cb, void *data,
    int depth)
{
    int  rc;

    if (depth > NGX_GP_SCAN_DEPTH || sc->p >= sc->end || *sc->p != '[') {
        return NGX_GP_SCAN_FALLBACK;
    }

    sc->p++;
    ngx_gp_scan_ws(sc);

    if (sc->p < sc->end && *sc->p == ']') {
        sc->p++;
        return NGX_GP_SCAN_OK;
    }

    for ( ;; ) {
        rc = cb(sc, data, depth + 1);

        if (rc == NGX_GP_SCAN_SKIP) {
            rc = fast_skip(sc, depth + 1);
        }

        if (rc != NGX_GP_SCAN_OK) {
            return rc;
        }

        rc = fast_next(sc, ']');

        if (rc != GP_SCAN_MORE) {
            return rc;
        }
    }
}


int
ngx_gp_scan_json(const char *p, size_t len, ngx_gp_scan_member_pt cb,
    void *data)
{
    int            rc;
    ngx_gp_scan_t  sc;

    sc.p = p;
    sc.end = p + len;
    sc.tmp = NULL;
    sc.tmp_cap = 0;

    ngx_gp_scan_ws(&sc);
    rc = ngx_gp_scan_object(&sc, cb, data, 0);

    if (rc == NGX_GP_SCAN_OK) {
        ngx_gp_scan_ws(&sc);

        if (sc.p != sc.end) {
            rc = NGX_GP_SCAN_FALLBACK;
        }
    }

    free(sc.tmp);

    return rc;
}


struct gp_fast_s {
    ngx_gp_element_t  *e;

    unsigned           root_sar:1;
    unsigned           sar_info:1;
    unsigned           sar_answer:1;
    unsigned           info_session:1;
    unsigned           answer_state:1;
    unsigned           answer_replies:1;

    /* the reply being read */
    unsigned           reply_gc:1;
    unsigned           reply_thought:1;
    unsigned           gc_content:1;
    unsigned           content_text:1;
    unsigned           content_thought:1;
    unsigned           thought:1;
    unsigned           has_text:1;
    const char        *text;        /* into the element or sc->tmp */
    size_t             text_len;

};


/* json_is_true(): only the literal true counts, anything else is skipped */

static int
fast_true(ngx_gp_scan_t *sc, gp_fast_t *f)
{
    if (ngx_gp_scan_lit(sc, "true")) {
        f->thought = 1;
        return NGX_GP_SCAN_OK;
    }

    return NGX_GP_SCAN_SKIP;
}


static int
fast_content(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    int                rc;
    ngx_gp_scan_str_t  s;
    gp_fast_t         *f = data;

    if (ngx_gp_scan_key(k, n, "text")) {
        ngx_gp_scan_once(f->content_text);

        if (ngx_gp_scan_peek(sc) != '"') {
            return NGX_GP_SCAN_SKIP;
        }

        /* only this string of the reply is decoded: tmp stays valid */
        rc = ngx_gp_scan_string(sc, &s);
        if (rc != NGX_GP_SCAN_OK) {
            return rc;
        }

        f->text = s.s;
        f->text_len = s.len;
        f->has_text = 1;
        return NGX_GP_SCAN_OK;
    }

    if (ngx_gp_scan_key(k, n, "thought")) {
        ngx_gp_scan_once(f->content_thought);
        return fast_true(sc, f);
    }

    if (ngx_gp_scan_key(k, n, "file") || ngx_gp_scan_key(k, n, "inlineData")
        || ngx_gp_scan_key(k, n, "imageBytes")
        || ngx_gp_scan_key(k, n, "attachments"))
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    return NGX_GP_SCAN_SKIP;
}


static int
fast_grounded(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    gp_fast_t  *f = data;

    if (ngx_gp_scan_key(k, n, "content")) {
        ngx_gp_scan_once(f->gc_content);

        if (ngx_gp_scan_peek(sc) != '{') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_object(sc, fast_content, f, depth);
    }

    if (ngx_gp_scan_key(k, n, "inlineData")
        || ngx_gp_scan_key(k, n, "attachments"))
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    return NGX_GP_SCAN_SKIP;
}


static int
fast_reply(ngx_gp_scan_t *sc, const char *k, size_t n, void *data, int depth)
{
    gp_fast_t  *f = data;

    if (ngx_gp_scan_key(k, n, "groundedContent")) {
        ngx_gp_scan_once(f->reply_gc);

        if (ngx_gp_scan_peek(sc) != '{') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_object(sc, fast_grounded, f, depth);
    }

    if (ngx_gp_scan_key(k, n, "thought")) {
        ngx_gp_scan_once(f->reply_thought);
        return fast_true(sc, f);
    }

    if (ngx_gp_scan_key(k, n, "attachments")
        || ngx_gp_scan_key(k, n, "generatedImages"))
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    return NGX_GP_SCAN_SKIP;
}


/* one element of answer.replies: objects are read, the rest ignored */

static int
fast_reply_element(ngx_gp_scan_t *sc, void *data, int depth)
{
    int         rc;
    gp_fast_t  *f = data;

    if (ngx_gp_scan_peek(sc) != '{') {
        return NGX_GP_SCAN_SKIP;
    }

    f->reply_gc = 0;
    f->reply_thought = 0;
    f->gc_content = 0;
    f->content_text = 0;
    f->content_thought = 0;
    f->thought = 0;
    f->has_text = 0;

    rc = ngx_gp_scan_object(sc, fast_reply, f, depth);
    if (rc != NGX_GP_SCAN_OK) {
        return rc;
    }

    /* a text is only taken from an object "content" */
    if (f->has_text && f->text_len > 0) {
        if (add_part(f->e, f->thought ? NGX_GP_PART_THOUGHT
                                      : NGX_GP_PART_TEXT,
                     f->text, f->text_len, NULL, NULL, NULL)
            != 0)
        {
            return NGX_GP_SCAN_NOMEM;
        }
    }

    return NGX_GP_SCAN_OK;
}


static int
fast_answer(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    int                rc;
    ngx_gp_scan_str_t  s;
    gp_fast_t         *f = data;

    if (ngx_gp_scan_key(k, n, "state")) {
        ngx_gp_scan_once(f->answer_state);

        if (ngx_gp_scan_peek(sc) != '"') {
            return NGX_GP_SCAN_SKIP;
        }

        rc = ngx_gp_scan_string(sc, &s);
        if (rc != NGX_GP_SCAN_OK) {
            return rc;
        }

        if (s.nul) {
            return NGX_GP_SCAN_FALLBACK;
        }

        f->e->state = ngx_gp_scan_key(s.s, s.len, "IN_PROGRESS")
                      ? NGX_GP_STATE_IN_PROGRESS
                      : ngx_gp_scan_key(s.s, s.len, "SUCCEEDED")
                      ? NGX_GP_STATE_SUCCEEDED
                      : ngx_gp_scan_key(s.s, s.len, "SKIPPED")
                      ? NGX_GP_STATE_SKIPPED
                      : ngx_gp_scan_key(s.s, s.len, "FAILED")
                      ? NGX_GP_STATE_FAILED : NGX_GP_STATE_OTHER;
        return NGX_GP_SCAN_OK;
    }

    if (ngx_gp_scan_key(k, n, "replies")) {
        ngx_gp_scan_once(f->answer_replies);

        if (ngx_gp_scan_peek(sc) != '[') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_array(sc, fast_reply_element, f, depth);
    }

    if (ngx_gp_scan_key(k, n, "assistSkippedReasons")
        || ngx_gp_scan_key(k, n, "customerPolicyEnforcementResult")
        || ngx_gp_scan_key(k, n, "generatedImages"))
    {
        return NGX_GP_SCAN_FALLBACK;
    }

    return NGX_GP_SCAN_SKIP;
}


static int
fast_session_info(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    int                rc;
    ngx_gp_scan_str_t  s;
    gp_fast_t         *f = data;

    if (!ngx_gp_scan_key(k, n, "session")) {
        return NGX_GP_SCAN_SKIP;
    }

    ngx_gp_scan_once(f->info_session);

    if (ngx_gp_scan_peek(sc) != '"') {
        return NGX_GP_SCAN_SKIP;
    }

    rc = ngx_gp_scan_string(sc, &s);
    if (rc != NGX_GP_SCAN_OK) {
        return rc;
    }

    if (s.nul) {
        return NGX_GP_SCAN_FALLBACK;
    }

    if (s.len) {
        f->e->session = ngx_gp_mem_dup(s.s, s.len);
        if (f->e->session == NULL) {
            return NGX_GP_SCAN_NOMEM;
        }
    }

    return NGX_GP_SCAN_OK;
}


static int
fast_sar(ngx_gp_scan_t *sc, const char *k, size_t n, void *data, int depth)
{
    gp_fast_t  *f = data;

    if (ngx_gp_scan_key(k, n, "sessionInfo")) {
        ngx_gp_scan_once(f->sar_info);

        if (ngx_gp_scan_peek(sc) != '{') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_object(sc, fast_session_info, f, depth);
    }

    if (ngx_gp_scan_key(k, n, "answer")) {
        ngx_gp_scan_once(f->sar_answer);

        if (ngx_gp_scan_peek(sc) != '{') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_object(sc, fast_answer, f, depth);
    }

    if (ngx_gp_scan_key(k, n, "generatedImages")) {
        return NGX_GP_SCAN_FALLBACK;
    }

    return NGX_GP_SCAN_SKIP;
}


static int
fast_root(ngx_gp_scan_t *sc, const char *k, size_t n, void *data, int depth)
{
    gp_fast_t  *f = data;

    if (ngx_gp_scan_key(k, n, "error")) {
        return NGX_GP_SCAN_FALLBACK;
    }

    if (ngx_gp_scan_key(k, n, "streamAssistResponse")) {
        ngx_gp_scan_once(f->root_sar);

        if (ngx_gp_scan_peek(sc) != '{') {
            return NGX_GP_SCAN_SKIP;
        }

        return ngx_gp_scan_object(sc, fast_sar, f, depth);
    }

    return NGX_GP_SCAN_SKIP;
}


/* NGX_GP_SCAN_OK: e is complete; otherwise the caller frees e and falls back */

static int
fast_decode(const char *p, size_t len, ngx_gp_element_t *e)
{
    gp_fast_t  f;

    memset(&f, 0, sizeof(gp_fast_t));
    f.e = e;
    e->state = NGX_GP_STATE_NONE;

    return ngx_gp_scan_json(p, len, fast_root, &f);
}


/* the createSession answer {"session":{"name":...}} the same way */

static int
fast_session_name(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    if (!ngx_gp_scan_key(k, n, "name")) {
        return NGX_GP_SCAN_SKIP;
    }

    /* a name that is not a string gives no session, as obj_str() */
    return fast_session_info(sc, "session", sizeof("session") - 1, data,
                             depth);
}


static int
fast_session_root(ngx_gp_scan_t *sc, const char *k, size_t n, void *data,
    int depth)
{
    gp_fast_t  *f = data;

    if (!ngx_gp_scan_key(k, n, "session")) {
        return NGX_GP_SCAN_SKIP;
    }

    ngx_gp_scan_once(f->sar_info);

    if (ngx_gp_scan_peek(sc) != '{') {
        return NGX_GP_SCAN_SKIP;
    }

    return ngx_gp_scan_object(sc, fast_session_name, f, depth);
}


/*
 * 1: decided, *name is the malloc'ed non-empty session.name or NULL;
 * 0: let jansson decide; -1: out of memory
 */

static int
fast_session(const char *p, size_t len, char **name)
{
    int               rc;
    gp_fast_t         f;
    ngx_gp_element_t  e;

    memset(&e, 0, sizeof(ngx_gp_element_t));
    memset(&f, 0, sizeof(gp_fast_t));
    f.e = &e;

    rc = ngx_gp_scan_json(p, len, fast_session_root, &f);

    if (rc == NGX_GP_SCAN_OK) {
        *name = e.session;
        return 1;
    }

    free(e.session);
    *name = NULL;

    return rc == NGX_GP_SCAN_NOMEM ? -1 : 0;
}


/* streamed elements */

int
ngx_gp_element_decode(const char *p, size_t len, ngx_gp_element_t *e,
    const char **err)
{
    json_t  *root, *v, *sar;

    memset(e, 0, sizeof(ngx_gp_element_t));

    switch (fast_decode(p, len, e)) {

    case NGX_GP_SCAN_OK:
        return 0;

    case NGX_GP_SCAN_NOMEM:
        *err = "out of memory";
        return -1;

    default:
        ngx_gp_element_free(e);
        break;
    }

    root = load_object(p, len);
    if (root == NULL) {
        *err = "element is not a JSON object";
        return -1;
    }

    v = json_object_get(root, "error");

    if (json_is_object(v)) {
        e->is_error = 1;
        gerror_fill(v, &e->error);

        if (e->error.message == NULL) {
            e->error.message = ngx_gp_str_dup(e->error.status ? e->error.status
                                                       : "unknown error");
            if (e->error.message == NULL) {
                goto nomem;
            }
        }
    }

    sar = json_object_get(root, "streamAssistResponse");

    if (json_is_object(sar)) {
        v = json_object_get(sar, "sessionInfo");
        v = json_object_get(v, "session");

        if (json_is_string(v) && json_string_length(v) > 0) {
            e->session = ngx_gp_str_dup(json_string_value(v));
            if (e->session == NULL) {
                goto nomem;
            }
        }

        v = json_object_get(sar, "answer");

        if (json_is_object(v) && decode_answer(e, v) != 0) {
            goto nomem;
        }

        if (decode_generated(e, json_object_get(sar, "generatedImages"))
            != 0)
        {
            goto nomem;
        }
    }

    json_decref(root);

    return 0;

nomem:

    json_decref(root);
    *err = "out of memory";

    return -1;
}


void
ngx_gp_element_free(ngx_gp_element_t *e)
{
    size_t          i;
    ngx_gp_part_t  *part;

    ngx_gp_gerror_free(&e->error);

    for (i = 0; i < e->nparts; i++) {
        part = &e->parts[i];

        free(part->text);
        free(part->mime);
        free(part->file_id);
        free(part->name);
    }

    free(e->parts);
    free(e->session);
    free(e->skipped);
    free(e->policy);

    memset(e, 0, sizeof(ngx_gp_element_t));
}


/* element helpers */

static int
decode_answer(ngx_gp_element_t *e, json_t *answer)
{
    size_t       i;
    json_t      *v;
    const char  *state;

    state = obj_str(answer, "state");

    if (state == NULL) {
        e->state = NGX_GP_STATE_NONE;

    } else if (strcmp(state, "IN_PROGRESS") == 0) {
        e->state = NGX_GP_STATE_IN_PROGRESS;

    } else if (strcmp(state, "SUCCEEDED") == 0) {
        e->state = NGX_GP_STATE_SUCCEEDED;

    } else if (strcmp(state, "SKIPPED") == 0) {
        e->state = NGX_GP_STATE_SKIPPED;

    } else if (strcmp(state, "FAILED") == 0) {
        e->state = NGX_GP_STATE_FAILED;

    } else {
        e->state = NGX_GP_STATE_OTHER;
    }

    if (join_skipped(e, json_object_get(answer, "assistSkippedReasons"))
        != 0)
    {
        return -1;
    }

    v = json_object_get(answer, "customerPolicyEnforcementResult");

    if (json_is_object(v) && join_policy(e, v) != 0) {
        return -1;
    }

    v = json_object_get(answer, "replies");

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            if (decode_reply(e, json_array_get(v, i)) != 0) {
                return -1;
            }
        }
    }

    return decode_generated(e, json_object_get(answer, "generatedImages"));
}


static int
decode_reply(ngx_gp_element_t *e, json_t *reply)
{
    int          thought;
    json_t      *gc, *content, *v, *d;
    const char  *mime;

    if (!json_is_object(reply)) {
        return 0;
    }

    gc = json_object_get(reply, "groundedContent");
    content = json_object_get(gc, "content");

    thought = json_is_true(json_object_get(reply, "thought"));

    if (json_is_object(content)) {

        if (json_is_true(json_object_get(content, "thought"))) {
            thought = 1;
        }

        v = json_object_get(content, "text");

        if (json_is_string(v) && json_string_length(v) > 0) {
            if (add_part(e, thought ? NGX_GP_PART_THOUGHT : NGX_GP_PART_TEXT,
                         json_string_value(v), json_string_length(v),
                         NULL, NULL, NULL)
                != 0)
            {
                return -1;
            }
        }

        v = json_object_get(content, "file");
        d = json_object_get(v, "fileId");

        if (json_is_string(d) && json_string_length(d) > 0) {
            mime = obj_str(v, "mimeType");

            if (add_part(e, NGX_GP_PART_FILE, NULL, 0,
                         (mime && mime[0]) ? mime : "image/png",
                         json_string_value(d), obj_str(v, "name"))
                != 0)
            {
                return -1;
            }
        }

        v = json_object_get(content, "inlineData");

        if (json_is_object(v)
            && add_inline(e, json_object_get(v, "data"),
                          json_object_get(v, "mimeType"), NULL)
               != 0)
        {
            return -1;
        }

        if (add_inline(e, json_object_get(content, "imageBytes"),
                       json_object_get(content, "mimeType"), NULL)
            != 0)
        {
            return -1;
        }

        if (decode_attachments(e, json_object_get(content, "attachments"))
            != 0)
        {
            return -1;
        }
    }

    if (json_is_object(gc)) {
        v = json_object_get(gc, "inlineData");

        if (json_is_object(v)
            && add_inline(e, json_object_get(v, "data"),
                          json_object_get(v, "mimeType"), NULL)
               != 0)
        {
            return -1;
        }

        if (decode_attachments(e, json_object_get(gc, "attachments")) != 0) {
            return -1;
        }
    }

    if (decode_attachments(e, json_object_get(reply, "attachments")) != 0) {
        return -1;
    }

    return decode_generated(e, json_object_get(reply, "generatedImages"));
}


static int
decode_generated(ngx_gp_element_t *e, json_t *list)
{
    size_t   i;
    json_t  *item, *img;

    if (!json_is_array(list)) {
        return 0;
    }

    for (i = 0; i < json_array_size(list); i++) {
        item = json_array_get(list, i);
        img = json_object_get(item, "image");

        if (!json_is_object(img)) {
            img = item;
        }

        if (add_inline(e, json_object_get(img, "bytesBase64Encoded"),
                       json_object_get(img, "mimeType"), NULL)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
decode_attachments(ngx_gp_element_t *e, json_t *list)
{
    size_t       i;
    json_t      *item, *data;
    const char  *mime;

    if (!json_is_array(list)) {
        return 0;
    }

    for (i = 0; i < json_array_size(list); i++) {
        item = json_array_get(list, i);
        mime = obj_str(item, "mimeType");

        if (mime == NULL
            || (strncmp(mime, "image/", 6) != 0
                && strncmp(mime, "video/", 6) != 0))
        {
            continue;
        }

        data = json_object_get(item, "data");

        if (!json_is_string(data) || json_string_length(data) == 0) {
            data = json_object_get(item, "bytesBase64Encoded");
        }

        if (add_inline(e, data, json_object_get(item, "mimeType"),
                       json_object_get(item, "name"))
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* adds an INLINE part when data is a non-empty string; 0 or -1 (memory) */

static int
add_inline(ngx_gp_element_t *e, json_t *data, json_t *mime, json_t *name)
{
    const char  *m;

    if (!json_is_string(data) || json_string_length(data) == 0) {
        return 0;
    }

    m = json_is_string(mime) ? json_string_value(mime) : NULL;

    return add_part(e, NGX_GP_PART_INLINE, json_string_value(data),
                    json_string_length(data),
                    (m && m[0]) ? m : "image/png", NULL,
                    json_is_string(name) ? json_string_value(name) : NULL);
}


static int
add_part(ngx_gp_element_t *e, int kind, const char *text, size_t len,
    const char *mime, const char *file_id, const char *name)
{
    ngx_gp_part_t  *parts, *part;

    parts = realloc(e->parts, (e->nparts + 1) * sizeof(ngx_gp_part_t));
    if (parts == NULL) {
        return -1;
    }

    e->parts = parts;
    part = &parts[e->nparts];
    memset(part, 0, sizeof(ngx_gp_part_t));
    e->nparts++;

    part->kind = kind;

    if (text) {
        part->text = ngx_gp_mem_dup(text, len);
        if (part->text == NULL) {
            return -1;
        }

        part->len = len;
    }

    if (mime) {
        part->mime = ngx_gp_str_dup(mime);
        if (part->mime == NULL) {
            return -1;
        }
    }

    if (file_id) {
        part->file_id = ngx_gp_str_dup(file_id);
        if (part->file_id == NULL) {
            return -1;
        }
    }

    if (name && name[0]) {
        part->name = ngx_gp_str_dup(name);
        if (part->name == NULL) {
            return -1;
        }
    }

    return 0;
}


static int
join_skipped(ngx_gp_element_t *e, json_t *list)
{
    size_t   i;
    json_t  *v;

    if (!json_is_array(list)) {
        return 0;
    }

    for (i = 0; i < json_array_size(list); i++) {
        v = json_array_get(list, i);

        if (!json_is_string(v) || json_string_length(v) == 0) {
            continue;
        }

        if (append_text(&e->skipped, json_string_value(v),
                        json_string_length(v), ",")
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * customerPolicyEnforcementResult.policyResults[]
 *     .modelArmorEnforcementResult.modelArmorViolation: strings are taken
 * as they are, anything else as compact JSON; several are joined by ",".
 */

static int
join_policy(ngx_gp_element_t *e, json_t *result)
{
    int      rc;
    char    *s;
    size_t   i, n;
    json_t  *list, *v;

    list = json_object_get(result, "policyResults");

    if (!json_is_array(list)) {
        return 0;
    }

    for (i = 0; i < json_array_size(list); i++) {
        v = json_object_get(json_array_get(list, i),
                            "modelArmorEnforcementResult");
        v = json_object_get(v, "modelArmorViolation");

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        if (json_is_string(v)) {
            if (append_text(&e->policy, json_string_value(v),
                            json_string_length(v), ",")
                != 0)
            {
                return -1;
            }

            continue;
        }

        s = dump_compact(v, &n);
        if (s == NULL) {
            return -1;
        }

        rc = append_text(&e->policy, s, n, ",");

        free(s);

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


static int
append_text(char **dst, const char *p, size_t len, const char *sep)
{
    char    *s;
    size_t   old, seplen;

    old = *dst ? strlen(*dst) : 0;
    seplen = *dst ? strlen(sep) : 0;

    s = realloc(*dst, old + seplen + len + 1);
    if (s == NULL) {
        return -1;
    }

    memcpy(s + old, sep, seplen);
    memcpy(s + old + seplen, p, len);
    s[old + seplen + len] = '\0';

    *dst = s;

    return 0;
}


static void
gerror_fill(json_t *err, ngx_gp_gerror_t *e)
{
    size_t       i;
    json_t      *v, *details;
    const char  *s;

    v = json_object_get(err, "code");

    if (json_is_integer(v)) {
        e->code = (int) json_integer_value(v);

    } else if (json_is_string(v)) {
        e->code = atoi(json_string_value(v));
    }

    s = obj_str(err, "status");
    if (s && s[0]) {
        e->status = ngx_gp_str_dup(s);
    }

    v = json_object_get(err, "message");
    if (json_is_string(v)) {
        e->message = ngx_gp_mem_dup(json_string_value(v),
                                    json_string_length(v));
    }

    details = json_object_get(err, "details");

    if (json_is_array(details)) {
        for (i = 0; i < json_array_size(details); i++) {
            s = obj_str(json_array_get(details, i), "reason");

            if (s && s[0]) {
                e->reason = ngx_gp_str_dup(s);
                break;
            }
        }
    }
}


/* general helpers */

static const char *
skip_xssi(const char *p, size_t *len)
{
    size_t  n;

    if (p == NULL) {
        *len = 0;
        return "";
    }

    n = *len;

    while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        n--;
    }

    if (n >= sizeof(GP_XSSI) - 1
        && memcmp(p, GP_XSSI, sizeof(GP_XSSI) - 1) == 0)
    {
        p += sizeof(GP_XSSI) - 1;
        n -= sizeof(GP_XSSI) - 1;
    }

    *len = n;

    return p;
}


static json_t *
load_object(const char *body, size_t len)
{
    json_t        *root;
    json_error_t   jerr;

    if (body == NULL) {
        return NULL;
    }

    /* texts are taken with their lengths: "\u0000" does no harm */

    root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }

    return root;
}


static const char *
obj_str(json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}


/* json_dump_callback() into an ngx_gp_buf_t */

static int
dump_cb(const char *buffer, size_t size, void *data)
{
    ngx_gp_buf_t  *b = data;

    ngx_gp_buf_add(b, buffer, size);

    return b->failed ? -1 : 0;
}


/*
 * A JSON string of prefix and s the way Python's json.dumps() writes it
 * with ensure_ascii: \" \\ \n \r \t \b \f, other controls and all
 * non-ASCII as lowercase \uXXXX (surrogate pairs above U+FFFF).
 * Returns -1 on invalid UTF-8 (memory: b->failed).
 */

static int
out_ascii_str(ngx_gp_buf_t *b, const char *prefix, const char *s)
{
    char                  esc[16];
    size_t                n, k;
    uint32_t              cp;
    const unsigned char  *p, *end;

    ngx_gp_buf_lit(b, "\"");
    ngx_gp_buf_add(b, prefix, strlen(prefix));

    p = (const unsigned char *) s;
    end = p + strlen(s);

    while (p < end && !b->failed) {

        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            ngx_gp_buf_add(b, (const char *) p++, 1);
            continue;
        }

        n = ngx_gp_utf8_seq(p, (size_t) (end - p));
        if (n == 0) {
            return -1;
        }

        switch (*p) {

        case '"':
            k = (size_t) snprintf(esc, sizeof(esc), "\\\"");
            break;

        case '\\':
            k = (size_t) snprintf(esc, sizeof(esc), "\\\\");
            break;

        case '\n':
            k = (size_t) snprintf(esc, sizeof(esc), "\\n");
            break;

        case '\r':
            k = (size_t) snprintf(esc, sizeof(esc), "\\r");
            break;

        case '\t':
            k = (size_t) snprintf(esc, sizeof(esc), "\\t");
            break;

        case '\b':
            k = (size_t) snprintf(esc, sizeof(esc), "\\b");
            break;

        case '\f':
            k = (size_t) snprintf(esc, sizeof(esc), "\\f");
            break;

        default:
            cp = ngx_gp_utf8_cp(p, n);

            if (cp < 0x10000) {
                k = (size_t) snprintf(esc, sizeof(esc), "\\u%04x",
                                      (unsigned) cp);

            } else {
                cp -= 0x10000;
                k = (size_t) snprintf(esc, sizeof(esc), "\\u%04x\\u%04x",
                                      (unsigned) (0xd800 + (cp >> 10)),
                                      (unsigned) (0xdc00 + (cp & 0x3ff)));
            }

            break;
        }

        ngx_gp_buf_add(b, esc, k);
        p += n;
    }

    ngx_gp_buf_lit(b, "\"");

    return 0;
}


/* compact JSON into one malloc'ed, NUL-terminated buffer */

static char *
dump_compact(json_t *json, size_t *len)
{
    ngx_gp_buf_t  b;

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    if (json_dump_callback(json, dump_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY)
        != 0)
    {
        free(b.p);
        return NULL;
    }

    return ngx_gp_buf_finish(&b, len);
}


static char *
dump_and_release(json_t *json, size_t *len)
{
    char  *p;

    if (json == NULL) {
        return NULL;
    }

    p = dump_compact(json, len);

    json_decref(json);

    return p;
}
