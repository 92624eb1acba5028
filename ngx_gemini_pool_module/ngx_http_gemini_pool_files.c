
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Input media: the images and files of a chat turn (data: URLs, remote
 * URLs fetched behind the fetch guard, uploaded files), uploaded with
 * widgetAddContextFile into the session the turn uses; and /v1/files,
 * whose uploads live in an upstream session of one account, recorded
 * through the store (store_files.c) and found by a chat turn in the
 * zone's ring of uploads (filemap.c), never in SQLite.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_MAX_INPUTS      16
#define NGX_GP_MAX_HOPS        3
#define NGX_GP_FILE_ID_LEN     64
#define NGX_GP_MIME_LEN        64
#define NGX_GP_FILE_NAME_LEN   128


typedef struct {
    u_char                            *data;    /* to upload, malloc'ed */
    size_t                             len;
    char                               mime[NGX_GP_MIME_LEN];
    char                               name[NGX_GP_FILE_NAME_LEN];
    const char                        *url;     /* to fetch */
    char                               id[NGX_GP_FILE_ID_LEN];
    unsigned                           uploaded:1;
} ngx_gp_input_file_t;


struct ngx_gp_input_s {
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    ngx_gp_input_file_t                files[NGX_GP_MAX_INPUTS];
    ngx_uint_t                         nfiles;
    const char                        *ids[NGX_GP_MAX_INPUTS];

    /* fetching */
    ngx_uint_t                         fetch;
    size_t                             fetched;   /* bytes, all URLs */
    ngx_uint_t                         hops;
    char                              *location;  /* malloc'ed */
    ngx_gp_xfer_t                     *xfer;
    ngx_gp_input_done_pt               done;
    void                              *data;

    /* uploading: the next file */
    ngx_uint_t                         upload;

    /* a /v1/files upload lives in one account's session */
    int64_t                            account_id;
    u_char                             session[NGX_GP_SESSION_LEN];
    u_char                             pin_file[NGX_GP_FILE_ID_LEN];
};


/* POST /v1/files: upstream (account, JWT, session), widgetAddContextFile */
typedef struct {
    ngx_http_request_t                *r;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    ngx_gp_zone_t                     *zone;
    ngx_gp_key_t                       key;
    ngx_gp_upstream_t                  upstream;
    ngx_gp_account_copy_t              acct;
    ngx_gp_xfer_t                     *xfer;
    u_char                            *data;
    size_t                             len;
    char                               mime[NGX_GP_MIME_LEN];
    char                               filename[NGX_GP_FILE_NAME_LEN];
    char                               purpose[64];
} ngx_gp_upload_t;


/* a /v1/files request that met a lock, tried again on a timer */
typedef struct {
    ngx_http_request_t  *r;
    ngx_gp_key_t         key;
    ngx_str_t            id;
    ngx_uint_t           tries;
    ngx_event_t          ev;
} ngx_gp_files_wait_t;

#define NGX_GP_FILES_WAIT    10     /* ms between tries */
#define NGX_GP_FILES_TRIES   30     /* then the zone answers, or a 503 */


static void ngx_gp_input_cleanup(void *data);
static ngx_int_t ngx_gp_input_file_ref(ngx_gp_input_t *in,
    ngx_gp_input_file_t *f, const char *id, int64_t key_id,
    ngx_gp_oai_error_t *err);
static ngx_int_t ngx_gp_input_fetch(ngx_gp_input_t *in,
    ngx_gp_oai_error_t *err);
static void ngx_gp_input_fetch_done(ngx_gp_xfer_t *x);
static ngx_uint_t ngx_gp_type_ok(const char *mime);

static ngx_int_t ngx_gp_files_run(ngx_http_request_t *r, ngx_gp_key_t *k,
    ngx_str_t *id, ngx_uint_t last);
static void ngx_gp_files_wait_handler(ngx_event_t *ev);
static void ngx_gp_files_wait_cleanup(void *data);
static ngx_int_t ngx_gp_files_list(ngx_http_request_t *r, ngx_gp_key_t *k,
    ngx_uint_t last);
static ngx_int_t ngx_gp_files_get(ngx_http_request_t *r, ngx_gp_key_t *k,
    ngx_str_t *id, ngx_uint_t del, ngx_uint_t final);
static void ngx_gp_files_name(const ngx_gp_mpart_t *file, char *buf,
    size_t size);
static void ngx_gp_files_type(const ngx_gp_mpart_t *file, const char *name,
    char *mime, size_t size);
static void ngx_gp_files_body(ngx_http_request_t *r);
static void ngx_gp_upload_cleanup(void *data);
static void ngx_gp_upload_ready(ngx_gp_upstream_t *us);
static void ngx_gp_upload_no_upstream(ngx_gp_upstream_t *us,
    ngx_gp_failure_t *f);
static void ngx_gp_upload_file_done(ngx_gp_xfer_t *x);
static void ngx_gp_upload_fail(ngx_gp_upload_t *u, ngx_uint_t kind,
    const char *msg);
static void ngx_gp_upload_failed(ngx_gp_upload_t *u, ngx_gp_failure_t *f);


/* chat inputs */

