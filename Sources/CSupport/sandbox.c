/*
 * The build sandbox: runs one command with an image's filesystem as its root, in new mount, PID, IPC, UTS,
 * cgroup, network and user namespaces, with capabilities cut to Docker's default set, no_new_privs and a seccomp filter
 * (see the README's threat model). It lives in C and runs from a constructor, before the Swift runtime starts
 * any thread, because unshare(CLONE_NEWUSER) refuses a multi-threaded process.
 *
 *   cog __sandbox [options] -- command...
 *     --root DIR               where the root filesystem is mounted (an existing empty directory)
 *     --lower DIR              an overlay lower dir, top-most first (repeatable); without any, --root is used as is
 *     --upper DIR --work DIR   the overlay upper and work dirs (the step's changes land in DIR)
 *     --bind SRC:DST | --ro-bind SRC:DST   bind mounts (nodev); DST is inside the root, created when missing
 *     --dev-bind SRC:DST       a host character device (a GPU's node), usable: a mount of its own without nodev
 *     --tmpfs DST              a fresh tmpfs
 *     --cwd DIR  --hostname NAME  --setenv K=V (the environment starts empty)
 *     --userns none|single|identity
 *                              identity: a new user namespace mapping every id this process has to itself (as
 *                                root, or inside cog's subordinate-range namespace: owners on disk are unchanged,
 *                                and root inside has no capability over the host)
 *                              single: a new user namespace mapping only the caller, as root (rootless without a
 *                                subordinate range)
 *                              none: no user namespace (where none can be created; capabilities are still cut)
 *     --net slirp|none|host    slirp: a network namespace of its own, outbound through slirp4netns (no access
 *                              to the host's loopback); none: only a loopback; host: the host's network
 *     --host-loopback on|off   on: with slirp, 10.0.2.2 reaches the host's loopback (the served model's
 *                              host.docker.internal, as Cog's serve --upload-url gives it); off by default
 *     --publish ADDR:PORT:GUESTPORT  forward ADDR:PORT on the host to the sandbox's GUESTPORT (tcp; slirp only)
 *     --api-socket PATH        slirp4netns's API socket (needed with --publish)
 *     --seccomp on|off         the syscall filter (off only where the kernel has none)
 *     --isolation namespaces|chroot   chroot: where no namespace and no mount can be made (a CI container as
 *                              root under a default seccomp profile): see sandbox_chroot.c
 *     --created-log FILE       mount points the sandbox had to create (the caller removes them from the upper)
 *
 * Processes: this one (outside every namespace: maps ids, runs slirp4netns, forwards signals) → a child that
 * unshares the namespaces → PID 1 of the new PID namespace, which assembles the root, pivots into it, confines
 * itself and runs the command, reaping orphans.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

static pid_t child_pid = -1;
FILE *sandbox_created_log = NULL;
void (*sandbox_fail_hook)(void) = NULL;

void sandbox_fail(const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    fputs("cog sandbox: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (saved) fprintf(stderr, ": %s", strerror(saved));
    fputc('\n', stderr);
    va_end(ap);
    void (*hook)(void) = sandbox_fail_hook;
    sandbox_fail_hook = NULL;
    if (hook) hook();
    _exit(125);
}

static void forward_kill(int sig) {
    (void)sig;
    if (child_pid > 0) kill(child_pid, SIGKILL);
}

static int parse(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->userns = "none";
    o->net = "host";
    o->cwd = "/";
    o->seccomp = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) { o->command = argv + i + 1; return argc - i - 1 > 0 ? 0 : -1; }
        if (!v) return -1;
        if (strcmp(a, "--root") == 0) o->root = v;
        else if (strcmp(a, "--lower") == 0 && o->nlowers < MAX_ITEMS) o->lowers[o->nlowers++] = v;
        else if (strcmp(a, "--upper") == 0) o->upper = v;
        else if (strcmp(a, "--work") == 0) o->work = v;
        else if ((strcmp(a, "--bind") == 0 || strcmp(a, "--ro-bind") == 0 || strcmp(a, "--dev-bind") == 0) && o->nbinds < MAX_ITEMS) {
            o->bind_kind[o->nbinds] = a[2] == 'r' ? BIND_RO : a[2] == 'd' ? BIND_DEVICE : BIND_RW;
            o->binds[o->nbinds++] = v;
        }
        else if (strcmp(a, "--tmpfs") == 0 && o->ntmpfs < MAX_ITEMS) o->tmpfs[o->ntmpfs++] = v;
        else if (strcmp(a, "--cwd") == 0) o->cwd = v;
        else if (strcmp(a, "--hostname") == 0) o->hostname = v;
        else if (strcmp(a, "--setenv") == 0 && o->nenv < MAX_ITEMS) o->env[o->nenv++] = (char *)v;
        else if (strcmp(a, "--userns") == 0) o->userns = v;
        else if (strcmp(a, "--net") == 0) o->net = v;
        else if (strcmp(a, "--publish") == 0 && o->npublish < MAX_ITEMS) o->publish[o->npublish++] = v;
        else if (strcmp(a, "--api-socket") == 0) o->api_socket = v;
        else if (strcmp(a, "--host-loopback") == 0 && (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)) o->host_loopback = v[1] == 'n';
        else if (strcmp(a, "--seccomp") == 0 && (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)) o->seccomp = v[1] == 'n';
        else if (strcmp(a, "--created-log") == 0) o->created_log = v;
        else if (strcmp(a, "--isolation") == 0 && (strcmp(v, "chroot") == 0 || strcmp(v, "namespaces") == 0)) o->chroot_only = v[0] == 'c';
        else return -1;
        i++;
    }
    return -1;
}

/* PID 1 of the new PID namespace: builds the root, confines itself (the command inherits it), runs the command,
   reaps orphans while it runs, and exits with the command's status as soon as the command ends: what it left
   running in the background (`sleep 1000 &`) is killed then, as Docker ends a RUN step when its command exits
   (the kernel kills every process of a PID namespace whose PID 1 exits). */
