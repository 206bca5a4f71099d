/// The result of re-hashing a bundle against its manifest.
package struct VerifyReport: Sendable {
    /// The bundle, or the directory.
    package let path: String
    /// What the files are checked against: the bundle digest, or an OMS statement's subject.
    package let digest: String
    /// How many files that lists.
    package let listed: Int
    /// One verdict per archive entry after the manifest, then one per manifest file never found.
    package let files: [FileCheck]
    /// Set when the archive could not be read to its end (truncated, corrupt compressed stream).
    package let readError: String?
    /// Every file matches and the archive reads to its end.
    package var isValid: Bool {
        readError == nil && files.allSatisfy { $0.status == .ok }
    }
}

package enum Verifier {
    /// Reads every entry and compares it with the manifest. Throws only when the manifest itself
    /// cannot be read; every other problem is in the report. When the archive breaks, the file it
    /// broke in is `truncated` and every listed file not yet met is `unread`, with the read error
    /// once in `readError`.
    package static func verify(_ path: String, context: RunContext) throws -> VerifyReport {
        let (reader, summary) = try BundleReader.open(path, limits: context.limits.unpack, progress: context.progress)
        var walk = EntryWalk(
            reader: reader, manifest: summary.manifest, maxPathBytes: context.limits.unpack.maxPathBytes,
            progress: context.progress)
        var checks: [FileCheck] = []
        var readError: String?
        do {
            while let check = try walk.next(consume: { _ in }) {  // only hashed
                checks.append(check)
            }
        } catch let error as ModelPackError {
            guard case .invalidArchive(_, let reason) = error else { throw error }
            readError = reason
            if let broken = walk.current {
                checks.append(FileCheck(path: broken, status: .truncated, detail: reason))
            }
        }
        for record in walk.unseen {
            checks.append(
                readError == nil
                    ? FileCheck(
                        path: record.path, status: .missing, detail: "listed in the manifest, not in the archive")
                    : FileCheck(path: record.path, status: .unread, detail: "after the point where the archive breaks"))
        }
        return VerifyReport(
            path: path, digest: summary.digest, listed: summary.manifest.files.count, files: checks,
            readError: readError)
    }

    /// An unpacked model (what `unpack` and `pull --unpack` write): its `.modelpack/manifest.json`
    /// held to the same limits as a bundle's, every file it lists hashed again (a regular file,
    /// never followed through a link), and every other file named as extra.
    package static func verifyDirectory(_ root: String, context: RunContext) throws -> VerifyReport {
        let manifest = try unpackedManifest(root, limits: context.limits.unpack)
        var checks: [FileCheck] = []
        let hasher = ParallelSHA256()
        for record in manifest.files {
            let path = root + "/" + record.path
            guard let info = try FileSystem.lstatInfo(path) else {
                checks.append(
                    FileCheck(path: record.path, status: .missing, detail: "listed in the manifest, not there"))
                continue
            }
            guard info.kind == .regular else {
                checks.append(FileCheck(path: record.path, status: .refused, detail: "not a regular file"))
                continue
            }
            let stream = try InputFile(path: path).hashedStream(label: record.path, size: record.size, hasher: hasher)
            let digest = try stream.finish()
            if stream.overflow || stream.byteCount != record.size {
                checks.append(
                    FileCheck(
                        path: record.path, status: .sizeMismatch,
                        detail: "\(info.size) bytes on disk, \(record.size) in the manifest"))
            } else if digest != record.sha256 {
                checks.append(FileCheck(path: record.path, status: .modified, detail: "sha256 \(digest)"))
            } else {
                checks.append(FileCheck(path: record.path, status: .ok, detail: nil))
            }
        }
        // As bytes: a name canonically equivalent to a listed one (NFC and NFD) is another file.
        let listed = Set(manifest.files.map { Array($0.path.utf8) })
        for path in try filesUnder(root, limit: context.limits.unpack.maxEntries + 1)
        where !listed.contains(Array(path.utf8)) {
            checks.append(FileCheck(path: path, status: .extra, detail: "not in the manifest"))
        }
        return VerifyReport(
            path: root, digest: manifest.digest, listed: manifest.files.count, files: checks, readError: nil)
    }

    /// The manifest of an unpacked model, read as a bundle's is (size, canonical form, limits).
    static func unpackedManifest(_ root: String, limits: UnpackLimits) throws -> Manifest {
        let path = root + "/" + Manifest.entryPath
        guard FileSystem.exists(path) else {
            throw ModelPackError.invalidModel(
                path: root,
                reason: "has no \(Manifest.entryPath): not a directory that unpack or pull \(CommandFlag.unpack) wrote")
        }
        try FileSystem.requireRegularFile(path)
        let bytes = try FileSystem.readWholeFile(path, limit: Manifest.maxBytes)
        let manifest = try Manifest.decode(bytes, bundle: path, maxPathBytes: limits.maxPathBytes)
        guard manifest.canonicalBytes() == bytes else {
            throw ModelPackError.invalidModel(path: path, reason: "not in canonical form: it was edited")
        }
        try limits.check(manifest, archiveSize: manifest.totalSize, bundle: root)
        return manifest
    }

    /// Every path under `root` that is not a directory, relative, sorted, leaving out the
    /// manifest and signature in `.modelpack/`; at most `limit` of them (enough to fail the
    /// check: the walk stops there).
    static func filesUnder(_ root: String, limit: Int) throws -> [String] {
        var found: [String] = []
        var pending = [""]
        while let relative = pending.popLast(), found.count < limit {
            for (name, info) in try FileSystem.listDirectoryInfo(relative.isEmpty ? root : root + "/" + relative) {
                let path = relative.isEmpty ? name : relative + "/" + name
                if path == Manifest.entryPath || path == Manifest.signatureEntryPath { continue }
                if info?.kind == .directory { pending.append(path) } else { found.append(path) }
            }
        }
        return found.sorted()
    }
}
