/*
 * A small Markdown renderer of the console's own (the chat page, the
 * history): text in, DOM nodes out, every node made by el() and every
 * piece of text a text node, so a message can never become HTML.
 *
 * parse(text) gives a tree of plain objects (unit-tested in node:
 * t/node/markdown.test.mjs); render(text) turns it into a
 * DocumentFragment.  What it knows: paragraphs (a line break is kept),
 * headings, lists (bulleted and numbered, one level), block quotes, rules,
 * fenced code blocks (with a Copy button), and inline code, **strong**,
 * *emphasis*, ~~strike~~, links and bare http(s) URLs, images.  A link or
 * an image goes only to http, https or a relative URL (anything else stays
 * text); an image or link to a video (/video/ or .mp4, .webm, .mov) is a
 * <video> player, as generated media come as same-origin /image/ and
 * /video/ links.
 */

import { el } from './dom.js';


/* http, https or relative (not "//host", no other scheme): or null */
export function safeUrl(url) {
    const u = String(url || '').trim();

    if (u === '' || /[\u0000-\u001f\s]/.test(u) || u.startsWith('//')
        || u.startsWith('\\'))
    {
        return null;
    }

    const scheme = u.match(/^([A-Za-z][A-Za-z0-9+.-]*):/);

    if (scheme) {
        return /^https?$/i.test(scheme[1]) ? u : null;
    }

    return u;
}

export function isVideo(url) {
    const path = String(url).split(/[?#]/)[0];

    return /(^|\/)video\/[^/]+$/.test(path)
           || /\.(mp4|webm|mov|m4v)$/i.test(path);
}


/* inline: a list of nodes {t: 'text'|'code'|'strong'|'em'|'del'|'link'|
   'img'|'br', ...} */

const INLINE = [
    /* `code` (any run of backticks) */
    { re: /^(`+)([^]*?[^`])\1(?!`)/, make: (m) => ({ t: 'code',
                                                      text: m[2].trim() }) },
    /* ![alt](url) */
    { re: /^!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/,
      make: (m) => (safeUrl(m[2]) ? { t: 'img', alt: m[1], src: m[2] }
                                  : null) },
    /* [text](url) */
    { re: /^\[((?:[^\[\]\n]|\[[^\]\n]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/,
      make: (m) => (safeUrl(m[2]) ? { t: 'link', href: m[2],
                                      kids: inline(m[1]) }
                                  : null) },
    /* a bare URL */
    { re: /^https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"\]]/i,
      make: (m) => ({ t: 'link', href: m[0], kids: [{ t: 'text',
                                                      text: m[0] }] }) },
    { re: /^\*\*(?=\S)([^]*?\S)\*\*/, make: (m) => ({ t: 'strong',
                                                      kids: inline(m[1]) }) },
    { re: /^__(?=\S)([^]*?\S)__(?!\w)/, make: (m) => ({ t: 'strong',
                                                      kids: inline(m[1]) }) },
    { re: /^~~(?=\S)([^]*?\S)~~/, make: (m) => ({ t: 'del',
                                                  kids: inline(m[1]) }) },
    { re: /^\*(?=[^\s*])([^*]*?[^\s*])\*/, make: (m) => ({ t: 'em',
                                                   kids: inline(m[1]) }) },
    { re: /^_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/, make: (m) => ({ t: 'em',
                                                   kids: inline(m[1]) }) },
    { re: /^ *\n/, make: () => ({ t: 'br' }) },
];

export function inline(text) {
    const out = [];
    let s = String(text);
    let plain = '';

    const flush = () => {
        if (plain) {
            out.push({ t: 'text', text: plain });
            plain = '';
        }
    };

    while (s.length) {
        let done = false;

        /* a backslash escapes punctuation */
        if (s[0] === '\\' && /^[\\`*_{}\[\]()#+\-.!~>|]/.test(s.slice(1))) {
            plain += s[1];
            s = s.slice(2);
            continue;
        }

        /* only where a rule can start; a bare URL not inside a word */
        if (/[`!\[*_~\n h]/.test(s[0])
            && !(s[0] === 'h' && /\w$/.test(plain)))
        {
            for (const r of INLINE) {
                const m = s.match(r.re);

                if (!m) {
                    continue;
                }

                const node = r.make(m);

                if (node) {
                    flush();
                    out.push(node);
                    s = s.slice(m[0].length);
                    done = true;
                    break;
                }
            }
        }

        if (!done) {
            plain += s[0];
            s = s.slice(1);
        }
    }

    flush();

    return out;
}


/* blocks: {t: 'p'|'h'|'ul'|'ol'|'quote'|'hr'|'code', ...} */

export function parse(text) {
    const lines = String(text || '').replace(/\r\n?/g, '\n').split('\n');
    const out = [];
    let para = [];
    let i = 0;

    const flush = () => {
        if (para.length) {
            out.push({ t: 'p', kids: inline(para.join('\n')) });
            para = [];
        }
    };

    while (i < lines.length) {
        const line = lines[i];
        let m;

        if ((m = line.match(/^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/))) {
            flush();
            const fence = m[1];
            const code = [];
            i++;

            while (i < lines.length
                   && !(lines[i].trim().startsWith(fence)
                        && lines[i].trim().replace(/[`~]/g, '') === ''))
            {
                code.push(lines[i]);
                i++;
            }

            i++;
            out.push({ t: 'code', lang: m[2] || '', text: code.join('\n') });
            continue;
        }

        if (line.trim() === '') {
            flush();
            i++;
            continue;
        }

        if ((m = line.match(/^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/))) {
            flush();
            out.push({ t: 'h', level: m[1].length, kids: inline(m[2]) });
            i++;
            continue;
        }

        if (/^ {0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
            flush();
            out.push({ t: 'hr' });
            i++;
            continue;
        }

        if (/^ {0,3}>/.test(line)) {
            flush();
            const q = [];

            while (i < lines.length && /^ {0,3}>/.test(lines[i])) {
                q.push(lines[i].replace(/^ {0,3}> ?/, ''));
                i++;
            }

            out.push({ t: 'quote', kids: parse(q.join('\n')) });
            continue;
        }

        const item = /^ {0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

        if ((m = line.match(item))) {
            flush();
            const ordered = /\d/.test(m[1]);
            const list = { t: ordered ? 'ol' : 'ul', items: [] };

            if (ordered && parseInt(m[1], 10) !== 1) {
                list.start = parseInt(m[1], 10);
            }

            let cur = [m[2]];
            i++;

            while (i < lines.length) {
                const l = lines[i];
                const n = l.match(item);

                if (n && /\d/.test(n[1]) === ordered) {
                    list.items.push(inline(cur.join('\n')));
                    cur = [n[2]];
                } else if (l.trim() !== '' && /^\s+\S/.test(l)) {
                    cur.push(l.trim());
                } else if (l.trim() === '' && i + 1 < lines.length
                           && lines[i + 1].match(item)
                           && /\d/.test(lines[i + 1].match(item)[1])
                              === ordered)
                {
                    /* a blank line between items: the same list */
                } else {
                    break;
                }

                i++;
            }

            list.items.push(inline(cur.join('\n')));
            out.push(list);
            continue;
        }

        para.push(line);
        i++;
    }

    flush();

    return out;
}


