/// One blob of a push or pull and what happened to it.
public struct BlobTransfer: Codable, Equatable, Sendable {
    public enum Action: String, Codable, Sendable {
        /// Sent to the registry.
        case uploaded
        /// The registry had it (HEAD answered 200): nothing sent.
        case present
        /// Mounted from another repository of the same registry: nothing sent.
        case mounted
        /// Received from the registry.
        case downloaded
        /// Already in the local blob cache: nothing received.
        case cached
    }

    public let digest: String
    public let path: String
    public let size: Int64
    public let action: Action
    public let bytes: Int64
}
