
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Chromium over --remote-debugging-pipe (see the header).  The pipe's
 * read side is an nginx connection on the helper's event loop; writes
 * never block: what the pipe does not take waits in a queue until it is
 * writable.  Commands carry ids; each has a callback and a timer.
 */


#include "ngx_http_gemini_pool_module.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <dirent.h>
#include <ftw.h>


/* where the temporary profiles live: ngx_gp_chromium.<helper pid>.<n> */
#define NGX_GP_BROWSER_TMP        "/tmp"
#define NGX_GP_BROWSER_PREFIX     "ngx_gp_chromium."
#define NGX_GP_BROWSER_PGID_FILE  "ngx_gp_pgid"

/* a message from the browser may not be larger */
#define NGX_GP_BROWSER_MAX_MSG    (16 * 1024 * 1024)

#define NGX_GP_BROWSER_DYING      8


typedef struct ngx_gp_cdp_call_s  ngx_gp_cdp_call_t;

struct ngx_gp_cdp_call_s {
    ngx_gp_cdp_call_t       *next;
    ngx_uint_t               id;
    ngx_gp_cdp_pt            handler;
    void                    *data;
    ngx_event_t              timer;
    ngx_gp_browser_t        *browser;
};


typedef struct ngx_gp_cdp_out_s  ngx_gp_cdp_out_t;

struct ngx_gp_cdp_out_s {
    ngx_gp_cdp_out_t        *next;
    size_t                   len;
    size_t                   sent;
    u_char                   data[1];
};


struct ngx_gp_browser_s {
    ngx_pid_t                pid;         /* the keeper: the group */
    int                      lifeline;    /* the keeper's, to close */
    ngx_connection_t        *in;          /* fd 4 of the browser */
    ngx_connection_t        *out;         /* fd 3 of the browser */
    ngx_log_t               *log;

    u_char                  *rbuf;
    size_t                   rlen;
    size_t                   rsize;

    ngx_gp_cdp_out_t        *wq;
    ngx_gp_cdp_out_t        *wq_last;

    ngx_gp_cdp_call_t       *calls;
    ngx_uint_t               next_id;

    ngx_gp_cdp_event_pt      on_event;
    ngx_gp_browser_gone_pt   on_gone;
    void                    *data;

    ngx_uint_t               dispatching;
    unsigned                 closed:1;    /* close() ran inside a handler */
    unsigned                 gone:1;

    char                     profile[NGX_MAX_PATH];
};


/* a browser being closed: killed when its grace ends */
typedef struct {
    ngx_pid_t                pid;
    int                      lifeline;
    ngx_event_t              ev;
    char                     profile[NGX_MAX_PATH];
} ngx_gp_browser_dying_t;


static ngx_int_t ngx_gp_browser_spawn(ngx_gp_browser_conf_t *bc,
    ngx_gp_browser_t *b, int tochild, int fromchild, char *err,
    size_t errlen);
static void ngx_gp_browser_read(ngx_event_t *ev);
static void ngx_gp_browser_write(ngx_event_t *ev);
static ngx_int_t ngx_gp_browser_flush(ngx_gp_browser_t *b);
static void ngx_gp_browser_dispatch(ngx_gp_browser_t *b, u_char *p,
    size_t len);
static void ngx_gp_browser_lost(ngx_gp_browser_t *b, const char *reason);
static void ngx_gp_browser_call_timeout(ngx_event_t *ev);
static void ngx_gp_browser_free(ngx_gp_browser_t *b);
static void ngx_gp_browser_kill(ngx_pid_t pid, int lifeline,
    const char *profile, ngx_log_t *log);
static int ngx_gp_browser_rm(const char *path, const struct stat *sb,
    int flag, struct FTW *ftw);
static void ngx_gp_browser_dying_timer(ngx_event_t *ev);
static void ngx_gp_browser_rmtree(const char *dir, ngx_log_t *log);


static ngx_gp_browser_dying_t   ngx_gp_browser_dying[NGX_GP_BROWSER_DYING];
static ngx_gp_browser_t        *ngx_gp_browser_live[NGX_GP_BROWSER_DYING];
static ngx_uint_t               ngx_gp_browser_serial;
static ngx_uint_t               ngx_gp_browser_sigchld;


/* gemini_pool_browser PATH [headless|headed|auto] [arg=...]... */

