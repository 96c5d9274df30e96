/*
 * The sandbox where no namespace and no mount can be made: a CI container running as root under Docker's or
 * Kubernetes' default seccomp profile (kaniko's niche). chroot is the only wall, so what the namespaced sandbox
 * mounts is put into the tree itself for the command's lifetime and taken away after it:
 *   - directories (cache mounts) moved in with rename (they live on the tree's file system, under cog's cache);
 *   - files (resolv.conf, the CA bundle, secrets) copied in;
 *   - a minimal /dev made with mknod (in /dev, which never reaches a layer).
 * Mount points that did not exist are made and removed again, as the namespaced sandbox does. An entry in the way
 * (/etc/resolv.conf) is set aside and put back, and the times of its directory restored unless the command changed
 * that directory; change times cannot be restored, so those paths are logged as "~PATH" for the snapshot capture
 * to ignore. The layers are then those a snapshot capture makes in the other modes. Every path is resolved inside the tree (openat2 RESOLVE_IN_ROOT): a symlink left by
 * a step never makes this process, which is root outside the tree, write elsewhere.
 * The command runs in a session of its own, chrooted, with Docker's default capabilities less CAP_SYS_CHROOT
 * (a second chroot and `..` would lead out), no_new_privs and the seccomp filter, on the host's network,
 * without /proc and /sys. When it ends, its group and every process it left behind are killed (this process
 * is their subreaper), as a RUN step ends with its command.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

enum undo_kind { UNDO_NONE, UNDO_UNLINK, UNDO_RMDIR, UNDO_MOVE_BACK, UNDO_PUT_BACK, UNDO_TIMES };

/* What to do after the command, in reverse order of recording. Paths are relative to the root. */
struct undo {
    enum undo_kind kind;
    char path[4096];
    char other[4096]; /* MOVE_BACK: the host directory; PUT_BACK: the name the original was set aside under */
    struct timespec times[2];
    struct timespec placed; /* TIMES: the directory's mtime once every mount was put in place */
};

static struct undo *undos;
static int nundos, rootfd = -1, undo_failed;
static pid_t command_pid = -1;
static volatile sig_atomic_t stop_requested;

static struct undo *record(enum undo_kind kind, const char *path, const char *other) {
    if (nundos == 4 * MAX_ITEMS) { errno = 0; sandbox_fail("too many mounts for chroot isolation"); }
    struct undo *u = &undos[nundos++];
    memset(u, 0, sizeof *u);
    u->kind = kind;
    snprintf(u->path, sizeof u->path, "%s", path);
    if (other) snprintf(u->other, sizeof u->other, "%s", other);
    return u;
}

/* The directory `relative` inside the root, opened for reading ("" is the root). */
static int open_dir(const char *relative) {
    return sandbox_open_below(rootfd, *relative ? relative : ".", O_RDONLY | O_DIRECTORY, 1);
}

/* Notes the times of the directory `relative` before an entry in it is set aside, to restore them after the
   command unless the command itself changed the directory. */
static void touch_dir(const char *relative) {
    for (int i = 0; i < nundos; i++)
        if (undos[i].kind == UNDO_TIMES && strcmp(undos[i].path, relative) == 0) return;
    int fd = open_dir(relative);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) sandbox_fail("open /%s inside the image", relative);
    close(fd);
    struct undo *u = record(UNDO_TIMES, relative, NULL);
    u->times[0] = st.st_atim;
    u->times[1] = st.st_mtim;
}

/* Opens the parent of `relative` (with `create`, made when missing, each new directory recorded), sets `name` to
   its last component and `parent` to the parent's relative path. */
static int open_parent(const char *relative, char parent[4096], const char **name, int create) {
    snprintf(parent, 4096, "%s", relative);
    char *slash = strrchr(parent, '/');
    *name = relative + (slash ? slash - parent + 1 : 0);
    if (slash) *slash = 0;
    else parent[0] = 0;
    int fd = open_dir(parent);
    if (fd >= 0 || errno != ENOENT || !create) return fd;
    char grand[4096];
    const char *own;
    int up = open_parent(parent, grand, &own, 1);
    if (up < 0) return -1;
    if (mkdirat(up, own, 0755) != 0) sandbox_fail("create /%s inside the image", parent);
    close(up);
    record(UNDO_RMDIR, parent, NULL);
    return open_dir(parent);
}

static void copy_file(const char *source, int parent, const char *name, const char *shown) {
    int in = open(source, O_RDONLY | O_CLOEXEC);
    int out = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (in < 0 || out < 0) sandbox_fail("copy %s to %s", source, shown);
    char buffer[65536];
    ssize_t n;
    while ((n = read(in, buffer, sizeof buffer)) > 0)
        if (write(out, buffer, (size_t)n) != n) sandbox_fail("copy %s to %s", source, shown);
    if (n < 0) sandbox_fail("read %s", source);
    close(in);
    close(out);
}

