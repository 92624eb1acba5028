
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Remote sync, the push side (see the header).  Pushes run on the event
 * loop of the process that starts them: the helper (after a refresh, and
 * the retries of its tick) or a worker (the admin API's "push all").
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SYNC_TIMEOUT      30000   /* ms, spec 15 */
#define NGX_GP_SYNC_RETRY_MAX    3600    /* s, the longest back-off */
#define NGX_GP_SYNC_PER_TICK     4       /* retries started per tick */


struct ngx_gp_sync_push_s {
    ngx_gp_xfer_t         *x;
    int64_t                account_id;   /* 0: a connection test */
    ngx_gp_sync_pt         handler;
    void                  *data;
    ngx_gp_sync_push_t    *next;         /* this process's pushes */
    ngx_gp_sync_push_t   **prev;
};


static ngx_gp_sync_push_t  *ngx_gp_sync_pushes;


static ngx_gp_sync_push_t *ngx_gp_sync_start(ngx_gp_xfer_t *x,
    int64_t account_id, ngx_gp_sync_pt handler, void *data);
static void ngx_gp_sync_done(ngx_gp_xfer_t *x);
static void ngx_gp_sync_free(ngx_gp_sync_push_t *p);
static void ngx_gp_sync_record(int64_t account_id, ngx_uint_t ok,
    long status, const char *error);
static ngx_int_t ngx_gp_sync_peer(u_char *url, u_char *key, char *err,
    size_t errlen);


time_t
ngx_gp_sync_backoff(time_t first, ngx_uint_t n)
{
    time_t  t;

    t = first;

    while (n > 1 && t < NGX_GP_SYNC_RETRY_MAX) {
        t *= 2;
        n--;
    }

    return ngx_min(t, NGX_GP_SYNC_RETRY_MAX);
}


/*
 * The peer's URL (no trailing '/') and key from the settings.  NGX_DECLINED:
 * no peer; NGX_ERROR: a peer without a key (err says so).
 */

static ngx_int_t
ngx_gp_sync_peer(u_char *url, u_char *key, char *err, size_t errlen)
{
    size_t          n;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();

    if (z == NULL) {
        return NGX_DECLINED;
    }

    ngx_gp_setting_str(z, NGX_GP_SET_REMOTE_SYNC_URL, url,
                       NGX_GP_SETTING_VALUE_LEN);
    ngx_gp_setting_str(z, NGX_GP_SET_REMOTE_SYNC_API_KEY, key,
                       NGX_GP_SETTING_VALUE_LEN);

    n = ngx_strlen(url);

    while (n && url[n - 1] == '/') {
        url[--n] = '\0';
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    if (key[0] == '\0') {
        ngx_snprintf((u_char *) err, errlen,
                     "remote_sync_api_key is not set%Z");
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_gp_sync_push_t *
ngx_gp_sync_push(int64_t account_id, ngx_log_t *log, ngx_gp_sync_pt handler,
    void *data, ngx_uint_t *skipped, char *err, size_t errlen)
{
    char                   *body;
    size_t                  n;
    json_t                 *j;
    ngx_int_t               rc;
    ngx_uint_t              i, found;
    ngx_gp_zone_t          *z;
    ngx_gp_xfer_t          *x;
    ngx_gp_sync_push_t     *p;
    ngx_gp_account_copy_t  *a;
    u_char                  url[NGX_GP_SETTING_VALUE_LEN + 64];
    u_char                  key[NGX_GP_SETTING_VALUE_LEN];
    u_char                  name[NGX_GP_NAME_LEN * 3 + 1];

    *skipped = 0;

    rc = ngx_gp_sync_peer(url, key, err, errlen);

    if (rc == NGX_DECLINED) {
        *skipped = 1;
        return NULL;
    }

    if (rc == NGX_ERROR) {
        ngx_gp_sync_record(account_id, 0, 0, err);
        return NULL;
    }

    a = ngx_alloc(sizeof(ngx_gp_account_copy_t), log);

    if (a == NULL) {
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    z = ngx_gp_zone();
    found = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == account_id) {
            ngx_gp_account_copy(&z->sh->accounts[i], i, a);
            z->sh->accounts[i].sync.busy_until = ngx_time()
                                                 + NGX_GP_SYNC_TIMEOUT / 1000
                                                 + 5;
            found = 1;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (!found) {
        ngx_free(a);
        ngx_snprintf((u_char *) err, errlen, "no account with id %L%Z",
                     account_id);
        return NULL;
    }

    j = json_pack("{s:s,s:s,s:s,s:s,s:s}",
                  "team_id", (char *) a->team_id,
                  "secure_c_ses", (char *) a->secure_c_ses,
                  "host_c_oses", (char *) a->host_c_oses,
                  "csesidx", (char *) a->csesidx,
                  "user_agent", (char *) a->user_agent);
    body = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(j);

    n = ngx_gp_url_escape((char *) name, sizeof(name), (char *) a->name);
    name[n] = '\0';

    n = ngx_strlen(url);
    ngx_snprintf(url + n, sizeof(url) - n, "/api/accounts/%ui%Z", a->index);

    ngx_free(a);

    x = (body != NULL) ? ngx_gp_xfer_create(log, "remote sync") : NULL;

    if (x == NULL) {
        free(body);
        ngx_gp_sync_record(account_id, 0, 0, "out of memory");
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    x->body = body;

    if (ngx_gp_xfer_header(x, "Content-Type: application/json") != NGX_OK
        || ngx_gp_xfer_header(x, "X-Admin-Token: %s", key) != NGX_OK
        || (name[0] && ngx_gp_xfer_header(x, NGX_GP_SYNC_HEADER ": %s", name)
                       != NGX_OK))
    {
        ngx_gp_xfer_destroy(x);
        ngx_gp_sync_record(account_id, 0, 0, "out of memory");
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) url);
    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(body));

    p = ngx_gp_sync_start(x, account_id, handler, data);

    if (p == NULL) {
        ngx_gp_sync_record(account_id, 0, 0, "cannot start a transfer");
        ngx_snprintf((u_char *) err, errlen, "cannot start a transfer%Z");
    }

    return p;
}


ngx_gp_sync_push_t *
ngx_gp_sync_test(const char *url, const char *key, ngx_log_t *log,
    ngx_gp_sync_pt handler, void *data, char *err, size_t errlen)
{
    size_t               n;
    ngx_int_t            rc;
    ngx_gp_xfer_t       *x;
    ngx_gp_sync_push_t  *p;
    u_char               u[NGX_GP_SETTING_VALUE_LEN + 64];
    u_char               k[NGX_GP_SETTING_VALUE_LEN];

    rc = ngx_gp_sync_peer(u, k, err, errlen);

    if (url != NULL) {
        n = ngx_strlen(url);

        while (n && url[n - 1] == '/') {
            n--;
        }

        if (n >= NGX_GP_SETTING_VALUE_LEN) {
            ngx_snprintf((u_char *) err, errlen, "the URL is too long%Z");
            return NULL;
        }

        ngx_memcpy(u, url, n);
        u[n] = '\0';
        rc = n ? NGX_OK : NGX_DECLINED;
    }

    if (key != NULL) {
        ngx_cpystrn(k, (u_char *) key, sizeof(k));
    }

    if (rc == NGX_DECLINED) {
        ngx_snprintf((u_char *) err, errlen, "remote_sync_url is not set%Z");
        return NULL;
    }

    if (k[0] == '\0') {
        ngx_snprintf((u_char *) err, errlen,
                     "remote_sync_api_key is not set%Z");
        return NULL;
    }

    n = ngx_strlen(u);
    ngx_snprintf(u + n, sizeof(u) - n, "/api/accounts%Z");

    x = ngx_gp_xfer_create(log, "remote sync test");

    if (x == NULL
        || ngx_gp_xfer_header(x, "X-Admin-Token: %s", k) != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) u);
    x->max = 16 * 1024 * 1024;

    p = ngx_gp_sync_start(x, 0, handler, data);

    if (p == NULL) {
        ngx_snprintf((u_char *) err, errlen, "cannot start a transfer%Z");
    }

    return p;
}


static ngx_gp_sync_push_t *
ngx_gp_sync_start(ngx_gp_xfer_t *x, int64_t account_id,
    ngx_gp_sync_pt handler, void *data)
{
    ngx_gp_sync_push_t  *p;

    p = ngx_calloc(sizeof(ngx_gp_sync_push_t), x->log);

    if (p == NULL) {
        ngx_gp_xfer_destroy(x);
        return NULL;
    }

    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long) NGX_GP_SYNC_TIMEOUT);

    /* no proxy, as the reference, unless proxy_for names "sync" */
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_SYNC, NULL);

    x->on_done = ngx_gp_sync_done;
    x->data = p;

    p->x = x;
    p->account_id = account_id;
    p->handler = handler;
    p->data = data;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        ngx_gp_xfer_destroy(x);
        ngx_free(p);
        return NULL;
    }

    p->next = ngx_gp_sync_pushes;
    p->prev = &ngx_gp_sync_pushes;

    if (p->next) {
        p->next->prev = &p->next;
    }

    ngx_gp_sync_pushes = p;

    return p;
}


