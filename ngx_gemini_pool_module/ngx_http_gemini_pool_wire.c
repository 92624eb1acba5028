
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
#include "ngx_http_gemini_pool_openai.h"


#define GP_XSSI          ")]}'"
#define GP_ERROR_PREFIX  200

#define GP_ISS  "https://business.gemini.google"
#define GP_AUD  "https://biz-discoveryengine.googleapis.com"

#define out_lit(out, s)  dump_cb(s, sizeof(s) - 1, out)
#define buf_lit(b, s)    ngx_gp_buf_add(b, s, sizeof(s) - 1)
#define buf_cstr(b, s)   ngx_gp_buf_str(b, s, strlen(s))


typedef struct {
    char            *p;
    size_t           len;
    size_t           cap;
} gp_out_t;


static const char  b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char  b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static char *b64_encode(const unsigned char *p, size_t len,
    const char *alphabet, int pad, size_t *out_len);
static int b64_value(unsigned char c);
static int fast_session(const char *p, size_t len, char **name);
static char *str_dup(const char *s);
static char *mem_dup(const char *p, size_t len);
static const char *mem_find(const char *p, size_t len, const char *s);
static size_t utf8_seq(const unsigned char *p, size_t n);
static char *utf8_sanitize(const char *p, size_t len, size_t *out_len);
static const char *skip_xssi(const char *p, size_t *len);
static json_t *load_object(const char *body, size_t len);
static int dump_cb(const char *buffer, size_t size, void *data);
static int out_ascii_str(gp_out_t *out, const char *prefix, const char *s);
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


/* base64 */

char *
ngx_gp_base64url_encode(const unsigned char *p, size_t len, size_t *out_len)
{
    return b64_encode(p, len, b64_url, 0, out_len);
}


unsigned char *
ngx_gp_base64_decode_any(const char *p, size_t len, size_t *out_len)
{
    int             v, pad;
    size_t          i, n, o;
    uint32_t        acc;
    unsigned char  *out, c;

    if (len > SIZE_MAX - 4) {
        return NULL;
    }

    out = malloc(len / 4 * 3 + 4);
    if (out == NULL) {
        return NULL;
    }

    acc = 0;
    n = 0;
    o = 0;
    pad = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) p[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }

        if (c == '=') {
            pad++;
            continue;
        }

        v = b64_value(c);

        if (v < 0 || pad) {
            /* a foreign byte, or data after the padding */
            goto invalid;
        }

        acc = (acc << 6) | (uint32_t) v;
        n++;

        if (n % 4 == 0) {
            out[o++] = (unsigned char) (acc >> 16);
            out[o++] = (unsigned char) (acc >> 8);
            out[o++] = (unsigned char) acc;
            acc = 0;
        }
    }

    switch (n % 4) {

    case 1:
        goto invalid;

    case 2:
        out[o++] = (unsigned char) (acc >> 4);
        break;

    case 3:
        out[o++] = (unsigned char) (acc >> 10);
        out[o++] = (unsigned char) (acc >> 2);
        break;
    }

    /*
     * like Python's decoder after re-padding: partial padding is fine,
     * padding where nothing is missing is not
     */

    if (pad > 2 || (pad && n % 4 == 0)) {
        goto invalid;
    }

    out[o] = '\0';

    if (out_len) {
        *out_len = o;
    }

    return out;

invalid:

    free(out);

    return NULL;
}


/* getoxsrf and the JWT */

int
ngx_gp_xsrf_parse(const char *body, size_t len, char **key_id,
    char **xsrf_token, const char **err)
{
    json_t      *root;
    const char  *kid, *token;

    *key_id = NULL;
    *xsrf_token = NULL;

    body = skip_xssi(body, &len);

    root = load_object(body, len);
    if (root == NULL) {
        *err = "getoxsrf answer is not a JSON object";
        return -1;
    }

    kid = obj_str(root, "keyId");
    token = obj_str(root, "xsrfToken");

    if (kid == NULL || kid[0] == '\0') {
        *err = "getoxsrf answer has no keyId";
        goto failed;
    }

    if (token == NULL || token[0] == '\0') {
        *err = "getoxsrf answer has no xsrfToken";
        goto failed;
    }

    *key_id = str_dup(kid);
    *xsrf_token = str_dup(token);

    if (*key_id == NULL || *xsrf_token == NULL) {
        *err = "out of memory";
        free(*key_id);
        free(*xsrf_token);
        *key_id = NULL;
        *xsrf_token = NULL;
        goto failed;
    }

    json_decref(root);

    return 0;

failed:

    json_decref(root);

    return -1;
}


