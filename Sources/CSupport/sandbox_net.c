/*
 * The sandbox's network: a namespace of its own whose only way out is slirp4netns, a user-mode TCP/IP stack
 * that makes the sandbox's connections from the host's sockets (so proxies, CAs and DNS behave as on the host)
 * and refuses the host's loopback (--disable-host-loopback). Published ports are forwarded through its API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

void sandbox_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) sandbox_fail("read the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) sandbox_fail("bring up lo");
    close(s);
}

/* Sends one request to slirp4netns's API socket; the reply goes to `reply`. */
static void api_request(const char *socket_path, const char *request, char *reply, size_t size) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; sandbox_fail("slirp4netns API socket %s", socket_path); }
    snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) sandbox_fail("connect to slirp4netns at %s", socket_path);
    size_t length = strlen(request);
    if (write(fd, request, length) != (ssize_t)length) sandbox_fail("write to slirp4netns");
    shutdown(fd, SHUT_WR); /* the API answers once the request is complete */
    size_t n = 0;
    ssize_t got;
    while (n + 1 < size && ((got = read(fd, reply + n, size - n - 1)) > 0 || (got < 0 && errno == EINTR))) if (got > 0) n += (size_t)got;
    reply[n] = 0;
    close(fd);
}

/* ADDR:PORT:GUESTPORT, ADDR an IPv4 address (it goes into JSON as it is, so nothing else is accepted). */
static void publish(const char *socket_path, const char *spec) {
    char address[64], request[512], reply[1024];
    unsigned port, guest;
    int used = 0;
    errno = 0;
    if (sscanf(spec, "%63[0-9.]:%u:%u%n", address, &port, &guest, &used) != 3 || spec[used] != 0 || port > 65535 || guest > 65535)
        sandbox_fail("--publish needs IPV4ADDRESS:PORT:GUESTPORT, got %s", spec);
    snprintf(request, sizeof request, "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", \"host_addr\": \"%s\", "
             "\"host_port\": %u, \"guest_port\": %u}}", address, port, guest);
    api_request(socket_path, request, reply, sizeof reply);
    if (!strstr(reply, "\"return\"")) { errno = 0; sandbox_fail("slirp4netns could not publish %s:%u (is the port in use?): %s", address, port, reply); }
}

pid_t sandbox_start_slirp(const struct options *o, pid_t pid, int join_userns, int *exit_fd) {
    int ready[2], stop[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(stop, O_CLOEXEC) != 0) sandbox_fail("pipe");
    int log = memfd_create("slirp4netns-output", MFD_CLOEXEC);
    if (log < 0) sandbox_fail("memfd_create");
    pid_t slirp = fork();
    if (slirp < 0) sandbox_fail("fork");
    if (slirp == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* and the exit fd closes when this sandbox goes */
        if (fcntl(ready[1], F_SETFD, 0) != 0 || fcntl(stop[0], F_SETFD, 0) != 0) _exit(126);
        /* Its progress lines would mix with the step's output: they go to a file read only if it fails. */
        if (dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
        char ready_arg[32], exit_arg[32], userns_arg[64], target[16];
        snprintf(ready_arg, sizeof ready_arg, "--ready-fd=%d", ready[1]);
        snprintf(exit_arg, sizeof exit_arg, "--exit-fd=%d", stop[0]);
        snprintf(userns_arg, sizeof userns_arg, "--userns-path=/proc/%d/ns/user", pid);
        snprintf(target, sizeof target, "%d", pid);
        const char *argv[16];
        int n = 0;
        argv[n++] = "slirp4netns";
        argv[n++] = "--configure";
        argv[n++] = "--mtu=65520";
        if (!o->host_loopback) argv[n++] = "--disable-host-loopback";
        argv[n++] = ready_arg;
        argv[n++] = exit_arg;
        if (join_userns) argv[n++] = userns_arg;
        if (o->api_socket) { argv[n++] = "--api-socket"; argv[n++] = o->api_socket; }
        argv[n++] = target;
        argv[n++] = "tap0";
        argv[n] = NULL;
        execvp(argv[0], (char *const *)argv);
        dprintf(log, "cannot run slirp4netns: %s", strerror(errno));
        _exit(127);
    }
    close(ready[1]);
    close(stop[0]);
    char c;
    ssize_t got;
    while ((got = read(ready[0], &c, 1)) < 0 && errno == EINTR) {}
    close(ready[0]);
    if (got != 1) {
        int status = 0;
        while (waitpid(slirp, &status, 0) < 0 && errno == EINTR) {}
        char output[2048];
        ssize_t length = pread(log, output, sizeof output - 1, 0);
        output[length > 0 ? length : 0] = 0;
        errno = 0;
        sandbox_fail("slirp4netns did not start (exit status %d: %s); --network host runs without it",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output);
    }
    close(log);
    for (int i = 0; i < o->npublish; i++) publish(o->api_socket, o->publish[i]);
    *exit_fd = stop[1];
    return slirp;
}
