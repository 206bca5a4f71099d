import Foundation
import Testing

@testable import ModelPackCore

@Suite struct ModelDirectoryTests {
    @Test func defaultIgnoresAndModelpackignore() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                ".git/HEAD": [1], "__pycache__/x.pyc": [1], "pkg/__pycache__/y.pyc": [1], ".DS_Store": [1],
                "notes.txt~": [1], ".idea/ws.xml": [1],
                "data/keep.csv": [1], "data/drop.csv": [1], "logs/a.log": [1], "logs/important.log": [1],
                "build/out.bin": [1], "sub/build/out.bin": [1], "deep/a/b/c.tmp": [1], "root.tmp": [1],
                ".modelpack/manifest.json": [1],
                ".modelpackignore": Array(
                    """
                    # comments and blank lines are skipped

                    data/drop.csv
                    *.log
                    !important.log
                    /build/
                    **/*.tmp
                    """.utf8),
            ])
        let files = try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024).map(\.path)
        #expect(
            files == [
                "data/keep.csv", "interface.py", "logs/important.log", "metadata.yaml", "requirements.txt",
                "sub/build/out.bin",
            ])
    }

    /// A file whose name is not UTF-8 cannot be a bundle path: build and validate name it and
    /// stop, rather than leave it out of the bundle without a word (which they did).
    @Test func aNameThatIsNotUTF8IsAnError() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        let name: [UInt8] = Array(tmp.file("m/data/caf").utf8) + [0xE9] + Array(".bin".utf8) + [0]
        try FileSystem.makeDirectory(tmp.file("m/data"))
        let fd = name.withUnsafeBufferPointer {
            open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644)
        }
        #expect(fd >= 0)
        close(fd)
        for command in [["build", tmp.file("m"), "-o", tmp.file("m.tar")], ["validate", tmp.file("m")]] {
            let result = try CLI.run(command)
            #expect(result.status == 1, "\(command)")
            #expect(
                result.stderr
                    == "error: \(tmp.file("m/data/caf\u{FFFD}.bin")): its name is not valid UTF-8, which a bundle's paths must be; rename it\n"
            )
        }
        #expect(!FileSystem.exists(tmp.file("m.tar")))
    }

    @Test func ignoringARequiredFileIsAnError() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: [".modelpackignore": Array("*.py\n".utf8)])
        #expect(
            throws: ModelPackError.invalidModel(
                path: tmp.file("m/interface.py"), reason: "required file is excluded by .modelpackignore")
        ) {
            try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024)
        }
    }

    @Test func symlinksAreRefusedWhereverTheyPoint() throws {
        for target in ["metadata.yaml", "/etc/hostname", "../outside"] {
            let tmp = TempDir()
            try Fixture.model(at: tmp.file("m"))
            try FileSystem.makeDirectory(tmp.file("m/sub"))
            symlink(target, tmp.file("m/sub/link"))
            do {
                _ = try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024)
                Issue.record("symlink to \(target) was accepted")
            } catch let ModelPackError.invalidModel(path, reason) {
                #expect(path == tmp.file("m/sub/link"))
                #expect(reason.contains("symlink"))
            }
        }
        // An ignored symlink is not looked at.
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: [".modelpackignore": Array("link\n".utf8)])
        symlink("/etc/hostname", tmp.file("m/link"))
        #expect(try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024).count == 3)
    }

    @Test func unportableNamesAreRefused() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["a\\b.txt": [1]])
        #expect(throws: ModelPackError.self) { try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024) }

        let collide = TempDir()
        try Fixture.model(at: collide.file("m"), extra: ["Data.bin": [1], "data.bin": [2]])
        #expect(throws: ModelPackError.self) { try ModelDirectory.scan(root: collide.file("m"), maxPathBytes: 1024) }
    }

    @Test(
        arguments: [
            ("ok/path.bin", nil), ("/abs", "absolute path"), ("a/../b", "'..' path component"),
            ("a//b", "empty path component"), ("a\\b", "backslash in path"), ("c:x", "drive-letter path"),
            ("tab\there", "control character in path"), ("", "empty path"), ("a/.", "'.' path component"),
            (String(repeating: "x", count: 256), "path component longer than 255 bytes"),
        ] as [(String, String?)])
    func bundlePathRule(path: String, problem: String?) {
        #expect(BundlePath.problem(with: path, maxPathBytes: 1024) == problem)
    }
}
