import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Every output is first written under a temporary name next to its destination, then renamed into
/// place. The names are `.modelpack-tmp-<pid>-<random>-<destination name>`, so that:
/// - a SIGINT/SIGTERM handler can remove what this process was writing (`removeAllRegistered`), and
/// - the next run can remove what a killed process left behind (`removeStale`): a temporary whose
///   pid is no longer alive.
package enum TemporaryOutput {
    static let prefix = ".modelpack-tmp-"
    private static let registered = Mutex<Set<String>>([])

    /// A fresh temporary path in the destination's directory (not created).
    static func path(nextTo destination: String) -> String {
        let directory = FileSystem.parentDirectory(of: destination)
        let name = FileSystem.lastComponent(of: destination)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return directory + "/" + prefix + "\(getpid())-\(random)-" + name
    }

    static func register(_ path: String) {
        registered.withLock { _ = $0.insert(path) }
    }

    static func unregister(_ path: String) {
        registered.withLock { _ = $0.remove(path) }
    }

    /// `body` on a new temporary directory next to `destination` (created with its parents),
    /// removed when `body` returns or throws, and by the signal handler if the process is stopped.
    static func withDirectory<T>(nextTo destination: String, _ body: (String) throws -> T) throws -> T {
        let directory = path(nextTo: destination)
        try FileSystem.makeDirectories(directory)
        register(directory)
        defer {
            FileSystem.removeTree(directory)
            unregister(directory)
        }
        return try body(directory)
    }

    /// Removes every temporary this process registered (called on SIGINT/SIGTERM).
    package static func removeAllRegistered() {
        let paths = registered.withLock { $0 }
        for path in paths { FileSystem.removeTree(path) }
    }

    /// Removes temporaries for `destination` left by processes that no longer run.
    static func removeStale(nextTo destination: String) {
        let directory = FileSystem.parentDirectory(of: destination)
        let name = FileSystem.lastComponent(of: destination)
        guard let names = try? FileSystem.listDirectory(directory) else { return }
        for entry in names where entry.hasPrefix(prefix) && entry.hasSuffix("-" + name) {
            let rest = entry.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix(while: { $0 != "-" })), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                FileSystem.removeTree(directory + "/" + entry)
            }
        }
    }
}
