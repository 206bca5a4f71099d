/// What the other checks need from a validated metadata.yaml.
struct MetadataDocument: Sendable {
    struct Field<T: Sendable>: Sendable {
        let value: T
        let mark: SourceMark
    }

    struct IOSpec: Sendable {
        let name: String
        let type: String
        let categories: [String]
        let shape: [Int?]?
        var dtype: String? = nil
        let mark: SourceMark
    }

    var name: Field<String>?
    var version: Field<String>?
    var frameworkName: Field<String>?
    var frameworkVersion: Field<String>?
    var python: Field<String>?
    var inputs: [IOSpec] = []
    var outputs: [IOSpec] = []
    var artifacts: [Field<String>] = []
    /// Modules the publisher reviewed and trusts (`trusted_modules`): pickles may import them.
    var trustedModules: [String] = []
}

/// The metadata.yaml schema, version 1 (Docs/METADATA.md, Docs/metadata.schema.json). Every
/// problem is a diagnostic at the line and column of the node concerned.
struct MetadataSchema {
    static let file = ModelDirectory.metadataFile
    static let version = 1
    static let topLevelKeys = [
        "schemaVersion", "name", "version", "description", "authors", "license", "framework", "task", "python",
        "inputs", "outputs", "example", "example_outputs", "artifacts", "hyperparameters", "metrics", "resources",
        "tags",
        "trusted_modules", "card",
    ]
    /// The model card's sections (`modelpack card`), each free text.
    static let cardKeys = [
        "intended_use", "out_of_scope_use", "factors", "evaluation_data", "training_data", "ethical_considerations",
        "caveats",
    ]
    static let ioTypes = ["float", "int", "bool", "string", "categorical", "tensor"]
    static let ioKeys = ["name", "type", "shape", "dtype", "categories", "description"]
    static let tasks = [
        "classification", "regression", "clustering", "ranking", "forecasting", "anomaly-detection",
        "text-classification", "text-generation", "token-classification", "translation", "summarization",
        "question-answering", "fill-mask", "feature-extraction", "embedding", "image-classification",
        "object-detection", "image-segmentation", "image-generation", "speech-recognition", "text-to-speech",
        "recommendation", "reinforcement-learning", "other",
    ]
    /// Framework names as metadata writes them -> the PyPI distributions that provide them.
    static let frameworks: [String: [String]] = [
        "scikit-learn": ["scikit-learn"], "sklearn": ["scikit-learn"], "pytorch": ["torch"], "torch": ["torch"],
        "tensorflow": ["tensorflow", "tensorflow-cpu", "tensorflow-gpu"], "keras": ["keras", "tensorflow"],
        "xgboost": ["xgboost", "xgboost-cpu"], "lightgbm": ["lightgbm"], "catboost": ["catboost"],
        "safetensors": ["safetensors"], "numpy": ["numpy"], "onnx": ["onnxruntime", "onnxruntime-gpu"],
        "onnxruntime": ["onnxruntime", "onnxruntime-gpu"],
        "transformers": ["transformers"], "jax": ["jax"], "statsmodels": ["statsmodels"], "prophet": ["prophet"],
        "spacy": ["spacy"], "gguf": ["llama-cpp-python"], "llama.cpp": ["llama-cpp-python"],
    ]

    var collector: DiagnosticCollector
    var document = MetadataDocument()

    mutating func report(_ code: DiagnosticCode, _ message: String, at node: YAMLNode?, hint: String? = nil) {
        collector.add(code, message, file: Self.file, at: node?.mark, hint: hint)
    }

