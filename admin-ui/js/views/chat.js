/*
 * The chat page (#/chat, #/chat/<id>): the conversations kept on the
 * server (/api/chats: list, search, new, rename, delete), and a chat with
 * the models through the same /v1 API as any client.  The page has the
 * admin cookie, which /v1 never takes: it asks /api/chats/token for a
 * short-lived chat credential of this session, keeps it in memory only
 * (never in storage) and sends it as a Bearer key; a logout ends it on
 * the server.  A conversation's turns carry its id as conversation_id,
 * so that they continue one upstream session.  Answers stream by default
 * (Stop aborts the fetch: the server sees the client go) and are shown
 * by markdown.js; thoughts, when the server returns them, fold away.
 *
 * The console's rule: data from the server never goes through innerHTML
 * or any other HTML parser; every node is made by el() (js/dom.js).
 */

import { t, getLang } from '../../i18n.js';
import { el, $, section } from '../dom.js';
import { api, errText } from '../api.js';
import { fmtTime } from '../format.js';
import { toast, fail } from '../toast.js';
import { ask, formDialog } from '../dialogs.js';
import { render as markdown } from '../markdown.js';


/* the /v1 API next to the admin API (both at the server's root) */
const V1 = '/v1/';

/* the chat credential: in this module's memory only */
let cred = null;            /* { token, expires (ms) } */

function dropCredential() {
    cred = null;
}

/* a logout (or a new login) forgets it at once */
document.addEventListener('click', (e) => {
    if (e.target && e.target.id === 'logout') {
        dropCredential();
    }
});

async function credential(fresh) {
    if (!fresh && cred && cred.expires - Date.now() > 60000) {
        return cred.token;
    }

    const d = await api('POST', 'chats/token', {});

    cred = { token: d.token, expires: Date.now() + d.expires_in * 1000 };

    return cred.token;
}

/* a /v1 call with the credential (asked again once on a 401) */
async function v1(path, init) {
    for (let i = 0; i < 2; i++) {
        const token = await credential(i > 0);
        const headers = Object.assign({}, init.headers || {},
                                      { Authorization: 'Bearer ' + token });
        const res = await fetch(V1 + path, Object.assign({}, init,
                                                         { headers,
                                                           cache: 'no-store',
                                                           credentials:
                                                               'omit' }));

        if (res.status !== 401 || i > 0) {
            return res;
        }

        dropCredential();
    }

    return null;
}

/* an OpenAI error answer as "HTTP 4xx: message" */
async function v1Error(res) {
    let msg = res.statusText;

    try {
        const d = await res.json();
        msg = (d.error && d.error.message) || msg;
    } catch (e) {
        /* not JSON */
    }

    return t('err.http', { status: res.status, msg });
}

function readDataUrl(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(r.result);
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
    });
}


const S = {
    chats: [],
    q: '',
    chat: null,             /* the open chat, with its messages */
    models: [],
    model: '',
    stream: true,
    files: [],              /* File objects to send with the next turn */
    abort: null,            /* the running turn's AbortController */
    built: false,
    listOpen: false,
};


