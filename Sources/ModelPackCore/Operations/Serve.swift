import Foundation

/// What `serve` runs, and what the checks found.
package struct ServeResult: Sendable {
    package let prepared: ServeCache.Prepared
    package let findings: DiagnosticReport
}

extension Operations {
    /// `serve`: the one check pipeline on the model (a bundle, or a directory built into a
    /// temporary bundle), then its unpacked copy and virtualenv in the cache (the CLI execs the
    /// server).
    package static func serve(
        model: String, python: String, host: String, port: Int, policy: ModelCheck.Policy = ModelCheck.Policy(),
        strict: Bool = false, trust: TrustPolicy? = nil, checkPort: Bool = true, context: RunContext
    ) throws -> ServeResult {
        if checkPort { try PortCheck.ensureFree(host: host, port: port) }
        return try prepared(model, python: python, policy: policy, strict: strict, trust: trust, context: context)
    }

    /// `serve DIR --reload`: serves the directory, and while it runs, rebuilds and restarts the
    /// server whenever a file of the model changes (what `build` would pack: ignored paths do not
    /// count). A change the checks refuse, or that cannot be prepared, is logged and the running
    /// server stays. The server ends with this process, even when it is killed (the runtime
    /// follows MODELPACK_SUPERVISOR_PID with PR_SET_PDEATHSIG). Returns only on an error at start.
    package static func serveReloading(
        directory: String, python: String, host: String, port: Int, policy: ModelCheck.Policy = ModelCheck.Policy(),
        strict: Bool = false, interval: Double = 1, context: RunContext
    ) throws -> Never {
        let log = context.log
        let maxPathBytes = context.limits.unpack.maxPathBytes
        guard try FileSystem.lstatInfo(directory)?.kind == .directory else {
            throw ModelPackError.invalidModel(path: directory, reason: "not a model directory to watch")
        }
        var seen = try ModelDirectory.fingerprint(directory, maxPathBytes: maxPathBytes)
        // What is served: held for as long as its server runs, so its cache entries stay in use
        // (the child does not inherit the use locks: this process holds them).
        var current = try serve(
            model: directory, python: python, host: host, port: port, policy: policy, strict: strict, context: context)
        if !current.findings.diagnostics.isEmpty { log(current.findings.text(colour: false)) }
        var server = try startServer(current.prepared, host: host, port: port, log: log)
        var toldExit = false
        while true {
            Thread.sleep(forTimeInterval: interval)
            if !server.isRunning && !toldExit {
                log("the server exited (status \(server.terminationStatus)); waiting for a change to start it again")
                toldExit = true
            }
            guard let now = try? ModelDirectory.fingerprint(directory, maxPathBytes: maxPathBytes), now != seen else {
                continue
            }
            seen = now
            log("\(directory) changed: checking and rebuilding it")
            let next: ServeResult
            do {
                next = try serve(
                    model: directory, python: python, host: host, port: port, policy: policy, strict: strict,
                    checkPort: false, context: context)
            } catch ModelPackError.validationFailed(let findings) {
                log(findings.text(colour: false))
                log("the checks refuse the change: the server keeps the previous model")
                continue
            } catch {
                log("\(error): the server keeps the previous model")
                continue
            }
            if !next.findings.diagnostics.isEmpty { log(next.findings.text(colour: false)) }
            stop(server)
            server = try startServer(next.prepared, host: host, port: port, log: log)
            current = next
            toldExit = false
        }
    }

    private static func startServer(_ prepared: ServeCache.Prepared, host: String, port: Int, log: (String) -> Void)
        throws -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prepared.python)
        process.arguments = prepared.pythonArguments(prepared.server)
        var environment = ProcessZone.childEnvironment()
        for (name, value) in prepared.serverEnvironment(host: host, port: port) { environment[name] = value }
        environment["MODELPACK_SUPERVISOR_PID"] = String(getpid())
        process.environment = environment
        log("starting the server on http://\(host):\(port) (reloading on changes)")
        do { try process.run() } catch {
            throw ModelPackError.io(path: prepared.python, reason: "cannot start the server: \(error)")
        }
        return process
    }

    /// SIGTERM (the server finishes in-flight requests), then SIGKILL after its grace period.
    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(35)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
