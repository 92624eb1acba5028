/*
 * The chat history view: conversations (the turns of one upstream
 * session within an API key), newest activity first, filtered by key
 * (picked by name), model, account, date range and text, a page at a
 * time; one conversation in a dialog with its turns in order (answers
 * rendered by markdown.js, generated images and videos inline, failed
 * calls with their status and error), deleted, or opened in the chat
 * page; a notice when recording is off or the routes are missing.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js) or
 * markdown.js (the same way), and text goes in as text nodes.
 */

import { t } from '../../i18n.js';
import { el, $, clear, section } from '../dom.js';
import { state } from '../state.js';
import { api, errText } from '../api.js';
import { fmtTime, fmtMs } from '../format.js';
import { toast, fail } from '../toast.js';
import { ask, infoDialog } from '../dialogs.js';
import { render as markdown } from '../markdown.js';
import { table, head, button, busy, cached, notAvailable, keySelect,
         keyOptions, loadKeyNames, keyLabel } from '../widgets.js';


/* the chat page takes at most this many messages (POST /api/chats) */
const CHAT_MESSAGES_MAX = 200;

/* a date input's day (local time) as unix seconds: its start or end */
function dayTime(value, end) {
    if (!value) {
        return 0;
    }

    const d = new Date(value + 'T00:00:00');

    if (isNaN(d.getTime())) {
        return 0;
    }

    if (end) {
        d.setDate(d.getDate() + 1);
    }

    return Math.floor(d.getTime() / 1000) - (end ? 1 : 0);
}

function keyName(c) {
    return c.key_name ? c.key_name + ' (#' + c.key_id + ')'
                      : keyLabel(c.key_id);
}

function failed(turn) {
    return turn.status >= 400 || !!turn.error;
}

/* one turn: its facts, the prompt as text, the answer or the error */
function turnNode(turn, i) {
    const answer = turn.answer || '';
    let body;

    if (failed(turn)) {
        body = el('div', { class: 'turn-error notice error' },
                  el('strong', { text: t('history.failed', {
                      status: turn.status }) }),
                  ' ', turn.error || t('history.no_message'));
    } else if (answer === '') {
        body = el('p', { class: 'muted', text: t('history.empty_answer') });
    } else {
        body = null;
    }

    return el('article', { class: 'turn' + (failed(turn) ? ' bad' : ''),
                           dataset: { id: turn.id } },
        el('div', { class: 'turn-head muted' },
           el('span', { class: 'turn-n', text: '#' + (i + 1) }), ' ',
           fmtTime(turn.time), ' · ',
           el('span', { class: 'mono', text: turn.model || '–' }), ' · ',
           turn.account || '–', ' · ',
           el('span', { class: 'turn-status', text: turn.status }), ' · ',
           fmtMs(turn.latency_ms)),
        el('div', { class: 'turn-q' },
           el('div', { class: 'turn-label', text: t('history.prompt') }),
           el('pre', { class: 'text prompt',
                       id: i === 0 ? 'history-prompt' : null,
                       text: turn.prompt || '' })),
        el('div', { class: 'turn-a' },
           el('div', { class: 'turn-label', text: t('history.answer') }),
           body,
           answer !== '' ? el('div', { class: 'answer md',
                                       id: i === 0 ? 'history-answer'
                                                   : null },
                              markdown(answer, { copy: t('common.copy'),
                                                 lazy: true }))
                         : null));
}

/* the conversation as a chat of the chat page (#/chat/<id>) */
async function openInChat(c, dlg) {
    const messages = [];

    for (const turn of c.turns) {
        if (turn.prompt) {
            messages.push({ role: 'user', content: turn.prompt });
        }

        if (turn.answer && !failed(turn)) {
            messages.push({ role: 'assistant', content: turn.answer });
        }
    }

    const last = c.turns[c.turns.length - 1];
    const r = await api('POST', 'chats', {
        title: (c.title || '').slice(0, 200),
        model: (last && last.model) || '',
        messages: messages.slice(-CHAT_MESSAGES_MAX),
    });

    dlg.close();
    location.hash = '#/chat/' + encodeURIComponent(r.id);
}

