// The console's Markdown renderer (admin-ui/js/markdown.js), run by
// node's test runner: t/172-console-markdown.t runs it.  The modules are
// loaded from their sources as the browser gets them (data: URLs; the
// renderer's import of dom.js pointed at dom.js's own data: URL), over a
// small stand-in for the browser's document that records every element
// and attribute made, so the test sees exactly what a page would get.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (p) => readFileSync(new URL('../../admin-ui/js/' + p,
                                         import.meta.url), 'utf8');
const url = (src) => 'data:text/javascript,' + encodeURIComponent(src);

/* the stand-in DOM */
class FakeNode {
    constructor(tag, text) {
        this.tagName = tag;            /* '#text', '#fragment' or a tag */
        this.attrs = {};
        this.kids = [];
        this.dataset = {};
        this.listeners = {};
        this.text = text || '';
        this.classList = { add() {}, remove() {} };
    }
    set textContent(v) { this.kids = [new FakeNode('#text', String(v))]; }
    get textContent() {
        return this.tagName === '#text' ? this.text
               : this.kids.map((k) => k.textContent).join('');
    }
    set className(v) { this.attrs.class = v; }
    setAttribute(k, v) { this.attrs[k] = String(v); }
    addEventListener(k, fn) { this.listeners[k] = fn; }
    append(...c) { this.kids.push(...c); }
}
globalThis.Node = FakeNode;
globalThis.document = {
    createElement: (t) => new FakeNode(t.toUpperCase()),
    createTextNode: (t) => new FakeNode('#text', t),
    createDocumentFragment: () => new FakeNode('#fragment'),
};

const dom = url(read('dom.js'));
const md = read('markdown.js').replace("from './dom.js'",
                                       'from ' + JSON.stringify(dom));
const { parse, inline, render, safeUrl, isVideo } = await import(url(md));

function walk(n, fn) {
    fn(n);
    n.kids.forEach((k) => walk(k, fn));
}

function tags(n) {
    const out = [];
    walk(n, (x) => { if (!x.tagName.startsWith('#')) out.push(x.tagName); });
    return out;
}

/* what the renderer may make, and the attributes it may set */
const TAGS = new Set(['P', 'BR', 'CODE', 'STRONG', 'EM', 'DEL', 'A', 'IMG',
                      'VIDEO', 'SPAN', 'H3', 'H4', 'H5', 'H6', 'HR',
                      'BLOCKQUOTE', 'UL', 'OL', 'LI', 'DIV', 'PRE',
                      'BUTTON']);
const ATTRS = new Set(['class', 'href', 'target', 'rel', 'src', 'alt',
                       'controls', 'preload', 'title', 'start', 'type',
                       'loading']);

function checkSafe(frag) {
    walk(frag, (x) => {
        if (x.tagName.startsWith('#')) {
            return;
        }
        assert.ok(TAGS.has(x.tagName), 'tag ' + x.tagName);
        for (const [k, v] of Object.entries(x.attrs)) {
            assert.ok(ATTRS.has(k), 'attribute ' + k);
            if (k === 'href' || k === 'src') {
                assert.ok(safeUrl(v), k + ' ' + v);
            }
        }
    });
}

test('hostile HTML in a message stays text', () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(1)>'
                 + '<a href="javascript:alert(2)">x</a> & &amp; <b>b</b>';
    const f = render(evil);
    assert.deepEqual(tags(f), ['P']);
    assert.equal(f.textContent, evil);
    checkSafe(f);
});

test('HTML inside code blocks, emphasis and links stays text', () => {
    const f = render('**<i>x</i>** `<b>` [<svg onload=1>](/ok)\n\n'
                     + '```html\n<script>alert(1)</script>\n```');
    assert.deepEqual(tags(f), ['P', 'STRONG', 'CODE', 'A', 'DIV', 'DIV',
                               'SPAN', 'BUTTON', 'PRE', 'CODE']);
    assert.match(f.textContent, /<i>x<\/i>/);
    assert.match(f.textContent, /<svg onload=1>/);
    assert.match(f.textContent, /<script>alert\(1\)<\/script>/);
    checkSafe(f);
});

test('links only to http, https or relative URLs', () => {
    for (const u of ['https://example.com/a?b=1', 'http://x.y', '/image/a.png',
                     'docs/page', '#top', '?q=1', './a', '../b']) {
        assert.equal(safeUrl(u), u, u);
    }
    for (const u of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)',
                     ' javascript:alert(1)', 'data:text/html,<b>',
                     'vbscript:x', 'file:///etc/passwd', '//evil.example/',
                     '\\\\evil', 'java\tscript:x', 'java\nscript:x', '']) {
        assert.equal(safeUrl(u), null, JSON.stringify(u));
    }
    const f = render('[a](javascript:alert(1)) [b](data:text/html,x) '
                     + '![c](javascript:x) [d](https://ok.example/)');
    const links = [];
    walk(f, (x) => { if (x.tagName === 'A') links.push(x.attrs.href); });
    assert.deepEqual(links, ['https://ok.example/']);
    assert.match(f.textContent, /\[a\]\(javascript:alert\(1\)\)/);
    checkSafe(f);
});

