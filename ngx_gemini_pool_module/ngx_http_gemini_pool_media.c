
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Generated media (spec §7.5, §9): the media of one turn are collected
 * while the answer streams, then located with widgetListSessionFileMetadata
 * and fetched with downloadFile (asynchronous curl transfers into a
 * temporary file, renamed into the cache when complete; inline media are
 * decoded and written at once).  The cache is the gemini_pool_media_cache
 * directory (levels like proxy_cache_path), evicted by the helper role,
 * and served by nginx itself under /image/ and /video/.
 *
 * Also: the artefact lines of image turns, the four delivery formats
 * (markdown, url, array, b64_json) and the images API answer.
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

    it->fd = open((char *) it->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

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
 * inside this call).
 */

ngx_int_t
ngx_gp_media_fetch(ngx_gp_media_t *m, ngx_gp_account_copy_t *a,
    const char *session, ngx_gp_media_done_pt done, void *data)
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

    if (n == 0) {
        return NGX_OK;
    }

    if (session == NULL || a == NULL || a->id == 0) {
        for (i = 0; i < m->items.nelts; i++) {
            if (it[i].state == NGX_GP_MEDIA_PENDING) {
                ngx_gp_media_fail(&it[i], "the upstream session is unknown");
            }
        }

        return NGX_OK;
    }

    m->done = done;
    m->data = data;

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

        if (m->done) {
            m->done(m->data);
        }

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

        it[i].fd = open((char *) it[i].tmp, O_WRONLY | O_CREAT | O_TRUNC,
                        0644);

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

    if (m->done) {
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


static ngx_str_t *
ngx_gp_media_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_gp_media_base(ngx_gp_media_t *m)
{
    size_t                             len;
    u_char                            *p, *comma;
    ngx_str_t                          scheme, host, *v;
    ngx_gp_zone_t                     *z;
    ngx_http_request_t                *r;
    ngx_http_core_srv_conf_t          *cscf;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             buf[NGX_GP_SETTING_VALUE_LEN];

    if (m->base.len) {
        return NGX_OK;
    }

    r = m->r;
    z = ngx_gp_zone();

    if (ngx_gp_zone_setting(z, "image_base_url", buf, sizeof(buf)) == NGX_OK
        && buf[0])
    {
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
        v = ngx_gp_media_header(r, "X-Forwarded-Proto");

        if (v && v->len >= 5 && ngx_strncasecmp(v->data, (u_char *) "https",
                                                5) == 0)
        {
            ngx_str_set(&scheme, "https");

        } else if (v && v->len >= 4
                   && ngx_strncasecmp(v->data, (u_char *) "http", 4) == 0)
        {
            ngx_str_set(&scheme, "http");
        }

        v = ngx_gp_media_header(r, "X-Forwarded-Host");

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
    u_char     buf[32];

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

    if (ngx_gp_zone_setting(ngx_gp_zone(), "image_format", buf, sizeof(buf))
        == NGX_OK)
    {
        f = ngx_gp_media_format((char *) buf);

        if (f >= 0) {
            return f;
        }
    }

    return NGX_GP_FMT_MARKDOWN;
}


static size_t
ngx_gp_media_url(ngx_gp_media_t *m, ngx_gp_media_item_t *it, u_char *buf,
    size_t size)
{
    u_char  *p;

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
            p = ngx_sprintf(p, "(%s %ui could not be retrieved: %s)",
                            it[i].video ? "video" : "image", it[i].index,
                            it[i].error[0] ? (char *) it[i].error
                                           : "unknown error");
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


/* a cached file as a data: URL, malloc'ed */

static char *
ngx_gp_media_data_url(ngx_gp_media_item_t *it)
{
    char         *s;
    size_t        len;
    ssize_t       n;
    ngx_fd_t      fd;
    ngx_str_t     src, dst;
    ngx_path_t   *root;
    ngx_file_info_t  fi;
    u_char        path[NGX_MAX_PATH];

    root = ngx_gp_media_root();

    if (ngx_gp_media_path(root, it->name, ngx_strlen(it->name), path,
                          sizeof(path))
        == 0)
    {
        return NULL;
    }

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NULL;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
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


/* the media as OpenAI content parts; text parts note the failures */

static json_t *
ngx_gp_media_parts(ngx_gp_media_t *m, ngx_uint_t fmt, json_t *parts)
{
    char                 *data;
    json_t               *part, *url;
    ngx_uint_t            i;
    ngx_gp_media_item_t  *it;
    u_char                buf[1024];

    (void) ngx_gp_media_base(m);

    it = m->items.elts;

    for (i = 0; i < m->items.nelts; i++) {

        if (it[i].state != NGX_GP_MEDIA_DONE) {
            ngx_snprintf(buf, sizeof(buf) - 1,
                         "(%s %ui could not be retrieved: %s)%Z",
                         it[i].video ? "video" : "image", it[i].index,
                         it[i].error[0] ? (char *) it[i].error
                                        : "unknown error");
            part = json_pack("{s:s, s:s}", "type", "text", "text",
                             (char *) buf);

        } else {
            data = NULL;

            if (fmt == NGX_GP_FMT_B64 && !it[i].video) {
                data = ngx_gp_media_data_url(&it[i]);
            }

            if (data == NULL) {
                (void) ngx_gp_media_url(m, &it[i], buf, sizeof(buf));
            }

            url = json_string(data ? data : (char *) buf);
            free(data);

            part = json_pack("{s:s, s:{s:o}}", "type", "image_url",
                             "image_url", "url", url);
        }

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            return NULL;
        }
    }

    return parts;
}


/*
 * A rendered chat.completion whose message.content becomes an array of
 * parts: the text (when any), then the media.  malloc'ed.
 */

char *
ngx_gp_media_completion(ngx_gp_media_t *m, ngx_uint_t fmt,
    const char *rendered, size_t rlen, size_t *len)
{
    char        *s;
    json_t      *root, *msg, *parts, *text;
    const char  *t;

    root = json_loadb(rendered, rlen, 0, NULL);
    if (root == NULL) {
        return NULL;
    }

    msg = json_object_get(json_array_get(json_object_get(root, "choices"),
                                         0),
                          "message");
    text = json_object_get(msg, "content");
    t = json_string_value(text);

    parts = json_array();

    if (parts && t && t[0]) {
        (void) json_array_append_new(parts,
                                     json_pack("{s:s, s:O}", "type", "text",
                                               "text", text));
    }

    if (msg == NULL || parts == NULL
        || ngx_gp_media_parts(m, fmt, parts) == NULL
        || json_object_set_new(msg, "content", parts) != 0)
    {
        json_decref(parts);
        json_decref(root);
        return NULL;
    }

    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    if (s) {
        *len = ngx_strlen(s);
    }

    return s;
}


/* one SSE chunk whose delta.content is the media as parts; malloc'ed */

char *
ngx_gp_media_chunk(ngx_gp_media_t *m, ngx_uint_t fmt, const char *id,
    const char *model, time_t created, ngx_uint_t role, size_t *len)
{
    char    *s, *out;
    size_t   n;
    json_t  *root, *delta, *parts;

    parts = json_array();
    if (parts == NULL || ngx_gp_media_parts(m, fmt, parts) == NULL) {
        json_decref(parts);
        return NULL;
    }

    delta = role ? json_pack("{s:s, s:o}", "role", "assistant", "content",
                             parts)
                 : json_pack("{s:o}", "content", parts);

    root = delta ? json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n}]}",
                             "id", id, "object", "chat.completion.chunk",
                             "created", (json_int_t) created, "model", model,
                             "choices", "index", 0, "delta", delta,
                             "finish_reason")
                 : NULL;

    if (root == NULL) {
        return NULL;
    }

    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    if (s == NULL) {
        return NULL;
    }

    n = ngx_strlen(s);

    out = malloc(n + sizeof("data: \n\n"));
    if (out == NULL) {
        free(s);
        return NULL;
    }

    ngx_sprintf((u_char *) out, "data: %s\n\n%Z", s);
    free(s);

    *len = n + sizeof("data: \n\n") - 1;

    return out;
}


