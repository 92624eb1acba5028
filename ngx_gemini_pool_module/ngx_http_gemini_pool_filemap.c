
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The zone's ring of uploaded files (see the header): what the chat path
 * reads instead of SQLite's files table.  Lookups scan the ring under the
 * zone lock; only messages that name a "file-..." id make one.
 */


#include "ngx_http_gemini_pool_module.h"


#if (NGX_GP_FILEMAP_SESSION_LEN != NGX_GP_SESSION_LEN)
#error NGX_GP_FILEMAP_SESSION_LEN must be NGX_GP_SESSION_LEN
#endif


ngx_gp_filemap_slot_t *
ngx_gp_filemap_create(ngx_slab_pool_t *shpool)
{
    return ngx_slab_calloc(shpool, NGX_GP_FILEMAP_SLOTS
                                   * sizeof(ngx_gp_filemap_slot_t));
}


/* NGX_DECLINED when a field does not fit (the chat path refuses it) */

ngx_int_t
ngx_gp_filemap_entry(ngx_gp_filemap_entry_t *e, const char *id,
    int64_t key_id, const char *upstream, int64_t account_id,
    const char *session)
{
    if (id == NULL || upstream == NULL || session == NULL
        || ngx_strlen(id) >= NGX_GP_FILEMAP_ID_LEN
        || ngx_strlen(upstream) >= NGX_GP_FILEMAP_ID_LEN
        || ngx_strlen(session) >= NGX_GP_FILEMAP_SESSION_LEN)
    {
        return NGX_DECLINED;
    }

    ngx_memzero(e, sizeof(ngx_gp_filemap_entry_t));

    ngx_cpystrn(e->id, (u_char *) id, NGX_GP_FILEMAP_ID_LEN);
    ngx_cpystrn(e->upstream, (u_char *) upstream, NGX_GP_FILEMAP_ID_LEN);
    ngx_cpystrn(e->session, (u_char *) session, NGX_GP_FILEMAP_SESSION_LEN);
    e->key_id = key_id;
    e->account_id = account_id;

    return NGX_OK;
}


/* what /v1/files shows of it, and the rest of its row */

ngx_int_t
ngx_gp_filemap_meta(ngx_gp_filemap_entry_t *e, const char *filename,
    const char *purpose, int64_t bytes, int64_t created_at,
    const char *mime, const char *sha256)
{
    if (filename == NULL || purpose == NULL
        || ngx_strlen(filename) >= NGX_GP_FILEMAP_NAME_LEN
        || ngx_strlen(purpose) >= NGX_GP_FILEMAP_WORD_LEN
        || (mime && ngx_strlen(mime) >= NGX_GP_FILEMAP_WORD_LEN)
        || (sha256 && ngx_strlen(sha256) >= NGX_GP_FILEMAP_SHA_LEN))
    {
        return NGX_DECLINED;
    }

    ngx_cpystrn(e->filename, (u_char *) filename, NGX_GP_FILEMAP_NAME_LEN);
    ngx_cpystrn(e->purpose, (u_char *) purpose, NGX_GP_FILEMAP_WORD_LEN);
    ngx_cpystrn(e->mime, (u_char *) (mime ? mime : ""),
                NGX_GP_FILEMAP_WORD_LEN);
    ngx_cpystrn(e->sha256, (u_char *) (sha256 ? sha256 : ""),
                NGX_GP_FILEMAP_SHA_LEN);
    e->bytes = bytes;
    e->created_at = created_at;
    e->pending = 0;

    return NGX_OK;
}


static void
ngx_gp_filemap_clear_locked(ngx_gp_zone_t *z, ngx_gp_filemap_slot_t *f)
{
    if (f->meta) {
        ngx_slab_free_locked(z->shpool, f->meta);
    }

    ngx_memzero(f, sizeof(ngx_gp_filemap_slot_t));
}


/*
 * An entry into the next slot, over the oldest; NGX_DECLINED when a
 * pending upload's string finds no room in the zone (it could not be
 * written later), the slot then stays as it was.
 */

