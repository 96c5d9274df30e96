/*
 * What a step keeps of root: Docker's default capability set, no_new_privs, and a seccomp filter (classic BPF,
 * no libseccomp) refusing the calls that reach past the step's own namespaces. The README's threat model says
 * why each is on the list.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* Docker's default capabilities (moby oci/caps/defaults.go). */
static const int kept_capabilities[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
    CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP,
};

/* Refused with EPERM whatever their arguments. */
static const int refused[] = {
    /* the mount table: only the sandbox arranges it */
    SYS_mount, SYS_umount2, SYS_pivot_root, SYS_move_mount, SYS_open_tree, SYS_fsopen, SYS_fsconfig, SYS_fsmount,
    SYS_fspick, SYS_mount_setattr,
    /* other namespaces: joining one (the flags of unshare and clone are checked below) */
    SYS_setns,
    /* the kernel itself: modules, kexec, BPF programs, performance counters, the kernel keyring, the log */
    SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_create_module, SYS_get_kernel_syms, SYS_query_module,
    SYS_kexec_load, SYS_kexec_file_load, SYS_bpf, SYS_perf_event_open, SYS_keyctl, SYS_add_key, SYS_request_key,
    SYS_syslog, SYS_lookup_dcookie, SYS_uselib, SYS__sysctl, SYS_ustat, SYS_sysfs, SYS_nfsservctl,
    /* the machine: power, swap, accounting, clocks, quotas, I/O ports, the terminal */
    SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct, SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime,
    SYS_adjtimex, SYS_quotactl, SYS_quotactl_fd, SYS_iopl, SYS_ioperm, SYS_vhangup,
    /* files by handle (the "shocker" escape reads host files through open_by_handle_at) */
    SYS_open_by_handle_at, SYS_name_to_handle_at,
    /* kernel attack surface without a use in builds (as Docker refuses them) */
    SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register, SYS_fanotify_init,
};

/* Namespace flags of clone (the low byte is the exit signal there, so CLONE_NEWTIME = 0x80 is unshare's only). */
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
/* personality(2) values Docker allows: the default, UNAME26, ADDR_NO_RANDOMIZE, both, and the query. */
static const uint32_t allowed_personalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* The filter being built: appended to by the helpers below. */
struct program { struct sock_filter code[256]; unsigned short length; };

static void stmt(struct program *p, unsigned short code, uint32_t k) {
    p->code[p->length++] = (struct sock_filter)BPF_STMT(code, k);
}
static void jump(struct program *p, uint32_t k, unsigned char if_true, unsigned char if_false) {
    p->code[p->length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, if_true, if_false);
}
static void ret(struct program *p, uint32_t value) { stmt(p, BPF_RET | BPF_K, value); }
static void load(struct program *p, uint32_t offset) { stmt(p, BPF_LD | BPF_W | BPF_ABS, offset); }
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define LOW_ARG(i) (uint32_t)offsetof(struct seccomp_data, args[i]) /* little endian: the low 32 bits */

/* Refuses `call` when its first argument has any of `flags`. */
static void refuse_flags(struct program *p, int call, uint32_t flags) {
    jump(p, (uint32_t)call, 0, 4);
    load(p, LOW_ARG(0));
    p->code[p->length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, flags, 0, 1);
    ret(p, ERRNO(EPERM));
    ret(p, SECCOMP_RET_ALLOW);
}

