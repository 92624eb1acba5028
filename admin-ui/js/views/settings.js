/*
 * The settings view: the settings of GET /api/settings in its groups,
 * each with its label and help in words and the control its schema asks
 * for (a switch, a number with its unit and bounds, a choice or a set of
 * the server's allowed values, a write-only secret); each group saved on
 * its own with PUT (the keys saved, or the server's error and status),
 * a switch that does nothing on this server marked; the proxy test,
 * the image host's test upload;
 * remote sync: its state (GET /api/remote-sync), "push all" and "test
 * connection".
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
import { fmtTime } from '../format.js';
import { head, button, busy, table } from '../widgets.js';


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

/*
 * POST /api/settings/upload-test: a small PNG to the image host with the
 * saved upload_endpoint and upload_api_token; the host's link or error.
 */
function uploadTestButton() {
    const b = el('button', { id: 'upload-test', type: 'button',
                             class: 'ghost small',
                             text: t('settings.upload_test') });

    b.addEventListener('click', () => busy(b, async () => {
        const r = await api('POST', 'settings/upload-test', {});

        if (r.ok) {
            toast(t('settings.upload_test.ok', { url: r.url,
                                                 ms: r.elapsed_ms }));
        } else {
            toast(t('settings.upload_test.fail', { error: r.error }),
                  'error');
        }
    }));

    return b;
}

/*
 * Remote sync (protocol section 15): where accounts are pushed after a
 * re-login, what waits for a retry, and the two buttons.
 */
function syncCard(view) {
    const st = view.sync;

    if (view.syncMissing) {
        return null;
    }

    const push = el('button', { id: 'sync-push-all', type: 'button',
                                class: 'ghost small',
                                text: t('sync.push_all') });
    const test = el('button', { id: 'sync-test', type: 'button',
                                class: 'ghost small', text: t('sync.test') });

    push.addEventListener('click', () => busy(push, async () => {
        const r = await api('POST', 'sync-all-to-remote', {});

        if (r.skipped) {
            toast(t('sync.no_url'));
        } else if (r.success) {
            toast(t('sync.push_all.done', { synced: r.synced,
                                            total: r.total }));
        } else {
            toast(t('sync.push_all.fail', { synced: r.synced || 0,
                                            total: r.total || 0 }),
                  'error');
        }

        await view.loadSync();
        view.render();
    }));

    test.addEventListener('click', () => busy(test, async () => {
        const r = await api('POST', 'remote-sync/test', {});

        if (r.ok) {
            toast(t('sync.test.ok', { status: r.status }));
        } else {
            toast(t('sync.test.fail', { status: r.status || 0,
                                        error: r.error || '' }), 'error');
        }
    }));

    const facts = [];
    let pending = null;

    if (view.syncError) {
        facts.push(el('p', { class: 'notice error', text: view.syncError }));
    } else if (st) {
        facts.push(el('p', { class: 'sync-url',
                             text: st.url ? t('sync.url', { url: st.url })
                                          : t('sync.no_url') }));

        if (st.url && st.api_key_set === false) {
            facts.push(el('p', { class: 'notice warn',
                                 text: t('sync.no_key') }));
        }

        if (st.last_success) {
            facts.push(el('p', { class: 'muted',
                                 text: t('sync.last_success',
                                         { time: fmtTime(st.last_success) })
                               }));
        }

        const rows = (st.pending || []).map((p) =>
            el('tr', null,
               el('td', { class: 'name',
                          text: p.name || '#' + (p.account || p.id || '') }),
               el('td', { class: 'num', text: p.attempts || 0 }),
               el('td', { text: fmtTime(p.next_try) }),
               el('td', { class: 'error-text', text: p.last_error || '' })));

        if (rows.length) {
            pending = [el('h3', { text: t('sync.pending') }),
                       table([t('common.account'), t('sync.p.attempts'),
                              t('sync.p.next'), t('sync.p.error')], rows,
                             { cls: 'sync-pending' })];
        }
    }

    return el('div', { id: 'remote-sync', class: 'card' },
              el('div', { class: 'view-head' },
                 el('h2', { text: t('sync.title') }),
                 el('div', { class: 'view-tools' }, test, push)),
              facts, pending);
}