char *
ngx_gp_browser_directive(ngx_conf_t *cf, ngx_gp_browser_conf_t *bc)
{
    ngx_str_t   *value, *a;
    ngx_uint_t   i;

    if (bc->path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    bc->path = value[1];
    bc->mode = NGX_GP_BROWSER_AUTO;

    if (bc->path.len == 0 || bc->path.data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gemini_pool_browser needs the absolute path of "
                           "Chromium, not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    bc->args = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (bc->args == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "headless") == 0) {
            bc->mode = NGX_GP_BROWSER_HEADLESS;
            continue;
        }

        if (ngx_strcmp(value[i].data, "headed") == 0) {
            bc->mode = NGX_GP_BROWSER_HEADED;
            continue;
        }

        if (ngx_strcmp(value[i].data, "auto") == 0) {
            bc->mode = NGX_GP_BROWSER_AUTO;
            continue;
        }

        if (ngx_strncmp(value[i].data, "arg=", 4) == 0
            && value[i].len > 4)
        {
            a = ngx_array_push(bc->args);
            if (a == NULL) {
                return NGX_CONF_ERROR;
            }

            a->data = value[i].data + 4;
            a->len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" of gemini_pool_browser "
                           "(headless, headed, auto or arg=...)", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_gp_browser_env_on(const char *name)
{
    char  *v;

    v = getenv(name);

    return v != NULL && (ngx_strcmp(v, "1") == 0
                         || ngx_strcasecmp((u_char *) v,
                                           (u_char *) "true") == 0
                         || ngx_strcasecmp((u_char *) v,
                                           (u_char *) "yes") == 0);
}


ngx_uint_t
ngx_gp_browser_headed(ngx_gp_browser_conf_t *bc)
{
    char  *display;

    if (ngx_gp_browser_env_on("FORCE_HEADED")) {
        return 1;
    }

    if (ngx_gp_browser_env_on("FORCE_HEADLESS")) {
        return 0;
    }

    if (bc->mode == NGX_GP_BROWSER_HEADED) {
        return 1;
    }

    if (bc->mode == NGX_GP_BROWSER_HEADLESS) {
        return 0;
    }

    display = getenv("DISPLAY");

    return display != NULL && display[0] != '\0';
}


ngx_gp_browser_t *
ngx_gp_browser_launch(ngx_gp_browser_conf_t *bc, ngx_log_t *log,
    ngx_gp_cdp_event_pt event, ngx_gp_browser_gone_pt gone, void *data,
    char *err, size_t errlen)
{
    int                tochild[2], fromchild[2];
    u_char             path[NGX_MAX_PATH];
    ngx_uint_t         i;
    ngx_gp_browser_t  *b;

    if (bc == NULL || bc->path.len == 0) {
        ngx_snprintf((u_char *) err, errlen, "no browser configured "
                     "(the gemini_pool_browser directive)%Z");
        return NULL;
    }

    if (bc->path.len >= NGX_MAX_PATH) {
        ngx_snprintf((u_char *) err, errlen, "the browser's path is too "
                     "long%Z");
        return NULL;
    }

    ngx_memcpy(path, bc->path.data, bc->path.len);
    path[bc->path.len] = '\0';

    if (access((char *) path, X_OK) != 0) {
        ngx_snprintf((u_char *) err, errlen, "Chromium not found: "
                     "\"%s\" is not an executable file (%s); install it "
                     "(apt-get install chromium) or set gemini_pool_browser"
                     "%Z", path, strerror(errno));
        return NULL;
    }

    for (i = 0; i < NGX_GP_BROWSER_DYING; i++) {
        if (ngx_gp_browser_live[i] == NULL) {
            break;
        }
    }

    if (i == NGX_GP_BROWSER_DYING) {
        ngx_snprintf((u_char *) err, errlen, "too many browsers at once%Z");
        return NULL;
    }

    b = ngx_calloc(sizeof(ngx_gp_browser_t), log);
    if (b == NULL) {
        ngx_snprintf((u_char *) err, errlen, "out of memory%Z");
        return NULL;
    }

    b->log = log;
    b->on_event = event;
    b->on_gone = gone;
    b->data = data;
    b->next_id = 1;
    b->pid = -1;
    b->lifeline = -1;

    ngx_snprintf((u_char *) b->profile, NGX_MAX_PATH,
                 NGX_GP_BROWSER_TMP "/" NGX_GP_BROWSER_PREFIX "%P.%ui%Z",
                 ngx_pid, ngx_gp_browser_serial++);

    if (mkdir(b->profile, 0700) != 0) {
        ngx_snprintf((u_char *) err, errlen, "mkdir(\"%s\") failed: %s%Z",
                     b->profile, strerror(errno));
        ngx_free(b);
        return NULL;
    }

    if (pipe2(tochild, O_CLOEXEC) != 0) {
        ngx_snprintf((u_char *) err, errlen, "pipe() failed: %s%Z",
                     strerror(errno));
        goto failed_dir;
    }

    if (pipe2(fromchild, O_CLOEXEC) != 0) {
        ngx_snprintf((u_char *) err, errlen, "pipe() failed: %s%Z",
                     strerror(errno));
        close(tochild[0]);
        close(tochild[1]);
        goto failed_dir;
    }

    if (ngx_gp_browser_spawn(bc, b, tochild[0], fromchild[1], err, errlen)
        != NGX_OK)
    {
        close(tochild[0]);
        close(tochild[1]);
        close(fromchild[0]);
        close(fromchild[1]);
        goto failed_dir;
    }

    close(tochild[0]);
    close(fromchild[1]);

    if (ngx_nonblocking(tochild[1]) == -1
        || ngx_nonblocking(fromchild[0]) == -1)
    {
        ngx_snprintf((u_char *) err, errlen, "nonblocking failed%Z");
        close(tochild[1]);
        close(fromchild[0]);
        goto failed_kill;
    }

    b->in = ngx_get_connection(fromchild[0], log);
    if (b->in == NULL) {
        close(tochild[1]);
        close(fromchild[0]);
        ngx_snprintf((u_char *) err, errlen, "no free connection%Z");
        goto failed_kill;
    }

    b->out = ngx_get_connection(tochild[1], log);
    if (b->out == NULL) {
        close(tochild[1]);
        ngx_close_connection(b->in);
        b->in = NULL;
        ngx_snprintf((u_char *) err, errlen, "no free connection%Z");
        goto failed_kill;
    }

    b->in->data = b;
    b->in->read->handler = ngx_gp_browser_read;
    b->in->read->log = log;
    b->in->write->handler = ngx_gp_browser_write;
    b->in->write->log = log;

    b->out->data = b;
    b->out->write->handler = ngx_gp_browser_write;
    b->out->write->log = log;
    b->out->read->handler = ngx_gp_browser_write;
    b->out->read->log = log;
    b->out->write->ready = 1;

    if (ngx_handle_read_event(b->in->read, 0) != NGX_OK) {
        ngx_snprintf((u_char *) err, errlen, "cannot watch the pipe%Z");
        ngx_close_connection(b->in);
        ngx_close_connection(b->out);
        b->in = NULL;
        b->out = NULL;
        goto failed_kill;
    }

    ngx_gp_browser_live[i] = b;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "gemini pool browser: Chromium %P started, profile %s",
                  b->pid, b->profile);

    return b;

failed_kill:

    ngx_gp_browser_kill(b->pid, b->lifeline, NULL, log);
    b->lifeline = -1;

failed_dir:

    ngx_gp_browser_rmtree(b->profile, log);
    ngx_free(b);

    return NULL;
}


static ngx_int_t
ngx_gp_browser_spawn(ngx_gp_browser_conf_t *bc, ngx_gp_browser_t *b,
    int tochild, int fromchild, char *err, size_t errlen)
{
    int          fd, a, c, null, lifeline[2];
    char        *argv[64], *envp[8], *v, *p;
    char         home[NGX_MAX_PATH + 8], profile[NGX_MAX_PATH + 32];
    char         path[NGX_MAX_PATH], display[256], xauth[NGX_MAX_PATH + 16];
    char         args[4096], pgid[32], pgidfile[NGX_MAX_PATH + 32];
    ngx_str_t   *extra;
    ngx_pid_t    pid, parent;
    ngx_uint_t   i, n, headed;
    sigset_t     set;

    ngx_memcpy(path, bc->path.data, bc->path.len);
    path[bc->path.len] = '\0';

    headed = ngx_gp_browser_headed(bc);

    ngx_snprintf((u_char *) profile, sizeof(profile), "--user-data-dir=%s%Z",
                 b->profile);
    ngx_snprintf((u_char *) pgidfile, sizeof(pgidfile),
                 "%s/" NGX_GP_BROWSER_PGID_FILE "%Z", b->profile);
    ngx_snprintf((u_char *) home, sizeof(home), "HOME=%s%Z", b->profile);

    a = 0;
    argv[a++] = path;
    argv[a++] = "--remote-debugging-pipe";
    argv[a++] = profile;
    argv[a++] = "--no-first-run";
    argv[a++] = "--no-default-browser-check";
    argv[a++] = "--no-sandbox";
    argv[a++] = "--disable-setuid-sandbox";
    argv[a++] = "--disable-dev-shm-usage";
    argv[a++] = "--disable-background-networking";
    argv[a++] = "--disable-component-update";
    argv[a++] = "--disable-sync";
    argv[a++] = "--disable-quic";
    argv[a++] = "--mute-audio";
    argv[a++] = "--password-store=basic";
    argv[a++] = "--disable-crash-reporter";
    argv[a++] = "--disable-breakpad";
    argv[a++] = "--disable-blink-features=AutomationControlled";
    argv[a++] = "--lang=zh-CN";
    argv[a++] = "--window-size=1920,1080";

    if (!headed) {
        argv[a++] = "--headless=new";
        argv[a++] = "--disable-gpu";
    }

    /* the extra arguments, copied NUL-terminated into args */
    p = args;
    extra = bc->args ? bc->args->elts : NULL;
    n = bc->args ? bc->args->nelts : 0;

    for (i = 0; i < n && a < 60; i++) {
        if ((size_t) (p - args) + extra[i].len + 1 > sizeof(args)) {
            ngx_snprintf((u_char *) err, errlen, "the browser's arguments "
                         "are too long%Z");
            return NGX_ERROR;
        }

        ngx_memcpy(p, extra[i].data, extra[i].len);
        p[extra[i].len] = '\0';
        argv[a++] = p;
        p += extra[i].len + 1;
    }

    argv[a++] = "about:blank";
    argv[a] = NULL;

    c = 0;
    envp[c++] = home;
    envp[c++] = "PATH=/usr/local/bin:/usr/bin:/bin";

    v = getenv("DISPLAY");
    if (headed && v) {
        ngx_snprintf((u_char *) display, sizeof(display), "DISPLAY=%s%Z", v);
        envp[c++] = display;
    }

    v = getenv("XAUTHORITY");
    if (headed && v) {
        ngx_snprintf((u_char *) xauth, sizeof(xauth), "XAUTHORITY=%s%Z", v);
        envp[c++] = xauth;
    }

    envp[c] = NULL;

    /* nginx itself reaps the children of its processes, and says "alert"
       about one killed by a signal: the browsers are ours to wait for */
    if (!ngx_gp_browser_sigchld) {
        signal(SIGCHLD, SIG_DFL);
        ngx_gp_browser_sigchld = 1;
    }

    if (pipe2(lifeline, O_CLOEXEC) != 0) {
        ngx_snprintf((u_char *) err, errlen, "pipe() failed: %s%Z",
                     strerror(errno));
        return NGX_ERROR;
    }

    pid = fork();

    if (pid == -1) {
        ngx_snprintf((u_char *) err, errlen, "fork() failed: %s%Z",
                     strerror(errno));
        close(lifeline[0]);
        close(lifeline[1]);
        return NGX_ERROR;
    }

    if (pid == 0) {

        /*
         * The keeper: a process group of its own, Chromium in it.  It
         * waits for the end of the lifeline, which only the helper holds
         * open: when the helper ends in any way (exit on reload or stop,
         * SIGKILL, a crash) the keeper kills the whole group, so no
         * browser process outlives the helper.  Only async-signal-safe
         * calls from here.
         */

        (void) setpgid(0, 0);

        fd = fcntl(tochild, F_DUPFD, 10);
        c = fcntl(fromchild, F_DUPFD, 10);
        null = fcntl(lifeline[0], F_DUPFD, 10);

        if (fd == -1 || c == -1 || null == -1
            || dup2(fd, 3) == -1 || dup2(c, 4) == -1
            || dup2(null, 5) == -1)
        {
            _exit(126);
        }

        null = open("/dev/null", O_RDWR);
        if (null != -1) {
            (void) dup2(null, 0);
            (void) dup2(null, 1);
            (void) dup2(null, 2);
        }

        /* every other descriptor of nginx: listening sockets, logs, ... */
        if (syscall(SYS_close_range, 6, ~0U, 0) != 0) {
            for (fd = 6; fd < 65536; fd++) {
                (void) close(fd);
            }
        }

        (void) signal(SIGPIPE, SIG_DFL);
        (void) signal(SIGCHLD, SIG_DFL);
        (void) signal(SIGTERM, SIG_DFL);
        (void) signal(SIGINT, SIG_DFL);
        (void) signal(SIGHUP, SIG_DFL);
        (void) signal(SIGQUIT, SIG_DFL);
        (void) signal(SIGUSR1, SIG_DFL);
        (void) signal(SIGUSR2, SIG_DFL);
        (void) signal(SIGWINCH, SIG_DFL);
        (void) signal(SIGALRM, SIG_DFL);
        (void) signal(SIGIO, SIG_DFL);
        sigemptyset(&set);
        (void) sigprocmask(SIG_SETMASK, &set, NULL);

        parent = getpid();

        pid = fork();

        if (pid == 0) {
            (void) setpgid(0, 0);
            (void) close(5);
            (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

            if (getppid() != parent) {
                _exit(1);
            }

            execve(path, argv, envp);

            _exit(127);
        }

        (void) close(3);
        (void) close(4);

        if (pid == -1) {
            _exit(125);
        }

        (void) setpgid(pid, pid);

        /* the group, for the reaper if the keeper itself is killed */
        fd = open(pgidfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd != -1) {
            for (a = 0, c = pid; c; c /= 10) {
                pgid[a++] = '0' + c % 10;
            }

            for (c = 0; c < a; c++) {
                pgid[sizeof(pgid) - 1 - c] = pgid[c];
            }

            if (write(fd, pgid + sizeof(pgid) - a, a) != (ssize_t) a) {
                /* the parent then finds no group to end: nothing to do */
            }

            (void) close(fd);
        }

        for ( ;; ) {
            c = read(5, &fd, sizeof(int));

            if (c == 0 || (c == -1 && errno != EINTR)) {
                break;
            }
        }

        (void) kill(-pid, SIGKILL);
        (void) waitpid(pid, &c, 0);
        (void) nftw(b->profile, ngx_gp_browser_rm, 16, FTW_DEPTH | FTW_PHYS);

        _exit(0);
    }

    close(lifeline[0]);
    b->lifeline = lifeline[1];

    (void) setpgid(pid, pid);

    b->pid = pid;

    return NGX_OK;
}


ngx_pid_t
ngx_gp_browser_pid(ngx_gp_browser_t *b)
{
    return b->pid;
}


ngx_int_t
ngx_gp_browser_call(ngx_gp_browser_t *b, const char *session,
    const char *method, json_t *params, ngx_msec_t timeout,
    ngx_gp_cdp_pt handler, void *data)
{
    char               *text;
    size_t              len;
    json_t             *msg;
    ngx_gp_cdp_out_t   *o;
    ngx_gp_cdp_call_t  *call;

    if (b->gone || b->closed) {
        json_decref(params);
        return NGX_ERROR;
    }

    msg = json_object();
    if (msg == NULL) {
        json_decref(params);
        return NGX_ERROR;
    }

    if (json_object_set_new(msg, "id", json_integer(b->next_id)) != 0
        || json_object_set_new(msg, "method", json_string(method)) != 0
        || json_object_set_new(msg, "params",
                               params ? params : json_object()) != 0
        || (session && session[0]
            && json_object_set_new(msg, "sessionId", json_string(session))
               != 0))
    {
        json_decref(msg);
        return NGX_ERROR;
    }

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);

    if (text == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(text);

    o = ngx_alloc(sizeof(ngx_gp_cdp_out_t) + len, b->log);
    call = ngx_calloc(sizeof(ngx_gp_cdp_call_t), b->log);

    if (o == NULL || call == NULL) {
        free(text);
        ngx_free(o);
        ngx_free(call);
        return NGX_ERROR;
    }

    ngx_memcpy(o->data, text, len);
    o->data[len] = '\0';          /* the message's end on the pipe */
    o->len = len + 1;
    o->sent = 0;
    o->next = NULL;
    free(text);

    ngx_log_debug3(NGX_LOG_DEBUG_CORE, b->log, 0,
                   "gemini pool cdp send %ui %s %s", b->next_id, method,
                   session ? session : "");

    call->id = b->next_id++;
    call->handler = handler;
    call->data = data;
    call->browser = b;
    call->timer.handler = ngx_gp_browser_call_timeout;
    call->timer.data = call;
    call->timer.log = b->log;
    call->timer.cancelable = 1;
    call->next = b->calls;
    b->calls = call;

    ngx_add_timer(&call->timer, timeout);

    if (b->wq_last) {
        b->wq_last->next = o;

    } else {
        b->wq = o;
    }

    b->wq_last = o;

    if (ngx_gp_browser_flush(b) != NGX_OK) {
        /* the handler learns it from the event loop */
        ngx_gp_browser_lost(b, "the browser's pipe is closed");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_gp_browser_flush(ngx_gp_browser_t *b)
{
    ssize_t            n;
    ngx_gp_cdp_out_t  *o;

    if (b->out == NULL) {
        return NGX_ERROR;
    }

    while (b->wq) {
        o = b->wq;

        n = write(b->out->fd, o->data + o->sent, o->len - o->sent);

        if (n == -1) {
            if (ngx_errno == NGX_EAGAIN) {
                b->out->write->ready = 0;

                if (ngx_handle_write_event(b->out->write, 0) != NGX_OK) {
                    return NGX_ERROR;
                }

                return NGX_OK;
            }

            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return NGX_ERROR;
        }

        o->sent += n;

        if (o->sent == o->len) {
            b->wq = o->next;

            if (b->wq == NULL) {
                b->wq_last = NULL;
            }

            ngx_free(o);
        }
    }

    return NGX_OK;
}


static void
ngx_gp_browser_write(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;
    ngx_gp_browser_t  *b = c->data;

    if (!ev->write) {
        return;
    }

    if (ngx_gp_browser_flush(b) != NGX_OK) {
        ngx_gp_browser_lost(b, "the browser's pipe is closed");
    }
}


static void
ngx_gp_browser_read(ngx_event_t *ev)
{
    u_char            *p, *nul, *nb;
    size_t             size;
    ssize_t            n;
    ngx_connection_t  *c = ev->data;
    ngx_gp_browser_t  *b = c->data;

    for ( ;; ) {

        if (b->rsize - b->rlen < 4096) {
            size = b->rsize ? b->rsize * 2 : 65536;

            if (size > NGX_GP_BROWSER_MAX_MSG + 65536) {
                ngx_gp_browser_lost(b, "a message from the browser is "
                                    "too large");
                return;
            }

            nb = ngx_alloc(size, b->log);
            if (nb == NULL) {
                ngx_gp_browser_lost(b, "out of memory");
                return;
            }

            if (b->rlen) {
                ngx_memcpy(nb, b->rbuf, b->rlen);
            }

            ngx_free(b->rbuf);
            b->rbuf = nb;
            b->rsize = size;
        }

        n = read(c->fd, b->rbuf + b->rlen, b->rsize - b->rlen);

        if (n == -1) {
            if (ngx_errno == NGX_EAGAIN) {
                break;
            }

            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            ngx_gp_browser_lost(b, "reading the browser's pipe failed");
            return;
        }

        if (n == 0) {
            ngx_gp_browser_lost(b, "the browser exited");
            return;
        }

        b->rlen += n;

        /* every complete message; a handler may close the browser */
        p = b->rbuf;

        b->dispatching++;

        while (!b->closed && !b->gone
               && (nul = ngx_strlchr(p, b->rbuf + b->rlen, '\0')) != NULL)
        {
            ngx_gp_browser_dispatch(b, p, nul - p);
            p = nul + 1;
        }

        b->dispatching--;

        if (b->closed || b->gone) {
            if (b->dispatching == 0 && b->closed) {
                ngx_gp_browser_free(b);
            }

            return;
        }

        b->rlen -= p - b->rbuf;

        if (b->rlen) {
            ngx_memmove(b->rbuf, p, b->rlen);
        }
    }

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_gp_browser_lost(b, "cannot watch the browser's pipe");
    }
}


static void
ngx_gp_browser_dispatch(ngx_gp_browser_t *b, u_char *p, size_t len)
{
    json_t              *msg, *id, *v;
    const char          *method, *session, *error;
    json_error_t         jerr;
    ngx_uint_t           n;
    ngx_gp_cdp_call_t  **pc, *call;

    msg = json_loadb((char *) p, len, 0, &jerr);

    if (msg == NULL || !json_is_object(msg)) {
        ngx_log_error(NGX_LOG_WARN, b->log, 0,
                      "gemini pool browser: a message that is not JSON: "
                      "%s", jerr.text);
        json_decref(msg);
        return;
    }

    id = json_object_get(msg, "id");

    if (json_is_integer(id)) {
        n = (ngx_uint_t) json_integer_value(id);

        for (pc = &b->calls; *pc; pc = &(*pc)->next) {
            if ((*pc)->id == n) {
                break;
            }
        }

        call = *pc;

        if (call == NULL) {
            json_decref(msg);
            return;
        }

        *pc = call->next;

        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }

        v = json_object_get(msg, "error");
        error = NULL;

        if (v) {
            error = json_string_value(json_object_get(v, "message"));
            if (error == NULL) {
                error = "the browser answered with an error";
            }

            ngx_log_debug2(NGX_LOG_DEBUG_CORE, b->log, 0,
                           "gemini pool cdp %ui error: %s", n, error);
        }

        v = json_object_get(msg, "result");

        call->handler(call->data, error ? NULL : (v ? v : msg), error);

        ngx_free(call);
        json_decref(msg);
        return;
    }

    method = json_string_value(json_object_get(msg, "method"));
    session = json_string_value(json_object_get(msg, "sessionId"));

    if (method && b->on_event) {
        b->on_event(b->data, method, session ? session : "",
                    json_object_get(msg, "params"));
    }

    json_decref(msg);
}


static void
ngx_gp_browser_call_timeout(ngx_event_t *ev)
{
    ngx_gp_cdp_call_t   *call = ev->data;
    ngx_gp_cdp_call_t  **pc;
    ngx_gp_browser_t    *b;

    b = call->browser;

    for (pc = &b->calls; *pc; pc = &(*pc)->next) {
        if (*pc == call) {
            *pc = call->next;
            break;
        }
    }

    b->dispatching++;
    call->handler(call->data, NULL, "timeout");
    b->dispatching--;

    ngx_free(call);

    if (b->closed && b->dispatching == 0) {
        ngx_gp_browser_free(b);
    }
}


/* the pipe broke: every pending call fails, then the owner hears it */

static void
ngx_gp_browser_lost(ngx_gp_browser_t *b, const char *reason)
{
    ngx_gp_cdp_call_t  *call;

    if (b->gone) {
        return;
    }

    b->gone = 1;

    ngx_log_error(NGX_LOG_INFO, b->log, 0,
                  "gemini pool browser: Chromium %P: %s", b->pid, reason);

    if (b->in) {
        ngx_close_connection(b->in);
        b->in = NULL;
    }

    if (b->out) {
        ngx_close_connection(b->out);
        b->out = NULL;
    }

    b->dispatching++;

    while (b->calls && !b->closed) {
        call = b->calls;
        b->calls = call->next;

        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }

        call->handler(call->data, NULL, "browser gone");
        ngx_free(call);
    }

    if (!b->closed && b->on_gone) {
        b->on_gone(b->data, reason);
    }

    b->dispatching--;

    if (b->closed && b->dispatching == 0) {
        ngx_gp_browser_free(b);
    }
}


void
ngx_gp_browser_close(ngx_gp_browser_t *b, ngx_msec_t grace)
{
    ngx_uint_t               i;
    ngx_gp_cdp_call_t       *call;
    ngx_gp_browser_dying_t  *d;
    static const char        bye[] = "{\"id\":0,\"method\":\"Browser.close\"}";

    if (b->closed) {
        return;
    }

    b->closed = 1;

    while (b->calls) {
        call = b->calls;
        b->calls = call->next;

        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }

        ngx_free(call);
    }

    /* a polite end, when nothing is queued before it */
    if (grace && b->out && b->wq == NULL) {
        if (write(b->out->fd, bye, sizeof(bye)) != (ssize_t) sizeof(bye)) {
            /* a browser that is gone is ended below all the same */
        }
    }

    if (b->in) {
        ngx_close_connection(b->in);
        b->in = NULL;
    }

    if (b->out) {
        ngx_close_connection(b->out);
        b->out = NULL;
    }

    d = NULL;

    if (grace && b->pid > 0) {
        for (i = 0; i < NGX_GP_BROWSER_DYING; i++) {
            if (ngx_gp_browser_dying[i].pid == 0) {
                d = &ngx_gp_browser_dying[i];
                break;
            }
        }
    }

    if (d) {
        d->pid = b->pid;
        d->lifeline = b->lifeline;
        b->lifeline = -1;
        ngx_cpystrn((u_char *) d->profile, (u_char *) b->profile,
                    NGX_MAX_PATH);
        ngx_memzero(&d->ev, sizeof(ngx_event_t));
        d->ev.handler = ngx_gp_browser_dying_timer;
        d->ev.data = d;
        d->ev.log = ngx_cycle->log;
        d->ev.cancelable = 1;
        ngx_add_timer(&d->ev, grace);

    } else {
        ngx_gp_browser_kill(b->pid, b->lifeline, b->profile, b->log);
        b->lifeline = -1;
    }

    b->pid = -1;

    if (b->dispatching == 0) {
        ngx_gp_browser_free(b);
    }
}


static void
ngx_gp_browser_free(ngx_gp_browser_t *b)
{
    ngx_uint_t         i;
    ngx_gp_cdp_out_t  *o;

    for (i = 0; i < NGX_GP_BROWSER_DYING; i++) {
        if (ngx_gp_browser_live[i] == b) {
            ngx_gp_browser_live[i] = NULL;
        }
    }

    while (b->wq) {
        o = b->wq;
        b->wq = o->next;
        ngx_free(o);
    }

    if (b->lifeline != -1) {
        (void) close(b->lifeline);
    }

    ngx_free(b->rbuf);
    ngx_free(b);
}


static void
ngx_gp_browser_dying_timer(ngx_event_t *ev)
{
    ngx_gp_browser_dying_t  *d = ev->data;

    ngx_gp_browser_kill(d->pid, d->lifeline, d->profile, ev->log);
    d->pid = 0;
}


/* SIGKILL to the process group, wait for the browser, remove the profile */

/*
 * The end of a browser: the lifeline closed, its keeper kills Chromium's
 * process group, waits for it, removes the profile and exits; a keeper
 * that does not end in time is killed, and the profile removed here.
 */

static void
ngx_gp_browser_kill(ngx_pid_t pid, int lifeline, const char *profile,
    ngx_log_t *log)
{
    int         status;
    ngx_pid_t   rc;
    ngx_uint_t  i;

    if (lifeline != -1) {
        (void) close(lifeline);
    }

    if (pid > 0) {
        for (i = 0; i < 300; i++) {
            rc = waitpid(pid, &status, WNOHANG);

            if (rc == pid || (rc == -1 && ngx_errno != NGX_EINTR)) {
                break;
            }

            if (i == 200) {
                ngx_log_error(NGX_LOG_WARN, log, 0,
                              "gemini pool browser: keeper %P is slow, "
                              "killing it", pid);
                (void) kill(pid, SIGKILL);
            }

            ngx_msleep(10);
        }

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "gemini pool browser: Chromium of keeper %P ended",
                      pid);
    }

    if (profile && profile[0]) {
        ngx_gp_browser_rmtree(profile, log);
    }
}


