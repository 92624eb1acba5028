
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The fetch guard: a remote input medium (an image URL of a chat turn)
 * is fetched only from addresses that are not loopback, private, link-
 * local, metadata and the like (the classes of ngx_gp_addr_refused() in
 * input.c), unless the operator allows the address, network or host with
 * gemini_pool_fetch_allow.  The address judged is the one curl is about
 * to connect, so a name that resolves (or re-resolves) to a private
 * address is refused too.
 */


#include "ngx_http_gemini_pool_module.h"

#include <arpa/inet.h>


#define NGX_GP_GUARD_REASON_LEN  160


/* gemini_pool_fetch_allow 127.0.0.1 10.0.0.0/8 ::1 images.internal ...; */

char *
ngx_gp_fetch_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gemini_pool_main_conf_t *gmcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value, *host;
    ngx_uint_t   i, j;
    ngx_cidr_t  *cidr;

    if (gmcf->fetch_allow == NULL) {
        gmcf->fetch_allow = ngx_array_create(cf->pool, 4,
                                             sizeof(ngx_cidr_t));
        gmcf->fetch_allow_hosts = ngx_array_create(cf->pool, 4,
                                                   sizeof(ngx_str_t));
        if (gmcf->fetch_allow == NULL || gmcf->fetch_allow_hosts == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        cidr = ngx_array_push(gmcf->fetch_allow);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
            continue;
        }

        if (rc == NGX_OK) {
            continue;
        }

        gmcf->fetch_allow->nelts--;

        /* a host name, allowed whatever it resolves to */

        for (j = 0; j < value[i].len; j++) {
            u_char  c = value[i].data[j];

            if (!(c == '-' || c == '.' || (c >= '0' && c <= '9')
                  || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid address, network or host "
                                   "\"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        host = ngx_array_push(gmcf->fetch_allow_hosts);
        if (host == NULL) {
            return NGX_CONF_ERROR;
        }

        host->len = value[i].len;
        host->data = ngx_pnalloc(cf->pool, host->len + 1);
        if (host->data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_strlow(host->data, value[i].data, host->len);
        host->data[host->len] = '\0';
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_gp_fetch_host(ngx_gp_xfer_t *x, const char *url)
{
    char                              *host;
    CURLU                             *h;
    size_t                             n;
    ngx_str_t                         *hosts;
    ngx_uint_t                         i, literal;
    const char                        *why;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    u_char                             addr[16];
    u_char                             lower[256];
    u_char                             buf[NGX_GP_GUARD_REASON_LEN];

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    h = curl_url();
    if (h == NULL) {
        return NGX_ABORT;
    }

    host = NULL;

    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
    {
        curl_url_cleanup(h);
        return NGX_ERROR;
    }

    curl_url_cleanup(h);

    n = ngx_strlen(host);

    if (n && host[0] == '[' && host[n - 1] == ']') {
        ngx_memmove(host, host + 1, n - 2);
        n -= 2;
        host[n] = '\0';
    }

    n = ngx_min(n, sizeof(lower) - 1);
    ngx_strlow(lower, (u_char *) host, n);
    lower[n] = '\0';

    literal = inet_pton(AF_INET, host, addr) == 1 ? 4
              : inet_pton(AF_INET6, host, addr) == 1 ? 6 : 0;

    curl_free(host);

    /* a host allowed by name, whatever it resolves to */

    if (gmcf->fetch_allow_hosts) {
        hosts = gmcf->fetch_allow_hosts->elts;

        for (i = 0; i < gmcf->fetch_allow_hosts->nelts; i++) {
            if (hosts[i].len == n
                && ngx_strncmp(hosts[i].data, lower, n) == 0)
            {
                x->guard_off = 1;
                return NGX_OK;
            }
        }
    }

    if (!x->proxied) {
        /* ngx_gp_fetch_guard() judges the address connected */
        return NGX_OK;
    }

    /*
     * Through a proxy the address connected is the proxy's: what the
     * gateway can judge is a literal address or "localhost"; names are
     * the proxy's to resolve (and to police).
     */

    why = NULL;

    if (literal) {
        why = ngx_gp_addr_refused(literal, addr);

    } else if (ngx_strcmp(lower, "localhost") == 0
               || (n > 10 && ngx_strcmp(lower + n - 10, ".localhost") == 0))
    {
        why = "loopback";
    }

    if (why == NULL) {
        return NGX_OK;
    }

    ngx_snprintf(buf, sizeof(buf) - 1, "%s is a %s address%Z", lower, why);

    free(x->refused);
    x->refused = strdup((char *) buf);

    return x->refused ? NGX_DECLINED : NGX_ABORT;
}


/*
 * curl's open-socket callback asks here before a guarded transfer
 * connects: the address actually connected is judged.
 */

ngx_int_t
ngx_gp_fetch_guard(ngx_gp_xfer_t *x, struct sockaddr *sa)
{
    int                                family;
    u_char                            *a;
    const char                        *why;
    ngx_http_gemini_pool_main_conf_t  *gmcf;
    char                               text[NGX_INET6_ADDRSTRLEN + 1];
    u_char                             buf[NGX_GP_GUARD_REASON_LEN];

    if (x->proxied || x->guard_off) {
        /* the proxy is the operator's; the target host was judged */
        return NGX_OK;
    }

    switch (sa->sa_family) {

    case AF_INET:
        a = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        family = 4;
        break;

    case AF_INET6:
        a = (u_char *) &((struct sockaddr_in6 *) sa)->sin6_addr;
        family = 6;
        break;

    default:
        family = 0;
        a = NULL;
        why = "non-IP";
        goto refused;
    }

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    /* the operator's exceptions; an IPv4-mapped address as its IPv4 */

    if (gmcf->fetch_allow && ngx_cidr_match(sa, gmcf->fetch_allow) == NGX_OK)
    {
        return NGX_OK;
    }

    why = ngx_gp_addr_refused(family, a);

    if (why == NULL) {
        return NGX_OK;
    }

refused:

    text[0] = '\0';

    if (family) {
        (void) inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text,
                         sizeof(text));
    }

    ngx_snprintf(buf, sizeof(buf) - 1, "%s is a %s address%Z", text, why);

    free(x->refused);
    x->refused = strdup((char *) buf);

    return NGX_DECLINED;
}
