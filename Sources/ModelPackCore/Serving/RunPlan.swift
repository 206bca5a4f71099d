/// A runtime program to exec in serve's cached environment (predict's runner, test's smoke
/// test), and what the checks found.
public struct RunPlan: Sendable {
    public let executable: String
    public let arguments: [String]
    public let findings: DiagnosticReport
    /// The cache entries it runs in, marked in use while this lives and, across exec, while the runner runs.
    public let prepared: ServeCache.Prepared
}
