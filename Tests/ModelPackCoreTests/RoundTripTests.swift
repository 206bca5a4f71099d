import Foundation
import Testing

@testable import ModelPackCore

@Suite struct RoundTripTests {
    @Test(arguments: ContainerFormat.allCases)
    func buildThenUnpackGivesTheSameBytes(format: ContainerFormat) throws {
        let tmp = TempDir()
        let source = tmp.file("model")
        try Fixture.richModel(at: source)
        let bundle = tmp.file("model.\(format.fileExtension)")
        let result = try Operations.build(BuildOptions(source: source, output: bundle, format: format), context: .test)
        #expect(
            result.manifest.files.map(\.path)
                == [
                    "données/modèle é.json", "empty.txt", "interface.py", "metadata.yaml", "requirements.txt",
                    "tools/run.sh", "weights/model.bin", "weights/table.csv",
                ].sorted(by: BundlePath.byteOrder))

        let out = tmp.file("out")
        let summary = try Unpacker.unpack(bundle, to: out, force: false, context: .test)
        #expect(summary.container == format)
        for record in result.manifest.files {
            #expect(
                try Fixture.read(out + "/" + record.path) == Fixture.read(source + "/" + record.path), "\(record.path)")
        }
        let run = try FileSystem.lstatInfo(out + "/tools/run.sh")
        #expect(run?.mode == 0o755)
        #expect(try FileSystem.lstatInfo(out + "/weights/model.bin")?.mode == 0o644)
        // The unpacked directory holds the manifest, so it can be checked or rebuilt later.
        #expect(try Fixture.read(out + "/" + Manifest.entryPath) == result.manifest.canonicalBytes())
        #expect(tmp.contents() == ["model", "model.\(format.fileExtension)", "out"])
    }

    @Test func rebuildingAnUnpackedBundleGivesTheSameBytes() throws {
        let tmp = TempDir()
        try Fixture.richModel(at: tmp.file("model"))
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: tmp.file("a.zip"), format: .zip), context: .test)
        try Unpacker.unpack(tmp.file("a.zip"), to: tmp.file("out"), force: false, context: .test)
        _ = try Operations.build(
            BuildOptions(source: tmp.file("out"), output: tmp.file("b.zip"), format: .zip), context: .test)
        #expect(try Fixture.read(tmp.file("a.zip")) == Fixture.read(tmp.file("b.zip")))
    }

    @Test func zipStoresIncompressibleArtifactsAndDeflatesText() throws {
        let tmp = TempDir()
        try Fixture.richModel(at: tmp.file("model"))
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: tmp.file("m.zip"), format: .zip), context: .test)
        let methods = try ZipCentralDirectory.methods(of: tmp.file("m.zip"))
        #expect(methods["weights/model.bin"] == 0)  // stored
        #expect(methods["weights/table.csv"] == 8)  // deflated
        #expect(methods["metadata.yaml"] == 8)
        #expect(methods[Manifest.entryPath] == 0)  // stored from format 2: filled in after the files
    }

    /// An incompressible artifact under 64 KiB is deflated without a trial (format 2), and deflate
    /// keeps it within a few bytes of its size; from 64 KiB the trial stores it.
    @Test func smallArtifactsAreDeflatedWithoutATrial() throws {
        let tmp = TempDir()
        let small = Int(Compressibility.trialThreshold) - 1
        try Fixture.model(
            at: tmp.file("model"),
            extra: ["small.bin": Fixture.noise(small), "large.bin": Fixture.noise(small + 1, seed: 5)])
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: tmp.file("m.zip"), format: .zip), context: .test)
        let entries = Dictionary(
            uniqueKeysWithValues: try ZipCentralDirectory.entries(of: tmp.file("m.zip")).map { ($0.name, $0) })
        #expect(entries["small.bin"]?.method == 8)
        #expect((entries["small.bin"]?.compressedSize ?? 0) < small + 64)
        #expect(entries["large.bin"]?.method == 0)
        #expect(try Verifier.verify(tmp.file("m.zip"), context: .test).isValid)
    }

    @Test func inspectReadsTheManifestOnly() throws {
        let tmp = TempDir()
        try Fixture.richModel(at: tmp.file("model"))
        for format in ContainerFormat.allCases {
            let bundle = tmp.file("m.\(format.fileExtension)")
            let built = try Operations.build(
                BuildOptions(source: tmp.file("model"), output: bundle, format: format), context: .test)
            let summary = try BundleReader.inspect(bundle, limits: UnpackLimits())
            #expect(summary.manifest == built.manifest)
            #expect(summary.container == format)
            #expect(summary.digest == "sha256:" + SHA256Stream.hex(of: built.manifest.canonicalBytes()))
        }
    }
}
