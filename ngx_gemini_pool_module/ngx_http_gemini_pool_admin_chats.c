
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Admin chats: the console chat page's conversations (list and search,
 * create, read, rename, delete, append a finished turn) and its chat
 * credential: a short-lived API key tied to the admin session that asked
 * for it, which the page keeps in memory and sends to /v1 like any
 * client.  The admin cookie itself is never accepted on /v1.
 */


#include "ngx_http_gemini_pool_module.h"


/* the owner of the chats of the admin API: the admin */
#define NGX_GP_CHAT_ADMIN       0

#define NGX_GP_CHAT_TITLE_MAX   200
#define NGX_GP_CHAT_MODEL_MAX   128
#define NGX_GP_CHAT_MSGS_MAX    200
#define NGX_GP_CHAT_ATT_MAX     32

/* a chat credential lives at most this long (and never past its session) */
#define NGX_GP_CHAT_TOKEN_TTL   3600


/* the chat id of the path (its second segment); 0: not a number */

static int64_t
ngx_gp_admin_chat_id(ngx_gp_admin_t *a)
{
    ngx_int_t  id;

    id = ngx_atoi(a->seg[1].data, a->seg[1].len);

    return (id == NGX_ERROR || id == 0) ? 0 : (int64_t) id;
}


/*
 * "messages": an array of {"role":"user"|"assistant","content":"text",
 * "reasoning"?:"text","attachments"?:[...]}; need: at least one.
 * NGX_DECLINED: the refusal sent (its rc in *sent)
 */

static ngx_int_t
ngx_gp_admin_chat_messages(ngx_gp_admin_t *a, json_t **out, ngx_uint_t need,
    ngx_int_t *sent)
{
    size_t       i;
    json_t      *list, *m, *v;
    const char  *role, *key;

    *out = NULL;
    list = a->body ? json_object_get(a->body, "messages") : NULL;

    if (list == NULL || json_is_null(list)) {
        if (need) {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "missing_field", "\"messages\" is "
                                       "required: an array of messages");
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (!json_is_array(list)
        || (need && json_array_size(list) == 0)
        || json_array_size(list) > NGX_GP_CHAT_MSGS_MAX)
    {
        *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                   "invalid_value", "\"messages\" must be an "
                                   "array of 1 to %d messages",
                                   NGX_GP_CHAT_MSGS_MAX);
        return NGX_DECLINED;
    }

    json_array_foreach(list, i, m) {

        if (!json_is_object(m)) {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_value", "messages[%d] must "
                                       "be an object", (int) i);
            return NGX_DECLINED;
        }

        role = json_string_value(json_object_get(m, "role"));

        if (role == NULL
            || (ngx_strcmp(role, "user") != 0
                && ngx_strcmp(role, "assistant") != 0))
        {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_value", "messages[%d].role "
                                       "must be \"user\" or \"assistant\"",
                                       (int) i);
            return NGX_DECLINED;
        }

        if (!json_is_string(json_object_get(m, "content"))) {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_value", "messages[%d].content "
                                       "must be a string", (int) i);
            return NGX_DECLINED;
        }

        v = json_object_get(m, "reasoning");

        if (v && !json_is_null(v) && !json_is_string(v)) {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_value", "messages[%d]."
                                       "reasoning must be a string", (int) i);
            return NGX_DECLINED;
        }

        v = json_object_get(m, "attachments");

        if (v && !json_is_null(v)
            && (!json_is_array(v)
                || json_array_size(v) > NGX_GP_CHAT_ATT_MAX))
        {
            *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_value", "messages[%d]."
                                       "attachments must be an array of at "
                                       "most %d items", (int) i,
                                       NGX_GP_CHAT_ATT_MAX);
            return NGX_DECLINED;
        }

        json_object_foreach(m, key, v) {
            if (ngx_strcmp(key, "role") != 0
                && ngx_strcmp(key, "content") != 0
                && ngx_strcmp(key, "reasoning") != 0
                && ngx_strcmp(key, "attachments") != 0)
            {
                *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_value", "messages[%d] "
                                           "has an unknown field \"%.40s\"",
                                           (int) i, key);
                return NGX_DECLINED;
            }
        }
    }

    *out = list;

    return NGX_OK;
}


