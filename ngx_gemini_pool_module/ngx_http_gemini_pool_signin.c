
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * One e-mail-code login (see the header), protocol section 13.3, as the
 * recipe describes it: a browser of its own (browser.c), a tab on the
 * login pages and, for the browser reader of the mailbox (13.5), a tab
 * on the temp-mail web page.  A state machine on the helper's event
 * loop: every step is a DevTools command whose answer moves it on, or a
 * look at the page (a JavaScript probe) repeated every "poll" until what
 * the step waits for is there or its time is up.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_SIGNIN_TEXT_LEN    (64 * 1024)
#define NGX_GP_SIGNIN_URL_LEN     4096
#define NGX_GP_SIGNIN_JS_LEN      (96 * 1024)

/* what a probe found on the page */
#define NGX_GP_FOUND_EMAIL        0x01
#define NGX_GP_FOUND_CODE         0x02
#define NGX_GP_FOUND_CHALLENGE    0x04
#define NGX_GP_FOUND_RESEND       0x08


typedef enum {
    NGX_GP_SI_LAUNCH = 0,
    NGX_GP_SI_MAIL_TARGET,        /* tab A: the temp-mail web page */
    NGX_GP_SI_MAIL_ATTACH,
    NGX_GP_SI_MAIL_BASELINE,      /* its newest mail id */
    NGX_GP_SI_TARGET,             /* tab B: the login pages */
    NGX_GP_SI_ATTACH,
    NGX_GP_SI_PAGE_ENABLE,
    NGX_GP_SI_NAVIGATE,
    NGX_GP_SI_WAIT_EMAIL,
    NGX_GP_SI_FOCUS_EMAIL,
    NGX_GP_SI_TYPE_EMAIL,
    NGX_GP_SI_CONTINUE,
    NGX_GP_SI_WAIT_CODE_PAGE,
    NGX_GP_SI_WAIT_SENT,          /* resend button, toast */
    NGX_GP_SI_RESEND,
    NGX_GP_SI_WAIT_API,           /* the worker API's wait */
    NGX_GP_SI_WAIT_MAIL,          /* the browser reader's rounds */
    NGX_GP_SI_MAIL_OPEN,
    NGX_GP_SI_MAIL_READ,
    NGX_GP_SI_FOCUS_CODE,
    NGX_GP_SI_TYPE_CODE,
    NGX_GP_SI_VERIFY,
    NGX_GP_SI_ENTER,
    NGX_GP_SI_WAIT_OUTCOME,
    NGX_GP_SI_HARVEST,
    NGX_GP_SI_NUDGE,
    NGX_GP_SI_COOKIES,
    NGX_GP_SI_DONE
} ngx_gp_signin_state_e;


struct ngx_gp_signin_s {
    ngx_log_t                         *log;
    ngx_gp_signin_step_pt              step;
    ngx_gp_signin_done_pt              done;
    void                              *data;

    ngx_http_gemini_pool_main_conf_t  *gmcf;
    ngx_gp_recipe_t                   *recipe;
    ngx_gp_browser_t                  *browser;
    ngx_gp_tempmail_t                 *tempmail;  /* NULL: web page only */

    ngx_gp_signin_state_e              state;
    ngx_event_t                        poll;      /* the next look */
    ngx_event_t                        deadline;  /* the whole login */
    ngx_msec_t                         until;     /* the step's end */
    ngx_msec_t                         toast_until;

    ngx_uint_t                         round;     /* codes tried */
    ngx_uint_t                         resends;
    ngx_uint_t                         found;     /* NGX_GP_FOUND_ */
    int64_t                            baseline;  /* newest mail id */
    int64_t                            opened;    /* mail id opened */
    unsigned                           nudged:1;
    unsigned                           challenge:1;
    unsigned                           sent:1;
    unsigned                           settle:1;  /* a resend's toast */
    unsigned                           api_ready:1;   /* its baseline */
    unsigned                           looking:1; /* the poll's look runs */

    char                               session[80];    /* tab B */
    char                               mail_session[80];   /* tab A */
    char                               email[256];
    char                               code[16];
    char                               home[NGX_GP_SIGNIN_URL_LEN];
    char                               url[NGX_GP_SIGNIN_URL_LEN];
    char                              *text;      /* the page's text */
    char                              *js;
    char                              *tempmail_url;

    ngx_gp_signin_result_t             r;
};


static void ngx_gp_signin_event(void *data, const char *method,
    const char *session, json_t *params);
static void ngx_gp_signin_gone(void *data, const char *reason);
static void ngx_gp_signin_answer(void *data, json_t *result,
    const char *error);
static void ngx_gp_signin_next(ngx_gp_signin_t *l, json_t *result);
static void ngx_gp_signin_timer(ngx_event_t *ev);
static void ngx_gp_signin_expired(ngx_event_t *ev);
static void ngx_gp_signin_finish(ngx_gp_signin_t *l,
    ngx_gp_signin_status_e status, const char *fmt, ...);
static ngx_int_t ngx_gp_signin_attach(ngx_gp_signin_t *l, json_t *result,
    ngx_gp_signin_state_e next);
static ngx_int_t ngx_gp_signin_session(ngx_gp_signin_t *l, json_t *result,
    char *buf, size_t size);
static ngx_int_t ngx_gp_signin_send(ngx_gp_signin_t *l,
    ngx_gp_signin_state_e state, const char *session, const char *method,
    json_t *params);
static ngx_int_t ngx_gp_signin_eval(ngx_gp_signin_t *l,
    ngx_gp_signin_state_e state, const char *session, const char *fmt,
    ...);
static ngx_int_t ngx_gp_signin_act(ngx_gp_signin_t *l,
    ngx_gp_signin_state_e state, ngx_uint_t key, const char *action);
static ngx_int_t ngx_gp_signin_probe(ngx_gp_signin_t *l,
    ngx_gp_signin_state_e state);
static void ngx_gp_signin_wait(ngx_gp_signin_t *l,
    ngx_gp_signin_state_e state, ngx_uint_t timeout);
