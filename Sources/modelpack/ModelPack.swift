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
            Predict.self, Test.self, Init.self, BOM.self,
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
                reporting.report.emitRefusal(findings)
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
