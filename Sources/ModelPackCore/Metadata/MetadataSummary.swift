/// What the bundle format needs from metadata.yaml: the model's name and version.
/// (The full schema check is `validate`'s; this reads just enough to write a manifest.)
public struct MetadataSummary: Equatable, Sendable {
    public let name: String
    public let version: String

    static func read(path: String) throws -> MetadataSummary {
        let bytes = try FileSystem.readWholeFile(path, limit: YAMLLimits().maxBytes)
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes)
        } catch let error as YAMLError {
            throw ModelPackError.invalidModel(path: "\(path):\(error.mark)", reason: error.message)
        }
        guard let root, case .mapping = root.value else {
            throw ModelPackError.invalidModel(
                path: path, reason: "must be a YAML mapping with at least 'name' and 'version'")
        }
        func field(_ key: String) throws -> String {
            guard let node = root[key] else {
                throw ModelPackError.invalidModel(path: "\(path):\(root.mark)", reason: "missing required key '\(key)'")
            }
            guard let text = node.scalar, !node.isNull, !text.isEmpty else {
                throw ModelPackError.invalidModel(
                    path: "\(path):\(node.mark)", reason: "'\(key)' must be a non-empty string")
            }
            return text
        }
        return MetadataSummary(name: try field("name"), version: try field("version"))
    }
}
