
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Generated media (spec §7.5, §9): the media of one turn are collected
 * while the answer streams, then located with widgetListSessionFileMetadata
 * and fetched with downloadFile (asynchronous curl transfers into a
 * temporary file, renamed into the cache when complete; inline media are
 * decoded and written at once).  The cache is the gemini_pool_media_cache
 * directory (levels like proxy_cache_path), evicted by the helper role,
 * and served by nginx itself under /image/ and /video/.  With an image
 * host configured (spec §9.5), every cached medium is then uploaded there
 * and its links point at the host; a failed upload keeps the local link.
 *
 * Also: the delivery formats (markdown, url, array, b64_json), the media
 * as text links, and what the surfaces need to render them in their own
 * shapes (ngx_gp_media_info(), _link(), _failure(), _data_url()).
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_MEDIA_PENDING   0
#define NGX_GP_MEDIA_DONE      1
#define NGX_GP_MEDIA_FAILED    2

/* base64 bodies (spec §9.2) are decoded in memory up to this size */
#define NGX_GP_MEDIA_B64_MAX   (64 * 1024 * 1024)

#define NGX_GP_MEDIA_NAME_LEN  48

/* the media of one turn; more are ignored (each is a transfer) */
#define NGX_GP_MEDIA_MAX       32


typedef struct {
    ngx_gp_media_t          *media;
    ngx_uint_t               index;       /* 1-based, for messages */
    ngx_uint_t               state;
    ngx_uint_t               video;

    u_char                   name[NGX_GP_MEDIA_NAME_LEN]; /* in the cache */
    u_char                   mime[64];
    char                    *file_id;     /* FILE: malloc'ed */
    char                    *session;     /* from the metadata, malloc'ed */
    u_char                   error[160];

    ngx_gp_xfer_t           *xfer;
    ngx_fd_t                 fd;
    u_char                   tmp[NGX_MAX_PATH];
    off_t                    size;
    u_char                  *b64;         /* base64 body, malloc'ed */
    size_t                   b64_len;
    char                    *hosted;      /* its URL on the image host,
                                             malloc'ed */
    unsigned                 retried:1;   /* after a 401, once */
    unsigned                 checked:1;   /* first bytes looked at */
    unsigned                 is_b64:1;
    unsigned                 write_error:1;
} ngx_gp_media_item_t;


struct ngx_gp_media_s {
    ngx_http_request_t      *r;
    ngx_log_t               *log;
    ngx_array_t              items;       /* ngx_gp_media_item_t */
    ngx_uint_t               pending;
    ngx_uint_t               next_index;

    ngx_gp_account_copy_t    acct;
    ngx_gp_upstream_t        u;           /* the turn's JWT */
    char                    *session;     /* malloc'ed */
    ngx_gp_xfer_t           *xfer;        /* listFiles */

    ngx_gp_media_done_pt     done;
    void                    *data;

    ngx_uint_t               retry;       /* downloads refused with 401 */
    unsigned                 listed:1;
    unsigned                 refreshed:1; /* the JWT was renewed for them */
    unsigned                 uploads:1;   /* to the image host, started */
    unsigned                 inline_images:1; /* the answer inlines its
                                                 images: not uploaded */

    ngx_str_t                base;        /* public base URL, ends in / */
};


static void ngx_gp_media_cleanup(void *data);
static void ngx_gp_media_item_free(ngx_gp_media_item_t *it);
static void ngx_gp_media_jwt_ready(ngx_gp_upstream_t *u);
static void ngx_gp_media_jwt_failed(ngx_gp_upstream_t *u,
    ngx_gp_failure_t *f);
static void ngx_gp_media_list(ngx_gp_media_t *m);
static void ngx_gp_media_list_done(ngx_gp_xfer_t *x);
static void ngx_gp_media_downloads(ngx_gp_media_t *m);
static size_t ngx_gp_media_data(ngx_gp_xfer_t *x, char *p, size_t len);
static void ngx_gp_media_download_done(ngx_gp_xfer_t *x);
static void ngx_gp_media_settle(ngx_gp_media_t *m);
static ngx_uint_t ngx_gp_media_uploads(ngx_gp_media_t *m);
static void ngx_gp_media_upload_done(ngx_gp_xfer_t *x);
static ngx_int_t ngx_gp_media_store(ngx_gp_media_item_t *it,
    const u_char *p, size_t len);
static ngx_int_t ngx_gp_media_commit(ngx_gp_media_item_t *it);
static ngx_int_t ngx_gp_media_base(ngx_gp_media_t *m);
static void ngx_gp_media_fail(ngx_gp_media_item_t *it, const char *fmt,
    ...);


/* a turn's media */

ngx_gp_media_t *
ngx_gp_media_create(ngx_http_request_t *r)
{
    ngx_gp_media_t      *m;
    ngx_pool_cleanup_t  *cln;

    m = ngx_pcalloc(r->pool, sizeof(ngx_gp_media_t));
    if (m == NULL) {
        return NULL;
    }

    if (ngx_array_init(&m->items, r->pool, 4, sizeof(ngx_gp_media_item_t))
        != NGX_OK)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_gp_media_cleanup;
    cln->data = m;

    m->r = r;
    m->log = r->connection->log;

    return m;
}


static void
ngx_gp_media_item_free(ngx_gp_media_item_t *it)
{
    if (it->xfer) {
        ngx_gp_xfer_destroy(it->xfer);
        it->xfer = NULL;
    }

    if (it->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(it->fd);
        it->fd = NGX_INVALID_FILE;
    }

    if (it->tmp[0]) {
        (void) ngx_delete_file(it->tmp);
        it->tmp[0] = '\0';
    }

    free(it->file_id);
    it->file_id = NULL;
    free(it->session);
    it->session = NULL;
    free(it->b64);
    it->b64 = NULL;
    free(it->hosted);
    it->hosted = NULL;
}


void
ngx_gp_media_reset(ngx_gp_media_t *m)
{
    ngx_uint_t            i;
    ngx_gp_media_item_t  *it;

    if (m == NULL) {
        return;
    }

    it = m->items.elts;

    for (i = 0; i < m->items.nelts; i++) {
        ngx_gp_media_item_free(&it[i]);
    }

    m->items.nelts = 0;
    m->next_index = 0;
    m->pending = 0;
    m->uploads = 0;

    if (m->xfer) {
        ngx_gp_xfer_destroy(m->xfer);
        m->xfer = NULL;
    }

    ngx_gp_upstream_finalize(&m->u);
}


static void
ngx_gp_media_cleanup(void *data)
{
    ngx_gp_media_t  *m = data;

    ngx_gp_media_reset(m);
    free(m->session);
    m->session = NULL;
}


