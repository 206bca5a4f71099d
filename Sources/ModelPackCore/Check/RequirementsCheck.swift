/// Checks across the requirements of a model: pins, duplicates, contradictions, hashes, and the
/// framework that metadata.yaml names.
enum RequirementsCheck {
    static func check(_ file: RequirementsFile, metadata: MetadataDocument, into collector: inout DiagnosticCollector) {
        func add(
            _ code: DiagnosticCode, _ message: String, _ e: RequirementEntry, specifier: Bool = false,
            hint: String? = nil
        ) {
            collector.add(
                Diagnostic(
                    code, message, file: e.file, line: specifier ? e.specifierLine : e.line,
                    column: specifier ? e.specifierColumn : e.column, hint: hint))
        }
        var groups: [String: [RequirementEntry]] = [:]
        var order: [String] = []
        for entry in file.entries {
            guard let r = entry.requirement else {
                add(
                    .directReference,
                    "'\(entry.directReference ?? "")' is installed from a path or URL: its version is whatever that holds at build time",
                    entry,
                    hint: "pin a released version, or add --hash so a changed file is refused")
                continue
            }
            if r.url != nil {
                add(
                    .directReference,
                    "'\(r.name)' is installed from \(r.url!): its version is whatever that URL serves at build time",
                    entry,
                    hint: "pin a released version, or add --hash so a changed file is refused")
            } else if r.specifiers.isEmpty {
                add(
                    .unpinned, "'\(r.name)' is not pinned: any version may be installed", entry,
                    hint: "pin the version the model was trained with, e.g. \(r.name)==X.Y.Z")
            } else if r.pinnedVersion == nil {
                add(
                    .looselyPinned,
                    "'\(r.name)\(r.specifiers.map(\.description).joined(separator: ","))' allows more than one version",
                    entry,
                    specifier: true, hint: "pin the exact version the model was trained with (==)")
            }
            let key = r.canonicalName + ";" + (r.marker ?? "")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(entry)
        }
        for key in order {
            let entries = groups[key]!
            let specifiers = entries.flatMap { $0.requirement!.specifiers }
            if let conflict = contradiction(specifiers) {
                add(
                    .contradiction,
                    "the requirements for '\(entries[0].requirement!.name)' cannot all hold: \(conflict)",
                    entries.count > 1 ? entries[1] : entries[0], specifier: true)
            } else if entries.count > 1 {
                add(
                    .duplicateRequirement,
                    "'\(entries[1].requirement!.name)' is already required at \(entries[0].file):\(entries[0].line)",
                    entries[1],
                    hint: "keep one line per package")
            }
        }
        let hashed = file.entries.filter { !$0.hashes.isEmpty }
        if file.requireHashes || !hashed.isEmpty {
            for entry in file.entries where entry.hashes.isEmpty {
                let name = entry.requirement?.name ?? entry.directReference ?? "?"
                add(
                    .partialHashes,
                    "'\(name)' has no --hash, but "
                        + (file.requireHashes ? "--require-hashes is set" : "other requirements do")
                        + ": pip refuses to install in hash-checking mode", entry)
            }
        }
        checkFramework(file, metadata: metadata, into: &collector)
    }

    static func checkFramework(
        _ file: RequirementsFile, metadata: MetadataDocument, into collector: inout DiagnosticCollector
    ) {
        guard let framework = metadata.frameworkName,
            let distributions = MetadataSchema.frameworks[framework.value.lowercased()]
        else { return }
        let matching = file.entries.filter { e in
            e.requirement.map { distributions.contains($0.canonicalName) } ?? false
        }
        guard let entry = matching.first, let requirement = entry.requirement else {
            collector.add(
                .frameworkMissing,
                "framework '\(framework.value)' is not in requirements.txt (expected \(distributions.joined(separator: " or ")))",
                file: MetadataSchema.file, at: framework.mark,
                hint: "add \(distributions[0])==\(metadata.frameworkVersion?.value ?? "X.Y.Z") to requirements.txt")
            return
        }
        guard let declared = metadata.frameworkVersion, let version = PEP440Version(declared.value) else { return }
        if !requirement.specifiers.isEmpty && !requirement.specifiers.allSatisfy({ $0.contains(version) }) {
            collector.add(
                Diagnostic(
                    .frameworkVersion,
                    "metadata.yaml says \(framework.value) \(declared.value) (line \(declared.mark.line)), requirements.txt allows \(requirement.specifiers.map(\.description).joined(separator: ","))",
                    file: entry.file, line: entry.specifierLine, column: entry.specifierColumn,
                    hint: "a pickled model loads reliably only with the version that saved it: make the two agree"))
        }
    }

    /// Why a set of clauses for one package has no solution, or nil. Exact: two different exact
    /// pins, or an exact pin another clause excludes. Ranges: a lower bound above an upper bound.
    static func contradiction(_ specifiers: [Specifier]) -> String? {
        let pins = specifiers.filter { $0.op == .equal && !$0.isWildcard }
        for pin in pins {
            guard let v = pin.version else { continue }
            for other in specifiers where other != pin && !other.contains(v) {
                return "\(pin) is excluded by \(other)"
            }
        }
        let lowers = specifiers.filter { [.greaterEqual, .greater, .compatible].contains($0.op) }
        let uppers = specifiers.filter { [.lessEqual, .less].contains($0.op) }
        for low in lowers {
            guard let lv = low.version else { continue }
            for high in uppers {
                guard let hv = high.version else { continue }
                let inclusive = low.op != .greater && high.op == .lessEqual
                if lv > hv || (lv == hv && !inclusive) {
                    return "\(low) and \(high) leave no version"
                }
            }
        }
        return nil
    }
}
