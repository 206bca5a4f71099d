/// What `dockerfile` wrote, and what the checks found (warnings and notes: errors refuse).
public struct DockerfileResult: Sendable {
    public let context: BuildContext.Result
    public let findings: DiagnosticReport
}

extension Operations {
    /// `dockerfile`: the one check pipeline on the bundle, then the build context.
    public static func dockerfile(
        _ options: BuildContext.Options, policy: ModelCheck.Policy = ModelCheck.Policy(), strict: Bool = false
    ) throws -> DockerfileResult {
        let verdict = try checked(options.bundle, policy: policy, strict: strict)
        var options = options
        options.card = try card(of: verdict)
        return DockerfileResult(context: try BuildContext.write(options), findings: verdict.report)
    }

    /// The bundle's verdict, or `validationFailed` when it refuses the bundle.
    static func checked(_ model: String, policy: ModelCheck.Policy, strict: Bool) throws -> ModelVerdict {
        let verdict = try ModelCheck.check(model, policy: policy)
        if verdict.fails(strict: strict) { throw ModelPackError.validationFailed(verdict.report) }
        return verdict
    }
}
