/*
 * The dashboard's charts, drawn as SVG by this module alone (no library):
 * chart() makes a <figure> with a title, the SVG and a legend, and draws
 * it again when its width changes (a ResizeObserver), so that text keeps
 * its size at any width.  Bars or lines over time buckets; a y axis with
 * round steps and the unit; an x axis with clock times; a tooltip with
 * every series' value in the bucket under the pointer (or the keyboard's
 * focus: arrows move it).  Colours are CSS classes (.s0 ... .s7, .s-err)
 * that style.css maps to custom properties, so both themes apply and no
 * style attribute is needed under the console's CSP.  Every node is made
 * with createElementNS or el(): no HTML is parsed.
 *
 *   chart({ id, title, unit, kind: 'bar' | 'line', times, bucket,
 *           series: [{ name, label, cls, values }], fmt })
 *
 * values[i] is the figure of the bucket starting at times[i] (seconds),
 * null where there is none (a line breaks there).  Each bar or point
 * carries data-i (the bucket) and data-v (the value), for the tests.
 */

import { el } from './dom.js';
import { getLang } from '../i18n.js';


const NS = 'http://www.w3.org/2000/svg';
const HEIGHT = 190;
const PAD = { top: 12, right: 12, bottom: 26, left: 52 };


function svg(tag, attrs, ...kids) {
    const n = document.createElementNS(NS, tag);

    for (const [k, v] of Object.entries(attrs || {})) {
        if (v !== undefined && v !== null) {
            n.setAttribute(k, String(v));
        }
    }

    for (const c of kids) {
        if (c) {
            n.append(c);
        }
    }

    return n;
}


/* a round step for about n intervals up to max: 1, 2 or 5 times 10^k */
export function niceStep(max, n) {
    if (!(max > 0)) {
        return 1;
    }

    const raw = max / n;
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / pow;

    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}


function clock(sec, withDate) {
    const d = new Date(sec * 1000);
    const o = { hour: '2-digit', minute: '2-digit', hour12: false };

    if (withDate) {
        o.month = 'numeric';
        o.day = 'numeric';
    }

    return d.toLocaleString(getLang(), o);
}


function draw(fig, c) {
    const width = Math.max(240, Math.floor(fig.clientWidth));

    if (fig.drawnWidth === width) {
        return;
    }

    fig.drawnWidth = width;

    const n = c.times.length;
    const w = width - PAD.left - PAD.right;
    const h = HEIGHT - PAD.top - PAD.bottom;
    const fmt = c.fmt || String;

    let max = 0;

    for (const s of c.series) {
        for (const v of s.values) {
            if (v !== null && v > max) {
                max = v;
            }
        }
    }

    /* whole steps: counts and milliseconds have no fractions */
    const step = Math.max(1, niceStep(max || 1, 4));
    const top = Math.max(step, Math.ceil((max || 1) / step) * step);
    const slot = w / n;
    const x = (i) => PAD.left + slot * i + slot / 2;
    const y = (v) => PAD.top + h - (v / top) * h;

    const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + HEIGHT,
                              width, height: HEIGHT, class: 'chart-svg',
                              role: 'img', 'aria-label': c.title });

    /* the y axis: gridlines with their values */
    const grid = svg('g', { class: 'grid' });

    for (let v = 0; v <= top + step / 2; v += step) {
        grid.append(svg('line', { x1: PAD.left, x2: PAD.left + w,
                                  y1: y(v), y2: y(v) }));
        const label = svg('text', { x: PAD.left - 6, y: y(v) + 4,
                                    class: 'axis', 'text-anchor': 'end' });
        label.textContent = fmt(v);
        grid.append(label);
    }

    root.append(grid);

    /* the x axis: about six clock times */
    const xs = svg('g', { class: 'x-axis' });
    const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(w / 80))));
    const withDate = c.bucket >= 1800;

    /* counted back from the present, which always has its time */
    for (let i = n - 1; i >= 0; i -= every) {
        const t = svg('text', { x: x(i), y: HEIGHT - 8, class: 'axis',
                                'text-anchor': 'middle' });
        t.textContent = clock(c.times[i], withDate && i < every);
        xs.append(t);
    }

    xs.append(svg('line', { x1: PAD.left, x2: PAD.left + w,
                            y1: PAD.top + h, y2: PAD.top + h,
                            class: 'base' }));
    root.append(xs);

    /* the series */
    c.series.forEach((s, k) => {
        const g = svg('g', { class: 'series ' + (s.cls || 's' + k),
                             'data-series': s.name });

        if (c.kind === 'bar') {
            const bw = Math.max(1, slot * 0.7);

            s.values.forEach((v, i) => {
                if (v === null || v === undefined || v === 0) {
                    return;
                }

                g.append(svg('rect', {
                    x: (x(i) - bw / 2).toFixed(1),
                    y: y(v).toFixed(1),
                    width: bw.toFixed(1),
                    height: (PAD.top + h - y(v)).toFixed(1),
                    'data-i': i, 'data-v': v,
                }));
            });
        } else {
            let d = '';
            let pen = false;

            s.values.forEach((v, i) => {
                if (v === null || v === undefined) {
                    pen = false;
                    return;
                }

                d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' '
                     + y(v).toFixed(1) + ' ';
                pen = true;
                g.append(svg('circle', { cx: x(i).toFixed(1),
                                         cy: y(v).toFixed(1), r: 3,
                                         'data-i': i, 'data-v': v }));
            });

            g.prepend(svg('path', { d: d.trim() || 'M0 0', class: 'line' }));
        }

        root.append(g);
    });

    /* the pointer's bucket: a guide and the tooltip */
    const guide = svg('line', { class: 'guide', y1: PAD.top,
                                y2: PAD.top + h, visibility: 'hidden' });
    root.append(guide);

    const show = (i) => {
        if (i < 0 || i >= n) {
            hide();
            return;
        }

        fig.focusIndex = i;
        guide.setAttribute('x1', x(i));
        guide.setAttribute('x2', x(i));
        guide.setAttribute('visibility', 'visible');

        const tip = fig.tip;
        tip.replaceChildren(
            el('div', { class: 'tip-time',
                        text: clock(c.times[i], withDate) + ' – '
                              + clock(c.times[i] + c.bucket, false) }),
            ...c.series.map((s, k) =>
                el('div', { class: 'tip-row' },
                   el('span', { class: 'swatch ' + (s.cls || 's' + k) }),
                   el('span', { text: s.label + ': ' }),
                   el('b', { text: s.values[i] === null
                                   || s.values[i] === undefined
                                   ? '–' : fmt(s.values[i]) }))));
        tip.hidden = false;

        const left = x(i) + 12;
        tip.style.left = Math.min(left, width - tip.offsetWidth - 4) + 'px';
        tip.style.top = PAD.top + 'px';
    };

    const hide = () => {
        guide.setAttribute('visibility', 'hidden');
        fig.tip.hidden = true;
    };

    root.addEventListener('pointermove', (e) => {
        const r = root.getBoundingClientRect();
        const px = (e.clientX - r.left) * (width / r.width);

        show(Math.floor((px - PAD.left) / slot));
    });
    root.addEventListener('pointerleave', hide);

    fig.show = show;
    fig.hide = hide;

    const old = fig.querySelector('svg');

    if (old) {
        old.replaceWith(root);
    } else {
        fig.tip.before(root);
    }

    /* focused before it was drawn (a refresh): the tooltip at once */
    if (document.activeElement === fig) {
        show(fig.focusIndex === undefined || fig.focusIndex >= n
             ? n - 1 : fig.focusIndex);
    }
}


