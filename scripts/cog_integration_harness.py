"""The custom commands of Cog's integration-test harness (integration-tests/harness/*.go in replicate/cog), as
scripts/cog-integration-tests.py runs them against this project's binary, and the `docker` stand-in those scripts
call (answered from this project's local image store and `cog exec --image`)."""

import fcntl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import json.decoder
import os
import posixpath
import shutil
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class Fatal(Exception):
    pass


class Skip(Exception):
    pass


class Stop(Exception):
    pass


def kill_group(proc, grace=5.0):
    """Ends a process this runner started, with the process group it leads (started with start_new_session)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10.0):
    """(status, body text); raises OSError when nothing answers."""
    request = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


class Harness:
    def __init__(self, cog_bin, state, root, expand):
        self.cog_bin, self.state, self.root, self.expand = cog_bin, state, root, expand
        self.servers = {}  # work dir -> (process, port, stdout file, stderr file)
        self.registries = {}  # work dir -> registry state dir
        self.upload_servers = {}  # work dir -> UploadServer
        self.webhook_servers = {}  # work dir -> WebhookServer

    def command(self, name):
        return {
            "cog": self.cog, "curl": self.curl, "server-stop": self.server_stop, "wait-for": self.wait_for,
            "registry-start": self.registry_start, "registry-inspect": self.registry_inspect,
            "pty-run": self.pty_run,
            "upload-server-start": self.upload_server_start, "upload-server-count": self.upload_server_count,
            "webhook-server-start": self.webhook_server_start, "webhook-server-wait": self.webhook_server_wait,
        }.get(name)

    def expanded(self, ts, args):
        return [self.expand(arg, ts.getenv) for arg in args]

    # -- cog
    def cog(self, ts, neg, args):
        if args and args[0] == "serve":
            self.serve(ts, neg, args[1:])
            return
        status = ts.exec([self.cog_bin] + self.expanded(ts, args))
        if neg and status == 0:
            raise Fatal("cog command succeeded unexpectedly")
        if not neg and status != 0:
            raise Fatal(f"cog command failed: exit status {status}")

    def serve(self, ts, neg, args):
        if ts.work in self.servers:
            raise Fatal("server already running")
        port = free_port()
        argv = [self.cog_bin, "serve", "-p", str(port)] + self.expanded(ts, args)
        out = open(os.path.join(ts.work, ".serve.out"), "w+")
        err = open(os.path.join(ts.work, ".serve.err"), "w+")
        proc = subprocess.Popen(argv, cwd=ts.work, env=dict(ts.env, PWD=ts.work), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        self.servers[ts.work] = (proc, port, out, err)
        url = f"http://127.0.0.1:{port}"
        ts.env["SERVER_URL"] = url
        healthy = self.wait_healthy(ts, proc, url)
        for handle, stream in ((out, 0), (err, 1)):
            handle.flush()
            with open(handle.name, errors="replace") as reader:
                ts.write_out(*(reader.read(), "") if stream == 0 else ("", reader.read()))
        if not healthy:
            if neg:
                return
            kill_group(proc, grace=1)
            raise Fatal("server did not become healthy within timeout")
        if neg:
            raise Fatal("server became healthy, but expected setup failure")

    def wait_healthy(self, ts, proc, url):
        from_env = float(os.environ.get("COG_SERVE_WAIT", "300"))
        deadline = time.monotonic() + min(from_env, max(ts.remaining() - 5, 1))
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                status, body = http("GET", url + "/health-check", timeout=5)
                if status == 200:
                    health = json.loads(body).get("status")
                    if health in ("READY", "UNHEALTHY", "BUSY"):
                        return True
                    if health in ("SETUP_FAILED", "DEFUNCT"):
                        return False
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        return False

    def server_stop(self, ts, neg, args):
        if neg or args:
            raise Fatal("server-stop: usage: server-stop")
        self.stop_server(ts.work)

    def stop_server(self, work):
        entry = self.servers.pop(work, None)
        if not entry:
            return
        proc, port, out, err = entry
        try:
            http("POST", f"http://127.0.0.1:{port}/shutdown", timeout=5)
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        kill_group(proc, grace=5)
        out.close()
        err.close()

    # -- curl
    def curl(self, ts, neg, args):
        usage = "curl: usage: curl [-H key:value]... [method] [path] [body | @file]"
        headers = {}
        while len(args) >= 2 and args[0] == "-H":
            key, sep, value = args[1].partition(":")
            if not sep:
                raise Fatal(f"curl: invalid header {args[1]!r} (expected key:value)")
            headers[key.strip()] = value.strip()
            args = args[2:]
        if len(args) < 2:
            raise Fatal(usage)
        server = ts.getenv("SERVER_URL")
        if not server:
            raise Fatal("curl: SERVER_URL not set (did you call 'cog serve' first?)")
        method, path = args[0], args[1]
        body = ""
        if len(args) > 2:
            body = self.expand(args[2], ts.getenv)
            if body.startswith("@"):
                with open(ts.abs(body[1:])) as handle:
                    body = handle.read()
        if body:
            headers.setdefault("Content-Type", "application/json")
        last = None
        for attempt in range(10):
            try:
                status, text = http(method, server + path, body or None, headers, timeout=10)
            except OSError as error:
                last = f"error: {error}"
                time.sleep(0.5)
                continue
            ok = 200 <= status < 300
            if neg and not ok:
                ts.write_out("", text)
                return
            if not neg and ok:
                ts.write_out(text)
                return
            last = f"status {status}: {text[:500]}"
            ts.log(f"curl: attempt {attempt + 1}: {last}")
            if attempt < 9:
                time.sleep(0.5)
        if neg:
            raise Fatal(f"curl: expected failure but got {last} after 10 attempts")
        raise Fatal(f"curl: all 10 attempts failed with {last}")

    # -- wait-for
    def wait_for(self, ts, neg, args):
        if len(args) < 2:
            raise Fatal("wait-for: usage: wait-for [file|http|not-empty] <arg> [timeout]")
        condition, target = args[0], args[1]
        timeout = parse_duration(args[-1]) if len(args) > 2 else None
        deadline = time.monotonic() + (timeout if timeout is not None else 30)
        while time.monotonic() < deadline:
            if condition in ("file", "not-empty"):
                path = os.path.join(ts.work, target)
                met = os.path.exists(path) and (condition == "file" or os.path.getsize(path) > 0)
            elif condition == "http":
                want = int(args[2]) if len(args) > 2 and args[2].isdigit() else 200
                try:
                    met = http("GET", target, timeout=2)[0] == want
                except OSError:
                    met = False
            else:
                raise Fatal(f"wait-for: unknown condition: {condition}")
            if met != neg:
                return
            time.sleep(0.2)
        if neg:
            raise Fatal("wait-for: condition became true (expected to remain false)")
        raise Fatal(f"wait-for: timeout waiting for condition: {condition} {target}")

    # -- registries
    def registry_start(self, ts, neg, args):
        if neg:
            raise Fatal("registry-start: does not support negation")
        if ts.work not in self.registries:
            # Beside the work directory, not in it: Cog's harness runs the registry in a container, so the project
            # a script builds never holds the registry's files (which change while a push archives the project).
            directory = ts.work.rstrip("/") + ".registry"
            result = subprocess.run([os.path.join(self.root, "scripts", "test-registry.sh"), "start", directory],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise Fatal(f"registry-start: failed to start registry: {result.stderr.strip()}")
            port = result.stdout.strip().rsplit(":", 1)[1]
            self.registries[ts.work] = (directory, f"localhost:{port}")
        ts.env["TEST_REGISTRY"] = self.registries[ts.work][1]

    def registry_inspect(self, ts, neg, args):
        if len(args) < 1:
            raise Fatal("registry-inspect: usage: registry-inspect <image-ref>")
        ref = self.expand(args[0], ts.getenv)
        host, _, rest = ref.partition("/")
        repository, reference = (rest.split("@", 1) if "@" in rest else rest.rsplit(":", 1) if ":" in rest
                                 else (rest, "latest"))
        accept = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                            "application/vnd.docker.distribution.manifest.list.v2+json",
                            "application/vnd.docker.distribution.manifest.v2+json"])
        try:
            status, text = http("GET", f"http://{host}/v2/{repository}/manifests/{reference}",
                                headers={"Accept": accept})
        except OSError as error:
            status, text = 0, str(error)
        if neg:
            if status == 200:
                raise Fatal("registry-inspect: expected failure but succeeded")
            return
        if status != 200:
            raise Fatal(f"registry-inspect: failed to inspect {ref}: {status} {text[:300]}")
        ts.write_out(json.dumps(json.loads(text), indent=2) + "\n")

    # -- pty-run
    def pty_run(self, ts, neg, args):
        if len(args) < 2:
            raise Fatal("pty-run: usage: pty-run <input-file> <command> [args...]")
        given = "" if args[0] == "/dev/null" else open(ts.abs(args[0])).read()
        name = self.expand(args[1], ts.getenv)
        argv = [self.cog_bin if name == "cog" else name] + self.expanded(ts, args[2:])
        master, slave = pty.openpty()
        fcntl.ioctl(slave, __import__("termios").TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")
        proc = subprocess.Popen(argv, cwd=ts.work, env=dict(ts.env), stdin=slave, stdout=slave, stderr=slave,
                                start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, __import__("termios")
                                                                                           .TIOCSCTTY, 0))
        os.close(slave)
        output = bytearray()

        def drain(wait):
            while True:
                ready, _, _ = select.select([master], [], [], wait)
                if not ready:
                    return
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                output.extend(chunk)

        for line in given.split("\n"):
            if line:
                try:
                    os.write(master, (line + "\n").encode())
                except OSError:
                    break
                drain(0.05)
        deadline = time.monotonic() + min(60, ts.remaining())
        while proc.poll() is None and time.monotonic() < deadline:
            drain(0.1)
        if proc.poll() is None:
            kill_group(proc, grace=1)
            os.close(master)
            raise Fatal("pty-run: command timed out after 60s")
        drain(0.1)
        os.close(master)
        text = output.decode(errors="replace")
        ts.log("[pty]\n" + text)
        if neg:
            if proc.returncode == 0:
                raise Fatal("pty-run: command succeeded unexpectedly")
            ts.write_out(text)
            return
        if proc.returncode != 0:
            raise Fatal(f"pty-run: command failed: exit status {proc.returncode}")
        ts.write_out(text)

    # -- mock upload server (cmdUploadServerStart, cmdUploadServerCount)
    def upload_server_start(self, ts, neg, args):
        """Usage: upload-server-start. A host server taking PUTs; exports $UPLOAD_SERVER_URL."""
        if neg:
            raise Fatal("upload-server-start: does not support negation")
        if ts.work in self.upload_servers:
            raise Fatal("upload-server-start: server already running for this test")
        try:
            server = UploadServer()
        except OSError as error:
            raise Fatal(f"upload-server-start: failed to listen: {error}")
        self.upload_servers[ts.work] = server
        # host.docker.internal: `cog serve --upload-url` gives the model that name for the host (Cog's serve adds
        # --add-host=host.docker.internal:host-gateway on Linux).
        url = f"http://host.docker.internal:{server.port}/"
        ts.env["UPLOAD_SERVER_URL"] = url
        ts.log(f"upload-server-start: listening on 0.0.0.0:{server.port}, container URL: {url}")

    def upload_server_count(self, ts, neg, args):
        """Usage: upload-server-count N. Exactly N uploads received (with !, anything but N)."""
        if len(args) != 1:
            raise Fatal("upload-server-count: usage: upload-server-count N")
        expected = go_atoi(args[0])
        if expected is None:
            raise Fatal(f"upload-server-count: invalid count {go_quote(args[0])}: strconv.Atoi: parsing "
                        f"{go_quote(args[0])}: invalid syntax")
        server = self.upload_servers.get(ts.work)
        if server is None:
            raise Fatal("upload-server-count: no upload server running (call upload-server-start first)")
        got = server.count()
        if neg:
            if got == expected:
                raise Fatal(f"upload-server-count: expected NOT {expected} uploads but got {got}")
            return
        if got != expected:
            raise Fatal(f"upload-server-count: expected {expected} uploads but got {got}")

    def stop_upload_server(self, work):
        server = self.upload_servers.pop(work, None)
        if server is not None:
            server.close()

    # -- webhook receiver (cmdWebhookServerStart, cmdWebhookServerWait)
    def webhook_server_start(self, ts, neg, args):
        """Usage: webhook-server-start. A host server taking prediction webhooks; exports $WEBHOOK_URL."""
        if neg:
            raise Fatal("webhook-server-start: does not support negation")
        if ts.work in self.webhook_servers:
            raise Fatal("webhook-server-start: server already running for this test")
        try:
            server = WebhookServer()
        except OSError as error:
            raise Fatal(f"webhook-server-start: failed to listen: {error}")
        self.webhook_servers[ts.work] = server
        url = f"http://host.docker.internal:{server.port}/webhook"
        ts.env["WEBHOOK_URL"] = url
        ts.log(f"webhook-server-start: listening on 0.0.0.0:{server.port}, container URL: {url}")

    def webhook_server_wait(self, ts, neg, args):
        """Usage: webhook-server-wait [timeout] (default 120s; one Go's time.ParseDuration rejects is ignored).
        Waits for the first terminal webhook and writes its summary to stdout: one line of JSON,
        {"status":…,"output_size":N,"has_error":B[,"error_message":…][,"metrics":{…}]}."""
        if neg:
            raise Fatal("webhook-server-wait: does not support negation")
        timeout = 120 * 10**9
        if args:
            parsed = go_parse_duration(args[0])
            if parsed is not None:
                timeout = parsed
        server = self.webhook_servers.get(ts.work)
        if server is None:
            raise Fatal("webhook-server-wait: no webhook server running (call webhook-server-start first)")
        deadline = time.monotonic() + max(timeout, 0) / 1e9
        while not server.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fatal(f"webhook-server-wait: timed out after {go_duration_string(timeout)} waiting for "
                            "terminal webhook")
            server.done.wait(min(left, ts.remaining(), 0.5))
        ts.write_out(server.result_json() + "\n")

    def stop_webhook_server(self, work):
        server = self.webhook_servers.pop(work, None)
        if server is not None:
            server.close()

    # -- after each script
    def cleanup(self, ts):
        self.stop_server(ts.work)
        entry = self.registries.pop(ts.work, None)
        if entry:
            subprocess.run([os.path.join(self.root, "scripts", "test-registry.sh"), "stop", entry[0]],
                           capture_output=True)
            shutil.rmtree(entry[0], ignore_errors=True)
        self.stop_upload_server(ts.work)
        self.stop_webhook_server(ts.work)
        store = os.path.join(ts.env.get("COG_CACHE_DIR", ""), "images")
        if os.path.isdir(store):
            remove_images(ts.env["COG_CACHE_DIR"], [ts.getenv("TEST_IMAGE")], prefix=True)

    def write_docker_shim(self, directory):
        os.makedirs(directory, exist_ok=True)
        runner = os.path.join(self.root, "scripts", "cog-integration-tests.py")
        path = os.path.join(directory, "docker")
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\n# Written by cog-integration-tests.py: Docker's CLI answered from cog's store.\n"
                         f"COG_BIN='{self.cog_bin}' exec python3 '{runner}' --docker-shim \"$@\"\n")
        os.chmod(path, 0o755)
        return directory


def parse_duration(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not match:
        return None
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


# ---------------------------------------------------------------------------------------------------------------
# Go's strconv.Atoi, time.ParseDuration and Duration.String, as the harness commands read and write them


def go_atoi(text):
    """The int Go's strconv.Atoi reads from text, or None where it fails."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


def go_quote(text):
    """Go's %q of a string (as the scripts' strings need it: escapes, non-ASCII printable kept)."""
    return json.dumps(text, ensure_ascii=False)


GO_DURATION_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9,
                     "m": 60 * 10**9, "h": 3600 * 10**9}


