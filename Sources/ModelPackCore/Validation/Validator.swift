/// Runs every check on a model directory or a bundle and returns the diagnostics, sorted.
public enum Validator {
    public static func validate(_ path: String) throws -> DiagnosticReport {
        guard let info = try FileSystem.lstatInfo(path) else {
            throw ModelPackError.io(path: path, reason: "no such file or directory")
        }
        let source = info.kind == .directory ? try ModelSource.directory(path).source : try ModelSource.bundle(path)
        var collector = run(source).collector
        return report(for: path, source: source, collector: &collector)
    }

    /// The checks, and the metadata they read (so `build` can take name and version from it).
    static func run(_ source: ModelSource) -> (collector: DiagnosticCollector, metadata: MetadataDocument) {
        var collector = DiagnosticCollector()
        for required in ModelDirectory.requiredFiles where source.sizes[required] == nil {
            collector.add(
                Diagnostic(
                    .requiredFileMissing, "required file \(required) is missing", file: required,
                    hint: hints[required]))
        }
        var metadata = MetadataDocument()
        if let bytes = source.texts[ModelDirectory.metadataFile] {
            metadata = checkMetadata(bytes, into: &collector)
        }
        if source.texts[ModelDirectory.requirementsFile] != nil {
            var reader = RequirementsReader(readFile: { source.texts[$0] }, collector: collector)
            reader.read(ModelDirectory.requirementsFile)
            collector = reader.collector
            RequirementsCheck.check(reader.result, metadata: metadata, into: &collector)
        }
        if let bytes = source.texts[ModelDirectory.interfaceFile] {
            if let text = String(validating: bytes, as: UTF8.self) {
                InterfaceCheck.check(text, into: &collector)
            } else {
                collector.add(
                    Diagnostic(.unreadableFile, "interface.py is not UTF-8 text", file: ModelDirectory.interfaceFile))
            }
        }
        ArtifactCheck.check(source, metadata: metadata, into: &collector)
        return (collector, metadata)
    }

    static func report(for path: String, source: ModelSource, collector: inout DiagnosticCollector) -> DiagnosticReport
    {
        let sorted = collector.sorted
        var sources: [String: [String]] = [:]
        for file in Set(sorted.map(\.file)) {
            if let bytes = source.texts[file], let text = String(validating: bytes, as: UTF8.self) {
                sources[file] = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                    $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
                }
            }
        }
        return DiagnosticReport(target: path, isBundle: source.isBundle, diagnostics: sorted, sources: sources)
    }

    static let hints = [
        ModelDirectory.metadataFile: "describe the model: name, version, framework, inputs, outputs (Docs/METADATA.md)",
        ModelDirectory.requirementsFile: "list the pinned Python packages the model needs, e.g. scikit-learn==1.5.2",
        ModelDirectory.interfaceFile: "define load_model() returning an object with predict(inputs)",
    ]

    static func checkMetadata(_ bytes: [UInt8], into collector: inout DiagnosticCollector) -> MetadataDocument {
        let file = ModelDirectory.metadataFile
        guard String(validating: bytes, as: UTF8.self) != nil else {
            collector.add(Diagnostic(.unreadableFile, "metadata.yaml is not UTF-8 text", file: file))
            return MetadataDocument()
        }
        do {
            let root = try YAMLReader.parse(bytes)
            var schema = MetadataSchema(collector: collector)
            schema.check(root)
            collector = schema.collector
            return schema.document
        } catch let error as YAMLError {
            let code: DiagnosticCode
            switch error.kind {
            case .syntax: code = .yamlSyntax
            case .duplicateKey: code = .yamlDuplicateKey
            case .limit: code = .yamlLimit
            }
            collector.add(code, error.message, file: file, at: error.mark)
        } catch {
            collector.add(Diagnostic(.yamlSyntax, "\(error)", file: file))
        }
        return MetadataDocument()
    }
}