static int run_init(struct options *o, int own_network) {
    sandbox_enter_root(o);
    if (own_network) sandbox_loopback_up();
    sandbox_confine(o->seccomp, 1);
    /* Nothing in the sandbox may trace or read the memory of its PID 1. */
    prctl(PR_SET_DUMPABLE, 0);
    pid_t command = fork();
    if (command < 0) sandbox_fail("fork");
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
        if (done == command) {
            result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
    }
    kill(-1, SIGKILL); /* everything else in this PID namespace */
    return result;
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) sandbox_fail("write %s", path);
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

/* Maps every id this process's own namespace has to itself in the child's (as root: 0 0 4294967295), so files
   keep their owners while the child's capabilities stop at its own namespaces. */
static void map_identity(pid_t pid) {
    const char *kinds[] = {"uid_map", "gid_map"};
    for (int k = 0; k < 2; k++) {
        char path[64], line[128], text[4096];
        size_t n = 0;
        snprintf(path, sizeof path, "/proc/self/%s", kinds[k]);
        FILE *mine = fopen(path, "re");
        if (!mine) sandbox_fail("read %s", path);
        unsigned long inside, outside, count;
        while (fgets(line, sizeof line, mine) && sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && n < sizeof text - 64)
            n += (size_t)snprintf(text + n, sizeof text - n, "%lu %lu %lu\n", inside, inside, count);
        fclose(mine);
        if (n == 0) { errno = 0; sandbox_fail("%s maps no ids", path); }
        snprintf(path, sizeof path, "/proc/%d/%s", pid, kinds[k]);
        write_file(path, text);
    }
}

