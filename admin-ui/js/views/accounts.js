/*
 * The accounts view: the list, add (with the paste box of
 * accounts-paste.js) and edit (with the mailbox of the re-login),
 * enable, live test, quota, delete; the re-login state of each
 * account, "refresh now", "refresh all expired" and the live progress
 * (js/relogin.js polls while a login runs).
 *
 * For thousands of accounts the list is a page of the server's
 * (GET /api/accounts?q=&state=&sort=&order=&offset=&limit=): search,
 * filter by state, sort by a column, pages; rows are selected (or all that
 * match) for the bulk actions of POST /api/accounts/bulk.  The state is
 * live: the rows whose state changed come from the event stream
 * (js/live.js) and replace theirs, countdowns run each second, a bulk
 * test shows its progress; without the stream the page polls.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { now, fmtTime, fmtLeft, fmtNum } from '../format.js';
import { toast, fail } from '../toast.js';
import { ask, formDialog, infoDialog } from '../dialogs.js';
import { head, button, busy } from '../widgets.js';
import { live, onLive, startLive } from '../live.js';
import { pastePanel } from './accounts-paste.js';
import { relogin, loadRelogin, onRelogin, busyNow, reloginBadge, refreshNow,
         refreshAll, progressPanel } from '../relogin.js';


function accountState(a) {
    const n = now();
    const cool = a.cooldown_until || {};

    if (!a.enabled) {
        return ['off', t('acc.off')];
    }

    if (a.cookie_expired) {
        return ['expired', t('acc.expired')];
    }

    if ((cool.text || 0) > n) {
        return ['cooling', t('acc.cooling')];
    }

    return ['ok', t('acc.available')];
}

/* the mailbox as the API shows it: name and address, never the link */
function mailboxText(m) {
    if (!m || !m.set) {
        return t('acc.mailbox.none');
    }

    return [m.name, m.address ? '<' + m.address + '>' : '']
           .filter(Boolean).join(' ') || t('acc.mailbox.set');
}

function accountForm(a) {
    const edit = !!a;
    const keep = t('common.unchanged');
    const mailboxes = !relogin.missing;

    const fields = [
        { name: 'name', label: t('common.name'), value: edit ? a.name : '' },
        { name: 'team_id', label: t('acc.team_id'), required: !edit,
          hint: t('acc.team_id.hint'),
          value: edit ? a.team_id : '' },
        { name: 'csesidx', label: t('acc.csesidx'), required: !edit,
          hint: t('acc.csesidx.hint'),
          value: edit ? a.csesidx : '', pattern: '[0-9]*' },
        { name: 'secure_c_ses', label: t('acc.secure_c_ses'),
          type: 'textarea', hint: t('acc.secure_c_ses.hint'),
          required: !edit,
          placeholder: edit ? (a.secure_c_ses_set ? t('acc.cookie_set')
                                                 : t('acc.cookie_unset'))
                              + ' — ' + keep : '' },
        { name: 'host_c_oses', label: t('acc.host_c_oses'),
          type: 'textarea', hint: t('acc.host_c_oses.hint'),
          placeholder: edit ? (a.host_c_oses_set ? t('acc.cookie_set')
                                                : t('acc.cookie_unset'))
                              + ' — ' + keep : '' },
        { name: 'user_agent', label: t('acc.user_agent'),
          value: edit ? a.user_agent : '' },
        { name: 'proxy', label: t('acc.proxy'),
          placeholder: edit && a.proxy ? a.proxy + ' — ' + keep : '',
          hint: t('acc.proxy.hint') },
    ];

    if (edit) {
        fields.push({ name: 'proxy_clear', type: 'checkbox',
                      label: t('acc.proxy.clear') });
    }

    if (mailboxes) {
        const m = edit ? a.mailbox : null;

        fields.push(
            { name: 'tempmail_url', label: t('acc.mailbox.url'),
              hint: t('acc.mailbox.url.hint'),
              placeholder: m && m.set ? mailboxText(m) + ' — ' + keep : '' },
            { name: 'tempmail_name', label: t('acc.mailbox.name'),
              value: m && m.set ? m.name || '' : '' });

        if (m && m.set) {
            fields.push({ name: 'mailbox_clear', type: 'checkbox',
                          label: t('acc.mailbox.clear') });
        }
    }

    fields.push({ name: 'enabled', type: 'checkbox',
                  label: t('common.enabled'),
                  value: edit ? a.enabled : true });

    formDialog(edit ? t('acc.edit') : t('acc.add'), fields, async (v) => {
        const body = {};

        if (!edit) {
            for (const k of ['name', 'team_id', 'csesidx', 'secure_c_ses',
                             'host_c_oses', 'user_agent', 'proxy'])
            {
                const x = v[k].trim();

                if (x !== '') {
                    body[k] = x;
                }
            }

            if (mailboxes) {
                for (const k of ['tempmail_url', 'tempmail_name']) {
                    if (v[k].trim() !== '') {
                        body[k] = v[k].trim();
                    }
                }
            }

            body.enabled = v.enabled;
            await api('POST', 'accounts', body);
            toast(t('acc.added'));

        } else {
            for (const k of ['name', 'team_id', 'csesidx', 'user_agent']) {
                if (v[k].trim() !== (a[k] || '')) {
                    body[k] = v[k].trim();
                }
            }

            for (const k of ['secure_c_ses', 'host_c_oses', 'proxy']) {
                if (v[k].trim() !== '') {
                    body[k] = v[k].trim();
                }
            }

            if (v.proxy_clear) {
                body.proxy = '';
            }

            if (mailboxes) {
                const m = a.mailbox || {};

                if (v.tempmail_url.trim() !== '') {
                    body.tempmail_url = v.tempmail_url.trim();
                }

                if (v.tempmail_name.trim() !== (m.set ? m.name || '' : '')) {
                    body.tempmail_name = v.tempmail_name.trim();
                }

                if (v.mailbox_clear) {
                    body.tempmail_url = '';
                    body.tempmail_name = '';
                }
            }

            if (v.enabled !== !!a.enabled) {
                body.enabled = v.enabled;
            }

            if (!Object.keys(body).length) {
                toast(t('settings.none_changed'));
                return;
            }

            const r = await api('PATCH', 'accounts/id:' + a.id, body);
            toast(r && r.renewed ? t('acc.renewed') : t('common.saved'));
        }

        await accounts.load();
    }, { note: edit ? t('acc.secret.note') : null,
         top: edit ? null : pastePanel });
}

