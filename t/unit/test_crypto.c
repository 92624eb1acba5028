
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the secrets: digests, random tokens, API keys, password
 * hashes, signed admin tokens and secrets at rest.  The known answers
 * come from Python's hashlib, hmac, base64 and cryptography (AESGCM).
 */


#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "ngx_http_gemini_pool_crypto.h"
#include "ngx_http_gemini_pool_text.h"


#define PW             "correct horse battery"
#define PW_SALT        "a1b2c3d4e5f60718293a4b5c6d7e8f90"

/* hashlib.pbkdf2_hmac('sha256', PW, bytes.fromhex(PW_SALT), n).hex() */
#define PW_1000        "69b5b0655e38a8bd84ae4a0c3d7bc560" \
                       "01fda49708ddc0f8671ba11278d5d155"
#define PW_999         "45640bda1eef8191c4a27f9e33cdbd11" \
                       "a1f021e227fb7a70ef630fefa0e55ba9"
#define PW_10000001    "cc8d1fde92e3d52517a957dae32db88f" \
                       "574fe73539442581f59568f91241f423"

#define PW_GOOD        "pbkdf2_sha256$1000$" PW_SALT "$" PW_1000

#define TOKEN_SECRET   "admin-secret"
#define TOKEN_ID       "0123456789abcdef0123456789abcdef"

/* base64url(hmac(TOKEN_SECRET, TOKEN_ID ".2000000000", sha256)) */
#define TOKEN_GOOD     TOKEN_ID ".2000000000." \
                       "Kdg9fM8hO7wbXxPq_ITroQoYl6tJrN3jFYUqMBi12kA"

#define AAD            "accounts.secure_c_ses"


static const char  b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char  base62_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* bytes 0x00..0x1f */
static const char  key_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";


static int
only_chars(const char *s, const char *set)
{
    for ( /* void */ ; *s; s++) {
        if (strchr(set, *s) == NULL) {
            return 0;
        }
    }

    return 1;
}


/* "<msg>.<base64url hmac-sha256(msg)>", signed here without crypto.c */

static char *
sign(const char *secret, size_t secret_len, const char *msg)
{
    char           *sig, *out;
    size_t          len, sig_len;
    unsigned int    mac_len;
    unsigned char   mac[EVP_MAX_MD_SIZE];

    assert_non_null(HMAC(EVP_sha256(), secret, (int) secret_len,
                         (const unsigned char *) msg, strlen(msg), mac,
                         &mac_len));

    sig = ngx_gp_base64_encode(mac, mac_len, NGX_GP_BASE64_URL, &sig_len);
    assert_non_null(sig);

    len = strlen(msg) + 1 + sig_len + 1;
    out = malloc(len);
    assert_non_null(out);

    snprintf(out, len, "%s.%s", msg, sig);
    free(sig);

    return out;
}


static int
verify_str(const char *token, const char *secret, time_t now, char *id)
{
    return ngx_gp_token_verify(token, strlen(token), secret, strlen(secret),
                               now, id);
}


static void
test_ct_equal(void **state)
{
    assert_true(ngx_gp_ct_equal("abc", 3, "abc", 3));
    assert_true(ngx_gp_ct_equal("", 0, "", 0));
    assert_true(ngx_gp_ct_equal("a\0b", 3, "a\0b", 3));

    assert_false(ngx_gp_ct_equal("abc", 3, "abd", 3));
    assert_false(ngx_gp_ct_equal("abc", 3, "xbc", 3));
    assert_false(ngx_gp_ct_equal("a\0b", 3, "a\0c", 3));

    /* different lengths, also when one is a prefix of the other */
    assert_false(ngx_gp_ct_equal("abc", 3, "abcd", 4));
    assert_false(ngx_gp_ct_equal("abcd", 4, "abc", 3));
    assert_false(ngx_gp_ct_equal("", 0, "a", 1));
    assert_false(ngx_gp_ct_equal("abc", 2, "abd", 3));

    assert_true(ngx_gp_ct_equal("abc", 2, "abd", 2));
}