    mutating func check(_ root: YAMLNode?) {
        guard let root, let pairs = root.mappingPairs else {
            report(
                .wrongType, "metadata.yaml must be a mapping of keys to values", at: root,
                hint: "start with 'name: my-model' and 'version: 1.0.0'")
            return
        }
        checkKeys(pairs, allowed: Self.topLevelKeys, where: "metadata")
        if let node = root["schemaVersion"] {
            if case .int(let v)? = node.scalarKind, v == Self.version {
            } else {
                report(
                    .invalidValue,
                    "schemaVersion \(node.scalar ?? "?") is not supported (this modelpack knows \(Self.version))",
                    at: node)
            }
        }
        for key in ["name", "version", "framework", "inputs", "outputs"] where root[key] == nil {
            report(.missingField, "missing required field '\(key)'", at: root, hint: Self.requiredHint[key])
        }
        for key in ["description", "license", "authors"] where root[key] == nil {
            report(.recommendedField, "no '\(key)': a customer will ask for it", at: nil)
        }
        if let node = root["name"], let name = string(node, "name") {
            document.name = .init(value: name, mark: node.mark)
            if !Self.isSlug(name) {
                report(
                    .invalidName, "name '\(name)' is not a slug", at: node,
                    hint:
                        "use lower-case letters, digits and '-', '_' or '.', starting and ending with a letter or digit (at most 64)"
                )
            }
        }
        if let node = root["version"], let text = versionString(node, "version") {
            document.version = .init(value: text, mark: node.mark)
        }
        if let node = root["description"] { _ = string(node, "description") }
        if let node = root["license"] { _ = string(node, "license") }
        if let node = root["authors"] { checkAuthors(node) }
        if let node = root["framework"] { checkFramework(node) }
        if let node = root["task"], let task = string(node, "task"), !Self.tasks.contains(task) {
            let near = NearMiss.suggestion(for: task, among: Self.tasks)
            report(
                .unknownFramework, "unknown task '\(task)'" + (near.map { "; did you mean '\($0)'?" } ?? ""), at: node,
                hint: "known tasks: " + Self.tasks.joined(separator: ", "))
        }
        if let node = root["python"] { checkPython(node) }
        if let node = root["inputs"] { document.inputs = checkIO(node, "inputs") }
        if let node = root["outputs"] { document.outputs = checkIO(node, "outputs") }
        if let node = root["example"] { checkExample(node) }
        if let node = root["example_outputs"] { checkExampleOutputs(node, rows: root["example"]?.sequenceItems) }
        if let node = root["artifacts"] { checkArtifacts(node) }
        if let node = root["trusted_modules"] { checkTrustedModules(node) }
        for key in ["hyperparameters", "metrics"] {
            if let node = root[key], node.mappingPairs == nil, !node.isNull {
                report(.wrongType, "'\(key)' must be a mapping, found \(node.kindName)", at: node)
            }
        }
        if let node = root["resources"] { checkResources(node) }
        if let node = root["card"] {
            if let pairs = node.mappingPairs {
                checkKeys(pairs, allowed: Self.cardKeys, where: "card")
                for (key, value) in pairs where Self.cardKeys.contains(key.scalar ?? "") {
                    _ = string(value, "card." + (key.scalar ?? ""))
                }
            } else if !node.isNull {
                report(
                    .wrongType, "'card' must be a mapping of card sections to text, found \(node.kindName)", at: node)
            }
        }
        if let node = root["tags"] {
            if let items = node.sequenceItems {
                for item in items { _ = string(item, "each tag") }
            } else {
                report(.wrongType, "'tags' must be a list of strings, found \(node.kindName)", at: node)
            }
        }
    }

    static let requiredHint: [String: String] = [
        "name": "add 'name: my-model' (a slug)",
        "version": "add 'version: 1.0.0' (PEP 440)",
        "framework": "add 'framework: {name: scikit-learn, version: 1.5.2}'",
        "inputs": "list the inputs predict() takes: '- {name: x, type: float}'",
        "outputs": "list what predict() returns: '- {name: y, type: categorical, categories: [a, b]}'",
    ]

