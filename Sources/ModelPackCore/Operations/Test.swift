/// What `modelpack test` needs to know.
public struct TestOptions: Sendable {
    /// A bundle, or a model directory (built into a temporary bundle first).
    public var source: String
    public var python = "python3"
    public var policy = ModelCheck.Policy()
    public var strict = false
    /// Single-row predict() calls per example, for the latency figures.
    public var repeats = 20
    public var json = false

    public init(source: String) {
        self.source = source
    }
}

extension Operations {
    /// `test`: the one check pipeline on the model (a bundle or a directory), serve's unpacked
    /// copy and cached virtualenv, then the runtime's smoke test: load_model(), the metadata's
    /// examples through the server's input check and predict(), compared with example_outputs.
    public static func test(_ options: TestOptions, context: RunContext) throws -> RunPlan {
        let served = try prepared(
            options.source, python: options.python, policy: options.policy, strict: options.strict, context: context)
        let prepared = served.prepared
        var arguments =
            prepared.pythonArguments(prepared.smokeTest) + [
                "--model", prepared.modelDirectory, "--serving", prepared.servingJSON,
                "--repeat", String(options.repeats),
            ]
        if options.json { arguments.append("--json") }
        return RunPlan(executable: prepared.python, arguments: arguments, findings: served.findings, prepared: prepared)
    }
}
