import Crypto
import Foundation

/// A detached signature, `BUNDLE.sig`, so that signing never changes the bundle's bytes or digest.
/// It is a DSSE envelope around an in-toto Statement v1 shaped like the OpenSSF model-signing
/// payload: the subject is the bundle digest (the SHA-256 of the canonical manifest) and the
/// predicate lists every file's digest as a resource. Replacing the Ed25519 envelope signature
/// with a Sigstore bundle would carry the same statement (Docs/SECURITY.md).
package enum BundleSignature {
    static let payloadType = "application/vnd.in-toto+json"
    static let predicateType = "modelpack/signature/v1"

    package static func path(for bundle: String) -> String { bundle + ".sig" }

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

    /// Signs the bundle's manifest digest; writes BUNDLE.sig through a temporary file.
    package static func sign(bundle: String, keyPath: String, limits: UnpackLimits) throws -> String {
        let key = try SigningKeys.loadPrivate(keyPath)
        let manifest = try BundleReader.inspect(bundle, limits: limits).manifest
        let body = try statement(manifest)
        let signature = try key.signature(for: pae(payloadType, body))
        let envelope: [String: Any] = [
            "payloadType": payloadType,
            "payload": body.base64EncodedString(),
            "signatures": [["keyid": SigningKeys.keyID(key.publicKey), "sig": signature.base64EncodedString()]],
        ]
        let data = try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .prettyPrinted])
        try FileSystem.writeAtomically(Array(data) + [0x0a], to: path(for: bundle))
        return SigningKeys.keyID(key.publicKey)
    }

    package enum Verdict: Equatable, Sendable {
        case valid(keyID: String)
        case unsigned
        case invalid(String)
    }

    /// Checks BUNDLE.sig against the trusted keys and the bundle's manifest (files are checked by verify).
    package static func check(bundle: String, keys: [String], trustedDirectory: String?, limits: UnpackLimits) throws
        -> Verdict
    {
        try check(
            bundle: bundle, trusted: try SigningKeys.trusted(keys: keys, directory: trustedDirectory), limits: limits)
    }

    static func check(bundle: String, trusted: [Curve25519.Signing.PublicKey], limits: UnpackLimits) throws -> Verdict {
        let sigPath = path(for: bundle)
        guard FileSystem.exists(sigPath) else { return .unsigned }
        let bytes = try FileSystem.readWholeFile(sigPath, limit: maxEnvelopeBytes)
        return check(
            envelope: bytes, named: sigPath, manifest: try BundleReader.inspect(bundle, limits: limits).manifest,
            trusted: trusted)
    }

    static let maxEnvelopeBytes = 64 << 20

    /// The key ids an envelope names (unchecked: for display).
    static func keyIDs(in bytes: [UInt8]) -> [String] {
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let signatures = envelope["signatures"] as? [[String: Any]]
        else { return [] }
        return signatures.compactMap { $0["keyid"] as? String }
    }

    /// Checks a signature envelope (from BUNDLE.sig or a registry referrer, named `source` in
    /// messages) against a bundle manifest.
    static func check(
        envelope bytes: [UInt8], named source: String, manifest: Manifest, trusted: [Curve25519.Signing.PublicKey]
    ) -> Verdict {
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            envelope["payloadType"] as? String == payloadType,
            let payloadText = envelope["payload"] as? String, let payload = Data(base64Encoded: payloadText),
            let signatures = envelope["signatures"] as? [[String: Any]]
        else {
            return .invalid("\(source) is not a DSSE envelope")
        }
        var signer: String?
        for entry in signatures {
            guard let sigText = entry["sig"] as? String, let sig = Data(base64Encoded: sigText) else { continue }
            if let key = trusted.first(where: { $0.isValidSignature(sig, for: pae(payloadType, payload)) }) {
                signer = SigningKeys.keyID(key)
                break
            }
        }
        guard let signer else { return .invalid("no signature by a trusted key") }
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
