import Crypto
import Foundation

/// A detached signature, `BUNDLE.sig`, so that signing never changes the bundle's bytes or digest.
/// modelpack's own is a DSSE envelope around an in-toto Statement v1 shaped like the OpenSSF
/// model-signing payload: the subject is the bundle digest (the SHA-256 of the canonical
/// manifest) and the predicate lists every file's digest as a resource. The OpenSSF format itself
/// (OMS, a Sigstore bundle: `OMSSignature`) is read and written too; every check dispatches on
/// which one a file holds (Docs/SECURITY.md).
package enum BundleSignature {
    /// The formats `sign` writes.
    package enum SignatureFormat: String, CaseIterable, Sendable {
        /// modelpack's DSSE envelope over the bundle digest (Ed25519 or ECDSA).
        case modelpack
        /// The OpenSSF model signing format (a Sigstore bundle; ECDSA keys).
        case oms
    }

    static let payloadType = "application/vnd.in-toto+json"
    static let predicateType = "modelpack/signature/v1"

    package static func path(for bundle: String) -> String { bundle + ".sig" }

    /// The signature an unpacked model keeps (`unpack`, `pull --unpack`), beside its manifest.
    static let directoryEntry = Manifest.signatureEntryPath

    /// Where the signature of a bundle, or of an unpacked model directory, is.
    package static func path(of target: String) -> String {
        FileSystem.isDirectory(target) ? target + "/" + directoryEntry : path(for: target)
    }

    static func statement(_ manifest: Manifest) throws -> Data {
        let document: [String: Any] = [
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                [
                    "name": manifest.name + "@" + manifest.version,
                    "digest": ["sha256": String(manifest.digest.dropFirst("sha256:".count))],
                ]
            ],
            "predicateType": predicateType,
            "predicate": [
                "manifest": Manifest.entryPath,
                "resources": manifest.files.map { ["name": $0.path, "algorithm": "sha256", "digest": $0.sha256] },
            ],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// DSSE's pre-authentication encoding.
    static func pae(_ type: String, _ body: Data) -> Data {
        var out = Data("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8)
        out.append(body)
        return out
    }

    /// Signs a bundle: modelpack's DSSE envelope over its manifest digest, or an OMS Sigstore
    /// bundle over its files; written to `output` (BUNDLE.sig) through a temporary file. Returns
    /// the key's id and the digest signed (the bundle digest, or the OMS subject digest).
    static func sign(
        bundle: String, key: PrivateKey, format: SignatureFormat, output: String, limits: UnpackLimits
    ) throws -> (keyID: String, digest: String) {
        let manifest =
            FileSystem.isDirectory(bundle)
            ? try Verifier.unpackedManifest(bundle, limits: limits)
            : try BundleReader.inspect(bundle, limits: limits).manifest
        if format == .oms {
            let resources = OMSSignature.resources(of: manifest)
            let bytes = try OMSSignature.sign(
                resources: resources, subject: manifest.name, ignore: OMSSignature.bundleIgnorePaths, key: key)
            try FileSystem.writeAtomically(bytes, to: output)
            return (key.publicKey.keyID, "sha256:" + OMSSignature.rootDigest(resources)!)
        }
        try FileSystem.writeAtomically(try envelope(try statement(manifest), key: key), to: output)
        return (key.publicKey.keyID, manifest.digest)
    }

    /// A DSSE envelope of an in-toto statement signed with `key` (BUNDLE.sig, and a signed
    /// provenance), as pretty JSON with a final line break.
    static func envelope(_ body: Data, key: PrivateKey) throws -> [UInt8] {
        let signature = try key.signature(for: pae(payloadType, body))
        let envelope: [String: Any] = [
            "payloadType": payloadType,
            "payload": body.base64EncodedString(),
            "signatures": [["keyid": key.publicKey.keyID, "sig": signature.base64EncodedString()]],
        ]
        return Array(try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .prettyPrinted]))
            + [0x0a]
    }

    package enum Verdict: Equatable, Sendable {
        case valid(keyID: String)
        case unsigned
        case invalid(String)
    }

    /// Checks the signature of a bundle or an unpacked model directory (whose manifest and
    /// signature are in `.modelpack/`) against the trusted keys and the manifest (files are
    /// checked by verify). `signature`: another file than the usual one.
    package static func check(
        bundle: String, keys: [String], trustedDirectory: String?, signature: String? = nil, limits: UnpackLimits
    ) throws -> Verdict {
        try check(
            bundle: bundle, trusted: try SigningKeys.trusted(keys: keys, directory: trustedDirectory),
            signature: signature, limits: limits)
    }

    static func check(bundle: String, trusted: [PublicKey], signature: String? = nil, limits: UnpackLimits) throws
        -> Verdict
    {
        let sigPath = signature ?? path(of: bundle)
        guard FileSystem.exists(sigPath) else {
            if signature != nil { throw ModelPackError.inputMissing(path: sigPath) }
            return .unsigned
        }
        try FileSystem.requireRegularFile(sigPath)
        let bytes = try FileSystem.readWholeFile(sigPath, limit: maxEnvelopeBytes)
        let manifest =
            FileSystem.isDirectory(bundle)
            ? try Verifier.unpackedManifest(bundle, limits: limits)
            : try BundleReader.inspect(bundle, limits: limits).manifest
        return check(envelope: bytes, named: sigPath, manifest: manifest, trusted: trusted)
    }

    static let maxEnvelopeBytes = 64 << 20

    /// The digest a signature's statement names (`sha256:…`), read without checking it: the
    /// bundle digest (modelpack's), or the OMS subject digest. nil when it is neither.
    static func coveredDigest(envelope bytes: [UInt8]) -> String? {
        if OMSSignature.isOMS(bytes) { return OMSSignature.subjectDigest(bytes) }
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            envelope["payloadType"] as? String == payloadType,
            let payloadText = envelope["payload"] as? String, let payload = Data(base64Encoded: payloadText),
            let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            statement["predicateType"] as? String == predicateType,
            let subjects = statement["subject"] as? [[String: Any]], subjects.count == 1,
            let digest = (subjects[0]["digest"] as? [String: Any])?["sha256"] as? String
        else { return nil }
        return "sha256:" + digest
    }

    /// Whether a signature's statement (unchecked) is about this bundle: its subject is the
    /// bundle digest (modelpack's), or its resources are the manifest's files (OMS). nil when the
    /// bytes are no signature modelpack reads.
    static func covers(_ bytes: [UInt8], manifest: Manifest) -> Bool? {
        if OMSSignature.isOMS(bytes) { return OMSSignature.covers(bytes, manifest: manifest) }
        return coveredDigest(envelope: bytes).map { $0 == manifest.digest }
    }

    /// What became of BUNDLE.sig when a bundle was written over: kept when it covers the new
    /// bundle (a rebuild of the same content), removed when it signed other content.
    package enum Fate: Equatable, Sendable {
        case kept(path: String)
        /// `signed`: the digest the removed signature covered, nil when it was not readable.
        case removed(path: String, signed: String?)
    }

    /// After `bundle` was written with this manifest: removes a BUNDLE.sig that covers other
    /// content (it could only ever fail to verify, and `push` would upload it). nil: none was there.
    static func reconcile(bundle: String, manifest: Manifest) throws -> Fate? {
        let sigPath = path(for: bundle)
        guard FileSystem.exists(sigPath) else { return nil }
        let bytes = try? FileSystem.readWholeFile(sigPath, limit: maxEnvelopeBytes)
        if let bytes, covers(bytes, manifest: manifest) == true { return .kept(path: sigPath) }
        try FileSystem.removeFile(sigPath)
        return .removed(path: sigPath, signed: bytes.flatMap { coveredDigest(envelope: $0) })
    }

    /// BUNDLE.sig's envelope when its statement covers this bundle (unchecked); nil otherwise.
    static func covering(bundle: String, manifest: Manifest) -> [UInt8]? {
        guard let envelope = try? FileSystem.readWholeFile(path(for: bundle), limit: maxEnvelopeBytes),
            covers(envelope, manifest: manifest) == true
        else { return nil }
        return envelope
    }

    /// BUNDLE.sig's envelope when it covers the bundle; nil when there is none. A signature of
    /// other content is an error naming what it signed: it could never verify.
    static func matching(bundle: String, manifest: Manifest) throws -> [UInt8]? {
        let sigPath = path(for: bundle)
        guard FileSystem.exists(sigPath) else { return nil }
        let envelope = try FileSystem.readWholeFile(sigPath, limit: maxEnvelopeBytes)
        switch covers(envelope, manifest: manifest) {
        case nil:
            throw ModelPackError.invalidBundle(
                path: sigPath, reason: "not a signature modelpack reads (a DSSE envelope or an OMS Sigstore bundle)")
        case false?:
            throw ModelPackError.invalidBundle(
                path: sigPath,
                reason:
                    "signs \(coveredDigest(envelope: envelope) ?? "other content"), not this bundle (\(manifest.digest)): sign the bundle again or remove it"
            )
        case true?:
            return envelope
        }
    }

    /// The key ids an envelope names (unchecked: for display). An OMS signature names its key by
    /// hint (its first 16 hex digits are the key id).
    static func keyIDs(in bytes: [UInt8]) -> [String] {
        if OMSSignature.isOMS(bytes) {
            let bundle = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            let material = bundle?["verificationMaterial"] as? [String: Any]
            if let hint = (material?["publicKey"] as? [String: Any])?["hint"] as? String {
                return [String(hint.prefix(16))]
            }
            return material?["x509CertificateChain"] != nil ? ["certificate"] : []
        }
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let signatures = envelope["signatures"] as? [[String: Any]]
        else { return [] }
        return signatures.compactMap { $0["keyid"] as? String }
    }

    /// The media type of a DSSE envelope (a registry layer).
    static let envelopeMediaType = "application/vnd.dsse.envelope.v1+json"

    /// A DSSE envelope of an in-toto statement, opened: its payload, and the id of the first of
    /// `trusted` whose signature over it verifies (nil: none did). nil when it is no such envelope.
    static func opened(_ envelope: [String: Any], trusted: [PublicKey]) -> (payload: Data, signer: String?)? {
        guard envelope["payloadType"] as? String == payloadType,
            let payloadText = envelope["payload"] as? String, let payload = Data(base64Encoded: payloadText),
            let signatures = envelope["signatures"] as? [[String: Any]]
        else { return nil }
        for entry in signatures {
            guard let sigText = entry["sig"] as? String, let sig = Data(base64Encoded: sigText) else { continue }
            if let key = trusted.first(where: { $0.isValid(sig, for: pae(payloadType, payload)) }) {
                return (payload, key.keyID)
            }
        }
        return (payload, nil)
    }

    /// Checks a signature envelope (from BUNDLE.sig or a registry referrer, named `source` in
    /// messages) against a bundle manifest.
    static func check(envelope bytes: [UInt8], named source: String, manifest: Manifest, trusted: [PublicKey])
        -> Verdict
    {
        if OMSSignature.isOMS(bytes) {
            return OMSSignature.check(bytes, named: source, manifest: manifest, trusted: trusted)
        }
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let (payload, signed) = opened(envelope, trusted: trusted)
        else {
            return .invalid("\(source) is not a DSSE envelope")
        }
        guard let signer = signed else { return .invalid("no signature by a trusted key") }
        // The signed statement says what it covers: its subject's digest, decoded, must be this
        // bundle's (never a comparison of re-serialised JSON bytes).
        guard let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            statement["_type"] as? String == "https://in-toto.io/Statement/v1",
            statement["predicateType"] as? String == predicateType,
            let subjects = statement["subject"] as? [[String: Any]], subjects.count == 1,
            let digest = (subjects[0]["digest"] as? [String: Any])?["sha256"] as? String
        else {
            return .invalid("signed by \(signer), but the payload is not a modelpack signature statement")
        }
        guard "sha256:" + digest == manifest.digest else {
            return .invalid(
                "signed by \(signer), but for other content: the manifest (and so the bundle digest) changed")
        }
        return .valid(keyID: signer)
    }
}
