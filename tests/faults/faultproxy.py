#!/usr/bin/python3
"""faultproxy - a fault-injecting HTTP/1.1 reverse proxy for imgsync's tests (stdlib only).

Listens on 127.0.0.1:PORT and forwards to 127.0.0.1:UPSTREAM (radosgw). Requests and responses
pass byte-for-byte: the request head (Host included, so SigV4 still verifies upstream) is sent
exactly as received, bodies (Content-Length or chunked) are streamed in 64 KiB pieces, never held
in memory; keep-alive and "Expect: 100-continue" work. A fault schedule decides, request by
request, whether to misbehave instead.

Usage:
  faultproxy.py --port PORT --upstream-port UPORT [--rule RULE]... [--control FILE]
                [--log FILE] [--stats FILE] [--port-file FILE] [--max-seconds N] [--seed N]
  --port 0 picks a free port; it is written to --port-file and printed as FAULTPROXY_PORT=N.

Rules: KIND[:key=value]...  (on the command line, and one per line in the control file, which is
re-read before every request when it changed, so a test can switch faults mid-run; '#' starts a
comment). Rules are tried in order (command-line rules first); the first one that fires decides.

  kinds (response without touching upstream unless said otherwise):
    503slowdown | slowdown   503 SlowDown, S3 XML error body; retry-after=N adds Retry-After
    503                      503 ServiceUnavailable
    500                      500 InternalError
    error                    status=N code=S3Code message=TEXT (any error response)
    drop-request             read bytes=N of the request body (default: half of Content-Length,
                             at most 1 MiB; 0 = right after the head), then close the client
                             connection (rst=1: with a TCP RST). Nothing reaches upstream.
    drop-response            forward to upstream, read its answer (the upload is done there),
                             send the client only bytes=N of the response (default 0), close.
    stall                    seconds=S (default 30): hold the response S seconds after upstream
                             answered (phase=request: before forwarding the request); ends
                             early if the client goes away
    trickle                  bps=N (default 1000): send the response at N bytes per second
    skew                     seconds=S: 403 RequestTimeTooSkewed whose Date is now+S
    date-offset              seconds=S: pass through, but rewrite the response's Date to now+S
    pass                     forward unchanged (useful with count= to let requests through)
    rewrite                  from=REGEX to=TEXT: forward, then replace every match of REGEX in
                             the response body (at most 1 MiB, read whole) with TEXT (a server
                             that answers 200 with a wrong ETag, say)
  filters / schedule (any rule):
    method=PUT[,GET...]      only these methods
    path=SUBSTR              only if the request target (path + query) contains SUBSTR
    query=SUBSTR             only if the query string contains SUBSTR (e.g. partNumber, uploads)
    match=REGEX              only if the request line matches REGEX (re.search)
    after=N                  let the first N matching requests pass
    every=N                  fire on every Nth matching request (N, 2N, ... after `after`)
    count=N                  fire at most N times
    p=0.25                   fire with this probability (random, seeded with --seed)
    id=X                     no effect; makes an otherwise identical rule new (fresh counters)
  Values are URL-decoded: write %20 for a space, %3A for a colon.
  A rule's counters ("seen", "fired") live as long as its text is in the schedule; text that
  disappears and comes back starts from zero. POST /__faultproxy/reset zeroes everything.

Observation:
  --log FILE     one line per request and one per injected fault
  --stats FILE   JSON, rewritten (atomically) after every request:
                 {"requests", "responses": {status: n}, "faults": {kind: n}, "faults_total",
                  "connections", "bytes_from_client", "bytes_to_client", "rules": [...]}
  GET  /__faultproxy/stats   the same JSON (not counted as a request)
  POST /__faultproxy/reset   zero the counters
Stops on SIGTERM/SIGINT, and by itself after --max-seconds (default 1800).
"""

import argparse
import errno
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate

