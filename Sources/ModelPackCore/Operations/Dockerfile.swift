/// What `dockerfile` wrote, and what the checks found (warnings and notes: errors refuse).
package struct DockerfileResult: Sendable {
    package let context: BuildContext.Result
    package let findings: DiagnosticReport
    /// The build context's directory.
    package let output: String
}

extension Operations {
    /// `dockerfile`: the one check pipeline on the bundle (or on a model directory, then packed as
    /// `build` would pack it, as serve and test do), then the build context.
    package static func dockerfile(
        _ options: BuildContext.Options, policy: ModelCheck.Policy = ModelCheck.Policy(), strict: Bool = false,
        trust: TrustPolicy? = nil, context: RunContext
    ) throws -> DockerfileResult {
        let verdict = try checked(options.bundle, policy: policy, strict: strict, trust: trust, context: context)
        var options = options
        options.card = try card(of: verdict)
        let written = try asBundle(options.bundle, policy: policy, strict: strict, context: context) { bundle in
            var packed = options
            packed.bundle = bundle
            return try BuildContext.write(packed, context: context)
        }
        return DockerfileResult(context: written, findings: verdict.report, output: options.output)
    }

}