    static func isSlug(_ s: String) -> Bool {
        let chars = Array(s)
        guard (1...64).contains(chars.count) else { return false }
        func ok(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
        return ok(chars.first!) && ok(chars.last!) && chars.allSatisfy { ok($0) || "-_.".contains($0) }
    }

    private mutating func checkKeys(
        _ pairs: [(key: YAMLNode, value: YAMLNode)], allowed: [String], where context: String
    ) {
        for (key, _) in pairs {
            guard let name = key.scalar else {
                report(.wrongType, "\(context) keys must be strings", at: key)
                continue
            }
            if !allowed.contains(name) {
                let near = NearMiss.suggestion(for: name, among: allowed)
                report(
                    .unknownKey, "unknown key '\(name)' in \(context)" + (near.map { "; did you mean '\($0)'?" } ?? ""),
                    at: key, hint: near == nil ? "known keys: " + allowed.joined(separator: ", ") : nil)
            }
        }
    }

    private mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        if let s = node.stringValue, !s.isEmpty { return s }
        report(.wrongType, "'\(what)' must be a non-empty string, found \(node.kindName)", at: node)
        return nil
    }

    /// A version may be written unquoted (`1.2` reads as a number): take the text as written.
    private mutating func versionString(_ node: YAMLNode, _ what: String) -> String? {
        guard case .scalar(let text, _) = node.value, !node.isNull, !text.isEmpty else {
            report(.wrongType, "'\(what)' must be a version string, found \(node.kindName)", at: node)
            return nil
        }
        if PEP440Version(text) == nil {
            report(
                .invalidVersion, "'\(text)' is not a valid PEP 440 version", at: node,
                hint: "for example 1.0.0, 2.1rc1, 0.3.post1")
            return nil
        }
        return text
    }

    private mutating func checkAuthors(_ node: YAMLNode) {
        guard let items = node.sequenceItems else {
            report(.wrongType, "'authors' must be a list, found \(node.kindName)", at: node)
            return
        }
        for item in items {
            if let pairs = item.mappingPairs {
                checkKeys(pairs, allowed: ["name", "email", "url"], where: "an author")
                if let name = item["name"] {
                    _ = string(name, "author name")
                } else {
                    report(.missingField, "an author needs a 'name'", at: item)
                }
            } else {
                _ = string(item, "each author")
            }
        }
    }

    private mutating func checkFramework(_ node: YAMLNode) {
        guard let pairs = node.mappingPairs else {
            report(
                .wrongType, "'framework' must be a mapping with 'name' and 'version', found \(node.kindName)", at: node,
                hint: "framework: {name: scikit-learn, version: 1.5.2}")
            return
        }
        checkKeys(pairs, allowed: ["name", "version"], where: "framework")
        guard let nameNode = node["name"] else {
            report(.missingField, "missing required field 'framework.name'", at: node)
            return
        }
        if let name = string(nameNode, "framework.name") {
            document.frameworkName = .init(value: name, mark: nameNode.mark)
            if Self.frameworks[name.lowercased()] == nil {
                let near = NearMiss.suggestion(for: name, among: Array(Self.frameworks.keys).sorted())
                report(
                    .unknownFramework, "unknown framework '\(name)'" + (near.map { "; did you mean '\($0)'?" } ?? ""),
                    at: nameNode, hint: "modelpack cannot check its requirement pin")
            }
        }
        if let versionNode = node["version"], let text = versionString(versionNode, "framework.version") {
            document.frameworkVersion = .init(value: text, mark: versionNode.mark)
        }
    }

