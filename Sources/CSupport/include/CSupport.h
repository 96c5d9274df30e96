#ifndef COG_CSUPPORT_H
#define COG_CSUPPORT_H
#include <sys/types.h>
#include <sys/xattr.h>

/// Opens `path` below the directory `rootfd` with every symlink resolved as if `rootfd` were `/`
/// (openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so no path can lead outside it.
/// Returns a file descriptor, or -1 with errno set.
int cog_open_in_root(int rootfd, const char *path, int flags, mode_t mode);

/// Removes `path` below the directory `rootfd` (recursively, or with `only_if_empty` an empty directory or empty
/// file only), never following a symlink: when a step replaced a directory on the way by a symlink (to a host
/// path, say), nothing is removed. Returns 0, also when there is nothing to remove, or -1 with errno set.
int cog_remove_beneath(int rootfd, const char *path, int only_if_empty);

/// Creates a character device node (whiteouts in overlay upper dirs are 0/0).
int cog_mknod_at(int dirfd, const char *name, mode_t mode, unsigned int major, unsigned int minor);

/// Constants glibc keeps behind _GNU_SOURCE: lseek's SEEK_DATA and SEEK_HOLE (sparse files) and open's O_PATH.
extern const int COG_SEEK_DATA;
extern const int COG_SEEK_HOLE;
extern const int COG_O_PATH;

/// Switches the calling thread to the C locale and returns the locale it had, for `cog_restore_locale`.
/// libarchive's tar reader converts UTF-8 names in PAX records to the locale's charset, normalizing them to NFC on
/// the way (a name in NFD would come out as other bytes); in the C locale that conversion fails for any name that
/// is not ASCII, and libarchive keeps the header's bytes as they are.
void *cog_use_c_locale(void);
void cog_restore_locale(void *previous);

/// Major and minor numbers of a device id.
unsigned int cog_dev_major(dev_t dev);
unsigned int cog_dev_minor(dev_t dev);
#include <spawn.h>

/// posix_spawn file actions glibc keeps behind _GNU_SOURCE: close every descriptor from `fd` up, and chdir.
int cog_spawn_closefrom(posix_spawn_file_actions_t *actions, int fd);
int cog_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// A descriptor that becomes readable when process `pid` exits (pidfd_open), or -1 with errno set.
int cog_pidfd_open(pid_t pid);

/// A non-blocking, close-on-exec eventfd, or -1 with errno set.
int cog_eventfd(void);
/// What confinement this kernel allows (tried once, in a forked child): bit 0, a new user namespace; bit 1,
/// seccomp filters; bit 2, a mount namespace with mounts in it (through a user namespace or with CAP_SYS_ADMIN).
int cog_confinement_probe(void);

/// Always 1: referencing it links the sandbox entry point (`cog __sandbox …`, see sandbox.c) into the binary.
int cog_sandbox_linked(void);
#endif
