/// What changed between two models (bundles or directories), each judged by the one check
/// pipeline: files by digest, metadata fields, requirements, audit verdicts, and the input and
/// output schema, with the changes a caller of the model would break on called out.
package struct ModelDiff: Sendable {
    package enum FileChangeKind: String, Codable, Sendable { case added, removed, changed }

    package struct FileChange: Encodable, Equatable, Sendable {
        package let path: String
        package let change: FileChangeKind
        package let before: String?
        package let after: String?
        package let beforeSize: Int64?
        package let afterSize: Int64?

        enum CodingKeys: String, CodingKey { case path, change, before, after, beforeSize, afterSize }

        package func encode(to encoder: any Encoder) throws {  // absent values as null, never a missing key
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(change, forKey: .change)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
            try c.encode(beforeSize, forKey: .beforeSize)
            try c.encode(afterSize, forKey: .afterSize)
        }
    }

    /// A metadata.yaml value at a dotted path (`framework.version`, `tags.1`); nil: absent.
    package struct FieldChange: Encodable, Equatable, Sendable {
        package let field: String
        package let before: String?
        package let after: String?

        enum CodingKeys: String, CodingKey { case field, before, after }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(field, forKey: .field)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
        }
    }

    package enum RequirementChangeKind: String, Codable, Sendable {
        case added, removed, upgraded, downgraded, changed
    }

    /// A requirement by its canonical name; `before` and `after` are its specifiers, extras and
    /// marker as written (`==1.9.1`).
    package struct RequirementChange: Encodable, Equatable, Sendable {
        package let name: String
        package let change: RequirementChangeKind
        package let before: String?
        package let after: String?

        enum CodingKeys: String, CodingKey { case name, change, before, after }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(change, forKey: .change)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
        }
    }

    package struct VerdictChange: Encodable, Equatable, Sendable {
        package let path: String
        package let before: ImportVerdict?
        package let after: ImportVerdict?

        enum CodingKeys: String, CodingKey { case path, before, after }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
        }
    }

    /// A change to an input or output. `compatible` is false when a caller or consumer of the
    /// model as it was can break on it: an input added, removed, retyped, reordered or narrowed
    /// (the server refuses rows with a missing or an unknown input, and list rows are positional);
    /// an output removed or retyped, or given new categories.
    package struct SchemaChange: Encodable, Equatable, Sendable {
        package let side: String
        package let name: String
        package let change: String
        package let before: String?
        package let after: String?
        package let compatible: Bool

        enum CodingKeys: String, CodingKey { case side, name, change, before, after, compatible }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(side, forKey: .side)
            try c.encode(name, forKey: .name)
            try c.encode(change, forKey: .change)
            try c.encode(before, forKey: .before)
            try c.encode(after, forKey: .after)
            try c.encode(compatible, forKey: .compatible)
        }
    }

    package let before: String
    package let after: String
    /// Bundle digests (for a directory, the digest `build` would give it now).
    package let beforeDigest: String
    package let afterDigest: String
    package let files: [FileChange]
    package let unchangedFiles: Int
    package let metadata: [FieldChange]
    package let requirements: [RequirementChange]
    package let verdicts: [VerdictChange]
    package let schema: [SchemaChange]

    package var same: Bool {
        files.isEmpty && metadata.isEmpty && requirements.isEmpty && verdicts.isEmpty && schema.isEmpty
    }

    package var incompatible: Bool { schema.contains { !$0.compatible } }

    static func compare(_ a: ModelVerdict, _ b: ModelVerdict, before: String, after: String) -> ModelDiff {
        ModelDiff(
            before: before, after: after, beforeDigest: a.bundleDigest, afterDigest: b.bundleDigest,
            files: files(a.fileRecords, b.fileRecords),
            unchangedFiles: Set(a.fileRecords.map { $0.path + "\0" + $0.sha256 })
                .intersection(b.fileRecords.map { $0.path + "\0" + $0.sha256 }).count,
            metadata: fields(a.metadataText, b.metadataText, limits: a.limits.yaml),
            requirements: requirements(a.requirements, b.requirements),
            verdicts: verdicts(a.audits, b.audits),
            schema: schema(a.metadata, b.metadata) + artifactFacts(a.audits, b.audits))
    }

    /// What the artifacts themselves take and give, where both versions have the artifact: the
    /// columns a model was fitted on (or their count), an encoder's categories, the classes, an
    /// ONNX graph's inputs and outputs. Any change is incompatible: rows that fit the old model
    /// may not fit the new one, and its answers are another set.
    private static func artifactFacts(_ a: [ArtifactAudit], _ b: [ArtifactAudit]) -> [SchemaChange] {
        let after = Dictionary(b.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
        var out: [SchemaChange] = []
        func change(_ path: String, _ what: String, _ x: String?, _ y: String?) {
            guard x != y else { return }
            out.append(
                SchemaChange(
                    side: "artifact", name: "\(path): \(what)", change: "changed", before: x, after: y,
                    compatible: false))
        }
        func text(_ list: [String]?) -> String? { list.map { $0.joined(separator: ", ") } }
        for old in a {
            guard let new = after[old.path] else { continue }
            if let x = old.pickle?.estimator, let y = new.pickle?.estimator {
                change(old.path, "columns", text(x.featureNames), text(y.featureNames))
                change(old.path, "feature count", x.featureCount.map(String.init), y.featureCount.map(String.init))
                change(old.path, "classes", text(x.classes), text(y.classes))
                for column in Set(x.categories.keys).union(y.categories.keys).sorted() {
                    change(old.path, "categories of \(column)", text(x.categories[column]), text(y.categories[column]))
                }
            }
            if let x = old.graph, let y = new.graph {
                change(
                    old.path, "graph inputs", x.inputs.map(\.description).joined(separator: "; "),
                    y.inputs.map(\.description).joined(separator: "; "))
                change(
                    old.path, "graph outputs", x.outputs.map(\.description).joined(separator: "; "),
                    y.outputs.map(\.description).joined(separator: "; "))
            }
        }
        return out
    }

    private static func files(_ a: [FileRecord], _ b: [FileRecord]) -> [FileChange] {
        let old = Dictionary(a.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
        let new = Dictionary(b.map { ($0.path, $0) }, uniquingKeysWith: { x, _ in x })
        var out: [FileChange] = []
        for path in Set(old.keys).union(new.keys).sorted() {
            let x = old[path]
            let y = new[path]
            if let x, let y, x.sha256 == y.sha256, x.executable == y.executable { continue }
            let change: FileChangeKind = x == nil ? .added : y == nil ? .removed : .changed
            out.append(
                FileChange(
                    path: path, change: change, before: x.map { "sha256:" + $0.sha256 },
                    after: y.map { "sha256:" + $0.sha256 }, beforeSize: x?.size, afterSize: y?.size))
        }
        return out
    }

    /// metadata.yaml flattened to dotted paths; inputs and outputs are compared as a schema.
    private static func fields(_ a: [UInt8]?, _ b: [UInt8]?, limits: YAMLLimits) -> [FieldChange] {
        let old = flatten(a, limits: limits)
        let new = flatten(b, limits: limits)
        return Set(old.keys).union(new.keys).sorted().compactMap { key in
            old[key] == new[key] ? nil : FieldChange(field: key, before: old[key], after: new[key])
        }
    }

    private static func flatten(_ bytes: [UInt8]?, limits: YAMLLimits) -> [String: String] {
        guard let bytes, let root = try? YAMLReader.parse(bytes, limits: limits) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ node: YAMLNode, _ prefix: String) {
            switch node.value {
            case .scalar(let text, _): out[prefix] = text
            case .sequence(let items):
                if items.isEmpty { out[prefix] = "[]" }
                for (i, item) in items.enumerated() { walk(item, prefix + "." + String(i)) }
            case .mapping(let pairs):
                if pairs.isEmpty { out[prefix] = "{}" }
                for (key, value) in pairs {
                    let name = key.scalar ?? "?"
                    if prefix.isEmpty && (name == "inputs" || name == "outputs") { continue }
                    walk(value, prefix.isEmpty ? name : prefix + "." + name)
                }
            }
        }
        walk(root, "")
        return out
    }

    private static func requirements(_ a: RequirementsFile, _ b: RequirementsFile) -> [RequirementChange] {
        func table(_ file: RequirementsFile) -> [String: Requirement] {
            var out: [String: Requirement] = [:]
            for entry in file.entries { if let r = entry.requirement { out[r.canonicalName] = r } }
            return out
        }
        func text(_ r: Requirement) -> String {
            var s = r.extras.isEmpty ? "" : "[" + r.extras.joined(separator: ",") + "]"
            s += r.specifiers.map(\.description).joined(separator: ",")
            if let url = r.url { s += " @ " + url }
            if let marker = r.marker { s += "; " + marker }
            return s.isEmpty ? "(any version)" : s
        }
        func pin(_ r: Requirement) -> PEP440Version? {
            guard r.specifiers.count == 1, let only = r.specifiers.first, only.op == .equal || only.op == .arbitrary
            else { return nil }
            return PEP440Version(only.versionText)
        }
        let old = table(a)
        let new = table(b)
        var out: [RequirementChange] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            switch (old[name], new[name]) {
            case (nil, let y?): out.append(RequirementChange(name: name, change: .added, before: nil, after: text(y)))
            case (let x?, nil): out.append(RequirementChange(name: name, change: .removed, before: text(x), after: nil))
            case (let x?, let y?) where text(x) != text(y):
                var change = RequirementChangeKind.changed
                if let p = pin(x), let q = pin(y), x.extras == y.extras, x.marker == y.marker, p != q {
                    change = p < q ? .upgraded : .downgraded
                }
                out.append(RequirementChange(name: name, change: change, before: text(x), after: text(y)))
            default: break
            }
        }
        return out
    }

    private static func verdicts(_ a: [ArtifactAudit], _ b: [ArtifactAudit]) -> [VerdictChange] {
        let old = Dictionary(a.map { ($0.path, $0.verdict) }, uniquingKeysWith: { x, _ in x })
        let new = Dictionary(b.map { ($0.path, $0.verdict) }, uniquingKeysWith: { x, _ in x })
        return Set(old.keys).union(new.keys).sorted().compactMap { path in
            old[path] == new[path] ? nil : VerdictChange(path: path, before: old[path], after: new[path])
        }
    }

    private static func schema(_ a: MetadataDocument, _ b: MetadataDocument) -> [SchemaChange] {
        compareIO(a.inputs, b.inputs, side: "inputs") + compareIO(a.outputs, b.outputs, side: "outputs")
    }

    private static func describe(_ spec: MetadataDocument.IOSpec) -> String {
        var s = spec.type
        if !spec.categories.isEmpty { s += " [" + spec.categories.joined(separator: ", ") + "]" }
        if let shape = spec.shape {
            s += " shape [" + shape.map { $0.map(String.init) ?? "null" }.joined(separator: ", ") + "]"
        }
        if let dtype = spec.dtype { s += " " + dtype }
        return s
    }

    private static func compareIO(
        _ a: [MetadataDocument.IOSpec], _ b: [MetadataDocument.IOSpec], side: String
    ) -> [SchemaChange] {
        let isInput = side == "inputs"
        let old = Dictionary(a.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let new = Dictionary(b.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        var out: [SchemaChange] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            switch (old[name], new[name]) {
            case (nil, let y?):
                // A new input is one every caller must now send; a new output, one they may ignore.
                out.append(
                    SchemaChange(
                        side: side, name: name, change: "added", before: nil, after: describe(y), compatible: !isInput))
            case (let x?, nil):
                out.append(
                    SchemaChange(
                        side: side, name: name, change: "removed", before: describe(x), after: nil, compatible: false))
            case (let x?, let y?):
                if x.type != y.type || x.shape != y.shape || x.dtype != y.dtype {
                    out.append(
                        SchemaChange(
                            side: side, name: name, change: "type", before: describe(x), after: describe(y),
                            compatible: false))
                } else if Set(x.categories) != Set(y.categories) {
                    let widened = Set(x.categories).isSubset(of: Set(y.categories))
                    out.append(
                        SchemaChange(
                            side: side, name: name, change: widened ? "categories added" : "categories removed",
                            before: describe(x), after: describe(y),
                            // An input that takes more is compatible; an output that gives more is not.
                            compatible: isInput ? widened : !widened))
                }
            default: break
            }
        }
        let common = a.map(\.name).filter { new[$0] != nil }
        let reordered = b.map(\.name).filter { old[$0] != nil }
        if isInput && common != reordered {
            out.append(
                SchemaChange(
                    side: side, name: "(order)", change: "reordered", before: common.joined(separator: ", "),
                    after: reordered.joined(separator: ", "), compatible: false))
        }
        return out
    }
}
