/*
 * The import / export view: the configuration exported as a download
 * (with the credentials only when the operator ticks the box, warned and
 * asked again), a JSON file or a geminibusiness.db imported (checked in
 * the page first).
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js), and
 * text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, clear, section } from '../dom.js';
import { api, errText } from '../api.js';
import { toast } from '../toast.js';
import { ask } from '../dialogs.js';
import { head, busy, notAvailable } from '../widgets.js';


function looksSqlite(buf) {
    const magic = 'SQLite format 3\0';
    const b = new Uint8Array(buf, 0, Math.min(16, buf.byteLength));

    if (b.length < 16) {
        return false;
    }

    for (let i = 0; i < 16; i++) {
        if (b[i] !== magic.charCodeAt(i)) {
            return false;
        }
    }

    return true;
}

export const config = {
    missing: {},
    result: null,

    load() {
        /* nothing to fetch before the operator acts */
    },

    async exportConfig(btn, secrets) {
        if (secrets && !await ask(t('config.export.secrets.confirm'),
                                  t('config.export')))
        {
            return;
        }

        await busy(btn, async () => {
            let res;

            try {
                res = await api('GET', 'config/export'
                                       + (secrets ? '?secrets=1' : ''),
                                undefined, { response: true });
            } catch (e) {
                if (e.status === 404) {
                    this.missing.export = true;
                    this.render();
                    return;
                }

                throw e;
            }

            const blob = await res.blob();
            const cd = res.headers.get('Content-Disposition') || '';
            const m = cd.match(/filename="?([^";]+)"?/);
            const name = m ? m[1]
                : 'gemini-pool-config-'
                  + new Date().toISOString().slice(0, 10) + '.json';

            const url = URL.createObjectURL(blob);
            const a = el('a', { href: url, download: name, hidden: true });

            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10000);
            toast(t(secrets ? 'config.exported.secrets'
                            : 'config.exported'));
        });
    },

    async importConfig(file, btn) {
        if (!file) {
            toast(t('config.import.nofile'), 'error');
            return;
        }

        if (!await ask(t('config.import.confirm', { name: file.name }),
                       t('config.import')))
        {
            return;
        }

        await busy(btn, async () => {
            const buf = await file.arrayBuffer();
            let r;

            try {
                if (looksSqlite(buf)) {
                    r = await api('POST', 'config/import', buf,
                                  { type: 'application/x-sqlite3' });
                } else {
                    const text = new TextDecoder().decode(buf);

                    try {
                        JSON.parse(text);
                    } catch (e) {
                        throw new Error(t('err.bad_json_file',
                                          { msg: e.message }));
                    }

                    r = await api('POST', 'config/import', text,
                                  { type: 'application/json' });
                }
            } catch (e) {
                if (e.status === 404 && e.code !== 'invalid_value') {
                    this.missing.import = true;
                    this.render();
                    return;
                }

                this.result = { error: errText(e) };
                this.render();
                return;
            }

            this.result = { imported: (r && r.imported) || {} };
            this.render();
        });
    },

    render() {
        const s = clear(section('config'));

        s.append(head(t('config.title')));

        const exp = el('button', { id: 'config-export', type: 'button',
                                   class: 'primary',
                                   text: t('config.export') });
        const secrets = el('input', { id: 'config-export-secrets',
                                      type: 'checkbox' });
        const warn = el('p', { id: 'config-export-warning',
                               class: 'notice warn', role: 'alert',
                               hidden: true,
                               text: t('config.export.secrets.warn') });

        secrets.addEventListener('change', () => {
            warn.hidden = !secrets.checked;
        });
        exp.addEventListener('click',
                             () => this.exportConfig(exp, secrets.checked));

        s.append(el('div', { class: 'card' },
            el('h2', { text: t('config.export') }),
            el('p', { class: 'muted', text: t('config.export.help') }),
            this.missing.export ? notAvailable('config/export')
                : el('div', { class: 'export' },
                     el('label', { class: 'check' }, secrets, ' ',
                        t('config.export.secrets')),
                     warn,
                     el('div', { class: 'actions' }, exp))));

        const file = el('input', { id: 'config-file', type: 'file',
                                   accept: '.json,.db,.sqlite,.sqlite3,'
                                           + 'application/json' });
        const imp = el('button', { id: 'config-import', type: 'button',
                                   class: 'primary',
                                   text: t('config.import') });
        imp.addEventListener('click',
                             () => this.importConfig(file.files[0], imp));

        let result = null;

        if (this.result && this.result.error) {
            result = el('p', { id: 'config-result', class: 'notice error',
                               role: 'alert', text: this.result.error });
        } else if (this.result) {
            result = el('div', { id: 'config-result', class: 'notice ok' },
                el('strong', { text: t('config.import.done') }),
                el('ul', null, Object.entries(this.result.imported)
                    .map(([k, v]) => el('li', null,
                        el('span', { class: 'mono', text: k }), ': ',
                        typeof v === 'object' ? JSON.stringify(v)
                                              : String(v)))));
        }

        s.append(el('div', { class: 'card' },
            el('h2', { text: t('config.import') }),
            el('p', { class: 'muted', text: t('config.import.help') }),
            this.missing.import ? notAvailable('config/import')
                : el('div', { class: 'toolbar' },
                     el('label', null, t('config.import.file'), ' ', file),
                     imp),
            result));
    },
};