void
ngx_gp_browser_exit_process(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_GP_BROWSER_DYING; i++) {

        if (ngx_gp_browser_live[i]) {
            ngx_gp_browser_close(ngx_gp_browser_live[i], 0);
        }

        if (ngx_gp_browser_dying[i].pid) {
            if (ngx_gp_browser_dying[i].ev.timer_set) {
                ngx_del_timer(&ngx_gp_browser_dying[i].ev);
            }

            ngx_gp_browser_kill(ngx_gp_browser_dying[i].pid,
                                ngx_gp_browser_dying[i].lifeline,
                                ngx_gp_browser_dying[i].profile,
                                ngx_cycle->log);
            ngx_gp_browser_dying[i].pid = 0;
        }
    }
}


static int
ngx_gp_browser_rm(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
    (void) remove(path);
    return 0;
}


static void
ngx_gp_browser_rmtree(const char *dir, ngx_log_t *log)
{
    if (nftw(dir, ngx_gp_browser_rm, 16, FTW_DEPTH | FTW_PHYS) != 0
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "gemini pool browser: cannot remove \"%s\"", dir);
    }
}


/*
 * The members of a process group that run Chromium: the group's leader
 * was recorded in the profile; a process is killed only when it is still
 * in that group and its command line names Chromium, so a reused pid is
 * never hit.
 */

