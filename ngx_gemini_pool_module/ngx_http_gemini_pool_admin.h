
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The admin JSON API under /api/, split by topic, top first:
 * admin_routes.c (the route table, the dispatch, the gate), the topic
 * files admin_auth.c, admin_accounts.c, admin_relogin.c, admin_keys.c,
 * admin_logs.c, admin_settings.c, admin_models.c, admin_config.c,
 * admin_chats.c (the chat page's conversations) and admin_events.c (the
 * live state, over admin_accounts.c's rows), and
 * below them admin_io.c (replies, errors, body fields, query arguments).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_ADMIN_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_ADMIN_H_INCLUDED_


#define NGX_GP_COOKIE          "gp_admin"


typedef struct {
    ngx_http_request_t  *r;
    json_t              *body;          /* request JSON or NULL */
    ngx_str_t            path;          /* after "/api/" */
    ngx_str_t            seg[4];        /* path segments */
    ngx_uint_t           nseg;
    unsigned             by_cookie:1;
} ngx_gp_admin_t;


/* ngx_http_gemini_pool_admin_routes.c */

ngx_int_t ngx_gp_admin_handler(ngx_http_request_t *r);


/* the route handlers, by topic */

/* ngx_http_gemini_pool_admin_auth.c */
ngx_int_t ngx_gp_admin_token_ok(ngx_http_request_t *r, ngx_str_t *token,
    char *id);
ngx_int_t ngx_gp_admin_login(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_login_info(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_logout(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_password(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_whoami(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_accounts.c */
ngx_int_t ngx_gp_admin_accounts(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_add(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_update(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_delete(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_toggle(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_quota(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_test(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_accounts_bulk(ngx_gp_admin_t *a);
json_t *ngx_gp_admin_account_json(ngx_gp_account_t *acc, ngx_uint_t index,
    time_t now);
ngx_int_t ngx_gp_admin_status(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_proxy_test(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_events.c */
ngx_int_t ngx_gp_admin_events(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_relogin.c */
ngx_int_t ngx_gp_admin_refresh_cookie(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_refresh_all(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_relogin(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_relogin_history(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_account_cookies(ngx_gp_admin_t *a);
void ngx_gp_admin_relogin_rows(json_t *list, ngx_log_t *log);
/* an account's "relogin" object, under the zone's lock */
json_t *ngx_gp_admin_relogin_state(ngx_gp_account_t *acc);
ngx_uint_t ngx_gp_admin_mailbox_url(const char *s);


/* ngx_http_gemini_pool_admin_mailbox.c */
ngx_int_t ngx_gp_admin_mailbox_check(ngx_gp_admin_t *a);


/* ngx_http_gemini_pool_admin_sync.c */
ngx_int_t ngx_gp_admin_sync_all(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_sync_test(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_sync_state(ngx_gp_admin_t *a);
int64_t ngx_gp_admin_sync_target(ngx_gp_admin_t *a, ngx_uint_t *index,
    ngx_uint_t *count);


/* ngx_http_gemini_pool_admin_keys.c */
ngx_int_t ngx_gp_admin_keys(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_key_add(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_key_revoke(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_key_delete(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_key_stats(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_chats.c */
ngx_int_t ngx_gp_admin_chats(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_add(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_item(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_update(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_delete(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_append(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_chat_token(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_logs.c */
ngx_int_t ngx_gp_admin_logs(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_history(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_history_item(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_history_delete(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_stats(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_conversations(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_conversation(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_conversation_delete(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_history_filters(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_settings.c */
ngx_int_t ngx_gp_admin_settings(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_settings_update(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_upload_test(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_models.c */
ngx_int_t ngx_gp_admin_models(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_model_put(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_model_delete(ngx_gp_admin_t *a);

/* ngx_http_gemini_pool_admin_config.c */
ngx_int_t ngx_gp_admin_export(ngx_gp_admin_t *a);
ngx_int_t ngx_gp_admin_import(ngx_gp_admin_t *a);


/* ngx_http_gemini_pool_admin_io.c: what the topic files share */

/* JSON out: takes the reference of j */
ngx_int_t ngx_gp_admin_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *j);
ngx_int_t ngx_gp_admin_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
ngx_int_t ngx_gp_admin_ok(ngx_http_request_t *r);
ngx_int_t ngx_gp_admin_changed(ngx_http_request_t *r);
void ngx_gp_admin_busy_clear(void);
ngx_int_t ngx_gp_admin_busy(ngx_http_request_t *r, ngx_int_t rc);
const char *ngx_gp_admin_str(ngx_gp_admin_t *a, const char *key,
    ngx_int_t *bad);
ngx_int_t ngx_gp_admin_int(ngx_gp_admin_t *a, const char *key, int64_t *out,
    ngx_int_t *bad);
ngx_int_t ngx_gp_admin_list(ngx_gp_admin_t *a, json_t *list,
    const char *name);
ngx_int_t ngx_gp_admin_not_found(ngx_gp_admin_t *a, const char *what);
int64_t ngx_gp_admin_account_ref(ngx_gp_admin_t *a, ngx_str_t *ref,
    ngx_uint_t *index, ngx_uint_t *count);
ngx_int_t ngx_gp_admin_arg_int(ngx_gp_admin_t *a, const char *name,
    ngx_int_t max, const char *must, ngx_int_t *out, ngx_int_t *sent);
ngx_int_t ngx_gp_admin_arg_text(ngx_gp_admin_t *a, const char *name,
    ngx_str_t *out);


#endif /* _NGX_HTTP_GEMINI_POOL_ADMIN_H_INCLUDED_ */
