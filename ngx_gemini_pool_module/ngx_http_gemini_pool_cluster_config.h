
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Several gateways, one pool: the shared configuration (docs/cluster.md,
 * "Shared configuration").  Accounts, models, settings and API keys
 * changed on any gateway are records in Redis, one hash per kind,
 * versioned by one counter that Redis increments; the helper process of
 * every gateway publishes the changes of its own SQLite (the change feed
 * of store_cluster.c) and applies the others' through the store's own
 * functions, then reloads the zone as an admin change does.  SQLite stays
 * each gateway's durable copy: a gateway starts and serves without Redis.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_CLUSTER_CONFIG_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_CLUSTER_CONFIG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the helper (or the single process): subscribes; others do nothing */
ngx_int_t ngx_gp_cluster_config_init_process(ngx_cycle_t *cycle);

/* helper.c's tick: publish what changed here, read what changed there */
void ngx_gp_cluster_config_tick(void);

/* the helper's exit: the command in flight is cancelled */
void ngx_gp_cluster_config_exit(void);


#endif /* _NGX_HTTP_GEMINI_POOL_CLUSTER_CONFIG_H_INCLUDED_ */
