import Crypto
import Foundation

/// The OpenSSF model signing format (OMS v1.0), as PyPI `model-signing` 1.1 writes and checks it
/// (Docs/SECURITY.md#oms): a Sigstore bundle (v0.3) holding a DSSE envelope over an in-toto
/// Statement v1 whose predicate (`https://model_signing/signature/v1.0`) lists every file's
/// SHA-256 as a resource; the subject's digest is the SHA-256 of those digests' bytes in the
/// resources' order. Key-based: ECDSA (DER) over DSSE's pre-authentication encoding, and the
/// key's hint (SHA-256 of its PEM) in `verificationMaterial.publicKey`.
///
/// The statement covers the model's content, not the container: for a bundle, every file of its
/// manifest and the manifest itself, as `.modelpack/manifest.json` (its canonical bytes, whose
/// SHA-256 is the bundle digest: the name, version, trusted modules, allowed-unsafe list and
/// executable bits are signed too), so `model_signing verify key` accepts the directory `unpack`
/// writes (its `.modelpack/signature.sig` is an ignored path); for a directory, every file in it.
/// modelpack's checks fail closed where model_signing trusts the signer: every file the model
/// has must be signed (`ignore_paths` excuses only git's files and a signature file), a bundle's
/// signature must cover its manifest, and only `files` statements over SHA-256 are read. Names
/// are compared as bytes (never as canonically equivalent Unicode).
enum OMSSignature {
    static let mediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    static let predicateType = "https://model_signing/signature/v1.0"
    static let statementType = "https://in-toto.io/Statement/v1"
    /// What model_signing leaves out at the model's root by default.
    static let ignoredAtRoot = [".git", ".gitattributes", ".github", ".gitignore"]

    /// One signed file: its path, relative, with `/`, and its hex SHA-256.
    struct Resource: Equatable {
        let name: String
        let digest: String
    }

    /// Whether these bytes are a Sigstore bundle (rather than modelpack's own DSSE envelope).
    static func isOMS(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["mediaType"] as? String != nil
    }

