/*
 * The password view: a new password (which ends every session).
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { head } from '../widgets.js';
import { passwordSet } from './login.js';


export const security = {
    load() {
        /* nothing to fetch */
    },

    render() {
        const s = clear(section('security'));

        const p1 = el('input', { id: 'password-new', type: 'password',
                                 autocomplete: 'new-password',
                                 minlength: 8 });
        const p2 = el('input', { id: 'password-repeat', type: 'password',
                                 autocomplete: 'new-password',
                                 minlength: 8 });
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const save = el('button', { id: 'password-save', type: 'submit',
                                    class: 'primary',
                                    text: t('common.save') });

        const form = el('form', { id: 'password-form', class: 'form',
                                  novalidate: true },
            el('div', { class: 'field' },
               el('label', { for: p1.id, text: t('security.new') }), p1),
            el('div', { class: 'field' },
               el('label', { for: p2.id, text: t('security.repeat') }), p2),
            err,
            el('div', { class: 'actions' }, save));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;

            if (p1.value.length < 8) {
                err.textContent = t('security.short');
                err.hidden = false;
                return;
            }

            if (p1.value !== p2.value) {
                err.textContent = t('security.mismatch');
                err.hidden = false;
                return;
            }

            save.disabled = true;

            try {
                await api('PUT', 'auth/password', { password: p1.value });
                /* every session ends with a new password */
                passwordSet(t('security.done'));
            } catch (e) {
                err.textContent = errText(e);
                err.hidden = false;
            } finally {
                save.disabled = false;
            }
        });

        s.append(head(t('security.title')),
                 el('div', { class: 'card' },
                    el('p', { text: t('security.help') }),
                    el('p', { class: 'muted',
                              text: t('security.method',
                                      { method: state.method }) }),
                    form));
    },
};
