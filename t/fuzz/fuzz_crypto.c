
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The readers of secrets and tokens: admin session tokens (the cookie),
 * sealed values (enc:v1:, read from the database and from imports),
 * encryption keys (API_KEY_ENCRYPTION_KEY), password hashes (imports),
 * base64 (getoxsrf's xsrfToken, inline media, data: URLs) and the JWT
 * built from getoxsrf's keyId and xsrfToken.  The input is read whole,
 * and as two strings a and b split at the first newline.  Properties:
 *
 * - a token, a sealed value, a key, a password hash read from the input
 *   never faults, and a token or a sealed value is accepted only in the
 *   form the writer makes; a genuine token or sealed value with any one
 *   byte changed (where the input says) is refused, and unchanged is
 *   accepted (sealed: the input's bytes come back);
 * - base64: what the lenient decoder takes encodes and decodes back to
 *   the same bytes; what the strict one takes is exactly the encoder's
 *   base64url text of those bytes (one text per byte string), and with
 *   "any" (encryption keys) that text up to the alphabet and the padding;
 * - the JWT of keyId a and xsrfToken b is three base64url parts whose
 *   header and payload are JSON objects with kid a and sub csesidx/...;
 * - the constant-time compare is memcmp.
 */


#include "fuzz.h"

#include <time.h>
#include <jansson.h>

#include "ngx_http_gemini_pool_crypto.h"
#include "ngx_http_gemini_pool_wire.h"


#define NOW      1764979200
#define SECRET   "fuzz-admin-secret"
#define AAD      "accounts.secure_c_ses"


static const unsigned char  key[32] = "0123456789abcdef0123456789abcdef";


/* the same text up to the alphabet and the padding */

static int
b64_norm(const char *url, size_t ulen, const char *p, size_t len)
{
    char    c;
    size_t  i;

    while (len && p[len - 1] == '=') {
        len--;
    }

    if (ulen != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];

        if (c != url[i]) {
            return 0;
        }
    }

    return 1;
}


static void
base64(const char *p, size_t len)
{
    int             url;
    char           *t;
    size_t          n, n2, tn;
    unsigned char  *d, *d2, *out;

    d = ngx_gp_base64_decode_any(p, len, &n);

    if (d != NULL) {
        for (url = 0; url < 2; url++) {
            t = ngx_gp_base64_encode(d, n, url, &tn);
            FUZZ_CHECK(t != NULL && tn == ngx_gp_base64_len(n, url));
            d2 = ngx_gp_base64_decode_any(t, tn, &n2);
            FUZZ_SAME_MEM(d, n, d2, n2);
            free(d2);
            free(t);
        }

        free(d);
    }

    out = malloc(len / 4 * 3 + 2);
    FUZZ_CHECK(out != NULL);

    for (url = 0; url < 2; url++) {
        if (ngx_gp_base64_decode_strict(p, len, url, out, &n) != 0) {
            continue;
        }

        t = ngx_gp_base64_encode(out, n, NGX_GP_BASE64_URL, &tn);
        FUZZ_CHECK(t != NULL);

        if (url == 0) {
            /* base64url only: exactly the encoder's text */
            FUZZ_SAME_MEM(t, tn, p, len);

        } else {
            /* "any": either alphabet (even mixed), "=" or not */
            FUZZ_CHECK(b64_norm(t, tn, p, len));
        }

        free(t);
    }

    free(out);
}


static void
token(const uint8_t *data, size_t size)
{
    char    *t, id[33];
    size_t   n, i;

    memset(id, 0, sizeof(id));

    if (ngx_gp_token_verify((const char *) data, size, SECRET,
                            sizeof(SECRET) - 1, NOW, id))
    {
        /* only a signed token passes: the input is not one */
        FUZZ_CHECK(0);
    }

    t = ngx_gp_token_new(SECRET, sizeof(SECRET) - 1, NOW + 3600);
    FUZZ_CHECK(t != NULL);
    n = strlen(t);

    FUZZ_CHECK(ngx_gp_token_verify(t, n, SECRET, sizeof(SECRET) - 1, NOW,
                                   id) == 1);
    FUZZ_CHECK(strlen(id) == 32 && memcmp(id, t, 32) == 0);
    FUZZ_CHECK(ngx_gp_token_verify(t, n, SECRET, sizeof(SECRET) - 1,
                                   NOW + 3600, id) == 0);

    if (size >= 2) {
        i = data[0] % n;

        if ((char) data[1] != t[i]) {
            t[i] = (char) data[1];
            FUZZ_CHECK(ngx_gp_token_verify(t, n, SECRET, sizeof(SECRET) - 1,
                                           NOW, id) == 0);
        }
    }

    free(t);
}


static void
sealed(const uint8_t *data, size_t size)
{
    char    *s, *plain;
    size_t   n, len, i;

    plain = ngx_gp_secret_decrypt(key, AAD, (const char *) data, size, &len);

    if (plain != NULL) {
        /* no forgery: the input was sealed by someone with the key */
        FUZZ_CHECK(0);
    }

    (void) ngx_gp_secret_is_encrypted((const char *) data, size);

    s = ngx_gp_secret_encrypt(key, AAD, data, size);
    FUZZ_CHECK(s != NULL && ngx_gp_secret_is_encrypted(s, strlen(s)));
    n = strlen(s);

    plain = ngx_gp_secret_decrypt(key, AAD, s, n, &len);
    FUZZ_SAME_MEM(plain, len, (const char *) data, size);
    FUZZ_CHECK(plain[len] == '\0');
    free(plain);

    FUZZ_CHECK(ngx_gp_secret_decrypt(key, "accounts.host_c_oses", s, n, &len)
               == NULL);

    if (size >= 2) {
        i = data[0] % n;

        if ((char) data[1] != s[i]) {
            s[i] = (char) data[1];
            plain = ngx_gp_secret_decrypt(key, AAD, s, n, &len);
            FUZZ_CHECK(plain == NULL);
        }
    }

    free(s);
}


static char *
b64url_json(const char *p, size_t len)
{
    char           *s;
    size_t          n;
    unsigned char  *out;

    out = malloc(len / 4 * 3 + 3);
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(ngx_gp_base64_decode_strict(p, len, 0, out, &n) == 0);
    out[n] = '\0';
    s = (char *) out;

    return s;
}


static void
jwt(const char *a, const char *b)
{
    char        *t, *dot1, *dot2, *h, *p;
    json_t      *jh, *jp, *ja, *kid, *sub;
    const char  *sv;

    t = ngx_gp_jwt_build(a, b, "12345", NOW);

    if (t == NULL) {
        return;
    }

    dot1 = strchr(t, '.');
    FUZZ_CHECK(dot1 != NULL);
    dot2 = strchr(dot1 + 1, '.');
    FUZZ_CHECK(dot2 != NULL && strchr(dot2 + 1, '.') == NULL);

    h = b64url_json(t, (size_t) (dot1 - t));
    p = b64url_json(dot1 + 1, (size_t) (dot2 - dot1 - 1));
    free(b64url_json(dot2 + 1, strlen(dot2 + 1)));

    jh = json_loads(h, 0, NULL);
    jp = json_loads(p, 0, NULL);
    FUZZ_CHECK(json_is_object(jh) && json_is_object(jp));

    kid = json_object_get(jh, "kid");
    sub = json_object_get(jp, "sub");
    FUZZ_CHECK(json_is_string(kid) && json_is_string(sub));

    /* the key id comes back as it was when it is text jansson takes */
    ja = json_string(a);

    if (ja != NULL) {
        sv = json_string_value(kid);
        FUZZ_CHECK(strcmp(sv, a) == 0);
        json_decref(ja);
    }

    FUZZ_CHECK(strcmp(json_string_value(sub), "csesidx/12345") == 0);

    json_decref(jh);
    json_decref(jp);
    free(h);
    free(p);
    free(t);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *a, *b, *nl;
    size_t          alen, blen, i;
    unsigned char   k[32];

    token(data, size);
    sealed(data, size);
    (void) ngx_gp_key_parse((const char *) data, size, k);
    base64((const char *) data, size);

    /* a and b as C strings, cut at the first NUL */
    nl = memchr(data, '\n', size);
    alen = nl ? (size_t) (nl - (const char *) data) : size;
    blen = nl ? size - alen - 1 : 0;

    a = strndup((const char *) data, alen);
    b = strndup(nl ? nl + 1 : "", blen);
    FUZZ_CHECK(a != NULL && b != NULL);
    alen = strlen(a);
    blen = strlen(b);

    jwt(a, b);

    FUZZ_CHECK(ngx_gp_ct_equal(a, alen, b, blen)
               == (alen == blen && memcmp(a, b, alen) == 0));

    /* a password against b as a stored hash: 9,999 iterations at most */
    if (strncmp(b, "pbkdf2_sha256$", 14) == 0) {
        for (i = 14; b[i] != '\0' && b[i] != '$'; i++) {
            /* void */
        }

        if (i - 14 <= 4) {
            (void) ngx_gp_password_verify(a, b);
        }

    } else {
        (void) ngx_gp_password_verify(a, b);
    }

    free(a);
    free(b);

    return 0;
}
