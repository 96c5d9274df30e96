#!/usr/bin/env python3
"""Runs Cog's own integration tests (integration-tests/tests/*.txtar in replicate/cog) against this project's binary.

The scripts are read at run time from a git directory holding Cog's repository, at the commit pinned below (as the
compatibility tables are refreshed from it; see Sources/cog/Engine/Data/README.md); nothing of them is copied here.
This file implements the testscript dialect they are written in (github.com/rogpeppe/go-internal/testscript) and the
custom commands of Cog's harness (integration-tests/harness/*.go) that make sense without Docker, the receivers on the
host a served model reaches at host.docker.internal among them (webhook-server-*, upload-server-*). Scripts needing
what is not here (Docker, a GPU, Cog's source tree) are skipped, each with its reason.

  cog-integration-tests.py [--filter REGEX] [--list] [--short] [--timeout S] [--keep-work] [-v]

Environment:
  COG_SOURCE      a git directory (bare, or a checkout) of replicate/cog; default the fetch mirror below
  COG_COMMIT      the commit to read the scripts at (default PINNED_COMMIT)
  COG_BIN         the cog binary under test (default .build/release/cog)
  COG_INTEGRATION_DIR  state: loopback registry, shared cache, work dirs, results (default /var/tmp/cog-integration)
  COG_TEST_BASE_LAYOUT the python stand-in layout (default /var/cache/cog-test/python-3.11-slim)

Harness adaptations (all deliberate, listed in README "Cog's integration tests"): the model's python:3.X-slim bases
are the Debian bookworm stand-in (python 3.11) pushed under each tag to a loopback registry that docker.io is mirrored
to; `docker inspect|images|rmi|run` are answered from the local image store and `cog exec --image`; `cog serve` gets
the full environment and a longer health wait (the build runs first, on a slow machine).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

PINNED_COMMIT = "6110c912377d4ded0f57165d305821a14a9a4418"  # replicate/cog, 2026-08-21 (as the compat tables)
DEFAULT_SOURCE = "/work/.mirror/replicate+cog/repo"
TESTS_DIR = "integration-tests/tests"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_TAGS = ["3.10-slim", "3.11-slim", "3.12-slim", "3.13-slim"]
# cog-base stand-ins (the same image) for the scripts that ask for cog-base images (`--use-cog-base-image`): Cog's CI
# points COG_REGISTRY_HOST at a registry holding them; here only those scripts get it, so that every other script
# builds on python-slim as it does where r8.im is out of reach.
COG_BASE_TAGS = ["python3.10", "python3.11", "python3.12", "python3.13", "cuda11.8-python3.10-torch2.0.1"]
# Host variables a test passes on (Cog's propagatedEnvVars, and this project's settings).
PROPAGATED = ["COG_SDK_WHEEL", "COGLET_WHEEL", "COG_MODEL_REGISTRY", "RUST_LOG", "COG_CA_CERT", "COG_REGISTRY_HOST",
              "COG_ROOTLESS", "COG_CAPTURE", "SSL_CERT_FILE", "LANG", "USER", "LOGNAME", "TERM"]


# ---------------------------------------------------------------------------------------------------------------
# Sources


def fail_setup(message):
    sys.stderr.write(f"cog-integration-tests: {message}\n")
    sys.exit(2)


def git_args(source):
    if os.path.isdir(os.path.join(source, ".git")):
        return ["git", "-C", source]
    return ["git", f"--git-dir={source}"]


def load_scripts(source, commit):
    """{name: text} of the .txtar scripts at `commit`."""
    how = ("Get Cog's repository first, with its history (the pinned commit is not the newest): "
           "`git clone https://github.com/replicate/cog /tmp/cog` and COG_SOURCE=/tmp/cog; a bare mirror works too "
           f"(default {DEFAULT_SOURCE}). The scripts are read at commit {commit} (COG_COMMIT).")
    if not os.path.isdir(source):
        fail_setup(f"no Cog repository at {source}. {how}")
    git = git_args(source)
    listing = subprocess.run(git + ["ls-tree", "--name-only", f"{commit}:{TESTS_DIR}"], capture_output=True, text=True)
    if listing.returncode != 0:
        fail_setup(f"cannot list {TESTS_DIR} at {commit} in {source}: {listing.stderr.strip()}. {how}")
    scripts = {}
    for entry in sorted(listing.stdout.split()):
        if entry.endswith(".txtar"):
            text = subprocess.run(git + ["show", f"{commit}:{TESTS_DIR}/{entry}"], capture_output=True, text=True,
                                  check=True).stdout
            scripts[entry[: -len(".txtar")]] = text
    return scripts


def parse_txtar(text):
    """(script, [(name, content)]): the comment part and the files after `-- name --` lines (txtar format)."""
    marker = re.compile(r"^-- (.+?) --$")
    lines = text.splitlines(keepends=True)
    script, files, current = [], [], None
    for line in lines:
        match = marker.match(line.rstrip("\r\n"))
        if match and match.group(1).strip():
            current = [match.group(1).strip(), []]
            files.append(current)
        elif current is None:
            script.append(line)
        else:
            current[1].append(line)
    return "".join(script), [(name, "".join(body)) for name, body in files]


# ---------------------------------------------------------------------------------------------------------------
# Which scripts apply here


def script_lines(script):
    return [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]


def skip_reason(script, files):
    """Why a script cannot run here, or None. Fixed in advance from what the script uses."""
    lines = script_lines(script)
    text = "\n".join(lines)
    config = dict(files).get("cog.yaml", "")
    if re.search(r"\bdocker-run\b|\bdocker-push\b|\bregistry-seed\b", text):
        return "runs a container or pushes with Docker (docker-run/docker-push)"
    if re.search(r"^(! )?exec go ", text, re.M):
        return "builds a helper from Cog's Go sources (exec go build)"
    if "REPO_ROOT" in text:
        return "uses wheels built from Cog's source tree ($REPO_ROOT/dist, COG_SDK_WHEEL/COGLET_WHEEL)"
    if re.search(r"^\s*gpu:\s*true", config, re.M):
        builds = [line for line in lines if re.match(r"^(\[[^]]*\] )*cog (build|predict|serve|exec|run|train)", line)]
        if builds:
            return ("gpu: true: needs nvidia/cuda base images and CUDA wheels (Docker Hub and "
                    "download.pytorch.org are out of reach here) or a GPU")
    return None


# ---------------------------------------------------------------------------------------------------------------
# testscript


def go_expand(text, getenv):
    """Go's os.Expand: $NAME, ${NAME}, $1-style specials; bad syntax is eaten, a lone $ kept."""
    special = set("*#$@!?-0123456789")
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "$" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        rest = text[i + 1:]
        if rest[0] == "{":
            if len(rest) > 2 and rest[1] in special and rest[2] == "}":
                out.append(getenv(rest[1]))
                i += 4
                continue
            end = rest.find("}")
            if end == 1:
                i += 3  # "${}" eaten
            elif end < 0:
                i += 2  # "${" eaten
            else:
                out.append(getenv(rest[1:end]))
                i += end + 2
            continue
        if rest[0] in special:
            out.append(getenv(rest[0]))
            i += 2
            continue
        match = re.match(r"[A-Za-z0-9_]*", rest)
        name = match.group(0)
        if not name:
            out.append("$")
            i += 1
            continue
        out.append(getenv(name))
        i += 1 + len(name)
    return "".join(out)


