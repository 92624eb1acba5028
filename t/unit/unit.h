
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Shared bits of the cmocka unit tests.
 */


#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>


/*
 * Runs a group and prints "unit-summary: <passed> <failed>" for the
 * Makefile, which adds the counts of every binary.
 */
#define UNIT_RUN(name, tests)                                                 \
    do {                                                                      \
        int  failed_;                                                         \
        int  total_ = (int) (sizeof(tests) / sizeof((tests)[0]));             \
                                                                              \
        failed_ = cmocka_run_group_tests_name(name, tests, NULL, NULL);       \
        printf("unit-summary: %d %d\n", total_ - failed_, failed_);           \
        fflush(stdout);                                                       \
        return failed_ ? 1 : 0;                                               \
    } while (0)


/* deterministic PRNG (xorshift64*), state owned by the caller */

static inline uint64_t
unit_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;

    return *s * 0x2545f4914f6cdd1dULL;
}


static inline size_t
unit_rand_n(uint64_t *s, size_t n)
{
    return n ? (size_t) (unit_rand(s) % n) : 0;
}


/* 1 when p[0..len) is valid JSON (jansson also checks UTF-8) */

static inline int
unit_json_valid(const char *p, size_t len)
{
    json_t        *j;
    json_error_t   e;

    j = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (j == NULL) {
        print_message("invalid JSON: %s at %d: %.*s\n", e.text, e.column,
                      (int) len, p);
        return 0;
    }

    json_decref(j);

    return 1;
}


/* 1 when p[0..len) is valid UTF-8 (no overlongs, surrogates, > U+10FFFF) */

static inline int
unit_utf8_valid(const char *p, size_t len)
{
    json_t  *j;

    j = json_stringn(p, len);
    if (j == NULL) {
        return 0;
    }

    json_decref(j);

    return 1;
}


/*
 * A mutation of a JSON text for the differential tests of the fast paths
 * against jansson: one to three deletions, overwrites or insertions of
 * bytes and tokens (escapes, "\u0000" in keys and values, structure).
 * out must hold strlen(in) + 3 * 16 + 1 bytes.
 */

static inline size_t
unit_mutate(uint64_t *s, const char *in, char *out)
{
    int          m;
    size_t       len, pos, tl;
    const char  *t;

    static const char  *tokens[] = {
        "\\u0000", "\"", "{", "}", "[", "]", ",", ":", "\\", "\\u0041",
        "a", "1", "-", "e", "0", "null", "true", " ", "\"\\u0000\":1,",
        "\"a\\u0000b\":", "\\ud800", "\xff", "\xc3\xa9", "\"k\":1,",
        "\\\"", "\\/"
    };

    len = strlen(in);
    memcpy(out, in, len + 1);

    for (m = 1 + (int) unit_rand_n(s, 3); m > 0; m--) {
        pos = unit_rand_n(s, len + 1);
        t = tokens[unit_rand_n(s, sizeof(tokens) / sizeof(tokens[0]))];
        tl = strlen(t);

        switch (unit_rand_n(s, 3)) {

        case 0:
            if (pos < len) {
                memmove(out + pos, out + pos + 1, len - pos);
                len--;
            }
            break;

        case 1:
            if (pos < len) {
                out[pos] = t[0];
            }
            break;

        default:
            memmove(out + pos + tl, out + pos, len - pos + 1);
            memcpy(out + pos, t, tl);
            len += tl;
            break;
        }
    }

    return len;
}


#endif /* _UNIT_H_INCLUDED_ */
