import Foundation

public struct InitOptions: Sendable {
    public var directory: String
    /// The interpreter whose installed distributions pin what the artifact does not record.
    public var python: String
    public var force: Bool

    public init(directory: String, python: String = "python3", force: Bool = false) {
        self.directory = directory
        self.python = python
        self.force = force
    }
}

/// What `init` wrote, and what the author must still decide (never guessed).
public struct InitResult: Sendable {
    public let written: [String]
    public let notes: [String]
}

extension Operations {
    /// The files `init` writes, in the order it writes them.
    static let initFiles = ["requirements.txt", "metadata.yaml", "interface.py"]

    /// Writes requirements.txt, metadata.yaml and interface.py for the model in a directory, from
    /// what its artifact declares (read by the audit, never loaded) and the distributions installed
    /// in `python`. Nothing is written when a file exists without `force`, or when no artifact can
    /// be read; each file goes through a temporary file renamed into place.
    public static func initialize(_ options: InitOptions) throws -> InitResult {
        let dir = options.directory
        guard let info = try FileSystem.lstatInfo(dir) else { throw ModelPackError.inputMissing(path: dir) }
        guard info.kind == .directory else {
            throw ModelPackError.usage("\(dir): not a directory (init writes the model's files next to its artifact)")
        }
        if !options.force {
            for name in initFiles where try FileSystem.lstatInfo(dir + "/" + name) != nil {
                throw ModelPackError.destinationExists(path: dir + "/" + name)
            }
        }
        let names = try FileSystem.listDirectory(dir).filter {
            !$0.hasPrefix(".") && !initFiles.contains($0)
        }.sorted()
        var files: [String] = []
        for name in names where try FileSystem.lstatInfo(dir + "/" + name)?.kind == .regular {
            files.append(dir + "/" + name)
        }
        let (audits, _) = try scan(files)
        let onnx = audits.filter { $0.format == .onnx && $0.graph != nil }
        guard onnx.count == 1, let artifact = onnx.first, let graph = artifact.graph else {
            let found = audits.map { "\(FileSystem.lastComponent(of: $0.path)) (\($0.format.rawValue))" }
            throw ModelPackError.invalidModel(
                path: dir,
                reason: onnx.count > 1
                    ? "init needs one ONNX model, found \(onnx.count)"
                    : "init reads ONNX models so far (pickles, LightGBM, XGBoost and weights-only formats are "
                        + "to come); found " + (found.isEmpty ? "no file" : found.joined(separator: ", ")))
        }
        if artifact.verdict != .safe || artifact.diagnostics.contains(where: { $0.severity == .error }) {
            throw ModelPackError.invalidModel(
                path: artifact.path,
                reason:
                    "the audit does not pass it (\(artifact.diagnostics.first?.message ?? "verdict \(artifact.verdict)")); run modelpack scan"
            )
        }
        let installed = try InstalledDistributions.query(
            options.python, ["onnxruntime", "onnxruntime-gpu", "numpy"])
        var notes: [String] = []
        let plan = try ONNXInit(
            graph: graph, artifact: FileSystem.lastComponent(of: artifact.path),
            name: FileSystem.lastComponent(of: URL(fileURLWithPath: dir).standardizedFileURL.path),
            installed: installed, notes: &notes)
        let texts = [plan.requirements, plan.metadata, plan.interface]
        for (name, text) in zip(initFiles, texts) {
            try FileSystem.writeAtomically(Array(text.utf8), to: dir + "/" + name)
        }
        return InitResult(written: initFiles, notes: notes)
    }
}

/// The Python `init` pins against: its version and the installed version of each distribution
/// asked for (nil when not installed), read with importlib.metadata in that interpreter.
struct InstalledDistributions {
    let python: String
    let versions: [String: String]

    static let script = """
        import importlib.metadata as m, json, sys
        found = {}
        for name in sys.argv[1:]:
            try:
                found[name] = m.version(name)
            except m.PackageNotFoundError:
                pass
        print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "versions": found}))
        """