def parse_line(line, getenv):
    """Words of a script line as testscript splits them: spaces separate, '…' quotes ('' is a quote), # ends the
    line, $VAR expanded outside quotes (`$VAR@R` regexp-quoted)."""

    def expand(chunk):
        def lookup(key):
            if key.endswith("@R"):
                return re.escape(getenv(key[:-2]))
            return getenv(key)

        return go_expand(chunk, lookup)

    args, arg, start, quoted, i = [], "", -1, False, 0
    while True:
        if not quoted and (i >= len(line) or line[i] in " \t\r#"):
            if start >= 0:
                arg += expand(line[start:i])
                args.append(arg)
                start, arg = -1, ""
            if i >= len(line) or line[i] == "#":
                break
            i += 1
            continue
        if i >= len(line):
            raise Fatal("unterminated quoted argument")
        if line[i] == "'":
            if not quoted:
                if start >= 0:
                    arg += expand(line[start:i])
                start, quoted = i + 1, True
                i += 1
                continue
            if i + 1 < len(line) and line[i + 1] == "'":
                arg += line[start:i]
                start = i + 1
                i += 2
                continue
            arg += line[start:i]
            start, quoted = i + 1, False
            i += 1
            continue
        if start < 0:
            start = i
        i += 1
    return args


def go_regexp(pattern):
    """A Go RE2 pattern as Python's re reads it (the constructs the scripts use differ only here)."""
    pattern = pattern.replace(r"\z", r"\Z")
    classes = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "space": r"\s", "upper": "A-Z",
               "lower": "a-z", "xdigit": "0-9a-fA-F", "punct": r"!-/:-@\[-`{-~"}
    for name, body in classes.items():
        pattern = pattern.replace(f"[:{name}:]", body)
    return re.compile("(?m)" + pattern)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cog_integration_harness import Fatal, Harness, Skip, Stop, kill_group  # noqa: E402  (beside this file)


