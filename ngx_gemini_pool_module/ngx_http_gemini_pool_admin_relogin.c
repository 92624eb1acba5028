
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin re-login: refresh one account now, refresh every expired one,
 * the state of the duty (checks, logins under way, the queue), the
 * history of attempts, cookies an operator pastes (checked before they
 * are saved, as a login's are), and the "relogin" and "mailbox" objects
 * of the account list.  A login runs in the helper (it owns the logins and the
 * browser): a request here only marks the account queued in the zone,
 * and the helper's next tick (gemini_pool_helper_interval, 1 s by
 * default) starts it.
 */


#include "ngx_http_gemini_pool_module.h"


static json_t *ngx_gp_admin_mailbox_json(int64_t id, ngx_log_t *log);
static size_t ngx_gp_admin_mailbox_address(const u_char *url, u_char *buf,
    size_t size);


/* an http(s) URL with a non-empty "jwt" query parameter */

ngx_uint_t
ngx_gp_admin_mailbox_url(const char *s)
{
    return ngx_gp_body_mailbox_url(s);
}


/* the state word of an account (under the lock) */

static const char *
ngx_gp_admin_relogin_word(ngx_gp_account_t *acc)
{
    if (acc->relogin.started) {
        return "refreshing";
    }

    if (acc->relogin.queued) {
        return "queued";
    }

    if (acc->relogin.failed) {
        return "failed";
    }

    return acc->cookie_expired ? "expired" : "valid";
}


static json_t *
ngx_gp_admin_time(time_t t)
{
    return t ? json_integer((json_int_t) t) : json_null();
}


/* the account's "relogin" object (under the lock) */

json_t *
ngx_gp_admin_relogin_state(ngx_gp_account_t *acc)
{
    ngx_gp_relogin_state_t  *s;

    s = &acc->relogin;

    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}",
                     "state", ngx_gp_admin_relogin_word(acc),
                     "expired_since",
                     ngx_gp_admin_time(acc->cookie_expired
                                       ? s->expired_since : 0),
                     "step", s->started ? json_string((char *) s->step)
                                        : json_null(),
                     "last_failure",
                     s->failed ? json_pack("{s:I,s:s,s:s}",
                                           "time", (json_int_t) s->failed,
                                           "status", (char *) s->status,
                                           "reason", (char *) s->reason)
                               : json_null(),
                     "next_try", ngx_gp_admin_time(s->failed ? s->next_try
                                                             : 0),
                     "queued", ngx_gp_admin_time(s->queued));
}


/*
 * The address of a mailbox: the "address" claim of the JWT in its
 * link's "jwt" parameter (base64url, not verified: it is ours to show);
 * its length, 0 when there is none.
 */

static size_t
ngx_gp_admin_mailbox_address(const u_char *url, u_char *buf, size_t size)
{
    char              err[128];
    size_t            n;
    ngx_gp_mailbox_t  mb;

    buf[0] = '\0';

    if (url[0] == '\0'
        || ngx_gp_mailbox_parse((char *) url, "", &mb, err, sizeof(err)) != 0)
    {
        return 0;
    }

    n = 0;

    if (mb.address && ngx_strlen(mb.address) < size) {
        n = ngx_strlen(mb.address);
        ngx_memcpy(buf, mb.address, n + 1);
    }

    ngx_gp_mailbox_free(&mb);

    return n;
}


/* the account's "mailbox" object: set, name, address; never the JWT */

static json_t *
ngx_gp_admin_mailbox_json(int64_t id, ngx_log_t *log)
{
    json_t  *j;
    u_char   url[NGX_GP_MAILBOX_URL_LEN], name[NGX_GP_NAME_LEN];
    u_char   address[256];

    if (ngx_gp_store_account_mailbox(id, url, sizeof(url), name,
                                     sizeof(name), log)
        != NGX_OK)
    {
        url[0] = '\0';
        name[0] = '\0';
    }

    j = json_pack("{s:b,s:s,s:o}",
                  "set", url[0] != '\0',
                  "name", (char *) name,
                  "address",
                  ngx_gp_admin_mailbox_address(url, address, sizeof(address))
                  ? json_string((char *) address) : json_null());

    ngx_explicit_memzero(url, sizeof(url));

    return j;
}


