import Foundation

/// Media types and annotation keys of the CNCF ModelPack layout (Docs/REGISTRY.md maps a bundle
/// onto it), and modelpack's own manifest layer.
package enum ModelMediaType {
    package static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let imageIndex = "application/vnd.oci.image.index.v1+json"
    package static let artifact = "application/vnd.cncf.model.manifest.v1+json"
    package static let config = "application/vnd.cncf.model.config.v1+json"
    /// The bundle's own manifest, canonical bytes: a pulled bundle has the pushed bundle's digest.
    package static let bundleManifest = "application/vnd.modelpack.bundle.manifest.v1+json"
    /// Before ModelPack v0.0.7 (2025-07) the same layout was named `vnd.cnai`.
    static let legacyArtifact = "application/vnd.cnai.model.manifest.v1+json"
    static let legacyConfig = "application/vnd.cnai.model.config.v1+json"

    package enum LayerKind: String, Sendable {
        case weight, weightConfig = "weight.config", doc, code, dataset
    }

    static func layer(_ kind: LayerKind) -> String { "application/vnd.cncf.model.\(kind.rawValue).v1.raw" }

    /// `weight`, `doc`... of a CNCF or cnai layer media type, with its packing (`raw`, `tar`...).
    static func parseLayer(_ mediaType: String) -> (kind: String, packing: String)? {
        for prefix in ["application/vnd.cncf.model.", "application/vnd.cnai.model."] where mediaType.hasPrefix(prefix) {
            let rest = mediaType.dropFirst(prefix.count)
            guard let v1 = rest.range(of: ".v1.") else { return nil }
            return (String(rest[..<v1.lowerBound]), String(rest[v1.upperBound...]))
        }
        return nil
    }

    /// Which layer a bundle's file goes in: code for interface.py, other Python and requirements;
    /// docs for metadata.yaml and prose; configuration beside the weights for JSON/YAML/TOML
    /// artifacts; the rest are weights.
    static func kind(of record: FileRecord) -> LayerKind {
        let name = FileSystem.lastComponent(of: record.path).lowercased()
        let ext = name.split(separator: ".").count > 1 ? String(name.split(separator: ".").last!) : ""
        switch record.role {
        case .interface, .requirements: return .code
        case .metadata: return .doc
        case .artifact:
            if ext == "py" || (name.hasPrefix("requirements") && ext == "txt") || name.hasPrefix("constraints") {
                return .code
            }
            if ["md", "rst", "txt"].contains(ext) || name.hasPrefix("license") || name.hasPrefix("readme")
                || name.hasPrefix("notice")
            {
                return .doc
            }
            if ["json", "yaml", "yml", "toml", "cfg", "ini"].contains(ext) { return .weightConfig }
            return .weight
        }
    }
}

package enum ModelAnnotation {
    package static let filepath = "org.cncf.model.filepath"
    package static let fileMetadata = "org.cncf.model.file.metadata+json"
    static let legacyFilepath = "org.cnai.model.filepath"
    static let legacyFileMetadata = "org.cnai.model.file.metadata+json"
    /// ORAS and others name a layer's file with this.
    package static let title = "org.opencontainers.image.title"
    package static let created = "org.opencontainers.image.created"
    package static let version = "org.opencontainers.image.version"
    /// The bundle digest, on the manifest: what `inspect REF` shows without another request.
    package static let bundleDigest = "dev.modelpack.bundle.digest"
}

/// An OCI content descriptor.
package struct OCIDescriptor: Codable, Equatable, Sendable {
    package var mediaType: String
    package var digest: String
    package var size: Int64
    package var artifactType: String?
    package var annotations: [String: String]?

    package init(
        mediaType: String, digest: String, size: Int64, artifactType: String? = nil,
        annotations: [String: String]? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.artifactType = artifactType
        self.annotations = annotations
    }

    /// The file path a layer stands for (CNCF, cnai or ORAS annotation).
    package var filepath: String? {
        annotations?[ModelAnnotation.filepath] ?? annotations?[ModelAnnotation.legacyFilepath]
            ?? annotations?[ModelAnnotation.title]
    }
}

/// An OCI image manifest (also an image index when `manifests` is set).
package struct OCIManifest: Codable, Equatable, Sendable {
    package var schemaVersion = 2
    package var mediaType: String?
    package var artifactType: String?
    package var config: OCIDescriptor?
    package var layers: [OCIDescriptor]?
    package var manifests: [OCIDescriptor]?
    package var subject: OCIDescriptor?
    package var annotations: [String: String]?

    /// Stable bytes: sorted keys, no escaped slashes. The same bundle always gives the same manifest.
    func encoded() -> Data {
        ModelArtifact.encode(self)
    }

    /// Refuses sizes no blob can have before any arithmetic uses them: a negative size (which
    /// would cancel others in a total) or sizes whose sum passes 2^62 bytes (an overflow).
    func checkSizes(reference: String) throws {
        var total: Int64 = 0
        let descriptors = [config].compactMap { $0 } + (layers ?? []) + (manifests ?? [])
        for descriptor in descriptors {
            let name = RegistryText.escaped(descriptor.filepath ?? descriptor.digest)
            guard descriptor.size >= 0 else {
                throw ModelPackError.registry(
                    reference: reference, reason: "'\(name)' declares a negative size (\(descriptor.size)); refused")
            }
            let (sum, overflow) = total.addingReportingOverflow(descriptor.size)
            guard !overflow, sum <= Int64(ByteReader.maxLength) else {
                throw ModelPackError.registry(
                    reference: reference,
                    reason: "'\(name)' declares \(descriptor.size) bytes, past any size a registry holds; refused")
            }
            total = sum
        }
    }
}

