extension Operations {
    /// `card`: the model card of a bundle or a directory, from the one check pipeline's verdict.
    public static func card(_ path: String, context: RunContext) throws -> String {
        try card(of: try ModelCheck.check(path, context: context))
    }
}