/* GET /api/accounts: each row gains "relogin" and "mailbox" */

void
ngx_gp_admin_relogin_rows(json_t *list, ngx_log_t *log)
{
    size_t          i;
    json_t         *row, *j;
    int64_t         id;
    ngx_uint_t      k;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    json_array_foreach(list, i, row) {
        id = json_integer_value(json_object_get(row, "id"));
        j = NULL;

        ngx_shmtx_lock(&z->shpool->mutex);

        for (k = 0; k < z->sh->naccounts; k++) {
            if (z->sh->accounts[k].id == id) {
                j = ngx_gp_admin_relogin_state(&z->sh->accounts[k]);
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        (void) json_object_set_new(row, "relogin", j ? j : json_null());
        (void) json_object_set_new(row, "mailbox",
                                   ngx_gp_admin_mailbox_json(id, log));
    }
}


/* POST /api/accounts/<i>/refresh-cookie: 202 queued, 409 under way */

ngx_int_t
ngx_gp_admin_refresh_cookie(ngx_gp_admin_t *a)
{
    int64_t            id;
    ngx_int_t          rc;
    ngx_uint_t         k, running, index, count;
    ngx_gp_zone_t     *z;
    ngx_gp_account_t  *acc;
    u_char             url[NGX_GP_MAILBOX_URL_LEN], name[NGX_GP_NAME_LEN];

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    rc = ngx_gp_store_account_mailbox(id, url, sizeof(url), name,
                                      sizeof(name), a->r->connection->log);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK || url[0] == '\0') {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "no_mailbox",
                                  "the account has no mailbox: set its "
                                  "\"tempmail_url\" first");
    }

    ngx_explicit_memzero(url, sizeof(url));

    z = ngx_gp_zone();
    running = 0;
    acc = NULL;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (k = 0; k < z->sh->naccounts; k++) {
        if (z->sh->accounts[k].id == id) {
            acc = &z->sh->accounts[k];
            break;
        }
    }

    if (acc && acc->relogin.started) {
        running = 1;

    } else if (acc) {
        if (acc->relogin.queued == 0) {
            acc->relogin.queued = ngx_time();
        }

        acc->relogin.manual = 1;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (acc == NULL) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (running) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_CONFLICT, "running",
                                  "a login of this account is under way");
    }

    ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                  "gemini pool: admin: re-login of account %L asked for",
                  id);

    return ngx_gp_admin_json(a->r, NGX_HTTP_ACCEPTED,
                             json_pack("{s:b,s:b,s:I}", "ok", 1, "queued", 1,
                                       "id", (json_int_t) id));
}


/* POST /api/accounts/auto-refresh-all: every expired one with a mailbox */

