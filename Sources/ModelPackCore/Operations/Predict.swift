/// What `predict` needs to know.
public struct PredictOptions: Sendable {
    public var bundle: String
    public var input: String
    /// Where the predictions go (`-` for stdout); `.csv` writes CSV, anything else JSON Lines.
    public var output: String
    /// Rows per call to predict(); nil: metadata.yaml's resources.batch_size, else 1024.
    public var batchSize: Int?
    public var skipInvalid = false
    public var idColumn: String?
    public var python = "python3"
    public var progress = false
    public var policy = ModelCheck.Policy()
    public var strict = false
    /// Spark or Ray instead of one process; then input and output are .csv or .parquet.
    public var engine: ServeCache.Engine?
    /// Spark's master (`local[*]` when nil).
    public var master: String?
    /// A Ray cluster's address (a local cluster when nil).
    public var address: String?
    /// Spark settings, KEY=VALUE.
    public var sparkConf: [String] = []
    /// The engine's version (pyspark's or ray's) in place of the runtime's pin: the cluster's.
    public var engineVersion: String?

    public init(bundle: String, input: String, output: String) {
        self.bundle = bundle
        self.input = input
        self.output = output
    }
}

/// A runtime program to exec in serve's cached environment (predict's runner, test's smoke
/// test), and what the checks found.
public struct RunPlan: Sendable {
    public let executable: String
    public let arguments: [String]
    public let findings: DiagnosticReport
    /// The cache entries it runs in, marked in use while this lives and, across exec, while the runner runs.
    public let prepared: ServeCache.Prepared
}

extension Operations {
    static let predictInputs = [".csv", ".jsonl", ".ndjson", ".json", ".parquet"]
    static let engineFormats = [".csv", ".parquet"]

    /// `predict`: the one check pipeline on the bundle, serve's unpacked copy and virtualenv, then
    /// the runtime's batch runner (the server's loader and input check) over the input file.
    public static func predict(_ options: PredictOptions, context: RunContext) throws -> RunPlan {
        guard try FileSystem.lstatInfo(options.input) != nil else {
            throw ModelPackError.inputMissing(path: options.input)
        }
        var lower = options.input.lowercased()
        while lower.hasSuffix("/") { lower.removeLast() }
        if options.master != nil, options.engine != .spark {
            throw ModelPackError.usage("--master goes with --engine spark")
        }
        if !options.sparkConf.isEmpty, options.engine != .spark {
            throw ModelPackError.usage("--conf goes with --engine spark")
        }
        if let bad = options.sparkConf.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
            throw ModelPackError.usage("--conf '\(bad)': give KEY=VALUE")
        }
        if options.address != nil, options.engine != .ray {
            throw ModelPackError.usage("--address goes with --engine ray")
        }
        if let version = options.engineVersion {
            guard let engine = options.engine else {
                throw ModelPackError.usage("--engine-version goes with --engine spark or --engine ray")
            }
            guard ServeCache.Engine.isVersion(version) else {
                throw ModelPackError.usage(
                    "--engine-version '\(version)' is not a version of \(engine.package) (e.g. 3.5.3)")
            }
        }
        if let engine = options.engine {
            guard engineFormats.contains(where: { lower.hasSuffix($0) }) else {
                throw ModelPackError.usage(
                    "--engine \(engine.rawValue) reads .csv or .parquet (a file or a folder of them), not '\(options.input)'"
                )
            }
            let output = options.output.lowercased()
            guard options.output != "-", engineFormats.contains(where: { output.hasSuffix($0) }) else {
                throw ModelPackError.usage(
                    "--engine \(engine.rawValue) writes a folder of .csv or .parquet part files: give -o OUT.parquet or -o OUT.csv"
                )
            }
            if try FileSystem.lstatInfo(options.output) != nil {
                throw ModelPackError.io(path: options.output, reason: "already exists (remove it, or give another -o)")
            }
        }
        guard predictInputs.contains(where: { lower.hasSuffix($0) }) else {
            throw ModelPackError.usage(
                "cannot tell the rows' format from '\(options.input)': use a .csv, .jsonl, .ndjson, .json or .parquet name"
            )
        }
        if let size = options.batchSize, !(1...1_000_000).contains(size) {
            throw ModelPackError.usage("--batch-size must be between 1 and 1000000")
        }
        if options.output != "-" { try FileSystem.checkOutputFile(options.output) }
        let verdict = try checked(options.bundle, policy: options.policy, strict: options.strict, context: context)
        let card = try card(of: verdict)
        let prepared = try ServeCache.prepare(
            bundle: options.bundle, python: options.python, card: card, context: context)
        var arguments: [String]
        if let engine = options.engine {
            try ServeCache.addEngine(engine, version: options.engineVersion, to: prepared, log: context.log)
            arguments =
                prepared.pythonArguments(prepared.batchDriver) + [
                    "--engine", engine.rawValue, "--bundle", options.bundle,
                ]
            if let master = options.master { arguments += ["--master", master] }
            if let address = options.address { arguments += ["--address", address] }
            for setting in options.sparkConf { arguments += ["--conf", setting] }
        } else {
            arguments = prepared.pythonArguments(prepared.predictor) + ["--model", prepared.modelDirectory]
            if options.progress { arguments.append("--progress") }
        }
        arguments += ["--serving", prepared.servingJSON, "--input", options.input, "--output", options.output]
        if let size = options.batchSize { arguments += ["--batch-size", String(size)] }
        if options.skipInvalid { arguments.append("--skip-invalid") }
        if let id = options.idColumn { arguments += ["--id-column", id] }
        return RunPlan(
            executable: prepared.python, arguments: arguments, findings: verdict.report, prepared: prepared)
    }
}
