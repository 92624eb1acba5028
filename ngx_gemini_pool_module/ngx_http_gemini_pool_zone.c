
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The shared zone: the pool's hot state for all processes.  Every
 * mutation is complete under shpool->mutex; callers get copies, never
 * pointers into the zone.
 */


#include "ngx_http_gemini_pool_module.h"


static void ngx_gp_zone_hold(ngx_gp_zone_t *z, ngx_uint_t i);
static ngx_uint_t ngx_gp_zone_alias_locked(ngx_gp_shctx_t *sh,
    ngx_str_t *name);
static ngx_gp_holder_t *ngx_gp_zone_holder(ngx_gp_zone_t *z);
static uint64_t ngx_gp_zone_give_back(ngx_gp_zone_t *z, ngx_gp_holder_t *h);
static void ngx_gp_zone_event_text(ngx_gp_zone_t *z, ngx_gp_event_t *e);
static void ngx_gp_zone_event_text_free(ngx_gp_zone_t *z, ngx_gp_event_t *e);
static void ngx_gp_binding_free(ngx_gp_zone_t *z, ngx_gp_binding_t *b);


/*
 * The zone of the running cycle.  Looked up through ngx_cycle rather than
 * kept in a global: after a failed reload the master still runs the old
 * cycle, and a helper it respawns must not inherit the failed one's zone.
 */

ngx_gp_zone_t *
ngx_gp_zone(void)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    if (gmcf == NULL || gmcf->shm_zone == NULL) {
        return NULL;
    }

    return gmcf->shm_zone->data;
}


static void
ngx_gp_binding_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;
    ngx_gp_binding_t    *b, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            b = (ngx_gp_binding_t *) node;
            t = (ngx_gp_binding_t *) temp;

            p = (ngx_memcmp(b->key, t->key, NGX_GP_KEY_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_int_t
ngx_gp_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_gp_zone_t  *octx = data;

    size_t            len;
    ngx_gp_zone_t    *ctx;
    ngx_slab_pool_t  *shpool;

    ctx = shm_zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        if (ctx->sh->layout != NGX_GP_ZONE_LAYOUT) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "gemini_pool_zone \"%V\" was laid out by another "
                          "build of the module: restart nginx instead of "
                          "reloading it (or change the zone's name or size)",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

    } else {
        shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            ctx->shpool = shpool;
            ctx->sh = shpool->data;
            return NGX_OK;
        }

        ctx->shpool = shpool;

        ctx->sh = ngx_slab_calloc(shpool, sizeof(ngx_gp_shctx_t));
        if (ctx->sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = ctx->sh;
        ctx->sh->layout = NGX_GP_ZONE_LAYOUT;

        ngx_rbtree_init(&ctx->sh->bindings, &ctx->sh->sentinel,
                        ngx_gp_binding_insert);
        ngx_queue_init(&ctx->sh->lru);

        ctx->sh->events = ngx_slab_calloc(shpool, NGX_GP_EVENTS
                                                  * sizeof(ngx_gp_event_t));
        if (ctx->sh->events == NULL) {
            return NGX_ERROR;
        }

        ctx->sh->files = ngx_gp_filemap_create(shpool);
        if (ctx->sh->files == NULL) {
            return NGX_ERROR;
        }

        len = sizeof(" in gemini_pool_zone \"\"") + shm_zone->shm.name.len;

        shpool->log_ctx = ngx_slab_alloc(shpool, len);
        if (shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(shpool->log_ctx, " in gemini_pool_zone \"%V\"%Z",
                    &shm_zone->shm.name);

        /*
         * a full zone is a state the module handles where it allocates
         * (bindings evict, history text is dropped and counted, accounts
         * are refused before they are stored): nginx's "[crit]
         * ngx_slab_alloc() failed" on every attempt would fill the log
         */

        shpool->log_nomem = 0;
    }

    return NGX_OK;
}


/*
 * An allocation of durable state (accounts, a pending upload): when the
 * zone is full, the least recently used conversation bindings (a cache)
 * make room.  NULL when even that is not enough; nginx does not log it
 * (log_nomem is off), the caller says what failed and what to raise.
 */

void *
ngx_gp_zone_alloc_locked(ngx_gp_zone_t *z, size_t size)
{
    void         *p;
    ngx_queue_t  *q;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(z->shpool, size);

        if (p || ngx_queue_empty(&z->sh->lru)) {
            return p;
        }

        q = ngx_queue_last(&z->sh->lru);
        ngx_gp_binding_free(z, ngx_queue_data(q, ngx_gp_binding_t, queue));
        z->sh->evictions++;
    }
}


/* what an allocation of size bytes takes of the slab */

size_t
ngx_gp_zone_slab_size(size_t size)
{
    size_t  s;

    if (size > ngx_pagesize / 2) {
        return ngx_align(size, ngx_pagesize);
    }

    for (s = 8; s < size; s <<= 1) { /* void */ }

    return s;
}


/* the slots of the accounts' array for n accounts: room to grow */

ngx_uint_t
ngx_gp_zone_capacity(ngx_uint_t n)
{
    return n + n / 4 + 16;
}


/*
 * The smallest zone that starts: nginx's slab pool and its page
 * descriptors, the state, the event ring, the ring of uploads, the
 * accounts' array for 16 and a few pages of small allocations (the
 * accounts' strings, the first bindings).  Each account and binding more
 * needs its share (docs/directives.md).
 */