ngx_int_t
ngx_gp_admin_refresh_all(ngx_gp_admin_t *a)
{
    int64_t           *ids;
    ngx_int_t          rc;
    ngx_uint_t         k, n, i, queued;
    ngx_gp_zone_t     *z;
    ngx_gp_account_t  *acc;
    u_char             url[NGX_GP_MAILBOX_URL_LEN], name[NGX_GP_NAME_LEN];

    z = ngx_gp_zone();

    /* the expired accounts, then their mailboxes outside the lock */

    ngx_shmtx_lock(&z->shpool->mutex);

    n = 0;
    ids = ngx_palloc(a->r->pool, (z->sh->naccounts + 1) * sizeof(int64_t));

    for (k = 0; ids && k < z->sh->naccounts; k++) {
        acc = &z->sh->accounts[k];

        if (acc->id && acc->cookie_expired && !acc->relogin.started) {
            ids[n++] = acc->id;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ids == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    queued = 0;

    for (i = 0; i < n; i++) {
        rc = ngx_gp_store_account_mailbox(ids[i], url, sizeof(url), name,
                                          sizeof(name),
                                          a->r->connection->log);
        if (rc != NGX_OK || url[0] == '\0') {
            continue;
        }

        ngx_explicit_memzero(url, sizeof(url));

        ngx_shmtx_lock(&z->shpool->mutex);

        for (k = 0; k < z->sh->naccounts; k++) {
            acc = &z->sh->accounts[k];

            if (acc->id == ids[i] && !acc->relogin.started) {
                if (acc->relogin.queued == 0) {
                    acc->relogin.queued = ngx_time();
                }

                acc->relogin.manual = 1;
                queued++;
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:i}", "ok", 1, "queued",
                                       (int) queued));
}


/* GET /api/relogin: the duty's state */

ngx_int_t
ngx_gp_admin_relogin(ngx_gp_admin_t *a)
{
    json_t                 *running, *queue, *j;
    ngx_uint_t              k;
    ngx_gp_zone_t          *z;
    ngx_gp_account_t       *acc;
    ngx_gp_relogin_pool_t   p;

    z = ngx_gp_zone();

    running = json_array();
    queue = json_array();

    if (running == NULL || queue == NULL) {
        json_decref(running);
        json_decref(queue);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    p = z->sh->relogin;

    for (k = 0; k < z->sh->naccounts; k++) {
        acc = &z->sh->accounts[k];

        if (acc->id == 0) {
            continue;
        }

        if (acc->relogin.started) {
            j = json_pack("{s:I,s:i,s:s,s:s,s:I}",
                          "account", (json_int_t) acc->id,
                          "index", (int) k,
                          "name", (char *) acc->name,
                          "step", (char *) acc->relogin.step,
                          "started", (json_int_t) acc->relogin.started);
            (void) json_array_append_new(running, j);

        } else if (acc->relogin.queued) {
            j = json_pack("{s:I,s:i,s:s,s:I,s:b}",
                          "account", (json_int_t) acc->id,
                          "index", (int) k,
                          "name", (char *) acc->name,
                          "queued", (json_int_t) acc->relogin.queued,
                          "manual", (int) acc->relogin.manual);
            (void) json_array_append_new(queue, j);
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
        json_pack("{s:b,s:b,s:{s:b,s:o,s:o},s:o,s:o,s:I,s:i,s:o,s:o}",
                  "auto",
                  (int) ngx_gp_setting_int(z, NGX_GP_SET_AUTO_REFRESH_COOKIES),
                  "sync_only",
                  (int) ngx_gp_setting_int(z, NGX_GP_SET_SYNC_ONLY_MODE),
                  "browser",
                  "ok", p.browser_error[0] == '\0',
                  "error", p.browser_error[0]
                           ? json_string((char *) p.browser_error)
                           : json_null(),
                  "checked", ngx_gp_admin_time(p.browser_checked),
                  "next_check", ngx_gp_admin_time(p.next_check),
                  "last_check", ngx_gp_admin_time(p.last_check),
                  "checks", (json_int_t) p.checks,
                  "checking", (int) p.checking,
                  "running", running,
                  "queue", queue));
}


/* GET /api/relogin/history[?account=<id>&limit=N] */

ngx_int_t
ngx_gp_admin_relogin_history(ngx_gp_admin_t *a)
{
    json_t     *list;
    ngx_int_t   account, limit, sent;

    account = 0;
    limit = 50;

    if (ngx_gp_admin_arg_int(a, "account", 0, "an account id", &account,
                             &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "limit", NGX_GP_RELOGIN_HISTORY,
                                "1 to 1000", &limit, &sent)
           != NGX_OK)
    {
        return sent;
    }

    list = ngx_gp_store_relogin_list(account, limit, a->r->connection->log);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:i}", "history", list,
                                       "total", (int) json_array_size(list)));
}


/*
 * POST /api/accounts/<i>/cookies {"secure_c_ses","csesidx"[,"host_c_oses",
 * "team_id"]}: cookies from a login an operator made himself (a challenge
 * that needs a person); a getoxsrf with them must succeed before they
 * replace the old ones, as with a re-login's harvest.
 */

typedef struct {
    ngx_http_request_t       *r;
    ngx_gp_relogin_verify_t  *verify;
    int64_t                   id;
} ngx_gp_admin_cookies_t;


static void
ngx_gp_admin_cookies_cleanup(void *data)
{
    ngx_gp_admin_cookies_t  *ck = data;

    if (ck->verify) {
        ngx_gp_relogin_verify_cancel(ck->verify);
        ck->verify = NULL;
    }
}


static void
ngx_gp_admin_cookies_saved(void *data, ngx_int_t rc, const char *reason)
{
    ngx_gp_admin_cookies_t  *ck = data;

    ngx_int_t            status;
    ngx_http_request_t  *r;

    ck->verify = NULL;
    r = ck->r;

    if (rc == NGX_OK) {
        status = ngx_gp_admin_json(r, NGX_HTTP_OK,
                                   json_pack("{s:b,s:b,s:I}", "ok", 1,
                                             "saved", 1, "id",
                                             (json_int_t) ck->id));

    } else if (rc == NGX_DECLINED) {
        status = ngx_gp_admin_error(r, 422, "cookies_refused", "%s; the "
                                    "old cookies are kept", reason);

    } else {
        status = ngx_gp_admin_error(r, NGX_HTTP_BAD_GATEWAY,
                                    "cookies_not_checked", "%s; the old "
                                    "cookies are kept", reason);
    }

    ngx_http_finalize_request(r, status);
}


ngx_int_t
ngx_gp_admin_account_cookies(ngx_gp_admin_t *a)
{
    size_t                     i, len;
    int64_t                    id;
    ngx_int_t                  bad;
    ngx_uint_t                 index, count;
    const char                *v[4], *err;
    ngx_pool_cleanup_t        *cln;
    ngx_gp_admin_cookies_t    *ck;
    ngx_gp_relogin_cookies_t   c;

    static const char  *names[] = {
        "secure_c_ses", "csesidx", "host_c_oses", "team_id"
    };
    static const size_t  max[] = {
        NGX_GP_COOKIE_LEN - 1, NGX_GP_CSESIDX_LEN - 1,
        NGX_GP_COOKIE_LEN - 1, NGX_GP_TEAM_LEN - 1
    };

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "a JSON object is required");
    }

    for (i = 0; i < 4; i++) {
        bad = 0;
        v[i] = ngx_gp_admin_str(a, names[i], &bad);
        len = v[i] ? ngx_strlen(v[i]) : 0;

        if (bad || len > max[i]) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "\"%s\" must be a "
                                      "string of at most %d bytes",
                                      names[i], (int) max[i]);
        }

        if (i < 2 && len == 0) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "missing_field", "\"%s\" is required",
                                      names[i]);
        }
    }

    for (i = 0; v[1][i]; i++) {
        if (v[1][i] < '0' || v[1][i] > '9') {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value",
                                      "\"csesidx\" must be digits");
        }
    }

    ck = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_admin_cookies_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (ck == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    c.account_id = id;
    c.secure_c_ses = (u_char *) v[0];
    c.csesidx = (u_char *) v[1];
    c.host_c_oses = (u_char *) (v[2] ? v[2] : "");
    c.team_id = (u_char *) (v[3] ? v[3] : "");

    ck->r = a->r;
    ck->id = id;
    ck->verify = ngx_gp_relogin_verify(&c, a->r->connection->log,
                                       ngx_gp_admin_cookies_saved, ck, &err);

    if (ck->verify == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "%s", err);
    }

    cln->handler = ngx_gp_admin_cookies_cleanup;
    cln->data = ck;

    a->r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}
