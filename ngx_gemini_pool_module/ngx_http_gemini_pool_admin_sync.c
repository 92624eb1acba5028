
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Remote sync in the admin API: "push all" (POST /api/sync-all-to-remote,
 * as the reference), the connection test (POST /api/remote-sync/test),
 * the state of the pushes (GET /api/remote-sync), and for the receiver
 * the account a peer of ours names by X-Gemini-Pool-Account.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SYNC_ALL_PARALLEL  4


typedef struct {
    ngx_http_request_t   *r;
    int64_t              *ids;
    ngx_uint_t            total;
    ngx_uint_t            next;
    ngx_uint_t            synced;
    ngx_uint_t            running;
    ngx_uint_t            skipped;
    ngx_uint_t            answered;
    ngx_gp_sync_push_t   *push[NGX_GP_SYNC_ALL_PARALLEL];
    ngx_uint_t            slot[NGX_GP_SYNC_ALL_PARALLEL];
} ngx_gp_admin_sync_all_t;


typedef struct {
    ngx_gp_admin_sync_all_t  *all;
    ngx_uint_t                i;
} ngx_gp_admin_sync_slot_t;


typedef struct {
    ngx_http_request_t   *r;
    ngx_gp_sync_push_t   *push;
} ngx_gp_admin_sync_test_t;


static void ngx_gp_admin_sync_all_more(ngx_gp_admin_sync_all_t *s);
static ngx_int_t ngx_gp_admin_sync_all_answer(ngx_gp_admin_sync_all_t *s);
static void ngx_gp_admin_sync_all_done(void *data, ngx_uint_t ok,
    long status, const char *error);
static void ngx_gp_admin_sync_all_cleanup(void *data);
static void ngx_gp_admin_sync_tested(void *data, ngx_uint_t ok, long status,
    const char *error);
static void ngx_gp_admin_sync_test_cleanup(void *data);


/* POST /api/sync-all-to-remote: {"success","total","synced"} */

