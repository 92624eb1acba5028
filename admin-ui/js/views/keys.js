/*
 * The API keys view: create (a name required; each new key shown once in
 * its own box, kept in memory only until that box is dismissed; the form
 * cleared), the list, stats, the key's logs, revoke, delete.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { now, fmtTime, fmtNum } from '../format.js';
import { toast, fail } from '../toast.js';
import { ask, infoDialog } from '../dialogs.js';
import { table, head, button, cached } from '../widgets.js';
import { showKeyLogs } from './logs.js';


function keyState(k) {
    if (!k.enabled) {
        return ['off', t('keys.state.revoked')];
    }

    if (k.expires_at && k.expires_at <= now()) {
        return ['expired', t('keys.state.expired')];
    }

    return ['ok', t('keys.state.active')];
}

async function keyStats(k) {
    const d = await api('GET', 'keys/' + k.id + '/stats');
    const row = (label, v) => el('tr', null, el('th', { text: label }),
                                 el('td', { class: 'num', text: v }));

    infoDialog(t('keys.stats.title', { name: d.name || '#' + d.id }),
        el('table', { class: 'kv', id: 'key-stats' }, el('tbody', null,
            row(t('keys.stats.requests'), fmtNum(d.requests)),
            row(t('keys.stats.minute'), fmtNum(d.requests_this_minute)),
            row(t('keys.stats.today'), fmtNum(d.requests_today)),
            row(t('keys.stats.calls'), fmtNum(d.logged_calls)),
            row(t('keys.stats.errors'), fmtNum(d.logged_errors)),
            row(t('keys.stats.prompt'), fmtNum(d.prompt_tokens)),
            row(t('keys.stats.completion'), fmtNum(d.completion_tokens)),
            row(t('keys.last_used'), fmtTime(d.last_used_at)))));
}

async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch (e) {
        /* no clipboard permission: select and copy the old way */
        const ta = el('textarea', { class: 'offscreen', value: text,
                                    readonly: true });
        document.body.append(ta);
        ta.select();

        let ok = false;

        try {
            ok = document.execCommand('copy');
        } catch (e2) {
            ok = false;
        }

        ta.remove();
        return ok;
    }
}

function newKeyBox(k) {
    const value = el('input', { class: 'new-key-value mono',
                                type: 'text', readonly: true, value: k.key,
                                'aria-label': t('keys.new.title'),
                                onfocus: (ev) => ev.target.select() });

    return el('div', { class: 'new-key card highlight',
                       dataset: { id: k.id } },
        el('h2', { text: t('keys.new.title') + (k.name ? ': ' + k.name
                                                       : '') }),
        el('div', { class: 'copy-row' }, value,
           el('button', { class: 'new-key-copy primary', type: 'button',
                          text: t('common.copy'),
                          onclick: async () => {
                              value.select();
                              toast(await copyText(k.key)
                                    ? t('common.copied')
                                    : t('keys.new.once'));
                          } })),
        el('p', { class: 'warn-text', text: t('keys.new.once') }),
        el('button', { class: 'new-key-done ghost', type: 'button',
                       text: t('keys.new.done'),
                       onclick: () => {
                           state.newKeys = state.newKeys.filter(
                               (x) => x !== k);
                           keys.render();
                       } }));
}

