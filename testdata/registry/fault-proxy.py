#!/usr/bin/env python3
"""HTTP/1.1 reverse proxy that injects deterministic faults, for registry client tests.

    fault-proxy.py --target HOST:PORT --dir DIR [--port N] [--faults SPEC]

SPEC is a comma-separated list of FAULT:KEY=VALUE[:KEY=VALUE...]; each kind at most once:

    status500:EVERY=4            every 4th request (all requests counted) gets a 500, unforwarded
    status429:EVERY=5            every 5th request gets a 429 with Retry-After: 0, unforwarded
    reset-connect:EVERY=7        every 7th accepted connection is reset at once
    reset-upload:AFTER=3000000   first PATCH/PUT with a body over AFTER bytes: forward AFTER
                                 bytes of it, then reset both connections
    cut-download:AFTER=1000000   first 2xx GET of a /blobs/ URL with a body over AFTER bytes:
                                 send the headers and AFTER body bytes, then close the client
    COUNT=n limits injections of a kind (default: unlimited for EVERY, 1 for AFTER).
    An empty SPEC (the default) or "none" proxies faithfully.

Requests are relayed unchanged (Host included); only Location headers that point at the
target are rewritten to point at the proxy. DIR gets `port` (written once listening) and
`requests.log`: one JSON object per request (see LOG_FIELDS), plus one per reset-connect with
method null.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

MAX_HEAD = 64 * 1024
BUFSIZE = 64 * 1024
IO_TIMEOUT = 600
EVERY_KINDS = ("status500", "status429", "reset-connect")
AFTER_KINDS = ("reset-upload", "cut-download")
STATUS_FAULTS = {
    "status500": (500, "Internal Server Error", "UNKNOWN", []),
    "status429": (429, "Too Many Requests", "TOOMANYREQUESTS", [("Retry-After", "0")]),
}
# conn: connection number, n: request number (both 1-based, over the proxy's lifetime);
# request_bytes: request body bytes forwarded upstream; response_bytes: response body bytes
# sent to the client (headers not counted); status: null when no response was sent.
LOG_FIELDS = ("time", "conn", "n", "method", "path", "status", "request_bytes",
              "response_bytes", "fault", "content_range", "range")


def log(msg):
    print(f"fault-proxy: {msg}", file=sys.stderr, flush=True)


class ProtocolError(Exception):
    pass


class Fault:
    def __init__(self, kind, params):
        self.kind = kind
        key = "EVERY" if kind in EVERY_KINDS else "AFTER"
        unknown = set(params) - {key, "COUNT"}
        if unknown or key not in params:
            raise ValueError(f"{kind} takes {key}=n[:COUNT=n]")
        self.every = params[key] if key == "EVERY" else None
        self.after = params[key] if key == "AFTER" else None
        self.count = params.get("COUNT", None if key == "EVERY" else 1)
        if self.every is not None and self.every < 1:
            raise ValueError(f"{kind}: EVERY must be at least 1")
        self.injected = 0


class Faults:
    """Fault bookkeeping shared by all connection threads."""

    def __init__(self, spec):
        self.lock = threading.Lock()
        self.by_kind = {}
        self.requests = 0
        self.connections = 0
        for item in filter(None, (s.strip() for s in spec.split(","))):
            if item == "none":
                continue
            kind, *pairs = item.split(":")
            if kind not in EVERY_KINDS + AFTER_KINDS:
                raise ValueError(f"unknown fault {kind!r}")
            if kind in self.by_kind:
                raise ValueError(f"fault {kind} given twice")
            params = {}
            for pair in pairs:
                key, sep, value = pair.partition("=")
                if not sep or not value.isdigit():
                    raise ValueError(f"bad parameter {pair!r} in {item!r}")
                params[key.upper()] = int(value)
            self.by_kind[kind] = Fault(kind, params)

    def _take(self, fault):
        if fault is None or (fault.count is not None and fault.injected >= fault.count):
            return False
        fault.injected += 1
        return True

    def _every(self, kinds, n):
        for kind in kinds:
            fault = self.by_kind.get(kind)
            if fault and n % fault.every == 0 and self._take(fault):
                return kind
        return None

    def next_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections, self._every(["reset-connect"], self.connections)

    def next_request(self):
        with self.lock:
            self.requests += 1
            return self.requests, self._every(STATUS_FAULTS, self.requests)

    def threshold(self, kind):
        """AFTER of `kind` while it still has injections left, else None."""
        with self.lock:
            fault = self.by_kind.get(kind)
            if fault and (fault.count is None or fault.injected < fault.count):
                return fault.after
            return None

    def claim(self, kind):
        with self.lock:
            return self._take(self.by_kind.get(kind))


class Cutoff:
    """Where to cut a body for an AFTER fault. A known length decides at once; a chunked
    body claims the fault only once it actually grows past AFTER."""

    def __init__(self, faults, kind, length):
        self.faults, self.kind = faults, kind
        self.limit = faults.threshold(kind)
        self.claimed = False
        if self.limit is not None and length is not None:
            self.claimed = length > self.limit and faults.claim(kind)
            if not self.claimed:
                self.limit = None

    def stops_at(self):
        """Called when the body would exceed the limit; True: cut at self.limit."""
        if not self.claimed:
            self.claimed = self.faults.claim(self.kind)
            if not self.claimed:
                self.limit = None
        return self.claimed


def header(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def read_head(rfile):
    """Start line and headers of one message; None on EOF before any byte."""
    line = rfile.readline(MAX_HEAD)
    if not line:
        return None
    # RFC 9112: a server should ignore empty lines before a request line.
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(MAX_HEAD)
        if not line:
            return None
    start = line.rstrip(b"\r\n").decode("latin-1")
    headers, size = [], len(line)
    while True:
        line = rfile.readline(MAX_HEAD)
        size += len(line)
        if not line:
            raise ProtocolError("connection closed inside a message head")
        if size > MAX_HEAD:
            raise ProtocolError("message head too large")
        if line in (b"\r\n", b"\n"):
            return start, headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line {line[:40]!r}")
        headers.append((name.strip(), value.strip()))


def encode_head(start, headers):
    lines = [start] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def body_framing(headers):
    """("chunked", None), ("length", n) or ("none", 0) for a request; callers handle
    responses without framing (read until EOF) themselves."""
    te = header(headers, "Transfer-Encoding")
    if te and "chunked" in te.lower():
        return "chunked", None
    cl = header(headers, "Content-Length")
    if cl is not None:
        try:
            return "length", int(cl)
        except ValueError:
            raise ProtocolError(f"bad Content-Length {cl!r}")
    return "none", 0


def copy_body(src, dst, framing, length, cutoff=None):
    """Copies one message body from the buffered reader src to socket dst (None: discard).

    Returns (payload bytes copied, outcome): "done", "cut" (cutoff reached; the rest is
    left unread), "eof" (src ended early, or the end of an until-EOF body) or "error"
    (a socket error on either side)."""
    copier = BodyCopier(src, dst, cutoff)
    try:
        outcome = copier.chunked() if framing == "chunked" else copier.plain(framing, length)
    except OSError:
        outcome = "error"
    return copier.copied, outcome


class BodyCopier:
    def __init__(self, src, dst, cutoff):
        self.src, self.dst, self.cutoff = src, dst, cutoff
        self.copied = 0  # payload bytes, kept current so that errors still report them

    def send(self, data):
        """Forwards payload; False once the cutoff is reached."""
        cutoff = self.cutoff
        cut = (cutoff is not None and cutoff.limit is not None
               and self.copied + len(data) > cutoff.limit and cutoff.stops_at())
        if cut:
            data = data[:cutoff.limit - self.copied]
        self.raw(data)
        self.copied += len(data)
        return not cut

    def raw(self, data):
        if self.dst is not None and data:
            self.dst.sendall(data)

    def plain(self, framing, length):
        if framing == "none":
            return "done"
        left = length
        while framing == "eof" or left > 0:
            data = self.src.read1(BUFSIZE if framing == "eof" else min(left, BUFSIZE))
            if not data:
                return "eof"
            if not self.send(data):
                return "cut"
            if framing == "length":
                left -= len(data)
        return "done"

    def chunked(self):
        # The framing is relayed verbatim; only payload bytes are counted and cut.
        while True:
            line = self.src.readline(MAX_HEAD)
            if not line.endswith(b"\n"):
                return "eof"
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size line {line[:40]!r}")
            self.raw(line)
            if size == 0:
                while True:  # trailers up to the empty line
                    line = self.src.readline(MAX_HEAD)
                    if not line.endswith(b"\n"):
                        return "eof"
                    self.raw(line)
                    if line in (b"\r\n", b"\n"):
                        return "done"
            left = size
            while left > 0:
                data = self.src.read1(min(left, BUFSIZE))
                if not data:
                    return "eof"
                if not self.send(data):
                    return "cut"
                left -= len(data)
            crlf = self.src.readline(MAX_HEAD)
            if crlf not in (b"\r\n", b"\n"):
                return "eof"
            self.raw(crlf)


def abort(sock):
    """Makes the coming close() send RST instead of FIN; shutdown wakes blocked threads."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Connection:
    def __init__(self, proxy, sock, conn_id):
        self.proxy = proxy
        self.faults = proxy.faults
        self.conn_id = conn_id
        self.client = sock
        self.client_in = sock.makefile("rb", buffering=BUFSIZE)
        self.upstream = None
        self.upstream_in = None
        self.upload_reset = False

    def run(self):
        try:
            while self.serve_one():
                pass
        except (OSError, ProtocolError) as e:
            if not self.upload_reset:
                log(f"connection {self.conn_id}: {e}")
        finally:
            self.close_upstream()
            try:
                self.client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                self.client_in.close()
                self.client.close()
            except OSError:
                pass

    def close_upstream(self):
        if self.upstream is not None:
            try:
                # shutdown first: close() alone does not wake a pump thread blocked in send.
                self.upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                self.upstream_in.close()
                self.upstream.close()
            except OSError:
                pass
        self.upstream = self.upstream_in = None

    def connect_upstream(self):
        if self.upstream is None:
            self.upstream = socket.create_connection(self.proxy.target, timeout=IO_TIMEOUT)
            self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.upstream_in = self.upstream.makefile("rb", buffering=BUFSIZE)

    def record(self, rec):
        self.proxy.record(rec)

    def reply(self, status, reason, extra_headers, body, close):
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        headers += extra_headers
        if close:
            headers.append(("Connection", "close"))
        self.client.sendall(encode_head(f"HTTP/1.1 {status} {reason}", headers) + body)

    def serve_one(self):
        """Handles one request; False when the client connection must end."""
        try:
            head = read_head(self.client_in)
            if head is None:
                return False
            start, headers = head
            parts = start.split(" ")
            if len(parts) != 3:
                raise ProtocolError(f"malformed request line {start[:40]!r}")
        except ProtocolError as e:
            # Like Go's server (and so the registry): clients probing with TLS first (skopeo
            # with --tls-verify=false) get a 400 here and fall back to plain HTTP.
            log(f"connection {self.conn_id}: not an HTTP request ({e}), answering 400")
            self.client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        method, target, version = parts
        n, fault = self.faults.next_request()
        rec = dict.fromkeys(LOG_FIELDS)
        rec.update(time=time.time(), conn=self.conn_id, n=n, method=method,
                   path=target.split("?", 1)[0], request_bytes=0, response_bytes=0,
                   content_range=header(headers, "Content-Range"), range=header(headers, "Range"))
        framing, length = body_framing(headers)
        connection = (header(headers, "Connection") or "").lower()
        keep = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
        try:
            if fault:
                return self.inject_status(fault, headers, framing, length, keep, rec)
            return self.forward(method, start, headers, framing, length, keep, rec)
        finally:
            self.record(rec)

    def inject_status(self, fault, headers, framing, length, keep, rec):
        status, reason, code, extra = STATUS_FAULTS[fault]
        if framing != "none":
            if (header(headers, "Expect") or "").lower() == "100-continue":
                keep = False  # the client sends the body only after a 100 it will not get
            else:
                _, outcome = copy_body(self.client_in, None, framing, length)
                keep = keep and outcome == "done"
        body = json.dumps({"errors": [{"code": code, "message": f"fault-proxy: injected {fault}"}]}).encode()
        self.reply(status, reason, extra, body, close=not keep)
        rec.update(status=status, fault=fault, response_bytes=len(body))
        return keep

    def forward(self, method, start, headers, framing, length, keep, rec):
        try:
            self.connect_upstream()
            self.upstream.sendall(encode_head(start, headers))
        except OSError as e:
            # A kept-alive upstream may be gone; nothing of this request reached it yet.
            self.close_upstream()
            try:
                self.connect_upstream()
                self.upstream.sendall(encode_head(start, headers))
            except OSError:
                body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": f"fault-proxy: upstream: {e}"}]}).encode()
                self.reply(502, "Bad Gateway", [], body, close=True)
                rec.update(status=502)
                return False

        # The body is pumped in its own thread so that an early response (say a 401 to a
        # big PATCH) still reaches the client while the upstream stops reading.
        pump = None
        sent = {"bytes": 0, "outcome": "done"}
        if framing != "none":
            cutoff = None
            if method in ("PATCH", "PUT"):
                cutoff = Cutoff(self.faults, "reset-upload", length if framing == "length" else None)
            pump = threading.Thread(target=self.pump_body, args=(framing, length, cutoff, sent), daemon=True)
            pump.start()

        try:
            keep = self.relay_response(method, rec, keep)
        except (OSError, ProtocolError):
            if pump is not None:
                pump.join(5)
            if not self.upload_reset:
                raise
            keep = False
        if pump is not None:
            pump.join(2)
            rec["request_bytes"] = sent["bytes"]
            if pump.is_alive() or sent["outcome"] != "done":
                keep = False  # the rest of the request body is still on the wire
        if self.upload_reset:
            rec.update(fault="reset-upload", status=None, response_bytes=0)
            return False
        if not keep:
            self.close_upstream()
        return keep

    def pump_body(self, framing, length, cutoff, sent):
        try:
            sent["bytes"], sent["outcome"] = copy_body(self.client_in, self.upstream, framing, length, cutoff)
        except (OSError, ProtocolError) as e:
            sent["outcome"] = f"error: {e}"
            return
        if sent["outcome"] == "cut":
            self.upload_reset = True
            log(f"connection {self.conn_id}: reset-upload after {sent['bytes']} body bytes")
            abort(self.upstream)
            abort(self.client)

    def relay_response(self, method, rec, keep):
        """Relays 1xx responses and the final one; returns whether both sides stay open."""
        while True:
            head = read_head(self.upstream_in)
            if head is None:
                if self.upload_reset:
                    return False
                raise ProtocolError("upstream closed the connection without a response")
            start, headers = head
            try:
                status = int(start.split(" ", 2)[1])
            except (IndexError, ValueError):
                raise ProtocolError(f"malformed status line {start[:80]!r}")
            headers = [(k, self.proxy.rewrite_location(v) if k.lower() == "location" else v)
                       for k, v in headers]
            self.client.sendall(encode_head(start, headers))
            if 100 <= status < 200:
                continue
            break
        rec["status"] = status

        if method == "HEAD" or status in (204, 304):
            framing, length = "none", 0
        else:
            framing, length = body_framing(headers)
            if framing == "none" and header(headers, "Content-Length") is None:
                framing, length = "eof", None
        cutoff = None
        if method == "GET" and "/blobs/" in rec["path"] and 200 <= status < 300:
            cutoff = Cutoff(self.faults, "cut-download", length if framing == "length" else None)
        rec["response_bytes"], outcome = copy_body(self.upstream_in, self.client, framing, length, cutoff)
        if outcome == "cut":
            rec["fault"] = "cut-download"
            log(f"connection {self.conn_id}: cut-download after {rec['response_bytes']} body bytes")
            try:
                self.client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        if outcome != "done":
            return False
        return keep and "close" not in (header(headers, "Connection") or "").lower()