static void
ngx_gp_browser_reap_group(ngx_pid_t pgid, ngx_log_t *log)
{
    int             fd;
    DIR            *proc;
    char            name[64], buf[512], *p;
    ssize_t         n;
    ngx_pid_t       pid, grp;
    struct dirent  *de;

    proc = opendir("/proc");
    if (proc == NULL) {
        return;
    }

    while ((de = readdir(proc)) != NULL) {

        pid = atoi(de->d_name);
        if (pid <= 0) {
            continue;
        }

        ngx_snprintf((u_char *) name, sizeof(name), "/proc/%P/stat%Z", pid);

        fd = open(name, O_RDONLY);
        if (fd == -1) {
            continue;
        }

        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);

        if (n <= 0) {
            continue;
        }

        buf[n] = '\0';

        /* "pid (comm) state ppid pgrp ..." */
        p = strrchr(buf, ')');
        if (p == NULL || sscanf(p + 1, " %*c %*d %d", &grp) != 1
            || grp != pgid || p[2] == 'Z')
        {
            continue;
        }

        ngx_snprintf((u_char *) name, sizeof(name), "/proc/%P/cmdline%Z",
                     pid);

        fd = open(name, O_RDONLY);
        if (fd == -1) {
            continue;
        }

        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);

        if (n <= 0) {
            continue;
        }

        buf[n] = '\0';

        if (strstr(buf, "chrom") == NULL) {
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "gemini pool browser: killing %P, left by a helper "
                      "that is gone", pid);

        (void) kill(pid, SIGKILL);
    }

    closedir(proc);
}