def go_parse_duration(text):
    """Nanoseconds, as Go's time.ParseDuration reads text ("300ms", "-1.5h", "2h45m"); None where it fails."""
    s, negative = text, False
    if s[:1] in ("-", "+"):
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = 0
    while s:
        number = re.match(r"([0-9]*)(?:\.([0-9]*))?", s)
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            return None
        s = s[number.end():]
        unit = re.match(r"[^0-9.]*", s).group(0)
        if unit not in GO_DURATION_UNITS:
            return None
        s = s[len(unit):]
        scale = GO_DURATION_UNITS[unit]
        value = int(whole or "0") * scale
        if fraction:
            value += int(int(fraction) * (scale / 10 ** len(fraction)))
        total += value
        if total > (1 << 63) - (0 if negative else 1):
            return None
    return -total if negative else total


def go_duration_string(ns):
    """Go's time.Duration.String: "2m0s", "1.5s", "300ms", "0s"."""
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)

    def frac(value, precision):
        digits = str(value % 10**precision).rjust(precision, "0").rstrip("0")
        return ("." + digits if digits else ""), value // 10**precision

    if u < 10**9:
        if u < 10**3:
            return f"{sign}{u}ns"
        precision, unit = (3, "\u00b5s") if u < 10**6 else (6, "ms")
        tail, head = frac(u, precision)
        return f"{sign}{head}{tail}{unit}"
    tail, seconds = frac(u, 9)
    out = f"{seconds % 60}{tail}s"
    minutes = seconds // 60
    if minutes:
        out = f"{minutes % 60}m" + out
        if minutes // 60:
            out = f"{minutes // 60}h" + out
    return sign + out