static void ngx_gp_signin_later(ngx_gp_signin_t *l);
static void ngx_gp_signin_say(ngx_gp_signin_t *l, const char *step);
static void ngx_gp_signin_api_baseline(void *data, ngx_int_t rc,
    const u_char *code, const char *reason);
static void ngx_gp_signin_api_code(void *data, ngx_int_t rc,
    const u_char *code, const char *reason);


static const char  *ngx_gp_signin_names[] = {
    "ok",
    "no_mailbox",
    "no_browser",
    "mailbox",
    "no_code",
    "code_error",
    "limit_exceeded",
    "page_error",
    "challenge",
    "no_cookies",
    "timeout",
    "aborted",
    "error"
};


/*
 * The page side, in JavaScript: vis() (shown), find() (the first of a
 * list of selectors or "text:..." that is shown), then one expression.
 * The lists come in as JSON texts, never as code.
 */
static const char  ngx_gp_signin_prelude[] =
    "(function(){"
    "function vis(e){if(!e)return false;var r=e.getBoundingClientRect();"
    "var s=getComputedStyle(e);return r.width>0&&r.height>0&&"
    "s.visibility!='hidden'&&s.display!='none';}"
    "function find(l){for(var i=0;i<l.length;i++){var s=l[i];"
    "if(s.indexOf('text:')==0){var t=s.slice(5).trim(),b=null,"
    "q=document.querySelectorAll('button,a,[role=button],input[type=submit]"
    ",input[type=button],li,span,div');for(var j=0;j<q.length;j++){"
    "var x=((q[j].innerText||q[j].value||'')+'').trim();"
    "if(x==t&&vis(q[j])&&(!b||b.contains(q[j])))b=q[j];}if(b)return b;}"
    "else{try{var q=document.querySelectorAll(s);for(var j=0;j<q.length;"
    "j++)if(vis(q[j]))return q[j];}catch(x){}}}return null;}"
    "function act(l,a){var e=find(l);if(!e)return false;"
    "if(a=='click'){e.scrollIntoView({block:'center'});e.click();}"
    "else{e.focus();if('value' in e&&e.value){e.value='';"
    "e.dispatchEvent(new Event('input',{bubbles:true}));}}return true;}"
    "function text(){return((document.body&&document.body.innerText)||'')"
    ".slice(0,20000);}"
    "function ids(l){var r=[],q=[];for(var i=0;i<l.length;i++){"
    "try{q=document.querySelectorAll(l[i]);}catch(x){q=[];}if(q.length)"
    "break;}for(var j=0;j<q.length;j++){var m=/ID:\\s*(\\d+)/"
    ".exec(q[j].innerText||'');if(m)r.push(+m[1]);}return r;}"
    "return(";


