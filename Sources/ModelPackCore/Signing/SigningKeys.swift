import Crypto
import Foundation

/// Ed25519 keys in two one-line text files:
///   private (mode 0600):  `modelpack-ed25519-private-v1 <base64 32-byte seed>`
///   public:               `modelpack-ed25519-public-v1 <base64 32 bytes> <comment>`
/// A key's id is the first 16 hex digits of the SHA-256 of its public bytes.
package enum SigningKeys {
    static let privateTag = "modelpack-ed25519-private-v1"
    static let publicTag = "modelpack-ed25519-public-v1"

    static func keyID(_ publicKey: Curve25519.Signing.PublicKey) -> String {
        String(SHA256Stream.hex(of: Array(publicKey.rawRepresentation)).prefix(16))
    }

    /// Writes KEY (0600, never printed) and KEY.pub; refuses to overwrite either.
    package static func generate(privatePath: String, comment: String) throws -> String {
        let publicPath = privatePath + ".pub"
        for path in [privatePath, publicPath] where FileSystem.exists(path) {
            throw ModelPackError.destinationExists(path: path)
        }
        let key = Curve25519.Signing.PrivateKey()
        let privateText = privateTag + " " + key.rawRepresentation.base64EncodedString() + "\n"
        let publicText = publicTag + " " + key.publicKey.rawRepresentation.base64EncodedString() + " " + comment + "\n"
        let file = try OutputFile(creating: privatePath, mode: 0o600)
        try Array(privateText.utf8).withUnsafeBytes { try file.write($0) }
        try file.sync()
        let pub = try OutputFile(creating: publicPath, mode: 0o644)
        try Array(publicText.utf8).withUnsafeBytes { try pub.write($0) }
        return keyID(key.publicKey)
    }

    static func field(_ path: String, tag: String) throws -> Data {
        let text = String(decoding: try FileSystem.readWholeFile(path, limit: 64 * 1024), as: UTF8.self)
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, parts[0] == tag, let data = Data(base64Encoded: String(parts[1])), data.count == 32
        else {
            throw ModelPackError.usage(
                "\(path) is not a modelpack \(tag.contains("private") ? "private" : "public") key")
        }
        return data
    }

    static func loadPrivate(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: try field(path, tag: privateTag))
    }

    static func loadPublic(_ path: String) throws -> Curve25519.Signing.PublicKey {
        try Curve25519.Signing.PublicKey(rawRepresentation: try field(path, tag: publicTag))
    }

    /// Every `*.pub` key in a directory.
    /// The keys a verification trusts: the `--key` files and every `*.pub` of `--trusted-keys`.
    static func trusted(keys: [String], directory: String?) throws -> [Curve25519.Signing.PublicKey] {
        let listed = try keys.map(loadPublic)
        let fromDirectory = try directory.map(loadTrusted) ?? []
        guard !(listed + fromDirectory).isEmpty else {
            throw ModelPackError.invalidModel(path: "", reason: "no trusted key was given")
        }
        return listed + fromDirectory
    }

    static func loadTrusted(directory: String) throws -> [Curve25519.Signing.PublicKey] {
        let keys = try FileSystem.listDirectory(directory).sorted().filter { $0.hasSuffix(".pub") }
            .map { try loadPublic(directory + "/" + $0) }
        guard !keys.isEmpty else { throw ModelPackError.usage("\(directory) holds no .pub key") }
        return keys
    }
}

/// The public keys a command trusts: key files and a directory of `*.pub`.
package struct TrustedKeys: Sendable {
    package var files: [String]
    package var directory: String?

    package init(files: [String], directory: String?) {
        self.files = files
        self.directory = directory
    }
}
