/// What `verify` concluded: the files against the manifest, and the signature when keys were given.
package struct VerifyResult: Sendable {
    package let report: VerifyReport
    /// nil: no keys were given, so the signature was not checked.
    package let signature: BundleSignature.Verdict?

    /// Whether verify succeeds: every file matches, the archive reads to its end, and the
    /// signature, when one was asked for, is valid. The exit status and JSON `valid` both follow it.
    package var isValid: Bool {
        guard report.isValid else { return false }
        if case .valid? = signature { return true }
        return signature == nil
    }
}

extension VerifyResult {
    /// The same verdicts as findings (MP601 per file that does not match, MP602 for the
    /// signature), for SARIF.
    package var findings: DiagnosticReport {
        var collector = DiagnosticCollector()
        for check in report.files where check.status != .ok {
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
        return DiagnosticReport(
            target: report.summary.path, isBundle: true, diagnostics: collector.sorted, sources: [:])
    }
}

extension Operations {
    /// `verify`: every file against the manifest, and with `trust`, BUNDLE.sig against the keys.
    /// The report's `isValid` is the command's verdict (exit status and JSON `valid` alike).
    package static func verify(_ path: String, trust: TrustedKeys? = nil, context: RunContext) throws -> VerifyResult {
        let signature = try trust.map {
            try BundleSignature.check(
                bundle: path, keys: $0.files, trustedDirectory: $0.directory, limits: context.limits.unpack)
        }
        return VerifyResult(report: try Verifier.verify(path, context: context), signature: signature)
    }

}
