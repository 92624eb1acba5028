/*
 * The language switch: the choice of i18n.js's table, the static labels
 * of index.html and a re-rendering of what is on screen.
 */

import {
    LANGS, setLang, getLang, initialLang, applyStatic,
} from '../i18n.js';
import { el, $ } from './dom.js';
import { applyTheme, systemTheme } from './theme.js';
import { rerender } from './router.js';


export function initLang() {
    setLang(initialLang(), false);

    const sel = $('#lang');

    for (const l of LANGS) {
        sel.append(el('option', { value: l.code, text: l.label,
                                  selected: l.code === getLang() }));
    }

    sel.addEventListener('change', () => {
        setLang(sel.value, true);
        relabel();
    });

    relabel();
}

export function relabel() {
    applyStatic(document);
    applyTheme(document.documentElement.dataset.theme || systemTheme());
    rerender();
}