/* the tree as nodes */

function copyButton(text, label) {
    const b = el('button', { type: 'button', class: 'ghost small md-copy',
                             text: label });

    b.addEventListener('click', () => {
        const done = () => {
            b.classList.add('copied');
            setTimeout(() => b.classList.remove('copied'), 1500);
        };

        if (navigator.clipboard && navigator.clipboard.writeText) {
            navigator.clipboard.writeText(text).then(done, () => {});
        }
    });

    return b;
}

function media(src, alt, opt) {
    if (isVideo(src)) {
        return el('video', { class: 'md-video', src, controls: true,
                             preload: 'metadata', title: alt || null });
    }

    return el('a', { href: src, target: '_blank',
                     rel: 'noopener noreferrer', class: 'md-img-link' },
              el('img', { class: 'md-img', src, alt: alt || '',
                          loading: opt.lazy ? 'lazy' : null }));
}

function inlineNodes(list, opt) {
    return list.map((n) => {
        switch (n.t) {
        case 'text':
            return document.createTextNode(n.text);
        case 'br':
            return el('br');
        case 'code':
            return el('code', { text: n.text });
        case 'strong':
            return el('strong', null, inlineNodes(n.kids, opt));
        case 'em':
            return el('em', null, inlineNodes(n.kids, opt));
        case 'del':
            return el('del', null, inlineNodes(n.kids, opt));
        case 'img':
            return media(n.src, n.alt, opt);
        case 'link':
            /* [video](URL): the player, with the link under it */
            if (isVideo(n.href)) {
                return el('span', { class: 'md-media' },
                          media(n.href, '', opt),
                          el('a', { href: n.href, target: '_blank',
                                    rel: 'noopener noreferrer' },
                             inlineNodes(n.kids, opt)));
            }

            return el('a', { href: n.href, target: '_blank',
                             rel: 'noopener noreferrer' },
                      inlineNodes(n.kids, opt));
        default:
            return null;
        }
    });
}

function blockNodes(list, opt) {
    return list.map((b) => {
        switch (b.t) {
        case 'p':
            return el('p', null, inlineNodes(b.kids, opt));
        case 'h':
            return el('h' + Math.min(b.level + 2, 6), { class: 'md-h' },
                      inlineNodes(b.kids, opt));
        case 'hr':
            return el('hr');
        case 'quote':
            return el('blockquote', null, blockNodes(b.kids, opt));
        case 'ul':
        case 'ol':
            return el(b.t, { start: b.start || null },
                      b.items.map((it) => el('li', null,
                                             inlineNodes(it, opt))));
        case 'code':
            return el('div', { class: 'md-code' },
                      el('div', { class: 'md-code-head' },
                         el('span', { class: 'md-lang', text: b.lang }),
                         copyButton(b.text, opt.copy)),
                      el('pre', null,
                         el('code', { text: b.text,
                                      class: b.lang ? 'lang-' + b.lang
                                                    : null })));
        default:
            return null;
        }
    });
}

/*
 * opt: { copy: the Copy button's label, lazy: images load lazily };
 * returns a DocumentFragment
 */
export function render(text, opt) {
    opt = Object.assign({ copy: 'Copy', lazy: false }, opt || {});

    const f = document.createDocumentFragment();

    for (const n of blockNodes(parse(text), opt)) {
        if (n) {
            f.append(n);
        }
    }

    return f;
}
