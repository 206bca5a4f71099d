import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pulled blobs, by digest, under the cache directory serve uses (`blobs/sha256/<hex>`). A blob
/// enters only once its bytes match its digest; until then it is `<hex>.partial`, which the next
/// attempt (in this run or the next) continues with a Range request instead of starting over.
/// `CacheStore.prune` keeps the newest-used blobs under a size cap.
package struct BlobCache: Sendable {
    package let root: String

    package init(root: String = CacheDirectory.path() + "/blobs") {
        self.root = root
    }

    var directory: String { root + "/sha256" }

    func path(of digest: String) -> String { directory + "/" + digest.dropFirst(7) }

    /// Removes the cached file `path` (it no longer matches its digest).
    func remove(_ path: String) {
        guard FileSystem.parentDirectory(of: path) == directory else { return }
        unlink(path)
    }

    /// The cached file for `digest` when there is one; its use is recorded (mtime) for `prune`.
    func cached(_ digest: String) -> String? {
        let path = path(of: digest)
        guard FileSystem.exists(path) else { return nil }
        utimes(path, nil)
        return path
    }

    /// Fetches `descriptor` into the cache unless it is there; returns the file and the bytes
    /// that crossed the network. The body is appended to `<hex>.partial` as it arrives and hashed
    /// beside it, so an interrupted fetch (this run's retries, or the next run) continues with a
    /// Range request from the bytes on disk, and memory stays flat whatever the blob's size.
    func fetch(_ descriptor: OCIDescriptor, from client: RegistryClient, progress: TransferObserver? = nil) throws -> (
        path: String, transferred: Int64
    ) {
        if let path = cached(descriptor.digest) { return (path, 0) }
        guard ImageReference.isDigest(descriptor.digest) else {
            throw ModelPackError.registry(
                reference: client.reference.text, reason: "layer digest '\(descriptor.digest)' is not sha256:<hex>")
        }
        try FileSystem.makeDirectories(directory)
        let final = path(of: descriptor.digest)
        let partial = final + ".partial"
        let file = try OutputFile(appendingTo: partial, mode: 0o644)  // every use below keeps it open
        // One fetch of a blob at a time, across processes; the loser then finds it cached.
        guard flock(file.fd, LOCK_EX) == 0 else {
            throw ModelPackError.io(path: partial, reason: "cannot lock: \(FileSystem.errnoMessage())")
        }
        if FileSystem.exists(final) { return (final, 0) }
        let sink = try BlobSink(file: file, size: descriptor.size)
        func refuse(_ reason: String) -> ModelPackError {
            ftruncate(file.fd, 0)
            unlink(partial)
            return ModelPackError.registry(reference: client.reference.text, reason: reason)
        }
        let path = descriptor.filepath ?? descriptor.digest
        var resumes = 0
        while sink.have < descriptor.size {
            let start = sink.have
            sink.expect(from: start)
            do {
                try client.downloadBlob(descriptor.digest, size: descriptor.size, from: start) { status, bytes in
                    try sink.take(status, bytes)
                    progress?(.moved(path: path, bytes: Int64(bytes.count)))
                }
                try sink.flush()
            } catch let interrupted as InterruptedTransfer {
                // The connection went after some bytes: ask for the rest (a bounded number of times).
                try sink.flush()
                guard resumes < client.options.retries else { throw interrupted.error }
                resumes += 1
                continue
            } catch is BlobSink.Overlong {
                throw refuse(
                    "blob \(descriptor.digest) is longer than the \(descriptor.size) bytes its layer gives; refused")
            } catch {
                try? sink.flush()  // what arrived stays for the next attempt
                throw error
            }
            guard sink.have == descriptor.size else {
                throw refuse(
                    "blob \(descriptor.digest) is \(sink.have) bytes, shorter than the \(descriptor.size) its layer gives; refused"
                )
            }
        }
        let (count, hex) = sink.finish()
        guard "sha256:" + hex == descriptor.digest, count == descriptor.size else {
            throw refuse(
                "blob \(descriptor.digest) does not match its digest (received sha256:\(hex), \(count) bytes); refused, nothing written"
            )
        }
        // Not fsynced: what is written from the cache is hashed again on its way out, and a blob
        // a crash left damaged is removed and fetched again (`Operations.pull`). On this disk the
        // fsync of a 1 GiB blob took longer than fetching it.
        try FileSystem.rename(partial, final)
        return (final, sink.received)
    }
}

/// Where a blob's body goes as it arrives: copied into the hasher's fixed buffers, each written to
/// the partial file when full and hashed on the hasher's thread beside the transfer.
private final class BlobSink {
    struct Overlong: Error {}

    private let file: OutputFile
    private let size: Int64
    private let hasher = ParallelSHA256()
    /// Bytes in the partial file, all of them hashed (or handed to the hasher).
    private(set) var have: Int64 = 0
    /// Bytes that came over the network in this run.
    private(set) var received: Int64 = 0
    /// Bytes in the hasher's current buffer, not yet written.
    private var filled = 0
    /// Where the current request's body starts, until its first bytes.
    private var requestedFrom: Int64?

    /// Hashes what an earlier attempt left in `file` (truncated when it is longer than the blob).
    init(file: OutputFile, size: Int64) throws {
        self.file = file
        self.size = size
        hasher.begin(expectedSize: size)
        let input = try InputFile(path: file.path)
        while true {
            let buffer = hasher.buffer()
            let n = try input.read(into: buffer)
            if n == 0 { break }
            hasher.submit(n)
            have += Int64(n)
        }
        if have > size { try restart() }
    }

    private func restart() throws {
        guard ftruncate(file.fd, 0) == 0 else {
            throw ModelPackError.io(path: file.path, reason: "cannot truncate: \(FileSystem.errnoMessage())")
        }
        _ = hasher.finish()
        hasher.begin(expectedSize: size)
        have = 0
        filled = 0
    }

    func expect(from offset: Int64) { requestedFrom = offset }

    /// The next piece of the body. A registry that answers a Range request with the whole blob
    /// (200) starts the file over.
    func take(_ status: Int, _ bytes: UnsafeRawBufferPointer) throws {
        if let from = requestedFrom {
            requestedFrom = nil
            if status == 200 && from > 0 { try restart() }
        }
        guard have + Int64(filled) + Int64(bytes.count) <= size else { throw Overlong() }
        var rest = bytes
        while !rest.isEmpty {
            let buffer = hasher.buffer()
            let n = min(rest.count, buffer.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + n]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: rest[0..<n]))
            filled += n
            received += Int64(n)
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if filled == buffer.count { try flush() }
        }
    }

    /// Writes the current buffer to the file and hands it to the hasher.
    func flush() throws {
        guard filled > 0 else { return }
        let buffer = hasher.buffer()
        try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
        hasher.submit(filled)
        have += Int64(filled)
        filled = 0
    }

    /// Waits for the hasher: the bytes hashed and their SHA-256.
    func finish() -> (byteCount: Int64, hex: String) { hasher.finish() }
}
