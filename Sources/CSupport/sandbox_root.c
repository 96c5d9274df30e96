/*
 * The step's root: the overlay (or the directory as it is), /proc of the step's own PID namespace with the
 * host-facing parts read-only or masked as runc does, a minimal /dev, /sys read-only, tmpfs and binds; then
 * pivot_root into it and the host's tree detached, so that no path (`..`, /proc/1/root, a second chroot) leads
 * back to the host.
 *
 * Every mount point inside the root is opened with openat2(RESOLVE_IN_ROOT) and mounted on through
 * /proc/self/fd: a symlink left by an earlier step (or a `..` in a target from cog.yaml) resolves inside the
 * image, never to a host path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

/* Paths under /proc made read-only, and those hidden (an empty read-only tmpfs over a directory, /dev/null over a
   file), as Docker's defaults do (moby oci/defaults.go). */
static const char *proc_readonly[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
static const char *proc_masked[] = {"acpi", "asound", "interrupts", "kcore", "keys", "latency_stats", "sched_debug",
                                    "scsi", "timer_list", "timer_stats"};
static const char *sys_masked[] = {"firmware", "devices/virtual/powercap"};

static const char *fd_path(int fd, char buffer[static 32]) {
    snprintf(buffer, 32, "/proc/self/fd/%d", fd);
    return buffer;
}

/* The root's path as the kernel reports paths of descriptors below it (symlinks resolved). */
static char root_path[4096];

/* Logs `name`, just created in the directory `parent`, by where it really is below the root (a symlink on the way
   may have led elsewhere than the path asked for), so the caller removes the right entry from the upper dir. */
static void note_created(int parent, const char *name) {
    char link[32], where[4096];
    ssize_t n = readlink(fd_path(parent, link), where, sizeof where - 1);
    if (n < 0 || !sandbox_created_log) return;
    where[n] = 0;
    size_t length = strlen(root_path);
    if (strncmp(where, root_path, length) != 0 || (where[length] != '/' && where[length] != 0)) return;
    fprintf(sandbox_created_log, "%s/%s\n", where + length, name);
    fflush(sandbox_created_log);
}

int sandbox_open_below(int dirfd, const char *path, int flags, int in_root) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    for (;;) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd < 0 && errno == EAGAIN) continue;
        return (int)fd;
    }
}

/* Opens `dst` inside the root (O_PATH), creating what is missing: directories, and the last component a
   directory or (not `directory`) an empty file. */
static int open_target(int rootfd, const char *dst, int directory) {
    char partial[4096];
    while (*dst == '/') dst++;
    if (!*dst) return sandbox_open_below(rootfd, ".", O_PATH | O_DIRECTORY, 1);
    if (strlen(dst) >= sizeof partial) { errno = ENAMETOOLONG; sandbox_fail("mount point /%.100s…", dst); }
    snprintf(partial, sizeof partial, "%s", dst);
    size_t length = strlen(partial);
    while (length > 1 && partial[length - 1] == '/') partial[--length] = 0;
    for (char *p = partial;; p++) {
        if (*p != '/' && *p != 0) continue;
        int last = *p == 0;
        char saved = *p;
        *p = 0;
        int fd = sandbox_open_below(rootfd, partial, O_PATH | (last && !directory ? 0 : O_DIRECTORY), 1);
        if (fd < 0 && errno == ENOENT) {
            char *slash = strrchr(partial, '/');
            int parent = slash ? (*slash = 0, sandbox_open_below(rootfd, partial, O_PATH | O_DIRECTORY, 1)) : sandbox_open_below(rootfd, ".", O_PATH | O_DIRECTORY, 1);
            const char *name = slash ? slash + 1 : partial;
            if (parent < 0) sandbox_fail("open the parent of mount point /%s", partial);
            int made;
            if (!last || directory) made = mkdirat(parent, name, 0755) == 0;
            else {
                int file = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                made = file >= 0;
                if (file >= 0) close(file);
            }
            /* EEXIST: a dangling symlink is in the way (reopening below says so). */
            if (!made && errno != EEXIST) { if (slash) *slash = '/'; sandbox_fail("create mount point /%s", partial); }
            if (made) note_created(parent, name);
            if (slash) *slash = '/';
            close(parent);
            fd = sandbox_open_below(rootfd, partial, O_PATH | (last && !directory ? 0 : O_DIRECTORY), 1);
        }
        if (fd < 0) sandbox_fail("open mount point /%s inside the image (a dangling symlink?)", partial);
        *p = saved;
        if (last) return fd;
        close(fd);
    }
}

