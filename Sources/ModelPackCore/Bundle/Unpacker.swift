#if canImport(Glibc)
    import Glibc
#endif

public struct UnpackOptions: Sendable {
    public var bundle: String
    public var destination: String
    public var force: Bool = false
    public var limits: UnpackLimits

    public init(
        bundle: String, destination: String, force: Bool = false, limits: UnpackLimits = Limits.current.unpack
    ) {
        self.bundle = bundle
        self.destination = destination
        self.force = force
        self.limits = limits
    }
}

/// Extracts a bundle safely. Everything is written into a fresh temporary directory next to the
/// destination, only regular files at paths that pass `BundlePath`, each cut off at its manifest
/// size and hashed as it is written; the directory is renamed into place only once every file has
/// matched and none is missing. Any problem removes the temporary directory and leaves the
/// destination as it was.
public enum Unpacker {
    @discardableResult
    public static func unpack(_ options: UnpackOptions) throws -> BundleSummary {
        let destination =
            options.destination.hasSuffix("/") && options.destination.count > 1
            ? String(options.destination.dropLast()) : options.destination
        if FileSystem.exists(destination) && !options.force {
            throw ModelPackError.destinationExists(path: destination)
        }
        let (reader, summary) = try BundleReader.open(options.bundle, limits: options.limits)
        let parent = FileSystem.parentDirectory(of: destination)
        if let free = FileSystem.availableBytes(at: parent), free < summary.manifest.totalSize {
            throw ModelPackError.io(
                path: destination,
                reason: "needs \(summary.manifest.totalSize) bytes, only \(free) are free")
        }
        TemporaryOutput.removeStale(nextTo: destination)
        let temporary = TemporaryOutput.path(nextTo: destination)
        TemporaryOutput.register(temporary)
        defer { TemporaryOutput.unregister(temporary) }
        do {
            try FileSystem.makeDirectory(temporary, mode: 0o755)
            try extract(reader: reader, summary: summary, into: temporary)
            if options.force && FileSystem.exists(destination) {
                try FileSystem.replaceDirectory(temporary, destination)
            } else {
                try FileSystem.renameNoReplace(temporary, destination)
            }
            FileSystem.fsyncDirectory(parent)
            return summary
        } catch let error as ModelPackError {
            // Name the file the user asked for, not the temporary one that is now gone.
            FileSystem.removeTree(temporary)
            throw error.naming(destination, insteadOf: temporary)
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }

    private static func extract(reader: ArchiveReader, summary: BundleSummary, into root: String) throws {
        let bundle = summary.path
        try FileSystem.makeDirectory(root + "/.modelpack")
        let manifestFile = try OutputFile(creating: root + "/" + Manifest.entryPath, mode: 0o644)
        try summary.manifest.canonicalBytes().withUnsafeBytes { try manifestFile.write($0) }
        var walk = EntryWalk(reader: reader, manifest: summary.manifest)
        var created: Set<String> = [".modelpack"]
        try walk.requireEveryEntry(of: bundle) { data, buffer in
            let record = data.record
            try makeParents(of: record.path, under: root, created: &created)
            let file = try OutputFile(creating: root + "/" + record.path, mode: record.executable ? 0o755 : 0o644)
            while true {
                let n = try data.read(into: buffer)
                if n == 0 { break }
                try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
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
