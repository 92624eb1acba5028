"""Fake of Google's e-mail-code login pages (protocol section 13.3), for the
re-login tests: auth.business.gemini.google, accountverification.business.
gemini.google and the business.gemini.google pages a browser lands on.

Imported by server.py.  One HTTPS listener (a test CA and a leaf made here
with the `openssl` command) answers for every host by the Host header; a
real Chromium reaches it with --host-resolver-rules="MAP *.gemini.google
127.0.0.1" and trusts the leaf with --ignore-certificate-errors-spki-list.
The code of a login is mailed through the fake temp-mail worker's
POST /__fake/deliver; a successful login gives the mock account new
cookies and a new csesidx, so the old ones answer 401 at getoxsrf.

See README.md next to this file, section "Login pages".  Standard library
only.
"""

import asyncio
import base64
import html
import json
import os
import random
import secrets
import subprocess
import time
import urllib.request
from urllib.parse import parse_qsl, quote, urlencode

HOSTS = ("business.gemini.google", "auth.business.gemini.google",
         "accountverification.business.gemini.google")
SAN = ("DNS:*.gemini.google,DNS:business.gemini.google,"
       "DNS:auth.business.gemini.google,"
       "DNS:accountverification.business.gemini.google,"
       "DNS:*.business.gemini.google,DNS:localhost,IP:127.0.0.1")
HTML_CT = "text/html; charset=utf-8"
JSON_CT = "application/json; charset=UTF-8"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
COOKIE_AGE = 86400

TEXT = {
    "zh-CN": {
        "title": "登录 - Gemini Enterprise",
        "heading": "登录 Gemini Enterprise",
        "email": "邮箱",
        "email_ph": "输入您的工作邮箱",
        "continue": "继续",
        "need_email": "请输入邮箱地址",
        "need_captcha": "请完成人机身份验证后重试",
        "challenge": "请完成验证：选择所有包含红绿灯的图片",
        "challenge_button": "验证",
        "sending": "正在发送验证码…",
        "code_title": "验证您的邮箱 - Gemini Enterprise",
        "code_heading": "输入验证码",
        "code_sent_to": "我们已向以下地址发送了一次性验证码：",
        "code_label": "验证码",
        "code_ph": "输入验证码",
        "verify": "验证",
        "resend": "重新发送验证码",
        "toast_sent": "验证码已发送，请查收您的邮件",
        "toast_error": "出了点问题，请稍后再试",
        "wrong": "验证码有误，请重试。",
        "limit": "验证码输入次数已超出上限，请重新发送验证码。",
        "home_title": "Gemini Enterprise",
        "home": "欢迎使用 Gemini Enterprise",
        "subject": "Gemini Enterprise 验证码",
        "mail": ("您好！\n\n您的一次性验证码为：\n\n{code}\n\n"
                 "此验证码将在 10 分钟后失效。如果您没有请求登录"
                 " Gemini Enterprise，请忽略此邮件。\n\nGoogle Cloud 团队"),
    },
    "en": {
        "title": "Sign in - Gemini Enterprise",
        "heading": "Sign in to Gemini Enterprise",
        "email": "Email",
        "email_ph": "Enter your work email",
        "continue": "Continue",
        "need_email": "Enter an email address",
        "need_captcha": "Complete the verification and try again",
        "challenge": "Select all images with traffic lights",
        "challenge_button": "Verify",
        "sending": "Sending the verification code…",
        "code_title": "Verify your email - Gemini Enterprise",
        "code_heading": "Enter the verification code",
        "code_sent_to": "We sent a one-time verification code to:",
        "code_label": "Verification code",
        "code_ph": "Enter code",
        "verify": "Verify",
        "resend": "Resend code",
        "toast_sent": "Verification code sent, please check your email",
        "toast_error": "Something went wrong, please try again later",
        "wrong": "The code is incorrect. Try again.",
        "limit": ("You have exceeded the maximum number of code entry "
                  "attempts. Request a new code."),
        "home_title": "Gemini Enterprise",
        "home": "Welcome to Gemini Enterprise",
        "subject": "Your Gemini Enterprise verification code",
        "mail": ("Hello,\n\nYour one-time verification code is: {code}\n\n"
                 "The code expires in 10 minutes. If you did not ask to "
                 "sign in to Gemini Enterprise, ignore this message.\n\n"
                 "The Google Cloud team"),
    },
}

# the resend button's aria-label stays Chinese in both languages: the
# reference's selector is button[aria-label='重新发送验证码']
RESEND_LABEL = "重新发送验证码"

ERROR_PAGE = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8>"
    "<title>Error 400 (Bad Request)!!1</title>"
    "<p><b>400.</b> <ins>That\u2019s an error.</ins>"
    "<p>The server cannot process the request because it is malformed. "
    "It should not be retried. Please try something else. "
    "<ins>That\u2019s all we know.</ins></html>")

CONFIG_DEFAULTS = {
    "deliver_url": "",        # http://127.0.0.1:P/__fake/deliver, "" = none
    "lang": "auto",           # auto (Accept-Language) | zh-CN | en
    "recaptcha_ms": 400,      # click -> #g-recaptcha-response filled
    "submit_ms": 300,         # filled -> form submitted
    "intermediate_ms": 300,   # /login/email -> code page
    "toast_ms": 500,          # code page -> toast
    "mail_delay_ms": 0,       # code made -> mail delivered
    "limit_after": 3,         # wrong codes before "limit exceeded"
    "mail_format": "text",    # text | html | raw
}

