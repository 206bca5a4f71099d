#if canImport(Glibc)
    import Glibc
#endif

/// Writes a bundle to a temporary file next to the output, renamed into place by `complete` once
/// it is whole and on disk: the manifest as the first entry, then every file in the manifest's
/// order, through fixed buffers (memory does not grow with file size). It knows nothing of the
/// checks (Operations.build runs them).
///
/// Two ways, one writer:
/// - **One read of each file** (zip, tar): the manifest entry is reserved first (its length is
///   known before any digest, every digest being 64 hex digits), build's one pass over the
///   directory (audit and hashing) hands each file's bytes to `start`/`write`/`end` as it reads
///   them, and `complete` writes the manifest into its place. The bytes are the second way's.
/// - **Two reads** (tar.gz and tar.zst, whose compressed stream cannot be changed afterwards, and
///   a manifest whose length the reservation missed): `copy` reads each file again after the
///   checks, hashed beside the writer and held to its record, so a file that changed since fails
///   the build instead of producing a bundle that does not verify.
final class BundleWriter {
    let output: String
    let format: ContainerFormat
    private let timestamp: Int64
    private let temporary: String
    private let file: OutputFile
    private let writer: ArchiveWriter
    private var reserved: ReservedEntry?
    /// The file started last, until its first chunk begins its entry.
    private var pending: FileRecord?
    private let compressibility: Compressibility
    private var finished = false

    /// Opens the temporary file and writes the manifest entry: `manifest`'s bytes, or with
    /// `reserving: true` zeros of their length, to be replaced by `complete`.
    init(
        manifest: Manifest, reserving: Bool, to output: String, displayName: String, format: ContainerFormat,
        timestamp: Int64
    ) throws {
        precondition(
            !reserving || (ArchiveWriter.canReserve(format) && manifest.formatVersion >= 2),
            "the manifest is reserved in zip and tar, from format 2")
        self.output = output
        self.format = format
        self.timestamp = timestamp
        compressibility = Compressibility(formatVersion: manifest.formatVersion)
        TemporaryOutput.removeStale(nextTo: output)
        temporary = TemporaryOutput.path(nextTo: output)
        TemporaryOutput.register(temporary)
        do {
            file = try OutputFile(creating: temporary, mode: 0o644, readable: true)
            writer = try ArchiveWriter(fd: file.fd, path: displayName, format: format)
            let header = ArchiveEntryHeader(
                path: Manifest.entryPath, size: 0, mtime: timestamp, zipMethod: Self.manifestMethod(manifest))
            let bytes = manifest.canonicalBytes()
            if reserving {
                reserved = try writer.reserve(header, length: bytes.count)
            } else {
                var complete = header
                complete.size = Int64(bytes.count)
                try writer.begin(complete)
                try bytes.withUnsafeBytes { try writer.write($0) }
                try writer.finishEntry()
            }
        } catch {
            FileSystem.removeTree(temporary)
            TemporaryOutput.unregister(temporary)
            throw error
        }
    }

    /// From format 2 the manifest entry of a zip is stored, so that it can be filled in place;
    /// format 1 deflated it (a format 1 bundle pulled from a registry keeps that layout, as it keeps
    /// format 1's compressibility trial for every artifact).
    static func manifestMethod(_ manifest: Manifest) -> ZipMethod {
        manifest.formatVersion >= 2 ? .store : .deflate
    }

    /// Writes a whole bundle from files whose records are known (the second read; a pull).
    static func write(
        _ manifest: Manifest, files: [SourceFile], to output: String, displayName: String, format: ContainerFormat,
        timestamp: Int64, progress: TransferObserver? = nil
    ) throws -> Int64 {
        let writer = try BundleWriter(
            manifest: manifest, reserving: false, to: output, displayName: displayName, format: format,
            timestamp: timestamp)
        try writer.copy(files, records: manifest.files, progress: progress)
        return try writer.complete(manifest) ?? 0
    }

    deinit {
        if !finished { discard() }
    }

    /// Starts the file `record` (its digest is not used: it may not be known yet). Its entry is
    /// begun by its first chunk, whose start chooses a zip entry's method (`Compressibility`).
    func start(_ record: FileRecord) { pending = record }

    /// Adds the next chunk of the file started last.
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if let record = pending { try begin(record, sample: chunk) }
        try writer.write(chunk)
    }

    /// Ends the file started last (an empty one is begun here).
    func end() throws {
        if let record = pending { try begin(record, sample: UnsafeRawBufferPointer(start: nil, count: 0)) }
        try writer.finishEntry()
    }

    private func begin(_ record: FileRecord, sample: UnsafeRawBufferPointer) throws {
        pending = nil
        let method = compressibility.method(for: record.role, size: record.size, sample: sample)
        try writer.begin(
            ArchiveEntryHeader(
                path: record.path, size: record.size, mode: record.executable ? 0o755 : 0o644, mtime: timestamp,
                zipMethod: method))
    }

    /// The second read: copies `files` (in `records`' order), each hashed again and held to its
    /// record.
    func copy(_ files: [SourceFile], records: [FileRecord], progress: TransferObserver?) throws {
        progress?(.total(records.reduce(0) { $0 + $1.size }))  // a second phase
        let hasher = ParallelSHA256()
        for (source, record) in zip(files, records) {
            let stream = try InputFile(path: source.absolutePath).hashedStream(
                label: record.path, size: record.size, hasher: hasher)
            stream.progress = progress
            start(record)
            stream.onChunk = write
            let digest = try stream.finish()
            guard !stream.overflow, stream.byteCount == record.size, digest == record.sha256 else {
                throw ModelPackError.invalidModel(
                    path: source.absolutePath, reason: "changed while the bundle was being built; build again")
            }
            try end()
        }
    }

    /// Writes the manifest into its reserved place, closes the archive, syncs the file and renames
    /// it into place; the bytes written. Returns nil, leaving everything as it was, when the
    /// reserved length was not the manifest's (`build --allow-unsafe` listing artifacts).
    func complete(_ manifest: Manifest) throws -> Int64? {
        let bytes = manifest.canonicalBytes()
        if let reserved, reserved.length != bytes.count {
            discard()
            return nil
        }
        do {
            if let reserved { try writer.fill(reserved, with: bytes) }
            try writer.close()
            try file.sync()
            let size = try FileSystem.lstatInfo(temporary)?.size ?? 0
            try FileSystem.rename(temporary, output)
            finished = true
            TemporaryOutput.unregister(temporary)
            FileSystem.fsyncDirectory(FileSystem.parentDirectory(of: output))
            return size
        } catch {
            discard()
            throw error
        }
    }

    /// Removes the temporary file (a failed check, an error).
    func discard() {
        guard !finished else { return }
        finished = true
        try? writer.close()  // while the file is still open: libarchive flushes into it
        FileSystem.removeTree(temporary)
        TemporaryOutput.unregister(temporary)
    }
}
