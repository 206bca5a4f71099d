import ArgumentParser
import Foundation
import ModelPackCore

/// `--quiet`, and the progress line a command shows on a terminal (never through a pipe, with
/// --quiet, or with --format json or sarif).
struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "No progress line (there is none unless stderr is a terminal).")
    var quiet = false

    /// A line for `verb`, drawn once a phase has `minimum` bytes or more to move.
    func line(_ verb: String, report: some ReportOptions, minimum: Int64 = 0) -> ProgressLine? {
        guard !quiet, report.resolved == .text, isatty(2) != 0 else { return nil }
        return ProgressLine(verb: verb, minimum: minimum)
    }

    /// `body` with a context whose progress goes to a line, for inputs of a few hundred MiB or more.
    func tracking<T>(
        _ verb: String, report: some ReportOptions, context: RunContext, _ body: (RunContext) throws -> T
    ) throws -> T {
        guard let line = line(verb, report: report, minimum: 256 << 20) else { return try body(context) }
        defer { line.finish() }
        var context = context
        context.progress = { line.observe($0) }
        return try body(context)
    }
}

/// One line on stderr, redrawn at most ten times a second: bytes moved of the total, the rate,
/// the time left and the file moving now. A `.total` event starts a new phase.
final class ProgressLine: @unchecked Sendable {
    private let verb: String
    private let minimum: Int64
    private let lock = NSLock()
    private var total: Int64 = 0
    private var moved: Int64 = 0
    private var current = ""
    private var start = Date()
    private var drawn = Date.distantPast
    private var shown = false

    init(verb: String, minimum: Int64 = 0) {
        self.verb = verb
        self.minimum = minimum
    }

    func observe(_ event: TransferEvent) {
        lock.withLock {
            switch event {
            case .total(let bytes):
                total = bytes
                moved = 0
                start = Date()
                drawn = .distantPast
                return
            case .moved(let path, let bytes):
                moved += bytes
                current = path
            }
            let now = Date()
            guard total >= minimum, now.timeIntervalSince(drawn) >= 0.1 || moved == total else { return }
            drawn = now
            let elapsed = max(now.timeIntervalSince(start), 0.001)
            let rate = Double(moved) / elapsed
            let left = rate > 0 ? Double(max(total - moved, 0)) / rate : 0
            let percent = total > 0 ? min(100, Int(100 * Double(moved) / Double(total))) : 100
            let text =
                "\(verb) \(ByteCount.human(moved)) / \(ByteCount.human(total)) (\(percent)%)  "
                + "\(ByteCount.human(Int64(rate)))/s  ETA \(Int(left.rounded())) s  \(current)"
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
            shown = true
        }
    }

    /// Clears the line (before the result or an error is printed).
    func finish() {
        lock.withLock {
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            shown = false
        }
    }
}
