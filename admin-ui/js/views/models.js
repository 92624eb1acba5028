/*
 * The models view: the model table, add and edit (a rename is a new
 * entry and the old one's deletion), the aliases (other names a model
 * answers to), enable, delete.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { toast, fail } from '../toast.js';
import { ask, formDialog } from '../dialogs.js';
import { table, head, button, busy } from '../widgets.js';


function modelForm(m) {
    const edit = !!m;
    const pins = [['', t('models.pin.none')]].concat(
        state.accounts.map((a) => [String(a.id),
                                   '#' + a.id + ' ' + (a.name || '')]));

    formDialog(edit ? t('models.edit') : t('models.add'), [
        { name: 'name', label: t('common.name'), required: true,
          value: edit ? m.name : '' },
        { name: 'model_id', label: t('models.model_id'),
          value: edit ? m.model_id : '' },
        { name: 'kind', label: t('models.kind'), type: 'select',
          value: edit ? m.kind : 'text',
          options: ['text', 'image', 'video']
                       .map((k) => [k, t('models.kind.' + k)]) },
        { name: 'account_id', label: t('models.pin'), type: 'select',
          value: edit && m.account_id ? String(m.account_id) : '',
          options: pins },
        { name: 'position', label: t('models.position'), type: 'number',
          value: edit ? m.position : 0 },
        { name: 'description', label: t('models.description'),
          value: edit ? m.description : '' },
        { name: 'aliases', label: t('models.aliases'),
          value: edit ? (m.aliases || []).join(', ') : '',
          placeholder: 'gpt-4o, claude-*', hint: t('models.aliases.hint') },
        { name: 'enabled', label: t('common.enabled'), type: 'checkbox',
          value: edit ? m.enabled : true },
    ], async (v) => {
        const body = {
            model_id: v.model_id.trim(),
            kind: v.kind,
            account_id: v.account_id ? Number(v.account_id) : null,
            position: Number(v.position || 0),
            description: v.description,
            enabled: v.enabled,
        };
        const aliases = v.aliases.split(',').map((a) => a.trim())
                                 .filter((a) => a !== '');

        if (edit && v.name.trim() === m.name) {
            body.aliases = aliases;
            await api('PUT', 'models/' + encodeURIComponent(m.name), body);
        } else {
            body.name = v.name.trim();
            await api('POST', 'models', body);

            if (edit) {
                /* renamed: the old entry goes (its aliases with it) */
                await api('DELETE', 'models/' + encodeURIComponent(m.name));
            }

            if (aliases.length) {
                await api('PUT', 'models/' + encodeURIComponent(body.name),
                          { aliases });
            }
        }

        toast(t('common.saved'));
        await models.load();
    });
}

export const models = {
    error: null,

    async load() {
        try {
            const [d, acc] = await Promise.all([
                api('GET', 'models'), api('GET', 'accounts'),
            ]);
            state.models = d.models || [];
            state.accounts = acc.accounts || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        if (state.view === 'models') {
            this.render();
        }
    },

    render() {
        const s = clear(section('models'));

        s.append(head(t('models.title'),
                      button(t('common.refresh'), () => this.load()),
                      el('button', { id: 'model-add', type: 'button',
                                     class: 'primary', text: t('models.add'),
                                     onclick: () => modelForm(null) })));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        const accName = (id) => {
            const a = state.accounts.find((x) => x.id === id);
            return a ? '#' + id + ' ' + (a.name || '') : '#' + id;
        };

        const rows = state.models.map((m) => {
            const toggle = el('input', {
                type: 'checkbox', class: 'switch', checked: !!m.enabled,
                'aria-label': t('common.enabled'),
                onchange: (ev) => busy(ev.target, async () => {
                    try {
                        await api('PUT', 'models/'
                                         + encodeURIComponent(m.name),
                                  { enabled: ev.target.checked });
                    } finally {
                        await this.load();
                    }
                }),
            });

            return el('tr', null,
                el('td', { class: 'name mono', text: m.name }),
                el('td', { class: 'mono', text: m.model_id || '–' }),
                el('td', { text: t('models.kind.' + m.kind) }),
                el('td', { text: m.account_id ? accName(m.account_id)
                                              : t('models.pin.none') }),
                el('td', { class: 'num', text: m.position }),
                el('td', { text: m.description || '' }),
                el('td', { class: 'mono aliases',
                           text: (m.aliases || []).join(', ') }),
                el('td', null, toggle),
                el('td', { class: 'row-actions' },
                   button(t('common.edit'), () => modelForm(m),
                          'ghost small'),
                   button(t('common.delete'), async () => {
                       if (!await ask(t('models.delete.confirm',
                                        { name: m.name }),
                                      t('common.delete')))
                       {
                           return;
                       }

                       try {
                           await api('DELETE', 'models/'
                                               + encodeURIComponent(m.name));
                           toast(t('common.deleted'));
                       } catch (e) {
                           fail(e);
                       }

                       await this.load();
                   }, 'danger small')));
        });

        s.append(table([t('common.name'), t('models.model_id'),
                        t('models.kind'), t('models.pin'),
                        t('models.position'), t('models.description'),
                        t('models.aliases'), t('common.enabled'), t('common.actions')], rows,
                       { cls: 'models' }));
    },
};
