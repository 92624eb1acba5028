/*
 * The dashboard: the pool's figures and facts, refreshed when the event
 * stream's counters change (js/live.js) and every 15 s while it is on
 * screen.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { now, fmtNum } from '../format.js';
import { head, button } from '../widgets.js';
import { onLive, startLive } from '../live.js';


export const dashboard = {
    data: null,

    async load() {
        this.live();

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

    /* the event stream's counters read the figures again (at most
       every 3 s); the 15 s poll stays for when there is no stream */
    live() {
        startLive();

        if (this.unlive) {
            return;
        }

        this.unlive = onLive('counters', () => {
            if (state.view !== 'dashboard' || this.liveTimer) {
                return;
            }

            this.liveTimer = setTimeout(() => {
                this.liveTimer = null;

                if (state.view === 'dashboard' && !document.hidden) {
                    this.load();
                }
            }, 3000);
        });
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
