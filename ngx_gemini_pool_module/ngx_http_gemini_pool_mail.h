
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The temp-mail worker's data, as pure functions (spec 13.4, 13.6): the
 * mailbox named by a tempmail_url, the list and detail answers of the
 * worker API in every shape the reference accepts, the text of a mail
 * (its fields, or its RFC 822 source: MIME parts, quoted-printable,
 * base64, HTML) and the login code in that text.
 *
 * Pure C: no nginx.  Returned strings are malloc'ed (free()).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_MAIL_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_MAIL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_GP_MAIL_CODE_LEN  6


/* the mailbox of a tempmail_url: https://<host>/?jwt=<JWT> */

typedef struct {
    char      *jwt;        /* the mailbox credential (Bearer) */
    char      *address;    /* the JWT payload's "address" */
    char      *base;       /* the worker API base, no trailing '/' */
} ngx_gp_mailbox_t;


/*
 * Reads url's jwt query parameter and the address in its payload; the
 * API base is worker_url when it is set (non-empty), else the scheme and
 * host of url.  Returns 0, or -1 with a reason in err (nothing to free).
 */
int ngx_gp_mailbox_parse(const char *url, const char *worker_url,
    ngx_gp_mailbox_t *mb, char *err, size_t errlen);
void ngx_gp_mailbox_free(ngx_gp_mailbox_t *mb);


/* one mail of a list or detail answer */

typedef struct {
    int64_t    id;
    char      *subject;    /* "" when absent */
    char      *text;       /* the extracted text; NULL when the object
                              carries none (call the detail API) */
} ngx_gp_mail_t;


typedef struct {
    ngx_gp_mail_t  *mails;
    size_t          n;
    int64_t         newest;   /* the highest id, 0 when empty */
} ngx_gp_mail_list_t;


/*
 * A list answer: a JSON array, or an object with an array "results",
 * "mails", "data" or "result".  Items without a positive integer id
 * (a number or a string of digits) are skipped.  Returns 0 with the list,
 * possibly empty: then *reason (static) says why when the answer was not
 * a list at all (HTML, not JSON, another shape); -1 when memory ran out.
 */
int ngx_gp_mail_list_parse(const char *body, size_t len,
    ngx_gp_mail_list_t *list, const char **reason);
void ngx_gp_mail_list_free(ngx_gp_mail_list_t *list);

/*
 * A detail answer: one mail object (also accepted inside "result" or
 * "data").  Returns 0, or -1 with *reason (static).
 */
int ngx_gp_mail_detail_parse(const char *body, size_t len, ngx_gp_mail_t *m,
    const char **reason);
void ngx_gp_mail_free(ngx_gp_mail_t *m);


/*
 * The text of an RFC 822 source: the text/html part of a multipart mail
 * (else its text/plain part), or the body after the first blank line;
 * decoded by its Content-Transfer-Encoding (quoted-printable, base64;
 * without one, quoted-printable soft breaks and =XX escapes are decoded
 * anyway, as the reference does), then URL-decoded, HTML tags and
 * entities removed, whitespace collapsed.  NULL when memory ran out.
 */
char *ngx_gp_mail_raw_text(const char *raw, size_t len);

/* an HTML or plain text cleaned the same way (no transfer decoding) */
char *ngx_gp_mail_clean(const char *p, size_t len, int html);

/*
 * The login code of spec 13.6 in text: after the first of the phrases
 * (zh-CN and en) the first run of exactly six [A-Z0-9] (not inside a
 * longer run of letters and digits), accepted only with a letter in it;
 * then the fallbacks "code is: X", "code: X", "验证码: X".  Returns 1 and
 * the upper-case code with a NUL in code (7 bytes), or 0.
 */
int ngx_gp_mail_code(const char *text, size_t len, char *code);


#endif /* _NGX_HTTP_GEMINI_POOL_MAIL_H_INCLUDED_ */
