/*
 * The dashboard: the pool's figures and facts, refreshed when the event
 * stream's counters change (js/live.js) and every 15 s while it is on
 * screen.  The accounts by state (GET /api/accounts), and
 * the call log's requests, errors, latency and time to first byte over
 * the last hour or day (GET /api/stats), in total or per model or per
 * account, drawn by js/chart.js.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { now, fmtNum, fmtMs, fmtTime } from '../format.js';
import { head, button, table, notAvailable } from '../widgets.js';
import { chart, partsBar } from '../chart.js';
import { onLive, startLive } from '../live.js';


const PICK = 'gp-console-dash';

function stored() {
    try {
        const v = JSON.parse(localStorage.getItem(PICK) || '{}');

        return {
            range: v.range === 'day' ? 'day' : 'hour',
            by: v.by === 'model' || v.by === 'account' ? v.by : '',
        };
    } catch (e) {
        return { range: 'hour', by: '' };
    }
}

/* an account's state, as the accounts page names them */
function stateOf(a, n) {
    if (!a.enabled) {
        return 'off';
    }

    if (a.cookie_expired) {
        return 'expired';
    }

    if (Object.values(a.cooldown_until || {}).some((u) => u > n)) {
        return 'cooling';
    }

    return 'ok';
}

const ms = (v) => (v >= 1000 ? (v / 1000).toFixed(v % 1000 ? 1 : 0) + ' s'
                             : v + ' ms');


