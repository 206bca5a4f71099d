import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One folder of the cache that processes share: `NAME.lock` beside it is held exclusively while
/// the folder is made or changed, `NAME.use` is held shared by every process using it (serve,
/// predict and the Python batch driver keep it until they exit, across exec). `prune` removes a
/// folder only when it gets both exclusively without waiting, so nothing in use is ever removed.
struct CacheSlot {
    let path: String

    /// Held while the folder is made or changed; a second process waits, then finds it made.
    func lockForChange(log: (String) -> Void) throws -> FileLock {
        try FileLock(path + ".lock") { log("waiting for another modelpack preparing \(path)") }
    }

    /// Held (shared, inheritable) while the folder is used; records the use for prune's order.
    func markInUse() throws -> FileLock {
        let lock = try FileLock(path + ".use", .shared, inheritable: true)
        lock.touch()
        return lock
    }
}

/// What is in the cache (`CacheDirectory`), entry by entry, and its pruning: least recently
/// used first, never an entry in use, down to a size.
package enum CacheStore {
    /// The kinds of entry, each a folder under the cache.
    package enum Area: String, Sendable, CaseIterable {
        /// `serve/<digest>`: a bundle unpacked for serve and predict, with the runtime's files.
        case serve
        /// `envs/<key>`: a virtualenv, keyed by what it holds (Python, requirements, runtime).
        case envs
        /// `bundles/<digest>`: a bundle unpacked by the batch driver (Spark or Ray workers).
        case bundles
        /// `blobs/sha256/<hex>`: registry blobs that pull fetched.
        case blobs
        /// `compile/<key>.json`: remembered syntax checks of interface.py.
        case compile

        var folder: String { self == .blobs ? "blobs/sha256" : rawValue }
        /// Whether entries are shared folders with `.lock` and `.use` files (else plain files).
        var slotted: Bool { self == .serve || self == .envs || self == .bundles }
    }

    package struct Entry: Sendable {
        package let area: Area
        package let name: String
        package let path: String
        /// The length of its files, summed.
        package let bytes: Int64
        /// Seconds since the epoch of its last use.
        package let lastUsed: Int
        package let inUse: Bool
        /// A virtualenv that was never finished (its pip install failed or was killed): of no use,
        /// removed by any prune whatever the size.
        package var broken = false
        /// A word on what it holds (the bundle's name and version, the environment's Python), or "".
        package let about: String
    }

    package struct PruneResult: Sendable {
        package let removed: [Entry]
        package let kept: [Entry]
        package var freedBytes: Int64 { removed.reduce(0) { $0 + $1.bytes } }
        package var keptBytes: Int64 { kept.reduce(0) { $0 + $1.bytes } }
    }

    /// The size the whole cache is held to after a pull, serve or predict added to it:
    /// `MODELPACK_CACHE_MAX` (e.g. `50GiB`), else 20 GiB.
    package static func cap(environment: [String: String]? = nil) -> Int64 {
        (environment ?? ProcessInfo.processInfo.environment)["MODELPACK_CACHE_MAX"].flatMap { ByteCount.parse($0) }
            ?? 20 << 30
    }

    /// Every entry, most recently used first.
    package static func entries(in root: String = CacheDirectory.path(), areas: [Area] = Area.allCases) throws
        -> [Entry]
    {
        var result: [Entry] = []
        for area in areas {
            let folder = root + "/" + area.folder
            guard FileSystem.exists(folder) else { continue }
            for name in try FileSystem.listDirectory(folder).sorted() {
                if let entry = entry(area, name, in: folder) { result.append(entry) }
            }
        }
        return result.sorted { ($0.lastUsed, $1.path) > ($1.lastUsed, $0.path) }
    }

    /// Removes the least recently used entries not in use until at most `bytes` remain (of the
    /// `areas` given); `dryRun` only says which. Leftovers of an interrupted prune go first.
    package static func prune(
        keeping bytes: Int64, in root: String = CacheDirectory.path(), areas: [Area] = Area.allCases,
        dryRun: Bool = false
    ) throws -> PruneResult {
        if !dryRun {
            for area in areas where area.slotted {
                let folder = root + "/" + area.folder
                for name in (try? FileSystem.listDirectory(folder)) ?? [] where name.hasPrefix(".trash-") {
                    FileSystem.removeTree(folder + "/" + name)
                }
            }
        }
        let all = try entries(in: root, areas: areas)
        var total = all.reduce(0) { $0 + $1.bytes }
        var removed: [Entry] = []
        var kept: [Entry] = []
        // Broken entries first, whatever the size; then the least recently used.
        for entry in all.reversed().sorted(by: { $0.broken && !$1.broken }) {
            guard total > bytes || entry.broken, !entry.inUse, dryRun || remove(entry) else {
                kept.append(entry)
                continue
            }
            total -= entry.bytes
            removed.append(entry)
        }
        return PruneResult(removed: removed, kept: kept.reversed())
    }

    /// Holds the cache to `cap` after an operation added to it; a failure here is not the operation's.
    static func trim(root: String = CacheDirectory.path(), keeping bytes: Int64 = cap(), log: (String) -> Void) {
        guard let result = try? prune(keeping: bytes, in: root), !result.removed.isEmpty else { return }
        log(
            "the cache \(root) was over MODELPACK_CACHE_MAX (\(ByteCount.human(bytes))): removed "
                + "\(result.removed.count) least recently used entries, \(ByteCount.human(result.freedBytes))")
    }

    private static func entry(_ area: Area, _ name: String, in folder: String) -> Entry? {
        let path = folder + "/" + name
        var st = stat()
        guard !name.hasPrefix("."), lstat(path, &st) == 0 else { return nil }
        let kind = st.st_mode & S_IFMT
        if area.slotted {
            guard kind == S_IFDIR else { return nil }
            var use = stat()
            let used = lstat(path + ".use", &use) == 0 ? max(use.st_mtim.tv_sec, st.st_mtim.tv_sec) : st.st_mtim.tv_sec
            let inUse = isInUse(path)
            let broken = area == .envs && !inUse && !FileSystem.exists(path + "/venv/.modelpack-ready")
            return Entry(
                area: area, name: name, path: path, bytes: size(of: path), lastUsed: used,
                inUse: inUse, broken: broken,
                about: broken ? "broken: its virtualenv was never finished" : about(area, path))
        }
        guard kind == S_IFREG else { return nil }
        // A blob still arriving is locked by the pull appending to it.
        let arriving = name.hasSuffix(".partial") && isLocked(path)
        return Entry(
            area: area, name: name, path: path, bytes: Int64(st.st_size), lastUsed: st.st_mtim.tv_sec,
            inUse: arriving, about: "")
    }

    private static func isInUse(_ path: String) -> Bool {
        isLocked(path + ".lock") || isLocked(path + ".use")
    }

    /// Whether another process holds a lock on the file (a file that is not there is not locked).
    private static func isLocked(_ path: String) -> Bool {
        guard FileSystem.exists(path) else { return false }
        do { return try FileLock.attempt(path) == nil } catch { return true }
    }

    /// Removes an entry if nobody uses it: both locks taken without waiting, the folder renamed
    /// aside (a crash leaves a `.trash-` folder the next prune removes, never half an entry), the
    /// lock files removed while held, then the folder's files.
    private static func remove(_ entry: Entry) -> Bool {
        guard entry.area.slotted else { return unlink(entry.path) == 0 }
        guard let change = try? FileLock.attempt(entry.path + ".lock"),
            let use = try? FileLock.attempt(entry.path + ".use")
        else { return false }
        let folder = FileSystem.parentDirectory(of: entry.path)
        let trash = folder + "/.trash-\(entry.name)-\(getpid())"
        guard (try? FileSystem.rename(entry.path, trash)) != nil else { return false }
        use.removeFile()
        change.removeFile()
        withExtendedLifetime((change, use)) {}
        FileSystem.removeTree(trash)
        return true
    }

    /// The length of every file under `path` (a symlink counted as itself, never followed; folders
    /// as nothing). A folder with a `sizeStamp` is counted by it, unread: a virtualenv's 20,000 and
    /// more files are walked once, when it is made, not at every listing.
    static func size(of path: String) -> Int64 {
        var total: Int64 = 0
        var pending = [path]
        while let next = pending.popLast() {
            var st = stat()
            guard lstat(next, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR {
                if let stamp = try? FileSystem.readWholeFile(next + "/" + sizeStamp, limit: 64),
                    let bytes = Int64(String(decoding: stamp, as: UTF8.self))
                {
                    total += bytes
                    continue
                }
                for name in (try? FileSystem.listDirectory(next)) ?? [] { pending.append(next + "/" + name) }
            } else {
                total += Int64(st.st_size)
            }
        }
        return total
    }

    static let sizeStamp = ".modelpack-size"

    /// Walks a finished folder once and records its size in it, for `size(of:)`.
    static func recordSize(of folder: String) throws {
        FileSystem.removeTree(folder + "/" + sizeStamp)
        try FileSystem.writeAtomically(Array(String(size(of: folder)).utf8), to: folder + "/" + sizeStamp)
    }

    /// What `about.txt` in the entry says (written when it was made), else "".
    private static func about(_ area: Area, _ path: String) -> String {
        guard let bytes = try? FileSystem.readWholeFile(path + "/about.txt", limit: 4096) else { return "" }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
