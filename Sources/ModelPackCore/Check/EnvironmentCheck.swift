/// Whether the environment requirements.txt describes can load the pickles: the versions the
/// pickles record against the pins, and every imported module against a requirement (or a module
/// shipped in the bundle).
enum EnvironmentCheck {
    /// Whether a numpy requirement lets some 2.x version in: an exact pin at 2 or above, or no upper
    /// bound below 2 (`<2`, `<=1.26`, `~=1.26`).
    static func allowsNumpy2(_ requirement: Requirement) -> Bool {
        guard let two = PEP440Version("2") else { return true }
        if let pinned = requirement.pinnedVersion { return pinned >= two }
        return !requirement.specifiers.contains { s in
            guard let v = s.version else { return false }
            switch s.op {
            case .less: return v <= two
            case .lessEqual: return v < two
            case .compatible: return (v.release.first ?? 0) < 2
            default: return false
            }
        }
    }

    /// What loading with another version does, per library that records its version.
    static let mismatchEffect = [
        "scikit-learn":
            "loading gives \"Trying to unpickle estimator from version {recorded} when using version {pinned}\"",
        "xgboost":
            "XGBoost warns that a model pickled by another version may not load or predict the same; it asks for Booster.save_model from the version that trained it",
    ]

    /// A version the pickle records (scikit-learn's `_sklearn_version`, XGBoost's model version)
    /// against requirements.txt: another pin is an error, no pin a warning naming the version.
    static func checkRecorded(
        _ library: String, _ version: String, audit: ArtifactAudit, byName: [String: RequirementEntry],
        into collector: inout DiagnosticCollector
    ) {
        guard let recorded = PEP440Version(version) else { return }
        // The requirement that provides the library: its own name, or one that provides it under
        // another (xgboost-cpu for xgboost), as the import and framework checks accept.
        let provider = ([library] + (ImportCoverage.alternatives[library] ?? [])).first {
            byName[Requirement.canonicalize($0)] != nil
        }
        guard let provider, let entry = byName[Requirement.canonicalize(provider)], let requirement = entry.requirement
        else {
            collector.add(
                Diagnostic(
                    .pickledVersionUnpinned, "pickled with \(library) \(version), which requirements.txt does not list",
                    file: audit.path, hint: "add \(library)==\(version) to requirements.txt"))
            return
        }
        if let pinned = requirement.pinnedVersion, pinned != recorded {
            let effect = (mismatchEffect[library] ?? "loading may fail or behave differently")
                .replacingOccurrences(of: "{recorded}", with: version)
                .replacingOccurrences(of: "{pinned}", with: pinned.description)
            collector.add(
                Diagnostic(
                    .pickledVersionMismatch,
                    "pickled with \(library) \(version), but requirements.txt pins \(pinned) (\(entry.file):\(entry.line)): \(effect)",
                    file: audit.path, hint: "pin \(library)==\(version), or re-save the model with \(pinned)"))
        } else if requirement.pinnedVersion == nil {
            let allowed = requirement.specifiers.allSatisfy { $0.contains(recorded) }
            collector.add(
                Diagnostic(
                    allowed ? .pickledVersionUnpinned : .pickledVersionMismatch,
                    "pickled with \(library) \(version); requirements.txt says \(requirement.name)\(requirement.specifiers.map(\.description).joined(separator: ","))"
                        + (allowed ? ", which allows other versions" : ", which excludes it"),
                    file: audit.path, hint: "pin \(library)==\(version)"))
        }
    }

    static func check(
        _ audits: [ArtifactAudit], requirements: RequirementsFile, bundleModules: Set<String>,
        into collector: inout DiagnosticCollector
    ) {
        var byName: [String: RequirementEntry] = [:]
        for entry in requirements.entries {
            if let r = entry.requirement, byName[r.canonicalName] == nil { byName[r.canonicalName] = entry }
        }
        ONNXRuntimeSupport.check(audits, byName: byName, into: &collector)
        for audit in audits {
            guard let scan = audit.pickle else { continue }
            for library in scan.recordedVersions.keys.sorted() {
                for version in scan.recordedVersions[library] ?? [] {
                    checkRecorded(library, version, audit: audit, byName: byName, into: &collector)
                }
            }
            // numpy 2 pickles import numpy._core, which numpy 1.x does not have.
            if let i = scan.imports.first(where: { $0.module.hasPrefix("numpy._core") }),
                let entry = byName["numpy"], let requirement = entry.requirement, !allowsNumpy2(requirement)
            {
                collector.add(
                    Diagnostic(
                        .pickledVersionMismatch,
                        "imports \(i.qualifiedName), written by numpy 2, but requirements.txt allows only numpy \(requirement.specifiers.map(\.description).joined(separator: ",")): loading fails with \"No module named 'numpy._core'\"",
                        file: audit.path, hint: "require numpy>=2, or re-save the model with numpy 1.x"))
            }
            var reported = Set<String>()
            let names = Set(byName.keys)
            for i in scan.distinctImports where i.verdict != .dangerous && i.module != "__main__" {
                let top = String(i.module.split(separator: ".").first ?? "")
                guard let distribution = ImportCoverage.missing(top, requirements: names, bundleModules: bundleModules),
                    reported.insert(top).inserted
                else { continue }
                collector.add(
                    Diagnostic(
                        .importWithoutRequirement,
                        "imports \(i.qualifiedName), but no requirement provides '\(top)'"
                            + (ImportCoverage.distributions[top] != nil
                                ? " (\(distribution))" : " and no module of that name is in the bundle"),
                        file: audit.path, hint: "add \(distribution) to requirements.txt, pinned"))
            }
        }
    }
}
