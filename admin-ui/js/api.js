/*
 * The client of the module's admin JSON API (the location with
 * gemini_pool_admin, named by the gp-api meta tag of index.html): api()
 * sends JSON (or a file) with the session cookie and turns every failure
 * into an ApiError; errText() says it in the current language.  A 401
 * outside the login ends the session through the onExpired() callback.
 */

import { t } from '../i18n.js';


export const API = (document.querySelector('meta[name="gp-api"]')
                    || {}).content || '/api/';

/* what a 401 calls (the login view's loggedOut), set by app.js */
let expired = null;

export function onExpired(fn) {
    expired = fn;
}


export class ApiError extends Error {
    constructor(status, code, message, path) {
        super(message);
        this.status = status;
        this.code = code;
        this.path = path;
    }
}

export async function api(method, path, body, opt) {
    opt = opt || {};

    const init = {
        method,
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' },
    };

    if (body !== undefined) {
        if (opt.type) {
            init.body = body;
            init.headers['Content-Type'] = opt.type;
        } else {
            init.body = JSON.stringify(body);
            init.headers['Content-Type'] = 'application/json';
        }
    }

    let res;

    try {
        res = await fetch(API + path, init);
    } catch (e) {
        throw new ApiError(0, 'network', t('err.network', { msg: e.message }),
                           path);
    }

    if (opt.response && res.ok) {
        return res;
    }

    const text = await res.text();
    let data = null;

    try {
        data = text ? JSON.parse(text) : null;
    } catch (e) {
        data = null;
    }

    if (!res.ok) {
        const err = data && data.error && typeof data.error === 'object'
                    ? data.error : {};
        const msg = err.message || err.code
                    || (typeof (data && data.error) === 'string'
                        ? data.error : '')
                    || text.slice(0, 300) || res.statusText;

        if (res.status === 401 && !opt.login && expired) {
            expired(t('login.expired'));
        }

        throw new ApiError(res.status, err.code || '', String(msg), path);
    }

    return data;
}

export function errText(e) {
    if (!(e instanceof ApiError)) {
        return String(e && e.message ? e.message : e);
    }

    if (e.status === 0) {
        return e.message;
    }

    return t('err.http', { status: e.status, msg: e.message });
}
