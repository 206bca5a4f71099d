extension Operations {
    /// `validate`: the one check pipeline on a model directory or a bundle.
    package static func validate(_ path: String, context: RunContext) throws -> ModelVerdict {
        try ModelCheck.check(path, context: context)
    }
}
