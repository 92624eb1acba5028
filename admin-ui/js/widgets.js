/*
 * The pieces every view is made of: a table, the view's head with its
 * tools, buttons, busy() for a button's action, cached() for a form kept
 * across re-renders, the API key picker and the "not available" notice.
 */

import { t, getLang } from '../i18n.js';
import { el } from './dom.js';
import { API, api } from './api.js';
import { state } from './state.js';
import { fail } from './toast.js';


export function table(headers, rows, opts) {
    opts = opts || {};

    if (!rows.length) {
        return el('p', { class: 'empty', text: opts.empty
                                               || t('common.empty') });
    }

    /* at phone width each row is a card: every cell names its column */
    for (const tr of rows) {
        [...(tr.cells || [])].forEach((c, i) => {
            if (!c.dataset.label && headers[i]) {
                c.dataset.label = String(headers[i]);
            }
        });
    }

    return el('div', { class: 'table-wrap' },
              el('table', { class: 'grid cards'
                                   + (opts.cls ? ' ' + opts.cls : '') },
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

/*
 * The API key picker of the filters: a select of the keys by name (the
 * value is the key's id, '' for every key); keyOptions() fills it again
 * from state.keys, keeping the choice (a key no longer listed stays as
 * its number).
 */
export function keySelect(id, chosen) {
    const sel = el('select', { id, class: 'key-select' });

    keyOptions(sel, chosen);

    return sel;
}

export function keyOptions(sel, chosen) {
    const keep = chosen !== undefined ? String(chosen || '') : sel.value;
    const opts = [el('option', { value: '', text: t('keys.all') })];

    for (const k of state.keys) {
        opts.push(el('option', { value: String(k.id),
                                 text: (k.name || '–') + ' (#' + k.id
                                       + ')' }));
    }

    if (keep && !state.keys.some((k) => String(k.id) === keep)) {
        opts.push(el('option', { value: keep, text: '#' + keep }));
    }

    sel.replaceChildren(...opts);
    sel.value = keep;
}

/* the keys' names for the pickers (state.keys), quietly kept on failure */
export async function loadKeyNames() {
    try {
        const d = await api('GET', 'keys');
        state.keys = d.keys || [];
    } catch (e) {
        /* the picker keeps what it had */
    }
}

/* a key's name for a table cell */
export function keyLabel(id) {
    const k = state.keys.find((x) => x.id === id);

    return id ? (k && k.name ? k.name + ' (#' + id + ')' : '#' + id) : '–';
}

export function notAvailable(path) {
    return el('p', { class: 'notice warn',
                     text: t('err.not_available', { path: API + path }) });
}
