# A hostile build step: tries every way out of the sandbox the confinement tests know, each in a child process,
# and prints one line per attempt:  RESULT <attack> held|ESCAPED <detail>
# The test checks each line and, from the host, that nothing changed there.
#
#   python3 hostile.py SECRET MARKER PORT SLEEPER_PID
#     SECRET       a file that exists only on the host (seeing it means the step reached the host's tree)
#     MARKER       a name the step writes to /tmp/MARKER-* (the host's /tmp must not get it)
#     PORT         a TCP port listening on the host's 127.0.0.1
#     SLEEPER_PID  a host process (its pid on the host), with MARKER-sleeper in its command line, that the step
#                  tries to find and trace
import ctypes
import errno
import os
import socket
import sys

SECRET, MARKER, PORT, SLEEPER = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)


def report(attack, escaped, detail=""):
    print(f"RESULT {attack} {'ESCAPED' if escaped else 'held'} {detail}".rstrip(), flush=True)


def attempt(attack, body):
    """Runs body in a child (a chroot or a failed call must not affect the next attempt)."""
    pid = os.fork()
    if pid == 0:
        try:
            body()
        except Exception as error:  # an unexpected failure is reported, not taken for success
            report(attack, False, f"raised {error!r}")
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)


def call(name, number, *args):
    """A raw system call: (result, errno name)."""
    result = libc.syscall(number, *args)
    return result, errno.errorcode.get(ctypes.get_errno(), "?") if result < 0 else ""


def chroot_escape():
    os.makedirs("/esc", exist_ok=True)
    os.chroot("/esc")
    for _ in range(40):
        os.chdir("..")
    os.chroot(".")
    with open(f"/tmp/{MARKER}-chroot", "w") as f:
        f.write("escaped\n")
    report("chroot", os.path.exists(SECRET), f"secret visible: {os.path.exists(SECRET)}")


def proc_roots():
    seen = []
    for base in ["/proc/self/root", "/proc/1/root"]:
        for path in [base + SECRET, base + "/../../.." + SECRET]:
            try:
                open(path).read()
                seen.append(path)
            except OSError:
                pass
        try:
            os.chdir(base)
            for _ in range(40):
                os.chdir("..")
            if os.path.exists(SECRET) or os.path.exists("." + SECRET):
                seen.append(base + " and ..")
            with open(f"{MARKER}-proc", "w") as f:
                f.write("escaped\n")
        except OSError:
            pass
    report("proc-root", bool(seen), f"read: {seen}")


def write_back(path):
    """Writes a kernel setting's current value back: harmless, yet it succeeds only if the file is writable."""
    with open(path) as f:
        text = f.read().strip()
    value = text[text.index("[") + 1:text.index("]")] if "[" in text else text
    try:
        with open(path, "w") as f:
            f.write(value)
        return f"{path} written"
    except OSError as error:
        return f"{path} {errno.errorcode.get(error.errno, error.errno)}"


def proc_sys():
    result = write_back("/proc/sys/vm/swappiness")
    hidden = []
    for name in ["kcore", "keys", "timer_list", "sched_debug", "interrupts"]:
        path = "/proc/" + name
        if os.path.exists(path) and not os.path.isdir(path):
            with open(path, "rb") as f:
                if f.read(4096):
                    hidden.append(name + " readable")
    report("proc-sys", result.endswith("written") or bool(hidden), f"{result}; {hidden}")


def sys_write():
    path = "/sys/kernel/mm/transparent_hugepage/enabled"
    if not os.path.exists(path):
        path = "/sys/kernel/uevent_seqnum"  # read-only anyway: then only the mount's flags are shown
    result = write_back(path)
    report("sys", result.endswith("written"), result)


def mount_things():
    done = []
    if libc.mount(b"none", b"/mnt", b"tmpfs", 0, None) == 0:
        done.append("mount")
    for name, flags in [("unshare(user)", 0x10000000), ("unshare(mount)", 0x00020000), ("unshare(user|mount)", 0x10020000)]:
        if libc.unshare(flags) == 0:
            done.append(name)
    result, error = call("clone(newuser)", 56, 0x10000000 | 17, 0, 0, 0, 0)
    if result == 0:
        os._exit(0)  # the child of a clone that should not have happened
    if result > 0:
        done.append("clone(newuser)")
    report("mount", bool(done), f"succeeded: {done}")


def load_module():
    init, init_error = call("init_module", 175, b"\0" * 64, 64, b"")
    fd = os.open("/dev/null", os.O_RDONLY)
    finit, finit_error = call("finit_module", 313, fd, b"", 0)
    report("module", init >= 0 or finit >= 0, f"init_module {init_error}, finit_module {finit_error}")


def ptrace_host():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f"{MARKER}-sleeper".encode() in f.read():
                        found.append(entry)
            except OSError:
                pass
    result, error = call("ptrace", 101, 16, SLEEPER, 0, 0)  # PTRACE_ATTACH to the host's pid
    pids = sorted(int(e) for e in os.listdir("/proc") if e.isdigit())
    report("ptrace", bool(found) or result == 0, f"sleeper seen: {found}, attach: {error or 'succeeded'}, pids: {pids}")


def loopback():
    reached = []
    for host in ["127.0.0.1", "10.0.2.2"]:
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((host, PORT))
            reached.append(host)
        except OSError as error:
            reached.append(f"{host} refused ({errno.errorcode.get(error.errno, error)})")
        s.close()
    report("loopback", any("refused" not in r for r in reached), f"{reached}")


def device_nodes():
    opened = []
    for path in ["/opt/hostile-device"]:
        try:
            os.close(os.open(path, os.O_RDWR))
            opened.append(path)
        except OSError:
            pass
    try:
        os.mknod("/tmp/made-device", 0o600 | 0o020000, os.makedev(1, 3))
        os.close(os.open("/tmp/made-device", os.O_RDWR))
        opened.append("/tmp/made-device")
    except OSError:
        pass
    report("device", bool(opened), f"opened: {opened}")


def privileges():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    print("STATUS " + " ".join(f"{k}={status[k].strip()}" for k in ["CapEff", "CapBnd", "CapPrm", "NoNewPrivs", "Seccomp"]), flush=True)


for name, body in [("chroot", chroot_escape), ("proc-root", proc_roots), ("proc-sys", proc_sys), ("sys", sys_write),
                   ("mount", mount_things), ("module", load_module), ("ptrace", ptrace_host), ("loopback", loopback),
                   ("device", device_nodes), ("status", privileges)]:
    attempt(name, body)

# Last, in this process (kill(-1) spares the caller): every process the step can see, and nothing else.
try:
    os.kill(-1, 9)
    report("kill", False, "kill(-1, SIGKILL) sent")
except OSError as error:
    report("kill", False, f"kill(-1, SIGKILL): {errno.errorcode.get(error.errno, error)}")
