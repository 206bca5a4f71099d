/// What a push or pull reports as it goes, for a progress display: the bytes it is going to move
/// (blobs the other side lacks), then each piece moved, with the file it belongs to.
public enum TransferEvent: Sendable {
    case total(Int64)
    case moved(path: String, bytes: Int64)
}

/// Receives transfer events, from any thread.
public typealias TransferObserver = @Sendable (TransferEvent) -> Void

/// Progress of the local commands that read or write a lot (build, unpack, verify, inspect): the
/// CLI sets an observer for the run when stderr is a terminal; the core's read and write loops
/// report to it. `.total` starts a phase (a build that reads its files twice has two).
public enum ProgressReporting {
    @TaskLocal public static var observer: TransferObserver?

    static func total(_ bytes: Int64) { observer?(.total(bytes)) }

    static func moved(_ path: String, _ bytes: Int) {
        if bytes > 0, let observer { observer(.moved(path: path, bytes: Int64(bytes))) }
    }
}
