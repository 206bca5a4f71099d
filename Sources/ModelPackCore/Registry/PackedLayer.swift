/// A ModelPack layer packed as a tar (`.tar`, `.tar+gzip`, `.tar+zstd`: how KitOps and modctl push
/// a directory, or a file with its path), as a pull of an artifact another tool made meets it. Its
/// entries are read with libarchive and judged as a bundle's are: regular files only, every path
/// through `BundlePath`, no path twice, the unpack limits counted as they are read. Each file is
/// written to a scratch file named by a number (its path touches the file system only when the
/// model directory is written, through the same checks as any other file) and hashed as it is.
struct PackedLayer {
    /// One file of the layer: its record and the scratch file that holds it.
    struct File {
        let record: FileRecord
        let scratch: String
    }

    /// The layer's path annotation (or digest), for messages.
    let name: String
    let reference: String

    /// Whether a layer of `mediaType` is packed as a tar; nil for a raw (one file) layer.
    static func packing(of mediaType: String) -> String? {
        let packing = ModelMediaType.parseLayer(mediaType)?.packing ?? "raw"
        return packing == "raw" ? nil : packing
    }

    /// Whether modelpack reads a layer packed this way.
    static func reads(_ packing: String) -> Bool { ["tar", "tar+gzip", "tar+zstd"].contains(packing) }

    /// The files of the tar at `blob`, written under `scratch` (`count` numbers the scratch
    /// files across layers; `files` and `bytes` count what the model holds so far, for the limits).
    /// The expansion ratio is held as a bundle's is: past `ratioFloor` bytes out of the layer, at
    /// most `maxRatio` bytes per byte of the layer's blob (`size`), however many times compressed.
    func unpack(
        _ blob: String, size: Int64, into scratch: String, count: inout Int, bytes: inout Int64, limits: UnpackLimits
    ) throws -> [File] {
        var expanded: Int64 = 0
        let reader = try ArchiveReader(path: blob)
        let hasher = ParallelSHA256()
        var files: [File] = []
        var first = true
        while let entry = try reader.next() {
            if first {
                first = false
                guard [.tar, .tarGz, .tarZst].contains(reader.container) else { throw refused("is not a tar archive") }
            }
            guard var path = entry.path else {
                throw refused(
                    "an entry's name is not UTF-8 ('\(RegistryText.escaped(String(decoding: entry.rawPath, as: UTF8.self)))')"
                )
            }
            while path.hasPrefix("./") { path.removeFirst(2) }
            if entry.kind == .directory || path.isEmpty || path == "." { continue }
            switch entry.kind {
            case .regular: break
            case .symlink: throw refused("'\(path)' is a symbolic link; models are rebuilt from files only")
            case .hardlink: throw refused("'\(path)' is a hard link; models are rebuilt from files only")
            default: throw refused("'\(path)' is a device, FIFO or socket")
            }
            if let problem = BundlePath.problem(with: path, maxPathBytes: limits.maxPathBytes) {
                throw refused("'\(RegistryText.escaped(path))': \(problem)")
            }
            if path.hasPrefix(".modelpack/") || path == ".modelpack" {
                throw refused("'\(path)' is inside the reserved .modelpack/ folder")
            }
            count += 1
            if count > limits.maxEntries {
                throw ModelPackError.limitExceeded(
                    path: reference,
                    reason: "more than \(limits.maxEntries) files (raise it with \(CommandFlag.maxEntries))")
            }
            let target = scratch + "/\(count)"
            let output = try OutputFile(creating: target, mode: 0o600)
            let stream = HashedStream(
                label: path, limit: limits.maxTotalSize - bytes, hasher: hasher, source: reader.read)
            stream.onChunk = { chunk in
                try output.write(chunk)
                expanded += Int64(chunk.count)
                if expanded > limits.ratioFloor, expanded / max(size, 1) > limits.maxRatio {
                    throw ModelPackError.limitExceeded(
                        path: reference,
                        reason:
                            "layer '\(RegistryText.escaped(name))' expands more than \(limits.maxRatio):1 (a compression bomb? raise it with \(CommandFlag.maxRatio))"
                    )
                }
            }
            let digest = try stream.finish()
            if stream.overflow {
                throw ModelPackError.limitExceeded(
                    path: reference,
                    reason: "more than \(limits.maxTotalSize) bytes in all (raise it with \(CommandFlag.maxTotalSize))")
            }
            bytes += stream.byteCount
            files.append(
                File(
                    record: FileRecord(
                        path: path, role: FileRole.of(path), size: stream.byteCount, sha256: digest,
                        executable: entry.mode & 0o100 != 0),
                    scratch: target))
        }
        return files
    }

    private func refused(_ why: String) -> ModelPackError {
        ModelPackError.registry(
            reference: reference, reason: "refused layer '\(RegistryText.escaped(name))' (tar): \(why)")
    }
}