test('links open apart, without the opener', () => {
    const f = render('see https://example.com/x.');
    const a = f.kids[0].kids[1];
    assert.equal(a.tagName, 'A');
    assert.equal(a.attrs.href, 'https://example.com/x');
    assert.equal(a.attrs.rel, 'noopener noreferrer');
    assert.equal(a.attrs.target, '_blank');
    assert.equal(f.textContent, 'see https://example.com/x.');
});

test('paragraphs, line breaks, emphasis, strike, inline code', () => {
    assert.deepEqual(parse('one\ntwo\n\nthree'), [
        { t: 'p', kids: [{ t: 'text', text: 'one' }, { t: 'br' },
                         { t: 'text', text: 'two' }] },
        { t: 'p', kids: [{ t: 'text', text: 'three' }] }]);
    assert.deepEqual(inline('a **b** *c* _d_ ~~e~~ `f*g*`'), [
        { t: 'text', text: 'a ' },
        { t: 'strong', kids: [{ t: 'text', text: 'b' }] },
        { t: 'text', text: ' ' },
        { t: 'em', kids: [{ t: 'text', text: 'c' }] },
        { t: 'text', text: ' ' },
        { t: 'em', kids: [{ t: 'text', text: 'd' }] },
        { t: 'text', text: ' ' },
        { t: 'del', kids: [{ t: 'text', text: 'e' }] },
        { t: 'text', text: ' ' },
        { t: 'code', text: 'f*g*' }]);
    assert.deepEqual(inline('2 * 3 * 4, snake_case_name, **open'),
                     [{ t: 'text', text: '2 * 3 * 4, snake_case_name, '
                                        + '**open' }]);
    assert.deepEqual(inline('\\*not em\\*'), [{ t: 'text',
                                               text: '*not em*' }]);
});

test('headings, lists, quotes, rules', () => {
    const b = parse('# Title\n\n- a\n- b **c**\n  more\n\n3. x\n4. y\n\n'
                    + '> quoted\n> on\n\n---');
    assert.deepEqual(b.map((x) => x.t), ['h', 'ul', 'ol', 'quote', 'hr']);
    assert.equal(b[0].level, 1);
    assert.equal(b[1].items.length, 2);
    assert.deepEqual(b[1].items[1].map((x) => x.t),
                     ['text', 'strong', 'br', 'text']);
    assert.equal(b[2].start, 3);
    assert.equal(b[2].items.length, 2);
    assert.deepEqual(tags(render('# T\n\n1. a\n2. b')),
                     ['H3', 'OL', 'LI', 'LI']);
});

test('fenced code keeps its text and gets a Copy button', () => {
    const b = parse('```js\nconst a = 1;\n\n  if (a) { b(); }\n```\nafter');
    assert.deepEqual(b[0], { t: 'code', lang: 'js',
                             text: 'const a = 1;\n\n  if (a) { b(); }' });
    assert.deepEqual(b[1].t, 'p');
    const f = render('```\nx\n```', { copy: '复制' });
    let button = null;
    walk(f, (x) => { if (x.tagName === 'BUTTON') button = x; });
    assert.equal(button.textContent, '复制');
    assert.equal(typeof button.listeners.click, 'function');
    /* an unclosed fence runs to the end */
    assert.deepEqual(parse('```\nopen'), [{ t: 'code', lang: '',
                                           text: 'open' }]);
});

test('generated images and videos inline', () => {
    assert.ok(isVideo('/video/abc123.mp4'));
    assert.ok(isVideo('http://h:1/video/abc'));
    assert.ok(!isVideo('/image/abc.png'));
    const f = render('Here:\n\n![image](http://127.0.0.1:8080/image/ab.png)'
                     + '\n\n[video](/video/cd.mp4)');
    const media = [];
    walk(f, (x) => {
        if (x.tagName === 'IMG' || x.tagName === 'VIDEO') {
            media.push([x.tagName, x.attrs.src]);
        }
    });
    assert.deepEqual(media, [['IMG', 'http://127.0.0.1:8080/image/ab.png'],
                             ['VIDEO', '/video/cd.mp4']]);
    checkSafe(f);
});

test('empty and odd input', () => {
    assert.deepEqual(parse(''), []);
    assert.deepEqual(parse(null), []);
    assert.deepEqual(parse('\r\n\r\n'), []);
    assert.equal(render('a\r\nb').textContent, 'ab');
    assert.deepEqual(tags(render('[x](</a b>)')), ['P']);
});
