/// A runtime program to exec in serve's cached environment (predict's runner, test's smoke
/// test), and what the checks found.
package struct RunPlan: Sendable {
    package let executable: String
    package let arguments: [String]
    package let findings: DiagnosticReport
    /// The cache entries it runs in, marked in use while this lives and, across exec, while the runner runs.
    package let prepared: ServeCache.Prepared
}
