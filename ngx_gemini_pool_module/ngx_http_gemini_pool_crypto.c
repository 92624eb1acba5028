
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Secrets, as pure functions over OpenSSL's EVP interfaces.
 */


#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_gemini_pool_crypto.h"
#include "ngx_http_gemini_pool_text.h"


#define GP_SHA256_LEN         32

#define GP_PW_PREFIX          "pbkdf2_sha256$"
#define GP_PW_DEFAULT_ITER    600000
#define GP_PW_MIN_ITER        1000
#define GP_PW_MAX_ITER        10000000
#define GP_PW_SALT_LEN        16
#define GP_PW_HASH_LEN        32

#define GP_TOKEN_ID_LEN       32              /* hex characters */
#define GP_TOKEN_SIG_LEN      43              /* base64url of 32 bytes */
#define GP_TOKEN_EXP_DIGITS   19

#define GP_API_KEY_CHARS      40

#define GP_ENC_PREFIX         "enc:v1:"
#define GP_ENC_PREFIX_LEN     (sizeof(GP_ENC_PREFIX) - 1)
#define GP_GCM_NONCE_LEN      12
#define GP_GCM_TAG_LEN        16
#define GP_GCM_MAX_PLAIN      (INT_MAX / 2)

/* the largest time_t, for a signed time_t of any width */
#define GP_TIME_MAX                                                           \
    ((uint64_t) (((time_t) 1 << (sizeof(time_t) * 8 - 2)) - 1) * 2 + 1)


static const char  gp_hex[] = "0123456789abcdef";

static const char  gp_base62[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";


static void gp_hex_encode(const unsigned char *p, size_t n, char *out);
static int gp_hex_value(unsigned char c);
static int gp_hex_decode(const char *p, size_t len, unsigned char *out);
static int gp_is_lower_hex(const char *p, size_t len);
static int gp_random(unsigned char *p, size_t n);
static int gp_token_sign(const char *secret, size_t secret_len,
    const char *p, size_t len, char sig[GP_TOKEN_SIG_LEN + 1]);
static int gp_pbkdf2(const char *password, const unsigned char *salt,
    size_t salt_len, unsigned iterations, unsigned char *out);
static int gp_parse_iterations(const char *p, size_t len, unsigned *iter);
static int gp_gcm(int enc, const unsigned char key[32],
    const unsigned char *nonce, const char *aad, const unsigned char *in,
    size_t len, unsigned char *out, unsigned char *tag);


/* constant-time comparison and digests */

int
ngx_gp_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen) {
        return 0;
    }

    if (alen == 0) {
        return 1;
    }

    return CRYPTO_memcmp(a, b, alen) == 0;
}


char *
ngx_gp_random_hex(size_t n)
{
    char           *out;
    unsigned char  *buf;

    if (n > (SIZE_MAX - 1) / 2 || n > INT_MAX) {
        return NULL;
    }

    out = malloc(2 * n + 1);
    buf = malloc(n ? n : 1);

    if (out == NULL || buf == NULL || gp_random(buf, n) != 0) {
        free(out);
        out = NULL;
        goto done;
    }

    gp_hex_encode(buf, n, out);

done:

    if (buf) {
        OPENSSL_cleanse(buf, n);
        free(buf);
    }

    return out;
}


/*
 * SHA-256 fetched once per process (kept until it exits): with
 * EVP_sha256() OpenSSL 3 looks the algorithm up again on every digest,
 * about 1.4 us, once per API request
 */

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
static EVP_MD  *gp_sha256_md;
#endif


static const EVP_MD *
gp_sha256(void)
{
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)

    if (gp_sha256_md == NULL) {
        gp_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    if (gp_sha256_md) {
        return gp_sha256_md;
    }

#endif

    return EVP_sha256();
}


void
ngx_gp_crypto_cleanup(void)
{
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    EVP_MD_free(gp_sha256_md);
    gp_sha256_md = NULL;
#endif
}


char *
ngx_gp_sha256_hex(const void *p, size_t len)
{
    char           *out;
    unsigned int    md_len;
    unsigned char   md[EVP_MAX_MD_SIZE];

    if (p == NULL && len != 0) {
        return NULL;
    }

    out = malloc(2 * GP_SHA256_LEN + 1);
    if (out == NULL) {
        return NULL;
    }

    if (EVP_Digest(p ? p : "", len, md, &md_len, gp_sha256(), NULL) != 1
        || md_len != GP_SHA256_LEN)
    {
        free(out);
        return NULL;
    }

    gp_hex_encode(md, GP_SHA256_LEN, out);

    return out;
}


