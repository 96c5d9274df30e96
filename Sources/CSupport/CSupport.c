#define _GNU_SOURCE
#include "CSupport.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <locale.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int cog_open_in_root(int rootfd, const char *path, int flags, mode_t mode) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd < 0 && errno == EAGAIN) continue; /* the kernel asks for a retry after a concurrent rename */
        return (int)fd;
    }
}

int cog_mknod_at(int dirfd, const char *name, mode_t mode, unsigned int major, unsigned int minor) {
    return mknodat(dirfd, name, mode, makedev(major, minor));
}

const int COG_SEEK_DATA = SEEK_DATA;
const int COG_SEEK_HOLE = SEEK_HOLE;
const int COG_O_PATH = O_PATH;

unsigned int cog_dev_major(dev_t dev) { return major(dev); }
unsigned int cog_dev_minor(dev_t dev) { return minor(dev); }

int cog_spawn_closefrom(posix_spawn_file_actions_t *actions, int fd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, fd);
}

int cog_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

/* libarchive converts entry names between UTF-8 (PAX records) and the C library's locale. In the default "C"
   locale a non-ASCII name has no conversion, and the writer ends up with a null name. A UTF-8 character type
   makes every valid UTF-8 name convert as itself; names that are not UTF-8 still go through as raw bytes (the
   PAX writer marks them hdrcharset=BINARY). Set once, before any thread exists. */
static locale_t cog_c_locale;

__attribute__((constructor)) static void cog_utf8_names(void) {
    cog_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    const char *candidates[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (setlocale(LC_CTYPE, candidates[i])) return;
}

void *cog_use_c_locale(void) { return cog_c_locale ? (void *)uselocale(cog_c_locale) : NULL; }

void cog_restore_locale(void *previous) {
    if (previous) uselocale((locale_t)previous);
}

int cog_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cog_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
/* Removes the entry `name` of `dirfd` and, for a directory, everything in it, never following a symlink. */
static int remove_tree_at(int parent, const char *name) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    int fd = openat(parent, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return -1; }
    int result = 0;
    struct dirent *entry;
    while (result == 0 && (entry = readdir(dir))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        result = remove_tree_at(dirfd(dir), entry->d_name);
    }
    closedir(dir);
    if (result != 0) return -1;
    return unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

int cog_remove_beneath(int rootfd, const char *path, int only_if_empty) {
    char parent[4096];
    while (*path == '/') path++;
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || (size_t)(name - path) >= sizeof parent) { errno = EINVAL; return -1; }
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_DIRECTORY | O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd;
    while ((fd = syscall(SYS_openat2, rootfd, parent, &how, sizeof how)) < 0 && errno == EAGAIN) {}
    /* Missing, or reached through a symlink: there is no such path in the tree itself, so nothing to remove. */
    if (fd < 0) return errno == ENOENT || errno == ELOOP || errno == ENOTDIR || errno == EXDEV ? 0 : -1;
    int result = 0;
    if (!only_if_empty) result = remove_tree_at((int)fd, name);
    else {
        struct stat st;
        if (fstatat((int)fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode)) unlinkat((int)fd, name, AT_REMOVEDIR); /* fails, as it should, unless empty */
            else if (S_ISREG(st.st_mode) && st.st_size == 0) result = unlinkat((int)fd, name, 0);
        }
    }
    int saved = errno;
    close((int)fd);
    errno = saved;
    return result;
}
