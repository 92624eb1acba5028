
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The temp-mail worker API client (see the header).  One transfer at a
 * time per mailbox; a timer between polling rounds.
 */


#include "ngx_http_gemini_pool_module.h"


#define NGX_GP_TEMPMAIL_CALL_MS     30000   /* one call, spec 13.4 */
#define NGX_GP_TEMPMAIL_ACCEPT_MS   10000   /* the "current newest" rule */
#define NGX_GP_TEMPMAIL_BASELINE_N  5
#define NGX_GP_TEMPMAIL_LIST_N      20
#define NGX_GP_TEMPMAIL_MAX_BODY    (4 * 1024 * 1024)
#define NGX_GP_TEMPMAIL_SEEN        64
#define NGX_GP_TEMPMAIL_URL_LEN     2048
#define NGX_GP_TEMPMAIL_REASON_LEN  256


typedef enum {
    NGX_GP_TM_IDLE = 0,
    NGX_GP_TM_BASELINE,          /* the newest mails, for the baseline */
    NGX_GP_TM_BASELINE_DETAIL,   /* the newest mail's text */
    NGX_GP_TM_START,             /* wait(): the newest id at its start */
    NGX_GP_TM_LIST,              /* wait(): one filter of a round */
    NGX_GP_TM_DETAIL,            /* wait(): a candidate's text */
    NGX_GP_TM_PAUSE              /* wait(): between rounds */
} ngx_gp_tempmail_phase_e;


/* how a call ended */
typedef enum {
    NGX_GP_TM_ANSWER = 0,        /* 200 */
    NGX_GP_TM_TRANSIENT,         /* no answer, 429, 5xx: try again */
    NGX_GP_TM_FATAL              /* 401, 403, 404, ...: give up */
} ngx_gp_tempmail_answer_e;


struct ngx_gp_tempmail_s {
    ngx_gp_mailbox_t          mb;
    ngx_log_t                *log;
    ngx_gp_xfer_t            *x;           /* the call in flight */
    ngx_event_t               ev;          /* the next round */
    ngx_connection_t          dummy;       /* ev->data for debug logs */

    ngx_gp_tempmail_pt        handler;
    void                     *data;
    ngx_gp_tempmail_phase_e   phase;

    ngx_uint_t                filter;      /* this round's next filter */
    ngx_gp_mail_list_t        list;        /* the list being read */
    int64_t                   limit;       /* its candidates: id above */
    int64_t                   detail_id;   /* the mail asked for */

    int64_t                   floor;       /* -1: none known yet */
    int64_t                   soft;        /* the newest at wait() start */
    ngx_msec_t                poll;
    ngx_msec_t                started;
    ngx_msec_t                deadline;
    unsigned                  fresh:1;     /* baseline() since last wait */
    unsigned                  api_ok:1;    /* a list read in this wait */
    unsigned                  newer:1;     /* a mail above soft seen */

    int64_t                   seen[NGX_GP_TEMPMAIL_SEEN];  /* no code */
    ngx_uint_t                nseen;

    long                      status;
    int64_t                   newest;
    char                     *newest_subject;
    u_char                    newest_code[NGX_GP_MAIL_CODE_LEN + 1];

    char                      reason[NGX_GP_TEMPMAIL_REASON_LEN];
    u_char                    proxy[NGX_GP_PROXY_LEN];
    char                      url[NGX_GP_TEMPMAIL_URL_LEN];
};


static ngx_int_t ngx_gp_tempmail_call(ngx_gp_tempmail_t *t, ngx_uint_t n,
    const char *keyword, ngx_uint_t address, int64_t id);
static void ngx_gp_tempmail_done(ngx_gp_xfer_t *x);
static ngx_gp_tempmail_answer_e ngx_gp_tempmail_classify(
    ngx_gp_tempmail_t *t, ngx_gp_xfer_t *x);
static void ngx_gp_tempmail_baseline_list(ngx_gp_tempmail_t *t,
    ngx_gp_xfer_t *x);
static void ngx_gp_tempmail_list_done(ngx_gp_tempmail_t *t,
    ngx_gp_xfer_t *x);
