import ArgumentParser
import ModelPackCore

extension KeyType: ExpressibleByArgument {}

struct Keygen: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a signing key: KEY (private, mode 0600, never printed) and KEY.pub.",
        discussion: """
            ed25519 (the default) writes modelpack's one-line key files. ecdsa-p256 writes PEM \
            (PKCS#8 private key, SubjectPublicKeyInfo public key), the keys OMS signatures take \
            (sign --signature-format oms; model_signing sign key and verify key read them too).
            """)

    @Option(name: .shortAndLong, help: "The private key file to create (KEY.pub is written beside it).")
    var output: String

    @Option(help: "The key type: \(KeyType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: KeyType = .ed25519

    @Option(help: "A comment stored in the public key (e.g. who owns it; ed25519 only).")
    var comment: String = "modelpack"

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.keygen(privatePath: output, comment: comment, type: type))
    }
}
