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
import json
import os
import signal
import subprocess
import sys
import time

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


if __name__ == "__main__":
    sys.exit(main())
