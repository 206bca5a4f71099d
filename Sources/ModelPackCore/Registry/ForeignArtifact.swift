import Foundation

/// A ModelPack artifact another tool pushed (no bundle manifest layer), rebuilt as a model from
/// its layers: a raw layer is the file its path annotation names, a tar layer holds files under
/// their own paths (`PackedLayer`). Every blob is fetched through the cache and checked against
/// its digest; the paths are held to the rules of a bundle's manifest (no reserved, colliding or
/// bytecode path, no file that is also a folder) and the files to the unpack limits.
struct ForeignArtifact {
    /// The model's files as a manifest would list them (tool "registry").
    let manifest: Manifest
    /// Where each file's bytes are (the cache, or the scratch folder for a tar layer's files).
    let files: [SourceFile]
    /// modelpack's required files the artifact does not have.
    let missing: [String]
    let blobs: [BlobTransfer]

    /// Rebuilds `remote`, writing the files of its tar layers under `scratch`.
    static func rebuild(
        _ remote: RemoteArtifact, client: RegistryClient, cache: BlobCache, concurrency: Int, context: RunContext,
        scratch: String
    ) throws -> ForeignArtifact {
        let reference = remote.reference.text
        var raw: [FileRecord] = []
        var packed: [(OCIDescriptor, PackedLayer)] = []
        var seen: Set<String> = []  // no path twice, across every layer
        func twice(_ path: String) -> ModelPackError {
            ModelPackError.registry(reference: reference, reason: "two layers hold '\(RegistryText.escaped(path))'")
        }
        var byDigest: [String: OCIDescriptor] = [:]
        for layer in remote.files {
            guard let path = layer.filepath else {
                throw ModelPackError.registry(
                    reference: reference, reason: "layer \(layer.digest) names no file (no \(ModelAnnotation.filepath))"
                )
            }
            guard ImageReference.isDigest(layer.digest) else {
                throw ModelPackError.registry(
                    reference: reference, reason: "layer '\(RegistryText.escaped(path))' has digest '\(layer.digest)'")
            }
            byDigest[layer.digest] = layer
            if let packing = PackedLayer.packing(of: layer.mediaType) {
                guard PackedLayer.reads(packing) else {
                    throw ModelPackError.registry(
                        reference: reference,
                        reason:
                            "layer '\(RegistryText.escaped(path))' is \(RegistryText.escaped(layer.mediaType)); modelpack reads raw layers and tar layers (plain, gzip or zstd)"
                    )
                }
                packed.append((layer, PackedLayer(name: path, reference: reference)))
                continue
            }
            if let problem = BundlePath.problem(with: path, maxPathBytes: context.limits.unpack.maxPathBytes) {
                throw ModelPackError.registry(
                    reference: reference, reason: "refused layer '\(RegistryText.escaped(path))': \(problem)")
            }
            guard seen.insert(path).inserted else { throw twice(path) }
            let mode = layer.annotations?[ModelAnnotation.fileMetadata].flatMap { json in
                (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["mode"] as? Int
            }
            raw.append(
                FileRecord(
                    path: path, role: FileRole.of(path), size: layer.size, sha256: String(layer.digest.dropFirst(7)),
                    executable: (mode ?? 0o644) & 0o100 != 0))
        }
        let limits = context.limits.unpack
        try limits.check(
            files: raw.count, totalSize: raw.reduce(0) { $0 + $1.size }, archiveSize: nil, path: reference)
        let (paths, blobs) = try cache.fetchAll(
            Array(byDigest.keys).sorted(), byDigest, client: client, concurrency: concurrency,
            progress: context.progress)
        var sources: [String: String] = [:]  // path -> the file holding it
        for record in raw { sources[record.path] = paths["sha256:" + record.sha256]! }
        var records = raw
        var count = raw.count
        var bytes = raw.reduce(0) { $0 + $1.size }
        for (layer, packing) in packed {
            for file in try packing.unpack(
                paths[layer.digest]!, size: layer.size, into: scratch, count: &count, bytes: &bytes, limits: limits)
            {
                guard seen.insert(file.record.path).inserted else { throw twice(file.record.path) }
                records.append(file.record)
                sources[file.record.path] = file.scratch
            }
        }
        records.sort { BundlePath.byteOrder($0.path, $1.path) }
        let manifest = Manifest(
            formatVersion: Manifest.currentFormatVersion, tool: "registry", name: remote.config.name ?? "model",
            version: remote.config.version ?? "0", files: records)
        // The paths a bundle's manifest may hold, and no others: nothing in .modelpack/, no two
        // that collide on a case-insensitive file system, no file that is also a folder.
        try manifest.checkPaths(maxPathBytes: limits.maxPathBytes) {
            ModelPackError.registry(reference: reference, reason: "refused: \($0)")
        }
        try limits.check(manifest, archiveSize: manifest.totalSize, bundle: reference)
        let files = records.map {
            SourceFile(path: $0.path, absolutePath: sources[$0.path]!, size: $0.size, executable: $0.executable)
        }
        let missing = ModelDirectory.requiredFiles.filter { name in !records.contains { $0.path == name } }
        return ForeignArtifact(manifest: manifest, files: files, missing: missing, blobs: blobs)
    }
}
