/*
 * The account extractor of the add dialog, all in the browser: what a
 * pasted text holds of an account.  It reads
 *
 *   - an account as JSON: the reference's business_gemini_session.json
 *     account object (or the whole file: its first account), this
 *     module's export's account (with credentials), PEER's config_id;
 *     a cookie list exported by a browser extension ([{name, value}]);
 *   - a cookie header ("Cookie: __Secure-C_SES=...; __Host-C_OSES=..."),
 *     or the two "name=value" pairs, or DevTools' cookie table rows
 *     (name, tab, value);
 *   - the product URL, https://business.gemini.google/home/cid/<team_id>
 *     ?csesidx=<digits> (protocol spec §2: team_id is the path segment
 *     after /cid/, csesidx the query parameter).
 *
 * A pure module (no DOM, no imports): t/node/extract.test.mjs runs it in
 * node.  Nothing here makes HTML; the view shows the result as text.
 */


/* the fields POST /api/accounts requires */
export const REQUIRED = ['team_id', 'csesidx', 'secure_c_ses'];

/* the fields the extractor fills, in the dialog's order */
export const FIELDS = ['name', 'team_id', 'csesidx', 'secure_c_ses',
                      'host_c_oses', 'user_agent', 'proxy', 'tempmail_url',
                      'tempmail_name'];

const COOKIES = { '__Secure-C_SES': 'secure_c_ses',
                  '__Host-C_OSES': 'host_c_oses' };

/* the JSON members of an account, by the names the sources use */
const ALIASES = {
    team_id: 'team_id', config_id: 'team_id', teamId: 'team_id',
    configId: 'team_id',
    csesidx: 'csesidx',
    secure_c_ses: 'secure_c_ses', host_c_oses: 'host_c_oses',
    '__Secure-C_SES': 'secure_c_ses', '__Host-C_OSES': 'host_c_oses',
    user_agent: 'user_agent', name: 'name', proxy: 'proxy',
    tempmail_url: 'tempmail_url', tempmail_name: 'tempmail_name',
};


function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function put(out, field, value) {
    /* the reference may keep csesidx as a number */
    if (field === 'csesidx' && Number.isSafeInteger(value) && value >= 0)
    {
        value = String(value);
    }

    if (typeof value !== 'string') {
        return;
    }

    value = value.trim();

    if (value !== '' && out.fields[field] === undefined) {
        out.fields[field] = value;
    }
}

/* an account object, a file of them, or a browser's cookie list */
function fromJson(doc, out) {
    if (Array.isArray(doc)) {
        for (const c of doc) {
            if (isObject(c) && COOKIES[c.name]) {
                put(out, COOKIES[c.name], c.value);
            }
        }

        if (!doc.some((c) => isObject(c) && COOKIES[c.name])
            && doc.length && isObject(doc[0]))
        {
            fromJson({ accounts: doc }, out);
        }

        return;
    }

    if (!isObject(doc)) {
        return;
    }

    if (Array.isArray(doc.accounts)) {
        if (doc.accounts.length > 1) {
            out.notes.push({ key: 'first_of', n: doc.accounts.length });
        }

        if (isObject(doc.accounts[0])) {
            fromJson(doc.accounts[0], out);
        }

        return;
    }

    for (const [k, v] of Object.entries(doc)) {
        if (ALIASES[k]) {
            put(out, ALIASES[k], v);
        }
    }

    if (isObject(doc.cookies) || Array.isArray(doc.cookies)) {
        fromJson(Array.isArray(doc.cookies) ? doc.cookies
                 : Object.entries(doc.cookies)
                   .map(([name, value]) => ({ name, value })), out);
    }

    /* this module's export without credentials says they exist */
    if (doc.secure_c_ses_set === true && !out.fields.secure_c_ses) {
        out.notes.push({ key: 'no_secrets' });
    }

    /* a URL member may be the product URL */
    for (const v of Object.values(doc)) {
        if (typeof v === 'string' && v.includes('/cid/')) {
            fromText(v, out);
        }
    }
}

/* a cookie header, name=value pairs, DevTools rows, the product URL */
function fromText(text, out) {
    for (const [name, field] of Object.entries(COOKIES)) {
        const re = new RegExp(name
                              + '(?:\\s*=\\s*|\\t+|"?\\s*:\\s*")'
                              + '"?([^;\\s"\']+)');
        const m = text.match(re);

        if (m) {
            put(out, field, m[1]);
        }
    }

    const cid = text.match(/\/cid\/([A-Za-z0-9_-]+)/);

    if (cid) {
        put(out, 'team_id', cid[1]);
    }

    const idx = text.match(/[?&#;\s]csesidx[=:]\s*"?(\d+)/)
                || text.match(/^csesidx[=:]\s*"?(\d+)/);

    if (idx) {
        put(out, 'csesidx', idx[1]);
    }
}

/*
 * extract(text) -> { fields: {name: value}, found: [names], missing:
 * [required names not found], notes: [{key, ...}], json: true when the
 * text was JSON }
 */
export function extract(text) {
    const out = { fields: {}, notes: [], json: false };

    text = String(text || '').trim();

    if (text.startsWith('{') || text.startsWith('[')) {
        let doc;

        try {
            doc = JSON.parse(text);
        } catch (e) {
            doc = undefined;
            out.notes.push({ key: 'bad_json', msg: e.message });
        }

        if (doc !== undefined) {
            out.json = true;
            fromJson(doc, out);
        }
    }

    if (!out.json) {
        fromText(text, out);
    }

    /* a csesidx that is not digits is not one */
    if (out.fields.csesidx !== undefined
        && !/^\d+$/.test(out.fields.csesidx))
    {
        out.notes.push({ key: 'bad_csesidx' });
        delete out.fields.csesidx;
    }

    out.found = FIELDS.filter((k) => out.fields[k] !== undefined);
    out.missing = missing(out.fields);

    return out;
}

/* the required fields a set of values lacks (all of them, at once) */
export function missing(values) {
    return REQUIRED.filter((k) => typeof values[k] !== 'string'
                                  || values[k].trim() === '');
}