char *
ngx_gp_jwt_build(const char *key_id, const char *xsrf_token,
    const char *csesidx, time_t now)
{
    int             rc;
    char           *hb, *pb, *sb, *token, num[32];
    size_t          key_len, hb_len, pb_len, sb_len, n;
    gp_out_t        h, p;
    unsigned int    mac_len;
    unsigned char  *key, mac[EVP_MAX_MD_SIZE];

    if (key_id == NULL || xsrf_token == NULL || csesidx == NULL) {
        return NULL;
    }

    token = NULL;
    hb = NULL;
    pb = NULL;
    sb = NULL;

    memset(&h, 0, sizeof(gp_out_t));
    memset(&p, 0, sizeof(gp_out_t));

    key = ngx_gp_base64_decode_any(xsrf_token, strlen(xsrf_token), &key_len);
    if (key == NULL || key_len == 0 || key_len > INT_MAX) {
        goto done;
    }

    /*
     * The JSON text is written by hand to be byte for byte what Python's
     * json.dumps(separators=(",", ":")) writes, as the reference does:
     * keys in spec order, ASCII only with lowercase \u escapes.
     */

    rc = out_lit(&h, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":");
    rc |= out_ascii_str(&h, "", key_id);
    rc |= out_lit(&h, "}");

    rc |= out_lit(&p, "{\"iss\":\"" GP_ISS "\",\"aud\":\"" GP_AUD "\","
                      "\"sub\":");
    rc |= out_ascii_str(&p, "csesidx/", csesidx);

    snprintf(num, sizeof(num), "%lld", (long long) now);
    rc |= out_lit(&p, ",\"iat\":");
    rc |= dump_cb(num, strlen(num), &p);

    snprintf(num, sizeof(num), "%lld",
             (long long) now + NGX_GP_JWT_LIFETIME);
    rc |= out_lit(&p, ",\"exp\":");
    rc |= dump_cb(num, strlen(num), &p);

    snprintf(num, sizeof(num), "%lld", (long long) now);
    rc |= out_lit(&p, ",\"nbf\":");
    rc |= dump_cb(num, strlen(num), &p);
    rc |= out_lit(&p, "}");

    if (rc != 0) {
        goto done;
    }

    hb = ngx_gp_base64url_encode((unsigned char *) h.p, h.len, &hb_len);
    pb = ngx_gp_base64url_encode((unsigned char *) p.p, p.len, &pb_len);

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

    sb = ngx_gp_base64url_encode(mac, mac_len, &sb_len);
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
 * json_pack() and a dump gave; strings through the escaper of openai.c,
 * which writes invalid UTF-8 as U+FFFD.
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

    buf_lit(&b, "{\"configId\":");
    buf_cstr(&b, team_id);
    buf_lit(&b, ",\"additionalParams\":{\"token\":\"-\"},"
                "\"createSessionRequest\":{\"session\":{\"name\":");
    buf_cstr(&b, name);
    buf_lit(&b, ",\"displayName\":");
    buf_cstr(&b, name);
    buf_lit(&b, "}}}");

    return ngx_gp_buf_finish(&b, len);
}


char *
ngx_gp_body_stream_assist(const ngx_gp_assist_t *a, size_t *len)
{
    size_t         i, n;
    ngx_gp_buf_t   b;

    if (a->team_id == NULL || a->session == NULL
        || (a->text == NULL && a->text_len != 0))
    {
        return NULL;
    }

    memset(&b, 0, sizeof(ngx_gp_buf_t));

    /* the fixed part is about 500 bytes */
    ngx_gp_buf_reserve(&b, a->text_len < 65536 ? 1024 + a->text_len : 1024);

    buf_lit(&b, "{\"configId\":");
    buf_cstr(&b, a->team_id);
    buf_lit(&b, ",\"additionalParams\":{\"token\":\"-\"},"
                "\"streamAssistRequest\":{\"session\":");
    buf_cstr(&b, a->session);
    buf_lit(&b, ",\"query\":{\"parts\":[{\"text\":");
    ngx_gp_buf_str(&b, a->text ? a->text : "", a->text_len);
    buf_lit(&b, "}]},\"filter\":\"\",\"fileIds\":[");

    for (i = 0, n = 0; a->file_ids != NULL && i < a->nfile_ids; i++) {
        if (a->file_ids[i] == NULL) {
            continue;
        }

        if (n++) {
            buf_lit(&b, ",");
        }

        buf_cstr(&b, a->file_ids[i]);
    }

    buf_lit(&b, "],\"answerGenerationMode\":\"NORMAL\",\"toolsSpec\":");

    switch (a->tools) {

    case NGX_GP_TOOLS_IMAGE:
        buf_lit(&b, "{\"imageGenerationSpec\":{}}");
        break;

    case NGX_GP_TOOLS_VIDEO:
        buf_lit(&b, "{\"videoGenerationSpec\":{}}");
        break;

    default:
        buf_lit(&b, "{\"webGroundingSpec\":{},"
                    "\"toolRegistry\":\"default_tool_registry\","
                    "\"imageGenerationSpec\":{},"
                    "\"videoGenerationSpec\":{}}");
        break;
    }

    buf_lit(&b, ",\"languageCode\":");
    buf_cstr(&b, a->language_code ? a->language_code : "zh-CN");
    buf_lit(&b, ",\"userMetadata\":{\"timeZone\":");
    buf_cstr(&b, a->time_zone ? a->time_zone : "Etc/GMT-8");
    buf_lit(&b, "},\"assistSkippingMode\":\"REQUEST_ASSIST\"");

    if (a->model_id && a->model_id[0]) {
        buf_lit(&b, ",\"assistGenerationConfig\":{\"modelId\":");
        buf_cstr(&b, a->model_id);
        buf_lit(&b, "}");
    }

    buf_lit(&b, "}}");

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

    b64 = b64_encode(data, data_len, b64_std, 1, &b64_len);
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

    name = (s && s[0]) ? str_dup(s) : NULL;

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
        id = str_dup(json_string_value(v));

    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        id = str_dup(num);
    }

    json_decref(root);

    return id;
}