async function conversationDetail(row) {
    let c;

    try {
        c = await api('GET', 'history/conversations/'
                             + encodeURIComponent(row.id));
    } catch (e) {
        fail(e);
        return;
    }

    c.title = row.title;

    const meta = el('dl', { class: 'facts' },
        el('dt', { text: t('common.key') }),
        el('dd', { text: keyName(c) }),
        el('dt', { text: t('history.turns') }),
        el('dd', { text: c.turns.length }),
        el('dt', { text: t('history.first') }),
        el('dd', { text: fmtTime(row.first_time) }),
        el('dt', { text: t('history.last') }),
        el('dd', { text: fmtTime(row.last_time) }));

    const dlg = infoDialog(c.title || t('history.detail', { id: c.id }),
        el('div', { class: 'chat conversation' }, meta,
           el('div', { class: 'turns' }, c.turns.map(turnNode))));

    const open = el('button', { type: 'button', id: 'history-open-chat',
                                class: 'ghost',
                                text: t('history.open_chat') });

    open.addEventListener('click', () => busy(open,
                                              () => openInChat(c, dlg)));

    $('.actions', dlg).prepend(open, button(t('common.delete'), async () => {
        if (!await ask(t('history.delete.confirm'), t('common.delete'))) {
            return;
        }

        try {
            await api('DELETE', 'history/conversations/'
                                + encodeURIComponent(c.id));
            toast(t('common.deleted'));
            dlg.close();
        } catch (e) {
            fail(e);
        }

        await history.load();
    }, 'danger'));
}