/* Sets `attributes` (MOUNT_ATTR_*) on the mount at `fd` and, with `recursive`, on every mount below it. */
static void restrict_mount(int fd, const char *what, unsigned long long attributes, int recursive) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attributes;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) == 0) return;
    if (errno != ENOSYS) sandbox_fail("make %s %s", what, attributes & MOUNT_ATTR_RDONLY ? "read-only" : attributes & MOUNT_ATTR_NODEV ? "nodev" : "nosuid");
    /* Kernels before 5.12: the top mount only. */
    char path[32];
    unsigned long flags = MS_BIND | MS_REMOUNT | (attributes & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0)
                        | (attributes & MOUNT_ATTR_NODEV ? MS_NODEV : 0) | (attributes & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0)
                        | (attributes & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0);
    if (mount(NULL, fd_path(fd, path), NULL, flags, NULL) != 0) sandbox_fail("remount %s", what);
}

/* Read-only, and no device or setuid file under it works. */
static void make_readonly(int fd, const char *what, int recursive) {
    restrict_mount(fd, what, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, recursive);
}

/* Mounts onto `dst` inside the root; returns an fd of what is now there (the new mount's root). */
static int mount_inside(int rootfd, const char *dst, int directory, const char *source, const char *type,
                        unsigned long flags, const char *data) {
    char path[32];
    int target = open_target(rootfd, dst, directory);
    if (mount(source, fd_path(target, path), type, flags, data) != 0) sandbox_fail("mount %s on %s", source, dst);
    close(target);
    return open_target(rootfd, dst, directory);
}