ngx_gp_signin_t *
ngx_gp_signin_start(ngx_gp_signin_input_t *in, ngx_log_t *log,
    ngx_gp_signin_step_pt step, ngx_gp_signin_done_pt done, void *data,
    ngx_gp_signin_result_t *r)
{
    char                               err[NGX_GP_SIGNIN_REASON_LEN];
    size_t                             n;
    ngx_gp_signin_t                   *l;
    ngx_gp_mailbox_t                   mb;
    ngx_http_gemini_pool_main_conf_t  *gmcf;

    ngx_memzero(r, sizeof(ngx_gp_signin_result_t));

    if (in->tempmail_url == NULL || in->tempmail_url[0] == '\0') {
        r->status = NGX_GP_SIGNIN_NO_MAILBOX;
        (void) ngx_cpystrn(r->reason, (u_char *) "the account has no mailbox "
                           "(tempmail_url)", NGX_GP_SIGNIN_REASON_LEN);
        return NULL;
    }

    gmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_gemini_pool_module);

    if (gmcf == NULL || gmcf->browser.path.len == 0) {
        r->status = NGX_GP_SIGNIN_NO_BROWSER;
        (void) ngx_cpystrn(r->reason, (u_char *) "no browser configured "
                           "(the gemini_pool_browser directive)",
                           NGX_GP_SIGNIN_REASON_LEN);
        return NULL;
    }

    if (gmcf->recipe == NULL) {
        r->status = NGX_GP_SIGNIN_ERROR;
        (void) ngx_cpystrn(r->reason, (u_char *) "no sign-in recipe "
                           "(gemini_pool_signin_recipe)",
                           NGX_GP_SIGNIN_REASON_LEN);
        return NULL;
    }

    l = ngx_calloc(sizeof(ngx_gp_signin_t), log);
    if (l == NULL) {
        r->status = NGX_GP_SIGNIN_ERROR;
        (void) ngx_cpystrn(r->reason, (u_char *) "out of memory",
                           NGX_GP_SIGNIN_REASON_LEN);
        return NULL;
    }

    n = ngx_strlen(in->tempmail_url);

    l->text = ngx_alloc(NGX_GP_SIGNIN_TEXT_LEN, log);
    l->js = ngx_alloc(NGX_GP_SIGNIN_JS_LEN, log);
    l->tempmail_url = ngx_alloc(n + 1, log);

    if (l->text == NULL || l->js == NULL || l->tempmail_url == NULL) {
        r->status = NGX_GP_SIGNIN_ERROR;
        (void) ngx_cpystrn(r->reason, (u_char *) "out of memory",
                           NGX_GP_SIGNIN_REASON_LEN);
        goto failed;
    }

    ngx_memcpy(l->tempmail_url, in->tempmail_url, n + 1);
    l->text[0] = '\0';

    l->log = log;
    l->step = step;
    l->done = done;
    l->data = data;
    l->gmcf = gmcf;
    l->recipe = gmcf->recipe;
    l->baseline = -1;

    if (ngx_gp_mailbox_parse(in->tempmail_url,
                             in->tempmail_worker_url
                             ? in->tempmail_worker_url : "",
                             &mb, err, sizeof(err))
        != 0)
    {
        r->status = NGX_GP_SIGNIN_MAILBOX;
        ngx_snprintf(r->reason, NGX_GP_SIGNIN_REASON_LEN - 1,
                     "the mailbox: %s%Z", err);
        goto failed;
    }

    (void) ngx_cpystrn((u_char *) l->email, (u_char *) mb.address,
                       sizeof(l->email));
    ngx_gp_mailbox_free(&mb);

    if (ngx_gp_recipe_url(l->recipe->values[NGX_GP_R_HOME_PAGE][0],
                          (char *) gmcf->login_url.data,
                          (char *) gmcf->auth_url.data, l->home,
                          sizeof(l->home))
        != 0)
    {
        r->status = NGX_GP_SIGNIN_ERROR;
        (void) ngx_cpystrn(r->reason, (u_char *) "the recipe's home_page "
                           "is too long", NGX_GP_SIGNIN_REASON_LEN);
        goto failed;
    }

    /* browsers that a helper killed with SIGKILL left behind */
    ngx_gp_browser_reap(log);

    l->browser = ngx_gp_browser_launch(&gmcf->browser, log,
                                       ngx_gp_signin_event,
                                       ngx_gp_signin_gone, l, err,
                                       sizeof(err));
    if (l->browser == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gemini pool signin of \"%s\": %s", in->name, err);
        r->status = NGX_GP_SIGNIN_NO_BROWSER;
        (void) ngx_cpystrn(r->reason, (u_char *) err,
                           NGX_GP_SIGNIN_REASON_LEN);
        goto failed;
    }

    /* the worker API first (13.4); the web page when it fails (13.5) */
    l->tempmail = ngx_gp_tempmail_open(in->tempmail_url,
                                       in->tempmail_worker_url
                                       ? in->tempmail_worker_url : "",
                                       in->proxy ? in->proxy : "", log,
                                       err, sizeof(err));

    if (l->tempmail == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "gemini pool signin: the mailbox's worker API cannot "
                      "be used (%s): the code comes from its web page", err);

    } else if (ngx_gp_tempmail_baseline(l->tempmail,
                                        ngx_gp_signin_api_baseline, l)
               != NGX_OK)
    {
        ngx_gp_tempmail_close(l->tempmail);
        l->tempmail = NULL;
    }

    l->poll.handler = ngx_gp_signin_timer;
    l->poll.data = l;
    l->poll.log = log;
    l->poll.cancelable = 1;

    l->deadline.handler = ngx_gp_signin_expired;
    l->deadline.data = l;
    l->deadline.log = log;
    l->deadline.cancelable = 1;

    ngx_add_timer(&l->deadline, l->recipe->timeout[NGX_GP_RT_LOGIN]);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "gemini pool signin of \"%s\" as %s started (%s)",
                  in->name, l->email,
                  ngx_gp_browser_headed(&gmcf->browser) ? "headed"
                                                        : "headless");

    /* tab A first: the mailbox's newest mail before the code is asked */
    ngx_gp_signin_say(l, "open mailbox");

    if (ngx_gp_signin_send(l, NGX_GP_SI_MAIL_TARGET, NULL,
                           "Target.createTarget",
                           json_pack("{ss}", "url", l->tempmail_url))
        != NGX_OK)
    {
        r->status = NGX_GP_SIGNIN_ERROR;
        (void) ngx_cpystrn(r->reason, (u_char *) "cannot talk to the "
                           "browser", NGX_GP_SIGNIN_REASON_LEN);
        ngx_del_timer(&l->deadline);
        ngx_gp_browser_close(l->browser, 0);
        goto failed;
    }

    return l;

failed:

    ngx_free(l->text);
    ngx_free(l->js);
    ngx_free(l->tempmail_url);
    ngx_free(l);

    return NULL;
}


void
ngx_gp_signin_cancel(ngx_gp_signin_t *l)
{
    ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ABORTED, "cancelled");
}


const char *
ngx_gp_signin_status_name(ngx_gp_signin_status_e status)
{
    if ((ngx_uint_t) status
        >= sizeof(ngx_gp_signin_names) / sizeof(ngx_gp_signin_names[0]))
    {
        return "error";
    }

    return ngx_gp_signin_names[status];
}


static void
ngx_gp_signin_say(ngx_gp_signin_t *l, const char *step)
{
    ngx_log_error(NGX_LOG_INFO, l->log, 0, "gemini pool signin: %s", step);

    if (l->step) {
        l->step(l->data, step);
    }
}


static ngx_int_t
ngx_gp_signin_send(ngx_gp_signin_t *l, ngx_gp_signin_state_e state,
    const char *session, const char *method, json_t *params)
{
    l->state = state;
    l->looking = 0;

    return ngx_gp_browser_call(l->browser, session, method, params,
                               l->recipe->timeout[NGX_GP_RT_CALL],
                               ngx_gp_signin_answer, l);
}


/* Runtime.evaluate of the prelude and an expression, by value */

static ngx_int_t
ngx_gp_signin_eval(ngx_gp_signin_t *l, ngx_gp_signin_state_e state,
    const char *session, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    last = (u_char *) l->js + NGX_GP_SIGNIN_JS_LEN - 1;

    p = ngx_cpymem(l->js, ngx_gp_signin_prelude,
                   sizeof(ngx_gp_signin_prelude) - 1);

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    p = ngx_slprintf(p, last, ");})()");

    if (p == last) {
        return NGX_ERROR;
    }

    *p = '\0';

    return ngx_gp_signin_send(l, state, session, "Runtime.evaluate",
                              json_pack("{sssbsb}", "expression", l->js,
                                        "returnByValue", 1,
                                        "awaitPromise", 0));
}


/* a click on, or the focus to, the first shown element of a list */

static ngx_int_t
ngx_gp_signin_act(ngx_gp_signin_t *l, ngx_gp_signin_state_e state,
    ngx_uint_t key, const char *action)
{
    char  list[NGX_GP_RECIPE_MAX_VALUES * NGX_GP_RECIPE_VALUE_LEN * 2];

    if (ngx_gp_recipe_json(l->recipe, key, list, sizeof(list)) != 0) {
        return NGX_ERROR;
    }

    return ngx_gp_signin_eval(l, state, l->session, "act(%s,'%s')", list,
                              action);
}


