
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the dashboard's figures: nearest-rank percentiles, the
 * figures of a set of calls, the buckets of a time range and the time
 * order, against a naive computation on random calls.
 */


#include "unit.h"

#include "ngx_http_gemini_pool_stats.h"


static void
test_rank(void **state)
{
    int64_t  v[20];
    size_t   i;

    for (i = 0; i < 20; i++) {
        v[i] = (int64_t) i + 1;
    }

    assert_int_equal(ngx_gp_stats_rank(v, 0, 50), -1);
    assert_int_equal(ngx_gp_stats_rank(v, 1, 50), 1);
    assert_int_equal(ngx_gp_stats_rank(v, 1, 95), 1);
    assert_int_equal(ngx_gp_stats_rank(v, 2, 50), 1);
    assert_int_equal(ngx_gp_stats_rank(v, 2, 95), 2);
    assert_int_equal(ngx_gp_stats_rank(v, 20, 50), 10);
    assert_int_equal(ngx_gp_stats_rank(v, 20, 95), 19);
    assert_int_equal(ngx_gp_stats_rank(v, 10, 95), 10);
    assert_int_equal(ngx_gp_stats_rank(v, 3, 50), 2);
    assert_int_equal(ngx_gp_stats_rank(v, 20, 0), 1);
    assert_int_equal(ngx_gp_stats_rank(v, 20, 100), 20);
}


static void
test_figures(void **state)
{
    int64_t              scratch[5];
    ngx_gp_stats_fig_t   f;
    ngx_gp_stats_call_t  c[5] = {
        { 100, 300, 50, 0, 0 },
        { 101, 100, -1, 0, 1 },
        { 102, 500, 20, 1, 0 },
        { 103, 200, -1, 0, 1 },
        { 104, 400, 90, 1, 0 },
    };

    ngx_gp_stats_figures(c, 5, scratch, &f);

    assert_int_equal(f.count, 5);
    assert_int_equal(f.errors, 2);
    assert_int_equal(f.latency_p50, 300);
    assert_int_equal(f.latency_p95, 500);
    /* the three with a first byte: 20, 50, 90 */
    assert_int_equal(f.ttfb_p50, 50);
    assert_int_equal(f.ttfb_p95, 90);

    /* the calls are not reordered */
    assert_int_equal(c[0].latency_ms, 300);

    ngx_gp_stats_figures(c, 0, NULL, &f);
    assert_int_equal(f.count, 0);
    assert_int_equal(f.errors, 0);
    assert_int_equal(f.latency_p50, -1);
    assert_int_equal(f.ttfb_p95, -1);

    /* none with a first byte */
    ngx_gp_stats_figures(&c[1], 1, scratch, &f);
    assert_int_equal(f.latency_p50, 100);
    assert_int_equal(f.ttfb_p50, -1);
}


static int
cmp64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


/* the same figures, the slow way */

static void
naive(ngx_gp_stats_call_t *c, size_t n, int64_t lo, int64_t hi,
    ngx_gp_stats_fig_t *f)
{
    int64_t  lat[2000], tt[2000];
    size_t   i, k, m;

    memset(f, 0, sizeof(*f));

    for (i = 0, k = 0, m = 0; i < n; i++) {
        if (c[i].time < lo || c[i].time >= hi) {
            continue;
        }

        f->count++;
        f->errors += c[i].error;
        lat[k++] = c[i].latency_ms;

        if (c[i].ttfb_ms >= 0) {
            tt[m++] = c[i].ttfb_ms;
        }
    }

    qsort(lat, k, sizeof(int64_t), cmp64);
    qsort(tt, m, sizeof(int64_t), cmp64);

    f->latency_p50 = k ? lat[(50 * k + 99) / 100 - 1] : -1;
    f->latency_p95 = k ? lat[(95 * k + 99) / 100 - 1] : -1;
    f->ttfb_p50 = m ? tt[(50 * m + 99) / 100 - 1] : -1;
    f->ttfb_p95 = m ? tt[(95 * m + 99) / 100 - 1] : -1;
}


static void
test_buckets(void **state)
{
    size_t               i, b, n;
    int64_t              scratch[2000];
    uint64_t             seed;
    ngx_gp_stats_fig_t   f[48], want;
    ngx_gp_stats_call_t  c[2000];

    seed = 0x5eed5eedULL;

    for (n = 0; n < 2000; n += 397) {

        /* calls from before the range to after it, in any order */
        for (i = 0; i < n; i++) {
            c[i].time = 9000 + (int64_t) unit_rand_n(&seed, 5000);
            c[i].latency_ms = (int64_t) unit_rand_n(&seed, 3000);
            c[i].ttfb_ms = unit_rand_n(&seed, 4) == 0
                           ? -1 : (int64_t) unit_rand_n(&seed, 900);
            c[i].group = (uint32_t) unit_rand_n(&seed, 3);
            c[i].error = unit_rand_n(&seed, 7) == 0;
        }

        ngx_gp_stats_sort_time(c, n);

        for (i = 1; i < n; i++) {
            assert_true(c[i - 1].time <= c[i].time);
        }

        /* 48 buckets of 60 s from 10000: 10000 <= time < 12880 */
        ngx_gp_stats_buckets(c, n, 10000, 60, 48, scratch, f);

        for (b = 0; b < 48; b++) {
            naive(c, n, 10000 + (int64_t) b * 60,
                  10000 + (int64_t) (b + 1) * 60, &want);
            assert_memory_equal(&f[b], &want, sizeof(want));
        }
    }

    /* the edges: the first second in, one before and the end out */
    c[0].time = 9999;
    c[1].time = 10000;
    c[2].time = 10059;
    c[3].time = 10060;
    c[4].time = 10120;

    for (i = 0; i < 5; i++) {
        c[i].latency_ms = 10 * (int64_t) (i + 1);
        c[i].ttfb_ms = -1;
        c[i].error = 0;
    }

    ngx_gp_stats_buckets(c, 5, 10000, 60, 2, scratch, f);
    assert_int_equal(f[0].count, 2);
    assert_int_equal(f[0].latency_p95, 30);
    assert_int_equal(f[1].count, 1);
    assert_int_equal(f[1].latency_p50, 40);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_buckets),
    };

    UNIT_RUN("stats", tests);
}
