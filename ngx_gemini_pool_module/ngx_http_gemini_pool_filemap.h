
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
 *
 * The ring also answers GET /v1/files while another process holds a lock
 * on the database, and keeps an upload made meanwhile (pending) until the
 * helper has written its row.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_GP_FILEMAP_SLOTS         1024
#define NGX_GP_FILEMAP_ID_LEN        64     /* ours and the upstream's */
#define NGX_GP_FILEMAP_SESSION_LEN   160    /* NGX_GP_SESSION_LEN */
#define NGX_GP_FILEMAP_NAME_LEN      128    /* a file name */
#define NGX_GP_FILEMAP_WORD_LEN      64     /* purpose, media type */
#define NGX_GP_FILEMAP_SHA_LEN       72     /* SHA-256, hex, padded */

/* an upload as the callers see it: a copy in process memory */
typedef struct {
    u_char                   id[NGX_GP_FILEMAP_ID_LEN];   /* "": free */
    u_char                   upstream[NGX_GP_FILEMAP_ID_LEN];
    u_char                   session[NGX_GP_FILEMAP_SESSION_LEN];
    int64_t                  key_id;
    int64_t                  account_id;

    /* what /v1/files answers while the database is locked */
    int64_t                  bytes;
    int64_t                  created_at;
    u_char                   filename[NGX_GP_FILEMAP_NAME_LEN];
    u_char                   purpose[NGX_GP_FILEMAP_WORD_LEN];

    /* the rest of the row, for the helper: pending, not in SQLite yet */
    u_char                   mime[NGX_GP_FILEMAP_WORD_LEN];
    u_char                   sha256[NGX_GP_FILEMAP_SHA_LEN];
    ngx_uint_t               pending;
} ngx_gp_filemap_entry_t;


/*
 * A slot of the ring in the zone: the chat path's fields in place, the
 * rest as one slab string "filename\0purpose\0mime\0sha256\0" (mime and
 * SHA-256 only while pending), so a slot costs 344 bytes and its string
 * about 16-32 (128 while pending).
 */
typedef struct {
    u_char                   id[NGX_GP_FILEMAP_ID_LEN];   /* "": free */
    u_char                   upstream[NGX_GP_FILEMAP_ID_LEN];
    u_char                   session[NGX_GP_FILEMAP_SESSION_LEN];
    int64_t                  key_id;
    int64_t                  account_id;
    int64_t                  bytes;
    int64_t                  created_at;
    u_char                  *meta;        /* NULL: the zone had no room */
    ngx_uint_t               pending;
} ngx_gp_filemap_slot_t;


struct ngx_gp_zone_s;

ngx_gp_filemap_slot_t *ngx_gp_filemap_create(ngx_slab_pool_t *shpool);
ngx_int_t ngx_gp_filemap_entry(ngx_gp_filemap_entry_t *e, const char *id,
    int64_t key_id, const char *upstream, int64_t account_id,
    const char *session);
ngx_int_t ngx_gp_filemap_meta(ngx_gp_filemap_entry_t *e,
    const char *filename, const char *purpose, int64_t bytes,
    int64_t created_at, const char *mime, const char *sha256);
ngx_int_t ngx_gp_filemap_put(struct ngx_gp_zone_s *z,
    ngx_gp_filemap_entry_t *e);
void ngx_gp_filemap_load(struct ngx_gp_zone_s *z, ngx_gp_filemap_entry_t *e,
    ngx_uint_t n);
ngx_int_t ngx_gp_filemap_get(struct ngx_gp_zone_s *z, const char *id,
    int64_t key_id, ngx_gp_filemap_entry_t *e);
ngx_uint_t ngx_gp_filemap_delete(struct ngx_gp_zone_s *z, const u_char *id,
    size_t len, int64_t key_id);
ngx_uint_t ngx_gp_filemap_list(struct ngx_gp_zone_s *z, int64_t key_id,
    ngx_uint_t pending, ngx_gp_filemap_entry_t *out, ngx_uint_t max);
ngx_uint_t ngx_gp_filemap_has(struct ngx_gp_zone_s *z,
    ngx_gp_filemap_entry_t *e);
void ngx_gp_filemap_saved(struct ngx_gp_zone_s *z,
    ngx_gp_filemap_entry_t *e);


#endif /* _NGX_HTTP_GEMINI_POOL_FILEMAP_H_INCLUDED_ */
