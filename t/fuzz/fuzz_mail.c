
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The temp-mail readers (mail.c, spec 13.4, 13.6): what the temp-mail
 * worker answers and what a mail says are outside bytes.  The input is
 * read whole (a list answer, a detail answer, an RFC 822 source, a text),
 * and as a tempmail_url and a worker URL split at the first newline.
 * Properties:
 *
 * - a mailbox read has a JWT, an address and an API base without a
 *   trailing '/', or the reason is NUL-terminated text;
 * - a list has only positive ids, newest is the highest (0 when empty),
 *   every subject is text; a detail's likewise;
 * - the text of a source, and a cleaned text, are NUL-terminated;
 * - a code found (in the input, in the text of the input as a source, in
 *   the texts of the mails) is six upper-case letters and digits with a
 *   letter among them.
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_mail.h"


static void
code_in(const char *p, size_t len)
{
    int   rc, letter;
    char  code[NGX_GP_MAIL_CODE_LEN + 8];
    size_t  i;

    memset(code, 0x5a, sizeof(code));
    rc = ngx_gp_mail_code(p, len, code);

    if (rc == 0) {
        return;
    }

    FUZZ_CHECK(rc == 1);
    FUZZ_CHECK(code[NGX_GP_MAIL_CODE_LEN] == '\0');
    FUZZ_CHECK(code[NGX_GP_MAIL_CODE_LEN + 1] == 0x5a);

    letter = 0;

    for (i = 0; i < NGX_GP_MAIL_CODE_LEN; i++) {
        FUZZ_CHECK((code[i] >= 'A' && code[i] <= 'Z')
                   || (code[i] >= '0' && code[i] <= '9'));
        letter |= (code[i] >= 'A' && code[i] <= 'Z');
    }

    FUZZ_CHECK(letter);
}


static void
mail_check(const ngx_gp_mail_t *m)
{
    FUZZ_CHECK(m->id > 0);
    FUZZ_CHECK(m->subject != NULL);

    if (m->text) {
        code_in(m->text, strlen(m->text));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    char                *t, *url, *worker, err[256];
    size_t               i, ulen;
    int64_t              newest;
    const char          *p = (const char *) data, *reason, *nl;
    ngx_gp_mail_t        m;
    ngx_gp_mailbox_t     mb;
    ngx_gp_mail_list_t   list;

    /* a list answer */

    memset(&list, 0, sizeof(ngx_gp_mail_list_t));
    reason = NULL;
    rc = ngx_gp_mail_list_parse(p, size, &list, &reason);
    FUZZ_CHECK(rc == 0 || rc == -1);

    if (rc == 0) {
        newest = 0;

        for (i = 0; i < list.n; i++) {
            mail_check(&list.mails[i]);

            if (list.mails[i].id > newest) {
                newest = list.mails[i].id;
            }
        }

        FUZZ_CHECK(list.newest == newest);
    }

    ngx_gp_mail_list_free(&list);

    /* a detail answer */

    memset(&m, 0, sizeof(ngx_gp_mail_t));
    reason = NULL;

    if (ngx_gp_mail_detail_parse(p, size, &m, &reason) == 0) {
        mail_check(&m);

    } else {
        FUZZ_CHECK(reason != NULL);
    }

    ngx_gp_mail_free(&m);

    /* a source, a text */

    t = ngx_gp_mail_raw_text(p, size);
    FUZZ_CHECK(t != NULL);
    code_in(t, strlen(t));
    free(t);

    for (i = 0; i < 2; i++) {
        t = ngx_gp_mail_clean(p, size, (int) i);
        FUZZ_CHECK(t != NULL);
        free(t);
    }

    code_in(p, size);

    /* a tempmail_url and a worker URL */

    nl = memchr(p, '\n', size);
    ulen = nl ? (size_t) (nl - p) : size;
    url = strndup(p, ulen);
    worker = strndup(nl ? nl + 1 : "", nl ? size - ulen - 1 : 0);
    FUZZ_CHECK(url != NULL && worker != NULL);

    memset(&mb, 0, sizeof(ngx_gp_mailbox_t));
    memset(err, 0x5a, sizeof(err));

    if (ngx_gp_mailbox_parse(url, worker, &mb, err, sizeof(err)) == 0) {
        FUZZ_CHECK(mb.jwt != NULL && mb.address != NULL && mb.base != NULL);
        FUZZ_CHECK(mb.base[0] == '\0'
                   || mb.base[strlen(mb.base) - 1] != '/');
        ngx_gp_mailbox_free(&mb);

    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    }

    free(url);
    free(worker);

    return 0;
}
