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
    public static func test(_ options: TestOptions, log: (String) -> Void) throws -> RunPlan {
        guard (1...10_000).contains(options.repeats) else {
            throw ModelPackError.usage("--repeat must be between 1 and 10000")
        }
        guard let info = try FileSystem.lstatInfo(options.source) else {
            throw ModelPackError.inputMissing(path: options.source)
        }
        let verdict = try ModelCheck.check(options.source, policy: options.policy)
        if verdict.fails(strict: options.strict) { throw ModelPackError.validationFailed(verdict.report) }
        let card = try card(of: verdict)
        var bundle = options.source
        var scratch: String?
        if info.kind == .directory {
            // The directory as build would pack it, so the test runs exactly what would ship.
            let folder = TemporaryOutput.path(nextTo: CacheDirectory.path() + "/tested")
            try FileSystem.makeDirectories(CacheDirectory.path())
            TemporaryOutput.register(folder)
            try FileSystem.makeDirectory(folder)
            scratch = folder
            bundle = folder + "/bundle.tar"
            var build = BuildOptions(source: options.source, output: bundle, format: .tar, strict: options.strict)
            build.allowUnsafe = options.policy.allowUnsafe
            _ = try Operations.build(build)
        }
        defer {
            if let scratch {
                FileSystem.removeTree(scratch)
                TemporaryOutput.unregister(scratch)
            }
        }
        let prepared = try ServeCache.prepare(bundle: bundle, python: options.python, card: card, log: log)
        var arguments = [
            prepared.smokeTest, "--model", prepared.modelDirectory, "--serving", prepared.servingJSON,
            "--repeat", String(options.repeats),
        ]
        if options.json { arguments.append("--json") }
        return RunPlan(executable: prepared.python, arguments: arguments, findings: verdict.report, prepared: prepared)
    }
}
