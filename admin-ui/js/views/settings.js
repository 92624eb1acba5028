/*
 * The settings view: one typed field per entry of GET /api/settings
 * (a secret write-only), the changed ones saved with PUT, the proxy test.
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
import { head, button, busy } from '../widgets.js';


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

export const settings = {
    error: null,

    enter() {
        /* the form is built from fresh values only */
        state.settings = null;
    },

    async load() {
        try {
            const d = await api('GET', 'settings');
            state.settings = d.settings || {};
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

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
                    key === 'proxy' ? proxyTestButton(input) : null);
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

        s.append(form);
    },
};
