/// One entry point per command, each in the file named for it (`Operations/Build.swift` for
/// `modelpack build`): it orchestrates the core's parts, takes the run's `RunContext`, and returns
/// a result type defined beside it, which the CLI renders. Nothing here parses flags or prints;
/// the domain code lives in the folders named for what it is. This file holds what several
/// commands share.
package enum Operations {}

extension Operations {
    /// The bundle's verdict, or `validationFailed` when it refuses the bundle; then, with a
    /// trust policy, its signature and audit as the policy's default rule asks.
    static func checked(
        _ model: String, policy: ModelCheck.Policy, strict: Bool, trust: TrustPolicy? = nil, context: RunContext
    ) throws -> ModelVerdict {
        let verdict = try ModelCheck.check(model, policy: policy, context: context)
        if verdict.fails(strict: strict) { throw ModelPackError.validationFailed(verdict.report) }
        try trust?.admit(model: model, verdict: verdict, limits: context.limits.unpack)
        return verdict
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

    /// What serve and test run on: the one verdict on the model (refusing on errors, or warnings
    /// with `strict`), then its unpacked copy and virtualenv in the cache, with its model card.
    static func prepared(
        _ model: String, python: String, policy: ModelCheck.Policy, strict: Bool, trust: TrustPolicy? = nil,
        context: RunContext
    ) throws -> ServeResult {
        let verdict = try checked(model, policy: policy, strict: strict, trust: trust, context: context)
        let card = try card(of: verdict)
        let prepared = try asBundle(model, policy: policy, strict: strict, context: context) { bundle in
            try ServeCache.prepare(bundle: bundle, named: model, python: python, card: card, context: context)
        }
        return ServeResult(prepared: prepared, findings: verdict.report)
    }

    /// `body` on a bundle of `model`: the bundle itself, or a directory built as `build` would
    /// pack it into a temporary bundle under the cache, removed afterwards (so `test` and `serve`
    /// run exactly what would ship).
    static func asBundle<T>(
        _ model: String, policy: ModelCheck.Policy, strict: Bool, context: RunContext, _ body: (String) throws -> T
    ) throws -> T {
        guard try FileSystem.lstatInfo(model)?.kind == .directory else { return try body(model) }
        return try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/built") { folder in
            var build = BuildOptions(source: model, output: folder + "/bundle.tar", format: .tar, strict: strict)
            build.allowUnsafe = policy.allowUnsafe
            _ = try Operations.build(build, context: context)
            return try body(folder + "/bundle.tar")
        }
    }

    /// `body` on a temporary bundle pulled from `reference` (through the blob cache), with the
    /// registry's signature checked against `trust` when given; removed after.
    static func withPulledBundle<T>(
        _ reference: ImageReference, registry: RegistryOptions, trust: TrustedKeys? = nil, context: RunContext,
        _ body: (String, PullResult) throws -> T
    ) throws -> T {
        try TemporaryOutput.withDirectory(nextTo: CacheDirectory.path() + "/pulled") { scratch in
            var options = PullOptions(reference: reference, registry: registry)
            options.output = scratch + "/bundle.tar"
            options.trustedKeys = trust
            let pulled = try pull(options, context: context)
            return try body(scratch + "/bundle.tar", pulled)
        }
    }

    /// Writes a text output through a temporary file renamed into place.
    package static func writeText(_ text: String, to path: String) throws {
        try FileSystem.checkOutputFile(path)
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
    }
}