/* a process that runs: not gone, not a zombie nobody waits for */

static ngx_uint_t
ngx_gp_browser_alive(ngx_pid_t pid)
{
    int      fd;
    char     name[64], buf[256], *p;
    ssize_t  n;

    if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 0;
    }

    ngx_snprintf((u_char *) name, sizeof(name), "/proc/%P/stat%Z", pid);

    fd = open(name, O_RDONLY);
    if (fd == -1) {
        return 1;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 1;
    }

    buf[n] = '\0';
    p = strrchr(buf, ')');

    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}


void
ngx_gp_browser_reap(ngx_log_t *log)
{
    int             fd;
    DIR            *tmp;
    char            dir[NGX_MAX_PATH], file[NGX_MAX_PATH + 32], buf[32];
    ssize_t         n;
    ngx_pid_t       helper, pgid;
    struct dirent  *de;

    tmp = opendir(NGX_GP_BROWSER_TMP);
    if (tmp == NULL) {
        return;
    }

    while ((de = readdir(tmp)) != NULL) {

        if (ngx_strncmp(de->d_name, NGX_GP_BROWSER_PREFIX,
                        sizeof(NGX_GP_BROWSER_PREFIX) - 1) != 0)
        {
            continue;
        }

        helper = atoi(de->d_name + sizeof(NGX_GP_BROWSER_PREFIX) - 1);

        /* a profile of a live process (ours, another nginx's) stays */
        if (helper <= 0 || helper == ngx_pid
            || ngx_gp_browser_alive(helper))
        {
            continue;
        }

        ngx_snprintf((u_char *) dir, sizeof(dir), NGX_GP_BROWSER_TMP "/%s%Z",
                     de->d_name);
        ngx_snprintf((u_char *) file, sizeof(file),
                     "%s/" NGX_GP_BROWSER_PGID_FILE "%Z", dir);

        fd = open(file, O_RDONLY);

        if (fd != -1) {
            n = read(fd, buf, sizeof(buf) - 1);
            close(fd);

            if (n > 0) {
                buf[n] = '\0';
                pgid = atoi(buf);

                if (pgid > 1) {
                    ngx_gp_browser_reap_group(pgid, log);
                }
            }
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "gemini pool browser: removing the profile %s of "
                      "helper %P, which is gone", dir, helper);

        ngx_gp_browser_rmtree(dir, log);
    }

    closedir(tmp);
}
