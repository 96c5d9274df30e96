/* Shared by the sandbox and the user-namespace re-exec (not part of the public header). */
#ifndef COG_IDMAP_H
#define COG_IDMAP_H
#include <sys/types.h>

/* Maps `pid`'s user namespace with newuidmap/newgidmap: 0 = the caller, 1..COUNT = the subordinate ranges in
   `mode` ("subid:UID0:COUNT:GID0:COUNT"). 0 on success; -1 with the failing step named in *failed. */
int cog_map_subids(pid_t pid, const char *mode, const char **failed);

/* Waits (up to 5 s) until `pid` has left this process's user namespace. 0 on success. */
int cog_wait_for_userns(pid_t pid);
#endif
