/// The role a file plays in a model directory.
package enum FileRole: String, Codable, Sendable, CaseIterable {
    case metadata, requirements, interface, artifact

    /// The role of a path relative to the model directory.
    static func of(_ path: String) -> FileRole {
        switch path {
        case ModelDirectory.metadataFile: return .metadata
        case ModelDirectory.requirementsFile: return .requirements
        case ModelDirectory.interfaceFile: return .interface
        default: return .artifact
        }
    }
}

/// One file of a bundle as the manifest records it.
package struct FileRecord: Codable, Equatable, Sendable {
    package let path: String
    package let role: FileRole
    package let size: Int64
    /// Lower-case hexadecimal SHA-256 of the file's bytes.
    package let sha256: String
    /// Whether the file is executable (mode 0755 rather than 0644 when unpacked).
    package let executable: Bool
}

/// The manifest: the first entry of every bundle. Its canonical bytes (see `canonicalBytes`) are
/// what the bundle digest is computed over.
package struct Manifest: Codable, Equatable, Sendable {
    package static let entryPath = ".modelpack/manifest.json"
    /// Where an unpacked model keeps the signature that covers it (`unpack`, `pull --unpack`).
    package static let signatureEntryPath = ".modelpack/signature.sig"
    /// The version `build` writes (Docs/FORMAT.md, Versioning).
    package static let currentFormatVersion = 2
    /// The versions a reader takes: format 1 differs only in its zip container (a deflated
    /// manifest entry), which reads the same.
    package static let readableFormatVersions: Set<Int> = [1, 2]
    /// The largest manifest modelpack reads (a million files fit well inside).
    package static let maxBytes = 64 << 20

    package let formatVersion: Int
    /// The producing tool, e.g. `modelpack 0.1.0`.
    package let tool: String
    package let name: String
    package let version: String
    /// Artifacts the audit found dangerous and `build --allow-unsafe` packed anyway (absent when none).
    package let allowedUnsafe: [String]
    /// Modules metadata.yaml's `trusted_modules` names: the audit accepts pickles importing them
    /// (absent when none).
    package let trustedModules: [String]
    /// Files in byte order of their paths.
    package let files: [FileRecord]

    package init(
        formatVersion: Int, tool: String, name: String, version: String, allowedUnsafe: [String] = [],
        trustedModules: [String] = [], files: [FileRecord]
    ) {
        self.trustedModules = trustedModules
        self.formatVersion = formatVersion
        self.tool = tool
        self.name = name
        self.version = version
        self.allowedUnsafe = allowedUnsafe
        self.files = files
    }

    enum CodingKeys: String, CodingKey { case formatVersion, tool, name, version, allowedUnsafe, trustedModules, files }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        tool = try c.decode(String.self, forKey: .tool)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        allowedUnsafe = try c.decodeIfPresent([String].self, forKey: .allowedUnsafe) ?? []
        trustedModules = try c.decodeIfPresent([String].self, forKey: .trustedModules) ?? []
        files = try c.decode([FileRecord].self, forKey: .files)
    }

    package var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// `sha256:` followed by the SHA-256 of the canonical manifest bytes.
    package var digest: String {
        "sha256:" + SHA256Stream.hex(of: canonicalBytes())
    }
}