class TestScript:
    def __init__(self, name, script, files, work, env, harness, deadline, short, log):
        self.name, self.script, self.work = name, script, work
        self.env = dict(env)
        self.cd = work
        self.stdout = self.stderr = ""
        self.stdin = None
        self.background = []
        self.harness = harness
        self.deadline = deadline
        self.short = short
        self.log = log
        self.builtin_out = None  # [stdout, stderr] while a harness command writes its output
        for path, content in files:
            full = os.path.join(work, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as handle:
                handle.write(content)

    # -- helpers the commands use
    def getenv(self, key):
        return self.env.get(key, "")

    def abs(self, path):
        return path if os.path.isabs(path) else os.path.join(self.cd, path)

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Fatal("test timed out")
        return left

    def write_out(self, text="", err=""):
        """Output of a harness command (testscript's ts.Stdout()/Stderr()): replaces both streams."""
        if self.builtin_out is None:
            self.builtin_out = ["", ""]
        self.builtin_out[0] += text
        self.builtin_out[1] += err

    def exec(self, argv, cwd=None):
        """Runs a program to completion with the script's stdin, saving its output; returns the exit status."""
        stdin, self.stdin = self.stdin, None
        if "/" not in argv[0]:
            found = shutil.which(argv[0], path=self.env.get("PATH", ""))
            if not found:
                self.stdout, self.stderr = "", ""
                self.log(f"[exec: {argv[0]}: not found]")
                return 127
            argv = [found] + argv[1:]
        proc = subprocess.Popen(argv, cwd=cwd or self.cd, env=dict(self.env, PWD=cwd or self.cd),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate((stdin or "").encode(), timeout=self.remaining())
        except subprocess.TimeoutExpired:
            kill_group(proc, grace=1)
            proc.communicate()
            raise Fatal("test timed out while running command")
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        self.log_std()
        if proc.returncode != 0:
            self.log(f"[exit status {proc.returncode}]")
        return proc.returncode

    def log_std(self):
        if self.stdout:
            self.log("[stdout]\n" + self.stdout.rstrip("\n"))
        if self.stderr:
            self.log("[stderr]\n" + self.stderr.rstrip("\n"))

    # -- running
    def run(self):
        try:
            for number, line in enumerate(self.script.splitlines(), 1):
                if line.startswith("#"):
                    continue
                self.run_line(number, line)
            self.wait_background(check=False)
        except Stop:
            self.wait_background(check=False)

    def condition(self, cond):
        if cond == "short":
            return self.short
        if cond in ("linux", "unix"):
            return sys.platform.startswith("linux")
        if cond == "amd64":
            return os.uname().machine in ("x86_64", "amd64")
        if cond == "linux_amd64":
            return sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "amd64")
        if cond == "net":
            return False
        if cond.startswith("exec:"):
            return shutil.which(cond[5:], path=self.env.get("PATH", "")) is not None
        raise Fatal(f"bad condition {cond!r}: unknown condition")

    def run_line(self, number, line):
        args = parse_line(line, self.getenv)
        if not args:
            return
        self.log(f"> {line}  (line {number})")
        while args[0].startswith("[") and args[0].endswith("]"):
            cond = args[0][1:-1].strip()
            args = args[1:]
            if not args:
                raise Fatal("missing command after condition")
            want = not cond.startswith("!")
            if not want:
                cond = cond[1:].strip()
            if self.condition(cond) != want:
                return
        neg = False
        if args[0] == "!":
            neg, args = True, args[1:]
            if not args:
                raise Fatal("! on line by itself")
        name, rest = args[0], args[1:]
        builtin = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if builtin is not None:
            builtin(neg, rest)
            return
        command = self.harness.command(name)
        if command is None:
            raise Fatal(f"unknown command {name!r}")
        self.builtin_out = None
        try:
            command(self, neg, rest)
        finally:
            if self.builtin_out is not None:
                self.stdout, self.stderr = self.builtin_out
                self.builtin_out = None
                self.log_std()

    # -- testscript's builtins
    def cmd_exec(self, neg, args):
        if not args or args == ["&"]:
            raise Fatal("usage: exec program [args...] [&]")
        if re.fullmatch(r"&\w*&?", args[-1]):
            self.start_background(args[-1].strip("&"), args[:-1], neg)
            self.stdout = self.stderr = ""
            return
        status = self.exec(args)
        if status == 0 and neg:
            raise Fatal("unexpected command success")
        if status != 0 and not neg:
            raise Fatal("unexpected command failure")

    def start_background(self, name, argv, neg):
        stdin, self.stdin = self.stdin, None
        out = open(os.path.join(self.work, f".bg-{len(self.background)}.out"), "w+")
        err = open(os.path.join(self.work, f".bg-{len(self.background)}.err"), "w+")
        proc = subprocess.Popen(argv, cwd=self.cd, env=dict(self.env, PWD=self.cd), stdout=out, stderr=err,
                                stdin=subprocess.PIPE, start_new_session=True)
        if stdin:
            proc.stdin.write(stdin.encode())
        proc.stdin.close()
        self.background.append((name, proc, out, err, neg))

    def wait_background(self, check):
        outs, errs = [], []
        for name, proc, out, err, neg in self.background:
            if not check:
                kill_group(proc, grace=2)
            try:
                proc.wait(timeout=self.remaining() if check else 10)
            except subprocess.TimeoutExpired:
                kill_group(proc, grace=1)
            out.seek(0)
            err.seek(0)
            outs.append(out.read())
            errs.append(err.read())
            out.close()
            err.close()
            if check and (proc.returncode == 0) == neg:
                raise Fatal("unexpected command " + ("success" if neg else "failure") + f" (background {name})")
        self.background = []
        self.stdout, self.stderr = "".join(outs), "".join(errs)

    def cmd_wait(self, neg, args):
        if neg:
            raise Fatal("unsupported: ! wait")
        self.wait_background(check=True)
        self.log_std()

    def cmd_stdout(self, neg, args):
        self.match(neg, args, self.stdout, "stdout")

    def cmd_stderr(self, neg, args):
        self.match(neg, args, self.stderr, "stderr")

    def cmd_grep(self, neg, args):
        self.match(neg, args, None, "grep")

    def match(self, neg, args, text, name):
        count = 0
        if args and args[0].startswith("-count="):
            if neg:
                raise Fatal("cannot use -count= with negated match")
            count = int(args[0][len("-count="):])
            args = args[1:]
        if len(args) != (2 if name == "grep" else 1):
            raise Fatal(f"usage: {name} [-count=N] 'pattern'" + (" file" if name == "grep" else ""))
        regexp = go_regexp(args[0])
        if name == "grep":
            with open(self.abs(args[1]), errors="replace") as handle:
                text = handle.read()
            name = args[1]
        found = regexp.search(text)
        if neg and found:
            raise Fatal(f"unexpected match for `{args[0]}` found in {name}: {found.group(0)}")
        if not neg and not found:
            raise Fatal(f"no match for `{args[0]}` found in {name}")
        if count and len(regexp.findall(text)) != count:
            raise Fatal(f"have {len(regexp.findall(text))} matches for `{args[0]}`, want {count}")

    def cmd_stdin(self, neg, args):
        if neg or len(args) != 1:
            raise Fatal("usage: stdin filename")
        with open(self.abs(args[0])) as handle:
            self.stdin = handle.read()

    def read_named(self, name):
        if name == "stdout":
            return self.stdout
        if name == "stderr":
            return self.stderr
        with open(self.abs(name), errors="replace") as handle:
            return handle.read()

    def cmd_cmp(self, neg, args, env=False):
        if neg or len(args) != 2:
            raise Fatal("usage: cmp file1 file2")
        first, second = self.read_named(args[0]), self.read_named(args[1])
        if env:
            second = go_expand(second, self.getenv)
        if first != second:
            raise Fatal(f"{args[0]} and {args[1]} differ")

    def cmd_cmpenv(self, neg, args):
        self.cmd_cmp(neg, args, env=True)

    def cmd_exists(self, neg, args):
        readonly = executable = False
        while args and args[0] in ("-readonly", "-exec"):
            readonly |= args[0] == "-readonly"
            executable |= args[0] == "-exec"
            args = args[1:]
        for path in args:
            full = self.abs(path)
            there = os.path.lexists(full)
            if there and neg:
                raise Fatal(f"{path} unexpectedly exists")
            if not there and not neg:
                raise Fatal(f"{path} does not exist")
            if there and readonly and os.access(full, os.W_OK):
                raise Fatal(f"{path} exists but is writable")
            if there and executable and not os.access(full, os.X_OK):
                raise Fatal(f"{path} exists but is not executable")

    def cmd_env(self, neg, args):
        if neg:
            raise Fatal("unsupported: ! env")
        for item in args:
            key, sep, value = item.partition("=")
            if sep:
                self.env[key] = value
            else:
                self.log(f"{key}={self.getenv(key)}")

    def cmd_cd(self, neg, args):
        if neg or len(args) != 1:
            raise Fatal("usage: cd dir")
        target = self.abs(args[0])
        if not os.path.isdir(target):
            raise Fatal(f"{args[0]} is not a directory")
        self.cd = os.path.normpath(target)

    def cmd_mkdir(self, neg, args):
        if neg or not args:
            raise Fatal("usage: mkdir dir...")
        for path in args:
            os.makedirs(self.abs(path), exist_ok=True)

    def cmd_rm(self, neg, args):
        if neg or not args:
            raise Fatal("usage: rm file...")
        for path in args:
            full = self.abs(path)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            elif os.path.lexists(full):
                os.remove(full)

    def cmd_cp(self, neg, args):
        if neg or len(args) < 2:
            raise Fatal("usage: cp src... dst")
        dst = self.abs(args[-1])
        for src in args[:-1]:
            target = os.path.join(dst, os.path.basename(src)) if os.path.isdir(dst) else dst
            if src in ("stdout", "stderr"):
                with open(target, "w") as handle:
                    handle.write(self.read_named(src))
            else:
                shutil.copy(self.abs(src), target)

    def cmd_mv(self, neg, args):
        if neg or len(args) != 2:
            raise Fatal("usage: mv old new")
        os.rename(self.abs(args[0]), self.abs(args[1]))

    def cmd_chmod(self, neg, args):
        if neg or len(args) < 2:
            raise Fatal("usage: chmod perm paths...")
        for path in args[1:]:
            os.chmod(self.abs(path), int(args[0], 8))

    def cmd_symlink(self, neg, args):
        if neg or len(args) != 3 or args[1] != "->":
            raise Fatal("usage: symlink file -> target")
        os.symlink(args[2], self.abs(args[0]))

    def cmd_skip(self, neg, args):
        raise Skip(" ".join(args) or "skip")

    def cmd_stop(self, neg, args):
        raise Stop(" ".join(args))


# ---------------------------------------------------------------------------------------------------------------
# The run


def setup_environment(state):
    """Starts (or reuses) the loopback registry holding the python stand-ins; returns (address, started_here)."""
    registry_dir = os.path.join(state, "registry")
    pid_file = os.path.join(registry_dir, "pid")
    was_up = os.path.exists(pid_file)
    script = os.path.join(ROOT, "scripts", "test-registry.sh")
    result = subprocess.run([script, "start", registry_dir], capture_output=True, text=True)
    if result.returncode != 0:
        fail_setup("loopback registry: " + result.stderr.strip())
    address = result.stdout.strip()
    started = not (was_up and "reusing" in result.stderr)
    layout = os.environ.get("COG_TEST_BASE_LAYOUT", "/var/cache/cog-test/python-3.11-slim")
    maker = os.path.join(ROOT, "scripts", "make-base-image.sh")
    if not os.path.exists(os.path.join(layout, "index.json")):
        print(f"building the python stand-in at {layout} (debootstrap, a few minutes)", file=sys.stderr)
        subprocess.run([maker, layout], check=True)
    cog_base = cog_base_layout(state, layout)
    for repository, tags, source in (("library/python", PYTHON_TAGS, layout), ("cog-base", COG_BASE_TAGS, cog_base)):
        for tag in tags:
            subprocess.run([maker, "push", source, address, f"{repository}:{tag}"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return address, started


def cog_base_layout(state, layout):
    """The cog-base stand-in: the python stand-in plus what a real cog-base image has that a model built on it relies
    on. Cog makes its cog-base images with its python-slim path (pkg/dockerfile/base.go runs the StandardGenerator
    without cog-base), whose installTini puts tini at /sbin/tini as the ENTRYPOINT; its cog-base path then installs
    no tini. Here tini is Debian's package (as this project installs it on python-slim), at usr/sbin/tini, which
    /sbin/tini is on the stand-in's merged /usr. Made once in the state directory."""
    out = os.path.join(state, "cog-base-layout")
    if os.path.exists(os.path.join(out, "index.json")):
        return out
    import tarfile
    import tempfile
    work = tempfile.mkdtemp(dir=state, prefix="cog-base-layout.")
    try:
        run = lambda command, **kw: subprocess.run(command, check=True, capture_output=True, text=True, **kw)
        try:
            run(["apt-get", "download", "tini"], cwd=work)
        except subprocess.CalledProcessError as e:
            fail_setup("cog-base stand-in: apt-get download tini: " + e.stderr.strip())
        deb = [name for name in os.listdir(work) if name.startswith("tini_") and name.endswith(".deb")][0]
        run(["dpkg-deb", "-x", os.path.join(work, deb), os.path.join(work, "deb")])
        binary = os.path.join(work, "deb", "usr", "bin", "tini")
        layer = os.path.join(work, "layer.tar")
        with tarfile.open(layer, "w") as tar, open(binary, "rb") as f:
            info = tar.gettarinfo(binary, arcname="usr/sbin/tini")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode, info.mtime = 0o755, 0
            tar.addfile(info, f)
        image = os.path.join(work, "layout") + ":3.11-slim"
        shutil.copytree(layout, os.path.join(work, "layout"))
        run(["umoci", "raw", "add-layer", "--image", image, "--history.created_by",
             f"tini from Debian's {deb} at /sbin/tini, as a cog-base image has it", layer])
        run(["umoci", "config", "--image", image, "--no-history", "--config.entrypoint", "/sbin/tini",
             "--config.entrypoint", "--"])
        run(["umoci", "gc", "--layout", os.path.join(work, "layout")])
        run(["chmod", "-R", "a+rX", os.path.join(work, "layout")])
        os.rename(os.path.join(work, "layout"), out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def base_env(work, state, registry, shim_dir):
    env = {
        "WORK": work,
        "PATH": shim_dir + os.pathsep + os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "TMPDIR": os.path.join(work, ".tmp"),
        "devnull": os.devnull,
        "/": "/",
        ":": ":",
        "$": "$",
        "COG_NO_UPDATE_CHECK": "1",
        "COG_SKIP_DOCKER_CHECK": "1",
        "TEST_IMAGE": "cog-test-" + secrets.token_hex(5),
        "COG_CACHE_DIR": os.path.join(state, "cache"),
        "COG_REGISTRY_MIRRORS": f"docker.io={registry}",
    }
    for key in PROPAGATED:
        if os.environ.get(key):
            env[key] = os.environ[key]
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filter", help="run only the scripts whose name matches this regular expression")
    parser.add_argument("--list", action="store_true", help="list the scripts and whether they apply; run nothing")
    parser.add_argument("--short", action="store_true", help="the [short] condition holds (go test -short)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per script (default 900)")
    parser.add_argument("--keep-work", action="store_true", help="keep every work directory (failed ones are kept)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every script's log")
    options = parser.parse_args()

    source = os.environ.get("COG_SOURCE", DEFAULT_SOURCE)
    commit = os.environ.get("COG_COMMIT", PINNED_COMMIT)
    scripts = load_scripts(source, commit)
    if options.filter:
        scripts = {name: text for name, text in scripts.items() if re.search(options.filter, name)}
    plans = []
    for name, text in scripts.items():
        script, files = parse_txtar(text)
        plans.append((name, script, files, skip_reason(script, files)))
    if options.list:
        for name, _, _, reason in plans:
            print(f"{name}\t{'skip: ' + reason if reason else 'run'}")
        return 0

    cog_bin = os.path.abspath(os.environ.get("COG_BIN", os.path.join(ROOT, ".build", "release", "cog")))
    if not os.access(cog_bin, os.X_OK):
        fail_setup(f"no cog binary at {cog_bin} (swift build -c release --product cog, or set COG_BIN)")
    state = os.path.abspath(os.environ.get("COG_INTEGRATION_DIR", "/var/tmp/cog-integration"))
    os.makedirs(os.path.join(state, "work"), exist_ok=True)
    registry, started_registry = setup_environment(state)
    harness = Harness(cog_bin, state, ROOT, go_expand)
    shim_dir = harness.write_docker_shim(os.path.join(state, "bin"))
    print(f"Cog {commit[:12]} from {source}; cog {cog_bin}; registry {registry}; state {state}", flush=True)

    passed, failed, skipped = [], [], []
    started = time.monotonic()
    try:
        for name, script, files, reason in plans:
            if reason:
                skipped.append((name, reason))
                print(f"SKIP {name}: {reason}", flush=True)
                continue
            verdict, detail, seconds, work = run_one(name, script, files, state, registry, shim_dir, harness,
                                                    options)
            if verdict == "pass":
                passed.append(name)
            elif verdict == "skip":
                skipped.append((name, detail))
            else:
                failed.append((name, detail, work))
            print(f"{verdict.upper()} {name} ({seconds:.0f}s){': ' + detail if verdict != 'pass' else ''}", flush=True)
    finally:
        if started_registry:
            subprocess.run([os.path.join(ROOT, "scripts", "test-registry.sh"), "stop", os.path.join(state, "registry")],
                           capture_output=True)
    elapsed = time.monotonic() - started
    with open(os.path.join(state, "results.json"), "w") as handle:
        json.dump({"commit": commit, "passed": passed, "failed": [[n, d] for n, d, _ in failed],
                   "skipped": skipped, "seconds": round(elapsed)}, handle, indent=1)
    print()
    for name, reason in skipped:
        print(f"skipped {name}: {reason}")
    for name, detail, work in failed:
        print(f"failed {name}: {detail} (log: {work}/.log)")
    print(f"{len(skipped)} skipped; {elapsed / 60:.1f} minutes")
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def run_one(name, script, files, state, registry, shim_dir, harness, options):
    work = os.path.join(state, "work", name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log_lines = []

    def log(text):
        log_lines.append(text)
        if options.verbose:
            print("    " + text.replace("\n", "\n    "), flush=True)

    env = base_env(work, state, registry, shim_dir)
    if any("use-cog-base-image" in line for line in script_lines(script)):
        env["COG_REGISTRY_HOST"] = registry
    started = time.monotonic()
    ts = TestScript(name, script, files, work, env, harness, started + options.timeout, options.short, log)
    verdict, detail = "pass", ""
    try:
        ts.run()
    except Skip as skip:
        verdict, detail = "skip", f"skipped by the script: {skip}"
    except Fatal as error:
        verdict, detail = "fail", f"{error}"
    except Exception as error:  # a harness error is a failure of this script, not of the run
        verdict, detail = "fail", f"harness error: {type(error).__name__}: {error}"
    finally:
        harness.cleanup(ts)
    if verdict == "fail":
        last = next((line for line in reversed(log_lines) if line.startswith("> ")), "")
        detail = f"{last[2:].strip()}: {detail}" if last else detail
    with open(os.path.join(work, ".log"), "w") as handle:
        handle.write("\n".join(log_lines) + "\n" + (f"FAIL: {detail}\n" if verdict == "fail" else "PASS\n"))
    if verdict != "fail" and not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return verdict, detail, time.monotonic() - started, work


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--docker-shim":
        from cog_integration_harness import docker_shim

        sys.exit(docker_shim(sys.argv[2:]))
    sys.exit(main())
