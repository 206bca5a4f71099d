import Foundation

/// `modelpack serve` and `predict`: the bundle unpacked (and verified) into the cache under its
/// digest (`serve/<digest>`, with the runtime's files), and a virtualenv keyed by what it holds
/// (`envs/<key>`: the Python, the model's requirements, the runtime's), so bundles that differ only
/// in code or artifacts share one environment. Each entry is a `CacheSlot`: made under its lock,
/// and marked in use until the process (or the server it execs) exits, so `cache prune` passes it by.
package enum ServeCache {
    package struct Prepared: Sendable {
        /// `serve/<digest>`: the unpacked model and the runtime's files.
        package let root: String
        /// `envs/<key>`: the virtualenv (`venv/`) and what is packed from it for Spark.
        package let environment: String
        package let modelDirectory: String
        package let python: String
        package let server: String
        package let servingJSON: String
        /// The two entries' use locks, open across exec.
        let inUse: [FileLock]
        /// The batch runner `predict` execs (runtime/modelpack_predict.py).
        package var predictor: String { FileSystem.parentDirectory(of: server) + "/modelpack_predict.py" }
        /// The smoke test `modelpack test` execs (runtime/modelpack_smoke.py).
        package var smokeTest: String { FileSystem.parentDirectory(of: server) + "/modelpack_smoke.py" }
        /// What the server reads from its environment to serve this on HOST:PORT (nil: unset; an
        /// AIP_HTTP_PORT would win over the port, Vertex AI's image convention).
        package func serverEnvironment(host: String, port: Int) -> [(String, String?)] {
            [
                ("MODELPACK_MODEL_DIR", modelDirectory), ("MODELPACK_SERVING_JSON", servingJSON),
                ("MODELPACK_HOST", host), ("MODELPACK_PORT", String(port)), ("AIP_HTTP_PORT", nil),
            ] + runtimeEnvironment
        }

        /// What every runtime program gets: no bytecode written anywhere (`-B` says it too). The
        /// runtime itself imports the model's code from its source only (modelpack_inputs.py,
        /// `sources_only`): a global PYTHONPYCACHEPREFIX would do that too, but would make every
        /// library compile from source at each start (pandas, numpy and fastapi: 1.2 s -> 3.9 s).
        package var runtimeEnvironment: [(String, String?)] {
            [("PYTHONDONTWRITEBYTECODE", "1"), ("PYTHONPYCACHEPREFIX", nil)]
        }

        /// The interpreter's arguments to run `script` (a runtime file): `-B` writes no bytecode.
        package func pythonArguments(_ script: String) -> [String] { ["-B", script] }
        /// The Spark and Ray driver `predict --engine` execs (runtime/modelpack_batch.py).
        package var batchDriver: String { FileSystem.parentDirectory(of: server) + "/modelpack_batch.py" }
    }

    /// The batch engines `predict --engine` runs on; each adds runtime/requirements-ENGINE.txt.
    package enum Engine: String, Sendable, CaseIterable {
        case spark, ray

        /// The engine's requirement in its requirements file, whose pin `--engine-version` replaces.
        package var package: String { self == .spark ? "pyspark" : "ray[data]" }

        /// A version `--engine-version` takes: a PEP 440 release, optionally a pre-, post- or dev
        /// release (`3.5.3`, `2.49.0rc1`), nothing pip would read as more than one version.
        package static func isVersion(_ text: String) -> Bool {
            text.wholeMatch(of: /[0-9]+(\.[0-9]+){0,3}((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?/) != nil
        }
    }

    /// The requirements an engine adds: the runtime's file, with the engine's own pin replaced by
    /// `version` when one is given (the cluster's Spark or Ray).
    static func engineRequirements(_ engine: Engine, version: String?, runtime: String) throws -> [UInt8] {
        let file = try FileSystem.readWholeFile(runtime + "/requirements-\(engine.rawValue).txt", limit: 1 << 16)
        guard let version else { return file }
        let lines = String(decoding: file, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let pinned = lines.map { line in
            line.hasPrefix(engine.package + "==") ? "\(engine.package)==\(version)" : String(line)
        }
        return Array(pinned.joined(separator: "\n").utf8)
    }

    /// Adds an engine's packages to a prepared environment (once per engine version: a marker file
    /// records what was installed), pip resolving them together with the model's requirements so
    /// none of the model's pins moves. Another `version` than the installed one reinstalls it.
    package static func addEngine(
        _ engine: Engine, version: String? = nil, to prepared: Prepared, log: (String) -> Void
    ) throws {
        let venv = prepared.environment + "/venv"
        let marker = venv + "/.modelpack-engine-" + engine.rawValue
        let runtime = FileSystem.parentDirectory(of: prepared.server)
        let wanted = try engineRequirements(engine, version: version, runtime: runtime)
        let change = try CacheSlot(path: prepared.environment).lockForChange(log: log)
        defer { withExtendedLifetime(change) {} }
        if let done = try? FileSystem.readWholeFile(marker, limit: 1 << 16), done == wanted { return }
        let requirements = prepared.environment + "/requirements-\(engine.rawValue).txt"
        try FileSystem.writeAtomically(wanted, to: requirements)
        let shown =
            String(decoding: wanted, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(engine.package + "==") }.map(String.init) ?? engine.package
        log("adding \(engine.rawValue) (\(shown)) to the model's virtualenv \(venv) (once per environment and version)")
        do {
            try pipInstall(
                prepared.python,
                [
                    "-r", prepared.modelDirectory + "/" + ModelDirectory.requirementsFile,
                    "-r", runtime + "/requirements.txt", "-r", requirements,
                ])
        } catch let failure as PipFailure {
            // The engine's own version, when the user named it, is the flag's problem (usage);
            // anything else (the model's requirements against the engine's) is the model's.
            if let version, failure.name == Requirement.canonicalize(String(engine.package.prefix { $0 != "[" })) {
                throw ModelPackError.usage(
                    "\(CommandFlag.engineVersion) \(version): \(failure.requirement): \(failure.why)")
            }
            throw ModelPackError.invalidModel(
                path: engine.rawValue,
                reason: "\(failure.requirement): \(failure.why) (adding it to the model's environment)")
        }
        try FileSystem.writeAtomically(wanted, to: marker)
        try CacheStore.recordSize(of: venv)
    }

    /// Prepares everything `serve` runs; `log` receives progress lines (pip's output goes to stderr).
    /// When this added to the cache, the cache is then held to `CacheStore.cap()`.
    package static func prepare(
        bundle: String, named: String? = nil, python: String = "python3", card: String? = nil, context: RunContext
    ) throws -> Prepared {
        let log = context.log
        let summary = try BundleReader.inspect(bundle, limits: context.limits.unpack)
        let cache = CacheDirectory.path()
        let entry = CacheSlot(path: cache + "/serve/" + summary.digest.dropFirst("sha256:".count).prefix(32))
        var added = false
        let model = entry.path + "/model"
        let runtime = entry.path + "/runtime"
        let bundleInUse: FileLock
        do {
            // Two serves or predicts of one bundle at once: the second waits for the first's
            // unpack (and below, its pip install), then finds them done. The folder is made under
            // the lock: a prune may have removed it while this waited.
            try FileSystem.makeDirectories(cache + "/serve")
            let change = try entry.lockForChange(log: log)
            defer { withExtendedLifetime(change) {} }
            try FileSystem.makeDirectories(entry.path)
            if !FileSystem.exists(model + "/" + Manifest.entryPath) {
                log("unpacking \(summary.manifest.name) \(summary.manifest.version) (\(summary.digest)) into \(model)")
                try Unpacker.unpack(bundle, to: model, force: true, context: context)
                added = true
            }
            try FileSystem.writeAtomically(
                Array("\(summary.manifest.name) \(summary.manifest.version) \(summary.digest)\n".utf8),
                to: entry.path + "/about.txt")
            try FileSystem.makeDirectories(runtime)
            for file in ServingRuntime.files {
                try FileSystem.writeAtomically(Array(file.text.utf8), to: runtime + "/" + file.name)
            }
            let metadata = try FileSystem.readWholeFile(
                model + "/" + ModelDirectory.metadataFile, limit: context.limits.yaml.maxBytes)
            try FileSystem.writeAtomically(
                try ServingDescription.json(fromMetadata: metadata, limits: context.limits),
                to: runtime + "/serving.json")
            if let card { try FileSystem.writeAtomically(Array(card.utf8), to: runtime + "/card.md") }
            bundleInUse = try entry.markInUse()
        }
        let key = try EnvironmentKey.of(
            python: python, model: model, runtimeRequirements: runtime + "/requirements.txt", bundle: summary.digest)
        let environment = CacheSlot(path: cache + "/envs/" + key)
        let venv = environment.path + "/venv"
        let environmentInUse: FileLock
        do {
            try FileSystem.makeDirectories(cache + "/envs")
            let change = try environment.lockForChange(log: log)
            defer { withExtendedLifetime(change) {} }
            try FileSystem.makeDirectories(environment.path)
            if !FileSystem.exists(venv + "/.modelpack-ready") {
                FileSystem.removeTree(venv)
                log(
                    "creating a virtualenv with the model's requirements in \(venv) "
                        + "(once per Python, requirements and runtime)")
                try run([python, "-m", "venv", venv])
                do {
                    try pipInstall(
                        venv + "/bin/python",
                        ["-r", model + "/" + ModelDirectory.requirementsFile, "-r", runtime + "/requirements.txt"])
                } catch let failure as PipFailure {
                    // No half-made environment is left in the cache; the model's line is named.
                    FileSystem.removeTree(venv)
                    throw failure.error(model: named ?? bundle, requirements: RequirementsFile.read(in: model))
                } catch {
                    FileSystem.removeTree(venv)
                    throw error
                }
                try FileSystem.writeAtomically(
                    Array(EnvironmentKey.about(venv: venv, madeFor: summary.manifest).utf8),
                    to: environment.path + "/about.txt")
                try CacheStore.recordSize(of: venv)
                try FileSystem.writeAtomically([], to: venv + "/.modelpack-ready")
                added = true
            }
            environmentInUse = try environment.markInUse()
        }
        if added { CacheStore.trim(root: cache, log: log) }
        return Prepared(
            root: entry.path, environment: environment.path, modelDirectory: model, python: venv + "/bin/python",
            server: runtime + "/server.py", servingJSON: runtime + "/serving.json",
            inUse: [bundleInUse, environmentInUse])
    }

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessZone.childEnvironment()
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

    /// `python -m pip install ARGUMENTS`, its output passed on to stderr as it comes and its last
    /// 256 KiB kept: a failure pip explains is a `PipFailure`; an index it cannot reach, or
    /// another failure, is the system's (exit 3), naming pip, not the virtualenv.
    static func pipInstall(_ python: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"] + arguments
        process.environment = ProcessZone.childEnvironment()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            throw ModelPackError.io(path: python, reason: "cannot run pip: \(error)")
        }
        var kept: [UInt8] = []
        let reader = pipe.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            FileHandle.standardError.write(chunk)
            kept.append(contentsOf: chunk)
            if kept.count > 512 << 10 { kept.removeFirst(kept.count - (256 << 10)) }
        }
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return }
        let output = String(decoding: kept, as: UTF8.self)
        if PipFailure.unreachable(output) {
            throw ModelPackError.io(path: "pip", reason: "could not reach the package index (pip's message above)")
        }
        if let failure = PipFailure.read(output) { throw failure }
        throw ModelPackError.io(
            path: "pip", reason: "pip install failed (exit \(process.terminationStatus); its message is above)")
    }
}