    private mutating func checkPython(_ node: YAMLNode) {
        guard case .scalar(let text, let quoted) = node.value, !node.isNull else {
            report(.wrongType, "'python' must be a version string such as \"3.11\", found \(node.kindName)", at: node)
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "3", let minor = Int(parts[1]), parts[1].allSatisfy(\.isNumber) else {
            report(
                .invalidValue, "python '\(text)' is not a Python 3 major.minor version", at: node,
                hint: "for example \"3.11\"")
            return
        }
        if !quoted {
            report(
                .wrongType, "python \(text) is unquoted, so YAML reads it as a number (3.10 would become 3.1)",
                at: node,
                hint: "quote it: python: \"\(text)\"")
            return
        }
        document.python = .init(value: "3.\(minor)", mark: node.mark)
    }

    private mutating func checkIO(_ node: YAMLNode, _ section: String) -> [MetadataDocument.IOSpec] {
        guard let items = node.sequenceItems else {
            report(.wrongType, "'\(section)' must be a list of {name, type}, found \(node.kindName)", at: node)
            return []
        }
        if items.isEmpty { report(.invalidSignature, "'\(section)' is empty", at: node) }
        var specs: [MetadataDocument.IOSpec] = []
        var seen: [String: SourceMark] = [:]
        for item in items {
            guard let pairs = item.mappingPairs else {
                report(
                    .wrongType,
                    "each entry of '\(section)' must be a mapping with 'name' and 'type', found \(item.kindName)",
                    at: item)
                continue
            }
            checkKeys(pairs, allowed: Self.ioKeys, where: "an entry of '\(section)'")
            var name = "?"
            if let nameNode = item["name"] {
                if let n = string(nameNode, "\(section) name") {
                    name = n
                    if let first = seen[n] {
                        report(.invalidSignature, "duplicate \(section) name '\(n)' (first at \(first))", at: nameNode)
                    }
                    seen[n] = nameNode.mark
                }
            } else {
                report(.missingField, "an entry of '\(section)' needs a 'name'", at: item)
            }
            guard let typeNode = item["type"] else {
                report(
                    .missingField,
                    "'\(name)' in '\(section)' needs a 'type' (one of \(Self.ioTypes.joined(separator: ", ")))",
                    at: item)
                continue
            }
            guard let type = string(typeNode, "type"), Self.ioTypes.contains(type) else {
                if let t = typeNode.stringValue {
                    let near = NearMiss.suggestion(for: t, among: Self.ioTypes)
                    report(
                        .invalidValue,
                        "unknown type '\(t)' for '\(name)'" + (near.map { "; did you mean '\($0)'?" } ?? ""),
                        at: typeNode, hint: "one of " + Self.ioTypes.joined(separator: ", "))
                }
                // Keep the name so the example is not blamed for it; its values go unchecked.
                specs.append(.init(name: name, type: "unknown", categories: [], shape: nil, mark: item.mark))
                continue
            }
            var categories: [String] = []
            if let cats = item["categories"] {
                if type != "categorical" {
                    report(
                        .invalidSignature, "'categories' is only for type categorical ('\(name)' is \(type))", at: cats)
                } else if let list = cats.sequenceItems, !list.isEmpty {
                    var seenCats = Set<String>()
                    for c in list {
                        guard case .scalar(let text, _) = c.value else {
                            report(.wrongType, "each category must be a scalar", at: c)
                            continue
                        }
                        if !seenCats.insert(text).inserted {
                            report(.invalidSignature, "duplicate category '\(text)'", at: c)
                        }
                        categories.append(text)
                    }
                } else {
                    report(.invalidSignature, "'categories' of '\(name)' must be a non-empty list", at: cats)
                }
            } else if type == "categorical" {
                report(
                    .invalidSignature, "categorical '\(name)' needs 'categories'", at: typeNode,
                    hint: "categories: [a, b, c]")
            }
            var shape: [Int?]?
            if let shapeNode = item["shape"] {
                if type != "tensor" {
                    report(.invalidSignature, "'shape' is only for type tensor ('\(name)' is \(type))", at: shapeNode)
                } else if let dims = shapeNode.sequenceItems, !dims.isEmpty {
                    shape = []
                    for d in dims {
                        switch d.scalarKind {
                        case .int(let n)? where n > 0: shape?.append(n)
                        case .int(-1)?, .null?: shape?.append(nil)
                        default:
                            report(
                                .invalidSignature,
                                "a shape dimension must be a positive integer, or -1/null for any size", at: d)
                        }
                    }
                } else {
                    report(
                        .invalidSignature, "'shape' of '\(name)' must be a non-empty list of dimensions", at: shapeNode)
                }
            } else if type == "tensor" {
                report(
                    .invalidSignature, "tensor '\(name)' needs a 'shape'", at: typeNode,
                    hint: "shape: [-1, 3, 224, 224]")
            }
            var dtype: String?
            if let dtypeNode = item["dtype"] {
                let allowed = InputFit.dtypes(for: type)
                if allowed.isEmpty {
                    report(
                        .invalidSignature,
                        "'dtype' is only for types float, int and tensor ('\(name)' is \(type))", at: dtypeNode)
                } else if let d = string(dtypeNode, "dtype") {
                    if allowed.contains(d) {
                        dtype = d
                    } else {
                        let near = NearMiss.suggestion(for: d, among: allowed)
                        let what =
                            InputFit.dtypes.contains(d)
                            ? "dtype '\(d)' is not for \(type) input '\(name)'"
                            : "unknown dtype '\(d)' for '\(name)'"
                        report(
                            .invalidValue, what + (near.map { "; did you mean '\($0)'?" } ?? ""),
                            at: dtypeNode, hint: "one of " + allowed.joined(separator: ", "))
                    }
                }
            }
            if let d = item["description"] { _ = string(d, "description") }
            specs.append(
                .init(name: name, type: type, categories: categories, shape: shape, dtype: dtype, mark: item.mark))
        }
        return specs
    }

    private mutating func checkArtifacts(_ node: YAMLNode) {
        guard let items = node.sequenceItems else {
            report(.wrongType, "'artifacts' must be a list of paths, found \(node.kindName)", at: node)
            return
        }
        for item in items {
            if let path = string(item, "each artifact") {
                document.artifacts.append(.init(value: path, mark: item.mark))
            }
        }
    }

    /// `trusted_modules: [features, acme.transforms]`: dotted Python module names.
    private mutating func checkTrustedModules(_ node: YAMLNode) {
        guard let items = node.sequenceItems else {
            report(.wrongType, "'trusted_modules' must be a list of module names, found \(node.kindName)", at: node)
            return
        }
        for item in items {
            guard let name = string(item, "each trusted module") else { continue }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            let identifier = parts.allSatisfy { part in
                guard let first = part.first, first == "_" || first.isLetter else { return false }
                return part.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber } && !part.hasPrefix("__")
            }
            if !identifier || parts.first == "builtins" || PythonStandardLibrary.contains(String(parts[0])) {
                report(
                    .invalidValue,
                    "trusted module '\(name)' is not a module of the model's own (a dotted Python name outside the standard library)",
                    at: item, hint: "name the package or module you reviewed, e.g. features or acme.transforms")
            } else {
                document.trustedModules.append(name)
            }
        }
    }

