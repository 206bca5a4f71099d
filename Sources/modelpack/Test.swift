import ArgumentParser
import ModelPackCore

struct Test: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Load the model and predict its examples, as the server would, before shipping it.",
        discussion: """
            The model (a bundle, or a directory, built first) goes through the same checks as \
            validate; then, in serve's cached virtualenv, load_model() runs and the metadata's \
            examples go through the server's input check and predict(). Each prediction must be \
            JSON and fit the declared output, and equal example_outputs when metadata.yaml gives \
            them. Prints the load time, the per-row latency (single rows, --repeat calls each, and \
            in one batch) and the peak memory. Exit 0 when all passed, 1 on any failure. The \
            Docker images run the same test as a build step.
            """)

    @Argument(help: "A bundle, or a model directory.")
    var model: String

    @Option(help: "Single-row predict() calls per example, for the latency figures.")
    var `repeat`: Int = 20

    @Option(help: "The Python used to create the virtualenv.")
    var python: String = "python3"

    @OptionGroup var report: DataOutputOptions

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        guard (1...10_000).contains(`repeat`) else { throw ValidationError("--repeat must be between 1 and 10000") }
    }

    func run() throws {
        var options = TestOptions(source: model)
        options.python = python
        options.repeats = `repeat`
        options.policy = policy.policy
        options.strict = policy.strict
        options.trust = try trustPolicy.load()
        let plan = try Operations.test(options, context: context)
        report.emitFindings(plan.findings)
        try report.emit(try plan.run())
    }
}
