/// The result of re-hashing a bundle against its manifest.
public struct VerifyReport: Sendable {
    public let summary: BundleSummary
    /// One verdict per archive entry after the manifest, then one per manifest file never found.
    public let files: [FileCheck]
    /// Set when the archive could not be read to its end (truncated, corrupt compressed stream).
    public let readError: String?

    public var isValid: Bool {
        readError == nil && files.allSatisfy { $0.status == .ok }
    }
}

public enum Verifier {
    /// Reads every entry and compares it with the manifest. Throws only when the manifest itself
    /// cannot be read; every other problem is in the report.
    public static func verify(_ path: String) throws -> VerifyReport {
        let (reader, summary) = try BundleReader.open(path)
        var walk = EntryWalk(reader: reader, manifest: summary.manifest)
        var checks: [FileCheck] = []
        var readError: String?
        var buffer = [UInt8](repeating: 0, count: StreamBuffer.size)
        do {
            try buffer.withUnsafeMutableBytes { raw in
                while let check = try walk.next(buffer: raw, sink: { _ in nil }) {
                    checks.append(check)
                }
            }
        } catch let error as ModelPackError {
            if case .invalidBundle(_, let reason) = error { readError = reason } else { throw error }
        }
        for record in walk.unseen {
            checks.append(
                FileCheck(path: record.path, status: .missing, detail: "listed in the manifest, not in the archive"))
        }
        return VerifyReport(summary: summary, files: checks, readError: readError)
    }
}
