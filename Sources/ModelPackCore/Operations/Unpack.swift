/// What `unpack` needs to know.
public struct UnpackOptions: Sendable {
    public var bundle: String
    public var destination: String
    public var force: Bool = false

    public init(bundle: String, destination: String, force: Bool = false) {
        self.bundle = bundle
        self.destination = destination
        self.force = force
    }
}

extension Operations {
    /// `unpack`: with `trusted`, first refuses a bundle that is not signed by one of those keys;
    /// then the verified extraction.
    @discardableResult
    public static func unpack(
        _ options: UnpackOptions, requiringSignatureFrom trusted: TrustedKeys? = nil, context: RunContext
    ) throws -> BundleSummary {
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
        return try Unpacker.unpack(
            options.bundle, to: options.destination, force: options.force, context: context)
    }
}
