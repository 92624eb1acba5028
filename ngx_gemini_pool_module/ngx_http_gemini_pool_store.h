
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The store: the one owner of SQLite.  ngx_http_gemini_pool_store.c
 * opens the database, migrates its schema, loads the zone and keeps the
 * process's connection and its transactions; the store_<topic>.c files
 * read and write one topic each, sealing secrets inside.  No other file
 * prepares SQL.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_STORE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <sqlite3.h>
#include <jansson.h>


struct ngx_gp_zone_s;


/* ngx_http_gemini_pool_store.c: the database, the zone's load */

ngx_int_t ngx_gp_store_open(ngx_str_t *path, ngx_log_t *log, sqlite3 **db);
ngx_int_t ngx_gp_store_load(ngx_cycle_t *cycle, ngx_str_t *path,
    struct ngx_gp_zone_s *z);
ngx_int_t ngx_gp_store_zone_init(ngx_shm_zone_t *shm_zone, void *data);
ngx_int_t ngx_gp_store_save_state(ngx_cycle_t *cycle,
    struct ngx_gp_zone_s *z);
ngx_int_t ngx_gp_store_save_events(ngx_cycle_t *cycle,
    struct ngx_gp_zone_s *z);
void ngx_gp_store_save_events_exit(struct ngx_gp_zone_s *z);
ngx_int_t ngx_gp_store_reload(ngx_log_t *log);

/* whether the accounts fit the zone, asked before a commit */
typedef struct {
    size_t                   accounts;    /* in the database */
    size_t                   size;        /* of the zone, bytes */
    size_t                   needed;      /* the zone they need, bytes */
} ngx_gp_store_room_t;

ngx_int_t ngx_gp_store_zone_room(ngx_log_t *log, ngx_gp_store_room_t *room);
sqlite3 *ngx_gp_store_db(ngx_log_t *log);
void ngx_gp_store_close(void);

/* how long the process's connection waits for another process's lock */
#define NGX_GP_STORE_WAIT_NONE     0      /* the /v1 path */
#define NGX_GP_STORE_WAIT_ADMIN    100    /* a worker's admin API, ms */
#define NGX_GP_STORE_WAIT_HELPER   250    /* the helper, each tick */
ngx_msec_t ngx_gp_store_wait(ngx_msec_t ms);
ngx_uint_t ngx_gp_store_busy(ngx_uint_t clear);
ngx_uint_t ngx_gp_store_busy_level(sqlite3 *db);

/* one transaction on the process's connection (BEGIN IMMEDIATE) */
ngx_int_t ngx_gp_store_begin(ngx_log_t *log);
ngx_int_t ngx_gp_store_commit(ngx_log_t *log);
void ngx_gp_store_rollback(ngx_log_t *log);
const char *ngx_gp_store_errmsg(void);

/* a secret as stored: "enc:v1:..." (free() it), NULL on failure */
char *ngx_gp_store_seal_text(const char *aad, const char *plain);

/* for the store_<topic>.c files only */
ngx_int_t ngx_gp_store_prepare(sqlite3 *db, const char *sql,
    sqlite3_stmt **st, ngx_log_t *log);
void ngx_gp_store_text(sqlite3_stmt *st, int col, u_char *dst, size_t size,
    const char *what, int64_t id, ngx_log_t *log);
ngx_int_t ngx_gp_store_secret(sqlite3_stmt *st, int col, u_char *dst,
    size_t size, const char *aad, int64_t id, struct ngx_gp_zone_s *z,
    ngx_log_t *log);
char *ngx_gp_store_open_secret(const u_char *key, const char *aad,
    sqlite3_stmt *st, int col);
void ngx_gp_store_free_secret(char *p);
typedef json_t *(*ngx_gp_store_row_pt)(sqlite3_stmt *st);
json_t *ngx_gp_store_rows(sqlite3_stmt *st, ngx_gp_store_row_pt row);
ngx_int_t ngx_gp_store_run(sqlite3_stmt *st, ngx_uint_t *changes,
    ngx_log_t *log);