ngx_int_t
ngx_gp_input_prepare(ngx_http_request_t *r, ngx_gp_chat_req_t *req,
    int64_t key_id, ngx_gp_input_t **inp, ngx_gp_input_done_pt done,
    void *data, ngx_gp_oai_error_t *err)
{
    size_t                i, last;
    u_char               *bytes;
    size_t                len;
    ngx_uint_t            fetch;
    ngx_gp_input_t       *in;
    ngx_gp_message_t     *m;
    ngx_pool_cleanup_t   *cln;
    ngx_gp_image_ref_t   *img;
    ngx_gp_input_file_t  *f;
    const char           *sniffed;

    *inp = NULL;

    /* the images of the turn sent: the last user message (spec §10) */

    for (last = req->nmessages; last > 0; last--) {
        if (req->messages[last - 1].role == NGX_GP_ROLE_USER) {
            break;
        }
    }

    if (last == 0 || req->messages[last - 1].nimages == 0) {
        return NGX_OK;
    }

    m = &req->messages[last - 1];

    if (m->nimages > NGX_GP_MAX_INPUTS) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "too_many_files",
                             "messages", "A message may carry at most %d "
                             "images or files; this one has %d",
                             NGX_GP_MAX_INPUTS, (int) m->nimages);
        return NGX_ERROR;
    }

    in = ngx_pcalloc(r->pool, sizeof(ngx_gp_input_t));
    if (in == NULL) {
        goto nomem;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        goto nomem;
    }

    cln->handler = ngx_gp_input_cleanup;
    cln->data = in;

    in->r = r;
    in->gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    in->done = done;
    in->data = data;
    *inp = in;

    fetch = 0;

    for (i = 0; i < m->nimages; i++) {
        img = &m->images[i];
        f = &in->files[in->nfiles++];

        switch (img->kind) {

        case NGX_GP_IMAGE_DATA:
            bytes = ngx_gp_base64_decode_any(img->data, img->data_len, &len);

            if (bytes == NULL || len == 0) {
                free(bytes);
                ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_request_error",
                                     "invalid_value", "messages",
                                     "Image %d of the last user message "
                                     "has no valid base64 data",
                                     (int) i + 1);
                return NGX_ERROR;
            }

            f->data = bytes;
            f->len = len;

            ngx_cpystrn((u_char *) f->mime,
                        (u_char *) (img->mime ? img->mime : "image/png"),
                        sizeof(f->mime));

            if (ngx_strcmp(f->mime, "application/octet-stream") == 0) {
                sniffed = ngx_gp_mime_sniff(bytes, len);

                if (sniffed) {
                    ngx_cpystrn((u_char *) f->mime, (u_char *) sniffed,
                                sizeof(f->mime));
                }
            }

            if (!ngx_gp_type_ok(f->mime)) {
                ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_request_error",
                                     "unsupported_file_type", "messages",
                                     "Unsupported file type %s in image %d "
                                     "of the last user message: send an "
                                     "image, a PDF or text", f->mime,
                                     (int) i + 1);
                return NGX_ERROR;
            }

            ngx_snprintf((u_char *) f->name, sizeof(f->name) - 1,
                         "inline_%08xD.%s%Z", (uint32_t) ngx_random(),
                         ngx_gp_mime_ext(f->mime));
            break;

        case NGX_GP_IMAGE_URL:
            f->url = img->url;
            fetch = 1;
            break;

        default: /* NGX_GP_IMAGE_FILE */
            if (ngx_gp_input_file_ref(in, f, img->file_id, key_id, err)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            break;
        }
    }

    if (!fetch) {
        return NGX_OK;
    }

    in->fetch = 0;

    if (ngx_gp_input_fetch(in, err) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "server_error", "internal_error", NULL,
                         "out of memory");
    return NGX_ERROR;
}


static void
ngx_gp_input_cleanup(void *data)
{
    ngx_gp_input_t  *in = data;

    ngx_uint_t  i;

    if (in->xfer) {
        ngx_gp_xfer_destroy(in->xfer);
        in->xfer = NULL;
    }

    for (i = 0; i < in->nfiles; i++) {
        free(in->files[i].data);
        in->files[i].data = NULL;
    }

    free(in->location);
    in->location = NULL;
}


/* the media types the gateway passes on: images, PDF, text */

static ngx_uint_t
ngx_gp_type_ok(const char *mime)
{
    return ngx_strncmp(mime, "image/", 6) == 0
           || ngx_strncmp(mime, "text/", 5) == 0
           || ngx_strcmp(mime, "application/pdf") == 0;
}


/*
 * A {"type":"file"} part: a numeric id is an upstream file id (spec §10,
 * passed through); "file-..." is one of our uploads, which binds the turn
 * to the account and session the file lives in.
 */

static ngx_int_t
ngx_gp_input_file_ref(ngx_gp_input_t *in, ngx_gp_input_file_t *f,
    const char *id, int64_t key_id, ngx_gp_oai_error_t *err)
{
    size_t                   len;
    ngx_uint_t               digits;
    const char              *p;
    ngx_gp_filemap_entry_t   e;

    len = ngx_strlen(id);

    for (digits = (len > 0), p = id; *p; p++) {
        if (*p < '0' || *p > '9') {
            digits = 0;
            break;
        }
    }

    if (digits && len < NGX_GP_FILE_ID_LEN) {
        ngx_memcpy(f->id, id, len + 1);
        return NGX_OK;
    }

    /* the zone's ring of uploads: the chat path never reads SQLite */

    if (ngx_gp_filemap_get(ngx_gp_zone(), id, key_id, &e) != NGX_OK) {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "file_not_found",
                             "messages", "No such file: %.64s (upload it "
                             "with POST /v1/files, or pass an upstream "
                             "file id)", id);
        return NGX_ERROR;
    }

    if (in->account_id
        && (in->account_id != e.account_id
            || ngx_strcmp(in->session, e.session) != 0))
    {
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "file_conflict",
                             "messages", "The files %s and %.64s were "
                             "uploaded into different upstream sessions "
                             "and cannot be used in one message",
                             in->pin_file, id);
        return NGX_ERROR;
    }

    ngx_cpystrn((u_char *) f->id, e.upstream, sizeof(f->id));
    ngx_cpystrn(in->session, e.session, NGX_GP_SESSION_LEN);
    ngx_cpystrn(in->pin_file, (u_char *) id, NGX_GP_FILE_ID_LEN);
    in->account_id = e.account_id;

    return NGX_OK;
}