ngx_uint_t
ngx_gp_media_count(ngx_gp_media_t *m)
{
    return m ? m->items.nelts : 0;
}


ngx_uint_t
ngx_gp_media_ok(ngx_gp_media_t *m)
{
    ngx_uint_t            i, n;
    ngx_gp_media_item_t  *it;

    if (m == NULL) {
        return 0;
    }

    it = m->items.elts;
    n = 0;

    for (i = 0; i < m->items.nelts; i++) {
        n += (it[i].state == NGX_GP_MEDIA_DONE);
    }

    return n;
}


static void
ngx_gp_media_fail(ngx_gp_media_item_t *it, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(it->error, it->error + sizeof(it->error) - 1, fmt,
                      args);
    va_end(args);

    *p = '\0';
    it->state = NGX_GP_MEDIA_FAILED;

    ngx_log_error(NGX_LOG_WARN, it->media->log, 0,
                  "gemini pool: %s %ui of the turn not delivered: %s",
                  it->video ? "video" : "image", it->index, it->error);
}


/* the cache's file name extension of a media type; NULL: not media */

static const char *
ngx_gp_media_ext(const u_char *mime, ngx_uint_t *video)
{
    ngx_uint_t  i;

    static const char  *map[] = {
        "image/png", "png", "image/jpeg", "jpg", "image/jpg", "jpg",
        "image/gif", "gif", "image/webp", "webp", "video/mp4", "mp4",
        "video/webm", "webm", "video/quicktime", "mov", NULL
    };

    *video = (ngx_strncasecmp((u_char *) mime, (u_char *) "video/", 6) == 0);

    for (i = 0; map[i]; i += 2) {
        if (ngx_strcasecmp((u_char *) mime, (u_char *) map[i]) == 0) {
            return map[i + 1];
        }
    }

    if (*video || ngx_strncasecmp((u_char *) mime, (u_char *) "image/", 6)
                  == 0)
    {
        return "bin";
    }

    return NULL;
}


/* the content type of a cached name, from its extension */

static const char *
ngx_gp_media_type(const u_char *name, size_t len)
{
    ngx_uint_t   i;
    u_char      *dot;

    static const char  *map[] = {
        "png", "image/png", "jpg", "image/jpeg", "gif", "image/gif",
        "webp", "image/webp", "mp4", "video/mp4", "webm", "video/webm",
        "mov", "video/quicktime", NULL
    };

    dot = ngx_strlchr((u_char *) name, (u_char *) name + len, '.');

    if (dot) {
        dot++;

        for (i = 0; map[i]; i += 2) {
            if ((size_t) (name + len - dot) == ngx_strlen(map[i])
                && ngx_strncmp(dot, map[i], ngx_strlen(map[i])) == 0)
            {
                return map[i + 1];
            }
        }
    }

    return "application/octet-stream";
}


/*
 * The path of a cached name: root, the level directories from the end of
 * the name's hex part (like proxy_cache_path), the name.  0 when it does
 * not fit.
 */

static size_t
ngx_gp_media_path(ngx_path_t *path, const u_char *name, size_t len,
    u_char *buf, size_t size)
{
    size_t   hex, pos;
    u_char  *p, *last, *dot;
    ngx_uint_t  i;

    dot = ngx_strlchr((u_char *) name, (u_char *) name + len, '.');
    hex = dot ? (size_t) (dot - name) : len;

    if (path->name.len + len + 16 >= size) {
        return 0;
    }

    p = ngx_cpymem(buf, path->name.data, path->name.len);
    last = buf + size;
    pos = hex;

    for (i = 0; i < NGX_MAX_PATH_LEVEL && path->level[i]; i++) {
        if (pos < path->level[i]) {
            return 0;
        }

        pos -= path->level[i];
        *p++ = '/';
        p = ngx_cpymem(p, name + pos, path->level[i]);
    }

    *p++ = '/';

    if (p + len + 1 > last) {
        return 0;
    }

    p = ngx_cpymem(p, name, len);
    *p = '\0';

    return p - buf;
}


static ngx_path_t *
ngx_gp_media_root(void)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    return gmcf ? gmcf->helper_path : NULL;
}


static ngx_gp_media_item_t *
ngx_gp_media_item(ngx_gp_media_t *m, const char *mime)
{
    const char           *ext;
    ngx_gp_media_item_t  *it;

    it = ngx_array_push(&m->items);
    if (it == NULL) {
        return NULL;
    }

    ngx_memzero(it, sizeof(ngx_gp_media_item_t));
    it->media = m;
    it->index = ++m->next_index;
    it->fd = NGX_INVALID_FILE;

    ngx_cpystrn(it->mime, (u_char *) (mime && mime[0] ? mime : "image/png"),
                sizeof(it->mime));
    ngx_strlow(it->mime, it->mime, ngx_strlen(it->mime));

    ext = ngx_gp_media_ext(it->mime, &it->video);
    if (ext == NULL) {
        ext = "bin";
    }

    /* 128 random bits: the links are not guessable */
    ngx_sprintf(it->name, "%08xD%08xD%08xD%08xD.%s%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random(),
                (uint32_t) ngx_random(), (uint32_t) ngx_random(), ext);

    return it;
}


/*
 * One media part of a streamed element: FILE parts wait for the fetch,
 * INLINE parts are decoded and written into the cache now.  Parts that
 * are not image or video are ignored.
 */

ngx_int_t
ngx_gp_media_add(ngx_gp_media_t *m, ngx_gp_part_t *part)
{
    size_t                len;
    u_char               *data;
    ngx_uint_t            video;
    ngx_gp_media_item_t  *it;

    if (part->mime && ngx_gp_media_ext((u_char *) part->mime, &video)
                      == NULL)
    {
        ngx_log_error(NGX_LOG_INFO, m->log, 0,
                      "gemini pool: generated file of type \"%s\" ignored",
                      part->mime);
        return NGX_OK;
    }

    if (m->items.nelts >= NGX_GP_MEDIA_MAX) {
        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "gemini pool: more than %d generated files in one "
                      "turn, the rest ignored", NGX_GP_MEDIA_MAX);
        return NGX_OK;
    }

    it = ngx_gp_media_item(m, part->mime);
    if (it == NULL) {
        return NGX_ERROR;
    }

    if (part->kind == NGX_GP_PART_FILE) {
        it->file_id = strdup(part->file_id ? part->file_id : "");
        if (it->file_id == NULL) {
            return NGX_ERROR;
        }

        if (it->file_id[0] == '\0') {
            ngx_gp_media_fail(it, "the upstream announced a file without "
                              "an id");
        }

        return NGX_OK;
    }

    data = ngx_gp_base64_decode_any(part->text, part->len, &len);

    if (data == NULL || len == 0) {
        free(data);
        ngx_gp_media_fail(it, "the inline data is not base64");
        return NGX_OK;
    }

    if (ngx_gp_media_store(it, data, len) == NGX_OK) {
        it->state = NGX_GP_MEDIA_DONE;
    }

    free(data);

    return NGX_OK;
}


