// The account extractor of the console's add dialog (admin-ui/js/
// extract.js), run by node's test runner: t/153-account-add.t runs it.
// The module is loaded from its source as the browser gets it (a data:
// URL: admin-ui/ has no package.json to make node read it as ES module).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const src = readFileSync(new URL('../../admin-ui/js/extract.js',
                                 import.meta.url), 'utf8');
const { extract, missing, REQUIRED } = await import(
    'data:text/javascript,' + encodeURIComponent(src));

const TEAM = '36cc1840-8078-4a90-ad0a-6f995a52af32';
const URL_ = 'https://business.gemini.google/home/cid/' + TEAM
             + '?csesidx=1404564754&mods';

test('the product URL gives team_id and csesidx', () => {
    const r = extract(URL_);
    assert.equal(r.fields.team_id, TEAM);
    assert.equal(r.fields.csesidx, '1404564754');
    assert.deepEqual(r.found, ['team_id', 'csesidx']);
    assert.deepEqual(r.missing, ['secure_c_ses']);
    assert.equal(r.json, false);
});

test('a cookie header gives both cookies, other cookies ignored', () => {
    const r = extract('Cookie: NID=1; __Secure-C_SES=CSE.Ab-c_d=; '
                      + '__Host-C_OSES=COS.x/y+z; OTHER=2');
    assert.deepEqual(r.fields, { secure_c_ses: 'CSE.Ab-c_d=',
                                 host_c_oses: 'COS.x/y+z' });
    assert.deepEqual(r.missing, ['team_id', 'csesidx']);
});

test('the header and the URL pasted together: all four', () => {
    const r = extract(URL_ + '\n__Secure-C_SES=s1;__Host-C_OSES=h1\n');
    assert.deepEqual(r.found, ['team_id', 'csesidx', 'secure_c_ses',
                               'host_c_oses']);
    assert.deepEqual(r.missing, []);
});

test('DevTools cookie rows (name, tab, value)', () => {
    const r = extract('__Secure-C_SES\tCSE.tab\t.business.gemini.google\t/\n'
                      + '__Host-C_OSES\tCOS.tab\tbusiness.gemini.google\t/');
    assert.equal(r.fields.secure_c_ses, 'CSE.tab');
    assert.equal(r.fields.host_c_oses, 'COS.tab');
});

test('the reference\'s account object, csesidx a number', () => {
    const r = extract(JSON.stringify({
        team_id: TEAM, secure_c_ses: 'S', host_c_oses: 'H',
        csesidx: 77, user_agent: 'UA/1', available: true,
        tempmail_name: 'box1' }));
    assert.equal(r.json, true);
    assert.deepEqual(r.fields, { team_id: TEAM, secure_c_ses: 'S',
                                 host_c_oses: 'H', csesidx: '77',
                                 user_agent: 'UA/1', tempmail_name: 'box1' });
    assert.deepEqual(r.missing, []);
});

test('a whole session file: its first account, noted', () => {
    const r = extract(JSON.stringify({ accounts: [
        { team_id: 'a', csesidx: '1', secure_c_ses: 's' },
        { team_id: 'b', csesidx: '2', secure_c_ses: 't' }], models: [] }));
    assert.equal(r.fields.team_id, 'a');
    assert.deepEqual(r.notes, [{ key: 'first_of', n: 2 }]);
});

test('an export without credentials: the cookies named missing', () => {
    const r = extract(JSON.stringify({ name: 'n', team_id: 't',
                                       csesidx: '5', enabled: true,
                                       secure_c_ses_set: true }));
    assert.deepEqual(r.missing, ['secure_c_ses']);
    assert.deepEqual(r.notes, [{ key: 'no_secrets' }]);
    assert.equal(r.fields.name, 'n');
});

test('PEER\'s config_id and a browser\'s cookie list', () => {
    let r = extract('{"config_id":"c1","csesidx":"9"}');
    assert.equal(r.fields.team_id, 'c1');
    r = extract('[{"name":"__Secure-C_SES","value":"v1","domain":"x"},'
                + '{"name":"__Host-C_OSES","value":"v2"}]');
    assert.deepEqual(r.fields, { secure_c_ses: 'v1', host_c_oses: 'v2' });
});

test('nothing useful: everything required is missing at once', () => {
    for (const text of ['', 'hello', '{"team_id": 5}', '{broken']) {
        const r = extract(text);
        assert.deepEqual(r.missing, REQUIRED, text);
        assert.deepEqual(r.found, [], text);
    }
    assert.equal(extract('{broken').notes[0].key, 'bad_json');
});

test('a csesidx that is not digits is not taken', () => {
    const r = extract('{"team_id":"t","csesidx":"12a","secure_c_ses":"s"}');
    assert.equal(r.fields.csesidx, undefined);
    assert.deepEqual(r.missing, ['csesidx']);
    assert.deepEqual(r.notes, [{ key: 'bad_csesidx' }]);
});

test('hostile text stays text', () => {
    const r = extract('{"name":"<img src=x onerror=alert(1)>","team_id":"t"}');
    assert.equal(r.fields.name, '<img src=x onerror=alert(1)>');
});

test('missing() of a form\'s values', () => {
    assert.deepEqual(missing({ team_id: ' ', csesidx: '1' }),
                     ['team_id', 'secure_c_ses']);
    assert.deepEqual(missing({ team_id: 't', csesidx: '1',
                               secure_c_ses: 's' }), []);
});