static void
ngx_gp_sync_done(ngx_gp_xfer_t *x)
{
    long                 status;
    void                *data;
    int64_t              id;
    ngx_uint_t           ok, level;
    ngx_gp_sync_pt       handler;
    ngx_gp_sync_push_t  *p;
    u_char               error[NGX_GP_SYNC_ERROR_LEN];

    p = x->data;
    status = (x->result == CURLE_OK) ? x->status : 0;
    ok = (status == 200);

    if (ok) {
        error[0] = '\0';

    } else if (x->result != CURLE_OK) {
        ngx_cpystrn(error, (u_char *) ngx_gp_xfer_describe(x, error,
                                                           sizeof(error)),
                    sizeof(error));

    } else if (status == 401 || status == 403) {
        ngx_snprintf(error, sizeof(error),
                     "the peer refused the key (HTTP %l)%Z", status);

    } else {
        ngx_snprintf(error, sizeof(error), "the peer answered HTTP %l%Z",
                     status);
    }

    id = p->account_id;
    handler = p->handler;
    data = p->data;

    level = ok ? NGX_LOG_INFO : NGX_LOG_WARN;

    if (id) {
        ngx_log_error(level, x->log, 0,
                      "gemini pool remote sync: account id %L %s%s", id,
                      ok ? "pushed" : "failed: ", ok ? (u_char *) "" : error);

    } else {
        ngx_log_error(level, x->log, 0,
                      "gemini pool remote sync: connection test %s%s",
                      ok ? "ok" : "failed: ", ok ? (u_char *) "" : error);
    }

    p->x = NULL;
    ngx_gp_xfer_destroy(x);
    ngx_gp_sync_free(p);

    if (id) {
        ngx_gp_sync_record(id, ok, status, (char *) error);
    }

    if (handler) {
        handler(data, ok, status, ok ? NULL : (char *) error);
    }
}