/* "title" and "model": strings of a bounded length, or absent */

static ngx_int_t
ngx_gp_admin_chat_field(ngx_gp_admin_t *a, const char *name, size_t max,
    const char **out, ngx_int_t *sent)
{
    json_t  *v;

    *out = NULL;
    v = a->body ? json_object_get(a->body, name) : NULL;

    if (v == NULL || json_is_null(v)) {
        return NGX_OK;
    }

    if (!json_is_string(v) || json_string_length(v) > max) {
        *sent = ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                   "invalid_value", "\"%s\" must be a string "
                                   "of at most %d bytes", name, (int) max);
        return NGX_DECLINED;
    }

    *out = json_string_value(v);

    return NGX_OK;
}


/* GET /api/chats?q= */

ngx_int_t
ngx_gp_admin_chats(ngx_gp_admin_t *a)
{
    ngx_str_t  q;

    if (ngx_gp_admin_arg_text(a, "q", &q) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_list(a, ngx_gp_store_chats_list(NGX_GP_CHAT_ADMIN,
                                                       (char *) q.data,
                                                       a->r->connection->log),
                             "chats");
}


static ngx_int_t
ngx_gp_admin_chat_send(ngx_gp_admin_t *a, int64_t id, ngx_uint_t status)
{
    json_t     *chat;
    ngx_int_t   rc;

    rc = ngx_gp_store_chat_get(NGX_GP_CHAT_ADMIN, id, &chat,
                               a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_json(a->r, status, chat);
}


/* POST /api/chats {"title"?, "model"?, "messages"?} */

ngx_int_t
ngx_gp_admin_chat_add(ngx_gp_admin_t *a)
{
    int64_t      id;
    json_t      *msgs;
    ngx_int_t    rc;
    const char  *title, *model;

    if (a->body == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST, "invalid_json",
                                  "the body must be a JSON object");
    }

    if (ngx_gp_admin_chat_field(a, "title", NGX_GP_CHAT_TITLE_MAX, &title,
                                &rc) != NGX_OK
        || ngx_gp_admin_chat_field(a, "model", NGX_GP_CHAT_MODEL_MAX, &model,
                                   &rc) != NGX_OK
        || ngx_gp_admin_chat_messages(a, &msgs, 0, &rc) != NGX_OK)
    {
        return rc;
    }

    if (ngx_gp_store_chat_add(NGX_GP_CHAT_ADMIN, title, model, msgs, &id,
                              a->r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_chat_send(a, id, NGX_HTTP_CREATED);
}


/* GET /api/chats/<id> */

ngx_int_t
ngx_gp_admin_chat_item(ngx_gp_admin_t *a)
{
    int64_t  id;

    id = ngx_gp_admin_chat_id(a);

    if (id == 0) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    return ngx_gp_admin_chat_send(a, id, NGX_HTTP_OK);
}


/* PATCH /api/chats/<id> {"title"?, "model"?} */

ngx_int_t
ngx_gp_admin_chat_update(ngx_gp_admin_t *a)
{
    int64_t      id;
    ngx_int_t    rc;
    const char  *title, *model;

    id = ngx_gp_admin_chat_id(a);

    if (id == 0) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (ngx_gp_admin_chat_field(a, "title", NGX_GP_CHAT_TITLE_MAX, &title,
                                &rc) != NGX_OK
        || ngx_gp_admin_chat_field(a, "model", NGX_GP_CHAT_MODEL_MAX, &model,
                                   &rc) != NGX_OK)
    {
        return rc;
    }

    if (title == NULL && model == NULL) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                  "missing_field", "send \"title\" or "
                                  "\"model\"");
    }

    rc = ngx_gp_store_chat_update(NGX_GP_CHAT_ADMIN, id, title, model,
                                  a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_chat_send(a, id, NGX_HTTP_OK);
}


/* DELETE /api/chats/<id> */

ngx_int_t
ngx_gp_admin_chat_delete(ngx_gp_admin_t *a)
{
    int64_t    id;
    ngx_int_t  rc;

    id = ngx_gp_admin_chat_id(a);

    if (id == 0) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    rc = ngx_gp_store_chat_delete(NGX_GP_CHAT_ADMIN, id,
                                  a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_ok(a->r);
}


/* POST /api/chats/<id>/messages {"messages": [...]} */

ngx_int_t
ngx_gp_admin_chat_append(ngx_gp_admin_t *a)
{
    int64_t    id;
    json_t    *msgs;
    ngx_int_t  rc;

    id = ngx_gp_admin_chat_id(a);

    if (id == 0) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (ngx_gp_admin_chat_messages(a, &msgs, 1, &rc) != NGX_OK) {
        return rc;
    }

    rc = ngx_gp_store_chat_append(NGX_GP_CHAT_ADMIN, id, msgs,
                                  a->r->connection->log);

    if (rc == NGX_DECLINED) {
        return ngx_gp_admin_not_found(a, "chat");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gp_admin_chat_send(a, id, NGX_HTTP_OK);
}


/*
 * The admin session of the request (its id in id): the session cookie or
 * a session token in X-Admin-Token; the admin secret itself has no
 * session, and so no chat credential
 */

static ngx_int_t
ngx_gp_admin_chat_session(ngx_gp_admin_t *a, char *id)
{
    ngx_str_t            token, name;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = a->r;
    h = ngx_gp_header_in(r, "X-Admin-Token");

    if (h) {
        token = h->value;

    } else {
        ngx_str_set(&name, NGX_GP_COOKIE);

        if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                              &token)
            == NGX_DECLINED)
        {
            return NGX_DECLINED;
        }
    }

    return ngx_gp_admin_token_ok(r, &token, id) ? NGX_OK : NGX_DECLINED;
}


/*
 * POST /api/chats/token {"ttl"?: seconds}: a new chat credential for this
 * admin session (the session's earlier one stops working)
 */

ngx_int_t
ngx_gp_admin_chat_token(ngx_gp_admin_t *a)
{
    char       *key, *hash;
    int64_t     id, ttl;
    time_t      expires;
    ngx_int_t   rc, bad;
    char        session[40];

    if (ngx_gp_admin_chat_session(a, session) != NGX_OK) {
        return ngx_gp_admin_error(a->r, NGX_HTTP_FORBIDDEN, "no_session",
                                  "a chat credential belongs to a console "
                                  "session: log in first");
    }

    ttl = NGX_GP_CHAT_TOKEN_TTL;
    bad = 0;

    if (ngx_gp_admin_int(a, "ttl", &ttl, &bad) == NGX_OK || bad) {
        if (bad || ttl < 1 || ttl > NGX_GP_CHAT_TOKEN_TTL) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_BAD_REQUEST,
                                      "invalid_value", "\"ttl\" must be a "
                                      "number of seconds from 1 to %d",
                                      NGX_GP_CHAT_TOKEN_TTL);
        }
    }

    key = ngx_gp_api_key_new();
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = ngx_gp_sha256_hex(key, ngx_strlen(key));
    if (hash == NULL) {
        ngx_explicit_memzero(key, ngx_strlen(key));
        free(key);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    expires = ngx_time() + (time_t) ttl;

    rc = ngx_gp_store_chat_token_put(session, hash, key, &expires, &id,
                                     a->r->connection->log);
    free(hash);

    if (rc == NGX_OK && ngx_gp_admin_changed(a->r) != NGX_OK) {
        rc = NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_explicit_memzero(key, ngx_strlen(key));
        free(key);

        if (rc == NGX_DECLINED) {
            return ngx_gp_admin_error(a->r, NGX_HTTP_FORBIDDEN, "no_session",
                                      "the session has expired or was "
                                      "ended");
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_gp_admin_json(a->r, NGX_HTTP_CREATED,
                           json_pack("{s:s,s:I,s:I,s:I}", "token", key,
                                     "key_id", (json_int_t) id,
                                     "expires_at", (json_int_t) expires,
                                     "expires_in",
                                     (json_int_t) (expires - ngx_time())));

    ngx_explicit_memzero(key, ngx_strlen(key));
    free(key);

    return rc;
}