static void ngx_gp_tempmail_detail_done(ngx_gp_tempmail_t *t,
    ngx_gp_xfer_t *x);
static void ngx_gp_tempmail_seen(ngx_gp_tempmail_t *t, int64_t id);
static void ngx_gp_tempmail_scan(ngx_gp_tempmail_t *t);
static ngx_int_t ngx_gp_tempmail_step(ngx_gp_tempmail_t *t);
static void ngx_gp_tempmail_timer(ngx_event_t *ev);
static void ngx_gp_tempmail_finish(ngx_gp_tempmail_t *t, ngx_int_t rc,
    const u_char *code, const char *reason);
static void ngx_gp_tempmail_end_wait(ngx_gp_tempmail_t *t);


/* spec 13.4: each keyword with the address, the address, each keyword,
   none */

static const char  *ngx_gp_tempmail_keywords[] = {
    "gemini", "google", "verify", "verification", "code",
    "\xe9\xaa\x8c\xe8\xaf\x81",                   /* 验证 */
    "\xe9\xaa\x8c\xe8\xaf\x81\xe7\xa0\x81",       /* 验证码 */
};

#define NGX_GP_TEMPMAIL_NKW                                                   \
    (sizeof(ngx_gp_tempmail_keywords) / sizeof(ngx_gp_tempmail_keywords[0]))
#define NGX_GP_TEMPMAIL_NFILTERS  (2 * NGX_GP_TEMPMAIL_NKW + 2)


