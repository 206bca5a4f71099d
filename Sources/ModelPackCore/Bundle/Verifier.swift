/// The result of re-hashing a bundle against its manifest.
package struct VerifyReport: Sendable {
    package let summary: BundleSummary
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
        return VerifyReport(summary: summary, files: checks, readError: readError)
    }
}