# what a script may set, with its type
SCRIPT_KEYS = {
    "reject": int,            # refuse this many right codes first
    "limit_now": bool,        # the first code entered answers the limit
    "limit_after": int,
    "error_at": str,          # email | code | verify | home
    "challenge": bool,        # a visible challenge frame on the click
    "challenge_ms": int,      # the challenge solves itself (0: never)
    "toast_ms": int,
    "toast_error": int,       # the first N sends fail ("出了点问题")
    "no_mail": bool,          # codes are never mailed
    "mail_delay_ms": int,
    "recaptcha_ms": int,
    "lang": str,
    "mail_format": str,
}


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd[:3]),
                                       p.stderr.decode(errors="replace")))
    return p.stdout


def make_certs(d):
    """A test CA and a leaf for the Google hosts in directory d, made with
    the openssl command (kept when already there).  Returns the paths and
    the base64 SHA-256 of the leaf's SPKI (for Chromium's
    --ignore-certificate-errors-spki-list)."""
    os.makedirs(d, exist_ok=True)
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    leaf, key = os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key")
    if not (os.path.exists(leaf) and os.path.exists(key)
            and os.path.exists(ca)):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes"]
        run(["openssl", "req", "-x509", "-new"] + ec
            + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
               "-subj", "/O=ngx_gemini_pool tests/CN=ngx_gemini_pool test CA",
               "-addext", "basicConstraints=critical,CA:TRUE",
               "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
        with open(os.path.join(d, "leaf.ext"), "w") as fh:
            fh.write("basicConstraints=CA:FALSE\n"
                     "keyUsage=critical,digitalSignature\n"
                     "extendedKeyUsage=serverAuth\n"
                     "subjectAltName=%s\n" % SAN)
        run(["openssl", "req", "-new"] + ec
            + ["-keyout", "leaf.key", "-out", "leaf.csr",
               "-subj", "/CN=business.gemini.google"], d)
        run(["openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem",
             "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
             "-extfile", "leaf.ext", "-out", "leaf.pem"], d)
    pub = run(["openssl", "x509", "-in", "leaf.pem", "-noout", "-pubkey"], d)
    p = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                       input=pub, stdout=subprocess.PIPE, check=True)
    import hashlib
    spki = base64.b64encode(hashlib.sha256(p.stdout).digest()).decode()
    return {"dir": d, "ca": ca, "ca_key": cakey, "cert": leaf, "key": key,
            "spki": spki}


def new_code():
    while True:
        c = "".join(random.choice(CODE_ALPHABET) for _ in range(6))
        if any(ch.isalpha() for ch in c):
            return c


def esc(s):
    return html.escape(str(s), quote=True)


def js(v):
    """A value for an inline script."""
    return json.dumps(v, ensure_ascii=False).replace("<", "\\u003c")


def parse_form(req):
    out = dict(req.query)
    ct = (req.header("content-type") or "").lower()
    if req.body and "application/x-www-form-urlencoded" in ct:
        for k, v in parse_qsl(req.body.decode("utf-8", "replace"),
                              keep_blank_values=True):
            out[k] = v
    elif req.body and req.json_ok and isinstance(req.json, dict):
        for k, v in req.json.items():
            out[k] = str(v)
    return out


def cookies_of(req):
    out = {}
    for part in (req.header("cookie") or "").split(";"):
        k, sep, v = part.strip().partition("=")
        if sep:
            out.setdefault(k.strip(), v.strip())
    return out