static void
test_sha256_hex(void **state)
{
    char  *h;
    char   buf[300];
    int    i;

    h = ngx_gp_sha256_hex("abc", 3);
    assert_non_null(h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
                           "b00361a396177a9cb410ff61f20015ad");
    free(h);

    h = ngx_gp_sha256_hex("", 0);
    assert_non_null(h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
    free(h);

    /* b"a\0b" * 100: NULs are data */
    for (i = 0; i < 100; i++) {
        memcpy(buf + 3 * i, "a\0b", 3);
    }

    h = ngx_gp_sha256_hex(buf, 300);
    assert_non_null(h);
    assert_string_equal(h, "15790b77318852f504b0403e26f606f6"
                           "946f0bc170770e2f878c81b0d2c9185b");
    free(h);
}


static void
test_random_hex(void **state)
{
    char    *a, *b;
    size_t   i;
    int      seen[16];

    a = ngx_gp_random_hex(0);
    assert_non_null(a);
    assert_string_equal(a, "");
    free(a);

    a = ngx_gp_random_hex(1);
    assert_non_null(a);
    assert_int_equal(strlen(a), 2);
    assert_true(only_chars(a, "0123456789abcdef"));
    free(a);

    a = ngx_gp_random_hex(16);
    b = ngx_gp_random_hex(16);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strlen(b), 32);
    assert_true(only_chars(a, "0123456789abcdef"));
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    /* 2000 digits: every one of the 16 shows up */

    a = ngx_gp_random_hex(1000);
    assert_non_null(a);
    assert_int_equal(strlen(a), 2000);
    assert_true(only_chars(a, "0123456789abcdef"));

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < 2000; i++) {
        seen[strchr("0123456789abcdef", a[i]) - "0123456789abcdef"] = 1;
    }

    for (i = 0; i < 16; i++) {
        assert_true(seen[i]);
    }

    free(a);
}


static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


#define NKEYS  1000

static void
test_api_key(void **state)
{
    char    *keys[NKEYS];
    size_t   i, j, pre;
    double   chi2, d, e;
    int      counts[62];

    pre = strlen(NGX_GP_API_KEY_PREFIX);
    assert_string_equal(NGX_GP_API_KEY_PREFIX, "sk-gp-");

    memset(counts, 0, sizeof(counts));

    for (i = 0; i < NKEYS; i++) {
        keys[i] = ngx_gp_api_key_new();
        assert_non_null(keys[i]);

        assert_int_equal(strlen(keys[i]), pre + 40);
        assert_memory_equal(keys[i], "sk-gp-", pre);
        assert_true(only_chars(keys[i] + pre, base62_chars));

        for (j = pre; j < pre + 40; j++) {
            counts[strchr(base62_chars, keys[i][j]) - base62_chars]++;
        }
    }

    /* unique */

    qsort(keys, NKEYS, sizeof(char *), cmp_str);

    for (i = 1; i < NKEYS; i++) {
        assert_string_not_equal(keys[i - 1], keys[i]);
    }

    for (i = 0; i < NKEYS; i++) {
        free(keys[i]);
    }

    /*
     * 40000 characters, uniform over the 62: chi-square with 61 degrees
     * of freedom exceeds 150 with probability 2e-9, while "byte % 62"
     * (8 characters drawn 5/256 of the time) gives about 325
     */

    e = NKEYS * 40.0 / 62;
    chi2 = 0;

    for (i = 0; i < 62; i++) {
        assert_true(counts[i] > 0);
        d = counts[i] - e;
        chi2 += d * d / e;
    }

    if (chi2 > 150) {
        print_message("chi-square %.1f\n", chi2);
        fail();
    }
}


static void
test_password_known(void **state)
{
    assert_true(ngx_gp_password_verify(PW, PW_GOOD));

    assert_true(ngx_gp_password_verify("p\xc3\xa4ssw\xc3\xb6rd",
                    "pbkdf2_sha256$1234$" PW_SALT "$"
                    "5b707c58d0e374a1c80d8594bb8b872a"
                    "6b605db2d50a51c25cae8da1b1526de2"));

    assert_false(ngx_gp_password_verify("correct horse batterY", PW_GOOD));
    assert_false(ngx_gp_password_verify("correct horse batter", PW_GOOD));
    assert_false(ngx_gp_password_verify("", PW_GOOD));

    /* the same hash under another iteration count or salt */
    assert_false(ngx_gp_password_verify(PW,
                     "pbkdf2_sha256$1001$" PW_SALT "$" PW_1000));
    assert_false(ngx_gp_password_verify(PW,
                     "pbkdf2_sha256$1000$a1b2c3d4e5f60718293a4b5c6d7e8f91$"
                     PW_1000));

    /* one hash digit changed */
    assert_false(ngx_gp_password_verify(PW,
                     "pbkdf2_sha256$1000$" PW_SALT "$"
                     "69b5b0655e38a8bd84ae4a0c3d7bc560"
                     "01fda49708ddc0f8671ba11278d5d154"));
}


