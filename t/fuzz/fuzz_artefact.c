
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The artefact filter of image turns (spec §7.5) over answer text as the
 * upstream cuts it: the input is the text.  Properties: the text fed
 * whole, in random pieces and byte by byte gives the same output (what is
 * held at the end included), never longer than the input, and the filter
 * writes no more than len + 40 bytes per call.
 */


#include "fuzz.h"

#include "ngx_http_gemini_pool_artefact.h"


#define GUARD  0x5a


static size_t
filter(const uint8_t *data, size_t size, size_t step, uint64_t *rs,
    unsigned char *out)
{
    size_t             off, n, total, k, i;
    unsigned char      buf[4096 + 40 + 16];
    ngx_gp_artefact_t  st;

    memset(&st, 0, sizeof(ngx_gp_artefact_t));
    total = 0;

    for (off = 0; off < size; off += n) {
        n = step ? step : 1 + fuzz_rand_n(rs, 64);

        if (n > size - off) {
            n = size - off;
        }

        if (n > 4096) {
            n = 4096;
        }

        memset(buf, GUARD, n + 40 + 16);
        k = ngx_gp_artefact_filter(&st, data + off, n, buf);
        FUZZ_CHECK(k <= n + 40);

        for (i = n + 40; i < n + 40 + 16; i++) {
            FUZZ_CHECK(buf[i] == GUARD);
        }

        memcpy(out + total, buf, k);
        total += k;
        FUZZ_CHECK(total <= off + n);
    }

    FUZZ_CHECK(st.nheld <= sizeof(st.held));
    memcpy(out + total, st.held, st.nheld);
    total += st.nheld;
    FUZZ_CHECK(total <= size);

    return total;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          n1, n2, n3;
    uint64_t        rs;
    unsigned char  *o1, *o2, *o3;

    rs = fuzz_seed(data, size);

    o1 = malloc(size + 41);
    o2 = malloc(size + 41);
    o3 = malloc(size + 41);
    FUZZ_CHECK(o1 != NULL && o2 != NULL && o3 != NULL);

    n1 = filter(data, size, 4096, &rs, o1);
    n2 = filter(data, size, 0, &rs, o2);
    n3 = filter(data, size, 1, &rs, o3);

    FUZZ_SAME_MEM(o1, n1, o2, n2);
    FUZZ_SAME_MEM(o1, n1, o3, n3);

    free(o1);
    free(o2);
    free(o3);

    return 0;
}
