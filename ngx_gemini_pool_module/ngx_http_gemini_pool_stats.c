
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The dashboard's figures of the call log's calls (see the header).
 */


#include <stdlib.h>

#include "ngx_http_gemini_pool_stats.h"


static int
ngx_gp_stats_cmp_value(const void *one, const void *two)
{
    int64_t  a, b;

    a = *(const int64_t *) one;
    b = *(const int64_t *) two;

    return (a > b) - (a < b);
}


static int
ngx_gp_stats_cmp_time(const void *one, const void *two)
{
    const ngx_gp_stats_call_t  *a, *b;

    a = one;
    b = two;

    if (a->time != b->time) {
        return (a->time > b->time) - (a->time < b->time);
    }

    /* the same second: in the order of the groups, for a stable answer */
    return (a->group > b->group) - (a->group < b->group);
}


int64_t
ngx_gp_stats_rank(const int64_t *sorted, size_t n, unsigned p)
{
    size_t  r;

    if (n == 0) {
        return -1;
    }

    r = (p * n + 99) / 100;

    return sorted[(r == 0 ? 1 : r) - 1];
}


void
ngx_gp_stats_figures(const ngx_gp_stats_call_t *c, size_t n,
    int64_t *scratch, ngx_gp_stats_fig_t *f)
{
    size_t  i, k;

    f->count = (int64_t) n;
    f->errors = 0;

    if (n == 0) {
        f->latency_p50 = -1;
        f->latency_p95 = -1;
        f->ttfb_p50 = -1;
        f->ttfb_p95 = -1;
        return;
    }

    for (i = 0; i < n; i++) {
        scratch[i] = c[i].latency_ms;
        f->errors += c[i].error ? 1 : 0;
    }

    qsort(scratch, n, sizeof(int64_t), ngx_gp_stats_cmp_value);

    f->latency_p50 = ngx_gp_stats_rank(scratch, n, 50);
    f->latency_p95 = ngx_gp_stats_rank(scratch, n, 95);

    for (i = 0, k = 0; i < n; i++) {
        if (c[i].ttfb_ms >= 0) {
            scratch[k++] = c[i].ttfb_ms;
        }
    }

    qsort(scratch, k, sizeof(int64_t), ngx_gp_stats_cmp_value);

    f->ttfb_p50 = ngx_gp_stats_rank(scratch, k, 50);
    f->ttfb_p95 = ngx_gp_stats_rank(scratch, k, 95);
}


void
ngx_gp_stats_buckets(const ngx_gp_stats_call_t *c, size_t n,
    int64_t from, int64_t width, size_t nb, int64_t *scratch,
    ngx_gp_stats_fig_t *f)
{
    size_t   i, j, b;
    int64_t  start;

    for (b = 0; b < nb; b++) {
        ngx_gp_stats_figures(c, 0, scratch, &f[b]);
    }

    if (width <= 0) {
        return;
    }

    i = 0;

    while (i < n) {
        if (c[i].time < from || c[i].time >= from + (int64_t) nb * width) {
            i++;
            continue;
        }

        b = (size_t) ((c[i].time - from) / width);
        start = from + (int64_t) b * width;

        for (j = i; j < n && c[j].time >= start && c[j].time < start + width;
             j++)
        {
            /* void */
        }

        ngx_gp_stats_figures(c + i, j - i, scratch, &f[b]);
        i = j;
    }
}


void
ngx_gp_stats_sort_time(ngx_gp_stats_call_t *c, size_t n)
{
    qsort(c, n, sizeof(ngx_gp_stats_call_t), ngx_gp_stats_cmp_time);
}
