import Foundation

extension Operations {
    /// `push`: every file of the bundle as a raw layer (a blob the registry has is never sent
    /// again; one it lacks is mounted from `mountFrom`, or from the repository it was last pushed
    /// to or pulled from on this registry), then the ModelPack config, the
    /// bundle manifest layer and the image manifest, and BUNDLE.sig as a referrer. The bundle is
    /// read once and verified entry by entry as it streams (`PushWalk`); the manifest is put last,
    /// so a push that fails leaves the tag as it was.
    public static func push(_ options: PushOptions, context: RunContext) throws -> PushResult {
        let (reader, summary) = try BundleReader.open(options.bundle, limits: context.limits.unpack)
        let manifest = summary.manifest
        let digests = manifest.files.map { "sha256:" + $0.sha256 }
        var locations = BlobLocations(registry: options.reference.registry)
        let repository = options.reference.repository
        let known = locations
        func mountSource(_ digest: String) -> String? {
            options.registry.mountFrom ?? known.source(of: digest, besides: repository)
        }
        let client = try RegistryClient(
            options.reference, push: true, options: options.registry,
            mountSources: digests.compactMap { locations.source(of: $0, besides: repository) })
        let present = try RegistryTransfer.concurrently(Array(Set(digests)), limit: options.registry.concurrency) {
            try client.blobExists($0)
        }
        var counted: Set<String> = []
        let missing = manifest.files.filter {
            present["sha256:" + $0.sha256] != true && counted.insert($0.sha256).inserted
        }
        context.progress?(.total(missing.reduce(0) { $0 + $1.size }))
        let walk = PushWalk(
            options: options, context: context, client: client, present: present, mountSource: mountSource)
        let blobs = try walk.run(reader: reader, manifest: manifest)
        let metadata = try YAMLReader.parse(walk.metadataBytes, limits: context.limits.yaml)
        let config = ModelArtifact.config(manifest: manifest, metadata: metadata, timestamp: summary.timestamp)
        let manifestBytes = manifest.canonicalBytes()
        let ociManifest = ModelArtifact.manifest(
            for: manifest, timestamp: summary.timestamp, config: config, bundleManifestBytes: manifestBytes)
        let configDigest = ociManifest.config!.digest
        let manifestLayerDigest = "sha256:" + SHA256Stream.hex(of: manifestBytes)
        try client.uploadBlob(config, digest: configDigest, from: mountSource(configDigest))
        try client.uploadBlob(Data(manifestBytes), digest: manifestLayerDigest, from: mountSource(manifestLayerDigest))
        let data = ociManifest.encoded()
        let digest = try client.putManifest(
            data, mediaType: ModelMediaType.imageManifest, at: options.reference.manifestReference)
        locations.record(digests + [configDigest, manifestLayerDigest], in: repository)
        locations.save()
        var signatureDigest: String?
        let signaturePath = BundleSignature.path(for: options.bundle)
        if FileSystem.exists(signaturePath) {
            let envelope = try FileSystem.readWholeFile(signaturePath, limit: BundleSignature.maxEnvelopeBytes)
            signatureDigest = try RegistrySignature.push(
                envelope,
                subject: OCIDescriptor(
                    mediaType: ModelMediaType.imageManifest, digest: digest, size: Int64(data.count),
                    artifactType: ModelMediaType.artifact),
                client: client)
        }
        return PushResult(
            reference: options.reference, manifestDigest: digest, bundleDigest: manifest.digest, blobs: blobs,
            signatureDigest: signatureDigest, requests: client.requestCount)
    }
}

/// The one read of a bundle under push: the bundle walk (`EntryWalk`) judges every entry, and each
/// file the registry lacks is sent one of three ways:
/// - metadata.yaml is read into memory (the config is made from it) and uploaded from there;
/// - a file lying as it is in the bundle (a plain tar's entry, a stored zip member) is uploaded
///   from its range of the bundle file by the pool, `--concurrency` at a time, while the walk reads
///   on; each upload's closing request waits for the walk to find that file matching;
/// - anything else (an entry of a compressed tar) is uploaded from the walk's own bytes, as they
///   are decompressed, and closed only if the walk's hash matches.
/// A blob the registry has, or that this push already sent, is counted and not sent again.
private final class PushWalk {
    let options: PushOptions
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
        options: PushOptions, context: RunContext, client: RegistryClient, present: [String: Bool],
        mountSource: @escaping (String) -> String?
    ) {
        self.options = options
        self.context = context
        self.client = client
        self.present = present
        self.mountSource = mountSource
        pool = UploadPool(limit: options.registry.concurrency)
    }

    /// Walks the bundle, sending what the registry lacks; every blob, in the manifest's order.
    func run(reader: ArchiveReader, manifest: Manifest) throws -> [BlobTransfer] {
        var walk = EntryWalk(reader: reader, manifest: manifest, maxPathBytes: context.limits.unpack.maxPathBytes)
        do {
            try walk.requireEveryEntry(of: options.bundle, consume: consume, verified: pool.verify)
        } catch {
            pool.endWalk()
            try? pool.finish()  // the uploads of entries the walk did not pass are abandoned
            throw error
        }
        pool.endWalk()
        try pool.finish()
        if let abandoned {  // the walk always catches it first; this is the belt to its braces
            throw ModelPackError.invalidBundle(
                path: options.bundle, reason: "'\(abandoned)' does not match the manifest")
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
            let (record, bundle, from) = (record, options.bundle, mountSource(digest))
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
                    path: options.bundle, reason: "metadata.yaml is larger than \(context.limits.yaml.maxBytes) bytes")
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
