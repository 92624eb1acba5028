#!/usr/bin/env python3
"""Fake temp-mail worker (cloudflare_temp_email) for testing ngx_gemini_pool.

Standard library only.  Serves the worker API of spec section 13.4
(GET /api/mails, GET /api/mails/<id>, Bearer mailbox JWT), the web UI of
section 13.5 (an inbox page shaped like the Naive UI frontend) and a control
API under /__fake/.  See README.md next to this file.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import quopri
import re
import signal
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SECRET = os.urandom(32)
DEFAULT_SOURCE = "noreply-googlecloud@google.com"
SHAPES = ("results", "array", "mails", "data", "result", "wrong")
JSON_CT = "application/json; charset=utf-8"
HTML_CT = "text/html; charset=utf-8"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_jwt(address, address_id):
    hdr = b64url(b'{"alg":"HS256","typ":"JWT"}')
    pl = b64url(json.dumps({"address": address, "address_id": address_id},
                           separators=(",", ":")).encode())
    sig = hmac.new(SECRET, ("%s.%s" % (hdr, pl)).encode(), hashlib.sha256)
    return "%s.%s.%s" % (hdr, pl, b64url(sig.digest()))


def check_jwt(jwt):
    """The address of a valid mailbox JWT, or None."""
    parts = (jwt or "").split(".")
    if len(parts) != 3:
        return None
    try:
        sig = hmac.new(SECRET, ("%s.%s" % (parts[0], parts[1])).encode(),
                       hashlib.sha256).digest()
        if not hmac.compare_digest(sig, unb64url(parts[2])):
            return None
        return json.loads(unb64url(parts[1])).get("address")
    except Exception:
        return None


def qp(s):
    return quopri.encodestring(s.encode("utf-8")).decode("ascii")


def build_raw(m, text, html, use_qp):
    """An RFC 822 source with a text/plain and/or a text/html part."""
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
            "Message-ID: <%d.fake@tempmail>\r\nMIME-Version: 1.0\r\n"
            % (m["source"], m["address"], m["subject"], formatdate(m["ts"]),
               m["id"]))
    cte = "quoted-printable" if use_qp else "8bit"

    def part(ctype, body):
        return ("Content-Type: %s; charset=UTF-8\r\n"
                "Content-Transfer-Encoding: %s\r\n\r\n%s\r\n"
                % (ctype, cte, qp(body) if use_qp else body))

    if text is not None and html is not None:
        b = "fake-boundary-%d" % m["id"]
        return (head + 'Content-Type: multipart/alternative; boundary="%s"'
                "\r\n\r\nThis is a multi-part message.\r\n--%s\r\n%s--%s\r\n"
                "%s--%s--\r\n" % (b, b, part("text/plain", text), b,
                                  part("text/html", html), b))
    if html is not None:
        return head + part("text/html", html)
    return head + part("text/plain", text or "")


class State:
    def __init__(self, base):
        self.lock = threading.Lock()
        self.base = base
        self.reset()

    def reset(self):
        self.boxes = {}          # address -> address_id
        self.mails = []          # every mail, ascending id
        self.next_id = 1
        self.config = {}
        self.requests = []

    def conf(self, k, d=None):
        return self.config.get(k, d)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTempMail/1"

    def log_message(self, *a):
        pass

    # --- plumbing -------------------------------------------------------

    def send(self, status, body, ctype=JSON_CT):
        if not isinstance(body, (bytes, bytearray)):
            if ctype == JSON_CT:
                body = json.dumps(body, ensure_ascii=False)
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        v = json.loads(raw)
        if not isinstance(v, dict):
            raise ValueError("body must be a JSON object")
        return v

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        u = urlsplit(self.path)
        q = dict(parse_qsl(u.query, keep_blank_values=True))
        try:
            if u.path.startswith("/__fake/"):
                return self.control(method, u.path, q)
            if u.path.startswith("/api/"):
                return self.api(method, u.path, q)
            if u.path.startswith("/ui/"):
                return self.ui_api(u.path, q)
            if u.path in ("/", "/index.html") and method == "GET":
                return self.send(200, PAGE, HTML_CT)
            return self.send(404, {"error": "not found"})
        except (ValueError, KeyError, TypeError) as e:
            return self.send(400, {"error": "bad request: %s" % e})
        except BrokenPipeError:
            pass

    # --- the worker API (spec 13.4) -------------------------------------

    def api(self, method, path, q):
        st = self.server.st
        auth = self.headers.get("Authorization", "")
        with st.lock:
            st.requests.append({"method": method, "path": path, "query": q,
                                "authorization": auth})
            fail = st.conf("fail")
            delay = st.conf("delay_ms", 0)
            shape = st.conf("shape", "results")
            list_raw = st.conf("list_raw", True)
        if delay:
            time.sleep(delay / 1000.0)
        if fail == "html":
            return self.send(200, PAGE, HTML_CT)
        if isinstance(fail, int) and fail >= 400:
            return self.send(fail, {"error": "fake failure %d" % fail})
        if method != "GET":
            return self.send(405, {"error": "method not allowed"})
        address = None
        if auth.startswith("Bearer "):
            address = check_jwt(auth[7:].strip())
        if address is None:
            return self.send(401, "Your token is invalid", "text/plain")
        m = re.match(r"^/api/mails/(\d+)$", path)
        if m:
            mail = self.find(address, int(m.group(1)))
            if mail is None:
                return self.send(404, {"error": "mail not found"})
            return self.send(200, self.public(mail, True))
        if path != "/api/mails":
            return self.send(404, {"error": "not found"})
        limit = int(q.get("limit", "20"))
        offset = int(q.get("offset", "0"))
        if limit < 1 or limit > 100 or offset < 0:
            return self.send(400, "Invalid limit or offset", "text/plain")
        kw = q.get("keyword", "").lower()
        want = q.get("address")
        with st.lock:
            sel = [x for x in reversed(st.mails) if x["address"] == address
                   and (not want or want == address)
                   and (not kw or kw in x["search"])]
        page = [self.public(x, list_raw) for x in sel[offset:offset + limit]]
        if shape == "array":
            return self.send(200, page)
        if shape == "wrong":
            return self.send(200, {"items": page, "total": len(sel)})
        return self.send(200, {shape: page, "count": len(sel)})

    def find(self, address, mid):
        st = self.server.st
        with st.lock:
            for x in st.mails:
                if x["id"] == mid and x["address"] == address:
                    return x
        return None

    @staticmethod
    def public(m, full):
        o = {"id": m["id"], "source": m["source"], "address": m["address"],
             "subject": m["subject"], "message_id": "<%d.fake@tempmail>" % m["id"],
             "created_at": time.strftime("%Y-%m-%d %H:%M:%S",
                                         time.gmtime(m["ts"]))}
        if full:
            o["raw"] = m["raw"]
            for k, v in m["fields"].items():
                o[k] = v
        return o

    # --- the web UI's own calls (not touched by /__fake/config) ---------

    def ui_api(self, path, q):
        address = check_jwt(q.get("jwt", ""))
        if address is None:
            return self.send(401, {"error": "bad jwt"})
        if path == "/ui/mails":
            with self.server.st.lock:
                sel = [{"id": x["id"], "subject": x["subject"],
                        "source": x["source"]}
                       for x in reversed(self.server.st.mails)
                       if x["address"] == address]
            return self.send(200, {"address": address, "results": sel})
        m = re.match(r"^/ui/mails/(\d+)$", path)
        if m:
            mail = self.find(address, int(m.group(1)))
            if mail is None:
                return self.send(404, {"error": "mail not found"})
            return self.send(200, {"id": mail["id"], "subject": mail["subject"],
                                   "source": mail["source"],
                                   "text": mail["view_text"],
                                   "html": mail["view_html"]})
        return self.send(404, {"error": "not found"})

    # --- controls --------------------------------------------------------

    def control(self, method, path, q):
        st = self.server.st
        if path == "/__fake/mailbox" and method == "POST":
            b = self.body_json()
            address = b["address"]
            if not isinstance(address, str) or "@" not in address:
                raise ValueError("address must be an e-mail address")
            with st.lock:
                aid = st.boxes.setdefault(address, len(st.boxes) + 1)
            jwt = make_jwt(address, aid)
            return self.send(200, {"jwt": jwt, "address": address,
                                   "url": "%s/?jwt=%s" % (st.base, jwt)})
        if path == "/__fake/deliver" and method == "POST":
            return self.send(200, {"id": self.deliver(self.body_json())})
        if path == "/__fake/config" and method == "POST":
            b = self.body_json()
            fail = b.get("fail")
            if fail not in (None, "html") and not (isinstance(fail, int)
                                                   and 400 <= fail <= 599):
                raise ValueError("fail: null, \"html\" or a status 400-599")
            if b.get("shape", "results") not in SHAPES:
                raise ValueError("shape: one of %s" % ", ".join(SHAPES))
            with st.lock:
                st.config = b
            return self.send(200, {"ok": True, "config": b})
        if path == "/__fake/mails" and method == "GET":
            with st.lock:
                out = [dict(self.public(x, True), fields=x["fields"])
                       for x in st.mails
                       if not q.get("address") or x["address"] == q["address"]]
            return self.send(200, {"mails": out})
        if path == "/__fake/requests" and method == "GET":
            with st.lock:
                return self.send(200, {"requests": list(st.requests)})
        if path == "/__fake/reset" and method == "POST":
            with st.lock:
                boxes = st.boxes
                st.reset()
                st.boxes = boxes
            return self.send(200, {"ok": True})
        return self.send(404, {"error": "unknown control"})

    def deliver(self, b):
        st = self.server.st
        address = b["address"]
        text, html, raw = b.get("text"), b.get("html"), b.get("raw")
        if text is None and html is None and raw is None:
            raise ValueError("one of text, html, raw is required")
        with st.lock:
            m = {"id": st.next_id, "address": address,
                 "source": b.get("source", DEFAULT_SOURCE),
                 "subject": b.get("subject", ""), "ts": time.time()}
            st.next_id += 1
            m["raw"] = raw if raw is not None else build_raw(
                m, text, html, bool(b.get("qp")))
            fields = b.get("fields") or {}
            if not isinstance(fields, dict):
                raise ValueError("fields must be an object")
            m["fields"] = fields
            m["view_text"] = text if text is not None else fields.get("text")
            m["view_html"] = html if html is not None else fields.get("html")
            if m["view_text"] is None and m["view_html"] is None:
                m["view_text"] = raw
            m["search"] = " ".join(str(x) for x in (
                m["subject"], m["source"], text or "", html or "",
                raw or "")).lower()
            st.mails.append(m)
            return m["id"]


PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>临时邮件</title>
<style>
.n-tabs-tab{display:inline-block;padding:4px 12px;cursor:pointer}
.n-tabs-tab--active{border-bottom:2px solid #18a058}
.n-list-item{list-style:none;padding:6px;border-bottom:1px solid #ddd;cursor:pointer}
.mail-view{white-space:pre-wrap;border:1px solid #ccc;padding:8px;margin-top:8px}
</style></head>
<body>
<div class="n-card">
  <div class="n-form-item"><label>邮箱地址</label>
    <input class="n-input__input-el" id="address" readonly value=""></div>
  <div class="n-tabs-nav">
    <div class="n-tabs-tab n-tabs-tab--active" data-name="mailbox">收件箱</div>
    <div class="n-tabs-tab" data-name="sendbox">发件箱</div>
  </div>
  <div class="n-tab-pane" id="mailbox-pane">
    <button class="n-button" id="refresh" type="button"><span class="n-button__content">刷新</span></button>
    <ul class="n-list" id="list"></ul>
    <div class="mail-view" id="view" hidden></div>
  </div>
</div>
<script>
(function () {
  var jwt = new URLSearchParams(location.search).get("jwt") || "";
  var list = document.getElementById("list");
  var view = document.getElementById("view");
  function get(u, cb) {
    var x = new XMLHttpRequest();
    x.open("GET", u);
    x.onload = function () { cb(x.status, x.responseText); };
    x.send();
  }
  function open(id) {
    get("/ui/mails/" + id + "?jwt=" + encodeURIComponent(jwt), function (s, t) {
      if (s !== 200) return;
      var m = JSON.parse(t);
      view.hidden = false;
      if (m.html) { view.innerHTML = m.html; } else { view.textContent = m.text || ""; }
    });
  }
  function load() {
    get("/ui/mails?jwt=" + encodeURIComponent(jwt), function (s, t) {
      list.innerHTML = "";
      if (s !== 200) { list.textContent = "无效的凭证"; return; }
      var d = JSON.parse(t);
      document.getElementById("address").value = d.address;
      d.results.forEach(function (m) {
        var li = document.createElement("li");
        li.className = "n-list-item";
        li.setAttribute("data-id", m.id);
        var a = document.createElement("div");
        a.textContent = "ID: " + m.id;
        var b = document.createElement("div");
        b.className = "subject";
        b.textContent = m.subject;
        var c = document.createElement("div");
        c.textContent = m.source;
        li.appendChild(a); li.appendChild(b); li.appendChild(c);
        li.addEventListener("click", function () { open(m.id); });
        list.appendChild(li);
      });
    });
  }
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
</script>
</body></html>
"""


def main():
    ap = argparse.ArgumentParser(description="fake temp-mail worker")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    srv.st = State("http://%s:%d" % (args.host, port))
    if args.pidfile:
        with open(args.pidfile, "w") as fh:
            fh.write("%d\n" % os.getpid())

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("READY %d\n" % port)
    sys.stdout.flush()
    srv.serve_forever()
    if args.pidfile:
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
