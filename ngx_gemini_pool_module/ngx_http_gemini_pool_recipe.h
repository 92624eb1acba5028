
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The sign-in recipe (scripts/signin.recipe, docs/signin-recipe.md): the
 * pages, selectors, texts and timeouts of the e-mail-code login, read
 * from a file an operator can edit.  One "key value" per line; a key that
 * takes a list is repeated, in the order of preference.  Also the rules
 * that read a page against the recipe: which page is this, what does
 * its text say, and what the final URL gives (csesidx, team_id).
 *
 * Pure C: no nginx.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_RECIPE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_RECIPE_H_INCLUDED_


#include <stddef.h>


/* the keys that hold texts or selectors */
#define NGX_GP_R_LOGIN_PAGE       0    /* URL template, one */
#define NGX_GP_R_HOME_PAGE        1    /* URL template, one */
#define NGX_GP_R_EMAIL_INPUT      2    /* selectors */
#define NGX_GP_R_CONTINUE         3    /* selectors or text:... */
#define NGX_GP_R_CODE_PAGE_URL    4    /* URL parts of the code page */
#define NGX_GP_R_CODE_INPUT       5    /* selectors */
#define NGX_GP_R_VERIFY           6    /* selectors or text:... */
#define NGX_GP_R_RESEND           7    /* selectors or text:... */
#define NGX_GP_R_SENT_TEXT        8    /* the toast: code sent */
#define NGX_GP_R_RETRY_TEXT       9    /* the toast: try again */
#define NGX_GP_R_CODE_ERROR_TEXT  10
#define NGX_GP_R_LIMIT_TEXT       11
#define NGX_GP_R_ERROR_TEXT       12
#define NGX_GP_R_CHALLENGE        13   /* selectors */
#define NGX_GP_R_NOT_SUCCESS_URL  14   /* URL parts: not signed in yet */
#define NGX_GP_R_MAILBOX_TAB      15   /* temp-mail web page: selectors */
#define NGX_GP_R_MAILBOX_REFRESH  16
#define NGX_GP_R_MAILBOX_ITEM     17
#define NGX_GP_R_LISTS            18

/* the timeouts, in milliseconds */
#define NGX_GP_RT_PAGE            0    /* a page to load */
#define NGX_GP_RT_EMAIL_INPUT     1    /* the e-mail field to appear */
#define NGX_GP_RT_CODE_PAGE       2    /* the code page after continue */
#define NGX_GP_RT_CHALLENGE       3    /* a person solving a challenge */
#define NGX_GP_RT_READY           4    /* the resend button */
#define NGX_GP_RT_TOAST           5    /* "code sent" */
#define NGX_GP_RT_MAIL            6    /* the code to arrive */
#define NGX_GP_RT_MAIL_POLL       7    /* between two mailbox reads */
#define NGX_GP_RT_OUTCOME         8    /* after the code is typed */
#define NGX_GP_RT_HARVEST         9    /* the product page and cookies */
#define NGX_GP_RT_LOGIN           10   /* the whole login */
#define NGX_GP_RT_CALL            11   /* one CDP command */
#define NGX_GP_RT_POLL            12   /* between two looks at a page */
#define NGX_GP_RT_N               13

#define NGX_GP_RECIPE_MAX_VALUES  12
#define NGX_GP_RECIPE_VALUE_LEN   256


typedef struct {
    char          values[NGX_GP_R_LISTS][NGX_GP_RECIPE_MAX_VALUES]
                        [NGX_GP_RECIPE_VALUE_LEN];
    unsigned      n[NGX_GP_R_LISTS];
    unsigned long timeout[NGX_GP_RT_N];   /* ms */
    unsigned      code_rounds;            /* codes tried, at most */
} ngx_gp_recipe_t;


/* what a look at a page found */
#define NGX_GP_PAGE_UNKNOWN       0
#define NGX_GP_PAGE_SUCCESS       1    /* on the product, signed in */
#define NGX_GP_PAGE_LIMIT         2    /* too many codes */
#define NGX_GP_PAGE_CODE_ERROR    3    /* the code was refused */
#define NGX_GP_PAGE_ERROR         4    /* an error page */
#define NGX_GP_PAGE_CODE          5    /* the code page */


/*
 * Parses a recipe.  0: done; else the line of the error (or -1 for an
 * error of the whole file, like a missing key), with err saying what.
 */
int ngx_gp_recipe_parse(ngx_gp_recipe_t *r, const char *text, size_t len,
    char *err, size_t errlen);

/* the list of a key, as JSON text (a JavaScript array): out's size */
int ngx_gp_recipe_json(ngx_gp_recipe_t *r, unsigned key, char *out,
    size_t size);

/* 1: one of the key's texts appears in text */
int ngx_gp_recipe_has(ngx_gp_recipe_t *r, unsigned key, const char *text);

/*
 * What a page is, from its URL and visible text, in this order: success
 * (the URL starts with home and has no not_success_url part), limit,
 * code error, error page, the code page (by its URL), unknown.
 */
int ngx_gp_recipe_page(ngx_gp_recipe_t *r, const char *home,
    const char *url, const char *text);

/*
 * A URL template with {login_url} and {auth_url} (no trailing slash)
 * replaced.  0: done; -1: out too small.
 */
int ngx_gp_recipe_url(const char *tpl, const char *login_url,
    const char *auth_url, char *out, size_t size);

/* csesidx: the digits after "csesidx=" or "csesidx:"; team: the path
   segment after "/cid/".  0: found; -1: not there or too long */
int ngx_gp_recipe_csesidx(const char *s, char *out, size_t size);
int ngx_gp_recipe_team_id(const char *url, char *out, size_t size);

extern const char  *ngx_gp_recipe_keys[NGX_GP_R_LISTS];


#endif /* _NGX_HTTP_GEMINI_POOL_RECIPE_H_INCLUDED_ */
