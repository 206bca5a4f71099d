import Foundation
import Testing

@testable import ModelPackCore

/// `dockerfile --target cuda`: the CUDA release comes from the framework pins through the table
/// in CUDACompatibility+Table.swift; `--cuda` overrides within what the pins allow; anything that
/// disagrees is an error that says why. Golden files for torch and tensorflow pins and an override.
@Suite struct CUDADockerfileTests {
    static func requirements(_ lines: [String]) -> [Requirement] {
        lines.compactMap { try? PEP508Parser.parse($0).get() }
    }

    static func resolve(_ lines: [String], cuda: String? = nil) throws -> CUDAStack {
        try CUDACompatibility.resolve(requirements(lines), override: cuda).stack
    }

    static func refusal(_ lines: [String], cuda: String? = nil) -> String {
        do {
            _ = try resolve(lines, cuda: cuda)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func theTableDecodesAndIsSorted() {
        let table = CUDACompatibility.table
        #expect(table.updated == "2026-11-22")
        #expect(Set(table.frameworks.map(\.distribution)) == ["torch", "tensorflow", "jax", "onnxruntime-gpu"])
        for framework in table.frameworks {
            #expect(!framework.source.isEmpty && ["exact", "minimum"].contains(framework.match))
            let releases = framework.series.compactMap { CUDACompatibility.release($0.release) }
            #expect(
                releases.count == framework.series.count
                    && releases == releases.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    @Test func torchPicksTheNewestCUDAItHasWheelsForAndItsIndex() throws {
        let stack = try Self.resolve(["torch==2.7.1", "numpy==2.4.6"])
        #expect(stack.cuda == "12.8")
        #expect(stack.image == "nvidia/cuda:12.8.1-base-ubuntu22.04")
        #expect(stack.indexes == ["https://download.pytorch.org/whl/cu128"])
        #expect(
            stack.checks == [
                "import torch; assert torch.version.cuda == '12.8', 'torch ' + torch.__version__ + ' is not built for CUDA 12.8'"
            ])
        #expect(try Self.resolve(["torch==2.4.0"]).cuda == "12.4")
        #expect(try Self.resolve(["torch==2.0.1"]).image == "nvidia/cuda:11.8.0-base-ubuntu22.04")
        #expect(try Self.resolve(["torch==2.7.1+cu126"]).cuda == "12.6")
    }

    @Test func tensorflowGetsItsCUDAExtraAndAMatchingMajor() throws {
        let stack = try Self.resolve(["tensorflow==2.16.1"])
        #expect(stack.cuda == "12.9")
        #expect(stack.extras == ["tensorflow[and-cuda]==2.16.1"])
        #expect(stack.indexes.isEmpty)
        #expect(try Self.resolve(["tensorflow[and-cuda]==2.16.1"]).extras.isEmpty)
        #expect(try Self.resolve(["tensorflow==2.14.1"]).cuda == "11.8")
        // torch and tensorflow together: the newest release both accept.
        #expect(try Self.resolve(["torch==2.5.1", "tensorflow==2.16.1"]).cuda == "12.4")
        #expect(try Self.resolve(["onnxruntime-gpu==1.22.0"]).extras == ["onnxruntime-gpu[cuda,cudnn]==1.22.0"])
        #expect(try Self.resolve(["jax==0.6.2"]).extras == ["jax[cuda12]==0.6.2"])
    }

    @Test func theOverrideChoosesWithinThePins() throws {
        let stack = try Self.resolve(["torch==2.7.1"], cuda: "12.6")
        #expect(stack.cuda == "12.6" && stack.indexes == ["https://download.pytorch.org/whl/cu126"])
        #expect(try Self.resolve([], cuda: "12.8").image == "nvidia/cuda:12.8.1-base-ubuntu22.04")
        // A major version alone: the newest release of it the pins allow.
        #expect(try Self.resolve(["torch==2.7.1"], cuda: "11").cuda == "11.8")
        #expect(try Self.resolve(["tensorflow==2.16.1"], cuda: "12").cuda == "12.9")
        #expect(try Self.resolve(["torch==2.7.1"], cuda: "12.8.1").cuda == "12.8")
        // A release newer than the table needs --cuda, and then takes it.
        #expect(try Self.resolve(["torch==2.12.0"], cuda: "13.0").indexes == ["https://download.pytorch.org/whl/cu130"])
    }

    @Test(
        arguments: [
            (
                ["torch==2.7.1"], "12.4",
                "--cuda 12.4 contradicts the pins: torch 2.7.1 has wheels for CUDA 11.8, 12.6, 12.8"
            ),
            (
                ["torch==2.9.0", "tensorflow==2.14.1"], nil,
                "no CUDA release satisfies every pin: torch 2.9.0 has wheels for CUDA 12.6, 12.8, 13.0; tensorflow 2.14.1 needs CUDA 11.8 or a later 11.x"
            ),
            (["torch==2.7.1+cpu"], nil, "torch==2.7.1+cpu is the CPU build, which contradicts --target cuda"),
            (["torch==2.7.1+cu124"], nil, "the table has no cu124 build of 2.7.1 (it has 11.8, 12.6, 12.8)"),
            (
                ["torch>=2.5"], nil,
                "torch is not pinned with ==, so its CUDA build cannot be chosen: pin it, or give --cuda X.Y"
            ),
            (["torch==2.12.0"], nil, "torch 2.12.0 is newer than the CUDA table (updated 2026-11-22"),
            (["torch==1.13.1"], nil, "torch 1.13.1 has no CUDA wheels the table knows"),
            (["scikit-learn==1.9.1"], nil, "nothing here needs CUDA"),
            (["torch==2.7.1"], "12.5", "--cuda 12.5: the table (updated 2026-11-22) has no nvidia/cuda image for it"),
            (["torch==2.7.1"], "twelve", "--cuda 'twelve' is not a CUDA release like 12.8"),
        ] as [([String], String?, String)])
    func contradictionsAreExplained(_ lines: [String], _ cuda: String?, _ message: String) {
        let refusal = Self.refusal(lines, cuda: cuda)
        #expect(refusal.contains(message), "\(refusal)")
    }

    static func bundle(_ tmp: TempDir, requirements: String) throws -> String {
        let source = ValidationTests.examples.appendingPathComponent("iris-sklearn").path
        let model = tmp.file("model")
        try FileManager.default.copyItem(atPath: source, toPath: model)
        let pinned = String(decoding: try Fixture.read(source + "/requirements.txt"), as: UTF8.self)
        try Fixture.write(Array((pinned + requirements).utf8), to: model + "/requirements.txt")
        let bundle = tmp.file("model.zip")
        _ = try Operations.build(BuildOptions(source: model, output: bundle, format: .zip), context: .test)
        return bundle
    }

    @Test(
        arguments: [
            ("torch==2.7.1\n", nil, "torch.cuda.Dockerfile"),
            ("tensorflow==2.16.1\n", nil, "tensorflow.cuda.Dockerfile"),
            ("torch==2.7.1\n", "12.6", "torch-cuda-12.6.cuda.Dockerfile"),
        ] as [(String, String?, String)])
    func goldenCUDADockerfiles(_ requirements: String, _ cuda: String?, _ golden: String) throws {
        let tmp = TempDir()
        let bundle = try Self.bundle(tmp, requirements: requirements)
        let result = try BuildContext.write(
            .init(bundle: bundle, output: tmp.file("ctx"), targets: [.cpu, .cuda], cuda: cuda), context: .test)
        #expect(result.dockerfiles == ["Dockerfile.cpu", "Dockerfile.cuda"])
        let text = String(decoding: try Fixture.read(tmp.file("ctx/Dockerfile.cuda")), as: UTF8.self)
        try Golden.assert(text, golden)
        let cpu = String(decoding: try Fixture.read(tmp.file("ctx/Dockerfile.cpu")), as: UTF8.self)
        #expect(cpu.contains("ARG BASE_IMAGE=python:3.11-slim") && !cpu.contains("nvidia"))
        if requirements.hasPrefix("tensorflow") {
            #expect(
                try Fixture.read(tmp.file("ctx/runtime/requirements-cuda.txt"))
                    == Array("tensorflow[and-cuda]==2.16.1\n".utf8))
        } else {
            #expect(!FileSystem.exists(tmp.file("ctx/runtime/requirements-cuda.txt")))
        }
    }

    @Test func theCLIRefusesAContradictionAndWritesNothing() throws {
        let tmp = TempDir()
        let bundle = try Self.bundle(tmp, requirements: "torch==2.7.1\n")
        let result = try CLI.run(["dockerfile", bundle, "-o", tmp.file("ctx"), "--target", "cuda", "--cuda", "12.4"])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "error: requirements.txt: --cuda 12.4 contradicts the pins: torch 2.7.1 has wheels for CUDA 11.8, 12.6, 12.8\n"
        )
        #expect(!FileSystem.exists(tmp.file("ctx")))
        let cpuOnly = try CLI.run(["dockerfile", bundle, "-o", tmp.file("ctx"), "--cuda", "12.8"])
        #expect(cpuOnly.status == 2 && cpuOnly.stderr.contains("--cuda applies to --target cuda"))
    }
}
