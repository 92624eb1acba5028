#!/usr/bin/python3
"""N concurrent streamed chat completions against the gemini_pool module.

    /usr/bin/python3 t/tools/stream_load.py --url http://127.0.0.1:PORT \
        [-n 1000] [--concurrency N] [--suffix 'MOCK:gap=50'] \
        [--timeout 50] [--model M] [PID ...]

Every request is POST /v1/chat/completions with "stream": true and its own
prompt ("stream <i> <suffix>").  A stream is ok when, in order: status 200
with Content-Type text/event-stream; the first data event carries
delta.role == "assistant"; every event is a chat.completion.chunk with the
same id; the content deltas concatenate to the mock's echo answer for that
prompt ("echo: <prompt>" + the mock tail, see t/mock/README.md); one event
has finish_reason "stop" (and nothing but [DONE] follows it); the last
event is "data: [DONE]" and the connection then ends.

While the requests run, VmRSS of the PIDs given on the command line is
summed every 50 ms.  One JSON line goes to stdout:

    {"requests","ok","failed","errors":[first few],"elapsed_s",
     "peak_rss_kb","peak_rss_kb_per_pid","max_in_flight",
     "latency_s":{"p50","p99","max"},"samples"}

Python 3 standard library only (asyncio); raises its own RLIMIT_NOFILE.
"""

import argparse
import asyncio
import json
import resource
import sys
import threading
import time
import urllib.parse

TAIL = '\n-- mock tail: "quoted" {brace} [bracket] ]} back\\slash é 中文 🚀 ✓ end.'


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def vmrss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Failed(Exception):
    pass


class Load:
    def __init__(self, args):
        self.args = args
        u = urllib.parse.urlsplit(args.url)
        self.host = u.hostname
        self.port = u.port or 80
        self.path = (u.path if u.path not in ("", "/") else "/v1/chat/completions")
        self.ok = 0
        self.failed = 0
        self.errors = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.peak = 0
        self.peak_per_pid = {}
        self.samples = 0
        self.latencies = []

    def sampler(self, stop):
        """A thread: the event loop may be too busy to keep a 50 ms pace."""
        pids = self.args.pids
        while True:
            total = 0
            for p in pids:
                kb = vmrss_kb(p)
                total += kb
                if kb > self.peak_per_pid.get(p, 0):
                    self.peak_per_pid[p] = kb
            self.samples += 1
            if total > self.peak:
                self.peak = total
            if stop.wait(0.05):
                return

    async def one(self, i, sem):
        prompt = "stream %04d %s" % (i, self.args.suffix)
        prompt = prompt.strip()
        async with sem:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            t0 = time.monotonic()
            try:
                await asyncio.wait_for(self.run(prompt), self.args.timeout)
                self.ok += 1
                self.latencies.append(time.monotonic() - t0)
            except asyncio.TimeoutError:
                self.fail(i, "timed out after %ss" % self.args.timeout)
            except Failed as e:
                self.fail(i, str(e))
            except (OSError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError, ValueError) as e:
                self.fail(i, "%s: %s" % (type(e).__name__, e))
            finally:
                self.in_flight -= 1

    def fail(self, i, msg):
        self.failed += 1
        if len(self.errors) < self.args.max_errors:
            self.errors.append("request %d: %s" % (i, msg))

    async def run(self, prompt):
        body = {"stream": True,
                "messages": [{"role": "user", "content": prompt}]}
        if self.args.model:
            body["model"] = self.args.model
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        head = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (self.path, self.host, self.port, len(data))).encode("latin-1")

        reader, writer = await asyncio.open_connection(self.host, self.port,
                                                       limit=1 << 20)
        try:
            writer.write(head + data)
            await writer.drain()
            await self.read_response(reader, prompt)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def read_response(self, reader, prompt):
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        if len(status) < 2 or status[1] != "200":
            rest = await reader.read(2000)
            raise Failed("status %r: %r" % (lines[0], rest[:300]))
        hdrs = {}
        for l in lines[1:]:
            if ":" in l:
                n, v = l.split(":", 1)
                hdrs[n.strip().lower()] = v.strip()
        if not hdrs.get("content-type", "").startswith("text/event-stream"):
            raise Failed("content-type %r" % hdrs.get("content-type"))

        sse = Sse(prompt)
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers end with an empty line
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                chunk = await reader.readexactly(size + 2)
                if chunk[-2:] != b"\r\n":
                    raise Failed("bad chunk framing")
                sse.feed(chunk[:-2])
        else:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                sse.feed(chunk)
        sse.close()


