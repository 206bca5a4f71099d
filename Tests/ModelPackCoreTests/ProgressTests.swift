import Foundation
import Testing

@testable import ModelPackCore

/// build, unpack, verify and inspect show a progress line on a terminal for inputs of 256 MiB or
/// more, and nothing for small inputs, through a pipe, with --quiet, or in JSON.
@Suite struct ProgressTests {
    @Test func largeInputsShowProgressOnATerminalOnly() throws {
        let dir = TempDir()
        try Fixture.model(at: dir.file("m"))
        // 300 MiB of zeros, sparse on disk: big enough for a progress line, instant to make.
        let fd = open(dir.file("m/weights.bin"), O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, 300 << 20) == 0)
        close(fd)
        let bundle = dir.file("m.tar")
        let build = try CLI.onTerminal(["build", dir.file("m"), "-o", bundle])
        #expect(build.status == 0, "\(build.output)")
        #expect(build.output.contains("build 300.0 MiB / 300.0 MiB (100%)") && build.output.contains("weights.bin"))
        for command in [["verify", bundle], ["unpack", bundle, "-o", dir.file("out")], ["inspect", bundle]] {
            let run = try CLI.onTerminal(command)
            #expect(run.status == 0 || command[0] == "inspect", "\(command): \(run.output)")
            #expect(run.output.contains("\(command[0]) ") && run.output.contains("/s  ETA"), "\(command)")
        }
        let quiet = try CLI.onTerminal(["verify", bundle, "--quiet"])
        let json = try CLI.onTerminal(["verify", bundle, "--format", "json"])
        let piped = try CLI.run(["verify", bundle])
        #expect(!quiet.output.contains("ETA") && !json.output.contains("ETA") && !piped.stderr.contains("ETA"))
        // A small bundle shows none.
        try Fixture.model(at: dir.file("small"))
        let small = try CLI.onTerminal(["build", dir.file("small"), "-o", dir.file("small.zip")])
        #expect(small.status == 0 && !small.output.contains("ETA"))
    }
}
