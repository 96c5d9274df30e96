/*
 * The build sandbox: runs one command with an image's filesystem as its root, in new mount, PID, IPC and UTS
 * namespaces (and a user namespace when not root). It lives in C and runs from a constructor, before the Swift
 * runtime starts any thread, because unshare(CLONE_NEWUSER) refuses a multi-threaded process.
 *
 *   cog __sandbox [options] -- command...
 *     --root DIR               where the root filesystem is mounted (an existing empty directory)
 *     --lower DIR              an overlay lower dir, top-most first (repeatable); without any, --root is used as is
 *     --upper DIR --work DIR   the overlay upper and work dirs (the step's changes land in DIR)
 *     --bind SRC:DST | --ro-bind SRC:DST   bind mounts; DST is inside the root, created when missing
 *     --tmpfs DST              a fresh tmpfs
 *     --cwd DIR  --hostname NAME  --setenv K=V (the environment starts empty)
 *     --userns none|single   single: a new user namespace mapping only the caller, as root (rootless without
 *                            a subordinate range; with one, cog already runs inside its namespace: see userns.c)
 *     --created-log FILE       mount points the sandbox had to create (the caller removes them from the upper)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"

#define MAX_ITEMS 512

struct options {
    const char *root, *upper, *work, *cwd, *hostname, *userns, *created_log;
    const char *lowers[MAX_ITEMS]; int nlowers;
    const char *binds[MAX_ITEMS]; int bind_ro[MAX_ITEMS]; int nbinds;
    const char *tmpfs[MAX_ITEMS]; int ntmpfs;
    char *env[MAX_ITEMS + 1]; int nenv;
    char **command;
};

static pid_t child_pid = -1;
static FILE *created_log = NULL;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cog sandbox: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (errno) fprintf(stderr, ": %s", strerror(errno));
    fputc('\n', stderr);
    va_end(ap);
    _exit(125);
}

static void forward_kill(int sig) {
    (void)sig;
    if (child_pid > 0) kill(child_pid, SIGKILL);
}

static int parse(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->userns = "none";
    o->cwd = "/";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) { o->command = argv + i + 1; return argc - i - 1 > 0 ? 0 : -1; }
        if (!v) return -1;
        if (strcmp(a, "--root") == 0) o->root = v;
        else if (strcmp(a, "--lower") == 0 && o->nlowers < MAX_ITEMS) o->lowers[o->nlowers++] = v;
        else if (strcmp(a, "--upper") == 0) o->upper = v;
        else if (strcmp(a, "--work") == 0) o->work = v;
        else if ((strcmp(a, "--bind") == 0 || strcmp(a, "--ro-bind") == 0) && o->nbinds < MAX_ITEMS) {
            o->bind_ro[o->nbinds] = a[2] == 'r'; o->binds[o->nbinds++] = v;
        }
        else if (strcmp(a, "--tmpfs") == 0 && o->ntmpfs < MAX_ITEMS) o->tmpfs[o->ntmpfs++] = v;
        else if (strcmp(a, "--cwd") == 0) o->cwd = v;
        else if (strcmp(a, "--hostname") == 0) o->hostname = v;
        else if (strcmp(a, "--setenv") == 0 && o->nenv < MAX_ITEMS) o->env[o->nenv++] = (char *)v;
        else if (strcmp(a, "--userns") == 0) o->userns = v;
        else if (strcmp(a, "--created-log") == 0) o->created_log = v;
        else return -1;
        i++;
    }
    return -1;
}

/* Joins root and an absolute path inside it. */
static void inside(char *out, size_t size, const char *root, const char *path) {
    snprintf(out, size, "%s/%s", root, path[0] == '/' ? path + 1 : path);
}

static void note_created(const char *path) {
    if (created_log) { fprintf(created_log, "%s\n", path); fflush(created_log); }
}

