/// The result of `inspect`'s audit: the manifest, every artifact's audit, and all findings.
package struct BundleAudit: Sendable {
    package let summary: BundleSummary
    package let artifacts: [ArtifactAudit]
    package let report: DiagnosticReport
    /// The signature: BUNDLE.sig, or the registry's referrers; checked when keys were given.
    package let signature: SignatureState
    /// What is attached to a registry artifact (nil for a file).
    package var referrers: [Referrer]? = nil

    package var verdict: ImportVerdict { artifacts.map(\.verdict).max() ?? .safe }
}

extension Operations {
    /// `inspect`: the one check pipeline on a bundle, read once without unpacking (every entry
    /// verified against the manifest as it is scanned, so a tampered bundle is refused).
    /// With `trust`, BUNDLE.sig is checked against those keys.
    package static func inspect(_ path: String, trust: TrustedKeys? = nil, context: RunContext) throws -> BundleAudit {
        let verdict = try ModelCheck.bundle(path, policy: ModelCheck.Policy(), context: context)
        guard let summary = verdict.summary else {
            throw ModelPackError.invalidBundle(path: path, reason: "not a bundle")
        }
        let signature: SignatureState
        if let trust {
            switch try BundleSignature.check(
                bundle: path, keys: trust.files, trustedDirectory: trust.directory, limits: context.limits.unpack)
            {
            case .valid(let keyID): signature = .valid(keyID: keyID)
            case .unsigned: signature = .unsigned
            case .invalid(let why): signature = .invalid(why)
            }
        } else {
            let keyIDs = try signers(of: verdict) ?? []
            signature = FileSystem.exists(BundleSignature.path(for: path)) ? .present(keyIDs: keyIDs) : .unsigned
        }
        return BundleAudit(summary: summary, artifacts: verdict.audits, report: verdict.report, signature: signature)
    }

    /// `inspect --manifest-only`: the manifest alone, in the same time for any bundle size.
    package static func inspectManifest(_ path: String, context: RunContext) throws -> BundleSummary {
        try BundleReader.inspect(path, limits: context.limits.unpack)
    }

}

extension Operations {
    /// `inspect oci://REF --manifest-only`: the manifest, config and bundle manifest (three
    /// requests, plus one for a token and one for the signature referrers), whatever the model's size.
    package static func inspectReference(
        _ reference: ImageReference, registry: RegistryOptions = RegistryOptions(), trust: TrustedKeys? = nil,
        context: RunContext
    ) throws -> RemoteArtifact {
        let client = try RegistryClient(reference, push: false, options: registry)
        let trusted = try trust.map { try SigningKeys.trusted(keys: $0.files, directory: $0.directory) }
        return try RemoteArtifact.read(client, trusted: trusted, limits: context.limits.unpack)
    }

    /// `inspect oci://REF`: the full audit of a registry artifact, with the same checks as for a
    /// file. The blobs come through the cache into a temporary bundle, which is removed after.
    package static func inspect(
        reference: ImageReference, registry: RegistryOptions = RegistryOptions(), trust: TrustedKeys? = nil,
        context: RunContext
    ) throws -> BundleAudit {
        try withPulledBundle(reference, registry: registry, trust: trust, context: context) { path, pulled in
            let audit = try inspect(path, context: context)
            let summary = audit.summary
            return BundleAudit(
                summary: BundleSummary(
                    path: reference.text, container: summary.container, archiveSize: summary.archiveSize,
                    manifest: summary.manifest, timestamp: summary.timestamp),
                artifacts: audit.artifacts, report: audit.report.retargeted(reference.text),
                signature: pulled.remote.signature, referrers: pulled.remote.referrers.map(Referrer.init))
        }
    }
}
