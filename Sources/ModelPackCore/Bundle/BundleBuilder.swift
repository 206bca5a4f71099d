import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `build` needs to know.
public struct BuildOptions: Sendable {
    public var source: String
    public var output: String
    public var format: ContainerFormat
    /// Every entry's timestamp; `SOURCE_DATE_EPOCH` when set, else 1980-01-01 (the zip epoch).
    public var timestamp: Int64
    /// Refuse to build on warnings too, not only on errors.
    public var strict: Bool
    /// Pack artifacts the audit finds dangerous; the manifest lists them in `allowedUnsafe`.
    public var allowUnsafe = false

    public init(
        source: String, output: String, format: ContainerFormat,
        timestamp: Int64 = BuildOptions.defaultTimestamp(), strict: Bool = false
    ) {
        self.source = source
        self.output = output
        self.format = format
        self.timestamp = timestamp
        self.strict = strict
    }

    public static let fixedEpoch: Int64 = 315_532_800

    public static func defaultTimestamp(environment: [String: String]? = nil) -> Int64 {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let text = environment["SOURCE_DATE_EPOCH"], let value = Int64(text), value >= 0 { return value }
        return fixedEpoch
    }
}

public struct BuildResult: Sendable {
    public let manifest: Manifest
    /// What the checks found (warnings and notes only: errors stop the build).
    public let diagnostics: DiagnosticReport
    public let audits: [ArtifactAudit]
    public let output: String
    public let bytesWritten: Int64
    public let container: ContainerFormat
    public var digest: String { manifest.digest }
}

/// Packs a model directory into a bundle.
///
/// The manifest must be the archive's first entry and it lists every file's digest, so each file
/// is read twice through one fixed buffer: once to hash it for the manifest, once to write it. The
/// second read is hashed too and must match the first; a file that changes during the build fails
/// the build instead of producing a bundle that does not verify. Memory does not grow with file
/// size. The archive is written to a temporary file next to the output and renamed into place.
public enum BundleBuilder {
    public static let toolVersion = "modelpack " + ModelPackVersion.current

    public static func build(_ options: BuildOptions) throws -> BuildResult {
        let root = try FileSystem.realPath(options.source)
        let outputDirectory = FileSystem.parentDirectory(of: options.output)
        guard FileSystem.exists(outputDirectory) else {
            throw ModelPackError.io(path: options.output, reason: "the output's directory does not exist")
        }
        let output = try FileSystem.realPath(outputDirectory) + "/" + FileSystem.lastComponent(of: options.output)
        if let info = try FileSystem.lstatInfo(output), info.kind == .directory {
            throw ModelPackError.usage("output '\(options.output)' is a directory; give a bundle file name")
        }
        // The same checks as `validate`, on the files that would be packed; the audit's read is
        // also the hashing pass for the manifest.
        let verdict = try ModelCheck.directory(
            root, excluding: [output], policy: ModelCheck.Policy(allowUnsafe: options.allowUnsafe))
        let report = verdict.report.retargeted(options.source)
        guard !report.fails(strict: options.strict), let name = verdict.name, let version = verdict.version else {
            throw ModelPackError.validationFailed(report)
        }
        let files = verdict.files
        let manifest = Manifest(
            formatVersion: Manifest.currentFormatVersion, tool: toolVersion,
            name: name, version: version, allowedUnsafe: options.allowUnsafe ? verdict.unsafeArtifacts : [],
            trustedModules: verdict.trustedModules.sorted(), files: verdict.records)
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)

        TemporaryOutput.removeStale(nextTo: output)
        let temporary = TemporaryOutput.path(nextTo: output)
        TemporaryOutput.register(temporary)
        defer { TemporaryOutput.unregister(temporary) }
        do {
            let bytes = try buffer.withUnsafeMutableBytes { raw in
                try write(manifest, files: files, to: temporary, options: options, buffer: raw)
            }
            try FileSystem.rename(temporary, output)
            FileSystem.fsyncDirectory(FileSystem.parentDirectory(of: output))
            return BuildResult(
                manifest: manifest, diagnostics: report, audits: verdict.audits, output: options.output,
                bytesWritten: bytes, container: options.format)
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }

    private static func write(
        _ manifest: Manifest, files: [SourceFile], to temporary: String,
        options: BuildOptions, buffer: UnsafeMutableRawBufferPointer
    ) throws -> Int64 {
        let out = try OutputFile(creating: temporary, mode: 0o644)
        let writer = try ArchiveWriter(fd: out.fd, path: options.output, format: options.format)
        let manifestBytes = manifest.canonicalBytes()
        try writer.begin(
            ArchiveEntryHeader(
                path: Manifest.entryPath, size: Int64(manifestBytes.count),
                mtime: options.timestamp, zipMethod: .deflate))
        try manifestBytes.withUnsafeBytes { try writer.write($0) }
        try writer.finishEntry()
        for (file, record) in zip(files, manifest.files) {
            try copy(file, record: record, into: writer, timestamp: options.timestamp, buffer: buffer)
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
            n = try input.read(into: buffer)
        }
        guard n == 0, stream.byteCount == record.size, stream.finalizeHex() == record.sha256 else {
            throw ModelPackError.invalidModel(
                path: file.absolutePath, reason: "changed while the bundle was being built; build again")
        }
        try writer.finishEntry()
    }
}
