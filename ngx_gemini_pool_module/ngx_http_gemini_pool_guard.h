
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The fetch guard of remote input media (included by module.h after the
 * libcurl bridge, whose transfers it judges).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_GUARD_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_GUARD_H_INCLUDED_


/* gemini_pool_fetch_allow address | CIDR | host ...; */
char *ngx_gp_fetch_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * Before a guarded transfer x fetches url (after ngx_gp_xfer_proxy()):
 * sets x->guard_off when gemini_pool_fetch_allow names the host.  Through
 * a proxy the address connected is the proxy's, so a literal address or
 * "localhost" is judged here.  NGX_OK; NGX_DECLINED when refused (the
 * reason "<host> is a <class> address" in x->refused); NGX_ERROR when url
 * is not a valid URL; NGX_ABORT when memory ran out.
 */
ngx_int_t ngx_gp_fetch_host(ngx_gp_xfer_t *x, const char *url);

/*
 * curl's open-socket callback for a guarded transfer: the address about
 * to be connected.  NGX_OK, or NGX_DECLINED with the reason in x->refused.
 */
ngx_int_t ngx_gp_fetch_guard(ngx_gp_xfer_t *x, struct sockaddr *sa);


#endif /* _NGX_HTTP_GEMINI_POOL_GUARD_H_INCLUDED_ */