/* the next remote URL (or the redirect of the current one) */

static ngx_int_t
ngx_gp_input_fetch(ngx_gp_input_t *in, ngx_gp_oai_error_t *err)
{
    const char           *url;
    ngx_gp_xfer_t        *x;
    ngx_gp_input_file_t  *f;

    while (in->fetch < in->nfiles && in->files[in->fetch].url == NULL) {
        in->fetch++;
    }

    if (in->fetch == in->nfiles) {
        return NGX_DONE;
    }

    f = &in->files[in->fetch];
    url = in->location ? in->location : f->url;

    x = ngx_gp_xfer_create(in->r->connection->log, "image fetch");
    if (x == NULL) {
        goto nomem;
    }

    in->xfer = x;
    x->guard = 1;
    x->on_done = ngx_gp_input_fetch_done;
    x->data = in;
    /* gemini_pool_fetch_max_size holds for all the URLs of a request */
    x->max = in->gmcf->fetch_max_size - ngx_min(in->fetched,
                                                 in->gmcf->fetch_max_size);

    /*
     * A connection of its own, never reused: a pooled connection was
     * judged (or not) for another host, and curl asks no open-socket
     * callback when it reuses one.
     */
    curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);

    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                     (long) in->gmcf->fetch_timeout);
    curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t) x->max);
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_IMAGES, NULL);

    /* the host: allowed by name, or judged by the address connected */

    switch (ngx_gp_fetch_host(x, url)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s was refused: "
                             "%s (gemini_pool_fetch_allow can permit it)",
                             url, x->refused);
        return NGX_ERROR;

    case NGX_ERROR:
        ngx_gp_oai_error_set(err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s is not a "
                             "valid URL", url);
        return NGX_ERROR;

    default:
        goto nomem;
    }

    if (ngx_gp_xfer_header(x, "accept: image/*, application/pdf;q=0.9, "
                           "*/*;q=0.5") != NGX_OK
        || ngx_gp_xfer_header(x, "user-agent: ngx_gemini_pool/"
                              NGX_GP_VERSION) != NGX_OK
        || ngx_gp_xfer_start(x) != NGX_OK)
    {
        goto nomem;
    }

    return NGX_OK;

nomem:

    ngx_gp_oai_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "server_error", "internal_error", NULL,
                         "cannot start the image fetch");
    return NGX_ERROR;
}


static void
ngx_gp_input_fetch_done(ngx_gp_xfer_t *x)
{
    char                 *ctype, *loc;
    size_t                n;
    ngx_int_t             rc;
    const char           *url, *sniffed;
    ngx_gp_input_t       *in = x->data;
    ngx_gp_oai_error_t    err;
    ngx_gp_input_file_t  *f;
    char                  mime[NGX_GP_MIME_LEN];
    u_char                reason[256];

    f = &in->files[in->fetch];
    url = in->location ? in->location : f->url;

    if (x->refused) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s was "
                             "refused: %s (gemini_pool_fetch_allow can "
                             "permit it)", url, x->refused);
        goto failed;
    }

    if (x->overflow || x->result == CURLE_FILESIZE_EXCEEDED) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "image_too_large",
                             "messages", "The image at %.200s is larger "
                             "than gemini_pool_fetch_max_size (%zu bytes "
                             "for all the image URLs of a request)",
                             url, in->gmcf->fetch_max_size);
        goto failed;
    }

    if (x->result == CURLE_OPERATION_TIMEDOUT) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s did not "
                             "answer within gemini_pool_fetch_timeout "
                             "(%lu ms)", url,
                             (unsigned long) in->gmcf->fetch_timeout);
        goto failed;
    }

    if (x->result != CURLE_OK) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s could not "
                             "be fetched: %s", url,
                             ngx_gp_xfer_describe(x, reason,
                                                  sizeof(reason)));
        goto failed;
    }

    if (x->status >= 300 && x->status < 400) {
        loc = NULL;
        (void) curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);

        if (loc == NULL || ++in->hops > NGX_GP_MAX_HOPS
            || (ngx_strncasecmp((u_char *) loc, (u_char *) "http://", 7)
                != 0
                && ngx_strncasecmp((u_char *) loc, (u_char *) "https://", 8)
                   != 0))
        {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error",
                                 "invalid_image_url", "messages",
                                 "The image URL %.200s redirects %s", url,
                                 loc == NULL ? "nowhere"
                                 : in->hops > NGX_GP_MAX_HOPS
                                   ? "too often" : "to a non-HTTP URL");
            goto failed;
        }

        loc = strdup(loc);

        ngx_gp_xfer_destroy(x);
        in->xfer = NULL;
        free(in->location);
        in->location = loc;

        if (loc == NULL) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "server_error", "internal_error", NULL,
                                 "out of memory");
            in->done(in->data, &err);
            return;
        }

        goto next;
    }

    if (x->status != 200) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s answered "
                             "HTTP %ld", url, x->status);
        goto failed;
    }

    if (x->len == 0) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_image_url",
                             "messages", "The image URL %.200s answered "
                             "with an empty body", url);
        goto failed;
    }

    /* the type: the bytes say it when they are a known format */

    ctype = NULL;
    (void) curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);

    n = ctype ? ngx_gp_mime_bare(ctype, ngx_strlen(ctype), mime,
                                 sizeof(mime))
              : 0;
    if (n == 0) {
        ngx_cpystrn((u_char *) mime, (u_char *) "application/octet-stream",
                    sizeof(mime));
    }

    sniffed = ngx_gp_mime_sniff(x->buf, x->len);

    if (sniffed
        && (ngx_strncmp(mime, "image/", 6) == 0
            || ngx_strcmp(mime, "application/octet-stream") == 0
            || ngx_strcmp(mime, "binary/octet-stream") == 0
            || ngx_strcmp(mime, "application/pdf") == 0))
    {
        ngx_cpystrn((u_char *) f->mime, (u_char *) sniffed,
                    sizeof(f->mime));

    } else if (ngx_strncmp(mime, "image/", 6) == 0
               || ngx_strcmp(mime, "application/pdf") == 0)
    {
        ngx_cpystrn((u_char *) f->mime, (u_char *) mime, sizeof(f->mime));

    } else {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             "unsupported_file_type", "messages",
                             "The image URL %.200s returned %s, not an "
                             "image", url, mime);
        goto failed;
    }

    f->data = x->buf;
    f->len = x->len;
    in->fetched += x->len;
    x->buf = NULL;
    x->len = 0;

    ngx_snprintf((u_char *) f->name, sizeof(f->name) - 1, "url_%08xD.%s%Z",
                 (uint32_t) ngx_random(), ngx_gp_mime_ext(f->mime));

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, in->r->connection->log, 0,
                   "gemini pool: fetched %s: %s, %uz bytes", url, f->mime,
                   f->len);

    ngx_gp_xfer_destroy(x);
    in->xfer = NULL;
    free(in->location);
    in->location = NULL;
    in->hops = 0;
    in->fetch++;

