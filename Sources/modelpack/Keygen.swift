import ArgumentParser
import ModelPackCore

struct Keygen: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 signing key: KEY (private, mode 0600, never printed) and KEY.pub.")

    @Option(name: .shortAndLong, help: "The private key file to create (KEY.pub is written beside it).")
    var output: String

    @Option(help: "A comment stored in the public key (e.g. who owns it).")
    var comment: String = "modelpack"

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.keygen(privatePath: output, comment: comment))
    }
}