/* writes bytes into a new temporary file of the cache, then commits it */

static ngx_int_t
ngx_gp_media_store(ngx_gp_media_item_t *it, const u_char *p, size_t len)
{
    ssize_t      n;
    ngx_path_t  *root;

    root = ngx_gp_media_root();

    if (root == NULL) {
        ngx_gp_media_fail(it, "no media cache");
        return NGX_ERROR;
    }

    ngx_snprintf(it->tmp, sizeof(it->tmp) - 1, "%V/.%s.part%Z", &root->name,
                 it->name);

    it->fd = open((char *) it->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                  0644);

    if (it->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, it->media->log, ngx_errno,
                      "gemini pool: cannot create \"%s\"", it->tmp);
        it->tmp[0] = '\0';
        ngx_gp_media_fail(it, "cannot write into the media cache");
        return NGX_ERROR;
    }

    while (len) {
        n = ngx_write_fd(it->fd, (u_char *) p, len);

        if (n <= 0) {
            ngx_log_error(NGX_LOG_ERR, it->media->log, ngx_errno,
                          "gemini pool: cannot write \"%s\"", it->tmp);
            ngx_gp_media_fail(it, "cannot write into the media cache");
            return NGX_ERROR;
        }

        p += n;
        len -= n;
        it->size += n;
    }

    return ngx_gp_media_commit(it);
}


/* the temporary file becomes the cached file */

static ngx_int_t
ngx_gp_media_commit(ngx_gp_media_item_t *it)
{
    size_t                  len;
    ngx_str_t               src, dst;
    ngx_path_t             *root;
    ngx_gp_zone_t          *z;
    ngx_ext_rename_file_t   ext;
    u_char                  path[NGX_MAX_PATH];

    root = ngx_gp_media_root();

    if (it->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(it->fd);
        it->fd = NGX_INVALID_FILE;
    }

    len = ngx_gp_media_path(root, it->name, ngx_strlen(it->name), path,
                            sizeof(path));
    if (len == 0) {
        ngx_gp_media_fail(it, "the media cache path is too long");
        return NGX_ERROR;
    }

    src.data = it->tmp;
    src.len = ngx_strlen(it->tmp);
    dst.data = path;
    dst.len = len;

    ngx_memzero(&ext, sizeof(ngx_ext_rename_file_t));
    ext.access = 0644;
    ext.path_access = 0755;
    ext.time = -1;
    ext.create_path = 1;
    ext.delete_file = 1;
    ext.log = it->media->log;

    if (ngx_ext_rename_file(&src, &dst, &ext) != NGX_OK) {
        it->tmp[0] = '\0';
        ngx_gp_media_fail(it, "cannot write into the media cache");
        return NGX_ERROR;
    }

    it->tmp[0] = '\0';

    /* a cache with max_size is looked at soon */
    z = ngx_gp_zone();

    if (z) {
        ngx_shmtx_lock(&z->shpool->mutex);
        z->sh->media_written += it->size;
        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, it->media->log, 0,
                   "gemini pool: media %ui cached as \"%s\", %O bytes",
                   it->index, path, it->size);

    return NGX_OK;
}


/*
 * Fetches the turn's FILE media: a fresh JWT, the session's file metadata
 * (the session a file really belongs to), then every download at once.
 * NGX_OK: nothing to wait for; NGX_AGAIN: done(data) follows (never from
 * inside this call).  inline_images: the answer inlines its images (the
 * images API's b64_json), so only its videos go to the image host.
 */

ngx_int_t
ngx_gp_media_fetch(ngx_gp_media_t *m, ngx_gp_account_copy_t *a,
    const char *session, ngx_uint_t inline_images, ngx_gp_media_done_pt done,
    void *data)
{
    ngx_uint_t            i, n;
    ngx_gp_media_item_t  *it;

    (void) ngx_gp_media_base(m);

    it = m->items.elts;
    n = 0;

    for (i = 0; i < m->items.nelts; i++) {
        if (it[i].state == NGX_GP_MEDIA_PENDING) {
            n++;
        }
    }

    m->done = done;
    m->data = data;
    m->inline_images = inline_images ? 1 : 0;

    if (n == 0) {
        /* inline media only: to the image host, if one is set */
        return ngx_gp_media_uploads(m) ? NGX_AGAIN : NGX_OK;
    }

    if (session == NULL || a == NULL || a->id == 0) {
        for (i = 0; i < m->items.nelts; i++) {
            if (it[i].state == NGX_GP_MEDIA_PENDING) {
                ngx_gp_media_fail(&it[i], "the upstream session is unknown");
            }
        }

        return ngx_gp_media_uploads(m) ? NGX_AGAIN : NGX_OK;
    }

    free(m->session);
    m->session = strdup(session);
    if (m->session == NULL) {
        return NGX_ERROR;
    }

    /* a long turn may have outlived the JWT that nobody refreshed */

    m->acct = *a;
    m->u.acct = &m->acct;
    m->u.data = m;
    m->u.ready = ngx_gp_media_jwt_ready;
    m->u.fail = ngx_gp_media_jwt_failed;
    m->u.log = m->log;
    m->u.zone = ngx_gp_zone();
    m->u.mode = NGX_GP_UPSTREAM_JWT;

    ngx_gp_upstream_start(&m->u);

    return NGX_AGAIN;
}


static void
ngx_gp_media_jwt_ready(ngx_gp_upstream_t *u)
{
    ngx_gp_media_t  *m = u->data;

    if (m->listed) {
        ngx_gp_media_downloads(m);
        return;
    }

    ngx_gp_media_list(m);
}


/* no new JWT: the turn's own may still do */

static void
ngx_gp_media_jwt_failed(ngx_gp_upstream_t *u, ngx_gp_failure_t *f)
{
    ngx_uint_t            i;
    ngx_gp_media_t       *m = u->data;
    ngx_gp_media_item_t  *it;

    if (m->refreshed && f->kind == NGX_GP_FAIL_INTERNAL) {
        /* no getoxsrf could start: the downloads stay refused */

        it = m->items.elts;

        for (i = 0; i < m->items.nelts; i++) {
            if (it[i].state == NGX_GP_MEDIA_PENDING) {
                ngx_gp_media_fail(&it[i], "downloadFile answered 401");
            }
        }

        ngx_gp_media_settle(m);
        return;
    }

    ngx_gp_media_jwt_ready(u);
}


