import ArgumentParser
import Foundation
import ModelPackCore

struct Predict: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a bundle's model over a file of rows, without a server.",
        discussion: """
            The bundle is checked as serve checks it and runs in serve's cached virtualenv, through \
            the server's own loader and input check, BATCH rows at a time (memory stays bounded \
            whatever the input's size). Rows: .csv (header row; cells converted by the declared \
            input types), .jsonl/.ndjson, .json (an array), .parquet (needs pyarrow among the \
            model's requirements). Output by -o's extension: .jsonl/.ndjson, .csv or .parquet \
            (pyarrow), each row with its id (--id-column, else its number, 1 for the first row, on \
            every engine); JSON Lines on stdout when -o is absent or -, ending quietly when the \
            reader stops (| head). A row that does not fit the inputs \
            fails the run with its line number, or with --skip-invalid is left out with a warning. \
            The output appears only when the run succeeds.

            With --engine spark or --engine ray the same loader and check run as a Spark job \
            (local[*], or --master URL) or on Ray actors (a local cluster, or --address ADDR), \
            in the model's environment with the engine added: input and output are .csv or \
            .parquet (a file or a folder), the output a folder of part files, each row with its id \
            (--id-column, else its row number). Docs/SCALE.md.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(name: .shortAndLong, help: "The rows: .csv, .jsonl, .ndjson, .json or .parquet.")
    var input: String

    @Option(
        name: .shortAndLong,
        help:
            "Where the predictions go: .jsonl or .ndjson (JSON Lines), .csv, .parquet (pyarrow in the model's requirements); JSON Lines on stdout when absent or -."
    )
    var output: String?

    @Option(
        help:
            "Rows per call to predict() (default: metadata.yaml's resources.batch_size, else 1024; 10000 with --engine)."
    )
    var batchSize: Int?

    @Flag(help: "Leave out rows that do not fit the inputs (each reported) instead of failing.")
    var skipInvalid = false

    @Option(help: "A column (or JSON key) that identifies each row; it is not passed to the model.")
    var idColumn: String?

    @Option(help: "Run on Spark or Ray instead of in one process.")
    var engine: EngineOption?

    @Option(help: "Spark's master URL (with --engine spark; default local[*]).")
    var master: String?

    @Option(
        name: .customLong("conf"),
        help: ArgumentHelp(
            "A Spark setting, KEY=VALUE (repeatable), e.g. spark.executor.memory=4g.", valueName: "key=value"))
    var sparkConf: [String] = []

    @Option(help: "A Ray cluster's address (with --engine ray; default: a local cluster).")
    var address: String?

    @Option(
        help: ArgumentHelp(
            "The engine's version (pyspark or ray), to match the cluster's (default: the runtime's pin, 4.0.1 or 2.60.0).",
            valueName: "version"))
    var engineVersion: String?

    @Option(help: "The Python used to create the virtualenv.")
    var python: String = "python3"

    @Flag(name: .shortAndLong, help: "No progress line (there is none unless stderr is a terminal).")
    var quiet = false

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions
    /// The checks' findings, on stderr (stdout is the predictions').
    @OptionGroup var report: FindingsOutputOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    /// The flags' combinations, and values that need no file system.
    func validate() throws {
        if master != nil, engine != .spark { throw ValidationError("--master goes with --engine spark") }
        if !sparkConf.isEmpty, engine != .spark { throw ValidationError("--conf goes with --engine spark") }
        if let bad = sparkConf.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
            throw ValidationError("--conf '\(bad)': give KEY=VALUE")
        }
        if address != nil, engine != .ray { throw ValidationError("--address goes with --engine ray") }
        if let engineVersion {
            guard let engine else {
                throw ValidationError("--engine-version goes with --engine spark or --engine ray")
            }
            guard ServeCache.Engine.isVersion(engineVersion) else {
                let package = ServeCache.Engine(rawValue: engine.rawValue)?.package ?? engine.rawValue
                throw ValidationError("--engine-version '\(engineVersion)' is not a version of \(package) (e.g. 3.5.3)")
            }
        }
        var lower = input.lowercased()
        while lower.hasSuffix("/") { lower.removeLast() }
        if let engine {
            guard Operations.engineFormats.contains(where: { lower.hasSuffix($0) }) else {
                throw ValidationError(
                    "--engine \(engine.rawValue) reads .csv or .parquet (a file or a folder of them), not '\(input)'")
            }
            let out = (output ?? "-").lowercased()
            guard output != nil, Operations.engineFormats.contains(where: { out.hasSuffix($0) }) else {
                throw ValidationError(
                    "--engine \(engine.rawValue) writes a folder of .csv or .parquet part files: give -o OUT.parquet or -o OUT.csv"
                )
            }
        }
        if engine == nil, let output, output != "-",
            !Operations.predictOutputs.contains(where: { output.lowercased().hasSuffix($0) })
        {
            throw ValidationError(
                "cannot tell the predictions' format from '\(output)': use a .jsonl, .ndjson, .csv or .parquet name (or - for JSON Lines on stdout)"
            )
        }
        guard Operations.predictInputs.contains(where: { lower.hasSuffix($0) }) else {
            throw ValidationError(
                "cannot tell the rows' format from '\(input)': use a .csv, .jsonl, .ndjson, .json or .parquet name")
        }
        if let batchSize, !(1...1_000_000).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and 1000000")
        }
    }

    func run() throws {
        var options = PredictOptions(bundle: bundle, input: input, output: output ?? "-")
        options.batchSize = batchSize
        options.skipInvalid = skipInvalid
        options.idColumn = idColumn
        options.python = python
        options.engine = engine.flatMap { ServeCache.Engine(rawValue: $0.rawValue) }
        options.master = master
        options.address = address
        options.sparkConf = sparkConf
        options.engineVersion = engineVersion
        options.policy = policy.policy
        options.strict = policy.strict
        options.trust = try trustPolicy.load()
        var context = context
        context.interactive = context.interactive && !quiet
        try Operations.predict(options, context: context).exec(report: report)
    }
}

/// `--engine` (the core's ServeCache.Engine, parsed here).
enum EngineOption: String, ExpressibleByArgument, CaseIterable {
    case spark, ray
}
