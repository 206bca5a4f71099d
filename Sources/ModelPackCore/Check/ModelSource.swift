/// The files of a model as the checks see them, from a directory or from a bundle (read once,
/// without unpacking): every path with its size, the text files the checks read, and every
/// artifact's content audit.
struct ModelSource {
    /// `paths`: the keys of `sizes` in bundle order, when the caller has them so (a directory's
    /// scan sorts them already; 5,000 paths sorted twice cost a small-file build 5%).
    init(sizes: [String: Int64], texts: [String: [UInt8]], isBundle: Bool, paths: [String]? = nil) {
        self.sizes = sizes
        self.texts = texts
        self.isBundle = isBundle
        self.paths = paths ?? sizes.keys.sorted { BundlePath.byteOrder($0, $1) }
    }

    /// Every file with its size.
    let sizes: [String: Int64]
    /// The text files the checks read: the three required files and small `.txt` files (includes).
    let texts: [String: [UInt8]]
    let isBundle: Bool
    /// Every artifact's audit, in path order.
    private(set) var audits: [ArtifactAudit] = []
    /// A directory's files as `build` packs them, and their records (digests), once audited.
    private(set) var files: [SourceFile] = []
    private(set) var records: [FileRecord] = []
    /// A bundle's manifest and container.
    private(set) var summary: BundleSummary?

    /// Every path, in bundle order.
    let paths: [String]

    static func isText(_ path: String) -> Bool {
        ModelDirectory.requiredFiles.contains(path) || path.hasSuffix(".txt") || path.hasSuffix(".py")
    }

    /// The directory's files (as `build` would pack them, leaving out `excluding`) and their
    /// texts; artifacts are audited later (`auditFiles`), once metadata.yaml says what it trusts.
    static func directory(_ root: String, excluding: Set<String> = [], limits: UnpackLimits) throws -> ModelSource {
        let files = try ModelDirectory.scan(
            root: root, excluding: excluding, requireFiles: false, maxPathBytes: limits.maxPathBytes)
        // The bundle it would make must be one that unpack takes with the same limits.
        try limits.check(
            files: files.count, totalSize: files.reduce(Int64(0)) { $0 + $1.size }, archiveSize: nil, path: root)
        var texts: [String: [UInt8]] = [:]
        for file in files where isText(file.path) && file.size <= Int64(Limits.maxTextBytes) {
            texts[file.path] = try FileSystem.readWholeFile(file.absolutePath, limit: Limits.maxTextBytes)
        }
        var source = ModelSource(
            sizes: Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.size) }), texts: texts, isBundle: false,
            paths: files.map(\.path))
        source.files = files
        return source
    }

    /// Hashes every file of a directory in one read, auditing each artifact in the same read and,
    /// for `build`, writing it into the bundle from the same bytes (`packing`). Small files are read
    /// and hashed ahead on a second thread (`FilePrefetch`); larger ones stream, hashed beside the
    /// reading (`ParallelSHA256`).
    mutating func auditFiles(
        context: AuditContext, progress: TransferObserver?, packing writer: BundleWriter? = nil
    ) throws {
        var records: [FileRecord] = []
        var audits: [ArtifactAudit] = []
        records.reserveCapacity(files.count)
        progress?(.total(files.reduce(0) { $0 + $1.size }))
        let hasher = ParallelSHA256()
        let prefetch = FilePrefetch(files: files)
        for (index, file) in files.enumerated() {
            let role = FileRole.of(file.path)
            let record = FileRecord(
                path: file.path, role: role, size: file.size, sha256: "", executable: file.executable)
            func audit(_ reader: ByteReader) throws {
                guard role == .artifact else { return }
                audits.append(
                    try ArtifactAuditor.audit(
                        path: file.path, size: file.size, reader: reader, filePath: file.absolutePath,
                        context: context))
            }
            func changed() -> ModelPackError {
                ModelPackError.invalidModel(
                    path: file.absolutePath, reason: "changed while it was being read; try again")
            }
            let digest: String
            if let read = try prefetch.take(index) {
                guard read.bytes.count == file.size else { throw changed() }
                if let writer {
                    writer.start(record)
                    if !read.bytes.isEmpty { try read.bytes.withUnsafeBytes { try writer.write($0) } }
                }
                if !read.bytes.isEmpty { progress?(.moved(path: file.path, bytes: Int64(read.bytes.count))) }
                try audit(ByteReader(bytes: read.bytes))
                digest = read.sha256
            } else {
                let stream = try InputFile(path: file.absolutePath).hashedStream(
                    label: file.path, size: file.size, hasher: hasher)
                stream.progress = progress
                if let writer {
                    writer.start(record)
                    stream.onChunk = writer.write
                }
                do {
                    try audit(stream.byteReader())
                    digest = try stream.finish()
                } catch {
                    stream.abandon()
                    throw error
                }
                guard !stream.overflow, stream.byteCount == file.size else { throw changed() }
            }
            try writer?.end()
            records.append(
                FileRecord(path: file.path, role: role, size: file.size, sha256: digest, executable: file.executable))
        }
        self.records = records
        self.audits = audits
    }

    /// Reads every entry of the bundle once through the one bundle walk (`EntryWalk`): each is
    /// verified against the manifest, each artifact is audited as it streams past, and the text
    /// files are kept. A refused, tampered or truncated entry is an error naming the bundle.
    static func bundle(_ path: String, run: RunContext) throws -> ModelSource {
        let (reader, summary) = try BundleReader.open(path, limits: run.limits.unpack, progress: run.progress)
        let manifest = summary.manifest
        let context = AuditContext(
            paths: manifest.files.map(\.path), trustedModules: manifest.trustedModules, limits: run.limits)
        var walk = EntryWalk(
            reader: reader, manifest: manifest, maxPathBytes: run.limits.unpack.maxPathBytes, progress: run.progress)
        var texts: [String: [UInt8]] = [:]
        var audits: [ArtifactAudit] = []
        try walk.requireEveryEntry(of: path) { data in
            let record = data.record
            var reader = data.byteReader()
            if isText(record.path) && record.size <= Int64(Limits.maxTextBytes) {
                // A short entry is the walk's finding (size mismatch), after this returns.
                let bytes = (try? reader.bytes(record.size, keepingAtMost: Limits.maxTextBytes)) ?? []
                texts[record.path] = bytes
                reader = ByteReader(bytes: bytes)  // a .txt artifact is audited too
            }
            if record.role == .artifact {
                audits.append(
                    try ArtifactAuditor.audit(
                        path: record.path, size: record.size, reader: reader, filePath: nil, context: context))
            }
        }
        var source = ModelSource(
            sizes: Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0.size) }), texts: texts,
            isBundle: true)
        source.audits = audits
        source.records = manifest.files
        source.summary = summary
        return source
    }
}