next:

    rc = ngx_gp_input_fetch(in, &err);

    if (rc == NGX_OK) {
        return;
    }

    in->done(in->data, rc == NGX_DONE ? NULL : &err);
    return;

failed:

    ngx_log_error(NGX_LOG_INFO, in->r->connection->log, 0,
                  "gemini pool: %s", err.message);

    ngx_gp_xfer_destroy(x);
    in->xfer = NULL;

    in->done(in->data, &err);
}


/* the account and session a /v1/files upload binds the turn to; 0 none */

int64_t
ngx_gp_input_account(ngx_gp_input_t *in, u_char **session)
{
    if (in == NULL || in->account_id == 0) {
        return 0;
    }

    *session = in->session;

    return in->account_id;
}


/* a new attempt (a new session): every file is uploaded again */

void
ngx_gp_input_restart(ngx_gp_input_t *in)
{
    ngx_uint_t  i;

    if (in == NULL) {
        return;
    }

    for (i = 0; i < in->nfiles; i++) {
        if (in->files[i].data) {
            in->files[i].uploaded = 0;
            in->files[i].id[0] = '\0';
        }
    }

    in->upload = 0;
}


/*
 * The widgetAddContextFile transfer of the next file to upload into
 * session (not started); NULL on failure.  Call it while
 * ngx_gp_input_pending() says a file waits.
 */

ngx_gp_xfer_t *
ngx_gp_input_upload(ngx_gp_input_t *in, ngx_gp_account_copy_t *a,
    const char *session, ngx_log_t *log)
{
    char                 *body;
    size_t                len;
    ngx_gp_xfer_t        *x;
    ngx_gp_input_file_t  *f;

    if (in == NULL) {
        return NULL;
    }

    while (in->upload < in->nfiles
           && (in->files[in->upload].data == NULL
               || in->files[in->upload].uploaded))
    {
        in->upload++;
    }

    if (in->upload == in->nfiles) {
        return NULL;
    }

    f = &in->files[in->upload];

    body = ngx_gp_body_add_context_file((char *) a->team_id, session,
                                        f->name, f->mime, f->data, f->len,
                                        &len);
    if (body == NULL) {
        return NULL;
    }

    x = ngx_gp_gemini_widget(in->gmcf, a, "widgetAddContextFile", body, len,
                             in->gmcf->upload_timeout, log);
    if (x == NULL) {
        return NULL;
    }

    x->max = 64 * 1024;

    return x;
}


/* 1: a file is waiting for its upload */

