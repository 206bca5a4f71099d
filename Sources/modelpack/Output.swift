import Dispatch
import Foundation
import ModelPackCore

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
