
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin accounts: the list, add, partial update (also the remote-sync
 * receiver), delete, enable/disable, the quota cooldowns, the pool's
 * status, the proxy test and the live account test.
 */


#include "ngx_http_gemini_pool_module.h"


static ngx_uint_t ngx_gp_admin_zone_expired(int64_t id);
static void ngx_gp_admin_test_record(int64_t id, ngx_uint_t ok,
    ngx_uint_t status, const char *error);


/* GET /api/accounts */

#define NGX_GP_ACC_AVAILABLE   0
#define NGX_GP_ACC_COOLING     1
#define NGX_GP_ACC_EXPIRED     2
#define NGX_GP_ACC_DISABLED    3

static const char  *ngx_gp_admin_states[] = {
    "available", "cooling", "expired", "disabled", NULL
};

static const char  *ngx_gp_admin_sorts[] = {
    "index", "name", "state", "requests", "failures", "last_used",
    "cooldown", NULL
};


static ngx_uint_t
ngx_gp_admin_account_state(ngx_gp_account_t *acc, time_t now)
{
    if (!acc->enabled) {
        return NGX_GP_ACC_DISABLED;
    }

    if (acc->cookie_expired) {
        return NGX_GP_ACC_EXPIRED;
    }

    if (acc->cooldown_until[NGX_GP_QUOTA_TEXT] > now) {
        return NGX_GP_ACC_COOLING;
    }

    return NGX_GP_ACC_AVAILABLE;
}


/* the end of its last cooldown (any quota) */

static time_t
ngx_gp_admin_cooldown_end(ngx_gp_account_t *acc)
{
    time_t      t;
    ngx_uint_t  i;

    t = 0;

    for (i = 0; i < NGX_GP_QUOTA_N; i++) {
        t = ngx_max(t, acc->cooldown_until[i]);
    }

    return t;
}


/* one row; the events (admin_events.c) send the same */

json_t *
ngx_gp_admin_account_json(ngx_gp_account_t *acc, ngx_uint_t index,
    time_t now)
{
    json_t  *j, *test;
    u_char   proxy[NGX_GP_PROXY_LEN];

    (void) ngx_gp_mask_url((char *) acc->proxy, proxy, sizeof(proxy));

    j = json_pack("{s:i,s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:s,"
                  "s:{s:I,s:I,s:I},s:b,s:I,s:I,s:I,s:s,s:I,s:s,s:I,s:I}",
                  "index", (int) index,
                  "id", (json_int_t) acc->id,
                  "name", (char *) acc->name,
                  "team_id", (char *) acc->team_id,
                  "csesidx", (char *) acc->csesidx,
                  "secure_c_ses_set", acc->secure_c_ses[0] != '\0',
                  "host_c_oses_set", acc->host_c_oses[0] != '\0',
                  "enabled", (int) acc->enabled,
                  "cookie_expired", (int) acc->cookie_expired,
                  "user_agent", (char *) acc->user_agent,
                  "proxy", (char *) proxy,
                  "cooldown_until",
                  "text", (json_int_t) acc->cooldown_until[0],
                  "images", (json_int_t) acc->cooldown_until[1],
                  "videos", (json_int_t) acc->cooldown_until[2],
                  "available", acc->enabled && !acc->cookie_expired
                               && acc->cooldown_until[0] <= now,
                  "in_flight", (json_int_t) acc->in_flight,
                  "requests", (json_int_t) acc->requests,
                  "failures", (json_int_t) acc->failures,
                  "last_error", (char *) acc->last_error,
                  "spare_sessions", (json_int_t) acc->nspares,
                  "state",
                  ngx_gp_admin_states[ngx_gp_admin_account_state(acc, now)],
                  "last_used", (json_int_t) acc->last_used,
                  "last_error_at", (json_int_t) acc->last_error_at);

    if (j == NULL) {
        return NULL;
    }

    test = acc->tested_at
           ? json_pack("{s:I,s:b,s:i}", "at", (json_int_t) acc->tested_at,
                       "ok", (int) acc->tested_ok,
                       "status", (int) acc->tested_status)
           : json_null();

    if (json_object_set_new(j, "test", test) != 0) {
        json_decref(j);
        return NULL;
    }

    return j;
}


/* the order of a paged list: its key, its direction, the time */

static ngx_uint_t  ngx_gp_admin_sort_key;
static ngx_int_t   ngx_gp_admin_sort_desc;
static time_t      ngx_gp_admin_sort_now;


#define ngx_gp_admin_cmp(a, b)  ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)


static int
ngx_gp_admin_sort_cmp(const void *one, const void *two)
{
    int                 c;
    ngx_gp_account_t   *a, *b;

    a = *(ngx_gp_account_t **) one;
    b = *(ngx_gp_account_t **) two;

    switch (ngx_gp_admin_sort_key) {

    case 1:
        c = ngx_strcasecmp(a->name, b->name);
        break;

    case 2:
        c = ngx_gp_admin_cmp(ngx_gp_admin_account_state(a,
                                 ngx_gp_admin_sort_now),
                             ngx_gp_admin_account_state(b,
                                 ngx_gp_admin_sort_now));
        break;

    case 3:
        c = ngx_gp_admin_cmp(a->requests, b->requests);
        break;

    case 4:
        c = ngx_gp_admin_cmp(a->failures, b->failures);
        break;

    case 5:
        c = ngx_gp_admin_cmp(a->last_used, b->last_used);
        break;

    case 6:
        c = ngx_gp_admin_cmp(ngx_gp_admin_cooldown_end(a),
                             ngx_gp_admin_cooldown_end(b));
        break;

    default:
        c = 0;
    }

    if (ngx_gp_admin_sort_desc) {
        c = -c;
    }

    /* ties (and "index") by position: pages never overlap */
    return c ? c : ngx_gp_admin_cmp(a->id, b->id);
}


