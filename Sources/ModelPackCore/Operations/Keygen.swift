/// What `keygen` wrote.
package struct KeygenResult: Sendable {
    /// The private key's file; the public key is beside it, with `.pub`.
    package let privatePath: String
    package let keyID: String
    package let type: KeyType
    package var publicPath: String { privatePath + ".pub" }
}

extension Operations {
    /// `keygen`: an Ed25519 key pair, or an ECDSA P-256 one in PEM.
    package static func keygen(privatePath: String, comment: String, type: KeyType = .ed25519) throws -> KeygenResult {
        KeygenResult(
            privatePath: privatePath,
            keyID: try SigningKeys.generate(privatePath: privatePath, comment: comment, type: type), type: type)
    }
}
