#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""sluice-fault-proxy.py — a fault-injecting HTTP/1.1 proxy for Sluice's fault tests.

It sits between sluice-cli and the real test S3 server (Ceph RGW) on 127.0.0.1 and passes
every request and answer through byte for byte: nothing is rewritten, not even Host, because
the client signs (SigV4) the Host it connects to (127.0.0.1:PROXYPORT) and the server checks
the signature over the Host it receives, which is that same header. On a schedule it breaks
things the way networks and servers do, and it counts what it saw, so that a test can check
from the server's side what was sent how often.

Usage:
  sluice-fault-proxy.py --listen 127.0.0.1:0 --upstream 127.0.0.1:PORT --port-file F
                        [--stats-file S] [--schedule JSON|@FILE] [--kill-pid PID |
                        --kill-pid-file FILE] [--log FILE]

  The port it listens on is written to F (atomically) once it listens. JSON statistics are
  written to S (atomically) on SIGUSR1 and on exit (SIGTERM, SIGINT).

Schedule (JSON): {"rules": [RULE, ...], "max_faults_per_request": F}. Each rule numbers the
requests that pass its filters (n = 1, 2, ...), whether or not another rule took them, so the
schedule is deterministic in request order. The first rule, in order, that fires for a
request decides what happens to it; kill-client and count rules are looked at besides (a
request can carry a fault and trigger a kill). With F, one request (same method and target:
it and its retries) meets at most F status or drop-mid-body faults in all, so that a client
retrying a bounded number of times gets through whatever the interleaving.

  Filters (all optional):
    "method": "PUT" or ["PUT", "POST"]
    "part": true (only UploadPart: PUT ?partNumber=) or false (anything else)
    "key_suffix": "IMG_0003.JPG"        object key (bucket stripped, URL-decoded) ends so
    "key_contains": "/video/"            object key contains this
    "query": "uploadId"                  the raw query string contains this
    "header": {"x-amz-security-token": "t1"}   request header has exactly this value
  When it fires (all given conditions must hold):
    "after": M          n > M                       (default 0)
    "count": K          n <= M + K                  (default: no end)
    "nth": N            n == N                      (same as after N-1, count 1)
    "every": E          n % E == 0
    "for_seconds": T    only within T seconds from the first request that passed the
                        conditions above (a time window: a storm). For "down" it is the
                        length of the outage instead.
    "probability": P    with probability P, drawn from random.Random("seed", default 1)
    "times": X          at most X times in all (default 1 for down and kill-client,
                        otherwise no limit)
  Faults:
    {"fault": "status", "status": 503, "code": "SlowDown", "message": "..."}
        answer with an S3 XML error (<Error><Code/><Message/><RequestId>proxy-N</RequestId>)
        without forwarding; the request body is read first (after a "100 Continue" when the
        client asked for one) so the client is not blocked and the connection stays usable.
    {"fault": "drop-mid-body", "fraction": 0.5}
        forward the head and that fraction of the body upstream, then cut both connections
        (a request without a body is cut before it is forwarded).
    {"fault": "stall", "seconds": 3}
        hold the request that long, then forward it.
    {"fault": "drop-response"}
        forward the request; when the server's final answer comes, cut the client's
        connection instead of passing it on (the server did it, the client cannot know).
    {"fault": "down", "for_seconds": 5, "mode": "refuse"}
        the server is gone: every open connection is cut, and for that long new connections
        are refused (mode "refuse": the port stops listening, connect() gets ECONNREFUSED) or
        accepted and closed at once (mode "reset"; then "connections": C ends the outage
        after C such connections instead of after the time).
    {"fault": "count", "name": "N"}
        nothing happens to the request, but faults["count:N"] counts it (e.g. the requests
        signed with a session token: "header": {"x-amz-security-token": "t2"}); the rules
        after it are still looked at.
    {"fault": "kill-client", "when": "request"|"mid-body"|"before-response"|"after-response",
     "delay": 0.0, "min_in_flight": 1, "cut": "none"|"request"|"all"}
        SIGKILL the client (--kill-pid, or the PID in --kill-pid-file, waited for up to 5 s).
        "request": when the request head arrives, before it is forwarded; "mid-body": once
        half of the body has been forwarded; "before-response": the server answered 2xx and
        the client has not seen it yet (the server has the object, the client cannot have
        recorded it); "after-response": after the 2xx answer was passed on, plus "delay"
        seconds. "cut": what becomes of the requests under way: "none" (what the client had
        written is still delivered, as the kernel would), "request" (the triggering one is
        cut where it is: the default for "mid-body", else the client's socket buffers would
        deliver the rest of the body), "all" (every connection is cut: the machine is gone).
        "min_in_flight": fire only when at least that many requests passing the rule's
        filters are in flight (this one included). The requests in flight at the kill are
        listed in the statistics ("kills").
  Example: {"rules": [{"every": 7, "fault": "drop-mid-body"},
                      {"every": 5, "fault": "status", "status": 503, "code": "SlowDown"},
                      {"after": 30, "for_seconds": 3, "probability": 0.5, "fault": "status",
                       "status": 503, "code": "SlowDown"},
                      {"fault": "down", "after": 40, "for_seconds": 5}]}

