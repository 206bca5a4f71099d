import ArgumentParser
import Foundation
import ModelPackCore

struct Serve: LimitedCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a bundle locally over HTTP, without Docker.",
        discussion: """
            Unpacks and verifies the bundle into a cache keyed by its digest (MODELPACK_CACHE, else \
            ~/.cache/modelpack), creates a virtualenv there with the model's requirements and the \
            runtime's (FastAPI, uvicorn; once per digest), then runs the same server as the Docker \
            images: POST /predict, GET /health, /ready, /metadata, /metrics. MODELPACK_API_KEY \
            protects /predict; MODELPACK_MAX_BODY_BYTES limits request bodies.
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The Python used to create the virtualenv.")
    var python: String = "python3"

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
    }

    @OptionGroup(title: "Limits on input") var limitOptions: LimitOptions

    func run() throws {
        let prepared = try ServeCache.prepare(bundle: bundle, python: python) { Output.error($0) }
        setenv("MODELPACK_MODEL_DIR", prepared.modelDirectory, 1)
        setenv("MODELPACK_SERVING_JSON", prepared.servingJSON, 1)
        setenv("MODELPACK_HOST", host, 1)
        setenv("MODELPACK_PORT", String(port), 1)
        Output.error("serving on http://\(host):\(port)")
        SignalCleanup.restoreDefaultsForExec()
        let argv = [prepared.python, prepared.server]
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(prepared.python, &cArgs)
        throw ModelPackError.io(
            path: prepared.python, reason: "cannot start the server: \(String(cString: strerror(errno)))")
    }
}
