
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The sign-in recipe: its parser and the rules that read a page (see
 * the header).  Pure C: no nginx.
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_http_gemini_pool_recipe.h"


const char  *ngx_gp_recipe_keys[NGX_GP_R_LISTS] = {
    [NGX_GP_R_LOGIN_PAGE] = "login_page",
    [NGX_GP_R_HOME_PAGE] = "home_page",
    [NGX_GP_R_EMAIL_INPUT] = "email_input",
    [NGX_GP_R_CONTINUE] = "continue",
    [NGX_GP_R_CODE_PAGE_URL] = "code_page_url",
    [NGX_GP_R_CODE_INPUT] = "code_input",
    [NGX_GP_R_VERIFY] = "verify",
    [NGX_GP_R_RESEND] = "resend",
    [NGX_GP_R_SENT_TEXT] = "sent_text",
    [NGX_GP_R_RETRY_TEXT] = "retry_text",
    [NGX_GP_R_CODE_ERROR_TEXT] = "code_error_text",
    [NGX_GP_R_LIMIT_TEXT] = "limit_text",
    [NGX_GP_R_ERROR_TEXT] = "error_text",
    [NGX_GP_R_CHALLENGE] = "challenge",
    [NGX_GP_R_NOT_SUCCESS_URL] = "not_success_url",
    [NGX_GP_R_MAILBOX_TAB] = "mailbox_tab",
    [NGX_GP_R_MAILBOX_REFRESH] = "mailbox_refresh",
    [NGX_GP_R_MAILBOX_ITEM] = "mailbox_item"
};


/* keys every recipe must give */
static const unsigned  ngx_gp_recipe_required[] = {
    NGX_GP_R_LOGIN_PAGE, NGX_GP_R_HOME_PAGE, NGX_GP_R_EMAIL_INPUT,
    NGX_GP_R_CONTINUE, NGX_GP_R_CODE_INPUT, NGX_GP_R_VERIFY,
    NGX_GP_R_LIMIT_TEXT, NGX_GP_R_CODE_ERROR_TEXT
};


static const struct {
    const char     *name;
    unsigned long   dflt;       /* ms */
} ngx_gp_recipe_timeouts[NGX_GP_RT_N] = {
    [NGX_GP_RT_PAGE] = { "timeout_page", 60000 },
    [NGX_GP_RT_EMAIL_INPUT] = { "timeout_email_input", 30000 },
    [NGX_GP_RT_CODE_PAGE] = { "timeout_code_page", 60000 },
    [NGX_GP_RT_CHALLENGE] = { "timeout_challenge", 60000 },
    [NGX_GP_RT_READY] = { "timeout_ready", 30000 },
    [NGX_GP_RT_TOAST] = { "timeout_toast", 90000 },
    [NGX_GP_RT_MAIL] = { "timeout_mail", 120000 },
    [NGX_GP_RT_MAIL_POLL] = { "mail_poll", 5000 },
    [NGX_GP_RT_OUTCOME] = { "timeout_outcome", 30000 },
    [NGX_GP_RT_HARVEST] = { "timeout_harvest", 20000 },
    [NGX_GP_RT_LOGIN] = { "timeout_login", 600000 },
    [NGX_GP_RT_CALL] = { "timeout_call", 30000 },
    [NGX_GP_RT_POLL] = { "poll", 500 }
};


static int
ngx_gp_recipe_error(char *err, size_t errlen, int line, const char *fmt,
    const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    return line;
}


/* "30", "30s", "500ms", "2m" */

static int
ngx_gp_recipe_duration(const char *v, unsigned long *ms)
{
    char           *end;
    unsigned long   n;

    if (!isdigit((unsigned char) v[0])) {
        return -1;
    }

    n = strtoul(v, &end, 10);

    if (n > 86400000UL) {
        return -1;
    }

    if (*end == '\0' || strcmp(end, "s") == 0) {
        n *= 1000;

    } else if (strcmp(end, "m") == 0) {
        n *= 60000;

    } else if (strcmp(end, "ms") != 0) {
        return -1;
    }

    *ms = n;

    return 0;
}


