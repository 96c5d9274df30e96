/*
 * A stand-in for NVIDIA's driver library (libcuda.so.1) on machines without a GPU, for tests only: it exports
 * the first calls a CUDA program makes and answers from the device nodes it finds, as the real driver starts
 * by opening them. cuInit opens /dev/nvidiactl and /dev/nvidia-uvm read-write and writes to them (the test's
 * nodes are /dev/null's numbers, so a usable node takes the byte); each /dev/nvidiaN that opens the same way
 * is one GPU. A node that is missing or unusable (a nodev mount, no permission) makes cuInit fail as the real
 * driver does, with the reason on standard error.
 *
 *   gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o libcuda.so.1 libcuda.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int CUresult;
typedef int CUdevice;
enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_NOT_INITIALIZED = 3, CUDA_ERROR_NO_DEVICE = 100,
       CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_UNKNOWN = 999 };

static char devices[64][32];
static int device_count = -1;

/* Opens `path` read-write and writes one byte, as using the device would. */
static int usable(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) { fprintf(stderr, "stand-in libcuda: open %s: %s\n", path, strerror(errno)); return 0; }
    int ok = write(fd, "x", 1) == 1;
    if (!ok) fprintf(stderr, "stand-in libcuda: write %s: %s\n", path, strerror(errno));
    close(fd);
    return ok;
}

static int by_name(const void *a, const void *b) {
    return atoi((const char *)a + 6) - atoi((const char *)b + 6);
}

CUresult cuInit(unsigned int flags) {
    (void)flags;
    if (!usable("/dev/nvidiactl")) return CUDA_ERROR_NO_DEVICE;
    /* Without nvidia-uvm the real driver fails the same way ("CUDA unknown error" in torch). */
    if (!usable("/dev/nvidia-uvm")) return CUDA_ERROR_UNKNOWN;
    DIR *dir = opendir("/dev");
    if (!dir) return CUDA_ERROR_NO_DEVICE;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) && count < 64) {
        const char *name = entry->d_name;
        size_t length = strlen(name);
        if (length >= 24 || strncmp(name, "nvidia", 6) != 0 || length == 6 || strspn(name + 6, "0123456789") != length - 6) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", name);
        if (!usable(path)) { closedir(dir); return CUDA_ERROR_NO_DEVICE; }
        memcpy(devices[count++], name, length + 1);
    }
    closedir(dir);
    qsort(devices, (size_t)count, sizeof devices[0], by_name);
    device_count = count;
    return count ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

CUresult cuDriverGetVersion(int *version) {
    if (!version) return CUDA_ERROR_INVALID_VALUE;
    *version = 12040;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
    if (device_count < 0) return CUDA_ERROR_NOT_INITIALIZED;
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = device_count;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    if (device_count < 0) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device || ordinal < 0 || ordinal >= device_count) return CUDA_ERROR_INVALID_DEVICE;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
    if (device_count < 0) return CUDA_ERROR_NOT_INITIALIZED;
    if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    if (device < 0 || device >= device_count) return CUDA_ERROR_INVALID_DEVICE;
    snprintf(name, (size_t)length, "Stand-in GPU on /dev/%s", devices[device]);
    return CUDA_SUCCESS;
}
