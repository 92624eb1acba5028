/*
 * Routing: the view named by the location's hash (#/accounts), shown
 * alone, its refresh timer stopped on leaving; the views are registered
 * by app.js (the router imports none of them).
 */

import { state } from './state.js';


/* name => { enter(), load(), render() }, and the login view */
let views = {};
let login = null;

export function setViews(routed, loginView) {
    views = routed;
    login = loginView;
}

/* renders again what is on screen (a new language) */
export function rerender() {
    if (!state.authed) {
        login.render();
    } else if (state.view && views[state.view]) {
        views[state.view].render();
    }
}

export function showOnly(name) {
    document.querySelectorAll('.view').forEach((v) => {
        v.hidden = v.id !== 'view-' + name;
    });
}


export function stopTimer() {
    if (state.timer) {
        clearInterval(state.timer);
        state.timer = null;
    }
}

export function route() {
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
