
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Secrets, as pure functions over OpenSSL: random tokens, API keys and
 * their hashes, admin password hashes (PBKDF2-HMAC-SHA256), signed admin
 * session tokens (HMAC-SHA256), constant-time comparison, and secrets at
 * rest (AES-256-GCM).
 *
 * Pure C: no nginx.  Returned strings are malloc'ed (free()).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_CRYPTO_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_CRYPTO_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


/* 1 when equal; the time taken depends only on the lengths */
int ngx_gp_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* n random bytes from OpenSSL's CSPRNG as lowercase hex (2n chars) */
char *ngx_gp_random_hex(size_t n);

/* lowercase hex SHA-256 of p (64 chars) */
char *ngx_gp_sha256_hex(const void *p, size_t len);

/* releases what the digests keep per process (at exit) */
void ngx_gp_crypto_cleanup(void);


/*
 * API keys: "sk-gp-" followed by 40 base62 characters from the CSPRNG.
 * Only the SHA-256 hex of a key is stored; the key is shown once.
 */
#define NGX_GP_API_KEY_PREFIX  "sk-gp-"

char *ngx_gp_api_key_new(void);


/*
 * Admin password hashes in the form
 *   pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>
 * with a 16-byte random salt and a 32-byte derived key.  verify returns 1
 * on a match, 0 otherwise (also for malformed stored values); it compares
 * in constant time.  iterations 0 means the default (600000).
 */
char *ngx_gp_password_hash(const char *password, unsigned iterations);
int ngx_gp_password_verify(const char *password, const char *stored);


/*
 * Admin session tokens: "<id>.<expires>.<signature>" where id is 32 hex
 * characters (random, also the key of the session in the store so that
 * logout can revoke it), expires is a decimal Unix time, and signature is
 * the base64url (no padding) HMAC-SHA256 of "<id>.<expires>" under the
 * admin secret.
 *
 * verify returns 1 when the signature matches and expires > now, copying
 * the id (33 bytes with NUL) into id_out; 0 otherwise.
 */
char *ngx_gp_token_new(const char *secret, size_t secret_len, time_t expires);
int ngx_gp_token_verify(const char *token, size_t len, const char *secret,
    size_t secret_len, time_t now, char *id_out);


/*
 * Secrets at rest: "enc:v1:" + base64url(nonce(12) || ciphertext || tag(16))
 * under a 32-byte key with AES-256-GCM; the associated data binds the
 * value to its place (e.g. "accounts.secure_c_ses"), so a ciphertext moved
 * to another column does not decrypt.
 *
 * ngx_gp_secret_encrypt returns the text form; ngx_gp_secret_decrypt
 * returns the plaintext (NUL-terminated, *out_len without it) or NULL
 * when the value is not ours, is corrupt, or the key is wrong.  A value
 * without the "enc:v1:" prefix is plaintext: ngx_gp_secret_is_encrypted()
 * tells them apart.
 *
 * Keys: ngx_gp_key_parse accepts 64 hex characters or base64/base64url of
 * 32 bytes (as API_KEY_ENCRYPTION_KEY may hold); returns 0 and fills key,
 * or -1.
 */
int ngx_gp_key_parse(const char *text, size_t len, unsigned char key[32]);
char *ngx_gp_secret_encrypt(const unsigned char key[32], const char *aad,
    const void *plain, size_t len);
char *ngx_gp_secret_decrypt(const unsigned char key[32], const char *aad,
    const char *text, size_t len, size_t *out_len);
int ngx_gp_secret_is_encrypted(const char *text, size_t len);


#endif /* _NGX_HTTP_GEMINI_POOL_CRYPTO_H_INCLUDED_ */