def pick_lang(req, forced):
    if forced in TEXT:
        return forced
    al = (req.header("accept-language") or "").lower()
    best, bq = "en", -1.0
    for i, part in enumerate(al.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        q -= i * 1e-6
        if tag.startswith("zh") and q > bq:
            best, bq = "zh-CN", q
        elif tag.startswith("en") and q > bq:
            best, bq = "en", q
    return best


class LoginSite:
    def __init__(self, mock):
        self.mock = mock
        self.st = mock.st
        self.server = None
        self.port = None
        self.certs = None
        self.addresses = {}
        self.config = dict(CONFIG_DEFAULTS)
        self.reset()

    def reset(self):
        """Scripts, flows and logs (the listener, the certificates, the
        address map and the config stay)."""
        self.scripts = []
        self.script_id = 0
        self.flows = {}
        self.tickets = {}
        self.captcha = {}
        self.requests = []
        self.events = []
        self.seq = 0

    # ---- listener -----------------------------------------------------------
    async def listen(self, certdir, host="127.0.0.1", port=0):
        import ssl
        if self.server is not None:
            return self.status()
        self.certs = make_certs(certdir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs["cert"], self.certs["key"])
        try:
            ctx.set_alpn_protocols(["http/1.1"])
        except NotImplementedError:
            pass

        async def handle(reader, writer):
            await self.mock.handle_conn(reader, writer, site=self)

        self.server = await asyncio.start_server(
            handle, host=host, port=port, ssl=ctx, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.status()

    def status(self):
        c = self.certs or {}
        return {"listening": self.server is not None, "port": self.port,
                "hosts": list(HOSTS), "ca": c.get("ca"), "cert": c.get("cert"),
                "key": c.get("key"), "spki": c.get("spki"),
                "config": self.config, "addresses": self.addresses}

    # ---- helpers ---------------------------------------------------------------
    def event(self, flow, name, **detail):
        ev = {"time": round(time.time(), 3), "event": name,
              "flow": flow["id"] if flow else None,
              "account": flow["account"] if flow else None,
              "address": flow["address"] if flow else None}
        ev.update(detail)
        self.events.append(ev)
        if len(self.events) > 5000:
            del self.events[:1000]
        return ev

    def opt(self, flow, name):
        if flow is not None and name in flow["script"]:
            return flow["script"][name]
        return self.config[name]

    def account_of(self, address):
        a = address.strip().lower()
        name = self.addresses.get(a)
        if name is not None:
            return self.st.by_name.get(name)
        for acct in self.st.accounts:
            for k in ("email", "address"):
                if str(acct.get(k, "")).lower() == a:
                    return acct
        return None

    def take_script(self, address, account):
        for s in self.scripts:
            if s["address"] is not None and s["address"] != address:
                continue
            if s["account"] is not None and s["account"] != account:
                continue
            if s["times"] > 0:
                s["times"] -= 1
                if s["times"] == 0:
                    self.scripts.remove(s)
            return dict(s["set"])
        return {}

    @staticmethod
    def origin(req, host):
        h = req.header("host") or ""
        _, sep, port = h.rpartition(":")
        suffix = ":" + port if sep and port.isdigit() and port != "443" else ""
        return "https://" + host + suffix

    async def page(self, conn, req, rec, status, body, headers=(), ctype=HTML_CT):
        rec["status"] = status
        hdrs = [("Cache-Control", "no-store"),
                ("X-Frame-Options", "SAMEORIGIN")]
        hdrs.extend(headers)
        return await self.mock.respond(conn, req, None, status, body,
                                       ctype=ctype, headers=hdrs)

    async def redirect(self, conn, req, rec, url, headers=(), status=302):
        rec["location"] = url
        return await self.page(conn, req, rec, status, b"",
                               headers=[("Location", url)] + list(headers))

    def doc(self, lang, title, body, script="", nonce=None):
        nonce = nonce or secrets.token_urlsafe(12)
        css = ("body{font-family:sans-serif;margin:40px auto;max-width:420px}"
               "input,button{font-size:16px;padding:8px;margin:6px 0}"
               "#email-input,input[name=pinInput]{width:100%}"
               ".err{color:#b00020}"
               "aside{position:fixed;bottom:20px;left:20px}"
               ".zyTWof-gIZMF{background:#323232;color:#fff;padding:12px}"
               "#challenge{border:1px solid #999;padding:10px}")
        return ("<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src "
                "'nonce-%s'; object-src 'none'; base-uri 'self'\">"
                "<title>%s</title><style nonce=\"%s\">%s</style></head>"
                "<body>%s%s</body></html>") % (
                    lang, nonce, esc(title), nonce, css, body,
                    ("<script nonce=\"%s\">%s</script>" % (nonce, script))
                    if script else "")

    # ---- dispatch --------------------------------------------------------------
    async def dispatch(self, conn, req, upath):
        host = (req.header("host") or "").lower()
        if ":" in host:
            host = host.rpartition(":")[0]
        self.seq += 1
        form = parse_form(req)
        rec = {"seq": self.seq, "time": round(time.time(), 3), "host": host,
               "method": req.method, "path": upath, "target": req.target,
               "form": {k: v for k, v in form.items()
                        if k not in req.query},
               "user_agent": req.header("user-agent"),
               "accept_language": req.header("accept-language"),
               "cookies": sorted(cookies_of(req)), "status": None}
        self.requests.append(rec)
        if len(self.requests) > 5000:
            del self.requests[:1000]
        try:
            if host == "auth.business.gemini.google":
                return await self.h_auth(conn, req, rec, upath, form)
            if host == "accountverification.business.gemini.google":
                return await self.h_verify(conn, req, rec, upath, form)
            if host == "business.gemini.google":
                return await self.h_business(conn, req, rec, upath, form)
            return await self.page(conn, req, rec, 404,
                                   "no such host: %s" % esc(host),
                                   ctype="text/plain; charset=utf-8")
        finally:
            if rec["status"] is None:
                rec["status"] = 0

    # ---- auth.business.gemini.google -----------------------------------------------
    async def h_auth(self, conn, req, rec, upath, form):
        if upath == "/login" and req.method == "GET":
            return await self.login_page(conn, req, rec, form, None)
        if upath == "/login/email" and req.method == "POST":
            return await self.login_email(conn, req, rec, form)
        if upath == "/login/email" and req.method == "GET":
            flow = self.flows.get(form.get("flow", ""))
            if flow is None:
                return await self.page(conn, req, rec, 400, ERROR_PAGE)
            rec["flow"] = flow["id"]
            t = TEXT[flow["lang"]]
            url = self.origin(req, HOSTS[2]) + "/v1/verify-oob-code?" + \
                urlencode({"flow": flow["id"], "continueUrl": flow["continue"]})
            body = ("<main><h1>%s</h1><p id=\"status\">%s</p></main>"
                    % (esc(t["heading"]), esc(t["sending"])))
            script = ("setTimeout(function(){location.replace(%s)},%d);"
                      % (json.dumps(url), self.config["intermediate_ms"]))
            return await self.page(conn, req, rec, 200,
                                   self.doc(flow["lang"], t["title"], body, script))
        if upath == "/recaptcha/anchor":
            return await self.page(conn, req, rec, 200, self.doc(
                "en", "reCAPTCHA", "<div class=\"rc-anchor\">protected by "
                "reCAPTCHA</div>"))
        if upath == "/recaptcha/bframe":
            lang = pick_lang(req, self.config["lang"])
            t = TEXT[lang]
            body = ("<div class=\"rc-imageselect\"><p>%s</p>"
                    "<button id=\"recaptcha-verify-button\">%s</button></div>"
                    % (esc(t["challenge"]), esc(t["challenge_button"])))
            script = ("document.getElementById('recaptcha-verify-button')"
                      ".addEventListener('click',function(){"
                      "parent.postMessage('gp-challenge-solved','*')});")
            return await self.page(conn, req, rec, 200,
                                   self.doc(lang, "reCAPTCHA", body, script))
        return await self.page(conn, req, rec, 404, ERROR_PAGE)

    async def login_page(self, conn, req, rec, form, error, address=""):
        lang = pick_lang(req, self.config["lang"])
        t = TEXT[lang]
        cont = form.get("continueUrl") or "https://business.gemini.google/"
        xsrf = cookies_of(req).get("__Host-AP_SignInXsrf") or \
            secrets.token_urlsafe(24)
        token = "03AFcWeA" + secrets.token_urlsafe(120)
        self.captcha[token] = time.time()
        # a script for the address is only known at submit time; the
        # challenge and the reCAPTCHA delay come from the config, or from a
        # script without an address and account
        glob = next((s["set"] for s in self.scripts
                     if s["address"] is None and s["account"] is None), {})
        challenge = bool(glob.get("challenge", False))
        challenge_ms = int(glob.get("challenge_ms", 0))
        rc_ms = int(glob.get("recaptcha_ms", self.config["recaptcha_ms"]))
        body = (
            "<main><h1>%(h)s</h1>"
            "<form id=\"login-form\" method=\"post\" action=\"/login/email\" novalidate>"
            "<input type=\"hidden\" name=\"continueUrl\" value=\"%(cont)s\">"
            "<input type=\"hidden\" name=\"xsrfToken\" value=\"%(xsrf)s\">"
            "<label for=\"email-input\">%(email)s</label>"
            "<input id=\"email-input\" type=\"email\" name=\"loginHint\" "
            "aria-label=\"%(email)s\" autocomplete=\"username\" "
            "placeholder=\"%(ph)s\" value=\"%(addr)s\">"
            "<div id=\"email-error\" class=\"err\" role=\"alert\">%(err)s</div>"
            "<textarea id=\"g-recaptcha-response\" name=\"g-recaptcha-response\" "
            "class=\"g-recaptcha-response\" style=\"display:none\"></textarea>"
            "<div class=\"grecaptcha-badge\"><iframe title=\"reCAPTCHA\" "
            "src=\"/recaptcha/anchor?k=6LdFake\" width=\"256\" height=\"60\" "
            "frameborder=\"0\"></iframe></div>"
            "<button id=\"log-in-button\" type=\"submit\">%(cont_b)s</button>"
            "</form>"
            "<div id=\"challenge\" style=\"display:none\"><iframe "
            "title=\"recaptcha challenge expires in two minutes\" "
            "src=\"/recaptcha/bframe?k=6LdFake\" width=\"400\" height=\"300\">"
            "</iframe></div></main>") % {
                "h": esc(t["heading"]), "cont": esc(cont), "xsrf": esc(xsrf),
                "email": esc(t["email"]), "ph": esc(t["email_ph"]),
                "addr": esc(address), "err": esc(error or ""),
                "cont_b": esc(t["continue"])}
        script = """
(function(){
var f=document.getElementById('login-form'),
    e=document.getElementById('email-input'),
    g=document.getElementById('g-recaptcha-response'),
    c=document.getElementById('challenge'),
    m=document.getElementById('email-error'),
    TOKEN=%(token)s, CH=%(ch)s, CHMS=%(chms)d, RC=%(rc)d, SUB=%(sub)d,
    busy=false;
function solved(){
  c.style.display='none';
  g.value=TOKEN;
  setTimeout(function(){f.submit()},SUB);
}
window.addEventListener('message',function(ev){
  if(ev.data==='gp-challenge-solved'&&busy)solved();
});
f.addEventListener('submit',function(ev){
  ev.preventDefault();
  if(busy)return;
  if(!/^[^@\\s]+@[^@\\s]+$/.test(e.value.trim())){m.textContent=%(need)s;return;}
  m.textContent='';
  busy=true;
  if(CH){c.style.display='block';if(CHMS>0)setTimeout(solved,CHMS);return;}
  setTimeout(solved,RC);
});
})();
""" % {"token": json.dumps(token), "ch": "true" if challenge else "false",
       "chms": challenge_ms, "rc": rc_ms, "sub": self.config["submit_ms"],
       "need": js(t["need_email"])}
        rec["lang"] = lang
        return await self.page(
            conn, req, rec, 200, self.doc(lang, t["title"], body, script),
            headers=[("Set-Cookie", "__Host-AP_SignInXsrf=%s; Path=/; Secure; "
                      "HttpOnly; SameSite=Lax" % xsrf)])

    async def login_email(self, conn, req, rec, form):
        address = form.get("loginHint", "").strip()
        rec["address"] = address
        xsrf = cookies_of(req).get("__Host-AP_SignInXsrf")
        token = form.get("g-recaptcha-response", "")
        if not xsrf or form.get("xsrfToken") != xsrf:
            self.event(None, "bad_xsrf", address=address)
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        if token not in self.captcha:
            self.event(None, "no_captcha", address=address)
            t = TEXT[pick_lang(req, self.config["lang"])]
            return await self.login_page(conn, req, rec, form,
                                         t["need_captcha"], address)
        del self.captcha[token]
        acct = self.account_of(address)
        name = acct["name"] if acct else None
        script = self.take_script(address.lower(), name)
        lang = pick_lang(req, script.get("lang", self.config["lang"]))
        flow = {"id": secrets.token_urlsafe(16), "address": address,
                "account": name, "lang": lang, "script": script,
                "created": round(time.time(), 3),
                "continue": form.get("continueUrl")
                or "https://business.gemini.google/",
                "code": None, "codes": [], "sends": 0, "send_errors": 0,
                "wrong": 0, "rejected": 0, "limited": False, "state": "email",
                "outcome": None, "csesidx": None, "page_served": False}
        self.flows[flow["id"]] = flow
        rec["flow"] = flow["id"]
        self.event(flow, "email_submitted", lang=lang, script=script)
        if acct is None:
            flow["state"] = flow["outcome"] = "unknown_address"
            self.event(flow, "unknown_address")
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        if script.get("error_at") == "email":
            flow["state"] = flow["outcome"] = "error_page"
            self.event(flow, "error_page", at="email")
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        return await self.redirect(conn, req, rec, "/login/email?" + urlencode(
            {"flow": flow["id"], "continueUrl": flow["continue"]}), status=303)

    # ---- codes and mail ------------------------------------------------------------
    def send_code(self, flow):
        """A new code for the flow (the older ones stop working); returns
        the toast key."""
        errs = int(flow["script"].get("toast_error", 0))
        if flow["send_errors"] < errs:
            flow["send_errors"] += 1
            self.event(flow, "send_failed", toast="toast_error")
            return "toast_error"
        code = new_code()
        flow["code"] = code
        flow["codes"].append(code)
        flow["sends"] += 1
        flow["wrong"] = 0
        flow["limited"] = False
        self.event(flow, "code_sent", code=code, n=flow["sends"])
        if not flow["script"].get("no_mail"):
            asyncio.get_running_loop().create_task(self.deliver(flow, code))
        else:
            self.event(flow, "mail_skipped", code=code)
        return "toast_sent"

    def mail_body(self, flow, code):
        t = TEXT[flow["lang"]]
        text = t["mail"].format(code=code)
        fmt = self.opt(flow, "mail_format")
        if fmt == "html":
            paras = "".join("<p>%s</p>" % esc(p) for p in text.split("\n\n"))
            return {"html": "<html><body>%s</body></html>" % paras}
        if fmt == "raw":
            import quopri
            h = "".join("<p>%s</p>" % esc(p) for p in text.split("\n\n"))
            qp = quopri.encodestring(
                ("<html><body>%s</body></html>" % h).encode("utf-8")).decode()
            raw = ("From: Google Cloud <noreply-googlecloud@google.com>\r\n"
                   "To: %s\r\nSubject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
                   "--b1\r\nContent-Type: text/html; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
                   "--b1--\r\n") % (
                       flow["address"],
                       base64.b64encode(t["subject"].encode()).decode(), qp)
            return {"raw": raw}
        return {"text": text}

    async def deliver(self, flow, code):
        delay = self.opt(flow, "mail_delay_ms")
        if delay:
            await asyncio.sleep(delay / 1000.0)
        url = self.config["deliver_url"]
        if not url:
            self.event(flow, "mail_not_sent", code=code,
                       error="no deliver_url configured")
            return
        payload = {"address": flow["address"],
                   "subject": TEXT[flow["lang"]]["subject"],
                   "source": "noreply-googlecloud@google.com"}
        payload.update(self.mail_body(flow, code))
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")

        def post():
            r = urllib.request.Request(url, data=data, method="POST", headers={
                "Content-Type": "application/json"})
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, resp.read()

        try:
            status, body = await asyncio.get_running_loop().run_in_executor(
                None, post)
            try:
                mid = json.loads(body).get("id")
            except Exception:
                mid = None
            self.event(flow, "mail_delivered", code=code, status=status,
                       mail_id=mid)
        except Exception as e:
            self.event(flow, "mail_failed", code=code, error=str(e))

    # ---- accountverification.business.gemini.google ----------------------------------
    def code_page(self, flow, req, error=None, toast=None, toast_ms=0):
        t = TEXT[flow["lang"]]
        body = (
            "<main><h1>%(h)s</h1><p>%(to)s <b id=\"email\">%(addr)s</b></p>"
            "<form id=\"verify-form\" method=\"post\" "
            "action=\"/v1/verify-oob-code\">"
            "<input type=\"hidden\" name=\"flow\" value=\"%(flow)s\">"
            "<input type=\"hidden\" name=\"continueUrl\" value=\"%(cont)s\">"
            "<label for=\"c-pin\">%(label)s</label>"
            "<input id=\"c-pin\" name=\"pinInput\" type=\"text\" "
            "autocomplete=\"one-time-code\" maxlength=\"6\" "
            "aria-label=\"%(label)s\" placeholder=\"%(ph)s\">"
            "<div id=\"code-error\" class=\"err\" role=\"alert\">%(err)s</div>"
            "<button id=\"verify-button\" type=\"submit\">%(verify)s</button> "
            "<button id=\"resend-button\" type=\"button\" "
            "aria-label=\"%(rl)s\">%(resend)s</button>"
            "</form></main>"
            "<aside class=\"zyTWof-Ng57nc\" aria-live=\"polite\">"
            "<div class=\"zyTWof-gIZMF\" id=\"c31\" style=\"display:none\">"
            "</div></aside>") % {
                "h": esc(t["code_heading"]), "to": esc(t["code_sent_to"]),
                "addr": esc(flow["address"]), "flow": esc(flow["id"]),
                "cont": esc(flow["continue"]), "label": esc(t["code_label"]),
                "ph": esc(t["code_ph"]), "err": esc(error or ""),
                "verify": esc(t["verify"]), "rl": esc(RESEND_LABEL),
                "resend": esc(t["resend"])}
        script = """
(function(){
var box=document.getElementById('c31'),
    rb=document.getElementById('resend-button'),
    FLOW=%(flow)s, TOAST=%(toast)s, TMS=%(tms)d, busy=false;
function show(text,ms){
  box.style.display='none';box.textContent='';
  setTimeout(function(){box.textContent=text;box.style.display='block';},ms);
}
if(TOAST)show(TOAST,TMS);
rb.addEventListener('click',function(){
  if(busy)return;busy=true;
  fetch('/v1/resend-oob-code',{method:'POST',headers:{'Content-Type':
    'application/x-www-form-urlencoded'},body:'flow='+encodeURIComponent(FLOW)})
  .then(function(r){return r.json()})
  .then(function(j){busy=false;
    if(j.error_page){location.replace(location.href);return;}
    document.getElementById('code-error').textContent='';
    show(j.toast,j.toast_ms);})
  .catch(function(){busy=false;});
});
})();
""" % {"flow": json.dumps(flow["id"]),
       "toast": js(t[toast] if toast else ""), "tms": toast_ms}
        return self.doc(flow["lang"], t["code_title"], body, script)

    async def h_verify(self, conn, req, rec, upath, form):
        flow = self.flows.get(form.get("flow", ""))
        if flow is not None:
            rec["flow"] = flow["id"]
        if upath == "/v1/verify-oob-code" and req.method == "GET":
            if flow is None or flow["state"] in ("done", "error_page",
                                                 "unknown_address"):
                return await self.page(conn, req, rec, 400, ERROR_PAGE)
            if flow["script"].get("error_at") == "code":
                flow["state"] = flow["outcome"] = "error_page"
                self.event(flow, "error_page", at="code")
                return await self.page(conn, req, rec, 400, ERROR_PAGE)
            toast, err = None, None
            if not flow["page_served"]:
                flow["page_served"] = True
                flow["state"] = "code"
                toast = self.send_code(flow)
            elif flow["limited"]:
                err = TEXT[flow["lang"]]["limit"]
            return await self.page(conn, req, rec, 200, self.code_page(
                flow, req, error=err, toast=toast,
                toast_ms=self.opt(flow, "toast_ms")))
        if upath == "/v1/resend-oob-code" and req.method == "POST":
            if flow is None or flow["state"] != "code":
                return await self.page(conn, req, rec, 400,
                                       json.dumps({"error_page": True}),
                                       ctype=JSON_CT)
            self.event(flow, "resend")
            toast = self.send_code(flow)
            return await self.page(conn, req, rec, 200, json.dumps(
                {"toast": TEXT[flow["lang"]][toast],
                 "toast_ms": self.opt(flow, "toast_ms")},
                ensure_ascii=False), ctype=JSON_CT)
        if upath == "/v1/verify-oob-code" and req.method == "POST":
            return await self.verify(conn, req, rec, flow, form)
        return await self.page(conn, req, rec, 404, ERROR_PAGE)

    async def verify(self, conn, req, rec, flow, form):
        if flow is None or flow["state"] != "code":
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        t = TEXT[flow["lang"]]
        pin = form.get("pinInput", "").strip().upper()
        rec["pin"] = pin
        sc = flow["script"]
        if sc.get("error_at") == "verify":
            flow["state"] = flow["outcome"] = "error_page"
            self.event(flow, "error_page", at="verify", pin=pin)
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        if sc.get("limit_now") and not flow.get("limit_now_done"):
            flow["limit_now_done"] = True
            flow["limited"] = True
        if flow["limited"]:
            self.event(flow, "limit_exceeded", pin=pin)
            return await self.page(conn, req, rec, 200, self.code_page(
                flow, req, error=t["limit"]))
        right = flow["code"] is not None and pin == flow["code"]
        if right and flow["rejected"] < int(sc.get("reject", 0)):
            flow["rejected"] += 1
            right = False
            self.event(flow, "code_rejected_by_script", pin=pin)
        if not right:
            flow["wrong"] += 1
            limit = int(self.opt(flow, "limit_after"))
            if limit > 0 and flow["wrong"] >= limit:
                flow["limited"] = True
                self.event(flow, "limit_exceeded", pin=pin,
                           wrong=flow["wrong"])
                return await self.page(conn, req, rec, 200, self.code_page(
                    flow, req, error=t["limit"]))
            self.event(flow, "code_wrong", pin=pin, wrong=flow["wrong"])
            return await self.page(conn, req, rec, 200, self.code_page(
                flow, req, error=t["wrong"]))
        # success: the account's new session, handed to business.gemini.google
        acct = self.st.by_name.get(flow["account"])
        if acct is None:
            flow["state"] = flow["outcome"] = "error_page"
            return await self.page(conn, req, rec, 400, ERROR_PAGE)
        ticket = secrets.token_urlsafe(24)
        self.tickets[ticket] = flow["id"]
        flow["state"] = "verified"
        self.event(flow, "code_accepted", pin=pin)
        return await self.redirect(conn, req, rec, self.origin(req, HOSTS[0])
                                   + "/auth/signin-complete?" + urlencode(
                                       {"ticket": ticket,
                                        "continueUrl": flow["continue"]}))

    def new_session(self, flow):
        acct = self.st.by_name[flow["account"]]
        while True:
            cses = str(random.randrange(10 ** 9, 10 ** 10))
            if cses not in self.st.by_cses:
                break
        old = {"csesidx": acct["csesidx"], "secure_c_ses": acct["secure_c_ses"]}
        acct["secure_c_ses"] = "CSE.A" + secrets.token_urlsafe(96)
        acct["host_c_oses"] = "COS.A" + secrets.token_urlsafe(96)
        acct["csesidx"] = cses
        self.st.set_accounts(self.st.accounts)
        flow["csesidx"] = cses
        flow["state"] = flow["outcome"] = "done"
        self.event(flow, "signed_in", csesidx=cses, old_csesidx=old["csesidx"],
                   team_id=acct.get("team_id", ""),
                   secure_c_ses=acct["secure_c_ses"],
                   host_c_oses=acct["host_c_oses"])
        return acct

    # ---- business.gemini.google ----------------------------------------------------------
    def session_of(self, req):
        c = cookies_of(req)
        ses = c.get("__Secure-C_SES")
        if not ses:
            return None
        for a in self.st.accounts:
            if a.get("secure_c_ses") == ses:
                return a
        return None

    async def h_business(self, conn, req, rec, upath, form):
        if upath == "/auth/signin-complete":
            fid = self.tickets.pop(form.get("ticket", ""), None)
            flow = self.flows.get(fid) if fid else None
            if flow is None:
                return await self.page(conn, req, rec, 400, ERROR_PAGE)
            rec["flow"] = flow["id"]
            if flow["script"].get("error_at") == "home":
                flow["state"] = flow["outcome"] = "error_page"
                self.event(flow, "error_page", at="home")
                return await self.page(conn, req, rec, 400, ERROR_PAGE)
            acct = self.new_session(flow)
            exp = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                time.gmtime(time.time() + COOKIE_AGE))
            cookies = [
                ("Set-Cookie", "__Secure-C_SES=%s; Domain=business.gemini.google; "
                 "Path=/; Expires=%s; Secure; HttpOnly; SameSite=None"
                 % (acct["secure_c_ses"], exp)),
                ("Set-Cookie", "__Host-C_OSES=%s; Path=/; Expires=%s; Secure; "
                 "HttpOnly; SameSite=Lax" % (acct["host_c_oses"], exp))]
            return await self.redirect(
                conn, req, rec, self.home_url(req, acct), headers=cookies)
        acct = self.session_of(req)
        if upath == "/" or upath == "/home" or upath.startswith("/home/"):
            if acct is None:
                lang = pick_lang(req, self.config["lang"])
                url = self.origin(req, HOSTS[1]) + "/login?" + urlencode(
                    {"continueUrl": self.origin(req, HOSTS[0]) + "/",
                     "hl": lang})
                return await self.redirect(conn, req, rec, url)
            want = "/home/cid/%s" % acct.get("team_id", "")
            if upath != want or req.query.get("csesidx") != str(acct["csesidx"]):
                return await self.redirect(conn, req, rec,
                                           self.home_url(req, acct))
            lang = pick_lang(req, self.config["lang"])
            t = TEXT[lang]
            body = ("<main><h1 id=\"home\">%s</h1><p>%s</p></main>"
                    % (esc(t["home"]), esc(acct["name"])))
            return await self.page(conn, req, rec, 200,
                                   self.doc(lang, t["home_title"], body))
        return await self.page(conn, req, rec, 404, ERROR_PAGE)

    def home_url(self, req, acct):
        return (self.origin(req, HOSTS[0]) + "/home/cid/%s?csesidx=%s"
                % (quote(acct.get("team_id", "")), acct["csesidx"]))

    # ---- control: /__mock/login/... ----------------------------------------------------
    async def control(self, p, m, body, req, ok, bad):
        """p: the path after /__mock/login ('' or '/...')."""
        if p in ("", "/") and m == "GET":
            return await ok(self.status())
        if p == "/listen" and m == "POST":
            if not isinstance(body, dict):
                return await bad("expected an object")
            d = body.get("certdir")
            if d is None:
                import tempfile
                d = tempfile.mkdtemp(prefix="gp-login-ca-")
            if not isinstance(d, str) or not d.startswith("/"):
                return await bad("certdir must be an absolute path")
            port = body.get("port", 0)
            if not isinstance(port, int) or not 0 <= port < 65536:
                return await bad("port must be 0..65535")
            try:
                return await ok(await self.listen(d, port=port))
            except (OSError, RuntimeError) as e:
                return await bad("cannot listen: %s" % e, 500)
        if p == "/reset" and m == "POST":
            self.reset()
            if isinstance(body, dict) and body.get("all"):
                self.addresses = {}
                self.config = dict(CONFIG_DEFAULTS)
            return await ok({"ok": True})
        if p == "/config":
            if m == "POST":
                if not isinstance(body, dict):
                    return await bad("expected an object")
                for k, v in body.items():
                    if k not in CONFIG_DEFAULTS:
                        return await bad("unknown config key %r" % k)
                    want = type(CONFIG_DEFAULTS[k])
                    if not isinstance(v, want) or isinstance(v, bool):
                        return await bad("%s must be a %s" % (k, want.__name__))
                    if k == "lang" and v not in ("auto", "zh-CN", "en"):
                        return await bad("lang must be auto, zh-CN or en")
                    if k == "mail_format" and v not in ("text", "html", "raw"):
                        return await bad("mail_format must be text, html or raw")
                self.config.update(body)
            return await ok(self.config)
        if p == "/addresses":
            if m == "POST":
                items = body if isinstance(body, list) else [body]
                for it in items:
                    if not isinstance(it, dict) or \
                            not isinstance(it.get("address"), str) or \
                            it.get("account") not in self.st.by_name:
                        return await bad("need {\"address\", \"account\"} "
                                         "with a known account")
                for it in items:
                    self.addresses[it["address"].strip().lower()] = it["account"]
            if m == "DELETE":
                self.addresses = {}
            return await ok(self.addresses)
        if p == "/script":
            if m == "GET":
                return await ok(self.scripts)
            if m == "DELETE":
                self.scripts = []
                return await ok({"ok": True})
            if m == "POST":
                rules = body if isinstance(body, list) else [body]
                added = []
                for r in rules:
                    if not isinstance(r, dict):
                        return await bad("a script is an object")
                    acc, addr = r.get("account"), r.get("address")
                    if acc is not None and acc not in self.st.by_name:
                        return await bad("unknown account %r" % (acc,))
                    if addr is not None and not isinstance(addr, str):
                        return await bad("address must be a string")
                    times = r.get("times", 1)
                    if not isinstance(times, int) or times == 0 or times < -1:
                        return await bad("times must be a positive int or -1")
                    s = {}
                    for k, v in r.items():
                        if k in ("account", "address", "times"):
                            continue
                        want = SCRIPT_KEYS.get(k)
                        if want is None:
                            return await bad("unknown script key %r" % k)
                        if want is int and (isinstance(v, bool)
                                            or not isinstance(v, int) or v < 0):
                            return await bad("%s must be a non-negative int" % k)
                        if want is not int and not isinstance(v, want):
                            return await bad("%s must be a %s" % (k, want.__name__))
                    for k, v in r.items():
                        if k in SCRIPT_KEYS:
                            s[k] = v
                    if "error_at" in s and s["error_at"] not in (
                            "email", "code", "verify", "home"):
                        return await bad("error_at: email, code, verify or home")
                    self.script_id += 1
                    added.append({"id": self.script_id, "account": acc,
                                  "address": addr.strip().lower() if addr else None,
                                  "times": times, "set": s})
                self.scripts.extend(added)
                return await ok({"ok": True, "ids": [a["id"] for a in added]})
        if p == "/requests" and m == "GET":
            since = req.query.get("since", "")
            out = self.requests
            if since.isdigit():
                out = [r for r in out if r["seq"] > int(since)]
            return await ok(out)
        if p == "/events" and m == "GET":
            out = self.events
            for k in ("account", "address", "event", "flow"):
                if k in req.query:
                    out = [e for e in out if str(e.get(k)) == req.query[k]]
            return await ok(out)
        if p == "/flows" and m == "GET":
            return await ok(list(self.flows.values()))
        return await bad("unknown control endpoint %s /__mock/login%s" % (m, p),
                         404)
