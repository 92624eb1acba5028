#!/usr/bin/env python3
"""Fake image host (CloudFlare-ImgBed, "cfbed") for testing ngx_gemini_pool.

Standard library only.  Follows docs/protocol.md §9.5 (the wire format of
the reference's upload): POST <endpoint>?authCode=<token>&uploadChannel=
telegram&serverCompress=true&autoRetry=true&uploadNameType=default
&returnFormat=default with the multipart/form-data field "file"; the
answer is a JSON array whose first item has "src" ("/file/<name>").
Uploaded files are served at GET /file/<name>.  A control API under
/__fake/ sets the token and the mode and lists what was received.  See
README.md next to this file.

    python3 t/mock/imghost.py --port 0 [--token T]    # prints READY <port>
"""

import argparse
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PARAMS = {
    "uploadChannel": "telegram",
    "serverCompress": "true",
    "autoRetry": "true",
    "uploadNameType": "default",
    "returnFormat": "default",
}
MODES = ("ok", "error", "slow", "notjson", "object", "badsrc", "absolute")

LOCK = threading.Lock()
STATE = {}


def reset(token):
    with LOCK:
        STATE.clear()
        STATE.update(token=token, mode="ok", delay=3.0, uploads=[],
                     files={}, seq=0)


def parse_multipart(ctype, body):
    """The parts of a multipart/form-data body: a list of dicts with
    name, filename, type, data; None when it is not one."""
    m = re.search(r'boundary="?([^";]+)"?', ctype or "")
    if not ctype or not ctype.startswith("multipart/form-data") or not m:
        return None
    delim = b"--" + m.group(1).encode()
    parts = []
    chunks = body.split(delim)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        return None
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            return None
        chunk = chunk[2:-2]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            return None
        part = {"name": None, "filename": None, "type": None, "data": data}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            k = k.strip().lower()
            v = v.strip()
            if k == "content-disposition":
                n = re.search(r'\bname="([^"]*)"', v)
                f = re.search(r'\bfilename="([^"]*)"', v)
                part["name"] = n.group(1) if n else None
                part["filename"] = f.group(1) if f else None
            elif k == "content-type":
                part["type"] = v
        parts.append(part)
    return parts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-imgbed/1"

    def log_message(self, *a):
        pass

    def send(self, status, obj=None, raw=None, ctype="application/json"):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # the client gave up (its timeout): a test case
                self.close_connection = True

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self):
        u = urlsplit(self.path)
        if u.path == "/__fake/uploads":
            with LOCK:
                return self.send(200, {"uploads": STATE["uploads"]})
        if u.path.startswith("/file/"):
            with LOCK:
                f = STATE["files"].get(u.path[len("/file/"):])
            if f is None:
                return self.send(404, {"error": "not found"})
            return self.send(200, raw=f["data"], ctype=f["type"])
        return self.send(404, {"error": "not found"})

    def do_POST(self):
        u = urlsplit(self.path)
        body = self.read_body()

        if u.path == "/__fake/reset":
            reset(json.loads(body or b"{}").get("token", ARGS.token))
            return self.send(200, {"ok": True})

        if u.path == "/__fake/config":
            cfg = json.loads(body or b"{}")
            if cfg.get("mode", "ok") not in MODES:
                return self.send(400, {"error": "unknown mode"})
            with LOCK:
                for k in ("token", "mode", "delay"):
                    if k in cfg:
                        STATE[k] = cfg[k]
            return self.send(200, {"ok": True})

        if not u.path.endswith("/upload"):
            return self.send(404, {"error": "not found"})

        q = {k: v[0] for k, v in parse_qs(u.query,
                                          keep_blank_values=True).items()}
        parts = parse_multipart(self.headers.get("Content-Type"), body)
        files = [p for p in (parts or []) if p["name"] == "file"]

        with LOCK:
            STATE["seq"] += 1
            seq = STATE["seq"]
            mode = STATE["mode"]
            delay = STATE["delay"]
            token_ok = q.get("authCode") == STATE["token"]
            rec = {
                "seq": seq,
                "path": u.path,
                "params": {k: v for k, v in q.items() if k != "authCode"},
                "token_ok": token_ok,
                "fields": [p["name"] for p in (parts or [])],
                # an absolute-form target: the request came through a proxy
                "absolute_form": self.path.startswith("http://"),
                "via": self.headers.get("Via"),
            }
            if files:
                f = files[0]
                rec.update(filename=f["filename"], type=f["type"],
                           size=len(f["data"]),
                           sha256=hashlib.sha256(f["data"]).hexdigest())
            STATE["uploads"].append(rec)

        bad = [k for k, v in PARAMS.items() if q.get(k) != v]
        if "authCode" not in q:
            bad.insert(0, "authCode")

        if bad:
            status, answer = 400, {"error": "bad parameters: "
                                            + ",".join(bad)}
        elif not token_ok:
            status, answer = 401, {"error": "Unauthorized"}
        elif parts is None or len(files) != 1 or not files[0]["filename"]:
            status, answer = 400, {"error": "no file in field \"file\""}
        elif mode == "error":
            status, answer = 500, {"error": "Internal Server Error"}
        else:
            f = files[0]
            name = "%d_%s" % (seq, re.sub(r"[^A-Za-z0-9._-]", "_",
                                          f["filename"]))
            with LOCK:
                STATE["files"][name] = {"data": f["data"],
                                        "type": f["type"]
                                        or "application/octet-stream"}
            if mode == "slow":
                time.sleep(float(delay))
            status = 200
            if mode == "notjson":
                answer = None
            elif mode == "object":
                answer = {"src": "/file/" + name}
            elif mode == "badsrc":
                answer = [{"src": "/file/a b)c"}]
            elif mode == "absolute":
                answer = [{"src": "https://cdn.example.test/file/" + name}]
            else:
                answer = [{"src": "/file/" + name}]

        with LOCK:
            rec["status"] = status
        if answer is None:
            return self.send(status, raw=b"<html>ok</html>",
                             ctype="text/html")
        return self.send(status, answer)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default="imghost-token-0123")
    ARGS = ap.parse_args()
    reset(ARGS.token)

    srv = ThreadingHTTPServer((ARGS.host, ARGS.port), Handler)
    srv.daemon_threads = True

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
