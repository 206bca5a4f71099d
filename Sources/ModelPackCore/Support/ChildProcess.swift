import Foundation

/// A program modelpack starts and waits for, its stdout read (bounded) and its stderr the user's.
enum ChildProcess {
    struct Ended {
        let status: Int32
        /// Whether it ended by a signal (status is then the signal's number).
        let signalled: Bool
        let stdout: [UInt8]
    }

    /// Runs `executable` with the user's environment (`ProcessZone.childEnvironment`) changed by
    /// `overrides` (nil: unset), and reads at most `limit` bytes of its stdout: past that it is
    /// stopped and this throws, naming `what`.
    static func output(
        _ executable: String, _ arguments: [String], overrides: [(String, String?)], limit: Int, what: String
    ) throws -> Ended {
        var environment = ProcessZone.childEnvironment()
        for (name, value) in overrides { environment[name] = value }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch {
            throw ModelPackError.io(path: executable, reason: "cannot start \(what): \(error)")
        }
        let reading = pipe.fileHandleForReading
        var stdout: [UInt8] = []
        var tooMuch = false
        while true {
            let chunk = reading.availableData
            if chunk.isEmpty { break }
            guard stdout.count + chunk.count <= limit else {
                tooMuch = true
                process.terminate()
                break
            }
            stdout += chunk
        }
        try? reading.close()
        process.waitUntilExit()
        if tooMuch {
            throw ModelPackError.io(
                path: executable, reason: "\(what) wrote more than \(ByteCount.human(Int64(limit))) on stdout; stopped")
        }
        return Ended(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            stdout: stdout)
    }
}