/* s in a NULL-ended list: its position, or -1 */

static ngx_int_t
ngx_gp_admin_word(ngx_str_t *s, const char **list)
{
    ngx_int_t  i;

    for (i = 0; list[i]; i++) {
        if (ngx_strlen(list[i]) == s->len
            && ngx_strncmp(list[i], s->data, s->len) == 0)
        {
            return i;
        }
    }

    return -1;
}


static ngx_uint_t
ngx_gp_admin_account_match(ngx_gp_account_t *acc, ngx_str_t *q)
{
    if (q->len == 0) {
        return 1;
    }

    return ngx_strlcasestrn(acc->name, acc->name + ngx_strlen(acc->name),
                            q->data, q->len - 1) != NULL
           || ngx_strlcasestrn(acc->team_id,
                               acc->team_id + ngx_strlen(acc->team_id),
                               q->data, q->len - 1) != NULL
           || ngx_strlcasestrn(acc->last_error,
                               acc->last_error
                               + ngx_strlen(acc->last_error),
                               q->data, q->len - 1) != NULL;
}


/*
 * GET /api/accounts?q=&state=&sort=&order=&offset=&limit=&ids=1: the
 * accounts that match, sorted, one page of them, with their number
 * ("total"), the number of all ("all"), all by state ("states") and with
 * ids=1 the ids of every match (a bulk action on all of them).
 */

