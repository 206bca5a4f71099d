extension Operations {
    /// `sign`: BUNDLE.sig, detached; returns the key id.
    public static func sign(bundle: String, keyPath: String, context: RunContext) throws -> String {
        try BundleSignature.sign(bundle: bundle, keyPath: keyPath, limits: context.limits.unpack)
    }
}