/// A bundle as a CNCF ModelPack artifact: the config filled from metadata.yaml, one raw layer per
/// file (so a layer's digest is the file's SHA-256 the bundle manifest holds), and the bundle
/// manifest as a layer of its own type.
package enum ModelArtifact {
    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data()
    }

    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func seconds(rfc3339 text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }

    /// The layer of one bundle file.
    static func layer(for record: FileRecord, timestamp: Int64) -> OCIDescriptor {
        let metadata: [String: Any] = [
            "name": record.path, "mode": record.executable ? 0o755 : 0o644, "uid": 0, "gid": 0,
            "size": record.size, "mtime": rfc3339(timestamp), "typeflag": 48,
        ]
        let json =
            (try? JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return OCIDescriptor(
            mediaType: ModelMediaType.layer(ModelMediaType.kind(of: record)), digest: "sha256:" + record.sha256,
            size: record.size,
            annotations: [
                ModelAnnotation.filepath: record.path, ModelAnnotation.fileMetadata: json,
                ModelAnnotation.title: record.path,
            ])
    }

    /// The manifest's own layer.
    static func bundleManifestLayer(_ bytes: [UInt8], timestamp: Int64) -> OCIDescriptor {
        OCIDescriptor(
            mediaType: ModelMediaType.bundleManifest, digest: "sha256:" + SHA256Stream.hex(of: bytes),
            size: Int64(bytes.count),
            annotations: [ModelAnnotation.filepath: Manifest.entryPath, ModelAnnotation.created: rfc3339(timestamp)])
    }

    /// The ModelPack config from the bundle manifest and metadata.yaml (`createdAt` is the bundle's
    /// entry timestamp, so the config, like the bundle, is the same for the same input).
    static func config(manifest: Manifest, metadata: YAMLNode?, timestamp: Int64) -> Data {
        var descriptor: [String: Any] = [
            "name": manifest.name, "version": manifest.version, "createdAt": rfc3339(timestamp),
        ]
        if let description = metadata?["description"]?.scalar, !description.isEmpty {
            descriptor["description"] = description
        }
        if let license = metadata?["license"]?.scalar, !license.isEmpty { descriptor["licenses"] = [license] }
        if case .sequence(let authors)? = metadata?["authors"]?.value {
            let names = authors.compactMap { author -> String? in
                if let text = author.scalar { return text }
                guard let name = author["name"]?.scalar else { return nil }
                return author["email"]?.scalar.map { "\(name) <\($0)>" } ?? name
            }
            if !names.isEmpty { descriptor["authors"] = names }
        }
        var config: [String: Any] = [:]
        if let framework = metadata?["framework"]?["name"]?.scalar, !framework.isEmpty {
            config["format"] = framework
            if let version = metadata?["framework"]?["version"]?.scalar {
                config["architecture"] = "\(framework) \(version)"
            }
        }
        let object: [String: Any] = [
            "descriptor": descriptor, "config": config,
            "modelfs": ["type": "layers", "diffIds": manifest.files.map { "sha256:" + $0.sha256 }],
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// The image manifest for a bundle, given its config and bundle-manifest blobs.
    static func manifest(
        for bundle: Manifest, timestamp: Int64, config: Data, bundleManifestBytes: [UInt8]
    ) -> OCIManifest {
        var layers = bundle.files.map { layer(for: $0, timestamp: timestamp) }
        layers.append(bundleManifestLayer(bundleManifestBytes, timestamp: timestamp))
        return OCIManifest(
            mediaType: ModelMediaType.imageManifest, artifactType: ModelMediaType.artifact,
            config: OCIDescriptor(
                mediaType: ModelMediaType.config, digest: "sha256:" + SHA256Stream.hex(of: config),
                size: Int64(config.count)),
            layers: layers,
            annotations: [
                ModelAnnotation.created: rfc3339(timestamp), ModelAnnotation.version: bundle.version,
                ModelAnnotation.title: bundle.name, ModelAnnotation.bundleDigest: bundle.digest,
            ])
    }

    /// What a model config says, read from either the CNCF (camelCase) or the older cnai
    /// (snake_case) form; nil fields are absent.
    package struct ConfigSummary: Sendable, Equatable {
        package var name: String?
        package var version: String?
        package var description: String?
        package var licenses: [String] = []
        package var authors: [String] = []
        package var format: String?
        package var architecture: String?
        package var createdAt: String?
        package var diffIds: [String] = []
    }

    static func readConfig(_ data: Data) -> ConfigSummary? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let descriptor = object["descriptor"] as? [String: Any] ?? [:]
        let config = object["config"] as? [String: Any] ?? [:]
        let modelfs = object["modelfs"] as? [String: Any] ?? [:]
        var summary = ConfigSummary()
        summary.name = descriptor["name"] as? String
        summary.version = descriptor["version"] as? String
        summary.description = descriptor["description"] as? String
        summary.licenses = descriptor["licenses"] as? [String] ?? []
        summary.authors = descriptor["authors"] as? [String] ?? []
        summary.createdAt = (descriptor["createdAt"] ?? descriptor["created_at"] ?? descriptor["created"]) as? String
        summary.format = config["format"] as? String
        summary.architecture = config["architecture"] as? String
        summary.diffIds = (modelfs["diffIds"] ?? modelfs["diff_ids"]) as? [String] ?? []
        return summary
    }

    static func isModelArtifact(_ manifest: OCIManifest) -> Bool {
        let types = [manifest.artifactType, manifest.config?.mediaType]
        return types.contains(ModelMediaType.artifact) || types.contains(ModelMediaType.config)
            || types.contains(ModelMediaType.legacyArtifact) || types.contains(ModelMediaType.legacyConfig)
    }
}
