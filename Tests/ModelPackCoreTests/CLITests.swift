import Foundation
import Testing

@testable import ModelPackCore

/// The built binary, end to end: exit codes, one-line errors on stderr, results on stdout, and no
/// output left behind by a failed command.
@Suite struct CLITests {
    @Test func buildInspectVerifyUnpack() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(10_000)])
        let build = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.tar.zst")])
        #expect(build.status == 0)
        #expect(build.stdout.contains("built "))
        // Bytes of no format the audit knows: packed, with a warning, and never called safe.
        #expect(build.stderr.contains("w.bin: warning[MP515]: not audited: binary data of no format the audit knows"))

        let audit = try CLI.run(["inspect", tmp.file("m.tar.zst"), "--json"])
        #expect(audit.status == 0)
        let auditJSON = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        #expect(auditJSON["schema"] as? String == "modelpack.inspect/3")
        #expect((auditJSON["audit"] as? [String: Any])?["verdict"] as? String == "unknown")

        let inspect = try CLI.run(["inspect", tmp.file("m.tar.zst"), "--json", "--manifest-only"])
        #expect(inspect.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "modelpack.inspect/1")
        #expect(json["name"] as? String == "test-model")
        #expect(json["container"] as? String == "tar.zst")
        #expect((json["digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect((json["files"] as? [[String: Any]])?.count == 4)

        let text = try CLI.run(["inspect", tmp.file("m.tar.zst")])
        #expect(text.stdout.contains("digest     sha256:"))
        #expect(text.stdout.contains("artifact"))

        #expect(try CLI.run(["verify", tmp.file("m.tar.zst")]).status == 0)
        let unpack = try CLI.run(["unpack", tmp.file("m.tar.zst"), "-o", tmp.file("out")])
        #expect(unpack.status == 0)
        #expect(try Fixture.read(tmp.file("out/w.bin")) == Fixture.noise(10_000))
    }

    @Test(arguments: ["metadata.yaml", "requirements.txt", "interface.py"])
    func buildNamesAMissingRequiredFile(_ missing: String) throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        unlink(tmp.file("m/" + missing))
        let result = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stderr.contains("\(missing): error[MP001]: required file \(missing) is missing"))
        #expect(result.stderr.hasSuffix("nothing was written\n"))
        #expect(tmp.contents() == ["m"])
    }

    @Test func buildRefusesSymlinksAndKeepsTheOldBundle() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        let before = try Fixture.read(tmp.file("m.zip"))
        symlink("/etc/hostname", tmp.file("m/link.txt"))
        try Fixture.write([1, 2, 3], to: tmp.file("m/new.bin"))
        let result = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stderr.contains("link.txt"))
        #expect(result.stderr.contains("symlink"))
        #expect(try Fixture.read(tmp.file("m.zip")) == before)
        #expect(tmp.contents() == ["m", "m.zip"])
    }

    @Test func malformedMetadataIsReportedAtItsLine() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        try Fixture.write(Array("name: x\nversion: 1\nname: y\n".utf8), to: tmp.file("m/metadata.yaml"))
        let duplicate = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(duplicate.status == ExitStatus.problems)
        #expect(duplicate.stderr.contains("metadata.yaml:3:1: error[MP102]: duplicate key 'name'"))

        try Fixture.write(Array("name: [x\nversion: 1\n".utf8), to: tmp.file("m/metadata.yaml"))
        let broken = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(broken.status == ExitStatus.problems)
        #expect(broken.stderr.contains("metadata.yaml:2:8: error[MP101]: while parsing a flow sequence"))
        #expect(broken.stderr.hasSuffix("nothing was written\n"))

        try Fixture.write(
            Array(Fixture.metadata.replacingOccurrences(of: "version: 0.1.0\n", with: "").utf8),
            to: tmp.file("m/metadata.yaml"))
        let missing = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        #expect(missing.stderr.contains("metadata.yaml:1:1: error[MP104]: missing required field 'version'"))
        #expect(tmp.contents() == ["m"])
    }

    @Test func usageErrorsExitWithTwo() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        let cases: [[String]] = [
            ["build", tmp.file("m"), "-o", tmp.file("m.rar")],
            ["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--container", "tar"],
            ["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--container", "7z"],
            ["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--format", "zip"],
            ["inspect", "x.zip", "--manifest-only", "--format", "sarif"],
            ["validate", tmp.file("m"), "--json", "--format", "sarif"],
            ["build", tmp.file("m")],
            ["inspect"],
            ["frobnicate"],
            ["unpack", "x.zip", "-o", "y", "--max-entries", "many"],
        ]
        for arguments in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == ExitStatus.usage, "\(arguments)")
            #expect(result.stderr.hasPrefix("error: "), "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(tmp.contents() == ["m"])
        #expect(try CLI.run(["--help"]).status == 0)
        #expect(try CLI.run(["--version"]).stdout == "0.1.0\n")
    }

    @Test func verifyAndInspectReportDamage() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(50_000)])
        _ = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.tar")])
        var bytes = try Fixture.read(tmp.file("m.tar"))
        let at = try #require(find(Fixture.noise(50_000), in: bytes))
        bytes[at + 100] ^= 1
        try Fixture.write(bytes, to: tmp.file("m.tar"))
        let verify = try CLI.run(["verify", tmp.file("m.tar")])
        #expect(verify.status == ExitStatus.problems)
        #expect(verify.stdout.contains("MODIFIED  w.bin"))
        #expect(verify.stdout.contains("FAILED: 1 of 4 files"))
        let json = try CLI.run(["verify", tmp.file("m.tar"), "--json"])
        #expect(json.status == ExitStatus.problems)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        #expect(object["schema"] as? String == "modelpack.verify/2")
        #expect(object["readError"] is NSNull)
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.count == 4)
        #expect(files.allSatisfy { Set($0.keys) == ["path", "status", "detail"] })
        #expect(files.first { $0["path"] as? String == "w.bin" }?["status"] as? String == "modified")

        try Fixture.write(Fixture.noise(4096), to: tmp.file("junk.zip"))
        let junk = try CLI.run(["inspect", tmp.file("junk.zip")])
        #expect(junk.status == ExitStatus.problems)
        #expect(junk.stderr.contains("junk.zip"))
        #expect(junk.stderr.split(separator: "\n").count == 1)

        let unpack = try CLI.run(["unpack", tmp.file("m.tar"), "-o", tmp.file("out")])
        #expect(unpack.status == ExitStatus.problems)
        #expect(unpack.stderr.contains("w.bin"))
        #expect(!FileSystem.exists(tmp.file("out")))
    }

    /// A mistyped subcommand or flag gets the nearest real one, still on one line.
    @Test func typosGetADidYouMean() throws {
        let cases: [([String], String)] = [
            (["biuld", "m"], "did you mean 'build'?"),
            (["verfy", "x.zip"], "did you mean 'verify'?"),
            (["build", "m", "-o", "m.zip", "--contianer", "zip"], "did you mean '--container'?"),
            (["unpack", "x.zip", "-o", "y", "--max-entires", "5"], "did you mean '--max-entries'?"),
            (["inspect", "x.zip", "--manifest-onyl"], "did you mean '--manifest-only'?"),
        ]
        for (arguments, hint) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == ExitStatus.usage, "\(arguments)")
            #expect(result.stderr.contains(hint), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        // Nothing near: no guess.
        let far = try CLI.run(["frobnicate"])
        #expect(far.status == ExitStatus.usage && !far.stderr.contains("did you mean"), "\(far)")
    }

    @Test func unpackNeverOverwritesWithoutForce() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        _ = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")])
        try FileSystem.makeDirectory(tmp.file("out"))
        let refused = try CLI.run(["unpack", tmp.file("m.zip"), "-o", tmp.file("out")])
        #expect(refused.status == ExitStatus.usage)
        #expect(refused.stderr.contains("already exists"))
        #expect(TempDir.listing(tmp.file("out")).isEmpty)
        #expect(try CLI.run(["unpack", tmp.file("m.zip"), "-o", tmp.file("out"), "--force"]).status == 0)
        #expect(TempDir.listing(tmp.file("out")).contains("metadata.yaml"))
    }

    @Test func aBundleWrittenInsideTheModelDirectoryIsNotPackedIntoItself() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        #expect(try CLI.run(["build", ".", "-o", "m.zip"], cwd: tmp.file("m")).status == 0)
        #expect(try CLI.run(["build", ".", "-o", "m.zip"], cwd: tmp.file("m")).status == 0)
        let summary = try BundleReader.inspect(tmp.file("m/m.zip"), limits: UnpackLimits())
        #expect(summary.manifest.files.map(\.path) == ["interface.py", "metadata.yaml", "requirements.txt"])
    }

    /// The commands whose report is data, not findings: each JSON document names its schema and
    /// carries the keys Docs/CLI.md lists; `--format sarif` is not one of their formats.
    @Test func dataCommandsWriteTheirDocuments() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": [1, 2, 3]])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        func document(_ arguments: [String], _ schema: String, _ keys: Set<String>) throws {
            let run = try CLI.run(
                arguments + ["--format", "json"], environment: ["MODELPACK_CACHE": tmp.file("cache")])
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(object?["schema"] as? String == schema, "\(run.stdout)")
            #expect(Set(object?.keys.map { $0 } ?? []) == keys.union(["schema"]), "\(run.stdout)")
            let sarif = try CLI.run(arguments + ["--format", "sarif"])
            #expect(sarif.status == 2 && sarif.stderr.contains("sarif"), "\(arguments): \(sarif.stderr)")
        }
        try document(
            ["keygen", "-o", tmp.file("k")], "modelpack.keygen/1", ["privateKey", "publicKey", "type", "keyID"])
        try document(
            ["sign", tmp.file("m.zip"), "--key", tmp.file("k")], "modelpack.sign/1",
            ["bundle", "digest", "signature", "format", "keyID"])
        try document(["card", tmp.file("m.zip")], "modelpack.card/1", ["model", "output", "markdown"])
        try FileManager.default.createDirectory(atPath: tmp.file("fresh"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: ValidationTests.examples.appendingPathComponent("wine-onnx/model.onnx").path,
            toPath: tmp.file("fresh/model.onnx"))
        try document(["init", tmp.file("fresh")], "modelpack.init/1", ["directory", "written", "notes"])
        try document(
            ["prune"], "modelpack.cache-prune/1", ["removed", "kept", "freedBytes", "keptBytes", "dryRun", "root"])
    }
}