size_t
ngx_gp_zone_minimum(void)
{
    size_t  pages, page;

    page = ngx_pagesize;

    pages = ngx_gp_zone_slab_size(sizeof(ngx_gp_shctx_t)) / page
            + ngx_gp_zone_slab_size(NGX_GP_EVENTS * sizeof(ngx_gp_event_t))
              / page
            + ngx_gp_zone_slab_size(NGX_GP_FILEMAP_SLOTS
                                    * sizeof(ngx_gp_filemap_slot_t)) / page
            + ngx_gp_zone_slab_size(ngx_gp_zone_capacity(0)
                                    * sizeof(ngx_gp_account_t)) / page
            + 8;

    return sizeof(ngx_slab_pool_t) + 2 * page
           + (ngx_pagesize_shift + 1)
             * (sizeof(ngx_slab_page_t) + sizeof(ngx_slab_stat_t))
           + pages * (page + sizeof(ngx_slab_page_t));
}


static ngx_gp_account_t *
ngx_gp_zone_find(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a)
{
    ngx_gp_account_t  *acc;

    if (a->index >= z->sh->naccounts) {
        return NULL;
    }

    acc = &z->sh->accounts[a->index];

    return (acc->id == a->id) ? acc : NULL;
}


static ngx_uint_t
ngx_gp_account_usable(ngx_gp_account_t *acc, ngx_uint_t quota, time_t now)
{
    if (acc->id == 0 || !acc->enabled || acc->cookie_expired) {
        return 0;
    }

    if (acc->cooldown_until[NGX_GP_QUOTA_TEXT] > now) {
        return 0;
    }

    return acc->cooldown_until[quota] <= now;
}


void
ngx_gp_account_copy(ngx_gp_account_t *acc, ngx_uint_t i,
    ngx_gp_account_copy_t *a)
{
    /* the strings only, not their whole fields (5.5 KB), under the lock */

    a->id = acc->id;
    a->index = i;
    ngx_cpystrn(a->name, acc->name, NGX_GP_NAME_LEN);
    ngx_cpystrn(a->team_id, acc->team_id, NGX_GP_TEAM_LEN);
    ngx_cpystrn(a->csesidx, acc->csesidx, NGX_GP_CSESIDX_LEN);
    ngx_cpystrn(a->secure_c_ses, acc->secure_c_ses, NGX_GP_COOKIE_LEN);
    ngx_cpystrn(a->host_c_oses, acc->host_c_oses, NGX_GP_COOKIE_LEN);
    ngx_cpystrn(a->user_agent, acc->user_agent, NGX_GP_UA_LEN);
    ngx_cpystrn(a->proxy, acc->proxy, NGX_GP_PROXY_LEN);
    a->jwt[0] = '\0';
}


/*
 * Chooses a usable account: round robin with one cursor in the zone shared
 * by all workers, or the usable account with the fewest requests in
 * flight (ties in round-robin order).  only >= 0 restricts the choice to
 * the account with that id (a model pinned to an account).
 *
 * Returns NGX_OK with a copy, NGX_AGAIN when every candidate is cooling
 * down (*retry_at: the earliest return), NGX_DECLINED when no candidate
 * is enabled at all.
 */

