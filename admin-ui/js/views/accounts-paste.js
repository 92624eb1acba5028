/*
 * The paste box of the add-account dialog: the account JSON, a cookie
 * header and/or the product URL go in, js/extract.js finds the fields
 * (in the browser, no server round trip), they are filled into the
 * dialog's inputs, and what was found and every required field still
 * missing are shown at once (as text: nothing pasted goes through an
 * HTML parser).
 */

import { t } from '../../i18n.js';
import { el, clear } from '../dom.js';
import { extract, missing, REQUIRED } from '../extract.js';


const SECRET = { secure_c_ses: 1, host_c_oses: 1, tempmail_url: 1,
                 proxy: 1 };

function label(k) {
    const key = 'acc.' + k;
    const s = t(key);

    return s === key ? k : s;
}

function noteText(n) {
    return t('acc.paste.' + n.key, n);
}

/* inputs: the form's controls by field name (formDialog's) */
export function pastePanel(inputs) {
    const id = 'account-paste';
    const box = el('textarea', {
        id, name: 'paste', rows: 4, autocomplete: 'off', spellcheck: 'false',
        placeholder: 'https://business.gemini.google/home/cid/…'
                     + '?csesidx=…\n'
                     + 'Cookie: __Secure-C_SES=…; __Host-C_OSES=…' });
    const found = el('p', { class: 'paste-found' });
    const notes = el('ul', { class: 'paste-notes' });
    const left = el('p', { class: 'paste-missing' });
    const out = el('div', { class: 'paste-result', role: 'status',
                            'aria-live': 'polite', hidden: true },
                   found, notes, left);

    /* what the form lacks now, typed or pasted */
    const showMissing = () => {
        const values = {};

        for (const k of REQUIRED) {
            values[k] = inputs[k] ? inputs[k].value : '';
        }

        const m = missing(values);

        left.textContent = m.length
            ? t('acc.paste.missing', { list: m.map(label).join(', ') })
            : t('acc.paste.complete');
        left.classList.toggle('error', m.length > 0);
        left.dataset.missing = m.join(' ');
    };

    box.addEventListener('input', () => {
        const r = extract(box.value);

        clear(notes);

        for (const k of r.found) {
            if (inputs[k]) {
                inputs[k].value = r.fields[k];
            }
        }

        found.textContent = t('acc.paste.found', { list: r.found.map((k) =>
            label(k) + ' (' + (SECRET[k] ? t('acc.paste.chars',
                                             { n: r.fields[k].length })
                                         : r.fields[k]) + ')').join(', ') });

        if (!r.found.length && box.value.trim() !== '') {
            notes.append(el('li', { text: t('acc.paste.nothing') }));
        }

        for (const n of r.notes) {
            notes.append(el('li', { text: noteText(n) }));
        }

        found.hidden = !r.found.length;
        found.dataset.found = r.found.join(' ');
        out.hidden = box.value.trim() === '';
        showMissing();
    });

    for (const k of REQUIRED) {
        if (inputs[k]) {
            inputs[k].addEventListener('input', () => {
                if (!out.hidden) {
                    showMissing();
                }
            });
        }
    }

    return el('div', { class: 'field paste' },
              el('label', { for: id, text: t('acc.paste') }),
              box,
              el('small', { class: 'hint', text: t('acc.paste.hint') }),
              out);
}
