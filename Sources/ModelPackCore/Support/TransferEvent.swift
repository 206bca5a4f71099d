/// What a push or pull reports as it goes, for a progress display: the bytes it is going to move
/// (blobs the other side lacks), then each piece moved, with the file it belongs to.
package enum TransferEvent: Sendable {
    case total(Int64)
    case moved(path: String, bytes: Int64)
}

/// Receives transfer events, from any thread.
package typealias TransferObserver = @Sendable (TransferEvent) -> Void
