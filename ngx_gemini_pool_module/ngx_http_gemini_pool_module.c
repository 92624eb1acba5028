
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The module object: directives, configuration, process hooks, and the
 * filter that turns nginx's own 413 page into an error object in the API
 * location (in the shape of the request's surface).
 */


#include "ngx_http_gemini_pool_module.h"


static void *ngx_http_gemini_pool_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_gemini_pool_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_gemini_pool_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gemini_pool_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_gemini_pool_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_gemini_pool_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_gemini_pool_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_gemini_pool_init_process(ngx_cycle_t *cycle);
static void ngx_http_gemini_pool_exit_process(ngx_cycle_t *cycle);
static void ngx_http_gemini_pool_exit_master(ngx_cycle_t *cycle);

static char *ngx_http_gemini_pool_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_gemini_pool_admin_secret(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf);
static ngx_int_t ngx_http_gemini_pool_admin_threads(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf);
static ngx_int_t ngx_http_gemini_pool_secret_key(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf);
static char *ngx_http_gemini_pool_media_cache(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_gemini_pool_handler(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_gemini_pool_trusted_proxy(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_gemini_pool_url(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_gemini_pool_browser(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gemini_pool_recipe(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf);
static char *ngx_http_gemini_pool_proxy_url(ngx_conf_t *cf, void *post,
    void *data);

static ngx_int_t ngx_http_gemini_pool_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_gemini_pool_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_conf_post_t  ngx_http_gemini_pool_url_post = {
    ngx_http_gemini_pool_url
};

static ngx_conf_post_t  ngx_http_gemini_pool_proxy_post = {
    ngx_http_gemini_pool_proxy_url
};


static ngx_command_t  ngx_http_gemini_pool_commands[] = {

    { ngx_string("gemini_pool_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_gemini_pool_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_cluster"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_gp_cluster_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, database),
      NULL },

    { ngx_string("gemini_pool_auth_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, auth_url),
      &ngx_http_gemini_pool_url_post },

    { ngx_string("gemini_pool_api_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, api_url),
      &ngx_http_gemini_pool_url_post },

    { ngx_string("gemini_pool_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, login_url),
      &ngx_http_gemini_pool_url_post },

    { ngx_string("gemini_pool_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("gemini_pool_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, ssl_verify),
      NULL },

    { ngx_string("gemini_pool_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, connect_timeout),
      NULL },

    { ngx_string("gemini_pool_xsrf_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, xsrf_timeout),
      NULL },

    { ngx_string("gemini_pool_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, session_timeout),
      NULL },

    { ngx_string("gemini_pool_stream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, stream_timeout),
      NULL },

    { ngx_string("gemini_pool_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, idle_timeout),
      NULL },

    { ngx_string("gemini_pool_upload_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, upload_timeout),
      NULL },

    { ngx_string("gemini_pool_download_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, download_timeout),
      NULL },

    { ngx_string("gemini_pool_fetch_allow"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_gp_fetch_allow,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_fetch_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, fetch_max_size),
      NULL },

    { ngx_string("gemini_pool_fetch_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, fetch_timeout),
      NULL },

    { ngx_string("gemini_pool_proxy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, proxy),
      &ngx_http_gemini_pool_proxy_post },

    { ngx_string("gemini_pool_max_host_connections"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, max_host_connections),
      NULL },

    { ngx_string("gemini_pool_http2"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, http2),
      NULL },

    { ngx_string("gemini_pool_demo"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, demo),
      NULL },

    { ngx_string("gemini_pool_jwt_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, jwt_refresh),
      NULL },

    { ngx_string("gemini_pool_max_connections"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, max_connections),
      NULL },

    { ngx_string("gemini_pool_media_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1234,
      ngx_http_gemini_pool_media_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_media"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gemini_pool_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_GP_HANDLER_MEDIA,
      NULL },

    { ngx_string("gemini_pool_trusted_proxy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_gemini_pool_trusted_proxy,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_helper_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, helper_interval),
      NULL },

    { ngx_string("gemini_pool_browser"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gemini_pool_browser,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gemini_pool_signin_recipe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, signin_recipe),
      NULL },

    { ngx_string("gemini_pool_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gemini_pool_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_GP_HANDLER_API,
      NULL },

    { ngx_string("gemini_pool_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gemini_pool_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_GP_HANDLER_ADMIN,
      NULL },

    { ngx_string("gemini_pool_admin_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_main_conf_t, admin_thread_pool),
      NULL },

    { ngx_string("gemini_pool_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gemini_pool_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_GP_HANDLER_METRICS,
      NULL },

    { ngx_string("gemini_pool_api_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_loc_conf_t, api_keys),
      NULL },

    { ngx_string("gemini_pool_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gemini_pool_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_GP_HANDLER_HEALTH,
      NULL },

    { ngx_string("gemini_pool_sse_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_loc_conf_t, keepalive),
      NULL },

    { ngx_string("gemini_pool_max_answer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gemini_pool_loc_conf_t, max_answer),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gemini_pool_module_ctx = {
    ngx_http_gemini_pool_preconfiguration, /* preconfiguration */
    ngx_http_gemini_pool_postconfiguration, /* postconfiguration */

    ngx_http_gemini_pool_create_main_conf, /* create main configuration */
    ngx_http_gemini_pool_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gemini_pool_create_loc_conf,  /* create location configuration */
    ngx_http_gemini_pool_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_gemini_pool_module = {
    NGX_MODULE_V1,
    &ngx_http_gemini_pool_module_ctx,      /* module context */
    ngx_http_gemini_pool_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_gemini_pool_init_module,      /* init module */
    ngx_http_gemini_pool_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_gemini_pool_exit_process,     /* exit process */
    ngx_http_gemini_pool_exit_master,      /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_gemini_pool_vars[] = {

    { ngx_string("gemini_pool_account"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_ACCOUNT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_attempts"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_ATTEMPTS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_upstream_status"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_UPSTREAM_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_model"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_api_key"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_API_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_ttfb"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_TTFB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gemini_pool_conversation"), NULL, ngx_gp_chat_variable,
      NGX_GP_VAR_CONVERSATION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_uint_t  ngx_http_gemini_pool_curl_global;


static void *
ngx_http_gemini_pool_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gemini_pool_main_conf_t));
    if (gmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     gmcf->shm_zone = NULL;
     *     gmcf->database = { 0, NULL };
     *     gmcf->auth_url = { 0, NULL };
     *     gmcf->helper_path = NULL;
     */

    gmcf->ssl_verify = NGX_CONF_UNSET;
    gmcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->xsrf_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->session_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->stream_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->idle_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->helper_interval = NGX_CONF_UNSET_MSEC;
    gmcf->jwt_refresh = NGX_CONF_UNSET;
    gmcf->upload_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->download_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->max_host_connections = NGX_CONF_UNSET_UINT;
    gmcf->http2 = NGX_CONF_UNSET;
    gmcf->demo = NGX_CONF_UNSET;
    gmcf->max_connections = NGX_CONF_UNSET_UINT;
    gmcf->fetch_max_size = NGX_CONF_UNSET_SIZE;
    gmcf->fetch_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->media_inactive = NGX_CONF_UNSET;

    return gmcf;
}


static char *
ngx_http_gemini_pool_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    ngx_path_t  *path;

    if (ngx_gp_settings_init(cf->log) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->auth_url.len == 0) {
        ngx_str_set(&gmcf->auth_url, "https://business.gemini.google");
    }

    if (gmcf->api_url.len == 0) {
        ngx_str_set(&gmcf->api_url,
                    "https://biz-discoveryengine.googleapis.com");
    }

    if (gmcf->login_url.len == 0) {
        ngx_str_set(&gmcf->login_url, "https://auth.business.gemini.google");
    }

    if (gmcf->database.len == 0) {
        ngx_str_set(&gmcf->database, "gemini_pool.db");
    }

    if (ngx_conf_full_name(cf->cycle, &gmcf->database, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->shm_zone
        && (ngx_http_gemini_pool_admin_secret(cf, gmcf) != NGX_OK
            || ngx_http_gemini_pool_secret_key(cf, gmcf) != NGX_OK))
    {
        return NGX_CONF_ERROR;
    }

    if (gmcf->ssl_trusted_certificate.len
        && ngx_conf_full_name(cf->cycle, &gmcf->ssl_trusted_certificate, 1)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(gmcf->ssl_verify, 1);
    ngx_conf_init_msec_value(gmcf->connect_timeout, 20000);
    ngx_conf_init_msec_value(gmcf->xsrf_timeout, 30000);
    ngx_conf_init_msec_value(gmcf->session_timeout, 30000);
    ngx_conf_init_msec_value(gmcf->stream_timeout, 300000);
    ngx_conf_init_msec_value(gmcf->idle_timeout, 300000);
    ngx_conf_init_msec_value(gmcf->helper_interval, 1000);
    ngx_conf_init_uint_value(gmcf->max_connections, 1024);
    ngx_conf_init_value(gmcf->jwt_refresh, 240);
    ngx_conf_init_msec_value(gmcf->upload_timeout, 60000);
    ngx_conf_init_msec_value(gmcf->download_timeout, 120000);
    ngx_conf_init_uint_value(gmcf->max_host_connections, 64);
    ngx_conf_init_value(gmcf->http2, 1);
    ngx_conf_init_value(gmcf->demo, 0);
    ngx_conf_init_size_value(gmcf->fetch_max_size, 20 * 1024 * 1024);
    ngx_conf_init_msec_value(gmcf->fetch_timeout, 30000);
    ngx_conf_init_value(gmcf->media_inactive, 3600);

    if (gmcf->jwt_refresh < 1 || gmcf->jwt_refresh > NGX_GP_JWT_LIFETIME - 10)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_jwt_refresh must be between 1s "
                           "and %ds: a JWT lives %d s",
                           NGX_GP_JWT_LIFETIME - 10, NGX_GP_JWT_LIFETIME);
        return NGX_CONF_ERROR;
    }

    if (!gmcf->ssl_verify) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "gemini_pool_ssl_verify is off: upstream "
                           "certificates are not verified");
    }

    if (gmcf->demo) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "gemini_pool_demo is on: a demonstration "
                           "(/health and the console say so), not a "
                           "pool of real accounts");
    }

    if (ngx_http_gemini_pool_recipe(cf, gmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->shm_zone == NULL) {
        return NGX_CONF_OK;
    }

    if (gmcf->helper_path == NULL) {
        path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
        if (path == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_set(&path->name, "gemini_pool_media");

        if (ngx_conf_full_name(cf->cycle, &path->name, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        path->conf_file = cf->conf_file->file.name.data;
        path->line = cf->conf_file->line;
        gmcf->helper_path = path;
    }

    if (ngx_http_gemini_pool_admin_threads(cf, gmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    gmcf->helper_path->manager = ngx_gp_helper_manager;
    gmcf->helper_path->data = gmcf;

    if (ngx_add_path(cf, &gmcf->helper_path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A secret kept in a file next to the database, "<database><suffix>": read
 * when it exists, else 32 random bytes written as hex, readable only by
 * the owner (the master, which reads it at configuration time; workers
 * inherit the configuration).  out gets the text, NUL-terminated.
 */

static ngx_int_t
ngx_http_gemini_pool_secret_file(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf, const char *suffix,
    const char *what, u_char *out, size_t size, size_t *len)
{
    char       *hex;
    size_t      slen;
    ssize_t     n;
    ngx_fd_t    fd;
    u_char     *path, *p;

    slen = ngx_strlen(suffix);

    path = ngx_pnalloc(cf->pool, gmcf->database.len + slen + 1);
    if (path == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path, gmcf->database.data, gmcf->database.len);
    ngx_memcpy(p, suffix, slen + 1);

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        n = ngx_read_fd(fd, out, size - 1);
        ngx_close_file(fd);

        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
            n--;
        }

        if (n < 16) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the %s in \"%s\" is shorter than 16 "
                               "characters", what, path);
            return NGX_ERROR;
        }

        out[n] = '\0';
        *len = n;
        return NGX_OK;
    }

    hex = ngx_gp_random_hex(32);
    if (hex == NULL) {
        return NGX_ERROR;
    }

    fd = open((char *) path, O_WRONLY | O_CREAT | O_EXCL, 0600);

    if (fd == NGX_INVALID_FILE
        || write(fd, hex, 64) != 64
        || write(fd, "\n", 1) != 1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot write the %s to \"%s\"", what, path);
        if (fd != NGX_INVALID_FILE) {
            ngx_close_file(fd);
        }

        free(hex);
        return NGX_ERROR;
    }

    ngx_close_file(fd);

    ngx_memcpy(out, hex, 65);
    *len = 64;
    ngx_explicit_memzero(hex, 64);
    free(hex);

    ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                  "gemini pool: %s generated in \"%s\" (readable by its "
                  "owner only)", what, path);

    return NGX_OK;
}


/*
 * The admin password check (600,000 PBKDF2 iterations, about half a
 * second of CPU) runs in a thread pool of nginx so that the worker keeps
 * serving while it runs: gemini_pool_admin_thread_pool names one declared
 * by "thread_pool", or "default" (nginx creates it with 32 threads when no
 * "thread_pool default" is declared); "off", or an nginx built without
 * threads, checks in the event loop.  Only when a location has
 * gemini_pool_admin: other configurations start no threads.
 */

static ngx_int_t
ngx_http_gemini_pool_admin_threads(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf)
{
    if (gmcf->admin_thread_pool.len == 0) {
        ngx_str_set(&gmcf->admin_thread_pool, "default");
    }

    if (!gmcf->admin_used
        || (gmcf->admin_thread_pool.len == 3
            && ngx_strncmp(gmcf->admin_thread_pool.data, "off", 3) == 0))
    {
        return NGX_OK;
    }

#if (NGX_THREADS)

    gmcf->admin_tp = ngx_thread_pool_add(cf, &gmcf->admin_thread_pool);
    if (gmcf->admin_tp == NULL) {
        return NGX_ERROR;
    }

#else

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "nginx is built without threads: the admin "
                       "password check runs in the event loop, and each "
                       "login stalls the worker for its duration");

#endif

    return NGX_OK;
}


/*
 * The admin secret: ADMIN_SECRET_KEY from the environment (read by the
 * master), or "<database>.admin-secret".  Remote sync peers and scripts
 * send it as X-Admin-Token; admin session tokens are signed with it.
 */

static ngx_int_t
ngx_http_gemini_pool_admin_secret(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf)
{
    char    *env;
    size_t   len;

    env = getenv("ADMIN_SECRET_KEY");

    if (env == NULL || env[0] == '\0') {
        return ngx_http_gemini_pool_secret_file(cf, gmcf, ".admin-secret",
                                                "admin secret",
                                                gmcf->admin_secret,
                                                sizeof(gmcf->admin_secret),
                                                &gmcf->admin_secret_len);
    }

    len = ngx_strlen(env);

    if (len < 16 || len >= sizeof(gmcf->admin_secret)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ADMIN_SECRET_KEY must be 16 to %uz characters "
                           "long", sizeof(gmcf->admin_secret) - 1);
        return NGX_ERROR;
    }

    ngx_memcpy(gmcf->admin_secret, env, len + 1);
    gmcf->admin_secret_len = len;

    return NGX_OK;
}


/*
 * The key of the secrets at rest: API_KEY_ENCRYPTION_KEY (64 hex
 * characters or base64 of 32 bytes), else "<database>.key".  Keep it with
 * the database.  API_KEY_ENCRYPTION_KEY_OLD, when set, is the key being
 * rotated away from: values under it are encrypted again under the new
 * one when the database is loaded.
 */

static ngx_int_t
ngx_http_gemini_pool_secret_key(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf)
{
    char       *env;
    size_t      len;
    ngx_int_t   rc;
    u_char      buf[128];

    env = getenv("API_KEY_ENCRYPTION_KEY_OLD");

    if (env && env[0]) {
        if (ngx_gp_key_parse(env, ngx_strlen(env), gmcf->secret_key_old)
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "API_KEY_ENCRYPTION_KEY_OLD is not 64 hex "
                               "characters or base64 of 32 bytes");
            return NGX_ERROR;
        }

        gmcf->has_old_key = 1;
    }

    env = getenv("API_KEY_ENCRYPTION_KEY");

    if (env && env[0]) {
        if (ngx_gp_key_parse(env, ngx_strlen(env), gmcf->secret_key) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "API_KEY_ENCRYPTION_KEY is not 64 hex "
                               "characters or base64 of 32 bytes");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_gemini_pool_secret_file(cf, gmcf, ".key",
                                         "encryption key for secrets at rest",
                                         buf, sizeof(buf), &len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_gp_key_parse((char *) buf, len, gmcf->secret_key);
    ngx_explicit_memzero(buf, sizeof(buf));

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the database's .key file does not hold 64 hex "
                           "characters");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_gemini_pool_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gemini_pool_loc_conf_t  *glcf;

    glcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gemini_pool_loc_conf_t));
    if (glcf == NULL) {
        return NULL;
    }

    glcf->keepalive = NGX_CONF_UNSET_MSEC;
    glcf->max_answer = NGX_CONF_UNSET_SIZE;
    glcf->api_keys = NGX_CONF_UNSET;

    return glcf;
}


static char *
ngx_http_gemini_pool_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_gemini_pool_loc_conf_t  *prev = parent;
    ngx_http_gemini_pool_loc_conf_t  *conf = child;

    ngx_conf_merge_msec_value(conf->keepalive, prev->keepalive, 15000);
    ngx_conf_merge_size_value(conf->max_answer, prev->max_answer,
                              8 * 1024 * 1024);
    ngx_conf_merge_value(conf->api_keys, prev->api_keys, 1);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gemini_pool_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gemini_pool_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gemini_pool_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_gemini_pool_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_gemini_pool_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gemini_pool_init_module(ngx_cycle_t *cycle)
{
    CURLcode  rc;

    if (ngx_http_gemini_pool_curl_global) {
        return NGX_OK;
    }

    rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "gemini pool: curl_global_init() failed: %s",
                      curl_easy_strerror(rc));
        return NGX_ERROR;
    }

    ngx_http_gemini_pool_curl_global = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gemini_pool_init_process(ngx_cycle_t *cycle)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gemini_pool_module);

    if (gmcf == NULL || gmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE
        && ngx_process != NGX_PROCESS_HELPER)
    {
        return NGX_OK;
    }

    if (ngx_gp_curl_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    /* this process slot's last holder of requests in flight is gone */
    ngx_gp_zone_holder_start(gmcf->shm_zone->data);

    if (ngx_gp_cluster_config_init_process(cycle) != NGX_OK
        || ngx_gp_cluster_state_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_gp_helper_init_process(cycle);
}


static void
ngx_http_gemini_pool_exit_process(ngx_cycle_t *cycle)
{
    ngx_gp_helper_exit_process(cycle);
    ngx_gp_cluster_exit_process(cycle);
    ngx_gp_curl_exit_process(cycle);
    ngx_gp_store_close();
    ngx_gp_crypto_cleanup();
}


static void
ngx_http_gemini_pool_exit_master(ngx_cycle_t *cycle)
{
    if (ngx_http_gemini_pool_curl_global) {
        curl_global_cleanup();
        ngx_http_gemini_pool_curl_global = 0;
    }

    ngx_gp_crypto_cleanup();
}


static char *
ngx_http_gemini_pool_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    u_char          *p;
    ssize_t          size;
    ngx_str_t       *value, name, s;
    ngx_gp_zone_t   *ctx;

    if (gmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) ngx_gp_zone_minimum()) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, at least %uzk "
                           "(and more for each account and conversation: "
                           "see docs/directives.md)",
                           &value[1], ngx_gp_zone_minimum() / 1024 + 1);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_gp_zone_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->gmcf = gmcf;
    ctx->cycle = cf->cycle;

    gmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_gemini_pool_module);
    if (gmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    gmcf->shm_zone->init = ngx_gp_store_zone_init;
    gmcf->shm_zone->data = ctx;
    gmcf->zone_name = name;

    return NGX_CONF_OK;
}


static char *
ngx_http_gemini_pool_media_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    ssize_t      n;
    ngx_str_t   *value, s;
    ngx_uint_t   i, k;
    ngx_path_t  *path;
    u_char      *p;

    if (gmcf->helper_path) {
        return "is duplicate";
    }

    value = cf->args->elts;

    path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    path->name = value[1];

    if (path->name.len > 1 && path->name.data[path->name.len - 1] == '/') {
        path->name.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &path->name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "levels=", 7) == 0) {
            /* like proxy_cache_path: "1", "1:2", "2:2:1" */
            p = value[i].data + 7;
            k = 0;

            while (p < value[i].data + value[i].len) {
                if (k == NGX_MAX_PATH_LEVEL || (*p != '1' && *p != '2')) {
                    goto invalid;
                }

                path->level[k++] = *p++ - '0';

                if (p < value[i].data + value[i].len && *p++ != ':') {
                    goto invalid;
                }
            }

            if (k == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "inactive=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            gmcf->media_inactive = ngx_parse_time(&s, 1);

            if (gmcf->media_inactive == (time_t) NGX_ERROR
                || gmcf->media_inactive < 1)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            n = ngx_parse_offset(&s);

            if (n == NGX_ERROR) {
                goto invalid;
            }

            gmcf->media_max_size = n;
            continue;
        }

        goto invalid;
    }

    gmcf->helper_path = path;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of "
                       "gemini_pool_media_cache: expected levels=1:2, "
                       "inactive=<time> or max_size=<size>", &value[i]);

    return NGX_CONF_ERROR;
}


/* X-Forwarded-Host and -Proto are honoured from these addresses only */

static char *
ngx_http_gemini_pool_trusted_proxy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_cidr_t  *cidr;

    value = cf->args->elts;

    if (gmcf->trusted_proxies == NULL) {
        gmcf->trusted_proxies = ngx_array_create(cf->pool, 2,
                                                 sizeof(ngx_cidr_t));
        if (gmcf->trusted_proxies == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(gmcf->trusted_proxies);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 5 && ngx_strcmp(value[1].data, "unix:") == 0) {
        cidr->family = AF_UNIX;
        return NGX_CONF_OK;
    }

    rc = ngx_ptocidr(&value[1], cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address or network \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless",
                           &value[1]);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gemini_pool_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_gemini_pool_loc_conf_t  *glcf = conf;

    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    if (glcf->handler != NGX_GP_HANDLER_NONE) {
        return "is duplicate";
    }

    gmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_gemini_pool_module);

    if (gmcf->shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"gemini_pool_zone\" in the http "
                           "block before it", &cmd->name);
        return NGX_CONF_ERROR;
    }

    glcf->handler = cmd->offset;

    if (cmd->offset == NGX_GP_HANDLER_ADMIN) {
        gmcf->admin_used = 1;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (cmd->offset == NGX_GP_HANDLER_API) ? ngx_gp_api_handler
                    : (cmd->offset == NGX_GP_HANDLER_ADMIN)
                      ? ngx_gp_admin_handler
                    : (cmd->offset == NGX_GP_HANDLER_METRICS)
                      ? ngx_gp_metrics_handler
                    : (cmd->offset == NGX_GP_HANDLER_MEDIA)
                      ? ngx_gp_media_handler : ngx_gp_health_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_gemini_pool_url(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    if (!(url->len > 7 && ngx_strncasecmp(url->data,
                                          (u_char *) "http://", 7) == 0)
        && !(url->len > 8 && ngx_strncasecmp(url->data,
                                             (u_char *) "https://", 8) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": expected http:// or "
                           "https:// and a host", url);
        return NGX_CONF_ERROR;
    }

    while (url->len && url->data[url->len - 1] == '/') {
        url->len--;
    }

    url->data[url->len] = '\0';

    return NGX_CONF_OK;
}


static char *
ngx_http_gemini_pool_browser(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gemini_pool_main_conf_t  *gmcf = conf;

    return ngx_gp_browser_directive(cf, &gmcf->browser);
}


/*
 * The sign-in recipe: gemini_pool_signin_recipe, else "signin.recipe"
 * beside nginx.conf when it exists.  A recipe that does not parse is a
 * configuration error naming its file and line; a browser without a
 * recipe is one too.
 */

static char *
ngx_http_gemini_pool_recipe(ngx_conf_t *cf,
    ngx_http_gemini_pool_main_conf_t *gmcf)
{
    int               line;
    char              err[256];
    u_char           *buf;
    ssize_t           n;
    ngx_str_t         name;
    ngx_uint_t        given;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    given = gmcf->signin_recipe.len != 0;
    name = gmcf->signin_recipe;

    if (!given) {
        ngx_str_set(&name, "signin.recipe");
    }

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = name;
    file.log = cf->log;

    file.fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        if (!given && gmcf->browser.path.len == 0) {
            return NGX_CONF_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open the sign-in recipe \"%V\"%s", &name,
                           given ? "" : " (gemini_pool_browser needs one: "
                           "copy scripts/signin.recipe there or set "
                           "gemini_pool_signin_recipe)");
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 1024 * 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "the sign-in recipe \"%V\" "
                           "cannot be read or is larger than 1m", &name);
        (void) ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, (size_t) ngx_file_size(&fi) + 1);
    gmcf->recipe = ngx_palloc(cf->pool, sizeof(ngx_gp_recipe_t));

    if (buf == NULL || gmcf->recipe == NULL) {
        (void) ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, buf, (size_t) ngx_file_size(&fi), 0);
    (void) ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    line = ngx_gp_recipe_parse(gmcf->recipe, (char *) buf, (size_t) n, err,
                               sizeof(err));

    if (line > 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid sign-in recipe "
                           "in %V:%d: %s", &name, line, err);
        return NGX_CONF_ERROR;
    }

    if (line < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid sign-in recipe "
                           "%V: %s", &name, err);
        return NGX_CONF_ERROR;
    }

    gmcf->signin_recipe = name;

    return NGX_CONF_OK;
}


static char *
ngx_http_gemini_pool_proxy_url(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    u_char  masked[NGX_GP_PROXY_LEN];

    if (url->len >= NGX_GP_PROXY_LEN) {
        return "is too long";
    }

    if (ngx_gp_proxy_valid(url->data)) {
        return NGX_CONF_OK;
    }

    (void) ngx_gp_mask_url((char *) url->data, masked, sizeof(masked));

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid proxy \"%s\": expected http://, https://, "
                       "socks5://, socks5h:// (or socks4://) and a host",
                       masked);

    return NGX_CONF_ERROR;
}


/*
 * nginx refuses a body over client_max_body_size with its own HTML page;
 * in the API location the client gets an error object instead, in the
 * shape of the URI's surface (OpenAI's by default), which names the limit
 * and how to raise it.
 */

static ngx_int_t
ngx_http_gemini_pool_header_filter(ngx_http_request_t *r)
{
    u_char                           *p;
    ngx_str_t                        *body;
    ngx_gp_oai_error_t                err;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_gemini_pool_loc_conf_t  *glcf;
    const ngx_gp_surface_t           *surface;
    size_t                            len;

    /*
     * A worker that is shutting down (a reload) closes the connection
     * after this response: the header says so, and a keep-alive client
     * opens a new connection instead of sending its next request into
     * the closing one.
     */

    if (ngx_exiting) {
        r->keepalive = 0;
    }

    if (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    glcf = ngx_http_get_module_loc_conf(r, ngx_http_gemini_pool_module);

    if (glcf->handler != NGX_GP_HANDLER_API
        && glcf->handler != NGX_GP_HANDLER_ADMIN)
    {
        return ngx_http_next_header_filter(r);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (glcf->handler == NGX_GP_HANDLER_ADMIN) {
        /* the admin API's error shape */
        p = malloc(256);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ngx_snprintf(p, 256, "{\"error\":{\"message\":\"request body "
                           "too large: the limit is %O bytes; raise "
                           "client_max_body_size in the nginx location of "
                           "gemini_pool_admin\",\"code\":"
                           "\"request_too_large\"}}",
                           clcf->client_max_body_size) - p;

    } else {
        ngx_gp_oai_error_set(&err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                             "invalid_request_error", "request_too_large",
                             NULL, "Request body too large: the limit is "
                             "%lld bytes; raise client_max_body_size in the "
                             "nginx location of gemini_pool_api",
                             (long long) clcf->client_max_body_size);

        /* in the shape of the URI's surface (Anthropic's, Google's) */
        surface = ngx_gp_api_surface(r);

        if (surface && surface->render_error) {
            p = (u_char *) surface->render_error(&err, &len);

        } else {
            p = (u_char *) ngx_gp_render_error(&err, &len);
        }
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

    body = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (body == NULL) {
        free(p);
        return NGX_ERROR;
    }

    body->data = ngx_pnalloc(r->pool, len);
    if (body->data == NULL) {
        free(p);
        return NGX_ERROR;
    }

    ngx_memcpy(body->data, p, len);
    body->len = len;
    free(p);

    ngx_http_set_ctx(r, body, ngx_http_gemini_pool_module);

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_gemini_pool_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                        *b;
    ngx_str_t                        *body;
    ngx_chain_t                       out;
    ngx_http_gemini_pool_loc_conf_t  *glcf;

    if (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        || r != r->main)
    {
        return ngx_http_next_body_filter(r, in);
    }

    glcf = ngx_http_get_module_loc_conf(r, ngx_http_gemini_pool_module);

    if (glcf->handler != NGX_GP_HANDLER_API
        && glcf->handler != NGX_GP_HANDLER_ADMIN)
    {
        return ngx_http_next_body_filter(r, in);
    }

    body = ngx_http_get_module_ctx(r, ngx_http_gemini_pool_module);

    if (body == NULL) {
        /* already sent: drop nginx's page */
        return in ? NGX_OK : ngx_http_next_body_filter(r, NULL);
    }

    ngx_http_set_ctx(r, NULL, ngx_http_gemini_pool_module);

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
