/// One blob of a push or pull and what happened to it.
package struct BlobTransfer: Codable, Equatable, Sendable {
    package enum Action: String, Codable, Sendable {
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

    package let digest: String
    package let path: String
    package let size: Int64
    package let action: Action
    package let bytes: Int64
}