class Sse:
    """Incremental check of one OpenAI SSE stream."""

    def __init__(self, prompt):
        self.expected = "echo: " + prompt + TAIL
        self.buf = b""
        self.events = 0
        self.id = None
        self.text = []
        self.role = False
        self.finish_reason = None
        self.done = False

    def feed(self, data):
        self.buf += data
        while True:
            k = self.buf.find(b"\n\n")
            if k < 0:
                return
            ev, self.buf = self.buf[:k], self.buf[k + 2:]
            self.event(ev.decode("utf-8"))

    def event(self, ev):
        if ev.startswith(":"):
            return                          # SSE comment (keep-alive)
        if not ev.startswith("data: "):
            raise Failed("not a data event: %r" % ev[:200])
        if self.done:
            raise Failed("event after [DONE]: %r" % ev[:200])
        payload = ev[6:]
        self.events += 1
        if payload == "[DONE]":
            self.done = True
            return
        if self.finish_reason is not None:
            raise Failed("event after the finish chunk: %r" % ev[:200])
        j = json.loads(payload)
        if "error" in j:
            raise Failed("error event: %r" % payload[:300])
        if j.get("object") != "chat.completion.chunk":
            raise Failed("object %r" % j.get("object"))
        if self.id is None:
            self.id = j.get("id")
        elif j.get("id") != self.id:
            raise Failed("id changed %r -> %r" % (self.id, j.get("id")))
        ch = j["choices"]
        if not ch:
            return                          # a usage chunk
        c = ch[0]
        d = c.get("delta", {})
        if self.events == 1:
            if d.get("role") != "assistant":
                raise Failed("first event has no role: %r" % payload[:200])
            self.role = True
        elif "role" in d:
            raise Failed("role again in event %d" % self.events)
        if d.get("content"):
            self.text.append(d["content"])
        if c.get("finish_reason") is not None:
            self.finish_reason = c["finish_reason"]

    def close(self):
        if self.buf.strip():
            raise Failed("trailing bytes: %r" % self.buf[:200])
        if not self.role:
            raise Failed("no role event")
        if self.finish_reason != "stop":
            raise Failed("finish_reason %r" % self.finish_reason)
        if not self.done:
            raise Failed("no [DONE]")
        text = "".join(self.text)
        if text != self.expected:
            raise Failed("content %r != %r" % (text[:120], self.expected[:120]))


def latency(values):
    """p50, p99 and max of the successful requests, in seconds."""
    if not values:
        return {}
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return {"p50": round(pick(0.50), 3), "p99": round(pick(0.99), 3),
            "max": round(v[-1], 3)}


async def amain(args):
    load = Load(args)
    sem = asyncio.Semaphore(args.concurrency or args.n)
    stop = threading.Event()
    sampler = threading.Thread(target=load.sampler, args=(stop,), daemon=True)
    sampler.start()
    t0 = time.monotonic()
    await asyncio.gather(*(load.one(i, sem) for i in range(args.n)))
    elapsed = time.monotonic() - t0
    stop.set()
    sampler.join()
    return {
        "requests": args.n,
        "ok": load.ok,
        "failed": load.failed,
        "errors": load.errors,
        "elapsed_s": round(elapsed, 3),
        "peak_rss_kb": load.peak,
        "peak_rss_kb_per_pid": {str(k): v for k, v in load.peak_per_pid.items()},
        "max_in_flight": load.max_in_flight,
        "latency_s": latency(load.latencies),
        "samples": load.samples,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=0,
                    help="at most this many at once (default: all n)")
    ap.add_argument("--suffix", default="MOCK:gap=50",
                    help="appended to every prompt (mock directives)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--timeout", type=float, default=50.0,
                    help="seconds per request")
    ap.add_argument("--max-errors", type=int, default=5)
    ap.add_argument("pids", nargs="*", type=int,
                    help="nginx PIDs whose VmRSS is sampled")
    args = ap.parse_args()
    raise_nofile(args.n * 2 + 256)
    res = asyncio.run(amain(args))
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
