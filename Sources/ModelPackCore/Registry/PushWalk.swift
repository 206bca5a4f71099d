import Foundation

/// The one read of a bundle under push: the bundle walk (`EntryWalk`) judges every entry, and each
/// file the registry lacks is sent one of three ways:
/// - metadata.yaml is read into memory (the config is made from it) and uploaded from there;
/// - a file lying as it is in the bundle (a plain tar's entry, a stored zip member) is uploaded
///   from its range of the bundle file by the pool, `--concurrency` at a time, while the walk reads
///   on; each upload's closing request waits for the walk to find that file matching;
/// - anything else (an entry of a compressed tar) is uploaded from the walk's own bytes, as they
///   are decompressed, and closed only if the walk's hash matches.
/// A blob the registry has, or that this push already sent, is counted and not sent again.
final class PushWalk {
    /// The bundle, as the user named it (for messages), and how to reach the registry.
    let bundle: String
    let registry: RegistryOptions
    let context: RunContext
    let client: RegistryClient
    let present: [String: Bool]
    let mountSource: (String) -> String?
    /// metadata.yaml's bytes, once the walk has passed it.
    private(set) var metadataBytes: [UInt8] = []
    private var blobs: [BlobTransfer] = []
    private var sent: Set<String> = []
    /// A file whose walk-fed upload found it not matching (the walk reports it first).
    private var abandoned: String?
    private let pool: UploadPool
    private let pooled = Locked<[BlobTransfer]>([])

    init(
        bundle: String, registry: RegistryOptions, context: RunContext, client: RegistryClient,
        present: [String: Bool], mountSource: @escaping (String) -> String?
    ) {
        self.bundle = bundle
        self.registry = registry
        self.context = context
        self.client = client
        self.present = present
        self.mountSource = mountSource
        pool = UploadPool(limit: registry.concurrency)
    }

    /// Walks the bundle, sending what the registry lacks; every blob, in the manifest's order.
    func run(reader: ArchiveReader, manifest: Manifest) throws -> [BlobTransfer] {
        var walk = EntryWalk(reader: reader, manifest: manifest, maxPathBytes: context.limits.unpack.maxPathBytes)
        do {
            try walk.requireEveryEntry(of: self.bundle, consume: consume, verified: pool.verify)
        } catch {
            pool.endWalk()
            try? pool.finish()  // the uploads of entries the walk did not pass are abandoned
            throw error
        }
        pool.endWalk()
        try pool.finish()
        if let abandoned {  // the walk always catches it first; this is the belt to its braces
            throw ModelPackError.invalidBundle(
                path: self.bundle, reason: "'\(abandoned)' does not match the manifest")
        }
        let order = Dictionary(manifest.files.enumerated().map { ($1.path, $0) }) { first, _ in first }
        return (blobs + pooled.withLock { $0 }).sorted { order[$0.path, default: 0] < order[$1.path, default: 0] }
    }

    private func consume(_ data: EntryData) throws {
        let record = data.record
        let digest = "sha256:" + record.sha256
        if record.role == .metadata { try readMetadata(data) }
        if present[digest] == true || sent.contains(digest) {
            blobs.append(
                BlobTransfer(digest: digest, path: record.path, size: record.size, action: .present, bytes: 0))
            return
        }
        if record.role == .metadata {
            try uploadMetadata(record)
        } else if let range = data.range {
            sent.insert(digest)
            let (record, bundle, from) = (record, self.bundle, mountSource(digest))
            let (client, pool, pooled, progress) = (client, pool, pooled, context.progress)
            try pool.submit {
                let transfer = try Self.uploadRange(
                    record, range, of: bundle, from: from, client: client, pool: pool, progress: progress)
                pooled.withLock { $0.append(transfer) }
            }
        } else {
            try uploadFromWalk(data)
        }
    }

    /// Read here for the config; uploaded from memory (it is small).
    private func readMetadata(_ data: EntryData) throws {
        while let chunk = try data.nextChunk() {
            metadataBytes.append(contentsOf: chunk)
            if metadataBytes.count > context.limits.yaml.maxBytes {
                throw ModelPackError.limitExceeded(
                    path: self.bundle, reason: "metadata.yaml is larger than \(context.limits.yaml.maxBytes) bytes")
            }
        }
    }

    private func uploadMetadata(_ record: FileRecord) throws {
        // A mismatch is the walk's to report.
        guard SHA256Stream.hex(of: metadataBytes) == record.sha256 else { return }
        let digest = "sha256:" + record.sha256
        let outcome = try client.uploadBlob(
            Data(metadataBytes), digest: digest, known: false, from: mountSource(digest))
        context.progress?(.moved(path: record.path, bytes: record.size))
        blobs.append(
            BlobTransfer(
                digest: digest, path: record.path, size: record.size,
                action: outcome == .mounted ? .mounted : .uploaded, bytes: outcome == .mounted ? 0 : record.size))
        sent.insert(digest)
    }

    /// An entry whose bytes exist only as the walk reads them (a compressed tar's).
    private func uploadFromWalk(_ data: EntryData) throws {
        let record = data.record
        let digest = "sha256:" + record.sha256
        let progress = context.progress
        switch try client.startUpload(digest: digest, from: mountSource(digest)) {
        case .mounted:
            progress?(.moved(path: record.path, bytes: record.size))  // done, nothing sent
            blobs.append(
                BlobTransfer(digest: digest, path: record.path, size: record.size, action: .mounted, bytes: 0))
        case .session(let location, let minimum):
            guard
                let bytes = try client.uploadBlob(
                    at: location, minimumChunk: minimum, digest: digest, size: record.size,
                    spoolDirectory: CacheDirectory.path() + "/spool",
                    moved: { progress?(.moved(path: record.path, bytes: $0)) },
                    read: data.read,
                    readMatches: data.matchesRecord)
            else {
                abandoned = record.path
                return  // the bytes do not match the manifest: the walk refuses the entry
            }
            blobs.append(
                BlobTransfer(digest: digest, path: record.path, size: record.size, action: .uploaded, bytes: bytes))
        }
        sent.insert(digest)
    }

    /// One file read from its range of the bundle: mounted, or uploaded and closed once the walk
    /// has found it matching the manifest (else the upload is abandoned).
    private static func uploadRange(
        _ record: FileRecord, _ range: Range<Int64>, of bundle: String, from: String?, client: RegistryClient,
        pool: UploadPool, progress: TransferObserver?
    ) throws -> BlobTransfer {
        let digest = "sha256:" + record.sha256
        switch try client.startUpload(digest: digest, from: from) {
        case .mounted:
            progress?(.moved(path: record.path, bytes: record.size))  // done, nothing sent
            return BlobTransfer(digest: digest, path: record.path, size: record.size, action: .mounted, bytes: 0)
        case .session(let location, let minimum):
            guard
                let bytes = try client.uploadBlob(
                    at: location, minimumChunk: minimum, digest: digest, path: bundle, range: range,
                    moved: { progress?(.moved(path: record.path, bytes: $0)) },
                    readMatches: { pool.verdict(record.path) })
            else {
                throw ModelPackError.invalidBundle(path: bundle, reason: "'\(record.path)' does not match the manifest")
            }
            return BlobTransfer(digest: digest, path: record.path, size: record.size, action: .uploaded, bytes: bytes)
        }
    }
}