static void
ngx_gp_media_list(ngx_gp_media_t *m)
{
    char           *body;
    size_t          len;
    ngx_gp_zone_t  *z;
    ngx_gp_xfer_t  *x;

    z = ngx_gp_zone();
    m->listed = 1;

    body = ngx_gp_body_list_files((char *) m->acct.team_id, m->session,
                                  &len);
    x = NULL;

    if (body) {
        x = ngx_gp_gemini_widget(z->gmcf, &m->acct,
                                 "widgetListSessionFileMetadata", body, len,
                                 z->gmcf->session_timeout, m->log);
    }

    if (x) {
        x->on_done = ngx_gp_media_list_done;
        x->data = m;
        x->max = 4 * 1024 * 1024;

        if (ngx_gp_xfer_start(x) == NGX_OK) {
            m->xfer = x;
            return;
        }

        ngx_gp_xfer_destroy(x);
    }

    /* without the metadata the stream's session is used */
    ngx_gp_media_downloads(m);
}


static void
ngx_gp_media_list_done(ngx_gp_xfer_t *x)
{
    size_t                i, k;
    json_t               *root, *list, *md, *v;
    const char           *id, *sess;
    ngx_gp_media_t       *m = x->data;
    ngx_gp_media_item_t  *it;
    u_char                reason[256];

    m->xfer = NULL;
    root = NULL;

    if (x->result != CURLE_OK || x->status != 200) {
        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "gemini pool: widgetListSessionFileMetadata failed "
                      "(%s, status %l): downloading from the stream's "
                      "session", x->result != CURLE_OK
                                 ? ngx_gp_xfer_describe(x, reason,
                                                        sizeof(reason))
                                 : "upstream error",
                      x->status);

    } else {
        root = json_loadb((char *) x->buf, x->len, 0, NULL);
    }

    list = root ? json_object_get(json_object_get(root,
                                  "listSessionFileMetadataResponse"),
                                  "fileMetadata")
                : NULL;

    it = m->items.elts;

    for (i = 0; list && i < json_array_size(list); i++) {
        md = json_array_get(list, i);
        v = json_object_get(md, "fileId");
        id = json_string_value(v);
        sess = json_string_value(json_object_get(md, "session"));

        if (id == NULL || sess == NULL || sess[0] == '\0') {
            continue;
        }

        for (k = 0; k < m->items.nelts; k++) {
            if (it[k].file_id && ngx_strcmp(it[k].file_id, id) == 0
                && it[k].session == NULL)
            {
                it[k].session = strdup(sess);
            }
        }
    }

    json_decref(root);
    ngx_gp_xfer_destroy(x);

    ngx_gp_media_downloads(m);
}


static void
ngx_gp_media_downloads(ngx_gp_media_t *m)
{
    ngx_uint_t            i;
    ngx_path_t           *root;
    ngx_gp_zone_t        *z;
    ngx_gp_xfer_t        *x;
    ngx_gp_media_item_t  *it;

    z = ngx_gp_zone();
    root = ngx_gp_media_root();
    it = m->items.elts;
    m->pending = 0;

    for (i = 0; i < m->items.nelts; i++) {
        if (it[i].state != NGX_GP_MEDIA_PENDING) {
            continue;
        }

        x = ngx_gp_gemini_download(z->gmcf, &m->acct,
                                   it[i].session ? it[i].session
                                                 : m->session,
                                   it[i].file_id, m->log);
        if (x == NULL) {
            ngx_gp_media_fail(&it[i], "cannot start downloadFile");
            continue;
        }

        ngx_snprintf(it[i].tmp, sizeof(it[i].tmp) - 1, "%V/.%s.part%Z",
                     &root->name, it[i].name);

        it[i].fd = open((char *) it[i].tmp,
                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);

        if (it[i].fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, m->log, ngx_errno,
                          "gemini pool: cannot create \"%s\"", it[i].tmp);
            it[i].tmp[0] = '\0';
            ngx_gp_xfer_destroy(x);
            ngx_gp_media_fail(&it[i], "cannot write into the media cache");
            continue;
        }

        x->on_data = ngx_gp_media_data;
        x->on_done = ngx_gp_media_download_done;
        x->data = &it[i];
        x->max = 4096;

        if (ngx_gp_xfer_start(x) != NGX_OK) {
            ngx_gp_xfer_destroy(x);
            ngx_gp_media_fail(&it[i], "cannot start downloadFile");
            continue;
        }

        it[i].xfer = x;
        m->pending++;
    }

    if (m->pending == 0) {
        ngx_gp_media_settle(m);
    }
}


/* the body of a download: to the temporary file, or kept when base64 */

static size_t
ngx_gp_media_data(ngx_gp_xfer_t *x, char *p, size_t len)
{
    size_t                n, k;
    ssize_t               w;
    u_char               *nb;
    ngx_gp_media_item_t  *it = x->data;

    (void) curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);

    if (x->status != 200) {
        /* an error body: its start, for the message */
        n = ngx_min(len, x->max - x->len);

        if (n) {
            nb = realloc(x->buf, x->len + n + 1);
            if (nb == NULL) {
                return 0;
            }

            x->buf = nb;
            ngx_memcpy(x->buf + x->len, p, n);
            x->len += n;
            x->buf[x->len] = '\0';
        }

        return len;
    }

    if (!it->checked) {
        /* some servers send base64 text (spec §9.2) */
        it->checked = 1;
        it->is_b64 = (len >= 11 && ngx_strncmp(p, "iVBORw0KGgo", 11) == 0)
                     || (len >= 4 && ngx_strncmp(p, "/9j/", 4) == 0);
    }

    if (it->is_b64) {
        if (it->b64_len + len > NGX_GP_MEDIA_B64_MAX) {
            it->write_error = 1;
            return 0;
        }

        nb = realloc(it->b64, it->b64_len + len + 1);
        if (nb == NULL) {
            return 0;
        }

        it->b64 = nb;
        ngx_memcpy(it->b64 + it->b64_len, p, len);
        it->b64_len += len;

        return len;
    }

    for (k = 0; k < len; k += w) {
        w = ngx_write_fd(it->fd, p + k, len - k);

        if (w <= 0) {
            it->write_error = 1;
            return 0;
        }
    }

    it->size += len;

    return len;
}


