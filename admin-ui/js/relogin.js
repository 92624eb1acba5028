/*
 * Re-login, the part the views share: the state of GET /api/relogin
 * (automatic re-login, sync-only, Chromium, the logins running and
 * queued), polled every 2 s while a login runs (and for a while after the
 * operator queued one), every 10 s while logins only wait in the queue
 * (a failed one waits for cookie_retry_interval), not at all when idle; the sync-only badge of the header; an account's re-login
 * state as a badge and a line; "refresh now" and "refresh all expired".
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../i18n.js';
import { el, $ } from './dom.js';
import { state } from './state.js';
import { api, errText } from './api.js';
import { now, fmtTime, fmtLeft } from './format.js';
import { toast } from './toast.js';


export const POLL_MS = 2000;
export const QUEUE_POLL_MS = 10000;
export const EAGER_MS = 10000;   /* fast polls after "refresh now" */

export const relogin = {
    status: null,       /* the last answer of GET /api/relogin */
    missing: false,     /* the server has no re-login API (404) */
    error: null,
    timer: null,
    polls: 0,           /* answers received */
    eager: 0,           /* poll fast until then (ms since the epoch) */
    listeners: [],
};

/* something runs or waits: keep polling */
export function busyNow(s) {
    return !!s && ((s.running || []).length > 0
                   || (s.queue || []).length > 0);
}

/* how soon to ask again; 0: idle, no polling */
function pollDelay(s) {
    if (!s) {
        return 0;
    }

    if ((s.running || []).length > 0) {
        return POLL_MS;
    }

    if ((s.queue || []).length > 0) {
        return Date.now() < relogin.eager ? POLL_MS : QUEUE_POLL_MS;
    }

    return 0;
}

/* fn(status, wasBusy) after every answer; returns the unsubscriber */
export function onRelogin(fn) {
    relogin.listeners.push(fn);

    return () => {
        relogin.listeners = relogin.listeners.filter((f) => f !== fn);
    };
}

function stopPolling() {
    if (relogin.timer) {
        clearTimeout(relogin.timer);
        relogin.timer = null;
    }
}

function syncBadge() {
    const b = $('#sync-only');

    if (b) {
        b.hidden = !(state.authed && relogin.status
                     && relogin.status.sync_only);
        b.textContent = t('rl.sync_only');
        b.title = t('rl.sync_only.title');
    }
}

/* changed: the caller has just changed something (a refresh queued),
   so the listeners read the accounts again even if it ended at once */
export async function loadRelogin(changed) {
    const was = changed === true || busyNow(relogin.status);

    if (changed === true) {
        relogin.eager = Date.now() + EAGER_MS;
    }

    stopPolling();

    if (!state.authed) {
        relogin.status = null;
        syncBadge();
        return;
    }

    try {
        relogin.status = await api('GET', 'relogin');
        relogin.missing = false;
        relogin.error = null;
    } catch (e) {
        relogin.status = null;
        relogin.missing = e.status === 404;
        relogin.error = relogin.missing ? null : errText(e);
    }

    relogin.polls++;
    syncBadge();

    const delay = pollDelay(relogin.status);

    if (delay && state.authed && !relogin.timer) {
        relogin.timer = setTimeout(() => {
            relogin.timer = null;
            loadRelogin(false);
        }, delay);
    }

    for (const fn of relogin.listeners.slice()) {
        fn(relogin.status, was);
    }
}

/* the running login of an account, from the last status */
export function runningOf(id) {
    const s = relogin.status;

    return s ? (s.running || []).find((r) => r.account === id) : undefined;
}

/*
 * An account's re-login state: [badge class, badge text, detail line]
 * or null when it is valid (the account's ordinary state shows then).
 */
export function reloginBadge(a) {
    const r = a.relogin;

    if (!r || !r.state || r.state === 'valid') {
        return null;
    }

    const run = runningOf(a.id);

    switch (r.state) {
    case 'refreshing': {
        const step = (run && run.step) || r.step || '';
        const since = run && run.started
                      ? ' (' + fmtLeft(now() - run.started) + ')' : '';

        return ['refreshing', t('rl.refreshing'),
                step ? t('rl.step', { step }) + since : since.trim()];
    }

    case 'queued':
        return ['queued', t('rl.queued'), ''];

    case 'failed': {
        const f = r.last_failure || {};
        const parts = [];

        if (f.status || f.reason) {
            parts.push(t('rl.failed.detail', { status: f.status || '',
                                               reason: f.reason || '' }));
        }

        if (r.next_try) {
            parts.push(t('rl.next_try', { time: fmtTime(r.next_try) }));
        }

        return ['failed', t('rl.failed'), parts.join(' · ')];
    }

    default:
        return ['expired', t('acc.expired'),
                r.expired_since
                ? t('rl.expired_since', { time: fmtTime(r.expired_since) })
                : ''];
    }
}

/* POST /api/accounts/id:N/refresh-cookie */
export async function refreshNow(a) {
    const name = a.name || '#' + a.id;

    await api('POST', 'accounts/id:' + a.id + '/refresh-cookie', {});
    toast(t('rl.refresh.queued', { name }));
    await loadRelogin(true);
}

/* POST /api/accounts/auto-refresh-all */
export async function refreshAll() {
    const r = await api('POST', 'accounts/auto-refresh-all', {});

    toast(t('rl.refresh_all.done', { n: r.queued || 0 }));
    await loadRelogin(true);
}

/* the live panel: what runs, what waits, the next check, Chromium */
export function progressPanel() {
    const s = relogin.status;

    if (!s) {
        return relogin.error
               ? el('p', { class: 'notice error', text: relogin.error })
               : null;
    }

    const running = s.running || [];
    const queue = s.queue || [];
    const lines = [];

    for (const r of running) {
        lines.push(el('li', { class: 'running',
                              dataset: { account: r.account } },
                      el('span', { class: 'spinner', 'aria-hidden': 'true' }),
                      el('b', { text: r.name || '#' + r.account }), ' ',
                      t('rl.running.item', {
                          step: r.step || '…',
                          elapsed: r.started
                                   ? fmtLeft(now() - r.started) : '–' })));
    }

    if (queue.length) {
        lines.push(el('li', { class: 'queue',
                              text: t('rl.queue', {
                                  names: queue.map((q) => q.name
                                                   || '#' + q.account)
                                              .join(', ') }) }));
    }

    const facts = [
        t(s.auto ? 'rl.auto.on' : 'rl.auto.off'),
        s.next_check ? t('rl.next_check', { time: fmtTime(s.next_check) })
                     : null,
        s.last_check ? t('rl.last_check', { time: fmtTime(s.last_check) })
                     : null,
    ].filter(Boolean).join(' · ');

    const browser = s.browser || {};

    return el('div', { class: 'card relogin relogin-progress'
                              + (running.length ? ' busy' : ''),
                       'aria-live': 'polite' },
              el('div', { class: 'relogin-head' },
                 el('strong', { text: running.length ? t('rl.progress')
                                      : queue.length ? t('rl.waiting')
                                      : t('rl.idle') }),
                 el('span', { class: 'muted', text: facts })),
              lines.length ? el('ul', { class: 'relogin-list' }, lines)
                           : null,
              browser.ok === false
              ? el('p', { class: 'notice error browser',
                          text: t('rl.browser.error',
                                  { error: browser.error || '?' }) })
              : null);
}