/* the id of #/chat/<id>, or 0 */
function hashId() {
    const m = location.hash.match(/^#\/chat\/(\d+)/);

    return m ? Number(m[1]) : 0;
}


function messageNode(m) {
    const body = el('div', { class: 'msg-body' });
    const node = el('div', { class: 'msg ' + m.role,
                             dataset: { role: m.role } });

    node.append(el('div', { class: 'msg-who',
                            text: m.role === 'user' ? t('chat.you')
                                                    : t('chat.assistant') }));

    if (m.reasoning) {
        node.append(el('details', { class: 'msg-reasoning' },
                       el('summary', { text: t('chat.reasoning') }),
                       el('div', { class: 'msg-reasoning-text',
                                   text: m.reasoning })));
    }

    if (m.role === 'user') {
        /* the question as it was typed: text, never Markdown */
        body.append(el('p', { class: 'msg-text', text: m.content }));
    } else {
        body.append(markdown(m.content, { copy: t('chat.copy') }));
    }

    node.append(body);

    if (m.attachments && m.attachments.length) {
        node.append(el('div', { class: 'msg-atts' },
                       m.attachments.map((a) => el('span', {
                           class: 'chip', text: (a && a.name) || '?' }))));
    }

    if (m.error) {
        node.append(el('p', { class: 'msg-error', role: 'alert',
                              text: m.error }));
    }

    return node;
}

function showMessages() {
    const log = $('#chat-log');

    if (!log) {
        return;
    }

    const msgs = S.chat ? S.chat.messages : [];

    if (!msgs.length) {
        log.replaceChildren(el('p', { class: 'empty chat-empty',
                                      text: t('chat.empty') }));
        return;
    }

    log.replaceChildren(...msgs.map(messageNode));
    log.scrollTop = log.scrollHeight;
}

function showList() {
    const ul = $('#chat-list');

    if (!ul) {
        return;
    }

    if (!S.chats.length) {
        ul.replaceChildren(el('li', { class: 'empty',
                                      text: S.q ? t('chat.none_found')
                                                : t('chat.none') }));
        return;
    }

    ul.replaceChildren(...S.chats.map((c) => el('li', {
        class: 'chat-item' + (S.chat && S.chat.id === c.id ? ' active' : ''),
        dataset: { id: String(c.id) } },
        el('a', { class: 'chat-open', href: '#/chat/' + c.id,
                  'aria-current': S.chat && S.chat.id === c.id ? 'page'
                                                               : null },
           el('span', { class: 'chat-item-title',
                        text: c.title || t('chat.untitled') }),
           el('span', { class: 'chat-item-time',
                        text: fmtTime(c.updated_at) })),
        el('button', { type: 'button', class: 'ghost small chat-rename',
                       title: t('chat.rename'), 'aria-label': t('chat.rename'),
                       text: '✎', onclick: () => rename(c) }),
        el('button', { type: 'button', class: 'ghost small chat-delete',
                       title: t('common.delete'),
                       'aria-label': t('common.delete'), text: '×',
                       onclick: () => remove(c) }))));
}

function showHead() {
    const title = $('#chat-title');

    if (title) {
        title.textContent = S.chat ? (S.chat.title || t('chat.untitled'))
                                   : t('chat.new');
    }

    const sel = $('#chat-model');

    if (sel) {
        const names = S.models.slice();

        if (S.model && !names.includes(S.model)) {
            names.unshift(S.model);
        }

        sel.replaceChildren(...names.map((n) => el('option', {
            value: n, text: n })));
        sel.value = S.model;
    }
}

function showFiles() {
    const box = $('#chat-files');

    if (!box) {
        return;
    }

    box.replaceChildren(...S.files.map((f, i) => el('span', { class: 'chip' },
        f.name, ' ',
        el('button', { type: 'button', class: 'ghost small',
                       'aria-label': t('chat.unattach', { name: f.name }),
                       text: '×', onclick: () => {
                           S.files.splice(i, 1);
                           showFiles();
                       } }))));
    box.hidden = !S.files.length;
}

function running(on) {
    $('#chat-send').hidden = on;
    $('#chat-stop').hidden = !on;
    $('#chat-input').disabled = false;
}


async function loadList() {
    try {
        const d = await api('GET', 'chats' + (S.q ? '?q='
                                              + encodeURIComponent(S.q) : ''));
        S.chats = d.chats || [];
    } catch (e) {
        if (e.status !== 401) {
            fail(e);
        }
    }

    showList();
}

async function loadModels() {
    try {
        const res = await v1('models', { method: 'GET' });

        if (!res.ok) {
            throw new Error(await v1Error(res));
        }

        const d = await res.json();

        S.models = (d.data || []).map((m) => m.id);
    } catch (e) {
        toast(t('chat.models_failed', { msg: errText(e) }), 'error');
    }

    if (!S.model) {
        S.model = (S.chat && S.chat.model) || S.models[0] || '';
    }

    showHead();
}

async function openChat(id) {
    if (!id) {
        S.chat = null;
        showHead();
        showMessages();
        showList();
        return;
    }

    try {
        S.chat = await api('GET', 'chats/' + id);
        S.model = S.chat.model || S.model;
    } catch (e) {
        fail(e);
        S.chat = null;
    }

    showHead();
    showMessages();
    showList();
}

async function rename(c) {
    await formDialog(t('chat.rename'), [
        { name: 'title', label: t('chat.title'), value: c.title,
          required: true },
    ], async (v) => {
        const d = await api('PATCH', 'chats/' + c.id, { title: v.title });

        if (S.chat && S.chat.id === c.id) {
            S.chat.title = d.title;
        }

        toast(t('common.saved'));
        showHead();
        await loadList();
    }, { submitLabel: t('common.save') });
}

async function remove(c) {
    if (!await ask(t('chat.delete_confirm', { title: c.title
                                                     || t('chat.untitled') }),
                   t('common.delete')))
    {
        return;
    }

    try {
        await api('DELETE', 'chats/' + c.id);
        toast(t('common.deleted'));
    } catch (e) {
        fail(e);
    }

    if (S.chat && S.chat.id === c.id) {
        S.chat = null;
        location.hash = '#/chat';
        showHead();
        showMessages();
    }

    await loadList();
}

function newChat() {
    if (S.abort) {
        return;
    }

    S.chat = null;
    S.files = [];
    showFiles();
    S.listOpen = false;
    $('#view-chat .chat-page').classList.remove('list-open');

    if (location.hash !== '#/chat') {
        location.hash = '#/chat';
    }

    showHead();
    showMessages();
    showList();

    $('#chat-input').focus();
}


/* the turn's user message for /v1: text, images inline, files uploaded */
async function userContent(text, files, signal) {
    if (!files.length) {
        return text;
    }

    const parts = [{ type: 'text', text }];

    for (const f of files) {
        if (/^image\//.test(f.type)) {
            parts.push({ type: 'image_url',
                         image_url: { url: await readDataUrl(f) } });
            continue;
        }

        const form = new FormData();

        form.append('purpose', 'user_data');
        form.append('file', f, f.name);

        const res = await v1('files', { method: 'POST', body: form, signal });

        if (!res.ok) {
            throw new Error(t('chat.upload_failed', { name: f.name,
                                                      msg: await v1Error(
                                                          res) }));
        }

        const d = await res.json();

        parts.push({ type: 'file', file_id: d.id });
    }

    return parts;
}

/* media parts of a non-streamed or streamed answer as Markdown */
function partsText(content) {
    if (typeof content === 'string') {
        return content;
    }

    if (!Array.isArray(content)) {
        return '';
    }

    return content.map((p) => {
        if (p.type === 'text') {
            return p.text || '';
        }

        if (p.type === 'image_url' && p.image_url) {
            return '\n\n![image](' + p.image_url.url + ')\n\n';
        }

        return '';
    }).join('');
}

/* reads an SSE body, calling on(delta) per chunk */
async function readStream(res, on) {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';

    for (;;) {
        const { value, done } = await reader.read();

        if (done) {
            break;
        }

        buf += dec.decode(value, { stream: true });

        let i;

        while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);

            for (const line of ev.split('\n')) {
                if (!line.startsWith('data:')) {
                    continue;
                }

                const data = line.slice(5).trim();

                if (data === '[DONE]') {
                    return;
                }

                let j;

                try {
                    j = JSON.parse(data);
                } catch (e) {
                    continue;
                }

                if (j.error) {
                    throw new Error(j.error.message || 'error');
                }

                const c = j.choices && j.choices[0];

                if (c && c.delta) {
                    on(c.delta);
                }
            }
        }
    }
}