ngx_uint_t
ngx_gp_input_pending(ngx_gp_input_t *in)
{
    ngx_uint_t  i;

    if (in == NULL) {
        return 0;
    }

    for (i = in->upload; i < in->nfiles; i++) {
        if (in->files[i].data && !in->files[i].uploaded) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_gp_input_uploaded(ngx_gp_input_t *in, ngx_gp_xfer_t *x)
{
    char                 *id;
    ngx_gp_input_file_t  *f;

    f = &in->files[in->upload];

    id = ngx_gp_file_id_parse((char *) x->buf, x->len);

    if (id == NULL || ngx_strlen(id) >= NGX_GP_FILE_ID_LEN) {
        free(id);
        return NGX_ERROR;
    }

    ngx_memcpy(f->id, id, ngx_strlen(id) + 1);
    free(id);

    f->uploaded = 1;
    in->upload++;

    return NGX_OK;
}


/* streamAssistRequest.fileIds: every file of the turn, in order */

const char **
ngx_gp_input_ids(ngx_gp_input_t *in, size_t *n)
{
    ngx_uint_t  i;

    *n = 0;

    if (in == NULL) {
        return NULL;
    }

    for (i = 0; i < in->nfiles; i++) {
        if (in->files[i].id[0]) {
            in->ids[(*n)++] = in->files[i].id;
        }
    }

    return in->ids;
}


/* /v1/files */

static u_char *
ngx_gp_files_object(u_char *p, u_char *last, ngx_gp_store_file_t *f)
{
    p = ngx_slprintf(p, last, "{\"id\":\"");
    p = (u_char *) ngx_escape_json(p, (u_char *) f->id, ngx_strlen(f->id));
    p = ngx_slprintf(p, last, "\",\"object\":\"file\",\"bytes\":%L,"
                     "\"created_at\":%L,\"filename\":\"",
                     f->bytes, f->created_at);
    p = (u_char *) ngx_escape_json(p, (u_char *) f->filename,
                                   ngx_strlen(f->filename));
    p = ngx_slprintf(p, last, "\",\"purpose\":\"");
    p = (u_char *) ngx_escape_json(p, (u_char *) f->purpose,
                                   ngx_strlen(f->purpose));
    p = ngx_slprintf(p, last, "\",\"status\":\"processed\","
                     "\"status_details\":null}");

    return p;
}


/* room for one file object: escaping may grow a byte six-fold */

#define NGX_GP_FILE_JSON  (256 + 6 * (NGX_GP_FILE_ID_LEN                     \
                                      + NGX_GP_FILE_NAME_LEN + 64))


