import ArgumentParser
import ModelPackCore

/// The CLI's spelling of a target (the core type stays free of ArgumentParser).
enum DockerTarget: String, ExpressibleByArgument, CaseIterable {
    case cpu, cuda
    var core: DockerfileOptions.Target { self == .cpu ? .cpu : .cuda }
}

struct Dockerfile: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "dockerfile",
        abstract: "Check a bundle (or a model directory) and write a Docker build context that serves it.",
        discussion: """
            The bundle goes through the same checks as validate first (a model directory is then \
            packed as build would pack it): errors (or warnings with \
            --strict) stop it and nothing is written. DIR gets the Dockerfile, a .dockerignore, the \
            verified bundle (model/ and code/) and the serving runtime (runtime/). `docker build DIR` \
            then gives an image that serves the model on port 8080 (POST /predict, GET /health, \
            /ready, /metadata, /metrics).
            """)

    @Argument(help: "The bundle, or a model directory.")
    var bundle: String

    @Option(name: .shortAndLong, help: "The build context directory to create.")
    var output: String

    @Option(help: "cpu or cuda; repeat it for both (Dockerfile.cpu and Dockerfile.cuda).")
    var target: [DockerTarget] = [.cpu]

    @Option(help: "The CUDA release (X.Y) for --target cuda; default: derived from the framework pins.")
    var cuda: String?

    @Option(
        help: "The Python version (X.Y), over metadata.yaml's python (a warning when they differ); default: metadata's."
    )
    var python: String?

    @Option(help: "Use this base image instead of python:X.Y-slim.")
    var baseImage: String?

    @Option(help: "A file of 'image:tag sha256:digest' lines (or JSON): FROM is pinned by digest.")
    var pin: String?

    @Flag(help: "Replace DIR if it exists.")
    var force = false

    func validate() throws {
        guard !target.isEmpty else { throw ValidationError("give at least one --target (cpu or cuda)") }
        if cuda != nil && !target.contains(.cuda) { throw ValidationError("--cuda applies to --target cuda") }
        if let cuda, CUDACompatibility.cudaRelease(cuda) == nil {
            throw ValidationError("--cuda '\(cuda)' is not a CUDA release like 12.8")
        }
    }

    @OptionGroup var report: OutputOptions
    @OptionGroup var policy: PolicyOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func run() throws {
        try report.emit(
            try Operations.dockerfile(
                BuildContext.Options(
                    bundle: bundle, output: output, targets: target.map(\.core), python: python,
                    baseImage: baseImage, pinFile: pin, cuda: cuda, force: force),
                policy: policy.policy, strict: policy.strict, trust: try trustPolicy.load(), context: context))
    }
}
