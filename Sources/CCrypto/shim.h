#ifndef COG_CCRYPTO_SHIM_H
#define COG_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#endif
