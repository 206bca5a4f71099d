/// What `sign` needs to know.
package struct SignOptions: Sendable {
    /// A bundle, or a model directory (signed in the OMS format).
    package var target: String
    package var keyPath: String
    /// nil: modelpack's for a bundle, OMS for a directory.
    package var format: BundleSignature.SignatureFormat?
    /// The signature file; nil: BUNDLE.sig, or DIR.sig beside a directory.
    package var output: String?

    package init(target: String, keyPath: String, format: BundleSignature.SignatureFormat? = nil, output: String? = nil)
    {
        self.target = target
        self.keyPath = keyPath
        self.format = format
        self.output = output
    }
}

/// What `sign` wrote.
package struct SignResult: Sendable {
    package let bundle: String
    /// The digest the signature covers: the bundle digest (modelpack's format), or the OMS
    /// statement's subject digest.
    package let digest: String
    package let keyID: String
    package let signature: String
    package let format: BundleSignature.SignatureFormat
}

extension Operations {
    /// `sign`: a detached signature of a bundle (BUNDLE.sig: modelpack's format or OMS), of a
    /// directory unpack wrote (its `.modelpack/signature.sig`), or of a model directory (OMS,
    /// DIR.sig beside it).
    package static func sign(_ options: SignOptions, context: RunContext) throws -> SignResult {
        let key = try SigningKeys.loadPrivate(options.keyPath)
        let unpacked = FileSystem.exists(options.target + "/" + Manifest.entryPath)
        if FileSystem.isDirectory(options.target) && !unpacked {
            var root = options.target
            while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
            let output = try options.output ?? OMSDirectory.besideSignature(root)
            try FileSystem.checkOutputFile(output)
            let (keyID, digest) = try OMSDirectory.sign(root, key: key, output: output, limits: context.limits.unpack)
            return SignResult(bundle: options.target, digest: digest, keyID: keyID, signature: output, format: .oms)
        }
        // A bundle, or a directory unpack wrote: signed over its manifest (the signature then
        // goes beside the manifest, where verify looks for it).
        let format = options.format ?? .modelpack
        let output = options.output ?? BundleSignature.path(of: options.target)
        try FileSystem.checkOutputFile(output)
        let (keyID, digest) = try BundleSignature.sign(
            bundle: options.target, key: key, format: format, output: output, limits: context.limits.unpack)
        return SignResult(bundle: options.target, digest: digest, keyID: keyID, signature: output, format: format)
    }
}
