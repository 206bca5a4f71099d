import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The time zone this process runs in, set so that glibc does not load it again and again.
///
/// - While TZ is unset, glibc's mktime() stats /etc/localtime on every call, and libarchive's zip
///   reader calls mktime() for each entry's local header and central-directory record: 10,000
///   stats for a bundle of 5,000 files, a sixth of its verify. `pin()`, the first thing
///   `modelpack` does (before any thread starts), sets TZ to ":/etc/localtime", the same zone
///   under a name that glibc compares instead of reloading it. Every process modelpack starts
///   gets the environment as the user gave it (`childEnvironment`, `unpinForExec`).
/// - libarchive's zip writer turns each mtime into an MS-DOS date with localtime_r(), so the same
///   input would give other bytes in another zone: a zip is written in UTC, from `enterUTC` when
///   its writer opens to `leaveUTC` when it closes. That is once per archive, not once per entry,
///   as every change of TZ makes glibc load the zone again. There is no per-thread zone (as
///   uselocale gives for the locale): the process's TZ changes meanwhile, and its children still
///   get the user's.
package enum ProcessZone {
    private static let lock = NSLock()
    /// Whether `pin` ran, and the TZ the user gave (nil: unset).
    nonisolated(unsafe) private static var pinned = false
    nonisolated(unsafe) private static var userTZ: String?
    /// Zip writers open, and the TZ to put back when the last one closes.
    nonisolated(unsafe) private static var utcWriters = 0
    nonisolated(unsafe) private static var beforeUTC: String?

    package static func pin() {
        lock.lock()
        defer { lock.unlock() }
        guard !pinned else { return }
        pinned = true
        userTZ = getenv("TZ").map { String(cString: $0) }
        if userTZ == nil {
            setenv("TZ", ":/etc/localtime", 1)
            tzset()
        }
    }

    /// The environment for a process modelpack starts: this one's, with TZ as the user gave it.
    static func childEnvironment() -> [String: String] {
        lock.lock()
        defer { lock.unlock() }
        var environment = ProcessInfo.processInfo.environment
        if pinned || utcWriters > 0 { environment["TZ"] = pinned ? userTZ : beforeUTC }
        return environment
    }

    /// Before exec'ing another program in place of this process: TZ as the user gave it.
    package static func unpinForExec() {
        lock.lock()
        defer { lock.unlock() }
        guard pinned else { return }
        if let userTZ { setenv("TZ", userTZ, 1) } else { unsetenv("TZ") }
    }

    static func enterUTC() {
        lock.lock()
        defer { lock.unlock() }
        utcWriters += 1
        guard utcWriters == 1 else { return }
        beforeUTC = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", "UTC", 1)
        tzset()
    }

    static func leaveUTC() {
        lock.lock()
        defer { lock.unlock() }
        utcWriters -= 1
        guard utcWriters == 0 else { return }
        if let beforeUTC { setenv("TZ", beforeUTC, 1) } else { unsetenv("TZ") }
        tzset()
    }
}