static ngx_int_t
ngx_gp_admin_accounts_page(ngx_gp_admin_t *a)
{
    time_t              now;
    json_t             *list, *ids, *j, *states;
    ngx_int_t           offset, limit, sent, sort, order, want, st;
    ngx_str_t           q, sort_s, order_s, state_s, ids_s;
    ngx_uint_t          i, n, all, count[4];
    ngx_gp_zone_t      *z;
    ngx_gp_account_t  **rows, *acc;

    offset = 0;
    limit = 100;
    sort = 0;
    order = 0;
    want = -1;

    if (ngx_gp_admin_arg_int(a, "limit", 1000, "1 to 1000", &limit, &sent)
        != NGX_OK
        || ngx_gp_admin_arg_int(a, "offset", 0, "a number, 0 or more",
                                &offset, &sent)
           != NGX_OK)
    {
        return sent;
    }

    if (ngx_gp_admin_arg_text(a, "q", &q) != NGX_OK
        || ngx_gp_admin_arg_text(a, "sort", &sort_s) != NGX_OK
        || ngx_gp_admin_arg_text(a, "order", &order_s) != NGX_OK
        || ngx_gp_admin_arg_text(a, "state", &state_s) != NGX_OK
        || ngx_gp_admin_arg_text(a, "ids", &ids_s) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (q.len > 128) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value",
                                  "\"q\" must be at most 128 bytes");
    }

    if (sort_s.len && (sort = ngx_gp_admin_word(&sort_s, ngx_gp_admin_sorts))
                      < 0)
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"sort\" must be one of "
                                  "index, name, state, requests, failures, "
                                  "last_used, cooldown");
    }

    if (order_s.len) {
        if (order_s.len == 3 && ngx_strncmp(order_s.data, "asc", 3) == 0) {
            order = 0;

        } else if (order_s.len == 4
                   && ngx_strncmp(order_s.data, "desc", 4) == 0)
        {
            order = 1;

        } else {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value",
                                      "\"order\" must be asc or desc");
        }
    }

    if (state_s.len
        && (want = ngx_gp_admin_word(&state_s, ngx_gp_admin_states)) < 0)
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"state\" must be one of "
                                  "available, cooling, expired, disabled");
    }

    if (ids_s.len && !(ids_s.len == 1 && (ids_s.data[0] == '0'
                                          || ids_s.data[0] == '1')))
    {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "invalid_value", "\"ids\" must be 0 or 1");
    }

    z = ngx_gp_zone();
    now = ngx_time();

    list = json_array();
    ids = (ids_s.len && ids_s.data[0] == '1') ? json_array() : NULL;

    if (list == NULL || (ids_s.len && ids_s.data[0] == '1' && ids == NULL)) {
        json_decref(list);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(count, sizeof(count));

    ngx_shmtx_lock(&z->shpool->mutex);

    all = z->sh->naccounts;

    rows = ngx_palloc(a->r->pool, (all + 1) * sizeof(ngx_gp_account_t *));
    if (rows == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        json_decref(list);
        json_decref(ids);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;

    for (i = 0; i < all; i++) {
        acc = &z->sh->accounts[i];
        st = ngx_gp_admin_account_state(acc, now);
        count[st]++;

        if ((want < 0 || st == want) && ngx_gp_admin_account_match(acc, &q)) {
            rows[n++] = acc;
        }
    }

    ngx_gp_admin_sort_key = sort;
    ngx_gp_admin_sort_desc = order;
    ngx_gp_admin_sort_now = now;

    ngx_qsort(rows, n, sizeof(ngx_gp_account_t *), ngx_gp_admin_sort_cmp);

    for (i = 0; ids && i < n; i++) {
        if (json_array_append_new(ids, json_integer(rows[i]->id)) != 0) {
            goto failed;
        }
    }

    for (i = offset; i < n && i < (ngx_uint_t) (offset + limit); i++) {
        j = ngx_gp_admin_account_json(rows[i], rows[i] - z->sh->accounts,
                                      now);

        if (j == NULL || json_array_append_new(list, j) != 0) {
            goto failed;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_gp_admin_relogin_rows(list, a->r->connection->log);

    states = json_pack("{s:i,s:i,s:i,s:i}",
                       "available", (int) count[0], "cooling", (int) count[1],
                       "expired", (int) count[2], "disabled", (int) count[3]);

    j = json_pack("{s:o,s:i,s:i,s:i,s:i,s:o,s:s,s:s}",
                  "accounts", list, "total", (int) n, "all", (int) all,
                  "offset", (int) offset, "limit", (int) limit,
                  "states", states ? states : json_null(),
                  "sort", ngx_gp_admin_sorts[sort],
                  "order", order ? "desc" : "asc");

    if (j && ids && json_object_set_new(j, "ids", ids) != 0) {
        json_decref(j);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (j == NULL) {
        json_decref(ids);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK, j);

failed:

    ngx_shmtx_unlock(&z->shpool->mutex);
    json_decref(list);
    json_decref(ids);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


ngx_int_t
ngx_gp_admin_accounts(ngx_gp_admin_t *a)
{
    json_t            *list, *j;
    time_t             now;
    ngx_uint_t         i;
    ngx_gp_zone_t     *z;

    if (a->r->args.len) {
        return ngx_gp_admin_accounts_page(a);
    }

    z = ngx_gp_zone();
    now = ngx_time();

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        j = ngx_gp_admin_account_json(&z->sh->accounts[i], i, now);

        if (j == NULL || json_array_append_new(list, j) != 0) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_gp_admin_relogin_rows(list, a->r->connection->log);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:o,s:i}", "accounts", list,
                                       "total", (int) json_array_size(list)));
}


/* a NULL-ended list of names as a JSON array (NULL: out of memory) */

static json_t *
ngx_gp_admin_names(const char **names)
{
    json_t  *list;

    list = json_array();

    while (list && *names) {
        if (json_array_append_new(list, json_string(*names++)) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/*
 * The body's account (bodies.c reads it); others NULL (unchanged).  A bad
 * body is answered with every problem at once: the message names them,
 * "missing" and "invalid" list the fields.
 */

static ngx_int_t
ngx_gp_admin_account_body(ngx_gp_admin_t *a, ngx_uint_t add,
    ngx_gp_store_account_t *acc, ngx_int_t *status)
{
    int                     rc;
    char                    msg[NGX_GP_BODY_ERR_LEN];
    ngx_gp_body_account_t   b;

    if (a->body == NULL) {
        *status = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                     "invalid_json",
                                     "a JSON object is required");
        return NGX_ERROR;
    }

    rc = ngx_gp_body_account(a->body, (int) add, &b, msg, sizeof(msg));

    if (rc != 0) {
        *status = ngx_gp_admin_json(a->r, NGX_HTTP_BAD_REQUEST,
                                    json_pack("{s:{s:s,s:s,s:o,s:o}}",
                                        "error", "message", msg, "code",
                                        rc == NGX_GP_BODY_MISSING
                                        ? "missing_field" : "invalid_value",
                                        "missing",
                                        ngx_gp_admin_names(b.missing),
                                        "invalid",
                                        ngx_gp_admin_names(b.invalid)));
        return NGX_ERROR;
    }

    ngx_memzero(acc, sizeof(ngx_gp_store_account_t));

    acc->name = b.name;
    acc->team_id = b.team_id;
    acc->csesidx = b.csesidx;
    acc->secure_c_ses = b.secure_c_ses;
    acc->host_c_oses = b.host_c_oses;
    acc->user_agent = b.user_agent;
    acc->proxy = b.proxy;
    acc->tempmail_url = b.tempmail_url;
    acc->tempmail_name = b.tempmail_name;
    acc->enabled = b.enabled;

    return NGX_OK;
}


/*
 * The end of a change to the accounts, inside its transaction: it is
 * committed only when the zone has room for every account it leaves
 * (else 507 naming gemini_pool_zone and the size it needs, and nothing is
 * changed: the database and the zone never disagree), then the zone
 * follows.  *rc: what to answer when it returns NGX_ERROR.
 */

static ngx_int_t
ngx_gp_admin_accounts_commit(ngx_gp_admin_t *a, ngx_int_t *rc)
{
    ngx_int_t             room_rc;
    ngx_log_t            *log;
    ngx_gp_zone_t        *z;
    ngx_gp_store_room_t   room;

    log = a->r->connection->log;

    room_rc = ngx_gp_store_zone_room(log, &room);

    if (room_rc != NGX_OK) {
        ngx_gp_store_rollback(log);

        if (room_rc != NGX_DECLINED) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_ERROR;
        }

        z = ngx_gp_zone();

        *rc = ngx_gp_admin_error(a->r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                 "zone_full", "gemini_pool_zone \"%.*s\" "
                                 "(%luk) has no room for %lu accounts: "
                                 "raise it to at least %luk (docs/"
                                 "directives.md); nothing was changed",
                                 (int) z->gmcf->zone_name.len,
                                 z->gmcf->zone_name.data,
                                 (unsigned long) room.size / 1024,
                                 (unsigned long) room.accounts,
                                 (unsigned long) room.needed / 1024);
        return NGX_ERROR;
    }

    if (ngx_gp_store_commit(log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_admin_account_add(ngx_gp_admin_t *a)
{
    int64_t                  id;
    ngx_int_t                rc;
    ngx_gp_store_account_t   acc;

    /* the cookies and the proxy are sealed as they are written */

    if (ngx_gp_admin_account_body(a, 1, &acc, &rc) != NGX_OK) {
        return rc;
    }

    if (ngx_gp_store_begin(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_store_account_add(&acc, &id, a->r->connection->log)
        != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_accounts_commit(a, &rc) != NGX_OK) {
        return rc;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                             json_pack("{s:b,s:I}", "success", 1, "id",
                                       (json_int_t) id));
}


/*
 * Partial update.  Also the remote-sync receiver (spec §15): a position
 * past the end appends placeholder accounts up to it, and an account that
 * gets complete credentials leaves the cookie-expired state and its
 * cooldowns behind.
 */

ngx_int_t
ngx_gp_admin_account_update(ngx_gp_admin_t *a)
{
    u_char                   name[NGX_GP_NAME_LEN];
    int64_t                  id;
    ngx_int_t                rc;
    ngx_uint_t               index, count, i, renew;
    ngx_gp_zone_t           *z;
    ngx_gp_store_account_t   acc;

    /* the cookies and the proxy are sealed as they are written */

    if (ngx_gp_admin_account_body(a, 0, &acc, &rc) != NGX_OK) {
        return rc;
    }

    /* a peer of ours names the account; a reference peer its position */
    id = ngx_gp_admin_sync_target(a, &index, &count);

    if (id == NGX_DECLINED) {
        id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);
    }

    if (id < 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (ngx_gp_store_begin(a->r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (id == 0) {
        if (index > count + 100) {
            ngx_gp_store_rollback(a->r->connection->log);
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "account position "
                                      "%lu is too far past the end (%lu)",
                                      (unsigned long) index,
                                      (unsigned long) count);
        }

        /* placeholders up to the position, as the reference does */
        if (ngx_gp_store_account_placeholders(index + 1 - count, &id,
                                              a->r->connection->log)
            != NGX_OK)
        {
            ngx_gp_store_rollback(a->r->connection->log);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* again: a sync peer's new account got its name in the body */

    if (ngx_gp_admin_account_body(a, 0, &acc, &rc) != NGX_OK) {
        ngx_gp_store_rollback(a->r->connection->log);
        return rc;
    }

    if (ngx_gp_store_account_update(id, &acc, a->r->connection->log)
        != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* complete credentials bring an expired account back */

    renew = 0;

    if ((acc.secure_c_ses || acc.csesidx)
        && ngx_gp_store_account_renew(id, ngx_gp_admin_zone_expired(id),
                                      &renew, a->r->connection->log)
           != NGX_OK)
    {
        ngx_gp_store_rollback(a->r->connection->log);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gp_admin_accounts_commit(a, &rc) != NGX_OK) {
        return rc;
    }

    if (renew) {
        z = ngx_gp_zone();
        name[0] = '\0';

        ngx_shmtx_lock(&z->shpool->mutex);

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == id) {
                z->sh->accounts[i].cookie_expired = 0;
                z->sh->accounts[i].jwt[0] = '\0';
                ngx_memzero(z->sh->accounts[i].cooldown_until,
                            sizeof(z->sh->accounts[i].cooldown_until));
                ngx_memzero(z->sh->accounts[i].rate_limited,
                            sizeof(z->sh->accounts[i].rate_limited));
                z->sh->accounts[i].state_gen++;
                ngx_memcpy(name, z->sh->accounts[i].name, NGX_GP_NAME_LEN);
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        /* and on the other gateways: the shared expired flag goes too */
        if (name[0]) {
            ngx_gp_cluster_expired_clear(name);
        }

        ngx_log_error(NGX_LOG_NOTICE, a->r->connection->log, 0,
                      "gemini pool: account %L has new credentials and is "
                      "back in rotation", id);
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:I,s:b}", "success", 1, "id",
                                       (json_int_t) id, "renewed",
                                       (int) renew));
}


static ngx_uint_t
ngx_gp_admin_zone_expired(int64_t id)
{
    ngx_uint_t      i, expired;
    ngx_gp_zone_t  *z;

    z = ngx_gp_zone();
    expired = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == id) {
            expired = z->sh->accounts[i].cookie_expired;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return expired;
}


static ngx_int_t
ngx_gp_admin_account_simple(ngx_gp_admin_t *a,
    ngx_int_t (*op)(int64_t id, ngx_log_t *log))
{
    int64_t         id;
    ngx_uint_t      index, count;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    if (op(id, a->r->connection->log) != NGX_OK
        || ngx_gp_admin_changed(a->r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:b,s:I}", "success", 1, "id",
                                       (json_int_t) id));
}


ngx_int_t
ngx_gp_admin_account_delete(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_delete);
}


ngx_int_t
ngx_gp_admin_account_toggle(ngx_gp_admin_t *a)
{
    return ngx_gp_admin_account_simple(a, ngx_gp_store_account_toggle);
}


/* GET /api/accounts/<i>/quota: the cooldowns, absolute and remaining */

ngx_int_t
ngx_gp_admin_account_quota(ngx_gp_admin_t *a)
{
    time_t          now, t[NGX_GP_QUOTA_N];
    int64_t         id;
    ngx_uint_t      index, count, i, expired;
    ngx_gp_zone_t  *z;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    z = ngx_gp_zone();
    now = ngx_time();
    expired = 0;
    ngx_memzero(t, sizeof(t));

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        if (z->sh->accounts[i].id == id) {
            ngx_memcpy(t, z->sh->accounts[i].cooldown_until, sizeof(t));
            expired = z->sh->accounts[i].cookie_expired;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
        json_pack("{s:I,s:b,s:{s:{s:I,s:I},s:{s:I,s:I},s:{s:I,s:I}}}",
                  "id", (json_int_t) id, "cookie_expired", (int) expired,
                  "quota",
                  "text", "until", (json_int_t) t[0], "seconds",
                  (json_int_t) ngx_max(t[0] - now, 0),
                  "images", "until", (json_int_t) t[1], "seconds",
                  (json_int_t) ngx_max(t[1] - now, 0),
                  "videos", "until", (json_int_t) t[2], "seconds",
                  (json_int_t) ngx_max(t[2] - now, 0)));
}


/* GET /api/status: the version, the accounts, the global proxy */

ngx_int_t
ngx_gp_admin_status(ngx_gp_admin_t *a)
{
    time_t            now;
    ngx_uint_t        i, usable, total;
    ngx_gp_zone_t    *z;
    ngx_gp_account_t *acc;
    u_char            proxy[NGX_GP_PROXY_LEN], masked[NGX_GP_PROXY_LEN];

    ngx_gp_cluster_state_t             cl;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_get_module_main_conf(a->r, ngx_http_gemini_pool_module);
    z = ngx_gp_zone();
    now = ngx_time();
    usable = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    total = z->sh->naccounts;

    for (i = 0; i < total; i++) {
        acc = &z->sh->accounts[i];
        usable += acc->enabled && !acc->cookie_expired
                  && acc->cooldown_until[NGX_GP_QUOTA_TEXT] <= now;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    ngx_gp_setting_str(z, NGX_GP_SET_PROXY, proxy, sizeof(proxy));

    (void) ngx_gp_mask_url((char *) proxy, masked, sizeof(masked));

    ngx_gp_cluster_state(&cl);

    return ngx_gp_admin_json(a->r, NGX_HTTP_OK,
                             json_pack("{s:s,s:b,s:{s:i,s:i},s:{s:b,s:s},"
                                       "s:{s:b,s:b,s:I,s:s}}",
                                       "version", NGX_GP_VERSION,
                                       "demo", (int) gmcf->demo,
                                       "accounts", "total", (int) total,
                                       "usable", (int) usable,
                                       "proxy", "enabled",
                                       (int) ngx_gp_setting_int(z,
                                                NGX_GP_SET_PROXY_ENABLED),
                                       "url", (char *) masked,
                                       "cluster",
                                       "configured", (int) cl.configured,
                                       "up", (int) (cl.configured && cl.up),
                                       "since", (json_int_t) cl.since,
                                       "last_error",
                                       (char *) cl.last_error));
}


/*
 * POST /api/proxy/test [{"proxy": URL}]: can the upstream be reached
 * through that proxy (or the configured global one)?  The answer comes
 * from a real getoxsrf-host request made with libcurl, asynchronously.
 */

static void
ngx_gp_admin_proxy_cleanup(void *data)
{
    ngx_gp_xfer_t  **xp = data;

    if (*xp) {
        ngx_gp_xfer_destroy(*xp);
        *xp = NULL;
    }

    ngx_gp_release_worker();
}


/*
 * Runs x for the request: x->data becomes {x, r, extra}; the request's
 * pool cleanup ends a transfer whose client went away, and done()
 * finalizes the request.
 */

static ngx_int_t
ngx_gp_admin_async(ngx_http_request_t *r, ngx_gp_xfer_t *x,
    ngx_gp_xfer_done_pt done, void *extra)
{
    ngx_gp_xfer_t       **xp;
    ngx_pool_cleanup_t   *cln;

    xp = ngx_palloc(r->pool, 3 * sizeof(void *));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (xp == NULL || cln == NULL) {
        ngx_gp_xfer_destroy(x);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    xp[0] = x;
    xp[1] = (ngx_gp_xfer_t *) r;
    xp[2] = extra;
    cln->handler = ngx_gp_admin_proxy_cleanup;
    cln->data = xp;

    /* a reload waits for the test (released by the cleanup) */
    ngx_gp_hold_worker();

    x->on_done = done;
    x->data = xp;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_DONE;
}


static void
ngx_gp_admin_proxy_done(ngx_gp_xfer_t *x)
{
    double               total;
    ngx_int_t            rc;
    ngx_gp_xfer_t      **xp;
    ngx_http_request_t  *r;
    u_char               reason[256], proxy[NGX_GP_PROXY_LEN];

    xp = x->data;
    r = (ngx_http_request_t *) xp[1];

    total = 0;
    (void) curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    (void) ngx_gp_mask_url((char *) x->proxy, proxy, sizeof(proxy));

    if (x->result == CURLE_OK) {
        rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                               json_pack("{s:b,s:s,s:i,s:i}", "ok", 1,
                                         "proxy", (char *) proxy,
                                         "status", (int) x->status,
                                         "elapsed_ms",
                                         (int) (total * 1000)));

    } else {
        rc = ngx_gp_admin_json(r, NGX_HTTP_OK,
                               json_pack("{s:b,s:s,s:s,s:i}", "ok", 0,
                                         "proxy", (char *) proxy,
                                         "error",
                                         ngx_gp_xfer_describe(x, reason,
                                                              sizeof(reason)),
                                         "elapsed_ms",
                                         (int) (total * 1000)));
    }

    ngx_gp_xfer_destroy(x);
    xp[0] = NULL;

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_gp_admin_proxy_test(ngx_gp_admin_t *a)
{
    u_char                            *p;
    ngx_int_t                          bad;
    const char                        *url;
    ngx_gp_xfer_t                     *x;
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             target[1024];

    r = a->r;
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    bad = 0;

    url = ngx_gp_admin_str(a, "proxy", &bad);

    if (bad || (url && url[0] && !ngx_gp_proxy_valid((u_char *) url))
        || (url && ngx_strlen(url) >= NGX_GP_PROXY_LEN))
    {
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                  "\"proxy\" must be an http://, https://, "
                                  "socks5:// or socks5h:// URL");
    }

    x = ngx_gp_xfer_create(r->connection->log, "proxy test");
    if (x == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (url && url[0]) {
        ngx_cpystrn(x->proxy, (u_char *) url, NGX_GP_PROXY_LEN);
        curl_easy_setopt(x->easy, CURLOPT_PROXY, (char *) x->proxy);
        x->proxied = 1;

    } else {
        ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_GOOGLE, NULL);
    }

    if (!x->proxied) {
        ngx_gp_xfer_destroy(x);
        return ngx_gp_admin_error(r, NGX_HTTP_BAD_REQUEST, "no_proxy",
                                  "no proxy given and none configured");
    }

    p = ngx_snprintf(target, sizeof(target) - 1, "%V/", &gmcf->auth_url);
    *p = '\0';

    curl_easy_setopt(x->easy, CURLOPT_URL, (char *) target);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 10000L);
    x->max = 64 * 1024;

    return ngx_gp_admin_async(r, x, ngx_gp_admin_proxy_done, NULL);
}


/* POST /api/accounts/<i>/test: a live getoxsrf with its cookies */

static void
ngx_gp_admin_test_ready(ngx_gp_upstream_t *u)
{
    ngx_http_request_t  *r = u->data;

    ngx_gp_admin_test_record(u->acct->id, 1, 200, NULL);

    ngx_http_finalize_request(r, ngx_gp_admin_json(r, NGX_HTTP_OK,
                                 json_pack("{s:b,s:i}", "ok", 1, "status",
                                           200)));
}


static void
ngx_gp_admin_test_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_http_request_t  *r = u->data;

    ngx_gp_admin_test_record(u->acct->id, 0, f->status, f->msg);

    ngx_http_finalize_request(r, ngx_gp_admin_json(r, NGX_HTTP_OK,
                                 json_pack("{s:b,s:i,s:s}", "ok", 0,
                                           "status", (int) f->status,
                                           "error", f->msg)));
}


static void
ngx_gp_admin_test_cleanup(void *data)
{
    ngx_gp_upstream_finalize(data);
    ngx_gp_release_worker();
}


ngx_int_t
ngx_gp_admin_account_test(ngx_gp_admin_t *a)
{
    int64_t                 id;
    ngx_uint_t              index, count, i;
    ngx_gp_zone_t          *z;
    ngx_gp_account_t       *acc;
    ngx_gp_upstream_t      *u;
    ngx_pool_cleanup_t     *cln;
    ngx_gp_account_copy_t  *copy;

    id = ngx_gp_admin_account_ref(a, &a->seg[1], &index, &count);

    if (id <= 0) {
        return ngx_gp_admin_not_found(a, "account");
    }

    u = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_upstream_t));
    copy = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_account_copy_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (u == NULL || copy == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id == id) {
            ngx_gp_account_copy(acc, i, copy);
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    /* the pool is left as it is: no JWT stored, no cooldown */
    u->mode = NGX_GP_UPSTREAM_PROBE;
    u->acct = copy;
    u->zone = z;
    u->log = a->r->connection->log;
    u->ready = ngx_gp_admin_test_ready;
    u->fail = ngx_gp_admin_test_failed;
    u->data = a->r;

    cln->handler = ngx_gp_admin_test_cleanup;
    cln->data = u;
    ngx_gp_hold_worker();

    a->r->read_event_handler = ngx_http_test_reading;

    ngx_gp_upstream_start(u);

    return NGX_DONE;
}


/*
 * A test's result kept on the account (the list and the events show it
 * with its time): a success is a recovery, the last error goes; a failure
 * becomes the last error.  The pool is left as it is otherwise.
 */

static void
ngx_gp_admin_test_record(int64_t id, ngx_uint_t ok, ngx_uint_t status,
    const char *error)
{
    ngx_uint_t         i;
    ngx_gp_zone_t     *z;
    ngx_gp_account_t  *acc;

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id != id) {
            continue;
        }

        acc->tested_at = ngx_time();
        acc->tested_ok = ok;
        acc->tested_status = status;

        if (ok) {
            acc->last_error[0] = '\0';

        } else {
            ngx_cpystrn(acc->last_error, (u_char *) (error ? error : ""),
                        sizeof(acc->last_error));
            acc->last_error_at = acc->tested_at;
        }

        acc->state_gen++;
        z->sh->accounts_gen++;
        break;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * POST /api/accounts/bulk {"action": "enable" | "disable" | "delete" |
 * "test", "ids": [id, ...]}: the action on each account, answered per id.
 * The writes go in one transaction and one load of the zone; the tests
 * run NGX_GP_BULK_TESTS at a time, their progress in the zone's
 * operation (the events send it), the answer when the last one ends.
 */

#define NGX_GP_BULK_MAX        10000
#define NGX_GP_BULK_TESTS      8

#define NGX_GP_BULK_ENABLE     0
#define NGX_GP_BULK_DISABLE    1
#define NGX_GP_BULK_DELETE     2
#define NGX_GP_BULK_TEST       3

static const char  *ngx_gp_admin_bulk_actions[] = {
    "enable", "disable", "delete", "test", NULL
};


typedef struct ngx_gp_bulk_s  ngx_gp_bulk_t;

typedef struct {
    ngx_gp_upstream_t        u;
    ngx_gp_account_copy_t    copy;
    ngx_gp_bulk_t           *bulk;
    ngx_uint_t               k;          /* its position in ids */
    unsigned                 running:1;  /* started, not finalized */
    unsigned                 ended:1;    /* answered, to be finalized */
} ngx_gp_bulk_slot_t;

struct ngx_gp_bulk_s {
    ngx_http_request_t      *r;
    int64_t                 *ids;
    ngx_uint_t               n;
    ngx_uint_t               next;       /* the next id to start */
    ngx_uint_t               done;
    ngx_uint_t               ok;
    ngx_uint_t               op;         /* the zone's operation id */

    /* per id: 1 ok, 0 failed, -1 not found; the status and error */
    int8_t                  *result;
    uint16_t                *status;
    char                   **error;

    ngx_event_t              step;
    ngx_gp_bulk_slot_t       slots[NGX_GP_BULK_TESTS];
};


/* the ids of the body (each once, in order), or an answer in *rc */

static ngx_int_t
ngx_gp_admin_bulk_body(ngx_gp_admin_t *a, ngx_int_t *action, int64_t **ids,
    ngx_uint_t *n, ngx_int_t *rc)
{
    size_t       i, k;
    json_t      *v, *list;
    ngx_str_t    s;
    const char  *name;

    v = a->body ? json_object_get(a->body, "action") : NULL;
    name = json_is_string(v) ? json_string_value(v) : NULL;

    if (name) {
        s.data = (u_char *) name;
        s.len = ngx_strlen(name);
        *action = ngx_gp_admin_word(&s, ngx_gp_admin_bulk_actions);
    }

    if (name == NULL || *action < 0) {
        *rc = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                 "\"action\" must be one of enable, "
                                 "disable, delete, test");
        return NGX_ERROR;
    }

    list = json_object_get(a->body, "ids");

    if (!json_is_array(list) || json_array_size(list) == 0
        || json_array_size(list) > NGX_GP_BULK_MAX)
    {
        *rc = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_value",
                                 "\"ids\" must be a list of 1 to %d "
                                 "account ids", NGX_GP_BULK_MAX);
        return NGX_ERROR;
    }

    *ids = ngx_palloc(a->r->pool, json_array_size(list) * sizeof(int64_t));
    if (*ids == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_ERROR;
    }

    *n = 0;

    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            *rc = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                     "invalid_value", "\"ids\"[%d] is not an "
                                     "account id (a number above 0)",
                                     (int) i);
            return NGX_ERROR;
        }

        for (k = 0; k < *n; k++) {
            if ((*ids)[k] == json_integer_value(v)) {
                break;
            }
        }

        if (k == *n) {
            (*ids)[(*n)++] = json_integer_value(v);
        }
    }

    return NGX_OK;
}


