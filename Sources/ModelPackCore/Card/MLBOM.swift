import Crypto
import Foundation

/// A CycloneDX 1.6 ML-BOM of a checked model (`modelpack bom`): the model as a
/// `machine-learning-model` component (name, version, the bundle digest, licence, and a model
/// card of its task, inputs and outputs), every file with its SHA-256 inside it, every
/// requirement as a `pkg:pypi` library (unpinned ones without a version, marked), the serving
/// runtime's own pinned dependencies, and the audit's verdicts as properties. Deterministic: no
/// timestamp, and the serial number is a name-based UUID of the document's content.
enum MLBOM {
    static let specVersion = "1.6"

    /// A package URL for a PyPI name: lower case, `_` as `-` (the purl spec's PyPI rules).
    static func purl(_ name: String, version: String?) -> String {
        let normalised = name.lowercased().replacingOccurrences(of: "_", with: "-")
        let escaped = normalised.addingPercentEncoding(withAllowedCharacters: .purlName) ?? normalised
        guard let version else { return "pkg:pypi/" + escaped }
        return "pkg:pypi/" + escaped + "@"
            + (version.addingPercentEncoding(withAllowedCharacters: .purlName) ?? version)
    }

    static func property(_ name: String, _ value: String) -> [String: Any] { ["name": name, "value": value] }

    /// The exact version a requirement pins (`==1.2.3`, `===1.2.3`), or nil.
    static func pinned(_ requirement: Requirement) -> String? {
        guard requirement.specifiers.count == 1, [.equal, .arbitrary].contains(requirement.specifiers[0].op),
            !requirement.specifiers[0].versionText.contains("*")
        else { return nil }
        return requirement.specifiers[0].versionText
    }

