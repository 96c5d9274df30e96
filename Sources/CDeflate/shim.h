#ifndef COG_CDEFLATE_SHIM_H
#define COG_CDEFLATE_SHIM_H
// libdeflate (Debian's libdeflate-dev): whole-buffer DEFLATE, about twice zlib's speed at the same level.
#include <libdeflate.h>
#endif