    /// The subject digest: SHA-256 over the resources' raw digests, in their order.
    static func rootDigest(_ resources: [Resource]) -> String? {
        var bytes: [UInt8] = []
        for resource in resources {
            guard let raw = hexBytes(resource.digest), raw.count == 32 else { return nil }
            bytes += raw
        }
        return SHA256Stream.hex(of: bytes)
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// model_signing's order: by path components, each by code point (`a/x` before `a-b/x`).
    static func ordered(_ resources: [Resource]) -> [Resource] {
        resources.sorted { a, b in
            let x = a.name.split(separator: "/", omittingEmptySubsequences: false)
            let y = b.name.split(separator: "/", omittingEmptySubsequences: false)
            for (p, q) in zip(x, y) where p != q {
                return Array(p.unicodeScalars.map(\.value)).lexicographicallyPrecedes(q.unicodeScalars.map(\.value))
            }
            return x.count < y.count
        }
    }

    /// The resources of a bundle: its manifest's files and the manifest itself.
    static func resources(of manifest: Manifest) -> [Resource] {
        ordered(
            manifest.files.map { Resource(name: $0.path, digest: $0.sha256) }
                + [Resource(name: Manifest.entryPath, digest: String(manifest.digest.dropFirst("sha256:".count)))])
    }

    /// What a bundle's statement records as ignored: git's files, and the signature an unpacked
    /// bundle keeps.
    static let bundleIgnorePaths = ignoredAtRoot + [Manifest.signatureEntryPath]

    // MARK: Signing

    /// The Sigstore bundle over `resources`, signed with an ECDSA key. `ignore` is what the
    /// statement records as left out (relative paths).
    static func sign(
        resources: [Resource], subject: String, ignore: [String], key: PrivateKey
    ) throws -> [UInt8] {
        let publicKey = key.publicKey
        guard let hint = publicKey.hint else {
            throw ModelPackError.usage(
                "OMS signatures take an ECDSA key (modelpack keygen \(CommandFlag.type) ecdsa-p256, or openssl), not Ed25519"
            )
        }
        let statement: [String: Any] = [
            "_type": statementType,
            "subject": [["name": subject, "digest": ["sha256": rootDigest(resources)!]]],
            "predicateType": predicateType,
            "predicate": [
                "serialization": [
                    "method": "files", "hash_type": "sha256", "allow_symlinks": false,
                    "ignore_paths": ignore.sorted(),
                ],
                "resources": resources.map { ["name": $0.name, "algorithm": "sha256", "digest": $0.digest] },
            ],
        ]
        let payload = try JSONSerialization.data(
            withJSONObject: statement, options: [.sortedKeys, .withoutEscapingSlashes])
        let signature = try key.signature(for: BundleSignature.pae(BundleSignature.payloadType, payload))
        let bundle: [String: Any] = [
            "mediaType": mediaType,
            "verificationMaterial": ["publicKey": ["hint": hint], "tlogEntries": [] as [Any]],
            "dsseEnvelope": [
                "payload": payload.base64EncodedString(), "payloadType": BundleSignature.payloadType,
                "signatures": [["sig": signature.base64EncodedString(), "keyid": ""]],
            ],
        ]
        return Array(
            try JSONSerialization.data(withJSONObject: bundle, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    // MARK: Checking

    /// A statement whose signature was checked: what it signs, and by which key.
    struct Signed {
        let keyID: String
        let subject: String
        let resources: [Resource]
        let ignorePaths: [String]
    }

    /// Checks the bundle's signature against the trusted keys and reads its statement: the
    /// Sigstore bundle's shape, a key the hint names (when it names one) that verifies
    /// `signatures[0]`, then the statement (type, predicate, `files` over SHA-256, one subject
    /// whose digest the resources give). A reason when anything fails.
    static func checked(_ bytes: [UInt8], trusted: [PublicKey]) -> Result<Signed, Failure> {
        guard let bundle = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return .failure(Failure("not JSON"))
        }
        guard bundle["mediaType"] as? String == mediaType else {
            return .failure(
                Failure("a Sigstore bundle of media type \(bundle["mediaType"] ?? "none"), not \(mediaType)"))
        }
        let material = bundle["verificationMaterial"] as? [String: Any] ?? [:]
        let byCertificate = material["certificate"] != nil || material["x509CertificateChain"] != nil
        if byCertificate, (material["tlogEntries"] as? [Any])?.isEmpty == false {
            return .failure(
                Failure(
                    "a keyless Sigstore signature (a certificate and a transparency log entry): modelpack checks OMS signatures by key or by a certificate chain to a CA you trust, and has no Sigstore trust root (Fulcio, Rekor) to check this one against"
                ))
        }
        guard let envelope = bundle["dsseEnvelope"] as? [String: Any],
            envelope["payloadType"] as? String == BundleSignature.payloadType,
            let payloadText = envelope["payload"] as? String, let payload = Data(base64Encoded: payloadText),
            let signatures = envelope["signatures"] as? [[String: Any]], let first = signatures.first,
            let sigText = first["sig"] as? String, let sig = Data(base64Encoded: sigText)
        else {
            return .failure(Failure("the Sigstore bundle holds no DSSE envelope of an in-toto statement"))
        }
        let message = BundleSignature.pae(BundleSignature.payloadType, payload)
        let signerID: String
        if byCertificate {
            // The leaf certificate's key, once its chain leads to a trusted CA.
            switch OMSCertificate.signingKey(material, trusted: trusted) {
            case .failure(let failure): return .failure(failure)
            case .success(let leaf):
                guard leaf.key.isValid(sig, for: message) else {
                    return .failure(Failure("the signature is not by the key of its certificate (\(leaf.signer))"))
                }
                signerID = leaf.signer
            }
        } else {
            let hint = (material["publicKey"] as? [String: Any])?["hint"] as? String
            let candidates = trusted.filter { key in
                guard let keyHint = key.hint else { return false }
                return hint == nil || hint == "" || hint == keyHint
            }
            guard let signer = candidates.first(where: { $0.isValid(sig, for: message) }) else {
                return .failure(Failure("no signature by a trusted key"))
            }
            signerID = signer.keyID
        }
        let by = "signed by \(signerID), but"
        guard let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            statement["_type"] as? String == statementType
        else { return .failure(Failure("\(by) the payload is not an in-toto Statement v1")) }
        guard statement["predicateType"] as? String == predicateType else {
            return .failure(
                Failure(
                    "\(by) its predicate is \(statement["predicateType"] ?? "none"), not \(predicateType) (older model signing formats are not read)"
                ))
        }
        guard let subjects = statement["subject"] as? [[String: Any]], subjects.count == 1,
            let subjectDigest = (subjects[0]["digest"] as? [String: Any])?["sha256"] as? String
        else { return .failure(Failure("\(by) the statement does not have exactly one subject with a sha256")) }
        let predicate = statement["predicate"] as? [String: Any] ?? [:]
        let serialization = predicate["serialization"] as? [String: Any] ?? [:]
        guard serialization["method"] as? String == "files", serialization["hash_type"] as? String == "sha256" else {
            return .failure(
                Failure(
                    "\(by) it hashes with \(serialization["method"] ?? "?")/\(serialization["hash_type"] ?? "?"); modelpack reads files/sha256 statements"
                ))
        }
        var resources: [Resource] = []
        var names: Set<[UInt8]> = []
        for entry in predicate["resources"] as? [[String: Any]] ?? [] {
            guard let name = entry["name"] as? String, entry["algorithm"] as? String == "sha256",
                let digest = entry["digest"] as? String, hexBytes(digest)?.count == 32
            else { return .failure(Failure("\(by) a resource is not a name with a sha256 digest")) }
            guard names.insert(Array(name.utf8)).inserted else {
                return .failure(Failure("\(by) it lists '\(name)' twice"))
            }
            resources.append(Resource(name: name, digest: digest.lowercased()))
        }
        guard rootDigest(resources) == subjectDigest.lowercased() else {
            return .failure(Failure("\(by) its subject digest is not the digest of its resources"))
        }
        return .success(
            Signed(
                keyID: signerID, subject: subjects[0]["name"] as? String ?? "",
                resources: resources,
                ignorePaths: (serialization["ignore_paths"] as? [String]) ?? []))
    }

    struct Failure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Whether a statement's resources are exactly these files (name and digest): the first
    /// difference, or nil.
    static func difference(signed: [Resource], files: [Resource]) -> String? {
        let byName = Dictionary(signed.map { (Array($0.name.utf8), $0.digest) }, uniquingKeysWith: { a, _ in a })
        let present = Set(files.map { Array($0.name.utf8) })
        for file in files {
            guard let digest = byName[Array(file.name.utf8)] else {
                return file.name == Manifest.entryPath
                    ? "it does not sign the bundle's manifest (\(Manifest.entryPath)): it was made for a directory; verify that directory, or sign the bundle"
                    : "'\(file.name)' is not signed"
            }
            if digest != file.digest { return "'\(file.name)' is signed with another digest" }
        }
        if let absent = signed.first(where: { !present.contains(Array($0.name.utf8)) }) {
            return "it signs '\(absent.name)', which is not there"
        }
        return nil
    }

    /// Checks an OMS signature against a bundle's (or unpacked model's) manifest: signed by a
    /// trusted key, over exactly the manifest's files.
    static func check(_ bytes: [UInt8], named source: String, manifest: Manifest, trusted: [PublicKey])
        -> BundleSignature.Verdict
    {
        switch checked(bytes, trusted: trusted) {
        case .failure(let failure): return .invalid("\(source): \(failure.reason)")
        case .success(let signed):
            if let difference = difference(signed: signed.resources, files: resources(of: manifest)) {
                return .invalid("signed by \(signed.keyID), but for other content: \(difference)")
            }
            return .valid(keyID: signed.keyID)
        }
    }

    /// Whether the statement (unchecked) lists exactly the manifest's files: a signature that may
    /// be valid for this bundle. nil when the bytes are not an OMS statement.
    static func covers(_ bytes: [UInt8], manifest: Manifest) -> Bool? {
        guard let signed = unverifiedResources(bytes) else { return nil }
        return difference(signed: signed, files: resources(of: manifest)) == nil
    }

    /// The statement's resources, without checking the signature (what a stale signature
    /// covered). nil when the bytes are not an OMS bundle of a files statement.
    static func unverifiedResources(_ bytes: [UInt8]) -> [Resource]? {
        guard let bundle = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            bundle["mediaType"] as? String == mediaType,
            let payloadText = (bundle["dsseEnvelope"] as? [String: Any])?["payload"] as? String,
            let payload = Data(base64Encoded: payloadText),
            let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            let entries = (statement["predicate"] as? [String: Any])?["resources"] as? [[String: Any]]
        else { return nil }
        return entries.compactMap { entry in
            guard let name = entry["name"] as? String, let digest = entry["digest"] as? String else { return nil }
            return Resource(name: name, digest: digest.lowercased())
        }
    }

    /// The subject digest a statement names (unchecked), as `sha256:…`.
    static func subjectDigest(_ bytes: [UInt8]) -> String? {
        guard let bundle = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let payloadText = (bundle["dsseEnvelope"] as? [String: Any])?["payload"] as? String,
            let payload = Data(base64Encoded: payloadText),
            let statement = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            let subjects = statement["subject"] as? [[String: Any]], subjects.count == 1,
            let digest = (subjects[0]["digest"] as? [String: Any])?["sha256"] as? String
        else { return nil }
        return "sha256:" + digest.lowercased()
    }
}