export const history = {
    error: null,

    async load() {
        const H = state.history;
        const q = new URLSearchParams();

        for (const k of ['q', 'key_id', 'model', 'account']) {
            if (H[k]) {
                q.set(k, H[k]);
            }
        }

        const from = dayTime(H.from, false);
        const to = dayTime(H.to, true);

        if (from) {
            q.set('from', String(from));
        }

        if (to) {
            q.set('to', String(to));
        }

        q.set('limit', String(H.limit));

        if (H.before.length) {
            q.set('before', String(H.before[H.before.length - 1]));
        }

        try {
            const [d, st, f] = await Promise.all([
                api('GET', 'history/conversations?' + q),
                api('GET', 'settings'),
                api('GET', 'history/filters'),
                loadKeyNames(),
            ]);

            H.data = d;
            H.choices = f;
            H.missing = false;
            state.settings = st.settings || state.settings;
            this.error = null;
        } catch (e) {
            H.data = null;
            H.missing = e.status === 404;
            this.error = H.missing ? null : errText(e);
        }

        if (state.view === 'history') {
            this.render();
        }
    },

    render() {
        const s = clear(section('history'));
        const H = state.history;

        s.append(head(t('history.title'),
                      button(t('common.refresh'), () => this.load()),
                      H.data ? el('button', {
                          id: 'history-delete-all', type: 'button',
                          class: 'danger', text: t('history.delete_all'),
                          onclick: async () => {
                              if (!await ask(t('history.delete_all.confirm'),
                                             t('common.delete')))
                              {
                                  return;
                              }

                              try {
                                  const r = await api('DELETE', 'history');
                                  toast(t('history.deleted_n',
                                          { n: (r && r.deleted) || 0 }));
                              } catch (e) {
                                  fail(e);
                              }

                              H.before = [];
                              await this.load();
                          } }) : null));

        if (H.missing) {
            s.append(notAvailable('history/conversations'));
            return;
        }

        const he = state.settings && state.settings.history_enabled;

        if (he && he.value === false) {
            s.append(el('p', { id: 'history-off', class: 'notice warn',
                               text: t('history.off') }));
        }

        s.append(cached(this, 'search', () => this.search()));
        keyOptions(this.keySel);
        this.choices(this.modelSel, 'models', H.model,
                     t('history.all_models'));
        this.choices(this.accountSel, 'accounts', H.account,
                     t('history.all_accounts'));

        if (this.error) {
            s.append(el('p', { class: 'notice error', text: this.error }));
        }

        this.rows(s);
    },

    /* a picker's options: every value the history names, kept choice */
    choices(sel, what, chosen, all) {
        const H = state.history;
        const keep = sel.value || chosen || '';
        const list = ((H.choices && H.choices[what]) || []).slice();

        if (keep && !list.includes(keep)) {
            list.push(keep);
        }

        sel.replaceChildren(el('option', { value: '', text: all }),
                            ...list.map((v) => el('option', { value: v,
                                                              text: v })));
        sel.value = keep;
    },

    search() {
        const H = state.history;
        const q = el('input', { id: 'history-q', type: 'search',
                                value: H.q });
        const key = keySelect('history-key', H.key_id);
        const model = el('select', { id: 'history-model' });
        const account = el('select', { id: 'history-account' });
        const from = el('input', { id: 'history-from', type: 'date',
                                   value: H.from });
        const to = el('input', { id: 'history-to', type: 'date',
                                 value: H.to });

        this.keySel = key;
        this.modelSel = model;
        this.accountSel = account;

        const form = el('form', { class: 'toolbar history-filter' },
            el('label', null, t('history.q'), ' ', q),
            el('label', null, t('logs.key'), ' ', key),
            el('label', null, t('common.model'), ' ', model),
            el('label', null, t('common.account'), ' ', account),
            el('label', null, t('history.from'), ' ', from),
            el('label', null, t('history.to'), ' ', to),
            el('button', { type: 'submit', class: 'ghost',
                           text: t('history.search') }),
            button(t('history.clear'), () => {
                for (const n of [q, key, model, account, from, to]) {
                    n.value = '';
                }

                form.requestSubmit();
            }));

        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            H.q = q.value.trim();
            H.key_id = key.value;
            H.model = model.value;
            H.account = account.value;
            H.from = from.value;
            H.to = to.value;
            H.before = [];
            this.load();
        });

        return form;
    },

    rows(s) {
        const H = state.history;

        if (!H.data) {
            return;
        }

        const items = H.data.conversations || [];
        const rows = items.map((c) => el('tr', {
                class: 'clickable' + (c.failed ? ' bad' : ''),
                dataset: { id: c.id }, tabindex: 0,
                onclick: () => conversationDetail(c),
                onkeydown: (ev) => {
                    if (ev.key === 'Enter') {
                        conversationDetail(c);
                    }
                } },
            el('td', { text: fmtTime(c.last_time) }),
            el('td', { text: keyName(c) }),
            el('td', { class: 'mono', text: (c.models || []).join(', ')
                                            || '–' }),
            el('td', { text: (c.accounts || []).join(', ') || '–' }),
            el('td', { class: 'num', text: c.turns }),
            el('td', null, c.failed
                ? el('span', { class: 'badge failed',
                               text: t('history.has_failed') })
                : el('span', { class: 'badge ok', text: t('history.ok') })),
            el('td', { class: 'preview', title: c.title,
                       text: c.title || '' })));

        s.append(table([t('history.last'), t('common.key'),
                        t('common.model'), t('common.account'),
                        t('history.turns'), t('common.status'),
                        t('history.conversation')], rows,
                       { cls: 'history' }));

        if (H.before.length || H.data.next_before) {
            s.append(el('div', { class: 'pager' },
                H.before.length ? button(t('logs.newest'), () => {
                    H.before = [];
                    this.load();
                }) : null,
                H.data.next_before ? button(t('logs.older'), () => {
                    H.before.push(H.data.next_before);
                    this.load();
                }) : null));
        }
    },
};