Statistics (JSON): requests, methods {M: n}, statuses {code: n} (answers passed on or made
up), faults {"drop-mid-body" | "status:503:SlowDown" | "stall" | "down" | "kill-client" |
"refused": n}, objects {key: {put, put_ok, put_bytes [per attempt], create, create_ok,
complete, complete_ok, abort, parts {N: {sent, ok, bytes [per attempt]}}, first_body_at,
last_body_at}} (put = PUT without partNumber; *_ok = the server answered 2xx; *_body_at:
seconds since the proxy started, of request body bytes read from the client), body_bytes,
first_body_at, last_body_at (the same over all requests), max_in_flight, in_flight, kills
[{at, rule, pid, trigger {method, key, part}, in_flight [{method, key, part}]}],
down_windows [[from, to]], events (the first 2000 faults: {n, at, fault, method, key,
part}), faulted_requests {"METHOD TARGET": [the status and drop-mid-body faults it and its
retries got: "drop-mid-body", "status:503", ...]}, elapsed.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import urllib.parse

CHUNK = 256 * 1024
HEAD_LIMIT = 1024 * 1024
MAX_EVENTS = 2000

REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           412: "Precondition Failed", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
MESSAGES = {"SlowDown": "Please reduce your request rate.",
            "InternalError": "We encountered an internal error. Please try again.",
            "ServiceUnavailable": "Please reduce your request rate.",
            "ExpiredToken": "The provided token has expired.",
            "BadDigest": "The Content-MD5 you specified did not match what we received.",
            "AccessDenied": "Access Denied"}


class Dropped(Exception):
    """The connection is cut (a fault, the client died, the server went away)."""


class Request:
    def __init__(self, n, head):
        self.n = n
        self.head = head
        lines = head.decode("latin-1").split("\r\n")
        self.method, self.target, self.version = (lines[0].split(" ", 2) + ["", ""])[:3]
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers[name.strip().lower()] = value.strip()
        url = urllib.parse.urlsplit(self.target)
        self.query_string = url.query
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        path = urllib.parse.unquote(url.path).lstrip("/")
        # path-style: /BUCKET/KEY; the statistics are per key
        self.key = path.split("/", 1)[1] if "/" in path else None
        self.part = None
        if "partNumber" in self.query:
            self.part = self.query["partNumber"][0]
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.length = 0 if self.chunked else int(self.headers.get("content-length", "0") or 0)
        self.body_seen = 0
        self.close = (self.headers.get("connection", "").lower() == "close"
                      or self.version == "HTTP/1.0")
        self.drop_response = False   # the "drop-response" fault: cut before the answer

    @property
    def kind(self):
        if self.key is None:
            return "other"
        if self.method == "PUT":
            return "part" if self.part is not None else "put"
        if self.method == "POST" and "uploads" in self.query:
            return "create"
        if self.method == "POST" and "uploadId" in self.query:
            return "complete"
        if self.method == "DELETE" and "uploadId" in self.query:
            return "abort"
        return "other"

    def describe(self):
        return {"method": self.method, "key": self.key, "part": self.part}