export const dashboard = {
    data: null,
    stats: null,
    statsError: null,
    pick: stored(),

    async load() {
        this.live();

        const q = 'stats?range=' + this.pick.range
                  + (this.pick.by ? '&by=' + this.pick.by : '');

        const [main, stats] = await Promise.allSettled([
            Promise.all([api('GET', 'status'), api('GET', 'accounts')]),
            api('GET', q),
        ]);

        if (main.status === 'fulfilled') {
            this.data = { status: main.value[0],
                          accounts: main.value[1].accounts || [] };
            this.error = null;
        } else {
            this.error = errText(main.reason);
        }

        if (stats.status === 'fulfilled') {
            this.stats = stats.value;
            this.statsError = null;
        } else {
            this.stats = null;
            this.statsError = stats.reason && stats.reason.status === 404
                              ? 'missing' : errText(stats.reason);
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

    choose(k, v) {
        this.pick[k] = v;

        try {
            localStorage.setItem(PICK, JSON.stringify(this.pick));
        } catch (e) {
            /* kept for this page */
        }

        this.load();
    },

    tools() {
        const seg = el('div', { class: 'segmented', role: 'group',
                                'aria-label': t('dash.range') },
            ['hour', 'day'].map((r) =>
                el('button', { type: 'button', id: 'dash-range-' + r,
                               class: this.pick.range === r ? 'on' : '',
                               'aria-pressed': String(this.pick.range === r),
                               text: t('dash.range.' + r),
                               onclick: () => this.choose('range', r) })));

        const by = el('select', { id: 'dash-by',
                                  'aria-label': t('dash.by'),
                                  onchange: (e) => this.choose('by',
                                                               e.target.value)
                                },
            el('option', { value: '', text: t('dash.by.none') }),
            el('option', { value: 'model', text: t('dash.by.model') }),
            el('option', { value: 'account', text: t('dash.by.account') }));

        by.value = this.pick.by;

        return [seg, by, button(t('common.refresh'), () => this.load())];
    },

    render() {
        const s = section('dashboard');

        /* the refresh keeps the keyboard's place (a chart, a switch) */
        const had = s.contains(document.activeElement)
                    ? document.activeElement.id : '';
        const at = had ? document.activeElement.focusIndex : undefined;

        this.draw(clear(s));

        const back = had ? document.getElementById(had) : null;

        if (back) {
            back.focusIndex = at;
            back.focus({ preventScroll: true });
        }
    },

    draw(s) {

        s.append(head(t('dash.title'), ...this.tools()));

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

        s.append(this.accountStates(list, n));
        s.append(this.charts());

        /* several gateways (gemini_pool_cluster): the Redis they share */
        const cl = st.cluster || {};
        const redis = cl.configured
            ? [el('dt', { text: t('dash.cluster') }),
               el('dd', { id: 'dash-cluster',
                          class: cl.up ? 'cluster-up' : 'error-text',
                          text: cl.up
                                ? t('dash.cluster.up',
                                    { since: fmtTime(cl.since) })
                                : t('dash.cluster.down',
                                    { since: fmtTime(cl.since),
                                      error: cl.last_error || '' }) })]
            : [];

        s.append(el('dl', { class: 'facts' },
            el('dt', { text: t('dash.version') }),
            el('dd', { id: 'dash-version', text: st.version }),
            el('dt', { text: t('dash.proxy') }),
            el('dd', { text: proxy }),
            redis));

        s.append(el('p', { class: 'muted', text: t('dash.auto') }));
    },

    accountStates(list, n) {
        const box = el('div', { class: 'card dash-states' },
                       el('h2', { text: t('dash.states') }));

        if (!list.length) {
            box.append(el('div', { class: 'empty-state', id: 'dash-empty' },
                el('p', { text: t('dash.no_accounts') }),
                el('a', { class: 'button primary', href: '#/accounts',
                          text: t('dash.add_account') })));
            return box;
        }

        const by = { ok: 0, cooling: 0, expired: 0, off: 0 };

        for (const a of list) {
            by[stateOf(a, n)]++;
        }

        box.append(partsBar('dash-states',
            ['ok', 'cooling', 'expired', 'off'].map((k) =>
                ({ label: t('dash.state.' + k), cls: 'p-' + k,
                   value: by[k] })), fmtNum));

        return box;
    },

    charts() {
        const box = el('div', { class: 'dash-charts' });

        if (this.statsError === 'missing') {
            box.append(notAvailable('stats'));
            return box;
        }

        if (this.statsError) {
            box.append(el('p', { class: 'notice error',
                                 text: this.statsError }));
            return box;
        }

        const d = this.stats;

        if (!d) {
            return box;
        }

        const times = d.buckets.map((b) => b.time);
        const col = (list, k) => list.map((b) => b[k]);
        const per = d.bucket_seconds === 60 ? t('dash.unit.per_min')
                                            : t('dash.unit.per_30min');
        const base = { times, bucket: d.bucket_seconds };

        if (!d.total.count) {
            box.append(el('div', { class: 'empty-state card',
                                   id: 'dash-no-calls' },
                el('p', { text: t('dash.no_calls.' + d.range) }),
                el('a', { class: 'button', href: '#/keys',
                          text: t('dash.make_key') })));
        }

        const grid = el('div', { class: 'chart-grid' });

        grid.append(chart({ ...base, id: 'chart-requests', kind: 'bar',
            title: t('dash.chart.requests'), unit: per,
            fmt: (v) => fmtNum(v),
            series: [
                { name: 'count', cls: 's-req', label: t('dash.s.requests'),
                  values: col(d.buckets, 'count'),
                  total: fmtNum(d.total.count) },
                { name: 'errors', cls: 's-err', label: t('dash.s.errors'),
                  values: col(d.buckets, 'errors'),
                  total: fmtNum(d.total.errors) },
            ] }));

        for (const [id, k, title] of [['chart-latency', 'latency',
                                        'dash.chart.latency'],
                                       ['chart-ttfb', 'ttfb',
                                        'dash.chart.ttfb']])
        {
            grid.append(chart({ ...base, id, kind: 'line', title: t(title),
                unit: t('dash.unit.ms'), fmt: ms,
                series: [
                    { name: 'p50', cls: 's-p50', label: t('dash.s.p50'),
                      values: col(d.buckets, k + '_p50'),
                      total: fmtMs(d.total[k + '_p50']) },
                    { name: 'p95', cls: 's-p95', label: t('dash.s.p95'),
                      values: col(d.buckets, k + '_p95'),
                      total: fmtMs(d.total[k + '_p95']) },
                ] }));
        }

        if (d.by && d.series) {
            grid.append(chart({ ...base, id: 'chart-by', kind: 'line',
                title: t('dash.chart.by_' + d.by), unit: per,
                fmt: (v) => fmtNum(v),
                series: d.series.map((x, i) => ({
                    name: x.name, cls: 's' + (i % 8),
                    label: x.name || '–',
                    values: x.buckets.map((b) => (b.count ? b.count : null)),
                    total: fmtNum(x.total.count),
                })) }));
        }

        box.append(grid);

        if (d.by && d.series) {
            box.append(this.seriesTable(d));
        }

        box.append(el('p', { class: 'muted small',
                             text: t('dash.percentiles') }));

        return box;
    },

    seriesTable(d) {
        const rows = d.series.map((x) =>
            el('tr', null,
               el('td', { class: 'name', 'data-label': t('dash.col.name'),
                          text: x.name || '–' }),
               ...[['count', fmtNum], ['errors', fmtNum],
                   ['latency_p50', fmtMs], ['latency_p95', fmtMs],
                   ['ttfb_p50', fmtMs], ['ttfb_p95', fmtMs]].map(([k, f]) =>
                   el('td', { class: 'num', 'data-label': t('dash.col.' + k),
                              text: f(x.total[k]) }))));

        const cols = ['name', 'count', 'errors', 'latency_p50',
                      'latency_p95', 'ttfb_p50', 'ttfb_p95']
                     .map((k) => t('dash.col.' + k));

        return el('div', { class: 'dash-series' },
                  el('h2', { text: t('dash.table.' + d.by) }),
                  table(cols, rows, { cls: 'dash-table',
                                      empty: t('dash.table.empty') }),
                  d.others ? el('p', { class: 'muted',
                                       text: t('dash.others',
                                               { n: d.others }) })
                           : null);
    },
};
