/*
 * The settings view: one typed field per entry of GET /api/settings
 * (a secret write-only), the changed ones saved with PUT, the proxy test,
 * the image host's test upload;
 * remote sync: its state (GET /api/remote-sync), "push all" and "test
 * connection".
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t, has } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { toast } from '../toast.js';
import { fmtTime } from '../format.js';
import { head, button, busy, table } from '../widgets.js';


/*
 * The choices of a setting come from GET /api/settings ("allowed"), the
 * bounds of a number too ("min", "max"): the server's one table.
 */


/* POST /api/proxy/test: the typed proxy, else the configured one */
function proxyTestButton(input) {
    const b = el('button', { id: 'proxy-test', type: 'button',
                             class: 'ghost small',
                             text: t('settings.proxy_test') });

    b.addEventListener('click', () => busy(b, async () => {
        const body = input.value.trim() ? { proxy: input.value.trim() } : {};
        const r = await api('POST', 'proxy/test', body);

        if (r.ok) {
            toast(t('settings.proxy_test.ok', { status: r.status,
                                                proxy: r.proxy,
                                                ms: r.elapsed_ms }));
        } else {
            toast(t('settings.proxy_test.fail', { proxy: r.proxy,
                                                  error: r.error }),
                  'error');
        }
    }));

    return b;
}

/*
 * POST /api/settings/upload-test: a small PNG to the image host with the
 * saved upload_endpoint and upload_api_token; the host's link or error.
 */
function uploadTestButton() {
    const b = el('button', { id: 'upload-test', type: 'button',
                             class: 'ghost small',
                             text: t('settings.upload_test') });

    b.addEventListener('click', () => busy(b, async () => {
        const r = await api('POST', 'settings/upload-test', {});

        if (r.ok) {
            toast(t('settings.upload_test.ok', { url: r.url,
                                                 ms: r.elapsed_ms }));
        } else {
            toast(t('settings.upload_test.fail', { error: r.error }),
                  'error');
        }
    }));

    return b;
}

/*
 * Remote sync (protocol section 15): where accounts are pushed after a
 * re-login, what waits for a retry, and the two buttons.
 */
function syncCard(view) {
    const st = view.sync;

    if (view.syncMissing) {
        return null;
    }

    const push = el('button', { id: 'sync-push-all', type: 'button',
                                class: 'ghost small',
                                text: t('sync.push_all') });
    const test = el('button', { id: 'sync-test', type: 'button',
                                class: 'ghost small', text: t('sync.test') });

    push.addEventListener('click', () => busy(push, async () => {
        const r = await api('POST', 'sync-all-to-remote', {});

        if (r.skipped) {
            toast(t('sync.no_url'));
        } else if (r.success) {
            toast(t('sync.push_all.done', { synced: r.synced,
                                            total: r.total }));
        } else {
            toast(t('sync.push_all.fail', { synced: r.synced || 0,
                                            total: r.total || 0 }),
                  'error');
        }

        await view.loadSync();
        view.render();
    }));

    test.addEventListener('click', () => busy(test, async () => {
        const r = await api('POST', 'remote-sync/test', {});

        if (r.ok) {
            toast(t('sync.test.ok', { status: r.status }));
        } else {
            toast(t('sync.test.fail', { status: r.status || 0,
                                        error: r.error || '' }), 'error');
        }
    }));

    const facts = [];
    let pending = null;

    if (view.syncError) {
        facts.push(el('p', { class: 'notice error', text: view.syncError }));
    } else if (st) {
        facts.push(el('p', { class: 'sync-url',
                             text: st.url ? t('sync.url', { url: st.url })
                                          : t('sync.no_url') }));

        if (st.url && st.api_key_set === false) {
            facts.push(el('p', { class: 'notice warn',
                                 text: t('sync.no_key') }));
        }

        if (st.last_success) {
            facts.push(el('p', { class: 'muted',
                                 text: t('sync.last_success',
                                         { time: fmtTime(st.last_success) })
                               }));
        }

        const rows = (st.pending || []).map((p) =>
            el('tr', null,
               el('td', { class: 'name',
                          text: p.name || '#' + (p.account || p.id || '') }),
               el('td', { class: 'num', text: p.attempts || 0 }),
               el('td', { text: fmtTime(p.next_try) }),
               el('td', { class: 'error-text', text: p.last_error || '' })));

        if (rows.length) {
            pending = [el('h3', { text: t('sync.pending') }),
                       table([t('common.account'), t('sync.p.attempts'),
                              t('sync.p.next'), t('sync.p.error')], rows,
                             { cls: 'sync-pending' })];
        }
    }

    return el('div', { id: 'remote-sync', class: 'card' },
              el('div', { class: 'view-head' },
                 el('h2', { text: t('sync.title') }),
                 el('div', { class: 'view-tools' }, test, push)),
              facts, pending);
}