export function chart(c) {
    const legend = el('ul', { class: 'legend' },
        c.series.map((s, k) =>
            el('li', null,
               el('span', { class: 'swatch ' + (s.cls || 's' + k) }),
               el('span', { text: s.label }),
               s.total !== undefined
                   ? el('span', { class: 'muted', text: ' ' + s.total })
                   : null)));

    const fig = el('figure', { class: 'chart card', id: c.id,
                               tabindex: '0', 'data-kind': c.kind,
                               'data-from': c.times[0],
                               'data-bucket': c.bucket },
                   el('figcaption', null,
                      el('span', { class: 'chart-title', text: c.title }),
                      c.unit ? el('span', { class: 'chart-unit muted',
                                            text: c.unit }) : null));

    fig.tip = el('div', { class: 'chart-tip', role: 'status',
                          hidden: true });
    fig.append(fig.tip, legend);

    /* the keyboard: arrows walk the buckets, Esc hides the tooltip */
    fig.addEventListener('keydown', (e) => {
        const n = c.times.length;
        const i = fig.focusIndex === undefined ? n - 1 : fig.focusIndex;

        if (!fig.show) {
            return;
        }

        if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
            e.preventDefault();
            fig.show(Math.max(0, Math.min(n - 1,
                                          i + (e.key === 'ArrowLeft'
                                               ? -1 : 1))));
        } else if (e.key === 'Escape') {
            fig.hide();
        }
    });
    /* (before the first drawing there is nothing to show yet) */
    fig.addEventListener('focus', () => {
        if (fig.show) {
            fig.show(fig.focusIndex === undefined ? c.times.length - 1
                                                  : fig.focusIndex);
        }
    });
    fig.addEventListener('blur', () => {
        if (fig.hide) {
            fig.hide();
        }
    });

    if (window.ResizeObserver) {
        new ResizeObserver(() => {
            if (fig.isConnected && fig.clientWidth) {
                draw(fig, c);
            }
        }).observe(fig);
    }

    /* drawn at once when already in the page (the next frame otherwise) */
    requestAnimationFrame(() => {
        if (fig.isConnected && fig.clientWidth) {
            draw(fig, c);
        }
    });

    return fig;
}


/*
 * A horizontal bar of parts (accounts by state): [{ label, cls, value }],
 * each part as wide as its share, with a legend of the counts.
 */
export function partsBar(id, parts, fmt) {
    const total = parts.reduce((a, p) => a + p.value, 0);
    const bar = svg('svg', { viewBox: '0 0 1000 16', class: 'parts-svg',
                             preserveAspectRatio: 'none', role: 'img',
                             'aria-label': parts.map((p) => p.label + ' '
                                                     + p.value).join(', ') });
    let at = 0;

    for (const p of parts) {
        if (!p.value) {
            continue;
        }

        const w = (p.value / total) * 1000;
        const r = svg('rect', { x: at.toFixed(2), y: 0,
                                width: w.toFixed(2), height: 16,
                                class: p.cls, 'data-v': p.value });
        const title = svg('title');

        title.textContent = p.label + ': ' + fmt(p.value);
        r.append(title);
        bar.append(r);
        at += w;
    }

    if (!total) {
        bar.append(svg('rect', { x: 0, y: 0, width: 1000, height: 16,
                                 class: 'empty-part' }));
    }

    return el('div', { class: 'parts', id },
              bar,
              el('ul', { class: 'legend' },
                 parts.map((p) =>
                     el('li', { dataset: { part: p.cls } },
                        el('span', { class: 'swatch ' + p.cls }),
                        el('span', { text: p.label + ' ' }),
                        el('b', { text: fmt(p.value) })))));
}