ngx_gp_tempmail_t *
ngx_gp_tempmail_open(const char *tempmail_url, const char *worker_url,
    const char *proxy, ngx_log_t *log, char *err, size_t errlen)
{
    ngx_gp_tempmail_t  *t;

    if (proxy && ngx_strlen(proxy) >= NGX_GP_PROXY_LEN) {
        ngx_snprintf((u_char *) err, errlen, "the proxy URL is too long%Z");
        return NULL;
    }

    t = ngx_calloc(sizeof(ngx_gp_tempmail_t), log);

    if (t == NULL) {
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    if (ngx_gp_mailbox_parse(tempmail_url, worker_url, &t->mb, err, errlen)
        != 0)
    {
        ngx_free(t);
        return NULL;
    }

    if (ngx_strlen(t->mb.base) > 1024 || ngx_strlen(t->mb.address) > 256
        || ngx_strlen(t->mb.jwt) >= NGX_GP_XFER_LINE_LEN - 32)
    {
        ngx_snprintf((u_char *) err, errlen,
                     "the mailbox URL is too long%Z");
        ngx_gp_mailbox_free(&t->mb);
        ngx_free(t);
        return NULL;
    }

    if (proxy) {
        ngx_cpystrn(t->proxy, (u_char *) proxy, NGX_GP_PROXY_LEN);
    }

    t->log = log;
    t->floor = -1;
    t->dummy.fd = (ngx_socket_t) -1;
    t->dummy.data = t;
    t->ev.data = &t->dummy;
    t->ev.handler = ngx_gp_tempmail_timer;
    t->ev.log = log;
    t->ev.cancelable = 1;

    return t;
}


void
ngx_gp_tempmail_set_baseline(ngx_gp_tempmail_t *t, int64_t id)
{
    t->floor = id;
    t->fresh = 0;
}


const char *
ngx_gp_tempmail_address(ngx_gp_tempmail_t *t)
{
    return t->mb.address;
}


const char *
ngx_gp_tempmail_base(ngx_gp_tempmail_t *t)
{
    return t->mb.base;
}


int64_t
ngx_gp_tempmail_newest(ngx_gp_tempmail_t *t, const char **subject,
    const u_char **code)
{
    *subject = t->newest_subject ? t->newest_subject : "";
    *code = t->newest_code;

    return t->newest;
}


long
ngx_gp_tempmail_status(ngx_gp_tempmail_t *t)
{
    return t->status;
}


void
ngx_gp_tempmail_close(ngx_gp_tempmail_t *t)
{
    if (t == NULL) {
        return;
    }

    if (t->ev.timer_set) {
        ngx_del_timer(&t->ev);
    }

    ngx_gp_xfer_destroy(t->x);
    ngx_gp_mail_list_free(&t->list);
    ngx_gp_mailbox_free(&t->mb);
    free(t->newest_subject);
    ngx_free(t);
}


ngx_int_t
ngx_gp_tempmail_baseline(ngx_gp_tempmail_t *t, ngx_gp_tempmail_pt handler,
    void *data)
{
    if (t->phase != NGX_GP_TM_IDLE) {
        return NGX_ERROR;
    }

    t->handler = handler;
    t->data = data;
    t->phase = NGX_GP_TM_BASELINE;
    t->deadline = ngx_current_msec + NGX_GP_TEMPMAIL_CALL_MS;

    if (ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_BASELINE_N, NULL, 0, 0)
        != NGX_OK)
    {
        t->phase = NGX_GP_TM_IDLE;
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_gp_tempmail_wait(ngx_gp_tempmail_t *t, ngx_msec_t poll,
    ngx_msec_t timeout, ngx_gp_tempmail_pt handler, void *data)
{
    if (t->phase != NGX_GP_TM_IDLE) {
        return NGX_ERROR;
    }

    t->handler = handler;
    t->data = data;
    t->poll = poll ? poll : 1;
    t->started = ngx_current_msec;
    t->deadline = t->started + timeout;
    t->api_ok = 0;
    t->newer = 0;
    t->filter = 0;
    ngx_cpystrn((u_char *) t->reason, (u_char *) "no answer from the worker",
                sizeof(t->reason));

    if (t->fresh) {
        /* the caller's baseline, taken before the code was asked for */
        t->fresh = 0;
        t->soft = t->floor;
        t->phase = NGX_GP_TM_LIST;

        if (ngx_gp_tempmail_step(t) != NGX_OK) {
            t->phase = NGX_GP_TM_IDLE;
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    t->phase = NGX_GP_TM_START;

    if (ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_BASELINE_N, NULL, 0, 0)
        != NGX_OK)
    {
        t->phase = NGX_GP_TM_IDLE;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One call of the worker API: the list (n mails, a keyword and the
 * address as filters) or, with id, one mail.
 */

static ngx_int_t
ngx_gp_tempmail_call(ngx_gp_tempmail_t *t, ngx_uint_t n, const char *keyword,
    ngx_uint_t address, int64_t id)
{
    long            ms;
    size_t          len;
    ngx_msec_int_t  left;
    ngx_gp_xfer_t  *x;

    if (id > 0) {
        len = ngx_snprintf((u_char *) t->url, sizeof(t->url) - 1,
                           "%s/api/mails/%L", t->mb.base, id)
              - (u_char *) t->url;

    } else {
        len = ngx_snprintf((u_char *) t->url, sizeof(t->url) - 1,
                           "%s/api/mails?limit=%ui&offset=0", t->mb.base, n)
              - (u_char *) t->url;

        if (keyword) {
            len = ngx_cpystrn((u_char *) t->url + len, (u_char *) "&keyword=",
                              sizeof(t->url) - len)
                  - (u_char *) t->url;
            len += ngx_gp_url_escape(t->url + len, sizeof(t->url) - len,
                                     keyword);
        }

        if (address) {
            len = ngx_cpystrn((u_char *) t->url + len, (u_char *) "&address=",
                              sizeof(t->url) - len)
                  - (u_char *) t->url;
            len += ngx_gp_url_escape(t->url + len, sizeof(t->url) - len,
                                     t->mb.address);
        }
    }

    t->url[len] = '\0';

    x = ngx_gp_xfer_create(t->log, id > 0 ? "tempmail detail"
                                          : "tempmail list");
    if (x == NULL) {
        return NGX_ERROR;
    }

    if (ngx_gp_xfer_header(x, "Authorization: Bearer %s", t->mb.jwt)
        != NGX_OK
        || ngx_gp_xfer_header(x, "Content-Type: application/json")
           != NGX_OK
        || ngx_gp_xfer_header(x, "Accept: application/json") != NGX_OK)
    {
        ngx_gp_xfer_destroy(x);
        return NGX_ERROR;
    }

    left = (ngx_msec_int_t) (t->deadline - ngx_current_msec) + 1000;
    ms = (left < 1000) ? 1000
         : (left > NGX_GP_TEMPMAIL_CALL_MS) ? NGX_GP_TEMPMAIL_CALL_MS
         : (long) left;

    curl_easy_setopt(x->easy, CURLOPT_URL, t->url);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, ms);
    ngx_gp_xfer_proxy(x, NGX_GP_TRAFFIC_TEMPMAIL, t->proxy);

    x->max = NGX_GP_TEMPMAIL_MAX_BODY;
    x->on_done = ngx_gp_tempmail_done;
    x->data = t;

    if (ngx_gp_xfer_start(x) != NGX_OK) {
        ngx_gp_xfer_destroy(x);
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, t->log, 0,
                   "gemini pool tempmail: GET %s (%s)", t->url,
                   t->mb.address);

    t->x = x;

    return NGX_OK;
}


static void
ngx_gp_tempmail_done(ngx_gp_xfer_t *x)
{
    ngx_gp_tempmail_t  *t;

    t = x->data;
    t->x = NULL;
    t->status = x->status;

    switch (t->phase) {

    case NGX_GP_TM_BASELINE:
    case NGX_GP_TM_START:
        ngx_gp_tempmail_baseline_list(t, x);
        return;

    case NGX_GP_TM_LIST:
        ngx_gp_tempmail_list_done(t, x);
        return;

    case NGX_GP_TM_BASELINE_DETAIL:
    case NGX_GP_TM_DETAIL:
        ngx_gp_tempmail_detail_done(t, x);
        return;

    default:
        ngx_gp_xfer_destroy(x);
        return;
    }
}


/* sets t->reason unless the call was answered with 200 */

static ngx_gp_tempmail_answer_e
ngx_gp_tempmail_classify(ngx_gp_tempmail_t *t, ngx_gp_xfer_t *x)
{
    u_char  buf[NGX_GP_TEMPMAIL_REASON_LEN];

    if (x->result != CURLE_OK) {
        ngx_snprintf((u_char *) t->reason, sizeof(t->reason) - 1,
                     "the worker did not answer: %s%Z",
                     ngx_gp_xfer_describe(x, buf, sizeof(buf)));
        t->status = 0;
        return NGX_GP_TM_TRANSIENT;
    }

    if (x->overflow) {
        ngx_snprintf((u_char *) t->reason, sizeof(t->reason) - 1,
                     "the worker's answer is over %uz bytes%Z", x->max);
        return NGX_GP_TM_FATAL;
    }

    if (x->status == 200) {
        return NGX_GP_TM_ANSWER;
    }

    if (x->status == 401 || x->status == 403) {
        ngx_snprintf((u_char *) t->reason, sizeof(t->reason) - 1,
                     "the worker refused the mailbox's jwt (HTTP %l)%Z",
                     x->status);
        return NGX_GP_TM_FATAL;
    }

    ngx_snprintf((u_char *) t->reason, sizeof(t->reason) - 1,
                 "the worker API answered HTTP %l%s%Z", x->status,
                 x->status == 404 ? " (is tempmail_worker_url right?)" : "");

    return (x->status == 429 || x->status >= 500) ? NGX_GP_TM_TRANSIENT
                                                  : NGX_GP_TM_FATAL;
}


static void
ngx_gp_tempmail_fail_reason(ngx_gp_tempmail_t *t, const char *reason)
{
    ngx_snprintf((u_char *) t->reason, sizeof(t->reason) - 1, "%s%Z",
                 reason);
}


/* the newest mails: for baseline(), or at the start of a wait() */

static void
ngx_gp_tempmail_baseline_list(ngx_gp_tempmail_t *t, ngx_gp_xfer_t *x)
{
    size_t                    i;
    const char               *reason;
    ngx_gp_mail_t            *m;
    ngx_gp_mail_list_t        l;
    ngx_gp_tempmail_answer_e  a;

    a = ngx_gp_tempmail_classify(t, x);

    if (a == NGX_GP_TM_ANSWER) {
        if (ngx_gp_mail_list_parse((char *) x->buf, x->len, &l, &reason)
            != 0)
        {
            reason = "out of memory";
            a = NGX_GP_TM_FATAL;

        } else if (reason != NULL) {
            a = NGX_GP_TM_FATAL;
            ngx_gp_mail_list_free(&l);
        }

        if (a != NGX_GP_TM_ANSWER) {
            ngx_gp_tempmail_fail_reason(t, reason);
        }
    }

    ngx_gp_xfer_destroy(x);

    if (t->phase == NGX_GP_TM_START) {

        if (a == NGX_GP_TM_FATAL) {
            ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, t->reason);
            return;
        }

        if (a == NGX_GP_TM_TRANSIENT) {
            /* read it again at the next round */
            t->filter = NGX_GP_TEMPMAIL_NFILTERS;
            (void) ngx_gp_tempmail_step(t);
            return;
        }

        t->api_ok = 1;
        t->soft = l.newest;

        if (t->floor < 0) {
            t->floor = l.newest;
        }

        ngx_gp_mail_list_free(&l);
        t->phase = NGX_GP_TM_LIST;

        if (ngx_gp_tempmail_step(t) != NGX_OK) {
            ngx_gp_tempmail_finish(t, NGX_ERROR, NULL,
                                   "cannot start a transfer");
        }

        return;
    }

    /* baseline() */

    if (a != NGX_GP_TM_ANSWER) {
        ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, t->reason);
        return;
    }

    t->newest = l.newest;
    t->floor = l.newest;
    t->fresh = 1;
    t->newest_code[0] = '\0';
    free(t->newest_subject);
    t->newest_subject = NULL;
    m = NULL;

    for (i = 0; i < l.n; i++) {
        if (l.mails[i].id == l.newest) {
            m = &l.mails[i];
        }
    }

    if (m != NULL) {
        t->newest_subject = m->subject;
        m->subject = NULL;

        if (m->text != NULL) {
            (void) ngx_gp_mail_code(m->text, ngx_strlen(m->text),
                                    (char *) t->newest_code);
            m = NULL;
        }
    }

    ngx_gp_mail_list_free(&l);

    if (m != NULL) {
        /* the newest mail's text: for display only */
        t->phase = NGX_GP_TM_BASELINE_DETAIL;

        if (ngx_gp_tempmail_call(t, 0, NULL, 0, t->newest) == NGX_OK) {
            return;
        }
    }

    ngx_gp_tempmail_finish(t, NGX_OK, NULL, NULL);
}


static void
ngx_gp_tempmail_list_done(ngx_gp_tempmail_t *t, ngx_gp_xfer_t *x)
{
    size_t                    i;
    const char               *reason;
    ngx_gp_tempmail_answer_e  a;

    a = ngx_gp_tempmail_classify(t, x);

    if (a == NGX_GP_TM_ANSWER) {
        if (ngx_gp_mail_list_parse((char *) x->buf, x->len, &t->list,
                                   &reason)
            != 0)
        {
            reason = "out of memory";
        }

        if (reason != NULL) {
            /* HTML, not JSON, another shape: the worker is not there */
            a = NGX_GP_TM_FATAL;
            ngx_gp_tempmail_fail_reason(t, reason);
            ngx_gp_mail_list_free(&t->list);
        }
    }

    ngx_gp_xfer_destroy(x);

    if (a == NGX_GP_TM_FATAL) {
        ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, t->reason);
        return;
    }

    if (a == NGX_GP_TM_TRANSIENT) {
        /* this round ends; the next one tries again */
        t->filter = NGX_GP_TEMPMAIL_NFILTERS;

        if (ngx_gp_tempmail_step(t) != NGX_OK) {
            ngx_gp_tempmail_finish(t, NGX_ERROR, NULL,
                                   "cannot start a transfer");
        }

        return;
    }

    t->api_ok = 1;

    for (i = 0; i < t->list.n; i++) {
        if (t->list.mails[i].id > t->soft) {
            t->newer = 1;
        }
    }

    /*
     * Candidates are above the wait's start; after 10 s without a newer
     * mail also those above the last known baseline (never at or below).
     */

    t->limit = t->soft;

    if (!t->newer
        && ngx_current_msec - t->started >= NGX_GP_TEMPMAIL_ACCEPT_MS)
    {
        t->limit = t->floor;
    }

    ngx_gp_tempmail_scan(t);
}


static void
ngx_gp_tempmail_detail_done(ngx_gp_tempmail_t *t, ngx_gp_xfer_t *x)
{
    int                       found;
    const char               *reason;
    ngx_gp_mail_t             m;
    ngx_gp_tempmail_answer_e  a;
    u_char                    code[NGX_GP_MAIL_CODE_LEN + 1];

    a = ngx_gp_tempmail_classify(t, x);
    found = 0;

    if (a == NGX_GP_TM_ANSWER) {
        if (ngx_gp_mail_detail_parse((char *) x->buf, x->len, &m, &reason)
            == 0)
        {
            found = m.text != NULL
                    && ngx_gp_mail_code(m.text, ngx_strlen(m.text),
                                        (char *) code);
            ngx_gp_mail_free(&m);

        } else {
            ngx_gp_tempmail_fail_reason(t, reason);
        }
    }

    ngx_gp_xfer_destroy(x);

    if (t->phase == NGX_GP_TM_BASELINE_DETAIL) {
        if (found) {
            ngx_memcpy(t->newest_code, code, sizeof(code));
        }

        ngx_gp_tempmail_finish(t, NGX_OK, NULL, NULL);
        return;
    }

    if (a == NGX_GP_TM_FATAL) {
        ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, t->reason);
        return;
    }

    if (found) {
        t->floor = t->detail_id;
        ngx_gp_tempmail_finish(t, NGX_OK, code, NULL);
        return;
    }

    if (a == NGX_GP_TM_TRANSIENT) {
        /* this round ends; the next one asks again */
        ngx_gp_mail_list_free(&t->list);
        t->phase = NGX_GP_TM_LIST;
        t->filter = NGX_GP_TEMPMAIL_NFILTERS;

        if (ngx_gp_tempmail_step(t) != NGX_OK) {
            ngx_gp_tempmail_finish(t, NGX_ERROR, NULL,
                                   "cannot start a transfer");
        }

        return;
    }

    /* no code in it: not asked again */
    ngx_gp_tempmail_seen(t, t->detail_id);

    ngx_gp_tempmail_scan(t);
}