class Rule:
    def __init__(self, index, spec):
        self.index = index
        self.spec = spec
        self.fault = spec["fault"]
        if self.fault not in ("status", "drop-mid-body", "stall", "down", "kill-client",
                              "count", "drop-response"):
            raise ValueError(f"rule {index}: unknown fault {self.fault!r}")
        methods = spec.get("method")
        self.methods = [methods] if isinstance(methods, str) else methods
        self.n = 0
        self.fired = 0
        self.window_start = None
        self.rng = random.Random(spec.get("seed", 1))
        if "nth" in spec:
            self.after, self.count = spec["nth"] - 1, 1
        else:
            self.after, self.count = spec.get("after", 0), spec.get("count")
        self.every = spec.get("every")
        self.times = spec.get("times", 1 if self.fault in ("down", "kill-client") else None)
        self.when = spec.get("when", "request")

    def matches(self, req):
        s = self.spec
        if self.methods is not None and req.method not in self.methods:
            return False
        if "part" in s and (req.part is not None) != s["part"]:
            return False
        if "key_suffix" in s and not (req.key or "").endswith(s["key_suffix"]):
            return False
        if "key_contains" in s and s["key_contains"] not in (req.key or ""):
            return False
        if "query" in s and s["query"] not in req.query_string:
            return False
        for name, value in s.get("header", {}).items():
            if req.headers.get(name.lower()) != value:
                return False
        return True

    def count_and_check(self, req, now):
        """Counts @req when it passes the filters; says whether the rule fires for it (not
        counting the "times" limit, which is charged by the caller when it acts)."""
        if not self.matches(req):
            return False
        self.n += 1
        if self.n <= self.after:
            return False
        if self.count is not None and self.n > self.after + self.count:
            return False
        if self.every is not None and self.n % self.every != 0:
            return False
        if "for_seconds" in self.spec and self.fault != "down":
            if self.window_start is None:
                self.window_start = now
            if now - self.window_start >= self.spec["for_seconds"]:
                return False
        if "probability" in self.spec and self.rng.random() >= self.spec["probability"]:
            return False
        return self.times is None or self.fired < self.times


class Stats:
    def __init__(self):
        self.t0 = time.monotonic()
        self.requests = 0
        self.methods = {}
        self.statuses = {}
        self.faults = {}
        self.objects = {}
        self.body_bytes = 0
        self.first_body_at = None
        self.last_body_at = None
        self.max_in_flight = 0
        self.kills = []
        self.down_windows = []
        self.events = []
        self.faulted_requests = {}

    def now(self):
        return round(time.monotonic() - self.t0, 4)

    def obj(self, key):
        return self.objects.setdefault(key, {
            "put": 0, "put_ok": 0, "put_bytes": [], "create": 0, "create_ok": 0,
            "complete": 0, "complete_ok": 0, "abort": 0, "parts": {}})

    def part(self, req):
        return self.obj(req.key)["parts"].setdefault(req.part, {"sent": 0, "ok": 0, "bytes": []})

    def on_request(self, req):
        self.requests += 1
        self.methods[req.method] = self.methods.get(req.method, 0) + 1
        kind = req.kind
        if kind == "put":
            self.obj(req.key)["put"] += 1
        elif kind == "part":
            self.part(req)["sent"] += 1
        elif kind in ("create", "complete", "abort"):
            self.obj(req.key)[kind] += 1

    def on_body(self, req, n):
        now = self.now()
        if req.kind in ("put", "part"):
            o = self.obj(req.key)
            o.setdefault("first_body_at", now)
            o["last_body_at"] = now
        if self.first_body_at is None:
            self.first_body_at = now
        self.last_body_at = now
        self.body_bytes += n

    def on_done(self, req):
        """The attempt is over (answered, failed or cut): record how much body it carried."""
        if req.kind == "put":
            self.obj(req.key)["put_bytes"].append(req.body_seen)
        elif req.kind == "part":
            self.part(req)["bytes"].append(req.body_seen)

    def on_status(self, req, status, upstream):
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if not upstream or not 200 <= status < 300:
            return
        kind = req.kind
        if kind == "put":
            self.obj(req.key)["put_ok"] += 1
        elif kind == "part":
            self.part(req)["ok"] += 1
        elif kind in ("create", "complete"):
            self.obj(req.key)[kind + "_ok"] += 1

    def on_fault(self, name, req=None):
        self.faults[name] = self.faults.get(name, 0) + 1
        if len(self.events) < MAX_EVENTS:
            event = {"n": req.n if req else None, "at": self.now(), "fault": name}
            if req is not None:
                event.update(req.describe())
            self.events.append(event)

    def to_json(self, in_flight):
        return {
            "requests": self.requests, "methods": self.methods, "statuses": self.statuses,
            "faults": self.faults, "objects": self.objects, "body_bytes": self.body_bytes,
            "first_body_at": self.first_body_at, "last_body_at": self.last_body_at,
            "max_in_flight": self.max_in_flight, "in_flight": len(in_flight),
            "kills": self.kills, "down_windows": self.down_windows, "events": self.events,
            "faulted_requests": self.faulted_requests, "elapsed": self.now()}