static void
test_password_round_trip(void **state)
{
    char    *a, *b;
    size_t   pre;

    a = ngx_gp_password_hash("s3cret passw0rd", 1000);
    b = ngx_gp_password_hash("s3cret passw0rd", 1000);
    assert_non_null(a);
    assert_non_null(b);

    /* pbkdf2_sha256$1000$<32 hex>$<64 hex> */

    pre = strlen("pbkdf2_sha256$1000$");
    assert_int_equal(strlen(a), pre + 32 + 1 + 64);
    assert_memory_equal(a, "pbkdf2_sha256$1000$", pre);
    assert_int_equal(a[pre + 32], '$');
    a[pre + 32] = '\0';
    assert_true(only_chars(a + pre, "0123456789abcdef"));
    assert_true(only_chars(a + pre + 33, "0123456789abcdef"));
    a[pre + 32] = '$';

    /* a fresh salt each time */
    assert_string_not_equal(a, b);

    assert_true(ngx_gp_password_verify("s3cret passw0rd", a));
    assert_true(ngx_gp_password_verify("s3cret passw0rd", b));
    assert_false(ngx_gp_password_verify("s3cret passw0rD", a));
    assert_false(ngx_gp_password_verify("s3cret passw0r", a));

    free(a);
    free(b);

    a = ngx_gp_password_hash("", 1000);
    assert_non_null(a);
    assert_true(ngx_gp_password_verify("", a));
    assert_false(ngx_gp_password_verify(" ", a));
    free(a);

    a = ngx_gp_password_hash("x", 12345);
    assert_non_null(a);
    assert_memory_equal(a, "pbkdf2_sha256$12345$", 20);
    assert_true(ngx_gp_password_verify("x", a));
    free(a);

    /* counts verify would refuse are not produced either */
    assert_null(ngx_gp_password_hash("x", 999));
    assert_null(ngx_gp_password_hash("x", 10000001));
    assert_null(ngx_gp_password_hash(NULL, 1000));
}


static void
test_password_default(void **state)
{
    char  *h;

    h = ngx_gp_password_hash("the default count", 0);
    assert_non_null(h);
    assert_memory_equal(h, "pbkdf2_sha256$600000$", 21);
    assert_int_equal(strlen(h), 21 + 32 + 1 + 64);
    assert_true(ngx_gp_password_verify("the default count", h));
    free(h);
}


static void
test_password_malformed(void **state)
{
    size_t  i;

    /*
     * Each hash is right for the count it names, so that only the format
     * check can refuse it.
     */
    static const char  *bad[] = {
        "",
        "pbkdf2_sha256",
        "pbkdf2_sha256$",
        "pbkdf2_sha256$1000",
        "pbkdf2_sha256$1000$" PW_SALT,
        "pbkdf2_sha256$1000$" PW_SALT "$",
        "pbkdf2_sha1$1000$" PW_SALT "$" PW_1000,
        "PBKDF2_SHA256$1000$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$999$" PW_SALT "$" PW_999,
        "pbkdf2_sha256$10000001$" PW_SALT "$" PW_10000001,
        "pbkdf2_sha256$01000$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$+1000$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$ 1000$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$1000 $" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$1e3$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$4294968296$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$99999999999999999999$" PW_SALT "$" PW_1000,
        "pbkdf2_sha256$1000$" PW_SALT "$" PW_1000 "$",
        "pbkdf2_sha256$1000$" PW_SALT "$" PW_1000 "0",
        "pbkdf2_sha256$1000$" PW_SALT "$" PW_1000 "00",
        "pbkdf2_sha256$1000$" PW_SALT "$" PW_1000 " ",
        "pbkdf2_sha256$1000$" PW_SALT "$"
            "69b5b0655e38a8bd84ae4a0c3d7bc560"
            "01fda49708ddc0f8671ba11278d5d15",
        "pbkdf2_sha256$1000$" PW_SALT "0$" PW_1000,
        "pbkdf2_sha256$1000$a1b2c3d4e5f60718293a4b5c6d7e8f9$" PW_1000,
        "pbkdf2_sha256$1000$a1b2c3d4e5f60718293a4b5c6d7e8fg0$" PW_1000,
        "pbkdf2_sha256$1000$A1B2C3D4E5F60718293A4B5C6D7E8F90$" PW_1000,
        "pbkdf2_sha256$1000$" PW_SALT "$"
            "69B5B0655E38A8BD84AE4A0C3D7BC560"
            "01FDA49708DDC0F8671BA11278D5D155",
        "pbkdf2_sha256$1000$" PW_SALT PW_1000,
        "pbkdf2_sha256$1000$$" PW_SALT "$" PW_1000,
        " pbkdf2_sha256$1000$" PW_SALT "$" PW_1000,
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ngx_gp_password_verify(PW, bad[i])) {
            print_message("accepted \"%s\"\n", bad[i]);
            fail();
        }
    }

    assert_false(ngx_gp_password_verify(PW, NULL));
    assert_false(ngx_gp_password_verify(NULL, PW_GOOD));

    /* a NUL cuts the stored value */
    assert_false(ngx_gp_password_verify(PW, "pbkdf2_sha256$1000$"
                     "a1b2c3d4e5f60718\0" "293a4b5c6d7e8f90$" PW_1000));

    /* the good one still passes: the list above tests the format only */
    assert_true(ngx_gp_password_verify(PW, PW_GOOD));
}