ngx_int_t
ngx_gp_admin_sync_all(ngx_gp_admin_t *a)
{
    ngx_uint_t                i;
    ngx_gp_zone_t            *z;
    ngx_pool_cleanup_t       *cln;
    ngx_gp_admin_sync_all_t  *s;

    s = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_admin_sync_all_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);
    z = ngx_gp_zone();

    if (s == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->r = a->r;

    ngx_shmtx_lock(&z->shpool->mutex);

    s->total = z->sh->naccounts;
    s->ids = ngx_palloc(a->r->pool, (s->total + 1) * sizeof(int64_t));

    if (s->ids != NULL) {
        for (i = 0; i < s->total; i++) {
            s->ids[i] = z->sh->accounts[i].id;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (s->ids == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_gp_admin_sync_all_cleanup;
    cln->data = s;
    a->r->read_event_handler = ngx_http_test_reading;

    ngx_gp_admin_sync_all_more(s);

    if (s->running == 0) {
        return ngx_gp_admin_sync_all_answer(s);
    }

    a->r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


static ngx_int_t
ngx_gp_admin_sync_all_answer(ngx_gp_admin_sync_all_t *s)
{
    s->answered = 1;

    return ngx_gp_admin_json(s->r, NGX_HTTP_OK,
               json_pack("{s:b,s:i,s:i,s:b}",
                         "success", s->skipped || s->synced == s->total,
                         "total", (int) s->total,
                         "synced", (int) (s->skipped ? s->total : s->synced),
                         "skipped", (int) s->skipped));
}


/* starts pushes while slots are free and accounts are left */

static void
ngx_gp_admin_sync_all_more(ngx_gp_admin_sync_all_t *s)
{
    char                       err[NGX_GP_SYNC_ERROR_LEN];
    ngx_uint_t                 i, skipped;
    ngx_gp_admin_sync_slot_t  *slot;

    while (s->next < s->total && s->running < NGX_GP_SYNC_ALL_PARALLEL
           && !s->skipped)
    {
        for (i = 0; s->push[i] != NULL; i++) { /* void */ }

        slot = ngx_palloc(s->r->pool, sizeof(ngx_gp_admin_sync_slot_t));

        if (slot == NULL) {
            break;
        }

        slot->all = s;
        slot->i = i;

        s->push[i] = ngx_gp_sync_push(s->ids[s->next++], s->r->connection->log,
                                      ngx_gp_admin_sync_all_done, slot,
                                      &skipped, err, sizeof(err));

        if (s->push[i] != NULL) {
            s->running++;
            continue;
        }

        if (skipped) {
            /* no peer: every account counts as synced, as the reference */
            s->skipped = 1;
        }
    }
}


static void
ngx_gp_admin_sync_all_done(void *data, ngx_uint_t ok, long status,
    const char *error)
{
    ngx_gp_admin_sync_slot_t  *slot = data;
    ngx_gp_admin_sync_all_t   *s;

    s = slot->all;
    s->push[slot->i] = NULL;
    s->running--;
    s->synced += ok;

    ngx_gp_admin_sync_all_more(s);

    if (s->running == 0 && !s->answered) {
        ngx_http_finalize_request(s->r, ngx_gp_admin_sync_all_answer(s));
    }
}


static void
ngx_gp_admin_sync_all_cleanup(void *data)
{
    ngx_uint_t                i;
    ngx_gp_admin_sync_all_t  *s = data;

    for (i = 0; i < NGX_GP_SYNC_ALL_PARALLEL; i++) {
        if (s->push[i]) {
            ngx_gp_sync_cancel(s->push[i]);
            s->push[i] = NULL;
        }
    }

    s->running = 0;
    s->answered = 1;
}


/* POST /api/remote-sync/test [{"url","api_key"}]: {"ok","status","error"} */

ngx_int_t
ngx_gp_admin_sync_test(ngx_gp_admin_t *a)
{
    char                       err[NGX_GP_SYNC_ERROR_LEN];
    ngx_int_t                  bad;
    const char                *url, *key;
    ngx_pool_cleanup_t        *cln;
    ngx_gp_admin_sync_test_t  *t;

    bad = 0;
    url = ngx_gp_admin_str(a, "url", &bad);
    key = ngx_gp_admin_str(a, "api_key", &bad);

    if (bad || (url && url[0] && ngx_strncmp(url, "http://", 7) != 0
                && ngx_strncmp(url, "https://", 8) != 0))
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"url\" must be an http:// or https:// "
                                  "URL and \"api_key\" a string");
    }

    t = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_admin_sync_test_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (t == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->r = a->r;
    t->push = ngx_gp_sync_test(url, key, a->r->connection->log,
                               ngx_gp_admin_sync_tested, t, err, sizeof(err));

    if (t->push == NULL) {
        return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                                 json_pack("{s:b,s:i,s:s}", "ok", 0,
                                           "status", 0, "error", err));
    }

    cln->handler = ngx_gp_admin_sync_test_cleanup;
    cln->data = t;

    a->r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


static void
ngx_gp_admin_sync_tested(void *data, ngx_uint_t ok, long status,
    const char *error)
{
    ngx_gp_admin_sync_test_t  *t = data;

    t->push = NULL;

    ngx_http_finalize_request(t->r,
        ngx_gp_admin_json(t->r, NGX_HTTP_OK,
                          json_pack("{s:b,s:i,s:s?}", "ok", (int) ok,
                                    "status", (int) status,
                                    "error", error)));
}


static void
ngx_gp_admin_sync_test_cleanup(void *data)
{
    ngx_gp_admin_sync_test_t  *t = data;

    ngx_gp_sync_cancel(t->push);
    t->push = NULL;
}


/*
 * GET /api/remote-sync: {"url" (masked),"api_key_set","last_success",
 * "pending":[{"account","id","name","attempts","next_try","last_try",
 * "last_status","last_error"}]}
 */

ngx_int_t
ngx_gp_admin_sync_state(ngx_gp_admin_t *a)
{
    time_t                last;
    json_t               *j, *pending, *row;
    ngx_uint_t            i;
    ngx_gp_zone_t        *z;
    ngx_gp_account_t     *acc;
    u_char                url[NGX_GP_SETTING_VALUE_LEN];
    u_char                key[NGX_GP_SETTING_VALUE_LEN];
    u_char                masked[NGX_GP_SETTING_VALUE_LEN];

    z = ngx_gp_zone();

    ngx_gp_setting_str(z, NGX_GP_SET_REMOTE_SYNC_URL, url, sizeof(url));
    ngx_gp_setting_str(z, NGX_GP_SET_REMOTE_SYNC_API_KEY, key, sizeof(key));
    (void) ngx_gp_mask_url((char *) url, masked, sizeof(masked));

    pending = json_array();

    if (pending == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];
        last = ngx_max(last, acc->sync.last_success);

        if (!acc->sync.pending) {
            continue;
        }

        row = json_pack("{s:i,s:I,s:s,s:i,s:I,s:I,s:i,s:s}",
                        "account", (int) i,
                        "id", (json_int_t) acc->id,
                        "name", (char *) acc->name,
                        "attempts", (int) acc->sync.attempts,
                        "next_try", (json_int_t) acc->sync.next_try,
                        "last_try", (json_int_t) acc->sync.last_try,
                        "last_status", (int) acc->sync.last_status,
                        "last_error", (char *) acc->sync.last_error);

        if (row == NULL || json_array_append_new(pending, row) != 0) {
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    j = json_pack("{s:s,s:b,s:o,s:o}", "url", (char *) masked,
                  "api_key_set", key[0] != '\0',
                  "last_success", last ? json_integer(last) : json_null(),
                  "pending", pending);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);
}


/*
 * The receiver's side: a peer of ours names the account it pushes by
 * X-Gemini-Pool-Account (its name, percent-encoded).  Returns its id and
 * position; 0 with the position past the end when there is none of that
 * name (the body then gets the name, so the new account carries it);
 * -1 when the header is bad or several accounts have the name;
 * NGX_DECLINED without the header (the position in the path applies).
 */

int64_t
ngx_gp_admin_sync_target(ngx_gp_admin_t *a, ngx_uint_t *index,
    ngx_uint_t *count)
{
    u_char           *p, *d;
    int64_t           id;
    ngx_uint_t        i, n;
    ngx_table_elt_t  *h;
    ngx_gp_zone_t    *z;
    u_char            name[NGX_GP_NAME_LEN];

    h = ngx_gp_header_in(a->r, NGX_GP_SYNC_HEADER);

    if (h == NULL) {
        return NGX_DECLINED;
    }

    p = h->value.data;
    n = h->value.len;

    if (n == 0 || n >= 3 * NGX_GP_NAME_LEN) {
        return -1;
    }

    d = name;
    ngx_unescape_uri(&d, &p, n, 0);

    if (d == name || (size_t) (d - name) >= NGX_GP_NAME_LEN
        || ngx_strlchr(name, d, '\0') != NULL)
    {
        return -1;
    }

    *d = '\0';

    z = ngx_gp_zone();
    id = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    *count = z->sh->naccounts;
    *index = z->sh->naccounts;

    for (i = 0; i < z->sh->naccounts; i++) {
        if (ngx_strcmp(z->sh->accounts[i].name, name) == 0) {
            id = id ? -1 : z->sh->accounts[i].id;
            *index = i;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (id == 0 && a->body != NULL
        && json_object_get(a->body, "name") == NULL)
    {
        /* a new account, under the name the peer knows it by */
        if (json_object_set_new(a->body, "name", json_string((char *) name))
            != 0)
        {
            return -1;
        }
    }

    return id;
}