    static func query(_ python: String, _ names: [String]) throws -> InstalledDistributions {
        guard let interpreter = python.contains("/") ? python : FileSystem.executableOnPath(python) else {
            throw ModelPackError.io(path: python, reason: "no such Python (give --python a path or a name on PATH)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = ["-I", "-c", script] + names
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ModelPackError.io(path: interpreter, reason: "cannot run: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let version = object["python"] as? String, let versions = object["versions"] as? [String: String]
        else {
            throw ModelPackError.io(
                path: interpreter, reason: "could not list its installed distributions (is it Python 3.8 or later?)")
        }
        return InstalledDistributions(python: version, versions: versions)
    }
}

/// The three files for an ONNX model run by onnxruntime: each graph input becomes a metadata
/// input (one value per row when its shape is [batch] or [batch, 1], else a tensor of the shape
/// after the batch dimension), each tensor output an output, and interface.py feeds the rows to
/// one InferenceSession.
struct ONNXInit {
    let requirements: String
    let metadata: String
    let interface: String

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
    static func exampleValue(_ f: (type: String, dtype: String, shape: [String])) -> String {
        let element =
            f.dtype == "bool" ? "false" : f.dtype == "string" ? "\"\"" : f.dtype.hasPrefix("float") ? "0.0" : "0"
        guard f.type == "tensor" else { return element }
        return f.shape.reversed().reduce(element) { inner, dim in
            "[" + Array(repeating: inner, count: max(1, Int(dim) ?? 1)).joined(separator: ", ") + "]"
        }
    }

    init(
        graph: ONNXGraph, artifact: String, name: String, installed: InstalledDistributions, notes: inout [String]
    ) throws {
        // Requirements: onnxruntime (or the GPU build, when that is what the interpreter has) and numpy.
        var pins: [String] = []
        let runtime =
            installed.versions["onnxruntime"] == nil && installed.versions["onnxruntime-gpu"] != nil
            ? "onnxruntime-gpu" : "onnxruntime"
        for distribution in [runtime, "numpy"] {
            if let version = installed.versions[distribution] {
                pins.append("\(distribution)==\(version)")
            } else {
                pins.append(distribution)
                notes.append(
                    "\(distribution) is not installed in Python \(installed.python); "
                        + "requirements.txt names it unpinned: pin the version you tested with")
            }
        }
        requirements =
            "# Written by modelpack init for \(artifact): pinned to what --python has installed.\n"
            + pins.joined(separator: "\n") + "\n"

        var inputLines: [String] = [], exampleParts: [String] = [], feeds: [String] = []
        for value in graph.inputs {
            guard let f = Self.field(value) else {
                throw ModelPackError.invalidModel(
                    path: artifact, reason: "graph input '\(value.name)' is not a tensor (\(value.description))")
            }
            inputLines.append(Self.yamlField(value.name, f))
            exampleParts.append("\(Self.quoted(value.name)): \(Self.exampleValue(f))")
            feeds.append(
                "(\(Self.quoted(value.name)), \"\(f.dtype)\", (\(f.shape.joined(separator: ", "))\(f.shape.count == 1 ? "," : "")))"
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
            outputNames.append(Self.quoted(value.name))
        }
        guard !outputNames.isEmpty else {
            throw ModelPackError.invalidModel(path: artifact, reason: "the graph has no tensor output to serve")
        }
        let version = installed.versions[runtime] ?? ""
        metadata = """
            # Written by modelpack init from \(artifact) (ONNX). Check every field, then fill in:
            # description: what the model predicts, from what (validate warns until it is given)
            # license: an SPDX identifier, e.g. Apache-2.0
            # authors: [{name: ..., email: ...}]
            name: \(Self.quoted(Self.slug(name)))
            version: 0.1.0
            framework:
              name: onnxruntime
            \(version.isEmpty ? "" : "  version: \(version)\n")python: "\(installed.python)"
            inputs:
            \(inputLines.joined(separator: "\n"))
            outputs:
            \(outputLines.joined(separator: "\n"))
            # One row of zeros, to check that the model answers: replace it with a real row.
            example:
              - {\(exampleParts.joined(separator: ", "))}
            artifacts:
              - \(Self.quoted(artifact))

            """
        interface = """
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
                    str(HERE / \(Self.quoted(artifact))), options, providers=["CPUExecutionProvider"]
                )
                return Model(session)

            """
    }

    static func yamlField(_ name: String, _ f: (type: String, dtype: String, shape: [String])) -> String {
        var parts = ["name: \(Self.quoted(name))", "type: \(f.type)"]
        if f.type == "tensor" { parts.append("shape: [\(f.shape.joined(separator: ", "))]") }
        if f.type == "tensor" || f.type == "float" || f.type == "int" { parts.append("dtype: \(f.dtype)") }
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
