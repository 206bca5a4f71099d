/// What `predict` needs to know.
package struct PredictOptions: Sendable {
    package var bundle: String
    package var input: String
    /// Where the predictions go (`-` for stdout); `.csv` writes CSV, anything else JSON Lines.
    package var output: String
    /// Rows per call to predict(); nil: metadata.yaml's resources.batch_size, else 1024.
    package var batchSize: Int?
    package var skipInvalid = false
    package var idColumn: String?
    package var python = "python3"
    package var policy = ModelCheck.Policy()
    package var strict = false
    /// The trust policy the model must meet, when one is given.
    package var trust: TrustPolicy?
    /// Spark or Ray instead of one process; then input and output are .csv or .parquet.
    package var engine: ServeCache.Engine?
    /// Spark's master (`local[*]` when nil).
    package var master: String?
    /// A Ray cluster's address (a local cluster when nil).
    package var address: String?
    /// Spark settings, KEY=VALUE.
    package var sparkConf: [String] = []
    /// The engine's version (pyspark's or ray's) in place of the runtime's pin: the cluster's.
    package var engineVersion: String?

    package init(bundle: String, input: String, output: String) {
        self.bundle = bundle
        self.input = input
        self.output = output
    }
}

extension Operations {
    /// The rows' formats, told by the name: one process reads these...
    package static let predictInputs = [".csv", ".jsonl", ".ndjson", ".json", ".parquet"]
    /// ...and Spark and Ray these (a file or a folder of them).
    package static let engineFormats = [".csv", ".parquet"]
    /// What one process writes, told by the name (`-` is JSON Lines on stdout).
    package static let predictOutputs = [".jsonl", ".ndjson", ".csv", ".parquet"]

    /// `predict`: the one check pipeline on the bundle, serve's unpacked copy and virtualenv, then
    /// the runtime's batch runner (the server's loader and input check) over the input file.
    package static func predict(_ options: PredictOptions, context: RunContext) throws -> RunPlan {
        guard try FileSystem.lstatInfo(options.input) != nil else {
            throw ModelPackError.inputMissing(path: options.input)
        }
        if options.engine != nil, try FileSystem.lstatInfo(options.output) != nil {
            throw ModelPackError.io(path: options.output, reason: "already exists (remove it, or give another -o)")
        }
        if options.output != "-" { try FileSystem.checkOutputFile(options.output) }
        let verdict = try checked(
            options.bundle, policy: options.policy, strict: options.strict, trust: options.trust, context: context)
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
            if context.interactive { arguments.append("--progress") }
        }
        arguments += ["--serving", prepared.servingJSON, "--input", options.input, "--output", options.output]
        if let size = options.batchSize { arguments += ["--batch-size", String(size)] }
        if options.skipInvalid { arguments.append("--skip-invalid") }
        if let id = options.idColumn { arguments += ["--id-column", id] }
        return RunPlan(
            executable: prepared.python, arguments: arguments, findings: verdict.report, prepared: prepared)
    }
}
