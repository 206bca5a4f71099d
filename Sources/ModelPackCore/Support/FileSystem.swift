internal import CPlatform
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `lstat` says of a path, without following a final symlink.
struct FileInfo {
    enum Kind { case regular, directory, symlink, other }
    let kind: Kind
    let size: Int64
    let mode: mode_t

    var isExecutable: Bool { mode & 0o100 != 0 }
}

/// Thin POSIX helpers. Every failure becomes a `ModelPackError.io` naming the path.
enum FileSystem {
    static func errnoMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func lstatInfo(_ path: String) throws -> FileInfo? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ModelPackError.io(path: path, reason: errnoMessage())
        }
        return info(st)
    }

    private static func info(_ st: stat) -> FileInfo {
        let kind: FileInfo.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        return FileInfo(kind: kind, size: Int64(st.st_size), mode: st.st_mode & 0o7777)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Refuses what is not a regular file (a FIFO would block its reader, a device never end).
    static func requireRegularFile(_ path: String) throws {
        guard let info = try lstatInfo(path) else { throw ModelPackError.inputMissing(path: path) }
        guard info.kind == .regular else { throw ModelPackError.io(path: path, reason: "not a regular file") }
    }

    /// Whether `path` is a directory (a link to one is not).
    static func isDirectory(_ path: String) -> Bool {
        (try? lstatInfo(path))??.kind == .directory
    }

    /// The entries of a directory, unsorted, without `.` and `..`, each with what lstat says of
    /// it (nil when it went away meanwhile), asked relative to the open directory: the kernel
    /// resolves one name, not the whole path, for every file of a model. A name that is not
    /// valid UTF-8 is an error naming it.
    static func listDirectoryInfo(_ path: String) throws -> [(name: String, info: FileInfo?)] {
        var entries: [(name: String, info: FileInfo?)] = []
        try forEachEntry(of: path) { fd, bytes in
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw ModelPackError.invalidModel(
                    path: path + "/" + String(decoding: bytes, as: UTF8.self),
                    reason: "its name is not valid UTF-8, which a bundle's paths must be; rename it")
            }
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT else { throw ModelPackError.io(path: path + "/" + name, reason: errnoMessage()) }
                entries.append((name, nil))
            } else {
                entries.append((name, info(st)))
            }
        }
        return entries
    }

    /// The names in a directory, unsorted, without `.` and `..`. A name that is not valid UTF-8
    /// comes back with replacement characters (so that no path built from it exists).
    static func listDirectory(_ path: String) throws -> [String] {
        var names: [String] = []
        try forEachEntry(of: path) { _, bytes in names.append(String(decoding: bytes, as: UTF8.self)) }
        return names
    }

    /// Every name in the directory at `path` but `.` and `..`, as bytes, with the open
    /// directory's descriptor (for calls relative to it).
    private static func forEachEntry(
        of path: String, _ body: (Int32, UnsafeRawBufferPointer.SubSequence) throws -> Void
    ) throws {
        guard let dir = opendir(path) else {
            throw ModelPackError.io(path: path, reason: "cannot read directory: \(errnoMessage())")
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        while let entry = readdir(dir) {
            try withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = raw.prefix(while: { $0 != 0 })
                if bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8) { return }
                try body(fd, bytes)
            }
        }
    }

    static func realPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT { throw ModelPackError.inputMissing(path: path) }
            throw ModelPackError.unreadable(path: path, reason: errnoMessage())
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The folder part of a path, by string (no locale-dependent file-system representation):
    /// `a/b` gives `a`, `b` and `b/` give `.`, `/b` gives `/`.
    static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.utf8.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.utf8.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// Removes one file (not a directory), or says why not.
    static func removeFile(_ path: String) throws {
        guard unlink(path) == 0 else {
            throw ModelPackError.io(path: path, reason: "cannot remove: \(errnoMessage())")
        }
    }

    /// Removes a file or a whole tree, never following symlinks; errors are ignored (cleanup path).
    static func removeTree(_ path: String) {
        guard let info = try? lstatInfo(path) else { return }
        if info.kind == .directory {
            for name in (try? listDirectory(path)) ?? [] {
                removeTree(path + "/" + name)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw ModelPackError.io(path: path, reason: "cannot create directory: \(errnoMessage())")
        }
    }

    /// Renames `from` to `to` without ever replacing an existing `to`.
    static func renameNoReplace(_ from: String, _ to: String) throws {
        if mp_rename_noreplace(from, to) == 0 { return }
        let code = errno
        if code == EEXIST { throw ModelPackError.destinationExists(path: to) }
        guard code == ENOSYS || code == EINVAL else {
            throw ModelPackError.io(path: to, reason: "cannot rename into place: \(errnoMessage(code))")
        }
        if exists(to) { throw ModelPackError.destinationExists(path: to) }
        try rename(from, to)
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw ModelPackError.io(path: to, reason: "cannot rename into place: \(errnoMessage())")
        }
    }

    /// Replaces the directory `to` with `from` so that `to` always names a complete tree:
    /// an atomic exchange where the kernel has it, then the old tree is removed.
    static func replaceDirectory(_ from: String, _ to: String) throws {
        if mp_rename_exchange(from, to) == 0 {
            removeTree(from)
            return
        }
        let code = errno
        if code == ENOENT {  // nothing to replace after all
            try renameNoReplace(from, to)
            return
        }
        guard code == ENOSYS || code == EINVAL else {
            throw ModelPackError.io(path: to, reason: "cannot replace: \(errnoMessage(code))")
        }
        let aside = from + ".old"
        try rename(to, aside)
        try rename(from, to)
        removeTree(aside)
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix)
        }
    }

    /// Writes a whole file under a temporary name (`TemporaryOutput`) and renames it over `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let temporary = TemporaryOutput.path(nextTo: path)
        TemporaryOutput.register(temporary)
        defer { TemporaryOutput.unregister(temporary) }
        do {
            let file = try OutputFile(creating: temporary, mode: mode)
            try bytes.withUnsafeBytes { try file.write($0) }
            try file.sync()
            try rename(temporary, path)
        } catch {
            removeTree(temporary)
            throw error
        }
    }

    /// Whether an output file can be written at `path`: its directory exists (else an I/O error)
    /// and `path` is not a directory (else a usage error asking for `naming`).
    static func checkOutputFile(_ path: String, naming: String = "a file name") throws {
        guard exists(parentDirectory(of: path)) else {
            throw ModelPackError.io(path: path, reason: "the output's directory does not exist")
        }
        if let info = try lstatInfo(path), info.kind == .directory {
            throw ModelPackError.usage("output '\(path)' is a directory; give \(naming)")
        }
    }

    /// The interpreter a `--python` names: a path as given, a bare name looked up on PATH; a
    /// one-line error naming it when there is none.
    static func interpreter(_ python: String) throws -> String {
        guard let found = python.contains("/") ? (isExecutable(python) ? python : nil) : executableOnPath(python)
        else {
            throw ModelPackError.io(
                path: python, reason: "no such Python (give \(CommandFlag.python) a path or a name on PATH)")
        }
        return found
    }

    /// The first executable file called `name` in PATH's directories.
    static func executableOnPath(
        _ name: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/" + name
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// Whether `path` is something this user may execute that is not a directory.
    static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0 && (try? lstatInfo(path))??.kind != .directory
    }

    /// Writes out the file system holding `path` (every file and directory written under it), so
    /// that a tree renamed into place afterwards survives a power loss whole: one syncfs(2)
    /// instead of an fsync per file (5,000 journal commits for 5,000 small files). It also waits
    /// for other processes' writes to that file system, the price of the single call.
    static func syncFileSystem(of path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw ModelPackError.io(path: path, reason: "cannot open: \(errnoMessage())") }
        defer { close(fd) }
        if mp_syncfs(fd) != 0 {
            throw ModelPackError.io(path: path, reason: "cannot write to the disk: \(errnoMessage())")
        }
    }

    static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Free bytes on the file system holding `path`, or nil when unknown.
    static func availableBytes(at path: String) -> Int64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }

    static func readWholeFile(_ path: String, limit: Int) throws -> [UInt8] {
        let file = try InputFile(path: path)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw ModelPackError.limitExceeded(path: path, reason: "file is larger than \(limit) bytes")
            }
        }
        return out
    }
}