int
ngx_gp_recipe_parse(ngx_gp_recipe_t *r, const char *text, size_t len,
    char *err, size_t errlen)
{
    int            line;
    char           buf[1024], *key, *value, *e;
    size_t         n;
    unsigned       i, k, seen_rounds, seen[NGX_GP_RT_N];
    const char    *p, *last, *nl;
    unsigned long  ms;

    memset(r, 0, sizeof(ngx_gp_recipe_t));
    memset(seen, 0, sizeof(seen));
    seen_rounds = 0;

    for (i = 0; i < NGX_GP_RT_N; i++) {
        r->timeout[i] = ngx_gp_recipe_timeouts[i].dflt;
    }

    r->code_rounds = 3;

    p = text;
    last = text + len;
    line = 0;

    while (p < last) {
        line++;

        nl = memchr(p, '\n', last - p);
        n = (nl ? nl : last) - p;

        if (n >= sizeof(buf)) {
            return ngx_gp_recipe_error(err, errlen, line, "%s",
                                       "the line is too long");
        }

        memcpy(buf, p, n);
        buf[n] = '\0';
        p = nl ? nl + 1 : last;

        /* trim; a line starting with "#" is a comment */
        while (n && isspace((unsigned char) buf[n - 1])) {
            buf[--n] = '\0';
        }

        key = buf;
        while (isspace((unsigned char) *key)) {
            key++;
        }

        if (*key == '\0' || *key == '#') {
            continue;
        }

        for (e = key; *e && !isspace((unsigned char) *e); e++) {
            /* void */
        }

        value = e;

        while (isspace((unsigned char) *value)) {
            value++;
        }

        *e = '\0';

        if (*value == '\0') {
            return ngx_gp_recipe_error(err, errlen, line,
                                       "\"%s\" needs a value", key);
        }

        if (strcmp(key, "code_rounds") == 0) {
            k = (unsigned) strtoul(value, &e, 10);

            if (seen_rounds++ || *e != '\0' || k < 1 || k > 10) {
                return ngx_gp_recipe_error(err, errlen, line,
                                           "code_rounds must be given once, "
                                           "1 to 10, not \"%s\"", value);
            }

            r->code_rounds = k;
            continue;
        }

        for (i = 0; i < NGX_GP_RT_N; i++) {
            if (strcmp(key, ngx_gp_recipe_timeouts[i].name) == 0) {
                break;
            }
        }

        if (i < NGX_GP_RT_N) {
            if (seen[i]++) {
                return ngx_gp_recipe_error(err, errlen, line,
                                           "\"%s\" is given twice", key);
            }

            if (ngx_gp_recipe_duration(value, &ms) != 0 || ms == 0) {
                return ngx_gp_recipe_error(err, errlen, line,
                                           "invalid duration \"%s\" "
                                           "(30, 30s, 500ms, 2m)", value);
            }

            r->timeout[i] = ms;
            continue;
        }

        for (k = 0; k < NGX_GP_R_LISTS; k++) {
            if (strcmp(key, ngx_gp_recipe_keys[k]) == 0) {
                break;
            }
        }

        if (k == NGX_GP_R_LISTS) {
            return ngx_gp_recipe_error(err, errlen, line,
                                       "unknown key \"%s\"", key);
        }

        if ((k == NGX_GP_R_LOGIN_PAGE || k == NGX_GP_R_HOME_PAGE)
            && r->n[k])
        {
            return ngx_gp_recipe_error(err, errlen, line,
                                       "\"%s\" is given twice", key);
        }

        if (r->n[k] == NGX_GP_RECIPE_MAX_VALUES) {
            snprintf(err, errlen, "more than %d values of \"%s\"",
                     NGX_GP_RECIPE_MAX_VALUES, key);
            return line;
        }

        if (strlen(value) >= NGX_GP_RECIPE_VALUE_LEN) {
            snprintf(err, errlen, "the value is longer than %d bytes",
                     NGX_GP_RECIPE_VALUE_LEN - 1);
            return line;
        }

        if (strncmp(value, "text:", 5) == 0 && value[5] == '\0') {
            return ngx_gp_recipe_error(err, errlen, line,
                                       "\"%s\": text: needs a text", key);
        }

        strcpy(r->values[k][r->n[k]++], value);
    }

    for (i = 0; i < sizeof(ngx_gp_recipe_required) / sizeof(unsigned); i++)
    {
        k = ngx_gp_recipe_required[i];

        if (r->n[k] == 0) {
            return ngx_gp_recipe_error(err, errlen, -1, "the key \"%s\" is "
                                       "missing", ngx_gp_recipe_keys[k]);
        }
    }

    return 0;
}


int
ngx_gp_recipe_json(ngx_gp_recipe_t *r, unsigned key, char *out, size_t size)
{
    size_t          o;
    unsigned        i;
    unsigned char   c;
    const char     *s;

    o = 0;

#define ngx_gp_recipe_put(ch)                                                \
    do { if (o + 1 >= size) return -1; out[o++] = (ch); } while (0)

    ngx_gp_recipe_put('[');

    for (i = 0; i < r->n[key]; i++) {
        if (i) {
            ngx_gp_recipe_put(',');
        }

        ngx_gp_recipe_put('"');

        for (s = r->values[key][i]; *s; s++) {
            c = (unsigned char) *s;

            if (c == '"' || c == '\\') {
                ngx_gp_recipe_put('\\');
                ngx_gp_recipe_put(c);

            } else if (c < 0x20 || c == '<') {
                /* no "</script>" games, no control characters */
                if (o + 7 >= size) {
                    return -1;
                }

                o += snprintf(out + o, size - o, "\\u%04x", c);

            } else {
                ngx_gp_recipe_put(c);
            }
        }

        ngx_gp_recipe_put('"');
    }

    ngx_gp_recipe_put(']');

#undef ngx_gp_recipe_put

    out[o] = '\0';

    return 0;
}