export const keys = {
    error: null,

    async load() {
        try {
            const d = await api('GET', 'keys');
            state.keys = d.keys || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'keys') {
            this.render();
        }
    },

    createForm() {
        const name = el('input', { id: 'key-name', type: 'text',
                                   maxlength: 63, required: true });
        const mods = el('input', { id: 'key-models', type: 'text',
                                   placeholder: t('keys.models.hint') });
        const rpm = el('input', { id: 'key-rpm', type: 'number', min: 0,
                                  value: '0' });
        const rpd = el('input', { id: 'key-rpd', type: 'number', min: 0,
                                  value: '0' });
        const exp = el('input', { id: 'key-expires',
                                  type: 'datetime-local' });
        const fmt = el('select', { id: 'key-format' },
                       el('option', { value: '',
                                      text: t('keys.image_format.default') }),
                       ['markdown', 'url', 'array', 'b64_json']
                           .map((f) => el('option', { value: f, text: f })));
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const submit = el('button', { id: 'key-create', type: 'submit',
                                      class: 'primary',
                                      text: t('keys.create') });

        const field = (label, input, hint) =>
            el('div', { class: 'field' },
               el('label', { for: input.id, text: label }), input,
               hint ? el('small', { class: 'hint', text: hint }) : null);

        const form = el('form', { id: 'key-form', class: 'form inline-grid',
                                  novalidate: true },
            field(t('keys.name'), name),
            field(t('keys.models'), mods),
            field(t('keys.rpm'), rpm, t('keys.limit.hint')),
            field(t('keys.rpd'), rpd, t('keys.limit.hint')),
            field(t('keys.expires'), exp, t('keys.expires.hint')),
            field(t('keys.image_format'), fmt),
            err,
            el('div', { class: 'actions' }, submit));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;
            name.removeAttribute('aria-invalid');

            const body = { name: name.value.trim() };

            /* the API refuses it too; say so before asking */
            if (!body.name) {
                err.textContent = t('keys.name.required');
                err.hidden = false;
                name.setAttribute('aria-invalid', 'true');
                name.focus();
                return;
            }
            const list = mods.value.split(',').map((x) => x.trim())
                             .filter((x) => x);

            if (list.length) {
                body.models = list;
            }

            body.rpm = Number(rpm.value || 0);
            body.rpd = Number(rpd.value || 0);

            if (exp.value) {
                body.expires_at = Math.floor(new Date(exp.value).getTime()
                                             / 1000);
            }

            if (fmt.value) {
                body.image_format = fmt.value;
            }

            submit.disabled = true;

            try {
                const r = await api('POST', 'keys', body);
                /* shown this once: kept in memory only until dismissed */
                state.newKeys.unshift({ key: r.key, name: r.name,
                                        id: r.id });
                form.reset();
                rpm.value = '0';
                rpd.value = '0';
                await this.load();
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                submit.disabled = false;
            }
        });

        return form;
    },

    render() {
        const s = clear(section('keys'));

        s.append(head(t('keys.title'),
                      button(t('common.refresh'), () => this.load())));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        s.append(...state.newKeys.map(newKeyBox));

        s.append(cached(this, 'create', () =>
            el('div', { class: 'card' }, this.createForm())));

        const rows = state.keys.map((k) => {
            const [cls, label] = keyState(k);
            const limits = [k.rpm ? k.rpm + '/min' : null,
                            k.rpd ? k.rpd + '/day' : null]
                           .filter((x) => x).join(', ') || '–';

            return el('tr', { dataset: { id: k.id } },
                el('td', { class: 'num', text: k.id }),
                el('td', { class: 'name', text: k.name }),
                el('td', { class: 'mono', text: k.prefix + '…' }),
                el('td', null, el('span', { class: 'badge ' + cls,
                                            text: label })),
                el('td', { text: k.models || t('keys.all_models') }),
                el('td', { text: limits }),
                el('td', { text: k.expires_at ? fmtTime(k.expires_at)
                                              : t('common.never') }),
                el('td', { class: 'num', text: fmtNum(k.requests) }),
                el('td', { text: fmtTime(k.last_used_at) }),
                el('td', { text: fmtTime(k.created_at) }),
                el('td', { class: 'row-actions' },
                   button(t('keys.stats'), () => keyStats(k).catch(fail),
                          'ghost small'),
                   button(t('keys.logs'), () => showKeyLogs(k.id),
                          'ghost small'),
                   k.enabled ? button(t('keys.revoke'), async () => {
                       if (!await ask(t('keys.revoke.confirm',
                                        { name: k.name || '#' + k.id }),
                                      t('keys.revoke')))
                       {
                           return;
                       }

                       try {
                           await api('POST', 'keys/' + k.id + '/revoke', {});
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'ghost small') : null,
                   button(t('common.delete'), async () => {
                       if (!await ask(t('keys.delete.confirm',
                                        { name: k.name || '#' + k.id }),
                                      t('common.delete')))
                       {
                           return;
                       }

                       try {
                           await api('DELETE', 'keys/' + k.id);
                           toast(t('common.deleted'));
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('common.id'), t('keys.name'), t('keys.prefix'),
                        t('keys.state'), t('keys.models'), t('keys.limits'),
                        t('keys.expires'), t('keys.requests'),
                        t('keys.last_used'), t('keys.created'),
                        t('common.actions')], rows, { cls: 'keys', empty: t('empty.keys') }));
    },
};
