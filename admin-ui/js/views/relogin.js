/*
 * The re-login view: automatic re-login, the next expiry check, Chromium,
 * the logins running (with their step) and queued, live while they run
 * (js/relogin.js polls); "refresh all expired"; the history of attempts
 * (GET /api/relogin/history), per account.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { fmtTime, fmtLeft } from '../format.js';
import { head, button, busy, table, notAvailable } from '../widgets.js';
import { relogin, loadRelogin, onRelogin, busyNow, refreshAll,
         progressPanel } from '../relogin.js';


export const reloginView = {
    history: null,
    missing: false,
    error: null,
    account: '',
    limit: 50,
    loading: false,

    async fetchHistory() {
        const q = ['limit=' + this.limit];

        if (this.account) {
            q.push('account=' + encodeURIComponent(this.account));
        }

        try {
            const d = await api('GET', 'relogin/history?' + q.join('&'));
            this.history = d.history || [];
            this.missing = false;
            this.error = null;
        } catch (e) {
            this.history = null;
            this.missing = e.status === 404;
            this.error = this.missing ? null : errText(e);
        }
    },

    async load() {
        this.loading = true;

        try {
            const jobs = [loadRelogin(), this.fetchHistory()];

            if (!state.accounts.length) {
                jobs.push(api('GET', 'accounts')
                          .then((d) => { state.accounts = d.accounts || []; })
                          .catch(() => {}));
            }

            await Promise.all(jobs);
        } finally {
            this.loading = false;
        }

        if (state.view === 'relogin') {
            this.render();
        }
    },

    /* while logins run the panel moves; when they end, the history too */
    async polled(s, was) {
        if (this.loading || state.view !== 'relogin') {
            return;
        }

        if (was && !busyNow(s)) {
            await this.fetchHistory();
        }

        if (state.view === 'relogin') {
            this.render();
        }
    },

    render() {
        const s = clear(section('relogin'));
        const all = el('button', { id: 'relogin-all-2', type: 'button',
                                   class: 'ghost',
                                   text: t('rl.refresh_all') });

        all.addEventListener('click', () => busy(all, refreshAll));

        s.append(head(t('rl.title'),
                      button(t('common.refresh'), () => this.load()),
                      relogin.missing ? null : all));

        if (relogin.missing) {
            s.append(notAvailable('relogin'));
            return;
        }

        s.append(progressPanel());

        /* the filter: an account, how many */
        const acc = el('select', { name: 'account',
                                   'aria-label': t('common.account') },
            el('option', { value: '', text: t('rl.h.all') }),
            state.accounts.map((a) =>
                el('option', { value: String(a.id),
                               text: a.name || '#' + a.id,
                               selected: String(a.id) === this.account })));
        const lim = el('select', { name: 'limit',
                                   'aria-label': t('rl.h.limit') },
            [20, 50, 200].map((n) =>
                el('option', { value: String(n), text: String(n),
                               selected: n === this.limit })));
        const form = el('form', { class: 'toolbar', id: 'relogin-filter' },
                        acc, lim,
                        el('button', { type: 'submit', class: 'ghost',
                                       text: t('rl.h.show') }));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            this.account = acc.value;
            this.limit = Number(lim.value) || 50;
            await this.fetchHistory();
            this.render();
        });

        s.append(el('h2', { text: t('rl.history') }), form);

        if (this.missing) {
            s.append(notAvailable('relogin/history'));
            return;
        }

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        if (!this.history) {
            s.append(el('p', { class: 'empty', text: t('common.loading') }));
            return;
        }

        const rows = this.history.map((h) => {
            const ok = h.status === 'ok';
            const took = h.finished && h.started
                         ? fmtLeft(h.finished - h.started) : '–';

            return el('tr', { dataset: { id: h.id } },
                el('td', { text: fmtTime(h.started) }),
                el('td', { class: 'name',
                           text: h.account || '#' + h.account_id }),
                el('td', { text: t(h.manual ? 'rl.h.manual' : 'rl.h.auto') }),
                el('td', null,
                   el('span', { class: 'badge ' + (ok ? 'ok' : h.finished
                                                   ? 'expired' : 'refreshing'),
                                text: ok ? t('rl.h.ok')
                                         : h.status || t('rl.refreshing') })),
                el('td', { class: 'error-text', text: h.reason || '' }),
                el('td', { class: 'muted', text: h.step || '' }),
                el('td', { class: 'num', text: took }));
        });

        s.append(table([t('rl.h.started'), t('common.account'),
                        t('rl.h.trigger'), t('rl.h.result'),
                        t('rl.h.reason'), t('rl.h.step'),
                        t('rl.h.duration')], rows,
                       { cls: 'relogin-history',
                         empty: t('rl.h.empty') }));
    },
};

onRelogin((s, was) => reloginView.polled(s, was));
