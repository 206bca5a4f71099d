import Foundation

/// Running a transfer for many items at once.
enum RegistryTransfer {
    private struct State<T> {
        var results: [String: T] = [:]
        var firstError: (any Error)?
        var next = 0
    }

    /// `work` for each item on up to `limit` threads; the first error is thrown after all stop.
    static func concurrently<T: Sendable>(
        _ items: [String], limit: Int, _ work: @escaping @Sendable (String) throws -> T
    )
        throws -> [String: T]
    {
        let state = Locked(State<T>())
        let group = DispatchGroup()
        for _ in 0..<max(1, min(limit, items.count)) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while true {
                    let item: String? = state.withLock {
                        guard $0.firstError == nil, $0.next < items.count else { return nil }
                        $0.next += 1
                        return items[$0.next - 1]
                    }
                    guard let item else { return }
                    do {
                        let result = try work(item)
                        state.withLock { $0.results[item] = result }
                    } catch {
                        state.withLock { if $0.firstError == nil { $0.firstError = error } }
                    }
                }
            }
        }
        group.wait()
        return try state.withLock {
            if let error = $0.firstError { throw error }
            return $0.results
        }
    }
}