int cog_sandbox_main(int argc, char **argv) {
    struct options o;
    if (parse(argc, argv, &o) != 0 || !o.root || (o.nlowers && (!o.upper != !o.work))) {
        fprintf(stderr, "cog sandbox: bad arguments (this entry point is internal to cog)\n");
        return 125;
    }
    errno = 0;
    int identity = strcmp(o.userns, "identity") == 0, single = strcmp(o.userns, "single") == 0;
    if (!identity && !single && strcmp(o.userns, "none") != 0) sandbox_fail("bad --userns %s", o.userns);
    int slirp = strcmp(o.net, "slirp") == 0, own_network = slirp || strcmp(o.net, "none") == 0;
    if (!own_network && strcmp(o.net, "host") != 0) sandbox_fail("bad --net %s", o.net);
    if (o.npublish && (!slirp || !o.api_socket)) sandbox_fail("--publish needs --net slirp and --api-socket");
    if (o.created_log && !(sandbox_created_log = fopen(o.created_log, "we"))) sandbox_fail("open %s", o.created_log);
    /* Threads of the caller (libdispatch workers) block signals, and a spawned child inherits that mask. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* If cog itself dies (kill -9), everything below goes with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (o.chroot_only) return sandbox_run_chroot(&o);
    int use_userns = identity || single;
    int unshared_pipe[2], go_pipe[2];
    if (pipe2(unshared_pipe, O_CLOEXEC) != 0 || pipe2(go_pipe, O_CLOEXEC) != 0) sandbox_fail("pipe");
    signal(SIGINT, forward_kill);
    signal(SIGTERM, forward_kill);
    signal(SIGHUP, forward_kill);

    child_pid = fork();
    if (child_pid < 0) sandbox_fail("fork");
    if (child_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(unshared_pipe[0]);
        close(go_pipe[1]);
        /* A session of its own, without a controlling terminal: a step that opens /dev/tty (a password prompt)
           fails at once instead of stopping the whole sandbox with SIGTTIN. */
        setsid();
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | (use_userns ? CLONE_NEWUSER : 0)
                  | (own_network ? CLONE_NEWNET : 0);
        if (unshare(flags) != 0) sandbox_fail("create namespaces (user namespaces disabled?)");
        if (write(unshared_pipe[1], "u", 1) != 1) _exit(125);
        char go;
        if (read(go_pipe[0], &go, 1) != 1) _exit(125); /* the parent maps ids and starts the network, then writes */
        if (use_userns && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)) sandbox_fail("become root in the user namespace");
        if (identity && setgroups(0, NULL) != 0) sandbox_fail("clear supplementary groups");
        pid_t init = fork();
        if (init < 0) sandbox_fail("fork");
        if (init == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(run_init(&o, own_network));
        }
        int status;
        while (waitpid(init, &status, 0) < 0 && errno == EINTR) {}
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    close(unshared_pipe[1]);
    close(go_pipe[0]);
    if (sandbox_created_log) { fclose(sandbox_created_log); sandbox_created_log = NULL; }
    int status;
    char unshared;
    ssize_t got;
    while ((got = read(unshared_pipe[0], &unshared, 1)) < 0 && errno == EINTR) {}
    close(unshared_pipe[0]);
    if (got != 1) { /* the child could not unshare; it said why */
        while (waitpid(child_pid, &status, 0) < 0 && errno == EINTR) {}
        return 125;
    }
    if (single) map_single(child_pid);
    if (identity) map_identity(child_pid);
    int slirp_exit = -1;
    pid_t slirp_pid = slirp ? sandbox_start_slirp(&o, child_pid, use_userns, &slirp_exit) : -1;
    if (write(go_pipe[1], "x", 1) != 1) sandbox_fail("start the sandbox");
    close(go_pipe[1]);
    while (waitpid(child_pid, &status, 0) < 0) { if (errno != EINTR) sandbox_fail("wait"); }
    if (slirp_pid > 0) { /* closing its exit fd stops slirp4netns */
        close(slirp_exit);
        while (waitpid(slirp_pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs before main (and before any thread) when the binary is re-executed as the sandbox. */
__attribute__((constructor)) static void cog_sandbox_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc > 1 && strcmp(argv[1], "__sandbox") == 0) _exit(cog_sandbox_main(argc - 2, argv + 2));
}

int cog_sandbox_linked(void) { return 1; }