static void
test_token_known(void **state)
{
    size_t        i, j, len;
    char          id[33], buf[200];
    const char   *subst = "0aA_-.9z";

    memset(id, 'x', sizeof(id));
    assert_true(verify_str(TOKEN_GOOD, TOKEN_SECRET, 1700000000, id));
    assert_string_equal(id, TOKEN_ID);

    assert_true(verify_str(TOKEN_GOOD, TOKEN_SECRET, 1999999999, NULL));

    /* expired: expires must be after now */
    assert_false(verify_str(TOKEN_GOOD, TOKEN_SECRET, 2000000000, NULL));
    assert_false(verify_str(TOKEN_GOOD, TOKEN_SECRET, 2000000001, NULL));

    /* another secret, one of another length, the empty secret */
    assert_false(verify_str(TOKEN_GOOD, "admin-secreT", 1700000000, NULL));
    assert_false(verify_str(TOKEN_GOOD, "admin-secret2", 1700000000, NULL));
    assert_false(ngx_gp_token_verify(TOKEN_GOOD, strlen(TOKEN_GOOD),
                                     TOKEN_SECRET, 11, 1700000000, NULL));
    assert_false(ngx_gp_token_verify(TOKEN_GOOD, strlen(TOKEN_GOOD),
                                     TOKEN_SECRET, 0, 1700000000, NULL));

    /* the token need not be NUL-terminated */

    len = strlen(TOKEN_GOOD);
    memcpy(buf, TOKEN_GOOD, len);
    memcpy(buf + len, "xyz.", 5);

    assert_true(ngx_gp_token_verify(buf, len, TOKEN_SECRET,
                                    strlen(TOKEN_SECRET), 1700000000, NULL));
    assert_false(ngx_gp_token_verify(buf, len + 1, TOKEN_SECRET,
                                     strlen(TOKEN_SECRET), 1700000000,
                                     NULL));

    /* every shorter prefix */

    for (i = 0; i < len; i++) {
        assert_false(ngx_gp_token_verify(buf, i, TOKEN_SECRET,
                                         strlen(TOKEN_SECRET), 1700000000,
                                         NULL));
    }

    /* any one character changed */

    for (i = 0; i < len; i++) {
        for (j = 0; subst[j]; j++) {
            memcpy(buf, TOKEN_GOOD, len + 1);

            if (buf[i] == subst[j]) {
                continue;
            }

            buf[i] = subst[j];

            memset(id, 'x', sizeof(id));

            if (verify_str(buf, TOKEN_SECRET, 1700000000, id)) {
                print_message("accepted \"%s\"\n", buf);
                fail();
            }

            /* id_out is only written on success */
            assert_int_equal(id[0], 'x');
        }
    }
}


static void
test_token_round_trip(void **state)
{
    char    *a, *b, *want;
    char     id[33], msg[64];
    size_t   len;

    a = ngx_gp_token_new(TOKEN_SECRET, strlen(TOKEN_SECRET), 1700003600);
    b = ngx_gp_token_new(TOKEN_SECRET, strlen(TOKEN_SECRET), 1700003600);
    assert_non_null(a);
    assert_non_null(b);

    /* <32 lowercase hex>.1700003600.<43 base64url> */

    len = strlen(a);
    assert_int_equal(len, 32 + 1 + 10 + 1 + 43);
    assert_memory_equal(a + 32, ".1700003600.", 12);
    memcpy(id, a, 32);
    id[32] = '\0';
    assert_true(only_chars(id, "0123456789abcdef"));
    assert_true(only_chars(a + 44, b64url_chars));

    /* a fresh id each time */
    assert_memory_not_equal(a, b, 32);

    /* the signature, computed here */
    memcpy(msg, a, 43);
    msg[43] = '\0';
    want = sign(TOKEN_SECRET, strlen(TOKEN_SECRET), msg);
    assert_string_equal(a, want);
    free(want);

    memset(id, 0, sizeof(id));
    assert_true(verify_str(a, TOKEN_SECRET, 1700000000, id));
    assert_memory_equal(id, a, 32);
    assert_int_equal(id[32], '\0');

    assert_true(verify_str(b, TOKEN_SECRET, 1700003599, NULL));
    assert_false(verify_str(b, TOKEN_SECRET, 1700003600, NULL));
    assert_false(verify_str(b, "another secret", 1700000000, NULL));

    free(a);
    free(b);

    /* binary secrets with NULs */

    /* (HMAC pads short keys with zeros: "k\0k" and "k\0k\0" are one key) */

    a = ngx_gp_token_new("k\0k\1", 4, 1700003600);
    assert_non_null(a);
    assert_true(ngx_gp_token_verify(a, strlen(a), "k\0k\1", 4, 1700000000,
                                    NULL));
    assert_false(ngx_gp_token_verify(a, strlen(a), "k\0k\2", 4, 1700000000,
                                     NULL));
    assert_false(ngx_gp_token_verify(a, strlen(a), "k\0k", 3, 1700000000,
                                     NULL));
    assert_false(ngx_gp_token_verify(a, strlen(a), "k", 1, 1700000000,
                                     NULL));
    free(a);

    assert_null(ngx_gp_token_new(TOKEN_SECRET, 0, 1700003600));
    assert_null(ngx_gp_token_new(NULL, 4, 1700003600));
}


