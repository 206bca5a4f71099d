/// The checks on the model's own files: the required files, metadata.yaml, requirements.txt and
/// its includes, interface.py's contract and the declared artifacts. Step 1 of `ModelCheck`.
enum FileChecks {
    struct Result {
        var collector: DiagnosticCollector
        let metadata: MetadataDocument
        let requirements: RequirementsFile
        /// Canonical names of every requirement, for the import checks.
        var requirementNames: Set<String> {
            Set(requirements.entries.compactMap { $0.requirement?.canonicalName })
        }
    }

    static func run(_ source: ModelSource, context: RunContext) -> Result {
        var collector = DiagnosticCollector()
        for required in ModelDirectory.requiredFiles where source.sizes[required] == nil {
            collector.add(
                Diagnostic(
                    .requiredFileMissing, "required file \(required) is missing", file: required,
                    hint: hints[required]))
        }
        var metadata = MetadataDocument()
        if let bytes = source.texts[ModelDirectory.metadataFile] {
            metadata = checkMetadata(bytes, limits: context.limits.yaml, into: &collector)
        }
        var requirements = RequirementsReader(readFile: { source.texts[$0] }, collector: collector)
        if source.texts[ModelDirectory.requirementsFile] != nil {
            requirements.read(ModelDirectory.requirementsFile)
            collector = requirements.collector
            RequirementsCheck.check(requirements.result, metadata: metadata, into: &collector)
        }
        if let bytes = source.texts[ModelDirectory.interfaceFile] {
            if let text = String(validating: bytes, as: UTF8.self) {
                InterfaceCheck.check(text, into: &collector, python: context.python)
            } else {
                collector.add(
                    Diagnostic(.unreadableFile, "interface.py is not UTF-8 text", file: ModelDirectory.interfaceFile))
            }
        }
        ArtifactCheck.check(
            source, metadata: metadata, maxPathBytes: context.limits.unpack.maxPathBytes, into: &collector)
        return Result(collector: collector, metadata: metadata, requirements: requirements.result)
    }

    /// The sorted diagnostics, with the lines of the files they point into.
    static func report(for path: String, source: ModelSource, collector: DiagnosticCollector) -> DiagnosticReport {
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

    static func checkMetadata(_ bytes: [UInt8], limits: YAMLLimits, into collector: inout DiagnosticCollector)
        -> MetadataDocument
    {
        let file = ModelDirectory.metadataFile
        guard String(validating: bytes, as: UTF8.self) != nil else {
            collector.add(Diagnostic(.unreadableFile, "metadata.yaml is not UTF-8 text", file: file))
            return MetadataDocument()
        }
        do {
            let root = try YAMLReader.parse(bytes, limits: limits)
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
