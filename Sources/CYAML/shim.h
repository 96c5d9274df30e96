#ifndef COG_CYAML_SHIM_H
#define COG_CYAML_SHIM_H
#include <yaml.h>
#endif
