/// Renders `inspect`: the bundle's identity and its file table.
package enum InspectReport {
    static let schema = "modelpack.inspect/1"

    struct JSON: Encodable {
        var schema: String
        let bundle: String
        let container: String
        let name: String
        let version: String
        let digest: String
        let formatVersion: Int
        let tool: String
        let archiveSize: Int64
        let totalSize: Int64
        let allowedUnsafe: [String]
        let trustedModules: [String]
        let files: [FileRecord]

        enum CodingKeys: String, CodingKey {
            case schema, bundle, container, name, version, digest, formatVersion, tool, archiveSize, totalSize
            case allowedUnsafe, trustedModules, files
        }

        /// `modelpack.inspect/1` stays as it was; `trustedModules` came with inspect/3 and build/1.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(bundle, forKey: .bundle)
            try c.encode(container, forKey: .container)
            try c.encode(name, forKey: .name)
            try c.encode(version, forKey: .version)
            try c.encode(digest, forKey: .digest)
            try c.encode(formatVersion, forKey: .formatVersion)
            try c.encode(tool, forKey: .tool)
            try c.encode(archiveSize, forKey: .archiveSize)
            try c.encode(totalSize, forKey: .totalSize)
            try c.encode(allowedUnsafe, forKey: .allowedUnsafe)
            if schema != InspectReport.schema { try c.encode(trustedModules, forKey: .trustedModules) }
            try c.encode(files, forKey: .files)
        }
    }

    package static func text(_ summary: BundleSummary) -> String {
        let m = summary.manifest
        var out = """
            bundle     \(summary.path)
            name       \(m.name)
            version    \(m.version)
            digest     \(summary.digest)
            container  \(summary.container.rawValue), \(ByteCount.human(summary.archiveSize))
            format     modelpack bundle v\(m.formatVersion), written by \(m.tool)
            files      \(m.files.count), \(ByteCount.human(m.totalSize)) uncompressed

            """
        if !m.allowedUnsafe.isEmpty {
            out += "UNSAFE     packed with \(CommandFlag.allowUnsafe): \(m.allowedUnsafe.joined(separator: ", "))\n"
        }
        if !m.trustedModules.isEmpty {
            out +=
                "TRUSTED    modules the publisher trusts (metadata.yaml): \(m.trustedModules.joined(separator: ", "))\n"
        }
        var table = TextTable(header: ["ROLE", "SIZE", "SHA-256", "PATH"], rightAligned: [1])
        for file in m.files {
            table.rows.append([
                file.role.rawValue, ByteCount.human(file.size), file.sha256,
                file.path + (file.executable ? " (executable)" : ""),
            ])
        }
        out += "\n" + table.render() + "\n"
        return out
    }

    static func document(_ summary: BundleSummary) -> JSON {
        let m = summary.manifest
        return JSON(
            schema: schema, bundle: summary.path, container: summary.container.rawValue,
            name: m.name, version: m.version, digest: summary.digest,
            formatVersion: m.formatVersion, tool: m.tool, archiveSize: summary.archiveSize,
            totalSize: m.totalSize, allowedUnsafe: m.allowedUnsafe, trustedModules: m.trustedModules,
            files: m.files)
    }

    package static func json(_ summary: BundleSummary) -> String {
        StableJSON.encode(document(summary)) + "\n"
    }
}
