/*
 * Rootless builds with a subordinate id range: cog re-executes itself inside one user namespace in which the
 * caller is root and ids 1..COUNT are the caller's range from /etc/subuid and /etc/subgid. Everything a build
 * does to the files it owns (unpacking layers with their owners, running steps, capturing and removing their
 * upper dirs) then happens in that namespace; from outside, those files belong to the subordinate ids, which
 * the caller cannot read or remove. Like the sandbox, this runs from a constructor, before any thread.
 *
 *   cog __userns subid:UID0:COUNT:GID0:COUNT -- PROGRAM ARGS...
 *
 * The child unshares, the parent (still outside) maps it with newuidmap/newgidmap, the child becomes root and
 * executes PROGRAM with COG_USERNS set to the mapping. The parent forwards signals and exits with the child's
 * status. When the mapping cannot be written, the parent runs PROGRAM itself, outside, with COG_ROOTLESS=single
 * (after a warning).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"

static pid_t userns_child = -1;
static volatile sig_atomic_t pending_signal = 0;

/* Forwards a signal to the child; one that comes before the child runs is acted on once the start is settled. */
static void forward_signal(int sig) {
    pending_signal = sig;
    if (userns_child > 0) kill(userns_child, sig);
}

/* Runs newuidmap/newgidmap for `pid`; 0 on success, else -1 with the failing tool's name in `failed`. */
int cog_map_subids(pid_t pid, const char *mode, const char **failed) {
    unsigned uid0, ucount, gid0, gcount;
    *failed = "the --userns argument";
    if (sscanf(mode, "subid:%u:%u:%u:%u", &uid0, &ucount, &gid0, &gcount) != 4) return -1;
    char spid[16], su[16], sg[16], sus[16], suc[16], sgs[16], sgc[16];
    snprintf(spid, sizeof spid, "%d", pid); snprintf(su, sizeof su, "%u", getuid()); snprintf(sg, sizeof sg, "%u", getgid());
    snprintf(sus, sizeof sus, "%u", uid0); snprintf(suc, sizeof suc, "%u", ucount);
    snprintf(sgs, sizeof sgs, "%u", gid0); snprintf(sgc, sizeof sgc, "%u", gcount);
    const char *tools[2][10] = {
        {"newuidmap", spid, "0", su, "1", "1", sus, suc, NULL},
        {"newgidmap", spid, "0", sg, "1", "1", sgs, sgc, NULL},
    };
    for (int t = 0; t < 2; t++) {
        pid_t p = fork();
        if (p == 0) { execvp(tools[t][0], (char *const *)tools[t]); _exit(127); }
        int status;
        if (p < 0 || waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            *failed = tools[t][0];
            return -1;
        }
    }
    return 0;
}

/* Waits (up to 5 s) until `pid` is in another user namespace than this process. */
int cog_wait_for_userns(pid_t pid) {
    char mine[64], theirs[64], path[64];
    ssize_t a = readlink("/proc/self/ns/user", mine, sizeof mine - 1);
    snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
    for (int i = 0; i < 5000; i++) {
        ssize_t b = readlink(path, theirs, sizeof theirs - 1);
        if (b < 0) return -1; /* the child is gone: it could not unshare */
        if (b != a || memcmp(mine, theirs, (size_t)b) != 0) return 0;
        usleep(1000);
    }
    return -1;
}

static int userns_main(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[1], "--") != 0) {
        fprintf(stderr, "cog: bad arguments to __userns (this entry point is internal to cog)\n");
        return 125;
    }
    const char *mode = argv[0];
    char **command = argv + 2;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int sync_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) { perror("cog: pipe"); return 125; }
    char parent[16];
    snprintf(parent, sizeof parent, "%d", (int)getpid()); /* taken before fork: getppid() in the child may already be a reaper */
    userns_child = fork();
    if (userns_child < 0) { perror("cog: fork"); return 125; }
    if (userns_child == 0) {
        close(sync_pipe[1]);
        if (unshare(CLONE_NEWUSER) != 0) _exit(125);
        char go = 0;
        if (read(sync_pipe[0], &go, 1) != 1 || go != 'x') _exit(125);
        if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) { perror("cog: become root in the user namespace"); _exit(125); }
        setenv("COG_USERNS", mode, 1);
        setenv("COG_USERNS_PARENT", parent, 1); /* see cog_userns_entry */
        execv(command[0], command);
        fprintf(stderr, "cog: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    close(sync_pipe[0]);
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) signal(signals[i], forward_signal);
    signal(SIGPIPE, SIG_IGN); /* a child that died early must not kill this process on the write below */
    const char *failed = NULL;
    int unshared = cog_wait_for_userns(userns_child) == 0;
    int mapped = unshared && cog_map_subids(userns_child, mode, &failed) == 0;
    if (!unshared) {
        fprintf(stderr, "cog: warning: cannot create a user namespace (are unprivileged user namespaces disabled, e.g. by "
                        "kernel.apparmor_restrict_unprivileged_userns?); trying without the subordinate id range\n");
    } else if (!mapped) {
        fprintf(stderr, "cog: warning: %s could not map the subordinate id range (%s); running with a single id mapping instead "
                        "(check /etc/subuid, /etc/subgid and that the uidmap package is installed)\n", failed, mode);
    }
    if (pending_signal) { /* Ctrl-C (or a kill) while starting: stop here, as the command would have */
        kill(userns_child, SIGKILL);
        while (waitpid(userns_child, NULL, 0) < 0 && errno == EINTR) {}
        signal(pending_signal, SIG_DFL);
        raise(pending_signal);
        return 128 + pending_signal;
    }
    if (!mapped) {
        /* Run outside, with the single mapping, in place of the child (which waits in an unmapped namespace). */
        kill(userns_child, SIGKILL);
        while (waitpid(userns_child, NULL, 0) < 0 && errno == EINTR) {}
        userns_child = -1;
        for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) signal(signals[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        setenv("COG_ROOTLESS", "single", 1);
        execv(command[0], command);
        fprintf(stderr, "cog: cannot run %s: %s\n", command[0], strerror(errno));
        return 127;
    }
    if (write(sync_pipe[1], "x", 1) != 1) { perror("cog: start"); return 125; }
    close(sync_pipe[1]);
    int status;
    while (waitpid(userns_child, &status, 0) < 0) { if (errno != EINTR) return 125; }
    userns_child = -1;
    if (WIFSIGNALED(status)) { /* die the same way, so a calling shell sees what killed the build */
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

/* Also runs in the program the child executed: ties it to the parent outside (if that one is killed, the build
   stops and takes its steps with it). Set here, after exec, because the id change before it clears the setting. */
__attribute__((constructor)) static void cog_userns_entry(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc > 1 && strcmp(argv[1], "__userns") == 0) _exit(userns_main(argc - 2, argv + 2));
    const char *parent = getenv("COG_USERNS_PARENT");
    if (parent) {
        pid_t expected = (pid_t)atoi(parent);
        unsetenv("COG_USERNS_PARENT");
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != expected) _exit(125);
    }
}