CHUNK = 65536
MAX_HEAD = 64 * 1024
CLIENT_IDLE_TIMEOUT = 120.0
UPSTREAM_TIMEOUT = 300.0

S3_MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "ServiceUnavailable": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "RequestTimeTooSkewed":
        "The difference between the request time and the current time is too large.",
}
KIND_ALIASES = {"slowdown": "503slowdown", "503-slowdown": "503slowdown"}
KINDS = {"503slowdown", "503", "500", "error", "drop-request", "drop-response", "stall",
         "trickle", "skew", "date-offset", "pass", "rewrite"}
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class ProxyError(Exception):
    pass


class ClientGone(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# rules
class Rule:
    INT_KEYS = {"after", "every", "count", "bytes", "status", "bps", "rst", "retry-after"}
    FLOAT_KEYS = {"seconds", "p"}
    KNOWN = INT_KEYS | FLOAT_KEYS | {"method", "path", "query", "match", "code", "message",
                                      "phase", "id", "from", "to"}

    def __init__(self, text):
        self.text = text
        parts = text.split(":")
        kind = parts[0].strip().lower()
        kind = KIND_ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r in rule %r" % (parts[0], text))
        self.kind = kind
        self.opts = {}
        for p in parts[1:]:
            if not p:
                continue
            if "=" not in p:
                raise ValueError("expected key=value, got %r in rule %r" % (p, text))
            k, v = p.split("=", 1)
            k = k.strip().lower()
            v = urllib.parse.unquote(v)  # %20 for a space, %3A for a colon
            if k not in self.KNOWN:
                raise ValueError("unknown option %r in rule %r" % (k, text))
            try:
                if k in self.INT_KEYS:
                    v = int(v)
                elif k in self.FLOAT_KEYS:
                    v = float(v)
            except ValueError:
                raise ValueError("bad number %r for %s in rule %r" % (v, k, text))
            self.opts[k] = v
        self.methods = None
        if "method" in self.opts:
            self.methods = {m.strip().upper() for m in self.opts["method"].split(",") if m.strip()}
        self.regex = re.compile(self.opts["match"]) if "match" in self.opts else None
        self.seen = 0
        self.fired = 0

    def matches(self, req):
        if self.methods is not None and req.method not in self.methods:
            return False
        if "path" in self.opts and self.opts["path"] not in req.target:
            return False
        if "query" in self.opts and self.opts["query"] not in req.query:
            return False
        if self.regex is not None and not self.regex.search(req.request_line):
            return False
        return True

    def decide(self, rng):
        """Called for a matching request; True if the fault fires."""
        self.seen += 1
        n = self.seen - self.opts.get("after", 0)
        if n <= 0:
            return False
        if "count" in self.opts and self.fired >= self.opts["count"]:
            return False
        every = self.opts.get("every", 1)
        if every > 1 and n % every != 0:
            return False
        if "p" in self.opts and rng.random() >= self.opts["p"]:
            return False
        self.fired += 1
        return True

    def as_dict(self):
        return {"rule": self.text, "kind": self.kind, "seen": self.seen, "fired": self.fired}


def parse_rules(text):
    rules = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        for tok in line.split():
            rules.append(tok)
    return rules


# ----------------------------------------------------------------------------------------------
# buffered socket reading
class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def _fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(CHUNK)
        except socket.timeout:
            raise
        except OSError as e:
            raise ClientGone(str(e))
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_head(self):
        """Bytes up to and including the blank line; b"" on clean EOF before any byte."""
        start = 0
        while True:
            i = self.buf.find(b"\r\n\r\n", start)
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > MAX_HEAD:
                raise ProxyError("header section too large")
            start = max(0, len(self.buf) - 3)
            if not self._fill():
                if not self.buf:
                    return b""
                raise ClientGone("EOF inside a header section")

    def readline(self, limit=8192):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                raise ProxyError("line too long")
            if not self._fill():
                raise ClientGone("EOF inside a line")

    def read_some(self, n):
        """Up to n bytes (at least 1); raises ClientGone on EOF."""
        if not self.buf and not self._fill():
            raise ClientGone("EOF inside a body")
        k = min(n, len(self.buf))
        data = bytes(self.buf[:k])
        del self.buf[:k]
        return data

    def at_eof_peek(self):
        return self.eof and not self.buf


class Message:
    """A parsed head; .raw keeps the exact bytes."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            if ":" not in line:
                raise ProxyError("malformed header line %r" % line[:80])
            k, v = line.split(":", 1)
            self.headers.append((k.strip().lower(), v.strip()))

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def tokens(self, name):
        out = set()
        for k, v in self.headers:
            if k == name:
                out |= {t.strip().lower() for t in v.split(",") if t.strip()}
        return out

    def body_framing(self):
        """('chunked', None) | ('length', n) | ('none', 0) | ('close', None)."""
        if "chunked" in self.tokens("transfer-encoding"):
            return "chunked", None
        cls = [v for k, v in self.headers if k == "content-length"]
        if cls:
            if len(set(cls)) != 1 or not cls[0].isdigit():
                raise ProxyError("bad Content-Length")
            return "length", int(cls[0])
        return None, None


class Request(Message):
    def __init__(self, raw):
        super().__init__(raw)
        parts = self.first.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise ProxyError("malformed request line %r" % self.first[:100])
        self.method, self.target, self.version = parts
        self.request_line = self.first
        self.query = self.target.split("?", 1)[1] if "?" in self.target else ""
        framing, n = self.body_framing()
        self.framing, self.length = (framing, n) if framing else ("none", 0)
        conn = self.tokens("connection")
        self.keep_alive = ("close" not in conn) and (self.version != "HTTP/1.0" or
                                                      "keep-alive" in conn)
        self.expect_continue = "100-continue" in self.tokens("expect")


class Response(Message):
    def __init__(self, raw, req_method):
        super().__init__(raw)
        parts = self.first.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProxyError("malformed status line %r" % self.first[:100])
        self.version = parts[0]
        self.status = int(parts[1])
        framing, n = self.body_framing()
        if req_method == "HEAD" or self.status in (204, 304) or 100 <= self.status < 200:
            self.framing, self.length = "none", 0
        elif framing:
            self.framing, self.length = framing, n
        else:
            self.framing, self.length = "close", None
        conn = self.tokens("connection")
        self.keep_alive = "close" not in conn and self.framing != "close" and (
            self.version != "HTTP/1.0" or "keep-alive" in conn)


# ----------------------------------------------------------------------------------------------
# senders
class Sink:
    """Writes to a socket; optionally throttled (trickle) and/or limited (drop-response)."""

    def __init__(self, sock, stop_event, bps=None, limit=None):
        self.sock = sock
        self.stop = stop_event
        self.bps = bps
        self.limit = limit
        self.sent = 0

    def send(self, data):
        if self.limit is not None:
            room = self.limit - self.sent
            if room <= 0:
                return
            data = data[:room]
        try:
            if not self.bps:
                self.sock.sendall(data)
                self.sent += len(data)
                return
            piece = max(1, self.bps // 20)
            for i in range(0, len(data), piece):
                chunk = data[i:i + piece]
                self.sock.sendall(chunk)
                self.sent += len(chunk)
                if self.stop.wait(len(chunk) / self.bps):
                    raise ClientGone("proxy stopping")
        except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
            raise ClientGone(str(e))
        except OSError as e:
            raise ClientGone(str(e))

    def full(self):
        return self.limit is not None and self.sent >= self.limit


def dechunk(raw):
    """The payload of a whole chunked body (chunk extensions and trailers dropped)."""
    out, pos = bytearray(), 0
    while True:
        eol = raw.index(b"\r\n", pos)
        size = int(raw[pos:eol].split(b";", 1)[0].strip(), 16)
        if size == 0:
            return bytes(out)
        out += raw[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


def copy_body(reader, framing, length, out, max_bytes=None):
    """Stream a body from reader to out(bytes) as is. Returns bytes read. With max_bytes, stops
    after that many body bytes (chunk framing counted too) and returns -1 if the body was longer."""
    total = 0

    def emit(data):
        nonlocal total
        total += len(data)
        out(data)

    if framing == "none":
        return 0
    if framing == "length":
        left = length
        while left > 0:
            want = min(CHUNK, left)
            if max_bytes is not None:
                want = min(want, max_bytes - total)
                if want <= 0:
                    return -1
            data = reader.read_some(want)
            left -= len(data)
            emit(data)
        return total
    if framing == "close":
        while True:
            if max_bytes is not None and total >= max_bytes:
                return -1
            if not reader.buf and not reader._fill():
                return total
            data = reader.read_some(CHUNK)
            emit(data)
    # chunked
    while True:
        line = reader.readline()
        emit(line)
        size_s = line.split(b";", 1)[0].strip()
        try:
            size = int(size_s, 16)
        except ValueError:
            raise ProxyError("bad chunk size line %r" % line[:40])
        if size == 0:
            while True:  # trailers, then the empty line
                t = reader.readline()
                emit(t)
                if t in (b"\r\n", b"\n"):
                    return total
        left = size + 2  # data + CRLF
        while left > 0:
            want = min(CHUNK, left)
            if max_bytes is not None:
                want = min(want, max_bytes - total)
                if want <= 0:
                    return -1
            data = reader.read_some(want)
            left -= len(data)
            emit(data)


# ----------------------------------------------------------------------------------------------
class Proxy:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.RLock()  # counters and rules
        self.log_lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.cli_rules = []
        for r in args.rule:
            self.cli_rules += parse_rules(r)
        for t in self.cli_rules:
            Rule(t)  # validate early
        self.rule_state = {}  # (index, text) -> Rule
        self.control_sig = None
        self.control_rules = []
        self.control_error = None
        self.logf = open(args.log, "a", buffering=1) if args.log else None
        self.reset_counters()
        self.conn_seq = 0
        self.stop_signal = None
        self.started = time.time()

    def reset_counters(self):
        self.stats = {"requests": 0, "responses": {}, "faults": {}, "faults_total": 0,
                      "connections": 0, "bytes_from_client": 0, "bytes_to_client": 0,
                      "errors": 0}
        self.req_seq = 0
        self.rule_state = {}

    # -- logging / stats --
    def log(self, line):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%03dZ" % (
            int(time.time() * 1000) % 1000)
        text = "%s %s\n" % (ts, line)
        if self.logf:
            with self.log_lock:
                self.logf.write(text)
        if self.args.verbose:
            sys.stderr.write(text)

    def snapshot(self):
        with self.lock:
            s = json.loads(json.dumps(self.stats))
            s["rules"] = [r.as_dict() for r in self._current_rules_locked()]
            s["control_error"] = self.control_error
            s["uptime_seconds"] = round(time.time() - self.started, 3)
        return s

    def write_stats(self):
        if not self.args.stats:
            return
        data = json.dumps(self.snapshot(), indent=1, sort_keys=True)
        tmp = "%s.tmp.%d.%d" % (self.args.stats, os.getpid(), threading.get_ident())
        try:
            with open(tmp, "w") as f:
                f.write(data)
            os.replace(tmp, self.args.stats)
        except OSError as e:
            self.log("ERROR writing stats: %s" % e)

    # -- rules --
    def _reload_control_locked(self):
        path = self.args.control
        if not path:
            return
        try:
            st = os.stat(path)
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            sig = None
        if sig == self.control_sig:
            return
        self.control_sig = sig
        if sig is None:
            self.control_rules = []
            self.control_error = None
            return
        try:
            with open(path) as f:
                texts = parse_rules(f.read())
            for t in texts:
                Rule(t)
            self.control_rules = texts
            self.control_error = None
            self.log("CONTROL reloaded %s: %s" % (path, " ".join(texts) or "(no rules)"))
        except (OSError, ValueError, re.error) as e:
            self.control_error = str(e)
            self.log("CONTROL error in %s: %s (keeping previous rules)" % (path, e))

    def _current_rules_locked(self):
        texts = self.cli_rules + self.control_rules
        keyed = []
        seen_count = {}
        for t in texts:
            i = seen_count.get(t, 0)
            seen_count[t] = i + 1
            keyed.append((t, i))
        state = {}
        out = []
        for key in keyed:
            r = self.rule_state.get(key) or Rule(key[0])
            state[key] = r
            out.append(r)
        self.rule_state = state
        return out

    def choose(self, req):
        with self.lock:
            self._reload_control_locked()
            for r in self._current_rules_locked():
                if r.matches(req) and r.decide(self.rng):
                    if r.kind != "pass":
                        self.stats["faults"][r.kind] = self.stats["faults"].get(r.kind, 0) + 1
                        self.stats["faults_total"] += 1
                    return r
        return None

    def count_request(self, status, up, down):
        with self.lock:
            self.stats["requests"] += 1
            k = str(status)
            self.stats["responses"][k] = self.stats["responses"].get(k, 0) + 1
            self.stats["bytes_from_client"] += up
            self.stats["bytes_to_client"] += down

    # -- serving --
    def serve(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.args.listen_host, self.args.port))
        ls.listen(128)
        ls.settimeout(0.2)
        port = ls.getsockname()[1]
        if self.args.port_file:
            tmp = self.args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.replace(tmp, self.args.port_file)
        self.log("START listening on %s:%d, upstream %s:%d, pid %d, rules: %s" % (
            self.args.listen_host, port, self.args.upstream_host, self.args.upstream_port,
            os.getpid(), " ".join(self.cli_rules) or "(none)"))
        print("FAULTPROXY_PORT=%d" % port, flush=True)
        self.write_stats()
        deadline = time.monotonic() + self.args.max_seconds
        while not self.stop.is_set():
            if time.monotonic() > deadline:
                self.log("STOP after --max-seconds %s" % self.args.max_seconds)
                break
            try:
                cs, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError as e:
                if e.errno in (errno.EINTR, errno.ECONNABORTED):
                    continue
                raise
            with self.lock:
                self.conn_seq += 1
                cid = self.conn_seq
                self.stats["connections"] += 1
                active = threading.active_count()
            if active > self.args.max_connections:
                self.log("conn=%d refused: too many connections" % cid)
                cs.close()
                continue
            t = threading.Thread(target=self.handle_conn, args=(cs, cid), daemon=True)
            t.start()
        ls.close()
        self.write_stats()
        self.log("STOP%s" % (" (signal %d)" % self.stop_signal if self.stop_signal else ""))

    def handle_conn(self, cs, cid):
        cs.settimeout(CLIENT_IDLE_TIMEOUT)
        cs.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = {"client": cs, "reader": Reader(cs), "up": None, "upreader": None, "cid": cid}
        try:
            while not self.stop.is_set():
                if not self.handle_request(conn):
                    break
        except socket.timeout:
            self.log("conn=%d idle/timeout, closing" % cid)
        except ClientGone:
            pass
        except ProxyError as e:
            self.log("conn=%d ERROR %s" % (cid, e))
            with self.lock:
                self.stats["errors"] += 1
        except Exception as e:  # keep serving other connections
            self.log("conn=%d INTERNAL ERROR %r" % (cid, e))
            with self.lock:
                self.stats["errors"] += 1
        finally:
            self.close_upstream(conn)
            try:
                cs.close()
            except OSError:
                pass

    def connect_upstream(self, conn):
        if conn["up"] is not None:
            # reuse only if the upstream did not close it meanwhile
            r, _, _ = select.select([conn["up"]], [], [], 0)
            if not r:
                return
            self.close_upstream(conn)
        s = socket.create_connection((self.args.upstream_host, self.args.upstream_port),
                                     timeout=10)
        s.settimeout(UPSTREAM_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn["up"] = s
        conn["upreader"] = Reader(s)

    def close_upstream(self, conn):
        if conn["up"] is not None:
            try:
                conn["up"].close()
            except OSError:
                pass
        conn["up"] = None
        conn["upreader"] = None

    def send_client(self, conn, data):
        try:
            conn["client"].sendall(data)
        except OSError as e:
            raise ClientGone(str(e))

    def wait_or_client_gone(self, conn, seconds):
        """Sleep up to `seconds`; returns False early if the client closed its connection."""
        end = time.monotonic() + seconds
        cs = conn["client"]
        while not self.stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return True
            r, _, _ = select.select([cs], [], [], min(left, 0.2))
            if r:
                try:
                    peek = cs.recv(1, socket.MSG_PEEK)
                except OSError:
                    return False
                if not peek:
                    return False
                time.sleep(min(left, 0.2))  # pipelined data: keep waiting
        return False

    def error_response(self, status, code, message=None, extra_headers=(), keep_alive=True,
                       extra_xml=""):
        message = S3_MESSAGES.get(code, "") if message is None else message
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s'
                '</Message>%s<RequestId>faultproxy</RequestId><HostId>faultproxy</HostId>'
                '</Error>' % (code, message, extra_xml)).encode()
        hdrs = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Error")),
                "Content-Type: application/xml",
                "Content-Length: %d" % len(body),
                "x-amz-request-id: faultproxy",
                "Server: faultproxy"]
        if not any(h.lower().startswith("date:") for h in extra_headers):
            hdrs.append("Date: " + formatdate(usegmt=True))
        hdrs += list(extra_headers)
        hdrs.append("Connection: " + ("keep-alive" if keep_alive else "close"))
        return ("\r\n".join(hdrs) + "\r\n\r\n").encode("latin-1") + body

    def handle_internal(self, conn, req):
        # drain any body
        copy_body(conn["reader"], req.framing, req.length, lambda d: None)
        if req.target.startswith("/__faultproxy/stats"):
            body = json.dumps(self.snapshot(), indent=1, sort_keys=True).encode()
            status = 200
        elif req.target.startswith("/__faultproxy/reset") and req.method == "POST":
            with self.lock:
                self.reset_counters()
            self.log("RESET counters")
            self.write_stats()
            body, status = b'{"reset": true}', 200
        else:
            body, status = b'{"error": "unknown faultproxy endpoint"}', 404
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                "Connection: keep-alive\r\n\r\n" % (status, REASONS.get(status, ""), len(body)))
        self.send_client(conn, head.encode() + body)
        return req.keep_alive

    def handle_request(self, conn):
        """One request/response exchange. Returns True to keep the connection open."""
        cid = conn["cid"]
        head = conn["reader"].read_head()
        if not head:
            return False
        t0 = time.monotonic()
        req = Request(head)
        if req.target.startswith("/__faultproxy/"):
            return self.handle_internal(conn, req)
        with self.lock:
            self.req_seq += 1
            rid = self.req_seq
        rule = self.choose(req)
        kind = rule.kind if rule else None
        desc = "%s %s" % (req.method, req.target)
        if rule and kind != "pass":
            self.log("FAULT kind=%s rule=%s req=%d conn=%d %s" % (kind, rule.text, rid, cid, desc))
        st = {"status": "-", "up": 0, "down": 0, "note": ""}
        keep = False
        try:
            keep = self.exchange(conn, req, rule, st)
        finally:
            ms = int((time.monotonic() - t0) * 1000)
            self.count_request(st["status"], st["up"], st["down"])
            self.log("REQ req=%d conn=%d %s -> %s up=%d down=%d ms=%d fault=%s%s" % (
                rid, cid, desc, st["status"], st["up"], st["down"], ms,
                rule.text if rule and kind != "pass" else "-",
                (" " + st["note"]) if st["note"] else ""))
            self.write_stats()
        return keep

    def exchange(self, conn, req, rule, st):
        kind = rule.kind if rule else None
        o = rule.opts if rule else {}
        reader = conn["reader"]

        def count_up(data):
            st["up"] += len(data)

        # ---- faults answered by the proxy itself ----
        if kind in ("503slowdown", "503", "500", "error", "skew"):
            extra = []
            extra_xml = ""
            if kind == "503slowdown":
                status, code = 503, "SlowDown"
                if "retry-after" in o:
                    extra.append("Retry-After: %d" % o["retry-after"])
            elif kind == "503":
                status, code = 503, "ServiceUnavailable"
            elif kind == "500":
                status, code = 500, "InternalError"
            elif kind == "skew":
                status, code = 403, "RequestTimeTooSkewed"
                now = time.time()
                srv = now + o.get("seconds", -3600)
                extra.append("Date: " + formatdate(srv, usegmt=True))
                extra_xml = ("<RequestTime>%s</RequestTime><ServerTime>%s</ServerTime>"
                             "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>" % (
                                 req.get("x-amz-date", ""),
                                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(srv))))
            else:
                status = o.get("status", 500)
                code = o.get("code", "InternalError")
            message = o.get("message")
            if req.expect_continue:
                # the client waits for 100-continue: answer at once and close (as servers do)
                data = self.error_response(status, code, message, extra, False, extra_xml)
                self.send_client(conn, data)
                st.update(status=status, down=len(data), note="(before body)")
                return False
            copy_body(reader, req.framing, req.length, count_up)
            data = self.error_response(status, code, message, extra, req.keep_alive, extra_xml)
            self.send_client(conn, data)
            st.update(status=status, down=len(data))
            return req.keep_alive

        if kind == "drop-request":
            if req.framing == "length":
                default = min(req.length // 2, 1 << 20)
            elif req.framing == "chunked":
                default = 1 << 16
            else:
                default = 0
            limit = o.get("bytes", default)
            if limit > 0:
                if req.expect_continue:
                    self.send_client(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
                try:
                    copy_body(reader, req.framing, req.length, count_up, max_bytes=limit)
                except ClientGone:
                    pass
            if o.get("rst"):
                conn["client"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
            st.update(status="dropped-request")
            return False

        if kind == "stall" and o.get("phase", "response") == "request":
            secs = o.get("seconds", 30.0)
            if not self.wait_or_client_gone(conn, secs):
                st.update(status="client-gone", note="(stalled before forwarding)")
                return False

        # ---- forward to upstream ----
        try:
            self.connect_upstream(conn)
        except OSError as e:
            data = self.error_response(502, "BadGateway", "faultproxy: upstream: %s" % e,
                                       keep_alive=False)
            self.send_client(conn, data)
            st.update(status=502, down=len(data), note="(upstream unreachable)")
            return False
        up, upr = conn["up"], conn["upreader"]

        def to_up(data):
            count_up(data)
            try:
                up.sendall(data)
            except OSError as e:
                raise ProxyError("upstream send: %s" % e)

        to_up(req.raw)
        st["up"] -= len(req.raw)
        body_sent = False
        if not req.expect_continue:
            copy_body(reader, req.framing, req.length, to_up)
            body_sent = True
        # response head(s); forward interim 1xx responses
        while True:
            rhead = upr.read_head()
            if not rhead:
                raise ProxyError("upstream closed without a response")
            resp = Response(rhead, req.method)
            if 100 <= resp.status < 200 and resp.status != 101:
                if resp.status == 100 and not body_sent:
                    self.send_client(conn, rhead)
                    st["down"] += len(rhead)
                    copy_body(reader, req.framing, req.length, to_up)
                    body_sent = True
                continue
            break
        st["status"] = resp.status
        # a final answer before the body was asked for: the client may or may not send it now
        keep_client = req.keep_alive and resp.keep_alive and body_sent

        sink_opts = {}
        if kind == "trickle":
            sink_opts["bps"] = max(1, int(o.get("bps", 1000)))
        if kind == "drop-response":
            sink_opts["limit"] = max(0, int(o.get("bytes", 0)))
        sink = Sink(conn["client"], self.stop, **sink_opts)

        if kind == "stall":
            if o.get("phase", "response") == "response":
                if not self.wait_or_client_gone(conn, o.get("seconds", 30.0)):
                    self.close_upstream(conn)
                    st.update(status="client-gone", note="(upstream said %d)" % resp.status)
                    return False

        rhead_out = rhead
        if kind == "date-offset":
            new_date = formatdate(time.time() + o.get("seconds", 0), usegmt=True)
            rhead_out, n = re.subn(rb"(?im)^date:[^\r\n]*", b"Date: " + new_date.encode(), rhead)
            if n == 0:
                rhead_out = rhead[:-2] + b"Date: " + new_date.encode() + b"\r\n\r\n"

        if kind == "rewrite":
            body = bytearray()
            copy_body(upr, resp.framing, resp.length, body.extend, max_bytes=1 << 20)
            if resp.framing == "chunked":
                body = dechunk(bytes(body))
            new = re.sub(o.get("from", "$^").encode(), o.get("to", "").encode(), bytes(body))
            head = re.sub(rb"(?im)^(content-length|transfer-encoding):[^\r\n]*\r\n", b"",
                          rhead_out)
            head = head[:-2] + b"Content-Length: %d\r\n\r\n" % len(new)
            sink.send(head + new)
            st["down"] = sink.sent
            if not resp.keep_alive or not body_sent:
                self.close_upstream(conn)
            return keep_client
        sink.send(rhead_out)
        if kind == "drop-response":
            # drain what upstream still sends for this response (bounded) and drop the client
            try:
                copy_body(upr, resp.framing, resp.length, sink.send)
            except (ProxyError, ClientGone):
                pass
            self.close_upstream(conn)
            st.update(status="dropped-response", down=sink.sent,
                      note="(upstream said %d)" % resp.status)
            return False
        try:
            copy_body(upr, resp.framing, resp.length, sink.send)
        except ClientGone as e:
            # reading from upstream raised (upstream closed mid-body) or the client went away
            self.close_upstream(conn)
            st["down"] = sink.sent
            st["note"] = "(aborted: %s)" % e
            return False
        st["down"] = sink.sent
        if not resp.keep_alive or not body_sent:
            self.close_upstream(conn)
        return keep_client


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--port", type=int, required=True, help="listen port (0 = pick one)")
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--listen-host", default="127.0.0.1")
    ap.add_argument("--rule", action="append", default=[], help="fault rule (repeatable)")
    ap.add_argument("rules", nargs="*", help="more fault rules")
    ap.add_argument("--control", help="rules file, re-read when it changes")
    ap.add_argument("--log", help="log file (appended)")
    ap.add_argument("--stats", help="JSON stats file, rewritten after every request")
    ap.add_argument("--port-file", help="write the listening port here once ready")
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    ap.add_argument("--max-connections", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true", help="log to stderr too")
    args = ap.parse_args()
    args.rule += args.rules
    for h in (args.upstream_host, args.listen_host):
        if not (h.startswith("127.") or h in ("localhost", "::1")):
            ap.error("only loopback addresses are allowed (got %s)" % h)
    try:
        proxy = Proxy(args)
    except (ValueError, re.error) as e:
        ap.error(str(e))

    def on_signal(signum, _frame):
        proxy.stop_signal = signum
        proxy.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    proxy.serve()
    # connection threads are daemons: leaving main ends them
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
