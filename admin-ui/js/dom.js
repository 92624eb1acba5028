/*
 * The DOM builder of the console: el() makes every node, text goes in as
 * text nodes (account names, model names, logs and chats may hold hostile
 * strings); $(), clear() and section() find and empty them.
 */


export function el(tag, props, ...kids) {
    const n = document.createElement(tag);

    for (const [k, v] of Object.entries(props || {})) {
        if (v === undefined || v === null || v === false) {
            continue;
        }

        if (k === 'text') {
            n.textContent = String(v);
        } else if (k === 'class') {
            n.className = v;
        } else if (k === 'dataset') {
            Object.assign(n.dataset, v);
        } else if (k.startsWith('on') && typeof v === 'function') {
            n.addEventListener(k.slice(2), v);
        } else if (k === 'value' || k === 'checked' || k === 'disabled'
                   || k === 'selected' || k === 'hidden')
        {
            n[k] = v;
        } else {
            n.setAttribute(k, v === true ? '' : String(v));
        }
    }

    for (const c of kids.flat(Infinity)) {
        if (c === undefined || c === null || c === false) {
            continue;
        }

        n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }

    return n;
}

export function $(sel, root) {
    return (root || document).querySelector(sel);
}

export function clear(n) {
    while (n.firstChild) {
        n.removeChild(n.firstChild);
    }

    return n;
}

export function section(name) {
    return $('#view-' + name);
}
