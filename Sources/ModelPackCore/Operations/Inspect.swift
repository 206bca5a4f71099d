/// The result of `inspect`'s audit: the manifest, every artifact's audit, and all findings.
public struct BundleAudit: Sendable {
    public let summary: BundleSummary
    public let artifacts: [ArtifactAudit]
    public let report: DiagnosticReport

    public var verdict: ImportVerdict { artifacts.map(\.verdict).max() ?? .safe }
}

extension Operations {
    /// `inspect`: the one check pipeline on a bundle, read once without unpacking (every entry
    /// verified against the manifest as it is scanned, so a tampered bundle is refused).
    public static func inspect(_ path: String) throws -> BundleAudit {
        let verdict = try ModelCheck.bundle(path, policy: ModelCheck.Policy())
        guard let summary = verdict.summary else {
            throw ModelPackError.invalidBundle(path: path, reason: "not a bundle")
        }
        return BundleAudit(summary: summary, artifacts: verdict.audits, report: verdict.report)
    }

    /// `inspect --manifest-only`: the manifest alone, in the same time for any bundle size.
    public static func inspectManifest(_ path: String) throws -> BundleSummary {
        try BundleReader.inspect(path)
    }

    /// `diff`: two models (bundles or directories), each through the one check pipeline, compared.
    public static func diff(_ before: String, _ after: String) throws -> ModelDiff {
        ModelDiff.compare(try ModelCheck.check(before), try ModelCheck.check(after), before: before, after: after)
    }

    /// `validate`: the one check pipeline on a model directory or a bundle.
    public static func validate(_ path: String) throws -> ModelVerdict {
        try ModelCheck.check(path)
    }
}
