extension Operations {
    /// `keygen`: an Ed25519 key pair; returns the key id.
    public static func keygen(privatePath: String, comment: String) throws -> String {
        try SigningKeys.generate(privatePath: privatePath, comment: comment)
    }
}
