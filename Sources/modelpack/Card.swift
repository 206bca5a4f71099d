import ArgumentParser
import ModelPackCore

struct Card: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Write the model card (Markdown with Hugging Face front matter) of a bundle or directory.",
        discussion: """
            The Model Cards sections come from metadata.yaml's optional 'card' fields and 'metrics' \
            (a section with nothing to say reads "Not provided."); then the bundle digest, files and \
            digests, artifact formats and audit verdicts, signature, environment, inputs and \
            outputs, and an example request. Every dockerfile build context and serve carry it \
            (GET /card).
            """)

    @Argument(help: "A bundle or a model directory.")
    var model: String

    @Option(name: .shortAndLong, help: "Write the card to this file (through a temporary file) instead of stdout.")
    var output: String?

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.card(model, output: output, context: context))
    }
}