/* the login tab: its URL, its text, which of the lists are shown */

static ngx_int_t
ngx_gp_signin_probe(ngx_gp_signin_t *l, ngx_gp_signin_state_e state)
{
    char  email[4096], code[4096], challenge[4096], resend[4096];

    if (ngx_gp_recipe_json(l->recipe, NGX_GP_R_EMAIL_INPUT, email,
                           sizeof(email)) != 0
        || ngx_gp_recipe_json(l->recipe, NGX_GP_R_CODE_INPUT, code,
                              sizeof(code)) != 0
        || ngx_gp_recipe_json(l->recipe, NGX_GP_R_CHALLENGE, challenge,
                              sizeof(challenge)) != 0
        || ngx_gp_recipe_json(l->recipe, NGX_GP_R_RESEND, resend,
                              sizeof(resend)) != 0)
    {
        return NGX_ERROR;
    }

    return ngx_gp_signin_eval(l, state, l->session,
                              "{url:location.href,text:text(),found:"
                              "(find(%s)?1:0)|(find(%s)?2:0)|(find(%s)?4:0)"
                              "|(find(%s)?8:0)}",
                              email, code, challenge, resend);
}


/* a look at the page again after "poll", until now + the timeout */

static void
ngx_gp_signin_wait(ngx_gp_signin_t *l, ngx_gp_signin_state_e state,
    ngx_uint_t timeout)
{
    l->state = state;
    l->until = ngx_current_msec + l->recipe->timeout[timeout];

    ngx_add_timer(&l->poll, 1);
}


static void
ngx_gp_signin_later(ngx_gp_signin_t *l)
{
    ngx_add_timer(&l->poll, l->recipe->timeout[NGX_GP_RT_POLL]);
}


static ngx_uint_t
ngx_gp_signin_late(ngx_gp_signin_t *l)
{
    return (ngx_msec_int_t) (ngx_current_msec - l->until) >= 0;
}


static void
ngx_gp_signin_timer(ngx_event_t *ev)
{
    ngx_gp_signin_t  *l = ev->data;
    ngx_int_t         rc;
    char              items[4096], refresh[4096];

    switch (l->state) {

    case NGX_GP_SI_WAIT_MAIL:
        if (ngx_gp_recipe_json(l->recipe, NGX_GP_R_MAILBOX_ITEM, items,
                               sizeof(items)) != 0
            || ngx_gp_recipe_json(l->recipe, NGX_GP_R_MAILBOX_REFRESH,
                                  refresh, sizeof(refresh)) != 0)
        {
            rc = NGX_ERROR;
            break;
        }

        /* the list as it is, then "refresh" for the next look */
        rc = ngx_gp_signin_eval(l, NGX_GP_SI_WAIT_MAIL, l->mail_session,
                                "(function(){var r=ids(%s);act(%s,'click');"
                                "return r;})()", items, refresh);
        break;

    case NGX_GP_SI_MAIL_READ:
        rc = ngx_gp_signin_eval(l, NGX_GP_SI_MAIL_READ, l->mail_session,
                                "text()");
        break;

    case NGX_GP_SI_MAIL_BASELINE:
        if (ngx_gp_recipe_json(l->recipe, NGX_GP_R_MAILBOX_ITEM, items,
                               sizeof(items)) != 0)
        {
            rc = NGX_ERROR;
            break;
        }

        rc = ngx_gp_signin_eval(l, NGX_GP_SI_MAIL_BASELINE, l->mail_session,
                                "{ready:document.readyState,ids:ids(%s)}",
                                items);
        break;

    default:
        rc = ngx_gp_signin_probe(l, l->state);
        break;
    }

    if (rc != NGX_OK) {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to the "
                             "browser");
        return;
    }

    /* what the poll sends only looks: it may be sent again */
    l->looking = 1;
}


/*
 * The page navigated (or reloaded) while a look was evaluated in it:
 * Chromium answers the evaluation with one of these, and nothing on the
 * page was changed by it.
 */

static ngx_uint_t
ngx_gp_signin_navigated(const char *error)
{
    return ngx_strstr(error, "navigated or closed") != NULL
           || ngx_strstr(error, "Execution context was destroyed") != NULL
           || ngx_strstr(error, "Cannot find context with specified id")
              != NULL;
}


static void
ngx_gp_signin_expired(ngx_event_t *ev)
{
    ngx_gp_signin_t  *l = ev->data;

    ngx_gp_signin_finish(l, NGX_GP_SIGNIN_TIMEOUT, "the login ran out of "
                         "time (timeout_login of the recipe)");
}


static void
ngx_gp_signin_event(void *data, const char *method, const char *session,
    json_t *params)
{
    ngx_log_debug2(NGX_LOG_DEBUG_CORE, ((ngx_gp_signin_t *) data)->log, 0,
                   "gemini pool signin event %s %s", method, session);
}


static void
ngx_gp_signin_gone(void *data, const char *reason)
{
    ngx_gp_signin_finish(data, NGX_GP_SIGNIN_ERROR, "the browser went "
                         "away: %s", reason);
}


static void
ngx_gp_signin_answer(void *data, json_t *result, const char *error)
{
    ngx_gp_signin_t  *l = data;

    json_t      *v;
    const char  *what;

    if (error) {
        if (l->looking && ngx_gp_signin_navigated(error)
            && !ngx_gp_signin_late(l))
        {
            /* a look that met a navigation: look again at the new page */
            ngx_log_error(NGX_LOG_INFO, l->log, 0, "gemini pool signin: "
                          "the page changed under a look (%s); looking "
                          "again", error);
            l->looking = 0;
            ngx_gp_signin_later(l);
            return;
        }

        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "the browser failed "
                             "a command (%s)", error);
        return;
    }

    v = json_object_get(result, "exceptionDetails");

    if (v) {
        what = json_string_value(json_object_get(v, "text"));

        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "a script failed on "
                             "the page: %s", what ? what : "?");
        return;
    }

    ngx_gp_signin_next(l, result);
}


