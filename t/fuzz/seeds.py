#!/usr/bin/env python3
# Writes the seed corpora of the fuzz targets (seeds/<target>/) from the
# unit tests' literals (t/unit/*.c: the captured elements, request bodies,
# multipart bodies, tokens), the mock's answers (t/mock/server.py's
# shapes) and the reference's export (t/fixtures/reference/).  Run it
# again after adding unit tests; the seeds are committed.

import hashlib
import json
import os
import re
import sys

top = os.path.dirname(os.path.abspath(__file__))
unit = os.path.join(top, '..', 'unit')


def literals(path):
    """Every run of adjacent C string literals, decoded to bytes."""
    src = open(path, encoding='utf-8').read()
    src = re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
    out = []
    for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', src):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
        raw = ''.join(parts)
        try:
            b = bytes(raw, 'utf-8').decode('unicode_escape').encode('latin-1')
        except (UnicodeDecodeError, UnicodeEncodeError):
            b = raw.encode('utf-8')
        out.append(b)
    return out


def put(target, data):
    d = os.path.join(top, 'seeds', target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def json_like(b):
    s = b.lstrip()
    return len(s) > 1 and s[:1] in (b'{', b'[', b')')


# streamed answers and upstream bodies
for f in ('test_wire.c', 'test_jsonstream.c'):
    for b in literals(os.path.join(unit, f)):
        if json_like(b):
            put('fuzz_stream', b)

elts = [b for b in literals(os.path.join(unit, 'test_wire.c'))
        if b.startswith(b'{"streamAssistResponse"')]
put('fuzz_stream', b'[' + b',\r\n'.join(elts[:6]) + b']')
put('fuzz_stream', b')]}\'\n{"keyId":"k1","xsrfToken":"dGVzdA"}')
put('fuzz_stream', b'{"error":{"code":429,"message":"m","status":'
    b'"RESOURCE_EXHAUSTED","details":[{"reason":"LLM_OVERLOADED"}]}}')

# client requests
for f in ('test_openai.c', 'test_images.c'):
    for b in literals(os.path.join(unit, f)):
        if json_like(b):
            put('fuzz_openai', b)

# multipart: "<content type>\n<body>"
for f in ('test_input.c', 'test_images.c'):
    lits = literals(os.path.join(unit, f))
    bodies = [b for b in lits if b.startswith(b'--')]
    types = [b for b in lits if b.lower().startswith(b'multipart/')]
    for b in bodies:
        m = re.match(rb'--([^\r\n]*)', b)
        bnd = m.group(1) if m else b'X'
        put('fuzz_multipart',
            b'multipart/form-data; boundary=' + bnd + b'\n' + b)
        for t in types[:4]:
            put('fuzz_multipart', t + b'\n' + b)

# tokens, sealed values, base64, JWT parts: "<a>\n<b>" as the target reads
for b in literals(os.path.join(unit, 'test_crypto.c')):
    if 0 < len(b) < 400:
        put('fuzz_crypto', b)
for b in literals(os.path.join(unit, 'test_text.c')):
    if 0 < len(b) < 400:
        put('fuzz_crypto', b)

# artefact lines of image turns
for b in literals(os.path.join(unit, 'test_artefact.c')):
    if b:
        put('fuzz_artefact', b)

# settings: "<index byte><value>", the value as text and as JSON, with
# the reference's export's values
ref = os.path.join(top, '..', 'fixtures', 'reference',
                   'business_gemini_session.json')
doc = json.load(open(ref, encoding='utf-8'))
values = ['0', '1', '30', '86400', '99999999999999999999', '-1', 'true',
          'false', 'markdown', 'url', 'array', 'b64_json', 'round_robin',
          'least_in_flight', 'google', 'google,images', 'images,all',
          'http://127.0.0.1:8080', 'https://u:p@proxy.example:3128',
          'socks5://u:p@127.0.0.1:1080', 'socks5h://h:1', 'ftp://x',
          '"http://img.example/"', '"markdown"', '12', 'true', '""']
for v in doc.values():
    if isinstance(v, (str, bool, int)):
        values.append(json.dumps(v))
        if isinstance(v, str):
            values.append(v)
for i in range(24):
    for v in values:
        put('fuzz_settings', bytes([i]) + v.encode())

# temp-mail answers, mails and tempmail_urls (t/unit/test_mail.c)
for b in literals(os.path.join(unit, 'test_mail.c')):
    if len(b) > 4:
        put('fuzz_mail', b)

# admin bodies and import documents (t/unit/test_bodies.c, the
# reference's export, an export of ours)
for b in literals(os.path.join(unit, 'test_bodies.c')):
    if json_like(b):
        put('fuzz_admin', b)
        put('fuzz_import', b)
put('fuzz_import', open(ref, 'rb').read())
put('fuzz_import', json.dumps({
    'format': 'ngx_gemini_pool', 'version': 1,
    'accounts': [{'name': 'a', 'team_id': 't', 'csesidx': '1',
                  'secure_c_ses': 'c', 'host_c_oses': 'h',
                  'proxy': 'socks5h://p:1', 'enabled': True,
                  'cookie_expired': False},
                 {'name': 'p', 'secure_c_ses_set': False}],
    'models': [{'name': 'm', 'model_id': 'x', 'kind': 'image',
                'account': 0, 'position': 1, 'enabled': True}],
    'settings': {'retry_count': 2, 'proxy_enabled': True, 'proxy': ''},
    'api_keys': [{'name': 'k', 'key_hash': '0' * 64, 'prefix': 'sk-1',
                  'models': 'a,b', 'image_format': 'url', 'rpm': 1,
                  'rpd': 2, 'requests': 3, 'expires_at': 0,
                  'created_at': '2025-01-02 03:04:05'}]}).encode())
# model answers with tool calls, hostile ones included (t/unit/test_tools.c),
# and the request bodies with tools for the OpenAI reader
for b in literals(os.path.join(unit, 'test_tools.c')):
    if len(b) > 4:
        put('fuzz_tools', b)
        if b.startswith(b'{') and b'"messages"' in b:
            put('fuzz_openai', b)

# the Anthropic Messages and Gemini API bodies (t/unit/test_anthropic.c,
# t/unit/test_genai.c)
for t, f in (('fuzz_anthropic', 'test_anthropic.c'),
             ('fuzz_genai', 'test_genai.c')):
    for b in literals(os.path.join(unit, f)):
        if json_like(b):
            put(t, b)

# shared configuration records (t/unit/test_confrec.c)
for b in literals(os.path.join(unit, 'test_confrec.c')):
    if len(b) > 2:
        put('fuzz_confrec', b)
put('fuzz_confrec', b'3 {"kind":"key","key":"' + b'ab' * 32
    + b'","origin":"0a","fp":"00112233aabbccdd","bulk":true,'
    b'"data":{"name":"k",'
    b'"prefix":"sk-1","enabled":true,"expires_at":0,"models":"",'
    b'"rpm":1,"rpd":2,"image_format":"","created_at":5}}')

print('seeds:', {t: len(os.listdir(os.path.join(top, 'seeds', t)))
                 for t in sorted(os.listdir(os.path.join(top, 'seeds')))})
