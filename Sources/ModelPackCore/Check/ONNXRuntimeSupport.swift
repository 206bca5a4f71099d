/// What each onnxruntime release loads: the highest ONNX IR version and the highest opset of the
/// default domain (`ai.onnx`) and of `ai.onnx.ml` whose models `InferenceSession` accepts. A model
/// stamped above them is refused at load ("Unsupported model IR version: 15, max supported IR
/// version: 14", "Current official support for domain ai.onnx is till opset 28"), whatever its ops.
///
/// Sources: ONNX Runtime's compatibility page (onnxruntime.ai/docs/reference/compatibility.html,
/// docs/reference/compatibility.md at microsoft/onnxruntime 109c0baa), which stops at 1.20; and,
/// for every row, a measurement here (2026-12-08): each minor's latest patch from PyPI loading
/// models stamped at and one above each ceiling (Tests/ModelPackCoreTests/Fixtures/onnx/
/// ort_support.py, the probe; ONNXTruthTests checks the installed onnxruntime against its row).
/// Where they differ the measurement is kept: 1.15 loads IR 9 (the page says 8); 1.11 accepts
/// ai.onnx.ml 3 and 1.18 to 1.20 accept 5, whose new operators they cannot run (the page gives the
/// lower numbers); the acceptance is what decides whether a model loads at all.
enum ONNXRuntimeSupport {
    struct Ceiling: Equatable {
        let ir: Int
        let opset: Int
        let mlOpset: Int
    }

    /// By minor release, `major.minor`.
    static let table: [String: Ceiling] = [
        "1.10": Ceiling(ir: 8, opset: 15, mlOpset: 2),
        "1.11": Ceiling(ir: 8, opset: 16, mlOpset: 3),
        "1.12": Ceiling(ir: 8, opset: 17, mlOpset: 3),
        "1.13": Ceiling(ir: 8, opset: 17, mlOpset: 3),
        "1.14": Ceiling(ir: 8, opset: 18, mlOpset: 3),
        "1.15": Ceiling(ir: 9, opset: 19, mlOpset: 3),
        "1.16": Ceiling(ir: 9, opset: 19, mlOpset: 3),
        "1.17": Ceiling(ir: 9, opset: 20, mlOpset: 4),
        "1.18": Ceiling(ir: 10, opset: 21, mlOpset: 5),
        "1.19": Ceiling(ir: 10, opset: 21, mlOpset: 5),
        "1.20": Ceiling(ir: 10, opset: 21, mlOpset: 5),
        "1.21": Ceiling(ir: 10, opset: 22, mlOpset: 5),
        "1.22": Ceiling(ir: 10, opset: 22, mlOpset: 5),
        "1.23": Ceiling(ir: 11, opset: 23, mlOpset: 5),
        "1.24": Ceiling(ir: 13, opset: 25, mlOpset: 5),
        "1.25": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.26": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.27": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.28": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.29": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.30": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.31": Ceiling(ir: 13, opset: 26, mlOpset: 5),
        "1.32": Ceiling(ir: 14, opset: 28, mlOpset: 5),
    ]

    /// The distributions that provide `import onnxruntime`.
    static let distributions = ["onnxruntime", "onnxruntime-gpu"]

    /// The ceiling of an onnxruntime version (nil: a release the table does not know).
    static func ceiling(_ version: PEP440Version) -> Ceiling? {
        guard version.release.count >= 2 else { return nil }
        return table["\(version.release[0]).\(version.release[1])"]
    }

    /// What in `graph` the release refuses, as words ("IR version 14 (it loads up to 11)"); [] when
    /// it loads the model.
    static func refusals(_ graph: ONNXGraph, by ceiling: Ceiling) -> [String] {
        var out: [String] = []
        if let ir = graph.irVersion, ir > ceiling.ir { out.append("IR version \(ir) (it loads up to \(ceiling.ir))") }
        for (domain, limit) in [("ai.onnx", ceiling.opset), ("ai.onnx.ml", ceiling.mlOpset)] {
            if let opset = graph.opsets[domain], opset > limit {
                out.append("\(domain) opset \(opset) (up to \(limit))")
            }
        }
        return out
    }

    /// Each ONNX artifact against the pinned onnxruntime: an error when that release refuses to
    /// load it (MP517), at the artifact, naming the requirement's line.
    static func check(
        _ audits: [ArtifactAudit], byName: [String: RequirementEntry], into collector: inout DiagnosticCollector
    ) {
        guard
            let entry = distributions.lazy.compactMap({ byName[$0] }).first,
            let requirement = entry.requirement, let pinned = requirement.pinnedVersion,
            let ceiling = ceiling(pinned)
        else { return }
        for audit in audits {
            guard let graph = audit.graph else { continue }
            let refused = refusals(graph, by: ceiling)
            guard !refused.isEmpty else { continue }
            collector.add(
                Diagnostic(
                    .onnxVersionUnsupported,
                    "\(requirement.name) \(pinned) (\(entry.file):\(entry.line)) cannot load this model: "
                        + refused.joined(separator: ", "),
                    file: audit.path,
                    hint:
                        "pin an onnxruntime that loads it, or export the model for an older opset (Docs/AUDIT.md#onnx-and-the-pinned-onnxruntime)"
                ))
        }
    }
}
