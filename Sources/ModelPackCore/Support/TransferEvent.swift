/// What a push or pull reports as it goes, for a progress display: the bytes it is going to move
/// (blobs the other side lacks), then each piece moved, with the file it belongs to.
public enum TransferEvent: Sendable {
    case total(Int64)
    case moved(path: String, bytes: Int64)
}

/// Receives transfer events, from any thread.
public typealias TransferObserver = @Sendable (TransferEvent) -> Void
