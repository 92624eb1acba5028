/*
 * The light and dark themes: the stored choice, else the system's
 * (followed while nothing is stored); the switch in the top bar.
 */

import { t } from '../i18n.js';
import { $ } from './dom.js';


const THEME = 'gp-console-theme';

function storedTheme() {
    try {
        return localStorage.getItem(THEME);
    } catch (e) {
        return null;
    }
}

export function systemTheme() {
    return window.matchMedia
           && window.matchMedia('(prefers-color-scheme: dark)').matches
           ? 'dark' : 'light';
}

export function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;

    const b = $('#theme');
    const next = theme === 'dark' ? 'light' : 'dark';

    b.textContent = (theme === 'dark' ? '☾ ' : '☀ ')
                    + t('top.theme.' + theme);
    b.title = t('top.theme') + ': ' + t('top.theme.' + next);
    b.dataset.theme = theme;
}

export function initTheme() {
    applyTheme(storedTheme() || systemTheme());

    if (window.matchMedia) {
        window.matchMedia('(prefers-color-scheme: dark)')
            .addEventListener('change', () => {
                if (!storedTheme()) {
                    applyTheme(systemTheme());
                }
            });
    }

    $('#theme').addEventListener('click', () => {
        const next = document.documentElement.dataset.theme === 'dark'
                     ? 'light' : 'dark';

        try {
            localStorage.setItem(THEME, next);
        } catch (e) {
            /* the choice lasts for this page */
        }

        applyTheme(next);
    });
}
