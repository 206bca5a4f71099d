/// What `unpack` needs to know.
package struct UnpackOptions: Sendable {
    package var bundle: String
    package var destination: String
    package var force: Bool = false
    /// The trust policy the bundle must meet (its default rule), when one is given.
    package var trust: TrustPolicy?

    package init(bundle: String, destination: String, force: Bool = false) {
        self.bundle = bundle
        self.destination = destination
        self.force = force
    }
}

/// What `unpack` wrote: the bundle's manifest, into `destination`.
package struct UnpackResult: Sendable {
    package let summary: BundleSummary
    package let destination: String
}

extension Operations {
    /// `unpack`: with `trusted`, first refuses a bundle that is not signed by one of those keys;
    /// then the verified extraction.
    @discardableResult
    package static func unpack(
        _ options: UnpackOptions, requiringSignatureFrom trusted: TrustedKeys? = nil, context: RunContext
    ) throws -> UnpackResult {
        if let trusted {
            switch try BundleSignature.check(
                bundle: options.bundle, keys: trusted.files, trustedDirectory: trusted.directory,
                limits: context.limits.unpack)
            {
            case .valid: break
            case .unsigned:
                throw ModelPackError.invalidBundle(
                    path: options.bundle,
                    reason: "refused: not signed (no \(BundleSignature.path(for: options.bundle)))")
            case .invalid(let why):
                throw ModelPackError.invalidBundle(path: options.bundle, reason: "refused: bad signature: \(why)")
            }
        }
        try options.trust?.admit(model: options.bundle, limits: context.limits.unpack) {
            try ModelCheck.check(options.bundle, context: context)
        }
        // BUNDLE.sig, when it covers this bundle, is kept with the manifest: `verify --key` on the
        // directory then works as it did on the bundle.
        let summary = try Unpacker.unpack(
            options.bundle, to: options.destination, force: options.force, context: context
        ) { BundleSignature.covering(bundle: options.bundle, manifest: $0) }
        return UnpackResult(summary: summary, destination: options.destination)
    }
}
