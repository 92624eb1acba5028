/*
 * ngx_gemini_pool console.  Talks only to the module's admin JSON API.
 *
 * The entry module of index.html: it registers the views with the router,
 * hands the API's "session expired" to the login view and starts.  No
 * build step: the browser loads the ES modules below as they are.
 *
 *   i18n.js          every string, English and Chinese; t()
 *   js/dom.js        el(), the only way nodes are made; $(), clear()
 *   js/state.js      what the views share between renderings
 *   js/format.js     times, durations, numbers
 *   js/api.js        api(), ApiError, errText(), onExpired()
 *   js/toast.js      toast(), fail()
 *   js/dialogs.js    ask(), formDialog(), infoDialog()
 *   js/widgets.js    table(), head(), button(), busy(), cached(), ...
 *   js/theme.js      light and dark
 *   js/router.js     the view of the hash, showOnly(), stopTimer()
 *   js/relogin.js    re-login state, polled while logins run; sync badge
 *   js/lang.js       the language switch, relabel()
 *   js/markdown.js   Markdown to nodes (the chat page's answers)
 *   js/views/*.js    one module per view (login owns the session)
 *
 * Rule of the console: data from the server never goes through innerHTML
 * or any other HTML parser.  Every node is made by el(), and text goes in
 * as text nodes (account names, model names, logs and chats may hold
 * hostile strings).
 */

import { $ } from './js/dom.js';
import { state } from './js/state.js';
import { api, errText, onExpired } from './js/api.js';
import { initTheme } from './js/theme.js';
import { initLang } from './js/lang.js';
import { setViews, route } from './js/router.js';
import { loadRelogin } from './js/relogin.js';
import { login, loggedOut, logout } from './js/views/login.js';
import { dashboard } from './js/views/dashboard.js';
import { accounts } from './js/views/accounts.js';
import { models } from './js/views/models.js';
import { settings } from './js/views/settings.js';
import { keys } from './js/views/keys.js';
import { logs } from './js/views/logs.js';
import { history } from './js/views/history.js';
import { config } from './js/views/config.js';
import { security } from './js/views/security.js';
import { reloginView } from './js/views/relogin.js';
import { chat } from './js/views/chat.js';


const views = {
    dashboard, accounts, relogin: reloginView, models, settings, keys, logs,
    history, config, security,
    chat,
};


/* start */

function start() {
    setViews(views, login);
    onExpired(loggedOut);

    initTheme();
    initLang();

    $('#logout').addEventListener('click', logout);
    window.addEventListener('hashchange', route);

    /* a session cookie may still be valid */
    api('GET', 'auth/status', undefined, { login: true })
        .then((who) => {
            state.authed = true;
            state.method = who.method || '';
            $('#demo-banner').hidden = !who.demo;
            $('#nav').hidden = false;
            $('#logout').hidden = false;
            route();
            loadRelogin();
        })
        .catch((e) => {
            loggedOut(e.status === 401 ? '' : errText(e));
        });
}

start();
