/*
 * Toasts: short notices in the corner, errors kept longer.
 */

import { el, $ } from './dom.js';
import { errText } from './api.js';


export function toast(msg, kind) {
    const box = $('#toasts');
    const n = el('div', { class: 'toast ' + (kind || 'ok'),
                          role: kind === 'error' ? 'alert' : 'status' },
                 msg);

    n.addEventListener('click', () => n.remove());
    box.append(n);

    setTimeout(() => n.remove(), kind === 'error' ? 12000 : 5000);
}

export function fail(e) {
    toast(errText(e), 'error');
}
