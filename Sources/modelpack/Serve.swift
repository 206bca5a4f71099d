import ArgumentParser
import Foundation
import ModelPackCore

struct Serve: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Check a bundle (or a model directory) and serve it locally over HTTP, without Docker.",
        discussion: """
            The bundle goes through the same checks as validate first: errors (or warnings with \
            --strict) stop it. It is then unpacked and verified into a cache keyed by its digest \
            (MODELPACK_CACHE, else ~/.cache/modelpack), a virtualenv is created there with the model's \
            requirements and the runtime's (FastAPI, uvicorn; once per Python and requirements, so a \
            change of code only starts without pip; see modelpack cache), and the same server as the \
            Docker images runs: POST /predict, GET /health, /ready, /metadata, /metrics. \
            MODELPACK_API_KEY protects /predict (or MODELPACK_API_KEYS_FILE: named keys, hashed, with \
            rate limits); MODELPACK_MAX_BODY_BYTES limits request bodies.

            A model directory is built first, as build would pack it. With --reload (a directory \
            only), serve stays in front of the server and rebuilds and restarts it when a file of \
            the model changes; a change the checks refuse is logged and the previous model keeps \
            serving.
            """)

    @Argument(help: "The bundle, or a model directory.")
    var bundle: String

    @Flag(help: "Rebuild and restart the server when a file of the model directory changes.")
    var reload = false

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The Python used to create the virtualenv.")
    var python: String = "python3"

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var trustPolicy: TrustPolicyOptions
    /// The checks' findings, on stderr (stdout is the server's).
    @OptionGroup var report: FindingsOutputOptions
    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ModelLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        var isDirectory: ObjCBool = false
        if reload, !FileManager.default.fileExists(atPath: bundle, isDirectory: &isDirectory) || !isDirectory.boolValue
        {
            throw ValidationError("--reload watches a model directory; '\(bundle)' is not one")
        }
    }

    func run() throws {
        let trust = try trustPolicy.load()
        if reload {
            guard trust == nil else {
                throw ValidationError(
                    "--reload serves a directory as it changes; a trust policy judges what is served once")
            }
            try Operations.serveReloading(
                directory: bundle, python: python, host: host, port: port, policy: policy.policy,
                strict: policy.strict, context: context)
        }
        let served = try Operations.serve(
            model: bundle, python: python, host: host, port: port, policy: policy.policy, strict: policy.strict,
            trust: trust, context: context)
        report.emitFindings(served.findings)
        let prepared = served.prepared
        for (name, value) in prepared.serverEnvironment(host: host, port: port) {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        Output.error("starting the server on http://\(host):\(port)")
        SignalCleanup.restoreDefaultsForExec()
        ProcessZone.unpinForExec()
        let argv = [prepared.python] + prepared.pythonArguments(prepared.server)
        var cArgs = argv.map { strdup($0) } + [nil]
        // prepared holds the cache entries' use locks, which the server inherits: alive until exec.
        withExtendedLifetime(prepared) { _ = execv(prepared.python, &cArgs) }
        throw ModelPackError.io(
            path: prepared.python, reason: "cannot start the server: \(String(cString: strerror(errno)))")
    }
}
