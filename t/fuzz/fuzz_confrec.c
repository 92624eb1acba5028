
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * A record of the shared configuration as Redis holds it (what any
 * process with access to Redis may have written): the input goes to
 * ngx_gp_confrec_parse().  Properties: it answers 0 or -1 with a reason;
 * a record it takes has a known kind, a key, and sealed secrets only,
 * and written again with ngx_gp_confrec_encode() it reads back the same.
 */


#include "fuzz.h"

#include <jansson.h>

#include "ngx_http_gemini_pool_confrec.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              *p, err[128];
    ngx_gp_confrec_t   r, back;

    err[0] = '\0';

    if (ngx_gp_confrec_parse((const char *) data, size, &r, err,
                             sizeof(err)) != 0)
    {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(r.doc == NULL);
        return 0;
    }

    FUZZ_CHECK(ngx_gp_confrec_kind_name(r.kind) != NULL);
    FUZZ_CHECK(r.key != NULL && r.key[0] != '\0');
    FUZZ_CHECK(r.version >= 0);

    p = ngx_gp_confrec_encode(r.kind, r.key, r.origin, r.fp, r.bulk, r.data,
                              err, sizeof(err));
    FUZZ_CHECK(p != NULL);

    FUZZ_CHECK(ngx_gp_confrec_parse(p, strlen(p), &back, err, sizeof(err))
               == 0);
    FUZZ_CHECK(back.kind == r.kind);
    FUZZ_CHECK(strcmp(back.key, r.key) == 0);
    FUZZ_CHECK(back.bulk == r.bulk);
    FUZZ_CHECK((back.data == NULL) == (r.data == NULL));
    FUZZ_CHECK(back.data == NULL || json_equal(back.data, r.data));

    ngx_gp_confrec_free(&back);
    free(p);
    ngx_gp_confrec_free(&r);

    return 0;
}
