
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The settings' one check, as PUT /api/settings, an import (ours and the
 * reference's) and the store's load apply it to outside values: the
 * input is a setting's index (its first byte), then the value.  Both the
 * value as text (the stored form, an import's string) and the value as a
 * JSON body member (the admin API: a JSON value turned into the text to
 * store) are checked.  Properties: the check answers NULL or a phrase;
 * a value it takes has the number its type says (an INT within its
 * bounds and equal to the text's number, a BOOL 0 or 1, a CHOICE the
 * index of that very text among the allowed), and a value longer than
 * a slot is refused.  Built against nginx's headers and the
 * configuration of scripts/build.
 */


#include "fuzz.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_gemini_pool_settings.h"


/*
 * The nginx functions settings.c calls, with nginx's contracts (Debian's
 * nginx-dev has headers only): ngx_atoi takes digits only and gives
 * NGX_ERROR for none, another byte or an overflow.
 */

ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    ngx_int_t  value, d;

    if (n == 0) {
        return NGX_ERROR;
    }

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        d = *line - '0';

        if (value > (NGX_MAX_INT_T_VALUE - d) / 10) {
            return NGX_ERROR;
        }

        value = value * 10 + d;
    }

    return value;
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n && *src) {
        *dst++ = *src++;
    }

    *dst = '\0';

    return dst;
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n--) {
        c1 = (ngx_uint_t) tolower(*s1++);
        c2 = (ngx_uint_t) tolower(*s2++);

        if (c1 != c2) {
            return c1 < c2 ? -1 : 1;
        }

        if (c1 == 0) {
            return 0;
        }
    }

    return 0;
}


/*
 * ngx_snprintf as settings.c uses it: "%L" (int64_t) and "%Z" (NUL) in
 * its bounds phrase; any other conversion is a harness bug
 */

u_char *
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    int      n;
    u_char  *p, *last;
    va_list  args;

    p = buf;
    last = buf + max;

    va_start(args, fmt);

    while (*fmt && p < last) {
        if (*fmt != '%') {
            *p++ = (u_char) *fmt++;
            continue;
        }

        fmt++;

        if (*fmt == 'L') {
            n = snprintf((char *) p, last - p, "%lld",
                         (long long) va_arg(args, int64_t));
            p += (n < 0) ? 0 : ((size_t) n < (size_t) (last - p)
                                ? (size_t) n : (size_t) (last - p));

        } else if (*fmt == 'Z') {
            *p++ = '\0';

        } else {
            abort();
        }

        fmt++;
    }

    va_end(args);

    return p;
}


/* the zone's lock: the getters are not fuzzed */

void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
    abort();
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
    abort();
}


static void
check_text(ngx_uint_t i, const char *text)
{
    const char                  *err;
    ngx_int_t                    number;
    const ngx_gp_setting_def_t  *d;

    d = ngx_gp_setting_def(i);
    number = -1;
    err = ngx_gp_setting_check(i, (const u_char *) text, &number);

    if (strlen(text) >= NGX_GP_SETTING_VALUE_LEN) {
        FUZZ_CHECK(err != NULL);
    }

    if (err != NULL) {
        FUZZ_CHECK(*err != '\0');
        return;
    }

    switch (d->type) {

    case NGX_GP_SETTING_INT:
        FUZZ_CHECK(number >= d->min && (d->max < 0 || number <= d->max));
        FUZZ_CHECK(text[0] >= '0' && text[0] <= '9');
        FUZZ_CHECK(number == ngx_atoi((u_char *) text, strlen(text)));
        break;

    case NGX_GP_SETTING_BOOL:
        FUZZ_CHECK(number == 0 || number == 1);
        FUZZ_CHECK(strcmp(text, number ? "true" : "false") == 0
                   || strcmp(text, number ? "1" : "0") == 0);
        break;

    case NGX_GP_SETTING_CHOICE:
        FUZZ_CHECK(number >= 0 && d->allowed[number] != NULL);
        FUZZ_CHECK(strcmp(d->allowed[number], text) == 0);
        break;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         *text, buf[32];
    json_t       *v;
    ngx_uint_t    i;
    const char   *t;

    if (size == 0) {
        return 0;
    }

    i = data[0] % NGX_GP_SET_N;
    FUZZ_CHECK(ngx_gp_setting_index(ngx_gp_setting_def(i)->key)
               == (ngx_int_t) i);

    text = strndup((const char *) data + 1, size - 1);
    FUZZ_CHECK(text != NULL);

    check_text(i, text);
    (void) ngx_gp_proxy_valid((const u_char *) text);
    (void) ngx_gp_setting_index(text);

    v = json_loadb((const char *) data + 1, size - 1, JSON_DECODE_ANY, NULL);

    if (v != NULL) {
        t = ngx_gp_setting_json_text(i, v, buf, sizeof(buf));

        if (t != NULL) {
            FUZZ_CHECK(strlen(t) < NGX_GP_SETTING_VALUE_LEN);
            check_text(i, t);
        }

        json_decref(v);
    }

    free(text);

    return 0;
}
