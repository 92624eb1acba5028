/*
 * The login view, and the session: login with the password or the admin
 * secret, logged in and logged out.  The page opens on the mode that can
 * work: the secret while no password is set, the password once one is
 * (GET /api/auth/login says; without its answer, the mode last used); the
 * first-start help is shown only while there is no password.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, $, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { showOnly, stopTimer, route } from '../router.js';
import { loadRelogin } from '../relogin.js';


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
let passwordIsSet = null;   /* null: not known (yet) */

/* asks the server whether a password is set, then shows the right mode */
async function checkPassword() {
    let d;

    try {
        d = await api('GET', 'auth/login', undefined, { login: true });
    } catch (e) {
        return;     /* an older module: the remembered mode */
    }

    const now = !!(d && d.password_set);
    const input = $('#login-input');

    if (now === passwordIsSet || state.authed) {
        return;
    }

    passwordIsSet = now;

    /* not while the operator is typing */
    if (!input || !input.value) {
        renderLogin();
    }
}

function renderLogin() {
    const s = clear(section('login'));
    const mode = loginModeNow
                 || (passwordIsSet === null ? loginMode()
                     : passwordIsSet ? 'password' : 'secret');

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
                passwordIsSet = false;
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

    /* the first-start help, until a password is set */
    s.append(el('div', { class: 'login card' },
        el('h1', { text: t('login.title') }),
        form,
        passwordIsSet === true ? null : el('div', { class: 'help' },
           el('h2', { text: t('login.help.title') }),
           el('p', { text: t('login.help.body') }),
           el('p', { text: t('login.help.then') }))));
}


export function loggedOut(message, info) {
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
    checkPassword();
}

export async function loggedIn() {
    let who;

    try {
        who = await api('GET', 'auth/status', undefined, { login: true });
    } catch (e) {
        loggedOut(e.status === 401 ? '' : errText(e));
        return;
    }

    state.authed = true;
    state.method = who.method || '';
    $('#demo-banner').hidden = !who.demo;
    $('#nav').hidden = false;
    $('#logout').hidden = false;
    route();
    loadRelogin();
}

export async function logout() {
    try {
        await api('POST', 'auth/logout', {}, { login: true });
    } catch (e) {
        /* the session is gone from the browser either way */
    }

    state.newKeys = [];
    loggedOut('');
}

/* a new password ends every session: the login asks for it next */
export function passwordSet(message) {
    try {
        localStorage.setItem(MODE, 'password');
    } catch (e) {
        /* not remembered */
    }

    loginModeNow = 'password';
    passwordIsSet = true;
    loggedOut(message, true);
}

export const login = { render: renderLogin };
