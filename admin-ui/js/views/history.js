/*
 * The chat history view: search, the list a page at a time, one chat in
 * a dialog, delete one or all; a notice when recording is off or the
 * routes are missing.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, $, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { fmtTime, fmtMs } from '../format.js';
import { toast, fail } from '../toast.js';
import { ask, infoDialog } from '../dialogs.js';
import { table, head, button, cached, notAvailable, keySelect, keyOptions,
         loadKeyNames } from '../widgets.js';


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

export const history = {
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
                loadKeyNames(),
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
        keyOptions(this.keySel);

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        this.rows(s);
    },

    search() {
        const H = state.history;
        const q = el('input', { id: 'history-q', type: 'search',
                                value: H.q });
        const key = keySelect('history-key', H.key_id);

        this.keySel = key;
        const model = el('input', { id: 'history-model', type: 'text',
                                    value: H.model, size: 14 });

        const form = el('form', { class: 'toolbar' },
            el('label', null, t('history.q'), ' ', q),
            el('label', null, t('logs.key'), ' ', key),
            el('label', null, t('common.model'), ' ', model),
            el('button', { type: 'submit', class: 'ghost',
                           text: t('history.search') }));

        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            H.q = q.value.trim();
            H.key_id = key.value;
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