/* a mail without a code, in a ring of the last ones */

static void
ngx_gp_tempmail_seen(ngx_gp_tempmail_t *t, int64_t id)
{
    t->seen[t->nseen++ % NGX_GP_TEMPMAIL_SEEN] = id;
}


/* the newest unseen candidate of t->list, until one has a code */

static void
ngx_gp_tempmail_scan(ngx_gp_tempmail_t *t)
{
    size_t          i, k;
    ngx_gp_mail_t  *m, *best;
    u_char          code[NGX_GP_MAIL_CODE_LEN + 1];

    for ( ;; ) {
        best = NULL;

        for (i = 0; i < t->list.n; i++) {
            m = &t->list.mails[i];

            if (m->id <= t->limit || (best && m->id <= best->id)) {
                continue;
            }

            for (k = 0; k < ngx_min(t->nseen, NGX_GP_TEMPMAIL_SEEN); k++) {
                if (t->seen[k] == m->id) {
                    break;
                }
            }

            if (k == t->nseen) {
                best = m;
            }
        }

        if (best == NULL) {
            break;
        }

        if (best->text == NULL) {
            /* spec 13.4: no text in the list item, ask for the mail */
            t->phase = NGX_GP_TM_DETAIL;
            t->detail_id = best->id;

            if (ngx_gp_tempmail_call(t, 0, NULL, 0, best->id) != NGX_OK) {
                ngx_gp_tempmail_finish(t, NGX_ERROR, NULL,
                                       "cannot start a transfer");
            }

            return;
        }

        if (ngx_gp_mail_code(best->text, ngx_strlen(best->text),
                             (char *) code))
        {
            t->floor = best->id;
            ngx_gp_tempmail_finish(t, NGX_OK, code, NULL);
            return;
        }

        ngx_gp_tempmail_seen(t, best->id);
    }

    ngx_gp_mail_list_free(&t->list);
    t->phase = NGX_GP_TM_LIST;
    t->filter++;

    if (ngx_gp_tempmail_step(t) != NGX_OK) {
        ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, "cannot start a transfer");
    }
}