async function accountQuota(a) {
    const q = await api('GET', 'accounts/id:' + a.id + '/quota');
    const rows = ['text', 'images', 'videos'].map((k) => {
        const x = (q.quota || {})[k] || {};

        return el('tr', null,
                  el('th', { text: t('acc.quota.' + k) }),
                  el('td', { text: x.seconds > 0
                      ? t('acc.quota.until', { time: fmtTime(x.until),
                                               left: fmtLeft(x.seconds) })
                      : t('acc.quota.ready') }));
    });

    if (q.cookie_expired) {
        rows.unshift(el('tr', null,
                        el('th', { text: t('acc.state') }),
                        el('td', { text: t('acc.expired') })));
    }

    infoDialog(t('acc.quota.title', { name: a.name || '#' + a.id }),
               el('table', { class: 'kv' }, el('tbody', null, rows)));
}

/*
 * POST /api/mailbox/check: what the account's mailbox holds now (address,
 * API base, newest mail, a code in it), shown field by field as text
 */
async function mailboxCheck(a) {
    const r = await api('POST', 'mailbox/check', { account: 'id:' + a.id });
    const rows = [];
    const add = (k, v) => {
        if (v !== null && typeof v === 'object') {
            for (const [k2, v2] of Object.entries(v)) {
                add(k + '.' + k2, v2);
            }
            return;
        }

        rows.push(el('tr', null, el('th', { class: 'mono', text: k }),
                     el('td', { class: 'mono',
                                text: v === null || v === undefined
                                      ? '–' : String(v) })));
    };

    for (const [k, v] of Object.entries(r || {})) {
        add(k, v);
    }

    infoDialog(t('acc.mailbox.check.title', { name: a.name || '#' + a.id }),
               el('table', { class: 'kv mailbox-check' },
                  el('tbody', null, rows)));
}

const PAGE = 50;
const POLL_MS = 5000;

const SORTS = ['index', 'name', 'state', 'requests', 'failures', 'last_used',
               'cooldown'];
const STATES = ['available', 'cooling', 'expired', 'disabled'];


function stateLabel(a) {
    return { available: t('acc.available'), cooling: t('acc.cooling'),
             expired: t('acc.expired'), disabled: t('acc.off') }[a.state]
           || accountState(a)[1];
}

