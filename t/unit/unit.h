
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


#endif /* _UNIT_H_INCLUDED_ */
