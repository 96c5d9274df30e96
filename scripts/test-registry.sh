#!/usr/bin/env bash
# Runs a throwaway OCI registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1
# for the tests and the README demo.
#
#   test-registry.sh start DIR [--htpasswd USER:PASS | --token-auth TOKENDIR [--token-realm URL]]
#                              [--tls CERT KEY] [--port N]          prints 127.0.0.1:PORT
#   test-registry.sh stop DIR
#
# --token-auth points the registry at a running testdata/registry/token-server.py whose --dir
# is TOKENDIR (it reads TOKENDIR/port and trusts TOKENDIR/cert.pem); service "cog-test",
# issuer "cog-test-issuer". --token-realm replaces the realm clients are sent to (default
# http://127.0.0.1:PORT/token), e.g. an https:// URL when the token server serves TLS.
# --tls serves HTTPS with the PEM certificate (chain) and key given (http.tls in distribution's config).
#
# State lives in DIR: config.yml, data/, htpasswd, pid, address, registry.log.
# `start` on a DIR whose registry is already up just prints its address again.
set -euo pipefail

die() { echo "test-registry: $*" >&2; exit 1; }
usage() {
  die "usage: $0 start DIR [--htpasswd USER:PASS | --token-auth TOKENDIR [--token-realm URL]] [--tls CERT KEY] [--port N] | stop DIR"
}

# A daemon nobody reaps lingers as a zombie once the shell that started it is gone.
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# Pids get reused: only a live docker-registry is ours.
running() { alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q docker-registry; }

# Prints the HTTP status of GET $2://$1/v2/ (000 when nothing answers). Readiness only: the
# certificate is not checked here.
probe() {
  python3 - "$1" "$2" <<'EOF' 2>/dev/null || echo 000
import ssl, sys, urllib.request, urllib.error
try:
    context = ssl._create_unverified_context()
    print(urllib.request.urlopen(f"{sys.argv[2]}://{sys.argv[1]}/v2/", timeout=2, context=context).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOF
}

start() {
  local dir=$1; shift
  local creds="" port="" tokendir="" realm="" cert="" key="" scheme=http
  while [ $# -gt 0 ]; do
    case $1 in
      --htpasswd) [ $# -ge 2 ] || usage; creds=$2; shift 2 ;;
      --token-auth) [ $# -ge 2 ] || usage; tokendir=$2; shift 2 ;;
      --token-realm) [ $# -ge 2 ] || usage; realm=$2; shift 2 ;;
      --tls) [ $# -ge 3 ] || usage; cert=$(realpath "$2"); key=$(realpath "$3"); scheme=https; shift 3 ;;
      --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -z "$creds" ] || [ -z "$tokendir" ] || die "--htpasswd and --token-auth exclude each other"
  [ -z "$realm" ] || [ -n "$tokendir" ] || die "--token-realm goes with --token-auth"
  [ -z "$cert" ] || { [ -r "$cert" ] && [ -r "$key" ]; } || die "--tls: cannot read $cert or $key"
  command -v docker-registry >/dev/null || die "docker-registry not found (apt-get install docker-registry)"
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)

  if [ -f "$dir/pid" ] && running "$(cat "$dir/pid")"; then
    echo "test-registry: already running (pid $(cat "$dir/pid")), reusing it" >&2
    cat "$dir/address"
    return
  fi

  # Binding first also catches a busy --port: otherwise the other listener would answer
  # the readiness probe while our registry dies on "address already in use".
  # SO_REUSEADDR as Go sets it, so a port left in TIME_WAIT by an earlier run counts as free.
  local free
  free=$(python3 -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); print(s.getsockname()[1])' "${port:-0}" 2>/dev/null) \
    || die "port $port on 127.0.0.1 is already in use"
  port=$free
  local addr="127.0.0.1:$port"

  local auth=""
  if [ -n "$creds" ]; then
    [[ $creds == *:* ]] || die "--htpasswd wants USER:PASS"
    command -v htpasswd >/dev/null || die "htpasswd not found (apt-get install apache2-utils)"
    # distribution only accepts bcrypt entries, hence -B.
    htpasswd -Bbn "${creds%%:*}" "${creds#*:}" >"$dir/htpasswd" 2>/dev/null
    auth="auth:
  htpasswd:
    realm: cog-test
    path: \"$dir/htpasswd\""
  else
    rm -f "$dir/htpasswd"
  fi
  if [ -n "$tokendir" ]; then
    [ -d "$tokendir" ] || die "--token-auth: no directory $tokendir"
    tokendir=$(cd "$tokendir" && pwd)
    [ -s "$tokendir/port" ] && [ -s "$tokendir/cert.pem" ] \
      || die "--token-auth: $tokendir has no port/cert.pem; start testdata/registry/token-server.py --dir $tokendir first"
    local token_port; token_port=$(tr -d '[:space:]' <"$tokendir/port")
    auth="auth:
  token:
    realm: \"${realm:-http://127.0.0.1:$token_port/token}\"
    service: cog-test
    issuer: cog-test-issuer
    rootcertbundle: \"$tokendir/cert.pem\""
  fi

  local tls=""
  if [ -n "$cert" ]; then
    tls="  tls:
    certificate: \"$cert\"
    key: \"$key\""
  fi

  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: "$dir/data"
  delete:
    enabled: true
http:
  addr: $addr
$tls
$auth
EOF

  # setsid + all fds redirected: the daemon must outlive us and must not hold the
  # caller's stdout pipe open (a test reading our output would otherwise never see EOF).
  setsid docker-registry serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pid"
  echo "$addr" >"$dir/address"

  local code deadline=$((SECONDS + 20))
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive "$pid" || { tail -n 5 "$dir/registry.log" >&2; rm -f "$dir/pid"; die "registry exited during startup (log: $dir/registry.log)"; }
    code=$(probe "$addr" "$scheme")
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then
      echo "test-registry: up at $scheme://$addr (pid $pid${creds:+, htpasswd auth}${tokendir:+, token auth via $tokendir})" >&2
      echo "$addr"
      return
    fi
    sleep 0.25
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  die "registry did not answer on $scheme://$addr/v2/ within 20s (log: $dir/registry.log)"
}

stop() {
  local dir=$1
  [ -f "$dir/pid" ] || { echo "test-registry: nothing to stop in $dir" >&2; return; }
  local pid; pid=$(cat "$dir/pid")
  if running "$pid"; then
    kill "$pid"
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.2; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
    echo "test-registry: stopped pid $pid" >&2
  fi
  rm -f "$dir/pid"
}

[ $# -ge 2 ] || usage
cmd=$1; shift
case $cmd in
  start) start "$@" ;;
  stop) [ $# -eq 1 ] || usage; stop "$1" ;;
  *) usage ;;
esac
