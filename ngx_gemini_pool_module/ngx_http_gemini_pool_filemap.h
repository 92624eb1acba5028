
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Our "file-..." ids and where each file lives upstream (file id,
 * account, session), kept in the zone for the chat path, which must not
 * read SQLite.  A ring of NGX_GP_FILEMAP_SLOTS: the store fills it with the
 * newest uploads when it loads the zone, an upload adds its file, a
 * DELETE /v1/files/{id} removes it; past the bound the oldest upload
 * drops out of the ring (it stays listed by /v1/files) and a message that
 * names it is answered "file_not_found".
 */


#ifndef _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_GP_FILEMAP_SLOTS         1024
#define NGX_GP_FILEMAP_ID_LEN        64     /* ours and the upstream's */
#define NGX_GP_FILEMAP_SESSION_LEN   160    /* NGX_GP_SESSION_LEN */

typedef struct {
    u_char                   id[NGX_GP_FILEMAP_ID_LEN];   /* "": free */
    u_char                   upstream[NGX_GP_FILEMAP_ID_LEN];
    u_char                   session[NGX_GP_FILEMAP_SESSION_LEN];
    int64_t                  key_id;
    int64_t                  account_id;
} ngx_gp_filemap_entry_t;


struct ngx_gp_zone_s;

ngx_gp_filemap_entry_t *ngx_gp_filemap_create(ngx_slab_pool_t *shpool);
ngx_int_t ngx_gp_filemap_entry(ngx_gp_filemap_entry_t *e, const char *id,
    int64_t key_id, const char *upstream, int64_t account_id,
    const char *session);
void ngx_gp_filemap_put(struct ngx_gp_zone_s *z, ngx_gp_filemap_entry_t *e);
void ngx_gp_filemap_load(struct ngx_gp_zone_s *z, ngx_gp_filemap_entry_t *e,
    ngx_uint_t n);
ngx_int_t ngx_gp_filemap_get(struct ngx_gp_zone_s *z, const char *id,
    int64_t key_id, ngx_gp_filemap_entry_t *e);
void ngx_gp_filemap_delete(struct ngx_gp_zone_s *z, const u_char *id,
    size_t len, int64_t key_id);


#endif /* _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_ */