export const settings = {
    error: null,
    results: {},      /* group -> what its last save did */
    sync: null,
    syncMissing: false,
    syncError: null,

    async loadSync() {
        try {
            this.sync = await api('GET', 'remote-sync');
            this.syncMissing = false;
            this.syncError = null;
        } catch (e) {
            this.sync = null;
            this.syncMissing = e.status === 404;
            this.syncError = this.syncMissing ? null : errText(e);
        }
    },

    enter() {
        /* the form is built from fresh values only */
        state.settings = null;
        this.results = {};
    },

    async load() {
        const sync = this.loadSync();

        try {
            const d = await api('GET', 'settings');
            state.settings = d.settings || {};
            state.settingGroups = d.groups || [];
            this.error = null;
        } catch (e) {
            this.error = errText(e);
        }

        await sync;

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

        const all = el('div', { id: 'settings-form', class: 'settings' });
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const inputs = {};
        const forms = [];

        all.append(err, el('p', { id: 'settings-result',
                                  class: 'save-result', role: 'status',
                                  hidden: !this.results.all,
                                  text: this.results.all || '' }));

        for (const g of groupsOf(state.settings, state.settingGroups)) {
            forms.push(this.group(g, inputs));
        }

        all.append(...forms);

        /* every group's changes at once, for those who changed several */
        const save = el('button', { id: 'settings-save', type: 'button',
                                    class: 'ghost',
                                    text: t('settings.save_all') });

        save.addEventListener('click', async () => {
            err.hidden = true;

            const keys = Object.keys(state.settings);
            const body = changes(keys, inputs, err);

            if (body) {
                await this.put(body, save, err, null);
            }
        });

        all.append(el('div', { class: 'actions' }, save));
        s.append(all, syncCard(this));
    },

    /* a group: its fields, its Save, what its last save did */
    group(g, inputs) {
        const form = el('form', { id: 'settings-group-' + g.name,
                                  class: 'form wide card settings-group',
                                  novalidate: true,
                                  dataset: { group: g.name } });
        const err = el('p', { class: 'form-error', role: 'alert',
                              hidden: true });
        const done = this.results[g.name];
        const result = el('p', { class: 'save-result', role: 'status',
                                 hidden: !done, text: done || '' });
        const save = el('button', { id: 'settings-save-' + g.name,
                                    type: 'submit', class: 'primary',
                                    text: t('settings.save_group',
                                            { group: groupTitle(g.name) })
                                  });

        form.append(el('h2', { text: groupTitle(g.name) }));

        for (const key of g.keys) {
            form.append(field(key, state.settings[key], inputs));
        }

        form.append(err, result, el('div', { class: 'actions' }, save));

        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            err.hidden = true;
            result.hidden = true;

            const body = changes(g.keys, inputs, err);

            if (body) {
                await this.put(body, save, err, g.name);
            }
        });

        return form;
    },

    /* PUT the changed keys; the result where it was asked for */
    async put(body, save, err, group) {
        const keys = Object.keys(body);

        if (!keys.length) {
            toast(t('settings.none_changed'));
            return;
        }

        save.disabled = true;

        try {
            await api('PUT', 'settings', body);

            const what = t('settings.saved_keys',
                           { keys: keys.map(label).join(', ') });

            this.results = { [group || 'all']: what };
            toast(t('settings.saved'));
            await this.load();
        } catch (e) {
            err.textContent = errText(e);
            err.hidden = false;
        } finally {
            save.disabled = false;
        }
    },
};


/*
 * The groups as the server orders them ("groups" of GET /api/settings);
 * a setting in none of them (an older server) in a group of its own.
 */
function groupsOf(settings, groups) {
    const out = [];
    const seen = new Set();

    for (const g of groups || []) {
        const keys = g.keys.filter((k) => settings[k]);

        keys.forEach((k) => seen.add(k));

        if (keys.length) {
            out.push({ name: g.name, keys });
        }
    }

    const rest = Object.keys(settings).filter((k) => !seen.has(k)).sort();

    if (rest.length) {
        out.push({ name: 'other', keys: rest });
    }

    return out;
}

function groupTitle(name) {
    return has('settings.g.' + name) ? t('settings.g.' + name) : name;
}

/* a setting's words: its label, else its key (a newer server's setting) */
function label(key) {
    return has('settings.l.' + key) ? t('settings.l.' + key) : key;
}

