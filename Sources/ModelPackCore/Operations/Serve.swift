/// What `serve` runs, and what the checks found.
public struct ServeResult: Sendable {
    public let prepared: ServeCache.Prepared
    public let findings: DiagnosticReport
}

extension Operations {
    /// `serve`: the one check pipeline on the bundle, then its unpacked copy and virtualenv in the
    /// cache (the CLI execs the server).
    public static func serve(
        bundle: String, python: String, host: String, port: Int, policy: ModelCheck.Policy = ModelCheck.Policy(),
        strict: Bool = false, log: (String) -> Void
    ) throws -> ServeResult {
        try PortCheck.ensureFree(host: host, port: port)
        let verdict = try checked(bundle, policy: policy, strict: strict)
        let card = try card(of: verdict)
        return ServeResult(
            prepared: try ServeCache.prepare(bundle: bundle, python: python, card: card, log: log),
            findings: verdict.report)
    }
}