/*
 * The next call of a round, or the pause before the next round, or the
 * end of the wait.  NGX_ERROR: a transfer could not start.
 */

static ngx_int_t
ngx_gp_tempmail_step(ngx_gp_tempmail_t *t)
{
    ngx_uint_t      f, nkw;
    ngx_msec_int_t  left;

    left = (ngx_msec_int_t) (t->deadline - ngx_current_msec);

    if (left <= 0) {
        ngx_gp_tempmail_end_wait(t);
        return NGX_OK;
    }

    f = t->filter;
    nkw = NGX_GP_TEMPMAIL_NKW;

    if (f >= NGX_GP_TEMPMAIL_NFILTERS) {
        if (t->phase != NGX_GP_TM_START) {
            t->phase = NGX_GP_TM_PAUSE;
        }

        ngx_add_timer(&t->ev, ngx_min((ngx_msec_t) left, t->poll));
        return NGX_OK;
    }

    if (f < nkw) {
        return ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_LIST_N,
                                    ngx_gp_tempmail_keywords[f], 1, 0);
    }

    if (f == nkw) {
        return ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_LIST_N, NULL, 1, 0);
    }

    if (f < 2 * nkw + 1) {
        return ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_LIST_N,
                                    ngx_gp_tempmail_keywords[f - nkw - 1],
                                    0, 0);
    }

    return ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_LIST_N, NULL, 0, 0);
}


