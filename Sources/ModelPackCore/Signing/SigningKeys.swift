import Crypto
import Foundation
import X509

/// The kinds of key `keygen` writes.
package enum KeyType: String, CaseIterable, Sendable {
    /// modelpack's own: two one-line text files.
    case ed25519
    /// ECDSA on P-256, in PEM (PKCS#8 private, SubjectPublicKeyInfo public): what the OpenSSF
    /// model signing tools take (`model_signing sign key`).
    case ecdsaP256 = "ecdsa-p256"
}

/// A public key a verification trusts: modelpack's Ed25519, or an ECDSA key on P-256, P-384 or
/// P-521 read from PEM (the curves OMS signatures use); or a CA certificate, the trust anchor of
/// OMS signatures made with a certificate (`model_signing sign certificate`).
enum PublicKey {
    case ed25519(Curve25519.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case p521(P521.Signing.PublicKey)
    /// Verifies no signature itself: a chain of certificates must lead to it.
    case anchor(Certificate, fingerprint: String)

    /// The PEM text of an ECDSA key as `cryptography` writes it (64-column lines, a final line
    /// break): what OMS's `publicKey.hint` is the SHA-256 of.
    var pem: String? {
        let text: String
        switch self {
        case .ed25519, .anchor: return nil
        case .p256(let key): text = key.pemRepresentation
        case .p384(let key): text = key.pemRepresentation
        case .p521(let key): text = key.pemRepresentation
        }
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    /// OMS's key hint: the hex SHA-256 of the PEM text (nil for Ed25519).
    var hint: String? { pem.map { SHA256Stream.hex(of: Array($0.utf8)) } }

    /// The key's id: the first 16 hex digits of the SHA-256 of the Ed25519 key's bytes, of an
    /// ECDSA key's PEM (its OMS hint), or of a CA certificate's DER.
    var keyID: String {
        switch self {
        case .ed25519(let key): return String(SHA256Stream.hex(of: Array(key.rawRepresentation)).prefix(16))
        case .anchor(_, let fingerprint): return String(fingerprint.prefix(16))
        default: return String(hint!.prefix(16))
        }
    }

    /// Whether `signature` (raw for Ed25519, DER for ECDSA, hashed with the curve's SHA-2) signs
    /// `message`.
    func isValid(_ signature: Data, for message: Data) -> Bool {
        switch self {
        case .anchor: return false
        case .ed25519(let key): return key.isValidSignature(signature, for: message)
        case .p256(let key):
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: message)
        case .p384(let key):
            guard let sig = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: message)
        case .p521(let key):
            guard let sig = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: message)
        }
    }
}

/// A private key `sign` uses.
enum PrivateKey {
    case ed25519(Curve25519.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)

    var publicKey: PublicKey {
        switch self {
        case .ed25519(let key): return .ed25519(key.publicKey)
        case .p256(let key): return .p256(key.publicKey)
        }
    }

    /// The signature of `message`: raw Ed25519, or DER ECDSA over its SHA-256.
    func signature(for message: Data) throws -> Data {
        switch self {
        case .ed25519(let key): return try key.signature(for: message)
        case .p256(let key): return try key.signature(for: message).derRepresentation
        }
    }
}

