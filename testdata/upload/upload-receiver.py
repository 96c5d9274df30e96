#!/usr/bin/env python3
"""Receives what a model's runtime uploads (cog serve --upload-url): each PUT's body is saved under DIR by the
last part of its path, answered 201 with a Location. Writes its port to DIR/port.  upload-receiver.py DIR"""
import http.server, os, sys

directory = sys.argv[1]


class Receiver(http.server.BaseHTTPRequestHandler):
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_PUT(self):
        name = os.path.basename(self.path.split("?")[0]) or "upload"
        with open(os.path.join(directory, "received-" + name), "wb") as out:
            out.write(self.body())
        self.send_response(201)
        self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/files/{name}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        with open(os.path.join(directory, "requests.log"), "a") as log:
            log.write((args[0] % args[1:]) + "\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
with open(os.path.join(directory, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
