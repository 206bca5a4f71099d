/// What `dockerfile` wrote, and what the checks found (warnings and notes: errors refuse).
package struct DockerfileResult: Sendable {
    package let context: BuildContext.Result
    package let findings: DiagnosticReport
    /// The build context's directory.
    package let output: String
}

extension Operations {
    /// `dockerfile`: the one check pipeline on the bundle, then the build context.
    package static func dockerfile(
        _ options: BuildContext.Options, policy: ModelCheck.Policy = ModelCheck.Policy(), strict: Bool = false,
        trust: TrustPolicy? = nil, context: RunContext
    ) throws -> DockerfileResult {
        let verdict = try checked(options.bundle, policy: policy, strict: strict, trust: trust, context: context)
        var options = options
        options.card = try card(of: verdict)
        return DockerfileResult(
            context: try BuildContext.write(options, context: context), findings: verdict.report,
            output: options.output)
    }

}