/// Key files. modelpack's Ed25519 keys are two one-line text files:
///   private (mode 0600):  `modelpack-ed25519-private-v1 <base64 32-byte seed>`
///   public:               `modelpack-ed25519-public-v1 <base64 32 bytes> <comment>`
/// ECDSA keys are PEM: a PKCS#8 (or SEC1) private key, a SubjectPublicKeyInfo public key, as
/// openssl and the OpenSSF model signing tools write them.
package enum SigningKeys {
    static let privateTag = "modelpack-ed25519-private-v1"
    static let publicTag = "modelpack-ed25519-public-v1"
    static let maxKeyBytes = 64 * 1024

    /// Writes KEY (0600, never printed) and KEY.pub; refuses to overwrite either.
    package static func generate(privatePath: String, comment: String, type: KeyType = .ed25519) throws -> String {
        let publicPath = privatePath + ".pub"
        // keygen never replaces a key (a lost private key is not recoverable): no --force.
        for path in [privatePath, publicPath] where FileSystem.exists(path) {
            throw ModelPackError.usage(
                "\(path): already exists; keygen never replaces a key (remove it, or choose another name)")
        }
        let privateText: String
        let publicText: String
        let key: PublicKey
        switch type {
        case .ed25519:
            let secret = Curve25519.Signing.PrivateKey()
            privateText = privateTag + " " + secret.rawRepresentation.base64EncodedString() + "\n"
            publicText =
                publicTag + " " + secret.publicKey.rawRepresentation.base64EncodedString() + " " + comment + "\n"
            key = .ed25519(secret.publicKey)
        case .ecdsaP256:
            let secret = P256.Signing.PrivateKey()
            privateText = secret.pemRepresentation + "\n"
            key = .p256(secret.publicKey)
            publicText = key.pem!
        }
        let file = try OutputFile(creating: privatePath, mode: 0o600)
        try Array(privateText.utf8).withUnsafeBytes { try file.write($0) }
        try file.sync()
        let pub = try OutputFile(creating: publicPath, mode: 0o644)
        try Array(publicText.utf8).withUnsafeBytes { try pub.write($0) }
        return key.keyID
    }

    static func field(_ text: String, path: String, tag: String) throws -> Data {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, parts[0] == tag, let data = Data(base64Encoded: String(parts[1])), data.count == 32
        else {
            throw ModelPackError.usage(
                "\(path) is not a modelpack \(tag.contains("private") ? "private" : "public") key")
        }
        return data
    }

    static func loadPrivate(_ path: String) throws -> PrivateKey {
        let text = String(decoding: try FileSystem.readWholeFile(path, limit: maxKeyBytes), as: UTF8.self)
        if text.hasPrefix("-----BEGIN") {
            if let key = try? P256.Signing.PrivateKey(pemRepresentation: text) { return .p256(key) }
            throw ModelPackError.usage(
                "\(path) is not an unencrypted ECDSA P-256 private key in PEM (PKCS#8 or SEC1)")
        }
        return .ed25519(
            try Curve25519.Signing.PrivateKey(rawRepresentation: try field(text, path: path, tag: privateTag)))
    }

    static func loadPublic(_ path: String) throws -> PublicKey {
        let text = String(decoding: try FileSystem.readWholeFile(path, limit: maxKeyBytes), as: UTF8.self)
        if text.hasPrefix("-----BEGIN") {
            if let key = try? P256.Signing.PublicKey(pemRepresentation: text) { return .p256(key) }
            if let key = try? P384.Signing.PublicKey(pemRepresentation: text) { return .p384(key) }
            if let key = try? P521.Signing.PublicKey(pemRepresentation: text) { return .p521(key) }
            throw ModelPackError.usage("\(path) is not an ECDSA P-256, P-384 or P-521 public key in PEM")
        }
        return .ed25519(
            try Curve25519.Signing.PublicKey(rawRepresentation: try field(text, path: path, tag: publicTag)))
    }

    /// A trusted key file: one public key, or the CA certificates of a PEM file of certificates.
    static func loadTrustedFile(_ path: String) throws -> [PublicKey] {
        let text = String(decoding: try FileSystem.readWholeFile(path, limit: maxKeyBytes), as: UTF8.self)
        guard text.contains(OMSCertificate.pemBegin) else { return [try loadPublic(path)] }
        return try OMSCertificate.anchors(pem: text, path: path).map {
            .anchor($0.certificate, fingerprint: $0.fingerprint)
        }
    }

    /// The keys a verification trusts: the `--key` files and every `*.pub` and `*.pem` public key
    /// (or CA certificate) of `--trusted-keys`.
    static func trusted(keys: [String], directory: String?) throws -> [PublicKey] {
        let listed = try keys.flatMap(loadTrustedFile)
        let fromDirectory = try directory.map(loadTrusted) ?? []
        guard !(listed + fromDirectory).isEmpty else {
            throw ModelPackError.invalidModel(path: "", reason: "no trusted key was given")
        }
        return listed + fromDirectory
    }

    static func loadTrusted(directory: String) throws -> [PublicKey] {
        let keys = try FileSystem.listDirectory(directory).sorted()
            .filter { $0.hasSuffix(".pub") || $0.hasSuffix(".pem") }
            .flatMap { try loadTrustedFile(directory + "/" + $0) }
        guard !keys.isEmpty else { throw ModelPackError.usage("\(directory) holds no .pub or .pem public key") }
        return keys
    }
}

/// The public keys a command trusts: key files and a directory of `*.pub` (and `*.pem`).
package struct TrustedKeys: Sendable {
    package var files: [String]
    package var directory: String?

    package init(files: [String], directory: String?) {
        self.files = files
        self.directory = directory
    }
}