/* Puts the host's `source` at `target` inside the root until the command ends. */
static void place(const char *spec, int kind, dev_t tree_device) {
    char source[4096], parent_path[4096];
    const char *colon = strchr(spec, ':'), *name;
    if (!colon || (size_t)(colon - spec) >= sizeof source) { errno = 0; sandbox_fail("--bind needs SRC:DST, got %s", spec); }
    snprintf(source, sizeof source, "%.*s", (int)(colon - spec), spec);
    const char *target = colon + 1;
    while (*target == '/') target++;
    if (kind == BIND_DEVICE) { errno = 0; sandbox_fail("%s: devices (GPUs) cannot be given with chroot isolation", source); }
    struct stat st;
    if (stat(source, &st) != 0) sandbox_fail("bind source %s", source);
    if (S_ISDIR(st.st_mode) && st.st_dev != tree_device) {
        errno = 0;
        sandbox_fail("cannot put %s at /%s with chroot isolation: it must be on the file system of the image's tree", source, target);
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) { errno = 0; sandbox_fail("bind source %s is neither a file nor a directory", source); }
    int parent = open_parent(target, parent_path, &name, 1);
    if (parent < 0) sandbox_fail("open the parent of /%s inside the image", target);
    struct stat existing;
    if (fstatat(parent, name, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
        touch_dir(parent_path);
        char aside[64];
        snprintf(aside, sizeof aside, ".cog-aside-%d-%d", (int)getpid(), nundos);
        if (renameat(parent, name, parent, aside) != 0) sandbox_fail("set /%s aside", target);
        record(UNDO_PUT_BACK, target, aside);
    }
    if (S_ISDIR(st.st_mode)) {
        if (renameat(AT_FDCWD, source, parent, name) != 0) sandbox_fail("move %s to /%s", source, target);
        record(UNDO_MOVE_BACK, target, source);
    } else {
        copy_file(source, parent, name, target);
        record(UNDO_UNLINK, target, NULL);
    }
    close(parent);
}

/* A minimal /dev (never part of a layer): the host's null, zero, full, random, urandom and tty nodes. */
static void make_dev(void) {
    mkdirat(rootfd, "dev", 0755);
    int dev = sandbox_open_below(rootfd, "dev", O_RDONLY | O_DIRECTORY, 0);
    if (dev < 0) sandbox_fail("open /dev inside the image");
    const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        char host[64];
        struct stat st, here;
        snprintf(host, sizeof host, "/dev/%s", nodes[i]);
        if (stat(host, &st) != 0 || !S_ISCHR(st.st_mode)) continue;
        if (fstatat(dev, nodes[i], &here, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISCHR(here.st_mode) && here.st_rdev == st.st_rdev) continue;
            if (unlinkat(dev, nodes[i], 0) != 0) sandbox_fail("replace /dev/%s", nodes[i]);
        }
        if (mknodat(dev, nodes[i], S_IFCHR | 0666, st.st_rdev) != 0)
            sandbox_fail("create /dev/%s in the image's tree (chroot isolation needs CAP_MKNOD)", nodes[i]);
        fchmodat(dev, nodes[i], 0666, 0);
    }
    mkdirat(dev, "shm", 01777);
    mkdirat(dev, "pts", 0755);
    close(dev);
}

/* The mtime of the directory `relative` now (zero when it cannot be read). */
static struct timespec mtime_of(const char *relative) {
    struct stat st;
    int fd = open_dir(relative);
    struct timespec t = {0, 0};
    if (fd >= 0 && fstat(fd, &st) == 0) t = st.st_mtim;
    if (fd >= 0) close(fd);
    return t;
}

static void note_placed(void) {
    for (int i = 0; i < nundos; i++)
        if (undos[i].kind == UNDO_TIMES) undos[i].placed = mtime_of(undos[i].path);
}

/* Whether a mount point that did not exist was made in the directory `relative` (as the namespaced sandbox makes
   one, changing the directory's times). */
static int made_in(const char *relative) {
    size_t length = strlen(relative);
    for (int i = 0; i < nundos; i++) {
        const char *path = undos[i].path, *slash = strrchr(path, '/');
        size_t parent = slash ? (size_t)(slash - path) : 0;
        if (undos[i].kind == UNDO_TIMES || undos[i].kind == UNDO_PUT_BACK || parent != length || strncmp(path, relative, length) != 0) continue;
        int set_aside = 0;
        for (int j = 0; j < nundos; j++) set_aside |= undos[j].kind == UNDO_PUT_BACK && strcmp(undos[j].path, path) == 0;
        if (!set_aside) return 1;
    }
    return 0;
}