/* Hides each of `names` below `dirfd` (entries the kernel does not have are skipped). */
static void mask(int dirfd, const char *under, const char **names, size_t count) {
    for (size_t i = 0; i < count; i++) {
        char path[32], what[128];
        int fd = sandbox_open_below(dirfd, names[i], O_PATH, 0);
        if (fd < 0) continue;
        struct stat st;
        snprintf(what, sizeof what, "%s/%s", under, names[i]);
        if (fstat(fd, &st) != 0) sandbox_fail("stat %s", what);
        int failed = S_ISDIR(st.st_mode)
            ? mount("tmpfs", fd_path(fd, path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555")
            : mount("/dev/null", fd_path(fd, path), NULL, MS_BIND, NULL);
        if (failed) sandbox_fail("mask %s", what);
        close(fd);
    }
}

static void mount_proc(int rootfd) {
    int proc = mount_inside(rootfd, "/proc", 1, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    for (size_t i = 0; i < sizeof proc_readonly / sizeof *proc_readonly; i++) {
        char path[32], what[64];
        snprintf(what, sizeof what, "/proc/%s", proc_readonly[i]);
        int fd = sandbox_open_below(proc, proc_readonly[i], O_PATH, 0);
        if (fd < 0) continue;
        if (mount(fd_path(fd, path), path, NULL, MS_BIND | MS_REC, NULL) != 0) sandbox_fail("bind %s", what);
        close(fd);
        if ((fd = sandbox_open_below(proc, proc_readonly[i], O_PATH, 0)) < 0) sandbox_fail("open %s", what);
        make_readonly(fd, what, 1);
        close(fd);
    }
    mask(proc, "/proc", proc_masked, sizeof proc_masked / sizeof *proc_masked);
    close(proc);
}

static void mount_dev(int rootfd) {
    /* nodev: the nodes bound below keep their own mounts' flags; one a step makes here does not open. */
    int dev = mount_inside(rootfd, "/dev", 1, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
    const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        char host[64], path[32];
        snprintf(host, sizeof host, "/dev/%s", nodes[i]);
        int file = openat(dev, nodes[i], O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (file < 0) sandbox_fail("create /dev/%s", nodes[i]);
        close(file);
        int fd = sandbox_open_below(dev, nodes[i], O_PATH, 0);
        if (fd < 0 || mount(host, fd_path(fd, path), NULL, MS_BIND, NULL) != 0) sandbox_fail("bind %s", host);
        close(fd);
    }
    const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < 4; i++) symlinkat(links[i][0], dev, links[i][1]);
    mkdirat(dev, "pts", 0755);
    if (mkdirat(dev, "shm", 01777) == 0) {
        char path[32];
        int shm = sandbox_open_below(dev, "shm", O_PATH | O_DIRECTORY, 0);
        if (shm < 0 || mount("tmpfs", fd_path(shm, path), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) sandbox_fail("mount /dev/shm");
        close(shm);
    }
    close(dev);
}

static void mount_sys(int rootfd) {
    int sys = mount_inside(rootfd, "/sys", 1, "/sys", NULL, MS_BIND | MS_REC, NULL);
    make_readonly(sys, "/sys", 1);
    mask(sys, "/sys", sys_masked, sizeof sys_masked / sizeof *sys_masked);
    close(sys);
}

static void bind(int rootfd, const char *spec, int kind) {
    char source[4096];
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof source) { errno = 0; sandbox_fail("--bind needs SRC:DST, got %s", spec); }
    snprintf(source, sizeof source, "%.*s", (int)(colon - spec), spec);
    struct stat st;
    if (stat(source, &st) != 0) sandbox_fail("bind source %s", source);
    if (kind == BIND_DEVICE && !S_ISCHR(st.st_mode)) { errno = 0; sandbox_fail("--dev-bind: %s is not a character device", source); }
    int fd = mount_inside(rootfd, colon + 1, S_ISDIR(st.st_mode), source, NULL, MS_BIND | (kind == BIND_DEVICE ? 0 : MS_REC), NULL);
    /* nodev everywhere a step can write: without a device cgroup, a node it makes must not open a host disk. A
       device bind is one host node on a mount of its own: it opens (dev), nothing can be created on it, and it
       is neither setuid nor executable. */
    if (kind == BIND_RO) make_readonly(fd, colon + 1, 1);
    else if (kind == BIND_DEVICE) restrict_mount(fd, colon + 1, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
    else restrict_mount(fd, colon + 1, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 1);
    close(fd);
}

static void mount_overlay(const struct options *o) {
    /* One layer-store format for root and rootless: user.overlay.* xattrs (userxattr). */
    int fs = (int)syscall(SYS_fsopen, "overlay", 0);
    if (fs >= 0) {
        int ok = 1;
        for (int i = 0; i < o->nlowers && ok; i++)
            ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", o->lowers[i], 0) == 0;
        if (ok && o->upper) ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", o->upper, 0) == 0
                              && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", o->work, 0) == 0;
        if (ok) ok = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) == 0;
        if (ok) ok = syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
        if (ok) {
            int mnt = (int)syscall(SYS_fsmount, fs, 0, MOUNT_ATTR_NODEV);
            if (mnt >= 0 && syscall(SYS_move_mount, mnt, "", AT_FDCWD, o->root, MOVE_MOUNT_F_EMPTY_PATH) == 0) {
                close(mnt); close(fs); return;
            }
        }
        close(fs);
    }
    /* Older kernels: one option string (limited to a page, so callers keep lower paths short). */
    char data[8192];
    size_t n = (size_t)snprintf(data, sizeof data, "lowerdir=");
    for (int i = 0; i < o->nlowers; i++) n += (size_t)snprintf(data + n, sizeof data - n, "%s%s", i ? ":" : "", o->lowers[i]);
    if (o->upper) n += (size_t)snprintf(data + n, sizeof data - n, ",upperdir=%s,workdir=%s", o->upper, o->work);
    snprintf(data + n, sizeof data - n, ",userxattr");
    if (mount("overlay", o->root, "overlay", MS_NODEV, data) != 0) sandbox_fail("mount the overlay at %s", o->root);
}

/* Makes the directory open as `rootfd` the root of this mount namespace; the host's tree is detached. */
static void pivot(int rootfd, const char *root) {
    int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old < 0 || fchdir(rootfd) != 0) sandbox_fail("enter %s", root);
    /* pivot_root(".", ".") stacks the old root on top of the new one (as runc does), no directory needed for it. */
    if (syscall(SYS_pivot_root, ".", ".") != 0) sandbox_fail("pivot_root into %s", root);
    if (fchdir(old) != 0) sandbox_fail("enter the old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) sandbox_fail("make the old root a slave");
    if (umount2(".", MNT_DETACH) != 0) sandbox_fail("detach the host's root");
    if (chdir("/") != 0) sandbox_fail("chdir /");
    close(old);
}

void sandbox_enter_root(const struct options *o) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) sandbox_fail("make mounts private");
    if (o->nlowers > 0) mount_overlay(o); /* nodev: device nodes in the image's layers do not open */
    else if (mount(o->root, o->root, NULL, MS_BIND | MS_REC, NULL) != 0) sandbox_fail("bind %s on itself", o->root);
    int rootfd = open(o->root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (rootfd >= 0 && o->nlowers == 0) restrict_mount(rootfd, o->root, MOUNT_ATTR_NODEV, 1);
    char link[32];
    ssize_t n = rootfd < 0 ? -1 : readlink(fd_path(rootfd, link), root_path, sizeof root_path - 1);
    if (n < 0) sandbox_fail("open %s", o->root);
    root_path[n] = 0;
    mount_proc(rootfd);
    mount_dev(rootfd);
    mount_sys(rootfd);
    for (int i = 0; i < o->ntmpfs; i++) close(mount_inside(rootfd, o->tmpfs[i], 1, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
    for (int i = 0; i < o->nbinds; i++) bind(rootfd, o->binds[i], o->bind_kind[i]);
    if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) != 0) sandbox_fail("set the hostname");
    if (sandbox_created_log) { fclose(sandbox_created_log); sandbox_created_log = NULL; }
    pivot(rootfd, o->root);
    close(rootfd);
    if (chdir(o->cwd) != 0 && chdir("/") != 0) sandbox_fail("chdir %s", o->cwd);
}
