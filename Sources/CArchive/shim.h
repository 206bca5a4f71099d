#ifndef MODELPACK_CARCHIVE_SHIM_H
#define MODELPACK_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* The AE_IF* macros carry a cast that Swift does not import; re-export them as constants. */
static const unsigned int MP_AE_IFMT = AE_IFMT;
static const unsigned int MP_AE_IFREG = AE_IFREG;
static const unsigned int MP_AE_IFLNK = AE_IFLNK;
static const unsigned int MP_AE_IFDIR = AE_IFDIR;
static const unsigned int MP_AE_IFIFO = AE_IFIFO;
static const unsigned int MP_AE_IFCHR = AE_IFCHR;
static const unsigned int MP_AE_IFBLK = AE_IFBLK;
static const unsigned int MP_AE_IFSOCK = AE_IFSOCK;

/* archive_set_error is variadic, which Swift cannot call: a write callback's failure, with the
   system's error number, worded as libarchive's own fd writer words it. */
static inline void mp_archive_set_write_error(struct archive *a, int code) {
    archive_set_error(a, code, "Write error");
}
#endif