static ngx_int_t
ngx_gp_filemap_put_locked(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e)
{
    u_char                 *meta, *p;
    size_t                  len;
    ngx_gp_filemap_slot_t  *f;

    len = ngx_strlen(e->filename) + 1 + ngx_strlen(e->purpose) + 1;

    if (e->pending) {
        len += ngx_strlen(e->mime) + 1 + ngx_strlen(e->sha256) + 1;
    }

    meta = ngx_slab_alloc_locked(z->shpool, len);

    if (meta == NULL && e->pending) {
        return NGX_DECLINED;
    }

    f = &z->sh->files[z->sh->files_next % NGX_GP_FILEMAP_SLOTS];
    z->sh->files_next = (z->sh->files_next + 1) % NGX_GP_FILEMAP_SLOTS;

    ngx_gp_filemap_clear_locked(z, f);

    ngx_memcpy(f->id, e->id, NGX_GP_FILEMAP_ID_LEN);
    ngx_memcpy(f->upstream, e->upstream, NGX_GP_FILEMAP_ID_LEN);
    ngx_memcpy(f->session, e->session, NGX_GP_FILEMAP_SESSION_LEN);
    f->key_id = e->key_id;
    f->account_id = e->account_id;
    f->bytes = e->bytes;
    f->created_at = e->created_at;
    f->pending = e->pending;
    f->meta = meta;

    if (meta) {
        p = ngx_cpymem(meta, e->filename, ngx_strlen(e->filename) + 1);
        p = ngx_cpymem(p, e->purpose, ngx_strlen(e->purpose) + 1);

        if (e->pending) {
            p = ngx_cpymem(p, e->mime, ngx_strlen(e->mime) + 1);
            (void) ngx_cpymem(p, e->sha256, ngx_strlen(e->sha256) + 1);
        }
    }

    return NGX_OK;
}


/* a copy of the slot, its string unpacked */

static void
ngx_gp_filemap_copy(ngx_gp_filemap_slot_t *f, ngx_gp_filemap_entry_t *e)
{
    u_char  *p;

    ngx_memcpy(e->id, f->id, NGX_GP_FILEMAP_ID_LEN);
    ngx_memcpy(e->upstream, f->upstream, NGX_GP_FILEMAP_ID_LEN);
    ngx_memcpy(e->session, f->session, NGX_GP_FILEMAP_SESSION_LEN);
    e->key_id = f->key_id;
    e->account_id = f->account_id;
    e->bytes = f->bytes;
    e->created_at = f->created_at;
    e->pending = f->pending;
    e->filename[0] = '\0';
    e->purpose[0] = '\0';
    e->mime[0] = '\0';
    e->sha256[0] = '\0';

    p = f->meta;

    if (p == NULL) {
        return;
    }

    ngx_cpystrn(e->filename, p, NGX_GP_FILEMAP_NAME_LEN);
    p += ngx_strlen(p) + 1;
    ngx_cpystrn(e->purpose, p, NGX_GP_FILEMAP_WORD_LEN);

    if (f->pending) {
        p += ngx_strlen(p) + 1;
        ngx_cpystrn(e->mime, p, NGX_GP_FILEMAP_WORD_LEN);
        p += ngx_strlen(p) + 1;
        ngx_cpystrn(e->sha256, p, NGX_GP_FILEMAP_SHA_LEN);
    }
}


/* an upload: in the next slot, over the oldest when the ring is full */

