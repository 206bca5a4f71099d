import Foundation
import Testing

@testable import ModelPackCore

/// The cases of issue "One verdict" that are not a broken model in OneVerdictTests' table.
@Suite struct VerdictCasesTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `valid` is false whenever verify exits non-zero: a wrong key, and no signature at all.
    @Test func verifyJSONIsNeverValidWhenVerifyFails() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        #expect(try CLI.run(["keygen", "-o", tmp.file("alice")]).status == 0)
        #expect(try CLI.run(["keygen", "-o", tmp.file("mallory")]).status == 0)
        let unsigned = try CLI.run(["verify", tmp.file("m.zip"), "--json", "--key", tmp.file("alice.pub")])
        #expect(unsigned.status == ExitStatus.problems)
        #expect(try Self.json(unsigned.stdout)["valid"] as? Bool == false)
        #expect(try CLI.run(["sign", tmp.file("m.zip"), "--key", tmp.file("mallory")]).status == 0)
        let forged = try CLI.run(["verify", tmp.file("m.zip"), "--format", "json", "--key", tmp.file("alice.pub")])
        #expect(forged.status == ExitStatus.problems)
        #expect(try Self.json(forged.stdout)["valid"] as? Bool == false)
        let good = try CLI.run(["verify", tmp.file("m.zip"), "--json", "--key", tmp.file("mallory.pub")])
        #expect(good.status == 0)
        #expect(try Self.json(good.stdout)["valid"] as? Bool == true)
        let sarif = try CLI.run(["verify", tmp.file("m.zip"), "--format", "sarif", "--key", tmp.file("alice.pub")])
        #expect(sarif.status == ExitStatus.problems)
        #expect(sarif.stdout.contains("\"ruleId\" : \"MP602\""))
    }

    /// Every command that reads a bundle enforces the limit flags it takes.
    @Test(arguments: [
        ["inspect"], ["inspect", "--manifest-only"], ["verify"], ["validate"], ["unpack", "-o", "OUT"],
        ["dockerfile", "-o", "OUT"], ["sign", "--key", "KEY"],
    ])
    func bundleLimitsAreEnforcedByEveryCommand(_ command: [String]) throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        #expect(try CLI.run(["keygen", "-o", tmp.file("k")]).status == 0)
        let arguments =
            [command[0], tmp.file("m.zip")]
            + command.dropFirst().map { $0 == "OUT" ? tmp.file("out") : $0 == "KEY" ? tmp.file("k") : $0 }
        for (flag, value, message) in [
            ("--max-entries", "3", "4 files exceed the limit of 3"),
            ("--max-total-size", "100", "exceed the limit of 100"),
        ] {
            let result = try CLI.run(arguments + [flag, value])
            #expect(result.status == ExitStatus.problems, "\(arguments) \(flag): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(!FileSystem.exists(tmp.file("out")))
        }
        #expect(try CLI.run(arguments).status == 0)
    }

    @Test func buildAndValidateHoldADirectoryToTheSameLimits() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        for command in [["validate", tmp.file("m")], ["build", tmp.file("m"), "-o", tmp.file("m.zip")]] {
            let result = try CLI.run(command + ["--max-entries", "3"])
            #expect(result.status == ExitStatus.problems)
            #expect(result.stderr.contains("4 files exceed the limit of 3 (raise it with --max-entries)"))
        }
        #expect(!FileSystem.exists(tmp.file("m.zip")))
    }

    /// Invalid YAML in a bundle is a finding naming metadata.yaml (exit 1), never a usage error,
    /// and no dockerfile error names its temporary staging directory.
    @Test func dockerfileNamesTheFileNotTheStagingDirectory() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        var raw = RawBundle(format: .zip)
        raw.addHonest(
            try TempDir.files(under: tmp.file("m")).map {
                (
                    $0,
                    $0 == "metadata.yaml" ? Array("name: [x\nversion: 1\n".utf8) : try Fixture.read(tmp.file("m/" + $0))
                )
            })
        try raw.write(to: tmp.file("bad.zip"))
        let result = try CLI.run(["dockerfile", tmp.file("bad.zip"), "-o", tmp.file("ctx")])
        #expect(result.status == ExitStatus.problems)
        #expect(result.stderr.contains("bad.zip!/metadata.yaml:2:8: error[MP101]"), "\(result.stderr)")
        #expect(!result.stderr.contains(".modelpack-tmp"))
        #expect(!FileSystem.exists(tmp.file("ctx")))

        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        let python = try CLI.run(["dockerfile", tmp.file("m.zip"), "-o", tmp.file("ctx"), "--python", "3"])
        #expect(python.status == ExitStatus.usage)
        #expect(!python.stderr.contains(".modelpack-tmp"))
        #expect(python.stderr.split(separator: "\n").count == 1)
    }

    /// A truncated archive, in every container, is reported as truncated with exit 1, and verify
    /// lists every manifest file: the one it broke in, and those after the break as unread.
    @Test(arguments: ContainerFormat.allCases)
    func truncatedBundlesAreReportedAsTruncated(_ format: ContainerFormat) throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": Fixture.noise(300_000)])
        let bundle = tmp.file("m." + format.fileExtension)
        #expect(try CLI.run(["build", tmp.file("m"), "-o", bundle]).status == 0)
        let bytes = try Fixture.read(bundle)
        try Fixture.write(Array(bytes.prefix(bytes.count / 2)), to: bundle)
        let verify = try CLI.run(["verify", bundle, "--json"])
        #expect(verify.status == ExitStatus.problems)
        let out = verify.stdout + verify.stderr
        #expect(out.contains("truncated"), "\(out)")
        if format != .zip {  // a zip cut short has no central directory: nothing can be listed
            let doc = try Self.json(verify.stdout)
            let files = try #require(doc["files"] as? [[String: Any]])
            #expect(Set(files.compactMap { $0["path"] as? String }).isSuperset(of: ["model.bin", "requirements.txt"]))
            #expect(files.contains { $0["path"] as? String == "model.bin" && $0["status"] as? String == "truncated" })
            #expect(doc["valid"] as? Bool == false)
        }
        for command in [["inspect", bundle], ["validate", bundle], ["unpack", bundle, "-o", tmp.file("out")]] {
            let result = try CLI.run(command)
            #expect(result.status == ExitStatus.problems, "\(command)")
            #expect(result.stderr.contains("truncated"), "\(command): \(result.stderr)")
        }
    }

    /// A reviewed custom transformer: shipped in the bundle it is accepted; as an in-house
    /// package, trusted_modules lets --strict pass, and the manifest and inspect show it.
    @Test func customCodeCanBeShippedOrTrusted() throws {
        let tmp = TempDir()
        let pickle: [UInt8] = [0x80, 0x02] + Array("cfeatures\nClip\nq".utf8) + [0x00, 0x29, 0x81, 0x71, 0x01, 0x2e]
        try Fixture.model(
            at: tmp.file("m"), extra: ["model.pkl": pickle, "features.py": Array("class Clip:\n    pass\n".utf8)])
        #expect(try CLI.run(["validate", tmp.file("m"), "--strict"]).status == 0)

        let inHouse = pickle.map { $0 }  // the same class, from an installed package this time
        unlink(tmp.file("m/features.py"))
        try Fixture.write(inHouse, to: tmp.file("m/model.pkl"))
        try Fixture.write(Array("scikit-learn==1.9.1\nfeatures==2.0.1\n".utf8), to: tmp.file("m/requirements.txt"))
        let untrusted = try CLI.run(["validate", tmp.file("m"), "--strict"])
        #expect(untrusted.status == ExitStatus.problems)
        #expect(untrusted.stdout.contains("error[MP516]: calls features.Clip at byte 2, which is not on the allowlist"))
        try Fixture.write(
            Array((Fixture.metadata + "trusted_modules: [features]\n").utf8), to: tmp.file("m/metadata.yaml"))
        #expect(try CLI.run(["validate", tmp.file("m"), "--strict"]).status == 0)
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip"), "--strict"]).status == 0)
        #expect(
            try BundleReader.inspect(tmp.file("m.zip"), limits: UnpackLimits()).manifest.trustedModules == ["features"])
        let inspect = try CLI.run(["inspect", tmp.file("m.zip"), "--strict"])
        #expect(inspect.status == 0, "\(inspect.stdout)")
        #expect(inspect.stdout.contains("TRUSTED    modules the publisher trusts (metadata.yaml): features"))

        try Fixture.write(
            Array((Fixture.metadata + "trusted_modules: [os]\n").utf8), to: tmp.file("m/metadata.yaml"))
        let stdlib = try CLI.run(["validate", tmp.file("m")])
        #expect(stdlib.status == ExitStatus.problems)
        #expect(stdlib.stdout.contains("error[MP109]: trusted module 'os' is not a module of the model's own"))
    }

    /// What validate reads of requirements.txt and its includes is what pip installs from the build
    /// context: pip's own parser over the context's requirements/.
    @Test(.enabled(if: PythonOracle.required || PythonOracle.available(["pip"])))
    func requirementIncludesTravelIntoTheBuildContext() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        try Fixture.write(Array("-r deps/base.txt\n-c constraints.txt\n".utf8), to: tmp.file("m/requirements.txt"))
        try Fixture.write(Array("scikit-learn==1.9.1\nnumpy==2.1.0\n".utf8), to: tmp.file("m/deps/base.txt"))
        try Fixture.write(Array("scipy==1.14.1\n".utf8), to: tmp.file("m/constraints.txt"))
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        let context = try CLI.run(["dockerfile", tmp.file("m.zip"), "-o", tmp.file("ctx")])
        #expect(context.status == 0, "\(context.stderr)")
        #expect(
            TempDir.files(under: tmp.file("ctx/requirements")) == [
                "constraints.txt", "deps/base.txt", "requirements.txt",
            ])
        let dockerfile = String(decoding: try Fixture.read(tmp.file("ctx/Dockerfile")), as: UTF8.self)
        #expect(dockerfile.contains("COPY requirements/ /tmp/requirements/"))
        #expect(dockerfile.contains("-r /tmp/requirements/requirements.txt"))

        let script = tmp.file("pip_reads.py")
        try Fixture.write(
            Array(
                """
                import sys
                from pip._internal.network.session import PipSession
                from pip._internal.req.req_file import parse_requirements
                for r in parse_requirements(sys.argv[1], session=PipSession(), constraint=False):
                    print(("constraint " if r.constraint else "") + r.requirement)

                """.utf8), to: script)
        let pip = try PythonOracle.run(script, [tmp.file("ctx/requirements/requirements.txt")])
        #expect(pip.status == 0, "\(pip.output)")
        let read = try ModelCheck.check(tmp.file("m.zip"), context: .test)
        #expect(read.report.diagnostics.isEmpty)
        var reader = RequirementsReader(
            readFile: { try? FileSystem.readWholeFile(tmp.file("ctx/requirements/" + $0), limit: 1 << 20) },
            collector: DiagnosticCollector())
        reader.read("requirements.txt")
        let ours = reader.result.entries.compactMap { entry in
            entry.requirement.map { $0.name + $0.specifiers.map(\.description).joined(separator: ",") }
        }
        let theirs = pip.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("constraint ") }
        #expect(ours.sorted() == theirs.sorted(), "modelpack: \(ours), pip: \(theirs)")
        #expect(pip.output.contains("constraint scipy==1.14.1"))
    }

    /// One rule for a missing input: exit 1, one line naming it, for every command.
    @Test(arguments: [
        ["validate", "MISSING"], ["build", "MISSING", "-o", "OUT.zip"], ["inspect", "MISSING"],
        ["inspect", "MISSING", "--manifest-only"], ["scan", "MISSING"], ["verify", "MISSING"],
        ["unpack", "MISSING", "-o", "OUT"], ["dockerfile", "MISSING", "-o", "OUT"],
        ["sign", "MISSING", "--key", "KEY"],
        ["serve", "MISSING"],
    ])
    func aMissingInputIsExitOneForEveryCommand(_ command: [String]) throws {
        let tmp = TempDir()
        #expect(try CLI.run(["keygen", "-o", tmp.file("k")]).status == 0)
        let arguments = command.map {
            $0 == "MISSING"
                ? tmp.file("nothing.zip") : $0 == "KEY" ? tmp.file("k") : $0.hasPrefix("OUT") ? tmp.file($0) : $0
        }
        let result = try CLI.run(arguments)
        #expect(result.status == ExitStatus.problems, "\(command): \(result.stderr)")
        #expect(result.stderr == "error: \(tmp.file("nothing.zip")): no such file or directory\n")
        #expect(tmp.contents() == ["k", "k.pub"])
    }
}

/// Which requirement provides an imported module (MP507), as pickles and interface.py use it.
@Suite struct ImportCoverageTests {
    @Test(
        arguments: [
            ("sklearn", ["scikit-learn"], nil), ("sklearn", [], "scikit-learn"), ("yaml", ["pyyaml"], nil),
            ("onnxruntime", ["onnxruntime-gpu"], nil), ("os", [], nil), ("features", [], nil),
            ("google", ["google-cloud-storage"], nil), ("google", ["protobuf"], nil),
            ("google", ["numpy"], "google-..."),
            ("azure", ["azure-storage-blob"], nil), ("mylib", [], "mylib"),
        ] as [(String, [String], String?)])
    func whoProvidesAModule(_ top: String, _ requirements: [String], _ missing: String?) {
        #expect(ImportCoverage.missing(top, requirements: Set(requirements), bundleModules: ["features"]) == missing)
    }
}