ngx_int_t
ngx_gp_files_handler(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_int_t             rc;
    ngx_gp_key_t          key;
    ngx_pool_cleanup_t   *cln;
    ngx_gp_oai_error_t    err;
    ngx_gp_files_wait_t  *w;

    if (r->method == NGX_HTTP_POST && id->len == 0) {
        rc = ngx_http_read_client_request_body(r, ngx_gp_files_body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD | NGX_HTTP_DELETE))
        || (r->method == NGX_HTTP_DELETE && id->len == 0))
    {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                             "invalid_request_error", "method_not_allowed",
                             NULL, "use POST or GET for /v1/files, GET or "
                             "DELETE for /v1/files/{file_id}");
        return ngx_gp_send_error(r, &err);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_gp_api_key(r, NULL, &key, &rc) != NGX_OK) {
        return rc;
    }

    rc = ngx_gp_files_run(r, &key, id, 0);

    if (rc != NGX_BUSY) {
        return rc;
    }

    /*
     * another process holds a lock on the database (often only for the
     * moment of the helper's commit): the request tries again on a timer,
     * never blocking the worker, and after NGX_GP_FILES_TRIES the zone's
     * ring answers (or a 503)
     */

    w = ngx_pcalloc(r->pool, sizeof(ngx_gp_files_wait_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (w == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->r = r;
    w->key = key;
    w->id = *id;
    w->ev.handler = ngx_gp_files_wait_handler;
    w->ev.data = w;
    w->ev.log = r->connection->log;

    cln->handler = ngx_gp_files_wait_cleanup;
    cln->data = w;

    ngx_add_timer(&w->ev, NGX_GP_FILES_WAIT);
    r->main->count++;

    return NGX_DONE;
}


static ngx_int_t
ngx_gp_files_run(ngx_http_request_t *r, ngx_gp_key_t *k, ngx_str_t *id,
    ngx_uint_t last)
{
    if (id->len == 0) {
        return ngx_gp_files_list(r, k, last);
    }

    return ngx_gp_files_get(r, k, id, r->method == NGX_HTTP_DELETE, last);
}


static void
ngx_gp_files_wait_handler(ngx_event_t *ev)
{
    ngx_int_t             rc;
    ngx_gp_files_wait_t  *w = ev->data;

    w->tries++;

    rc = ngx_gp_files_run(w->r, &w->key, &w->id,
                          w->tries >= NGX_GP_FILES_TRIES);

    if (rc == NGX_BUSY) {
        ngx_add_timer(&w->ev, NGX_GP_FILES_WAIT);
        return;
    }

    ngx_http_finalize_request(w->r, rc);
}


static void
ngx_gp_files_wait_cleanup(void *data)
{
    ngx_gp_files_wait_t  *w = data;

    if (w->ev.timer_set) {
        ngx_del_timer(&w->ev);
    }
}


typedef struct {
    ngx_pool_t      *pool;
    u_char          *start;
    u_char          *p;
    u_char          *last;
    ngx_uint_t       n;
} ngx_gp_files_out_t;


static ngx_int_t
ngx_gp_files_row(void *data, ngx_gp_store_file_t *f)
{
    size_t               size;
    u_char              *np;
    ngx_gp_files_out_t  *o = data;

    if ((size_t) (o->last - o->p) < NGX_GP_FILE_JSON + 64) {
        /* grow: the list has no fixed bound */
        size = 2 * (o->last - o->start);
        np = ngx_pnalloc(o->pool, size);
        if (np == NULL) {
            return NGX_ERROR;
        }

        o->p = ngx_cpymem(np, o->start, o->p - o->start);
        o->start = np;
        o->last = np + size;
    }

    if (o->n++) {
        *o->p++ = ',';
    }

    o->p = ngx_gp_files_object(o->p, o->last, f);

    return NGX_OK;
}


static ngx_int_t
ngx_gp_files_list(ngx_http_request_t *r, ngx_gp_key_t *k, ngx_uint_t last)
{
    size_t              size;
    ngx_int_t           rc;
    ngx_str_t           purpose;
    ngx_gp_files_out_t  o;

    if (ngx_http_arg(r, (u_char *) "purpose", 7, &purpose) != NGX_OK) {
        ngx_str_set(&purpose, "");
    }

    size = 64 + 16 * NGX_GP_FILE_JSON;

    o.pool = r->pool;
    o.n = 0;
    o.start = ngx_pnalloc(r->pool, size);
    if (o.start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o.last = o.start + size;
    o.p = ngx_slprintf(o.start, o.last, "{\"object\":\"list\",\"data\":[");

    rc = ngx_gp_store_files_list(k->id, &purpose, ngx_gp_files_row, &o,
                                 r->connection->log);

    if (rc == NGX_BUSY && !last) {
        return NGX_BUSY;
    }

    if (rc == NGX_BUSY) {
        /* the database is locked: the uploads in the zone's ring */
        o.n = 0;
        o.p = ngx_slprintf(o.start, o.last, "{\"object\":\"list\","
                           "\"data\":[");

        rc = ngx_gp_store_files_list_zone(k->id, &purpose, ngx_gp_files_row,
                                          &o, r->connection->log);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o.p = ngx_slprintf(o.p, o.last, "],\"has_more\":false}");

    return ngx_gp_send_json(r, NGX_HTTP_OK, o.start, o.p - o.start);
}


/* another process holds a lock on the database, and the zone cannot say */

static ngx_int_t
ngx_gp_files_busy(ngx_http_request_t *r)
{
    ngx_gp_oai_error_t  err;

    ngx_gp_oai_error_set(&err, NGX_HTTP_SERVICE_UNAVAILABLE, "server_error",
                         "database_busy", NULL, "The file store is locked "
                         "by another process; try again shortly.");
    ngx_gp_retry_after(r, 1);

    return ngx_gp_send_error(r, &err);
}


static ngx_int_t
ngx_gp_files_get(ngx_http_request_t *r, ngx_gp_key_t *k, ngx_str_t *id,
    ngx_uint_t del, ngx_uint_t final)
{
    u_char              *p, *last, *start;
    ngx_int_t            rc;
    ngx_gp_files_out_t   o;
    ngx_gp_oai_error_t   err;

    start = ngx_pnalloc(r->pool, NGX_GP_FILE_JSON + 64);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = start + NGX_GP_FILE_JSON + 64;

    o.pool = r->pool;
    o.n = 0;
    o.start = start;
    o.p = start;
    o.last = last;

    rc = ngx_gp_store_file_get(k->id, id, final, ngx_gp_files_row, &o,
                               r->connection->log);

    if (rc == NGX_BUSY) {
        return final ? ngx_gp_files_busy(r) : NGX_BUSY;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_FOUND,
                             "invalid_request_error", "file_not_found",
                             "file_id", "No such File object: %.*s",
                             (int) ngx_min(id->len, 64), id->data);
        return ngx_gp_send_error(r, &err);
    }

    if (!del) {
        return ngx_gp_send_json(r, NGX_HTTP_OK, o.start, o.p - o.start);
    }

    /* the upstream has no delete: the mapping goes, the file expires */

    rc = ngx_gp_store_file_delete(k->id, id, r->connection->log);

    if (rc == NGX_BUSY) {
        return final ? ngx_gp_files_busy(r) : NGX_BUSY;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_slprintf(start, last, "{\"id\":\"");
    p = (u_char *) ngx_escape_json(p, id->data, ngx_min(id->len, 64));
    p = ngx_slprintf(p, last, "\",\"object\":\"file\",\"deleted\":true}");

    return ngx_gp_send_json(r, NGX_HTTP_OK, start, p - start);
}


/*
 * The name of an upload: the last path component of the part's file
 * name, without controls and quotes, invalid UTF-8 as '_'; "upload".
 */

static void
ngx_gp_files_name(const ngx_gp_mpart_t *file, char *buf, size_t size)
{
    u_char      *p, *s, *e, *q;
    uint32_t     ch;

    p = (u_char *) buf;

    if (file->filename) {
        s = (u_char *) file->filename;
        e = s + file->filename_len;

        for (q = s; q < e; q++) {
            if (*q == '/' || *q == '\\') {
                s = q + 1;
            }
        }

        while (s < e && p + 4 < (u_char *) buf + size) {

            if (*s < 0x80) {
                if (*s >= 0x20 && *s != '"' && *s != 0x7f) {
                    *p++ = *s;
                }

                s++;
                continue;
            }

            q = s;
            ch = ngx_utf8_decode(&q, e - s);

            if (ch > 0x10ffff) {
                *p++ = '_';
                s++;
                continue;
            }

            p = ngx_cpymem(p, s, q - s);
            s = q;
        }
    }

    if (p == (u_char *) buf) {
        p = ngx_cpymem(p, "upload", sizeof("upload") - 1);
    }

    *p = '\0';
}


/* the type of an upload: the part's own, else its bytes', else .txt/.md */

static void
ngx_gp_files_type(const ngx_gp_mpart_t *file, const char *name, char *mime,
    size_t size)
{
    char         ext[8];
    const char  *sniffed, *dot;

    if (file->type == NULL
        || ngx_gp_mime_bare(file->type, file->type_len, mime, size) == 0)
    {
        ngx_cpystrn((u_char *) mime, (u_char *) "application/octet-stream",
                    size);
    }

    if (ngx_strcmp(mime, "application/octet-stream") != 0) {
        return;
    }

    sniffed = ngx_gp_mime_sniff((u_char *) file->data, file->len);

    if (sniffed) {
        ngx_cpystrn((u_char *) mime, (u_char *) sniffed, size);
        return;
    }

    dot = strrchr(name, '.');

    if (dot && ngx_strlen(dot + 1) < sizeof(ext)) {
        ngx_strlow((u_char *) ext, (u_char *) dot + 1,
                   ngx_strlen(dot + 1) + 1);

        if (ngx_strcmp(ext, "txt") == 0 || ngx_strcmp(ext, "md") == 0) {
            ngx_cpystrn((u_char *) mime, (u_char *) "text/plain", size);
        }
    }
}


/*
 * A text field echoed in JSON answers and kept in SQLite: UTF-8 without
 * control characters (ngx_escape_json() passes bytes through)
 */

static ngx_uint_t
ngx_gp_files_text(const char *p, size_t len)
{
    size_t  i, k;

    for (i = 0; i < len; i += k) {
        if ((u_char) p[i] < 0x20 || p[i] == 0x7f) {
            return 0;
        }

        k = ngx_gp_utf8_seq((const u_char *) p + i, len - i);
        if (k == 0) {
            return 0;
        }
    }

    return 1;
}


static void
ngx_gp_files_body(ngx_http_request_t *r)
{
    size_t                  n;
    ngx_int_t               rc;
    ngx_str_t               body;
    ngx_table_elt_t        *ct;
    ngx_gp_upload_t        *u;
    const char             *reason;
    ngx_pool_cleanup_t     *cln;
    ngx_gp_oai_error_t      err;
    const ngx_gp_mpart_t   *file, *purpose;
    ngx_gp_mpart_t          parts[16];

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_gp_upload_t));
    if (u == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->r = r;
    u->gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);
    u->zone = ngx_gp_zone();

    if (ngx_gp_api_key(r, NULL, &u->key, &rc) != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ngx_gp_multipart_parse((char *) ct->value.data, ct->value.len,
                                  (char *) body.data, body.len, parts,
                                  sizeof(parts) / sizeof(parts[0]), &n,
                                  &reason) != 0)
    {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_value",
                             NULL, "POST /v1/files takes a "
                             "multipart/form-data body with a \"file\" "
                             "and a \"purpose\": %s",
                             ct ? reason : "no Content-Type");
        ngx_http_finalize_request(r, ngx_gp_send_error(r, &err));
        return;
    }

    file = ngx_gp_multipart_get(parts, n, "file");
    purpose = ngx_gp_multipart_get(parts, n, "purpose");

    if (file == NULL || file->len == 0) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             file ? "invalid_value"
                                  : "missing_required_parameter",
                             "file", file ? "The file is empty"
                                          : "Missing required parameter: "
                                            "'file'.");
        ngx_http_finalize_request(r, ngx_gp_send_error(r, &err));
        return;
    }

    if (purpose && (purpose->len == 0 || purpose->len >= sizeof(u->purpose)
                    || !ngx_gp_files_text(purpose->data, purpose->len)))
    {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_value",
                             "purpose", "Invalid value for 'purpose'.");
        ngx_http_finalize_request(r, ngx_gp_send_error(r, &err));
        return;
    }

    if (purpose) {
        ngx_memcpy(u->purpose, purpose->data, purpose->len);

    } else {
        ngx_cpystrn((u_char *) u->purpose, (u_char *) "user_data",
                    sizeof(u->purpose));
    }

    ngx_gp_files_name(file, u->filename, sizeof(u->filename));
    ngx_gp_files_type(file, u->filename, u->mime, sizeof(u->mime));

    if (!ngx_gp_type_ok(u->mime)) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             "unsupported_file_type", "file",
                             "Unsupported file type %s: upload an image, "
                             "a PDF or text", u->mime);
        ngx_http_finalize_request(r, ngx_gp_send_error(r, &err));
        return;
    }

    u->data = (u_char *) file->data;
    u->len = file->len;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_gp_upload_cleanup;
    cln->data = u;

    /* a reload waits for this upload (released by the cleanup) */
    ngx_gp_hold_worker();

    u->upstream.data = u;
    u->upstream.ready = ngx_gp_upload_ready;
    u->upstream.fail = ngx_gp_upload_no_upstream;
    u->upstream.log = r->connection->log;
    u->upstream.zone = u->zone;
    u->upstream.mode = NGX_GP_UPSTREAM_SESSION;
    u->upstream.quota = NGX_GP_QUOTA_TEXT;
    u->upstream.only = -1;
    u->upstream.what = "file upload";
    u->upstream.acct = &u->acct;

    u->upstream.max_attempts = ngx_gp_setting_int(u->zone,
                                                  NGX_GP_SET_MAX_ATTEMPTS);

    ngx_shmtx_lock(&u->zone->shpool->mutex);
    u->upstream.max_attempts = ngx_min(u->upstream.max_attempts,
                                       u->zone->sh->naccounts);
    ngx_shmtx_unlock(&u->zone->shpool->mutex);

    if (u->upstream.max_attempts == 0) {
        u->upstream.max_attempts = 1;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_gp_upstream_start(&u->upstream);
}


