/*
 * ngx_gemini_pool console.  Talks only to the module's admin JSON API.
 *
 * Rule of this file: data from the server never goes through innerHTML
 * or any other HTML parser.  Every node is made by el() below, and text
 * goes in as text nodes (account names, model names, logs and chats may
 * hold hostile strings).
 */

import {
    LANGS, t, setLang, getLang, initialLang, applyStatic, has,
} from './i18n.js';


const API = (document.querySelector('meta[name="gp-api"]') || {}).content
            || '/api/';

const state = {
    authed: false,
    method: '',
    view: null,
    timer: null,
    accounts: [],
    models: [],
    settings: null,
    keys: [],
    logs: { rows: [], key_id: '', limit: 50, before: [] },
    history: { q: '', key_id: '', model: '', limit: 50, offset: 0,
               data: null, missing: false },
    newKey: null,
};


/* DOM helpers */

function el(tag, props, ...kids) {
    const n = document.createElement(tag);

    for (const [k, v] of Object.entries(props || {})) {
        if (v === undefined || v === null || v === false) {
            continue;
        }

        if (k === 'text') {
            n.textContent = String(v);
        } else if (k === 'class') {
            n.className = v;
        } else if (k === 'dataset') {
            Object.assign(n.dataset, v);
        } else if (k.startsWith('on') && typeof v === 'function') {
            n.addEventListener(k.slice(2), v);
        } else if (k === 'value' || k === 'checked' || k === 'disabled'
                   || k === 'selected' || k === 'hidden')
        {
            n[k] = v;
        } else {
            n.setAttribute(k, v === true ? '' : String(v));
        }
    }

    for (const c of kids.flat(Infinity)) {
        if (c === undefined || c === null || c === false) {
            continue;
        }

        n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }

    return n;
}

function $(sel, root) {
    return (root || document).querySelector(sel);
}

function clear(n) {
    while (n.firstChild) {
        n.removeChild(n.firstChild);
    }

    return n;
}

function section(name) {
    return $('#view-' + name);
}


/* formatting */

function now() {
    return Math.floor(Date.now() / 1000);
}

function fmtTime(sec) {
    if (!sec) {
        return t('common.never');
    }

    return new Date(sec * 1000).toLocaleString(getLang());
}

function fmtLeft(sec) {
    sec = Math.max(0, Math.round(sec));

    const h = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    const s = sec % 60;

    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
}

function fmtMs(ms) {
    if (ms === null || ms === undefined) {
        return '–';
    }

    return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : ms + ' ms';
}

function fmtNum(n) {
    return Number(n || 0).toLocaleString(getLang());
}


/* the API */

class ApiError extends Error {
    constructor(status, code, message, path) {
        super(message);
        this.status = status;
        this.code = code;
        this.path = path;
    }
}

async function api(method, path, body, opt) {
    opt = opt || {};

    const init = {
        method,
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' },
    };

    if (body !== undefined) {
        if (opt.type) {
            init.body = body;
            init.headers['Content-Type'] = opt.type;
        } else {
            init.body = JSON.stringify(body);
            init.headers['Content-Type'] = 'application/json';
        }
    }

    let res;

    try {
        res = await fetch(API + path, init);
    } catch (e) {
        throw new ApiError(0, 'network', t('err.network', { msg: e.message }),
                           path);
    }

    if (opt.response && res.ok) {
        return res;
    }

    const text = await res.text();
    let data = null;

    try {
        data = text ? JSON.parse(text) : null;
    } catch (e) {
        data = null;
    }

    if (!res.ok) {
        const err = data && data.error && typeof data.error === 'object'
                    ? data.error : {};
        const msg = err.message || err.code
                    || (typeof (data && data.error) === 'string'
                        ? data.error : '')
                    || text.slice(0, 300) || res.statusText;

        if (res.status === 401 && !opt.login) {
            loggedOut(t('login.expired'));
        }

        throw new ApiError(res.status, err.code || '', String(msg), path);
    }

    return data;
}

function errText(e) {
    if (!(e instanceof ApiError)) {
        return String(e && e.message ? e.message : e);
    }

    if (e.status === 0) {
        return e.message;
    }

    return t('err.http', { status: e.status, msg: e.message });
}


/* toasts, confirmation, dialogs */

function toast(msg, kind) {
    const box = $('#toasts');
    const n = el('div', { class: 'toast ' + (kind || 'ok'),
                          role: kind === 'error' ? 'alert' : 'status' },
                 msg);

    n.addEventListener('click', () => n.remove());
    box.append(n);

    setTimeout(() => n.remove(), kind === 'error' ? 12000 : 5000);
}

function fail(e) {
    toast(errText(e), 'error');
}

function ask(message, okLabel) {
    return new Promise((resolve) => {
        const d = el('dialog', { class: 'modal confirm' });
        const ok = el('button', { type: 'button', class: 'danger',
                                  text: okLabel || t('common.confirm'),
                                  onclick: () => d.close('ok') });
        const no = el('button', { type: 'button', class: 'ghost',
                                  text: t('common.cancel'),
                                  onclick: () => d.close('') });

        d.append(el('p', { text: message }),
                 el('div', { class: 'actions' }, no, ok));

        d.addEventListener('close', () => {
            d.remove();
            resolve(d.returnValue === 'ok');
        });

        document.body.append(d);
        d.showModal();
        ok.focus();
    });
}

/*
 * A form in a modal dialog.  fields: [{name, label, type, value,
 * options: [[value, label]], placeholder, hint, required, pattern}];
 * submit(values) returns a promise; its rejection is shown in the
 * dialog, which stays open.
 */
function formDialog(title, fields, submit, opts) {
    opts = opts || {};

    const d = el('dialog', { class: 'modal', 'aria-label': title });
    const err = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = el('form', { class: 'form', novalidate: true });
    const inputs = {};

    for (const f of fields) {
        let input;
        const id = 'f-' + f.name + '-' + Math.random().toString(36).slice(2);

        if (f.type === 'checkbox') {
            input = el('input', { type: 'checkbox', id, name: f.name,
                                  checked: !!f.value });
            form.append(el('div', { class: 'field check' }, input,
                           el('label', { for: id, text: f.label })));
            inputs[f.name] = input;
            continue;
        }

        if (f.type === 'select') {
            input = el('select', { id, name: f.name },
                       f.options.map(([v, l]) =>
                           el('option', { value: v, text: l,
                                          selected: String(v)
                                                    === String(f.value) })));
        } else if (f.type === 'textarea') {
            input = el('textarea', { id, name: f.name, rows: f.rows || 3,
                                     placeholder: f.placeholder,
                                     autocomplete: 'off',
                                     spellcheck: 'false',
                                     value: f.value || '' });
        } else {
            input = el('input', { id, name: f.name, type: f.type || 'text',
                                  placeholder: f.placeholder,
                                  autocomplete: f.autocomplete || 'off',
                                  pattern: f.pattern, min: f.min,
                                  value: f.value === undefined
                                         || f.value === null
                                         ? '' : String(f.value) });
        }

        inputs[f.name] = input;

        form.append(el('div', { class: 'field' },
                       el('label', { for: id },
                          f.label, f.required ? ' *' : ''),
                       input,
                       f.hint ? el('small', { class: 'hint', text: f.hint })
                              : null));
    }

    if (opts.note) {
        form.append(el('p', { class: 'note', text: opts.note }));
    }

    const save = el('button', { type: 'submit', class: 'primary',
                                text: opts.submitLabel || t('common.save') });

    form.append(err, el('div', { class: 'actions' },
                        el('button', { type: 'button', class: 'ghost',
                                       text: t('common.cancel'),
                                       onclick: () => d.close() }),
                        save));

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;

        const values = {};

        for (const [k, input] of Object.entries(inputs)) {
            values[k] = input.type === 'checkbox' ? input.checked
                                                  : input.value;
        }

        save.disabled = true;

        try {
            await submit(values);
            d.close();
        } catch (e) {
            err.textContent = errText(e);
            err.hidden = false;
        } finally {
            save.disabled = false;
        }
    });

    d.append(el('h2', { text: title }), form);
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();

    const first = form.querySelector('input, select, textarea');

    if (first) {
        first.focus();
    }

    return d;
}

