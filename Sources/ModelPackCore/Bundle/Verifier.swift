/// The result of re-hashing a bundle against its manifest.
public struct VerifyReport: Sendable {
    public let summary: BundleSummary
    /// One verdict per archive entry after the manifest, then one per manifest file never found.
    public let files: [FileCheck]
    /// Set when the archive could not be read to its end (truncated, corrupt compressed stream).
    public let readError: String?
    /// The signature's verdict when trusted keys were given (nil: not checked).
    public internal(set) var signature: BundleSignature.Verdict?

    /// Whether verify succeeds: every file matches, the archive reads to its end, and the
    /// signature, when one was asked for, is valid. The exit status and JSON `valid` both follow it.
    public var isValid: Bool {
        guard readError == nil, files.allSatisfy({ $0.status == .ok }) else { return false }
        if case .valid? = signature { return true }
        return signature == nil
    }
}

extension VerifyReport {
    /// The same verdicts as findings (MP601 per file that does not match, MP602 for the
    /// signature), for SARIF.
    public var findings: DiagnosticReport {
        var collector = DiagnosticCollector()
        for check in files where check.status != .ok {
            collector.add(
                Diagnostic(
                    .bundleFileMismatch, "\(check.status.rawValue): \(check.detail ?? check.status.rawValue)",
                    file: check.path))
        }
        switch signature {
        case .unsigned?:
            collector.add(Diagnostic(.signatureNotValid, "the bundle is not signed", file: Manifest.entryPath))
        case .invalid(let why)?:
            collector.add(Diagnostic(.signatureNotValid, "bad signature: \(why)", file: Manifest.entryPath))
        case .valid?, nil: break
        }
        return DiagnosticReport(target: summary.path, isBundle: true, diagnostics: collector.sorted, sources: [:])
    }
}

public enum Verifier {
    /// Reads every entry and compares it with the manifest. Throws only when the manifest itself
    /// cannot be read; every other problem is in the report. When the archive breaks, the file it
    /// broke in is `truncated` and every listed file not yet met is `unread`, with the read error
    /// once in `readError`.
    public static func verify(_ path: String, trust: TrustedKeys? = nil) throws -> VerifyReport {
        let signature = try trust.map {
            try BundleSignature.check(bundle: path, keys: $0.files, trustedDirectory: $0.directory)
        }
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
            guard case .invalidBundle(_, let reason) = error else { throw error }
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
        return VerifyReport(summary: summary, files: checks, readError: readError, signature: signature)
    }
}

/// The public keys a command trusts: key files and a directory of `*.pub`.
public struct TrustedKeys: Sendable {
    public var files: [String]
    public var directory: String?

    public init(files: [String], directory: String?) {
        self.files = files
        self.directory = directory
    }
}
