/*
 * Modal dialogs: the confirmation ask(), a form whose API error stays
 * shown in it (formDialog) and a dialog that only shows (infoDialog).
 */

import { t } from '../i18n.js';
import { el } from './dom.js';
import { errText } from './api.js';


export function ask(message, okLabel) {
    return new Promise((resolve) => {
        const d = el('dialog', { class: 'modal confirm' });
        const ok = el('button', { type: 'button', class: 'danger',
                                  text: okLabel || t('common.confirm'),
                                  onclick: () => d.close('ok') });
        const no = el('button', { type: 'button', class: 'ghost',
                                  text: t('common.cancel'),
                                  onclick: () => d.close('') });

        d.append(el('p', { text: message }),
                 el('div', { class: 'actions' }, no, ok));

        d.addEventListener('close', () => {
            d.remove();
            resolve(d.returnValue === 'ok');
        });

        document.body.append(d);
        d.showModal();
        ok.focus();
    });
}

/*
 * A form in a modal dialog.  fields: [{name, label, type, value,
 * options: [[value, label]], placeholder, hint, required, pattern}];
 * submit(values) returns a promise; its rejection is shown in the
 * dialog, which stays open.  opts: {note, submitLabel, top}.
 */
export function formDialog(title, fields, submit, opts) {
    opts = opts || {};

    const d = el('dialog', { class: 'modal', 'aria-label': title });
    const err = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = el('form', { class: 'form', novalidate: true });
    const inputs = {};

    for (const f of fields) {
        let input;
        const id = 'f-' + f.name + '-' + Math.random().toString(36).slice(2);

        if (f.type === 'checkbox') {
            input = el('input', { type: 'checkbox', id, name: f.name,
                                  checked: !!f.value });
            form.append(el('div', { class: 'field check' }, input,
                           el('label', { for: id, text: f.label })));
            inputs[f.name] = input;
            continue;
        }

        if (f.type === 'select') {
            input = el('select', { id, name: f.name },
                       f.options.map(([v, l]) =>
                           el('option', { value: v, text: l,
                                          selected: String(v)
                                                    === String(f.value) })));
        } else if (f.type === 'textarea') {
            input = el('textarea', { id, name: f.name, rows: f.rows || 3,
                                     placeholder: f.placeholder,
                                     autocomplete: 'off',
                                     spellcheck: 'false',
                                     value: f.value || '' });
        } else {
            input = el('input', { id, name: f.name, type: f.type || 'text',
                                  placeholder: f.placeholder,
                                  autocomplete: f.autocomplete || 'off',
                                  pattern: f.pattern, min: f.min,
                                  value: f.value === undefined
                                         || f.value === null
                                         ? '' : String(f.value) });
        }

        inputs[f.name] = input;

        form.append(el('div', { class: 'field' },
                       el('label', { for: id },
                          f.label, f.required ? ' *' : ''),
                       input,
                       f.hint ? el('small', { class: 'hint', text: f.hint })
                              : null));
    }

    /* opts.top(inputs): a part above the fields that may fill them */
    if (opts.top) {
        form.prepend(opts.top(inputs));
    }

    if (opts.note) {
        form.append(el('p', { class: 'note', text: opts.note }));
    }

    const save = el('button', { type: 'submit', class: 'primary',
                                text: opts.submitLabel || t('common.save') });

    form.append(err, el('div', { class: 'actions' },
                        el('button', { type: 'button', class: 'ghost',
                                       text: t('common.cancel'),
                                       onclick: () => d.close() }),
                        save));

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;

        const values = {};

        for (const [k, input] of Object.entries(inputs)) {
            values[k] = input.type === 'checkbox' ? input.checked
                                                  : input.value;
        }

        save.disabled = true;

        try {
            await submit(values);
            d.close();
        } catch (e) {
            err.textContent = errText(e);
            err.hidden = false;
        } finally {
            save.disabled = false;
        }
    });

    d.append(el('h2', { text: title }), form);
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();

    const first = form.querySelector('input, select, textarea');

    if (first) {
        first.focus();
    }

    return d;
}

export function infoDialog(title, body) {
    const d = el('dialog', { class: 'modal', 'aria-label': title });

    d.append(el('h2', { text: title }), body,
             el('div', { class: 'actions' },
                el('button', { type: 'button', class: 'primary',
                               text: t('common.close'),
                               onclick: () => d.close() })));
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();

    return d;
}