/* the value of a Runtime.evaluate answer */

static json_t *
ngx_gp_signin_value(json_t *result)
{
    return json_object_get(json_object_get(result, "result"), "value");
}


static void
ngx_gp_signin_page(ngx_gp_signin_t *l, json_t *result)
{
    json_t      *v;
    const char  *s;

    v = ngx_gp_signin_value(result);

    s = json_string_value(json_object_get(v, "url"));
    (void) ngx_cpystrn((u_char *) l->url, (u_char *) (s ? s : ""),
                       sizeof(l->url));

    s = json_string_value(json_object_get(v, "text"));
    (void) ngx_cpystrn((u_char *) l->text, (u_char *) (s ? s : ""),
                       NGX_GP_SIGNIN_TEXT_LEN);

    l->found = (ngx_uint_t) json_integer_value(json_object_get(v, "found"));
}


static void
ngx_gp_signin_type(ngx_gp_signin_t *l, ngx_gp_signin_state_e state,
    const char *text)
{
    if (ngx_gp_signin_send(l, state, l->session, "Input.insertText",
                           json_pack("{ss}", "text", text))
        != NGX_OK)
    {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to the "
                             "browser");
    }
}


/* the next code round: a resend, the page ready again, a new mail */

static void
ngx_gp_signin_round(ngx_gp_signin_t *l, ngx_gp_signin_status_e why,
    const char *reason)
{
    l->round++;

    if (l->round >= l->recipe->code_rounds) {
        ngx_gp_signin_finish(l, why, "%s (%ui codes tried)", reason,
                             l->round);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, l->log, 0,
                  "gemini pool signin: %s, asking for a new code", reason);

    ngx_gp_signin_say(l, "resend code");

    l->sent = 0;
    l->code[0] = '\0';

    if (ngx_gp_signin_act(l, NGX_GP_SI_RESEND, NGX_GP_R_RESEND, "click")
        != NGX_OK)
    {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to the "
                             "browser");
    }
}


static void
ngx_gp_signin_mail_wait(ngx_gp_signin_t *l)
{
    ngx_msec_t      poll, timeout;
    ngx_gp_zone_t  *z;

    ngx_gp_signin_say(l, "wait for code");

    l->opened = -1;

    if (l->tempmail && l->api_ready) {
        z = ngx_gp_zone();
        poll = (ngx_msec_t) ngx_gp_setting_int(z,
                                    NGX_GP_SET_TEMPMAIL_POLL_INTERVAL) * 1000;
        timeout = (ngx_msec_t) ngx_gp_setting_int(z,
                                    NGX_GP_SET_TEMPMAIL_TIMEOUT) * 1000;

        if (ngx_gp_tempmail_wait(l->tempmail, poll, timeout,
                                 ngx_gp_signin_api_code, l)
            == NGX_OK)
        {
            l->state = NGX_GP_SI_WAIT_API;
            return;
        }

        ngx_gp_tempmail_close(l->tempmail);
        l->tempmail = NULL;
    }

    ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_MAIL, NGX_GP_RT_MAIL);
}


static void
ngx_gp_signin_api_baseline(void *data, ngx_int_t rc, const u_char *code,
    const char *reason)
{
    ngx_gp_signin_t  *l = data;

    if (rc == NGX_OK) {
        l->api_ready = 1;
        return;
    }

    ngx_log_error(NGX_LOG_WARN, l->log, 0,
                  "gemini pool signin: the mailbox's worker API failed (%s): "
                  "the code comes from its web page",
                  reason ? reason : "no answer");

    ngx_gp_tempmail_close(l->tempmail);
    l->tempmail = NULL;
}


static void
ngx_gp_signin_api_code(void *data, ngx_int_t rc, const u_char *code,
    const char *reason)
{
    ngx_gp_signin_t  *l = data;

    if (l->state != NGX_GP_SI_WAIT_API) {
        return;
    }

    if (rc == NGX_OK) {
        (void) ngx_cpystrn((u_char *) l->code, (u_char *) code,
                           sizeof(l->code));

        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "gemini pool signin: code from the worker API");

        ngx_gp_signin_say(l, "enter code");

        if (ngx_gp_signin_act(l, NGX_GP_SI_FOCUS_CODE, NGX_GP_R_CODE_INPUT,
                              "focus")
            != NGX_OK)
        {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to "
                                 "the browser");
        }

        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_NO_CODE, "no code arrived in "
                             "the mailbox in time (worker API)");
        return;
    }

    /* the API broke during the wait: the web page from now on */
    ngx_log_error(NGX_LOG_WARN, l->log, 0,
                  "gemini pool signin: the mailbox's worker API failed (%s): "
                  "the code comes from its web page",
                  reason ? reason : "no answer");

    ngx_gp_tempmail_close(l->tempmail);
    l->tempmail = NULL;

    ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_MAIL, NGX_GP_RT_MAIL);
}


/* a new tab (Target.createTarget's answer): attach to it, flat; else
   the login ends */

static ngx_int_t
ngx_gp_signin_attach(ngx_gp_signin_t *l, json_t *result,
    ngx_gp_signin_state_e next)
{
    const char  *s;

    s = json_string_value(json_object_get(result, "targetId"));
    if (s == NULL) {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "no target id");
        return NGX_ERROR;
    }

    if (ngx_gp_signin_send(l, next, NULL, "Target.attachToTarget",
                           json_pack("{sssb}", "targetId", s, "flatten", 1))
        != NGX_OK)
    {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to the "
                             "browser");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the attached tab's session id into buf; else the login ends */

static ngx_int_t
ngx_gp_signin_session(ngx_gp_signin_t *l, json_t *result, char *buf,
    size_t size)
{
    const char  *s;

    s = json_string_value(json_object_get(result, "sessionId"));
    if (s == NULL) {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "no session id");
        return NGX_ERROR;
    }

    (void) ngx_cpystrn((u_char *) buf, (u_char *) s, size);

    return NGX_OK;
}


