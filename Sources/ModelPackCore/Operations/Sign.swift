/// What `sign` wrote.
public struct SignResult: Sendable {
    public let bundle: String
    public let keyID: String
    public var signature: String { BundleSignature.path(for: bundle) }
}

extension Operations {
    /// `sign`: BUNDLE.sig, detached.
    public static func sign(bundle: String, keyPath: String, context: RunContext) throws -> SignResult {
        SignResult(
            bundle: bundle,
            keyID: try BundleSignature.sign(bundle: bundle, keyPath: keyPath, limits: context.limits.unpack))
    }
}
