import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pulled blobs, by digest, under the cache directory serve uses (`blobs/sha256/<hex>`). A blob
/// enters only once its bytes match its digest; until then it is `<hex>.partial`, which the next
/// attempt (in this run or the next) continues with a Range request instead of starting over.
/// `CacheStore.prune` keeps the newest-used blobs under a size cap.
public struct BlobCache: Sendable {
    public let root: String

    public init(root: String = CacheDirectory.path() + "/blobs") {
        self.root = root
    }

    var directory: String { root + "/sha256" }

    func path(of digest: String) -> String { directory + "/" + digest.dropFirst(7) }

    /// The cached file for `digest` when there is one; its use is recorded (mtime) for `prune`.
    func cached(_ digest: String) -> String? {
        let path = path(of: digest)
        guard FileSystem.exists(path) else { return nil }
        utimes(path, nil)
        return path
    }

    /// Ranges a blob is fetched in: a transfer that fails loses at most one, and memory stays
    /// flat (URLSession writes each to a file as it arrives).
    static let segmentSize: Int64 = 64 << 20

    /// Fetches `descriptor` into the cache unless it is there; returns the file and the bytes
    /// that crossed the network. The blob comes in ranges appended to `<hex>.partial`, so an
    /// interrupted fetch (this attempt's retries, or the next run) continues from the bytes on disk.
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
        var stream = SHA256Stream()
        var have = try hashExisting(partial, into: &stream)
        if have > descriptor.size {
            ftruncate(file.fd, 0)
            stream = SHA256Stream()
            have = 0
        }
        var transferred: Int64 = 0
        let segmentPath = partial + ".segment"
        defer { unlink(segmentPath) }
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
        while have < descriptor.size {
            let end = min(have + Self.segmentSize, descriptor.size) - 1
            let path = descriptor.filepath ?? descriptor.digest
            var onBytes: (@Sendable (Int64) -> Void)?
            if let progress { onBytes = { progress(.moved(path: path, bytes: $0)) } }
            let status = try client.downloadBlob(
                descriptor.digest, range: have...end, to: segmentPath, onBytes: onBytes)
            if status == 200 && have > 0 {
                throw ModelPackError.registry(
                    reference: client.reference.text, reason: "the registry does not serve byte ranges; pull again")
            }
            // Appended to the partial file and hashed in one pass; a whole blob (200) may be
            // longer than the segment asked for, never longer than the layer says.
            let input = try InputFile(path: segmentPath)
            try buffer.withUnsafeMutableBytes { raw in
                while true {
                    let n = try input.read(into: raw)
                    if n == 0 { break }
                    guard have + Int64(n) <= descriptor.size else {
                        ftruncate(file.fd, 0)
                        unlink(partial)
                        throw ModelPackError.registry(
                            reference: client.reference.text,
                            reason:
                                "blob \(descriptor.digest) is longer than the \(descriptor.size) bytes its layer gives; refused"
                        )
                    }
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                    try file.write(chunk)
                    stream.update(chunk)
                    have += Int64(n)
                    transferred += Int64(n)
                }
            }
            guard status == 200 || have == end + 1 else {
                throw ModelPackError.io(
                    path: client.reference.text, reason: "the registry sent a short range of blob \(descriptor.digest)")
            }
            if status == 200 { break }
        }
        let hex = stream.finalizeHex()
        guard "sha256:" + hex == descriptor.digest, stream.byteCount == descriptor.size else {
            ftruncate(file.fd, 0)
            unlink(partial)
            throw ModelPackError.registry(
                reference: client.reference.text,
                reason:
                    "blob \(descriptor.digest) does not match its digest (received sha256:\(hex), \(stream.byteCount) bytes); refused, nothing written"
            )
        }
        fsync(file.fd)
        try FileSystem.rename(partial, final)
        return (final, transferred)
    }

    /// Hashes what an earlier attempt left; returns its length.
    private func hashExisting(_ path: String, into stream: inout SHA256Stream) throws -> Int64 {
        guard let info = try FileSystem.lstatInfo(path), info.size > 0 else { return 0 }
        let input = try InputFile(path: path)
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
        try buffer.withUnsafeMutableBytes { raw in
            while true {
                let n = try input.read(into: raw)
                if n == 0 { break }
                stream.update(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
        }
        return stream.byteCount
    }
}
