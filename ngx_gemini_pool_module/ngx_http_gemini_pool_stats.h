
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The dashboard's figures of a set of calls from the call log: count,
 * errors, and the 50th and 95th percentiles of latency and time to
 * first byte, for a whole range and per time bucket.  Percentiles by the
 * nearest rank: the value at rank ceil(p * n / 100) of the n values in
 * order.
 *
 * Pure C: no nginx, no I/O, no allocation (the caller gives a scratch
 * buffer of n values).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_STATS_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_STATS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    int64_t         time;
    int64_t         latency_ms;
    int64_t         ttfb_ms;        /* < 0: no first byte */
    uint32_t        group;          /* the index of its model or account */
    uint32_t        error;          /* answered with 400 or above */
} ngx_gp_stats_call_t;

typedef struct {
    int64_t         count;
    int64_t         errors;
    int64_t         latency_p50;    /* -1: no value */
    int64_t         latency_p95;
    int64_t         ttfb_p50;
    int64_t         ttfb_p95;
} ngx_gp_stats_fig_t;


/* v[ceil(p * n / 100) - 1] of n sorted values; -1 when n is 0 */
int64_t ngx_gp_stats_rank(const int64_t *sorted, size_t n, unsigned p);

/* the figures of n calls in any order; scratch holds n values */
void ngx_gp_stats_figures(const ngx_gp_stats_call_t *c, size_t n,
    int64_t *scratch, ngx_gp_stats_fig_t *f);

/*
 * The figures of nb buckets f[0..nb-1], bucket b holding the calls with
 * from + b * width <= time < from + (b + 1) * width; c: n calls in time
 * order (the others are left out); scratch holds n values.
 */
void ngx_gp_stats_buckets(const ngx_gp_stats_call_t *c, size_t n,
    int64_t from, int64_t width, size_t nb, int64_t *scratch,
    ngx_gp_stats_fig_t *f);

/* puts n calls in time order */
void ngx_gp_stats_sort_time(ngx_gp_stats_call_t *c, size_t n);


#endif /* _NGX_HTTP_GEMINI_POOL_STATS_H_INCLUDED_ */