/* API keys */

char *
ngx_gp_api_key_new(void)
{
    char           *key;
    size_t          i, n, pre;
    unsigned char   buf[64];

    pre = sizeof(NGX_GP_API_KEY_PREFIX) - 1;

    key = malloc(pre + GP_API_KEY_CHARS + 1);
    if (key == NULL) {
        return NULL;
    }

    memcpy(key, NGX_GP_API_KEY_PREFIX, pre);
    n = 0;

    /*
     * Rejection sampling keeps the characters uniform: 248 is the largest
     * multiple of 62 that fits in a byte.
     */

    while (n < GP_API_KEY_CHARS) {

        if (gp_random(buf, sizeof(buf)) != 0) {
            OPENSSL_cleanse(key, pre + GP_API_KEY_CHARS + 1);
            free(key);
            key = NULL;
            goto done;
        }

        for (i = 0; i < sizeof(buf) && n < GP_API_KEY_CHARS; i++) {
            if (buf[i] < 248) {
                key[pre + n++] = gp_base62[buf[i] % 62];
            }
        }
    }

    key[pre + n] = '\0';

done:

    OPENSSL_cleanse(buf, sizeof(buf));

    return key;
}


/* admin password hashes */

char *
ngx_gp_password_hash(const char *password, unsigned iterations)
{
    int             n;
    char           *out;
    size_t          size;
    unsigned char   salt[GP_PW_SALT_LEN], dk[GP_PW_HASH_LEN];
    char            salt_hex[2 * GP_PW_SALT_LEN + 1];
    char            dk_hex[2 * GP_PW_HASH_LEN + 1];

    if (password == NULL) {
        return NULL;
    }

    if (iterations == 0) {
        iterations = GP_PW_DEFAULT_ITER;
    }

    if (iterations < GP_PW_MIN_ITER || iterations > GP_PW_MAX_ITER) {
        return NULL;
    }

    out = NULL;

    if (gp_random(salt, sizeof(salt)) != 0
        || gp_pbkdf2(password, salt, sizeof(salt), iterations, dk) != 0)
    {
        goto done;
    }

    gp_hex_encode(salt, sizeof(salt), salt_hex);
    gp_hex_encode(dk, sizeof(dk), dk_hex);

    size = sizeof(GP_PW_PREFIX) + 10 + 1 + sizeof(salt_hex) + 1
           + sizeof(dk_hex);

    out = malloc(size);
    if (out == NULL) {
        goto done;
    }

    n = snprintf(out, size, GP_PW_PREFIX "%u$%s$%s", iterations, salt_hex,
                 dk_hex);

    if (n < 0 || (size_t) n >= size) {
        free(out);
        out = NULL;
    }

done:

    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(dk_hex, sizeof(dk_hex));

    return out;
}


int
ngx_gp_password_verify(const char *password, const char *stored)
{
    int             ok;
    size_t          len, pre;
    unsigned        iterations;
    const char     *p, *salt_hex, *hash_hex, *d;
    unsigned char   salt[GP_PW_SALT_LEN], want[GP_PW_HASH_LEN];
    unsigned char   got[GP_PW_HASH_LEN];

    if (password == NULL || stored == NULL) {
        return 0;
    }

    /* pbkdf2_sha256$<iterations>$<32 hex>$<64 hex>, nothing more */

    len = strlen(stored);
    pre = sizeof(GP_PW_PREFIX) - 1;

    if (len < pre || memcmp(stored, GP_PW_PREFIX, pre) != 0) {
        return 0;
    }

    p = stored + pre;
    len -= pre;

    d = memchr(p, '$', len);
    if (d == NULL || gp_parse_iterations(p, d - p, &iterations) != 0) {
        return 0;
    }

    len -= (size_t) (d - p) + 1;
    salt_hex = d + 1;

    if (len != 2 * GP_PW_SALT_LEN + 1 + 2 * GP_PW_HASH_LEN
        || salt_hex[2 * GP_PW_SALT_LEN] != '$')
    {
        return 0;
    }

    hash_hex = salt_hex + 2 * GP_PW_SALT_LEN + 1;

    if (!gp_is_lower_hex(salt_hex, 2 * GP_PW_SALT_LEN)
        || !gp_is_lower_hex(hash_hex, 2 * GP_PW_HASH_LEN))
    {
        return 0;
    }

    ok = 0;

    if (gp_hex_decode(salt_hex, 2 * GP_PW_SALT_LEN, salt) != 0
        || gp_hex_decode(hash_hex, 2 * GP_PW_HASH_LEN, want) != 0
        || gp_pbkdf2(password, salt, sizeof(salt), iterations, got) != 0)
    {
        goto done;
    }

    ok = CRYPTO_memcmp(got, want, GP_PW_HASH_LEN) == 0;

done:

    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));

    return ok;
}


