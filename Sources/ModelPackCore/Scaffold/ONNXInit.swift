import Foundation

/// The three files for an ONNX model run by onnxruntime: each graph input becomes a metadata
/// input (one value per row when its shape is [batch] or [batch, 1], else a tensor of the shape
/// after the batch dimension), each tensor output an output, and interface.py feeds the rows to
/// one InferenceSession.
enum ONNXInit {
    /// Metadata's type, dtype and per-row shape for a graph value; nil for one that is not a tensor.
    static func field(_ value: ONNXValue) -> (type: String, dtype: String, shape: [String])? {
        guard !value.type.isEmpty, value.type != "?", !value.dims.isEmpty else { return nil }
        let row = Array(value.dims.dropFirst()).map { Int($0).map(String.init) ?? "-1" }
        let scalar = row.isEmpty || row == ["1"]
        let type: String
        switch value.type {
        case _ where !scalar: type = "tensor"
        case "float16", "float32", "float64", "bfloat16": type = "float"
        case "bool": type = "bool"
        case "string": type = "string"
        case let t where t.hasPrefix("int") || t.hasPrefix("uint"): type = "int"
        default: type = "tensor"
        }
        return (type, value.type, scalar ? (row.isEmpty ? [] : ["1"]) : row)
    }

    /// A value of the field's type for the example row: zeros, false or "".
    /// nil when the tensor has more than `maxExampleValues` values (init then writes no example).
    static func exampleValue(_ f: (type: String, dtype: String, shape: [String])) -> String? {
        let element =
            f.dtype == "bool" ? "false" : f.dtype == "string" ? "\"\"" : f.dtype.hasPrefix("float") ? "0.0" : "0"
        guard f.type == "tensor" else { return element }
        guard let count = PickleValue.count(f.shape.map { max(1, Int64($0) ?? 1) }), count <= maxExampleValues else {
            return nil
        }
        return f.shape.reversed().reduce(element) { inner, dim in
            "[" + Array(repeating: inner, count: max(1, Int(dim) ?? 1)).joined(separator: ", ") + "]"
        }
    }

    static let maxExampleValues: Int64 = 100_000

    static func files(
        _ graph: ONNXGraph, artifact: String, name: String, python: String, pins: [InitPlan.Pin],
        notes: inout [String]
    ) throws -> (metadata: String, interface: String) {
        var inputLines: [String] = [], exampleParts: [String] = [], feeds: [String] = []
        for value in graph.inputs {
            guard let f = Self.field(value) else {
                throw ModelPackError.invalidModel(
                    path: artifact, reason: "graph input '\(value.name)' is not a tensor (\(value.description))")
            }
            inputLines.append(Self.yamlField(value.name, f))
            exampleParts.append(Self.exampleValue(f).map { "\(InitPlan.quoted(value.name)): \($0)" } ?? "")
            feeds.append(
                "(\(InitPlan.quoted(value.name)), \"\(f.dtype)\", (\(f.shape.joined(separator: ", "))\(f.shape.count == 1 ? "," : "")))"
            )
        }
        var outputLines: [String] = [], outputNames: [String] = []
        for value in graph.outputs {
            guard let f = Self.field(value) else {
                notes.append(
                    "graph output '\(value.name)' is not a tensor (a sequence or a map, such as skl2onnx's ZipMap): "
                        + "interface.py leaves it out; export without it (skl2onnx: zipmap=False) to serve it")
                continue
            }
            outputLines.append(Self.yamlField(value.name, f))
            outputNames.append(InitPlan.quoted(value.name))
        }
        guard !outputNames.isEmpty else {
            throw ModelPackError.invalidModel(path: artifact, reason: "the graph has no tensor output to serve")
        }
        var example =
            "# One row of zeros, to check that the model answers: replace it with a real row.\nexample:\n"
            + "  - {\(exampleParts.joined(separator: ", "))}\n"
        if exampleParts.contains("") {
            example = ""
            notes.append(
                "an input has more than \(maxExampleValues) values: metadata.yaml has no example row; add a real one")
        }
        let metadata = """
            \(InitPlan.header(artifact, "ONNX"))
            name: \(InitPlan.quoted(InitPlan.slug(name)))
            version: 0.1.0
            \(InitPlan.framework("onnxruntime", pins.first))python: "\(python)"
            inputs:
            \(inputLines.joined(separator: "\n"))
            outputs:
            \(outputLines.joined(separator: "\n"))
            \(example)artifacts:
              - \(InitPlan.quoted(artifact))

            """
        let interface = """
            \"\"\"The calling contract of \(artifact), written by modelpack init: edit it freely.

            load_model() returns an object whose predict() takes a list of rows, each a dict keyed by
            the input names of metadata.yaml, and returns one item per row: a dict of the outputs (or
            the bare value when there is one output), converted to plain Python (JSON-safe).
            \"\"\"
            from pathlib import Path

            import numpy as np
            import onnxruntime

            HERE = Path(__file__).resolve().parent
            # (input name, element type, shape of one row): () is one value per row.
            INPUTS = [\(feeds.joined(separator: ", "))]
            OUTPUTS = [\(outputNames.joined(separator: ", "))]


            class Model:
                def __init__(self, session):
                    self._session = session

                def predict(self, rows):
                    feeds = {
                        name: np.asarray([row[name] for row in rows], dtype=dtype).reshape((len(rows), *shape))
                        for name, dtype, shape in INPUTS
                    }
                    results = self._session.run(OUTPUTS, feeds)
                    items = [{name: result[i].tolist() for name, result in zip(OUTPUTS, results)} for i in range(len(rows))]
                    return [item[OUTPUTS[0]] for item in items] if len(OUTPUTS) == 1 else items


            def load_model():
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1  # one server worker, one thread: scale with workers
                session = onnxruntime.InferenceSession(
                    str(HERE / \(InitPlan.quoted(artifact))), options, providers=["CPUExecutionProvider"]
                )
                return Model(session)

            """
        return (metadata, interface)
    }

    static func yamlField(_ name: String, _ f: (type: String, dtype: String, shape: [String])) -> String {
        InitPlan.yamlField(
            name, type: f.type, shape: f.type == "tensor" ? f.shape : nil,
            dtype: ["tensor", "float", "int"].contains(f.type) ? f.dtype : nil)
    }
}
