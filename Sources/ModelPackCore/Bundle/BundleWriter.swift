#if canImport(Glibc)
    import Glibc
#endif

/// Writes a bundle: the manifest as the first entry, then every file, through one fixed buffer, to
/// a temporary file next to the output that is renamed into place. Each file is hashed again as
/// it is copied and must match its record: a file that changes during the build fails it instead
/// of producing a bundle that does not verify. Memory does not grow with file size. It knows
/// nothing of the checks (Operations.build runs them first).
enum BundleWriter {
    /// Writes `manifest` with `files` (in the manifest's order) to `output`; returns the bytes written.
    static func write(
        _ manifest: Manifest, files: [SourceFile], to output: String, displayName: String, format: ContainerFormat,
        timestamp: Int64
    ) throws -> Int64 {
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
        TemporaryOutput.removeStale(nextTo: output)
        let temporary = TemporaryOutput.path(nextTo: output)
        TemporaryOutput.register(temporary)
        defer { TemporaryOutput.unregister(temporary) }
        do {
            let bytes = try buffer.withUnsafeMutableBytes { raw in
                try write(
                    manifest, files: files, to: temporary, displayName: displayName, format: format,
                    timestamp: timestamp, buffer: raw)
            }
            try FileSystem.rename(temporary, output)
            FileSystem.fsyncDirectory(FileSystem.parentDirectory(of: output))
            return bytes
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }

    private static func write(
        _ manifest: Manifest, files: [SourceFile], to temporary: String, displayName: String,
        format: ContainerFormat, timestamp: Int64, buffer: UnsafeMutableRawBufferPointer
    ) throws -> Int64 {
        let out = try OutputFile(creating: temporary, mode: 0o644)
        let writer = try ArchiveWriter(fd: out.fd, path: displayName, format: format)
        let manifestBytes = manifest.canonicalBytes()
        try writer.begin(
            ArchiveEntryHeader(
                path: Manifest.entryPath, size: Int64(manifestBytes.count),
                mtime: timestamp, zipMethod: .deflate))
        try manifestBytes.withUnsafeBytes { try writer.write($0) }
        try writer.finishEntry()
        ProgressReporting.total(manifest.totalSize)
        for (file, record) in zip(files, manifest.files) {
            try copy(file, record: record, into: writer, timestamp: timestamp, buffer: buffer)
        }
        try writer.close()
        try out.sync()
        return try FileSystem.lstatInfo(temporary)?.size ?? 0
    }

    private static func copy(
        _ file: SourceFile, record: FileRecord, into writer: ArchiveWriter, timestamp: Int64,
        buffer: UnsafeMutableRawBufferPointer
    ) throws {
        let input = try InputFile(path: file.absolutePath)
        var stream = SHA256Stream()
        var n = try input.read(into: buffer)
        // The first chunk doubles as the compressibility sample.
        let sample = UnsafeRawBufferPointer(rebasing: buffer[0..<min(n, Compressibility.sampleSize)])
        let method = Compressibility.method(for: record.role, size: record.size, sample: sample)
        try writer.begin(
            ArchiveEntryHeader(
                path: record.path, size: record.size,
                mode: record.executable ? 0o755 : 0o644,
                mtime: timestamp, zipMethod: method))
        while n > 0 {
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if stream.byteCount + Int64(n) > record.size { break }
            stream.update(chunk)
            try writer.write(chunk)
            ProgressReporting.moved(record.path, n)
            n = try input.read(into: buffer)
        }
        guard n == 0, stream.byteCount == record.size, stream.finalizeHex() == record.sha256 else {
            throw ModelPackError.invalidModel(
                path: file.absolutePath, reason: "changed while the bundle was being built; build again")
        }
        try writer.finishEntry()
    }
}
