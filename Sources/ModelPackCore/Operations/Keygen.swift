/// What `keygen` wrote.
package struct KeygenResult: Sendable {
    /// The private key's file; the public key is beside it, with `.pub`.
    package let privatePath: String
    package let keyID: String
    package var publicPath: String { privatePath + ".pub" }
}

extension Operations {
    /// `keygen`: an Ed25519 key pair.
    package static func keygen(privatePath: String, comment: String) throws -> KeygenResult {
        KeygenResult(
            privatePath: privatePath, keyID: try SigningKeys.generate(privatePath: privatePath, comment: comment))
    }
}
