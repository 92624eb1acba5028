/*
 * The accounts view: the list, add (with the paste box of
 * accounts-paste.js) and edit (with the mailbox of the re-login),
 * enable, live test, quota, delete; the re-login state of each
 * account, "refresh now", "refresh all expired" and the live progress
 * (js/relogin.js polls while a login runs).
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
import { table, head, button, busy } from '../widgets.js';
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

export const accounts = {
    error: null,
    loading: false,

    async fetch() {
        try {
            const d = await api('GET', 'accounts');
            state.accounts = d.accounts || [];
            this.error = null;
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
            this.render();
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
            this.render();
        }
    },

    render() {
        const s = clear(section('accounts'));
        const n = now();

        const all = relogin.missing ? null
            : el('button', { id: 'relogin-all', type: 'button',
                             class: 'ghost', text: t('rl.refresh_all') });

        if (all) {
            all.addEventListener('click', () => busy(all, refreshAll));
        }

        s.append(head(t('acc.title'),
                      button(t('common.refresh'), () => this.load()),
                      all,
                      el('button', { id: 'account-add', type: 'button',
                                     class: 'primary', text: t('acc.add'),
                                     onclick: () => accountForm(null) })));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        s.append(progressPanel());

        const rows = state.accounts.map((a) => {
            const [cls, label] = accountState(a);
            const cool = a.cooldown_until || {};
            const cools = ['text', 'images', 'videos']
                .filter((k) => (cool[k] || 0) > n)
                .map((k) => t('acc.quota.' + k) + ' '
                            + fmtLeft(cool[k] - n));

            const toggle = el('input', {
                type: 'checkbox', class: 'switch', checked: !!a.enabled,
                'aria-label': t('acc.toggle'),
                onchange: (ev) => busy(ev.target, async () => {
                    try {
                        await api('POST', 'accounts/id:' + a.id + '/toggle',
                                  {});
                    } finally {
                        await this.load();
                    }
                }),
            });

            const test = el('button', { type: 'button', class: 'ghost small',
                                        text: t('acc.test') });
            test.addEventListener('click', () => busy(test, async () => {
                const r = await api('POST', 'accounts/id:' + a.id + '/test',
                                    {});
                const name = a.name || '#' + a.id;

                if (r.ok) {
                    toast(t('acc.test.ok', { name, status: r.status }));
                } else {
                    toast(t('acc.test.fail', { name, status: r.status,
                                               error: r.error || '' }),
                          'error');
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

            return el('tr', { dataset: { id: a.id } },
                el('td', { text: a.index }),
                el('td', { class: 'name', text: a.name }),
                el('td', null,
                   el('div', { class: 'mono', text: a.team_id }),
                   el('div', { class: 'mono muted', text: a.csesidx })),
                el('td', null,
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
                el('td', { class: 'state' },
                   el('span', { class: 'badge ' + cls, text: label }),
                   rl && rl[1] !== label
                   ? el('span', { class: 'badge relogin ' + rl[0],
                                  text: rl[1] }) : null,
                   rl && rl[2] ? el('div', { class: 'relogin-detail muted',
                                             text: rl[2] }) : null),
                el('td', { text: cools.join(', ') || '–' }),
                el('td', { class: 'num',
                           text: fmtNum(a.requests) + ' / '
                                 + fmtNum(a.failures) }),
                el('td', { class: 'num spares',
                           text: fmtNum(a.spare_sessions || 0) }),
                el('td', { class: 'error-text', text: a.last_error || '' }),
                el('td', null, toggle),
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
                       if (!await ask(t('acc.delete.confirm',
                                        { name: a.name || '#' + a.id }),
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

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('acc.index'), t('common.name'),
                        t('acc.team_id') + ' / ' + t('acc.csesidx'),
                        t('acc.cookies'), t('acc.state'), t('acc.cooldowns'),
                        t('acc.requests') + ' / ' + t('acc.failures'),
                        t('acc.spares'), t('acc.last_error'), t('acc.toggle'),
                        t('common.actions')], rows,
                       { cls: 'accounts', empty: t('empty.accounts') }));
    },
};

onRelogin((s, was) => accounts.polled(s, was));