/* ngx_http_gemini_pool_store_chats.c: the chat page's conversations */

json_t *ngx_gp_store_chats_list(int64_t owner, const char *q,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_get(int64_t owner, int64_t id, json_t **out,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_add(int64_t owner, const char *title,
    const char *model, json_t *messages, int64_t *id, ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_append(int64_t owner, int64_t id,
    json_t *messages, ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_update(int64_t owner, int64_t id,
    const char *title, const char *model, ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_delete(int64_t owner, int64_t id,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_token_put(const char *session, const char *hash,
    const char *prefix, time_t *expires, int64_t *id, ngx_log_t *log);
ngx_int_t ngx_gp_store_chat_token_drop(const char *session, ngx_log_t *log);


/* ngx_http_gemini_pool_store_settings.c */

ngx_int_t ngx_gp_store_setting_put(ngx_uint_t i, const char *value,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_settings_read(ngx_gp_setting_t *s, u_char *present,
    ngx_log_t *log);


/* ngx_http_gemini_pool_store_files.c: our uploads (/v1/files) */

typedef struct {
    const char              *id;          /* "file-..." */
    const char              *filename;
    const char              *purpose;
    int64_t                  bytes;
    int64_t                  created_at;
} ngx_gp_store_file_t;

typedef ngx_int_t (*ngx_gp_store_file_pt)(void *data, ngx_gp_store_file_t *f);

ngx_int_t ngx_gp_store_files_list(int64_t key_id, ngx_str_t *purpose,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log);
ngx_int_t ngx_gp_store_files_list_zone(int64_t key_id, ngx_str_t *purpose,
    ngx_gp_store_file_pt each, void *data, ngx_log_t *log);
ngx_int_t ngx_gp_store_files_flush(ngx_cycle_t *cycle,
    struct ngx_gp_zone_s *z);
ngx_int_t ngx_gp_store_file_get(int64_t key_id, ngx_str_t *id,
    ngx_uint_t zone, ngx_gp_store_file_pt each, void *data, ngx_log_t *log);
ngx_int_t ngx_gp_store_file_delete(int64_t key_id, ngx_str_t *id,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_file_add(const char *id, const char *upstream,
    int64_t account_id, const char *session, const char *filename,
    const char *mime, size_t bytes, const char *purpose, int64_t key_id,
    const char *sha256, time_t now, ngx_log_t *log);


/* ngx_http_gemini_pool_store_accounts.c */

typedef struct {
    const char              *name;        /* NULL: unchanged (or "") */
    const char              *team_id;
    const char              *csesidx;
    const char              *secure_c_ses;   /* sealed */
    const char              *host_c_oses;    /* sealed */
    const char              *user_agent;
    const char              *proxy;          /* sealed */
    const char              *tempmail_url;   /* sealed */
    const char              *tempmail_name;
    ngx_int_t                enabled;        /* -1: unchanged (or 1) */
} ngx_gp_store_account_t;

ngx_int_t ngx_gp_store_account_add(ngx_gp_store_account_t *a, int64_t *id,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_account_placeholders(ngx_uint_t n, int64_t *last,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_account_update(int64_t id, ngx_gp_store_account_t *a,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_account_renew(int64_t id, ngx_uint_t zone_expired,
    ngx_uint_t *renewed, ngx_log_t *log);
ngx_int_t ngx_gp_store_account_delete(int64_t id, ngx_log_t *log);
ngx_int_t ngx_gp_store_account_toggle(int64_t id, ngx_log_t *log);
ngx_int_t ngx_gp_store_account_mailbox(int64_t id, u_char *url,
    size_t url_size, u_char *name, size_t name_size, ngx_log_t *log);


/* ngx_http_gemini_pool_store_relogin.c: the re-login's attempts */

typedef struct {
    int64_t                  account_id;
    const char              *account;     /* its name */
    time_t                   started;
    time_t                   finished;
    const char              *status;      /* "ok", signin's word, ... */
    const char              *reason;
    const char              *step;        /* where it ended */
    ngx_uint_t               manual;
} ngx_gp_store_relogin_t;

ngx_int_t ngx_gp_store_relogin_add(ngx_gp_store_relogin_t *h,
    ngx_log_t *log);
json_t *ngx_gp_store_relogin_list(int64_t account, int64_t limit,
    ngx_log_t *log);


/* ngx_http_gemini_pool_store_admin.c: the console's password, sessions */

ngx_uint_t ngx_gp_store_session_live(const char *id, time_t now,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_session_add(const char *id, time_t expires,
    ngx_str_t *client, ngx_log_t *log);
ngx_int_t ngx_gp_store_session_revoke(const char *id, ngx_log_t *log);
ngx_int_t ngx_gp_store_password_get(ngx_pool_t *pool, char **hash,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_password_set(const char *hash, ngx_log_t *log);


/* ngx_http_gemini_pool_store_keys.c */

typedef struct {
    const char              *name;
    const char              *hash;        /* SHA-256 of the key, hex */
    const char              *prefix;      /* the key's first 10 bytes */
    int64_t                  expires;
    const char              *models;
    int64_t                  rpm;
    int64_t                  rpd;
    const char              *image_format;
} ngx_gp_store_key_t;

json_t *ngx_gp_store_keys_list(ngx_log_t *log);
ngx_int_t ngx_gp_store_key_add(ngx_gp_store_key_t *k, int64_t *id,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_key_revoke(int64_t id, ngx_log_t *log);
ngx_int_t ngx_gp_store_key_delete(int64_t id, ngx_log_t *log);
ngx_int_t ngx_gp_store_key_log_stats(int64_t id, int64_t *out,
    ngx_log_t *log);


/* ngx_http_gemini_pool_store_logs.c: the call log and chat history */

typedef struct {
    ngx_str_t                q;
    int64_t                  key;         /* < 0: any */
    ngx_str_t                model;       /* "": any */
    ngx_str_t                session;     /* "": any */
    int64_t                  limit;
    int64_t                  offset;
} ngx_gp_store_history_q_t;

json_t *ngx_gp_store_logs_list(int64_t key, int64_t before, int64_t limit,
    ngx_log_t *log);
json_t *ngx_gp_store_history_list(ngx_gp_store_history_q_t *h,
    int64_t *total, ngx_pool_t *pool, ngx_log_t *log);
ngx_int_t ngx_gp_store_history_item(int64_t id, json_t **j, ngx_log_t *log);
ngx_int_t ngx_gp_store_history_erase(int64_t id, int64_t before,
    ngx_uint_t *erased, ngx_log_t *log);
ngx_gp_stats_call_t *ngx_gp_store_stats_calls(int64_t from, int64_t to,
    ngx_uint_t by, size_t *n, json_t **names, ngx_log_t *log);

typedef struct {
    ngx_str_t                q;
    int64_t                  key;         /* < 0: any */
    ngx_str_t                model;       /* "": any */
    ngx_str_t                account;     /* "": any */
    int64_t                  from;        /* unix times, 0: open */
    int64_t                  to;
    int64_t                  before;      /* an entry id, 0: the newest */
    int64_t                  limit;
} ngx_gp_store_conv_q_t;

json_t *ngx_gp_store_conversations(ngx_gp_store_conv_q_t *c,
    ngx_uint_t *more, ngx_pool_t *pool, ngx_log_t *log);
ngx_int_t ngx_gp_store_conversation(int64_t id, json_t **j, ngx_log_t *log);
ngx_int_t ngx_gp_store_conversation_erase(int64_t id, ngx_uint_t *erased,
    ngx_log_t *log);
json_t *ngx_gp_store_history_filters(ngx_log_t *log);


/* ngx_http_gemini_pool_store_models.c */

typedef struct {
    const char              *name;
    const char              *model_id;    /* NULL: not given */
    const char              *kind;
    const char              *description;
    int64_t                  account;     /* > 0: pinned to it */
    ngx_uint_t               has_account; /* account_id given (or null) */
    ngx_int_t                enabled;     /* -1: not given */
    ngx_uint_t               has_position;
    int64_t                  position;
    const char              *aliases;     /* "a,b*"; NULL: not given */
} ngx_gp_store_model_t;

json_t *ngx_gp_store_models_list(ngx_log_t *log);
ngx_int_t ngx_gp_store_model_put(ngx_gp_store_model_t *m, ngx_log_t *log);
ngx_int_t ngx_gp_store_model_delete(ngx_str_t *name, ngx_log_t *log);


/* ngx_http_gemini_pool_store_export.c: the configuration export */


json_t *ngx_gp_store_export(ngx_uint_t secrets, ngx_log_t *log);


/*
 * ngx_http_gemini_pool_store_import.c: the configuration import, of what
 * the reader (bodies.c) read
 */

typedef ngx_gp_import_account_t  ngx_gp_store_import_account_t;
typedef ngx_gp_import_model_t    ngx_gp_store_import_model_t;
typedef ngx_gp_import_key_t      ngx_gp_store_import_key_t;

typedef struct {
    int64_t                  id;
    ngx_uint_t               updated;     /* an account that was there */
    ngx_uint_t               same_ids;    /* found by team_id, csesidx */
    ngx_uint_t               renewed;     /* new cookies */
} ngx_gp_store_import_result_t;

ngx_int_t ngx_gp_store_import_account(ngx_gp_store_import_account_t *a,
    ngx_gp_store_import_result_t *res, ngx_log_t *log);
ngx_int_t ngx_gp_store_import_model(ngx_gp_store_import_model_t *m,
    int64_t account, ngx_uint_t *replaced, ngx_log_t *log);
ngx_int_t ngx_gp_store_import_key(ngx_gp_store_import_key_t *k,
    const char *hash, int64_t *updated, ngx_log_t *log);
ngx_int_t ngx_gp_store_import_counts(int64_t *models, int64_t *keys,
    ngx_log_t *log);


/*
 * ngx_http_gemini_pool_store_cluster.c: the shared configuration's change
 * feed, records as stored, uids (docs/cluster.md)
 */

ngx_int_t ngx_gp_store_cluster_meta(const char *key, char *buf, size_t size,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_meta_set(const char *key, const char *value,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_record(int kind, const char *key,
    json_t **data, ngx_log_t *log);
json_t *ngx_gp_store_cluster_changes(ngx_uint_t n, int64_t *last,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_published(int64_t last, ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_mark_all(ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_seq(int64_t *seq, ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_applied(int64_t seq, int kind,
    const char *key, ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_pending(int kind, const char *key,
    ngx_uint_t *pending, ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_account(const char *uid, const char *ses,
    int64_t *id, ngx_uint_t *same, ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_set_uid(int64_t id, const char *uid,
    ngx_log_t *log);
ngx_int_t ngx_gp_store_cluster_key(const char *hash, int64_t *id,
    ngx_log_t *log);


/* ngx_http_gemini_pool_store_ref.c: the reference's geminibusiness.db */

#define NGX_GP_SQLITE_MAGIC    "SQLite format 3"   /* and a NUL: 16 bytes */

typedef struct {
    ngx_log_t               *log;
    json_t                  *skipped;     /* notes: strings */
    char                    *err;
    size_t                   errlen;
} ngx_gp_store_ref_t;

ngx_int_t ngx_gp_store_ref_read(ngx_gp_store_ref_t *ref, ngx_str_t *body,
    json_t *doc);


#endif /* _NGX_HTTP_GEMINI_POOL_STORE_H_INCLUDED_ */
