#!/usr/bin/env python3
"""Docker registry v2 token server for tests (distribution "token" auth).

    token-server.py --dir DIR --user USER:PASS [--user U2:P2] [--expires SECONDS] [--port N]
                    [--issuer cog-test-issuer] [--key-type ec|rsa] [--tls CERT KEY]

DIR holds key.pem and cert.pem (generated on first run, reused afterwards; point the
registry's auth.token.rootcertbundle at cert.pem), port (the bound port, written once the
server listens) and requests.log (one JSON object per token request).

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with Basic auth grants
every requested action when the credentials match, and answers 401 otherwise (anonymous
included). POST /token (OAuth2 form) takes grant_type=password, and grant_type=refresh_token
with a token given by --refresh-token TOKEN:USER (Docker's identitytoken).

--tls serves HTTPS with the PEM certificate (chain) and key given, as real token services do.
"""

import argparse
import base64
import binascii
import datetime
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509.oid import NameOID
except ImportError:
    sys.exit("token-server: the Python 'cryptography' package is missing "
             "(apt-get install python3-cryptography, or pip install cryptography)")


def log(msg):
    print(f"token-server: {msg}", file=sys.stderr, flush=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_atomically(path, data, mode=0o644):
    # Tests poll for these files: they must never see a half-written one.
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def load_or_create_key(directory, key_type):
    key_path = os.path.join(directory, "key.pem")
    cert_path = os.path.join(directory, "cert.pem")
    if os.path.exists(key_path) and os.path.exists(cert_path):
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        return key, cert

    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cog-test token signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    # The registry verifies x5c[0] against rootcertbundle with Go's x509 verifier, which
    # checks the validity window: backdate it so a skewed clock does not break the chain.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        .sign(key, hashes.SHA256())
    )
    write_atomically(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    log(f"generated {key_type} key and self-signed certificate in {directory}")
    return key, cert


class Signer:
    def __init__(self, key, cert):
        self.key = key
        self.alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
        if self.alg == "ES256" and key.curve.name != "secp256r1":
            sys.exit(f"token-server: key.pem is on {key.curve.name}; ES256 needs P-256")
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]

    def jwt(self, claims):
        header = {"typ": "JWT", "alg": self.alg, "x5c": self.x5c}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
        if self.alg == "ES256":
            # JWS wants the raw r||s pair, not the DER SEQUENCE that cryptography returns.
            r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64url(signature)


def parse_scope(scope):
    """'repository:library/python:pull,push' -> dict; None when malformed."""
    resource, sep, actions = scope.rpartition(":")
    kind, sep2, name = resource.partition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    # Docker's "repository(plugin)" form carries a class in parentheses.
    kind = kind.split("(", 1)[0]
    return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}


def merge_access(entries):
    """Requests may repeat a resource (scope=…:pull&scope=…:push); the JWT lists it once."""
    merged = {}
    for e in entries:
        slot = merged.setdefault((e["type"], e["name"]), [])
        slot.extend(a for a in e["actions"] if a not in slot)
    return [{"type": t, "name": n, "actions": a} for (t, n), a in merged.items()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cog-test-token-server"

    def log_message(self, fmt, *args):
        log(f"{self.address_string()} {fmt % args}")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
        query = urllib.parse.parse_qs(url.query)
        user, password = self.basic_credentials()
        self.issue(user, password, query.get("service", [""])[0], query.get("scope", []))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
        grant = form.get("grant_type", [""])[0]
        scopes = [s for field in form.get("scope", []) for s in field.split(" ") if s]
        if grant == "refresh_token":
            user = self.server.cfg.refresh_tokens.get(form.get("refresh_token", [""])[0])
            if user is None:
                self.record({"time": time.time(), "method": "POST", "grant": grant, "status": 401, "granted": []})
                return self.reply(401, {"error": "invalid_grant"})
            return self.issue(user, self.server.cfg.users[user], form.get("service", [""])[0], scopes, grant=grant)
        if grant != "password":
            return self.reply(400, {"error": "unsupported_grant_type"})
        self.issue(form.get("username", [None])[0], form.get("password", [None])[0],
                   form.get("service", [""])[0], scopes, grant=grant)

    def basic_credentials(self):
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        return user, password

    def issue(self, user, password, service, scopes, grant=None):
        cfg = self.server.cfg
        requested = [p for p in (parse_scope(s) for s in scopes) if p]
        entry = {"time": time.time(), "method": self.command, "user": user, "service": service,
                 "scopes": scopes, "grant": grant,
                 "authorization": bool(self.headers.get("Authorization"))}
        if user is None or cfg.users.get(user) != password:
            entry.update(status=401, granted=[])
            self.record(entry)
            return self.reply(401, {"errors": [{
                "code": "UNAUTHORIZED",
                "message": "authentication required" if user is None else "invalid username or password",
            }]}, headers={"WWW-Authenticate": 'Basic realm="cog-test-token"'})

        access = merge_access(requested)
        now = int(time.time())
        token = cfg.signer.jwt({
            "iss": cfg.issuer, "sub": user, "aud": service,
            "exp": now + cfg.expires, "nbf": now, "iat": now,
            "jti": uuid.uuid4().hex, "access": access,
        })
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        entry.update(status=200, granted=access)
        self.record(entry)
        self.reply(200, {"token": token, "access_token": token, "expires_in": cfg.expires,
                         "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")})

    def record(self, entry):
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.server.log_lock, open(self.server.cfg.request_log, "a") as f:
            f.write(line)

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, help="key, certificate, port file and request log")
    parser.add_argument("--user", action="append", required=True, metavar="USER:PASS")
    parser.add_argument("--expires", type=int, default=300, metavar="SECONDS",
                        help="token lifetime (expires_in and exp); default 300")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--issuer", default="cog-test-issuer")
    parser.add_argument("--refresh-token", action="append", default=[], metavar="TOKEN:USER",
                        help="an OAuth2 refresh token that stands for USER (repeatable)")
    parser.add_argument("--key-type", choices=["ec", "rsa"], default="ec",
                        help="for a newly generated key only: ES256 (ec) or RS256 (rsa)")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate and key")
    args = parser.parse_args()

    users = {}
    for item in args.user:
        name, sep, password = item.partition(":")
        if not sep or not name:
            parser.error(f"--user wants USER:PASS, got {item!r}")
        users[name] = password

    refresh_tokens = {}
    for item in args.refresh_token:
        token, sep, name = item.rpartition(":")
        if not sep or name not in users:
            parser.error(f"--refresh-token wants TOKEN:USER for a --user, got {item!r}")
        refresh_tokens[token] = name

    os.makedirs(args.dir, exist_ok=True)
    directory = os.path.abspath(args.dir)
    key, cert = load_or_create_key(directory, args.key_type)
    # A port file left by an earlier run would send a polling test to a dead port.
    try:
        os.remove(os.path.join(directory, "port"))
    except FileNotFoundError:
        pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.log_lock = threading.Lock()
    server.cfg = argparse.Namespace(
        users=users, refresh_tokens=refresh_tokens, expires=args.expires, issuer=args.issuer, signer=Signer(key, cert),
        request_log=os.path.join(directory, "requests.log"))
    scheme = "http"
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    write_atomically(os.path.join(directory, "port"), f"{port}\n".encode())
    log(f"listening on {scheme}://127.0.0.1:{port}/token ({server.cfg.signer.alg}, "
        f"issuer {args.issuer}, tokens valid {args.expires}s)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
