/// The files of a model to validate, from a directory or from a bundle (read without unpacking).
struct ModelSource {
    /// Every file with its size.
    let sizes: [String: Int64]
    /// The text files the checks read: the three required files and small `.txt` files (includes).
    let texts: [String: [UInt8]]
    let isBundle: Bool

    static let maxTextBytes = 4 << 20

    /// The directory's files (as `build` would pack them, leaving out `excluding`) and their texts.
    static func directory(_ root: String, excluding: Set<String> = []) throws -> (
        source: ModelSource, files: [SourceFile]
    ) {
        let files = try ModelDirectory.scan(root: root, excluding: excluding, requireFiles: false)
        var texts: [String: [UInt8]] = [:]
        for file in files where isText(file.path) && file.size <= Int64(maxTextBytes) {
            texts[file.path] = try FileSystem.readWholeFile(file.absolutePath, limit: maxTextBytes)
        }
        let source = ModelSource(
            sizes: Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.size) }), texts: texts,
            isBundle: false)
        return (source, files)
    }

    /// Reads every entry of the bundle once, verifying it against the manifest as `verify` does,
    /// and keeps the text files in memory.
    static func bundle(_ path: String) throws -> ModelSource {
        let (reader, summary) = try BundleReader.open(path)
        var walk = EntryWalk(reader: reader, manifest: summary.manifest)
        var texts: [String: [UInt8]] = [:]
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
        try buffer.withUnsafeMutableBytes { raw in
            var current: String?
            while let check = try walk.next(
                buffer: raw,
                sink: { record in
                    guard isText(record.path), record.size <= Int64(maxTextBytes) else { current = nil; return nil }
                    current = record.path
                    texts[record.path] = []
                    return { bytes in texts[record.path]!.append(contentsOf: bytes) }
                })
            {
                guard check.status == .ok else {
                    if let current { texts[current] = nil }
                    throw ModelPackError.invalidBundle(
                        path: path, reason: "refused entry '\(check.path)': \(check.detail ?? check.status.rawValue)")
                }
            }
        }
        if let missing = walk.unseen.first {
            throw ModelPackError.invalidBundle(
                path: path, reason: "'\(missing.path)' is listed in the manifest but not in the archive")
        }
        return ModelSource(
            sizes: Dictionary(uniqueKeysWithValues: summary.manifest.files.map { ($0.path, $0.size) }),
            texts: texts, isBundle: true)
    }

    static func isText(_ path: String) -> Bool {
        ModelDirectory.requiredFiles.contains(path) || path.hasSuffix(".txt")
    }
}