export const settings = {
    error: null,
    sync: null,
    syncMissing: false,
    syncError: null,

    async loadSync() {
        try {
            this.sync = await api('GET', 'remote-sync');
            this.syncMissing = false;
            this.syncError = null;
        } catch (e) {
            this.sync = null;
            this.syncMissing = e.status === 404;
            this.syncError = this.syncMissing ? null : errText(e);
        }
    },

    enter() {
        /* the form is built from fresh values only */
        state.settings = null;
    },

    async load() {
        const sync = this.loadSync();

        try {
            const d = await api('GET', 'settings');
            state.settings = d.settings || {};
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        await sync;

        if (state.view === 'settings') {
            this.render();
        }
    },

    render() {
        const s = clear(section('settings'));

        s.append(head(t('settings.title'),
                      button(t('common.refresh'), () => this.load())));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        if (!state.settings) {
            s.append(el('p', { class: 'empty', text: t('common.loading') }));
            return;
        }

        const form = el('form', { id: 'settings-form', class: 'form wide',
                                  novalidate: true });
        const inputs = {};
        const keys = Object.keys(state.settings).sort();

        for (const key of keys) {
            const st = state.settings[key];
            const id = 'setting-' + key;
            const choices = st.allowed;   /* the server's table (settings.c) */
            let input;
            let extra = null;

            if (st.type === 'bool') {
                input = el('input', { id, type: 'checkbox', class: 'switch',
                                      checked: !!st.value });
            } else if (st.type !== 'secret' && Array.isArray(choices)) {
                input = el('select', { id },
                           choices.map((v) =>
                               el('option', { value: String(v),
                                              text: String(v),
                                              selected: String(v)
                                                  === String(st.value) })));
            } else if (st.type === 'int') {
                input = el('input', { id, type: 'number', step: 1,
                                      min: st.min !== undefined ? st.min : 0,
                                      max: st.max,
                                      value: String(st.value) });
            } else if (st.type === 'secret') {
                /* write-only: never prefilled */
                input = el('input', { id, type: 'password',
                                      autocomplete: 'new-password',
                                      placeholder: t('settings.secret.hint'),
                                      value: '' });
                const clr = el('input', { id: id + '-clear',
                                          type: 'checkbox' });
                inputs[key + '\0clear'] = clr;
                extra = el('span', { class: 'secret-state' },
                    el('span', { class: 'badge ' + (st.set ? 'ok' : 'off'),
                                 id: id + '-state',
                                 text: st.set ? t('settings.secret.set')
                                              : t('settings.secret.unset') }),
                    st.set ? el('label', { class: 'inline' }, clr,
                                t('settings.secret.clear')) : null,
                    key === 'proxy' ? proxyTestButton(input) : null,
                    key === 'upload_api_token' ? uploadTestButton() : null);
            } else {
                input = el('input', { id, type: 'text',
                                      value: st.value === null
                                             ? '' : String(st.value) });
            }

            inputs[key] = input;

            const desc = has('settings.d.' + key)
                         ? t('settings.d.' + key) : null;

            form.append(el('div', { class: 'field setting',
                                    dataset: { key } },
                el('label', { for: id, class: 'mono', text: key }),
                el('div', { class: 'control' }, input, extra),
                desc ? el('small', { class: 'hint', text: desc }) : null));
        }

        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const save = el('button', { id: 'settings-save', type: 'submit',
                                    class: 'primary',
                                    text: t('common.save') });

        form.append(err, el('div', { class: 'actions' }, save));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;

            const body = {};

            for (const key of keys) {
                const st = state.settings[key];
                const input = inputs[key];

                if (st.type === 'bool') {
                    if (input.checked !== !!st.value) {
                        body[key] = input.checked;
                    }
                } else if (st.type === 'int') {
                    const v = input.value.trim();

                    if (!(st.min < 0 ? /^-?\d+$/ : /^\d+$/).test(v)) {
                        err.textContent = key + ': '
                            + t('err.http', { status: 400,
                                              msg: 'not a number' });
                        err.hidden = false;
                        input.focus();
                        return;
                    }

                    if (Number(v) !== st.value) {
                        body[key] = Number(v);
                    }
                } else if (st.type === 'secret') {
                    if (input.value !== '') {
                        body[key] = input.value;
                    } else if (inputs[key + '\0clear'].checked) {
                        body[key] = '';
                    }
                } else if (input.value !== st.value) {
                    body[key] = input.value;
                }
            }

            if (!Object.keys(body).length) {
                toast(t('settings.none_changed'));
                return;
            }

            save.disabled = true;

            try {
                await api('PUT', 'settings', body);
                toast(t('settings.saved'));
                await this.load();
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                save.disabled = false;
            }
        });

        s.append(form, syncCard(this));
    },
};