/* the zone position of the account with that id, or -1 */

static ngx_int_t
ngx_gp_admin_bulk_find_locked(ngx_gp_zone_t *z, int64_t id)
{
    ngx_uint_t  lo, hi, i;

    lo = 0;
    hi = z->sh->naccounts;

    while (lo < hi) {
        i = lo + (hi - lo) / 2;

        if (z->sh->accounts[i].id < id) {
            lo = i + 1;

        } else if (z->sh->accounts[i].id > id) {
            hi = i;

        } else {
            return (ngx_int_t) i;
        }
    }

    return -1;
}


static ngx_int_t
ngx_gp_admin_bulk_answer(ngx_http_request_t *r, const char *action,
    int64_t *ids, ngx_uint_t n, int8_t *result, uint16_t *status,
    char **error)
{
    json_t      *list, *j;
    ngx_uint_t   i, ok;

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ok = 0;

    for (i = 0; i < n; i++) {
        ok += (result[i] == 1);

        j = json_pack("{s:I,s:b}", "id", (json_int_t) ids[i],
                      "ok", result[i] == 1);

        if (j && status && result[i] >= 0) {
            json_object_set_new(j, "status", json_integer(status[i]));
        }

        if (j && result[i] != 1) {
            json_object_set_new(j, "error",
                                json_string(result[i] < 0 ? "not_found"
                                            : error && error[i] ? error[i]
                                            : "failed"));
        }

        if (j == NULL || json_array_append_new(list, j) != 0) {
            json_decref(list);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_gp_admin_json(r, NGX_HTTP_OK,
                             json_pack("{s:s,s:o,s:i,s:i}", "action", action,
                                       "results", list, "ok", (int) ok,
                                       "failed", (int) (n - ok)));
}


static void
ngx_gp_admin_bulk_progress(ngx_gp_bulk_t *b, ngx_uint_t finished)
{
    ngx_gp_zone_t       *z;
    ngx_gp_operation_t  *op;

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    op = &z->sh->operation;

    if (op->id == b->op) {
        op->done = b->done;
        op->ok = b->ok;
        op->failed = b->done - b->ok;
        op->finished = finished ? ngx_time() : 0;
        op->gen++;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


static void
ngx_gp_admin_bulk_ended(ngx_gp_bulk_slot_t *s, ngx_uint_t ok,
    ngx_uint_t status, const char *error)
{
    size_t          len;
    ngx_gp_bulk_t  *b;

    b = s->bulk;

    b->result[s->k] = (int8_t) ok;
    b->status[s->k] = (uint16_t) status;

    if (!ok && error) {
        len = ngx_strlen(error);
        b->error[s->k] = ngx_pnalloc(b->r->pool, len + 1);

        if (b->error[s->k]) {
            ngx_cpystrn((u_char *) b->error[s->k], (u_char *) error,
                        len + 1);
        }
    }

    ngx_gp_admin_test_record(b->ids[s->k], ok, status, error);

    b->done++;
    b->ok += ok;
    s->ended = 1;

    ngx_gp_admin_bulk_progress(b, 0);

    /* the upstream is finalized and the next test started out of its
       own call */
    if (!b->step.posted) {
        ngx_post_event(&b->step, &ngx_posted_events);
    }
}


static void
ngx_gp_admin_bulk_ready(ngx_gp_upstream_t *u)
{
    ngx_gp_admin_bulk_ended(u->data, 1, 200, NULL);
}


static void
ngx_gp_admin_bulk_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_admin_bulk_ended(u->data, 0, f->status, f->msg);
}


/* finalizes the ended tests, starts the next ones, answers at the end */

static void
ngx_gp_admin_bulk_step(ngx_event_t *ev)
{
    ngx_int_t            i;
    ngx_uint_t           k, running;
    ngx_gp_bulk_t       *b;
    ngx_gp_zone_t       *z;
    ngx_gp_bulk_slot_t  *s;

    b = ev->data;
    z = ngx_gp_zone();
    running = 0;

    for (k = 0; k < NGX_GP_BULK_TESTS; k++) {
        s = &b->slots[k];

        if (s->running && s->ended) {
            ngx_gp_upstream_finalize(&s->u);
            s->running = 0;
        }

        while (!s->running && b->next < b->n) {
            s->k = b->next++;
            s->ended = 0;

            ngx_memzero(&s->u, sizeof(ngx_gp_upstream_t));

            ngx_shmtx_lock(&z->shpool->mutex);

            i = ngx_gp_admin_bulk_find_locked(z, b->ids[s->k]);

            if (i >= 0) {
                ngx_gp_account_copy(&z->sh->accounts[i], i, &s->copy);
            }

            ngx_shmtx_unlock(&z->shpool->mutex);

            if (i < 0) {
                b->result[s->k] = -1;
                b->done++;
                continue;
            }

            s->u.mode = NGX_GP_UPSTREAM_PROBE;
            s->u.acct = &s->copy;
            s->u.zone = z;
            s->u.log = b->r->connection->log;
            s->u.ready = ngx_gp_admin_bulk_ready;
            s->u.fail = ngx_gp_admin_bulk_failed;
            s->u.data = s;
            s->running = 1;

            ngx_gp_upstream_start(&s->u);
        }

        running += s->running;
    }

    if (running || b->done < b->n) {
        return;
    }

    ngx_gp_admin_bulk_progress(b, 1);

    ngx_http_finalize_request(b->r,
        ngx_gp_admin_bulk_answer(b->r, "test", b->ids, b->n, b->result,
                                 b->status, b->error));
}


static void
ngx_gp_admin_bulk_cleanup(void *data)
{
    ngx_gp_bulk_t  *b = data;

    ngx_uint_t  k;

    if (b->step.posted) {
        ngx_delete_posted_event(&b->step);
    }

    for (k = 0; k < NGX_GP_BULK_TESTS; k++) {
        if (b->slots[k].running) {
            ngx_gp_upstream_finalize(&b->slots[k].u);
            b->slots[k].running = 0;
        }
    }

    if (b->done < b->n) {
        /* the client went away: the operation ends where it is */
        ngx_gp_admin_bulk_progress(b, 1);
    }

    ngx_gp_release_worker();
}


static ngx_int_t
ngx_gp_admin_bulk_test(ngx_gp_admin_t *a, int64_t *ids, ngx_uint_t n)
{
    ngx_uint_t           k;
    ngx_gp_zone_t       *z;
    ngx_gp_bulk_t       *b;
    ngx_pool_cleanup_t  *cln;
    ngx_gp_operation_t  *op;

    b = ngx_pcalloc(a->r->pool, sizeof(ngx_gp_bulk_t));
    cln = ngx_pool_cleanup_add(a->r->pool, 0);

    if (b == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->result = ngx_pcalloc(a->r->pool, n * sizeof(int8_t));
    b->status = ngx_pcalloc(a->r->pool, n * sizeof(uint16_t));
    b->error = ngx_pcalloc(a->r->pool, n * sizeof(char *));

    if (b->result == NULL || b->status == NULL || b->error == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->r = a->r;
    b->ids = ids;
    b->n = n;
    b->step.handler = ngx_gp_admin_bulk_step;
    b->step.data = b;
    b->step.log = a->r->connection->log;

    for (k = 0; k < NGX_GP_BULK_TESTS; k++) {
        b->slots[k].bulk = b;
    }

    z = ngx_gp_zone();

    ngx_shmtx_lock(&z->shpool->mutex);

    op = &z->sh->operation;
    op->id++;
    op->gen++;
    ngx_cpystrn(op->kind, (u_char *) "test", sizeof(op->kind));
    op->total = n;
    op->done = 0;
    op->ok = 0;
    op->failed = 0;
    op->started = ngx_time();
    op->finished = 0;
    b->op = op->id;

    ngx_shmtx_unlock(&z->shpool->mutex);

    cln->handler = ngx_gp_admin_bulk_cleanup;
    cln->data = b;

    /* a reload waits for the tests (released by the cleanup) */
    ngx_gp_hold_worker();

    a->r->read_event_handler = ngx_http_test_reading;

    ngx_post_event(&b->step, &ngx_posted_events);

    return NGX_DONE;
}


ngx_int_t
ngx_gp_admin_accounts_bulk(ngx_gp_admin_t *a)
{
    int8_t                  *result;
    int64_t                 *ids;
    ngx_int_t                action, rc, i;
    ngx_uint_t               n, k;
    ngx_log_t               *log;
    ngx_gp_zone_t           *z;
    ngx_gp_store_account_t   acc;

    if (ngx_gp_admin_bulk_body(a, &action, &ids, &n, &rc) != NGX_OK) {
        return rc;
    }

    if (action == NGX_GP_BULK_TEST) {
        return ngx_gp_admin_bulk_test(a, ids, n);
    }

    log = a->r->connection->log;
    z = ngx_gp_zone();

    result = ngx_pcalloc(a->r->pool, n * sizeof(int8_t));
    if (result == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (k = 0; k < n; k++) {
        i = ngx_gp_admin_bulk_find_locked(z, ids[k]);
        result[k] = (i < 0) ? -1 : 1;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (ngx_gp_store_begin(log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&acc, sizeof(ngx_gp_store_account_t));
    acc.enabled = (action == NGX_GP_BULK_ENABLE);

    for (k = 0; k < n; k++) {
        if (result[k] < 0) {
            continue;
        }

        rc = (action == NGX_GP_BULK_DELETE)
             ? ngx_gp_store_account_delete(ids[k], log)
             : ngx_gp_store_account_update(ids[k], &acc, log);

        if (rc != NGX_OK) {
            ngx_gp_store_rollback(log);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_gp_admin_accounts_commit(a, &rc) != NGX_OK) {
        return rc;
    }

    return ngx_gp_admin_bulk_answer(a->r, ngx_gp_admin_bulk_actions[action],
                                    ids, n, result, NULL, NULL);
}