int
ngx_gp_gerror_parse(const char *body, size_t len, ngx_gp_gerror_t *e)
{
    int          rc;
    size_t       i, n;
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
            e->message = str_dup(json_string_value(err));
            rc = 0;

        } else if (obj_str(root, "message") || obj_str(root, "status")) {
            /* getoxsrf: {"message":"...","status":"EXPIRED_SIGN_IN"} */
            gerror_fill(root, e);
            rc = 0;
        }

        json_decref(root);
    }

    if (rc == 0 && e->message == NULL) {
        e->message = str_dup(e->status ? e->status : "unknown error");
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

        n = len < GP_ERROR_PREFIX ? len : GP_ERROR_PREFIX;

        /* do not cut a multi-byte character in two */

        for (i = 0;
             i < 3 && n > 0 && n < len
             && ((unsigned char) body[n] & 0xc0) == 0x80;
             i++)
        {
            n--;
        }

        e->message = utf8_sanitize(body, n, NULL);
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
 * A fast path for the common streamed elements (text, thoughts, state,
 * session): one pass over the bytes, no jansson tree.  It accepts only
 * what it fully understands, as strictly as jansson would parse it;
 * anything else (media, errors, policy results, duplicate keys, odd
 * numbers, bad escapes, deep nesting) returns GP_FAST_FALLBACK and the
 * element goes through the jansson path, so results never differ.
 */

#define GP_FAST_OK         0
#define GP_FAST_FALLBACK   1
#define GP_FAST_NOMEM     -1
#define GP_FAST_DEPTH     64

typedef struct {
    const char  *p;
    const char  *end;
    char        *tmp;       /* unescape buffer */
    size_t       tmp_cap;
} gp_scan_t;

typedef struct {
    const char  *s;         /* decoded bytes (into the element or tmp) */
    size_t       len;
    int          nul;       /* contains U+0000 */
} gp_str_t;


static void
fast_ws(gp_scan_t *sc)
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

#define GP_ONES             0x0101010101010101ULL
#define GP_HIGHS            0x8080808080808080ULL
#define gp_has_zero(x)      (((x) - GP_ONES) & ~(x) & GP_HIGHS)
#define gp_has_below(x, n)  (((x) - (n) * GP_ONES) & ~(x) & GP_HIGHS)

static const unsigned char *
fast_plain_run(const unsigned char *s, const unsigned char *end)
{
    uint64_t  v;

    while (end - s >= 8) {
        memcpy(&v, s, 8);

        if ((v & GP_HIGHS) | gp_has_below(v, 0x20)
            | gp_has_zero(v ^ ('"' * GP_ONES))
            | gp_has_zero(v ^ ('\\' * GP_ONES)))
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

static int
fast_string(gp_scan_t *sc, gp_str_t *out)
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
            return GP_FAST_FALLBACK;
        }

        if (*s >= 0x80) {
            n = utf8_seq(s, (size_t) (end - s));
            if (n == 0) {
                return GP_FAST_FALLBACK;
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
        return GP_FAST_OK;
    }

    /* escapes: decode the rest into tmp (never longer than the source) */

    o = NULL;

    if (out) {
        need = (size_t) (end - start) + 1;

        if (need > sc->tmp_cap) {
            o = realloc(sc->tmp, need);
            if (o == NULL) {
                return GP_FAST_NOMEM;
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
            return GP_FAST_OK;
        }

        if (*s < 0x20) {
            return GP_FAST_FALLBACK;
        }

        if (*s >= 0x80) {
            n = utf8_seq(s, (size_t) (end - s));
            if (n == 0) {
                return GP_FAST_FALLBACK;
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
            return GP_FAST_FALLBACK;
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
                return GP_FAST_FALLBACK;
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return GP_FAST_FALLBACK;          /* a lone low surrogate */
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - s < 12 || s[6] != '\\' || s[7] != 'u'
                    || fast_hex4((const char *) s + 8, &lo) != 0
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return GP_FAST_FALLBACK;
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
            return GP_FAST_FALLBACK;
        }

        if (o) {
            *o++ = (char) cp;
        }

        s += 2;
    }

    return GP_FAST_FALLBACK;
}



/* skips any value; numbers only in the plain forms jansson never refuses */

static int
fast_skip(gp_scan_t *sc, int depth)
{
    int          rc;
    char         close;
    const char  *q;

    if (depth > GP_FAST_DEPTH) {
        return GP_FAST_FALLBACK;
    }

    fast_ws(sc);

    if (sc->p >= sc->end) {
        return GP_FAST_FALLBACK;
    }

    switch (*sc->p) {

    case '"':
        return fast_string(sc, NULL);

    case '{':
    case '[':
        close = (*sc->p == '{') ? '}' : ']';
        sc->p++;
        fast_ws(sc);

        if (sc->p < sc->end && *sc->p == close) {
            sc->p++;
            return GP_FAST_OK;
        }

        for ( ;; ) {
            if (close == '}') {
                if (sc->p >= sc->end || *sc->p != '"') {
                    return GP_FAST_FALLBACK;
                }

                rc = fast_string(sc, NULL);
                if (rc != GP_FAST_OK) {
                    return rc;
                }

                fast_ws(sc);

                if (sc->p >= sc->end || *sc->p != ':') {
                    return GP_FAST_FALLBACK;
                }

                sc->p++;
            }

            rc = fast_skip(sc, depth + 1);
            if (rc != GP_FAST_OK) {
                return rc;
            }

            fast_ws(sc);

            if (sc->p < sc->end && *sc->p == ',') {
                sc->p++;
                fast_ws(sc);
                continue;
            }

            if (sc->p < sc->end && *sc->p == close) {
                sc->p++;
                return GP_FAST_OK;
            }

            return GP_FAST_FALLBACK;
        }

    case 't':
        if (sc->end - sc->p >= 4 && memcmp(sc->p, "true", 4) == 0) {
            sc->p += 4;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;

    case 'f':
        if (sc->end - sc->p >= 5 && memcmp(sc->p, "false", 5) == 0) {
            sc->p += 5;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;

    case 'n':
        if (sc->end - sc->p >= 4 && memcmp(sc->p, "null", 4) == 0) {
            sc->p += 4;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;

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
            return GP_FAST_FALLBACK;
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
                return GP_FAST_FALLBACK;
            }

            while (q < sc->end && *q >= '0' && *q <= '9') {
                q++;
            }
        }

        if (q - sc->p > 15
            || (q < sc->end && (*q == '.' || *q == 'e' || *q == 'E'
                                || (*q >= '0' && *q <= '9'))))
        {
            return GP_FAST_FALLBACK;
        }

        sc->p = q;
        return GP_FAST_OK;
    }
}


/*
 * Walks an object at sc->p: for each member cb(key) consumes the value
 * (GP_FAST_OK) or returns GP_FAST_SKIP to have it skipped.  Keys are raw
 * bytes: a key with an escape sends the element to jansson.
 */

#define GP_FAST_SKIP       2

typedef struct gp_fast_s  gp_fast_t;

typedef int (*gp_member_pt)(gp_scan_t *sc, const char *key, size_t len,
    gp_fast_t *f, int depth);

static int
fast_object(gp_scan_t *sc, gp_member_pt cb, gp_fast_t *f, int depth)
{
    int          rc;
    size_t       klen;
    const char  *key;

    if (depth > GP_FAST_DEPTH || sc->p >= sc->end || *sc->p != '{') {
        return GP_FAST_FALLBACK;
    }

    sc->p++;
    fast_ws(sc);

    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return GP_FAST_OK;
    }

    for ( ;; ) {
        if (sc->p >= sc->end || *sc->p != '"') {
            return GP_FAST_FALLBACK;
        }

        key = sc->p + 1;
        rc = fast_string(sc, NULL);
        if (rc != GP_FAST_OK) {
            return rc;
        }

        klen = (size_t) (sc->p - 1 - key);

        if (memchr(key, '\\', klen) != NULL) {
            return GP_FAST_FALLBACK;
        }

        fast_ws(sc);

        if (sc->p >= sc->end || *sc->p != ':') {
            return GP_FAST_FALLBACK;
        }

        sc->p++;
        fast_ws(sc);

        rc = cb(sc, key, klen, f, depth + 1);

        if (rc == GP_FAST_SKIP) {
            rc = fast_skip(sc, depth + 1);
        }

        if (rc != GP_FAST_OK) {
            return rc;
        }

        fast_ws(sc);

        if (sc->p < sc->end && *sc->p == ',') {
            sc->p++;
            fast_ws(sc);
            continue;
        }

        if (sc->p < sc->end && *sc->p == '}') {
            sc->p++;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;
    }
}


#define fast_key(k, n, lit)                                                  \
    ((n) == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

#define fast_peek(sc)  ((sc)->p < (sc)->end ? *(sc)->p : '\0')

/* a key seen twice: jansson keeps the last one, let it decide */
#define fast_once(flag)                                                      \
    do {                                                                     \
        if (flag) {                                                          \
            return GP_FAST_FALLBACK;                                         \
        }                                                                    \
        flag = 1;                                                            \
    } while (0)


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

    /* a chat request (ngx_gp_chat_req_fast()) */
    ngx_gp_chat_req_t *req;
    size_t             nalloc;      /* messages allocated */
    unsigned           req_model:1;
    unsigned           req_stream:1;
    unsigned           req_options:1;
    unsigned           req_usage:1;
    unsigned           req_conv:1;
    unsigned           req_format:1;
    unsigned           req_messages:1;
    unsigned           msg_role:1;
    unsigned           msg_content:1;
};


/* json_is_true(): only the literal true counts, anything else is skipped */

static int
fast_true(gp_scan_t *sc, gp_fast_t *f)
{
    if (sc->end - sc->p >= 4 && memcmp(sc->p, "true", 4) == 0) {
        sc->p += 4;
        f->thought = 1;
        return GP_FAST_OK;
    }

    return GP_FAST_SKIP;
}


static int
fast_content(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    int       rc;
    gp_str_t  s;

    if (fast_key(k, n, "text")) {
        fast_once(f->content_text);

        if (fast_peek(sc) != '"') {
            return GP_FAST_SKIP;
        }

        /* only this string of the reply is decoded: tmp stays valid */
        rc = fast_string(sc, &s);
        if (rc != GP_FAST_OK) {
            return rc;
        }

        f->text = s.s;
        f->text_len = s.len;
        f->has_text = 1;
        return GP_FAST_OK;
    }

    if (fast_key(k, n, "thought")) {
        fast_once(f->content_thought);
        return fast_true(sc, f);
    }

    if (fast_key(k, n, "file") || fast_key(k, n, "inlineData")
        || fast_key(k, n, "imageBytes") || fast_key(k, n, "attachments"))
    {
        return GP_FAST_FALLBACK;
    }

    return GP_FAST_SKIP;
}


static int
fast_grounded(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    if (fast_key(k, n, "content")) {
        fast_once(f->gc_content);

        if (fast_peek(sc) != '{') {
            return GP_FAST_SKIP;
        }

        return fast_object(sc, fast_content, f, depth);
    }

    if (fast_key(k, n, "inlineData") || fast_key(k, n, "attachments")) {
        return GP_FAST_FALLBACK;
    }

    return GP_FAST_SKIP;
}


static int
fast_reply(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f, int depth)
{
    if (fast_key(k, n, "groundedContent")) {
        fast_once(f->reply_gc);

        if (fast_peek(sc) != '{') {
            return GP_FAST_SKIP;
        }

        return fast_object(sc, fast_grounded, f, depth);
    }

    if (fast_key(k, n, "thought")) {
        fast_once(f->reply_thought);
        return fast_true(sc, f);
    }

    if (fast_key(k, n, "attachments") || fast_key(k, n, "generatedImages")) {
        return GP_FAST_FALLBACK;
    }

    return GP_FAST_SKIP;
}


static int
fast_replies(gp_scan_t *sc, gp_fast_t *f, int depth)
{
    int  rc;

    if (depth > GP_FAST_DEPTH) {
        return GP_FAST_FALLBACK;
    }

    sc->p++;                                    /* '[' */
    fast_ws(sc);

    if (fast_peek(sc) == ']') {
        sc->p++;
        return GP_FAST_OK;
    }

    for ( ;; ) {

        if (fast_peek(sc) == '{') {
            f->reply_gc = 0;
            f->reply_thought = 0;
            f->gc_content = 0;
            f->content_text = 0;
            f->content_thought = 0;
            f->thought = 0;
            f->has_text = 0;

            rc = fast_object(sc, fast_reply, f, depth + 1);
            if (rc != GP_FAST_OK) {
                return rc;
            }

            /* a text is only taken from an object "content" */
            if (f->has_text && f->text_len > 0) {
                if (add_part(f->e, f->thought ? NGX_GP_PART_THOUGHT
                                              : NGX_GP_PART_TEXT,
                             f->text, f->text_len, NULL, NULL, NULL)
                    != 0)
                {
                    return GP_FAST_NOMEM;
                }
            }

        } else {
            rc = fast_skip(sc, depth + 1);      /* not an object: ignored */
            if (rc != GP_FAST_OK) {
                return rc;
            }
        }

        fast_ws(sc);

        if (fast_peek(sc) == ',') {
            sc->p++;
            fast_ws(sc);
            continue;
        }

        if (fast_peek(sc) == ']') {
            sc->p++;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;
    }
}


static int
fast_answer(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    int       rc;
    gp_str_t  s;

    if (fast_key(k, n, "state")) {
        fast_once(f->answer_state);

        if (fast_peek(sc) != '"') {
            return GP_FAST_SKIP;
        }

        rc = fast_string(sc, &s);
        if (rc != GP_FAST_OK) {
            return rc;
        }

        if (s.nul) {
            return GP_FAST_FALLBACK;
        }

        f->e->state = fast_key(s.s, s.len, "IN_PROGRESS")
                      ? NGX_GP_STATE_IN_PROGRESS
                      : fast_key(s.s, s.len, "SUCCEEDED")
                      ? NGX_GP_STATE_SUCCEEDED
                      : fast_key(s.s, s.len, "SKIPPED")
                      ? NGX_GP_STATE_SKIPPED
                      : fast_key(s.s, s.len, "FAILED")
                      ? NGX_GP_STATE_FAILED : NGX_GP_STATE_OTHER;
        return GP_FAST_OK;
    }

    if (fast_key(k, n, "replies")) {
        fast_once(f->answer_replies);

        if (fast_peek(sc) != '[') {
            return GP_FAST_SKIP;
        }

        return fast_replies(sc, f, depth);
    }

    if (fast_key(k, n, "assistSkippedReasons")
        || fast_key(k, n, "customerPolicyEnforcementResult")
        || fast_key(k, n, "generatedImages"))
    {
        return GP_FAST_FALLBACK;
    }

    return GP_FAST_SKIP;
}


static int
fast_session_info(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    int       rc;
    gp_str_t  s;

    if (!fast_key(k, n, "session")) {
        return GP_FAST_SKIP;
    }

    fast_once(f->info_session);

    if (fast_peek(sc) != '"') {
        return GP_FAST_SKIP;
    }

    rc = fast_string(sc, &s);
    if (rc != GP_FAST_OK) {
        return rc;
    }

    if (s.nul) {
        return GP_FAST_FALLBACK;
    }

    if (s.len) {
        f->e->session = mem_dup(s.s, s.len);
        if (f->e->session == NULL) {
            return GP_FAST_NOMEM;
        }
    }

    return GP_FAST_OK;
}


static int
fast_sar(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f, int depth)
{
    if (fast_key(k, n, "sessionInfo")) {
        fast_once(f->sar_info);

        if (fast_peek(sc) != '{') {
            return GP_FAST_SKIP;
        }

        return fast_object(sc, fast_session_info, f, depth);
    }

    if (fast_key(k, n, "answer")) {
        fast_once(f->sar_answer);

        if (fast_peek(sc) != '{') {
            return GP_FAST_SKIP;
        }

        return fast_object(sc, fast_answer, f, depth);
    }

    if (fast_key(k, n, "generatedImages")) {
        return GP_FAST_FALLBACK;
    }

    return GP_FAST_SKIP;
}


static int
fast_root(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f, int depth)
{
    if (fast_key(k, n, "error")) {
        return GP_FAST_FALLBACK;
    }

    if (fast_key(k, n, "streamAssistResponse")) {
        fast_once(f->root_sar);

        if (fast_peek(sc) != '{') {
            return GP_FAST_SKIP;
        }

        return fast_object(sc, fast_sar, f, depth);
    }

    return GP_FAST_SKIP;
}


/* GP_FAST_OK: e is complete; otherwise the caller frees e and falls back */

static int
fast_decode(const char *p, size_t len, ngx_gp_element_t *e)
{
    int         rc;
    gp_scan_t   sc;
    gp_fast_t   f;

    sc.p = p;
    sc.end = p + len;
    sc.tmp = NULL;
    sc.tmp_cap = 0;

    memset(&f, 0, sizeof(gp_fast_t));
    f.e = e;
    e->state = NGX_GP_STATE_NONE;

    fast_ws(&sc);
    rc = fast_object(&sc, fast_root, &f, 0);

    if (rc == GP_FAST_OK) {
        fast_ws(&sc);

        if (sc.p != sc.end) {
            rc = GP_FAST_FALLBACK;
        }
    }

    free(sc.tmp);

    return rc;
}


/* the createSession answer {"session":{"name":...}} the same way */

static int
fast_session_name(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    if (!fast_key(k, n, "name")) {
        return GP_FAST_SKIP;
    }

    /* a name that is not a string gives no session, as obj_str() */
    return fast_session_info(sc, "session", sizeof("session") - 1, f, depth);
}


static int
fast_session_root(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    if (!fast_key(k, n, "session")) {
        return GP_FAST_SKIP;
    }

    fast_once(f->sar_info);

    if (fast_peek(sc) != '{') {
        return GP_FAST_SKIP;
    }

    return fast_object(sc, fast_session_name, f, depth);
}


/*
 * 1: decided, *name is the malloc'ed non-empty session.name or NULL;
 * 0: let jansson decide; -1: out of memory
 */

static int
fast_session(const char *p, size_t len, char **name)
{
    int                rc;
    gp_scan_t          sc;
    gp_fast_t          f;
    ngx_gp_element_t   e;

    sc.p = p;
    sc.end = p + len;
    sc.tmp = NULL;
    sc.tmp_cap = 0;

    memset(&e, 0, sizeof(ngx_gp_element_t));
    memset(&f, 0, sizeof(gp_fast_t));
    f.e = &e;

    fast_ws(&sc);
    rc = fast_object(&sc, fast_session_root, &f, 0);

    if (rc == GP_FAST_OK) {
        fast_ws(&sc);

        if (sc.p != sc.end) {
            rc = GP_FAST_FALLBACK;
        }
    }

    free(sc.tmp);

    if (rc == GP_FAST_OK) {
        *name = e.session;
        return 1;
    }

    free(e.session);
    *name = NULL;

    return rc == GP_FAST_NOMEM ? -1 : 0;
}


/*
 * The common /v1/chat/completions bodies the same way: "model", "stream",
 * "stream_options", "conversation_id", "image_format" and "messages" whose
 * contents are strings or null; other members are skipped as jansson's
 * reading ignores them.  Content parts, "prompts", duplicate members,
 * unknown roles, a missing user message and every error go to jansson,
 * which gives the same result or the error.
 */

static int
fast_req_dup(gp_scan_t *sc, char **dst, size_t *len, int empty_null)
{
    gp_str_t  str;

    if (fast_peek(sc) == 'n') {
        if (sc->end - sc->p >= 4 && memcmp(sc->p, "null", 4) == 0) {
            sc->p += 4;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;
    }

    if (fast_peek(sc) != '"' || fast_string(sc, &str) != GP_FAST_OK) {
        return GP_FAST_FALLBACK;
    }

    if (len) {
        *len = str.len;
    }

    if (str.len == 0 && empty_null) {
        return GP_FAST_OK;
    }

    *dst = malloc(str.len + 1);
    if (*dst == NULL) {
        return GP_FAST_NOMEM;
    }

    memcpy(*dst, str.s, str.len);
    (*dst)[str.len] = '\0';

    return GP_FAST_OK;
}


static int
fast_req_bool(gp_scan_t *sc, int *dst)
{
    if (sc->end - sc->p >= 4 && memcmp(sc->p, "true", 4) == 0) {
        sc->p += 4;
        *dst = 1;
        return GP_FAST_OK;
    }

    if (sc->end - sc->p >= 5 && memcmp(sc->p, "false", 5) == 0) {
        sc->p += 5;
        *dst = 0;
        return GP_FAST_OK;
    }

    if (sc->end - sc->p >= 4 && memcmp(sc->p, "null", 4) == 0) {
        sc->p += 4;
        return GP_FAST_OK;
    }

    return GP_FAST_FALLBACK;
}


static int
fast_req_options(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    if (!fast_key(k, n, "include_usage")) {
        return GP_FAST_SKIP;
    }

    fast_once(f->req_usage);

    return fast_req_bool(sc, &f->req->include_usage);
}


static int
fast_req_message(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    int                rc;
    gp_str_t           str;
    ngx_gp_message_t  *m;

    m = &f->req->messages[f->req->nmessages - 1];

    if (fast_key(k, n, "role")) {
        fast_once(f->msg_role);

        if (fast_peek(sc) != '"' || fast_string(sc, &str) != GP_FAST_OK) {
            return GP_FAST_FALLBACK;
        }

        if (fast_key(str.s, str.len, "user")) {
            m->role = NGX_GP_ROLE_USER;

        } else if (fast_key(str.s, str.len, "assistant")) {
            m->role = NGX_GP_ROLE_ASSISTANT;

        } else if (fast_key(str.s, str.len, "system")
                   || fast_key(str.s, str.len, "developer"))
        {
            m->role = NGX_GP_ROLE_SYSTEM;

        } else if (fast_key(str.s, str.len, "tool")
                   || fast_key(str.s, str.len, "function"))
        {
            m->role = NGX_GP_ROLE_TOOL;

        } else {
            return GP_FAST_FALLBACK;
        }

        return GP_FAST_OK;
    }

    if (fast_key(k, n, "content")) {
        fast_once(f->msg_content);

        rc = fast_req_dup(sc, &m->text, &m->len, 0);
        if (rc == GP_FAST_OK && m->text == NULL) {
            m->len = 0;     /* null */
        }

        return rc;
    }

    return GP_FAST_SKIP;
}


static int
fast_req_messages(gp_scan_t *sc, gp_fast_t *f, int depth)
{
    int                 rc;
    size_t              cap;
    ngx_gp_chat_req_t  *req;
    ngx_gp_message_t   *m;

    req = f->req;

    if (fast_peek(sc) != '[') {
        return GP_FAST_FALLBACK;
    }

    sc->p++;
    fast_ws(sc);

    for ( ;; ) {
        if (req->nmessages == f->nalloc) {
            cap = f->nalloc ? f->nalloc * 2 : 8;

            m = realloc(req->messages, cap * sizeof(ngx_gp_message_t));
            if (m == NULL) {
                return GP_FAST_NOMEM;
            }

            memset(m + f->nalloc, 0,
                   (cap - f->nalloc) * sizeof(ngx_gp_message_t));
            req->messages = m;
            f->nalloc = cap;
        }

        req->nmessages++;
        f->msg_role = 0;
        f->msg_content = 0;

        rc = fast_object(sc, fast_req_message, f, depth);
        if (rc != GP_FAST_OK) {
            return rc;
        }

        m = &req->messages[req->nmessages - 1];

        if (!f->msg_role) {
            return GP_FAST_FALLBACK;
        }

        if (m->text == NULL) {
            m->text = malloc(1);
            if (m->text == NULL) {
                return GP_FAST_NOMEM;
            }

            m->text[0] = '\0';
        }

        fast_ws(sc);

        if (fast_peek(sc) == ',') {
            sc->p++;
            fast_ws(sc);
            continue;
        }

        if (fast_peek(sc) == ']') {
            sc->p++;
            return GP_FAST_OK;
        }

        return GP_FAST_FALLBACK;
    }
}


static int
fast_req_root(gp_scan_t *sc, const char *k, size_t n, gp_fast_t *f,
    int depth)
{
    ngx_gp_chat_req_t  *req;

    req = f->req;

    switch (n) {

    case 5:
        if (fast_key(k, n, "model")) {
            fast_once(f->req_model);
            return fast_req_dup(sc, &req->model, NULL, 1);
        }

        break;

    case 6:
        if (fast_key(k, n, "stream")) {
            fast_once(f->req_stream);
            return fast_req_bool(sc, &req->stream);
        }

        break;

    case 7:
        if (fast_key(k, n, "prompts")) {
            return GP_FAST_FALLBACK;
        }

        break;

    case 8:
        if (fast_key(k, n, "messages")) {
            fast_once(f->req_messages);
            return fast_req_messages(sc, f, depth);
        }

        break;

    case 12:
        if (fast_key(k, n, "image_format")) {
            fast_once(f->req_format);
            return fast_req_dup(sc, &req->image_format, NULL, 0);
        }

        break;

    case 14:
        if (fast_key(k, n, "stream_options")) {
            fast_once(f->req_options);

            if (fast_peek(sc) == '{') {
                return fast_object(sc, fast_req_options, f, depth);
            }

            if (sc->end - sc->p >= 4 && memcmp(sc->p, "null", 4) == 0) {
                sc->p += 4;
                return GP_FAST_OK;
            }

            return GP_FAST_FALLBACK;
        }

        break;

    case 15:
        if (fast_key(k, n, "conversation_id")) {
            fast_once(f->req_conv);
            return fast_req_dup(sc, &req->conversation_id, NULL, 0);
        }

        break;
    }

    return GP_FAST_SKIP;
}


int
ngx_gp_chat_req_fast(const char *body, size_t len, ngx_gp_chat_req_t *req)
{
    int         rc;
    size_t      i;
    gp_scan_t   sc;
    gp_fast_t   f;

    if (body == NULL) {
        return 1;
    }

    sc.p = body;
    sc.end = body + len;
    sc.tmp = NULL;
    sc.tmp_cap = 0;

    memset(&f, 0, sizeof(gp_fast_t));
    f.req = req;

    fast_ws(&sc);
    rc = fast_object(&sc, fast_req_root, &f, 0);

    if (rc == GP_FAST_OK) {
        fast_ws(&sc);

        if (sc.p != sc.end) {
            rc = GP_FAST_FALLBACK;
        }
    }

    free(sc.tmp);

    if (rc == GP_FAST_NOMEM) {
        return -1;
    }

    if (rc != GP_FAST_OK) {
        return 1;
    }

    for (i = 0; i < req->nmessages; i++) {
        if (req->messages[i].role == NGX_GP_ROLE_USER) {
            return 0;
        }
    }

    return 1;
}


/* streamed elements */

int
ngx_gp_element_decode(const char *p, size_t len, ngx_gp_element_t *e,
    const char **err)
{
    json_t  *root, *v, *sar;

    memset(e, 0, sizeof(ngx_gp_element_t));

    switch (fast_decode(p, len, e)) {

    case GP_FAST_OK:
        return 0;

    case GP_FAST_NOMEM:
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
            e->error.message = str_dup(e->error.status ? e->error.status
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
            e->session = str_dup(json_string_value(v));
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


size_t
ngx_gp_strip_artefacts(char *p, size_t len)
{
    char        *w, *r, *end, *eol, *next;
    const char  *m;

    static const char  nano[] = "Image generated by Nano Banana Pro";
    static const char  size[] = "<ctrl46>Image size:";

    r = p;
    w = p;
    end = p + len;

    while (r < end) {
        eol = memchr(r, '\n', (size_t) (end - r));
        next = eol ? eol + 1 : end;

        if (eol == NULL) {
            eol = end;
        }

        if (mem_find(r, (size_t) (eol - r), nano) != NULL) {
            /* the whole line goes, with its newline */
            r = next;
            continue;
        }

        m = mem_find(r, (size_t) (eol - r), size);

        if (m == r) {
            r = next;
            continue;
        }

        if (m != NULL) {
            /* glued to the end of a text line: drop the marker's tail */
            memmove(w, r, (size_t) (m - r));
            w += m - r;
            memmove(w, eol, (size_t) (next - eol));
            w += next - eol;
            r = next;
            continue;
        }

        memmove(w, r, (size_t) (next - r));
        w += next - r;
        r = next;
    }

    return (size_t) (w - p);
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
        part->text = mem_dup(text, len);
        if (part->text == NULL) {
            return -1;
        }

        part->len = len;
    }

    if (mime) {
        part->mime = str_dup(mime);
        if (part->mime == NULL) {
            return -1;
        }
    }

    if (file_id) {
        part->file_id = str_dup(file_id);
        if (part->file_id == NULL) {
            return -1;
        }
    }

    if (name && name[0]) {
        part->name = str_dup(name);
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
        e->status = str_dup(s);
    }

    v = json_object_get(err, "message");
    if (json_is_string(v)) {
        e->message = mem_dup(json_string_value(v), json_string_length(v));
    }

    details = json_object_get(err, "details");

    if (json_is_array(details)) {
        for (i = 0; i < json_array_size(details); i++) {
            s = obj_str(json_array_get(details, i), "reason");

            if (s && s[0]) {
                e->reason = str_dup(s);
                break;
            }
        }
    }
}


/* general helpers */

static char *
b64_encode(const unsigned char *p, size_t len, const char *alphabet,
    int pad, size_t *out_len)
{
    char      *out, *o;
    size_t     i, rest;
    uint32_t   v;

    if (len > (SIZE_MAX - 8) / 4 * 3) {
        return NULL;
    }

    out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    for (i = 0; i + 2 < len; i += 3) {
        v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8) | p[i + 2];

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];
        *o++ = alphabet[(v >> 6) & 0x3f];
        *o++ = alphabet[v & 0x3f];
    }

    rest = len - i;

    if (rest == 1) {
        v = (uint32_t) p[i] << 16;

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];

        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }

    } else if (rest == 2) {
        v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8);

        *o++ = alphabet[(v >> 18) & 0x3f];
        *o++ = alphabet[(v >> 12) & 0x3f];
        *o++ = alphabet[(v >> 6) & 0x3f];

        if (pad) {
            *o++ = '=';
        }
    }

    *o = '\0';

    if (out_len) {
        *out_len = (size_t) (o - out);
    }

    return out;
}


static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+' || c == '-') {
        return 62;
    }

    if (c == '/' || c == '_') {
        return 63;
    }

    return -1;
}


static char *
str_dup(const char *s)
{
    return s ? mem_dup(s, strlen(s)) : NULL;
}


static char *
mem_dup(const char *p, size_t len)
{
    char  *s;

    if (len == SIZE_MAX) {
        return NULL;
    }

    s = malloc(len + 1);
    if (s == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(s, p, len);
    }

    s[len] = '\0';

    return s;
}


static const char *
mem_find(const char *p, size_t len, const char *s)
{
    size_t       n;
    const char  *end;

    n = strlen(s);

    if (n > len) {
        return NULL;
    }

    end = p + len - n;

    for ( /* void */ ; p <= end; p++) {
        p = memchr(p, s[0], (size_t) (end - p) + 1);

        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }

    return NULL;
}


/* length of the valid UTF-8 sequence at p, or 0 */

static size_t
utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char  c, lo, hi;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    if (c < 0xc2 || c > 0xf4) {
        return 0;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c < 0xe0) {
        return (n >= 2 && p[1] >= lo && p[1] <= hi) ? 2 : 0;
    }

    if (c == 0xe0) {
        lo = 0xa0;

    } else if (c == 0xed) {
        hi = 0x9f;

    } else if (c == 0xf0) {
        lo = 0x90;

    } else if (c == 0xf4) {
        hi = 0x8f;
    }

    if (n < 2 || p[1] < lo || p[1] > hi) {
        return 0;
    }

    if (c < 0xf0) {
        return (n >= 3 && (p[2] & 0xc0) == 0x80) ? 3 : 0;
    }

    return (n >= 4 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80)
           ? 4 : 0;
}


/* a malloc'ed copy where every invalid byte (and NUL) becomes U+FFFD */

static char *
utf8_sanitize(const char *p, size_t len, size_t *out_len)
{
    char                 *out, *o;
    size_t                n;
    const unsigned char  *s, *end;

    if (len > (SIZE_MAX - 1) / 3) {
        return NULL;
    }

    out = malloc(len * 3 + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;
    s = (const unsigned char *) p;
    end = s + len;

    while (s < end) {
        n = (*s == '\0') ? 0 : utf8_seq(s, (size_t) (end - s));

        if (n == 0) {
            *o++ = (char) 0xef;
            *o++ = (char) 0xbf;
            *o++ = (char) 0xbd;
            s++;
            continue;
        }

        memcpy(o, s, n);
        o += n;
        s += n;
    }

    *o = '\0';

    if (out_len) {
        *out_len = (size_t) (o - out);
    }

    return out;
}


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


static int
dump_cb(const char *buffer, size_t size, void *data)
{
    char      *p;
    size_t     cap;
    gp_out_t  *out;

    out = data;

    if (out->len + size + 1 > out->cap) {
        cap = out->cap ? out->cap : 1024;

        while (cap < out->len + size + 1) {
            if (cap > SIZE_MAX / 2) {
                return -1;
            }

            cap *= 2;
        }

        p = realloc(out->p, cap);
        if (p == NULL) {
            return -1;
        }

        out->p = p;
        out->cap = cap;
    }

    memcpy(out->p + out->len, buffer, size);
    out->len += size;

    return 0;
}


/*
 * A JSON string of prefix and s the way Python's json.dumps() writes it
 * with ensure_ascii: \" \\ \n \r \t \b \f, other controls and all
 * non-ASCII as lowercase \uXXXX (surrogate pairs above U+FFFF).
 * Returns -1 on invalid UTF-8 or memory.
 */

static int
out_ascii_str(gp_out_t *out, const char *prefix, const char *s)
{
    int                   rc;
    char                  esc[16];
    size_t                n, k;
    uint32_t              cp;
    const unsigned char  *p, *end;

    rc = out_lit(out, "\"");
    rc |= dump_cb(prefix, strlen(prefix), out);

    p = (const unsigned char *) s;
    end = p + strlen(s);

    while (p < end && rc == 0) {

        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            rc = dump_cb((const char *) p++, 1, out);
            continue;
        }

        n = utf8_seq(p, (size_t) (end - p));
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
            if (n == 1) {
                cp = *p;

            } else if (n == 2) {
                cp = ((uint32_t) (p[0] & 0x1f) << 6) | (p[1] & 0x3f);

            } else if (n == 3) {
                cp = ((uint32_t) (p[0] & 0x0f) << 12)
                     | ((uint32_t) (p[1] & 0x3f) << 6) | (p[2] & 0x3f);

            } else {
                cp = ((uint32_t) (p[0] & 0x07) << 18)
                     | ((uint32_t) (p[1] & 0x3f) << 12)
                     | ((uint32_t) (p[2] & 0x3f) << 6) | (p[3] & 0x3f);
            }

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

        rc = dump_cb(esc, k, out);
        p += n;
    }

    return rc | out_lit(out, "\"");
}


/* compact JSON into one malloc'ed, NUL-terminated buffer */

static char *
dump_compact(json_t *json, size_t *len)
{
    gp_out_t  out;

    out.p = NULL;
    out.len = 0;
    out.cap = 0;

    if (json_dump_callback(json, dump_cb, &out, JSON_COMPACT | JSON_ENCODE_ANY)
        != 0
        || out.p == NULL)
    {
        free(out.p);
        return NULL;
    }

    out.p[out.len] = '\0';

    if (len) {
        *len = out.len;
    }

    return out.p;
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