/* {"created":T,"data":[{"url"} | {"b64_json"}]}, malloc'ed */

char *
ngx_gp_media_images_response(ngx_gp_media_t *m, ngx_uint_t b64,
    time_t created, size_t *len)
{
    char                 *s, *data, *comma;
    json_t               *root, *list, *item;
    ngx_uint_t            i;
    ngx_gp_media_item_t  *it;
    u_char                buf[1024];

    (void) ngx_gp_media_base(m);

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    it = m->items.elts;

    for (i = 0; i < m->items.nelts; i++) {
        if (it[i].state != NGX_GP_MEDIA_DONE) {
            continue;
        }

        if (b64 && (data = ngx_gp_media_data_url(&it[i])) != NULL) {
            comma = ngx_strchr(data, ',');
            item = json_pack("{s:s}", "b64_json", comma ? comma + 1 : data);
            free(data);

        } else {
            (void) ngx_gp_media_url(m, &it[i], buf, sizeof(buf));
            item = json_pack("{s:s}", "url", (char *) buf);
        }

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    root = json_pack("{s:I, s:o}", "created", (json_int_t) created, "data",
                     list);
    if (root == NULL) {
        return NULL;
    }

    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);

    if (s) {
        *len = ngx_strlen(s);
    }

    return s;
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

    if (ngx_open_cached_file(clcf->open_file_cache, &path, &of, r->pool)
        != NGX_OK)
    {
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


static ngx_int_t
ngx_gp_media_noop(ngx_tree_ctx_t *ctx, ngx_str_t *path)
{
    return NGX_OK;
}


static ngx_int_t
ngx_gp_media_collect(ngx_tree_ctx_t *ctx, ngx_str_t *path)
{
    u_char               *p;
    ngx_array_t          *files = ctx->data;
    ngx_gp_media_file_t  *f;

    f = ngx_array_push(files);
    if (f == NULL) {
        return NGX_ABORT;
    }

    f->path.data = ngx_pnalloc(files->pool, path->len + 1);
    if (f->path.data == NULL) {
        return NGX_ABORT;
    }

    ngx_memcpy(f->path.data, path->data, path->len + 1);
    f->path.len = path->len;
    f->mtime = ctx->mtime;
    f->size = ctx->size;

    p = path->data + path->len;

    while (p > path->data && p[-1] != '/') {
        p--;
    }

    f->part = (*p == '.');

    return NGX_OK;
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
    ngx_tree_ctx_t                     tree;
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

    ngx_memzero(&tree, sizeof(ngx_tree_ctx_t));
    tree.file_handler = ngx_gp_media_collect;
    tree.pre_tree_handler = ngx_gp_media_noop;
    tree.post_tree_handler = ngx_gp_media_noop;
    tree.spec_handler = ngx_gp_media_noop;
    tree.data = &files;
    tree.log = cycle->log;

    (void) ngx_walk_tree(&tree, &gmcf->helper_path->name);

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


/* POST /v1/images/generations */

static void ngx_gp_images_body(ngx_http_request_t *r);


ngx_int_t
ngx_gp_images_handler(ngx_http_request_t *r)
{
    ngx_int_t           rc;
    ngx_gp_oai_error_t  err;

    if (r->method != NGX_HTTP_POST) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_NOT_ALLOWED,
                             "invalid_request_error", "method_not_allowed",
                             NULL, "use POST for /v1/images/generations");
        return ngx_gp_send_error(r, &err);
    }

    rc = ngx_http_read_client_request_body(r, ngx_gp_images_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_gp_images_size_valid(const char *s)
{
    const char  *p;

    if (ngx_strcmp(s, "auto") == 0) {
        return 1;
    }

    p = s;

    while (*p >= '0' && *p <= '9') {
        p++;
    }

    if (p == s || p - s > 5 || *p != 'x') {
        return 0;
    }

    s = ++p;

    while (*p >= '0' && *p <= '9') {
        p++;
    }

    return p > s && p - s <= 5 && *p == '\0';
}


static void
ngx_gp_images_body(ngx_http_request_t *r)
{
    json_t               *root, *v;
    ngx_str_t             body;
    json_error_t          jerr;
    const char           *s;
    ngx_gp_oai_error_t    err;
    ngx_gp_images_req_t   ir;

    if (ngx_gp_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&ir, sizeof(ngx_gp_images_req_t));
    ir.n = 1;

    root = json_loadb((char *) body.data, body.len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error", "invalid_json", NULL,
                             "The body is not a JSON object");
        goto failed;
    }

    v = json_object_get(root, "prompt");
    s = json_string_value(v);

    if (s == NULL || s[0] == '\0') {
        ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                             "invalid_request_error",
                             v ? "invalid_type" : "missing_required_parameter",
                             "prompt", "'prompt' must be a non-empty string");
        goto failed;
    }

    ir.prompt_len = json_string_length(v);

    v = json_object_get(root, "n");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1
            || json_integer_value(v) > 10)
        {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "invalid_value",
                                 "n", "'n' must be an integer from 1 to 10");
            goto failed;
        }

        ir.n = (ngx_uint_t) json_integer_value(v);
    }

    v = json_object_get(root, "size");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)
            || !ngx_gp_images_size_valid(json_string_value(v)))
        {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "invalid_value",
                                 "size", "'size' must be \"auto\" or "
                                 "\"<width>x<height>\", like \"1024x1024\"");
            goto failed;
        }

        if (ngx_strcmp(json_string_value(v), "auto") != 0) {
            ir.size = strdup(json_string_value(v));
            if (ir.size == NULL) {
                goto oom;
            }
        }
    }

    v = json_object_get(root, "response_format");

    if (v && !json_is_null(v)) {
        s = json_string_value(v);

        if (s == NULL
            || (ngx_strcmp(s, "url") != 0 && ngx_strcmp(s, "b64_json") != 0))
        {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "invalid_value",
                                 "response_format", "'response_format' must "
                                 "be \"url\" or \"b64_json\"");
            goto failed;
        }

        ir.b64 = (s[0] == 'b');
    }

    v = json_object_get(root, "model");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            ngx_gp_oai_error_set(&err, NGX_HTTP_BAD_REQUEST,
                                 "invalid_request_error", "invalid_type",
                                 "model", "'model' must be a string");
            goto failed;
        }

        if (json_string_length(v)) {
            ir.model = strdup(json_string_value(v));
            if (ir.model == NULL) {
                goto oom;
            }
        }
    }

    ir.prompt = malloc(ir.prompt_len + 1);
    if (ir.prompt == NULL) {
        goto oom;
    }

    ngx_memcpy(ir.prompt, json_string_value(json_object_get(root, "prompt")),
               ir.prompt_len + 1);

    json_decref(root);

    ngx_gp_images_generate(r, &ir);
    return;

