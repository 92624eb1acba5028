
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


ngx_gp_filemap_entry_t *
ngx_gp_filemap_create(ngx_slab_pool_t *shpool)
{
    return ngx_slab_calloc(shpool, NGX_GP_FILEMAP_SLOTS
                                   * sizeof(ngx_gp_filemap_entry_t));
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

    ngx_cpystrn(e->id, (u_char *) id, NGX_GP_FILEMAP_ID_LEN);
    ngx_cpystrn(e->upstream, (u_char *) upstream, NGX_GP_FILEMAP_ID_LEN);
    ngx_cpystrn(e->session, (u_char *) session, NGX_GP_FILEMAP_SESSION_LEN);
    e->key_id = key_id;
    e->account_id = account_id;

    return NGX_OK;
}


static void
ngx_gp_filemap_put_locked(ngx_gp_shctx_t *sh, ngx_gp_filemap_entry_t *e)
{
    sh->files[sh->files_next % NGX_GP_FILEMAP_SLOTS] = *e;
    sh->files_next = (sh->files_next + 1) % NGX_GP_FILEMAP_SLOTS;
}


/* an upload: in the next slot, over the oldest when the ring is full */

void
ngx_gp_filemap_put(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e)
{
    if (z->sh->files == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);
    ngx_gp_filemap_put_locked(z->sh, e);
    ngx_shmtx_unlock(&z->shpool->mutex);
}


/* the store's load: e[0 .. n-1], oldest first, replaces the ring */

void
ngx_gp_filemap_load(ngx_gp_zone_t *z, ngx_gp_filemap_entry_t *e,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    if (z->sh->files == NULL) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    ngx_memzero(z->sh->files,
                NGX_GP_FILEMAP_SLOTS * sizeof(ngx_gp_filemap_entry_t));
    z->sh->files_next = 0;

    for (i = 0; i < n; i++) {
        ngx_gp_filemap_put_locked(z->sh, &e[i]);
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}


ngx_int_t
ngx_gp_filemap_get(ngx_gp_zone_t *z, const char *id, int64_t key_id,
    ngx_gp_filemap_entry_t *e)
{
    ngx_int_t                rc;
    ngx_uint_t               i;
    ngx_gp_filemap_entry_t  *f;

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
            *e = *f;
            rc = NGX_OK;
            break;
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);

    return rc;
}


void
ngx_gp_filemap_delete(ngx_gp_zone_t *z, const u_char *id, size_t len,
    int64_t key_id)
{
    ngx_uint_t               i;
    ngx_gp_filemap_entry_t  *f;

    if (z->sh->files == NULL || len >= NGX_GP_FILEMAP_ID_LEN) {
        return;
    }

    ngx_shmtx_lock(&z->shpool->mutex);

    for (i = 0; i < NGX_GP_FILEMAP_SLOTS; i++) {
        f = &z->sh->files[i];

        if (f->key_id == key_id && ngx_strncmp(f->id, id, len) == 0
            && f->id[len] == '\0')
        {
            f->id[0] = '\0';
        }
    }

    ngx_shmtx_unlock(&z->shpool->mutex);
}