class Proxy:
    def __init__(self, target, directory, port, faults):
        host, _, target_port = target.rpartition(":")
        self.target = (host, int(target_port))
        self.target_prefixes = [f"http://{target}"]
        self.faults = faults
        self.log_path = os.path.join(directory, "requests.log")
        self.log_lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.self_prefix = f"http://127.0.0.1:{self.port}"

    def rewrite_location(self, value):
        for prefix in self.target_prefixes:
            if value == prefix or value.startswith(prefix + "/") or value.startswith(prefix + "?"):
                return self.self_prefix + value[len(prefix):]
        return value

    def record(self, rec):
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self.log_lock, open(self.log_path, "a") as f:
            f.write(line)

    def serve(self):
        while True:
            sock, _ = self.listener.accept()
            conn_id, fault = self.faults.next_connection()
            if fault:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                rec = dict.fromkeys(LOG_FIELDS)
                rec.update(time=time.time(), conn=conn_id, fault=fault, request_bytes=0, response_bytes=0)
                self.record(rec)
                continue
            sock.settimeout(IO_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=Connection(self, sock, conn_id).run, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, metavar="HOST:PORT")
    parser.add_argument("--dir", required=True, help="gets the port file and requests.log")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--faults", default="", metavar="SPEC", help="faults to inject, see above")
    args = parser.parse_args()
    if ":" not in args.target or not args.target.rpartition(":")[2].isdigit():
        parser.error("--target wants HOST:PORT")
    try:
        faults = Faults(args.faults)
    except ValueError as e:
        parser.error(f"--faults: {e}")

    os.makedirs(args.dir, exist_ok=True)
    directory = os.path.abspath(args.dir)
    # A port file left by an earlier run would send a polling test to a dead port.
    try:
        os.remove(os.path.join(directory, "port"))
    except FileNotFoundError:
        pass
    proxy = Proxy(args.target, directory, args.port, faults)
    # Tests poll for the port file: never let them read a half-written one.
    tmp = os.path.join(directory, f"port.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{proxy.port}\n")
    os.replace(tmp, os.path.join(directory, "port"))
    log(f"listening on 127.0.0.1:{proxy.port}, forwarding to {args.target}, faults: {args.faults or 'none'}")
    try:
        proxy.serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
