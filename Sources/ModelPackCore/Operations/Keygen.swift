/// What `keygen` wrote.
public struct KeygenResult: Sendable {
    /// The private key's file; the public key is beside it, with `.pub`.
    public let privatePath: String
    public let keyID: String
    public var publicPath: String { privatePath + ".pub" }
}

extension Operations {
    /// `keygen`: an Ed25519 key pair.
    public static func keygen(privatePath: String, comment: String) throws -> KeygenResult {
        KeygenResult(
            privatePath: privatePath, keyID: try SigningKeys.generate(privatePath: privatePath, comment: comment))
    }
}
