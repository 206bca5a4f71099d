/// The model card `card` made, and where it wrote it (nil: to be shown).
package struct CardResult: Sendable {
    package let model: String
    package let markdown: String
    package let output: String?
}

extension Operations {
    /// `card`: the model card of a bundle or a directory, from the one check pipeline's verdict;
    /// written to `output` through a temporary file when one is given.
    package static func card(_ path: String, output: String? = nil, context: RunContext) throws -> CardResult {
        let markdown = try card(of: try ModelCheck.check(path, context: context))
        if let output { try writeText(markdown, to: output) }
        return CardResult(model: path, markdown: markdown, output: output)
    }
}