static void
test_token_malformed(void **state)
{
    char    *t;
    size_t   i;

    /* each signed right, so that only the format check can refuse it */
    static const char  *bad[] = {
        "0123456789abcdef0123456789abcde.2000000000",
        "0123456789abcdef0123456789abcdef0.2000000000",
        "0123456789abcdef0123456789abcdeg.2000000000",
        "0123456789ABCDEF0123456789ABCDEF.2000000000",
        "0123456789abcdef 123456789abcdef.2000000000",
        ".2000000000",
        "0123456789abcdef0123456789abcdef.",
        "0123456789abcdef0123456789abcdef.02000000000",
        "0123456789abcdef0123456789abcdef.+2000000000",
        "0123456789abcdef0123456789abcdef. 2000000000",
        "0123456789abcdef0123456789abcdef.2000000000 ",
        "0123456789abcdef0123456789abcdef.2e9",
        "0123456789abcdef0123456789abcdef.0x7fffffff",
        "0123456789abcdef0123456789abcdef.-1",
        "0123456789abcdef0123456789abcdef.2000000000.1",
        "0123456789abcdef0123456789abcdef..2000000000",
        "0123456789abcdef0123456789abcdef2000000000",
        "x.0123456789abcdef0123456789abcdef.2000000000",

        /* 2^63 and 2^64 + 2e9: would wrap to the past and to the future */
        "0123456789abcdef0123456789abcdef.9223372036854775808",
        "0123456789abcdef0123456789abcdef.18446744075709551616",
        "0123456789abcdef0123456789abcdef.99999999999999999999",
        "0123456789abcdef0123456789abcdef.10000000000000000000",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = sign(TOKEN_SECRET, strlen(TOKEN_SECRET), bad[i]);

        if (verify_str(t, TOKEN_SECRET, 1700000000, NULL)) {
            print_message("accepted \"%s\"\n", t);
            fail();
        }

        free(t);
    }

    /* the largest time_t is fine */

    t = sign(TOKEN_SECRET, strlen(TOKEN_SECRET),
             TOKEN_ID ".9223372036854775807");
    assert_true(verify_str(t, TOKEN_SECRET, 1700000000, NULL));
    free(t);

    /* field counts around a good signature */

    assert_false(verify_str(TOKEN_GOOD ".", TOKEN_SECRET, 1700000000,
                            NULL));
    assert_false(verify_str(TOKEN_GOOD ".x", TOKEN_SECRET, 1700000000,
                            NULL));
    assert_false(verify_str(TOKEN_ID ".2000000000", TOKEN_SECRET,
                            1700000000, NULL));
    assert_false(verify_str(TOKEN_ID ".2000000000.", TOKEN_SECRET,
                            1700000000, NULL));
    assert_false(verify_str("", TOKEN_SECRET, 1700000000, NULL));
    assert_false(verify_str("..", TOKEN_SECRET, 1700000000, NULL));

    /* padding on the signature */
    assert_false(verify_str(TOKEN_GOOD "=", TOKEN_SECRET, 1700000000, NULL));

    /* a signature made with the empty secret is no good either */

    t = sign("", 0, TOKEN_ID ".2000000000");
    assert_false(ngx_gp_token_verify(t, strlen(t), "", 0, 1700000000,
                                     NULL));
    free(t);

    assert_false(ngx_gp_token_verify(NULL, 10, TOKEN_SECRET,
                                     strlen(TOKEN_SECRET), 1700000000,
                                     NULL));
    assert_false(ngx_gp_token_verify(TOKEN_GOOD, strlen(TOKEN_GOOD), NULL,
                                     12, 1700000000, NULL));
}


