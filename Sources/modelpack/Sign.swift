import ArgumentParser
import Foundation
import ModelPackCore

struct Sign: LimitedCommand, ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a bundle: writes BUNDLE.sig (detached; the bundle and its digest do not change).")

    @Argument(help: "The bundle.")
    var bundle: String

    @Option(help: "The private key (from modelpack keygen).")
    var key: String

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    @OptionGroup var report: DataOutputOptions

    func run() throws {
        try report.emit(try Operations.sign(bundle: bundle, keyPath: key, context: context))
    }
}