    /// The document, as sorted-key JSON.
    static func document(_ verdict: ModelVerdict) throws -> String {
        let root = verdict.metadataText.flatMap { try? YAMLReader.parse($0, limits: verdict.limits.yaml) } ?? nil
        func text(_ key: String) -> String? {
            guard let node = root?[key], node.isNull == false, let value = node.scalar, !value.isEmpty else {
                return nil
            }
            return value
        }
        let name = verdict.name ?? "model"
        let digest = String(verdict.bundleDigest.dropFirst("sha256:".count))

        // The model card: CycloneDX holds only a format per input and output; their names, types
        // and shapes are properties.
        var parameters: [String: Any] = [:]
        if let task = text("task") { parameters["task"] = task }
        func io(_ specs: [MetadataDocument.IOSpec], _ kind: String) -> ([[String: Any]], [[String: Any]]) {
            var formats: [[String: Any]] = []
            var properties: [[String: Any]] = []
            for (index, spec) in specs.enumerated() {
                formats.append(["format": spec.dtype ?? spec.type])
                properties.append(property("modelpack:\(kind):\(index):name", spec.name))
                properties.append(property("modelpack:\(kind):\(index):type", spec.type))
                if let shape = spec.shape {
                    properties.append(
                        property(
                            "modelpack:\(kind):\(index):shape",
                            "[" + shape.map { $0.map(String.init) ?? "null" }.joined(separator: ", ") + "]"))
                }
                if !spec.categories.isEmpty {
                    properties.append(
                        property("modelpack:\(kind):\(index):categories", spec.categories.joined(separator: ", ")))
                }
            }
            return (formats, properties)
        }
        let (inputs, inputProperties) = io(verdict.metadata.inputs, "input")
        let (outputs, outputProperties) = io(verdict.metadata.outputs, "output")
        if !inputs.isEmpty { parameters["inputs"] = inputs }
        if !outputs.isEmpty { parameters["outputs"] = outputs }
        var cardProperties = inputProperties + outputProperties
        if let framework = verdict.metadata.frameworkName?.value {
            let version = verdict.metadata.frameworkVersion.map { " " + $0.value } ?? ""
            cardProperties.append(property("modelpack:framework", framework + version))
        }
        var card: [String: Any] = [:]
        if !parameters.isEmpty { card["modelParameters"] = parameters }
        if !cardProperties.isEmpty { card["properties"] = cardProperties }

        // Every file, with the audit's verdict where it audited one.
        let audits = Dictionary(verdict.audits.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let files: [[String: Any]] = verdict.fileRecords.map { record in
            var properties = [property("modelpack:size", String(record.size))]
            if let audit = audits[record.path] {
                properties.append(property("modelpack:format", audit.format.rawValue))
                properties.append(property("modelpack:audit:verdict", audit.verdict.rawValue))
            }
            return [
                "type": "file", "bom-ref": "file:" + record.path, "name": record.path,
                "hashes": [["alg": "SHA-256", "content": record.sha256]], "properties": properties,
            ]
        }

        var model: [String: Any] = [
            "type": "machine-learning-model", "bom-ref": "model", "name": name,
            "hashes": [["alg": "SHA-256", "content": digest]], "components": files,
            "properties": [
                property("modelpack:bundle-digest", verdict.bundleDigest),
                property("modelpack:audit:verdict", (verdict.audits.map(\.verdict).max() ?? .safe).rawValue),
                property("modelpack:audit:errors", String(verdict.report.errorCount)),
                property("modelpack:audit:warnings", String(verdict.report.warningCount)),
            ],
        ]
        if let version = verdict.version { model["version"] = version }
        if let description = text("description") { model["description"] = description }
        if let license = text("license") { model["licenses"] = [["license": ["name": license]]] }
        if !card.isEmpty { model["modelCard"] = card }

        // The requirements, then the runtime's own pins; one component per package URL.
        var components: [[String: Any]] = []
        var refs: [String] = []
        var seen: Set<String> = []
        var lines: [String: Int] = [:]  // a requirement's component, to add a second line naming it
        var unparsed: [[String: Any]] = []
        for entry in verdict.requirements.entries {
            guard let requirement = entry.requirement else {
                if let reference = entry.directReference {
                    unparsed.append(property("modelpack:requirement:unnamed", reference))
                }
                continue
            }
            let version = pinned(requirement)
            let url = purl(requirement.canonicalName, version: version)
            let written = requirement.name + requirement.specifiers.map(\.description).joined(separator: ",")
            if let index = lines["requirement:" + url] {
                var properties = components[index]["properties"] as? [[String: Any]] ?? []
                properties.append(property("modelpack:requirement", written))
                components[index]["properties"] = properties
                continue
            }
            guard seen.insert("requirement:" + url).inserted else { continue }
            lines["requirement:" + url] = components.count
            var component: [String: Any] = [
                "type": "library", "bom-ref": "requirement:" + url, "name": requirement.canonicalName, "purl": url,
                "properties": [
                    property("modelpack:pinned", version == nil ? "false" : "true"),
                    property(
                        "modelpack:requirement",
                        requirement.name + requirement.specifiers.map(\.description).joined(separator: ",")),
                ],
            ]
            if let version { component["version"] = version }
            components.append(component)
            refs.append("requirement:" + url)
        }
        if !unparsed.isEmpty {  // lines pip reads without a name (a path or URL), kept as written
            model["properties"] = (model["properties"] as? [[String: Any]] ?? []) + unparsed
        }
        var runtimeRefs: [String] = []
        for line in ServingRuntime.file("requirements.txt").split(separator: "\n") {
            let parts = line.split(separator: "=", omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let url = purl(String(parts[0]), version: String(parts[1]))
            guard seen.insert("runtime:" + url).inserted else { continue }
            components.append([
                "type": "library", "bom-ref": "runtime:" + url, "name": String(parts[0]), "version": String(parts[1]),
                "purl": url, "scope": "optional",
                "properties": [property("modelpack:role", "serving runtime (modelpack serve and the image)")],
            ])
            runtimeRefs.append("runtime:" + url)
        }
        components.append([
            "type": "application", "bom-ref": "runtime", "name": "modelpack serving runtime",
            "version": ModelPackVersion.current, "scope": "optional",
        ])

        var bom: [String: Any] = [
            "bomFormat": "CycloneDX", "specVersion": specVersion, "version": 1,
            "metadata": [
                "tools": [
                    "components": [
                        [
                            "type": "application", "bom-ref": "tool:modelpack", "name": "modelpack",
                            "version": ModelPackVersion.current,
                        ]
                    ]
                ],
                "component": model,
            ],
            "components": components,
            "dependencies": [
                ["ref": "model", "dependsOn": refs], ["ref": "runtime", "dependsOn": runtimeRefs],
            ],
        ]
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let content = try JSONSerialization.data(withJSONObject: bom, options: options)
        bom["serialNumber"] = "urn:uuid:" + uuid5(Array(content))
        return String(decoding: try JSONSerialization.data(withJSONObject: bom, options: options), as: UTF8.self)
            + "\n"
    }

    /// A name-based UUID (version 5, SHA-1, in the URL namespace) of `bytes`: the same document
    /// gives the same serial number.
    static func uuid5(_ bytes: [UInt8]) -> String {
        let namespace: [UInt8] = [
            0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
        ]
        var hash = Array(Insecure.SHA1.hash(data: namespace + bytes)).prefix(16).map { $0 }
        hash[6] = (hash[6] & 0x0f) | 0x50
        hash[8] = (hash[8] & 0x3f) | 0x80
        let hex = hash.map { String(format: "%02x", $0) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(
                hex[
                    hex.index(
                        hex.startIndex, offsetBy: range.lowerBound)..<hex.index(
                            hex.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }
}

extension CharacterSet {
    /// What a purl's name and version keep unescaped.
    static let purlName = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~")
}
