#!/usr/bin/env python3
"""Quick self test of t/mock/server.py (stdlib only).

Starts the mock on a free port, runs getoxsrf -> JWT -> createSession ->
streamAssist, checks the streamed array and the echo text, checks an injected
429 and a MOCK:429 prompt directive, then stops the mock with SIGTERM.
Exit status 0 = pass.  Usage: python3 t/mock/selftest.py [-v]
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlencode, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
VERBOSE = "-v" in sys.argv
TAIL = '\n-- mock tail: "quoted" {brace} [bracket] ]} back\\slash é 中文 🚀 ✓ end.'


def log(*a):
    if VERBOSE:
        print(*a, file=sys.stderr)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def make_jwt(xsrf_token, kid, csesidx, now):
    """Spec section 4."""
    key = base64.urlsafe_b64decode(xsrf_token + "=" * (-len(xsrf_token) % 4))
    hdr = json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}, separators=(",", ":"))
    pl = json.dumps({"iss": "https://business.gemini.google",
                     "aud": "https://biz-discoveryengine.googleapis.com",
                     "sub": "csesidx/%s" % csesidx, "iat": now, "exp": now + 300, "nbf": now},
                    separators=(",", ":"))
    si = b64url(hdr.encode()) + "." + b64url(pl.encode())
    return si + "." + b64url(hmac.new(key, si.encode("ascii"), hashlib.sha256).digest())


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    log("ok:", what)


def main():
    # spec test vector
    tv = make_jwt(b64url(bytes(range(32))), "test-kid-1", "1234567890", 1700000000)
    check(tv.endswith(".vBt_ZuC-tSgymqQkd1jVayk36xWiy29Sa-frY3FUg18"), "JWT test vector")

    accounts = json.load(open(os.path.join(HERE, "accounts.json")))
    acc = accounts[0]
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode().strip()
        check(line.startswith("READY "), "READY line (%r)" % line)
        port = int(line.split()[1])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def req(method, path, body=None, headers=None):
            h = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["content-type"] = "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r, r.read()

        # getoxsrf
        r, b = req("GET", "/auth/getoxsrf?csesidx=" + acc["csesidx"],
                   headers={"cookie": "__Secure-C_SES=%s; __Host-C_OSES=%s"
                            % (acc["secure_c_ses"], acc["host_c_oses"])})
        check(r.status == 200 and b.startswith(b")]}'\n"), "getoxsrf 200 with XSSI prefix")
        x = json.loads(b[4:].strip())
        r, b = req("GET", "/auth/getoxsrf?csesidx=" + acc["csesidx"],
                   headers={"cookie": "__Secure-C_SES=wrong"})
        check(r.status == 401 and b"EXPIRED_SIGN_IN" in b, "getoxsrf bad cookie -> 401")

        jwt = make_jwt(x["xsrfToken"], x["keyId"], acc["csesidx"], int(time.time()))
        auth = {"authorization": "Bearer " + jwt}
        common = {"configId": acc["team_id"], "additionalParams": {"token": "-"}}

        r, b = req("POST", "/v1alpha/locations/global/widgetCreateSession",
                   dict(common, createSessionRequest={"session": {"name": "abc", "displayName": "abc"}}),
                   {"authorization": "Bearer " + jwt[:-2] + "xx"})
        check(r.status == 401 and b"UNAUTHENTICATED" in b, "bad JWT signature -> 401")
        r, b = req("POST", "/v1alpha/locations/global/widgetCreateSession",
                   dict(common, createSessionRequest={"session": {"name": "abc", "displayName": "abc"}}),
                   auth)
        check(r.status == 200, "createSession 200")
        session = json.loads(b)["session"]["name"]
        check(session.startswith("collections/default_collection/engines/agentspace-engine/sessions/"),
              "session name format")

        def stream_body(text):
            return dict(common, streamAssistRequest={
                "session": session, "query": {"parts": [{"text": text}]}, "filter": "",
                "fileIds": [], "answerGenerationMode": "NORMAL",
                "toolsSpec": {"webGroundingSpec": {}, "toolRegistry": "default_tool_registry",
                              "imageGenerationSpec": {}, "videoGenerationSpec": {}},
                "languageCode": "zh-CN", "userMetadata": {"timeZone": "Etc/GMT-8"},
                "assistSkippingMode": "REQUEST_ASSIST",
                "assistGenerationConfig": {"modelId": "gemini-2.5-flash"}})

        q = "Hello mock, é 中文 🚀"
        r, b = req("POST", "/v1alpha/locations/global/widgetStreamAssist", stream_body(q), auth)
        check(r.status == 200, "streamAssist 200")
        check(r.getheader("transfer-encoding") == "chunked", "streamAssist chunked")
        arr = json.loads(b.decode("utf-8"))
        check(isinstance(arr, list) and len(arr) >= 5, "streamed array parses (%d elements)" % len(arr))
        text, thought = "", ""
        for el in arr:
            for rep in el["streamAssistResponse"]["answer"].get("replies", []):
                c_ = rep["groundedContent"]["content"]
                if c_.get("thought"):
                    thought += c_["text"]
                else:
                    text += c_.get("text", "")
        check(text == "echo: " + q + TAIL, "echo text")
        check(thought == "Thinking about it...", "thought text")
        last = arr[-1]
        check(last["streamAssistResponse"]["answer"]["state"] == "SUCCEEDED"
              and last["streamAssistResponse"]["sessionInfo"]["session"] == session
              and "uToken" in last, "final element")

        # injected 429
        r, b = req("POST", "/__mock/inject", {"account": acc["name"], "endpoint": "streamAssist",
                                              "action": {"status": 429, "body": {"error": {
                                                  "code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                                                  "status": "RESOURCE_EXHAUSTED"}}}})
        check(r.status == 200, "inject accepted")
        r, b = req("POST", "/v1alpha/locations/global/widgetStreamAssist", stream_body("hi"), auth)
        check(r.status == 429 and json.loads(b)["error"]["status"] == "RESOURCE_EXHAUSTED", "injected 429")
        r, b = req("POST", "/v1alpha/locations/global/widgetStreamAssist", stream_body("hi"), auth)
        check(r.status == 200, "injection consumed (next call 200)")
        r, b = req("POST", "/v1alpha/locations/global/widgetStreamAssist", stream_body("x MOCK:429"), auth)
        e = json.loads(b)["error"]
        check(r.status == 429 and e["details"][0]["reason"] == "LLM_OVERLOADED", "MOCK:429 directive")

        # request log and stats
        r, b = req("GET", "/__mock/requests?endpoint=streamAssist")
        recs = json.loads(b)
        check(len(recs) == 4 and recs[0]["query_text"] == q and recs[0]["account"] == acc["name"]
              and recs[0]["completed"] and recs[0]["jwt"]["sub"] == "csesidx/" + acc["csesidx"]
              and recs[0]["model_id"] == "gemini-2.5-flash", "request log")
        r, b = req("GET", "/__mock/stats")
        s = json.loads(b)
        check(s["counts"]["streamAssist"][acc["name"]] == 4 and s["counts"]["getoxsrf"][acc["name"]] == 2,
              "stats counts")
        c.close()
        login_selftest(port, accounts)
    except Fail as e:
        print("selftest FAILED: %s" % e, file=sys.stderr)
        proc.kill()
        proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        if err:
            print(err, file=sys.stderr)
        return 1
    except Exception as e:
        print("selftest ERROR: %r" % (e,), file=sys.stderr)
        proc.kill()
        proc.wait()
        return 1
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        print("selftest FAILED: mock did not exit on SIGTERM", file=sys.stderr)
        return 1
    err = proc.stderr.read().decode(errors="replace")
    if rc != 0 or err.strip():
        print("selftest FAILED: mock exit %s stderr=%r" % (rc, err), file=sys.stderr)
        return 1
    print("selftest OK")
    return 0


class Mailbox(http.server.BaseHTTPRequestHandler):
    """Stand-in for tempmail.py's POST /__fake/deliver."""
    mails = []
    cond = threading.Condition()

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(n))
        with Mailbox.cond:
            Mailbox.mails.append(body)
            Mailbox.cond.notify_all()
            mid = len(Mailbox.mails)
        out = json.dumps({"id": mid}).encode()
        self.send_response(200 if self.path == "/__fake/deliver" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


def wait_mail(n, timeout=5):
    end = time.time() + timeout
    with Mailbox.cond:
        while len(Mailbox.mails) < n and time.time() < end:
            Mailbox.cond.wait(0.1)
        return Mailbox.mails[n - 1] if len(Mailbox.mails) >= n else None


def mail_code(mail):
    m = re.search(r"(?:验证码为|code is)[:：\s]*([A-Z0-9]{6})", mail.get("text", ""))
    return m.group(1) if m else None


class Browser:
    """Just enough of a browser for the fake login pages: TLS with the test
    CA and SNI, a Host header, a cookie jar, and the values the pages'
    scripts would fill in."""

    def __init__(self, port, ca, lang="en-US,en;q=0.9"):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca)
        self.jar = {}
        self.lang = lang

    def go(self, method, url, form=None):
        u = urlsplit(url)
        check(u.port == self.port, "URL keeps the listener's port: %s" % url)
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                        context=self.ctx)
        c._tunnel_host = None
        # SNI and certificate check against the Google host name
        c.sock = self.ctx.wrap_socket(
            __import__("socket").create_connection(("127.0.0.1", self.port), 10),
            server_hostname=u.hostname)
        h = {"host": u.netloc, "accept-language": self.lang}
        jar = self.jar.get(u.hostname, {})
        if jar:
            h["cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        data = None
        if form is not None:
            data = urlencode(form).encode()
            h["content-type"] = "application/x-www-form-urlencoded"
        c.request(method, u.path + ("?" + u.query if u.query else ""), body=data,
                  headers=h)
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        for v in r.headers.get_all("set-cookie") or []:
            name, _, rest = v.partition("=")
            val = rest.split(";")[0]
            attrs = v.lower()
            dom = re.search(r"domain=([^;]+)", attrs)
            hosts = [u.hostname]
            if dom:
                hosts = [h for h in ("business.gemini.google",
                                     "auth.business.gemini.google",
                                     "accountverification.business.gemini.google")
                         if h == dom.group(1) or h.endswith("." + dom.group(1))]
            for hh in hosts:
                self.jar.setdefault(hh, {})[name] = val
            r.cookie_attrs = getattr(r, "cookie_attrs", {})
            r.cookie_attrs[name] = attrs
        c.close()
        return r, body

    def submit_email(self, address):
        base = "https://auth.business.gemini.google:%d" % self.port
        r, b = self.go("GET", base + "/login?continueUrl=https://business.gemini.google/")
        check(r.status == 200 and 'id="email-input"' in b and 'name="loginHint"' in b
              and 'id="log-in-button"' in b and 'id="g-recaptcha-response"' in b,
              "login page has the e-mail form")
        xsrf = re.search(r'name="xsrfToken" value="([^"]+)"', b).group(1)
        token = json.loads(re.search(r"TOKEN=(\"[^\"]+\")", b).group(1))
        r, b = self.go("POST", base + "/login/email",
                       {"continueUrl": "https://business.gemini.google/",
                        "xsrfToken": xsrf, "loginHint": address,
                        "g-recaptcha-response": token})
        if r.status != 303:
            return r, b
        r, b = self.go("GET", base + r.getheader("location"))
        check(r.status == 200, "intermediate /login/email page")
        url = json.loads(re.search(r"location.replace\((\"[^\"]+\")\)", b).group(1))
        check(url.startswith("https://accountverification.business.gemini.google:%d"
                             "/v1/verify-oob-code?" % self.port), "on to the code page")
        r, b = self.go("GET", url)
        self.flow = re.search(r'name="flow" value="([^"]+)"', b).group(1) if r.status == 200 else None
        return r, b

    def verify(self, pin):
        return self.go("POST", "https://accountverification.business.gemini.google:%d"
                       "/v1/verify-oob-code" % self.port,
                       {"flow": self.flow, "pinInput": pin})

    def resend(self):
        r, b = self.go("POST", "https://accountverification.business.gemini.google:%d"
                       "/v1/resend-oob-code" % self.port, {"flow": self.flow})
        return r, json.loads(b)


def login_selftest(port, accounts):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

    def req(method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["content-type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return r, r.read()

    mbox = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mailbox)
    threading.Thread(target=mbox.serve_forever, daemon=True).start()
    try:
        certdir = tempfile.mkdtemp(prefix="gp-selftest-ca-")
        r, b = req("POST", "/__mock/login/listen", {"certdir": certdir})
        st = json.loads(b)
        check(r.status == 200 and st["listening"] and st["port"] > 0 and len(st["spki"]) == 44,
              "login listener with a test CA (port %s)" % st.get("port"))
        lp = st["port"]
        r, b = req("POST", "/__mock/login/config",
                   {"deliver_url": "http://127.0.0.1:%d/__fake/deliver" % mbox.server_port,
                    "toast_ms": 0, "recaptcha_ms": 0})
        check(r.status == 200, "login config")
        r, b = req("POST", "/__mock/login/config", {"lang": "fr"})
        check(r.status == 400 and b"lang" in b, "bad login config refused")
        acc = accounts[1]
        addr = "relogin-acc2@mail.test"
        r, b = req("POST", "/__mock/login/addresses", {"address": addr, "account": acc["name"]})
        check(r.status == 200, "address mapped to an account")
        r, b = req("POST", "/__mock/login/addresses", {"address": "x@y", "account": "nobody"})
        check(r.status == 400, "address of an unknown account refused")

        # the happy path with one wrong code first (English)
        br = Browser(lp, st["ca"])
        r, b = br.submit_email(addr)
        check(r.status == 200 and 'name="pinInput"' in b
              and 'aria-label="重新发送验证码"' in b, "code page with pinInput and resend button")
        check("Verification code sent, please check your email" in b, "toast text (en)")
        mail = wait_mail(1)
        check(mail is not None and mail["address"] == addr, "code mailed to the address")
        code = mail_code(mail)
        check(code is not None, "code in the mail (%s)" % mail.get("text"))
        r, b = br.verify("ZZZZZ9" if code != "ZZZZZ9" else "YYYYY9")
        check(r.status == 200 and "The code is incorrect" in b, "wrong code page")
        r, b = br.verify(code.lower())
        loc = r.getheader("location") or ""
        check(r.status == 302 and loc.startswith("https://business.gemini.google:%d/" % lp),
              "right code -> business.gemini.google")
        r, b = br.go("GET", loc)
        home = r.getheader("location") or ""
        m = re.match(r"https://business\.gemini\.google:%d/home/cid/([^?]+)\?csesidx=(\d+)$" % lp, home)
        check(r.status == 302 and m and m.group(1) == acc["team_id"]
              and m.group(2) != acc["csesidx"], "redirect to /home/cid/<team>?csesidx=<new>")
        attrs = r.cookie_attrs
        check("secure" in attrs["__Secure-C_SES"] and "httponly" in attrs["__Secure-C_SES"]
              and "secure" in attrs["__Host-C_OSES"] and "path=/" in attrs["__Host-C_OSES"]
              and "domain=" not in attrs["__Host-C_OSES"], "cookie attributes")
        r, b = br.go("GET", home)
        check(r.status == 200 and acc["name"] in b, "home page with the new cookies")
        jar = br.jar["business.gemini.google"]
        r, b = req("GET", "/auth/getoxsrf?csesidx=" + m.group(2),
                   headers={"cookie": "__Secure-C_SES=%s; __Host-C_OSES=%s"
                            % (jar["__Secure-C_SES"], jar["__Host-C_OSES"])})
        check(r.status == 200 and b'"keyId"' in b, "new cookies valid at getoxsrf")
        r, b = req("GET", "/auth/getoxsrf?csesidx=" + acc["csesidx"],
                   headers={"cookie": "__Secure-C_SES=%s; __Host-C_OSES=%s"
                            % (acc["secure_c_ses"], acc["host_c_oses"])})
        check(r.status == 401, "old cookies answer 401")
        r, b = req("GET", "/__mock/login/events?event=signed_in")
        ev = json.loads(b)
        check(len(ev) == 1 and ev[0]["csesidx"] == m.group(2)
              and ev[0]["secure_c_ses"] == jar["__Secure-C_SES"], "signed_in event")

        # limit after 2 wrong codes, resend, then success (Chinese)
        r, b = req("POST", "/__mock/login/script", {"address": addr, "limit_after": 2})
        check(r.status == 200, "script accepted")
        r, b = req("POST", "/__mock/login/script", {"address": addr, "bogus": 1})
        check(r.status == 400, "unknown script key refused")
        br = Browser(lp, st["ca"], lang="zh-CN,zh;q=0.9,en;q=0.8")
        r, b = br.submit_email(addr)
        check("验证码已发送，请查收您的邮件" in b, "toast text (zh-CN)")
        wait_mail(2)
        r, b = br.verify("AAAAA1")
        check("验证码有误" in b, "wrong code (zh-CN)")
        r, b = br.verify("AAAAA1")
        check("验证码输入次数已超出上限" in b, "limit exceeded after 2 wrong codes")
        code = mail_code(wait_mail(2))
        r, b = br.verify(code)
        check("验证码输入次数已超出上限" in b, "still limited with the right code")
        r, j = br.resend()
        check(r.status == 200 and j["toast"] == "验证码已发送，请查收您的邮件", "resend toast")
        code2 = mail_code(wait_mail(3))
        r, b = br.verify(code)
        check(r.status == 200 and "验证码有误" in b, "the old code no longer works")
        r, b = br.verify(code2)
        check(r.status == 302, "the resent code works")

        # toast error, then resend sends the mail
        req("POST", "/__mock/login/script", {"account": acc["name"], "toast_error": 1})
        br = Browser(lp, st["ca"], lang="zh-CN")
        r, b = br.submit_email(addr)
        check("出了点问题，请稍后再试" in b, "toast error variant")
        time.sleep(0.3)
        check(len(Mailbox.mails) == 3, "no mail after a failed send")
        r, j = br.resend()
        check(j["toast"] == "验证码已发送，请查收您的邮件" and mail_code(wait_mail(4)),
              "resend after the toast error mails a code")

        # error page, unknown address, captcha missing
        req("POST", "/__mock/login/script", {"address": addr, "error_at": "code"})
        br = Browser(lp, st["ca"])
        r, b = br.submit_email(addr)
        check(r.status == 400 and "server cannot process" in b, "scripted error page")
        r, b = Browser(lp, st["ca"]).submit_email("nobody@mail.test")
        check(r.status == 400 and "server cannot process" in b, "unknown address: error page")
        r, b = br.go("POST", "https://auth.business.gemini.google:%d/login/email" % lp,
                     {"loginHint": addr})
        check(r.status == 400, "a form without the xsrf cookie is refused")
        r, b = req("GET", "/__mock/login/requests")
        log_ = json.loads(b)
        check(len(log_) > 20 and all("host" in x and "status" in x for x in log_),
              "request log of the login pages")
        r, b = req("POST", "/__mock/reset")
        r, b = req("GET", "/__mock/login/flows")
        check(json.loads(b) == [], "reset clears the flows")
    finally:
        mbox.shutdown()
        c.close()


if __name__ == "__main__":
    sys.exit(main())
