
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Text helpers of the pure parts, as pure functions: UTF-8 sequences and
 * cuts, memory copies and searches, base64, and a growing buffer with its
 * JSON string writer.  The one copy of each: wire.c, openai.c, input.c
 * and crypto.c build on these.
 *
 * Pure C: no nginx.  Returned strings are malloc'ed (free()).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_TEXT_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_TEXT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>


/*
 * Eight bytes at a time (x is a uint64_t of them): whether a byte is zero,
 * or below n (n <= 0x80), exact as a yes/no answer for the eight; and the
 * byte c eight times.
 */

#define NGX_GP_SWAR_ONES         0x0101010101010101ULL
#define NGX_GP_SWAR_HIGHS        0x8080808080808080ULL
#define ngx_gp_swar_zero(x)                                                  \
    (((x) - NGX_GP_SWAR_ONES) & ~(x) & NGX_GP_SWAR_HIGHS)
#define ngx_gp_swar_below(x, n)                                              \
    (((x) - (n) * NGX_GP_SWAR_ONES) & ~(x) & NGX_GP_SWAR_HIGHS)
#define ngx_gp_swar_byte(c)      ((c) * NGX_GP_SWAR_ONES)


/* UTF-8 */

/*
 * The length of the valid UTF-8 sequence at p (n bytes readable, n > 0),
 * or 0: overlong forms, surrogates and code points above U+10FFFF are
 * invalid.  Inline: the JSON scanners and writers call it per character.
 */

static inline size_t
ngx_gp_utf8_seq(const unsigned char *p, size_t n)
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


/* the code point of a valid sequence of n bytes (from ngx_gp_utf8_seq()) */

static inline uint32_t
ngx_gp_utf8_cp(const unsigned char *p, size_t n)
{
    switch (n) {

    case 1:
        return p[0];

    case 2:
        return ((uint32_t) (p[0] & 0x1f) << 6) | (p[1] & 0x3f);

    case 3:
        return ((uint32_t) (p[0] & 0x0f) << 12)
               | ((uint32_t) (p[1] & 0x3f) << 6) | (p[2] & 0x3f);

    default:
        return ((uint32_t) (p[0] & 0x07) << 18)
               | ((uint32_t) (p[1] & 0x3f) << 12)
               | ((uint32_t) (p[2] & 0x3f) << 6) | (p[3] & 0x3f);
    }
}


/*
 * len cut to at most max bytes without leaving an incomplete character
 * at the end (only the bytes below max are read): a character that the
 * cut splits goes entirely.
 */
size_t ngx_gp_utf8_cut(const char *p, size_t len, size_t max);

/* a malloc'ed copy where every invalid byte (and NUL) becomes U+FFFD */
char *ngx_gp_utf8_sanitize(const char *p, size_t len, size_t *out_len);


/* memory */

/* a malloc'ed NUL-terminated copy of len bytes */
char *ngx_gp_mem_dup(const char *p, size_t len);

/* the same of a C string; NULL for NULL */
char *ngx_gp_str_dup(const char *s);

/* the first s (n bytes, n > 0) in p, or NULL */
const char *ngx_gp_mem_find(const char *p, size_t len, const char *s,
    size_t n);

/* 1 when p starts with prefix (lower case) in any ASCII case */
int ngx_gp_prefix_ci(const char *p, size_t len, const char *prefix);

/*
 * Percent-encodes s into dst (RFC 3986: every byte but the unreserved
 * ones, upper-case hex), NUL-terminated; stops before a byte that would
 * not fit.  Returns the length written.
 */
size_t ngx_gp_url_escape(char *dst, size_t size, const char *s);


/* base64 */

#define NGX_GP_BASE64_STD  0   /* "+/" with '=' padding */
#define NGX_GP_BASE64_URL  1   /* base64url: "-_" without padding */

/* the length of the text of len bytes (without the NUL) */
size_t ngx_gp_base64_len(size_t len, int url);

/* the text and a NUL into out (ngx_gp_base64_len() + 1); its length */
size_t ngx_gp_base64_encode_to(const unsigned char *p, size_t len, int url,
    char *out);

/* the same, malloc'ed; NULL when memory ran out */
char *ngx_gp_base64_encode(const unsigned char *p, size_t len, int url,
    size_t *out_len);

/*
 * Decodes base64url or standard base64, with or without '=' padding;
 * whitespace is skipped.  Returns malloc'ed bytes (NUL-terminated for
 * convenience) or NULL on invalid input.
 */
unsigned char *ngx_gp_base64_decode_any(const char *p, size_t len,
    size_t *out_len);

/*
 * Strict decoding into out (len / 4 * 3 + 2 bytes): base64url without
 * padding, or with any set also standard base64 with complete padding;
 * no whitespace, and the unused low bits of the last character must be
 * zero.  Without any, every byte string has exactly one accepted text;
 * with any (keys read from configuration) the alphabets may mix and the
 * padding may be left out, as t/fuzz/fuzz_crypto checks.
 * Returns 0 and *out_len, or -1.
 */
int ngx_gp_base64_decode_strict(const char *p, size_t len, int any,
    unsigned char *out, size_t *out_len);


/*
 * A growing malloc'ed text buffer and its JSON writers.  A failed
 * allocation sets failed and makes ngx_gp_buf_finish() return NULL;
 * zero-initialise before use.  With ext set, p and cap are the caller's
 * storage: the text stays there while it fits and moves to a malloc'ed
 * copy when it does not.
 */

typedef struct {
    char          *p;
    size_t         len;
    size_t         cap;
    int            failed;
    int            ext;       /* p is the caller's: never freed or grown */
} ngx_gp_buf_t;

/* makes room for n more bytes and the terminating NUL */
void ngx_gp_buf_reserve(ngx_gp_buf_t *b, size_t n);


/* inline: the renderers add short literals many times per chunk */

static inline void
ngx_gp_buf_add(ngx_gp_buf_t *b, const char *p, size_t n)
{
    if (b->p == NULL || n >= b->cap - b->len) {
        ngx_gp_buf_reserve(b, n);
    }

    if (b->failed) {
        return;
    }

    if (n) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}


#define ngx_gp_buf_lit(b, s)  ngx_gp_buf_add(b, s, sizeof(s) - 1)

/*
 * A JSON string: '"', '\\' and controls escaped, other text copied as
 * UTF-8, every byte of an invalid sequence written as U+FFFD; NULL
 * writes null.
 */
void ngx_gp_buf_str(ngx_gp_buf_t *b, const char *p, size_t n);
void ngx_gp_buf_cstr(ngx_gp_buf_t *b, const char *s);

/* JSON numbers */
void ngx_gp_buf_int(ngx_gp_buf_t *b, int64_t v);
void ngx_gp_buf_uint(ngx_gp_buf_t *b, uint64_t v);

/* NUL-terminates and hands the text over; NULL when anything failed */
char *ngx_gp_buf_finish(ngx_gp_buf_t *b, size_t *len);


#endif /* _NGX_HTTP_GEMINI_POOL_TEXT_H_INCLUDED_ */