static void
ngx_gp_signin_next(ngx_gp_signin_t *l, json_t *result)
{
    int64_t      id, newest;
    size_t       i;
    json_t      *v, *item;
    ngx_int_t    rc;
    const char  *s;
    char         login[NGX_GP_SIGNIN_URL_LEN], items[4096];

    rc = NGX_OK;

    switch (l->state) {

    case NGX_GP_SI_MAIL_TARGET:
        (void) ngx_gp_signin_attach(l, result, NGX_GP_SI_MAIL_ATTACH);
        return;

    case NGX_GP_SI_MAIL_ATTACH:
        if (ngx_gp_signin_session(l, result, l->mail_session,
                                  sizeof(l->mail_session))
            != NGX_OK)
        {
            return;
        }

        ngx_gp_signin_wait(l, NGX_GP_SI_MAIL_BASELINE, NGX_GP_RT_PAGE);
        return;

    case NGX_GP_SI_MAIL_BASELINE:
        v = ngx_gp_signin_value(result);
        s = json_string_value(json_object_get(v, "ready"));
        v = json_object_get(v, "ids");

        if (json_array_size(v) == 0
            && (s == NULL || ngx_strcmp(s, "complete") != 0
                || !l->sent))
        {
            /* "sent" marks one more look after the load, for late lists */
            if (s && ngx_strcmp(s, "complete") == 0) {
                l->sent = 1;
            }

            if (!ngx_gp_signin_late(l)) {
                ngx_gp_signin_later(l);
                return;
            }

            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_MAILBOX, "the temp-mail "
                                 "page did not load");
            return;
        }

        l->sent = 0;
        l->baseline = 0;

        json_array_foreach(v, i, item) {
            id = json_integer_value(item);
            if (id > l->baseline) {
                l->baseline = id;
            }
        }

        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "gemini pool signin: mailbox baseline %L",
                      l->baseline);

        ngx_gp_signin_say(l, "open login page");

        rc = ngx_gp_signin_send(l, NGX_GP_SI_TARGET, NULL,
                                "Target.createTarget",
                                json_pack("{ss}", "url", "about:blank"));
        break;

    case NGX_GP_SI_TARGET:
        (void) ngx_gp_signin_attach(l, result, NGX_GP_SI_ATTACH);
        return;

    case NGX_GP_SI_ATTACH:
        if (ngx_gp_signin_session(l, result, l->session, sizeof(l->session))
            != NGX_OK)
        {
            return;
        }

        rc = ngx_gp_signin_send(l, NGX_GP_SI_PAGE_ENABLE, l->session,
                                "Page.enable", NULL);
        break;

    case NGX_GP_SI_PAGE_ENABLE:
        if (ngx_gp_recipe_url(l->recipe->values[NGX_GP_R_LOGIN_PAGE][0],
                              (char *) l->gmcf->login_url.data,
                              (char *) l->gmcf->auth_url.data, login,
                              sizeof(login))
            != 0)
        {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "login_page is "
                                 "too long");
            return;
        }

        rc = ngx_gp_signin_send(l, NGX_GP_SI_NAVIGATE, l->session,
                                "Page.navigate",
                                json_pack("{ss}", "url", login));
        break;

    case NGX_GP_SI_NAVIGATE:
        s = json_string_value(json_object_get(result, "errorText"));
        if (s) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "the login "
                                 "page cannot be opened: %s", s);
            return;
        }

        ngx_gp_signin_say(l, "enter e-mail");
        ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_EMAIL, NGX_GP_RT_EMAIL_INPUT);
        return;

    case NGX_GP_SI_WAIT_EMAIL:
        ngx_gp_signin_page(l, result);

        if (l->found & NGX_GP_FOUND_EMAIL) {
            rc = ngx_gp_signin_act(l, NGX_GP_SI_FOCUS_EMAIL,
                                   NGX_GP_R_EMAIL_INPUT, "focus");
            break;
        }

        if (ngx_gp_recipe_has(l->recipe, NGX_GP_R_ERROR_TEXT, l->text)) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "an error "
                                 "page instead of the login form (%s)",
                                 l->url);
            return;
        }

        if (ngx_gp_signin_late(l)) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "no e-mail "
                                 "field on the login page (%s)", l->url);
            return;
        }

        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_FOCUS_EMAIL:
        ngx_gp_signin_type(l, NGX_GP_SI_TYPE_EMAIL, l->email);
        return;

    case NGX_GP_SI_TYPE_EMAIL:
        rc = ngx_gp_signin_act(l, NGX_GP_SI_CONTINUE, NGX_GP_R_CONTINUE,
                               "click");
        break;

    case NGX_GP_SI_CONTINUE:
        if (!json_is_true(ngx_gp_signin_value(result))) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "no "
                                 "\"continue\" button on the login page");
            return;
        }

        ngx_gp_signin_say(l, "wait for code page");
        ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_CODE_PAGE,
                           NGX_GP_RT_CODE_PAGE);
        return;

    case NGX_GP_SI_WAIT_CODE_PAGE:
        ngx_gp_signin_page(l, result);

        if ((l->found & NGX_GP_FOUND_CODE)
            || ngx_gp_recipe_page(l->recipe, l->home, l->url, l->text)
               == NGX_GP_PAGE_CODE)
        {
            ngx_gp_signin_say(l, "wait for code sent");
            ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_SENT, NGX_GP_RT_READY);
            l->toast_until = ngx_current_msec
                             + l->recipe->timeout[NGX_GP_RT_TOAST];
            return;
        }

        if (ngx_gp_recipe_has(l->recipe, NGX_GP_R_ERROR_TEXT, l->text)) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "an error "
                                 "page after the e-mail (%s)", l->url);
            return;
        }

        if ((l->found & NGX_GP_FOUND_CHALLENGE) && !l->challenge) {
            l->challenge = 1;
            l->until = ngx_current_msec
                       + l->recipe->timeout[NGX_GP_RT_CHALLENGE];

            ngx_log_error(NGX_LOG_WARN, l->log, 0,
                          "gemini pool signin: a challenge is shown, "
                          "waiting for a person to solve it");
            ngx_gp_signin_say(l, "challenge: waiting for a person");
        }

        if (ngx_gp_signin_late(l)) {
            if (l->found & NGX_GP_FOUND_CHALLENGE) {
                ngx_gp_signin_finish(l, NGX_GP_SIGNIN_CHALLENGE, "a "
                                     "challenge that needs a person "
                                     "(headed mode helps)");
                return;
            }

            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "the code "
                                 "page did not come (%s)", l->url);
            return;
        }

        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_WAIT_SENT:
        ngx_gp_signin_page(l, result);

        /* after a resend the old toast stays a moment: not a new failure */
        if (!ngx_gp_recipe_has(l->recipe, NGX_GP_R_RETRY_TEXT, l->text)) {
            l->settle = 0;

        } else if (!l->settle && (l->found & NGX_GP_FOUND_RESEND)
                   && l->resends < 2)
        {
            l->resends++;
            l->settle = 1;
            ngx_gp_signin_say(l, "resend code");
            rc = ngx_gp_signin_act(l, NGX_GP_SI_RESEND, NGX_GP_R_RESEND,
                                   "click");
            break;
        }

        if (ngx_gp_recipe_has(l->recipe, NGX_GP_R_SENT_TEXT, l->text)
            || ((l->found & NGX_GP_FOUND_RESEND)
                && l->recipe->n[NGX_GP_R_SENT_TEXT] == 0)
            || (ngx_msec_int_t) (ngx_current_msec - l->toast_until) >= 0
            || (ngx_gp_signin_late(l)
                && !(l->found & NGX_GP_FOUND_RESEND)))
        {
            /* the mail may come without the toast: look for it anyway */
            ngx_gp_signin_mail_wait(l);
            return;
        }

        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_RESEND:
        ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_SENT, NGX_GP_RT_READY);
        l->toast_until = ngx_current_msec
                         + l->recipe->timeout[NGX_GP_RT_TOAST];
        return;

    case NGX_GP_SI_WAIT_MAIL:
        v = ngx_gp_signin_value(result);
        newest = -1;

        json_array_foreach(v, i, item) {
            id = json_integer_value(item);
            if (id > l->baseline && id > newest) {
                newest = id;
            }
        }

        if (newest > 0
            && ngx_gp_recipe_json(l->recipe, NGX_GP_R_MAILBOX_ITEM, items,
                                  sizeof(items)) == 0)
        {
            l->opened = newest;
            rc = ngx_gp_signin_eval(l, NGX_GP_SI_MAIL_OPEN, l->mail_session,
                                    "(function(){var q=document"
                                    ".querySelectorAll(%s.join(','));"
                                    "for(var i=0;i<q.length;i++)if(/ID:\\s*"
                                    "%L\\b/.test(q[i].innerText||'')){"
                                    "q[i].click();return true;}"
                                    "return false;})()",
                                    items, newest);
            break;
        }

        if (ngx_gp_signin_late(l)) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_NO_CODE, "no code arrived "
                                 "in the mailbox in time");
            return;
        }

        ngx_add_timer(&l->poll, l->recipe->timeout[NGX_GP_RT_MAIL_POLL]);
        return;

    case NGX_GP_SI_MAIL_OPEN:
        l->state = NGX_GP_SI_MAIL_READ;
        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_MAIL_READ:
        s = json_string_value(ngx_gp_signin_value(result));

        ngx_log_debug1(NGX_LOG_DEBUG_CORE, l->log, 0,
                       "gemini pool signin: mail text \"%s\"", s ? s : "");

        if (s == NULL || !ngx_gp_mail_code(s, ngx_strlen(s), l->code)) {
            if (ngx_gp_signin_late(l)) {
                ngx_gp_signin_finish(l, NGX_GP_SIGNIN_NO_CODE, "mail %L has "
                                     "no code", l->opened);
                return;
            }

            /* the mail's text may not be shown yet */
            ngx_gp_signin_later(l);
            return;
        }

        l->baseline = l->opened;

        ngx_log_error(NGX_LOG_INFO, l->log, 0,
                      "gemini pool signin: code from mail %L (the web page)",
                      l->opened);

        ngx_gp_signin_say(l, "enter code");
        rc = ngx_gp_signin_act(l, NGX_GP_SI_FOCUS_CODE, NGX_GP_R_CODE_INPUT,
                               "focus");
        break;

    case NGX_GP_SI_FOCUS_CODE:
        if (!json_is_true(ngx_gp_signin_value(result))) {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "no code "
                                 "field on the code page");
            return;
        }

        ngx_gp_signin_type(l, NGX_GP_SI_TYPE_CODE, l->code);
        return;

    case NGX_GP_SI_TYPE_CODE:
        rc = ngx_gp_signin_act(l, NGX_GP_SI_VERIFY, NGX_GP_R_VERIFY,
                               "click");
        break;

    case NGX_GP_SI_VERIFY:
        if (!json_is_true(ngx_gp_signin_value(result))) {
            /* no button: Enter in the code field */
            rc = ngx_gp_signin_send(l, NGX_GP_SI_ENTER, l->session,
                                    "Input.dispatchKeyEvent",
                                    json_pack("{sssssssi}", "type",
                                              "keyDown", "key", "Enter",
                                              "text", "\r",
                                              "windowsVirtualKeyCode", 13));
            break;
        }

        /* fall through */

    case NGX_GP_SI_ENTER:
        ngx_gp_signin_say(l, "wait for sign-in");
        ngx_gp_signin_wait(l, NGX_GP_SI_WAIT_OUTCOME, NGX_GP_RT_OUTCOME);
        return;

    case NGX_GP_SI_WAIT_OUTCOME:
        ngx_gp_signin_page(l, result);

        switch (ngx_gp_recipe_page(l->recipe, l->home, l->url, l->text)) {

        case NGX_GP_PAGE_SUCCESS:
            ngx_gp_signin_say(l, "read cookies");
            ngx_gp_signin_wait(l, NGX_GP_SI_HARVEST, NGX_GP_RT_HARVEST);
            return;

        case NGX_GP_PAGE_LIMIT:
            ngx_gp_signin_round(l, NGX_GP_SIGNIN_LIMIT, "the code limit is "
                                "exceeded");
            return;

        case NGX_GP_PAGE_CODE_ERROR:
            ngx_gp_signin_round(l, NGX_GP_SIGNIN_CODE_ERROR, "the code was "
                                "refused");
            return;

        case NGX_GP_PAGE_ERROR:
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_PAGE_ERROR, "an error "
                                 "page after the code (%s)", l->url);
            return;
        }

        if (ngx_gp_signin_late(l)) {
            ngx_gp_signin_round(l, NGX_GP_SIGNIN_CODE_ERROR, "the code "
                                "page stayed after the code");
            return;
        }

        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_HARVEST:
        ngx_gp_signin_page(l, result);

        if (ngx_gp_recipe_csesidx(l->url, (char *) l->r.csesidx,
                                  NGX_GP_CSESIDX_LEN) == 0)
        {
            rc = ngx_gp_signin_send(l, NGX_GP_SI_COOKIES, l->session,
                                    "Network.getAllCookies", NULL);
            break;
        }

        if (!l->nudged
            && (ngx_msec_int_t) (l->until - ngx_current_msec)
               < (ngx_msec_int_t) l->recipe->timeout[NGX_GP_RT_HARVEST] / 2)
        {
            l->nudged = 1;
            rc = ngx_gp_signin_send(l, NGX_GP_SI_NUDGE, l->session,
                                    "Page.navigate",
                                    json_pack("{ss}", "url", l->home));
            break;
        }

        if (ngx_gp_signin_late(l)) {
            /* the page's text may carry it */
            if (ngx_gp_recipe_csesidx(l->text, (char *) l->r.csesidx,
                                      NGX_GP_CSESIDX_LEN) == 0)
            {
                rc = ngx_gp_signin_send(l, NGX_GP_SI_COOKIES, l->session,
                                        "Network.getAllCookies", NULL);
                break;
            }

            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_NO_COOKIES, "signed in, "
                                 "but no csesidx in the URL (%s)", l->url);
            return;
        }

        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_NUDGE:
        l->state = NGX_GP_SI_HARVEST;
        ngx_gp_signin_later(l);
        return;

    case NGX_GP_SI_COOKIES:
        json_array_foreach(json_object_get(result, "cookies"), i, item) {
            s = json_string_value(json_object_get(item, "name"));
            if (s == NULL) {
                continue;
            }

            if (ngx_strcmp(s, "__Secure-C_SES") == 0) {
                s = json_string_value(json_object_get(item, "value"));
                (void) ngx_cpystrn(l->r.secure_c_ses,
                                   (u_char *) (s ? s : ""),
                                   NGX_GP_COOKIE_LEN);

            } else if (ngx_strcmp(s, "__Host-C_OSES") == 0) {
                s = json_string_value(json_object_get(item, "value"));
                (void) ngx_cpystrn(l->r.host_c_oses,
                                   (u_char *) (s ? s : ""),
                                   NGX_GP_COOKIE_LEN);
            }
        }

        (void) ngx_gp_recipe_team_id(l->url, (char *) l->r.team_id,
                                     NGX_GP_TEAM_LEN);

        if (l->r.secure_c_ses[0] == '\0') {
            ngx_gp_signin_finish(l, NGX_GP_SIGNIN_NO_COOKIES, "signed in, "
                                 "but no __Secure-C_SES cookie");
            return;
        }

        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_OK, "signed in");
        return;

    default:
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "an answer in state "
                             "%d", (int) l->state);
        return;
    }

    if (rc != NGX_OK) {
        ngx_gp_signin_finish(l, NGX_GP_SIGNIN_ERROR, "cannot talk to the "
                             "browser");
    }
}