ngx_int_t
ngx_gp_zone_pick(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, ngx_int_t only, time_t *retry_at, ngx_gp_spare_t *spare)
{
    time_t              now, back, max_age;
    ngx_int_t           strategy;
    ngx_uint_t          i, n, k, enabled, best, found;
    ngx_gp_shctx_t     *sh;
    ngx_gp_account_t   *acc;

    strategy = ngx_gp_setting_int(z, NGX_GP_SET_SELECTION_STRATEGY);
    max_age = spare ? ngx_gp_zone_spare_max_age(z) : 0;
    now = ngx_time();
    sh = z->sh;
    *retry_at = 0;
    enabled = 0;
    found = 0;
    best = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    n = sh->naccounts;

    for (k = 0; k < n; k++) {
        i = (sh->rr_cursor + k) % n;
        acc = &sh->accounts[i];

        if (only >= 0 && acc->id != only) {
            continue;
        }

        if (ngx_gp_account_usable(acc, quota, now)) {

            if (!found
                || (strategy == NGX_GP_PICK_LEAST_IN_FLIGHT
                    && acc->in_flight < sh->accounts[best].in_flight))
            {
                best = i;
                found = 1;
            }

            if (strategy == NGX_GP_PICK_ROUND_ROBIN) {
                break;
            }

            continue;
        }

        if (acc->id == 0 || !acc->enabled || acc->cookie_expired) {
            continue;
        }

        enabled++;

        back = ngx_max(acc->cooldown_until[NGX_GP_QUOTA_TEXT],
                       acc->cooldown_until[quota]);

        if (*retry_at == 0 || back < *retry_at) {
            *retry_at = back;
        }
    }

    if (found) {
        acc = &sh->accounts[best];
        sh->rr_cursor = (best + 1) % n;
        acc->in_flight++;
        ngx_gp_zone_hold(z, best);
        acc->requests++;
        acc->last_used = now;
        ngx_gp_account_copy(acc, best, a);

        if (spare) {
            ngx_gp_zone_spare_take_locked(z, acc, spare, now, max_age);
        }

        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_OK;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return enabled ? NGX_AGAIN : NGX_DECLINED;
}


/*
 * Spare sessions (the setting spare_sessions): upstream sessions the
 * helper creates ahead of need (spares.c), kept in the account, oldest
 * first, each used once by a request that needs a new session.  A spare
 * lives half of session_max_age (docs/configuration.md, "Spare
 * sessions"): Google does not say how long it keeps a session; the
 * gateway uses one for a conversation for session_max_age, so a
 * conversation that starts on a spare keeps at least half of it.
 */

time_t
ngx_gp_zone_spare_max_age(ngx_gp_zone_t *z)
{
    time_t  max_age;

    max_age = ngx_gp_setting_int(z, NGX_GP_SET_SESSION_MAX_AGE);

    return max_age ? ngx_max(max_age / 2, 1) : NGX_GP_SPARE_MAX_AGE;
}


/*
 * The account's oldest spare younger than max_age into *spare (created
 * 0: none), the older ones dropped; under the lock.
 */

void
ngx_gp_zone_spare_take_locked(ngx_gp_zone_t *z, ngx_gp_account_t *acc,
    ngx_gp_spare_t *spare, time_t now, time_t max_age)
{
    ngx_uint_t  k;

    spare->created = 0;

    if (acc->nspares == 0) {
        return;
    }

    k = ngx_gp_zone_spares_expire_locked(z, acc, now, max_age,
                                         NGX_GP_SPARES_MAX);

    if (k == 0) {
        /* all too old: the helper makes new ones */
        ngx_gp_zone_spares_want_locked(z, acc);
        return;
    }

    *spare = acc->spares[0];
    acc->nspares--;

    ngx_memmove(&acc->spares[0], &acc->spares[1],
                acc->nspares * sizeof(ngx_gp_spare_t));
    acc->spares[acc->nspares].created = 0;

    z->sh->metrics.spares_used++;
    ngx_gp_zone_spares_want_locked(z, acc);
}


/* the helper is to look at the account soon: one of its spares went */

void
ngx_gp_zone_spares_want_locked(ngx_gp_zone_t *z, ngx_gp_account_t *acc)
{
    ngx_atomic_uint_t  gen;

    gen = z->sh->spares_gen;
    z->sh->spares_used[gen % NGX_GP_SPARES_RING] =
                                        (uint32_t) (acc - z->sh->accounts);
    z->sh->spares_gen = gen + 1;
}


/*
 * Drops the account's spares of max_age or older and those beyond keep;
 * under the lock.  Returns how many are left.
 */

ngx_uint_t
ngx_gp_zone_spares_expire_locked(ngx_gp_zone_t *z, ngx_gp_account_t *acc,
    time_t now, time_t max_age, ngx_uint_t keep)
{
    ngx_uint_t  i, old, n;

    for (old = 0; old < acc->nspares; old++) {
        if (now - acc->spares[old].created < max_age) {
            break;
        }
    }

    n = acc->nspares - old;

    if (n > keep) {
        /* the setting was lowered: the newest go */
        n = keep;
    }

    if (n == acc->nspares) {
        return n;
    }

    z->sh->metrics.spares_dropped += acc->nspares - n;

    ngx_memmove(&acc->spares[0], &acc->spares[old],
                n * sizeof(ngx_gp_spare_t));

    for (i = n; i < acc->nspares; i++) {
        acc->spares[i].created = 0;
    }

    acc->nspares = n;

    return n;
}


/*
 * A spare the helper created for account a: kept unless the account
 * went, its credentials changed or expired meanwhile, or it has enough
 * (NGX_DECLINED); NGX_ABORT: a name too long to keep.
 */

ngx_int_t
ngx_gp_zone_spare_put(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    const char *session, time_t created, ngx_uint_t want)
{
    size_t             len;
    ngx_int_t          rc;
    ngx_gp_account_t  *acc;

    len = ngx_strlen(session);

    if (len >= NGX_GP_SPARE_LEN) {
        return NGX_ABORT;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc && !acc->cookie_expired && acc->nspares < want
        && acc->nspares < NGX_GP_SPARES_MAX
        && ngx_strcmp(acc->secure_c_ses, a->secure_c_ses) == 0
        && ngx_strcmp(acc->csesidx, a->csesidx) == 0)
    {
        acc->spares[acc->nspares].created = created;
        ngx_memcpy(acc->spares[acc->nspares].session, session, len + 1);
        acc->nspares++;
        z->sh->metrics.spares_created++;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/*
 * drop: the account's spares are forgotten (an authentication answer, a
 * session that is not the account's or no longer exists); retry > 0: the
 * helper makes none before then (a creation failed).
 */

void
ngx_gp_zone_spares_drop(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t drop, time_t retry)
{
    ngx_uint_t         i;
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (drop && acc->nspares) {
            z->sh->metrics.spares_dropped += acc->nspares;

            for (i = 0; i < acc->nspares; i++) {
                acc->spares[i].created = 0;
            }

            acc->nspares = 0;
            ngx_gp_zone_spares_want_locked(z, acc);
        }

        if (retry > acc->spare_retry) {
            acc->spare_retry = retry;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * takes the account with that id when it is usable (a bound session); the
 * slots are in id order (the store loads them so), so finding it is a
 * binary search, the same for ten accounts as for ten thousand
 */

ngx_int_t
ngx_gp_zone_take(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a, int64_t id,
    ngx_uint_t quota)
{
    ngx_uint_t          i, lo, hi;
    ngx_gp_shctx_t     *sh;
    ngx_gp_account_t   *acc;

    sh = z->sh;

    ngx_shmtx_lock(&z->shpool->mutex);

    lo = 0;
    hi = sh->naccounts;

    while (lo < hi) {
        i = lo + (hi - lo) / 2;
        acc = &sh->accounts[i];

        if (acc->id < id) {
            lo = i + 1;
            continue;
        }

        if (acc->id > id) {
            hi = i;
            continue;
        }

        if (!ngx_gp_account_usable(acc, quota, ngx_time())) {
            break;
        }

        acc->in_flight++;
        ngx_gp_zone_hold(z, i);
        acc->requests++;
        acc->last_used = ngx_time();
        ngx_gp_account_copy(acc, i, a);
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_OK;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_DECLINED;
}


void
ngx_gp_zone_release(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t ok, const char *error)
{
    ngx_uint_t         i;
    ngx_gp_holder_t   *h;
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc == NULL && a->id) {

        /* the accounts were laid out again (a reload) while it ran */

        for (i = 0; i < z->sh->naccounts; i++) {
            if (z->sh->accounts[i].id == a->id) {
                acc = &z->sh->accounts[i];
                break;
            }
        }
    }

    if (acc) {
        if (acc->in_flight) {
            acc->in_flight--;
        }

        i = acc - z->sh->accounts;
        h = ngx_gp_zone_holder(z);

        if (h && i < h->nheld && h->held[i]) {
            h->held[i]--;
        }

        if (!ok) {
            acc->failures++;
        }

        if (error) {
            ngx_cpystrn(acc->last_error, (u_char *) error,
                        sizeof(acc->last_error));
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * Who owns a request in flight.  An account's in_flight is the sum of the
 * holders' counts: one holder per nginx process slot (ngx_process_slot),
 * with the process's pid and its count per account index.  Taking an
 * account raises both under the lock already held; a process that dies
 * (kill -9, a crash, an old worker that exits with requests) cannot lower
 * them, so its holder's counts are given back when the process is known
 * to be gone: nginx gives a slot to a new process only after it reaped
 * the old one (ngx_gp_zone_holder_start(), and the first take of a
 * process), and the helper checks each tick that every holder's pid is
 * alive (ngx_gp_zone_holders_check()).
 */

static void
ngx_gp_zone_hold(ngx_gp_zone_t *z, ngx_uint_t i)
{
    ngx_gp_holder_t  *h;

    h = ngx_gp_zone_holder(z);

    if (h && i < h->nheld) {
        h->held[i]++;
    }
}


/* this process's holder, claimed (and sized) on first use; NULL: none */

static ngx_gp_holder_t *
ngx_gp_zone_holder(ngx_gp_zone_t *z)
{
    uint32_t          *held;
    uint64_t           n;
    ngx_gp_holder_t   *h;

    if ((ngx_uint_t) ngx_process_slot >= NGX_GP_HOLDERS) {
        return NULL;
    }

    h = &z->sh->holders[ngx_process_slot];

    if (h->pid == ngx_pid && h->nheld >= z->sh->naccounts) {
        return h;
    }

    if (h->pid != ngx_pid) {
        n = ngx_gp_zone_give_back(z, h);

        if (n) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "gemini pool: %uL request(s) in flight of a "
                          "process that is gone given back", n);
        }

        h->pid = ngx_pid;
    }

    if (h->nheld < z->sh->capacity) {
        held = ngx_slab_calloc_locked(z->shpool,
                                      z->sh->capacity * sizeof(uint32_t));

        if (held == NULL) {
            /* counted without an owner, as before; tried again next time */
            return h;
        }

        if (h->held) {
            ngx_memcpy(held, h->held, h->nheld * sizeof(uint32_t));
            ngx_slab_free_locked(z->shpool, h->held);
        }

        h->held = held;
        h->nheld = z->sh->capacity;
    }

    return h;
}


/* a holder whose process is gone: its counts leave the accounts */

static uint64_t
ngx_gp_zone_give_back(ngx_gp_zone_t *z, ngx_gp_holder_t *h)
{
    uint64_t           total;
    ngx_uint_t         i, n;
    ngx_gp_account_t  *acc;

    total = 0;

    if (h->held) {
        n = ngx_min(h->nheld, z->sh->naccounts);

        for (i = 0; i < n; i++) {
            if (h->held[i] == 0) {
                continue;
            }

            acc = &z->sh->accounts[i];
            acc->in_flight -= ngx_min(acc->in_flight, h->held[i]);
            total += h->held[i];
        }

        ngx_slab_free_locked(z->shpool, h->held);
    }

    h->pid = 0;
    h->held = NULL;
    h->nheld = 0;
    z->sh->given_back += total;

    return total;
}


/* a process starts: the slot's last owner is gone (nginx reaped it) */

void
ngx_gp_zone_holder_start(ngx_gp_zone_t *z)
{
    ngx_shmtx_lock(&z->shpool->mutex);
    (void) ngx_gp_zone_holder(z);
    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* the helper's tick: holders of processes that are gone give back */

void
ngx_gp_zone_holders_check(ngx_gp_zone_t *z)
{
    uint64_t          n;
    ngx_pid_t         pid;
    ngx_uint_t        i;
    ngx_gp_holder_t  *h;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < NGX_GP_HOLDERS; i++) {
        h = &z->sh->holders[i];
        pid = h->pid;

        if (pid == 0 || pid == ngx_pid) {
            continue;
        }

        /* a pid that is reused keeps the counts until its slot is */

        if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
            n = ngx_gp_zone_give_back(z, h);

            if (n) {
                ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                              "gemini pool: %uL request(s) in flight of "
                              "process %P, which is gone, given back",
                              n, pid);
            }
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * The store laid the accounts out again (a reload): each holder's counts
 * follow their account, from[i] being the old index of the new i (-1:
 * new).  Under the zone's lock, after sh->accounts and naccounts are set.
 */

void
ngx_gp_zone_holders_move_locked(ngx_gp_zone_t *z, ngx_int_t *from,
    ngx_uint_t n)
{
    uint32_t          *held;
    ngx_uint_t         i, k;
    ngx_gp_holder_t   *h;

    for (k = 0; k < NGX_GP_HOLDERS; k++) {
        h = &z->sh->holders[k];

        if (h->held == NULL) {
            continue;
        }

        held = ngx_slab_calloc_locked(z->shpool,
                                      z->sh->capacity * sizeof(uint32_t));

        if (held == NULL) {
            /* the counts stay in in_flight, without an owner */
            ngx_memzero(h->held, h->nheld * sizeof(uint32_t));
            continue;
        }

        for (i = 0; i < n && i < z->sh->capacity; i++) {
            if (from[i] >= 0 && (ngx_uint_t) from[i] < h->nheld) {
                held[i] = h->held[from[i]];
            }
        }

        ngx_slab_free_locked(z->shpool, h->held);
        h->held = held;
        h->nheld = z->sh->capacity;
    }
}


/*
 * One getoxsrf in flight per account across all processes: the first
 * process that finds the token stale fetches it, the others keep using
 * the still valid token or wait for the new one.
 */

ngx_int_t
ngx_gp_zone_jwt(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a)
{
    time_t             now, age;
    ngx_int_t          rc;
    ngx_gp_account_t  *acc;

    now = ngx_time();

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_ERROR;
    }

    age = now - acc->jwt_iat;

    if (acc->jwt[0] && age >= 0 && age < z->gmcf->jwt_refresh) {
        ngx_cpystrn(a->jwt, acc->jwt, NGX_GP_JWT_LEN);
        rc = NGX_GP_JWT_FRESH;

    } else if (acc->jwt_refresh_pid
               && now - acc->jwt_refresh_started < NGX_GP_JWT_REFRESH_LOCK)
    {
        if (acc->jwt[0] && age >= 0 && age < NGX_GP_JWT_LIFETIME - 10) {
            ngx_cpystrn(a->jwt, acc->jwt, NGX_GP_JWT_LEN);
            rc = NGX_GP_JWT_FRESH;

        } else {
            rc = NGX_GP_JWT_WAIT;
        }

    } else {
        acc->jwt_refresh_pid = ngx_pid;
        acc->jwt_refresh_started = now;
        acc->xsrf_calls++;
        rc = NGX_GP_JWT_FETCH;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


void
ngx_gp_zone_jwt_store(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    const char *jwt, time_t iat)
{
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (jwt && ngx_strlen(jwt) < NGX_GP_JWT_LEN) {
            ngx_cpystrn(acc->jwt, (u_char *) jwt, NGX_GP_JWT_LEN);
            acc->jwt_iat = iat;
        }

        if (acc->jwt_refresh_pid == ngx_pid) {
            acc->jwt_refresh_pid = 0;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


void
ngx_gp_zone_cooldown(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t quota, time_t until, ngx_uint_t expired, const char *error)
{
    ngx_gp_account_t  *acc;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    if (acc) {
        if (until > acc->cooldown_until[quota]) {
            acc->cooldown_until[quota] = until;
        }

        if (expired) {
            if (!acc->cookie_expired) {
                /* the helper queues its re-login and checks the others */
                acc->relogin.expired_since = ngx_time();
                z->sh->relogin.expired_gen++;
            }

            acc->cookie_expired = 1;
            acc->jwt[0] = '\0';
        }

        acc->state_gen++;

        if (error) {
            ngx_cpystrn(acc->last_error, (u_char *) error,
                        sizeof(acc->last_error));
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * A cooldown or the expired flag another gateway set (cluster mode): the
 * account by name (rowids differ between gateways); NGX_OK when it
 * changed something, NGX_DECLINED when it was already so or no account
 * has that name.
 */

ngx_int_t
ngx_gp_zone_cooldown_remote(ngx_gp_zone_t *z, const u_char *name,
    size_t len, ngx_uint_t quota, time_t until, ngx_uint_t expired)
{
    ngx_int_t          rc;
    ngx_uint_t         i;
    ngx_gp_account_t  *acc;

    if (quota >= NGX_GP_QUOTA_N || len == 0 || len >= NGX_GP_NAME_LEN) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id == 0 || ngx_strncmp(acc->name, name, len) != 0
            || acc->name[len] != '\0')
        {
            continue;
        }

        if (until > acc->cooldown_until[quota]) {
            acc->cooldown_until[quota] = until;
            rc = NGX_OK;
        }

        if (expired && !acc->cookie_expired) {
            acc->relogin.expired_since = ngx_time();
            z->sh->relogin.expired_gen++;
            acc->cookie_expired = 1;
            acc->jwt[0] = '\0';
            rc = NGX_OK;
        }

        if (rc == NGX_OK) {
            acc->state_gen++;
        }

        break;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/* the id of the account with that name (cluster mode); 0: none */

int64_t
ngx_gp_zone_account_id(ngx_gp_zone_t *z, const u_char *name, size_t len)
{
    int64_t            id;
    ngx_uint_t         i;
    ngx_gp_account_t  *acc;

    id = 0;

    if (len == 0 || len >= NGX_GP_NAME_LEN) {
        return 0;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->naccounts; i++) {
        acc = &z->sh->accounts[i];

        if (acc->id && ngx_strncmp(acc->name, name, len) == 0
            && acc->name[len] == '\0')
        {
            id = acc->id;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return id;
}


ngx_int_t
ngx_gp_zone_model(ngx_gp_zone_t *z, ngx_str_t *name, ngx_gp_model_t *m)
{
    ngx_uint_t         i;
    ngx_int_t          rc;
    ngx_gp_shctx_t    *sh;

    rc = NGX_DECLINED;
    sh = z->sh;

    if (name->len >= NGX_GP_MODEL_LEN) {
        return rc;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < sh->nmodels; i++) {
        if (ngx_strlen(sh->models[i].name) == name->len
            && ngx_strncmp(sh->models[i].name, name->data, name->len) == 0)
        {
            *m = sh->models[i];
            rc = NGX_OK;
            break;
        }
    }

    if (rc != NGX_OK) {
        i = ngx_gp_zone_alias_locked(sh, name);

        if (i < sh->nmodels) {
            *m = sh->models[i];
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/*
 * The model an alias names: an alias equal to the name first, else the
 * longest prefix alias ("claude-*"); among equals the first model.
 * sh->nmodels: none.
 */

static ngx_uint_t
ngx_gp_zone_alias_locked(ngx_gp_shctx_t *sh, ngx_str_t *name)
{
    size_t       n, score, best_score;
    u_char      *p, *q;
    ngx_uint_t   i, best;

    best = sh->nmodels;
    best_score = 0;

    for (i = 0; i < sh->nmodels; i++) {

        for (p = sh->aliases[i]; *p; p = *q ? q + 1 : q) {
            q = (u_char *) ngx_strchr(p, ',');
            if (q == NULL) {
                q = p + ngx_strlen(p);
            }

            n = q - p;

            if (n && p[n - 1] == '*') {
                /* a prefix: the longer, the better */
                score = (n - 1 <= name->len
                         && ngx_strncmp(p, name->data, n - 1) == 0)
                        ? n : 0;

            } else {
                score = (n == name->len
                         && ngx_strncmp(p, name->data, n) == 0)
                        ? NGX_GP_MODEL_LEN + 1 : 0;
            }

            if (score > best_score) {
                best_score = score;
                best = i;
            }
        }
    }

    return best;
}


static ngx_gp_binding_t *
ngx_gp_binding_lookup(ngx_gp_shctx_t *sh, u_char *key)
{
    ngx_rbtree_key_t    hash;
    ngx_rbtree_node_t  *node, *sentinel;
    ngx_gp_binding_t   *b;
    ngx_int_t           rc;

    ngx_memcpy(&hash, key, sizeof(ngx_rbtree_key_t));

    node = sh->bindings.root;
    sentinel = sh->bindings.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        b = (ngx_gp_binding_t *) node;
        rc = ngx_memcmp(key, b->key, NGX_GP_KEY_LEN);

        if (rc == 0) {
            return b;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_gp_binding_free(ngx_gp_zone_t *z, ngx_gp_binding_t *b)
{
    ngx_queue_remove(&b->queue);
    ngx_rbtree_delete(&z->sh->bindings, &b->node);
    ngx_slab_free_locked(z->shpool, b);
    z->sh->nbindings--;
}


ngx_int_t
ngx_gp_zone_binding_get(ngx_gp_zone_t *z, u_char *key, int64_t *account_id,
    time_t *created, u_char *session)
{
    ngx_gp_binding_t  *b;

    ngx_shmtx_lock(&z->shpool->mutex);

    b = ngx_gp_binding_lookup(z->sh, key);

    if (b == NULL) {
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NGX_DECLINED;
    }

    b->used = ngx_time();
    ngx_queue_remove(&b->queue);
    ngx_queue_insert_head(&z->sh->lru, &b->queue);

    *account_id = b->account_id;
    *created = b->created;
    ngx_memcpy(session, b->session, NGX_GP_SESSION_LEN);

    ngx_shmtx_unlock(&z->shpool->mutex);

    return NGX_OK;
}


/*
 * Binds key to (account, session).  When the zone is full the least
 * recently used bindings make room: a full zone evicts, it never fails a
 * request.
 */

void
ngx_gp_zone_binding_set(ngx_gp_zone_t *z, u_char *key, int64_t account_id,
    time_t created, const char *session)
{
    ngx_uint_t         i;
    ngx_queue_t       *q;
    ngx_gp_binding_t  *b;

    if (ngx_strlen(session) >= NGX_GP_SESSION_LEN) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    b = ngx_gp_binding_lookup(z->sh, key);

    if (b == NULL) {

        for (i = 0; i < 64; i++) {
            b = ngx_slab_alloc_locked(z->shpool, sizeof(ngx_gp_binding_t));

            if (b || ngx_queue_empty(&z->sh->lru)) {
                break;
            }

            q = ngx_queue_last(&z->sh->lru);
            ngx_gp_binding_free(z, ngx_queue_data(q, ngx_gp_binding_t,
                                                  queue));
            z->sh->evictions++;
        }

        if (b == NULL) {
            ngx_shmtx_unlock(&z->shpool->mutex);
            return;
        }

        ngx_memcpy(b->key, key, NGX_GP_KEY_LEN);
        ngx_memcpy(&b->node.key, key, sizeof(ngx_rbtree_key_t));
        ngx_rbtree_insert(&z->sh->bindings, &b->node);
        z->sh->nbindings++;

    } else {
        ngx_queue_remove(&b->queue);
    }

    ngx_queue_insert_head(&z->sh->lru, &b->queue);

    b->account_id = account_id;
    b->created = created;
    b->used = ngx_time();
    ngx_cpystrn(b->session, (u_char *) session, NGX_GP_SESSION_LEN);

    ngx_shmtx_unlock(&z->shpool->mutex);
}


void
ngx_gp_zone_binding_delete(ngx_gp_zone_t *z, u_char *key)
{
    ngx_gp_binding_t  *b;

    ngx_shmtx_lock(&z->shpool->mutex);

    b = ngx_gp_binding_lookup(z->sh, key);

    if (b) {
        ngx_gp_binding_free(z, b);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


static ngx_uint_t
ngx_gp_key_allows(ngx_gp_key_t *k, ngx_str_t *model)
{
    u_char  *p, *q, *last;

    if (k->models[0] == '\0' || model == NULL) {
        return 1;
    }

    p = k->models;
    last = p + ngx_strlen(p);

    while (p < last) {
        q = ngx_strlchr(p, last, ',');
        if (q == NULL) {
            q = last;
        }

        if ((size_t) (q - p) == model->len
            && ngx_strncmp(p, model->data, model->len) == 0)
        {
            return 1;
        }

        p = q + 1;
    }

    return 0;
}


/*
 * Finds the API key by its hash and counts the request against its
 * per-minute and per-day limits, in the zone: the limits hold across all
 * workers.  *retry: seconds until the window that refused it ends.
 */

ngx_int_t
ngx_gp_zone_key_check(ngx_gp_zone_t *z, const u_char *hash,
    ngx_str_t *model, ngx_gp_key_t *out, time_t *retry)
{
    time_t          now, minute, day;
    ngx_int_t       rc;
    ngx_uint_t      i;
    ngx_gp_key_t   *k;

    now = ngx_time();
    minute = now - now % 60;
    day = now - now % 86400;
    *retry = 0;
    rc = NGX_GP_KEY_INVALID;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < z->sh->nkeys; i++) {
        k = &z->sh->keys[i];

        if (!ngx_gp_ct_equal(k->hash, 32, hash, 32)) {
            continue;
        }

        if (!k->enabled || (k->expires && k->expires <= now)) {
            break;
        }

        if (!ngx_gp_key_allows(k, model)) {
            *out = *k;
            rc = NGX_GP_KEY_MODEL;
            break;
        }

        if (k->minute != minute) {
            k->minute = minute;
            k->minute_count = 0;
        }

        if (k->day != day) {
            k->day = day;
            k->day_count = 0;
        }

        if (k->rpm && k->minute_count >= k->rpm) {
            *retry = minute + 60 - now;
            *out = *k;
            rc = NGX_GP_KEY_LIMITED;
            break;
        }

        if (k->rpd && k->day_count >= k->rpd) {
            *retry = day + 86400 - now;
            *out = *k;
            rc = NGX_GP_KEY_LIMITED;
            break;
        }

        k->minute_count++;
        k->day_count++;
        k->requests++;
        k->last_used = now;

        *out = *k;
        rc = NGX_GP_KEY_OK;
        break;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/* the upper bounds (seconds) of the latency histogram buckets */
static double  ngx_gp_buckets[NGX_GP_BUCKETS] = {
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};


static void
ngx_gp_observe(uint64_t *h, double *sum, double v)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_BUCKETS; i++) {
        if (v <= ngx_gp_buckets[i]) {
            h[i]++;
        }
    }

    h[NGX_GP_BUCKETS]++;      /* +Inf: the count */
    *sum += v;
}


double
ngx_gp_bucket(ngx_uint_t i)
{
    return ngx_gp_buckets[i];
}


/*
 * A finished request: counted in the metrics and queued in the ring the
 * helper drains into SQLite.  A full ring drops its oldest entry (counted)
 * rather than block or fail a request.
 */

void
ngx_gp_zone_event(ngx_gp_zone_t *z, ngx_gp_event_t *e)
{
    ngx_gp_shctx_t    *sh;
    ngx_gp_metrics_t  *m;

    sh = z->sh;
    m = &sh->metrics;

    ngx_shmtx_lock(&z->shpool->mutex);

    m->requests[ngx_min(e->status / 100, 5)]++;

    ngx_gp_observe(m->latency, &m->latency_sum, e->latency_ms / 1000.0);

    if (e->ttfb_ms >= 0) {
        ngx_gp_observe(m->ttfb, &m->ttfb_sum, e->ttfb_ms / 1000.0);
    }

    m->prompt_tokens += e->prompt_tokens;
    m->completion_tokens += e->completion_tokens;

    if (sh->events) {
        if (sh->event_head - sh->event_tail >= NGX_GP_EVENTS) {
            ngx_gp_zone_event_text_free(z,
                                 &sh->events[sh->event_tail % NGX_GP_EVENTS]);
            sh->event_tail++;
            m->events_dropped++;
        }

        ngx_gp_zone_event_text(z, e);

        sh->events[sh->event_head % NGX_GP_EVENTS] = *e;
        sh->event_head++;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * The history text of an event moves into the slab while it waits for the
 * helper.  Queued text is held to an eighth of the zone, so a slow helper
 * or a flood of long answers cannot starve the bindings; what does not fit
 * is counted and the event is recorded without its text.
 */

static void
ngx_gp_zone_event_text(ngx_gp_zone_t *z, ngx_gp_event_t *e)
{
    u_char  *p;
    size_t   len, limit;

    if (e->text == NULL) {
        return;
    }

    len = (size_t) e->prompt_len + e->answer_len;
    limit = (size_t) (z->shpool->end - (u_char *) z->shpool) / 8;

    p = NULL;

    if (len && z->sh->event_text + len <= limit) {
        p = ngx_slab_alloc_locked(z->shpool, len);
    }

    if (p == NULL) {
        z->sh->metrics.history_dropped++;
        e->text = NULL;
        e->prompt_len = 0;
        e->answer_len = 0;
        return;
    }

    ngx_memcpy(p, e->text, len);
    e->text = p;
    z->sh->event_text += len;
}


static void
ngx_gp_zone_event_text_free(ngx_gp_zone_t *z, ngx_gp_event_t *e)
{
    if (e->text) {
        ngx_slab_free_locked(z->shpool, e->text);
        z->sh->event_text -= (size_t) e->prompt_len + e->answer_len;
        e->text = NULL;
    }
}


/* the helper has written the events it took: their text leaves the slab */

void
ngx_gp_zone_events_release(ngx_gp_zone_t *z, ngx_gp_event_t *ev,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < n; i++) {
        ngx_gp_zone_event_text_free(z, &ev[i]);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


ngx_uint_t
ngx_gp_zone_events_take(ngx_gp_zone_t *z, ngx_gp_event_t *out,
    ngx_uint_t max)
{
    ngx_uint_t       n;
    ngx_gp_shctx_t  *sh;

    sh = z->sh;
    n = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    while (sh->events && sh->event_tail != sh->event_head && n < max) {
        out[n++] = sh->events[sh->event_tail % NGX_GP_EVENTS];
        sh->event_tail++;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return n;
}


/*
 * Events the helper took and could not write (the database was locked)
 * when it exits: back to the front of the ring, in their order, for the
 * next helper; a ring filled meanwhile drops them as it drops its oldest
 * (counted).
 */

void
ngx_gp_zone_events_requeue(ngx_gp_zone_t *z, ngx_gp_event_t *ev,
    ngx_uint_t n)
{
    ngx_uint_t       i;
    ngx_gp_shctx_t  *sh;

    sh = z->sh;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = n; sh->events && i-- > 0; /* void */) {

        if (sh->event_head - sh->event_tail >= NGX_GP_EVENTS) {
            ngx_gp_zone_event_text_free(z, &ev[i]);
            sh->metrics.events_dropped++;
            continue;
        }

        sh->event_tail--;
        sh->events[sh->event_tail % NGX_GP_EVENTS] = ev[i];
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


/*
 * The verdict on a failure of account a (NULL or id 0: none), with the
 * operator's cooldown settings; a 429 that does not say why is judged
 * against the account's last one and marked under the zone's lock, so
 * that two processes meeting it at once judge it once.
 */

void
ngx_gp_zone_verdict(ngx_gp_zone_t *z, ngx_gp_account_copy_t *a,
    ngx_uint_t kind, ngx_uint_t quota, ngx_gp_verdict_t *v)
{
    time_t               now;
    ngx_uint_t           q;
    ngx_gp_account_t    *acc;
    ngx_gp_cooldowns_t   cd;

    cd.text_429 = ngx_gp_setting_int(z, NGX_GP_SET_COOLDOWN_TEXT_429);
    cd.server_error = ngx_gp_setting_int(z, NGX_GP_SET_COOLDOWN_SERVER_ERROR);
    cd.network = ngx_gp_setting_int(z, NGX_GP_SET_COOLDOWN_NETWORK);
    cd.rate_limit = ngx_gp_setting_int(z, NGX_GP_SET_COOLDOWN_RATE_LIMIT);
    cd.rate_window = ngx_gp_setting_int(z, NGX_GP_SET_RATE_LIMIT_WINDOW);

    now = ngx_time();

    if (kind != NGX_GP_FAIL_RATE || a == NULL || a->id == 0) {
        ngx_gp_rules_verdict((int) kind, (int) quota, now, 0, &cd, v);
        return;
    }

    q = (quota < NGX_GP_QUOTA_N) ? quota : NGX_GP_QUOTA_TEXT;

    ngx_shmtx_lock(&z->shpool->mutex);

    acc = ngx_gp_zone_find(z, a);

    ngx_gp_rules_verdict((int) kind, (int) quota, now,
                         acc ? acc->rate_limited[q] : 0, &cd, v);

    if (acc && v->rate_mark) {
        acc->rate_limited[q] = now;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}
