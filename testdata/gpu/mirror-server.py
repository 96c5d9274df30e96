#!/usr/bin/env python3
"""A static file server on 127.0.0.1 for tests: serves ROOT, writes its port to STATE/port and each requested
path to STATE/requests.log (as the test's uv mirror of python-build-standalone, UV_PYTHON_INSTALL_MIRROR).

    mirror-server.py ROOT STATE
"""
import functools, http.server, os, sys

root, state = sys.argv[1], sys.argv[2]


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        with open(os.path.join(state, "requests.log"), "a") as log:
            log.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
with open(os.path.join(state, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
server.serve_forever()
