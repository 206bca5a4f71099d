#ifndef MODELPACK_CZLIB_SHIM_H
#define MODELPACK_CZLIB_SHIM_H
#include <zlib.h>
#endif