/// What a virtualenv holds, as the name of its cache entry: the interpreter (its resolved path,
/// size and modification time, so an upgraded Python gets a new one), every requirements file of
/// the model (requirements.txt and what it includes, by path and normalised content: comments,
/// blank lines, spacing, order and the spelling of names do not count, so bundles asking for the
/// same set share one environment) and the runtime's requirements. A requirement installed from the bundle itself (a path, `-e`, `--find-links`)
/// makes the environment the bundle's own: the bundle's digest joins the key.
enum EnvironmentKey {
    static let version = "modelpack-env 2"

    /// A requirements file as pip reads it, in one spelling: its logical lines without comments
    /// or spaces, a requirement's name in PEP 503 form, sorted (pip resolves a set; an option
    /// line applies to the whole file wherever it stands).
    static func normalized(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = RequirementsReader.logicalLines(text).compactMap { logical -> String? in
            let line = String(RequirementsReader.stripComment(logical.chars)).filter { !$0.isWhitespace }
            guard !line.isEmpty else { return nil }
            if line.hasPrefix("-") { return line }
            let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
            return Requirement.canonicalize(String(name)) + line.dropFirst(name.count)
        }
        return lines.sorted().joined(separator: "\n")
    }

    static func of(python: String, model: String, runtimeRequirements: String, bundle digest: String) throws -> String {
        let interpreter = try FileSystem.interpreter(python)
        guard let identity = PythonCompiler.interpreterIdentity(interpreter) else {
            throw ModelPackError.io(
                path: python, reason: "no such Python (give \(CommandFlag.python) a path or a name on PATH)")
        }
        var text = version + "\npython " + identity + "\n"
        let requirements = RequirementsFile.read(in: model)
        var local = requirements.entries.contains {
            if let reference = $0.directReference { return !reference.contains("://") }
            return $0.requirement?.url?.hasPrefix("file:") ?? false
        }
        for file in requirements.files {
            guard let bytes = try? FileSystem.readWholeFile(model + "/" + file, limit: Limits.maxTextBytes) else {
                continue
            }
            text += "file \(file) \(SHA256Stream.hex(of: Array(normalized(bytes).utf8)))\n"
            local = local || installsFromTheModel(bytes)
        }
        let runtime = try FileSystem.readWholeFile(runtimeRequirements, limit: 1 << 16)
        text += "runtime \(SHA256Stream.hex(of: runtime))\n"
        if local { text += "bundle \(digest)\n" }
        return String(SHA256Stream.hex(of: Array(text.utf8)).prefix(32))
    }

    /// Whether a requirements file has an option that installs from a folder of the model.
    static func installsFromTheModel(_ bytes: [UInt8]) -> Bool {
        String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).contains { line in
            let token = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            let option = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return ["-e", "--editable", "-f", "--find-links"].contains(option)
                || (!token.hasPrefix("--") && (token.hasPrefix("-e") || token.hasPrefix("-f")))
        }
    }

    /// The line `cache list` shows: the Python (from the virtualenv's pyvenv.cfg) and the model it was made for.
    static func about(venv: String, madeFor manifest: Manifest) -> String {
        var version = "?"
        if let cfg = try? FileSystem.readWholeFile(venv + "/pyvenv.cfg", limit: 1 << 16) {
            for line in String(decoding: cfg, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0] == "version" || parts[0] == "version_info" { version = parts[1] }
            }
        }
        return "Python \(version), made for \(manifest.name) \(manifest.version)\n"
    }
}
