/*
 * Times, durations and numbers as the console shows them, in the current
 * language.
 */

import { t, getLang } from '../i18n.js';


export function now() {
    return Math.floor(Date.now() / 1000);
}

export function fmtTime(sec) {
    if (!sec) {
        return t('common.never');
    }

    return new Date(sec * 1000).toLocaleString(getLang());
}

export function fmtLeft(sec) {
    sec = Math.max(0, Math.round(sec));

    const h = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    const s = sec % 60;

    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
}

export function fmtMs(ms) {
    if (ms === null || ms === undefined) {
        return '–';
    }

    return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : ms + ' ms';
}

export function fmtNum(n) {
    return Number(n || 0).toLocaleString(getLang());
}