static void
ngx_gp_upload_cleanup(void *data)
{
    ngx_gp_upload_t  *u = data;

    if (u->xfer) {
        ngx_gp_xfer_destroy(u->xfer);
        u->xfer = NULL;
    }

    ngx_gp_upstream_finalize(&u->upstream);

    ngx_gp_release_worker();
}


/* an account, its JWT and a new session: the file goes into it */

static void
ngx_gp_upload_ready(ngx_gp_upstream_t *us)
{
    char             *body;
    size_t            len;
    ngx_gp_xfer_t    *x;
    ngx_gp_upload_t  *u = us->data;

    ngx_gp_upstream_action(us, "uploading a file");

    body = ngx_gp_body_add_context_file((char *) u->acct.team_id,
                                        us->session, u->filename, u->mime,
                                        u->data, u->len, &len);
    if (body == NULL) {
        ngx_gp_upload_fail(u, NGX_GP_FAIL_INTERNAL, "out of memory");
        return;
    }

    x = ngx_gp_gemini_widget(u->gmcf, &u->acct, "widgetAddContextFile",
                             body, len, u->gmcf->upload_timeout,
                             u->r->connection->log);
    if (x) {
        x->on_done = ngx_gp_upload_file_done;
        x->data = u;
        x->max = 64 * 1024;
        u->xfer = x;

        if (ngx_gp_xfer_start(x) == NGX_OK) {
            return;
        }
    }

    ngx_gp_upload_fail(u, NGX_GP_FAIL_INTERNAL,
                       "cannot start widgetAddContextFile");
}


