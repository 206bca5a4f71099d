#if canImport(Glibc)
    import Glibc
#endif

/// Extracts a bundle safely. Everything is written into a fresh temporary directory next to the
/// destination, only regular files at paths that pass `BundlePath`, each cut off at its manifest
/// size and hashed as it is written; the directory is renamed into place only once every file has
/// matched and none is missing, and only once the file system has written it all out (a power
/// loss then leaves the old destination or the whole new tree). Any problem removes the temporary
/// directory and leaves the destination as it was.
package enum Unpacker {
    @discardableResult
    /// `signature`: given the manifest before anything is written, the signature to keep as
    /// `.modelpack/signature.sig` (the caller judges whether one covers the bundle).
    package static func unpack(
        _ bundle: String, to destination: String, force: Bool, context: RunContext,
        signature: ((Manifest) -> [UInt8]?)? = nil
    ) throws -> BundleSummary {
        let destination = trimmed(destination)
        if FileSystem.exists(destination) && !force {
            throw ModelPackError.destinationExists(path: destination)
        }
        let (reader, summary) = try BundleReader.open(
            bundle, limits: context.limits.unpack, progress: context.progress)
        let signature = signature?(summary.manifest)
        try intoFreshDirectory(destination, force: force, needing: summary.manifest.totalSize) { temporary in
            try extract(reader: reader, summary: summary, into: temporary, context: context)
            if let signature { try keep(signature, in: temporary) }
        }
        return summary
    }

    /// Writes a signature envelope to `.modelpack/signature.sig` of a directory being filled.
    private static func keep(_ signature: [UInt8], in root: String) throws {
        let file = try OutputFile(creating: root + "/" + Manifest.signatureEntryPath, mode: 0o644)
        try signature.withUnsafeBytes { try file.write($0) }
    }

    /// The same extraction from files already on disk and verified (a pull's blob cache): each is
    /// copied and hashed again against its record. `writeManifest: false` leaves out
    /// .modelpack/manifest.json (a directory rebuilt from an artifact modelpack did not make).
    static func materialize(
        _ manifest: Manifest, files: [SourceFile], to destination: String, force: Bool, writeManifest: Bool = true,
        signature: [UInt8]? = nil
    ) throws {
        let destination = trimmed(destination)
        if FileSystem.exists(destination) && !force { throw ModelPackError.destinationExists(path: destination) }
        try intoFreshDirectory(destination, force: force, needing: manifest.totalSize) { root in
            var created: Set<String> = []
            if writeManifest {
                try FileSystem.makeDirectory(root + "/.modelpack")
                let manifestFile = try OutputFile(creating: root + "/" + Manifest.entryPath, mode: 0o644)
                try manifest.canonicalBytes().withUnsafeBytes { try manifestFile.write($0) }
                created.insert(".modelpack")
                if let signature { try keep(signature, in: root) }
            }
            let hasher = ParallelSHA256()
            for (file, record) in zip(files, manifest.files) {
                try makeParents(of: record.path, under: root, created: &created)
                let output = try OutputFile(
                    creating: root + "/" + record.path, mode: record.executable ? 0o755 : 0o644)
                output.writeback = WritebackPacer()
                let stream = try InputFile(path: file.absolutePath).hashedStream(
                    label: record.path, size: record.size, hasher: hasher)
                stream.onChunk = output.write
                let digest = try stream.finish()
                guard !stream.overflow, stream.byteCount == record.size, digest == record.sha256 else {
                    throw ModelPackError.invalidBundle(
                        path: file.absolutePath, reason: "does not match '\(record.path)' in the manifest")
                }
            }
        }
    }

    private static func trimmed(_ destination: String) -> String {
        destination.hasSuffix("/") && destination.count > 1 ? String(destination.dropLast()) : destination
    }

    /// Runs `fill` on a fresh temporary directory next to `destination` and renames it into place
    /// once `fill` returns; any failure removes it and leaves the destination as it was.
    private static func intoFreshDirectory(
        _ destination: String, force: Bool, needing bytes: Int64, fill: (String) throws -> Void
    ) throws {
        let parent = FileSystem.parentDirectory(of: destination)
        if let free = FileSystem.availableBytes(at: parent), free < bytes {
            throw ModelPackError.io(path: destination, reason: "needs \(bytes) bytes, only \(free) are free")
        }
        TemporaryOutput.removeStale(nextTo: destination)
        let temporary = TemporaryOutput.path(nextTo: destination)
        TemporaryOutput.register(temporary)
        defer { TemporaryOutput.unregister(temporary) }
        do {
            try FileSystem.makeDirectory(temporary, mode: 0o755)
            try fill(temporary)
            try FileSystem.syncFileSystem(of: temporary)  // on disk before the rename makes it visible
            if force && FileSystem.exists(destination) {
                try FileSystem.replaceDirectory(temporary, destination)
            } else {
                try FileSystem.renameNoReplace(temporary, destination)
            }
            FileSystem.fsyncDirectory(parent)
        } catch let error as ModelPackError {
            // Name the file the user asked for, not the temporary one that is now gone.
            FileSystem.removeTree(temporary)
            throw error.naming(destination, insteadOf: temporary)
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }

    private static func extract(
        reader: ArchiveReader, summary: BundleSummary, into root: String, context: RunContext
    ) throws {
        let bundle = summary.path
        try FileSystem.makeDirectory(root + "/.modelpack")
        let manifestFile = try OutputFile(creating: root + "/" + Manifest.entryPath, mode: 0o644)
        try summary.manifest.canonicalBytes().withUnsafeBytes { try manifestFile.write($0) }
        var walk = EntryWalk(
            reader: reader, manifest: summary.manifest, maxPathBytes: context.limits.unpack.maxPathBytes,
            progress: context.progress)
        var created: Set<String> = [".modelpack"]
        try walk.requireEveryEntry(of: bundle) { data in
            let record = data.record
            try makeParents(of: record.path, under: root, created: &created)
            let file = try OutputFile(creating: root + "/" + record.path, mode: record.executable ? 0o755 : 0o644)
            file.writeback = WritebackPacer()
            while let chunk = try data.nextChunk() { try file.write(chunk) }
        }
    }

    /// Creates the folders above `path` inside `root`. Only folders this extraction made exist in
    /// the fresh directory, and no entry can be a link, so nothing here can lead outside `root`.
    private static func makeParents(of path: String, under root: String, created: inout Set<String>) throws {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if created.insert(prefix).inserted {
                try FileSystem.makeDirectory(root + "/" + prefix)
            }
        }
    }
}
