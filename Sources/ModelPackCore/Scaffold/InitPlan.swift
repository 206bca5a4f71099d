import Foundation

/// The three files `init` writes for one artifact, from the template of its framework: an ONNX
/// graph run by onnxruntime, a pickled scikit-learn, XGBoost or LightGBM estimator, or the weights
/// of a safetensors file or a PyTorch state dict (whose forward pass the author writes). What each
/// reads comes from the audit (the artifact is never loaded).
struct InitPlan {
    let requirements: String
    let metadata: String
    let interface: String

    /// Whether init has a template for the artifact and the audit read what it needs.
    static func reads(_ audit: ArtifactAudit) -> Bool {
        switch audit.format {
        case .onnx: return audit.graph != nil
        case .safetensors, .pytorchZip: return audit.weights?.tensors.isEmpty == false
        case .pickle, .joblib: return audit.pickle?.estimator.map(EstimatorInit.supports) ?? false
        default: return false
        }
    }

    /// The distributions requirements.txt needs, before pinning, in the order it lists them.
    static func needs(_ audit: ArtifactAudit) -> [String] {
        switch audit.format {
        case .onnx: return ["onnxruntime", "numpy"]
        case .safetensors, .pytorchZip: return WeightsInit.loader(audit.format).distributions
        default: return EstimatorInit.distributions(audit)
        }
    }

    /// What to ask the named Python for: each distribution and those that provide it under another
    /// name (`onnxruntime-gpu`, `xgboost-cpu`).
    static func distributions(_ audit: ArtifactAudit) -> [String] {
        needs(audit).flatMap { [$0] + (ImportCoverage.alternatives[$0] ?? []) }
    }

    init(_ audit: ArtifactAudit, name: String, installed: InstalledDistributions, notes: inout [String]) throws {
        let artifact = FileSystem.lastComponent(of: audit.path)
        let pins = Self.pins(
            Self.needs(audit), recorded: audit.pickle?.recordedVersions ?? [:], installed: installed,
            artifact: artifact, notes: &notes)
        requirements =
            "# Written by modelpack init for \(artifact): pinned to the version it records, else to what \(CommandFlag.python) has installed.\n"
            + pins.map(\.line).joined(separator: "\n") + "\n"
        let template: (metadata: String, interface: String)
        if let graph = audit.graph {
            template = try ONNXInit.files(
                graph, artifact: artifact, name: name, python: installed.python, pins: pins, notes: &notes)
        } else if let weights = audit.weights {
            template = WeightsInit.files(
                weights, loader: WeightsInit.loader(audit.format), artifact: artifact, name: name,
                python: installed.python, pins: pins)
        } else if let facts = audit.pickle?.estimator {
            if let why = facts.unsupported {
                throw ModelPackError.invalidModel(
                    path: audit.path,
                    reason: "\(why): init does not write category-typed inputs yet; write the files by hand")
            }
            if facts.namesIncomplete {
                throw ModelPackError.invalidModel(
                    path: audit.path,
                    reason:
                        "it was fitted on \(facts.featureCount ?? 0) named columns and init reads the names of the "
                        + "first \(PickleValue.keep): write the files by hand (its feature_names_in_ lists the columns)"
                )
            }
            template = EstimatorInit.files(
                facts, artifact: artifact, joblib: audit.format == .joblib, name: name, python: installed.python,
                pins: pins)
        } else {
            throw ModelPackError.invalidModel(path: audit.path, reason: "init has no template for it")
        }
        metadata = template.metadata
        interface = template.interface
    }

    /// A requirement as init writes it: the distribution (or the one installed that provides it
    /// under another name) and its version, nil when nothing gives one.
    struct Pin {
        let name: String
        let version: String?

        var line: String { version.map { "\(name)==\($0)" } ?? name }
    }

    /// Pins each distribution to the version the artifact records, else to the one installed in
    /// the named Python; one neither gives stays unpinned and is reported, never guessed.
    static func pins(
        _ distributions: [String], recorded: [String: [String]], installed: InstalledDistributions, artifact: String,
        notes: inout [String]
    ) -> [Pin] {
        distributions.map { wanted in
            let name =
                ([wanted] + (ImportCoverage.alternatives[wanted] ?? [])).first {
                    installed.versions[$0] != nil
                } ?? wanted
            let have = installed.versions[name]
            if let versions = recorded[wanted], let version = versions.last {
                if versions.count > 1 {
                    notes.append(
                        "\(artifact) records \(wanted) \(versions.joined(separator: " and ")): requirements.txt pins \(version)"
                    )
                } else if let have, have != version {
                    notes.append(
                        "\(artifact) was saved with \(wanted) \(version) and Python \(installed.python) has \(have): "
                            + "requirements.txt pins \(version), the version it loads with")
                }
                return Pin(name: name, version: version)
            }
            if have == nil {
                notes.append(
                    "\(wanted) is not installed in Python \(installed.python); "
                        + "requirements.txt names it unpinned: pin the version you tested with")
            }
            return Pin(name: name, version: have)
        }
    }

    /// The comment metadata.yaml starts with: what to check and what only the author can say.
    static func header(_ artifact: String, _ kind: String) -> String {
        """
        # Written by modelpack init from \(artifact) (\(kind)). Check every field, then fill in:
        # description: what the model predicts, from what (validate warns until it is given)
        # license: an SPDX identifier, e.g. Apache-2.0
        # authors: [{name: ..., email: ...}]
        """
    }

    /// `framework:` with the version of the distribution that provides it, when pinned.
    static func framework(_ name: String, _ pin: Pin?) -> String {
        "framework:\n  name: \(name)\n" + (pin?.version.map { "  version: \($0)\n" } ?? "")
    }

    /// One input or output as a flow mapping.
    static func yamlField(
        _ name: String, type: String, shape: [String]? = nil, dtype: String? = nil, categories: [String]? = nil
    ) -> String {
        var parts = ["name: \(quoted(name))", "type: \(type)"]
        if let shape { parts.append("shape: [\(shape.joined(separator: ", "))]") }
        if let dtype { parts.append("dtype: \(dtype)") }
        if let categories { parts.append("categories: [\(categories.map(quoted).joined(separator: ", "))]") }
        return "  - {\(parts.joined(separator: ", "))}"
    }

    /// The directory name as a metadata name: lower case, runs of other characters as one '-'.
    static func slug(_ name: String) -> String {
        var out = ""
        for c in name.lowercased() {
            if c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_") {
                out.append(c)
            } else if !out.hasSuffix("-") {
                out.append("-")
            }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-._"))
        return trimmed.isEmpty ? "model" : String(trimmed.prefix(64))
    }

    /// A string as JSON writes it: a valid Python string literal and a valid YAML 1.2 double-quoted
    /// scalar, so names from the artifact cannot break either file.
    static func quoted(_ s: String) -> String {
        let data = try? JSONSerialization.data(
            withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