static void
ngx_gp_signin_finish(ngx_gp_signin_t *l, ngx_gp_signin_status_e status,
    const char *fmt, ...)
{
    u_char      *p;
    va_list      args;
    ngx_uint_t   level;

    if (l->state == NGX_GP_SI_DONE) {
        return;
    }

    l->state = NGX_GP_SI_DONE;
    l->r.status = status;

    va_start(args, fmt);
    p = ngx_vslprintf(l->r.reason, l->r.reason + NGX_GP_SIGNIN_REASON_LEN - 1,
                      fmt, args);
    va_end(args);
    *p = '\0';

    if (status != NGX_GP_SIGNIN_OK) {
        ngx_memzero(l->r.secure_c_ses, NGX_GP_COOKIE_LEN);
        ngx_memzero(l->r.host_c_oses, NGX_GP_COOKIE_LEN);
        l->r.csesidx[0] = '\0';
        l->r.team_id[0] = '\0';
    }

    if (l->poll.timer_set) {
        ngx_del_timer(&l->poll);
    }

    if (l->deadline.timer_set) {
        ngx_del_timer(&l->deadline);
    }

    level = (status == NGX_GP_SIGNIN_OK) ? NGX_LOG_NOTICE : NGX_LOG_WARN;

    ngx_log_error(level, l->log, 0, "gemini pool signin as %s: %s: %s",
                  l->email, ngx_gp_signin_status_name(status), l->r.reason);

    if (l->tempmail) {
        ngx_gp_tempmail_close(l->tempmail);
        l->tempmail = NULL;
    }

    /* the browser and its profile are gone before the owner hears */
    if (l->browser) {
        ngx_gp_browser_close(l->browser,
                             status == NGX_GP_SIGNIN_ABORTED ? 0 : 2000);
        l->browser = NULL;
    }

    l->done(l->data, &l->r);

    ngx_free(l->text);
    ngx_free(l->js);
    ngx_free(l->tempmail_url);
    ngx_free(l);
}