async function send() {
    const input = $('#chat-input');
    const text = input.value.trim();

    if ((!text && !S.files.length) || S.abort) {
        return;
    }

    const files = S.files.slice();

    /* a new conversation is made on the server first: its id is the turn's
       conversation_id */
    if (!S.chat) {
        try {
            S.chat = await api('POST', 'chats', { model: S.model });
        } catch (e) {
            fail(e);
            return;
        }

        window.history.replaceState(null, '', '#/chat/' + S.chat.id);
    }

    const chat = S.chat;
    const earlier = chat.messages.map((m) => ({ role: m.role,
                                                content: m.content }));
    const user = { role: 'user', content: text,
                   attachments: files.map((f) => ({
                       name: f.name, type: f.type, size: f.size })) };
    const answer = { role: 'assistant', content: '', reasoning: '' };

    if (!user.attachments.length) {
        delete user.attachments;
    }

    input.value = '';
    S.files = [];
    showFiles();

    chat.messages.push(user);
    showMessages();

    const log = $('#chat-log');
    let node = messageNode(answer);

    node.classList.add('pending');
    log.append(node);
    log.scrollTop = log.scrollHeight;

    const ctl = new AbortController();
    let drawn = 0;
    let timer = null;

    const redraw = () => {
        timer = null;

        const n = messageNode(answer);
        const was = $('details', node);

        /* thoughts opened while they stream stay open */
        if (was && was.open && $('details', n)) {
            $('details', n).open = true;
        }

        n.classList.add('pending');
        node.replaceWith(n);
        node = n;
        drawn = Date.now();

        const near = log.scrollHeight - log.scrollTop - log.clientHeight;

        if (near < 200) {
            log.scrollTop = log.scrollHeight;
        }
    };

    const later = () => {
        if (!timer) {
            timer = setTimeout(redraw, Math.max(0, 80 - (Date.now()
                                                          - drawn)));
        }
    };

    S.abort = ctl;
    running(true);

    let stopped = false;

    try {
        const body = {
            model: S.model,
            stream: S.stream,
            conversation_id: String(chat.id),
            image_format: 'markdown',
            messages: earlier.concat([{ role: 'user',
                                        content: await userContent(
                                            text, files, ctl.signal) }]),
        };

        const res = await v1('chat/completions', {
            method: 'POST', signal: ctl.signal,
            headers: { 'Content-Type': 'application/json',
                       Accept: S.stream ? 'text/event-stream'
                                        : 'application/json' },
            body: JSON.stringify(body) });

        if (!res.ok) {
            throw new Error(await v1Error(res));
        }

        if (S.stream) {
            await readStream(res, (d) => {
                if (d.reasoning_content) {
                    answer.reasoning += d.reasoning_content;
                }

                if (d.content) {
                    answer.content += partsText(d.content);
                }

                later();
            });
        } else {
            const d = await res.json();
            const m = (d.choices && d.choices[0] && d.choices[0].message)
                      || {};

            answer.content = partsText(m.content);
            answer.reasoning = m.reasoning_content || '';
        }
    } catch (e) {
        if (e.name === 'AbortError') {
            stopped = true;
        } else {
            answer.error = errText(e);
        }
    }

    clearTimeout(timer);
    S.abort = null;

    if (stopped) {
        answer.error = t('chat.stopped');
    }

    if (!answer.reasoning) {
        delete answer.reasoning;
    }

    chat.messages.push(answer);

    /* the finished turn is kept (a stopped one with what came) */
    const keep = [user];

    if (answer.content || answer.reasoning) {
        keep.push({ role: 'assistant', content: answer.content,
                    reasoning: answer.reasoning });
    }

    try {
        await api('POST', 'chats/' + chat.id + '/messages',
                  { messages: keep.map((m) => {
                      const o = { role: m.role, content: m.content };

                      if (m.reasoning) {
                          o.reasoning = m.reasoning;
                      }

                      if (m.attachments) {
                          o.attachments = m.attachments;
                      }

                      return o;
                  }) });
    } catch (e) {
        fail(e);
    }

    running(false);

    if (S.chat === chat) {
        const n = messageNode(answer);

        n.classList.toggle('stopped', stopped);
        node.replaceWith(n);
        log.scrollTop = log.scrollHeight;

        if (!chat.title) {
            chat.title = text.replace(/\s+/g, ' ').slice(0, 60);
            showHead();
        }
    }

    /* another conversation was picked while this one ran */
    if (hashId() !== (S.chat ? S.chat.id : 0)) {
        await openChat(hashId());
    }

    await loadList();
}

