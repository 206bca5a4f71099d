/// Whether what the model imports is installed where it runs: every module a pickle or
/// interface.py imports must come from the standard library, from a module the bundle ships, or
/// from a requirement. One rule for both (MP507), so a model that builds also loads.
enum ImportCoverage {
    /// Top-level modules and the distribution that provides them, where the names differ or are
    /// common in models.
    static let distributions: [String: String] = [
        "sklearn": "scikit-learn", "numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "torch": "torch",
        "xgboost": "xgboost", "lightgbm": "lightgbm", "joblib": "joblib", "catboost": "catboost",
        "statsmodels": "statsmodels", "transformers": "transformers", "tensorflow": "tensorflow", "keras": "keras",
        "onnxruntime": "onnxruntime", "cloudpickle": "cloudpickle", "dill": "dill", "imblearn": "imbalanced-learn",
        "category_encoders": "category-encoders", "sentence_transformers": "sentence-transformers",
        "yaml": "PyYAML", "PIL": "Pillow", "cv2": "opencv-python-headless", "dateutil": "python-dateutil",
        "safetensors": "safetensors", "onnx": "onnx", "skl2onnx": "skl2onnx", "pyarrow": "pyarrow",
        "llama_cpp": "llama-cpp-python", "huggingface_hub": "huggingface-hub",
    ]

    /// Distributions that provide a module under another name than their own, beyond the table:
    /// `onnxruntime-gpu` provides `onnxruntime`, `tensorflow-cpu` provides `tensorflow`, and so on.
    static let alternatives: [String: [String]] = [
        "onnxruntime": ["onnxruntime-gpu"], "tensorflow": ["tensorflow-cpu", "tensorflow-gpu"],
        "opencv-python-headless": ["opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"],
        "torch": ["torch-cpu"], "xgboost": ["xgboost-cpu"],
    ]

    /// Namespace packages many distributions install into (`google.cloud.storage` comes from
    /// google-cloud-storage, `google.protobuf` from protobuf): any requirement named `<top>-...`
    /// (and those listed) may provide them.
    static let namespaces: [String: [String]] = [
        "google": ["protobuf", "googleapis-common-protos", "grpcio-status"], "azure": [], "backports": [],
        "jaraco": [], "zope": [], "sphinxcontrib": [], "ruamel": [], "opentelemetry": [],
    ]

    /// The problem with importing `top`, or nil when something provides it.
    static func missing(_ top: String, requirements: Set<String>, bundleModules: Set<String>) -> String? {
        guard !top.isEmpty, !PythonStandardLibrary.contains(top), !bundleModules.contains(top) else { return nil }
        if let extra = namespaces[top] {
            let prefix = Requirement.canonicalize(top) + "-"
            if requirements.contains(where: { $0.hasPrefix(prefix) || extra.contains($0) }) { return nil }
            return prefix + "..."
        }
        let distribution = distributions[top] ?? top
        let candidates = [distribution] + (alternatives[distribution] ?? [])
        if candidates.contains(where: { requirements.contains(Requirement.canonicalize($0)) }) { return nil }
        return distribution
    }

    /// A module's imports (interface.py's, or one it imports from the model: at any depth, but not
    /// those guarded by `try:`, nor relative ones).
    static func checkInterface(
        _ source: String, file: String = ModelDirectory.interfaceFile, requirements: Set<String>,
        bundleModules: Set<String>, into collector: inout DiagnosticCollector
    ) {
        guard let lines = try? PythonTokenizer.logicalLines(source) else { return }
        var blocks: [(indent: Int, keyword: String)] = []
        var reported = Set<String>()
        for line in lines {
            while let last = blocks.last, last.indent >= line.indent { blocks.removeLast() }
            let tokens = line.tokens
            guard let first = tokens.first else { continue }
            if tokens.last?.text == ":", first.kind == .name {
                blocks.append((line.indent, first.text))
            }
            guard !blocks.contains(where: { $0.keyword == "try" }) else { continue }
            for module in importedModules(tokens) {
                let top = String(module.text.split(separator: ".").first ?? "")
                guard let distribution = missing(top, requirements: requirements, bundleModules: bundleModules),
                    reported.insert(top).inserted
                else { continue }
                collector.add(
                    Diagnostic(
                        .importWithoutRequirement,
                        "\(file) imports \(module.text), but no requirement provides '\(top)'"
                            + (distributions[top] != nil
                                ? " (\(distribution))" : " and no module of that name is in the bundle"),
                        file: file, line: module.line, column: module.column,
                        hint: "add \(distribution) to requirements.txt, pinned, or ship \(top).py in the bundle"))
            }
        }
    }

    /// The model's own files that `source` imports (absolutely: `import a.b` is a.py or
    /// a/__init__.py, then a/b.py or a/b/__init__.py), guarded by `try:` or not.
    static func shippedImports(_ source: String, among shipped: Set<String>) -> [String] {
        guard let lines = try? PythonTokenizer.logicalLines(source) else { return [] }
        var found: [String] = []
        for line in lines {
            // A dotted name deeper than any path a model may hold is none of its modules.
            for module in importedModules(line.tokens) where module.text.utf8.count <= 1024 {
                var prefix = ""
                for part in module.text.split(separator: ".").prefix(64) {
                    prefix += (prefix.isEmpty ? "" : "/") + part
                    for candidate in [prefix + ".py", prefix + "/__init__.py"] where shipped.contains(candidate) {
                        found.append(candidate)
                    }
                }
            }
        }
        return found
    }

    /// The absolute modules an `import a.b as c, d` or `from a.b import c` line names.
    static func importedModules(_ tokens: [PythonTokenizer.Token]) -> [PythonTokenizer.Token] {
        guard let first = tokens.first, first.kind == .name else { return [] }
        func dotted(from start: Int) -> (PythonTokenizer.Token, Int)? {
            guard start < tokens.count, tokens[start].kind == .name else { return nil }
            var text = tokens[start].text
            var i = start + 1
            while i + 1 < tokens.count, tokens[i].text == ".", tokens[i + 1].kind == .name {
                text += "." + tokens[i + 1].text
                i += 2
            }
            let t = tokens[start]
            return (PythonTokenizer.Token(kind: .name, text: text, line: t.line, column: t.column), i)
        }
        if first.text == "from" {
            // `from . import x` and `from .m import x` are the bundle's own code.
            guard tokens.count > 1, tokens[1].text != ".", tokens[1].text != "...",
                let (module, _) = dotted(from: 1), module.text != "__future__"
            else { return [] }
            return [module]
        }
        guard first.text == "import" else { return [] }
        var result: [PythonTokenizer.Token] = []
        var i = 1
        while let (module, next) = dotted(from: i) {
            result.append(module)
            i = next
            if i < tokens.count, tokens[i].text == "as" { i += 2 }
            guard i < tokens.count, tokens[i].text == "," else { break }
            i += 1
        }
        return result
    }
}