static void
ngx_gp_media_download_done(ngx_gp_xfer_t *x)
{
    size_t                len;
    u_char               *data;
    ngx_gp_gerror_t       ge;
    ngx_gp_media_t       *m;
    ngx_gp_media_item_t  *it = x->data;
    u_char                reason[256];

    m = it->media;
    it->xfer = NULL;

    if (it->write_error) {
        ngx_log_error(NGX_LOG_ERR, m->log, ngx_errno,
                      "gemini pool: cannot write \"%s\"", it->tmp);
        ngx_gp_media_fail(it, "cannot write into the media cache");

    } else if (x->result != CURLE_OK && x->status != 200) {
        ngx_gp_media_fail(it, "downloadFile failed: %s",
                          ngx_gp_xfer_describe(x, reason, sizeof(reason)));

    } else if (x->status == 401 && !it->retried && !m->refreshed) {
        /* the JWT expired during a long turn: once more with a new one */
        ngx_log_error(NGX_LOG_INFO, m->log, 0,
                      "gemini pool: downloadFile answered 401, retrying "
                      "with a new JWT");
        it->retried = 1;
        it->checked = 0;
        it->is_b64 = 0;
        it->size = 0;
        free(it->b64);
        it->b64 = NULL;
        it->b64_len = 0;
        m->retry++;

    } else if (x->status != 200) {
        (void) ngx_gp_gerror_parse((char *) x->buf, x->len, &ge);
        ngx_gp_media_fail(it, "downloadFile answered %l: %s", x->status,
                          ge.message ? ge.message : "");
        ngx_gp_gerror_free(&ge);

    } else if (x->result != CURLE_OK) {
        ngx_gp_media_fail(it, "downloadFile broken: %s",
                          ngx_gp_xfer_describe(x, reason, sizeof(reason)));

    } else if (it->is_b64) {
        data = ngx_gp_base64_decode_any((char *) it->b64, it->b64_len, &len);
        free(it->b64);
        it->b64 = NULL;

        if (data == NULL) {
            ngx_gp_media_fail(it, "downloadFile sent text that is not "
                              "base64");

        } else {
            (void) ngx_close_file(it->fd);
            it->fd = NGX_INVALID_FILE;
            (void) ngx_delete_file(it->tmp);
            it->tmp[0] = '\0';

            if (ngx_gp_media_store(it, data, len) == NGX_OK) {
                it->state = NGX_GP_MEDIA_DONE;
            }

            free(data);
        }

    } else if (it->size == 0) {
        ngx_gp_media_fail(it, "downloadFile sent an empty file");

    } else if (ngx_gp_media_commit(it) == NGX_OK) {
        it->state = NGX_GP_MEDIA_DONE;
    }

    ngx_gp_xfer_destroy(x);

    if (it->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(it->fd);
        it->fd = NGX_INVALID_FILE;
    }

    if (it->tmp[0]) {
        (void) ngx_delete_file(it->tmp);
        it->tmp[0] = '\0';
    }

    if (--m->pending == 0) {
        ngx_gp_media_settle(m);
    }
}


/* every media of the turn is in: the request goes on (r may go away) */

static void
ngx_gp_media_settle(ngx_gp_media_t *m)
{
    if (m->retry && !m->refreshed) {
        /* the downloads refused the JWT: once more with a new one */
        m->refreshed = 1;
        m->retry = 0;
        m->u.mode = NGX_GP_UPSTREAM_REFRESH;

        ngx_gp_upstream_start(&m->u);
        return;
    }

    if (!m->uploads && ngx_gp_media_uploads(m)) {
        return;
    }

    if (m->done) {
        m->done(m->data);
    }
}


/*
 * Starts the uploads of the cached media to the image host, when one is
 * configured (upload_endpoint and upload_api_token); the number started.
 * The local copies stay in the cache under its rules, and are the links
 * of those that fail.  Images the answer inlines (ngx_gp_media_data_url(),
 * up to its size limit) are not uploaded: nobody would get their links.
 */

static ngx_uint_t
ngx_gp_media_uploads(ngx_gp_media_t *m)
{
    ngx_uint_t            i;
    ngx_path_t           *root;
    ngx_gp_xfer_t        *x;
    ngx_gp_media_item_t  *it;
    u_char                path[NGX_MAX_PATH], err[160];

    m->uploads = 1;
    m->pending = 0;

    if (!ngx_gp_imghost_on()) {
        return 0;
    }

    root = ngx_gp_media_root();
    it = m->items.elts;

    for (i = 0; i < m->items.nelts; i++) {
        if (it[i].state != NGX_GP_MEDIA_DONE || root == NULL) {
            continue;
        }

        if (m->inline_images && !it[i].video
            && it[i].size <= NGX_GP_MEDIA_B64_MAX)
        {
            continue;
        }

        if (ngx_gp_media_path(root, it[i].name, ngx_strlen(it[i].name),
                              path, sizeof(path))
            == 0)
        {
            continue;
        }

        x = ngx_gp_imghost_upload((char *) path, NULL, 0,
                                  (char *) it[i].name,
                                  (char *) it[i].mime, m->log, err,
                                  sizeof(err));

        if (x != NULL) {
            x->on_done = ngx_gp_media_upload_done;
            x->data = &it[i];

            if (ngx_gp_xfer_start(x) == NGX_OK) {
                it[i].xfer = x;
                m->pending++;
                continue;
            }

            ngx_gp_xfer_destroy(x);
            ngx_cpystrn(err, (u_char *) "cannot start the transfer",
                        sizeof(err));
        }

        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "gemini pool: %s %ui of the turn not uploaded to the "
                      "image host (%s): its local link is given",
                      it[i].video ? "video" : "image", it[i].index, err);
    }

    return m->pending;
}


static void
ngx_gp_media_upload_done(ngx_gp_xfer_t *x)
{
    ngx_gp_media_t       *m;
    ngx_gp_media_item_t  *it = x->data;
    u_char                url[NGX_GP_CFBED_URL_LEN], err[256];

    m = it->media;
    it->xfer = NULL;

    if (ngx_gp_imghost_result(x, url, sizeof(url), err, sizeof(err))
        == NGX_OK)
    {
        it->hosted = strdup((char *) url);

        if (it->hosted == NULL) {
            ngx_log_error(NGX_LOG_WARN, m->log, 0,
                          "gemini pool: %s %ui of the turn: out of memory "
                          "for its image host link, its local link is given",
                          it->video ? "video" : "image", it->index);

        } else {
            ngx_log_error(NGX_LOG_INFO, m->log, 0,
                          "gemini pool: %s %ui of the turn uploaded to the "
                          "image host as \"%s\"",
                          it->video ? "video" : "image", it->index,
                          it->hosted);
        }

    } else {
        ngx_log_error(NGX_LOG_WARN, m->log, 0,
                      "gemini pool: %s %ui of the turn not uploaded to the "
                      "image host (%s): its local link is given",
                      it->video ? "video" : "image", it->index, err);
    }

    ngx_gp_xfer_destroy(x);

    if (--m->pending == 0 && m->done) {
        m->done(m->data);
    }
}


