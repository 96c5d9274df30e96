#ifndef COG_CARCHIVE_SHIM_H
#define COG_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* The AE_IF* macros are casts Swift cannot import; give them as constants. */
static const unsigned int COG_AE_IFREG = AE_IFREG;
static const unsigned int COG_AE_IFDIR = AE_IFDIR;
static const unsigned int COG_AE_IFLNK = AE_IFLNK;
static const unsigned int COG_AE_IFCHR = AE_IFCHR;
static const unsigned int COG_AE_IFBLK = AE_IFBLK;
static const unsigned int COG_AE_IFIFO = AE_IFIFO;
#endif
