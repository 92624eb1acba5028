
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * POST /api/mailbox/check: reads a temp-mail mailbox now through the
 * worker API client (tempmail.c), the console's "test mailbox" button:
 * its address, the API base, the newest mail and a code in it; with
 * "wait", also waits for a new mail with a code, as a login would (with
 * "since", for a mail above that id).
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_MAILBOX_WAIT_MAX  600     /* seconds */


typedef struct {
    ngx_http_request_t  *r;
    ngx_gp_tempmail_t   *t;
    ngx_msec_t           wait;
    int64_t              since;       /* -1: the newest mail now */
} ngx_gp_admin_mailbox_t;


static void ngx_gp_admin_mailbox_cleanup(void *data);
static void ngx_gp_admin_mailbox_read(void *data, ngx_int_t rc,
    const u_char *code, const char *reason);
static void ngx_gp_admin_mailbox_waited(void *data, ngx_int_t rc,
    const u_char *code, const char *reason);
static json_t *ngx_gp_admin_mailbox_json(ngx_gp_admin_mailbox_t *m,
    ngx_uint_t ok, const char *error);
static int64_t ngx_gp_admin_mailbox_account(ngx_gp_admin_t *a,
    ngx_int_t *bad);


ngx_int_t
ngx_gp_admin_mailbox_check(ngx_gp_admin_t *a)
{
    char                     err[256];
    int64_t                  wait, since, id;
    ngx_int_t                bad, rc;
    u_char                   mailbox[NGX_GP_MAILBOX_URL_LEN];
    u_char                   name[NGX_GP_NAME_LEN];
    const char              *url, *worker;
    ngx_gp_zone_t           *z;
    ngx_pool_cleanup_t      *cln;
    ngx_gp_admin_mailbox_t  *m;
    u_char                   setting[NGX_GP_SETTING_VALUE_LEN];

    bad = 0;
    url = ngx_gp_admin_str(a, "tempmail_url", &bad);

    /* or the mailbox of an account: a list position or "id:<N>" */
    if (!bad && url == NULL) {
        id = ngx_gp_admin_mailbox_account(a, &bad);

        if (id == 0) {
            return ngx_gp_admin_not_found(a, "account");
        }

        if (id > 0) {
            rc = ngx_gp_store_account_mailbox(id, mailbox, sizeof(mailbox),
                                              name, sizeof(name),
                                              a->r->connection->log);
            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc != NGX_OK || mailbox[0] == '\0') {
                return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                          "no_mailbox", "the account has no "
                                          "mailbox (tempmail_url)");
            }

            url = (const char *) mailbox;
        }
    }

    if (bad || url == NULL || url[0] == '\0') {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"tempmail_url\" must be the mailbox URL "
                                  "(https://<host>/?jwt=<JWT>)");
    }

    worker = ngx_gp_admin_str(a, "tempmail_worker_url", &bad);

    if (bad) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"tempmail_worker_url\" must be a string");
    }

    wait = 0;

    (void) ngx_gp_admin_int(a, "wait", &wait, &bad);

    if (bad || wait > NGX_GP_MAILBOX_WAIT_MAX)
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"wait\" must be seconds, 0 to %d",
                                  NGX_GP_MAILBOX_WAIT_MAX);
    }

    since = -1;
    (void) ngx_gp_admin_int(a, "since", &since, &bad);

    if (bad) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"since\" must be a mail id");
    }

    z = ngx_gp_zone();

    if (worker == NULL) {
        ngx_gp_setting_str(z, NGX_GP_SET_TEMPMAIL_WORKER_URL, setting,
                           sizeof(setting));
        worker = (char *) setting;
    }

    m = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_admin_mailbox_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (m == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->r = a->r;
    m->wait = (ngx_msec_t) wait * 1000;
    m->since = since;

    m->t = ngx_gp_tempmail_open(url, worker, NULL, a->r->connection->log,
                                err, sizeof(err));

    if (m->t == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_mailbox", "%s", err);
    }

    cln->handler = ngx_gp_admin_mailbox_cleanup;
    cln->data = m;

    if (ngx_gp_tempmail_baseline(m->t, ngx_gp_admin_mailbox_read, m)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a->r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


static void
ngx_gp_admin_mailbox_cleanup(void *data)
{
    ngx_gp_admin_mailbox_t  *m = data;

    ngx_gp_tempmail_close(m->t);
    m->t = NULL;
}


static void
ngx_gp_admin_mailbox_read(void *data, ngx_int_t rc, const u_char *code,
    const char *reason)
{
    ngx_int_t                poll;
    ngx_gp_admin_mailbox_t  *m = data;

    if (rc != NGX_OK) {
        ngx_http_finalize_request(m->r,
            ngx_gp_admin_json(m->r, NGX_HTTP_OK,
                              ngx_gp_admin_mailbox_json(m, 0, reason)));
        return;
    }

    if (m->wait == 0) {
        ngx_http_finalize_request(m->r,
            ngx_gp_admin_json(m->r, NGX_HTTP_OK,
                              ngx_gp_admin_mailbox_json(m, 1, NULL)));
        return;
    }

    poll = ngx_gp_setting_int(ngx_gp_zone(),
                              NGX_GP_SET_TEMPMAIL_POLL_INTERVAL);

    if (m->since >= 0) {
        /* codes of mails above that id, as a login that knows it */
        ngx_gp_tempmail_set_baseline(m->t, m->since);
    }

    if (ngx_gp_tempmail_wait(m->t, (ngx_msec_t) poll * 1000, m->wait,
                             ngx_gp_admin_mailbox_waited, m)
        != NGX_OK)
    {
        ngx_http_finalize_request(m->r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static void
ngx_gp_admin_mailbox_waited(void *data, ngx_int_t rc, const u_char *code,
    const char *reason)
{
    json_t                  *j;
    ngx_gp_admin_mailbox_t  *m = data;

    j = ngx_gp_admin_mailbox_json(m, rc != NGX_ERROR,
                                  rc == NGX_ERROR ? reason : NULL);

    if (j != NULL) {
        if (rc == NGX_OK) {
            json_object_set_new(j, "code", json_string((char *) code));

        } else {
            json_object_set_new(j, "code", json_null());

            if (rc == NGX_DECLINED) {
                json_object_set_new(j, "reason", json_string(reason));
            }
        }
    }

    ngx_http_finalize_request(m->r, ngx_gp_admin_json(m->r, NGX_HTTP_OK, j));
}


/*
 * {"ok","address","api_base","status","newest":{"id","subject","code"}}
 * and "error" when ok is false
 */

static json_t *
ngx_gp_admin_mailbox_json(ngx_gp_admin_mailbox_t *m, ngx_uint_t ok,
    const char *error)
{
    json_t        *j, *newest;
    int64_t        id;
    const char    *subject;
    const u_char  *code;

    id = ngx_gp_tempmail_newest(m->t, &subject, &code);

    if (ok && id > 0) {
        newest = json_pack("{s:I,s:s?,s:s?}", "id", (json_int_t) id,
                           "subject", subject,
                           "code", code[0] ? (char *) code : NULL);
        if (newest == NULL) {
            return NULL;
        }

    } else {
        newest = json_null();
    }

    j = json_pack("{s:b,s:s,s:s,s:i,s:o}", "ok", (int) ok,
                  "address", ngx_gp_tempmail_address(m->t),
                  "api_base", ngx_gp_tempmail_base(m->t),
                  "status", (int) ngx_gp_tempmail_status(m->t),
                  "newest", newest);

    if (j != NULL && error != NULL) {
        json_object_set_new(j, "error", json_string(error));
    }

    return j;
}


/* "account": its id; 0: no such account; -1: not given (bad: wrong type) */

static int64_t
ngx_gp_admin_mailbox_account(ngx_gp_admin_t *a, ngx_int_t *bad)
{
    int64_t         n, id;
    ngx_uint_t      byid, i;
    const char     *ref;
    ngx_gp_zone_t  *z;

    n = -1;
    byid = 0;
    ref = ngx_gp_admin_str(a, "account", bad);

    if (*bad) {
        *bad = 0;

        if (ngx_gp_admin_int(a, "account", &n, bad) != NGX_OK || *bad) {
            return -1;
        }

    } else if (ref == NULL) {
        return -1;

    } else {
        byid = (ngx_strncmp(ref, "id:", 3) == 0);
        n = ngx_atoi((u_char *) ref + (byid ? 3 : 0),
                     ngx_strlen(ref) - (byid ? 3 : 0));
    }

    if (n < 0) {
        return 0;
    }

    z = ngx_gp_zone();
    id = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (byid ? z->sh->accounts[i].id == n : i == (ngx_uint_t) n) {
            id = z->sh->accounts[i].id;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return id;
}