/// A file opened for reading; closed when released. Never follows a final symlink.
final class InputFile {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { throw ModelPackError.inputMissing(path: path) }
            throw ModelPackError.unreadable(path: path, reason: "cannot open: \(FileSystem.errnoMessage())")
        }
    }

    deinit { close(fd) }

    /// The open descriptor, for a library that reads the same file (libarchive).
    var descriptor: Int32 { fd }

    /// Reads up to `buffer.count` bytes at `offset`, without moving the file position.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ModelPackError.unreadable(path: path, reason: "read failed: \(FileSystem.errnoMessage())")
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ModelPackError.unreadable(path: path, reason: "read failed: \(FileSystem.errnoMessage())")
        }
    }
}

/// A new file opened for writing with O_EXCL | O_NOFOLLOW; closed when released.
final class OutputFile {
    let path: String
    let fd: Int32

    /// `readable`: opened for reading too (a writer that checks what it wrote, `ArchiveWriter.fill`).
    init(creating path: String, mode: mode_t, readable: Bool = false) throws {
        self.path = path
        fd = open(path, (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 { throw ModelPackError.io(path: path, reason: "cannot create: \(FileSystem.errnoMessage())") }
    }

    /// Opens `path` to add to its end, creating it when absent (a resumable download).
    init(appendingTo path: String, mode: mode_t) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, mode)
        if fd < 0 { throw ModelPackError.io(path: path, reason: "cannot open: \(FileSystem.errnoMessage())") }
    }

