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
            target: report.path, isBundle: true, diagnostics: collector.sorted, sources: [:])
    }
}

extension Operations {
    /// `verify`: every file against the manifest, and with `trust`, the signature against the
    /// keys: a bundle and BUNDLE.sig, or an unpacked model and its `.modelpack/` (`unpack`, `pull
    /// --unpack`). The report's `isValid` is the command's verdict (exit status and JSON `valid`).
    /// A model directory that is not an unpacked bundle (no `.modelpack/manifest.json`) is
    /// checked against an OMS signature: `signature`, else DIR/model.sig, else DIR.sig.
    package static func verify(
        _ path: String, trust: TrustedKeys? = nil, signature signatureFile: String? = nil, context: RunContext
    ) throws -> VerifyResult {
        if FileSystem.isDirectory(path), !FileSystem.exists(path + "/" + Manifest.entryPath) {
            return try verifySignedDirectory(path, trust: trust, signature: signatureFile, context: context)
        }
        let signature = try trust.map {
            try BundleSignature.check(
                bundle: path, keys: $0.files, trustedDirectory: $0.directory, signature: signatureFile,
                limits: context.limits.unpack)
        }
        let report =
            FileSystem.isDirectory(path)
            ? try Verifier.verifyDirectory(path, context: context) : try Verifier.verify(path, context: context)
        return VerifyResult(report: report, signature: signature)
    }

    /// A plain model directory and its OMS signature (model_signing's, or `sign DIR`'s).
    private static func verifySignedDirectory(
        _ path: String, trust: TrustedKeys?, signature: String?, context: RunContext
    ) throws -> VerifyResult {
        var root = path
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        guard let trust else {  // the CLI asks for keys first
            throw ModelPackError.invalidModel(
                path: path,
                reason:
                    "is a model directory, not an unpacked bundle: it is verified against its OMS signature, with \(CommandFlag.key) or \(CommandFlag.trustedKeys)"
            )
        }
        let candidates = try signature.map { [$0] } ?? [root + "/model.sig", OMSDirectory.besideSignature(root)]
        guard let file = candidates.first(where: FileSystem.exists) else {
            if let signature { throw ModelPackError.inputMissing(path: signature) }
            throw ModelPackError.invalidModel(
                path: path,
                reason: "has no signature (model.sig in it, or DIR.sig beside it; or give \(CommandFlag.signature))"
            )
        }
        let trusted = try SigningKeys.trusted(keys: trust.files, directory: trust.directory)
        let (report, verdict) = try OMSDirectory.verify(
            root, signature: file, trusted: trusted, limits: context.limits.unpack)
        return VerifyResult(report: report, signature: verdict)
    }

}