oom:

    ngx_gp_oai_error_set(&err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "server_error", "internal_error", NULL,
                         "out of memory");

failed:

    json_decref(root);
    free(ir.size);
    free(ir.model);
    free(ir.prompt);

    ngx_http_finalize_request(r, ngx_gp_send_error(r, &err));
}


/*
 * Runs an image generation as a chat turn of an image model: the prompt
 * (with the count and size as hints: the upstream has no such fields),
 * the input images of an edit as image parts.  Takes ir's memory.
 */

void
ngx_gp_images_generate(ngx_http_request_t *r, ngx_gp_images_req_t *ir)
{
    char            *text, *s;
    u_char          *p;
    size_t           i;
    json_t          *root, *content, *part;
    ngx_str_t        body;
    ngx_uint_t       k, started;
    ngx_gp_zone_t   *z;
    const char      *model;
    ngx_gp_image_ref_t  *img;
    u_char           name[NGX_GP_MODEL_LEN];

    z = ngx_gp_zone();
    model = ir->model;

    if (model == NULL || ngx_strncmp(model, "dall-e", 6) == 0
        || ngx_strncmp(model, "gpt-image", 9) == 0)
    {
        /* OpenAI's names, and none: the first image model */
        ngx_cpystrn(name, (u_char *) "gemini-image", sizeof(name));

        ngx_shmtx_lock(&z->shpool->mutex);

        for (k = 0; k < z->sh->nmodels; k++) {
            if (z->sh->models[k].kind == NGX_GP_MODEL_IMAGE) {
                ngx_cpystrn(name, z->sh->models[k].name, sizeof(name));
                break;
            }
        }

        ngx_shmtx_unlock(&z->shpool->mutex);

        model = (char *) name;
    }

    text = malloc(ir->prompt_len + 128);
    root = NULL;
    s = NULL;
    started = 0;

    if (text == NULL) {
        goto failed;
    }

    p = ngx_cpymem(text, ir->prompt, ir->prompt_len);

    if (ir->n > 1) {
        p = ngx_sprintf(p, "\n\n(Generate %ui separate images.)", ir->n);
    }

    if (ir->size) {
        p = ngx_sprintf(p, "%s(Size: %s.)", ir->n > 1 ? "\n" : "\n\n",
                        ir->size);
    }

    *p = '\0';

    content = json_array();
    root = json_pack("{s:s, s:[{s:s, s:o}]}", "model", model, "messages",
                     "role", "user", "content", content);
    part = json_pack("{s:s, s:s%}", "type", "text", "text", text,
                     (size_t) (p - (u_char *) text));

    if (root == NULL || part == NULL
        || json_array_append_new(content, part) != 0)
    {
        goto failed;
    }

    for (i = 0; i < ir->nimages; i++) {
        img = &ir->images[i];

        if (img->kind == NGX_GP_IMAGE_FILE && img->file_id) {
            part = json_pack("{s:s, s:s}", "type", "file", "file_id",
                             img->file_id);

        } else if (img->kind == NGX_GP_IMAGE_URL && img->url) {
            part = json_pack("{s:s, s:{s:s}}", "type", "image_url",
                             "image_url", "url", img->url);

        } else if (img->data) {
            s = malloc(img->data_len + 64);
            if (s == NULL) {
                goto failed;
            }

            p = ngx_sprintf((u_char *) s, "data:%s;base64,",
                            img->mime ? img->mime : "image/png");
            p = ngx_cpymem(p, img->data, img->data_len);
            *p = '\0';

            part = json_pack("{s:s, s:{s:s}}", "type", "image_url",
                             "image_url", "url", s);
            free(s);
            s = NULL;

        } else {
            continue;
        }

        if (part == NULL || json_array_append_new(content, part) != 0) {
            goto failed;
        }
    }

    s = json_dumps(root, JSON_COMPACT);
    if (s == NULL) {
        goto failed;
    }

    json_decref(root);
    root = NULL;
    free(text);
    text = NULL;

    body.data = (u_char *) s;
    body.len = ngx_strlen(s);

    ngx_gp_chat_start(r, &body, ir->b64 ? NGX_GP_IMAGES_B64
                                        : NGX_GP_IMAGES_URL);

    free(s);
    started = 1;

failed:

    if (!started) {
        free(text);
        json_decref(root);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    for (i = 0; i < ir->nimages; i++) {
        img = &ir->images[i];
        free(img->mime);
        free(img->data);
        free(img->url);
        free(img->file_id);
    }

    free(ir->images);
    free(ir->model);
    free(ir->prompt);
    free(ir->size);
    ngx_memzero(ir, sizeof(ngx_gp_images_req_t));
}