static void
check_key(const char *text, const unsigned char *want)
{
    unsigned char  key[32];

    memset(key, 0xaa, sizeof(key));

    if (ngx_gp_key_parse(text, strlen(text), key) != 0) {
        print_message("refused \"%s\"\n", text);
        fail();
    }

    assert_memory_equal(key, want, 32);
}


static void
test_key_parse(void **state)
{
    size_t          i, n;
    unsigned char   k0[32], k1[32], k2[32], key[32], *d;

    for (i = 0; i < 32; i++) {
        k0[i] = (unsigned char) i;
        k1[i] = (unsigned char) (0xe0 + i);
    }

    for (i = 0; i < 30; i++) {
        k2[i] = (unsigned char) (i % 3 == 1 ? 0xff : (i % 3 ? 0xbf : 0xfb));
    }

    k2[30] = 0xfe;
    k2[31] = 0xfa;

    check_key(key_hex, k0);
    check_key("000102030405060708090A0B0C0D0E0F"
              "101112131415161718191A1B1C1D1E1F", k0);
    check_key("e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
              "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", k1);

    /* Python's b64encode / urlsafe_b64encode, with and without "=" */

    check_key("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=", k1);
    check_key("4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8", k1);
    check_key("4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8=", k1);
    check_key("4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8", k1);
    check_key("+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+//vo=", k2);
    check_key("-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-__vo", k2);

    /* a key read from a file */
    check_key("  4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=\n", k1);
    check_key("\t000102030405060708090a0b0c0d0e0f"
              "101112131415161718191a1b1c1d1e1f\r\n", k0);

    /* the wire decoder agrees */

    d = ngx_gp_base64_decode_any("+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+//vo=",
                                 44, &n);
    assert_non_null(d);
    assert_int_equal(n, 32);
    assert_memory_equal(d, k2, 32);
    free(d);

    {
        static const char  *bad[] = {
            "",
            "   ",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                "0",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
            "00010203040506070809 a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",

            /* base64 of 31 and 33 bytes */
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/g==",
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8A",

            /* foreign characters, bad padding, inner whitespace */
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v*=",
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8==",
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/=8=",
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8 x",
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09 b3+Pn6+/z9/v8=",

            /* nonzero unused bits in the last character */
            "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v9=",
            "4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v9",

            /* 48 bytes of base64 in 64 characters is not 64 hex */
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
                "LS4v",
        };

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memset(key, 0x5a, sizeof(key));

            if (ngx_gp_key_parse(bad[i], strlen(bad[i]), key) == 0) {
                print_message("accepted \"%s\"\n", bad[i]);
                fail();
            }

            /* the key is left alone */
            for (n = 0; n < 32; n++) {
                assert_int_equal(key[n], 0x5a);
            }
        }
    }

    assert_int_equal(ngx_gp_key_parse(NULL, 0, key), -1);
    assert_int_equal(ngx_gp_key_parse(key_hex, 63, key), -1);
}


static void
get_key(unsigned char key[32])
{
    assert_int_equal(ngx_gp_key_parse(key_hex, 64, key), 0);
}


static void
test_secret_known(void **state)
{
    char           *p;
    size_t          n;
    unsigned char   key[32];

    /*
     * AESGCM(bytes(range(32))).encrypt(bytes.fromhex(
     * "cafebabefacedbaddecaf888"), b"1//0Ab-secret-cookie", AAD)
     */
    static const char  text[] =
        "enc:v1:yv66vvrO263eyviIu4yPFusYYmgjaC-4DzDqUGJLqTQF6s_SdzGhCRC1nv"
        "my6gxR";

    get_key(key);

    n = 0;
    p = ngx_gp_secret_decrypt(key, AAD, text, strlen(text), &n);
    assert_non_null(p);
    assert_int_equal(n, 20);
    assert_string_equal(p, "1//0Ab-secret-cookie");
    free(p);

    assert_null(ngx_gp_secret_decrypt(key, "accounts.secure_c_os", text,
                                      strlen(text), &n));
    assert_null(ngx_gp_secret_decrypt(key, NULL, text, strlen(text), &n));

    key[31] ^= 0x01;
    assert_null(ngx_gp_secret_decrypt(key, AAD, text, strlen(text), &n));
}


