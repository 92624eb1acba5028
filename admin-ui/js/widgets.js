/*
 * The pieces every view is made of: a table, the view's head with its
 * tools, buttons, busy() for a button's action, cached() for a form kept
 * across re-renders and the "not available" notice.
 */

import { t, getLang } from '../i18n.js';
import { el } from './dom.js';
import { API } from './api.js';
import { fail } from './toast.js';


export function table(headers, rows, opts) {
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

export function head(title, ...tools) {
    return el('div', { class: 'view-head' },
              el('h1', { text: title }),
              el('div', { class: 'view-tools' }, tools));
}

export function button(label, onclick, cls) {
    return el('button', { type: 'button', class: cls || 'ghost',
                          text: label, onclick });
}

/* runs fn with the button disabled; errors become toasts */
export async function busy(btn, fn) {
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
export function cached(owner, key, build) {
    owner.cache = owner.cache || {};

    const c = owner.cache[key];

    if (c && c.lang === getLang()) {
        return c.node;
    }

    owner.cache[key] = { lang: getLang(), node: build() };

    return owner.cache[key].node;
}

export function notAvailable(path) {
    return el('p', { class: 'notice warn',
                     text: t('err.not_available', { path: API + path }) });
}
