"""The custom commands of Cog's integration-test harness (integration-tests/harness/*.go in replicate/cog), as
scripts/cog-integration-tests.py runs them against this project's binary, and the `docker` stand-in those scripts
call (answered from this project's local image store and `cog exec --image`)."""

import fcntl
import json
import os
import shutil
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
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

    def command(self, name):
        return {
            "cog": self.cog, "curl": self.curl, "server-stop": self.server_stop, "wait-for": self.wait_for,
            "registry-start": self.registry_start, "registry-inspect": self.registry_inspect,
            "pty-run": self.pty_run,
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

    # -- after each script
    def cleanup(self, ts):
        self.stop_server(ts.work)
        entry = self.registries.pop(ts.work, None)
        if entry:
            subprocess.run([os.path.join(self.root, "scripts", "test-registry.sh"), "stop", entry[0]],
                           capture_output=True)
            shutil.rmtree(entry[0], ignore_errors=True)
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
