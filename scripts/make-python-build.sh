#!/usr/bin/env bash
# Builds a stand-in for a python-build-standalone release, as `uv python install` downloads it, for tests that
# provision Python on an nvidia/cuda base: GitHub (where the real builds live) is out of reach here.
#
#   make-python-build.sh OUTDIR      build once; no-op when OUTDIR/download-metadata.json exists
#
# OUTDIR then serves as uv's mirror (UV_PYTHON_INSTALL_MIRROR=http://HOST/):
#   OUTDIR/cog-test/cpython-3.11.2+cog-test-x86_64-unknown-linux-gnu-install_only.tar.gz
#   OUTDIR/download-metadata.json    the list uv reads instead of its built-in one (UV_PYTHON_DOWNLOADS_JSON_URL):
#                                    uv checks every archive against the SHA-256 of that list, and a mirror only
#                                    replaces the https://github.com/astral-sh/python-build-standalone/releases/
#                                    download/ prefix of its URLs (uv 0.9, crates/uv-python/src/downloads.rs)
#
# The interpreter is CPython 3.11.2 compiled from Debian's copy of the upstream source
# (python3.11_3.11.2.orig.tar.gz), in python-build-standalone's `install_only` layout: python/bin/python3.11,
# python/lib/libpython3.11.so.1.0, python/lib/python3.11/, pip from ensurepip; relocatable through RUNPATHs
# ($ORIGIN/../lib) with the libraries it needs beside it (python-build-standalone links them statically).
# Needs build-essential, the -dev packages in scripts/install-deps.sh, patchelf and curl. About 5 minutes on 2 cores.
set -euo pipefail

VERSION=3.11.2
BUILD=cog-test
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SOURCE=$MIRROR/pool/main/p/python3.11/python3.11_$VERSION.orig.tar.gz
ARCHIVE=cpython-$VERSION+$BUILD-x86_64-unknown-linux-gnu-install_only.tar.gz

die() { echo "make-python-build: $*" >&2; exit 1; }
log() { echo "make-python-build: $*" >&2; }

out=${1:?usage: make-python-build.sh OUTDIR}
out=${out%/}
if [ -f "$out/download-metadata.json" ]; then log "$out already built"; exit 0; fi
for c in gcc make patchelf curl tar; do command -v "$c" >/dev/null || die "$c not found (see scripts/install-deps.sh)"; done
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$out.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
start=$SECONDS

log "fetching $SOURCE"
curl -fsSL -o "$work/source.tar.gz" "$SOURCE"
mkdir "$work/src"
tar -C "$work/src" --strip-components=1 -xzf "$work/source.tar.gz"
log "compiling CPython $VERSION (a few minutes)"
(
  cd "$work/src"
  ./configure --prefix=/install --enable-shared --with-ensurepip=install >"$work/configure.log" 2>&1 \
    || { tail -n 20 "$work/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
  make install DESTDIR="$work/destdir" >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
) || die "the CPython build failed (logs in $work are removed on exit)"

root=$work/python
mv "$work/destdir/install" "$root"
ln -sf python3.11 "$root/bin/python"
rm -rf "$root/lib/python3.11/test" "$root/lib/python3.11/config-3.11-x86_64-linux-gnu/"*.a
find "$root" -name __pycache__ -prune -exec rm -rf {} +

# The libraries beside the interpreter, found by RUNPATH: bin/ and lib/ look in lib/, lib-dynload/ two levels up.
elves=$(find "$root" -type f \( -name '*.so*' -o -path "$root/bin/python3.11" \) -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
for elf in $elves; do
  ldd "$elf" | awk '/=> \//{print $3}' | while read -r lib; do
    case $(basename "$lib") in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libutil.so*|ld-linux*|libpython3*) ;;
      *) [ -e "$root/lib/$(basename "$lib")" ] || cp -L "$lib" "$root/lib/" ;;
    esac
  done
done
for elf in $elves $(find "$root/lib" -maxdepth 1 -type f -name '*.so*'); do
  case $elf in
    */lib-dynload/*) patchelf --set-rpath '$ORIGIN/../..' "$elf" ;;
    *) patchelf --set-rpath '$ORIGIN/../lib' "$elf" ;;
  esac
done
"$root/bin/python3.11" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, json; print("stand-in python ok")' >&2

mkdir -p "$work/mirror/$BUILD"
(cd "$work" && LC_ALL=C tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -czf "mirror/$BUILD/$ARCHIVE" python)
sha=$(sha256sum "$work/mirror/$BUILD/$ARCHIVE" | cut -d' ' -f1)
# uv's list format (crates/uv-python/download-metadata.json); the URL is python-build-standalone's, so that
# UV_PYTHON_INSTALL_MIRROR points uv at the mirror serving this folder.
cat >"$work/mirror/download-metadata.json" <<EOF
{
  "cpython-$VERSION-linux-x86_64-gnu": {
    "name": "cpython", "arch": {"family": "x86_64", "variant": null}, "os": "linux", "libc": "gnu",
    "major": 3, "minor": 11, "patch": ${VERSION##*.}, "prerelease": "",
    "url": "https://github.com/astral-sh/python-build-standalone/releases/download/$BUILD/cpython-$VERSION%2B$BUILD-x86_64-unknown-linux-gnu-install_only.tar.gz",
    "sha256": "$sha", "variant": null, "build": "$BUILD"
  }
}
EOF
chmod -R a+rX "$work/mirror"
mv -T "$work/mirror" "$out" 2>/dev/null || [ -f "$out/download-metadata.json" ] || die "cannot move the build to $out"
log "built $out ($(du -sh "$out" | cut -f1)) in $((SECONDS - start))s"
