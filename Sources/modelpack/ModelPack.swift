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
                let text = message(for: error)
                let hint = Suggestion.didYouMean(text, arguments: Array(CommandLine.arguments.dropFirst()))
                Output.fail("\(text)\(hint.map { " (did you mean '\($0)'?)" } ?? "") (see 'modelpack --help')")
                Foundation.exit(ExitStatus.usage)
            default:
                // Not an error modelpack raises itself: the system failed the operation.
                Output.fail("\(error)")
                Foundation.exit(ExitStatus.failure)
            }
        }
    }
}

/// "did you mean": the subcommand or flag nearest to a mistyped one (edit distance at most 2, or
/// a third of its length), read from the commands themselves.
enum Suggestion {
    static func didYouMean(_ message: String, arguments: [String]) -> String? {
        let subcommands = ModelPack.configuration.subcommands
        let names = subcommands.map { $0._commandName }
        if message.lowercased().contains("unexpected argument"), let typed = arguments.first,
            !typed.hasPrefix("-"), !names.contains(typed)
        {
            return nearest(typed, among: names)
        }
        guard let typed = quoted(after: "Unknown option '", in: message), typed.hasPrefix("--") else { return nil }
        let command = subcommands.first { $0._commandName == arguments.first } ?? ModelPack.self
        let help = command.helpMessage(includeHidden: true, columns: 200)
        let flags = Set(
            help.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") })
                .filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))
        return nearest(typed, among: flags.sorted())
    }

    private static func quoted(after prefix: String, in message: String) -> String? {
        guard let start = message.range(of: prefix) else { return nil }
        let rest = message[start.upperBound...]
        return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }

    static func nearest(_ typed: String, among names: [String]) -> String? {
        let scored = names.map { ($0, distance(typed, $0)) }.filter { $0.1 <= max(2, typed.count / 3) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance, with a swap of two neighbours counting as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let (x, y) = (Array(a), Array(b))
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }
}