static void
test_secret_round_trip(void **state)
{
    char           *a, *b, *p;
    size_t          i, n, len, blen;
    unsigned char  *plain, *bin, key[32];
    uint64_t        seed;

    static const size_t  lens[] = {
        0, 1, 2, 3, 4, 15, 16, 17, 31, 32, 33, 100, 4096, 70000
    };

    get_key(key);
    seed = 0x9e3779b97f4a7c15ULL;

    plain = malloc(70000);
    assert_non_null(plain);

    for (i = 0; i < 70000; i++) {
        plain[i] = (unsigned char) unit_rand(&seed);
    }

    plain[1] = '\0';

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        len = lens[i];

        a = ngx_gp_secret_encrypt(key, AAD, plain, len);
        b = ngx_gp_secret_encrypt(key, AAD, plain, len);
        assert_non_null(a);
        assert_non_null(b);

        /* enc:v1: + base64url(12 + len + 16), unpadded */

        blen = 12 + len + 16;
        assert_int_equal(strlen(a), 7 + blen / 3 * 4
                                    + (blen % 3 ? blen % 3 + 1 : 0));
        assert_memory_equal(a, "enc:v1:", 7);
        assert_true(only_chars(a + 7, b64url_chars));
        assert_true(ngx_gp_secret_is_encrypted(a, strlen(a)));

        bin = ngx_gp_base64_decode_any(a + 7, strlen(a + 7), &n);
        assert_non_null(bin);
        assert_int_equal(n, blen);
        free(bin);

        /* a fresh nonce each time */
        assert_string_not_equal(a, b);

        n = 12345;
        p = ngx_gp_secret_decrypt(key, AAD, a, strlen(a), &n);
        assert_non_null(p);
        assert_int_equal(n, len);
        assert_memory_equal(p, plain, len);
        assert_int_equal(p[len], '\0');
        free(p);

        p = ngx_gp_secret_decrypt(key, AAD, b, strlen(b), NULL);
        assert_non_null(p);
        assert_memory_equal(p, plain, len);
        free(p);

        free(a);
        free(b);
    }

    free(plain);

    /* no aad is the empty aad */

    a = ngx_gp_secret_encrypt(key, NULL, "x", 1);
    assert_non_null(a);
    p = ngx_gp_secret_decrypt(key, "", a, strlen(a), &n);
    assert_non_null(p);
    assert_string_equal(p, "x");
    free(p);
    assert_null(ngx_gp_secret_decrypt(key, "a", a, strlen(a), &n));
    free(a);

    assert_null(ngx_gp_secret_encrypt(key, AAD, NULL, 1));
}


