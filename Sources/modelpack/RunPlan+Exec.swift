import ArgumentParser
import Foundation
import ModelPackCore

extension RunPlan {
    /// The checks' findings on stderr (in `report`'s format), then the plan's program in place of
    /// this process (signals reach it directly, and its exit status is the command's).
    func exec(report: some ReportOptions) throws -> Never {
        report.emitFindings(findings)
        for (name, value) in prepared.runtimeEnvironment {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        SignalCleanup.restoreDefaultsForExec()
        ProcessZone.unpinForExec()
        let argv = [executable] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        // The plan holds the cache entries' use locks, which the program inherits: alive until exec.
        withExtendedLifetime(self) { _ = execv(executable, &cArgs) }
        throw ModelPackError.io(path: executable, reason: "cannot start the model: \(String(cString: strerror(errno)))")
    }
}