void
ngx_gp_sync_cancel(ngx_gp_sync_push_t *p)
{
    ngx_uint_t      i;
    ngx_gp_zone_t  *z;

    if (p == NULL) {
        return;
    }

    if (p->account_id && (z = ngx_gp_zone()) != NULL) {
        /* owed still if it was: the tick tries again */
        ngx_shmtx_lock(&z->shpool->mutex);

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == p->account_id) {
                z->sh->accounts[i].sync.busy_until = 0;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    ngx_gp_xfer_destroy(p->x);
    ngx_gp_sync_free(p);
}


static void
ngx_gp_sync_free(ngx_gp_sync_push_t *p)
{
    *p->prev = p->next;

    if (p->next) {
        p->next->prev = p->prev;
    }

    ngx_free(p);
}


static void
ngx_gp_sync_record(int64_t account_id, ngx_uint_t ok, long status,
    const char *error)
{
    time_t                now, first;
    ngx_uint_t            i;
    ngx_gp_zone_t        *z;
    ngx_gp_sync_state_t  *s;

    z = ngx_gp_zone();

    if (z == NULL) {
        return;
    }

    now = ngx_time();
    first = ngx_gp_setting_int(z, NGX_GP_SET_REMOTE_SYNC_RETRY);

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id != account_id) {
            continue;
        }

        s = &z->sh->accounts[i].sync;
        s->busy_until = 0;
        s->last_try = now;
        s->last_status = status;

        if (ok) {
            s->pending = 0;
            s->attempts = 0;
            s->next_try = 0;
            s->last_success = now;
            s->last_error[0] = '\0';

        } else {
            s->pending = 1;
            s->attempts++;
            s->next_try = now + ngx_gp_sync_backoff(first, s->attempts);
            ngx_cpystrn(s->last_error, (u_char *) (error ? error : ""),
                        NGX_GP_SYNC_ERROR_LEN);
        }

        break;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


void
ngx_gp_sync_account(int64_t account_id)
{
    char                 err[NGX_GP_SYNC_ERROR_LEN];
    ngx_uint_t           i, skipped;
    ngx_gp_zone_t       *z;

    z = ngx_gp_zone();

    if (z == NULL) {
        return;
    }

    /* owed from now on, until a push succeeds */
    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == account_id) {
            z->sh->accounts[i].sync.pending = 1;
            z->sh->accounts[i].sync.attempts = 0;
            z->sh->accounts[i].sync.next_try = 0;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ngx_gp_sync_push(account_id, ngx_cycle->log, NULL, NULL, &skipped,
                         err, sizeof(err))
        == NULL && skipped)
    {
        ngx_gp_sync_record(account_id, 1, 0, NULL);
    }
}


void
ngx_gp_sync_tick(void)
{
    char                 err[NGX_GP_SYNC_ERROR_LEN];
    time_t               now;
    int64_t              due[NGX_GP_SYNC_PER_TICK];
    ngx_uint_t           i, n, skipped;
    ngx_gp_zone_t       *z;
    ngx_gp_sync_state_t *s;
    u_char               url[NGX_GP_SETTING_VALUE_LEN];

    z = ngx_gp_zone();

    if (z == NULL) {
        return;
    }

    ngx_gp_setting_str(z, NGX_GP_SET_REMOTE_SYNC_URL, url, sizeof(url));

    if (url[0] == '\0') {
        return;
    }

    now = ngx_time();
    n = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts && n < NGX_GP_SYNC_PER_TICK; i++) {
        s = &z->sh->accounts[i].sync;

        if (s->pending && s->next_try <= now && s->busy_until <= now) {
            due[n++] = z->sh->accounts[i].id;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    for (i = 0; i < n; i++) {
        if (ngx_gp_sync_push(due[i], ngx_cycle->log, NULL, NULL, &skipped,
                             err, sizeof(err))
            == NULL && skipped)
        {
            ngx_gp_sync_record(due[i], 1, 0, NULL);
        }
    }
}


void
ngx_gp_sync_exit(void)
{
    while (ngx_gp_sync_pushes) {
        ngx_gp_sync_cancel(ngx_gp_sync_pushes);
    }
}