/* strstr, ASCII letters without case */

static const char *
ngx_gp_recipe_find(const char *hay, const char *needle)
{
    size_t  i, n;

    n = strlen(needle);

    if (n == 0) {
        return NULL;
    }

    for ( /* void */ ; *hay; hay++) {
        for (i = 0; i < n; i++) {
            if (tolower((unsigned char) hay[i])
                != tolower((unsigned char) needle[i]))
            {
                break;
            }
        }

        if (i == n) {
            return hay;
        }
    }

    return NULL;
}


int
ngx_gp_recipe_has(ngx_gp_recipe_t *r, unsigned key, const char *text)
{
    unsigned     i;
    const char  *v;

    for (i = 0; i < r->n[key]; i++) {
        v = r->values[key][i];

        if (strncmp(v, "text:", 5) == 0) {
            v += 5;
        }

        if (ngx_gp_recipe_find(text, v)) {
            return 1;
        }
    }

    return 0;
}


int
ngx_gp_recipe_page(ngx_gp_recipe_t *r, const char *home, const char *url,
    const char *text)
{
    size_t  n;

    n = strlen(home);

    while (n && home[n - 1] == '/') {
        n--;
    }

    if (n && strncmp(url, home, n) == 0
        && (url[n] == '/' || url[n] == '?' || url[n] == '\0'
            || url[n] == '#')
        && !ngx_gp_recipe_has(r, NGX_GP_R_NOT_SUCCESS_URL, url))
    {
        return NGX_GP_PAGE_SUCCESS;
    }

    if (ngx_gp_recipe_has(r, NGX_GP_R_LIMIT_TEXT, text)) {
        return NGX_GP_PAGE_LIMIT;
    }

    if (ngx_gp_recipe_has(r, NGX_GP_R_CODE_ERROR_TEXT, text)) {
        return NGX_GP_PAGE_CODE_ERROR;
    }

    if (ngx_gp_recipe_has(r, NGX_GP_R_ERROR_TEXT, text)) {
        return NGX_GP_PAGE_ERROR;
    }

    if (ngx_gp_recipe_has(r, NGX_GP_R_CODE_PAGE_URL, url)) {
        return NGX_GP_PAGE_CODE;
    }

    return NGX_GP_PAGE_UNKNOWN;
}


int
ngx_gp_recipe_url(const char *tpl, const char *login_url,
    const char *auth_url, char *out, size_t size)
{
    size_t       o, n;
    const char  *s;

    o = 0;

    while (*tpl) {
        s = NULL;

        if (strncmp(tpl, "{login_url}", 11) == 0) {
            s = login_url;
            tpl += 11;

        } else if (strncmp(tpl, "{auth_url}", 10) == 0) {
            s = auth_url;
            tpl += 10;
        }

        if (s) {
            n = strlen(s);

            while (n && s[n - 1] == '/') {
                n--;
            }

            if (o + n >= size) {
                return -1;
            }

            memcpy(out + o, s, n);
            o += n;
            continue;
        }

        if (o + 1 >= size) {
            return -1;
        }

        out[o++] = *tpl++;
    }

    if (o >= size) {
        return -1;
    }

    out[o] = '\0';

    return 0;
}


int
ngx_gp_recipe_csesidx(const char *s, char *out, size_t size)
{
    size_t       n;
    const char  *p;

    for (p = s; (p = strstr(p, "csesidx")) != NULL; p += 7) {

        if (p[7] != '=' && p[7] != ':') {
            continue;
        }

        for (n = 0; isdigit((unsigned char) p[8 + n]); n++) {
            /* void */
        }

        if (n == 0) {
            continue;
        }

        if (n >= size) {
            return -1;
        }

        memcpy(out, p + 8, n);
        out[n] = '\0';

        return 0;
    }

    return -1;
}


int
ngx_gp_recipe_team_id(const char *url, char *out, size_t size)
{
    size_t       n;
    const char  *p;

    p = strstr(url, "/cid/");

    if (p == NULL) {
        return -1;
    }

    p += 5;
    n = strcspn(p, "/?#");

    if (n == 0 || n >= size) {
        return -1;
    }

    memcpy(out, p, n);
    out[n] = '\0';

    return 0;
}
