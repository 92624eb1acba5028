
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Shared bits of the libFuzzer targets of the pure parsers (t/fuzz/).
 * A broken property aborts with the file, line and condition; libFuzzer
 * then saves the input as crash-<sha1>.
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz: %s:%d: property broken: %s\n",            \
                    __FILE__, __LINE__, #cond);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


/* two byte strings are equal (NULL only equals NULL) */
#define FUZZ_SAME_MEM(a, alen, b, blen)                                       \
    FUZZ_CHECK(((a) == NULL) == ((b) == NULL)                                 \
               && ((a) == NULL                                                \
                   || ((alen) == (blen)                                       \
                       && memcmp(a, b, alen) == 0)))

#define FUZZ_SAME_STR(a, b)                                                   \
    FUZZ_CHECK(((a) == NULL) == ((b) == NULL)                                 \
               && ((a) == NULL || strcmp(a, b) == 0))


/* a PRNG seeded from the input: the same input cuts the same way */

static inline uint64_t
fuzz_seed(const uint8_t *p, size_t n)
{
    size_t    i;
    uint64_t  h;

    h = 14695981039346656037ULL;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }

    return h ? h : 1;
}


static inline uint64_t
fuzz_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;

    return *s * 0x2545f4914f6cdd1dULL;
}


static inline size_t
fuzz_rand_n(uint64_t *s, size_t n)
{
    return n ? (size_t) (fuzz_rand(s) % n) : 0;
}


/*
 * The text with a member whose key has an escape put first: the fast
 * paths refuse such a key, so this copy always goes through jansson.
 * NULL when p is not "{..." after blanks (or memory ran out); free().
 */

static inline char *
fuzz_jansson_copy(const char *p, size_t len, size_t *out_len)
{
    char        *s;
    size_t       i, n;
    const char  *key = "{\"\\u0078\":0";

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            break;
        }
    }

    if (i == len || p[i] != '{') {
        return NULL;
    }

    n = strlen(key);
    s = malloc(n + 1 + len - i);
    if (s == NULL) {
        return NULL;
    }

    memcpy(s, key, n);

    /* "{}" stays an object with one member: no ',' before the '}' */
    i++;
    {
        size_t  j = i;

        while (j < len && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n'
                           || p[j] == '\r'))
        {
            j++;
        }

        if (j < len && p[j] != '}') {
            s[n++] = ',';
        }
    }

    memcpy(s + n, p + i, len - i);
    *out_len = n + len - i;

    return s;
}


#endif /* _FUZZ_H_INCLUDED_ */