function infoDialog(title, body) {
    const d = el('dialog', { class: 'modal', 'aria-label': title });

    d.append(el('h2', { text: title }), body,
             el('div', { class: 'actions' },
                el('button', { type: 'button', class: 'primary',
                               text: t('common.close'),
                               onclick: () => d.close() })));
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();

    return d;
}

function table(headers, rows, opts) {
    opts = opts || {};

    if (!rows.length) {
        return el('p', { class: 'empty', text: opts.empty
                                               || t('common.empty') });
    }

    return el('div', { class: 'table-wrap' },
              el('table', { class: 'grid' + (opts.cls ? ' ' + opts.cls : '') },
                 el('thead', null,
                    el('tr', null, headers.map((h) => el('th', { text: h })))),
                 el('tbody', null, rows)));
}

function head(title, ...tools) {
    return el('div', { class: 'view-head' },
              el('h1', { text: title }),
              el('div', { class: 'view-tools' }, tools));
}

function button(label, onclick, cls) {
    return el('button', { type: 'button', class: cls || 'ghost',
                          text: label, onclick });
}

/* runs fn with the button disabled; errors become toasts */
async function busy(btn, fn) {
    btn.disabled = true;

    try {
        await fn();
    } catch (e) {
        fail(e);
    } finally {
        btn.disabled = false;
    }
}

/*
 * A form kept across the re-renders of its view (a list that finishes
 * loading must not wipe what the operator is typing); built again when
 * the language changes or the key does.
 */
function cached(owner, key, build) {
    owner.cache = owner.cache || {};

    const c = owner.cache[key];

    if (c && c.lang === getLang()) {
        return c.node;
    }

    owner.cache[key] = { lang: getLang(), node: build() };

    return owner.cache[key].node;
}

function notAvailable(path) {
    return el('p', { class: 'notice warn',
                     text: t('err.not_available', { path: API + path }) });
}


/* theme */

const THEME = 'gp-console-theme';

function storedTheme() {
    try {
        return localStorage.getItem(THEME);
    } catch (e) {
        return null;
    }
}

function systemTheme() {
    return window.matchMedia
           && window.matchMedia('(prefers-color-scheme: dark)').matches
           ? 'dark' : 'light';
}

function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;

    const b = $('#theme');
    const next = theme === 'dark' ? 'light' : 'dark';

    b.textContent = (theme === 'dark' ? '☾ ' : '☀ ')
                    + t('top.theme.' + theme);
    b.title = t('top.theme') + ': ' + t('top.theme.' + next);
    b.dataset.theme = theme;
}

function initTheme() {
    applyTheme(storedTheme() || systemTheme());

    if (window.matchMedia) {
        window.matchMedia('(prefers-color-scheme: dark)')
            .addEventListener('change', () => {
                if (!storedTheme()) {
                    applyTheme(systemTheme());
                }
            });
    }

    $('#theme').addEventListener('click', () => {
        const next = document.documentElement.dataset.theme === 'dark'
                     ? 'light' : 'dark';

        try {
            localStorage.setItem(THEME, next);
        } catch (e) {
            /* the choice lasts for this page */
        }

        applyTheme(next);
    });
}


/* language */

function initLang() {
    setLang(initialLang(), false);

    const sel = $('#lang');

    for (const l of LANGS) {
        sel.append(el('option', { value: l.code, text: l.label,
                                  selected: l.code === getLang() }));
    }

    sel.addEventListener('change', () => {
        setLang(sel.value, true);
        relabel();
    });

    relabel();
}

function relabel() {
    applyStatic(document);
    applyTheme(document.documentElement.dataset.theme || systemTheme());

    if (!state.authed) {
        renderLogin();
    } else if (state.view && views[state.view]) {
        views[state.view].render();
    }
}


/* authentication */

const MODE = 'gp-console-login-mode';

function loginMode() {
    try {
        return localStorage.getItem(MODE) === 'secret' ? 'secret'
                                                       : 'password';
    } catch (e) {
        return 'password';
    }
}

let loginMessage = '';
let loginInfo = false;      /* the message is news, not an error */
let loginModeNow = null;

function renderLogin() {
    const s = clear(section('login'));
    const mode = loginModeNow || loginMode();

    const input = el('input', {
        id: 'login-input', name: mode, type: 'password', required: true,
        autofocus: true,
        autocomplete: mode === 'password' ? 'current-password' : 'off',
    });
    const err = el('p', { id: 'login-error',
                          class: loginInfo ? 'notice ok' : 'form-error',
                          role: 'alert', hidden: !loginMessage,
                          text: loginMessage });

    const radio = (m) => el('label', { class: 'radio' },
        el('input', { type: 'radio', name: 'login-mode', value: m,
                      checked: m === mode,
                      onchange: () => {
                          loginModeNow = m;
                          loginMessage = '';
                          renderLogin();
                          $('#login-input').focus();
                      } }),
        t(m === 'password' ? 'login.with_password' : 'login.with_secret'));

    const submit = el('button', { id: 'login-submit', type: 'submit',
                                  class: 'primary',
                                  text: t('login.submit') });

    const form = el('form', { id: 'login-form', class: 'form' },
        el('div', { class: 'modes' }, radio('password'), radio('secret')),
        el('div', { class: 'field' },
           el('label', { for: 'login-input',
                         text: t(mode === 'password' ? 'login.password'
                                                     : 'login.secret') }),
           input),
        err,
        el('div', { class: 'actions' }, submit));

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();

        const body = {};
        body[mode] = input.value;
        submit.disabled = true;

        try {
            await api('POST', 'auth/login', body, { login: true });

            try {
                localStorage.setItem(MODE, mode);
            } catch (e) {
                /* not remembered */
            }

            loginMessage = '';
            loginModeNow = null;
            await loggedIn();
        } catch (e) {
            if (e.code === 'no_password') {
                loginModeNow = 'secret';
                loginMessage = t('login.no_password');
                loginInfo = true;
                renderLogin();
                return;
            }

            err.className = 'form-error';
            err.textContent = errText(e);
            err.hidden = false;
        } finally {
            submit.disabled = false;
        }
    });

    s.append(el('div', { class: 'login card' },
        el('h1', { text: t('login.title') }),
        form,
        el('div', { class: 'help' },
           el('h2', { text: t('login.help.title') }),
           el('p', { text: t('login.help.body') }),
           el('p', { text: t('login.help.then') }))));
}

function showOnly(name) {
    document.querySelectorAll('.view').forEach((v) => {
        v.hidden = v.id !== 'view-' + name;
    });
}

function loggedOut(message, info) {
    state.authed = false;
    state.view = null;
    stopTimer();
    loginMessage = message || '';
    loginInfo = !!info;
    $('#nav').hidden = true;
    $('#logout').hidden = true;
    document.querySelectorAll('dialog').forEach((d) => d.remove());
    renderLogin();
    showOnly('login');
}

