/*
 * The call logs view: newest first, by key (picked by name), a page at
 * a time.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { fmtTime, fmtMs, fmtNum } from '../format.js';
import { table, head, button, cached, keySelect, keyOptions, loadKeyNames,
         keyLabel } from '../widgets.js';


export const logs = {
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
            const [d] = await Promise.all([api('GET', path),
                                           loadKeyNames()]);
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

        s.append(head(L.key_id ? t('logs.of_key',
                                   { name: keyLabel(Number(L.key_id)) })
                               : t('logs.title'),
                      button(t('common.refresh'), () => this.load())));

        s.append(cached(this, 'filter', () => this.filter()));
        keyOptions(this.keySel);

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        this.rows(s);
    },

    filter() {
        const L = state.logs;
        const key = keySelect('logs-key', L.key_id);

        this.keySel = key;
        const limit = el('select', { id: 'logs-limit' },
                         [20, 50, 100, 200, 500].map((n) =>
                             el('option', { value: n, text: n,
                                            selected: n === L.limit })));

        const filter = el('form', { class: 'toolbar' },
            el('label', null, t('logs.key'), ' ', key),
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
            L.key_id = key.value;
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

        const rows = L.rows.map((r) => el('tr', {
                class: r.status >= 400 ? 'bad' : null },
            el('td', { text: fmtTime(r.time) }),
            el('td', { text: keyLabel(r.key_id) }),
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
                        t('common.error')], rows, { cls: 'logs', empty: t('empty.logs') }));

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

/* the logs of one key (from the keys view) */
export function showKeyLogs(id) {
    state.logs.key_id = String(id);
    state.logs.before = [];
    logs.cache = {};
    location.hash = '#/logs';
}
