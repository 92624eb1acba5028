/*
 * The live state of the console: one EventSource on GET /api/events
 * (the session cookie goes with it) for every view.  onLive(name, fn)
 * hears its events: "accounts" (rows whose state changed), "counters",
 * "progress" (a bulk test), and "mode" ('sse' while the stream is open,
 * 'poll' when it is not: a module without the endpoint, an error, a
 * worker that closed it).  In 'poll' mode the views poll as before; a
 * failed stream is tried again after POLL_RETRY_MS.
 */

import { API } from './api.js';


const POLL_RETRY_MS = 30000;

const handlers = {};

export const live = { mode: 'off', source: null, retry: null };


export function onLive(name, fn) {
    (handlers[name] = handlers[name] || new Set()).add(fn);

    return () => handlers[name].delete(fn);
}

function emit(name, data) {
    for (const fn of Array.from(handlers[name] || [])) {
        try {
            fn(data);
        } catch (e) {
            /* one view's failure does not stop the others */
            console.error(e);
        }
    }
}

function setMode(mode) {
    if (live.mode !== mode) {
        live.mode = mode;
        emit('mode', mode);
    }
}

export function startLive() {
    if (live.source) {
        return;
    }

    if (typeof EventSource === 'undefined') {
        setMode('poll');
        return;
    }

    const es = new EventSource(API + 'events', { withCredentials: true });

    live.source = es;

    es.addEventListener('hello', () => setMode('sse'));

    for (const name of ['accounts', 'counters', 'progress']) {
        es.addEventListener(name, (ev) => {
            let data;

            try {
                data = JSON.parse(ev.data);
            } catch (e) {
                return;
            }

            emit(name, data);
        });
    }

    es.onerror = () => {
        setMode('poll');

        if (es.readyState !== EventSource.CLOSED) {
            /* the browser connects again by itself (a reload of nginx) */
            return;
        }

        /* an answer that is not a stream (404, 401, 503): poll, try later */
        es.close();
        live.source = null;

        clearTimeout(live.retry);
        live.retry = setTimeout(startLive, POLL_RETRY_MS);
    };
}

export function stopLive() {
    clearTimeout(live.retry);

    if (live.source) {
        live.source.close();
        live.source = null;
    }

    setMode('off');
}
