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
    public static func inspect(_ path: String, context: RunContext) throws -> BundleAudit {
        let verdict = try ModelCheck.bundle(path, policy: ModelCheck.Policy(), context: context)
        guard let summary = verdict.summary else {
            throw ModelPackError.invalidBundle(path: path, reason: "not a bundle")
        }
        return BundleAudit(summary: summary, artifacts: verdict.audits, report: verdict.report)
    }

    /// `inspect --manifest-only`: the manifest alone, in the same time for any bundle size.
    public static func inspectManifest(_ path: String, context: RunContext) throws -> BundleSummary {
        try BundleReader.inspect(path, limits: context.limits.unpack)
    }

    /// `diff`: two models (bundles, directories or registry references), each through the one
    /// check pipeline, compared.
    public static func diff(
        _ before: String, _ after: String, registry: RegistryOptions = RegistryOptions(), context: RunContext
    ) throws -> ModelDiff {
        func verdict(_ model: String) throws -> ModelVerdict {
            guard ImageReference.looksLikeReference(model, pathExists: FileSystem.exists(model)) else {
                return try ModelCheck.check(model, context: context)
            }
            return try withPulledBundle(try ImageReference(parsing: model), registry: registry, context: context) {
                try ModelCheck.check($0, context: context)
            }
        }
        return ModelDiff.compare(try verdict(before), try verdict(after), before: before, after: after)
    }

    /// `validate`: the one check pipeline on a model directory or a bundle.
    public static func validate(_ path: String, context: RunContext) throws -> ModelVerdict {
        try ModelCheck.check(path, context: context)
    }
}

extension Operations {
    /// `card`: the model card of a bundle or a directory, from the one check pipeline's verdict.
    public static func card(_ path: String, context: RunContext) throws -> String {
        try card(of: try ModelCheck.check(path, context: context))
    }

    /// The card of a checked model (card, and what dockerfile, serve and predict put beside it).
    static func card(of verdict: ModelVerdict) throws -> String {
        ModelCard.markdown(verdict, signedBy: try signers(of: verdict))
    }

    /// The key ids BUNDLE.sig names (unchecked), [] when there is none, nil for a directory.
    static func signers(of verdict: ModelVerdict) throws -> [String]? {
        guard let summary = verdict.summary else { return nil }
        let path = BundleSignature.path(for: summary.path)
        guard FileSystem.exists(path) else { return [] }
        return BundleSignature.keyIDs(in: try FileSystem.readWholeFile(path, limit: BundleSignature.maxEnvelopeBytes))
    }
}

extension Operations {
    /// Writes a text output through a temporary file renamed into place.
    public static func writeText(_ text: String, to path: String) throws {
        try FileSystem.checkOutputFile(path)
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
    }
}