/* admin session tokens */

char *
ngx_gp_token_new(const char *secret, size_t secret_len, time_t expires)
{
    int             n;
    char           *token;
    size_t          len, size;
    unsigned char   id[GP_TOKEN_ID_LEN / 2];
    char            sig[GP_TOKEN_SIG_LEN + 1];

    if (secret == NULL || secret_len == 0 || expires < 0) {
        return NULL;
    }

    size = GP_TOKEN_ID_LEN + 1 + GP_TOKEN_EXP_DIGITS + 1 + GP_TOKEN_SIG_LEN
           + 1;

    token = malloc(size);
    if (token == NULL) {
        return NULL;
    }

    if (gp_random(id, sizeof(id)) != 0) {
        goto failed;
    }

    gp_hex_encode(id, sizeof(id), token);

    n = snprintf(token + GP_TOKEN_ID_LEN, size - GP_TOKEN_ID_LEN, ".%lld",
                 (long long) expires);

    if (n < 0 || (size_t) n >= size - GP_TOKEN_ID_LEN) {
        goto failed;
    }

    len = GP_TOKEN_ID_LEN + (size_t) n;

    if (gp_token_sign(secret, secret_len, token, len, sig) != 0) {
        goto failed;
    }

    token[len] = '.';
    memcpy(token + len + 1, sig, GP_TOKEN_SIG_LEN + 1);

    OPENSSL_cleanse(id, sizeof(id));

    return token;

failed:

    OPENSSL_cleanse(id, sizeof(id));
    OPENSSL_cleanse(token, size);
    free(token);

    return NULL;
}


int
ngx_gp_token_verify(const char *token, size_t len, const char *secret,
    size_t secret_len, time_t now, char *id_out)
{
    int          ok;
    size_t       i, n, exp_len;
    uint64_t     expires;
    const char  *e, *sig, *dot;
    char         want[GP_TOKEN_SIG_LEN + 1];

    if (token == NULL || secret == NULL || secret_len == 0) {
        return 0;
    }

    if (len > GP_TOKEN_ID_LEN + 1 + GP_TOKEN_EXP_DIGITS + 1
              + GP_TOKEN_SIG_LEN)
    {
        return 0;
    }

    /* "<32 lowercase hex>.<digits>.<base64url>": exactly two dots */

    if (len < GP_TOKEN_ID_LEN + 1 || token[GP_TOKEN_ID_LEN] != '.'
        || !gp_is_lower_hex(token, GP_TOKEN_ID_LEN))
    {
        return 0;
    }

    e = token + GP_TOKEN_ID_LEN + 1;
    n = len - GP_TOKEN_ID_LEN - 1;

    dot = memchr(e, '.', n);
    if (dot == NULL) {
        return 0;
    }

    exp_len = dot - e;
    sig = dot + 1;
    n -= exp_len + 1;

    if (memchr(sig, '.', n) != NULL) {
        return 0;
    }

    /* a decimal without sign or leading zeros that fits in time_t */

    if (exp_len == 0 || exp_len > GP_TOKEN_EXP_DIGITS || e[0] == '0') {
        return 0;
    }

    expires = 0;

    for (i = 0; i < exp_len; i++) {
        if (e[i] < '0' || e[i] > '9') {
            return 0;
        }

        if (expires > (GP_TIME_MAX - (uint64_t) (e[i] - '0')) / 10) {
            return 0;
        }

        expires = expires * 10 + (uint64_t) (e[i] - '0');
    }

    if (gp_token_sign(secret, secret_len, token, dot - token, want) != 0) {
        return 0;
    }

    ok = ngx_gp_ct_equal(sig, n, want, GP_TOKEN_SIG_LEN);

    OPENSSL_cleanse(want, sizeof(want));

    if (!ok || (time_t) expires <= now) {
        return 0;
    }

    if (id_out) {
        memcpy(id_out, token, GP_TOKEN_ID_LEN);
        id_out[GP_TOKEN_ID_LEN] = '\0';
    }

    return 1;
}


/* secrets at rest */