/* Creates DST (a directory, or an empty file when the source is not a directory) and its parents. */
static void make_target(const char *root, const char *dst, int directory) {
    char path[4096], partial[4096];
    inside(path, sizeof path, root, dst);
    struct stat st;
    if (lstat(path, &st) == 0) return;
    size_t rootlen = strlen(root);
    for (char *p = path + rootlen + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) == 0) note_created(path + rootlen);
        *p = '/';
    }
    snprintf(partial, sizeof partial, "%s", path);
    if (directory) { if (mkdir(partial, 0755) != 0 && errno != EEXIST) fail("create mount point %s", dst); }
    else {
        int fd = open(partial, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) fail("create mount point %s", dst);
        close(fd);
    }
    note_created(path + rootlen);
}

static void bind(const char *root, const char *spec, int readonly) {
    char src[4096], target[4096];
    const char *colon = strchr(spec, ':');
    if (!colon) { errno = 0; fail("--bind needs SRC:DST, got %s", spec); }
    snprintf(src, sizeof src, "%.*s", (int)(colon - spec), spec);
    struct stat st;
    if (stat(src, &st) != 0) fail("bind source %s", src);
    make_target(root, colon + 1, S_ISDIR(st.st_mode));
    inside(target, sizeof target, root, colon + 1);
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) != 0) fail("bind %s", spec);
    if (readonly && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0
        && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) fail("make %s read-only", spec);
}

static void mount_overlay(const struct options *o, int userxattr) {
    int fs = (int)syscall(SYS_fsopen, "overlay", 0);
    if (fs >= 0) {
        int ok = 1;
        for (int i = 0; i < o->nlowers && ok; i++)
            ok = syscall(SYS_fsconfig, fs, 1 /* FSCONFIG_SET_STRING */, "lowerdir+", o->lowers[i], 0) == 0;
        if (ok && o->upper) ok = syscall(SYS_fsconfig, fs, 1, "upperdir", o->upper, 0) == 0
                              && syscall(SYS_fsconfig, fs, 1, "workdir", o->work, 0) == 0;
        if (ok && userxattr) ok = syscall(SYS_fsconfig, fs, 0 /* FSCONFIG_SET_FLAG */, "userxattr", NULL, 0) == 0;
        if (ok) ok = syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0) == 0;
        if (ok) {
            int mnt = (int)syscall(SYS_fsmount, fs, 0, 0);
            if (mnt >= 0 && syscall(SYS_move_mount, mnt, "", AT_FDCWD, o->root, 4 /* MOVE_MOUNT_F_EMPTY_PATH */) == 0) {
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
    if (userxattr) snprintf(data + n, sizeof data - n, ",userxattr");
    if (mount("overlay", o->root, "overlay", 0, data) != 0) fail("mount the overlay at %s", o->root);
}

static void setup_dev(const char *root) {
    char dev[4096], path[4096];
    make_target(root, "/dev", 1);
    inside(dev, sizeof dev, root, "/dev");
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755") != 0) fail("mount /dev");
    const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        char host[64];
        snprintf(host, sizeof host, "/dev/%s", nodes[i]);
        snprintf(path, sizeof path, "%s/%s", dev, nodes[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd >= 0) close(fd);
        if (mount(host, path, NULL, MS_BIND, NULL) != 0) fail("bind %s", host);
    }
    const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < 4; i++) { snprintf(path, sizeof path, "%s/%s", dev, links[i][1]); symlink(links[i][0], path); }
    snprintf(path, sizeof path, "%s/shm", dev);
    mkdir(path, 01777);
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    snprintf(path, sizeof path, "%s/pts", dev);
    mkdir(path, 0755);
}

/* PID 1 of the new PID namespace: runs the command, reaps every orphan, exits with the command's status. */
static int run_init(struct options *o) {
    const char *root = o->root;
    char path[4096];
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("make mounts private");
    int userxattr = 1; /* one layer-store format for root and rootless: user.overlay.* xattrs */
    if (o->nlowers > 0) mount_overlay(o, userxattr);
    make_target(root, "/proc", 1);
    inside(path, sizeof path, root, "/proc");
    if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) fail("mount /proc");
    setup_dev(root);
    make_target(root, "/sys", 1);
    inside(path, sizeof path, root, "/sys");
    if (mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) == 0)
        mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    for (int i = 0; i < o->ntmpfs; i++) {
        make_target(root, o->tmpfs[i], 1);
        inside(path, sizeof path, root, o->tmpfs[i]);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) fail("mount tmpfs at %s", o->tmpfs[i]);
    }
    for (int i = 0; i < o->nbinds; i++) bind(root, o->binds[i], o->bind_ro[i]);
    if (o->hostname) sethostname(o->hostname, strlen(o->hostname));
    if (created_log) { fclose(created_log); created_log = NULL; }
    if (chroot(root) != 0) fail("chroot %s", root);
    if (chdir(o->cwd) != 0 && chdir("/") != 0) fail("chdir");

    pid_t command = fork();
    if (command < 0) fail("fork");
    if (command == 0) {
        o->env[o->nenv] = NULL;
        execvpe(o->command[0], o->command, o->env);
        fprintf(stderr, "cog sandbox: cannot run %s: %s\n", o->command[0], strerror(errno));
        _exit(127);
    }
    int status = 0, result = 1;
    for (;;) {
        pid_t done = wait(&status);
        if (done < 0) { if (errno == EINTR) continue; break; }
        if (done == command) result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return result;
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) fail("write %s", path);
    close(fd);
}