static void
ngx_gp_tempmail_timer(ngx_event_t *ev)
{
    ngx_connection_t   *c;
    ngx_gp_tempmail_t  *t;

    c = ev->data;
    t = c->data;

    if (t->phase == NGX_GP_TM_START) {
        if (ngx_gp_tempmail_call(t, NGX_GP_TEMPMAIL_BASELINE_N, NULL, 0, 0)
            != NGX_OK)
        {
            ngx_gp_tempmail_finish(t, NGX_ERROR, NULL,
                                   "cannot start a transfer");
        }

        return;
    }

    t->phase = NGX_GP_TM_LIST;
    t->filter = 0;

    if (ngx_gp_tempmail_step(t) != NGX_OK) {
        ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, "cannot start a transfer");
    }
}


static void
ngx_gp_tempmail_end_wait(ngx_gp_tempmail_t *t)
{
    if (t->api_ok) {
        ngx_gp_tempmail_finish(t, NGX_DECLINED, NULL,
                               "no mail with a code arrived in time");
        return;
    }

    ngx_gp_tempmail_finish(t, NGX_ERROR, NULL, t->reason);
}


/*
 * Ends the operation and calls its handler last: the handler may close
 * t or start another operation.
 */

static void
ngx_gp_tempmail_finish(ngx_gp_tempmail_t *t, ngx_int_t rc,
    const u_char *code, const char *reason)
{
    void                *data;
    ngx_uint_t           level;
    ngx_gp_tempmail_pt   handler;
    u_char               c[NGX_GP_MAIL_CODE_LEN + 1];
    char                 why[NGX_GP_TEMPMAIL_REASON_LEN];

    if (t->ev.timer_set) {
        ngx_del_timer(&t->ev);
    }

    ngx_gp_mail_list_free(&t->list);

    ngx_cpystrn((u_char *) why, (u_char *) (reason ? reason : ""),
                sizeof(why));

    if (code) {
        ngx_memcpy(c, code, sizeof(c));
    }

    handler = t->handler;
    data = t->data;
    t->handler = NULL;
    t->phase = NGX_GP_TM_IDLE;

    level = (rc == NGX_ERROR) ? NGX_LOG_WARN : NGX_LOG_INFO;

    ngx_log_error(level, t->log, 0,
                  "gemini pool tempmail %s: %s%s%s", t->mb.address,
                  rc == NGX_OK ? (code ? "code found" : "baseline read")
                  : rc == NGX_DECLINED ? "no code" : "failed",
                  why[0] ? ": " : "", why);

    if (handler) {
        handler(data, rc, code ? c : NULL, why[0] ? why : NULL);
    }
}