int
ngx_gp_key_parse(const char *text, size_t len, unsigned char key[32])
{
    int            rc;
    size_t         n;
    unsigned char  buf[33];

    if (text == NULL) {
        return -1;
    }

    /* surrounding whitespace, as a key read from a file may carry */

    while (len && (text[0] == ' ' || text[0] == '\t' || text[0] == '\r'
                   || text[0] == '\n'))
    {
        text++;
        len--;
    }

    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'
                   || text[len - 1] == '\r' || text[len - 1] == '\n'))
    {
        len--;
    }

    /*
     * 64 hex characters, or base64 or base64url of 32 bytes: 43
     * characters, or 44 with "="; key is left alone on errors
     */

    if (len == 64) {
        rc = gp_hex_decode(text, len, buf);

    } else if (len == 43 || len == 44) {
        rc = ngx_gp_base64_decode_strict(text, len, 1, buf, &n) == 0
             && n == 32 ? 0 : -1;

    } else {
        return -1;
    }

    if (rc == 0) {
        memcpy(key, buf, 32);
    }

    OPENSSL_cleanse(buf, sizeof(buf));

    return rc;
}


char *
ngx_gp_secret_encrypt(const unsigned char key[32], const char *aad,
    const void *plain, size_t len)
{
    char           *out;
    size_t          n;
    unsigned char  *bin;

    if (key == NULL || (plain == NULL && len != 0)
        || len > GP_GCM_MAX_PLAIN)
    {
        return NULL;
    }

    n = GP_GCM_NONCE_LEN + len + GP_GCM_TAG_LEN;

    bin = malloc(n);
    out = malloc(GP_ENC_PREFIX_LEN + ngx_gp_base64_len(n, NGX_GP_BASE64_URL)
                 + 1);

    if (bin == NULL || out == NULL) {
        goto failed;
    }

    if (gp_random(bin, GP_GCM_NONCE_LEN) != 0
        || gp_gcm(1, key, bin, aad, plain, len, bin + GP_GCM_NONCE_LEN,
                  bin + GP_GCM_NONCE_LEN + len)
           != 0)
    {
        goto failed;
    }

    memcpy(out, GP_ENC_PREFIX, GP_ENC_PREFIX_LEN);
    (void) ngx_gp_base64_encode_to(bin, n, NGX_GP_BASE64_URL,
                                   out + GP_ENC_PREFIX_LEN);

    free(bin);

    return out;

failed:

    free(bin);
    free(out);

    return NULL;
}


char *
ngx_gp_secret_decrypt(const unsigned char key[32], const char *aad,
    const char *text, size_t len, size_t *out_len)
{
    size_t          n, plain_len;
    unsigned char  *bin, *plain;

    if (key == NULL || text == NULL || !ngx_gp_secret_is_encrypted(text, len))
    {
        return NULL;
    }

    text += GP_ENC_PREFIX_LEN;
    len -= GP_ENC_PREFIX_LEN;

    if (len > ngx_gp_base64_len(GP_GCM_NONCE_LEN + GP_GCM_MAX_PLAIN
                                + GP_GCM_TAG_LEN, NGX_GP_BASE64_URL))
    {
        return NULL;
    }

    bin = malloc(len / 4 * 3 + 3);
    if (bin == NULL) {
        return NULL;
    }

    plain = NULL;

    if (ngx_gp_base64_decode_strict(text, len, 0, bin, &n) != 0
        || n < GP_GCM_NONCE_LEN + GP_GCM_TAG_LEN)
    {
        goto failed;
    }

    plain_len = n - GP_GCM_NONCE_LEN - GP_GCM_TAG_LEN;

    plain = malloc(plain_len + 1);
    if (plain == NULL) {
        goto failed;
    }

    if (gp_gcm(0, key, bin, aad, bin + GP_GCM_NONCE_LEN, plain_len, plain,
               bin + GP_GCM_NONCE_LEN + plain_len)
        != 0)
    {
        OPENSSL_cleanse(plain, plain_len + 1);
        goto failed;
    }

    plain[plain_len] = '\0';

    if (out_len) {
        *out_len = plain_len;
    }

    free(bin);

    return (char *) plain;

failed:

    free(bin);
    free(plain);

    return NULL;
}


int
ngx_gp_secret_is_encrypted(const char *text, size_t len)
{
    return text != NULL && len >= GP_ENC_PREFIX_LEN
           && memcmp(text, GP_ENC_PREFIX, GP_ENC_PREFIX_LEN) == 0;
}


/* hex */

static void
gp_hex_encode(const unsigned char *p, size_t n, char *out)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[2 * i] = gp_hex[p[i] >> 4];
        out[2 * i + 1] = gp_hex[p[i] & 0x0f];
    }

    out[2 * n] = '\0';
}


static int
gp_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* either case; 0, or -1 for an odd length or a foreign character */