function stateClass(a) {
    return { available: 'ok', cooling: 'cooling', expired: 'expired',
             disabled: 'off' }[a.state] || accountState(a)[0];
}

/* the running countdowns of a row: "Text 4m 10s" for each quota */
function cooldownNodes(a) {
    const cool = a.cooldown_until || {};
    const n = now();
    const list = ['text', 'images', 'videos'].filter((k) => (cool[k] || 0) > n);

    if (!list.length) {
        return ['–'];
    }

    return list.map((k) => el('div', null, t('acc.quota.' + k) + ' ',
                              el('span', { class: 'countdown',
                                           dataset: { until: cool[k] },
                                           text: fmtLeft(cool[k] - n) })));
}

/* "Zm 3s ago" and the like, as a time the operator reads at once */
function when(sec) {
    return sec ? fmtTime(sec) : '';
}

export const accounts = {
    error: null,
    loading: false,

    /* the page on screen and how it was asked for */
    q: '',
    filter: '',
    sort: 'index',
    order: 'asc',
    offset: 0,
    rows: [],
    total: 0,
    all: 0,
    states: null,

    /* the selection: ids, or every account that matches the search */
    selected: new Set(),
    allMatching: false,

    progress: null,
    ticks: 0,
    searchTimer: null,
    listeners: null,

    enter() {
        startLive();

        if (!this.listeners) {
            this.listeners = [
                onLive('accounts', (d) => this.liveRows(d)),
                onLive('progress', (d) => this.liveProgress(d)),
                onLive('mode', () => this.renderMode()),
            ];
        }
    },

    query(extra) {
        const p = new URLSearchParams({ offset: this.offset, limit: PAGE,
                                        sort: this.sort, order: this.order });

        if (this.q) {
            p.set('q', this.q);
        }

        if (this.filter) {
            p.set('state', this.filter);
        }

        for (const [k, v] of Object.entries(extra || {})) {
            p.set(k, v);
        }

        return 'accounts?' + p.toString();
    },

    async fetch() {
        try {
            const d = await api('GET', this.query());

            this.rows = d.accounts || [];
            this.total = d.total !== undefined ? d.total : this.rows.length;
            this.all = d.all !== undefined ? d.all : this.rows.length;
            this.states = d.states || null;
            this.error = null;

            if (this.offset && this.offset >= this.total) {
                /* the page is gone (a delete, a narrower search) */
                this.offset = Math.max(0, this.total - PAGE);
                return this.fetch();
            }
        } catch (e) {
            this.error = errText(e);
        }
    },

    async load() {
        this.loading = true;

        try {
            await Promise.all([this.fetch(), loadRelogin()]);
        } finally {
            this.loading = false;
        }

        if (state.view === 'accounts') {
            this.renderList();
        }

        this.startTimer();
    },

    /* each second: the countdowns; without the stream, a poll each 5 s */
    startTimer() {
        if (state.timer || state.view !== 'accounts') {
            return;
        }

        state.timer = setInterval(() => {
            this.ticks++;
            this.tickCountdowns();

            if (live.mode !== 'sse' && this.ticks % (POLL_MS / 1000) === 0
                && !document.hidden && !this.loading)
            {
                this.load();
            }
        }, 1000);
    },

    tickCountdowns() {
        const n = now();
        let ended = false;

        document.querySelectorAll('#view-accounts .countdown')
            .forEach((c) => {
                const left = Number(c.dataset.until) - n;

                c.textContent = fmtLeft(left);

                if (left <= 0 && !c.dataset.ended) {
                    c.dataset.ended = '1';
                    ended = true;
                }
            });

        if (ended && live.mode !== 'sse') {
            this.load();
        }
    },

    /* a new answer of GET /api/relogin: while logins run (and once when
       they end) the accounts are read again, their state has moved */
    async polled(s, was) {
        if (this.loading || state.view !== 'accounts') {
            return;
        }

        if (busyNow(s) || was) {
            await this.fetch();
        }

        if (state.view === 'accounts') {
            this.renderList();
        }
    },

    /* rows from the event stream: the ones on this page are replaced */
    liveRows(d) {
        if (state.view !== 'accounts') {
            return;
        }

        if (d.reload || (d.removed && d.removed.length)) {
            this.refetchSoon();
            return;
        }

        let sortMoved = false;

        for (const row of d.accounts || []) {
            const i = this.rows.findIndex((a) => a.id === row.id);

            if (i < 0) {
                /* a new account, or one that now matches the filter */
                sortMoved = true;
                continue;
            }

            const old = this.rows[i];
            const merged = Object.assign({}, old, row);

            /* what only the list's own answer carries stays */
            merged.mailbox = old.mailbox;
            this.rows[i] = merged;

            if (this.filter && merged.state !== this.filter) {
                sortMoved = true;
            }

            const tr = document.querySelector(
                '#view-accounts tr[data-id="' + Number(row.id) + '"]');

            if (tr) {
                tr.replaceWith(this.rowEl(merged));
            }
        }

        if (sortMoved || (this.sort !== 'index' && this.sort !== 'name')) {
            this.refetchSoon();
        }
    },

    refetchSoon() {
        clearTimeout(this.refetchTimer);
        this.refetchTimer = setTimeout(async () => {
            if (state.view === 'accounts' && !this.loading) {
                await this.fetch();
                this.renderList();
            }
        }, 300);
    },

    liveProgress(d) {
        this.progress = d;
        this.renderProgress();
    },

    renderMode() {
        const m = document.getElementById('acc-live');

        if (m) {
            m.className = 'live-mode ' + live.mode;
            m.textContent = live.mode === 'sse' ? t('acc.live.on')
                                                : t('acc.live.poll');
        }
    },

    renderProgress() {
        const box = document.getElementById('acc-progress');
        const p = this.progress;

        if (!box) {
            return;
        }

        clear(box);
        box.hidden = !p;

        if (!p) {
            return;
        }

        box.append(
            el('progress', { max: p.total || 1, value: p.done || 0 }),
            el('span', { text: t(p.finished ? 'acc.bulk.tested'
                                            : 'acc.bulk.progress',
                                 { done: p.done, total: p.total,
                                   ok: p.ok, failed: p.failed }) }));
    },

    /* the ids a bulk action takes: the selection, or all that match */
    async bulkIds() {
        if (!this.allMatching) {
            return Array.from(this.selected);
        }

        const d = await api('GET', this.query({ ids: 1, limit: 1,
                                                offset: 0 }));

        return d.ids || [];
    },

    async bulk(action, btn) {
        const n = this.allMatching ? this.total : this.selected.size;

        if (!n) {
            return;
        }

        if (action === 'delete'
            && !await ask(t('acc.bulk.delete.confirm', { n: fmtNum(n) }),
                          t('common.delete')))
        {
            return;
        }

        await busy(btn, async () => {
            const ids = await this.bulkIds();

            if (action === 'test') {
                this.progress = { kind: 'test', total: ids.length, done: 0,
                                  ok: 0, failed: 0 };
                this.renderProgress();
            }

            const r = await api('POST', 'accounts/bulk', { action, ids });

            if (action === 'test') {
                this.progress = { kind: 'test', total: ids.length,
                                  done: ids.length, ok: r.ok,
                                  failed: r.failed, finished: 1 };
                this.renderProgress();
            }

            toast(t('acc.bulk.done', { action: t('acc.bulk.' + action),
                                       ok: fmtNum(r.ok),
                                       failed: fmtNum(r.failed) }),
                  r.failed ? 'error' : undefined);

            if (action === 'delete') {
                this.selected.clear();
                this.allMatching = false;
            }

            await this.load();
        });
    },

    setSort(key) {
        if (this.sort === key) {
            this.order = this.order === 'asc' ? 'desc' : 'asc';
        } else {
            this.sort = key;
            this.order = key === 'requests' || key === 'failures'
                         || key === 'last_used' || key === 'cooldown'
                         ? 'desc' : 'asc';
        }

        this.offset = 0;
        this.load();
    },

    render() {
        const s = clear(section('accounts'));

        const all = relogin.missing ? null
            : el('button', { id: 'relogin-all', type: 'button',
                             class: 'ghost', text: t('rl.refresh_all') });

        if (all) {
            all.addEventListener('click', () => busy(all, refreshAll));
        }

        s.append(head(t('acc.title'),
                      el('span', { id: 'acc-live', class: 'live-mode' }),
                      button(t('common.refresh'), () => this.load()),
                      all,
                      el('button', { id: 'account-add', type: 'button',
                                     class: 'primary', text: t('acc.add'),
                                     onclick: () => accountForm(null) })));

        const search = el('input', {
            id: 'acc-search', type: 'search', value: this.q,
            placeholder: t('acc.search.placeholder'),
            'aria-label': t('acc.search.placeholder'),
            oninput: (ev) => {
                clearTimeout(this.searchTimer);
                this.searchTimer = setTimeout(() => {
                    this.q = ev.target.value.trim();
                    this.offset = 0;
                    this.allMatching = false;
                    this.load();
                }, 250);
            },
        });

        const filter = el('select', {
            id: 'acc-filter', 'aria-label': t('acc.state'),
            onchange: (ev) => {
                this.filter = ev.target.value;
                this.offset = 0;
                this.allMatching = false;
                this.load();
            },
        }, el('option', { value: '', text: t('acc.filter.all') }),
           STATES.map((k) => el('option', {
               value: k, selected: this.filter === k,
               text: stateLabel({ state: k }) })));

        const sort = el('select', {
            id: 'acc-sort', 'aria-label': t('acc.sort'),
            onchange: (ev) => this.setSort(ev.target.value),
        }, SORTS.map((k) => el('option', { value: k,
                                           selected: this.sort === k,
                                           text: t('acc.sort.' + k) })));

        const order = el('button', {
            id: 'acc-order', type: 'button', class: 'ghost',
            text: this.order === 'asc' ? '↑' : '↓',
            title: t('acc.order.' + this.order),
            'aria-label': t('acc.order.' + this.order),
            onclick: () => this.setSort(this.sort),
        });

        s.append(el('div', { class: 'acc-toolbar' }, search, filter, sort,
                    order));

        s.append(el('div', { id: 'acc-progress', class: 'acc-progress',
                             hidden: true }));
        s.append(el('div', { id: 'acc-list' }));

        this.renderMode();
        this.renderProgress();
        this.renderList();
    },

    renderBulk() {
        const n = this.allMatching ? this.total : this.selected.size;
        const bar = el('div', { id: 'acc-bulk', class: 'acc-bulk' });

        bar.append(el('span', { id: 'acc-selected',
                                text: t('acc.selected', { n: fmtNum(n) }) }));

        if (!this.allMatching && this.total > this.rows.length
            && this.rows.length && this.rows.every((a) =>
                   this.selected.has(a.id)))
        {
            bar.append(button(t('acc.select_all_matching',
                                { n: fmtNum(this.total) }),
                              () => { this.allMatching = true;
                                      this.renderList(); },
                              'ghost small select-all-matching'));
        }

        for (const [action, cls] of [['enable', 'ghost small'],
                                     ['disable', 'ghost small'],
                                     ['test', 'ghost small'],
                                     ['delete', 'danger small']])
        {
            const b = el('button', { type: 'button', class: cls,
                                     dataset: { bulk: action },
                                     disabled: !n,
                                     text: t('acc.bulk.' + action) });

            b.addEventListener('click', () => this.bulk(action, b));
            bar.append(b);
        }

        if (n) {
            bar.append(button(t('acc.bulk.clear'), () => {
                this.selected.clear();
                this.allMatching = false;
                this.renderList();
            }, 'ghost small'));
        }

        return bar;
    },

    renderList() {
        const box = document.getElementById('acc-list');

        if (!box) {
            return;
        }

        clear(box);

        if (this.error) {
            box.append(el('p', { class: 'notice error', text: this.error }));
        }

        box.append(progressPanel());

        const st = this.states;

        box.append(el('p', { id: 'acc-count', class: 'muted' },
            t('acc.matching', { n: fmtNum(this.total),
                                all: fmtNum(this.all) }),
            st ? ' · ' + STATES.map((k) => stateLabel({ state: k }) + ' '
                                           + fmtNum(st[k] || 0)).join(', ')
               : ''));

        box.append(this.renderBulk());

        if (!this.rows.length) {
            box.append(el('p', { class: 'empty',
                                 text: this.q || this.filter
                                       ? t('acc.none_match')
                                       : t('empty.accounts') }));
            return;
        }

        const pageBox = el('input', {
            type: 'checkbox', id: 'acc-select-page',
            'aria-label': t('acc.select_page'),
            checked: this.allMatching
                     || this.rows.every((a) => this.selected.has(a.id)),
            onchange: (ev) => {
                this.allMatching = false;

                for (const a of this.rows) {
                    if (ev.target.checked) {
                        this.selected.add(a.id);
                    } else {
                        this.selected.delete(a.id);
                    }
                }

                this.renderList();
            },
        });

        const th = (label, key) => {
            if (!key) {
                return el('th', { text: label });
            }

            const on = this.sort === key;

            return el('th', { 'aria-sort': on ? (this.order === 'asc'
                                                 ? 'ascending'
                                                 : 'descending') : null },
                      el('button', { type: 'button', class: 'th-sort',
                                     dataset: { sort: key },
                                     onclick: () => this.setSort(key) },
                         label + (on ? (this.order === 'asc' ? ' ↑' : ' ↓')
                                     : '')));
        };

        box.append(el('div', { class: 'table-wrap' },
            el('table', { class: 'grid accounts accounts-list' },
               el('thead', null, el('tr', null,
                  el('th', { class: 'pick' }, pageBox, ' ',
                     el('button', { type: 'button', class: 'th-sort',
                                    dataset: { sort: 'index' },
                                    onclick: () => this.setSort('index') },
                        t('acc.index') + (this.sort === 'index'
                            ? (this.order === 'asc' ? ' ↑' : ' ↓') : ''))),
                  th(t('common.name'), 'name'),
                  th(t('acc.team_id') + ' / ' + t('acc.csesidx')),
                  th(t('acc.cookies')),
                  th(t('acc.state'), 'state'),
                  th(t('acc.cooldowns'), 'cooldown'),
                  th(t('acc.requests') + ' / ' + t('acc.failures'),
                     'requests'),
                  th(t('acc.last_used'), 'last_used'),
                  th(t('acc.spares')),
                  th(t('acc.last_error')),
                  th(t('acc.toggle')),
                  th(t('common.actions')))),
               el('tbody', null, this.rows.map((a) => this.rowEl(a))))));

        const from = this.total ? this.offset + 1 : 0;
        const to = Math.min(this.offset + this.rows.length, this.total);

        box.append(el('div', { class: 'pager' },
            el('button', { type: 'button', class: 'ghost', id: 'acc-prev',
                           text: t('acc.page.prev'),
                           disabled: this.offset === 0,
                           onclick: () => {
                               this.offset = Math.max(0, this.offset - PAGE);
                               this.load();
                           } }),
            el('span', { id: 'acc-page',
                         text: t('acc.page', { from: fmtNum(from),
                                               to: fmtNum(to),
                                               total: fmtNum(this.total) })
                       }),
            el('button', { type: 'button', class: 'ghost', id: 'acc-next',
                           text: t('acc.page.next'),
                           disabled: to >= this.total,
                           onclick: () => {
                               this.offset += PAGE;
                               this.load();
                           } })));
    },

    rowEl(a) {
        const name = a.name || '#' + a.id;
        const label = (k) => ({ 'data-label': t(k) });

        const pick = el('input', {
            type: 'checkbox', class: 'row-pick',
            'aria-label': t('acc.select_row', { name }),
            checked: this.allMatching || this.selected.has(a.id),
            onchange: (ev) => {
                if (this.allMatching) {
                    /* from "all that match" to this page's choice */
                    this.allMatching = false;
                    this.rows.forEach((r) => this.selected.add(r.id));
                }

                if (ev.target.checked) {
                    this.selected.add(a.id);
                } else {
                    this.selected.delete(a.id);
                }

                const bar = document.getElementById('acc-bulk');

                if (bar) {
                    bar.replaceWith(this.renderBulk());
                }
            },
        });

        const toggle = el('input', {
            type: 'checkbox', class: 'switch', checked: !!a.enabled,
            'aria-label': t('acc.toggle'),
            onchange: (ev) => busy(ev.target, async () => {
                try {
                    await api('POST', 'accounts/id:' + a.id + '/toggle', {});
                } finally {
                    await this.load();
                }
            }),
        });

        const test = el('button', { type: 'button', class: 'ghost small',
                                    text: t('acc.test') });
        test.addEventListener('click', () => busy(test, async () => {
            const r = await api('POST', 'accounts/id:' + a.id + '/test', {});

            if (r.ok) {
                toast(t('acc.test.ok', { name, status: r.status }));
            } else {
                toast(t('acc.test.fail', { name, status: r.status,
                                           error: r.error || '' }),
                      'error');
            }

            if (live.mode !== 'sse') {
                await this.load();
            }
        }));

        const rl = reloginBadge(a);
        let refresh = null;

        if (a.mailbox !== undefined && !relogin.missing) {
            const running = rl && (rl[0] === 'refreshing'
                                   || rl[0] === 'queued');

            refresh = el('button', {
                type: 'button', class: 'ghost small refresh',
                text: t('rl.refresh'),
                disabled: !a.mailbox || !a.mailbox.set || running,
                title: !a.mailbox || !a.mailbox.set
                       ? t('rl.refresh.no_mailbox') : null });
            refresh.addEventListener('click',
                () => busy(refresh, () => refreshNow(a)));
        }

        const label1 = stateLabel(a);
        const tst = a.test;

        return el('tr', { dataset: { id: a.id, state: a.state || '' } },
            el('td', { class: 'pick' }, pick, ' ' + a.index),
            el('td', Object.assign({ class: 'name', text: a.name },
                                   label('common.name'))),
            el('td', label('acc.team_id'),
               el('div', { class: 'mono', text: a.team_id }),
               el('div', { class: 'mono muted', text: a.csesidx })),
            el('td', label('acc.cookies'),
               el('div', { text: 'C_SES: ' + (a.secure_c_ses_set
                   ? t('acc.cookie_set') : t('acc.cookie_unset')) }),
               el('div', { text: 'C_OSES: ' + (a.host_c_oses_set
                   ? t('acc.cookie_set') : t('acc.cookie_unset')) }),
               a.proxy ? el('div', { class: 'mono muted',
                                     text: a.proxy }) : null,
               a.mailbox !== undefined
               ? el('div', { class: 'mailbox muted',
                             text: t('acc.mailbox') + ': '
                                   + mailboxText(a.mailbox) })
               : null),
            el('td', Object.assign({ class: 'state' }, label('acc.state')),
               el('span', { class: 'badge ' + stateClass(a), text: label1 }),
               rl && rl[1] !== label1
               ? el('span', { class: 'badge relogin ' + rl[0],
                              text: rl[1] }) : null,
               rl && rl[2] ? el('div', { class: 'relogin-detail muted',
                                         text: rl[2] }) : null,
               tst ? el('div', { class: 'test-result '
                                        + (tst.ok ? 'ok' : 'fail'),
                                 text: t(tst.ok ? 'acc.test.passed'
                                                : 'acc.test.failed',
                                         { status: tst.status,
                                           time: when(tst.at) }) })
                   : null),
            el('td', Object.assign({ class: 'cooldowns' },
                                   label('acc.cooldowns')),
               cooldownNodes(a)),
            el('td', Object.assign({ class: 'num',
                                     text: fmtNum(a.requests) + ' / '
                                           + fmtNum(a.failures) },
                                   label('acc.requests'))),
            el('td', Object.assign({ class: 'last-used',
                                     text: a.last_used ? when(a.last_used)
                                                       : '–' },
                                   label('acc.last_used'))),
            el('td', Object.assign({ class: 'num spares',
                                     text: fmtNum(a.spare_sessions || 0) },
                                   label('acc.spares'))),
            el('td', Object.assign({ class: 'error-text' },
                                   label('acc.last_error')),
               a.last_error ? el('div', { class: 'last-error',
                                          text: a.last_error }) : '–',
               a.last_error && a.last_error_at
               ? el('div', { class: 'muted error-at',
                             text: t('acc.error.at',
                                     { time: when(a.last_error_at) }) })
               : null),
            el('td', label('acc.toggle'), toggle),
            el('td', { class: 'row-actions' },
               button(t('common.edit'), () => accountForm(a),
                      'ghost small'),
               test,
               refresh,
               a.mailbox && a.mailbox.set
               ? button(t('acc.mailbox.check'),
                        () => mailboxCheck(a).catch(fail), 'ghost small')
               : null,
               button(t('acc.quota'),
                      () => accountQuota(a).catch(fail), 'ghost small'),
               button(t('common.delete'), async () => {
                   if (!await ask(t('acc.delete.confirm', { name }),
                                  t('common.delete')))
                   {
                       return;
                   }

                   try {
                       await api('DELETE', 'accounts/id:' + a.id);
                       toast(t('common.deleted'));
                   } catch (e) {
                       fail(e);
                   }

                   this.selected.delete(a.id);
                   await this.load();
               }, 'danger small')));
    },
};

onRelogin((s, was) => accounts.polled(s, was));