    deinit { close(fd) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw ModelPackError.io(path: path, reason: "write failed: \(FileSystem.errnoMessage())")
            }
            offset += n
        }
        writeback?.wrote(bytes.count, fd: fd)
    }

    /// Set for a file that will be synced before it is used (what unpack writes): its data is
    /// sent to the disk as it is written (`WritebackPacer`).
    var writeback: WritebackPacer?

    func sync() throws {
        if fsync(fd) != 0 {
            throw ModelPackError.io(path: path, reason: "fsync failed: \(FileSystem.errnoMessage())")
        }
    }
}

/// A flock(2) on `path` (created when absent), held until released; the kernel drops it when the
/// process dies, so a killed holder never leaves a stale lock behind. A lock file may be removed
/// by the process holding it exclusively (the cache's prune does): a lock taken on a file that
/// was meanwhile removed or replaced is let go and taken again on the file now at `path`.
final class FileLock: Sendable {
    enum Mode { case exclusive, shared }

    private let fd: Int32
    let path: String

    /// Waits for the lock; `waiting` is called once, before blocking, when another process holds
    /// it. An `inheritable` lock stays open across exec, so the program exec'd holds it until it exits.
    init(_ path: String, _ mode: Mode = .exclusive, inheritable: Bool = false, waiting: () -> Void = {}) throws {
        self.path = path
        var told = false
        while true {
            let fd = try Self.open(path, inheritable: inheritable)
            let operation = mode == .exclusive ? LOCK_EX : LOCK_SH
            if flock(fd, operation | LOCK_NB) != 0 {
                if !told {
                    waiting()
                    told = true
                }
                while flock(fd, operation) != 0 {
                    if errno == EINTR { continue }
                    let reason = FileSystem.errnoMessage()
                    close(fd)
                    throw ModelPackError.io(path: path, reason: "cannot lock: \(reason)")
                }
            }
            if Self.isStill(fd, at: path) {
                self.fd = fd
                return
            }
            close(fd)
        }
    }

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The exclusive lock if nobody holds the file (nil when another process does), without waiting.
    static func attempt(_ path: String) throws -> FileLock? {
        while true {
            let fd = try open(path, inheritable: false)
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                close(fd)
                return nil
            }
            if isStill(fd, at: path) { return FileLock(fd: fd, path: path) }
            close(fd)
        }
    }

    /// Records a use: the lock file's modification time is now.
    func touch() { futimens(fd, nil) }

    /// Removes the lock file while this process holds it exclusively (waiters take the lock anew).
    func removeFile() { unlink(path) }

    deinit { close(fd) }

    private static func open(_ path: String, inheritable: Bool) throws -> Int32 {
        let flags = O_RDWR | O_CREAT | O_NOFOLLOW | (inheritable ? 0 : O_CLOEXEC)
        let fd = Glibc.open(path, flags, 0o644)
        if fd < 0 { throw ModelPackError.io(path: path, reason: "cannot open: \(FileSystem.errnoMessage())") }
        return fd
    }

    /// Whether the locked descriptor is still the file at `path` (not one removed meanwhile).
    private static func isStill(_ fd: Int32, at path: String) -> Bool {
        var held = stat()
        var named = stat()
        guard fstat(fd, &held) == 0, lstat(path, &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }
}

/// Starts the kernel writing a file to disk every 8 MiB written to it (Linux `sync_file_range`
/// with SYNC_FILE_RANGE_WRITE, which does not wait), for a file that is synced before it is renamed
/// into place: the disk works while the rest is still being written, instead of all at the sync.
/// unpack of a 1 GiB artifact on this machine's disk took 0.98 s with the sync at the end alone,
/// 0.56 s with this (bsdtar -xf and sync -f: 0.81 s). For files written from offset 0 in order.
struct WritebackPacer {
    static let step: Int64 = 8 << 20
    private var written: Int64 = 0
    private var started: Int64 = 0

    init() {}

    mutating func wrote(_ count: Int, fd: Int32) {
        written += Int64(count)
        guard written - started >= Self.step else { return }
        _ = mp_start_writeback(fd, started, written - started)
        started = written
    }
}