/*
 * The public base URL of media links: the image_base_url setting, else
 * the request's scheme and host; X-Forwarded-Proto and X-Forwarded-Host
 * are honoured only from gemini_pool_trusted_proxy addresses.
 */

static ngx_int_t
ngx_gp_media_valid_host(u_char *p, size_t len)
{
    size_t  i;
    u_char  c;

    if (len == 0 || len > 255) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':'
              || c == '[' || c == ']' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_gp_media_base(ngx_gp_media_t *m)
{
    size_t                             len;
    u_char                            *p, *comma;
    ngx_str_t                          scheme, host, *v;
    ngx_gp_zone_t                     *z;
    ngx_table_elt_t                   *h;
    ngx_http_request_t                *r;
    ngx_http_core_srv_conf_t          *cscf;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             buf[NGX_GP_SETTING_VALUE_LEN];

    if (m->base.len) {
        return NGX_OK;
    }

    r = m->r;
    z = ngx_gp_zone();

    ngx_gp_setting_str(z, NGX_GP_SET_IMAGE_BASE_URL, buf, sizeof(buf));

    if (buf[0]) {
        len = ngx_strlen(buf);

        m->base.data = ngx_pnalloc(r->pool, len + 1);
        if (m->base.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(m->base.data, buf, len);

        if (p[-1] != '/') {
            *p++ = '/';
        }

        m->base.len = p - m->base.data;
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");
    } else
#endif
    {
        ngx_str_set(&scheme, "http");
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gemini_pool_module);

    if (gmcf->trusted_proxies
        && ngx_cidr_match(r->connection->sockaddr, gmcf->trusted_proxies)
           == NGX_OK)
    {
        h = ngx_gp_header_in(r, "X-Forwarded-Proto");
        v = h ? &h->value : NULL;

        if (v && v->len >= 5 && ngx_strncasecmp(v->data, (u_char *) "https",
                                                5) == 0)
        {
            ngx_str_set(&scheme, "https");

        } else if (v && v->len >= 4
                   && ngx_strncasecmp(v->data, (u_char *) "http", 4) == 0)
        {
            ngx_str_set(&scheme, "http");
        }

        h = ngx_gp_header_in(r, "X-Forwarded-Host");
        v = h ? &h->value : NULL;

        if (v) {
            /* the first of a list, as the nearest proxy saw it */
            comma = ngx_strlchr(v->data, v->data + v->len, ',');
            len = comma ? (size_t) (comma - v->data) : v->len;

            while (len && v->data[len - 1] == ' ') {
                len--;
            }

            if (ngx_gp_media_valid_host(v->data, len)) {
                host.data = v->data;
                host.len = len;
            }
        }
    }

    if (!ngx_gp_media_valid_host(host.data, host.len)) {
        ngx_str_set(&host, "localhost");
    }

    m->base.data = ngx_pnalloc(r->pool, scheme.len + host.len + 8);
    if (m->base.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(m->base.data, "%V://%V/", &scheme, &host);
    m->base.len = p - m->base.data;

    return NGX_OK;
}


/* formats */

ngx_int_t
ngx_gp_media_format(const char *name)
{
    if (name == NULL || name[0] == '\0') {
        return NGX_DECLINED;
    }

    if (ngx_strcmp(name, "markdown") == 0) {
        return NGX_GP_FMT_MARKDOWN;
    }

    if (ngx_strcmp(name, "url") == 0) {
        return NGX_GP_FMT_URL;
    }

    if (ngx_strcmp(name, "array") == 0) {
        return NGX_GP_FMT_ARRAY;
    }

    if (ngx_strcmp(name, "b64_json") == 0) {
        return NGX_GP_FMT_B64;
    }

    return NGX_ERROR;
}


/* the request's choice, else the API key's, else the setting's */

ngx_int_t
ngx_gp_media_choose_format(ngx_http_request_t *r, const char *req_fmt,
    ngx_gp_key_t *k)
{
    ngx_int_t  f;

    f = ngx_gp_media_format(req_fmt);

    if (f >= 0 || f == NGX_ERROR) {
        return f;
    }

    if (k && k->id) {
        f = ngx_gp_media_format((char *) k->image_format);

        if (f >= 0) {
            return f;
        }
    }

    /* the index in the setting's allowed values is NGX_GP_FMT_* */
    return ngx_gp_setting_int(ngx_gp_zone(), NGX_GP_SET_IMAGE_FORMAT);
}


static size_t
ngx_gp_media_url(ngx_gp_media_t *m, ngx_gp_media_item_t *it, u_char *buf,
    size_t size)
{
    u_char  *p;

    if (it->hosted) {
        p = ngx_snprintf(buf, size - 1, "%s", it->hosted);
        *p = '\0';

        return p - buf;
    }

    p = ngx_snprintf(buf, size - 1, "%V%s/%s", &m->base,
                     it->video ? "video" : "image", it->name);
    *p = '\0';

    return p - buf;
}


/*
 * The media as text for the markdown and url formats: one Markdown image
 * (a link for videos) per paragraph, or one URL per line, and a note for
 * each that could not be fetched.  after_text: 0 no text before, 1 the
 * text ends inside a line, 2 it ends with a newline.
 */

ngx_int_t
ngx_gp_media_text(ngx_gp_media_t *m, ngx_uint_t fmt, ngx_uint_t after_text,
    ngx_str_t *out)
{
    size_t                len;
    u_char               *p;
    ngx_uint_t            i;
    ngx_gp_media_item_t  *it;
    u_char                url[1024];

    out->len = 0;
    out->data = NULL;

    if (ngx_gp_media_count(m) == 0) {
        return NGX_OK;
    }

    (void) ngx_gp_media_base(m);

    it = m->items.elts;
    len = 0;

    for (i = 0; i < m->items.nelts; i++) {
        len += sizeof(url) + sizeof(it[i].error) + 64;
    }

    out->data = ngx_pnalloc(m->r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < m->items.nelts; i++) {

        if (p > out->data || after_text == 1) {
            p = ngx_cpymem(p, fmt == NGX_GP_FMT_URL ? "\n" : "\n\n",
                           fmt == NGX_GP_FMT_URL ? 1 : 2);

        } else if (after_text == 2 && fmt != NGX_GP_FMT_URL) {
            *p++ = '\n';
        }

        if (it[i].state != NGX_GP_MEDIA_DONE) {
            p += ngx_gp_media_failure(m, i, p, sizeof(it[i].error) + 64);
            continue;
        }

        (void) ngx_gp_media_url(m, &it[i], url, sizeof(url));

        if (fmt == NGX_GP_FMT_URL) {
            p = ngx_sprintf(p, "%s", url);

        } else if (it[i].video) {
            p = ngx_sprintf(p, "[video](%s)", url);

        } else {
            p = ngx_sprintf(p, "![image](%s)", url);
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * Opens a cached file for reading one component at a time below the
 * cache's directory, each with O_NOFOLLOW: a symbolic link planted in the
 * cache (a level or the file) is not followed, as the /image/ and /video/
 * handler refuses it with nginx's disable_symlinks.
 */

static ngx_fd_t
ngx_gp_media_open(ngx_path_t *root, u_char *path)
{
    int      dfd, fd, flags;
    u_char  *p, *next;

    p = path + root->name.len;

    if (*p != '/') {
        return NGX_INVALID_FILE;
    }

    *p = '\0';
    dfd = open((char *) path, O_RDONLY | O_DIRECTORY);
    *p++ = '/';

    if (dfd == -1) {
        return NGX_INVALID_FILE;
    }

    for ( ;; ) {
        next = (u_char *) ngx_strchr(p, '/');
        flags = O_RDONLY | O_NOFOLLOW | (next ? O_DIRECTORY : 0);

        if (next) {
            *next = '\0';
        }

        fd = openat(dfd, (char *) p, flags);

        if (next) {
            *next = '/';
        }

        (void) close(dfd);

        if (fd == -1 || next == NULL) {
            return fd;
        }

        dfd = fd;
        p = next + 1;
    }
}


/* a cached file as a data: URL, malloc'ed; NULL: not available */

char *
ngx_gp_media_data_url(ngx_gp_media_t *m, ngx_uint_t i)
{
    char         *s;
    size_t        len;
    ssize_t       n;
    ngx_fd_t      fd;
    ngx_str_t     src, dst;
    ngx_path_t   *root;
    ngx_file_info_t  fi;
    ngx_gp_media_item_t  *it;
    u_char        path[NGX_MAX_PATH];

    it = m->items.elts;
    it = &it[i];

    root = ngx_gp_media_root();

    if (ngx_gp_media_path(root, it->name, ngx_strlen(it->name), path,
                          sizeof(path))
        == 0)
    {
        return NULL;
    }

    fd = ngx_gp_media_open(root, path);
    if (fd == NGX_INVALID_FILE) {
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_GP_MEDIA_B64_MAX)
    {
        (void) ngx_close_file(fd);
        return NULL;
    }

    len = (size_t) ngx_file_size(&fi);

    src.data = malloc(len + 1);
    if (src.data == NULL) {
        (void) ngx_close_file(fd);
        return NULL;
    }

    n = ngx_read_fd(fd, src.data, len);
    (void) ngx_close_file(fd);

    if (n != (ssize_t) len) {
        free(src.data);
        return NULL;
    }

    src.len = len;

    s = malloc(sizeof("data:;base64,") + ngx_strlen(it->mime)
               + ngx_base64_encoded_length(len));
    if (s == NULL) {
        free(src.data);
        return NULL;
    }

    dst.data = (u_char *) ngx_sprintf((u_char *) s, "data:%s;base64,",
                                      it->mime);
    ngx_encode_base64(&dst, &src);
    dst.data[dst.len] = '\0';
    free(src.data);

    return s;
}


/* one medium of the turn, for the surfaces that render them */

void
ngx_gp_media_info(ngx_gp_media_t *m, ngx_uint_t i, ngx_gp_media_info_t *info)
{
    ngx_gp_media_item_t  *it;

    it = m->items.elts;

    info->ok = (it[i].state == NGX_GP_MEDIA_DONE);
    info->video = it[i].video;
    info->index = it[i].index;
}


/* its public URL, NUL-terminated */

size_t
ngx_gp_media_link(ngx_gp_media_t *m, ngx_uint_t i, u_char *buf, size_t size)
{
    ngx_gp_media_item_t  *it;

    (void) ngx_gp_media_base(m);

    it = m->items.elts;

    return ngx_gp_media_url(m, &it[i], buf, size);
}


/* the note for one that could not be fetched, NUL-terminated */

size_t
ngx_gp_media_failure(ngx_gp_media_t *m, ngx_uint_t i, u_char *buf,
    size_t size)
{
    u_char               *p;
    ngx_gp_media_item_t  *it;

    it = m->items.elts;

    p = ngx_snprintf(buf, size - 1, "(%s %ui could not be retrieved: %s)",
                     it[i].video ? "video" : "image", it[i].index,
                     it[i].error[0] ? (char *) it[i].error
                                    : "unknown error");
    *p = '\0';

    return p - buf;
}


/*
 * GET /image/<name>, /video/<name>: the cached file, sent by nginx (range
 * requests, sendfile, If-Modified-Since).  Names are the cache's own:
 * hex digits, a dot, an extension; anything else is 404.
 */

ngx_int_t
ngx_gp_media_handler(ngx_http_request_t *r)
{
    u_char                     *p, *last, *name;
    size_t                      len, i;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_str_t                   path;
    ngx_uint_t                  dots;
    ngx_chain_t                 out;
    ngx_path_t                 *root;
    ngx_table_elt_t            *h;
    ngx_open_file_info_t        of;
    ngx_http_core_loc_conf_t   *clcf;
    u_char                      buf[NGX_MAX_PATH];

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    last = r->uri.data + r->uri.len;

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) { /* void */ }

    name = p;
    len = last - p;
    dots = 0;

    for (i = 0; i < len; i++) {
        if (name[i] == '.') {
            dots++;
            continue;
        }

        if (!((name[i] >= '0' && name[i] <= '9')
              || (name[i] >= 'a' && name[i] <= 'z')))
        {
            return NGX_HTTP_NOT_FOUND;
        }
    }

    if (len == 0 || dots != 1 || name[0] == '.' || len >= 64) {
        return NGX_HTTP_NOT_FOUND;
    }

    root = ngx_gp_media_root();

    if (root == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    path.len = ngx_gp_media_path(root, name, len, buf, sizeof(buf));
    path.data = buf;

    if (path.len == 0) {
        return NGX_HTTP_NOT_FOUND;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&of, sizeof(ngx_open_file_info_t));

    of.read_ahead = clcf->read_ahead;
    of.directio = clcf->directio;
    of.valid = clcf->open_file_cache_valid;
    of.min_uses = clcf->open_file_cache_min_uses;
    of.errors = clcf->open_file_cache_errors;
    of.events = clcf->open_file_cache_events;

#if (NGX_HAVE_OPENAT)
    /* a symbolic link below the cache's directory is not followed */
    of.disable_symlinks = NGX_DISABLE_SYMLINKS_ON;
    of.disable_symlinks_from = root->name.len;
#endif

    if (ngx_open_cached_file(clcf->open_file_cache, &path, &of, r->pool)
        != NGX_OK)
    {
        if (of.err == NGX_ELOOP || of.err == NGX_EMLINK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, of.err,
                          "gemini pool: \"%s\" in the media cache is a "
                          "symbolic link, not served", path.data);
            return NGX_HTTP_NOT_FOUND;
        }

        if (of.err != NGX_ENOENT && of.err != NGX_ENOTDIR) {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, of.err,
                          "%s \"%s\" failed", of.failed, path.data);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_FOUND;
    }

    if (!of.is_file) {
        return NGX_HTTP_NOT_FOUND;
    }

    r->root_tested = !r->error_page;
    r->allow_ranges = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;

    r->headers_out.content_type.data = (u_char *) ngx_gp_media_type(name,
                                                                    len);
    r->headers_out.content_type.len =
                              ngx_strlen(r->headers_out.content_type.data);
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->file_pos = 0;
    b->file_last = of.size;
    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    b->sync = b->in_file ? 0 : 1;

    b->file->fd = of.fd;
    b->file->name = path;
    b->file->log = r->connection->log;
    b->file->directio = of.is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* eviction, in the helper role */

typedef struct {
    ngx_str_t                path;
    time_t                   mtime;
    off_t                    size;
    ngx_uint_t               part;    /* ".<name>.part": being written */
} ngx_gp_media_file_t;


/*
 * Collects the regular files under dir, descending into real directories
 * only: lstat(), never stat(), so a symbolic link planted in the cache
 * (to a file or to a directory outside it) is neither followed, counted
 * nor removed (ngx_walk_tree() would stat() it, and walk into a linked
 * directory and evict the files there).
 */

static ngx_int_t
ngx_gp_media_walk(ngx_array_t *files, ngx_str_t *dir, ngx_uint_t depth,
    ngx_log_t *log)
{
    u_char               *p;
    size_t                len;
    ngx_int_t             rc;
    ngx_str_t             path;
    ngx_dir_t             d;
    ngx_gp_media_file_t  *f;

    if (ngx_open_dir(dir, &d) == NGX_ERROR) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          ngx_open_dir_n " \"%V\" failed", dir);
        }

        return NGX_OK;
    }

    rc = NGX_OK;

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&d) == NGX_ERROR) {
            break;
        }

        len = ngx_de_namelen(&d);
        p = ngx_de_name(&d);

        if (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '.'))) {
            continue;
        }

        path.len = dir->len + 1 + len;
        path.data = ngx_pnalloc(files->pool, path.len + 1);
        if (path.data == NULL) {
            rc = NGX_ABORT;
            break;
        }

        ngx_sprintf(path.data, "%V/%s%Z", dir, p);

        if (ngx_de_link_info(path.data, &d) == NGX_FILE_ERROR) {
            continue;
        }

        if (S_ISDIR(d.info.st_mode)) {
            if (depth < NGX_MAX_PATH_LEVEL
                && ngx_gp_media_walk(files, &path, depth + 1, log)
                   == NGX_ABORT)
            {
                rc = NGX_ABORT;
                break;
            }

            continue;
        }

        if (!S_ISREG(d.info.st_mode)) {
            continue;
        }

        f = ngx_array_push(files);
        if (f == NULL) {
            rc = NGX_ABORT;
            break;
        }

        f->path = path;
        f->mtime = d.info.st_mtime;
        f->size = d.info.st_size;
        f->part = (p[0] == '.');
    }

    (void) ngx_close_dir(&d);

    return rc;
}


