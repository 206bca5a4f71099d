import ArgumentParser
import Foundation
import ModelPackCore

/// How to reach a registry: the flags of push, pull, inspect REF and login.
struct RegistryFlags: ParsableArguments {
    @Flag(help: "Speak plain HTTP to a registry that is not on loopback (loopback always may).")
    var plainHTTP = false

    @Option(
        help:
            "Trust the PEM certificates in this file for the registry's TLS besides the system's store (a loopback registry is then spoken to over TLS).",
        completion: .file())
    var caFile: String?

    @Option(help: "Blob transfers at once.")
    var concurrency = 4

    @Option(
        help: ArgumentHelp(
            "Give up a transfer that moves less than 1 KiB/s for this many seconds.", valueName: "seconds"))
    var stallTimeout = 30

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64") }
        guard (1...3600).contains(stallTimeout) else { throw ValidationError("--stall-timeout must be 1 to 3600") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--ca-file '\(caFile)' is not a readable file")
        }
        if caFile != nil && plainHTTP { throw ValidationError("--ca-file is for TLS; it cannot go with --plain-http") }
    }

    var options: RegistryOptions {
        var options = RegistryOptions()
        options.plainHTTP = plainHTTP
        options.caFile = caFile
        options.concurrency = concurrency
        options.stallSeconds = stallTimeout
        return options
    }

    /// `context` with a progress line for `verb`, when stderr is a terminal and the report is text.
    static func context(
        _ context: RunContext, progress verb: String, _ progress: ProgressOptions, report: some ReportOptions
    ) -> (RunContext, ProgressLine?) {
        var context = context
        guard let line = progress.line(verb, report: report) else { return (context, nil) }
        context.progress = { line.observe($0) }
        return (context, line)
    }
}