async function loggedIn() {
    let who;

    try {
        who = await api('GET', 'auth/status', undefined, { login: true });
    } catch (e) {
        loggedOut(e.status === 401 ? '' : errText(e));
        return;
    }

    state.authed = true;
    state.method = who.method || '';
    $('#nav').hidden = false;
    $('#logout').hidden = false;
    route();
}

async function logout() {
    try {
        await api('POST', 'auth/logout', {}, { login: true });
    } catch (e) {
        /* the session is gone from the browser either way */
    }

    state.newKey = null;
    loggedOut('');
}


/* routing */

function stopTimer() {
    if (state.timer) {
        clearInterval(state.timer);
        state.timer = null;
    }
}

function route() {
    if (!state.authed) {
        return;
    }

    let name = (location.hash.match(/^#\/(\w+)/) || [])[1];

    if (!views[name]) {
        name = 'dashboard';
    }

    stopTimer();
    state.view = name;
    showOnly(name);

    document.querySelectorAll('#nav a').forEach((a) => {
        a.classList.toggle('active', a.dataset.view === name);

        if (a.dataset.view === name) {
            a.setAttribute('aria-current', 'page');
        } else {
            a.removeAttribute('aria-current');
        }
    });

    if (views[name].enter) {
        views[name].enter();
    }

    views[name].render();
    views[name].load();
}


/* dashboard */

const dashboard = {
    data: null,

    async load() {
        try {
            const [status, acc] = await Promise.all([
                api('GET', 'status'), api('GET', 'accounts'),
            ]);

            this.data = { status, accounts: acc.accounts || [] };
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'dashboard') {
            this.render();
        }

        if (!state.timer && state.view === 'dashboard') {
            state.timer = setInterval(() => {
                if (!document.hidden) {
                    this.load();
                }
            }, 15000);
        }
    },

    render() {
        const s = clear(section('dashboard'));

        s.append(head(t('dash.title'),
                      button(t('common.refresh'), () => this.load())));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        if (!this.data) {
            s.append(el('p', { class: 'empty', text: t('common.loading') }));
            return;
        }

        const st = this.data.status;
        const list = this.data.accounts;
        const n = now();

        const count = (f) => list.filter(f).length;
        const sum = (k) => list.reduce((a, x) => a + (x[k] || 0), 0);

        const proxy = !st.proxy ? t('dash.proxy.none')
                      : !st.proxy.enabled ? t('dash.proxy.off')
                      : st.proxy.url || t('dash.proxy.none');

        const card = (label, value, id) =>
            el('div', { class: 'stat', id },
               el('div', { class: 'stat-value', text: value }),
               el('div', { class: 'stat-label', text: label }));

        s.append(el('div', { class: 'stats' },
            card(t('dash.accounts'), fmtNum(st.accounts.total),
                 'stat-total'),
            card(t('dash.usable'), fmtNum(st.accounts.usable),
                 'stat-usable'),
            card(t('dash.enabled'), fmtNum(count((a) => a.enabled))),
            card(t('dash.expired'), fmtNum(count((a) => a.cookie_expired))),
            card(t('dash.cooling'),
                 fmtNum(count((a) => Object.values(a.cooldown_until || {})
                                           .some((u) => u > n)))),
            card(t('dash.requests'), fmtNum(sum('requests'))),
            card(t('dash.failures'), fmtNum(sum('failures')))));

        s.append(el('dl', { class: 'facts' },
            el('dt', { text: t('dash.version') }),
            el('dd', { id: 'dash-version', text: st.version }),
            el('dt', { text: t('dash.proxy') }),
            el('dd', { text: proxy })));

        s.append(el('p', { class: 'muted', text: t('dash.auto') }));
    },
};


/* accounts */

function accountState(a) {
    const n = now();
    const cool = a.cooldown_until || {};

    if (!a.enabled) {
        return ['off', t('acc.off')];
    }

    if (a.cookie_expired) {
        return ['expired', t('acc.expired')];
    }

    if ((cool.text || 0) > n) {
        return ['cooling', t('acc.cooling')];
    }

    return ['ok', t('acc.available')];
}

function accountForm(a) {
    const edit = !!a;
    const keep = t('common.unchanged');

    const fields = [
        { name: 'name', label: t('common.name'), value: edit ? a.name : '' },
        { name: 'team_id', label: t('acc.team_id'), required: !edit,
          value: edit ? a.team_id : '' },
        { name: 'csesidx', label: t('acc.csesidx'), required: !edit,
          value: edit ? a.csesidx : '', pattern: '[0-9]*' },
        { name: 'secure_c_ses', label: t('acc.secure_c_ses'),
          type: 'textarea', required: !edit,
          placeholder: edit ? (a.secure_c_ses_set ? t('acc.cookie_set')
                                                 : t('acc.cookie_unset'))
                              + ' — ' + keep : '' },
        { name: 'host_c_oses', label: t('acc.host_c_oses'),
          type: 'textarea',
          placeholder: edit ? (a.host_c_oses_set ? t('acc.cookie_set')
                                                : t('acc.cookie_unset'))
                              + ' — ' + keep : '' },
        { name: 'user_agent', label: t('acc.user_agent'),
          value: edit ? a.user_agent : '' },
        { name: 'proxy', label: t('acc.proxy'),
          placeholder: edit && a.proxy ? a.proxy + ' — ' + keep : '',
          hint: t('acc.proxy.hint') },
    ];

    if (edit) {
        fields.push({ name: 'proxy_clear', type: 'checkbox',
                      label: t('acc.proxy.clear') });
    }

    fields.push({ name: 'enabled', type: 'checkbox',
                  label: t('common.enabled'),
                  value: edit ? a.enabled : true });

    formDialog(edit ? t('acc.edit') : t('acc.add'), fields, async (v) => {
        const body = {};

        if (!edit) {
            for (const k of ['name', 'team_id', 'csesidx', 'secure_c_ses',
                             'host_c_oses', 'user_agent', 'proxy'])
            {
                const x = v[k].trim();

                if (x !== '') {
                    body[k] = x;
                }
            }

            body.enabled = v.enabled;
            await api('POST', 'accounts', body);
            toast(t('acc.added'));

        } else {
            for (const k of ['name', 'team_id', 'csesidx', 'user_agent']) {
                if (v[k].trim() !== (a[k] || '')) {
                    body[k] = v[k].trim();
                }
            }

            for (const k of ['secure_c_ses', 'host_c_oses', 'proxy']) {
                if (v[k].trim() !== '') {
                    body[k] = v[k].trim();
                }
            }

            if (v.proxy_clear) {
                body.proxy = '';
            }

            if (v.enabled !== !!a.enabled) {
                body.enabled = v.enabled;
            }

            if (!Object.keys(body).length) {
                toast(t('settings.none_changed'));
                return;
            }

            const r = await api('PATCH', 'accounts/id:' + a.id, body);
            toast(r && r.renewed ? t('acc.renewed') : t('common.saved'));
        }

        await accounts.load();
    }, { note: edit ? t('acc.secret.note') : null });
}

async function accountQuota(a) {
    const q = await api('GET', 'accounts/id:' + a.id + '/quota');
    const rows = ['text', 'images', 'videos'].map((k) => {
        const x = (q.quota || {})[k] || {};

        return el('tr', null,
                  el('th', { text: t('acc.quota.' + k) }),
                  el('td', { text: x.seconds > 0
                      ? t('acc.quota.until', { time: fmtTime(x.until),
                                               left: fmtLeft(x.seconds) })
                      : t('acc.quota.ready') }));
    });

    if (q.cookie_expired) {
        rows.unshift(el('tr', null,
                        el('th', { text: t('acc.state') }),
                        el('td', { text: t('acc.expired') })));
    }

    infoDialog(t('acc.quota.title', { name: a.name || '#' + a.id }),
               el('table', { class: 'kv' }, el('tbody', null, rows)));
}

const accounts = {
    error: null,

    async load() {
        try {
            const d = await api('GET', 'accounts');
            state.accounts = d.accounts || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'accounts') {
            this.render();
        }
    },

    render() {
        const s = clear(section('accounts'));
        const n = now();

        s.append(head(t('acc.title'),
                      button(t('common.refresh'), () => this.load()),
                      el('button', { id: 'account-add', type: 'button',
                                     class: 'primary', text: t('acc.add'),
                                     onclick: () => accountForm(null) })));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        const rows = state.accounts.map((a) => {
            const [cls, label] = accountState(a);
            const cool = a.cooldown_until || {};
            const cools = ['text', 'images', 'videos']
                .filter((k) => (cool[k] || 0) > n)
                .map((k) => t('acc.quota.' + k) + ' '
                            + fmtLeft(cool[k] - n));

            const toggle = el('input', {
                type: 'checkbox', class: 'switch', checked: !!a.enabled,
                'aria-label': t('acc.toggle'),
                onchange: (ev) => busy(ev.target, async () => {
                    try {
                        await api('POST', 'accounts/id:' + a.id + '/toggle',
                                  {});
                    } finally {
                        await this.load();
                    }
                }),
            });

            const test = el('button', { type: 'button', class: 'ghost small',
                                        text: t('acc.test') });
            test.addEventListener('click', () => busy(test, async () => {
                const r = await api('POST', 'accounts/id:' + a.id + '/test',
                                    {});
                const name = a.name || '#' + a.id;

                if (r.ok) {
                    toast(t('acc.test.ok', { name, status: r.status }));
                } else {
                    toast(t('acc.test.fail', { name, status: r.status,
                                               error: r.error || '' }),
                          'error');
                }
            }));

            return el('tr', { dataset: { id: a.id } },
                el('td', { text: a.index }),
                el('td', { class: 'name', text: a.name }),
                el('td', null,
                   el('div', { class: 'mono', text: a.team_id }),
                   el('div', { class: 'mono muted', text: a.csesidx })),
                el('td', null,
                   el('div', { text: 'C_SES: ' + (a.secure_c_ses_set
                       ? t('acc.cookie_set') : t('acc.cookie_unset')) }),
                   el('div', { text: 'C_OSES: ' + (a.host_c_oses_set
                       ? t('acc.cookie_set') : t('acc.cookie_unset')) }),
                   a.proxy ? el('div', { class: 'mono muted',
                                         text: a.proxy }) : null),
                el('td', null, el('span', { class: 'badge ' + cls,
                                            text: label })),
                el('td', { text: cools.join(', ') || '–' }),
                el('td', { class: 'num',
                           text: fmtNum(a.requests) + ' / '
                                 + fmtNum(a.failures) }),
                el('td', { class: 'error-text', text: a.last_error || '' }),
                el('td', null, toggle),
                el('td', { class: 'row-actions' },
                   button(t('common.edit'), () => accountForm(a), 'ghost small'),
                   test,
                   button(t('acc.quota'),
                          () => accountQuota(a).catch(fail), 'ghost small'),
                   button(t('common.delete'), async () => {
                       if (!await ask(t('acc.delete.confirm',
                                        { name: a.name || '#' + a.id }),
                                      t('common.delete')))
                       {
                           return;
                       }

                       try {
                           await api('DELETE', 'accounts/id:' + a.id);
                           toast(t('common.deleted'));
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('acc.index'), t('common.name'),
                        t('acc.team_id') + ' / ' + t('acc.csesidx'),
                        t('acc.cookies'), t('acc.state'), t('acc.cooldowns'),
                        t('acc.requests') + ' / ' + t('acc.failures'),
                        t('acc.last_error'), t('acc.toggle'),
                        t('common.actions')], rows,
                       { cls: 'accounts' }));
    },
};


/* models */

function modelForm(m) {
    const edit = !!m;
    const pins = [['', t('models.pin.none')]].concat(
        state.accounts.map((a) => [String(a.id),
                                   '#' + a.id + ' ' + (a.name || '')]));

    formDialog(edit ? t('models.edit') : t('models.add'), [
        { name: 'name', label: t('common.name'), required: true,
          value: edit ? m.name : '' },
        { name: 'model_id', label: t('models.model_id'),
          value: edit ? m.model_id : '' },
        { name: 'kind', label: t('models.kind'), type: 'select',
          value: edit ? m.kind : 'text',
          options: ['text', 'image', 'video']
                       .map((k) => [k, t('models.kind.' + k)]) },
        { name: 'account_id', label: t('models.pin'), type: 'select',
          value: edit && m.account_id ? String(m.account_id) : '',
          options: pins },
        { name: 'position', label: t('models.position'), type: 'number',
          value: edit ? m.position : 0 },
        { name: 'description', label: t('models.description'),
          value: edit ? m.description : '' },
        { name: 'enabled', label: t('common.enabled'), type: 'checkbox',
          value: edit ? m.enabled : true },
    ], async (v) => {
        const body = {
            model_id: v.model_id.trim(),
            kind: v.kind,
            account_id: v.account_id ? Number(v.account_id) : null,
            position: Number(v.position || 0),
            description: v.description,
            enabled: v.enabled,
        };

        if (edit && v.name.trim() === m.name) {
            await api('PUT', 'models/' + encodeURIComponent(m.name), body);
        } else {
            body.name = v.name.trim();
            await api('POST', 'models', body);

            if (edit) {
                /* renamed: the old entry goes */
                await api('DELETE', 'models/' + encodeURIComponent(m.name));
            }
        }

        toast(t('common.saved'));
        await models.load();
    });
}

const models = {
    error: null,

    async load() {
        try {
            const [d, acc] = await Promise.all([
                api('GET', 'models'), api('GET', 'accounts'),
            ]);
            state.models = d.models || [];
            state.accounts = acc.accounts || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'models') {
            this.render();
        }
    },

    render() {
        const s = clear(section('models'));

        s.append(head(t('models.title'),
                      button(t('common.refresh'), () => this.load()),
                      el('button', { id: 'model-add', type: 'button',
                                     class: 'primary', text: t('models.add'),
                                     onclick: () => modelForm(null) })));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        const accName = (id) => {
            const a = state.accounts.find((x) => x.id === id);
            return a ? '#' + id + ' ' + (a.name || '') : '#' + id;
        };

        const rows = state.models.map((m) => {
            const toggle = el('input', {
                type: 'checkbox', class: 'switch', checked: !!m.enabled,
                'aria-label': t('common.enabled'),
                onchange: (ev) => busy(ev.target, async () => {
                    try {
                        await api('PUT', 'models/'
                                         + encodeURIComponent(m.name),
                                  { enabled: ev.target.checked });
                    } finally {
                        await this.load();
                    }
                }),
            });

            return el('tr', null,
                el('td', { class: 'name mono', text: m.name }),
                el('td', { class: 'mono', text: m.model_id || '–' }),
                el('td', { text: t('models.kind.' + m.kind) }),
                el('td', { text: m.account_id ? accName(m.account_id)
                                              : t('models.pin.none') }),
                el('td', { class: 'num', text: m.position }),
                el('td', { text: m.description || '' }),
                el('td', null, toggle),
                el('td', { class: 'row-actions' },
                   button(t('common.edit'), () => modelForm(m),
                          'ghost small'),
                   button(t('common.delete'), async () => {
                       if (!await ask(t('models.delete.confirm',
                                        { name: m.name }),
                                      t('common.delete')))
                       {
                           return;
                       }

                       try {
                           await api('DELETE', 'models/'
                                               + encodeURIComponent(m.name));
                           toast(t('common.deleted'));
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('common.name'), t('models.model_id'),
                        t('models.kind'), t('models.pin'),
                        t('models.position'), t('models.description'),
                        t('common.enabled'), t('common.actions')], rows,
                       { cls: 'models' }));
    },
};


/* settings */

const ENUMS = {
    selection_strategy: ['round_robin', 'least_in_flight'],
};

/* POST /api/proxy/test: the typed proxy, else the configured one */
function proxyTestButton(input) {
    const b = el('button', { id: 'proxy-test', type: 'button',
                             class: 'ghost small',
                             text: t('settings.proxy_test') });

    b.addEventListener('click', () => busy(b, async () => {
        const body = input.value.trim() ? { proxy: input.value.trim() } : {};
        const r = await api('POST', 'proxy/test', body);

        if (r.ok) {
            toast(t('settings.proxy_test.ok', { status: r.status,
                                                proxy: r.proxy,
                                                ms: r.elapsed_ms }));
        } else {
            toast(t('settings.proxy_test.fail', { proxy: r.proxy,
                                                  error: r.error }),
                  'error');
        }
    }));

    return b;
}

const settings = {
    error: null,

    enter() {
        /* the form is built from fresh values only */
        state.settings = null;
    },

    async load() {
        try {
            const d = await api('GET', 'settings');
            state.settings = d.settings || {};
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'settings') {
            this.render();
        }
    },

    render() {
        const s = clear(section('settings'));

        s.append(head(t('settings.title'),
                      button(t('common.refresh'), () => this.load())));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        if (!state.settings) {
            s.append(el('p', { class: 'empty', text: t('common.loading') }));
            return;
        }

        const form = el('form', { id: 'settings-form', class: 'form wide',
                                  novalidate: true });
        const inputs = {};
        const keys = Object.keys(state.settings).sort();

        for (const key of keys) {
            const st = state.settings[key];
            const id = 'setting-' + key;
            let input;
            let extra = null;

            if (st.type === 'bool') {
                input = el('input', { id, type: 'checkbox', class: 'switch',
                                      checked: !!st.value });
            } else if (st.type === 'int') {
                input = el('input', { id, type: 'number', min: 0, step: 1,
                                      value: String(st.value) });
            } else if (st.type === 'secret') {
                /* write-only: never prefilled */
                input = el('input', { id, type: 'password',
                                      autocomplete: 'new-password',
                                      placeholder: t('settings.secret.hint'),
                                      value: '' });
                const clr = el('input', { id: id + '-clear',
                                          type: 'checkbox' });
                inputs[key + '\0clear'] = clr;
                extra = el('span', { class: 'secret-state' },
                    el('span', { class: 'badge ' + (st.set ? 'ok' : 'off'),
                                 id: id + '-state',
                                 text: st.set ? t('settings.secret.set')
                                              : t('settings.secret.unset') }),
                    st.set ? el('label', { class: 'inline' }, clr,
                                t('settings.secret.clear')) : null,
                    key === 'proxy' ? proxyTestButton(input) : null);
            } else if (ENUMS[key]) {
                input = el('select', { id },
                           ENUMS[key].map((v) =>
                               el('option', { value: v, text: v,
                                              selected: v === st.value })));
            } else {
                input = el('input', { id, type: 'text',
                                      value: st.value === null
                                             ? '' : String(st.value) });
            }

            inputs[key] = input;

            const desc = has('settings.d.' + key)
                         ? t('settings.d.' + key) : null;

            form.append(el('div', { class: 'field setting',
                                    dataset: { key } },
                el('label', { for: id, class: 'mono', text: key }),
                el('div', { class: 'control' }, input, extra),
                desc ? el('small', { class: 'hint', text: desc }) : null));
        }

        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const save = el('button', { id: 'settings-save', type: 'submit',
                                    class: 'primary',
                                    text: t('common.save') });

        form.append(err, el('div', { class: 'actions' }, save));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;

            const body = {};

            for (const key of keys) {
                const st = state.settings[key];
                const input = inputs[key];

                if (st.type === 'bool') {
                    if (input.checked !== !!st.value) {
                        body[key] = input.checked;
                    }
                } else if (st.type === 'int') {
                    const v = input.value.trim();

                    if (!/^\d+$/.test(v)) {
                        err.textContent = key + ': '
                            + t('err.http', { status: 400,
                                              msg: 'not a number' });
                        err.hidden = false;
                        input.focus();
                        return;
                    }

                    if (Number(v) !== st.value) {
                        body[key] = Number(v);
                    }
                } else if (st.type === 'secret') {
                    if (input.value !== '') {
                        body[key] = input.value;
                    } else if (inputs[key + '\0clear'].checked) {
                        body[key] = '';
                    }
                } else if (input.value !== st.value) {
                    body[key] = input.value;
                }
            }

            if (!Object.keys(body).length) {
                toast(t('settings.none_changed'));
                return;
            }

            save.disabled = true;

            try {
                await api('PUT', 'settings', body);
                toast(t('settings.saved'));
                await this.load();
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                save.disabled = false;
            }
        });

        s.append(form);
    },
};


/* API keys */

function keyState(k) {
    if (!k.enabled) {
        return ['off', t('keys.state.revoked')];
    }

    if (k.expires_at && k.expires_at <= now()) {
        return ['expired', t('keys.state.expired')];
    }

    return ['ok', t('keys.state.active')];
}

async function keyStats(k) {
    const d = await api('GET', 'keys/' + k.id + '/stats');
    const row = (label, v) => el('tr', null, el('th', { text: label }),
                                 el('td', { class: 'num', text: v }));

    infoDialog(t('keys.stats.title', { name: d.name || '#' + d.id }),
        el('table', { class: 'kv', id: 'key-stats' }, el('tbody', null,
            row(t('keys.stats.requests'), fmtNum(d.requests)),
            row(t('keys.stats.minute'), fmtNum(d.requests_this_minute)),
            row(t('keys.stats.today'), fmtNum(d.requests_today)),
            row(t('keys.stats.calls'), fmtNum(d.logged_calls)),
            row(t('keys.stats.errors'), fmtNum(d.logged_errors)),
            row(t('keys.stats.prompt'), fmtNum(d.prompt_tokens)),
            row(t('keys.stats.completion'), fmtNum(d.completion_tokens)),
            row(t('keys.last_used'), fmtTime(d.last_used_at)))));
}

async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch (e) {
        /* no clipboard permission: select and copy the old way */
        const ta = el('textarea', { class: 'offscreen', value: text,
                                    readonly: true });
        document.body.append(ta);
        ta.select();

        let ok = false;

        try {
            ok = document.execCommand('copy');
        } catch (e2) {
            ok = false;
        }

        ta.remove();
        return ok;
    }
}

function newKeyBox() {
    const k = state.newKey;

    if (!k) {
        return null;
    }

    const value = el('input', { id: 'new-key-value', class: 'mono',
                                type: 'text', readonly: true, value: k.key,
                                onfocus: (ev) => ev.target.select() });

    return el('div', { id: 'new-key', class: 'card highlight' },
        el('h2', { text: t('keys.new.title') + (k.name ? ': ' + k.name
                                                       : '') }),
        el('div', { class: 'copy-row' }, value,
           el('button', { id: 'new-key-copy', type: 'button',
                          class: 'primary', text: t('common.copy'),
                          onclick: async () => {
                              value.select();
                              toast(await copyText(k.key)
                                    ? t('common.copied')
                                    : t('keys.new.once'));
                          } })),
        el('p', { class: 'warn-text', text: t('keys.new.once') }),
        el('button', { id: 'new-key-done', type: 'button', class: 'ghost',
                       text: t('keys.new.done'),
                       onclick: () => {
                           state.newKey = null;
                           keys.render();
                       } }));
}

const keys = {
    error: null,

    async load() {
        try {
            const d = await api('GET', 'keys');
            state.keys = d.keys || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'keys') {
            this.render();
        }
    },

    createForm() {
        const name = el('input', { id: 'key-name', type: 'text',
                                   maxlength: 63 });
        const mods = el('input', { id: 'key-models', type: 'text',
                                   placeholder: t('keys.models.hint') });
        const rpm = el('input', { id: 'key-rpm', type: 'number', min: 0,
                                  value: '0' });
        const rpd = el('input', { id: 'key-rpd', type: 'number', min: 0,
                                  value: '0' });
        const exp = el('input', { id: 'key-expires',
                                  type: 'datetime-local' });
        const fmt = el('select', { id: 'key-format' },
                       el('option', { value: '',
                                      text: t('keys.image_format.default') }),
                       ['markdown', 'url', 'array', 'b64_json']
                           .map((f) => el('option', { value: f, text: f })));
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const submit = el('button', { id: 'key-create', type: 'submit',
                                      class: 'primary',
                                      text: t('keys.create') });

        const field = (label, input, hint) =>
            el('div', { class: 'field' },
               el('label', { for: input.id, text: label }), input,
               hint ? el('small', { class: 'hint', text: hint }) : null);

        const form = el('form', { id: 'key-form', class: 'form inline-grid',
                                  novalidate: true },
            field(t('keys.name'), name),
            field(t('keys.models'), mods),
            field(t('keys.rpm'), rpm, t('keys.limit.hint')),
            field(t('keys.rpd'), rpd, t('keys.limit.hint')),
            field(t('keys.expires'), exp, t('keys.expires.hint')),
            field(t('keys.image_format'), fmt),
            err,
            el('div', { class: 'actions' }, submit));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;

            const body = { name: name.value.trim() };
            const list = mods.value.split(',').map((x) => x.trim())
                             .filter((x) => x);

            if (list.length) {
                body.models = list;
            }

            body.rpm = Number(rpm.value || 0);
            body.rpd = Number(rpd.value || 0);

            if (exp.value) {
                body.expires_at = Math.floor(new Date(exp.value).getTime()
                                             / 1000);
            }

            if (fmt.value) {
                body.image_format = fmt.value;
            }

            submit.disabled = true;

            try {
                const r = await api('POST', 'keys', body);
                /* shown this once: kept in memory only until dismissed */
                state.newKey = { key: r.key, name: r.name, id: r.id };
                await this.load();
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                submit.disabled = false;
            }
        });

        return form;
    },

    render() {
        const s = clear(section('keys'));

        s.append(head(t('keys.title'),
                      button(t('common.refresh'), () => this.load())));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        const box = newKeyBox();

        if (box) {
            s.append(box);
        }

        s.append(cached(this, 'create', () =>
            el('div', { class: 'card' }, this.createForm())));

        const rows = state.keys.map((k) => {
            const [cls, label] = keyState(k);
            const limits = [k.rpm ? k.rpm + '/min' : null,
                            k.rpd ? k.rpd + '/day' : null]
                           .filter((x) => x).join(', ') || '–';

            return el('tr', { dataset: { id: k.id } },
                el('td', { class: 'num', text: k.id }),
                el('td', { class: 'name', text: k.name }),
                el('td', { class: 'mono', text: k.prefix + '…' }),
                el('td', null, el('span', { class: 'badge ' + cls,
                                            text: label })),
                el('td', { text: k.models || t('keys.all_models') }),
                el('td', { text: limits }),
                el('td', { text: k.expires_at ? fmtTime(k.expires_at)
                                              : t('common.never') }),
                el('td', { class: 'num', text: fmtNum(k.requests) }),
                el('td', { text: fmtTime(k.last_used_at) }),
                el('td', { text: fmtTime(k.created_at) }),
                el('td', { class: 'row-actions' },
                   button(t('keys.stats'), () => keyStats(k).catch(fail),
                          'ghost small'),
                   button(t('keys.logs'), () => {
                       state.logs.key_id = String(k.id);
                       state.logs.before = [];
                       logs.cache = {};
                       location.hash = '#/logs';
                   }, 'ghost small'),
                   k.enabled ? button(t('keys.revoke'), async () => {
                       if (!await ask(t('keys.revoke.confirm',
                                        { name: k.name || '#' + k.id }),
                                      t('keys.revoke')))
                       {
                           return;
                       }

                       try {
                           await api('POST', 'keys/' + k.id + '/revoke', {});
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'ghost small') : null,
                   button(t('common.delete'), async () => {
                       if (!await ask(t('keys.delete.confirm',
                                        { name: k.name || '#' + k.id }),
                                      t('common.delete')))
                       {
                           return;
                       }

                       try {
                           await api('DELETE', 'keys/' + k.id);
                           toast(t('common.deleted'));
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('common.id'), t('keys.name'), t('keys.prefix'),
                        t('keys.state'), t('keys.models'), t('keys.limits'),
                        t('keys.expires'), t('keys.requests'),
                        t('keys.last_used'), t('keys.created'),
                        t('common.actions')], rows, { cls: 'keys' }));
    },
};


/* call logs */

const logs = {
    error: null,

    async load() {
        const L = state.logs;
        const q = new URLSearchParams();

        q.set('limit', String(L.limit));

        if (L.before.length) {
            q.set('before', String(L.before[L.before.length - 1]));
        }

        const path = L.key_id ? 'keys/' + encodeURIComponent(L.key_id)
                                + '/logs?' + q
                              : 'logs?' + q;

        try {
            const d = await api('GET', path);
            L.rows = d.logs || [];
            this.error = null;
        } catch (e) {
            L.rows = [];
            this.error = errText(e);
        }

        if (state.view === 'logs') {
            this.render();
        }
    },

    render() {
        const s = clear(section('logs'));
        const L = state.logs;

        s.append(head(L.key_id ? t('logs.of_key', { id: L.key_id })
                               : t('logs.title'),
                      button(t('common.refresh'), () => this.load())));

        s.append(cached(this, 'filter', () => this.filter()));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        this.rows(s);
    },

    filter() {
        const L = state.logs;
        const key = el('input', { id: 'logs-key', type: 'text',
                                  inputmode: 'numeric', value: L.key_id,
                                  size: 6 });
        const limit = el('select', { id: 'logs-limit' },
                         [20, 50, 100, 200, 500].map((n) =>
                             el('option', { value: n, text: n,
                                            selected: n === L.limit })));

        const filter = el('form', { class: 'toolbar' },
            el('label', null, t('logs.key_id'), ' ', key),
            el('label', null, t('logs.limit'), ' ', limit),
            el('button', { type: 'submit', class: 'ghost',
                           text: t('logs.filter') }),
            L.key_id ? button(t('logs.clear'), () => {
                L.key_id = '';
                L.before = [];
                this.cache = {};
                this.load();
            }) : null);

        filter.addEventListener('submit', (ev) => {
            ev.preventDefault();
            L.key_id = key.value.trim();
            L.limit = Number(limit.value);
            L.before = [];
            /* the form follows the filter (its clear button) */
            this.cache = {};
            this.load();
        });

        return filter;
    },

    rows(s) {
        const L = state.logs;
        const keyName = (id) => {
            const k = state.keys.find((x) => x.id === id);
            return id ? (k && k.name ? k.name + ' (#' + id + ')'
                                     : '#' + id) : '–';
        };

        const rows = L.rows.map((r) => el('tr', {
                class: r.status >= 400 ? 'bad' : null },
            el('td', { text: fmtTime(r.time) }),
            el('td', { text: keyName(r.key_id) }),
            el('td', { text: r.account || '–' }),
            el('td', { class: 'mono', text: r.model || '–' }),
            el('td', { class: 'num', text: r.status }),
            el('td', { text: r.stream ? t('common.yes') : t('common.no') }),
            el('td', { class: 'num', text: r.attempts }),
            el('td', { class: 'num', text: fmtMs(r.latency_ms) }),
            el('td', { class: 'num', text: fmtMs(r.ttfb_ms) }),
            el('td', { class: 'num', text: fmtNum(r.prompt_tokens) + ' / '
                                           + fmtNum(r.completion_tokens) }),
            el('td', { class: 'error-text', text: r.error || '' })));

        s.append(table([t('common.time'), t('common.key'),
                        t('common.account'), t('common.model'),
                        t('common.status'), t('logs.stream'),
                        t('logs.attempts'), t('logs.latency'),
                        t('logs.ttfb'), t('logs.tokens'),
                        t('common.error')], rows, { cls: 'logs' }));

        const pager = el('div', { class: 'pager' },
            L.before.length ? button(t('logs.newest'), () => {
                L.before = [];
                this.load();
            }) : null,
            L.rows.length === L.limit ? button(t('logs.older'), () => {
                L.before.push(L.rows[L.rows.length - 1].id);
                this.load();
            }) : null);

        s.append(pager);
    },
};


/* chat history */

async function historyDetail(id) {
    let d;

    try {
        d = await api('GET', 'history/' + encodeURIComponent(id));
    } catch (e) {
        fail(e);
        return;
    }

    const meta = el('dl', { class: 'facts' },
        el('dt', { text: t('common.time') }),
        el('dd', { text: fmtTime(d.time) }),
        el('dt', { text: t('common.key') }),
        el('dd', { text: d.key_name || (d.key_id ? '#' + d.key_id : '–') }),
        el('dt', { text: t('common.model') }),
        el('dd', { text: d.model || '–' }),
        el('dt', { text: t('common.account') }),
        el('dd', { text: d.account || '–' }),
        el('dt', { text: t('common.status') }),
        el('dd', { text: d.status }),
        el('dt', { text: t('history.latency') }),
        el('dd', { text: fmtMs(d.latency_ms) }));

    const dlg = infoDialog(t('history.detail', { id: d.id }),
        el('div', { class: 'chat' }, meta,
           el('h3', { text: t('history.prompt') }),
           el('pre', { class: 'text', id: 'history-prompt',
                       text: d.prompt || '' }),
           el('h3', { text: t('history.answer') }),
           el('pre', { class: 'text', id: 'history-answer',
                       text: d.answer || '' })));

    $('.actions', dlg).prepend(button(t('common.delete'), async () => {
        if (!await ask(t('history.delete.confirm'), t('common.delete'))) {
            return;
        }

        try {
            await api('DELETE', 'history/' + encodeURIComponent(d.id));
            toast(t('common.deleted'));
            dlg.close();
        } catch (e) {
            fail(e);
        }

        await history.load();
    }, 'danger'));
}

const history = {
    error: null,

    async load() {
        const H = state.history;
        const q = new URLSearchParams();

        for (const k of ['q', 'key_id', 'model']) {
            if (H[k]) {
                q.set(k, H[k]);
            }
        }

        q.set('limit', String(H.limit));
        q.set('offset', String(H.offset));

        try {
            const [d, st] = await Promise.all([
                api('GET', 'history?' + q), api('GET', 'settings'),
            ]);

            H.data = d;
            H.missing = false;
            state.settings = st.settings || state.settings;
            this.error = null;
        } catch (e) {
            H.data = null;
            H.missing = e.status === 404;
            this.error = H.missing ? null : errText(e);
        }

        if (state.view === 'history') {
            this.render();
        }
    },

    render() {
        const s = clear(section('history'));
        const H = state.history;

        s.append(head(t('history.title'),
                      button(t('common.refresh'), () => this.load()),
                      H.data ? el('button', {
                          id: 'history-delete-all', type: 'button',
                          class: 'danger', text: t('history.delete_all'),
                          onclick: async () => {
                              if (!await ask(t('history.delete_all.confirm'),
                                             t('common.delete')))
                              {
                                  return;
                              }

                              try {
                                  const r = await api('DELETE', 'history');
                                  toast(t('history.deleted_n',
                                          { n: (r && r.deleted) || 0 }));
                              } catch (e) {
                                  fail(e);
                              }

                              H.offset = 0;
                              await this.load();
                          } }) : null));

        if (H.missing) {
            s.append(notAvailable('history'));
            return;
        }

        const he = state.settings && state.settings.history_enabled;

        if (he && he.value === false) {
            s.append(el('p', { id: 'history-off', class: 'notice warn',
                               text: t('history.off') }));
        }

        s.append(cached(this, 'search', () => this.search()));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        this.rows(s);
    },

    search() {
        const H = state.history;
        const q = el('input', { id: 'history-q', type: 'search',
                                value: H.q });
        const key = el('input', { id: 'history-key', type: 'text',
                                  inputmode: 'numeric', value: H.key_id,
                                  size: 6 });
        const model = el('input', { id: 'history-model', type: 'text',
                                    value: H.model, size: 14 });

        const form = el('form', { class: 'toolbar' },
            el('label', null, t('history.q'), ' ', q),
            el('label', null, t('logs.key_id'), ' ', key),
            el('label', null, t('common.model'), ' ', model),
            el('button', { type: 'submit', class: 'ghost',
                           text: t('history.search') }));

        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            H.q = q.value.trim();
            H.key_id = key.value.trim();
            H.model = model.value.trim();
            H.offset = 0;
            this.load();
        });

        return form;
    },

    rows(s) {
        const H = state.history;

        if (!H.data) {
            return;
        }

        const items = H.data.items || [];
        const rows = items.map((h) => el('tr', { class: 'clickable'
                                                 + (h.status >= 400
                                                    ? ' bad' : ''),
                                                 dataset: { id: h.id },
                                                 onclick: () =>
                                                     historyDetail(h.id) },
            el('td', { text: fmtTime(h.time) }),
            el('td', { text: h.key_name || (h.key_id ? '#' + h.key_id
                                                     : '–') }),
            el('td', { class: 'mono', text: h.model || '–' }),
            el('td', { text: h.account || '–' }),
            el('td', { class: 'num', text: h.status }),
            el('td', { class: 'num', text: fmtMs(h.latency_ms) }),
            el('td', { class: 'preview', text: h.prompt_preview || '' }),
            el('td', { class: 'preview', text: h.answer_preview || '' })));

        s.append(table([t('common.time'), t('common.key'),
                        t('common.model'), t('common.account'),
                        t('common.status'), t('history.latency'),
                        t('history.prompt'), t('history.answer')], rows,
                       { cls: 'history' }));

        const total = H.data.total || 0;

        if (total) {
            s.append(el('div', { class: 'pager' },
                H.offset > 0 ? button(t('common.previous'), () => {
                    H.offset = Math.max(0, H.offset - H.limit);
                    this.load();
                }) : null,
                el('span', { class: 'muted',
                             text: t('common.page', {
                                 from: H.offset + 1,
                                 to: H.offset + items.length,
                                 total }) }),
                H.offset + items.length < total
                    ? button(t('common.next'), () => {
                        H.offset += H.limit;
                        this.load();
                    }) : null));
        }
    },
};


/* config export / import */

function looksSqlite(buf) {
    const magic = 'SQLite format 3\0';
    const b = new Uint8Array(buf, 0, Math.min(16, buf.byteLength));

    if (b.length < 16) {
        return false;
    }

    for (let i = 0; i < 16; i++) {
        if (b[i] !== magic.charCodeAt(i)) {
            return false;
        }
    }

    return true;
}

const config = {
    missing: {},
    result: null,

    load() {
        /* nothing to fetch before the operator acts */
    },

    async exportConfig(btn) {
        await busy(btn, async () => {
            let res;

            try {
                res = await api('GET', 'config/export', undefined,
                                { response: true });
            } catch (e) {
                if (e.status === 404) {
                    this.missing.export = true;
                    this.render();
                    return;
                }

                throw e;
            }

            const blob = await res.blob();
            const cd = res.headers.get('Content-Disposition') || '';
            const m = cd.match(/filename="?([^";]+)"?/);
            const name = m ? m[1]
                : 'gemini-pool-config-'
                  + new Date().toISOString().slice(0, 10) + '.json';

            const url = URL.createObjectURL(blob);
            const a = el('a', { href: url, download: name, hidden: true });

            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10000);
            toast(t('config.exported'));
        });
    },

    async importConfig(file, btn) {
        if (!file) {
            toast(t('config.import.nofile'), 'error');
            return;
        }

        if (!await ask(t('config.import.confirm', { name: file.name }),
                       t('config.import')))
        {
            return;
        }

        await busy(btn, async () => {
            const buf = await file.arrayBuffer();
            let r;

            try {
                if (looksSqlite(buf)) {
                    r = await api('POST', 'config/import', buf,
                                  { type: 'application/x-sqlite3' });
                } else {
                    const text = new TextDecoder().decode(buf);

                    try {
                        JSON.parse(text);
                    } catch (e) {
                        throw new Error(t('err.bad_json_file',
                                          { msg: e.message }));
                    }

                    r = await api('POST', 'config/import', text,
                                  { type: 'application/json' });
                }
            } catch (e) {
                if (e.status === 404 && e.code !== 'invalid_value') {
                    this.missing.import = true;
                    this.render();
                    return;
                }

                this.result = { error: errText(e) };
                this.render();
                return;
            }

            this.result = { imported: (r && r.imported) || {} };
            this.render();
        });
    },

    render() {
        const s = clear(section('config'));

        s.append(head(t('config.title')));

        const exp = el('button', { id: 'config-export', type: 'button',
                                   class: 'primary',
                                   text: t('config.export') });
        exp.addEventListener('click', () => this.exportConfig(exp));

        s.append(el('div', { class: 'card' },
            el('h2', { text: t('config.export') }),
            el('p', { class: 'muted', text: t('config.export.help') }),
            this.missing.export ? notAvailable('config/export') : exp));

        const file = el('input', { id: 'config-file', type: 'file',
                                   accept: '.json,.db,.sqlite,.sqlite3,'
                                           + 'application/json' });
        const imp = el('button', { id: 'config-import', type: 'button',
                                   class: 'primary',
                                   text: t('config.import') });
        imp.addEventListener('click',
                             () => this.importConfig(file.files[0], imp));

        let result = null;

        if (this.result && this.result.error) {
            result = el('p', { id: 'config-result', class: 'notice error',
                               role: 'alert', text: this.result.error });
        } else if (this.result) {
            result = el('div', { id: 'config-result', class: 'notice ok' },
                el('strong', { text: t('config.import.done') }),
                el('ul', null, Object.entries(this.result.imported)
                    .map(([k, v]) => el('li', null,
                        el('span', { class: 'mono', text: k }), ': ',
                        typeof v === 'object' ? JSON.stringify(v)
                                              : String(v)))));
        }

        s.append(el('div', { class: 'card' },
            el('h2', { text: t('config.import') }),
            el('p', { class: 'muted', text: t('config.import.help') }),
            this.missing.import ? notAvailable('config/import')
                : el('div', { class: 'toolbar' },
                     el('label', null, t('config.import.file'), ' ', file),
                     imp),
            result));
    },
};


/* password */

const security = {
    load() {
        /* nothing to fetch */
    },

    render() {
        const s = clear(section('security'));

        const p1 = el('input', { id: 'password-new', type: 'password',
                                 autocomplete: 'new-password',
                                 minlength: 8 });
        const p2 = el('input', { id: 'password-repeat', type: 'password',
                                 autocomplete: 'new-password',
                                 minlength: 8 });
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const save = el('button', { id: 'password-save', type: 'submit',
                                    class: 'primary',
                                    text: t('common.save') });

        const form = el('form', { id: 'password-form', class: 'form',
                                  novalidate: true },
            el('div', { class: 'field' },
               el('label', { for: p1.id, text: t('security.new') }), p1),
            el('div', { class: 'field' },
               el('label', { for: p2.id, text: t('security.repeat') }), p2),
            err,
            el('div', { class: 'actions' }, save));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;

            if (p1.value.length < 8) {
                err.textContent = t('security.short');
                err.hidden = false;
                return;
            }

            if (p1.value !== p2.value) {
                err.textContent = t('security.mismatch');
                err.hidden = false;
                return;
            }

            save.disabled = true;

            try {
                await api('PUT', 'auth/password', { password: p1.value });
                /* every session ends with a new password */
                try {
                    localStorage.setItem(MODE, 'password');
                } catch (e) {
                    /* not remembered */
                }
                loginModeNow = 'password';
                loggedOut(t('security.done'), true);
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                save.disabled = false;
            }
        });

        s.append(head(t('security.title')),
                 el('div', { class: 'card' },
                    el('p', { text: t('security.help') }),
                    el('p', { class: 'muted',
                              text: t('security.method',
                                      { method: state.method }) }),
                    form));
    },
};


const views = {
    dashboard, accounts, models, settings, keys, logs, history, config,
    security,
};


/* start */

function start() {
    initTheme();
    initLang();

    $('#logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);

    /* a session cookie may still be valid */
    api('GET', 'auth/status', undefined, { login: true })
        .then((who) => {
            state.authed = true;
            state.method = who.method || '';
            $('#nav').hidden = false;
            $('#logout').hidden = false;
            route();
        })
        .catch((e) => {
            loggedOut(e.status === 401 ? '' : errText(e));
        });
}

start();