    private mutating func checkResources(_ node: YAMLNode) {
        guard let pairs = node.mappingPairs else {
            report(
                .wrongType, "'resources' must be a mapping (cpu, memory, gpu, batch_size), found \(node.kindName)",
                at: node)
            return
        }
        checkKeys(pairs, allowed: ["cpu", "memory", "gpu", "batch_size"], where: "resources")
        if let cpu = node["cpu"] {
            switch cpu.scalarKind {
            case .int(let n)? where n > 0: break
            case .float(let d)? where d > 0: break
            default:
                if let text = cpu.stringValue, text.hasSuffix("m"), let milli = Int(text.dropLast()), milli > 0 {
                    break
                }
                report(
                    .invalidValue, "resources.cpu must be a positive number of cores (or millicores like 500m)", at: cpu
                )
            }
        }
        if let memory = node["memory"] {
            let ok: Bool
            switch memory.scalarKind {
            case .int(let n)?: ok = n > 0
            case .string(let s)?: ok = Self.isQuantity(s)
            default: ok = false
            }
            if !ok {
                report(.invalidValue, "resources.memory must be bytes or a quantity like 512Mi or 2Gi", at: memory)
            }
        }
        if let gpu = node["gpu"] {
            if case .int(let n)? = gpu.scalarKind, n >= 0 {
            } else {
                report(.invalidValue, "resources.gpu must be a whole number of GPUs (0 or more)", at: gpu)
            }
        }
        if let batch = node["batch_size"] {
            if case .int(let n)? = batch.scalarKind, (1...1_000_000).contains(n) {
            } else {
                report(.invalidValue, "resources.batch_size must be a whole number of rows, 1 to 1000000", at: batch)
            }
        }
    }

    static func isQuantity(_ s: String) -> Bool {
        for suffix in ["Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T", "k"] where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count)
            return Double(number).map { $0 > 0 } ?? false
        }
        return false
    }
}
