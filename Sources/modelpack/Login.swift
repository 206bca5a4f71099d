import ArgumentParser
import Foundation
import ModelPackCore

struct Login: ParsableCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials against a registry and store them where docker would.",
        discussion: """
            The password is read from standard input (--password-stdin) or asked for on the \
            terminal, never taken as an argument. It is stored through Docker's credential helper \
            for the registry (credHelpers, credsStore) or in config.json's auths, mode 0600.
            """)

    @Argument(help: "The registry host[:port].")
    var registry: String

    @Option(name: .shortAndLong, help: "The user name.")
    var username: String

    @Flag(help: "Read the password from standard input.")
    var passwordStdin = false

    @Option(
        help: ArgumentHelp(
            "Also send the credentials to the token service at this host (HTTPS only), when the registry's Bearer challenge names one on another host. Repeatable.",
            valueName: "host"))
    var realmHost: [String] = []

    func validate() throws {
        for host in realmHost where host.isEmpty || host.contains(where: { "/:@ ".contains($0) }) {
            throw ValidationError("--realm-host '\(host)' is not a host name (no scheme, port or path)")
        }
    }

    @OptionGroup var flags: RegistryFlags

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        let secret: String
        if passwordStdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else {
            guard isatty(0) != 0, let typed = getpass("Password: ") else {
                throw ModelPackError.usage("no terminal to ask for the password on: use --password-stdin")
            }
            secret = String(cString: typed)
        }
        guard !secret.isEmpty else { throw ModelPackError.usage("the password is empty") }
        try report.emit(
            try Operations.login(
                registry: registry, username: username, secret: secret, realmHosts: realmHost, options: flags.options))
    }
}