class Connection:
    """One client connection and the upstream connection that serves it (opened lazily, so
    keep-alive on both sides follows the client's)."""

    def __init__(self, proxy, reader, writer):
        self.proxy = proxy
        self.reader = reader
        self.writer = writer
        self.up_reader = None
        self.up_writer = None

    async def upstream(self):
        if self.up_writer is None or self.up_reader.at_eof() or self.up_writer.is_closing():
            self.close_upstream()
            host, port = self.proxy.upstream
            self.up_reader, self.up_writer = await asyncio.open_connection(
                host, port, limit=HEAD_LIMIT)
        return self.up_reader, self.up_writer

    def close_upstream(self):
        if self.up_writer is not None:
            self.up_writer.transport.abort()
        self.up_reader = self.up_writer = None

    def abort(self):
        self.writer.transport.abort()
        self.close_upstream()


class Proxy:
    def __init__(self, args, rules, max_faults_per_request=None):
        host, port = args.listen.rsplit(":", 1)
        self.listen = (host, int(port))
        up_host, up_port = args.upstream.rsplit(":", 1)
        self.upstream = (up_host, int(up_port))
        self.args = args
        self.rules = rules
        self.stats = Stats()
        self.max_faults = max_faults_per_request
        self.faults_per_request = self.stats.faulted_requests
        self.server = None
        self.connections = set()
        self.in_flight = []
        self.down_reset_left = None  # mode "reset": connections still to refuse
        self.down = False
        self.background = set()   # tasks of their own (outages, delayed kills): kept alive
        self.log_file = open(args.log, "a", buffering=1) if args.log else None

    def spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def log(self, text):
        if self.log_file:
            self.log_file.write(f"{self.stats.now():9.3f} {text}\n")

    # ---- listening, outages -----------------------------------------------------------------

    async def start(self):
        self.server = await asyncio.start_server(self.accept, self.listen[0], self.listen[1],
                                                 limit=HEAD_LIMIT, reuse_address=True)
        self.listen = self.server.sockets[0].getsockname()[:2]
        tmp = self.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{self.listen[1]}\n")
        os.replace(tmp, self.args.port_file)
        self.log(f"listening on {self.listen[0]}:{self.listen[1]}, upstream {self.upstream}")

    async def go_down(self, rule, req):
        mode = rule.spec.get("mode", "refuse")
        seconds = rule.spec.get("for_seconds")
        self.stats.on_fault("down", req)
        self.down = True
        start = self.stats.now()
        self.log(f"DOWN ({mode}) for {seconds} s / {rule.spec.get('connections')} connections")
        for conn in list(self.connections):
            conn.abort()
        if mode == "refuse":
            self.server.close()
            await asyncio.sleep(seconds)
            self.server = await asyncio.start_server(self.accept, self.listen[0],
                                                     self.listen[1], limit=HEAD_LIMIT,
                                                     reuse_address=True)
        else:
            self.down_reset_left = rule.spec.get("connections")
            if seconds is not None:
                await asyncio.sleep(seconds)
            else:
                while self.down_reset_left > 0:
                    await asyncio.sleep(0.05)
        self.down = False
        self.stats.down_windows.append([start, self.stats.now()])
        self.log("UP again")

    # ---- killing the client ------------------------------------------------------------------

    async def kill_client(self, rule, req, delay=0.0):
        """(The caller has charged rule.fired already, so that no other request fires the
        rule while this one waits.)"""
        if delay:
            await asyncio.sleep(delay)
        pid = self.args.kill_pid
        deadline = time.monotonic() + 5
        while pid is None and self.args.kill_pid_file and time.monotonic() < deadline:
            try:
                with open(self.args.kill_pid_file) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                await asyncio.sleep(0.01)
        in_flight = [r.describe() for r in self.in_flight]
        self.stats.on_fault("kill-client", req)
        self.stats.kills.append({"at": self.stats.now(), "rule": rule.index, "pid": pid,
                                 "trigger": req.describe(), "in_flight": in_flight})
        self.log(f"KILL {pid} ({rule.when}) on {req.method} {req.target}; in flight {in_flight}")
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def kill_point(self, req, when, status=None):
        for rule in req.kill_rules:
            if rule.when != when or (rule.times is not None and rule.fired >= rule.times):
                continue
            if status is not None and not 200 <= status < 300:
                continue
            need = rule.spec.get("min_in_flight", 1)
            if sum(1 for r in self.in_flight if rule.matches(r)) < need:
                continue
            rule.fired += 1
            if when == "after-response" and rule.spec.get("delay"):
                self.spawn(self.kill_client(rule, req, rule.spec["delay"]))
                continue
            await self.kill_client(rule, req)
            cut = rule.spec.get("cut", "request" if when == "mid-body" else "none")
            if cut == "all":
                for conn in list(self.connections):
                    conn.abort()
            if cut in ("all", "request"):
                raise Dropped()

    # ---- requests ----------------------------------------------------------------------------

    async def accept(self, reader, writer):
        if self.down:
            # mode "reset" (in mode "refuse" nothing is listening)
            self.stats.on_fault("refused")
            if self.down_reset_left is not None:
                self.down_reset_left -= 1
            writer.transport.abort()
            return
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                if not await self.request(conn, head):
                    return
        except (Dropped, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError):
            return
        finally:
            self.connections.discard(conn)
            conn.abort()

    def may_fault(self, req, rule):
        if rule.fault not in ("status", "drop-mid-body"):
            return True
        seen = self.faults_per_request.setdefault(f"{req.method} {req.target}", [])
        if self.max_faults is not None and len(seen) >= self.max_faults:
            return False
        seen.append("drop-mid-body" if rule.fault == "drop-mid-body"
                    else f"status:{rule.spec.get('status', 503)}")
        return True

    async def request(self, conn, head):
        """Handles one request; returns whether the connection can carry another one."""
        req = Request(self.stats.requests + 1, head)
        self.stats.on_request(req)
        now = self.stats.now()
        fault = None
        req.kill_rules = []
        for rule in self.rules:
            fires = rule.count_and_check(req, now)
            if not fires:
                continue
            if rule.fault == "kill-client":
                req.kill_rules.append(rule)
            elif rule.fault == "count":
                self.stats.on_fault("count:" + rule.spec.get("name", str(rule.index)), req)
            elif fault is None and self.may_fault(req, rule):
                fault = rule
        self.in_flight.append(req)
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self.in_flight))
        self.log(f"#{req.n} {req.method} {req.target} ({req.length} bytes)"
                 + (f" -> {fault.fault} {fault.spec.get('code', '')}" if fault else ""))
        try:
            await self.kill_point(req, "request")
            if fault is not None:
                fault.fired += 1
                if fault.fault == "status":
                    return await self.answer_error(conn, req, fault.spec)
                if fault.fault == "drop-mid-body":
                    self.stats.on_fault("drop-mid-body", req)
                    await self.drop_mid_body(conn, req, fault.spec.get("fraction", 0.5))
                    raise Dropped()
                if fault.fault == "down":
                    self.spawn(self.go_down(fault, req))
                    raise Dropped()
                if fault.fault == "stall":
                    self.stats.on_fault("stall", req)
                    await asyncio.sleep(fault.spec.get("seconds", 3))
                if fault.fault == "drop-response":
                    req.drop_response = True
            return await self.forward(conn, req)
        finally:
            self.in_flight.remove(req)
            self.stats.on_done(req)

    async def read_body(self, conn, req, sink, limit=None):
        """Copies the request body from the client to @sink (a writer, or None to drop it),
        at most @limit bytes of it; raises Dropped when the client goes away."""
        half = req.length // 2
        mid_done = False
        if req.chunked:
            await self.copy_chunked(conn.reader, sink, req)
            return
        remaining = req.length if limit is None else min(limit, req.length)
        while remaining > 0:
            data = await conn.reader.read(min(CHUNK, remaining))
            if not data:
                raise Dropped()
            remaining -= len(data)
            req.body_seen += len(data)
            self.stats.on_body(req, len(data))
            if sink is not None:
                sink.write(data)
                await sink.drain()
            if not mid_done and req.body_seen >= half and req.kill_rules:
                mid_done = True
                await self.kill_point(req, "mid-body")

    async def copy_chunked(self, reader, sink, req=None):
        while True:
            line = await reader.readuntil(b"\r\n")
            if sink is not None:
                sink.write(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    if sink is not None:
                        sink.write(trailer)
                    if trailer == b"\r\n":
                        break
                if sink is not None:
                    await sink.drain()
                return
            data = await reader.readexactly(size + 2)
            if req is not None:
                req.body_seen += size
                self.stats.on_body(req, size)
            if sink is not None:
                sink.write(data)
                await sink.drain()

    async def answer_error(self, conn, req, spec):
        status = spec.get("status", 503)
        code = spec.get("code", "ServiceUnavailable")
        self.stats.on_fault(f"status:{status}:{code}", req)
        if req.headers.get("expect", "").lower() == "100-continue":
            conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await self.read_body(conn, req, None)
        message = spec.get("message", MESSAGES.get(code, code))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s'
                '</Message><RequestId>proxy-%d</RequestId></Error>'
                % (code, message, req.n)).encode()
        head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: application/xml\r\n"
                f"Content-Length: {0 if req.method == 'HEAD' else len(body)}\r\n"
                f"x-amz-request-id: proxy-{req.n}\r\n"
                + ("Connection: close\r\n" if req.close else "") + "\r\n").encode()
        conn.writer.write(head + (b"" if req.method == "HEAD" else body))
        await conn.writer.drain()
        self.stats.on_status(req, status, upstream=False)
        return not req.close

    async def drop_mid_body(self, conn, req, fraction):
        _, up_writer = await conn.upstream()
        up_writer.write(req.head)
        if req.length > 0:
            await self.read_body(conn, req, up_writer, limit=int(req.length * fraction))
        self.log(f"#{req.n} dropped after {req.body_seen} of {req.length} body bytes")

    async def forward(self, conn, req):
        up_reader, up_writer = await conn.upstream()
        up_writer.write(req.head)
        body = asyncio.ensure_future(self.read_body(conn, req, up_writer))
        answer = asyncio.ensure_future(self.relay_answer(conn, req, up_reader))
        pending = {body, answer}
        try:
            while pending:
                done, pending = await asyncio.wait(pending,
                                                   return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is not None:
                        raise Dropped() from task.exception()
                if answer in done and body in pending:
                    # the server answered before it had the whole body: it will not read on
                    return False
        finally:
            for task in pending:
                task.cancel()
        return answer.result()

    async def relay_answer(self, conn, req, up_reader):
        while True:
            head = await up_reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status >= 200:
                break
            conn.writer.write(head)     # 100 Continue
            await conn.writer.drain()
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        self.stats.on_status(req, status, upstream=True)
        self.log(f"#{req.n} <- {status}")
        if req.drop_response:
            self.stats.on_fault("drop-response", req)
            raise Dropped()
        await self.kill_point(req, "before-response", status)
        conn.writer.write(head)
        keep = not req.close and headers.get("connection", "").lower() != "close"
        if req.method == "HEAD" or status in (204, 304):
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            await self.copy_chunked(up_reader, conn.writer)
        elif "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining > 0:
                data = await up_reader.read(min(CHUNK, remaining))
                if not data:
                    raise Dropped()
                remaining -= len(data)
                conn.writer.write(data)
                await conn.writer.drain()
        else:
            while data := await up_reader.read(CHUNK):
                conn.writer.write(data)
                await conn.writer.drain()
            keep = False
        await conn.writer.drain()
        await self.kill_point(req, "after-response", status)
        return keep

    # ---- statistics ----------------------------------------------------------------------------

    def write_stats(self):
        if not self.args.stats_file:
            return
        tmp = self.args.stats_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats.to_json(self.in_flight), f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.stats_file)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--stats-file")
    parser.add_argument("--schedule", default='{"rules": []}',
                        help="JSON text, or @FILE")
    parser.add_argument("--kill-pid", type=int)
    parser.add_argument("--kill-pid-file")
    parser.add_argument("--log")
    args = parser.parse_args()

    text = args.schedule
    if text.startswith("@"):
        with open(text[1:]) as f:
            text = f.read()
    schedule = json.loads(text)
    rules = [Rule(i, spec) for i, spec in enumerate(schedule.get("rules", []))]
    for host in (args.listen, args.upstream):
        if not host.startswith("127.0.0.1:"):
            sys.exit(f"{host}: the fault proxy talks to 127.0.0.1 only")

    proxy = Proxy(args, rules, schedule.get("max_faults_per_request"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.write_stats)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await proxy.start()
    await stop.wait()
    proxy.write_stats()
    proxy.log("stopped")
    proxy.server.close()
    for conn in list(proxy.connections):
        conn.abort()


if __name__ == "__main__":
    asyncio.run(main())
