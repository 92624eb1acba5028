
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Input media, as pure functions: the address classes the fetch guard
 * refuses, multipart/form-data bodies, media types by content.
 *
 * Pure C: no nginx, no allocation (results point into the input).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_INPUT_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_INPUT_H_INCLUDED_


#include <stddef.h>


/*
 * Why a remote fetch must not connect to an address, or NULL when it may:
 * "loopback", "private", "link-local", "metadata", "unspecified",
 * "carrier-grade NAT", "multicast", "reserved", "unique local",
 * "benchmarking", "documentation".  addr is 4 bytes (family 4) or 16
 * bytes (family 6) in network order; IPv4-mapped, IPv4-compatible and
 * NAT64 (64:ff9b::/96) IPv6 addresses are judged by their IPv4 address.
 */
const char *ngx_gp_addr_refused(int family, const unsigned char *addr);


/* one part of a multipart/form-data body; pointers into the body */
typedef struct {
    const char    *name;           /* Content-Disposition name="" */
    size_t         name_len;
    const char    *filename;       /* filename="", NULL when absent */
    size_t         filename_len;
    const char    *type;           /* Content-Type, NULL when absent */
    size_t         type_len;
    const char    *data;
    size_t         len;
} ngx_gp_mpart_t;

/*
 * Splits a multipart/form-data body.  ctype is the request's Content-Type
 * (its boundary parameter, quoted or not, is used).  Fills at most max
 * parts; returns 0 and *n, or -1 with a static reason in *err.
 */
int ngx_gp_multipart_parse(const char *ctype, size_t ctype_len,
    const char *body, size_t len, ngx_gp_mpart_t *parts, size_t max,
    size_t *n, const char **err);

/* the first part named name, or NULL */
const ngx_gp_mpart_t *ngx_gp_multipart_get(const ngx_gp_mpart_t *parts,
    size_t n, const char *name);


/*
 * The media type of known image and document formats by their first
 * bytes (PNG, JPEG, GIF, WebP, PDF, HEIC/HEIF), or NULL.
 */
const char *ngx_gp_mime_sniff(const unsigned char *p, size_t len);

/* a file name extension for a media type ("png", "jpg" ...; "bin") */
const char *ngx_gp_mime_ext(const char *mime);

/*
 * Copies the bare media type of a Content-Type value ("image/png;
 * charset=x" -> "image/png"), lower-cased, into buf (NUL-terminated).
 * Returns its length, 0 when it is not a type/subtype token.
 */
size_t ngx_gp_mime_bare(const char *ctype, size_t len, char *buf,
    size_t size);


#endif /* _NGX_HTTP_GEMINI_POOL_INPUT_H_INCLUDED_ */