function stop() {
    if (S.abort) {
        S.abort.abort();
    }
}


function build(s) {
    const search = el('input', { type: 'search', id: 'chat-search',
                                 placeholder: t('chat.search'),
                                 'aria-label': t('chat.search'),
                                 value: S.q });
    let wait = null;

    search.addEventListener('input', () => {
        clearTimeout(wait);
        wait = setTimeout(() => {
            S.q = search.value.trim();
            loadList();
        }, 250);
    });

    const input = el('textarea', { id: 'chat-input', rows: 3,
                                   placeholder: t('chat.placeholder'),
                                   'aria-label': t('chat.placeholder') });

    /* Enter sends, Shift+Enter is a new line */
    input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
        }
    });

    const file = el('input', { type: 'file', id: 'chat-file', multiple: true,
                               class: 'visually-hidden',
                               accept: 'image/*,application/pdf,text/*' });

    file.addEventListener('change', () => {
        S.files.push(...file.files);
        file.value = '';
        showFiles();
    });

    const model = el('select', { id: 'chat-model',
                                 'aria-label': t('chat.model') });

    model.addEventListener('change', async () => {
        S.model = model.value;

        if (S.chat) {
            try {
                await api('PATCH', 'chats/' + S.chat.id, { model: S.model });
                S.chat.model = S.model;
            } catch (e) {
                fail(e);
            }
        }
    });

    const stream = el('input', { type: 'checkbox', id: 'chat-stream',
                                 checked: S.stream });

    stream.addEventListener('change', () => {
        S.stream = stream.checked;
    });

    const page = el('div', { class: 'chat-page' },
        el('aside', { class: 'chat-side', 'aria-label': t('chat.list') },
           el('div', { class: 'chat-side-head' },
              el('button', { type: 'button', id: 'chat-new',
                             text: t('chat.new'), onclick: newChat }),
              search),
           el('ul', { id: 'chat-list', class: 'chat-list' })),
        el('div', { class: 'chat-main' },
           el('div', { class: 'chat-bar' },
              el('button', { type: 'button', id: 'chat-list-toggle',
                             class: 'ghost small',
                             text: t('chat.list'),
                             'aria-controls': 'chat-list',
                             onclick: () => {
                                 S.listOpen = !S.listOpen;
                                 page.classList.toggle('list-open',
                                                       S.listOpen);
                             } }),
              el('h1', { id: 'chat-title', class: 'chat-title' }),
              el('label', { class: 'chat-opt' },
                 el('span', { text: t('chat.model') }), model),
              el('label', { class: 'chat-opt check' }, stream,
                 el('span', { text: t('chat.stream') }))),
           el('div', { id: 'chat-log', class: 'chat-log',
                       'aria-live': 'polite' }),
           el('form', { id: 'chat-form', class: 'chat-form',
                        onsubmit: (e) => {
                            e.preventDefault();
                            send();
                        } },
              el('div', { id: 'chat-files', class: 'chat-files',
                          hidden: true }),
              input,
              el('div', { class: 'chat-actions' },
                 file,
                 el('label', { for: 'chat-file', class: 'button ghost',
                               id: 'chat-attach',
                               text: t('chat.attach') }),
                 el('span', { class: 'chat-hint muted',
                              text: t('chat.hint') }),
                 el('button', { type: 'button', id: 'chat-stop',
                                class: 'danger', hidden: true,
                                text: t('chat.stop'), onclick: stop }),
                 el('button', { type: 'submit', id: 'chat-send',
                                text: t('chat.send') })))));

    s.replaceChildren(page);
}


export const chat = {
    lang: null,

    enter() {
        S.listOpen = false;
    },

    render() {
        const s = section('chat');
        const lang = getLang();

        /* built once per language: a turn under way keeps its nodes */
        if (!S.built || this.lang !== lang) {
            if (S.abort && S.built) {
                return;
            }

            build(s);
            S.built = true;
            this.lang = lang;
            showHead();
            showMessages();
            showList();
            showFiles();
        }

        const page = $('.chat-page', s);

        if (page) {
            page.classList.toggle('list-open', S.listOpen);
        }
    },

    async load() {
        const id = hashId();

        /* (read again each time: the history may have added to it) */
        if (!S.abort) {
            await openChat(id);
        }

        await loadList();

        if (!S.models.length) {
            await loadModels();
        }
    },
};

export { dropCredential };