/* one field: label and key, the control the schema asks for, the help */
function field(key, st, inputs) {
    const id = 'setting-' + key;
    const choices = st.allowed;   /* the server's table (settings.c) */
    let input;
    let extra = null;
    let kind;

    if (st.type === 'bool') {
        kind = 'switch';
        input = el('input', { id, type: 'checkbox', class: 'switch',
                              role: 'switch', checked: !!st.value });
    } else if (st.type !== 'secret' && Array.isArray(choices) && st.many) {
        /* a set of the allowed values, comma-separated */
        kind = 'set';
        const on = new Set(String(st.value || '').split(',')
                               .map((v) => v.trim()));

        input = el('span', { id, class: 'set', role: 'group' },
                   choices.map((v) =>
                       el('label', { class: 'inline' },
                          el('input', { type: 'checkbox', value: String(v),
                                        id: id + '-' + v,
                                        checked: on.has(String(v)) }),
                          String(v))));
    } else if (st.type !== 'secret' && Array.isArray(choices)) {
        kind = 'select';
        input = el('select', { id },
                   choices.map((v) =>
                       el('option', { value: String(v),
                                      text: has('settings.v.' + v)
                                            ? t('settings.v.' + v)
                                            : String(v),
                                      selected: String(v)
                                          === String(st.value) })));
    } else if (st.type === 'int') {
        kind = 'number';
        input = el('input', { id, type: 'number', step: 1,
                              min: st.min !== undefined ? st.min : 0,
                              max: st.max, inputmode: 'numeric',
                              value: String(st.value) });
        extra = el('span', { class: 'unit' },
                   st.unit ? t('settings.unit.' + st.unit) : null,
                   ' ',
                   el('span', { class: 'bounds muted',
                                text: st.max !== undefined
                                      ? t('settings.bounds',
                                          { min: st.min, max: st.max })
                                      : t('settings.bounds.min',
                                          { min: st.min || 0 }) }));
    } else if (st.type === 'secret') {
        /* write-only: never prefilled */
        kind = 'secret';
        input = el('input', { id, type: 'password',
                              autocomplete: 'new-password',
                              placeholder: t('settings.secret.hint'),
                              value: '' });
        const clr = el('input', { id: id + '-clear', type: 'checkbox' });
        inputs[key + '\0clear'] = clr;
        extra = el('span', { class: 'secret-state' },
            el('span', { class: 'badge ' + (st.set ? 'ok' : 'off'),
                         id: id + '-state',
                         text: st.set ? t('settings.secret.set')
                                      : t('settings.secret.unset') }),
            st.set ? el('label', { class: 'inline' }, clr,
                        t('settings.secret.clear')) : null,
            key === 'proxy' ? proxyTestButton(input) : null,
            key === 'upload_api_token' ? uploadTestButton() : null);
    } else {
        kind = 'text';
        input = el('input', { id, type: 'text',
                              value: st.value === null
                                     ? '' : String(st.value) });
    }

    inputs[key] = input;

    const help = has('settings.d.' + key) ? t('settings.d.' + key) : null;
    const dflt = st.type === 'secret' || st.default === ''
                 ? null : t('settings.default', { value: st.default });
    const inert = st.inert
                  ? el('span', { class: 'badge off inert', id: id + '-inert',
                                 text: has('settings.inert.' + st.inert)
                                       ? t('settings.inert.' + st.inert)
                                       : t('settings.inert') })
                  : null;

    return el('div', { class: 'field setting',
                       dataset: st.inert ? { key, kind, inert: st.inert }
                                         : { key, kind } },
        el('label', { for: id, class: 'setting-label' },
           el('span', { class: 'label-text', text: label(key) }),
           el('code', { class: 'setting-key', text: key })),
        el('div', { class: 'control' }, input, extra, inert),
        el('small', { class: 'hint' },
           help, help && dflt ? ' · ' : null, dflt));
}

/*
 * The changed settings of keys as a PUT body, or null after showing why
 * a number is not one (the server checks the rest: bounds, URLs, choices).
 */
function changes(keys, inputs, err) {
    const body = {};

    for (const key of keys) {
        const st = state.settings[key];
        const input = inputs[key];

        if (!input) {
            continue;
        }

        if (st.type === 'bool') {
            if (input.checked !== !!st.value) {
                body[key] = input.checked;
            }
        } else if (st.type === 'int') {
            const v = input.value.trim();

            if (!/^\d+$/.test(v)) {
                err.textContent = t('settings.not_number',
                                    { label: label(key) });
                err.hidden = false;
                input.focus();
                return null;
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
        } else if (input.tagName === 'SPAN') {
            const v = [...input.querySelectorAll('input:checked')]
                          .map((c) => c.value).join(',');

            if (v !== st.value) {
                body[key] = v;
            }
        } else if (input.value !== st.value) {
            body[key] = input.value;
        }
    }

    return body;
}
