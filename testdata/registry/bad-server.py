#!/usr/bin/env python3
"""A server that misbehaves the way real non-registries and broken registries do, for client tests.

    bad-server.py --dir DIR --mode MODE [--blob FILE] [--chunk BYTES] [--interval SECONDS] [--port N]

MODE is one of:

    silent    accepts connections, reads the request, never answers (a hung registry or a black-holing proxy)
    html      answers every request with 404 and nginx's HTML error page (a plain web server)
    garbage   sends an SSH banner as soon as a client connects, whatever it asks (a wrong port)
    ok        answers every request with 200 and the text "everything is fine" (18 bytes), no registry headers
    trickle   a slow but moving registry for one blob (--blob): HEAD/GET /v2/<name>/blobs/<digest> serve it,
              GET in --chunk bytes every --interval seconds; POST /v2/<name>/blobs/uploads/ opens an upload whose
              PUT body is read at the same pace, then answers 201 with the digest of what arrived
    stall     like trickle, but a blob GET stops for good after the headers and one chunk

DIR gets `port` (written once listening) and `requests.log`: one JSON object per request
({"conn", "method", "path"}), and one per connection in garbage mode ({"conn", "method": null}).
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time

HTML = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
        b"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n")


class Server:
    def __init__(self, args):
        self.args = args
        self.blob = open(args.blob, "rb").read() if args.blob else b""
        self.digest = "sha256:" + hashlib.sha256(self.blob).hexdigest()
        self.log_path = os.path.join(args.dir, "requests.log")
        self.lock = threading.Lock()
        self.connections = 0

    def record(self, entry):
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def serve(self, sock):
        with self.lock:
            self.connections += 1
            conn = self.connections
        try:
            if self.args.mode == "garbage":
                self.record({"conn": conn, "method": None})
                sock.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
                wait_for_close(sock)
                return
            reader = sock.makefile("rb")
            while True:
                head = read_head(reader)
                if head is None:
                    return
                method, path, headers = head
                self.record({"conn": conn, "method": method, "path": path})
                if not self.answer(sock, reader, method, path, headers):
                    return
        except OSError:
            pass
        finally:
            sock.close()

    def answer(self, sock, reader, method, path, headers):
        """Answers one request; returns whether the connection stays usable."""
        mode = self.args.mode
        if mode == "silent":
            wait_for_close(sock)
            return False
        if mode == "html":
            return reply(sock, method, 404, "Not Found", {"Content-Type": "text/html"}, HTML)
        if mode == "ok":
            return reply(sock, method, 200, "OK", {"Content-Type": "text/plain"}, b"everything is fine")
        return self.registry(sock, reader, method, path, headers)

    def registry(self, sock, reader, method, path, headers):
        if "/blobs/uploads/" in path and method == "POST":
            return reply(sock, method, 202, "Accepted", {"Location": path.split("?")[0] + "session"}, b"")
        if "/blobs/uploads/" in path and method == "PUT":
            length = int(headers.get("content-length", "0"))
            hasher = hashlib.sha256()
            while length > 0:
                data = reader.read(min(self.args.chunk, length))
                if not data:
                    return False
                hasher.update(data)
                length -= len(data)
                time.sleep(self.args.interval)
            digest = "sha256:" + hasher.hexdigest()
            location = path.split("/blobs/")[0] + "/blobs/" + digest
            return reply(sock, method, 201, "Created", {"Location": location, "Docker-Content-Digest": digest}, b"")
        if path.endswith("/blobs/" + self.digest) and method in ("GET", "HEAD"):
            start = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.blob)}\r\nDocker-Content-Digest: {self.digest}\r\n"
            sock.sendall((start + "Content-Type: application/octet-stream\r\n\r\n").encode())
            if method == "HEAD":
                return True
            for offset in range(0, len(self.blob), self.args.chunk):
                sock.sendall(self.blob[offset:offset + self.args.chunk])
                if self.args.mode == "stall":
                    wait_for_close(sock)
                    return False
                time.sleep(self.args.interval)
            return True
        body = b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}'
        return reply(sock, method, 404, "Not Found", {"Content-Type": "application/json"}, body)


def read_head(reader):
    line = reader.readline(65536)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    headers = {}
    while True:
        header = reader.readline(65536)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if len(parts) < 2:
        return None
    method, path = parts[0], parts[1]
    length = int(headers.get("content-length", "0"))
    if length and not ("/blobs/uploads/" in path and method == "PUT"):
        reader.read(length)  # bodies the server does not look at
    return method, path, headers


def reply(sock, method, status, reason, headers, body):
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
    return True


def wait_for_close(sock):
    # Holds the connection open without answering until the client gives up.
    sock.settimeout(None)
    while sock.recv(65536):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--mode", required=True, choices=["silent", "html", "garbage", "ok", "trickle", "stall"])
    parser.add_argument("--blob", help="the blob trickle and stall serve")
    parser.add_argument("--chunk", type=int, default=65536)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    server = Server(args)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.mode == "trickle":
        # A small receive buffer, as on a slow link: the pace shows at the sender rather than megabytes
        # vanishing into this kernel's buffers at once.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    # Tests poll for the port file: never let them read a half-written one.
    tmp = os.path.join(args.dir, f"port.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.replace(tmp, os.path.join(args.dir, "port"))
    print(f"bad-server: {args.mode} on 127.0.0.1:{listener.getsockname()[1]}", file=sys.stderr, flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=server.serve, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