/* Maps the child's user namespace from outside it: the caller becomes root, nothing else is mapped. */
static void map_single(pid_t pid) {
    char path[64], text[128];
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    write_file(path, "deny");
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    snprintf(text, sizeof text, "0 %u 1\n", getuid());
    write_file(path, text);
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    snprintf(text, sizeof text, "0 %u 1\n", getgid());
    write_file(path, text);
}

int cog_sandbox_main(int argc, char **argv) {
    struct options o;
    if (parse(argc, argv, &o) != 0 || !o.root || (o.nlowers && (!o.upper != !o.work))) {
        fprintf(stderr, "cog sandbox: bad arguments (this entry point is internal to cog)\n");
        return 125;
    }
    if (o.created_log && !(created_log = fopen(o.created_log, "we"))) fail("open %s", o.created_log);
    /* Threads of the caller (libdispatch workers) block signals, and a spawned child inherits that mask. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* If cog itself dies (kill -9), everything below goes with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (strcmp(o.userns, "none") != 0 && strcmp(o.userns, "single") != 0) { errno = 0; fail("bad --userns %s", o.userns); }
    int use_userns = strcmp(o.userns, "single") == 0;
    int sync_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) fail("pipe");
    signal(SIGINT, forward_kill);
    signal(SIGTERM, forward_kill);
    signal(SIGHUP, forward_kill);

    child_pid = fork();
    if (child_pid < 0) fail("fork");
    if (child_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(sync_pipe[1]);
        /* A session of its own, without a controlling terminal: a step that opens /dev/tty (a password prompt)
           fails at once instead of stopping the whole sandbox with SIGTTIN. */
        setsid();
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (use_userns ? CLONE_NEWUSER : 0);
        if (unshare(flags) != 0) fail("create namespaces (user namespaces disabled?)");
        char go;
        if (read(sync_pipe[0], &go, 1) != 1) _exit(125); /* the parent maps ids, then writes one byte */
        if (use_userns && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)) fail("become root in the user namespace");
        pid_t init = fork();
        if (init < 0) fail("fork");
        if (init == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(run_init(&o));
        }
        int status;
        while (waitpid(init, &status, 0) < 0 && errno == EINTR) {}
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    close(sync_pipe[0]);
    if (created_log) { fclose(created_log); created_log = NULL; }
    /* The child must have unshared before its ids can be mapped. */
    if (use_userns) {
        if (cog_wait_for_userns(child_pid) != 0) { errno = 0; fail("the sandbox did not create its user namespace"); }
        map_single(child_pid);
    }
    if (write(sync_pipe[1], "x", 1) != 1) fail("start the sandbox");
    close(sync_pipe[1]);
    int status;
    while (waitpid(child_pid, &status, 0) < 0) { if (errno != EINTR) fail("wait"); }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs before main (and before any thread) when the binary is re-executed as the sandbox. */
__attribute__((constructor)) static void cog_sandbox_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc > 1 && strcmp(argv[1], "__sandbox") == 0) _exit(cog_sandbox_main(argc - 2, argv + 2));
}

int cog_sandbox_linked(void) { return 1; }
