import Foundation

/// What the runtime needs from metadata.yaml, as JSON (the runtime then needs no YAML parser):
/// name, version, inputs, outputs and the example.
enum ServingDescription {
    static func json(fromMetadata bytes: [UInt8]) throws -> [UInt8] {
        guard let root = try YAMLReader.parse(bytes) else {
            throw ModelPackError.invalidModel(path: ModelDirectory.metadataFile, reason: "empty")
        }
        var out: [String: Any] = [:]
        for key in ["name", "version", "description", "inputs", "outputs", "example", "framework", "resources"] {
            if let node = root[key] { out[key] = node.jsonValue }
        }
        // Categories as text, the way InputFit and the runtime's check compare them.
        if let inputs = root["inputs"]?.sequenceItems {
            out["inputs"] = inputs.map { input -> Any in
                guard var entry = input.jsonValue as? [String: Any] else { return input.jsonValue }
                if let categories = input["categories"]?.sequenceItems {
                    entry["categories"] = categories.map { $0.scalar ?? "" }
                }
                return entry
            }
        }
        out["name"] = root["name"]?.scalar ?? "model"
        out["version"] = root["version"]?.scalar ?? "0"
        if out["inputs"] == nil { out["inputs"] = [Any]() }
        let data = try JSONSerialization.data(
            withJSONObject: out, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return Array(data) + [0x0a]
    }
}

extension YAMLNode {
    /// The node as a JSON-compatible value, scalars typed by the YAML core schema.
    var jsonValue: Any {
        switch value {
        case .sequence(let items): return items.map(\.jsonValue)
        case .mapping(let pairs):
            var dict: [String: Any] = [:]
            for (k, v) in pairs { dict[k.scalar ?? "?"] = v.jsonValue }
            return dict
        case .scalar:
            switch scalarKind {
            case .null?: return NSNull()
            case .bool(let b)?: return b
            case .int(let i)?: return i
            case .float(let d)?: return d.isFinite ? d : NSNull()
            case .string(let s)?: return s
            case nil: return NSNull()
            }
        }
    }
}

/// `modelpack serve`: the bundle unpacked (and verified) into a cache keyed by its digest, a
/// virtualenv with the model's requirements and the runtime's, and the runtime's files.
public enum ServeCache {
    public struct Prepared: Sendable {
        public let root: String
        public let modelDirectory: String
        public let python: String
        public let server: String
        public let servingJSON: String
        /// The batch runner `predict` execs (runtime/modelpack_predict.py).
        public var predictor: String { FileSystem.parentDirectory(of: server) + "/modelpack_predict.py" }
        /// The Spark and Ray driver `predict --engine` execs (runtime/modelpack_batch.py).
        public var batchDriver: String { FileSystem.parentDirectory(of: server) + "/modelpack_batch.py" }
    }

    /// The batch engines `predict --engine` runs on; each adds runtime/requirements-ENGINE.txt.
    public enum Engine: String, Sendable, CaseIterable {
        case spark, ray
    }

    /// Adds an engine's packages to a prepared environment (once: a marker file records it), pip
    /// resolving them together with the model's requirements so none of the model's pins moves.
    public static func addEngine(_ engine: Engine, to prepared: Prepared, log: (String) -> Void) throws {
        let venv = prepared.root + "/venv"
        let marker = venv + "/.modelpack-engine-" + engine.rawValue
        let runtime = FileSystem.parentDirectory(of: prepared.server)
        let wanted = try FileSystem.readWholeFile(runtime + "/requirements-\(engine.rawValue).txt", limit: 1 << 16)
        if let done = try? FileSystem.readWholeFile(marker, limit: 1 << 16), done == wanted { return }
        let lock = try lockEntry(prepared.root, log: log)
        defer { withExtendedLifetime(lock) {} }
        if let done = try? FileSystem.readWholeFile(marker, limit: 1 << 16), done == wanted { return }
        log("adding \(engine.rawValue) to the model's virtualenv \(venv) (once per bundle digest)")
        try run([
            prepared.python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "-r", prepared.modelDirectory + "/" + ModelDirectory.requirementsFile,
            "-r", runtime + "/requirements.txt", "-r", runtime + "/requirements-\(engine.rawValue).txt",
        ])
        try FileSystem.writeAtomically(wanted, to: marker)
    }

    /// Prepares everything `serve` runs; `log` receives progress lines (pip's output goes to stderr).
    public static func prepare(
        bundle: String, python: String = "python3", card: String? = nil, log: (String) -> Void
    ) throws -> Prepared {
        let summary = try BundleReader.inspect(bundle)
        let key = String(summary.digest.dropFirst("sha256:".count).prefix(32))
        let cache = CacheDirectory.path()
        try FileSystem.makeDirectories(cache + "/serve")
        let root = cache + "/serve/" + key
        try FileSystem.makeDirectories(root)
        // Two serves or predicts of one bundle at once share the entry: the second waits for the
        // first's unpack and pip install, then finds them done.
        let lock = try lockEntry(root, log: log)
        defer { withExtendedLifetime(lock) {} }
        let model = root + "/model"
        if !FileSystem.exists(model + "/" + Manifest.entryPath) {
            log("unpacking \(summary.manifest.name) \(summary.manifest.version) (\(summary.digest)) into \(model)")
            try Unpacker.unpack(UnpackOptions(bundle: bundle, destination: model, force: true))
        }
        let runtime = root + "/runtime"
        try FileSystem.makeDirectories(runtime)
        for file in ServingRuntime.files {
            try FileSystem.writeAtomically(Array(file.text.utf8), to: runtime + "/" + file.name)
        }
        let metadata = try FileSystem.readWholeFile(
            model + "/" + ModelDirectory.metadataFile, limit: Limits.current.yaml.maxBytes)
        try FileSystem.writeAtomically(
            try ServingDescription.json(fromMetadata: metadata), to: runtime + "/serving.json")
        if let card { try FileSystem.writeAtomically(Array(card.utf8), to: runtime + "/card.md") }
        let venv = root + "/venv"
        if !FileSystem.exists(venv + "/.modelpack-ready") {
            FileSystem.removeTree(venv)
            log("creating a virtualenv with the model's requirements in \(venv) (once per bundle digest)")
            try run([python, "-m", "venv", venv])
            try run([
                venv + "/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                "-r", model + "/" + ModelDirectory.requirementsFile, "-r", runtime + "/requirements.txt",
            ])
            try FileSystem.writeAtomically([], to: venv + "/.modelpack-ready")
        }
        return Prepared(
            root: root, modelDirectory: model, python: venv + "/bin/python", server: runtime + "/server.py",
            servingJSON: runtime + "/serving.json")
    }

    /// The cache entry's lock (`ROOT.lock`, beside it), held while the entry is prepared.
    static func lockEntry(_ root: String, log: (String) -> Void) throws -> FileLock {
        try FileLock(root + ".lock") { log("waiting for another modelpack preparing \(root)") }
    }

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.standardError
        do { try process.run() } catch {
            throw ModelPackError.io(path: arguments[0], reason: "cannot run: \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ModelPackError.io(
                path: arguments[0],
                reason: "\(arguments.prefix(4).joined(separator: " ")) failed (exit \(process.terminationStatus))")
        }
    }
}