# ---------------------------------------------------------------------------------------------------------------
# The receivers on the host a served model reaches (Cog's mockUploadServer and webhookServer in harness.go): plain
# HTTP on 0.0.0.0 at a free port, each request in a thread, behind a handler that answers as Go's net/http server
# with a ServeMux holding "/" does (unclean paths redirected, http.Error's plain-text errors, no Server header).


def go_clean_path(path):
    """Go's net/http cleanPath: rooted, . and .. resolved, // collapsed, a trailing slash kept."""
    if not path:
        return "/"
    if path[0] != "/":
        path = "/" + path
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, handler):
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(("0.0.0.0", 0), handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_all(self):
        """Go's http.Server.Close: the listener and every open connection closed at once."""
        self.shutdown()
        self.server_close()
        with self.connections_lock:
            open_now = list(self.connections)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None  # the UploadServer or WebhookServer answering

    def log_message(self, format, *args):  # noqa: A002  (Go's server logs nothing per request)
        pass

    def send_response(self, code, message=None):
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def body(self):
        """The request body, Content-Length or chunked (as Go's server reads either)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def reply(self, status, text=None, headers=()):
        self.send_response(status)
        if text is not None:  # http.Error
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers:
            self.send_header(key, value)
        data = (text + "\n").encode() if text is not None else b""
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        try:
            body = self.body()
        except (ValueError, OSError):
            self.close_connection = True
            self.reply(400, "Bad Request")
            return
        target = self.path
        if "://" in target.split("?", 1)[0]:
            parts = urllib.parse.urlsplit(target)
            raw_path, query = parts.path, parts.query
        else:
            raw_path, _, query = target.partition("?")
        path = urllib.parse.unquote(raw_path)
        cleaned = go_clean_path(path)
        if cleaned != path:
            location = urllib.parse.quote(cleaned) + ("?" + query if query else "")
            self.reply(301, None, [("Location", location)])
            return
        self.owner.handle(self, self.command, path, body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any


class _Receiver:
    def __init__(self):
        handler = type("Handler", (_Handler,), {"owner": self})
        self.lock = threading.Lock()
        self.server = _Server(handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.close_all()
        self.thread.join(5)


class UploadServer(_Receiver):
    """Cog's mockUploadServer: takes PUT requests, records (path, content type, size) of each, answers 200 with a
    Location naming the path on host.docker.internal (a signed URL's redirect, query dropped)."""

    def __init__(self):
        self.uploads = []
        super().__init__()

    def handle(self, request, method, path, body):
        if method != "PUT":
            request.reply(405, "method not allowed")
            return
        with self.lock:
            self.uploads.append({"Path": path, "ContentType": request.headers.get("Content-Type", ""),
                                 "Size": len(body)})
        request.reply(200, None, [("Location", f"http://host.docker.internal:{self.port}{path}")])

    def count(self):
        with self.lock:
            return len(self.uploads)


class WebhookServer(_Receiver):
    """Cog's webhookServer: takes POSTed prediction webhooks, keeps a summary of the first terminal one (status
    succeeded, failed or canceled) and never the output itself."""

    def __init__(self):
        self.result = None
        self.done = threading.Event()
        super().__init__()

    def handle(self, request, method, path, body):
        if method != "POST":
            request.reply(405, "method not allowed")
            return
        try:
            payload = go_decode_webhook(body)
        except ValueError:
            request.reply(400, "bad json")
            return
        request.reply(200)
        if payload["status"] not in ("succeeded", "failed", "canceled"):
            return
        with self.lock:
            if self.result is not None:
                return
            output = payload["output"]
            output_size = len(output.encode("utf-8", "surrogateescape"))
            try:
                decoded = json.loads(output) if output else 0
            except ValueError:
                decoded = 0
            if decoded is None or isinstance(decoded, str):
                output_size = len((decoded or "").encode("utf-8", "surrogatepass"))
            self.result = {"status": payload["status"], "output_size": output_size,
                           "has_error": payload["error"] != "", "error_message": payload["error"],
                           "metrics": payload["metrics"]}
            self.done.set()

    def result_json(self):
        """json.Marshal of Cog's webhookResult: fields in its order, error_message and metrics omitted when
        empty, metrics compacted."""
        with self.lock:
            result = self.result
        if result is None:
            return "null"
        out = (f'{{"status":{go_json_string(result["status"])},"output_size":{result["output_size"]},'
               f'"has_error":{"true" if result["has_error"] else "false"}')
        if result["error_message"]:
            out += f',"error_message":{go_json_string(result["error_message"])}'
        if result["metrics"]:
            out += f',"metrics":{go_json_compact(result["metrics"])}'
        out += "}"
        return out.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_JSON = json.JSONDecoder(parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
_WS = re.compile(r"[ \t\n\r]*")


def go_decode_webhook(body):
    """The payload Cog's webhook handler decodes (json.NewDecoder(body).Decode into {status, output, error,
    metrics}, output and metrics json.RawMessage): {"status": str, "error": str, "output": raw JSON text or "",
    "metrics": raw JSON text or ""}. Keys match case-insensitively where none matches exactly, the last of a key
    wins, null leaves a string empty; ValueError where Go's decoder reports an error."""
    text = body.decode("utf-8", "surrogateescape")
    fields = {"status": "", "error": "", "output": "", "metrics": ""}
    i = _WS.match(text, 0).end()
    if text.startswith("null", i):
        return fields
    if text[i:i + 1] != "{":
        _JSON.raw_decode(text, i)  # a syntax error, or a value that is no object: an error either way
        raise ValueError("json: cannot unmarshal into the webhook payload")
    i = _WS.match(text, i + 1).end()
    if text[i:i + 1] == "}":
        return fields
    while True:
        if text[i:i + 1] != '"':
            raise ValueError("expected a key")
        key, i = json.decoder.scanstring(text, i + 1)
        i = _WS.match(text, i).end()
        if text[i:i + 1] != ":":
            raise ValueError("expected ':'")
        i = _WS.match(text, i + 1).end()
        value, end = _JSON.raw_decode(text, i)
        raw = text[i:end]
        name = key if key in fields else key.lower().replace("\u017f", "s").replace("\u212a", "k")
        if name in ("status", "error"):
            if isinstance(value, str):
                fields[name] = re.sub("[\ud800-\udfff]", "\ufffd", value)
            elif value is not None:
                raise ValueError(f"json: cannot unmarshal into the string field {name}")
        elif name in ("output", "metrics"):
            fields[name] = raw
        i = _WS.match(text, end).end()
        if text[i:i + 1] == ",":
            i = _WS.match(text, i + 1).end()
            continue
        if text[i:i + 1] == "}":
            return fields
        raise ValueError("expected ',' or '}'")


def _go_escape(char):
    if char in '"\\':
        return "\\" + char
    short = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in short:
        return short[char]
    if ord(char) < 0x20 or char in "<>&\u2028\u2029":
        return "\\u%04x" % ord(char)
    return char


def go_json_string(value):
    """A string as Go's json.Marshal writes it: HTML-safe (\\u003c \\u003e \\u0026), \\u2028 \\u2029 escaped,
    non-ASCII kept, invalid UTF-8 as \\ufffd."""
    out = []
    for char in value:
        if "\ud800" <= char <= "\udfff":
            out.append("\\ufffd")
        else:
            out.append(_go_escape(char))
    return '"' + "".join(out) + '"'


def go_json_compact(raw):
    """A json.RawMessage as Go's json.Marshal writes it: compacted, <, >, & and U+2028/9 in strings escaped."""
    out, in_string, escaped = [], False, False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            if char in "<>&\u2028\u2029":
                out.append("\\u%04x" % ord(char))
                continue
            out.append(char)
        elif char in " \t\r\n":
            continue
        else:
            in_string = char == '"'
            out.append(char)
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# docker, answered from the local image store (<COG_CACHE_DIR>/images, an OCI layout naming each image)


def store_index(cache):
    path = os.path.join(cache, "images", "index.json")
    if not os.path.exists(path):
        return path, {"manifests": []}
    with open(path) as handle:
        return path, json.load(handle)


def name_candidates(name):
    bare = name[len("docker.io/library/"):] if name.startswith("docker.io/library/") else name
    names = {name, bare, "docker.io/library/" + bare}
    if ":" not in bare.rsplit("/", 1)[-1]:
        names |= {n + ":latest" for n in list(names)}
    return names


def find_image(cache, name):
    _, index = store_index(cache)
    wanted = name_candidates(name)
    for descriptor in reversed(index.get("manifests", [])):
        if descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name") in wanted:
            return descriptor
    return None


def read_blob(cache, digest):
    algorithm, hexdigest = digest.split(":", 1)
    with open(os.path.join(cache, "images", "blobs", algorithm, hexdigest)) as handle:
        return json.load(handle)


def remove_images(cache, names, prefix=False):
    """Drops names from the store's index under the lock cog takes for it; the blobs stay (shared)."""
    path, _ = store_index(cache)
    if not os.path.exists(path):
        return 0
    with open(os.path.join(cache, "images.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _, index = store_index(cache)
        wanted = set().union(*(name_candidates(n) for n in names))

        def matches(ref):
            return ref in wanted or (prefix and any(ref.startswith(n + ":") or ref.startswith(n + "-") for n in names))

        kept = [d for d in index.get("manifests", [])
                if not matches(d.get("annotations", {}).get("org.opencontainers.image.ref.name", ""))]
        removed = len(index.get("manifests", [])) - len(kept)
        if removed:
            index["manifests"] = kept
            with open(path + ".tmp", "w") as handle:
                json.dump(index, handle)
            os.replace(path + ".tmp", path)
        return removed


def render(template, config):
    """The Go templates Cog's scripts give `docker inspect --format`."""
    labels = config.get("config", {}).get("Labels") or {}

    def one(match):
        expr = match.group(1).strip()
        found = re.fullmatch(r'index \.Config\.Labels "([^"]*)"', expr)
        if found:
            return labels.get(found.group(1), "")
        if expr == "json .RootFS.Layers":
            return json.dumps(config.get("rootfs", {}).get("diff_ids", []))
        if expr == "json .Config.Labels":
            return json.dumps(labels)
        if expr == "json .Config.Env":
            return json.dumps(config.get("config", {}).get("Env", []))
        raise ValueError(f"template {{{{{expr}}}}} is not emulated")

    return re.sub(r"\{\{(.*?)\}\}", one, template)


def docker_shim(args):
    cache = os.environ.get("COG_CACHE_DIR") or os.path.expanduser("~/.cache/cog")
    if not args:
        sys.stderr.write("docker (cog-integration-tests stand-in): no command\n")
        return 2
    command, rest = args[0], args[1:]
    if command == "inspect":
        template, names = None, []
        while rest:
            item = rest.pop(0)
            if item in ("--format", "-f"):
                template = rest.pop(0)
            elif item.startswith("--format="):
                template = item[len("--format="):]
            else:
                names.append(item)
        status = 0
        for name in names:
            descriptor = find_image(cache, name)
            if descriptor is None:
                sys.stderr.write(f"Error: No such object: {name}\n")
                status = 1
                continue
            config = read_blob(cache, read_blob(cache, descriptor["digest"])["config"]["digest"])
            try:
                print(render(template, config) if template else json.dumps([config], indent=4))
            except ValueError as error:
                sys.stderr.write(f"docker (cog-integration-tests stand-in): {error}\n")
                return 2
        return status
    if command == "images":
        _, index = store_index(cache)
        for descriptor in index.get("manifests", []):
            ref = descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
            repository = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
            print(repository)
        return 0
    if command == "rmi":
        names = [item for item in rest if not item.startswith("-")]
        missing = [n for n in names if find_image(cache, n) is None]
        remove_images(cache, names)
        for name in missing:
            sys.stderr.write(f"Error response from daemon: No such image: {name}\n")
        return 1 if missing and "-f" not in rest else 0
    if command == "run":
        while rest and rest[0].startswith("-"):
            rest.pop(0)
        if not rest:
            sys.stderr.write("docker run: no image\n")
            return 2
        cog = os.environ.get("COG_BIN", "cog")
        os.execv(cog, [cog, "exec", "--image", rest[0]] + rest[1:])
    sys.stderr.write(f"docker (cog-integration-tests stand-in): `docker {command}` is not emulated\n")
    return 2
