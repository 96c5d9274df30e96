#!/usr/bin/env python3
"""Describes directory trees byte for byte, as an independent reader for the tar round-trip tests.

Usage: describe-tree.py [--no-owners] ROOT...   Prints, for each ROOT, a line "== ROOT" and then one line per path
below it, sorted: the path's bytes in hex, its type, mode, owner, and what identifies its content (size and
SHA-256 of a file, the target's bytes of a symlink, major/minor of a device), its user.* extended attributes (but
those with empty values, which PAX cannot carry), and
for a file with several names the first of them (hex). Directories are opened relative to their parent's
descriptor, so paths of any depth work.
"""
import hashlib
import os
import stat
import sys


def describe(root, owners):
    lines = []
    inodes = {}

    def walk_bytes(dir_fd, relative):
        # listdir on a descriptor gives str names, surrogate-escaped: fsencode gives back the exact bytes.
        names = sorted(os.fsencode(name) for name in os.listdir(dir_fd))
        for name in names:
            path = relative + b"/" + name if relative else name
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            kind = stat.S_IFMT(st.st_mode)
            mode = 0 if kind == stat.S_IFLNK else stat.S_IMODE(st.st_mode)
            owner = "%d:%d" % (st.st_uid, st.st_gid) if owners else "-"
            detail = ""
            xattrs = []
            if kind in (stat.S_IFREG, stat.S_IFDIR):
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
                try:
                    for key in sorted(os.listxattr(fd)):
                        value = os.getxattr(fd, key)
                        # An empty value cannot travel in a PAX record (it means "delete the keyword").
                        if key.startswith("user.") and value:
                            xattrs.append("%s=%s" % (key, value.hex()))
                    if kind == stat.S_IFREG:
                        digest = hashlib.sha256()
                        while True:
                            chunk = os.read(fd, 1 << 20)
                            if not chunk:
                                break
                            digest.update(chunk)
                        detail = "%d %s" % (st.st_size, digest.hexdigest())
                        if st.st_nlink > 1:
                            inodes.setdefault((st.st_dev, st.st_ino), []).append(path)
                    else:
                        walk_bytes(fd, path)
                finally:
                    os.close(fd)
            elif kind == stat.S_IFLNK:
                detail = os.fsencode(os.readlink(name, dir_fd=dir_fd)).hex()
            elif kind in (stat.S_IFCHR, stat.S_IFBLK):
                detail = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
            type_name = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink", stat.S_IFIFO: "fifo",
                         stat.S_IFCHR: "chardev", stat.S_IFBLK: "blockdev", stat.S_IFSOCK: "socket"}[kind]
            lines.append([path, type_name, "%o" % mode, owner, detail, ",".join(xattrs), (st.st_dev, st.st_ino)])

    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        walk_bytes(fd, b"")
    finally:
        os.close(fd)
    first_name = {key: min(paths) for key, paths in inodes.items()}
    out = []
    for path, type_name, mode, owner, detail, xattrs, key in sorted(lines):
        link = first_name.get(key, b"").hex() if type_name == "file" else ""
        out.append("\t".join([path.hex(), type_name, mode, owner, detail, xattrs, link]))
    return out


def main():
    arguments = sys.argv[1:]
    owners = True
    if arguments and arguments[0] == "--no-owners":
        owners = False
        arguments = arguments[1:]
    for root in arguments:
        print("== " + root)
        for line in describe(root, owners):
            print(line)


main()