static int ngx_libc_cdecl
ngx_gp_media_older(const void *one, const void *two)
{
    const ngx_gp_media_file_t  *a = one, *b = two;

    return (a->mtime > b->mtime) - (a->mtime < b->mtime);
}


/*
 * Removes the files not written for "inactive", then the oldest while
 * the cache is over "max_size".  Runs every inactive/4 (at least once a
 * minute), and with max_size also on the next tick after media were
 * written.
 */

void
ngx_gp_media_evict(ngx_cycle_t *cycle)
{
    time_t                             now, every;
    off_t                              total;
    ngx_uint_t                         i, removed;
    uint64_t                           written;
    ngx_pool_t                        *pool;
    ngx_gp_zone_t                     *z;
    ngx_array_t                        files;
    ngx_gp_media_file_t               *f;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    static time_t    last;
    static uint64_t  last_written;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gemini_pool_module);

    if (gmcf == NULL || gmcf->helper_path == NULL) {
        return;
    }

    now = ngx_time();
    every = ngx_min(ngx_max(gmcf->media_inactive / 4, 0), 60);

    z = ngx_gp_zone();
    written = last_written;

    if (z && gmcf->media_max_size) {
        ngx_shmtx_lock(&z->shpool->mutex);
        written = z->sh->media_written;
        ngx_shmtx_unlock(&z->shpool->mutex);
    }

    if (now - last < every && written == last_written) {
        return;
    }

    last = now;
    last_written = written;

    pool = ngx_create_pool(16384, cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_array_init(&files, pool, 64, sizeof(ngx_gp_media_file_t))
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    (void) ngx_gp_media_walk(&files, &gmcf->helper_path->name, 0,
                             cycle->log);

    f = files.elts;
    total = 0;
    removed = 0;

    for (i = 0; i < files.nelts; i++) {
        if (now - f[i].mtime >= gmcf->media_inactive) {
            if (ngx_delete_file(f[i].path.data) == NGX_FILE_ERROR
                && ngx_errno != NGX_ENOENT)
            {
                ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                              ngx_delete_file_n " \"%s\" failed",
                              f[i].path.data);
            }

            f[i].size = -1;
            removed++;
            continue;
        }

        /* a download in progress: neither counted nor evicted (one left
           behind by a crash goes when it is older than inactive) */
        if (f[i].part) {
            f[i].size = -1;
            continue;
        }

        total += f[i].size;
    }

    if (gmcf->media_max_size && total > gmcf->media_max_size) {
        ngx_qsort(f, files.nelts, sizeof(ngx_gp_media_file_t),
                  ngx_gp_media_older);

        for (i = 0; i < files.nelts && total > gmcf->media_max_size; i++) {
            if (f[i].size < 0) {
                continue;
            }

            if (ngx_delete_file(f[i].path.data) == NGX_FILE_ERROR
                && ngx_errno != NGX_ENOENT)
            {
                ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                              ngx_delete_file_n " \"%s\" failed",
                              f[i].path.data);
            }

            total -= f[i].size;
            removed++;
        }
    }

    if (removed) {
        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "gemini pool helper: %ui media files evicted, %O "
                      "bytes kept", removed, total);
    }

    ngx_destroy_pool(pool);
}