/* no account, or no JWT or session on the account chosen */

static void
ngx_gp_upload_no_upstream(ngx_gp_upstream_t *us, ngx_gp_failure_t *f)
{
    ngx_gp_upload_t     *u = us->data;
    ngx_gp_oai_error_t   err;

    if (f->kind == NGX_GP_FAIL_NONE) {
        ngx_gp_upstream_action(us, NULL);
        ngx_gp_upstream_error(f, NULL, &err);

        if (f->retry_after) {
            ngx_gp_retry_after(u->r, f->retry_after);
        }

        ngx_http_finalize_request(u->r, ngx_gp_send_error(u->r, &err));
        return;
    }

    ngx_gp_upload_failed(u, f);
}


static void
ngx_gp_upload_file_done(ngx_gp_xfer_t *x)
{
    char                *upstream, *id, *sha;
    u_char              *p;
    time_t               now;
    ngx_int_t            rc;
    ngx_gp_upload_t     *u = x->data;
    ngx_gp_failure_t     f;
    ngx_http_request_t  *r;
    u_char               fid[NGX_GP_FILE_ID_LEN];
    u_char               json[NGX_GP_FILE_JSON];

    r = u->r;

    if (ngx_gp_upstream_classify(x, &f) != NGX_GP_FAIL_NONE) {
        ngx_gp_upload_failed(u, &f);
        return;
    }

    ngx_gp_upstream_action(&u->upstream, NULL);

    upstream = ngx_gp_file_id_parse((char *) x->buf, x->len);

    ngx_gp_xfer_destroy(x);
    u->xfer = NULL;

    if (upstream == NULL) {
        f.kind = NGX_GP_FAIL_SERVER;
        f.status = 200;
        f.retry_after = 0;
        ngx_cpystrn((u_char *) f.msg, (u_char *) "widgetAddContextFile "
                    "answered without a fileId", sizeof(f.msg));
        ngx_gp_upload_failed(u, &f);
        return;
    }

    id = ngx_gp_random_hex(12);
    sha = ngx_gp_sha256_hex(u->data, u->len);
    now = ngx_time();
    rc = NGX_ERROR;

    if (id && sha) {
        (void) ngx_sprintf(fid, "file-%s%Z", id);

        rc = ngx_gp_store_file_add((char *) fid, upstream, u->acct.id,
                                   u->upstream.session, u->filename, u->mime,
                                   u->len, u->purpose, u->key.id, sha, now,
                                   r->connection->log);
    }

    free(upstream);
    free(sha);

    if (rc != NGX_OK) {
        free(id);
        ngx_gp_upload_fail(u, NGX_GP_FAIL_INTERNAL,
                           "the file could not be stored");
        return;
    }

    ngx_gp_upstream_release(&u->upstream, 1, NULL);

    p = ngx_slprintf(json, json + sizeof(json), "{\"id\":\"file-%s\","
                     "\"object\":\"file\",\"bytes\":%uz,\"created_at\":%T,"
                     "\"filename\":\"", id, u->len, now);
    p = (u_char *) ngx_escape_json(p, (u_char *) u->filename,
                                   ngx_strlen(u->filename));
    p = ngx_slprintf(p, json + sizeof(json), "\",\"purpose\":\"");
    p = (u_char *) ngx_escape_json(p, (u_char *) u->purpose,
                                   ngx_strlen(u->purpose));
    p = ngx_slprintf(p, json + sizeof(json), "\",\"status\":\"processed\","
                     "\"status_details\":null}");

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "gemini pool: file file-%s (%s, %uz bytes) uploaded to "
                  "account \"%s\"", id, u->mime, u->len, u->acct.name);

    free(id);

    ngx_http_finalize_request(r, ngx_gp_send_json(r, NGX_HTTP_OK, json,
                                                  p - json));
}


static void
ngx_gp_upload_fail(ngx_gp_upload_t *u, ngx_uint_t kind, const char *msg)
{
    ngx_gp_failure_t  f;

    f.kind = kind;
    f.status = 0;
    f.retry_after = 0;
    ngx_cpystrn((u_char *) f.msg, (u_char *) msg, sizeof(f.msg));

    ngx_gp_upload_failed(u, &f);
}


static void
ngx_gp_upload_failed(ngx_gp_upload_t *u, ngx_gp_failure_t *f)
{
    ngx_gp_verdict_t     v;
    ngx_gp_oai_error_t   err;

    if (u->xfer) {
        ngx_gp_xfer_destroy(u->xfer);
        u->xfer = NULL;
    }

    if (ngx_gp_upstream_next(&u->upstream, f, 1, &v)) {
        ngx_gp_upstream_start(&u->upstream);
        return;
    }

    ngx_gp_upstream_error(f, "file", &err);

    ngx_http_finalize_request(u->r, ngx_gp_send_error(u->r, &err));
}
