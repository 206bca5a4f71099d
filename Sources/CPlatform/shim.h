#ifndef MODELPACK_CPLATFORM_SHIM_H
#define MODELPACK_CPLATFORM_SHIM_H
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

/* rename(2) that fails with EEXIST instead of replacing the destination (Linux renameat2 with
   RENAME_NOREPLACE). Returns -1 with errno ENOSYS/EINVAL where the kernel or file system lacks it;
   the caller then falls back to a checked rename. */
static inline int mp_rename_noreplace(const char *from, const char *to) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1u /* RENAME_NOREPLACE */);
#else
    (void)from; (void)to;
    errno = ENOSYS;
    return -1;
#endif
}

/* rename(2) that atomically swaps two existing paths (RENAME_EXCHANGE); same fallback contract. */
static inline int mp_rename_exchange(const char *a, const char *b) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2u /* RENAME_EXCHANGE */);
#else
    (void)a; (void)b;
    errno = ENOSYS;
    return -1;
#endif
}

/* syncfs(2): writes out the file system holding fd (data, inodes and directories), reporting a
   writeback error as EIO (Linux 5.8+); sync(2), which reports nothing, where it is missing. */
static inline int mp_syncfs(int fd) {
#if defined(__linux__) && defined(SYS_syncfs)
    return (int)syscall(SYS_syncfs, fd);
#else
    (void)fd;
    sync();
    return 0;
#endif
}
/* sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing a range of a file to disk and
   returns at once (best effort; nothing where it is missing). */
static inline int mp_start_writeback(int fd, long long offset, long long length) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    return (int)syscall(SYS_sync_file_range, fd, offset, length, 2u /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
#endif
