/// What `inspect` shows: everything comes from the manifest, the archive's first entry, so the
/// time taken does not grow with the size of the artifacts.
package struct BundleSummary: Sendable {
    package let path: String
    package let container: ContainerFormat
    package let archiveSize: Int64
    package let manifest: Manifest
    /// The entries' timestamp (every entry of a bundle has the build's), from the manifest entry.
    package let timestamp: Int64
    package var digest: String { manifest.digest }
}

/// Opens bundles and reads their manifest.
package enum BundleReader {
    /// Reads only the manifest of the bundle at `path`.
    package static func inspect(_ path: String, limits: UnpackLimits) throws -> BundleSummary {
        let (_, summary) = try open(path, limits: limits)
        return summary
    }

    /// Opens the bundle and reads its first entry, which must be the manifest, and holds the
    /// manifest to the limits (entries, total size, ratio) before anything else is read: every
    /// command that reads a bundle comes through here. The returned reader is positioned after it.
    static func open(_ path: String, limits: UnpackLimits, progress: TransferObserver? = nil) throws -> (
        ArchiveReader, BundleSummary
    ) {
        let reader = try ArchiveReader(path: path)
        guard let first = try reader.next() else {
            throw ModelPackError.invalidBundle(path: path, reason: "empty archive")
        }
        guard let container = reader.container else {
            throw ModelPackError.invalidBundle(path: path, reason: "not a zip, tar, tar.gz or tar.zst archive")
        }
        guard first.path == Manifest.entryPath, first.kind == .regular else {
            throw ModelPackError.invalidBundle(
                path: path,
                reason: "not a modelpack bundle: the first entry is '\(first.path ?? "?")', not \(Manifest.entryPath)")
        }
        if let size = first.declaredSize, size > Int64(Manifest.maxBytes) {
            throw ModelPackError.limitExceeded(path: path, reason: "manifest is larger than \(Manifest.maxBytes) bytes")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > Manifest.maxBytes {
                throw ModelPackError.limitExceeded(
                    path: path, reason: "manifest is larger than \(Manifest.maxBytes) bytes")
            }
        }
        let manifest = try Manifest.decode(bytes, bundle: path, maxPathBytes: limits.maxPathBytes)
        let size = try FileSystem.lstatInfo(path)?.size ?? 0
        try limits.check(manifest, archiveSize: size, bundle: path)
        // Names as the zip spells them, which libarchive does not always hand out as they are.
        if container == .zip, let name = try reader.zipMemberWithBackslash(maxMembers: limits.maxEntries + 1) {
            throw ModelPackError.invalidBundle(path: path, reason: "refused entry '\(name)': backslash in path")
        }
        reader.readDataDirectly()
        progress?(.total(manifest.totalSize))
        return (
            reader,
            BundleSummary(
                path: path, container: container, archiveSize: size, manifest: manifest,
                timestamp: first.mtime ?? SourceDate.fixedEpoch)
        )
    }
}
