import ArgumentParser
import Dispatch
import Foundation
import ModelPackCore

@main
struct ModelPack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelpack",
        abstract: "Pack, check, audit and unpack boxed ML models.",
        discussion: """
            Exit codes: 0 success; 1 a problem with the input (refused, invalid, mismatched, missing or \
            unreadable); 2 a usage error; 3 the system failed the operation (writing the output: full \
            disk, file-size limit, permissions). Limits on input are shown by --help-hidden.
            """,
        version: ModelPackVersion.current,
        subcommands: [
            Build.self, Validate.self, Inspect.self, Scan.self, Verify.self, Unpack.self, Serve.self, Dockerfile.self,
            Keygen.self, Sign.self, Push.self, Pull.self, Login.self, Prune.self, Cache.self, Diff.self, Card.self,
            Predict.self, Test.self, Init.self,
        ]
    )

    /// The error boundary: every error a user sees is one line on stderr, printed here.
    static func main() {
        ProcessZone.pin()  // before any thread starts
        SignalCleanup.install()
        var parsed: (any ParsableCommand)?
        do {
            var command = try parseAsRoot()
            parsed = command
            try command.run()
        } catch ModelPackError.validationFailed(let findings) {
            // The checks refused the model: their findings in the command's format, then the line.
            if let reporting = parsed as? any ReportingCommand {
                reporting.report.renderRefusal(findings)
            } else {
                Output.error(findings.text(colour: Output.wantsColour(.standardError)))
            }
            let error = ModelPackError.validationFailed(findings)
            Output.fail(error.description)
            Foundation.exit(error.exitCode)
        } catch let error as ModelPackError {
            Output.fail(error.description)
            Foundation.exit(error.exitCode)
        } catch let error as ArgumentParser.ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            switch exitCode(for: error) {
            case .success:
                print(fullMessage(for: error))
                Foundation.exit(0)
            case .validationFailure:
                Output.fail("\(message(for: error)) (see 'modelpack --help')")
                Foundation.exit(ExitStatus.usage)
            default:
                // Not an error modelpack raises itself: the system failed the operation.
                Output.fail("\(error)")
                Foundation.exit(ExitStatus.failure)
            }
        }
    }
}

/// stdout carries results, stderr errors. `fail` is the one place that adds `error:`.
enum Output {
    enum Stream { case standardOutput, standardError }

    /// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
    static func wantsColour(_ stream: Stream) -> Bool {
        if let value = ProcessInfo.processInfo.environment["NO_COLOR"], !value.isEmpty { return false }
        return isatty(stream == .standardOutput ? 1 : 2) == 1
    }

    static func result(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// `error: MESSAGE`, the prefix in bold red on a terminal.
    static func fail(_ message: String) {
        let prefix = wantsColour(.standardError) ? "\u{1B}[1;31merror:\u{1B}[0m" : "error:"
        error("\(prefix) \(message)")
    }

    static func warn(_ message: String) {
        let prefix = wantsColour(.standardError) ? "\u{1B}[1;33mwarning:\u{1B}[0m" : "warning:"
        error("\(prefix) \(message)")
    }
}

/// On SIGINT or SIGTERM, remove what this process was writing, then exit as the signal would.
enum SignalCleanup {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install() {
        // A file-size limit (ulimit -f) then fails a write with EFBIG, which is reported and
        // cleaned up, instead of killing the process with its temporary file left behind.
        signal(SIGXFSZ, SIG_IGN)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                TemporaryOutput.removeAllRegistered()
                Foundation.exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Before exec'ing another program: default dispositions and an empty signal mask (both are
    /// inherited across execv, and libdispatch blocks the signals it watches).
    static func restoreDefaultsForExec() {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGXFSZ] { signal(sig, SIG_DFL) }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }
}