static void install_filter(int keep_chroot) {
    struct program p = {.length = 0};
    load(&p, (uint32_t)offsetof(struct seccomp_data, arch));
    /* Another ABI (i386 through int 0x80) has other numbers: a process that tries is killed. */
    jump(&p, AUDIT_ARCH_X86_64, 1, 0);
    ret(&p, SECCOMP_RET_KILL_PROCESS);
    load(&p, (uint32_t)offsetof(struct seccomp_data, nr));
    /* x32 numbers (bit 30 set) would pass every check below under another value. */
    p.code[p.length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
    ret(&p, ERRNO(EPERM));
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        jump(&p, (uint32_t)refused[i], 0, 1);
        ret(&p, ERRNO(EPERM));
    }
    /* Without a PID namespace (chroot isolation) the processes outside are visible: no tracing them, and no
       signal to every process at once (kill(-1)): cog and its sandbox would go with it. */
    if (!keep_chroot) {
        jump(&p, SYS_kill, 0, 4);
        load(&p, LOW_ARG(0));
        jump(&p, 0xffffffffu, 0, 1);
        ret(&p, ERRNO(EPERM));
        load(&p, (uint32_t)offsetof(struct seccomp_data, nr));
        int tracing[] = {SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp, SYS_pidfd_getfd};
        for (size_t i = 0; i < sizeof tracing / sizeof *tracing; i++) {
            jump(&p, (uint32_t)tracing[i], 0, 1);
            ret(&p, ERRNO(EPERM));
        }
    }
    /* clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall back to clone. */
    jump(&p, SYS_clone3, 0, 1);
    ret(&p, ERRNO(ENOSYS));
    /* clone and unshare: allowed unless they ask for a namespace. */
    refuse_flags(&p, SYS_clone, NAMESPACE_FLAGS);
    refuse_flags(&p, SYS_unshare, NAMESPACE_FLAGS | CLONE_NEWTIME);
    /* personality: only the values Docker allows (others turn off protections such as ASLR). */
    unsigned char np = sizeof allowed_personalities / sizeof *allowed_personalities;
    jump(&p, SYS_personality, 0, (unsigned char)(np + 3));
    load(&p, LOW_ARG(0));
    for (unsigned char i = 0; i < np; i++) jump(&p, allowed_personalities[i], (unsigned char)(np - i), 0);
    ret(&p, ERRNO(EPERM));
    ret(&p, SECCOMP_RET_ALLOW);
    ret(&p, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {.len = p.length, .filter = p.code};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) sandbox_fail("install the seccomp filter");
}

void sandbox_confine(int seccomp, int keep_chroot) {
    uint64_t kept = 0;
    for (size_t i = 0; i < sizeof kept_capabilities / sizeof *kept_capabilities; i++) kept |= 1ULL << kept_capabilities[i];
    /* Where chroot is the only wall (sandbox_chroot.c), a second chroot with `..` would lead out of it. */
    if (!keep_chroot) kept &= ~(1ULL << CAP_SYS_CHROOT);
    /* The bounding set is what a root process gets back at exec: cut it first. EINVAL: the kernel has no such
       cap; a cap already out of the set needs no CAP_SETPCAP to stay out. */
    for (int cap = 0; cap < 64; cap++) {
        if (kept & (1ULL << cap) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) sandbox_fail("drop capability %d from the bounding set", cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) sandbox_fail("clear the ambient capabilities");
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    /* Never more than this process has (a CI container may already have fewer than Docker's default). */
    if (syscall(SYS_capget, &header, data) != 0) sandbox_fail("read capabilities");
    kept &= (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
    data[0] = (struct __user_cap_data_struct){.effective = (uint32_t)kept, .permitted = (uint32_t)kept, .inheritable = 0};
    data[1] = (struct __user_cap_data_struct){
        .effective = (uint32_t)(kept >> 32), .permitted = (uint32_t)(kept >> 32), .inheritable = 0};
    if (syscall(SYS_capset, &header, data) != 0) sandbox_fail("set capabilities");
    /* setuid binaries (su, sudo) cannot give back what was cut; also what lets an unprivileged process filter. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) sandbox_fail("set no_new_privs");
    if (seccomp) install_filter(keep_chroot);
}

int cog_confinement_probe(void) {
    int found = 0;
    /* A forked child is single-threaded, so unshare(CLONE_NEWUSER) tells whether this kernel and its limits
       (user.max_user_namespaces, AppArmor) allow one. */
    pid_t child = fork();
    if (child == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int status;
    if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) found |= 1;
    /* A mount namespace with a mount in it: through a user namespace, or with CAP_SYS_ADMIN (neither in a
       default Docker or Kubernetes container, whose seccomp profile refuses unshare and mount). */
    child = fork();
    if (child == 0) {
        int alone = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 || unshare(CLONE_NEWNS) == 0;
        _exit(alone && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 ? 0 : 1);
    }
    if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) found |= 4;
    /* Filters are supported when a NULL program is refused as a bad address rather than an unknown mode. */
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL) != 0 && errno == EFAULT) found |= 2;
    return found;
}
