#ifndef MODELPACK_CYAML_SHIM_H
#define MODELPACK_CYAML_SHIM_H
#include <yaml.h>
#endif
