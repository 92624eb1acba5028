
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Chromium on the helper's event loop, driven with the DevTools protocol
 * (CDP) over --remote-debugging-pipe: fd 3 carries the commands to the
 * browser, fd 4 its answers and events, each a JSON text ended by a NUL
 * byte.  One browser per login, with its own temporary profile, in its
 * own process group, killed by the kernel when the process that started
 * it dies (PR_SET_PDEATHSIG); what a helper killed with SIGKILL leaves
 * behind (a profile, a stray child) is reaped when the next one starts.
 */


#ifndef _NGX_HTTP_GEMINI_POOL_BROWSER_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_BROWSER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>


/* gemini_pool_browser's mode */
#define NGX_GP_BROWSER_AUTO       0
#define NGX_GP_BROWSER_HEADLESS   1
#define NGX_GP_BROWSER_HEADED     2


/* the directive: the binary, the mode, extra arguments (ngx_str_t) */
typedef struct {
    ngx_str_t                path;      /* "": no browser configured */
    ngx_uint_t               mode;      /* NGX_GP_BROWSER_ */
    ngx_array_t             *args;
} ngx_gp_browser_conf_t;


typedef struct ngx_gp_browser_s  ngx_gp_browser_t;

/*
 * The answer to one command: result is its "result" object (borrowed:
 * valid during the call), or NULL with error set ("timeout", the CDP
 * error's message, "browser gone").
 */
typedef void (*ngx_gp_cdp_pt)(void *data, json_t *result, const char *error);

/* an event; session is "" for the browser's own */
typedef void (*ngx_gp_cdp_event_pt)(void *data, const char *method,
    const char *session, json_t *params);

/* the browser went away on its own (crash, exit): no more answers */
typedef void (*ngx_gp_browser_gone_pt)(void *data, const char *reason);


char *ngx_gp_browser_directive(ngx_conf_t *cf, ngx_gp_browser_conf_t *bc);

/* headless or headed, after FORCE_HEADED, FORCE_HEADLESS and DISPLAY */
ngx_uint_t ngx_gp_browser_headed(ngx_gp_browser_conf_t *bc);

/*
 * Starts Chromium.  NULL with err filled when it cannot (not configured,
 * missing, fork failed).  The handlers are called from the event loop.
 */
ngx_gp_browser_t *ngx_gp_browser_launch(ngx_gp_browser_conf_t *bc,
    ngx_log_t *log, ngx_gp_cdp_event_pt event, ngx_gp_browser_gone_pt gone,
    void *data, char *err, size_t errlen);

/*
 * Sends a command; params is stolen (NULL: none); session NULL or "":
 * the browser's.  The handler is called exactly once, later, unless the
 * browser is killed first.  NGX_ERROR: not sent, the handler is not called.
 */
ngx_int_t ngx_gp_browser_call(ngx_gp_browser_t *b, const char *session,
    const char *method, json_t *params, ngx_msec_t timeout,
    ngx_gp_cdp_pt handler, void *data);

/*
 * Ends the browser now: Browser.close if the pipe takes it, SIGKILL to
 * its process group after grace milliseconds (0: at once), the profile
 * removed.  No handler is called after it; b is freed.
 */
void ngx_gp_browser_close(ngx_gp_browser_t *b, ngx_msec_t grace);

/* the process id of the browser (tests, logs) */
ngx_pid_t ngx_gp_browser_pid(ngx_gp_browser_t *b);

/* leftovers of helpers that are gone: their browsers and profiles */
void ngx_gp_browser_reap(ngx_log_t *log);

/* every browser of this process, killed (exit of the helper) */
void ngx_gp_browser_exit_process(void);


#endif /* _NGX_HTTP_GEMINI_POOL_BROWSER_H_INCLUDED_ */
