/* Shared by the parts of the sandbox (not part of the public header): see sandbox.c for the command line. */
#ifndef COG_SANDBOX_H
#define COG_SANDBOX_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define MAX_ITEMS 512

/* Kinds of --bind: read-write and read-only binds are nodev (a node a step makes there must not open); a device
   bind carries one host character device, usable (a GPU's /dev/nvidia0), on a mount of its own. */
enum { BIND_RW, BIND_RO, BIND_DEVICE };

struct options {
    const char *root, *upper, *work, *cwd, *hostname, *userns, *created_log, *net, *api_socket;
    const char *lowers[MAX_ITEMS]; int nlowers;
    const char *binds[MAX_ITEMS]; int bind_kind[MAX_ITEMS]; int nbinds; /* BIND_* */
    const char *tmpfs[MAX_ITEMS]; int ntmpfs;
    const char *publish[MAX_ITEMS]; int npublish;
    char *env[MAX_ITEMS + 1]; int nenv;
    int seccomp;
    int host_loopback; /* --host-loopback on: slirp4netns's 10.0.2.2 reaches the host's loopback (host.docker.internal) */
    int chroot_only; /* --isolation chroot: no namespace, no mount (see sandbox_chroot.c) */
    char **command;
};

/* Called once by sandbox_fail before it exits (chroot isolation takes back what it put into the tree). */
extern void (*sandbox_fail_hook)(void);
/* Prints "cog sandbox: <message>[: strerror(errno)]", runs the hook, and exits 125. */
__attribute__((noreturn, format(printf, 1, 2))) void sandbox_fail(const char *fmt, ...);

/* sandbox_root.c: assembles the step's root under o->root (overlay or the directory as is, /proc with the
   host-facing parts read-only or masked, a minimal /dev, read-only /sys, tmpfs, binds), then makes it the root
   of this mount namespace with pivot_root and detaches the host's tree. */
void sandbox_enter_root(const struct options *o);
/* The file mount points are logged to (the caller removes them from the upper dir), or NULL. */
extern FILE *sandbox_created_log;

/* sandbox_confine.c: cuts capabilities to Docker's default set (bounding, permitted, effective; inheritable and
   ambient cleared), less CAP_SYS_CHROOT unless `keep_chroot`, sets no_new_privs and, when `seccomp`, installs the
   syscall filter. Inherited by children. */
void sandbox_confine(int seccomp, int keep_chroot);

/* sandbox_root.c: openat2 below `dirfd`: in_root resolves symlinks and `..` as if dirfd were /; otherwise no
   symlink at all. */
int sandbox_open_below(int dirfd, const char *path, int flags, int in_root);

/* sandbox_chroot.c: runs o->command with chroot only (no namespace, no mount) and returns its exit status. */
int sandbox_run_chroot(struct options *o);

/* sandbox_net.c: starts slirp4netns for the network namespace of `pid` (whose user namespace it joins when
   `join_userns`) and publishes the ports of o->publish through its API socket. Returns its pid; the network
   goes away when `exit_fd` (the write end kept by the caller) is closed. */
pid_t sandbox_start_slirp(const struct options *o, pid_t pid, int join_userns, int *exit_fd);
/* Brings up `lo` in this network namespace. */
void sandbox_loopback_up(void);
#endif
