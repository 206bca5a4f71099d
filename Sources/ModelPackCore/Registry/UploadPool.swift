import Foundation

/// Push's uploads beside its bundle walk: up to `limit` blobs at once, each on a thread of its
/// own, while the walk goes on reading and hashing the bundle. An upload closes only once the walk
/// has said its entry matched the manifest (`verdict`), so the walk stays the one judge of the
/// bundle. The first error stops new uploads and is thrown by `finish`.
final class UploadPool: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int
    private var running = 0
    private var failure: (any Error)?
    /// The entries the walk found matching.
    private var verified: Set<String> = []
    /// The walk is over (at its end, or stopped by an error): an entry not verified never will be.
    private var walkEnded = false

    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `work` on a new thread once fewer than `limit` uploads run; throws the first upload's
    /// error instead, when there was one.
    func submit(_ work: @escaping @Sendable () throws -> Void) throws {
        condition.lock()
        while running >= limit && failure == nil { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        running += 1
        condition.unlock()
        Thread.detachNewThread { [self] in
            var thrown: (any Error)?
            do { try work() } catch { thrown = error }
            condition.lock()
            if let thrown, failure == nil { failure = thrown }
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The walk found entry `path` matching the manifest.
    func verify(_ path: String) {
        condition.lock()
        verified.insert(path)
        condition.broadcast()
        condition.unlock()
    }

    /// The walk is over.
    func endWalk() {
        condition.lock()
        walkEnded = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the walk's word on entry `path`: whether it matched (false when the walk
    /// stopped before it did).
    func verdict(_ path: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !verified.contains(path) && !walkEnded { condition.wait() }
        return verified.contains(path)
    }

    /// Waits for every upload to end; throws the first error.
    func finish() throws {
        condition.lock()
        while running > 0 { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }
}