ngx_int_t
ngx_gp_filemap_put(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e)
{
    ngx_int_t  rc;

    if (z->sh->files == NULL) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    rc = ngx_gp_filemap_put_locked(z, e);
    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/*
 * The store's load: e[0 .. n-1], oldest first, replaces the ring; the
 * uploads still pending (not in SQLite yet) stay, as the newest.
 */

void
ngx_gp_filemap_load(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e,
    ngx_uint_t n)
{
    ngx_uint_t               i, k, np;
    ngx_gp_filemap_slot_t   *f;
    ngx_gp_filemap_entry_t  *pending;

    if (z->sh->files == NULL) {
        return;
    }

    pending = ngx_alloc(NGX_GP_FILEMAP_SLOTS * sizeof(ngx_gp_filemap_entry_t),
                        ngx_cycle->log);

    ngx_shmtx_lock(&z->shpool->mutex);

    np = 0;

    for (i = 0; i < NGX_GP_FILEMAP_SLOTS; i++) {
        f = &z->sh->files[(z->sh->files_next + i) % NGX_GP_FILEMAP_SLOTS];

        if (pending && f->id[0] && f->pending) {
            ngx_gp_filemap_copy(f, &pending[np++]);
        }

        ngx_gp_filemap_clear_locked(z, f);
    }

    z->sh->files_next = 0;

    for (i = 0; i < n; i++) {
        for (k = 0; k < np; k++) {
            if (pending[k].id[0] && pending[k].key_id == e[i].key_id
                && ngx_strcmp(pending[k].id, e[i].id) == 0)
            {
                pending[k].id[0] = '\0';      /* the helper wrote it */
            }
        }

        (void) ngx_gp_filemap_put_locked(z, &e[i]);
    }

    for (k = 0; k < np; k++) {
        if (pending[k].id[0]) {
            (void) ngx_gp_filemap_put_locked(z, &pending[k]);
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    if (pending) {
        ngx_free(pending);
    }
}


ngx_int_t
ngx_gp_filemap_get(ngx_gp_zone_t *z, const char *id, int64_t key_id,
    ngx_gp_filemap_entry_t *e)
{
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_gp_filemap_slot_t  *f;

    if (z->sh->files == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < NGX_GP_FILEMAP_SLOTS; i++) {
        f = &z->sh->files[i];

        if (f->key_id == key_id && f->id[0]
            && ngx_strcmp(f->id, id) == 0)
        {
            ngx_gp_filemap_copy(f, e);
            rc = NGX_OK;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


/* returns 1 when it was there (and pending: 2) */

ngx_uint_t
ngx_gp_filemap_delete(ngx_gp_zone_t *z, const u_char *id, size_t len,
    int64_t key_id)
{
    ngx_uint_t              i, found;
    ngx_gp_filemap_slot_t  *f;

    if (z->sh->files == NULL || len >= NGX_GP_FILEMAP_ID_LEN) {
        return 0;
    }

    found = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < NGX_GP_FILEMAP_SLOTS; i++) {
        f = &z->sh->files[i];

        if (f->key_id == key_id && f->id[0]
            && ngx_strncmp(f->id, id, len) == 0 && f->id[len] == '\0')
        {
            found = f->pending ? 2 : 1;
            ngx_gp_filemap_clear_locked(z, f);
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return found;
}


/*
 * Copies the entries of key_id (< 0: of every key), only the pending ones
 * when pending is set, newest first, at most max; out NULL: counts them.
 */

ngx_uint_t
ngx_gp_filemap_list(ngx_gp_zone_t *z, int64_t key_id, ngx_uint_t pending,
    ngx_gp_filemap_entry_t *out, ngx_uint_t max)
{
    ngx_uint_t              i, n;
    ngx_gp_filemap_slot_t  *f;

    if (z->sh->files == NULL) {
        return 0;
    }

    n = 0;

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 1; i <= NGX_GP_FILEMAP_SLOTS && (out == NULL || n < max); i++) {
        f = &z->sh->files[(z->sh->files_next + NGX_GP_FILEMAP_SLOTS - i)
                          % NGX_GP_FILEMAP_SLOTS];

        if (f->id[0] == '\0' || (key_id >= 0 && f->key_id != key_id)
            || (pending && !f->pending))
        {
            continue;
        }

        if (out) {
            ngx_gp_filemap_copy(f, &out[n]);
        }

        n++;
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return n;
}


/* the upload is still in the ring (not deleted meanwhile) */

ngx_uint_t
ngx_gp_filemap_has(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e)
{
    ngx_gp_filemap_entry_t  f;

    return ngx_gp_filemap_get(z, (char *) e->id, e->key_id, &f) == NGX_OK;
}


/* the helper wrote its row: the string keeps what /v1/files shows */

void
ngx_gp_filemap_saved(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e)
{
    ngx_uint_t              i;
    ngx_gp_filemap_slot_t  *f;

    if (z->sh->files == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < NGX_GP_FILEMAP_SLOTS; i++) {
        f = &z->sh->files[i];

        if (f->pending && f->key_id == e->key_id
            && ngx_strcmp(f->id, e->id) == 0)
        {
            f->pending = 0;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}