static void undo_all(FILE *log) {
    /* A directory the command changed, or in which a mount point was made, keeps its new times (and goes into the
       layer, as in the other modes). */
    for (int i = 0; i < nundos; i++) {
        if (undos[i].kind != UNDO_TIMES) continue;
        if (made_in(undos[i].path)) { undos[i].kind = UNDO_NONE; continue; }
        struct timespec now = mtime_of(undos[i].path);
        if (now.tv_sec != undos[i].placed.tv_sec || now.tv_nsec != undos[i].placed.tv_nsec) undos[i].kind = UNDO_NONE;
    }
    for (int i = nundos - 1; i >= 0; i--) {
        if (undos[i].kind == UNDO_NONE) continue;
        struct undo *u = &undos[i];
        char parent_path[4096];
        const char *name;
        /* Nothing is made again here: what the command removed stays removed. */
        int parent = u->kind == UNDO_TIMES ? open_dir(u->path) : open_parent(u->path, parent_path, &name, 0);
        if (parent < 0) continue;
        switch (u->kind) {
        case UNDO_UNLINK: unlinkat(parent, name, 0); break;
        case UNDO_RMDIR: unlinkat(parent, name, AT_REMOVEDIR); break; /* only when the command left it empty */
        case UNDO_MOVE_BACK: {
            /* What goes back to the host must still be a directory (a step may have put a symlink there). */
            struct stat st;
            if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                if (renameat(parent, name, AT_FDCWD, u->other) != 0) {
                    fprintf(stderr, "cog sandbox: cannot move /%s back to %s: %s\n", u->path, u->other, strerror(errno));
                    undo_failed = 1;
                }
            } else {
                unlinkat(parent, name, 0);
                mkdir(u->other, 0755);
            }
            break;
        }
        case UNDO_PUT_BACK:
            unlinkat(parent, name, 0);
            if (renameat(parent, u->other, parent, name) != 0) {
                fprintf(stderr, "cog sandbox: cannot put /%s back: %s\n", u->path, strerror(errno));
                undo_failed = 1;
            }
            if (log) fprintf(log, "~%s\n", u->path);
            break;
        case UNDO_NONE: break;
        case UNDO_TIMES:
            futimens(parent, u->times);
            if (log) fprintf(log, "~%s\n", u->path);
            break;
        }
        close(parent);
    }
}

static void kill_command(int sig) {
    (void)sig;
    if (command_pid > 0) kill(-command_pid, SIGKILL);
    else stop_requested = 1; /* still putting mounts in place: the command never starts */
}

/* sandbox_fail while mounts are in place: they are taken back first. */
static void undo_before_failing(void) { undo_all(NULL); }

/* Kills and reaps every process left: the command's group, then whatever was reparented to this subreaper. */
static void kill_leftovers(void) {
    kill(-command_pid, SIGKILL);
    for (;;) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
        FILE *children = fopen(path, "re");
        int pid, any = 0;
        while (children && fscanf(children, "%d", &pid) == 1) { kill(pid, SIGKILL); any = 1; }
        if (children) fclose(children);
        if (!any && waitpid(-1, NULL, WNOHANG) <= 0) return;
        waitpid(-1, NULL, 0);
    }
}

int sandbox_run_chroot(struct options *o) {
    if (o->nlowers) { errno = 0; sandbox_fail("chroot isolation runs in a plain tree, not an overlay"); }
    if (strcmp(o->userns, "none") != 0 || strcmp(o->net, "host") != 0) { errno = 0; sandbox_fail("chroot isolation has no user or network namespace"); }
    undos = calloc(4 * MAX_ITEMS, sizeof *undos);
    rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat tree;
    if (!undos || rootfd < 0 || fstat(rootfd, &tree) != 0) sandbox_fail("open %s", o->root);
    FILE *log = sandbox_created_log;
    sandbox_created_log = NULL;
    signal(SIGINT, kill_command);
    signal(SIGTERM, kill_command);
    signal(SIGHUP, kill_command);
    sandbox_fail_hook = undo_before_failing;
    make_dev();
    for (int i = 0; i < o->ntmpfs; i++) {
        char parent_path[4096];
        const char *name, *target = o->tmpfs[i];
        while (*target == '/') target++;
        int parent = open_parent(target, parent_path, &name, 1);
        if (parent >= 0 && mkdirat(parent, name, 01777) == 0) record(UNDO_RMDIR, target, NULL);
        if (parent >= 0) close(parent);
    }
    for (int i = 0; i < o->nbinds; i++) place(o->binds[i], o->bind_kind[i], tree.st_dev);
    note_placed();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (stop_requested) {
        undo_all(log);
        return 128 + SIGTERM;
    }
    pid_t parent = getpid();
    command_pid = fork();
    if (command_pid < 0) sandbox_fail("fork");
    if (command_pid == 0) {
        sandbox_fail_hook = NULL; /* the parent takes the mounts back */
        /* If the sandbox dies, so does the command (whatever it left is killed by cog's clean-up of the tree). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(125);
        setsid();
        if (fchdir(rootfd) != 0 || chroot(".") != 0) sandbox_fail("chroot into %s", o->root);
        if (chdir(o->cwd) != 0 && chdir("/") != 0) sandbox_fail("chdir %s", o->cwd);
        sandbox_confine(o->seccomp, 0);
        o->env[o->nenv] = NULL;
        execvpe(o->command[0], o->command, o->env);
        fprintf(stderr, "cog sandbox: cannot run %s: %s\n", o->command[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(command_pid, &status, 0) < 0 && errno == EINTR) {}
    kill_leftovers();
    sandbox_fail_hook = NULL;
    undo_all(log);
    if (log) fclose(log);
    if (undo_failed) {
        fprintf(stderr, "cog sandbox: what was put into the tree for the command could not all be taken back\n");
        return 125;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