static void
test_secret_reject(void **state)
{
    char           *a, *t, *e;
    size_t          i, j, n, len, elen;
    unsigned char  *bin, key[32], other[32];

    static const char  *bad_b64[] = {
        "+", "/", "=", "==", " ", "\n", "*", ".", "\x80",
    };

    get_key(key);

    a = ngx_gp_secret_encrypt(key, AAD, "AIzaSy-long-lived-secret", 24);
    assert_non_null(a);
    len = strlen(a);

    /* wrong keys: each bit of the first and the last byte */

    for (i = 0; i < 16; i++) {
        memcpy(other, key, 32);
        other[i < 8 ? 0 : 31] ^= (unsigned char) (1 << (i % 8));
        assert_null(ngx_gp_secret_decrypt(other, AAD, a, len, &n));
    }

    /* wrong aad */

    assert_null(ngx_gp_secret_decrypt(key, "accounts.secure_c_os", a, len,
                                      &n));
    assert_null(ngx_gp_secret_decrypt(key, "accounts.secure_c_se", a, len,
                                      &n));
    assert_null(ngx_gp_secret_decrypt(key, AAD "s", a, len, &n));
    assert_null(ngx_gp_secret_decrypt(key, "", a, len, &n));

    /* truncated: every shorter prefix */

    for (i = 0; i < len; i++) {
        assert_null(ngx_gp_secret_decrypt(key, AAD, a, i, &n));
    }

    /* tampered: each bit of nonce, ciphertext and tag */

    bin = ngx_gp_base64_decode_any(a + 7, len - 7, &n);
    assert_non_null(bin);
    assert_int_equal(n, 12 + 24 + 16);

    for (i = 0; i < n * 8; i++) {
        bin[i / 8] ^= (unsigned char) (1 << (i % 8));

        e = ngx_gp_base64_encode(bin, n, NGX_GP_BASE64_URL, &elen);
        assert_non_null(e);

        t = malloc(7 + elen + 1);
        assert_non_null(t);
        memcpy(t, "enc:v1:", 7);
        memcpy(t + 7, e, elen + 1);

        assert_null(ngx_gp_secret_decrypt(key, AAD, t, 7 + elen, NULL));

        free(t);
        free(e);
        bin[i / 8] ^= (unsigned char) (1 << (i % 8));
    }

    /* ciphertext bytes dropped or added, re-encoded as valid base64url */

    for (i = 0; i < 3; i++) {
        e = ngx_gp_base64_encode(bin, n - 1 - i, NGX_GP_BASE64_URL,
                                 &elen);
        assert_non_null(e);
        t = malloc(7 + elen + 1);
        assert_non_null(t);
        memcpy(t, "enc:v1:", 7);
        memcpy(t + 7, e, elen + 1);
        assert_null(ngx_gp_secret_decrypt(key, AAD, t, 7 + elen, NULL));
        free(t);
        free(e);
    }

    free(bin);

    /* bad base64: a foreign character anywhere, padding, whitespace */

    t = malloc(len + 2);
    assert_non_null(t);

    for (j = 0; j < sizeof(bad_b64) / sizeof(bad_b64[0]); j++) {
        for (i = 7; i <= len; i++) {
            memcpy(t, a, i);
            t[i] = bad_b64[j][0];
            memcpy(t + i + 1, a + i, len - i + 1);

            assert_null(ngx_gp_secret_decrypt(key, AAD, t, len + 1, NULL));
        }
    }

    /* 24 + 28 = 52 bytes: the last character carries 4 unused bits */
    assert_int_equal((len - 7) % 4, 2);
    memcpy(t, a, len + 1);
    t[len - 1] = b64url_chars[(strchr(b64url_chars, t[len - 1])
                               - b64url_chars) | 1];
    assert_null(ngx_gp_secret_decrypt(key, AAD, t, len, NULL));

    /* the same bytes with "==" padding */
    memcpy(t, a, len);
    memcpy(t + len, "==", 2);
    assert_null(ngx_gp_secret_decrypt(key, AAD, t, len + 2, NULL));

    free(t);

    /*
     * the same text in the standard alphabet ('-' as '+', '_' as '/'):
     * one text in ten has neither, so try a few nonces
     */

    for (i = 0; i < 100; i++) {
        e = ngx_gp_secret_encrypt(key, AAD, "x", 1);
        assert_non_null(e);

        if (strpbrk(e + 7, "-_")) {
            break;
        }

        free(e);
    }

    assert_true(i < 100);

    for (t = e + 7; *t; t++) {
        *t = *t == '-' ? '+' : (*t == '_' ? '/' : *t);
    }

    assert_null(ngx_gp_secret_decrypt(key, AAD, e, strlen(e), NULL));

    free(e);

    /* not ours */

    assert_null(ngx_gp_secret_decrypt(key, AAD, "plain text", 10, &n));
    assert_null(ngx_gp_secret_decrypt(key, AAD, "enc:v1:", 7, &n));
    assert_null(ngx_gp_secret_decrypt(key, AAD, "enc:v1", 6, &n));
    assert_null(ngx_gp_secret_decrypt(key, AAD, "", 0, &n));
    assert_null(ngx_gp_secret_decrypt(key, AAD, NULL, 0, &n));

    t = strdup(a);
    assert_non_null(t);
    t[4] = '2';
    assert_null(ngx_gp_secret_decrypt(key, AAD, t, len, &n));
    memcpy(t, "ENC", 3);
    t[4] = '1';
    assert_null(ngx_gp_secret_decrypt(key, AAD, t, len, &n));
    free(t);

    /* and the original still decrypts */

    t = ngx_gp_secret_decrypt(key, AAD, a, len, &n);
    assert_non_null(t);
    assert_string_equal(t, "AIzaSy-long-lived-secret");
    free(t);

    free(a);
}


static void
test_is_encrypted(void **state)
{
    assert_true(ngx_gp_secret_is_encrypted("enc:v1:", 7));
    assert_true(ngx_gp_secret_is_encrypted("enc:v1:abc", 10));
    assert_false(ngx_gp_secret_is_encrypted("enc:v1:abc", 6));
    assert_false(ngx_gp_secret_is_encrypted("enc:v2:abc", 10));
    assert_false(ngx_gp_secret_is_encrypted("ENC:v1:abc", 10));
    assert_false(ngx_gp_secret_is_encrypted("1//0Ab", 6));
    assert_false(ngx_gp_secret_is_encrypted("", 0));
    assert_false(ngx_gp_secret_is_encrypted(NULL, 0));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_random_hex),
        cmocka_unit_test(test_api_key),
        cmocka_unit_test(test_password_known),
        cmocka_unit_test(test_password_round_trip),
        cmocka_unit_test(test_password_default),
        cmocka_unit_test(test_password_malformed),
        cmocka_unit_test(test_token_known),
        cmocka_unit_test(test_token_round_trip),
        cmocka_unit_test(test_token_malformed),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_secret_known),
        cmocka_unit_test(test_secret_round_trip),
        cmocka_unit_test(test_secret_reject),
        cmocka_unit_test(test_is_encrypted),
    };

    UNIT_RUN("crypto", tests);
}
