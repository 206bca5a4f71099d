extension Operations {
    /// `validate`: the one check pipeline on a model directory or a bundle; with `resolve`, then
    /// pip's resolver on its requirements (`Resolution`), whose finding joins the report.
    package static func validate(_ path: String, resolve: Bool = false, context: RunContext) throws -> ModelVerdict {
        let verdict = try ModelCheck.check(path, context: context)
        guard resolve else { return verdict }
        guard let finding = try Resolution.check(verdict, context: context) else { return verdict }
        return verdict.adding(finding)
    }
}