static int
gp_hex_decode(const char *p, size_t len, unsigned char *out)
{
    int     hi, lo;
    size_t  i;

    if (len % 2) {
        return -1;
    }

    for (i = 0; i < len; i += 2) {
        hi = gp_hex_value((unsigned char) p[i]);
        lo = gp_hex_value((unsigned char) p[i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }

    return 0;
}


static int
gp_is_lower_hex(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/* OpenSSL */

static int
gp_random(unsigned char *p, size_t n)
{
    int  rc;

    if (n == 0) {
        return 0;
    }

    if (n > INT_MAX) {
        return -1;
    }

    ERR_set_mark();
    rc = RAND_bytes(p, (int) n) == 1 ? 0 : -1;
    ERR_pop_to_mark();

    return rc;
}


/* the base64url HMAC-SHA256 of p[0..len) under the secret */

static int
gp_token_sign(const char *secret, size_t secret_len, const char *p,
    size_t len, char sig[GP_TOKEN_SIG_LEN + 1])
{
    int            rc;
    unsigned int   mac_len;
    unsigned char  mac[EVP_MAX_MD_SIZE];

    if (secret_len == 0 || secret_len > INT_MAX) {
        return -1;
    }

    rc = -1;

    ERR_set_mark();

    if (HMAC(EVP_sha256(), secret, (int) secret_len, (const unsigned char *) p,
             len, mac, &mac_len)
        != NULL
        && mac_len == GP_SHA256_LEN)
    {
        (void) ngx_gp_base64_encode_to(mac, GP_SHA256_LEN, NGX_GP_BASE64_URL,
                                       sig);
        rc = 0;
    }

    ERR_pop_to_mark();

    OPENSSL_cleanse(mac, sizeof(mac));

    return rc;
}


static int
gp_pbkdf2(const char *password, const unsigned char *salt, size_t salt_len,
    unsigned iterations, unsigned char *out)
{
    int     rc;
    size_t  len;

    len = strlen(password);

    if (len > INT_MAX || salt_len > INT_MAX || iterations > INT_MAX) {
        return -1;
    }

    ERR_set_mark();

    rc = PKCS5_PBKDF2_HMAC(password, (int) len, salt, (int) salt_len,
                           (int) iterations, EVP_sha256(), GP_PW_HASH_LEN,
                           out)
         == 1 ? 0 : -1;

    ERR_pop_to_mark();

    return rc;
}


/* 1000..10000000 in decimal, without sign or leading zeros */

static int
gp_parse_iterations(const char *p, size_t len, unsigned *iter)
{
    size_t    i;
    unsigned  n;

    if (len == 0 || len > 8 || p[0] == '0') {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        n = n * 10 + (unsigned) (p[i] - '0');
    }

    if (n < GP_PW_MIN_ITER || n > GP_PW_MAX_ITER) {
        return -1;
    }

    *iter = n;

    return 0;
}


/*
 * AES-256-GCM with a 12-byte nonce and a 16-byte tag; aad NULL is "".
 * enc: writes the ciphertext and the tag; otherwise checks the tag and
 * writes the plaintext (then garbage on -1, for the caller to wipe).
 */

static int
gp_gcm(int enc, const unsigned char key[32], const unsigned char *nonce,
    const char *aad, const unsigned char *in, size_t len, unsigned char *out,
    unsigned char *tag)
{
    int              n, rc;
    size_t           aad_len;
    unsigned char    last[16];
    EVP_CIPHER_CTX  *ctx;

    aad_len = aad ? strlen(aad) : 0;

    if (len > GP_GCM_MAX_PLAIN || aad_len > INT_MAX) {
        return -1;
    }

    rc = -1;

    ERR_set_mark();

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        goto done;
    }

    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, GP_GCM_NONCE_LEN,
                               NULL)
           != 1
        || EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
    {
        goto done;
    }

    if (aad_len
        && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *) aad,
                            (int) aad_len)
           != 1)
    {
        goto done;
    }

    if (len && EVP_CipherUpdate(ctx, out, &n, in, (int) len) != 1) {
        goto done;
    }

    if (!enc
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GP_GCM_TAG_LEN,
                               tag)
           != 1)
    {
        goto done;
    }

    /* GCM writes nothing at the end; last is there for the API */

    if (EVP_CipherFinal_ex(ctx, last, &n) != 1) {
        goto done;
    }

    if (enc
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GP_GCM_TAG_LEN,
                               tag)
           != 1)
    {
        goto done;
    }

    rc = 0;

done:

    EVP_CIPHER_CTX_free(ctx);

    ERR_pop_to_mark();

    return rc;
}
