/// What `sign` wrote.
package struct SignResult: Sendable {
    package let bundle: String
    package let keyID: String
    package var signature: String { BundleSignature.path(for: bundle) }
}

extension Operations {
    /// `sign`: BUNDLE.sig, detached.
    package static func sign(bundle: String, keyPath: String, context: RunContext) throws -> SignResult {
        SignResult(
            bundle: bundle,
            keyID: try BundleSignature.sign(bundle: bundle, keyPath: keyPath, limits: context.limits.unpack))
    }
}
