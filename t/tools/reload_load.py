#!/usr/bin/python3
"""Mixed load against the gemini_pool module while nginx reloads.

    /usr/bin/python3 t/tools/reload_load.py --url http://127.0.0.1:PORT \
        [--master PID --reloads N --interval S] [--duration S]
        [--concurrency N] [--suffix 'MOCK:gap=20'] [--timeout S]

--concurrency coroutines (default 12) loop over six kinds of request until
the reloads are done (or --duration seconds pass), each one checked:

  stream     a new conversation, "stream": true: 200, text/event-stream,
             the mock's echo in the deltas, finish_reason "stop", [DONE]
  plain      a new conversation, "stream": false: 200, the echo
  followup   a fixed "conversation_id" per coroutine, streamed and not in
             turn: 200 and the echo (the bound session's next turn)
  upload     POST /v1/files (multipart, a PNG), then a chat naming the
             file-... id: 200 and the mock's "[attached: image/png ..."
  image-in   a chat with an image as a data: URL (widgetAddContextFile)
  image-out  POST /v1/images/generations: 200 with data[0].url, and the
             URL fetched: 200 image/png (the media download and cache)

A request is failed when the connection breaks, times out, or the answer
is not the one expected.  Every connection is new (Connection: close).
With --master, SIGHUP goes to that pid --reloads times, one every
--interval seconds, starting after the first second of load; the load
goes on for two more seconds after the last one.

One JSON line goes to stdout:

    {"requests","ok","failed","by_kind":{kind:[ok,failed]},"reloads",
     "errors":[first 20],"elapsed_s"}

Python 3 standard library only (asyncio).
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import struct
import sys
import time
import urllib.parse
import zlib

KINDS = ('stream', 'plain', 'followup', 'upload', 'image-in', 'image-out')


def png(seed):
    """A valid 2x2 PNG, different per seed."""
    def chunk(t, d):
        c = struct.pack('>I', len(d)) + t + d
        return c + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)

    raw = b''
    for y in range(2):
        raw += b'\x00' + bytes([(seed + y * 7 + x * 13) % 256
                                for x in range(6)])
    return (b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', 2, 2, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw))
            + chunk(b'IEND', b''))


class Failed(Exception):
    pass


class Load:

    def __init__(self, a):
        self.a = a
        u = urllib.parse.urlsplit(a.url)
        self.host = u.hostname
        self.port = u.port or 80
        self.stop = False
        self.ok = 0
        self.failed = 0
        self.by_kind = {k: [0, 0] for k in KINDS}
        self.errors = []
        self.seq = 0
        self.reloads = 0

    async def http(self, method, path, body=b'', ctype='application/json',
                   port=None):
        r, w = await asyncio.open_connection(self.host, port or self.port)
        try:
            head = (f'{method} {path} HTTP/1.1\r\n'
                    f'Host: {self.host}\r\n'
                    'Connection: close\r\n'
                    f'Content-Type: {ctype}\r\n'
                    f'Content-Length: {len(body)}\r\n\r\n')
            w.write(head.encode() + body)
            await w.drain()
            data = await r.read()
        finally:
            w.close()

        if not data:
            raise Failed('empty reply (connection closed)')

        head, _, rest = data.partition(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        parts = lines[0].split(' ')
        if len(parts) < 2 or not parts[1].isdigit():
            raise Failed(f'bad status line {lines[0]!r}')
        status = int(parts[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(':')
            hdrs[k.strip().lower()] = v.strip()

        if hdrs.get('transfer-encoding', '').lower() == 'chunked':
            out = b''
            while True:
                size, _, rest = rest.partition(b'\r\n')
                if not size:
                    raise Failed('chunked body cut')
                n = int(size.split(b';')[0], 16)
                if n == 0:
                    break
                if len(rest) < n + 2:
                    raise Failed('chunked body cut')
                out += rest[:n]
                rest = rest[n + 2:]
            rest = out

        elif 'content-length' in hdrs:
            if len(rest) != int(hdrs['content-length']):
                raise Failed(f'body cut: {len(rest)} of '
                             f'{hdrs["content-length"]} bytes')

        return status, hdrs, rest

    def chat_body(self, text, stream, conv=None, content=None, model=None):
        m = {'role': 'user', 'content': content or text}
        b = {'messages': [m], 'stream': stream}
        if conv:
            b['conversation_id'] = conv
        if model:
            b['model'] = model
        return json.dumps(b).encode()

    def check_answer(self, status, hdrs, body, stream, want):
        if status != 200:
            raise Failed(f'status {status}: {body[:200]!r}')

        if not stream:
            j = json.loads(body)
            text = j['choices'][0]['message']['content'] or ''
            if want not in text:
                raise Failed(f'answer without {want!r}: {text[:200]!r}')
            return

        if not hdrs.get('content-type', '').startswith('text/event-stream'):
            raise Failed(f'content type {hdrs.get("content-type")}')

        text = ''
        stop = done = False
        for ev in body.decode('utf-8').split('\n\n'):
            ev = ev.strip()
            if not ev.startswith('data: '):
                continue
            d = ev[6:]
            if d == '[DONE]':
                done = True
                continue
            j = json.loads(d)
            if 'error' in j:
                raise Failed(f'stream error {d[:200]}')
            for c in j.get('choices', []):
                text += (c.get('delta') or {}).get('content') or ''
                if c.get('finish_reason') == 'stop':
                    stop = True

        if not (stop and done):
            raise Failed(f'stream without stop/[DONE]: {body[-200:]!r}')
        if want not in text:
            raise Failed(f'stream without {want!r}: {text[:200]!r}')

    async def one(self, kind, w, turn):
        self.seq += 1
        tag = f'reload {kind} w{w} n{self.seq} {self.a.suffix}'.strip()

        if kind in ('stream', 'plain'):
            stream = kind == 'stream'
            st, h, b = await self.http('POST', '/v1/chat/completions',
                                       self.chat_body(tag, stream))
            self.check_answer(st, h, b, stream, 'echo: ' + tag)

        elif kind == 'followup':
            stream = turn % 2 == 0
            st, h, b = await self.http('POST', '/v1/chat/completions',
                                       self.chat_body(tag, stream,
                                                      conv=f'reload-w{w}'))
            self.check_answer(st, h, b, stream, 'echo: ' + tag)

        elif kind == 'upload':
            bnd = f'----reload{self.seq}'
            data = png(self.seq)
            mp = (f'--{bnd}\r\nContent-Disposition: form-data; '
                  'name="purpose"\r\n\r\nvision\r\n'
                  f'--{bnd}\r\nContent-Disposition: form-data; name="file"; '
                  f'filename="r{self.seq}.png"\r\n'
                  'Content-Type: image/png\r\n\r\n').encode()
            mp += data + f'\r\n--{bnd}--\r\n'.encode()
            st, h, b = await self.http('POST', '/v1/files', mp,
                                       f'multipart/form-data; boundary={bnd}')
            if st != 200:
                raise Failed(f'upload: status {st}: {b[:200]!r}')
            fid = json.loads(b)['id']
            content = [{'type': 'text', 'text': tag},
                       {'type': 'file', 'file_id': fid}]
            st, h, b = await self.http('POST', '/v1/chat/completions',
                                       self.chat_body(tag, False,
                                                      content=content))
            self.check_answer(st, h, b, False, '[attached: image/png')

        elif kind == 'image-in':
            url = 'data:image/png;base64,' + base64.b64encode(
                png(self.seq)).decode()
            content = [{'type': 'text', 'text': tag},
                       {'type': 'image_url', 'image_url': {'url': url}}]
            stream = turn % 2 == 1
            st, h, b = await self.http('POST', '/v1/chat/completions',
                                       self.chat_body(tag, stream,
                                                      content=content))
            self.check_answer(st, h, b, stream, '[attached: image/png')

        else:
            body = json.dumps({'prompt': tag, 'model': 'gemini-image',
                               'response_format': 'url'}).encode()
            st, h, b = await self.http('POST', '/v1/images/generations',
                                       body)
            if st != 200:
                raise Failed(f'images: status {st}: {b[:200]!r}')
            url = json.loads(b)['data'][0]['url']
            u = urllib.parse.urlsplit(url)
            st, h, b = await self.http('GET', u.path)
            if st != 200 or h.get('content-type') != 'image/png':
                raise Failed(f'image {u.path}: status {st} '
                             f'{h.get("content-type")}')

    async def worker(self, w):
        turn = 0
        while not self.stop:
            kind = KINDS[(w + turn) % len(KINDS)]
            turn += 1
            try:
                await asyncio.wait_for(self.one(kind, w, turn),
                                       self.a.timeout)
                self.ok += 1
                self.by_kind[kind][0] += 1
            except Exception as e:          # every failure counts
                self.failed += 1
                self.by_kind[kind][1] += 1
                if len(self.errors) < 20:
                    self.errors.append(f'{kind}: {type(e).__name__}: {e}'
                                       [:300])

    async def reloader(self):
        await asyncio.sleep(1)
        for _ in range(self.a.reloads):
            os.kill(self.a.master, signal.SIGHUP)
            self.reloads += 1
            await asyncio.sleep(self.a.interval)
        await asyncio.sleep(2)
        self.stop = True

    async def run(self):
        tasks = [asyncio.ensure_future(self.worker(w))
                 for w in range(self.a.concurrency)]
        if self.a.master:
            await self.reloader()
        else:
            await asyncio.sleep(self.a.duration)
            self.stop = True
        await asyncio.gather(*tasks)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True)
    p.add_argument('--master', type=int, default=0)
    p.add_argument('--reloads', type=int, default=10)
    p.add_argument('--interval', type=float, default=0.5)
    p.add_argument('--duration', type=float, default=5)
    p.add_argument('--concurrency', type=int, default=12)
    p.add_argument('--suffix', default='MOCK:gap=20')
    p.add_argument('--timeout', type=float, default=30)
    a = p.parse_args()

    load = Load(a)
    t0 = time.time()
    asyncio.run(load.run())

    print(json.dumps({
        'requests': load.ok + load.failed, 'ok': load.ok,
        'failed': load.failed, 'by_kind': load.by_kind,
        'reloads': load.reloads, 'errors': load.errors,
        'elapsed_s': round(time.time() - t0, 2),
    }))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
